"""Questionnaire merge against hostile returns and inventories (reviewer's defects 1-6 and probes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import riskmap
from riskmap.cli import main
from riskmap.io import read_sites
from riskmap.questionnaire import merge_returns, read_return, write_questionnaire
from fixtures.questionnaire import BRSKOVO, PLJEVLJA_TPP, SITES_CSV, SUPLJA, col, row_of

UGLJEVIK_TPP = "gem-gcpt-L100000100104"






def _answer(blank: Path, out: Path, date: object = "2026-11-01", new_site: bool = True) -> Path:
    """A plain, correct return: Brskovo's volume, and a new site."""
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    r = row_of(t, BRSKOVO)
    t.cell(r, col(t, "tailings_volume_m3"), 2_500_000)
    t.cell(r, col(t, "respondent_source"), "Cadastre")
    t.cell(r, col(t, "respondent_date"), date)
    if new_site:
        n = wb["New sites"]
        for k, v in {"new_site_name": "Gradac tailings", "category": "tailings_metal", "lon": 19.3611,
                     "lat": 43.3692, "coord_precision": "approximate", "respondent_date": "2026-11-02"}.items():
            n.cell(3, col(n, k), v)
    wb.save(out)
    return out


def _issues(res, severity=None):
    return [i for i in res.report.issues if severity is None or i.severity == severity]


# ------------------------------------------------------------------ 1. inventory rows failing validation


def _broken_inventory(tmp_path: Path) -> Path:
    """The bundled inventory with two rows made invalid (unknown category, text latitude)."""
    df = pd.read_csv(SITES_CSV, dtype=str, keep_default_na=False)
    df.loc[df["site_id"] == UGLJEVIK_TPP, "category"] = "factory of dreams"
    df.loc[df["site_id"] == PLJEVLJA_TPP, "lat"] = "north"
    p = tmp_path / "inventory.csv"
    df.to_csv(p, index=False)
    return p


def test_merge_keeps_inventory_rows_that_fail_validation(tmp_path, blank):
    inv = _broken_inventory(tmp_path)
    ret = tmp_path / "ret.csv"
    ret.write_text(f"site_id;capacity_mw;respondent_date\n{PLJEVLJA_TPP};225;2026-11-01\n"
                   f"{BRSKOVO};;2026-11-01\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["questionnaire", "merge", str(ret), "--sites", str(inv), "-o",
                                  str(tmp_path / "m"), "--no-score"])
    assert r.exit_code == 1, r.output  # the answer for the invalid row is an error
    before = pd.read_csv(inv, dtype=str, keep_default_na=False)
    after = pd.read_csv(tmp_path / "m" / "sites.csv", dtype=str, keep_default_na=False)
    assert after["site_id"].tolist() == before["site_id"].tolist()  # every row, in its place
    for sid in (UGLJEVIK_TPP, PLJEVLJA_TPP):  # written back unchanged
        cols = [c for c in before.columns if c != "site_id"]
        assert after.set_index("site_id").loc[sid, cols].to_dict() == before.set_index("site_id").loc[sid].to_dict()
    assert "2 inventory rows fail validation: kept unchanged in sites.csv" in r.output
    issues = pd.read_csv(tmp_path / "m" / "issues.csv")
    assert issues["reason"].str.contains("unknown category 'factory of dreams'").any()
    assert issues["reason"].str.contains("2 of 213 inventory rows fail validation").any()
    assert issues["reason"].str.contains(f"site '{PLJEVLJA_TPP}' is in the inventory but its row fails "
                                         "validation").any()
    prov = pd.read_csv(tmp_path / "m" / "provenance.csv")
    assert prov.loc[prov["site_id"] == PLJEVLJA_TPP, "action"].tolist() == ["rejected: invalid inventory row"]


# ------------------------------------------------------------------ 2. the same return twice


