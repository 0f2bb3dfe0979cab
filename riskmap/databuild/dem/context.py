"""Context layers of a DEM basin from the bundled data: countries, borders, lakes, towns, dams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import aeqd_for_bounds, geodesic_area_km2
from riskmap.databuild.dem.constants import DAM_SNAP_M, RIPARIAN_MIN_KM2, RIPARIAN_MIN_SHARE

# ---------------------------------------------------------------- context layers


def _countries_in(countries: gpd.GeoDataFrame, outline: Any, area: float) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Countries overlapping a basin outline with their area inside it, and which of them are riparians.

    Riparians hold at least :data:`RIPARIAN_MIN_SHARE` of the basin's ``area``
    (km²) and at least :data:`RIPARIAN_MIN_KM2`.
    """
    cin = countries[countries.intersects(outline)].copy()
    cin["area_km2_in_basin"] = np.round(np.asarray(geodesic_area_km2(
        shapely.intersection(cin.geometry.values, outline)), dtype=float), 1)
    cin = cin[cin["area_km2_in_basin"] > 0][["iso3", "name", "area_km2_in_basin", "geometry"]]
    cin = cin.sort_values("iso3").reset_index(drop=True)
    is_rip = (cin["area_km2_in_basin"] >= RIPARIAN_MIN_SHARE * area) & (cin["area_km2_in_basin"] >= RIPARIAN_MIN_KM2)
    return cin, is_rip


def _context(out: Path, data_dir: str | Path | None) -> dict[str, gpd.GeoDataFrame]:
    """countries/borders (countries.gpkg) and lakes/towns/dams of all bundled basins."""
    import pyogrio

    from riskmap._paths import DATA_DIR
    from riskmap.basins import BASIN_IDS as BASINS

    cands = [out / "countries.gpkg", DATA_DIR / "basins" / "countries.gpkg"]
    cpath = next((p for p in cands if p.is_file()), None)
    if cpath is None:
        raise RiskmapInputError(f"{cands[0]}: countries.gpkg not found; run `riskmap data build-reference` first")
    ctx = {"countries": gpd.read_file(cpath, layer="countries"), "borders": gpd.read_file(cpath, layer="borders")}
    src = out if any((out / f"{b}.gpkg").is_file() for b in BASINS) else DATA_DIR / "basins"
    for lyr in ("lakes", "towns", "dams"):
        parts = []
        for b in BASINS:
            p = src / f"{b}.gpkg"
            if p.is_file() and lyr in {n for n, _ in pyogrio.list_layers(p)}:
                parts.append(gpd.read_file(p, layer=lyr))
        ctx[lyr] = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
                    if parts else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    ctx["_countries_path"] = cpath  # type: ignore[assignment]
    return ctx


def _attach_dams(dams: gpd.GeoDataFrame, reaches: gpd.GeoDataFrame, outline: shapely.Geometry) -> gpd.GeoDataFrame:
    if not len(dams):
        return dams
    d = dams[dams.intersects(outline.buffer(0.05))].drop_duplicates("name").reset_index(drop=True)
    if not len(d):
        return d
    crs = aeqd_for_bounds(tuple(reaches.total_bounds))
    R, D = reaches.to_crs(crs), d.to_crs(crs)
    di, ri = shapely.STRtree(R.geometry.values).query_nearest(D.geometry.values, max_distance=DAM_SNAP_M,
                                                               all_matches=False)
    d = d.iloc[di].copy()
    d["reach_id"] = R["reach_id"].to_numpy()[ri].astype("int64")
    d["dist_km"] = np.round(shapely.distance(D.geometry.values[di], R.geometry.values[ri]) / 1000.0, 3)
    return d.reset_index(drop=True)
