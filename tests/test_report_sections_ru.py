"""The report's generated prose in Russian (riskmap.report_sections, gettext domain ``report_text``).

Built from the real bundled basins (Drina, Syr Darya) and from the synthetic
report fixture: in Russian no English sentence is left outside the data (site
names and the category/status labels of riskmap.report_labels, translated
elsewhere), counts take the right Russian plural form, numbers have decimal
commas and no-break-space thousands; in English the text is what it was.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from riskmap import report_sections as rs
from riskmap import DATA_DIR
from riskmap.i18n import use_lang
from riskmap.report_labels import (
    CATEGORY_NAMES,
    PRECISION_NAMES,
    SCORE_STATUS_NAMES,
    STATUS_NAMES,
    category_name,
    category_plural,
    precision_name,
    score_status_name,
    status_name,
)

#: Three or more ASCII words in a row: an English phrase (a single word such as "riskmap",
#: "GeoNames" or "ICPDR", or a file name such as docs/accuracy.md, is not one).
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ \u00a0]+[A-Za-z]{2,}){2,}\b")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
#: A decimal point between digits ("12.5"): English number format.
DECIMAL_POINT = re.compile(r"\d\.\d")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _build(sites: pd.DataFrame, meta: dict, basin_name: str) -> dict:
    """Every piece of generated prose of the report sections, in the current language."""
    ranked = rs.ranking_frame(sites)
    ranking = rs.ranking_context(ranked)
    return {
        "summary": rs.executive_summary(ranked, ranking, basin_name),
        "findings": rs.key_findings(ranked, ranking),
        "limitations": rs.limitations_context(ranked, meta),
        "recommendations": rs.recommendations_context(ranked, ranking),
        "ranking": ranking,
        "quality": rs.quality_context(ranked),
        "method": rs.methodology_context(ranked),
        "countries": rs.country_sections(ranked, list(meta.get("riparian") or [])),
    }


def _prose(ctx: dict) -> list[str]:
    """The sentences and labels riskmap writes (no site names, no category or status labels)."""
    out = [*ctx["summary"], *ctx["findings"]]
    for item in [*ctx["limitations"], *ctx["recommendations"]]:
        out += [item["title"], item["text"]]
    for r in ctx["ranking"]:
        out += [*r["reasons"], r["exposure_class"], r["country"], *r["numbers"]]
    out += [r["share"] for r in ctx["quality"]["missing"]]
    out += [r["label"] for r in ctx["method"]["exposure_classes"]]
    for c in ctx["countries"]:
        out += [c["label"], *c["reaches"]]
    return out


def _data_values(sites: pd.DataFrame, basin_name: str) -> list[str]:
    """Texts that are data or labels owned by riskmap.report_labels, longest first (removed before checking)."""
    vals = {basin_name, *(str(v) for v in sites["name"].dropna())}
    counts = sites["category"].value_counts()
    for code in CATEGORY_NAMES:
        name = category_name(code)
        vals |= {name, name[:1].upper() + name[1:], name.capitalize()}  # as at the start of a sentence
        vals |= {category_plural(code, int(k)) for k in counts.to_numpy()}
    vals |= {status_name(c) for c in STATUS_NAMES} | {precision_name(c) for c in PRECISION_NAMES}
    vals |= {score_status_name(c) for c in SCORE_STATUS_NAMES}
    return sorted((v for v in vals if v), key=len, reverse=True)


def _strip(texts: list[str], data: list[str]) -> list[str]:
    """``texts`` with every data value replaced by "§"."""
    out = []
    for t in texts:
        for v in data:
            t = t.replace(v, "§")
        out.append(t)
    return out


def _english_runs(texts: list[str], data: list[str]) -> list[str]:
    return [run for t in _strip(texts, data) for run in ENGLISH_RUN.findall(t)]


def _sites(n: int, category: str = "mine", **cols) -> pd.DataFrame:
    """``n`` made-up sites in Kyrgyzstan (one column per keyword, a scalar or a list)."""
    base = {"site_id": [f"s{i}" for i in range(n)], "name": [f"Site {i}" for i in range(n)],
            "category": category, "country": "KGZ", "status": "operating", "coord_precision": "approximate",
            "score_status": "insufficient data", "transboundary_downstream": True,
            "downstream_countries": [["KGZ", "UZB"]] * n, "exposure_class": "high",
            "first_border_river_km": 80.0, "travel_time_h": 20.0}
    base.update(cols)
    return pd.DataFrame({k: (v if isinstance(v, list) else [v] * n) for k, v in base.items()})


# --------------------------------------------------------------------------
# real bundled data
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    if not (DATA_DIR / "sites" / "sites.csv").is_file():
        pytest.skip("data/sites/sites.csv not built")
    from riskmap import report as rp
    from riskmap.pipeline import ReadOptions, prepare
    from riskmap.report_figures import basin_part

    prepared = prepare(read=ReadOptions(strict=True))
    out = {}
    for b in ("drina", "syr_darya"):
        if not (DATA_DIR / "basins" / f"{b}.gpkg").is_file():
            continue
        inputs = rp.report_inputs(b, prepared)
        meta = basin_part(inputs.basin, "meta") or {}
        sites = rs.ranking_frame(inputs.sites)
        out[b] = (sites, meta, str(meta.get("name") or b))
    return out


@pytest.mark.parametrize("basin", ["drina", "syr_darya"])
def test_russian_sections_have_no_english_sentence(real, basin):
    if basin not in real:
        pytest.skip(f"{basin} not built")
    sites, meta, name = real[basin]
    with use_lang("ru"):
        ctx = _build(sites, meta, name)
        data = _data_values(sites, name)
    texts = _prose(ctx)
    assert len(ctx["summary"]) == 4 and len(ctx["findings"]) >= 5 and len(ctx["recommendations"]) >= 4
    runs = _english_runs(texts, data)
    assert runs == [], runs[:20]
    # every sentence (not a bare number or label) is in Cyrillic
    sentences = [t for t in texts if len(t) > 40]
    assert sentences and all(CYRILLIC.search(t) for t in sentences)
    assert not [t for t in texts if DECIMAL_POINT.search(t)]
    words = {w for t in _strip(texts, data) for w in re.findall(r"[A-Za-z]+", t)}
    assert not words & {"site", "sites", "km", "of", "and", "border", "unknown", "spill", "river"}, words


@pytest.mark.parametrize("basin", ["drina", "syr_darya"])
def test_russian_sections_say_the_same_as_english(real, basin):
    """Same numbers in both languages: the counts of the English summary appear in the Russian one."""
    if basin not in real:
        pytest.skip(f"{basin} not built")
    sites, meta, name = real[basin]
    en = _build(sites, meta, name)
    with use_lang("ru"):
        ru = _build(sites, meta, name)
    assert len(en["summary"]) == len(ru["summary"]) and len(en["findings"]) == len(ru["findings"])
    assert [r["title"] for r in ru["limitations"]] != [r["title"] for r in en["limitations"]]
    n = len(sites)
    assert re.search(rf"\b{n} sites\b", en["summary"][0])
    assert re.search(rf"\b{n} объект(а|ов)?\b", ru["summary"][0])
    for e, r in zip(en["ranking"], ru["ranking"]):
        assert e["name"] == r["name"]  # data are not translated
        want = ["неизвестно" if x == "unknown" else x.replace(",", "").replace(".", ",") for x in e["numbers"]]
        assert [x.replace("\u00a0", "") for x in r["numbers"]] == want


def test_syr_darya_in_russian_names_countries_by_un_terminology(real):
    if "syr_darya" not in real:
        pytest.skip("syr_darya not built")
    sites, meta, name = real["syr_darya"]
    with use_lang("ru"):
        ctx = _build(sites, meta, name)
    text = " ".join(_prose(ctx))
    assert "Кыргызстан" in text and "Узбекистан" in text
    assert "Kyrgyzstan" not in text and "Киргизия" not in text
    # measured accuracy of the hydrography, with decimal commas (docs/accuracy.md)
    river = next(r["text"] for r in ctx["limitations"] if "Речная сеть" in r["text"])
    pct = rs.ACCURACY["km_median_error"].replace(".", ",").replace(" ", "\u00a0")
    assert f"медианной ошибке {pct}" in river
    assert "29 ноября 2026" in river
    # glossary terms in the sentences about rivers and spills
    assert "ниже по течению" in ctx["summary"][1] and "км по руслу" in " ".join(ctx["findings"])


# --------------------------------------------------------------------------
# plural forms, numbers, labels (synthetic)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n, word", [(1, "объект"), (2, "объекта"), (5, "объектов"), (11, "объектов"),
                                     (21, "объект"), (22, "объекта"), (25, "объектов")])
def test_russian_plural_of_site_counts(n, word):
    with use_lang("ru"):
        assert rs.site_count_text(n) == f"{n} {word}"
        summary = rs.executive_summary(_sites(n), [], "Нарын")
        assert summary[0].startswith(f"Перечень включает {n} {word} в бассейне реки Нарын: ")


@pytest.mark.parametrize("n, verb", [(1, "объект относится"), (2, "объекта относятся"), (5, "объектов относятся"),
                                     (21, "объект относится")])
def test_russian_plural_agrees_with_the_verb(n, verb):
    sites = _sites(n, category="tailings_metal", coord_precision="town")
    with use_lang("ru"):
        findings = rs.key_findings(sites, [])
        recs = rs.recommendations_context(sites, [])
    assert any(f.startswith(f"{n} {verb} к хвостохранилищам") for f in findings), findings
    tmf = next(r["text"] for r in recs if r["title"] == "Безопасность хвостохранилищ")
    dative = "хвостохранилищу, указанному" if n % 10 == 1 and n % 100 != 11 else "хвостохранилищам, указанным"
    assert f"к {n} {dative}" in tmf
    genitive = "объекта" if n % 10 == 1 and n % 100 != 11 else "объектов"
    verify = next(r["text"] for r in recs if r["title"] == "Уточнить местоположение объектов")
    assert verify.startswith(f"Местоположение {n} {genitive} известно лишь приблизительно")


def test_russian_numbers_and_units():
    big = {"category": "tailings_metal", "basis": "scored", "tailings_volume_m3": 2.5e7,
           "downstream_countries": ["KGZ", "UZB", "KAZ"], "country": "KGZ", "first_border_river_km": 24.6,
           "travel_time_h": 6.8, "downstream_pop_total": 1_234_567.0, "natech_fault_km": 3.2}
    with use_lang("ru"):
        why = rs.why_reasons(big)
        assert rs.cell_text(1234.5, 1) == "1\u00a0234,5" and rs.cell_text(12345) == "12\u00a0345"
        assert rs.cell_text(True) == "да" and rs.cell_text(None) == "неизвестно"
        assert rs.share_text(1, 3) == "33\u00a0%"
        assert rs.amount_text(2.5e9) == "2,5 млрд" and rs.amount_text(12_345.0) == "12\u00a0345"
    assert why[0] == "Аварийный сброс достигает границы страны Узбекистан примерно через 25 км по руслу (около 7 ч)."
    assert "(около 25,0 млн м³ хвостов); балл рассчитан по данным объекта." in why[1]
    assert why[2] == "Далее по течению: Узбекистан, Казахстан."
    assert why[3] == "Населённые пункты ниже по течению: не менее 1,2 млн жителей."
    small = {**big, "downstream_pop_total": 21_001.0}
    with use_lang("ru"):
        assert rs.why_reasons(small, 5)[3] == "Населённые пункты ниже по течению: не менее 21\u00a0001 жителя."
        assert rs.why_reasons(small, 5)[4] == "3 км от активного разлома (сейсмическая опасность)."


def test_russian_labels_of_countries_classes_and_tables():
    with use_lang("ru"):
        assert rs.country_label("XKX") == "Косово*"
        assert rs.country_label("BIH|SRB") == "Босния и Герцеговина / Сербия (граница)"
        assert rs.country_label(np.nan) == rs.country_label("unknown") == "неизвестно"
        assert [rs.exposure_name(c) for c in ("very high", "outside", None)] == \
            ["очень высокий", "вне бассейна", "неизвестно"]
        assert rs.annex_headers()[5] == "км по руслу до первой границы"
        assert rs.first_border(["KGZ", "KGZ|UZB"], "KGZ") == "граница (Кыргызстан – Узбекистан)"
        counts = rs.count_rows(pd.Series(["high", None, "high"]), ("very high", "high"))
        assert [(c["key"], c["label"], c["n"]) for c in counts] == [("high", "высокий", 2),
                                                                  ("unknown", "неизвестно", 1)]
    # the language is a context: outside it the labels are English again
    assert rs.country_label("XKX") == "Kosovo*" and rs.exposure_name("outside") == "outside"
    assert rs.annex_headers()[5] == "river km to first border"


def test_russian_prose_of_the_synthetic_report_is_complete(assessed_sites, fake_basin):
    sites = assessed_sites()
    with use_lang("ru"):
        ctx = _build(sites, fake_basin().meta, "Дрин")
        data = _data_values(sites, "Дрин")
    texts = _prose(ctx)
    assert _english_runs(texts, data) == []
    assert ctx["summary"][1] == (
        "В случае аварийного сброса с 6 объектов (75\u00a0%) загрязнение пересекло бы государственную границу ниже "
        "по течению; 1 объект расположен на пограничных водах или на небольшом расстоянии от границы по руслу реки "
        "(очень высокая подверженность воздействию). Аварийные сбросы с объектов, расположенных в других странах, "
        "достигли бы: Черногория (5 объектов), Албания (2 объекта).")
    river = next(r["text"] for r in ctx["limitations"] if r["title"] == "Расстояния по руслу и бассейны")
    assert river.endswith("на -3,2\u00a0%.")


# --------------------------------------------------------------------------
# English unchanged (the text before the translation layer, on the synthetic fixture)
# --------------------------------------------------------------------------

EN_SUMMARY = [
    "The inventory holds 8 sites in the Drin basin: 1 metal-ore tailings facility, 1 chemical plant, 1 mine, "
    "1 landfill or waste dump and 4 other. By country: Albania 5, Kosovo* 1, Montenegro 1, North Macedonia 1.",
    # "1 site lies ... reaches": the singular is now grammatical (was "1 site lie ... reach")
    "A spill from 6 sites (75 %) would cross an international border downstream; 1 site lies on border water or "
    "reaches a border within a short distance (very high exposure). Spills from other countries would reach "
    "Montenegro (5 sites), Albania (2 sites).",
    "The sites that matter most for transboundary preparedness are 1. Trepça tailings (Kosovo*); 2. -1+2 plant "
    "(Albania); 3. Fierza dam (Albania). The ranking and the reasons behind it are in the chapter 'Priority sites'.",
    "Much is unknown: for 2 sites (25 %) the public sources give no quantity (volume, substances, capacity), so "
    "their hazard is estimated from their category only; the operating status of 1 site is not known. These gaps, "
    "and the limits of the river model, are set out under 'Limitations'.",
]
EN_FINDINGS = [
    "The largest group is 1 metal-ore tailings facility (12 % of the sites).",
    "1 site is a tailings facility, the category behind the worst transboundary accidents in the region.",
    "The Albania – Montenegro border water has the most sites upstream: 6, of which 1 reach it within 50 river km.",
    "1 site would send a spill across a border in less than 6 hours (at the assumed flow speed): too little time "
    "for a downstream country to act without an agreed warning procedure.",
    "The largest data gap is in Albania: 1 of its 5 sites (20 %) have no quantity in the public sources.",
    "The first priority is Trepça tailings (Kosovo*), a metal-ore tailings facility.",
]
EN_REASONS = [
    ["A spill reaches the border of Albania after about 80 km of river (about 20 h).",
     "A metal-ore tailings facility with about 25.0 million m³ of tailings, scored on site data.",
     "Flows on into Albania and Montenegro."],
    ["On border water: a spill enters a border river or shared lake at once.",
     "A thermal power plant; data gaps filled with cautious defaults.", "Flows on into Montenegro."],
    ["A spill reaches the Albania – Montenegro border after about 55 km of river (about 14 h).",
     "A dam and reservoir; data gaps filled with cautious defaults.", "Flows on into Montenegro."],
]
EN_RIVER = (
    "The river network and basin outlines are generalised. Tested on known places (docs/accuracy.md, 2026-11-29): "
    "the basin is right for 99.6 % of 264 places, the downstream countries are in the right order for 99.4 % of "
    "172, and the river distance to the first border is within the published range for 96.6 % of 29 places, "
    "with a median error of 11.8 %, mostly too short. River kilometres are corrected for the measured length bias "
    "of the mapped lines (docs/hydrography.md); read them with their low-high range. The basin area as mapped differs by -3.2 % from the published range.")


def test_english_prose_is_unchanged(assessed_sites, fake_basin):
    ctx = _build(assessed_sites(), fake_basin().meta, "Drin")
    assert ctx["summary"] == EN_SUMMARY
    assert ctx["findings"] == EN_FINDINGS
    assert [r["reasons"] for r in ctx["ranking"][:3]] == EN_REASONS
    assert ctx["ranking"][0]["numbers"] == ["0.9", "unknown", "unknown", "7.9", "unknown", "80", "20", "unknown",
                                            "unknown", "0.90"]
    assert next(r["text"] for r in ctx["limitations"] if r["title"] == "River distances and basins") == EN_RIVER
    assert [r["title"] for r in ctx["recommendations"]] == [
        "Joint alerting on the Albania – Montenegro border water", "Early warning for sites with short warning times",
        "Tailings safety", "Close the data gaps", "Verify locations"]
    assert ctx["recommendations"][3]["text"].startswith(
        "Sites without quantities, by country: Albania (1 of 5), North Macedonia (1 of 1). Each country")


def test_lang_keyword_of_the_section_builders(assessed_sites, fake_basin):
    """``lang=`` gives the same text as a ``use_lang`` block, and leaves the current language alone."""
    sites = rs.ranking_frame(assessed_sites())
    meta = fake_basin().meta
    ranking_ru = rs.ranking_context(sites, lang="ru")
    with use_lang("ru"):
        assert ranking_ru == rs.ranking_context(sites)
        assert rs.executive_summary(sites, ranking_ru, "Дрин") == rs.executive_summary(sites, ranking_ru, "Дрин",
                                                                                        lang=None)
        want = (rs.key_findings(sites, ranking_ru), rs.limitations_context(sites, meta),
                rs.recommendations_context(sites, ranking_ru))
        assert rs.key_findings(sites, rs.ranking_context(sites, lang="en"), lang="en") == EN_FINDINGS
    assert (rs.key_findings(sites, ranking_ru, lang="ru"), rs.limitations_context(sites, meta, lang="ru"),
            rs.recommendations_context(sites, ranking_ru, lang="ru")) == want
    assert rs.executive_summary(sites, rs.ranking_context(sites), "Drin") == EN_SUMMARY


def test_sources_are_described_in_russian(assessed_sites):
    sites = assessed_sites()
    prov = {"sources": [{"name": "natural-earth", "licence": None, "url": "https://example.org"}]}
    with use_lang("ru"):
        src = rs.sources_context(sites, [("site inventory", None), ("Natech screening", prov)])
    inv = {e["name"]: e for e in src}
    assert inv["literature-sites"]["used_for"] == "перечень объектов"
    assert inv["literature-sites"]["verified"] == "2026-11-01"  # dates stay ISO (data)
    assert inv["natural-earth"]["used_for"] == "предварительная оценка опасности Natech"
    assert inv["natural-earth"]["licence"] == "не указано"
