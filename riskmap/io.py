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
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapError, RiskmapInputError, RiskmapValidationError
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
            report.add(n_data, None, f"{len(r)} fields but the header has {len(head)}",
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
    report = ValidationReport(file=str(path))
    opts: dict[str, Any] = {"report": report, "line_offset": None, "decimal_comma": False}
    try:
        if fmt == "csv":
            df, dec = _read_csv_raw(path, report)
            opts.update(decimal_comma=dec, lines=df.attrs["lines"], rows=df.attrs["rows"])
        elif fmt == "xlsx":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                df = pd.read_excel(path, sheet_name=layer or 0, dtype=object, engine="openpyxl")
            opts["line_offset"] = 2
        elif fmt == "parquet":
            try:
                df = gpd.read_parquet(path)
            except ValueError:
                df = pd.read_parquet(path)
        else:
            kw: dict[str, Any] = {}
            if layer:
                kw["layer"] = layer
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


def read_sites(path: str | os.PathLike, *, strict: bool = False, layer: str | None = None,
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
    layer : str, optional
        Layer (GeoPackage) or sheet (XLSX) to read.
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
        ``sites.attrs["validation"]``.

    Raises
    ------
    RiskmapInputError
        The file cannot be read.
    RiskmapValidationError
        A required column is missing, or (strict mode) any row has an error.

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
    return sites


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
