"""Downstream population: GeoNames places along each site's downstream path.

:func:`downstream_population` counts the people living in places within
``POP_RADIUS_KM`` of the river downstream of each assessed site -- in the
first ``POP_FIRST_KM`` km, to the first border, in total and per country --
using the basin index of :mod:`riskmap.basin_index`. :func:`load_places`
reads the bundled places table. :func:`riskmap.exposure.assess` adds these
columns too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import aeqd_for_bounds
from riskmap.basin_index import _basin_index, _resolve_basins
from riskmap.network import network_of
from riskmap.spatial_index import _project


__all__ = ["POPULATION_COLUMNS", "downstream_population", "load_places", "prefix_sums_per_path", "searchsorted_per_path"]


#: Columns added by :func:`downstream_population` (and by :func:`assess`).
POPULATION_COLUMNS: tuple[str, ...] = (
    "downstream_pop_first_km", "downstream_pop_to_border", "downstream_pop_total", "downstream_pop_by_country",
    "downstream_places_first_km",
)
#: Default distance (km) from the river within which a place counts, and length of the first stretch (km).
POP_RADIUS_KM = 5.0
POP_FIRST_KM = 50.0


def load_places(path: Any = None) -> gpd.GeoDataFrame:
    """The bundled places layer ``data/sites/places.csv`` (GeoNames, population >= 1,000) as points.

    Columns: ``geonameid``, ``name``, ``country`` (ISO3), ``population``, ``basin_box``, geometry (EPSG:4326).
    """
    from riskmap._paths import DATA_DIR  # read when called: tests and the CLI may point it elsewhere

    p = Path(path) if path is not None else DATA_DIR / "sites" / "places.csv"
    if not p.exists():
        raise RiskmapInputError(f"{p}: places layer not found; run `riskmap data build-sites`")
    t = pd.read_csv(p, dtype={"geonameid": str, "name": str, "country": str, "basin_box": str})
    return gpd.GeoDataFrame(t.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(t["lon"], t["lat"]),
                            crs="EPSG:4326")


def _projected_reaches(basin: Any) -> tuple[Any, np.ndarray, tuple[float, float, float, float]]:
    """(local CRS, reach geometries in it in table order, lon/lat bounds of the reaches) of a basin.

    From the basin's exposure index (:mod:`riskmap.basin_index`, cached on disk): the reaches
    projected to :func:`riskmap._geo.aeqd_for_bounds` of their own bounds.
    """
    ix = _basin_index(basin)
    if ix.reach_bounds is None:
        raise RiskmapInputError(f"basin {ix.id!r}: no reaches")
    return aeqd_for_bounds(ix.reach_bounds), ix.reach_proj, ix.reach_bounds


def _population_columns(assessed: gpd.GeoDataFrame, basins: Any, data_dir: Any) -> pd.DataFrame:
    """:func:`downstream_population` with the defaults; all missing when the places layer is absent."""
    try:
        own = None if data_dir is None else os.path.join(str(data_dir), "sites", "places.csv")
        places = load_places(own if own is not None and os.path.exists(own) else None)
    except RiskmapInputError:
        return pd.DataFrame({c: pd.Series(np.nan if c != "downstream_pop_by_country" else None,
                                          index=assessed.index, dtype=float if c != "downstream_pop_by_country"
                                          else object) for c in POPULATION_COLUMNS})
    return downstream_population(assessed, basins, places, data_dir=data_dir)


def downstream_population(assessed: pd.DataFrame, basins: Any = None, places: gpd.GeoDataFrame | None = None, *,
                          radius_km: float = POP_RADIUS_KM, first_km: float = POP_FIRST_KM,
                          data_dir: Any = None) -> pd.DataFrame:
    """Population of the places along each site's downstream path, within ``radius_km`` of the river.

    Places within ``radius_km`` of each reach are found once per basin (an
    STRtree query in the basin's local azimuthal equidistant projection); for
    each distinct start reach the downstream path (reaches to the basin outlet,
    :meth:`riskmap.hydrography.Basin.downstream_path`) then takes every place
    near one of its reaches, positioned at its nearest reach of the path
    (km from the path's start: lengths of the reaches above plus the position
    on that reach). A place counts for a site when it lies at or below the
    site's own position on the start reach: where its route joins it (``reach_frac``; the
    nearest point of the reach when the frame has none). Sums of GeoNames population:

    - ``downstream_pop_first_km``: the first ``first_km`` km of the path;
    - ``downstream_pop_to_border``: up to ``first_border_river_km`` (the whole
      path when the water never leaves the site's country inside the basin);
    - ``downstream_pop_total``: the whole path to the basin outlet (the
      continuation beyond the outlet is not mapped);
    - ``downstream_pop_by_country``: JSON object ISO3 -> population (whole path);
    - ``downstream_places_first_km``: number of such places in the first ``first_km`` km.

    Sites without a downstream path get missing values (never 0); 0 means no
    place of the layer is near the path. For sites allocated to a reach beyond
    the snapping distance (``drainage_by = "basin allocation"``) the path
    starts at that reach and the straight line to it (``snap_km``) is added to
    the along-path km, as for ``first_border_river_km``; places along the
    unmapped stretch are not counted. Places below the layer's threshold
    (1,000 inhabitants) or without a population in GeoNames are not counted, so
    the sums are lower bounds.

    Parameters
    ----------
    assessed : pandas.DataFrame
        Output of :func:`assess` (``basin``, ``reach_id``, ``first_border_river_km``,
        ``transboundary_downstream`` and a geometry).
    basins : None, str, Basin or list
        As in :func:`assess`.
    places : geopandas.GeoDataFrame, optional
        Points with ``population`` and ``country`` (default :func:`load_places`).
    radius_km, first_km : float
        Distance from the river (km) and length of the first stretch (km).

    Returns
    -------
    pandas.DataFrame
        :data:`POPULATION_COLUMNS`, indexed like ``assessed``.

    Examples
    --------
    >>> from riskmap import DATA_DIR, read_sites
    >>> from riskmap.exposure import assess
    >>> sites = read_sites(DATA_DIR / "sites" / "sites.csv")
    >>> assessed = assess(sites[sites["basin"] == "drina"], "drina")
    >>> pop = downstream_population(assessed, "drina")
    >>> bool((pop["downstream_pop_total"].dropna() >= pop["downstream_pop_first_km"].dropna()).all())
    True
    """
    if not (radius_km >= 0 and first_km >= 0):
        raise RiskmapInputError("downstream_population: radius_km and first_km must be >= 0")
    n = len(assessed)
    out = {c: np.full(n, np.nan) for c in POPULATION_COLUMNS if c != "downstream_pop_by_country"}
    out["by_country"] = np.full(n, None, dtype=object)
    places = load_places() if places is None else places.to_crs("EPSG:4326")
    bmap = {b.id: b for b in _resolve_basins(basins, data_dir)}
    site = _site_inputs(assessed)
    if site["geom"] is None:
        return _frame(out, assessed.index, radius_km, first_km)
    for bid, basin in bmap.items():
        rows = np.flatnonzero((site["basin"] == bid) & np.isfinite(site["rid"]))
        if len(rows):
            _basin_population(out, rows, site, _place_pairs(basin, places, radius_km), first_km)
    return _frame(out, assessed.index, radius_km, first_km)


def _site_inputs(assessed: pd.DataFrame) -> dict[str, Any]:
    """The columns of ``assessed`` the population sums need, as arrays (missing columns: unknown)."""
    n = len(assessed)

    def num(col: str) -> np.ndarray:
        return pd.to_numeric(assessed.get(col, pd.Series(np.nan, index=assessed.index)),
                             errors="coerce").to_numpy(dtype=float)

    tb = assessed.get("transboundary_downstream", pd.Series(pd.NA, index=assessed.index)).astype("boolean")
    # allocated sites first cross an unmapped stretch at least as long as the straight line to their reach
    # (as for first_border_river_km): along-path km are counted from the site, places on that stretch are missed
    alloc = (assessed["drainage_by"] == "basin allocation").to_numpy(dtype=bool) \
        if "drainage_by" in assessed.columns else np.zeros(n, dtype=bool)
    geom = assessed.geometry if isinstance(assessed, gpd.GeoDataFrame) else None
    snap = num("snap_km")
    return {
        "basin": assessed["basin"].to_numpy(dtype=object) if "basin" in assessed.columns else np.full(n, None),
        "rid": num("reach_id"), "fb": num("first_border_river_km"), "frac": num("reach_frac"),
        "never_leaves": (tb == False).fillna(False).to_numpy(dtype=bool),  # noqa: E712 - nullable boolean
        "offset": np.where(alloc & ~np.isnan(snap), snap, 0.0),
        "geom": geom,  # representative points taken only where needed (_site_km)
    }


def _representative_points(geom: gpd.GeoSeries) -> gpd.GeoSeries:
    """``representative_point`` in EPSG:4326, computed only for the non-point geometries (points are kept)."""
    g = geom.to_crs("EPSG:4326")
    arr = g.to_numpy()
    other = shapely.get_type_id(arr) != 0
    if other.any():
        arr = arr.copy()
        arr[other] = shapely.point_on_surface(arr[other])
    return gpd.GeoSeries(arr, index=g.index, crs=g.crs)


def _place_pairs(basin: Any, places: gpd.GeoDataFrame, radius_km: float) -> dict[str, Any]:
    """Place-reach pairs within ``radius_km`` of a basin's reaches, found once per basin (local projection).

    ``pi``/``ri``: place (into ``pop``/``country``) and reach position (table order:
    row i of ``basin.reaches`` and of its network), ``d``: distance, ``pos``: km of
    the place's nearest point along the reach from its upstream end.
    """
    crs, rgeom, (x0, y0, x1, y1) = _projected_reaches(basin)
    pad = radius_km / 60.0 + 0.05
    sel = (places.geometry.x.between(x0 - 2 * pad, x1 + 2 * pad) & places.geometry.y.between(y0 - pad, y1 + pad))
    pl_idx = np.flatnonzero(sel.to_numpy())
    pl_geom = _project_points(places.geometry.iloc[pl_idx], crs)
    pi, ri = shapely.STRtree(rgeom).query(pl_geom, predicate="dwithin", distance=radius_km * 1000.0)
    return {"crs": crs, "rgeom": rgeom, "net": network_of(basin), "rlen": shapely.length(rgeom) / 1000.0,
            "pi": pi, "ri": ri, "d": shapely.distance(pl_geom[pi], rgeom[ri]),
            "pos": shapely.line_locate_point(rgeom[ri], pl_geom[pi]) / 1000.0,
            "pop": places["population"].to_numpy(dtype=float)[pl_idx],
            "country": places["country"].astype(object).to_numpy()[pl_idx]}


def _basin_population(out: dict[str, np.ndarray], rows: np.ndarray, site: dict[str, Any],
                      pairs: dict[str, Any], first_km: float) -> None:
    """Write the sums of the sites ``rows`` of one basin into ``out`` (vectorised; one path per start reach)."""
    net = pairs["net"]
    starts, group = np.unique(site["rid"][rows], return_inverse=True)  # distinct start reaches
    upos = pd.Index(net.ids).get_indexer(starts.astype(np.int64))
    for bad in starts[upos < 0][:1]:
        net.position(int(bad))  # raises the network's own message
    along = _places_along(pairs, _path_matrix(net.down, upos))
    _fill(out, rows, group, site, along, _site_km(pairs, upos[group], rows, site), first_km)


def _site_km(pairs: dict[str, Any], reach: np.ndarray, rows: np.ndarray, site: dict[str, Any]) -> np.ndarray:
    """Km of each site along its start reach: where its route joins it (``reach_frac`` of :func:`assess`).

    Rows without a ``reach_frac`` (a frame from elsewhere) take the nearest point of the reach.
    """
    frac = site["frac"][rows]
    s_site = frac * pairs["rlen"][reach]
    miss = np.flatnonzero(~np.isfinite(frac))
    if len(miss):
        pts = _project_points(_representative_points(site["geom"].iloc[rows[miss]]), pairs["crs"])
        s_site[miss] = shapely.line_locate_point(pairs["rgeom"][reach[miss]], pts) / 1000.0
    return s_site


def _path_matrix(down: np.ndarray, upos: np.ndarray) -> np.ndarray:
    """Row ``g``: the reach positions from ``upos[g]`` to the outlet in flow order, padded with -1."""
    cols = []
    cur = np.asarray(upos, dtype=np.intp)
    while len(cur) and (cur >= 0).any():
        cols.append(cur)
        cur = np.where(cur >= 0, down[np.maximum(cur, 0)], -1)
    return np.stack(cols, axis=1) if cols else np.full((len(upos), 0), -1, dtype=np.intp)


def _project_points(pts: gpd.GeoSeries, crs: Any) -> np.ndarray:
    """Points (EPSG:4326) in ``crs``: the transformation :meth:`geopandas.GeoSeries.to_crs` applies, without its frames."""
    arr = pts.to_numpy()
    out = _project(arr, pts.crs, crs)
    out[shapely.is_missing(arr) | shapely.is_empty(arr)] = None
    return out


def _places_along(pairs: dict[str, Any], paths: np.ndarray) -> dict[str, np.ndarray]:
    """The places near each path (row of ``paths``), sorted by (path, km from the path's start).

    Each place counts once per path, at its nearest reach of the path (ties: the first pair).
    Returns ``s`` (km), ``pop``, ``country`` of the places and ``bounds`` (start of each path's places, and the end).
    """
    n_g, width = paths.shape
    ok = paths >= 0
    lens = np.where(ok, pairs["rlen"][np.maximum(paths, 0)], 0.0)
    upstream_end = np.zeros_like(lens)
    if width > 1:
        upstream_end[:, 1:] = np.cumsum(lens, axis=1)[:, :-1]  # row-wise: the same sums as one path at a time
    by_reach = np.argsort(pairs["ri"], kind="stable")
    first = np.searchsorted(pairs["ri"][by_reach], np.arange(len(pairs["rgeom"]) + 1))
    g, j = np.nonzero(ok)
    r = paths[g, j]
    cnt = first[r + 1] - first[r]
    rep = np.repeat(np.arange(len(r)), cnt)
    k = by_reach[first[r][rep] + np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt)]
    eg, pi, d = g[rep], pairs["pi"][k], pairs["d"][k]
    s = upstream_end[g, j][rep] + pairs["pos"][k]
    o = np.lexsort((k, d, pi, eg))  # per path and place: the nearest reach first
    keep = o[np.r_[True, (eg[o][1:] != eg[o][:-1]) | (pi[o][1:] != pi[o][:-1])]] if len(o) else o
    o = keep[np.lexsort((pi[keep], s[keep], eg[keep]))]
    return {"s": s[o], "pop": pairs["pop"][pi[o]], "country": pairs["country"][pi[o]],
            "bounds": np.searchsorted(eg[o], np.arange(n_g + 1))}


def searchsorted_per_path(a: np.ndarray, lo: np.ndarray, hi: np.ndarray, v: np.ndarray, right: bool) -> np.ndarray:
    """``lo + numpy.searchsorted(a[lo:hi], v, side)`` for every query at once (NaN sorts last, as in numpy).

    One bisection for all sites: each query ``v[i]`` is searched in its own sorted slice
    ``a[lo[i]:hi[i]]`` of the places along the paths, all queries advancing together.

    Parameters
    ----------
    a : numpy.ndarray
        Concatenated sorted slices (one per path).
    lo, hi : numpy.ndarray
        Start and end (exclusive) in ``a`` of each query's slice.
    v : numpy.ndarray
        The values searched (NaN is placed after every number).
    right : bool
        ``side="right"`` of :func:`numpy.searchsorted` when true, else ``"left"``.

    Returns
    -------
    numpy.ndarray
        Index into ``a`` of each insertion point.

    Examples
    --------
    >>> a = np.array([1.0, 3.0, 5.0, 2.0, 4.0])  # two paths: a[0:3] and a[3:5]
    >>> searchsorted_per_path(a, np.array([0, 3]), np.array([3, 5]), np.array([3.0, 3.0]), right=False).tolist()
    [1, 4]
    >>> searchsorted_per_path(a, np.array([0, 3]), np.array([3, 5]), np.array([3.0, np.nan]), right=True).tolist()
    [2, 5]
    """
    lo, hi = lo.copy(), hi.copy()
    big = np.isnan(v)
    while True:
        act = lo < hi
        if not act.any():
            return lo
        mid = (lo + hi) // 2
        am = a[np.minimum(mid, max(len(a) - 1, 0))] if len(a) else np.zeros(len(v))
        up = act & (((am <= v) if right else (am < v)) | big)
        lo = np.where(up, mid + 1, lo)
        hi = np.where(act & ~up, mid, hi)


def prefix_sums_per_path(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Per-path prefix sums: path ``g``'s sums at ``[bounds[g] + g, bounds[g + 1] + g]`` (a leading 0 each).

    Each path's sums are accumulated from 0 in order, as for one path at a time; whole numbers
    (GeoNames populations) take one global pass, which gives the same numbers exactly.

    Parameters
    ----------
    values : numpy.ndarray
        Concatenated values of all paths.
    bounds : numpy.ndarray
        Path ``g`` is ``values[bounds[g]:bounds[g + 1]]`` (``len(paths) + 1`` entries).

    Returns
    -------
    numpy.ndarray
        ``len(values) + len(paths)`` sums: each path's cumulative sums after a 0.

    Examples
    --------
    >>> prefix_sums_per_path(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 2, 2, 4])).tolist()
    [0.0, 1.0, 3.0, 0.0, 0.0, 3.0, 7.0]
    """
    n_g = len(bounds) - 1
    out = np.zeros(len(values) + n_g)
    whole = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values))
                 and np.abs(values).sum() < 2.0 ** 52)
    if whole:
        cum = np.concatenate([[0.0], np.cumsum(values)])
        size = np.diff(bounds) + 1
        gid = np.repeat(np.arange(n_g), size)
        k = np.arange(len(out)) - np.repeat(bounds[:-1] + np.arange(n_g), size)
        out[:] = cum[bounds[gid] + k] - cum[bounds[gid]]
        return out
    for g in range(n_g):
        a, b = bounds[g], bounds[g + 1]
        out[a + g + 1:b + g + 1] = np.cumsum(values[a:b])
    return out


