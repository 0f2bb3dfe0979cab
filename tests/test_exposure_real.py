"""Exposure engine on the bundled reference hydrography (data/basins)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.ops

from riskmap import DATA_DIR
from riskmap._geo import GEOD
from riskmap.exposure import assess, exposure_matrix

IDS = ("drin", "drina", "syr_darya")


@pytest.fixture(scope="module")
def basins(real_basin):
    bs = [real_basin(b) for b in IDS]
    if any(b is None for b in bs):
        pytest.skip("reference hydrography (data/basins) not built")
    return dict(zip(IDS, bs))


@pytest.fixture(scope="module")
def hot(basins, make_sites):
    pts = [(19.36, 43.36), (20.68, 41.18), (19.24, 42.39), (72.45, 41.26), (10.0, 10.0), (19.8, 44.9)]
    s = make_sites(pts, ["MNE", "MKD", None, "KGZ", None, None])
    s["name"] = ["Pljevlja", "Struga", "KAP Podgorica", "Mailuu-Suu", "Gulf of Guinea", "Sremska Mitrovica"]
    return assess(s, list(basins.values())).set_index("name")


def _after(seq, first, then):
    """True when ``then`` occurs somewhere after ``first`` in ``seq``."""
    return first in seq and then in seq[seq.index(first) + 1:]


def test_pljevlja_drains_through_bih_then_bih_srb_drina(hot):
    r = hot.loc["Pljevlja"]
    assert r.basin == "drina" and r.country == "MNE"
    ds = r.downstream_countries
    assert _after(ds, "BIH", "BIH|SRB"), ds
    assert r.first_border_river_km >= 0 and bool(r.transboundary_downstream)
    assert "Sava" in r.continuation and "Danube" in r.continuation


def test_struga_reaches_albania(hot):
    r = hot.loc["Struga"]
    assert r.basin == "drin" and r.country == "MKD"
    assert any("ALB" in c.split("|") for c in r.downstream_countries)
    assert "ALB" in r.downstream_countries  # the Black Drin in Albania itself
    assert r.border_neighbour == "ALB"


def test_kap_reaches_lake_skadar_shared_with_albania(hot, basins):
    r = hot.loc["KAP Podgorica"]
    assert r.basin == "drin" and r.country == "MNE" and r.sub_basin == "Moraca-Skadar"
    assert r.downstream_countries[0] == "ALB|MNE"
    # the first reach off Montenegrin territory is in the lake
    b = basins["drin"]
    reaches = b.reaches.set_index("reach_id")
    rid = int(r.reach_id)
    while reaches.loc[rid, "country"] == "MNE":
        rid = int(reaches.loc[rid, "downstream_id"])
    wb = str(reaches.loc[rid, "waterbody"] or "")
    assert "skadar" in wb.lower() or "shkod" in wb.lower(), wb


def test_mailuu_suu_reaches_uzb_then_tjk_and_kaz(hot):
    r = hot.loc["Mailuu-Suu"]
    assert r.basin == "syr_darya" and r.country == "KGZ"
    singles = [c for c in r.downstream_countries if "|" not in c]
    assert singles[0] == "UZB"
    assert _after(singles, "UZB", "TJK") and _after(singles, "TJK", "KAZ")
    assert singles[-1] == "KAZ"
    assert r.outlet_river_km > 1000  # to the North Aral Sea


def test_outside_sites_kept_and_flagged(hot):
    for name in ("Gulf of Guinea", "Sremska Mitrovica"):  # the latter: on the Sava, below the Drina
        r = hot.loc[name]
        assert pd.isna(r.basin) and not r.in_basin and r.drainage_by == "none"
        assert r.exposure_class == "outside"
        assert r.country_check == "not checked (outside the basins)"  # not "outside the basin countries"
    assert len(hot) == 6


def test_border_km_against_independent_geodesic(basins, make_sites):
    rng = np.random.default_rng(7)
    for bid, b in basins.items():
        outline = shapely.union_all(b.outline.to_crs(4326).geometry.to_numpy())
        x0, y0, x1, y1 = outline.bounds
        lon, lat = rng.uniform(x0, x1, 60), rng.uniform(y0, y1, 60)
        keep = shapely.contains_xy(outline, lon, lat)
        lon, lat = lon[keep][:8], lat[keep][:8]
        out = assess(make_sites(list(zip(lon, lat))), [b])
        xy = np.vstack([shapely.get_coordinates(shapely.segmentize(g, 0.001))
                        for g in b.borders.to_crs(4326).geometry])
        for lo, la, got in zip(lon, lat, out["border_km"]):
            _, _, d = GEOD.inv(np.full(len(xy), lo), np.full(len(xy), la), xy[:, 0], xy[:, 1])
            want = d.min() / 1000
            # 0.001 deg densification of the reference: up to ~60 m of its own error
            assert got == pytest.approx(want, abs=0.07, rel=0.002), (bid, lo, la)


def test_consistency_over_random_sites(basins, make_sites):
    rng = np.random.default_rng(11)
    pts = []
    for b in basins.values():
        x0, y0, x1, y1 = b.outline.to_crs(4326).total_bounds
        pts += list(zip(rng.uniform(x0, x1, 300), rng.uniform(y0, y1, 300)))
    out = assess(make_sites(pts), list(basins.values()), velocity_ms=1.5)
    inb = out["basin"].notna()
    assert inb.sum() > 200 and (~inb).sum() > 50
    fb = out["first_border_river_km"]
    assert np.allclose(out["travel_time_h"].dropna(), (fb.dropna() * 1000 / 1.5 / 3600))
    assert (fb.dropna() >= 0).all()
    assert (fb.dropna() <= out.loc[fb.notna(), "outlet_river_km"] + 1e-6).all()
    assert (out.loc[inb, "drainage_by"].isin(["river snap", "basin allocation", "dem flow path"])).all()
    assert (out["drainage_by"] == "dem flow path").sum() > 50  # the Syr Darya's sites on its DEM cells
    lo, hi = out["first_border_river_km_low"], out["first_border_river_km_high"]
    assert (lo[fb.notna()] <= fb.dropna() + 1e-9).all() and (fb[hi.notna()] <= hi.dropna() + 1e-9).all()
    assert (out.loc[out.drainage_by == "river snap", "snap_km"] <= 5.0).all()
    trans = out["transboundary_downstream"].fillna(False).astype(bool)
    assert (trans == out["downstream_countries"].map(lambda v: bool(v) if isinstance(v, list) else False)).all()
    assert fb[trans].notna().all() and fb[inb & ~trans].isna().all()
    assert set(out.loc[inb, "exposure_class"]) <= {"very high", "high", "medium", "low"}
    assert (out.loc[~inb, "exposure_class"] == "outside").all()
    # every in-basin site has a country from the basin's riparian set (or the given one)
    m = exposure_matrix(out)
    assert set(m.index.get_level_values("basin")) <= set(IDS)
    assert (m["transboundary"] <= m["sites"]).all()


def test_precomputed_paths_match_hydrography(basins):
    # private on purpose: the per-reach, per-origin path table of the basin index is an internal lookup
    # structure; assess reads it only at the reaches and countries of its sites, so checking every reach
    # against Basin.downstream_countries needs the table itself.
    from riskmap.basin_index import _basin_index

    for b in basins.values():
        if not hasattr(b, "downstream_countries"):
            pytest.skip("riskmap.hydrography.Basin not available")
        ix = _basin_index(b)
        for i, rid in enumerate(ix.reach_ids):
            o = ix.origins[ix.reach_country[i]]
            mine = [ix.reach_country[i]] + list(ix.ds_lists[ix.ds_code[i, o]])
            assert mine == b.downstream_countries(int(rid)), (b.id, rid)


def test_assess_agrees_with_the_inventory_basin(basins):
    """The inventory build and assess use one divide-buffer rule: no bundled site is lost."""
    import riskmap

    inv = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv", strict=True)
    out = assess(inv.rename(columns={"basin": "inventory_basin"}), list(basins.values()))
    assert (out["basin"].astype(object) == out["inventory_basin"].astype(object)).all(), \
        out.loc[out["basin"].astype(object) != out["inventory_basin"].astype(object),
                ["name", "inventory_basin", "basin"]]
    assert (out["exposure_class"] != "outside").all()
    kadamjay = out[out["name"].str.contains("Kadamjay")].iloc[0]
    # inside the DEM outline (the south Fergana valley up to the Alay crest), located on its own DEM cell
    assert kadamjay["basin"] == "syr_darya" and kadamjay["in_basin"]
    assert kadamjay["drainage_by"] in ("dem flow path", "river snap")


def test_lake_ohrid_shore_towns_enter_the_shared_lake_at_its_shore(basins, make_sites):
    """Pogradec (ALB) and Ohrid (MKD) lie about 1 km from Lake Ohrid, shared by both: their first border is
    the lake's shore, not the straight line to the allocated reach in the middle of the lake (16 and 8 km)."""
    out = assess(make_sites([(20.6528, 40.9025), (20.8016, 41.1231)], ["ALB", "MKD"]), [basins["drin"]])
    lake = basins["drin"].lakes.to_crs(4326)
    shore = lake.loc[lake["name"] == "Lake Ohrid"].geometry.iloc[0].boundary
    for (lon, lat), km, basis in zip([(20.6528, 40.9025), (20.8016, 41.1231)], out["first_border_river_km"],
                                     out["river_km_basis"]):
        p = shapely.Point(lon, lat)
        near = shapely.ops.nearest_points(shore, p)[0]
        want = GEOD.inv(lon, lat, near.x, near.y)[2] / 1000.0
        assert basis == "straight line to the shore of a shared lake (lower bound)"
        assert km == pytest.approx(want, abs=0.1) and km < 2.0
    assert list(out["downstream_countries"].iloc[0])[0] == "ALB|MKD"
    assert (out["on_border_water"]).all()


