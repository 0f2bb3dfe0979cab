"""Basin outlines: land cells allocated to the nearest river seed, by sub-basin."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from riskmap._geo import geodesic_area_km2
from riskmap.databuild.reference.lines import RegionNetwork, _explode_lines, _sample
from riskmap.databuild.reference.specs import BASIN_SPECS, GRID_M, SEED_M, BasinSpec

# ---------------------------------------------------------------- outlines


def _seeds(net: RegionNetwork, spec: BasinSpec, R: gpd.GeoDataFrame, reaches: gpd.GeoDataFrame,
           basin_idx: np.ndarray, lab_of: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Seed points of :func:`allocate` (projected) and their labels.

    Label ``lab_of[sub_basin]`` along the basin's reaches ``R`` (projected) and at the
    spec's anchors; 0 ("other") along the region's other lines, the shores of lakes the
    basin does not use, the coast and the unmapped neighbouring systems.
    """
    sx, sl = [], []
    for g, s in zip(R.geometry, R["sub_basin"]):
        pts = _sample(g, SEED_M)
        sx.append(pts)
        sl.append(np.full(len(pts), lab_of[s]))
    others = np.setdiff1d(np.arange(len(net.lines)), basin_idx)
    for g in net.lines.geometry.values[others]:
        pts = _sample(g, SEED_M)
        sx.append(pts)
        sl.append(np.zeros(len(pts), int))
    used_lakes = set(reaches["waterbody"].dropna())
    for name, g in zip(net.lakes["name"], net.lakes.geometry):
        if name in used_lakes:
            continue
        for ring in _explode_lines([shapely.boundary(g)]):
            pts = _sample(ring, SEED_M)
            sx.append(pts)
            sl.append(np.zeros(len(pts), int))
    # the sea/lake coast (land boundary without the clip-box edges) drains to the coast, not the basin
    coast = shapely.difference(shapely.boundary(net.land), shapely.buffer(shapely.boundary(_region_box(net)), 2000.0))
    for ring in _explode_lines([coast]):
        pts = _sample(ring, SEED_M)
        sx.append(pts)
        sl.append(np.zeros(len(pts), int))
    for ln in net.other_lines:
        pts = _sample(ln, SEED_M)
        sx.append(pts)
        sl.append(np.zeros(len(pts), int))
    if len(net.other_points):
        sx.append(np.asarray(net.other_points, float))
        sl.append(np.zeros(len(net.other_points), int))
    ax_, al_ = anchor_seeds(net, spec, lab_of)
    sx.append(ax_)
    sl.append(al_)
    return np.vstack(sx), np.concatenate(sl)


