"""The header row of a CSV or a worksheet: repeated names refused, nameless columns resolved.

Excel leaves nameless columns behind (a cell once formatted right of the
table: ``site_id;name;...;lat;;;``) and lets a name repeat. The same rules hold
for CSV and XLSX: a repeated name is refused (which of the two columns is
meant?); a nameless column without any value is dropped; a nameless column
holding values is kept as ``column_<n>`` with a warning, never dropped in silence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.i18n import _
from riskmap.schema import ValidationReport, _blank

__all__ = ["check_header", "crs_conflict", "crs_coordinates", "header_names", "resolve_nameless_columns"]


def header_names(cells: list[Any]) -> list[str]:
    """The header cells as column names: stripped text, ``""`` for a blank cell.

    Examples
    --------
    >>> header_names([" site_id", None, float("nan"), 2024])
    ['site_id', '', '', '2024']
    """
    return ["" if _blank(v) else str(v).strip() for v in cells]


def check_header(head: list[str], path: Path, line: int) -> None:
    """Refuse a header in which a (non-blank) column name repeats.

    Raises
    ------
    RiskmapInputError
        Naming the file, the header line and the repeated names.
    """
    named = [h for h in head if h]
    dup = sorted({h for h in named if named.count(h) > 1})
    if dup:
        raise RiskmapInputError(_("{path}: line {line}: duplicate column names {names}; rename them").format(
            path=path, line=line, names=dup))


def _free_name(name: str, taken: list[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` ... when the header already has it."""
    k, out = 1, name
    while out in taken:
        k += 1
        out = f"{name}_{k}"
    return out


def resolve_nameless_columns(df: pd.DataFrame, report: ValidationReport, first_line: int | None,
                             lines: list[int] | None = None) -> pd.DataFrame:
    """Drop nameless columns without values; name the others ``column_<n>`` (1-based position) and warn.

    ``lines`` are the file lines of the rows of ``df`` (CSV), else row ``i`` is
    on line ``first_line + i`` (a worksheet).
    """
    names = [str(c) for c in df.columns]
    if "" not in names:
        return df
    keep: list[int] = []
    for j, name in enumerate(names):
        if name:
            keep.append(j)
            continue
        filled = [i for i, v in enumerate(df.iloc[:, j].tolist()) if not _blank(v) and str(v).strip()]
        if not filled:
            continue
        keep.append(j)
        names[j] = _free_name(f"column_{j + 1}", names)
        line = lines[filled[0]] if lines else (None if first_line is None else first_line + filled[0])
        report.add(None, names[j], _("column {n} has no name in the header row but holds {count} value(s), "
                                     "the first on line {line}; kept as '{name}'").format(
                                         n=j + 1, count=len(filled), line=line, name=names[j]),
                   _("give the column a name in the header row, or delete it"), "warning")
    out = df.iloc[:, keep].copy()
    out.columns = [names[j] for j in keep]
    out.attrs = dict(df.attrs)
    return out


def crs_coordinates(values: list[Any], column: str, crs: Any, decimal_comma: bool,
                    issues: dict[int, tuple[str, str, str]]) -> list[float]:
    """The numbers of an x or y column read with ``--crs``; NaN where blank or unparseable, the reason in ``issues``.

    ``issues`` maps a row (0-based) to ``(column, reason, fix)``, first problem of the row only.

    Examples
    --------
    >>> issues = {}
    >>> crs_coordinates(["386119", "386 119", "38611x", ""], "x", "EPSG:32634", False, issues)[:2]
    [386119.0, 386119.0]
    >>> sorted(issues), issues[2][1]
    ([2, 3], "unparseable coordinate: '38611x' is not a number")
    """
    from riskmap.column_validators import _to_number

    fix = _("write the number in the units of the CRS given with --crs ({crs})").format(crs=crs)
    out: list[float] = []
    for i, v in enumerate(values):
        if _blank(v) or not str(v).strip():
            issues.setdefault(i, (column, _("coordinate is blank"), fix))
            out.append(float("nan"))
            continue
        try:
            out.append(_to_number(v, decimal_comma))
        except ValueError as e:
            issues.setdefault(i, (column, _("unparseable coordinate: {error}").format(error=e), fix))
            out.append(float("nan"))
    return out


def crs_conflict(df: pd.DataFrame, crs: Any, path: Path, report: ValidationReport) -> None:
    """Warn when ``--crs`` differs from the CRS the file declares (the file's own is used)."""
    import warnings

    import pyproj

    from riskmap._errors import RiskmapDataWarning

    own = getattr(df, "crs", None) if hasattr(df, "_geometry_column_name") else None
    if own is None or own.equals(pyproj.CRS.from_user_input(crs)):
        return
    reason = _("--crs {given} is not used: the file declares its own CRS, {own}").format(
        given=crs, own=own.to_string())
    fix = _("drop --crs, or fix the file's CRS if it is wrong")
    report.add(None, "geometry", reason, fix, "warning")
    warnings.warn(f"{path}: {reason}", RiskmapDataWarning, stacklevel=4)
