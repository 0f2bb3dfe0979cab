"""The sections of a report as template context: sources, top sites, matrix, countries, data quality, coverage, methodology.

Every function returns plain data for ``templates/report.html.j2``; text from
the data is escaped by the template (Jinja2 autoescape), never here.

The prose and labels written here follow the output language
(:func:`riskmap.i18n.use_lang`; gettext domain ``report_text``): every sentence
is one message with named placeholders, counts use ``ngettext`` (Russian has
three plural forms), numbers are formatted for the language and country names
come from :func:`riskmap.i18n.country_name`. Site names and other data stay as
they are. English output is unchanged by the translation layer.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from riskmap._text import is_missing
from riskmap.i18n import (
    N_,
    _,
    country_label,
    current_lang,
    format_date,
    format_int,
    format_number,
    ngettext,
    pgettext,
    use_lang,
)
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


def _en() -> bool:
    """True when the output language is English (the source language: text as written)."""
    return current_lang() == "en"


def _int(n: Any) -> str:
    """A count in a sentence: as written in English (``1234``), grouped in other languages (``1 234``)."""
    return str(n) if _en() else format_int(n)


def _dec(x: float, digits: int = 0) -> str:
    """A number in a sentence with ``digits`` decimals: ``12.5`` in English, ``12,5`` in Russian."""
    return f"{x:.{digits}f}" if _en() else format_number(x, digits)


def _cap(text: str) -> str:
    """``text`` with its first letter in upper case (the rest untouched)."""
    return text[:1].upper() + text[1:]


def exposure_name(code: Any) -> str:
    """Name of an exposure class in the output language (``very high`` -> ``очень высокий``).

    Examples
    --------
    >>> exposure_name("very high"), exposure_name(None)
    ('very high', 'unknown')
    """
    if _missing(code) or code == "unknown":
        return _("unknown")
    names = {"very high": pgettext("exposure class", "very high"), "high": pgettext("exposure class", "high"),
             "medium": pgettext("exposure class", "medium"), "low": pgettext("exposure class", "low"),
             "outside": pgettext("exposure class", "outside")}
    return names.get(str(code), str(code))


def _value_label(key: Any) -> str:
    """Default label of a counted value: exposure classes and "unknown" in the output language, else as is."""
    return exposure_name(key) if key in _EXPOSURE_ORDER or key == "unknown" else str(key)


_missing = is_missing


def _fmt(v: Any, digits: int = 2) -> str:
    """Format a value for a table cell; missing values read 'unknown'."""
    if _missing(v):
        return _("unknown")
    if isinstance(v, (bool, np.bool_)):
        return _("yes") if v else _("no")
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}" if _en() else format_int(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) >= 1000:
            return f"{int(f):,}" if _en() else format_int(f)
        return f"{f:,.{digits}f}" if _en() else format_number(f, digits)
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


def _counts(series: pd.Series, order: Iterable[str] | None = None, label=_value_label) -> list[dict[str, Any]]:
    """Counts of values (missing counted as 'unknown'), in vocabulary order then by count.

    ``label`` names a value; the default shows exposure classes and "unknown" in the output language.
    """
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


def _source_entry(entry: Any, key: str | None = None, parent: dict | None = None) -> dict[str, Any] | None:
    """One PROVENANCE source entry as a flat dict (None when it names no dataset)."""
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


def _walk_sources(node: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    """Collect the source entries of a PROVENANCE tree into ``out`` (at most 4 levels deep)."""
    if depth > 4 or node is None:
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("sources", "inputs"):
                items = v.items() if isinstance(v, dict) else ((None, e) for e in (v or []))
                bare = isinstance(v, list)
                for key, e in items:
                    n = _source_entry(e, key, node if bare else None)
                    if n:
                        out.append(n)
            elif isinstance(v, (dict, list)):
                _walk_sources(v, out, depth + 1)
    elif isinstance(node, list):
        for v in node:
            _walk_sources(v, out, depth + 1)


def _provenance_sources(prov: dict | None) -> list[dict[str, Any]]:
    """Flatten a PROVENANCE.json into source entries (tolerant of its layout)."""
    out: list[dict[str, Any]] = []

    _walk_sources(prov, out)
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


#: What a source is used for, as the report's callers name it (translated when shown).
_USED_FOR = (N_("site inventory"), N_("basin hydrography"), N_("Natech screening"))


def _sources_context(sites: pd.DataFrame, provs: list[tuple[str, dict | None]]) -> list[dict[str, Any]]:
    """One entry per source: every inventory source plus every provenance source.

    ``used_for`` is shown in the output language ("site inventory", "basin
    hydrography" and any other text the catalogue holds; else as given).
    """
    entries: dict[str, dict[str, Any]] = {}
    prov_entries: list[tuple[str, dict[str, Any]]] = []
    for used_for, p in provs:
        for e in _provenance_sources(p):
            prov_entries.append((used_for, e))

    def find_prov(name: str) -> dict[str, Any] | None:
        for _used, e in prov_entries:
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
                "name": name, "used_for": _("site inventory"), "n_sites": int(m.sum()),
                "licence": pe.get("licence") or ("; ".join(lics) if lics else _("not stated")),
                "attribution": pe.get("attribution"), "url": pe.get("url"),
                "date": pe.get("date"),
                "verified": (_("{first} to {last}").format(first=dates[0], last=dates[-1])
                             if dates and dates[0] != dates[-1]
                             else (dates[0] if dates else None)),
                "sha256": pe.get("sha256"), "title": pe.get("title"), "files": pe.get("files") or [],
            }
    for used_for, e in prov_entries:
        if e["name"] in entries:
            continue
        entries[e["name"]] = {"name": e["name"], "used_for": _(str(used_for)) if used_for else used_for,
                              "n_sites": None,
                              "licence": e.get("licence") or _("not stated"), "attribution": e.get("attribution"),
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
    for _i, r in ranked.head(n).iterrows():
        terms = _as_dict(r.get("score_terms"))
        main = [k for k in _MAIN_TERMS if k in terms]
        main += [k for k in sorted(terms) if k.startswith("priority_") and k not in main]
        other = [k for k in sorted(terms) if k not in main]
        out.append({
            "rank": _fmt(r.get("priority_rank")), "site_id": r.get("site_id"), "name": r.get("name"),
            "category": r.get("category"), "country": country_label(r.get("country")),
            "exposure_class": exposure_name(r.get("exposure_class")), "score": _fmt(r.get("priority_score"), 3),
            "status": _fmt(r.get("score_status")), "completeness": _fmt(r.get("completeness")),
            "downstream": _fmt(_as_list(r.get("downstream_countries")) or None),
            "first_border_km": _fmt(r.get("first_border_river_km"), 1),
            "reason": _fmt(r.get("score_reason")),
            "terms": [(k, _fmt(terms[k], 3)) for k in main],
            "other_terms": "; ".join(f"{k}: {_fmt(terms[k], 3)}" for k in other),
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
        "rows": [{"label": country_label(i) if isinstance(i, str) and _looks_iso(i) else _fmt(i),
                  "values": [_fmt(v) for v in row]} for i, row in zip(m.index, m.to_numpy())],
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
    return [{"no": _fmt(no) if not _missing(no) else "", "name": nm, "category": category_name(cat),
             "status": status_name(st), "exposure_class": exposure_name(ex), "basis": score_status_name(b),
             "coord_precision": precision_name(pr), "source": source_name(src, titles)}
            for no, nm, cat, st, ex, b, pr, src in zip(get("priority_rank"), get("name"), get("category"),
                                                          get("status"), get("exposure_class"), basis,
                                                          get("coord_precision"), get("source"))]


def _country_sections(sites: pd.DataFrame, riparian: list[str],
                      titles: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
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
            "by_category": _counts(sub["category"], CATEGORIES, category_name) if len(sub) else [],
            "by_status": _counts(sub["status"], STATUSES, status_name)
            if len(sub) and "status" in sub.columns else [],
            "transboundary": tb,
            "reaches": [f"{country_label(c)} ({_fmt(int(k))})" for c, k in foreign.items()],
            "top": _top_sites(sub, 5),
            "sites": _site_rows(sub, titles),
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
    from riskmap.report_labels import category_name, drainage_name, field_name, precision_name, score_status_name

    q: dict[str, Any] = {"precision": _counts(sites["coord_precision"], COORD_PRECISIONS, precision_name)
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
                     "share": _share(miss, n_rel) if n_rel else _("no such sites")})
    q["missing"] = rows
    if "score_status" in sites.columns:
        q["score_status"] = _counts(sites["basis"] if "basis" in sites.columns else sites["score_status"],
                                    ("scored", "proxy", "insufficient data"), score_status_name)
    if "completeness" in sites.columns:
        c = pd.to_numeric(sites["completeness"], errors="coerce")
        q["completeness_mean"] = _fmt(c.mean()) if c.notna().any() else _("unknown")
    if "drainage_by" in sites.columns:
        q["drainage_by"] = _counts(sites["drainage_by"], ("dem flow path", "river snap", "basin allocation", "none"),
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
        "exposure_classes": _counts(sites["exposure_class"], _EXPOSURE_ORDER, exposure_name)
        if "exposure_class" in have else [],
        "n_proxy": int((sites["score_status"] == "proxy").sum()) if "score_status" in have else None,
    }


# --------------------------------------------------------------------------
# The publication: one ranking, plain-language reasons, summary, findings,
# limitations and recommendations (issue 18 item 1). Each function returns
# plain data; the template words the headings.
# --------------------------------------------------------------------------

#: Travel time to the first border (hours, at the assessed velocity) below which a site's warning time is short.
SHORT_WARNING_H = 6.0

#: River km to the first border counted as "close to a border" in the findings.
NEAR_BORDER_RIVER_KM = 50.0

#: Measured accuracy of the hydrography on known places (docs/accuracy.md, "Figures on the bundled data").
#: tests/test_report_publication.py checks that each value is still the one in docs/accuracy.md.
ACCURACY: dict[str, Any] = {
    "date": "2026-11-28",
    "basin_right": ("98.4 %", "186"),
    "order_right": ("97.5 %", "122"),
    "km_in_range": ("95.5 %", "22"),
    "km_median_error": "13.9 %",
}


def _finite(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def ranking_frame(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites, with what is known about each in ``basis`` (their ``score_status``), for the report's tables.

    The ranking itself is the sites' ``priority_rank``: the one ranking of
    :func:`riskmap.hazard.score` (sites without site data ranked on their
    category's typical hazard, ``rank_basis``), never recomputed here.
    """
    out = sites.reset_index(drop=True).copy()
    out["basis"] = out["score_status"] if "score_status" in out.columns else pd.Series(None, index=out.index)
    return out


def _parts(codes: Any) -> list[str]:
    return [p for c in _as_list(codes) for p in str(c).split("|")]


def _first_border_parts(codes: Any, own: Any) -> tuple[str, str] | None:
    """The first border a spill meets as ``("water", "A – B")`` or ``("country", "B")`` (names shown), or None."""
    for c in _as_list(codes):
        c = str(c)
        if "|" in c:
            return "water", " – ".join(country_label(p) for p in c.split("|"))
        if not _missing(own) and c != str(own):
            return "country", country_label(c)
    return None


def first_border(codes: Any, own: Any) -> str | None:
    """The first border a spill meets: a border water (``"BIH|SRB"``) or the first foreign country.

    Examples
    --------
    >>> first_border(["BIH", "BIH|SRB"], "BIH"), first_border(["MNE", "ALB"], "MNE")
    ('Bosnia and Herzegovina – Serbia border', 'border of Albania')
    """
    found = _first_border_parts(codes, own)
    if found is None:
        return None
    kind, label = found
    if kind == "water":
        return _("{countries} border").format(countries=label)
    return _("border of {country}").format(country=label)


def foreign_downstream(codes: Any, own: Any) -> list[str]:
    """Countries downstream other than the site's own, in path order."""
    return list(dict.fromkeys(p for p in _parts(codes) if _missing(own) or p != str(own)))


def _quantity(r: Mapping[str, Any]) -> str | None:
    tv, rv = _finite(r.get("tailings_volume_m3")), _finite(r.get("reservoir_volume_m3"))
    mw = _finite(r.get("capacity_mw"))
    if tv:
        return _("about {amount} m³ of tailings").format(amount=_amount(tv))
    if rv:
        return _("a reservoir of about {amount} m³").format(amount=_amount(rv))
    if mw:
        return _("a capacity of {mw} MW").format(mw=f"{mw:,.0f}" if _en() else format_number(mw, 0))
    return None


def _amount(v: float) -> str:
    """A large amount in words: ``1.2 billion``, ``3.4 million`` (Russian ``1,2 млрд``, ``3,4 млн``)."""
    if v >= 1e9:
        return _("{x} billion").format(x=_dec(v / 1e9, 1))
    if v >= 1e6:
        return _("{x} million").format(x=_dec(v / 1e6, 1))
    return f"{v:,.0f}" if _en() else format_number(v, 0)


def _a(word: str) -> str:
    """English indefinite article by sound: ``an oil ...``, but ``a uranium ...`` (a "yoo" sound).

    Examples
    --------
    >>> _a("oil refinery"), _a("uranium tailings"), _a("metal-ore tailings facility")
    ('an oil refinery', 'a uranium tailings', 'a metal-ore tailings facility')
    """
    w = word.lower()
    vowel = w[:1] in "aeiou" and not w.startswith(("uranium", "uni", "use", "eu", "one"))
    return ("an " if vowel else "a ") + word


def _what(category: str) -> str:
    """The category as the subject of a reason: ``A mine`` in English, capitalised in other languages."""
    return _a(category).capitalize() if _en() else _cap(category)


def _border_reason(border: tuple[str, str], km: float, hours: float | None) -> str:
    """The reason "a spill reaches the border after about N km of river (about H h)"."""
    kind, label = border
    args = {"countries": label, "country": label, "km": _dec(km), "hours": _dec(hours) if hours is not None else ""}
    if kind == "water":
        msg = (_("A spill reaches the {countries} border after about {km} km of river (about {hours} h).")
               if hours is not None else _("A spill reaches the {countries} border after about {km} km of river."))
    else:
        msg = (_("A spill reaches the border of {country} after about {km} km of river (about {hours} h).")
               if hours is not None else _("A spill reaches the border of {country} after about {km} km of river."))
    return msg.format(**args)


def _basis_reason(r: Mapping[str, Any]) -> str:
    """The reason that says what the site's hazard rests on (its category, or site data)."""
    from riskmap.report_labels import category_name

    what, qty = _what(category_name(r.get("category"))), _quantity(r)
    basis = r.get("basis", r.get("score_status"))
    if basis == "insufficient data":
        return _("{what}: hazard of its category, as the sources give no quantities.").format(what=what)
    if basis == "proxy":
        msg = (_("{what} with {quantity}; data gaps filled with cautious defaults.") if qty
               else _("{what}; data gaps filled with cautious defaults."))
    else:
        msg = _("{what} with {quantity}, scored on site data.") if qty else _("{what}, scored on site data.")
    return msg.format(what=what, quantity=qty)


def why_reasons(r: Mapping[str, Any], max_reasons: int = 4) -> list[str]:
    """Three or four short reasons in words why a site ranks where it does (the numbers are in the annex).

    Examples
    --------
    >>> why_reasons({"category": "mine", "on_border_water": True, "basis": "insufficient data"})[0]
    'On border water: a spill enters a border river or shared lake at once.'
    """
    out: list[str] = []
    km, hours = _finite(r.get("first_border_river_km")), _finite(r.get("travel_time_h"))
    border = _first_border_parts(r.get("downstream_countries"), r.get("country"))
    if bool(r.get("on_border_water")) is True:
        out.append(_("On border water: a spill enters a border river or shared lake at once."))
    elif km is not None and border:
        out.append(_border_reason(border, km, hours))
    elif bool(r.get("near_border")) is True and _finite(r.get("border_km")) is not None:
        out.append(_("{km} km from an international border.").format(km=_dec(float(r["border_km"]))))
    else:
        out.append(_("No border crossing found downstream within the basin."))
    out.append(_basis_reason(r))
    foreign = foreign_downstream(r.get("downstream_countries"), r.get("country"))
    if foreign:
        out.append(_("Flows on into {countries}.").format(countries=_and([country_label(c) for c in foreign])))
    pop = _finite(r.get("downstream_pop_total"))
    if pop:
        if pop >= 1e6:
            out.append(_("Towns downstream: at least {amount} people.").format(amount=_amount(pop)))
        else:
            people = f"{pop:,.0f}" if _en() else format_number(pop, 0)
            out.append(ngettext("Towns downstream: at least {n} person.", "Towns downstream: at least {n} people.",
                                int(round(pop))).format(n=people))
    terms = _as_dict(r.get("score_terms"))
    fault = _finite(r.get("natech_fault_km", terms.get("natech_fault_km")))
    if fault is not None and fault <= 10:
        out.append(_("{km} km from an active fault (earthquake hazard).").format(km=_dec(fault)))
    return out[:max_reasons]


def _and(items: list[str]) -> str:
    """``a, b and c`` in the output language."""
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


#: Numbers behind the reasons, in the annex: (column or score term, header, digits). The headers are
#: in English; show them with :func:`annex_headers` (or ``_()``) in the output language.
ANNEX_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("priority_score", N_("priority score"), 1),
    ("priority_hazard_part", N_("of which hazard"), 1),
    ("priority_exposure_part", N_("of which exposure"), 1),
    ("thi", N_("Tailings Hazard Index"), 1),
    ("wri", N_("Water Risk Index"), 1),
    ("first_border_river_km", N_("river km to first border"), 0),
    ("travel_time_h", N_("hours to first border"), 0),
    ("natech_fault_km", N_("km to active fault"), 0),
    ("downstream_pop_total", N_("people in towns downstream"), 0),
    ("completeness", N_("data completeness"), 2),
)


