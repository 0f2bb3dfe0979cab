"""Reading returned questionnaires (XLSX or CSV), cell by cell, with precise issues."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import functools
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.i18n import LANGUAGES, _, parse_number, use_lang
from riskmap.questionnaire.fields import (
    _VOCAB,
    FIELDS,
    FIXED,
    N_SUBSTANCES,
    NEW_SITE_COLUMNS,
    TERMS,
    Field,
    _norm,
    vocabulary_lookup,
)
from riskmap.questionnaire.workbook import INSTRUCTIONS_SHEET, _header_label
from riskmap.schema import (
    ValidationIssue,
    ValidationReport,
    format_substances,
    parse_substances,
)

# --------------------------------------------------------------------------- reading


@dataclasses.dataclass
class ReturnData:
    """What one returned file holds after reading.

    Attributes
    ----------
    file : str
    country, basin : str or None
        From the workbook's ``_meta`` sheet (None for CSV returns).
    values : pandas.DataFrame
        One row per readable value: ``site_id``, ``field``, ``value``, ``sheet``, ``row``, ``column``,
        ``respondent_source``, ``respondent_date``.
    new_sites : list of dict
        One dict per new site (schema-like keys plus ``sheet``, ``row``, ``respondent_*``).
    report : riskmap.schema.ValidationReport
    """

    file: str
    country: str | None
    basin: str | None
    values: pd.DataFrame
    new_sites: list[dict[str, Any]]
    report: ValidationReport


class _Issues:
    def __init__(self, report: ValidationReport, file: str) -> None:
        self.report, self.file = report, file

    def add(self, sheet: str | None, row: int | None, col: str | None, reason: str, fix: str,
            severity: str = "error") -> None:
        where = self.file if sheet is None else _("{file}, sheet '{sheet}'").format(file=self.file, sheet=sheet)
        self.report.issues.append(ValidationIssue(where, row, col, reason, fix, severity))


_SKIP_SHEETS = {"instructions", "lists", "_meta"}


@functools.cache
def _skip_sheets() -> frozenset[str]:
    """Lower-case titles of the sheets without answers, in every output language."""
    out = set(_SKIP_SHEETS)
    for lang in LANGUAGES:
        with use_lang(lang):
            out.add(_(INSTRUCTIONS_SHEET).lower())
    return frozenset(out)


@functools.cache
def _labels_by_norm() -> dict[str, str]:
    """Normalised column label (second header row, every output language, with and without unit) -> key."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        with use_lang(lang):
            for k in [*FIXED, *NEW_SITE_COLUMNS, *FIELDS]:
                label = _header_label(k)
                out.setdefault(_norm(label), k)
                out.setdefault(_norm(re.sub(r"\s*\([^)]*\)\s*$", "", label)), k)
    return out


def _col_name(letter: str | None, key: str) -> str:
    return f"{letter} ({key})" if letter else key


def _parse_number(v: Any, f: Field) -> float:
    """A number typed in either language: ``1234.5``, ``1234,5``, ``1 234,5`` (also no-break spaces), ``1,234.5``.

    ``1,234`` alone is refused as ambiguous (a decimal comma or a thousands separator?).
    """
    if isinstance(v, bool):
        raise ValueError(_("{value} is not a number").format(value=repr(v)))
    if isinstance(v, (int, float, np.integer, np.floating)):
        x = float(v)
    else:
        s = re.sub(r"[\s\u00a0\u202f\u2009']", "", str(v))
        if re.fullmatch(r"-?\d+,\d{3}", s):
            raise ValueError(_("{value} is ambiguous (decimal comma or thousands separator?)").format(value=repr(v)))
        if not re.fullmatch(r"[-+]?[\d.,]*\d[\d.,]*(e[-+]?\d+)?", s, flags=re.I):
            raise ValueError(_("{value} is not a number").format(value=repr(v)))
        try:
            x = parse_number(s)
        except ValueError:
            raise ValueError(_("{value} is not a number").format(value=repr(v))) from None
    if not math.isfinite(x):
        raise ValueError(_("{value} is not a finite number").format(value=repr(v)))
    if x < f.lo:
        raise ValueError(_("negative value {x}").format(x=f"{x:g}") if x < 0
                         else _("{x} is below {lo}").format(x=f"{x:g}", lo=f"{f.lo:g}"))
    if x > f.hi:
        raise ValueError(_("{x} {unit} is above the plausible maximum {hi}").format(
            x=f"{x:g}", unit=_(f.unit) if f.unit else "", hi=f"{f.hi:g}"))
    return x


