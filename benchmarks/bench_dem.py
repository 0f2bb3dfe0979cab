"""Benchmark ``riskmap data build-from-dem`` on real DEMs (issue 15 targets).

- the 1-degree SRTM 3" tile N42E019 (Moraca / Lake Skadar, outlet at the Skadar outflow): target <= 30 s;
- the GEBCO 2023 15" grid of the upper and middle Syr Darya (outlet where the Syr Darya leaves the
  grid at 66.14 E, streams from 300 km2): target <= 2 min;
- ``bundled``: ``riskmap data build-reference`` as bundled (cartographic reference, then the Syr Darya
  from GEBCO joined to the cartographic lower course; :func:`riskmap.databuild.dem.build_bundled`)
  against the cartographic reference alone in the same process (baseline): the Syr Darya DEM step is
  the difference (target <= 2 min).

Run::

    python benchmarks/bench_dem.py            # both
    python benchmarks/bench_dem.py srtm       # one of them
    python benchmarks/bench_dem.py bundled    # the bundled data/basins rebuild vs the reference alone

The first run in a fresh environment also compiles pyflwdir's numba functions (cached on disk
afterwards); the figure printed is the second of two runs. Output goes to a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

from riskmap._paths import default_sources_dir
from riskmap.databuild.dem import build_from_dem
from riskmap.hydrography import load_basin

CASES = {
    "srtm": ("srtm3-n42e019/N42E019.hgt", (19.47, 42.07), 100.0, 30.0),
    "gebco": ("gebco-2023-15s-syr-darya/gebco_2023_15s_syr_darya.tif", (66.15, 44.427), 300.0, 120.0),
}


def run(case: str) -> float:
    rel, outlet, km2, target = CASES[case]
    dem = default_sources_dir() / rel
    if not dem.is_file():
        dem = Path("/work/shared/data/sources") / rel
    times = []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            build_from_dem([dem], outlet=outlet, name=case, data_dir=d, stream_km2=km2, allow_partial=True)
            times.append(time.perf_counter() - t)
            b = load_basin(case, d)
    print(f"{case}: {times[-1]:.1f} s (first run {times[0]:.1f} s; target <= {target:.0f} s), "
          f"{b.outline['area_km2'].iloc[0]:,.0f} km2, {len(b.reaches)} reaches")
    return times[-1]


def run_bundled() -> float:
    """Seconds of the Syr Darya DEM step of the bundled rebuild (bundled minus reference-only)."""
    from riskmap.databuild.dem import build_bundled
    from riskmap.databuild.reference import build_reference

    src = default_sources_dir()
    if not (src / CASES["gebco"][0]).is_file():
        src = Path("/work/shared/data/sources")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        build_reference(src, Path(d) / "ref" / "basins", plots=False)
        base = time.perf_counter() - t
        t = time.perf_counter()
        build_bundled(src, Path(d) / "bundled" / "basins", plots=False)
        full = time.perf_counter() - t
    print(f"bundled: {full:.1f} s = reference {base:.1f} s (baseline, same process) x {full / base:.2f}; "
          f"the Syr Darya DEM step {full - base:.1f} s (target <= 120 s)")
    return full - base


if __name__ == "__main__":
    for c in sys.argv[1:] or list(CASES):
        run_bundled() if c == "bundled" else run(c)
