"""Discharge along the river network: mean and low flows from cited gauging stations.

:func:`assign_discharge` places the stations of the discharge table
(``riskmap/params/discharge.toml``, read by
:func:`riskmap.params.load_discharge_table`) on the reaches of a basin by
river name and position, and spreads their flows over the network in
proportion to drainage area. ``_lake_lookup`` finds a lake's cited volume.
Used by :mod:`riskmap.spill`. Names are matched with the keys and look-ups of
:mod:`riskmap.reach_names` (``_Network``, ``_variants``, ``_norm``, re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.params import load_discharge_table
from riskmap.reach_names import _Network, _norm, _variants  # noqa: F401 - re-exported (spill, databuild)

__all__ = ["assign_discharge"]


# ------------------------------------------------------------------ stations of the discharge table


def _place_station(net: _Network, st: Mapping[str, Any]) -> int | None:
    keys = set(_variants(st["river"])).union(*(_variants(a) for a in st.get("aliases", [])))
    members = net.members(keys)
    if not members:
        return None
    mset = set(members)
    at = str(st["at"])
    mouths = [rid for rid in members if net.down[rid] not in mset]
    mouth = max(mouths, key=lambda r: net.upl[r])
    if at == "mouth":
        return mouth
    if at == "source":
        # walk up the main stem (largest upstream length) while the name holds
        cur = mouth
        while True:
            nxt = [u for u in net.ups.get(cur, []) if u in mset]
            if not nxt:
                return cur
            cur = max(nxt, key=lambda r: net.upl[r])
    if at.startswith("confluence:"):
        tkeys = _variants(at.split(":", 1)[1])
        cands = [net.down[rid] for rid in net.members(tkeys) if net.down[rid] in mset]
        return max(cands, key=lambda r: net.upl[r]) if cands else None
    if at.startswith("km_above_mouth:"):
        km = float(at.split(":", 1)[1])
        cur, acc = mouth, 0.0
        while True:
            acc += net.length[cur]
            if acc >= km:
                return cur
            nxt = [u for u in net.ups.get(cur, []) if u in mset]
            if not nxt:
                return None
            cur = max(nxt, key=lambda r: net.upl[r])
    return None


def assign_discharge(reaches: pd.DataFrame, table: Mapping[str, Any] | str | Path | None = None,
                     basin: str | None = None) -> pd.DataFrame:
    """Discharge, low flow and drainage area per reach from published station figures.

    Each station of the table is placed on the reach it names (``at = mouth``,
    ``source``, ``confluence:<River>`` or ``km_above_mouth:<km>``). A reach takes
    the first station found walking *downstream* from it, scaled by the ratio of
    upstream channel length (reach / station), a stand-in for the drainage-area
    ratio. A reach with no station downstream takes the largest station upstream,
    held constant (not scaled up: lower courses lose water to irrigation and
    evaporation). Drainage areas scale the same way; a station without an area
    gets one from the specific runoff of the basin's stations that have one.

    Parameters
    ----------
    reaches : pandas.DataFrame
        Reach table (``reach_id``, ``downstream_id``, ``length_km``, ``name``...).
    table : dict or path, optional
        A table from :func:`load_discharge_table` or a file; default the bundled one.
    basin : str, optional
        Use only stations of this basin id (stations without ``basin`` always apply).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``reach_id``: ``q_mean_m3s``, ``q_low_m3s``, ``area_km2``,
        ``q_station``, ``q_method``, ``q_citation``. NaN where nothing applies.

    Examples
    --------
    >>> r = pd.DataFrame({"reach_id": [1, 2], "downstream_id": [2, -1],
    ...                   "length_km": [10.0, 30.0], "name": ["Drina", "Drina"]})
    >>> t = {"station": [{"river": "Drina", "at": "mouth", "mean_m3s": 100.0,
    ...                   "area_km2": 1000.0, "citation": "test"}], "lake": []}
    >>> assign_discharge(r, t)["q_mean_m3s"].round(2).tolist()
    [25.0, 100.0]
    """
    if table is None or isinstance(table, (str, Path)):
        table = load_discharge_table(table)
    net = _Network(reaches)
    stations = [s for s in table.get("station", []) if basin is None or s.get("basin") in (None, basin)]
    placed: dict[int, dict[str, Any]] = {}
    unplaced: list[str] = []
    for s in stations:
        rid = _place_station(net, s)
        if rid is not None and rid not in placed:
            placed[rid] = dict(s)
        else:
            unplaced.append(f"{s['river']} ({s['at']})")
    # areas for stations lacking one: specific runoff of stations with an area
    with_area = [s for s in placed.values() if s.get("area_km2")]
    for s in placed.values():
        if not s.get("area_km2") and with_area:
            ref = min(with_area, key=lambda w: abs(math.log(w["mean_m3s"] / s["mean_m3s"])))
            s["area_km2"] = s["mean_m3s"] * ref["area_km2"] / ref["mean_m3s"]
            s["_area_note"] = f"area from the specific runoff at {ref['river']} {ref['at']}"
    rows: list[tuple[Any, ...]] = []
    upstream_of: dict[int, list[int]] = {}
    for prid in placed:
        for rid in net.path(prid):
            upstream_of.setdefault(rid, []).append(prid)
    station_below = net.net.first_downstream(np.isin(net.net.ids, list(placed)))
    for rid, below in zip(net.r["reach_id"], station_below):
        srid, method = None, ""
        if below >= 0:
            srid = cur = int(net.net.ids[below])
            ratio = net.upl[rid] / net.upl[cur]
            method = f"scaled by upstream channel length (x{ratio:.3g})"
        if srid is None:
            cands = upstream_of.get(rid, [])
            if cands:
                srid = max(cands, key=lambda c: net.upl[c])
                ratio = 1.0
                method = "held constant below the lowest station"
        if srid is None:
            hyd = net.r.at[rid, "discharge_m3s"] if "discharge_m3s" in net.r.columns else np.nan
            rows.append((rid, float(hyd) if pd.notna(hyd) else np.nan, np.nan, np.nan, None,
                         "hydrography discharge_m3s" if pd.notna(hyd) else "no station", None))
            continue
        s = placed[srid]
        label = f"{s['river']} ({s['at']})"
        rows.append((rid, s["mean_m3s"] * ratio,
                     s["low_m3s"] * ratio if s.get("low_m3s") else np.nan,
                     s["area_km2"] * ratio if s.get("area_km2") else np.nan,
                     label, method + ("; " + s["_area_note"] if s.get("_area_note") else ""),
                     s.get("citation")))
    out = pd.DataFrame(rows, columns=["reach_id", "q_mean_m3s", "q_low_m3s", "area_km2",
                                      "q_station", "q_method", "q_citation"]).set_index("reach_id")
    out.attrs["unplaced_stations"] = unplaced
    return out


def _lake_lookup(table: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    k = _variants(name)
    for lk in table.get("lake", []):
        keys = set(_variants(lk["name"])).union(*(_variants(a) for a in lk.get("aliases", [])))
        if k & keys:
            return lk
    return None


# ------------------------------------------------------------------ discharge from gauges (issue 16)

#: Rivers on which a cited-literature station of the discharge table is still used: those
#: where the GRDC catalogue has no placed station (the Drina main stem, the Bojana/Buna,
#: the White Drin, the Kara Darya whose GRDC station lies 110 km off the mapped river).
LITERATURE_WHERE_NO_GAUGE = True


def read_gauges(basin: str | None = None, data_dir: Any = None) -> pd.DataFrame:
    """The derived gauge table ``data/basins/gauges.csv`` (``riskmap data build-hydrology``).

    Returns an empty table when the file is absent (the spill model then falls
    back to the cited-literature stations alone, and says so).
    """
    from riskmap.basins import basins_dir

    f = basins_dir(data_dir) / "gauges.csv"
    if not f.exists():
        return pd.DataFrame(columns=["basin", "grdc_no", "river", "station", "area_km2", "mean_m3s",
                                     "reach_id", "reach_frac", "status", "period"])
    g = pd.read_csv(f)
    return g[g["basin"] == basin].reset_index(drop=True) if basin is not None else g


#: Drainage-area columns a reaches table may carry, first match wins (``upland_km2``: the GEBCO DEM build).
AREA_COLUMNS = ("upland_km2", "upstream_area_km2", "area_km2", "drainage_area_km2")


def _dem_area(net: _Network) -> tuple[np.ndarray, str | None]:
    """The reaches' own drainage area (km2, table order of ``net.net``; NaN where absent) and its column."""
    r = net.r.loc[net.net.ids]
    for col in AREA_COLUMNS:
        if col in r.columns and r[col].notna().any():
            return r[col].to_numpy(dtype=float), col
    return np.full(len(r), np.nan), None