def test_duplicate_returns_are_merged_once(tmp_path, blank, inventory):
    ret = _answer(blank, tmp_path / "a.xlsx")
    copy = tmp_path / "copy_of_a.xlsx"
    shutil.copy(ret, copy)
    once = merge_returns([ret], inventory)
    res = merge_returns([ret, ret, copy], inventory)
    assert res.new_ids == once.new_ids == ["q-mne-gradac-tailings"]
    assert len(res.sites) == len(once.sites) == len(inventory) + 1
    pd.testing.assert_frame_equal(res.provenance, once.provenance)
    s = res.sites.set_index("site_id")
    assert json.loads(s.loc[BRSKOVO, "source_refs"]).count("questionnaire-MNE:a.xlsx#tailings_metal!3") == 1
    assert s.loc[BRSKOVO, "notes"].count("a.xlsx: filled") == 1
    dup = [i.reason for i in _issues(res, "warning") if "merged once" in i.reason]
    assert dup == ["the same file is given twice; merged once",
                   f"same content (SHA-256 {res.files[0]['sha256'][:12]}) as {ret}: a duplicate, merged once"]
    assert [f["duplicate_of"] for f in res.files] == [None, "a.xlsx", "a.xlsx"]
    r = CliRunner().invoke(main, ["questionnaire", "merge", str(ret), str(copy), "-o", str(tmp_path / "m"),
                                  "--no-score"])
    assert r.exit_code == 0, r.output
    assert "1 return skipped: same content" in r.output and "merged 1 return(s)" in r.output
    assert "1 values filled" in r.output and "1 new sites" in r.output


# ------------------------------------------------------------------ 3. edits of fixed columns


def test_fixed_column_edits_are_reported_and_not_applied(tmp_path, blank, inventory):
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    t.protection.sheet = False  # the respondent unprotected the sheet
    r = row_of(t, BRSKOVO)
    old_name, old_lon = t.cell(r, col(t, "name")).value, t.cell(r, col(t, "lon")).value
    t.cell(r, col(t, "name"), "Brskovo (renamed)")
    t.cell(r, col(t, "lon"), 19.9)
    t.cell(r, col(t, "inventory_status"), "operating")
    r2 = row_of(t, SUPLJA)  # a row without any answer: its edit is reported too
    old_lat = t.cell(r2, col(t, "lat")).value
    t.cell(r2, col(t, "lat")).value = None
    p = tmp_path / "edited.xlsx"
    wb.save(p)
    res = merge_returns([p], inventory)
    got = {(i.row, i.column): i.reason for i in _issues(res, "warning") if "fixed column" in i.reason}
    base = inventory.set_index("site_id")
    assert got == {
        (r, "B (name)"): f"fixed column changed: '{old_name}' -> 'Brskovo (renamed)'; not applied (the inventory "
                         f"keeps '{old_name}')",
        (r, "D (lon)"): f"fixed column changed: '{old_lon:.7g}' -> '19.9'; not applied (the inventory keeps "
                        f"'{old_lon:.7g}')",
        (r, "G (inventory_status)"): f"fixed column changed: '{base.loc[BRSKOVO, 'status']}' -> 'operating'; "
                                     f"not applied (the inventory keeps '{base.loc[BRSKOVO, 'status']}')",
        (r2, "E (lat)"): f"fixed column changed: '{old_lat:.7g}' -> blank; not applied (the inventory keeps "
                         f"'{old_lat:.7g}')",
    }
    for i in _issues(res, "warning"):
        if "fixed column" in i.reason:
            assert "edited.xlsx, sheet 'tailings_metal'" in i.file
    s = res.sites.set_index("site_id")
    assert s.loc[BRSKOVO, "name"] == old_name and s.loc[BRSKOVO, "geometry"].equals(base.loc[BRSKOVO, "geometry"])
    assert s.loc[BRSKOVO, "status"] == base.loc[BRSKOVO, "status"]
    ign = res.provenance[res.provenance["action"] == "ignored: fixed column"]
    assert sorted(ign["field"]) == ["inventory_status", "lat", "lon", "name"]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_untouched_workbook_reports_no_fixed_column_change(tmp_path, inventory, lang):
    blank = write_questionnaire("drina", "MNE", tmp_path / f"b_{lang}.xlsx", sites=inventory, lang=lang)
    res = merge_returns([_answer(blank, tmp_path / f"r_{lang}.xlsx", new_site=False)], inventory)
    assert not [i for i in res.report.issues if "fixed column" in i.reason]
    assert (res.provenance["action"] == "filled").sum() == 1


