"""Fuzz-style: nasty strings in every text field through the map, the report and the exports (issue 13).

A fixed list of hostile strings (template syntax, HTML/JS injection, formula
prefixes, terminal escapes, bidi controls, a 20,000-character value) is put
into every free-text field of one site each (plus an extra user column and
the basin name). The map and the report are opened in headless chromium with
the network blocked and ``dialog``/``pageerror`` hooked; every site's popup
is opened by a click. Checks: no dialog, no page error, no injected script
ran (the payloads set ``window.__pwned``), no element with an event-handler
attribute exists, and every string is shown literally. The CSV and XLSX
exports are read back: formula-like cells are neutralised. One screenshot of
a hostile popup goes to ``test-artifacts/untrusted_map_popup.png``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from riskmap import maps  # noqa: E402
from riskmap import report as rp  # noqa: E402
from riskmap.pipeline import write_map_and_report  # noqa: E402
from riskmap.export import export  # noqa: E402
from riskmap.io import neutralise_formula  # noqa: E402

pytestmark = pytest.mark.browser

PWN = "window.__pwned=1"
LONG = ("<script>" + PWN + "</script>{{ 7*7 }}&amp;\u202e" * 600)[:20000]

#: One hostile string per site.
NASTY = (
    "{{ 7*7 }}",
    "{% broken",
    "{{ cycler.__init__.__globals__.os.popen('touch /tmp/riskmap-pwned-browser').read() }}",
    f"<script>{PWN};alert(1)</script>",
    f"<img src=x onerror=\"{PWN};alert(2)\">",
    f"</script><script>{PWN}</script>",
    f"\"'><svg onload={PWN}>",
    f"javascript:{PWN}",
    "=HYPERLINK(\"http://x\",\"click\")",
    "+1",
    "-1",
    "@SUM(1)",
    "\x1b[31mred\x1b[0m terminal",
    "\u202eevil\u202c reversed",
    LONG,
    "W" * 20000,  # one 20,000-character word
)

#: Free-text columns shown in the popup (substances/source_refs are JSON: their text is one item).
FIELDS = ("name", "site_id", "source", "source_id", "licence", "tailings_type", "dam_condition", "notes",
          "substances", "source_refs")


def value(i: int, field: str) -> str:
    """The text shown for ``field`` of site ``i``: the nasty string first (formula prefixes stay first)."""
    return f"{NASTY[i]} [{field} {i}]"


def hostile_sites() -> gpd.GeoDataFrame:
    n = len(NASTY)
    cols: dict[str, list] = {f: [value(i, f) for i in range(n)] for f in FIELDS}
    cols["substances"] = [json.dumps([{"name": value(i, "substances")}]) for i in range(n)]
    cols["source_refs"] = [json.dumps([value(i, "source_refs")]) for i in range(n)]
    cols["operator"] = [value(i, "operator") for i in range(n)]  # an extra user column (exports only)
    cols["source_url"] = [f"javascript:{PWN}" if i % 2 else "https://example.org/a?b=<1>&c=\"2\"" for i in range(n)]
    pts = [shapely.Point(18.62 + 0.25 * (i % 5), 43.15 + 0.3 * (i // 5)) for i in range(n)]
    df = pd.DataFrame({**cols,
                       "category": ["tailings_metal", "mine", "chemical_plant"] * (n // 3) + ["landfill"] * (n % 3),
                       "status": "operating", "country": ["BIH" if p.x < 19.3 else "SRB" for p in pts],
                       "coord_precision": "exact", "basin": "drina",
                       "exposure_class": "high", "priority_score": [1.0 - i / n for i in range(n)],
                       "priority_rank": list(range(1, n + 1)), "score_status": "scored"})
    return gpd.GeoDataFrame(df, geometry=pts, crs="EPSG:4326")


def basin_name() -> str:
    return f"Drina <img src=x onerror={PWN}> {{{{ 7*7 }}}} $\\frac$"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory, synthetic_basin) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("untrusted")
    basin = synthetic_basin()
    basin.name = basin_name()
    sites = hostile_sites()
    inputs = rp.ReportInputs("drina", sites, basin=basin, basin_name=basin_name())
    _, report = write_map_and_report(inputs, out, pdf=False)
    return {"report": report, "map": out / "drina_map.html",
            "csv": export(sites, out / "sites.csv"), "xlsx": export(sites, out / "sites.xlsx")}


class Watched:
    """A page with the network blocked and every dialog, page error and request recorded."""

    def __init__(self, browser, path: Path):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def assert_nothing_ran(self):
        assert self.dialogs == [], f"dialogs fired: {self.dialogs}"
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.blocked == [], f"network requests: {self.blocked[:5]}"
        assert self.page.evaluate("typeof window.__pwned") == "undefined", "an injected script ran"
        handlers = self.page.evaluate(
            "Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes)"
            ".some(a => a.name.startsWith('on'))).map(e => e.outerHTML.slice(0, 80))")
        assert handlers == [], f"elements with event-handler attributes: {handlers}"
        assert self.page.evaluate("document.querySelectorAll('a[href^=\"javascript\" i]').length") == 0


def _open_popup(w: Watched, i: int) -> dict:
    """Click site i's marker; return the popup's title and cell texts."""
    pg = w.page
    pg.evaluate("() => { const m = RISKMAP_MAPS[0].map; m.closePopup(); }")
    pg.wait_for_function("!document.querySelector('.leaflet-popup')", timeout=5000)
    pg.evaluate(f"() => {{ const R = RISKMAP_MAPS[0]; R.map.setView(R.markers[{i}].getLatLng(), 11, "
                f"{{animate: false}}); R.markers[{i}].setZIndexOffset(100000); }}")
    icon = pg.evaluate_handle(f"RISKMAP_MAPS[0].markers[{i}]._icon").as_element()
    box = icon.bounding_box()
    pg.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    pg.wait_for_function(f"(p => p && p.isOpen() && p._source && p._source.options.riskmapIndex === {i})"
                         "(RISKMAP_MAPS[0].map._popup)", timeout=5000)
    pg.evaluate(f"() => RISKMAP_MAPS[0].markers[{i}].setZIndexOffset(0)")
    return pg.evaluate("""() => {
        const el = RISKMAP_MAPS[0].map._popup.getElement();
        const h = el.querySelector('.rm-title');
        return {title: h.textContent, overflow: h.scrollWidth > h.clientWidth,
                cells: Array.from(el.querySelectorAll('td')).map(td => td.textContent),
                text: el.innerText};
    }""")


def test_map_shows_every_hostile_string_as_text(browser, outputs, artifacts_dir):
    w = Watched(browser, outputs["map"])
    try:
        w.page.wait_for_function("window.RISKMAP_MAPS && RISKMAP_MAPS.length && RISKMAP_MAPS[0].ready",
                                 timeout=15000)
        assert w.page.evaluate("RISKMAP_MAPS[0].markers.length") == len(NASTY)
        legend = w.page.inner_text(".rm-legend summary")
        assert legend == basin_name() + " basin"
        for i in range(len(NASTY)):
            pop = _open_popup(w, i)
            assert pop["title"] == value(i, "name")
            assert not pop["overflow"], "the site name overflows its popup"
            for f in FIELDS[1:]:
                assert value(i, f) in pop["cells"] or f"name: {value(i, f)}" in pop["cells"], (i, f)
            if i == NASTY.index(f"<img src=x onerror=\"{PWN};alert(2)\">"):
                w.page.screenshot(path=str(artifacts_dir / "untrusted_map_popup.png"))
            w.assert_nothing_ran()
        # the site search lists hostile names as text too
        w.page.fill(".rm-search-input", "HYPERLINK")
        hits = w.page.eval_on_selector_all(".rm-search-hit", "els => els.map(e => e.textContent)")
        k = NASTY.index("=HYPERLINK(\"http://x\",\"click\")")
        from riskmap.map_text import country_name

        assert hits == [f"{value(k, 'name')} ({country_name(hostile_sites()['country'][k])})"]  # names, not codes
        # a bidi override in a name is isolated: it cannot reorder the country after it
        w.page.fill(".rm-search-input", "reversed")
        k = NASTY.index("\u202eevil\u202c reversed")
        isolated = w.page.eval_on_selector_all(".rm-search-hit > bdi", "els => els.map(e => e.textContent)")
        assert isolated == [value(k, "name")]
        w.assert_nothing_ran()
    finally:
        w.page.close()


def test_report_shows_every_hostile_string_as_text(browser, outputs):
    w = Watched(browser, outputs["report"])
    try:
        body = w.page.inner_text("body")
        title = w.page.inner_text("h1")
        assert title == f"{basin_name()} River Basin"
        for i in range(len(NASTY)):
            for f in ("name", "source"):  # site ids are not printed in the report since issue 18
                assert value(i, f) in body, (i, f)
        assert w.page.locator("script").count() == 0
        isolated = set(w.page.eval_on_selector_all("td > bdi", "els => els.map(e => e.textContent)"))
        assert {value(i, "name") for i in range(len(NASTY))} <= isolated
        w.assert_nothing_ran()
    finally:
        w.page.close()
    assert not Path("/tmp/riskmap-pwned-browser").exists()


def test_exports_neutralise_formulas(outputs):
    import openpyxl

    with open(outputs["csv"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(NASTY)
    by_id = {r["site_id"]: r for r in rows}
    for i, nasty in enumerate(NASTY):
        r = by_id[neutralise_formula(value(i, "site_id"))]
        for f in ("name", "source", "notes", "operator"):
            assert r[f] == neutralise_formula(value(i, f)), (i, f)
            if nasty[0] in "=+-@":
                assert r[f].startswith("'"), (i, f)

    wb = openpyxl.load_workbook(outputs["xlsx"])
    ws = wb["sites"]
    header = [c.value for c in ws[1]]
    formula_cells = [c.coordinate for sheet in wb.worksheets for row in sheet.iter_rows() for c in row
                     if c.data_type == "f" or (isinstance(c.value, str) and c.value[:1] in "=+-@")]
    assert formula_cells == []
    from riskmap.export import HUMAN_HEADERS

    names = [r[header.index(HUMAN_HEADERS["name"])].value for r in ws.iter_rows(min_row=2)]  # the visible sheet
    for i, nasty in enumerate(NASTY):
        expected = neutralise_formula(value(i, "name")).replace("\x1b", "_x001B_")
        assert expected in names, i
