"""Validation of a site table against the schema (:mod:`riskmap.schema`).

:func:`validate_sites` reads raw records in steps -- column names, geometry
(vector geometry, or lon/lat columns with optional WKT), geometry repair and
range checks, then every schema column through its chain of per-column
validators (:func:`validators_for`, in :mod:`riskmap.column_validators`) -- and returns the valid rows plus a
:class:`~riskmap.schema.ValidationReport` naming row, line, column, reason and
fix for everything refused or repaired. A bottom-layer module: it imports only
``schema``, ``_errors`` and ``_iso3``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from riskmap._errors import RiskmapValidationError
from riskmap._dms import dms_to_decimal
from riskmap._geo import geodesic_distance_km
from riskmap.i18n import _
from riskmap.schema import (_BY_NAME, AOI_BOXES, COLUMNS, REQUIRED_COLUMNS, ValidationReport, _blank)

from riskmap.column_validators import _Cells, _Refused, _text_val, _to_number, validators_for
from riskmap.site_geometry import flatten_collections

__all__ = ["validate_sites", "validators_for"]


_LON_ALIASES = ("lon", "longitude", "lng", "long", "x")
_LAT_ALIASES = ("lat", "latitude", "y")


def _refuse_ambiguous_columns(df: pd.DataFrame, report: ValidationReport) -> None:
    """Refuse columns that differ only in case (``lon`` and ``LON``).

    riskmap looks these names up case-insensitively: which one would be used is not defined.
    """
    known = set(_BY_NAME) | set(_LON_ALIASES) | set(_LAT_ALIASES) | {"geometry_wkt"}
    groups: dict[str, list[str]] = {}
    for c in df.columns:
        if isinstance(df, gpd.GeoDataFrame) and c == df.geometry.name:
            continue
        groups.setdefault(str(c).lower(), []).append(str(c))
    clash = {k: v for k, v in groups.items() if len(v) > 1 and k in known}
    if not clash:
        return
    for k, cols in sorted(clash.items()):
        report.add(None, k, _("ambiguous columns {columns}: names differ only in case").format(
            columns=", ".join(repr(c) for c in cols)),
                   _("keep one of them (or rename the other, e.g. '{example}')").format(example=f"{cols[1]}_2"))
    raise RiskmapValidationError(report)


def _nonfinite_rows(geoms: np.ndarray) -> np.ndarray:
    """Boolean mask: geometries with a NaN or infinite coordinate."""
    bad = np.zeros(len(geoms), dtype=bool)
    if len(geoms):
        xy, idx = shapely.get_coordinates(geoms, return_index=True)
        if len(xy):
            bad[np.unique(idx[~np.isfinite(xy).all(axis=1)])] = True
    return bad


def _location_warnings(geoms: np.ndarray, rows: np.ndarray, countries: gpd.GeoDataFrame | None,
                       err: Any) -> None:
    """Warn (not refuse) about sites at (0, 0), far from riskmap's regions, or outside every country."""
    if not len(geoms):
        return
    rep = shapely.point_on_surface(geoms)
    x, y = shapely.get_x(rep), shapely.get_y(rep)
    zero = (np.abs(x) < 1e-9) & (np.abs(y) < 1e-9)
    far = ~zero & ~_in_aoi(x, y)
    for i in np.flatnonzero(zero):
        err(rows[i], "geometry", _("the site is at (0, 0), in the Gulf of Guinea: a missing coordinate written as 0?"),
            _("give the real coordinates, or leave them blank if unknown"), "warning")
    for i in np.flatnonzero(far):
        err(rows[i], "geometry",
            _("the site ({x}, {y}) is far from riskmap's basins (Drin, Drina in the Western Balkans; Syr Darya in "
              "Central Asia): wrong coordinates, or another continent?").format(x=f"{x[i]:.4g}", y=f"{y[i]:.4g}"),
            _("check the coordinates (lon/lat order, sign); it will be 'outside' in every assessment"), "warning")
    if countries is None or not len(countries):
        return
    near = np.flatnonzero(~zero & ~far)
    if not len(near):
        return
    land = _land(countries)
    on_land = shapely.intersects(land, geoms[near])
    for i in near[~on_land]:
        err(rows[i], "geometry",
            _("the site ({x}, {y}) is outside every country polygon (at sea, or wrong coordinates?)").format(
                x=f"{x[i]:.4g}", y=f"{y[i]:.4g}"),
            _("check the coordinates"), "warning")


