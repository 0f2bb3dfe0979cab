"""Natech screening of sites: seismic and flood classes (0..3).

The classes come from distances to GEM active faults, the strongest ISC-GEM
epicentre within a radius, the distance to rivers/lakes and optional flood
rasters, through the step tables of ``riskmap/params/natech.toml`` (see
:func:`riskmap.params.load_params`). :func:`load_natech_layers` reads the
bundled layers; :func:`riskmap.hazard.score` combines the classes with the
hazard indices.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._columns import _num, _step_ge, _step_le, _text
from riskmap._errors import RiskmapInputError
from riskmap._paths import DATA_DIR
from riskmap.network import network_of
from riskmap.params import _params
from riskmap.rasters import _local_groups, buffer_km

__all__ = ["NO_CLIMATE_DATA", "climate_scenarios", "climate_section", "load_climate_params", "load_natech_layers",
           "natech", "parse_scenario_key"]


def _distance_km(geoms: gpd.GeoSeries, layer: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Distance in km from each geometry to the nearest feature of ``layer`` (local AEQD)."""
    out = np.full(len(geoms), np.nan)
    lay = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    lay = lay[~(lay.isna() | lay.is_empty)]
    if not len(lay):
        return out
    for crs, pos in _local_groups(geoms):
        g = geoms.iloc[pos].to_crs(crs).values
        lv = lay.to_crs(crs).values
        tree = shapely.STRtree(lv)
        (gi, _), d = tree.query_nearest(g, return_distance=True, all_matches=False)
        out[pos[gi]] = d / 1000.0
    return out


def _max_within(geoms: gpd.GeoSeries, points: gpd.GeoDataFrame, col: str, radius_km: float) -> np.ndarray:
    """Largest ``points[col]`` within ``radius_km`` of each geometry (NaN when none)."""
    out = np.full(len(geoms), np.nan)
    pts = points[~(points.geometry.isna() | points.geometry.is_empty)]
    vals = pd.to_numeric(pts[col], errors="coerce").to_numpy(dtype="float64")
    if not len(pts):
        return out
    for crs, pos in _local_groups(geoms):
        g = geoms.iloc[pos].to_crs(crs).values
        tree = shapely.STRtree(pts.geometry.to_crs(crs).values)
        gi, pj = tree.query(g, predicate="dwithin", distance=radius_km * 1000.0)
        sub = np.full(len(pos), -np.inf)
        v = vals[pj]
        ok = np.isfinite(v)
        np.maximum.at(sub, gi[ok], v[ok])
        out[pos] = np.where(np.isfinite(sub), sub, np.nan)
    return out


