"""Open riskmap's saved HTML maps in headless chromium with the network blocked.

One browser per module. Every request other than ``file:`` and ``data:`` is
blocked and counted (the count must be 0). Checks: no page errors, Leaflet
loaded, the expected number of site markers and river paths, a click on a
site opens its popup with the right name, the downstream path and border
crossing appear, hostile names stay text (no element, no dialog), the search
box finds sites. Screenshots go to ``test-artifacts/``.

Without chromium or Playwright the tests skip, except in CI (``CI`` set)
where they fail.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from riskmap import maps
from riskmap import DATA_DIR

from fixtures.maps import XSS_IMG, XSS_SCRIPT, synthetic_basin, synthetic_sites  # builders for _basin_and_sites

pytestmark = pytest.mark.browser

BASINS = ("drin", "drina", "syr_darya")


def _real_data_available(basin_id: str) -> bool:
    return ((DATA_DIR / "basins" / f"{basin_id}.gpkg").is_file()
            and importlib.util.find_spec("riskmap.hydrography") is not None)


class Page:
    """A page with all network blocked and every error and dialog recorded."""

    def __init__(self, browser, path: Path, width: int = 1200, height: int = 800):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.RISKMAP_MAPS && RISKMAP_MAPS.length && RISKMAP_MAPS[0].ready",
                                    timeout=15000)

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def js(self, expr: str):
        return self.page.evaluate(expr)

    def run(self, statement: str) -> None:
        """Run JS for its effect (never serialise a returned Leaflet object: that is slow)."""
        self.page.evaluate(f"() => {{ {statement}; }}")

    def close_popup(self) -> None:
        """Close the open popup and wait for its fade-out (it would catch the next click)."""
        self.run("RISKMAP_MAPS[0].map.closePopup()")
        self.page.wait_for_function("!document.querySelector('.leaflet-popup')", timeout=5000)

    def open_site(self, i: int) -> str:
        """Open site i's popup by a real click on its marker (shown first when clustered)."""
        self.close_popup()
        if self.js("!!RISKMAP_MAPS[0].groups.sites.zoomToShowLayer"):
            self.js(f"new Promise(r => RISKMAP_MAPS[0].groups.sites.zoomToShowLayer("
                    f"RISKMAP_MAPS[0].markers[{i}], r))")
            self.close_popup()
        self.run(f"RISKMAP_MAPS[0].map.panTo(RISKMAP_MAPS[0].markers[{i}].getLatLng(), {{animate: false}})")
        self.run(f"RISKMAP_MAPS[0].markers[{i}].setZIndexOffset(100000)")  # above overlapping neighbours
        icon = self.page.evaluate_handle(f"RISKMAP_MAPS[0].markers[{i}]._icon").as_element()
        assert icon is not None, f"marker {i} has no icon in the DOM"
        box = icon.bounding_box()
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self.run(f"RISKMAP_MAPS[0].markers[{i}].setZIndexOffset(0)")
        self.page.wait_for_function(
            f"(p => p && p.isOpen() && p._source && p._source.options.riskmapIndex === {i})"
            "(RISKMAP_MAPS[0].map._popup)", timeout=5000)
        return self.js("RISKMAP_MAPS[0].map._popup.getElement().querySelector('.rm-title').textContent")

    def close(self):
        self.page.close()

    def assert_clean(self):
        assert self.blocked == [], f"network requests attempted: {self.blocked[:5]}"
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.dialogs == [], f"dialogs fired: {self.dialogs}"


