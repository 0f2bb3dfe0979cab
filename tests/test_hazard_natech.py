"""Natech screening (synthetic geodesic layout and the real GEM/ISC-GEM layers) and the CLI."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from click.testing import CliRunner

from riskmap.databuild.natech import build_natech, fix_isc_date
from riskmap.hazard import load_params, natech, score

GEOD = pyproj.Geod(ellps="WGS84")
SITE = (20.0, 42.0)


def _at(az: float, km: float, origin=SITE) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], az, km * 1000.0)
    return lon, lat


@pytest.fixture()
def layout():
    """Worked example N1 of docs/hazard.md, built with true geodesic distances."""
    f0 = _at(90, 12.0)
    # a north-south fault line through the point 12 km east of the site
    a, b = _at(0, 20.0, f0), _at(180, 20.0, f0)
    faults = gpd.GeoDataFrame({"fault_id": [1]}, geometry=[shapely.LineString([a, b])], crs=4326)
    quakes = gpd.GeoDataFrame({"mw": [6.1, 7.0, 5.2]},
                              geometry=[shapely.Point(_at(0, 30.0)), shapely.Point(_at(180, 60.0)),
                                        shapely.Point(_at(270, 200.0))], crs=4326)
    r0 = _at(270, 1.5)
    river = gpd.GeoDataFrame(geometry=[shapely.LineString([_at(0, 10, r0), _at(180, 10, r0)])], crs=4326)
    sites = gpd.GeoDataFrame({"site_id": ["n1", "far"], "basin": ["drin", None]},
                             geometry=[shapely.Point(SITE), shapely.Point(_at(270, 300.0))], crs=4326)
    return sites, faults, quakes, river


def test_worked_example_n1(layout):
    sites, faults, quakes, river = layout
    nat = natech(sites, faults=faults, earthquakes=quakes, water=river)
    n1 = nat.iloc[0]
    assert n1["natech_fault_km"] == pytest.approx(12.0, rel=0.005)
    assert n1["natech_max_mw"] == 6.1  # the Mw 7.0 event is 60 km away, outside 50 km
    assert n1["natech_seismic"] == 2
    assert n1["natech_water_km"] == pytest.approx(1.5, rel=0.005)
    assert n1["natech_flood"] == 2
    far = nat.iloc[1]
    assert math.isnan(far["natech_max_mw"])        # no event within 50 km: none, not 0
    assert far["natech_seismic"] == 0               # layers present, nothing near: a known 0 class
    assert math.isnan(far["natech_flood"])         # outside every basin: no flood class


def test_distances_are_km_not_degrees_in_projected_input(layout):
    sites, faults, quakes, river = layout
    nat = natech(sites.to_crs("EPSG:32634"), faults=faults.to_crs(3857), earthquakes=quakes, water=river)
    assert nat["natech_fault_km"].iloc[0] == pytest.approx(12.0, rel=0.005)


def test_radius_parameter_changes_class(layout):
    sites, faults, quakes, river = layout
    nat = natech(sites, earthquakes=quakes, params={"natech": {"eq_radius_km": 70.0}})
    assert nat["natech_max_mw"].iloc[0] == 7.0 and nat["natech_seismic"].iloc[0] == 3
    assert math.isnan(nat["natech_fault_km"].iloc[0])  # no fault layer given: missing


def test_missing_layers_are_nan_not_zero(layout):
    sites = layout[0]
    nat = natech(sites)
    assert nat[["natech_seismic", "natech_flood"]].isna().all().all()


def test_score_uses_natech_in_thi(layout):
    sites, faults, quakes, river = layout
    s = sites.iloc[[0]].assign(category="tailings_uranium", tailings_volume_m3=1e6, dam_condition="good",
                               country="ALB", downstream_countries=[["ALB"]], transboundary_downstream=False)
    out = score(s, natech={"faults": faults, "earthquakes": quakes, "water": river})
    r = out.iloc[0]
    assert r["thi"] == pytest.approx(6 + 3 + 0 + 0.5 * 2 + 0.5 * 2)
    assert r["score_terms"]["natech_fault_km"] == pytest.approx(12.0, rel=0.005)
    assert r["score_status"] == "scored"


# ---------------------------------------------------------------- real layers


def test_fix_isc_date():
    assert fix_isc_date("1902-08-2203:00:00.00") == "1902-08-22T03:00:00.00"
    assert fix_isc_date("1979-04-15 06:19:44.07") == "1979-04-15T06:19:44.07"
    assert fix_isc_date("1979-13-15") is None
    assert fix_isc_date(None) is None


def test_build_natech_from_sources(sources_dir, tmp_path):
    res = build_natech(sources_dir, tmp_path)
    assert res["faults"] >= 400 and res["earthquakes"] == 472 and res["unparseable_dates"] == 0
    f = gpd.read_file(tmp_path / "faults.gpkg", layer="faults")
    q = gpd.read_file(tmp_path / "earthquakes.gpkg", layer="earthquakes")
    assert set(f["aoi"]) == {"western_balkans", "central_asia"}
    assert f.total_bounds[0] >= 15.0 and f.total_bounds[2] <= 80.0  # clipped to the boxes
    assert q["time"].str.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}").all()
    assert q.loc[q["time"].str.startswith("1979-04-15T06"), "mw"].max() == pytest.approx(6.94)
    prov = json.loads((tmp_path / "PROVENANCE.json").read_text())
    fp, qp = prov["products"]["faults.gpkg"], prov["products"]["earthquakes.gpkg"]
    assert fp["licence"] == "CC BY-SA 4.0" and "Styron" in fp["attribution"]
    assert qp["licence"] == "CC BY-SA 3.0"
    assert len(fp["sources"][0]["sha256"]) == 64


def test_real_layers_known_places(data_dir):
    fp, qp = data_dir / "natech" / "faults.gpkg", data_dir / "natech" / "earthquakes.gpkg"
    if not (fp.exists() and qp.exists()):
        pytest.skip("data/natech not built (riskmap data build-natech)")
    faults, quakes = gpd.read_file(fp), gpd.read_file(qp)
    s = gpd.GeoDataFrame({"name": ["Bar (1979 Montenegro M6.9)", "Kazakh steppe"]},
                         geometry=[shapely.Point(19.1, 42.1), shapely.Point(66.0, 46.5)], crs=4326)
    nat = natech(s, faults=faults, earthquakes=quakes)
    assert nat["natech_max_mw"].iloc[0] == pytest.approx(6.94)
    assert nat["natech_seismic"].iloc[0] == 3
    assert nat["natech_seismic"].iloc[1] < 3


# ---------------------------------------------------------------- CLI


def test_cli_build_natech(sources_dir, tmp_path):
    from riskmap.cli import main

    r = CliRunner().invoke(main, ["data", "build-natech", "--sources", str(sources_dir), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "faults.gpkg").exists() and "earthquakes: 472" in r.output


def test_cli_score_with_params_and_raster(tmp_path, monkeypatch):
    import rasterio
    from rasterio.transform import from_origin

    import riskmap.exposure
    from riskmap.cli import main

    csv = tmp_path / "sites.csv"
    csv.write_text(
        "site_id,name,category,coord_precision,source,country,lon,lat,tailings_volume_m3,tailings_type,"
        "dam_condition,substances\n"
        "t1,TMF,tailings_metal,exact,test,BIH,19.305,43.395,2500000,Pb-Zn flotation,poor,\n"
        'c1,Plant,chemical_plant,exact,test,BIH,19.31,43.39,,,,"[{""name"":""NaCN"",""quantity_t"":10,""wgk"":3}]"\n'
        "p1,Power,thermal_power_plant,exact,test,BIH,19.32,43.38,,,,\n", encoding="utf-8")

    def fake_assess(sites, *a, **k):
        out = sites.copy()
        out["basin"] = "drina"
        out["downstream_countries"] = [["BIH", "BIH|SRB", "SRB"]] * len(out)
        out["transboundary_downstream"] = True
        out["first_border_river_km"] = 8.0
        out["travel_time_h"] = 3.0
        out["on_border_water"] = False
        return out

    monkeypatch.setattr(riskmap.exposure, "assess", fake_assess)
    tif = tmp_path / "depth.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(19.3, 43.4, 0.01, 0.01), nodata=-1) as dst:
        dst.write(np.full((10, 10), 0.5, dtype="float32"), 1)
    params = tmp_path / "p.toml"
    params.write_text('label = "cli test"\n[wri.weights]\n"3" = 1000.0\n', encoding="utf-8")
    out = tmp_path / "scored.csv"
    r = CliRunner().invoke(main, ["score", str(csv), "-o", str(out), "--params", str(params),
                                  "--raster", f"flood_depth={tif}"])
    assert r.exit_code == 0, r.output
    t = pd.read_csv(out)
    by = t.set_index("site_id")
    assert by.loc["c1", "wri"] == pytest.approx(7.0)
    assert by.loc["p1", "score_status"] == "insufficient data"
    assert (t["params_label"] == "cli test").all()
    assert by.loc["t1", "raster_flood_depth"] == 0.5
    terms = json.loads(by.loc["t1", "score_terms"])
    assert terms["thi_toxicity"] == 2.5
    assert by.loc["t1", "priority_rank"] in (1, 2)
    bad = CliRunner().invoke(main, ["score", str(csv), "-o", str(out), "--raster", "nonsense"])
    assert bad.exit_code != 0 and "NAME=PATH" in bad.output


def test_real_inventory_scores_honestly(data_dir):
    sites_f = data_dir / "sites" / "sites.gpkg"
    if not (sites_f.exists() and (data_dir / "natech" / "faults.gpkg").exists()):
        pytest.skip("bundled sites or natech layers not built")
    sites = gpd.read_file(sites_f, layer="sites")
    out = score(sites)  # no exposure columns: hazard only, nothing ranked
    assert set(out["score_status"]) <= {"scored", "proxy", "insufficient data"}
    insuff = out["score_status"] == "insufficient data"
    # no index: the hazard is the labelled category-typical value (never 0), the indices stay missing
    typical = out.loc[insuff, "category"].map(load_params()["priority"]["category_hazard"])
    assert (out.loc[insuff, "hazard_score"] == typical).all() and (typical > 0).all()
    assert out.loc[insuff, ["wri", "thi"]].isna().all().all()
    assert out["priority_rank"].isna().all() and out["priority_score"].isna().all()
    assert out["rank_basis"].isna().all()
    assert out["completeness"].between(0, 1).all()
    kap = out[out["name"].str.contains("KAP aluminium", na=False)].iloc[0]
    assert kap["score_status"] == "proxy" and "'7.5 Mt'" in kap["score_reason"]
    assert kap["natech_seismic"] == 3 and kap["natech_max_mw"] == pytest.approx(6.94)
    t = kap["score_terms"]
    assert kap["thi"] == pytest.approx(math.log10(5e6) + 2.0 + 2.0 + 1.5 + t["thi_flood"])
    # a dam without substance data stays unscored, never 0
    dams = out[out["category"] == "dam_reservoir"]
    assert len(dams) and (dams["score_status"] == "insufficient data").all() and dams["wri"].isna().all()


def _whole_layer_km(geoms: gpd.GeoSeries, layer: gpd.GeoDataFrame) -> np.ndarray:
    """The reference: every feature of the layer projected, in each region group's local AEQD."""
    from riskmap.rasters import local_groups

    out = np.full(len(geoms), np.nan)
    lay = layer.geometry[~(layer.geometry.isna() | layer.geometry.is_empty)]
    for crs, pos in local_groups(geoms):
        tree = shapely.STRtree(lay.to_crs(crs).values)
        (gi, _), d = tree.query_nearest(geoms.iloc[pos].to_crs(crs).values, return_distance=True, all_matches=False)
        out[pos[gi]] = d / 1000.0
    return out


