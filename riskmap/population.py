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
from riskmap.basin_index import _resolve_basins
from riskmap.network import network_of


__all__ = ["POPULATION_COLUMNS", "downstream_population", "load_places"]


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
    from riskmap._paths import DATA_DIR

    p = Path(path) if path is not None else DATA_DIR / "sites" / "places.csv"
    if not p.exists():
        raise RiskmapInputError(f"{p}: places layer not found; run `riskmap data build-sites`")
    t = pd.read_csv(p, dtype={"geonameid": str, "name": str, "country": str, "basin_box": str})
    return gpd.GeoDataFrame(t.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(t["lon"], t["lat"]),
                            crs="EPSG:4326")


_POP_CACHE: dict[tuple[int, str], Any] = {}


def _projected_reaches(basin: Any) -> tuple[Any, pd.Series]:
    """(local CRS, reach geometries in it by reach_id) of a basin, cached per Basin object."""
    key = (id(basin), "reaches")
    hit = _POP_CACHE.get(key)
    if hit is None or hit[0] is not basin:
        reaches = basin.reaches.to_crs("EPSG:4326")
        crs = aeqd_for_bounds(tuple(reaches.total_bounds))
        rproj = reaches.to_crs(crs)
        hit = (basin, crs, pd.Series(rproj.geometry.values, index=rproj["reach_id"].to_numpy()))
        _POP_CACHE[key] = hit
    return hit[1], hit[2]


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
    site's own position on the start reach. Sums of GeoNames population:

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
    if site["pts"] is None:
        return _frame(out, assessed.index, radius_km, first_km)
    for bid, basin in bmap.items():
        rows = np.flatnonzero((site["basin"] == bid) & np.isfinite(site["rid"]))
        if not len(rows):
            continue
        pairs = _place_pairs(basin, places, radius_km)
        site_geom = site["pts"].iloc[rows].to_crs(pairs["crs"]).to_numpy()
        rid = site["rid"]
        by_reach = rows[np.argsort(rid[rows], kind="stable")]
        starts = np.flatnonzero(np.r_[True, np.diff(rid[by_reach]) != 0])
        for srows in np.split(by_reach, starts[1:]):  # one path per distinct start reach, shared by its sites
            path = pairs["net"].path_positions(int(rid[srows[0]]))
            s_pl, k = _places_along(pairs, path)
            s_site = shapely.line_locate_point(pairs["rgeom"][path[0]],
                                               site_geom[np.searchsorted(rows, srows)]) / 1000.0
            _fill(out, srows, site, s_pl, pairs["pop"][k], pairs["country"][k], s_site, first_km)
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
        "rid": num("reach_id"), "fb": num("first_border_river_km"),
        "never_leaves": (tb == False).fillna(False).to_numpy(dtype=bool),  # noqa: E712 - nullable boolean
        "offset": np.where(alloc & ~np.isnan(snap), snap, 0.0),
        "pts": _representative_points(geom) if geom is not None else None,
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
    crs, by_id = _projected_reaches(basin)
    x0, y0, x1, y1 = basin.reaches.to_crs("EPSG:4326").total_bounds
    pad = radius_km / 60.0 + 0.05
    sel = (places.geometry.x.between(x0 - 2 * pad, x1 + 2 * pad) & places.geometry.y.between(y0 - pad, y1 + pad))
    pl_idx = np.flatnonzero(sel.to_numpy())
    pl_geom = places.geometry.iloc[pl_idx].to_crs(crs).to_numpy()
    rgeom = by_id.to_numpy()
    pi, ri = shapely.STRtree(rgeom).query(pl_geom, predicate="dwithin", distance=radius_km * 1000.0)
    return {"crs": crs, "rgeom": rgeom, "net": network_of(basin), "rlen": shapely.length(rgeom) / 1000.0,
            "pi": pi, "ri": ri, "d": shapely.distance(pl_geom[pi], rgeom[ri]),
            "pos": shapely.line_locate_point(rgeom[ri], pl_geom[pi]) / 1000.0,
            "pop": places["population"].to_numpy(dtype=float)[pl_idx],
            "country": places["country"].astype(object).to_numpy()[pl_idx]}


