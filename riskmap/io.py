"""Read and write sites and layers in every supported format, atomically.

Readers return validated GeoDataFrames in EPSG:4326 (see
:func:`riskmap.schema.validate_sites`); writers never leave a half-written
file: they write a temporary file next to the target and rename it into
place. Inputs are only ever opened for reading.

Supported formats (by file extension): CSV (``.csv``, UTF-8 with or without
BOM, comma or semicolon separated), Excel (``.xlsx``), GeoJSON (``.geojson``,
``.json``), GeoPackage (``.gpkg``), GeoParquet (``.parquet``) and Shapefile
(``.shp``).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io as _io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import (RiskmapDataWarning, RiskmapError, RiskmapInputError, RiskmapOutputError,
                             RiskmapValidationError)
from riskmap.schema import ValidationReport, column_names
from riskmap.validation import validate_sites

__all__ = [
    "FORMATS",
    "read_sites",
    "read_table",
    "write_sites",
    "write_layers",
    "atomic_path",
    "atomic_write_text",
    "atomic_write_bytes",
    "sites_to_table",
    "neutralise_formula",
    "neutralise_array",
    "json_cells",
    "sha256_file",
    "remove_stale_temps",
    "TMP_PREFIX",
    "dropped_rows_message",
    "check_output_not_input",
    "list_layers",
]

#: Extension -> format name.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".parquet": "parquet",
    ".geoparquet": "parquet",
    ".shp": "shp",
}

#: Shapefile field names are limited to 10 characters: schema name -> short name.
SHAPEFILE_NAMES: dict[str, str] = {
    "coord_precision": "coord_prec",
    "last_verified": "last_verif",
    "source_refs": "src_refs",
    "tailings_volume_m3": "tail_vol",
    "tailings_area_ha": "tail_area",
    "dam_height_m": "dam_height",
    "tailings_type": "tail_type",
    "dam_condition": "dam_cond",
    "reservoir_volume_m3": "res_vol",
    "capacity_mw": "cap_mw",
    "capacity_t_yr": "cap_t_yr",
    "name_source": "name_src",
    "field_sources": "field_srcs",
}
_SHAPEFILE_BACK = {v: k for k, v in SHAPEFILE_NAMES.items()}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise RiskmapInputError(f"{path}: unknown format {fmt!r}; use one of {sorted(set(FORMATS.values()))}")
        return fmt
    f = FORMATS.get(path.suffix.lower())
    if f is None:
        raise RiskmapInputError(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            f"use one of {', '.join(sorted(FORMATS))}")
    return f


# --------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------


#: Prefix of every temporary file or folder riskmap writes next to an output
#: (``.riskmap-tmp.<output name>.<pid>.<random>``); see :func:`atomic_path`.
TMP_PREFIX = ".riskmap-tmp."

#: Errors of the GDAL writers (pyogrio) that mean "the file could not be written".
_WRITE_ERRORS: tuple[type[BaseException], ...] = (OSError,)
try:  # pyogrio is a geopandas dependency; its errors are not OSError subclasses
    import pyogrio.errors as _pyogrio_errors

    _WRITE_ERRORS = (OSError, _pyogrio_errors.DataSourceError, _pyogrio_errors.DataLayerError,
                     _pyogrio_errors.FieldError, _pyogrio_errors.GeometryError, _pyogrio_errors.CRSError)
except ImportError:  # pragma: no cover
    pass


def _arrow_writes() -> bool:
    """Whether GDAL writes GeoDataFrames through Arrow (pyarrow installed, GDAL >= 3.8): much faster."""
    try:
        import pyarrow  # noqa: F401
        import pyogrio

        return tuple(pyogrio.__gdal_version__[:2]) >= (3, 8)
    except (ImportError, AttributeError):  # pragma: no cover
        return False


_USE_ARROW = _arrow_writes()


def _tmp_prefix(path: Path) -> str:
    return f"{TMP_PREFIX}{path.name}."


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


def _remove_path(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def remove_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove temporary files a killed riskmap write of ``path`` left behind.

    A write that is killed outright (``SIGKILL``, power loss) cannot clean up
    after itself. Its temporary files and folders are named
    ``.riskmap-tmp.<output name>.<pid>.<random>`` (plus ``-journal``/``-wal``
    files GDAL adds); those of the same output whose process is no longer
    running are removed here, before every new write of that output.

    Returns
    -------
    list of pathlib.Path
        The removed paths.
    """
    path = Path(path)
    prefix = _tmp_prefix(path)
    removed = []
    try:
        entries = [e for e in path.parent.iterdir() if e.name.startswith(prefix)]
    except OSError:
        return removed
    for e in entries:
        pid_text = e.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        if pid == os.getpid() or _pid_alive(pid):
            continue  # this process, or a writer still running
        _remove_path(e)
        removed.append(e)
    return removed


