"""Benchmark :func:`riskmap.export.export` against :func:`riskmap.exposure.assess`.

Random sites are drawn uniformly inside the three basin outlines (a third in
each, as ``benchmarks/bench_assess.py`` makes them), assessed, then exported
basin by basin (what ``riskmap export BASIN`` does) to CSV and to GeoPackage
(with the ``basin``, ``rivers`` and ``downstream_paths`` layers). Export times
are printed as ratios of the assess time measured in the same process, with
the peak resident memory of the process (``resource.getrusage`` maxrss).

Run::

    python benchmarks/bench_export.py            # 1M sites
    python benchmarks/bench_export.py 200000

Target (issue 13): each export within 2x the assess time, peak memory under 6 GB.
Measured 2026-11-27 on the shared 2-core machine (1M sites): assess 10.0 s, CSV export
11.5 s (1.15x), GeoPackage export 17.6 s (1.76x), peak RSS 2.31 GB. Before the fix
(one corridor per site, pandas' row writer) 200k sites took about 5 minutes and 5 GB.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_assess import load_basins, random_sites  # noqa: E402

warnings.simplefilter("ignore")


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # Linux: KiB


def main(n: int) -> None:
    from riskmap.export import export
    from riskmap.exposure import assess

    basins = load_basins()
    assess(random_sites(basins, 30, seed=99), basins)  # index build, once per process
    pts = random_sites(basins, n)
    pts["name"] = "site " + pts["site_id"]  # a text column, as every real inventory has
    print(f"{n:,} sites; peak memory after drawing them: {_peak_gb():.2f} GB")
    t = time.perf_counter()
    out = assess(pts, basins)
    t_assess = time.perf_counter() - t
    print(f"assess: {t_assess:.1f} s; peak {_peak_gb():.2f} GB")
    del pts
    with tempfile.TemporaryDirectory(prefix="riskmap-bench-") as tmp:
        for fmt in ("csv", "gpkg"):
            t = time.perf_counter()
            size = 0
            for b in basins:
                sub = out[out["basin"] == b.id]
                p = export(sub, Path(tmp) / f"{b.id}.{fmt}", basin=b)
                size += p.stat().st_size
            dt = time.perf_counter() - t
            print(f"export {fmt:>4}: {dt:.1f} s = {dt / t_assess:.2f}x assess; {size / 1e6:,.0f} MB written; "
                  f"peak {_peak_gb():.2f} GB")
    print(f"peak memory of the whole run: {_peak_gb():.2f} GB (target < 6 GB; exports < 2x assess)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
