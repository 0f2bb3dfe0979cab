"""Natech screening of sites: seismic and flood classes (0..3).

The classes come from distances to GEM active faults, the strongest ISC-GEM
epicentre within a radius, the distance to rivers/lakes and optional flood
rasters, through the step tables of ``riskmap/params/natech.toml`` (see
:func:`riskmap.params.load_params`). :func:`load_natech_layers` reads the
bundled layers; :func:`riskmap.hazard.score` combines the classes with the
hazard indices.
"""

from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from riskmap._columns import _num, _step_ge, _step_le, _text
from riskmap import hydrography
from riskmap._errors import RiskmapInputError
from riskmap._paths import DATA_DIR
from riskmap.network import network_of
from riskmap.params import _params, _read_toml
from riskmap.rasters import buffer_km, local_groups, plausible_flood_depth, sample, warn_if_no_value, zonal_stats
from riskmap.spatial_index import _WGS84, _project, lonlat_transformer
from riskmap.schema import TMF_CATEGORIES

__all__ = ["NO_CLIMATE_DATA", "climate_scenarios", "climate_section", "load_climate_params", "load_natech_layers",
           "natech", "parse_scenario_key"]


#: Layers with fewer vertices are projected whole (:func:`_distance_km`): the prefilter costs more.
PREFILTER_MIN_VERTICES = 20_000
#: Shortest length (km) of one degree of latitude on the WGS84 ellipsoid (at the equator) and longest one
#: of longitude (equator): the degree pads of :func:`_padded_boxes` use them so that they never fall short.
_KM_PER_DEG_LAT_MIN = 110.574
_KM_PER_DEG_LON_EQ = 111.321


def _padded_boxes(bounds: np.ndarray, km: np.ndarray) -> np.ndarray:
    """Lon/lat boxes (rows minx, miny, maxx, maxy) around ``bounds`` rows, outside which lies farther than ``km``.

    The pads are 25 % larger than needed: a point outside a box in latitude is at least
    ``1.25 * km`` (geodesic) from every point of the bounds; one outside it in longitude but inside
    it in latitude (so both at most ``lat_max`` from the equator) at least ``1.25 * km`` along the
    parallel of ``lat_max``, which the haversine formula bounds from below to well within the
    margin for pads of a few degrees.
    """
    minx, miny, maxx, maxy = bounds.T
    pad_lat = 1.25 * km / _KM_PER_DEG_LAT_MIN
    lat_max = np.minimum(np.fmax(np.abs(miny), np.abs(maxy)) + pad_lat, 90.0)
    cos_max = np.cos(np.radians(lat_max))
    pad_lon = np.where(cos_max > 0.1, 1.25 * km / (_KM_PER_DEG_LON_EQ * np.maximum(cos_max, 0.1)), 360.0)
    return np.c_[minx - pad_lon, miny - pad_lat, maxx + pad_lon, maxy + pad_lat]


