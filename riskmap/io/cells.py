"""Cell safety for spreadsheets and text exports: formula neutralisation and JSON cells."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.i18n import _
from riskmap.io.formats import _FORMULA_START


# --------------------------------------------------------------------------
# Spreadsheet safety
# --------------------------------------------------------------------------


#: A plain decimal number (``-5``, ``+0.25``, ``-1.5e3``): starts with a sign but is not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_formula(value: Any) -> Any:
    """Make a text cell safe for spreadsheets.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return would
    be run as a formula by Excel/LibreOffice; it gets a leading apostrophe.
    Text that is a plain signed number (``-5``, ``+0.25``, ``-1.5e3``) is not
    a formula and is left alone, as are all non-text values (numbers are never
    turned into text). :func:`read_sites` removes the apostrophe again, so a
    round trip keeps the text.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("Pljevlja")
    'Pljevlja'
    >>> neutralise_formula("-5"), neutralise_formula(-5), neutralise_formula("-5+cmd|' /C calc'!A0")
    ('-5', -5, "'-5+cmd|' /C calc'!A0")
    """
    if (isinstance(value, str) and value.startswith(_FORMULA_START)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


#: Characters an XLSX (XML 1.0) cell cannot hold: C0 controls other than tab, newline and carriage return.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_safe_text(v: Any) -> Any:
    """A text cell an XLSX sheet can hold: C0 control characters as the format's ``_x001B_`` escapes.

    Other values are returned unchanged.

    Examples
    --------
    >>> xlsx_safe_text("\x1b[31mRED"), xlsx_safe_text(5)
    ('_x001B_[31mRED', 5)
    """
    if isinstance(v, str) and _XLSX_ILLEGAL.search(v):
        return _XLSX_ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", v)
    return v


def xlsx_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells and headers an XLSX sheet can hold: control characters as OOXML escapes.

    A terminal escape (``\\x1b[31m``) or other C0 control character in a site
    name would make openpyxl refuse the whole workbook; it is written as
    ``_x001B_``, the spreadsheet format's own escape (Excel shows the
    character).
    """
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(xlsx_safe_text)
    out.columns = [xlsx_safe_text(c) for c in out.columns]
    return out


def neutralise_array(values: Any) -> np.ndarray:
    """Vectorised :func:`neutralise_formula` over a column (any array-like; returns an object array).

    Non-text cells (numbers, missing values) are returned unchanged.
    """
    arr = values.to_numpy(dtype=object) if isinstance(values, (pd.Series, pd.Index)) else np.asarray(
        values, dtype=object)
    out = _neutralise_column(arr)
    return out.copy() if out is arr else out


