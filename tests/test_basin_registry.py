"""One registry of basin names (riskmap.basins): case-insensitive everywhere, unknown names
refused before any work, imported basins usable by name by every command and the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from riskmap import RiskmapInputError
from riskmap.basins import BASIN_IDS, BASIN_NAMES, basin_name, known_basins, resolve_basin
from riskmap.cli import main
from riskmap.hydrography import list_basins, load_basin
from riskmap.spill import find_basin

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name, expected", [
    ("drina", "drina"), ("Drina", "drina"), ("DRINA", "drina"), ("  Drin ", "drin"),
    ("Syr Darya", "syr_darya"), ("syr darya", "syr_darya"), ("SYR_DARYA", "syr_darya"), ("Syr-Darya", "syr_darya"),
])
def test_names_resolve_case_insensitively(name, expected):
    assert resolve_basin(name) == expected
    assert load_basin(name).id == expected


def test_unknown_basin_is_refused_listing_the_known_ones():
    with pytest.raises(RiskmapInputError, match=r"unknown basin 'Foo'.*drin \(Drin\).*drina \(Drina\).*syr_darya"):
        resolve_basin("Foo")
    with pytest.raises(RiskmapInputError, match=r"unknown basin 'Foo'.*Syr Darya"):
        load_basin("Foo")


def test_registry_is_the_one_list_of_ids_and_names():
    import riskmap.exposure
    import riskmap.hydrography
    import riskmap.pipeline
    import riskmap.report

    assert BASIN_IDS == ("drin", "drina", "syr_darya")
    assert list_basins() == list(BASIN_IDS) == list(known_basins())
    assert [basin_name(b) for b in BASIN_IDS] == ["Drin", "Drina", "Syr Darya"]
    for mod in (riskmap.report, riskmap.pipeline, riskmap.hydrography):
        assert mod.BASIN_NAMES is BASIN_NAMES
    assert riskmap.exposure.BASIN_IDS is BASIN_IDS and riskmap.hydrography.BASINS is BASIN_IDS


def test_cli_basin_argument_is_case_insensitive(tmp_path):
    out = tmp_path / "q.xlsx"
    res = CliRunner().invoke(main, ["questionnaire", "write", "Drina", "--country", "MNE", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "in the drina basin" in res.output and out.is_file()


@pytest.mark.parametrize("args", [
    ["demo", "--basin", "Foo", "--no-pdf"],
    ["map", "Foo"],
    ["report", "Foo", "--no-pdf"],
    ["export", "Foo"],
    ["assess", "--basin", "Foo"],
    ["matrix", "--basin", "Foo"],
    ["spill", "x", "--mass", "1t", "--basin", "Foo"],
    ["questionnaire", "write", "Foo", "--country", "MNE"],
])
def test_cli_refuses_unknown_basin_before_any_work(args, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert "unknown basin 'Foo'" in res.output
    assert "drin (Drin), drina (Drina), syr_darya (Syr Darya)" in res.output
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.slow
def test_demo_runs_for_a_basin_given_by_display_name(tmp_path):
    res = CliRunner().invoke(main, ["demo", "--basin", "Drina", "--no-pdf", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "drina_map.html", "drina_report.html", "drina_report_provenance.json", "drina_sites.csv", "index.html"]


# ---------------------------------------------------------------- imported basins


@pytest.fixture()
def imported_data_dir(hydrosheds, tmp_path):
    """A data folder holding one basin imported with `riskmap data import-hydrosheds`, plus a site file."""
    bp, rp, countries_dir = hydrosheds
    data = tmp_path / "data"
    (data / "basins").mkdir(parents=True)
    for f in countries_dir.iterdir():  # the importer reads countries.gpkg beside its output
        (data / "basins" / f.name).write_bytes(f.read_bytes())
    res = CliRunner().invoke(main, ["data", "import-hydrosheds", "--basins", str(bp), "--rivers", str(rp),
                                    "--outlet", "0.75,0.04", "--name", "synthetic_river",
                                    "--out", str(data / "basins")])
    assert res.exit_code == 0, res.output
    sites = pd.DataFrame({"site_id": ["up", "far"], "name": ["Upstream mine", "Elsewhere"],
                          "category": ["mine", "mine"], "lon": [1.3, 0.25], "lat": [0.9, 0.25],
                          "coord_precision": ["exact", "exact"], "source": ["test", "test"]})
    sites.to_csv(data / "sites.csv", index=False)
    return data


def test_imported_basin_is_known_by_name(imported_data_dir):
    assert known_basins(imported_data_dir) == {"synthetic_river": "synthetic_river"}
    assert resolve_basin("Synthetic_River", imported_data_dir) == "synthetic_river"
    assert load_basin("SYNTHETIC_RIVER", data_dir=imported_data_dir).id == "synthetic_river"
    with pytest.raises(RiskmapInputError, match=r"known basins: synthetic_river"):
        resolve_basin("drina", imported_data_dir)
    # the spill's basin search sees imported basins too
    assert find_basin(shapely.Point(0.75, 0.2), data_dir=imported_data_dir) == "synthetic_river"
    # with riskmap reading this folder ($RISKMAP_DATA_DIR), the default registry lists it
    code = ("from riskmap import list_basins; from riskmap.basins import resolve_basin; "
            "print(list_basins(), resolve_basin('synthetic river'))")
    env = {**os.environ, "RISKMAP_DATA_DIR": str(imported_data_dir), "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['synthetic_river'] synthetic_river"


def test_imported_display_name_resolves(imported_data_dir):
    meta_path = imported_data_dir / "basins" / "basins.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["synthetic_river"]["name"] = "Synthetic River"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert known_basins(imported_data_dir) == {"synthetic_river": "Synthetic River"}
    assert resolve_basin("synthetic river", imported_data_dir) == "synthetic_river"
    assert load_basin("Synthetic River", data_dir=imported_data_dir).name == "Synthetic River"


def _riskmap(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RISKMAP_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "riskmap", *args], capture_output=True, text=True,
                          env=env, cwd=data_dir, timeout=300)


@pytest.mark.slow
def test_imported_basin_usable_by_assess_and_map(imported_data_dir):
    d = imported_data_dir
    res = _riskmap(["assess", str(d / "sites.csv"), "--basin", "Synthetic_River", "-o", str(d / "assessed.csv")], d)
    assert res.returncode == 0, res.stderr
    t = pd.read_csv(d / "assessed.csv")
    assert list(t["basin"].fillna("-")) == ["synthetic_river", "-"]
    assert t.loc[0, "exposure_class"] != "outside" and t.loc[1, "exposure_class"] == "outside"
    res = _riskmap(["map", "SYNTHETIC_RIVER", "--sites", str(d / "sites.csv"), "--no-score",
                    "-o", str(d / "map.html")], d)
    assert res.returncode == 0, res.stderr
    assert "synthetic_river: 1 sites" in res.stdout
    assert "Upstream mine" in (d / "map.html").read_text(encoding="utf-8")
    res = _riskmap(["map", "drina", "-o", str(d / "x.html")], d)  # not in this data folder
    assert res.returncode == 2 and "known basins: synthetic_river" in res.stderr
    assert not (d / "x.html").exists()


@pytest.mark.slow
def test_report_inputs_accept_a_display_name():
    from riskmap.report import prepare_inputs

    a, b = prepare_inputs("Drina"), prepare_inputs("drina")
    assert a.basin_id == b.basin_id == "drina"
    assert len(a.sites) == len(b.sites) > 0
    assert set(a.sites["basin"]) == {"drina"}