def anchor_seeds(net: RegionNetwork, spec: BasinSpec, lab_of: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Projected anchor seeds of :func:`allocate` and their labels.

    The basin's own anchors and tributary seed lines are labelled by sub-basin, those of the region's
    other basins "other" (0), so that two basins of one region never both take a tributary valley.

    Parameters
    ----------
    net : RegionNetwork
        The region's network (its ``crs`` and projected ``tributary_lines`` are read).
    spec : BasinSpec
        The basin being allocated.
    lab_of : dict of str to int
        Label of each of the basin's sub-basins (an anchor of another sub-basin is left out).

    Returns
    -------
    tuple of numpy.ndarray
        Projected seed points (n, 2) and their labels (0: another basin of the region).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(crs="EPSG:3035", tributary_lines=[])
    >>> xy, lab = anchor_seeds(net, BASIN_SPECS["drina"], {"Lim": 2})
    >>> xy.shape[1], set(lab.tolist()) <= {0, 2}, int((lab == 0).sum()) == len(BASIN_SPECS["drin"].anchors)
    (2, True, True)
    """
    xy, lab = [], []
    for other in BASIN_SPECS.values():
        if other.region != spec.region:
            continue
        for sb_label, (ax, ay), _ in other.anchors:
            if other.id != spec.id:
                xy.append((ax, ay))
                lab.append(0)
            elif sb_label in lab_of:
                xy.append((ax, ay))
                lab.append(lab_of[sb_label])
    out_xy, out_lab = [np.empty((0, 2))], [np.empty(0, int)]
    if xy:
        pts = gpd.GeoSeries(gpd.points_from_xy(*np.asarray(xy).T), crs="EPSG:4326").to_crs(net.crs)
        out_xy.append(shapely.get_coordinates(pts.values))
        out_lab.append(np.asarray(lab, int))
    for bid, sb_label, line in net.tributary_lines:  # already projected
        label = 0 if bid != spec.id else lab_of.get(sb_label)
        if label is None:
            continue
        pts = _sample(line, SEED_M)
        out_xy.append(pts)
        out_lab.append(np.full(len(pts), label))
    return np.vstack(out_xy), np.concatenate(out_lab)


@dataclass
class _Grid:
    """Cell centres of the allocation grid (projected) and its geometry."""

    x0: float
    y1: float
    cell: float
    nx: int
    ny: int
    x: np.ndarray  # cell-centre x, row-major, length nx * ny
    y: np.ndarray


def _grid(R: gpd.GeoDataFrame, cell: float, pad: float = 150_000.0) -> _Grid:
    """The allocation grid: cells of ``cell`` m over the reaches' bounds plus ``pad`` m."""
    minx, miny, maxx, maxy = R.total_bounds
    x0 = float(np.floor((minx - pad) / cell) * cell)
    y1 = float(np.ceil((maxy + pad) / cell) * cell)
    nx = int(np.ceil((maxx + pad - x0) / cell))
    ny = int(np.ceil((y1 - (miny - pad)) / cell))
    X, Y = np.meshgrid(x0 + (np.arange(nx) + 0.5) * cell, y1 - (np.arange(ny) + 0.5) * cell)
    return _Grid(x0, y1, cell, nx, ny, X.ravel(), Y.ravel())


def _land_cells(net: RegionNetwork, grid: _Grid) -> np.ndarray:
    """Flat indexes of the grid cells whose centre is on land."""
    land = net.land
    shapely.prepare(land)
    return np.flatnonzero(shapely.contains_xy(land, grid.x, grid.y))


def _label_cells(net: RegionNetwork, spec: BasinSpec, grid: _Grid, q: np.ndarray, seeds: np.ndarray,
                 seed_lab: np.ndarray, lab_of: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label of every cell (0: not the basin), mask of cells nearest an "other" seed or sea, seed distances.

    Land cells (``q``) take the label of their nearest seed, then lose it beyond ``max_alloc_km`` of
    the basin's own seeds, in ``exclude_countries`` and outside the ``corridor_km`` of a sub-basin.
    The distances returned are those of the land cells to their nearest seed.
    """
    xy = np.c_[grid.x[q], grid.y[q]]
    lab = np.zeros(grid.x.size, dtype=np.int32)
    d, nearest = cKDTree(seeds).query(xy)
    lab[q] = seed_lab[nearest]
    tgt = np.flatnonzero(seed_lab > 0)
    dt, _ = cKDTree(seeds[tgt]).query(xy, distance_upper_bound=spec.max_alloc_km * 1000.0)
    lab[q[~np.isfinite(dt)]] = 0
    for iso in spec.exclude_countries:
        g = net.countries.geometry[net.countries["iso3"] == iso]
        if len(g):
            gg = g.iloc[0]
            shapely.prepare(gg)
            lab[q[shapely.contains_xy(gg, xy[:, 0], xy[:, 1])]] = 0
    for sb, km in spec.corridor_km.items():
        if sb in lab_of:
            lab[q[(lab[q] == lab_of[sb]) & (d > km * 1000.0)]] = 0
    other_or_sea = np.ones(grid.x.size, bool)
    other_or_sea[q] = seed_lab[nearest] == 0
    return lab, other_or_sea, d


def _closed_lake_shores(net: RegionNetwork, spec: BasinSpec, R: gpd.GeoDataFrame, grid: _Grid, q: np.ndarray,
                        dq: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The cells around the shores of ``spec.shore_lakes`` that drain to the lake, with its sub-basin.

    A lake with no surface outflow is seeded only by its link line, so neighbouring lines took part of
    the lake itself (53 km2 of Lake Prespa). Land cells (``q``, at ``dq`` from their nearest seed)
    within ``spec.shore_max_km`` of such a lake's shore and nearer to that shore than to any seed, and
    the cells in the lake, take the sub-basin of the lake's reaches.
    """
    lake_sub = dict(zip(R["waterbody"], R["sub_basin"]))
    xy = np.c_[grid.x[q], grid.y[q]]
    out = []
    for name, g in zip(net.lakes["name"], net.lakes.geometry):
        if name not in spec.shore_lakes or name not in lake_sub:
            continue
        shore = np.vstack([_sample(ring, SEED_M) for ring in _explode_lines([shapely.boundary(g)])])
        ds, _ = cKDTree(shore).query(xy, distance_upper_bound=spec.shore_max_km * 1000.0)
        inside = shapely.contains_xy(g, xy[:, 0], xy[:, 1])
        out.append((q[(np.isfinite(ds) & (ds < dq)) | inside], lake_sub[name]))
    return out


def _fill_gaps(arr: np.ndarray, other_or_sea: np.ndarray, grid: _Grid, seeds: np.ndarray,
               seed_lab: np.ndarray) -> None:
    """Give enclosed gaps left by the distance cap (not land of another river system) their nearest label."""
    from scipy import ndimage

    comp, _ = ndimage.label(arr == 0)
    bad = np.unique(np.r_[comp[0], comp[-1], comp[:, 0], comp[:, -1], comp.ravel()[other_or_sea]])
    fill = (arr == 0) & ~np.isin(comp, bad)
    if fill.any():
        tgt = np.flatnonzero(seed_lab > 0)
        fi = np.flatnonzero(fill.ravel())
        _, ti = cKDTree(seeds[tgt]).query(np.c_[grid.x[fi], grid.y[fi]])
        arr.ravel()[fi] = seed_lab[tgt[ti]]


def _polygonise(arr: np.ndarray, grid: _Grid, net: RegionNetwork, spec: BasinSpec,
                labels: list[str], lab_of: dict[str, int]) -> gpd.GeoDataFrame:
    """Sub-basin polygons (EPSG:4326, clipped to land, with geodesic areas) of the labelled grid."""
    import rasterio.features
    from affine import Affine

    transform = Affine(grid.cell, 0, grid.x0, 0, -grid.cell, grid.y1)
    polys: dict[int, list] = {}
    for geom, val in rasterio.features.shapes(arr, mask=arr > 0, transform=transform, connectivity=4):
        polys.setdefault(int(val), []).append(shapely.geometry.shape(geom))
    rows = [{"basin": spec.id, "sub_basin": s, "geometry": shapely.simplify(shapely.union_all(polys[lab_of[s]]), 1.0)}
            for s in labels if polys.get(lab_of[s])]
    sb = gpd.GeoDataFrame(rows, geometry="geometry", crs=net.crs).to_crs("EPSG:4326")
    land_ll = gpd.GeoSeries([net.land], crs=net.crs).to_crs("EPSG:4326").iloc[0]
    sb["geometry"] = [_as_multi(shapely.intersection(shapely.make_valid(g), land_ll)) for g in sb.geometry]
    sb["geometry"] = shapely.set_precision(sb.geometry.values, 1e-6)
    sb["geometry"] = [_as_multi(shapely.make_valid(g)) for g in sb.geometry]
    sb["area_km2"] = np.round(geodesic_area_km2(sb.geometry), 1)
    return sb[["basin", "sub_basin", "area_km2", "geometry"]].sort_values("sub_basin").reset_index(drop=True)


def allocate(net: RegionNetwork, spec: BasinSpec, reaches: gpd.GeoDataFrame,
             basin_idx: np.ndarray) -> gpd.GeoDataFrame:
    """Sub-basin polygons (EPSG:4326) by nearest-river allocation of gridded land.

    Every land cell (size :data:`GRID_M`) goes to the nearest seed point; seeds
    are points every :data:`SEED_M` along the basin's reaches (labelled by
    sub-basin) and along every other river line of the region plus the shores
    of lakes outside the basin (labelled "other").
    """
    R = reaches.to_crs(net.crs)
    labels = sorted(R["sub_basin"].unique())
    lab_of = {s: i + 1 for i, s in enumerate(labels)}
    seeds, seed_lab = _seeds(net, spec, R, reaches, basin_idx, lab_of)
    grid = _grid(R, GRID_M[spec.region])
    q = _land_cells(net, grid)
    lab, other_or_sea, dq = _label_cells(net, spec, grid, q, seeds, seed_lab, lab_of)
    for take, sub in _closed_lake_shores(net, spec, R, grid, q, dq):
        lab[take] = lab_of[sub]
        other_or_sea[take] = False
    arr = lab.reshape(grid.ny, grid.nx)
    _fill_gaps(arr, other_or_sea, grid, seeds, seed_lab)
    return _polygonise(arr, grid, net, spec, labels, lab_of)


def _region_box(net: RegionNetwork):
    """The source clip box of the region, projected (its edges are not coast)."""
    b = {"western_balkans": (15.0, 39.0, 24.0, 46.0), "central_asia": (58.0, 36.0, 80.0, 48.0)}[net.region]
    box = shapely.segmentize(shapely.box(*b), 0.05)
    return gpd.GeoSeries([box], crs="EPSG:4326").to_crs(net.crs).iloc[0]


def _as_multi(g):
    if g is None or g.is_empty:
        return shapely.MultiPolygon()
    if g.geom_type == "Polygon":
        return shapely.MultiPolygon([g])
    if g.geom_type == "MultiPolygon":
        return g
    polys = [p for p in _explode_polys(g)]
    return shapely.MultiPolygon(polys)


def _explode_polys(g):
    if g.geom_type == "Polygon":
        yield g
    elif hasattr(g, "geoms"):
        for p in g.geoms:
            yield from _explode_polys(p)