def _parse_date(v: Any) -> str:
    if isinstance(v, _dt.datetime):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 18264 <= float(v) <= 73051:
        return (_dt.date(1899, 12, 30) + _dt.timedelta(days=int(v))).isoformat()  # Excel serial day
    s = str(v).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%Y.", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return _dt.datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    if re.fullmatch(r"\d{4}(-\d{2})?", s):
        return s
    raise ValueError(_("{value} is not a date").format(value=repr(v)))


def _parse_list(v: Any, vocab_key: str) -> tuple[str, str | None]:
    """(value, note) where note says which translation was applied."""
    vocab = _VOCAB[vocab_key]
    raw = v
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    n = _norm(v)
    if n in vocab:
        return n, None
    if vocab_key == "wgk" and n.replace("wgk", "").strip("_") in vocab:
        return n.replace("wgk", "").strip("_"), None
    words = vocabulary_lookup(vocab_key)  # the workbook's own drop-down words, in any output language
    if n in words:
        return words[n], None
    hit = TERMS.get(vocab_key, {}).get(n)
    if hit:
        return hit, _("{value} read as {code}").format(value=repr(raw), code=repr(hit))
    known = {**words, **TERMS.get(vocab_key, {})}
    close = difflib.get_close_matches(n, list(vocab) + list(known), n=1, cutoff=0.5)
    sug = known.get(close[0], close[0]) if close else None
    if sug:
        raise ValueError(_("unknown {field} {value} (closest: {closest})").format(
            field=vocab_key, value=repr(raw), closest=repr(sug)))
    raise ValueError(_("unknown {field} {value}").format(field=vocab_key, value=repr(raw)))


def _header_map(cells: list[Any]) -> dict[int, str]:
    """Column position -> field key, from a header row of keys or labels (moved columns are fine)."""
    known = {k: k for k in [*FIXED, *NEW_SITE_COLUMNS, *FIELDS]}
    by_label = _labels_by_norm()
    out = {}
    for i, v in enumerate(cells):
        if v is None or not str(v).strip():
            continue
        n = _norm(v)
        n_nounit = _norm(re.sub(r"\s*\([^)]*\)\s*$", "", str(v)))
        key = known.get(n) or by_label.get(n) or known.get(n_nounit) or by_label.get(n_nounit)
        if key:
            out[i] = key
        else:
            out[i] = "?" + str(v)
    return out


def _sheet_rows(ws: Any) -> tuple[list[list[Any]], list[list[str]], list[str]]:
    """Cell values, cell data types and column letters of a worksheet."""
    from openpyxl.utils import get_column_letter

    values, types = [], []
    for row in ws.iter_rows():
        values.append([c.value for c in row])
        types.append([getattr(c, "data_type", "n") for c in row])
    ncol = max((len(r) for r in values), default=0)
    return values, types, [get_column_letter(i + 1) for i in range(ncol)]


@dataclasses.dataclass
class _Table:
    """One sheet (or CSV) of a return.

    Cell values and data types by row, column letters, and (after :func:`_table_keys`) the column
    index of each recognised key.
    """

    sheet: str
    values: list[list[Any]]
    types: list[list[str]]
    letters: list[str]
    keys: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def is_new(self) -> bool:
        """Whether this is the New sites sheet."""
        return "new_site_name" in self.keys

    def cell(self, r: int, k: str) -> tuple[Any, str | None, bool]:
        """``(value, column letter, is a formula)`` of key ``k`` in row index ``r``."""
        i = self.keys.get(k)
        row = self.values[r]
        if i is None or i >= len(row):
            return None, None, False
        v = row[i]
        is_formula = self.types[r][i] == "f" or (isinstance(v, str) and v.startswith("=") and len(v) > 1)
        return v, self.letters[i], is_formula


def _read_table_rows(issues: _Issues, table: _Table, merged: list[str], values_out: list[dict],
                     new_out: list[dict]) -> None:
    """Read the answers of one sheet.

    One row of ``values_out`` is a (site, field) answer, one dict of ``new_out`` a new site; every
    problem goes to ``issues``.
    """
    first = _table_keys(issues, table)
    if first is None:
        return
    for rng in merged:
        issues.add(table.sheet, None, rng, _("merged cells {cells}: only the top-left cell's value was read, "
                                             "the other cells count as blank").format(cells=rng),
                   _("unmerge the cells and fill each row"), "warning")
    for r in range(first, len(table.values)):
        _read_answer_row(issues, table, r, values_out, new_out)


