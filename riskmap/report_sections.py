"""The sections of a report as template context: sources, top sites, matrix, countries, data quality, coverage, methodology.

Every function returns plain data for ``templates/report.html.j2``; text from
the data is escaped by the template (Jinja2 autoescape), never here.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from riskmap._iso3 import ISO3_NAMES
from riskmap.report_figures import EXPOSURE_ORDER as _EXPOSURE_ORDER
from riskmap.report_figures import class_column as _class_column  # noqa: F401 - old private name
from riskmap.schema import CATEGORIES, COORD_PRECISIONS, DIVIDE_BUFFER_KM, STATUSES, TMF_CATEGORIES

#: Score terms shown first in the top-priority table (the rest follow in small print).
_MAIN_TERMS = ("priority_hazard_part", "priority_exposure_part", "hazard_score", "exposure_score",
               "wri", "thi", "tri", "natech_seismic", "natech_flood")

#: Number of sites listed in the top-priority table.
TOP_N = 15

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


# Small helpers
# --------------------------------------------------------------------------


def country_label(code: Any) -> str:
    """Display name of an ISO3 code or ``"BIH|SRB"`` border pair (Kosovo gets an asterisk).

    Examples
    --------
    >>> country_label("XKX")
    'Kosovo*'
    >>> country_label("BIH|SRB")
    'Bosnia and Herzegovina / Serbia (border)'
    >>> country_label(None)
    'unknown'
    """
    if _missing(code):
        return "unknown"
    code = str(code)
    if "|" in code:
        return " / ".join(country_label(c) for c in code.split("|")) + " (border)"
    if code == "XKX":
        return "Kosovo*"
    return ISO3_NAMES.get(code, code)


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def _fmt(v: Any, digits: int = 2) -> str:
    """Format a value for a table cell; missing values read 'unknown'."""
    if _missing(v):
        return "unknown"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) >= 1000:
            return f"{int(f):,}"
        return f"{f:,.{digits}f}"
    if isinstance(v, (list, tuple)):
        return " → ".join(country_label(x) if isinstance(x, str) and _looks_iso(x) else str(x) for x in v)
    return str(v)


def _looks_iso(x: str) -> bool:
    return all(len(p) == 3 and p.isupper() for p in x.split("|"))


def _as_list(v: Any) -> list:
    if isinstance(v, (list, tuple)):
        return list(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, str) and v.startswith("["):
        try:
            out = json.loads(v)
            return out if isinstance(out, list) else []
        except json.JSONDecodeError:
            return []
    return []


def _as_dict(v: Any) -> dict:
    if isinstance(v, dict):
        return v
    if isinstance(v, str) and v.startswith("{"):
        try:
            out = json.loads(v)
            return out if isinstance(out, dict) else {}
        except json.JSONDecodeError:
            return {}
    return {}


def _counts(series: pd.Series, order: Iterable[str] | None = None, label=str) -> list[dict[str, Any]]:
    """Counts of values (missing counted as 'unknown'), in vocabulary order then by count."""
    s = series.astype(object).where(series.notna(), "unknown").map(str)
    vc = s.value_counts()
    keys = [k for k in (order or []) if k in vc.index]
    keys += sorted((k for k in vc.index if k not in keys), key=lambda k: (-vc[k], k))
    total = int(vc.sum())
    return [{"key": k, "label": label(k), "n": int(vc[k]),
             "pct": (100.0 * vc[k] / total) if total else float("nan")} for k in keys]


def _sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()




def _version() -> str:
    """Package version and the data's date and checksum, e.g. ``0.1.0 (data 2026-11-27 sha256:932f068c69c2)``."""
    from riskmap._about import version_label

    return version_label()


# --------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------


