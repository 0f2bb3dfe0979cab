"""User text must not become a spreadsheet formula: column headers and cells of CSV/XLSX outputs,
``validate --report`` and the build's merges table are neutralised (and round-trip on reading).

Each test failed before its fix (formula header cells in CSV/XLSX, an unneutralised
``validate --report`` CSV) and passes after it.
"""

from __future__ import annotations

import csv
import re

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
    """merges.csv and places.csv of the inventory build are written by ``csv_text``: pandas 3 text columns too."""
    import inspect

    import pandas as pd

    from riskmap.databuild.sites import build
    from riskmap.io import csv_text

    src = inspect.getsource(build)
    assert 'atomic_write_text(out / "merges.csv", csv_text(' in src and 'out / "places.csv", csv_text(' in src
    df = pd.DataFrame({"kept": ["=HYPERLINK(\"x\")", "ok"], "n": [1, 2], "missing": ["@SUM(1)", None]})
    assert pd.api.types.is_string_dtype(df["kept"])  # the pandas 3 default, not object
    rows = list(csv.DictReader(csv_text(df).splitlines()))
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


# ---------------------------------------------------------------- every CSV-writing command, one helper

#: Hostile names: formulas, a command, a sum that is not a number, tab/CR-prefixed formulas.
HOSTILE = FORMULAS + ["\t=1+1", "\r=2+2"]
#: A cell a spreadsheet would run: starts with a trigger and is not a plain signed number.
_TRIGGER = ("=", "+", "-", "@", "\t", "\r")
#: A plain signed number (``-2.5``, ``+1e3``): a spreadsheet reads it as a number, not a formula.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _formula_cells(path, *, delimiter=","):
    """Every cell of the CSV ``path`` a spreadsheet would evaluate as a formula (plain numbers excepted)."""
    text = path.read_text(encoding="utf-8-sig")
    return [c for row in csv.reader(text.splitlines(), delimiter=delimiter) for c in row
            if c.startswith(_TRIGGER) and not PLAIN_NUMBER.fullmatch(c.replace(",", "."))]


def _hostile_sites(path):
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["site_id", "name", "category", "coord_precision", "source", "lon", "lat", "basin", "=w"])
        for k, name in enumerate(HOSTILE):
            w.writerow([f"s{k}", name, "tailings_metal", "exact", name, 19.5126, 42.0693, "drin", "-2.5"])
        w.writerow(["s9", "bad", "=HYPERLINK(\"c\")", "exact", "@SUM(A1)", 19.5126, 42.0693, "drin", "-2.5"])
    return path


def test_every_csv_command_neutralises_hostile_text(tmp_path, monkeypatch):
    """spill (site and --all), validate --report, matrix --out, questionnaire merge, assess and export -o .csv
    with hostile names: no cell starts with a formula trigger, the hostile text is there (quoted), numbers
    (``-2.5`` in the weight column, negative sums) stay numbers."""
    monkeypatch.chdir(tmp_path)
    f = _hostile_sites(tmp_path / "+cmd.csv")  # the validate report names the file as given
    ret = tmp_path / "ret.csv"
    ret.write_text("site_id;dam_condition;respondent_source;respondent_date\n"
                   "lit-former-brskovo-mine-tailings-mojkovac;=HYPERLINK(\"x\");@SUM(A1);2026-11-03\n"
                   "lit-suplja-stijena-pb-zn-mine-flotation-tailings-inc;-2+3;+cmd|calc;-2+3\n", encoding="utf-8")
    runs = {
        "spill.csv": ["spill", "s0", "--sites", f, "--mass", "10t", "-o", "spill.csv"],
        "batch.csv": ["spill", "--all", "drin", "--sites", f, "--top", "9", "--mass", "10t", "-o", "batch.csv"],
        "report.csv": ["validate", "+cmd.csv", "--report", "report.csv"],
        "matrix.csv": ["matrix", f, "--weight", "=w", "--out", "matrix.csv"],
        "q": ["questionnaire", "merge", ret, "-o", "q", "--no-score"],
        "assess.csv": ["assess", f, "-o", "assess.csv"],
        "export.csv": ["export", "drin", "--sites", f, "-o", "export.csv"],
    }
    for out, args in runs.items():
        r = CliRunner().invoke(main, [str(a) for a in args])
        assert (tmp_path / out).exists(), (out, r.output)
    files = sorted(tmp_path.glob("*.csv")) + sorted((tmp_path / "q").glob("*.csv"))
    files = [p for p in files if p.name not in ("+cmd.csv", "ret.csv")]
    assert len(files) >= 10
    for p in files:
        assert _formula_cells(p) == [], p.name
    quoted = {p.name: sum(c.startswith("'") for row in csv.reader(p.read_text(encoding="utf-8").splitlines())
                          for c in row) for p in files}
    for name in ("batch.csv", "report.csv", "assess.csv", "export.csv", "issues.csv"):
        assert quoted[name] >= 1, (name, quoted)
    batch = list(csv.DictReader((tmp_path / "batch.csv").open(encoding="utf-8")))
    assert {"'" + n.lstrip("\t\r") for n in HOSTILE} <= {b["name"] for b in batch}
    rows = list(csv.reader((tmp_path / "matrix.csv").open(encoding="utf-8")))  # weighted by "-2.5": a number
    assert float(rows[1][-1]) < 0 and not rows[1][-1].startswith("'")


