"""Transboundary exposure: where a site's water goes, and whose it is.

:func:`assess` enriches a site inventory with its basin, sub-basin and
country, the distance to the nearest international border, the river reach
it drains to and the ordered list of countries downstream, the river
distance and travel time to the first border, and an exposure class.
:func:`exposure_matrix` summarises the result as origin country x downstream
country counts per basin.

Everything is vectorised over sites: per basin, riskmap precomputes once
(and caches) a lookup grid for the polygons, k-d trees over the densified
reaches and borders, and per reach x origin country tables of what lies
downstream; the sites are then resolved by integer array look-ups. The
method, its accuracy and the exposure-class rule are documented in
``docs/exposure.md``.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.schema import DIVIDE_BUFFER_KM as DIVIDE_BUFFER_BY_PRECISION
from riskmap.schema import set_aside_computed, settle_computed
from riskmap._errors import RiskmapInputError
from riskmap.basins import BASIN_IDS
from riskmap.basin_index import (_BasinIndex, _basin_index, _clean_codes,  # noqa: F401  (re-exported)
                                 PolygonLabeler, _resolve_basins, SegmentIndex, clear_cache, format_continuation)
from riskmap.exposure_basin import _assess_basin, _BasinSites
from riskmap.flowgrid import load_flowgrid
from riskmap.river_length import km_range
from riskmap.population import (POP_FIRST_KM, POP_RADIUS_KM, POPULATION_COLUMNS,  # noqa: F401  (re-exported)
                                _population_columns, downstream_population, load_places)

#: ``river_km_basis`` of a site that enters a lake shared by countries at its shore (its first border is
#: the straight line to the shore); :mod:`riskmap.spill_release` starts such a release at the shore too.
SHARED_LAKE_SHORE = "straight line to the shore of a shared lake (lower bound)"

__all__ = [
    "BASIN_IDS",
    "EXPOSURE_CLASSES",
    "EXPOSURE_COLUMNS",
    "POPULATION_COLUMNS",
    "assess",
    "clear_cache",
    "downstream_population",
    "load_places",
    "exposure_matrix",
    "format_continuation",
]

#: Columns added by :func:`assess`, in order.
EXPOSURE_COLUMNS: tuple[str, ...] = (
    "basin", "sub_basin", "in_basin", "country", "country_check", "border_km", "border_neighbour",
    "reach_id", "reach_name", "snap_km", "drainage_by", "reach_frac", "downstream_countries",
    "first_border_river_km", "first_border_river_km_low", "first_border_river_km_high", "outlet_river_km",
    "river_km_basis", "continuation", "travel_time_h",
    "transboundary_downstream", "near_border", "on_border_water", "exposure_class",
)

#: Exposure classes, most to least exposed (see ``docs/exposure.md``).
EXPOSURE_CLASSES: tuple[str, ...] = ("very high", "high", "medium", "low", "outside")

#: First border within this river distance (km) makes a transboundary site "very high".
VERY_HIGH_RIVER_KM = 10.0
#: First border within this river distance (km) makes a transboundary site "high".
HIGH_RIVER_KM = 50.0

# --------------------------------------------------------------------------
# assess
# --------------------------------------------------------------------------


def _site_points(sites: gpd.GeoDataFrame, idxs: list[_BasinIndex] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of each site.

    The point itself, or for lines and footprints a point on their longest part inside a
    basin outline (else a representative point).
    """
    g = sites.geometry
    if g.crs is not None and not g.crs.equals("EPSG:4326"):
        g = g.to_crs("EPSG:4326")
    arr = g.to_numpy()
    lon = np.full(len(arr), np.nan)
    lat = np.full(len(arr), np.nan)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    is_pt = ok & (shapely.get_type_id(arr) == 0)
    if is_pt.any():
        lon[is_pt] = shapely.get_x(arr[is_pt])
        lat[is_pt] = shapely.get_y(arr[is_pt])
    other = np.flatnonzero(ok & ~is_pt)
    if len(other):  # lines (pipelines) and footprints
        rp = shapely.point_on_surface(arr[other])
        best = np.zeros(len(other))
        ob = shapely.bounds(arr[other])
        for ix in idxs or []:
            x0, y0, x1, y1 = ix.bounds  # sites off the outline's box: no part inside, nothing to intersect
            meet = np.flatnonzero((ob[:, 2] >= x0) & (ob[:, 0] <= x1) & (ob[:, 3] >= y0) & (ob[:, 1] <= y1))
            part = shapely.intersection(arr[other][meet], ix.outline)
            size = np.where(shapely.get_dimensions(arr[other][meet]) == 1, shapely.length(part), shapely.area(part))
            better = size > best[meet]
            if better.any():
                best[meet[better]] = size[better]
                rp[meet[better]] = shapely.point_on_surface(part[better])
        miss = best == 0  # wholly outside: the point of the site nearest to a basin (divide buffer)
        if miss.any() and idxs:
            near_d = np.full(int(miss.sum()), np.inf)
            for ix in idxs:
                link = shapely.shortest_line(arr[other][miss], ix.outline)
                d = shapely.length(link)  # degrees: only to pick the nearest basin
                closer = d < near_d
                near_d[closer] = d[closer]
                sub = rp[miss]
                sub[closer] = shapely.get_point(link[closer], 0)
                rp[miss] = sub
        lon[other], lat[other] = shapely.get_x(rp), shapely.get_y(rp)
    return lon, lat


