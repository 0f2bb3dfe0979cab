"""Hazard indices, Natech screening and priority ranking of sites.

Indices (see ``docs/hazard.md`` for every formula, default and worked example):

- **WRI** (Water Risk Index, after the ICPDR Accident Risk Spots method) for
  sites with a substance inventory: ``log10(sum(quantity x weight(WGK)))``.
- **THI** (Tailings Hazard Index, after the UNECE/UBA TMF methodology) for
  tailings facilities: capacity + toxicity + management + natural hazards.
- **TRI** (Tailings Risk Index) = THI + downstream exposure terms.
- **Natech** seismic and flood screening classes (0..3) from GEM active
  faults, ISC-GEM epicentres, distance to rivers/lakes and optional rasters.
- **Priority**: a per-basin rank combining hazard and transboundary exposure.

All weights and tables are data (``riskmap/params/*.toml``), loaded with
:func:`load_params`. The defaults are riskmap's own documented choices, not
the official UNECE/ICPDR tables (which were not available); every result
carries ``params_label`` saying which parameters produced it.

Missing inputs stay missing: a site without the data an index needs gets
``score_status = "insufficient data"`` and a ``score_reason``, never a 0.
"""

from __future__ import annotations

import math
import re
from typing import Any
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._columns import _bool, _foreign_countries, _num, _r, _step_le, _text
from riskmap.natech import _corridors, _natech_classes, load_natech_layers, natech  # noqa: F401  (re-exported)
from riskmap.params import DEFAULT_LABEL, _params, load_params  # noqa: F401  (re-exported)
from riskmap.rasters import buffer_km, sample, zonal_stats
from riskmap.schema import TMF_CATEGORIES, parse_substances, set_aside_computed, settle_computed

__all__ = [
    "DEFAULT_LABEL",
    "HAZARD_COLUMNS",
    "load_params",
    "wri",
    "thi",
    "tri",
    "natech",
    "score",
    "rank",
    "load_natech_layers",
]


#: Columns :func:`score` adds (the architecture contract), in order.
HAZARD_COLUMNS = (
    "wri", "wri_band", "thi", "tri", "natech_seismic", "natech_flood", "hazard_score",
    "priority_score", "priority_rank", "score_status", "completeness", "score_terms",
    "score_reason", "params_label",
)

#: Every column :func:`score` writes (an input column of that name is kept as ``<name>_input``).
SCORE_OUTPUT_COLUMNS = (*HAZARD_COLUMNS, "natech_fault_km", "natech_max_mw", "natech_water_km", "exposure_score")


_SCORED, _PROXY, _INSUFFICIENT = "scored", "proxy", "insufficient data"


# --------------------------------------------------------------------------
# WRI
# --------------------------------------------------------------------------


def _band(values: np.ndarray, bands: list[dict]) -> list[str | None]:
    bands = sorted(bands, key=lambda b: b["min"])
    out: list[str | None] = []
    for v in values:
        if not np.isfinite(v):
            out.append(None)
            continue
        label = None
        for b in bands:
            if b["min"] <= v < b["max"]:
                label = b["label"]
                break
        if label is None:
            if v < bands[0]["min"]:
                label = f"<{bands[0]['min']:g}"
            elif v >= bands[-1]["max"]:
                label = f">={bands[-1]['max']:g}"
        out.append(label)
    return out


