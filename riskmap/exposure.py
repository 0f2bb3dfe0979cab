"""Transboundary exposure: where does a site's water go, and whose is it?

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

import functools
import hashlib
import hmac
import json
import math
import os
import pickle
import secrets
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from riskmap.schema import DIVIDE_BUFFER_KM as DIVIDE_BUFFER_BY_PRECISION
from riskmap.schema import set_aside_computed, settle_computed
from riskmap._errors import RiskmapInputError
from riskmap._geo import GEOD, aeqd_for_bounds
from riskmap.basins import BASIN_IDS
from riskmap.network import network_of

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
    "reach_id", "reach_name", "snap_km", "drainage_by", "downstream_countries",
    "first_border_river_km", "outlet_river_km", "river_km_basis", "continuation", "travel_time_h",
    "transboundary_downstream", "near_border", "on_border_water", "exposure_class",
)

#: Exposure classes, most to least exposed (see ``docs/exposure.md``).
EXPOSURE_CLASSES: tuple[str, ...] = ("very high", "high", "medium", "low", "outside")

#: First border within this river distance (km) makes a transboundary site "very high".
VERY_HIGH_RIVER_KM = 10.0
#: First border within this river distance (km) makes a transboundary site "high".
HIGH_RIVER_KM = 50.0

# Densification step (m) of reaches and borders for the k-d tree search: the
# distance error of the nearest-segment search is at most half of it, and is
# removed entirely (exact fallback) where it could matter (see _SegmentIndex).
_STEP_M = 250.0
_STEP_DEG = 0.0025
# Far from the lines (beyond _FAR_M) the search runs on a coarse copy: simplified
# by _COARSE_TOL_M and densified to _COARSE_STEP_M; distance error there is at most
# _COARSE_TOL_M + _COARSE_STEP_M**2 / (8 * _FAR_M) = 20 + 25 m (<= 0.25 %).
_FAR_M = 20_000.0
_COARSE_TOL_M = 20.0
_COARSE_STEP_M = 2_000.0
_CACHE_MAX = 8
#: Bump when the layout of the per-basin index changes (invalidates the index-cache files).
INDEX_CACHE_VERSION = 1
#: Polygon lookup grids are built on the first query of at least this many points (fewer: exact tests).
_GRID_MIN_POINTS = 5_000
_N_THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)))


# --------------------------------------------------------------------------
# Vectorised geometry helpers
# --------------------------------------------------------------------------


@dataclass
class _Runs:
    """A 2-D integer grid stored as runs of equal values (row-major), for the on-disk cache.

    Lookup grids are long runs of equal values: a few hundred thousand runs
    instead of millions of cells. :meth:`take` reads cells without decoding.
    """

    shape: tuple[int, int]
    starts: np.ndarray  # flat index of the first cell of each run
    values: np.ndarray

    @classmethod
    def encode(cls, a: np.ndarray) -> _Runs:
        flat = a.ravel()
        starts = np.r_[0, np.flatnonzero(flat[1:] != flat[:-1]) + 1] if len(flat) else np.zeros(0, np.int64)
        small = np.int32 if flat.size < 2**31 and (not len(flat) or np.abs(flat).max() < 2**31) else np.int64
        return cls((int(a.shape[0]), int(a.shape[1])), starts.astype(small), flat[starts].astype(small))

    def take(self, flat_idx: np.ndarray) -> np.ndarray:
        return self.values[np.searchsorted(self.starts, flat_idx, side="right") - 1].astype(np.int64)

    def decode(self) -> np.ndarray:
        lengths = np.diff(np.r_[self.starts, self.shape[0] * self.shape[1]])
        return np.repeat(self.values.astype(np.int64), lengths).reshape(self.shape)


def _pack(a: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    """Compress an array for the on-disk index cache (lookup grids are long runs of equal values)."""
    return (a.dtype.str, a.shape, zlib.compress(np.ascontiguousarray(a).tobytes(), 1))


def _unpack(packed: tuple[str, tuple[int, ...], bytes]) -> np.ndarray:
    dtype, shape, data = packed
    return np.frombuffer(zlib.decompress(data), dtype=np.dtype(dtype)).reshape(shape).copy()


class _SegmentIndex:
    """Nearest-segment search over many lines, vectorised over query points.

    Lines (projected, metres) are densified to ``step`` and their vertices
    put in a :class:`scipy.spatial.cKDTree`. For each query point the ``k``
    nearest vertices are found and the exact point-to-segment distance is
    computed for the segments adjacent to them. The nearest vertex of the
    true nearest segment is at most ``sqrt(D**2 + step**2 / 4)`` away (D the
    true distance), so the distance found is never more than
    ``min(step / 2, step**2 / (8 D))`` too long (8 m at 1 km for a 250 m
    step). Within ``exact_within`` metres the result is made exact: a point
    is provably resolved when its k-th vertex is farther than
    ``best + step / 2``; the others are re-queried with more neighbours and,
    if still unproven, solved with shapely's STRtree.
    """

    def __init__(self, lines: np.ndarray, step: float = _STEP_M, coarse: bool = True) -> None:
        from scipy.spatial import cKDTree

        lines = np.asarray(lines, dtype=object)
        self.coarse: _SegmentIndex | None = None
        if coarse and step < _COARSE_STEP_M:
            self.coarse = _SegmentIndex(shapely.simplify(lines, _COARSE_TOL_M), _COARSE_STEP_M, coarse=False)
        self.n_lines = len(lines)
        self.step = float(step)
        parts, owner = shapely.get_parts(shapely.segmentize(lines, step), return_index=True)
        keep = ~shapely.is_empty(parts)
        parts, owner = parts[keep], owner[keep]
        xy, vpart = shapely.get_coordinates(parts, return_index=True)
        n = len(xy)
        self.n = n
        # arrays have one extra sentinel slot at index n (an invalid segment), so
        # that "vertex - 1" for vertex 0 (index -1) and "not found" (index n) land on it
        vx = np.append(xy[:, 0], 0.0)
        vy = np.append(xy[:, 1], 0.0)
        same = np.zeros(n + 1, dtype=bool)
        if n > 1:
            same[:n - 1] = vpart[:-1] == vpart[1:]
        dx = np.zeros(n + 1)
        dy = np.zeros(n + 1)
        dx[:n - 1] = vx[1:n] - vx[:n - 1]
        dy[:n - 1] = vy[1:n] - vy[:n - 1]
        dx[~same] = 0.0
        dy[~same] = 0.0
        self.vx, self.vy, self.dx, self.dy, self.seg_ok = vx, vy, dx, dy, same
        l2 = dx * dx + dy * dy
        self.inv_l2 = np.where(l2 > 0, 1.0 / np.where(l2 > 0, l2, 1.0), 0.0)
        seglen = np.sqrt(l2)
        self.seglen = seglen
        vline = np.full(n + 1, -1, dtype=np.intp)
        vline[:n] = owner[vpart] if n else vline[:n]
        self.vline = vline
        # along-part distance (m) at each vertex and total length of its part
        cum = np.zeros(n + 1)
        part_len = np.zeros(n + 1)
        if n:
            c = np.concatenate([[0.0], np.cumsum(seglen[:n] * same[:n])[:-1]])
            first = np.r_[True, vpart[1:] != vpart[:-1]]
            start_val = np.maximum.accumulate(np.where(first, c, -np.inf))
            cum[:n] = c - start_val
            plen = np.bincount(vpart, weights=seglen[:n] * same[:n], minlength=vpart.max() + 1)
            part_len[:n] = plen[vpart]
        self.vcum, self.part_len = cum, part_len
        self.tree = cKDTree(xy) if n else None
        self._strtree: tuple[np.ndarray, shapely.STRtree] | None = None
        self._grid: tuple[float, float, float, np.ndarray] | None = None
        self.vlon: np.ndarray | None = None
        if n:
            self._upper_bound(np.zeros(1), np.zeros(1))  # build the search grid now (cached index)

    def __getstate__(self) -> dict[str, Any]:
        """Pickle state for the on-disk index cache: the search grid run-length encoded, no STRtree."""
        state = dict(self.__dict__)
        state["_strtree"] = None
        if self._grid is not None and isinstance(self._grid[3], np.ndarray):
            state["_grid"] = (*self._grid[:3], _Runs.encode(self._grid[3]))
        return state

    def attach_lonlat(self, to_ll: pyproj.Transformer) -> None:
        """Keep vertex lon/lat so that nearest points come back in lon/lat too."""
        lo, la = to_ll.transform(self.vx, self.vy)
        self.vlon, self.vlat = np.asarray(lo, dtype=float), np.asarray(la, dtype=float)
        self.dlon = np.zeros_like(self.vlon)
        self.dlat = np.zeros_like(self.vlat)
        self.dlon[:-1] = np.where(self.seg_ok[:-1], self.vlon[1:] - self.vlon[:-1], 0.0)
        self.dlat[:-1] = np.where(self.seg_ok[:-1], self.vlat[1:] - self.vlat[:-1], 0.0)
        if self.coarse is not None:
            self.coarse.attach_lonlat(to_ll)

    def _upper_bound(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance to *some* vertex near each point: a tight upper bound on the
        nearest-vertex distance, from a distance transform of the occupied grid
        cells (k-d tree queries far from the data are slow without one)."""
        if self._grid is None:
            from scipy import ndimage  # slow to import: only when a grid is built (not from the cache)

            vx, vy = self.vx[:self.n], self.vy[:self.n]
            x0, y0 = vx.min(), vy.min()
            span = max(vx.max() - x0, vy.max() - y0, 1.0)
            area = max((vx.max() - x0) * (vy.max() - y0), span * span / 100)
            cell = max(500.0, math.sqrt(area / 1e6), span / 2000)
            w = int((vx.max() - x0) // cell) + 1
            h = int((vy.max() - y0) // cell) + 1
            col = ((vx - x0) // cell).astype(np.int64)
            row = ((vy - y0) // cell).astype(np.int64)
            rep = np.full(h * w, -1, dtype=np.int64)
            rep[row * w + col] = np.arange(self.n)
            empty = (rep < 0).reshape(h, w)
            if empty.any():
                _, (ir, ic) = ndimage.distance_transform_edt(empty, return_indices=True)
                near = rep[(ir * w + ic).ravel()].reshape(h, w).astype(np.int64)
            else:
                near = rep.reshape(h, w)
            self._grid = (x0, y0, cell, near)
        x0, y0, cell, near = self._grid
        if isinstance(near, _Runs) and len(x) >= _GRID_MIN_POINTS:  # from the cache; many queries
            near = near.decode()
            self._grid = (x0, y0, cell, near)
        h, w = near.shape
        col = np.clip(((x - x0) // cell).astype(np.int64), 0, w - 1)
        row = np.clip(((y - y0) // cell).astype(np.int64), 0, h - 1)
        v = near[row, col] if isinstance(near, np.ndarray) else near.take(row * w + col)
        return np.hypot(x - self.vx[v], y - self.vy[v])

    def _best(self, x: np.ndarray, y: np.ndarray, ik: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best segment among those adjacent to the vertices ``ik`` (n = none)."""
        m = len(x)
        bd2 = np.full(m, np.inf)
        bseg = np.full(m, self.n, dtype=np.intp)
        bt = np.zeros(m)
        for col in range(ik.shape[1]):
            for seg in (ik[:, col] - 1, ik[:, col]):
                seg = np.where(seg < 0, self.n, seg)
                ax, ay, sx, sy = self.vx[seg], self.vy[seg], self.dx[seg], self.dy[seg]
                px, py = x - ax, y - ay
                t = np.minimum(np.maximum((px * sx + py * sy) * self.inv_l2[seg], 0.0), 1.0)
                ex, ey = px - t * sx, py - t * sy
                d2 = ex * ex + ey * ey
                better = (d2 < bd2) & self.seg_ok[seg]
                bd2 = np.where(better, d2, bd2)
                bseg = np.where(better, seg, bseg)
                bt = np.where(better, t, bt)
        return np.sqrt(bd2), bseg, bt

    def _exact(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._strtree is None:
            j = np.flatnonzero(self.seg_ok)
            segs = shapely.linestrings(np.stack([np.c_[self.vx[j], self.vy[j]],
                                                 np.c_[self.vx[j + 1], self.vy[j + 1]]], axis=1))
            self._strtree = (j, shapely.STRtree(segs))
        j, tree = self._strtree
        (qi, ti), dd = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
        order = np.argsort(qi, kind="stable")
        seg = j[ti[order]]
        t = ((x - self.vx[seg]) * self.dx[seg] + (y - self.vy[seg]) * self.dy[seg]) * self.inv_l2[seg]
        return np.asarray(dd)[order], seg, np.minimum(np.maximum(t, 0.0), 1.0)

    def nearest(self, x: np.ndarray, y: np.ndarray, max_dist: float | None = None, k: int = 2,
                exact_within: float = 1000.0) -> dict[str, np.ndarray]:
        """Nearest segment of every point.

        Returns a dict of arrays: ``line`` (line index, -1 if none within
        ``max_dist``), ``dist`` (m), ``nx``, ``ny`` (nearest point) and
        ``frac`` (position of the nearest point along its line part, 0..1).
        """
        x = np.ascontiguousarray(x, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
        m = len(x)
        out = {"line": np.full(m, -1, dtype=np.intp), "dist": np.full(m, np.nan),
               "nx": np.full(m, np.nan), "ny": np.full(m, np.nan), "frac": np.full(m, np.nan)}
        if m == 0 or self.tree is None:
            return out
        ub = np.inf if max_dist is None else max_dist + self.step
        half = self.step / 2 + 1e-6
        if max_dist is None and self.coarse is not None and self.coarse.tree is not None:
            # far points: the coarse copy is accurate enough (see _FAR_M); near ones: fine search.
            # The grid bound is >= the true distance, so points under _FAR_M are surely near.
            maybe_far = np.flatnonzero(self._upper_bound(x, y) > _FAR_M)
            if len(maybe_far):
                rc = self.coarse.nearest(x[maybe_far], y[maybe_far], k=k, exact_within=0.0)
                far = rc["dist"] > _FAR_M
                is_fine = np.ones(m, dtype=bool)
                is_fine[maybe_far[far]] = False
                fine = np.flatnonzero(is_fine)
                rn = self._nearest_fine(x[fine], y[fine], ub, half, k, exact_within)
                for key in rn:
                    out[key] = np.empty(m, dtype=rn[key].dtype)
                    out[key][fine] = rn[key]
                    out[key][maybe_far[far]] = rc[key][far]
                return out
        return self._nearest_fine(x, y, ub, half, k, exact_within)

    def _nearest_fine(self, x: np.ndarray, y: np.ndarray, ub: float, half: float,
                      k: int = 2, exact_within: float = 1000.0) -> dict[str, np.ndarray]:
        m = len(x)
        out = {"line": np.full(m, -1, dtype=np.intp), "dist": np.full(m, np.nan),
               "nx": np.full(m, np.nan), "ny": np.full(m, np.nan), "frac": np.full(m, np.nan)}
        if self.vlon is not None:
            out["nlon"], out["nlat"] = np.full(m, np.nan), np.full(m, np.nan)
        if m == 0:
            return out
        max_dist = None if not np.isfinite(ub) else ub - self.step

        def run(xs, ys, kk):
            kk = int(min(kk, self.n))
            # per-point search radius: a vertex known to be near, plus room for k-1 more
            # (k-d tree queries are fast only when bounded); bucketed in 5 % steps
            bound = np.minimum(self._upper_bound(xs, ys) + (kk + 1) * self.step, ub)
            lvl = np.ceil(np.log(np.maximum(bound, 1.0)) / np.log(1.05)).astype(np.int64)
            dk = np.full((len(xs), kk), np.inf)
            ik = np.full((len(xs), kk), self.n, dtype=np.intp)
            order = np.argsort(lvl, kind="stable")
            levels, starts = np.unique(lvl[order], return_index=True)
            groups = np.split(order, starts[1:])

            def query(j: int) -> None:  # cKDTree releases the GIL: buckets run in parallel
                sel = groups[j]
                r = min(float(1.05 ** levels[j]), ub)
                d_, i_ = self.tree.query(np.c_[xs[sel], ys[sel]], k=kk, distance_upper_bound=r)
                if kk == 1:
                    d_, i_ = d_[:, None], i_[:, None]
                dk[sel], ik[sel] = d_, i_

            if len(xs) > 20_000 and _N_THREADS > 1:
                with ThreadPoolExecutor(_N_THREADS) as ex:
                    list(ex.map(query, range(len(groups))))
            else:
                for j in range(len(groups)):
                    query(j)
            bd, bseg, bt = self._best(xs, ys, ik)
            unsure = np.isfinite(dk[:, -1]) & (dk[:, -1] < bd + half) & (bd <= exact_within)
            return bd, bseg, bt, unsure

        bd, bseg, bt, unsure = run(x, y, k)
        if unsure.any():
            ui = np.flatnonzero(unsure)
            bd2, bseg2, bt2, uns2 = run(x[ui], y[ui], 24)
            bd[ui], bseg[ui], bt[ui] = bd2, bseg2, bt2
            if uns2.any():
                vi = ui[uns2]
                bd[vi], bseg[vi], bt[vi] = self._exact(x[vi], y[vi])
        ok = np.isfinite(bd)
        if max_dist is not None:
            ok &= bd <= max_dist
        along = self.vcum[bseg] + bt * self.seglen[bseg]
        plen = self.part_len[bseg]
        frac = np.where(plen > 0, along / np.where(plen > 0, plen, 1.0), 0.0)
        out["line"][ok] = self.vline[bseg[ok]]
        out["dist"][ok] = bd[ok]
        out["nx"][ok] = self.vx[bseg[ok]] + bt[ok] * self.dx[bseg[ok]]
        out["ny"][ok] = self.vy[bseg[ok]] + bt[ok] * self.dy[bseg[ok]]
        out["frac"][ok] = np.minimum(np.maximum(frac[ok], 0.0), 1.0)
        if self.vlon is not None:  # segments are <= step long: linear interpolation in lon/lat
            out["nlon"][ok] = self.vlon[bseg[ok]] + bt[ok] * self.dlon[bseg[ok]]
            out["nlat"][ok] = self.vlat[bseg[ok]] + bt[ok] * self.dlat[bseg[ok]]
        return out


class _PolygonLabeler:
    """Point-in-polygon labelling through a lookup grid plus exact tests.

    The polygons (lon/lat) are burnt into a grid; cells touched by any
    polygon boundary (dilated by one cell) are marked "mixed". A point in a
    pure cell takes the cell's label; a point in a mixed cell is tested
    exactly with :func:`shapely.contains_xy` on the prepared polygons, so the
    result equals an exact point-in-polygon join (boundary points excepted).
    Overlapping polygons: the first one wins.
    """

    def __init__(self, polygons: Sequence[shapely.Geometry], max_cells: float = 6e6) -> None:
        self.polys = [p for p in polygons]
        for p in self.polys:
            if p is not None:
                shapely.prepare(p)
        self.bboxes = np.array([p.bounds if (p is not None and not p.is_empty) else (np.nan,) * 4
                                for p in self.polys], dtype=float).reshape(-1, 4)
        self.max_cells = max_cells
        self.grid: np.ndarray | None = None  # built on the first query of _GRID_MIN_POINTS points or more

    def _build_grid(self) -> None:
        from rasterio import features
        from rasterio.transform import from_origin
        from scipy import ndimage

        geoms = [p for p in self.polys if p is not None and not p.is_empty]
        if not geoms:
            return
        minx, miny, maxx, maxy = shapely.total_bounds(np.array(geoms, dtype=object))
        cell = max(0.002, math.sqrt(max((maxx - minx) * (maxy - miny), 1e-9) / self.max_cells))
        minx, miny = minx - cell, miny - cell
        w = int(math.ceil((maxx - minx) / cell)) + 2
        h = int(math.ceil((maxy - miny) / cell)) + 2
        self.x0, self.y1, self.cell, self.w, self.h = minx, miny + h * cell, cell, w, h
        tr = from_origin(minx, self.y1, cell, cell)
        shapes = [(p, i + 1) for i, p in enumerate(self.polys) if p is not None and not p.is_empty]
        grid = features.rasterize(shapes[::-1], out_shape=(h, w), transform=tr, fill=0, dtype="int32")
        edges = [(shapely.boundary(p), 1) for p, _ in shapes]
        mixed = features.rasterize(edges, out_shape=(h, w), transform=tr, fill=0, all_touched=True,
                                   dtype="uint8").astype(bool)
        mixed = ndimage.binary_dilation(mixed, structure=np.ones((3, 3), bool))
        grid[mixed] = -1
        self.grid = grid

    def __getstate__(self) -> dict[str, Any]:
        """Pickle state for the on-disk index cache: the grid compressed."""
        state = dict(self.__dict__)
        if self.grid is not None:
            state["grid"] = _pack(self.grid)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("grid") is not None:
            state["grid"] = _unpack(state["grid"])
        self.__dict__.update(state)
        for p in self.polys:
            if p is not None:
                shapely.prepare(p)

    def label(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the polygon containing each point, -1 for none."""
        out = np.full(len(lon), -1, dtype=np.intp)
        if len(lon) == 0:
            return out
        if self.grid is None and len(lon) >= _GRID_MIN_POINTS:
            self._build_grid()
        if self.grid is None:  # few points (or no polygons): exact tests only, same answers
            todo = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
        else:
            col = np.floor((lon - self.x0) / self.cell).astype(np.int64)
            row = np.floor((self.y1 - lat) / self.cell).astype(np.int64)
            inside = (col >= 0) & (col < self.w) & (row >= 0) & (row < self.h) & np.isfinite(lon) & np.isfinite(lat)
            v = np.zeros(len(lon), dtype=np.int64)
            v[inside] = self.grid[row[inside], col[inside]]
            out[v > 0] = v[v > 0] - 1
            todo = np.flatnonzero(v == -1)
        for i, p in enumerate(self.polys):
            if len(todo) == 0:
                break
            if p is None or p.is_empty:
                continue
            bx0, by0, bx1, by1 = self.bboxes[i]
            lx, ly = lon[todo], lat[todo]
            sel = (lx >= bx0) & (lx <= bx1) & (ly >= by0) & (ly <= by1)
            if not sel.any():
                continue
            idx = todo[sel]
            hit = shapely.contains_xy(p, lon[idx], lat[idx])
            out[idx[hit]] = i
            todo = np.setdiff1d(todo, idx[hit], assume_unique=True)
        return out


# --------------------------------------------------------------------------
# Per-basin precomputation (cached)
# --------------------------------------------------------------------------


def _union(geoms: Iterable[Any]) -> shapely.Geometry | None:
    g = [x for x in geoms if x is not None and not x.is_empty]
    if not g:
        return None
    return shapely.union_all(np.array(g, dtype=object)) if len(g) > 1 else g[0]


def _clean_codes(col: pd.Series) -> np.ndarray:
    """Text column -> object array of stripped upper-case strings, None where blank (vectorised)."""
    s = col.astype("string").str.strip().str.upper()
    s = s.where(s.str.len() > 0)
    return s.astype(object).where(s.notna(), None).to_numpy(dtype=object)


def _str_or_none(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    s = str(v).strip()
    return s or None


def format_continuation(meta: dict[str, Any] | None) -> str | None:
    """Render a basin's ``continuation`` (beyond its outlet) as one line of text.

    Parameters
    ----------
    meta : dict
        The basin's ``basins.json`` entry (``Basin.meta``).

    Returns
    -------
    str or None
        e.g. ``"Sava (BIH|SRB, SRB) → Danube (SRB, ...) → Black Sea"``; None
        when the entry has no continuation.

    Examples
    --------
    >>> format_continuation({"continuation": [{"water": "Sava", "countries": ["BIH|SRB", "SRB"]},
    ...                                        {"water": "Black Sea", "countries": []}]})
    'Sava (BIH|SRB, SRB) → Black Sea'
    """
    steps = (meta or {}).get("continuation") or []
    parts = []
    for s in steps:
        if isinstance(s, str):
            parts.append(s)
            continue
        water = s.get("water") or "?"
        cs = [c for c in (s.get("countries") or []) if c]
        parts.append(f"{water} ({', '.join(cs)})" if cs else water)
    return " → ".join(parts) if parts else None


@dataclass
class _BasinIndex:
    """Everything :func:`assess` needs about one basin, precomputed."""

    id: str
    bounds: tuple[float, float, float, float]
    to_xy: pyproj.Transformer
    to_ll: pyproj.Transformer
    outline: shapely.Geometry
    outline_lab: _PolygonLabeler
    outline_edge: _SegmentIndex
    sub_names: np.ndarray
    sub_lab: _PolygonLabeler
    country_codes: np.ndarray
    country_lab: _PolygonLabeler
    border_a: np.ndarray
    border_b: np.ndarray
    border_idx: _SegmentIndex | None
    reach_ids: np.ndarray
    reach_names: np.ndarray
    reach_country: np.ndarray
    reach_len: np.ndarray
    reach_dto: np.ndarray
    reach_border: np.ndarray
    reach_sub: np.ndarray
    reach_idx: _SegmentIndex | None
    sub_reach_idx: dict[str, tuple[np.ndarray, _SegmentIndex]]
    origins: dict[str, int]
    exit_up: np.ndarray  # (n_reaches, n_origins + 1): upstream-end dto of first reach not in origin
    ds_code: np.ndarray  # (n_reaches, n_origins + 1): code into ds_lists
    ds_lists: list[tuple[str, ...]]
    shared_lakes: tuple[_PolygonLabeler, _SegmentIndex] | None
    shared_bounds: tuple[float, float, float, float]
    continuation: str | None
    meta: dict[str, Any] = field(default_factory=dict)


_INDEX_CACHE: dict[int, tuple[Any, _BasinIndex]] = {}


def clear_cache() -> None:
    """Forget the per-basin indexes held in memory (the on-disk cache stays; it is keyed by content).

    Examples
    --------
    >>> clear_cache()
    """
    _INDEX_CACHE.clear()


def _basin_index(basin: Any) -> _BasinIndex:
    key = id(basin)
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0] is basin:
        return hit[1]
    cache_file = _index_cache_file(basin)
    idx = _read_index_cache(cache_file) if cache_file is not None else None
    if idx is None:
        idx = _build_index(basin)
        if cache_file is not None:
            _write_index_cache(cache_file, idx)
    if len(_INDEX_CACHE) >= _CACHE_MAX:
        _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
    _INDEX_CACHE[key] = (basin, idx)
    return idx


def _index_cache_file(basin: Any) -> Path | None:
    """Cache file of a basin loaded unchanged from ``data/basins/<id>.gpkg``; None otherwise.

    The name holds a digest of the GeoPackage (sha256 taken when it was
    loaded), the basin's ``basins.json`` entry, :data:`INDEX_CACHE_VERSION`,
    the source of this module, :mod:`riskmap.network` and :mod:`riskmap._geo`
    and the numpy/scipy/shapely/pyproj versions, so that any change of data
    or code misses.
    The folder is the user's cache, ``$XDG_CACHE_HOME/riskmap/index-cache``
    (default ``~/.cache``), never the data folder, which may be an installed
    package; ``$RISKMAP_INDEX_CACHE`` names another folder and
    ``RISKMAP_INDEX_CACHE=off`` disables the cache.
    """
    src = getattr(basin, "source_file", None)
    setting = os.environ.get("RISKMAP_INDEX_CACHE", "")
    if src is None or setting.lower() in ("0", "off", "no", "false"):
        return None
    gpkg, digest = src
    h = hashlib.sha256()
    for part in (digest, json.dumps(getattr(basin, "meta", None) or {}, sort_keys=True, default=str),
                 str(INDEX_CACHE_VERSION), _module_digest()):
        h.update(part.encode("utf-8") + b"\0")
    folder = Path(setting) if setting else _user_cache_dir() / "index-cache"
    return folder / f"{getattr(basin, 'id', 'basin')}-{h.hexdigest()[:24]}.pkl"


@functools.lru_cache(maxsize=1)
def _module_digest() -> str:
    """Digest of the code an index depends on: this module, the network model, geo helpers, library versions."""
    import scipy

    from riskmap import _geo, network

    h = hashlib.sha256()
    for mod in (__file__, network.__file__, _geo.__file__):
        h.update(Path(mod).read_bytes())
    h.update(f"{np.__version__} {scipy.__version__} {shapely.__version__} {pyproj.__version__}".encode())
    return h.hexdigest()


def _user_cache_dir() -> Path:
    """riskmap's folder in the user's cache: ``$XDG_CACHE_HOME/riskmap`` (default ``~/.cache/riskmap``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "riskmap"


def _cache_secret() -> bytes | None:
    """This user's key authenticating index-cache files (created on first use; None: no cache).

    Stored in ``$XDG_CACHE_HOME/riskmap/index-cache.key`` (default ``~/.cache``), mode 0600. A cache
    file not written with it (copied in with a data folder, tampered with) is ignored, never unpickled.
    """
    path = _user_cache_dir() / "index-cache.key"
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
        key = path.read_bytes()
    except OSError:  # another process just created it, or no writable home: try reading, else no cache
        try:
            key = path.read_bytes()
        except OSError:
            return None
    return key if len(key) == 32 else None


def _mac(key: bytes, data: bytes) -> bytes:
    """Keyed BLAKE2b (32 bytes) of a cache file's content: authenticates it before unpickling."""
    return hashlib.blake2b(data, key=key, digest_size=32).digest()


def _read_index_cache(path: Path) -> _BasinIndex | None:
    """The cached index, or None (missing, not authenticated, unreadable or stale: rebuilt)."""
    key = _cache_secret()
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    if key is None or len(blob) < 32:
        return None
    tag, data = blob[:32], blob[32:]
    if not hmac.compare_digest(tag, _mac(key, data)):
        return None
    try:
        idx = pickle.loads(data)  # authenticated: written by _write_index_cache with this user's key
    except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError):
        return None
    return idx if isinstance(idx, _BasinIndex) else None


def _write_index_cache(path: Path, idx: _BasinIndex) -> None:
    """Write atomically; drop older cache files of the same basin. A read-only folder is skipped."""
    key = _cache_secret()
    if key is None:
        return
    data = pickle.dumps(idx, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_mac(key, data))
                f.write(data)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        for old in path.parent.glob(f"{path.name.rsplit('-', 1)[0]}-*.pkl"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        return


def _ll(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        return gdf.to_crs("EPSG:4326")
    return gdf


def _build_index(basin: Any) -> _BasinIndex:
    bid = str(getattr(basin, "id", None) or getattr(basin, "name", "basin"))
    outline_gdf = _ll(basin.outline)
    outline = _union(outline_gdf.geometry)
    if outline is None:
        raise RiskmapInputError(f"basin {bid!r}: empty outline")
    bounds = tuple(float(v) for v in outline.bounds)
    crs = aeqd_for_bounds(bounds)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_ll = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def proj(geoms: Any) -> np.ndarray:
        # densify in degrees first: a straight lon/lat segment stays the same curve once projected
        arr = shapely.segmentize(np.asarray(geoms, dtype=object), _STEP_DEG)
        return shapely.transform(arr, lambda c: np.c_[to_xy.transform(c[:, 0], c[:, 1])])

    outline_lab = _PolygonLabeler([outline])
    outline_edge = _SegmentIndex(proj([shapely.boundary(outline)]))

    subs = _ll(basin.sub_basins)
    if subs is not None and len(subs):
        sub_names = subs["sub_basin"].map(_str_or_none).to_numpy(dtype=object)
        sub_lab = _PolygonLabeler(list(subs.geometry.to_numpy()))
    else:
        sub_names, sub_lab = np.array([], dtype=object), _PolygonLabeler([])

    ctry = _ll(basin.countries)
    if ctry is not None and len(ctry):
        country_codes = ctry["iso3"].map(_str_or_none).to_numpy(dtype=object)
        country_lab = _PolygonLabeler(list(ctry.geometry.to_numpy()))
    else:
        country_codes, country_lab = np.array([], dtype=object), _PolygonLabeler([])

    borders = _ll(basin.borders)
    if borders is not None and len(borders):
        border_a = borders["iso3_a"].map(_str_or_none).to_numpy(dtype=object)
        border_b = borders["iso3_b"].map(_str_or_none).to_numpy(dtype=object)
        border_idx = _SegmentIndex(proj(borders.geometry.to_numpy()))
        border_idx.attach_lonlat(to_ll)
    else:
        border_a = border_b = np.array([], dtype=object)
        border_idx = None

    reaches = _ll(basin.reaches)
    n = 0 if reaches is None else len(reaches)
    if n:
        net = network_of(basin, name=f"basin {bid!r}")
        reach_ids = net.ids
        reach_names = reaches["name"].map(_str_or_none).to_numpy(dtype=object) if "name" in reaches \
            else np.full(n, None, dtype=object)
        reach_country = reaches["country"].map(_str_or_none).to_numpy(dtype=object)
        reach_len = reaches["length_km"].to_numpy(dtype=float)
        reach_dto = reaches["dist_to_outlet_km"].to_numpy(dtype=float)
        reach_border = (reaches["is_border"].fillna(False).to_numpy(dtype=bool).copy() if "is_border" in reaches
                        else np.zeros(n, bool))
        reach_border |= np.array(["|" in (c or "") for c in reach_country], dtype=bool)
        reach_sub = (reaches["sub_basin"].map(_str_or_none).to_numpy(dtype=object) if "sub_basin" in reaches
                     else np.full(n, None, dtype=object))
        rgeom = proj(reaches.geometry.to_numpy())
        reach_idx = _SegmentIndex(rgeom)
        sub_reach_idx: dict[str, tuple[np.ndarray, _SegmentIndex]] = {}
        for s in pd.unique(reach_sub):
            if s is None:
                continue
            sel = np.flatnonzero(reach_sub == s)
            sub_reach_idx[s] = (sel, _SegmentIndex(rgeom[sel]))
        down_idx = net.down
        order_idx = net.flow_order  # each reach after its downstream reach (raises on a cycle)
    else:
        reach_ids = np.zeros(0, np.int64)
        reach_names = reach_country = reach_sub = np.array([], dtype=object)
        reach_len = reach_dto = np.zeros(0)
        reach_border = np.zeros(0, bool)
        reach_idx = None
        sub_reach_idx = {}
        down_idx = np.zeros(0, np.intp)
        order_idx = np.zeros(0, np.intp)

    # ---- per reach x origin country: what is downstream ------------------
    meta = dict(getattr(basin, "meta", None) or {})
    origin_list: list[str] = []
    for c in list(meta.get("riparian") or []) + [c for c in reach_country if c]:
        if c not in origin_list:
            origin_list.append(c)
    origins = {c: i for i, c in enumerate(origin_list)}
    n_o = len(origin_list) + 1  # last column: an origin that matches no reach
    up_end = reach_dto + reach_len
    seqs: list[tuple[str, ...]] = [()] * n
    exit_up = np.full((n, n_o), np.nan)
    ds_code = np.zeros((n, n_o), dtype=np.int64)
    lists: dict[tuple[str, ...], int] = {(): 0}
    code_of_country = (pd.Index(origin_list).get_indexer(pd.Series(reach_country, dtype=object))
                       if n else np.zeros(0, np.intp))
    for i in order_idx:
        d = down_idx[i]
        c = reach_country[i] or "unknown"
        tail = seqs[d] if d >= 0 else ()
        seqs[i] = tail if (tail and tail[0] == c) else (c,) + tail
        row = np.full(n_o, up_end[i])
        cc = code_of_country[i]
        if cc >= 0:
            row[cc] = exit_up[d, cc] if d >= 0 else np.nan
        exit_up[i] = row
        s = seqs[i]
        for o, oc in enumerate(origin_list + [None]):
            j = 0
            while j < len(s) and s[j] == oc:
                j += 1
            ds_code[i, o] = lists.setdefault(s[j:], len(lists))
    ds_lists = [None] * len(lists)  # type: ignore[list-item]
    for t, cidx in lists.items():
        ds_lists[cidx] = t

    lakes = _ll(getattr(basin, "lakes", None))
    shared = None
    shared_bounds = (np.nan,) * 4
    if lakes is not None and len(lakes):
        sh = lakes["shared"].fillna(False).to_numpy(dtype=bool) if "shared" in lakes else \
            np.array(["|" in str(c or "") for c in lakes.get("countries", [None] * len(lakes))])
        geoms = lakes.geometry.to_numpy()[sh]
        if len(geoms):  # inside (lon/lat labeller) or near the shore (projected segments)
            shared = (_PolygonLabeler(list(geoms)), _SegmentIndex(proj(shapely.boundary(geoms))))
            shared_bounds = tuple(float(v) for v in shapely.total_bounds(geoms))
    return _BasinIndex(
        id=bid, bounds=bounds, to_xy=to_xy, to_ll=to_ll, outline=outline, outline_lab=outline_lab,
        outline_edge=outline_edge, sub_names=sub_names, sub_lab=sub_lab, country_codes=country_codes,
        country_lab=country_lab, border_a=border_a, border_b=border_b, border_idx=border_idx,
        reach_ids=reach_ids, reach_names=reach_names, reach_country=reach_country, reach_len=reach_len,
        reach_dto=reach_dto, reach_border=reach_border, reach_sub=reach_sub, reach_idx=reach_idx,
        sub_reach_idx=sub_reach_idx, origins=origins, exit_up=exit_up,
        ds_code=ds_code, ds_lists=ds_lists, shared_lakes=shared, shared_bounds=shared_bounds,
        continuation=format_continuation(meta), meta=meta)


# --------------------------------------------------------------------------
# assess
# --------------------------------------------------------------------------


def _resolve_basins(basins: Any, data_dir: Any) -> list[Any]:
    if basins is None:
        basins = list(BASIN_IDS)
    if isinstance(basins, str) or not isinstance(basins, (list, tuple)):
        basins = [basins]
    out = []
    for b in basins:
        if isinstance(b, str):
            from riskmap.hydrography import load_basin

            out.append(load_basin(b, data_dir=data_dir))
        else:
            out.append(b)
    return out


def _site_points(sites: gpd.GeoDataFrame, idxs: list[_BasinIndex] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat of each site: the point itself, or for lines and footprints a point
    on their longest part inside a basin outline (else a representative point)."""
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
        for ix in idxs or []:
            part = shapely.intersection(arr[other], ix.outline)
            size = np.where(shapely.get_dimensions(arr[other]) == 1, shapely.length(part), shapely.area(part))
            better = size > best
            if better.any():
                best[better] = size[better]
                rp[better] = shapely.point_on_surface(part[better])
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
    buf = pd.Series(prec.to_numpy(dtype=object)).map(table).to_numpy(dtype="float64")
    buf = np.where(np.isnan(buf), table["exact"], buf)
    not_pt = ~(shapely.get_type_id(sites.geometry.to_numpy()) == 0)
    return np.where(not_pt, np.fmax(buf, table["lines"]), buf)


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
        inventory build uses; 2 km when the precision is missing.
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
    if not isinstance(sites, gpd.GeoDataFrame):
        raise RiskmapInputError("assess: sites must be a GeoDataFrame")
    if not (max_snap_km >= 0 and near_border_km >= 0 and (divide_buffer_km is None or divide_buffer_km >= 0)):
        raise RiskmapInputError("assess: max_snap_km, near_border_km and divide_buffer_km must be >= 0")
    if not (velocity_ms > 0 and math.isfinite(velocity_ms)):
        raise RiskmapInputError(f"assess: velocity_ms must be a positive number, got {velocity_ms!r}")
    idxs = [_basin_index(b) for b in _resolve_basins(basins, data_dir)]
    # country is a schema column (filled where blank); basin is written by `riskmap data build-sites` and
    # recomputed here (docs/schema.md, "Columns riskmap computes")
    sites, moved = set_aside_computed(sites, [c for c in EXPOSURE_COLUMNS if c not in ("country", "basin")])
    n = len(sites)
    lon, lat = _site_points(sites, idxs)
    buf_km = _divide_buffers(sites, divide_buffer_km)

    # ---- 1. basin by outline, then divide buffer -------------------------
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
            better = np.isfinite(d) & (d <= buf_km[cand] * 1000.0) & (d < best_d[cand])
            best_d[cand[better]] = d[better]
            bsel[cand[better]] = k

    cols: dict[str, Any] = {
        "basin": np.full(n, None, dtype=object), "sub_basin": np.full(n, None, dtype=object),
        "in_basin": in_basin, "country_poly": np.full(n, None, dtype=object),
        "border_km": np.full(n, np.nan), "border_neighbour": np.full(n, None, dtype=object),
        "reach_id": np.full(n, -1, dtype=np.int64), "reach_name": np.full(n, None, dtype=object),
        "snap_km": np.full(n, np.nan), "drainage_by": np.full(n, "none", dtype=object),
        "ds_basin": np.full(n, -1, dtype=np.intp), "ds_code": np.zeros(n, dtype=np.int64),
        "first_border_river_km": np.full(n, np.nan), "outlet_river_km": np.full(n, np.nan),
        "continuation": np.full(n, None, dtype=object), "on_border_water": np.zeros(n, dtype=bool),
        "reach_is_border": np.zeros(n, dtype=bool),
    }
    given = _clean_codes(sites["country"]) if "country" in sites.columns else np.full(n, None, dtype=object)
    for k, ix in enumerate(idxs):
        rows = np.flatnonzero(bsel == k)
        if len(rows):
            _assess_basin(ix, rows, lon[rows], lat[rows], given[rows], cols, k,
                          max_snap_km=max_snap_km)

    # ---- assemble ---------------------------------------------------------
    out = sites.copy()
    poly = cols["country_poly"]
    has_given = pd.notna(given)
    has_poly = pd.notna(poly)
    country = np.where(has_given, given, poly)
    check = np.full(n, None, dtype=object)
    check[has_given & has_poly & (given == poly)] = "ok"
    diff = has_given & has_poly & (given != poly)
    check[diff] = np.array([f"differs: location is in {p}" for p in poly[diff]], dtype=object)
    check[~has_given & has_poly] = "derived from location"
    check[~has_poly] = "not checked (outside the basin countries)"
    def obj(v: np.ndarray) -> pd.Series:  # keep object dtype: no per-row string conversion
        return pd.Series(v, index=out.index, dtype=object)

    out["basin"] = obj(cols["basin"])
    out["sub_basin"] = obj(cols["sub_basin"])
    out["in_basin"] = in_basin
    out["country"] = obj(country)
    out["country_check"] = obj(check)
    out["border_km"] = cols["border_km"]
    out["border_neighbour"] = obj(cols["border_neighbour"])
    rid = cols["reach_id"]
    out["reach_id"] = pd.array(np.where(rid >= 0, rid, 0), dtype="Int64")
    out.loc[rid < 0, "reach_id"] = pd.NA
    out["reach_name"] = obj(cols["reach_name"])
    out["snap_km"] = cols["snap_km"]
    out["drainage_by"] = obj(cols["drainage_by"])
    ds = np.empty(n, dtype=object)
    has_path = cols["ds_basin"] >= 0
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
    out["downstream_countries"] = obj(ds)
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
    out["first_border_river_km"] = fb
    out["outlet_river_km"] = dto
    out["river_km_basis"] = obj(basis)
    out["continuation"] = obj(cols["continuation"])
    out["travel_time_h"] = fb * 1000.0 / velocity_ms / 3600.0
    trans = has_path & (ds_len > 0)
    out["transboundary_downstream"] = pd.array(np.where(has_path, trans, False), dtype="boolean")
    out.loc[~has_path, "transboundary_downstream"] = pd.NA
    bk = cols["border_km"]
    near = pd.array(bk <= near_border_km, dtype="boolean")
    near[np.isnan(bk)] = pd.NA
    out["near_border"] = near
    obw = pd.array(cols["on_border_water"], dtype="boolean")
    obw[~has_path] = pd.NA
    out["on_border_water"] = obw
    out["exposure_class"] = obj(_classify(has_path, trans, fb, cols["on_border_water"],
                                      np.nan_to_num(bk, nan=np.inf) <= near_border_km,
                                      cols["basin"]))
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
    return np.select(
        [~in_b,
         has_path & (on_water | (trans & (fk <= VERY_HIGH_RIVER_KM))),
         (trans & (fk <= HIGH_RIVER_KM)) | near,
         trans],
        ["outside", "very high", "high", "medium"], default="low").astype(object)


def _assess_basin(ix: _BasinIndex, rows: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                  given: np.ndarray, cols: dict[str, Any], k: int, *, max_snap_km: float) -> None:
    m = len(rows)
    cols["basin"][rows] = ix.id
    cols["continuation"][rows] = ix.continuation
    x, y = ix.to_xy.transform(lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    # sub-basin and country by point in polygon
    si = ix.sub_lab.label(lon, lat)
    sub = np.full(m, None, dtype=object)
    if len(ix.sub_names):
        sub[si >= 0] = ix.sub_names[si[si >= 0]]
    ci = ix.country_lab.label(lon, lat)
    poly = np.full(m, None, dtype=object)
    if len(ix.country_codes):
        poly[ci >= 0] = ix.country_codes[ci[ci >= 0]]
    cols["country_poly"][rows] = poly
    # the path starts in the country the site physically lies in; the given code when unknown
    origin = np.where(pd.notna(poly), poly, given)

    # border distance: nearest point in the local projection, length geodesic
    if ix.border_idx is not None:
        r = ix.border_idx.nearest(x, y)
        ok = r["line"] >= 0
        if ok.any():
            _, _, dist = GEOD.inv(lon[ok], lat[ok], r["nlon"][ok], r["nlat"][ok])
            bk = np.full(m, np.nan)
            bk[ok] = np.asarray(dist) / 1000.0
            cols["border_km"][rows] = bk
            a = ix.border_a[r["line"][ok]]
            b = ix.border_b[r["line"][ok]]
            o = origin[ok]
            nb = np.where(a == o, b, np.where(b == o, a, None)).astype(object)
            odd = np.flatnonzero(pd.isna(nb))
            nb[odd] = [f"{p}|{q}" for p, q in zip(a[odd], b[odd])]  # site on neither side
            tmp = np.full(m, None, dtype=object)
            tmp[ok] = nb
            cols["border_neighbour"][rows] = tmp

    if ix.reach_idx is None:
        cols["sub_basin"][rows] = sub
        return
    # snap to the network
    r = ix.reach_idx.nearest(x, y, max_dist=max_snap_km * 1000.0)
    reach = r["line"].copy()
    dist = r["dist"].copy()
    frac = r["frac"].copy()
    how = np.where(reach >= 0, "river snap", "basin allocation").astype(object)
    # sites outside sub-basin polygons (divide buffer, slivers): sub-basin of the nearest reach
    far = np.flatnonzero(reach < 0)
    if len(far):
        fsub = sub[far]
        for s in pd.unique(fsub):
            grp = far[fsub == s] if s is not None else far[pd.isna(fsub)]
            if s is not None and s in ix.sub_reach_idx:
                sel, sidx = ix.sub_reach_idx[s]
                rr = sidx.nearest(x[grp], y[grp])
                got = rr["line"] >= 0
                reach[grp[got]] = sel[rr["line"][got]]
                dist[grp[got]], frac[grp[got]] = rr["dist"][got], rr["frac"][got]
            else:
                rr = ix.reach_idx.nearest(x[grp], y[grp])
                got = rr["line"] >= 0
                reach[grp[got]] = rr["line"][got]
                dist[grp[got]], frac[grp[got]] = rr["dist"][got], rr["frac"][got]
    nosub = pd.isna(sub) & (reach >= 0)
    sub[nosub] = ix.reach_sub[reach[nosub]]
    cols["sub_basin"][rows] = sub
    ok = reach >= 0
    how[~ok] = "none"
    cols["drainage_by"][rows] = how
    rsafe = np.where(ok, reach, 0)
    rid = np.where(ok, ix.reach_ids[rsafe], -1)
    cols["reach_id"][rows] = rid
    names = ix.reach_names[rsafe].copy()
    names[~ok] = None
    cols["reach_name"][rows] = names
    cols["snap_km"][rows] = np.where(ok, dist / 1000.0, np.nan)

    # along-river distances
    L = ix.reach_len[rsafe]
    site_dto = ix.reach_dto[rsafe] + (1.0 - np.nan_to_num(frac, nan=0.0)) * L
    n_o = ix.exit_up.shape[1]
    okeys = pd.Index(list(ix.origins))
    ocode = okeys.get_indexer(pd.Series(origin, dtype=object))
    ocode = np.where(ocode >= 0, ocode, n_o - 1)  # a country no reach is in
    rc = okeys.get_indexer(pd.Series(ix.reach_country, dtype=object))
    rc = np.where(rc >= 0, rc, n_o - 1)
    ocode = np.where(pd.notna(origin), ocode, rc[rsafe])  # unknown origin: the reach's country
    ex = ix.exit_up[rsafe, ocode]
    first = np.maximum(site_dto - ex, 0.0)
    first = np.where(ok, first, np.nan)
    cols["first_border_river_km"][rows] = first
    cols["outlet_river_km"][rows] = np.where(ok, site_dto, np.nan)
    cols["ds_basin"][rows] = np.where(ok, k, -1)
    cols["ds_code"][rows] = ix.ds_code[rsafe, ocode]
    onw = ok & (how == "river snap") & ix.reach_border[rsafe]
    if ix.shared_lakes is not None:
        lab, shore = ix.shared_lakes
        lim_deg = max_snap_km / 60.0 + 0.01  # generous: 1 deg >= 60 km at these latitudes
        bx0, by0, bx1, by1 = ix.shared_bounds
        c = np.flatnonzero(ok & ~onw & (lon >= bx0 - 2 * lim_deg) & (lon <= bx1 + 2 * lim_deg)
                           & (lat >= by0 - lim_deg) & (lat <= by1 + lim_deg))
        if len(c):
            near = lab.label(lon[c], lat[c]) >= 0
            rest = c[~near]
            near_shore = shore.nearest(x[rest], y[rest], max_dist=max_snap_km * 1000.0)["line"] >= 0
            onw[c[near]] = True
            onw[rest[near_shore]] = True
    cols["on_border_water"][rows] = onw


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


# --------------------------------------------------------------------------
# Downstream population (GeoNames places along the downstream path)
# --------------------------------------------------------------------------

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
    from pathlib import Path

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
    >>> pop = downstream_population(assess(sites))  # doctest: +SKIP
    """
    if not (radius_km >= 0 and first_km >= 0):
        raise RiskmapInputError("downstream_population: radius_km and first_km must be >= 0")
    n = len(assessed)
    out = {c: np.full(n, np.nan) for c in POPULATION_COLUMNS if c != "downstream_pop_by_country"}
    by_country = np.full(n, None, dtype=object)
    places = load_places() if places is None else places.to_crs("EPSG:4326")
    bmap = {b.id: b for b in _resolve_basins(basins, data_dir)}
    basin_col = assessed["basin"].to_numpy(dtype=object) if "basin" in assessed.columns else np.full(n, None)
    rid = pd.to_numeric(assessed["reach_id"], errors="coerce").to_numpy(dtype=float) \
        if "reach_id" in assessed.columns else np.full(n, np.nan)
    fb = pd.to_numeric(assessed.get("first_border_river_km", pd.Series(np.nan, index=assessed.index)),
                       errors="coerce").to_numpy(dtype=float)
    tb = assessed.get("transboundary_downstream", pd.Series(pd.NA, index=assessed.index)).astype("boolean")
    never_leaves = (tb == False).fillna(False).to_numpy(dtype=bool)  # noqa: E712 - nullable boolean
    # allocated sites first cross an unmapped stretch at least as long as the straight line to their reach
    # (as for first_border_river_km): along-path km are counted from the site, places on that stretch are missed
    alloc = (assessed["drainage_by"] == "basin allocation").to_numpy(dtype=bool) \
        if "drainage_by" in assessed.columns else np.zeros(n, dtype=bool)
    snap = pd.to_numeric(assessed.get("snap_km", pd.Series(np.nan, index=assessed.index)),
                         errors="coerce").fillna(0.0).to_numpy(dtype=float)
    offset = np.where(alloc, snap, 0.0)
    geom = assessed.geometry if isinstance(assessed, gpd.GeoDataFrame) else None
    pts = geom.to_crs("EPSG:4326").representative_point() if geom is not None else None
    pop_all = places["population"].to_numpy(dtype=float)
    ctry_all = places["country"].astype(object).to_numpy()
    for bid, basin in bmap.items():
        rows = np.flatnonzero((basin_col == bid) & np.isfinite(rid))
        if not len(rows) or pts is None:
            continue
        crs, by_id = _projected_reaches(basin)
        x0, y0, x1, y1 = basin.reaches.to_crs("EPSG:4326").total_bounds
        pad = radius_km / 60.0 + 0.05
        sel = (places.geometry.x.between(x0 - 2 * pad, x1 + 2 * pad) & places.geometry.y.between(y0 - pad, y1 + pad))
        pl_idx = np.flatnonzero(sel.to_numpy())
        pl_geom = places.geometry.iloc[pl_idx].to_crs(crs).to_numpy()
        site_geom = pts.iloc[rows].to_crs(crs).to_numpy()
        # place-reach pairs within the radius, once per basin: (place, reach, distance, position on the reach)
        rgeom = by_id.to_numpy()
        rids = by_id.index.to_numpy()
        pi, ri = shapely.STRtree(rgeom).query(pl_geom, predicate="dwithin", distance=radius_km * 1000.0)
        pdist = shapely.distance(pl_geom[pi], rgeom[ri])
        ppos = shapely.line_locate_point(rgeom[ri], pl_geom[pi]) / 1000.0
        pair_rid = rids[ri]
        rlen = pd.Series(shapely.length(rgeom) / 1000.0, index=rids)
        by_reach = rows[np.argsort(rid[rows], kind="stable")]
        starts = np.flatnonzero(np.r_[True, np.diff(rid[by_reach]) != 0])
        for srows in np.split(by_reach, starts[1:]):  # one path per distinct start reach, shared by its sites
            r = int(rid[srows[0]])
            path = basin.downstream_path(r)["reach_id"].to_numpy()
            upstream_end = pd.Series(np.concatenate([[0.0], np.cumsum(rlen.loc[path].to_numpy())[:-1]]), index=path)
            on = np.isin(pair_rid, path)
            # each place once: at its nearest reach of the path, position = km from the path's start
            cand = pd.DataFrame({"p": pi[on], "d": pdist[on],
                                 "s": upstream_end.loc[pair_rid[on]].to_numpy() + ppos[on]})
            cand = cand.sort_values(["p", "d"], kind="stable").drop_duplicates("p")
            k = pl_idx[cand["p"].to_numpy()]
            s_pl = cand["s"].to_numpy()
            s_site = shapely.line_locate_point(by_id.loc[r], site_geom[np.searchsorted(rows, srows)]) / 1000.0
            order = np.argsort(s_pl, kind="stable")
            s_pl, k = s_pl[order], k[order]
            pop = pop_all[k]
            cum = np.concatenate([[0.0], np.cumsum(pop)])  # prefix sums over places sorted along the path
            off = offset[srows]
            lo = np.searchsorted(s_pl, s_site, side="left")  # first place at or below the site

            def upto(km: np.ndarray) -> np.ndarray:
                """Index past the last place within ``km`` along-path km of the site (km counted from the site)."""
                return np.maximum(np.searchsorted(s_pl, s_site + km - off, side="right"), lo)

            hi_first = upto(np.full(len(srows), first_km))
            out["downstream_pop_first_km"][srows] = cum[hi_first] - cum[lo]
            out["downstream_places_first_km"][srows] = hi_first - lo
            out["downstream_pop_total"][srows] = cum[-1] - cum[lo]
            lim = np.where(never_leaves[srows], np.inf, fb[srows])
            hi_b = upto(np.where(np.isnan(lim), 0.0, lim))
            out["downstream_pop_to_border"][srows] = np.where(np.isnan(lim), np.nan, cum[hi_b] - cum[lo])
            ctry = pd.Series(ctry_all[k], dtype=object).fillna("unknown").to_numpy()
            codes = sorted(set(ctry.tolist()))
            ccum = [np.concatenate([[0.0], np.cumsum(np.where(ctry == c, pop, 0.0))]) for c in codes]
            per = np.stack([cc[-1] - cc[lo] for cc in ccum], axis=1) if codes else np.zeros((len(srows), 0))
            # sites of one reach share few distinct totals: one JSON text per distinct row
            uniq, inv = np.unique(per, axis=0, return_inverse=True)
            texts = np.array([json.dumps({c: int(v) for c, v in zip(codes, u) if v > 0}, sort_keys=True)
                              for u in uniq], dtype=object)
            by_country[srows] = texts[np.asarray(inv).reshape(-1)]
    frame = pd.DataFrame({c: out[c] for c in out}, index=assessed.index)
    frame["downstream_pop_by_country"] = pd.Series(by_country, index=assessed.index, dtype=object)
    frame.attrs["population"] = {"radius_km": radius_km, "first_km": first_km,
                                 "places": "data/sites/places.csv (GeoNames cities500, population >= 1,000)"}
    return frame[list(POPULATION_COLUMNS)]
