"""Contingency annex, scenario cards, climate section and exercise packs in Russian (issue 20).

Built on the real bundled data (Syr Darya with Mailuu-Suu, Drina, Drin): the
Russian documents carry no English label of the templates, use the glossary
terms, write numbers with a decimal comma, keep data (site names, ids, codes)
and machine-readable columns as they are, and the Russian PDF has embedded
fonts from which pdftotext extracts the Cyrillic text.
"""

from __future__ import annotations

import html as _html
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap import contingency as ct
from riskmap.exercise import build_exercise
from riskmap.i18n import use_lang

MAILUU = "lit-mailuu-suu-uranium-tailings-and-waste-dumps"
START = "2027-05-12 06:00"
CYRILLIC = re.compile(r"[А-Яа-яЁё]")

#: English labels of the annex and the cards (templates and code) that must not be left in Russian.
ANNEX_LABELS = [
    "Warning checkpoints", "Notification matrix", "Data gaps", "Scenario card", "Checkpoint", "Leading edge",
    "Time available", "Notified country", "Notified by", "Upstream neighbour", "to be supplied", "Release scenario",
    "What is not known", "Timeline", "hours from the release", "Route", "SOP checklist", "To agree", "Alert",
    "Verification", "All-clear", "Sampling", "Riparian countries", "Screening estimates", "Generated",
    "contingency plan annex", "spill scenario cards", "priority rank", "duration", "Population", "River km",
    "Peak mg/L", "h above threshold", "Contacts, origin", "border KGZ", "(outflow)", "(border)", "Kyrgyzstan",
    "Uzbekistan", "Tajikistan", "Kazakhstan", "stored quantity unknown", "tailings volume unknown",
    "nominal release", "planning assumption", "Travel times", "Origin \\ notified", "Scenarios", "Kind",
    "before the first checkpoint", "riparians", "Tailings volume", "Dam height", "Coordinate precision",
]
#: English labels of the exercise packs.
EXERCISE_LABELS = [
    "Tabletop exercise", "facilitator pack", "participant pack", "evaluation sheet", "Inject", "Expected decisions",
    "Decisions to take", "Release detected", "First report", "Release confirmed upstream", "Pollution arriving",
    "must be notified", "sample at", "decide on", "inform the public", "time available", "leading edge",
    "SOP step", "What to check", "Met?", "Comments", "Country of origin", "Participating countries",
    "FACILITATOR ONLY", "local time as given", "national authority", "IAN point of contact", "Model results",
    "Scenario timeline", "Addressed to", "Clock", "Kyrgyzstan", "Uzbekistan", "Alert", "All-clear",
]


def _visible(path: Path) -> str:
    """The text a reader sees in an HTML document (tags, style and data URIs removed, entities decoded)."""
    t = path.read_text(encoding="utf-8")
    t = re.sub(r"<style>.*?</style>", " ", t, flags=re.S)
    t = re.sub(r"<img[^>]*>", " ", t)
    return " ".join(_html.unescape(re.sub(r"<[^>]+>", " ", t)).split())


def _english_left(text: str, labels: list[str]) -> list[str]:
    return [lab for lab in labels if re.search(r"(?<![A-Za-z])" + re.escape(lab) + r"(?![A-Za-z])", text)]


def _tool(name: str) -> str:
    if shutil.which(name) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} (poppler-utils) missing and CI is set")
        pytest.skip(f"{name} (poppler-utils) not installed")
    return name


@pytest.fixture(scope="module")
def syr_ru(tmp_path_factory, chromium_path):
    """The Syr Darya annex in Russian for the two top sites, with PDFs (Mailuu-Suu is rank 1)."""
    out = tmp_path_factory.mktemp("contingency_syr_ru")
    with use_lang("en"):  # lang= sets the language, whatever the caller's context
        plan = ct.build_contingency("syr_darya", out, sites="top:2", pdf=True, lang="ru")
    return plan, out


@pytest.fixture(scope="module")
def exercise_ru(tmp_path_factory):
    out = tmp_path_factory.mktemp("exercise_ru")
    return build_exercise("syr_darya", MAILUU, out, start=START, lang="ru")


def _file(pack, suffix: str) -> Path:
    return next(p for p in pack.files if p.name.endswith(suffix))


# ------------------------------------------------------------------ annex and cards, real data


