"""Self-contained HTML (and PDF) inventory reports for one basin.

A report is one HTML file with its CSS and images inline (``data:`` URIs) and
no external reference, so it opens offline and can be mailed as is. It holds:
summary figures, a static basin map, a link to the interactive map written
next to it, the top priority sites and why they rank high, the transboundary
exposure matrix, per-country sections, a data-quality section, the
methodology, every source with its licence and attribution, and a footer with
the riskmap version, the generation date and input checksums. A PDF is printed
from the same HTML with headless Chromium (Playwright).

All text that comes from data is escaped (Jinja2 autoescape). Kosovo is named
"Kosovo*" with the footnote "in accordance with UN Security Council resolution
1244" wherever ``XKX`` appears.

:func:`render_report` works from prepared inputs (:class:`ReportInputs`);
:func:`build_report` loads, assesses and scores a bundled basin first.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import html as _html
import io as _io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapError, RiskmapInputError
from riskmap._iso3 import ISO3_NAMES
from riskmap._paths import DATA_DIR
from riskmap.basins import BASIN_NAMES
from riskmap.io import atomic_path, atomic_write_text, sha256_file
from riskmap.schema import CATEGORIES, COORD_PRECISIONS, DIVIDE_BUFFER_KM, STATUSES, TMF_CATEGORIES

__all__ = [
    "ReportInputs",
    "KOSOVO_FOOTNOTE",
    "BASIN_NAMES",
    "TOP_N",
    "build_report",
    "prepare_inputs",
    "render_report",
    "report_context",
    "report_html",
    "html_to_pdf",
    "country_label",
]

#: The footnote that goes with every mention of Kosovo (docs/REFERENCE naming rule).
KOSOVO_FOOTNOTE = ("* Kosovo: this designation is without prejudice to positions on status and is "
                   "in accordance with UN Security Council resolution 1244 (1999).")

#: Score terms shown first in the top-priority table (the rest follow in small print).
_MAIN_TERMS = ("priority_hazard_part", "priority_exposure_part", "hazard_score", "exposure_score",
               "wri", "thi", "tri", "natech_seismic", "natech_flood")

#: Number of sites listed in the top-priority table.
TOP_N = 15

_CLASS_COLOURS = {
    "very high": "#7f0000", "high": "#d7301f", "medium": "#fc8d59", "moderate": "#fc8d59",
    "low": "#fdd49e", "outside": "#cccccc", "none": "#cccccc", "unknown": "#969696",
}
#: Exposure classes, most to least exposed (riskmap.exposure.EXPOSURE_CLASSES).
_EXPOSURE_ORDER = ("very high", "high", "medium", "low", "outside")
_FALLBACK_COLOURS = ["#1f78b4", "#33a02c", "#6a3d9a", "#b15928", "#a6cee3", "#b2df8a", "#cab2d6"]

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


@dataclass
class ReportInputs:
    """Everything a report is rendered from (already loaded, assessed and scored).

    Attributes
    ----------
    basin_id : str
        ``drin``, ``drina`` or ``syr_darya`` (any id for synthetic inputs).
    sites : geopandas.GeoDataFrame
        The basin's sites with exposure and hazard columns (those missing are
        reported as not computed).
    basin : Basin or dict, optional
        ``riskmap.hydrography.Basin`` (or a dict with the same keys):
        ``outline``, ``reaches``, ``lakes``, ``countries``, ``borders``,
        ``towns``, ``meta``.
    matrix : pandas.DataFrame, optional
        Transboundary exposure matrix (``riskmap.exposure.exposure_matrix``).
    sites_provenance, basins_provenance : dict, optional
        Contents of ``data/sites/PROVENANCE.json`` and ``data/basins/PROVENANCE.json``.
    interactive_map : str, optional
        File name (relative to the report) of the interactive map.
    input_files : dict, optional
        Label -> path of input files whose SHA-256 goes into the footer.
    basin_name : str, optional
        Display name (default from the basin's meta or the id).
    other_provenance : dict, optional
        Use (e.g. ``"Natech screening"``) -> provenance dict of further inputs
        (``data/natech/PROVENANCE.json``); their sources are cited too.
    screening : geopandas.GeoDataFrame, optional
        The same sites scored with the labelled category screening
        (``priority.category_proxy = true``), shown next to the index ranking
        when the indices leave sites unranked (see :data:`SCREENING_PARAMS`).
    validation : riskmap.schema.ValidationReport, optional
        The validation report of the input file; its dropped rows (row,
        column, reason) are listed in the data-quality section.
    """

    basin_id: str
    sites: gpd.GeoDataFrame
    basin: Any = None
    matrix: pd.DataFrame | None = None
    sites_provenance: dict | None = None
    basins_provenance: dict | None = None
    interactive_map: str | None = None
    input_files: dict[str, Path] = field(default_factory=dict)
    basin_name: str | None = None
    other_provenance: dict[str, dict] = field(default_factory=dict)
    screening: gpd.GeoDataFrame | None = None
    validation: Any = None


#: Parameter overrides of the category screening shown beside the index ranking.
SCREENING_PARAMS: dict[str, Any] = {
    "label": "riskmap defaults v1 + category screening (proxy: category-typical hazard, not site data)",
    "priority": {"category_proxy": True},
}


# --------------------------------------------------------------------------
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


def _part(basin: Any, name: str) -> Any:
    if basin is None:
        return None
    if isinstance(basin, dict):
        return basin.get(name)
    return getattr(basin, name, None)


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
# Figures (matplotlib, Agg) as data: URIs
# --------------------------------------------------------------------------


def _png_uri(fig) -> str:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _class_colours(classes: list[str]) -> dict[str, str]:
    out, k = {}, 0
    for c in classes:
        if c in _CLASS_COLOURS:
            out[c] = _CLASS_COLOURS[c]
        else:
            out[c] = _FALLBACK_COLOURS[k % len(_FALLBACK_COLOURS)]
            k += 1
    return out


def _mpl_text(text: Any) -> str:
    """Text for a matplotlib label shown literally: ``$`` would start mathtext (and can crash the plot)."""
    return str(text).replace("$", r"\$")


def _class_column(sites: pd.DataFrame) -> str | None:
    for c in ("exposure_class", "score_status", "category"):
        if c in sites.columns:
            return c
    return None


def _map_figure(sites: gpd.GeoDataFrame, basin: Any, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 6.5), layout="constrained")
    for name, kw in (("countries", dict(facecolor="#f4f1ea", edgecolor="#b0a99f", linewidth=0.6)),
                     ("outline", dict(facecolor="#e3eef7", edgecolor="#1b4f72", linewidth=1.4, alpha=0.8)),
                     ("lakes", dict(facecolor="#8fc1e3", edgecolor="#3b7fb6", linewidth=0.5))):
        g = _part(basin, name)
        if g is not None and len(g):
            g.to_crs("EPSG:4326").plot(ax=ax, **kw)
    reaches = _part(basin, "reaches")
    if reaches is not None and len(reaches):
        r = reaches.to_crs("EPSG:4326")
        lw = 0.4 + 0.35 * pd.to_numeric(r.get("order", pd.Series(1, index=r.index)), errors="coerce").fillna(1)
        r.plot(ax=ax, color="#2c7fb8", linewidth=lw.clip(upper=3.0).to_numpy())
    borders = _part(basin, "borders")
    if borders is not None and len(borders):
        borders.to_crs("EPSG:4326").plot(ax=ax, color="#444444", linewidth=0.9, linestyle="--")
    col = _class_column(sites)
    if len(sites) and col:
        s = sites.to_crs("EPSG:4326") if sites.crs is not None else sites
        classes = s[col].astype(object).where(s[col].notna(), "unknown").map(str)
        present = [c for c in _EXPOSURE_ORDER if c in set(classes)]
        present += sorted(c for c in classes.unique() if c not in present)
        colours = _class_colours(present)
        for cls in present:
            sub = s[(classes == cls).to_numpy()]
            pts = sub[sub.geom_type == "Point"]
            lines = sub[sub.geom_type != "Point"]
            n = len(sub)
            if len(pts):
                pts.plot(ax=ax, color=colours[cls], markersize=22, edgecolor="black", linewidth=0.4,
                         label=_mpl_text(f"{cls} ({n})"), zorder=5)
            if len(lines):
                lines.plot(ax=ax, color=colours[cls], linewidth=1.6, zorder=4,
                           label=None if len(pts) else _mpl_text(f"{cls} ({n})"))
        ax.legend(title=col.replace("_", " "), loc="best", fontsize=8, title_fontsize=8, framealpha=0.9)
    outline = _part(basin, "outline")
    frame = outline if outline is not None and len(outline) else (sites if len(sites) else None)
    if frame is not None:
        x0, y0, x1, y1 = frame.to_crs("EPSG:4326").total_bounds
        dx, dy = (x1 - x0) * 0.05 + 0.05, (y1 - y0) * 0.05 + 0.05
        ax.set_xlim(x0 - dx, x1 + dx)
        ax.set_ylim(y0 - dy, y1 + dy)
        ax.set_aspect(1.0 / max(math.cos(math.radians((y0 + y1) / 2)), 0.2))
    ax.set_title(_mpl_text(title), fontsize=11)
    ax.set_xlabel("longitude (°E, WGS84)", fontsize=8)
    ax.set_ylabel("latitude (°N)", fontsize=8)
    ax.tick_params(labelsize=7)
    return _png_uri(fig)


def _summary_figure(summary: dict[str, list[dict[str, Any]]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    keys = [k for k in summary if summary[k]]
    n = max(len(keys), 1)
    ncols = 2
    nrows = (n + 1) // 2
    fig, axes = plt.subplots(nrows, ncols, figsize=(9.0, 2.4 * nrows), squeeze=False, layout="constrained")
    for ax, key in zip(axes.flat, keys):
        rows = summary[key][:12]
        labels = [_mpl_text(r["label"]) for r in rows][::-1]
        colours = ([_CLASS_COLOURS.get(r["key"], "#2c7fb8") for r in rows][::-1] if "exposure" in key
                   else "#2c7fb8")
        ax.barh(range(len(rows)), [r["n"] for r in rows][::-1], color=colours, edgecolor="#555555",
                linewidth=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(labels, fontsize=7)
        ax.set_title(_mpl_text(key), fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    return _png_uri(fig)


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
    from riskmap.sources.summary import COVERAGE_FIELDS, field_coverage

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
        from riskmap import exposure as _exposure  # analysis layer: allowed below presentation

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


def _checksums(inputs: ReportInputs, sites: gpd.GeoDataFrame) -> list[dict[str, str]]:
    from riskmap.export import export_table

    out = [{"label": "site table as reported (riskmap export CSV bytes)",
            "sha256": _sha256_bytes(export_table(sites).to_csv(index=False, lineterminator="\n")
                                    .encode("utf-8"))}]
    for label, p in sorted(inputs.input_files.items()):
        p = Path(p)
        if p.is_file():
            out.append({"label": f"{label} ({p.name})", "sha256": sha256_file(p)})
    return out


def _generation_time() -> _dt.datetime:
    """Now (UTC), or ``$SOURCE_DATE_EPOCH`` for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc)
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def report_context(inputs: ReportInputs, *, generated_at: _dt.datetime | None = None) -> dict[str, Any]:
    """Build the template context of a report (plain values, no HTML).

    Examples
    --------
    >>> ctx = report_context(ReportInputs("drina", sites))  # doctest: +SKIP
    >>> ctx["n_sites"]  # doctest: +SKIP
    """
    sites = inputs.sites
    if not isinstance(sites, gpd.GeoDataFrame):
        raise RiskmapInputError("report: sites must be a GeoDataFrame")
    if "category" not in sites.columns:
        raise RiskmapInputError("report: sites have no 'category' column; validate them first")
    sites = sites.reset_index(drop=True)
    basin = inputs.basin
    meta = _part(basin, "meta") or {}
    name = (inputs.basin_name or meta.get("name") or _part(basin, "name")
            or BASIN_NAMES.get(inputs.basin_id, inputs.basin_id))
    riparian = [str(c) for c in (meta.get("riparian") or [])]
    if not riparian and _part(basin, "countries") is not None:
        riparian = sorted(_part(basin, "countries")["iso3"].astype(str))
    summary = {
        "Sites by category": _counts(sites["category"], CATEGORIES),
        "Sites by country": _counts(sites["country"], riparian, country_label)
        if "country" in sites.columns else [],
        "Sites by status": _counts(sites["status"], STATUSES) if "status" in sites.columns else [],
    }
    if "exposure_class" in sites.columns:
        summary["Sites by exposure class"] = _counts(sites["exposure_class"], _EXPOSURE_ORDER)
    if "score_status" in sites.columns:
        summary["Sites by score status"] = _counts(sites["score_status"], ("scored", "proxy", "insufficient data"))
    if "wri_band" in sites.columns and sites["wri_band"].notna().any():
        summary["Sites by WRI band"] = _counts(sites["wri_band"].dropna())
    matrix = _matrix_context(inputs.matrix)
    measured = meta.get("measured") or {}
    outline = _part(basin, "outline")
    area = measured.get("area_km2")
    if area is None and outline is not None and "area_km2" in getattr(outline, "columns", []):
        area = float(outline["area_km2"].sum())
    continuation = []
    for step in meta.get("continuation") or []:
        if not isinstance(step, dict):
            continuation.append(str(step))
            continue
        countries = ", ".join(country_label(c) for c in step.get("countries", []))
        continuation.append(f"{step.get('water', '?')} ({countries})" if countries else str(step.get("water", "?")))
    when = generated_at or _generation_time()
    ctx: dict[str, Any] = {
        "basin_id": inputs.basin_id, "basin_name": name,
        "riparian": [country_label(c) for c in riparian],
        "area_km2": _fmt(area, 0) if area is not None else None,
        "published_area": [f"{float(a):,.0f}" for a in (meta.get("published_area_km2") or [])],
        "area_error_pct": measured.get("area_error_pct"),
        "continuation": continuation,
        "n_sites": len(sites),
        "n_transboundary": int(sites["transboundary_downstream"].astype("boolean").fillna(False).sum())
        if "transboundary_downstream" in sites.columns else None,
        "summary": summary,
        "summary_png": _summary_figure(summary),
        "map_png": _map_figure(sites, basin, f"{name} basin: {len(sites)} sites"),
        "interactive_map": inputs.interactive_map,
        "top": _top_sites(sites),
        "screening_top": _top_sites(inputs.screening) if inputs.screening is not None else [],
        "screening_label": SCREENING_PARAMS["label"],
        "top_n": TOP_N,
        "matrix": matrix,
        "countries": _country_sections(sites, riparian),
        "quality": {**_quality_context(sites), "dropped": _dropped_rows_context(inputs.validation),
                    **_returns_context(inputs.sites_provenance)},
        "method": _methodology_context(sites),
        "sources": _sources_context(sites, [("site inventory", inputs.sites_provenance),
                                            ("basin hydrography", inputs.basins_provenance),
                                            *sorted(inputs.other_provenance.items())]),
        "version": _version(),
        "generated": when.strftime("%Y-%m-%d %H:%M UTC") if isinstance(when, _dt.datetime) else str(when),
        "checksums": _checksums(inputs, sites),
        "category_help": CATEGORIES,
    }
    codes = set(riparian) | set(sites.get("country", pd.Series(dtype=object)).dropna().astype(str))
    for lst in sites.get("downstream_countries", pd.Series(dtype=object)):
        codes |= {p for c in _as_list(lst) for p in str(c).split("|")}
    if matrix:
        codes |= {p for c in matrix["codes"] for p in str(c).split("|")}
    ctx["kosovo"] = "XKX" in codes
    ctx["kosovo_footnote"] = KOSOVO_FOOTNOTE
    return ctx


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["country"] = country_label
    return env


