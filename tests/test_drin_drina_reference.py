"""The bundled Drin and Drina reference hydrography (issue 15 item 3): names, karst link, riparians, divides."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from riskmap import DATA_DIR

pytestmark = pytest.mark.skipif(not (DATA_DIR / "basins" / "drin.gpkg").is_file(), reason="data/basins not built")


def _reaches(bid: str) -> gpd.GeoDataFrame:
    return gpd.read_file(DATA_DIR / "basins" / f"{bid}.gpkg", layer="reaches")


def _nearest(r: gpd.GeoDataFrame, lon: float, lat: float) -> gpd.GeoSeries:
    d = shapely.distance(r.geometry.to_numpy(), Point(lon, lat))
    return r.iloc[int(np.argmin(d))]


def test_the_tara_is_not_named_drina():
    """The Drina starts at the Tara-Piva confluence (Scepan Polje, about 18.84 E 43.35 N)."""
    r = _reaches("drina")
    tp = r[r["sub_basin"] == "Tara-Piva"]
    assert "Drina" not in set(tp["name"].dropna())
    assert _nearest(r, 19.45, 43.02)["name"] == "Tara"   # between Mojkovac and the canyon
    assert _nearest(r, 18.845, 43.2)["name"] == "Piva"   # below Pluzine
    assert _nearest(r, 18.8, 43.45)["name"] == "Drina"   # below Scepan Polje, towards Foca
    km = tp.groupby("name")["length_km"].sum()
    assert 80 <= km["Tara"] <= 160  # the Tara is 144-158 km long; generalised lines are shorter


def test_the_klina_is_not_the_white_drin():
    r = _reaches("drin")
    assert _nearest(r, 20.62, 42.66)["name"] == "Klina"  # NE of Klina town, on the Klina river
    assert _nearest(r, 20.33, 42.71)["name"] == "White Drin (Beli Drim)"  # near Peja, the White Drin proper
    assert _nearest(r, 20.52, 42.43)["name"] == "White Drin (Beli Drim)"  # below the Klina confluence


def test_prespa_ohrid_karst_link_is_flagged_and_still_connects():
    from riskmap.hydrography import load_basin

    r = _reaches("drin")
    assert r["karst"].dtype == bool
    k = r[r["karst"]]
    assert len(k) >= 1 and set(k["name"]) == {"Prespa-Ohrid karst link (underground)"}
    assert not _reaches("drina")["karst"].any()
    # downstream connectivity through the link: Lake Prespa -> Lake Ohrid -> Black Drin -> Buna
    b = load_basin("drin")
    net = b.network
    prespa = int(k.sort_values("dist_to_outlet_km")["reach_id"].iloc[-1])
    ids = net.ids[net.path_positions(prespa)]
    names = set(b.reaches.set_index("reach_id").loc[ids, "name"].dropna())
    assert {"Lake Ohrid", "Black Drin (Crni Drim)", "Drin"} <= names


def test_resen_on_prespa_drains_through_the_karst_link():
    import riskmap

    sites = gpd.GeoDataFrame({"site_id": ["resen"], "name": ["Resen"], "category": ["other"],
                              "coord_precision": ["town"], "country": ["MKD"]},
                             geometry=[Point(21.00885, 41.08999)], crs="EPSG:4326")
    out = riskmap.assess(sites, ["drin"]).iloc[0]
    assert out["basin"] == "drin"
    assert "ALB" in {c for e in out["downstream_countries"] for c in e.split("|")}


def test_greece_is_a_prespa_riparian_of_the_drin():
    meta = json.loads((DATA_DIR / "basins" / "basins.json").read_text(encoding="utf-8"))
    assert "GRC" in meta["drin"]["riparian"]
    countries = gpd.read_file(DATA_DIR / "basins" / "drin.gpkg", layer="countries")
    assert "GRC" in set(countries["iso3"])
    lakes = gpd.read_file(DATA_DIR / "basins" / "drin.gpkg", layer="lakes")
    assert "GRC" in lakes.loc[lakes["name"] == "Lake Prespa", "countries"].iloc[0].split("|")


def test_divide_buffer_cap_is_recorded():
    meta = json.loads((DATA_DIR / "basins" / "basins.json").read_text(encoding="utf-8"))
    # no divide buffer: the outlines are drawn between the mapped and the seeded neighbouring rivers
    assert meta["drin"]["divide_buffer_max_km"] == 0.05 and meta["drina"]["divide_buffer_max_km"] == 0.05


@pytest.mark.parametrize("name, lon, lat, basin", [
    ("Mitrovica (Ibar)", 20.86667, 42.88333, None),
    ("Vushtrri (Sitnica)", 20.9675, 42.82306, None),
    ("Uzice (Detinja)", 19.84878, 43.85861, None),
    ("Mavrovi Anovi (Radika)", 20.75723, 41.70224, "drin"),
    ("Valbone (Valbona)", 19.89167, 42.45139, "drin"),
    pytest.param("Sjenica (Uvac)", 19.99944, 43.27306, "drina", marks=pytest.mark.xfail(
        strict=True, reason="Vapa/upper Uvac missing from both river sources, no sourced point on them: 1.5 km outside")),
    # neighbour rivers missing from both river sources, seeded from sourced points (specs.toml neighbour_rivers)
    ("Rubik (Fan -> Mat)", 19.78611, 41.77444, None),
    ("Perrenjas (Shkumbin)", 20.54889, 41.07306, None),
    ("Rozaje (Ibar)", 20.16652, 42.83299, None),
    ("Kalesija (Spreca -> Bosna)", 18.90713, 44.43765, None),
    # the upper Moraca (DEM anchors from the SRTM tile) is Drin, not Tara/Lim
    ("Kolasin (Tara)", 19.51653, 42.82229, "drina"),
    # tributaries missing from both sources, anchored by sourced towns on them (basins.toml anchors):
    # the Bulqiza river flows east to the Black Drin; the Janja past Ugljevik to the Drina
    ("Bulqize chromium mining district (Bulqiza -> Black Drin)", 20.23, 41.49, "drin"),
    ("Ugljevik power station (Rastosnica -> Janja -> Drina)", 18.968516, 44.683446, "drina"),
    ("Klos (Mat)", 20.08722, 41.50694, None),
    # the Serbian Jadar is a Drina tributary seed line; the Sava-side lowland (Semberija, Macva) is seeded "other"
    ("Osecina (Jadar)", 19.60139, 44.37306, "drina"),
    ("Bijeljina (Semberija -> Sava)", 19.21437, 44.75874, None),
    ("Bogatic (Macva -> Zasavica -> Sava)", 19.48056, 44.8375, None),
    ("Janja (Janja -> Drina)", 19.24691, 44.66554, "drina"),
])
def test_town_divides(name, lon, lat, basin):
    """Town-precision places on both sides of the Drin/Drina divides (GeoNames coordinates)."""
    import riskmap

    sites = gpd.GeoDataFrame({"site_id": ["x"], "name": [name], "category": ["other"],
                              "coord_precision": ["town"]}, geometry=[Point(lon, lat)], crs="EPSG:4326")
    got = riskmap.assess(sites, ["drin", "drina"]).iloc[0]["basin"]
    assert (got if isinstance(got, str) else None) == basin


def test_upper_moraca_is_in_the_drin_not_the_drina():
    """The Moraca source area (SRTM DEM anchors): Drin, and the two outlines do not overlap."""
    drin = gpd.read_file(DATA_DIR / "basins" / "drin.gpkg", layer="outline").geometry.iloc[0]
    drina = gpd.read_file(DATA_DIR / "basins" / "drina.gpkg", layer="outline").geometry.iloc[0]
    assert drin.contains(Point(19.3733, 42.7517)) and not drina.contains(Point(19.3733, 42.7517))
    overlap = gpd.GeoSeries([drin.intersection(drina)], crs="EPSG:4326").to_crs(3035).area.iloc[0] / 1e6
    assert overlap < 5.0


def test_anchors_of_the_other_basin_are_other_seeds():
    """A Drin anchor is an 'other' seed of the Drina allocation and a Drin seed of the Drin's."""
    from riskmap.databuild.reference.outlines import anchor_seeds
    from riskmap.databuild.reference.specs import BASIN_SPECS

    class Net:
        crs = "EPSG:3035"
        tributary_lines: list = []

    drin, drina = BASIN_SPECS["drin"], BASIN_SPECS["drina"]
    _, lab_drina = anchor_seeds(Net(), drina, {"Drina main": 1, "Lim": 2, "Tara-Piva": 3})
    n_drin = len(drin.anchors)
    own = {lab: sum(a[0] == name for a in drina.anchors) for name, lab in (("Drina main", 1), ("Lim", 2))}
    assert n_drin > 30 and (lab_drina == 0).sum() == n_drin and own[2] >= 2
    assert all((lab_drina == lab).sum() == k for lab, k in own.items())
    _, lab_drin = anchor_seeds(Net(), drin, {"Black Drin": 1, "Drin main": 2, "Moraca-Skadar": 3,
                                              "White Drin": 4})
    assert (lab_drin > 0).sum() == n_drin and (lab_drin == 0).sum() == len(drina.anchors)


