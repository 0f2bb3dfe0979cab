"""Parameters and reference tables of the reference hydrography build (tables: ``*.toml`` beside this module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