def report_html(inputs: ReportInputs, *, generated_at: _dt.datetime | None = None) -> str:
    """Render the report of ``inputs`` to a self-contained HTML string.

    Examples
    --------
    >>> html = report_html(ReportInputs("drina", sites, basin=basin))  # doctest: +SKIP
    """
    ctx = report_context(inputs, generated_at=generated_at)
    return _environment().get_template("report.html.j2").render(**ctx)


def html_to_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *,
                executable_path: str | None = None, footer: str | None = None) -> Path:
    """Print an HTML file to PDF (A4) with headless Chromium via Playwright, atomically.

    All network requests are blocked while printing. Pages are numbered in
    the footer, after the (escaped) ``footer`` text.

    Raises
    ------
    RiskmapError
        Playwright or Chromium is not available, or printing failed.

    Examples
    --------
    >>> html_to_pdf("out/drina_report.html", "out/drina_report.pdf")  # doctest: +SKIP
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    exe = executable_path or os.environ.get("RISKMAP_CHROMIUM", "/usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        from riskmap._extras import missing_message

        raise RiskmapError(f"{missing_message('playwright')}, or use --no-pdf") from e
    if not Path(exe).exists():
        raise RiskmapError(f"PDF output needs Chromium at {exe} (apt install chromium, or set "
                           "RISKMAP_CHROMIUM); use --no-pdf to skip the PDF")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            try:
                page = browser.new_page(java_script_enabled=False)  # the report has no scripts
                page.route("**/*", lambda route: route.continue_()
                           if route.request.url.startswith(("file:", "data:")) else route.abort())
                page.goto(html_path.as_uri(), wait_until="load")
                foot = (f'<div style="font-size:7pt;color:#555;width:100%;text-align:center">'
                        f'{_html.escape(footer or "")} page <span class="pageNumber"></span> of '
                        f'<span class="totalPages"></span></div>')
                with atomic_path(pdf_path) as tmp:
                    page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
                             header_template="<div></div>", footer_template=foot,
                             margin={"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
            finally:
                browser.close()
    except RiskmapError:
        raise
    except Exception as e:  # noqa: BLE001 - any browser failure becomes a clear message
        raise RiskmapError(f"printing {html_path} to PDF failed: {type(e).__name__}: {e}") from None
    return pdf_path


def render_report(inputs: ReportInputs, out_dir: str | os.PathLike, *, pdf: bool = True,
                  generated_at: _dt.datetime | None = None) -> Path:
    """Write ``<basin>_report.html`` (and ``.pdf``) for prepared inputs into ``out_dir``.

    Returns
    -------
    pathlib.Path
        The HTML report.

    Examples
    --------
    >>> render_report(ReportInputs("drina", sites, basin=basin), "out", pdf=False)  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = report_html(inputs, generated_at=generated_at)
    path = atomic_write_text(out_dir / f"{inputs.basin_id}_report.html", html)
    if pdf:
        name = inputs.basin_name or BASIN_NAMES.get(inputs.basin_id, inputs.basin_id)
        html_to_pdf(path, out_dir / f"{inputs.basin_id}_report.pdf", footer=f"riskmap {name} basin report ·")
    return path


