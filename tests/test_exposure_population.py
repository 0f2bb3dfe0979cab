"""Downstream population exposure (riskmap.exposure.downstream_population): synthetic basin and real data."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

import riskmap
from riskmap.exposure import POPULATION_COLUMNS, assess, downstream_population, load_places


def _places(rows):
    return gpd.GeoDataFrame({"name": [r[0] for r in rows], "country": [r[1] for r in rows],
                             "population": [float(r[2]) for r in rows]},
                            geometry=[Point(r[3], r[4]) for r in rows], crs="EPSG:4326")


PLACES = [
    ("P1 AAA, 2 km off r1, 16 km down", "AAA", 1000, 20.30, 43.12),
    ("P2 BBB, 1 km off r2", "BBB", 2000, 20.50, 43.11),
    ("P3 CCC, 5.6 km off the border reach", "CCC", 4000, 20.80, 43.30),
    ("P4 AAA upstream of the site", "AAA", 8000, 20.05, 43.12),
    ("P5 CCC near the outlet reach", "CCC", 16000, 20.92, 43.40),
]


@pytest.fixture(scope="module")
def toy(make_toy_basin, make_sites):
    basin = make_toy_basin()
    s = make_sites([(20.10, 43.10), (20.55, 43.40), (25.0, 40.0)])
    a = assess(s, [basin])
    return basin, a


def test_population_along_the_path_synthetic(toy):
    basin, a = toy
    pop = downstream_population(a, [basin], _places(PLACES))
    assert list(pop.columns) == list(POPULATION_COLUMNS)
    s0 = pop.iloc[0]
    assert a["first_border_river_km"].iloc[0] == pytest.approx(24, abs=2)
    assert s0["downstream_pop_first_km"] == 3000  # P1 + P2; P4 is upstream, P5 beyond 50 km
    assert s0["downstream_places_first_km"] == 2
    assert s0["downstream_pop_to_border"] == 1000  # only P1 before the AAA-BBB border
    assert s0["downstream_pop_total"] == 19000  # P1 + P2 + P5; P3 is 5.6 km from the river
    assert json.loads(s0["downstream_pop_by_country"]) == {"AAA": 1000, "BBB": 2000, "CCC": 16000}
    s1 = pop.iloc[1]  # on the CCC tributary: only P5 is downstream
    assert s1["downstream_pop_total"] == 16000 and json.loads(s1["downstream_pop_by_country"]) == {"CCC": 16000}
    # no path: missing, never 0
    assert pop.iloc[2][["downstream_pop_total", "downstream_pop_first_km"]].isna().all()
    assert pop.iloc[2]["downstream_pop_by_country"] is None
    wider = downstream_population(a, [basin], _places(PLACES), radius_km=6.0, first_km=1000.0)
    assert wider.iloc[0]["downstream_pop_total"] == 23000 and wider.iloc[0]["downstream_pop_first_km"] == 23000


def test_population_never_leaving_country_counts_whole_path(toy):
    basin, a = toy
    b = a.copy()
    b["transboundary_downstream"] = pd.array([False, False, pd.NA], dtype="boolean")
    b["first_border_river_km"] = np.nan
    pop = downstream_population(b, [basin], _places(PLACES))
    assert pop.iloc[0]["downstream_pop_to_border"] == pop.iloc[0]["downstream_pop_total"] == 19000


def test_bad_parameters_are_refused(toy):
    basin, a = toy
    with pytest.raises(riskmap.RiskmapInputError, match="radius_km and first_km must be >= 0"):
        downstream_population(a, [basin], _places(PLACES), radius_km=-1)


def test_bundled_places_layer():
    pl = load_places()
    assert len(pl) > 500 and (pl["population"] >= 1000).all()
    assert {"BIH", "SRB", "MNE", "ALB", "KGZ", "UZB", "KAZ", "TJK"} <= set(pl["country"])
    names = set(pl["name"])
    for town in ("Foča", "Goražde", "Višegrad", "Zvornik", "Pljevlja", "Shkodër", "Khujand", "Kyzylorda"):
        assert town in names, town


def test_real_sites_get_population_columns():
    sites = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv")
    a = assess(sites[sites["site_id"].isin(["gem-ghpt-L600203", "lit-mailuu-suu-uranium-tailings-and-waste-dumps",
                                            "gem-ghpt-L600004"])])
    a = a.set_index("site_id")
    for sid in a.index:
        row = a.loc[sid]
        by = json.loads(row["downstream_pop_by_country"])
        assert sum(by.values()) == row["downstream_pop_total"] > 0, sid
        assert row["downstream_pop_first_km"] <= row["downstream_pop_total"]
    # Višegrad (BIH) drains along the Drina into Serbia; Mailuu-Suu (KGZ) into the Fergana valley and Kazakhstan
    assert set(json.loads(a.loc["gem-ghpt-L600203", "downstream_pop_by_country"])) == {"BIH", "SRB"}
    assert {"UZB", "KAZ"} <= set(json.loads(a.loc["lit-mailuu-suu-uranium-tailings-and-waste-dumps",
                                                  "downstream_pop_by_country"]))
    # Fierza (ALB) never leaves Albania before Lake Shkodra: its population to the first border is all Albanian
    fz = a.loc["gem-ghpt-L600004"]
    assert json.loads(fz["downstream_pop_by_country"]).keys() == {"ALB"}


def test_vectorised_bisection_matches_searchsorted_per_path():
    """One bisection for all sites equals numpy.searchsorted on each path's slice (ties, empty paths, NaN)."""
    from riskmap.population import searchsorted_per_path

    rng = np.random.default_rng(4)
    sizes = np.array([0, 5, 1, 12, 0, 7])
    bounds = np.r_[0, np.cumsum(sizes)]
    a = np.concatenate([np.sort(rng.integers(0, 6, k).astype(float)) for k in sizes])
    group = rng.integers(0, len(sizes), 400)
    v = rng.integers(-1, 8, 400).astype(float)
    v[::37] = np.nan
    for side in ("left", "right"):
        got = searchsorted_per_path(a, bounds[group], bounds[group + 1], v, right=side == "right")
        want = [bounds[g] + np.searchsorted(a[bounds[g]:bounds[g + 1]], x, side=side) for g, x in zip(group, v)]
        assert got.tolist() == want