def wri(substances, *, params=None) -> pd.DataFrame:
    """Water Risk Index of each site from its substance inventory.

    ``WRI = log10( sum_i q_i * w(WGK_i) )`` with ``q_i`` the quantity in the
    unit of ``wri.quantity_unit`` (default kg; the schema stores tonnes) and
    ``w`` the WGK weights of ``wri.weights`` (default 1/10/100, unknown class
    counted as WGK 3).

    Parameters
    ----------
    substances : pandas.Series or sequence
        The schema ``substances`` field per site: JSON text, a parsed list of
        ``{name, quantity_t, wgk}`` or None.
    params : dict, path or None
        Parameters (see :func:`load_params`).

    Returns
    -------
    pandas.DataFrame
        ``wri`` (float, NaN when not computable), ``wri_band``, ``wri_status``
        (``scored``, ``proxy``, ``insufficient data`` or ``not applicable``),
        ``wri_reason``, ``wri_weighted`` (the weighted sum), ``wri_known_share``
        (share of listed substances with a quantity), ``wri_n``.

    Examples
    --------
    >>> wri(['[{"name": "NaCN", "quantity_t": 10, "wgk": 3}]'])["wri"].round(3).tolist()
    [6.0]
    """
    p = _params(params)["wri"]
    s = substances if isinstance(substances, pd.Series) else pd.Series(list(substances))
    unit = {"kg": 1000.0, "t": 1.0}.get(p.get("quantity_unit", "kg"))
    if unit is None:
        raise RiskmapInputError(f"wri.quantity_unit must be 'kg' or 't', got {p.get('quantity_unit')!r}")
    weights = {str(k): float(v) for k, v in p["weights"].items()}
    rows_site, rows_q, rows_w = [], [], []
    n_listed = np.zeros(len(s))
    parse_err: dict[int, str] = {}
    for i, v in enumerate(s.tolist()):
        try:
            items = parse_substances(v)
        except ValueError as e:
            parse_err[i] = str(e)
            continue
        for it in items or []:
            n_listed[i] += 1
            rows_site.append(i)
            rows_q.append(np.nan if it["quantity_t"] is None else it["quantity_t"])
            rows_w.append(weights.get(it["wgk"], weights["unknown"]))
    site = np.asarray(rows_site, dtype=int)
    q = np.asarray(rows_q, dtype="float64")
    w = np.asarray(rows_w, dtype="float64")
    known = ~np.isnan(q)
    weighted = np.zeros(len(s))
    n_known = np.zeros(len(s))
    np.add.at(weighted, site[known], q[known] * unit * w[known])
    np.add.at(n_known, site[known], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_listed > 0, n_known / np.maximum(n_listed, 1), np.nan)
        value = np.where((n_known > 0) & (weighted > 0), np.log10(weighted), np.nan)
    allow_partial = bool(p.get("allow_partial", True))
    status, reason = [], []
    for i in range(len(s)):
        if i in parse_err:
            status.append(_INSUFFICIENT)
            reason.append(f"WRI: substances field unreadable ({parse_err[i]})")
            value[i] = np.nan
        elif n_listed[i] == 0:
            status.append("not applicable")
            reason.append("WRI: no substance inventory")
        elif n_known[i] == 0:
            status.append(_INSUFFICIENT)
            reason.append(f"WRI: quantity unknown for all {int(n_listed[i])} listed substance(s)")
        elif weighted[i] <= 0:
            status.append(_INSUFFICIENT)
            reason.append("WRI: all listed quantities are 0 t (WRI undefined)")
        elif n_known[i] < n_listed[i]:
            if allow_partial:
                status.append(_PROXY)
                reason.append(f"WRI: quantity unknown for {int(n_listed[i] - n_known[i])} of "
                              f"{int(n_listed[i])} substances (lower bound)")
            else:
                status.append(_INSUFFICIENT)
                reason.append(f"WRI: quantity unknown for {int(n_listed[i] - n_known[i])} of "
                              f"{int(n_listed[i])} substances (wri.allow_partial = false)")
                value[i] = np.nan
        else:
            status.append(_SCORED)
            reason.append("")
    return pd.DataFrame({
        "wri": value,
        "wri_band": _band(value, p["bands"]),
        "wri_status": status,
        "wri_reason": reason,
        "wri_weighted": np.where(n_known > 0, weighted, np.nan),
        "wri_known_share": share,
        "wri_n": n_listed.astype(int),
    }, index=s.index)


# --------------------------------------------------------------------------
# THI and TRI
# --------------------------------------------------------------------------


def _toxicity(frame: pd.DataFrame, p: dict) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """Toxicity score, proxy flag and the kind used, per row."""
    tox = p["toxicity"]
    kw = p["toxicity_keywords"]
    bycat = p["toxicity_by_category"]
    ttype = _text(frame, "tailings_type").str.lower().fillna("")
    tokens = ttype.map(lambda t: set(re.split(r"[^a-z0-9]+", t)) - {""})
    cat = _text(frame, "category")
    kind = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for word, k in kw.items():
        if k not in tox:
            raise RiskmapInputError(f"thi.toxicity_keywords: '{word}' points to unknown toxicity key '{k}'")
        w = str(word).lower()
        if len(w) < 5:
            found = tokens.map(lambda ts, w=w: w in ts)
        else:
            found = ttype.str.contains(w, regex=False)
        hit = kind.isna() & found
        kind[hit] = k
    from_cat = kind.isna() & cat.isin([c for c in bycat if c != "category_default"])
    kind[from_cat] = cat[from_cat].map(bycat)
    proxy = kind.isna().to_numpy() & cat.isin(list(TMF_CATEGORIES)).to_numpy()
    kind[proxy] = bycat["category_default"]
    value = kind.map(lambda k: float(tox[k]) if k is not None else np.nan).to_numpy(dtype="float64")
    return value, proxy, kind.tolist()


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


