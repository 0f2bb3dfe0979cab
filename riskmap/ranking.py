"""The one priority ranking of a basin's sites (every output reads it).

:func:`riskmap.hazard.score` calls this module once per scoring pass; the
map, report, contingency cards, exercises, ``spill --all`` and the exports
read its ``priority_rank`` and ``rank_basis`` columns and never rank again.

- ``hazard_score`` (0..1) is the larger of the site's normalised WRI and THI
  (``priority.normalise``) where the site has the data for either; a site
  without them gets the category-typical hazard of ``priority.category_hazard``
  (the *category screening*), so that every assessed site is ranked.
- ``exposure_score`` (0..1) sums the transboundary exposure terms
  (``priority.exposure``); unknown exposure leaves a site unranked.
- ``priority_score = 100 * (hazard_weight * hazard_score + exposure_weight * exposure_score)``
  and ``priority_rank`` is 1, 2, ... by ``priority_score`` within each basin
  (ties by ``site_id``).
- ``rank_basis`` says what a rank rests on: ``"site data"`` or
  ``"category screening"`` (empty when the site is not ranked).

The formulas and defaults are in ``docs/hazard.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmap._columns import _bool, _foreign_countries, _num, _r, _step_le, _text
from riskmap._errors import RiskmapInputError

__all__ = ["RANK_BASIS_CATEGORY", "RANK_BASIS_DATA", "exposure_score", "priority", "rank"]

#: ``rank_basis`` of a site ranked on its own data (WRI or THI computed).
RANK_BASIS_DATA = "site data"
#: ``rank_basis`` of a site ranked on the category-typical hazard (no WRI or THI).
RANK_BASIS_CATEGORY = "category screening"


def n_foreign(sites: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Foreign countries downstream of each site (NaN unknown) and ``transboundary_downstream`` (1/0/NaN).

    A known "nothing foreign downstream" sets the count to 0.

    Examples
    --------
    >>> df = pd.DataFrame({"country": ["KGZ", "UZB"], "downstream_countries": [["KGZ", "UZB"], None],
    ...                    "transboundary_downstream": [True, False]})
    >>> [a.tolist() for a in n_foreign(df)]
    [[1.0, 0.0], [1.0, 0.0]]
    """
    n = len(sites)
    own = _text(sites, "country").tolist()
    ds = sites["downstream_countries"].tolist() if "downstream_countries" in sites.columns else [None] * n
    count = np.array([_foreign_countries(d, o) for d, o in zip(ds, own)], dtype="float64")
    tb = _bool(sites, "transboundary_downstream")
    return np.where(np.isnan(count) & (tb == 0), 0.0, count), tb


def exposure_score(sites: pd.DataFrame, P: dict) -> tuple[np.ndarray, list[dict], np.ndarray, np.ndarray]:
    """Exposure score (0..1; NaN when whether anything foreign lies downstream is unknown) and its terms.

    Returns
    -------
    tuple
        Score, the terms per site (dicts), inputs present and inputs applicable.
    """
    e = P["priority"]["exposure"]
    nf, tb = n_foreign(sites)
    tb = np.where(np.isnan(tb) & np.isfinite(nf), (nf > 0).astype(float), tb)
    obw = _bool(sites, "on_border_water")
    fb = np.where(tb == 0, 0.0, _step_le(_num(sites, "first_border_river_km"), e["first_border"], "max_km"))
    t_tb = tb * float(e["transboundary_downstream"])
    t_n = np.minimum(nf, float(e["max_downstream_countries"])) * float(e["per_downstream_country"])
    t_obw = obw * float(e["on_border_water"])
    score = np.minimum(1.0, np.nan_to_num(t_tb) + np.nan_to_num(t_n) + np.nan_to_num(fb) + np.nan_to_num(t_obw))
    score = np.where(np.isfinite(tb), score, np.nan)  # core: whether anything foreign lies downstream
    present = (np.isfinite(tb).astype(int) + np.isfinite(nf).astype(int)
               + np.isfinite(fb).astype(int) + np.isfinite(obw).astype(int))
    terms = [{"exp_transboundary": _r(a), "exp_downstream_countries": _r(b), "exp_first_border": _r(c),
              "exp_on_border_water": _r(d)} for a, b, c, d in zip(t_tb, t_n, fb, t_obw)]
    return score, terms, present, np.full(len(sites), 4)


def data_hazard(wri: np.ndarray, thi: np.ndarray, P: dict) -> np.ndarray:
    """The hazard (0..1) from the site's own indices: the larger normalised WRI or THI (NaN without either).

    Examples
    --------
    >>> from riskmap.params import load_params
    >>> data_hazard(np.array([6.5, np.nan]), np.array([np.nan, np.nan]), load_params()).tolist()
    [0.5, nan]
    """
    norm = P["priority"]["normalise"]
    h_wri = np.clip((wri - norm["wri_lo"]) / (norm["wri_hi"] - norm["wri_lo"]), 0, 1)
    h_thi = np.clip((thi - norm["thi_lo"]) / (norm["thi_hi"] - norm["thi_lo"]), 0, 1)
    return np.fmax(h_wri, h_thi)


def category_hazard(category: pd.Series, P: dict) -> np.ndarray:
    """The category-typical hazard (0..1) of ``priority.category_hazard`` per site (NaN for other categories)."""
    table = P["priority"]["category_hazard"]
    return category.map(lambda c: table.get(c, np.nan) if c else np.nan).to_numpy(dtype="float64")


def priority(data_h: np.ndarray, cat_h: np.ndarray, exposure: np.ndarray,
             P: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hazard the rank rests on, the priority score (0..100) and the rank basis of each site.

    The site's own hazard where it has one, else its category's (the
    category screening). ``rank_basis`` is empty (None) where the priority
    score is missing (unknown exposure, or neither hazard).

    Examples
    --------
    >>> from riskmap.params import load_params
    >>> h, s, b = priority(np.array([0.5, np.nan, np.nan]), np.array([0.4, 0.3, 0.3]),
    ...                    np.array([1.0, 0.5, np.nan]), load_params())
    >>> h.tolist(), s.round(1).tolist(), b.tolist()
    ([0.5, 0.3, 0.3], [70.0, 38.0, nan], ['site data', 'category screening', None])
    """
    pr = P["priority"]
    has_data = np.isfinite(data_h)
    hazard = np.where(has_data, data_h, cat_h)
    score = 100.0 * (float(pr["hazard_weight"]) * hazard + float(pr["exposure_weight"]) * exposure)
    basis = np.where(has_data, RANK_BASIS_DATA, RANK_BASIS_CATEGORY).astype(object)
    basis[~np.isfinite(score)] = None
    return hazard, score, basis


def rank(scored: pd.DataFrame, by: str | None = "basin") -> pd.DataFrame:
    """Rank sites by ``priority_score`` within each group (default: per basin).

    Rank 1 is the highest score; ties are broken by ``site_id`` so the order
    is stable. Sites without a ``priority_score`` or without a ``by`` value
    (outside every basin) get no rank (``<NA>``); so does their
    ``rank_basis`` when the frame has one.

    Parameters
    ----------
    scored : pandas.DataFrame
        Output of :func:`riskmap.hazard.score` (needs ``priority_score``).
    by : str or None
        Grouping column; None ranks all sites together.

    Returns
    -------
    pandas.DataFrame
        A copy with ``priority_rank`` (nullable Int64).

    Examples
    --------
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
    if "rank_basis" in out.columns:
        out["rank_basis"] = out["rank_basis"].astype(object).where(out["priority_rank"].notna().to_numpy(), None)
    return out
