"""A small synthetic basin following the reference-hydrography contract.

Three made-up countries AAA (west of 20.4E), BBB (south-east, below 43.25N)
and CCC (north-east). The main river runs east along 43.1N through AAA into
BBB, turns north, follows the BBB|CCC border along 43.25N (with a shared lake
on it) and ends in CCC; a CCC tributary joins at the start of the border
stretch.

    r1 AAA  (20.05,43.10) -> (20.40,43.10)
    r2 BBB  (20.40,43.10) -> (20.60,43.10)
    r3 BBB  (20.60,43.10) -> (20.60,43.25)
    r6 CCC  (20.50,43.45) -> (20.60,43.25)      tributary, joins r4
    r4 BBB|CCC (20.60,43.25) -> (20.90,43.25)   border stretch
    r5 CCC  (20.90,43.25) -> (20.95,43.45)      outlet reach
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString, MultiLineString, Point, box

from riskmap._geo import geodesic_length_km
from riskmap.hydrography import Basin

CRS = "EPSG:4326"

REACHES = [  # reach_id, downstream_id, name, country, is_border, sub_basin, order, coords
    (1, 2, "Toy", "AAA", False, "West", 1, [(20.05, 43.10), (20.40, 43.10)]),
    (2, 3, "Toy", "BBB", False, "East", 1, [(20.40, 43.10), (20.60, 43.10)]),
    (3, 4, "Toy", "BBB", False, "East", 1, [(20.60, 43.10), (20.60, 43.25)]),
    (4, 5, "Toy", "BBB|CCC", True, "East", 2, [(20.60, 43.25), (20.90, 43.25)]),
    (5, -1, "Toy", "CCC", False, "East", 2, [(20.90, 43.25), (20.95, 43.45)]),
    (6, 4, "Trib", "CCC", False, "East", 1, [(20.50, 43.45), (20.60, 43.25)]),
]

META = {
    "name": "Toy",
    "riparian": ["AAA", "BBB", "CCC"],
    "outlet": [20.95, 43.45],
    "continuation": [{"water": "Big River", "countries": ["CCC"]}, {"water": "Sea", "countries": []}],
}


def _reaches() -> gpd.GeoDataFrame:
    rows = []
    for rid, down, name, c, border, sub, order, coords in REACHES:
        rows.append({"reach_id": rid, "downstream_id": down, "name": name, "country": c,
                     "is_border": border, "sub_basin": sub, "order": order,
                     "waterbody": "Toy Lake" if rid == 4 else None, "geometry": LineString(coords)})
    g = gpd.GeoDataFrame(rows, crs=CRS)
    g["length_km"] = geodesic_length_km(g.geometry)
    length = dict(zip(g.reach_id, g.length_km))
    down = dict(zip(g.reach_id, g.downstream_id))

    def dto(r: int) -> float:
        d = down[r]
        return 0.0 if d == -1 else length[d] + dto(d)

    g["dist_to_outlet_km"] = [dto(r) for r in g.reach_id]
    return g


def make_basin() -> Basin:
    """Build the synthetic basin in memory."""
    outline = gpd.GeoDataFrame({"basin": ["toy"], "name": ["Toy"], "area_km2": [np.nan]},
                               geometry=[box(20.0, 43.0, 21.0, 43.5)], crs=CRS)
    subs = gpd.GeoDataFrame({"basin": ["toy", "toy"], "sub_basin": ["West", "East"],
                             "area_km2": [np.nan, np.nan]},
                            geometry=[box(20.0, 43.0, 20.4, 43.5), box(20.4, 43.0, 21.0, 43.5)], crs=CRS)
    countries = gpd.GeoDataFrame(
        {"iso3": ["AAA", "BBB", "CCC"], "name": ["Aland", "Bland", "Cland"],
         "area_km2_in_basin": [np.nan] * 3},
        geometry=[box(19.5, 42.5, 20.4, 44.0), box(20.4, 42.5, 21.5, 43.25), box(20.4, 43.25, 21.5, 44.0)],
        crs=CRS)
    borders = gpd.GeoDataFrame(
        {"iso3_a": ["AAA", "AAA", "BBB"], "iso3_b": ["BBB", "CCC", "CCC"],
         "border_class": ["international"] * 3},
        geometry=[MultiLineString([[(20.4, 42.5), (20.4, 43.25)]]),
                  MultiLineString([[(20.4, 43.25), (20.4, 44.0)]]),
                  MultiLineString([[(20.4, 43.25), (21.5, 43.25)]])], crs=CRS)
    lakes = gpd.GeoDataFrame({"name": ["Toy Lake"], "kind": ["lake"], "countries": ["BBB|CCC"],
                              "shared": [True]}, geometry=[box(20.70, 43.23, 20.80, 43.27)], crs=CRS)
    towns = gpd.GeoDataFrame({"name": ["Atown"], "country": ["AAA"], "population": [np.nan],
                              "source": ["synthetic"]}, geometry=[Point(20.1, 43.05)], crs=CRS)
    return Basin(name="Toy", id="toy", outline=outline, sub_basins=subs, reaches=_reaches(),
                    lakes=lakes, countries=countries, borders=borders, towns=towns, meta=dict(META))


def write_basin(data_dir: Path) -> Path:
    """Write the synthetic basin as ``basins/toy.gpkg`` + ``countries.gpkg`` + ``basins.json``."""
    b = make_basin()
    d = Path(data_dir) / "basins"
    d.mkdir(parents=True, exist_ok=True)
    for layer in ("outline", "sub_basins", "reaches", "lakes", "countries", "borders", "towns"):
        getattr(b, layer).to_file(d / "toy.gpkg", layer=layer, driver="GPKG")
    b.countries[["iso3", "name", "geometry"]].to_file(d / "countries.gpkg", layer="countries", driver="GPKG")
    b.borders.to_file(d / "countries.gpkg", layer="borders", driver="GPKG")
    (d / "basins.json").write_text(json.dumps({"toy": META}), encoding="utf-8")
    return d


def sites(points: list[tuple[float, float]], countries: list[str | None] | None = None) -> gpd.GeoDataFrame:
    """A minimal site frame at the given lon/lat points."""
    n = len(points)
    return gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(n)], "name": [f"site {i}" for i in range(n)],
         "category": ["mine"] * n,
         "country": pd.Series(countries if countries is not None else [None] * n, dtype=object)},
        geometry=[Point(p) for p in points], crs=CRS)


def load_real_basin(bid: str):
    """The bundled basin via ``riskmap.hydrography.load_basin``, or read straight from the
    GeoPackage while that module is not there yet; None when the data are missing."""
    from riskmap._paths import DATA_DIR

    d = DATA_DIR / "basins"
    if not (d / f"{bid}.gpkg").exists():
        return None
    try:
        from riskmap.hydrography import load_basin
    except ImportError:
        load_basin = None
    if load_basin is not None:
        return load_basin(bid)
    layers = {lay: gpd.read_file(d / f"{bid}.gpkg", layer=lay)
              for lay in ("outline", "sub_basins", "reaches", "lakes", "countries", "borders", "towns")}
    meta = {}
    if (d / "basins.json").exists():
        meta = json.loads((d / "basins.json").read_text(encoding="utf-8")).get(bid, {})
    return Basin(name=meta.get("name", bid), id=bid, meta=meta, **layers)
