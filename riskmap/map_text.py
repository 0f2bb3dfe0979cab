"""Human text for the basin maps: names instead of codes, and a short "why it matters" per site.

Used by :mod:`riskmap.map_layers`; every string produced here is data (escaped
by the map's JavaScript when shown), never markup.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from riskmap._iso3 import KOSOVO_NOTE as _KOSOVO_NOTE
from riskmap._text import is_missing
from riskmap._iso3 import ISO3_NAMES

__all__ = ["CATEGORY_LABELS", "STATUS_LABELS", "PRECISION_LABELS", "SOURCE_NAMES", "KOSOVO_NOTE",
           "country_name", "countries_text", "source_name", "sources_text", "why_texts"]

#: Short display names of the site categories.
CATEGORY_LABELS: dict[str, str] = {
    "tailings_metal": "Tailings facility (metal ore)",
    "tailings_uranium": "Tailings or waste dump (uranium legacy)",
    "tailings_red_mud": "Red mud basin (bauxite residue)",
    "tailings_ash": "Ash and slag pond or landfill",
    "mine": "Mine or mining district",
    "smelter_refinery": "Smelter, metallurgical works or refinery",
    "chemical_plant": "Chemical, fertiliser or pharmaceutical plant",
    "oil_refinery_depot": "Oil refinery or depot",
    "oil_gas_extraction": "Oil or gas field",
    "pipeline": "Oil or gas pipeline",
    "thermal_power_plant": "Thermal power plant",
    "dam_reservoir": "Dam and reservoir",
    "landfill": "Landfill or waste dump",
    "other": "Other hazardous activity",
}

#: Display names of the operating statuses.
STATUS_LABELS: dict[str, str] = {
    "operating": "Operating",
    "closed": "Closed (not remediated)",
    "abandoned": "Abandoned (no operator)",
    "remediated": "Remediated or under remediation",
    "under_construction": "Under construction",
    "planned": "Planned",
    "unknown": "Status unknown",
}

#: Display text of the coordinate precisions.
PRECISION_LABELS: dict[str, str] = {
    "exact": "exact (the facility, about 100 m)",
    "approximate": "approximate (within a few km)",
    "town": "nearest town, not the facility",
    "estimated": "estimated, check before use",
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
    "literature": "Published literature",
    "usgs-pge-ni-cr": "USGS nickel, chromium and PGE deposit index",
    "wri-gppd": "WRI Global Power Plant Database",
    "geonames": "GeoNames",
}

#: The note that goes with every map that names Kosovo (same wording as the report).
KOSOVO_NOTE = _KOSOVO_NOTE  # the one text, riskmap._iso3


_missing = is_missing


def country_name(code: Any) -> str | None:
    """Display name of an ISO3 code or a ``"BIH|SRB"`` border pair; Kosovo is ``Kosovo*``.

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
    """
    if _missing(code):
        return None
    code = str(code).strip()
    if "|" in code:
        return " / ".join(country_name(c) or c for c in code.split("|")) + " border"
    if code == "XKX":
        return "Kosovo*"
    return ISO3_NAMES.get(code, code)


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
    return SOURCE_NAMES.get(str(code).strip(), str(code))  # unknown keys are shown exactly as given


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
        key, _, rid = str(ref).partition(":")
        known = key.strip() in SOURCE_NAMES
        out.append(f"{SOURCE_NAMES[key.strip()]} ({rid})" if known and rid else
                   SOURCE_NAMES[key.strip()] if known else str(ref))  # anything else exactly as given
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


def _fmt(values: pd.Series, fmt: str) -> pd.Series:
    return values.map(lambda x: fmt.format(x) if pd.notna(x) else "")


def _first_country(v: Any, own: Any) -> str | None:
    items = _as_list(v) or []
    for c in items:
        if c and c != own:
            return ("the " if "|" in str(c) else "") + str(country_name(c))
    return None


def why_texts(s: pd.DataFrame) -> list[str | None]:
    """Up to four plain-language reasons per site why it matters (or why its score is unknown).

    Reasons, in this order, each only when the data support it: where the
    water goes (the next country and the river km and hours to the first
    border, or "on a border river"), people downstream, the hazard rank and
    what the facility holds, the Natech setting (active fault, earthquakes,
    flood), and data gaps (no score). Returns one text per row, reasons
    separated by newlines; None when nothing is known.

    Examples
    --------
    >>> df = pd.DataFrame({"transboundary_downstream": [True], "downstream_countries": [["BIH", "SRB"]],
    ...                    "country": ["BIH"], "first_border_river_km": [45.0], "travel_time_h": [9.5]})
    >>> why_texts(df)
    ['Water from the site reaches Serbia: 45 km along the rivers to the first border, about 9.5 h.']
    """
    n = len(s)
    reasons = pd.DataFrame(index=s.index)
    tb = _flag(s, "transboundary_downstream")
    on_border = _flag(s, "on_border_water")
    km, hours = _num(s, "first_border_river_km"), _num(s, "travel_time_h")
    own = s["country"] if "country" in s.columns else pd.Series(None, index=s.index)
    nxt = pd.Series([_first_country(v, o) for v, o in
                     zip(s["downstream_countries"] if "downstream_countries" in s.columns else [None] * n, own)],
                    index=s.index, dtype=object)
    where = ("Water from the site reaches " + nxt.fillna("another country").astype(str)
             + np.where(km.notna(), ": " + _fmt(km, "{:,.0f}") + " km along the rivers to the first border", "")
             + np.where(hours.notna(), ", about " + np.where(hours >= 48, _fmt(hours / 24, "{:,.1f}") + " days",
                                                              _fmt(hours, "{:,.1f}") + " h"), "") + ".")
    reasons["where"] = np.where(on_border, "On a border river: a spill is transboundary from the start.",
                                np.where(tb, where, None))
    pop = _num(s, "downstream_pop_total")
    reasons["people"] = np.where(pop > 0, "About " + _fmt(pop.round(-2), "{:,.0f}")
                                 + " people live in towns along the river downstream.", None)
    rank = _num(s, "priority_rank")
    n_rank = int(rank.notna().sum())
    cat = s["category"].astype("string") if "category" in s.columns else pd.Series(pd.NA, index=s.index)
    vol = _num(s, "tailings_volume_m3")
    holds = np.where(vol > 0, " holding about " + _fmt(vol / 1e6, "{:,.1f}") + " million m\u00b3 of tailings", "")
    what = cat.map(lambda c: CATEGORY_LABELS.get(c, "") if pd.notna(c) else "").astype(str) + holds
    rank_text = ("Ranked " + _fmt(rank, "{:.0f}") + f" of {n_rank} by hazard priority"
                 + np.where(what.str.len() > 0, " (" + what.str.lower() + ").", "."))
    # numpy's stubs reject None as the object fill of np.where (valid at runtime): [call-overload] ignores
    reasons["rank"] = np.where(rank.notna(), rank_text, None)  # type: ignore[call-overload]
    seis, flood = _num(s, "natech_seismic"), _num(s, "natech_flood")
    fault, mw = _num(s, "natech_fault_km"), _num(s, "natech_max_mw")
    reasons["quake"] = np.where(seis >= 2, "Earthquake-prone: " + np.where(  # type: ignore[call-overload]
        fault.notna(), "active fault " + np.where(fault < 1, "less than 1", _fmt(fault, "{:,.0f}")) + " km away", "seismic zone")
        + np.where(mw.notna(), ", earthquakes up to M" + _fmt(mw, "{:.1f}") + " recorded nearby", "") + ".", None)
    flood_text = "Close to a river or lake: flood-prone location."
    reasons["flood"] = np.where(flood >= 2, flood_text, None)  # type: ignore[call-overload]
    status = s["score_status"].astype("string") if "score_status" in s.columns else pd.Series(pd.NA, index=s.index)
    reason = s["score_reason"].astype("string") if "score_reason" in s.columns else pd.Series(pd.NA, index=s.index)
    gap = status.eq("insufficient data").fillna(False).to_numpy(bool)
    reasons["gap"] = np.where(gap, "Not ranked: " + reason.fillna("too little data on the facility").astype(str)
                              + ".", None)
    stacked = reasons.stack()  # drops None: only the reasons that apply, in column order
    stacked = stacked[stacked.astype(str).str.len() > 0]
    joined = stacked.groupby(level=0, sort=False).apply(lambda r: "\n".join(r.head(4)))
    return [joined.get(i) for i in s.index]
