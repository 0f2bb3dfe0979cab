"""Tests of riskmap.report on synthetic inputs (real basins in test_report_real.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import riskmap
from fixtures.report import (  # builders for inputs() (not a test), also used by test_report_ru
    XSS_IMG,
    XSS_SCRIPT,
    assessed_sites,
    fake_basin,
    matrix,
    provenance,
)

from riskmap import report as rp
from riskmap.report_labels import category_name, precision_name, source_name, status_name  # noqa: E402
from riskmap import RiskmapInputError  # noqa: E402

WHEN = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.timezone.utc)


class Tables(HTMLParser):
    """Collect every <table> (cell texts, unescaped) and element ids/attributes of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self.attrs: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.attrs.append((tag, a))
        if tag == "table":
            self._stack.append({"id": a.get("id"), "data": a, "rows": []})
        elif tag == "tr" and self._stack:
            self._stack[-1]["rows"].append([])
        elif tag in ("td", "th") and self._stack:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._stack and self._cell is not None:
            self._stack[-1]["rows"][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> Tables:
    t = Tables()
    t.feed(html)
    return t


def table(t: Tables, **kw) -> list[list[str]]:
    for tb in t.tables:
        if all(tb["data"].get(k) == v for k, v in kw.items()):
            return tb["rows"]
    raise AssertionError(f"no table with {kw}")


def inputs(**kw) -> rp.ReportInputs:
    sp, bp = provenance()
    base = dict(basin_id="drin", sites=assessed_sites(), basin=fake_basin(), matrix=matrix(),
                sites_provenance=sp, basins_provenance=bp)
    base.update(kw)
    return rp.ReportInputs(**base)


_PIXEL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture
def fast_figures(monkeypatch):
    """Skip the matplotlib figures in tests that are not about them (keeps the suite fast)."""
    monkeypatch.setattr(rp, "map_figure", lambda *a, **k: _PIXEL)


@pytest.fixture(scope="module")
def html() -> str:
    return rp.report_html(inputs(), generated_at=WHEN)


@pytest.fixture(scope="module")
def parsed(html) -> Tables:
    return parse(html)


# ----------------------------------------------------------------- self-contained and safe


def test_report_is_self_contained(html, parsed):
    assert html.startswith("<!DOCTYPE html>")
    for tag, a in parsed.attrs:
        for attr in ("src", "href", "data", "action", "poster", "srcset"):
            v = a.get(attr)
            if v is None:
                continue
            assert not re.match(r"^\s*(https?:|//|ftp:|file:)", v, re.I), (tag, attr, v)
            if attr == "src":
                assert v.startswith("data:image/png;base64,"), (tag, v[:40])
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html, re.I)
    assert "@import" not in html
    assert not any(tag in ("link", "script", "iframe", "object", "embed") for tag, _ in parsed.attrs)


def test_html_from_data_is_escaped(html, parsed):
    assert "<script" not in html.lower()
    assert "<img src=x" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # the text survives the escaping: the parsed page shows the names verbatim
    top = table(parsed, id="ranking")
    names = " ".join(r[1] for r in top[1:])
    assert XSS_SCRIPT in names and XSS_IMG in names
    # every <img> in the page is ours (data: PNG), none comes from data
    imgs = [a for tag, a in parsed.attrs if tag == "img"]
    assert len(imgs) == 1 and all(a["src"].startswith("data:image/png") for a in imgs)


# ----------------------------------------------------------------- contents


def _counts(rows):
    return {r[0]: int(r[1]) for r in rows[1:] if r[0] != "total"}


def test_summary_tables_match_the_inventory(parsed):
    s = assessed_sites()
    cat = _counts(table(parsed, **{"data-summary": "Sites by category"}))
    assert cat == {category_name(k): v for k, v in s["category"].value_counts().items()}
    assert "metal-ore tailings facility" in cat  # names, not codes
    status = _counts(table(parsed, **{"data-summary": "Sites by status"}))
    assert status == {status_name(k): v for k, v in s["status"].fillna("unknown").value_counts().items()}
    country = _counts(table(parsed, **{"data-summary": "Sites by country"}))
    assert country == {rp.country_label(k): v for k, v in s["country"].value_counts().items()}
    exp = table(parsed, **{"data-summary": "Sites by exposure class"})
    assert _counts(exp) == s["exposure_class"].value_counts().to_dict()
    assert [r[0] for r in exp[1:-1]] == ["very high", "high", "medium", "low", "outside"]
    for title in ("Sites by category", "Sites by status", "Sites by country"):
        rows = table(parsed, **{"data-summary": title})
        assert rows[-1][:2] == ["total", str(len(s))]


