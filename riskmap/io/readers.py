"""Reading sites and tables in every supported format, validated, with clear errors."""

from __future__ import annotations

import csv
import io as _io
import math
import json
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import (RiskmapDataWarning, RiskmapError, RiskmapInputError, RiskmapValidationError)
from riskmap.i18n import _
from riskmap.schema import ValidationReport
from riskmap.validation import validate_sites
from riskmap.io.cells import _unneutralise
from riskmap.io.text_decode import decode_csv_bytes
from riskmap.io.shp_encoding import require_parts, shapefile_text_check
from riskmap.io.headers import check_header, crs_conflict, crs_coordinates, header_names, resolve_nameless_columns
from riskmap.io.formats import _SHAPEFILE_BACK, _format_of, header_row_index, known_headers, machine_headers



#: GeoPackage layers of a riskmap export holding the sites, one geometry type each (points first).
EXPORT_SITE_LAYERS = ("sites", "site_lines", "site_areas")


def read_export_site_layers(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """The sites of a riskmap GeoPackage export, put back together in export order.

    :func:`riskmap.export.export` writes point sites to ``sites``, line sites to
    ``site_lines`` and area sites to ``site_areas`` (one geometry type per
    layer, as GIS programs expect), each feature's ``fid`` being its position
    in the export. A layer of mixed single and multi parts is stored as the
    multi type; single-part multi geometries are returned as their one part,
    so a round trip gives back the geometries that were written.
    """
    import pyogrio

    names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    parts = [gpd.read_file(path, layer=n, fid_as_index=True) for n in EXPORT_SITE_LAYERS if n in names]
    g = gpd.GeoDataFrame(pd.concat(parts).sort_index().reset_index(drop=True),
                         geometry=parts[0].geometry.name, crs=parts[0].crs)
    geom = g.geometry.to_numpy()
    multi = np.isin(shapely.get_type_id(geom), (4, 5, 6)) & (shapely.get_num_geometries(geom) == 1)
    if multi.any():
        geom = geom.copy()
        geom[multi] = shapely.get_geometry(geom[multi], 0)
        g = g.set_geometry(gpd.GeoSeries(geom, index=g.index, crs=g.crs), crs=g.crs)
    return g


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _raise_csv_field_limit() -> None:
    """Let :mod:`csv` read fields of any length (its default stops at 131,072 characters).

    The limit is a C ``long``: the largest value the platform accepts is used.
    """
    import ctypes

    limit = min(sys.maxsize, 2 ** (8 * ctypes.sizeof(ctypes.c_long) - 1) - 1)
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # pragma: no cover - platforms with a smaller C long
            limit //= 2



def _csv_records(text: str, delim: str, path: Path) -> tuple[list[list[str]], list[int]]:
    """The records of a CSV text and the physical line each starts on (quoted fields may span lines)."""
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delim, strict=True)
    rows: list[list[str]] = []
    starts: list[int] = []
    prev = 0
    try:
        for r in reader:
            rows.append(r)
            starts.append(prev + 1)
            prev = reader.line_num
    except csv.Error as e:
        raise RiskmapInputError(_("{path}: malformed CSV: {error}; check quotes on that line").format(
            path=path, error=e)) from None
    return rows, starts

def _read_csv_raw(path: Path, report: ValidationReport) -> tuple[pd.DataFrame, bool]:
    """Read a CSV as strings. Returns (frame, decimal_comma)."""
    _raise_csv_field_limit()
    text = decode_csv_bytes(path.read_bytes(), path)  # UTF-8, or UTF-16 with its BOM
    delim = _delimiter([ln for ln in text.splitlines()[:20] if ln.strip()])
    rows, starts = _csv_records(text, delim, path)
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
        starts.pop(0)
    k = header_row_index(rows)  # a title line above the header row: skipped, with a warning
    if k:
        _title_skipped(path, report, rows[:k], starts[0], starts[k])
        rows, starts = rows[k:], starts[k:]
    if not rows:
        raise RiskmapInputError(_("{path}: the file is empty (no header line)").format(path=path))
    head = header_names(rows[0])
    check_header(head, path, starts[0])
    body: list[list[str]] = []
    lines_of: list[int] = []
    rows_of: list[int] = []
    n_data = 0
    for k, r in zip(starts[1:], rows[1:]):  # k: the physical line the record starts on
        if not any(c.strip() for c in r):
            continue
        n_data += 1
        if len(r) > len(head):
            report.add(n_data, None, _("too many fields ({n}; the header has {header})").format(
                n=len(r), header=len(head)),
                       _("remove the extra '{delimiter}' or quote the value").format(delimiter=delim), "error", k)
            continue
        body.append(r + [""] * (len(head) - len(r)))
        lines_of.append(k)
        rows_of.append(n_data)
    df = resolve_nameless_columns(pd.DataFrame(body, columns=head, dtype=object), report, None, lines_of)
    df.attrs["lines"] = lines_of
    df.attrs["rows"] = rows_of
    report.n_rows = n_data
    return df, delim == ";"