# ------------------------------------------------------------------ 4. blank respondent


def test_blank_respondent_is_never_nan(tmp_path, inventory):
    # a short row (fewer fields than the header): the missing respondent cells are blank
    ret = tmp_path / "short.csv"
    ret.write_text(f"site_id;tailings_volume_m3;respondent_source;respondent_date\n{BRSKOVO};2500000\n",
                   encoding="utf-8")
    res = merge_returns([ret], inventory)
    fs = json.loads(res.sites.set_index("site_id").loc[BRSKOVO, "field_sources"])
    assert fs["tailings_volume_m3"] == "questionnaire MNE undated"
    assert not res.report.errors
    assert "nan" not in res.provenance.to_csv().lower().replace("nanos", "")
    assert pd.isna(res.provenance.loc[0, "respondent_source"])


# ------------------------------------------------------------------ 5. dates in the future


def test_future_dates_are_reported(tmp_path, blank, inventory):
    today = dt.datetime.now(dt.UTC).date()
    far, near = today + dt.timedelta(days=400), today + dt.timedelta(days=3)
    res = merge_returns([_answer(blank, tmp_path / "far.xlsx", date=far.isoformat(), new_site=False)], inventory)
    err = [i for i in res.report.errors if i.column == "Z (respondent_date)"]
    assert len(err) == 1 and err[0].reason == (f"date {far.isoformat()} is in the future (400 days after today, "
                                               f"{today.isoformat()}); not read")
    assert err[0].row == 3 and "far.xlsx, sheet 'tailings_metal'" in err[0].file
    fs = json.loads(res.sites.set_index("site_id").loc[BRSKOVO, "field_sources"])
    assert fs["tailings_volume_m3"] == "questionnaire MNE undated (respondent: Cadastre)"
    res = merge_returns([_answer(blank, tmp_path / "near.xlsx", date=near, new_site=False)], inventory)
    assert not res.report.errors
    warn = [i.reason for i in res.report.warnings if i.column == "Z (respondent_date)"]
    assert warn == [f"date {near.isoformat()} is after today ({today.isoformat()}); kept, check it"]
    ret = tmp_path / "year.csv"  # a year alone, next year and later: the whole year is after today
    ret.write_text(f"site_id,tailings_volume_m3,respondent_date\n{BRSKOVO},1,{today.year + 2}\n", encoding="utf-8")
    assert "is in the future" in read_return(ret).report.errors[0].reason


# ------------------------------------------------------------------ 6. outputs over inputs


@pytest.mark.parametrize("link", ["same", "hard", "symbolic"])
def test_write_refuses_the_inventory_and_its_links(tmp_path, link):
    inv = tmp_path / "sites.csv"
    shutil.copy(SITES_CSV, inv)
    out = {"same": inv, "hard": tmp_path / "hard.xlsx", "symbolic": tmp_path / "sym.xlsx"}[link]
    if link == "hard":
        os.link(inv, out)
    elif link == "symbolic":
        out.symlink_to(inv)
    r = CliRunner().invoke(main, ["questionnaire", "drina", "--country", "MNE", "--sites", str(inv), "-o",
                                  str(out)])
    assert r.exit_code == 2 and "is the inventory read" in r.output, r.output
    assert inv.read_bytes() == SITES_CSV.read_bytes() and out.read_bytes() == SITES_CSV.read_bytes()


def test_merge_refuses_an_output_hard_linked_to_an_input(tmp_path, blank):
    ret = _answer(blank, tmp_path / "a.xlsx")
    (tmp_path / "m").mkdir()
    os.link(ret, tmp_path / "m" / "issues.csv")
    r = CliRunner().invoke(main, ["questionnaire", "merge", str(ret), "-o", str(tmp_path / "m"), "--no-score"])
    assert r.exit_code == 2 and "is an input of this merge" in r.output, r.output
    assert openpyxl.load_workbook(ret)["tailings_metal"]  # still the workbook
    assert not (tmp_path / "m" / "sites.csv").exists()


# ------------------------------------------------------------------ probes: hostile cells and CSV