def _meets(boxes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which of the boxes ``lo``..``hi`` (lon/lat corners) may meet one of ``boxes``: a superset, never missing one.

    Both are rounded out to the cells of one grid over the ``boxes`` (a summed-area table of the
    cells they cover), so the test is a few array operations however many boxes there are.
    """
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    cell = max((x1 - x0) / 512.0, (y1 - y0) / 512.0, 1e-6)
    nx, ny = int((x1 - x0) // cell) + 1, int((y1 - y0) // cell) + 1

    def ix(v: np.ndarray, size: int, origin: float) -> np.ndarray:
        return np.clip(np.floor((v - origin) / cell), 0, size - 1).astype(np.intp)

    diff = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    c0, c1 = ix(boxes[:, 0], nx, x0), ix(boxes[:, 2], nx, x0) + 1
    r0, r1 = ix(boxes[:, 1], ny, y0), ix(boxes[:, 3], ny, y0) + 1
    for r, c, v in ((r0, c0, 1), (r0, c1, -1), (r1, c0, -1), (r1, c1, 1)):
        np.add.at(diff, (r, c), v)
    sat = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    sat[1:, 1:] = np.cumsum(np.cumsum(diff.cumsum(0).cumsum(1)[:ny, :nx] > 0, 0), 1)
    inside = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    a0, a1 = ix(lo[:, 0], nx, x0), ix(hi[:, 0], nx, x0) + 1
    b0, b1 = ix(lo[:, 1], ny, y0), ix(hi[:, 1], ny, y0) + 1
    return inside & ((sat[b1, a1] - sat[b0, a1] - sat[b1, a0] + sat[b0, a0]) > 0)


def _segments(lay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (lon/lat) of the line features of ``lay`` and the first vertex of each of their segments."""
    line = lay[np.isin(shapely.get_type_id(lay), (1, 5))]
    multi = shapely.get_type_id(line) == 5
    if multi.any():  # parts of a MultiLineString: no segment between them
        line = np.r_[line[~multi], shapely.get_parts(line[multi])]
    xy, part = shapely.get_coordinates(line, return_index=True)
    return xy, np.flatnonzero(part[1:] == part[:-1])


def _bend_km(geoms: np.ndarray) -> np.ndarray:
    """Per geometry, how far (km) a straight projected segment between two of its vertices may stray from its lon/lat box.

    A straight segment in lon/lat and one in the local AEQD differ by about the sagitta
    ``L**2 / (8 R) * (tan|lat| + 1)`` (L its length, R the Earth's radius); this returns four times
    that for the longest segment of each geometry (lengths taken from degrees at the equator's
    111.3 km, an overestimate), plus 0.5 km.
    """
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    a = np.flatnonzero(owner[1:] == owner[:-1])
    longest = np.zeros(len(geoms))
    if len(a):
        km = np.hypot(*(xy[a + 1] - xy[a]).T) * _KM_PER_DEG_LON_EQ
        tan = np.tan(np.radians(np.minimum(np.fmax(np.abs(xy[a, 1]), np.abs(xy[a + 1, 1])), 80.0)))
        np.maximum.at(longest, owner[a], km * km * (1.0 + tan) / 6371.0 * 0.5)
    return longest + 0.5


#: Lines are covered by boxes around their vertices, densified to this step (degrees).
_LINE_STEP_DEG = 0.05


def _site_boxes(g: np.ndarray, km: np.ndarray) -> np.ndarray:
    """Boxes (:func:`_padded_boxes`) holding everything within ``km`` of each geometry.

    Points and polygons: one box around the bounds (a polygon's inside counts); lines: one box
    around each vertex once densified to :data:`_LINE_STEP_DEG`, padded by half a step more
    (at most 0.025 degree, under 2.8 km), so that a long pipeline does not take a box over its whole extent.
    """
    line = np.isin(shapely.get_type_id(g), (1, 5))
    boxes = [_padded_boxes(shapely.bounds(g[~line]), km[~line])]
    if line.any():
        xy, owner = shapely.get_coordinates(shapely.segmentize(g[line], _LINE_STEP_DEG), return_index=True)
        boxes.append(_padded_boxes(np.c_[xy, xy], km[line][owner] + 2.8))
    return np.concatenate(boxes)


def _near_m(pts: np.ndarray, boxes: np.ndarray, lay: np.ndarray, seg: tuple[np.ndarray, np.ndarray],
            crs: Any) -> np.ndarray:
    """Distance (m, ``crs``) from each of ``pts`` (projected) to the nearest feature part meeting ``boxes``.

    Line features count by their segments meeting the boxes (``seg``: :func:`_segments`), as lines of
    consecutive ones: a distance to a line is the least of the distances to its segments, so the same
    number when the nearest segment is among them, and only their vertices are projected. Other
    features (lakes) count whole. ``inf`` where nothing meets the boxes.
    """
    dist = np.full(len(pts), np.inf)
    xy, a = seg
    a = a[_meets(boxes, np.minimum(xy[a], xy[a + 1]), np.maximum(xy[a], xy[a + 1]))]
    if len(a):  # runs of consecutive segments (within one part) as lines
        last = np.r_[a[1:] != a[:-1] + 1, True]
        v = np.sort(np.r_[a, a[last] + 1])
        run = np.searchsorted(np.flatnonzero(last), np.searchsorted(a, v, side="right") - 1)
        px, py = lonlat_transformer(crs).transform(xy[v, 0], xy[v, 1])
        lines = shapely.linestrings(np.asarray(px), np.asarray(py), indices=run)
        (gi, _), d = shapely.STRtree(lines).query_nearest(pts, return_distance=True, all_matches=False)
        dist[gi] = d
    other = np.flatnonzero(~np.isin(shapely.get_type_id(lay), (1, 5)))
    if len(other):
        ob = shapely.bounds(lay[other])
        oi = other[_meets(boxes, ob[:, :2], ob[:, 2:])]
        if len(oi):
            lv = _project(lay[oi], _WGS84, crs)
            (gi, _), d = shapely.STRtree(lv).query_nearest(pts, return_distance=True, all_matches=False)
            dist[gi] = np.fmin(dist[gi], d)
    return dist


def _vertex_bound_m(g: np.ndarray, gp: np.ndarray, xy: np.ndarray, crs: Any) -> np.ndarray:
    """Per geometry, the least projected distance (m) from one of its vertices to a nearby vertex ``xy`` of the layer.

    No feature of the layer is farther than that from the geometry (``gp``: ``g`` projected).
    """
    out = np.full(len(g), np.inf)
    c, owner = shapely.get_coordinates(g, return_index=True)
    cp = shapely.get_coordinates(gp)
    if not len(xy) or not len(c) or len(cp) != len(c):
        return out
    lat0 = np.cos(np.radians(np.clip(np.median(xy[:, 1]), -80, 80)))
    # unbalanced: twice as fast to build; of equidistant vertices it may pick another, which only moves the bound
    tree = cKDTree(np.c_[xy[:, 0] * lat0, xy[:, 1]], balanced_tree=False, compact_nodes=False)
    _, j = tree.query(np.c_[c[:, 0] * lat0, c[:, 1]])
    vx, vy = lonlat_transformer(crs).transform(xy[j, 0], xy[j, 1])
    np.minimum.at(out, owner, np.hypot(np.asarray(vx) - cp[:, 0], np.asarray(vy) - cp[:, 1]))
    return out



def _nearest_km(g: gpd.GeoSeries, lay: gpd.GeoSeries, crs: Any, prefilter: bool) -> np.ndarray:
    """Distance (km) in ``crs`` from each geometry of ``g`` (lon/lat) to the nearest of ``lay``.

    The same numbers as projecting the whole layer (slow for the local AEQD), from the parts of
    ``lay`` (lon/lat) near each geometry only: the projected distance ``u`` from its vertices to nearby
    vertices of the layer (:func:`_vertex_bound_m`) bounds the distance to the nearest feature, and the
    AEQD never shortens a distance (its scale is 1 along the radius and at least 1 across it), so that
    feature has a part within ``u`` (geodesic) of the geometry, inside its box of :func:`_padded_boxes`
    (padded by 25 % and by :func:`_bend_km` of the geometry and of the layer, for the slight bend of a
    straight projected segment in lon/lat); :func:`_near_m` measures the
    parts meeting the boxes. A projected vertex is the same number whichever vertices are projected
    with it, so the distances are those of the whole layer; where a geometry's nearest part is not
    within ``u`` after all, or ``prefilter`` is False, the whole layer is projected.
    """
    out = np.full(len(g), np.nan)
    gp = _project(g.values, g.crs, crs)
    todo = np.arange(len(g)) if prefilter else np.zeros(0, np.intp)
    rest = np.zeros(0, np.intp) if prefilter else np.arange(len(g))
    if len(todo):
        seg = _segments(lay.values)
        u = _vertex_bound_m(g.values, gp, shapely.get_coordinates(lay.values), crs) * (1 + 1e-9) + 1e-3
        bend = _bend_km(g.values) + float(_bend_km(lay.values).max(initial=0.0))
        whole = _padded_boxes(shapely.bounds(g.values), np.where(np.isfinite(u), u / 1000.0, 0.0) + bend)
        # boxes over the antimeridian or a pole: lon/lat boxes do not hold the neighbourhood; whole layer
        fin = np.flatnonzero(np.isfinite(u) & (whole[:, 0] >= -180) & (whole[:, 2] <= 180)
                             & (whole[:, 1] >= -90) & (whole[:, 3] <= 90))
        bend_km = bend[fin]
        d = np.full(len(todo), np.inf)
        if len(fin):
            boxes = _site_boxes(g.values[fin], u[fin] / 1000.0 + bend_km)
            d[fin] = _near_m(gp[fin], boxes, lay.values, seg, crs)
        ok = d <= u
        out[ok] = d[ok] / 1000.0
        rest = np.flatnonzero(~ok)
    if len(rest):
        (gi, _), d = shapely.STRtree(_project(lay.values, lay.crs, crs)).query_nearest(
            gp[rest], return_distance=True, all_matches=False)
        out[rest[gi]] = d / 1000.0
    return out


def _distance_km(geoms: gpd.GeoSeries, layer: gpd.GeoDataFrame | gpd.GeoSeries,
                 only: np.ndarray | None = None) -> np.ndarray:
    """Distance in km from each geometry to the nearest feature of ``layer`` (local AEQD per region group).

    ``only`` (bool per geometry): measure these only, NaN elsewhere (the region groups, and so the
    projections, are those of all the geometries).
    """
    out = np.full(len(geoms), np.nan)
    lay = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    lay = lay[~(lay.isna() | lay.is_empty)]
    if not len(lay):
        return out
    # a layer in lon/lat with many vertices: only its parts near the sites are projected (same numbers)
    prefilter = (lay.crs is not None and lay.crs.equals("EPSG:4326")
                 and int(shapely.get_num_coordinates(lay.values).sum()) >= PREFILTER_MIN_VERTICES)
    for crs, pos in local_groups(geoms):
        if only is not None:
            pos = pos[only[pos]]
        if len(pos):
            out[pos] = _nearest_km(geoms.iloc[pos], lay, crs, prefilter)
    return out


def _max_within(geoms: gpd.GeoSeries, points: gpd.GeoDataFrame, col: str, radius_km: float) -> np.ndarray:
    """Largest ``points[col]`` within ``radius_km`` of each geometry (NaN when none)."""
    out = np.full(len(geoms), np.nan)
    pts = points[~(points.geometry.isna() | points.geometry.is_empty)]
    vals = pd.to_numeric(pts[col], errors="coerce").to_numpy(dtype="float64")
    if not len(pts):
        return out
    for crs, pos in local_groups(geoms):
        g = _project(geoms.values[pos], geoms.crs, crs)
        tree = shapely.STRtree(_project(pts.geometry.values, pts.crs, crs))
        gi, pj = tree.query(g, predicate="dwithin", distance=radius_km * 1000.0)
        sub = np.full(len(pos), -np.inf)
        v = vals[pj]
        ok = np.isfinite(v)
        np.maximum.at(sub, gi[ok], v[ok])
        out[pos] = np.where(np.isfinite(sub), sub, np.nan)
    return out


def natech(sites: gpd.GeoDataFrame, *, faults: gpd.GeoDataFrame | None = None,
           earthquakes: gpd.GeoDataFrame | None = None, water: gpd.GeoDataFrame | None = None,
           flood_depth=None, params=None) -> pd.DataFrame:
    """Natech screening: seismic and flood classes (0 none .. 3 high) per site.

    Seismic class = max(class of the distance to the nearest active fault,
    class of the largest Mw within ``natech.eq_radius_km``). Flood class =
    class of the distance to the nearest river reach or lake, raised by a
    flood-depth value when one is given. Distances are in km in a local
    azimuthal equidistant projection. A class whose layer was not supplied
    is ``NaN`` (missing), never 0.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites with a CRS.
    faults : GeoDataFrame, optional
        Active fault lines (e.g. ``data/natech/faults.gpkg``).
    earthquakes : GeoDataFrame, optional
        Epicentres with an ``mw`` column (e.g. ``data/natech/earthquakes.gpkg``).
    water : GeoDataFrame, optional
        River reaches and lakes (e.g. a basin's ``reaches`` and ``lakes``).
        Rows of ``sites`` outside every basin (``basin`` blank) get NaN.
    flood_depth : array-like, optional
        Flood depth in metres at each site (e.g. from :func:`riskmap.rasters.sample`).
    params : dict, path or None

    Returns
    -------
    pandas.DataFrame
        ``natech_fault_km``, ``natech_max_mw``, ``natech_water_km``,
        ``natech_seismic``, ``natech_flood``.

    Examples
    --------
    >>> nat = natech(sites, faults=faults, earthquakes=quakes)  # doctest: +SKIP
    """
    p = _params(params)["natech"]
    g = gpd.GeoSeries(sites.geometry.values, index=sites.index, crs=sites.crs)
    if g.crs is None:
        raise RiskmapInputError("sites have no CRS; set one (e.g. .set_crs('EPSG:4326'))")
    g = g.to_crs("EPSG:4326")
    n = len(g)
    fault_km = _distance_km(g, faults) if faults is not None else np.full(n, np.nan)
    if earthquakes is not None:
        if "mw" not in earthquakes.columns:
            raise RiskmapInputError("earthquakes layer needs an 'mw' column (moment magnitude)")
        max_mw = _max_within(g, earthquakes, "mw", float(p["eq_radius_km"]))
        mw_cls = np.where(np.isnan(max_mw), 0.0, _step_ge(max_mw, p["max_mw"], "min_mw"))
    else:
        max_mw = np.full(n, np.nan)
        mw_cls = np.full(n, np.nan)
    f_cls = _step_le(fault_km, p["fault_km"], "max_km")
    # NaN only when both layers are missing; with one layer the class comes from it alone
    seismic = np.fmax(f_cls, mw_cls)
    water_km = np.full(n, np.nan)
    if water is not None:  # rows outside every basin stay NaN: not measured
        inside = ~_text(sites, "basin").isna().to_numpy() if "basin" in sites.columns else np.ones(n, dtype=bool)
        water_km = _distance_km(g, water, only=inside)
    flood = _step_le(water_km, p["water_km"], "max_km")
    if flood_depth is not None:
        depth = np.asarray(flood_depth, dtype="float64")
        d_cls = _step_ge(depth, p["flood_depth_m"], "min_m")
        flood = np.fmax(flood, d_cls)
    return pd.DataFrame({
        "natech_fault_km": fault_km, "natech_max_mw": max_mw, "natech_water_km": water_km,
        "natech_seismic": seismic, "natech_flood": flood,
    }, index=sites.index)


_natech_classes = natech  # score() has a parameter named ``natech``


def load_natech_layers(sites: pd.DataFrame | None = None, data_dir: str | Path | None = None) -> dict:
    """Load the bundled Natech layers and, if available, the basins' water and towns.

    Returns a dict with any of ``faults``, ``earthquakes`` (from
    ``data/natech/*.gpkg``, built by ``riskmap data build-natech``), ``water``
    (reaches and lakes of every basin) and ``basins`` (``{id: Basin}``) for
    the downstream corridors. Missing layers are simply absent.

    Examples
    --------
    >>> sorted(load_natech_layers())  # doctest: +SKIP
    ['basins', 'earthquakes', 'faults', 'water']
    """
    d = Path(data_dir) if data_dir is not None else DATA_DIR
    out: dict[str, Any] = {}
    for name in ("faults", "earthquakes"):
        f = d / "natech" / f"{name}.gpkg"
        if f.exists():
            out[name] = gpd.read_file(f, layer=name)
    wanted = None
    if sites is not None and "basin" in sites.columns:
        wanted = {b for b in _text(sites, "basin").dropna().unique()}
    basins, parts = {}, []
    try:
        ids = hydrography.list_basins()
    except Exception:  # noqa: BLE001 - no reference data built
        return out
    for b in ids:
        if wanted is not None and b not in wanted:
            continue
        try:
            bas = hydrography.load_basin(b)
        except Exception:  # noqa: BLE001
            continue
        basins[b] = bas
        for lay in (bas.reaches, bas.lakes):
            if lay is not None and len(lay):
                parts.append(lay.geometry.to_crs("EPSG:4326").to_numpy())
    if parts:
        out["water"] = gpd.GeoDataFrame(geometry=gpd.GeoSeries(np.concatenate(parts), crs="EPSG:4326"))
    if basins:
        out["basins"] = basins
    return out


def _corridors(sites: pd.DataFrame, basins: Mapping[str, Any], length_km: float,
               buffer: float) -> gpd.GeoSeries:
    """Buffered downstream path (first ``length_km`` km) of each snapped site; None when unknown."""
    bas_col = _text(sites, "basin").tolist()
    rid = _num(sites, "reach_id")
    site_key: list[tuple[str, int] | None] = [None] * len(sites)
    lines: dict[tuple[str, int], Any] = {}
    for i, (b, r) in enumerate(zip(bas_col, rid)):
        if b is None or b not in basins or not np.isfinite(r):
            continue
        key = site_key[i] = (b, int(r))
        if key not in lines:
            net = network_of(basins[b])
            # whole reaches starting within length_km of the site reach's downstream end
            lines[key] = (net.path_geometry(key[1], fraction=1.0, max_km=length_km, cut=False)
                          if key[1] in net else None)
    # one buffer per distinct path (sites on the same reach share it)
    keys = [k for k, g in lines.items() if g is not None and not g.is_empty]
    buffered: dict[tuple[str, int] | None, Any] = {}
    if keys:
        done = buffer_km(gpd.GeoSeries([lines[k] for k in keys], crs="EPSG:4326"), buffer)
        buffered = dict(zip(keys, done.to_numpy()))
    return gpd.GeoSeries([buffered.get(k) for k in site_key], index=sites.index, crs="EPSG:4326")


# ------------------------------------------------------------------ Natech under climate change

#: Class tables of the climate scenario rasters (``riskmap/params/climate.toml``).
CLIMATE_PARAMS_FILE = Path(__file__).resolve().parent / "params" / "climate.toml"
#: Statement carried by every climate output: riskmap bundles no climate data.
NO_CLIMATE_DATA = ("riskmap ships no climate data: the scenario rasters are the user's own GeoTIFFs, "
                   "sampled as given")


def parse_scenario_key(key: str) -> tuple[str, str] | None:
    """``"flood:2050"`` -> ``("flood", "2050")``; ``None`` for a plain raster name.

    Raises
    ------
    RiskmapInputError
        A key with ``:`` but an empty or unusable hazard or scenario name.

    Examples
    --------
    >>> parse_scenario_key("flood:present"), parse_scenario_key("flood_depth")
    (('flood', 'present'), None)
    """
    if ":" not in str(key):
        return None
    hazard, _, scen = str(key).partition(":")
    hazard, scen = hazard.strip(), scen.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,30}", hazard) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,30}",
                                                                                       scen):
        raise RiskmapInputError(f"--raster {key!r}: write HAZARD:SCENARIO=PATH with plain names, "
                                "e.g. flood:present=A.tif flood:2050=B.tif")
    return hazard, scen