_LAND_CACHE: dict[int, Any] = {}


def _land(countries: gpd.GeoDataFrame) -> Any:
    """Union of the country polygons in EPSG:4326, prepared for fast vectorised tests (cached)."""
    key = id(countries)
    if key not in _LAND_CACHE:
        c = countries.to_crs("EPSG:4326") if countries.crs is not None and not countries.crs.equals("EPSG:4326") \
            else countries
        land = shapely.union_all(np.asarray(c.geometry.values))
        shapely.prepare(land)
        _LAND_CACHE.clear()
        _LAND_CACHE[key] = (countries, land)  # keep the frame alive so its id is not reused
    return _LAND_CACHE[key][1]


def _in_aoi(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(lon), dtype=bool)
    for x0, y0, x1, y1 in AOI_BOXES.values():
        inside |= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside


#: A point site farther than this (km) from the country it names is reported (border towns keep a margin).
COUNTRY_MISMATCH_KM = 5.0


def _country_mismatch_warnings(sites: gpd.GeoDataFrame, countries: gpd.GeoDataFrame, rows: np.ndarray,
                               err: Any) -> None:
    """Warn where a point site's ``country`` is not the country it lies in (and it is not near that one)."""
    given = sites["country"].to_numpy(dtype=object)
    geoms = np.asarray(sites.geometry.values, dtype=object)
    cand = np.flatnonzero(pd.notna(given) & (shapely.get_type_id(geoms) == 0))
    if not len(cand):
        return
    c = countries.to_crs("EPSG:4326")[["iso3", "geometry"]]
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=geoms[cand], crs="EPSG:4326"), c, how="left", predicate="within")
    lies = j[~j.index.duplicated(keep="first")]["iso3"].reindex(range(len(cand))).to_numpy(dtype=object)
    odd = np.flatnonzero(pd.notna(lies) & (lies != given[cand]))
    by_code = dict(zip(c["iso3"], c.geometry))
    for k in odd:
        i, pt, own = cand[k], geoms[cand[k]], by_code.get(given[cand[k]])
        km = float("inf") if own is None else _km_to_nearest(pt, own)
        if km > COUNTRY_MISMATCH_KM:
            err(rows[i], "country", _("country {given} given, but the site lies in {lies}").format(
                given=given[i], lies=lies[k]),
                _("check the country code or the coordinates (the site's position decides the downstream path)"),
                "warning")


