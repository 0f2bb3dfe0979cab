"""Human text for the basin maps: names instead of codes, and a short "why it matters" per site.

Used by :mod:`riskmap.map_sites`, :mod:`riskmap.map_basemap` and :mod:`riskmap.map_legend`;
every string produced here is data (escaped by the map's JavaScript when shown), never markup.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmap._iso3 import KOSOVO_NOTE as _KOSOVO_NOTE
from riskmap._iso3 import kosovo_note
from riskmap._text import is_missing
from riskmap.basins import reference_name_label
from riskmap.i18n import N_, _, current_lang, format_number, ngettext
from riskmap.i18n import country_name as _country_name

__all__ = ["CATEGORY_LABELS", "STATUS_LABELS", "PRECISION_LABELS", "SOURCE_NAMES", "KOSOVO_NOTE",
           "category_label", "status_label", "precision_label", "kosovo_note", "number_text",
           "basin_display_name", "js_catalogue", "JS_RUNTIME",
           "country_name", "countries_text", "source_name", "sources_text", "why_texts"]

#: Short display names of the site categories.
CATEGORY_LABELS: dict[str, str] = {
    "tailings_metal": N_("Tailings facility (metal ore)"),
    "tailings_uranium": N_("Tailings or waste dump (uranium legacy)"),
    "tailings_red_mud": N_("Red mud basin (bauxite residue)"),
    "tailings_ash": N_("Ash and slag pond or landfill"),
    "mine": N_("Mine or mining district"),
    "smelter_refinery": N_("Smelter, metallurgical works or refinery"),
    "chemical_plant": N_("Chemical, fertiliser or pharmaceutical plant"),
    "oil_refinery_depot": N_("Oil refinery or depot"),
    "oil_gas_extraction": N_("Oil or gas field"),
    "pipeline": N_("Oil or gas pipeline"),
    "thermal_power_plant": N_("Thermal power plant"),
    "dam_reservoir": N_("Dam and reservoir"),
    "landfill": N_("Landfill or waste dump"),
    "other": N_("Other hazardous activity"),
}

#: Display names of the operating statuses.
STATUS_LABELS: dict[str, str] = {
    "operating": N_("Operating"),
    "closed": N_("Closed (not remediated)"),
    "abandoned": N_("Abandoned (no operator)"),
    "remediated": N_("Remediated or under remediation"),
    "under_construction": N_("Under construction"),
    "planned": N_("Planned"),
    "unknown": N_("Status unknown"),
}

#: Display text of the coordinate precisions.
PRECISION_LABELS: dict[str, str] = {
    "exact": N_("exact (the facility, about 100 m)"),
    "approximate": N_("approximate (within a few km)"),
    "town": N_("nearest town, not the facility"),
    "estimated": N_("estimated, check before use"),
}

#: Display names of the inventory sources (``source`` column and ``source_refs`` prefixes).
SOURCE_NAMES: dict[str, str] = {
    "fineprint": "FINEPRINT global mining compilation",
    "gem-gcpt": "Global Energy Monitor, Global Coal Plant Tracker",
    "gem-ggit": "Global Energy Monitor, Global Gas Infrastructure Tracker",
    "gem-ghpt": "Global Energy Monitor, Global Hydropower Tracker",
    "gem-giomt": "Global Energy Monitor, Global Iron Ore Mines Tracker",
    "gem-gist": "Global Energy Monitor, Global Iron and Steel Tracker",
    "gem-gogpt": "Global Energy Monitor, Global Oil and Gas Plant Tracker",
    "gem-goit": "Global Energy Monitor, Global Oil Infrastructure Tracker",
    "gem-goget": "Global Energy Monitor, Global Oil and Gas Extraction Tracker",
    "gem-gmet": "Global Energy Monitor, Global Methane Emitters Tracker",
    "geodar": "GeoDAR dams and reservoirs",
    "grand": "GRanD reservoirs and dams",
    "icmm": "ICMM Global Mining Dataset",
    "literature": N_("Published literature"),
    "usgs-pge-ni-cr": "USGS nickel, chromium and PGE deposit index",
    "wri-gppd": "WRI Global Power Plant Database",
    "geonames": "GeoNames",
}

#: The note that goes with every map that names Kosovo (same wording as the report).
KOSOVO_NOTE = _KOSOVO_NOTE  # the one text, riskmap._iso3


_missing = is_missing

def basin_display_name(name: Any) -> str:
    """A basin's display name in the current language (:func:`riskmap.basins.reference_name_label`).

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     basin_display_name("Syr Darya"), basin_display_name("Lake Nowhere")
    ('Сырдарья', 'Lake Nowhere')
    """
    return reference_name_label(str(name))


def category_label(code: Any) -> str:
    """Display name of a category code in the current language (unknown codes: ``"<code> (unknown kind)"``).

    Examples
    --------
    >>> category_label("mine"), category_label("volcano")
    ('Mine or mining district', 'volcano (unknown kind)')
    """
    key = str(code).strip()
    if key in CATEGORY_LABELS:
        return _(CATEGORY_LABELS[key])
    return _("{code} (unknown kind)").format(code=code)


def status_label(code: Any) -> str:
    """Display name of a status code in the current language (unknown codes as given)."""
    code = str(code).strip()
    return _(STATUS_LABELS[code]) if code in STATUS_LABELS else code


def precision_label(code: Any) -> str:
    """Display text of a coordinate precision in the current language (unknown codes as given)."""
    code = str(code).strip()
    return _(PRECISION_LABELS[code]) if code in PRECISION_LABELS else code


def number_text(x: Any, digits: int = 0, group: bool = True) -> str:
    """A number for the map's text in the current language (English exactly as ``"{:,.1f}"`` formats it).

    Examples
    --------
    >>> number_text(12345.67, 1)
    '12,345.7'
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     number_text(12345.67, 1)
    '12\xa0345,7'
    """
    if current_lang() == "en":
        return f"{float(x):{',' if group else ''}.{digits}f}"
    return format_number(x, digits, group=group)


def country_name(code: Any) -> str | None:
    """Display name of an ISO3 code or a ``"BIH|SRB"`` border pair in the current language; Kosovo is ``Kosovo*``.

    Examples
    --------
    >>> country_name("XKX")
    'Kosovo*'
    >>> country_name("BIH|SRB")
    'Bosnia and Herzegovina / Serbia border'
    >>> country_name("Atlantis")
    'Atlantis'
    >>> country_name(None) is None
    True
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     country_name("KGZ"), country_name("XKX"), country_name("BIH|SRB")
    ('Кыргызстан', 'Косово*', 'граница (Босния и Герцеговина / Сербия)')
    """
    if _missing(code):
        return None
    code = str(code).strip()
    if "|" in code:
        return _("{countries} border").format(countries=" / ".join(country_name(c) or c for c in code.split("|")))
    if code == "XKX":
        return f"{_country_name('XKX')}*"
    return _country_name(code) or code


def _as_list(v: Any) -> list[Any] | None:
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, str) and v.strip().startswith("["):
        try:
            out = json.loads(v)
        except ValueError:
            return None
        return out if isinstance(out, list) else None
    return None


def countries_text(v: Any, sep: str = " \u2192 ") -> str | None:
    """A list of country codes (or a JSON list, or ``"A; B"`` text) as names joined by ``sep``.

    Examples
    --------
    >>> countries_text(["BIH", "BIH|SRB", "SRB"])
    'Bosnia and Herzegovina \u2192 Bosnia and Herzegovina / Serbia border \u2192 Serbia'
    >>> countries_text("MNE")
    'Montenegro'
    """
    items = _as_list(v)
    if items is None:
        if _missing(v):
            return None
        items = [p for p in str(v).replace(",", ";").split(";")]
    names = [country_name(x) for x in items]
    return sep.join(n for n in names if n) or None


def source_name(code: Any) -> str | None:
    """Display name of a source key (unknown keys are shown as they are).

    Examples
    --------
    >>> source_name("gem-ghpt")
    'Global Energy Monitor, Global Hydropower Tracker'
    """
    if _missing(code):
        return None
    key = str(code).strip()
    return _(SOURCE_NAMES[key]) if key in SOURCE_NAMES else str(code)  # unknown keys exactly as given


def sources_text(v: Any) -> str | None:
    """``source_refs`` (JSON list of ``key:id``) as ``Name (id); Name (id)``.

    Examples
    --------
    >>> sources_text('["fineprint:Bozymchak", "icmm:ICMM08033"]')
    'FINEPRINT global mining compilation (Bozymchak); ICMM Global Mining Dataset (ICMM08033)'
    """
    items = _as_list(v)
    if items is None:
        return None if _missing(v) else str(v)
    out = []
    for ref in items:
        key, _sep, rid = str(ref).partition(":")
        known = key.strip() in SOURCE_NAMES
        name = _(SOURCE_NAMES[key.strip()]) if known else ""
        out.append(f"{name} ({rid})" if known and rid else name if known else str(ref))  # else exactly as given
    return "; ".join(o for o in out if o) or None


def _num(s: pd.DataFrame, col: str) -> pd.Series:
    if col not in s.columns:
        return pd.Series(np.nan, index=s.index, dtype=float)
    return pd.to_numeric(s[col], errors="coerce").astype(float)


def _flag(s: pd.DataFrame, col: str) -> pd.Series:
    if col not in s.columns:
        return pd.Series(False, index=s.index)
    v = s[col]
    if v.dtype == object or str(v.dtype) == "string":
        return v.astype("string").str.strip().str.lower().isin(["true", "1", "yes"]).fillna(False)
    return v.fillna(False).astype(bool)


def _fmt(values: pd.Series, digits: int, group: bool = True) -> pd.Series:
    """Numbers as text in the current language (:func:`number_text`); missing values as ``""``."""
    return values.map(lambda x: number_text(x, digits, group) if pd.notna(x) else "")


def _first_country(v: Any, own: Any) -> str | None:
    items = _as_list(v) or []
    for c in items:
        if c and c != own:
            if "|" in str(c):
                names = " / ".join(country_name(x) or x for x in str(c).split("|"))
                return _("the {countries} border").format(countries=names)
            return str(country_name(c))
    return None


def _where_text(country: str | None, km: float, hours: float) -> str:
    """Where the water goes: the next country, river km and travel time to the first border (each if known)."""
    country = country or _("another country")
    time = None
    if not np.isnan(hours):
        time = (_("{n} days").format(n=number_text(hours / 24, 1)) if hours >= 48
                else _("{n} h").format(n=number_text(hours, 1)))
    has_km = not np.isnan(km)
    kmt = number_text(km, 0) if has_km else ""
    if has_km and time:
        msg = _("Water from the site reaches {country}: {km} km along the rivers to the first border, "
                "about {time}.")
    elif has_km:
        msg = _("Water from the site reaches {country}: {km} km along the rivers to the first border.")
    elif time:
        msg = _("Water from the site reaches {country}, about {time}.")
    else:
        msg = _("Water from the site reaches {country}.")
    return msg.format(country=country, km=kmt, time=time)


def _rank_text(rank: str, n_rank: int, what: str, vol: str) -> str:
    """The hazard rank, and what the facility is and holds."""
    if vol:
        msg = _("Ranked {rank} of {n} by hazard priority ({what} holding about {volume} million m\u00b3 of "
                "tailings).")
    elif what:
        msg = _("Ranked {rank} of {n} by hazard priority ({what}).")
    else:
        msg = _("Ranked {rank} of {n} by hazard priority.")
    return msg.format(rank=rank, n=n_rank, what=what.lower(), volume=vol)


def _quake_text(fault: float, mw: float) -> str:
    """The seismic setting: distance to an active fault and the largest earthquake nearby (each if known)."""
    km = "" if np.isnan(fault) else (_("less than 1") if fault < 1 else number_text(fault, 0))
    mag = "" if np.isnan(mw) else number_text(mw, 1, group=False)
    if km and mag:
        msg = _("Earthquake-prone: active fault {km} km away, earthquakes up to M{mw} recorded nearby.")
    elif km:
        msg = _("Earthquake-prone: active fault {km} km away.")
    elif mag:
        msg = _("Earthquake-prone: seismic zone, earthquakes up to M{mw} recorded nearby.")
    else:
        msg = _("Earthquake-prone: seismic zone.")
    return msg.format(km=km, mw=mag)


def why_texts(s: pd.DataFrame) -> list[str | None]:
    """Up to four plain-language reasons per site why it matters (or why its score is unknown).

    Reasons, in this order, each only when the data support it: where the
    water goes (the next country and the river km and hours to the first
    border, or "on a border river"), people downstream, the hazard rank and
    what the facility holds (and, for a site without data, that it is ranked
    on its category), the Natech setting (active fault, earthquakes, flood),
    and why a site is not ranked. Returns one text per row, reasons
    separated by newlines; None when nothing is known. The texts are in the
    current language (:func:`riskmap.i18n.use_lang`); data (the reason a
    score is limited) stay as they are.

    Examples
    --------
    >>> df = pd.DataFrame({"transboundary_downstream": [True], "downstream_countries": [["BIH", "SRB"]],
    ...                    "country": ["BIH"], "first_border_river_km": [45.0], "travel_time_h": [9.5]})
    >>> why_texts(df)
    ['Water from the site reaches Serbia: 45 km along the rivers to the first border, about 9.5 h.']
    """
    n = len(s)
    reasons = pd.DataFrame(index=s.index)
    tb = _flag(s, "transboundary_downstream").to_numpy(bool)
    on_border = _flag(s, "on_border_water").to_numpy(bool)
    km, hours = _num(s, "first_border_river_km"), _num(s, "travel_time_h")
    own = s["country"] if "country" in s.columns else pd.Series(None, index=s.index)
    nxt = [_first_country(v, o) for v, o in
           zip(s["downstream_countries"] if "downstream_countries" in s.columns else [None] * n, own)]
    where = [_where_text(c, k, h) if t else None for c, k, h, t in zip(nxt, km.to_numpy(), hours.to_numpy(), tb)]
    border_text = _("On a border river: a spill is transboundary from the start.")
    reasons["where"] = [border_text if b else w for b, w in zip(on_border, where)]
    pop = _num(s, "downstream_pop_total")
    people = _("About {n} people live in towns along the river downstream.")
    reasons["people"] = [people.format(n=p) if ok else None
                         for p, ok in zip(_fmt(pop.round(-2), 0), (pop > 0).to_numpy())]
    rank = _num(s, "priority_rank")
    n_rank = int(rank.notna().sum())
    cat = s["category"].astype("string") if "category" in s.columns else pd.Series(pd.NA, index=s.index)
    vol = _num(s, "tailings_volume_m3")
    vol_text = _fmt(vol.where(vol > 0) / 1e6, 1)
    what = cat.map(lambda c: _(CATEGORY_LABELS[c]) if pd.notna(c) and c in CATEGORY_LABELS else "").astype(str)
    reasons["rank"] = [_rank_text(r, n_rank, w, v) if r else None
                       for r, w, v in zip(_fmt(rank, 0, group=False), what, vol_text)]
    basis = s["rank_basis"].astype("string") if "rank_basis" in s.columns else pd.Series(pd.NA, index=s.index)
    screened = _("Ranked on the typical hazard of its category: no quantity or tailings data on the site.")
    reasons["basis"] = [screened if b else None for b in basis.eq("category screening").fillna(False).to_numpy(bool)]
    seis, flood = _num(s, "natech_seismic"), _num(s, "natech_flood")
    fault, mw = _num(s, "natech_fault_km"), _num(s, "natech_max_mw")
    reasons["quake"] = [_quake_text(f, m) if ok else None
                        for f, m, ok in zip(fault.to_numpy(), mw.to_numpy(), (seis >= 2).to_numpy())]
    flood_text = _("Close to a river or lake: flood-prone location.")
    reasons["flood"] = np.where(flood >= 2, flood_text, None)  # type: ignore[call-overload]
    reason = s["score_reason"].astype("string") if "score_reason" in s.columns else pd.Series(pd.NA, index=s.index)
    gap = rank.isna().to_numpy(bool) if "priority_rank" in s.columns else np.zeros(len(s), bool)
    not_ranked = _("Not ranked: {reason}.")
    reasons["gap"] = [not_ranked.format(reason=r) if g else None
                      for r, g in zip(reason.fillna(_("too little data on the facility")).astype(str), gap)]
    stacked = reasons.stack()  # drops None: only the reasons that apply, in column order
    stacked = stacked[stacked.astype(str).str.len() > 0]
    joined = stacked.groupby(level=0, sort=False).apply(lambda r: "\n".join(r.head(4)))
    return [joined.get(i) for i in s.index]


#: The map's JavaScript runtime, whose ``t("...")`` and ``ngettext("...", "...", n)`` messages
#: :func:`js_catalogue` embeds in the map.
JS_RUNTIME = Path(__file__).resolve().parent / "assets" / "riskmap" / "riskmap.js"


@functools.cache
def _js_messages() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The messages of the map's JavaScript: (``t`` msgids, ``ngettext`` singular/plural pairs)."""
    from babel.messages.extract import extract_javascript

    singles: list[str] = []
    plurals: list[tuple[str, str]] = []
    with open(JS_RUNTIME, "rb") as fh:
        for _line, func, msg, _comments in extract_javascript(fh, {"t": None, "ngettext": (1, 2)}, [], {}):
            if func == "ngettext" and isinstance(msg, tuple) and len(msg) >= 2 and msg[0] and msg[1]:
                plurals.append((str(msg[0]), str(msg[1])))
            elif func == "t" and isinstance(msg, str) and msg:
                singles.append(msg)
    return tuple(dict.fromkeys(singles)), tuple(dict.fromkeys(plurals))


#: Numbers whose plural form is taken to fill the JavaScript plural table: the forms of
#: ``n % 10 == 1``, ``n % 10 in 2..4`` and the rest (English uses the first two).
_PLURAL_SAMPLES = (1, 2, 5)


def js_catalogue() -> tuple[dict[str, str], dict[str, list[str]]]:
    """The translations the map's JavaScript needs, in the current language.

    Returns
    -------
    (dict, dict)
        ``{msgid: translation}`` for every ``t("...")`` of ``riskmap.js``, and
        ``{singular: [form for 1, form for 2, form for 5]}`` for every
        ``ngettext(...)`` (the JavaScript picks the form with the language's
        plural rule). Messages without a translation map to themselves.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     single, plural = js_catalogue()
    >>> single["Filter sites"]
    'Фильтр объектов'
    """
    singles, plurals = _js_messages()
    return ({m: _(m) for m in singles},
            {s: [ngettext(s, p, n) for n in _PLURAL_SAMPLES] for s, p in plurals})
