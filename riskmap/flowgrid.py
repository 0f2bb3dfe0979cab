"""Sites located on a DEM: walk each site's own cell down the D8 flow grid to the river network.

A basin built from a DEM (:mod:`riskmap.databuild.dem`) keeps its flow directions next to its
GeoPackage (``<id>.flowdir.npz``: pyflwdir D8 codes, 247 outside the basin, and the country of each
cell). :func:`load_flowgrid` reads it; :meth:`FlowGrid.locate` starts at the cell each site stands
in, follows the flow directions until the first stream cell (a vertex cell of a DEM reach) and
returns that reach, the position along it (``frac``: 0 at its upstream end, 1 at its downstream
end) and the length of the overland flow path (km, geodesic between cell centres), plus the km
along that path at which it first leaves the site's country. Vectorised over sites: one step of
all active sites at a time.

Bottom layer: depends on numpy, shapely and pyproj only (no pyflwdir/numba at run time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import GEOD

#: D8 code (pyflwdir convention) -> (row step, column step); 0 and 255 are pits, 247 outside.
_D8_STEPS: dict[int, tuple[int, int]] = {1: (0, 1), 2: (1, 1), 4: (1, 0), 8: (1, -1), 16: (0, -1),
                                         32: (-1, -1), 64: (-1, 0), 128: (-1, 1)}
#: Cells outside the basin.
NODATA = 247
#: Longest overland path walked (cells) before a site is left to the cartographic rule.
MAX_STEPS = 5000

_DR = np.zeros(256, dtype=np.int64)
_DC = np.zeros(256, dtype=np.int64)
_MOVES = np.zeros(256, dtype=bool)
for _code, (_r, _c) in _D8_STEPS.items():
    _DR[_code], _DC[_code], _MOVES[_code] = _r, _c, True
#: Batches of at least this many distinct start cells keep a memo of step lengths (one float per grid cell).
MEMO_MIN_SITES = 2000
#: Batches of at least this many sites on the grid use (and on first use build) the per-cell table
#: of :meth:`FlowGrid._table`: every cell's entry into the network, answered by an array look-up.
TABLE_MIN_CELLS = 5000
#: Grids of more cells than this keep the walk (the table takes about 12 bytes a cell in memory).
TABLE_MAX_CELLS = 10_000_000


@dataclass(frozen=True)
class FlowGrid:
    """A basin's D8 flow grid and the reach cell of every stream cell.

    Attributes
    ----------
    d8 : numpy.ndarray
        uint8 pyflwdir D8 codes (247 outside the basin).
    transform : tuple of float
        Affine ``(a, b, c, d, e, f)`` of the grid (lon/lat).
    stream_cell : numpy.ndarray
        Sorted flat indexes of the stream cells (the cells of the reaches' vertices).
    stream_reach : numpy.ndarray
        The ``reach_id`` of each stream cell.
    stream_frac : numpy.ndarray
        The position of each stream cell along its reach (0 upstream end, 1 downstream end).
    country : numpy.ndarray
        Per cell, 1-based index into ``country_codes`` (0: no country).
    country_codes : numpy.ndarray
        ISO3 codes.
    """

    d8: np.ndarray
    transform: tuple[float, ...]
    stream_cell: np.ndarray
    stream_reach: np.ndarray
    stream_frac: np.ndarray
    country: np.ndarray
    country_codes: np.ndarray
    _memo: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    @property
    def cell_table_ready(self) -> bool:
        """True once the per-cell table answers this grid's batches (see :data:`TABLE_MIN_CELLS`)."""
        return self._memo.get("table") is not None

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of the grid."""
        return self.d8.shape  # type: ignore[return-value]

    def _centre(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, _, c, _, e, f = self.transform
        r, col = np.divmod(idx, self.shape[1])
        return c + (col + 0.5) * a, f + (r + 0.5) * e

    def _step_km(self, cells: np.ndarray, nxt: np.ndarray, memo: np.ndarray | None) -> np.ndarray:
        """Geodesic km from each cell centre to the next cell's.

        With a ``memo`` (one slot per cell of the grid, for large batches whose paths converge) each
        distinct cell is computed once.
        """
        if memo is None:
            x0, y0 = self._centre(cells)
            x1, y1 = self._centre(nxt)
            return np.asarray(GEOD.inv(x0, y0, x1, y1)[2]) / 1000.0
        need = np.isnan(memo[cells])
        if need.any():
            u, first = np.unique(cells[need], return_index=True)
            x0, y0 = self._centre(u)
            x1, y1 = self._centre(nxt[need][first])
            memo[u] = np.asarray(GEOD.inv(x0, y0, x1, y1)[2]) / 1000.0
        return memo[cells]

    def _stream(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``reach_id`` (-1: not a stream cell) and position along the reach of the flat cells ``cells``."""
        if not len(self.stream_cell):
            return np.full(len(cells), -1, dtype=np.int64), np.full(len(cells), np.nan)
        i = np.minimum(np.searchsorted(self.stream_cell, cells), len(self.stream_cell) - 1)
        hit = self.stream_cell[i] == cells
        return np.where(hit, self.stream_reach[i], -1), np.where(hit, self.stream_frac[i], np.nan)

    def cells(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Flat cell index of each point inside the basin's cells, -1 elsewhere."""
        a, _, c, _, e, f = self.transform
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        col = np.floor((lon - c) / a)
        row = np.floor((lat - f) / e)
        h, w = self.shape
        ok = np.isfinite(col) & np.isfinite(row) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
        idx = np.full(len(lon), -1, dtype=np.int64)
        idx[ok] = row[ok].astype(np.int64) * w + col[ok].astype(np.int64)
        inside = np.zeros(len(lon), dtype=bool)
        inside[ok] = self.d8.ravel()[idx[ok]] != NODATA
        return np.where(inside, idx, -1)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> dict[str, np.ndarray]:
        """Walk each site's cell downstream to the first stream cell.

        Parameters
        ----------
        lon, lat : array_like
            Site coordinates (degrees).

        Returns
        -------
        dict of numpy.ndarray
            ``reach_id`` (-1 when the site is not on the grid or no stream was reached), ``frac``
            (position along the reach from its upstream end), ``overland_km`` (0 for a site whose
            own cell is a stream cell), ``cross_km`` (km along the overland path where it first
            enters a cell of another country than the site's own cell; NaN when it does not).
        """
        cells = self.cells(lon, lat)
        table = self._memo.get("table")
        if table is None and "table" not in self._memo and np.count_nonzero(cells >= 0) >= TABLE_MIN_CELLS:
            table = self._table()
        if table is not None:  # every cell answered once for all (same numbers as the walk)
            return self._lookup(cells, table)
        uniq, inv = np.unique(cells, return_inverse=True)  # sites sharing a cell share its path: walk each once
        walked = self._walk(uniq)
        return {k: v[np.asarray(inv).reshape(-1)] for k, v in walked.items()}

    def _walk(self, start: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`locate` for the flat cell indexes ``start`` (-1: off the grid).

        The steps are walked downstream, then summed back from the stream cell (``km`` of a cell is
        its step plus the km of the next cell): the very sums of the per-cell table
        (:meth:`_table`), so that a batch gives the same numbers whichever way it is answered.
        """
        n = len(start)
        d8 = self.d8.ravel()
        w = self.shape[1]
        h = self.shape[0]
        cur = start.copy()
        own = np.where(start >= 0, self.country[np.maximum(start, 0)], 0)
        first_cross = np.full(n, -1, dtype=np.int64)  # the step at which the path enters another country
        steps: list[tuple[np.ndarray, np.ndarray]] = []  # (sites, km) of every step, in walking order
        active = (start >= 0) & (self._stream(start)[0] < 0)
        # a memo of the grid's size pays for large batches only (the same numbers either way)
        memo = np.full(h * w, np.nan) if n >= MEMO_MIN_SITES else None
        for _ in range(MAX_STEPS):
            a = np.flatnonzero(active)
            if not len(a):
                break
            code = d8[cur[a]]
            moves = _MOVES[code]
            stop = a[~moves]  # a pit off the network: no route
            cur[stop] = -1
            active[stop] = False
            a = a[moves]
            code = code[moves]
            r, c = np.divmod(cur[a], w)
            r2, c2 = r + _DR[code], c + _DC[code]
            off = (r2 < 0) | (r2 >= h) | (c2 < 0) | (c2 >= w)
            nxt = np.where(off, -1, r2 * w + c2)
            off |= d8[np.maximum(nxt, 0)] == NODATA
            cur[a[off]] = -1
            active[a[off]] = False
            keep = ~off
            a, nxt = a[keep], nxt[keep]
            steps.append((a, self._step_km(cur[a], nxt, memo)))
            leave = (first_cross[a] < 0) & (own[a] > 0) & (self.country[nxt] != own[a]) & (self.country[nxt] > 0)
            first_cross[a[leave]] = len(steps) - 1
            cur[a] = nxt
            active[a] = self._stream(nxt)[0] < 0
        cur[active] = -1  # longer than MAX_STEPS: left to the cartographic rule
        km, cross = _fold_back(n, steps, first_cross)
        got = cur >= 0
        reach, frac = self._stream(np.maximum(cur, 0))
        return {"reach_id": np.where(got, reach, -1),
                "frac": np.where(got, frac, np.nan),
                "overland_km": np.where(got, km, np.nan),
                "cross_km": np.where(got, cross, np.nan)}

    def _lookup(self, cells: np.ndarray, table: tuple[np.ndarray, ...]) -> dict[str, np.ndarray]:
        """:meth:`locate` for the flat cells ``cells`` (-1: off the grid) from the per-cell table."""
        pos, km, cross_cell, cross_km = table
        c = np.maximum(cells, 0)
        p = np.where(cells >= 0, pos[c], -1)
        got = p >= 0
        ps = np.maximum(p, 0)
        i = np.minimum(np.searchsorted(cross_cell, c), max(len(cross_cell) - 1, 0))
        crossing = got & (cross_cell[i] == c) if len(cross_cell) else np.zeros(len(c), dtype=bool)
        return {"reach_id": np.where(got, self.stream_reach[ps], -1),
                "frac": np.where(got, self.stream_frac[ps], np.nan),
                "overland_km": np.where(got, km[c], np.nan),
                "cross_km": np.where(crossing, cross_km[i] if len(cross_km) else np.nan, np.nan)}

    def _table(self) -> tuple[np.ndarray, ...] | None:
        """Per grid cell, what :meth:`_walk` gives for a site in it (None: this grid keeps the walk).

        Per cell, the stream cell its flow path enters (position in ``stream_cell``, -1 none) and
        the overland km to it; then the cells whose path enters another country (sorted, a few per
        cent of them) and the km at which it does. Built once per grid, kept in memory (about 12
        bytes a cell: 52 MB for the bundled Syr Darya, built in about 1 s), on the first batch of
        :data:`TABLE_MIN_CELLS` sites on the grid or more. One vectorised pass per path length going
        up from the stream cells (each cell is reached once, from the cell it flows into), with the
        step lengths and sums of :meth:`_walk`, so every cell holds what walking it would give. None
        for a grid of more than :data:`TABLE_MAX_CELLS` cells, or with cells of no country inside the
        basin (the crossing then depends on the start cell's country further than one step): those
        grids keep the walk.
        """
        if "table" in self._memo:
            return self._memo["table"]
        d8 = self.d8.ravel()
        if len(d8) > TABLE_MAX_CELLS or (self.country[d8 != NODATA] == 0).any():
            self._memo["table"] = None
            return None
        src, dst = self._flow_edges(d8)
        up = src[np.argsort(dst, kind="stable")]  # the cells flowing into each cell, by cell
        ptr = np.zeros(len(d8) + 1, dtype=np.int64)
        np.cumsum(np.bincount(dst, minlength=len(d8)), out=ptr[1:])
        pos = np.full(len(d8), -1, dtype=np.int32)
        pos[self.stream_cell] = np.arange(len(self.stream_cell), dtype=np.int32)
        km = np.full(len(d8), np.nan)
        km[self.stream_cell] = 0.0
        cross = np.full(len(d8), np.nan)
        frontier = self.stream_cell
        for _ in range(MAX_STEPS):  # the cells MAX_STEPS or fewer steps above a stream cell
            cnt = ptr[frontier + 1] - ptr[frontier]
            total = int(cnt.sum())
            if not total:
                break
            parent = np.repeat(frontier, cnt)
            child = up[np.repeat(ptr[frontier] - np.cumsum(cnt) + cnt, cnt) + np.arange(total)]
            step = self._step_km(child, parent, None)
            km[child] = step + km[parent]
            pos[child] = pos[parent]
            leave = self.country[parent] != self.country[child]
            cross[child] = np.where(leave, step, step + cross[parent])
            frontier = child
        crossing = np.flatnonzero(np.isfinite(cross))
        self._memo["table"] = (pos, km, crossing, cross[crossing])
        return self._memo["table"]

    def _flow_edges(self, d8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every non-stream cell that flows into a cell of the basin, and that cell (flat indexes)."""
        h, w = self.shape
        src = np.flatnonzero(_MOVES[d8])
        code = d8[src]
        r, c = np.divmod(src, w)
        r2, c2 = r + _DR[code], c + _DC[code]
        ok = (r2 >= 0) & (r2 < h) & (c2 >= 0) & (c2 < w)
        src, dst = src[ok], (r2 * w + c2)[ok]
        ok = d8[dst] != NODATA
        ok[np.isin(src, self.stream_cell)] = False  # a walk ends at its first stream cell
        return src[ok], dst[ok]


def _fold_back(n: int, steps: list[tuple[np.ndarray, np.ndarray]], first_cross: np.ndarray,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Overland km of each site and km at its first country change, summed from the path's end.

    ``steps``: the sites and step lengths of each step of :meth:`FlowGrid._walk`, in order;
    ``first_cross``: per site, the step entering another country (-1: none).
    """
    km = np.zeros(n)
    cross = np.full(n, np.nan)
    for j in range(len(steps) - 1, -1, -1):
        a, s = steps[j]
        km[a] = s + km[a]
        fc = first_cross[a]
        cross[a] = np.where(fc == j, s, s + cross[a])  # NaN after the crossing (and without one)
    return km, cross


def flowgrid_file(basin: Any) -> Path | None:
    """``<id>.flowdir.npz`` next to the basin's GeoPackage, when there is one."""
    src = getattr(basin, "source_file", None)
    if not src:
        return None
    p = Path(src[0])
    f = p.with_name(p.stem + ".flowdir.npz")
    return f if f.is_file() else None


def load_flowgrid(basin: Any) -> FlowGrid | None:
    """The basin's flow grid (``None`` for a basin without one, e.g. the cartographic reference).

    Raises
    ------
    RiskmapInputError
        The file is unreadable or does not belong to the basin's reaches.
    """
    f = flowgrid_file(basin)
    if f is None:
        return None
    st = f.stat()
    r = basin.reaches
    digest = hash((r["reach_id"].to_numpy(dtype="int64").tobytes(),
                   b"".join(shapely.to_wkb(r.geometry.values).tolist())))
    key = (str(f), st.st_mtime_ns, st.st_size, digest)
    hit = _GRIDS.get(key)
    if hit is None:
        hit = _build(str(f), _reach_table(r))
        if len(_GRIDS) >= 4:
            _GRIDS.pop(next(iter(_GRIDS)))
        _GRIDS[key] = hit
    return hit


_GRIDS: dict[tuple[str, int, int, int], FlowGrid] = {}


def _reach_table(r: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices (lon, lat), their reach id and their position along the reach (0..1)."""
    xy, owner = shapely.get_coordinates(r.geometry.values, return_index=True)
    ids = r["reach_id"].to_numpy(dtype="int64")[owner]
    seg = np.zeros(len(xy))
    same = owner[1:] == owner[:-1]
    dx = np.diff(xy[:, 0]) * np.cos(np.radians(0.5 * (xy[1:, 1] + xy[:-1, 1])))
    seg[1:] = np.where(same, np.hypot(dx, np.diff(xy[:, 1])), 0.0)
    cum = np.cumsum(seg)
    first = np.r_[0, np.flatnonzero(~same) + 1]
    start = np.repeat(cum[first], np.diff(np.r_[first, len(xy)]))
    along = cum - start
    total = np.repeat(along[np.r_[first[1:] - 1, len(xy) - 1]], np.diff(np.r_[first, len(xy)]))
    frac = np.where(total > 0, along / np.where(total > 0, total, 1.0), 0.0)
    last = np.zeros(len(xy), dtype=bool)
    last[np.r_[first[1:] - 1, len(xy) - 1]] = True
    return np.c_[xy, last.astype(float)], ids, frac


def _read(path: str) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in ("d8", "country", "country_codes", "transform", "reach_ids")}
    except (OSError, ValueError, KeyError) as e:
        raise RiskmapInputError(f"{path}: cannot read the flow grid ({e}); rebuild the basin with "
                                f"`riskmap data build-reference` or `riskmap data build-from-dem`") from None


def _build(path: str, table: tuple[np.ndarray, np.ndarray, np.ndarray]) -> FlowGrid:
    """The flow grid of ``path`` with the stream cells of the reach vertices in ``table``."""
    z = _read(path)
    d8 = z["d8"].astype(np.uint8)
    t = tuple(float(v) for v in z["transform"])
    h, w = d8.shape
    xyl, ids, frac = table
    keep = np.isin(ids, z["reach_ids"])
    xyl, ids, frac = xyl[keep], ids[keep], frac[keep]
    a, _, c, _, e, f = t
    col = np.floor((xyl[:, 0] - c) / a).astype(np.int64)
    row = np.floor((xyl[:, 1] - f) / e).astype(np.int64)
    ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    if not ok.all():
        raise RiskmapInputError(f"{path}: the flow grid does not match the basin's reaches (a DEM reach lies "
                                f"off the grid); rebuild the basin")
    cell = row * w + col
    # a reach's last vertex is the confluence cell of its downstream reach: own vertices win, a
    # last vertex counts only where no reach owns the cell (the outlet pit). Sorted by cell, last
    # vertices before own ones, table order kept (stable): each cell's winner is its group's last row.
    order = np.lexsort((xyl[:, 2] <= 0, cell))
    cell, ids, frac = cell[order], ids[order], frac[order]
    first = np.diff(cell, prepend=-1) != 0
    pick = np.r_[np.flatnonzero(first)[1:], len(cell)] - 1
    fg = FlowGrid(d8=d8, transform=t, stream_cell=cell[first], stream_reach=ids[pick].astype(np.int64),
                  stream_frac=frac[pick].astype(np.float32).astype(float),
                  country=z["country"].astype(np.uint8).ravel(),
                  country_codes=np.asarray(z["country_codes"]).astype(object))
    return fg


__all__ = ["FlowGrid", "load_flowgrid", "flowgrid_file"]
