"""The report's data quality, coverage and methodology: what is missing, who filled it in, how sites were assessed.

Every function returns plain data for the "Data quality" and "Methodology"
chapters of ``templates/report.html.j2``. Messages belong to the gettext
domain ``report_text``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmap.i18n import _, country_label, current_lang
from riskmap.report_figures import EXPOSURE_ORDER as _EXPOSURE_ORDER
from riskmap.report_values import _as_dict, count_rows, cell_text, _missing, share_text, exposure_name
from riskmap.schema import COORD_PRECISIONS, DIVIDE_BUFFER_KM, TMF_CATEGORIES


#: Hazard-relevant input fields and the categories they apply to (None = every site).
_QUALITY_FIELDS: tuple[tuple[str, frozenset[str] | None], ...] = (
    ("status", None),
    ("substances", frozenset({"chemical_plant", "oil_refinery_depot", "smelter_refinery",
                              "oil_gas_extraction", "pipeline"})),
    ("tailings_volume_m3", TMF_CATEGORIES),
    ("tailings_area_ha", TMF_CATEGORIES),
    ("dam_height_m", TMF_CATEGORIES | {"dam_reservoir"}),
    ("dam_condition", TMF_CATEGORIES | {"dam_reservoir"}),
    ("reservoir_volume_m3", frozenset({"dam_reservoir"})),
    ("capacity_mw", frozenset({"thermal_power_plant"})),
    ("capacity_t_yr", frozenset({"smelter_refinery", "chemical_plant", "oil_refinery_depot", "mine"})),
)


#: At most this many dropped rows are listed in the report (the rest: ``riskmap validate FILE``).
MAX_DROPPED_LISTED = 200


def _dropped_rows_context(report: Any, left_out: Any = None) -> dict[str, Any] | None:
    """Rows of the input file that failed validation (row, line, column, reason), or None.

    ``left_out`` (a :class:`riskmap.pipeline.LeftOut`) adds the sentence on the
    valid sites outside the report's basin (``outside``).
    """
    file = Path(str(report.file)).name if report is not None and getattr(report, "file", None) else None
    outside = left_out.message(file) if left_out is not None and left_out.n else None
    if (report is None or report.n_rows - report.n_kept <= 0) and outside is None:
        return None
    if report is None or report.n_rows - report.n_kept <= 0:
        return {"file": file, "n_rows": 0, "n_dropped": 0, "rows": [], "more": 0, "outside": outside}
    rows = [{"row": i.row, "line": i.line if i.line is not None else "", "column": i.column or "",
             "reason": i.reason} for i in report.errors if i.row is not None]
    return {"file": file, "n_rows": report.n_rows,
            "n_dropped": report.n_rows - report.n_kept, "rows": rows[:MAX_DROPPED_LISTED],
            "more": max(0, len(rows) - MAX_DROPPED_LISTED), "outside": outside}


def quality_context(sites: pd.DataFrame) -> dict[str, Any]:
    """The report's data-quality section: coordinate precision, missing and filled hazard fields.

    Parameters
    ----------
    sites : pandas.DataFrame
        The basin's sites (as ranked for the report).

    Returns
    -------
    dict
        ``precision`` (counts and shares per coordinate precision), ``precision_help``,
        ``missing`` (share of sites missing each hazard field that applies to them),
        ``coverage``, ``coverage_fields`` and ``questionnaire_sites``; labels in the current language.

    Examples
    --------
    >>> s = pd.DataFrame({"category": ["mine", "mine"], "coord_precision": ["exact", "approximate"]})
    >>> [(r["key"], r["n"], float(r["pct"])) for r in quality_context(s)["precision"]]
    [('exact', 1, 50.0), ('approximate', 1, 50.0)]
    """
    from riskmap.report_labels import category_name, drainage_name, field_name, precision_name, score_status_name

    q: dict[str, Any] = {"precision": count_rows(sites["coord_precision"], COORD_PRECISIONS, precision_name)
                         if "coord_precision" in sites.columns else []}
    q["precision_help"] = {k: _(v) for k, v in COORD_PRECISIONS.items()}
    rows = []
    cat = sites["category"].astype(object) if "category" in sites.columns else pd.Series(dtype=object)
    for col, cats in _QUALITY_FIELDS:
        rel = cat.isin(cats).to_numpy() if cats is not None else np.ones(len(sites), dtype=bool)
        n_rel = int(rel.sum())
        if col in sites.columns:
            vals = sites.loc[rel, col]
            miss = int(vals.map(_missing).sum()) if col != "status" else int(
                vals.map(lambda v: _missing(v) or v == "unknown").sum())
        else:
            miss = n_rel
        rows.append({"field": field_name(col),
                     "applies_to": _("all sites") if cats is None
                     else ", ".join(sorted(category_name(c) for c in cats)),
                     "n": n_rel, "missing": miss,
                     "share": share_text(miss, n_rel) if n_rel else _("no such sites")})
    q["missing"] = rows
    if "score_status" in sites.columns:
        q["score_status"] = count_rows(sites["basis"] if "basis" in sites.columns else sites["score_status"],
                                    ("scored", "proxy", "insufficient data"), score_status_name)
    if "completeness" in sites.columns:
        c = pd.to_numeric(sites["completeness"], errors="coerce")
        q["completeness_mean"] = cell_text(c.mean()) if c.notna().any() else _("unknown")
    if "drainage_by" in sites.columns:
        q["drainage_by"] = count_rows(sites["drainage_by"], ("dem flow path", "river snap", "basin allocation", "none"),
                                   drainage_name)
    q.update(_coverage_context(sites))
    return q


def _returns_context(prov: dict | None) -> dict[str, Any]:
    """The questionnaire returns the inventory build merged, and how many sites they moved to a score."""
    after = (prov or {}).get("after") if isinstance(prov, dict) else None
    if not isinstance(after, dict) or not after.get("files"):
        return {}
    sc = after.get("score_change")
    ch: dict[str, Any] = sc if isinstance(sc, dict) else {}
    return {"returns": {"files": len(after["files"]), "moved": ch.get("moved"), "touched": ch.get("touched")}}


def _coverage_context(sites: pd.DataFrame) -> dict[str, Any]:
    """Hazard-field coverage per country and category, by whom, and the questionnaire effect (issue 17)."""
    from riskmap.inventory import COVERAGE_FIELDS, field_coverage

    cov = field_coverage(sites)
    from riskmap.report_labels import category_name, field_name

    rows = [{"country": country_label(r["country"]), "category": category_name(r["category"]), "sites": r["sites"],
             "cells": [f"{r[f]}/{r['sites']}" if r[f] else "-" for f in COVERAGE_FIELDS],
             "by": _filled_by_text(r["filled_by"]) or "-"} for r in cov.to_dict("records")]
    fs = sites["field_sources"] if "field_sources" in sites.columns else pd.Series([None] * len(sites))
    from_q = fs.astype(str).str.contains("questionnaire", na=False).to_numpy()
    out: dict[str, Any] = {"coverage": rows, "coverage_fields": [field_name(f) for f in COVERAGE_FIELDS],
                           "questionnaire_sites": int(from_q.sum())}
    if "score_status" in sites.columns:
        basis = sites["basis"] if "basis" in sites.columns else sites["score_status"]
        out["questionnaire_scored"] = int((from_q & (basis != "insufficient data").to_numpy()).sum())
    if "downstream_pop_total" in sites.columns:
        tot = pd.to_numeric(sites["downstream_pop_total"], errors="coerce")
        top = sites.loc[tot.nlargest(10).index]
        out["population"] = [{
            "name": r.get("name"), "country": country_label(r.get("country")),
            "first": cell_text(r.get("downstream_pop_first_km"), 0), "border": cell_text(r.get("downstream_pop_to_border"), 0),
            "total": cell_text(r.get("downstream_pop_total"), 0),
            "by": ", ".join(f"{country_label(k)} {cell_text(v, 0)}"
                            for k, v in _as_dict(r.get("downstream_pop_by_country")).items()),
        } for r in top.to_dict("records") if pd.notna(r.get("downstream_pop_total"))]
    return out


def _filled_by_text(text: Any) -> Any:
    """``inventory.field_coverage``'s "filled_by" for readers: "public sources 5" in the output language.

    Questionnaire and file names are data and stay as written.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     _filled_by_text("public sources 5; questionnaire MNE 2026-11-03 3")
    'открытые источники: 5; questionnaire MNE 2026-11-03 3'
    """
    from riskmap.inventory import PUBLIC

    if not isinstance(text, str) or current_lang() == "en":
        return text
    parts = []
    for part in text.split("; "):
        who, _sep, n = part.rpartition(" ")
        parts.append(_("public sources: {n}").format(n=n) if who == PUBLIC else part)
    return "; ".join(parts)


def methodology_context(sites: pd.DataFrame) -> dict[str, Any]:
    """The report's methodology section: the exposure rule, the classes and the parameters used.

    Parameters
    ----------
    sites : pandas.DataFrame
        The basin's sites (as ranked for the report).

    Returns
    -------
    dict
        ``rule`` (river km of the classes, divide buffer), ``exposure_classes``, ``has_exposure``,
        ``has_hazard``, ``n_proxy``, ``params_labels`` and ``defaults_used``.

    Examples
    --------
    >>> m = methodology_context(pd.DataFrame({"category": ["mine"]}))
    >>> m["has_exposure"], m["has_hazard"], sorted(m["rule"])
    (False, False, ['divide_km', 'high_km', 'very_high_km'])
    """
    labels = sorted({str(x) for x in sites.get("params_label", pd.Series(dtype=object)).dropna()})
    have = set(sites.columns)
    rule = None
    try:
        from riskmap import (
            exposure as _exposure,  # analysis layer: allowed below presentation
        )

        rule = {"very_high_km": _exposure.VERY_HIGH_RIVER_KM, "high_km": _exposure.HIGH_RIVER_KM,
                "divide_km": DIVIDE_BUFFER_KM["exact"]}
    except (ImportError, AttributeError):
        pass
    return {
        "rule": rule,
        "params_labels": labels,
        "defaults_used": any("default" in lbl.lower() for lbl in labels),
        "has_exposure": "exposure_class" in have,
        "has_hazard": "priority_score" in have,
        "exposure_classes": count_rows(sites["exposure_class"], _EXPOSURE_ORDER, exposure_name)
        if "exposure_class" in have else [],
        "n_proxy": int((sites["score_status"] == "proxy").sum()) if "score_status" in have else None,
    }
