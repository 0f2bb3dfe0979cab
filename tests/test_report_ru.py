"""The basin report in Russian (issue #20): frame, labels, numbers, figures, PDF and browser.

The prose of ``riskmap.report_sections`` (domain ``report_text``) is translated
on another branch; the English-label checks here look only at what the report
frame owns: headings, table headers, the title page, the key figures, the notes
and the tables whose labels come from ``riskmap.report_labels``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

from fixtures.report import XSS_SCRIPT

from riskmap import report as rp
from riskmap import report_labels as rl
from riskmap.i18n import current_lang, use_lang
from test_report import WHEN, inputs, parse, table  # noqa: E402

#: English words of the frame that must not be left in the Russian report (whole words, any case).
ENGLISH_LABELS = (
    "Contents", "Summary", "Executive summary", "Key findings", "Sites", "Site", "Category", "Status",
    "Country", "Countries", "Downstream", "unknown", "not known", "Table", "Figure", "Source", "Sources",
    "share", "total", "No.", "River Basin", "basin", "Methodology", "Limitations", "Recommendations", "Annex",
    "Data quality", "Exposure", "exposure", "hazard", "location", "precision", "meaning", "licence",
    "attribution", "Generated", "Prepared", "Riparian", "page", "km", "operating", "closed", "abandoned",
    "very high", "high", "medium", "low", "mine", "plant", "tailings", "reservoir",
)

#: Elements whose whole text belongs to the report frame (no prose from report_sections, no data).
FRAME_TAGS = frozenset({"title", "h1", "h2", "h3", "th", "nav"})
FRAME_CLASSES = frozenset({"subtitle", "meta", "kpi", "disclaimer"})

#: Parts whose labels come from riskmap.report_sections (domain report_text, translated on another
#: branch): the exposure matrix, the annex and coverage headers, the country sections' headings.
#: Widen the checks to them once that branch is merged.
_NOT_OURS = (r'<table id="exposure-matrix">.*?</table>', r'<table id="ranking-numbers".*?</table>',
             r'<table id="field-coverage".*?</table>', r'(?<=<section class="country" id="country-...">\n)<h3>.*?</h3>')


def frame_html(html: str) -> str:
    """The report without the parts whose text report_sections writes."""
    for pat in _NOT_OURS:
        html = re.sub(pat, "", html, flags=re.S)
    return html


class Frame(HTMLParser):
    """Text of the frame elements (by tag or class), of the summary tables and of the <html lang>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.texts: list[tuple[str, str]] = []
        self._open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        classes = set((a.get("class") or "").split())
        if tag in FRAME_TAGS or classes & FRAME_CLASSES:
            self._open.append((tag, tag, []))

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _, what, buf = self._open.pop()
            self.texts.append((what, " ".join("".join(buf).split())))

    def handle_data(self, data):
        for _, _, buf in self._open:
            buf.append(data)


def _english_left(texts: list[str]) -> list[tuple[str, str]]:
    out = []
    for text in texts:
        for word in ENGLISH_LABELS:
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, flags=re.I):
                out.append((word, text))
    return out


@pytest.fixture(scope="module")
def html_ru() -> str:
    return rp.report_html(inputs(), generated_at=WHEN, lang="ru")


@pytest.fixture(scope="module")
def html_en() -> str:
    return rp.report_html(inputs(), generated_at=WHEN)


# ----------------------------------------------------------------- the frame in Russian


def test_russian_frame_has_no_english_label(html_ru):
    f = Frame()
    f.feed(frame_html(html_ru))
    assert f.lang == "ru"
    texts = [t for _, t in f.texts]
    assert len(texts) > 80  # headings, headers, nav, title page, key figures
    assert _english_left(texts) == []
    headings = [t for what, t in f.texts if what in ("title", "h1", "h2", "h3")]
    assert len(headings) > 15 and all(re.search(r"[А-Яа-яЁё]", t) for t in headings), headings
    # the check itself finds English: the same frame of the English report is full of it
    g = Frame()
    g.feed(frame_html(rp.report_html(inputs(), generated_at=WHEN)))
    assert len(_english_left([t for _, t in g.texts])) > 80