def test_top_sites_in_rank_order_with_reasons(parsed):
    s = assessed_sites()
    top = table(parsed, id="ranking")
    assert top[0] == ["No.", "site", "category", "country", "exposure", "hazard rests on", "why it ranks here"]
    ranks = [int(r[0]) for r in top[1:]]
    assert ranks == sorted(s["priority_rank"].dropna().astype(int).tolist())
    first = top[1]
    assert first == ["1", "Trepça tailings", "metal-ore tailings facility", "Kosovo*", "high", "site data",
                     first[6]]
    # the reasons in words: the border it reaches, what it is, where the water goes; numbers in the annex
    assert "A spill reaches the border of Albania after about 80 km of river (about 20 h)." in first[6]
    assert "A metal-ore tailings facility" in first[6] and "Flows on into Albania and Montenegro." in first[6]
    assert "tri" not in first[6].split() and "_" not in first[6]
    annex = table(parsed, id="ranking-numbers")
    assert annex[0][:3] == ["No.", "site", "priority score"]
    assert annex[1][:2] == ["1", "Trepça tailings"] and annex[1][7] == "80"
    # unranked sites (insufficient data) are not listed as priorities
    assert "-1+2 plant" in " ".join(r[1] for r in top[1:]) and len(top) - 1 == 6


def test_matrix_and_country_sections(parsed, html):
    m = table(parsed, id="exposure-matrix")
    assert m[0] == ["country of the site", "Albania", "Montenegro", "sites (all)",
                    "sites with a transboundary path"]
    rows = {r[0]: r[1:] for r in m[1:]}
    assert rows["Kosovo*"] == ["1", "1", "1", "1"]
    assert rows["Albania"] == ["0", "4", "5", "4"]
    for code in ("ALB", "MKD", "MNE", "XKX"):
        assert f'id="country-{code}"' in html
    sec = html.split('id="country-XKX"')[1].split("</section>")[0]
    assert "Kosovo*" in sec and "1 site," in sec
    # every site is listed once under its country (by name, no identifiers), ranked sites first, with its number
    s = assessed_sites()
    id_of = dict(zip(s["name"], s["site_id"]))
    listed = []
    for code in ("ALB", "MKD", "MNE", "XKX"):
        rows = table(parsed, **{"data-country": code})[1:]
        assert len(rows) == int((s["country"] == code).sum())
        listed += [id_of[r[1]] for r in rows]
    assert sorted(listed) == sorted(s["site_id"])
    alb = table(parsed, **{"data-country": "ALB"})[1:]
    assert [id_of[r[1]] for r in alb] == ["s5", "s6", "s2", "s8", "s7"]  # ranks 2, 3, 4, 5, then unranked
    assert [r[0] for r in alb] == ["2", "3", "4", "5", ""]
    assert alb[0][2:4] == ["thermal power plant", "operating"] and alb[0][7] == "wri-gppd"


def test_data_quality_section(parsed, html):
    s = assessed_sites()
    prec = {r[0]: int(r[2]) for r in table(parsed, id="coord-precision")[1:]}
    assert prec == {precision_name(k): v for k, v in s["coord_precision"].value_counts().items()}
    miss = {r[0]: r[1:] for r in table(parsed, id="missing-fields")[1:]}
    assert miss["tailings volume (m³)"] == ["ash and slag pond, metal-ore tailings facility, red mud (bauxite residue) "
                                           "basin, uranium tailings or waste dump", "1", "0", "0 %"]
    assert miss["capacity (MW)"][1:] == ["1", "1", "100 %"]  # one power plant, capacity unknown
    assert miss["operating status"][1:] == ["8", "1", "12 %"]
    assert "Mean completeness of the scoring inputs: 0.41" in html


