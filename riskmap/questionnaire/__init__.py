"""Questionnaires for competent authorities: write the workbook, read the returns, merge them.

The hazard fields the indices need (substances, tailings volume and area, dam
height and condition) are not in any public dataset for these countries; in
UNECE practice they come from operators and authorities through
questionnaires. This module runs that loop (design: ``docs/questionnaire.md``):

- :func:`write_questionnaire` writes an XLSX workbook for one basin and
  country: an ``Instructions`` sheet, one sheet per site category with the
  country's sites pre-filled (id, name, location, what is known, with its
  source) and the missing fields as validated, unlocked input cells (lists
  for status, WGK class and dam condition, numeric ranges, units in the
  header), a ``New sites`` sheet, and hidden ``lists`` and ``_meta`` sheets.
  Every sheet is protected (no password: it prevents accidents, not
  tampering); the fixed columns, ids included, are locked.
- :func:`read_return` reads a returned workbook (or a CSV with the same
  column keys) cell by cell, understands what it can (moved columns, renamed
  sheets, decimal commas, dates as text, category and condition names in
  Serbian/Montenegrin/Bosnian, Albanian, Macedonian and Russian, merged
  cells) and reports the rest precisely (file, sheet, row, column, reason,
  fix) in a :class:`riskmap.schema.ValidationReport`. Formulas are never
  evaluated: they are reported.
- :func:`merge_returns` merges the values into an inventory with provenance:
  a blank field is filled (``field_sources`` names the questionnaire and the
  respondent's source), an equal value is recorded as confirmed, a differing
  value is a **conflict**: the previous value is kept and the conflict
  recorded. New sites get their own ``site_id`` (``q-<iso3>-<name>``).

Modules: :mod:`~riskmap.questionnaire.fields` (what is asked),
:mod:`~riskmap.questionnaire.workbook` (writing), :mod:`~riskmap.questionnaire.returns`
(reading), :mod:`~riskmap.questionnaire.merge` (merging and the build step), :mod:`~riskmap.questionnaire.inventory`
(the inventory's invalid rows and fixed columns in a merge).
"""

from __future__ import annotations

from riskmap.questionnaire.fields import (
           FIELDS,
           N_SUBSTANCES,
           TERMS,
           Field,
           questionnaire_sites,
)
from riskmap.questionnaire.inventory import Inventory, read_inventory
from riskmap.questionnaire.merge import (
           MergeResult,
           merge_returns,
           return_files,
           returns_step,
           score_change,
           write_merge,
)
from riskmap.questionnaire.returns import ReturnData, read_return
from riskmap.questionnaire.workbook import write_questionnaire

__all__ = ["FIELDS", "N_SUBSTANCES", "TERMS", "write_questionnaire", "read_return", "merge_returns",
           "write_merge", "ReturnData", "MergeResult", "questionnaire_sites", "return_files", "returns_step",
           "score_change", "Field", "Inventory", "read_inventory"]
