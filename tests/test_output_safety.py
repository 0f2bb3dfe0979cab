"""Output safety (issue 13, items 5 "full disk", 7 and 8): exports and writers.

Spreadsheet-safe CSVs (spill table, numbers kept as numbers), deterministic
GeoJSON, no temporary files left by failed, interrupted or killed writes,
Shapefiles replaced as a set, CSV fields of any length, terminal-safe console
output, and one downstream path per distinct path instead of one per site.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from fixtures.report import assessed_sites  # for _points (not a test)

import riskmap  # noqa: E402
from riskmap import export as ex  # noqa: E402
from riskmap import io as rio  # noqa: E402
from riskmap import spill  # noqa: E402
from riskmap._console import console_text  # noqa: E402
from riskmap import RiskmapOutputError  # noqa: E402
from riskmap.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS)])}
ESCAPES = "\x1b[2J\x1b]0;pwned title\x07"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _formula_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run: start with a formula character and are not a plain number."""
    bad = []
    for r in rows:
        for cell in r:
            if cell.startswith(FORMULA_START):
                try:
                    float(cell)
                except ValueError:
                    bad.append(cell)
    return bad


# --------------------------------------------------------------------------
# spill CSV
# --------------------------------------------------------------------------


def _spill_result(name: str):
    from test_spill import _table, _two_reach

    site = gpd.GeoDataFrame({"site_id": ["x1"], "name": [name]}, geometry=[shapely.Point(19.1, 44.0)], crs=4326)
    towns = gpd.GeoDataFrame({"name": ["=cmd|' /C calc'!A0"], "country": ["SRB"]},
                             geometry=[shapely.Point(19.4, 44.02)], crs=4326)
    return spill.simulate_spill(site, 1000, reaches=_two_reach(), towns=towns, discharge=_table())


