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
