"""The questionnaire fields: which hazard fields each category is asked, their units, vocabularies and local terms."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import unicodedata
from typing import Any

import pandas as pd

from riskmap._paths import DATA_DIR
from riskmap.i18n import LANGUAGES, N_, current_lang, pgettext, use_lang
from riskmap.schema import (
    CATEGORIES,
    COORD_PRECISIONS,
    DAM_CONDITIONS,
    STATUSES,
    TMF_CATEGORIES,
    WGK_CLASSES,
)

#: Substance rows offered per site.
N_SUBSTANCES = 3
#: The format version written to the hidden ``_meta`` sheet.
FORMAT_VERSION = "1"
SITES_CSV = DATA_DIR / "sites" / "sites.csv"


@dataclasses.dataclass(frozen=True)
class Field:
    """One input column of the questionnaire."""

    key: str
    kind: str  # number, text, list, date
    label: str  # English, marked for the catalogue; ``{k}`` is the substance number
    unit: str = ""
    vocabulary: tuple[str, ...] = ()
    lo: float = 0.0
    hi: float = 1e13
    number: int = 0  # the substance number of a substance field


def _substance_fields() -> list[Field]:
    out = []
    for k in range(1, N_SUBSTANCES + 1):
        out += [Field(f"substance_{k}_name", "text", N_("Substance {k}: name"), number=k),
                Field(f"substance_{k}_quantity_t", "number", N_("Substance {k}: quantity"), N_("t"), hi=1e9,
                      number=k),
                Field(f"substance_{k}_wgk", "list", N_("Substance {k}: WGK class (1, 2, 3, unknown)"), "",
                      WGK_CLASSES, number=k)]
    return out


#: Every input field, in sheet order.
FIELDS: dict[str, Field] = {f.key: f for f in [
    Field("status", "list", N_("Operating status"), "", tuple(STATUSES)),
    Field("tailings_volume_m3", "number", N_("Tailings volume"), N_("m3")),
    Field("tailings_area_ha", "number", N_("Tailings facility area"), N_("ha"), hi=1e6),
    Field("dam_height_m", "number", N_("Dam height"), N_("m"), hi=400),
    Field("tailings_type", "text", N_("Kind of tailings (e.g. Pb-Zn flotation)")),
    Field("dam_condition", "list", N_("Dam / facility condition"), "", DAM_CONDITIONS),
    Field("reservoir_volume_m3", "number", N_("Reservoir volume"), N_("m3")),
    Field("capacity_mw", "number", N_("Installed capacity"), N_("MW"), hi=1e5),
    Field("capacity_t_yr", "number", N_("Production / throughput capacity"), N_("t/yr"), hi=1e10),
    *_substance_fields(),
    Field("respondent_source", "text", N_("Your source for these values (document, register, inspection)")),
    Field("respondent_date", "date", N_("Date of the information (YYYY-MM-DD)")),
    Field("comment", "text", N_("Comment")),
]}
_SUBST = [f.key for f in _substance_fields()]
_ALWAYS = ["status", *_SUBST, "respondent_source", "respondent_date", "comment"]
_TAILINGS = ["tailings_volume_m3", "tailings_area_ha", "dam_height_m", "tailings_type", "dam_condition"]
#: Input fields asked per category (others: :data:`_DEFAULT_FIELDS`).
CATEGORY_FIELDS: dict[str, list[str]] = {
    **{c: _TAILINGS for c in TMF_CATEGORIES},
    "dam_reservoir": ["dam_height_m", "dam_condition", "reservoir_volume_m3", "capacity_mw"],
    "thermal_power_plant": ["capacity_mw", *_TAILINGS],
    "pipeline": ["capacity_t_yr"],
}
_DEFAULT_FIELDS = ["capacity_t_yr", *_TAILINGS]
#: Fixed (locked) columns of a site sheet.
FIXED = ["site_id", "name", "basin", "lon", "lat", "coord_precision", "inventory_status", "known_values",
         "inventory_source"]
#: Extra fixed-layout columns of the New sites sheet (all unlocked).
NEW_SITE_COLUMNS = ["new_site_name", "category", "lon", "lat", "coord_precision"]
_LABELS = {"site_id": N_("Site id (fixed, do not change)"), "name": N_("Name (fixed)"), "basin": N_("Basin (fixed)"),
           "lon": N_("Longitude (WGS84, decimal degrees)"), "lat": N_("Latitude (WGS84, decimal degrees)"),
           "coord_precision": N_("Coordinate precision"), "inventory_status": N_("Status in the inventory (fixed)"),
           "known_values": N_("Already known (value, source) (fixed)"),
           "inventory_source": N_("Inventory source (fixed)"),
           "new_site_name": N_("Name of the site"), "category": N_("Category")}

#: Category, status, condition and WGK words in the basin countries' languages (and English variants),
#: normalised (lower case, no accents, spaces -> _), understood on reading.
TERMS: dict[str, dict[str, str]] = {
    "status": {
        "u_radu": "operating", "aktivan": "operating", "aktivno": "operating", "radi": "operating",
        "ne_pune": "operating", "aktiv": "operating", "funksional": "operating", "deistvuiushchii": "operating",
        "active": "operating", "in_operation": "operating", "zatvoren": "closed", "zatvoreno": "closed",
        "mbyllur": "closed", "zakryt": "closed", "closed_down": "closed", "napusten": "abandoned",
        "napusteno": "abandoned", "braktisur": "abandoned", "zabroshen": "abandoned", "sanirano": "remediated",
        "saniran": "remediated", "rehabilituar": "remediated", "rekultivirovan": "remediated",
        "u_izgradnji": "under_construction", "ne_ndertim": "under_construction", "planiran": "planned",
        "planifikuar": "planned", "nepoznato": "unknown", "panjohur": "unknown", "neizvestno": "unknown",
    },
    "dam_condition": {
        "dobro": "good", "dobar": "good", "mire": "good", "e_mire": "good", "khoroshee": "good",
        "zadovoljavajuce": "fair", "srednje": "fair", "mesatare": "fair", "udovletvoritelnoe": "fair",
        "lose": "poor", "los": "poor", "keq": "poor", "e_keqe": "poor", "plokhoe": "poor", "bad": "poor",
        "srusena": "failed", "srusen": "failed", "razrushena": "failed", "nepoznato": "unknown",
        "panjohur": "unknown", "neizvestno": "unknown",
    },
    "category": {
        "jaloviste": "tailings_metal", "flotacijsko_jaloviste": "tailings_metal", "rudnik": "mine",
        "mine_shaft": "mine", "miniere": "mine", "minierë": "mine", "rudnik_uglja": "mine",
        "termoelektrana": "thermal_power_plant", "hidroelektrana": "dam_reservoir", "brana": "dam_reservoir",
        "akumulacija": "dam_reservoir", "dige": "dam_reservoir", "hidrocentral": "dam_reservoir",
        "topionica": "smelter_refinery", "shkrirje": "smelter_refinery", "hemijska_industrija": "chemical_plant",
        "deponija": "landfill", "pepeliste": "tailings_ash", "crveni_mulj": "tailings_red_mud",
        "khvostokhranilishche": "tailings_metal", "rudnik_urana": "tailings_uranium", "plotina": "dam_reservoir",
        "tec": "thermal_power_plant", "ges": "dam_reservoir", "shakhta": "mine", "karer": "mine",
    },
    "coord_precision": {"tocno": "exact", "precizno": "exact", "sakte": "exact", "priblizno": "approximate",
                        "perafersisht": "approximate", "grad": "town", "naselje": "town", "qytet": "town"},
    "wgk": {"wgk_1": "1", "wgk_2": "2", "wgk_3": "3", "wgk1": "1", "wgk2": "2", "wgk3": "3", "nwg": "unknown",
            "nepoznato": "unknown"},
}
_VOCAB = {"status": tuple(STATUSES), "dam_condition": DAM_CONDITIONS, "category": tuple(CATEGORIES),
          "coord_precision": tuple(COORD_PRECISIONS), "wgk": WGK_CLASSES}
_CYR = str.maketrans({"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "dj", "е": "e", "ё": "e", "ж": "zh",
                      "з": "z", "и": "i", "й": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n",
                      "њ": "nj", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "c", "у": "u", "ф": "f",
                      "х": "kh", "ц": "c", "ч": "ch", "џ": "dz", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
                      "ь": "", "э": "e", "ю": "iu", "я": "ia", "ѓ": "gj", "ќ": "kj", "ѕ": "dz"})


def _norm(text: Any) -> str:
    s = str(text).strip().lower().translate(_CYR).replace("đ", "dj").replace("ë", "e")
    s = "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def vocabulary_labels(kind: str) -> dict[str, str]:
    """The words a workbook offers for a list field, in the current language: code -> word.

    English workbooks offer the schema codes themselves (``tailings_metal``);
    other languages offer translated names (``Хвостохранилище (металлические руды)``),
    which :func:`vocabulary_lookup` maps back to the codes when a return is read.
    ``kind`` is a key of ``_VOCAB`` (``status``, ``dam_condition``, ``category``,
    ``coord_precision``, ``wgk``).
    """
    if current_lang() == "en":
        return {c: c for c in _VOCAB[kind]}
    return {c: _vocabulary_words()[kind].get(c, c) for c in _VOCAB[kind]}


def _vocabulary_words() -> dict[str, dict[str, str]]:
    """Translated names of the list values (the current language)."""
    return {
        "status": {
            "operating": pgettext("questionnaire list", "operating"),
            "closed": pgettext("questionnaire list", "closed (not remediated)"),
            "abandoned": pgettext("questionnaire list", "abandoned (no operator)"),
            "remediated": pgettext("questionnaire list", "remediated or under remediation"),
            "under_construction": pgettext("questionnaire list", "under construction"),
            "planned": pgettext("questionnaire list", "planned"),
            "unknown": pgettext("questionnaire list", "unknown"),
        },
        "dam_condition": {
            "good": pgettext("questionnaire list", "good"),
            "fair": pgettext("questionnaire list", "fair"),
            "poor": pgettext("questionnaire list", "poor"),
            "failed": pgettext("questionnaire list", "failed"),
            "unknown": pgettext("questionnaire list", "unknown"),
        },
        "category": {
            "tailings_metal": pgettext("questionnaire list", "Tailings facility (metal ore)"),
            "tailings_uranium": pgettext("questionnaire list", "Tailings or waste dump (uranium legacy)"),
            "tailings_red_mud": pgettext("questionnaire list", "Red mud basin (bauxite residue)"),
            "tailings_ash": pgettext("questionnaire list", "Ash and slag pond or landfill"),
            "mine": pgettext("questionnaire list", "Mine or mining district"),
            "smelter_refinery": pgettext("questionnaire list", "Smelter, metallurgical works or refinery"),
            "chemical_plant": pgettext("questionnaire list", "Chemical, fertiliser or pharmaceutical plant"),
            "oil_refinery_depot": pgettext("questionnaire list", "Oil refinery or depot"),
            "oil_gas_extraction": pgettext("questionnaire list", "Oil or gas field"),
            "pipeline": pgettext("questionnaire list", "Oil or gas pipeline"),
            "thermal_power_plant": pgettext("questionnaire list", "Thermal power plant"),
            "dam_reservoir": pgettext("questionnaire list", "Dam and reservoir"),
            "landfill": pgettext("questionnaire list", "Landfill or waste dump"),
            "other": pgettext("questionnaire list", "Other hazardous activity"),
        },
        "coord_precision": {
            "exact": pgettext("questionnaire list", "exact"),
            "approximate": pgettext("questionnaire list", "approximate"),
            "town": pgettext("questionnaire list", "nearest town"),
            "estimated": pgettext("questionnaire list", "estimated"),
        },
        "wgk": {"1": "1", "2": "2", "3": "3", "unknown": pgettext("questionnaire list", "unknown")},
    }


def vocabulary_lookup(kind: str) -> dict[str, str]:
    """Normalised word (code, or its name in any output language) -> code, for reading returns.

    Examples
    --------
    >>> vocabulary_lookup("category")[_norm("Хвостохранилище (металлические руды)")]
    'tailings_metal'
    >>> vocabulary_lookup("status")["operating"]
    'operating'
    """
    return dict(_lookup_cache()[kind])


@functools.cache
def _lookup_cache() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {k: {c: c for c in v} for k, v in _VOCAB.items()}
    for lang in LANGUAGES:  # English names too ("Tailings facility (metal ore)")
        with use_lang(lang):
            words = _vocabulary_words()
        for kind, by_code in words.items():
            for code, word in by_code.items():
                out[kind].setdefault(_norm(word), code)
    return out


# --------------------------------------------------------------------------- sites of a questionnaire


def questionnaire_sites(sites: pd.DataFrame, basin: str, country: str) -> pd.DataFrame:
    """The point sites of ``basin`` in ``country`` (the rows a questionnaire pre-fills), sorted by category, id."""
    sel = (sites["basin"] == basin) & (sites["country"] == country)
    out = sites[sel].copy()
    return out.sort_values(["category", "site_id"], kind="mergesort")


def _known(row: pd.Series, fields: list[str]) -> str:
    parts = []
    fs = json.loads(row["field_sources"]) if isinstance(row.get("field_sources"), str) else {}
    for f in [*fields, "substances"]:
        v = row.get(f)
        if v is None or (isinstance(v, float) and math.isnan(v)) or f in _SUBST:
            continue
        parts.append(f"{f} = {v:.6g}" if isinstance(v, float) else f"{f} = {v}")
        parts[-1] += f" ({fs.get(f, row.get('source'))})"
    from riskmap.i18n import _

    return "; ".join(parts) or _("nothing yet")