def _random_in(outline, n, seed):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = outline.bounds
    lon, lat = rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n)
    keep = shapely.contains_xy(outline, lon, lat)
    return list(zip(lon[keep][:n], lat[keep][:n]))


def test_every_point_of_an_outline_lies_in_a_country(basins, make_sites):
    """Riparian or not: the Albanian headwaters of the Lim (Drina) are Albania, not unknown."""
    every = gpd.read_file(DATA_DIR / "basins" / "countries.gpkg", layer="countries")
    for bid, b in basins.items():
        outline = shapely.union_all(b.outline.to_crs(4326).geometry.to_numpy())
        out = assess(make_sites(_random_in(outline, 3000, 11)), [b])
        assert out["country"].notna().all(), (bid, int(out["country"].isna().sum()))
        riparian = set(b.countries["iso3"])
        for iso, geom in zip(every["iso3"], every.geometry):
            part = geom.intersection(outline)
            if iso in riparian or part.area < 1e-4:  # < about 1 km2
                continue
            pt = part.point_on_surface()
            got = assess(make_sites([(pt.x, pt.y)]), [b]).iloc[0]
            assert got["country"] == iso and got["country_check"] == "derived from location", (bid, iso)
    lim = every.geometry[every["iso3"] == "ALB"].iloc[0].intersection(
        shapely.union_all(basins["drina"].outline.to_crs(4326).geometry.to_numpy()))
    assert lim.area > 0.005  # about 50 km2 or more of the Drina basin is Albanian (the Vermosh, Lim headwaters)
    pt = lim.point_on_surface()
    got = assess(make_sites([(pt.x, pt.y)], ["ALB"]), [basins["drina"]]).iloc[0]
    assert got["country_check"] == "ok" and list(got["downstream_countries"])[0] == "MNE"


