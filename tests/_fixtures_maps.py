"""Synthetic basin and sites for the map tests and benchmark (no real data needed).

A made-up Drina-like basin: two riparian countries (BIH west of 19.3 E, SRB
east), a border river (reaches 4 and 5 along 19.3 E), a lake, two
sub-basins and a small river tree draining north. Sites include a hostile
name (HTML injection), town/estimated coordinates, a pipeline line and
missing values.
"""

from __future__ import annotations


import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from riskmap.hydrography import Basin

XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "</script><script>alert(2)</script>"
CRS = "EPSG:4326"


def synthetic_basin() -> Basin:
    outline = gpd.GeoDataFrame({"basin": ["drina"], "name": ["Drina"], "area_km2": [19570.0]},
                               geometry=[shapely.box(18.5, 43.0, 20.0, 44.5)], crs=CRS)
    sub = gpd.GeoDataFrame(
        {"basin": ["drina", "drina"], "sub_basin": ["Lim", "Tara-Piva"], "area_km2": [9000.0, 10570.0]},
        geometry=[shapely.box(19.3, 43.0, 20.0, 44.5), shapely.box(18.5, 43.0, 19.3, 44.5)], crs=CRS)
    # river tree, digitised in flow direction (first vertex upstream); outlet at the north
    lines = [
        [(18.8, 43.1), (19.0, 43.5)],          # 1 Tara (BIH) -> 3
        [(19.8, 43.1), (19.5, 43.5)],          # 2 Lim (SRB) -> 3? no: -> 6 via Lim
        [(19.0, 43.5), (19.3, 43.8)],          # 3 Drina upper (BIH) -> 4
        [(19.3, 43.8), (19.3, 44.1)],          # 4 Drina border (BIH|SRB) -> 5
        [(19.3, 44.1), (19.3, 44.45)],         # 5 Drina border (BIH|SRB) -> -1 outlet
        [(19.5, 43.5), (19.3, 43.8)],          # 6 Lim lower (SRB) -> 4
        [(18.6, 43.9), (19.0, 43.5)],          # 7 Praca (BIH) -> 3
    ]
    reaches = gpd.GeoDataFrame(
        {"reach_id": [1, 2, 3, 4, 5, 6, 7], "downstream_id": [3, 6, 4, 5, -1, 4, 3],
         "name": ["Tara", "Lim", "Drina", "Drina", "Drina", "Lim", None],
         "length_km": [48.0, 50.0, 45.0, 33.0, 39.0, 40.0, 55.0],
         "dist_to_outlet_km": [117.0, 112.0, 72.0, 39.0, 0.0, 72.0, 117.0],
         "order": [2, 2, 3, 4, 4, 3, 1],
         "country": ["BIH", "SRB", "BIH", "BIH|SRB", "BIH|SRB", "SRB", "BIH"],
         "is_border": [False, False, False, True, True, False, False],
         "waterbody": [None, None, None, "Lake Perucac", None, None, None],
         "sub_basin": ["Tara-Piva", "Lim", "Tara-Piva", "Lim", "Lim", "Lim", "Tara-Piva"]},
        geometry=[shapely.LineString(c) for c in lines], crs=CRS)
    lakes = gpd.GeoDataFrame({"name": ["Lake Perucac"], "kind": ["reservoir"], "countries": ["BIH|SRB"],
                              "shared": [True]},
                             geometry=[shapely.box(19.27, 43.9, 19.33, 44.0)], crs=CRS)
    countries = gpd.GeoDataFrame(
        {"iso3": ["BIH", "SRB", "MNE"], "name": ["Bosnia and Herzegovina", "Serbia", "Montenegro"],
         "area_km2_in_basin": [7000.0, 9000.0, 3570.0]},
        geometry=[shapely.box(18.0, 43.0, 19.3, 45.0), shapely.box(19.3, 43.0, 20.5, 45.0),
                  shapely.box(18.0, 42.3, 20.5, 43.0)], crs=CRS)
    borders = gpd.GeoDataFrame(
        {"iso3_a": ["BIH", "BIH"], "iso3_b": ["SRB", "MNE"], "border_class": ["international", "international"]},
        geometry=[shapely.LineString([(19.3, 43.0), (19.3, 45.0)]),
                  shapely.LineString([(18.0, 43.0), (19.3, 43.0)])], crs=CRS)
    towns = gpd.GeoDataFrame({"name": ["Foca", "Visegrad", "Priboj"], "country": ["BIH", "BIH", "SRB"],
                              "population": [12000.0, np.nan, 14000.0], "source": ["test"] * 3},
                             geometry=shapely.points([(18.78, 43.5), (19.29, 43.78), (19.52, 43.58)]), crs=CRS)
    return Basin(id="drina", name="Drina", outline=outline, sub_basins=sub, reaches=reaches, lakes=lakes,
                 countries=countries, borders=borders, towns=towns,
                 meta={"name": "Drina", "riparian": ["BIH", "MNE", "SRB"]})