def _table_keys(issues: _Issues, table: _Table) -> int | None:
    """Find the header row, fill ``table.keys`` and return the index of the first data row (None: no header)."""
    values, sheet = table.values, table.sheet
    hdr_row = next((r for r in range(min(6, len(values)))
                    if any(_norm(v) in ("site_id", "new_site_name") for v in values[r] if v is not None)), None)
    if hdr_row is None:
        if any(any(v not in (None, "") for v in r) for r in values):
            issues.add(sheet, None, None, _("no header row with 'site_id' or 'new_site_name' in the first 6 rows; "
                                            "the sheet was not read"),
                       _("keep the two header rows of the questionnaire (keys in row 1)"), "error")
        return None
    hmap = _header_map(values[hdr_row])
    for i, k in hmap.items():
        if k.startswith("?"):
            issues.add(sheet, hdr_row + 1, _col_name(table.letters[i], k[1:]),
                       _("column header {header} not recognised; its values were not read").format(header=repr(k[1:])),
                       _("restore the header from the blank questionnaire"), "error")
    table.keys = {k: i for i, k in hmap.items() if not k.startswith("?")}
    first = hdr_row + 1
    if first < len(values):  # skip the label row under the keys
        id_key = "new_site_name" if table.is_new else "site_id"
        lab = table.cell(first, id_key)[0]
        if lab is not None and _labels_by_norm().get(_norm(lab)) == id_key:
            first += 1
    return first


def _read_answer_row(issues: _Issues, table: _Table, r: int, values_out: list[dict],
                     new_out: list[dict]) -> None:
    """Read data row index ``r`` of ``table`` into ``values_out`` or ``new_out`` (blank rows are skipped)."""
    sheet, excel_row = table.sheet, r + 1
    inputs = [k for k in table.keys if k in FIELDS or (table.is_new and k in NEW_SITE_COLUMNS)]
    present = [k for k in inputs if not _is_blank(table.cell(r, k)[0])]
    if not present:
        return
    parsed, failed = _parse_answers(issues, table, r, present)
    _gather_substances(issues, table, r, parsed)
    meta = {"sheet": sheet, "row": excel_row, "respondent_source": parsed.pop("respondent_source", None),
            "respondent_date": parsed.pop("respondent_date", None), "comment": parsed.pop("comment", None)}
    if table.is_new:
        letters_of = {k: table.cell(r, k)[1] for k in table.keys}
        new_out.append({**parsed, **meta, "_letters": letters_of, "_failed": failed})
        return
    sid_v, sid_letter, _formula = table.cell(r, "site_id")
    sid = str(sid_v).strip() if sid_v not in (None, "") else None
    if sid is None:
        issues.add(sheet, excel_row, _col_name(sid_letter, "site_id"),
                   _("the row has answers but no site_id; not read"),
                   _("restore the site id (the id column is protected), or use the New sites sheet"))
        return
    for k, v in parsed.items():
        values_out.append({"site_id": sid, "field": k, "value": v, "column": _col_name(table.cell(
            r, k if k != "substances" else "substance_1_name")[1], k), **meta})


def _is_blank(v: Any) -> bool:
    """Whether a cell value is empty (None, "" or only white space)."""
    return v in (None, "") or (isinstance(v, str) and not v.strip())


def _parse_answers(issues: _Issues, table: _Table, r: int,
                   present: list[str]) -> tuple[dict[str, Any], set[str]]:
    """Parse the non-blank cells ``present`` of row index ``r``: ``(parsed values, keys that failed)``."""
    parsed: dict[str, Any] = {}
    failed: set[str] = set()
    for k in present:
        v, letter, formula = table.cell(r, k)
        col = _col_name(letter, k)
        if formula:
            issues.add(table.sheet, r + 1, col, _("formula {formula} not evaluated (riskmap reads typed values "
                                                  "only); the cell was not read").format(formula=repr(str(v)[:60])),
                       _("type the value itself"))
            failed.add(k)
            continue
        try:
            parsed[k], note, fix = _parse_answer(k, v)
        except ValueError as e:
            issues.add(table.sheet, r + 1, col, str(e), _fix_for(k))
            failed.add(k)
            continue
        if note:
            issues.add(table.sheet, r + 1, col, note, fix, "warning")
    return parsed, failed


def _parse_answer(k: str, v: Any) -> tuple[Any, str | None, str]:
    """The value of key ``k`` typed as ``v``, and a warning with its fix (or None); raises ValueError."""
    translated = _("none needed (documented translation)")
    if k in ("lon", "lat"):
        return _parse_number(v, Field(k, "number", k, lo=-180 if k == "lon" else -90,
                                      hi=180 if k == "lon" else 90)), None, ""
    if k in ("category", "coord_precision"):
        value, note = _parse_list(v, k)
        return value, note, translated
    f = FIELDS.get(k)
    if f is None:
        return str(v).strip(), None, ""
    if f.kind == "number":
        x = _parse_number(v, f)
        if isinstance(v, str):
            return x, _("number typed as text {value} read as {x}").format(value=repr(v), x=f"{x:g}"), \
                _("none needed")
        return x, None, ""
    if f.kind == "date":
        return _parse_date(v), None, ""
    if f.kind == "list":
        value, note = _parse_list(v, "wgk" if k.endswith("_wgk") else k)
        return value, note, translated
    return str(v).strip(), None, ""