def test_every_source_is_cited_with_licence(parsed, html):
    s = assessed_sites()
    rows = table(parsed, id="sources-table")
    cited = {r[0]: r for r in rows[1:]}
    for src in s["source"].unique():
        label = source_name(src)  # readable names for known ids (gem-trackers), else the source's own name
        assert label in cited, src
        n = int(cited[label][2])
        assert n == int((s["source"] == src).sum())
        assert cited[label][3] != "not stated"
    # provenance-only sources (hydrography) are cited too, with attribution
    ne = cited[source_name("natural-earth-10m-admin0-v5.1.2")]
    assert ne[1] == "basin hydrography" and ne[3] == "Public domain" and ne[4] == "Made with Natural Earth"
    assert cited[source_name("gem-trackers")][4] == "Global Energy Monitor, Global Energy Trackers"
    assert cited["fineprint-mining-compilation"][3] == "CC BY-SA 4.0"


def test_methodology_labels_defaults(html):
    assert "riskmap defaults v1 (not official UNECE/ICPDR tables)" in html
    assert "Defaults used." in html
    assert "Water Risk Index" in html and "Tailings Hazard Index" in html


def test_footer_version_date_and_checksums_in_a_provenance_file(html, tmp_path, fast_figures):
    from riskmap.export import export_table

    foot = html.split("<footer>")[1]
    readable = f"{riskmap.__version__} (data {riskmap.data_info()['date']})"  # the checksum only in the provenance
    assert f"riskmap {readable}" in foot and "sha256:" not in foot
    assert "2026-11-27 03:00 UTC" in foot
    digest = hashlib.sha256(export_table(assessed_sites()).to_csv(index=False, lineterminator="\n")
                            .encode("utf-8")).hexdigest()
    assert digest not in html and "ab" * 32 not in html  # no checksum in the report body
    rp.render_report(inputs(), tmp_path, pdf=False, generated_at=WHEN)
    prov = json.loads((tmp_path / "drin_report_provenance.json").read_text(encoding="utf-8"))
    assert prov["report"] == "drin_report.html" and "riskmap " + prov["riskmap"] == riskmap.version_string()
    assert digest in [c["sha256"] for c in prov["inputs"]]
    assert "ab" * 32 in [s["sha256"] for s in prov["sources"]]  # source checksum from provenance


def test_kosovo_footnote_only_when_xkx_appears(html, fast_figures):
    with_xkx = html
    assert "in accordance with UN Security Council resolution 1244" in with_xkx
    assert "Kosovo*" in with_xkx
    s = assessed_sites()
    s = s[s["country"] != "XKX"].copy()
    s["downstream_countries"] = [[c for c in lst if c != "XKX"] for lst in s["downstream_countries"]]
    b = fake_basin()
    b.meta = dict(b.meta, riparian=["ALB", "MKD", "MNE"])
    m = matrix().drop(columns=[]).drop(index=("drin", "XKX"))
    without = rp.report_html(inputs(sites=s, basin=b, matrix=m), generated_at=WHEN)
    assert "resolution 1244" not in without
    assert "Kosovo" not in without.split("<footer>")[0].replace("Kosovo-Albania", "")


def test_source_date_epoch_sets_generation_date(monkeypatch, fast_figures):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    html = rp.report_html(inputs())
    assert "2026-09-21 14:13 UTC" in html.split("<footer>")[1]


def test_hostile_sources_provenance_and_basin_meta_are_escaped(fast_figures):
    evil_src = '"><script>alert(2)</script>'
    evil_attr = "<img src=x onerror=alert(3)>"
    s = assessed_sites()
    s.loc[0, "source"] = evil_src
    s.loc[2, "licence"] = "<b onmouseover=alert(4)>CC</b>"  # a source without provenance entry
    sp, bp = provenance()
    sp["sources"].append({"name": evil_src, "licence": "CC0", "attribution": evil_attr,
                          "url": "javascript:alert(5)"})
    b = fake_basin()
    b.meta = dict(b.meta, name="Drin<script>alert(6)</script>",
                  continuation=[{"water": "<svg onload=alert(7)>", "countries": ["ALB"]}])
    html = rp.report_html(inputs(sites=s, basin=b, sites_provenance=sp), generated_at=WHEN)
    t = parse(html)
    assert not any(tag in ("script", "svg") for tag, _ in t.attrs)
    assert "<b onmouseover" not in html and "&lt;b onmouseover=alert(4)&gt;CC&lt;/b&gt;" in html
    assert not any(k.startswith("on") for _, a in t.attrs for k in a)
    assert not any(str(v).lower().startswith("javascript:") for _, a in t.attrs for v in a.values())
    cited = {r[0]: r for r in table(t, id="sources-table")[1:]}
    assert cited[evil_src][4] == evil_attr  # shown as text