def _anchor_weights(net: _Network, reaches: pd.DataFrame) -> tuple[np.ndarray, str]:
    """Local weight per reach (table order of ``net.net``): incremental drainage area or channel length.

    With a drainage-area column (the DEM's ``upland_km2``), the weight of a reach
    is its area minus the areas of the reaches flowing into it (clipped at 0);
    a reach without an area (the lower Syr Darya beyond the DEM build) gets 0:
    no gain is assumed there (desert lower course; its losses come from the
    gauges). Without such a column: channel length, stated as a stand-in.
    """
    a, col = _dem_area(net)
    if col is not None:
        up = np.zeros(len(a))
        has = net.net.down >= 0
        np.add.at(up, net.net.down[has], np.nan_to_num(a[has]))
        w = np.where(np.isfinite(a), np.clip(a - up, 0.0, None), 0.0)
        note = "; 0 where the reach has no DEM area" if np.isnan(a).any() else ""
        return w, f"incremental drainage area ({col}, DEM{note})"
    r = net.r.loc[net.net.ids]
    return r["length_km"].to_numpy(dtype=float), "channel length (stand-in for drainage area: no area column)"


def _inflow_from(net: _Network, local: np.ndarray, side: np.ndarray, into: np.ndarray) -> np.ndarray:
    """Flow accumulated on the ``side`` reaches (positions) that enters each reach of the mask ``into``."""
    n = len(net.net)
    down = net.net.down
    side_only = np.zeros(n)
    side_only[side] = local[side]
    acc = net.net.accumulate(side_only)
    mouths = side[(down[side] >= 0) & into[np.where(down[side] >= 0, down[side], 0)]]
    out = np.zeros(n)
    np.add.at(out, down[mouths], acc[mouths])
    return out