def _read_json(p: Path) -> dict | None:
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise RiskmapInputError(f"{p}: cannot read provenance JSON: {e}") from None


def prepare_inputs(basin: str, *, sites: gpd.GeoDataFrame | None = None,
                   data_dir: str | os.PathLike | None = None) -> ReportInputs:
    """Load a bundled basin, its sites, and assess and score them (lazy imports).

    Parameters
    ----------
    basin : str
        ``drin``, ``drina`` or ``syr_darya``.
    sites : geopandas.GeoDataFrame, optional
        Sites to use instead of the bundled inventory (assessed and scored
        here unless they already carry exposure/hazard columns).
    data_dir : path, optional
        Alternative ``data/`` folder.

    Examples
    --------
    >>> inputs = prepare_inputs("drina")  # doctest: +SKIP
    """
    try:
        from riskmap.hydrography import load_basin
    except ImportError as e:  # pragma: no cover - the hydrography module ships with riskmap
        raise RiskmapError(f"cannot load basin {basin!r}: riskmap.hydrography is not available ({e})") from None
    from riskmap.io import read_sites

    data = Path(data_dir) if data_dir is not None else DATA_DIR
    b = load_basin(basin, data_dir=data_dir) if data_dir is not None else load_basin(basin)
    basin = b.id  # "Drina" / "DRINA" name the drina basin (riskmap.basins)
    files: dict[str, Path] = {}
    if sites is None:
        csv = data / "sites" / "sites.csv"
        if not csv.is_file():
            raise RiskmapInputError(f"{csv}: no site inventory; run 'riskmap data build-sites' or pass sites")
        sites = read_sites(csv)
        files["site inventory"] = csv
    validation = sites.attrs.get("validation")
    for label, f in (("basin hydrography", data / "basins" / f"{basin}.gpkg"),
                     ("basin metadata", data / "basins" / "basins.json"),
                     ("site provenance", data / "sites" / "PROVENANCE.json"),
                     ("hydrography provenance", data / "basins" / "PROVENANCE.json")):
        if f.is_file():
            files[label] = f
    from riskmap.exposure import EXPOSURE_COLUMNS
    from riskmap.hazard import HAZARD_COLUMNS

    if not set(EXPOSURE_COLUMNS) <= set(sites.columns):  # a lone 'exposure_class' is the user's, not riskmap's
        from riskmap.exposure import assess

        sites = assess(sites, b) if data_dir is None else assess(sites, b, data_dir=data_dir)
    if "basin" in sites.columns:
        sites = sites[sites["basin"].astype(object) == basin]
    if not set(HAZARD_COLUMNS) <= set(sites.columns):
        from riskmap.hazard import load_natech_layers, score

        sites = score(sites) if data_dir is None else score(
            sites, natech=load_natech_layers(sites, data_dir=data_dir))
    screening = None
    if "priority_rank" in sites.columns and pd.to_numeric(sites["priority_rank"], errors="coerce").isna().any():
        from riskmap.hazard import load_natech_layers, score

        from riskmap.hazard import SCORE_OUTPUT_COLUMNS

        base = sites.drop(columns=[c for c in SCORE_OUTPUT_COLUMNS if c in sites.columns])  # rescored here
        screening = score(base, params=SCREENING_PARAMS) if data_dir is None else score(
            base, params=SCREENING_PARAMS, natech=load_natech_layers(base, data_dir=data_dir))
    matrix = None
    try:
        from riskmap.exposure import exposure_matrix
    except ImportError:
        exposure_matrix = None
    if exposure_matrix is not None and "downstream_countries" in sites.columns:
        matrix = exposure_matrix(sites, basin)
    return ReportInputs(
        basin_id=basin, sites=sites, basin=b, matrix=matrix,
        sites_provenance=_read_json(data / "sites" / "PROVENANCE.json"),
        basins_provenance=_read_json(data / "basins" / "PROVENANCE.json"),
        other_provenance={k: v for k, v in {
            "Natech screening": _read_json(data / "natech" / "PROVENANCE.json")}.items() if v},
        input_files=files, screening=screening, validation=validation)


