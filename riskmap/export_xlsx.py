"""The XLSX export: human ``sites`` sheet, exposure matrix, data dictionary, hidden machine sheet.

Used by :func:`riskmap.export.export` (``fmt="xlsx"``, and the human table of ``excel=True`` CSV).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap.export import (
    HUMAN_HEADERS,
    XLSX_DATA_SHEET,
    _ONE_DECIMAL,
    _XLSX_NUMBER_FORMATS,
    _column_kinds,
    export_table,
)
from riskmap.export_dictionary import data_dictionary
from riskmap.export_layers import _basin_part, _blank
from riskmap.io import atomic_path, json_cells, neutralise_formula, neutralise_frame, xlsx_safe_frame
from riskmap.io.cells import refuse_long_xlsx_cells
from riskmap.pipeline import Prepared, exposure_matrix_of


def export_xlsx(sites: gpd.GeoDataFrame | Prepared, path: Path, *, basin: Any,
                matrix: pd.DataFrame | None) -> Path:
    """Write the XLSX export of :func:`riskmap.export.export`.

    Sheets ``sites`` (human headers), ``exposure_matrix``, ``data_dictionary`` and the hidden
    machine sheet ``sites_data``.
    """
    if matrix is None:
        matrix = exposure_matrix_of(sites, _basin_part(basin, "id"))
    table = export_table(sites.sites if isinstance(sites, Prepared) else sites)
    sheets: dict[str, pd.DataFrame] = {"sites": human_table(table)}
    if matrix is not None:
        m = matrix.copy()
        if m.index.name is not None or not isinstance(m.index, pd.RangeIndex):
            m = m.reset_index()
        sheets["exposure_matrix"] = _text_sheet(m)
    else:
        sheets["exposure_matrix"] = pd.DataFrame(
            {"note": ["no exposure matrix: the sites were not assessed for a basin"]})
    sheets["data_dictionary"] = _text_sheet(data_dictionary())
    sheets[XLSX_DATA_SHEET] = table
    refuse_long_xlsx_cells(table, path)
    from openpyxl import Workbook

    from riskmap._about import version_string

    # write-only (streamed) workbook: a 33,000-site export took 101 s and 2.4 GB through pandas.to_excel,
    # which keeps every cell of every sheet as an object until the file is saved
    wb = Workbook(write_only=True)
    wb.properties.creator = wb.properties.description = version_string()
    for name, df in sheets.items():
        ws = _write_sheet(wb, name, xlsx_safe_frame(df), table.columns if name == "sites" else None)
        if name == XLSX_DATA_SHEET:
            ws.sheet_state = "hidden"
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _text_sheet(df: pd.DataFrame) -> pd.DataFrame:
    """A small sheet (matrix, dictionary): lists as JSON, text neutralised by the one io helper."""
    out = df.copy()
    for c in out.columns:
        cells = json_cells(out[c], sort_keys=True)
        if cells is not out[c]:
            out[c] = cells
    return neutralise_frame(out)


def list_text(v: Any) -> Any:
    """A parsed JSON cell as plain text: lists as ``A; B; C``, objects as ``key: value; ...``.

    The human sheet of the XLSX export and the ``--excel`` CSV show list and object cells
    (downstream countries, substances ...) this way; blank items are left out.

    Parameters
    ----------
    v : object
        A parsed cell (list, dict or anything else).

    Returns
    -------
    object
        The text of a list or dict; any other value unchanged.

    Examples
    --------
    >>> list_text(["BIH", "BIH|SRB", "SRB"])
    'BIH; BIH|SRB; SRB'
    >>> list_text([{"name": "cyanide", "quantity_t": 5.0, "wgk": 3}])
    'cyanide, quantity_t 5, wgk 3'
    >>> list_text({"a": 1.5, "b": None}), list_text("plain")
    ('a: 1.5', 'plain')
    """
    def one(x: Any) -> str:
        if isinstance(x, dict):
            return ", ".join(f"{k} {one(w)}" if k != "name" else one(w)
                             for k, w in x.items() if not _blank(w))
        if isinstance(x, float) and x.is_integer():
            return str(int(x))
        return str(x)

    if isinstance(v, list):
        return "; ".join(one(x) for x in v if not _blank(x))
    if isinstance(v, dict):
        return "; ".join(f"{k}: {one(w)}" for k, w in v.items() if not _blank(w))
    return v


def _parsed_json(v: Any) -> Any:
    """A JSON list or object cell parsed; any other cell unchanged."""
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def human_table(table: pd.DataFrame) -> pd.DataFrame:
    """The ``sites`` sheet: human headers, lists as text, kilometres and hours rounded to 1 decimal."""
    kinds = _column_kinds()
    out = table.copy()
    for c in out.columns:
        if kinds.get(c) == "json":
            out[c] = out[c].map(_parsed_json).map(list_text).map(neutralise_formula)
        elif c in _ONE_DECIMAL:
            out[c] = pd.to_numeric(out[c], errors="coerce").round(1)
    out.columns = [HUMAN_HEADERS.get(c, c) for c in out.columns]
    return out


def _write_sheet(wb: Any, name: str, df: pd.DataFrame, machine: Any) -> Any:
    """Stream ``df`` into a new sheet: bold frozen header with an autofilter, column widths, number formats.

    ``machine`` (the ``sites`` sheet) holds the machine name of each column, whose
    :data:`~riskmap.export._XLSX_NUMBER_FORMATS` entry sets the cells' number format.
    """
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(name)
    ws.freeze_panes = "C2" if machine is not None else "A2"
    ncol = len(df.columns)
    if ncol:
        ws.auto_filter.ref = f"A1:{get_column_letter(ncol)}{len(df) + 1}"
    for i, c in enumerate(df.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _column_width(df[c], c)
    bold, top = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header = []
    for c in df.columns:
        cell = WriteOnlyCell(ws, value=str(c))
        cell.font, cell.alignment = bold, top
        header.append(cell)
    ws.append(header)
    fmts = [_XLSX_NUMBER_FORMATS.get(machine[i]) if machine is not None else None for i in range(ncol)]
    for row in df.itertuples(index=False, name=None):
        ws.append([_xlsx_value(ws, v, f, WriteOnlyCell) for v, f in zip(row, fmts)])
    return ws


def _column_width(values: pd.Series, head: Any) -> int:
    """Column width: the longest value (8 to 50 characters) or the header (up to 30), plus 2."""
    text = values.astype(str).where(values.notna(), "")
    longest = int(text.str.len().max()) if len(text) else 0
    return max(min(max(longest, 8) + 2, 50), min(len(str(head)), 30) + 2)


def _xlsx_value(ws: Any, v: Any, fmt: str | None, cell_type: Any) -> Any:
    """A cell value openpyxl writes as pandas did: missing as an empty cell, numpy scalars as Python values.

    With a number format the cell is written even when empty, so a value typed in later shows the format.
    """
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and v != v):
        v = None
    elif isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if fmt is None:
        return v
    cell = cell_type(ws, value=v)
    cell.number_format = fmt
    return cell