def test_neutralise_frame_text_of_every_dtype_numbers_stay_numbers():
    import pandas as pd

    from riskmap.io import csv_text, neutralise_frame

    df = pd.DataFrame({"s": pd.Series(HOSTILE, dtype="string"), "o": pd.Series(HOSTILE, dtype=object),
                       "n": [-2.5] * len(HOSTILE), "t": ["-2.5"] * len(HOSTILE), "@x": [1] * len(HOSTILE)})
    out = neutralise_frame(df)
    assert list(out.columns) == ["s", "o", "n", "t", "'@x"]
    assert out["s"].tolist() == out["o"].tolist() == ["'" + h for h in HOSTILE]
    assert out["s"].dtype == df["s"].dtype and out["n"].dtype == df["n"].dtype  # no dtype change
    assert out["n"].tolist() == [-2.5] * len(HOSTILE) and out["t"].tolist() == ["-2.5"] * len(HOSTILE)
    assert df["s"].tolist() == HOSTILE  # the input is not modified
    rows = list(csv.reader(csv_text(df, quoting=csv.QUOTE_NONNUMERIC).splitlines()))
    assert rows[1][2] == "-2.5" and all(not c.startswith(_TRIGGER) for r in rows for c in r[:2])


def test_figure_labels_show_control_characters_without_glyph_warnings():
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from riskmap.report_figures import mpl_text

    assert mpl_text("a\x1b[2Jb\u202e $1\nc") == "a\\x1b[2Jb\\u202e \\$1\nc"
    fig, ax = plt.subplots()
    ax.set_title(mpl_text("Tailings \x1b[31m\x07 pond"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 27 missing" was a UserWarning
        fig.canvas.draw()
    plt.close(fig)


def test_contingency_route_map_of_an_esc_name_warns_nothing(tmp_path, recwarn):
    f = tmp_path / "esc.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "s0,Pond \x1b[2J\x1b]0;owned\x07,tailings_metal,exact,t,19.5126,42.0693\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["contingency", "drin", "--sites-file", str(f), "--sites", "s0", "--no-pdf",
                                  "-o", str(tmp_path / "c")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c" / "drin_scenario_cards.html").exists()
    assert not [str(w.message) for w in recwarn if "Glyph" in str(w.message)]


def test_hydrology_tables_are_neutralised(tmp_path):
    """gauges.csv and reservoirs.csv carry station and dam names from the sources: neutralised like every CSV."""
    from riskmap.databuild import hydrology as hy

    src = tmp_path / "src"
    for rel in (hy.GAUGES_SRC, hy.GRAND_SRC):
        (src / rel).parent.mkdir(parents=True)
    # a station off the network (its name is kept) at a negative longitude, and the Zvornik dam of GRanD
    (src / hy.GAUGES_SRC).write_text(
        "grdc_no,river,station,country,lat,long,area,lta_discharge,boxes,m_start,m_end\n"
        '1,NOWHERE,"=HYPERLINK(""http://x/drina"")",BA,44.0,-1.5,100,5.5,drina,1990,2000\n', encoding="utf-8")
    (src / hy.GRAND_SRC).write_text("GRAND_ID,DamName,DamLon,DamLat,TotalVol_mcm,boxes\n"
                                    "7,@SUM(A1) Zvornik,19.118,44.407,89,drina\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    res = hy.build_hydrology(src, tmp_path / "out", build_date="2026-11-28")
    assert res["gauges"] == 1
    gauges = (tmp_path / "out" / "gauges.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in gauges and "\n=" not in gauges and ",=" not in gauges
    assert ",-1.5," in gauges  # numbers stay numbers
    reservoirs = (tmp_path / "out" / "reservoirs.csv").read_text(encoding="utf-8")
    assert ",'@SUM(A1) Zvornik," in reservoirs and ",@SUM" not in reservoirs
