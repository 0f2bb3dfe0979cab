"""Sample user-supplied GeoTIFFs at sites and summarise them over areas.

riskmap ships no rasters: users bring their own (flood depth, population,
land cover, ...) and pass them as ``riskmap score --raster NAME=PATH``.
Geometries are reprojected to the raster's CRS, only the window around
each geometry is read (large rasters are never loaded whole) and nodata
pixels are ignored: a site outside the raster, or over nodata only, gets
``NaN``, never 0.

Buffers around sites are built in a local azimuthal equidistant projection
so a radius in km is a true distance, not degrees.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from riskmap._errors import RiskmapDataWarning, RiskmapInputError
from riskmap._geo import local_aeqd
from riskmap.i18n import _, ngettext
from riskmap.schema import AOI_BOXES

__all__ = ["sample", "zonal_stats", "buffer_km", "local_groups", "check_raster_name", "plausible_flood_depth",
           "warn_if_no_value", "STATS"]

#: Statistics :func:`zonal_stats` can compute.
STATS = ("mean", "max", "min", "sum", "median", "std", "count")


#: A raster name becomes column ``raster_<name>``: letters, digits and ``_``, then optionally
#: ``:<scenario>`` for a climate scenario of a Natech hazard (``flood:2050``).
_RASTER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}(?::[A-Za-z0-9_.-]{1,40})?")


def check_raster_name(name: str) -> str:
    """``name`` when it can name a raster (and its ``raster_<name>`` columns), else :class:`RiskmapInputError`.

    Examples
    --------
    >>> check_raster_name("flood_depth"), check_raster_name("flood:2050")
    ('flood_depth', 'flood:2050')
    >>> check_raster_name("bad name")
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: raster name 'bad name': use letters, digits and _ (e.g. flood_depth), optionally :SCENARIO
    """
    if not _RASTER_NAME.fullmatch(str(name)):
        raise RiskmapInputError(f"raster name {str(name)!r}: use letters, digits and _ (e.g. flood_depth), "
                                "optionally :SCENARIO")
    return str(name)


def plausible_flood_depth(depth: np.ndarray, path: Any) -> np.ndarray:
    """Flood depths with negative values (nodata the raster does not declare, e.g. -9999) as unknown, and warn.

    A negative depth is no depth: taken as it is it read as "dry" (flood class 0).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     plausible_flood_depth(np.array([0.5, -9999.0, np.nan]), "depth.tif").tolist()
    [0.5, nan, nan]
    """
    neg = np.isfinite(depth) & (depth < 0)
    if not neg.any():
        return depth
    warnings.warn(ngettext(
        "{path}: {n} site has a negative flood depth ({lowest} m: nodata the raster does not declare?); "
        "taken as unknown, its flood class comes from the distance to water only",
        "{path}: {n} sites have a negative flood depth (lowest {lowest} m: nodata the raster does not "
        "declare?); taken as unknown, their flood class comes from the distance to water only",
        int(neg.sum())).format(path=path, n=int(neg.sum()), lowest=f"{float(depth[neg].min()):g}"),
        RiskmapDataWarning, stacklevel=2)
    return np.where(neg, np.nan, depth)


# --------------------------------------------------------------------------
# Local projections (km-true distances and buffers)
# --------------------------------------------------------------------------


def _aeqd(lon0: float, lat0: float) -> pyproj.CRS:
    return local_aeqd(round(lon0, 4), round(lat0, 4))


def local_groups(geoms: gpd.GeoSeries) -> Iterator[tuple[pyproj.CRS, np.ndarray]]:
    """Split geometries (EPSG:4326) into regional groups, each with a local AEQD CRS.

    Sites inside one of riskmap's AOI boxes share a projection centred on that
    box; any others are grouped by 10-degree cell and centred on their mean.
    Within ~1000 km of the centre, AEQD distance errors stay below 0.5 %.
    Measuring in each group's CRS gives the distances of :func:`buffer_km`,
    :func:`riskmap.natech.natech` and the hazard context.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries with a CRS (or in lon/lat without one); missing and empty ones are in no group.

    Yields
    ------
    (crs, positions) : (pyproj.CRS, numpy.ndarray of int)
        A group's local AEQD and the positions of its geometries in ``geoms``.

    Examples
    --------
    >>> pts = gpd.GeoSeries(gpd.points_from_xy([19.3, 19.4, 70.9], [43.6, 43.7, 40.8]), crs="EPSG:4326")
    >>> [pos.tolist() for _crs, pos in local_groups(pts)]
    [[0, 1], [2]]
    """
    g = geoms.to_crs("EPSG:4326") if geoms.crs is not None else geoms
    valid = ~(g.isna() | g.is_empty).to_numpy()
    c = np.full((len(g), 2), np.nan)
    if valid.any():
        b = shapely.bounds(g.values[valid])
        c[valid, 0] = (b[:, 0] + b[:, 2]) / 2
        c[valid, 1] = (b[:, 1] + b[:, 3]) / 2
    assigned = ~valid
    for (x0, y0, x1, y1) in AOI_BOXES.values():
        m = ~assigned & (c[:, 0] >= x0) & (c[:, 0] <= x1) & (c[:, 1] >= y0) & (c[:, 1] <= y1)
        if m.any():
            yield _aeqd((x0 + x1) / 2, (y0 + y1) / 2), np.flatnonzero(m)
        assigned |= m
    rest = np.flatnonzero(~assigned)
    if len(rest):
        cells = np.floor(c[rest] / 10.0)
        keys = cells[:, 0] * 1000 + cells[:, 1]
        for k in np.unique(keys):
            pos = rest[keys == k]
            yield _aeqd(float(np.mean(c[pos, 0])), float(np.mean(c[pos, 1]))), pos


def _as_geoseries(geoms, what: str = "geometries") -> gpd.GeoSeries:
    if isinstance(geoms, gpd.GeoDataFrame):
        geoms = geoms.geometry
    if not isinstance(geoms, gpd.GeoSeries):
        raise RiskmapInputError(f"{what} must be a GeoSeries or GeoDataFrame, not {type(geoms).__name__}")
    if geoms.crs is None:
        raise RiskmapInputError(f"{what} have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    return geoms


def buffer_km(geoms: gpd.GeoSeries | gpd.GeoDataFrame, radius_km: float) -> gpd.GeoSeries:
    """Buffer geometries by a distance in kilometres (true distance, local AEQD).

    Parameters
    ----------
    geoms : geopandas.GeoSeries or GeoDataFrame
        Geometries with a CRS.
    radius_km : float
        Buffer distance in km (> 0).

    Returns
    -------
    geopandas.GeoSeries
        Buffers in EPSG:4326, same index; empty/missing geometries stay missing.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = buffer_km(gpd.GeoSeries([shapely.Point(19.3, 43.3)], crs=4326), 1.0)
    >>> round(float(b.to_crs(b.estimate_utm_crs()).area.iloc[0]) / 1e6, 2)
    3.14
    """
    g = _as_geoseries(geoms).to_crs("EPSG:4326")
    if not (radius_km > 0 and math.isfinite(radius_km)):
        raise RiskmapInputError(f"buffer radius must be a positive number of km, got {radius_km!r}")
    out = np.full(len(g), None, dtype=object)
    for crs, pos in local_groups(g):
        proj = g.iloc[pos].to_crs(crs)
        buf = gpd.GeoSeries(shapely.buffer(proj.values, radius_km * 1000.0, quad_segs=16), crs=crs)
        out[pos] = buf.to_crs("EPSG:4326").values
    return gpd.GeoSeries(out, index=g.index, crs="EPSG:4326")


# --------------------------------------------------------------------------
# Raster access
# --------------------------------------------------------------------------


def _open(raster_path):
    import rasterio

    p = os.fspath(raster_path)
    if not os.path.exists(p):
        raise RiskmapInputError(_("{path}: raster file not found").format(path=p))
    try:
        src = rasterio.open(p)
    except Exception as e:  # noqa: BLE001 - rasterio raises several kinds
        raise RiskmapInputError(_("{path}: cannot open as a raster ({error})").format(path=p, error=e)) from None
    if src.crs is None:
        src.close()
        raise RiskmapInputError(_("{path}: raster has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4326)").format(
            path=p))
    return src


def _check_band(src, band: int, path) -> None:
    if not (1 <= int(band) <= src.count):
        raise RiskmapInputError(_("{path}: band {band} does not exist (the raster has {n} band(s))").format(
            path=path, band=band, n=src.count))
    dtype = str(src.dtypes[int(band) - 1])
    if not np.issubdtype(_numpy_dtype(dtype), np.integer) and not np.issubdtype(_numpy_dtype(dtype), np.floating):
        raise RiskmapInputError(_(
            "{path}: band {band} holds {dtype} values, not real numbers; riskmap reads integer or floating-point "
            "rasters. Fix: convert the band (e.g. gdal_translate -ot Float32 IN.tif OUT.tif)").format(
            path=path, band=band, dtype=dtype))


def _numpy_dtype(name: str) -> np.dtype:
    """The numpy type of a GDAL/rasterio band type name (``complex_int16`` and unknown names as complex)."""
    try:
        return np.dtype(name)
    except TypeError:
        return np.dtype("complex128")


def _pixel_window(src, bounds: Sequence[float]) -> tuple[int, int, int, int] | None:
    """Row/col window (row0, row1, col0, col1) covering ``bounds``, clipped to the raster."""
    from rasterio.transform import rowcol

    minx, miny, maxx, maxy = bounds
    rows, cols = rowcol(src.transform, [minx, minx, maxx, maxx], [miny, maxy, miny, maxy],
                        op=math.floor)
    r0, r1 = max(min(rows), 0), min(max(rows) + 1, src.height)
    c0, c1 = max(min(cols), 0), min(max(cols) + 1, src.width)
    if r0 >= r1 or c0 >= c1:
        return None
    return r0, r1, c0, c1


def _valid_values(arr: np.ma.MaskedArray) -> np.ndarray:
    """Pixel values as floats, nodata and non-finite pixels (``inf``: no measurement) as ``NaN``."""
    vals = np.ma.filled(arr.astype("float64"), np.nan)
    vals[~np.isfinite(vals)] = np.nan
    return vals


def _lonlat_bounds(raster_path: str | os.PathLike) -> str:
    """The raster's extent in degrees (``lon 18.5..21.5, lat 41..44.5``), or its native bounds and CRS."""
    from rasterio.warp import transform_bounds

    with _open(raster_path) as src:
        try:
            x0, y0, x1, y1 = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
        except Exception:  # noqa: BLE001 - a CRS pyproj cannot transform: show the native bounds
            b = src.bounds
            return f"{b.left:g}..{b.right:g}, {b.bottom:g}..{b.top:g} ({src.crs})"
    return f"lon {x0:.4g}..{x1:.4g}, lat {y0:.4g}..{y1:.4g}"