@dataclass
class _Intervals:
    """The anchors on the network and their intervals (positions in the table order of ``net.net``).

    Attributes
    ----------
    amask : ndarray of bool
        The anchor reaches.
    fd : ndarray of int
        The first anchor downstream of each reach (itself for an anchor); -1 when none: the reach's interval.
    ups : dict
        Anchor -> the anchors directly upstream of its interval.
    up_anchor : ndarray of bool
        Reaches with an anchor strictly upstream (the main channel of an interval).
    nets : dict
        Anchor -> its value minus the values of the anchors directly upstream (the interval's net gain).
    """

    amask: np.ndarray
    fd: np.ndarray
    ups: dict[int, list[int]]
    up_anchor: np.ndarray
    nets: dict[int, float]


@dataclass
class _Spread:
    """Per reach, being filled in: the local term, the rule that gave it, and its basis."""

    local: np.ndarray
    rule: np.ndarray
    basis: np.ndarray


def _intervals(net: _Network, anchors: dict[int, float]) -> _Intervals:
    """Each anchor's interval, the anchors directly upstream of it and its net gain."""
    n = len(net.net)
    down = net.net.down
    pos = {int(r): i for i, r in enumerate(net.net.ids)}
    amask = np.zeros(n, dtype=bool)
    aval = np.full(n, np.nan)
    for rid, v in anchors.items():
        amask[pos[rid]] = True
        aval[pos[rid]] = v
    fd = net.net.first_downstream(amask)
    below_down = np.where(down >= 0, fd[np.where(down >= 0, down, 0)], -1)
    ups: dict[int, list[int]] = {}
    for a in np.flatnonzero(amask):
        if below_down[a] >= 0:
            ups.setdefault(int(below_down[a]), []).append(int(a))
    up_anchor = net.net.accumulate(amask.astype(float)) - amask > 0  # an anchor strictly upstream
    nets = {int(a): aval[a] - sum(aval[u] for u in ups.get(int(a), [])) for a in np.flatnonzero(amask)}
    return _Intervals(amask, fd, ups, up_anchor, nets)