def test_neighbour_river_points_resolve(sources_dir):
    """Every neighbour river point comes from its source file; a bad reference is a clear error."""
    from riskmap._errors import RiskmapInputError
    from riskmap.databuild.reference.lines import neighbour_lines, resolve_points
    from riskmap.databuild.reference.specs import NEIGHBOUR_RIVERS

    refs = [r for _, rr, _ in NEIGHBOUR_RIVERS["western_balkans"] for r in rr if isinstance(r, str)]
    xy = resolve_points(sources_dir, refs)
    assert xy["grdc:6660500"] == pytest.approx((20.036667, 41.606251))  # GRDC Mat at Shoshaj
    assert xy["grand:3937"] == pytest.approx((20.651042, 42.938843), abs=1e-6)  # Gazivode (Ibar)
    assert all(18.0 < x < 21.5 and 40.9 < y < 45.0 for x, y in xy.values())
    assert xy["geonames:3191810"] == pytest.approx((19.4228, 44.94326), abs=1e-5)  # Ravnje on the Zasavica
    lines = neighbour_lines(sources_dir, "western_balkans", "EPSG:3035")
    # every line is a real stretch of valley (the shortest, Velika Obarska - Ostojicevo in the Semberija, is 8 km)
    assert len(lines) == len(NEIGHBOUR_RIVERS["western_balkans"]) and all(ln.length > 5_000 for ln in lines)
    # a (lon, lat) of a cited publication is used as given: the Tamnava line ends at its mouth near Drazevac
    names = [n for n, _, _ in NEIGHBOUR_RIVERS["western_balkans"]]
    tamnava = gpd.GeoSeries([lines[names.index("Tamnava")]], crs="EPSG:3035").to_crs("EPSG:4326").iloc[0]
    assert tamnava.coords[-1] == pytest.approx((20.2091, 44.5789), abs=1e-6)
    # ... and the Kolubara line starts at the Obnica-Jablanica confluence by Valjevo (de.wikipedia)
    kolubara = gpd.GeoSeries([lines[names.index("Kolubara (from Valjevo)")]], crs="EPSG:3035").to_crs("EPSG:4326").iloc[0]
    assert kolubara.coords[0] == pytest.approx((19.87056, 44.26139), abs=1e-6)
    with pytest.raises(RiskmapInputError, match="geonames:1"):
        resolve_points(sources_dir, ["geonames:1"])
    with pytest.raises(RiskmapInputError, match="expected geonames"):
        resolve_points(sources_dir, ["osm:5"])


