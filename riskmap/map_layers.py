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

from riskmap.params import DEFAULT_LABEL
from riskmap.map_assets import (  # noqa: F401 - re-exported
    _ASSET_FOR,
    ASSETS_DIR,
    external_references,
    inline_assets,
)
from riskmap.i18n import N_, _, current_lang, pgettext, town_name
from riskmap.map_text import (
    CATEGORY_LABELS,
    STATUS_LABELS,
    category_label,
    countries_text,
    country_name,
    kosovo_note,
    number_text,
    precision_label,
    source_name,
    sources_text,
    status_label,
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
    (N_("top 10 %"), 0.10, "#67000d"),
    (N_("10-25 %"), 0.25, "#d7301f"),
    (N_("25-50 %"), 0.50, "#fc8d59"),
    (N_("lower 50 %"), 1.0, "#fdcc8a"),
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
POPUP_GROUPS: tuple[str, ...] = (N_("What it is"), N_("Exposure downstream"), N_("Hazard"), N_("Sources"))

#: Popup rows: (column, label, kind, group) in display order; only present, non-empty values are
#: shown. Kinds: text, km, h, num, int, bool, url, and the name look-ups category, status,
#: precision, country, countries, source, sources (codes become names in Python).
POPUP_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("category", N_("Kind"), "category", N_("What it is")),
    ("status", N_("Status"), "status", N_("What it is")),
    ("country", N_("Country"), "country", N_("What it is")),
    ("sub_basin", N_("Sub-basin"), "text", N_("What it is")),
    ("coord_precision", N_("Location"), "precision", N_("What it is")),
    ("substances", N_("Substances"), "text", N_("What it is")),
    ("tailings_volume_m3", N_("Tailings volume (m\u00b3)"), "int", N_("What it is")),
    ("tailings_area_ha", N_("Tailings area (ha)"), "num", N_("What it is")),
    ("dam_height_m", N_("Dam height (m)"), "num", N_("What it is")),
    ("tailings_type", N_("Tailings type"), "text", N_("What it is")),
    ("dam_condition", N_("Dam condition"), "text", N_("What it is")),
    ("reservoir_volume_m3", N_("Reservoir volume (m\u00b3)"), "int", N_("What it is")),
    ("capacity_mw", N_("Capacity (MW)"), "num", N_("What it is")),
    ("capacity_t_yr", N_("Capacity (t/yr)"), "int", N_("What it is")),
    ("exposure_class", N_("Exposure class"), "text", N_("Exposure downstream")),
    ("transboundary_downstream", N_("Water crosses a border downstream"), "bool", N_("Exposure downstream")),
    ("downstream_countries", N_("Countries downstream (flow order)"), "countries", N_("Exposure downstream")),
    ("first_border_river_km", N_("River km to the first border"), "km", N_("Exposure downstream")),
    ("first_border_km_range", N_("Range of that distance"), "text", N_("Exposure downstream")),
    ("travel_time_h", N_("Travel time to the first border"), "h", N_("Exposure downstream")),
    ("outlet_river_km", N_("River km to the basin outlet"), "km", N_("Exposure downstream")),
    ("continuation", N_("Beyond the outlet"), "text", N_("Exposure downstream")),
    ("on_border_water", N_("On a border river"), "bool", N_("Exposure downstream")),
    ("border_km", N_("Straight distance to a border"), "km", N_("Exposure downstream")),
    ("border_neighbour", N_("Nearest neighbouring country"), "country", N_("Exposure downstream")),
    ("downstream_pop_total", N_("People in towns downstream"), "int", N_("Exposure downstream")),
    ("snap_km", N_("Distance to the mapped river"), "km", N_("Exposure downstream")),
    ("river_km_basis", N_("How river km were measured"), "text", N_("Exposure downstream")),
    ("priority_rank", N_("Hazard priority rank in the basin"), "int", N_("Hazard")),
    ("rank_basis", N_("Rank based on"), "text", N_("Hazard")),
    ("priority_score", N_("Priority score (0-100)"), "num", N_("Hazard")),
    ("hazard_score", N_("Hazard score"), "num", N_("Hazard")),
    ("score_status", N_("Score status"), "text", N_("Hazard")),
    ("score_reason", N_("Why the score is limited"), "text", N_("Hazard")),
    ("params_label", N_("Scoring parameters"), "text", N_("Hazard")),
    ("completeness", N_("Data completeness (0-1)"), "num", N_("Hazard")),
    ("wri", N_("Water risk index (WRI)"), "num", N_("Hazard")),
    ("wri_band", N_("WRI band"), "text", N_("Hazard")),
    ("thi", N_("Tailings hazard index (THI)"), "num", N_("Hazard")),
    ("tri", N_("Tailings risk index (TRI)"), "num", N_("Hazard")),
    ("natech_seismic", N_("Earthquake class (0-3)"), "num", N_("Hazard")),
    ("natech_fault_km", N_("Nearest active fault (km)"), "km", N_("Hazard")),
    ("natech_max_mw", N_("Largest earthquake nearby (Mw)"), "num", N_("Hazard")),
    ("natech_flood", N_("Flood class (0-3)"), "num", N_("Hazard")),
    ("source", N_("Main source"), "source", N_("Sources")),
    ("source_id", N_("Record in that source"), "text", N_("Sources")),
    ("source_url", N_("Source link"), "url", N_("Sources")),
    ("source_refs", N_("All sources"), "sources", N_("Sources")),
    ("licence", N_("Licence"), "text", N_("Sources")),
    ("last_verified", N_("Last verified"), "text", N_("Sources")),
    ("site_id", N_("riskmap site id"), "text", N_("Sources")),
    ("notes", N_("Notes"), "text", N_("Sources")),
)