def _delimiter(lines: list[str]) -> str:
    """The delimiter of a CSV: the one that splits a line into known column names, else the header line's.

    A title line above the header (``Sites of the Drina basin, 2026``) does not decide it.
    """
    best = max(((known_headers(ln.split(d)), d) for ln in lines[:10] for d in (",", ";", "\t")), default=(0, ","))
    if best[0] >= 2:
        return best[1]
    header = lines[0] if lines else ""
    return max((",", ";", "\t"), key=lambda d: (header.count(d), d == ","))  # comma on a tie


def _title_skipped(path: Path, report: ValidationReport, title: list[list[Any]], first: int, header: int) -> None:
    """Report (and warn) the title lines skipped above the header row of a table."""
    text = " ".join(str(v).strip() for r in title for v in r if v is not None and str(v).strip() and str(v) != "nan")
    if not text:  # blank rows above the header: nothing to tell
        return
    reason = _("line {first}: a title above the header row was skipped ({text}); the header is line {header}").format(
        first=first, text=repr(text[:80]), header=header)
    report.add(None, None, reason, _("nothing to do; or delete the title line so the header is the first line"),
               "warning")
    warnings.warn(f"{path}: {reason}", RiskmapDataWarning, stacklevel=5)


def _check_crs(crs: Any, path: Path) -> None:
    """Refuse an unknown CRS with a clear message (not a pyproj traceback)."""
    import pyproj

    try:
        pyproj.CRS.from_user_input(crs)
    except Exception as e:  # noqa: BLE001 - pyproj raises CRSError and others
        raise RiskmapInputError(
            _("{path}: crs {crs} is not a known coordinate reference system ({error}); give an EPSG code such as "
              "EPSG:32634 (UTM 34N) or EPSG:4326").format(path=path, crs=repr(crs),
                                                        error=str(e).splitlines()[0][:200])) from None


def list_layers(path: str | os.PathLike) -> list[str]:
    """Names of the layers (GeoPackage, other vector files) or sheets (XLSX) of a file, in file order.

    Examples
    --------
    >>> from riskmap._paths import DATA_DIR
    >>> list_layers(DATA_DIR / "basins" / "drina.gpkg")[:3]
    ['outline', 'sub_basins', 'reaches']
    """
    path = Path(path)
    if _format_of(path, None) == "xlsx":
        return _xlsx_sheets(path)
    return _vector_layers(path)


def _vector_layers(path: Path) -> list[str]:
    import pyogrio

    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(_("{path}: cannot read the file's layers: {error}").format(
            path=path, error=f"{type(e).__name__}: {e}")) from None


def _xlsx_sheets(path: Path) -> list[str]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(_("{path}: cannot read as {format}: {error}").format(
            path=path, format="xlsx", error=f"{type(e).__name__}: {e}")) from None
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _choose_layer(path: Path, names: list[str], layer: str | int | None, what: str,
                  report: ValidationReport) -> str:
    """The layer/sheet to read: ``layer`` (a name or a 0-based index) or the first.

    Warns, naming all of them, when the file has several and none was chosen.
    """
    if not names:
        raise RiskmapInputError(f"{path}: the file has no {what}")
    if layer is None:
        if len(names) > 1:
            msg = (f"{path}: the file has {len(names)} {what}s ({', '.join(map(repr, names))}); "
                   f"read only the first, {names[0]!r}: choose one with --layer NAME or --layer INDEX")
            report.add(None, None, msg.split(": ", 1)[1], "choose the layer with --layer", "warning")
            warnings.warn(msg, RiskmapDataWarning, stacklevel=4)
        return names[0]
    key = str(layer).strip()
    if key in names:
        return key
    if key.isdigit() and int(key) < len(names):  # 0-based; a negative index is refused, not counted from the end
        return names[int(key)]
    raise RiskmapInputError(f"{path}: no {what} {layer!r}; the file has {', '.join(map(repr, names))} "
                            f"(give a name or a 0-based index)")