def _places_along(pairs: dict[str, Any], path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(km from the path's start, place) of each place near the path, sorted along it.

    Each place counts once, at its nearest reach of the path.
    """
    upstream_end = np.full(len(pairs["rgeom"]), np.nan)
    upstream_end[path] = np.concatenate([[0.0], np.cumsum(pairs["rlen"][path])[:-1]])
    pi, ri = pairs["pi"], pairs["ri"]
    on = np.flatnonzero(np.isfinite(upstream_end[ri]))
    on = on[np.lexsort((pairs["d"][on], pi[on]))]  # by place, then distance (stable: ties keep pair order)
    on = on[np.r_[True, pi[on][1:] != pi[on][:-1]]] if len(on) else on
    s_pl = upstream_end[ri[on]] + pairs["pos"][on]
    order = np.argsort(s_pl, kind="stable")
    return s_pl[order], pi[on][order]


def _fill(out: dict[str, np.ndarray], srows: np.ndarray, site: dict[str, Any], s_pl: np.ndarray,
          pop: np.ndarray, country: np.ndarray, s_site: np.ndarray, first_km: float) -> None:
    """Write the sums of the sites ``srows`` (sharing one path; places sorted along it) into ``out``."""
    cum = np.concatenate([[0.0], np.cumsum(pop)])  # prefix sums over places sorted along the path
    off = site["offset"][srows]
    lo = np.searchsorted(s_pl, s_site, side="left")  # first place at or below the site

    def upto(km: np.ndarray) -> np.ndarray:
        """Index past the last place within ``km`` along-path km of the site (km counted from the site)."""
        return np.maximum(np.searchsorted(s_pl, s_site + km - off, side="right"), lo)

    hi_first = upto(np.full(len(srows), first_km))
    out["downstream_pop_first_km"][srows] = cum[hi_first] - cum[lo]
    out["downstream_places_first_km"][srows] = hi_first - lo
    out["downstream_pop_total"][srows] = cum[-1] - cum[lo]
    lim = np.where(site["never_leaves"][srows], np.inf, site["fb"][srows])
    hi_b = upto(np.where(np.isnan(lim), 0.0, lim))
    out["downstream_pop_to_border"][srows] = np.where(np.isnan(lim), np.nan, cum[hi_b] - cum[lo])
    ctry = pd.Series(country, dtype=object).fillna("unknown").to_numpy()
    codes = sorted(set(ctry.tolist()))
    ccum = [np.concatenate([[0.0], np.cumsum(np.where(ctry == c, pop, 0.0))]) for c in codes]
    per = np.stack([cc[-1] - cc[lo] for cc in ccum], axis=1) if codes else np.zeros((len(srows), 0))
    # sites of one reach share few distinct totals: one JSON text per distinct row
    uniq, inv = np.unique(per, axis=0, return_inverse=True)
    texts = np.array([json.dumps({c: int(v) for c, v in zip(codes, u) if v > 0}, sort_keys=True)
                      for u in uniq], dtype=object)
    out["by_country"][srows] = texts[np.asarray(inv).reshape(-1)]


def _frame(out: dict[str, np.ndarray], index: pd.Index, radius_km: float, first_km: float) -> pd.DataFrame:
    """The result frame: :data:`POPULATION_COLUMNS` in order, with the settings in ``attrs``."""
    frame = pd.DataFrame({c: out[c] for c in POPULATION_COLUMNS if c != "downstream_pop_by_country"}, index=index)
    frame["downstream_pop_by_country"] = pd.Series(out["by_country"], index=index, dtype=object)
    frame.attrs["population"] = {"radius_km": radius_km, "first_km": first_km,
                                 "places": "data/sites/places.csv (GeoNames cities500, population >= 1,000)"}
    return frame[list(POPULATION_COLUMNS)]
