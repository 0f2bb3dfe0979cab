"""Site and basin text is data, never code: template syntax in every text field (issue 13, item 1).

folium/branca render a map through Jinja2; before the fix the rendered map
script (with every site name, note, source ... embedded as JSON) was parsed
as Jinja source a second time, so a site named
``{{ cycler.__init__.__globals__.os.popen('id').read() }}`` ran a shell
command on the machine building the map, ``{{ 7*7 }}`` became ``49`` and
``{% broken`` crashed the build. Each test puts template syntax into one
field and checks that: no command ran (the payload would create a marker
file), the text reaches the output literally, nothing crashes. Covered:
:func:`riskmap.basin_map` / :func:`riskmap.save_map` / ``_repr_html_``, the
report and its map (:func:`riskmap.pipeline.write_map_and_report`),
the spill scenario document, and ``riskmap map`` / ``report`` / ``demo`` on
real bundled sites.
"""

from __future__ import annotations

import html
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from fixtures.maps import synthetic_sites  # for _sites_with (not a test)

from riskmap import maps  # noqa: E402
from riskmap import report as rp  # noqa: E402
from riskmap.pipeline import write_map_and_report  # noqa: E402
from riskmap import DATA_DIR  # noqa: E402
from riskmap.cli import main  # noqa: E402

HAVE_DATA = ((DATA_DIR / "basins" / "drina.gpkg").is_file() and (DATA_DIR / "sites" / "sites.csv").is_file()
             and importlib.util.find_spec("riskmap.exposure") is not None)

#: Template syntax that must stay text: an expression, an unclosed tag, an unclosed comment, raw blocks.
BROKEN = ("{% broken", "{# open comment", "{{ unclosed", "{% raw %}x{% endraw %}", "{%- if x %}", "}}{{")

#: Free-text site columns of the schema (shown in the map popup) plus columns a user GeoDataFrame may carry.
SITE_FIELDS = ("name", "site_id", "source", "source_id", "licence", "tailings_type", "dam_condition", "notes",
               "source_refs", "substances", "category", "status", "country", "exposure_class", "sub_basin",
               "score_reason", "params_label", "continuation", "downstream_countries")

#: Basin layers whose names reach the map (imported basins are untrusted too).
BASIN_FIELDS = (("reaches", "name"), ("reaches", "country"), ("reaches", "waterbody"), ("lakes", "name"),
                ("lakes", "kind"), ("towns", "name"), ("towns", "country"), ("sub_basins", "sub_basin"),
                ("countries", "name"), ("outline", "name"))


def rce(marker: Path) -> str:
    """A template expression that would create ``marker`` if it were ever evaluated."""
    return "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}"


def payload(marker: Path, extra: str = "") -> str:
    return f"{{{{ 7*7 }}}} {extra} {rce(marker)}"


def _cell(field: str, text: str) -> Any:
    """The value to put in ``field`` so that ``text`` is displayed (JSON columns hold structures)."""
    if field == "substances":
        return json.dumps([{"name": text, "quantity_t": 5}])
    if field in ("source_refs", "downstream_countries"):
        return [text, "BIH|SRB"]
    return text


def map_data(html_text: str) -> dict[str, Any]:
    """The data object a saved map hands to ``riskmap.build`` (decoded from the page)."""
    start = html_text.index(" = riskmap.build(")
    comma = html_text.index(",", start)
    data, _ = json.JSONDecoder().raw_decode(html_text[comma + 1:].lstrip())
    return data


def column(data: dict[str, Any], name: str) -> list[Any]:
    """Decode one compact site column of the map data (``v`` dense, ``c``/``k`` categorical, ``s`` sparse)."""
    s = data["sites"]
    enc = s["cols"][name]
    if "v" in enc:
        return enc["v"]
    if "c" in enc:
        return [enc["k"][c] if c >= 0 else None for c in enc["c"]]
    return [enc["s"].get(str(i)) for i in range(s["n"])]


def all_strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in all_strings(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in all_strings(v)]
    return []


def _sites_with(field: str, text: str) -> gpd.GeoDataFrame:
    s = synthetic_sites()
    s[field] = pd.Series([None] * len(s), dtype=object)
    s.at[s.index[0], field] = _cell(field, text)
    return s