def _volume_from_notes(text: Any, tonnes_per_m3: float) -> tuple[float, str | None]:
    """Largest tailings volume (m³) stated in a free-text note, with the matched text.

    Examples
    --------
    >>> _volume_from_notes("23 tailings, ~3 Mm3 over 44 ha; 22-25 m high", 1.5)
    (3000000.0, '3 Mm3')
    >>> _volume_from_notes("about 7.5 Mt of red mud", 1.5)
    (5000000.0, '7.5 Mt')
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


def thi(sites: pd.DataFrame, *, params=None) -> pd.DataFrame:
    """Tailings Hazard Index of tailings facilities.

    ``THI = capacity + toxicity + management + seismic + flood`` where
    ``capacity = log10(tailings_volume_m3)``, ``toxicity`` comes from
    ``tailings_type`` keywords or the category (``thi.toxicity``),
    ``management`` from ``dam_condition`` (``thi.management``) and the
    natural-hazard terms are the Natech classes (``natech_seismic``,
    ``natech_flood``, 0..3) times their weights. Non-TMF rows get
    ``thi_status = "not applicable"``.

    Parameters
    ----------
    sites : pandas.DataFrame
        Sites with ``category``, ``tailings_volume_m3``, ``tailings_type``,
        ``dam_condition`` and optionally ``natech_seismic``/``natech_flood``.
    params : dict, path or None
        Parameters (see :func:`load_params`).

    Returns
    -------
    pandas.DataFrame
        ``thi``, ``thi_status``, ``thi_reason``, ``thi_terms`` (dict per row),
        ``thi_present`` (inputs present), ``thi_inputs`` (inputs applicable).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"category": ["tailings_uranium"], "tailings_volume_m3": [1e6],
    ...                   "dam_condition": ["poor"], "natech_seismic": [2.0], "natech_flood": [1.0]})
    >>> float(thi(s)["thi"].iloc[0])
    12.5
    """
    P = _params(params)
    p = P["thi"]
    n = len(sites)
    is_tmf = _text(sites, "category").isin(list(TMF_CATEGORIES)).to_numpy()
    vol = _num(sites, "tailings_volume_m3")
    vol_proxy = np.zeros(n, dtype=bool)
    vol_txt: list[str | None] = [None] * n
    vn = p.get("volume_from_notes", {})
    if vn.get("enabled", False) and "notes" in sites.columns:
        need = np.flatnonzero(np.isnan(vol) & is_tmf)
        notes = sites["notes"].tolist()
        for i in need:
            v, txt = _volume_from_notes(notes[i], float(vn["tonnes_per_m3"]))
            if np.isfinite(v):
                vol[i], vol_proxy[i], vol_txt[i] = v, True, txt
    vol_ok = np.isfinite(vol) & (vol >= float(p["capacity_min_m3"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        capacity = np.where(vol_ok, np.log10(np.where(vol_ok, vol, 1.0)), np.nan)
    tox, tox_proxy, tox_kind = _toxicity(sites, p)
    cond = _text(sites, "dam_condition").str.lower()
    mgmt_tab = p["management"]
    cond_known = cond.isin([k for k in mgmt_tab if k != "unknown"]).to_numpy()
    mgmt = np.where(cond_known, cond.map(lambda c: mgmt_tab.get(c, np.nan) if c else np.nan)
                    .to_numpy(dtype="float64"), float(mgmt_tab["unknown"]))
    nh = p["natural_hazard"]
    seis_cls = _num(sites, "natech_seismic")
    flood_cls = _num(sites, "natech_flood")
    seis = np.where(np.isfinite(seis_cls), seis_cls * float(nh["seismic_weight"]), float(nh["missing"]))
    flood = np.where(np.isfinite(flood_cls), flood_cls * float(nh["flood_weight"]), float(nh["missing"]))
    total = capacity + tox + mgmt + seis + flood
    present = ((vol_ok & ~vol_proxy).astype(int) + (~tox_proxy).astype(int) + cond_known.astype(int)
               + np.isfinite(seis_cls).astype(int) + np.isfinite(flood_cls).astype(int))
    status: list[str] = []
    reason: list[str] = []
    terms: list[dict[str, Any]] = []
    tailings_type = _text(sites, "tailings_type").to_numpy(dtype=object)
    for i in range(n):  # type: ignore[assignment]
        if not is_tmf[i]:
            status.append("not applicable")
            reason.append("")
            terms.append({})
            total[i] = np.nan
            continue
        why = []
        if not vol_ok[i]:
            why.append("tailings_volume_m3 missing" if not np.isfinite(vol[i])
                       else f"tailings_volume_m3 {vol[i]:g} below {p['capacity_min_m3']:g}")
        proxies = []
        if vol_proxy[i] and vol_ok[i]:
            proxies.append(f"tailings_volume_m3 blank, {vol[i]:.3g} m3 read from notes ('{vol_txt[i]}')")
        if tox_proxy[i]:
            tt = tailings_type[i]
            proxies.append(f"tailings_type missing (category-typical toxicity '{tox_kind[i]}')" if tt is None
                           else f"tailings_type '{tt}' not in the toxicity table "
                                f"(category-typical '{tox_kind[i]}')")
        if not cond_known[i]:
            proxies.append(f"dam_condition unknown (precautionary {mgmt_tab['unknown']:g})")
        if not np.isfinite(seis_cls[i]):
            proxies.append(f"seismic class missing (mid-scale {nh['missing']:g})")
        if not np.isfinite(flood_cls[i]):
            proxies.append(f"flood class missing (mid-scale {nh['missing']:g})")
        terms.append({"thi_volume_m3": _r(vol[i]), "thi_capacity": _r(capacity[i]), "thi_toxicity": _r(tox[i]),
                      "thi_toxicity_kind": tox_kind[i], "thi_management": _r(mgmt[i]),
                      "thi_seismic": _r(seis[i]), "thi_flood": _r(flood[i])})
        if why:
            status.append(_INSUFFICIENT)
            also = [m for m, ok in (("tailings_type", not tox_proxy[i]), ("dam_condition", cond_known[i]),
                                    ("seismic class", np.isfinite(seis_cls[i])),
                                    ("flood class", np.isfinite(flood_cls[i]))) if not ok]
            reason.append("THI: " + "; ".join(why) + (f" (also unknown: {', '.join(also)})" if also else ""))
            total[i] = np.nan
        elif proxies:
            status.append(_PROXY)
            reason.append("THI proxy: " + "; ".join(proxies))
        else:
            status.append(_SCORED)
            reason.append("")
    return pd.DataFrame({
        "thi": total, "thi_status": status, "thi_reason": reason, "thi_terms": terms,
        "thi_present": np.where(is_tmf, present, 0), "thi_inputs": np.where(is_tmf, 5, 0),
    }, index=sites.index)


def tri(sites: pd.DataFrame, thi_frame: pd.DataFrame | None = None, *, params=None) -> pd.DataFrame:
    """Tailings Risk Index: THI plus downstream exposure terms.

    ``TRI = THI + downstream_countries + first_border + travel_time (+ towns)``:
    ``per_downstream_country`` x foreign countries on the downstream path
    (capped), step tables on ``first_border_river_km`` and ``travel_time_h``
    (0 when nothing foreign lies downstream), and, when a ``downstream_towns``
    column exists, ``towns_per_town`` x towns in the downstream corridor.
    Without THI or ``downstream_countries`` TRI is ``insufficient data``; a
    missing border distance or travel time gives a labelled lower bound
    (``proxy``).

    Parameters
    ----------
    sites : pandas.DataFrame
        Assessed sites (exposure columns: ``country``, ``downstream_countries``,
        ``transboundary_downstream``, ``first_border_river_km``, ``travel_time_h``).
    thi_frame : pandas.DataFrame, optional
        Output of :func:`thi` (computed when omitted).
    params : dict, path or None

    Returns
    -------
    pandas.DataFrame
        ``tri``, ``tri_status``, ``tri_reason``, ``tri_terms``, ``tri_present``, ``tri_inputs``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"category": ["tailings_uranium"], "tailings_volume_m3": [1e6],
    ...     "dam_condition": ["poor"], "natech_seismic": [2.0], "natech_flood": [1.0],
    ...     "country": ["KGZ"], "downstream_countries": [["KGZ", "UZB"]],
    ...     "transboundary_downstream": [True], "first_border_river_km": [30.0],
    ...     "travel_time_h": [12.0]})
    >>> float(tri(s)["tri"].iloc[0])
    14.5
    """
    P = _params(params)
    p = P["tri"]
    if thi_frame is None:
        thi_frame = thi(sites, params=P)
    n = len(sites)
    n_foreign, tb = _n_foreign(sites)
    c_term = np.minimum(n_foreign, float(p["max_downstream_countries"])) * float(p["per_downstream_country"])
    fb_km = _num(sites, "first_border_river_km")
    tt_h = _num(sites, "travel_time_h")
    no_border = (tb == 0) | ((n_foreign == 0) & np.isnan(tb))
    fb = np.where(no_border, 0.0, _step_le(fb_km, p["first_border"], "max_km"))
    tt = np.where(no_border, 0.0, _step_le(tt_h, p["travel_time"], "max_h"))
    has_towns = "downstream_towns" in sites.columns
    towns = _num(sites, "downstream_towns")
    t_term = np.minimum(towns, float(p["max_towns"])) * float(p["towns_per_town"])
    th = thi_frame["thi"].to_numpy(dtype="float64")
    extra = c_term + np.nan_to_num(fb) + np.nan_to_num(tt) + (np.nan_to_num(t_term) if has_towns else 0.0)
    total = th + extra
    present = (np.isfinite(n_foreign).astype(int) + np.isfinite(fb).astype(int)
               + np.isfinite(tt).astype(int) + (np.isfinite(towns).astype(int) if has_towns else 0))
    n_inputs = 3 + int(has_towns)
    status: list[str] = []
    reason: list[str] = []
    terms: list[dict[str, Any]] = []
    thi_status = thi_frame["thi_status"].to_numpy()
    for i in range(n):
        ts = thi_status[i]
        if ts == "not applicable":
            status.append("not applicable")
            reason.append("")
            terms.append({})
            total[i] = np.nan
            continue
        term = {"tri_downstream_countries": _r(c_term[i]), "tri_first_border": _r(fb[i]),
                "tri_travel_time": _r(tt[i])}
        if has_towns:
            term["tri_towns"] = _r(t_term[i])
        terms.append(term)
        why = []
        if not np.isfinite(th[i]):
            why.append("THI insufficient")
        if not np.isfinite(n_foreign[i]):
            why.append("downstream_countries not assessed")
        lower = []
        if not np.isfinite(fb[i]):
            lower.append("first_border_river_km missing")
        if not np.isfinite(tt[i]):
            lower.append("travel_time_h missing")
        if has_towns and not np.isfinite(towns[i]):
            lower.append("downstream_towns missing")
        if why:
            status.append(_INSUFFICIENT)
            reason.append("TRI: " + "; ".join(why))
            total[i] = np.nan
        elif lower or ts == _PROXY:
            status.append(_PROXY)
            reason.append("TRI lower bound: " + "; ".join(lower) if lower else "TRI proxy (THI proxy)")
        else:
            status.append(_SCORED)
            reason.append("")
    return pd.DataFrame({"tri": total, "tri_status": status, "tri_reason": reason, "tri_terms": terms,
                         "tri_present": present, "tri_inputs": n_inputs}, index=sites.index)


# --------------------------------------------------------------------------
# Combination: status, completeness, priority
# --------------------------------------------------------------------------


def _n_foreign(sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Foreign countries downstream of each site (NaN unknown) and ``transboundary_downstream`` (1/0/NaN).

    A known "nothing foreign downstream" sets the count to 0.
    """
    n = len(sites)
    own = _text(sites, "country").tolist()
    ds = sites["downstream_countries"].tolist() if "downstream_countries" in sites.columns else [None] * n
    n_foreign = np.array([_foreign_countries(d, o) for d, o in zip(ds, own)], dtype="float64")
    tb = _bool(sites, "transboundary_downstream")
    return np.where(np.isnan(n_foreign) & (tb == 0), 0.0, n_foreign), tb


