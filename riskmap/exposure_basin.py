"""Per-basin step of :func:`riskmap.exposure.assess`: the sites of one basin against its lookup index.

Sub-basin and country by point in polygon, distance to the nearest border, the reach each site
drains to (river snap, basin allocation or the DEM flow path of its own cell), the along-river
distances read from the basin's reach x origin tables, and border water. Everything is vectorised
over the basin's sites; the results are written into the per-site work arrays of ``assess``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmap._geo import GEOD
from riskmap.basin_index import _BasinIndex
from riskmap.flowgrid import FlowGrid

__all__: list[str] = []

#: A given country that differs from the location polygon but is the country across a border at most this
#: far (km) starts the path: Natural Earth 1:10m border lines are off by a km or two in places (GeoNames'
#: Quvasoy, UZB, lies in KGZ by them, 2.1 km from the line, and got "first border 0 km").
GIVEN_ACROSS_BORDER_KM = 3.0

#: Border lines whose vertices lie within this distance (m) of a site's nearest border point meet there
#: (a tripoint), so they are equally near the site.
_TRIPOINT_M = 1.0


@dataclass
class _BasinSites:
    """The sites of one basin: their rows in the output, points (lon/lat and local metres) and given country."""

    ix: _BasinIndex
    k: int
    rows: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    given: np.ndarray
    grid: FlowGrid | None = None
    x: np.ndarray = field(init=False)
    y: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        x, y = self.ix.to_xy.transform(self.lon, self.lat)
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)


@dataclass
class _Snap:
    """Each site's reach (position in the basin index, -1 none), distance to it (m), position on it and rule."""

    reach: np.ndarray
    dist: np.ndarray
    frac: np.ndarray
    how: np.ndarray


def _assess_basin(bs: _BasinSites, cols: dict[str, Any], *, max_snap_km: float) -> None:
    """Fill ``cols`` for the sites of one basin: polygons, border, reach, river distances, border water."""
    ix, rows = bs.ix, bs.rows
    cols["basin"][rows] = ix.id
    cols["continuation"][rows] = ix.continuation
    sub, origin = _locate_polygons(bs, cols)
    _border_distance(bs, origin, cols)
    if ix.reach_idx is None:
        cols["sub_basin"][rows] = sub
        return
    if bs.grid is None:
        snap = _snap_to_network(bs, sub, max_snap_km)
    else:  # sites on the DEM: their own cell's flow path (docs/hydrography.md); the others snap
        snap = _dem_locate(bs, cols)
        rest = np.flatnonzero(snap.reach < 0)
        if len(rest):
            other = _snap_to_network(bs, sub, max_snap_km, rest)
            snap.reach[rest], snap.dist[rest], snap.frac[rest], snap.how[rest] = (
                other.reach, other.dist, other.frac, other.how)
    ok = _write_reach(bs, sub, snap, cols)
    origin = _given_across_a_near_border(bs, origin, snap, ok, cols)
    _along_river(bs, origin, snap, ok, cols)
    cols["on_border_water"][rows] = _on_border_water(bs, snap, ok, max_snap_km, cols)