# --------------------------------------------------------------------------
# Maps (API)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("field", SITE_FIELDS)
def test_map_site_text_is_never_a_template(field, tmp_path, synthetic_basin):
    marker = tmp_path / "pwned"
    text = payload(marker, field)
    out = maps.save_map(maps.basin_map(synthetic_basin(), _sites_with(field, text)), tmp_path / "m.html")
    assert not marker.exists(), "a template expression in site text ran a shell command"
    data = map_data(out.read_text(encoding="utf-8"))
    strings = all_strings(data)
    shown = column(data, field)[0]  # every field of SITE_FIELDS is shown in the popup
    assert text in shown and "{{ 7*7 }}" in shown
    assert "49" not in shown.replace(str(marker), "")  # the tmp path may hold "49" (pytest-491)
    if field == "category":  # also in the legend, HTML-escaped
        assert html.escape(text) in data["legend"]
    assert not any(s.startswith("49 ") for s in strings)


@pytest.mark.parametrize("text", BROKEN)
def test_map_broken_template_syntax_is_kept_literally(text, tmp_path, synthetic_basin):
    s = synthetic_sites()
    s.at[s.index[0], "name"] = text
    s.at[s.index[1], "notes"] = text
    m = maps.basin_map(synthetic_basin(), s, title=text)
    data = map_data(maps.map_html(m))
    assert column(data, "name")[0] == text
    assert column(data, "notes")[1] == text
    assert f"<summary>{html.escape(text)}</summary>" in data["legend"]


@pytest.mark.parametrize("layer,col", BASIN_FIELDS)
def test_map_basin_text_is_never_a_template(layer, col, tmp_path, synthetic_basin):
    marker = tmp_path / "pwned"
    text = payload(marker, f"{layer}.{col}")
    basin = synthetic_basin()
    gdf = getattr(basin, layer).copy()
    gdf[col] = text
    setattr(basin, layer, gdf)
    html_text = maps.map_html(maps.basin_map(basin, synthetic_sites()))
    assert not marker.exists()
    strings = all_strings(map_data(html_text))
    assert text in strings or any(text in s for s in strings)
    assert not any(s.startswith("49 ") for s in strings)


def test_map_basin_display_name_and_title(tmp_path, synthetic_basin):
    marker = tmp_path / "pwned"
    basin = synthetic_basin()
    basin.name = payload(marker, "basin name") + " {% broken"
    m = maps.basin_map(basin, synthetic_sites())
    out = maps.save_map(m, tmp_path / "m.html")
    assert not marker.exists()
    legend = map_data(out.read_text(encoding="utf-8"))["legend"]
    assert f"<summary>{html.escape(basin.name)} basin</summary>" in legend
    # the notebook view (iframe srcdoc) holds the same page, escaped once more for the attribute
    view = m._repr_html_()
    assert not marker.exists()
    srcdoc = re.fullmatch(r'.*<iframe srcdoc="([^"]*)".*', view, flags=re.S)
    assert srcdoc is not None
    assert map_data(html.unescape(srcdoc.group(1)))["legend"] == legend


def test_extra_folium_elements_still_render(tmp_path, synthetic_basin):
    """The raw-text element leaves the rest of the page to folium: added elements keep working."""
    import folium

    m = maps.basin_map(synthetic_basin(), _sites_with("name", "{{ 7*7 }}"))
    folium.CircleMarker([43.5, 19.0], radius=4, tooltip="added by the user").add_to(m)
    text = maps.save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert "added by the user" in text and "L.circleMarker(" in text
    assert column(map_data(text), "name")[0] == "{{ 7*7 }}"
    assert text.count(" = riskmap.build(") == 1


# --------------------------------------------------------------------------
# Report (HTML; also writes the map) and the spill scenario document
# --------------------------------------------------------------------------


REPORT_FIELDS = ("score_reason", "name", "site_id", "source", "notes", "substances", "licence")  # row 0 is ranked 1st


