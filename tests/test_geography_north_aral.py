"""Aralsk and the North Aral Sea's direct shore (issue 15, item 2; docs/accuracy.md "Probed as a user").

The North Aral Sea is the Syr Darya's terminal lake, so Aralsk on its north-east shore belongs to the
Syr Darya basin. The bundled outline does not hold the lake's direct shore yet (no cited Kokaral dike
line to split Natural Earth's single Aral Sea polygon, no DEM west of 66.14 E): today Aralsk is kept
and stated outside every basin, and the right answer is a strict xfail that turns into a failure when
the outline is extended, so the docs are updated with it.

Aralsk is not in the GeoNames extract (its Syr Darya box stops at 46.1 N); its coordinates are copied
from Natural Earth 10m populated places ("Aral", ``natural-earth-10m-populated-places``).
"""

from __future__ import annotations

import pytest

from fixtures import places as G

ARALSK = {"name": "Aral", "country": "KAZ", "lon": 61.666613, "lat": 46.799972}


def _natural_earth_aralsk(sources_dir):
    import geopandas as gpd

    path = sources_dir / "natural-earth-10m-populated-places" / "ne10m_populated_places_central_asia.gpkg"
    if not path.is_file():
        pytest.skip(f"{path} not available")
    g = gpd.read_file(path)
    return g[(g["name"] == ARALSK["name"]) & (g["adm0_a3"] == ARALSK["country"])]


@pytest.fixture(scope="module")
def aralsk():
    import pandas as pd

    from riskmap.exposure import assess

    basins = G.load_bundled()
    if basins is None:
        pytest.skip("reference hydrography (data/basins) not built")
    place = pd.DataFrame([{**ARALSK, "coord_precision": "town", "source": "naturalearth", "source_id": "Aral"}])
    out = assess(G.places_frame(place), list(basins.values()))
    assert len(out) == 1  # never dropped
    return out.iloc[0]


def test_coordinates_are_natural_earths(sources_dir):
    hit = _natural_earth_aralsk(sources_dir)
    assert len(hit) == 1
    pt = hit.geometry.iloc[0]
    assert (pt.x, pt.y) == pytest.approx((ARALSK["lon"], ARALSK["lat"]), abs=1e-6)


def test_aralsk_is_kept_and_stated_outside_today(aralsk):
    import pandas as pd

    assert pd.isna(aralsk["basin"]) or aralsk["basin"] == ""  # no basin, stated, not a wrong one
    assert aralsk["exposure_class"] == "outside"


@pytest.mark.xfail(strict=True, reason="the Syr Darya outline stops 63 km short of Aralsk: the North Aral "
                                       "Sea's direct shore is not in it (docs/accuracy.md)")
def test_aralsk_drains_to_the_north_aral_sea_of_the_syr_darya(aralsk):
    assert aralsk["basin"] == "syr_darya"
    assert G.foreign_order(aralsk["downstream_countries"], "KAZ") == []