def synthetic_sites() -> gpd.GeoDataFrame:
    """Eight assessed sites (one hostile name, approximate coordinates, a pipeline, missing values)."""
    rows = [
        # name, category, country, precision, reach, tb, exposure, priority, point/line
        ("Gradina tailings", "tailings_metal", "BIH", "exact", 1, True, "high", 0.91, (18.85, 43.2)),
        (XSS_IMG, "chemical_plant", "BIH", "exact", 3, True, "high", 0.55, (19.1, 43.6)),
        ("Prijepolje depot", "oil_refinery_depot", "SRB", "town", 2, False, "medium", 0.30, (19.7, 43.2)),
        ("Border mine", "mine", "SRB", "estimated", 4, True, "medium", np.nan, (19.32, 43.95)),
        ("Zvornik smelter", "smelter_refinery", "BIH", "approximate", 5, True, "high", 0.77, (19.2, 44.3)),
        (XSS_SCRIPT, "landfill", "BIH", "exact", 7, True, None, 0.12, (18.7, 43.8)),
        ("Ash pond", "tailings_ash", "SRB", "exact", 6, True, "low", 0.40, (19.45, 43.6)),
        ("Gas line", "pipeline", "BIH", "approximate", np.nan, None, None, np.nan,
         [(18.6, 44.2), (18.9, 44.3), (19.1, 44.35)]),
    ]
    geoms = [shapely.Point(r[8]) if isinstance(r[8], tuple) else shapely.LineString(r[8]) for r in rows]
    df = pd.DataFrame({
        "site_id": [f"test-{k}" for k in range(len(rows))],
        "name": [r[0] for r in rows],
        "category": [r[1] for r in rows],
        "status": ["operating", "closed", None, "abandoned", "operating", "unknown", "operating", "planned"],
        "country": [r[2] for r in rows],
        "coord_precision": [r[3] for r in rows],
        "source": ["test inventory"] * len(rows),
        "source_url": ["https://example.org/site/0", "javascript:alert(3)", None, None,
                       "https://example.org/a?b=1&c=<2>", None, None, None],
        "notes": [None, XSS_IMG, None, None, None, None, None, None],
        "basin": ["drina"] * len(rows),
        "reach_id": pd.array([r[4] if r[4] == r[4] else None for r in rows], dtype="Int64"),
        "transboundary_downstream": pd.array([r[5] for r in rows], dtype="boolean"),
        "downstream_countries": [["BIH", "BIH|SRB"], ["BIH", "BIH|SRB"], ["SRB"], ["BIH|SRB"], ["BIH|SRB"],
                                 ["BIH", "BIH|SRB"], ["SRB", "BIH|SRB"], None],
        "first_border_river_km": [45.0, 0.0, np.nan, 0.0, 0.0, 45.0, 0.0, np.nan],
        "travel_time_h": [30.5, 12.0, np.nan, 0.0, 0.0, 60.0, 8.0, np.nan],
        "exposure_class": [r[6] for r in rows],
        "priority_score": [r[7] for r in rows],
        "score_status": ["scored", "scored", "proxy", "insufficient data", "scored", "proxy", "scored",
                         "insufficient data"],
        "score_terms": [{"wri": 3.1, "thi": 2.0}, {"wri": 1.0}, None, None, {"wri": np.nan}, None, None, None],
    })
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


CATEGORIES_CYCLE = ("tailings_metal", "mine", "smelter_refinery", "chemical_plant", "oil_refinery_depot",
                    "thermal_power_plant", "dam_reservoir", "landfill", "tailings_ash", "other")


def many_sites(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` random synthetic sites inside the synthetic basin, with exposure/hazard-like columns."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(18.55, 19.95, n)
    lat = rng.uniform(43.05, 44.45, n)
    reach = rng.integers(1, 8, n)
    df = pd.DataFrame({
        "site_id": [f"synth-{k:06d}" for k in range(n)],
        "name": [f"Synthetic site {k} {'Ćehotina' if k % 7 == 0 else 'Lim'}" for k in range(n)],
        "category": [CATEGORIES_CYCLE[k % len(CATEGORIES_CYCLE)] for k in range(n)],
        "status": rng.choice(["operating", "closed", "abandoned", "unknown"], n),
        "country": np.where(lon < 19.3, "BIH", "SRB"),
        "coord_precision": rng.choice(["exact", "approximate", "town", "estimated"], n, p=[.5, .3, .15, .05]),
        "source": rng.choice(["GEM GCPT", "OSM", "UNECE TMF checklist"], n),
        "source_url": [f"https://example.org/record/{k}" for k in range(n)],
        "basin": "drina",
        "reach_id": reach,
        "transboundary_downstream": rng.random(n) < 0.6,
        "downstream_countries": [["BIH", "BIH|SRB"]] * n,
        "first_border_river_km": np.round(rng.uniform(0, 120, n), 1),
        "travel_time_h": np.round(rng.uniform(0, 80, n), 1),
        "exposure_class": rng.choice(["high", "medium", "low"], n),
        "priority_score": np.round(rng.random(n), 3),
        "score_status": "scored",
    })
    return gpd.GeoDataFrame(df, geometry=shapely.points(np.column_stack([lon, lat])), crs=CRS)
