"""The questionnaire in Russian (issue 20): the workbook, and returns read back whatever their language."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest

from riskmap import i18n
from riskmap.questionnaire import merge_returns, read_return
from riskmap.questionnaire.fields import FIELDS, vocabulary_labels
from riskmap.schema import CATEGORIES, STATUSES
from fixtures.questionnaire import blank_workbook, col




@pytest.fixture(scope="module")
def blank_ru(inventory, tmp_path_factory):
    return blank_workbook(inventory, tmp_path_factory, "syr_darya", "KGZ", lang="ru")


@pytest.fixture(scope="module")
def blank_en(inventory, tmp_path_factory):
    return blank_workbook(inventory, tmp_path_factory, "syr_darya", "KGZ")


def _first_row_with_key(ws) -> int:
    return 3


def test_russian_workbook_sheets_labels_lists_and_messages(blank_ru, inventory):
    wb = openpyxl.load_workbook(blank_ru)
    assert wb.sheetnames[0] == "Инструкция" and wb.sheetnames[-2] == "Новые объекты"
    assert {"lists", "_meta", "tailings_metal", "dam_reservoir"} <= set(wb.sheetnames)  # keys stay: provenance
    text = "\n".join(str(c.value) for c in wb["Инструкция"]["A"] if c.value)
    assert text.startswith("Вопросник об опасных видах деятельности: бассейн реки Сырдарья, Кыргызстан (KGZ)")
    assert "27 ноября 2026" in text and "Конвенции ЕЭК ООН о трансграничном воздействии промышленных аварий" in text
    n = len(inventory[(inventory["basin"] == "syr_darya") & (inventory["country"] == "KGZ")])
    assert i18n.ngettext("", "", n) is not None and f"; {n} объект" in text
    assert "«Новые объекты»" in text and "Questionnaire" not in text and "What we ask" not in text
    t = wb["tailings_metal"]
    assert [c.value for c in t[1]][:3] == ["site_id", "name", "basin"]  # the keys row is the schema's
    labels = {c.value for c in t[2]}
    assert {"Идентификатор объекта (не изменять)", "Площадь хвостохранилища (га)", "Объём хвостов (м³)",
            "Вещество 1: количество (т)", "Дата сведений (ГГГГ-ММ-ДД)"} <= labels
    english = {f.label.format(k=1) for f in FIELDS.values()}
    assert not labels & english, labels & english
    # drop-down words in Russian, for every code
    lists = wb["lists"]
    words = {lists.cell(1, c).value: [lists.cell(r, c).value for r in range(2, lists.max_row + 1)
                                      if lists.cell(r, c).value is not None] for c in range(1, lists.max_column + 1)}
    assert len(words["category"]) == len(CATEGORIES) and len(words["status"]) == len(STATUSES)
    assert "Хвостохранилище (металлические руды)" in words["category"] and "действующий" in words["status"]
    assert "неизвестно" in words["wgk"] and "плохое" in words["dam_condition"]
    assert not set(words["category"]) & set(CATEGORIES)
    # fixed cells shown in Russian, ids and names as they are
    r = 3
    assert t.cell(r, col(t, "site_id")).value in set(inventory["site_id"])
    assert t.cell(r, col(t, "inventory_status")).value in vocabulary_labels_ru("status")
    # Excel messages
    msgs = {(dv.errorTitle, dv.error) for dv in t.data_validations.dataValidation}
    assert ("Нет в списке", "Выберите значение из списка (или оставьте пустым).") in msgs
    assert ("Недопустимое число", "Число от 0 до 1\u00a0000\u00a0000 га (пусто, если неизвестно).") in msgs
    meta = dict(wb["_meta"].iter_rows(values_only=True))
    assert meta["language"] == "ru" and meta["country"] == "KGZ" and meta["basin"] == "syr_darya"


def vocabulary_labels_ru(kind: str) -> set[str]:
    with i18n.use_lang("ru"):
        return set(vocabulary_labels(kind).values())


def test_english_workbook_is_unchanged_by_the_language_layer(blank_en):
    wb = openpyxl.load_workbook(blank_en)
    assert wb.sheetnames[0] == "Instructions" and "New sites" in wb.sheetnames
    t = wb["tailings_metal"]
    assert "Tailings volume (m3)" in {c.value for c in t[2]}
    lists = wb["lists"]
    assert [lists.cell(r, 1).value for r in range(2, 2 + len(STATUSES))] == list(STATUSES)
    assert dict(wb["_meta"].iter_rows(values_only=True))["language"] == "en"


def _site_row(ws, n: int = 0) -> tuple[int, str]:
    r = 3 + n
    return r, ws.cell(r, col(ws, "site_id")).value


@pytest.fixture(scope="module")
def returned_ru(blank_ru):
    """A Russian workbook filled as a Kyrgyz respondent would: Russian words, decimal commas, spaces."""
    wb = openpyxl.load_workbook(blank_ru)
    t = wb["tailings_uranium"]
    r, sid = _site_row(t)
    t.cell(r, col(t, "status"), "заброшенный (без оператора)")
    t.cell(r, col(t, "tailings_volume_m3"), "1 234,5")  # typed as text: space thousands, decimal comma
    t.cell(r, col(t, "tailings_area_ha"), 12.75)  # a real number cell
    t.cell(r, col(t, "dam_height_m"), "45,5")
    t.cell(r, col(t, "dam_condition"), "Плохое")  # any case
    t.cell(r, col(t, "substance_1_name"), "радий-226 в хвостах")
    t.cell(r, col(t, "substance_1_quantity_t"), "1\u00a0200,75")  # no-break space, as Excel in Russian writes it
    t.cell(r, col(t, "substance_1_wgk"), "неизвестно")
    t.cell(r, col(t, "respondent_source"), "Реестр хвостохранилищ, МЧС КР")
    t.cell(r, col(t, "respondent_date"), "03.11.2026")
    r2, sid2 = _site_row(t, 1)
    t.cell(r2, col(t, "status"), "рекультивированный или в процессе рекультивации")
    t.cell(r2, col(t, "tailings_volume_m3"), "1,234")  # planted: ambiguous
    t.cell(r2, col(t, "dam_condition"), "удовлетворительное")
    t.cell(r2, col(t, "respondent_date"), dt.date(2026, 10, 1))
    n = wb["Новые объекты"]
    n.cell(3, col(n, "new_site_name"), "Хвостохранилище Каджи-Сай")
    n.cell(3, col(n, "category"), "Хвостохранилище или отвал (урановое наследие)")
    n.cell(3, col(n, "lon"), "76,5321")
    n.cell(3, col(n, "lat"), 42.1329)
    n.cell(3, col(n, "coord_precision"), "приблизительные")
    n.cell(3, col(n, "status"), "закрытый (без рекультивации)")
    n.cell(3, col(n, "respondent_source"), "Министерство природных ресурсов")
    n.cell(4, col(n, "new_site_name"), "Неизвестный завод")
    n.cell(4, col(n, "category"), "Завод грёз")  # planted: unknown category, in Russian
    n.cell(4, col(n, "lon"), 72.1)
    n.cell(4, col(n, "lat"), 41.1)
    out = blank_ru.with_name("kgz_returned.xlsx")
    wb.save(out)
    return out, sid, sid2


@pytest.mark.parametrize("reading_lang", ["en", "ru"])
def test_russian_return_reads_back_to_codes_and_numbers(returned_ru, reading_lang):
    path, sid, sid2 = returned_ru
    with i18n.use_lang(reading_lang):
        ret = read_return(path)
    v = {(r.site_id, r.field): r.value for r in ret.values.itertuples()}
    assert v[(sid, "status")] == "abandoned" and v[(sid, "dam_condition")] == "poor"
    assert v[(sid, "tailings_volume_m3")] == 1234.5 and v[(sid, "tailings_area_ha")] == 12.75
    assert v[(sid, "dam_height_m")] == 45.5
    assert json.loads(v[(sid, "substances")]) == [{"name": "радий-226 в хвостах", "quantity_t": 1200.75,
                                                   "wgk": "unknown"}]
    assert v[(sid2, "status")] == "remediated" and v[(sid2, "dam_condition")] == "fair"
    assert (sid2, "tailings_volume_m3") not in v
    assert ret.values.loc[ret.values["site_id"] == sid, "respondent_date"].iloc[0] == "2026-11-03"
    new = ret.new_sites[0]
    assert new["category"] == "tailings_uranium" and new["coord_precision"] == "approximate"
    assert new["status"] == "closed" and new["lon"] == 76.5321
    # the label row (Russian) is not read as data, whatever language reads it
    errs = {(i.file.rsplit(", ", 1)[-1].split(" ", 1)[-1], i.row, i.column): i.reason for i in ret.report.errors}
    sheet_word = "лист" if reading_lang == "ru" else "sheet"
    assert all(f", {sheet_word} '" in i.file for i in ret.report.errors)
    assert len(errs) == 2, errs
    amb = next(k for k in errs if "tailings_volume_m3" in k[2])
    assert amb[0] == "'tailings_uranium'" and amb[1] == 4
    unknown = next(k for k in errs if "category" in k[2])
    assert unknown[0] == "'Новые объекты'" and unknown[1] == 4 and unknown[2].startswith("B (category)")
    assert str(path) in next(i.file for i in ret.report.errors if i.column.startswith("B (category)"))
    if reading_lang == "ru":
        assert errs[unknown].startswith("неизвестное значение category 'Завод грёз'")
        assert errs[amb] == "'1,234' неоднозначно (десятичная запятая или разделитель разрядов?)"
    else:
        assert errs[unknown].startswith("unknown category 'Завод грёз'")
        assert errs[amb] == "'1,234' is ambiguous (decimal comma or thousands separator?)"
    # translated drop-down words are the workbook's own: no "read as" warnings for them
    assert not [i for i in ret.report.warnings if "read as" in i.reason and "'" in i.reason
                and any(w in i.reason for w in ("заброшенный", "Плохое", "приблизительные"))]


def test_english_workbook_returned_with_russian_words_and_russian_workbook_with_codes(blank_en, blank_ru,
                                                                                       tmp_path):
    for blank, words in ((blank_en, ("действующий", "Тепловая электростанция", "1\u00a0000,25")),
                         (blank_ru, ("operating", "thermal_power_plant", 1000.25))):
        wb = openpyxl.load_workbook(blank)
        t = wb["tailings_metal"]
        r, sid = _site_row(t)
        t.cell(r, col(t, "status"), words[0])
        t.cell(r, col(t, "tailings_volume_m3"), words[2])
        n = wb[wb.sheetnames[-2]]
        n.cell(3, col(n, "new_site_name"), "X")
        n.cell(3, col(n, "category"), words[1])
        n.cell(3, col(n, "lon"), 72.0)
        n.cell(3, col(n, "lat"), 41.0)
        out = tmp_path / f"{blank.parent.name}.xlsx"
        wb.save(out)
        ret = read_return(out)
        v = {(x.site_id, x.field): x.value for x in ret.values.itertuples()}
        assert v[(sid, "status")] == "operating" and v[(sid, "tailings_volume_m3")] == 1000.25
        assert ret.new_sites[0]["category"] == "thermal_power_plant"
        assert ret.report.errors == []


def test_russian_return_merges_with_provenance(returned_ru, inventory):
    path, sid, _sid2 = returned_ru
    res = merge_returns([path], inventory)
    s = res.sites.set_index("site_id")
    assert s.loc[sid, "tailings_volume_m3"] == 1234.5 and s.loc[sid, "dam_condition"] == "poor"
    assert len(res.new_ids) == 1 and s.loc[res.new_ids[0], "category"] == "tailings_uranium"
    assert s.loc[res.new_ids[0], "country"] == "KGZ"
    assert any("Новые объекты" in ref for ref in json.loads(s.loc[res.new_ids[0], "source_refs"]))


def test_units_and_labels_are_in_the_catalogue(blank_ru):
    """Every label the workbook shows has a Russian translation (no English left in Russian headers)."""
    from riskmap.questionnaire.fields import NEW_SITE_COLUMNS

    wb = openpyxl.load_workbook(blank_ru)
    shown = {k.value: label.value for ws in wb.worksheets if ws.title not in ("Инструкция", "lists", "_meta")
             for k, label in zip(ws[1], ws[2]) if k.value}
    assert set(FIELDS) | set(NEW_SITE_COLUMNS) <= set(shown)  # every field has its label row somewhere
    for key, label in shown.items():
        assert any("а" <= ch.lower() <= "я" for ch in label), (key, label)
    with i18n.use_lang("ru"):
        for kind in ("status", "dam_condition", "category", "coord_precision"):
            assert all(any("а" <= ch.lower() <= "я" for ch in w) for w in vocabulary_labels(kind).values()), kind


def test_cli_questionnaire_lang_ru_writes_the_russian_workbook(tmp_path):
    from click.testing import CliRunner

    from riskmap.cli import main

    out = tmp_path / "kgz.xlsx"
    r = CliRunner().invoke(main, ["questionnaire", "syr_darya", "--country", "KGZ", "-o", str(out), "--lang", "ru"])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Инструкция"
    assert Path(out).stat().st_size > 0