def _locate_polygons(bs: _BasinSites, cols: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Sub-basin and country by point in polygon; returns ``(sub_basin, origin country)``.

    The path starts in the country the site physically lies in; the given code when unknown.
    """
    ix, m = bs.ix, len(bs.rows)
    si = ix.sub_lab.label(bs.lon, bs.lat)
    sub = np.full(m, None, dtype=object)
    if len(ix.sub_names):
        sub[si >= 0] = ix.sub_names[si[si >= 0]]
    ci = ix.country_lab.label(bs.lon, bs.lat)
    poly = np.full(m, None, dtype=object)
    if len(ix.country_codes):
        poly[ci >= 0] = ix.country_codes[ci[ci >= 0]]
    cols["country_poly"][bs.rows] = poly
    return sub, np.where(pd.notna(poly), poly, bs.given)


def _border_distance(bs: _BasinSites, origin: np.ndarray, cols: dict[str, Any]) -> None:
    """Distance to the nearest border (nearest point in the local projection, length geodesic) and the neighbour."""
    ix, m = bs.ix, len(bs.rows)
    if ix.border_idx is None:
        return
    r = ix.border_idx.nearest(bs.x, bs.y)
    ok = r["line"] >= 0
    if not ok.any():
        return
    _, _, dist = GEOD.inv(bs.lon[ok], bs.lat[ok], r["nlon"][ok], r["nlat"][ok])
    bk = np.full(m, np.nan)
    bk[ok] = np.asarray(dist) / 1000.0
    cols["border_km"][bs.rows] = bk
    a = ix.border_a[r["line"][ok]]
    b = ix.border_b[r["line"][ok]]
    o = origin[ok]
    nb = np.where(a == o, b, np.where(b == o, a, None)).astype(object)
    odd = np.flatnonzero(pd.isna(nb))
    if len(odd):  # site on neither side: a tie at a tripoint, or really nearest a border of two others
        nb[odd] = _neighbour_at_tripoint(ix, r["nx"][ok][odd], r["ny"][ok][odd], o[odd], a[odd], b[odd])
    tmp = np.full(m, None, dtype=object)
    tmp[ok] = nb
    cols["border_neighbour"][bs.rows] = tmp


def _given_across_a_near_border(bs: _BasinSites, origin: np.ndarray, snap: _Snap, ok: np.ndarray,
                                cols: dict[str, Any]) -> np.ndarray:
    """The origin with the given country where the location polygon differs only by a near border line.

    Where a site's given country is the neighbour across its nearest border, at most
    :data:`GIVEN_ACROSS_BORDER_KM` away, the border line (not the given country) is the likely
    error, in two cases. (1) The reach its water joins is in the given country too: the path
    starts in the given country, and an overland crossing of that line on the DEM no longer
    counts as the first border (Quvasoy). (2) The reach is in the polygon's country and the path
    from there never enters the given country: the water leaves the given country at the line,
    so the path starts in the given country with the polygon's country first, at 0 km (Kara-Suu,
    KGZ, 1.5 km inside UZB by Natural Earth). In both the neighbour becomes the polygon's country
    and ``given_origin`` marks the row (``country_check`` says so). Elsewhere the location decides
    (the Farkhad dam, given as UZB, stands by a reach of the Farkhad reservoir in TJK and its water
    enters UZB at once: the path starts in TJK).
    """
    rows, given = bs.rows, bs.given
    poly, nb, km = cols["country_poly"][rows], cols["border_neighbour"][rows], cols["border_km"][rows]
    cand = np.flatnonzero(ok & pd.notna(given) & pd.notna(poly) & (given != poly) & (nb == given)
                          & (km <= GIVEN_ACROSS_BORDER_KM))
    if not len(cand):
        return origin
    rc = bs.ix.reach_country[snap.reach[cand]]
    in_given = np.array([g in str(r).split("|") for g, r in zip(given[cand], rc)], dtype=bool)
    other = cand[~in_given]
    never = other[_never_enters(bs.ix, snap.reach[other], poly[other], given[other])]
    use = np.concatenate([cand[in_given], never])  # candidates only: a few
    cols["border_neighbour"][rows[use]] = poly[use]
    cols["given_origin"][rows[use]] = True
    cols["cross_km"][rows[cand[in_given]]] = np.nan
    dem = never[snap.how[never] == "dem flow path"]
    cols["cross_km"][rows[dem]] = 0.0  # by the data, the site already lies across the line
    out = origin.copy()
    out[use] = given[use]
    return out


def _never_enters(ix: _BasinIndex, reach: np.ndarray, poly: np.ndarray, given: np.ndarray) -> np.ndarray:
    """True where the downstream path from ``reach``, starting in ``poly``, never enters ``given``."""
    lists = [ix.ds_lists[c] for c in ix.ds_code[reach, _origin_codes(ix, poly)]]
    return np.array([all(g not in str(e).split("|") for e in t) for g, t in zip(given, lists)], dtype=bool)


def _origin_codes(ix: _BasinIndex, countries: Any) -> np.ndarray:
    """Column of ``ix.exit_up``/``ix.ds_code`` for each country (the last one: a country no reach is in)."""
    code = pd.Index(list(ix.origins)).get_indexer(pd.Series(countries, dtype=object))
    return np.where(code >= 0, code, ix.exit_up.shape[1] - 1)


def _neighbour_at_tripoint(ix: Any, nx: np.ndarray, ny: np.ndarray, origin: np.ndarray, a: np.ndarray,
                           b: np.ndarray) -> np.ndarray:
    """Neighbour of sites whose nearest border line separates two other countries.

    When that nearest point is a vertex shared with a border of the site's own country
    (a tripoint: every line through it is equally near), the country across that border
    (the first such line in the borders table); otherwise ``"A|B"`` as found (the site
    really is nearest a border between two other countries, or lies in no known country).
    The k-d tree searches only these few sites; the nearest search itself returns one
    of the tied lines by its internal order, which is not a rule.
    """
    idx = ix.border_idx
    hits = idx.tree.query_ball_point(np.c_[nx, ny], r=_TRIPOINT_M)
    out = np.empty(len(nx), dtype=object)
    for i, (h, o) in enumerate(zip(hits, origin)):  # tie rows only (a few per thousand sites)
        across = [ix.border_b[ln] if ix.border_a[ln] == o else ix.border_a[ln]
                  for ln in np.unique(idx.vline[np.asarray(h, dtype=np.intp)])
                  if o is not None and o in (ix.border_a[ln], ix.border_b[ln])]
        out[i] = across[0] if across else f"{a[i]}|{b[i]}"
    return out


def _snap_to_network(bs: _BasinSites, sub: np.ndarray, max_snap_km: float, idx: np.ndarray | None = None) -> _Snap:
    """Nearest reach within ``max_snap_km`` ("river snap"), else the nearest reach of the sub-basin ("basin allocation").

    Sites outside the sub-basin polygons (divide buffer, slivers) take the nearest reach of the basin.
    ``idx``: only these sites (positions in ``bs``; the result has one row each).
    """
    ix = bs.ix
    assert ix.reach_idx is not None
    x, y = bs.x, bs.y
    if idx is not None:
        x, y, sub = x[idx], y[idx], sub[idx]
    r = ix.reach_idx.nearest(x, y, max_dist=max_snap_km * 1000.0)
    snap = _Snap(r["line"].copy(), r["dist"].copy(), r["frac"].copy(),
                 np.where(r["line"] >= 0, "river snap", "basin allocation").astype(object))
    far = np.flatnonzero(snap.reach < 0)
    if not len(far):
        return _past_the_end(ix, snap)
    fsub = sub[far]
    for s in pd.unique(fsub):
        grp = far[fsub == s] if s is not None else far[pd.isna(fsub)]
        if s is not None and s in ix.sub_reach_idx:
            sel, sidx = ix.sub_reach_idx[s]
            rr = sidx.nearest(x[grp], y[grp])
            got = rr["line"] >= 0
            snap.reach[grp[got]] = sel[rr["line"][got]]
        else:
            rr = ix.reach_idx.nearest(x[grp], y[grp])
            got = rr["line"] >= 0
            snap.reach[grp[got]] = rr["line"][got]
        snap.dist[grp[got]], snap.frac[grp[got]] = rr["dist"][got], rr["frac"][got]
    return _past_the_end(ix, snap)


def _past_the_end(ix: Any, snap: _Snap) -> _Snap:
    """Sites snapped to the very end of a reach start on the reach below, where that one starts at the same node.

    At a confluence the node ends two reaches and starts a third, all at the same distance from the
    site; the water is in the reach below whichever of them the nearest-segment search returned.
    """
    end = np.flatnonzero((snap.reach >= 0) & (snap.frac >= 1.0 - 1e-9))
    if len(end):
        nxt = ix.reach_next[snap.reach[end]]
        go = nxt >= 0
        snap.reach[end[go]] = nxt[go]
        snap.frac[end[go]] = 0.0
    return snap


def _write_reach(bs: _BasinSites, sub: np.ndarray, snap: _Snap, cols: dict[str, Any]) -> np.ndarray:
    """Sub-basin (from the reach where no polygon holds the site), reach, snap and rule columns; returns "has a reach"."""
    ix, rows, reach = bs.ix, bs.rows, snap.reach
    nosub = pd.isna(sub) & (reach >= 0)
    sub[nosub] = ix.reach_sub[reach[nosub]]
    cols["sub_basin"][rows] = sub
    ok = reach >= 0
    snap.how[~ok] = "none"
    cols["drainage_by"][rows] = snap.how
    rsafe = np.where(ok, reach, 0)
    cols["reach_id"][rows] = np.where(ok, ix.reach_ids[rsafe], -1)
    for t in (ix.meta or {}).get("terminal_sinks", []):  # endorheic sub-basin: nothing beyond its lake
        cols["continuation"][rows[ok & (ix.reach_sub[rsafe] == t["sub_basin"])]] = t.get("continuation")
    names = ix.reach_names[rsafe].copy()
    names[~ok] = None
    cols["reach_name"][rows] = names
    cols["snap_km"][rows] = np.where(ok, snap.dist / 1000.0, np.nan)
    cols["reach_frac"][rows] = np.where(ok, snap.frac, np.nan)
    return ok


def _along_river(bs: _BasinSites, origin: np.ndarray, snap: _Snap, ok: np.ndarray, cols: dict[str, Any]) -> None:
    """River km to the first border and to the outlet, and the downstream countries' code, from the reach tables."""
    ix, rows = bs.ix, bs.rows
    rsafe = np.where(ok, snap.reach, 0)
    L = ix.reach_len[rsafe]
    site_dto = ix.reach_dto[rsafe] + (1.0 - np.nan_to_num(snap.frac, nan=0.0)) * L
    ocode = _origin_codes(ix, origin)
    rc = _origin_codes(ix, ix.reach_country)
    ocode = np.where(pd.notna(origin), ocode, rc[rsafe])  # unknown origin: the reach's country
    ex = ix.exit_up[rsafe, ocode]
    first = np.maximum(site_dto - ex, 0.0)
    cols["first_border_river_km"][rows] = np.where(ok, first, np.nan)
    cols["outlet_river_km"][rows] = np.where(ok, site_dto, np.nan)
    cols["ds_basin"][rows] = np.where(ok, bs.k, -1)
    cols["ds_code"][rows] = ix.ds_code[rsafe, ocode]