def test_per_path_prefix_sums_equal_one_path_at_a_time():
    """Whole numbers (one global pass) and fractions (path by path) give each path's own cumulative sums."""
    from riskmap.population import prefix_sums_per_path

    bounds = np.array([0, 3, 3, 7])
    for values in (np.array([1000.0, 2500, 7, 12, 3, 99999, 1]), np.array([0.1, 0.2, 0.3, 1e-17, 1.0, 0.7, 2.2])):
        got = prefix_sums_per_path(values, bounds)
        want = np.concatenate([np.r_[0.0, np.cumsum(values[a:b])] for a, b in zip(bounds[:-1], bounds[1:])])
        assert np.array_equal(got, want)


def test_the_site_counts_from_where_its_route_joins_its_reach():
    """Places on the start reach above where the route joins it (``reach_frac``) are not downstream.

    Gorazde (BIH, on the Drina) lies part-way along its reach; a route joining the reach at its
    upstream end counts the town, one joining below it does not; without ``reach_frac`` (a frame
    from elsewhere) the nearest point of the reach is the site's position.
    """
    pts = gpd.GeoDataFrame({"site_id": ["g"], "country": ["BIH"]},
                           geometry=[Point(18.9756, 43.6675)], crs="EPSG:4326")
    a = assess(pts, "drina")
    got = {}
    for frac in (0.0, 1.0, np.nan):
        b = a.copy()
        b["reach_frac"] = frac
        got[frac if frac == frac else "none"] = downstream_population(b, "drina").iloc[0]
    assert got[0.0]["downstream_pop_total"] > got[1.0]["downstream_pop_total"]
    assert got[0.0]["downstream_places_first_km"] == got[1.0]["downstream_places_first_km"] + 1
    assert got["none"]["downstream_pop_total"] == a["downstream_pop_total"].iloc[0]