@pytest.mark.slow
def test_srtm_moraca_against_the_cartographic_drin(sources_dir, tmp_path):
    """The SRTM tile N42E019 as the DEM builder's real-data test: the Moraca built from it.

    Facts of docs/hydrography.md ("SRTM tile"): its length is near the published 99-113 km, it holds
    Podgorica and the Zeta, not the Tara, Lim or Adriatic towns, and nearly all of it lies in the
    cartographic Drin (none in the Drina: the upper Moraca anchors).
    """
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "srtm_moraca.py"
    spec = importlib.util.spec_from_file_location("srtm_moraca", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.compare(mod.build(tmp_path))
    lo, hi = res["published_moraca_km"]
    assert 0.9 * lo <= res["dem_moraca_km"] <= 1.1 * hi, res["dem_moraca_km"]
    assert all(res["places"].values()), res["places"]
    assert res["share_in_carto_drin"] >= 0.95 and res["share_in_carto_drina"] <= 0.05, res
    assert 2000 <= res["dem_area_km2"] <= 3200  # Moraca at the lake 3,200 km2 incl. the Zeta beyond the tile
    # the cartographic Moraca is only its lower course (the upper Moraca is in neither source)
    assert res["carto_moraca_km"] < 0.5 * res["dem_moraca_km"]


def test_tributary_lines_seed_their_own_basin_only(sources_dir):
    """The Drinjaca and Jadar seed lines label Drina cells of their sub-basin and are 'other' seeds of the Drin."""
    from shapely import LineString

    from riskmap.databuild.reference.lines import tributary_lines
    from riskmap.databuild.reference.outlines import anchor_seeds
    from riskmap.databuild.reference.specs import BASIN_SPECS

    lines = tributary_lines(sources_dir, "western_balkans", "EPSG:4326")
    assert [(b, sb) for b, sb, _ in lines] == [("drina", "Drina main"), ("drina", "Drina main")]
    # Vlasenica (GeoNames 3187524) to the Drinjaca mouth in the Zvornik reservoir (de.wikipedia)
    assert lines[0][2].coords[0] == pytest.approx((18.94096, 44.18183), abs=1e-5)
    assert lines[0][2].coords[-1] == pytest.approx((19.15806, 44.28639), abs=1e-6)
    # the Jadar from its source on the Vlasic past Gornji Dobric and Kozjak to its mouth (en/de.wikipedia)
    assert lines[1][2].coords[0] == pytest.approx((19.65, 44.32472), abs=1e-6)
    assert lines[1][2].coords[1] == pytest.approx((19.30858, 44.58286), abs=1e-5)
    assert lines[1][2].coords[-1] == pytest.approx((19.30667, 44.68889), abs=1e-6)

    class Net:
        crs = "EPSG:3035"
        tributary_lines = [("drina", "Drina main", LineString([(5_000_000, 2_300_000), (5_030_000, 2_300_000)]))]

    drina_labels = {"Drina main": 1, "Lim": 2, "Tara-Piva": 3}
    _, lab_drina = anchor_seeds(Net(), BASIN_SPECS["drina"], drina_labels)
    _, lab_drin = anchor_seeds(Net(), BASIN_SPECS["drin"], {"Drin main": 1})
    n_line = len(lab_drina) - len(BASIN_SPECS["drina"].anchors) - len(BASIN_SPECS["drin"].anchors)
    assert n_line > 10  # sampled along the 30 km line
    assert (lab_drina == 1).sum() == n_line + sum(a[0] == "Drina main" for a in BASIN_SPECS["drina"].anchors)
    assert (lab_drin == 0).sum() == n_line + len(BASIN_SPECS["drina"].anchors)


def test_kladanj_drawn_in_without_being_a_seed():
    """Kladanj (on the upper Drinjaca) is not a point of any seed line, yet lies in the Drina outline."""
    from riskmap.databuild.reference.specs import BASIN_SPECS, NEIGHBOUR_RIVERS

    used = {p for _, pts, _ in BASIN_SPECS["drina"].tributary_lines for p in pts}
    used |= {p for _, pts, _ in NEIGHBOUR_RIVERS["western_balkans"] for p in pts}
    assert "geonames:3198126" not in used
    from riskmap.hydrography import load_basin

    outline = load_basin("drina").outline.union_all()
    assert outline.contains(shapely.Point(18.69274, 44.22669))
    assert not outline.contains(shapely.Point(18.58065, 44.1277))  # Olovo, on the Krivaja (-> Bosna)
    assert not outline.contains(shapely.Point(19.89821, 44.27513))  # Valjevo, on the Kolubara


def test_the_lakes_of_the_drin_lie_inside_its_outline():
    """Lake Prespa has no surface outflow; 53 km2 of it were outside the Drin before its shores were seeds."""
    import geopandas as gpd
    import shapely

    from riskmap import DATA_DIR

    path = DATA_DIR / "basins" / "drin.gpkg"
    outline = shapely.union_all(gpd.read_file(path, layer="outline").to_crs(32634).geometry.to_numpy())
    lakes = gpd.read_file(path, layer="lakes").to_crs(32634)
    for name, geom in zip(lakes["name"], lakes.geometry):
        assert geom.difference(outline).area < 1e6, name  # under 1 km2 outside
