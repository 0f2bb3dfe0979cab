"""A CLI that does not surprise (issue 18 item 4): scoring options everywhere, one inventory, clean progress."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap import DATA_DIR
from riskmap.cli import main

SCORING_COMMANDS = ["score", "report", "map", "export", "demo"]


@pytest.mark.parametrize("command", SCORING_COMMANDS)
def test_every_scoring_command_takes_params_and_raster(command):
    r = CliRunner().invoke(main, [command, "--help"])
    assert r.exit_code == 0, r.output
    assert "--params FILE" in r.output and "--raster NAME=PATH" in r.output


@pytest.mark.parametrize("command", ["report", "map", "export", "demo"])
def test_bad_params_file_is_refused_by_name_before_any_work(command, tmp_path):
    bad = tmp_path / "my params.toml"
    bad.write_text("[priority]\nno_such_key = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    args = {"report": ["report", "drina", "-o", str(out), "--no-pdf"],
            "map": ["map", "drina", "-o", str(out / "m.html")],
            "export": ["export", "drina", "-o", str(out / "x.csv")],
            "demo": ["demo", "-o", str(out), "--basin", "drina", "--no-pdf"]}[command]
    r = CliRunner().invoke(main, [*args, "--params", str(bad)])
    assert r.exit_code == 2, r.output
    assert "my params.toml" in r.output and "no_such_key" in r.output
    assert "Traceback" not in r.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("command", ["report", "export"])
def test_missing_raster_is_refused(command, tmp_path):
    args = ["report", "drina", "-o", str(tmp_path / "o"), "--no-pdf"] if command == "report" else \
        ["export", "drina", "-o", str(tmp_path / "x.csv")]
    r = CliRunner().invoke(main, [*args, "--raster", f"flood_depth={tmp_path / 'nope.tif'}"])
    assert r.exit_code == 2 and "nope.tif" in r.output and "not found" in r.output


def test_report_passes_score_options(tmp_path, monkeypatch):
    from riskmap import report as rp

    seen = {}

    def fake(basin, sites=None, data_dir=None, read=None, score_options=None):
        seen["options"] = score_options
        raise SystemExit(0)

    monkeypatch.setattr(rp, "prepare_inputs", fake)
    p = tmp_path / "p.toml"
    p.write_text('label = "workshop weights"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["report", "drina", "-o", str(tmp_path / "o"), "--no-pdf", "--params", str(p)])
    assert r.exit_code == 0, r.output
    assert seen["options"].params["label"] == "workshop weights"


@pytest.mark.slow
def test_demo_and_export_share_one_inventory_params_and_a_clean_progress(tmp_path):
    if not (DATA_DIR / "basins" / "drina.gpkg").is_file():
        pytest.skip("data/basins/drina.gpkg not built")
    p = tmp_path / "p.toml"
    p.write_text('label = "workshop weights"\n', encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["demo", "-o", str(tmp_path / "out"), "--basin", "DRINA", "--no-pdf", "--params", str(p)])
    assert r.exit_code == 0, r.output
    out = r.output
    assert "[1/1] Drina: interactive map and report" in out and "[1/1] Drina: CSV" in out
    assert not re.search(r"\b\w+\.py:\d+", out)  # no logging file:line suffix
    assert not re.search("[\u2800-\u28ff]", out)  # no spinner frame left behind
    demo_csv = pd.read_csv(tmp_path / "out" / "drina_sites.csv", dtype=str)
    assert (demo_csv["params_label"] == "workshop weights").all()
    assert "workshop weights" in (tmp_path / "out" / "drina_report.html").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "drina_report_provenance.json").is_file()
    r = runner.invoke(main, ["export", "Drina", "-o", str(tmp_path / "x.csv"), "--params", str(p)])
    assert r.exit_code == 0, r.output
    exp = pd.read_csv(tmp_path / "x.csv", dtype=str)
    assert sorted(exp["site_id"]) == sorted(demo_csv["site_id"])  # one inventory per basin
    assert f"({len(demo_csv)} sites)" in r.output


# ------------------------------------------------- output format and extension agree (hostile-input probe)

_ONE_SITE = ("site_id,name,category,lon,lat,source,coord_precision\n"
             "a,Mine,mine,19.3,43.3,survey,exact\n")


def _one_site(tmp_path):
    p = tmp_path / "sites.csv"
    p.write_text(_ONE_SITE, encoding="utf-8")
    return p


@pytest.mark.parametrize("args,name", [
    (["validate", "{src}", "--report", "{out}"], "r.xlsx"),
    (["matrix", "{src}", "-o", "{out}"], "m.gpkg"),
    (["export", "drina", "--format", "gpkg", "-o", "{out}"], "x.csv"),
    (["export", "drina", "--format", "csv", "-o", "{out}"], "x.xlsx"),
    (["assess", "{src}", "-o", "{out}"], "a.pdf"),
    (["export", "drina", "-o", "{out}"], "x.shp"),
])
def test_an_output_is_never_written_under_another_formats_extension(tmp_path, args, name):
    src, out = _one_site(tmp_path), tmp_path / name
    r = CliRunner().invoke(main, [a.format(src=src, out=out) for a in args])
    assert r.exit_code == 2, r.output
    assert name in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_write_sites_refuses_a_format_that_contradicts_the_extension(tmp_path):
    from riskmap._errors import RiskmapInputError
    from riskmap.io import read_sites, write_sites

    sites = read_sites(_one_site(tmp_path))
    with pytest.raises(RiskmapInputError, match="extension '.csv' is for csv files, not gpkg"):
        write_sites(sites, tmp_path / "x.csv", fmt="gpkg")
    assert not (tmp_path / "x.csv").exists()
    assert write_sites(sites, tmp_path / "x.gpkg", fmt="gpkg").is_file()  # agreeing: written


def test_validate_report_csv_is_still_written(tmp_path):
    out = tmp_path / "issues.csv"
    r = CliRunner().invoke(main, ["validate", str(_one_site(tmp_path)), "--report", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8").startswith("severity,file,")


@pytest.mark.parametrize("args", [
    ["spill", "x", "--mass", "1t", "--max-snap-km", "-1"],
    ["spill", "--all", "drina", "--mass", "1t", "--top", "0"],
    ["spill", "x", "--mass", "1t", "--threshold", "-0.5"],
    ["assess", "{src}", "-o", "{out}", "--max-snap-km", "-1"],
    ["data", "build-sites", "--buffer-km", "-2"],
    ["data", "build-from-dem", "dem.tif", "--outlet", "19,43", "--name", "n", "--stream-km2", "0"],
])
def test_negative_numeric_options_are_refused_while_parsing(tmp_path, args):
    src, out = _one_site(tmp_path), tmp_path / "o.csv"
    r = CliRunner().invoke(main, [a.format(src=src, out=out) for a in args])
    assert r.exit_code == 2, r.output
    assert "Invalid value for" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_a_negative_layer_index_is_refused(tmp_path):
    import openpyxl

    p = tmp_path / "two.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "first"
    wb.active.append(["site_id", "name", "category", "lon", "lat", "source", "coord_precision"])
    wb.active.append(["a", "Mine", "mine", 19.3, 43.3, "survey", "exact"])
    wb.create_sheet("second")
    wb.save(p)
    r = CliRunner().invoke(main, ["validate", str(p), "--layer", "-1"])
    assert r.exit_code == 2, r.output
    assert "no sheet '-1'" in r.output and "0-based index" in r.output
    r = CliRunner().invoke(main, ["validate", str(p), "--layer", "0"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("args", [["spill", "x", "--mass", "1t", "-o", "{out}.xlsx"],
                                  ["spill", "--all", "drina", "--mass", "1t", "-o", "{out}.html"]])
def test_spill_output_type_is_checked_before_any_work(tmp_path, args, monkeypatch):
    from riskmap import spill as sp

    def no_work(*a, **k):
        raise AssertionError("the scenario ran before the output was checked")

    monkeypatch.setattr(sp, "simulate_site", no_work)
    monkeypatch.setattr(sp, "priority_sites", no_work)
    r = CliRunner().invoke(main, [a.format(out=tmp_path / "res") for a in args])
    assert r.exit_code == 2, r.output
    assert "AssertionError" not in repr(r.exception) and not list(tmp_path.iterdir())


def test_a_raster_name_that_cannot_name_a_column_is_refused(tmp_path):
    """``--raster 'bad name=x.tif'`` made a column 'raster_bad name'; the API refuses it too."""
    tif = tmp_path / "x.tif"
    tif.write_bytes(b"not read: the name is checked first")
    r = CliRunner().invoke(main, ["export", "drina", "-o", str(tmp_path / "x.csv"), "--raster", f"bad name={tif}"])
    assert r.exit_code == 2 and "the name may hold letters, digits and _ only" in r.output, r.output
    assert not (tmp_path / "x.csv").exists()
    from riskmap import RiskmapInputError
    from riskmap.hazard import score
    from riskmap.io import read_sites

    sites = read_sites(DATA_DIR / "sites" / "sites.csv").head(2)
    with pytest.raises(RiskmapInputError, match="raster name 'a<b'"):
        score(sites, rasters={"a<b": tif})
