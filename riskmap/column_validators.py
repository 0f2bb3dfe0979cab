"""The per-column validators of :func:`riskmap.validation.validate_sites`, as a table.

Each schema column has a chain of checks (:func:`validators_for`); a check
takes ``(column, raw value, stripped text, cells, row)`` and returns the
normalised value for the next one, or raises ``_Refused`` with the reason
and the fix for the report. ``_Cells`` is what the validation steps share.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import math
import re
import unicodedata
from typing import Any
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from riskmap._iso3 import ISO3_CODES, ISO3_NAMES
from riskmap.i18n import _
from riskmap.schema import (_COUNTRY_ALIASES, _COUNTRY_HINTS, DAM_CONDITIONS,
                            Column, ValidationReport, _blank, format_substances,
                            parse_substances)


__all__ = ["validators_for"]


def _to_number(v: Any, decimal_comma: bool) -> float:
    """Parse a number; raise ValueError with a short reason."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        f = float(v)
    else:
        s = str(v).strip().replace("\u00a0", " ").replace("\u202f", " ")
        # spaces only as thousands separators ("12 345", "1 200 000,5"): "1 5" is not 15
        if " " in s and not re.fullmatch(r"[+-]?\d{1,3}( \d{3})+([.,]\d+)?", s):
            raise ValueError(_("{value} is not a number (spaces inside)").format(value=repr(v)))
        s = s.replace(" ", "")
        if decimal_comma and s.count(",") == 1 and "." not in s:
            s = s.replace(",", ".")
        if "_" in s:  # Python's float() reads "1_9.3" as 19.3; no spreadsheet or survey means that
            raise ValueError(_("{value} is not a number (underscore)").format(value=repr(v)))
        try:
            f = float(s)
        except ValueError:
            raise ValueError(_("{value} is not a number").format(value=repr(v))) from None
    if not math.isfinite(f):
        raise ValueError(_("{value} is not a finite number").format(value=repr(v)))
    return f


def _parse_date(v: Any, s: str) -> str:
    """ISO date of a cell: a date/datetime object, ``YYYY-MM-DD`` or an ISO date-time; nothing else.

    ``2024-01-01garbage`` raises ValueError (only the first ten characters must
    not be enough).
    """
    if isinstance(v, (_dt.datetime, pd.Timestamp)):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return _dt.date.fromisoformat(s).isoformat()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", s):
        return _dt.datetime.fromisoformat(s.replace("Z", "+00:00")).date().isoformat()
    raise ValueError(s)


def _suggest(value: str, allowed: Iterable[str]) -> str:
    """Closest allowed value: most shared words first, then string similarity."""
    allowed = list(allowed)
    norm = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    words = set(norm.split("_")) - {""}
    best = max(allowed, key=lambda a: (len(words & set(a.split("_"))),
                                       difflib.SequenceMatcher(None, norm, a).ratio()))
    return best


def _country_hint(s: str) -> str:
    up = s.strip().upper()
    if up in _COUNTRY_HINTS:
        code = _COUNTRY_HINTS[up]
        return _("; did you mean {code} ({name})?").format(code=repr(code), name=ISO3_NAMES[code])
    name_hits = [code for code, name in ISO3_NAMES.items() if name.lower() == s.strip().lower()]
    if name_hits:
        return _("; did you mean {code}?").format(code=repr(name_hits[0]))
    close = difflib.get_close_matches(up, list(ISO3_CODES), n=1, cutoff=0.6)
    return (_("; closest code: {code} ({name})").format(code=repr(close[0]), name=ISO3_NAMES.get(close[0], ""))
            if close else "")


class _Cells:
    """What the validation steps share: the report, the rows refused so far and the line numbering."""

    def __init__(self, report: ValidationReport, n: int, line_offset: int | None, decimal_comma: bool) -> None:
        self.report = report
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.line_offset = line_offset
        self.decimal_comma = decimal_comma
        self.ids_seen: dict[str, int] = {}

    def err(self, i: int | np.integer | None, col: str | None, reason: str, fix: str,
            severity: str = "error") -> None:
        """Report an issue on data row ``i`` (0-based; None for the whole file)."""
        row = None if i is None else int(i)
        line = None if row is None or self.line_offset is None else self.line_offset + row
        self.report.add(None if row is None else row + 1, col, reason, fix, severity, line)