def annex_headers() -> list[str]:
    """The headers of the annex table (:data:`ANNEX_COLUMNS`) in the output language."""
    return [_(h) for _c, h, _d in ANNEX_COLUMNS]


def ranking_context(ranked: pd.DataFrame, n: int = TOP_N, *, lang: str | None = None) -> list[dict[str, Any]]:
    """The top ``n`` of the ranking: number, site, category, country, exposure, basis, reasons and annex numbers.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _ranking_context(ranked, n)


def _filled_by_text(text: Any) -> Any:
    """``inventory.field_coverage``'s "filled_by" for readers: "public sources 5" in the output language.

    Questionnaire and file names are data and stay as written.

    Examples
    --------
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


def _ranking_context(ranked: pd.DataFrame, n: int = TOP_N) -> list[dict[str, Any]]:
    """The top ``n`` of the ranking: number, site, category, country, exposure, basis, reasons and annex numbers."""
    from riskmap.report_labels import category_name, score_status_name

    if "priority_rank" not in ranked.columns:
        return []
    key = pd.to_numeric(ranked["priority_rank"], errors="coerce")
    top = ranked.loc[key.dropna().sort_values(kind="stable").index].head(n)
    out = []
    for r in top.to_dict("records"):
        terms = _as_dict(r.get("score_terms"))
        out.append({
            "no": int(r["priority_rank"]), "name": _fmt(r.get("name")), "category": category_name(r.get("category")),
            "country": country_label(r.get("country")), "exposure_class": exposure_name(r.get("exposure_class")),
            "basis": score_status_name(r.get("basis")), "reasons": why_reasons(r),
            "numbers": [_fmt(_finite(r.get(c, terms.get(c))), d) for c, _h, d in ANNEX_COLUMNS],
        })
    return out