def test_hostile_cells_are_reported_or_kept_as_text(tmp_path, blank, inventory):
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    r = row_of(t, BRSKOVO)
    t.cell(r, col(t, "tailings_volume_m3"), "9" * 400)  # huge
    t.cell(r, col(t, "tailings_area_ha"), 1e300)
    t.cell(r, col(t, "comment"), '=HYPERLINK("http://evil.example","click")')
    n = wb["New sites"]
    name = "Jalovište \u202eevil\u202c 💥"
    for k, v in {"new_site_name": name, "category": "mine", "lon": 19.3, "lat": 43.3,
                 "coord_precision": "approximate", "capacity_t_yr": "-5", "respondent_date": "2026-11-02"}.items():
        n.cell(3, col(n, k), v)
    p = tmp_path / "hostile.xlsx"
    wb.save(p)
    res = merge_returns([p], inventory)
    errs = {(i.row, i.column): i.reason for i in res.report.errors}
    assert errs[(r, "K (tailings_volume_m3)")].endswith("is not a finite number")
    assert errs[(r, "L (tailings_area_ha)")] == "1e+300 ha is above the plausible maximum 1e+06"
    assert errs[(r, "AA (comment)")].startswith("formula '=HYPERLINK(")
    assert errs[(3, "N (capacity_t_yr)")] == "negative value -5"
    # the name is data: kept as typed, the invisible characters named in a warning
    assert res.sites.set_index("site_id").loc[res.new_ids[0], "name"] == name
    assert any("U+202E" in i.reason for i in res.report.warnings)
    out = tmp_path / "m"
    from riskmap.questionnaire import write_merge

    write_merge(res, out, inputs=[p])
    merged = read_sites(out / "sites.csv")
    assert merged.set_index("site_id").loc[res.new_ids[0], "name"] == name


def test_csv_with_bom_semicolons_and_decimal_commas(tmp_path, inventory):
    ret = tmp_path / "bom.csv"
    ret.write_bytes(("\ufeffsite_id;tailings_volume_m3;tailings_area_ha;respondent_source;respondent_date\r\n"
                     f"{BRSKOVO};2500000;12,5;Katastar, 2025;03.11.2026\r\n"
                     f"{SUPLJA};=1+1;abc;;\r\n").encode())
    res = merge_returns([ret], inventory)
    s = res.sites.set_index("site_id")
    assert s.loc[BRSKOVO, "tailings_volume_m3"] == 2_500_000 and s.loc[BRSKOVO, "tailings_area_ha"] == 12.5
    assert json.loads(s.loc[BRSKOVO, "field_sources"])["tailings_area_ha"] == (
        "questionnaire MNE 2026-11-03 (respondent: Katastar, 2025)")
    reasons = {(i.row, i.column): i.reason for i in res.report.issues}
    assert reasons[(2, "C (tailings_area_ha)")] == "number typed as text '12,5' read as 12.5"
    assert (2, "B (tailings_volume_m3)") not in reasons  # a plain number in a CSV is no news
    assert reasons[(3, "B (tailings_volume_m3)")].startswith("formula '=1+1' not evaluated")
    assert reasons[(3, "C (tailings_area_ha)")] == "'abc' is not a number"
    one_col = tmp_path / "one.csv"  # a header alone: no rows, no error
    one_col.write_text("site_id\n", encoding="utf-8")
    assert not read_return(one_col).report.issues
    latin = tmp_path / "cp1250.csv"
    latin.write_bytes(f"site_id;tailings_type\n{BRSKOVO};jalovište\n".encode("cp1250"))
    with pytest.raises(riskmap.RiskmapInputError, match=r"line 2: the file is not UTF-8 .*save it as UTF-8"):
        read_return(latin)


def test_vector_inventory_rows_failing_validation_keep_their_location(tmp_path, inventory):
    from riskmap.questionnaire import read_inventory, write_merge

    gpkg = tmp_path / "inv.gpkg"
    part = inventory.head(4).copy()
    part.loc[1, "category"] = "bogus"
    part.to_file(gpkg, driver="GPKG")
    inv = read_inventory(gpkg)
    assert inv.positions == [0, 2, 3] and inv.invalid.index.tolist() == [1]
    write_merge(merge_returns([], inv), tmp_path / "m", inputs=[gpkg])
    out = pd.read_csv(tmp_path / "m" / "sites.csv")
    assert out["site_id"].tolist() == part["site_id"].tolist()
    assert out.loc[1, "category"] == "bogus"
    assert (out.loc[1, "lon"], out.loc[1, "lat"]) == pytest.approx((part.geometry.iloc[1].x, part.geometry.iloc[1].y))