def _provenance_sources(prov: dict | None) -> list[dict[str, Any]]:
    """Flatten a PROVENANCE.json into source entries (tolerant of its layout)."""
    out: list[dict[str, Any]] = []

    def norm(entry: Any, key: str | None = None, parent: dict | None = None) -> dict[str, Any] | None:
        if isinstance(entry, str):  # a bare dataset name or "dataset/file" path
            return {"name": entry.split("/")[0], "path": entry}
        if not isinstance(entry, dict):
            return None
        name = (entry.get("name") or entry.get("id") or entry.get("dataset") or entry.get("source")
                or (str(entry["path"]).split("/")[0] if entry.get("path") else None) or key)
        if not name:
            return None
        if parent:  # a file entry under a product that states licence and attribution
            entry = {**{k: parent.get(k) for k in ("licence", "license", "attribution", "citation", "url",
                                                   "title", "release", "version") if parent.get(k)},
                     **entry}
        return {
            "name": str(name),
            "licence": entry.get("licence") or entry.get("license"),
            "attribution": entry.get("attribution") or entry.get("citation"),
            "url": entry.get("url") or entry.get("homepage"),
            "date": (entry.get("date") or entry.get("version") or entry.get("retrieved")
                     or entry.get("accessed") or entry.get("release")),
            "sha256": entry.get("sha256") or entry.get("checksum"),
            "path": entry.get("path"),
            "title": entry.get("title"),
            "files": [(str(f.get("path", "")), str(f["sha256"])) for f in entry.get("files") or []
                      if isinstance(f, dict) and f.get("sha256")],
        }

    def walk(node: Any, depth: int = 0) -> None:
        if depth > 4 or node is None:
            return
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("sources", "inputs"):
                    items = v.items() if isinstance(v, dict) else ((None, e) for e in (v or []))
                    bare = isinstance(v, list)
                    for key, e in items:
                        n = norm(e, key, node if bare else None)
                        if n:
                            out.append(n)
                elif isinstance(v, (dict, list)):
                    walk(v, depth + 1)
        elif isinstance(node, list):
            for v in node:
                walk(v, depth + 1)

    walk(prov)
    # merge entries of the same dataset (one per file), keeping every file checksum
    merged: dict[str, dict[str, Any]] = {}
    for e in out:
        if e.get("sha256") and e.get("path"):
            e["files"] = [*e.get("files", []), (str(e["path"]), str(e["sha256"]))]
            e["sha256"] = None
        m = merged.get(e["name"])
        if m is None:
            merged[e["name"]] = e
            continue
        for k, v in e.items():
            if k == "files":
                m["files"] = [*m.get("files", []), *[f for f in v if f not in m.get("files", [])]]
            elif not m.get(k) and v:
                m[k] = v
    # licence tables listing several datasets at once ({"dataset": "a, b", "licence": ..., "attribution": ...})
    if isinstance(prov, dict):
        for lic in prov.get("licences") or prov.get("licenses") or []:
            if not isinstance(lic, dict):
                continue
            names = [x.strip() for x in str(lic.get("dataset") or lic.get("datasets") or "").split(",")]
            for nm in names:
                if nm in merged:
                    merged[nm]["licence"] = merged[nm].get("licence") or lic.get("licence") or lic.get("license")
                    merged[nm]["attribution"] = merged[nm].get("attribution") or lic.get("attribution")
    return list(merged.values())