def _site_word(n: int) -> str:
    """``1 site``, ``3 sites`` (Russian ``1 объект``, ``3 объекта``, ``5 объектов``)."""
    return ngettext("{n} site", "{n} sites", n).format(n=_int(n))


def _share(n: int, total: int) -> str:
    """``n`` as a share of ``total``: ``25 %`` (a no-break space before the sign in Russian)."""
    if _en():
        return f"{100.0 * n / total:.0f} %" if total else "0 %"
    return format_number(100.0 * n / total if total else 0.0, 0) + "\u00a0%"


def _accuracy_pct(text: str) -> str:
    """A percentage of :data:`ACCURACY` (``"94.9 %"``, as in docs/accuracy.md) in the output language."""
    if _en():
        return text
    num = text.replace("%", "").strip()
    digits = len(num.split(".")[1]) if "." in num else 0
    return format_number(float(num), digits) + "\u00a0%"


def border_stretches(sites: pd.DataFrame) -> list[dict[str, Any]]:
    """Border waters (``"BIH|SRB"``) with the number of upstream sites and how many reach them within 50 km."""
    if "downstream_countries" not in sites.columns:
        return []
    km = pd.to_numeric(sites.get("first_border_river_km"), errors="coerce")
    rows = pd.DataFrame({"codes": sites["downstream_countries"].map(
        lambda v: sorted({str(c) for c in _as_list(v) if "|" in str(c)})), "km": km})
    ex = rows.explode("codes").dropna(subset=["codes"])
    if ex.empty:
        return []
    first = sites["downstream_countries"].map(lambda v: next((str(c) for c in _as_list(v) if "|" in str(c)), None))
    near = (km <= NEAR_BORDER_RIVER_KM).fillna(False)
    out = []
    for code, n in ex["codes"].value_counts().items():
        out.append({"code": code, "label": " – ".join(country_label(p) for p in code.split("|")),
                    "n": int(n), "near": int(((first == code) & near).sum())})
    return out


