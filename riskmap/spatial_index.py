"""Vectorised point lookups used by the exposure index: nearest line vertex and point-in-polygon.

``SegmentIndex`` finds the nearest of many projected lines for millions of
points (k-d trees over densified vertices, a coarse copy far from the
lines, an exact fallback where the approximation could matter);
``PolygonLabeler`` labels lon/lat points with the polygon they fall in
(a lookup grid for large batches, exact tests at the cell edges). Used by
:mod:`riskmap.basin_index`.
"""

from __future__ import annotations

import functools
import math
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree




# Densification step (m) of reaches and borders for the k-d tree search: the
# distance error of the nearest-segment search is at most half of it, and is
# removed entirely (exact fallback) where it could matter (see SegmentIndex).
_STEP_M = 250.0
_STEP_DEG = 0.0025
# Far from the lines (beyond _FAR_M) the search runs on a coarse copy: simplified
# by _COARSE_TOL_M and densified to _COARSE_STEP_M; distance error there is at most
# _COARSE_TOL_M + _COARSE_STEP_M**2 / (8 * _FAR_M) = 20 + 25 m (<= 0.25 %).
_FAR_M = 20_000.0
_COARSE_TOL_M = 20.0
_COARSE_STEP_M = 2_000.0
#: Polygon lookup grids are built on the first query of at least this many points (fewer: exact tests).
_GRID_MIN_POINTS = 5_000
_N_THREADS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)))


# --------------------------------------------------------------------------
# Vectorised geometry helpers
# --------------------------------------------------------------------------

#: A local azimuthal-equidistant CRS of :func:`riskmap._geo.local_aeqd` (its PROJ string).
_LOCAL_AEQD = re.compile(r"\+proj=aeqd \+lat_0=(\S+) \+lon_0=(\S+) \+x_0=0 \+y_0=0 \+datum=WGS84 \+units=m \+no_defs"
                         r"(?: \+type=crs)?$")
_WGS84 = pyproj.CRS("EPSG:4326")


@functools.lru_cache(maxsize=32)
def lonlat_transformer(crs: pyproj.CRS) -> pyproj.Transformer:
    """EPSG:4326 -> ``crs`` (``always_xy``): the transformation ``Transformer.from_crs`` makes, made once per CRS.

    For riskmap's local AEQD (:func:`riskmap._geo.local_aeqd`) it is made directly from the PROJ
    pipeline ``from_crs`` chooses for it (degrees to radians, then the projection on the WGS84
    ellipsoid; no datum change), which gives the same numbers and is made some 50 times faster
    (``from_crs`` searches the PROJ database: ~10 ms, as long as projecting thousands of vertices).
    ``crs`` is a :class:`pyproj.CRS`; the result a :class:`pyproj.Transformer` from lon/lat (degrees).

    Examples
    --------
    >>> from riskmap._geo import local_aeqd
    >>> x, y = lonlat_transformer(local_aeqd(19.5, 42.5)).transform(19.5, 43.5)
    >>> round(abs(x), 3), round(y / 1000.0, 1)  # 1 degree north of the centre: 111 km
    (0.0, 111.1)
    """
    m = _LOCAL_AEQD.match(crs.srs or "")
    if m is None:
        return pyproj.Transformer.from_crs(_WGS84, crs, always_xy=True)
    return pyproj.Transformer.from_pipeline(
        f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=aeqd +lat_0={m[1]} "
        f"+lon_0={m[2]} +x_0=0 +y_0=0 +ellps=WGS84")