def _sources_context(sites: pd.DataFrame, provs: list[tuple[str, dict | None]]) -> list[dict[str, Any]]:
    """One entry per source: every inventory source plus every provenance source."""
    entries: dict[str, dict[str, Any]] = {}
    prov_entries: list[tuple[str, dict[str, Any]]] = []
    for used_for, p in provs:
        for e in _provenance_sources(p):
            prov_entries.append((used_for, e))

    def find_prov(name: str) -> dict[str, Any] | None:
        for _, e in prov_entries:
            if e["name"] == name or (e.get("path") and name in str(e["path"])):
                return e
        return None

    if "source" in sites.columns and len(sites):
        src = sites["source"].astype(object).where(sites["source"].notna(), "unknown").map(str)
        lic = sites["licence"] if "licence" in sites.columns else pd.Series(None, index=sites.index)
        lv = sites["last_verified"] if "last_verified" in sites.columns else pd.Series(None, index=sites.index)
        for name in sorted(src.unique()):
            m = (src == name).to_numpy()
            lics = list(dict.fromkeys(part.strip() for x in sorted({str(x) for x in lic[m] if not _missing(x)})
                                      for part in x.split(";") if part.strip()))
            dates = sorted(str(x) for x in lv[m] if not _missing(x))
            pe = find_prov(name) or {}
            entries[name] = {
                "name": name, "used_for": "site inventory", "n_sites": int(m.sum()),
                "licence": pe.get("licence") or ("; ".join(lics) if lics else "not stated"),
                "attribution": pe.get("attribution"), "url": pe.get("url"),
                "date": pe.get("date"),
                "verified": (f"{dates[0]} to {dates[-1]}" if dates and dates[0] != dates[-1]
                             else (dates[0] if dates else None)),
                "sha256": pe.get("sha256"), "title": pe.get("title"), "files": pe.get("files") or [],
            }
    for used_for, e in prov_entries:
        if e["name"] in entries:
            continue
        entries[e["name"]] = {"name": e["name"], "used_for": used_for, "n_sites": None,
                              "licence": e.get("licence") or "not stated", "attribution": e.get("attribution"),
                              "url": e.get("url"), "date": e.get("date"), "verified": None,
                              "sha256": e.get("sha256"), "title": e.get("title"), "files": e.get("files") or []}
    return list(entries.values())


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
    for _, r in ranked.head(n).iterrows():
        terms = _as_dict(r.get("score_terms"))
        main = [k for k in _MAIN_TERMS if k in terms]
        main += [k for k in sorted(terms) if k.startswith("priority_") and k not in main]
        other = [k for k in sorted(terms) if k not in main]
        out.append({
            "rank": _fmt(r.get("priority_rank")), "site_id": r.get("site_id"), "name": r.get("name"),
            "category": r.get("category"), "country": country_label(r.get("country")),
            "exposure_class": _fmt(r.get("exposure_class")), "score": _fmt(r.get("priority_score"), 3),
            "status": _fmt(r.get("score_status")), "completeness": _fmt(r.get("completeness")),
            "downstream": _fmt(_as_list(r.get("downstream_countries")) or None),
            "first_border_km": _fmt(r.get("first_border_river_km"), 1),
            "reason": _fmt(r.get("score_reason")),
            "terms": [(k, _fmt(terms[k], 3)) for k in main],
            "other_terms": "; ".join(f"{k}: {_fmt(terms[k], 3)}" for k in other),
        })
    return out


_MATRIX_LABELS = {"sites": "sites (all)", "transboundary": "sites with a transboundary path"}


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
    if isinstance(m.index, pd.RangeIndex) and m.shape[1] > 1 and m.dtypes.iloc[0] == object:
        index_name = str(m.columns[0])
        m = m.set_index(m.columns[0])
    if index_name in ("origin", ""):
        index_name = "country of the site"
    cols = [str(c) for c in m.columns]
    return {
        "index_name": index_name.replace("_", " "),
        "columns": [country_label(c) if _looks_iso(c) else _MATRIX_LABELS.get(c, c) for c in cols],
        "rows": [{"label": country_label(i) if isinstance(i, str) and _looks_iso(i) else _fmt(i),
                  "values": [_fmt(v) for v in row]} for i, row in zip(m.index, m.to_numpy())],
        "codes": [str(i) for i in m.index] + cols,
    }


def _site_rows(sub: pd.DataFrame) -> list[dict[str, Any]]:
    """Every site of a country: ranked first, then by exposure class and name."""
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
    cols = ["site_id", "name", "category", "status", "coord_precision", "source",
            "exposure_class", "priority_rank", "score_status"]
    rows = sub.iloc[order]
    return [{c: _fmt(rows[c].iloc[k]) if c in rows.columns else "unknown" for c in cols}
            for k in range(len(rows))]


def _country_sections(sites: pd.DataFrame, riparian: list[str]) -> list[dict[str, Any]]:
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
        out.append({
            "code": code, "label": country_label(code), "n": len(sub),
            "by_category": _counts(sub["category"], CATEGORIES) if len(sub) else [],
            "by_status": _counts(sub["status"], STATUSES) if len(sub) and "status" in sub.columns else [],
            "transboundary": tb,
            "top": _top_sites(sub, 5),
            "sites": _site_rows(sub),
        })
    return out


#: At most this many dropped rows are listed in the report (the rest: ``riskmap validate FILE``).
MAX_DROPPED_LISTED = 200