def _derive_country(sites: gpd.GeoDataFrame, countries: gpd.GeoDataFrame) -> None:
    """Fill blank ``country`` values from country polygons (in place).

    The ``site_id`` of every filled row goes to ``sites.attrs["country_derived"]``, so that
    :func:`riskmap.assess` says ``derived from location``, not ``ok``, in ``country_check``.
    """
    blank = sites["country"].isna().to_numpy()
    if not blank.any():
        return
    pts = sites.geometry[blank].representative_point()
    j = gpd.sjoin(gpd.GeoDataFrame(geometry=pts, crs=sites.crs),
                  countries[["iso3", "geometry"]].to_crs(sites.crs), how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    sites.loc[blank, "country"] = j["iso3"].reindex(sites.index[blank]).where(
        j["iso3"].notna(), None).to_numpy()
    filled = blank & sites["country"].notna().to_numpy()
    sites.attrs["country_derived"] = sorted(str(v) for v in sites.loc[filled, "site_id"])


def _on_border_warnings(sites: gpd.GeoDataFrame, countries: gpd.GeoDataFrame, rows: np.ndarray, err: Any) -> None:
    """Warn where a site without a country lies exactly on a border line: its location names no one country."""
    blank = np.flatnonzero(sites["country"].isna().to_numpy())
    if not len(blank):
        return
    pts = gpd.GeoDataFrame(geometry=sites.geometry.iloc[blank].representative_point().to_numpy(), crs=sites.crs)
    j = gpd.sjoin(pts, countries[["iso3", "geometry"]].to_crs(sites.crs), how="inner", predicate="intersects")
    for k, codes in j.groupby(level=0)["iso3"]:
        if codes.nunique() > 1:
            err(rows[blank[int(k)]], "country", _("the site lies exactly on the border of {codes}: its location "
                                                  "names no one country (assess takes one of them)").format(
                codes=" and ".join(sorted(set(codes)))),
                _("give the country in the 'country' column"), "warning")


def validate_sites(
    df: pd.DataFrame,
    *,
    file: str = "<memory>",
    strict: bool = False,
    line_offset: int | None = None,
    decimal_comma: bool = False,
    countries: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Validate a table of sites against the schema.

    Parameters
    ----------
    df : pandas.DataFrame or geopandas.GeoDataFrame
        Raw records. Either a geometry column (any CRS; reprojected to
        EPSG:4326) or ``lon``/``lat`` columns (aliases: longitude, lng, x;
        latitude, y) in WGS84 decimal degrees.
    file : str
        Name used in the report.
    strict : bool
        If True, raise :class:`~riskmap._errors.RiskmapValidationError` when any
        error is found; if False (lenient), keep the good rows and report the bad.
    line_offset : int, optional
        For text files: file line of data row 1 (2 for a CSV with one header
        line), so issues also name the line.
    decimal_comma : bool
        Accept ``1,5`` as 1.5 in numeric columns (semicolon-separated CSV).
    countries : geopandas.GeoDataFrame, optional
        Country polygons with an ``iso3`` column, used to derive ``country``
        when blank. Without it a blank country stays blank.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        The valid rows with every schema column, in schema order, EPSG:4326.
    report : ValidationReport

    Raises
    ------
    RiskmapValidationError
        In strict mode when the report holds errors, or in any mode when the
        file as a whole is unusable (e.g. a required column is missing).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"site_id": ["a"], "name": ["Mine"], "category": ["mine"],
    ...     "lon": [19.3], "lat": [43.3], "source": ["survey"], "coord_precision": ["exact"]})
    >>> sites, report = validate_sites(raw)
    >>> report.ok, len(sites)
    (True, 1)
    """
    report = ValidationReport(file=file, n_rows=len(df))
    cell_issues = df.attrs.get("coordinate_issues") or {}  # x/y cells read with --crs (riskmap.io)
    df = _normalised_columns(df, report)
    lower = {c.lower(): c for c in df.columns}
    cells = _Cells(report, len(df), line_offset, decimal_comma)
    has_geom = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns \
        and (~df.geometry.isna()).any()
    lon_col = next((lower[a] for a in _LON_ALIASES if a in lower), None)
    lat_col = next((lower[a] for a in _LAT_ALIASES if a in lower), None)
    _require_columns(df, report, has_geom, lon_col, lat_col)
    if has_geom:
        geoms = _geometry_column(df, cells)
    else:
        assert lon_col is not None and lat_col is not None  # _require_columns refused the file otherwise
        geoms = _lonlat_points(df, cells, lon_col, lat_col)
        for used, aliases in ((lon_col, _LON_ALIASES), (lat_col, _LAT_ALIASES)):
            _duplicate_coordinates(df, cells, used, [lower[a] for a in aliases[:-1] if a in lower], geoms)
        if "geometry_wkt" in lower:
            _wkt_geometries(df[lower["geometry_wkt"]].tolist(), geoms, cells)
    bad_before_geom = cells.bad.copy()
    flatten_collections(geoms, cells, "geometry" if has_geom else "geometry_wkt")
    _flatten_geometries(geoms, cells)
    _repair_geometries(geoms, cells, cell_issues)
    n_out_of_range = _check_lonlat_range(geoms, cells, has_geom)
    out = _column_values(df, cells)
    _extent_warnings(geoms, out["category"], cells, "geometry" if has_geom else "geometry_wkt")
    sites = _assemble(df, out, geoms, cells.bad, {lon_col, lat_col, "geometry_wkt", "geometry"})
    if has_geom and df.geometry.crs is None and n_out_of_range and n_out_of_range == int((~bad_before_geom).sum()):
        report.add(None, "geometry",
                   _("the coordinates are not longitude/latitude and the file declares no CRS "
                     "(a Shapefile without its .prj file?)"),
                   _("give the CRS, e.g. riskmap validate FILE --crs EPSG:32634 (the same --crs works with "
                     "every command), or add the .prj file"))
    _location_warnings(np.asarray(sites.geometry.values, dtype=object), np.flatnonzero(~cells.bad), countries,
                       cells.err)
    if countries is not None and len(sites):
        _country_mismatch_warnings(sites, countries, np.flatnonzero(~cells.bad), cells.err)
        _derive_country(sites, countries)
        _on_border_warnings(sites, countries, np.flatnonzero(~cells.bad), cells.err)
    report.n_kept = len(sites)
    report.issues.sort(key=lambda i: (i.row is not None, i.row or 0))
    if strict and not report.ok:
        raise RiskmapValidationError(report)
    return sites, report


def _normalised_columns(df: pd.DataFrame, report: ValidationReport) -> pd.DataFrame:
    """A copy with stripped header names and schema columns in lower case (ambiguity refused)."""
    df = df.copy()
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    _refuse_ambiguous_columns(df, report)
    rename = {c: c.lower() for c in df.columns if c.lower() in _BY_NAME and c != c.lower()}
    return df.rename(columns=rename)


def _require_columns(df: pd.DataFrame, report: ValidationReport, has_geom: bool,
                     lon_col: str | None, lat_col: str | None) -> None:
    """Refuse the whole file when a required column (or any location) is missing."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if not has_geom and (lon_col is None or lat_col is None):
        missing.append("lon/lat (or a geometry)")
    if missing and len(df) == 0:  # an empty FeatureCollection or layer: no columns to speak of
        report.add(None, None, _("the file has no features (no sites, no data rows)"),
                   _("check that this is the file meant; an empty layer or FeatureCollection has nothing to read"))
        raise RiskmapValidationError(report)
    if missing:
        for c in missing:
            report.add(None, c, _("required column is missing"),
                       _("add a column '{column}' (see docs/schema.md; found columns: {found})").format(
                           column=c, found=", ".join(map(str, df.columns)) or _("none")))
        raise RiskmapValidationError(report)


