"""``riskmap map BASIN -o FILE.html``: the command-line face of riskmap.maps."""

from __future__ import annotations

import importlib.util

import pytest
from click.testing import CliRunner

from riskmap import maps
from riskmap import DATA_DIR
from riskmap.cli import main

HAVE_DATA = ((DATA_DIR / "basins" / "drina.gpkg").is_file() and (DATA_DIR / "sites" / "sites.csv").is_file()
             and importlib.util.find_spec("riskmap.hydrography") is not None
             and importlib.util.find_spec("riskmap.exposure") is not None)


def test_map_help_and_bad_arguments(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["map", "--help"])
    assert res.exit_code == 0 and "--online-tiles" in res.output and "--sites" in res.output
    res = runner.invoke(main, ["map", "danube", "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2 and "danube" in res.output
    res = runner.invoke(main, ["map", "drina"])
    assert res.exit_code == 2 and "--out" in res.output
    res = runner.invoke(main, ["map", "drina", "-o", str(tmp_path / "x.html"), "--sites", str(tmp_path / "no.csv")])
    assert res.exit_code == 2 and not (tmp_path / "x.html").exists()


@pytest.mark.skipif(not HAVE_DATA, reason="bundled drina data or riskmap.hydrography/exposure not available yet")
def test_map_command_writes_offline_html(tmp_path):
    out = tmp_path / "drina.html"
    res = CliRunner().invoke(main, ["map", "drina", "-o", str(out), "--no-score"])
    assert res.exit_code == 0, res.output
    assert "drina:" in res.output and "offline" in res.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert maps.external_references(html) == []
    assert "riskmap.build(" in html and '"Downstream paths of transboundary sites"' in html
    assert [p.name for p in tmp_path.iterdir()] == ["drina.html"]
