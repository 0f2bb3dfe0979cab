"""Self-contained HTML (and PDF) inventory reports for one basin, written as a publication.

A report is one HTML file with its CSS and images inline (``data:`` URIs) and
no external reference, so it opens offline and can be mailed as is. It reads
as a document for a working group: a title page (basin, date, version, the
disclaimer on boundaries and Kosovo*), an executive summary and key findings
written from the data, a numbered static map, ONE priority ranking with three
or four reasons in words per site, who is exposed, per-country sections,
recommendations for transboundary cooperation, limitations with their measured
size, data quality, methodology, sources, and an annex with the numbers behind
the ranking. Codes become names (``riskmap.report_labels``). Input checksums
go to ``<basin>_report_provenance.json`` beside the report, not into it. A PDF
is printed from the same HTML with a Chromium-family browser (Playwright,
the optional ``pdf`` extra; see :func:`riskmap.report_pdf.find_browser`).

All text that comes from data is escaped (Jinja2 autoescape). Kosovo is named
"Kosovo*" with the footnote "in accordance with UN Security Council resolution
1244" wherever ``XKX`` appears.

The report is written in English or Russian (``lang="ru"``, or the language of
the surrounding :func:`riskmap.i18n.use_lang`): headings, labels, units, numbers
(decimal comma), the date and country names follow the language; site names,
notes and every other field read from the data stay as they are.

:func:`render_report` works from prepared inputs (:class:`ReportInputs`);
:func:`build_report` loads, assesses and scores a bundled basin first.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from riskmap._iso3 import KOSOVO_NOTE, kosovo_note
from riskmap._errors import RiskmapInputError
from riskmap.basins import BASIN_NAMES, reference_name_label
from riskmap.i18n import N_, _, country_name, current_lang, format_date, format_int, format_number, ngettext, use_lang
from riskmap.io import atomic_write_text, sha256_file
from riskmap.natech import climate_section
from riskmap.report_figures import EXPOSURE_ORDER as _EXPOSURE_ORDER
from riskmap.report_figures import basin_part as _part
from riskmap.report_figures import class_column as _class_column  # noqa: F401 - old private name
from riskmap.report_figures import map_figure
from riskmap.report_pdf import html_to_pdf
from riskmap.report_prepare import (  # noqa: F401 - re-exported (moved from this module)
    ReportInputs,
    _input_files,
    _read_json,
    assessment_basins,
    prepare_inputs,
    report_inputs,
)
from riskmap.report_prose import executive_summary, key_findings, limitations_context, recommendations_context
from riskmap.report_quality import (  # noqa: F401 - re-exported (the old private names)
    MAX_DROPPED_LISTED,
    _QUALITY_FIELDS,
    _coverage_context,
    _dropped_rows_context,
    methodology_context,
    quality_context,
    _returns_context,
)
from riskmap.report_ranking import TOP_N, ANNEX_COLUMNS, annex_headers, ranking_context, ranking_frame  # noqa: F401
from riskmap.report_sources import sources_context, provenance_sources  # noqa: F401 - re-exported
from riskmap.report_tables import _MAIN_TERMS, _MATRIX_LABELS, country_sections, _matrix_context  # noqa: F401
from riskmap.report_tables import _site_rows, _top_sites  # noqa: F401 - re-exported (the old private names)
from riskmap.report_values import (  # noqa: F401 - re-exported (the old private names)
    _as_dict,
    _as_list,
    count_rows,
    cell_text,
    _looks_iso,
    _missing,
    _sha256_bytes,
    _version,
    country_label,
)
from riskmap.schema import CATEGORIES, STATUSES

__all__ = [
    "ReportInputs",
    "KOSOVO_FOOTNOTE",
    "BASIN_NAMES",
    "TOP_N",
    "build_report",
    "prepare_inputs",
    "report_inputs",
    "render_report",
    "report_context",
    "report_html",
    "provenance_record",
    "html_to_pdf",
    "country_label",
]

#: The footnote that goes with every mention of Kosovo (docs/REFERENCE naming rule), in English;
#: the report shows :func:`riskmap._iso3.kosovo_note` (the output language).
KOSOVO_FOOTNOTE = KOSOVO_NOTE

#: What an input is used for (the "used for" column of the sources; other uses are shown as given).
_USES = (N_("site inventory"), N_("basin hydrography"), N_("Natech screening"))

#: Headings of the summary tables (the tables keep their English ``data-summary`` key).
_SUMMARY_HEADINGS = {"Sites by category": N_("Category"), "Sites by country": N_("Country"),
                     "Sites by status": N_("Status"), "Sites by exposure class": N_("Exposure class")}




#: The static map prints the rank number of this many top sites.
MAP_NUMBERED = 20

# --------------------------------------------------------------------------
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
        return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def _url_parts(url: Any) -> list[str]:
    """A URL cut after ``/``, ``.``, ``-``, ``_``, ``?``, ``&`` and ``=`` so that it breaks there (``<wbr>``)."""
    import re

    return [p for p in re.split(r"(?<=[/.\-_?&=])", str(url)) if p] if url else []


def _source_titles(sources: list[dict[str, Any]]) -> dict[str, str]:
    return {str(e["name"]): str(e["title"]) for e in sources if e.get("title")}


def _country(code: Any) -> str:
    """A country (or ``"BIH|SRB"`` border pair) in the output language; Kosovo gets its asterisk.

    English is :func:`riskmap.i18n.country_label` unchanged; other
    languages take the names from :func:`riskmap.i18n.country_name` (CLDR/UNTERM).
    """
    if current_lang() == "en":
        return country_label(code)
    if _missing(code):
        return _("unknown")
    code = str(code)
    if "|" in code:
        return _("{countries} (border)").format(countries=" / ".join(_country(c) for c in code.split("|")))
    name = country_name(code) or code
    return f"{name}*" if code == "XKX" else name


def _num(v: Any, digits: int = 2) -> str:
    """A table value in the output language (English: :func:`riskmap.report_values.cell_text` unchanged)."""
    import numpy as np

    if current_lang() == "en" or _missing(v):
        return cell_text(v, digits) if current_lang() == "en" else _("unknown")
    if isinstance(v, (bool, np.bool_)):
        return _("yes") if v else _("no")
    if isinstance(v, (int, np.integer)):
        return format_int(v)
    if isinstance(v, (float, np.floating)):
        return format_number(v, 0 if float(v).is_integer() and abs(float(v)) >= 1000 else digits)
    if isinstance(v, (list, tuple)):
        return " → ".join(_country(x) if isinstance(x, str) and _looks_iso(x) else str(x) for x in v)
    return str(v)


def _count(n: Any) -> str:
    """A count in a table cell (English as before; Russian with no-break thousands)."""
    return str(n) if current_lang() == "en" or _missing(n) else format_int(n)


def _pct0(pct: Any) -> str:
    """A percentage share with no decimals (``45 %``; Russian ``45\u00a0%``)."""
    if current_lang() == "en":
        return f"{pct:.0f} %"
    return f"{format_number(pct, 0)}\u00a0%"


def _basin_name(name: str) -> str:
    """A reference basin's name in the output language (any other name as given)."""
    return reference_name_label(name)