def _yields(iv: _Intervals, w: np.ndarray) -> tuple[float, float]:
    """Median and lowest specific yield (net gain per unit weight) of the gauged, gaining intervals (0 if none)."""
    yields = []
    for a in np.flatnonzero(iv.amask):
        wsum = w[iv.fd == a].sum()
        if iv.nets[int(a)] > 0 and wsum > 0:
            yields.append(iv.nets[int(a)] / wsum)
    return (float(np.median(yields)) if yields else 0.0), (float(min(yields)) if yields else 0.0)


def _interpolate(net: _Network, anchors: dict[int, float], w: np.ndarray, *, hold_below: bool,
                 names: dict[int, str]) -> tuple[np.ndarray, list[str], list[str]]:
    """Spread anchor values over the network, conserving at every confluence (see :func:`gauged_discharge`).

    Returns the accumulated value per reach (table order), the rule and the basis per reach.
    """
    n = len(net.net)
    iv = _intervals(net, anchors)
    out = _Spread(np.zeros(n), np.empty(n, dtype=object), np.empty(n, dtype=object))
    y0, y_dry = _yields(iv, w)
    # a losing stretch lies in the arid lowland: its ungauged tributaries take the driest gauged yield
    for a in np.flatnonzero(iv.amask):
        _spread_interval(net, iv, int(a), w, y_dry, names, out)
    _spread_free(net, iv, w, y0, hold_below, out)
    return net.net.accumulate(out.local), list(out.rule), list(out.basis)


def _spread_interval(net: _Network, iv: _Intervals, a: int, w: np.ndarray, y_dry: float,
                     names: dict[int, str], out: _Spread) -> None:
    """The local terms of anchor ``a``'s interval: its net gain by weight, or a loss along the main channel."""
    ids = net.net.ids
    members = np.flatnonzero(iv.fd == a)
    upnames = ", ".join(names[int(ids[u])] for u in iv.ups.get(a, [])) or "the sources"
    main = members[iv.up_anchor[members]]
    side = members[~iv.up_anchor[members]]
    nv = iv.nets[a]
    wsum = w[members].sum()
    if nv >= 0 and wsum > 0:
        out.local[members] = nv * w[members] / wsum
        out.rule[members] = f"interpolated between {upnames} and {names[int(ids[a])]} in proportion to weight"
    else:
        out.local[side] = y_dry * w[side]
        # the tributaries' flow is lost where they meet the losing channel (no perennial inflow)
        is_main = np.zeros(len(net.net), dtype=bool)
        is_main[main] = True
        absorb = _inflow_from(net, out.local, side, is_main)
        length = net.length_km.astype(float)
        lm = length[main].sum()
        if lm > 0:
            out.local[main] = nv * length[main] / lm - absorb[main]
        out.rule[side] = ("ungauged tributary of a losing stretch (arid lowland): the lowest specific yield of the "
                          "basin's gauged intervals, lost at its mouth")
        out.rule[main] = (f"losing stretch between {upnames} and {names[int(ids[a])]}: the gauged loss "
                          "spread along the channel; ungauged tributaries lost at their mouths")
    out.basis[members] = "interpolated"
    out.basis[a] = "measured"


def _spread_free(net: _Network, iv: _Intervals, w: np.ndarray, y0: float, hold_below: bool, out: _Spread) -> None:
    """The local terms of reaches with no anchor downstream: median yield, the main channel held or not."""
    free = iv.fd < 0
    main_free = free & iv.up_anchor
    side_free = free & ~iv.up_anchor
    out.local[side_free] = y0 * w[side_free]
    out.rule[side_free] = "no gauge downstream: the basin's median specific yield of the gauged intervals"
    if hold_below:
        # the lower course below the lowest gauge is held: tributaries joining it are lost at their mouths
        out.local[main_free] = -_inflow_from(net, out.local, np.flatnonzero(side_free), main_free)[main_free]
        out.rule[main_free] = ("held constant below the lowest gauge (no gain assumed on the lower course; "
                               "ungauged tributaries lost at their mouths)")
    else:
        out.local[main_free] = y0 * w[main_free]
        out.rule[main_free] = "below the lowest anchor: the basin's median density"
    out.basis[free] = "assumed"


