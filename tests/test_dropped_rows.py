"""Rows that fail validation are never dropped in silence (issue 13, item 2).

Every command that reads sites says on stderr how many rows it dropped and
why, and points to ``riskmap validate FILE``; ``--strict`` refuses the file
(exit 1, nothing written); a file with no usable row is an error, never
"0 sites, exit 0"; the report lists the dropped rows in its data-quality
section; the API returns the report in ``attrs["validation"]`` and warns.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

import riskmap
from riskmap import RiskmapDataWarning, RiskmapValidationError
from riskmap.cli import main

HEADER = "site_id,name,category,coord_precision,source,lon,lat\n"
# 8 rows: 2 valid (Drina basin, near Pljevlja and Foca), 6 invalid for 6 different reasons
ROWS = [
    "ok1,Mine A,mine,exact,test,19.3563,43.3563",
    "ok2,Mine B,mine,exact,test,18.78,43.51",
    "c,Mine C,minee,exact,test,19.4,43.4",
    "d,Mine D,mine,exact,test,abc,43.4",
    "e,Mine E,mine,exact,test,,43.4",
    "f,Mine F,mine,exact,test,19.4,95",
    "g,Mine G,mine,exact,test,1_9.3,43.3",
    "ok1,Mine H,mine,exact,test,19.4,43.4",
]


@pytest.fixture()
def bad_csv(tmp_path):
    p = tmp_path / "eight.csv"
    p.write_text(HEADER + "\n".join(ROWS) + "\n")
    return p


def _stderr(res) -> str:
    return res.stderr if hasattr(res, "stderr") else res.output


def _check_message(text: str, path) -> None:
    assert "6 of 8 rows dropped" in text, text
    for kind in ("category: unknown category", "lon: unparseable coordinate", "lon: coordinate is blank",
                 "lat: coordinate out of range", "site_id: duplicate site_id"):
        assert kind in text, (kind, text)
    assert f"riskmap validate {path}" in text


COMMANDS = {
    "assess": lambda p, d: ["assess", str(p), "-o", str(d / "out.csv")],
    "score": lambda p, d: ["score", str(p), "-o", str(d / "out.csv")],
    "export": lambda p, d: ["export", "drina", "--sites", str(p), "-o", str(d / "out.csv")],
    "map": lambda p, d: ["map", "drina", "--sites", str(p), "-o", str(d / "m.html"), "--no-score"],
    "matrix": lambda p, d: ["matrix", str(p)],
    "sites summary": lambda p, d: ["sites", "summary", str(p)],
    "spill": lambda p, d: ["spill", "ok1", "--mass", "1t", "--sites", str(p)],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_site_command_reports_dropped_rows(name, bad_csv, tmp_path):
    res = CliRunner().invoke(main, COMMANDS[name](bad_csv, tmp_path))
    assert res.exit_code == 0, res.output
    _check_message(_stderr(res), bad_csv)
    assert _stderr(res).count("rows dropped") == 1  # one message, not one per step


@pytest.mark.parametrize("name", ["assess", "score", "export", "map"])
def test_strict_refuses_and_writes_nothing(name, bad_csv, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    res = CliRunner().invoke(main, [*COMMANDS[name](bad_csv, out), "--strict"])
    assert res.exit_code == 1, res.output
    assert "unknown category 'minee'" in res.output
    assert list(out.iterdir()) == []


def test_report_lists_dropped_rows_in_data_quality(bad_csv, tmp_path):
    res = CliRunner().invoke(main, ["report", "drina", "--sites", str(bad_csv), "-o", str(tmp_path / "r"),
                                    "--no-pdf"])
    assert res.exit_code == 0, res.output
    _check_message(_stderr(res), bad_csv)
    html = (tmp_path / "r" / "drina_report.html").read_text()
    quality = html[html.index('<section id="quality"'):]
    quality = quality[:quality.index("</section>")]
    assert 'id="dropped-rows"' in quality
    assert "6 of the 8 rows of eight.csv failed validation" in quality
    # row 3 (line 4): unknown category; user text is escaped
    assert "<td class=\"num\">3</td><td class=\"num\">4</td><td>category</td><td>unknown category &#39;minee&#39;" \
        in quality
    assert "duplicate site_id &#39;ok1&#39;" in quality


def test_report_of_a_clean_file_has_no_dropped_rows_table(tmp_path):
    res = CliRunner().invoke(main, ["report", "drina", "-o", str(tmp_path / "r"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert 'id="dropped-rows"' not in (tmp_path / "r" / "drina_report.html").read_text()
    assert "rows dropped" not in _stderr(res)


def test_demo_with_a_user_file_reports_dropped_rows(bad_csv, tmp_path):
    res = CliRunner().invoke(main, ["demo", "--sites", str(bad_csv), "-o", str(tmp_path / "d"),
                                    "--basin", "drina", "--no-pdf"])
    assert res.exit_code == 0, res.output
    _check_message(_stderr(res), bad_csv)
    assert "6 of the 8 rows of eight.csv failed validation" in (tmp_path / "d" / "drina_report.html").read_text()
    res = CliRunner().invoke(main, ["demo", "--sites", str(bad_csv), "-o", str(tmp_path / "s"),
                                    "--basin", "drina", "--no-pdf", "--strict"])
    assert res.exit_code == 1
    assert not (tmp_path / "s" / "index.html").exists()


def test_api_warns_and_keeps_the_report(bad_csv):
    with pytest.warns(RiskmapDataWarning, match="6 of 8 rows dropped"):
        sites = riskmap.read_sites(bad_csv)
    assert sorted(sites["site_id"]) == ["ok1", "ok2"]
    rep = sites.attrs["validation"]
    assert (rep.n_rows, rep.n_kept, len(rep.errors)) == (8, 2, 6)


def test_clean_file_gives_no_warning(data_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RiskmapDataWarning)
        sites = riskmap.read_sites(data_dir / "sites" / "sites.csv")
    assert len(sites) == sites.attrs["validation"].n_rows


def test_file_with_no_valid_row_is_an_error(tmp_path):
    p = tmp_path / "none.csv"
    p.write_text(HEADER + "x,X,minee,exact,t,19.3,43.3\ny,Y,mine,exact,t,abc,43.3\n")
    with pytest.raises(RiskmapValidationError, match="no usable site: all 2 rows have errors"):
        riskmap.read_sites(p)
    res = CliRunner().invoke(main, ["assess", str(p), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1
    assert "no usable site" in res.output
    assert not (tmp_path / "o.csv").exists()


def test_utm_shapefile_without_prj_is_an_error_naming_the_crs(tmp_path):
    g = gpd.GeoDataFrame({"site_id": ["a", "b"], "name": ["A", "B"], "category": ["mine", "mine"],
                          "coord_prec": ["exact", "exact"], "source": ["t", "t"]},
                         geometry=[shapely.Point(400000, 4800000), shapely.Point(410000, 4810000)],
                         crs="EPSG:32634")
    shp = tmp_path / "utm.shp"
    g.to_file(shp)
    shp.with_suffix(".prj").unlink()
    res = CliRunner().invoke(main, ["assess", str(shp), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1, res.output
    assert "declares no CRS" in res.output and ".prj" in res.output and "--crs EPSG:" in res.output
    assert not (tmp_path / "o.csv").exists()
    # and with the CRS given, the same file is read
    res = CliRunner().invoke(main, ["assess", str(shp), "-o", str(tmp_path / "o.csv"), "--crs", "EPSG:32634"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o.csv").exists()


def test_tally_groups_reasons_without_the_values(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(HEADER + "a,A,mine,exact,t,19.3,43.3,extra\nb,B,minee,exact,t,19.3,43.3\n"
                 "c,C,mineral,exact,t,19.3,43.3\nd,D,mine,exact,t,19.3563,43.3563\n")
    with pytest.warns(RiskmapDataWarning) as rec:
        riskmap.read_sites(p)
    msg = str(rec[0].message)
    assert "3 of 4 rows dropped (2 category: unknown category; 1 too many fields)" in msg
    assert "minee" not in msg and "mineral" not in msg  # values (user text) stay in the full report


# ---------------------------------------------------------------- sites outside the chosen basin
# 7 valid rows: 4 in the Drina basin, 1 in the Drin (Shkoder), 1 in the Syr Darya (Almalyk), 1 in no bundled
# basin (Paris). The basin-scoped commands say how many were left out and where they lie.
SEVEN = [
    "d1,Mine A,mine,exact,test,19.3563,43.3563",
    "d2,Mine B,mine,exact,test,18.78,43.51",
    "d3,Zvornik,other,town,test,19.1025,44.3865",
    "d4,Visegrad,other,town,test,19.2925,43.7825",
    "x1,Shkoder,other,town,test,19.5126,42.0693",
    "x2,Almalyk,mine,exact,test,69.5981,40.8447",
    "x3,Paris,other,town,test,2.3522,48.8566",
]
OUTSIDE_DRINA = "3 of the 7 sites of seven.csv are left out: outside the Drina basin (1 in Drin, 1 in Syr Darya, " \
                "1 in no bundled basin)"


@pytest.fixture()
def seven_csv(tmp_path):
    p = tmp_path / "seven.csv"
    p.write_text(HEADER + "\n".join(SEVEN) + "\n")
    return p


BASIN_COMMANDS = {
    "map": lambda p, d: ["map", "drina", "--sites", str(p), "-o", str(d / "m.html"), "--no-score"],
    "export": lambda p, d: ["export", "drina", "--sites", str(p), "-o", str(d / "out.csv")],
    "matrix": lambda p, d: ["matrix", str(p), "--basin", "drina"],
    "contingency": lambda p, d: ["contingency", "drina", "--sites-file", str(p), "--sites", "d1", "-o",
                                 str(d / "c"), "--no-pdf"],
}


@pytest.mark.parametrize("name", sorted(BASIN_COMMANDS))
def test_basin_commands_say_how_many_sites_lie_outside(name, seven_csv, tmp_path):
    res = CliRunner().invoke(main, BASIN_COMMANDS[name](seven_csv, tmp_path))
    assert res.exit_code == 0, res.output
    assert _stderr(res).count(OUTSIDE_DRINA) == 1, _stderr(res)


def test_export_of_a_basin_without_sites_of_the_file_warns(seven_csv, tmp_path):
    drina_only = tmp_path / "drina_only.csv"
    drina_only.write_text(HEADER + "\n".join(SEVEN[:4]) + "\n")
    res = CliRunner().invoke(main, ["export", "syr_darya", "--sites", str(drina_only), "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 0, res.output
    assert "no site of drina_only.csv lies in the Syr Darya basin: all 4 are left out (4 in Drina)" in _stderr(res)
    assert "(0 sites)" in res.output


def test_report_states_the_sites_outside_the_basin(seven_csv, tmp_path):
    res = CliRunner().invoke(main, ["report", "drina", "--sites", str(seven_csv), "-o", str(tmp_path / "r"),
                                    "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert OUTSIDE_DRINA in _stderr(res)
    html = (tmp_path / "r" / "drina_report.html").read_text()
    quality = html[html.index('id="quality"'):]
    assert f'<p class="intro" id="left-out">{OUTSIDE_DRINA}.</p>' in quality
    assert 'id="dropped-rows"' not in quality  # every row was valid: no table of failed rows


def test_one_site_in_another_basin_gives_a_clear_warning(tmp_path):
    p = tmp_path / "syronly.csv"
    p.write_text(HEADER + SEVEN[5] + "\n")
    res = CliRunner().invoke(main, ["report", "drina", "--sites", str(p), "-o", str(tmp_path / "r"), "--no-pdf"])
    assert res.exit_code == 0, res.output
    assert "no site of syronly.csv lies in the Drina basin: its 1 site is left out (1 in Syr Darya)" in _stderr(res)


def test_bundled_inventory_other_basins_are_not_a_warning(tmp_path):
    res = CliRunner().invoke(main, ["export", "drina", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 0, res.output
    assert "left out" not in _stderr(res)