def report_context(inputs: ReportInputs, *, generated_at: _dt.datetime | None = None,
                   lang: str | None = None) -> dict[str, Any]:
    """Build the template context of a report (plain values, no HTML), in ``lang`` (None: the current language).

    The report ranks nothing itself: every table, the map and the text use the
    sites' ``priority_rank`` (the one ranking of :func:`riskmap.hazard.score`,
    see :mod:`riskmap.ranking`), which the map, contingency cards and exports show too.

    Examples
    --------
    >>> ctx = report_context(ReportInputs("drina", sites))  # doctest: +SKIP
    >>> ctx["n_sites"]  # doctest: +SKIP
    """
    with use_lang(lang):
        return _report_context(inputs, generated_at=generated_at)


def _report_context(inputs: ReportInputs, *, generated_at: _dt.datetime | None = None) -> dict[str, Any]:
    sites = _checked_sites(inputs.sites)
    sites = ranking_frame(sites)
    meta = _part(inputs.basin, "meta") or {}
    name = _basin_name(inputs.basin_name or meta.get("name") or _part(inputs.basin, "name")
                       or BASIN_NAMES.get(inputs.basin_id, inputs.basin_id))
    riparian = _riparian(inputs.basin, meta)
    sources = _sources(sites, inputs)
    ranking = ranking_context(sites)
    matrix = _matrix_context(inputs.matrix)
    ctx: dict[str, Any] = {
        "basin_id": inputs.basin_id, "basin_name": name, "riparian": [_country(c) for c in riparian],
        **_basin_facts(inputs.basin, meta),
        "n_sites": len(sites),
        "n_transboundary": int(sites["transboundary_downstream"].astype("boolean").fillna(False).sum())
        if "transboundary_downstream" in sites.columns else None,
        "summary": _summary(sites, riparian),
        "climate": climate_section(sites),  # Natech under climate change (user's scenario rasters), or None
        "interactive_map": inputs.interactive_map, "matrix": matrix,
        **_ranking_parts(sites, inputs, name, ranking, meta),
        "countries": country_sections(sites, riparian, _source_titles(sources)),
        "quality": {**quality_context(sites), "dropped": _dropped_rows_context(inputs.validation, inputs.left_out),
                    **_returns_context(inputs.sites_provenance)},
        "method": methodology_context(sites),
        "sources": sources,
        **_footer_parts(generated_at),
    }
    ctx["kosovo"] = "XKX" in _codes(sites, riparian, matrix)
    ctx["kosovo_footnote"] = kosovo_note()
    return ctx


