"""User text must not become Rich console markup: site names, values, column names and file
names with square brackets are printed literally by the CLI (before the fix:
``rich.errors.MarkupError`` tracebacks)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from riskmap.cli import main

MARKUP = "Plant [/bold] [red]X"


def test_spill_cli_prints_site_name_with_brackets(tmp_path, rows_to_csv, bundled_rows):
    header, rows = bundled_rows
    row = dict(next(r for r in rows if r["site_id"] == "gem-gcpt-L100000100104"), name=MARKUP,
               site_id="markup-1")
    f = rows_to_csv(tmp_path / "s.csv", header, [row])
    r = CliRunner().invoke(main, ["spill", "markup-1", "--sites", str(f), "--mass", "3t"])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 0, r.output
    assert MARKUP in r.output


def test_sites_summary_prints_bracketed_values(tmp_path, drina_rows, rows_to_csv):
    header, rows = drina_rows
    f = rows_to_csv(tmp_path / "s.csv", header, [dict(rows[0], country="[/b]")])
    r = CliRunner().invoke(main, ["sites", "summary", str(f)])
    assert r.exit_code == 0, repr(r.exception)
    assert "[/b]" in r.output


def test_matrix_weight_column_with_brackets(tmp_path, drina_rows, rows_to_csv):
    header, rows = drina_rows
    col = "[/b]w"
    f = rows_to_csv(tmp_path / "w.csv", header + [col], [dict(r, **{col: "2"}) for r in rows])
    r = CliRunner().invoke(main, ["matrix", str(f), "--weight", col])
    assert r.exit_code == 0, repr(r.exception)
    assert f"sum of {col}" in r.output


def test_demo_prints_bracketed_file_and_folder_names(tmp_path, drina_rows, monkeypatch, rows_to_csv):
    import riskmap.pipeline

    header, rows = drina_rows
    monkeypatch.chdir(tmp_path)  # short relative paths: Rich does not wrap them
    f = rows_to_csv(Path("[bold]inv.csv"), header, rows)
    out = Path("[red]out")

    def fake_run_all(out_dir, basins=None, sites=None, pdf=None, progress=None, score_options=None):
        progress(f"wrote {Path(out_dir) / 'index.html'}")  # the real run_all reports its paths like this
        return Path(out_dir) / "index.html"

    monkeypatch.setattr(riskmap.pipeline, "run_all", fake_run_all)
    r = CliRunner().invoke(main, ["demo", "--sites", str(f), "-o", str(out), "--no-pdf"])
    assert r.exit_code == 0, repr(r.exception)
    assert "[bold]inv.csv" in r.output and "[red]out" in r.output
