"""The SRTM tile N42E019 as the real-data test of the DEM builder (issue 15 item 3).

Builds the Moraca basin from the SRTM 3" tile (outlet where the cartographic Moraca enters Lake
Skadar, streams from 20 km2, cut by the tile's west edge on the Zeta side) into a temporary folder
and compares it with the bundled cartographic Drin and Drina: where the DEM Moraca basin falls,
the IoU with the cartographic Moraca-Skadar sub-basin inside the tile, the main-stem lengths and
which places it holds. Prints the table of ``docs/hydrography.md``::

    PYTHONPATH=. python benchmarks/srtm_moraca.py [--json out.json]
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import Point

from riskmap._geo import geodesic_area_km2
from riskmap._paths import DATA_DIR, default_sources_dir

#: Outlet: the downstream end of the cartographic Moraca at the Lake Skadar shore.
OUTLET = (19.117, 42.289)
STREAM_KM2 = 20.0
#: Published Moraca length (km): 99.5 (Montenegrin statistics) to 113 (older sources).
MORACA_KM = (99.0, 113.0)
#: (name, lon, lat, in the Moraca basin): GeoNames cities500 coordinates.
PLACES = [
    ("Podgorica", 19.26309, 42.44124, True),
    ("Danilovgrad (Zeta)", 19.14608, 42.55384, True),
    ("Kolasin (Tara)", 19.51653, 42.82229, False),
    ("Andrijevica (Lim)", 19.79194, 42.73389, False),
    ("Gusinje (Lim)", 19.83389, 42.56194, False),
    ("Sutomore (Adriatic)", 19.04667, 42.14278, False),
    ("Koplik (Lake Skadar, not the Moraca)", 19.43639, 42.21361, False),
]


def _km2(g) -> float:
    return float(geodesic_area_km2(gpd.GeoSeries([g], crs="EPSG:4326"))[0])


def main_stem(reaches: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reaches from the outlet upstream, always taking the upstream reach with the largest area."""
    ids = [int(reaches.loc[reaches["upland_km2"].idxmax(), "reach_id"])]
    while True:
        up = reaches[reaches["downstream_id"] == ids[-1]]
        if not len(up):
            break
        ids.append(int(up.loc[up["upland_km2"].idxmax(), "reach_id"]))
    return reaches.set_index("reach_id").loc[ids]


def build(out: Path) -> Path:
    """The DEM Moraca basin GeoPackage (written under ``out``)."""
    from riskmap.databuild.dem import build_from_dem

    tile = default_sources_dir() / "srtm3-n42e019" / "N42E019.hgt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the basin is cut by the tile's west edge (Zeta): expected
        return build_from_dem([tile], outlet=OUTLET, name="moraca_dem", stream_km2=STREAM_KM2,
                              data_dir=out, allow_partial=True, display_name="Moraca (SRTM)")


def compare(gpkg: Path, basins: Path = DATA_DIR / "basins") -> dict[str, Any]:
    """Comparison figures of the DEM Moraca basin against the bundled cartographic reference."""
    dem = gpd.read_file(gpkg, layer="outline").geometry.iloc[0]
    r = gpd.read_file(gpkg, layer="reaches")
    drin = gpd.read_file(basins / "drin.gpkg", layer="outline").geometry.iloc[0]
    drina = gpd.read_file(basins / "drina.gpkg", layer="outline").geometry.iloc[0]
    subs = gpd.read_file(basins / "drin.gpkg", layer="sub_basins")
    ms = subs.loc[subs["sub_basin"] == "Moraca-Skadar"].geometry.iloc[0].intersection(shapely.box(19, 42, 20, 43))
    carto = gpd.read_file(basins / "drin.gpkg", layer="reaches")
    stem = main_stem(r)
    zeta_at = stem.index[stem["upland_km2"] < 0.5 * stem["upland_km2"].iloc[0]][0]  # first reach above the Zeta
    above = stem.loc[zeta_at:]
    a = _km2(dem)
    return {
        "dem_area_km2": round(a),
        "share_in_carto_drin": round(_km2(dem.intersection(drin)) / a, 3),
        "share_in_carto_drina": round(_km2(dem.intersection(drina)) / a, 3),
        "iou_moraca_skadar_in_tile": round(_km2(dem.intersection(ms)) / _km2(dem.union(ms)), 3),
        "dem_moraca_km": round(float(stem["length_km"].sum()), 1),
        "dem_moraca_above_zeta_km": round(float(above["length_km"].sum()), 1),
        "carto_moraca_km": round(float(carto.loc[(carto["name"] == "Moraca") & carto["waterbody"].isna(),
                                                 "length_km"].sum()), 1),
        "carto_zeta_km": round(float(carto.loc[carto["name"] == "Zeta", "length_km"].sum()), 1),
        "published_moraca_km": list(MORACA_KM),
        "places": {n: bool(dem.contains(Point(x, y))) == inside for n, x, y, inside in PLACES},
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        res = compare(build(Path(tmp)))
    for k, v in res.items():
        print(f"{k:28s} {v}")
    if "--json" in sys.argv:
        Path(sys.argv[sys.argv.index("--json") + 1]).write_text(json.dumps(res, indent=2) + "\n")
