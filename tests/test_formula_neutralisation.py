"""User text must not become a spreadsheet formula: column headers and cells of CSV/XLSX outputs,
``validate --report`` and the build's merges table are neutralised (and round-trip on reading).

Each test failed before its fix (formula header cells in CSV/XLSX, an unneutralised
``validate --report`` CSV) and passes after it.
"""

from __future__ import annotations

import csv

import openpyxl
from click.testing import CliRunner

from riskmap.cli import main
from riskmap.io import read_sites, write_sites

FORMULA_COL = '=HYPERLINK("http://evil.example","x")'


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


def test_validate_report_csv_is_formula_neutralised(tmp_path, drina_rows, monkeypatch, rows_to_csv):
    header, rows = drina_rows
    bad = dict(rows[0], category="not_a_category")
    rows_to_csv(tmp_path / "=1+1.csv", header, [bad])
    rep = tmp_path / "issues.csv"
    monkeypatch.chdir(tmp_path)  # the report names the file as given: "=1+1.csv"
    r = CliRunner().invoke(main, ["validate", "=1+1.csv", "--report", str(rep)])
    assert r.exit_code == 1
    issues = list(csv.DictReader(rep.open(encoding="utf-8")))
    assert issues and all(i["file"].startswith("'") for i in issues)
    assert not any(v.startswith(("=", "+", "-", "@")) for i in issues for v in i.values() if v)
    assert any(i["column"] == "category" for i in issues)


def test_merges_csv_neutralises_pandas3_string_columns():
    import pandas as pd

    from riskmap.databuild.sites.build import _merges_csv

    df = pd.DataFrame({"kept": ["=HYPERLINK(\"x\")", "ok"], "n": [1, 2], "missing": ["@SUM(1)", None]})
    assert pd.api.types.is_string_dtype(df["kept"])  # the pandas 3 default, not object
    rows = list(csv.DictReader(_merges_csv(df).splitlines()))
    assert rows[0]["kept"] == "'=HYPERLINK(\"x\")" and rows[1]["kept"] == "ok"
    assert rows[0]["missing"] == "'@SUM(1)" and rows[1]["missing"] == ""  # missing stays blank
    assert rows[0]["n"] == "1"


FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def test_contingency_and_exercise_csvs_neutralise_every_text_cell(tmp_path):
    """A site named with a formula: no cell of the contingency or exercise CSVs starts with a formula trigger
    (the contingency writer skipped pandas 3 'str' columns: timelines and notifications kept =HYPERLINK)."""
    f = tmp_path / "h.csv"
    rows = [f"s{k},\"{name.replace(chr(34), chr(34) * 2)}\",tailings_metal,exact,t,19.5126,42.0693"
            for k, name in enumerate(FORMULAS)]
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["contingency", "drin", "--sites-file", str(f), "--sites", "s0,s1,s2,s3",
                                  "--no-pdf", "-o", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["exercise", "drin", "--site", "s0", "--sites-file", str(f),
                                  "-o", str(tmp_path / "e")])
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "e").glob("*.csv"))
    files = sorted((tmp_path / "c").glob("*.csv")) + sorted((tmp_path / "e").glob("*.csv"))
    assert len(files) >= 3
    seen = 0
    for p in files:
        for row in csv.reader(p.read_text(encoding="utf-8").splitlines()):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not cell.startswith("-2+3"), (p.name, cell)
                seen += any(cell.startswith("'" + name) for name in FORMULAS)
    assert seen >= 4