def _drop_uncached_formulas(path: Path, sheet: str, df: pd.DataFrame, report: ValidationReport,
                            opts: dict[str, Any], first: int = 2) -> pd.DataFrame:
    """Report formula cells that have no cached value (they would read as blank) and drop their rows.

    ``first`` is the sheet row (1-based) of the first data row.

    Excel stores the last computed value of a formula; files written by scripts
    (openpyxl, some exporters) often do not, and reading them gives a blank.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[sheet]
        hits: list[tuple[int, int, str]] = []
        for r, row in enumerate(ws.iter_rows(min_row=first, values_only=True)):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("=") and r < len(df) and j < df.shape[1] \
                        and _blank_cell(df.iat[r, j]):
                    hits.append((r, j, v))
    finally:
        wb.close()
    report.n_rows = len(df)
    if not hits:
        return df
    bad_rows = sorted({r for r, _, _ in hits})
    for r, j, v in hits:
        report.add(r + 1, str(df.columns[j]),
                   _("formula {formula} has no saved value (it would read as blank)").format(formula=repr(v[:60])),
                   _("open the file in Excel or LibreOffice and save it, or paste the values"), "error", r + first)
    keep = [i for i in range(len(df)) if i not in set(bad_rows)]
    opts.update(line_offset=None, lines=[i + first for i in keep], rows=[i + 1 for i in keep])
    return df.iloc[keep].reset_index(drop=True)


def _blank_cell(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _read_xlsx(path: Path, layer: str | int | None, report: ValidationReport, opts: dict[str, Any]) -> pd.DataFrame:
    """One sheet of a workbook as text cells (a riskmap export: its machine table ``sites_data``)."""
    sheets = _xlsx_sheets(path)
    if layer in (None, "sites") and sheets[:1] == ["sites"] and "sites_data" in sheets:
        layer = "sites_data"  # a riskmap export: its machine table (the `sites` sheet is for people)
    sheet = _choose_layer(path, sheets, layer, "sheet", report)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        top = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl", header=None, nrows=10)
        k = header_row_index(top.astype(object).values.tolist())  # a title line above the header: skipped
        df = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl", header=k)
    if k:
        _title_skipped(path, report, top.values.tolist()[:k], 1, k + 1)
    head = header_names(top.iloc[k].tolist()) if len(top) > k else []  # pandas' 'Unnamed: 7', 'name.1' undone
    df.columns = (head + [""] * df.shape[1])[: df.shape[1]]
    check_header(list(df.columns), path, k + 1)
    opts["line_offset"] = k + 2
    df = _drop_uncached_formulas(path, sheet, df, report, opts, first=k + 2)
    return resolve_nameless_columns(df, report, opts.get("line_offset"), opts.get("lines"))


def _read_parquet(path: Path) -> pd.DataFrame:
    """A GeoParquet file (or a plain Parquet table)."""
    from riskmap._extras import require

    require("pyarrow", f"{path}: ")
    try:
        return gpd.read_parquet(path)
    except ValueError:
        return pd.read_parquet(path)


def _read_vector(path: Path, fmt: str, layer: str | int | None, report: ValidationReport) -> pd.DataFrame:
    """A layer of a vector file (a riskmap GeoPackage export: its site layers put back together)."""
    kw: dict[str, Any] = {}
    names = _vector_layers(path) if fmt == "gpkg" or layer is not None else []
    export_sites = (fmt == "gpkg" and layer in (None, "sites") and names[:1] == ["sites"]
                    and bool({"site_lines", "site_areas"} & set(names)))
    if not export_sites and (fmt == "gpkg" or layer is not None):
        kw["layer"] = _choose_layer(path, names, layer, "layer", report)
    if fmt == "geojson":  # dates as text: '2024-02-30' is then a cell error, not a refused file
        kw["DATE_AS_STRING"] = "YES"
    if fmt == "shp":  # GDAL reads a .shp without .dbf as geometries only
        require_parts(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if export_sites:  # a riskmap export: point, line (and area) sites, in export order (fid)
            df = read_export_site_layers(path)
        else:
            df = gpd.read_file(path, **kw)
    for w in caught[:5]:
        report.add(None, "geometry", f"GDAL: {str(w.message)[:200]}",
                   "check the file's geometries", "warning")
    if fmt == "shp":  # no .cpg: re-read as UTF-8 when it is, else warn about garbled text
        df = shapefile_text_check(path, df, report, lambda enc: gpd.read_file(path, encoding=enc, **kw))
    if fmt == "geojson":
        df = _geojson_ids_as_written(path, df)
    return df


#: Identifier columns GDAL may type as Real in a GeoJSON file (ids mixing 17 and 17.0, or over 2**53).
_ID_COLUMNS = ("site_id", "source_id")


def _geojson_ids_as_written(path: Path, df: pd.DataFrame) -> pd.DataFrame:
    """Identifier columns GDAL read as numbers, put back as the text of the file.

    A GeoJSON id column holding integers and decimals (or integers past 2**53) is typed Real by
    GDAL, so ``123456789012345678`` came back as ``1.2345678901234568e+17`` with its last digits
    lost. The file's own text of each number is kept (``17`` stays ``17``).
    """
    cols = [c for c in _ID_COLUMNS if c in df.columns and pd.api.types.is_numeric_dtype(df[c])]
    if not cols:
        return df
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f, parse_int=str, parse_float=str)
        feats = doc.get("features") if isinstance(doc, dict) else None
    except (OSError, ValueError, RecursionError):
        return df
    if not isinstance(feats, list) or len(feats) != len(df):
        return df
    props = [ft.get("properties") or {} if isinstance(ft, dict) else {} for ft in feats]
    df = df.copy()
    for c in cols:
        df[c] = pd.Series([None if p.get(c) is None else str(p.get(c)) for p in props], index=df.index, dtype=object)
    return df


def _read_raw(path: Path, fmt: str, layer: str | int | None, opts: dict[str, Any]) -> pd.DataFrame:
    """The file read by its format's reader; any reader failure becomes a clear message."""
    report = opts["report"]
    try:
        if fmt == "csv":
            df, dec = _read_csv_raw(path, report)
            opts.update(decimal_comma=dec, lines=df.attrs["lines"], rows=df.attrs["rows"])
            return df
        if fmt == "xlsx":
            return _read_xlsx(path, layer, report, opts)
        if fmt == "parquet":
            return _read_parquet(path)
        return _read_vector(path, fmt, layer, report)
    except RiskmapError:
        raise
    except Exception as e:  # noqa: BLE001 - any reader failure becomes a clear message
        raise RiskmapInputError(_("{path}: cannot read as {format}: {error}").format(
            path=path, format=fmt, error=f"{type(e).__name__}: {e}")) from None


