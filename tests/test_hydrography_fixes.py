"""Regression tests of the reference hydrography fixes (Mat anchors, Kara Darya, dams layer)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import Point

from riskmap._paths import DATA_DIR
from riskmap.hydrography import flatten_countries, load_basin


def _inside(b, lonlat, buffer_km=0.0):
    o = b.outline.to_crs(b.outline.estimate_utm_crs())
    p = gpd.GeoSeries([Point(lonlat)], crs=4326).to_crs(o.crs).iloc[0]
    return bool(o.geometry.iloc[0].buffer(buffer_km * 1000.0).contains(p))


def _sub_basin_at(b, lonlat):
    hit = b.sub_basins[b.sub_basins.contains(Point(lonlat))]
    return hit["sub_basin"].iloc[0] if len(hit) else None


@pytest.mark.parametrize("place, lonlat", [("Rubik", (19.786, 41.774)), ("Ulez dam", (19.898, 41.681)),
                                           ("Shkopet dam", (19.833, 41.692))])
def test_mat_valley_is_not_drin(place, lonlat):
    # the Mat drains to the Adriatic south of Lezhe, not through the Drin
    assert not _inside(load_basin("drin"), lonlat), place


def test_drin_agreement_with_tfdd_not_worse():
    m = load_basin("drin").meta["measured"]
    assert m["iou_tfdd"] >= 0.62 and m["share_in_tfdd"] >= 0.72
    assert 19000 < m["area_km2"] < 21000


def test_kara_darya_named_and_in_its_sub_basin():
    b = load_basin("syr_darya")
    r = b.reaches
    kd = r[r["name"] == "Kara Darya"]
    assert kd["length_km"].sum() > 250
    assert set(kd["sub_basin"]) == {"Kara Darya"}
    # the reach near Andijan is named Kara Darya, the Naryn keeps its name
    rp = r.to_crs(r.estimate_utm_crs())
    andijan = gpd.GeoSeries([Point(72.34, 40.79)], crs=4326).to_crs(rp.crs).iloc[0]
    near = r.iloc[int(np.argmin(rp.distance(andijan)))]
    assert near["name"] == "Kara Darya" and near["sub_basin"] == "Kara Darya"
    assert "Naryn" in set(r.loc[r["sub_basin"] == "Naryn", "name"].dropna())
    # below the confluence the river is the Syr Darya (NE's Naryn line runs on into the Fergana valley)
    assert set(r.loc[r["name"] == "Naryn", "sub_basin"]) == {"Naryn"}


def test_mailuu_suu_drains_to_kara_darya():
    from riskmap import exposure

    b = load_basin("syr_darya")
    assert _sub_basin_at(b, (72.45, 41.26)) == "Kara Darya"
    sites = gpd.GeoDataFrame({"site_id": ["mailuu"], "name": ["Mailuu-Suu"], "country": ["KGZ"]},
                             geometry=[Point(72.45, 41.26)], crs=4326)
    out = exposure.assess(sites)
    row = out.iloc[0]
    assert row["sub_basin"] == "Kara Darya"
    reach = b.reaches.set_index("reach_id").loc[int(row["reach_id"])]
    assert reach["name"] == "Kara Darya"
    seq = flatten_countries(["KGZ", *row["downstream_countries"]])
    assert seq == ["KGZ", "UZB", "TJK", "UZB", "KAZ"], seq


def test_dams_layer_and_reservoir_markers():
    expected = {"drin": {"Komani", "Fierza", "Vau i Dejës"},
                "drina": {"Mratinje", "Višegrad", "Bajina Bašta", "Zvornik"},
                "syr_darya": {"Andijan-1", "Charvak", "Toktogul", "Kairakkum", "Shardara"}}
    for bid, names in expected.items():
        b = load_basin(bid)
        d = b.dams
        assert names <= set(d["name"]), (bid, set(d["name"]))
        assert (d["capacity_mw"] >= 50).all() and (d["dist_km"] <= 3).all()
        assert set(d["reach_id"]) <= set(b.reaches["reach_id"])
        assert d["source"].str.contains("Global Energy Monitor").all()
        wb = b.reaches.set_index("reach_id")["waterbody"]
        for nm, rid, marks in zip(d["name"], d["reach_id"], d["marks_reservoir"]):
            if marks:
                assert isinstance(wb.loc[rid], str) and wb.loc[rid], (bid, nm)
    drina = load_basin("drina").reaches
    assert {"Višegrad reservoir", "Zvornik reservoir", "Bajina Bašta reservoir",
            "Mratinje reservoir"} <= set(drina["waterbody"].dropna())
    # a diversion plant marks no reservoir on the river
    drin = load_basin("drin")
    assert "Perucica reservoir" not in set(drin.reaches["waterbody"].dropna())
    assert not any("Pumped Storage" in n for n in load_basin("drina").dams["name"])


def test_lakes_layer_stays_polygons():
    for bid in ("drin", "drina", "syr_darya"):
        lk = load_basin(bid).lakes
        assert set(lk.geom_type) <= {"MultiPolygon", "Polygon"}


def test_provenance_lists_dam_sources():
    import json

    prov = json.loads((DATA_DIR / "basins" / "PROVENANCE.json").read_text(encoding="utf-8"))
    paths = {s["path"] for s in prov["sources"]}
    assert "gem-trackers/hydropower_ghpt_2024-05_aoi.csv" in paths
    assert all(len(s["sha256"]) == 64 for s in prov["sources"])
    assert any("Global Hydropower Tracker" in x["attribution"] and x["licence"] == "CC BY 4.0"
               for x in prov["licences"])


def test_synthetic_dams_rule():
    """The dam rule keeps operating, exact, >= 50 MW plants near a reach, one row per location."""
    import pandas as pd

    from riskmap.databuild.reference import products as rb

    reaches = gpd.GeoDataFrame({"reach_id": [1, 2], "name": ["A", None]},
                               geometry=[shapely.LineString([(20.0, 42.0), (20.1, 42.0)]),
                                         shapely.LineString([(21.0, 42.0), (21.1, 42.0)])], crs=4326)
    rows = [  # name, cap, status, acc, lon, lat, river
        ("Near hydroelectric plant", 100, "operating", "exact", 20.05, 42.01, None),
        ("Near Pumped Storage hydroelectric plant", 500, "operating", "exact", 20.05, 42.01, None),
        ("Small hydroelectric plant", 20, "operating", "exact", 21.05, 42.0, "X River"),
        ("Planned hydroelectric plant", 300, "announced", "exact", 21.05, 42.0, None),
        ("Vague hydroelectric plant", 300, "operating", "approximate", 21.05, 42.0, None),
        ("Far hydroelectric plant", 300, "operating", "exact", 21.05, 42.2, None),
    ]
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as t:
        src = Path(t)
        (src / "gem-trackers").mkdir()
        pd.DataFrame({"project_name": [r[0] for r in rows], "capacity_(mw)": [r[1] for r in rows],
                      "status": [r[2] for r in rows], "location_accuracy": [r[3] for r in rows],
                      "lng": [r[4] for r in rows], "lat": [r[5] for r in rows],
                      "river_/_watercourse": [r[6] for r in rows]}).to_csv(
            src / "gem-trackers" / "hydropower_ghpt_2024-05_aoi.csv", index=False)
        from riskmap._geo import aeqd_for_bounds

        d = rb._dams(src, reaches, aeqd_for_bounds((19.5, 41.5, 21.5, 42.5)))
    assert list(d["name"]) == ["Near"]
    assert d["capacity_mw"].iloc[0] == 600.0 and d["reach_id"].iloc[0] == 1 and d["river"].iloc[0] == "A"
