"""``--lang en|ru`` (issue 20): one switch on every document command, reaching everything underneath."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import riskmap
from riskmap import i18n
from riskmap import RiskmapInputError
from riskmap.cli import main

SITES_CSV = riskmap.DATA_DIR / "sites" / "sites.csv"

#: command -> (arguments, the function it calls first that does real work: patched to see the language)
COMMANDS = {
    "map": (["map", "drina", "-o", "{out}/m.html"], "riskmap.pipeline.prepare"),
    "report": (["report", "drina", "-o", "{out}", "--no-pdf"], "riskmap.report.prepare_inputs"),
    "export": (["export", "drina", "-o", "{out}/x.csv"], "riskmap.report.prepare_inputs"),
    "demo": (["demo", "-o", "{out}", "--basin", "drina", "--no-pdf"], "riskmap.pipeline.run_all"),
    "contingency": (["contingency", "drina", "-o", "{out}", "--no-pdf"], "riskmap.contingency.build_contingency"),
    "exercise": (["exercise", "drina", "--site", "x", "-o", "{out}"], "riskmap.exercise.build_exercise"),
    "spill": (["spill", "x", "--mass", "10t"], "riskmap.spill.locate_release"),
    "questionnaire": (["questionnaire", "drina", "--country", "MNE", "-o", "{out}/q.xlsx"],
                      "riskmap.questionnaire.write_questionnaire"),
    "sites summary": (["sites", "summary"], "riskmap.pipeline.read_step"),
    "validate": (["validate", str(SITES_CSV)], "riskmap.io.read_sites"),
    "assess": (["assess", "-o", "{out}/a.csv"], "riskmap.pipeline.prepare"),
    "matrix": (["matrix"], "riskmap.pipeline.prepare"),
    "score": (["score", "-o", "{out}/s.csv"], "riskmap.pipeline.prepare"),
}


def _args(command: str, out) -> list[str]:
    return [a.replace("{out}", str(out)) for a in COMMANDS[command][0]]


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "questionnaire"]
                         + ["questionnaire write", "questionnaire merge"])
def test_every_document_command_offers_lang(command):
    r = CliRunner().invoke(main, [*command.split(), "--help"])
    assert r.exit_code == 0, r.output
    assert "--lang [en|ru]" in r.output and "RISKMAP_LANG" in r.output


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("command", COMMANDS)
def test_the_language_reaches_the_api_and_its_errors(command, lang, tmp_path, monkeypatch):
    """The API functions run inside use_lang(--lang); an error they raise is reported in that language."""
    seen: list[str] = []

    def fake(*args, **kwargs):
        seen.append(i18n.current_lang())
        raise RiskmapInputError(i18n._("unknown"))

    module, name = COMMANDS[command][1].rsplit(".", 1)
    monkeypatch.setattr(f"{module}.{name}", fake)
    r = CliRunner().invoke(main, [*_args(command, tmp_path), "--lang", lang])
    assert seen == [lang], r.output
    assert r.exit_code == 2, r.output
    assert ("riskmap: error: неизвестно" if lang == "ru" else "riskmap: error: unknown") in r.output
    assert "Traceback" not in r.output
    assert i18n.current_lang() == "en"  # the context ends with the command


def test_riskmap_lang_environment_variable_is_the_default(tmp_path, monkeypatch):
    seen: list[str] = []

    def fake(*args, **kwargs):
        seen.append(i18n.current_lang())
        raise RiskmapInputError("stop")

    monkeypatch.setattr("riskmap.report.prepare_inputs", fake)
    args = _args("export", tmp_path)
    CliRunner(env={"RISKMAP_LANG": "ru"}).invoke(main, args)
    CliRunner(env={"RISKMAP_LANG": "ru"}).invoke(main, [*args, "--lang", "en"])  # the option wins
    CliRunner(env={"RISKMAP_LANG": None}).invoke(main, args)
    assert seen == ["ru", "en", "en"]


@pytest.mark.parametrize(("argv", "env"), [(["--lang", "fr"], {}), ([], {"RISKMAP_LANG": "de"})])
def test_an_unknown_language_is_refused_before_any_work(argv, env, tmp_path):
    r = CliRunner(env=env).invoke(main, ["export", "drina", "-o", str(tmp_path / "x.csv"), *argv])
    assert r.exit_code == 2
    assert "'en', 'ru'" in r.output and "--lang" in r.output
    assert not (tmp_path / "x.csv").exists()


@pytest.fixture()
def bad_csv(tmp_path):
    p = tmp_path / "my sites.csv"
    p.write_text("site_id,name,category,lon,lat,coord_precision,source\n"
                 "a,Good mine,mine,19.26,43.36,exact,literature\n"
                 "b,Bad one,minee,19.30,43.40,exact,literature\n", encoding="utf-8")
    return p


def test_validation_problems_in_russian_keep_file_column_and_value(bad_csv):
    r = CliRunner().invoke(main, ["validate", str(bad_csv), "--lang", "ru"])
    assert r.exit_code == 1
    line = next(x for x in r.output.splitlines() if "minee" in x)
    assert line.startswith("ОШИБКА: ") and str(bad_csv) in line
    assert "строка данных 2" in line and "столбец 'category'" in line
    assert "неизвестное значение category 'minee'" in line and "Исправление: используйте одно из значений" in line
    assert "прочитано строк: 2, принято: 1, ошибок: 1" in r.output
    en = CliRunner().invoke(main, ["validate", str(bad_csv)])
    assert "ERROR: " in en.output and "row 2, column 'category': unknown category 'minee'. Fix: use one of" in en.output
    assert "ОШИБКА" not in en.output


def test_dropped_rows_warning_in_russian(bad_csv):
    r = CliRunner().invoke(main, ["sites", "summary", str(bad_csv), "--lang", "ru"])
    assert r.exit_code == 0, r.output
    warn = next(x for x in r.output.splitlines() if x.startswith("riskmap: warning:"))
    assert f"{bad_csv}: отброшено строк: 1 из 2 (1 category: неизвестное значение category)" in warn
    assert "полный список: riskmap validate" in warn


def test_command_summary_in_russian_with_plural_forms(tmp_path):
    out = tmp_path / "kgz.xlsx"
    r = CliRunner().invoke(main, ["questionnaire", "syr_darya", "--country", "KGZ", "-o", str(out), "--lang", "ru"])
    assert r.exit_code == 0, r.output
    assert f"записан файл {out}: " in r.output and " объектов (KGZ) в бассейне syr_darya" in r.output


def test_plural_forms_of_the_cli_catalogue():
    with i18n.use_lang("ru"):
        forms = [i18n.ngettext("wrote {path} ({n} site)", "wrote {path} ({n} sites)", n).format(path="x", n=n)
                 for n in (1, 3, 5, 21, 11)]
    assert forms == ["записан файл x (1 объект)", "записан файл x (3 объекта)", "записан файл x (5 объектов)",
                     "записан файл x (21 объект)", "записан файл x (11 объектов)"]


def test_spill_table_in_russian_headers_and_decimal_commas():
    r = CliRunner().invoke(main, ["spill", "lit-mailuu-suu-uranium-tailings-and-waste-dumps", "--mass", "10t",
                                  "--duration", "2h", "--lang", "ru"], env={"COLUMNS": "220"})
    assert r.exit_code == 0, r.output
    head = r.output.split("┃", 1)[1].split("\n", 1)[0]
    assert "контрольный створ" in head and "ч>0,01" in head and "Q, м³/с" in head
    assert "Аварийный сброс 10000 кг: Mailuu-Suu uranium tailings and waste dumps" in r.output
    row = next(x for x in r.output.splitlines() if "border KGZ -> UZB" in x)  # data (checkpoint names) as they are
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert "," in cells[2] and "." not in cells[2]  # km with a decimal comma
    assert "Допущения:" in r.output and "Неопределённость:" in r.output
    en = CliRunner().invoke(main, ["spill", "lit-mailuu-suu-uranium-tailings-and-waste-dumps", "--mass", "10t",
                                   "--duration", "2h"], env={"COLUMNS": "220"})
    en_row = next(x for x in en.output.splitlines() if "border KGZ -> UZB" in x)
    assert [c.strip() for c in en_row.split("│")[1:-1]][2] == cells[2].replace(",", ".")  # the same number


def test_questionnaire_merge_reports_in_russian(tmp_path):
    import openpyxl

    blank = tmp_path / "kgz.xlsx"
    assert CliRunner().invoke(main, ["questionnaire", "syr_darya", "--country", "KGZ", "-o", str(blank),
                                     "--lang", "ru"]).exit_code == 0
    wb = openpyxl.load_workbook(blank)
    n = wb["Новые объекты"]
    col = {c.value: c.column for c in n[1]}
    n.cell(3, col["new_site_name"], "Объект без категории")
    n.cell(3, col["category"], "Завод грёз")
    n.cell(3, col["lon"], 72.1)
    n.cell(3, col["lat"], 41.1)
    ret = tmp_path / "kgz_returned.xlsx"
    wb.save(ret)
    r = CliRunner().invoke(main, ["questionnaire", "merge", str(ret), "-o", str(tmp_path / "m"), "--no-score",
                                  "--lang", "ru"])
    assert r.exit_code == 1, r.output  # the unknown category is an error
    line = next(x for x in r.output.splitlines() if "Завод грёз" in x)
    assert line.startswith(f"ОШИБКА: {ret}, лист 'Новые объекты', строка данных 3, столбец 'B (category)': ")
    assert "неизвестное значение category 'Завод грёз'" in line
    assert f"в {tmp_path / 'm'}/sites.csv объединено ответов: 1;" in r.output and "ошибок: 1" in r.output
    issues = (tmp_path / "m" / "issues.csv").read_text(encoding="utf-8")
    assert issues.splitlines()[0] == "severity,file,line,row,column,reason,fix"  # machine columns stay English
    assert "неизвестное значение category" in issues


def test_a_bad_language_from_the_environment_names_the_variable(tmp_path):
    r = CliRunner(env={"RISKMAP_LANG": "de"}).invoke(main, ["export", "drina", "-o", str(tmp_path / "x.csv")])
    assert r.exit_code == 2
    assert "'de' comes from the environment variable RISKMAP_LANG" in r.output
    r = CliRunner(env={"RISKMAP_LANG": None}).invoke(main, ["export", "drina", "-o", str(tmp_path / "x.csv"),
                                                           "--lang", "de"])
    assert r.exit_code == 2 and "RISKMAP_LANG" not in r.output  # the option was the source