def short_warning(sites: pd.DataFrame, ranked_no: pd.Series | None = None) -> list[dict[str, Any]]:
    """Sites whose spill reaches a border in less than :data:`SHORT_WARNING_H` hours (fastest first)."""
    if "travel_time_h" not in sites.columns:
        return []
    h = pd.to_numeric(sites["travel_time_h"], errors="coerce")
    sub = sites[(h < SHORT_WARNING_H).to_numpy()].assign(_h=h).sort_values("_h", kind="stable")
    return [{"name": _fmt(r.get("name")), "country": country_label(r.get("country")), "hours": _fmt(r["_h"], 0),
             "no": _fmt(r.get("priority_rank"))} for r in sub.to_dict("records")]


def data_gaps(sites: pd.DataFrame) -> list[dict[str, Any]]:
    """Per country: sites, sites with insufficient data for a site-specific score, unknown status."""
    if "country" not in sites.columns or not len(sites):
        return []
    basis = sites["basis"] if "basis" in sites.columns else sites.get("score_status")
    df = pd.DataFrame({
        "country": sites["country"].astype(object).where(sites["country"].notna(), "unknown"),
        "insufficient": (basis == "insufficient data") if basis is not None else False,
        "status_unknown": sites["status"].astype(object).isin(["unknown", None]) | sites["status"].isna()
        if "status" in sites.columns else False,
        "approx": ~sites["coord_precision"].isin(["exact"]) if "coord_precision" in sites.columns else False,
    })
    g = df.groupby("country").agg(n=("insufficient", "size"), insufficient=("insufficient", "sum"),
                                  status_unknown=("status_unknown", "sum"), approx=("approx", "sum"))
    g = g.sort_values(["insufficient", "n"], ascending=False)
    return [{"country": country_label(c), "n": int(r.n), "insufficient": int(r.insufficient),
             "insufficient_pct": _share(int(r.insufficient), int(r.n)), "status_unknown": int(r.status_unknown),
             "approx": int(r.approx)} for c, r in g.iterrows()]