def _checked_sites(sites: Any) -> gpd.GeoDataFrame:
    """The report's sites, refused with a clear message when they are not a validated GeoDataFrame."""
    if not isinstance(sites, gpd.GeoDataFrame):
        raise RiskmapInputError("report: sites must be a GeoDataFrame")
    if "category" not in sites.columns:
        raise RiskmapInputError("report: sites have no 'category' column; validate them first")
    return sites


def _riparian(basin: Any, meta: dict) -> list[str]:
    """The basin's riparian countries (ISO3): from its metadata, else its country layer."""
    riparian = [str(c) for c in (meta.get("riparian") or [])]
    if not riparian and _part(basin, "countries") is not None:
        riparian = sorted(_part(basin, "countries")["iso3"].astype(str))
    return riparian


def _sources(sites: pd.DataFrame, inputs: ReportInputs) -> list[dict[str, Any]]:
    """The cited sources with their reader labels, breakable URLs and uses in the output language."""
    from riskmap.report_labels import source_name

    sources = sources_context(sites, [("site inventory", inputs.sites_provenance),
                                       ("basin hydrography", inputs.basins_provenance),
                                       *sorted(inputs.other_provenance.items())])
    titles = _source_titles(sources)
    for e in sources:
        e["label"] = source_name(e["name"], titles)
        e["url_parts"] = _url_parts(e.get("url"))
        e["used_for"] = _(e["used_for"]) if e.get("used_for") in _USES else e.get("used_for")
    return sources


def _summary(sites: pd.DataFrame, riparian: list[str]) -> dict[str, list]:
    """The summary tables: sites by category, country, status and exposure class."""
    from riskmap.report_labels import category_name, exposure_name, status_name

    summary = {
        "Sites by category": count_rows(sites["category"], CATEGORIES, category_name),
        "Sites by country": count_rows(sites["country"], riparian, _country)
        if "country" in sites.columns else [],
        "Sites by status": count_rows(sites["status"], STATUSES, status_name) if "status" in sites.columns else [],
    }
    if "exposure_class" in sites.columns:
        summary["Sites by exposure class"] = count_rows(sites["exposure_class"], _EXPOSURE_ORDER, exposure_name)
    return summary


def _basin_facts(basin: Any, meta: dict) -> dict[str, Any]:
    """Area (measured and published), its error and where the water goes beyond the basin."""
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
        countries = ", ".join(_country(c) for c in step.get("countries", []))
        continuation.append(f"{step.get('water', '?')} ({countries})" if countries else str(step.get("water", "?")))
    return {"area_km2": _num(area, 0) if area is not None else None,
            "published_area": [format_number(a, 0) for a in (meta.get("published_area_km2") or [])],
            "area_error_pct": measured.get("area_error_pct"), "continuation": continuation}


