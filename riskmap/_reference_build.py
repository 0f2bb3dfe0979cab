"""Build the reference hydrography (``data/basins/``) from public sources.

Inputs (read-only, under the sources folder, see each ``SOURCE.md``):

- Natural Earth 1:10m admin-0 v5.1.2 (countries, derived shared borders),
- Natural Earth 1:10m physical v4.0.0 (named rivers, lake centre lines, lakes),
- GSHHG 2.3.7 / WDBII rivers (denser, unnamed river lines),
- Natural Earth 1:10m populated places v5.0.1 (checkpoint towns),
- TFDD international basins (validation only: never written into a product).

Method (details and tolerances in ``docs/hydrography.md``):

1. Lines: GSHHG permanent rivers (levels 1-4) plus NE rivers where GSHHG has no
   line within :data:`NE_COVER_M`; straight "lake links" join river ends at a
   lake shore to the lake centre; Lake Prespa gets a documented karst link to
   Lake Ohrid. Intermittent rivers (5-7) and canals (8-10) are dropped.
2. Noding: every line end within :data:`SNAP_M` of another line is snapped
   onto it and that line is split there.
3. Per basin: the connected network upstream of the outlet (excluding the
   receiving river), a shortest-path tree toward the outlet (loops dropped),
   distributary mouths (Drin branch at Lezhe) re-oriented toward their mouth.
4. Reaches: tree chains between confluences, split where the country / border
   label changes and to at most :data:`MAX_REACH_KM`; attributes per contract.
5. Outlines: land (union of countries) gridded at :data:`GRID_M`; each cell goes
   to the nearest river vertex of any river system of the region (plus dam
   anchors of systems missing from both networks, :data:`UNMAPPED_SYSTEMS`, and
   tributary anchors, ``BasinSpec.anchors``); cells of the target basin form the
   outline, labelled by sub-basin.
6. Dams: GEM Global Hydropower Tracker plants on the network (layer ``dams``);
   the dam's reach marks its reservoir (``waterbody``), whose extent is unknown.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree
from shapely import LineString, Point
from shapely.ops import substring

from riskmap._geo import aeqd_for_bounds, geodesic_area_km2, geodesic_length_km
from riskmap._iso3 import ISO3_NAMES
from riskmap.io import sha256_file
from riskmap.network import RiverNetwork

# ---------------------------------------------------------------- parameters

#: NE river stretches farther than this from any GSHHG line are added to the network (m).
NE_COVER_M = 3000.0
#: NE names are transferred to reaches whose sample points lie within this of the NE line (m).
NAME_M = 3000.0
#: Line ends within this distance of another line are snapped onto it (m).
SNAP_M = 2500.0
#: River ends within this distance of a lake polygon are linked to the lake centre (m).
LAKE_LINK_M = 2500.0
#: A sample point within this distance of a border line is "on the border" (m).
BORDER_M = 2500.0
#: Runs of the same country/border label shorter than this are merged into a neighbour (m).
MIN_RUN_M = 4000.0
#: Longest reach (km); longer chains are split into equal parts.
MAX_REACH_KM = 10.0
#: Spacing of sample points along lines (m).
SAMPLE_M = 250.0
#: Spacing of allocation seeds along river lines (m).
SEED_M = 1000.0
#: Grid cell size for the basin allocation (m), per region.
GRID_M = {"western_balkans": 1500.0, "central_asia": 3000.0}
#: Minimum share of the basin area (and km2) for a country to count as riparian: outline errors
#: along divides are a few km wide, i.e. about 1-2 % of the area; smaller shares are listed
#: under ``minor_shares_km2`` in basins.json.
RIPARIAN_MIN_SHARE = 0.02
RIPARIAN_MIN_KM2 = 20.0
#: Dams of the GEM Global Hydropower Tracker kept for the ``dams`` layer: operating, exact location,
#: capacity >= DAM_MIN_MW, within DAM_SNAP_M of a basin reach (the reach nearest the dam is its marker).
DAM_MIN_MW = 50.0
DAM_SNAP_M = 3000.0
GHPT_ATTRIBUTION = "Global Energy Monitor, Global Hydropower Tracker, May 2024 release"
#: Diversion plants whose reservoirs are off the mapped river: kept in ``dams`` but their reach is not
#: marked as a reservoir (Perucica takes water from the Niksic field reservoirs, not from the Zeta/Moraca).
DAM_NO_RESERVOIR = ("Perucica",)
#: GSHHG levels kept (1-4 permanent rivers).
GSHHG_LEVELS = (1, 2, 3, 4)

SOURCES = {
    "admin0": "natural-earth-10m-admin0-v5.1.2",
    "physical": "natural-earth-10m-physical-v4.0.0",
    "gshhg": "gshhg-wdbii-rivers",
    "places": "natural-earth-10m-populated-places",
    "tfdd": "tfdd-international-basins",
}
#: Dam datasets (one file each for both regions): GeoDAR (unnamed dam points, used to anchor rivers
#: missing from both networks) and the GEM Global Hydropower Tracker (named dams -> ``dams`` layer).
DAM_SOURCES = {
    "geodar": ("geodar-dams", "geodar_v11_dams_beta_pr1_aoi.csv"),
    "ghpt": ("gem-trackers", "hydropower_ghpt_2024-05_aoi.csv"),
}

#: Neighbouring river systems missing from both GSHHG and Natural Earth, anchored by large dams
#: (GeoDAR points that are GRanD v1.3 dams, selected by ``ID_GRDv13``): each dam point becomes an
#: "other" allocation seed, so land nearer to it than to a basin river is not given to the basin.
#: The Mat (Albania, to the Adriatic south of Lezhe) has no line in either source; without these
#: anchors the Drin (its Lezhe branch) took the Mat valley (Rubik, Ulez, Shkopet).
UNMAPPED_SYSTEMS: dict[str, list[tuple[str, tuple[int, ...], str]]] = {
    "western_balkans": [("Mat", (3981, 3982), "Shkopet (GRanD 3981) and Ulez (GRanD 3982) dams on the Mat")],
    "central_asia": [],
}

REGIONS: dict[str, dict[str, str]] = {
    "western_balkans": {
        "admin0": "ne10m_admin0_western_balkans.gpkg",
        "physical": "ne10m_physical_western_balkans.gpkg",
        "gshhg": "gshhg_wdbii_rivers_western_balkans.gpkg",
        "places": "ne10m_populated_places_western_balkans.gpkg",
        "tfdd": "tfdd_basins_western_balkans.gpkg",
    },
    "central_asia": {
        "admin0": "ne10m_admin0_central_asia.gpkg",
        "physical": "ne10m_physical_central_asia.gpkg",
        "gshhg": "gshhg_wdbii_rivers_central_asia.gpkg",
        "places": "ne10m_populated_places_central_asia.gpkg",
        "tfdd": "tfdd_basins_central_asia.gpkg",
    },
}

#: Lake names by location (NE leaves Ohrid and Prespa unnamed); (lon, lat) inside the polygon.
LAKE_NAMES: dict[str, list[tuple[str, str, tuple[float, float]]]] = {
    "western_balkans": [
        ("Lake Ohrid", "lake", (20.73, 41.04)),
        ("Lake Prespa", "lake", (21.03, 40.89)),
        ("Small Prespa", "lake", (21.10, 40.74)),
        ("Lake Skadar", "lake", (19.30, 42.20)),
        ("Fierza reservoir", "reservoir", (20.30, 42.15)),
        ("Vau i Dejes reservoir", "reservoir", (19.64, 42.05)),
    ],
    "central_asia": [
        ("Toktogul reservoir", "reservoir", (72.9, 41.78)),
        ("Kayrakkum reservoir", "reservoir", (70.1, 40.33)),
        ("Shardara reservoir", "reservoir", (68.2, 41.15)),
        ("Aral Sea", "lake", (60.5, 46.4)),
        ("Aydarkul", "lake", (67.0, 40.8)),
    ],
}

#: Extra links (documented): Prespa drains underground (karst) to Ohrid.
EXTRA_LINKS: dict[str, list[tuple[str, str, str]]] = {
    "western_balkans": [
        ("Prespa-Ohrid karst link (underground)", "Lake Prespa", "Lake Ohrid"),
        ("Small Prespa-Prespa channel", "Small Prespa", "Lake Prespa"),
    ],
    "central_asia": [],
}


@dataclass
class BasinSpec:
    id: str
    name: str
    region: str
    outlet: tuple[float, float]
    stem: tuple[float, float]
    published_area_km2: tuple[float, float]
    continuation: list[dict[str, Any]]
    #: (label, point on the tributary a few km above its confluence, walk): the reach nearest the point
    #: (walked down its chain to the confluence when ``walk``) and all reaches upstream get the label;
    #: later entries override earlier ones.
    sub_basins: list[tuple[str, tuple[float, float], bool]]
    main_sub_basin: str
    distributaries: list[tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=list)
    tfdd_code: str = ""
    tfdd_mode: str = "iou"  # "iou" or "share"
    #: lower-course cells farther than this from a seed of these sub-basins are left out (km).
    corridor_km: dict[str, float] = field(default_factory=dict)
    #: land cells farther than this from the basin's own river seeds are left out (km).
    max_alloc_km: float = 22.0
    #: countries whose land is never allocated to the basin (divide follows their border).
    exclude_countries: tuple[str, ...] = ()
    name_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    #: (label, point): the reach nearest the point and every reach downstream of it get the label.
    path_labels: list[tuple[str, tuple[float, float]]] = field(default_factory=list)
    #: sub-basin -> name given to its reaches that carry no Natural Earth name (documented stems).
    fill_names: dict[str, str] = field(default_factory=dict)
    #: (sub-basin, (lon, lat), note): allocation seeds for tributaries missing from both networks,
    #: at a sourced location on the tributary (the point is a seed only, never a reach).
    anchors: list[tuple[str, tuple[float, float], str]] = field(default_factory=list)
    sub_basin_note: str = ""
    notes: tuple[str, ...] = ()
    towns_note: str = ""


BASIN_SPECS: dict[str, BasinSpec] = {
    "drin": BasinSpec(
        id="drin", name="Drin", region="western_balkans",
        outlet=(19.368, 41.851), stem=(19.44, 41.97),
        published_area_km2=(14200.0, 19600.0),
        continuation=[{"water": "Adriatic Sea", "countries": []}],
        main_sub_basin="Drin main",
        sub_basins=[
            ("Moraca-Skadar", (19.481, 42.05), False),
            ("White Drin", (20.506, 42.139), True),
            ("Black Drin", (20.368, 42.004), True),
        ],
        path_labels=[("Moraca-Skadar", (19.40, 41.95))],
        distributaries=[((19.570, 41.7525), (19.61, 42.007))],
        tfdd_code="DRIN", tfdd_mode="iou",
        notes=("Lake Prespa drains underground (karst) to Lake Ohrid; the network links them with a straight "
               "'Prespa-Ohrid karst link (underground)' reach (its length is not a flow path length).",
               "The Drin splits below Vau i Dejes: the main outlet is the Buna/Bojana mouth (ALB|MNE border); "
               "the branch to the sea near Lezhe is kept as a distributary with its own mouth (downstream_id -1).",
               "TFDD treats Lake Prespa as a separate basin (LKPP), so the Prespa part counts against the IoU "
               "with TFDD DRIN."),
        name_overrides={"Black Drin": {"Drin": "Black Drin (Crni Drim)"},
                        "White Drin": {"Drin": "White Drin (Beli Drim)", "Beli Drim": "White Drin (Beli Drim)"}},
    ),
    "drina": BasinSpec(
        id="drina", name="Drina", region="western_balkans",
        outlet=(19.355, 44.894), stem=(19.33, 44.80),
        published_area_km2=(19570.0, 20320.0),
        continuation=[
            {"water": "Sava", "countries": ["BIH|SRB", "SRB"]},
            {"water": "Danube", "countries": ["SRB", "ROU|SRB", "BGR|ROU", "ROU", "MDA|UKR"]},
            {"water": "Black Sea", "countries": []},
        ],
        main_sub_basin="Drina main",
        sub_basins=[
            ("Tara-Piva", (18.956, 43.313), True),
            ("Tara-Piva", (18.839, 43.269), True),
            ("Lim", (19.37, 43.616), True),
        ],
        sub_basin_note=("The Cehotina is not in the source networks (neither GSHHG nor Natural Earth), "
                        "so its catchment is part of 'Drina main'."),
        tfdd_code="DANU", tfdd_mode="share",
        towns_note=("Natural Earth 1:10m populated places has no town in the Drina valley "
                    "(Foca, Gorazde, Visegrad, Zvornik, Pljevlja are absent); none were added."),
    ),
    "syr_darya": BasinSpec(
        id="syr_darya", name="Syr Darya", region="central_asia",
        outlet=(60.896, 46.106), stem=(61.2, 45.9),
        published_area_km2=(219000.0, 402760.0),
        continuation=[{"water": "North Aral Sea", "countries": ["KAZ"]}],
        main_sub_basin="Lower Syr Darya",
        sub_basins=[
            ("Middle Syr Darya", (67.975, 41.25), False),
            ("Chirchik", (68.877, 40.962), True),
            ("Naryn", (71.832, 40.952), True),
            ("Kara Darya", (71.841, 40.918), True),
        ],
        tfdd_code="ARAL", tfdd_mode="share",
        # The Kara Darya sub-basin is one GSHHG chain from the Naryn confluence (Uchkurgan/Namangan)
        # upstream past Andijan into KGZ: NE has no line for it; the NE "Naryn" name that reaches the
        # first km above the confluence (3 km name buffer) is replaced.
        fill_names={"Kara Darya": "Kara Darya"},
        anchors=[("Kara Darya", (72.44972, 41.26),
                  "Mailuu-Suu town (literature-sites/sites.csv, approximate-town): the Mailuu-Suu river, "
                  "missing from both networks, flows to the Kara Darya in the Fergana valley")],
        corridor_km={"Lower Syr Darya": 60.0},
        max_alloc_km=100.0,
        # NE's "Naryn" line continues below the Naryn-Kara Darya confluence: there it is the Syr Darya
        name_overrides={"Kara Darya": {"Naryn": "Kara Darya"}, "Middle Syr Darya": {"Naryn": "Syr Darya"}},
        exclude_countries=("CHN",),
        notes=("Land in China is not allocated: the Syr Darya headwater divide follows the KGZ-CHN border "
               "(Kokshaal-Too/Torugart), and the Tarim headwaters are missing from the source networks.",
               "Kara Darya, Chirchik and other tributaries come from unnamed GSHHG lines; only Naryn and Syr "
               "Darya carry Natural Earth names."),
    ),
}


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
    ends = []
    for ln in lines:
        c = shapely.get_coordinates(ln)
        ends.append(c[0])
        ends.append(c[-1])
    ends = np.asarray(ends)
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


def _node(lines: list[LineString]) -> tuple[list[LineString], np.ndarray, np.ndarray, np.ndarray]:
    """Snap line ends onto nearby lines, split there; return pieces with node ids."""
    lines = [LineString(shapely.get_coordinates(ln)) for ln in lines]
    tree = shapely.STRtree(lines)
    n = len(lines)
    splits: list[list[float]] = [[] for _ in range(n)]
    new_coords = [shapely.get_coordinates(ln).copy() for ln in lines]
    for i, ln in enumerate(lines):
        c = new_coords[i]
        for end in (0, -1):
            p = Point(c[end])
            cand = tree.query(p, predicate="dwithin", distance=SNAP_M)
            cand = [j for j in cand if j != i]
            if not cand:
                continue
            dists = [lines[j].distance(p) for j in cand]
            k = int(np.argmin(dists))
            j = int(cand[k])
            pos = lines[j].project(p)
            q = lines[j].interpolate(pos)
            splits[j].append(pos)
            if dists[k] > 1e-6:
                if end == 0:
                    new_coords[i] = np.vstack([[q.x, q.y], new_coords[i]])
                else:
                    new_coords[i] = np.vstack([new_coords[i], [q.x, q.y]])
            else:
                new_coords[i][end] = [q.x, q.y]
            c = new_coords[i]
    pieces: list[LineString] = []
    for i in range(n):
        ln = LineString(new_coords[i])
        # positions on the original line map to the modified one with an offset at the start
        offset = ln.length - lines[i].length if len(new_coords[i]) > len(shapely.get_coordinates(lines[i])) and \
            not np.allclose(new_coords[i][0], shapely.get_coordinates(lines[i])[0]) else 0.0
        cuts = sorted({round(min(max(s + offset, 0.0), ln.length), 3) for s in splits[i]})
        cuts = [s for s in cuts if 1.0 < s < ln.length - 1.0]
        bounds = [0.0, *cuts, ln.length]
        for a, b in zip(bounds[:-1], bounds[1:]):
            if b - a > 1.0:
                pc = substring(ln, a, b)
                if pc.geom_type == "LineString" and pc.length > 0:
                    pieces.append(pc)
    # node keys: rounded end coordinates (1 m)
    starts = np.array([shapely.get_coordinates(p)[0] for p in pieces])
    stops = np.array([shapely.get_coordinates(p)[-1] for p in pieces])
    allends = np.round(np.vstack([starts, stops]), 0)
    # merge ends closer than 2 m (split points computed twice)
    tree2 = cKDTree(allends)
    pairs = tree2.query_pairs(2.0, output_type="ndarray")
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
    node_xy = allends[uniq]
    m = len(pieces)
    u, v = node_of[:m], node_of[m:]
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
                         bp.reset_index(drop=True), land, _unmapped_points(sources, region, crs))


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


def _point_labels(pts: np.ndarray, net: RegionNetwork, lake_geoms, lake_countries) -> list[str]:
    """Country / border-pair label of sample points (projected)."""
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
    B = net.borders
    btree = shapely.STRtree(B.geometry.values)
    idx, bd = btree.query_nearest(pp, max_distance=BORDER_M, return_distance=True, all_matches=False)
    for pi, bi in zip(idx[0], idx[1]):
        a, b = B["iso3_a"].values[bi], B["iso3_b"].values[bi]
        if lab[pi] in (a, b):
            lab[pi] = f"{a}|{b}"
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
    # chains: merge pieces through nodes with exactly one in-edge and whose out edge is unique
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

    # lakes with their countries
    lk = net.lakes[net.lakes["name"].notna()]
    lake_countries = []
    for geom in lk.geometry:
        isos = sorted(net.countries["iso3"].values[
            (shapely.area(shapely.intersection(net.countries.geometry.values, geom)) > 0.02 * geom.area)])
        lake_countries.append("|".join(isos))
    lake_geoms = list(lk.geometry)

    reaches = []
    chain_first: dict[int, int] = {}
    for ci, chain in enumerate(chains):
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
        labs = _smooth(_point_labels(pts, net, lake_geoms, lake_countries), line.length / n)
        # cut positions: label changes, then max length
        cuts = [0.0]
        for i in range(1, len(labs)):
            if labs[i] != labs[i - 1]:
                cuts.append(d[i])
        cuts.append(line.length)
        pieces = []
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
        R.loc[m, "name"] = R.loc[m, "name"].map(lambda x: mapping.get(x, x) if x else x)
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
    }, geometry=shapely.set_precision(geo.geometry.values, 1e-6), crs="EPSG:4326")
    return out.sort_values("reach_id").reset_index(drop=True)


# ---------------------------------------------------------------- outlines


def allocate(net: RegionNetwork, spec: BasinSpec, reaches: gpd.GeoDataFrame,
             basin_idx: np.ndarray) -> gpd.GeoDataFrame:
    """Sub-basin polygons (EPSG:4326) by nearest-river allocation of gridded land.

    Every land cell (size :data:`GRID_M`) goes to the nearest seed point; seeds
    are points every :data:`SEED_M` along the basin's reaches (labelled by
    sub-basin) and along every other river line of the region plus the shores
    of lakes outside the basin (labelled "other").
    """
    import rasterio.features
    from affine import Affine

    R = reaches.to_crs(net.crs)
    labels = sorted(R["sub_basin"].unique())
    lab_of = {s: i + 1 for i, s in enumerate(labels)}
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
    if len(net.other_points):
        sx.append(np.asarray(net.other_points, float))
        sl.append(np.zeros(len(net.other_points), int))
    for sb_label, (ax, ay), _ in spec.anchors:
        if sb_label in lab_of:
            p = gpd.GeoSeries([Point(ax, ay)], crs="EPSG:4326").to_crs(net.crs).iloc[0]
            sx.append(np.array([[p.x, p.y]]))
            sl.append(np.array([lab_of[sb_label]]))
    seeds = np.vstack(sx)
    seed_lab = np.concatenate(sl)
    tree = cKDTree(seeds)
    cell = GRID_M[spec.region]
    minx, miny, maxx, maxy = R.total_bounds
    pad = 150_000.0
    x0 = np.floor((minx - pad) / cell) * cell
    y1 = np.ceil((maxy + pad) / cell) * cell
    nx = int(np.ceil((maxx + pad - x0) / cell))
    ny = int(np.ceil((y1 - (miny - pad)) / cell))
    xs = x0 + (np.arange(nx) + 0.5) * cell
    ys = y1 - (np.arange(ny) + 0.5) * cell
    X, Y = np.meshgrid(xs, ys)
    land = net.land
    shapely.prepare(land)
    on_land = shapely.contains_xy(land, X.ravel(), Y.ravel())
    lab = np.zeros(X.size, dtype=np.int32)
    q = np.flatnonzero(on_land)
    d, nearest = tree.query(np.c_[X.ravel()[q], Y.ravel()[q]])
    lab[q] = seed_lab[nearest]
    tgt = np.flatnonzero(seed_lab > 0)
    dt, _ = cKDTree(seeds[tgt]).query(np.c_[X.ravel()[q], Y.ravel()[q]], distance_upper_bound=spec.max_alloc_km * 1000.0)
    lab[q[~np.isfinite(dt)]] = 0
    for iso in spec.exclude_countries:
        g = net.countries.geometry[net.countries["iso3"] == iso]
        if len(g):
            gg = g.iloc[0]
            shapely.prepare(gg)
            lab[q[shapely.contains_xy(gg, X.ravel()[q], Y.ravel()[q])]] = 0
    for sb, km in spec.corridor_km.items():
        if sb in lab_of:
            far = (lab[q] == lab_of[sb]) & (d > km * 1000.0)
            lab[q[far]] = 0
    arr = lab.reshape(ny, nx)
    # fill enclosed gaps left by the distance cap (not land of another river system)
    from scipy import ndimage

    other_or_sea = np.ones(X.size, bool)
    other_or_sea[q] = seed_lab[nearest] == 0
    comp, ncomp = ndimage.label(arr == 0)
    bad = np.unique(np.r_[comp[0], comp[-1], comp[:, 0], comp[:, -1], comp.ravel()[other_or_sea]])
    fill = (arr == 0) & ~np.isin(comp, bad)
    if fill.any():
        fi = np.flatnonzero(fill.ravel())
        _, ti = cKDTree(seeds[tgt]).query(np.c_[X.ravel()[fi], Y.ravel()[fi]])
        arr.ravel()[fi] = seed_lab[tgt[ti]]
    transform = Affine(cell, 0, x0, 0, -cell, y1)
    polys: dict[int, list] = {}
    for geom, val in rasterio.features.shapes(arr, mask=arr > 0, transform=transform, connectivity=4):
        polys.setdefault(int(val), []).append(shapely.geometry.shape(geom))
    rows = []
    land_ll = None
    for s in labels:
        parts = polys.get(lab_of[s], [])
        if not parts:
            continue
        g = shapely.union_all(parts)
        g = shapely.simplify(g, 1.0)
        rows.append({"basin": spec.id, "sub_basin": s, "geometry": g})
    sb = gpd.GeoDataFrame(rows, geometry="geometry", crs=net.crs)
    # keep only the part connected to the network (drop islands of other-basin land)
    sb = sb.to_crs("EPSG:4326")
    land_ll = gpd.GeoSeries([net.land], crs=net.crs).to_crs("EPSG:4326").iloc[0]
    sb["geometry"] = [_as_multi(shapely.intersection(shapely.make_valid(g), land_ll)) for g in sb.geometry]
    sb["geometry"] = shapely.set_precision(sb.geometry.values, 1e-6)
    sb["geometry"] = [_as_multi(shapely.make_valid(g)) for g in sb.geometry]
    sb["area_km2"] = np.round(geodesic_area_km2(sb.geometry), 1)
    return sb[["basin", "sub_basin", "area_km2", "geometry"]].sort_values("sub_basin").reset_index(drop=True)


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


# ---------------------------------------------------------------- products


def _tfdd_metrics(sources: Path, spec: BasinSpec, outline) -> dict[str, Any]:
    t = gpd.read_file(sources / SOURCES["tfdd"] / REGIONS[spec.region]["tfdd"])
    t = t[t["BCODE"] == spec.tfdd_code]
    if t.empty:
        return {}
    tg = shapely.make_valid(shapely.union_all(t.geometry.values))
    inter = geodesic_area_km2(shapely.intersection(outline, tg))
    a = geodesic_area_km2(outline)
    if spec.tfdd_mode == "iou":
        union = geodesic_area_km2(shapely.union(outline, tg))
        extra = {}
        lk = gpd.read_file(sources / SOURCES["tfdd"] / REGIONS[spec.region]["tfdd"])
        lk = lk[lk["BCODE"] == "LKPP"]
        if spec.id == "drin" and len(lk):
            # TFDD keeps Lake Prespa as its own basin; compare without our part inside LKPP as well
            lg = shapely.difference(shapely.make_valid(shapely.union_all(lk.geometry.values)), tg)
            o2 = shapely.difference(outline, lg)
            i2 = geodesic_area_km2(shapely.intersection(o2, tg))
            extra["iou_tfdd_without_prespa"] = round(i2 / geodesic_area_km2(shapely.union(o2, tg)), 3)
        return {"tfdd_code": spec.tfdd_code, "iou_tfdd": round(inter / union, 3), **extra,
                "share_in_tfdd": round(inter / a, 3), "tfdd_area_km2_clipped": round(geodesic_area_km2(tg), 0)}
    return {"tfdd_code": spec.tfdd_code, "iou_tfdd": None, "share_in_tfdd": round(inter / a, 3)}


def _plot(path: Path, spec: BasinSpec, outline, subs, reaches, lakes, borders, towns) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    subs.plot(ax=ax, column="sub_basin", cmap="Pastel1", alpha=0.8, legend=True,
              legend_kwds={"loc": "lower left", "fontsize": 7, "title": "sub-basin"})
    outline.boundary.plot(ax=ax, color="black", lw=1.2)
    if len(lakes):
        lakes.plot(ax=ax, color="#9ecae1", edgecolor="#3182bd", lw=0.4)
    borders.plot(ax=ax, color="#cb181d", lw=0.8, ls="--")
    reaches.plot(ax=ax, color="#08519c", lw=0.4 + 0.6 * reaches["order"].astype(float))
    if len(towns):
        towns.plot(ax=ax, color="black", markersize=8)
        for x, y, n in zip(towns.geometry.x, towns.geometry.y, towns["name"]):
            ax.annotate(str(n), (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    b = outline.total_bounds
    ax.set_xlim(b[0] - 0.2, b[2] + 0.2)
    ax.set_ylim(b[1] - 0.2, b[3] + 0.2)
    ax.set_aspect(1 / np.cos(np.radians((b[1] + b[3]) / 2)))
    ax.set_title(f"{spec.name}: reference hydrography (riskmap; NE, GSHHG)", fontsize=10)
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    with _atomic(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)


def _atomic(path: Path):
    from riskmap.io import atomic_path

    return atomic_path(path)


def _towns(sources: Path, spec: BasinSpec, outline, crs) -> gpd.GeoDataFrame:
    pp = gpd.read_file(sources / SOURCES["places"] / REGIONS[spec.region]["places"], layer="populated_places")
    o = gpd.GeoSeries([outline], crs="EPSG:4326").to_crs(crs).iloc[0].buffer(10_000.0)
    near = pp.to_crs(crs).within(o).values
    t = pp[near].copy()
    pop = pd.to_numeric(t["pop_max"], errors="coerce").astype(float)
    t = gpd.GeoDataFrame({
        "name": t["name"].astype(str).values,
        "country": t["adm0_a3"].map(_iso3).values,
        "population": pop.where(pop > 0).values,
        "source": "Natural Earth 10m populated places v5.0.1 (pop_max)",
    }, geometry=t.geometry.values, crs="EPSG:4326")
    return t.sort_values(["country", "name"]).reset_index(drop=True)


def _dams(sources: Path, reaches: gpd.GeoDataFrame, crs,
          lakes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Operating large hydropower dams (GEM GHPT) on the basin network, one row per location.

    A dam is kept when it is operating, its ``location_accuracy`` is ``exact``, its capacity is at
    least :data:`DAM_MIN_MW` and it lies within :data:`DAM_SNAP_M` of a reach; ``reach_id`` is the
    nearest reach. Several GEM units at one location (e.g. Bajina Basta and its pumped-storage plant)
    become one row with the summed capacity; pumped-storage plants alone do not mark a reservoir.
    ``reservoir`` is the mapped lake/reservoir polygon within :data:`DAM_SNAP_M` of the dam (e.g.
    Kairakkum -> "Kayrakkum reservoir"), else "<name> reservoir" (its extent unknown; the dam's reach
    is the marker), or None for diversion plants (:data:`DAM_NO_RESERVOIR`).
    """
    d = pd.read_csv(sources / DAM_SOURCES["ghpt"][0] / DAM_SOURCES["ghpt"][1])
    cap = pd.to_numeric(d["capacity_(mw)"], errors="coerce")
    d = d[(d["status"] == "operating") & (d["location_accuracy"] == "exact") & (cap >= DAM_MIN_MW)].copy()
    d["capacity_mw"] = cap[d.index].astype(float)
    cols = {"name": [], "river": [], "capacity_mw": [], "reach_id": [], "dist_km": [], "plants": [],
            "reservoir": [], "marks_reservoir": [], "source": [], "geometry": []}
    empty = gpd.GeoDataFrame({k: [] for k in cols if k != "geometry"}, geometry=[], crs="EPSG:4326")
    if d.empty or reaches.empty:
        return empty
    pts = gpd.GeoSeries(gpd.points_from_xy(d["lng"], d["lat"]), crs="EPSG:4326").to_crs(crs).values
    rp = reaches.to_crs(crs).geometry.values
    tree = shapely.STRtree(rp)
    idx, dist = tree.query_nearest(pts, max_distance=DAM_SNAP_M, return_distance=True, all_matches=False)
    d = d.iloc[idx[0]].copy()
    d["reach_id"] = reaches["reach_id"].values[idx[1]]
    d["dist_km"] = np.round(dist / 1000.0, 3)
    d["short"] = d["project_name"].astype(str).str.replace(r"\s*hydroelectric plant.*$", "", regex=True)
    d["key"] = list(zip(d["lat"].round(3), d["lng"].round(3)))
    d["lake"] = None
    if lakes is not None and len(lakes):
        lk = lakes[lakes["name"].notna()].to_crs(crs).reset_index(drop=True)
        li, _ = shapely.STRtree(lk.geometry.values).query_nearest(
            gpd.GeoSeries(gpd.points_from_xy(d["lng"], d["lat"]), crs="EPSG:4326").to_crs(crs).values,
            max_distance=DAM_SNAP_M, return_distance=True, all_matches=False)
        lake = np.array([None] * len(d), dtype=object)
        lake[li[0]] = lk["name"].values[li[1]]
        d["lake"] = lake
    for _, g in sorted(d.groupby("key"), key=lambda kv: kv[0]):
        main = g[~g["short"].str.contains("Pumped Storage", case=False)]
        if main.empty:
            continue
        main = main.sort_values(["capacity_mw", "short"], ascending=[False, True])
        r0 = main.iloc[0]
        river = next((str(x) for x in g["river_/_watercourse"] if isinstance(x, str) and x.strip()), None)
        if river is None:
            nm = reaches.loc[reaches["reach_id"] == r0["reach_id"], "name"].iloc[0]
            river = nm if isinstance(nm, str) else None
        cols["name"].append(str(r0["short"]))
        cols["river"].append(river)
        cols["capacity_mw"].append(float(g["capacity_mw"].sum()))
        cols["reach_id"].append(int(r0["reach_id"]))
        cols["dist_km"].append(float(r0["dist_km"]))
        cols["plants"].append("; ".join(sorted(g["project_name"].astype(str))))
        diversion = str(r0["short"]) in DAM_NO_RESERVOIR
        mapped = r0["lake"] if isinstance(r0["lake"], str) else None
        cols["reservoir"].append(None if diversion else (mapped or f"{r0['short']} reservoir"))
        cols["marks_reservoir"].append(not diversion and mapped is None)
        cols["source"].append(GHPT_ATTRIBUTION + " (CC BY 4.0)")
        cols["geometry"].append(Point(float(r0["lng"]), float(r0["lat"])))
    if not cols["name"]:
        return empty
    out = gpd.GeoDataFrame(cols, geometry="geometry", crs="EPSG:4326")
    out["river"] = out["river"].astype(object)
    out["reservoir"] = out["reservoir"].astype(object)
    return out.sort_values("name").reset_index(drop=True)


