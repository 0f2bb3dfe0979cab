"""The map in Russian: legend, popups, filters, layer names and the JavaScript's texts translated; English unchanged.

Synthetic basin and sites from ``tests/fixtures/maps.py`` (fixtures); the real Drin map for the
Kosovo footnote and the country labels (skipped without the bundled data).
"""

from __future__ import annotations

import html
import re

import folium
import pandas as pd
import pytest

from riskmap import maps
from riskmap import RiskmapInputError
from riskmap import DATA_DIR
from riskmap.i18n import use_lang
from riskmap.map_text import JS_RUNTIME, country_name, countries_text, js_catalogue, why_texts

CYRILLIC = re.compile("[\u0400-\u04ff]")
#: Text that needs no translation: numbers, percentages and ranges.
NUMERIC = re.compile(r"^[\d\s%\-\u2013.,()]*$")


@pytest.fixture(scope="module")
def ru_map(synthetic_basin, synthetic_sites):
    return maps.basin_map(synthetic_basin(), synthetic_sites(), lang="ru")


@pytest.fixture(scope="module")
def en_map(synthetic_basin, synthetic_sites):
    return maps.basin_map(synthetic_basin(), synthetic_sites())


def _texts(markup: str) -> list[str]:
    """The text nodes of an HTML fragment."""
    return [html.unescape(t).strip() for t in re.findall(r">([^<]+)<", markup) if t.strip()]


def _walk(element):
    """The folium element and all its descendants (branca's children)."""
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _layer_names(m: folium.Map) -> list[str]:
    return [el.layer_name for el in _walk(m) if isinstance(el, (folium.FeatureGroup, folium.plugins.MarkerCluster))]


def _runtime_messages() -> tuple[list[str], list[tuple[str, str]]]:
    """The ``t(...)`` and ``ngettext(...)`` messages of the map's JavaScript, read here with Babel (the reference)."""
    from babel.messages.extract import extract_javascript

    singles, plurals = [], []
    with open(JS_RUNTIME, "rb") as fh:
        for _line, func, msg, _comments in extract_javascript(fh, {"t": None, "ngettext": (1, 2)}, [], {}):
            if func == "ngettext":
                plurals.append(tuple(msg[:2]))
            elif func == "t":
                singles.append(msg)
    return list(dict.fromkeys(singles)), list(dict.fromkeys(plurals))


def test_js_catalogue_has_every_message_of_the_runtime():
    singles, plurals = _runtime_messages()
    assert len(singles) >= 30 and "Filter sites" in singles and "No site found" in singles
    assert ("{n} of {total} site shown", "{n} of {total} sites shown") in plurals
    with use_lang("ru"):
        cat, plural = js_catalogue()
    assert sorted(cat) == sorted(singles) and sorted(plural) == sorted(s for s, _p in plurals)
    untranslated = [m for m, tr in cat.items() if tr == m or not CYRILLIC.search(tr)]
    assert untranslated == []
    for forms in plural.values():
        assert len(forms) == 3 and all(CYRILLIC.search(f) for f in forms)
    assert plural["{n} transboundary site upstream, e.g. {names}"][:2] == [
        "{n} объект выше по течению с трансграничным воздействием, например: {names}",
        "{n} объекта выше по течению с трансграничным воздействием, например: {names}"]
    with use_lang("en"):
        en, en_plural = js_catalogue()
    assert en == {m: m for m in singles}
    assert en_plural["{n} of {total} site shown"] == ["{n} of {total} site shown", "{n} of {total} sites shown",
                                                     "{n} of {total} sites shown"]


def test_russian_map_data_is_russian(ru_map):
    d = ru_map._riskmap_data
    assert d["lang"] == "ru" and d["i18n"]["Show all sites"] == "Показать все объекты"
    s = d["sites"]
    labels = [f[1] for f in s["fields"]] + s["groupNames"]
    assert [lb for lb in labels if not CYRILLIC.search(lb)] == []
    assert s["groupNames"][0] == "Что это за объект" and s["groups"][0] == "What it is"  # keys stay English
    for f in s["filters"]:
        assert CYRILLIC.search(f["label"]), f["label"]
        assert [v[1] for v in f["values"] if not CYRILLIC.search(str(v[1]))] == [], f["key"]
    filters = {f["key"]: f for f in s["filters"]}
    assert filters["country"]["values"][0][:2] == ["BIH", "Босния и Герцеговина"]  # codes stay, names translate
    assert [v[1] for v in filters["exposure_class"]["values"]] == ["высокий", "средний", "низкий", "не определён"]
    assert filters["status"]["values"][-1][1] == "Статус неизвестен"
    left = [t for t in _texts(d["legend"]) if not CYRILLIC.search(t) and not NUMERIC.match(t)]
    assert left == []
    assert _texts(d["legend"])[0] == "Бассейн реки Дрина"
    assert [n for n in _layer_names(ru_map) if not CYRILLIC.search(n)] == []
    assert "Объекты (8)" in _layer_names(ru_map)
    assert d["attribution"].startswith("Слои бассейна:")
    assert d["countryNames"]["SRB"] == "Сербия"


def test_russian_popup_values(ru_map):
    s = ru_map._riskmap_data["sites"]

    def column(name):
        c = s["cols"][name]
        return c["v"] if "v" in c else [None if k < 0 else c["k"][k] for k in c["c"]] if "c" in c else \
            [c["s"].get(str(i)) for i in range(s["n"])]

    kinds = {v for v in column("category") if v}
    assert kinds and all(CYRILLIC.search(v) for v in kinds)
    assert all(CYRILLIC.search(v) for v in column("country") if v)
    assert all(CYRILLIC.search(v) for v in column("coord_precision") if v)
    why = [w for w in column("why") if w]
    assert why and all(CYRILLIC.search(w) for w in why)
    assert not any(re.search(r"\b(km|days|Water|Ranked|About)\b", w) for w in why)