def warn_if_no_value(values: np.ndarray, raster_path: str | os.PathLike, name: str) -> None:
    """Warn (:class:`RiskmapDataWarning`) when a raster gives no value at any site.

    Every site outside the raster or on nodata pixels means the raster's columns are
    unknown for the whole file: usually a raster of another area, or a wrong CRS.

    Examples
    --------
    >>> warn_if_no_value(np.array([0.5, np.nan]), "depth.tif", "flood_depth")  # a value: no warning
    """
    if not len(values) or np.isfinite(values).any():
        return
    n = len(values)
    warnings.warn(ngettext(
        "{path}: raster {name} gives no value at the {n} site (outside the raster, which covers {bounds}, or on "
        "nodata pixels): check the raster's area and CRS; its columns are unknown",
        "{path}: raster {name} gives no value at any of the {n} sites (outside the raster, which covers "
        "{bounds}, or on nodata pixels): check the raster's area and CRS; its columns are unknown",
        n).format(path=os.fspath(raster_path), name=name, n=n, bounds=_lonlat_bounds(raster_path)),
        RiskmapDataWarning, stacklevel=2)


def sample(points: gpd.GeoSeries | gpd.GeoDataFrame, raster_path: str | os.PathLike,
           band: int = 1) -> np.ndarray:
    """Raster value at each point (nearest pixel containing it).

    Parameters
    ----------
    points : geopandas.GeoSeries or GeoDataFrame
        Points (any CRS; lines and polygons use a representative point).
    raster_path : path-like
        A GeoTIFF (any GDAL raster) with a CRS.
    band : int
        1-based band number.

    Returns
    -------
    numpy.ndarray of float
        One value per point; ``NaN`` outside the raster, over nodata, or
        for missing geometries.

    Examples
    --------
    >>> sample(sites, "flood_depth.tif")  # doctest: +SKIP
    array([0.  , 1.25,  nan])
    """
    g = _as_geoseries(points, "points")
    n = len(g)
    out = np.full(n, np.nan)
    valid = ~(g.isna() | g.is_empty).to_numpy()
    if not valid.any():
        return out
    with _open(raster_path) as src:
        _check_band(src, band, raster_path)
        from rasterio.transform import rowcol
        from rasterio.windows import Window

        pts = g[valid].to_crs(src.crs)
        notpt = (pts.geom_type != "Point").to_numpy()
        if notpt.any():
            pts = pts.copy()
            pts[notpt] = pts[notpt].representative_point()
        xs, ys = shapely.get_x(pts.values), shapely.get_y(pts.values)
        rows, cols = rowcol(src.transform, xs, ys, op=math.floor)
        rows, cols = np.asarray(rows), np.asarray(cols)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        vals = np.full(len(pts), np.nan)
        if inside.any():
            r_in, c_in = rows[inside], cols[inside]
            r0, r1, c0, c1 = r_in.min(), r_in.max() + 1, c_in.min(), c_in.max() + 1
            if (r1 - r0) * (c1 - c0) <= 4_000_000:
                # one window around all points (cheap when they are clustered)
                arr = _valid_values(src.read(band, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True))
                vals[inside] = arr[r_in - r0, c_in - c0]
            else:
                # widely spread points over a big raster: one-pixel windows
                got = [
                    _valid_values(src.read(band, window=Window(int(c), int(r), 1, 1), masked=True))[0, 0]
                    for r, c in zip(r_in, c_in)
                ]
                vals[inside] = got
        out[valid] = vals
    return out