class _Refused(ValueError):
    """A cell that fails its column's check: the reason and the fix for the report."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason, self.fix = reason, fix


# ---- per-column validators: (column, raw value, stripped text, cells, row) -> value, or raise _Refused


def _text_val(v: Any) -> str | None:
    if _blank(v):
        return None
    s = str(v).strip()
    if s.endswith(".0") and isinstance(v, (float, np.floating)):
        s = s[:-2]
    return s


def _v_number(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if _blank(v):
        return np.nan
    try:
        f = _to_number(v, cells.decimal_comma)
    except ValueError as e:
        raise _Refused(_("unparseable number: {error}").format(error=e),
                       _("write a plain number (no units), or leave blank when unknown")) from None
    if f < 0:
        raise _Refused(_("negative value {x}").format(x=f"{f:g}"),
                       _("quantities cannot be negative; leave blank when unknown"))
    return f


def _display_substances(s: str) -> list[dict[str, Any]]:
    """``chlorine, quantity_t 50, wgk 2; ...`` (an export's display table) as substance objects."""
    items = []
    for part in (p for p in s.split(";") if p.strip()):
        item: dict[str, Any] = {}
        name = []
        for bit in (b.strip() for b in part.split(",")):
            key, _sp, val = bit.partition(" ")
            if key in ("quantity_t", "wgk") and val.strip():
                item[key] = val.strip()
            else:
                name.append(bit)
        items.append({"name": ", ".join(name), **item})
    return items


def _v_substances(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is not None and not s.lstrip().startswith("["):
        v = _display_substances(s)  # the --excel CSV's display of the list
    try:
        return format_substances(parse_substances(v))
    except ValueError as e:
        raise _Refused(_("bad substances list: {error}").format(error=e),
                       _("write e.g. {example}").format(
                           example='[{"name": "sodium cyanide", "quantity_t": 12, "wgk": 3}]')) from None


def _display_list(s: str) -> str:
    """The ``A; B; C`` text of a list in an export's display table (``--excel`` CSV) as a JSON list."""
    return json.dumps([p.strip() for p in s.split(";") if p.strip()], ensure_ascii=False, separators=(",", ":"))


def _display_object(s: str) -> str:
    """The ``key: value; ...`` text of an object in an export's display table as a JSON object."""
    pairs = [p.partition(":") for p in s.split(";") if p.strip()]
    if not all(sep and k.strip() for k, sep, _v in pairs):
        raise ValueError(s)
    return json.dumps({k.strip(): val.strip() for k, _s, val in pairs}, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"))


def _v_source_refs(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is not None and not s.lstrip().startswith("["):
        s = _display_list(s)  # "A; B": the --excel CSV's display of the list
    if s is not None:
        try:
            refs = json.loads(s)
            if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
                raise ValueError
        except ValueError:
            raise _Refused(_("source_refs must be a JSON list of strings"),
                           _("write e.g. {example}").format(
                               example='["gem-gcpt:G100000108106", "wri-gppd:WRI1019881"]')) from None
    return s


def _v_field_sources(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is not None:
        try:
            if not s.lstrip().startswith("{"):
                s = _display_object(s)  # "field: text; ...": the --excel CSV's display of the object
            fs = json.loads(s)
            if not isinstance(fs, dict) or not all(isinstance(x, str) for x in fs.values()):
                raise ValueError
        except ValueError:
            raise _Refused(_("field_sources must be a JSON object of field -> text"),
                           _("write e.g. {example}").format(
                               example='{"tailings_volume_m3": "questionnaire MNE 2026-11-03"}')) from None
    return s


def _v_vocabulary(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is None:
        return s
    key = s.lower().replace(" ", "_").replace("-", "_")
    vocab = c.vocabulary or ()
    if key not in vocab:
        raise _Refused(_("unknown {column} {value}").format(column=c.name, value=repr(s)),
                       _("use one of {values}; closest: {closest}").format(
                           values=", ".join(vocab), closest=repr(_suggest(s, vocab))))
    return key


def _v_dam_condition(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is None:
        return s
    if s.lower() not in DAM_CONDITIONS:
        raise _Refused(_("unknown {column} {value}").format(column="dam_condition", value=repr(s)),
                       _("use one of {values}; closest: {closest}").format(
                           values=", ".join(DAM_CONDITIONS), closest=repr(_suggest(s, DAM_CONDITIONS))))
    return s.lower()


def _v_country(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is None:
        return s
    code = s.upper()
    if code in _COUNTRY_ALIASES:
        cells.err(i, c.name, _("country code {code} is not ISO 3166-1 alpha-3").format(code=repr(s)),
                  _("converted to {code}").format(code=repr(_COUNTRY_ALIASES[code])), "warning")
        code = _COUNTRY_ALIASES[code]
    if code not in ISO3_CODES:
        raise _Refused(_("unknown country code {code}").format(code=repr(s)),
                       _("use an ISO 3166-1 alpha-3 code (Kosovo: XKX){hint}").format(hint=_country_hint(s)))
    return code


def _date_hint(s: str) -> str | None:
    """The ISO date a cell probably means, or None when unsure (``2/1/2024``).

    ``01.02.2024`` is day first, as written in the basins' countries; ``45000`` an Excel serial day
    number (1900 date system).
    """
    try:
        m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", s)
        if m:
            return _dt.date(int(m[3]), int(m[2]), int(m[1])).isoformat()
        m = re.fullmatch(r"(\d{5})(\.0+)?", s)
        if m and 20000 <= int(m[1]) <= 80000:
            return (_dt.date(1899, 12, 30) + _dt.timedelta(days=int(m[1]))).isoformat()
    except ValueError:  # 31.02.2024
        return None
    return None


def _v_date(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is None:
        return s
    try:
        return _parse_date(v, s)
    except ValueError:
        hint = _date_hint(s)
        raise _Refused(_("unparseable date {value}").format(value=repr(s)),
                       _("write the date as YYYY-MM-DD") if hint is None else
                       _("write the date as YYYY-MM-DD (here probably {date})").format(date=hint)) from None


def _v_required(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if c.required and s is None:
        raise _Refused(_("required value is blank"), _("fill in '{column}'").format(column=c.name))
    return s


def _invisible(s: str) -> list[str]:
    """Code points of the invisible format/control characters in ``s`` (zero-width spaces, bidi controls ...)."""
    return [f"U+{ord(ch):04X}" for ch in s if unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp")]


#: Characters that have no place in a site's text and can mislead a reader: C0/C1 controls (tab and line
#: breaks excepted: multi-line notes), bidi embeddings/overrides/isolates ("Trojan source"), zero-width space, BOM.
_SUSPECT = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
                                      *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0xFEFF))


def _v_suspect_chars(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    """Warn about control and invisible characters (:data:`_SUSPECT`); the text is kept as given."""
    if s is not None and not _SUSPECT.isdisjoint(s):
        codes = ", ".join(dict.fromkeys(f"U+{ord(ch):04X}" for ch in s if ch in _SUSPECT))
        cells.err(i, c.name, _("contains control or invisible characters ({codes}); kept as given").format(
            codes=codes),
                  _("remove them unless they are meant (a copy from a terminal or a PDF?)"), "warning")
    if s is not None and "\ufffd" in s:  # GDAL and decoders put it for bytes that were no valid text
        cells.err(i, c.name, _("contains U+FFFD (\ufffd), the mark of a character lost to a wrong text encoding "
                               "(e.g. an invalid escape in a GeoJSON file); kept as given"),
                  _("correct the text in the source and save it as UTF-8"), "warning")
    return s


def _v_unique_id(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    if s is not None:
        hidden = _invisible(s)
        if hidden:  # "a1" and "a1<U+200B>" look alike but would be two sites
            raise _Refused(_("site_id {value} contains invisible characters ({codes})").format(
                value=repr(s), codes=", ".join(dict.fromkeys(hidden))),
                _("remove them: a site_id must read the same as it looks"))
        if s in cells.ids_seen:
            raise _Refused(_("duplicate site_id {value} (first used in row {row})").format(
                value=repr(s), row=cells.ids_seen[s] + 1), _("give every site a unique site_id"))
        cells.ids_seen[s] = i
    return s


#: An identifier Excel rewrote in scientific notation ("123456789012" shown and saved as "1,23457E+11").
_EXCEL_EXPONENT = re.compile(r"[+-]?\d[.,]\d+E[+-]?\d+", re.IGNORECASE)


def _v_excel_id(c: Column, v: Any, s: str | None, cells: _Cells, i: int) -> Any:
    """Warn about an identifier Excel saved in scientific notation: its other digits are lost."""
    if s is not None and _EXCEL_EXPONENT.fullmatch(s):
        cells.err(i, c.name, _("{value} looks like a long number Excel saved in scientific notation: the digits "
                               "after the first few are lost").format(value=repr(s)),
                  _("take the identifiers from the source again; in Excel, format the column as Text before "
                    "pasting or opening the file"), "warning")
    return s


_Validator = Callable[[Column, Any, Any, _Cells, int], Any]

#: Column-specific checks, run before the vocabulary, date, required and uniqueness checks.
_COLUMN_VALIDATORS: dict[str, tuple[_Validator, ...]] = {
    "source_refs": (_v_source_refs,),
    "field_sources": (_v_field_sources,),
    "dam_condition": (_v_dam_condition,),
    "country": (_v_country,),
    "site_id": (_v_excel_id,),
    "source_id": (_v_excel_id,),
}


def validators_for(c: Column) -> tuple[_Validator, ...]:
    """The chain of checks a cell of column ``c`` goes through, first to last.

    Each check takes ``(column, raw value, stripped text, cells, row)`` and
    returns the (normalised) value for the next one, or raises a refusal.
    """
    if c.kind == "number":
        return (_v_number,)
    if c.name == "substances":
        return (_v_substances,)
    chain: tuple[_Validator, ...] = () if c.name == "site_id" else (_v_suspect_chars,)  # site_id: _v_unique_id
    chain += _COLUMN_VALIDATORS.get(c.name, ()) + ((_v_vocabulary,) if c.vocabulary else ())
    chain += ((_v_date,) if c.kind == "date" else ()) + (_v_required,)
    return chain + ((_v_unique_id,) if c.name == "site_id" else ())
