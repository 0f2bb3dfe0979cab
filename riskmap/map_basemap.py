"""Basemap data of a basin map: the basin's own layers, the context around it, downstream paths, the view.

GeoJSON features (coordinates rounded, geometries simplified for display) of the
basin's countries, borders, sub-basins, outline, lakes, rivers and checkpoint
towns; the bundled context around the basin (whole countries and the sea,
lakes, dams, towns, faults, earthquakes); the downstream reach ids of the sites'
reaches and the map bounds. :func:`riskmap.maps.basin_map` hands them to the
map's JavaScript as JSON data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.i18n import current_lang, town_name
from riskmap.map_text import country_name
from riskmap.network import network_of
from riskmap._paths import DATA_DIR
from riskmap.schema import AOI_BOXES


def _layer(basin: Any, name: str) -> gpd.GeoDataFrame | None:
    gdf = getattr(basin, name, None)
    if gdf is None or not isinstance(gdf, gpd.GeoDataFrame) or gdf.empty:
        return None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    return gdf if not gdf.empty else None


def _rounded(geoms: Any, tol: float, digits: int = 5) -> np.ndarray:
    arr = np.asarray(geoms, dtype=object)
    if tol > 0:
        arr = shapely.simplify(arr, tol, preserve_topology=True)
    return shapely.transform(arr, lambda xy: np.round(xy, digits))


def _features(gdf: gpd.GeoDataFrame, props: Mapping[str, Iterable[Any]], tol: float) -> dict[str, Any]:
    geoms = _rounded(gdf.geometry.to_numpy(), tol)
    gj = [json.loads(g) for g in shapely.to_geojson(geoms)]
    cols = {k: _plain_list(v) for k, v in props.items()}
    feats = []
    for i, g in enumerate(gj):
        feats.append({"type": "Feature", "geometry": g, "properties": {k: v[i] for k, v in cols.items()}})
    return {"type": "FeatureCollection", "features": feats}


def _plain_list(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, (np.bool_, bool)):
            out.append(int(bool(v)))
        elif isinstance(v, np.integer):
            out.append(int(v))
        elif isinstance(v, (np.floating, float)):
            out.append(None if not np.isfinite(v) else round(float(v), 3))
        else:
            out.append(str(v) if not isinstance(v, (int, str)) else v)
    return out


def _col(gdf: gpd.GeoDataFrame, name: str, default: Any = None) -> list[Any]:
    if name in gdf.columns:
        return _plain_list(gdf[name].tolist())
    return [default] * len(gdf)


def _basemap_data(basin: Any, tol: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    riparian = set()
    meta = getattr(basin, "meta", None) or {}
    if isinstance(meta, Mapping):
        riparian = set(meta.get("riparian") or [])
    countries = _layer(basin, "countries")
    if countries is not None:
        iso = _col(countries, "iso3")
        if not riparian:
            riparian = {c for c in iso if c}
        out["countries"] = _features(countries, {"r": [int(c in riparian) for c in iso]}, tol)
        names = _col(countries, "name")
        pts = shapely.point_on_surface(countries.geometry.to_numpy())
        xy = np.round(shapely.get_coordinates(pts), 4)
        english = current_lang() == "en"  # the data's own names are English; other languages: translated
        out["labels"] = [[float(x), float(y), (n if c != "XKX" and english else None) or country_name(c) or "",
                          int(c in riparian)] for (x, y), n, c in zip(xy, names, iso)]
    out["riparian"] = sorted(riparian)
    borders = _layer(basin, "borders")
    if borders is not None:
        disputed = [int(v == "disputed") for v in _col(borders, "border_class")]
        out["borders"] = _features(borders, {"d": disputed}, tol / 2)
    sub = _layer(basin, "sub_basins")
    if sub is not None:
        out["sub_basins"] = _features(sub, {"n": _col(sub, "sub_basin")}, tol)
    outline = _layer(basin, "outline")
    if outline is not None:
        out["outline"] = _features(outline, {"n": _col(outline, "name")}, tol)
    lakes = _layer(basin, "lakes")
    if lakes is not None:
        out["lakes"] = _features(lakes, {"n": _col(lakes, "name"), "k": _col(lakes, "kind"),
                                         "c": _col(lakes, "countries"), "s": _col(lakes, "shared")}, tol / 2)
    reaches = _layer(basin, "reaches")
    if reaches is not None:
        if "reach_id" in reaches.columns:
            rid = _col(reaches, "reach_id")
        else:
            rid = list(range(len(reaches)))
        out["rivers"] = _features(reaches, {
            "id": rid, "o": _col(reaches, "order", 1),
            "b": [int(bool(v)) if v is not None else 0 for v in _col(reaches, "is_border", 0)],
            "n": _col(reaches, "name"), "c": _col(reaches, "country"), "w": _col(reaches, "waterbody"),
            "km": _col(reaches, "length_km")}, tol / 4)
    towns = _layer(basin, "towns")
    if towns is not None:
        iso = _col(towns, "country")
        out["towns"] = _features(towns, {"n": [town_name(n, c) for n, c in zip(_col(towns, "name"), iso)],
                                         "c": iso}, 0)
    return out


#: Margin (degrees) around the basin for the context layers (countries, lakes, towns, faults ...).
CONTEXT_MARGIN_DEG = 3.0


def _read_layer(path: Path, layer: str | None = None) -> gpd.GeoDataFrame | None:
    if not path.is_file():
        return None
    gdf = gpd.read_file(path, layer=layer)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    return gdf if not gdf.empty else None


def _in_box(gdf: gpd.GeoDataFrame | None, box: Any) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    gdf = gdf[shapely.intersects(gdf.geometry.to_numpy(), box)]
    return gdf if not gdf.empty else None


def _aoi_box(x: float, y: float) -> Any:
    """The riskmap AOI box (``schema.AOI_BOXES``) holding the point, else None."""
    for b in AOI_BOXES.values():
        if b[0] <= x <= b[2] and b[1] <= y <= b[3]:
            return shapely.box(*b)
    return None


def _country_context(view: Any, aoi: Any, riparian: set[str], tol: float,
                     names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whole countries around the basin (as bundled), their names, and the sea inside the AOI box.

    ``names`` (ISO3 -> name, from the basin's own countries layer) take precedence over the
    ISO names, except for Kosovo, always ``Kosovo*``.
    """
    names = dict(names or {})
    out: dict[str, Any] = {}
    all_countries = _read_layer(DATA_DIR / "basins" / "countries.gpkg", "countries")
    countries = _in_box(all_countries, view)
    if countries is None or all_countries is None:
        return out
    iso = _col(countries, "iso3")
    rip = [int(c in riparian) for c in iso]
    geoms = countries.geometry.to_numpy()
    simple = np.where(np.array(rip, dtype=bool), _rounded(geoms, tol), _rounded(geoms, tol * 4))
    gj = [json.loads(g) for g in shapely.to_geojson(simple)]
    out["countries"] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": {"r": r, "iso": c}} for g, r, c in zip(gj, rip, iso)]}
    pts = shapely.point_on_surface(shapely.intersection(geoms, view))
    xy = np.round(shapely.get_coordinates(pts), 4)
    english = current_lang() == "en"  # the data's own names are English; other languages: translated
    out["labels"] = [[float(x), float(y), (names.get(c) if c != "XKX" and english else None) or country_name(c)
                      or str(c or ""), r] for (x, y), c, r in zip(xy, iso, rip)]
    if aoi is not None:  # inside the AOI box, what no country covers is sea
        land = shapely.union_all(all_countries.geometry.to_numpy())
        sea = shapely.simplify(shapely.difference(aoi, land), tol * 4)
        if not sea.is_empty and sea.area > 1e-3:
            out["sea"] = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                                      "geometry": json.loads(shapely.to_geojson(
                                                                          _rounded([sea], 0)[0]))}]}
        out["aoi"] = [[aoi.bounds[1], aoi.bounds[0]], [aoi.bounds[3], aoi.bounds[2]]]
    return out


