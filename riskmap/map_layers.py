"""The data a basin map is drawn from: basemap features, site features and colours, popups, the legend.

:func:`riskmap.maps.basin_map` hands these to the map's JavaScript
(``riskmap/assets/riskmap/riskmap.js``) as JSON data; user text stays data.
"""

from __future__ import annotations

import html as _html
import json
import math
import re
from pathlib import Path
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.map_assets import (  # noqa: F401 - re-exported
    _ASSET_FOR,
    ASSETS_DIR,
    external_references,
    inline_assets,
)
from riskmap.map_text import (
    CATEGORY_LABELS,
    KOSOVO_NOTE,
    PRECISION_LABELS,
    STATUS_LABELS,
    countries_text,
    country_name,
    source_name,
    sources_text,
    why_texts,
)
from riskmap.network import network_of
from riskmap._paths import DATA_DIR
from riskmap.schema import AOI_BOXES, CATEGORIES

#: Coordinate precisions drawn hollow and dashed, with a note in the popup.
APPROXIMATE_PRECISIONS = ("town", "estimated")

#: SVG path (viewBox 0 0 20 20) of each marker shape.
SHAPE_PATHS: dict[str, str] = {
    "circle": "M10 2.5a7.5 7.5 0 1 0 0.001 0Z",
    "square": "M3.5 3.5H16.5V16.5H3.5Z",
    "triangle": "M10 2L18.5 17H1.5Z",
    "triangle_down": "M1.5 3H18.5L10 18Z",
    "diamond": "M10 1.5L18.5 10L10 18.5L1.5 10Z",
    "pentagon": "M10 1.8L18.2 7.8L15.1 17.5H4.9L1.8 7.8Z",
    "hexagon": "M5.5 2.2H14.5L19 10L14.5 17.8H5.5L1 10Z",
    "star": "M10 1.2L12.5 7.3L19 7.6L13.9 11.7L15.7 18.2L10 14.5L4.3 18.2L6.1 11.7L1 7.6L7.5 7.3Z",
    "cross": "M7 2H13V7H18V13H13V18H7V13H2V7H7Z",
    "bar": "M2 6.5H18V13.5H2Z",
    "hourglass": "M2.5 2H17.5L11.2 10L17.5 18H2.5L8.8 10Z",
    "drop": "M10 1.2C10 1.2 16.8 9 16.8 12.4A6.8 6.8 0 0 1 3.2 12.4C3.2 9 10 1.2 10 1.2Z",
    "trapezoid": "M1.2 4H18.8L14.2 16.5H5.8Z",
    "arch": "M2 17.5V10A8 8 0 0 1 18 10V17.5Z",
}

#: Marker shape of each site category.
CATEGORY_SHAPES: dict[str, str] = {
    "tailings_metal": "triangle",
    "tailings_uranium": "star",
    "tailings_red_mud": "triangle_down",
    "tailings_ash": "trapezoid",
    "mine": "diamond",
    "smelter_refinery": "square",
    "chemical_plant": "hexagon",
    "oil_refinery_depot": "pentagon",
    "oil_gas_extraction": "drop",
    "pipeline": "bar",
    "thermal_power_plant": "hourglass",
    "dam_reservoir": "arch",
    "landfill": "cross",
    "other": "circle",
}

_SHAPE_NAMES = tuple(SHAPE_PATHS)

_UNKNOWN_COLOUR = "#9e9e9e"
_DEFAULT_COLOUR = "#6a3d9a"

#: Colours of exposure classes (lower-cased, known words); others get _FALLBACK colours.
_EXPOSURE_COLOURS: dict[str, str] = {
    "very high": "#67000d",
    "critical": "#67000d",
    "high": "#d7301f",
    "transboundary": "#d7301f",
    "medium": "#fc8d59",
    "moderate": "#fc8d59",
    "border": "#fc8d59",
    "low": "#fdcc8a",
    "national": "#fdcc8a",
    "local": "#fef0d9",
    "very low": "#fef0d9",
    "none": "#c7e9c0",
    "not exposed": "#c7e9c0",
    "outside basin": "#d9d9d9",
    "outside": "#d9d9d9",
    "unknown": _UNKNOWN_COLOUR,
}
_FALLBACK = ("#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4", "#b15928")