def test_russian_summary_and_label_tables_are_translated(html_ru):
    parsed = parse(html_ru)
    for key, head in (("Sites by category", "Категория"), ("Sites by status", "Статус"),
                      ("Sites by country", "Страна"), ("Sites by exposure class", "Класс подверженности воздействию")):
        rows = table(parsed, **{"data-summary": key})  # the machine-readable key stays English
        assert rows[0] == [head, "число объектов", "доля"]
        assert rows[-1][0] == "итого"
        labels = [r[0] for r in rows[1:-1]]
        assert labels and all(re.search(r"[А-Яа-яЁё]", x) for x in labels), labels
        assert _english_left(labels) == []
    countries = [r[0] for r in table(parsed, **{"data-summary": "Sites by country"})[1:-1]]
    assert "Косово*" in countries and "Албания" in countries and "Северная Македония" in countries
    exposure = [r[0] for r in table(parsed, **{"data-summary": "Sites by exposure class"})[1:-1]]
    assert set(exposure) <= {"очень высокий", "высокий", "средний", "низкий", "вне бассейна", "неизвестно"}
    # the category help table: Russian names and meanings, with the glossary's терм for tailings facilities
    cats = next(tb["rows"] for tb in parsed.tables if tb["rows"] and tb["rows"][0] == ["категория", "значение"])
    assert ["Хвостохранилище металлических руд",
            "Хвостохранилище, металлические руды (Pb, Zn, Cu, Au, Sb, Hg ...)"] in cats
    assert _english_left([c for r in cats[1:] for c in r]) == []
    uses = {r[1] for r in table(parsed, id="sources-table")[1:]}
    assert uses and uses <= {"перечень объектов", "гидрография бассейна", "предварительная оценка Natech"}, uses


def test_russian_numbers_dates_and_units(html_ru):
    summary = html_ru.split('data-summary="Sites by category"')[1].split("</table>")[0]
    shares = re.findall(r'<td class="num">([^<]*%)</td>', summary)
    assert shares and all(re.fullmatch(r"\d+\u00a0%", s) for s in shares), shares  # 38 %, no-break space
    assert "27 ноября 2026\u202fг." in html_ru  # format_date, not "27 November 2026"
    assert "November" not in html_ru
    assert "пронумерованы первые 20" in html_ru  # the sentence keeps its own word order
    # the Jinja filters of the report format numbers for the language: decimal comma, no-break thousands
    env = rp.jinja_environment()
    with use_lang("ru"):
        got = env.from_string("{{ 0.41 | fmt }}|{{ 12345.5 | fmt(1) }}|{{ 1234 | count }}|{{ none | fmt }}").render()
    assert got == "0,41|12\u00a0345,5|1\u00a0234|неизвестно"
    assert env.from_string("{{ 0.41 | fmt }}|{{ 1234 | count }}").render() == "0.41|1234"


def test_russian_report_keeps_data_and_escapes_it(html_ru):
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_ru and "<script" not in html_ru.lower()
    assert "Trepça tailings" in html_ru  # site names are data: never translated
    assert 'data-summary="Sites by category"' in html_ru  # schema/machine keys stay English
    assert XSS_SCRIPT not in html_ru


def test_names_inside_translated_sentences_are_escaped(monkeypatch):
    monkeypatch.setattr(rp, "map_figure", lambda *a, **k: "data:image/png;base64,")
    html = rp.report_html(inputs(basin_name='<b onmouseover="x">Дрин</b>'), generated_at=WHEN, lang="ru")
    assert "<b onmouseover" not in html
    assert "Бассейн реки &lt;b onmouseover=&#34;x&#34;&gt;Дрин&lt;/b&gt;" in html


def test_kosovo_footnote_in_russian(html_ru):
    assert "Совета Безопасности ООН" in html_ru and "1244" in html_ru
    assert "Security Council" not in html_ru


def test_english_report_is_unchanged_by_the_language_layer(html_en):
    assert html_en.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert rp.report_html(inputs(), generated_at=WHEN, lang="en") == html_en
    with use_lang("ru"):  # lang= wins over the surrounding language, and is restored afterwards
        assert rp.report_html(inputs(), generated_at=WHEN, lang="en") == html_en
        assert current_lang() == "ru"
    assert current_lang() == "en"
    assert not re.search(r"[А-Яа-яЁё]", re.sub(r"data:image/png;base64,[^\"]+", "", html_en))
    for s in ("<h2>Executive summary</h2>", "<th>total</th>", "27 November 2026",
              "The boundaries and names shown and the designations used on the maps and in this report"):
        assert s in html_en