def _project(geoms: np.ndarray, src: pyproj.CRS | None, crs: pyproj.CRS) -> np.ndarray:
    """Geometries (CRS ``src``) in ``crs``: the numbers :meth:`geopandas.GeoSeries.to_crs` gives, without its frames.

    From lon/lat through :func:`lonlat_transformer`; from any other CRS through ``to_crs`` itself.
    """
    if src is not None and src == _WGS84:
        tr = lonlat_transformer(crs)
        return shapely.transform(np.asarray(geoms, dtype=object),
                                 lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return gpd.GeoSeries(geoms, crs=src).to_crs(crs).values


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


def _geoms_to_arrays(geoms: Sequence[Any], prefix: str) -> dict[str, np.ndarray]:
    """Geometries (None allowed) as one WKB byte array plus lengths (-1: None), for the index cache."""
    wkb = [b"" if g is None else shapely.to_wkb(g) for g in geoms]
    return {f"{prefix}wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
            f"{prefix}wkb_len": np.array([len(w) if g is not None else -1 for w, g in zip(wkb, geoms)],
                                         dtype=np.int64)}


def _geoms_from_arrays(a: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """The geometries saved by :func:`_geoms_to_arrays` (object array)."""
    buf = a[f"{prefix}wkb"].tobytes()
    lens = a[f"{prefix}wkb_len"].tolist()
    ends = np.cumsum(np.maximum(lens, 0)).tolist() if lens else []
    parts = [None if n < 0 else buf[e - n:e] for n, e in zip(lens, ends)]
    return shapely.from_wkb(np.array(parts, dtype=object)) if parts else np.array([], dtype=object)


class SegmentIndex:
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

    ``lines``: array of shapely lines in a projected CRS (metres); ``step``: densification step (m);
    ``coarse``: also keep a simplified copy for far points (see :meth:`nearest`).

    Examples
    --------
    >>> idx = SegmentIndex(np.array([shapely.LineString([(0, 0), (1000, 0)])], dtype=object), step=100.0)
    >>> r = idx.nearest(np.array([500.0]), np.array([30.0]))
    >>> int(r["line"][0]), float(r["dist"][0]), float(r["frac"][0])
    (0, 30.0, 0.5)
    """

    #: Arrays read by :meth:`from_arrays`, turned into the search arrays on first use (:meth:`__getattr__`).
    _pending: dict[str, np.ndarray]

    def __init__(self, lines: np.ndarray, step: float = _STEP_M, coarse: bool = True) -> None:
        lines = np.asarray(lines, dtype=object)
        self.coarse: SegmentIndex | None = None
        if coarse and step < _COARSE_STEP_M:
            self.coarse = SegmentIndex(shapely.simplify(lines, _COARSE_TOL_M), _COARSE_STEP_M, coarse=False)
        parts, owner = shapely.get_parts(shapely.segmentize(lines, step), return_index=True)
        keep = ~shapely.is_empty(parts)
        parts, owner = parts[keep], owner[keep]
        xy, vpart = shapely.get_coordinates(parts, return_index=True)
        self._setup(xy, vpart, owner[vpart] if len(xy) else np.zeros(0, np.intp), len(lines), step)
        if self.n:
            self._upper_bound(np.zeros(1), np.zeros(1))  # build the search grid now (cached index)

    def _setup(self, xy: np.ndarray, vpart: np.ndarray, vowner: np.ndarray, n_lines: int, step: float) -> None:
        """Segment arrays from the densified vertices ``xy``, their part and their line (``vowner``)."""
        self.n_lines = int(n_lines)
        self.step = float(step)
        self._xy, self._vpart = xy, vpart
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
        self.seglen = np.sqrt(l2)
        vline = np.full(n + 1, -1, dtype=np.intp)
        vline[:n] = vowner
        self.vline = vline
        self.vcum, self.part_len = self._along(vpart, same)
        self._tree: Any = None  # the k-d tree: built on the first query
        self._strtree: tuple[np.ndarray, shapely.STRtree] | None = None
        self._grid: tuple[float, float, float, Any] | None = None
        self.vlon: np.ndarray | None = None

    def _along(self, vpart: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Along-part distance (m) at each vertex and total length of its part."""
        n = self.n
        cum = np.zeros(n + 1)
        part_len = np.zeros(n + 1)
        if n:
            c = np.concatenate([[0.0], np.cumsum(self.seglen[:n] * same[:n])[:-1]])
            first = np.r_[True, vpart[1:] != vpart[:-1]]
            start_val = np.maximum.accumulate(np.where(first, c, -np.inf))
            cum[:n] = c - start_val
            plen = np.bincount(vpart, weights=self.seglen[:n] * same[:n], minlength=vpart.max() + 1)
            part_len[:n] = plen[vpart]
        return cum, part_len

    @property
    def tree(self) -> Any:
        """:class:`scipy.spatial.cKDTree` of the vertices (None without any), built on first use."""
        if self._tree is None and self.n:
            # balanced (the default): an unbalanced tree builds twice as fast but returns another of
            # equidistant vertices (a confluence node is shared by three reaches), so another reach
            self._tree = cKDTree(self._xy)
        return self._tree

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Plain arrays for the on-disk index cache (see :meth:`from_arrays`): no pickled objects."""
        small = np.int32 if self.n < 2**31 else np.int64  # indexes: 4 bytes each in the cache file
        a = {f"{prefix}xy": self._xy, f"{prefix}vpart": self._vpart.astype(small),
             f"{prefix}vline": self.vline[:self.n].astype(small),
             f"{prefix}size": np.array([self.n_lines, self.step])}
        if self._grid is not None:
            x0, y0, cell, near = self._grid
            runs = near if isinstance(near, _Runs) else _Runs.encode(near)
            a.update({f"{prefix}grid": np.array([x0, y0, cell]), f"{prefix}grid_shape": np.array(runs.shape),
                      f"{prefix}grid_starts": runs.starts, f"{prefix}grid_values": runs.values})
        if self.vlon is not None:
            a[f"{prefix}vlon"], a[f"{prefix}vlat"] = self.vlon, self.vlat
        if self.coarse is not None:
            a.update(self.coarse.to_arrays(prefix + "coarse."))
        return a

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str) -> SegmentIndex:
        """The index saved by :meth:`to_arrays` (same answers; the k-d tree is rebuilt on first use).

        The segment arrays are derived on first use (:meth:`__getattr__`): a cached basin index holds
        many indexes of which a small batch of sites uses a few.
        """
        self = cls.__new__(cls)
        self.coarse = cls.from_arrays(a, prefix + "coarse.") if f"{prefix}coarse.xy" in a else None
        self._pending = {k[len(prefix):]: v for k, v in a.items()
                         if k.startswith(prefix) and not k.startswith(prefix + "coarse.")}
        return self

    def __getattr__(self, name: str) -> Any:
        """Finish an index read by :meth:`from_arrays` on the first use of one of its arrays."""
        pending = self.__dict__.pop("_pending", None)
        if pending is None:
            raise AttributeError(name)
        self._finish(pending)
        return getattr(self, name)

    def _finish(self, a: dict[str, np.ndarray]) -> None:
        n_lines, step = a["size"]
        self._setup(a["xy"].reshape(-1, 2), a["vpart"].astype(np.intp), a["vline"].astype(np.intp),
                    int(n_lines), float(step))
        if "grid" in a:
            x0, y0, cell = (float(v) for v in a["grid"])
            h, w = (int(v) for v in a["grid_shape"])
            self._grid = (x0, y0, cell, _Runs((h, w), a["grid_starts"], a["grid_values"]))
        if "vlon" in a:
            self._lonlat(a["vlon"], a["vlat"])

    def attach_lonlat(self, to_ll: pyproj.Transformer) -> None:
        """Keep vertex lon/lat so that nearest points come back in lon/lat too."""
        lo, la = to_ll.transform(self.vx, self.vy)
        self._lonlat(np.asarray(lo, dtype=float), np.asarray(la, dtype=float))
        if self.coarse is not None:
            self.coarse.attach_lonlat(to_ll)

    def _lonlat(self, vlon: np.ndarray, vlat: np.ndarray) -> None:
        self.vlon, self.vlat = vlon, vlat
        self.dlon = np.zeros_like(self.vlon)
        self.dlat = np.zeros_like(self.vlat)
        self.dlon[:-1] = np.where(self.seg_ok[:-1], self.vlon[1:] - self.vlon[:-1], 0.0)
        self.dlat[:-1] = np.where(self.seg_ok[:-1], self.vlat[1:] - self.vlat[:-1], 0.0)

    def _upper_bound(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distance to *some* vertex near each point: an upper bound on the nearest-vertex distance.

        From a distance transform of the occupied grid cells (k-d tree queries
        far from the data are slow without one).
        """
        if self._grid is None:
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

        ``x``, ``y``: the points (CRS of the lines); ``max_dist``: farthest distance searched (m);
        ``k``: vertices looked at first per point; ``exact_within``: distances up to this (m) are exact.

        Returns a dict of arrays: ``line`` (line index, -1 if none within ``max_dist``), ``dist`` (m),
        ``nx``, ``ny`` (nearest point) and ``frac`` (position of the nearest point along its line part, 0..1).
        """
        x = np.ascontiguousarray(x, dtype=float)
        y = np.ascontiguousarray(y, dtype=float)
        m = len(x)
        if m == 0 or self.tree is None:
            return {"line": np.full(m, -1, dtype=np.intp), "dist": np.full(m, np.nan),
                    "nx": np.full(m, np.nan), "ny": np.full(m, np.nan), "frac": np.full(m, np.nan)}
        ub = np.inf if max_dist is None else max_dist + self.step
        half = self.step / 2 + 1e-6
        if max_dist is None and self.coarse is not None and self.coarse.tree is not None:
            # far points: the coarse copy is accurate enough (see _FAR_M); near ones: fine search.
            # The grid bound is >= the true distance, so points under _FAR_M are surely near.
            near_ub = self._upper_bound(x, y)
            maybe_far = np.flatnonzero(near_ub > _FAR_M)
            if len(maybe_far):
                rc = self.coarse.nearest(x[maybe_far], y[maybe_far], k=k, exact_within=0.0)
                far = rc["dist"] > _FAR_M
                is_fine = np.ones(m, dtype=bool)
                is_fine[maybe_far[far]] = False
                fine = np.flatnonzero(is_fine)
                rn = self._nearest_fine(x[fine], y[fine], ub, half, k, exact_within, near_ub[fine])
                out: dict[str, np.ndarray] = {}
                for key in rn:
                    out[key] = np.empty(m, dtype=rn[key].dtype)
                    out[key][fine] = rn[key]
                    out[key][maybe_far[far]] = rc[key][far]
                return out
        return self._nearest_fine(x, y, ub, half, k, exact_within)

    def _nearest_fine(self, x: np.ndarray, y: np.ndarray, ub: float, half: float, k: int = 2,
                      exact_within: float = 1000.0, near_ub: np.ndarray | None = None) -> dict[str, np.ndarray]:
        m = len(x)
        out = {"line": np.full(m, -1, dtype=np.intp), "dist": np.full(m, np.nan),
               "nx": np.full(m, np.nan), "ny": np.full(m, np.nan), "frac": np.full(m, np.nan)}
        if self.vlon is not None:
            out["nlon"], out["nlat"] = np.full(m, np.nan), np.full(m, np.nan)
        if m == 0:
            return out
        near_ub = self._upper_bound(x, y) if near_ub is None else near_ub  # computed once per point
        bd, bseg, bt, unsure = self._run(x, y, k, ub, half, exact_within, near_ub)
        if unsure.any():
            ui = np.flatnonzero(unsure)
            bd2, bseg2, bt2, uns2 = self._run(x[ui], y[ui], 24, ub, half, exact_within, near_ub[ui])
            bd[ui], bseg[ui], bt[ui] = bd2, bseg2, bt2
            if uns2.any():
                vi = ui[uns2]
                bd[vi], bseg[vi], bt[vi] = self._exact(x[vi], y[vi])
        ok = np.isfinite(bd)
        if np.isfinite(ub):
            ok &= bd <= ub - self.step
        self._write(out, ok, bd, bseg, bt)
        return out

    def _k_nearest(self, xs: np.ndarray, ys: np.ndarray, kk: int, ub: float, near_ub: np.ndarray,
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indexes of the ``kk`` nearest vertices (k-d tree; ``n`` where none within the bound).

        ``near_ub``: :meth:`_upper_bound` of the points.
        """
        # per-point search radius: a vertex known to be near, plus room for k-1 more
        # (k-d tree queries are fast only when bounded); bucketed in 5 % steps
        bound = np.minimum(near_ub + (kk + 1) * self.step, ub)
        lvl = np.ceil(np.log(np.maximum(bound, 1.0)) / np.log(1.05)).astype(np.int64)
        dk = np.full((len(xs), kk), np.inf)
        ik = np.full((len(xs), kk), self.n, dtype=np.intp)
        order = np.argsort(lvl, kind="stable")
        levels, starts = np.unique(lvl[order], return_index=True)
        groups = np.split(order, starts[1:])
        tree = self.tree

        def query(j: int) -> None:  # cKDTree releases the GIL: buckets run in parallel
            sel = groups[j]
            r = min(float(1.05 ** levels[j]), ub)
            d_, i_ = tree.query(np.c_[xs[sel], ys[sel]], k=kk, distance_upper_bound=r)
            if kk == 1:
                d_, i_ = d_[:, None], i_[:, None]
            dk[sel], ik[sel] = d_, i_

        if len(xs) > 20_000 and _N_THREADS > 1:
            with ThreadPoolExecutor(_N_THREADS) as ex:
                list(ex.map(query, range(len(groups))))
        else:
            for j in range(len(groups)):
                query(j)
        return dk, ik

    def _run(self, xs: np.ndarray, ys: np.ndarray, kk: int, ub: float, half: float, exact_within: float,
             near_ub: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Best segment near the ``kk`` nearest vertices, and which points are not provably resolved."""
        kk = int(min(kk, self.n))
        dk, ik = self._k_nearest(xs, ys, kk, ub, near_ub)
        bd, bseg, bt = self._best(xs, ys, ik)
        unsure = np.isfinite(dk[:, -1]) & (dk[:, -1] < bd + half) & (bd <= exact_within)
        return bd, bseg, bt, unsure

    def _write(self, out: dict[str, np.ndarray], ok: np.ndarray, bd: np.ndarray, bseg: np.ndarray,
               bt: np.ndarray) -> None:
        """Line, distance, nearest point (projected and lon/lat) and position along the line, where ``ok``."""
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


class PolygonLabeler:
    """Point-in-polygon labelling through a lookup grid plus exact tests.

    The polygons (lon/lat) are burnt into a grid; cells touched by any
    polygon boundary (dilated by one cell) are marked "mixed". A point in a
    pure cell takes the cell's label; a point in a mixed cell is tested
    exactly with :func:`shapely.contains_xy` on the prepared polygons, so the
    result equals an exact point-in-polygon join. A point in no interior that lies on a
    boundary (a site exactly on a border line) takes the first polygon it touches.
    Overlapping polygons: the first one wins.

    ``polygons``: shapely polygons (lon/lat; None or empty ones contain nothing); ``max_cells``: the
    largest number of cells of the lookup grid.

    Examples
    --------
    >>> lab = PolygonLabeler([shapely.box(19, 42, 20, 43), shapely.box(20, 42, 21, 43)])
    >>> lab.label(np.array([19.5, 20.5, 25.0]), np.array([42.5, 42.5, 42.5])).tolist()
    [0, 1, -1]
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

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Plain arrays for the on-disk index cache: the polygons as WKB (the grid is built on demand)."""
        return {**_geoms_to_arrays(self.polys, prefix), f"{prefix}max_cells": np.array([self.max_cells])}

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], prefix: str) -> PolygonLabeler:
        """The labeller saved by :meth:`to_arrays`."""
        return cls(list(_geoms_from_arrays(a, prefix)), max_cells=float(a[f"{prefix}max_cells"][0]))

    def label(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index of the (first) polygon containing each point (``lon``, ``lat`` arrays), -1 for none."""
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
        return self._on_boundary(lon, lat, todo, out)

    def _on_boundary(self, lon: np.ndarray, lat: np.ndarray, todo: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Points in no interior but on a boundary (a site exactly on a border) take the first polygon touched."""
        for i, p in enumerate(self.polys):
            if len(todo) == 0:
                break
            bx0, by0, bx1, by1 = self.bboxes[i]  # NaN for a missing polygon: selects nothing
            sel = (lon[todo] >= bx0) & (lon[todo] <= bx1) & (lat[todo] >= by0) & (lat[todo] <= by1)
            if p is None or p.is_empty or not sel.any():
                continue
            idx = todo[sel]
            hit = shapely.intersects_xy(p, lon[idx], lat[idx])
            out[idx[hit]] = i
            todo = np.setdiff1d(todo, idx[hit], assume_unique=True)
        return out