@dataclass
class _Anchors:
    """Reaches with a known mean flow (GRDC gauges, cited stations): flow, area, name and citation by reach_id."""

    q: dict[int, float] = field(default_factory=dict)
    area: dict[int, float] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    cites: dict[int, str] = field(default_factory=dict)


def _gauge_anchors(net: _Network, g: pd.DataFrame) -> _Anchors:
    """The GRDC gauges of ``g`` placed on the network (the first gauge of a reach wins)."""
    anchors = _Anchors()
    for row in g.itertuples(index=False):
        rid = int(row.reach_id)
        if rid not in net.down or rid in anchors.q:
            continue
        anchors.q[rid] = float(row.mean_m3s)
        anchors.names[rid] = f"GRDC {int(row.grdc_no)} {str(row.river).title()} at {str(row.station).title()}"
        anchors.cites[rid] = (f"GRDC station catalogue, long-term mean {float(row.mean_m3s):.1f} m3/s "
                              f"({row.period})")
        if pd.notna(row.area_km2):
            anchors.area[rid] = float(row.area_km2)
    return anchors


def _add_cited_anchors(net: _Network, anchors: _Anchors, table: Mapping[str, Any], basin: str | None) -> None:
    """Add the cited stations of ``table`` on rivers without a GRDC gauge (the gauge wins) to ``anchors``."""
    gauged_rivers: set[str] = set()
    for rid in anchors.q:
        gauged_rivers |= set(net.key[rid]) | set(net.subkey[rid])
    stations = [s for s in table.get("station", []) if basin is None or s.get("basin") in (None, basin)]
    for s in stations:
        keys = set(_variants(s["river"])).union(*(_variants(a) for a in s.get("aliases", [])))
        if keys & gauged_rivers:
            continue  # GRDC has a gauge on this river: the gauge wins
        srid = _place_station(net, s)
        if srid is None or srid in anchors.q:
            continue
        anchors.q[srid] = float(s["mean_m3s"])
        anchors.names[srid] = f"cited {s['river']} ({s['at']})"
        anchors.cites[srid] = str(s.get("citation", ""))
        if s.get("area_km2"):
            anchors.area[srid] = float(s["area_km2"])


def _areas(net: _Network, anchors: _Anchors, w: np.ndarray) -> np.ndarray:
    """Drainage area per reach (km2, table order): the DEM's, else interpolated from the anchors; NaN if neither."""
    dem_a, dem_col = _dem_area(net)
    if dem_col is not None:
        # Jobson's Da straight from the DEM; held below the DEM's last reach (lower Syr Darya)
        return np.where(np.isfinite(dem_a), dem_a, net.net.accumulate(w))
    if anchors.area:
        return _interpolate(net, anchors.area, w, hold_below=False, names=anchors.names)[0]
    return np.full(len(net.net.ids), np.nan)


