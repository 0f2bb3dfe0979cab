"""riskmap as an installed package: the wheel carries its data and runs outside the checkout.

Builds the wheel offline (``pip wheel --no-deps --no-build-isolation --no-index``) from a copy of
the sources, installs it with ``--no-deps --no-index`` into a fresh virtual environment in a
temporary folder, then runs the ``riskmap`` command of that environment from a temporary working
directory: ``--version``, ``validate``, ``demo --no-pdf``, and the ``data build-*`` guards.

The fresh environment gets riskmap's dependencies without network through a ``.pth`` file listing
this interpreter's site-packages folders, written *after* the wheel is installed. A plain path line
in a ``.pth`` only extends ``sys.path``: the ``.pth`` files inside those folders (such as the
checkout's editable install) are not executed, and the fresh environment's own site-packages comes
first, so ``riskmap`` must be imported from the wheel (asserted).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from riskmap._about import __version__, data_info

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SOURCES = Path(os.environ.get("RISKMAP_SOURCES") or ROOT.parent / "shared" / "data" / "sources")
BASIN_NAMES = {"drin": "Drin", "drina": "Drina", "syr_darya": "Syr Darya"}


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _copy_sources(dest: Path) -> Path:
    """What an sdist holds: metadata files, the package, data/ and tests/ (no build/ or egg-info leftovers)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "CHANGELOG.md", "CITATION.cff"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_data", ".*")
    shutil.copytree(ROOT / "riskmap", dest / "riskmap", ignore=ignore)
    shutil.copytree(ROOT / "data", dest / "data", ignore=ignore)
    shutil.copytree(ROOT / "tests", dest / "tests", ignore=ignore)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv python, venv bin, clean env, run folder) of a fresh install of the built wheel."""
    tmp = tmp_path_factory.mktemp("pkg")
    assert not tmp.resolve().is_relative_to(ROOT), "the temporary folder must be outside the checkout"
    src = _copy_sources(tmp / "src")
    dist = tmp / "dist"
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
              "--quiet", "-w", str(dist), str(src)], cwd=tmp, env=dict(os.environ))
    assert r.returncode == 0, f"pip wheel failed (setuptools>=77 needed, riskmap[test]):\n{r.stderr[-3000:]}"
    wheels = sorted(dist.glob("riskmap-*.whl"))
    assert len(wheels) == 1, wheels

    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False, symlinks=os.name != "nt")
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / ("python.exe" if os.name == "nt" else "python")
    r = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
              "--quiet", str(wheels[0])], cwd=tmp, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-3000:]

    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "RISKMAP_DATA_DIR", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    purelib = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=tmp, env=env).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_riskmap_test_dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    run = tmp / "run"
    run.mkdir()
    return {"wheel": wheels[0], "python": py, "bin": bindir, "env": env, "run": run, "venv": env_dir,
            "purelib": Path(purelib), "src": src, "tmp": tmp}


def test_wheel_carries_the_data(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    repo_files = sorted(p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*")
                        if p.is_file() and p.relative_to(ROOT / "data").parts[0] in ("basins", "sites", "natech", "context"))
    assert repo_files, "no data/ in the checkout"
    bundled = sorted(n.removeprefix("riskmap/_data/") for n in names if n.startswith("riskmap/_data/"))
    assert bundled == repo_files
    for needed in ("riskmap/params/priority.toml", "riskmap/templates/report.html.j2",
                   "riskmap/assets/leaflet/leaflet.js", "riskmap/databuild/sites/mappings.toml",
                   "riskmap/databuild/reference/basins.toml", "riskmap/databuild/reference/specs.toml",
                   "riskmap/databuild/natech.toml", "riskmap/databuild/reference/products.py"):
        assert needed in names
    # every module and table of the package (subpackages such as riskmap/databuild/* included)
    code = {p.relative_to(ROOT).as_posix() for p in (ROOT / "riskmap").rglob("*")
            if p.is_file() and p.suffix in (".py", ".toml", ".csv") and "__pycache__" not in p.parts}
    assert not code - set(names), f"not in the wheel: {sorted(code - set(names))}"
    assert not [n for n in names if n.startswith(("data/", "tests/")) or "__pycache__" in n]
    meta = zipfile.ZipFile(installed["wheel"]).read(f"riskmap-{__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in meta
    assert "Provides-Extra: pdf" in meta and "Provides-Extra: parquet" in meta
    assert not [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist: playwright")
                and "extra ==" not in ln], "playwright must be optional (riskmap[pdf])"


def test_sdist_carries_the_data_and_builds_the_same_wheel(installed):
    tmp, src = installed["tmp"], installed["src"]
    r = _run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
              "print(b.build_sdist(sys.argv[1]))", str(tmp / "sdist")], cwd=src, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-3000:]
    sdist = tmp / "sdist" / r.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
        if hasattr(tarfile, "data_filter"):
            tf.extractall(tmp / "unpacked", filter="data")
        else:  # pragma: no cover - Python without extraction filters
            tf.extractall(tmp / "unpacked")
    repo_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "data").rglob("*") if p.is_file()}
    assert repo_files <= names
    assert {"CITATION.cff", "CHANGELOG.md", "LICENSE", "pyproject.toml", "tests/conftest.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("riskmap/_data")]
    unpacked = tmp / "unpacked" / sdist.name.removesuffix(".tar.gz")
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
              "-w", str(tmp / "dist2"), str(unpacked)], cwd=tmp, env=dict(os.environ))
    assert r.returncode == 0, r.stderr[-3000:]
    (wheel2,) = (tmp / "dist2").glob("riskmap-*.whl")
    assert sorted(zipfile.ZipFile(wheel2).namelist()) == sorted(zipfile.ZipFile(installed["wheel"]).namelist())


def test_imports_from_the_fresh_environment(installed):
    r = _run([str(installed["python"]), "-c",
              "import json, riskmap, riskmap._paths as p; print(json.dumps({'file': riskmap.__file__, "
              "'data': str(p.DATA_DIR), 'origin': p.DATA_ORIGIN, 'version': riskmap.__version__}))"],
             cwd=installed["run"], env=installed["env"])
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    venv_dir = installed["venv"].resolve()
    assert Path(got["file"]).resolve().is_relative_to(venv_dir), got  # not the checkout, not the editable install
    assert Path(got["data"]).resolve().is_relative_to(venv_dir), got
    assert got["origin"] == "package" and got["version"] == __version__


def test_version_reports_package_and_bundled_data(installed):
    r = _run([str(installed["bin"] / "riskmap"), "--version"], cwd=installed["run"], env=installed["env"])
    assert r.returncode == 0, r.stderr
    info = data_info(ROOT / "data")  # the checkout's data: the wheel must carry exactly these bytes
    assert r.stdout.splitlines()[0] == f"riskmap {__version__}"
    assert f"data sha256: {info['sha256']}" in r.stdout
    assert f"built {info['date']}" in r.stdout and "bundled with the package" in r.stdout


def test_validate_a_small_file(installed):
    run = installed["run"]
    (run / "good.csv").write_text("site_id,name,category,lon,lat,source,coord_precision\n"
                                  "a,Mine A,mine,19.3,43.3,my survey,exact\n", encoding="utf-8")
    (run / "bad.csv").write_text("site_id,name,category,lon,lat,source,coord_precision\n"
                                 "a,Mine A,minee,19.3,43.3,my survey,exact\n", encoding="utf-8")
    exe = str(installed["bin"] / "riskmap")
    good = _run([exe, "validate", "good.csv"], cwd=run, env=installed["env"])
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _run([exe, "validate", "bad.csv"], cwd=run, env=installed["env"])
    assert bad.returncode == 1
    assert "category" in bad.stdout and "minee" in bad.stdout and "Traceback" not in bad.stderr


def test_demo_writes_maps_reports_and_csvs(installed):
    run = installed["run"]
    r = _run([str(installed["bin"] / "riskmap"), "demo", "--no-pdf", "-o", "OUT"], cwd=run, env=installed["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    out = run / "OUT"
    expected = pd.read_csv(ROOT / "data" / "sites" / "sites.csv", usecols=["basin"])["basin"].value_counts()
    label = f"{__version__} (data {data_info(ROOT / 'data')['date']} sha256:{data_info(ROOT / 'data')['sha256'][:12]}"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f"riskmap {label}" in index
    for b, name in BASIN_NAMES.items():
        page = (out / f"{b}_map.html").read_text(encoding="utf-8")
        assert len(page) > 100_000 and name in page and label in page  # version in the map attribution
        report = (out / f"{b}_report.html").read_text(encoding="utf-8")
        assert f"{name} basin" in report and f'content="riskmap {label})"' in report  # full label, data checksum
        assert (out / f"{b}_report_provenance.json").is_file()
        csv = pd.read_csv(out / f"{b}_sites.csv")
        assert len(csv) == expected[b] > 0
        assert set(csv["basin"]) == {b} and csv["site_id"].is_unique
        assert f'href="{b}_map.html"' in index
    assert not list(out.glob("*.pdf"))
    assert not [p for p in installed["purelib"].rglob("*") if p.suffix in (".html", ".csv")
                and "OUT" in p.parts], "demo wrote into the installation"


def test_data_builds_need_sources_and_a_user_folder(installed, tmp_path):
    exe, env = str(installed["bin"] / "riskmap"), dict(installed["env"])
    env["RISKMAP_SOURCES"] = str(tmp_path / "nowhere")
    r = _run([exe, "data", "build-sites"], cwd=installed["run"], env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--sources" in r.stderr and "RISKMAP_SOURCES" in r.stderr
    for folder in ("literature-sites", "gem-trackers", "wri-gppd", "usgs-pge-ni-cr-index"):
        assert f"SOURCES/{folder}/" in r.stderr
    before = sorted(p.relative_to(installed["venv"]) for p in installed["venv"].rglob("*"))
    src = tmp_path / "sources"
    for folder in ("gem-global-active-faults", "isc-gem-earthquake-catalogue"):
        (src / folder).mkdir(parents=True)
    r = _run([exe, "data", "build-natech", "--sources", str(src)], cwd=installed["run"], env=installed["env"])
    assert r.returncode == 2 and "installed as a package" in r.stderr and "--data-dir" in r.stderr
    after = sorted(p.relative_to(installed["venv"]) for p in installed["venv"].rglob("*"))
    assert [p for p in after if p not in before and "__pycache__" not in p.parts] == []


@pytest.mark.skipif(not (SOURCES / "gem-global-active-faults").is_dir(),
                    reason="public sources not found (../shared/data/sources or RISKMAP_SOURCES)")
def test_data_build_into_a_user_folder(installed, tmp_path):
    exe = str(installed["bin"] / "riskmap")
    r = _run([exe, "data", "build-natech", "--sources", str(SOURCES), "--data-dir", str(tmp_path / "mine")],
             cwd=installed["run"], env=installed["env"])
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mine" / "natech" / "faults.gpkg").stat().st_size > 10_000
    assert f"RISKMAP_DATA_DIR={tmp_path / 'mine'}" in r.stderr


def test_runs_from_the_zipped_wheel(installed):
    """Imported straight from the wheel (a zip file), the data are extracted and readable."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import riskmap, riskmap._paths as p; "
            "s = riskmap.read_sites(p.DATA_DIR / 'sites' / 'sites.csv'); "
            "print(riskmap.__file__, p.DATA_ORIGIN, len(s), len(riskmap.load_basin('drina').reaches))")
    r = _run([str(installed["python"]), "-c", code, str(installed["wheel"])], cwd=installed["run"],
             env=installed["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    file, origin, n_sites, n_reaches = r.stdout.split()
    assert file.startswith(str(installed["wheel"])) and origin == "package"
    assert int(n_sites) == len(pd.read_csv(ROOT / "data" / "sites" / "sites.csv", usecols=["site_id"]))
    assert int(n_reaches) > 0