def build_report(basin: str | ReportInputs, out_dir: str | os.PathLike, *,
                 sites: gpd.GeoDataFrame | None = None, pdf: bool = True,
                 interactive_map: bool = True, data_dir: str | os.PathLike | None = None,
                 generated_at: _dt.datetime | None = None) -> Path:
    """Build the inventory report of a basin: ``out_dir/<basin>_report.html`` (+ ``.pdf``).

    Parameters
    ----------
    basin : str or ReportInputs
        A basin id (loaded, assessed and scored through riskmap.hydrography,
        riskmap.exposure and riskmap.hazard) or prepared :class:`ReportInputs`.
    out_dir : path
        Output folder (created if needed).
    sites : geopandas.GeoDataFrame, optional
        Sites to report instead of the bundled inventory.
    pdf : bool
        Also print a PDF with headless Chromium.
    interactive_map : bool
        Also write ``<basin>_map.html`` with :func:`riskmap.maps.basin_map`
        (when the maps module is available) and link it from the report.
    data_dir : path, optional
        Alternative ``data/`` folder.
    generated_at : datetime, optional
        Date stamped in the footer (default: ``$SOURCE_DATE_EPOCH`` if set, else now, UTC).

    Returns
    -------
    pathlib.Path
        The HTML report.

    Examples
    --------
    >>> build_report("drina", "out", pdf=False)  # doctest: +SKIP
    PosixPath('out/drina_report.html')
    """
    inputs = basin if isinstance(basin, ReportInputs) else prepare_inputs(basin, sites=sites, data_dir=data_dir)
    out_dir = Path(out_dir)
    if interactive_map and inputs.interactive_map is None and inputs.basin is not None:
        try:
            from riskmap.maps import basin_map, save_map
        except ImportError:
            basin_map = None
        if basin_map is not None:
            name = f"{inputs.basin_id}_map.html"
            out_dir.mkdir(parents=True, exist_ok=True)
            save_map(basin_map(inputs.basin, inputs.sites), out_dir / name)
            inputs = dataclasses.replace(inputs, interactive_map=name)
    return render_report(inputs, out_dir, pdf=pdf, generated_at=generated_at)
