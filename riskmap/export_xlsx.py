"""The XLSX export: human ``sites`` sheet, exposure matrix, data dictionary, hidden machine sheet.

Used by :func:`riskmap.export.export` (``fmt="xlsx"``, and the human table of ``excel=True`` CSV).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
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
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            from riskmap._about import version_string

            xw.book.properties.creator = xw.book.properties.description = version_string()
            for name, df in sheets.items():
                xlsx_safe_frame(df).to_excel(xw, sheet_name=name, index=False)
                _style_sheet(xw.sheets[name], df, table.columns if name == "sites" else None)
            xw.sheets[XLSX_DATA_SHEET].sheet_state = "hidden"
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


def _style_sheet(ws: Any, df: pd.DataFrame, machine: Any) -> None:
    """Bold frozen header with an autofilter, column widths and (``sites``) number formats."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "C2" if machine is not None else "A2"
    if ws.max_row >= 1 and ws.max_column >= 1:
        ws.auto_filter.ref = ws.dimensions
    for i, c in enumerate(df.columns, start=1):
        text = df[c].astype(str).where(df[c].notna(), "")
        longest = int(text.str.len().max()) if len(text) else 0
        head = str(c)
        width = max(min(max(longest, 8) + 2, 50), min(len(head), 30) + 2)
        ws.column_dimensions[get_column_letter(i)].width = width
        fmt = _XLSX_NUMBER_FORMATS.get(machine[i - 1]) if machine is not None else None
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
