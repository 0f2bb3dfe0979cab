"""Synthetic inputs for the report and export tests (no real data needed).

A tiny made-up basin (three reaches, a border river, a lake) and eight
assessed and scored sites, including hostile names (HTML and formula
injection), a pipeline line, Kosovo (XKX) and missing values.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.schema import validate_sites
from riskmap.hydrography import Basin

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","x")'


def fake_basin() -> Basin:
    crs = "EPSG:4326"
    outline = gpd.GeoDataFrame({"basin": ["drin"], "name": ["Drin"], "area_km2": [1234.5]},
                               geometry=[shapely.box(19.0, 41.0, 21.0, 43.0)], crs=crs)
    sub = gpd.GeoDataFrame({"basin": ["drin", "drin"], "sub_basin": ["White Drin", "Black Drin"],
                            "area_km2": [600.0, 634.5]},
                           geometry=[shapely.box(19.0, 42.0, 21.0, 43.0), shapely.box(19.0, 41.0, 21.0, 42.0)],
                           crs=crs)
    reaches = gpd.GeoDataFrame(
        {"reach_id": [1, 2, 3], "downstream_id": [2, 3, -1], "name": ["White Drin", "Drin", "Buna/Bojana"],
         "length_km": [80.0, 60.0, 40.0], "dist_to_outlet_km": [100.0, 40.0, 0.0], "order": [3, 4, 5],
         "country": ["XKX", "ALB", "ALB|MNE"], "is_border": [False, False, True],
         "waterbody": [None, "Fierza", None], "sub_basin": ["White Drin", "Black Drin", "Black Drin"]},
        geometry=[shapely.LineString([(20.8, 42.6), (20.4, 42.2)]),
                  shapely.LineString([(20.4, 42.2), (19.7, 41.9)]),
                  shapely.LineString([(19.7, 41.9), (19.4, 41.8)])], crs=crs)
    lakes = gpd.GeoDataFrame({"name": ["Lake Ohrid"], "kind": ["lake"], "countries": ["ALB|MKD"],
                              "shared": [True]}, geometry=[shapely.box(20.6, 41.0, 20.8, 41.2)], crs=crs)
    countries = gpd.GeoDataFrame(
        {"iso3": ["ALB", "XKX", "MKD", "MNE"], "name": ["Albania", "Kosovo", "North Macedonia", "Montenegro"],
         "area_km2_in_basin": [500.0, 400.0, 200.0, 134.5]},
        geometry=[shapely.box(19.0, 41.0, 20.4, 42.2), shapely.box(20.4, 42.2, 21.0, 43.0),
                  shapely.box(20.4, 41.0, 21.0, 42.2), shapely.box(19.0, 42.2, 20.4, 43.0)], crs=crs)
    borders = gpd.GeoDataFrame({"iso3_a": ["ALB"], "iso3_b": ["XKX"], "border_class": ["international"]},
                               geometry=[shapely.LineString([(20.4, 42.2), (21.0, 42.2)])], crs=crs)
    towns = gpd.GeoDataFrame({"name": ["Kukës"], "country": ["ALB"], "population": [np.nan],
                              "source": ["synthetic"]}, geometry=[shapely.Point(20.42, 42.08)], crs=crs)
    meta = {"name": "Drin", "riparian": ["ALB", "MKD", "MNE", "XKX"], "outlet": [19.4, 41.8],
            "continuation": [{"water": "Adriatic Sea", "countries": ["ALB|MNE"]}],
            "published_area_km2": [14200, 19600],
            "measured": {"area_km2": 1234.5, "area_error_pct": -3.2, "iou_tfdd": 0.91}}
    return Basin(id="drin", name="Drin", outline=outline, sub_basins=sub, reaches=reaches, lakes=lakes,
                 countries=countries, borders=borders, towns=towns, meta=meta)


def raw_sites() -> pd.DataFrame:
    """Eight schema-valid raw site records (lon/lat columns, pipeline as WKT)."""
    rows = [
        ("s1", "Trepça tailings", "tailings_metal", "closed", "XKX", "exact", "literature-sites",
         "CC BY 4.0", 20.85, 42.9, 2.5e7, None),
        ("s2", XSS_SCRIPT, "chemical_plant", "operating", "ALB", "approximate", "gem-trackers",
         "CC BY 4.0", 20.0, 42.0, np.nan, '[{"name":"chlorine","quantity_t":50,"wgk":2}]'),
        ("s3", XSS_IMG, "mine", "abandoned", "MNE", "town", "fineprint-mining-compilation",
         "CC BY-SA 4.0", 19.9, 42.5, np.nan, None),
        ("s4", FORMULA, "landfill", None, "MKD", "estimated", "literature-sites", "CC BY 4.0",
         20.7, 41.5, np.nan, None),
        ("s5", "-1+2 plant", "thermal_power_plant", "operating", "ALB", "exact", "wri-gppd",
         "CC BY 4.0", 19.5, 41.85, np.nan, None),
        ("s6", "Fierza dam", "dam_reservoir", "operating", "ALB", "exact", "geodar-dams",
         "CC BY 4.0", 20.05, 42.25, np.nan, None),
        ("s7", "Pipeline Ω", "pipeline", "planned", "ALB", "approximate", "gem-trackers",
         "CC BY 4.0", np.nan, np.nan, np.nan, None),
        ("s8", "Kukës copper", "smelter_refinery", "closed", "ALB", "exact", "literature-sites",
         "CC BY 4.0", 20.4, 42.1, np.nan, None),
    ]
    df = pd.DataFrame(rows, columns=["site_id", "name", "category", "status", "country", "coord_precision",
                                     "source", "licence", "lon", "lat", "tailings_volume_m3", "substances"])
    df["geometry"] = [shapely.Point(lo, la) if np.isfinite(lo) else
                      shapely.LineString([(19.6, 41.9), (20.2, 42.1), (20.6, 42.3)])
                      for lo, la in zip(df.lon, df.lat)]
    df["last_verified"] = "2026-11-01"
    df["notes"] = ["Tab\there", "ünïcødé", None, "@SUM(A1)", None, "+33 phone", None, "plain"]
    return df


def assessed_sites() -> gpd.GeoDataFrame:
    """Validated sites plus exposure and hazard columns (values are made up, the set is synthetic)."""
    raw = raw_sites()
    g = gpd.GeoDataFrame(raw.drop(columns=["lon", "lat"]), geometry="geometry", crs="EPSG:4326")
    sites, report = validate_sites(g)
    assert len(sites) == 8, str(report)
    sites = sites.reset_index(drop=True)
    n = len(sites)
    sites["basin"] = "drin"
    sites["sub_basin"] = ["White Drin", "Black Drin", "White Drin", "Black Drin", "Black Drin", "Black Drin",
                          "Black Drin", "Black Drin"]
    sites["in_basin"] = [True, True, True, True, True, True, False, True]
    sites["country_check"] = "ok"
    sites["border_km"] = [12.5, 25.0, 40.1, 8.0, 3.2, 10.0, np.nan, 9.9]
    sites["border_neighbour"] = ["ALB", "XKX", "ALB", "ALB", "MNE", "XKX", None, "XKX"]
    sites["reach_id"] = pd.array([1, 2, 2, -1, 3, 2, pd.NA, 2], dtype="Int64")
    sites["reach_name"] = ["White Drin", "Drin", "Drin", None, "Buna/Bojana", "Drin", None, "Drin"]
    sites["snap_km"] = [0.5, 1.1, 2.0, np.nan, 0.2, 0.1, np.nan, 0.3]
    sites["drainage_by"] = ["river snap"] * 3 + ["none", "river snap", "river snap", "none", "river snap"]
    sites["downstream_countries"] = [["XKX", "ALB", "ALB|MNE"], ["ALB", "ALB|MNE"], ["ALB", "ALB|MNE"],
                                     [], ["ALB|MNE"], ["ALB", "ALB|MNE"], [], ["ALB", "ALB|MNE"]]
    sites["first_border_river_km"] = [80.0, 60.0, 70.0, np.nan, 0.0, 55.0, np.nan, 58.0]
    sites["reach_frac"] = [0.5, 0.2, 0.9, np.nan, 0.4, 0.3, np.nan, 0.6]
    sites["first_border_river_km_low"] = sites["first_border_river_km"]
    sites["first_border_river_km_high"] = sites["first_border_river_km"] / 0.87
    sites["outlet_river_km"] = [180.0, 100.0, 170.0, np.nan, 40.0, 95.0, np.nan, 98.0]
    sites["river_km_basis"] = ["river", "river", "river", None, "river", "river", None, "river"]
    sites["continuation"] = "Adriatic Sea"
    sites["travel_time_h"] = [20.0, 15.0, 18.0, np.nan, 1.0, 14.0, np.nan, 14.5]
    sites["transboundary_downstream"] = [True, True, True, False, True, True, False, True]
    sites["near_border"] = [True, False, False, True, True, True, False, True]
    sites["on_border_water"] = [False, False, False, False, True, False, False, False]
    sites["exposure_class"] = ["high", "medium", "medium", "low", "very high", "medium", "outside", "medium"]
    sites["wri"] = [np.nan, 6.4, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]
    sites["wri_band"] = [None, "6-7", None, None, None, None, None, None]
    sites["thi"] = [7.9, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]
    sites["tri"] = [9.1, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]
    sites["natech_seismic"] = [0.6, 0.4, 0.5, np.nan, 0.3, 0.7, np.nan, 0.5]
    sites["natech_flood"] = [0.8, 0.2, 0.3, np.nan, 0.9, 1.0, np.nan, 0.4]
    sites["hazard_score"] = [0.9, 0.6, 0.4, np.nan, 0.5, 0.7, np.nan, 0.55]
    sites["priority_score"] = [0.95, 0.61, 0.42, np.nan, 0.7, 0.66, np.nan, 0.5]
    sites["priority_rank"] = pd.array([1, 4, 6, pd.NA, 2, 3, pd.NA, 5], dtype="Int64")
    sites["rank_basis"] = ["site data", "site data", "category screening", None, "category screening",
                           "category screening", None, "category screening"]
    sites["score_status"] = ["scored", "scored", "proxy", "insufficient data", "proxy", "proxy",
                             "insufficient data", "proxy"]
    sites["completeness"] = [0.9, 0.8, 0.3, 0.0, 0.4, 0.5, 0.0, 0.4]
    sites["score_terms"] = [{"tri": 0.9, "exposure": 1.0}, {"wri": 0.6, "exposure": 0.5},
                            {"category_default": 0.4}, {}, {"category_default": 0.5, "exposure": 1.0},
                            {"category_default": 0.6}, {}, {"category_default": 0.5}]
    sites["score_reason"] = ["large uranium-free Pb-Zn tailings 80 km above the Kosovo-Albania border",
                             f"chlorine store; named {XSS_SCRIPT}", "category default", "insufficient data",
                             "on the Buna/Bojana border river", "Fierza reservoir dam",
                             "insufficient data", "category default"]
    sites["params_label"] = "riskmap defaults v1 (not official UNECE/ICPDR tables)"
    assert len(sites) == n
    return sites


def matrix() -> pd.DataFrame:
    """The exposure matrix of :func:`assessed_sites` in the layout of riskmap.exposure.exposure_matrix."""
    idx = pd.MultiIndex.from_tuples([("drin", "ALB"), ("drin", "MKD"), ("drin", "MNE"), ("drin", "XKX")],
                                    names=["basin", "origin"])
    return pd.DataFrame({"ALB": [0, 0, 1, 1], "MNE": [4, 0, 0, 1], "sites": [5, 1, 1, 1],
                         "transboundary": [4, 0, 1, 1]}, index=idx)


def provenance() -> tuple[dict, dict]:
    sites_prov = {
        "product": "data/sites/sites.csv",
        "build_date": "2026-11-26",
        "sources": [
            {"name": "gem-trackers", "licence": "CC BY 4.0",
             "attribution": "Global Energy Monitor, Global Energy Trackers", "date": "2024-07",
             "sha256": "ab" * 32},
            {"name": "wri-gppd", "licence": "CC BY 4.0",
             "attribution": "World Resources Institute, Global Power Plant Database v1.3.0",
             "date": "2021-06", "sha256": "cd" * 32},
            {"name": "literature-sites", "licence": "CC BY 4.0", "attribution": "riskmap literature compilation"},
        ],
    }
    basins_prov = {"products": {"drin.gpkg": {"sources": [
        {"name": "natural-earth-10m-admin0-v5.1.2", "licence": "Public domain",
         "attribution": "Made with Natural Earth", "sha256": "ef" * 32}]}}}
    return sites_prov, basins_prov


def jsonable(v: Any) -> Any:
    return json.loads(json.dumps(v))