def test_current_language_is_used_when_lang_is_none(html_ru):
    with use_lang("ru"):
        assert rp.report_html(inputs(), generated_at=WHEN) == html_ru


def test_unknown_language_is_a_clear_error():
    from riskmap import RiskmapInputError

    with pytest.raises(RiskmapInputError, match="unknown language 'fr'"):
        rp.report_html(inputs(), generated_at=WHEN, lang="fr")


# ----------------------------------------------------------------- labels


def test_category_counts_have_the_three_russian_plural_forms():
    with use_lang("ru"):
        assert [rl.category_plural("mine", n) for n in (1, 2, 5, 11, 21)] == [
            "1 горнодобывающее предприятие", "2 горнодобывающих предприятия", "5 горнодобывающих предприятий",
            "11 горнодобывающих предприятий", "21 горнодобывающее предприятие"]
        assert rl.category_plural("dam_reservoir", 3) == "3 плотины и водохранилища"
        assert rl.category_plural("tailings_metal", 7) == "7 хвостохранилищ металлических руд"
        assert rl.category_plural("brand_new", 2) == "2 brand new"  # an unknown code is shown as words
        assert rl.status_name("under_construction") == "строящийся"
        assert rl.status_name(None) == "неизвестно"
        assert rl.precision_name("exact") == "точная (около 100 м)"
        assert rl.exposure_name("outside") == "вне бассейна"
        assert rl.term_name("thi") == "Индекс опасности хвостохранилищ"
        assert rl.field_name("reservoir_volume_m3") == "объём водохранилища (м³)"
    # English as before
    assert rl.category_plural("mine", 1) == "1 mine" and rl.category_plural("mine", 2) == "2 mines"
    assert rl.category_plural("tailings_red_mud", 1) == "1 red mud (bauxite residue) basin"
    assert rl.category_plural("tailings_red_mud", 2) == "2 red mud basins"
    assert rl.status_name("unknown") == "not known" and rl.exposure_name("very high") == "very high"


def test_category_help_follows_the_schema():
    from riskmap.schema import CATEGORIES

    assert rl.CATEGORY_HELP == CATEGORIES  # the marked copy must say what the schema says
    with use_lang("ru"):
        assert all(re.search(r"[А-Яа-яЁё]", rl.category_help(k)) for k in CATEGORIES)


# ----------------------------------------------------------------- figures


def test_russian_map_figure_renders_cyrillic_without_missing_glyphs(monkeypatch, assessed_sites, fake_basin):
    import matplotlib.axes

    seen: list[str] = []
    orig_text, orig_legend = matplotlib.axes.Axes.text, matplotlib.axes.Axes.legend
    orig_annotate = matplotlib.axes.Axes.annotate

    def text(self, x, y, s, *a, **k):
        seen.append(str(s))
        return orig_text(self, x, y, s, *a, **k)

    def annotate(self, s, *a, **k):
        seen.append(str(s))
        return orig_annotate(self, s, *a, **k)

    def legend(self, *a, **k):
        leg = orig_legend(self, *a, **k)
        seen.extend([leg.get_title().get_text(), *(t.get_text() for t in leg.get_texts())])
        return leg

    monkeypatch.setattr(matplotlib.axes.Axes, "text", text)
    monkeypatch.setattr(matplotlib.axes.Axes, "legend", legend)
    monkeypatch.setattr(matplotlib.axes.Axes, "annotate", annotate)
    with warnings.catch_warnings(record=True) as caught, use_lang("ru"):
        warnings.simplefilter("always")
        uri = rp.map_figure(assessed_sites(), fake_basin(), "Бассейн реки Дрин: 8 объектов", numbers=None)
    assert uri.startswith("data:image/png;base64,")
    glyphs = [str(w.message) for w in caught if "glyph" in str(w.message).lower()]
    assert glyphs == []
    assert "класс подверженности воздействию" in seen  # legend title
    assert any(s.startswith("очень высокий (") for s in seen)  # legend entries
    assert any(re.fullmatch(r"\d+ км", s) for s in seen)  # scale bar unit
    assert "С" in seen  # north arrow