def test_report_text_is_never_a_template(tmp_path, assessed_sites, fake_basin, matrix, provenance):
    """One report (and its map) with a payload in a different field of each site."""
    sites = assessed_sites()
    texts = {}
    for row, field in enumerate(REPORT_FIELDS):
        texts[field] = payload(tmp_path / f"pwned_{field}", field)
        sites[field] = sites[field].astype(object) if field in sites.columns else None
        sites.at[sites.index[row], field] = _cell(field, texts[field])
    sp, bp = provenance()
    inputs = rp.ReportInputs("drin", sites, basin=fake_basin(), matrix=matrix(), sites_provenance=sp,
                             basins_provenance=bp)
    _, path = write_map_and_report(inputs, tmp_path / "out", pdf=False)
    assert [p.name for p in tmp_path.glob("pwned_*")] == [], "a template expression in site text ran"
    page = html.unescape(path.read_text(encoding="utf-8"))
    for field in ("name", "source"):  # the fields the report shows (no site ids or score-term dumps since issue 18)
        assert texts[field] in page, field
    assert not re.search(r"(?<![\d.,])49 ", page)  # {{ 7*7 }} never evaluated ("of 149 places" is a real figure)
    strings = all_strings(map_data((path.parent / "drin_map.html").read_text(encoding="utf-8")))
    for field in REPORT_FIELDS:
        assert any(texts[field] in s for s in strings), field
    assert not any("49 " in s for s in strings)


def test_report_basin_name_with_template_and_mathtext(tmp_path, assessed_sites, fake_basin, matrix, provenance):
    """A basin name (imported basins are user data) is text in the HTML and in the figures' titles."""
    marker = tmp_path / "pwned"
    name = payload(marker, "basin") + r" {% broken $\frac$ 5$"
    basin = fake_basin()
    basin.name = name
    sp, bp = provenance()
    inputs = rp.ReportInputs("drin", assessed_sites(), basin=basin, basin_name=name, matrix=matrix(),
                             sites_provenance=sp, basins_provenance=bp)
    path = rp.build_report(inputs, tmp_path / "out", pdf=False)
    assert not marker.exists()
    page = html.unescape(path.read_text(encoding="utf-8"))
    assert f"<h1>{name} River Basin</h1>" in page
    assert not (tmp_path / "out" / "pwned").exists()


def test_spill_document_text_is_literal(tmp_path):
    """Checkpoint (town) names reach the spill HTML table and the plot legend as text."""
    import shapely
    from shapely.geometry import LineString

    from riskmap import spill

    reaches = gpd.GeoDataFrame(
        {"reach_id": [1, 2], "downstream_id": [2, -1], "name": ["Testa", "Testa"], "length_km": [20.0, 30.0],
         "dist_to_outlet_km": [30.0, 0.0], "order": [3, 3], "country": ["BIH", "BIH|SRB"],
         "is_border": [False, True], "waterbody": [None, None], "sub_basin": ["T", "T"]},
        geometry=[LineString([(19.0, 44.0), (19.25, 44.0)]), LineString([(19.25, 44.0), (19.6, 44.0)])], crs=4326)
    table = {"station": [{"river": "Testa", "at": "mouth", "mean_m3s": 100.0, "area_km2": 5000.0,
                          "citation": "synthetic"}], "lake": []}
    marker = tmp_path / "pwned"
    name = payload(marker, "town") + r" <b>x</b> $\frac$"
    towns = gpd.GeoDataFrame({"name": [name], "country": ["BIH"]}, geometry=[shapely.Point(19.1, 44.001)],
                             crs=4326)
    res = spill.simulate_spill(1, 1000, reaches=reaches, discharge=table, towns=towns)
    assert name in set(res.table()["checkpoint"])
    out = spill.write_result(res, tmp_path / "spill.html")
    assert not marker.exists()
    page = out.read_text(encoding="utf-8")
    assert html.escape(name) in page and "<b>x</b>" not in page


# --------------------------------------------------------------------------
# Command line, on real bundled sites
# --------------------------------------------------------------------------