def _remove_tmp(tmp: Path) -> None:
    """Remove a temporary output and the side files a driver may have added (``-journal``, ``-wal``)."""
    _remove_path(tmp)
    with contextlib.suppress(OSError):
        for e in tmp.parent.iterdir():
            if e.name.startswith(tmp.name):
                _remove_path(e)


def _make_tmp_name(path: Path, suffix: str, directory: bool = False) -> Path:
    prefix = f"{_tmp_prefix(path)}{os.getpid()}."
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=path.parent))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # drivers (GDAL) want to create the file themselves
    return Path(tmp)


def _output_error(path: Path, e: BaseException) -> RiskmapOutputError:
    reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return RiskmapOutputError(f"{path}: cannot write the output: {reason}; nothing was written "
                              "(an existing file is unchanged)")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    If the body raises (any exception, including ``KeyboardInterrupt`` and
    ``SystemExit``), the temporary file and any side files of it are removed
    and ``path`` is left untouched (an existing file is never
    half-overwritten). A write error (disk full, permission, a GDAL write
    failure) becomes a :class:`~riskmap.RiskmapOutputError` naming ``path``,
    never the temporary name. Temporary files of earlier writes of ``path``
    whose process was killed are removed first (:func:`remove_stale_temps`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    >>> sorted(p.name for p in d.iterdir())
    ['out.txt']
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        tmp_path = _make_tmp_name(path, path.suffix if suffix is None else suffix)
    except OSError as e:
        raise _output_error(path, e) from None
    try:
        try:
            yield tmp_path
            os.replace(tmp_path, path)
        except RiskmapError:
            raise
        except _WRITE_ERRORS as e:
            raise _output_error(path, e) from None
    finally:
        _remove_tmp(tmp_path)


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks (provenance records, report footers)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _with_parts(path: Path) -> list[Path]:
    """A path plus, for a Shapefile, its component files (``.dbf``, ``.shx`` ...)."""
    if path.suffix.lower() == ".shp":
        return [path.with_suffix(ext) for ext in _SHP_PARTS]
    return [path]


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_not_input(outputs: Any, inputs: Any) -> None:
    """Refuse to write an output over one of the command's input files.

    A path is the same file as an input when both resolve to the same real
    path (symbolic links followed) or, where both exist, when they are the
    same file on disk (``os.path.samefile``: hard links too). Shapefiles are
    compared with all their component files.

    Parameters
    ----------
    outputs, inputs : path or iterable of paths
        ``None`` entries are ignored.

    Raises
    ------
    RiskmapInputError
        If an output is an input; nothing has been written at that point.

    Examples
    --------
    >>> check_output_not_input("out.csv", ["sites.csv"])
    >>> check_output_not_input("sites.csv", ["./sites.csv"])
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: sites.csv: the output would overwrite the input file ./sites.csv; write to another file
    """
    def paths(x: Any) -> list[Path]:
        if x is None:
            return []
        if isinstance(x, (str, os.PathLike)):
            return [Path(x)]
        return [Path(p) for p in x if p is not None]

    ins = [(i, part) for i in paths(inputs) for part in _with_parts(i)]
    for out in paths(outputs):
        for part in _with_parts(out):
            for given, inp in ins:
                if _same_file(part, inp):
                    raise RiskmapInputError(
                        f"{out}: the output would overwrite the input file {given}; write to another file")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text (``\\n`` line ends) to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


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


def xlsx_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells and headers an XLSX sheet can hold: control characters as OOXML escapes.

    A terminal escape (``\\x1b[31m``) or other C0 control character in a site
    name would make openpyxl refuse the whole workbook; it is written as
    ``_x001B_``, the spreadsheet format's own escape (Excel shows the
    character).
    """

    def fix(v: Any) -> Any:
        if isinstance(v, str) and _XLSX_ILLEGAL.search(v):
            return _XLSX_ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", v)
        return v

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(fix)
    out.columns = [fix(c) for c in out.columns]
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


def _unneutralise(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


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


def _read_csv_raw(path: Path, report: ValidationReport) -> tuple[pd.DataFrame, bool]:
    """Read a CSV as strings. Returns (frame, decimal_comma)."""
    _raise_csv_field_limit()
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise RiskmapInputError(
            f"{path}: line {line}: the file is not UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start}); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8')") from None
    if "\x00" in text:
        raise RiskmapInputError(f"{path}: the file contains NUL bytes; it is not a text CSV")
    lines = text.splitlines()
    header = next((ln for ln in lines if ln.strip()), "")
    delim = ";" if header.count(";") > header.count(",") else ","
    try:
        rows = list(csv.reader(_io.StringIO(text, newline=""), delimiter=delim, strict=True))
    except csv.Error as e:
        raise RiskmapInputError(f"{path}: malformed CSV: {e}; check quotes on that line") from None
    while rows and not any(c.strip() for c in rows[0]):
        rows.pop(0)
    if not rows:
        raise RiskmapInputError(f"{path}: the file is empty (no header line)")
    head = [h.strip() for h in rows[0]]
    if len(set(head)) != len(head):
        dup = sorted({h for h in head if head.count(h) > 1})
        raise RiskmapInputError(f"{path}: line 1: duplicate column names {dup}; rename them")
    body: list[list[str]] = []
    lines_of: list[int] = []
    rows_of: list[int] = []
    n_data = 0
    for k, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        n_data += 1
        if len(r) > len(head):
            report.add(n_data, None, f"too many fields ({len(r)}; the header has {len(head)})",
                       f"remove the extra '{delim}' or quote the value", "error", k)
            continue
        body.append(r + [""] * (len(head) - len(r)))
        lines_of.append(k)
        rows_of.append(n_data)
    df = pd.DataFrame(body, columns=head, dtype=object)
    df.attrs["lines"] = lines_of
    df.attrs["rows"] = rows_of
    report.n_rows = n_data
    return df, delim == ";"


def _check_crs(crs: Any, path: Path) -> None:
    """Refuse an unknown CRS with a clear message (not a pyproj traceback)."""
    import pyproj

    try:
        pyproj.CRS.from_user_input(crs)
    except Exception as e:  # noqa: BLE001 - pyproj raises CRSError and others
        raise RiskmapInputError(
            f"{path}: crs {crs!r} is not a known coordinate reference system ({str(e).splitlines()[0][:200]}); "
            "give an EPSG code such as EPSG:32634 (UTM 34N) or EPSG:4326") from None


def list_layers(path: str | os.PathLike) -> list[str]:
    """Names of the layers (GeoPackage, other vector files) or sheets (XLSX) of a file, in file order.

    Examples
    --------
    >>> list_layers("inventory.gpkg")  # doctest: +SKIP
    ['sites', 'pipelines']
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
        raise RiskmapInputError(f"{path}: cannot read the file's layers: {type(e).__name__}: {e}") from None


def _xlsx_sheets(path: Path) -> list[str]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read as xlsx: {type(e).__name__}: {e}") from None
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _choose_layer(path: Path, names: list[str], layer: str | int | None, what: str,
                  report: ValidationReport) -> str:
    """The layer/sheet to read: ``layer`` (a name or a 0-based index) or the first, with a warning
    naming all of them when the file has several and none was chosen."""
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
    if key.lstrip("-").isdigit() and -len(names) <= int(key) < len(names):
        return names[int(key)]
    raise RiskmapInputError(f"{path}: no {what} {layer!r}; the file has {', '.join(map(repr, names))} "
                            f"(give a name or a 0-based index)")


def _drop_uncached_formulas(path: Path, sheet: str, df: pd.DataFrame, report: ValidationReport,
                            opts: dict[str, Any]) -> pd.DataFrame:
    """Report formula cells that have no cached value (they would read as blank) and drop their rows.

    Excel stores the last computed value of a formula; files written by scripts
    (openpyxl, some exporters) often do not, and reading them gives a blank.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[sheet]
        hits: list[tuple[int, int, str]] = []
        for r, row in enumerate(ws.iter_rows(min_row=2, values_only=True)):
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
        report.add(r + 1, str(df.columns[j]), f"formula {v[:60]!r} has no saved value (it would read as blank)",
                   "open the file in Excel or LibreOffice and save it, or paste the values", "error", r + 2)
    keep = [i for i in range(len(df)) if i not in set(bad_rows)]
    opts.update(line_offset=None, lines=[i + 2 for i in keep], rows=[i + 1 for i in keep])
    return df.iloc[keep].reset_index(drop=True)


def _blank_cell(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def read_table(path: str | os.PathLike, *, layer: str | None = None, fmt: str | None = None,
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
        raise RiskmapInputError(f"{path}: no such file")
    fmt = _format_of(path, fmt)
    if crs is not None:
        _check_crs(crs, path)
    if layer is not None and fmt in ("csv", "parquet"):
        raise RiskmapInputError(f"{path}: a {fmt.upper()} file has no layers or sheets; drop --layer {layer}")
    report = ValidationReport(file=str(path))
    opts: dict[str, Any] = {"report": report, "line_offset": None, "decimal_comma": False}
    try:
        if fmt == "csv":
            df, dec = _read_csv_raw(path, report)
            opts.update(decimal_comma=dec, lines=df.attrs["lines"], rows=df.attrs["rows"])
        elif fmt == "xlsx":
            sheets = _xlsx_sheets(path)
            if layer in (None, "sites") and sheets[:1] == ["sites"] and "sites_data" in sheets:
                layer = "sites_data"  # a riskmap export: its machine table (the `sites` sheet is for people)
            sheet = _choose_layer(path, sheets, layer, "sheet", report)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
            opts["line_offset"] = 2
            df = _drop_uncached_formulas(path, sheet, df, report, opts)
        elif fmt == "parquet":
            from riskmap._extras import require

            require("pyarrow", f"{path}: ")
            try:
                df = gpd.read_parquet(path)
            except ValueError:
                df = pd.read_parquet(path)
        else:
            kw: dict[str, Any] = {}
            names = _vector_layers(path) if fmt == "gpkg" or layer is not None else []
            export_sites = (fmt == "gpkg" and layer in (None, "sites") and names[:1] == ["sites"]
                            and bool({"site_lines", "site_areas"} & set(names)))
            if not export_sites and (fmt == "gpkg" or layer is not None):
                kw["layer"] = _choose_layer(path, names, layer, "layer", report)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if export_sites:  # a riskmap export: point, line (and area) sites, in export order (fid)
                    df = read_export_site_layers(path)
                else:
                    df = gpd.read_file(path, **kw)
            for w in caught[:5]:
                report.add(None, "geometry", f"GDAL: {str(w.message)[:200]}",
                           "check the file's geometries", "warning")
    except RiskmapError:
        raise
    except Exception as e:  # noqa: BLE001 - any reader failure becomes a clear message
        raise RiskmapInputError(f"{path}: cannot read as {fmt}: {type(e).__name__}: {e}") from None
    if fmt == "shp":
        df = df.rename(columns=_SHAPEFILE_BACK)
    if crs is not None and not isinstance(df, gpd.GeoDataFrame):
        lower = {str(c).lower(): c for c in df.columns}
        xc = next((lower[a] for a in ("x", "lon", "longitude", "easting") if a in lower), None)
        yc = next((lower[a] for a in ("y", "lat", "latitude", "northing") if a in lower), None)
        if xc is None or yc is None:
            raise RiskmapInputError(f"{path}: crs={crs!r} given but no x/y columns found")
        xs = pd.to_numeric(df[xc].astype(str).str.replace(",", ".") if opts["decimal_comma"] else df[xc],
                           errors="coerce")
        ys = pd.to_numeric(df[yc].astype(str).str.replace(",", ".") if opts["decimal_comma"] else df[yc],
                           errors="coerce")
        pts = [shapely.Point(x, y) if np.isfinite(x) and np.isfinite(y) else None
               for x, y in zip(xs, ys)]
        df = gpd.GeoDataFrame(df.drop(columns=[xc, yc]), geometry=pts, crs=crs)
    elif crs is not None and isinstance(df, gpd.GeoDataFrame) and df.crs is None:
        df = df.set_crs(crs)
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
    >>> sites = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv")  # doctest: +SKIP
    >>> sites.attrs["validation"].ok  # doctest: +SKIP
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
    if lines is not None:
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
        report.add(None, None, f"no usable site: all {report.n_rows} rows have errors",
                   "fix the errors listed here (riskmap validate FILE), then run the command again")
        raise RiskmapValidationError(report)
    msg = dropped_rows_message(report)
    if msg:
        warnings.warn(msg, RiskmapDataWarning, stacklevel=2)
    elif report.n_rows == 0:
        warnings.warn(f"{path}: the file has no data rows (0 sites)", RiskmapDataWarning, stacklevel=2)
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
        parts.append(f"{len(tally) - 6} more kinds")
    import shlex

    return _printable(f"{report.file}: {n_drop} of {report.n_rows} rows dropped ({'; '.join(parts)}); "
                      f"full list: riskmap validate {shlex.quote(report.file)}")


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


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


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


def sites_to_table(sites: gpd.GeoDataFrame, *, neutralise: bool = True) -> pd.DataFrame:
    """Flatten a site GeoDataFrame into a plain table for CSV/XLSX.

    Columns: the schema columns in their stable order, then ``lon`` and
    ``lat`` (of the point, or of a representative point for lines and
    polygons), ``geometry_wkt`` (only for non-point geometries, else blank),
    then any extra columns in their existing order. List cells become JSON;
    text cells are formula-neutralised unless ``neutralise=False`` (numbers,
    also in extra columns, stay numbers: :func:`neutralise_formula`).
    Vectorised: no Python loop over rows except for list cells.
    """
    g = sites.geometry.to_crs("EPSG:4326") if sites.crs is not None else sites.geometry
    rep = g.copy()
    is_pt = (g.geom_type == "Point").to_numpy()
    rep[~is_pt] = g[~is_pt].representative_point()
    schema = column_names()
    extra = [c for c in sites.columns if c not in schema and c != sites.geometry.name]
    cols: dict[str, Any] = {}
    for c in schema:
        cols[c] = sites[c].array if c in sites.columns else np.full(len(sites), None, dtype=object)
    cols["lon"] = np.round(shapely.get_x(rep.values), 7)
    cols["lat"] = np.round(shapely.get_y(rep.values), 7)
    wkt = np.full(len(g), None, dtype=object)
    if (~is_pt).any():
        wkt[~is_pt] = shapely.to_wkt(np.asarray(g.values)[~is_pt], rounding_precision=7)
    cols["geometry_wkt"] = wkt
    for c in extra:
        cols[c] = sites[c].array
    table = pd.DataFrame(cols, index=pd.RangeIndex(len(sites)))
    for c in table.columns:
        col = table[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col):
            new = json_cells(col)
            new = _neutralise_column(new) if neutralise else new
            if new is not col:  # reassigning an unchanged column would convert it again
                table[c] = new
    if neutralise:  # a user column named "=HYPERLINK(...)" is a header cell too
        table.columns = [neutralise_formula(str(c)) for c in table.columns]
    return table


def _table_to_csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV: exactly the bytes of ``DataFrame.to_csv`` (minimal quoting, ``\\n``).

    Built column-wise with Arrow compute kernels (:func:`_fast_csv_bytes`) when
    every column has a plain type, which is many times faster than pandas'
    row writer for large tables; any other table goes through pandas.
    """
    fast = _fast_csv_bytes(table)
    if fast is not None:
        return fast
    return table.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


def table_to_excel_csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as a CSV that Excel opens in any locale: UTF-8 with BOM, ``;`` separator, decimal comma.

    Lines end with ``\r\n`` and cells holding ``;``, quotes or line breaks are
    quoted. Text cells must already be formula-neutralised.

    Examples
    --------
    >>> table_to_excel_csv_bytes(pd.DataFrame({"name": ["Bajina Bašta"], "km": [1.5]}))[:3]
    b'\\xef\\xbb\\xbf'
    """
    text = table.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n", na_rep="")
    return text.encode("utf-8-sig")


_CSV_SPECIAL_BYTES = np.zeros(256, dtype=bool)
_CSV_SPECIAL_BYTES[[ord(","), ord('"'), ord("\r"), ord("\n")]] = True


def _csv_quote(arr: Any) -> Any:
    """Quote Arrow strings the way :mod:`csv` does with ``QUOTE_MINIMAL`` (delimiter, quote, CR, LF)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if arr.type == pa.large_string() and len(arr):  # one byte scan: most columns need no quotes at all
        bufs = arr.buffers()
        if bufs[2] is None:
            return arr
        offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
        raw = np.frombuffer(bufs[2], dtype=np.uint8)[offsets[0]: offsets[-1]]
        if not _CSV_SPECIAL_BYTES[raw].any():  # ASCII bytes never occur inside UTF-8 sequences
            return arr
    q, e = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())
    need = pc.match_substring_regex(arr, '[,"\r\n]')
    quoted = pc.binary_join_element_wise(q, pc.replace_substring(arr, '"', '""'), q, e)
    return pc.if_else(need, quoted, arr)