def _geometry_column(df: gpd.GeoDataFrame, cells: _Cells) -> np.ndarray:
    """The geometries of a vector file in EPSG:4326; non-finite ones refused."""
    err, bad = cells.err, cells.bad
    g = df.geometry
    nonfinite = _nonfinite_rows(np.asarray(g.values, dtype=object))
    for i in np.flatnonzero(nonfinite):
        err(i, "geometry", _("geometry has NaN or infinite coordinates"),
            _("give real coordinates, or remove the feature"))
    bad |= nonfinite
    if nonfinite.any():
        g = g.where(~nonfinite, None)
    if g.crs is None:
        err(None, "geometry", _("the file has no CRS; assumed WGS84 (EPSG:4326)"),
            _("declare the CRS in the file or pass crs="), "warning")
    elif not g.crs.equals("EPSG:4326"):
        try:
            g = g.to_crs("EPSG:4326")
        except Exception as e:  # noqa: BLE001 - pyproj: a CRS that cannot be transformed
            cells.report.add(None, "geometry", _("cannot reproject from {crs} to EPSG:4326 ({error})").format(
                crs=g.crs, error=e), _("reproject the file to EPSG:4326 first"))
            raise RiskmapValidationError(cells.report) from None
    geoms = np.asarray(g.values, dtype=object)
    after = _nonfinite_rows(geoms) & ~bad  # points outside the projection's domain
    for i in np.flatnonzero(after):
        err(i, "geometry", _("coordinates cannot be converted from {crs} to lon/lat (outside the projection's "
                             "area?)").format(crs=g.crs if df.crs is None else df.crs),
            _("check the coordinates and the file's CRS"))
    bad |= after
    return geoms