#: Popup rows without their group: (column, label, kind) (older name).
POPUP_FIELDS: tuple[tuple[str, str, str], ...] = tuple(r[:3] for r in POPUP_ROWS)

#: Client-side site filters: (key, label) in display order.
FILTERS: tuple[tuple[str, str], ...] = (("category", N_("Kind")), ("exposure_class", N_("Exposure class")),
                                        ("status", N_("Status")), ("country", N_("Country")))

def _value_names(column: str) -> dict[str, str]:
    """Display names, in the current language, of riskmap's exposure classes, river km bases and score statuses.

    Keys are the lower-cased values; other values (and other columns) are shown as they are.
    """
    if column == "exposure_class":
        return {"very high": pgettext("exposure class", "very high"), "high": pgettext("exposure class", "high"),
                "medium": pgettext("exposure class", "medium"), "low": pgettext("exposure class", "low"),
                "none": pgettext("exposure class", "none"), "outside": pgettext("exposure class", "outside"),
                "outside basin": pgettext("exposure class", "outside basin"),
                "not assessed": pgettext("exposure class", "not assessed")}
    if column == "river_km_basis":  # riskmap.exposure's explanations of how the river km were measured
        return {"river": pgettext("river km basis", "river"),
                "straight line to allocated reach + river (lower bound)": pgettext(
                    "river km basis", "straight line to allocated reach + river (lower bound)"),
                "border crossed off the mapped network: straight line to border (lower bound)": pgettext(
                    "river km basis", "border crossed off the mapped network: straight line to border (lower bound)"),
                "dem flow path from the site's cell + river": pgettext(
                    "river km basis", "DEM flow path from the site's cell + river"),
                "dem flow path from the site's cell (border crossed overland)": pgettext(
                    "river km basis", "DEM flow path from the site's cell (border crossed overland)")}
    if column == "rank_basis":  # riskmap.ranking.RANK_BASIS_DATA / RANK_BASIS_CATEGORY
        return {"site data": pgettext("rank basis", "site data"),
                "category screening": pgettext("rank basis", "category screening")}
    if column == "score_status":
        return {"scored": pgettext("score status", "scored"), "proxy": pgettext("score status", "proxy"),
                "insufficient data": pgettext("score status", "insufficient data")}
    if column == "params_label":  # the shipped defaults' label (riskmap.params.DEFAULT_LABEL); a user's own as written
        return {DEFAULT_LABEL.lower(): _(DEFAULT_LABEL)}
    return {}