def build_basin(sources: Path, spec: BasinSpec, net: RegionNetwork, countries: gpd.GeoDataFrame,
                borders: gpd.GeoDataFrame) -> dict[str, Any]:
    """All layers and metadata of one basin (nothing written)."""
    edges, basin_idx = basin_tree(net, spec)
    R = build_reaches(net, spec, edges)
    reaches = finish_reaches(R, net, spec)
    dams = _dams(sources, reaches, net.crs, net.lakes)
    # the dam's reach marks the reservoir (its extent is unknown here); mapped lakes keep their name
    for wb, rid in zip(dams["reservoir"][dams["marks_reservoir"]], dams["reach_id"][dams["marks_reservoir"]]):
        m = (reaches["reach_id"] == rid).values & pd.isna(reaches["waterbody"]).values
        reaches.loc[m, "waterbody"] = wb
    subs = allocate(net, spec, reaches, basin_idx)
    outline_geom = _as_multi(shapely.make_valid(shapely.union_all(subs.geometry.values)))
    area = round(float(geodesic_area_km2(outline_geom)), 1)
    outline = gpd.GeoDataFrame({"basin": [spec.id], "name": [spec.name], "area_km2": [area]},
                               geometry=[outline_geom], crs="EPSG:4326")
    # riparian countries
    creg = countries[countries.intersects(shapely.box(*outline.total_bounds))].copy()
    creg["area_km2_in_basin"] = np.round(
        geodesic_area_km2(shapely.intersection(creg.geometry.values, outline_geom)), 1)
    rip = creg[(creg["area_km2_in_basin"] >= max(RIPARIAN_MIN_KM2, RIPARIAN_MIN_SHARE * area))]
    rip = rip[["iso3", "name", "area_km2_in_basin", "geometry"]].sort_values("iso3").reset_index(drop=True)
    # lakes
    lk = net.lakes[net.lakes["name"].notna()].to_crs("EPSG:4326")
    used = set(reaches["waterbody"].dropna())
    lk = lk[lk["name"].isin(used) | (shapely.area(shapely.intersection(lk.geometry.values, outline_geom))
                                     > 0.5 * shapely.area(lk.geometry.values))].copy()
    lcs = []
    for g in lk.geometry:
        inter = shapely.area(shapely.intersection(countries.geometry.values, g))
        lcs.append("|".join(sorted(countries["iso3"].values[inter > 0.02 * shapely.area(g)])))
    lakes = gpd.GeoDataFrame({"name": lk["name"].values, "kind": lk["kind"].values, "countries": lcs,
                              "shared": [("|" in c) for c in lcs]},
                             geometry=[_as_multi(g) for g in lk.geometry], crs="EPSG:4326")
    lakes["geometry"] = shapely.set_precision(lakes.geometry.values, 1e-6)
    lakes = lakes.sort_values("name").reset_index(drop=True)
    env = shapely.box(*outline.total_bounds).buffer(0.2)
    bsel = borders[borders.intersects(env)].reset_index(drop=True)
    towns = _towns(sources, spec, outline_geom, net.crs)
    tf = _tfdd_metrics(sources, spec, outline_geom)
    lo, hi = spec.published_area_km2
    err = 0.0 if lo <= area <= hi else (100.0 * (area - hi) / hi if area > hi else 100.0 * (area - lo) / lo)
    measured = {
        "area_km2": area,
        "area_error_pct": round(err, 1),
        "area_error_basis": f"distance outside the published range {lo:,.0f}-{hi:,.0f} km2 (0 inside it)",
        "area_vs_max_pct": round(100.0 * (area - hi) / hi, 1),
        "iou_tfdd": tf.get("iou_tfdd"),
        **({"iou_tfdd_without_prespa": tf["iou_tfdd_without_prespa"]} if "iou_tfdd_without_prespa" in tf else {}),
        "share_in_tfdd": tf.get("share_in_tfdd"),
        "tfdd_code": tf.get("tfdd_code"),
        "n_reaches": int(len(reaches)),
        "network_km": round(float(reaches["length_km"].sum()), 1),
        "sub_basin_km2": {s: float(a) for s, a in zip(subs["sub_basin"], subs["area_km2"])},
    }
    meta = {
        "name": spec.name,
        "riparian": list(rip["iso3"]),
        "outlet": [spec.outlet[0], spec.outlet[1]],
        "continuation": spec.continuation,
        "published_area_km2": [lo, hi],
        "measured": measured,
        "area_in_basin_km2": {k: float(v) for k, v in zip(rip["iso3"], rip["area_km2_in_basin"])},
        "minor_shares_km2": {k: float(v) for k, v in zip(creg["iso3"], creg["area_km2_in_basin"])
                             if k not in set(rip["iso3"]) and v > 0},
    }
    if spec.distributaries:
        meta["other_mouths"] = [[m[0], m[1]] for m, _ in spec.distributaries]
    notes = list(spec.notes)
    if spec.towns_note:
        notes.append(spec.towns_note)
    if spec.sub_basin_note:
        notes.append(spec.sub_basin_note)
    if spec.corridor_km:
        notes.append("Outline restricted to the flow-forming part plus a corridor of "
                     + ", ".join(f"{v:g} km around the {k} network" for k, v in spec.corridor_km.items())
                     + " (the endorheic desert is left out).")
    meta["notes"] = notes
    meta["dams"] = {"n": int(len(dams)), "source": GHPT_ATTRIBUTION,
                    "rule": f"operating, location_accuracy exact, >= {DAM_MIN_MW:g} MW, within "
                            f"{DAM_SNAP_M / 1000:g} km of a reach; the nearest reach gets waterbody "
                            "'<name> reservoir' unless the dam is within that distance of a mapped "
                            "lake/reservoir polygon (then that polygon is its reservoir); reservoir extents "
                            "are unknown"}
    return {"outline": outline, "sub_basins": subs, "reaches": reaches, "lakes": lakes, "dams": dams,
            "countries": rip, "borders": bsel, "towns": towns, "meta": meta}