def _inventory_paragraph(sites: pd.DataFrame, basin_name: str) -> str:
    """The first paragraph of the summary: how many sites of which kinds, by country."""
    from riskmap.report_labels import category_plural

    n = len(sites)
    cats = sites["category"].value_counts()
    what = ", ".join(category_plural(c, int(k)) for c, k in cats.head(4).items())
    rest = n - int(cats.head(4).sum())
    if rest:
        what = ngettext("{what} and {n} other", "{what} and {n} other", rest).format(what=what, n=_int(rest))
    countries = sites["country"].map(country_label).value_counts() if "country" in sites.columns else pd.Series()
    where = ", ".join(f"{c} {_int(k)}" for c, k in countries.items())
    return ngettext("The inventory holds {n} site in the {basin} basin: {what}. By country: {where}.",
                    "The inventory holds {n} sites in the {basin} basin: {what}. By country: {where}.",
                    n).format(n=_int(n), basin=basin_name, what=what, where=where)


def _spill_paragraph(sites: pd.DataFrame) -> str:
    """The second paragraph of the summary: how many sites would send a spill abroad, and to whom."""
    n = len(sites)
    tb = int(sites["transboundary_downstream"].astype("boolean").fillna(False).sum())
    vh = int((sites.get("exposure_class") == "very high").sum()) if "exposure_class" in sites.columns else 0
    who = pd.Series([c for codes, own in zip(sites["downstream_countries"], sites["country"])
                     for c in foreign_downstream(codes, own)]).value_counts()
    whom = ", ".join(f"{country_label(c)} ({_site_word(int(k))})" for c, k in who.head(4).items())
    cross = ngettext("A spill from {n} site ({share}) would cross an international border downstream",
                     "A spill from {n} sites ({share}) would cross an international border downstream",
                     tb).format(n=_int(tb), share=_share(tb, n))
    near = ngettext("{n} site lies on border water or reaches a border within a short distance (very high exposure)",
                    "{n} sites lie on border water or reach a border within a short distance (very high exposure)",
                    vh).format(n=_int(vh))
    text = _("{first}; {second}.").format(first=cross, second=near)
    if whom:
        text += " " + _("Spills from other countries would reach {countries}.").format(countries=whom)
    return text


