"""Hazard indices, Natech screening and priority ranking of sites.

Indices (see ``docs/hazard.md`` for every formula, default and worked example):

- **WRI** (Water Risk Index, after the ICPDR Accident Risk Spots method) for
  sites with a substance inventory: ``log10(sum(quantity x weight(WGK)))``.
- **THI** (Tailings Hazard Index, after the UNECE/UBA TMF methodology) for
  tailings facilities: capacity + toxicity + management + natural hazards.
- **TRI** (Tailings Risk Index) = THI + downstream exposure terms.
- **Natech** seismic and flood screening classes (0..3) from GEM active
  faults, ISC-GEM epicentres, distance to rivers/lakes and optional rasters.
- **Priority**: ONE per-basin rank combining hazard and transboundary exposure
  (:mod:`riskmap.ranking`): sites without the data of an index are ranked on
  the category-typical hazard, and ``rank_basis`` says which.

All weights and tables are data (``riskmap/params/{wri,thi,priority,natech}.toml``), loaded with
:func:`load_params`. The defaults are riskmap's own documented choices, not
the official UNECE/ICPDR tables (which were not available); every result
carries ``params_label`` saying which parameters produced it.

Missing inputs stay missing: a site without the data an index needs gets
``score_status = "insufficient data"`` and a ``score_reason``, never a 0; its
``hazard_score`` is the labelled category-typical value it is ranked on
(``rank_basis = "category screening"``).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._columns import _num, _r, _step_le, _text
from riskmap.hazard_context import NATECH_COLUMNS, add_site_context
from riskmap.natech import load_natech_layers, natech  # noqa: F401  (re-exported)
from riskmap.params import DEFAULT_LABEL, _params, load_params  # noqa: F401  (re-exported)
from riskmap.ranking import category_hazard, data_hazard, exposure_score, n_foreign, priority, rank
from riskmap.schema import TMF_CATEGORIES, parse_substances, set_aside_computed, settle_computed
from riskmap.tailings_inputs import _thi_management, _thi_natural, _thi_volume, _toxicity

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
    "priority_score", "priority_rank", "rank_basis", "score_status", "completeness", "score_terms",
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
    site, q, w, n_listed, parse_err = _wri_items(s.tolist(), weights)
    known = ~np.isnan(q)
    weighted = np.zeros(len(s))
    n_known = np.zeros(len(s))
    np.add.at(weighted, site[known], q[known] * unit * w[known])
    np.add.at(n_known, site[known], 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n_listed > 0, n_known / np.maximum(n_listed, 1), np.nan)
        value = np.where((n_known > 0) & (weighted > 0), np.log10(weighted), np.nan)
    status, reason, drop = _wri_explain(parse_err, n_listed, n_known, weighted, bool(p.get("allow_partial", True)))
    value[drop] = np.nan
    return pd.DataFrame({
        "wri": value,
        "wri_band": _band(value, p["bands"]),
        "wri_status": status,
        "wri_reason": reason,
        "wri_weighted": np.where(n_known > 0, weighted, np.nan),
        "wri_known_share": share,
        "wri_n": n_listed.astype(int),
    }, index=s.index)


def _wri_items(values: list[Any], weights: dict[str, float]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[int, str]]:
    """The listed substances: site position, quantity (t, NaN unknown) and WGK weight per item.

    Also the number listed per site and the unreadable fields (position -> message).
    """
    rows_site, rows_q, rows_w = [], [], []
    n_listed = np.zeros(len(values))
    parse_err: dict[int, str] = {}
    for i, v in enumerate(values):
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
    return (np.asarray(rows_site, dtype=int), np.asarray(rows_q, dtype="float64"),
            np.asarray(rows_w, dtype="float64"), n_listed, parse_err)


def _wri_explain(parse_err: dict[int, str], n_listed: np.ndarray, n_known: np.ndarray, weighted: np.ndarray,
                 allow_partial: bool) -> tuple[list[str], list[str], np.ndarray]:
    """WRI status and reason per site, and where the value is dropped (unreadable, or partial when not allowed)."""
    status, reason = [], []
    drop = np.zeros(len(n_listed), dtype=bool)
    for i in range(len(n_listed)):
        unknown = f"quantity unknown for {int(n_listed[i] - n_known[i])} of {int(n_listed[i])} substances"
        if i in parse_err:
            st, why, drop[i] = _INSUFFICIENT, f"WRI: substances field unreadable ({parse_err[i]})", True
        elif n_listed[i] == 0:
            st, why = "not applicable", "WRI: no substance inventory"
        elif n_known[i] == 0:
            st, why = _INSUFFICIENT, f"WRI: quantity unknown for all {int(n_listed[i])} listed substance(s)"
        elif weighted[i] <= 0:
            st, why = _INSUFFICIENT, "WRI: all listed quantities are 0 t (WRI undefined)"
        elif n_known[i] < n_listed[i] and allow_partial:
            st, why = _PROXY, f"WRI: {unknown} (lower bound)"
        elif n_known[i] < n_listed[i]:
            st, why, drop[i] = _INSUFFICIENT, f"WRI: {unknown} (wri.allow_partial = false)", True
        else:
            st, why = _SCORED, ""
        status.append(st)
        reason.append(why)
    return status, reason, drop


# --------------------------------------------------------------------------
# THI and TRI
# --------------------------------------------------------------------------


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
    p = _params(params)["thi"]
    is_tmf = _text(sites, "category").isin(list(TMF_CATEGORIES)).to_numpy()
    c: dict[str, Any] = {"is_tmf": is_tmf, **_thi_volume(sites, p, is_tmf), **_thi_management(sites, p),
                         **_thi_natural(sites, p)}
    c["tox"], c["tox_proxy"], c["tox_kind"] = _toxicity(sites, p)
    c["tailings_type"] = _text(sites, "tailings_type").to_numpy(dtype=object)
    total = c["capacity"] + c["tox"] + c["mgmt"] + c["seis"] + c["flood"]
    present = ((c["vol_ok"] & ~c["vol_proxy"]).astype(int) + (~c["tox_proxy"]).astype(int)
               + c["cond_known"].astype(int) + np.isfinite(c["seis_cls"]).astype(int)
               + np.isfinite(c["flood_cls"]).astype(int))
    rows = [_thi_explain(c, i, p) for i in range(len(sites))]
    status = [r[0] for r in rows]
    total[np.isin(status, ("not applicable", _INSUFFICIENT))] = np.nan
    return pd.DataFrame({
        "thi": total, "thi_status": status, "thi_reason": [r[1] for r in rows], "thi_terms": [r[2] for r in rows],
        "thi_present": np.where(is_tmf, present, 0), "thi_inputs": np.where(is_tmf, 5, 0),
    }, index=sites.index)


def _thi_proxies(c: dict[str, Any], i: int, p: dict) -> list[str]:
    """The THI inputs of site ``i`` replaced by a proxy, in words."""
    out = []
    if c["vol_proxy"][i] and c["vol_ok"][i]:
        out.append(f"tailings_volume_m3 blank, {c['vol'][i]:.3g} m3 read from notes ('{c['vol_txt'][i]}')")
    if c["tox_proxy"][i]:
        tt, kind = c["tailings_type"][i], c["tox_kind"][i]
        out.append(f"tailings_type missing (category-typical toxicity '{kind}')" if tt is None
                   else f"tailings_type '{tt}' not in the toxicity table (category-typical '{kind}')")
    if not c["cond_known"][i]:
        out.append(f"dam_condition unknown (precautionary {p['management']['unknown']:g})")
    missing = p["natural_hazard"]["missing"]
    if not np.isfinite(c["seis_cls"][i]):
        out.append(f"seismic class missing (mid-scale {missing:g})")
    if not np.isfinite(c["flood_cls"][i]):
        out.append(f"flood class missing (mid-scale {missing:g})")
    return out


def _thi_explain(c: dict[str, Any], i: int, p: dict) -> tuple[str, str, dict[str, Any]]:
    """THI status, reason and terms of site ``i``."""
    if not c["is_tmf"][i]:
        return "not applicable", "", {}
    terms = {"thi_volume_m3": _r(c["vol"][i]), "thi_capacity": _r(c["capacity"][i]), "thi_toxicity": _r(c["tox"][i]),
             "thi_toxicity_kind": c["tox_kind"][i], "thi_management": _r(c["mgmt"][i]),
             "thi_seismic": _r(c["seis"][i]), "thi_flood": _r(c["flood"][i])}
    if not c["vol_ok"][i]:
        vol = c["vol"][i]
        why = ("tailings_volume_m3 missing" if not np.isfinite(vol)
               else f"tailings_volume_m3 {vol:g} below {p['capacity_min_m3']:g}")
        also = [m for m, ok in (("tailings_type", not c["tox_proxy"][i]), ("dam_condition", c["cond_known"][i]),
                                ("seismic class", np.isfinite(c["seis_cls"][i])),
                                ("flood class", np.isfinite(c["flood_cls"][i]))) if not ok]
        return _INSUFFICIENT, "THI: " + why + (f" (also unknown: {', '.join(also)})" if also else ""), terms
    proxies = _thi_proxies(c, i, p)
    if proxies:
        return _PROXY, "THI proxy: " + "; ".join(proxies), terms
    return _SCORED, "", terms


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
    if thi_frame is None:
        thi_frame = thi(sites, params=P)
    c = _tri_parts(sites, P["tri"])
    th = thi_frame["thi"].to_numpy(dtype="float64")
    extra = (c["countries"] + np.nan_to_num(c["first_border"]) + np.nan_to_num(c["travel_time"])
             + (np.nan_to_num(c["towns_term"]) if c["has_towns"] else 0.0))
    total = th + extra
    present = (np.isfinite(c["n_foreign"]).astype(int) + np.isfinite(c["first_border"]).astype(int)
               + np.isfinite(c["travel_time"]).astype(int)
               + (np.isfinite(c["towns"]).astype(int) if c["has_towns"] else 0))
    rows = [_tri_explain(c, i, ts, th[i]) for i, ts in enumerate(thi_frame["thi_status"].to_numpy())]
    status = [r[0] for r in rows]
    total[np.isin(status, ("not applicable", _INSUFFICIENT))] = np.nan
    return pd.DataFrame({"tri": total, "tri_status": status, "tri_reason": [r[1] for r in rows],
                         "tri_terms": [r[2] for r in rows], "tri_present": present,
                         "tri_inputs": 3 + int(c["has_towns"])}, index=sites.index)


def _tri_parts(sites: pd.DataFrame, p: dict) -> dict[str, Any]:
    """The downstream terms of TRI (0 when nothing foreign lies downstream) and their inputs."""
    nf, tb = n_foreign(sites)
    no_border = (tb == 0) | ((nf == 0) & np.isnan(tb))
    towns = _num(sites, "downstream_towns")
    return {
        "n_foreign": nf, "has_towns": "downstream_towns" in sites.columns, "towns": towns,
        "countries": np.minimum(nf, float(p["max_downstream_countries"])) * float(p["per_downstream_country"]),
        "first_border": np.where(no_border, 0.0, _step_le(_num(sites, "first_border_river_km"), p["first_border"],
                                                          "max_km")),
        "travel_time": np.where(no_border, 0.0, _step_le(_num(sites, "travel_time_h"), p["travel_time"], "max_h")),
        "towns_term": np.minimum(towns, float(p["max_towns"])) * float(p["towns_per_town"]),
    }


def _tri_explain(c: dict[str, Any], i: int, thi_status: str, thi_value: float) -> tuple[str, str, dict[str, Any]]:
    """TRI status, reason and terms of site ``i``."""
    if thi_status == "not applicable":
        return "not applicable", "", {}
    term = {"tri_downstream_countries": _r(c["countries"][i]), "tri_first_border": _r(c["first_border"][i]),
            "tri_travel_time": _r(c["travel_time"][i])}
    if c["has_towns"]:
        term["tri_towns"] = _r(c["towns_term"][i])
    why = [m for m, ok in (("THI insufficient", np.isfinite(thi_value)),
                           ("downstream_countries not assessed", np.isfinite(c["n_foreign"][i]))) if not ok]
    lower = [m for m, ok in (("first_border_river_km missing", np.isfinite(c["first_border"][i])),
                             ("travel_time_h missing", np.isfinite(c["travel_time"][i])),
                             ("downstream_towns missing", not c["has_towns"] or np.isfinite(c["towns"][i]))) if not ok]
    if why:
        return _INSUFFICIENT, "TRI: " + "; ".join(why), term
    if lower or thi_status == _PROXY:
        return _PROXY, ("TRI lower bound: " + "; ".join(lower) if lower else "TRI proxy (THI proxy)"), term
    return _SCORED, "", term


# --------------------------------------------------------------------------
# Combination: status, completeness, priority (the ranking: riskmap.ranking)
# --------------------------------------------------------------------------


def score(sites: gpd.GeoDataFrame, *, params=None, rasters: Mapping[str, Any] | None = None,
          natech: Mapping[str, Any] | pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Score assessed sites: WRI, THI/TRI, Natech, hazard, priority and the ONE rank.

    Every site with an exposure score is ranked within its basin
    (:mod:`riskmap.ranking`): on its own hazard where WRI or THI is computed
    (``rank_basis = "site data"``), else on the category-typical hazard of
    ``priority.category_hazard`` (``rank_basis = "category screening"``; its
    ``score_status`` stays ``insufficient data``, or ``proxy`` with
    ``priority.category_proxy = true``). Every output reads this rank.

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
    if out.crs is None:
        raise RiskmapInputError("sites have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    add_site_context(out, P, rasters, natech)
    _add_scores(out, P)
    out.attrs = attrs
    return settle_computed(rank(out, by="basin"), moved, "score")


def _add_scores(out: gpd.GeoDataFrame, P: dict) -> None:
    """The indices, hazard, exposure and priority columns of one scoring pass (in place; ranked after)."""
    subs = out["substances"] if "substances" in out.columns else pd.Series([None] * len(out), index=out.index)
    w = wri(subs, params=P)
    t = thi(out, params=P)
    r = tri(out, t, params=P)
    exp, exp_terms, exp_present, exp_inputs = exposure_score(out, P)
    cat = _text(out, "category")
    wri_v, thi_v = w["wri"].to_numpy(dtype="float64"), t["thi"].to_numpy(dtype="float64")
    data_h = data_hazard(wri_v, thi_v, P)
    cat_h = category_hazard(cat, P)
    hazard, prio, basis = priority(data_h, cat_h, exp, P)
    ws, ts = w["wri_status"].to_numpy(dtype=object), t["thi_status"].to_numpy(dtype=object)
    screened = ~np.isfinite(data_h) & np.isfinite(cat_h)
    out["wri"] = wri_v
    out["wri_band"] = w["wri_band"].to_numpy(dtype=object)
    out["thi"] = thi_v
    out["tri"] = r["tri"].to_numpy(dtype="float64")
    out["hazard_score"] = hazard
    out["exposure_score"] = exp
    out["priority_score"] = prio
    out["rank_basis"] = basis
    out["score_status"] = _status(ws, ts, wri_v, thi_v, screened & bool(P["priority"].get("category_proxy", False)))
    out["completeness"] = np.round(_completeness(w, t, r, exp_present, exp_inputs), 4)
    out["score_terms"] = _terms(out, w, t, r, exp_terms, P)
    screened_cat = np.array([c if sc else None for c, sc in zip(cat.tolist(), screened)], dtype=object)
    out["score_reason"] = _reasons(w, t, r, screened_cat, exp)
    out["params_label"] = P["label"]


def _status(ws: np.ndarray, ts: np.ndarray, wri_v: np.ndarray, thi_v: np.ndarray,
            labelled_proxy: np.ndarray) -> np.ndarray:
    """``score_status``: ``proxy`` when an index used is a proxy, ``scored`` when all are.

    Else ``insufficient data`` (``proxy`` for the category screening when ``priority.category_proxy``).
    """
    has_w, has_t = np.isfinite(wri_v), np.isfinite(thi_v)
    proxy = (has_w & (ws == _PROXY)) | (has_t & (ts == _PROXY))
    st = np.where(has_w | has_t, np.where(proxy, _PROXY, _SCORED), _INSUFFICIENT).astype(object)
    st[labelled_proxy] = _PROXY
    return st


def _completeness(w: pd.DataFrame, t: pd.DataFrame, r: pd.DataFrame, exp_present: np.ndarray,
                  exp_inputs: np.ndarray) -> np.ndarray:
    """Share of the applicable scoring inputs that were known (a site with neither index misses one)."""
    wa = w["wri_status"].to_numpy(dtype=object) != "not applicable"
    ta = t["thi_status"].to_numpy(dtype=object) != "not applicable"
    share = np.nan_to_num(w["wri_known_share"].to_numpy(dtype="float64"))
    present = (np.where(wa, share, 0.0) + np.where(ta, t["thi_present"] + r["tri_present"], 0.0)
               + exp_present)
    inputs = (wa.astype(int) + np.where(ta, t["thi_inputs"] + r["tri_inputs"], 0) + (~wa & ~ta).astype(int)
              + exp_inputs)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inputs > 0, present / np.maximum(inputs, 1), np.nan)


def _reasons(w: pd.DataFrame, t: pd.DataFrame, r: pd.DataFrame, screened_category: np.ndarray,
             exp: np.ndarray) -> list[str]:
    """``score_reason`` in words: the index reasons, the category screening, an unknown exposure."""
    out = []
    for ws, wr, ts, tr, rr, cat, e in zip(w["wri_status"], w["wri_reason"], t["thi_status"], t["thi_reason"],
                                          r["tri_reason"], screened_category, exp):
        msgs = [m for m in (wr if ws != "not applicable" else "", tr, rr) if m]
        if ws == "not applicable" and ts == "not applicable":
            msgs.insert(0, "no substance inventory (WRI) and not a tailings facility (THI)")
        if cat is not None:
            msgs.append(f"hazard_score is the category-typical value for {cat} (category screening: "
                        "no site data)")
        if np.isnan(e):
            msgs.append("exposure not assessed (transboundary_downstream unknown): not ranked")
        out.append("; ".join(msgs) if msgs else "scored from complete inputs")
    return out


def _terms(out: pd.DataFrame, w: pd.DataFrame, t: pd.DataFrame, r: pd.DataFrame, exp_terms: list[dict],
           P: dict) -> list[dict[str, Any]]:
    """``score_terms`` of each site: index terms, Natech, exposure terms and the two priority parts."""
    hw, ew = 100 * float(P["priority"]["hazard_weight"]), 100 * float(P["priority"]["exposure_weight"])
    cols = {c: out[c].to_numpy() for c in (*NATECH_COLUMNS, "wri", "thi", "tri", "hazard_score", "exposure_score")}
    idx = {c: f[c].to_numpy() for f, names in ((w, ("wri_status", "wri_weighted", "wri_n")),
                                               (t, ("thi_status", "thi_terms")), (r, ("tri_status", "tri_terms")))
           for c in names}
    terms = []
    for i in range(len(out)):
        term: dict[str, Any] = {}
        if idx["wri_status"][i] != "not applicable":
            term.update({"wri": _r(cols["wri"][i]), "wri_weighted": _r(idx["wri_weighted"][i]),
                         "wri_substances": int(idx["wri_n"][i])})
        term.update(idx["thi_terms"][i])
        if idx["thi_status"][i] != "not applicable":
            term["thi"] = _r(cols["thi"][i])
        term.update(idx["tri_terms"][i])
        if idx["tri_status"][i] != "not applicable":
            term["tri"] = _r(cols["tri"][i])
        term.update({c: _r(cols[c][i]) for c in NATECH_COLUMNS})
        term.update(exp_terms[i])
        h, e = cols["hazard_score"][i], cols["exposure_score"][i]
        term.update({"hazard_score": _r(h), "exposure_score": _r(e), "priority_hazard_part": _r(hw * h),
                     "priority_exposure_part": _r(ew * e)})
        terms.append(term)
    return terms