def _ranking_parts(sites: pd.DataFrame, inputs: ReportInputs, name: str, ranking: list[dict[str, Any]],
                   meta: dict) -> dict[str, Any]:
    """What the ranking feeds: the numbered map, summary, findings, ranking table, limitations, recommendations."""
    numbers = sites["priority_rank"] if "priority_rank" in sites.columns else None
    title = ngettext("{basin} basin: {n} site", "{basin} basin: {n} sites", len(sites)).format(
        basin=name, n=_count(len(sites)))
    return {
        "map_png": map_figure(sites, inputs.basin, title, numbers=numbers, max_numbers=MAP_NUMBERED),
        "map_numbered": MAP_NUMBERED,
        "executive_summary": executive_summary(sites, ranking, name),
        "findings": key_findings(sites, ranking),
        "ranking": ranking,
        "screening_used": _screened(sites),
        "annex_headers": annex_headers(),
        "top_n": TOP_N,
        "limitations": limitations_context(sites, meta),
        "recommendations": recommendations_context(sites, ranking),
    }


def _footer_parts(generated_at: _dt.datetime | None) -> dict[str, Any]:
    """Version, generation date and the fixed texts of the frame (category help, summary headings, language)."""
    from riskmap.report_labels import category_help, category_name

    when = generated_at or _generation_time()
    return {
        "version": _display_version(), "full_version": _version(),
        "generated": when.strftime("%Y-%m-%d %H:%M UTC") if isinstance(when, _dt.datetime) else str(when),
        "date": format_date(when) if isinstance(when, _dt.datetime) else str(when),
        "category_help": {category_name(k).capitalize(): category_help(k) for k in CATEGORIES},
        "summary_headings": {k: _(v) for k, v in _SUMMARY_HEADINGS.items()},
        "lang": current_lang(),
    }


def _codes(sites: pd.DataFrame, riparian: list[str], matrix: dict | None) -> set[str]:
    """Every country code the report mentions (riparian, site, downstream and matrix countries)."""
    codes = set(riparian) | set(sites.get("country", pd.Series(dtype=object)).dropna().astype(str))
    for lst in sites.get("downstream_countries", pd.Series(dtype=object)):
        codes |= {p for c in _as_list(lst) for p in str(c).split("|")}
    if matrix:
        codes |= {p for c in matrix["codes"] for p in str(c).split("|")}
    return codes


def _display_version() -> str:
    """The version for readers: ``0.1.0 (data 2026-11-27)`` (the data checksum is in the provenance file)."""
    import re

    label = re.sub(r"\s*sha256:[0-9a-f]+", "", _version())
    if current_lang() == "en":
        return label
    return re.sub(r"\(data ([^)]*)\)", lambda m: _("(data {date})").format(date=m.group(1)), label)


def provenance_record(inputs: ReportInputs, *, generated_at: _dt.datetime | None = None) -> dict[str, Any]:
    """What the report was made from: versions, input files and source files with their SHA-256.

    Written next to the report as ``<basin>_report_provenance.json`` (not in the report body).
    """
    ctx_sources = sources_context(inputs.sites, [("site inventory", inputs.sites_provenance),
                                                  ("basin hydrography", inputs.basins_provenance),
                                                  *sorted(inputs.other_provenance.items())])
    when = generated_at or _generation_time()
    return {
        "report": f"{inputs.basin_id}_report.html", "basin": inputs.basin_id, "riskmap": _version(),
        "generated": when.isoformat() if isinstance(when, _dt.datetime) else str(when),
        "inputs": _checksums(inputs, inputs.sites),
        "sources": [{"name": s["name"], "sha256": s.get("sha256"),
                     "files": [{"path": p, "sha256": h} for p, h in s.get("files") or []]}
                    for s in ctx_sources if s.get("sha256") or s.get("files")],
    }


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