def _unknown_paragraph(sites: pd.DataFrame, basis: pd.Series) -> str:
    """The last paragraph of the summary: what the public sources do not say."""
    n = len(sites)
    ins = int((basis == "insufficient data").sum())
    st = int(sites["status"].isna().sum() + (sites["status"] == "unknown").sum()) if "status" in sites else 0
    gaps = ngettext("Much is unknown: for {n} site ({share}) the public sources give no quantity (volume, "
                    "substances, capacity), so its hazard is estimated from its category only",
                    "Much is unknown: for {n} sites ({share}) the public sources give no quantity (volume, "
                    "substances, capacity), so their hazard is estimated from their category only",
                    ins).format(n=_int(ins), share=_share(ins, n))
    status = ngettext("the operating status of {n} site is not known", "the operating status of {n} sites is not known",
                      st).format(n=_int(st))
    return (_("{first}; {second}.").format(first=gaps, second=status) + " "
            + _("These gaps, and the limits of the river model, are set out under '{chapter}'.").format(
                chapter=_("Limitations")))


def executive_summary(sites: pd.DataFrame, ranking: list[dict[str, Any]], basin_name: str,
                      *, lang: str | None = None) -> list[str]:
    """Three or four paragraphs written from the data: what is where, what matters most for whom, what is unknown.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _executive_summary(sites, ranking, basin_name)


def _executive_summary(sites: pd.DataFrame, ranking: list[dict[str, Any]], basin_name: str) -> list[str]:
    """Three or four paragraphs written from the data: what is where, what matters most for whom, what is unknown."""
    if not len(sites):
        return [_("The inventory holds no site in the {basin} basin.").format(basin=basin_name)]
    paras = [_inventory_paragraph(sites, basin_name)]
    if "transboundary_downstream" in sites.columns:
        paras.append(_spill_paragraph(sites))
    if ranking:
        top = "; ".join(f"{r['no']}. {r['name']} ({r['country']})" for r in ranking[:3])
        paras.append(_("The sites that matter most for transboundary preparedness are {sites}. The ranking and the "
                       "reasons behind it are in the chapter '{chapter}'.").format(sites=top,
                                                                                    chapter=_("Priority sites")))
    basis = sites["basis"] if "basis" in sites.columns else sites.get("score_status")
    if basis is not None:
        paras.append(_unknown_paragraph(sites, basis))
    return paras


def key_findings(sites: pd.DataFrame, ranking: list[dict[str, Any]], *, lang: str | None = None) -> list[str]:
    """Short findings (one sentence each) from the data.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _key_findings(sites, ranking)