def load_climate_params(path: str | Path | Mapping | None = None) -> dict[str, Any]:
    """The climate class tables: the shipped ``params/climate.toml`` or a user file / dict of the same shape."""
    if isinstance(path, Mapping):
        p: dict[str, Any] = dict(path)
        where = "<climate params>"
    else:
        where = str(path or CLIMATE_PARAMS_FILE)
        p = _read_toml(Path(where), "climate parameter")
    for hz, steps in (p.get("hazard") or {}).items():
        if not isinstance(steps, list) or not all(isinstance(s, Mapping) and {"min", "value"} <= set(s)
                                                  for s in steps):
            raise RiskmapInputError(f"{where}: [[hazard.{hz}]] needs rows with min and value")
    p.setdefault("meta", {}).setdefault("baseline", ["present"])
    p.setdefault("hazard", {})
    return p


def _classify(values: np.ndarray, steps: list[Mapping[str, Any]] | None) -> np.ndarray:
    """Class of each value from ``min``/``value`` steps (highest ``min`` first); NaN stays NaN."""
    out = np.full(len(values), np.nan)
    if not steps:
        return out
    for s in sorted(steps, key=lambda s: -float(s["min"])):
        hit = np.isnan(out) & np.isfinite(values) & (values >= float(s["min"]))
        out[hit] = float(s["value"])
    return out