def test_error_values_null_words_and_changed_ids_without_answers(tmp_path, blank, inventory):
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    r, r2 = row_of(t, BRSKOVO), row_of(t, SUPLJA)
    t.cell(r, col(t, "tailings_volume_m3"), "#REF!")  # openpyxl stores it as an error cell, as Excel does
    assert t.cell(r, col(t, "tailings_volume_m3")).data_type == "e"
    t.cell(r, col(t, "tailings_area_ha"), "NULL")  # left by a database export
    t.cell(r, col(t, "respondent_source"), "nan")  # left by a pandas export
    t.cell(r, col(t, "dam_height_m"), 12)
    t.cell(r2, col(t, "site_id"), "lit-suplja-stijena-renamed")  # no answers in that row
    p = tmp_path / "exported.xlsx"
    wb.save(p)
    res = merge_returns([p], inventory)
    got = {(i.row, i.column): (i.severity, i.reason) for i in res.report.issues}
    assert got[(r, "K (tailings_volume_m3)")] == (
        "error", "spreadsheet error value '#REF!' (a formula that failed); the cell was not read")
    assert got[(r, "L (tailings_area_ha)")] == ("warning", "'NULL' read as blank (unknown)")
    assert got[(r, "Y (respondent_source)")] == ("warning", "'nan' read as blank (unknown)")
    assert got[(r2, "site_id")] == ("warning", "site_id 'lit-suplja-stijena-renamed' is not in the inventory; "
                                               "the row has no answers")
    s = res.sites.set_index("site_id")
    assert s.loc[BRSKOVO, "dam_height_m"] == 12 and pd.isna(s.loc[BRSKOVO, "tailings_volume_m3"])
    assert json.loads(s.loc[BRSKOVO, "field_sources"]) == {"dam_height_m": "questionnaire MNE undated"}


def test_returns_folder_lists_a_duplicate_as_not_merged(tmp_path, blank, inventory):
    from riskmap.questionnaire import returns_step

    d = tmp_path / "returns"
    d.mkdir()
    _answer(blank, d / "a.xlsx")
    shutil.copy(d / "a.xlsx", d / "b.xlsx")
    merged, files, info = returns_step(d)(inventory)
    assert len(merged) == len(inventory) + 1  # the new site once
    assert [ln for ln in info["lines"] if "not merged again" in ln] == [
        f"- `b.xlsx` (country from the inventory, basin n/a): sha256 {info['files'][0]['sha256']}; same content "
        "as `a.xlsx`, not merged again"]
    assert "same content (SHA-256" in files["returns_issues.csv"]


def test_repeated_column_and_a_date_in_a_number_cell(tmp_path, blank, inventory):
    ret = tmp_path / "twice.csv"  # the volume column twice: the first is read, the second reported
    ret.write_text(f"site_id;tailings_volume_m3;tailings_volume_m3\n{BRSKOVO};100;200\n", encoding="utf-8")
    res = merge_returns([ret], inventory)
    assert res.sites.set_index("site_id").loc[BRSKOVO, "tailings_volume_m3"] == 100
    err = {(i.row, i.column): i.reason for i in res.report.errors}
    assert err == {(1, "C (tailings_volume_m3)"): "column 'tailings_volume_m3' appears again (first in column B); "
                                                  "the values of this one were not read"}
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    r = row_of(t, BRSKOVO)
    t.cell(r, col(t, "tailings_area_ha"), dt.datetime(2026, 5, 1))  # '1.5' after a locale's autocorrection
    p = tmp_path / "date_in_number.xlsx"
    wb.save(p)
    err = {(i.row, i.column): i.reason for i in read_return(p).report.errors}
    assert err == {(r, "L (tailings_area_ha)"): "a date or time (2026-05-01T00:00:00) where a number is expected "
                                                "(the spreadsheet may have turned the number into a date)"}
