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
    fixed : list of dict
        The fixed (locked) cells of the site sheets as returned: ``site_id``, ``key``, ``value``,
        ``sheet``, ``row``, ``column``; the merge compares them with the inventory and reports
        every change (fixed columns are never merged).
    """

    file: str
    country: str | None
    basin: str | None
    values: pd.DataFrame
    new_sites: list[dict[str, Any]]
    report: ValidationReport
    fixed: list[dict[str, Any]] = dataclasses.field(default_factory=list)


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
    if isinstance(v, (_dt.date, _dt.time)):  # Excel turns 1.5 into 1 May in some locales
        raise ValueError(_("a date or time ({value}) where a number is expected (the spreadsheet may have "
                           "turned the number into a date)").format(value=v.isoformat()))
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


#: Cell texts that mean "no value" (left by exports from pandas, R or databases): read as blank, with a warning.
NULL_WORDS = frozenset({"nan", "none", "null", "n/a", "#n/a", "<na>", "nat"})

#: A date this many days after today is an error (not read); closer to today, a warning (clock or time zone).
FUTURE_DAYS_ERROR = 31


def _today() -> _dt.date:
    """Today (UTC), the reference for dates in the future."""
    return _dt.datetime.now(_dt.UTC).date()


def _date_start(value: str) -> _dt.date:
    """The first day of a date read by :func:`_parse_date` (``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``)."""
    parts = [int(p) for p in value.split("-")]
    return _dt.date(parts[0], *(parts[1:] + [1, 1])[:2])


def _future_date(value: str, today: _dt.date | None = None) -> tuple[str, str] | None:
    """``(severity, reason)`` when the date ``value`` is after today, else None.

    Examples
    --------
    >>> _future_date("2031-01-01", _dt.date(2026, 11, 29))[0]
    'error'
    >>> _future_date("2026-12", _dt.date(2026, 11, 29))[0]
    'warning'
    >>> _future_date("2026", _dt.date(2026, 11, 29)) is None
    True
    """
    today = today or _today()
    start = _date_start(value)
    if start <= today:
        return None
    days = (start - today).days
    if days > FUTURE_DAYS_ERROR:
        return "error", _("date {value} is in the future ({days} days after today, {today}); not read").format(
            value=value, days=days, today=today.isoformat())
    return "warning", _("date {value} is after today ({today}); kept, check it").format(
        value=value, today=today.isoformat())


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
    text_only: bool = False  # a CSV: every cell is text, a plain number in it is no news

    @property
    def is_new(self) -> bool:
        """Whether this is the New sites sheet."""
        return "new_site_name" in self.keys

    def is_error(self, r: int, k: str) -> bool:
        """Whether the cell of key ``k`` in row index ``r`` holds a spreadsheet error value (``#REF!``)."""
        i = self.keys.get(k)
        return i is not None and i < len(self.types[r]) and self.types[r][i] == "e"

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
                     new_out: list[dict], fixed_out: list[dict] | None = None) -> None:
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
        if fixed_out is not None and not table.is_new:
            _read_fixed_cells(table, r, fixed_out)
        _read_answer_row(issues, table, r, values_out, new_out)


#: Fixed columns compared with the inventory on merging (``known_values`` is a summary written for reading).
FIXED_COMPARED = ("name", "basin", "lon", "lat", "coord_precision", "inventory_status", "inventory_source")


