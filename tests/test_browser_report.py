"""Open the HTML report in headless Chromium with the network blocked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskmap import report as rp  # noqa: E402
from riskmap.pipeline import write_map_and_report  # noqa: E402

pytestmark = pytest.mark.browser


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed (CI must install the test extras)")
        pytest.skip("playwright is not installed")
    return sync_playwright


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, assessed_sites, fake_basin, matrix, provenance) -> Path:
    sp, bp = provenance()
    out = tmp_path_factory.mktemp("browser_report")
    inputs = rp.ReportInputs("drin", assessed_sites(), basin=fake_basin(), matrix=matrix(),
                             sites_provenance=sp, basins_provenance=bp)
    return write_map_and_report(inputs, out, pdf=False)[1]


def test_report_opens_offline_without_errors(report_file, chromium_path, artifacts_dir):
    sync_playwright = _playwright()
    page_url = report_file.resolve().as_uri()
    blocked, errors, console_errors, dialogs = [], [], [], []

    def route(r):
        url = r.request.url
        if url == page_url or url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_url, wait_until="load")
            page.wait_for_timeout(300)
            assert page.title() == "Drin River Basin: inventory of technological disaster risk sites"
            imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
            assert len(imgs) == 1 and all(c and w > 100 for c, w in imgs), imgs  # the static map
            # hostile names are shown as text, never run
            assert page.locator("script").count() == 0
            body = page.inner_text("body")
            assert "<script>alert(1)</script>" in body and "<img src=x onerror=alert(1)>" in body
            assert page.evaluate("document.querySelectorAll('img[onerror]').length") == 0
            # the interactive map link points to the file written next to the report
            href = page.get_attribute("#map a", "href")
            assert href == "drin_map.html" and (report_file.parent / href).is_file()
            assert "in accordance with UN Security Council resolution 1244" in page.inner_text("#title")
            page.emulate_media(media="print")
            page.screenshot(path=str(artifacts_dir / "report_drin_synthetic.png"), full_page=False)
        finally:
            browser.close()
    assert errors == []
    assert console_errors == []
    assert dialogs == []
    assert blocked == []


def test_real_basin_report_opens_offline(tmp_path, chromium_path):
    """The Drina report built from the bundled data, incl. its interactive map link, offline."""
    from riskmap import DATA_DIR

    pytest.importorskip("riskmap.hydrography")
    if not (DATA_DIR / "basins" / "drina.gpkg").is_file() or not (DATA_DIR / "sites" / "sites.csv").is_file():
        pytest.skip("bundled data not built yet")
    sync_playwright = _playwright()
    path = rp.build_report("drina", tmp_path, pdf=False)
    url = path.resolve().as_uri()
    blocked, errors = [], []

    def route(r):
        if r.request.url == url or r.request.url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url, wait_until="load")
            assert page.title().startswith("Drina River Basin")
            imgs = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert imgs and all(w > 100 for w in imgs)
            n_rows = page.eval_on_selector_all("table.site-list tr", "els => els.length")
            n_tables = page.eval_on_selector_all("table.site-list", "els => els.length")
            assert n_rows - n_tables == int(page.inner_text(".kpi b"))  # every site listed once
        finally:
            browser.close()
    assert errors == [] and blocked == []