def test_a_site_by_a_tripoint_gets_a_neighbour_of_its_own_country(basins, make_sites):
    """The nearest border point is a tripoint: the neighbour is across a border of the site's country.

    Near the MNE/SRB/XKX tripoint a Kosovo site is equally near three lines; it got 'MNE|SRB' (neither
    side) by the search's internal order. Over random sites no neighbour is a pair any more.
    """
    got = assess(make_sites([(20.3714, 42.73588)]), [basins["drin"]]).iloc[0]
    assert got["country"] == "XKX" and got["border_neighbour"] in {"MNE", "SRB"}
    for bid, b in basins.items():
        outline = shapely.union_all(b.outline.to_crs(4326).geometry.to_numpy())
        out = assess(make_sites(_random_in(outline, 4000, 5)), [b])
        pairs = out["border_neighbour"].dropna().astype(str)
        assert not pairs.str.contains("|", regex=False).any(), (bid, pairs[pairs.str.contains("|", regex=False)])


def test_a_given_country_across_a_near_border_line_starts_the_path(basins, make_sites):
    """Natural Earth puts Quvasoy (UZB, GeoNames 1513331) 2.1 km inside KGZ; the Kuvasay there is a UZB reach.

    Given UZB, the path starts in UZB: first border where the Syr Darya enters Tajikistan, not 0 km.
    Given a country that is not across that border, or no country, the location decides.
    """
    pts = [(71.98026, 40.29721)] * 3
    out = assess(make_sites(pts, ["UZB", "KAZ", None]), [basins["syr_darya"]])
    uzb, kaz, none = (out.iloc[i] for i in range(3))
    assert uzb["country"] == "UZB" and uzb["border_neighbour"] == "KGZ"
    assert uzb["country_check"].startswith("differs: location is in KGZ, 2.1 km from the border line")
    assert uzb["first_border_river_km"] > 100 and "KGZ" not in uzb["downstream_countries"]
    assert list(uzb["downstream_countries"])[:2] == ["TJK|UZB", "TJK"]
    for r in (kaz, none):  # the path starts in KGZ (the polygon): the water is in UZB at once
        assert r["first_border_river_km"] == 0.0 and list(r["downstream_countries"])[0] == "UZB"
    assert kaz["country_check"] == "differs: location is in KGZ" and none["country"] == "KGZ"


