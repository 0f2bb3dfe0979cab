"""The Russian basin map in headless chromium (network blocked): no English label left, no broken Cyrillic.

Opens the Russian map of the Syr Darya (the real basin and the bundled, assessed
inventory), opens a site's popup, the legend, the filter panel and the layer
control, and checks what is rendered on screen: none of a list of English labels,
Cyrillic text present, no U+FFFD and no character drawn as the font's
missing-glyph box. Screenshots go to ``test-artifacts/``; with
``RISKMAP_DOCS_IMG=1`` also to ``docs/img/map_ru.png`` and
``docs/img/map_ru_popup.png``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from riskmap import maps
from riskmap import DATA_DIR

from test_browser_maps import Page, _column

pytestmark = pytest.mark.browser

BASIN = "syr_darya"

#: English labels that must not be on screen in the Russian map (whole words, any case for the single words).
ENGLISH_LABELS = ("Legend", "Filter sites", "Show all sites", "sites shown", "Operating", "Tailings", "Status",
                  "Category", "Downstream", "unknown", "km", "Why it matters", "What it is", "Exposure",
                  "Hazard priority", "Search sites", "Sub-basins", "Rivers", "Countries", "International borders",
                  "Towns", "Basin outline", "Sites", "Kind", "Country", "Travel time", "River km", "yes", "no",
                  "days", "Earthquakes", "Active faults", "Checkpoint", "Screening map", "Zoom in", "Full Screen",
                  "Measure distances")

#: Text of the visible page, of the legend, the open filter panel, the expanded layer control and the popup
#: (site names and other data are taken out: they are data and stay as they are).
_VISIBLE_UI_TEXT = """(() => {
  const parts = [];
  const keep = el => el && parts.push(el.innerText);
  keep(document.querySelector('.rm-legend'));
  keep(document.querySelector('.rm-filters'));
  keep(document.querySelector('.leaflet-control-layers'));
  keep(document.querySelector('.leaflet-control-scale'));
  keep(document.querySelector('.leaflet-control-attribution'));
  const pop = document.querySelector('.leaflet-popup-content');
  if (pop) {
    const copy = pop.cloneNode(true);
    copy.querySelectorAll('.rm-title').forEach(e => e.remove());  // the site's name: data
    document.body.appendChild(copy);  // innerText needs a rendered element
    parts.push(copy.innerText);
    copy.remove();
  }
  ['.rm-search-input', '.leaflet-control-zoom-in', '.leaflet-control-zoom-out', '.leaflet-control-fullscreen-button',
   '.leaflet-control-measure-toggle'].forEach(sel => {
    const e = document.querySelector(sel);
    if (e) { parts.push(e.getAttribute('placeholder') || '', e.getAttribute('title') || '',
                        e.getAttribute('aria-label') || ''); }
  });
  return parts.join('\\n');
})()"""

#: Characters of the visible text drawn exactly like the missing-glyph box of an unassigned code point.
_TOFU = """(() => {
  const font = getComputedStyle(document.querySelector('.leaflet-container')).fontFamily;
  const c = document.createElement('canvas');
  c.width = 48; c.height = 48;
  const g = c.getContext('2d', {willReadFrequently: true});
  const draw = ch => {
    g.clearRect(0, 0, 48, 48); g.font = '28px ' + font; g.fillStyle = '#000'; g.fillText(ch, 6, 36);
    return Array.from(g.getImageData(0, 0, 48, 48).data).join(',');
  };
  const blank = draw(' '), box = draw('\\u0378');  // U+0378 is unassigned: the font's missing-glyph box
  const text = document.body.innerText;
  const chars = Array.from(new Set(text.replace(/[\\x00-\\x7f\\s\\u00a0\\u202f\\u200b-\\u200f\\u2060]/g, '')));
  return {chars: chars.join(''), cyrillic: (text.match(/[\\u0400-\\u04ff]/g) || []).length,
          fffd: text.indexOf('\\ufffd') >= 0,
          tofu: chars.filter(ch => { const d = draw(ch); return d === box || d === blank; }).join('')};
})()"""


def _english_left(text: str) -> list[str]:
    found = []
    for label in ENGLISH_LABELS:
        flags = 0 if " " in label or label[0].isupper() and label not in ("Status", "Sites") else re.I
        if re.search(rf"(?<![\w-]){re.escape(label)}(?![\w-])", text, flags=flags):
            found.append(label)
    return found


def _save_docs_img(src: Path, name: str) -> None:
    if os.environ.get("RISKMAP_DOCS_IMG"):
        shutil.copyfile(src, Path(__file__).resolve().parent.parent / "docs" / "img" / name)


@pytest.fixture(scope="module")
def russian_map(tmp_path_factory):
    if not (DATA_DIR / "basins" / f"{BASIN}.gpkg").is_file() or not (DATA_DIR / "sites" / "sites.csv").is_file():
        pytest.skip("the bundled Syr Darya data are not available")
    from riskmap.exposure import assess
    from riskmap.hydrography import load_basin
    from riskmap.io import read_sites

    sites = assess(read_sites(DATA_DIR / "sites" / "sites.csv"))
    m = maps.basin_map(load_basin(BASIN), sites, lang="ru")
    path = maps.save_map(m, tmp_path_factory.mktemp("maps_ru") / f"{BASIN}_ru.html")
    return m, path


def _transboundary_site(m) -> int:
    """A site whose popup shows river km and a travel time (the richest popup)."""
    tb = _column(m._riskmap_data, "transboundary_downstream")
    hours = _column(m._riskmap_data, "travel_time_h")
    rid = _column(m._riskmap_data, "reach_id")
    return next(i for i in range(len(tb)) if tb[i] and hours[i] is not None and rid[i] is not None)


def test_russian_map_in_browser(browser, russian_map, artifacts_dir):
    m, path = russian_map
    n = m._riskmap_info["sites"]
    pg = Page(browser, path)
    try:
        assert pg.js("document.documentElement.lang") == "ru"
        assert pg.js("document.title") == "Бассейн реки Сырдарья"
        assert pg.js("RISKMAP_MAPS[0].lang") == "ru"

        # legend (open on a desktop), filter panel open, layer control expanded
        assert pg.js("document.querySelector('.rm-legend details').open") is True
        pg.page.click(".rm-filters summary")
        count = pg.js("document.querySelector('.rm-filter-count').textContent")
        assert count == f"Показано: {n} из {n} объектов" if n % 10 != 1 or n % 100 == 11 else count.endswith("объекта")
        pg.page.locator(".rm-filter[data-filter='status'] input").first.click()
        shown = pg.js("RISKMAP_MAPS[0].visibleSites")
        assert shown < n and pg.js("document.querySelector('.rm-filter-count').textContent").startswith(
            f"Показано: {shown} из {n} ")
        pg.page.click(".rm-filter-reset")
        filter_text = pg.js("document.querySelector('.rm-filters').innerText")
        assert "Показать все объекты" in filter_text and "Тип" in filter_text and "Статус" in filter_text
        pg.page.hover(".leaflet-control-layers")
        pg.page.wait_for_function("document.querySelector('.leaflet-control-layers-expanded')", timeout=5000)
        layers = pg.js("document.querySelector('.leaflet-control-layers').innerText")
        assert "Реки (пограничные участки выделены)" in layers and f"Объекты ({n})" in layers
        assert "Граница бассейна" in layers
        ui = pg.js(_VISIBLE_UI_TEXT)
        assert _english_left(ui) == [], ui
        shot = artifacts_dir / "map_ru_panels.png"
        pg.page.screenshot(path=str(shot))
        pg.page.click(".rm-filters summary")
        pg.page.mouse.move(60, 760)  # off the markers: no tooltip in the picture
        pg.page.wait_for_function("!document.querySelector('.leaflet-control-layers-expanded')", timeout=5000)
        shot = artifacts_dir / "map_ru.png"
        pg.page.screenshot(path=str(shot))
        _save_docs_img(shot, "map_ru.png")

        # a transboundary site's popup: labels, units and numbers in Russian
        k = _transboundary_site(m)
        names = _column(m._riskmap_data, "name")
        assert pg.open_site(k) == names[k]
        pg.page.wait_for_timeout(400)  # fade-in and auto-pan
        popup = pg.js("document.querySelector('.leaflet-popup-content').innerText")
        assert "Почему это важно" in popup and "Подверженность воздействию ниже по течению" in popup
        assert "Время добегания до первой границы" in popup and re.search(r"\d\u00a0ч\b", popup)
        assert re.search(r"\d\u00a0км", popup)
        ui = pg.js(_VISIBLE_UI_TEXT)
        assert _english_left(ui) == [], ui
        shot = artifacts_dir / "map_ru_popup.png"
        pg.page.screenshot(path=str(shot))
        _save_docs_img(shot, "map_ru_popup.png")

        # the scale bar and the search box
        assert re.fullmatch(r"\d+[ \u00a0](км|м)", pg.js("document.querySelector('.leaflet-control-scale-line').textContent"))
        assert pg.js("document.querySelector('.rm-search-input').placeholder") == "Найти объект…"
        pg.close_popup()
        pg.page.fill(".rm-search-input", "zzzz-no-such-site")
        assert pg.js("document.querySelector('.rm-search-none').textContent") == "Объект не найден"
        pg.page.fill(".rm-search-input", "")

        # the Russian plural rule of the runtime (one / few / many)
        forms = pg.js("[1, 3, 5, 11, 21, 22, 112].map(n => RISKMAP_MAPS[0].ngettext("
                      "'{n} transboundary site upstream, e.g. {names}', '{n} transboundary sites upstream, e.g. {names}', n)"
                      ".split(' ')[1])")
        assert forms == ["объект", "объекта", "объектов", "объектов", "объект", "объекта", "объектов"]

        # Cyrillic is drawn with real glyphs: no U+FFFD, no missing-glyph boxes
        glyphs = pg.js(_TOFU)
        assert glyphs["cyrillic"] > 200, glyphs
        assert glyphs["fffd"] is False
        assert glyphs["tofu"] == "", glyphs
        pg.assert_clean()
    finally:
        pg.close()


def test_russian_popup_fits_a_phone(browser, russian_map, artifacts_dir):
    """The longer Russian labels: at 390 px the popup and the open legend stay on screen, nothing overflows."""
    m, path = russian_map
    pg = Page(browser, path, width=390, height=844)
    try:
        k = _transboundary_site(m)
        pg.open_site(k)
        pg.page.wait_for_timeout(700)  # fade-in and auto-pan
        box = pg.js("(() => { const r = document.querySelector('.leaflet-popup').getBoundingClientRect();"
                    " return {l: r.left, t: r.top, r: r.right, b: r.bottom, w: innerWidth, h: innerHeight}; })()")
        assert box["l"] >= 0 and box["t"] >= 0 and box["r"] <= box["w"] and box["b"] <= box["h"], box
        # no label or value wider than its cell (a Russian word clipped or running out of the popup)
        over = pg.js("Array.from(document.querySelectorAll('.leaflet-popup-content th, .leaflet-popup-content td,"
                     " .leaflet-popup-content li')).filter(e => e.scrollWidth > e.clientWidth + 1).length")
        assert over == 0
        pg.page.screenshot(path=str(artifacts_dir / "map_ru_phone_popup.png"))
        pg.close_popup()
        pg.page.click(".rm-legend details > summary")
        legend = pg.js("(() => { const e = document.querySelector('.rm-legend');"
                       " return {r: e.getBoundingClientRect().right, sw: e.scrollWidth, cw: e.clientWidth}; })()")
        assert legend["r"] <= 390 and legend["sw"] <= legend["cw"] + 1, legend
        pg.page.screenshot(path=str(artifacts_dir / "map_ru_phone_legend.png"))
        pg.assert_clean()
    finally:
        pg.close()


def test_english_map_keeps_english_in_browser(browser, tmp_path, synthetic_basin, synthetic_sites):
    """The same runtime without a catalogue: the English texts as before (no html lang, no title)."""
    path = maps.save_map(maps.basin_map(synthetic_basin(), synthetic_sites(), lang="en"), tmp_path / "en.html")
    pg = Page(browser, path)
    try:
        assert pg.js("document.documentElement.lang") == ""
        pg.page.click(".rm-filters summary")
        assert pg.js("document.querySelector('.rm-filter-count').textContent") == "8 of 8 sites shown"
        assert pg.js("document.querySelector('.rm-search-input').placeholder") == "Search sites\u2026"
        assert re.fullmatch(r"\d+ (km|m)", pg.js("document.querySelector('.leaflet-control-scale-line').textContent"))
        assert pg.js("document.querySelectorAll('.leaflet-control-scale-line').length") == 2  # metric + imperial
        pg.assert_clean()
    finally:
        pg.close()