def _exposure(sites: pd.DataFrame, P: dict) -> tuple[np.ndarray, list[dict], np.ndarray, np.ndarray]:
    """Exposure score (0..1), its terms, inputs present and applicable."""
    e = P["priority"]["exposure"]
    n = len(sites)
    n_foreign, tb = _n_foreign(sites)
    tb = np.where(np.isnan(tb) & np.isfinite(n_foreign), (n_foreign > 0).astype(float), tb)
    obw = _bool(sites, "on_border_water")
    fb_km = _num(sites, "first_border_river_km")
    fb = np.where(tb == 0, 0.0, _step_le(fb_km, e["first_border"], "max_km"))
    t_tb = tb * float(e["transboundary_downstream"])
    t_n = np.minimum(n_foreign, float(e["max_downstream_countries"])) * float(e["per_downstream_country"])
    t_obw = obw * float(e["on_border_water"])
    score = np.minimum(1.0, np.nan_to_num(t_tb) + np.nan_to_num(t_n) + np.nan_to_num(fb) + np.nan_to_num(t_obw))
    # core: whether anything foreign lies downstream must be known
    score = np.where(np.isfinite(tb), score, np.nan)
    present = (np.isfinite(tb).astype(int) + np.isfinite(n_foreign).astype(int)
               + np.isfinite(fb).astype(int) + np.isfinite(obw).astype(int))
    terms = [{"exp_transboundary": _r(a), "exp_downstream_countries": _r(b), "exp_first_border": _r(c),
              "exp_on_border_water": _r(d)} for a, b, c, d in zip(t_tb, t_n, fb, t_obw)]
    return score, terms, present, np.full(n, 4)