#: Hazard priority bands (share of the scored sites on the map, from the top).
_PRIORITY_BANDS: tuple[tuple[str, float, str], ...] = (
    ("top 10 %", 0.10, "#67000d"),
    ("10-25 %", 0.25, "#d7301f"),
    ("25-50 %", 0.50, "#fc8d59"),
    ("lower 50 %", 1.0, "#fdcc8a"),
)

_STYLE = {
    "sea": "#cfe1f0",
    "outside": "#e9e9e9",
    "land": "#f4f1ea",
    "landOther": "#e6e3dc",
    "water": "#3a87c8",
    "lake": "#a6cbe8",
    "borderRiver": "#c51b8a",
}

#: Popup groups, in display order.
POPUP_GROUPS: tuple[str, ...] = ("What it is", "Exposure downstream", "Hazard", "Sources")

#: Popup rows: (column, label, kind, group) in display order; only present, non-empty values are
#: shown. Kinds: text, km, h, num, int, bool, url, and the name look-ups category, status,
#: precision, country, countries, source, sources (codes become names in Python).
POPUP_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("category", "Kind", "category", "What it is"),
    ("status", "Status", "status", "What it is"),
    ("country", "Country", "country", "What it is"),
    ("sub_basin", "Sub-basin", "text", "What it is"),
    ("coord_precision", "Location", "precision", "What it is"),
    ("substances", "Substances", "text", "What it is"),
    ("tailings_volume_m3", "Tailings volume (m\u00b3)", "int", "What it is"),
    ("tailings_area_ha", "Tailings area (ha)", "num", "What it is"),
    ("dam_height_m", "Dam height (m)", "num", "What it is"),
    ("tailings_type", "Tailings type", "text", "What it is"),
    ("dam_condition", "Dam condition", "text", "What it is"),
    ("reservoir_volume_m3", "Reservoir volume (m\u00b3)", "int", "What it is"),
    ("capacity_mw", "Capacity (MW)", "num", "What it is"),
    ("capacity_t_yr", "Capacity (t/yr)", "int", "What it is"),
    ("exposure_class", "Exposure class", "text", "Exposure downstream"),
    ("transboundary_downstream", "Water crosses a border downstream", "bool", "Exposure downstream"),
    ("downstream_countries", "Countries downstream (flow order)", "countries", "Exposure downstream"),
    ("first_border_river_km", "River km to the first border", "km", "Exposure downstream"),
    ("first_border_km_range", "Range of that distance", "text", "Exposure downstream"),
    ("travel_time_h", "Travel time to the first border", "h", "Exposure downstream"),
    ("outlet_river_km", "River km to the basin outlet", "km", "Exposure downstream"),
    ("continuation", "Beyond the outlet", "text", "Exposure downstream"),
    ("on_border_water", "On a border river", "bool", "Exposure downstream"),
    ("border_km", "Straight distance to a border", "km", "Exposure downstream"),
    ("border_neighbour", "Nearest neighbouring country", "country", "Exposure downstream"),
    ("downstream_pop_total", "People in towns downstream", "int", "Exposure downstream"),
    ("snap_km", "Distance to the mapped river", "km", "Exposure downstream"),
    ("river_km_basis", "How river km were measured", "text", "Exposure downstream"),
    ("priority_rank", "Hazard priority rank in the basin", "int", "Hazard"),
    ("priority_score", "Priority score (0-1)", "num", "Hazard"),
    ("hazard_score", "Hazard score", "num", "Hazard"),
    ("score_status", "Score status", "text", "Hazard"),
    ("score_reason", "Why the score is limited", "text", "Hazard"),
    ("params_label", "Scoring parameters", "text", "Hazard"),
    ("completeness", "Data completeness (0-1)", "num", "Hazard"),
    ("wri", "Water risk index (WRI)", "num", "Hazard"),
    ("wri_band", "WRI band", "text", "Hazard"),
    ("thi", "Tailings hazard index (THI)", "num", "Hazard"),
    ("tri", "Tailings risk index (TRI)", "num", "Hazard"),
    ("natech_seismic", "Earthquake class (0-3)", "num", "Hazard"),
    ("natech_fault_km", "Nearest active fault (km)", "km", "Hazard"),
    ("natech_max_mw", "Largest earthquake nearby (Mw)", "num", "Hazard"),
    ("natech_flood", "Flood class (0-3)", "num", "Hazard"),
    ("source", "Main source", "source", "Sources"),
    ("source_id", "Record in that source", "text", "Sources"),
    ("source_url", "Source link", "url", "Sources"),
    ("source_refs", "All sources", "sources", "Sources"),
    ("licence", "Licence", "text", "Sources"),
    ("last_verified", "Last verified", "text", "Sources"),
    ("site_id", "riskmap site id", "text", "Sources"),
    ("notes", "Notes", "text", "Sources"),
)