def _csv_field_strings(col: pd.Series) -> Any:
    """One column as an Arrow array of CSV field text (no nulls), or None if the type is not plain."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dt = col.dtype
    if isinstance(dt, np.dtype) and dt.kind == "f":  # pandas: values.astype(str), NaN -> na_rep
        vals = col.to_numpy(dtype=np.float64)
        nan = np.isnan(vals)
        if nan.all():
            return pa.nulls(len(vals), type=pa.large_string()).fill_null(pa.scalar("", pa.large_string()))
        return _float_text(vals, nan)
    ls = pa.large_string()
    if (isinstance(dt, np.dtype) and dt.kind == "b") or isinstance(dt, pd.BooleanDtype):  # True/False
        b = pa.array(col.array) if isinstance(dt, pd.BooleanDtype) else pa.array(col.to_numpy())
        text = pc.if_else(b, pa.scalar("True", ls), pa.scalar("False", ls))
        return text.fill_null("") if text.null_count else text
    if (isinstance(dt, np.dtype) and dt.kind in "iu") or isinstance(dt, (pd.Int64Dtype, pd.Int32Dtype)):
        ints = pa.array(col.array) if isinstance(dt, pd.api.extensions.ExtensionDtype) else pa.array(col.to_numpy())
        text = pc.cast(ints, ls)
        return text.fill_null("") if text.null_count else text
    if isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow":  # already Arrow: no conversion
        arr = pa.array(col.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return _csv_quote(arr.cast(pa.large_string())).fill_null("")
    if dt == object or pd.api.types.is_string_dtype(dt):
        vals = col.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(vals, skipna=True) not in ("string", "empty"):
            return None
        arr = pa.array(vals.tolist(), type=pa.large_string(), from_pandas=True)  # a list converts faster
        return _csv_quote(arr).fill_null("")
    return None


def _float_text(vals: np.ndarray, nan: np.ndarray) -> Any:
    """Floats as Python's ``repr`` (what pandas writes), NaN as "", as an Arrow string array.

    Arrow's cast gives the same shortest round-trip digits as ``repr`` for
    1e-4 <= |x| < 1e10 and zero, except that ``repr`` adds ``.0`` to whole
    numbers; other values (rare) go through ``repr`` itself.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ls = pa.large_string()
    text = pc.cast(pa.array(vals), ls)
    whole = pc.invert(pc.match_substring(text, "."))
    text = pc.if_else(whole, pc.binary_join_element_wise(text, pa.scalar(".0", ls), pa.scalar("", ls)), text)
    mag = np.abs(vals)
    with np.errstate(invalid="ignore"):
        other = ~nan & ~(((mag >= 1e-4) & (mag < 1e10)) | (vals == 0))
    if other.any():
        text = pc.replace_with_mask(text, pa.array(other),
                                    pa.array([repr(x) for x in vals[other].tolist()], type=ls))
    if nan.any():
        text = pc.if_else(pa.array(nan), pa.scalar("", ls), text)
    return text