def _divide_buffers(sites: gpd.GeoDataFrame, divide_buffer_km: float | None) -> np.ndarray:
    """Divide buffer (km) per site: one value, or by ``coord_precision`` (lines: ``lines``)."""
    n = len(sites)
    if divide_buffer_km is not None:
        return np.full(n, float(divide_buffer_km))
    table = DIVIDE_BUFFER_BY_PRECISION
    prec = sites["coord_precision"] if "coord_precision" in sites.columns else pd.Series([None] * n)
    codes, uniq = pd.factorize(pd.Series(prec.to_numpy(dtype=object)), use_na_sentinel=True)  # few distinct
    buf = np.append(pd.Series(uniq, dtype=object).map(table).to_numpy(dtype="float64"), np.nan)[codes]
    buf = np.where(np.isnan(buf), table["exact"], buf)
    not_pt = ~(shapely.get_type_id(sites.geometry.to_numpy()) == 0)
    return np.where(not_pt, np.fmax(buf, table["lines"]), buf)


def _divide_buffer_caps(basins: list[Any], divide_buffer_km: float | None) -> np.ndarray:
    """Largest divide buffer (km) per basin: ``meta["divide_buffer_max_km"]`` (inf when absent).

    A basin whose outline is drawn between densely mapped neighbouring river systems (the Drin and
    Drina reference outlines) caps the per-precision buffer at its own divide uncertainty, so a
    town 5-10 km beyond such a divide is not pulled in (``docs/exposure.md``). An explicit
    ``divide_buffer_km`` is never capped.
    """
    caps = np.full(len(basins), np.inf)
    if divide_buffer_km is not None:
        return caps
    for k, b in enumerate(basins):
        cap = (getattr(b, "meta", None) or {}).get("divide_buffer_max_km")
        if isinstance(cap, (int, float)) and cap >= 0:
            caps[k] = float(cap)
    return caps