def _fill(out: dict[str, np.ndarray], rows: np.ndarray, group: np.ndarray, site: dict[str, Any],
          along: dict[str, np.ndarray], s_site: np.ndarray, first_km: float) -> None:
    """Write the sums of the sites ``rows`` (path ``group`` each, at ``s_site`` km along it) into ``out``."""
    s_pl, bounds = along["s"], along["bounds"]
    start, end = bounds[group], bounds[group + 1]
    off = site["offset"][rows]
    lo = searchsorted_per_path(s_pl, start, end, s_site, right=False)  # first place at or below the site

    def upto(km: np.ndarray) -> np.ndarray:
        """Index past the last place within ``km`` along-path km of the site (km counted from the site)."""
        return np.maximum(searchsorted_per_path(s_pl, start, end, s_site + km - off, right=True), lo)

    pop = along["pop"]
    cum = prefix_sums_per_path(pop, bounds)
    hi_first = upto(np.full(len(rows), first_km))
    out["downstream_pop_first_km"][rows] = cum[hi_first + group] - cum[lo + group]
    out["downstream_places_first_km"][rows] = hi_first - lo
    out["downstream_pop_total"][rows] = cum[end + group] - cum[lo + group]
    lim = np.where(site["never_leaves"][rows], np.inf, site["fb"][rows])
    hi_b = upto(np.where(np.isnan(lim), 0.0, lim))
    out["downstream_pop_to_border"][rows] = np.where(np.isnan(lim), np.nan, cum[hi_b + group] - cum[lo + group])
    out["by_country"][rows] = _by_country(along, group, lo, end, pop)