def _fast_csv_bytes(table: pd.DataFrame) -> bytes | None:
    """Column-wise CSV writer (Arrow kernels), byte-identical to pandas; None when not applicable."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the parquet output
        return None
    if (len(table) == 0 or len(table.columns) == 0 or isinstance(table.columns, pd.MultiIndex)
            or table.columns.duplicated().any()):
        return None
    fields = []
    for c in table.columns:
        f = _csv_field_strings(table[c])
        if f is None:
            return None
        fields.append(f)
    header = _csv_quote(pa.array([str(c) for c in table.columns], type=pa.large_string()))
    ls = pa.large_string()
    rows = pc.binary_join_element_wise(*fields, pa.scalar(",", ls))
    if len(fields) == 1:  # csv writes a lone empty field as "" so the row is not blank
        rows = pc.if_else(pc.equal(rows, pa.scalar("", ls)), pa.scalar('""', ls), rows)
    rows = pc.binary_join_element_wise(rows, pa.scalar("", ls), pa.scalar("\n", ls))  # row + "\n"
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    head = ",".join(header.to_pylist()) + "\n"
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset: rows.offset + len(rows) + 1]
    body = rows.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]] if rows.buffers()[2] is not None else b""
    return head.encode("utf-8") + body


def write_sites(sites: gpd.GeoDataFrame, path: str | os.PathLike, *, fmt: str | None = None,
                layer: str = "sites") -> Path:
    """Write sites to a file, atomically; the format comes from the extension.

    CSV and XLSX get ``lon``/``lat`` columns and formula-safe text (see
    :func:`sites_to_table`); vector formats keep the geometry in EPSG:4326.
    List-valued columns are stored as JSON text in every format.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> write_sites(sites, "out/sites.gpkg")  # doctest: +SKIP
    """
    path = Path(path)
    fmt = _format_of(path, fmt)
    if fmt in ("csv", "xlsx"):
        table = sites_to_table(sites)
        if fmt == "csv":
            return atomic_write_bytes(path, _table_to_csv_bytes(table))
        with atomic_path(path) as tmp:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                xlsx_safe_frame(table).to_excel(xw, sheet_name=layer[:31], index=False)
        return path
    gdf = sites.copy()
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    _json_columns(gdf)
    if fmt == "parquet":
        from riskmap._extras import require

        require("pyarrow", f"{path}: ")
        gdf.attrs = {}  # e.g. the ValidationReport of read_sites: not file metadata (pandas would JSON it)
        with atomic_path(path) as tmp:
            gdf.to_parquet(tmp, index=False)
        return path
    if fmt == "shp":
        kinds = sorted(set(gdf.geom_type.str.replace("Multi", "")))
        if len(kinds) > 1:
            raise RiskmapInputError(
                f"{path}: a Shapefile holds one geometry type but these sites mix {', '.join(kinds)}; "
                "write a GeoPackage instead, or filter the sites by geometry type")
        return _write_shapefile(gdf.rename(columns=SHAPEFILE_NAMES), path)
    driver = {"geojson": "GeoJSON", "gpkg": "GPKG"}[fmt]
    with atomic_path(path) as tmp:
        # GeoJSON stores the layer name as its "name" member: the output's stem, never the
        # temporary file's random name (the output is byte-identical across runs)
        gdf.to_file(tmp, driver=driver, layer=layer if fmt == "gpkg" else path.stem,
                    **({"use_arrow": True} if fmt == "gpkg" and _USE_ARROW else {}))
    return path


#: Component files of a Shapefile (lower case; the set is replaced as a whole).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")


def _replace(src: Path, dst: Path) -> None:
    """``os.replace``; one place tests can make fail midway."""
    os.replace(src, dst)


def _shapefile_set(path: Path) -> list[Path]:
    """Existing component files of the Shapefile ``path`` (same stem, known extensions, any case)."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    try:
        return sorted(e for e in path.parent.iterdir()
                      if e.is_file() and e.name[: len(stem)] == stem
                      and e.name[len(stem):].lower() in SHAPEFILE_PARTS)
    except OSError:
        return []


