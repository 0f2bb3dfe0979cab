"""The translation layer: catalogues complete, glossary respected, formats per language."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from riskmap import i18n
from riskmap._i18n_catalog import extract, problems
from riskmap import RiskmapInputError

LOCALE = Path(i18n.__file__).parent / "locale"


def test_every_user_facing_message_has_a_russian_translation():
    found = problems("ru")
    assert found == [], "\n".join(found[:60]) + (f"\n... {len(found)} in all" if len(found) > 60 else "")


def test_extraction_finds_messages_in_every_kind_of_source():
    cats = extract()
    assert sum(len(c) for c in cats.values()) > 0
    assert any(m.id == "unknown" for m in cats["common"])


def test_a_missing_translation_is_reported(monkeypatch):
    from babel.messages.catalog import Catalog

    import riskmap._i18n_catalog as cat_mod

    fake = Catalog(domain="common")
    fake.add("A sentence nobody translated", locations=[("x.py", 1)])
    monkeypatch.setattr(cat_mod, "extract", lambda: {"common": fake})
    assert any("A sentence nobody translated" in p for p in problems("ru"))


def _glossary() -> list[dict[str, str]]:
    with open(LOCALE / "glossary.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_glossary_is_well_formed():
    rows = _glossary()
    assert len(rows) >= 40
    ens = [r["term_en"].lower() for r in rows]
    assert len(ens) == len(set(ens)), "one English term, one entry"
    assert all(r["term_ru"] and r["ru_stem"] for r in rows)
    by = {r["term_en"]: r["term_ru"] for r in rows}
    assert by["tailings management facility"] == "хвостохранилище"
    assert by["transboundary effect"] == "трансграничное воздействие"
    assert by["industrial accident"] == "промышленная авария"


# terms whose Russian stem must appear wherever the English term is in a message (the whole word)
_CHECKED = ["tailings management facility", "tailings facility", "transboundary", "industrial accident",
            "competent authority", "point of contact", "contingency plan", "travel time", "checkpoint",
            "discharge", "reservoir", "questionnaire", "legend", "downstream", "upstream", "hazard score",
            "remediation", "red mud", "dilution", "concentration", "catchment", "exercise", "notification",
            "sub-basin", "inject", "leading edge", "priority site", "border water"]


def test_translations_use_the_glossary_terms():
    from babel.messages.pofile import read_po

    stems = {r["term_en"]: r["ru_stem"] for r in _glossary()}
    stems["tailings facility"] = stems["tailings management facility"]
    stems["transboundary"] = stems["transboundary effect"]
    bad = []
    for po in sorted((LOCALE / "ru" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale="ru")
        for m in cat:
            if not m.id or not m.string:
                continue
            src = m.id if isinstance(m.id, str) else m.id[0]
            dst = m.string if isinstance(m.string, str) else " ".join(m.string)
            for term in _CHECKED:
                if re.search(rf"\b{re.escape(term)}\b", src, flags=re.I) and term in stems:
                    if stems[term].lower() not in dst.lower():
                        bad.append(f"{po.name}: {src!r} -> {dst!r} lacks {stems[term]!r} ({term})")
    assert bad == [], "\n".join(bad[:40])


def test_no_translation_calls_a_site_a_website():
    for po in (LOCALE / "ru" / "LC_MESSAGES").glob("*.po"):
        text = po.read_text(encoding="utf-8")
        assert not re.search(r"\bсайт", text, flags=re.I), po.name


def test_languages_and_contexts():
    assert i18n.check_lang("ru-RU") == "ru"
    with pytest.raises(RiskmapInputError, match="unknown language 'de'"):
        i18n.check_lang("de")
    with i18n.use_lang("ru"):
        assert i18n.current_lang() == "ru"
        with i18n.use_lang(None):
            assert i18n.current_lang() == "ru"
        with i18n.use_lang("en"):
            assert i18n.gettext("unknown") == "unknown"
        assert i18n.gettext("unknown") == "неизвестно"
        assert i18n.gettext("A message not in any catalogue") == "A message not in any catalogue"
    assert i18n.current_lang() == "en"


def test_language_is_per_thread():
    import threading

    seen = {}

    def worker():
        seen["lang"] = i18n.current_lang()

    with i18n.use_lang("ru"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["lang"] == "en"


@pytest.mark.parametrize(("lang", "x", "digits", "want"), [
    ("en", 1234567.891, 1, "1,234,567.9"),
    ("ru", 1234567.891, 1, "1\u00a0234\u00a0567,9"),
    ("ru", 0.05, 2, "0,05"),
    ("ru", -3.0, 0, "-3"),
    ("en", float("nan"), 1, "unknown"),
    ("ru", None, 1, "неизвестно"),
])
def test_number_formats(lang, x, digits, want):
    with i18n.use_lang(lang):
        assert i18n.format_number(x, digits) == want


@pytest.mark.parametrize(("text", "lang", "want"), [
    ("1\u00a0234,5", "ru", 1234.5), ("1 234,5", "ru", 1234.5), ("0,25", "ru", 0.25), ("1,234.5", "en", 1234.5),
    ("1.234,5", "ru", 1234.5), ("12", "ru", 12.0), ("-0,5", "ru", -0.5), ("1,234", "en", 1234.0),
    ("1,234", "ru", 1.234), ("1\u202f000", "ru", 1000.0),
])
def test_numbers_read_back_in_either_language(text, lang, want):
    assert i18n.parse_number(text, lang) == pytest.approx(want)


@pytest.mark.parametrize("text", ["", "abc", "1,2,3x", "nan", "inf"])
def test_non_numbers_are_refused(text):
    with pytest.raises(ValueError):
        i18n.parse_number(text, "ru")


def test_country_names_in_russian_for_every_riparian():
    want = {"ALB": "Албания", "XKX": "Косово", "MKD": "Северная Македония", "MNE": "Черногория",
            "BIH": "Босния и Герцеговина", "SRB": "Сербия", "KGZ": "Кыргызстан", "UZB": "Узбекистан",
            "TJK": "Таджикистан", "KAZ": "Казахстан", "HRV": "Хорватия", "GRC": "Греция"}
    assert {k: i18n.country_name(k, "ru") for k in want} == want
    assert i18n.country_name("KGZ", "en") == "Kyrgyzstan"


def test_dates():
    assert i18n.format_date("2026-11-27") == "27 November 2026"
    with i18n.use_lang("ru"):
        assert i18n.format_date("2026-03-01") == "1 марта 2026\u202fг."


def test_town_names_are_sourced_cyrillic_and_cover_the_basin_towns():
    import geopandas as gpd
    import pandas as pd

    from riskmap import DATA_DIR

    t = pd.read_csv(DATA_DIR / "sites" / "town_names.csv", dtype=str)
    assert set(t["source"]) == {"Natural Earth 10m populated places v4.0.0 NAME_RU (public domain)"}
    assert t["name_ru"].str.fullmatch(r"[\u0400-\u04FF\s\-'’.()ʼ]+").all()
    towns = pd.concat([gpd.read_file(DATA_DIR / "basins" / f"{b}.gpkg", layer="towns")
                       for b in ("drin", "drina", "syr_darya")])
    assert len(towns) > 20
    with i18n.use_lang("ru"):
        ru = [i18n.town_name(n, c) for n, c in zip(towns["name"], towns["country"])]
    share = sum(r != n for r, n in zip(ru, towns["name"])) / len(towns)
    assert share > 0.9, share  # the basin files' towns are Natural Earth's own
    with i18n.use_lang("ru"):
        assert i18n.town_name("Pljevlja", "MNE") in {"Плевля", "Пљевља", "Pljevlja"}
        assert i18n.town_name("Jalal Abad", "KGZ") == "Джалал-Абад"
        assert i18n.town_name("Jalal Abad", "UZB") == "Jalal Abad"  # another country: no match, no guess
    assert i18n.town_name("Jalal Abad", "KGZ") == "Jalal Abad"


def test_town_names_rebuild_from_the_sources(sources_dir, tmp_path):
    import shutil

    from riskmap import DATA_DIR
    from riskmap.databuild.town_names import write_town_names

    shutil.copy(DATA_DIR / "sites" / "places.csv", tmp_path / "places.csv")
    out = write_town_names(sources_dir, tmp_path)
    assert out.read_text(encoding="utf-8") == (DATA_DIR / "sites" / "town_names.csv").read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["places.csv", "town_names.csv"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["places.csv", "town_names.csv"]


def test_no_function_rebinds_the_gettext_alias():
    """``_`` is gettext wherever it is imported: a ``_, x = ...`` or ``for _ in`` inside a function makes
    it a local name there, and every ``_("...")`` of that function fails (TypeError/UnboundLocalError)."""
    import ast

    pkg = Path(i18n.__file__).parent
    bad = []
    for path in sorted(pkg.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_gettext = any(isinstance(n, ast.ImportFrom) and n.module == "riskmap.i18n"
                              and any(a.name == "_" and a.asname in (None, "_") for a in n.names)
                              for n in ast.walk(tree)) or path.name == "i18n.py"
        if not imports_gettext:
            continue
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, (ast.comprehension,)):
                    continue
                targets = []
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, (ast.For, ast.AsyncFor, ast.With)):
                    targets = [node.target] if isinstance(node, (ast.For, ast.AsyncFor)) else \
                        [i.optional_vars for i in node.items if i.optional_vars is not None]
                for t in targets:
                    names = [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
                    if "_" in names:
                        bad.append(f"{path.relative_to(pkg)}:{node.lineno} in {fn.name}()")
    assert bad == [], "rename the throwaway variable (e.g. _i): " + ", ".join(bad)


def _demo_index(out: Path, monkeypatch) -> str:
    """``run_all``'s index.html, the maps, reports and CSVs faked: Drina 35 sites with a PDF, Syr Darya 1,221 without."""
    from types import SimpleNamespace

    import riskmap.export
    import riskmap.report
    from riskmap import pipeline

    n_sites = {"drina": 35, "syr_darya": 1221}

    def fake_outputs(inputs, out_dir, pdf=True):
        b = inputs.basin_id
        if b == "drina":
            (Path(out_dir) / f"{b}_report.pdf").write_bytes(b"%PDF")
        return Path(out_dir) / f"{b}_map.html", Path(out_dir) / f"{b}_report.html"

    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: None)
    monkeypatch.setattr(riskmap.report, "report_inputs",
                        lambda b, prepared, **k: SimpleNamespace(basin_id=b, sites=range(n_sites[b])))
    monkeypatch.setattr(pipeline, "write_map_and_report", fake_outputs)
    monkeypatch.setattr(riskmap.export, "export", lambda sites, path, **k: Path(path))
    index = pipeline.run_all(out, basins=["drina", "syr_darya"], pdf=False)
    return index.read_text(encoding="utf-8")