def test_russian_annex_and_cards_have_no_english_label(syr_ru):
    plan, out = syr_ru
    for name in ("syr_darya_contingency_annex.html", "syr_darya_scenario_cards.html"):
        text = _visible(out / name)
        assert _english_left(text, ANNEX_LABELS) == [], name
        assert (out / name).read_text(encoding="utf-8").startswith("<!DOCTYPE html>\n<html lang=\"ru\">")
    annex = _visible(out / "syr_darya_contingency_annex.html")
    for heading in ("1. Контрольные створы для оповещения", "2. Матрица уведомления",
                    "3. Пробелы в данных, ограничивающие план", "5. Карточки сценариев",
                    "Бассейн реки Сырдарья: приложение к плану действий в чрезвычайных ситуациях"):
        assert heading in annex, heading
    for step in ("Оповещение", "Подтверждение", "Уведомление", "Реагирование", "Отбор проб", "Отбой"):
        assert f" {step} " in annex, step
    # data stay as they are: the site name and id, and the border codes of the spill model
    assert "Mailuu-Suu uranium tailings and waste dumps" in annex and MAILUU in annex
    assert "граница Кыргызстан → Узбекистан" in annex
    # riparian countries in Russian (UNTERM: Кыргызстан)
    assert "Прибрежные страны: Казахстан, Кыргызстан, Таджикистан, Узбекистан." in annex


def test_russian_annex_uses_the_glossary_terms(syr_ru):
    _, out = syr_ru
    annex = _visible(out / "syr_darya_contingency_annex.html").lower()
    for term in ("плану действий в чрезвычайных ситуациях", "контрольный створ", "уведомлен", "пункт связи",
                 "время добегания", "прибрежные страны", "системы уведомления о промышленных авариях",
                 "расход воды", "хвостов", "км по руслу", "водохранилище"):
        assert term in annex, term
    assert "сайт" not in annex


def test_russian_numbers_have_a_decimal_comma(syr_ru):
    plan, out = syr_ru
    cards = _visible(out / "syr_darya_scenario_cards.html")
    first = plan.cards[0].timeline.iloc[0]
    assert first["checkpoint"] == "border KGZ -> UZB"
    lead, fast = f"{first['leading_edge_h']:,.1f}", f"{first['leading_edge_h_fast']:,.1f}"
    row = f"граница Кыргызстан → Узбекистан граница Узбекистан {first['river_km']:,.1f} {lead} {fast}".replace(".", ",")
    assert row in cards
    # thousands: a no-break space, never a comma (the timeline reaches beyond 1,000 km)
    big = plan.cards[0].timeline["river_km"].max()
    assert big > 1000
    raw = (out / "syr_darya_scenario_cards.html").read_text(encoding="utf-8")
    assert f">{big:,.1f}<".replace(",", "\u00a0").replace(".", ",") in raw
    # the machine-readable tables keep their English columns, codes and dot decimals
    notes = pd.read_csv(out / "syr_darya_notifications.csv")
    assert {"notified", "origin", "warning_h_fast"} <= set(notes.columns)
    assert set(notes["origin"]) <= {"KGZ", "UZB", "TJK", "KAZ"}
    assert notes["warning_h_fast"].dtype.kind == "f"
    tl = pd.read_csv(out / "syr_darya_timelines.csv")
    assert tl["checkpoint"].iloc[0] == "border KGZ -> UZB" and tl["kind"].iloc[0] == "border"
    assert tl["leading_edge_h"].dtype.kind == "f" and tl["country"].iloc[0] == "UZB"


