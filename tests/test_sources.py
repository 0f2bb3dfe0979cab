"""Tests of the site importers, de-duplication and the default inventory (riskmap.databuild.sites)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from riskmap._paths import DATA_DIR, default_sources_dir
from riskmap.io import read_sites
from riskmap.schema import CATEGORIES, COORD_PRECISIONS, STATUSES
from riskmap.databuild.sites import make_sites, map_values, mappings
from riskmap.databuild.sites.build import assign_basins, build_inventory, build_sites, derive_countries
from riskmap.databuild.sites.dedupe import dedupe_sites, name_key, name_score, transliterate
from riskmap.databuild.sites.literature import literature_category, literature_precision, literature_status

SRC = default_sources_dir()
SITES_CSV = DATA_DIR / "sites" / "sites.csv"
needs_sources = pytest.mark.skipif(not SRC.is_dir(), reason="public source datasets not available")


@pytest.fixture(scope="module")
def built():
    return build_inventory(SRC)


@pytest.fixture(scope="module")
def inventory():
    if not SITES_CSV.exists():
        pytest.skip("data/sites/sites.csv not built")
    sites = read_sites(SITES_CSV, derive_country=False)
    return sites


def _find(sites: pd.DataFrame, pattern: str) -> pd.DataFrame:
    keys = sites["name"].map(lambda n: transliterate(str(n)).lower())
    return sites[keys.str.contains(pattern, regex=True)]


# --------------------------------------------------------------- transliteration

@pytest.mark.parametrize("raw, expected", [
    ("Пљевља", "Pljevlja"),
    ("Вишеград", "Vishegrad"),  # English-style; name_key folds sh -> s
    ("Višegrad", "Visegrad"),
    ("Đurđevac", "Djurdjevac"),
    ("Vau i Dejës", "Vau i Dejes"),
    ("Čehotina", "Cehotina"),
    ("Ташкентская ТЭС", "Tashkentskaya TES"),
    ("Шупља Стијена", "Shuplja Stijena"),
])
def test_transliterate(raw, expected):
    assert transliterate(raw) == expected


def test_name_key_drops_generic_words_and_folds_spellings():
    assert name_key("Pljevlja power station") == "pljevlja"
    assert name_key("ТЕ Пљевља") == "pljevlja"
    assert name_key("HPP Višegrad") == name_key("Visegrad hydroelectric plant") == "visegrad"
    assert name_key("Šuplja Stijena") == name_key("Шупља Стијена")
    assert name_key("Вишеград") == name_key("Višegrad") == "visegrad"
    assert name_key("Tashkent TPP") == name_key("Ташкент ТЭС")


def test_name_score_separates_different_plants():
    assert name_score("Fierza hydroelectric plant", "Fierza") == 1.0
    assert name_score("Komani hydroelectric plant", "Koman dam and reservoir (Drin cascade)") >= 0.6
    assert name_score("Angren power station", "Novo-Angren power station") < 1.0
    assert name_score("Fierza", "Koman") < 0.5
    assert name_score("Dam (GeoDAR 1)", None) == 0.0


# --------------------------------------------------------------- mapping tables

def _raw(path: str) -> pd.DataFrame:
    return pd.read_csv(SRC / path, dtype=str, keep_default_na=False)


@needs_sources
@pytest.mark.parametrize("table, path, column", [
    ("gem_gcpt", "gem-trackers/coal_plants_gcpt_2024-07_aoi.csv", "Status"),
    ("gem_ghpt", "gem-trackers/hydropower_ghpt_2024-05_aoi.csv", "status"),
    ("gem_gogpt", "gem-trackers/oil_gas_plants_gogpt_2024-08_aoi.csv", "status"),
    ("gem_gist", "gem-trackers/iron_steel_gist_2025-03_aoi.csv", "status"),
    ("gem_giomt", "gem-trackers/iron_ore_mines_giomt_2024-11_aoi.csv", "Operating status"),
    ("gem_goget", "gem-trackers/oil_gas_extraction_goget_2025-02_aoi.csv", "status"),
    ("gem_ggit", "gem-trackers/gas_pipelines_lng_ggit_2024-10_aoi.csv", "status"),
    ("usgs", "usgs-pge-ni-cr-index/nicrpge_aoi.csv", "Record_tp"),
])
def test_status_tables_cover_every_source_value(table, path, column):
    mapping = mappings()["status"][table]
    present = set(_raw(path)[column].str.strip())
    assert present - set(mapping) == set(), f"unmapped {column} values in {path}"
    for v in mapping.values():
        assert v.startswith("drop:") or v in STATUSES


@needs_sources
def test_category_and_precision_tables_cover_every_source_value():
    m = mappings()
    gppd = _raw("wri-gppd/gppd_v130_aoi.csv")
    assert set(gppd["primary_fuel"]) <= set(m["category"]["gppd"])
    assert set(gppd["geolocation_source"]) <= set(m["coord_precision"]["gppd"])
    fp = _raw("fineprint-mining-compilation/detailed_data_mining_general_aoi.csv")
    assert set(fp["mine_or_processing"]) <= set(m["category"]["fineprint"])
    gd = _raw("geodar-dams/geodar_v11_dams_beta_pr1_aoi.csv")
    assert set(gd["pnt_src"]) <= set(m["coord_precision"]["geodar_pnt_src"])
    assert set(gd["QA_level"]) <= set(m["coord_precision"]["geodar_qa"])
    for f, col in (("coal_plants_gcpt_2024-07_aoi.csv", "Location accuracy"),
                   ("hydropower_ghpt_2024-05_aoi.csv", "location_accuracy"),
                   ("iron_steel_gist_2025-03_aoi.csv", "coordinate-accuracy"),
                   ("iron_ore_mines_giomt_2024-11_aoi.csv", "Coordinate accuracy"),
                   ("oil_gas_extraction_goget_2025-02_aoi.csv", "location-accuracy")):
        assert set(_raw(f"gem-trackers/{f}")[col].str.strip().str.lower()) <= set(m["coord_precision"]["gem"])
    for table in ("gppd", "fineprint", "literature"):
        for v in m["category"][table].values():
            assert v.startswith("drop:") or v in CATEGORIES
    for table in ("gppd", "gem", "literature", "geodar_qa"):
        for v in m["coord_precision"][table].values():
            assert v in COORD_PRECISIONS


@needs_sources
def test_literature_values_all_map():
    lit = _raw("literature-sites/sites.csv")
    cats = literature_category(lit["category"])
    assert set(cats) <= set(CATEGORIES)
    st = literature_status(lit["status"])  # raises on an unmatched text
    assert set(st) <= set(STATUSES)
    prec = literature_precision(lit["evidence_note"])
    by_name = dict(zip(lit["name"], zip(cats, st, prec)))
    assert by_name["Mailuu-Suu uranium tailings and waste dumps"] == ("tailings_uranium", "remediated", "town")
    assert by_name["KAP aluminium plant red mud basins (Podgorica)"][0] == "tailings_red_mud"
    assert by_name["Degmay (Digmai) uranium tailings"][2] == "estimated"
    assert by_name["Angren thermal power plant"][2] == "exact"
    # partial / unfunded remediation is not "remediated"
    assert by_name["Taboshar (Istiqlol) uranium dump and tailings I-IV"][1] == "abandoned"


def test_unmapped_value_raises():
    with pytest.raises(Exception, match="not in riskmap/databuild/sites/mappings.toml"):
        map_values(pd.Series(["operating", "brand-new-status"]), mappings()["status"]["gem_gcpt"], "status", "x.csv")
    with pytest.raises(Exception, match="matches no rule"):
        literature_status(pd.Series(["something unheard of"]))


# --------------------------------------------------------------- importers

@needs_sources
def test_importer_details(built):
    res = {r.key: r for r in built.results}
    gcpt = res["gem-gcpt"]
    assert gcpt.dropped["unit cancelled (never built)"] > 0
    assert gcpt.sites["site_id"].is_unique
    plj = gcpt.sites[gcpt.sites["site_id"] == "gem-gcpt-L100000103049"].iloc[0]
    assert plj["capacity_mw"] == 225 and plj["coord_precision"] == "exact"
    gppd = res["wri-gppd"]
    assert gppd.dropped["solar plant (not a hazardous water site)"] == 148
    assert not gppd.sites["notes"].str.contains("primary fuel Solar").any()
    geo = res["geodar"].sites
    # GeoDAR has no names: a placeholder, unless GRanD names the dam on the GRanD id it carries
    by_grand = geo["name_source"].eq("grand")
    assert geo.loc[~by_grand, "name"].str.fullmatch(r"Dam \(GeoDAR \d+\)").all()
    assert by_grand.sum() >= 20 and geo.loc[by_grand, "notes"].str.contains("GRanD v1.3 id").all()
    assert geo.loc[geo["source_id"] == "8", "name"].item() == "Banja dam"  # GRanD 6871
    assert (geo["reservoir_volume_m3"].dropna() >= 0).all()
    raw = _raw("geodar-dams/geodar_v11_dams_beta_pr1_aoi.csv").set_index("ID_v11")
    row7 = geo[geo["source_id"] == "7"].iloc[0]
    assert raw.loc["7", "rv_mcm_v11"] == "-999.0" and np.isnan(row7["reservoir_volume_m3"])
    row8 = geo[geo["source_id"] == "8"].iloc[0]
    assert row8["reservoir_volume_m3"] == pytest.approx(200e6)
    goit = res["gem-goit"].sites
    assert goit["name"].str.fullmatch(r"Oil pipeline route P\d+ \(GEM GOIT\)").all()
    assert (goit["status"] == "unknown").all() and (goit.geom_type != "Point").all()
    for r in built.results:
        s = r.sites
        assert s["site_id"].is_unique, r.key
        for c in ("source", "source_id", "licence", "coord_precision"):
            assert s[c].notna().all(), (r.key, c)


@needs_sources
def test_kosovo_records_under_serbia_get_xkx(built):
    usgs = [r for r in built.results if r.key == "usgs-pge-ni-cr"][0].sites
    deva = usgs[usgs["source_id"] == "72234"]
    assert deva["country"].iloc[0] == "SRB"  # as in the source
    out = derive_countries(deva, _countries())
    assert out["country"].iloc[0] == "XKX"
    assert "source says SRB" in out["notes"].iloc[0]


def _countries():
    """The country polygons the inventory build reads (data/basins/countries.gpkg)."""
    return gpd.read_file(DATA_DIR / "basins" / "countries.gpkg", layer="countries")[["iso3", "geometry"]].to_crs(4326)


# --------------------------------------------------------------- de-duplication (synthetic)

def _site(sid, name, src, x, y, cat="thermal_power_plant", cap=np.nan, prec="exact"):
    return {"site_id": sid, "name": name, "category": cat, "status": "operating", "country": "MNE",
            "coord_precision": prec, "source": src, "source_id": sid, "licence": "CC BY 4.0",
            "source_refs": json.dumps([f"{src}:{sid}"]), "capacity_mw": cap, "notes": None,
            "last_verified": None, "geometry": shapely.Point(x, y)}


def _frame(rows):
    df = pd.DataFrame(rows)
    return make_sites({c: df[c] for c in df.columns if c != "geometry"}, df["geometry"])


def test_dedupe_merges_and_keeps_conflicts():
    rows = [
        _site("gem-gcpt-L1", "Pljevlja power station", "gem-gcpt", 19.3271, 43.3346, cap=225),
        _site("gppd-X1", "ТЕ Пљевља", "wri-gppd", 19.3350, 43.3370, cap=210),  # ~0.7 km, Cyrillic
        _site("gem-gcpt-L2", "Pljevlja II power station", "gem-gcpt", 19.3200, 43.3300, cap=300),  # same source
        _site("gem-ghpt-L3", "Piva hydroelectric plant", "gem-ghpt", 18.8400, 43.1500, cat="dam_reservoir"),
        _site("geodar-1", "Dam (GeoDAR 1)", "geodar", 18.8440, 43.1500, cat="dam_reservoir"),  # ~0.32 km
        _site("geodar-2", "Dam (GeoDAR 2)", "geodar", 18.8550, 43.1500, cat="dam_reservoir"),  # ~1.2 km
        _site("lit-far", "Pljevlja power station", "literature", 19.60, 43.33, prec="exact"),  # ~22 km
    ]
    merged, merges = dedupe_sites(_frame(rows))
    assert len(merged) == 5 and len(merges) == 2
    plj = merged[merged["site_id"] == "gem-gcpt-L1"].iloc[0]
    assert json.loads(plj["source_refs"]) == ["gem-gcpt:gem-gcpt-L1", "wri-gppd:gppd-X1"]
    assert plj["capacity_mw"] == 225
    assert "capacity_mw: gem-gcpt 225; wri-gppd 210" in plj["notes"]
    assert "gem-gcpt-L2" in set(merged["site_id"])  # never merged within one source
    assert "lit-far" in set(merged["site_id"])  # too far
    piva = merged[merged["site_id"] == "gem-ghpt-L3"].iloc[0]
    assert json.loads(piva["source_refs"]) == ["gem-ghpt:gem-ghpt-L3", "geodar:geodar-1"]
    assert "geodar-2" in set(merged["site_id"])
    row = merges[merges["kept_id"] == "gem-gcpt-L1"].iloc[0]
    assert json.loads(row["merged_ids"]) == ["gppd-X1"] and 0.4 < row["distance_km"] < 1.0


def test_assign_basins_buffer_and_lines():
    square = shapely.Polygon([(19.0, 43.0), (19.5, 43.0), (19.5, 43.5), (19.0, 43.5)])
    regions = gpd.GeoDataFrame({"basin": ["drina"]}, geometry=[square], crs="EPSG:4326")
    pts = [shapely.Point(19.2, 43.2), shapely.Point(19.54, 43.2),  # inside; ~3.2 km east of the edge
           shapely.Point(19.6, 43.2), shapely.LineString([(18.5, 43.2), (19.2, 43.2)])]
    sites = gpd.GeoDataFrame({"x": range(4)}, geometry=pts, crs="EPSG:4326")
    basin, geom = assign_basins(sites, regions, buffer_km=5.0)
    assert basin.tolist() == ["drina", "drina", None, "drina"]
    assert geom.iloc[3].bounds[0] > 18.9  # clipped to the buffered basin
    # by precision: the point 3.2 km outside is kept when approximate (5 km), not when exact (2 km)
    sites["coord_precision"] = ["exact", "exact", "town", None]
    assert assign_basins(sites, regions)[0].tolist()[:3] == ["drina", None, "drina"]
    sites["coord_precision"] = ["exact", "approximate", "exact", None]
    assert assign_basins(sites, regions)[0].tolist()[:3] == ["drina", "drina", None]


# --------------------------------------------------------------- the built inventory

KNOWN = [
    ("^pljevlja power station", "drina", "thermal_power_plant"),
    ("visegrad", "drina", "dam_reservoir"),
    ("fierza", "drin", "dam_reservoir"),
    ("^koman", "drin", "dam_reservoir"),
    ("vau i dejes", "drin", "dam_reservoir"),
    ("^angren", "syr_darya", "thermal_power_plant"),
    ("toktogul", "syr_darya", "dam_reservoir"),
    ("mailuu-suu", "syr_darya", "tailings_uranium"),
]


@needs_sources
@pytest.mark.parametrize("pattern, basin, category", KNOWN)
def test_known_facilities_fresh_build(built, pattern, basin, category):
    hit = _find(built.sites, pattern)
    hit = hit[hit["category"] == category]
    assert len(hit) == 1, hit[["site_id", "name"]]
    assert hit["basin"].iloc[0] == basin


@pytest.mark.parametrize("pattern, basin, category", KNOWN)
def test_known_facilities_in_built_csv(inventory, pattern, basin, category):
    raw = pd.read_csv(SITES_CSV, dtype=str, keep_default_na=False)
    hit = _find(raw, pattern)
    hit = hit[hit["category"] == category]
    assert len(hit) == 1 and hit["basin"].iloc[0] == basin


@needs_sources
@pytest.mark.parametrize("pattern, sources", [
    ("pljevlja power station", {"gem-gcpt", "wri-gppd", "literature"}),
    ("^angren power station", {"gem-gcpt", "wri-gppd", "literature"}),
    ("visegrad", {"gem-ghpt", "wri-gppd", "geodar", "literature"}),
    ("toktogul", {"gem-ghpt", "wri-gppd", "literature"}),
])
def test_cross_source_duplicates_are_merged(built, pattern, sources):
    hit = _find(built.sites, pattern)
    assert len(hit) == 1
    refs = {r.split(":", 1)[0] for r in json.loads(hit["source_refs"].iloc[0])}
    assert sources <= refs
    assert hit["site_id"].iloc[0] in set(built.merges["kept_id"])
    # no other site still carries one of the merged records
    all_refs = [r for refs_ in built.sites["source_refs"] for r in json.loads(refs_)]
    assert len(all_refs) == len(set(all_refs))


@needs_sources
@pytest.mark.parametrize("pattern", ["tuzla", "kakanj", "nikola tesla|^tent ", "bishkek"])
def test_sites_outside_the_basins_are_absent(built, pattern):
    everything = pd.concat([r.sites for r in built.results], ignore_index=True)
    candidates = _find(everything, pattern)
    candidates = candidates[candidates.geom_type == "Point"]
    assert len(candidates) > 0, f"{pattern!r} not in the sources: the test would prove nothing"
    refs = {r for refs_ in built.sites["source_refs"] for r in json.loads(refs_)}
    leaked = [r for r in candidates["source_refs"] if json.loads(r)[0] in refs]
    assert leaked == []


def test_rubik_is_outside_the_drin():
    """Rubik (on the Fan -> Mat) lies outside the Drin outline, which is now drawn between the Drin and
    the Fan/Mat seed lines (about 4 km away); the Drin's divide buffer (0.05 km) no longer pulls it in,
    so assess gives no basin and the inventory build drops the Rubik smelter."""
    import geopandas as gpd

    import riskmap
    from riskmap.hydrography import load_basin

    pt = shapely.Point(19.78611, 41.77444)  # GeoNames 3184238
    outline = load_basin("drin").outline.union_all()
    assert not outline.contains(pt) and outline.distance(pt) > 0.02  # degrees, ~2 km
    site = gpd.GeoDataFrame({"site_id": ["rubik"], "name": ["Rubik"], "category": ["smelter"],
                             "coord_precision": ["town"]}, geometry=[pt], crs="EPSG:4326")
    assert riskmap.assess(site).iloc[0]["basin"] is None or pd.isna(riskmap.assess(site).iloc[0]["basin"])


@needs_sources
@pytest.mark.parametrize("town, lon, lat", [
    ("Sarajevo", 18.413, 43.856), ("Tuzla", 18.673, 44.538), ("Kakanj", 18.118, 44.129),
    ("Obrenovac", 20.200, 44.655), ("Bishkek", 74.590, 42.870), ("Podgorica is Drin, not Drina", 19.26, 42.44),
])
def test_no_point_site_near_outside_towns(built, town, lon, lat):
    from pyproj import Geod

    pts = built.sites[built.sites.geom_type == "Point"]
    if town.startswith("Podgorica"):
        pts = pts[pts["basin"] == "drina"]
    _, _, d = Geod(ellps="WGS84").inv(np.full(len(pts), lon), np.full(len(pts), lat),
                                      pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    assert (np.asarray(d) > 10_000).all(), pts.iloc[np.flatnonzero(np.asarray(d) <= 10_000)][["site_id", "name"]]


def test_built_inventory_validates(inventory):
    report = inventory.attrs["validation"]
    assert report.ok and not report.errors, str(report)[:2000]
    assert report.n_kept == report.n_rows > 50
    for c in ("source", "source_id", "licence", "coord_precision"):
        assert inventory[c].notna().all(), c
    raw = pd.read_csv(SITES_CSV, dtype=str, keep_default_na=False)
    assert raw.columns[-1] == "basin" and set(raw["basin"]) == {"drin", "drina", "syr_darya"}
    assert raw["site_id"].is_monotonic_increasing and raw["site_id"].is_unique
    assert (raw["source_refs"].map(lambda s: len(json.loads(s))) >= 1).all()
    for f in ("sites.gpkg", "merges.csv", "SOURCES.md", "PROVENANCE.json"):
        assert (SITES_CSV.parent / f).exists(), f
    prov = json.loads((SITES_CSV.parent / "PROVENANCE.json").read_text())
    for key, s in prov["sources"].items():
        assert s["licence"] and s["attribution"] and all(len(f["sha256"]) == 64 for f in s["files"]), key


@needs_sources
def test_build_is_deterministic(tmp_path):
    import shutil

    # snapshot the basin outlines so a concurrent rebuild of data/basins cannot interfere
    data = tmp_path / "data"
    if (DATA_DIR / "basins").is_dir():
        shutil.copytree(DATA_DIR / "basins", data / "basins")
    else:
        data.mkdir()
    a = build_sites(SRC, tmp_path / "a", data_dir=data)
    b = build_sites(SRC, tmp_path / "b", data_dir=data)
    for f in ("sites.csv", "merges.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert len(a.merges) >= 10 and len(a.sites) == len(b.sites)


@needs_sources
def test_cli_build_sites(tmp_path):
    from riskmap.cli import main

    out = CliRunner().invoke(main, ["data", "build-sites", "--sources", str(SRC), "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    m = re.search(r"(\d+) sites \(drin (\d+), drina (\d+), syr_darya (\d+)\)", out.output)
    assert m and int(m[1]) == sum(int(m[k]) for k in (2, 3, 4)) > 50
    sites = read_sites(tmp_path / "sites.csv", derive_country=False)
    assert len(sites) == int(m[1]) and sites.attrs["validation"].ok
    for f in ("sites.gpkg", "merges.csv", "SOURCES.md", "PROVENANCE.json"):
        assert (tmp_path / f).stat().st_size > 0


def test_cli_summary(inventory):
    from riskmap.cli import main

    out = CliRunner().invoke(main, ["sites", "summary", str(SITES_CSV)])
    assert out.exit_code == 0, out.output
    for word in ("by basin", "syr_darya", "by category", "by status", "hazard fields filled",
                 "tailings_volume_m3", "hazard-field coverage by country and category", "public sources"):
        assert word in out.output
    n = len(inventory)
    assert re.search(rf"\b{n} sites\b", out.output)


# --------------------------------------------------------------- ICMM, GRanD, names (issue 17)

def test_icmm_names_are_cleaned_and_codes_replaced():
    from riskmap.databuild.sites.icmm import clean_icmm_name
    from riskmap.databuild.sites.names import is_placeholder, readable

    assert clean_icmm_name("Guri Kuq Including: See Alt Names") == "Guri Kuq"
    assert clean_icmm_name("Prrenjas Mines (See Names)") == "Prrenjas Mines"
    assert clean_icmm_name("Birac") == "Birac"
    assert is_placeholder("Dam (GeoDAR 611)") and is_placeholder("Kyrgy12")
    assert is_placeholder("Oil pipeline route P0665 (GEM GOIT)") and not is_placeholder("Kam")
    assert readable("Dam near Foča") and not readable("Dam (GeoDAR 611)") and not readable("12")


@needs_sources
def test_icmm_importer_maps_confidence_and_asset_type(built):
    icmm = {r.key: r for r in built.results}["icmm"].sites
    raw = _raw("icmm-global-mining-dataset/icmm_facilities_riskmap_boxes.csv").set_index("ICMMID")
    assert len(icmm) == len(raw) == 65
    by_id = icmm.set_index("source_id")
    conf = raw["Confidence Factor"]
    assert (by_id.loc[conf.index[conf == "Very Low"], "coord_precision"] == "estimated").all()
    assert (by_id.loc[conf.index[conf.isin(["High", "Moderate"])], "coord_precision"] == "approximate").all()
    assert by_id.loc["ICMM13334", "category"] == "smelter_refinery"  # Birac alumina refinery
    assert by_id.loc["ICMM05804", "category"] == "mine"  # Pljevlja coal
    assert by_id.loc["ICMM13334", "name"] == "Birac"  # as published; the build adds the kind after dedupe
    assert by_id.loc["ICMM06983", "name"] == "Shymkent Smelter"  # "Chimkentzn" is a code
    assert "Chimkentzn" in by_id.loc["ICMM06983", "alt_names"]
    assert by_id.loc["ICMM05897", "name"] == "Guri Kuq" and "Benaks" in by_id.loc["ICMM05897", "alt_names"]
    assert (icmm["licence"] == "CC BY 4.0").all()


@needs_sources
def test_icmm_facilities_land_in_their_basins(built):
    s = built.sites
    named = s.set_index("site_id")
    assert named.loc["icmm-icmm13748", "name"] == "Podgorica aluminium smelter"
    assert named.loc["icmm-icmm13748", "alt_names"] == "Podgorica"
    refs = s["source_refs"].map(json.loads)
    for icmm_id, basin in [("ICMM13748", "drin"), ("ICMM13285", "syr_darya"), ("ICMM09594", "syr_darya"),
                           ("ICMM05804", "drina"), ("ICMM06961", "syr_darya")]:
        hit = s[refs.map(lambda r: f"icmm:{icmm_id}" in r)]
        assert len(hit) == 1 and hit["basin"].iloc[0] == basin, icmm_id
    # the Sabac zinc refinery and the Kolubara coal mines are outside the Drina basin
    for icmm_id in ("ICMM05773", "ICMM10955", "ICMM09026"):
        assert not refs.map(lambda r: f"icmm:{icmm_id}" in r).any(), icmm_id


@needs_sources
def test_grand_names_and_volumes_join_on_the_grand_id(built):
    s = built.sites.set_index("site_id")
    assert s.loc["geodar-23067", "name"] == "Kokin Brod dam"
    assert s.loc["geodar-23067", "name_source"] == "grand"
    assert "Dam (GeoDAR 23067)" in s.loc["geodar-23067", "alt_names"]
    assert "grand:3916" in json.loads(s.loc["geodar-23067", "source_refs"])
    # Toktogul: GRanD 19,500 million m3
    tok = _find(built.sites, "toktogul")
    assert len(tok) == 1 and tok["reservoir_volume_m3"].iloc[0] == pytest.approx(19.5e9)
    assert "grand" in s.loc["geodar-23067", "licence"].lower()


def test_grand_location_rule_fills_a_dam_without_id(tmp_path):
    from riskmap.databuild.sites.grand import fill_grand_volumes

    (tmp_path / "grand-reservoirs").mkdir()
    (tmp_path / "grand-reservoirs" / "grand_dams_riskmap_boxes.csv").write_text(
        "GRAND_ID,DamName,DamLon,DamLat,TotalVol_mcm\n1,Alpha_Dam,19.0,43.0,100\n2,Beta,19.5,43.0,50\n"
        "3,Gamma,20.0,43.0,-999\n", encoding="utf-8")
    sites = make_sites({
        "site_id": ["a", "b", "c", "d"], "name": ["Alpha hydro", "Somewhere", "Far", "Gamma"],
        "category": "dam_reservoir", "coord_precision": "exact", "source": "x", "source_refs": '["x:1"]',
    }, shapely.points([(19.02, 43.0), (19.505, 43.0), (19.3, 43.0), (20.0, 43.0)]))
    out, joins = fill_grand_volumes(sites, tmp_path)
    v = out.set_index("site_id")["reservoir_volume_m3"]
    assert v["a"] == 100e6  # 1.6 km, similar name
    assert v["b"] == 50e6  # 0.4 km, any name
    assert np.isnan(v["c"]) and np.isnan(v["d"])  # too far; GRanD volume missing stays missing
    assert set(joins["site_id"]) == {"a", "b"}


def test_name_sites_replaces_placeholders_and_disambiguates():
    from riskmap.databuild.sites.names import name_sites

    places = gpd.GeoDataFrame({"name": ["Foča", "Goražde"], "population": [12000.0, 20000.0]},
                              geometry=shapely.points([(18.78, 43.50), (18.97, 43.67)]), crs="EPSG:4326")
    sites = make_sites({
        "site_id": ["g1", "g2", "k1", "k2", "k3"],
        "name": ["Dam (GeoDAR 1)", "Dam (GeoDAR 2)", "Kam", "Kam", "Kam"],
        "category": ["dam_reservoir", "dam_reservoir", "mine", "mine", "dam_reservoir"],
        "coord_precision": "exact", "source": ["geodar", "geodar", "usgs", "icmm", "usgs"],
        "source_id": ["1", "2", "a", "b", "c"],
    }, shapely.points([(18.80, 43.50), (18.79, 43.45), (18.97, 43.68), (18.78, 43.52), (18.79, 43.53)]))
    sites["basin"] = "drina"
    out = name_sites(sites, places).set_index("site_id")
    assert out.loc["g1", "name_source"] == "geonames" and "Foča" in out.loc["g1", "name"]
    assert "Dam (GeoDAR 1)" in out.loc["g1", "alt_names"]
    assert out["name"].str.casefold().is_unique, out["name"].tolist()
    assert out.loc["k1", "name"] == "Kam (near Goražde)" and out.loc["k1", "name_source"] == "usgs"


def test_bundled_inventory_names_are_readable_and_unique(inventory):
    from riskmap.databuild.sites.names import readable

    raw = pd.read_csv(SITES_CSV, dtype=str, keep_default_na=False)
    assert raw["name"].map(readable).mean() >= 0.95
    assert not (raw["basin"] + "\x00" + raw["name"].str.casefold()).duplicated().any()
    assert not raw["name"].str.contains(r"GeoDAR \d+\)$|See Alt Names", regex=True).any()
    assert raw["name_source"].ne("").all()
    kap = raw[raw["site_id"] == "lit-mailuu-suu-uranium-tailings-and-waste-dumps"]
    assert len(kap) == 1  # existing ids stay