def _parse_coordinates(df: pd.DataFrame, cells: _Cells, lon_col: str, lat_col: str
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes as numbers (NaN where blank or unparseable, reported)."""
    n = cells.n
    lons = np.full(n, np.nan)
    lats = np.full(n, np.nan)
    for i, (xv, yv) in enumerate(zip(df[lon_col].tolist(), df[lat_col].tolist())):
        for col, v, arr in ((lon_col, xv, lons), (lat_col, yv, lats)):
            if _blank(v):
                cells.err(i, col, _("coordinate is blank"), _("give decimal degrees (WGS84)"))
                cells.bad[i] = True
                continue
            try:
                arr[i] = _to_number(v, cells.decimal_comma)
            except ValueError as e:
                dms = dms_to_decimal(str(v))
                cells.err(i, col, _("unparseable coordinate: {error}").format(error=e),
                          _("write decimal degrees with a point, e.g. 43.3563") if dms is None else
                          _("it is written in degrees, minutes, seconds: write {value} (decimal degrees)").format(
                              value=f"{dms:.6g}".replace(".", "," if cells.decimal_comma else ".")))
                cells.bad[i] = True
    return lons, lats


def _lonlat_points(df: pd.DataFrame, cells: _Cells, lon_col: str, lat_col: str) -> np.ndarray:
    """Points from lon/lat columns; projected, swapped and out-of-range coordinates refused."""
    err, bad, n = cells.err, cells.bad, cells.n
    lons, lats = _parse_coordinates(df, cells, lon_col, lat_col)
    ok = ~bad
    projected = ok & ((np.abs(lons) > 360) | (np.abs(lats) > 360))
    in_aoi = _in_aoi(lons, lats)
    in_aoi_swapped = _in_aoi(lats, lons)
    # swapped: the point is outside riskmap's regions (or out of range) but
    # falls inside one when latitude and longitude are exchanged
    swapped_range = np.zeros(n, dtype=bool)
    swapped_aoi = ok & ~projected & ~in_aoi & in_aoi_swapped
    out_range = ok & ~projected & ~swapped_aoi & ((np.abs(lons) > 180) | (np.abs(lats) > 90))
    for i in np.flatnonzero(projected):
        err(i, f"{lon_col}/{lat_col}",
            _("coordinates ({lon}, {lat}) look projected (metres), not degrees").format(
                lon=f"{lons[i]:g}", lat=f"{lats[i]:g}"),
            _("reproject to WGS84 lon/lat, or load the file with crs='EPSG:xxxx' "
              "(e.g. riskmap validate FILE --crs EPSG:32634)"))
    for i in np.flatnonzero(swapped_range | swapped_aoi):
        err(i, f"{lon_col}/{lat_col}",
            _("latitude and longitude are probably swapped (lon={lon}, lat={lat})").format(
                lon=f"{lons[i]:g}", lat=f"{lats[i]:g}"),
            _("swap them: lon={lon}, lat={lat}").format(lon=f"{lats[i]:g}", lat=f"{lons[i]:g}"))
    for i in np.flatnonzero(out_range):
        col = lat_col if abs(lats[i]) > 90 else lon_col
        err(i, col, _("coordinate out of range (lon={lon}, lat={lat})").format(
            lon=f"{lons[i]:g}", lat=f"{lats[i]:g}"),
            _("longitude must be within -180..180 and latitude within -90..90"))
    bad |= projected | swapped_range | swapped_aoi | out_range
    pts = shapely.points(np.where(bad, 0.0, lons), np.where(bad, 0.0, lats))
    out = np.asarray(pts, dtype=object)
    out[bad] = None
    return out


def _duplicate_coordinates(df: pd.DataFrame, cells: _Cells, used: str, present: list[str], geoms: np.ndarray) -> None:
    """Two columns for one coordinate (``lon`` and ``longitude``): say which is used, refuse rows where they differ.

    ``present`` are the degree columns of one axis found in the file (``x``/``y`` are not compared:
    they may hold projected metres beside the degrees).
    """
    others = [c for c in present if c != used]
    if not others:
        return
    cells.err(None, used, _("columns {columns} give the same coordinate; {used} is used").format(
        columns=", ".join(repr(c) for c in [used, *others]), used=repr(used)),
        _("keep one column, or check that they agree"), "warning")
    for other in others:
        for i, (a, b) in enumerate(zip(df[used].tolist(), df[other].tolist())):
            if cells.bad[i] or _blank(a) or _blank(b):
                continue
            try:
                x, y = _to_number(a, cells.decimal_comma), _to_number(b, cells.decimal_comma)
            except ValueError:
                x, y = a, b
            if x != y and not (isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-7):
                cells.err(i, other, _("{used} is {a} but {other} is {b}: the two columns disagree").format(
                    used=used, a=a, other=other, b=b), _("correct one of them, or delete the column not meant"))
                cells.bad[i] = True
                geoms[i] = None


#: A lon/lat label point farther than this (km) from the row's WKT geometry is reported (the WKT is used).
WKT_LONLAT_MAX_KM = 10.0


def _wkt_geometries(wkts: list[Any], geoms: np.ndarray, cells: _Cells) -> None:
    """Lines/polygons in tabular files: WKT wins over the lon/lat label point (in place).

    A label point farther than :data:`WKT_LONLAT_MAX_KM` from the WKT geometry is a warning: one of the
    two is wrong, and the site is placed by the WKT.
    """
    for i, w in enumerate(wkts):
        if cells.bad[i] or _blank(w):
            continue
        label = geoms[i]
        try:
            geoms[i] = shapely.from_wkt(str(w))
        except shapely.errors.GEOSException as e:
            cells.err(i, "geometry_wkt", _("unparseable WKT geometry ({error})").format(error=e),
                      _("give a WKT LineString/Polygon in lon/lat, or leave blank for points"))
            cells.bad[i] = True
            continue
        if _nonfinite_rows(np.array([geoms[i]], dtype=object))[0]:
            cells.err(i, "geometry_wkt", _("WKT geometry has NaN or infinite coordinates"),
                      _("give real lon/lat coordinates"))
            cells.bad[i] = True
            continue
        km = _label_distance_km(label, geoms[i])
        if km > WKT_LONLAT_MAX_KM:
            cells.err(i, "geometry_wkt", _("the lon/lat point lies {km} km from the WKT geometry; the site is "
                                           "placed by the WKT").format(km=f"{km:,.0f}"),
                      _("check which of the two is right"), "warning")


def _label_distance_km(label: Any, geom: Any) -> float:
    """Geodesic km from a lon/lat label point to the nearest point of ``geom`` (0 without a usable label)."""
    if not isinstance(label, shapely.Point) or label.is_empty or geom is None or geom.is_empty:
        return 0.0
    if not (-180 <= label.x <= 180 and -90 <= label.y <= 90):
        return 0.0
    return _km_to_nearest(label, geom)


def _km_to_nearest(pt: shapely.Point, geom: Any) -> float:
    """Geodesic km from a lon/lat point to the nearest point of a lon/lat geometry."""
    near = shapely.ops.nearest_points(geom, pt)[0]
    return float(geodesic_distance_km(pt.x, pt.y, near.x, near.y))


def _flatten_geometries(geoms: np.ndarray, cells: _Cells) -> None:
    """2-D geometries, one-point MultiPoints as Points (in place): one geometry type per output layer.

    Z (and M) values are dropped with one warning per row: riskmap works on the map plane, and one 3-D
    site turned the whole GeoPackage layer 3-D.
    """
    ok = np.flatnonzero(~cells.bad)
    g = np.asarray(geoms[ok], dtype=object)
    has_z = np.asarray(shapely.has_z(g), dtype=bool)
    for i in ok[has_z]:
        cells.err(i, "geometry", _("Z coordinates dropped (riskmap works in 2-D)"),
                  _("nothing to do, or give 2-D coordinates"), "warning")
    g = shapely.force_2d(g)
    single = (shapely.get_type_id(g) == 4) & (shapely.get_num_geometries(g) == 1)
    g[single] = shapely.get_geometry(g[single], 0)
    geoms[ok] = g


def _repair_geometries(geoms: np.ndarray, cells: _Cells, cell_issues: dict[int, Any]) -> None:
    """Refuse empty geometries (with the x/y cell's reason when known); repair invalid ones and warn (in place)."""
    for i in range(cells.n):
        if cells.bad[i]:
            continue
        gm = geoms[i]
        if gm is None or gm.is_empty:
            cells.err(i, *cell_issues.get(i, ("geometry", _("geometry is empty"),
                                               _("give a point (lon/lat) or a polygon footprint"))))
            cells.bad[i] = True
            continue
        if not gm.is_valid:
            why = shapely.is_valid_reason(gm)
            fixed = shapely.make_valid(gm)
            if fixed.geom_type == "GeometryCollection":
                polys = [p for p in fixed.geoms if p.geom_type in ("Polygon", "MultiPolygon")]
                fixed = shapely.union_all(polys) if polys else fixed
            geoms[i] = fixed
            cells.err(i, "geometry", _("invalid geometry ({why}); repaired with make_valid").format(why=why),
                      _("check the repaired footprint"), "warning")


def _check_lonlat_range(geoms: np.ndarray, cells: _Cells, has_geom: bool) -> int:
    """Refuse geometries outside lon/lat range or crossing the antimeridian; return how many were outside."""
    err = cells.err
    gcol = "geometry" if has_geom else "geometry_wkt"
    cand = np.flatnonzero(~cells.bad)
    b = shapely.bounds(np.asarray(geoms[cand], dtype=object)) if len(cand) else np.zeros((0, 4))
    outside = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    wide = ~outside & (b[:, 2] - b[:, 0] > 180)
    for k in np.flatnonzero(outside):
        if has_geom:
            err(cand[k], gcol, _("geometry coordinates outside lon/lat range (projected data without a CRS?)"),
                _("declare the file's CRS or reproject it to EPSG:4326"))
        else:
            err(cand[k], gcol, _("WKT coordinates outside lon/lat range (x {x0}..{x1}, y {y0}..{y1}): projected "
                                 "(metres)?").format(x0=f"{b[k, 0]:g}", x1=f"{b[k, 2]:g}", y0=f"{b[k, 1]:g}",
                                                     y1=f"{b[k, 3]:g}"),
                _("write the WKT in WGS84 longitude/latitude degrees"))
    for k in np.flatnonzero(wide):
        err(cand[k], gcol, _("geometry spans {degrees} degrees of longitude: it crosses the antimeridian (or mixes "
                             "hemispheres) and would become a band around the globe").format(
                                 degrees=f"{b[k, 2] - b[k, 0]:.0f}"),
            _("split it at 180 degrees, or check the coordinates' signs"))
    cells.bad[cand[outside | wide]] = True
    return int(outside.sum())


#: Largest plausible extent (km, bounding-box diagonal) of one site's line or area; pipelines are longer.
MAX_SITE_EXTENT_KM = {"pipeline": 2500.0, None: 500.0}


def _extent_warnings(geoms: np.ndarray, categories: list[Any], cells: _Cells, column: str) -> None:
    """Warn about a site line or area larger than any one site (a 4,000 km line: wrong coordinates?)."""
    cand = np.flatnonzero(~cells.bad & (shapely.get_type_id(np.asarray(geoms, dtype=object)) > 0))
    if not len(cand):
        return
    b = shapely.bounds(np.asarray(geoms[cand], dtype=object))
    km = np.atleast_1d(geodesic_distance_km(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
    for k, i in enumerate(cand):
        limit = MAX_SITE_EXTENT_KM.get(categories[i], MAX_SITE_EXTENT_KM[None])
        if km[k] > limit:
            cells.err(i, column, _("the site's geometry spans {km} km, more than {limit} km for one {category} site "
                                   "(wrong coordinates, or several sites in one feature)").format(
                km=f"{km[k]:,.0f}", limit=f"{limit:,.0f}", category=categories[i]),
                _("check the coordinates; split it into one feature per site"), "warning")


def _column_values(df: pd.DataFrame, cells: _Cells) -> dict[str, list[Any]]:
    """Every schema column's checked values (None/NaN where absent); refused cells mark their row bad."""
    n = cells.n
    out: dict[str, list[Any]] = {c.name: [None] * n for c in COLUMNS}
    for c in COLUMNS:
        if c.name not in df.columns:
            continue
        chain = validators_for(c)
        for i, v in enumerate(df[c.name].tolist()):
            value = None if c.kind == "number" else _text_val(v)
            try:
                for check in chain:
                    value = check(c, v, value, cells, i)
            except _Refused as r:
                cells.err(i, c.name, r.reason, r.fix)
                cells.bad[i] = True
                continue
            out[c.name][i] = value
    out["status"] = [s if s is not None else "unknown" for s in out["status"]]
    return out


def _assemble(df: pd.DataFrame, out: dict[str, list[Any]], geoms: np.ndarray, bad: np.ndarray,
              used: set[Any]) -> gpd.GeoDataFrame:
    """The kept rows: schema columns in order, then the columns outside the schema, EPSG:4326."""
    keep = ~bad
    data = {c.name: [v for v, k in zip(out[c.name], keep) if k] for c in COLUMNS}
    frame = pd.DataFrame(data)
    for c in COLUMNS:
        frame[c.name] = frame[c.name].astype("float64" if c.kind == "number" else "object")
        if c.kind != "number":
            frame[c.name] = frame[c.name].where(frame[c.name].notna(), None)
    # columns outside the schema are kept (after the schema columns), never dropped silently
    if isinstance(df, gpd.GeoDataFrame):
        used = used | {df.geometry.name}
    extra = [c for c in df.columns if c not in _BY_NAME and c not in used]
    for c in extra:
        frame[c] = [v for v, k in zip(df[c].tolist(), keep) if k]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(list(geoms[keep]), crs="EPSG:4326"), crs="EPSG:4326")