def test_demo_index_and_progress_follow_the_language(tmp_path, monkeypatch):
    en = _demo_index(tmp_path / "en", monkeypatch)
    assert '<html lang="en">' in en and "interactive map" in en and "Syr Darya" in en
    assert 'href="drina_report.pdf"' in en and 'href="syr_darya_report.pdf"' not in en
    with i18n.use_lang("ru"):
        ru = _demo_index(tmp_path / "ru", monkeypatch)
    assert '<html lang="ru">' in ru
    ru = re.sub(r'href="[^"]*"', "", ru)  # file names are not text
    for word in ("interactive map", "report", "sites", "generated", "Kosovo", "Syr Darya", "outputs"):
        assert word not in ru, word
    assert "Сырдарья" in ru and "Дрина" in ru and "1\u00a0221" in ru and "Косово" in ru and "г.." not in ru
    assert "(данные от " in ru and "sha256:" in ru  # the data date in Russian, the checksum kept for audits


def test_schema_vocabularies_have_russian_descriptions():
    from riskmap.schema import CATEGORIES, COORD_PRECISIONS, STATUSES

    with i18n.use_lang("ru"):
        for table in (CATEGORIES, STATUSES, COORD_PRECISIONS):
            for text in table.values():
                assert re.search("[а-яё]", i18n.gettext(text)), text