def _value_name(column: str, value: Any) -> Any:
    """``value`` of ``column`` as shown on the map (see :func:`_value_names`); English keeps the value as is."""
    if current_lang() == "en" or not isinstance(value, str):
        return value
    return _value_names(column).get(value.strip().lower(), value)

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
                x = _("unknown") if math.isnan(x) else f"{x:.3g}"
            elif isinstance(x, Mapping):
                x = ", ".join(f"{a}={b}" for a, b in x.items())
            parts.append(f"{k}: {x}")
        return "; ".join(parts) or None
    if isinstance(v, (list, tuple, np.ndarray)):
        items = [_text_value(x, sep) for x in v]
        return sep.join(i for i in items if i) or None
    if isinstance(v, (bool, np.bool_)):
        return _("yes") if v else _("no")
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
    "category": category_label,
    "status": status_label,
    "precision": precision_label,
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
    ok = (lo.notna() & hi.notna()).to_numpy()
    msg = _("{low}\u2013{high} km")
    return [msg.format(low=number_text(a, 0), high=number_text(b, 0)) if k else None
            for a, b, k in zip(lo.to_numpy(), hi.to_numpy(), ok)]


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
    return [_value_name(name, _text_value(v, sep)) for v in series.tolist()]


def _filter_data(s: pd.DataFrame) -> list[dict[str, Any]]:
    """Per filter: its values ``[code, label, count]`` and each site's value index (``idx``)."""
    out = []
    for key, label in FILTERS:
        if key not in s.columns:
            continue
        raw = s[key].astype("string").str.strip().replace("", pd.NA)
        missing = "not assessed" if key == "exposure_class" else "unknown"  # codes; shown translated below
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
            names = [_(CATEGORY_LABELS[c]) if c in CATEGORY_LABELS else c for c in order]
        elif key == "status":
            names = [_(STATUS_LABELS[c]) if c in STATUS_LABELS else c for c in order]
        elif key == "country":
            names = [country_name(c) if c != "unknown" else _("unknown") for c in order]
        else:
            names = [_value_name(key, c) for c in order]
        code = {c: k for k, c in enumerate(order)}
        out.append({"key": key, "label": _(label), "values": [[c, n, int(counts[c])] for c, n in zip(order, names)],
                    "idx": raw.map(code).astype(int).tolist()})
    return out


def _colour_classes(s: pd.DataFrame, color_by: str) -> tuple[np.ndarray, list[str], list[str], str]:
    """Per-site class index, class labels, colours and the legend heading."""
    n = len(s)
    mode = color_by
    if mode == "auto":
        n_prio = int(pd.to_numeric(s["priority_score"], errors="coerce").notna().sum()) \
            if "priority_score" in s.columns else 0
        if "rank_basis" in s.columns:  # "auto" colours by priority when most ranks rest on site data
            n_prio = int(s["rank_basis"].astype("string").eq("site data").fillna(False).sum())
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
        if "priority_rank" in s.columns:  # the one ranking (riskmap.ranking): the ranked sites are coloured
            score = score.where(pd.to_numeric(s["priority_rank"], errors="coerce").notna())
        pct = score.rank(ascending=False, method="min", pct=True).to_numpy()
        labels = [_(b[0]) for b in _PRIORITY_BANDS] + [_("not ranked")]
        colours = [b[2] for b in _PRIORITY_BANDS] + [_UNKNOWN_COLOUR]
        cls = np.full(n, len(_PRIORITY_BANDS), dtype=int)
        for k in range(len(_PRIORITY_BANDS) - 1, -1, -1):
            cls[np.nan_to_num(pct, nan=2.0) <= _PRIORITY_BANDS[k][1]] = k
        return cls, labels, colours, _("Hazard priority (share of ranked sites on this map)")
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
        labels = [_value_name("exposure_class", lb) for lb in labels]
        if (codes < 0).any():
            labels.append(_value_name("exposure_class", "not assessed"))
            colours.append(_UNKNOWN_COLOUR)
        return cls.astype(int), labels, colours, _("Exposure class")
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
    xy = np.round(shapely.get_coordinates(np.where(is_point, g, shapely.point_on_surface(g))), 5)
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
    cols = _site_columns(s)
    fields = [[f, _(lb), k, g] for f, lb, k, g in POPUP_ROWS if f in cols and f not in ("source_url",)]
    # "k of N": N counts the ranked sites on the map (the one ranking, riskmap.ranking)
    n_ranked = int(pd.to_numeric(s["priority_rank"], errors="coerce").notna().sum()) \
        if "priority_rank" in s.columns else 0
    country_codes = s["country"].astype("string").fillna("") if "country" in s.columns else pd.Series([""] * n)
    enc_sites = {"n": n, "lon": xy[:, 0].tolist(), "lat": xy[:, 1].tolist(), "shape": shape_idx.tolist(),
                 "cls": cls.tolist(), "colors": colours, "hollow": hollow.tolist(), "cols": cols, "fields": fields,
                 "groups": list(POPUP_GROUPS), "nRanked": n_ranked, "filters": _filter_data(s),
                 "kosovo": bool(country_codes.str.contains("XKX").any())}
    if current_lang() != "en":  # the groups' names as shown (English: the keys themselves)
        enc_sites["groupNames"] = [_(g) for g in POPUP_GROUPS]
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


