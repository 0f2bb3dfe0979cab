"""The report's tables: the top sites, the transboundary exposure matrix and the per-country sections.

Every function returns plain data for ``templates/report.html.j2``; text from
the data is escaped by the template (Jinja2 autoescape), never here. Messages
belong to the gettext domain ``report_text``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskmap.i18n import N_, _, country_label
from riskmap.report_figures import EXPOSURE_ORDER as _EXPOSURE_ORDER
from riskmap.report_ranking import TOP_N, foreign_downstream
from riskmap.report_values import _as_dict, _as_list, count_rows, cell_text, _looks_iso, _missing, exposure_name
from riskmap.schema import CATEGORIES, STATUSES


#: Score terms shown first in the top-priority table (the rest follow in small print).
_MAIN_TERMS = ("priority_hazard_part", "priority_exposure_part", "hazard_score", "exposure_score",
               "wri", "thi", "tri", "natech_seismic", "natech_flood")


def _top_sites(sites: pd.DataFrame, n: int = TOP_N) -> list[dict[str, Any]]:
    if "priority_rank" in sites.columns:
        key = pd.to_numeric(sites["priority_rank"], errors="coerce")
        order = key.sort_values(na_position="last", kind="stable").index
        ranked = sites.loc[order]
        ranked = ranked[pd.to_numeric(ranked["priority_rank"], errors="coerce").notna()]
    elif "priority_score" in sites.columns:
        key = pd.to_numeric(sites["priority_score"], errors="coerce")
        ranked = sites.loc[key.sort_values(ascending=False, na_position="last", kind="stable").index]
        ranked = ranked[pd.to_numeric(ranked["priority_score"], errors="coerce").notna()]
    else:
        return []
    out = []
    for _i, r in ranked.head(n).iterrows():
        terms = _as_dict(r.get("score_terms"))
        main = [k for k in _MAIN_TERMS if k in terms]
        main += [k for k in sorted(terms) if k.startswith("priority_") and k not in main]
        other = [k for k in sorted(terms) if k not in main]
        out.append({
            "rank": cell_text(r.get("priority_rank")), "site_id": r.get("site_id"), "name": r.get("name"),
            "category": r.get("category"), "country": country_label(r.get("country")),
            "exposure_class": exposure_name(r.get("exposure_class")), "score": cell_text(r.get("priority_score"), 3),
            "status": cell_text(r.get("score_status")), "completeness": cell_text(r.get("completeness")),
            "downstream": cell_text(_as_list(r.get("downstream_countries")) or None),
            "first_border_km": cell_text(r.get("first_border_river_km"), 1),
            "reason": cell_text(r.get("score_reason")),
            "terms": [(k, cell_text(terms[k], 3)) for k in main],
            "other_terms": "; ".join(f"{k}: {cell_text(terms[k], 3)}" for k in other),
        })
    return out


_MATRIX_LABELS = {"sites": N_("sites (all)"), "transboundary": N_("sites with a transboundary path")}


def _matrix_context(matrix: pd.DataFrame | None) -> dict[str, Any] | None:
    if matrix is None or not isinstance(matrix, pd.DataFrame) or matrix.empty:
        return None
    m = matrix
    if isinstance(m.index, pd.MultiIndex):  # (basin, origin) from riskmap.exposure.exposure_matrix
        if "basin" in m.index.names and m.index.get_level_values("basin").nunique() <= 1:
            m = m.droplevel("basin")
        else:
            m = m.copy()
            m.index = [" / ".join(str(x) for x in t) for t in m.index]
    index_name = str(m.index.name or "")
    if isinstance(m.index, pd.RangeIndex) and m.shape[1] > 1 and m.dtypes.iloc[0] == object:  # noqa: E721 - dtype equality, not a type check
        index_name = str(m.columns[0])
        m = m.set_index(m.columns[0])
    if index_name in ("origin", ""):
        index_name = _("country of the site")
    cols = [str(c) for c in m.columns]
    return {
        "index_name": index_name.replace("_", " "),
        "columns": [country_label(c) if _looks_iso(c) else _(_MATRIX_LABELS[c]) if c in _MATRIX_LABELS else c
                    for c in cols],
        "rows": [{"label": country_label(i) if isinstance(i, str) and _looks_iso(i) else cell_text(i),
                  "values": [cell_text(v) for v in row]} for i, row in zip(m.index, m.to_numpy())],
        "codes": [str(i) for i in m.index] + cols,
    }


def _site_rows(sub: pd.DataFrame, titles: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every site of a country in words: ranked first (its number in the ranking), then by exposure and name."""
    from riskmap.report_labels import category_name, precision_name, score_status_name, source_name, status_name

    if sub.empty:
        return []
    n = len(sub)
    rank = pd.to_numeric(sub["priority_rank"], errors="coerce").to_numpy(dtype=float) \
        if "priority_rank" in sub.columns else np.full(n, np.nan)
    ecls = sub["exposure_class"].astype(object).map(
        lambda v: _EXPOSURE_ORDER.index(v) if v in _EXPOSURE_ORDER else len(_EXPOSURE_ORDER)).to_numpy() \
        if "exposure_class" in sub.columns else np.zeros(n)
    names = sub["name"].astype(object).map(lambda v: "" if _missing(v) else str(v).lower()).to_numpy()
    order = np.lexsort((names, ecls, np.nan_to_num(rank, nan=np.inf)))
    rows = sub.iloc[order]

    def get(c: str) -> list[Any]:
        return rows[c].tolist() if c in rows.columns else [None] * n

    basis = get("basis") if "basis" in rows.columns else get("score_status")
    return [{"no": cell_text(no) if not _missing(no) else "", "name": nm, "category": category_name(cat),
             "status": status_name(st), "exposure_class": exposure_name(ex), "basis": score_status_name(b),
             "coord_precision": precision_name(pr), "source": source_name(src, titles)}
            for no, nm, cat, st, ex, b, pr, src in zip(get("priority_rank"), get("name"), get("category"),
                                                          get("status"), get("exposure_class"), basis,
                                                          get("coord_precision"), get("source"))]