def test_english_map_is_unchanged(en_map, ru_map, synthetic_basin, synthetic_sites):
    d = en_map._riskmap_data
    assert "i18n" not in d and "lang" not in d and "groupNames" not in d["sites"]
    assert not CYRILLIC.search(str(d))
    assert d["legend"].startswith("<details open><summary>Drina basin</summary><h5>Sites: kind (shape)</h5>")
    assert [f[1] for f in d["sites"]["fields"]][:3] == ["Kind", "Status", "Country"]
    assert "Sites (8)" in _layer_names(en_map)
    page = maps.map_html(en_map)
    assert page.startswith("<!DOCTYPE html>\n<html>\n<head>\n") and "<title>" not in page[:300]
    with use_lang("ru"):  # an explicit lang wins over the surrounding one
        again = maps.basin_map(synthetic_basin(), synthetic_sites(), lang="en")._riskmap_data
    assert again["legend"] == d["legend"] and again["sites"]["fields"] == d["sites"]["fields"]
    with use_lang("ru"):  # lang=None: the current language
        assert maps.basin_map(synthetic_basin(), synthetic_sites())._riskmap_data["lang"] == "ru"


def test_russian_page_language_and_title(ru_map, tmp_path, synthetic_basin, synthetic_sites):
    page = maps.map_html(ru_map)
    assert page.startswith('<!DOCTYPE html>\n<html lang="ru">\n<head>\n<title>Бассейн реки Дрина</title>\n')
    hostile = maps.basin_map(synthetic_basin(), synthetic_sites(), lang="ru", title="<b>Дрина</b> & co")
    assert "<title>&lt;b&gt;Дрина&lt;/b&gt; &amp; co</title>" in maps.map_html(hostile)
    path = maps.save_map(ru_map, tmp_path / "ru.html", lang="ru")
    assert path.read_text(encoding="utf-8").startswith('<!DOCTYPE html>\n<html lang="ru">')
    with pytest.raises(RiskmapInputError, match="this map was built in 'ru', not 'en'"):
        maps.save_map(ru_map, tmp_path / "en.html", lang="en")
    assert not (tmp_path / "en.html").exists()
    assert '"localization": "ru"' in page and '"secondaryLengthUnit": "meters"' in page  # leaflet-measure's texts


def test_unknown_language_is_refused(synthetic_basin, synthetic_sites):
    with pytest.raises(RiskmapInputError, match="unknown language 'fr'"):
        maps.basin_map(synthetic_basin(), synthetic_sites(), lang="fr")


def test_why_texts_in_russian():
    df = pd.DataFrame({
        "country": ["BIH", "SRB"], "transboundary_downstream": [False, True],
        "on_border_water": [True, False], "downstream_countries": [["BIH|SRB"], ["SRB", "BIH|SRB"]],
        "first_border_river_km": [0.0, 1234.0], "travel_time_h": [0.0, 50.0],
        "downstream_pop_total": [12345, None], "natech_seismic": [3, 0], "natech_fault_km": [0.4, 9],
        "natech_max_mw": [6.06, None], "score_status": ["scored", "insufficient data"],
        "score_reason": [None, "no substance inventory"], "priority_rank": [1, None],
        "category": ["tailings_metal", "mine"], "tailings_volume_m3": [2.5e6, None]})
    with use_lang("ru"):
        w = why_texts(df)
    assert w[0].split("\n") == [
        "На пограничной реке: аварийный сброс сразу имеет трансграничный характер.",
        "Ниже по течению в населённых пунктах вдоль реки проживает не менее 12\u00a0300 человек.",
        "Место 1 из 1 по приоритету опасности (хвостохранилище (руды металлов), около 2,5\u00a0млн\u00a0м³ хвостов).",
        "Сейсмоопасное место: активный разлом на расстоянии менее 1\u00a0км, поблизости зарегистрированы "
        "землетрясения магнитудой до M6,1."]
    assert w[1].split("\n") == [
        "Вода от объекта достигает следующей страны ниже по течению (граница (Босния и Герцеговина / Сербия)): "
        "1\u00a0234\u00a0км по руслу до первой границы, время добегания около 2,1\u00a0суток.",
        "Не ранжирован: no substance inventory."]  # the reason is data: as given


def test_country_names_in_russian():
    with use_lang("ru"):
        assert country_name("XKX") == "Косово*"
        assert country_name("KGZ") == "Кыргызстан"
        assert countries_text(["BIH", "BIH|SRB", "SRB"]) == (
            "Босния и Герцеговина \u2192 граница (Босния и Герцеговина / Сербия) \u2192 Сербия")
    assert country_name("XKX") == "Kosovo*"


@pytest.mark.skipif(not (DATA_DIR / "basins" / "drin.gpkg").is_file(), reason="bundled Drin data not available")
def test_real_drin_map_in_russian_names_kosovo_with_its_footnote():
    from riskmap._iso3 import kosovo_note
    from riskmap.hydrography import load_basin

    d = maps.basin_map(load_basin("drin"), lang="ru")._riskmap_data
    labels = [lb[2] for lb in d["labels"]]
    assert "Косово*" in labels and "Албания" in labels and "Северная Македония" in labels
    with use_lang("ru"):
        note = kosovo_note()
    assert CYRILLIC.search(note) and html.escape(note) in d["legend"]
    assert d["kosovoNote"] == note
    assert _texts(d["legend"])[0] == "Бассейн реки Дрин"