def _site_columns(s: pd.DataFrame) -> dict[str, Any]:
    """The encoded popup columns: name, "why it matters", the popup rows, raw country codes and reach ids."""
    n = len(s)
    cols: dict[str, Any] = {}
    name = _site_column(s, "name", "text") or [None] * n
    unnamed = _("unnamed site")
    cols["name"] = _encode([v if v is not None else unnamed for v in name])
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
    return cols


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


def _precision_words() -> dict[str, str]:
    """Short names of the approximate coordinate precisions, for the legend."""
    return {"town": pgettext("coordinate precision", "town"),
            "estimated": pgettext("coordinate precision", "estimated")}


def _legend_sites(info: Mapping[str, Any]) -> list[str]:
    """Legend rows of the sites: kinds (shape), colour classes, line and approximate sites."""
    heading = _("Sites: kind (shape)")
    parts = [f"<h5>{_html.escape(heading)}</h5>"]
    for c in info["categories"]:
        parts.append(_row(_svg(CATEGORY_SHAPES.get(c, "circle"), "#bbbbbb"), category_label(c)))
    if info.get("heading"):
        colour_heading = _("{heading} (colour)").format(heading=info["heading"])
        parts.append(f"<h5>{_html.escape(colour_heading)}</h5>")
        for label, colour in info["classes"]:
            parts.append(_row(_svg("circle", colour), label))
    if info.get("lines"):
        parts.append(_row(_line("#555555", 3.5, "9 4"), _("line site (pipeline), in its colour")))
    if info.get("approximate"):
        words = _precision_words()
        parts.append(_row(_svg("circle", "#555555", hollow=True), _("approximate location ({precisions})").format(
            precisions=" / ".join(words.get(p, p) for p in APPROXIMATE_PRECISIONS))))
    return parts


_DOT = '<svg class="rm-swatch" viewBox="0 0 20 20"><circle cx="10" cy="10" '