def country_sections(sites: pd.DataFrame, riparian: list[str],
                      titles: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One report section per country: the riparian countries first, then any other, then "unknown".

    Parameters
    ----------
    sites : pandas.DataFrame
        The basin's sites (as ranked for the report).
    riparian : list of str
        ISO3 codes of the basin's riparian countries, in the basin's order.
    titles : mapping, optional
        Source name -> title, for the sites' sources.

    Returns
    -------
    list of dict
        Per country: ``code``, ``label`` (in the current language), ``n`` sites, ``by_category``,
        ``by_status``, ``transboundary``, ``top`` sites, ``sites`` and ``reaches``.

    Examples
    --------
    >>> s = pd.DataFrame({"site_id": ["a"], "name": ["A"], "category": ["mine"], "country": ["SRB"]})
    >>> [(c["code"], c["label"], c["n"]) for c in country_sections(s, ["BIH", "SRB"])]
    [('BIH', 'Bosnia and Herzegovina', 0), ('SRB', 'Serbia', 1)]
    """
    from riskmap.report_labels import category_name, status_name

    country = (sites["country"].astype(object).map(lambda v: "unknown" if _missing(v) else str(v))
               if "country" in sites.columns else pd.Series("unknown", index=sites.index, dtype=object))
    codes = list(dict.fromkeys([*riparian, *sorted(c for c in country.unique() if c != "unknown")]))
    if (country == "unknown").any():
        codes.append("unknown")
    out = []
    for code in codes:
        sub = sites[(country == code).to_numpy()]
        tb = None
        if "transboundary_downstream" in sub.columns:
            tb = int(sub["transboundary_downstream"].astype("boolean").fillna(False).sum())
        foreign = pd.Series([c for codes_, own in zip(sub.get("downstream_countries", []), sub.get("country", []))
                             for c in foreign_downstream(codes_, own)], dtype=object).value_counts()
        out.append({
            "code": code, "label": country_label(code), "n": len(sub),
            "by_category": count_rows(sub["category"], CATEGORIES, category_name) if len(sub) else [],
            "by_status": count_rows(sub["status"], STATUSES, status_name)
            if len(sub) and "status" in sub.columns else [],
            "transboundary": tb,
            "reaches": [f"{country_label(c)} ({cell_text(int(k))})" for c, k in foreign.items()],
            "top": _top_sites(sub, 5),
            "sites": _site_rows(sub, titles),
        })
    return out