def test_a_given_country_across_a_near_border_line_whose_water_never_returns_leaves_at_the_line(basins,
                                                                                              make_sites):
    """Natural Earth puts Kara-Suu (KGZ, GeoNames 1528091) 1.5 km inside UZB, and its DEM flow path joins a UZB
    reach of the Fergana valley that never re-enters KGZ.

    Given KGZ, the water leaves KGZ at the line: UZB first, at 0 km (it was TJK at 231 km, UZB missing). Given
    no country, or one not across that border, the location decides (the path starts in UZB).
    """
    pts = [(72.86666, 40.7046)] * 3
    out = assess(make_sites(pts, ["KGZ", "KAZ", None]), [basins["syr_darya"]])
    kgz, kaz, none = (out.iloc[i] for i in range(3))
    assert kgz["country"] == "KGZ" and kgz["border_neighbour"] == "UZB"
    assert kgz["country_check"] == "differs: location is in UZB, 1.5 km from the border line; given country used"
    assert list(kgz["downstream_countries"])[:3] == ["UZB", "TJK|UZB", "TJK"]
    assert kgz["first_border_river_km"] == 0.0
    assert kgz["river_km_basis"] == "DEM flow path from the site's cell (border crossed overland)"
    for r in (kaz, none):
        assert list(r["downstream_countries"])[:2] == ["TJK|UZB", "TJK"] and r["first_border_river_km"] > 200
    assert kaz["country_check"] == "differs: location is in UZB" and none["country"] == "UZB"


def test_a_given_country_does_not_move_water_that_the_data_put_across_the_border(basins, make_sites):
    """The Farkhad dam (GEM GHPT L604107, given UZB) is 1.7 km inside TJK by Natural Earth, by a reach of the
    Farkhad reservoir in TJK: its water starts in TJK and reaches UZB within 2 km (the location decides)."""
    from riskmap import read_sites

    sites = read_sites(DATA_DIR / "sites" / "sites.csv")
    farkhad = sites[sites["site_id"] == "gem-ghpt-L604107"]
    got = assess(farkhad, [basins["syr_darya"]]).iloc[0]
    assert got["country"] == "UZB" and got["country_check"] == "differs: location is in TJK"
    assert list(got["downstream_countries"]) == ["UZB", "KAZ"] and got["first_border_river_km"] < 3