def _apply_crs(df: pd.DataFrame, crs: Any, path: Path, decimal_comma: bool) -> pd.DataFrame:
    """Points from x/y columns in ``crs`` for a plain table; ``crs`` set on a GeoDataFrame that has none."""
    if isinstance(df, gpd.GeoDataFrame):
        return df.set_crs(crs) if df.crs is None else df
    lower = {str(c).lower(): c for c in df.columns}
    xc = next((lower[a] for a in ("x", "lon", "longitude", "easting") if a in lower), None)
    yc = next((lower[a] for a in ("y", "lat", "latitude", "northing") if a in lower), None)
    if xc is None or yc is None:
        raise RiskmapInputError(_("{path}: crs={crs} given but no x/y columns found").format(path=path, crs=repr(crs)))
    issues: dict[int, tuple[str, str, str]] = {}
    xs, ys = (crs_coordinates(df[c].tolist(), str(c), crs, decimal_comma, issues) for c in (xc, yc))
    pts = [shapely.Point(x, y) if np.isfinite(x) and np.isfinite(y) else None for x, y in zip(xs, ys)]
    out = gpd.GeoDataFrame(df.drop(columns=[xc, yc]), geometry=pts, crs=crs)
    out.attrs["coordinate_issues"] = issues  # the cells' own reasons, for validate_sites
    return out