def test_country_labels():
    assert rp.country_label("XKX") == "Kosovo*"
    assert rp.country_label("ALB|MNE") == "Albania / Montenegro (border)"
    assert rp.country_label(float("nan")) == "unknown"


def test_report_is_deterministic_for_fixed_date(html):
    assert rp.report_html(inputs(), generated_at=WHEN) == html


def test_report_without_exposure_or_hazard_columns(fast_figures):
    from riskmap.schema import column_names

    s = assessed_sites()
    bare = s[column_names() + ["geometry"]]
    html = rp.report_html(rp.ReportInputs("drin", bare, basin=None), generated_at=WHEN)
    assert "No ranking" in html and "No exposure matrix" in html
    t = parse(html)
    assert _counts(table(t, **{"data-summary": "Sites by category"})) == {
        category_name(k): v for k, v in s["category"].value_counts().items()}


def test_bad_inputs_raise(fast_figures):
    with pytest.raises(RiskmapInputError):
        rp.report_html(rp.ReportInputs("drin", pd.DataFrame({"name": ["x"]})))
    s = assessed_sites().drop(columns="category")
    with pytest.raises(RiskmapInputError, match="category"):
        rp.report_html(rp.ReportInputs("drin", s))


def test_render_writes_html_atomically_and_keeps_old_on_failure(tmp_path, monkeypatch, fast_figures):
    p = rp.render_report(inputs(), tmp_path, pdf=False, generated_at=WHEN)
    assert p == tmp_path / "drin_report.html"
    before = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("template failure")

    monkeypatch.setattr(rp, "report_html", boom)
    with pytest.raises(RuntimeError):
        rp.render_report(inputs(), tmp_path, pdf=False)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["drin_report.html", "drin_report_provenance.json"]


def test_build_report_links_interactive_map(tmp_path, fast_figures):
    p = rp.build_report(inputs(interactive_map="drin_map.html"), tmp_path, pdf=False, generated_at=WHEN)
    html = p.read_text(encoding="utf-8")
    assert '<a href="drin_map.html">drin_map.html</a>' in html


# ----------------------------------------------------------------- PDF


def _chromium_available() -> bool:
    from riskmap.report_pdf import find_browser

    return find_browser() is not None


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory):
    import os

    if not _chromium_available():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing (needed for PDF output) and CI is set")
        pytest.skip("chromium not installed")
    out = tmp_path_factory.mktemp("pdf")
    rp.render_report(inputs(), out, pdf=True, generated_at=WHEN)
    return out / "drin_report.pdf"


def _need_poppler() -> None:
    import os

    if shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext/pdfinfo (Debian poppler-utils) missing and CI is set")
        pytest.skip("pdftotext (poppler-utils) not installed")


