"""The inputs of the Tailings Hazard Index read from a site's fields (see :func:`riskmap.hazard.thi`).

Toxicity from ``tailings_type`` keywords or the category, the tailings volume
(or one stated in the notes, when ``thi.volume_from_notes`` is enabled), the
management term from ``dam_condition`` and the natural-hazard terms from the
Natech classes. Each returns arrays aligned with the sites.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from riskmap._columns import _num, _text
from riskmap._errors import RiskmapInputError
from riskmap.schema import TMF_CATEGORIES

__all__ = ["volume_from_notes"]


def _toxicity(frame: pd.DataFrame, p: dict) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Toxicity score, proxy flag and the kind used, per row."""
    tox = p["toxicity"]
    kw = p["toxicity_keywords"]
    bycat = p["toxicity_by_category"]
    for word, k in kw.items():
        if k not in tox:
            raise RiskmapInputError(f"thi.toxicity_keywords: '{word}' points to unknown toxicity key '{k}'")
    ttype = _text(frame, "tailings_type").str.lower().fillna("")
    cat = _text(frame, "category")
    # a few distinct texts among many rows: each matched once
    kinds = {t: _keyword_kind(t, kw) for t in pd.unique(ttype)}
    kind = pd.Series(ttype.map(kinds).to_numpy(dtype=object), index=frame.index, dtype=object)
    kind[kind.isna()] = None
    from_cat = kind.isna() & cat.isin([c for c in bycat if c != "category_default"])
    kind[from_cat] = cat[from_cat].map(bycat)
    proxy = kind.isna().to_numpy() & cat.isin(list(TMF_CATEGORIES)).to_numpy()
    kind[proxy] = bycat["category_default"]
    value = kind.map(lambda k: float(tox[k]) if k is not None else np.nan).to_numpy(dtype="float64")
    return value, proxy, kind.tolist()


def _keyword_kind(text: str, keywords: dict) -> Any:
    """The toxicity key of the first keyword found in ``text`` (lower case): words under 5 letters as whole tokens."""
    tokens = set(re.split(r"[^a-z0-9]+", text)) - {""}
    for word, k in keywords.items():
        w = str(word).lower()
        if (w in tokens) if len(w) < 5 else (w in text):
            return k
    return None


_NUM = r"(\d+(?:[.,]\d+)*)"
_VOLUME_UNITS = (  # (regex after the number, factor, kind) - checked together, largest figure wins
    (r"\s*(?:mm3|mm³|million\s+m3|million\s+m³|million\s+cubic\s+met(?:re|er)s?)(?![a-z0-9])", 1e6, "m3"),
    (r"\s*(?:m3|m³|cubic\s+met(?:re|er)s?)(?![a-z0-9])", 1.0, "m3"),
    (r"\s*(?:mt|million\s+t|million\s+tonnes|million\s+tons)(?![a-z0-9])", 1e6, "t"),
    (r"\s*(?:kt|thousand\s+t|thousand\s+tonnes)(?![a-z0-9])", 1e3, "t"),
    (r"\s*(?:t|tonnes|tons)(?![a-z0-9])", 1.0, "t"),
)


def _parse_number(s: str) -> float:
    if "," in s and "." not in s and re.fullmatch(r"\d{1,3}(,\d{3})+", s) is None:
        s = s.replace(",", ".")  # decimal comma
    return float(s.replace(",", ""))


def volume_from_notes(text: Any, tonnes_per_m3: float) -> tuple[float, str | None]:
    """Largest tailings volume (m³) stated in a free-text note, with the matched text.

    The hazard score reads it as a labelled proxy when a tailings site has no volume
    (``thi.volume_from_notes`` in the parameters). Volumes (``Mm3``, ``million m3``) are taken
    as stated, masses (``Mt``, ``t``) are divided by ``tonnes_per_m3``; sizes in ha, m and km2,
    money and people are not volumes.

    Parameters
    ----------
    text : object
        The note (None or NaN: no note).
    tonnes_per_m3 : float
        Dry density used to turn a stated mass into a volume.

    Returns
    -------
    tuple of (float, str or None)
        The largest volume in m³ (NaN when the note states none) and the text it was read from.

    Examples
    --------
    >>> volume_from_notes("23 tailings, ~3 Mm3 over 44 ha; 22-25 m high", 1.5)
    (3000000.0, '3 Mm3')
    >>> volume_from_notes("about 7.5 Mt of red mud", 1.5)
    (5000000.0, '7.5 Mt')
    >>> volume_from_notes("closed in 1990; 3,500 residents; 50 km2", 1.5)
    (nan, None)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return np.nan, None
    low = str(text).lower()
    best, best_txt = np.nan, None
    for unit, factor, kind in _VOLUME_UNITS:
        for m in re.finditer(_NUM + unit, low):
            try:
                v = _parse_number(m.group(1)) * factor
            except ValueError:
                continue
            if kind == "t":
                v = v / tonnes_per_m3
            if v > 0 and not (v <= best):
                best, best_txt = v, str(text)[m.start():m.end()].strip()
    return best, best_txt


def _thi_volume(sites: pd.DataFrame, p: dict, is_tmf: np.ndarray) -> dict[str, Any]:
    """Tailings volume (m³; read from the notes when blank and enabled) and the capacity term."""
    n = len(sites)
    vol = _num(sites, "tailings_volume_m3")
    vol_proxy = np.zeros(n, dtype=bool)
    vol_txt: list[str | None] = [None] * n
    vn = p.get("volume_from_notes", {})
    if vn.get("enabled", False) and "notes" in sites.columns:
        notes = sites["notes"].tolist()
        for i in np.flatnonzero(np.isnan(vol) & is_tmf):
            v, txt = volume_from_notes(notes[i], float(vn["tonnes_per_m3"]))
            if np.isfinite(v):
                vol[i], vol_proxy[i], vol_txt[i] = v, True, txt
    vol_ok = np.isfinite(vol) & (vol >= float(p["capacity_min_m3"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        capacity = np.where(vol_ok, np.log10(np.where(vol_ok, vol, 1.0)), np.nan)
    return {"vol": vol, "vol_proxy": vol_proxy, "vol_txt": vol_txt, "vol_ok": vol_ok, "capacity": capacity}


def _thi_management(sites: pd.DataFrame, p: dict) -> dict[str, Any]:
    """Management term from ``dam_condition`` (precautionary ``unknown`` value when not in the table)."""
    cond = _text(sites, "dam_condition").str.lower()
    tab = p["management"]
    known = cond.isin([k for k in tab if k != "unknown"]).to_numpy()
    value = cond.map(lambda k: tab.get(k, np.nan) if k else np.nan).to_numpy(dtype="float64")
    return {"mgmt": np.where(known, value, float(tab["unknown"])), "cond_known": known}


def _thi_natural(sites: pd.DataFrame, p: dict) -> dict[str, Any]:
    """Natural-hazard terms: the Natech classes times their weights (mid-scale ``missing`` when unknown)."""
    nh = p["natural_hazard"]
    seis_cls = _num(sites, "natech_seismic")
    flood_cls = _num(sites, "natech_flood")
    return {"seis_cls": seis_cls, "flood_cls": flood_cls,
            "seis": np.where(np.isfinite(seis_cls), seis_cls * float(nh["seismic_weight"]), float(nh["missing"])),
            "flood": np.where(np.isfinite(flood_cls), flood_cls * float(nh["flood_weight"]), float(nh["missing"]))}
