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


def build_reaches(net: RegionNetwork, spec: BasinSpec, edges: list[dict]) -> gpd.GeoDataFrame:
    """Split the basin tree into reaches with the contract's attributes (projected geometry)."""
    L = net.lines
    # directed piece geometry (a -> b)
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
        if L["u"].values[e["piece"]] != e["a"]:
            g = g.reverse()
        geoms.append(g)
    chains = _chains(L, edges, out_edge, in_edges)

    # lakes with their countries
    lk = net.lakes[net.lakes["name"].notna()]
    lake_countries = []
    for geom in lk.geometry:
        isos = sorted(net.countries["iso3"].values[
            (shapely.area(shapely.intersection(net.countries.geometry.values, geom)) > 0.02 * geom.area)])
        lake_countries.append("|".join(isos))
    lake_geoms = list(lk.geometry)

    reaches: list[dict[str, Any]] = []
    chain_first: dict[int, int] = {}
    for chain in chains:
        chain_first[chain[0]] = len(reaches)
        coords = [shapely.get_coordinates(geoms[chain[0]])]
        for k in chain[1:]:
            coords.append(shapely.get_coordinates(geoms[k])[1:])
        line = LineString(np.vstack(coords))
        up_node, down_node = edges[chain[0]]["a"], edges[chain[-1]]["b"]
        links = [L["link"].values[edges[k]["piece"]] for k in chain]
        srcs = [L["src"].values[edges[k]["piece"]] for k in chain]
        n = max(int(np.ceil(line.length / SAMPLE_M)), 1)
        d = np.linspace(0, line.length, n + 1)
        mid = (d[:-1] + d[1:]) / 2
        pts = shapely.get_coordinates(shapely.line_interpolate_point(line, mid))
        labs = _smooth(_point_labels(pts, net, lake_geoms, lake_countries, line, line.length / n), line.length / n)
        # cut positions: label changes, then max length
        cuts = [0.0]
        for i in range(1, len(labs)):
            if labs[i] != labs[i - 1]:
                cuts.append(d[i])
        cuts.append(line.length)
        pieces: list[tuple[float, float]] = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            m = int(np.ceil((b - a) / (MAX_REACH_KM * 1000.0)))
            sub = np.linspace(a, b, m + 1)
            pieces.extend(zip(sub[:-1], sub[1:]))
        pieces = [(a, b) for a, b in pieces if b - a > 0.5]
        for j, (a, b) in enumerate(pieces):
            seg = substring(line, a, b)
            sel = (mid >= a) & (mid <= b)
            lab_vals = [labs[i] for i in np.flatnonzero(sel)] or [labs[min(int(a / (line.length / n)), n - 1)]]
            country = pd.Series(lab_vals).mode().sort_values().iloc[0]
            reaches.append({
                "geometry": seg,
                "up_node": up_node if j == 0 else None,
                "down_node": down_node if j == len(pieces) - 1 else None,
                "country": country,
                "link": next((x for x in links if isinstance(x, str) and x), None),
                "src": "|".join(sorted(set(srcs))),
                "_last": j == len(pieces) - 1,
            })
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


