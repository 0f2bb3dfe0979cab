"""Build a basin's hydrography from user-supplied HydroSHEDS files.

HydroSHEDS (HydroBASINS polygons and HydroRIVERS lines, hydrosheds.org) is far
more detailed than the bundled Natural Earth / GSHHG reference network, but
its licence does not allow riskmap to bundle it. Users who have downloaded it
can turn it into a ``data/basins/<name>.gpkg`` with the same layers and
columns as the reference products (docs/architecture.md) and load it with
:func:`riskmap.hydrography.load_basin`.

Expected columns (HydroSHEDS v1 / v1c):

- HydroBASINS: ``HYBAS_ID``, ``NEXT_DOWN``, ``PFAF_ID``, ``UP_AREA``, ``SUB_AREA``
- HydroRIVERS: ``HYRIV_ID``, ``NEXT_DOWN``, ``MAIN_RIV``, ``LENGTH_KM``, ``DIS_AV_CMS``, ``UPLAND_SKM``
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import Point

from riskmap._errors import RiskmapInputError
from riskmap.basins import read_meta
from riskmap._geo import aeqd_for_bounds, geodesic_area_km2, geodesic_length_km
from riskmap._paths import DATA_DIR
from riskmap.network import RiverNetwork

BASIN_COLUMNS = ("HYBAS_ID", "NEXT_DOWN", "PFAF_ID", "UP_AREA", "SUB_AREA")
RIVER_COLUMNS = ("HYRIV_ID", "NEXT_DOWN", "MAIN_RIV", "LENGTH_KM", "DIS_AV_CMS", "UPLAND_SKM")
#: A reach is a border reach when at least half of its sample points lie this close to a border (m).
BORDER_M = 2500.0
#: The outlet point may lie this far outside the HydroBASINS polygons / rivers (m).
OUTLET_TOLERANCE_M = 10_000.0


def _read(path: Path, columns: tuple[str, ...], kind: str) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read {kind} file: {e}") from None
    upper = {c.upper(): c for c in gdf.columns}
    missing = [c for c in columns if c not in upper]
    if missing:
        raise RiskmapInputError(f"{path}: {kind} file lacks column(s) {', '.join(missing)} "
                                f"(expected {', '.join(columns)})")
    gdf = gdf.rename(columns={upper[c]: c for c in columns})
    if not len(gdf):
        raise RiskmapInputError(f"{path}: the {kind} file has no features")
    empty = np.flatnonzero((gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy())
    if len(empty):
        raise RiskmapInputError(f"{path}: {len(empty)} {kind} feature(s) without a geometry (first: row "
                                f"{int(empty[0]) + 1}); remove them or use the original HydroSHEDS file")
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    gdf = gdf.to_crs("EPSG:4326")
    for c in ("HYBAS_ID", "HYRIV_ID", "NEXT_DOWN", "MAIN_RIV"):
        if c in gdf:
            v = pd.to_numeric(gdf[c], errors="coerce")
            bad = np.flatnonzero(v.isna().to_numpy())
            if len(bad):
                raise RiskmapInputError(f"{path}: row {int(bad[0]) + 1}, column {c}: not an integer id")
            gdf[c] = v.astype("int64")
    return gdf


def _upstream(ids: np.ndarray, next_down: np.ndarray, start: int, kind: str) -> np.ndarray:
    """Boolean mask of the elements whose NEXT_DOWN chain reaches ``start`` (inclusive)."""
    return RiverNetwork(ids, next_down, name=kind).upstream_mask(start)


def _labels(lines: gpd.GeoSeries, countries: gpd.GeoDataFrame, borders: gpd.GeoDataFrame) -> list[str]:
    """Country of each line (majority of sample points) or sorted border pair."""
    crs = aeqd_for_bounds(tuple(lines.total_bounds))
    L = lines.to_crs(crs)
    C = countries.to_crs(crs)
    B = borders.to_crs(crs)
    btree = shapely.STRtree(B.geometry.values) if len(B) else None
    out = []
    for g in L.geometry:
        n = max(int(g.length // 250.0), 2)
        pts = shapely.line_interpolate_point(g, np.linspace(0, g.length, n))
        lab = np.array([None] * len(pts), dtype=object)
        for iso, geom in zip(C["iso3"], C.geometry):
            inside = shapely.contains(geom, pts)
            lab[inside & (lab == None)] = iso  # noqa: E711
        if btree is not None:
            idx = btree.query_nearest(pts, max_distance=BORDER_M, all_matches=False)
            for pi, bi in zip(idx[0], idx[1]):
                a, b = B["iso3_a"].values[bi], B["iso3_b"].values[bi]
                if lab[pi] in (a, b):
                    lab[pi] = f"{a}|{b}"
        vals = pd.Series([v for v in lab if v is not None])
        out.append(vals.mode().sort_values().iloc[0] if len(vals) else "unknown")
    return out


def import_hydrosheds(basins_path: str | Path, rivers_path: str | Path, *, outlet: tuple[float, float],
                      name: str, out_dir: str | Path | None = None,
                      countries: str | Path | gpd.GeoDataFrame | None = None,
                      borders: gpd.GeoDataFrame | None = None) -> Path:
    """Build ``<out_dir>/<name>.gpkg`` from HydroBASINS + HydroRIVERS upstream of ``outlet``.

    Parameters
    ----------
    basins_path, rivers_path : path
        HydroBASINS polygons and HydroRIVERS lines (any vector format geopandas reads).
    outlet : (lon, lat)
        A point on or next to the basin outlet (within 10 km of the river).
    name : str
        Basin identifier; output file ``<name>.gpkg`` and a ``basins.json`` entry.
    out_dir : path, optional
        Output folder (default ``data/basins``).
    countries : path or GeoDataFrame, optional
        ``countries.gpkg`` (layers ``countries`` and ``borders``) or a countries
        GeoDataFrame (``iso3``, ``name``); default: ``countries.gpkg`` in
        ``out_dir``, else the bundled one.
    borders : GeoDataFrame, optional
        Border lines (``iso3_a``, ``iso3_b``, ``border_class``) when ``countries`` is a GeoDataFrame.

    Returns
    -------
    pathlib.Path
        The written GeoPackage.

    Notes
    -----
    - outline: union of the HydroBASINS polygons whose NEXT_DOWN chain reaches the
      polygon containing the outlet;
    - sub_basins: those polygons grouped by the Pfafstetter code one digit
      below the longest prefix they share (``PFAF 1234``);
    - reaches: HydroRIVERS segments whose NEXT_DOWN chain reaches the segment
      nearest the outlet; ``reach_id`` = HYRIV_ID, ``downstream_id`` = NEXT_DOWN
      (-1 at the outlet), ``length_km`` geodesic, ``dist_to_outlet_km`` summed
      downstream, ``order`` Strahler, ``discharge_m3s`` = DIS_AV_CMS,
      ``upland_km2`` = UPLAND_SKM; names and waterbodies are not in HydroRIVERS (None).

    Examples
    --------
    >>> import_hydrosheds("hybas_eu_lev08_v1c.shp", "HydroRIVERS_v10_eu.shp",
    ...                   outlet=(19.35, 44.89), name="drina_hydrosheds")  # doctest: +SKIP
    PosixPath('data/basins/drina_hydrosheds.gpkg')
    """
    from riskmap.io import write_layers

    basins_path, rivers_path = Path(basins_path), Path(rivers_path)
    out = Path(out_dir) if out_dir is not None else DATA_DIR / "basins"
    if not name or not str(name).replace("_", "").replace("-", "").isalnum():
        raise RiskmapInputError(f"basin name {name!r}: use letters, digits, '_' or '-'")
    hb = _read(basins_path, BASIN_COLUMNS, "HydroBASINS")
    hr = _read(rivers_path, RIVER_COLUMNS, "HydroRIVERS")
    lon, lat = float(outlet[0]), float(outlet[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RiskmapInputError(f"outlet {outlet!r}: not a lon,lat pair")
    crs = aeqd_for_bounds((lon - 1, lat - 1, lon + 1, lat + 1))
    op = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(crs).iloc[0]

    start = _nearest_id(hb, "HYBAS_ID", op, crs, f"{basins_path}: outlet ({lon}, {lat}) is {{km}} km from any basin")
    up = _upstream(hb["HYBAS_ID"].to_numpy(), hb["NEXT_DOWN"].to_numpy(), start, f"{basins_path}")
    sub = _sub_basins(hb[up].copy(), name)
    og = shapely.make_valid(shapely.union_all(sub.geometry.values))
    outline = gpd.GeoDataFrame({"basin": [name], "name": [name], "area_km2": [round(float(geodesic_area_km2(og)), 1)]},
                               geometry=[og], crs="EPSG:4326")

    rstart = _nearest_id(hr, "HYRIV_ID", op, crs, f"{rivers_path}: outlet ({lon}, {lat}) is {{km}} km from any river")
    rup = _upstream(hr["HYRIV_ID"].to_numpy(), hr["NEXT_DOWN"].to_numpy(), rstart, f"{rivers_path}")
    cgdf, bgdf = _country_layers(countries, borders, out)
    reaches = _reaches(hr[rup].copy().reset_index(drop=True), rstart, sub, (cgdf, bgdf), f"{rivers_path}")

    cin = cgdf[cgdf.intersects(og)].copy()
    cin["area_km2_in_basin"] = np.round(geodesic_area_km2(shapely.intersection(cin.geometry.values, og)), 1)
    cin = cin[cin["area_km2_in_basin"] > 0][["iso3", "name", "area_km2_in_basin", "geometry"]]
    cin = cin.sort_values("iso3").reset_index(drop=True)
    env = shapely.box(*outline.total_bounds).buffer(0.2)
    bsel = bgdf[bgdf.intersects(env)].reset_index(drop=True) if len(bgdf) else bgdf
    path = out / f"{name}.gpkg"
    write_layers(path, {"outline": outline, "sub_basins": sub, "reaches": reaches, "lakes": _EMPTY_LAKES.copy(),
                        "countries": cin, "borders": bsel, "towns": _EMPTY_TOWNS.copy()})
    area = float(outline["area_km2"].iloc[0])
    _write_meta(out, name, {
        "name": name,
        "riparian": list(cin.loc[cin["area_km2_in_basin"] >= 0.002 * area, "iso3"]),
        "outlet": [lon, lat],
        "continuation": [],
        "published_area_km2": None,
        "measured": {"area_km2": area, "area_error_pct": None, "iou_tfdd": None, "n_reaches": int(len(reaches))},
        "source": {"hydrobasins": basins_path.name, "hydrorivers": rivers_path.name,
                   "note": "HydroSHEDS (hydrosheds.org), user-supplied; see its licence before sharing"},
    })
    return path


_EMPTY_LAKES = gpd.GeoDataFrame({"name": pd.Series([], dtype=object), "kind": pd.Series([], dtype=object),
                                 "countries": pd.Series([], dtype=object), "shared": pd.Series([], dtype=bool)},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
_EMPTY_TOWNS = gpd.GeoDataFrame({"name": pd.Series([], dtype=object), "country": pd.Series([], dtype=object),
                                 "population": pd.Series([], dtype=float), "source": pd.Series([], dtype=object)},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _nearest_id(frame: gpd.GeoDataFrame, id_col: str, op: Any, crs: Any, too_far: str) -> int:
    """The ``id_col`` of the feature nearest the outlet point ``op`` (in ``crs``).

    Raises RiskmapInputError with ``too_far`` (``{km}`` filled in) beyond :data:`OUTLET_TOLERANCE_M`.
    """
    d = frame.to_crs(crs).distance(op).to_numpy()
    if d.min() > OUTLET_TOLERANCE_M:
        raise RiskmapInputError(too_far.format(km=f"{d.min() / 1000:.1f}"))
    return int(frame[id_col].iloc[int(np.argmin(d))])


def _sub_basins(sel: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """The HydroBASINS polygons ``sel`` grouped by the Pfafstetter code one digit below their common prefix."""
    codes = sel["PFAF_ID"].astype("int64").astype(str)
    prefix = 0
    if len(codes) > 1:
        while prefix < codes.str.len().min() and codes.str[: prefix + 1].nunique() == 1:
            prefix += 1
    key = codes.str[: min(prefix + 1, int(codes.str.len().min()))]
    sel["sub_basin"] = "PFAF " + key
    sub = sel.dissolve(by="sub_basin", as_index=False)[["sub_basin", "geometry"]]
    sub["geometry"] = shapely.make_valid(sub.geometry.values)
    sub.insert(0, "basin", name)
    sub["area_km2"] = np.round(geodesic_area_km2(sub.geometry), 1)
    return gpd.GeoDataFrame(sub[["basin", "sub_basin", "area_km2", "geometry"]], geometry="geometry",
                            crs="EPSG:4326").sort_values("sub_basin").reset_index(drop=True)


def _flow_direction(r: gpd.GeoDataFrame, down_pos: np.ndarray) -> list[Any]:
    """The reach lines as single LineStrings digitised downstream (last vertex meets the downstream reach)."""
    geoms = list(r.geometry)
    for i, g in enumerate(geoms):
        if g.geom_type == "MultiLineString":
            g = shapely.line_merge(g)
            if g.geom_type != "LineString":
                g = max(g.geoms, key=lambda x: x.length)
        if down_pos[i] >= 0:
            nxt = r.geometry.iloc[down_pos[i]]
            if Point(g.coords[0]).distance(nxt) < Point(g.coords[-1]).distance(nxt):
                g = g.reverse()
        geoms[i] = g
    return geoms


def _country_layers(countries: str | Path | gpd.GeoDataFrame | None, borders: gpd.GeoDataFrame | None,
                    out: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The countries and borders to label the reaches with (see :func:`import_hydrosheds`)."""
    if isinstance(countries, gpd.GeoDataFrame):
        return countries, borders if borders is not None else gpd.GeoDataFrame(
            {"iso3_a": [], "iso3_b": [], "border_class": []}, geometry=[], crs="EPSG:4326")
    cpath = Path(countries) if countries is not None else (
        out / "countries.gpkg" if (out / "countries.gpkg").is_file() else DATA_DIR / "basins" / "countries.gpkg")
    if not cpath.is_file():
        raise RiskmapInputError(f"{cpath}: countries.gpkg not found; run `riskmap data build-reference` first")
    return gpd.read_file(cpath, layer="countries"), gpd.read_file(cpath, layer="borders")


