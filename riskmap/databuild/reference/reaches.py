"""Per basin: the tree toward the outlet and its reaches (labels, names, sub-basins)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from shapely import LineString, Point
from shapely.ops import substring

from riskmap._geo import geodesic_length_km
from riskmap.databuild.border_rivers import border_pairs_along
from riskmap.databuild.reference.lines import RegionNetwork, _sample
from riskmap.databuild.reference.specs import MAX_REACH_KM, MIN_RUN_M, NAME_M, SAMPLE_M, BasinSpec
from riskmap.network import RiverNetwork

# ---------------------------------------------------------------- basin tree


def _nearest_node(net: RegionNetwork, lonlat: tuple[float, float]) -> int:
    p = gpd.GeoSeries([Point(lonlat)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
    d = np.hypot(net.node_xy[:, 0] - p.x, net.node_xy[:, 1] - p.y)
    return int(np.argmin(d))


def _nearest_piece(net: RegionNetwork, lonlat: tuple[float, float], idx: np.ndarray | None = None) -> int:
    p = gpd.GeoSeries([Point(lonlat)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
    geoms = net.lines.geometry.values
    cand = np.arange(len(geoms)) if idx is None else np.asarray(idx)
    d = shapely.distance(geoms[cand], p)
    return int(cand[int(np.argmin(d))])


def basin_tree(net: RegionNetwork, spec: BasinSpec) -> tuple[list[dict], np.ndarray]:
    """Directed tree edges (piece index, from node, to node) of one basin, and all basin piece ids."""
    L = net.lines
    nn = len(net.node_xy)
    outlet = _nearest_node(net, spec.outlet)
    stem = _nearest_piece(net, spec.stem)
    keep = (L["u"].values != outlet) & (L["v"].values != outlet)
    w = L.geometry.length.values
    g = coo_matrix((np.ones(keep.sum()), (L["u"].values[keep], L["v"].values[keep])), shape=(nn, nn))
    _, lab = connected_components(g, directed=False)
    comp = lab[L["u"].values[stem]]
    in_comp = (lab[L["u"].values] == comp) | (lab[L["v"].values] == comp)
    in_comp &= (lab[L["u"].values] == comp) | (L["u"].values == outlet)
    in_comp &= (lab[L["v"].values] == comp) | (L["v"].values == outlet)
    basin_idx = np.flatnonzero(in_comp)
    # shortest-path tree toward the outlet (undirected weights = planar length)
    uu, vv, ww = L["u"].values[basin_idx], L["v"].values[basin_idx], w[basin_idx]
    # keep the shortest piece between any node pair
    best: dict[tuple[int, int], int] = {}
    for k, (a, b) in enumerate(zip(uu, vv)):
        key = (min(a, b), max(a, b))
        if key not in best or ww[k] < ww[best[key]]:
            best[key] = k
    ks = np.array(sorted(best.values()))
    gm = coo_matrix((np.r_[ww[ks], ww[ks]], (np.r_[uu[ks], vv[ks]], np.r_[vv[ks], uu[ks]])),
                    shape=(nn, nn)).tocsr()
    dist, pred = dijkstra(gm, directed=False, indices=outlet, return_predecessors=True)
    piece_of = {}
    for k in ks:
        a, b = int(uu[k]), int(vv[k])
        piece_of[(a, b)] = int(basin_idx[k])
        piece_of[(b, a)] = int(basin_idx[k])
    edges = []
    for node in range(nn):
        p = pred[node]
        if p < 0:
            continue
        edges.append({"piece": piece_of[(node, int(p))], "a": node, "b": int(p), "main": True})
    # distributaries: re-orient the path from the split node to the extra mouth
    for mouth_ll, split_ll in spec.distributaries:
        mouth, split = _nearest_node(net, mouth_ll), _nearest_node(net, split_ll)
        if not np.isfinite(dist[mouth]) or not np.isfinite(dist[split]):
            continue
        path = [mouth]
        while path[-1] != split and pred[path[-1]] >= 0 and len(path) < 100000:
            path.append(int(pred[path[-1]]))
        if path[-1] != split:
            continue
        onpath = set(zip(path[:-1], path[1:]))
        for e in edges:
            if (e["a"], e["b"]) in onpath:
                e["a"], e["b"] = e["b"], e["a"]
                e["distributary"] = True
    return edges, basin_idx


# ---------------------------------------------------------------- reaches


def _point_labels(pts: np.ndarray, net: RegionNetwork, lake_geoms, lake_countries,
                  line: LineString, step: float) -> list[str]:
    """Country / border-pair label of sample points (projected) along ``line``, ``step`` m apart.

    Border pairs follow the one border-river rule (:mod:`riskmap.databuild.border_rivers`): only
    where the line follows a border of the point's own country.
    """
    pp = shapely.points(pts)
    C = net.countries
    lab = np.array([None] * len(pts), dtype=object)
    for iso, geom in zip(C["iso3"], C.geometry):
        inside = shapely.contains_xy(geom, pts[:, 0], pts[:, 1])
        lab[inside & (lab == None)] = iso  # noqa: E711
    if (lab == None).any():  # noqa: E711  (off-land points: nearest country)
        miss = np.flatnonzero(lab == None)  # noqa: E711
        tree = shapely.STRtree(C.geometry.values)
        nearest = tree.query_nearest(pp[miss], all_matches=False)
        lab[miss[nearest[0]]] = C["iso3"].values[nearest[1]]
    pairs = border_pairs_along(line, net.borders, sample_pts=pp, step_m=step)
    own = np.array([p != "" and str(c) in p.split("|") for p, c in zip(pairs, lab)], dtype=bool)
    lab[own] = pairs[own]
    for geom, cs in zip(lake_geoms, lake_countries):
        if "|" in cs:
            inside = shapely.contains_xy(geom, pts[:, 0], pts[:, 1])
            lab[inside] = cs
    return list(lab)


def _smooth(labels: list[str], step: float) -> list[str]:
    labels = list(labels)
    minlen = max(int(MIN_RUN_M / step), 1)
    for _ in range(3):
        runs = []
        i = 0
        while i < len(labels):
            j = i
            while j < len(labels) and labels[j] == labels[i]:
                j += 1
            runs.append((i, j))
            i = j
        if len(runs) <= 1:
            break
        changed = False
        for r, (i, j) in enumerate(runs):
            if j - i < minlen:
                prev = labels[runs[r - 1][0]] if r > 0 else None
                nxt = labels[runs[r + 1][0]] if r + 1 < len(runs) else None
                # prefer the longer neighbour
                lp = runs[r - 1][1] - runs[r - 1][0] if r > 0 else -1
                ln_ = runs[r + 1][1] - runs[r + 1][0] if r + 1 < len(runs) else -1
                rep = prev if lp >= ln_ else nxt
                if rep is not None:
                    labels[i:j] = [rep] * (j - i)
                    changed = True
                    break
        if not changed:
            break
    return labels


def _link(L: gpd.GeoDataFrame, e: dict) -> str | None:
    v = L["link"].values[e["piece"]]
    return v if isinstance(v, str) else None


def _chains(L: gpd.GeoDataFrame, edges: list[dict], out_edge: dict[int, int],
            in_edges: dict[int, list[int]]) -> list[list[int]]:
    """Edges of :func:`build_reaches` merged into chains (lists of edge positions, upstream first).

    A chain passes through nodes with exactly one in-edge whose out edge is unique and of the
    same lake link.
    """
    indeg = {n: len(v) for n, v in in_edges.items()}
    chains: list[list[int]] = []
    used = set()
    for k, e in enumerate(edges):
        if k in used:
            continue
        # start a chain at an edge whose upstream node is not a simple pass-through
        a = e["a"]
        if indeg.get(a, 0) == 1 and out_edge.get(a) == k:
            prev = in_edges[a][0]
            if _link(L, edges[prev]) == _link(L, e):
                continue
        chain = [k]
        used.add(k)
        node = e["b"]
        while indeg.get(node, 0) == 1 and node in out_edge and out_edge[node] not in used:
            nk = out_edge[node]
            if _link(L, edges[nk]) != _link(L, edges[chain[-1]]):
                break
            chain.append(nk)
            used.add(nk)
            node = edges[nk]["b"]
        chains.append(chain)
    leftover = [k for k in range(len(edges)) if k not in used]
    for k in leftover:  # isolated cycles cannot occur in a tree; keep singletons defensively
        chains.append([k])
    return chains


def _directed(L: gpd.GeoDataFrame, edges: list[dict]) -> tuple[list[LineString], dict[int, int], dict[int, list[int]]]:
    """Piece geometries oriented a -> b, outgoing and incoming edges of each node.

    A node's outgoing edge is its main stem when a distributary also leaves it.
    """
    out_edge: dict[int, int] = {}
    in_edges: dict[int, list[int]] = {}
    for k, e in enumerate(edges):
        cur = out_edge.get(e["a"])
        if cur is None or (edges[cur].get("distributary") and not e.get("distributary")):
            out_edge[e["a"]] = k
        in_edges.setdefault(e["b"], []).append(k)
    geoms = []
    for e in edges:
        g = L.geometry.values[e["piece"]]
        geoms.append(g.reverse() if L["u"].values[e["piece"]] != e["a"] else g)
    return geoms, out_edge, in_edges


def _lake_countries(net: RegionNetwork) -> tuple[list, list[str]]:
    """Named lake geometries and their countries (``"ALB|MNE"``: > 2 % of the lake in each)."""
    lk = net.lakes[net.lakes["name"].notna()]
    out = []
    for geom in lk.geometry:
        share = shapely.area(shapely.intersection(net.countries.geometry.values, geom))
        out.append("|".join(sorted(net.countries["iso3"].values[share > 0.02 * geom.area])))
    return list(lk.geometry), out


def _cuts(labs: list[str], d: np.ndarray, length: float) -> list[tuple[float, float]]:
    """(start, end) positions of the reaches of a chain: at label changes, then <= MAX_REACH_KM."""
    cuts = [0.0] + [d[i] for i in range(1, len(labs)) if labs[i] != labs[i - 1]] + [length]
    pieces: list[tuple[float, float]] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        m = int(np.ceil((b - a) / (MAX_REACH_KM * 1000.0)))
        sub = np.linspace(a, b, m + 1)
        pieces.extend(zip(sub[:-1], sub[1:]))
    return [(a, b) for a, b in pieces if b - a > 0.5]


def _chain_reaches(chain: list[int], edges: list[dict], geoms: list[LineString], net: RegionNetwork,
                   lakes: tuple[list, list[str]]) -> list[dict[str, Any]]:
    """The reaches of one chain of edges (between confluences), with their country/border label."""
    L = net.lines
    line = LineString(np.vstack([shapely.get_coordinates(geoms[chain[0]])]
                                + [shapely.get_coordinates(geoms[k])[1:] for k in chain[1:]]))
    up_node, down_node = edges[chain[0]]["a"], edges[chain[-1]]["b"]
    links = [L["link"].values[edges[k]["piece"]] for k in chain]
    srcs = [L["src"].values[edges[k]["piece"]] for k in chain]
    n = max(int(np.ceil(line.length / SAMPLE_M)), 1)
    d = np.linspace(0, line.length, n + 1)
    mid = (d[:-1] + d[1:]) / 2
    pts = shapely.get_coordinates(shapely.line_interpolate_point(line, mid))
    labs = _smooth(_point_labels(pts, net, lakes[0], lakes[1], line, line.length / n), line.length / n)
    pieces = _cuts(labs, d, line.length)
    out = []
    for j, (a, b) in enumerate(pieces):
        lab_vals = [labs[i] for i in np.flatnonzero((mid >= a) & (mid <= b))] or \
            [labs[min(int(a / (line.length / n)), n - 1)]]
        out.append({
            "geometry": substring(line, a, b),
            "up_node": up_node if j == 0 else None,
            "down_node": down_node if j == len(pieces) - 1 else None,
            "country": pd.Series(lab_vals).mode().sort_values().iloc[0],
            "link": next((x for x in links if isinstance(x, str) and x), None),
            "src": "|".join(sorted(set(srcs))),
            "_last": j == len(pieces) - 1,
        })
    return out


def build_reaches(net: RegionNetwork, spec: BasinSpec, edges: list[dict]) -> gpd.GeoDataFrame:
    """Split the basin tree into reaches with the contract's attributes (projected geometry)."""
    geoms, out_edge, in_edges = _directed(net.lines, edges)
    chains = _chains(net.lines, edges, out_edge, in_edges)
    lakes = _lake_countries(net)
    reaches: list[dict[str, Any]] = []
    chain_first: dict[int, int] = {}
    for chain in chains:
        chain_first[chain[0]] = len(reaches)
        reaches.extend(_chain_reaches(chain, edges, geoms, net, lakes))
    R = gpd.GeoDataFrame(reaches, geometry="geometry", crs=net.crs)
    R["link"] = pd.Series([r["link"] for r in reaches], dtype=object).values
    down = np.full(len(reaches), -1, dtype=int)
    for i, r in enumerate(reaches):
        if not r["_last"]:
            down[i] = i + 1
        elif r["down_node"] in out_edge:
            down[i] = chain_first[out_edge[r["down_node"]]]
    R["_down"] = down
    return R