def _hazard_context(view: Any) -> dict[str, Any]:
    """Active faults (GEM) and earthquakes (ISC-GEM) around the basin, from ``data/natech``."""
    out: dict[str, Any] = {}
    faults = _in_box(_read_layer(DATA_DIR / "natech" / "faults.gpkg"), view)
    if faults is not None:
        out["faults"] = _features(faults, {"n": _col(faults, "name"), "t": _col(faults, "slip_type"),
                                           "r": _col(faults, "net_slip_rate")}, 0.002)
    quakes = _in_box(_read_layer(DATA_DIR / "natech" / "earthquakes.gpkg"), view)
    if quakes is not None:
        out["quakes"] = _features(quakes, {"m": _col(quakes, "mw"), "y": _col(quakes, "year"),
                                           "d": _col(quakes, "depth_km")}, 0)
    return out


def _town_context(view: Any) -> dict[str, Any] | None:
    """Towns and villages (``data/sites/places.csv``, GeoNames) around the basin, largest first."""
    path = DATA_DIR / "sites" / "places.csv"
    if not path.is_file():
        return None
    df = pd.read_csv(path, usecols=["name", "country", "population", "lon", "lat"])
    x0, y0, x1, y1 = view.bounds
    df = df[df["lon"].between(x0, x1) & df["lat"].between(y0, y1)].sort_values("population", ascending=False)
    if df.empty:
        return None
    pop = pd.to_numeric(df["population"], errors="coerce")
    names = [str(town_name(n, c)) for n, c in zip(df["name"].astype(str), df["country"])]
    return {"n": names, "c": [country_name(c) for c in df["country"]],
            "p": [None if not np.isfinite(v) else int(v) for v in pop.to_numpy(dtype=float)],
            "lon": df["lon"].round(4).tolist(), "lat": df["lat"].round(4).tolist()}