def _reaches(r: gpd.GeoDataFrame, rstart: int, sub: gpd.GeoDataFrame,
             country_layers: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame:
    """The ``reaches`` layer of the HydroRIVERS segments ``r`` upstream of segment ``rstart``."""
    ids = r["HYRIV_ID"].to_numpy()
    pos = {int(k): i for i, k in enumerate(ids)}
    down_pos = np.array([pos.get(int(nd), -1) for nd in r["NEXT_DOWN"]], dtype=int)
    down_pos[ids == rstart] = -1
    r["geometry"] = _flow_direction(r, down_pos)
    length = geodesic_length_km(r.geometry)
    rnet = RiverNetwork.from_positions(down_pos, length_km=length, name=name)  # type: ignore[arg-type]
    dist = rnet.dist_to_outlet()
    labels = _labels(r.geometry, *country_layers)
    mids = shapely.line_interpolate_point(r.geometry.values, 0.5, normalized=True)
    sub_of = np.array(["unknown"] * len(r), dtype=object)
    for s, g in zip(sub["sub_basin"], sub.geometry):
        sub_of[shapely.contains(g, mids)] = s
    new_down = np.where(down_pos >= 0, ids[np.maximum(down_pos, 0)], -1)
    return gpd.GeoDataFrame({
        "reach_id": ids.astype("int64"),
        "downstream_id": new_down.astype("int64"),
        "name": pd.Series([None] * len(r), dtype=object),
        "length_km": np.round(length, 4),
        "dist_to_outlet_km": np.round(dist, 4),
        "order": rnet.strahler().astype("int64"),
        "country": labels,
        "is_border": [("|" in c) for c in labels],
        "waterbody": pd.Series([None] * len(r), dtype=object),
        "sub_basin": sub_of,
        "discharge_m3s": pd.to_numeric(r["DIS_AV_CMS"], errors="coerce").astype(float).where(
            lambda v: v >= 0).to_numpy(),
        "upland_km2": pd.to_numeric(r["UPLAND_SKM"], errors="coerce").astype(float).to_numpy(),
        "main_riv": r["MAIN_RIV"].to_numpy(dtype="int64"),
    }, geometry=r.geometry.values, crs="EPSG:4326").sort_values("reach_id").reset_index(drop=True)


def _write_meta(out: Path, name: str, entry: dict[str, Any]) -> None:
    """Add or replace the ``basins.json`` entry of basin ``name`` in ``out``."""
    from riskmap.io import atomic_write_text

    meta: dict[str, Any] = read_meta(out)  # a corrupt basins.json is an error, never silently replaced
    meta[name] = entry
    atomic_write_text(out / "basins.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
