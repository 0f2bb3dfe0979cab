"""Reviewer's pass: user text must not become spreadsheet formulas or Rich console markup.

Each test failed before its fix (formula header cells in CSV/XLSX, an unneutralised
``validate --report`` CSV, ``rich.errors.MarkupError`` tracebacks from site names and
column names printed by the CLI) and passes after it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from riskmap.cli import main
from riskmap.io import read_sites, write_sites

SITES_CSV = Path(__file__).resolve().parents[1] / "data" / "sites" / "sites.csv"
FORMULA_COL = '=HYPERLINK("http://evil.example","x")'
MARKUP = "Plant [/bold] [red]X"


def _bundled_rows() -> tuple[list[str], list[dict[str, str]]]:
    with SITES_CSV.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return list(rows[0].keys()), rows


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return path


@pytest.fixture()
def drina_rows() -> tuple[list[str], list[dict[str, str]]]:
    header, rows = _bundled_rows()
    return header, [r for r in rows if r["basin"] == "drina"][:3]


@pytest.fixture()
def formula_column_file(tmp_path, drina_rows) -> Path:
    header, rows = drina_rows
    return _write(tmp_path / "in.csv", header + [FORMULA_COL], [dict(r, **{FORMULA_COL: "1"}) for r in rows])


def test_csv_header_of_user_column_is_neutralised_and_round_trips(tmp_path, formula_column_file):
    sites = read_sites(formula_column_file)
    assert FORMULA_COL in sites.columns
    out = write_sites(sites, tmp_path / "out.csv")
    header = next(csv.reader(out.open(encoding="utf-8")))
    assert FORMULA_COL not in header
    assert "'" + FORMULA_COL in header
    back = read_sites(out)
    assert FORMULA_COL in back.columns  # the apostrophe is removed again on reading
    assert back[FORMULA_COL].astype(str).tolist() == ["1"] * len(back)


def test_xlsx_header_of_user_column_is_text_not_formula(tmp_path, formula_column_file):
    out = write_sites(read_sites(formula_column_file), tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(out).active
    cells = [c for c in ws[1] if c.value and "HYPERLINK" in str(c.value)]
    assert len(cells) == 1
    assert cells[0].data_type == "s"
    assert cells[0].value == "'" + FORMULA_COL
    assert FORMULA_COL in read_sites(out).columns


def test_export_xlsx_sites_sheet_header_is_not_formula(tmp_path, formula_column_file):
    r = CliRunner().invoke(main, ["export", "drina", "-o", str(tmp_path / "e.xlsx"),
                                  "--sites", str(formula_column_file)])
    assert r.exit_code == 0, r.output
    ws = openpyxl.load_workbook(tmp_path / "e.xlsx")["sites"]
    assert not [c.coordinate for c in ws[1] if c.data_type == "f"]
    assert not [c.coordinate for c in ws[1] if isinstance(c.value, str) and c.value.startswith("=")]


def test_validate_report_csv_is_formula_neutralised(tmp_path, drina_rows, monkeypatch):
    header, rows = drina_rows
    bad = dict(rows[0], category="not_a_category")
    _write(tmp_path / "=1+1.csv", header, [bad])
    rep = tmp_path / "issues.csv"
    monkeypatch.chdir(tmp_path)  # the report names the file as given: "=1+1.csv"
    r = CliRunner().invoke(main, ["validate", "=1+1.csv", "--report", str(rep)])
    assert r.exit_code == 1
    issues = list(csv.DictReader(rep.open(encoding="utf-8")))
    assert issues and all(i["file"].startswith("'") for i in issues)
    assert not any(v.startswith(("=", "+", "-", "@")) for i in issues for v in i.values() if v)
    assert any(i["column"] == "category" for i in issues)


def test_spill_cli_prints_site_name_with_brackets(tmp_path):
    header, rows = _bundled_rows()
    row = dict(next(r for r in rows if r["site_id"] == "gem-gcpt-L100000100104"), name=MARKUP,
               site_id="markup-1")
    f = _write(tmp_path / "s.csv", header, [row])
    r = CliRunner().invoke(main, ["spill", "markup-1", "--sites", str(f), "--mass", "3t"])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 0, r.output
    assert MARKUP in r.output


def test_sites_summary_prints_bracketed_values(tmp_path, drina_rows):
    header, rows = drina_rows
    f = _write(tmp_path / "s.csv", header, [dict(rows[0], country="[/b]")])
    r = CliRunner().invoke(main, ["sites", "summary", str(f)])
    assert r.exit_code == 0, repr(r.exception)
    assert "[/b]" in r.output


def test_matrix_weight_column_with_brackets(tmp_path, drina_rows):
    header, rows = drina_rows
    col = "[/b]w"
    f = _write(tmp_path / "w.csv", header + [col], [dict(r, **{col: "2"}) for r in rows])
    r = CliRunner().invoke(main, ["matrix", str(f), "--weight", col])
    assert r.exit_code == 0, repr(r.exception)
    assert f"sum of {col}" in r.output


def test_weighted_matrix_all_missing_weights_stay_missing(drina_rows, tmp_path):
    import numpy as np

    from riskmap.exposure import assess, exposure_matrix

    header, rows = drina_rows
    a = assess(read_sites(_write(tmp_path / "m.csv", header, rows)), ["drina"])
    counts = exposure_matrix(a)
    a["w"] = np.nan
    m = exposure_matrix(a, weight="w")
    assert list(m.index) == list(counts.index)
    # sites reach these countries but every weight is unknown: NaN, never 0
    for origin, row in counts.iterrows():
        for c in counts.columns:
            if c in ("sites", "transboundary") or row[c] > 0:
                assert np.isnan(m.loc[origin, c]), (origin, c, m.loc[origin, c])
            else:  # no site of the origin reaches c: a true 0
                assert m.loc[origin, c] == 0
    a["w"] = 2.0  # fully known weights: twice the counts
    assert (exposure_matrix(a, weight="w") == 2 * counts).all().all()


def test_validate_report_to_a_folder_is_a_clean_usage_error(tmp_path, drina_rows):
    header, rows = drina_rows
    f = _write(tmp_path / "s.csv", header, rows)
    (tmp_path / "adir").mkdir()
    r = CliRunner().invoke(main, ["validate", str(f), "--report", str(tmp_path / "adir")])
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 2
    assert "is a directory" in r.output


def test_output_under_a_file_gives_one_line_error_not_traceback(tmp_path, drina_rows):
    header, rows = drina_rows
    f = _write(tmp_path / "s.csv", header, rows)
    (tmp_path / "afile").write_text("x")
    r = CliRunner().invoke(main, ["assess", str(f), "-o", str(tmp_path / "afile" / "out.csv")])
    assert isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == 1
    assert "riskmap: error:" in r.output and "afile" in r.output
    assert (tmp_path / "afile").read_text() == "x"  # nothing overwritten


def test_merges_csv_neutralises_pandas3_string_columns():
    import pandas as pd

    from riskmap.databuild.sites.build import _merges_csv

    df = pd.DataFrame({"kept": ["=HYPERLINK(\"x\")", "ok"], "n": [1, 2], "missing": ["@SUM(1)", None]})
    assert pd.api.types.is_string_dtype(df["kept"])  # the pandas 3 default, not object
    rows = list(csv.DictReader(_merges_csv(df).splitlines()))
    assert rows[0]["kept"] == "'=HYPERLINK(\"x\")" and rows[1]["kept"] == "ok"
    assert rows[0]["missing"] == "'@SUM(1)" and rows[1]["missing"] == ""  # missing stays blank
    assert rows[0]["n"] == "1"


def test_demo_prints_bracketed_file_and_folder_names(tmp_path, drina_rows, monkeypatch):
    import riskmap.pipeline

    header, rows = drina_rows
    monkeypatch.chdir(tmp_path)  # short relative paths: Rich does not wrap them
    f = _write(Path("[bold]inv.csv"), header, rows)
    out = Path("[red]out")

    def fake_run_all(out_dir, basins=None, sites=None, pdf=None, progress=None):
        progress(f"wrote {Path(out_dir) / 'index.html'}")  # the real run_all reports its paths like this
        return Path(out_dir) / "index.html"

    monkeypatch.setattr(riskmap.pipeline, "run_all", fake_run_all)
    r = CliRunner().invoke(main, ["demo", "--sites", str(f), "-o", str(out), "--no-pdf"])
    assert r.exit_code == 0, repr(r.exception)
    assert "[bold]inv.csv" in r.output and "[red]out" in r.output