def _on_border_water(bs: _BasinSites, snap: _Snap, ok: np.ndarray, max_snap_km: float,
                     cols: dict[str, Any]) -> np.ndarray:
    """Sites snapped to a border reach, or in or within ``max_snap_km`` of a lake shared by countries.

    Writes ``cols["shore_km"]``: km to the shore of that shared lake (0 inside it), NaN elsewhere.
    """
    ix, lon, lat = bs.ix, bs.lon, bs.lat
    onw = ok & (snap.how == "river snap") & ix.reach_border[np.where(ok, snap.reach, 0)]
    if ix.shared_lakes is None:
        return onw
    lab, shore = ix.shared_lakes
    lim_deg = max_snap_km / 60.0 + 0.01  # generous: 1 deg >= 60 km at these latitudes
    bx0, by0, bx1, by1 = ix.shared_bounds
    c = np.flatnonzero(ok & ~onw & (lon >= bx0 - 2 * lim_deg) & (lon <= bx1 + 2 * lim_deg)
                       & (lat >= by0 - lim_deg) & (lat <= by1 + lim_deg))
    if len(c):
        near = lab.label(lon[c], lat[c]) >= 0
        rest = c[~near]
        ns = shore.nearest(bs.x[rest], bs.y[rest], max_dist=max_snap_km * 1000.0)
        near_shore = ns["line"] >= 0
        onw[c[near]] = True
        onw[rest[near_shore]] = True
        shore_km = np.full(len(bs.rows), np.nan)
        shore_km[c[near]] = 0.0
        shore_km[rest[near_shore]] = ns["dist"][near_shore] / 1000.0
        cols["shore_km"][bs.rows] = shore_km
    return onw


