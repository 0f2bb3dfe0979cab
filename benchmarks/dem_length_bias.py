"""River-length bias of the cartographic Syr Darya against the DEM-derived one (issue 15 item 4).

Both networks are walked down from Naryn town; towns on the Naryn / Syr Darya main stem (GeoNames
cities500 coordinates) are projected onto each main stem and the river km between consecutive towns
compared. The DEM network (GEBCO 15", D8 cell-centre polylines) is built into a temporary folder.

Run::

    python benchmarks/dem_length_bias.py

Caveat: D8 polylines join cell centres in 8 directions and overstate a straight valley by up to ~8 %;
generalised 1:10m lines cut meanders. The ratio is therefore a bound on the cartographic shortfall,
not an exact figure.
"""

from __future__ import annotations

import tempfile
import warnings

import numpy as np
import shapely

from riskmap.databuild.dem import build_from_dem, join_downstream
from riskmap.hydrography import load_basin

GEBCO = "/work/shared/data/sources/gebco-2023-15s-syr-darya/gebco_2023_15s_syr_darya.tif"
#: GeoNames cities500 (lon, lat), upstream to downstream
TOWNS = [("Naryn", (75.9957, 41.4283)), ("Kazarman", (74.02828, 41.40452)), ("Tash-Kumyr", (72.21707, 41.34612)),
         ("Khujand", (69.62216, 40.28256)), ("Bekobod", (69.26972, 40.22083)), ("Chinoz", (68.76128, 40.93633)),
         ("Shardara", (67.96991, 41.25832))]


def stem_km(b) -> list[float]:
    """River km to the outlet of each town, projected onto the main stem below Naryn town."""
    r = b.reaches
    lon, lat = TOWNS[0][1]
    rp = r.to_crs(f"+proj=aeqd +lat_0={lat} +lon_0={lon}")
    start = int(r["reach_id"].iloc[int(np.argmin(rp.distance(shapely.Point(0, 0)).to_numpy()))])
    path = b.downstream_path(start)
    stem = r.set_index("reach_id").loc[path["reach_id"]]
    out = []
    for _, (x, y) in TOWNS:
        sp = stem.to_crs(f"+proj=aeqd +lat_0={y} +lon_0={x}")
        d = sp.distance(shapely.Point(0, 0)).to_numpy()
        i = int(np.argmin(d))
        g = sp.geometry.iloc[i]
        frac = g.project(shapely.Point(0, 0)) / g.length
        out.append(float(stem["dist_to_outlet_km"].iloc[i] + (1 - frac) * stem["length_km"].iloc[i]))
    return out


def main() -> None:
    cart = load_basin("syr_darya")
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_from_dem([GEBCO], outlet=(66.15, 44.427), name="sd_dem", data_dir=d, stream_km2=300.0,
                       allow_partial=True)
        join_downstream("sd_dem", "syr_darya", data_dir=d)
        dem = load_basin("sd_dem", d)
        kc, kd = stem_km(cart), stem_km(dem)
    print(f"{'stretch':28s} {'cartographic km':>16s} {'DEM km':>8s} {'carto/DEM':>10s}")
    ratios = []
    for i in range(len(TOWNS) - 1):
        c, m = kc[i] - kc[i + 1], kd[i] - kd[i + 1]
        ratios.append(c / m)
        print(f"{TOWNS[i][0] + ' - ' + TOWNS[i + 1][0]:28s} {c:16.1f} {m:8.1f} {c / m:10.2f}")
    c, m = kc[0] - kc[-1], kd[0] - kd[-1]
    print(f"{'Naryn - Shardara (total)':28s} {c:16.1f} {m:8.1f} {c / m:10.2f}")
    print(f"median stretch ratio {np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