def finish_reaches(R: gpd.GeoDataFrame, net: RegionNetwork, spec: BasinSpec) -> gpd.GeoDataFrame:
    """Compute ids, distances, order, names, waterbodies and sub-basins."""
    geo = R.to_crs("EPSG:4326")
    R = R.copy()
    R["length_km"] = geodesic_length_km(geo.geometry)
    down = R["_down"].values
    n = len(R)
    rnet = RiverNetwork.from_positions(down, length_km=R["length_km"].to_numpy(dtype=float),
                                       name=f"reference build {spec.id}")
    dist = rnet.dist_to_outlet()
    R["dist_to_outlet_km"] = dist
    R["order"] = rnet.strahler()
    # names from NE
    ne = net.ne[net.ne["name"].notna()].reset_index(drop=True)
    ne_tree = shapely.STRtree(ne.geometry.values)
    names = []
    for g in R.geometry:
        pts = shapely.points(_sample(g, SAMPLE_M))
        idx, dd = ne_tree.query_nearest(pts, max_distance=NAME_M, return_distance=True, all_matches=False)
        if len(idx[0]) >= 0.5 * len(pts):
            names.append(pd.Series(ne["name"].values[idx[1]]).mode().sort_values().iloc[0])
        else:
            names.append(None)
    # waterbody
    wb = []
    for g, link in zip(R.geometry, R["link"]):
        pts = _sample(g, SAMPLE_M)
        hit = None
        for lname, lgeom in zip(net.lakes["name"], net.lakes.geometry):
            if not isinstance(lname, str):
                continue
            inside = shapely.contains_xy(lgeom.buffer(500.0), pts[:, 0], pts[:, 1]).mean()
            if inside >= 0.5:
                hit = lname
                break
        if hit is None and isinstance(link, str) and "karst" not in str(link) and "channel" not in str(link):
            hit = link
        wb.append(hit)
    R["waterbody"] = wb
    names = [nm if nm else (lk if isinstance(lk, str) and ("karst" in lk or "channel" in lk) else None)
             for nm, lk in zip(names, R["link"])]
    R["name"] = [w if (nm is None and w) else nm for nm, w in zip(names, wb)]
    # sub-basins
    sub = np.array([spec.main_sub_basin] * n, dtype=object)
    n_up = rnet.upstream_counts
    for label, pt, walk in spec.sub_basins:
        p = gpd.GeoSeries([Point(pt)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
        k = int(np.argmin(shapely.distance(R.geometry.values, p)))
        while walk and down[k] >= 0 and n_up[down[k]] == 1:  # up to the confluence
            k = int(down[k])
        sub[rnet.upstream_mask(k)] = label
    for label, pt in spec.path_labels:
        p = gpd.GeoSeries([Point(pt)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
        k = int(np.argmin(shapely.distance(R.geometry.values, p)))
        sub[rnet.path_positions(k)] = label
    R["sub_basin"] = sub
    for sb, mapping in spec.name_overrides.items():
        m = R["sub_basin"] == sb
        R.loc[m, "name"] = R.loc[m, "name"].map(lambda x, mapping=mapping: mapping.get(x, x) if x else x)
    for nm, pt, replace in spec.upstream_names:  # a river's own name upstream of a point (Tara, Piva, Klina)
        p = gpd.GeoSeries([Point(pt)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
        k = int(np.argmin(shapely.distance(R.geometry.values, p)))
        cur = R["name"].to_numpy(dtype=object)
        hit = rnet.upstream_mask(k) & np.array([(x if isinstance(x, str) else "") in replace for x in cur])
        R.loc[hit, "name"] = nm
    for sb, nm in spec.fill_names.items():
        m = (R["sub_basin"] == sb).values & pd.isna(R["name"]).values
        R.loc[m, "name"] = nm
    R["is_border"] = R["country"].str.contains("|", regex=False)
    # deterministic ids: by distance to outlet, then downstream-end coordinates
    ends = shapely.get_coordinates(shapely.get_point(geo.geometry.values, -1))
    key = pd.DataFrame({"d": np.round(dist, 3), "x": np.round(ends[:, 0], 5), "y": np.round(ends[:, 1], 5),
                        "l": np.round(R["length_km"].values, 3)})
    perm = np.lexsort((key["l"].values, key["y"].values, key["x"].values, key["d"].values))
    new_id = np.empty(n, dtype=int)
    new_id[perm] = np.arange(1, n + 1)
    R["reach_id"] = new_id
    R["downstream_id"] = np.where(down >= 0, new_id[np.maximum(down, 0)], -1)
    out = gpd.GeoDataFrame({
        "reach_id": R["reach_id"].astype("int64"),
        "downstream_id": R["downstream_id"].astype("int64"),
        "name": R["name"].astype(object),
        "length_km": np.round(R["length_km"].astype(float), 4),
        "dist_to_outlet_km": np.round(R["dist_to_outlet_km"].astype(float), 4),
        "order": R["order"].astype("int64"),
        "country": R["country"].astype(str),
        "is_border": R["is_border"].astype(bool),
        "waterbody": R["waterbody"].astype(object),
        "sub_basin": R["sub_basin"].astype(str),
        "karst": R["link"].map(lambda x: isinstance(x, str) and "karst" in x).astype(bool).to_numpy(),
    }, geometry=shapely.set_precision(geo.geometry.values, 1e-6), crs="EPSG:4326")
    return out.sort_values("reach_id").reset_index(drop=True)
