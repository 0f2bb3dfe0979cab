"""Human names for the report: categories, statuses, precisions, score terms, fields and sources.

The report speaks the reader's language, not the schema's: ``tailings_metal``
is "metal-ore tailings facility", ``gem-ghpt`` is the title of the Global
Hydropower Tracker, ``reservoir_volume_m3`` is "reservoir volume (m³)".
Unknown codes fall back to the code with underscores turned into spaces, so
a new category never shows a snake_case identifier.

The tables hold the English names (marked with ``N_``); the functions return
them in the current output language (:func:`riskmap.i18n.use_lang`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskmap.i18n import N_, _, ngettext, pgettext
from riskmap.schema import CATEGORIES

__all__ = ["CATEGORY_NAMES", "CATEGORY_PLURALS", "STATUS_NAMES", "PRECISION_NAMES", "SCORE_STATUS_NAMES",
           "DRAINAGE_NAMES", "FIELD_NAMES", "TERM_NAMES", "category_name", "category_plural", "status_name",
           "precision_name", "score_status_name", "drainage_name", "field_name", "term_name", "source_name",
           "exposure_name", "category_help", "CATEGORY_HELP", "plain"]

#: Category code -> name in a sentence or table cell.
CATEGORY_NAMES: dict[str, str] = {
    "tailings_metal": N_("metal-ore tailings facility"),
    "tailings_uranium": N_("uranium tailings or waste dump"),
    "tailings_red_mud": N_("red mud (bauxite residue) basin"),
    "tailings_ash": N_("ash and slag pond"),
    "mine": N_("mine"),
    "smelter_refinery": N_("smelter or metallurgical plant"),
    "chemical_plant": N_("chemical plant"),
    "oil_refinery_depot": N_("oil refinery or depot"),
    "oil_gas_extraction": N_("oil or gas field"),
    "pipeline": N_("oil or gas pipeline"),
    "thermal_power_plant": N_("thermal power plant"),
    "dam_reservoir": N_("dam and reservoir"),
    "landfill": N_("landfill or waste dump"),
    "other": N_("other hazardous activity"),
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
    "operating": N_("operating"), "closed": N_("closed"), "abandoned": N_("abandoned"), "remediated": N_("remediated"),
    "under_construction": N_("under construction"), "planned": N_("planned"), "unknown": N_("not known"),
}

PRECISION_NAMES: dict[str, str] = {
    "exact": N_("exact (about 100 m)"), "approximate": N_("approximate (a few km)"), "town": N_("nearest town"),
    "estimated": N_("estimated"),
}

SCORE_STATUS_NAMES: dict[str, str] = {
    "scored": N_("site data"), "proxy": N_("site data, gaps estimated"), "insufficient data": N_("insufficient data"),
}

DRAINAGE_NAMES: dict[str, str] = {
    "river snap": N_("nearest mapped river"), "basin allocation": N_("allocated to its sub-basin"),
    "dem flow path": N_("terrain flow path (DEM)"), "none": N_("not found"),
}

#: Input field -> human name.
FIELD_NAMES: dict[str, str] = {
    "status": N_("operating status"), "substances": N_("substances stored or handled"),
    "tailings_volume_m3": N_("tailings volume (m³)"), "tailings_area_ha": N_("tailings area (ha)"),
    "dam_height_m": N_("dam height (m)"), "dam_condition": N_("dam condition"),
    "reservoir_volume_m3": N_("reservoir volume (m³)"), "capacity_mw": N_("capacity (MW)"),
    "capacity_t_yr": N_("production capacity (t/year)"), "tailings_type": N_("tailings type"),
    "coord_precision": N_("location precision"),
}

#: Score term -> human name (annex of the ranking).
TERM_NAMES: dict[str, str] = {
    "priority_hazard_part": N_("hazard part of the priority score"),
    "priority_exposure_part": N_("exposure part of the priority score"),
    "hazard_score": N_("hazard score (0-1)"), "exposure_score": N_("exposure score (0-1)"),
    "wri": N_("Water Risk Index"), "thi": N_("Tailings Hazard Index"), "tri": N_("Tailings Risk Index"),
    "natech_seismic": N_("earthquake (Natech) class"), "natech_flood": N_("flood (Natech) class"),
    "natech_fault_km": N_("distance to an active fault (km)"), "natech_water_km": N_("distance to a river or lake (km)"),
    "natech_max_mw": N_("largest historical earthquake nearby (Mw)"),
    "category_default": N_("typical hazard of the category"),
}

#: Category code -> what it covers: ``riskmap.schema.CATEGORIES`` (marked for translation there);
#: :func:`category_help` shows it in the output language.
CATEGORY_HELP: dict[str, str] = CATEGORIES

_SOURCE_FALLBACK: dict[str, str] = {
    "literature": N_("Literature-documented hazardous sites (riskmap compilation)"),
    "gem-trackers": N_("Global Energy Monitor trackers (dams and hydropower)"),
    "geodar-dams": N_("GeoDAR georeferenced global dams and reservoirs"),
    "gshhg-wdbii-rivers": N_("GSHHG / WDBII rivers and borders"),
    "natural-earth-10m-admin0-v5.1.2": N_("Natural Earth 1:10m admin-0 countries (v5.1.2)"),
    "natural-earth-10m-physical-v4.0.0": N_("Natural Earth 1:10m physical (rivers and lakes, v4.0.0)"),
    "natural-earth-10m-populated-places": N_("Natural Earth 1:10m populated places"),
    "tfdd-international-basins": N_("Transboundary Freshwater Dispute Database international basins"),
    "hydrosheds": N_("HydroSHEDS / HydroRIVERS"),
    "geonames": N_("GeoNames populated places"),
}


#: Category code -> its count in words, in the current language (three plural forms in Russian).
_CATEGORY_COUNTS: dict[str, Callable[[int], str]] = {
    "tailings_metal": lambda n: ngettext("%(n)s metal-ore tailings facility", "%(n)s metal-ore tailings facilities", n),
    "tailings_uranium": lambda n: ngettext("%(n)s uranium tailings or waste dump",
                                           "%(n)s uranium tailings sites or waste dumps", n),
    "tailings_red_mud": lambda n: ngettext("%(n)s red mud (bauxite residue) basin", "%(n)s red mud basins", n),
    "tailings_ash": lambda n: ngettext("%(n)s ash and slag pond", "%(n)s ash and slag ponds", n),
    "mine": lambda n: ngettext("%(n)s mine", "%(n)s mines", n),
    "smelter_refinery": lambda n: ngettext("%(n)s smelter or metallurgical plant",
                                           "%(n)s smelters or metallurgical plants", n),
    "chemical_plant": lambda n: ngettext("%(n)s chemical plant", "%(n)s chemical plants", n),
    "oil_refinery_depot": lambda n: ngettext("%(n)s oil refinery or depot", "%(n)s oil refineries or depots", n),
    "oil_gas_extraction": lambda n: ngettext("%(n)s oil or gas field", "%(n)s oil or gas fields", n),
    "pipeline": lambda n: ngettext("%(n)s oil or gas pipeline", "%(n)s oil or gas pipelines", n),
    "thermal_power_plant": lambda n: ngettext("%(n)s thermal power plant", "%(n)s thermal power plants", n),
    "dam_reservoir": lambda n: ngettext("%(n)s dam and reservoir", "%(n)s dams and reservoirs", n),
    "landfill": lambda n: ngettext("%(n)s landfill or waste dump", "%(n)s landfills or waste dumps", n),
    "other": lambda n: ngettext("%(n)s other hazardous activity", "%(n)s other hazardous activities", n),
}


def _exposure_names() -> dict[str, str]:
    """Exposure class -> name in the current language (``riskmap.exposure.EXPOSURE_CLASSES``)."""
    return {"very high": pgettext("exposure class", "very high"), "high": pgettext("exposure class", "high"),
            "medium": pgettext("exposure class", "medium"), "moderate": pgettext("exposure class", "moderate"),
            "low": pgettext("exposure class", "low"), "outside": pgettext("exposure class", "outside"),
            "none": pgettext("exposure class", "none"), "unknown": _("unknown")}


def _fallback(code: Any) -> str:
    return str(code).replace("_", " ").strip() or _("not known")


def _lookup(table: Mapping[str, str], code: Any) -> str:
    if code is None or (isinstance(code, float) and code != code):
        return _("not known")
    hit = table.get(str(code))
    return _(hit) if hit is not None else _fallback(code)


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
    count = _CATEGORY_COUNTS.get(str(code))
    if count is not None:
        return count(n) % {"n": n}
    return f"{n} {_fallback(code)}"


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
        return _(TERM_NAMES[code])
    for prefix, what in (("thi_", N_("Tailings Hazard Index")), ("tri_", N_("Tailings Risk Index")),
                         ("exp_", N_("exposure")), ("priority_", N_("priority")),
                         ("wri_", N_("Water Risk Index"))):
        if code.startswith(prefix):
            return f"{_(what)}: {_fallback(code[len(prefix):])}"
    return _fallback(code)


def source_name(code: Any, titles: Mapping[str, str] | None = None) -> str:
    """Title of a data source (from the provenance files), else a readable fallback."""
    if titles and str(code) in titles and titles[str(code)]:
        return str(titles[str(code)])
    hit = _SOURCE_FALLBACK.get(str(code))
    return _(hit) if hit is not None else str(code)


def category_help(code: Any) -> str:
    """What a category covers (``riskmap.schema.CATEGORIES``), in the current language where translated."""
    text = CATEGORY_HELP.get(str(code), _fallback(code))
    return _(text) if text else text


def exposure_name(code: Any) -> str:
    """Name of an exposure class (``very high`` ... ``outside``) in the current language; others as given.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> exposure_name("very high")
    'very high'
    >>> with use_lang("ru"):
    ...     exposure_name("very high")
    'очень высокий'
    """
    if code is None or (isinstance(code, float) and code != code):
        return _("unknown")
    return _exposure_names().get(str(code), str(code))


def plain(value: Any) -> str:
    """A vocabulary value shown as words (``metal_pb_zn`` -> ``metal pb zn``)."""
    return _fallback(value)
