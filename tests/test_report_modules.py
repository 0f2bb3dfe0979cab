"""The report's modules after the split of ``report_sections`` (issue 14): sizes, old names, gettext domains."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from riskmap import _i18n_catalog, report, report_sections

PKG = Path(report.__file__).resolve().parent

#: The modules ``report_sections`` was split into (their messages are in the domain ``report_text``).
PARTS = ("report_values", "report_sources", "report_tables", "report_quality", "report_ranking", "report_prose")

#: Every top-level name the former ``report_sections`` defined, and the module that defines it now.
FORMER_NAMES = {
    "report_values": ("_en", "_int", "_dec", "_cap", "exposure_name", "_value_label", "_missing", "cell_text",
                      "_looks_iso", "_as_list", "_as_dict", "count_rows", "_sha256_bytes", "_version", "_finite",
                      "share_text"),
    "report_sources": ("_source_entry", "_walk_sources", "provenance_sources", "_USED_FOR", "sources_context"),
    "report_tables": ("_MAIN_TERMS", "_top_sites", "_MATRIX_LABELS", "_matrix_context", "_site_rows",
                      "country_sections"),
    "report_quality": ("_QUALITY_FIELDS", "MAX_DROPPED_LISTED", "_dropped_rows_context", "quality_context",
                       "_returns_context", "_coverage_context", "_filled_by_text", "methodology_context"),
    "report_ranking": ("TOP_N", "ranking_frame", "_parts", "_first_border_parts", "first_border",
                       "foreign_downstream", "_quantity", "amount_text", "_a", "_what", "_and", "_border_reason",
                       "_basis_reason", "why_reasons", "ANNEX_COLUMNS", "annex_headers", "ranking_context",
                       "_ranking_context"),
    "report_prose": ("SHORT_WARNING_H", "NEAR_BORDER_RIVER_KM", "ACCURACY", "site_count_text", "_accuracy_pct",
                     "border_stretches", "short_warning", "data_gaps", "_inventory_paragraph", "_spill_paragraph",
                     "_unknown_paragraph", "executive_summary", "_executive_summary", "key_findings",
                     "_key_findings", "_river_limits", "limitations_context", "_limitations_context",
                     "_short_warning_names", "recommendations_context", "_recommendations_context"),
}


@pytest.mark.parametrize("path", sorted(PKG.glob("report*.py")), ids=lambda p: p.name)
def test_report_modules_are_at_most_600_lines(path):
    """No report module is over about 600 lines (issue 14)."""
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= 600, f"{path.name} has {n} lines (issue 14: at most about 600)"


@pytest.mark.parametrize("module", sorted(FORMER_NAMES))
def test_former_names_still_come_from_report_sections(module):
    """Every former name of ``report_sections`` is still there, the same object as in its new module."""
    part = importlib.import_module(f"riskmap.{module}")
    for name in FORMER_NAMES[module]:
        assert getattr(report_sections, name) is getattr(part, name), name


def test_moved_report_names_still_come_from_report():
    """The inputs moved to ``report_prepare`` (and the helpers tests use) are still importable from ``report``."""
    from riskmap import report_prepare, report_sources

    for name in ("ReportInputs", "prepare_inputs", "report_inputs", "assessment_basins"):
        assert getattr(report, name) is getattr(report_prepare, name), name
    assert report.provenance_sources is report_sources.provenance_sources


def test_split_modules_keep_their_messages_in_report_text():
    """A message moved to another domain would lose its Russian translation at the next ``update``."""
    cats = _i18n_catalog.extract()
    files_of = {d: {loc[0] for m in cat if m.id for loc in m.locations} for d, cat in cats.items()}
    assert files_of["report_text"] == {f"{p}.py" for p in PARTS}
    assert not {f"{p}.py" for p in PARTS} & files_of["report"]
    assert "report.py" in files_of["report"]