def _source_files(sources: Path) -> list[dict[str, str]]:
    out = []
    for key in ("admin0", "physical", "gshhg", "places", "tfdd"):
        for region, files in REGIONS.items():
            p = sources / SOURCES[key] / files[key]
            out.append({"dataset": SOURCES[key], "path": f"{SOURCES[key]}/{files[key]}", "sha256": sha256_file(p),
                        "use": "validation only (not in any product)" if key == "tfdd" else "product input"})
    for key, (ds, fn) in DAM_SOURCES.items():
        out.append({"dataset": ds, "path": f"{ds}/{fn}", "sha256": sha256_file(sources / ds / fn),
                    "use": ("product input (dams layer, reservoir markers)" if key == "ghpt" else
                            "product input (Mat anchors: GRanD dams 3981, 3982 as allocation seeds)")})
    return out


LICENCES = [
    {"dataset": "natural-earth-10m-admin0-v5.1.2, natural-earth-10m-physical-v4.0.0, "
                "natural-earth-10m-populated-places",
     "licence": "public domain",
     "attribution": "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com."},
    {"dataset": "gshhg-wdbii-rivers", "licence": "LGPL-3.0-or-later",
     "attribution": "GSHHG 2.3.7 rivers (CIA World Data Bank II) by P. Wessel and W. H. F. Smith: "
                    "Wessel, P., and W. H. F. Smith (1996), A global, self-consistent, hierarchical, "
                    "high-resolution shoreline database, J. Geophys. Res., 101(B4), 8741-8743."},
    {"dataset": "gem-trackers (hydropower_ghpt_2024-05_aoi.csv)", "licence": "CC BY 4.0",
     "attribution": "Global Energy Monitor, Global Hydropower Tracker, May 2024 release."},
    {"dataset": "geodar-dams", "licence": "CC BY 4.0",
     "attribution": "Wang, J., et al. (2022). GeoDAR: georeferenced global dams and reservoirs dataset. "
                    "Earth System Science Data 14, 1869-1899 (incl. GRanD v1.3)."},
    {"dataset": "tfdd-international-basins", "licence": "not stated (attribution required)",
     "attribution": "TFDD, Oregon State University; used only to measure agreement, not redistributed."},
]

