"""Vectorising the stream network: reaches, their names, countries and border labels; sub-basin rasters and polygons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import LineString

from riskmap._errors import RiskmapInputError
from riskmap._geo import aeqd_for_bounds, geodesic_length_km
from riskmap.databuild.border_rivers import label_border_reaches
from riskmap.databuild.dem.constants import (
    MAX_REACH_KM,
    NAME_M,
    NAME_SHARE,
    SAMPLE_M,
    SIMPLIFY_CELLS,
    SUB_BASIN_MIN_SHARE,
)
from riskmap.databuild.dem.grid import DemGrid

# ---------------------------------------------------------------- vectorising


def _cells(grid: DemGrid, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, r = ~grid.transform * (coords[:, 0], coords[:, 1])
    h, w = grid.shape
    return np.clip(np.floor(r).astype(int), 0, h - 1), np.clip(np.floor(c).astype(int), 0, w - 1)


def extract_reaches(grid: DemGrid, flw: Any, upa: np.ndarray, basin: np.ndarray, stream_km2: float,
                    elev: np.ndarray) -> gpd.GeoDataFrame:
    """Stream segments of the basin as reaches (topology, length, slope, upland area, order)."""
    rows = _stream_segments(grid, flw, upa, basin, stream_km2)
    rows, down = _link_segments(rows)
    return _reach_table(grid, rows, down, upa, elev)


def _stream_segments(grid: DemGrid, flw: Any, upa: np.ndarray, basin: np.ndarray, stream_km2: float,
                     ) -> list[tuple[int, int, np.ndarray]]:
    """Stream segments from pyflwdir (cut at confluences and at :data:`MAX_REACH_KM`): (cell, downstream cell, xy)."""
    mask = basin & (upa >= stream_km2)
    if mask.sum() < 2:
        raise RiskmapInputError(f"{grid.label}: no stream of at least {stream_km2:g} km2 upstream area in the "
                                f"outlet's basin ({np.nanmax(np.where(basin, upa, np.nan)):.1f} km2 at the "
                                f"outlet); lower --stream-km2 or move the outlet onto a larger river")
    max_len = max(2, int(MAX_REACH_KM / (grid.res * 111.32)))
    rows = []
    for f in flw.streams(mask=mask, max_len=max_len):
        xy = np.asarray(f["geometry"]["coordinates"], dtype=float)
        if len(xy) >= 2:
            rows.append((int(f["properties"]["idx"]), int(f["properties"]["idx_ds"]), xy))
    return rows


def _link_segments(rows: list[tuple[int, int, np.ndarray]]) -> tuple[list[tuple[int, int, np.ndarray]], np.ndarray]:
    """Downstream position of each segment (-1: outlet); the outlet pit's one-cell segment is dropped."""
    first = np.array([r[0] for r in rows])
    pos = {int(k): i for i, k in enumerate(first)}
    down = np.array([pos.get(ids, -1) for _, ids, _ in rows])
    down[down == np.arange(len(rows))] = -1
    # the outlet pit comes as a one-cell segment (twice the same vertex): drop it, relink its upstreams
    pit = np.array([r[0] == r[1] for r in rows])
    if pit.any():
        down = np.where((down >= 0) & pit[np.maximum(down, 0)], down[np.maximum(down, 0)], down)
        keep = np.flatnonzero(~pit)
        newpos = np.full(len(rows), -1)
        newpos[keep] = np.arange(len(keep))
        down = np.where(down[keep] >= 0, newpos[np.maximum(down[keep], 0)], -1)
        rows = [rows[i] for i in keep]
    return rows, down


def _reach_table(grid: DemGrid, rows: list[tuple[int, int, np.ndarray]], down: np.ndarray, upa: np.ndarray,
                 elev: np.ndarray) -> gpd.GeoDataFrame:
    """The reaches layer: ids, geodesic length, distance to the outlet, Strahler order, upland area, slope."""
    from riskmap.network import RiverNetwork, strahler_order

    geoms = [LineString(xy) for _, _, xy in rows]
    ends = np.array([xy[-2] for _, _, xy in rows])  # last own cell (the last vertex is the confluence)
    re, ce = _cells(grid, ends)
    rs, cs = _cells(grid, np.array([xy[0] for _, _, xy in rows]))
    rl, cl = _cells(grid, np.array([xy[-1] for _, _, xy in rows]))
    length = np.asarray(geodesic_length_km(geoms), dtype=float)
    slope = np.clip((elev[rs, cs] - elev[rl, cl]) / np.maximum(length * 1000.0, 1.0), 0, None)
    dist = RiverNetwork.from_positions(down, length_km=length).dist_to_outlet()
    ids = np.arange(1, len(rows) + 1)
    return gpd.GeoDataFrame({
        "reach_id": ids.astype("int64"),
        "downstream_id": np.where(down >= 0, down + 1, -1).astype("int64"),
        "length_km": np.round(length, 4),
        "dist_to_outlet_km": np.round(dist, 4),
        "order": strahler_order(down).astype("int64"),
        "upland_km2": np.round(upa[re, ce].astype(float), 1),
        "slope": np.round(slope, 5),
        "_row": re, "_col": ce,
    }, geometry=geoms, crs="EPSG:4326")