def test_spill_csv_is_one_quoted_table_without_formula_cells(tmp_path):
    name = 'Evil site, =HYPERLINK("http://evil","x"),@SUM(1), -2+3'
    res = _spill_result(name)
    out = spill.write_result(res, tmp_path / "s.csv")
    rows = list(csv.reader(_io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == spill.CHECKPOINT_COLUMNS  # no free-text line before the header
    assert all(len(r) == len(rows[0]) for r in rows)  # the site name never spills into extra cells
    assert _formula_cells(rows) == []
    assert any(c == "'=cmd|' /C calc'!A0" for r in rows for c in r)  # the town name, neutralised
    text = out.read_text(encoding="utf-8")
    assert '"release"' in text or '"' in text.splitlines()[1]  # text cells are quoted
    body = pd.read_csv(out)
    assert list(body.columns) == spill.CHECKPOINT_COLUMNS and len(body) == len(res.table())
    side = json.loads(spill.scenario_sidecar(out).read_text(encoding="utf-8"))
    assert side["riskmap spill"]["site"] == name  # the scenario, verbatim, as JSON data
    assert side["assumptions"] == list(res.assumptions) and side["table"] == "s.csv"
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------
# numbers stay numbers
# --------------------------------------------------------------------------


def test_numbers_in_extra_columns_are_not_turned_into_text(tmp_path):
    src = tmp_path / "in.csv"
    base = ex.export_table(assessed_sites().iloc[:3], neutralise=False)
    base = base[[c for c in base.columns if c in riskmap.schema.column_names() + ["lon", "lat"]]]
    base["delta_text"] = ["-5", "+0.25", "-1+cmd|' /C calc'!A0"]
    base.to_csv(src, index=False)
    sites = riskmap.read_sites(src)
    sites["delta_num"] = [-5.0, 2.5, -0.125]
    out = ex.export(sites, tmp_path / "out.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["delta_text"] for r in rows] == ["-5", "+0.25", "'-1+cmd|' /C calc'!A0"]
    assert [r["delta_num"] for r in rows] == ["-5.0", "2.5", "-0.125"]
    back = ex.read_export(out)
    assert back["delta_text"].tolist() == ["-5", "+0.25", "-1+cmd|' /C calc'!A0"]
    assert rio.neutralise_formula(-5) == -5 and rio.neutralise_formula("-5") == "-5"
    assert rio.neutralise_formula("-5e") == "'-5e" and rio.neutralise_formula("=1") == "'=1"
    import openpyxl

    xl = ex.export(sites, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(xl)["sites"]
    head = [c.value for c in ws[1]]
    col = head.index("delta_num") + 1
    assert [ws.cell(row=r, column=col).value for r in (2, 3, 4)] == [-5.0, 2.5, -0.125]
    assert ws.cell(row=2, column=head.index("delta_text") + 1).value == "-5"


# --------------------------------------------------------------------------
# deterministic GeoJSON
# --------------------------------------------------------------------------


def test_geojson_export_is_named_after_the_output_and_byte_identical(tmp_path):
    sites = assessed_sites()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    p1 = ex.export(sites, tmp_path / "a" / "drin_sites.geojson")
    p2 = ex.export(sites, tmp_path / "b" / "drin_sites.geojson")
    assert p1.read_bytes() == p2.read_bytes()
    assert json.loads(p1.read_text(encoding="utf-8"))["name"] == "drin_sites"
    rio.write_sites(sites, tmp_path / "a" / "w.geojson")
    assert json.loads((tmp_path / "a" / "w.geojson").read_text(encoding="utf-8"))["name"] == "w"


# --------------------------------------------------------------------------
# temporary files: exceptions, SIGTERM, SIGKILL, full disk
# --------------------------------------------------------------------------


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_interrupted_gpkg_write_leaves_no_temporary_file(tmp_path, monkeypatch, exc, fake_basin):
    target = tmp_path / "out.gpkg"
    target.write_bytes(b"old")
    orig = gpd.GeoDataFrame.to_file

    def boom(self, filename, *a, **k):
        orig(self, filename, *a, **k)  # the temporary GeoPackage (and its journal) exist now
        raise exc("stop")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", boom)
    with pytest.raises(exc):
        ex.export(assessed_sites(), target, basin=fake_basin())
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time, warnings
    warnings.simplefilter("ignore")
    import geopandas as gpd
    import pandas as pd
    from fixtures.report import assessed_sites, fake_basin
    from riskmap.export import export
    if sys.argv[3] == "cli":
        from riskmap.cli import main
        main.callback()  # what the riskmap command runs first (its group callback)
    orig = gpd.GeoDataFrame.to_file

    def slow(self, *a, **k):
        orig(self, *a, **k)
        print("ready", flush=True)
        time.sleep(120)

    gpd.GeoDataFrame.to_file = slow
    sites = assessed_sites()
    big = pd.concat([sites] * 3000, ignore_index=True)  # 24,000 sites: a large write
    big["site_id"] = [f"s{i}" for i in range(len(big))]
    if sys.argv[2] == "csv":
        import riskmap.io as rio
        real = rio.atomic_write_bytes

        def slow_csv(path, data):
            with rio.atomic_path(path) as tmp:
                tmp.write_bytes(data[: len(data) // 2])  # killed half-way through the file
                print("ready", flush=True)
                time.sleep(120)
        import riskmap.export as ex
        ex.atomic_write_bytes = slow_csv
    export(big, sys.argv[1], basin=fake_basin())
""")


@pytest.mark.parametrize("fmt", ["gpkg", "csv"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_write_leaves_nothing_the_next_run_trips_over(tmp_path, fmt, sig, fake_basin):
    target = tmp_path / f"out.{fmt}"
    target.write_bytes(b"previous output")
    proc = subprocess.Popen([PY, "-c", _KILL_SCRIPT, str(target), fmt, "lib"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        assert _leftovers(tmp_path), "the write should be under way"
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert target.read_bytes() == b"previous output"  # never half-overwritten
    # whatever the dead process left, the next write of that output removes it
    ex.export(assessed_sites(), target, basin=fake_basin())
    assert _leftovers(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    assert len(ex.read_export(target)) == 8


def test_sigterm_under_the_cli_cleans_up_at_once(tmp_path):
    target = tmp_path / "out.gpkg"
    proc = subprocess.Popen([PY, "-c", _KILL_SCRIPT, str(target), "gpkg", "cli"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert list(tmp_path.iterdir()) == []  # no temporary file, no journal, no output


def test_stale_temp_of_a_live_process_is_kept(tmp_path):
    """Another process still writing the same output keeps its temporary file."""
    live = tmp_path / f".riskmap-tmp.out.csv.{os.getppid()}.abc.tmp.csv"
    dead = tmp_path / ".riskmap-tmp.out.csv.999999999.abc.tmp.csv"
    other = tmp_path / ".riskmap-tmp.other.csv.999999999.abc.tmp.csv"
    for p in (live, dead, other):
        p.write_text("x")
    rio.atomic_write_text(tmp_path / "out.csv", "a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "out.csv"])


_FULL_DISK_SCRIPT = textwrap.dedent("""
    import resource, signal, sys, warnings
    warnings.simplefilter("ignore")
    import pandas as pd
    from fixtures.report import assessed_sites, fake_basin
    from riskmap.export import export
    from riskmap.io import write_sites
    sites = assessed_sites()
    big = pd.concat([sites] * 2000, ignore_index=True)
    big["site_id"] = [f"s{i}" for i in range(len(big))]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))  # the disk is full at 150 kB
    out = sys.argv[1]
    try:
        if out.endswith(".shp"):
            write_sites(big[big.geom_type == "Point"], out)
        else:
            export(big, out, basin=fake_basin())
    except Exception as e:
        print(type(e).__name__, e, sep="|")
""")


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "shp", "csv"])
def test_full_disk_gives_a_clear_error_naming_the_output(tmp_path, ext):
    target = tmp_path / f"out.{ext}"
    r = subprocess.run([PY, "-c", _FULL_DISK_SCRIPT, str(target)], env=ENV, capture_output=True, text=True,
                       timeout=300)
    kind, _, msg = r.stdout.strip().partition("|")
    assert kind == "RiskmapOutputError", r.stdout + r.stderr
    assert msg.startswith(f"{target}: cannot write the output") and ".riskmap-tmp" not in msg
    assert list(tmp_path.iterdir()) == []  # no temporary file, no partial output


_FULL_DISK_CLI = textwrap.dedent("""
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    from riskmap.cli import main
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # the disk is full at 20 kB
    main(["export", "drina", "-o", sys.argv[1]])
""")


@pytest.mark.parametrize("ext", ["gpkg", "geojson"])
def test_full_disk_under_the_cli_is_one_line_naming_the_output(tmp_path, ext):
    target = tmp_path / f"drina.{ext}"
    r = subprocess.run([PY, "-c", _FULL_DISK_CLI, str(target)], env=ENV, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert f"riskmap: error: {target}: cannot write the output" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_output_error_is_an_oserror_and_a_clean_cli_message(tmp_path):
    assert issubclass(RiskmapOutputError, OSError) and issubclass(RiskmapOutputError, riskmap.RiskmapError)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(RiskmapOutputError, match="not_a_folder"):
        rio.atomic_write_text(blocker / "out.csv", "a\n")


# --------------------------------------------------------------------------
# Shapefile: replaced as a set
# --------------------------------------------------------------------------


def _points(n: int, name: str) -> gpd.GeoDataFrame:
    sites = assessed_sites()
    pts = sites[sites.geom_type == "Point"].iloc[:1]
    g = pd.concat([pts] * n, ignore_index=True)
    g["site_id"] = [f"{name}{i}" for i in range(n)]
    return gpd.GeoDataFrame(g, geometry="geometry", crs=4326)


def test_shapefile_failure_midway_keeps_the_old_set_consistent(tmp_path, monkeypatch):
    target = tmp_path / "sites.shp"
    rio.write_sites(_points(3, "old"), target)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {".shp", ".shx", ".dbf", ".prj"} <= {Path(n).suffix for n in before}
    real = os.replace
    moves = {"aside": 0, "in": 0, "failed": False}

    def flaky(src, dst):
        into_place = Path(dst).parent == tmp_path
        if into_place and not moves["failed"] and moves["in"] == 1:  # the old set moved aside, one new moved in
            moves["failed"] = moves["aside"] == len(before)
            raise OSError(28, "No space left on device")
        if not moves["failed"]:
            moves["in" if into_place else "aside"] += 1
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(RiskmapOutputError, match="sites.shp"):
        rio.write_sites(_points(5, "new"), target)
    assert moves["failed"], moves  # the disk filled up half-way through the swap of the two sets
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old set intact, no temp dir
    back = gpd.read_file(target)
    assert back["site_id"].tolist() == ["old0", "old1", "old2"]
    monkeypatch.setattr(os, "replace", real)
    (tmp_path / "sites.qix").write_bytes(b"stale index of the old set")
    rio.write_sites(_points(5, "new"), target)
    assert gpd.read_file(target)["site_id"].tolist() == [f"new{i}" for i in range(5)]
    assert not (tmp_path / "sites.qix").exists()  # no component of the old set survives
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------
# CSV fields longer than 131,072 characters
# --------------------------------------------------------------------------


def test_csv_round_trip_of_a_300k_character_note(tmp_path):
    sites = assessed_sites()
    note = ("Evidence, caveats; " * 20_000)[:300_000]
    sites.loc[0, "notes"] = note
    out = ex.export(sites, tmp_path / "big.csv")
    back = riskmap.read_sites(out, strict=True)
    assert back.loc[0, "notes"] == note
    assert back.attrs["validation"].n_rows == 8
    rio.write_sites(back, tmp_path / "again.csv")
    assert riskmap.read_sites(tmp_path / "again.csv").loc[0, "notes"] == note


# --------------------------------------------------------------------------
# CSV writer
# --------------------------------------------------------------------------


def _pandas_csv(table: pd.DataFrame) -> bytes:
    return table.to_csv(index=False, lineterminator="\n", na_rep="").encode("utf-8")


def _without_pandas_writer(monkeypatch) -> None:
    """From here on ``DataFrame.to_csv`` fails: the bytes can only come from the column-wise (Arrow) writer."""
    def refuse(*a, **k):
        raise AssertionError("pandas' row writer was used, not the column-wise one")

    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)


def test_fast_csv_writer_matches_pandas_and_quotes_carriage_returns(monkeypatch):
    table = pd.DataFrame({
        "a": ["x,y", 'q"q', "l\nl", "", None, " sp ", "é", "plain"],
        "b": [1.5, np.nan, 1e-5, 1e16, -0.0, 3.0, np.inf, 2 / 3],
        "c": pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
        "d": pd.array([True, None, False, True, True, True, True, True], dtype="boolean"),
        "e": [True, False] * 4, "f": np.arange(8), "g,h": ["a"] * 8})
    want = _pandas_csv(table)
    _without_pandas_writer(monkeypatch)
    assert rio.table_to_csv_bytes(table) == want
    cr = pd.DataFrame({"a": ["c\rc", "d"]})
    assert rio.table_to_csv_bytes(cr) == b'a\n"c\rc"\nd\n'  # RFC 4180: a CR inside a field is quoted


def test_demo_csv_export_is_unchanged_on_the_bundled_sites(tmp_path, monkeypatch):
    """The bundled inventory exports the same bytes through the fast writer as through pandas."""
    sites = riskmap.read_sites(REPO / "data" / "sites" / "sites.csv")
    want = _pandas_csv(ex.export_table(sites))
    _without_pandas_writer(monkeypatch)
    assert ex.export(sites, tmp_path / "sites.csv").read_bytes() == want


# --------------------------------------------------------------------------
# terminal output
# --------------------------------------------------------------------------


def test_console_text_shows_control_characters_as_escapes():
    assert console_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert console_text("\x1b]0;t\x07") == "\\x1b]0;t\\x07"
    assert console_text("x\u202ey\x9bz\x7f") == "x\\u202ey\\x9bz\\x7f"
    assert console_text("one\ntwo\r") == "one\\x0atwo\\x0d"
    assert console_text("one\ntwo", multiline=True) == "one\ntwo"
    assert console_text("Čelebić «old»") == "Čelebić «old»"


def _raw_controls(text: str) -> list[str]:
    return sorted({c for c in text if (ord(c) < 32 and c != "\n") or 0x7f <= ord(c) < 0xa0})


def _bundled_row(**changes) -> pd.DataFrame:
    row = pd.read_csv(REPO / "data" / "sites" / "sites.csv", dtype=str, keep_default_na=False).iloc[[0]].copy()
    for k, v in changes.items():
        row[k] = v
    return row


def test_sites_summary_prints_no_terminal_controls(tmp_path):
    f = tmp_path / "evil.csv"
    _bundled_row(name=f"Site {ESCAPES}", category=f"mine{ESCAPES}", country=f"KGZ{ESCAPES}",
                 status=f"\x1b[31mred{ESCAPES}").to_csv(f, index=False)
    r = CliRunner().invoke(main, ["sites", "summary", str(f)])
    assert r.exit_code == 0, r.output
    assert _raw_controls(r.output) == []
    assert "\\x1b[2J" in r.output and "\\x07" in r.output


def test_validate_messages_print_no_terminal_controls(tmp_path):
    f = tmp_path / "evil.csv"
    _bundled_row(category=f"mine{ESCAPES}").to_csv(f, index=False)
    r = CliRunner().invoke(main, ["validate", str(f)])
    assert _raw_controls(r.output) == []
    assert "\\x1b[2J" in r.output


def test_spill_prints_no_terminal_controls(tmp_path):
    if not (REPO / "data" / "basins" / "drin.gpkg").exists():
        pytest.skip("data/basins/drin.gpkg not built")
    f = tmp_path / "evil.csv"
    _bundled_row(site_id="evil-1", name=f"Evil {ESCAPES}", country="MNE", lon="19.24", lat="42.39",
                 geometry_wkt="", basin="drin").to_csv(f, index=False)
    out = tmp_path / "spill.csv"
    r = CliRunner().invoke(main, ["spill", "evil-1", "--mass", "10t", "--basin", "drin", "--sites", str(f),
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert _raw_controls(r.output) == []
    assert "Evil \\x1b[2J" in r.output.replace("\n", "")


# --------------------------------------------------------------------------
# scale: one downstream path per distinct path
# --------------------------------------------------------------------------


def test_downstream_paths_are_stored_once_per_distinct_path(tmp_path, fake_basin):
    sites = assessed_sites()
    s2 = sites[sites["site_id"] == "s2"]  # Albania, reach 2 (Drin), transboundary
    many = pd.concat([s2] * 500, ignore_index=True)
    many["site_id"] = [f"m{i}" for i in range(len(many))]
    t = np.linspace(0.05, 0.95, len(many))  # spread along reach 2
    many = many.set_geometry(shapely.points(20.4 - 0.7 * t, 42.2 - 0.3 * t + 0.001))
    paths = ex.downstream_paths(many, fake_basin())
    assert len(paths) == 1
    row = paths.iloc[0]
    assert row["n_sites"] == 500 and json.loads(row["site_ids"]) == many["site_id"].tolist()
    assert row["ends_at"] == "border"
    start = shapely.get_point(row.geometry, 0)
    assert start.distance(shapely.Point(20.4 - 0.7 * 0.05, 42.2 - 0.3 * 0.05)) < 2e-3  # most upstream site
    p = ex.export(many, tmp_path / "many.gpkg", basin=fake_basin())
    layer = gpd.read_file(p, layer="downstream_paths")
    assert len(layer) == 1 and pyogrio.read_info(p, layer="sites")["features"] == 500


# ---------------------------------------------------------------- clean errors for bad output paths


def test_validate_report_to_a_folder_is_a_clean_usage_error(tmp_path, drina_rows, rows_to_csv):
    header, rows = drina_rows
    f = rows_to_csv(tmp_path / "s.csv", header, rows)
    (tmp_path / "adir").mkdir()
    r = CliRunner().invoke(main, ["validate", str(f), "--report", str(tmp_path / "adir")])
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 2
    assert "is a directory" in r.output


def test_output_under_a_file_gives_one_line_error_not_traceback(tmp_path, drina_rows, rows_to_csv):
    header, rows = drina_rows
    f = rows_to_csv(tmp_path / "s.csv", header, rows)
    (tmp_path / "afile").write_text("x")
    r = CliRunner().invoke(main, ["assess", str(f), "-o", str(tmp_path / "afile" / "out.csv")])
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 1
    assert "riskmap: error:" in r.output and "afile" in r.output
    assert (tmp_path / "afile").read_text() == "x"  # nothing overwritten


# --------------------------------------------------------------------------
# outputs that are symbolic links, named pipes, folders: written through or refused
# --------------------------------------------------------------------------


@pytest.fixture()
def no_hang():
    """Fail (instead of hanging the suite) if a write blocks, e.g. by opening a named pipe."""
    def _timeout(signum, frame):  # noqa: ARG001
        raise TimeoutError("the write blocked: it opened the named pipe")

    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def _write_text(path: Path) -> None:
    rio.atomic_write_text(path, "new\n")


def _write_sites_as(ext: str):
    def write(path: Path) -> None:
        rio.write_sites(_points(2, "new"), path.with_suffix(ext) if path.suffix != ext else path)
    return write


WRITERS = {"text": _write_text, "csv": _write_sites_as(".csv"), "gpkg": _write_sites_as(".gpkg"),
           "shp": _write_sites_as(".shp"),
           "layers": lambda p: rio.write_layers(p, {"sites": _points(2, "new")})}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_named_pipe_output_is_refused_and_kept(tmp_path, writer, no_hang):
    fifo = tmp_path / {"csv": "p.csv", "shp": "p.shp"}.get(writer, "p.gpkg")
    os.mkfifo(fifo)
    with pytest.raises(RiskmapOutputError) as info:
        WRITERS[writer](fifo)
    assert str(info.value).startswith(f"{fifo}: cannot write the output: it is a named pipe (FIFO), "
                                      "not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the pipe, not replaced by a file
    assert sorted(p.name for p in tmp_path.iterdir()) == [fifo.name]  # no temporary file


def test_link_to_a_named_pipe_is_refused_naming_both(tmp_path, no_hang):
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    link = tmp_path / "out.csv"
    link.symlink_to(fifo)
    with pytest.raises(RiskmapOutputError, match=f"^{link}: .* it links to {fifo}, which is a named pipe"):
        rio.atomic_write_text(link, "new\n")
    assert link.is_symlink() and stat.S_ISFIFO(os.stat(link).st_mode)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", ["text", "csv", "gpkg", "layers"])
def test_folder_output_is_refused(tmp_path, writer):
    folder = tmp_path / ("out.gpkg" if writer in ("gpkg", "layers") else "out.csv")
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    with pytest.raises(RiskmapOutputError, match=f"^{folder}: cannot write the output: it is a directory, "
                                                 "not a regular file"):
        WRITERS[writer](folder)
    assert folder.is_dir() and [p.name for p in folder.iterdir()] == ["keep.txt"]
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", ["text", "csv", "gpkg", "layers"])
def test_symlink_output_is_written_through(tmp_path, writer):
    ext = ".gpkg" if writer in ("gpkg", "layers") else ".csv"
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / f"t{ext}"
    target.write_text("old\n")
    link = tmp_path / f"s{ext}"
    link.symlink_to(Path("real") / target.name)  # a relative link
    WRITERS[writer](link)
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / target.name)  # still the same link
    assert target.is_file() and not target.is_symlink()
    if writer == "text":
        assert target.read_text() == "new\n"
    else:
        assert rio.read_sites(link)["site_id"].tolist() == ["new0", "new1"]
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "real") == []


def test_chain_of_links_writes_the_final_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    (tmp_path / "a.csv").symlink_to(target)
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    assert rio.atomic_write_text(tmp_path / "b.csv", "new\n") == tmp_path / "b.csv"
    assert target.read_text() == "new\n"
    assert (tmp_path / "a.csv").is_symlink() and (tmp_path / "b.csv").is_symlink()


def test_dangling_symlink_output_creates_its_target(tmp_path):
    link = tmp_path / "s.csv"
    link.symlink_to(tmp_path / "later" / "t.csv")
    rio.atomic_write_text(link, "new\n")
    assert link.is_symlink() and (tmp_path / "later" / "t.csv").read_text() == "new\n"
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "later") == []


def test_symlink_loop_output_is_a_clean_error(tmp_path):
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    with pytest.raises(RiskmapOutputError, match=f"^{tmp_path / 'a.csv'}: cannot write the output"):
        rio.atomic_write_text(tmp_path / "a.csv", "new\n")
    assert (tmp_path / "a.csv").is_symlink() and (tmp_path / "b.csv").is_symlink()


def test_shapefile_link_writes_the_set_next_to_the_target(tmp_path):
    (tmp_path / "real").mkdir()
    rio.write_sites(_points(3, "old"), tmp_path / "real" / "t.shp")
    link = tmp_path / "s.shp"
    link.symlink_to(tmp_path / "real" / "t.shp")
    rio.write_sites(_points(2, "new"), link)
    assert link.is_symlink()
    assert gpd.read_file(tmp_path / "real" / "t.shp")["site_id"].tolist() == ["new0", "new1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["real", "s.shp"]


def test_shapefile_with_a_linked_component_is_refused(tmp_path):
    rio.write_sites(_points(3, "old"), tmp_path / "t.shp")
    elsewhere = tmp_path / "elsewhere.dbf"
    os.replace(tmp_path / "t.dbf", elsewhere)
    (tmp_path / "t.dbf").symlink_to(elsewhere)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(RiskmapOutputError, match="its component file .*t.dbf is a symbolic link"):
        rio.write_sites(_points(2, "new"), tmp_path / "t.shp")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert (tmp_path / "t.dbf").is_symlink()


def test_cli_refuses_a_named_pipe_output_with_exit_1(tmp_path, drina_rows, rows_to_csv, no_hang):
    header, rows = drina_rows
    f = rows_to_csv(tmp_path / "x.csv", header, rows)
    fifo = tmp_path / "p.csv"
    os.mkfifo(fifo)
    r = CliRunner().invoke(main, ["assess", str(f), "-o", str(fifo)])
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 1
    assert f"riskmap: error: {fifo}: cannot write the output: it is a named pipe (FIFO), not a regular file" \
        in r.output
    assert "Traceback" not in r.output and "wrote" not in r.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and _leftovers(tmp_path) == []


def test_cli_writes_through_a_symlink_output(tmp_path, drina_rows, rows_to_csv):
    header, rows = drina_rows
    f = rows_to_csv(tmp_path / "x.csv", header, rows)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "t.csv"
    target.write_text("old\n")
    link = tmp_path / "s.csv"
    link.symlink_to(target)
    r = CliRunner().invoke(main, ["assess", str(f), "-o", str(link)])
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert rio.read_sites(target)["site_id"].tolist() == [row["site_id"] for row in rows]
