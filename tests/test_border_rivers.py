"""The one border-river rule (riskmap.databuild.border_rivers): synthetic cases and the bundled data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from riskmap import DATA_DIR
from riskmap.databuild.border_rivers import (
    FAR_M,
    MIN_RUN_M,
    NEAR_M,
    border_pairs_along,
    is_border_reach,
    label_border_reaches,
)

UTM = "EPSG:32634"


def _gdf(lines: list[LineString]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"reach_id": np.arange(1, len(lines) + 1)}, geometry=lines, crs=UTM)


@pytest.fixture
def border() -> gpd.GeoDataFrame:
    """A straight border AAA|BBB along y = 0 from x = 0 to 60 km."""
    return gpd.GeoDataFrame({"iso3_a": ["AAA"], "iso3_b": ["BBB"]},
                            geometry=[LineString([(0, 0), (60_000, 0)])], crs=UTM)


def test_river_along_the_border_is_a_border_reach(border):
    along = LineString([(5_000, 500), (25_000, -400)])  # within 0.5 km for 20 km
    assert list(label_border_reaches(_gdf([along]), border)) == ["AAA|BBB"]


def test_crossing_river_is_not_a_border_reach(border):
    # a crossing at angle theta is within NEAR_M of the line for 2 NEAR_M / sin(theta) < MIN_RUN_M
    assert 2 * NEAR_M / np.sin(np.radians(30)) <= MIN_RUN_M + 1e-6
    cross = LineString([(30_000, -6_000), (30_000, 6_000)])
    oblique = LineString([(20_000, -3_000), (28_570, 3_000)])  # 35 degrees, 10.5 km long
    assert label_border_reaches(_gdf([cross, oblique]), border).isna().all()


def test_river_running_near_but_not_along_the_border(border):
    near = LineString([(5_000, 2_400), (40_000, 2_400)])  # parallel 2.4 km away (old rule: 2.5 km = border)
    assert not is_border_reach(_gdf([near]), border).any()


def test_short_drift_is_bridged_but_a_long_one_is_not(border):
    # along the border, one bend drifts 2 km off for ~2 km (bridged), then leaves for good
    pts = [(0, 0), (10_000, 0), (11_000, 2_000), (12_000, 0), (30_000, 0)]
    lab = border_pairs_along(LineString(pts), border)
    assert (lab == "AAA|BBB").all()
    pts = [(0, 0), (10_000, 0), (12_000, 6_000), (18_000, 6_000), (20_000, 0), (30_000, 0)]
    lab = border_pairs_along(LineString(pts), border)
    assert 0.3 < (lab == "AAA|BBB").mean() < 0.9 and (lab == "").any()


def test_pair_label_is_sorted_and_geographic_input_works(border):
    b = border.assign(iso3_a="ZZZ", iso3_b="AAA")
    along = _gdf([LineString([(5_000, 300), (25_000, 300)])]).to_crs(4326)
    assert list(label_border_reaches(along, b.to_crs(4326))) == ["AAA|ZZZ"]
    assert label_border_reaches(along.iloc[:0], b).empty


# ---------------------------------------------------------------- bundled data

needs_data = pytest.mark.skipif(not (DATA_DIR / "basins" / "drina.gpkg").is_file(), reason="data/basins not built")


def _bundled(bid: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    r = gpd.read_file(DATA_DIR / "basins" / f"{bid}.gpkg", layer="reaches")
    b = gpd.read_file(DATA_DIR / "basins" / "countries.gpkg", layer="borders")
    return r, b


@needs_data
def test_drina_border_stretch_on_the_bundled_network():
    """The Drina is the BIH/SRB border for 206-220 km of its 346 km; the generalised GSHHG line is about
    10-20 % short, so the mapped border stretch is 170-220 km, only on the Drina, and the rule gives the
    bundled labels."""
    r, b = _bundled("drina")
    lab = label_border_reaches(r, b)
    km = r.loc[lab == "BIH|SRB"].groupby("name")["length_km"].sum()
    assert list(km.index) == ["Drina"] and 170 <= km["Drina"] <= 220
    assert (r.loc[lab.notna(), "country"] == lab[lab.notna()]).all()
    shared_lake = r["waterbody"].isin(["Lake Skadar", "Lake Ohrid", "Lake Prespa", "Small Prespa"])
    # the build applies the rule to whole chains between confluences, so it also bridges a reach that lies
    # between two border reaches of one pair and stays within FAR_M of that border all along (hysteresis);
    # reach by reach the rule cannot see the flanking runs
    extra = r["is_border"] & lab.isna() & ~shared_lake
    assert (r.loc[~shared_lake & ~extra, "is_border"] == lab[~shared_lake & ~extra].notna()).all()
    border = b[(b["iso3_a"] == "BIH") & (b["iso3_b"] == "SRB")].to_crs(3035).union_all()
    for g in r.loc[extra].to_crs(3035).geometry:
        along = shapely.line_interpolate_point(g, np.linspace(0, 1, 21), normalized=True)
        assert shapely.distance(along, border).max() <= FAR_M
    assert r.loc[extra, "name"].eq("Drina").all() and extra.sum() <= 2
    # below the Bajina Basta dam the GSHHG Drina is drawn 1.5-2.0 km off the border line for 11 km: still the
    # border (it was labelled SRB only before the hysteresis)
    near_dam = r.geometry.distance(shapely.Point(19.47, 43.96)) < 0.05
    assert r.loc[near_dam & (r["name"] == "Drina"), "country"].eq("BIH|SRB").all()
    km = r.loc[r["country"] == "BIH|SRB"].groupby("name")["length_km"].sum()
    assert list(km.index) == ["Drina"] and 170 <= km["Drina"] <= 230
    # the Lim crosses BIH/SRB at Rudo and Priboj: no border reach on the Lim
    assert not r.loc[r["name"] == "Lim", "is_border"].any()


@needs_data
def test_drin_border_rivers_on_the_bundled_network():
    r, b = _bundled("drin")
    lab = label_border_reaches(r, b)
    bojana = r.loc[(lab == "ALB|MNE") & (r["name"] == "Bojana"), "length_km"].sum()
    assert 15 <= bojana <= 45  # the Buna/Bojana is the ALB/MNE border for about 24 of its 44 km to the sea
    # the Black Drin crosses MKD -> ALB below Debar: a short border stretch at most, not its course
    bd = r[r["name"] == "Black Drin (Crni Drim)"]
    assert bd.loc[lab[bd.index].notna(), "length_km"].sum() <= 12
    assert not r.loc[r["name"].isin(["White Drin (Beli Drim)", "Drin", "Klina"]), "is_border"].any()


@needs_data
def test_rudo_is_not_on_a_border_river():
    """Rudo (BIH) on the Lim: the old 2.5 km rule gave a BIH|SRB label and 0 km; the river enters SRB
    downstream (Priboj is upstream, in SRB), so the first border is the Drina."""
    from shapely.geometry import Point

    import riskmap

    sites = gpd.GeoDataFrame({"site_id": ["rudo"], "name": ["Rudo"], "category": ["other"],
                              "coord_precision": ["town"], "country": ["BIH"]},
                             geometry=[Point(19.36719, 43.61781)], crs="EPSG:4326")
    out = riskmap.assess(sites, ["drina"]).iloc[0]
    assert out["reach_name"] == "Lim" and out["first_border_river_km"] > 20
    assert not bool(out["on_border_water"])
    assert out["downstream_countries"][0] == "BIH|SRB"  # the Drina border stretch, not the Lim


def test_hysteresis_bridges_a_long_gap_that_stays_near_the_border():
    """A river that follows a border, drifts 2 km off it for 10 km, then follows it again is a border river
    all along; one that drifts 5 km off is not bridged (synthetic, UTM metres)."""
    border = gpd.GeoDataFrame({"iso3_a": ["AAA"], "iso3_b": ["BBB"]},
                              geometry=[LineString([(0, 0), (40_000, 0)])], crs=UTM)
    for off, bridged in ((2_000, True), (5_000, False)):
        river = LineString([(0, 200), (12_000, 200), (13_000, off), (23_000, off), (24_000, 200), (40_000, 200)])
        labels = border_pairs_along(river, border)
        mid = labels[int(len(labels) * 18 / 40.5)]
        assert (mid == "AAA|BBB") == bridged, off
        assert labels[0] == labels[-1] == "AAA|BBB"