def _fix_for(k: str) -> str:
    """How to fix a value of key ``k`` that could not be read."""
    kind = FIELDS[k].kind if k in FIELDS else ("list" if k in ("category", "coord_precision") else "number")
    return {"number": _("write a plain number in the unit of the header (no units, no text), or leave "
                        "blank when unknown"),
            "date": _("write the date as YYYY-MM-DD"),
            "list": _("choose a value from the drop-down list")}.get(kind, _("check the value"))


def _gather_substances(issues: _Issues, table: _Table, r: int, parsed: dict[str, Any]) -> None:
    """Replace the ``substance_<n>_*`` answers in ``parsed`` by one ``substances`` value."""
    subs = []
    for n in range(1, N_SUBSTANCES + 1):
        nm, q, w = (parsed.pop(f"substance_{n}_name", None), parsed.pop(f"substance_{n}_quantity_t", None),
                    parsed.pop(f"substance_{n}_wgk", None))
        if nm is None and (q is not None or w is not None):
            issues.add(table.sheet, r + 1, _col_name(table.cell(r, f"substance_{n}_name")[1], f"substance_{n}_name"),
                       _("substance {n}: quantity or WGK given without a substance name; not read").format(n=n),
                       _("give the substance name"))
        elif nm is not None:
            subs.append({"name": nm, "quantity_t": q, "wgk": w or "unknown"})
    if subs:
        parsed["substances"] = format_substances(parse_substances(subs))


def read_return(path: str | Path) -> ReturnData:
    """Read one returned questionnaire (``.xlsx``, or ``.csv`` with the same column keys).

    Never raises on bad cells: every problem is in ``report`` (file, sheet,
    row, column, reason, fix). Raises :class:`~riskmap._errors.RiskmapInputError`
    only when the file cannot be opened at all.

    Examples
    --------
    >>> ret = read_return("mne_drina_returned.xlsx")  # doctest: +SKIP
    >>> print(ret.report)  # doctest: +SKIP
    """
    path = Path(path)
    report = ValidationReport(file=str(path))
    issues = _Issues(report, str(path))
    values: list[dict] = []
    new: list[dict] = []
    country = basin = None
    suffix = path.suffix.lower()
    if not path.exists():
        raise RiskmapInputError(_("{path}: no such file").format(path=path))
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, data_only=False)
        except Exception as e:  # noqa: BLE001 - any reader failure is an input problem
            raise RiskmapInputError(_("{path}: cannot read the workbook ({error})").format(
                path=path, error=f"{type(e).__name__}: {e}")) from None
        if "_meta" in wb.sheetnames:
            meta = {str(r[0]): r[1] for r in wb["_meta"].iter_rows(values_only=True) if r and r[0]}
            country, basin = meta.get("country"), meta.get("basin")
        else:
            issues.add(None, None, None, _("no _meta sheet: country and basin unknown (taken from the inventory per "
                                           "site)"),
                       _("return the workbook riskmap wrote, not a copy of its sheets"), "warning")
        for ws in wb.worksheets:
            if ws.title.strip().lower() in _skip_sheets():
                continue
            vals, types, letters = _sheet_rows(ws)
            _read_table_rows(issues, _Table(ws.title, vals, types, letters),
                             [str(r) for r in ws.merged_cells.ranges], values, new)
    elif suffix == ".csv":
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python", header=None,
                             encoding="utf-8-sig")
        except Exception as e:  # noqa: BLE001
            raise RiskmapInputError(_("{path}: cannot read the CSV ({error})").format(
                path=path, error=f"{type(e).__name__}: {e}")) from None
        vals = [[None if v == "" else v for v in r] for r in df.to_numpy().tolist()]
        types = [["s"] * len(r) for r in vals]
        from openpyxl.utils import get_column_letter

        table = _Table("csv", vals, types, [get_column_letter(i + 1) for i in range(df.shape[1])])
        _read_table_rows(issues, table, [], values, new)
    else:
        raise RiskmapInputError(_("{path}: a questionnaire return is an .xlsx workbook or a .csv file").format(
            path=path))
    cols = ["site_id", "field", "value", "sheet", "row", "column", "respondent_source", "respondent_date", "comment"]
    report.n_rows = len(values) + len(new)
    return ReturnData(str(path), country, basin, pd.DataFrame(values, columns=cols), new, report)