def _samples(lines: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, Any]:
    """Sample points every :data:`SAMPLE_M` along each line, in a local equidistant projection."""
    crs = aeqd_for_bounds(tuple(lines.total_bounds))
    L = lines.to_crs(crs).values
    lens = shapely.length(L)
    n = np.maximum((lens // SAMPLE_M).astype(int), 1) + 1
    owner = np.repeat(np.arange(len(L)), n)
    frac = np.concatenate([np.linspace(0, 1, k) for k in n])
    pts = shapely.line_interpolate_point(L[owner], frac, normalized=True)
    return pts, owner, crs


def _majority(owner: np.ndarray, values: np.ndarray, n_lines: int, min_share: float) -> np.ndarray:
    """Per line, the most common non-null value when it covers >= ``min_share`` of its points."""
    out = np.array([None] * n_lines, dtype=object)
    ok = pd.notna(values)
    if not ok.any():
        return out
    df = pd.DataFrame({"o": owner[ok], "v": values[ok]})
    cnt = df.groupby(["o", "v"]).size().reset_index(name="n").sort_values(["o", "n", "v"],
                                                                          ascending=[True, False, True])
    top = cnt.drop_duplicates("o")
    total = np.bincount(owner, minlength=n_lines)
    keep = top["n"].to_numpy() >= min_share * total[top["o"].to_numpy()]
    out[top["o"].to_numpy()[keep]] = top["v"].to_numpy()[keep]
    return out


def label_reaches(reaches: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame, countries: gpd.GeoDataFrame,
                  borders: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``name``, ``country``, ``is_border`` and ``waterbody`` from sample points along each reach."""
    pts, owner, crs = _samples(reaches.geometry)
    n = len(reaches)
    # names: nearest mapped river within NAME_M
    # lake links of the cartographic network carry the lake's name: not a river name
    lake_names = set(lakes["name"].dropna()) if len(lakes) and "name" in lakes else set()
    named = (rivers[rivers["name"].notna() & ~rivers["name"].isin(lake_names)
                    & ~rivers["name"].astype(str).str.contains(r"\blink\b|reservoir|\blake\b", case=False)]
             if len(rivers) else rivers)
    nm = np.array([None] * len(pts), dtype=object)
    if len(named):
        R = named.to_crs(crs)
        pi, ri = shapely.STRtree(R.geometry.values).query_nearest(pts, max_distance=NAME_M, all_matches=False)
        nm[pi] = R["name"].to_numpy()[ri]
    names = _majority(owner, nm, n, NAME_SHARE)
    # countries and borders
    C = countries.to_crs(crs)
    ci, pi2 = (shapely.STRtree(C.geometry.values).query(pts, predicate="within")
               if len(C) else (np.array([], int), np.array([], int)))
    iso = np.array([None] * len(pts), dtype=object)
    iso[ci] = C["iso3"].to_numpy()[pi2]
    # border rivers: the one rule of riskmap.databuild.border_rivers (the river follows the border)
    pairs = label_border_reaches(reaches, borders).to_numpy() if len(borders) else np.array([None] * n)
    country = _majority(owner, iso, n, 0.0)
    country = np.where(pd.notna(pairs), pairs, country)
    country = np.array([c if c is not None else "unknown" for c in country], dtype=object)
    is_border = np.array(["|" in c for c in country])
    # waterbodies: lake polygons holding at least half of the sample points
    wb = np.array([None] * len(pts), dtype=object)
    if len(lakes):
        K = lakes.to_crs(crs)
        ki, kj = shapely.STRtree(K.geometry.values).query(pts, predicate="within")
        wb[ki] = K["name"].to_numpy()[kj]
    out = reaches.copy()
    out.insert(2, "name", names)
    out["country"] = country
    out["is_border"] = is_border
    out["waterbody"] = _majority(owner, wb, n, 0.5)
    return out


def sub_basin_raster(flw: Any, grid: DemGrid, reaches: gpd.GeoDataFrame, basin: np.ndarray, idx_out: int,
                     main_label: str, sinks: Sequence[tuple[int, str]] = ()) -> tuple[np.ndarray, dict[int, str]]:
    """Catchments of the named tributaries (>= :data:`SUB_BASIN_MIN_SHARE` of the basin), of sinks, and the rest."""
    total = float(reaches["upland_km2"].max())
    w = grid.shape[1]
    outlet_name = reaches.loc[reaches["downstream_id"] == -1].sort_values("upland_km2")["name"].iloc[-1]
    idxs, labels = [idx_out, *[i for i, _ in sinks]], [main_label, *[lab for _, lab in sinks]]
    cand = reaches[reaches["name"].notna() & (reaches["name"] != outlet_name)]
    if len(cand):
        top = cand.sort_values("upland_km2", ascending=False).drop_duplicates("name")
        top = top[top["upland_km2"] >= SUB_BASIN_MIN_SHARE * total]
        for _, r in top.iterrows():
            idxs.append(int(r["_row"]) * w + int(r["_col"]))
            labels.append(str(r["name"]))
    ids = np.arange(1, len(idxs) + 1, dtype=np.int32)
    sub = flw.basins(idxs=np.asarray(idxs, dtype=np.intp), ids=ids)
    sub = np.where(basin, sub, 0).astype(np.int32)
    return sub, {int(i): lab for i, lab in zip(ids, labels)}


def polygons(grid: DemGrid, sub: np.ndarray, names: dict[int, str]) -> gpd.GeoDataFrame:
    """Vectorise the sub-basin raster and simplify it as a coverage (tolerance :data:`SIMPLIFY_CELLS`)."""
    from rasterio.features import shapes

    geoms, vals = [], []
    for g, v in shapes(sub, mask=sub > 0, transform=grid.transform, connectivity=8):
        geoms.append(shapely.geometry.shape(g))
        vals.append(int(v))
    df = gpd.GeoDataFrame({"v": vals}, geometry=geoms, crs="EPSG:4326").dissolve("v").reset_index()
    simple = shapely.coverage_simplify(df.geometry.values, tolerance=SIMPLIFY_CELLS * grid.res)
    simple = shapely.make_valid(simple)
    return gpd.GeoDataFrame({"sub_basin": [names[v] for v in df["v"]]}, geometry=simple, crs="EPSG:4326")