def _key_findings(sites: pd.DataFrame, ranking: list[dict[str, Any]]) -> list[str]:
    """Short findings (one sentence each) from the data."""
    from riskmap.report_labels import category_plural

    out: list[str] = []
    n = len(sites)
    if not n:
        return out
    cat = sites["category"].value_counts()
    out.append(_("The largest group is {group} ({share} of the sites).").format(
        group=category_plural(cat.index[0], int(cat.iloc[0])), share=_share(int(cat.iloc[0]), n)))
    tmf = int(sites["category"].isin(TMF_CATEGORIES).sum())
    if tmf:
        out.append(ngettext("{n} site is a tailings facility, the category behind the worst transboundary accidents "
                            "in the region.",
                            "{n} sites are tailings facilities, the category behind the worst transboundary "
                            "accidents in the region.", tmf).format(n=_int(tmf)))
    stretches = border_stretches(sites)
    if stretches:
        s = stretches[0]
        out.append(_("The {border} border water has the most sites upstream: {n}, of which {near} reach it within "
                     "{km} river km.").format(border=s["label"], n=_int(s["n"]), near=_int(s["near"]),
                                              km=_dec(NEAR_BORDER_RIVER_KM)))
    fast = short_warning(sites)
    if fast:
        out.append(ngettext("{n} site would send a spill across a border in less than {hours} hours (at the assumed "
                            "flow speed): too little time for a downstream country to act without an agreed warning "
                            "procedure.",
                            "{n} sites would send a spill across a border in less than {hours} hours (at the assumed "
                            "flow speed): too little time for a downstream country to act without an agreed warning "
                            "procedure.", len(fast)).format(n=_int(len(fast)), hours=_dec(SHORT_WARNING_H)))
    gaps = data_gaps(sites)
    if gaps and gaps[0]["insufficient"]:
        g = gaps[0]
        out.append(ngettext("The largest data gap is in {country}: {insufficient} of its {n} site ({share}) have no "
                            "quantity in the public sources.",
                            "The largest data gap is in {country}: {insufficient} of its {n} sites ({share}) have no "
                            "quantity in the public sources.", g["n"]).format(
            country=g["country"], insufficient=_int(g["insufficient"]), n=_int(g["n"]), share=g["insufficient_pct"]))
    if ranking:
        r = ranking[0]
        out.append(_("The first priority is {name} ({country}), a {category}.").format(
            name=r["name"], country=r["country"], category=r["category"]))
    return out


def _river_limits(meta: Mapping[str, Any] | None) -> str:
    """The limitation of the river model, with its measured accuracy (docs/accuracy.md)."""
    measured = (meta or {}).get("measured") or {}
    area_err = _finite(measured.get("area_error_pct"))
    a = ACCURACY
    text = _("The river network and basin outlines are generalised. Tested on known places (docs/accuracy.md, "
             "{date}): the basin is right for {basin_right} of {basin_n} places, the downstream countries are in "
             "the right order for {order_right} of {order_n}, and the river distance to the first border is within "
             "the published range for {km_in_range} of {km_n} places, with a median error of {median_error}, "
             "mostly too short. River kilometres are corrected for the measured length bias of the mapped lines "
             "(docs/hydrography.md); read them with their low-high range.").format(
        date=a["date"] if _en() else format_date(a["date"]),
        basin_right=_accuracy_pct(a["basin_right"][0]), basin_n=a["basin_right"][1],
        order_right=_accuracy_pct(a["order_right"][0]), order_n=a["order_right"][1],
        km_in_range=_accuracy_pct(a["km_in_range"][0]), km_n=a["km_in_range"][1],
        median_error=_accuracy_pct(a["km_median_error"]))
    if area_err is not None:
        text += " " + _("The basin area as mapped differs by {pct} % from the published range.").format(
            pct=_dec(area_err, 1))
    return text


def limitations_context(sites: pd.DataFrame, meta: Mapping[str, Any] | None,
                        *, lang: str | None = None) -> list[dict[str, str]]:
    """The data and model limits with their measured size.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _limitations_context(sites, meta)


def _limitations_context(sites: pd.DataFrame, meta: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The data and model limits with their measured size."""
    out: list[dict[str, str]] = []
    n = len(sites)
    basis = sites["basis"] if "basis" in sites.columns else sites.get("score_status")
    if n and basis is not None:
        ins = int((basis == "insufficient data").sum())
        out.append({"title": _("Incomplete site data"), "text": ngettext(
            "The inventory is compiled from public global and regional datasets and the literature, not from "
            "national registers. For {insufficient} of {n} site ({share}) the sources give no quantity (tailings "
            "volume, substances, capacity); their hazard is the typical hazard of their category. Missing values "
            "are never replaced by zero. Sites that no public source records are missing altogether.",
            "The inventory is compiled from public global and regional datasets and the literature, not from "
            "national registers. For {insufficient} of {n} sites ({share}) the sources give no quantity (tailings "
            "volume, substances, capacity); their hazard is the typical hazard of their category. Missing values "
            "are never replaced by zero. Sites that no public source records are missing altogether.",
            n).format(insufficient=_int(ins), n=_int(n), share=_share(ins, n))})
    if n and "coord_precision" in sites.columns:
        exact = int((sites["coord_precision"] == "exact").sum())
        out.append({"title": _("Locations"), "text": ngettext(
            "{exact} of {n} site ({share}) are located to about 100 m; the others only approximately (a few km) or "
            "by the nearest town, which can place a site on the wrong side of a divide or river.",
            "{exact} of {n} sites ({share}) are located to about 100 m; the others only approximately (a few km) or "
            "by the nearest town, which can place a site on the wrong side of a divide or river.",
            n).format(exact=_int(exact), n=_int(n), share=_share(exact, n))})
    out.append({"title": _("River distances and basins"), "text": _river_limits(meta)})
    out.append({"title": _("Travel times"), "text":
                _("Hours to the first border assume a constant flow speed of 1 m/s; real speeds vary several-fold "
                  "with discharge, and reservoirs hold spills back. They indicate an order of magnitude only.")})
    if "downstream_pop_total" in sites.columns:
        out.append({"title": _("People downstream"), "text":
                    _("Downstream population counts only towns of 1,000 inhabitants or more within 5 km of the "
                      "river (GeoNames); it is a lower bound.")})
    out.append({"title": _("Scores"), "text":
                _("The scores use riskmap's documented default weights, not the official ICPDR or UNECE tables. "
                  "They rank sites for attention; they are not a risk assessment of any single facility.")})
    return out