STEPS = [
    "countries: NE admin-0 v5.1.2 (both AOI files); ISO3 from ADM0_A3, KOS->XKX, KAB (Baikonur lease) "
    "dissolved into KAZ; borders from admin_0_borders_derived without lease_internal, iso3 pair sorted",
    f"rivers: GSHHG WDBII levels {list(GSHHG_LEVELS)} (intermittent 5-7 and canals 8-10 dropped) plus NE "
    f"rivers_lake_centerlines/rivers_europe stretches farther than {NE_COVER_M / 1000:g} km from any GSHHG line "
    "(their ends extended onto the nearest GSHHG line)",
    f"lakes: river ends within {LAKE_LINK_M / 1000:g} km of a NE lake/reservoir polygon linked straight to "
    "the lake's representative point; Lake Prespa linked to Lake Ohrid (underground karst flow) and Small "
    "Prespa to Prespa",
    f"noding: line ends within {SNAP_M / 1000:g} km of another line snapped onto it, that line split there",
    "per basin: network component upstream of the outlet (receiving river excluded), shortest-path tree to "
    "the outlet (loops dropped), distributary mouths re-oriented toward their mouth",
    f"reaches: tree chains between confluences split where the country/border label changes (border when "
    f"within {BORDER_M / 1000:g} km of a shared border line; runs < {MIN_RUN_M / 1000:g} km merged into a "
    f"neighbour) and to <= {MAX_REACH_KM:g} km; length geodesic (WGS84)",
    f"names: majority NE name within {NAME_M / 1000:g} km of the reach (>= 50 % of sample points)",
    "outlines: land (union of countries) gridded (1.5 km Western Balkans, 3 km Central Asia, local "
    "azimuthal-equidistant projection), each cell allocated to the nearest river seed point (every 1 km along "
    "all river lines of the region, each labelled by basin/sub-basin or 'other', plus 'other' seeds along the "
    "sea/lake coast and the shores of lakes off the basin's path); basin cells farther than 22 km (Western "
    "Balkans) / 100 km (Syr Darya) from the basin's own rivers dropped, Lower Syr Darya limited to a 60 km "
    "corridor, land in China excluded for the Syr Darya; enclosed gaps filled; cells polygonised per "
    "sub-basin, clipped to land and dissolved",
    "unmapped systems: the Mat (Albania) is in neither river source; its Shkopet and Ulez dams (GeoDAR/GRanD "
    "3981, 3982) are 'other' allocation seeds. Unmapped tributaries: the Mailuu-Suu (to the Kara Darya) is a "
    "Kara Darya seed at Mailuu-Suu town (literature-sites). Kara Darya sub-basin stem named 'Kara Darya'",
    f"dams: GEM Global Hydropower Tracker (May 2024) operating plants with exact location, >= {DAM_MIN_MW:g} MW, "
    f"within {DAM_SNAP_M / 1000:g} km of a reach -> layer dams; the nearest reach gets waterbody "
    "'<name> reservoir' unless the dam is that close to a mapped lake/reservoir polygon (then it is that "
    "reservoir's dam) or the reach already has a waterbody (reservoir extents unknown; the diversion plant "
    "Perucica marks nothing)",
    "riparian countries: >= 2 % of the outline area (smaller shares listed as minor_shares_km2)",
    "towns: NE populated places v5.0.1 within 10 km of the outline; population = pop_max (NaN if missing)",
]