def test_prefiltered_distances_equal_the_whole_layer_on_real_data(monkeypatch):
    """Water and fault distances measured on the parts near each site are the very numbers of the whole layer."""
    import riskmap.natech as nt
    from riskmap import DATA_DIR, read_sites

    layers = nt.load_natech_layers()
    if "water" not in layers or "faults" not in layers:
        pytest.skip("natech layers or basins not built")
    sites = read_sites(DATA_DIR / "sites" / "sites.csv")
    rng = np.random.default_rng(14)
    pts = gpd.GeoSeries(gpd.points_from_xy(rng.uniform(14, 82, 600), rng.uniform(35, 48, 600)), crs="EPSG:4326")
    lines = gpd.GeoSeries(shapely.linestrings(np.stack([rng.uniform(60, 78, (40, 3)), rng.uniform(39, 46, (40, 3))],
                                                       axis=-1)), crs="EPSG:4326")
    monkeypatch.setattr(nt, "PREFILTER_MIN_VERTICES", 0)  # the faults too
    for geoms in (sites.geometry.to_crs("EPSG:4326"), pts, lines):
        geoms = geoms.reset_index(drop=True)
        screened = nt.natech(gpd.GeoDataFrame(geometry=geoms), faults=layers["faults"], water=layers["water"])
        for name, col in (("water", "natech_water_km"), ("faults", "natech_fault_km")):
            got = screened[col].to_numpy()
            want = _whole_layer_km(geoms, layers[name])
            assert np.array_equal(got, want, equal_nan=True), name
            assert np.isfinite(got).all()
    assert (sites.geometry.geom_type != "Point").any()  # lines and footprints of the inventory were checked too


def test_local_aeqd_transformer_equals_from_crs():
    """The AEQD transformer made from its pipeline gives the numbers of ``Transformer.from_crs``."""
    from riskmap._geo import local_aeqd
    from riskmap.spatial_index import lonlat_transformer

    rng = np.random.default_rng(3)
    for lon, lat in ((19.5, 42.5), (69.0, 42.0), (19.4321, 43.8765), (-120.5, 60.25)):
        crs = local_aeqd(lon, lat)
        x, y = lon + rng.uniform(-20, 20, 20_000), lat + rng.uniform(-20, 20, 20_000)
        ours = lonlat_transformer(crs).transform(x, y)
        ref = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(x, y)
        assert np.array_equal(ours[0], ref[0]) and np.array_equal(ours[1], ref[1])
    other = pyproj.CRS("EPSG:32634")  # any other CRS: from_crs itself
    assert lonlat_transformer(other).transform(20.0, 42.0) == pyproj.Transformer.from_crs(
        "EPSG:4326", other, always_xy=True).transform(20.0, 42.0)