def score(sites: gpd.GeoDataFrame, *, params=None, rasters: Mapping[str, Any] | None = None,  # noqa: C901 - to split
          natech: Mapping[str, Any] | pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Score assessed sites: WRI, THI/TRI, Natech, hazard, priority and rank.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites in the riskmap schema, ideally already assessed by
        ``riskmap.exposure.assess`` (columns ``basin``, ``country``,
        ``downstream_countries``, ``transboundary_downstream``,
        ``first_border_river_km``, ``travel_time_h``, ``on_border_water``, ...).
        Missing exposure columns make the exposure terms missing (sites are
        then not ranked), never 0.
    params : dict, path or None
        Parameter overrides (see :func:`load_params`).
    rasters : mapping of name -> GeoTIFF path, optional
        Each raster adds ``raster_<name>`` (value at the site),
        ``raster_<name>_site_mean``/``_max`` (within ``natech.buffers.site_buffer_km``)
        and, when downstream corridors are available, ``raster_<name>_corridor_mean``/``_max``.
        A raster named ``flood_depth`` (metres) also feeds the Natech flood class.
        A name ``HAZARD:SCENARIO`` (``flood:present``, ``flood:2050``) is a climate
        scenario raster: :func:`riskmap.natech.climate_scenarios` columns instead.
    natech : mapping or DataFrame, optional
        Layers ``faults``, ``earthquakes``, ``water``, ``basins`` (``{id: Basin}``),
        ``corridors`` (GeoSeries aligned with ``sites``), ``downstream_towns``
        (counts aligned with ``sites``); or a DataFrame with ready
        ``natech_seismic``/``natech_flood`` columns. Default: :func:`load_natech_layers`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``sites`` with the contract's hazard columns (see
        :data:`HAZARD_COLUMNS`) plus ``natech_fault_km``, ``natech_max_mw``,
        ``natech_water_km``, ``exposure_score`` and any raster columns.

    Examples
    --------
    >>> from riskmap import DATA_DIR, exposure, read_sites
    >>> sites = read_sites(DATA_DIR / "sites" / "sites.csv")
    >>> scored = score(exposure.assess(sites[sites["basin"] == "drina"], "drina"))
    >>> int(scored["priority_rank"].min()), bool(scored["priority_score"].dropna().between(0, 100).all())
    (1, True)
    """
    P = _params(params)
    sites, moved = set_aside_computed(sites, SCORE_OUTPUT_COLUMNS)
    out = sites.copy()
    attrs, out.attrs = out.attrs, {}  # pandas deep-copies attrs on every column access: restored at the end
    n = len(out)
    if out.crs is None:
        raise RiskmapInputError("sites have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    # ---- Natech layers ---------------------------------------------------
    ready = isinstance(natech, pd.DataFrame) and not isinstance(natech, gpd.GeoDataFrame)
    layers: dict[str, Any] = {}
    if natech is None:
        layers = load_natech_layers(out)
    elif not ready:
        layers = dict(natech)
    buf = P["natech"]["buffers"]
    corridors = layers.get("corridors")
    has_places = "downstream_places_first_km" in out.columns and out["downstream_places_first_km"].notna().any()
    # the corridors feed the raster statistics and the towns count when neither is given: built only then
    need_corridors = bool(rasters) or not ("downstream_towns" in layers or has_places)
    if corridors is None and need_corridors and layers.get("basins") and ("reach_id" in out.columns):
        corridors = _corridors(out, layers["basins"], float(buf["corridor_length_km"]),
                               float(buf["corridor_buffer_km"]))
    if "downstream_towns" in layers:
        out["downstream_towns"] = np.asarray(layers["downstream_towns"], dtype="float64")
    elif has_places:
        # riskmap.exposure.assess: GeoNames places (>= 1,000 inhabitants) within 5 km of the first 50 km
        # of the downstream path; preferred to the basins' Natural Earth towns (none on the Drina)
        out["downstream_towns"] = pd.to_numeric(out["downstream_places_first_km"], errors="coerce"
                                                ).to_numpy(dtype="float64")
    elif corridors is not None and layers.get("basins"):
        towns = [b.towns.to_crs("EPSG:4326") for b in layers["basins"].values()
                 if getattr(b, "towns", None) is not None and len(b.towns)]
        if towns:
            tw = gpd.GeoDataFrame(pd.concat(towns, ignore_index=True), crs="EPSG:4326")
            cnt = np.full(n, np.nan)
            okc = ~(corridors.isna() | corridors.is_empty).to_numpy()
            if okc.any():
                tree = shapely.STRtree(tw.geometry.values)
                gi, _ = tree.query(corridors.values[okc], predicate="intersects")
                cnt[okc] = np.bincount(gi, minlength=int(okc.sum()))
            out["downstream_towns"] = cnt
    # ---- rasters -----------------------------------------------------------
    flood_depth = None
    climate = {k: v for k, v in (rasters or {}).items() if ":" in str(k)}  # HAZARD:SCENARIO (natech.climate_scenarios)
    for name, path in ((k, v) for k, v in (rasters or {}).items() if k not in climate):
        col = f"raster_{name}"
        out[col] = sample(out, path)
        st = zonal_stats(buffer_km(out, float(buf["site_buffer_km"])), path, stats=("mean", "max"))
        out[f"{col}_site_mean"] = st["mean"].to_numpy()
        out[f"{col}_site_max"] = st["max"].to_numpy()
        if corridors is not None:
            okc = ~(corridors.isna() | corridors.is_empty)
            cm = np.full(n, np.nan)
            cx = np.full(n, np.nan)
            if okc.any():
                cs = zonal_stats(corridors[okc], path, stats=("mean", "max"))
                cm[okc.to_numpy()] = cs["mean"].to_numpy()
                cx[okc.to_numpy()] = cs["max"].to_numpy()
            out[f"{col}_corridor_mean"] = cm
            out[f"{col}_corridor_max"] = cx
        if name == "flood_depth":
            flood_depth = out[col].to_numpy()
    if climate:
        from riskmap.natech import climate_scenarios

        for c, v in climate_scenarios(out, climate).items():
            out[c] = v.to_numpy()
    # ---- Natech ------------------------------------------------------------
    if ready:
        nat = natech.reindex(out.index)  # type: ignore[union-attr]
        for c in ("natech_fault_km", "natech_max_mw", "natech_water_km"):
            if c not in nat.columns:
                nat[c] = np.nan
    else:
        nat = _natech_classes(out, faults=layers.get("faults"), earthquakes=layers.get("earthquakes"),
                                  water=layers.get("water"), flood_depth=flood_depth, params=P)
    for c in ("natech_fault_km", "natech_max_mw", "natech_water_km", "natech_seismic", "natech_flood"):
        out[c] = pd.to_numeric(nat[c], errors="coerce").to_numpy(dtype="float64")
    # ---- indices -----------------------------------------------------------
    subs = out["substances"] if "substances" in out.columns else pd.Series([None] * n, index=out.index)
    w = wri(subs, params=P)
    t = thi(out, params=P)
    r = tri(out, t, params=P)
    exp_score, exp_terms, exp_present, exp_inputs = _exposure(out, P)
    norm = P["priority"]["normalise"]
    wri_v = w["wri"].to_numpy(dtype="float64")
    thi_v = t["thi"].to_numpy(dtype="float64")
    h_wri = np.clip((wri_v - norm["wri_lo"]) / (norm["wri_hi"] - norm["wri_lo"]), 0, 1)
    h_thi = np.clip((thi_v - norm["thi_lo"]) / (norm["thi_hi"] - norm["thi_lo"]), 0, 1)
    hazard = np.fmax(h_wri, h_thi)
    cat = _text(out, "category")
    use_cat = bool(P["priority"].get("category_proxy", False))
    cat_h = cat.map(lambda c: P["priority"]["category_hazard"].get(c, np.nan) if c else np.nan
                    ).to_numpy(dtype="float64")
    pr = P["priority"]
    # ---- per-site status, reason, completeness, terms ----------------------
    status, reason, terms, completeness = [], [], [], np.full(n, np.nan)
    hazard_out = hazard.copy()
    # cells read by position in the loop below: numpy arrays (a DataFrame lookup per cell is slow)
    wa, ta, ra = ({c: f[c].to_numpy() for c in f.columns} for f in (w, t, r))
    oa = {c: out[c].to_numpy() for c in ("natech_fault_km", "natech_max_mw", "natech_water_km", "natech_seismic",
                                         "natech_flood")}
    cat_a = cat.to_numpy()
    for i in range(n):
        ws, ts, rs = wa["wri_status"][i], ta["thi_status"][i], ra["tri_status"][i]
        msgs = [m for m in (wa["wri_reason"][i] if ws != "not applicable" else "",
                            ta["thi_reason"][i], ra["tri_reason"][i]) if m]
        present, inputs = 0.0, 0
        if ws != "not applicable":
            present += (0.0 if np.isnan(wa["wri_known_share"][i]) else wa["wri_known_share"][i])
            inputs += 1
        if ts != "not applicable":
            present += float(ta["thi_present"][i]) + float(ra["tri_present"][i])
            inputs += int(ta["thi_inputs"][i]) + int(ra["tri_inputs"][i])
        if ws == "not applicable" and ts == "not applicable":
            inputs += 1  # the missing substance inventory / tailings data
            msgs.insert(0, "no substance inventory (WRI) and not a tailings facility (THI)")
        present += float(exp_present[i])
        inputs += int(exp_inputs[i])
        completeness[i] = present / inputs if inputs else np.nan
        used = [s for s, v in ((ws, wri_v[i]), (ts, thi_v[i])) if np.isfinite(v)]
        if used:
            st = _PROXY if _PROXY in used else _SCORED
        elif use_cat and np.isfinite(cat_h[i]):
            st = _PROXY
            hazard_out[i] = cat_h[i]
            msgs.append(f"hazard_score is the category-typical value for {cat_a[i]} "
                        "(priority.category_proxy)")
        else:
            st = _INSUFFICIENT
            hazard_out[i] = np.nan
        if np.isnan(exp_score[i]):
            msgs.append("exposure not assessed (transboundary_downstream unknown): not ranked")
        term: dict[str, Any] = {}
        if ws != "not applicable":
            term.update({"wri": _r(wri_v[i]), "wri_weighted": _r(wa["wri_weighted"][i]),
                         "wri_substances": int(wa["wri_n"][i])})
        term.update(ta["thi_terms"][i])
        if ts != "not applicable":
            term["thi"] = _r(thi_v[i])
        term.update(ra["tri_terms"][i])
        if rs != "not applicable":
            term["tri"] = _r(ra["tri"][i])
        term.update({"natech_fault_km": _r(oa["natech_fault_km"][i]),
                     "natech_max_mw": _r(oa["natech_max_mw"][i]),
                     "natech_water_km": _r(oa["natech_water_km"][i]),
                     "natech_seismic": _r(oa["natech_seismic"][i]),
                     "natech_flood": _r(oa["natech_flood"][i])})
        term.update(exp_terms[i])
        term["hazard_score"] = _r(hazard_out[i])
        term["exposure_score"] = _r(exp_score[i])
        term["priority_hazard_part"] = _r(100 * pr["hazard_weight"] * hazard_out[i])
        term["priority_exposure_part"] = _r(100 * pr["exposure_weight"] * exp_score[i])
        terms.append(term)
        status.append(st)
        reason.append("; ".join(msgs) if msgs else "scored from complete inputs")
    priority = 100.0 * (float(pr["hazard_weight"]) * hazard_out + float(pr["exposure_weight"]) * exp_score)
    out["wri"] = wri_v
    out["wri_band"] = w["wri_band"].to_numpy(dtype=object)
    out["thi"] = thi_v
    out["tri"] = r["tri"].to_numpy(dtype="float64")
    out["hazard_score"] = hazard_out
    out["exposure_score"] = exp_score
    out["priority_score"] = priority
    out["score_status"] = status
    out["completeness"] = np.round(completeness, 4)
    out["score_terms"] = terms
    out["score_reason"] = reason
    out["params_label"] = P["label"]
    out.attrs = attrs
    return settle_computed(rank(out, by="basin"), moved, "score")


def rank(scored: pd.DataFrame, by: str | None = "basin") -> pd.DataFrame:
    """Rank sites by ``priority_score`` within each group (default: per basin).

    Rank 1 is the highest score; ties are broken by ``site_id`` so the order
    is stable. Sites without a ``priority_score`` or without a ``by`` value
    (outside every basin) get no rank (``<NA>``).

    Parameters
    ----------
    scored : pandas.DataFrame
        Output of :func:`score` (needs ``priority_score``).
    by : str or None
        Grouping column; None ranks all sites together.

    Returns
    -------
    pandas.DataFrame
        A copy with ``priority_rank`` (nullable Int64).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"site_id": ["a", "b", "c"], "basin": ["drin", "drin", "drina"],
    ...                    "priority_score": [10.0, 30.0, 5.0]})
    >>> rank(df)["priority_rank"].tolist()
    [2, 1, 1]
    """
    out = scored.copy()
    if "priority_score" not in out.columns:
        raise RiskmapInputError("rank() needs a 'priority_score' column; run riskmap.hazard.score first")
    ps = pd.to_numeric(out["priority_score"], errors="coerce")
    ok = ps.notna()
    if by is not None:
        if by not in out.columns:
            raise RiskmapInputError(f"rank(): no column {by!r} to rank by")
        grp = out[by].astype(object).where(out[by].notna(), None)
        ok &= grp.notna()
    else:
        grp = pd.Series("all", index=out.index)
    sid = out["site_id"].astype(str) if "site_id" in out.columns else pd.Series(
        np.arange(len(out)).astype(str), index=out.index)
    tmp = pd.DataFrame({"g": grp, "ps": ps, "sid": sid, "pos": np.arange(len(out))})[ok.to_numpy()]
    tmp = tmp.sort_values(["g", "ps", "sid"], ascending=[True, False, True])
    ranks = pd.Series(pd.NA, index=np.arange(len(out)), dtype="Int64")
    ranks.iloc[tmp["pos"].to_numpy()] = (tmp.groupby("g").cumcount() + 1).to_numpy()
    out["priority_rank"] = ranks.to_numpy()
    out["priority_rank"] = out["priority_rank"].astype("Int64")
    return out