def _basin_of_sites(idxs: list[_BasinIndex], lon: np.ndarray, lat: np.ndarray, buf_km: np.ndarray,
                    buf_cap_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Basin of each site: by outline, then by divide buffer.

    Parameters
    ----------
    idxs : list of _BasinIndex
        The basins' lookup indexes.
    lon, lat : numpy.ndarray
        Site points (degrees).
    buf_km : numpy.ndarray
        Per site, the divide buffer (km) within which a site outside every outline is
        allocated to the nearest basin.
    buf_cap_km : numpy.ndarray
        Per basin, the cap on ``buf_km``.

    Returns
    -------
    bsel : numpy.ndarray of intp
        Position in ``idxs`` of each site's basin, -1 for none.
    in_basin : numpy.ndarray of bool
        True where the site lies inside the basin outline (not only within the buffer).
    """
    n = len(lon)
    bsel = np.full(n, -1, dtype=np.intp)
    for k, ix in enumerate(idxs):
        x0, y0, x1, y1 = ix.bounds
        cand = np.flatnonzero((bsel < 0) & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        if len(cand):
            hit = ix.outline_lab.label(lon[cand], lat[cand]) >= 0
            bsel[cand[hit]] = k
    in_basin = bsel >= 0
    max_buf = float(np.max(buf_km, initial=0.0))
    if max_buf > 0:
        best_d = np.full(n, np.inf)
        pad = max_buf / 60.0 + 0.05  # degrees; generous (1 deg lat ~ 111 km)
        for k, ix in enumerate(idxs):
            x0, y0, x1, y1 = ix.bounds
            padx = pad / max(math.cos(math.radians(max(abs(y0), abs(y1)))), 0.2)
            cand = np.flatnonzero(~in_basin & np.isfinite(lon) & (lon >= x0 - padx) & (lon <= x1 + padx)
                                  & (lat >= y0 - pad) & (lat <= y1 + pad))
            if not len(cand):
                continue
            x, y = ix.to_xy.transform(lon[cand], lat[cand])
            r = ix.outline_edge.nearest(np.asarray(x), np.asarray(y), max_dist=max_buf * 1000.0)
            d = r["dist"]
            lim_km = np.fmin(buf_km[cand], buf_cap_km[k])
            better = np.isfinite(d) & (d <= lim_km * 1000.0) & (d < best_d[cand])
            best_d[cand[better]] = d[better]
            bsel[cand[better]] = k
    return bsel, in_basin


def assess(sites: gpd.GeoDataFrame, basins: Any = None, *, max_snap_km: float = 5.0,
           near_border_km: float = 10.0, velocity_ms: float = 1.0,
           divide_buffer_km: float | None = None, data_dir: Any = None) -> gpd.GeoDataFrame:
    """Find each site's basin, downstream countries and transboundary exposure.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Site inventory (any CRS; lines and polygons use a representative point).
    basins : None, str, Basin or list of them
        Basins to assess against: ``None`` for all three bundled basins, basin
        ids (loaded with :func:`riskmap.hydrography.load_basin`) or ``Basin``
        objects.
    max_snap_km : float
        Largest distance (km) at which a site is snapped to the nearest river
        reach ("river snap"); farther sites are allocated to the nearest reach
        of their sub-basin ("basin allocation").
    near_border_km : float
        ``near_border`` is True when ``border_km`` is at most this.
    velocity_ms : float
        Mean flow velocity (m/s) used for ``travel_time_h``.
    divide_buffer_km : float, optional
        Sites outside every outline but within this distance (km) of one are
        allocated to the nearest basin (``in_basin`` False). Default: by
        ``coord_precision`` from :data:`riskmap.schema.DIVIDE_BUFFER_KM` (exact
        2 km, approximate 5, town/estimated 10, lines 5), the same rule the
        inventory build uses; 2 km when the precision is missing. A basin may cap it
        at its own divide uncertainty (``divide_buffer_max_km`` in ``basins.json``: 3 km
        for the Drin and Drina); an explicit value is not capped.
    data_dir : path, optional
        Data folder passed to :func:`riskmap.hydrography.load_basin`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``sites`` (same index and order) with the columns of
        :data:`EXPOSURE_COLUMNS` added (``country`` is filled where blank).

    Examples
    --------
    >>> import riskmap
    >>> from riskmap.exposure import assess
    >>> sites = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv")  # doctest: +SKIP
    >>> out = assess(sites)  # doctest: +SKIP
    >>> out[["name", "country", "downstream_countries", "exposure_class"]].head()  # doctest: +SKIP
    """
    _check_options(sites, max_snap_km, near_border_km, velocity_ms, divide_buffer_km)
    bobjs = _resolve_basins(basins, data_dir)
    idxs = [_basin_index(b) for b in bobjs]
    grids = [load_flowgrid(b) for b in bobjs]  # DEM-built basins: sites located on the flow grid
    # country is a schema column (filled where blank); basin is written by `riskmap data build-sites` and
    # recomputed here (docs/schema.md, "Columns riskmap computes")
    sites, moved = set_aside_computed(sites, [c for c in EXPOSURE_COLUMNS if c not in ("country", "basin")])
    n = len(sites)
    lon, lat = _site_points(sites, idxs)
    # ---- 1. basin by outline, then divide buffer -------------------------
    bsel, in_basin = _basin_of_sites(idxs, lon, lat, _divide_buffers(sites, divide_buffer_km),
                                     _divide_buffer_caps(bobjs, divide_buffer_km))
    cols = _new_columns(n, in_basin)
    given, derived = _given_countries(sites)
    for k, ix in enumerate(idxs):
        rows = np.flatnonzero(bsel == k)
        if len(rows):
            _assess_basin(_BasinSites(ix=ix, k=k, rows=rows, lon=lon[rows], lat=lat[rows], given=given[rows],
                                      grid=grids[k]), cols, max_snap_km=max_snap_km)
    # ---- assemble ---------------------------------------------------------
    out = sites.copy()
    _write_location_columns(out, cols, given)
    _keep_derived_country(out, derived)
    has_path, trans, fb = _write_river_columns(out, cols, idxs, velocity_ms)
    _write_exposure_flags(out, cols, has_path, trans, fb, near_border_km)
    # ---- downstream population: GeoNames places along the path (data/sites/places.csv) ----
    pop = _population_columns(out, basins, data_dir)
    for c in POPULATION_COLUMNS:
        out[c] = pop[c]
    out.attrs["exposure"] = {"max_snap_km": max_snap_km, "near_border_km": near_border_km,
                             "velocity_ms": velocity_ms,
                             "divide_buffer_km": divide_buffer_km if divide_buffer_km is not None
                             else dict(DIVIDE_BUFFER_BY_PRECISION),
                             "basins": [ix.id for ix in idxs]}
    return settle_computed(out, moved, "assess")


def _classify(has_path: np.ndarray, trans: np.ndarray, first_km: np.ndarray, on_water: np.ndarray,
              near: np.ndarray, basin: np.ndarray) -> np.ndarray:
    """The exposure-class rule (documented in ``docs/exposure.md``)."""
    fk = np.nan_to_num(first_km, nan=np.inf)
    in_b = pd.notna(basin)
    at = EXPOSURE_CLASSES.index  # positions in EXPOSURE_CLASSES: one string object per class, not per site
    k = np.select(
        [~in_b,
         has_path & (on_water | (trans & (fk <= VERY_HIGH_RIVER_KM))),
         (trans & (fk <= HIGH_RIVER_KM)) | near,
         trans],
        [at("outside"), at("very high"), at("high"), at("medium")], default=at("low"))
    return np.array(EXPOSURE_CLASSES, dtype=object)[k]


def _check_options(sites: Any, max_snap_km: float, near_border_km: float, velocity_ms: float,
                   divide_buffer_km: float | None) -> None:
    """Raise :class:`RiskmapInputError` for a non-GeoDataFrame or an out-of-range setting of :func:`assess`."""
    if not isinstance(sites, gpd.GeoDataFrame):
        raise RiskmapInputError("assess: sites must be a GeoDataFrame")
    if not (max_snap_km >= 0 and near_border_km >= 0 and (divide_buffer_km is None or divide_buffer_km >= 0)):
        raise RiskmapInputError("assess: max_snap_km, near_border_km and divide_buffer_km must be >= 0")
    if not (velocity_ms > 0 and math.isfinite(velocity_ms)):
        raise RiskmapInputError(f"assess: velocity_ms must be a positive number, got {velocity_ms!r}")


def _new_columns(n: int, in_basin: np.ndarray) -> dict[str, Any]:
    """The per-site work arrays :func:`_assess_basin` fills (unknown everywhere to start with)."""
    return {
        "basin": np.full(n, None, dtype=object), "sub_basin": np.full(n, None, dtype=object),
        "in_basin": in_basin, "country_poly": np.full(n, None, dtype=object),
        "border_km": np.full(n, np.nan), "border_neighbour": np.full(n, None, dtype=object),
        "reach_id": np.full(n, -1, dtype=np.int64), "reach_name": np.full(n, None, dtype=object),
        "snap_km": np.full(n, np.nan), "drainage_by": np.full(n, "none", dtype=object),
        "ds_basin": np.full(n, -1, dtype=np.intp), "ds_code": np.zeros(n, dtype=np.int64),
        "first_border_river_km": np.full(n, np.nan), "outlet_river_km": np.full(n, np.nan),
        "continuation": np.full(n, None, dtype=object), "on_border_water": np.zeros(n, dtype=bool),
        "reach_is_border": np.zeros(n, dtype=bool), "reach_frac": np.full(n, np.nan),
        "cross_km": np.full(n, np.nan), "dem_network": np.zeros(n, dtype=bool), "shore_km": np.full(n, np.nan),
        "given_origin": np.zeros(n, dtype=bool),
    }


def _keep_derived_country(out: gpd.GeoDataFrame, derived: np.ndarray) -> None:
    """Put back the country ``read_sites`` derived where assess found none (a site outside every basin)."""
    back = pd.notna(derived) & out["country"].isna().to_numpy()
    if back.any():
        out.loc[back, "country"] = derived[back]


def _given_countries(sites: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ``country`` codes the file gave, and those it did not give but were derived (None elsewhere).

    Codes :func:`riskmap.read_sites` filled in from the location (``attrs["country_derived"]``,
    by ``site_id``), and codes an assessed file read back marks ``derived from location`` in its
    ``country_check`` (set aside as ``country_check_input``), count as not given.
    """
    n = len(sites)
    if "country" not in sites.columns:
        return np.full(n, None, dtype=object), np.full(n, None, dtype=object)
    given = np.array(_clean_codes(sites["country"]), dtype=object)  # a writable copy
    not_given = np.zeros(n, dtype=bool)
    ids = sites.attrs.get("country_derived")
    if ids and "site_id" in sites.columns:
        not_given |= sites["site_id"].astype(str).isin(set(ids)).to_numpy()
    if "country_check_input" in sites.columns:
        not_given |= (sites["country_check_input"].astype(object) == "derived from location").to_numpy()
    derived = np.full(n, None, dtype=object)
    derived[not_given] = given[not_given]
    given[not_given] = None
    return given, derived


def _obj(out: pd.DataFrame, v: np.ndarray) -> pd.Series:
    """An object column of ``out`` (no per-row string conversion)."""
    return pd.Series(v, index=out.index, dtype=object)


def _write_location_columns(out: gpd.GeoDataFrame, cols: dict[str, Any], given: np.ndarray) -> None:
    """Basin, sub-basin, country (given, else from the location) and its check, border, reach and snap columns."""
    n = len(out)
    poly = cols["country_poly"]
    has_given = pd.notna(given)
    has_poly = pd.notna(poly)
    country = np.where(has_given, given, poly)
    check = np.full(n, None, dtype=object)
    check[has_given & has_poly & (given == poly)] = "ok"
    diff = has_given & has_poly & (given != poly)
    check[diff] = np.array([f"differs: location is in {p}" for p in poly[diff]], dtype=object)
    near = np.flatnonzero(diff & cols["given_origin"])  # the path starts in the given country (exposure_basin)
    check[near] = [f"differs: location is in {p}, {k:.1f} km from the border line; given country used"
                   for p, k in zip(poly[near], cols["border_km"][near])]
    check[~has_given & has_poly] = "derived from location"
    check[~has_poly] = "not checked (outside the basin countries)"
    check[~has_poly & pd.isna(cols["basin"])] = "not checked (outside the basins)"
    out["basin"] = _obj(out, cols["basin"])
    out["sub_basin"] = _obj(out, cols["sub_basin"])
    out["in_basin"] = cols["in_basin"]
    out["country"] = _obj(out, country)
    out["country_check"] = _obj(out, check)
    out["border_km"] = cols["border_km"]
    out["border_neighbour"] = _obj(out, cols["border_neighbour"])
    rid = cols["reach_id"]
    out["reach_id"] = pd.array(np.where(rid >= 0, rid, 0), dtype="Int64")
    out.loc[rid < 0, "reach_id"] = pd.NA
    out["reach_name"] = _obj(out, cols["reach_name"])
    out["snap_km"] = cols["snap_km"]
    out["drainage_by"] = _obj(out, cols["drainage_by"])
    out["reach_frac"] = cols["reach_frac"]


def _downstream_lists(cols: dict[str, Any], idxs: list[_BasinIndex]) -> tuple[np.ndarray, np.ndarray]:
    """``downstream_countries`` (one list object per distinct path, shared by its sites) and their lengths."""
    n = len(cols["ds_basin"])
    ds = np.empty(n, dtype=object)
    ds_len = np.zeros(n, dtype=np.int64)
    for k, ix in enumerate(idxs):
        sel = np.flatnonzero(cols["ds_basin"] == k)
        if not len(sel):
            continue
        codes = cols["ds_code"][sel]
        lens = np.array([len(t) for t in ix.ds_lists], dtype=np.int64)
        ds_len[sel] = lens[codes]
        objs = np.empty(len(ix.ds_lists), dtype=object)
        for j, t in enumerate(ix.ds_lists):  # one list per distinct path (shared by its sites)
            objs[j] = list(t)
        ds[sel] = objs[codes]
    return ds, ds_len


def _write_river_columns(out: gpd.GeoDataFrame, cols: dict[str, Any], idxs: list[_BasinIndex],
                         velocity_ms: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Downstream countries, river distances (with their basis and range) and travel time.

    Returns ``(has_path, transboundary, first_border_river_km)``.
    """
    n = len(out)
    ds, ds_len = _downstream_lists(cols, idxs)
    has_path = cols["ds_basin"] >= 0
    out["downstream_countries"] = _obj(out, ds)
    fb = cols["first_border_river_km"].copy()
    dto = cols["outlet_river_km"].copy()
    # Sites allocated to a reach beyond max_snap_km drain through an unmapped
    # stretch at least as long as the straight line to that reach: add it, so the
    # distances stay lower bounds but are not shortened by the map's gaps. When the
    # allocated reach is already foreign, the border is crossed on the unmapped
    # stretch, which is at least as long as the straight line to the nearest border.
    alloc = cols["drainage_by"] == "basin allocation"
    snap = np.nan_to_num(cols["snap_km"], nan=0.0)
    crossed_off_map = alloc & (fb == 0.0) & ~cols["on_border_water"]
    basis = np.full(n, None, dtype=object)
    basis[has_path] = "river"
    basis[has_path & alloc] = "straight line to allocated reach + river (lower bound)"
    fb = np.where(alloc & ~crossed_off_map, fb + snap, fb)
    fb = np.where(crossed_off_map, np.fmin(cols["border_km"], snap), fb)
    basis[has_path & crossed_off_map] = "border crossed off the mapped network: straight line to border (lower bound)"
    dto = np.where(alloc, dto + snap, dto)
    # A site allocated to a reach in a lake shared by countries, with the lake's shore within max_snap_km:
    # its water enters the shared lake at the shore, not at the allocated reach's line in the lake's middle
    lake = alloc & (cols["first_border_river_km"] == 0.0) & np.isfinite(cols["shore_km"])
    fb = np.where(lake, cols["shore_km"], fb)
    basis[has_path & lake] = SHARED_LAKE_SHORE
    # DEM flow path: the overland path from the site's own cell is part of the route
    demp = cols["drainage_by"] == "dem flow path"
    crossed_overland = demp & np.isfinite(cols["cross_km"])
    fb = np.where(demp, fb + snap, fb)
    fb = np.where(crossed_overland, cols["cross_km"], fb)
    dto = np.where(demp, dto + snap, dto)
    basis[has_path & demp] = "DEM flow path from the site's cell + river"
    basis[has_path & crossed_overland] = "DEM flow path from the site's cell (border crossed overland)"
    out["first_border_river_km"] = fb
    lower_bound = alloc
    out["first_border_river_km_low"], out["first_border_river_km_high"] = km_range(  # river_length: the spread
        fb, cols["dem_network"], lower_bound)
    out["outlet_river_km"] = dto
    out["river_km_basis"] = _obj(out, basis)
    out["continuation"] = _obj(out, cols["continuation"])
    out["travel_time_h"] = fb * 1000.0 / velocity_ms / 3600.0
    return has_path, has_path & (ds_len > 0), fb


def _write_exposure_flags(out: gpd.GeoDataFrame, cols: dict[str, Any], has_path: np.ndarray, trans: np.ndarray,
                          fb: np.ndarray, near_border_km: float) -> None:
    """``transboundary_downstream``, ``near_border``, ``on_border_water`` (nullable) and ``exposure_class``."""
    out["transboundary_downstream"] = pd.array(np.where(has_path, trans, False), dtype="boolean")
    out.loc[~has_path, "transboundary_downstream"] = pd.NA
    bk = cols["border_km"]
    near = pd.array(bk <= near_border_km, dtype="boolean")
    near[np.isnan(bk)] = pd.NA
    out["near_border"] = near
    obw = pd.array(cols["on_border_water"], dtype="boolean")
    obw[~has_path] = pd.NA
    out["on_border_water"] = obw
    out["exposure_class"] = _obj(out, _classify(has_path, trans, fb, cols["on_border_water"],
                                                np.nan_to_num(bk, nan=np.inf) <= near_border_km, cols["basin"]))


# --------------------------------------------------------------------------
# Matrix
# --------------------------------------------------------------------------


def exposure_matrix(assessed: pd.DataFrame, basin: str | None = None,
                    weight: str | None = None) -> pd.DataFrame:
    """Origin country x downstream country counts of sites, per basin.

    A site counts once for every country its water reaches after leaving
    the origin country (``downstream_countries``; border stretches such as
    ``"BIH|SRB"`` count for both countries, the origin itself excluded).

    Parameters
    ----------
    assessed : DataFrame
        Output of :func:`assess`.
    basin : str, optional
        Keep only this basin.
    weight : str, optional
        Column to sum instead of counting (e.g. a hazard score); missing
        weights are skipped, not counted as 0.

    Returns
    -------
    pandas.DataFrame
        Index (``basin``, ``origin``), one column per downstream country
        (sorted), plus ``sites`` (number of sites of that origin, or their
        summed weight) and ``transboundary`` (those with any downstream
        country). Cells are 0 where no site of the origin reaches the country;
        with ``weight``, NaN where sites reach it but all their weights are missing.

    Examples
    --------
    >>> m = exposure_matrix(assess(sites), basin="drina")  # doctest: +SKIP
    >>> m.loc[("drina", "MNE"), "BIH"]  # doctest: +SKIP
    """
    for c in ("basin", "country", "downstream_countries"):
        if c not in assessed.columns:
            raise RiskmapInputError(f"exposure_matrix: column {c!r} missing; run assess() first")
    df = assessed[assessed["basin"].notna()]
    if basin is not None:
        df = df[df["basin"] == basin]
    if weight is not None:
        if weight not in df.columns:
            raise RiskmapInputError(f"exposure_matrix: weight column {weight!r} not found")
        w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=float)
    else:
        w = np.ones(len(df))
    origin = pd.Series(_clean_codes(df["country"]), dtype=object).fillna("unknown").to_numpy(dtype=object)
    # group identical paths first (few distinct ones), then expand each group once
    keys = [v if isinstance(v, str) else tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else ()
            for v in df["downstream_countries"].to_numpy()]
    g = (pd.DataFrame({"basin": df["basin"].to_numpy(dtype=object), "origin": origin,
                       "key": pd.Series(keys, dtype=object).to_numpy(), "w": w})
         .groupby(["basin", "origin", "key"], sort=False, dropna=False)["w"].sum(min_count=1).reset_index())
    recs = []
    base = []
    for b, o, key, wi in g.itertuples(index=False):
        lst = _as_list(key if isinstance(key, str) else list(key))
        base.append((b, o, wi, bool(lst)))
        seen: set[str] = set()
        for e in lst:
            for c in str(e).split("|"):
                if c and c != o and c not in seen:
                    seen.add(c)
                    recs.append((b, o, c, wi))
    bdf = pd.DataFrame(base, columns=["basin", "origin", "w", "trans"])
    if bdf.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["basin", "origin"]),
                            columns=["sites", "transboundary"], dtype=float)
    tot = bdf.groupby(["basin", "origin"])["w"].sum(min_count=1).rename("sites")
    tr = bdf[bdf["trans"]].groupby(["basin", "origin"])["w"].sum(min_count=1).rename("transboundary")
    if recs:
        r = pd.DataFrame(recs, columns=["basin", "origin", "to", "w"])
        grp = r.groupby(["basin", "origin", "to"])["w"]
        # 0 where no site of the origin reaches the country; NaN (unknown) where sites
        # reach it but all their weights are missing: missing never becomes 0
        mat = grp.sum(min_count=1).unstack("to").where(grp.size().unstack("to").notna(), 0.0)
        mat = mat[sorted(mat.columns)]
    else:
        mat = pd.DataFrame(index=tot.index)
    mat = mat.reindex(tot.index, fill_value=0.0)  # origins whose sites reach no other country
    mat["sites"] = tot
    has_tr = bdf[bdf["trans"]].groupby(["basin", "origin"]).size().reindex(tot.index).notna()
    mat["transboundary"] = tr.reindex(tot.index).where(has_tr, 0.0)
    mat.columns.name = None
    if weight is None:
        mat = mat.astype(int)
    return mat


def _as_list(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return []
    if isinstance(v, str):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            return [s for s in v.split(",") if s]
    return list(v)