def _ne_names(R: gpd.GeoDataFrame, net: RegionNetwork) -> list[str | None]:
    """Majority Natural Earth name within NAME_M of each reach (None below half of its sample points)."""
    ne = net.ne[net.ne["name"].notna()].reset_index(drop=True)
    ne_tree = shapely.STRtree(ne.geometry.values)
    names: list[str | None] = []
    for g in R.geometry:
        pts = shapely.points(_sample(g, SAMPLE_M))
        idx, _ = ne_tree.query_nearest(pts, max_distance=NAME_M, return_distance=True, all_matches=False)
        names.append(pd.Series(ne["name"].values[idx[1]]).mode().sort_values().iloc[0]
                     if len(idx[0]) >= 0.5 * len(pts) else None)
    return names


def _waterbodies(R: gpd.GeoDataFrame, net: RegionNetwork) -> list[str | None]:
    """The named lake holding half of each reach (500 m tolerance), else its lake link's lake."""
    wb: list[str | None] = []
    for g, link in zip(R.geometry, R["link"]):
        pts = _sample(g, SAMPLE_M)
        hit = None
        for lname, lgeom in zip(net.lakes["name"], net.lakes.geometry):
            if isinstance(lname, str) and shapely.contains_xy(lgeom.buffer(500.0), pts[:, 0], pts[:, 1]).mean() >= 0.5:
                hit = lname
                break
        if hit is None and isinstance(link, str) and "karst" not in str(link) and "channel" not in str(link):
            hit = link
        wb.append(hit)
    return wb