def gauged_discharge(reaches: pd.DataFrame, basin: str | None = None, *, gauges: pd.DataFrame | None = None,
                     table: Mapping[str, Any] | str | Path | None = None, exclude: tuple[int, ...] = ()
                     ) -> pd.DataFrame:
    """Mean discharge and drainage area per reach from GRDC gauges (and cited figures where GRDC lacks).

    Rule. Each gauge (``data/basins/gauges.csv``, status ``used``) is an anchor
    on its reach; a cited station of the discharge table is an anchor too when
    no GRDC gauge lies on its river. Every reach belongs to the interval of the
    first anchor downstream of it. In an interval, the anchor's flow minus the
    flows of the anchors directly upstream (the *net* gain) is spread over the
    interval's reaches in proportion to their weight (incremental DEM drainage
    area when the reaches carry an area column, else channel length, stated);
    a negative net (a losing stretch, e.g. Kal 445 -> Bekabad 230 m3/s) is a
    loss spread along the main channel, while ungauged tributaries joining it
    keep the basin's median specific yield. Below the lowest anchor the main
    channel is held constant; reaches with no anchor downstream take the median
    specific yield. The flow of a reach is the sum of these local terms over
    itself and everything upstream, so flow is conserved at every confluence
    and equals the gauged mean at every anchor. Drainage areas (Jobson's Da)
    are the reaches' DEM ``upland_km2`` where they carry it (held at the DEM's
    last value below it); otherwise they follow the same rule from the anchors
    with an area. A losing stretch's loss is spread in proportion to channel
    length.

    Parameters
    ----------
    reaches : pandas.DataFrame
        Reach table of one basin.
    basin : str, optional
        Basin id (selects gauges and cited stations).
    gauges : DataFrame, optional
        Gauge table (default :func:`read_gauges`).
    table : dict or path, optional
        Cited-literature table (default bundled ``discharge.toml``).
    exclude : tuple of int
        GRDC numbers to leave out (leave-one-out validation).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``reach_id``: ``q_mean_m3s``, ``q_low_m3s`` (cited low flow
        only), ``area_km2``, ``q_station`` (anchors of the interval), ``q_method``
        (the rule), ``q_citation``, ``q_basis`` (measured / interpolated / assumed).
    """
    if table is None or isinstance(table, (str, Path)):
        table = load_discharge_table(table)
    net = _Network(reaches)
    g = read_gauges(basin) if gauges is None else gauges
    g = g[(g["status"] == "used") & g["reach_id"].notna() & ~g["grdc_no"].isin(exclude)]
    anchors = _gauge_anchors(net, g)
    _add_cited_anchors(net, anchors, table, basin)
    w, wname = _anchor_weights(net, reaches)
    ids = net.net.ids
    if not anchors.q:
        raise RiskmapInputError(f"no gauge or cited discharge on the {basin or 'given'} network")
    q, rule, basis = _interpolate(net, anchors.q, w, hold_below=True, names=anchors.names)
    fd = net.net.first_downstream(np.isin(ids, list(anchors.q)))
    out = pd.DataFrame({"reach_id": ids.astype("int64"), "q_mean_m3s": q, "area_km2": _areas(net, anchors, w),
                        "q_station": [anchors.names[int(ids[i])] if i >= 0 else None for i in fd],
                        "q_method": [f"{r}; weight: {wname}" for r in rule],
                        "q_citation": [anchors.cites[int(ids[i])] if i >= 0 else None for i in fd],
                        "q_basis": basis}).set_index("reach_id")
    legacy = assign_discharge(reaches, table, basin=basin)
    out["q_low_m3s"] = legacy["q_low_m3s"].reindex(out.index)
    out.loc[out["q_mean_m3s"] <= 0, "q_mean_m3s"] = np.nan
    out.attrs["anchors"] = dict(anchors.names)
    out.attrs["weight"] = wname
    out.attrs["unplaced_stations"] = []
    return out


def leave_one_out(reaches: pd.DataFrame, basin: str, gauges: pd.DataFrame | None = None) -> pd.DataFrame:
    """Modelled vs gauged mean discharge at each GRDC station on the network, built without it.

    Every placed station (also the excluded ones) is compared with the flow the
    model gives on its reach when that station is left out of the anchors.

    Returns
    -------
    pandas.DataFrame
        ``grdc_no``, ``station``, ``gauged_m3s``, ``modelled_m3s``, ``ratio``.
    """
    g = read_gauges(basin) if gauges is None else gauges
    placed = g[g["reach_id"].notna() & g["mean_m3s"].notna()]
    rows = []
    for row in placed.itertuples(index=False):
        q = gauged_discharge(reaches, basin, gauges=g, exclude=(int(row.grdc_no),))
        m = float(q.at[int(row.reach_id), "q_mean_m3s"])
        rows.append(dict(grdc_no=int(row.grdc_no), station=f"{row.river} at {row.station}",
                         gauged_m3s=float(row.mean_m3s), modelled_m3s=m, ratio=m / float(row.mean_m3s)))
    return pd.DataFrame(rows)