def read_table(path: str | os.PathLike, *, layer: str | int | None = None, fmt: str | None = None,
               crs: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a file into a raw (unvalidated) DataFrame or GeoDataFrame.

    Returns the frame and a dict of read options for validation
    (``line_offset``, ``decimal_comma``, ``report``).

    Raises
    ------
    RiskmapInputError
        If the file cannot be read, naming the file and the reason.
    """
    path = Path(path)
    if not path.exists():
        raise RiskmapInputError(_("{path}: no such file").format(path=path))
    fmt = _format_of(path, fmt)
    if crs is not None:
        _check_crs(crs, path)
    if layer is not None and fmt in ("csv", "parquet"):
        raise RiskmapInputError(_("{path}: a {format} file has no layers or sheets; drop --layer {layer}").format(
            path=path, format=fmt.upper(), layer=layer))
    opts: dict[str, Any] = {"report": ValidationReport(file=str(path)), "line_offset": None, "decimal_comma": False}
    df = _read_raw(path, fmt, layer, opts)
    if fmt == "shp":
        df = df.rename(columns=_SHAPEFILE_BACK)
    df = df.rename(columns=machine_headers(list(df.columns)))  # an export's display headers ("Site ID")
    if crs is not None:
        crs_conflict(df, crs, path, opts["report"])
        df = _apply_crs(df, crs, path, opts["decimal_comma"])
    for c in df.columns:
        if c != getattr(df, "_geometry_column_name", None) and df[c].dtype == object:
            df[c] = df[c].map(_unneutralise)
    if any(isinstance(c, str) and _unneutralise(c) != c for c in df.columns):
        df = df.rename(columns=lambda c: _unneutralise(c) if isinstance(c, str) else c)
    return df, opts


def read_sites(path: str | os.PathLike, *, strict: bool = False, layer: str | int | None = None,
               fmt: str | None = None, crs: Any = None, derive_country: bool = True,
               ) -> gpd.GeoDataFrame:
    """Read a site inventory file into a validated GeoDataFrame (EPSG:4326).

    Parameters
    ----------
    path : str or path-like
        CSV, XLSX, GeoJSON, GeoPackage, GeoParquet or Shapefile.
    strict : bool
        Refuse the file (raise) if any row has an error. Default: lenient,
        keep good rows and report the bad ones.
    layer : str or int, optional
        Layer (GeoPackage) or sheet (XLSX) to read, by name or 0-based index.
        Default: the first; a :class:`~riskmap.RiskmapDataWarning` names all
        layers when the file has several.
    fmt : str, optional
        Force a format instead of guessing from the extension.
    crs : optional
        CRS of the x/y columns (tabular files) or of a vector file that lacks
        one; data are reprojected to EPSG:4326.
    derive_country : bool
        Fill blank ``country`` values from the bundled country polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        Validated sites; the :class:`~riskmap.schema.ValidationReport` is in
        ``sites.attrs["validation"]``. When rows were dropped, a
        :class:`~riskmap.RiskmapDataWarning` says how many and why
        (:func:`dropped_rows_message`).

    Raises
    ------
    RiskmapInputError
        The file cannot be read.
    RiskmapValidationError
        A required column is missing, (strict mode) any row has an error, or
        no row at all is usable.

    Examples
    --------
    >>> import riskmap
    >>> sites = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv")
    >>> sites.attrs["validation"].ok
    True
    """
    df, opts = read_table(path, layer=layer, fmt=fmt, crs=crs)
    pre: ValidationReport = opts["report"]
    countries = _bundled_countries() if derive_country else None
    try:
        sites, report = validate_sites(
            df, file=str(path), strict=False, line_offset=opts["line_offset"],
            decimal_comma=opts["decimal_comma"], countries=countries)
    except RiskmapValidationError as e:
        e.report.issues[:0] = pre.issues
        raise
    lines, rows = opts.get("lines"), opts.get("rows")
    if lines is not None and rows is not None:
        remapped = []
        for i in report.issues:
            if i.row is not None and i.row <= len(lines):
                i = type(i)(i.file, rows[i.row - 1], i.column, i.reason, i.fix, i.severity, lines[i.row - 1])
            remapped.append(i)
        report.issues = remapped
        report.n_rows = pre.n_rows
    report.issues[:0] = pre.issues
    sites.attrs["validation"] = report
    if strict and not report.ok:
        raise RiskmapValidationError(report)
    if report.n_rows > 0 and report.n_kept == 0:
        report.add(None, None, _("no usable site: all {n} rows have errors").format(n=report.n_rows),
                   _("fix the errors listed here (riskmap validate FILE), then run the command again"))
        raise RiskmapValidationError(report)
    msg = dropped_rows_message(report)
    if msg:
        warnings.warn(msg, RiskmapDataWarning, stacklevel=2)
    elif report.n_rows == 0:
        warnings.warn(_("{path}: the file has no data rows (0 sites)").format(path=path), RiskmapDataWarning,
                      stacklevel=2)
    return sites


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\([^)]*\)|-?\d[\d.,e+-]*")


def _reason_kind(reason: str) -> str:
    """The reason without values (quoted text, numbers, parentheses): for tallies."""
    kind = _QUOTED.sub("", reason).split(":", 1)[0]
    kind = re.sub(r"\s+", " ", kind).strip(" ,;.?")
    return kind or reason[:40]


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def dropped_rows_message(report: ValidationReport) -> str | None:
    """One line saying how many rows of a file were dropped and why, or None if none were.

    The reasons are tallied by kind (column and reason, without the values);
    the line ends by pointing to the full report, ``riskmap validate FILE``.
    :func:`read_sites` issues it as a :class:`~riskmap.RiskmapDataWarning` and
    every command prints it on stderr.

    Examples
    --------
    >>> from riskmap.schema import ValidationReport
    >>> r = ValidationReport("x.csv", n_rows=3, n_kept=1)
    >>> r.add(1, "category", "unknown category 'minee'", "use mine")
    >>> r.add(3, "lat", "coordinate is blank", "give degrees")
    >>> print(dropped_rows_message(r))
    x.csv: 2 of 3 rows dropped (1 category: unknown category; 1 lat: coordinate is blank); full list: riskmap validate x.csv
    """
    n_drop = report.n_rows - report.n_kept
    if n_drop <= 0:
        return None
    rows_by_kind: dict[str, set[int]] = {}
    for i in report.errors:
        if i.row is None:
            continue
        kind = f"{i.column}: {_reason_kind(i.reason)}" if i.column else _reason_kind(i.reason)
        rows_by_kind.setdefault(kind, set()).add(i.row)
    tally = sorted(rows_by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    parts = [f"{len(rows)} {kind}" for kind, rows in tally[:6]]
    if len(tally) > 6:
        parts.append(_("{n} more kinds").format(n=len(tally) - 6))
    import shlex

    return _printable(_("{file}: {dropped} of {rows} rows dropped ({why}); full list: riskmap validate "
                        "{quoted_file}").format(file=report.file, dropped=n_drop, rows=report.n_rows,
                                                why="; ".join(parts), quoted_file=shlex.quote(report.file)))


_COUNTRIES_CACHE: dict[str, gpd.GeoDataFrame] = {}


def _bundled_countries() -> gpd.GeoDataFrame | None:
    """Country polygons shipped in ``data/basins/countries.gpkg`` (None if absent)."""
    from riskmap._paths import DATA_DIR

    p = DATA_DIR / "basins" / "countries.gpkg"
    if not p.exists():
        return None
    key = str(p)
    if key not in _COUNTRIES_CACHE:
        g = gpd.read_file(p, layer="countries")
        _COUNTRIES_CACHE[key] = g[["iso3", "geometry"]]
    return _COUNTRIES_CACHE[key]




def read_layer(path: str | os.PathLike, layer: str) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage (or any vector file), with a clear error."""
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read layer {layer!r}: {e}") from None
