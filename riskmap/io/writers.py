"""Writing sites and layers in every supported format, atomically."""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import (RiskmapInputError)
from riskmap.schema import column_names
from riskmap.io.atomic import (_USE_ARROW, _WRITE_ERRORS, _kind_error, _make_tmp_name, _output_error, atomic_path,
                               atomic_write_bytes, output_target, remove_stale_temps)
from riskmap.io.cells import (_json_columns, _neutralise_column, json_cells, neutralise_formula,
                              refuse_long_xlsx_cells, xlsx_safe_frame)
from riskmap.io.formats import SHAPEFILE_NAMES, output_format


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


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


def table_to_csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV: exactly the bytes of ``DataFrame.to_csv`` (minimal quoting, ``\\n``).

    Built column-wise with Arrow compute kernels (:func:`_fast_csv_bytes`) when
    every column has a plain type, which is many times faster than pandas'
    row writer for large tables; any other table goes through pandas. The CSV
    outputs of :func:`write_sites` and :func:`riskmap.export.export` are written
    with it. Text cells must already be formula-neutralised.

    Parameters
    ----------
    table : pandas.DataFrame
        The table (its index is not written; missing values are empty cells).

    Returns
    -------
    bytes
        The CSV, UTF-8 without BOM, lines ending in ``\\n``.

    Examples
    --------
    >>> table_to_csv_bytes(pd.DataFrame({"name": ["Bajina Bašta", "a,b"], "km": [1.5, None]}))
    b'name,km\\nBajina Ba\\xc5\\xa1ta,1.5\\n"a,b",\\n'
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
    if pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt):
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
    fmt = output_format(path, fmt)
    if fmt in ("csv", "xlsx"):
        table = sites_to_table(sites)
        if fmt == "csv":
            return atomic_write_bytes(path, table_to_csv_bytes(table))
        refuse_long_xlsx_cells(table, path)  # openpyxl would cut the cell to 32,767 characters with a warning
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


def _shapefile_entries(path: Path) -> list[Path]:
    """Existing entries of any kind named like a component of the Shapefile ``path`` (any case)."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    try:
        return sorted(e for e in path.parent.iterdir()
                      if e.name[: len(stem)] == stem and e.name[len(stem):].lower() in SHAPEFILE_PARTS)
    except OSError:
        return []


def _shapefile_set(path: Path) -> list[Path]:
    """Existing component files of the Shapefile ``path`` (same stem, known extensions, any case)."""
    return [e for e in _shapefile_entries(path) if e.is_file()]


def _check_shapefile_parts(path: Path, target: Path) -> None:
    """Refuse to replace a Shapefile component that is not a regular file (a link, a pipe, a folder ...)."""
    for e in _shapefile_entries(target):
        with contextlib.suppress(FileNotFoundError):
            err = _kind_error(path, os.lstat(e).st_mode, f"its component file {e} is")
            if err is not None:
                raise err


def _write_shapefile(gdf: gpd.GeoDataFrame, path: Path) -> Path:
    """Write a Shapefile as a set: all components or none.

    The new components are written into a temporary folder next to ``path``;
    the old set is moved aside into it, the new set moved in, and the old set
    deleted only then. If anything fails (or the process is interrupted by an
    exception), the new components moved so far are removed and the old set
    is moved back, so ``.shp``, ``.shx`` and ``.dbf`` always agree.
    """
    out, path = path, output_target(path)  # a link to a .shp: the set is written next to the linked file
    _check_shapefile_parts(out, path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        tmpdir = _make_tmp_name(path, "", directory=True)
    except OSError as e:
        raise _output_error(out, e) from None
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
            raise _output_error(out, e) from None
        new_parts = sorted(new_dir.iterdir())
        old_parts = _shapefile_set(path)
        moved_old: list[Path] = []
        moved_new: list[Path] = []
        try:
            for f in old_parts:
                os.replace(f, old_dir / f.name)
                moved_old.append(f)
            for f in new_parts:
                os.replace(f, path.parent / f.name)
                moved_new.append(path.parent / f.name)
        except BaseException as e:
            for f in moved_new:
                with contextlib.suppress(OSError):
                    f.unlink()
            for f in moved_old:
                with contextlib.suppress(OSError):
                    os.replace(old_dir / f.name, f)
            if isinstance(e, _WRITE_ERRORS):
                raise _output_error(out, e) from None
            raise
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return out


def write_layers(path: str | os.PathLike, layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
                 metadata: Mapping[str, str] | None = None, styles: Mapping[str, str] | None = None,
                 empty_types: Mapping[str, str] | None = None) -> Path:
    """Write several layers into one GeoPackage, atomically (all or nothing).

    Non-spatial DataFrames are written as attribute tables. ``metadata``
    (str -> str, e.g. riskmap and data versions) is stored as every layer's
    GeoPackage metadata. ``styles`` (layer -> QGIS QML) are stored in QGIS's
    ``layer_styles`` table as each layer's default style, so QGIS opens the
    layers styled. An integer ``fid`` column becomes the feature id.
    ``empty_types`` (layer -> geometry type, e.g. ``Point``) is the type of a
    layer written without features (GDAL would call it 'Unknown').
    """
    meta = dict(metadata) if metadata else None
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                out = _json_columns(frame.copy())
                kind = (empty_types or {}).get(name) if out.empty else None
                out.to_file(tmp, layer=name, driver="GPKG", use_arrow=_USE_ARROW, metadata=meta,
                            **({"geometry_type": kind} if kind else {}))
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
