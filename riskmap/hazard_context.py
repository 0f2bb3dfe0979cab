"""What :func:`riskmap.hazard.score` reads around each site before the indices.

Natech layers, the downstream corridors (buffered first kilometres of the
downstream path, built only when a raster or the towns count needs them),
the towns downstream, raster values and statistics, and the Natech seismic
and flood classes. The columns are added to the frame in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.natech import _corridors, _natech_classes, climate_scenarios, load_natech_layers
from riskmap.rasters import buffer_km, check_raster_name, plausible_flood_depth, sample, warn_if_no_value, zonal_stats

__all__ = ["NATECH_COLUMNS", "add_site_context"]

#: Natech columns :func:`add_site_context` writes.
NATECH_COLUMNS = ("natech_fault_km", "natech_max_mw", "natech_water_km", "natech_seismic", "natech_flood")


def add_site_context(out: gpd.GeoDataFrame, P: dict, rasters: Mapping[str, Any] | None,
                     natech: Mapping[str, Any] | pd.DataFrame | None) -> None:
    """Add the downstream towns, raster and Natech columns to ``out`` (in place).

    Parameters are those of :func:`riskmap.hazard.score` (``P`` the loaded parameters).
    """
    ready = natech if isinstance(natech, pd.DataFrame) and not isinstance(natech, gpd.GeoDataFrame) else None
    layers: dict[str, Any] = {}
    if natech is None:
        layers = load_natech_layers(out)
    elif ready is None:
        layers = dict(natech)
    corridors = _corridors_if_needed(out, P, layers, bool(rasters))
    _downstream_towns(out, layers, corridors)
    flood_depth = _raster_columns(out, rasters or {}, corridors, float(P["natech"]["buffers"]["site_buffer_km"]))
    if ready is not None:
        nat = ready.reindex(out.index)
        for c in NATECH_COLUMNS[:3]:
            if c not in nat.columns:
                nat[c] = np.nan
    else:
        nat = _natech_classes(out, faults=layers.get("faults"), earthquakes=layers.get("earthquakes"),
                              water=layers.get("water"), flood_depth=flood_depth, params=P)
    for c in NATECH_COLUMNS:
        out[c] = pd.to_numeric(nat[c], errors="coerce").to_numpy(dtype="float64")


def _has_places(out: pd.DataFrame) -> bool:
    """Whether ``riskmap.exposure.assess`` counted the places downstream (``downstream_places_first_km``)."""
    return "downstream_places_first_km" in out.columns and bool(out["downstream_places_first_km"].notna().any())


def _corridors_if_needed(out: gpd.GeoDataFrame, P: dict, layers: dict[str, Any],
                         has_rasters: bool) -> gpd.GeoSeries | None:
    """The given corridors, else built when rasters or the towns count need them (walking the network is slow)."""
    corridors = layers.get("corridors")
    need = has_rasters or not ("downstream_towns" in layers or _has_places(out))
    if corridors is None and need and layers.get("basins") and "reach_id" in out.columns:
        buf = P["natech"]["buffers"]
        corridors = _corridors(out, layers["basins"], float(buf["corridor_length_km"]),
                               float(buf["corridor_buffer_km"]))
    return corridors


def _downstream_towns(out: gpd.GeoDataFrame, layers: dict[str, Any], corridors: gpd.GeoSeries | None) -> None:
    """``downstream_towns``: given, or the places counted by the exposure step, or towns in the corridor."""
    if "downstream_towns" in layers:
        out["downstream_towns"] = np.asarray(layers["downstream_towns"], dtype="float64")
    elif _has_places(out):
        # riskmap.exposure.assess: GeoNames places (>= 1,000 inhabitants) within 5 km of the first 50 km
        # of the downstream path; preferred to the basins' Natural Earth towns (none on the Drina)
        out["downstream_towns"] = pd.to_numeric(out["downstream_places_first_km"], errors="coerce"
                                                ).to_numpy(dtype="float64")
    elif corridors is not None and layers.get("basins"):
        towns = [b.towns.to_crs("EPSG:4326") for b in layers["basins"].values()
                 if getattr(b, "towns", None) is not None and len(b.towns)]
        if towns:
            tw = gpd.GeoDataFrame(pd.concat(towns, ignore_index=True), crs="EPSG:4326")
            cnt = np.full(len(out), np.nan)
            okc = ~(corridors.isna() | corridors.is_empty).to_numpy()
            if okc.any():
                gi, _ = shapely.STRtree(tw.geometry.values).query(corridors.values[okc], predicate="intersects")
                cnt[okc] = np.bincount(gi, minlength=int(okc.sum()))
            out["downstream_towns"] = cnt


def _corridor_stats(corridors: gpd.GeoSeries, path: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and max of a raster within each site's corridor (NaN without one)."""
    okc = ~(corridors.isna() | corridors.is_empty)
    cm, cx = np.full(n, np.nan), np.full(n, np.nan)
    if okc.any():
        cs = zonal_stats(corridors[okc], path, stats=("mean", "max"))
        cm[okc.to_numpy()] = cs["mean"].to_numpy()
        cx[okc.to_numpy()] = cs["max"].to_numpy()
    return cm, cx


def _raster_columns(out: gpd.GeoDataFrame, rasters: Mapping[str, Any], corridors: gpd.GeoSeries | None,
                    site_buffer_km: float) -> np.ndarray | None:
    """``raster_<name>`` columns (value, site and corridor statistics) and climate scenarios; the flood depth."""
    flood_depth = None
    for name in rasters:
        check_raster_name(name)
    climate = {k: v for k, v in rasters.items() if ":" in str(k)}  # HAZARD:SCENARIO (natech.climate_scenarios)
    for name, path in ((k, v) for k, v in rasters.items() if k not in climate):
        col = f"raster_{name}"
        out[col] = sample(out, path)
        warn_if_no_value(out[col].to_numpy(dtype="float64"), path, name)
        st = zonal_stats(buffer_km(out, site_buffer_km), path, stats=("mean", "max"))
        out[f"{col}_site_mean"] = st["mean"].to_numpy()
        out[f"{col}_site_max"] = st["max"].to_numpy()
        if corridors is not None:
            out[f"{col}_corridor_mean"], out[f"{col}_corridor_max"] = _corridor_stats(corridors, path, len(out))
        if name == "flood_depth":
            flood_depth = plausible_flood_depth(out[col].to_numpy(dtype="float64"), path)
    if climate:
        for c, v in climate_scenarios(out, climate).items():
            out[c] = v.to_numpy()
    return flood_depth
