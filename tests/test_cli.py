"""The command line: help everywhere, exit codes, python -m riskmap."""

from __future__ import annotations

import subprocess
import sys

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap.cli import main


def _all_commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if isinstance(cmd, click.Group):
            yield from _all_commands(cmd, (*prefix, name))


def test_every_command_has_help():
    runner = CliRunner()
    cmds = list(_all_commands(main))
    assert len(cmds) >= 3
    for path, cmd in cmds:
        res = runner.invoke(main, [*path, "--help"])
        assert res.exit_code == 0, (path, res.output)
        assert "Usage:" in res.output
        assert (cmd.help or "").strip(), f"command {' '.join(path)} has no help text"


def test_python_dash_m():
    res = subprocess.run([sys.executable, "-m", "riskmap", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "validate" in res.stdout


def test_validate_exit_codes(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("site_id,name,category,lon,lat,source,coord_precision\na,A,mine,19.3,43.3,s,exact\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,name,category,lon,lat,source,coord_precision\na,A,minee,19.3,43.3,s,exact\n")
    runner = CliRunner()
    r = runner.invoke(main, ["validate", str(good)])
    assert r.exit_code == 0 and "0 errors" in r.output
    r = runner.invoke(main, ["validate", str(bad), "--report", str(tmp_path / "issues.csv")])
    assert r.exit_code == 1
    assert "line 2, row 1, column 'category': unknown category 'minee'" in r.output
    assert "closest: 'mine'" in r.output
    assert "unknown category" in (tmp_path / "issues.csv").read_text()


def test_validate_missing_column_exit_1(tmp_path):
    f = tmp_path / "nocat.csv"
    f.write_text("site_id,name,lon,lat,source,coord_precision\na,A,19.3,43.3,s,exact\n")
    r = CliRunner().invoke(main, ["validate", str(f)])
    assert r.exit_code == 1 and "column 'category': required column is missing" in r.output


def test_public_api_names_resolve():
    import riskmap

    for name in riskmap.__all__:
        assert getattr(riskmap, name) is not None, name
    assert callable(riskmap.assess) and callable(riskmap.basin_map) and callable(riskmap.export_sites)


def test_spill_all_on_a_plain_site_file(tmp_path):
    """A site file without a ``basin`` column goes through the pipeline (was KeyError: 'basin')."""
    p = tmp_path / "places.csv"
    p.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "zvornik,Zvornik,other,town,test,19.1025,44.3865\n"
                 "foca,Foca,other,town,test,18.7783,43.5065\n"
                 "shkoder,Shkoder,other,town,test,19.5126,42.0693\n")
    out = tmp_path / "batch.csv"
    res = CliRunner().invoke(main, ["spill", "--all", "drina", "--sites", str(p), "--mass", "10t", "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = pd.read_csv(out)
    assert sorted(rows["site_id"]) == ["foca", "zvornik"]
    assert rows["error"].isna().all() and (rows["first_border_km"] > 0).all()
    err = res.stderr if hasattr(res, "stderr") else res.output
    assert "1 of the 3 sites of places.csv is left out: outside the Drina basin (1 in Drin)" in err


@pytest.mark.parametrize("start, message", [
    ("9999-12-31 23:59", "--start: '9999-12-31 23:59' is out of range"),
    ("2027-02-30 06:00", "--start: '2027-02-30 06:00' is not a valid date and time"),
    ("tomorrow", "--start: cannot read 'tomorrow'"),
])
def test_exercise_bad_start_is_an_error_naming_the_option(start, message, tmp_path):
    res = CliRunner().invoke(main, ["exercise", "drina", "--site", "gem-gcpt-L100000100104", "--start", start,
                                    "-o", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert message in (res.stderr if hasattr(res, "stderr") else res.output)
    assert "Traceback" not in res.output and not (tmp_path / "o").exists()


def test_build_reference_bad_date_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(main, ["data", "build-reference", "--date", "9999-99-99", "--sources", str(tmp_path)])
    assert res.exit_code == 2
    assert "Invalid value for '--date'" in res.output
