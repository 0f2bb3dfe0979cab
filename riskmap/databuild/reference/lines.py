"""River lines of a region: countries and borders, GSHHG/NE lines, lake links, noding."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.spatial import cKDTree
from shapely import LineString, Point
from shapely.ops import substring

from riskmap._geo import aeqd_for_bounds
from riskmap._iso3 import ISO3_NAMES
from riskmap.databuild.reference.specs import (
    BASIN_SPECS,
    DAM_SOURCES,
    EXTRA_LINKS,
    GSHHG_LEVELS,
    LAKE_LINK_M,
    LAKE_NAMES,
    NE_COVER_M,
    NEIGHBOUR_RIVERS,
    POINT_SOURCES,
    REGIONS,
    SAMPLE_M,
    SNAP_M,
    SOURCES,
    UNMAPPED_SYSTEMS,
)

# ---------------------------------------------------------------- helpers


def _iso3(a3: str) -> str:
    a3 = str(a3)
    return {"KOS": "XKX", "KAB": "KAZ"}.get(a3, a3)


def _explode_lines(geoms) -> list[LineString]:
    out: list[LineString] = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        if g.geom_type == "LineString":
            out.append(g)
        elif g.geom_type in ("MultiLineString", "GeometryCollection"):
            out.extend(p for p in g.geoms if p.geom_type == "LineString" and not p.is_empty)
    return out


def _sample(line: LineString, step: float) -> np.ndarray:
    """Points every ~``step`` along a line (always including both ends); shape (n, 2)."""
    n = max(int(np.ceil(line.length / step)), 1)
    d = np.linspace(0.0, line.length, n + 1)
    return shapely.get_coordinates(shapely.line_interpolate_point(line, d))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) index pairs of True runs."""
    out = []
    i, n = 0, len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j < n and mask[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


# ---------------------------------------------------------------- countries


def load_countries(sources: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Countries (ISO3, KOS->XKX, KAB dissolved into KAZ) and shared borders of both regions.

    Examples
    --------
    >>> from riskmap._paths import default_sources_dir
    >>> c, b = load_countries(default_sources_dir())  # doctest: +SKIP
    """
    cparts, bparts = [], []
    for region, files in REGIONS.items():
        path = sources / SOURCES["admin0"] / files["admin0"]
        c = gpd.read_file(path, layer="admin_0_countries")[["ADM0_A3", "geometry"]]
        c["iso3"] = c["ADM0_A3"].map(_iso3)
        c["region"] = region
        cparts.append(c)
        b = gpd.read_file(path, layer="admin_0_borders_derived")
        b = b[b["border_class"] != "lease_internal"].copy()
        b["region"] = region
        bparts.append(b)
    c = pd.concat(cparts, ignore_index=True)
    c["geometry"] = shapely.make_valid(c.geometry.values)
    c = c.dissolve(by="iso3", as_index=False)[["iso3", "geometry"]]
    c["geometry"] = [shapely.MultiPolygon([g]) if g.geom_type == "Polygon" else
                     shapely.MultiPolygon([p for p in getattr(g, "geoms", []) if p.geom_type == "Polygon"])
                     for g in c.geometry]
    c["name"] = c["iso3"].map(lambda k: "Kosovo" if k == "XKX" else ISO3_NAMES.get(k, k))
    countries = gpd.GeoDataFrame(c[["iso3", "name", "geometry"]], geometry="geometry", crs="EPSG:4326")
    countries = countries.sort_values("iso3").reset_index(drop=True)

    b = pd.concat(bparts, ignore_index=True)
    a = b["adm0_a3_l"].map(_iso3)
    z = b["adm0_a3_r"].map(_iso3)
    b["iso3_a"] = np.where(a <= z, a, z)
    b["iso3_b"] = np.where(a <= z, z, a)
    b = b[b["iso3_a"] != b["iso3_b"]]
    b = b.dissolve(by=["iso3_a", "iso3_b", "border_class"], as_index=False)
    b["geometry"] = [g if g.geom_type == "MultiLineString" else shapely.MultiLineString(_explode_lines([g]))
                     for g in b.geometry]
    borders = gpd.GeoDataFrame(b[["iso3_a", "iso3_b", "border_class", "geometry"]], geometry="geometry",
                               crs="EPSG:4326").sort_values(["iso3_a", "iso3_b"]).reset_index(drop=True)
    countries["geometry"] = shapely.set_precision(countries.geometry.values, 1e-7)
    return countries, borders


# ---------------------------------------------------------------- network


@dataclass
class RegionNetwork:
    """The noded river network of one source region, in the region's projected CRS.

    Built by :func:`build_region_network`; the reach, outline and product steps read it. Field
    comments give the columns; every frame is projected to ``crs``.
    """

    region: str
    crs: Any
    lines: gpd.GeoDataFrame  # projected pieces: geometry, u, v, src, link (name of lake link) ...
    node_xy: np.ndarray
    lakes: gpd.GeoDataFrame  # projected, name, kind
    ne: gpd.GeoDataFrame  # projected named NE lines
    countries: gpd.GeoDataFrame  # projected
    borders: gpd.GeoDataFrame  # projected
    land: Any
    #: projected points of unmapped neighbouring river systems ("other" seeds), see UNMAPPED_SYSTEMS
    other_points: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    #: projected seed lines of neighbouring rivers missing from both networks ("other"), see NEIGHBOUR_RIVERS
    other_lines: list[LineString] = field(default_factory=list)
    #: projected tributary seed lines of the region's basins: (basin id, sub-basin, line), see
    #: ``BasinSpec.tributary_lines``
    tributary_lines: list[tuple[str, str, LineString]] = field(default_factory=list)


def _load_region_lines(sources: Path, region: str, crs) -> tuple[list[LineString], list[str], gpd.GeoDataFrame]:
    files = REGIONS[region]
    gs = gpd.read_file(sources / SOURCES["gshhg"] / files["gshhg"])
    gs = gs[gs["level"].isin(GSHHG_LEVELS)].to_crs(crs)
    phys = sources / SOURCES["physical"] / files["physical"]
    layers = [name for name, _ in pyogrio.list_layers(phys)]
    nes = []
    for lyr in ("rivers_lake_centerlines", "rivers_europe"):
        if lyr in layers:
            d = gpd.read_file(phys, layer=lyr)
            nes.append(d[["name", "featurecla", "geometry"]])
    ne = pd.concat(nes, ignore_index=True)
    ne["name"] = ne["name"].where(ne["name"].notna(), None)
    ne["name"] = [" ".join(str(n).split()) if n else None for n in ne["name"]]
    ne = gpd.GeoDataFrame(ne, geometry="geometry", crs="EPSG:4326").to_crs(crs)
    ne = ne.explode(index_parts=False).reset_index(drop=True)
    ne = ne[ne.geometry.geom_type == "LineString"].reset_index(drop=True)

    glines = _explode_lines(gs.geometry)
    lines = list(glines)
    src = ["gshhg"] * len(lines)
    # NE stretches not covered by GSHHG
    gtree = shapely.STRtree(glines)
    for geom in ne.geometry:
        pts = _sample(geom, SAMPLE_M)
        pp = shapely.points(pts)
        near = np.zeros(len(pp), bool)
        idx = gtree.query(pp, predicate="dwithin", distance=NE_COVER_M)
        near[np.unique(idx[0])] = True
        for a, b in _runs(~near):
            a0, b0 = max(a - 1, 0), min(b + 1, len(pts))
            seg = pts[a0:b0]
            if len(seg) >= 2 and (b - a) * SAMPLE_M >= 2000.0:
                # extend a stretch that re-approaches GSHHG onto the nearest GSHHG line
                if a0 < a:
                    seg = np.vstack([_nearest_on(gtree, glines, seg[0]), seg])
                if b0 > b:
                    seg = np.vstack([seg, _nearest_on(gtree, glines, seg[-1])])
                lines.append(LineString(seg))
                src.append("ne")
    return lines, src, ne


def _nearest_on(tree: shapely.STRtree, lines: list[LineString], xy: np.ndarray) -> np.ndarray:
    p = Point(xy)
    j = int(tree.query_nearest(p, all_matches=False)[0])
    q = lines[j].interpolate(lines[j].project(p))
    return np.array([[q.x, q.y]])


def _lakes(sources: Path, region: str, crs) -> gpd.GeoDataFrame:
    phys = sources / SOURCES["physical"] / REGIONS[region]["physical"]
    layers = [name for name, _ in pyogrio.list_layers(phys)]
    parts = []
    for lyr in ("lakes", "lakes_europe"):
        if lyr in layers:
            d = gpd.read_file(phys, layer=lyr)
            d["kind"] = np.where(d["featurecla"].astype(str).str.contains("Reservoir"), "reservoir", "lake")
            parts.append(d[["name", "kind", "geometry"]])
    lk = pd.concat(parts, ignore_index=True)
    lk = gpd.GeoDataFrame(lk, geometry="geometry", crs="EPSG:4326")
    lk["geometry"] = shapely.make_valid(lk.geometry.values)
    lk["name"] = [str(n) if isinstance(n, str) and n.strip() else None for n in lk["name"]]
    for name, kind, (x, y) in LAKE_NAMES.get(region, []):
        hit = lk.geometry.contains(Point(x, y))
        if hit.any():
            lk.loc[hit, "name"] = name
            lk.loc[hit, "kind"] = kind
    lk["name"] = lk["name"].fillna("")
    lk = lk.dissolve(by=["name", "kind"], as_index=False)
    lk["name"] = [n if n else None for n in lk["name"]]
    lk["name"] = lk["name"].astype(object)
    return lk.to_crs(crs)


def _lake_links(lines: list[LineString], lakes: gpd.GeoDataFrame) -> tuple[list[LineString], list[str]]:
    """Straight links from river ends at a lake shore to the lake's representative point."""
    end_list = []
    for ln in lines:
        c = shapely.get_coordinates(ln)
        end_list.append(c[0])
        end_list.append(c[-1])
    ends = np.asarray(end_list)
    ep = shapely.points(ends)
    out, names = [], []
    for name, geom in zip(lakes["name"], lakes.geometry):
        if not isinstance(name, str) or not name:
            continue
        centre = shapely.point_on_surface(geom)
        d = shapely.distance(ep, geom)
        sel = np.flatnonzero(d <= LAKE_LINK_M)
        if len(sel) == 0:
            continue
        seen = set()
        for i in sel:
            key = (round(ends[i][0]), round(ends[i][1]))
            if key in seen:
                continue
            seen.add(key)
            out.append(LineString([tuple(ends[i]), (centre.x, centre.y)]))
            names.append(name)
    return out, names


def _snap_ends(lines: list[LineString]) -> tuple[list[np.ndarray], list[list[float]]]:
    """Line ends within SNAP_M of another line snapped onto it (extended or moved).

    Returns the new coordinates of every line and, per line, the positions along it where
    another line's end was snapped (where it must be split).
    """
    tree = shapely.STRtree(lines)
    splits: list[list[float]] = [[] for _ in lines]
    new_coords = [shapely.get_coordinates(ln).copy() for ln in lines]
    for i in range(len(lines)):
        for end in (0, -1):
            p = Point(new_coords[i][end])
            cand = [j for j in tree.query(p, predicate="dwithin", distance=SNAP_M) if j != i]
            if not cand:
                continue
            dists = [lines[j].distance(p) for j in cand]
            k = int(np.argmin(dists))
            j = int(cand[k])
            pos = lines[j].project(p)
            q = lines[j].interpolate(pos)
            splits[j].append(pos)
            if dists[k] > 1e-6:
                new_coords[i] = (np.vstack([[q.x, q.y], new_coords[i]]) if end == 0
                                 else np.vstack([new_coords[i], [q.x, q.y]]))
            else:
                new_coords[i][end] = [q.x, q.y]
    return new_coords, splits


def _split_pieces(lines: list[LineString], new_coords: list[np.ndarray],
                  splits: list[list[float]]) -> list[LineString]:
    """The snapped lines cut at their split positions (pieces longer than 1 m)."""
    pieces: list[LineString] = []
    for i, orig in enumerate(lines):
        ln = LineString(new_coords[i])
        oc = shapely.get_coordinates(orig)
        # positions on the original line map to the modified one with an offset at the start
        offset = ln.length - orig.length if len(new_coords[i]) > len(oc) and \
            not np.allclose(new_coords[i][0], oc[0]) else 0.0
        cuts = sorted({round(min(max(s + offset, 0.0), ln.length), 3) for s in splits[i]})
        bounds = [0.0, *[s for s in cuts if 1.0 < s < ln.length - 1.0], ln.length]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b - a > 1.0:
                pc = substring(ln, a, b)
                if pc.geom_type == "LineString" and pc.length > 0:
                    pieces.append(pc)
    return pieces


def _node_ids(pieces: list[LineString]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start/end node ids of the pieces (ends rounded to 1 m, ends closer than 2 m merged) and node xy."""
    starts = np.array([shapely.get_coordinates(p)[0] for p in pieces])
    stops = np.array([shapely.get_coordinates(p)[-1] for p in pieces])
    allends = np.round(np.vstack([starts, stops]), 0)
    pairs = cKDTree(allends).query_pairs(2.0, output_type="ndarray")  # split points computed twice
    parent = np.arange(len(allends))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in pairs:
        ra, rb = find(int(a)), find(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(len(allends))])
    uniq, node_of = np.unique(roots, return_inverse=True)
    m = len(pieces)
    return node_of[:m], node_of[m:], allends[uniq]


def _node(lines: list[LineString]) -> tuple[list[LineString], np.ndarray, np.ndarray, np.ndarray]:
    """Snap line ends onto nearby lines, split there; return pieces with node ids."""
    lines = [LineString(shapely.get_coordinates(ln)) for ln in lines]
    new_coords, splits = _snap_ends(lines)
    pieces = _split_pieces(lines, new_coords, splits)
    u, v, node_xy = _node_ids(pieces)
    # make piece ends coincide exactly with their node coordinates
    fixed = []
    for k, p in enumerate(pieces):
        c = shapely.get_coordinates(p).copy()
        c[0] = node_xy[u[k]]
        c[-1] = node_xy[v[k]]
        fixed.append(LineString(c))
    return fixed, u, v, node_xy


def build_region_network(sources: Path, region: str, countries: gpd.GeoDataFrame,
                         borders: gpd.GeoDataFrame) -> RegionNetwork:
    """Noded, undirected river network (projected) of one source region."""
    admin = sources / SOURCES["admin0"] / REGIONS[region]["admin0"]
    bounds = tuple(gpd.read_file(admin, layer="admin_0_countries").total_bounds)
    crs = aeqd_for_bounds(bounds)
    lines, src, ne = _load_region_lines(sources, region, crs)
    link_names: list[str | None] = [None] * len(lines)
    lakes = _lakes(sources, region, crs)
    ll, ln_names = _lake_links(lines, lakes)
    lines += ll
    src += ["lake_link"] * len(ll)
    link_names += ln_names
    for name, a, b in EXTRA_LINKS.get(region, []):
        pa = shapely.point_on_surface(lakes.geometry[lakes["name"] == a].iloc[0])
        pb = shapely.point_on_surface(lakes.geometry[lakes["name"] == b].iloc[0])
        lines.append(LineString([pa, pb]))
        src.append("karst_link" if "karst" in name else "lake_link")
        link_names.append(name)
    # remember source/link attributes through noding via a spatial lookup of piece midpoints
    pieces, u, v, node_xy = _node(lines)
    orig = shapely.STRtree(lines)
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    nearest = orig.query_nearest(mids, return_distance=False, all_matches=False)
    which = np.asarray(nearest[1])
    order = np.argsort(nearest[0])
    which = which[order]
    gdf = gpd.GeoDataFrame({
        "u": u, "v": v,
        "src": [src[i] for i in which],
        "link": pd.Series([link_names[i] for i in which], dtype=object),
    }, geometry=pieces, crs=crs)
    gdf = gdf[gdf["u"] != gdf["v"]].reset_index(drop=True)
    cp = countries[countries.intersects(shapely.box(*bounds).buffer(0.5))].to_crs(crs)
    bp = borders[borders.intersects(shapely.box(*bounds).buffer(0.5))].to_crs(crs)
    land = shapely.union_all(cp.geometry.values)
    return RegionNetwork(region, crs, gdf, node_xy, lakes, ne, cp.reset_index(drop=True),
                         bp.reset_index(drop=True), land, _unmapped_points(sources, region, crs),
                         neighbour_lines(sources, region, crs), tributary_lines(sources, region, crs))


def _unmapped_points(sources: Path, region: str, crs) -> np.ndarray:
    """Projected GeoDAR/GRanD dam points anchoring the region's :data:`UNMAPPED_SYSTEMS`."""
    specs = UNMAPPED_SYSTEMS.get(region, [])
    if not specs:
        return np.empty((0, 2))
    d = pd.read_csv(sources / DAM_SOURCES["geodar"][0] / DAM_SOURCES["geodar"][1])
    ids = sorted({i for _, grand, _ in specs for i in grand})
    sel = d[pd.to_numeric(d["ID_GRDv13"], errors="coerce").isin(ids)].sort_values("ID_GRDv13")
    if len(sel) != len(ids):
        from riskmap._errors import RiskmapInputError

        raise RiskmapInputError(f"geodar: GRanD ids {ids} not all found (UNMAPPED_SYSTEMS)")
    g = gpd.GeoSeries(gpd.points_from_xy(sel["longitude"], sel["latitude"]), crs="EPSG:4326").to_crs(crs)
    return shapely.get_coordinates(g.values)


def _grand_points(sources: Path, ids: list[int]) -> dict[int, tuple[float, float]]:
    """(lon, lat) of GRanD dams by id, from GeoDAR (``ID_GRDv13``)."""
    d = pd.read_csv(sources / DAM_SOURCES["geodar"][0] / DAM_SOURCES["geodar"][1])
    d = d[pd.to_numeric(d["ID_GRDv13"], errors="coerce").isin(ids)]
    return {int(i): (float(x), float(y)) for i, x, y in zip(d["ID_GRDv13"], d["longitude"], d["latitude"])}


def resolve_points(sources: Path, refs: list[str]) -> dict[str, tuple[float, float]]:
    """(lon, lat) of sourced point references ``geonames:ID``, ``grdc:NO`` and ``grand:ID``.

    Raises
    ------
    RiskmapInputError
        A reference of an unknown kind, or one that is not in its source file.
    """
    from riskmap._errors import RiskmapInputError

    by_kind: dict[str, list[int]] = {}
    for ref in refs:
        kind, _, num = ref.partition(":")
        if kind not in ("geonames", "grdc", "grand") or not num.isdigit():
            raise RiskmapInputError(f"specs.toml: point reference {ref!r}: expected geonames:ID, grdc:NO or grand:ID")
        by_kind.setdefault(kind, []).append(int(num))
    found: dict[str, tuple[float, float]] = {}
    if "grand" in by_kind:
        found.update({f"grand:{k}": v for k, v in _grand_points(sources, by_kind["grand"]).items()})
    for kind, (idcol, xcol, ycol) in {"geonames": ("geonameid", "longitude", "latitude"),
                                      "grdc": ("grdc_no", "long", "lat")}.items():
        if kind in by_kind:
            path = sources / POINT_SOURCES[kind][0] / POINT_SOURCES[kind][1]
            d = pd.read_csv(path, usecols=[idcol, xcol, ycol], encoding="latin-1")
            d = d[d[idcol].isin(by_kind[kind])]
            found.update({f"{kind}:{i}": (float(x), float(y)) for i, x, y in zip(d[idcol], d[xcol], d[ycol])})
    missing = [r for r in refs if r not in found]
    if missing:
        raise RiskmapInputError(f"specs.toml neighbour_rivers / basins.toml tributary_lines: {', '.join(missing)} "
                                "not found in the point sources")
    return found


def neighbour_lines(sources: Path, region: str, crs) -> list[LineString]:
    """Projected seed lines of the region's :data:`NEIGHBOUR_RIVERS` (straight between their sourced points).

    Points are references (``geonames:ID``, ``grdc:NO``, ``grand:ID``) or ``(lon, lat)`` of a cited publication.
    """
    specs = NEIGHBOUR_RIVERS.get(region, [])
    if not specs:
        return []
    xy = resolve_points(sources, sorted({r for _, refs, _ in specs for r in refs if isinstance(r, str)}))
    lines = [LineString([xy[r] if isinstance(r, str) else r for r in refs]) for _, refs, _ in specs]
    return list(gpd.GeoSeries(lines, crs="EPSG:4326").to_crs(crs).values)


def tributary_lines(sources: Path, region: str, crs) -> list[tuple[str, str, LineString]]:
    """Projected (basin id, sub-basin, line) of the ``tributary_lines`` of the region's basins.

    Each line runs straight between its points: sourced references (``geonames:ID``, ``grdc:NO``,
    ``grand:ID``, resolved by :func:`resolve_points`) or ``(lon, lat)`` pairs of a cited publication.
    """
    specs = [(b.id, sb, pts) for b in BASIN_SPECS.values() if b.region == region for sb, pts, _ in b.tributary_lines]
    if not specs:
        return []
    xy = resolve_points(sources, sorted({p for *_, pts in specs for p in pts if isinstance(p, str)}))
    lines = [LineString([xy[p] if isinstance(p, str) else p for p in pts]) for *_, pts in specs]
    proj = gpd.GeoSeries(lines, crs="EPSG:4326").to_crs(crs).values
    return [(bid, sb, ln) for (bid, sb, _), ln in zip(specs, proj)]