def _write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a Shapefile as a set: all components or none.

    The new components are written into a temporary folder next to ``path``;
    the old set is moved aside into it, the new set moved in, and the old set
    deleted only then. If anything fails (or the process is interrupted by an
    exception), the new components moved so far are removed and the old set
    is moved back, so ``.shp``, ``.shx`` and ``.dbf`` always agree.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        tmpdir = _make_tmp_name(path, "", directory=True)
    except OSError as e:
        raise _output_error(path, e) from None
    try:
        new_dir = tmpdir / "new"
        old_dir = tmpdir / "old"
        new_dir.mkdir()
        old_dir.mkdir()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf.to_file(new_dir / path.name, driver="ESRI Shapefile", encoding="UTF-8")
        except _WRITE_ERRORS as e:
            raise _output_error(path, e) from None
        new_parts = sorted(new_dir.iterdir())
        old_parts = _shapefile_set(path)
        moved_old: list[Path] = []
        moved_new: list[Path] = []
        try:
            for f in old_parts:
                _replace(f, old_dir / f.name)
                moved_old.append(f)
            for f in new_parts:
                _replace(f, path.parent / f.name)
                moved_new.append(path.parent / f.name)
        except BaseException as e:
            for f in moved_new:
                with contextlib.suppress(OSError):
                    f.unlink()
            for f in moved_old:
                with contextlib.suppress(OSError):
                    os.replace(old_dir / f.name, f)
            if isinstance(e, _WRITE_ERRORS):
                raise _output_error(path, e) from None
            raise
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path


