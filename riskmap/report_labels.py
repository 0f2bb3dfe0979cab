"""Human names for the report: categories, statuses, precisions, score terms, fields and sources.

The report speaks the reader's language, not the schema's: ``tailings_metal``
is "metal-ore tailings facility", ``gem-ghpt`` is the title of the Global
Hydropower Tracker, ``reservoir_volume_m3`` is "reservoir volume (m³)".
Unknown codes fall back to the code with underscores turned into spaces, so
a new category never shows a snake_case identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CATEGORY_NAMES", "CATEGORY_PLURALS", "STATUS_NAMES", "PRECISION_NAMES", "SCORE_STATUS_NAMES",
           "DRAINAGE_NAMES", "FIELD_NAMES", "TERM_NAMES", "category_name", "category_plural", "status_name",
           "precision_name", "score_status_name", "drainage_name", "field_name", "term_name", "source_name",
           "plain"]

#: Category code -> name in a sentence or table cell.
CATEGORY_NAMES: dict[str, str] = {
    "tailings_metal": "metal-ore tailings facility",
    "tailings_uranium": "uranium tailings or waste dump",
    "tailings_red_mud": "red mud (bauxite residue) basin",
    "tailings_ash": "ash and slag pond",
    "mine": "mine",
    "smelter_refinery": "smelter or metallurgical plant",
    "chemical_plant": "chemical plant",
    "oil_refinery_depot": "oil refinery or depot",
    "oil_gas_extraction": "oil or gas field",
    "pipeline": "oil or gas pipeline",
    "thermal_power_plant": "thermal power plant",
    "dam_reservoir": "dam and reservoir",
    "landfill": "landfill or waste dump",
    "other": "other hazardous activity",
}

#: Category code -> plural (for counts in sentences).
CATEGORY_PLURALS: dict[str, str] = {
    "tailings_metal": "metal-ore tailings facilities",
    "tailings_uranium": "uranium tailings sites or waste dumps",
    "tailings_red_mud": "red mud basins",
    "tailings_ash": "ash and slag ponds",
    "mine": "mines",
    "smelter_refinery": "smelters or metallurgical plants",
    "chemical_plant": "chemical plants",
    "oil_refinery_depot": "oil refineries or depots",
    "oil_gas_extraction": "oil or gas fields",
    "pipeline": "oil or gas pipelines",
    "thermal_power_plant": "thermal power plants",
    "dam_reservoir": "dams and reservoirs",
    "landfill": "landfills or waste dumps",
    "other": "other hazardous activities",
}

STATUS_NAMES: dict[str, str] = {
    "operating": "operating", "closed": "closed", "abandoned": "abandoned", "remediated": "remediated",
    "under_construction": "under construction", "planned": "planned", "unknown": "not known",
}

PRECISION_NAMES: dict[str, str] = {
    "exact": "exact (about 100 m)", "approximate": "approximate (a few km)", "town": "nearest town",
    "estimated": "estimated",
}

SCORE_STATUS_NAMES: dict[str, str] = {
    "scored": "site data", "proxy": "site data, gaps estimated", "insufficient data": "insufficient data",
}

DRAINAGE_NAMES: dict[str, str] = {
    "river snap": "nearest mapped river", "basin allocation": "allocated to its sub-basin",
    "dem flow path": "terrain flow path (DEM)", "none": "not found",
}

#: Input field -> human name.
FIELD_NAMES: dict[str, str] = {
    "status": "operating status", "substances": "substances stored or handled",
    "tailings_volume_m3": "tailings volume (m³)", "tailings_area_ha": "tailings area (ha)",
    "dam_height_m": "dam height (m)", "dam_condition": "dam condition",
    "reservoir_volume_m3": "reservoir volume (m³)", "capacity_mw": "capacity (MW)",
    "capacity_t_yr": "production capacity (t/year)", "tailings_type": "tailings type",
    "coord_precision": "location precision",
}

#: Score term -> human name (annex of the ranking).
TERM_NAMES: dict[str, str] = {
    "priority_hazard_part": "hazard part of the priority score",
    "priority_exposure_part": "exposure part of the priority score",
    "hazard_score": "hazard score (0-1)", "exposure_score": "exposure score (0-1)",
    "wri": "Water Risk Index", "thi": "Tailings Hazard Index", "tri": "Tailings Risk Index",
    "natech_seismic": "earthquake (Natech) class", "natech_flood": "flood (Natech) class",
    "natech_fault_km": "distance to an active fault (km)", "natech_water_km": "distance to a river or lake (km)",
    "natech_max_mw": "largest historical earthquake nearby (Mw)",
    "category_default": "typical hazard of the category",
}

_SOURCE_FALLBACK: dict[str, str] = {
    "literature": "Literature-documented hazardous sites (riskmap compilation)",
    "gem-trackers": "Global Energy Monitor trackers (dams and hydropower)",
    "geodar-dams": "GeoDAR georeferenced global dams and reservoirs",
    "gshhg-wdbii-rivers": "GSHHG / WDBII rivers and borders",
    "natural-earth-10m-admin0-v5.1.2": "Natural Earth 1:10m admin-0 countries (v5.1.2)",
    "natural-earth-10m-physical-v4.0.0": "Natural Earth 1:10m physical (rivers and lakes, v4.0.0)",
    "natural-earth-10m-populated-places": "Natural Earth 1:10m populated places",
    "tfdd-international-basins": "Transboundary Freshwater Dispute Database international basins",
    "hydrosheds": "HydroSHEDS / HydroRIVERS",
    "geonames": "GeoNames populated places",
}


def _fallback(code: Any) -> str:
    return str(code).replace("_", " ").strip() or "not known"


def _lookup(table: Mapping[str, str], code: Any) -> str:
    if code is None or (isinstance(code, float) and code != code):
        return "not known"
    return table.get(str(code), _fallback(code))


def category_name(code: Any) -> str:
    """Name of a site category.

    Examples
    --------
    >>> category_name("tailings_metal")
    'metal-ore tailings facility'
    >>> category_name("new_kind")
    'new kind'
    """
    return _lookup(CATEGORY_NAMES, code)


def category_plural(code: Any, n: int) -> str:
    """``"1 mine"``, ``"3 mines"``.

    Examples
    --------
    >>> category_plural("dam_reservoir", 2)
    '2 dams and reservoirs'
    """
    return f"{n} {category_name(code) if n == 1 else CATEGORY_PLURALS.get(str(code), _fallback(code))}"


def status_name(code: Any) -> str:
    """Name of an operating status (``under_construction`` -> ``under construction``)."""
    return _lookup(STATUS_NAMES, code)


def precision_name(code: Any) -> str:
    """Name of a coordinate precision."""
    return _lookup(PRECISION_NAMES, code)


def score_status_name(code: Any) -> str:
    """What a score rests on (``proxy`` -> ``site data, gaps estimated``)."""
    return _lookup(SCORE_STATUS_NAMES, code)


def drainage_name(code: Any) -> str:
    """How a site's drainage was found."""
    return _lookup(DRAINAGE_NAMES, code)


def field_name(code: Any) -> str:
    """Name of an input field (``reservoir_volume_m3`` -> ``reservoir volume (m³)``)."""
    return _lookup(FIELD_NAMES, code)


def term_name(code: Any) -> str:
    """Name of a score term; ``thi_*``/``tri_*``/``exp_*`` parts read as words."""
    code = str(code)
    if code in TERM_NAMES:
        return TERM_NAMES[code]
    for prefix, what in (("thi_", "Tailings Hazard Index"), ("tri_", "Tailings Risk Index"),
                         ("exp_", "exposure"), ("priority_", "priority"), ("wri_", "Water Risk Index")):
        if code.startswith(prefix):
            return f"{what}: {_fallback(code[len(prefix):])}"
    return _fallback(code)


def source_name(code: Any, titles: Mapping[str, str] | None = None) -> str:
    """Title of a data source (from the provenance files), else a readable fallback."""
    if titles and str(code) in titles and titles[str(code)]:
        return str(titles[str(code)])
    return _SOURCE_FALLBACK.get(str(code), str(code))


def plain(value: Any) -> str:
    """A vocabulary value shown as words (``metal_pb_zn`` -> ``metal pb zn``)."""
    return _fallback(value)