def _by_country(along: dict[str, np.ndarray], group: np.ndarray, lo: np.ndarray, end: np.ndarray,
                pop: np.ndarray) -> np.ndarray:
    """JSON ISO3 -> population of the places from ``lo`` to the end of each site's path (one text per distinct start)."""
    ctry = pd.Series(along["country"], dtype=object).fillna("unknown").to_numpy()
    codes = sorted(set(ctry.tolist()))
    key = lo.astype(np.int64) * (len(along["bounds"]) + 1) + group
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    g, a, b = group[first], lo[first], end[first]
    cols = []
    for c in codes:
        cc = prefix_sums_per_path(np.where(ctry == c, pop, 0.0), along["bounds"])
        cols.append(cc[b + g] - cc[a + g])
    per = np.stack(cols, axis=1) if codes else np.zeros((len(uniq), 0))
    texts = np.array([json.dumps({c: int(v) for c, v in zip(codes, u) if v > 0}, sort_keys=True)
                      for u in per.tolist()], dtype=object)
    return texts[np.asarray(inv).reshape(-1)]


def _frame(out: dict[str, np.ndarray], index: pd.Index, radius_km: float, first_km: float) -> pd.DataFrame:
    """The result frame: :data:`POPULATION_COLUMNS` in order, with the settings in ``attrs``."""
    frame = pd.DataFrame({c: out[c] for c in POPULATION_COLUMNS if c != "downstream_pop_by_country"}, index=index)
    frame["downstream_pop_by_country"] = pd.Series(out["by_country"], index=index, dtype=object)
    frame.attrs["population"] = {"radius_km": radius_km, "first_km": first_km,
                                 "places": "data/sites/places.csv (GeoNames cities500, population >= 1,000)"}
    return frame[list(POPULATION_COLUMNS)]
