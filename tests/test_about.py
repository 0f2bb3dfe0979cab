"""Versions, data checksums, data-folder resolution, optional extras, citation files (fast checks).

The installed-wheel check (build, fresh venv, demo) is tests/test_packaging.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import riskmap
from riskmap._about import __version__, data_info, data_version, version_metadata, version_string
from riskmap._errors import RiskmapError
from riskmap._extras import MissingExtraError
from riskmap.cli import main

import tomllib

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


# ------------------------------------------------------------------ versions and data checksum


def test_data_info_of_the_bundled_data():
    info = data_info(DATA)
    files = [p for sub in ("basins", "sites", "natech") for p in (DATA / sub).rglob("*") if p.is_file()]
    assert info["files"] == len(files) > 0
    assert info["bytes"] == sum(p.stat().st_size for p in files)
    assert re.fullmatch(r"[0-9a-f]{64}", info["sha256"])
    prov = json.loads((DATA / "sites" / "PROVENANCE.json").read_text(encoding="utf-8"))
    assert info["date"] >= prov["build_date"][:10] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", info["date"])
    assert data_version(DATA) == f"{info['date']} sha256:{info['sha256'][:12]}"
    assert version_string(DATA) == f"riskmap {__version__} (data {data_version(DATA)})"


def test_data_checksum_follows_content_and_names(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    assert data_info(copy)["sha256"] == data_info(DATA)["sha256"]  # stable, independent of the folder
    merges = copy / "sites" / "merges.csv"
    merges.write_bytes(merges.read_bytes() + b"\n")
    changed = tmp_path / "changed"
    shutil.copytree(copy, changed)
    assert data_info(changed)["sha256"] != data_info(DATA)["sha256"]
    renamed = tmp_path / "renamed"
    shutil.copytree(DATA, renamed)
    (renamed / "sites" / "merges.csv").rename(renamed / "sites" / "merges2.csv")
    assert data_info(renamed)["sha256"] != data_info(DATA)["sha256"]


def test_no_data_is_reported_as_none(tmp_path):
    info = data_info(tmp_path)
    assert info["sha256"] is None and info["files"] == 0 and info["date"] == "unknown"
    assert data_version(tmp_path) == "none"


def test_public_version_attributes():
    assert riskmap.__version__ == __version__ and re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert riskmap.__data_version__ == data_version()
    assert riskmap.version_string() == version_string()
    meta = version_metadata()
    assert meta["riskmap_version"] == __version__ and meta["riskmap_data_sha256"] == data_info()["sha256"]


def test_cli_version():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0, r.output
    info = data_info()
    lines = r.output.splitlines()
    assert lines[0] == f"riskmap {__version__}"
    assert f"data sha256: {info['sha256']}" in lines
    assert any(ln.startswith(f"data: built {info['date']} by riskmap ") for ln in lines)
    assert f"data folder: {info['path']}" in r.output


# ------------------------------------------------------------------ where the data are found


def _paths_in_subprocess(env_extra: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "RISKMAP_DATA_DIR"}
    env.update(env_extra, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", "import riskmap._paths as p; print(p.DATA_ORIGIN); print(p.DATA_DIR)"],
                       env=env, capture_output=True, text=True, cwd=ROOT.parent, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_checkout_reads_data_at_the_repository_root():
    origin, path = _paths_in_subprocess({})
    assert origin == "checkout" and Path(path) == DATA
    assert not (ROOT / "riskmap" / "_data").exists(), "riskmap/_data is made by the build only; do not commit it"


def test_riskmap_data_dir_overrides(tmp_path):
    origin, path = _paths_in_subprocess({"RISKMAP_DATA_DIR": str(tmp_path)})
    assert origin == "RISKMAP_DATA_DIR" and Path(path) == tmp_path


# ------------------------------------------------------------------ data build commands


@pytest.mark.parametrize("command, folders", [
    ("build-reference", ["natural-earth-10m-admin0-v5.1.2", "gshhg-wdbii-rivers", "tfdd-international-basins",
                         "geodar-dams", "gem-trackers"]),
    ("build-sites", ["literature-sites", "gem-trackers", "wri-gppd", "geodar-dams", "usgs-pge-ni-cr-index",
                     "fineprint-mining-compilation"]),
    ("build-natech", ["gem-global-active-faults", "isc-gem-earthquake-catalogue"]),
])
def test_data_builds_without_sources_name_the_layout(tmp_path, command, folders):
    r = CliRunner().invoke(main, ["data", command, "--sources", str(tmp_path / "missing"),
                                  "--out", str(tmp_path / "out")])
    assert r.exit_code == 2, r.output
    assert "--sources" in r.output and "RISKMAP_SOURCES" in r.output
    for f in folders:
        assert f"SOURCES/{f}/" in r.output
    assert not (tmp_path / "out").exists()
    (tmp_path / "partial" / folders[0]).mkdir(parents=True)
    r = CliRunner().invoke(main, ["data", command, "--sources", str(tmp_path / "partial")])
    assert r.exit_code == 2 and "lacks" in r.output
    lacks = r.output.split("lacks", 1)[1].split(".\n", 1)[0]
    assert folders[0] not in lacks and all(f in lacks for f in folders[1:])


def test_data_builds_never_write_into_an_installed_package(tmp_path, monkeypatch):
    import riskmap.cli._base as cli

    src = tmp_path / "sources"
    for folder in ("gem-global-active-faults", "isc-gem-earthquake-catalogue"):
        (src / folder).mkdir(parents=True)
    monkeypatch.setattr(cli, "data_dir_is_writable_default", lambda: False)  # as in site-packages
    r = CliRunner().invoke(main, ["data", "build-natech", "--sources", str(src)])
    assert r.exit_code == 2
    assert "installed as a package" in r.output and "--data-dir" in r.output and "RISKMAP_DATA_DIR" in r.output
    # with a folder named, the build goes there: --data-dir DIR -> DIR/natech, --out wins over it
    import riskmap.databuild.natech as natech_build

    went: list[Path] = []
    monkeypatch.setattr(natech_build, "build_natech",
                        lambda sources, out: went.append(out) or {"faults": 0, "earthquakes": 0, "out_dir": out})
    base = ["data", "build-natech", "--sources", str(src), "--data-dir", str(tmp_path / "mine")]
    assert CliRunner().invoke(main, base).exit_code == 0
    assert CliRunner().invoke(main, [*base, "--out", str(tmp_path / "x")]).exit_code == 0
    assert went == [tmp_path / "mine" / "natech", tmp_path / "x"]


# ------------------------------------------------------------------ optional extras


@pytest.fixture
def sites_small():
    return riskmap.read_sites(DATA / "sites" / "sites.csv").head(5)


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch, sites_small):
    pytest.importorskip("pyarrow")
    written = riskmap.write_sites(sites_small, tmp_path / "ok.parquet")
    import riskmap._extras as extras

    real = extras.available
    # pandas itself imports pyarrow lazily once it is installed, so blocking the import would break
    # pandas, not riskmap: pretend only riskmap's check finds it missing
    monkeypatch.setattr(extras, "available", lambda m: m != "pyarrow" and real(m))
    with pytest.raises(MissingExtraError, match=r"pip install 'riskmap\[parquet\]'"):
        riskmap.write_sites(sites_small, tmp_path / "new.parquet")
    assert not (tmp_path / "new.parquet").exists()
    with pytest.raises(MissingExtraError, match=r"ok\.parquet: .*riskmap\[parquet\]"):
        riskmap.read_sites(written)
    r = CliRunner().invoke(main, ["validate", str(written)])
    assert r.exit_code == 2 and "pip install 'riskmap[parquet]'" in r.output and "Traceback" not in r.output


def test_pdf_without_playwright_names_the_extra(tmp_path, monkeypatch):
    from riskmap.report import html_to_pdf

    page = tmp_path / "r.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "playwright", None)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    with pytest.raises(RiskmapError, match=r"pip install 'riskmap\[pdf\]', or use --no-pdf"):
        html_to_pdf(page, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_extras_declared_in_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = " ".join(meta["project"]["dependencies"])
    extras = meta["project"]["optional-dependencies"]
    assert "playwright" not in deps and "pyarrow" not in deps
    assert any(d.startswith("playwright") for d in extras["pdf"])
    assert any(d.startswith("pyarrow") for d in extras["parquet"])
    assert "riskmap[pdf,parquet]" in extras["test"] and "riskmap[test]" in extras["dev"]
    assert meta["project"]["license"] == "MIT"
    assert meta["tool"]["setuptools"]["package-dir"]["riskmap._data"] == "data"


# ------------------------------------------------------------------ outputs carry the versions


def test_exports_carry_versions(tmp_path, sites_small):
    import openpyxl
    import pyogrio

    from riskmap.export import export

    gpkg = export(sites_small, tmp_path / "s.gpkg")
    assert pyogrio.read_info(gpkg, layer="sites")["layer_metadata"] == version_metadata()
    xlsx = export(sites_small, tmp_path / "s.xlsx")
    props = openpyxl.load_workbook(xlsx, read_only=True).properties
    assert props.creator == props.description == version_string()
    csv = export(sites_small, tmp_path / "s.csv")
    assert csv.read_text(encoding="utf-8").splitlines()[0].startswith("site_id,")  # no header line added


def test_spill_results_carry_versions(tmp_path):
    import geopandas as gpd
    import shapely

    from riskmap import spill

    reaches = gpd.GeoDataFrame(  # synthetic two-reach river, as in tests/test_spill.py
        {"reach_id": [1, 2], "downstream_id": [2, -1], "name": ["Testa", "Testa"], "length_km": [20.0, 30.0],
         "dist_to_outlet_km": [30.0, 0.0], "order": [3, 3], "country": ["BIH", "BIH|SRB"],
         "is_border": [False, True], "waterbody": [None, None], "sub_basin": ["T", "T"]},
        geometry=[shapely.LineString([(19.0, 44.0), (19.25, 44.0)]),
                  shapely.LineString([(19.25, 44.0), (19.6, 44.0)])], crs=4326)
    discharge = {"station": [{"river": "Testa", "at": "mouth", "mean_m3s": 100.0, "area_km2": 5000.0,
                              "citation": "synthetic"}], "lake": []}
    res = spill.simulate_spill(1, 1000, reaches=reaches, discharge=discharge)
    spill.write_result(res, tmp_path / "s.csv")
    scenario = json.loads(spill.scenario_sidecar(tmp_path / "s.csv").read_text(encoding="utf-8"))
    assert scenario["generated_by"] == version_string()
    assert len(pd.read_csv(tmp_path / "s.csv")) == len(res.table())
    html = spill.write_result(res, tmp_path / "s.html").read_text(encoding="utf-8")
    assert f"Generated by {version_string()}." in html


# ------------------------------------------------------------------ citation, changelog, notebooks


def test_citation_cff():
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    keys = re.findall(r"^([a-z-]+):", text, flags=re.M)
    allowed = {"abstract", "authors", "cff-version", "commit", "contact", "date-released", "doi", "identifiers",
               "keywords", "license", "license-url", "message", "preferred-citation", "references", "repository",
               "repository-artifact", "repository-code", "title", "type", "url", "version"}
    assert set(keys) <= allowed and len(keys) == len(set(keys))
    assert {"cff-version", "message", "title", "authors"} <= set(keys)
    assert re.search(r"^cff-version: 1\.2\.0$", text, flags=re.M)
    assert re.search(rf"^version: {re.escape(__version__)}$", text, flags=re.M)
    assert re.search(r"^license: MIT$", text, flags=re.M)
    assert re.search(r"^authors:\n  - name: \S", text, flags=re.M)


def test_changelog_has_this_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, flags=re.M)


def test_notebooks_find_data_through_the_api():
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert not re.search(r"""["'](\.\./|data/|\.\.["'])""", code), f"{path.name}: relative data path"
        assert "__file__" not in code and "chdir" not in code
        if "read_sites(riskmap.DATA_DIR" not in code:
            assert "read_sites(user_csv)" in code  # 04 brings its own file


def test_declared_python_floor_is_the_one_the_code_needs():
    """tomllib is standard from 3.11: the package declares >= 3.11 and nothing falls back to tomli."""
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["requires-python"] == ">=3.11"
    assert not [d for d in meta["dependencies"] if d.startswith("tomli")]
    users = [p for p in (ROOT / "riskmap").rglob("*.py") if "import tomli" in p.read_text(encoding="utf-8")]
    assert users == [], users