def _short_warning_names(fast: list[dict[str, Any]]) -> str:
    """The first five sites with a short warning time, and how many more."""
    names = ", ".join(_fmt(f["name"]) for f in fast[:5])
    return _("{names} and {n} more").format(names=names, n=_int(len(fast) - 5)) if len(fast) > 5 else names


def recommendations_context(sites: pd.DataFrame, ranking: list[dict[str, Any]],
                            *, lang: str | None = None) -> list[dict[str, str]]:
    """Recommendations for transboundary cooperation, each derived from a finding of this report.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _recommendations_context(sites, ranking)


def _recommendations_context(sites: pd.DataFrame, ranking: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Recommendations for transboundary cooperation, each derived from a finding of this report."""
    out: list[dict[str, str]] = []
    stretches = border_stretches(sites)
    for s in stretches[:2]:
        out.append({"title": _("Joint alerting on the {border} border water").format(border=s["label"]),
                    "text": ngettext(
                        "{n} site drains to this border water ({near} of them within {km} river km). The riparian "
                        "authorities should agree one notification procedure and contact points for it, and exercise "
                        "them together.",
                        "{n} sites drain to this border water ({near} of them within {km} river km). The riparian "
                        "authorities should agree one notification procedure and contact points for it, and exercise "
                        "them together.", s["n"]).format(n=_int(s["n"]), near=_int(s["near"]),
                                                          km=_dec(NEAR_BORDER_RIVER_KM))})
    fast = short_warning(sites)
    if fast:
        out.append({"title": _("Early warning for sites with short warning times"), "text": ngettext(
            "A spill from {n} site would cross a border in less than {hours} hours ({names}). Their operators and "
            "the downstream country should have direct 24-hour contacts and alarm plans, as the UNECE Industrial "
            "Accidents Convention provides.",
            "A spill from {n} sites would cross a border in less than {hours} hours ({names}). Their operators and "
            "the downstream country should have direct 24-hour contacts and alarm plans, as the UNECE Industrial "
            "Accidents Convention provides.", len(fast)).format(
            n=_int(len(fast)), hours=_dec(SHORT_WARNING_H), names=_short_warning_names(fast))})
    tmf = sites[sites["category"].isin(TMF_CATEGORIES)] if "category" in sites.columns else sites.iloc[:0]
    if len(tmf):
        out.append({"title": _("Tailings safety"), "text": ngettext(
            "Apply the UNECE Safety Guidelines and Good Practices for Tailings Management Facilities (and its "
            "checklist) to the {n} tailings facility listed here, starting with those ranked highest.",
            "Apply the UNECE Safety Guidelines and Good Practices for Tailings Management Facilities (and its "
            "checklist) to the {n} tailings facilities listed here, starting with those ranked highest.",
            len(tmf)).format(n=_int(len(tmf)))})
    gaps = [g for g in data_gaps(sites) if g["insufficient"]]
    if gaps:
        worst = ", ".join(_("{country} ({insufficient} of {n})").format(
            country=g["country"], insufficient=_int(g["insufficient"]), n=_int(g["n"])) for g in gaps[:4])
        out.append({"title": _("Close the data gaps"), "text":
                    _("Sites without quantities, by country: {countries}. Each country should complete the riskmap "
                      "questionnaire for them (volumes, substances, dam condition, status), so that they are "
                      "ranked on their own data rather than on their category.").format(countries=worst)})
    if "coord_precision" in sites.columns:
        rough = int((sites["coord_precision"] != "exact").sum())
        if rough:
            out.append({"title": _("Verify locations"), "text": ngettext(
                "{n} site has only an approximate location; verifying it (site visit or imagery) decides which "
                "river, and so which neighbour, a spill would reach.",
                "{n} sites have only approximate locations; verifying them (site visit or imagery) decides which "
                "river, and so which neighbour, a spill would reach.", rough).format(n=_int(rough))})
    return out
