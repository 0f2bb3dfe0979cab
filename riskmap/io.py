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
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapDataWarning, RiskmapError, RiskmapInputError, RiskmapValidationError
from riskmap.schema import ValidationReport, column_names, validate_sites

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
    "sha256_file",
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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    If the body raises, the temporary file is removed and ``path`` is left
    untouched (an existing file is never half-overwritten).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "out.txt").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # drivers (GDAL) want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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


def neutralise_formula(value: Any) -> Any:
    """Make a text cell safe for spreadsheets.

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return would
    be run as a formula by Excel/LibreOffice; it gets a leading apostrophe.
    Other values are returned unchanged. :func:`read_sites` removes the
    apostrophe again, so a round trip keeps the text.

    Examples
    --------
    >>> neutralise_formula("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise_formula("Pljevlja")
    'Pljevlja'
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _unneutralise(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _read_csv_raw(path: Path, report: ValidationReport) -> tuple[pd.DataFrame, bool]:
    """Read a CSV as strings. Returns (frame, decimal_comma)."""
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
            sheet = _choose_layer(path, _xlsx_sheets(path), layer, "sheet", report)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
            opts["line_offset"] = 2
            df = _drop_uncached_formulas(path, sheet, df, report, opts)
        elif fmt == "parquet":
            try:
                df = gpd.read_parquet(path)
            except ValueError:
                df = pd.read_parquet(path)
        else:
            kw: dict[str, Any] = {}
            if fmt == "gpkg" or layer is not None:
                kw["layer"] = _choose_layer(path, _vector_layers(path), layer, "layer", report)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
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


def sites_to_table(sites: gpd.GeoDataFrame, *, neutralise: bool = True) -> pd.DataFrame:
    """Flatten a site GeoDataFrame into a plain table for CSV/XLSX.

    Columns: the schema columns in their stable order, then ``lon`` and
    ``lat`` (of the point, or of a representative point for lines and
    polygons), ``geometry_wkt`` (only for non-point geometries, else blank),
    then any extra columns in their existing order. List cells become JSON;
    text cells are formula-neutralised unless ``neutralise=False``.
    """
    g = sites.geometry.to_crs("EPSG:4326") if sites.crs is not None else sites.geometry
    rep = g.copy()
    is_pt = (g.geom_type == "Point").to_numpy()
    rep[~is_pt] = g[~is_pt].representative_point()
    schema = column_names()
    extra = [c for c in sites.columns if c not in schema and c != sites.geometry.name]
    table = pd.DataFrame(index=sites.index)
    for c in schema:
        table[c] = sites[c] if c in sites.columns else None
    table["lon"] = np.round(shapely.get_x(rep.values), 7)
    table["lat"] = np.round(shapely.get_y(rep.values), 7)
    table["geometry_wkt"] = [None if p else shapely.to_wkt(x, rounding_precision=7)
                             for p, x in zip(is_pt, g.values)]
    for c in extra:
        table[c] = sites[c]
    for c in table.columns:
        if table[c].dtype == object or pd.api.types.is_string_dtype(table[c]):
            col = table[c].map(_cell)
            table[c] = col.map(neutralise_formula) if neutralise else col
    if neutralise:  # a user column named "=HYPERLINK(...)" is a header cell too
        table.columns = [neutralise_formula(str(c)) for c in table.columns]
    return table.reset_index(drop=True)


def _table_to_csv_bytes(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


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
                table.to_excel(xw, sheet_name=layer[:31], index=False)
        return path
    gdf = sites.copy()
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    for c in gdf.columns:
        if c != gdf.geometry.name and gdf[c].dtype == object:
            gdf[c] = gdf[c].map(_cell)
    if fmt == "parquet":
        gdf.attrs = {}  # the validation report (and other attrs) is not JSON metadata
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
        kw: dict[str, Any] = {"driver": driver}
        if fmt == "gpkg":
            kw["layer"] = layer
        gdf.to_file(tmp, **kw)
    return path


def _write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        tmp = tmpdir / path.name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gdf.to_file(tmp, driver="ESRI Shapefile", encoding="UTF-8")
        for f in sorted(tmpdir.iterdir()):
            os.replace(f, path.parent / f.name)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return path


def write_layers(path: str | os.PathLike, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame]) -> Path:
    """Write several layers into one GeoPackage, atomically (all or nothing).

    Non-spatial DataFrames are written as attribute tables.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                out = frame.copy()
                for c in out.columns:
                    if c != out.geometry.name and out[c].dtype == object:
                        out[c] = out[c].map(_cell)
                out.to_file(tmp, layer=name, driver="GPKG")
            else:
                import pyogrio

                out = frame.copy()
                for c in out.columns:
                    if out[c].dtype == object:
                        out[c] = out[c].map(_cell)
                pyogrio.write_dataframe(out, tmp, layer=name, driver="GPKG")
    return path


def read_layer(path: str | os.PathLike, layer: str) -> gpd.GeoDataFrame:
    """Read one layer of a GeoPackage (or any vector file), with a clear error."""
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read layer {layer!r}: {e}") from None