def test_russian_pdf_extracts_cyrillic_with_embedded_fonts(syr_ru):
    _, out = syr_ru
    pdf = out / "syr_darya_scenario_cards.pdf"
    text = " ".join(subprocess.run([_tool("pdftotext"), str(pdf), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    assert "Карточка сценария: Mailuu-Suu" in text
    assert "Кыргызстан" in text and "Хронология (часы с момента сброса)" in text
    assert "\ufffd" not in text  # no replacement character: every glyph maps back to its letter
    fonts = subprocess.run([_tool("pdffonts"), str(pdf)], check=True, capture_output=True, text=True).stdout
    rows = [ln.split() for ln in fonts.splitlines()[2:] if ln.strip()]
    assert rows
    for r in rows:  # columns: ... emb sub uni object ID
        assert r[-5] == "yes" and r[-3] == "yes", r  # embedded, with a ToUnicode map
    annex = " ".join(subprocess.run(["pdftotext", str(out / "syr_darya_contingency_annex.pdf"), "-"], check=True,
                                    capture_output=True, text=True).stdout.split())
    assert "riskmap · бассейн реки Сырдарья · приложение к плану действий в чрезвычайных ситуациях" in annex


def test_drina_in_russian_with_contacts_keeps_data_escaped(tmp_path):
    from riskmap.cli import main

    contacts = tmp_path / "contacts.csv"
    contacts.write_text("country,role,organisation,contact\n"
                        "BIH,IAN point of contact,<script>alert(1)</script> Ministry,=HYPERLINK(\"x\")\n",
                        encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["contingency", "Drina", "--sites", "top:2", "--no-pdf",
                                    "--contacts", str(contacts), "-o", str(out)])
    assert res.exit_code == 0, res.output
    english = (out / "drina_contingency_annex.html").read_text(encoding="utf-8")
    plan = ct.build_contingency("drina", out / "ru", sites="top:2", contacts=contacts, pdf=False, lang="ru")
    html = (out / "ru" / "drina_contingency_annex.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Ministry" in html
    assert "IAN point of contact" in html  # the user's role text is data, not translated
    assert "подлежит указанию" in html and "to be supplied" not in html
    assert "Бассейн реки Дрина" in html and "Босния и Герцеговина" in html
    assert _english_left(_visible(out / "ru" / "drina_contingency_annex.html"), ANNEX_LABELS) == []
    # the English document is still English, with no Cyrillic of ours (the site names are Latin)
    assert '<html lang="en">' in english and "Drina basin: contingency plan annex" in english
    assert not CYRILLIC.search(_visible(out / "drina_contingency_annex.html"))
    assert len(plan.cards) == 2


def test_drin_in_russian_carries_the_kosovo_footnote(tmp_path):
    plan = ct.build_contingency("drin", tmp_path, sites="top:1", pdf=False, lang="ru")
    assert "XKX" in plan.riparian
    text = _visible(tmp_path / "drin_contingency_annex.html")
    assert "Косово*" in text
    assert "* Косово: это обозначение не затрагивает позиций в отношении статуса" in text
    assert "Бассейн реки Дрин:" in text


# ------------------------------------------------------------------ exercise packs, real data


def test_russian_exercise_packs_have_no_english_label(exercise_ru):
    for which in ("_facilitator.html", "_participant.html", "_evaluation.html"):
        path = _file(exercise_ru, which)
        text = _visible(path)
        assert _english_left(text, EXERCISE_LABELS) == [], which
        assert '<html lang="ru">' in path.read_text(encoding="utf-8")
        low = text.lower()
        assert "командно-штабные учения" in low and "уведомлен" in low, which
    fac = _visible(_file(exercise_ru, "_facilitator.html")).lower()
    for term in ("пункт связи", "компетентный орган", "выше по течению", "ниже по течению", "контрольн"):
        assert term in fac, term
    part = _visible(_file(exercise_ru, "_participant.html"))
    assert "начало: 12 мая 2027 г., 06:00 (местное время, как задано)" in part  # the start, as a Russian date
    ev = _file(exercise_ru, "_evaluation.html").read_text(encoding="utf-8")
    for country in ("Кыргызстан", "Узбекистан", "Таджикистан", "Казахстан"):
        assert f"<h2>{country}</h2>" in ev
    assert ev.count("<th>Отбой</th>") == 4


def test_russian_inject_table_keeps_its_machine_columns(exercise_ru):
    df = pd.read_csv(_file(exercise_ru, "_injects.csv"))
    assert df.columns.tolist() == ["seq", "clock", "t_h", "kind", "country", "inject", "model",
                                   "expected_decisions"]
    assert set(df["kind"]) == {"detection", "first report", "notification", "arrival"}
    assert df["country"].str.fullmatch(r"[A-Z]{3}(\|[A-Z]{3})?").all()
    assert df["clock"].iloc[0] == START
    assert df["inject"].map(lambda s: bool(CYRILLIC.search(s))).all()
    arrival = df[df["kind"] == "arrival"].iloc[0]
    assert arrival["inject"].startswith("Приход загрязнения: граница Кыргызстан → Узбекистан")
    assert re.search(r"приход фронта \d+,\d ч", arrival["model"])


def test_russian_participant_pack_holds_no_model_result(exercise_ru):
    pack = exercise_ru
    part = _file(pack, "_participant.html").read_text(encoding="utf-8")
    fac = _file(pack, "_facilitator.html").read_text(encoding="utf-8")
    tab = pack.card.timeline
    numbers = set()
    for col in ("river_km", "leading_edge_h", "leading_edge_h_fast", "peak_time_h", "above_threshold_h"):
        numbers |= {f"{v:,.1f}".replace(",", "\u00a0").replace(".", ",") for v in tab[col].dropna()}
    for col in ("peak_mg_l", "peak_mg_l_high", "peak_mg_l_low"):
        numbers |= {f"{v:.3g}".replace(".", ",") for v in tab[col].dropna()}
    numbers |= {i.clock for i in pack.injects if i.kind != "detection"}
    numbers.discard("0,0")
    assert len([n for n in numbers if n in fac]) > 10
    assert [n for n in numbers if re.search(r"(?<![\d.,])" + re.escape(n) + r"(?![\d])", part)] == []
    assert "мг/л" not in part and " км" not in part and "T+" not in part


# ------------------------------------------------------------------ units


def test_labels_in_russian_and_english():
    with use_lang("ru"):
        assert ct.country_label("KGZ") == "Кыргызстан"
        assert ct.country_label("TJK|UZB") == "Таджикистан / Узбекистан (граница)"
        assert ct.country_label(None) == "неизвестно"
        assert ct.kind_label("town") == "населённый пункт" and ct.kind_label("odd") == "odd"
        assert ct.checkpoint_label("border UZB -> TJK|UZB", "border") == "граница Узбекистан → Таджикистан / Узбекистан"
        assert ct.checkpoint_label("Kayrakkum reservoir (outflow)", "reservoir") == \
            "Kayrakkum reservoir (выход из водоёма)"
        assert ct.checkpoint_label("river entry (UZB): before the first checkpoint") == \
            "место поступления в реку (Узбекистан): до первого контрольного створа"
        assert ct.checkpoint_label("Khujand", "town", "TJK") == "Худжанд"  # Natural Earth NAME_RU
        assert ct.checkpoint_label("Pljevlja", "town", "MNE") == "Pljevlja"  # no cited Russian name: as given
        assert ct.decimal_text(1234.56) == "1\u00a0234,6" and ct.decimal_text(np.nan) == "неизвестно"
        assert ct.mass_text(10_000.0) == "10 т" and ct.mass_text(500.0) == "500 кг"
        assert [s["step"] for s in ct.sop_context()][-1] == "Отбой"
    assert ct.checkpoint_label("border UZB -> TJK", "border") == "border UZB -> TJK"
    assert ct.decimal_text(1234.56) == "1,234.6" and ct.mass_text(10_000.0) == "10 t"


def test_release_scenario_in_russian():
    par = ct.load_contingency_params()
    with use_lang("ru"):
        s = ct.release_scenario({"category": "tailings_uranium", "tailings_volume_m3": np.nan}, par)
        assert s["basis"].startswith("объём хвостов неизвестен: условный сброс 10 т")
        s = ct.release_scenario({"category": "chemical_plant"}, par)
        assert s["basis"].startswith("хранимое количество неизвестно: условный сброс 10 т")
        s = ct.release_scenario({"category": "tailings_metal", "tailings_volume_m3": 3.0e6}, par)
        assert s["assumptions"][0].startswith("объём сброшенных хвостов: 0,33 × 3e+06 м³ = 990\u00a0000 м³")
        assert "Rico, Benito and Diez-Herrero (2008)" in s["assumptions"][0]  # the citation stays as written
        # a text the user changed is shown as given
        own = ct.load_contingency_params({"meta": {"nominal_basis": "own basis {mass}"}})
        assert ct.release_scenario({"category": "mine"}, own)["basis"] == "own basis 10 т"


def test_shipped_parameter_texts_are_in_the_catalogue():
    """The default texts of contingency.toml are marked (PARAM_TEXTS), so they read in Russian."""
    par = ct.load_contingency_params()
    shipped = [par["meta"]["label"], par["meta"]["nominal_basis"], par["tailings"]["release_fraction_source"],
               par["tailings"]["dissolved_load_source"]]
    assert shipped == list(ct.PARAM_TEXTS)
    from riskmap.i18n import gettext

    with use_lang("ru"):
        assert all(CYRILLIC.search(gettext(t)) for t in shipped)


def test_climate_section_in_russian():
    sites = pd.DataFrame({"name": ["A <b>", "B"], "country": ["KGZ", "UZB"],
                          "climate_flood_present": [0.42, np.nan], "climate_flood_present_class": [2.0, np.nan],
                          "climate_flood_2050": [0.9, 0.1], "climate_flood_2050_class": [3.0, 1.0],
                          "climate_flood_change": ["2050: +1", "2050: no data"]})
    en = ct.climate_section_html(sites)
    ru = ct.climate_section_html(sites, lang="ru")
    assert "Natech under climate change" in en and "0.42 (class 2)" in en and "Kyrgyzstan" not in en
    assert "Аварии Natech в условиях изменения климата" in ru
    assert "riskmap не содержит климатических данных" in ru
    assert "0,42 (класс 2)" in ru and "нет данных" in ru and "2050: нет данных" in ru
    assert "Кыргызстан" in ru and "A &lt;b&gt;" in ru and "no data" not in ru