def write_layers(path: str | os.PathLike, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
                 metadata: Mapping[str, str] | None = None, styles: Mapping[str, str] | None = None) -> Path:
    """Write several layers into one GeoPackage, atomically (all or nothing).

    Non-spatial DataFrames are written as attribute tables. ``metadata``
    (str -> str, e.g. riskmap and data versions) is stored as every layer's
    GeoPackage metadata. ``styles`` (layer -> QGIS QML) are stored in QGIS's
    ``layer_styles`` table as each layer's default style, so QGIS opens the
    layers styled. An integer ``fid`` column becomes the feature id.
    """
    meta = dict(metadata) if metadata else None
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                out = _json_columns(frame.copy())
                out.to_file(tmp, layer=name, driver="GPKG", use_arrow=_USE_ARROW, metadata=meta)
            else:
                import pyogrio

                out = _json_columns(frame.copy())
                pyogrio.write_dataframe(out, tmp, layer=name, driver="GPKG", metadata=meta)
        if styles:
            _write_layer_styles(tmp, styles)
    return path


def _write_layer_styles(gpkg: Path, styles: Mapping[str, str]) -> None:
    """Add QGIS's ``layer_styles`` table (one default style per written spatial layer)."""
    import sqlite3

    import pyogrio

    con = sqlite3.connect(gpkg)
    try:
        geom_cols = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
    finally:
        con.close()
    rows = [{"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
             "f_geometry_column": geom_cols[name], "styleName": name, "styleQML": qml, "styleSLD": "",
             "useAsDefault": True, "description": f"riskmap default style of {name}", "owner": "riskmap",
             "ui": "", "update_time": pd.Timestamp("2000-01-01")}
            for name, qml in styles.items() if name in geom_cols]
    if rows:
        pyogrio.write_dataframe(pd.DataFrame(rows), gpkg, layer="layer_styles", driver="GPKG")


def read_layer(path: str | os.PathLike, layer: str) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage (or any vector file), with a clear error."""
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read layer {layer!r}: {e}") from None