def _nearest_reach(R: gpd.GeoDataFrame, net: RegionNetwork, pt: tuple[float, float]) -> int:
    p = gpd.GeoSeries([Point(pt)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
    return int(np.argmin(shapely.distance(R.geometry.values, p)))


def _sub_basins(R: gpd.GeoDataFrame, net: RegionNetwork, spec: BasinSpec, rnet: RiverNetwork,
                down: np.ndarray) -> np.ndarray:
    """Sub-basin label of each reach (:attr:`BasinSpec.sub_basins`, then ``path_labels``)."""
    sub = np.array([spec.main_sub_basin] * len(R), dtype=object)
    n_up = rnet.upstream_counts
    for label, pt, walk in spec.sub_basins:
        k = _nearest_reach(R, net, pt)
        while walk and down[k] >= 0 and n_up[down[k]] == 1:  # up to the confluence
            k = int(down[k])
        sub[rnet.upstream_mask(k)] = label
    for label, pt in spec.path_labels:
        sub[rnet.path_positions(_nearest_reach(R, net, pt))] = label
    return sub


def _spec_names(R: gpd.GeoDataFrame, net: RegionNetwork, spec: BasinSpec, rnet: RiverNetwork) -> None:
    """Apply the spec's name overrides, upstream names and fill names to ``R["name"]`` (in place)."""
    for sb, mapping in spec.name_overrides.items():
        m = R["sub_basin"] == sb
        R.loc[m, "name"] = R.loc[m, "name"].map(lambda x, mapping=mapping: mapping.get(x, x) if x else x)
    for nm, pt, replace in spec.upstream_names:  # a river's own name upstream of a point (Tara, Piva, Klina)
        cur = R["name"].to_numpy(dtype=object)
        hit = rnet.upstream_mask(_nearest_reach(R, net, pt)) & \
            np.array([(x if isinstance(x, str) else "") in replace for x in cur])
        R.loc[hit, "name"] = nm
    for sb, nm in spec.fill_names.items():
        m = (R["sub_basin"] == sb).values & pd.isna(R["name"]).values
        R.loc[m, "name"] = nm


def _reach_ids(geo: gpd.GeoDataFrame, dist: np.ndarray, length_km: np.ndarray) -> np.ndarray:
    """Deterministic ids 1..n: by distance to outlet, then downstream-end coordinates, then length."""
    ends = shapely.get_coordinates(shapely.get_point(geo.geometry.values, -1))
    perm = np.lexsort((np.round(length_km, 3), np.round(ends[:, 1], 5), np.round(ends[:, 0], 5),
                       np.round(dist, 3)))
    new_id = np.empty(len(perm), dtype=int)
    new_id[perm] = np.arange(1, len(perm) + 1)
    return new_id


def finish_reaches(R: gpd.GeoDataFrame, net: RegionNetwork, spec: BasinSpec) -> gpd.GeoDataFrame:
    """Compute ids, distances, order, names, waterbodies and sub-basins."""
    geo = R.to_crs("EPSG:4326")
    R = R.copy()
    R["length_km"] = geodesic_length_km(geo.geometry)
    down = R["_down"].values
    rnet = RiverNetwork.from_positions(down, length_km=R["length_km"].to_numpy(dtype=float),
                                       name=f"reference build {spec.id}")
    dist = rnet.dist_to_outlet()
    wb = _waterbodies(R, net)
    names = [nm if nm else (lk if isinstance(lk, str) and ("karst" in lk or "channel" in lk) else None)
             for nm, lk in zip(_ne_names(R, net), R["link"])]
    R["waterbody"] = wb
    R["name"] = [w if (nm is None and w) else nm for nm, w in zip(names, wb)]
    R["sub_basin"] = _sub_basins(R, net, spec, rnet, down)
    _spec_names(R, net, spec, rnet)
    new_id = _reach_ids(geo, dist, R["length_km"].to_numpy(dtype=float))
    out = gpd.GeoDataFrame({
        "reach_id": new_id.astype("int64"),
        "downstream_id": np.where(down >= 0, new_id[np.maximum(down, 0)], -1).astype("int64"),
        "name": R["name"].astype(object).to_numpy(),
        "length_km": np.round(R["length_km"].astype(float), 4).to_numpy(),
        "dist_to_outlet_km": np.round(dist.astype(float), 4),
        "order": np.asarray(rnet.strahler()).astype("int64"),
        "country": R["country"].astype(str).to_numpy(),
        "is_border": R["country"].str.contains("|", regex=False).astype(bool).to_numpy(),
        "waterbody": R["waterbody"].astype(object).to_numpy(),
        "sub_basin": R["sub_basin"].astype(str).to_numpy(),
        "karst": R["link"].map(lambda x: isinstance(x, str) and "karst" in x).astype(bool).to_numpy(),
    }, geometry=shapely.set_precision(geo.geometry.values, 1e-6), crs="EPSG:4326")
    return out.sort_values("reach_id").reset_index(drop=True)