def _pdftotext(p: Path, layout: bool = True) -> str:
    _need_poppler()
    args = ["pdftotext", *(["-layout"] if layout else []), str(p), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.mark.browser  # prints with headless Chromium
def test_pdf_text(pdf_path):
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    text = _pdftotext(pdf_path)
    flat = " ".join(text.split())
    squeezed = "".join(_pdftotext(pdf_path, layout=False).split())  # table cells wrap long words
    assert "".join(XSS_SCRIPT.split()) in squeezed
    for needle in ("Drin River Basin", "Executive summary", "Key findings", "Priority sites",
                   "Who is exposed", "Recommendations", "Limitations", "Data quality", "Methodology",
                   "Sources, licences and attributions", "resolution 1244", "Trepça tailings",
                   "riskmap defaults v1"):
        assert needle in flat, needle
    for src in assessed_sites()["source"].unique():
        assert "".join(source_name(src).split()) in squeezed, src
    pages = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout
    n = int(re.search(r"Pages:\s+(\d+)", pages).group(1))
    assert 3 <= n <= 30
    assert f"page {n} of {n}" in flat and "Drin basin: technological risk inventory" in flat


# ----------------------------------------------------------------- CLI


def test_cli_report_and_export_use_prepared_inputs(tmp_path, monkeypatch, fast_figures):
    from click.testing import CliRunner

    from riskmap.cli import main

    calls = []

    def fake_prepare(basin, sites=None, data_dir=None, read=None, score_options=None):
        calls.append(basin)
        return inputs()

    monkeypatch.setattr(rp, "prepare_inputs", fake_prepare)
    runner = CliRunner()
    r = runner.invoke(main, ["report", "drin", "-o", str(tmp_path / "out"), "--no-pdf"])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "out" / "drin_report.html").read_text(encoding="utf-8")
    assert "Trepça tailings" in html
    assert not (tmp_path / "out" / "drin_report.pdf").exists()
    try:
        import riskmap.maps  # noqa: F401
    except ImportError:
        pass
    else:
        assert (tmp_path / "out" / "drin_map.html").is_file()
        assert 'href="drin_map.html"' in html
    r = runner.invoke(main, ["export", "drin", "--format", "csv", "-o", str(tmp_path / "drin.csv")])
    assert r.exit_code == 0, r.output
    assert "8 sites" in r.output
    assert (tmp_path / "drin.csv").read_bytes().startswith(b"site_id,name,category")
    assert calls == ["drin", "drin"]
    r = runner.invoke(main, ["export", "danube", "-o", str(tmp_path / "x.csv")])
    assert r.exit_code != 0 and "danube" in r.output


def test_field_coverage_section_escapes_and_counts(fast_figures):
    s = assessed_sites()
    s["field_sources"] = None
    s.loc[0, "tailings_volume_m3"] = 1e6
    s.loc[0, "field_sources"] = '{"tailings_volume_m3": "questionnaire ALB 2026-11-03 (respondent: <b>x</b>)"}'
    s.loc[1, "dam_condition"] = "<script>alert(1)</script>"
    s.loc[1, "field_sources"] = '{"dam_condition": "questionnaire <script>ALB</script> 2026-11-03"}'
    html = rp.report_html(inputs(sites=s), generated_at=WHEN)
    assert "<script>ALB" not in html and "&lt;script&gt;ALB&lt;/script&gt;" in html
    rows = table(parse(html), id="field-coverage")
    assert rows[0][:3] == ["country", "category", "sites"] and rows[0][-1] == "filled by"
    by = " ".join(r[-1] for r in rows[1:])
    assert "questionnaire ALB 2026-11-03 1" in by and "<b>" not in by
    assert "2 site(s) hold values from questionnaire returns" in " ".join(html.split())
    sp, _ = provenance()
    sp = {**(sp or {}), "after": {"files": [{"file": "r.xlsx"}], "score_change": {"moved": 3, "touched": 4}}}
    html = rp.report_html(inputs(sites=s, sites_provenance=sp), generated_at=WHEN)
    assert ("merged 1 questionnaire return(s): 3 of the 4 sites they filled moved from \"insufficient data\" "
            "to a score") in " ".join(html.split()).replace("&#34;", '"')


def test_downstream_population_table(fast_figures):
    s = assessed_sites()
    s["downstream_pop_first_km"] = [1000.0, 0.0, None, 5.0, 6.0, 7.0, 8.0, 9.0]
    s["downstream_pop_to_border"] = [1000.0, 0.0, None, 5.0, 6.0, 7.0, 8.0, 9.0]
    s["downstream_pop_total"] = [250000.0, 12.0, None, 5.0, 6.0, 7.0, 8.0, 9.0]
    s["downstream_pop_by_country"] = ['{"ALB": 200000, "MNE": 50000}', '{"<i>X</i>": 12}', None, "{}", "{}", "{}",
                                      "{}", "{}"]
    html = rp.report_html(inputs(sites=s), generated_at=WHEN)
    rows = table(parse(html), id="downstream-population")
    assert len(rows) == 1 + 7  # the site without a path is not listed
    assert rows[1][2:5] == ["1,000", "1,000", "250,000"] and "50,000" in rows[1][5]
    assert "<i>X</i>" not in html and "&lt;i&gt;X&lt;/i&gt;" in html