def _hostile_csv(tmp_path: Path, marker: Path) -> tuple[Path, dict[str, str]]:
    """Three real Drina rows of the bundled inventory with hostile text in their free-text fields."""
    df = pd.read_csv(DATA_DIR / "sites" / "sites.csv", dtype=str, keep_default_na=False)
    d = df[df["basin"] == "drina"].head(3).copy().reset_index(drop=True)
    texts = {"name": rce(marker), "notes": "{{ 7*7 }}", "source": "{% broken", "licence": "{# open",
             "source_id": "{{ unclosed"}
    d.loc[0, "name"] = texts["name"]
    d.loc[1, "notes"] = texts["notes"]
    d.loc[2, "name"] = "{% broken"
    d.loc[0, "source"] = texts["source"]
    d.loc[1, "licence"] = texts["licence"]
    d.loc[2, "source_id"] = texts["source_id"]
    path = tmp_path / "hostile.csv"
    d.to_csv(path, index=False)
    return path, texts


def _check_map_file(path: Path, texts: dict[str, str]) -> None:
    data = map_data(path.read_text(encoding="utf-8"))
    strings = all_strings(data)
    assert {texts["name"], "{% broken"} <= set(column(data, "name"))
    for t in texts.values():
        assert any(t in s for s in strings), t
    assert "49" not in column(data, "notes")


@pytest.mark.skipif(not HAVE_DATA, reason="bundled drina data not available")
def test_cli_map_report_demo_keep_site_text_literal(tmp_path):
    marker = tmp_path / "pwned"
    csv, texts = _hostile_csv(tmp_path, marker)
    runner = CliRunner()
    res = runner.invoke(main, ["map", "drina", "--sites", str(csv), "-o", str(tmp_path / "map.html")])
    assert res.exit_code == 0, res.output
    assert not marker.exists()
    _check_map_file(tmp_path / "map.html", texts)

    res = runner.invoke(main, ["report", "drina", "--no-pdf", "--sites", str(csv), "-o", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    assert not marker.exists()
    _check_map_file(tmp_path / "rep" / "drina_map.html", texts)
    page = html.unescape((tmp_path / "rep" / "drina_report.html").read_text(encoding="utf-8"))
    assert texts["name"] in page and "{% broken" in page

    res = runner.invoke(main, ["demo", "--basin", "drina", "--no-pdf", "--sites", str(csv),
                               "-o", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert not marker.exists()
    _check_map_file(tmp_path / "demo" / "drina_map.html", texts)


def test_right_to_left_override_in_a_name_is_isolated_in_report_prose():
    """A name with U+202E (RIGHT-TO-LEFT OVERRIDE) would reverse the rest of the report's sentence it stands in:
    the prose isolates it (FSI ... PDI), plain names are left as they are."""
    import pandas as pd

    from riskmap.report_prose import recommendations_context, short_warning

    sites = pd.DataFrame({"name": ["abc\u202eexe.txt", "Plain"], "country": ["KGZ", "KGZ"],
                          "travel_time_h": [1.0, 2.0], "priority_rank": [1, 2]})
    rows = short_warning(sites)
    assert [r["name"] for r in rows] == ["\u2068abc\u202eexe.txt\u2069", "Plain"]
    text = " ".join(r["text"] for r in recommendations_context(sites, []))
    assert "\u2068abc\u202eexe.txt\u2069" in text


def test_spill_plot_legend_shows_checkpoint_names_literally():
    """Checkpoint names (towns, water bodies: data) reach the plot legend as they are: no mathtext, no
    glyph-less control characters, and a name starting with '_' is not hidden by matplotlib."""
    import warnings

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    from riskmap.spill_result import SpillResult

    t = np.linspace(0, 10, 11)
    names = ["_Lake", "Tre$5$p", "Bor\x1b[2J"]
    res = SpillResult(checkpoints=pd.DataFrame(), assumptions=[], uncertainty={}, path=gpd.GeoDataFrame(),
                      curves={n: (t, np.exp(-(t - k - 2) ** 2)) for k, n in enumerate(names)},
                      params={"mass_kg": 1000.0, "model": "jobson"})
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph or a mathtext parse would warn or fail
        res.plot(ax=ax)
        fig.canvas.draw()
    shown = [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    assert shown == [" _Lake", r"Tre\$5\$p", r"Bor\x1b[2J"]