def _read_fixed_cells(table: _Table, r: int, fixed_out: list[dict]) -> None:
    """Record the fixed cells of site-sheet row index ``r`` (with a site id) for the merge to compare."""
    sid_v = table.cell(r, "site_id")[0]
    if _is_blank(sid_v):
        return
    for k in FIXED_COMPARED:
        if k not in table.keys:
            continue
        v, letter, formula = table.cell(r, k)
        fixed_out.append({"site_id": str(sid_v).strip(), "key": k, "value": None if _is_blank(v) else v,
                          "formula": formula, "sheet": table.sheet, "row": r + 1, "column": _col_name(letter, k)})


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
    table.keys = {}
    for i, k in hmap.items():
        if k.startswith("?"):
            continue
        if k in table.keys:  # a repeated column: the first is read, never silently the last
            issues.add(sheet, hdr_row + 1, _col_name(table.letters[i], k),
                       _("column {key} appears again (first in column {first}); the values of this one were not "
                         "read").format(key=repr(k), first=table.letters[table.keys[k]]),
                       _("keep one column per key"), "error")
            continue
        table.keys[k] = i
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
    """Whether a cell value is empty (None, "", only white space, or a float NaN: a missing CSV field)."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


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
        if table.is_error(r, k):
            issues.add(table.sheet, r + 1, col, _("spreadsheet error value {value} (a formula that failed); the "
                                                  "cell was not read").format(value=repr(str(v)[:20])),
                       _("type the value itself"))
            failed.add(k)
            continue
        if isinstance(v, str) and v.strip().lower() in NULL_WORDS:
            issues.add(table.sheet, r + 1, col, _("{value} read as blank (unknown)").format(value=repr(v.strip())),
                       _("leave unknown cells blank"), "warning")
            continue
        try:
            parsed[k], note, fix = _parse_answer(k, v)
        except ValueError as e:
            issues.add(table.sheet, r + 1, col, str(e), _fix_for(k))
            failed.add(k)
            continue
        if note and not (table.text_only and k in FIELDS and FIELDS[k].kind == "number" and _plain(v)):
            issues.add(table.sheet, r + 1, col, note, fix, "warning")
    return parsed, failed


def _plain(v: Any) -> bool:
    """Whether text ``v`` is a plain number with a decimal point (``2500000``, ``12.5``): no warning in a CSV."""
    return bool(re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", str(v)))


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
        d = _parse_date(v)
        future = _future_date(d)
        if future and future[0] == "error":
            raise ValueError(future[1])
        return d, future[1] if future else None, _("give the date of the information (YYYY-MM-DD)")
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


def _csv_rows(path: Path) -> list[list[Any]]:
    """The cells of a CSV return (UTF-8 with or without BOM; comma, semicolon or tab), blank cells as None.

    The delimiter is the one that splits a line into known column keys (as for
    inventories), so ``1,5`` in a semicolon file stays one cell; short rows are
    padded with blanks.
    """
    import csv
    import io

    from riskmap.io.readers import _delimiter, _raise_csv_field_limit  # noqa: PLC0415 - as for inventories

    _raise_csv_field_limit()
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RiskmapInputError(_("{path}: line {line}: the file is not UTF-8 (byte {byte} at offset {offset}); "
                                  "save it as UTF-8 (in Excel: 'CSV UTF-8')").format(
            path=path, line=raw[: e.start].count(b"\n") + 1, byte=f"0x{raw[e.start]:02x}", offset=e.start)) from None
    if "\x00" in text:
        raise RiskmapInputError(_("{path}: the file contains NUL bytes; it is not a text CSV").format(path=path))
    if not text.strip():
        raise RiskmapInputError(_("{path}: the file is empty (no header line)").format(path=path))
    delim = _delimiter([ln for ln in text.splitlines()[:20] if ln.strip()])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error as e:
        raise RiskmapInputError(_("{path}: malformed CSV: {error}; check quotes on that line").format(
            path=path, error=e)) from None
    return [[None if _is_blank(v) else v for v in r] for r in rows]


def _check_generated(issues: _Issues, generated: Any) -> None:
    """Warn when the workbook's generation date (``_meta``) is after today: the workbook was tampered with."""
    try:
        future = _future_date(_parse_date(generated)) if not _is_blank(generated) else None
    except ValueError:
        future = None
    if future:
        issues.add("_meta", None, "generated", _("the workbook says it was generated on {date}, after today; "
                                                 "read anyway").format(date=generated),
                   _("return the workbook riskmap wrote, not an edited copy"), "warning")


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
    fixed: list[dict] = []
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
            _check_generated(issues, meta.get("generated"))
        else:
            issues.add(None, None, None, _("no _meta sheet: country and basin unknown (taken from the inventory per "
                                           "site)"),
                       _("return the workbook riskmap wrote, not a copy of its sheets"), "warning")
        for ws in wb.worksheets:
            if ws.title.strip().lower() in _skip_sheets():
                continue
            vals, types, letters = _sheet_rows(ws)
            _read_table_rows(issues, _Table(ws.title, vals, types, letters),
                             [str(r) for r in ws.merged_cells.ranges], values, new, fixed)
    elif suffix == ".csv":
        vals = _csv_rows(path)
        types = [["s"] * len(r) for r in vals]
        from openpyxl.utils import get_column_letter

        ncol = max((len(r) for r in vals), default=0)
        table = _Table("csv", vals, types, [get_column_letter(i + 1) for i in range(ncol)], text_only=True)
        _read_table_rows(issues, table, [], values, new, fixed)
    else:
        raise RiskmapInputError(_("{path}: a questionnaire return is an .xlsx workbook or a .csv file").format(
            path=path))
    cols = ["site_id", "field", "value", "sheet", "row", "column", "respondent_source", "respondent_date", "comment"]
    report.n_rows = len(values) + len(new)
    return ReturnData(str(path), country, basin, pd.DataFrame(values, columns=cols), new, report, fixed)