def _scenario_values(sites: gpd.GeoDataFrame, path: Any) -> np.ndarray:
    """Value per site: the pixel at the site, raised by the footprint maximum of TMF polygons."""
    vals = sample(sites, path)
    geom = sites.geometry
    poly = geom.notna().to_numpy() & np.isin(shapely.get_type_id(geom.values), [3, 6])
    if "category" in sites.columns:
        poly &= sites["category"].isin(TMF_CATEGORIES).to_numpy()
    if poly.any():
        zs = zonal_stats(sites[poly], path, stats=("max",))["max"].to_numpy()
        vals[poly] = np.fmax(vals[poly], zs)
    return vals


def climate_scenarios(sites: gpd.GeoDataFrame, rasters: Mapping[str, Any], params: Any = None) -> pd.DataFrame:
    """Sample hazard rasters per climate scenario at the sites and class them, with the change.

    Parameters
    ----------
    sites : GeoDataFrame
        Sites with a CRS (TMF polygons are summarised over their footprint, maximum).
    rasters : mapping ``"HAZARD:SCENARIO" -> path``
        E.g. ``{"flood:present": "A.tif", "flood:2050": "B.tif"}`` (any CRS; the
        sites are reprojected to each raster's).
    params : path or mapping, optional
        Class tables (default ``riskmap/params/climate.toml``).

    Returns
    -------
    pandas.DataFrame
        Per hazard and scenario ``climate_<hazard>_<scenario>`` (value),
        ``..._class`` (NaN when no data or no class table) and ``..._status``
        (``ok``, ``no data`` when the site is outside the raster or over nodata);
        per hazard ``climate_<hazard>_change`` (class of each later scenario minus
        the baseline, as text ``2050: +1``; ``no data`` where unknown). Raises a
        :class:`riskmap.RiskmapDataWarning` naming a raster that covers none of the sites.

    Raises
    ------
    RiskmapInputError
        Missing or unreadable raster, raster without CRS, bad key.

    Examples
    --------
    >>> climate_scenarios(sites, {"flood:present": "a.tif", "flood:2050": "b.tif"})  # doctest: +SKIP
    """
    p = load_climate_params(params)
    by_hazard: dict[str, list[tuple[str, Any]]] = {}
    for key, path in rasters.items():
        hs = parse_scenario_key(key)
        if hs is None:
            raise RiskmapInputError(f"climate raster {key!r}: name it HAZARD:SCENARIO (e.g. flood:2050)")
        by_hazard.setdefault(hs[0], []).append((hs[1], path))
    out: dict[str, Any] = {}
    for hazard, scens in by_hazard.items():
        steps = p["hazard"].get(hazard)
        classes: dict[str, np.ndarray] = {}
        for scen, path in scens:
            v = _scenario_values(sites, path)
            if hazard == "flood":  # a negative depth is nodata the raster does not declare, not "dry"
                v = plausible_flood_depth(v, f"{path} ({hazard}:{scen})")
            warn_if_no_value(v, path, f"{hazard}:{scen}")
            col = f"climate_{hazard}_{scen}"
            out[col] = v
            classes[scen] = _classify(v, steps)
            out[f"{col}_class"] = classes[scen]
            out[f"{col}_status"] = np.where(np.isfinite(v), "ok" if steps else "ok (no class table)", "no data")
        base = next((b for b in p["meta"]["baseline"] if b in classes), scens[0][0])
        out[f"climate_{hazard}_change"] = _change_text(classes, base, len(sites))
    return pd.DataFrame(out, index=sites.index)