def _lake_context(basin: Any, view: Any) -> dict[str, Any]:
    """Lakes and reservoirs around the basin (``data/context``) and the basin's dams with their reservoirs."""
    out: dict[str, Any] = {}
    lakes = _in_box(_read_layer(DATA_DIR / "context" / "lakes.gpkg", "lakes"), view)
    if lakes is not None:
        out["ctx_lakes"] = _features(lakes, {"n": _col(lakes, "name"), "k": _col(lakes, "kind")}, 0.001)
    dams = _layer(basin, "dams")
    if dams is not None:
        dams = dams[shapely.get_type_id(dams.geometry.to_numpy()) == 0]
        if not dams.empty:
            out["dams"] = _features(dams, {"n": _col(dams, "name"), "r": _col(dams, "reservoir"),
                                           "v": _col(dams, "river"), "mw": _col(dams, "capacity_mw")}, 0)
    return out


def _context_data(basin: Any, bounds: list[list[float]] | None, riparian: set[str], tol: float) -> dict[str, Any]:
    """All context layers around ``bounds`` (``[[lat0, lon0], [lat1, lon1]]``); empty without bounds."""
    if not bounds:
        return {}
    (y0, x0), (y1, x1) = bounds
    m = CONTEXT_MARGIN_DEG
    view = shapely.box(x0 - m, y0 - m, x1 + m, y1 + m)
    own = _layer(basin, "countries")
    names = {} if own is None or "name" not in own.columns else {
        str(c): str(n) for c, n in zip(_col(own, "iso3"), _col(own, "name")) if c and n}
    out = _country_context(view, _aoi_box((x0 + x1) / 2, (y0 + y1) / 2), riparian, tol, names)
    out.update(_hazard_context(view))
    out.update(_lake_context(basin, view))
    towns = _town_context(shapely.box(x0 - 0.3, y0 - 0.3, x1 + 0.3, y1 + 0.3))
    if towns is not None:
        out["places"] = towns
    return out


def _downstream_table(basin: Any, sites: pd.DataFrame | None) -> dict[str, list[int]] | None:
    """Precomputed downstream reach ids (flow order, start first) per distinct start reach of ``sites``.

    The map's JavaScript only looks paths up in this table (``data["downstream"]``,
    keyed by the reach id as text); the walk itself is
    :meth:`riskmap.network.RiverNetwork.downstream_ids`. One entry per distinct
    ``reach_id`` of the sites that is a reach of the basin; None when there is none.

    Examples
    --------
    >>> from riskmap.hydrography import load_basin
    >>> b = load_basin("drina")
    >>> table = _downstream_table(b, pd.DataFrame({"reach_id": [77, 77, -1]}))
    >>> list(table) == ["77"] and table["77"] == b.network.downstream_ids(77)
    True
    """
    if sites is None or "reach_id" not in sites.columns or _layer(basin, "reaches") is None:
        return None
    rid = pd.to_numeric(sites["reach_id"], errors="coerce").dropna()
    rid = rid[(rid >= 0) & (rid == rid.round())].astype("int64").unique()
    net = network_of(basin)
    starts = [int(r) for r in np.sort(rid) if int(r) in net]  # distinct start reaches, not sites
    return {str(r): net.downstream_ids(r) for r in starts} or None


def _bounds(basin: Any, data: Mapping[str, Any]) -> list[list[float]] | None:
    for name in ("outline", "reaches", "sub_basins", "countries"):
        gdf = _layer(basin, name)
        if gdf is not None:
            x0, y0, x1, y1 = gdf.total_bounds
            return [[float(y0), float(x0)], [float(y1), float(x1)]]
    s = data.get("sites")
    if s and s["n"]:
        return [[min(s["lat"]), min(s["lon"])], [max(s["lat"]), max(s["lon"])]]
    return None