def build_reference(sources: Path | str, out_dir: Path | str, *, date: str | None = None,
                    basins: list[str] | None = None, plots: bool = True) -> dict[str, Any]:
    """Build ``countries.gpkg`` and every ``<basin>.gpkg`` (+ JSON, provenance, PNG) into ``out_dir``.

    Parameters
    ----------
    sources : path
        Folder of public source datasets (``../shared/data/sources``).
    out_dir : path
        Output folder (``data/basins``).
    date : str, optional
        Build date written into PROVENANCE only (default: ``$SOURCE_DATE_EPOCH`` or today, UTC).
    basins : list of str, optional
        Subset of basin ids (default: all).
    plots : bool
        Write the PNG overviews.

    Returns
    -------
    dict
        The ``basins.json`` content.

    Examples
    --------
    >>> from riskmap._paths import default_sources_dir
    >>> meta = build_reference(default_sources_dir(), "/tmp/basins")  # doctest: +SKIP
    """
    from riskmap.io import atomic_write_text, write_layers

    t0 = time.time()
    sources, out_dir = Path(sources), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key in SOURCES.values():
        if not (sources / key).is_dir():
            from riskmap._errors import RiskmapInputError

            raise RiskmapInputError(f"{sources / key}: source dataset folder not found")
    countries, borders = load_countries(sources)
    write_layers(out_dir / "countries.gpkg", {"countries": countries, "borders": borders})
    ids = basins or list(BASIN_SPECS)
    nets: dict[str, RegionNetwork] = {}
    meta_all: dict[str, Any] = {}
    for bid in ids:
        spec = BASIN_SPECS[bid]
        if spec.region not in nets:
            nets[spec.region] = build_region_network(sources, spec.region, countries, borders)
        res = build_basin(sources, spec, nets[spec.region], countries, borders)
        write_layers(out_dir / f"{bid}.gpkg", {k: res[k] for k in
                                               ("outline", "sub_basins", "reaches", "lakes", "dams",
                                                "countries", "borders", "towns")})
        if plots:
            _plot(out_dir / f"{bid}.png", spec, res["outline"], res["sub_basins"], res["reaches"],
                  res["lakes"], res["borders"], res["towns"])
        meta_all[bid] = res["meta"]
    if basins is None:
        atomic_write_text(out_dir / "basins.json", json.dumps(meta_all, indent=2, ensure_ascii=False) + "\n")
    write_provenance(sources, out_dir, meta_all, date=date, seconds=time.time() - t0)
    return meta_all


