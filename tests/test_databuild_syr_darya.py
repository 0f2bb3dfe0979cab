"""The bundled Syr Darya, built from GEBCO 2023 15" (build-from-dem + the cartographic course below 66.14 E).

`riskmap data build-reference` builds it (:func:`riskmap.databuild.dem.build_bundled`;
``tests/test_hydrography_build.py`` rebuilds it and compares); here it is checked on verifiable
geography: the published area range, the TFDD ARAL outline (validation only), and divide-edge places.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from riskmap._geo import geodesic_area_km2
from riskmap import DATA_DIR
from riskmap.hydrography import flatten_countries, load_basin

SRC = Path("/work/shared/data/sources")
GEBCO = SRC / "gebco-2023-15s-syr-darya" / "gebco_2023_15s_syr_darya.tif"
TFDD = SRC / "tfdd-international-basins" / "tfdd_basins_central_asia.gpkg"
#: where the Syr Darya leaves the GEBCO grid (66.1375 E): the junction with the cartographic lower course
JUNCTION = (66.15, 44.427)

#: (lon, lat), inside the Syr Darya basin?  Sources: GeoNames cities500 ids, literature-sites (town precision)
PLACES = {
    "Kadamjay": ((71.72361, 40.12667), True),       # literature-sites, town; south Fergana (Shakhimardan side)
    "Khaidarkan": ((71.34184, 39.94319), True),     # GeoNames 1222635 Aydarken; south Fergana
    "Chaek": ((74.51699, 41.92768), True),          # GeoNames 1528566 Chayek; Kokomeren -> Naryn
    "Angren": ((70.14361, 41.01667), True),         # GeoNames 1514581
    "Almalyk": ((69.59833, 40.84472), True),        # GeoNames 1513064 Olmaliq
    "Chirchiq": ((69.58222, 41.46889), True),       # GeoNames 1514210
    "Mailuu-Suu": ((72.44972, 41.26), True),        # literature-sites, town
    "Turkistan": ((68.25685, 43.29458), True),      # GeoNames 1517945
    "Daroot-Korgon": ((72.20518, 39.55274), False),  # GeoNames 1222683; Kyzyl-Suu -> Amu Darya
    "Talas": ((72.2417, 42.52256), False),          # GeoNames 1527299; Talas basin
    "Kochkor": ((75.75659, 42.21552), False),       # GeoNames 1527902; Chu basin
}


@pytest.fixture(scope="module")
def sd():
    if not (DATA_DIR / "basins" / "syr_darya.flowdir.npz").is_file():
        pytest.skip("bundled DEM Syr Darya not built")
    b = load_basin("syr_darya")
    jx, jy = b.meta["source"]["joined_downstream"]["junction"]
    assert abs(jx - JUNCTION[0]) < 0.05 and abs(jy - JUNCTION[1]) < 0.05
    return b


def _reach(b, lon: float, lat: float) -> int:
    r = b.reaches.to_crs(f"+proj=aeqd +lat_0={lat} +lon_0={lon}")
    return int(b.reaches["reach_id"].iloc[int(np.argmin(r.distance(shapely.Point(0, 0)).to_numpy()))])


def test_area_within_published_range_and_tfdd(sd):
    lo, hi = sd.meta["published_area_km2"]
    area = sd.outline["area_km2"].iloc[0]
    assert lo <= area <= hi
    assert sd.meta["continuation"][0]["water"] == "North Aral Sea"
    assert sd.meta["riparian"] == ["KAZ", "KGZ", "TJK", "UZB"]
    if TFDD.is_file():
        tf = gpd.read_file(TFDD)
        col = next(c for c in tf.columns if tf[c].astype(str).eq("ARAL").any())
        aral = shapely.union_all(tf.loc[tf[col] == "ARAL"].geometry.values)
        og = sd.outline.geometry.iloc[0]
        assert geodesic_area_km2(og.intersection(aral)) / geodesic_area_km2(og) > 0.99


def test_divide_places(sd):
    og = sd.outline.geometry.iloc[0]
    wrong = [n for n, (xy, inside) in PLACES.items() if og.contains(shapely.Point(xy)) != inside]
    assert wrong == []


def test_routes_from_tashkent_oblast_stay_uzb_to_kaz(sd):
    for n in ("Angren", "Almalyk", "Chirchiq"):
        rid = _reach(sd, *PLACES[n][0])
        assert flatten_countries(list(sd.downstream_path(rid)["country"])) == ["UZB", "KAZ"], n
    # Angren drains by the Akhangaran, not through Charvak (Chirchik)
    path = sd.downstream_path(_reach(sd, *PLACES["Angren"][0]))
    assert not path["reach_id"].isin(sd.dams.loc[sd.dams["name"] == "Charvak", "reach_id"]).any()


def test_mailuu_suu_first_crossing_kgz_uzb(sd):
    rid = _reach(sd, *PLACES["Mailuu-Suu"][0])
    seq = flatten_countries(list(sd.downstream_path(rid)["country"]))
    assert seq[:2] == ["KGZ", "UZB"] and seq[-1] == "KAZ"
    km = sd.reach_table().loc[rid, "km_to_country_change"]
    assert 5 < km < 60


def test_border_only_where_river_follows_border(sd):
    # Bekabad (GeoNames 1514402) is on the Syr Darya in Uzbekistan, ~1.5 km from the TJK border
    rid = _reach(sd, 69.26972, 40.22083)
    r = sd.reaches.set_index("reach_id").loc[rid]
    assert r["country"] == "UZB" and not r["is_border"]


def test_joined_network_reaches_the_aral(sd):
    r = sd.reaches
    # two outlets since the Arnasay-Aydarkul sink is bundled: the North Aral Sea and the terminal lake
    ends = r[r["downstream_id"] == -1]
    assert len(ends) == 2 and (ends["sub_basin"] == SINK).sum() == 1
    out = ends[ends["sub_basin"] != SINK].geometry.iloc[0].coords[-1]
    assert abs(out[0] - 60.9) < 0.2 and abs(out[1] - 46.1) < 0.2
    assert set(r.loc[r["downstream_id"] != -1, "downstream_id"]) <= set(r["reach_id"])
    assert 2000 < r["dist_to_outlet_km"].max() < 3100  # Naryn + Syr Darya: 3,019 km


def test_layers_follow_the_reference_contract(sd):
    r = sd.reaches.set_index("reach_id")
    ds = r["downstream_id"].to_numpy()
    inner = ds != -1
    last = shapely.get_point(r.geometry.values[inner], -1)
    nxt = shapely.get_point(r.loc[ds[inner]].geometry.values, 0)
    assert (shapely.distance(last, nxt) < 1e-4).all()  # the junction included
    assert set(sd.countries["iso3"]) == set(sd.meta["riparian"])
    assert "CHN" in sd.meta["minor_shares_km2"]


# ---------------------------------------------------------------- the Arnasay-Aydarkul terminal sub-basin

SINK = "Arnasay-Aydarkul (terminal)"
#: GeoNames cities500 coordinates; both drain to the Arnasay-Aydarkul depression on the GEBCO DEM
GOLODNAYA = {"Yangiyer": (68.8225, 40.275), "Shahriston": (68.80929, 39.77447)}


def test_sink_is_a_terminal_sub_basin_of_the_bundled_syr_darya():
    b = load_basin("syr_darya")
    sinks = b.meta["terminal_sinks"]
    assert [s["sub_basin"] for s in sinks] == [SINK]
    r = b.reaches
    inside = r["sub_basin"] == SINK
    assert inside.sum() == sinks[0]["n_reaches"] > 50
    # its reaches end at the lake (their own outlet), never on the Syr Darya main stem
    net = b.network
    outlets = r.loc[r["downstream_id"] == -1, "reach_id"].astype(int)
    main_outlet = max(outlets, key=lambda i: int(net.upstream_mask(i).sum()))  # the North Aral Sea mouth
    assert not net.upstream_mask(main_outlet)[inside.to_numpy()].any()
    ends = r[inside & (r["downstream_id"] == -1)]
    assert len(ends) >= 1
    lx, ly = sinks[0]["sink"]
    assert 66.1 < lx < 68.1 and 40.5 < ly < 41.1  # inside the Aydar Ko'l bounds (Natural Earth lakes)
    sub = b.sub_basins.set_index("sub_basin")
    assert 10_000 < float(sub.loc[SINK, "area_km2"]) < 40_000
    # the basin stays within the published range with the sink
    lo, hi = b.meta["published_area_km2"]
    assert lo <= float(b.outline["area_km2"].iloc[0]) <= hi


def test_golodnaya_places_are_in_the_sink_with_nothing_beyond_the_lake(make_sites):
    from riskmap.exposure import assess

    b = load_basin("syr_darya")
    out = assess(make_sites(list(GOLODNAYA.values()), ["UZB", "TJK"]), [b])
    assert (out["basin"] == "syr_darya").all()
    assert (out["sub_basin"] == SINK).all()
    assert out["continuation"].str.startswith("none").all()  # no North Aral Sea beyond a terminal lake
    for path in out["downstream_countries"]:
        assert flatten_countries(list(path))[-1] == "UZB"  # the lake is in Uzbekistan


def test_spill_into_the_sink_stops_at_the_lake():
    import warnings

    from riskmap.spill import simulate_spill

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = simulate_spill(GOLODNAYA["Yangiyer"], "1 t")
    cp = res.checkpoints
    assert cp["kind"].iloc[-1] == "outlet"
    b = load_basin("syr_darya")
    last = int(res.path["reach_id"].iloc[-1]) if "reach_id" in res.path else None
    if last is not None:
        assert b.reaches.set_index("reach_id").loc[last, "sub_basin"] == SINK
    # far shorter than the Syr Darya to the North Aral Sea (over 2,000 km)
    assert float(cp["river_km"].iloc[-1]) < 600