def _neutralise_column(values: Any) -> Any:
    """:func:`neutralise_formula` over a Series or object array; returns ``values`` itself when no cell changes."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        starts = values.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
        if not starts.any():
            return values
        idx = np.flatnonzero(starts)
        fixed = [neutralise_formula(v) for v in values.iloc[idx]]
        if all(a == b for a, b in zip(fixed, values.iloc[idx])):
            return values
        out = values.copy()
        out.iloc[idx] = fixed
        return out
    arr = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    if arr.size == 0:
        return values
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind not in ("string", "empty"):  # mixed cells: one Python pass
        new = np.empty(arr.shape[0], dtype=object)
        new[:] = [neutralise_formula(v) for v in arr]
        return new
    starts = pd.Series(arr, dtype=object).str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
    if not starts.any():
        return values
    idx = np.flatnonzero(starts)
    out = arr.copy()
    out[idx] = np.array([neutralise_formula(v) for v in arr[idx]], dtype=object)
    return out


def neutralise_frame(df: pd.DataFrame, *, headers: bool = True) -> pd.DataFrame:
    """A copy of ``df`` with every text cell (and header) formula-neutralised: the one helper for tables.

    Every CSV riskmap writes goes through this function (or :func:`csv_text`,
    which calls it). Object columns and pandas string columns (the pandas 3
    default for text) are both treated; numeric columns keep their dtype, and
    numbers in object columns stay numbers (:func:`neutralise_formula`).

    Examples
    --------
    >>> df = pd.DataFrame({"name": ["=1+1", "Bor"], "km": [-2.5, 3.0], "=x": ["-2+3", "-2.5"]})
    >>> neutralise_frame(df).to_dict("list")
    {'name': ["'=1+1", 'Bor'], 'km': [-2.5, 3.0], "'=x": ["'-2+3", '-2.5']}
    """
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            new = _neutralise_column(col)
            if new is not col:
                out[c] = new
    if headers:
        out.columns = [neutralise_formula(c) for c in out.columns]
    return out


def csv_text(df: pd.DataFrame, **to_csv: Any) -> str:
    """``df`` as CSV text (no index, ``\\n`` line ends) with every text cell and header neutralised.

    Keyword arguments are passed to :meth:`pandas.DataFrame.to_csv`
    (``float_format``, ``quoting``, ...).

    Examples
    --------
    >>> csv_text(pd.DataFrame({"name": ["@SUM(A1)"], "v": [-2.5]}))
    "name,v\\n'@SUM(A1),-2.5\\n"
    """
    return neutralise_frame(df).to_csv(index=False, lineterminator="\n", **to_csv)


def _unneutralise(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value



def _cell(v: Any) -> Any:
    """Serialise list/dict/array cells as compact JSON; leave scalars."""
    if isinstance(v, (list, tuple, dict, np.ndarray)):
        if isinstance(v, np.ndarray):
            v = v.tolist()
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return v


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if math.isnan(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def json_cells(values: Any, *, sort_keys: bool = False) -> Any:
    """Serialise the list/tuple/dict/array cells of a column as compact JSON (vectorised).

    Scalars are returned unchanged. A column of plain text or numbers is
    returned as is without a per-cell pass; lists of text (e.g.
    ``downstream_countries``) are serialised once per distinct list.

    Returns
    -------
    numpy.ndarray or pandas.Series
        Object array of the cells, or ``values`` itself when it has nothing to serialise.
    """
    if isinstance(values, pd.Series) and not values.dtype == object:
        return values  # typed column (text, numbers): no lists or dicts in it
    arr = values.to_numpy(dtype=object) if isinstance(values, (pd.Series, pd.Index)) else np.asarray(
        values, dtype=object)
    if arr.size == 0 or pd.api.types.infer_dtype(arr, skipna=True) in (
            "string", "empty", "integer", "floating", "mixed-integer-float", "boolean", "decimal"):
        return values if isinstance(values, pd.Series) else arr

    def dumps(v: Any) -> str:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        return json.dumps(v, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":"),
                          default=_json_default)

    by_id: dict[int, str] = {}  # the same list object shared by many rows (valid while arr lives)
    by_value: dict[tuple, str] = {}

    def enc(v: Any) -> Any:
        if isinstance(v, list):
            r = by_id.get(id(v))
            if r is None:
                if all(type(x) is str for x in v):
                    key = tuple(v)
                    r = by_value.get(key)
                    if r is None:
                        r = by_value[key] = dumps(v)
                else:
                    r = dumps(v)
                by_id[id(v)] = r
            return r
        if isinstance(v, (tuple, dict, np.ndarray)):
            return dumps(v)
        return v

    out = np.empty(arr.shape[0], dtype=object)
    out[:] = [enc(v) for v in arr]
    return out


def _json_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Serialise list/dict cells of every object column in place (:func:`json_cells`); returns ``df``."""
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    for c in df.columns:
        col = df[c]
        if c != geom and col.dtype == object:
            cells = json_cells(col)
            if cells is not col:
                df[c] = cells
    return df


#: The most characters an XLSX cell holds (Excel's limit; openpyxl would cut longer text with a warning).
XLSX_MAX_CELL_CHARS = 32_767


def refuse_long_xlsx_cells(table: pd.DataFrame, path: Any) -> None:
    """Refuse a workbook that would cut a cell: name the site, the column and the length; CSV/GPKG keep it whole.

    Raises
    ------
    RiskmapInputError
        A text cell is longer than :data:`XLSX_MAX_CELL_CHARS`.

    Examples
    --------
    >>> refuse_long_xlsx_cells(pd.DataFrame({"site_id": ["a"], "notes": ["short"]}), "out.xlsx")
    """
    for col in table.columns:
        if table[col].dtype != object and not pd.api.types.is_string_dtype(table[col]):
            continue
        n = table[col].map(lambda v: len(v) if isinstance(v, str) else 0)
        long = n > XLSX_MAX_CELL_CHARS
        if long.any():
            i = int(long.to_numpy().argmax())
            sid = table["site_id"].iloc[i] if "site_id" in table.columns else i + 1
            raise RiskmapInputError(_(
                "{path}: site {site}, column {column}: {n} characters, more than an XLSX cell holds ({limit}); "
                "{cells} cell(s) in that column. Shorten the text, or export CSV or GeoPackage, which keep it whole"
            ).format(path=path, site=repr(sid), column=repr(col), n=f"{int(n.iloc[i]):,}",
                     limit=f"{XLSX_MAX_CELL_CHARS:,}", cells=int(long.sum())))