def jinja_environment() -> Any:
    """The report's Jinja environment: autoescape, gettext (``{{ _("...") }}``) in the current language.

    Its filters format for the language the template is rendered in: ``fmt`` (numbers, "unknown"
    when missing), ``count``, ``pct0``, ``country`` and ``exposure``.

    Returns
    -------
    jinja2.Environment
        Loading riskmap's ``templates/``; undefined names are errors.

    Examples
    --------
    >>> jinja_environment().from_string("{{ 12345.5 | fmt(1) }} {{ none | fmt }} {{ '<b>' }}").render()
    '12,345.5 unknown &lt;b&gt;'
    """
    import jinja2

    from riskmap import i18n
    from riskmap.report_labels import exposure_name

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True  # as the catalogue is extracted (riskmap._i18n_catalog)
    # install_gettext_callables is added by the jinja2.ext.i18n extension (not in the stubs)
    env.install_gettext_callables(gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["fmt"] = _num
    env.filters["country"] = _country
    env.filters["count"] = _count
    env.filters["pct0"] = _pct0
    env.filters["exposure"] = exposure_name
    return env


def report_html(inputs: ReportInputs, *, generated_at: _dt.datetime | None = None, lang: str | None = None) -> str:
    """Render the report of ``inputs`` to a self-contained HTML string in ``lang`` (``"en"``, ``"ru"``).

    ``lang=None`` writes the current language (:func:`riskmap.i18n.use_lang`, English by default).

    Examples
    --------
    >>> html = report_html(ReportInputs("drina", sites, basin=basin), lang="ru")  # doctest: +SKIP
    """
    with use_lang(lang):
        ctx = _report_context(inputs, generated_at=generated_at)
        return jinja_environment().get_template("report.html.j2").render(**ctx)


def render_report(inputs: ReportInputs, out_dir: str | os.PathLike, *, pdf: bool = True,
                  generated_at: _dt.datetime | None = None, lang: str | None = None) -> Path:
    """Write ``<basin>_report.html`` (and ``.pdf``) for prepared inputs into ``out_dir``, in ``lang``.

    ``lang`` is ``"en"`` or ``"ru"`` (``None``: the current language); the PDF
    is printed from the HTML of the same language, its footer too.

    Returns
    -------
    pathlib.Path
        The HTML report.

    Examples
    --------
    >>> render_report(ReportInputs("drina", sites, basin=basin), "out", pdf=False)  # doctest: +SKIP
    """
    with use_lang(lang):
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        html = report_html(inputs, generated_at=generated_at)
        path = atomic_write_text(out_dir / f"{inputs.basin_id}_report.html", html)
        atomic_write_text(out_dir / f"{inputs.basin_id}_report_provenance.json",
                          json.dumps(provenance_record(inputs, generated_at=generated_at), indent=2,
                                     ensure_ascii=False) + "\n")
        if pdf:
            name = _basin_name(inputs.basin_name or BASIN_NAMES.get(inputs.basin_id, inputs.basin_id))
            html_to_pdf(path, out_dir / f"{inputs.basin_id}_report.pdf",
                        footer=_("{basin} basin: technological risk inventory ·").format(basin=name))
        return path



def _screened(sites: pd.DataFrame) -> bool:
    """Whether any site is ranked on the category-typical hazard (the report then says why)."""
    from riskmap.ranking import RANK_BASIS_CATEGORY

    return "rank_basis" in sites.columns and bool((sites["rank_basis"] == RANK_BASIS_CATEGORY).any())



def build_report(basin: str | ReportInputs, out_dir: str | os.PathLike, *,
                 sites: gpd.GeoDataFrame | None = None, pdf: bool = True,
                 data_dir: str | Path | None = None,
                 generated_at: _dt.datetime | None = None, lang: str | None = None) -> Path:
    """Build the inventory report of a basin: ``out_dir/<basin>_report.html`` (+ ``.pdf``).

    Writes the report only: the interactive map is the caller's (see
    :func:`riskmap.pipeline.run_all` and ``riskmap report``), linked when
    ``inputs.interactive_map`` names it.

    Parameters
    ----------
    basin : str or ReportInputs
        Prepared :class:`ReportInputs` (see :func:`report_inputs`), or a basin
        id, prepared here with :func:`prepare_inputs`.
    out_dir : path
        Output folder (created if needed).
    sites : geopandas.GeoDataFrame, optional
        With a basin id: sites to report instead of the bundled inventory.
    pdf : bool
        Also print a PDF with headless Chromium.
    data_dir : path, optional
        With a basin id: alternative ``data/`` folder.
    generated_at : datetime, optional
        Date stamped in the footer (default: ``$SOURCE_DATE_EPOCH`` if set, else now, UTC).
    lang : {"en", "ru"}, optional
        Language of the report (default: the current language, see :func:`riskmap.i18n.use_lang`).

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
    return render_report(inputs, out_dir, pdf=pdf, generated_at=generated_at, lang=lang)
