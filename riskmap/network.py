"""The river network of a basin: one model of which reach flows into which.

Every walk along the river network (downstream paths, flow order, upstream
sets and totals, Strahler order, distance to the outlet) goes through
:class:`RiverNetwork`. It is built once from a reaches table with
``reach_id`` and ``downstream_id`` (``-1``, or any id that is not a reach, at
an outlet) and caches what it derives; a :class:`riskmap.hydrography.Basin`
holds one as ``basin.network``.

Positions (``0 .. n-1``, the row order of the reaches table) are used
internally and by the ``*_positions`` methods; every other method takes and
returns ``reach_id`` values. Distances along a path come from the table's
``length_km`` (geodesic lengths computed by the data build); a point part-way
along a reach is given as ``fraction``, the share of the reach's length
upstream of the point (0 = upstream end, 1 = downstream end: reaches are
digitised in the direction of flow).

Examples
--------
>>> from riskmap.hydrography import load_basin
>>> net = load_basin("drina").network
>>> net
RiverNetwork('basin drina', reaches=..., outlets=1)
>>> path = net.downstream_path(77)
>>> int(path["reach_id"].iloc[-1]) in set(net.outlets)
True
>>> bool((net.strahler() >= 1).all())
True
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from shapely.ops import substring

from riskmap._errors import RiskmapInputError

#: Per-reach columns that :meth:`RiverNetwork.upstream_totals` sums by default when present
#: (local quantities only: ``discharge_m3s`` and ``upland_km2`` are already upstream totals).
LOCAL_COLUMNS: tuple[str, ...] = ("length_km", "area_km2", "local_area_km2", "local_runoff_m3s")


class RiverNetwork:
    """Downstream links of a set of reaches, with flow order and walks precomputed.

    Parameters
    ----------
    reach_ids : array-like of int
        Unique reach identifiers, in table order.
    downstream_ids : array-like of int
        Identifier of the reach each one flows into; ``-1`` (or any value that
        is not a reach id, unless ``missing="raise"``) marks an outlet.
    length_km : array-like of float, optional
        Reach lengths (km); needed for distances along paths.
    geometry : array-like of shapely geometries, optional
        Reach lines in EPSG:4326, digitised downstream; needed for path geometry.
    table : pandas.DataFrame, optional
        The reaches table itself (columns for :meth:`upstream_totals`).
    name : str
        Used in error messages (``"basin drina"``).
    missing : {"outlet", "raise"}
        What a ``downstream_id`` that is neither ``-1`` nor a reach means.

    Raises
    ------
    RiskmapInputError
        Duplicate ``reach_id``; with ``missing="raise"``, a dangling ``downstream_id``.
        A cycle is reported by the first method that needs the flow order.

    Examples
    --------
    A Y confluence (1 and 2 join into 3, which flows into 4, the outlet):

    >>> net = RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1], length_km=[10.0, 5.0, 20.0, 30.0])
    >>> net.downstream_ids(1)
    [1, 3, 4]
    >>> net.upstream_ids(3)
    [1, 2, 3]
    >>> net.strahler().tolist()
    [1, 1, 2, 2]
    """

    def __init__(self, reach_ids: Iterable[int], downstream_ids: Iterable[int], *,
                 length_km: Iterable[float] | None = None, geometry: Sequence[Any] | None = None,
                 table: pd.DataFrame | None = None, name: str = "network", missing: str = "outlet") -> None:
        self.name = name
        self.ids = np.asarray(list(reach_ids) if not isinstance(reach_ids, np.ndarray) else reach_ids,
                              dtype=np.int64)
        ds = np.asarray(list(downstream_ids) if not isinstance(downstream_ids, np.ndarray) else downstream_ids,
                        dtype=np.int64)
        if len(ds) != len(self.ids):
            raise RiskmapInputError(f"{name}: {len(self.ids)} reach ids but {len(ds)} downstream ids")
        self._index = pd.Index(self.ids)
        if not self._index.is_unique:
            dup = self._index[self._index.duplicated()][0]
            raise RiskmapInputError(f"{name}: reach_id values are not unique (e.g. {int(dup)})")
        self.down: np.ndarray = self._index.get_indexer(ds).astype(np.intp)
        dangling = (self.down < 0) & (ds != -1)
        if missing == "raise" and dangling.any():
            i = int(np.flatnonzero(dangling)[0])
            raise RiskmapInputError(f"{name}: reach {int(self.ids[i])}: downstream_id {int(ds[i])} is not a reach")
        self.length_km = None if length_km is None else np.asarray(list(length_km) if not isinstance(
            length_km, np.ndarray) else length_km, dtype=float)
        self.geometry = None if geometry is None else np.asarray(geometry, dtype=object)
        self.table = table

    @classmethod
    def from_reaches(cls, reaches: pd.DataFrame, *, name: str = "network", missing: str = "outlet") -> RiverNetwork:
        """Build from a reaches table (``reach_id``, ``downstream_id``, optional ``length_km``, geometry).

        A GeoDataFrame's geometry is kept in EPSG:4326.

        Examples
        --------
        >>> from riskmap.hydrography import load_basin
        >>> RiverNetwork.from_reaches(load_basin("drin").reaches, name="drin")
        RiverNetwork('drin', reaches=..., outlets=2)
        """
        lacking = {"reach_id", "downstream_id"} - set(reaches.columns)
        if lacking:
            raise RiskmapInputError(f"{name}: reaches table lacks column(s) {sorted(lacking)}")
        for col in ("reach_id", "downstream_id"):
            v = pd.to_numeric(reaches[col], errors="coerce")
            bad = np.flatnonzero((v.isna() | (v != v.round())).to_numpy())
            if len(bad):
                val = reaches[col].iloc[bad[0]]
                shown = "missing" if pd.isna(val) else f"{str(val)!r} is not an integer id"
                raise RiskmapInputError(f"{name}: reaches row {int(bad[0]) + 1}, column {col}: {shown}")
        geom = None
        if hasattr(reaches, "geometry") and "geometry" in reaches.columns:
            g = reaches.geometry
            if getattr(g, "crs", None) is not None and not g.crs.equals("EPSG:4326"):
                g = g.to_crs("EPSG:4326")
            geom = g.to_numpy()
        length = reaches["length_km"].to_numpy(dtype=float) if "length_km" in reaches.columns else None
        return cls(reaches["reach_id"].to_numpy(dtype=np.int64), reaches["downstream_id"].to_numpy(dtype=np.int64),
                   length_km=length, geometry=geom, table=reaches, name=name, missing=missing)

    @classmethod
    def from_positions(cls, down: Iterable[int], *, length_km: Iterable[float] | None = None,
                       name: str = "network") -> RiverNetwork:
        """Build from downstream *positions* (``down[i]`` = row of the reach ``i`` flows into, -1 at outlets).

        Reach ids are the positions themselves.

        Examples
        --------
        >>> RiverNetwork.from_positions([1, 2, -1]).downstream_ids(0)
        [0, 1, 2]
        """
        d = np.asarray(list(down) if not isinstance(down, np.ndarray) else down, dtype=np.int64)
        return cls(np.arange(len(d)), d, length_km=length_km, name=name)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"RiverNetwork({self.name!r}, reaches={len(self)}, outlets={int((self.down < 0).sum())})"

    # ------------------------------------------------------------------ ids <-> positions

    @functools.cached_property
    def _row_of(self) -> dict[int, int]:
        """reach_id -> row (a dict lookup is much cheaper than an index lookup per call)."""
        return {int(r): i for i, r in enumerate(self.ids.tolist())}

    def position(self, reach_id: int) -> int:
        """Row of ``reach_id``.

        Raises
        ------
        RiskmapInputError
            When the reach does not exist.

        Examples
        --------
        >>> RiverNetwork([7, 9], [9, -1]).position(9)
        1
        """
        i = self._row_of.get(int(reach_id), -1)
        if i < 0:
            raise RiskmapInputError(f"{self.name}: reach_id {reach_id} does not exist")
        return int(i)

    def positions(self, reach_ids: Iterable[int]) -> np.ndarray:
        """Rows of several reach ids (-1 where a reach does not exist).

        Examples
        --------
        >>> RiverNetwork([7, 9], [9, -1]).positions([9, 7, 8]).tolist()
        [1, 0, -1]
        """
        return self._index.get_indexer(np.asarray(list(reach_ids), dtype=np.int64))

    def __contains__(self, reach_id: object) -> bool:
        try:
            return int(reach_id) in self._index  # type: ignore[call-overload]  # object: int() may raise
        except (TypeError, ValueError):
            return False

    @property
    def outlets(self) -> np.ndarray:
        """Reach ids of the outlets (reaches with no downstream reach)."""
        return self.ids[self.down < 0]

    # ------------------------------------------------------------------ structure

    @functools.cached_property
    def graph(self) -> sparse.csr_matrix:
        """Sparse adjacency matrix: entry ``(i, down[i])`` for every reach that is not an outlet."""
        n = len(self)
        src = np.flatnonzero(self.down >= 0)
        return sparse.csr_matrix((np.ones(len(src), dtype=np.int8), (src, self.down[src])), shape=(n, n))

    @functools.cached_property
    def depth(self) -> np.ndarray:
        """Number of reaches between each reach and its outlet (0 at an outlet).

        Computed by pointer doubling (``log2(n)`` vectorised steps).

        Raises
        ------
        RiskmapInputError
            When some reaches never reach an outlet (a cycle), naming them.
        """
        depth = (self.down >= 0).astype(np.int64)
        nxt = self.down.copy()
        for _ in range(int(np.ceil(np.log2(len(self) + 1))) + 1):
            live = np.flatnonzero(nxt >= 0)
            if not len(live):
                break
            depth[live] += depth[nxt[live]]
            nxt[live] = nxt[nxt[live]]
        if (nxt >= 0).any():
            raise RiskmapInputError(f"{self.name}: the reach network has a cycle through reach_id "
                                    f"{', '.join(str(int(r)) for r in self.cycle_ids()[:10])}")
        return depth

    def cycle_ids(self) -> list[int]:
        """Reach ids that lie on a cycle (empty for a valid network).

        Examples
        --------
        >>> RiverNetwork([1, 2, 3], [2, 3, 2]).cycle_ids()
        [2, 3]
        """
        _, lab = csgraph.connected_components(self.graph, directed=True, connection="strong")
        size = np.bincount(lab)
        self_loop = self.down == np.arange(len(self))
        return [int(r) for r in self.ids[(size[lab] > 1) | self_loop]]

    @functools.cached_property
    def flow_order(self) -> np.ndarray:
        """Positions ordered so that every reach comes after its downstream reach (outlets first).

        Ties (same depth) keep table order; reverse it for an upstream-first sweep.

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1]).flow_order.tolist()
        [3, 2, 0, 1]
        """
        return np.argsort(self.depth, kind="stable")

    @functools.cached_property
    def levels(self) -> list[np.ndarray]:
        """Positions grouped by depth: ``levels[k]`` = the reaches ``k`` steps above an outlet."""
        order = self.flow_order
        cuts = np.flatnonzero(np.diff(self.depth[order])) + 1
        return np.split(order, cuts) if len(order) else []

    @functools.cached_property
    def upstream_counts(self) -> np.ndarray:
        """Number of reaches flowing directly into each reach (0 at a source)."""
        return np.bincount(self.down[self.down >= 0], minlength=len(self))

    # ------------------------------------------------------------------ downstream

    def path_positions(self, reach_id: int) -> np.ndarray:
        """Rows from ``reach_id`` to its outlet, in flow order.

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1]).path_positions(2).tolist()
        [1, 2, 3]
        """
        i = self.position(reach_id)
        out = np.empty(int(self.depth[i]) + 1, dtype=np.intp)
        down = self.down
        for k in range(len(out)):  # at most the network's depth: cheaper than a graph search per call
            out[k] = i
            i = down[i]
        return out

    def downstream_ids(self, reach_id: int) -> list[int]:
        """Reach ids from ``reach_id`` to its outlet, in flow order.

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1]).downstream_ids(4)
        [4]
        """
        return [int(r) for r in self.ids[self.path_positions(reach_id)]]

    def downstream_path(self, reach_id: int, fraction: float = 0.0) -> pd.DataFrame:
        """The path from a point on ``reach_id`` to the outlet, with distances along it.

        Parameters
        ----------
        reach_id : int
        fraction : float
            Where the point lies on the start reach: share of its length upstream
            of the point (0 = upstream end, 1 = downstream end).

        Returns
        -------
        pandas.DataFrame
            One row per reach in flow order: ``reach_id``, ``position`` (row in
            the table), ``length_km``, ``remaining_km`` (length downstream of
            the point: the whole reach except the first), ``start_km`` and
            ``end_km`` (km from the point to the reach's upstream and downstream
            ends; ``start_km`` is 0 for the first reach).

        Examples
        --------
        >>> net = RiverNetwork([1, 2, 3], [2, 3, -1], length_km=[10.0, 20.0, 5.0])
        >>> net.downstream_path(1, fraction=0.25)[["reach_id", "start_km", "end_km"]].values.tolist()
        [[1.0, 0.0, 7.5], [2.0, 7.5, 27.5], [3.0, 27.5, 32.5]]
        """
        pos, length, remaining, end = self._path_km(reach_id, fraction)
        return pd.DataFrame({"reach_id": self.ids[pos], "position": pos, "length_km": length,
                             "remaining_km": remaining, "start_km": end - remaining, "end_km": end})

    def _path_km(self, reach_id: int, fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Positions, lengths, remaining lengths and end distances (km) of the path from a point."""
        if self.length_km is None:
            raise RiskmapInputError(f"{self.name}: no length_km: distances along the path are unknown")
        if not 0.0 <= float(fraction) <= 1.0:
            raise RiskmapInputError(f"{self.name}: fraction {fraction} is not between 0 and 1")
        pos = self.path_positions(reach_id)
        length = self.length_km[pos]
        remaining = length.copy()
        remaining[0] = float(length[0]) * (1 - float(fraction))
        return pos, length, remaining, np.cumsum(remaining)

    def first_downstream(self, mask: Iterable[bool]) -> np.ndarray:
        """For each reach, the first reach of ``mask`` met walking downstream from it (itself included).

        Returns positions (table order), -1 where no reach of ``mask`` lies
        downstream. One vectorised step per level.

        Examples
        --------
        >>> net = RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1])
        >>> net.first_downstream([False, False, True, False]).tolist()
        [2, 2, 2, -1]
        """
        m = np.asarray(list(mask) if not isinstance(mask, np.ndarray) else mask, dtype=bool)
        if len(m) != len(self):
            raise RiskmapInputError(f"{self.name}: mask of {len(m)} values for {len(self)} reaches")
        hit = np.where(m, np.arange(len(self)), -1)
        for lev in self.levels[1:]:
            hit[lev] = np.where(m[lev], lev, hit[self.down[lev]])
        return hit

    def path_geometry(self, reach_id: int, *, fraction: float = 0.0, max_km: float | None = None,
                      cut: bool = True) -> shapely.Geometry | None:
        """The river line from a point on ``reach_id`` downstream (EPSG:4326).

        Parameters
        ----------
        reach_id : int
        fraction : float
            Start point on the first reach (as in :meth:`downstream_path`).
        max_km : float, optional
            Keep the reaches that begin less than ``max_km`` km down the path
            (whole reaches: the last one may extend beyond ``max_km``).
        cut : bool
            Cut the first reach at the point (else keep it whole).

        Returns
        -------
        shapely geometry or None
            The union of the kept reach lines, in flow order; None when nothing is kept.

        Examples
        --------
        >>> from riskmap.hydrography import load_basin
        >>> net = load_basin("drina").network
        >>> net.path_geometry(77, max_km=50).geom_type in ("LineString", "MultiLineString")
        True
        """
        if self.geometry is None:
            raise RiskmapInputError(f"{self.name}: the reaches have no geometry")
        pos, _, remaining, end = self._path_km(reach_id, fraction)
        keep = np.ones(len(pos), bool) if max_km is None else (end - remaining) < float(max_km)
        geoms = self.geometry[pos[keep]]
        if not len(geoms):
            return None
        if cut and keep[0] and float(fraction) > 0:
            if float(fraction) >= 1.0:
                geoms = geoms[1:]
            else:
                geoms = geoms.copy()
                geoms[0] = substring(geoms[0], float(fraction), 1.0, normalized=True)
        return shapely.union_all(geoms) if len(geoms) else None

    def dist_to_outlet(self) -> np.ndarray:
        """Km from each reach's downstream end to its outlet (sum of the lengths below it).

        Examples
        --------
        >>> RiverNetwork([1, 2, 3], [2, 3, -1], length_km=[10.0, 20.0, 5.0]).dist_to_outlet().tolist()
        [25.0, 5.0, 0.0]
        """
        if self.length_km is None:
            raise RiskmapInputError(f"{self.name}: no length_km: distances are unknown")
        dist = np.zeros(len(self))
        for lev in self.levels[1:]:
            d = self.down[lev]
            dist[lev] = dist[d] + self.length_km[d]
        return dist

    # ------------------------------------------------------------------ upstream

    def upstream_mask(self, reach_id: int) -> np.ndarray:
        """Boolean mask (table order) of ``reach_id`` and every reach draining into it.

        Works on networks with cycles elsewhere (no flow order needed).

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1]).upstream_mask(3).tolist()
        [True, True, True, False]
        """
        i = self.position(reach_id)
        mask = np.zeros(len(self), bool)
        mask[csgraph.breadth_first_order(self.graph.T.tocsr(), i, directed=True, return_predecessors=False)] = True
        return mask

    def upstream_ids(self, reach_id: int) -> list[int]:
        """Reach ids of ``reach_id`` and everything upstream of it, in table order.

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1]).upstream_ids(2)
        [2]
        """
        return [int(r) for r in self.ids[self.upstream_mask(reach_id)]]

    def accumulate(self, values: Iterable[float]) -> np.ndarray:
        """Sum of ``values`` over each reach and every reach upstream of it.

        Sweeps the levels from the sources down, adding each reach into its
        downstream reach (one vectorised ``np.add.at`` per level).

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4], [3, 3, 4, -1]).accumulate([10.0, 5.0, 20.0, 30.0]).tolist()
        [10.0, 5.0, 35.0, 65.0]
        """
        acc = np.array(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
        if len(acc) != len(self):
            raise RiskmapInputError(f"{self.name}: {len(acc)} values for {len(self)} reaches")
        for lev in reversed(self.levels[1:]):
            np.add.at(acc, self.down[lev], acc[lev])
        return acc

    def upstream_totals(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Upstream totals of per-reach columns of the table, indexed by ``reach_id``.

        Parameters
        ----------
        columns : list of str, optional
            Columns to sum (default: those of :data:`LOCAL_COLUMNS` present in
            the table; with no table, ``length_km`` alone).

        Examples
        --------
        >>> from riskmap.hydrography import load_basin
        >>> net = load_basin("drina").network
        >>> t = net.upstream_totals()
        >>> list(t.columns)
        ['length_km']
        >>> bool(t["length_km"].max() == t["length_km"].loc[net.outlets].max())
        True
        """
        data: dict[str, np.ndarray] = {}
        if self.table is not None:
            cols = [c for c in (columns or LOCAL_COLUMNS) if c in self.table.columns]
            if columns is not None and len(cols) < len(columns):
                raise RiskmapInputError(f"{self.name}: no column(s) {sorted(set(columns) - set(cols))}")
            data = {c: self.table[c].to_numpy(dtype=float) for c in cols}
        elif self.length_km is not None and (columns is None or list(columns) == ["length_km"]):
            data = {"length_km": self.length_km}
        elif columns:
            raise RiskmapInputError(f"{self.name}: no table: cannot sum {list(columns)}")
        return pd.DataFrame({c: self.accumulate(v) for c, v in data.items()},
                            index=pd.Index(self.ids, name="reach_id"))

    def strahler(self) -> np.ndarray:
        """Strahler order of each reach (1 at sources; +1 where two of the highest order meet).

        Examples
        --------
        >>> RiverNetwork([1, 2, 3, 4, 5], [4, 4, 5, 5, -1]).strahler().tolist()
        [1, 1, 1, 2, 2]
        """
        n = len(self)
        order = np.ones(n, dtype=np.int64)
        for lev in reversed(self.levels[1:]):
            parent = self.down[lev]
            top = np.zeros(n, dtype=np.int64)
            np.maximum.at(top, parent, order[lev])
            ties = np.zeros(n, dtype=np.int64)
            np.add.at(ties, parent, order[lev] == top[parent])
            p = np.unique(parent)
            order[p] = top[p] + (ties[p] >= 2)
        return order


def strahler_order(down: Iterable[int]) -> np.ndarray:
    """Strahler order of each reach from its downstream *position* (``-1`` at outlets).

    Used by the reference build and :mod:`riskmap.databuild.hydrosheds`.

    Examples
    --------
    >>> strahler_order([2, 2, -1]).tolist()
    [1, 1, 2]
    """
    return RiverNetwork.from_positions(down).strahler()


def network_of(basin: Any, name: str | None = None) -> RiverNetwork:
    """The :class:`RiverNetwork` of a basin-like object (its ``network`` when it has one).

    Objects without a ``network`` attribute (a ``SimpleNamespace`` with
    ``reaches``) get one built from their ``reaches`` (not cached).

    Examples
    --------
    >>> from riskmap.hydrography import load_basin
    >>> b = load_basin("drina")
    >>> network_of(b) is b.network
    True
    """
    net = getattr(basin, "network", None)
    if isinstance(net, RiverNetwork):
        return net
    label = name or f"basin {getattr(basin, 'id', None) or getattr(basin, 'name', 'basin')!r}"
    return RiverNetwork.from_reaches(basin.reaches, name=label)