def _build_date(date: str | None) -> str:
    if date:
        return date
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        return _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _dt.datetime.now(tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_provenance(sources: Path, out_dir: Path, meta: dict[str, Any], *, date: str | None,
                     seconds: float) -> None:
    from importlib.metadata import PackageNotFoundError, version

    from riskmap.io import atomic_write_text

    try:
        rv = version("riskmap")
    except PackageNotFoundError:
        rv = "unknown"
    files = _source_files(sources)
    prov = {
        "product": "riskmap reference hydrography (data/basins)",
        "riskmap_version": rv,
        "build_date": _build_date(date),
        "builder": "riskmap data build-reference (riskmap/_reference_build.py)",
        "sources": files,
        "licences": LICENCES,
        "licence_of_products": "derived from public-domain Natural Earth and LGPL-3.0-or-later GSHHG data; "
                               "keep the GSHHG attribution (Wessel & Smith) with the reaches and outlines",
        "steps": STEPS,
        "parameters": {"NE_COVER_M": NE_COVER_M, "NAME_M": NAME_M, "SNAP_M": SNAP_M, "LAKE_LINK_M": LAKE_LINK_M,
                       "BORDER_M": BORDER_M, "MIN_RUN_M": MIN_RUN_M, "MAX_REACH_KM": MAX_REACH_KM,
                       "GRID_M": GRID_M, "SEED_M": SEED_M, "GSHHG_LEVELS": list(GSHHG_LEVELS)},
        "products": {
            "countries.gpkg": {"sources": [f["path"] for f in files if "admin0" in f["path"]]},
            **{f"{b}.gpkg": {"sources": [f["path"] for f in files if "tfdd" not in f["path"]
                                         and (REGIONS[BASIN_SPECS[b].region]["admin0"].split("_", 2)[2]
                                              in f["path"] or f["dataset"] in {v[0] for v in
                                                                                DAM_SOURCES.values()})],
                             "measured": m["measured"]} for b, m in meta.items()},
        },
        "build_seconds": round(seconds, 1),
    }
    prov.pop("build_seconds")  # keep the file deterministic apart from the date
    atomic_write_text(out_dir / "PROVENANCE.json", json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    lines = ["# Provenance of data/basins", "",
             f"Built by `riskmap data build-reference` (riskmap {rv}) on {prov['build_date']}.", "",
             "## Sources", "", "| dataset file | sha256 | use |", "|---|---|---|"]
    lines += [f"| `{f['path']}` | `{f['sha256']}` | {f['use']} |" for f in files]
    lines += ["", "## Licences and attribution", ""]
    lines += [f"- **{l_['dataset']}**: {l_['licence']}. {l_['attribution']}" for l_ in LICENCES]
    lines += ["", "## Processing steps", ""]
    lines += [f"{i + 1}. {s}" for i, s in enumerate(STEPS)]
    lines += ["", "## Measured agreement", "", "| basin | area km2 | published km2 | error % | IoU TFDD | share inside TFDD | reaches |",
              "|---|---|---|---|---|---|---|"]
    for b, m in meta.items():
        x = m["measured"]
        lines.append(f"| {b} | {x['area_km2']:,.0f} | {m['published_area_km2'][0]:,.0f}-{m['published_area_km2'][1]:,.0f} "
                     f"| {x['area_error_pct']} | {x['iou_tfdd']} | {x['share_in_tfdd']} ({x['tfdd_code']}) | {x['n_reaches']} |")
    lines += ["", "See docs/hydrography.md for the method, tolerances and known errors.", ""]
    atomic_write_text(out_dir / "PROVENANCE.md", "\n".join(lines))