def natech(sites: gpd.GeoDataFrame, *, faults: gpd.GeoDataFrame | None = None,
           earthquakes: gpd.GeoDataFrame | None = None, water: gpd.GeoDataFrame | None = None,
           flood_depth=None, params=None) -> pd.DataFrame:
    """Natech screening: seismic and flood classes (0 none .. 3 high) per site.

    Seismic class = max(class of the distance to the nearest active fault,
    class of the largest Mw within ``natech.eq_radius_km``). Flood class =
    class of the distance to the nearest river reach or lake, raised by a
    flood-depth value when one is given. Distances are in km in a local
    azimuthal equidistant projection. A class whose layer was not supplied
    is ``NaN`` (missing), never 0.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites with a CRS.
    faults : GeoDataFrame, optional
        Active fault lines (e.g. ``data/natech/faults.gpkg``).
    earthquakes : GeoDataFrame, optional
        Epicentres with an ``mw`` column (e.g. ``data/natech/earthquakes.gpkg``).
    water : GeoDataFrame, optional
        River reaches and lakes (e.g. a basin's ``reaches`` and ``lakes``).
        Rows of ``sites`` outside every basin (``basin`` blank) get NaN.
    flood_depth : array-like, optional
        Flood depth in metres at each site (e.g. from :func:`riskmap.rasters.sample`).
    params : dict, path or None

    Returns
    -------
    pandas.DataFrame
        ``natech_fault_km``, ``natech_max_mw``, ``natech_water_km``,
        ``natech_seismic``, ``natech_flood``.

    Examples
    --------
    >>> nat = natech(sites, faults=faults, earthquakes=quakes)  # doctest: +SKIP
    """
    p = _params(params)["natech"]
    g = gpd.GeoSeries(sites.geometry.values, index=sites.index, crs=sites.crs)
    if g.crs is None:
        raise RiskmapInputError("sites have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    g = g.to_crs("EPSG:4326")
    n = len(g)
    fault_km = _distance_km(g, faults) if faults is not None else np.full(n, np.nan)
    if earthquakes is not None:
        if "mw" not in earthquakes.columns:
            raise RiskmapInputError("earthquakes layer needs an 'mw' column (moment magnitude)")
        max_mw = _max_within(g, earthquakes, "mw", float(p["eq_radius_km"]))
        mw_cls = np.where(np.isnan(max_mw), 0.0, _step_ge(max_mw, p["max_mw"], "min_mw"))
    else:
        max_mw = np.full(n, np.nan)
        mw_cls = np.full(n, np.nan)
    f_cls = _step_le(fault_km, p["fault_km"], "max_km")
    # NaN only when both layers are missing; with one layer the class comes from it alone
    seismic = np.fmax(f_cls, mw_cls)
    water_km = _distance_km(g, water) if water is not None else np.full(n, np.nan)
    if water is not None and "basin" in sites.columns:
        outside = _text(sites, "basin").isna().to_numpy()
        water_km[outside] = np.nan
    flood = _step_le(water_km, p["water_km"], "max_km")
    if flood_depth is not None:
        depth = np.asarray(flood_depth, dtype="float64")
        d_cls = _step_ge(depth, p["flood_depth_m"], "min_m")
        flood = np.fmax(flood, d_cls)
    return pd.DataFrame({
        "natech_fault_km": fault_km, "natech_max_mw": max_mw, "natech_water_km": water_km,
        "natech_seismic": seismic, "natech_flood": flood,
    }, index=sites.index)


_natech_classes = natech  # score() has a parameter named ``natech``


def load_natech_layers(sites: pd.DataFrame | None = None, data_dir: str | Path | None = None) -> dict:
    """Load the bundled Natech layers and, if available, the basins' water and towns.

    Returns a dict with any of ``faults``, ``earthquakes`` (from
    ``data/natech/*.gpkg``, built by ``riskmap data build-natech``), ``water``
    (reaches and lakes of every basin) and ``basins`` (``{id: Basin}``) for
    the downstream corridors. Missing layers are simply absent.

    Examples
    --------
    >>> sorted(load_natech_layers())  # doctest: +SKIP
    ['basins', 'earthquakes', 'faults', 'water']
    """
    d = Path(data_dir) if data_dir is not None else DATA_DIR
    out: dict[str, Any] = {}
    for name in ("faults", "earthquakes"):
        f = d / "natech" / f"{name}.gpkg"
        if f.exists():
            out[name] = gpd.read_file(f, layer=name)
    try:
        from riskmap import hydrography  # analysis layer: allowed
    except ImportError:
        return out
    wanted = None
    if sites is not None and "basin" in sites.columns:
        wanted = {b for b in _text(sites, "basin").dropna().unique()}
    basins, parts = {}, []
    try:
        ids = hydrography.list_basins()
    except Exception:  # noqa: BLE001 - no reference data built
        return out
    for b in ids:
        if wanted is not None and b not in wanted:
            continue
        try:
            bas = hydrography.load_basin(b)
        except Exception:  # noqa: BLE001
            continue
        basins[b] = bas
        for lay in (bas.reaches, bas.lakes):
            if lay is not None and len(lay):
                parts.append(gpd.GeoDataFrame(geometry=lay.geometry.to_crs("EPSG:4326").values,
                                              crs="EPSG:4326"))
    if parts:
        out["water"] = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    if basins:
        out["basins"] = basins
    return out


def _corridors(sites: pd.DataFrame, basins: Mapping[str, Any], length_km: float,
               buffer: float) -> gpd.GeoSeries:
    """Buffered downstream path (first ``length_km`` km) of each snapped site; None when unknown."""
    bas_col = _text(sites, "basin").tolist()
    rid = _num(sites, "reach_id")
    site_key: list[tuple[str, int] | None] = [None] * len(sites)
    lines: dict[tuple[str, int], Any] = {}
    for i, (b, r) in enumerate(zip(bas_col, rid)):
        if b is None or b not in basins or not np.isfinite(r):
            continue
        key = site_key[i] = (b, int(r))
        if key not in lines:
            net = network_of(basins[b])
            # whole reaches starting within length_km of the site reach's downstream end
            lines[key] = (net.path_geometry(key[1], fraction=1.0, max_km=length_km, cut=False)
                          if key[1] in net else None)
    # one buffer per distinct path (sites on the same reach share it)
    keys = [k for k, g in lines.items() if g is not None and not g.is_empty]
    buffered: dict[tuple[str, int] | None, Any] = {}
    if keys:
        done = buffer_km(gpd.GeoSeries([lines[k] for k in keys], crs="EPSG:4326"), buffer)
        buffered = dict(zip(keys, done.to_numpy()))
    return gpd.GeoSeries([buffered.get(k) for k in site_key], index=sites.index, crs="EPSG:4326")


# ------------------------------------------------------------------ Natech under climate change

#: Class tables of the climate scenario rasters (``riskmap/params/climate.toml``).
CLIMATE_PARAMS_FILE = Path(__file__).resolve().parent / "params" / "climate.toml"
#: Statement carried by every climate output: riskmap bundles no climate data.
NO_CLIMATE_DATA = ("riskmap ships no climate data: the scenario rasters are the user's own GeoTIFFs, "
                   "sampled as given")


def parse_scenario_key(key: str) -> tuple[str, str] | None:
    """``"flood:2050"`` -> ``("flood", "2050")``; ``None`` for a plain raster name.

    Raises
    ------
    RiskmapInputError
        A key with ``:`` but an empty or unusable hazard or scenario name.

    Examples
    --------
    >>> parse_scenario_key("flood:present"), parse_scenario_key("flood_depth")
    (('flood', 'present'), None)
    """
    import re

    if ":" not in str(key):
        return None
    hazard, _, scen = str(key).partition(":")
    hazard, scen = hazard.strip(), scen.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", hazard) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}",
                                                                                       scen):
        raise RiskmapInputError(f"--raster {key!r}: write HAZARD:SCENARIO=PATH with plain names, "
                                "e.g. flood:present=A.tif flood:2050=B.tif")
    return hazard, scen