#: Popup rows without their group: (column, label, kind) (older name).
POPUP_FIELDS: tuple[tuple[str, str, str], ...] = tuple(r[:3] for r in POPUP_ROWS)

#: Client-side site filters: (key, label) in display order.
FILTERS: tuple[tuple[str, str], ...] = (("category", "Kind"), ("exposure_class", "Exposure class"),
                                        ("status", "Status"), ("country", "Country"))

_EXPOSURE_ORDER = ("very high", "high", "medium", "low", "none", "outside basin")


# --------------------------------------------------------------------------
# Basemap layers
# --------------------------------------------------------------------------


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
        out["labels"] = [[float(x), float(y), (n if c != "XKX" else None) or country_name(c) or "",
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
        out["towns"] = _features(towns, {"n": _col(towns, "name"), "c": _col(towns, "country")}, 0)
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
    out["labels"] = [[float(x), float(y), (names.get(c) if c != "XKX" else None) or country_name(c) or str(c or ""),
                      r] for (x, y), c, r in zip(xy, iso, rip)]
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
    return {"n": df["name"].astype(str).tolist(), "c": [country_name(c) for c in df["country"]],
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


# --------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------


def _text_value(v: Any, sep: str = "; ") -> str | None:
    """One cell as display text: lists joined with ``sep``, dicts as ``k: v; ...``, JSON strings parsed."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str):
        t = v.strip()
        if t[:1] in "[{" and t[-1:] in "]}":
            try:
                return _text_value(json.loads(t), sep)
            except (ValueError, TypeError):
                return v
        return v if t else None
    if isinstance(v, Mapping):
        parts = []
        for k, x in v.items():
            if isinstance(x, float):
                x = "unknown" if math.isnan(x) else f"{x:.3g}"
            elif isinstance(x, Mapping):
                x = ", ".join(f"{a}={b}" for a, b in x.items())
            parts.append(f"{k}: {x}")
        return "; ".join(parts) or None
    if isinstance(v, (list, tuple, np.ndarray)):
        items = [_text_value(x, sep) for x in v]
        return sep.join(i for i in items if i) or None
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    return str(v)


def _encode(values: list[Any]) -> dict[str, Any] | None:
    """Compact column: dense ``v``, categorical ``c``/``k`` or sparse ``s``; None when all empty."""
    n = len(values)
    present = [i for i, v in enumerate(values) if v is not None]
    if not present:
        return None
    if len(present) < 0.4 * n:
        return {"s": {str(i): values[i] for i in present}}
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    if len(uniques) <= max(16, n // 4) and all(isinstance(u, str) for u in uniques):
        return {"c": codes.tolist(), "k": list(uniques)}
    return {"v": values}


_LOOKUPS: dict[str, Any] = {
    "category": lambda v: CATEGORY_LABELS.get(v.strip(), f"{v} (unknown kind)"),
    "status": lambda v: STATUS_LABELS.get(v.strip(), v),
    "precision": lambda v: PRECISION_LABELS.get(v.strip(), v),
    "country": country_name,
    "countries": countries_text,
    "source": source_name,
    "sources": sources_text,
}


def _km_range(s: pd.DataFrame) -> list[Any] | None:
    """``first_border_river_km_low``-``_high`` as text ("40-52 km") when both are known."""
    if "first_border_river_km_low" not in s.columns or "first_border_river_km_high" not in s.columns:
        return None
    lo = pd.to_numeric(s["first_border_river_km_low"], errors="coerce").round(0)
    hi = pd.to_numeric(s["first_border_river_km_high"], errors="coerce").round(0)
    ok = lo.notna() & hi.notna()
    text = lo.map("{:,.0f}".format).where(ok) + "\u2013" + hi.map("{:,.0f}".format).where(ok) + " km"
    return [v if isinstance(v, str) else None for v in text.tolist()]


def _site_column(s: pd.DataFrame, name: str, kind: str) -> list[Any] | None:
    if name == "first_border_km_range":
        return _km_range(s)
    if name not in s.columns:
        return None
    series = s[name]
    if kind in ("num", "km", "h", "int"):
        num = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        digits = {"km": 1, "h": 1, "int": 0}.get(kind, 4)
        vals = np.round(num, digits)
        return [None if not np.isfinite(v) else (int(v) if kind == "int" else float(v)) for v in vals]
    if kind == "bool":
        out: list[bool | None] = []
        for v in series.tolist():
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                out.append(None)
            elif isinstance(v, str):
                out.append(v.strip().lower() in ("true", "1", "yes"))
            else:
                out.append(bool(v))
        return out
    if kind in _LOOKUPS:
        look = _LOOKUPS[kind]
        return [None if _text_value(v) is None else look(v if kind in ("countries", "sources") else str(v))
                for v in series.tolist()]
    sep = " \u2192 " if name == "downstream_countries" else "; "
    return [_text_value(v, sep) for v in series.tolist()]


def _filter_data(s: pd.DataFrame) -> list[dict[str, Any]]:
    """Per filter: its values ``[code, label, count]`` and each site's value index (``idx``)."""
    out = []
    for key, label in FILTERS:
        if key not in s.columns:
            continue
        raw = s[key].astype("string").str.strip().replace("", pd.NA)
        missing = "not assessed" if key == "exposure_class" else "unknown"
        raw = raw.fillna(missing)
        counts = raw.value_counts()
        if key == "category":
            order = [c for c in CATEGORIES if c in counts.index]
        elif key == "status":
            order = [c for c in STATUS_LABELS if c in counts.index]
        elif key == "exposure_class":
            order = [c for c in _EXPOSURE_ORDER if c in counts.index]
        else:
            order = list(counts.index)  # most sites first
        order += sorted(c for c in counts.index if c not in order)
        names: list[str | None]
        if key == "category":
            names = [CATEGORY_LABELS.get(c, c) for c in order]
        elif key == "status":
            names = [STATUS_LABELS.get(c, c) for c in order]
        elif key == "country":
            names = [country_name(c) if c != "unknown" else c for c in order]
        else:
            names = list(order)
        code = {c: k for k, c in enumerate(order)}
        out.append({"key": key, "label": label, "values": [[c, n, int(counts[c])] for c, n in zip(order, names)],
                    "idx": raw.map(code).astype(int).tolist()})
    return out


def _colour_classes(s: pd.DataFrame, color_by: str) -> tuple[np.ndarray, list[str], list[str], str]:
    """Per-site class index, class labels, colours and the legend heading."""
    n = len(s)
    mode = color_by
    if mode == "auto":
        n_prio = int(pd.to_numeric(s["priority_score"], errors="coerce").notna().sum()) \
            if "priority_score" in s.columns else 0
        n_expo = int(s["exposure_class"].notna().sum()) if "exposure_class" in s.columns else 0
        if n_prio and n_prio >= 0.5 * n:
            mode = "priority"
        elif n_expo:
            mode = "exposure"
        elif n_prio:
            mode = "priority"
        else:
            mode = "none"
    if mode == "priority" and "priority_score" in s.columns:
        score = pd.to_numeric(s["priority_score"], errors="coerce")
        if "score_status" in s.columns:
            score = score.where(s["score_status"].astype("string").ne("insufficient data").fillna(True))
        pct = score.rank(ascending=False, method="min", pct=True).to_numpy()
        labels = [b[0] for b in _PRIORITY_BANDS] + ["not scored"]
        colours = [b[2] for b in _PRIORITY_BANDS] + [_UNKNOWN_COLOUR]
        cls = np.full(n, len(_PRIORITY_BANDS), dtype=int)
        for k in range(len(_PRIORITY_BANDS) - 1, -1, -1):
            cls[np.nan_to_num(pct, nan=2.0) <= _PRIORITY_BANDS[k][1]] = k
        return cls, labels, colours, "Hazard priority (share of scored sites on this map)"
    if mode == "exposure" and "exposure_class" in s.columns:
        raw = s["exposure_class"].astype("string").str.strip()
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        labels = [str(u) for u in uniques]
        known = list(_EXPOSURE_COLOURS)
        order = sorted(range(len(labels)), key=lambda k: (known.index(labels[k].lower())
                                                          if labels[k].lower() in known else len(known), labels[k]))
        labels = [labels[k] for k in order]
        remap = np.empty(len(order), dtype=int)
        remap[order] = np.arange(len(order))
        fallback = iter(_FALLBACK * 4)
        colours = [_EXPOSURE_COLOURS.get(lb.lower()) or next(fallback) for lb in labels]
        cls = np.where(codes < 0, len(labels), remap[np.clip(codes, 0, None)] if len(order) else 0)
        if (codes < 0).any():
            labels.append("not assessed")
            colours.append(_UNKNOWN_COLOUR)
        return cls.astype(int), labels, colours, "Exposure class"
    return np.zeros(n, dtype=int), ["site"], [_DEFAULT_COLOUR], ""


def _site_data(sites: gpd.GeoDataFrame, color_by: str) -> tuple[dict | None, dict | None, dict[str, Any]]:
    s = sites
    if s.crs is not None and not s.crs.equals("EPSG:4326"):
        s = s.to_crs("EPSG:4326")
    geom = s.geometry
    keep = ~(geom.isna() | geom.is_empty).to_numpy()
    s = s[keep]
    info: dict[str, Any] = {"n": 0, "dropped_no_geometry": int((~keep).sum())}
    if s.empty:
        return None, None, info
    g = s.geometry.to_numpy()
    is_point = shapely.get_type_id(g) == 0
    pts = np.where(is_point, g, shapely.point_on_surface(g))
    xy = np.round(shapely.get_coordinates(pts), 5)
    n = len(s)

    cls, labels, colours, heading = _colour_classes(s, color_by)
    cats = s["category"].astype("string").to_numpy(dtype=object, na_value=None) if "category" in s.columns \
        else np.full(n, None, dtype=object)
    shape_code = {c: _SHAPE_NAMES.index(shape) for c, shape in CATEGORY_SHAPES.items()}
    shape_idx = pd.Series(cats, dtype=object).map(shape_code).fillna(_SHAPE_NAMES.index("circle")) \
        .to_numpy(dtype=int)
    prec = s["coord_precision"].astype("string").to_numpy(dtype=object, na_value="") \
        if "coord_precision" in s.columns else np.full(n, "", dtype=object)
    hollow = np.isin(prec.astype(str), APPROXIMATE_PRECISIONS).astype(int)

    cols: dict[str, Any] = {}
    name = _site_column(s, "name", "text") or [None] * n
    cols["name"] = _encode([v if v is not None else "unnamed site" for v in name])
    why = _encode(why_texts(s))
    if why is not None:
        cols["why"] = why
    for field, _label, kind, _group in POPUP_ROWS:
        vals = _site_column(s, field, kind)
        if field == "source_url" and vals is not None:
            vals = [v if v and re.match(r"^https?://", v, flags=re.I) else None for v in vals]
        enc = _encode(vals) if vals is not None else None
        if enc is not None:
            cols[field] = enc
    if "country" in s.columns:  # raw codes for the downstream-path logic (the popup shows names)
        enc = _encode([v.strip() if isinstance(v, str) and v.strip() else None
                       for v in s["country"].astype("string").to_numpy(dtype=object, na_value=None)])
        if enc is not None:
            cols["country_code"] = enc
    if "reach_id" in s.columns:
        rid = pd.to_numeric(s["reach_id"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        enc = _encode([int(v) if np.isfinite(v) else None for v in rid])
        if enc is not None:
            cols["reach_id"] = enc
    fields = [[f, lb, k, g] for f, lb, k, g in POPUP_ROWS if f in cols and f not in ("source_url",)]
    n_ranked = int(pd.to_numeric(s["priority_rank"], errors="coerce").notna().sum()) \
        if "priority_rank" in s.columns else 0
    country_codes = s["country"].astype("string").fillna("") if "country" in s.columns else pd.Series([""] * n)
    enc_sites = {"n": n, "lon": xy[:, 0].tolist(), "lat": xy[:, 1].tolist(), "shape": shape_idx.tolist(),
                 "cls": cls.tolist(), "colors": colours, "hollow": hollow.tolist(), "cols": cols, "fields": fields,
                 "groups": list(POPUP_GROUPS), "nRanked": n_ranked, "filters": _filter_data(s),
                 "kosovo": bool(country_codes.str.contains("XKX").any())}
    lines = None
    if (~is_point).any():
        idx = np.flatnonzero(~is_point)
        sub = gpd.GeoDataFrame({"i": idx}, geometry=g[idx], crs="EPSG:4326")
        lines = _features(sub, {"i": idx.tolist(), "cl": cls[idx].tolist(), "h": hollow[idx].tolist()}, 0.0005)
    present_cls = sorted(set(cls.tolist()))
    info.update({"n": n, "heading": heading, "classes": [(labels[k], colours[k]) for k in present_cls],
                 "categories": sorted({c for c in cats if c}, key=lambda c: list(CATEGORIES).index(c)
                                      if c in CATEGORIES else 99),
                 "approximate": int(hollow.sum()), "lines": int((~is_point).sum())})
    return enc_sites, lines, info


# --------------------------------------------------------------------------
# Legend
# --------------------------------------------------------------------------


def _svg(shape: str, fill: str, stroke: str = "#222222", hollow: bool = False) -> str:
    d = SHAPE_PATHS[shape]
    if hollow:
        return (f'<svg class="rm-swatch" viewBox="0 0 20 20"><path d="{d}" fill="#ffffff" stroke="{fill}" '
                'stroke-width="2.6" stroke-dasharray="3 2"/></svg>')
    return f'<svg class="rm-swatch" viewBox="0 0 20 20"><path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/></svg>'


def _line(colour: str, width: float, dash: str | None = None) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<svg class="rm-swatch" viewBox="0 0 20 20"><line x1="1" y1="10" x2="19" y2="10" stroke="{colour}" '
            f'stroke-width="{width}"{dash_attr}/></svg>')


def _row(symbol: str, text: str) -> str:
    return f'<div class="rm-row">{symbol}<span>{_html.escape(text)}</span></div>'


def _legend_sites(info: Mapping[str, Any]) -> list[str]:
    """Legend rows of the sites: kinds (shape), colour classes, line and approximate sites."""
    parts = ["<h5>Sites: kind (shape)</h5>"]
    for c in info["categories"]:
        label = CATEGORY_LABELS[c] if c in CATEGORY_LABELS else f"{c} (unknown kind)"
        parts.append(_row(_svg(CATEGORY_SHAPES.get(c, "circle"), "#bbbbbb"), label))
    if info.get("heading"):
        parts.append(f"<h5>{_html.escape(info['heading'])} (colour)</h5>")
        for label, colour in info["classes"]:
            parts.append(_row(_svg("circle", colour), label))
    if info.get("lines"):
        parts.append(_row(_line("#555555", 3.5, "9 4"), "line site (pipeline), in its colour"))
    if info.get("approximate"):
        parts.append(_row(_svg("circle", "#555555", hollow=True),
                          "approximate location (" + " / ".join(APPROXIMATE_PRECISIONS) + ")"))
    return parts


def _legend_html(title: str, data: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    parts = [f"<details open><summary>{_html.escape(title)}</summary>"]
    if info.get("n"):
        parts += _legend_sites(info)
    parts.append("<h5>Basin</h5>")
    st = _STYLE
    if "outline" in data:
        parts.append(_row(_line("#3f007d", 2.5), "basin outline"))
    if "sub_basins" in data:
        parts.append(_row(_line("#6a51a3", 1.2, "4 3"), "sub-basin"))
    if "rivers" in data:
        parts.append(_row(_line(st["water"], 2.5), "river (width by order)"))
        parts.append(_row(_line(st["borderRiver"], 3.5), "border stretch of a river"))
    if "lakes" in data:
        parts.append(_row(_svg("square", st["lake"], st["water"]), "lake / reservoir"))
    if "dams" in data:
        parts.append(_row('<svg class="rm-swatch" viewBox="0 0 20 20"><circle cx="10" cy="10" r="5" fill="#08306b" '
                          'stroke="#fff" stroke-width="1.5"/></svg>', "large dam (hydropower)"))
    if "places" in data:
        parts.append(_row('<svg class="rm-swatch" viewBox="0 0 20 20"><circle cx="10" cy="10" r="3.5" fill="#fff" '
                          'stroke="#333" stroke-width="1.5"/></svg>', "town (more as you zoom in)"))
    if "faults" in data:
        parts.append(_row(_line("#8c2d04", 1.6), "active fault (layer control)"))
    if "quakes" in data:
        parts.append(_row('<svg class="rm-swatch" viewBox="0 0 20 20"><circle cx="10" cy="10" r="6" fill="#fc4e2a" '
                          'fill-opacity="0.45" stroke="#7f0000"/></svg>', "earthquake, size by magnitude (layer control)"))
    if "borders" in data:
        parts.append(_row(_line("#4a4a4a", 1.6), "international border"))
        parts.append(_row(_line("#4a4a4a", 1.6, "6 4"), "disputed border"))
    if info.get("n") and "rivers" in data and "reach_id" in data.get("sites", {}).get("cols", {}):
        parts.append(_row(_line("#ef6548", 4), "downstream path of transboundary sites"))
        parts.append(_row(_line("#d7301f", 6), "downstream path of the clicked site"))
        parts.append(_row('<svg class="rm-swatch" viewBox="0 0 20 20"><circle cx="10" cy="10" r="6" '
                          'fill="#ffeb3b" stroke="#000" stroke-width="2"/></svg>', "first border crossing"))
    kosovo = any("Kosovo*" in str(lb[2]) for lb in data.get("labels", [])) or \
        bool(data.get("sites", {}).get("kosovo"))
    parts.append('<div class="rm-caveat">Screening map: locations and scores are indicative; '
                 "see each site's source. Boundaries and names do not imply endorsement or acceptance."
                 + (f" {_html.escape(KOSOVO_NOTE)}" if kosovo else "") + "</div></details>")
    return "".join(parts)


# --------------------------------------------------------------------------
# Climate scenario layers (riskmap.natech.climate_scenarios columns; issue 19)
# --------------------------------------------------------------------------

#: Colours of the climate scenario classes 0..3 and of "no data".
CLIMATE_CLASS_COLOURS = {0: "#cccccc", 1: "#fdd49e", 2: "#fc8d59", 3: "#d7301f", None: "#969696"}


def climate_layers(sites: gpd.GeoDataFrame | None) -> list[tuple[str, dict[str, Any]]]:
    """One point layer per climate scenario column (``climate_<hazard>_<scenario>_class``).

    Returns
    -------
    list of (layer name, GeoJSON FeatureCollection)
        Features carry ``style`` (colour by class, grey for no data) and ``label``
        (HTML-escaped site name, value and class). Empty without climate columns.
    """
    if sites is None or not len(sites):
        return []
    cls_cols = [c for c in sites.columns if c.startswith("climate_") and c.endswith("_class")]
    if not cls_cols:
        return []
    s = sites.to_crs("EPSG:4326") if sites.crs is not None and not sites.crs.equals("EPSG:4326") else sites
    keep = ~(s.geometry.isna() | s.geometry.is_empty).to_numpy()
    s = s[keep]
    g = s.geometry.to_numpy()
    pts = np.where(shapely.get_type_id(g) == 0, g, shapely.point_on_surface(g))
    xy = np.round(shapely.get_coordinates(pts), 5)
    names = s["name"].astype("string").fillna("unnamed site").tolist() if "name" in s.columns else [""] * len(s)
    out = []
    for col in cls_cols:
        key = col[len("climate_"):-len("_class")]
        hazard, _, scen = key.partition("_")
        vals = pd.to_numeric(s.get(col[:-len("_class")]), errors="coerce").to_numpy(dtype=float)
        cls = pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=float)
        feats = []
        for (x, y), nm, v, k in zip(xy.tolist(), names, vals, cls):
            kk = int(k) if np.isfinite(k) else None
            txt = "no data" if not np.isfinite(v) else f"{v:.3g} (class {'unknown' if kk is None else kk})"
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                          "properties": {"label": _html.escape(f"{nm}: {txt}"),
                                         "style": {"color": "#222222", "weight": 1, "fillOpacity": 0.9,
                                                   "fillColor": CLIMATE_CLASS_COLOURS.get(kk, "#969696")}}})
        out.append((f"Climate: {hazard} {scen} (class)", {"type": "FeatureCollection", "features": feats}))
    return out