def _no_injected_elements(pg: Page) -> None:
    assert pg.js("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert pg.js("Array.from(document.scripts).filter(s => s.textContent.trim() === 'alert(2)').length") == 0


@pytest.fixture(scope="module")
def synthetic_html(tmp_path_factory):
    path = tmp_path_factory.mktemp("maps") / "synthetic.html"
    maps.save_map(maps.basin_map(synthetic_basin(), synthetic_sites()), path)
    return path


def test_synthetic_map_in_browser(browser, synthetic_html, artifacts_dir):
    pg = Page(browser, synthetic_html)
    try:
        assert pg.js("L.version") == "1.9.3"
        assert pg.js("typeof L.markerClusterGroup") == "undefined"  # not needed, not shipped
        assert pg.js("typeof L.control.fullscreen") == "function"
        # 8 sites -> 8 DOM markers (not clustered); 7 reaches -> 7 river paths; the pipeline line
        assert pg.js("RISKMAP_MAPS[0].markers.length") == 8
        assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site').length") == 8
        assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site-approx').length") == 2
        assert pg.js("document.querySelectorAll('path.rm-river').length") == 7
        assert pg.js("document.querySelectorAll('path.rm-border-river').length") == 2
        assert pg.js("document.querySelectorAll('path.rm-site-line').length") == 1
        # downstream paths layer: one merged path and the first border crossings
        assert pg.js("RISKMAP_MAPS[0].transboundarySites") == 6
        assert pg.js("document.querySelectorAll('path.rm-tb-path').length") == 1
        # one crossing (start of the BIH|SRB border stretch); sites on border water are their own crossing
        assert pg.js("document.querySelectorAll('path.rm-crossing').length") == 1
        # controls: layers, scale, fullscreen, search, legend
        for sel in (".leaflet-control-layers", ".leaflet-control-scale", ".leaflet-control-zoom-fullscreen",
                    ".rm-search input", ".rm-legend"):
            assert pg.js(f"document.querySelectorAll('{sel}').length") == 1, sel
        layers = pg.js("Array.from(document.querySelectorAll('.leaflet-control-layers-overlays span'))"
                       ".map(s => s.textContent.trim())")
        assert "Sites (8)" in layers and "Rivers (border stretches highlighted)" in layers

        # click a site: popup with its name, approximate note, downstream path + crossing drawn
        assert pg.open_site(0) == "Gradina tailings"
        popup = pg.js("document.querySelector('.leaflet-popup-content').textContent")
        assert "River km to the first border" in popup and "45 km" in popup
        assert "Bosnia and Herzegovina \u2192 Bosnia and Herzegovina / Serbia border" in popup  # names, not codes
        assert "Why it matters" in popup and "BIH|SRB" not in popup
        assert pg.js("Array.from(document.querySelectorAll('.leaflet-popup .rm-group summary'))"
                     ".map(s => s.textContent)") == ["What it is", "Exposure downstream", "Hazard", "Sources"]
        assert pg.js("document.querySelectorAll('path.rm-selected-path').length") == 1
        assert pg.js("document.querySelectorAll('.leaflet-rmCross-pane path.rm-crossing').length") == 2
        assert pg.js("document.querySelector('.leaflet-popup-content a').href") == "https://example.org/site/0"
        pg.page.wait_for_timeout(300)  # popup fade-in
        pg.page.screenshot(path=str(artifacts_dir / "map_synthetic_popup.png"))
        assert pg.open_site(2) == "Prijepolje depot"
        assert "Approximate location" in pg.js("document.querySelector('.rm-note').textContent")

        # hostile names: text in popup, tooltip and search; no element, no dialog
        assert pg.open_site(1) == XSS_IMG
        assert pg.js("document.querySelectorAll('.leaflet-popup-content a').length") == 0  # javascript: dropped
        notes = pg.js("document.querySelector('.leaflet-popup-content').textContent")
        assert notes.count(XSS_IMG) == 2  # title and notes, as text
        pg.close_popup()
        pg.page.evaluate_handle("RISKMAP_MAPS[0].markers[1]._icon").as_element().hover()
        pg.page.wait_for_function("name => Array.from(document.querySelectorAll('.leaflet-tooltip'))"
                                  ".some(t => t.textContent === name && !t.querySelector('*'))",
                                  arg=XSS_IMG, timeout=5000)
        assert pg.open_site(5) == XSS_SCRIPT
        pg.page.fill(".rm-search input", "<img")
        hits = pg.js("Array.from(document.querySelectorAll('.rm-search-hit')).map(li => li.textContent)")
        assert hits == [XSS_IMG + " (Bosnia and Herzegovina)"]
        pg.page.fill(".rm-search input", "alert")
        assert len(pg.js("Array.from(document.querySelectorAll('.rm-search-hit'))")) == 2
        _no_injected_elements(pg)
        # the layer control switches layers: sites off, then on again
        pg.close_popup()
        pg.page.hover(".leaflet-control-layers")
        pg.page.get_by_text("Sites (8)").click()
        assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site').length") == 0
        pg.page.get_by_text("Sites (8)").click()
        assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site').length") == 8
        pg.page.wait_for_timeout(100)
        pg.assert_clean()
    finally:
        pg.close()


def test_search_opens_clustered_site(browser, tmp_path, artifacts_dir, many_sites):
    sites = many_sites(500)
    path = maps.save_map(maps.basin_map(synthetic_basin(), sites), tmp_path / "many.html")
    pg = Page(browser, path)
    try:
        assert pg.js("RISKMAP_MAPS[0].markers.length") == 500
        assert pg.js("typeof L.markerClusterGroup") == "function"
        assert pg.js("document.querySelectorAll('.marker-cluster, .rm-cluster').length") > 0
        # far fewer DOM markers than sites: clustered
        assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site').length") < 500
        pg.page.fill(".rm-search input", "Synthetic site 123 ")
        pg.page.click(".rm-search-hit")
        pg.page.wait_for_selector(".leaflet-popup .rm-title", timeout=5000)
        assert pg.js("document.querySelector('.leaflet-popup .rm-title').textContent") == "Synthetic site 123 Lim"
        pg.page.screenshot(path=str(artifacts_dir / "map_synthetic_500_search.png"))
        pg.assert_clean()
    finally:
        pg.close()


@pytest.fixture(scope="module")
def real_sites():
    """The bundled inventory, assessed, when data and riskmap.exposure exist (else None)."""
    csv = DATA_DIR / "sites" / "sites.csv"
    if not csv.is_file() or importlib.util.find_spec("riskmap.exposure") is None:
        return None
    from riskmap.exposure import assess
    from riskmap.io import read_sites

    return assess(read_sites(csv))


def _basin_and_sites(basin_id: str, real_sites):
    """Real basin and assessed sites when available, else the synthetic ones."""
    if not _real_data_available(basin_id):
        return synthetic_basin(), synthetic_sites(), "synthetic"
    from riskmap.hydrography import load_basin

    return load_basin(basin_id), real_sites, "real"


def _column(data: dict, name: str) -> list:
    """Decode one embedded site column (dense, categorical or sparse) to a list."""
    n = data["sites"]["n"]
    c = data["sites"]["cols"].get(name)
    if c is None:
        return [None] * n
    if "v" in c:
        return c["v"]
    if "c" in c:
        return [None if k < 0 else c["k"][k] for k in c["c"]]
    return [c["s"].get(str(i)) for i in range(n)]


@pytest.mark.parametrize("basin_id", BASINS)
def test_basin_map_in_browser(browser, basin_id, tmp_path, artifacts_dir, real_sites):
    basin, sites, kind = _basin_and_sites(basin_id, real_sites)
    m = maps.basin_map(basin, sites)
    path = maps.save_map(m, tmp_path / f"{basin_id}.html")
    n_sites = m._riskmap_info["sites"]
    n_reaches = len(basin.reaches)
    pg = Page(browser, path)
    try:
        assert pg.js("L.version") == "1.9.3"
        assert pg.js("RISKMAP_MAPS[0].markers.length") == n_sites
        assert pg.js("document.querySelectorAll('path.rm-river').length") == n_reaches
        assert pg.js("document.querySelectorAll('.leaflet-rmBasin-pane path').length") >= 1
        if n_sites and m._riskmap_data["sites"]["cols"].get("reach_id"):
            # the transboundary layer is drawn when the assessment found such sites
            n_tb = pg.js("RISKMAP_MAPS[0].transboundarySites || 0")
            assert (n_tb > 0) == (pg.js("document.querySelectorAll('path.rm-tb-path').length") == 1)
        pg.page.screenshot(path=str(artifacts_dir / f"map_{basin_id}_{kind}.png"))
        if n_sites and not m._riskmap_info["clustered"]:
            assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site').length") == n_sites
        if n_sites:
            names = _column(m._riskmap_data, "name")
            assert pg.open_site(0) == names[0]
            tb = _column(m._riskmap_data, "transboundary_downstream")
            rid = _column(m._riskmap_data, "reach_id")
            k = next((i for i in range(n_sites) if tb[i] and rid[i] is not None), None)
            if k is not None:  # a transboundary site: its downstream path and first crossing appear
                assert pg.open_site(k) == names[k]
                assert pg.js("document.querySelectorAll('path.rm-selected-path').length") == 1
            pg.page.wait_for_timeout(300)  # popup fade-in
            pg.page.screenshot(path=str(artifacts_dir / f"map_{basin_id}_{kind}_popup.png"))
        _no_injected_elements(pg)
        pg.assert_clean()
    finally:
        pg.close()


def _popup_on_screen(pg: Page) -> dict:
    """Wait for the popup's auto-pan to settle; return its box and the viewport."""
    pg.page.wait_for_timeout(700)  # fade-in and auto-pan animation
    return pg.js("(() => { const r = document.querySelector('.leaflet-popup').getBoundingClientRect();"
                 " return {l: r.left, t: r.top, r: r.right, b: r.bottom, w: innerWidth, h: innerHeight}; })()")


def _assert_fully_on_screen(box: dict) -> None:
    assert box["l"] >= 0 and box["t"] >= 0, box
    assert box["r"] <= box["w"] and box["b"] <= box["h"], box


def _save_docs_img(src: Path, name: str) -> None:
    """With RISKMAP_DOCS_IMG=1, copy a screenshot into docs/img (regenerates the README's map pictures)."""
    import os
    import shutil

    if os.environ.get("RISKMAP_DOCS_IMG"):
        shutil.copyfile(src, Path(__file__).resolve().parent.parent / "docs" / "img" / name)


@pytest.mark.parametrize("basin_id", BASINS)
def test_map_as_a_working_tool(browser, basin_id, tmp_path, artifacts_dir, real_sites):
    """Each basin map: click a site, use every filter, layers and measure tool; at phone width (390 px) the
    legend starts collapsed and toggles, and the popup is fully on screen."""
    basin, sites, kind = _basin_and_sites(basin_id, real_sites)
    m = maps.basin_map(basin, sites)
    path = maps.save_map(m, tmp_path / f"{basin_id}.html")
    n = m._riskmap_info["sites"]
    if not n:
        pytest.skip("no sites on this map")
    filters = m._riskmap_data["sites"]["filters"]
    pg = Page(browser, path)
    try:
        # desktop: legend open, measure tool, towns labelled, context layers drawn
        assert pg.js("document.querySelector('.rm-legend details').open") is True
        assert pg.js("document.querySelectorAll('.leaflet-control-measure').length") == 1
        assert pg.js("document.querySelectorAll('path.rm-country').length") >= 4
        if kind == "real":
            assert pg.js("RISKMAP_MAPS[0].townsShown") > 0
            assert pg.js("document.querySelectorAll('.rm-town').length") == pg.js("RISKMAP_MAPS[0].townsShown")
            assert pg.js("document.querySelectorAll('path.rm-border-top').length") > 0  # border above paths
            top = pg.js("+getComputedStyle(document.querySelector('.leaflet-rmBorderTop-pane')).zIndex")
            assert top > pg.js("+getComputedStyle(document.querySelector('.leaflet-rmPath-pane')).zIndex")
            assert pg.js("document.querySelectorAll('path.rm-lake, path.rm-reservoir-reach').length") > 0
        if basin_id == "syr_darya" and kind == "real":
            names = [f["properties"]["n"] for f in m._riskmap_data["ctx_lakes"]["features"]]
            assert "Aral Sea" in names
        # the natural-hazard overlays are off by default and switch on from the layer control
        pg.page.hover(".leaflet-control-layers")
        for label, sel in (("Active faults (GEM)", "path.rm-fault"), ("Earthquakes since 1900 (ISC-GEM)", "path.rm-quake")):
            if pg.js(f"Array.from(document.querySelectorAll('.leaflet-control-layers-overlays span'))"
                     f".some(s => s.textContent.trim() === {label!r})"):
                assert pg.js(f"document.querySelectorAll('{sel}').length") == 0
                pg.page.get_by_text(label, exact=True).click()
                assert pg.js(f"document.querySelectorAll('{sel}').length") > 0
                pg.page.get_by_text(label, exact=True).click()  # off again (busy), as by default
                assert pg.js(f"document.querySelectorAll('{sel}').length") == 0
        pg.page.mouse.move(600, 400)

        # every filter: untick its first value -> those sites disappear; tick again -> all back
        pg.page.click(".rm-filters summary")
        assert pg.js("document.querySelector('.rm-filter-count').textContent") == f"{n} of {n} sites shown"
        assert [f["key"] for f in filters] == ["category", "exposure_class", "status", "country"]
        for f in filters:
            code, _label, count = f["values"][0]
            box = pg.page.locator(f".rm-filter[data-filter='{f['key']}'] input").first
            box.click()
            assert pg.js("RISKMAP_MAPS[0].visibleSites") == n - count, f["key"]
            assert pg.js("document.querySelector('.rm-filter-count').textContent") == f"{n - count} of {n} sites shown"
            hidden = [i for i, k in enumerate(f["idx"]) if k == 0]
            assert pg.js(f"RISKMAP_MAPS[0].groups.sites.hasLayer(RISKMAP_MAPS[0].markers[{hidden[0]}])") is False
            if not m._riskmap_info["clustered"]:
                n_lines = sum(1 for i in hidden if i in set(m._riskmap_data.get("lines", {}).get("features") and
                                                              [ft["properties"]["i"] for ft in
                                                               m._riskmap_data["lines"]["features"]] or []))
                assert pg.js("document.querySelectorAll('.leaflet-marker-icon.rm-site').length") == n - count
                assert n_lines >= 0
            if f["key"] == "category":
                pg.page.screenshot(path=str(artifacts_dir / f"map_{basin_id}_{kind}_filter.png"))
            box.click()
            assert pg.js("RISKMAP_MAPS[0].visibleSites") == n
        # combined filters, then "Show all sites"
        pg.page.locator(".rm-filter[data-filter='country'] input").first.click()
        pg.page.locator(".rm-filter[data-filter='status'] input").first.click()
        both = sum(1 for a, b in zip(filters[3]["idx"], filters[2]["idx"]) if a != 0 and b != 0)
        assert pg.js("RISKMAP_MAPS[0].visibleSites") == both
        pg.page.click(".rm-filter-reset")
        assert pg.js("RISKMAP_MAPS[0].visibleSites") == n
        pg.page.click(".rm-filters summary")

        # click a site: grouped popup with names, fully on screen
        names = _column(m._riskmap_data, "name")
        assert pg.open_site(0) == names[0]
        _assert_fully_on_screen(_popup_on_screen(pg))
        shot = artifacts_dir / f"map_{basin_id}_{kind}_desktop_popup.png"
        pg.page.screenshot(path=str(shot))
        if kind == "real":
            _save_docs_img(shot, f"map_{basin_id}_popup.png")
        pg.close_popup()
        shot = artifacts_dir / f"map_{basin_id}_{kind}_desktop.png"
        pg.page.screenshot(path=str(shot))
        if kind == "real" and basin_id == "drin":
            _save_docs_img(shot, "map_drin.png")
        _no_injected_elements(pg)
        pg.assert_clean()
    finally:
        pg.close()

    phone = Page(browser, path, width=390, height=844)
    try:
        legend = ".rm-legend details"
        assert phone.js(f"document.querySelector('{legend}').open") is False  # collapsed by default
        assert phone.js("document.querySelector('.rm-legend').getBoundingClientRect().width") < 200
        phone.page.click(f"{legend} > summary")
        assert phone.js(f"document.querySelector('{legend}').open") is True
        phone.page.screenshot(path=str(artifacts_dir / f"map_{basin_id}_{kind}_phone_legend.png"))
        phone.page.click(f"{legend} > summary")
        assert phone.js(f"document.querySelector('{legend}').open") is False
        for i in sorted({0, n // 2, n - 1}):
            assert phone.open_site(i) == names[i]
            box = _popup_on_screen(phone)
            _assert_fully_on_screen(box)
            assert box["r"] - box["l"] <= 390
            for ctl in (".leaflet-control-zoom", ".leaflet-control-layers"):  # not hidden under the controls
                c = phone.js(f"(() => {{ const r = document.querySelector('{ctl}').getBoundingClientRect();"
                             " return {l: r.left, t: r.top, r: r.right, b: r.bottom}; })()")
                assert c["r"] <= box["l"] or c["l"] >= box["r"] or c["b"] <= box["t"] or c["t"] >= box["b"], (ctl, c, box)
        shot = artifacts_dir / f"map_{basin_id}_{kind}_phone_popup.png"
        phone.page.screenshot(path=str(shot))
        if kind == "real" and basin_id == "drina":
            _save_docs_img(shot, "map_drina_phone_popup.png")
        phone.assert_clean()
    finally:
        phone.close()


def test_legend_starts_collapsed_in_a_notebook_frame(browser, tmp_path):
    """Jupyter shows the map in an iframe (RiskMap._repr_html_): the legend starts collapsed there."""
    m = maps.basin_map(synthetic_basin(), synthetic_sites())
    page_path = tmp_path / "notebook.html"
    page_path.write_text("<!DOCTYPE html><html><body style='width:900px'>" + m._repr_html_() + "</body></html>",
                         encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    blocked: list[str] = []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:"))
               else (blocked.append(r.request.url), r.abort()))
    try:
        page.goto(page_path.resolve().as_uri())
        frame = page.frames[1]
        frame.wait_for_function("window.RISKMAP_MAPS && RISKMAP_MAPS[0].ready", timeout=15000)
        assert frame.evaluate("document.querySelector('.rm-legend details').open") is False
        assert frame.evaluate("RISKMAP_MAPS[0].map.getSize().x") > 600  # wide, yet collapsed: it is framed
        assert blocked == []
    finally:
        page.close()