def load_climate_params(path: str | Path | Mapping | None = None) -> dict[str, Any]:
    """The climate class tables: the shipped ``params/climate.toml`` or a user file / dict of the same shape."""
    from riskmap.params import _read_toml

    if isinstance(path, Mapping):
        p: dict[str, Any] = dict(path)
        where = "<climate params>"
    else:
        where = str(path or CLIMATE_PARAMS_FILE)
        p = _read_toml(Path(where), "climate parameter")
    for hz, steps in (p.get("hazard") or {}).items():
        if not isinstance(steps, list) or not all(isinstance(s, Mapping) and {"min", "value"} <= set(s)
                                                  for s in steps):
            raise RiskmapInputError(f"{where}: [[hazard.{hz}]] needs rows with min and value")
    p.setdefault("meta", {}).setdefault("baseline", ["present"])
    p.setdefault("hazard", {})
    return p


def _classify(values: np.ndarray, steps: list[Mapping[str, Any]] | None) -> np.ndarray:
    """Class of each value from ``min``/``value`` steps (highest ``min`` first); NaN stays NaN."""
    out = np.full(len(values), np.nan)
    if not steps:
        return out
    for s in sorted(steps, key=lambda s: -float(s["min"])):
        hit = np.isnan(out) & np.isfinite(values) & (values >= float(s["min"]))
        out[hit] = float(s["value"])
    return out


def _scenario_values(sites: gpd.GeoDataFrame, path: Any) -> np.ndarray:
    """Value per site: the pixel at the site, raised by the footprint maximum of TMF polygons."""
    from riskmap.rasters import sample, zonal_stats
    from riskmap.schema import TMF_CATEGORIES

    vals = sample(sites, path)
    geom = sites.geometry
    poly = geom.notna().to_numpy() & np.isin(shapely.get_type_id(geom.values), [3, 6])
    if "category" in sites.columns:
        poly &= sites["category"].isin(TMF_CATEGORIES).to_numpy()
    if poly.any():
        zs = zonal_stats(sites[poly], path, stats=("max",))["max"].to_numpy()
        vals[poly] = np.fmax(vals[poly], zs)
    return vals