def _dropped_rows_context(report: Any) -> dict[str, Any] | None:
    """Rows of the input file that failed validation (row, line, column, reason), or None."""
    if report is None or report.n_rows - report.n_kept <= 0:
        return None
    rows = [{"row": i.row, "line": i.line if i.line is not None else "", "column": i.column or "",
             "reason": i.reason} for i in report.errors if i.row is not None]
    return {"file": Path(str(report.file)).name, "n_rows": report.n_rows,
            "n_dropped": report.n_rows - report.n_kept, "rows": rows[:MAX_DROPPED_LISTED],
            "more": max(0, len(rows) - MAX_DROPPED_LISTED)}


def _quality_context(sites: pd.DataFrame) -> dict[str, Any]:
    q: dict[str, Any] = {"precision": _counts(sites["coord_precision"], COORD_PRECISIONS)
                         if "coord_precision" in sites.columns else []}
    q["precision_help"] = COORD_PRECISIONS
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
        rows.append({"field": col, "applies_to": "all sites" if cats is None else ", ".join(sorted(cats)),
                     "n": n_rel, "missing": miss,
                     "share": f"{100.0 * miss / n_rel:.0f} %" if n_rel else "no such sites"})
    q["missing"] = rows
    if "score_status" in sites.columns:
        q["score_status"] = _counts(sites["score_status"], ("scored", "proxy", "insufficient data"))
    if "completeness" in sites.columns:
        c = pd.to_numeric(sites["completeness"], errors="coerce")
        q["completeness_mean"] = _fmt(c.mean()) if c.notna().any() else "unknown"
    if "drainage_by" in sites.columns:
        q["drainage_by"] = _counts(sites["drainage_by"], ("river snap", "basin allocation", "none"))
    q.update(_coverage_context(sites))
    return q


def _returns_context(prov: dict | None) -> dict[str, Any]:
    """The questionnaire returns the inventory build merged, and how many sites they moved to a score."""
    after = (prov or {}).get("after") if isinstance(prov, dict) else None
    if not isinstance(after, dict) or not after.get("files"):
        return {}
    ch = after.get("score_change") if isinstance(after.get("score_change"), dict) else {}
    return {"returns": {"files": len(after["files"]), "moved": ch.get("moved"), "touched": ch.get("touched")}}


def _coverage_context(sites: pd.DataFrame) -> dict[str, Any]:
    """Hazard-field coverage per country and category, by whom, and the questionnaire effect (issue 17)."""
    from riskmap.inventory import COVERAGE_FIELDS, field_coverage

    cov = field_coverage(sites)
    rows = [{"country": country_label(r["country"]), "category": r["category"], "sites": r["sites"],
             "cells": [f"{r[f]}/{r['sites']}" if r[f] else "-" for f in COVERAGE_FIELDS],
             "by": r["filled_by"] or "-"} for r in cov.to_dict("records")]
    fs = sites["field_sources"] if "field_sources" in sites.columns else pd.Series([None] * len(sites))
    from_q = fs.astype(str).str.contains("questionnaire", na=False).to_numpy()
    out: dict[str, Any] = {"coverage": rows, "coverage_fields": list(COVERAGE_FIELDS),
                           "questionnaire_sites": int(from_q.sum())}
    if "score_status" in sites.columns:
        out["questionnaire_scored"] = int((from_q & (sites["score_status"] != "insufficient data").to_numpy()).sum())
    if "downstream_pop_total" in sites.columns:
        tot = pd.to_numeric(sites["downstream_pop_total"], errors="coerce")
        top = sites.loc[tot.nlargest(10).index]
        out["population"] = [{
            "name": r.get("name"), "country": country_label(r.get("country")),
            "first": _fmt(r.get("downstream_pop_first_km"), 0), "border": _fmt(r.get("downstream_pop_to_border"), 0),
            "total": _fmt(r.get("downstream_pop_total"), 0),
            "by": ", ".join(f"{country_label(k)} {_fmt(v, 0)}"
                            for k, v in _as_dict(r.get("downstream_pop_by_country")).items()),
        } for r in top.to_dict("records") if pd.notna(r.get("downstream_pop_total"))]
    return out


def _methodology_context(sites: pd.DataFrame) -> dict[str, Any]:
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
        "exposure_classes": _counts(sites["exposure_class"], _EXPOSURE_ORDER) if "exposure_class" in have else [],
        "n_proxy": int((sites["score_status"] == "proxy").sum()) if "score_status" in have else None,
    }
