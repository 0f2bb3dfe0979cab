"""Benchmark :func:`riskmap.exposure.downstream_population` on random sites in the three basins.

Run::

    python benchmarks/bench_population.py            # 10k and 100k sites
    python benchmarks/bench_population.py 50000

Sites are drawn uniformly inside the outlines (a third per basin) and assessed first (not timed); the
population step is then timed twice (the second run reuses the cached projected reaches).
Measured on the shared 2-core machine (2026-11-27): 91,766 sites in about 5 s.
"""

from __future__ import annotations

import sys
import time
import warnings

import geopandas as gpd
import numpy as np
import shapely

warnings.simplefilter("ignore")


def main(sizes: list[int]) -> None:
    from riskmap.exposure import assess, downstream_population
    from riskmap.hydrography import load_basin

    basins = [load_basin(b) for b in ("drin", "drina", "syr_darya")]
    rng = np.random.default_rng(0)
    for n in sizes:
        pts = []
        for b in basins:
            o = b.outline.to_crs("EPSG:4326").union_all()
            x0, y0, x1, y1 = o.bounds
            p = shapely.points(rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n))
            pts += list(p[shapely.contains(o, p)][: n // 3])
        g = gpd.GeoDataFrame({"site_id": range(len(pts)), "name": "x", "category": "mine", "country": None},
                             geometry=pts, crs="EPSG:4326")
        a = assess(g)
        for run in (1, 2):
            t, c = time.perf_counter(), time.process_time()
            downstream_population(a)
            print(f"{len(g):>8} sites, run {run}: {time.perf_counter() - t:6.2f} s wall, "
                  f"{time.process_time() - c:6.2f} s cpu")


if __name__ == "__main__":
    main([int(x) for x in sys.argv[1:]] or [10_000, 100_000])