def _legend_html(title: str, data: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    parts = [f"<details open><summary>{_html.escape(title)}</summary>"]
    if info.get("n"):
        parts += _legend_sites(info)
    basin_heading = _("Basin")
    parts.append(f"<h5>{_html.escape(basin_heading)}</h5>")
    st = _STYLE
    if "outline" in data:
        parts.append(_row(_line("#3f007d", 2.5), _("basin outline")))
    if "sub_basins" in data:
        parts.append(_row(_line("#6a51a3", 1.2, "4 3"), _("sub-basin")))
    if "rivers" in data:
        parts.append(_row(_line(st["water"], 2.5), _("river (width by order)")))
        parts.append(_row(_line(st["borderRiver"], 3.5), _("border stretch of a river")))
    if "lakes" in data:
        parts.append(_row(_svg("square", st["lake"], st["water"]), _("lake / reservoir")))
    if "dams" in data:
        parts.append(_row(_DOT + 'r="5" fill="#08306b" stroke="#fff" stroke-width="1.5"/></svg>',
                          _("large dam (hydropower)")))
    if "places" in data:
        parts.append(_row(_DOT + 'r="3.5" fill="#fff" stroke="#333" stroke-width="1.5"/></svg>',
                          _("town (more as you zoom in)")))
    if "faults" in data:
        parts.append(_row(_line("#8c2d04", 1.6), _("active fault (layer control)")))
    if "quakes" in data:
        parts.append(_row(_DOT + 'r="6" fill="#fc4e2a" fill-opacity="0.45" stroke="#7f0000"/></svg>',
                          _("earthquake, size by magnitude (layer control)")))
    if "borders" in data:
        parts.append(_row(_line("#4a4a4a", 1.6), _("international border")))
        parts.append(_row(_line("#4a4a4a", 1.6, "6 4"), _("disputed border")))
    if info.get("n") and "rivers" in data and "reach_id" in data.get("sites", {}).get("cols", {}):
        parts.append(_row(_line("#ef6548", 4), _("downstream path of transboundary sites")))
        parts.append(_row(_line("#d7301f", 6), _("downstream path of the clicked site")))
        parts.append(_row(_DOT + 'r="6" fill="#ffeb3b" stroke="#000" stroke-width="2"/></svg>',
                          _("first border crossing")))
    kosovo_label = country_name("XKX") or "Kosovo*"
    kosovo = any(kosovo_label in str(lb[2]) for lb in data.get("labels", [])) or \
        bool(data.get("sites", {}).get("kosovo"))
    caveat = _("Screening map: locations and scores are indicative; see each site's source. Boundaries and "
               "names do not imply endorsement or acceptance.")
    parts.append(f'<div class="rm-caveat">{_html.escape(caveat, quote=False)}'
                 + (f" {_html.escape(kosovo_note())}" if kosovo else "") + "</div></details>")
    return "".join(parts)


# --------------------------------------------------------------------------
# Climate scenario layers (riskmap.natech.climate_scenarios columns; issue 19)
# --------------------------------------------------------------------------

#: Colours of the climate scenario classes 0..3 and of "no data".
CLIMATE_CLASS_COLOURS = {0: "#cccccc", 1: "#fdd49e", 2: "#fc8d59", 3: "#d7301f", None: "#969696"}


def _sig3(v: float) -> str:
    """``v`` to 3 significant digits (``f"{v:.3g}"``), with a decimal comma outside English."""
    text = f"{v:.3g}"
    return text if current_lang() == "en" else text.replace(".", ",")


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
    names = s["name"].astype("string").fillna(_("unnamed site")).tolist() if "name" in s.columns else [""] * len(s)
    no_data = _("no data")
    out = []
    for col in cls_cols:
        key = col[len("climate_"):-len("_class")]
        hazard, _sep, scen = key.partition("_")
        vals = pd.to_numeric(s.get(col[:-len("_class")]), errors="coerce").to_numpy(dtype=float)
        cls = pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=float)
        feats = []
        for (x, y), nm, v, k in zip(xy.tolist(), names, vals, cls):
            kk = int(k) if np.isfinite(k) else None
            txt = no_data if not np.isfinite(v) else _("{value} (class {cls})").format(
                value=_sig3(v), cls=_("unknown") if kk is None else kk)
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                          "properties": {"label": _html.escape(f"{nm}: {txt}"),
                                         "style": {"color": "#222222", "weight": 1, "fillOpacity": 0.9,
                                                   "fillColor": CLIMATE_CLASS_COLOURS.get(kk, "#969696")}}})
        name = _("Climate: {hazard} {scenario} (class)").format(hazard=hazard, scenario=scen)
        out.append((name, {"type": "FeatureCollection", "features": feats}))
    return out
