"""Parameters and reference tables of the reference hydrography build (tables: ``*.toml`` beside this module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

# ---------------------------------------------------------------- parameters

#: NE river stretches farther than this from any GSHHG line are added to the network (m).
NE_COVER_M = 3000.0
#: NE names are transferred to reaches whose sample points lie within this of the NE line (m).
NAME_M = 3000.0
#: Line ends within this distance of another line are snapped onto it (m).
SNAP_M = 2500.0
#: River ends within this distance of a lake polygon are linked to the lake centre (m).
LAKE_LINK_M = 2500.0
#: Border stretches: see :mod:`riskmap.databuild.border_rivers` (the one border-river rule).
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

#: Tables of the build (``specs.toml``) and the basin specifications (``basins.toml``), beside this module.
TABLES_FILE = Path(__file__).with_name("specs.toml")
BASINS_FILE = Path(__file__).with_name("basins.toml")


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _xy(p: list[float]) -> tuple[float, float]:
    return (float(p[0]), float(p[1]))


_T = _load(TABLES_FILE)
#: Source dataset folders by key.
SOURCES: dict[str, str] = dict(_T["sources"])
#: Dam datasets (one file each for both regions): GeoDAR (unnamed dam points, used to anchor rivers
#: missing from both networks) and the GEM Global Hydropower Tracker (named dams -> ``dams`` layer).
DAM_SOURCES: dict[str, tuple[str, str]] = {k: (v["folder"], v["file"]) for k, v in _T["dam_sources"].items()}
#: Files of each region by source key.
REGIONS: dict[str, dict[str, str]] = {r: dict(files) for r, files in _T["regions"].items()}
#: Neighbouring river systems missing from both GSHHG and Natural Earth, anchored by large dams
#: (name, GRanD ids, note); see ``specs.toml``.
UNMAPPED_SYSTEMS: dict[str, list[tuple[str, tuple[int, ...], str]]] = {
    r: [(u["name"], tuple(int(i) for i in u["grand_ids"]), u["note"])
        for u in _T.get("unmapped_systems", {}).get(r, [])] for r in REGIONS}
#: Point datasets (folder, file) resolving the ``geonames:``/``grdc:`` references of NEIGHBOUR_RIVERS.
POINT_SOURCES: dict[str, tuple[str, str]] = {k: (v["folder"], v["file"]) for k, v in _T["point_sources"].items()}
#: Neighbouring rivers missing from both networks, drawn as "other" allocation seed lines through sourced
#: points on them (name, point references downstream, note); see ``specs.toml``.
NEIGHBOUR_RIVERS: dict[str, list[tuple[str, tuple[str | tuple[float, float], ...], str]]] = {
    r: [(u["name"], tuple(p if isinstance(p, str) else _xy(p) for p in u["points"]), u["note"])
        for u in _T.get("neighbour_rivers", {}).get(r, [])]
    for r in REGIONS}
#: Lake names by location (NE leaves Ohrid and Prespa unnamed); (lon, lat) inside the polygon.
LAKE_NAMES: dict[str, list[tuple[str, str, tuple[float, float]]]] = {
    r: [(x["name"], x["kind"], _xy(x["point"])) for x in _T.get("lake_names", {}).get(r, [])] for r in REGIONS}
#: Extra links (documented): Prespa drains underground (karst) to Ohrid.
EXTRA_LINKS: dict[str, list[tuple[str, str, str]]] = {
    r: [(x["name"], x["from"], x["to"]) for x in _T.get("extra_links", {}).get(r, [])] for r in REGIONS}


@dataclass
class BasinSpec:
    """How one bundled basin is built from its region's network.

    The outlet, stem and published area identify and check the basin; the other fields
    (commented where not obvious) steer allocation, sub-basin labels and reach names.
    """

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
    #: (name, (lon, lat), names replaced): the reach nearest the point and every reach upstream of it
    #: whose name is one of ``replaced`` ("" = unnamed) get ``name`` (a river's own name where the
    #: Natural Earth line carries the main river's name up a tributary, e.g. the Tara named "Drina").
    upstream_names: list[tuple[str, tuple[float, float], tuple[str, ...]]] = field(default_factory=list)
    #: (sub-basin, (lon, lat), note): allocation seeds for tributaries missing from both networks,
    #: at a sourced location on the tributary (the point is a seed only, never a reach).
    anchors: list[tuple[str, tuple[float, float], str]] = field(default_factory=list)
    #: (sub-basin, points downstream, note): allocation seed lines for tributaries missing from both
    #: networks, straight between sourced points on them (``geonames:ID``/``grdc:NO``/``grand:ID`` references,
    #: or ``(lon, lat)`` of a cited publication); seeds only, never reaches.
    tributary_lines: list[tuple[str, tuple[str | tuple[float, float], ...], str]] = field(default_factory=list)
    #: largest divide buffer (km) for sites outside the outline (``basins.json`` ``divide_buffer_max_km``,
    #: read by :func:`riskmap.exposure.assess`); None: the per-precision buffer unchanged.
    divide_buffer_max_km: float | None = None
    #: lakes of the basin with no surface outflow (a karst link or channel is their only reach): land
    #: within ``shore_max_km`` of their shore and nearer to it than to any line drains to the lake and
    #: takes the sub-basin of the lake's reaches (:func:`riskmap.databuild.reference.outlines.allocate`).
    shore_lakes: tuple[str, ...] = ()
    shore_max_km: float = 10.0
    sub_basin_note: str = ""
    notes: tuple[str, ...] = ()
    towns_note: str = ""


def _spec(bid: str, t: dict[str, Any]) -> BasinSpec:
    """A :class:`BasinSpec` from its table in ``basins.toml`` (points as tuples)."""
    t = dict(t)
    for key in ("outlet", "stem", "published_area_km2"):
        t[key] = _xy(t[key])
    t["sub_basins"] = [(x["label"], _xy(x["point"]), bool(x["walk"])) for x in t["sub_basins"]]
    t["path_labels"] = [(x["label"], _xy(x["point"])) for x in t.get("path_labels", [])]
    t["distributaries"] = [(_xy(x["mouth"]), _xy(x["split"])) for x in t.get("distributaries", [])]
    t["upstream_names"] = [(x["name"], _xy(x["point"]), tuple(x["replace"])) for x in t.get("upstream_names", [])]
    t["anchors"] = [(x["sub_basin"], _xy(x["point"]), x["note"]) for x in t.get("anchors", [])]
    t["tributary_lines"] = [(x["sub_basin"], tuple(p if isinstance(p, str) else _xy(p) for p in x["points"]), x["note"])
                            for x in t.get("tributary_lines", [])]
    for key in ("exclude_countries", "notes", "shore_lakes"):
        if key in t:
            t[key] = tuple(t[key])
    return BasinSpec(id=bid, **t)


#: The basins the reference build makes, from ``basins.toml``.
BASIN_SPECS: dict[str, BasinSpec] = {bid: _spec(bid, t) for bid, t in _load(BASINS_FILE).items()}
