"""Benchmark riskmap.maps: HTML size and time to interactive for 10 000 sites.

Builds (in this process) a basemap-only map of the synthetic basin as the
baseline and the same map with N synthetic sites (clustered), saves both as
self-contained HTML, opens each in headless chromium with the network blocked
and measures the time from navigation start until the markers are rendered
(``RISKMAP_MAPS[0].ready`` and marker/cluster icons in the DOM), as the
in-page ``performance.now()`` (median of ``--repeat`` loads).

Targets: HTML < 5 MB, time to interactive < 3 s.

Usage::

    python benchmarks/bench_map.py [--sites 10000] [--repeat 3]

Writes ``test-artifacts/bench_map_<N>.png`` (screenshot of the N-site map).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fixtures.maps import many_sites, synthetic_basin  # noqa: E402

from riskmap import maps  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
READY = ("window.RISKMAP_MAPS && RISKMAP_MAPS.length && RISKMAP_MAPS[0].ready && "
         "(RISKMAP_MAPS[0].markers.length === 0 || document.querySelectorAll('.leaflet-marker-icon').length > 0)")


def _time_to_interactive(browser, path: Path, repeat: int, shot: Path | None = None) -> tuple[float, int]:
    times, blocked = [], []
    for k in range(repeat):
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                   else (blocked.append(r.request.url), r.abort()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri(), wait_until="commit")
        page.wait_for_function(READY, timeout=60000, polling=20)
        times.append(page.evaluate("performance.now()") / 1000)
        if errors:
            raise SystemExit(f"page errors in {path.name}: {errors}")
        if shot is not None and k == 0:
            page.screenshot(path=str(shot))
        page.close()
    return statistics.median(times), len(blocked)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    basin = synthetic_basin()
    sites = many_sites(args.sites)
    out = Path(tempfile.mkdtemp(prefix="riskmap-bench-"))
    art = ROOT / "test-artifacts"
    art.mkdir(exist_ok=True)

    rows = []
    for label, s in (("baseline (basemap only)", None), (f"{args.sites} sites", sites)):
        t0 = time.perf_counter()
        m = maps.basin_map(basin, s)
        path = maps.save_map(m, out / f"map_{'base' if s is None else args.sites}.html")
        build_s = time.perf_counter() - t0
        rows.append((label, path, build_s, path.stat().st_size / 1e6, m._riskmap_info.get("clustered", False)))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        results = []
        for label, path, build_s, mb, clustered in rows:
            shot = art / f"bench_map_{args.sites}.png" if "sites" in label else None
            tti, blocked = _time_to_interactive(browser, path, args.repeat, shot)
            results.append((label, mb, build_s, tti, blocked, clustered))
        browser.close()

    print(f"{'map':28s} {'HTML MB':>8s} {'build s':>8s} {'TTI s':>7s} {'blocked':>8s} clustered")
    for label, mb, build_s, tti, blocked, clustered in results:
        print(f"{label:28s} {mb:8.2f} {build_s:8.2f} {tti:7.2f} {blocked:8d} {clustered}")
    label, mb, _, tti, blocked, _ = results[-1]
    base_tti = results[0][3]
    print(f"\n{label}: {mb:.2f} MB (target < 5), time to interactive {tti:.2f} s "
          f"(target < 3; baseline {base_tti:.2f} s, sites add {tti - base_tti:.2f} s); "
          f"network requests blocked: {blocked}")
    print(f"screenshot: {art / f'bench_map_{args.sites}.png'}")
    if mb >= 5 or tti >= 3 or blocked:
        raise SystemExit("target missed")


if __name__ == "__main__":
    main()