def _dem_locate(bs: _BasinSites, cols: dict[str, Any]) -> _Snap:
    """Each site's reach by the DEM flow path from its own cell (reach -1 where the grid gives none).

    ``drainage_by`` is "dem flow path" (``snap_km`` = overland km to the first stream cell), or
    "river snap" for a site whose own cell is a stream cell (``snap_km`` 0). The sites left at
    reach -1 are snapped to the network by :func:`_snap_to_network`.
    """
    assert bs.grid is not None
    m = len(bs.rows)
    snap = _Snap(np.full(m, -1, dtype=np.intp), np.full(m, np.nan), np.full(m, np.nan),
                 np.full(m, "basin allocation", dtype=object))
    loc = bs.grid.locate(bs.lon, bs.lat)
    pos = pd.Index(bs.ix.reach_ids).get_indexer(loc["reach_id"])
    dem = (loc["reach_id"] >= 0) & (pos >= 0)
    if not dem.any():
        return snap
    snap.reach[dem] = pos[dem]
    snap.frac[dem] = loc["frac"][dem]
    snap.dist[dem] = loc["overland_km"][dem] * 1000.0
    on_stream = dem & (loc["overland_km"] == 0)
    snap.how[dem & ~on_stream] = "dem flow path"
    snap.how[on_stream] = "river snap"
    cols["cross_km"][bs.rows[dem]] = loc["cross_km"][dem]
    cols["dem_network"][bs.rows[dem]] = True
    return snap