def climate_scenarios(sites: gpd.GeoDataFrame, rasters: Mapping[str, Any], params: Any = None) -> pd.DataFrame:
    """Sample hazard rasters per climate scenario at the sites and class them, with the change.

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with a CRS (TMF polygons are summarised over their footprint, maximum).
    rasters : mapping ``"HAZARD:SCENARIO" -> path``
        E.g. ``{"flood:present": "A.tif", "flood:2050": "B.tif"}`` (any CRS; the
        sites are reprojected to each raster's).
    params : path or mapping, optional
        Class tables (default ``riskmap/params/climate.toml``).

    Returns
    -------
    pandas.DataFrame
        Per hazard and scenario ``climate_<hazard>_<scenario>`` (value),
        ``..._class`` (NaN when no data or no class table) and ``..._status``
        (``ok``, ``no data`` when the site is outside the raster or over nodata);
        per hazard ``climate_<hazard>_change`` (class of each later scenario minus
        the baseline, as text ``2050: +1``; ``no data`` where unknown). Raises a
        :class:`riskmap.RiskmapDataWarning` naming a raster that covers none of the sites.

    Raises
    ------
    RiskmapInputError
        Missing or unreadable raster, raster without CRS, bad key.

    Examples
    --------
    >>> climate_scenarios(sites, {"flood:present": "a.tif", "flood:2050": "b.tif"})  # doctest: +SKIP
    """
    import warnings

    from riskmap._errors import RiskmapDataWarning

    p = load_climate_params(params)
    by_hazard: dict[str, list[tuple[str, Any]]] = {}
    for key, path in rasters.items():
        hs = parse_scenario_key(key)
        if hs is None:
            raise RiskmapInputError(f"climate raster {key!r}: name it HAZARD:SCENARIO (e.g. flood:2050)")
        by_hazard.setdefault(hs[0], []).append((hs[1], path))
    out: dict[str, Any] = {}
    for hazard, scens in by_hazard.items():
        steps = p["hazard"].get(hazard)
        classes: dict[str, np.ndarray] = {}
        for scen, path in scens:
            v = _scenario_values(sites, path)
            if len(v) and not np.isfinite(v).any():
                warnings.warn(f"climate raster {hazard}:{scen} ({path}) gives no data at any of the {len(v)} "
                              "sites (outside the raster or nodata there)", RiskmapDataWarning, stacklevel=2)
            col = f"climate_{hazard}_{scen}"
            out[col] = v
            classes[scen] = _classify(v, steps)
            out[f"{col}_class"] = classes[scen]
            out[f"{col}_status"] = np.where(np.isfinite(v), "ok" if steps else "ok (no class table)", "no data")
        base = next((b for b in p["meta"]["baseline"] if b in classes), scens[0][0])
        out[f"climate_{hazard}_change"] = _change_text(classes, base, len(sites))
    return pd.DataFrame(out, index=sites.index)


def _change_text(classes: Mapping[str, np.ndarray], base: str, n: int) -> list[str]:
    """Per site ``"2050: +1; 2080: +2"`` against the baseline scenario; ``no data`` where unknown."""
    parts: list[list[str]] = [[] for _ in range(n)]
    b = classes[base]
    for scen, c in classes.items():
        if scen == base:
            continue
        d = c - b
        for i in range(n):  # text per site: a few scenarios, a few hundred sites
            parts[i].append(f"{scen}: {d[i]:+.0f}" if np.isfinite(d[i]) else f"{scen}: no data")
    return ["; ".join(x) if x else f"baseline {base} only" for x in parts]


def climate_section(sites: pd.DataFrame) -> dict[str, Any] | None:
    """Report section context of the climate scenario columns (``None`` when there are none).

    Returns
    -------
    dict
        ``statement`` (no climate data ship with riskmap), ``hazards``: per hazard its
        ``scenarios`` and ``rows`` (site name, country, value and class per scenario,
        change), sites sorted by the largest class increase first.
    """
    cols = [c for c in sites.columns if c.startswith("climate_") and c.endswith("_change")]
    if not cols:
        return None
    hazards = []
    for ch in cols:
        hz = ch[len("climate_"):-len("_change")]
        scen = [c[len(f"climate_{hz}_"):-len("_class")] for c in sites.columns
                if c.startswith(f"climate_{hz}_") and c.endswith("_class")]
        rows = []
        for _, s in sites.iterrows():
            cells = []
            for sc in scen:
                v, k = s.get(f"climate_{hz}_{sc}"), s.get(f"climate_{hz}_{sc}_class")
                cells.append("no data" if pd.isna(v) else
                             f"{float(v):.3g} (class {'unknown' if pd.isna(k) else int(k)})")
            rows.append({"name": str(s.get("name") or s.get("site_id")), "country": str(s.get("country") or ""),
                         "cells": cells, "change": str(s[ch])})

        def up(r: dict[str, Any]) -> float:
            nums = [float(x.split(": ")[1]) for x in r["change"].split("; ") if ": " in x
                    and x.split(": ")[1] not in ("no data",)]
            return -max(nums) if nums else 1e9
        rows.sort(key=lambda r: (up(r), r["name"]))
        hazards.append({"hazard": hz, "scenarios": scen, "rows": rows})
    return {"statement": NO_CLIMATE_DATA, "hazards": hazards}
