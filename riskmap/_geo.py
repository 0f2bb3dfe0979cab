"""Small geodesic and local-projection helpers (bottom layer; no riskmap imports).

Distances in riskmap are kilometres measured on the WGS84 ellipsoid
(:data:`GEOD`) or in a local azimuthal-equidistant projection centred on the
area of interest (:func:`local_aeqd`), never in degrees.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyproj
import shapely

#: The WGS84 ellipsoid used for every geodesic measure.
GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_length_km(geoms: Iterable[shapely.Geometry] | shapely.Geometry) -> np.ndarray | float:
    """Geodesic length in km of (Multi)LineStrings given in lon/lat (EPSG:4326).

    Parameters
    ----------
    geoms : shapely geometry or iterable of them (a GeoSeries works)
        Line geometries in degrees lon/lat. ``None``/empty give NaN.

    Returns
    -------
    float or numpy.ndarray
        Length in km (a scalar for a single geometry).

    Examples
    --------
    >>> from shapely import LineString
    >>> round(geodesic_length_km(LineString([(19.0, 44.0), (19.0, 45.0)])), 1)
    111.1
    """
    if isinstance(geoms, shapely.Geometry):
        return float(GEOD.geometry_length(geoms)) / 1000.0
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(np.nan)
        else:
            out.append(GEOD.geometry_length(g) / 1000.0)
    return np.asarray(out, dtype=float)


def geodesic_area_km2(geoms: Iterable[shapely.Geometry] | shapely.Geometry) -> np.ndarray | float:
    """Geodesic area in km² of (Multi)Polygons given in lon/lat (EPSG:4326).

    Examples
    --------
    >>> from shapely import box
    >>> round(geodesic_area_km2(box(19, 44, 20, 45)), -2)
    8800.0
    """
    if isinstance(geoms, shapely.Geometry):
        return abs(float(GEOD.geometry_area_perimeter(geoms)[0])) / 1e6
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(np.nan)
        else:
            out.append(abs(GEOD.geometry_area_perimeter(g)[0]) / 1e6)
    return np.asarray(out, dtype=float)


def geodesic_distance_km(lon1, lat1, lon2, lat2) -> np.ndarray | float:
    """Geodesic distance(s) in km between points (vectorised over numpy arrays).

    Examples
    --------
    >>> round(geodesic_distance_km(19.0, 44.0, 19.0, 45.0), 1)
    111.1
    """
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2)))
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    d = np.asarray(d, dtype=float) / 1000.0
    return float(d) if d.ndim == 0 else d


def local_aeqd(lon: float, lat: float) -> pyproj.CRS:
    """Azimuthal-equidistant CRS (metres, WGS84) centred on ``(lon, lat)``.

    Distances from the centre are exact; within ~500 km of it, other distances
    and areas are distorted by well under 2 %, good enough for tolerances,
    buffers and nearest-neighbour searches (report final lengths geodesically).

    Examples
    --------
    >>> crs = local_aeqd(19.5, 43.5)
    >>> crs.axis_info[0].unit_name
    'metre'
    """
    return pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat:.6f} +lon_0={lon:.6f} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    )


def aeqd_for_bounds(bounds: tuple[float, float, float, float]) -> pyproj.CRS:
    """:func:`local_aeqd` centred on the middle of lon/lat ``bounds`` (minx, miny, maxx, maxy).

    Examples
    --------
    >>> aeqd_for_bounds((18.0, 42.0, 20.0, 44.0)).equals(local_aeqd(19.0, 43.0))
    True
    """
    minx, miny, maxx, maxy = bounds
    return local_aeqd(round((minx + maxx) / 2, 3), round((miny + maxy) / 2, 3))