def _change_text(classes: Mapping[str, np.ndarray], base: str, n: int) -> list[str]:
    """Per site ``"2050: +1; 2080: +2"`` against the baseline scenario; ``no data`` where unknown."""
    parts: list[list[str]] = [[] for _ in range(n)]
    b = classes[base]
    for scen, c in classes.items():
        if scen == base:
            continue
        d = c - b
        for i in range(n):  # text per site: a few scenarios, a few hundred sites
            parts[i].append(f"{scen}: {d[i]:+.0f}" if np.isfinite(d[i]) else f"{scen}: no data")
    return ["; ".join(x) if x else f"baseline {base} only" for x in parts]


def climate_section(sites: pd.DataFrame) -> dict[str, Any] | None:
    """Report section context of the climate scenario columns (``None`` when there are none).

    Returns
    -------
    dict
        ``statement`` (no climate data ship with riskmap), ``hazards``: per hazard its
        ``scenarios`` and ``rows`` (site name, country, value and class per scenario,
        change), sites sorted by the largest class increase first.
    """
    cols = [c for c in sites.columns if c.startswith("climate_") and c.endswith("_change")]
    if not cols:
        return None
    hazards = []
    for ch in cols:
        hz = ch[len("climate_"):-len("_change")]
        scen = [c[len(f"climate_{hz}_"):-len("_class")] for c in sites.columns
                if c.startswith(f"climate_{hz}_") and c.endswith("_class")]
        rows = []
        for _, s in sites.iterrows():
            cells = []
            for sc in scen:
                v, k = s.get(f"climate_{hz}_{sc}"), s.get(f"climate_{hz}_{sc}_class")
                cells.append("no data" if pd.isna(v) else
                             f"{float(v):.3g} (class {'unknown' if pd.isna(k) else int(k)})")
            rows.append({"name": str(s.get("name") or s.get("site_id")), "country": str(s.get("country") or ""),
                         "cells": cells, "change": str(s[ch])})

        def up(r: dict[str, Any]) -> float:
            nums = [float(x.split(": ")[1]) for x in r["change"].split("; ") if ": " in x
                    and x.split(": ")[1] not in ("no data",)]
            return -max(nums) if nums else 1e9
        rows.sort(key=lambda r: (up(r), r["name"]))
        hazards.append({"hazard": hz, "scenarios": scen, "rows": rows})
    return {"statement": NO_CLIMATE_DATA, "hazards": hazards}
