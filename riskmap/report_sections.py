"""The sections of a report as template context (the former module, now re-exporting its parts).

The sections were split along their seams (issue 14); each part is a module
named for its job:

- :mod:`riskmap.report_values`: numbers, counts, shares and table cells in the output language;
- :mod:`riskmap.report_sources`: the cited sources from the provenance files;
- :mod:`riskmap.report_tables`: top sites, the exposure matrix, the per-country sections;
- :mod:`riskmap.report_quality`: data quality, field coverage, dropped rows, methodology;
- :mod:`riskmap.report_ranking`: the one ranking with its reasons in words and the annex numbers;
- :mod:`riskmap.report_prose`: executive summary, key findings, limitations, recommendations
  (and :data:`ACCURACY`, the measured accuracy quoted there).

Every name this module had is still importable from here.
"""

from __future__ import annotations

from riskmap.i18n import country_label  # noqa: F401 - re-exported (rs.country_label)
from riskmap.report_figures import class_column as _class_column  # noqa: F401 - old private name
from riskmap.report_values import (  # noqa: F401 - re-exported
    _as_dict,
    _as_list,
    _cap,
    count_rows,
    _dec,
    _en,
    _finite,
    cell_text,
    _int,
    _looks_iso,
    _missing,
    _sha256_bytes,
    share_text,
    _value_label,
    _version,
    exposure_name,
)
from riskmap.report_sources import (  # noqa: F401 - re-exported
    _USED_FOR,
    _source_entry,
    provenance_sources,
    sources_context,
    _walk_sources,
)
from riskmap.report_tables import (  # noqa: F401 - re-exported
    _MAIN_TERMS,
    _MATRIX_LABELS,
    country_sections,
    _matrix_context,
    _site_rows,
    _top_sites,
)
from riskmap.report_quality import (  # noqa: F401 - re-exported
    MAX_DROPPED_LISTED,
    _QUALITY_FIELDS,
    _coverage_context,
    _dropped_rows_context,
    _filled_by_text,
    methodology_context,
    quality_context,
    _returns_context,
)
from riskmap.report_ranking import (  # noqa: F401 - re-exported
    ANNEX_COLUMNS,
    TOP_N,
    _a,
    amount_text,
    _and,
    _basis_reason,
    _border_reason,
    _first_border_parts,
    _parts,
    _quantity,
    _ranking_context,
    _what,
    annex_headers,
    first_border,
    foreign_downstream,
    ranking_context,
    ranking_frame,
    why_reasons,
)
from riskmap.report_prose import (  # noqa: F401 - re-exported
    ACCURACY,
    NEAR_BORDER_RIVER_KM,
    SHORT_WARNING_H,
    _accuracy_pct,
    _executive_summary,
    _inventory_paragraph,
    _key_findings,
    _limitations_context,
    _recommendations_context,
    _river_limits,
    _short_warning_names,
    site_count_text,
    _spill_paragraph,
    _unknown_paragraph,
    border_stretches,
    data_gaps,
    executive_summary,
    key_findings,
    limitations_context,
    recommendations_context,
    short_warning,
)

__all__ = [
    "exposure_name",
    "MAX_DROPPED_LISTED",
    "TOP_N",
    "ranking_frame",
    "first_border",
    "foreign_downstream",
    "why_reasons",
    "ANNEX_COLUMNS",
    "annex_headers",
    "ranking_context",
    "SHORT_WARNING_H",
    "NEAR_BORDER_RIVER_KM",
    "ACCURACY",
    "border_stretches",
    "short_warning",
    "data_gaps",
    "executive_summary",
    "key_findings",
    "limitations_context",
    "recommendations_context",
]
