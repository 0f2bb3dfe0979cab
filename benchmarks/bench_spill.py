"""Benchmark :func:`riskmap.spill.simulate_spill` (one scenario) and the ``--all BASIN`` batch.

Run::

    python benchmarks/bench_spill.py             # the five worked sites, then the batch of each basin
    python benchmarks/bench_spill.py 20          # batch of the top 20 priority sites per basin

One scenario: the site is located (``locate_release``, with ``assess``) and the
basin loaded once (not timed, a warm-up run); then ``simulate_spill`` is timed
as the median of 5 runs. The baseline in the same process is the pre-issue-16
model (literature stations scaled by channel length, passed as a user table)
on the same release, so the ratio shows what the gauged hydrology, lake transit
and ranges cost, independent of the machine's load.

Batch: ``priority_sites`` (assess + score + rank, timed separately) and
``simulate_batch`` over them (timed).
"""

from __future__ import annotations

import statistics
import sys
import time
import warnings

warnings.simplefilter("ignore")

SITES = {
    "Mailuu-Suu": "lit-mailuu-suu-uranium-tailings-and-waste-dumps",
    "Pljevlja": "gem-gcpt-L100000103049",
    "KAP Podgorica": "lit-kap-aluminium-plant-red-mud-basins-podgorica",
    "Stolice": "lit-stolice-antimony-mine-tailings-kostajnik-krupanj",
    "Almalyk": "lit-almalyk-mining-and-metallurgical-complex-ammc",
}


def _median_time(fn, n: int = 5) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main(top: int) -> None:
    from riskmap import spill as sp
    from riskmap.params import load_discharge_table

    legacy = load_discharge_table()
    print(f"{'site':15s} {'checkpoints':>11s} {'scenario s':>10s} {'baseline s':>10s} {'ratio':>6s}")
    for label, sid in SITES.items():
        site, basin = sp.locate_release(sid)
        res = sp.simulate_spill(site, "10t", basin=basin)  # warm-up: basin, gauges, places
        sp.simulate_spill(site, "10t", basin=basin, discharge=legacy)
        t_new = _median_time(lambda s=site, b=basin: sp.simulate_spill(s, "10t", basin=b))
        t_old = _median_time(lambda s=site, b=basin: sp.simulate_spill(s, "10t", basin=b, discharge=legacy))
        print(f"{label:15s} {len(res.checkpoints):11d} {t_new:10.3f} {t_old:10.3f} {t_new / t_old:6.2f}")
    for basin in ("drin", "drina", "syr_darya"):
        t = time.perf_counter()
        sites = sp.priority_sites(basin, top)
        t_sel = time.perf_counter() - t
        t = time.perf_counter()
        out = sp.simulate_batch(sites, "10t")
        t_batch = time.perf_counter() - t
        print(f"--all {basin:10s}: {len(sites)} sites, selection {t_sel:.1f} s, spills {t_batch:.2f} s "
              f"({t_batch / max(len(sites), 1):.3f} s/site), errors {int(out['error'].notna().sum())}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