def test_no_translated_literal_inside_an_f_string():
    """Babel's extractor (Python 3.11 tokenizer) does not see ``_("...")`` inside an f-string: such a
    message would never reach the catalogue and stay English in every language."""
    import ast

    pkg = Path(i18n.__file__).parent
    bad = []
    for path in sorted(pkg.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for sub in ast.walk(node):
                    if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
                            and sub.func.id in {"_", "gettext", "ngettext", "pgettext", "N_"}
                            and any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in sub.args)):
                        bad.append(f"{path.relative_to(pkg)}:{sub.lineno}")
    assert bad == [], "move the _() call out of the f-string: " + ", ".join(bad)


def test_default_parameter_label_is_shown_in_the_output_language(synthetic_basin, synthetic_sites):
    """The shipped defaults' label is shown in the map's language; a user's own label as written."""
    import html as _html

    from riskmap.maps import basin_map, map_html
    from riskmap.params import DEFAULT_LABEL

    sites = synthetic_sites()
    own = "my ministry's table 2026"
    sites["params_label"] = [DEFAULT_LABEL] * (len(sites) - 1) + [own]
    en = _html.unescape(map_html(basin_map(synthetic_basin(), sites)))
    assert DEFAULT_LABEL in en and own in en and "параметры riskmap по умолчанию" not in en
    ru = _html.unescape(map_html(basin_map(synthetic_basin(), sites, lang="ru")))
    assert "параметры riskmap по умолчанию" in ru and DEFAULT_LABEL not in ru
    assert own in ru  # the user's own label as written
