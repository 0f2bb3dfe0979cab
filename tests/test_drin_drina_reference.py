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
    assert meta["drin"]["divide_buffer_max_km"] == 3.0 and meta["drina"]["divide_buffer_max_km"] == 3.0


@pytest.mark.parametrize("name, lon, lat, basin", [
    ("Mitrovica (Ibar)", 20.86667, 42.88333, None),
    ("Vushtrri (Sitnica)", 20.9675, 42.82306, None),
    ("Uzice (Detinja)", 19.84878, 43.85861, None),
    ("Mavrovi Anovi (Radika)", 20.75723, 41.70224, "drin"),
    ("Valbone (Valbona)", 19.89167, 42.45139, "drin"),
    ("Sjenica (Uvac)", 19.99944, 43.27306, "drina"),
])
def test_town_divides(name, lon, lat, basin):
    """Town-precision places on both sides of the Drin/Drina divides (GeoNames coordinates)."""
    import riskmap

    sites = gpd.GeoDataFrame({"site_id": ["x"], "name": [name], "category": ["other"],
                              "coord_precision": ["town"]}, geometry=[Point(lon, lat)], crs="EPSG:4326")
    got = riskmap.assess(sites, ["drin", "drina"]).iloc[0]["basin"]
    assert (got if isinstance(got, str) else None) == basin
