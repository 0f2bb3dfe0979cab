"""The report as a publication (issue 18 item 1): the printed PDF of each real basin, read back as text.

Each basin's report is printed with headless Chromium and read with pdftotext
(poppler-utils): it must have an executive summary, key findings, limitations
and recommendations, speak in names rather than machine identifiers, and never
leave a heading or a table header alone at the foot of a page. Page images
(pdftoppm) go to ``test-artifacts/report_<basin>/`` for review; with
``RISKMAP_UPDATE_DOCS=1`` the first pages are also copied to ``docs/img/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import riskmap
from riskmap import report as rp
from riskmap import DATA_DIR
from riskmap.report_sections import ACCURACY

BASINS = ["drin", "drina", "syr_darya"]
WHEN = dt.datetime(2026, 11, 27, 21, 0, tzinfo=dt.timezone.utc)
ROOT = Path(__file__).resolve().parents[1]

#: Machine identifiers that must never reach a reader (schema codes, source ids, score terms, field names).
FORBIDDEN = ("tailings_metal", "tailings_red_mud", "tailings_uranium", "dam_reservoir", "thermal_power_plant",
             "smelter_refinery", "oil_gas_extraction", "under_construction", "gem-ghpt", "gem-ggit", "gem-gcpt",
             "wri-gppd", "usgs-pge-ni-cr", "priority_hazard_part", "priority_exposure_part", "score_terms",
             "thi_toxicity", "exp_transboundary", "category_proxy", "downstream_countries", "first_border_river_km",
             "coord_precision", "score_status", "reservoir_volume_m3", "_m3", "_km", "_mw", "insufficient_data",
             "metal_pb_zn", "sha256")

#: snake_case words (two or more lower-case parts joined by "_"): field names and codes. Not file names
#: (``drin_report_provenance.json``, named for the reader) and not the FINEPRINT dataset name quoted in
#: the attribution its licence requires.
SNAKE = re.compile(r"\b(?!compilation_mining_data\b)[a-z]+(?:_[a-z0-9]+)+\b(?!\.json)")


def _need_tools() -> None:
    from riskmap.report_pdf import find_browser

    missing = [t for t in ("pdftotext", "pdftoppm", "pdfinfo") if shutil.which(t) is None]
    if find_browser() is None:
        missing.append("chromium")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright")
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"missing for the PDF checks: {', '.join(missing)}")
        pytest.skip(f"missing for the PDF checks: {', '.join(missing)}")


@pytest.fixture(scope="module")
def prepared():
    if not (DATA_DIR / "sites" / "sites.csv").is_file():
        pytest.skip("data/sites/sites.csv not built")
    from riskmap.pipeline import ReadOptions, prepare

    return prepare(read=ReadOptions(strict=True))  # one inventory: all basins assessed once, then selected


@pytest.fixture(scope="module")
def pdfs(prepared, tmp_path_factory, artifacts_dir):
    _need_tools()
    out = tmp_path_factory.mktemp("reports")
    result = {}
    for b in BASINS:
        if not (DATA_DIR / "basins" / f"{b}.gpkg").is_file():
            continue
        inputs = rp.report_inputs(b, prepared)
        rp.render_report(inputs, out, pdf=True, generated_at=WHEN)
        result[b] = (out / f"{b}_report.pdf", inputs)
        pages = artifacts_dir / f"report_{b}"
        shutil.rmtree(pages, ignore_errors=True)
        pages.mkdir()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(out / f"{b}_report.pdf"), str(pages / "page")],
                       check=True)
    if not result:
        pytest.skip("no basin built")
    return result


def _pages(pdf: Path) -> list[str]:
    n = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                        check=True).stdout).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")
    return [p for p in pages if p.strip()][:n]


def _body_lines(page: str) -> list[str]:
    """Lines of a page without the running footer."""
    return [" ".join(ln.split()) for ln in page.splitlines()
            if ln.strip() and not re.search(r"page \d+ of \d+", ln)]


@pytest.mark.browser
@pytest.mark.parametrize("basin", BASINS)
def test_pdf_is_a_publication(basin, pdfs):
    if basin not in pdfs:
        pytest.skip(f"{basin} not built")
    pdf, inputs = pdfs[basin]
    pages = _pages(pdf)
    flat = " ".join(" ".join(pages).split())
    name = rp.BASIN_NAMES.get(basin, basin)
    # title page: basin display name, date, version, disclaimer
    title = " ".join(pages[0].split())
    assert f"{name} River Basin" in title and "27 November 2026" in title and f"{riskmap.__version__} (data {riskmap.data_info()['date']})" in title
    assert "do not imply official endorsement or acceptance by the United Nations" in title
    if "Kosovo*" in flat:
        assert "resolution 1244" in title
    for needle in ("Executive summary", "Key findings", "Priority sites", "why it ranks here",
                   "Recommendations for transboundary cooperation", "Limitations", "Annex: the numbers behind"):
        assert needle in flat, needle
    assert f"The inventory holds {len(inputs.sites)} sites in the {name} basin" in flat
    assert f"median error of {ACCURACY['km_median_error']}" in flat  # a measured limit
    # no machine identifiers, no snake_case, no checksums in the body
    for word in FORBIDDEN:
        assert word not in flat, word
    assert not SNAKE.findall(flat), SNAKE.findall(flat)[:10]
    assert not re.search(r"\b[0-9a-f]{64}\b", flat)


@pytest.mark.browser
@pytest.mark.parametrize("basin", BASINS)
def test_no_heading_or_table_header_alone_at_a_page_foot(basin, pdfs):
    if basin not in pdfs:
        pytest.skip(f"{basin} not built")
    pdf, _ = pdfs[basin]
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    headings = {" ".join(re.sub(r"<[^>]+>", "", h).split())
                for h in re.findall(r"<h[23][^>]*>(.*?)</h[23]>", html, re.S)}
    header_words = [set(" ".join(re.sub(r"<[^>]+>", " ", th).split()).split())
                    for th in re.findall(r"<thead>(.*?)</thead>", html, re.S)]
    pages = _pages(pdf)
    for k, page in enumerate(pages[:-1], 1):
        lines = _body_lines(page)
        if not lines:
            continue
        last = lines[-1]
        for ln in lines[-3:]:  # a heading with at most two lines (its intro) under it at the foot is stranded
            assert ln not in headings, f"page {k} ends with the heading {ln!r}: {lines[-3:]}"
        words = set(last.split())
        assert not (len(words) >= 2 and any(words <= hw for hw in header_words)), \
            f"page {k} ends with a table header: {last!r}"


@pytest.mark.browser
def test_page_images_written(pdfs, artifacts_dir):
    for b in pdfs:
        imgs = sorted((artifacts_dir / f"report_{b}").glob("page-*.png"))
        assert len(imgs) >= 5 and all(p.stat().st_size > 1000 for p in imgs)
    if os.environ.get("RISKMAP_UPDATE_DOCS"):
        for b in pdfs:
            imgs = sorted((artifacts_dir / f"report_{b}").glob("page-*.png"))
            for k, p in enumerate(imgs[:4], 1):
                shutil.copyfile(p, ROOT / "docs" / "img" / f"report_{b}_page{k}.png")


def test_accuracy_figures_match_docs():
    doc = ROOT / "docs" / "accuracy.md"
    if not doc.is_file():
        pytest.skip("docs/accuracy.md not in this installation")
    text = doc.read_text(encoding="utf-8")
    assert f"| basin membership right | {ACCURACY['basin_right'][0]} of {ACCURACY['basin_right'][1]} |" in text
    assert (f"| foreign countries downstream in the right order | {ACCURACY['order_right'][0]} of "
            f"{ACCURACY['order_right'][1]} |") in text
    assert (f"| river km to the first border within range | {ACCURACY['km_in_range'][0]} of "
            f"{ACCURACY['km_in_range'][1]} |") in text
    assert f"| median error against the range midpoint | {ACCURACY['km_median_error']}" in text


def test_one_ranking_covers_every_site(prepared):
    inputs = rp.report_inputs("drina", prepared)
    ctx = rp.report_context(inputs, generated_at=WHEN)
    ranked = [r["no"] for r in ctx["ranking"]]
    assert ranked == list(range(1, len(ranked) + 1)) and len(ranked) == min(rp.TOP_N, len(inputs.sites))
    # the numbers in the country tables are the ranking's numbers, each site once
    numbers = sorted(int(s["no"]) for c in ctx["countries"] for s in c["sites"] if s["no"])
    assert numbers == list(range(1, len(inputs.sites) + 1))
    for r in ctx["ranking"]:
        assert 2 <= len(r["reasons"]) <= 4
        assert not any(SNAKE.search(w) for w in r["reasons"])
    assert ctx["executive_summary"] and ctx["findings"] and ctx["limitations"] and ctx["recommendations"]