#: Most pixels :func:`zonal_stats` reads at once: a long corridor over a 10 m raster spans a window of
#: about 10^9 pixels (8 GB as floats), read strip by strip instead.
ZONAL_STRIP_PIXELS = 4_000_000


def _values_inside(src: Any, band: int, geom: Any, win: tuple[int, int, int, int],
                   all_touched: bool) -> tuple[np.ndarray, bool]:
    """The finite values of the pixels of window ``win`` inside ``geom``, and whether any pixel was inside.

    The window is read in strips of at most :data:`ZONAL_STRIP_PIXELS` pixels, so memory follows the
    pixels inside the geometry, not its bounding box.
    """
    from rasterio.features import geometry_mask
    from rasterio.windows import Window

    r0, r1, c0, c1 = win
    step = max(1, ZONAL_STRIP_PIXELS // max(c1 - c0, 1))
    parts, any_inside = [], False
    for top in range(r0, r1, step):
        w = Window(c0, top, c1 - c0, min(step, r1 - top))
        inside = geometry_mask([geom], out_shape=(int(w.height), int(w.width)), transform=src.window_transform(w),
                               invert=True, all_touched=all_touched)
        if not inside.any():
            continue
        any_inside = True
        vals = _valid_values(src.read(band, window=w, masked=True))[inside]
        parts.append(vals[np.isfinite(vals)])
    return (np.concatenate(parts) if parts else np.empty(0)), any_inside


def zonal_stats(geoms: gpd.GeoSeries | gpd.GeoDataFrame, raster_path: str | os.PathLike,
                stats: Iterable[str] = ("mean", "max"), band: int = 1,
                all_touched: bool = False) -> pd.DataFrame:
    """Summarise raster values inside each geometry (e.g. a buffer or corridor).

    A pixel counts when its centre lies in the geometry (``all_touched=False``);
    a geometry smaller than a pixel that contains no pixel centre falls back to
    every pixel it touches, so small site buffers still get a value.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or GeoDataFrame
        Polygons (points and lines are used as they are; buffer them first).
    raster_path : path-like
        A GeoTIFF with a CRS.
    stats : iterable of str
        Any of ``mean``, ``max``, ``min``, ``sum``, ``median``, ``std``, ``count``.
    band : int
        1-based band number.
    all_touched : bool
        Count every pixel the geometry touches.

    Returns
    -------
    pandas.DataFrame
        One column per statistic, indexed like ``geoms``. Geometries outside
        the raster or over nodata only give ``NaN`` (and ``count`` 0).

    Examples
    --------
    >>> zonal_stats(buffer_km(sites, 1.0), "population.tif", stats=("sum",))  # doctest: +SKIP
    """
    stats = tuple(stats)
    bad = [s for s in stats if s not in STATS]
    if bad:
        raise RiskmapInputError(f"unknown zonal statistic(s) {bad}; use any of {', '.join(STATS)}")
    g = _as_geoseries(geoms)
    res = {s: np.full(len(g), np.nan) for s in stats}
    if "count" in res:
        res["count"][:] = 0
    valid = ~(g.isna() | g.is_empty).to_numpy()
    with _open(raster_path) as src:
        _check_band(src, band, raster_path)
        proj = g.to_crs(src.crs).values
        for i in np.flatnonzero(valid):
            geom = proj[i]
            win = _pixel_window(src, shapely.bounds(geom))
            if win is None:
                continue
            vals, any_inside = _values_inside(src, band, geom, win, all_touched)
            if not any_inside and not all_touched:  # smaller than a pixel: every pixel it touches
                vals, _any = _values_inside(src, band, geom, win, True)
            if "count" in res:
                res["count"][i] = len(vals)
            if not len(vals):
                continue
            for s in stats:
                if s == "count":
                    continue
                res[s][i] = float(getattr(np, s)(vals))
    return pd.DataFrame(res, index=g.index)