# ----------------------------------------------------------------- PDF and browser (real basin)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (poppler-utils) missing and CI is set")
        pytest.skip(f"{name} (poppler-utils) not installed")
    return path


@pytest.fixture(scope="module")
def drin_ru(tmp_path_factory, chromium_path) -> Path:
    from riskmap import DATA_DIR

    pytest.importorskip("playwright")
    if not (DATA_DIR / "basins" / "drin.gpkg").is_file() or not (DATA_DIR / "sites" / "sites.csv").is_file():
        pytest.skip("bundled data not built yet")
    out = tmp_path_factory.mktemp("report_ru")
    with pytest.MonkeyPatch.context() as mp:  # print with the browser the tests use, without leaking the setting
        mp.setenv("RISKMAP_CHROMIUM", chromium_path)
        return rp.build_report("drin", out, pdf=True, lang="ru", generated_at=WHEN)


def _update_docs(*images: Path) -> None:
    """Copy screenshots to docs/img when RISKMAP_UPDATE_DOCS=1 (as test_report_publication does)."""
    if os.environ.get("RISKMAP_UPDATE_DOCS") == "1":
        docs = Path(__file__).resolve().parents[1] / "docs" / "img"
        for im in images:
            shutil.copyfile(im, docs / im.name)


def test_russian_pdf_has_extractable_cyrillic_and_embedded_fonts(drin_ru, artifacts_dir):
    pdf = drin_ru.with_suffix(".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 50_000
    text = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "\ufffd" not in text
    for s in ("Бассейн реки Дрин", "Резюме", "Приоритетные объекты", "Качество данных", "хвостохранилищ",
              "27 ноября 2026", "стр. 1 из"):
        assert s in text, s
    fonts = subprocess.run([_tool("pdffonts"), str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows
    for r in rows:  # name type encoding emb sub uni object ID: every font embedded, with a ToUnicode map
        emb, sub, uni = r[-5:-2]
        assert (emb, uni) == ("yes", "yes"), r
    # the HTML it was printed from is Russian too, with the real numbers formatted for Russian
    html = drin_ru.read_text(encoding="utf-8")
    assert '<html lang="ru">' in html
    assert re.search(r"Площадь бассейна по карте: \d{1,3}(\u00a0\d{3})* км²", html)
    first = artifacts_dir / "report_ru"  # page 1 for review (docs/img/report_ru.png)
    subprocess.run([_tool("pdftoppm"), "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(first)],
                   check=True)
    _update_docs(first.with_suffix(".png"))


def test_russian_report_in_the_browser(drin_ru, artifacts_dir, chromium_path):
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM_ARGS

    url = drin_ru.resolve().as_uri()
    blocked, errors = [], []

    def route(r):
        if r.request.url == url or r.request.url.startswith("data:"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1400})
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url, wait_until="load")
            assert page.title() == "Бассейн реки Дрин: перечень объектов техногенного риска"
            assert page.evaluate("document.documentElement.lang") == "ru"
            heads = page.eval_on_selector_all(
                "h1, h2, section:not(.country) > h3, nav a, table:not(#exposure-matrix):not(#ranking-numbers)"
                ":not(#field-coverage) th", "els => els.map(e => e.innerText)")
            assert _english_left(heads) == []
            # Cyrillic is drawn with a real font: the heading is as wide as its text needs
            width = page.evaluate("(() => { const r = document.createRange();"
                                  " r.selectNodeContents(document.querySelector('h1')); return r.getBoundingClientRect().width; })()")
            assert width > 200
            imgs = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert imgs and all(w > 100 for w in imgs)
            n_rows = page.eval_on_selector_all("table.site-list tr", "els => els.length")
            n_tables = page.eval_on_selector_all("table.site-list", "els => els.length")
            assert n_rows - n_tables == int(page.inner_text(".kpi b").replace("\u00a0", ""))
            page.evaluate("document.querySelector('#priority').scrollIntoView()")
            page.set_viewport_size({"width": 1100, "height": 1300})
            page.screenshot(path=str(artifacts_dir / "report_ru_table.png"), full_page=False)
        finally:
            browser.close()
    assert errors == [] and blocked == []
    _update_docs(artifacts_dir / "report_ru_table.png")
