"""Questionnaire out and in (riskmap.questionnaire): the MNE round trip on the bundled inventory."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap.io import read_sites
from riskmap.questionnaire import merge_returns, read_return, score_change
from fixtures.questionnaire import BRSKOVO, PLJEVLJA_TPP, SITES_CSV, SUPLJA, col, row_of

MRATINJE = "gem-ghpt-L602495"
KRUSEVO = "gem-ghpt-L604259"






def _fill(blank: Path, out: Path) -> Path:
    """Plausible answers plus the planted mistakes of issue 17."""
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    r = row_of(t, BRSKOVO)
    t.cell(r, col(t, "tailings_volume_m3"), 2_500_000)
    t.cell(r, col(t, "dam_condition"), "loše")  # Montenegrin: poor
    t.cell(r, col(t, "substance_1_name"), "lead (Pb) in tailings")
    t.cell(r, col(t, "substance_1_quantity_t"), "1200,5")  # decimal comma, typed as text
    t.cell(r, col(t, "substance_1_wgk"), 3)
    t.cell(r, col(t, "respondent_source"), "Cadastre of mining waste, Ministry of Ecology")
    t.cell(r, col(t, "respondent_date"), "03.11.2026")  # date as text
    t.cell(r, col(t, "tailings_area_ha"), "about twenty")  # planted: text in a numeric cell
    r2 = row_of(t, SUPLJA)
    t.cell(r2, col(t, "tailings_volume_m3"), 6_000_000)
    t.cell(r2, col(t, "dam_condition"), "fair")
    t.cell(r2, col(t, "dam_height_m"), "=10*4")  # formula: not evaluated
    t.cell(r2, col(t, "respondent_source"), "Operator report 2025")
    t.cell(r2, col(t, "respondent_date"), dt.date(2026, 10, 1))
    d = wb["dam_reservoir"]
    r3 = row_of(d, MRATINJE)
    d.cell(r3, col(d, "reservoir_volume_m3"), -880_000_000)  # planted: negative volume
    d.cell(r3, col(d, "dam_height_m"), 220)
    d.cell(r3, col(d, "respondent_source"), "EPCG")
    d.cell(r3, col(d, "respondent_date"), "2026-11-01")
    r4 = row_of(d, KRUSEVO)
    d.cell(r4, col(d, "site_id"), "gem-ghpt-L604299")  # planted: changed site id
    d.cell(r4, col(d, "dam_height_m"), 133)
    p = wb["thermal_power_plant"]
    r5 = row_of(p, PLJEVLJA_TPP)
    p.cell(r5, col(p, "substance_1_name"), "heavy fuel oil")
    p.cell(r5, col(p, "substance_1_quantity_t"), 800)
    p.cell(r5, col(p, "substance_1_wgk"), "2")
    p.cell(r5, col(p, "respondent_source"), "Seveso notification")
    p.cell(r5, col(p, "respondent_date"), "2026-09-30")
    n = wb["New sites"]
    n.cell(3, col(n, "new_site_name"), "Gradac flotation tailings pond")
    n.cell(3, col(n, "category"), "jalovište")  # Montenegrin: tailings
    n.cell(3, col(n, "lon"), "19,3611")
    n.cell(3, col(n, "lat"), 43.3692)
    n.cell(3, col(n, "coord_precision"), "approximate")
    n.cell(3, col(n, "tailings_volume_m3"), 350_000)
    n.cell(3, col(n, "respondent_source"), "Municipality of Pljevlja")
    n.cell(3, col(n, "respondent_date"), "2026-11-02")
    n.cell(4, col(n, "new_site_name"), "Unknown works")
    n.cell(4, col(n, "category"), "factory of dreams")  # planted: unknown category
    n.cell(4, col(n, "lon"), 19.2)
    n.cell(4, col(n, "lat"), 43.2)
    wb.save(out)
    return out


@pytest.fixture(scope="module")
def returned(blank):
    return _fill(blank, blank.with_name("mne_drina_returned.xlsx"))


@pytest.fixture(scope="module")
def merged(returned, inventory):
    return merge_returns([returned], inventory)


def _errors(res):
    return {(i.file.split("sheet ")[-1].strip("'"), i.row, i.column): i.reason for i in res.report.errors}


def test_workbook_layout_validation_and_protection(blank, inventory):
    wb = openpyxl.load_workbook(blank)
    # one sheet per category of the MNE Drina sites (the Kosovo-Montenegro gas interconnector is a pipeline)
    assert wb.sheetnames == ["Instructions", "lists", "dam_reservoir", "mine", "pipeline", "tailings_metal",
                             "thermal_power_plant", "New sites", "_meta"]
    assert wb["lists"].sheet_state == "hidden" and wb["_meta"].sheet_state == "hidden"
    mne = inventory[(inventory["basin"] == "drina") & (inventory["country"] == "MNE")]
    categories = wb.sheetnames[2:wb.sheetnames.index("New sites")]
    on_sheets = [wb[s].cell(r, 1).value for s in categories for r in range(3, wb[s].max_row + 1)]
    assert sorted(on_sheets) == sorted(mne["site_id"])
    t = wb["tailings_metal"]
    assert t.protection.sheet
    r = row_of(t, BRSKOVO)
    assert t.cell(r, 1).protection.locked and not t.cell(r, col(t, "tailings_volume_m3")).protection.locked
    assert "Tailings volume (m3)" == t.cell(2, col(t, "tailings_volume_m3")).value
    assert "tailings_type = Pb-Zn (literature)" in t.cell(r, col(t, "known_values")).value
    dvs = {str(dv.sqref).split(":")[0][0]: dv for dv in t.data_validations.dataValidation}
    letter = t.cell(1, col(t, "dam_condition")).column_letter
    assert dvs[letter].type == "list" and dvs[letter].formula1.startswith("lists!")
    vol = t.cell(1, col(t, "tailings_volume_m3")).column_letter
    assert dvs[vol].type == "decimal" and dvs[vol].formula1 == "0"
    assert col(t, "respondent_source") and col(t, "respondent_date")
    n = wb["New sites"]
    assert not n.cell(10, col(n, "lon")).protection.locked
    assert "New sites" in "\n".join(str(c.value) for c in wb["Instructions"]["A"])


def test_round_trip_reports_every_planted_mistake_precisely(merged):
    errs = _errors(merged)
    assert errs == {
        ("tailings_metal", 3, "L (tailings_area_ha)"): "'about twenty' is not a number",
        ("tailings_metal", 4, "M (dam_height_m)"):
            "formula '=10*4' not evaluated (riskmap reads typed values only); the cell was not read",
        ("dam_reservoir", 4, "M (reservoir_volume_m3)"): "negative value -8.8e+08",
        ("dam_reservoir", 5, "site_id"): "site_id 'gem-ghpt-L604299' is not in the inventory (closest: "
                                         "'gem-ghpt-L604259'); the row's values were not merged",
        ("New sites", 4, "B (category)"): "unknown category 'factory of dreams'",
    }
    for i in merged.report.errors:
        assert i.fix
    warn = " | ".join(i.reason for i in merged.report.warnings)
    assert "'loše' read as 'poor'" in warn and "'jalovište' read as 'tailings_metal'" in warn
    assert "number typed as text '1200,5' read as 1200.5" in warn


def test_round_trip_good_values_land_with_provenance(merged, inventory):
    s = merged.sites.set_index("site_id")
    assert s.loc[BRSKOVO, "tailings_volume_m3"] == 2_500_000 and s.loc[BRSKOVO, "dam_condition"] == "poor"
    assert json.loads(s.loc[BRSKOVO, "substances"]) == [{"name": "lead (Pb) in tailings", "quantity_t": 1200.5,
                                                          "wgk": "3"}]
    fs = json.loads(s.loc[BRSKOVO, "field_sources"])
    assert fs["tailings_volume_m3"] == ("questionnaire MNE 2026-11-03 (respondent: Cadastre of mining waste, "
                                        "Ministry of Ecology)")
    assert s.loc[SUPLJA, "tailings_volume_m3"] == 6_000_000
    assert pd.isna(s.loc[SUPLJA, "dam_height_m"])  # the formula was not evaluated
    assert s.loc[MRATINJE, "dam_height_m"] == 220 and s.loc[MRATINJE, "reservoir_volume_m3"] == pytest.approx(880e6)
    assert pd.isna(s.loc[KRUSEVO, "dam_height_m"])  # its row had a changed id
    assert "questionnaire-MNE:mne_drina_returned.xlsx#tailings_metal!3" in json.loads(s.loc[BRSKOVO, "source_refs"])
    # nothing else is lost or changed: every other site and field as before
    base = inventory.set_index("site_id")
    others = base.index.difference([BRSKOVO, SUPLJA, MRATINJE, PLJEVLJA_TPP])
    cols = ["name", "category", "status", "tailings_volume_m3", "dam_height_m", "substances", "reservoir_volume_m3"]
    pd.testing.assert_frame_equal(s.loc[others, cols], base.loc[others, cols])
    prov = merged.provenance
    assert (prov["action"] == "filled").sum() == 7
    assert set(prov.loc[prov["action"] == "filled", "site_id"]) == {BRSKOVO, SUPLJA, MRATINJE, PLJEVLJA_TPP}


def test_round_trip_new_site_gets_its_own_id(merged):
    assert merged.new_ids == ["q-mne-gradac-flotation-tailings-pond"]
    new = merged.sites.set_index("site_id").loc["q-mne-gradac-flotation-tailings-pond"]
    assert new["category"] == "tailings_metal" and new["country"] == "MNE" and new["basin"] == "drina"
    assert new["source"] == "questionnaire MNE 2026-11-02" and new["coord_precision"] == "approximate"
    assert new.geometry.x == pytest.approx(19.3611) and new["tailings_volume_m3"] == 350_000
    rejected = merged.provenance[merged.provenance["action"] == "rejected: invalid new site"]
    assert rejected["value"].tolist() == ["Unknown works"] and rejected["row"].tolist() == [4]


def test_round_trip_scores_move_from_insufficient_data(merged, inventory):
    ch = score_change(inventory, merged)
    t = ch["table"].set_index("site_id")
    for sid in (BRSKOVO, PLJEVLJA_TPP):
        assert t.loc[sid, "before"] == "insufficient data", sid
        assert t.loc[sid, "after"] in ("scored", "proxy") and t.loc[sid, "hazard_score"] > 0, sid
    assert ch["moved"] >= 2
    assert t.loc["q-mne-gradac-flotation-tailings-pond", "after"] in ("scored", "proxy")


def test_conflicts_keep_the_previous_value(returned, merged, tmp_path):
    # a second return answering the same fields differently: conflicts, nothing overwritten
    wb = openpyxl.load_workbook(returned)
    t = wb["tailings_metal"]
    r = row_of(t, BRSKOVO)
    t.cell(r, col(t, "tailings_volume_m3"), 3_100_000)
    t.cell(r, col(t, "dam_condition"), "poor")
    second = tmp_path / "second.xlsx"
    wb.save(second)
    res = merge_returns([second], merged.sites)
    c = res.conflicts.set_index(["site_id", "field"])
    assert c.loc[(BRSKOVO, "tailings_volume_m3"), "previous"] == 2_500_000
    assert c.loc[(BRSKOVO, "tailings_volume_m3"), "value"] == 3_100_000
    assert res.sites.set_index("site_id").loc[BRSKOVO, "tailings_volume_m3"] == 2_500_000
    conf = res.provenance.set_index(["site_id", "field"]).loc[(BRSKOVO, "dam_condition"), "action"]
    assert conf == "confirmed"


def test_moved_columns_renamed_sheet_merged_cells_csv(blank, tmp_path):
    wb = openpyxl.load_workbook(blank)
    t = wb["tailings_metal"]
    t.protection.sheet = False
    t.title = "Jalovišta"  # renamed sheet: read by its header, not its name
    vcol, ccol = col(t, "tailings_volume_m3"), col(t, "comment")
    for r in range(1, t.max_row + 1):  # move a column: swap volume and comment
        a, b = t.cell(r, vcol).value, t.cell(r, ccol).value
        t.cell(r, vcol, b)
        t.cell(r, ccol, a)
    r = row_of(t, BRSKOVO)
    t.cell(r, ccol, "1.234.567,5")
    t.cell(r, col(t, "respondent_date"), "2026-11")
    t.merge_cells(start_row=r, start_column=col(t, "respondent_source"), end_row=r + 1,
                  end_column=col(t, "respondent_source"))
    t.cell(r, col(t, "respondent_source"), "Inspection 2026")
    p = tmp_path / "moved.xlsx"
    wb.save(p)
    ret = read_return(p)
    v = ret.values.set_index(["site_id", "field"])
    assert v.loc[(BRSKOVO, "tailings_volume_m3"), "value"] == pytest.approx(1234567.5)
    assert v.loc[(BRSKOVO, "tailings_volume_m3"), "sheet"] == "Jalovišta"
    assert any("merged cells" in i.reason and i.severity == "warning" for i in ret.report.issues)
    # CSV return: semicolons and decimal commas, keys as headers
    csv = tmp_path / "ret.csv"
    csv.write_text("site_id;tailings_volume_m3;dam_condition;respondent_date\n"
                   f"{BRSKOVO};2500000,5;dobro;2026-11-03\n{SUPLJA};=A1;mire;xx\n", encoding="utf-8")
    ret = read_return(csv)
    v = ret.values.set_index(["site_id", "field"])
    assert v.loc[(BRSKOVO, "tailings_volume_m3"), "value"] == 2500000.5
    assert v.loc[(SUPLJA, "dam_condition"), "value"] == "good"  # Albanian "mirë"
    reasons = [i.reason for i in ret.report.errors]
    assert any("formula '=A1' not evaluated" in x for x in reasons) and any("'xx' is not a date" in x for x in reasons)


def test_cli_write_and_merge(tmp_path, returned):
    from riskmap.cli import main

    out = tmp_path / "q.xlsx"
    r = CliRunner().invoke(main, ["questionnaire", "drina", "--country", "MNE", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and out.exists()
    r = CliRunner().invoke(main, ["questionnaire", "merge", str(returned), "-o", str(tmp_path / "m"), "--no-score"])
    assert r.exit_code == 1, r.output  # the planted errors
    assert "7 values filled" in r.output and "1 new sites" in r.output
    for f in ("sites.csv", "provenance.csv", "conflicts.csv", "issues.csv", "returns.json"):
        assert (tmp_path / "m" / f).exists(), f
    merged = read_sites(tmp_path / "m" / "sites.csv")
    assert merged.attrs["validation"].ok and "q-mne-gradac-flotation-tailings-pond" in set(merged["site_id"])
    r = CliRunner().invoke(main, ["sites", "summary", str(tmp_path / "m" / "sites.csv")])
    assert r.exit_code == 0 and "hazard-field coverage" in r.output
    line = next(x for x in r.output.splitlines() if "MNE" in x and "tailings_metal" in x)
    assert "3/3" in line and "questionnaire MNE 2026-10-01 2" in line  # Suplja Stijena: volume, condition
    # never over an input
    shutil.copy(SITES_CSV, tmp_path / "m" / "sites.csv")
    r = CliRunner().invoke(main, ["questionnaire", "merge", str(returned), "-o", str(tmp_path / "m"),
                                  "--sites", str(tmp_path / "m" / "sites.csv"), "--no-score"])
    assert r.exit_code == 2 and "is an input of this merge" in r.output
    r = CliRunner().invoke(main, ["questionnaire", "drina", "--country", "XXX", "-o", str(tmp_path / "x.xlsx")])
    assert r.exit_code == 2 and "unknown country code" in r.output and "Traceback" not in r.output


def test_build_includes_returns_folder(tmp_path, returned):
    from riskmap._paths import DATA_DIR, default_sources_dir
    from riskmap.questionnaire import returns_step
    from riskmap.databuild.sites.build import build_sites

    src = default_sources_dir()
    if not src.is_dir():
        pytest.skip("public source datasets not available")
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR / "basins", data / "basins")
    out = tmp_path / "sites"
    (out / "returns").mkdir(parents=True)
    shutil.copy(returned, out / "returns" / returned.name)
    build_sites(src, out, data_dir=data, after=returns_step(out / "returns"))
    built = read_sites(out / "sites.csv")
    assert built.attrs["validation"].ok
    assert "q-mne-gradac-flotation-tailings-pond" in set(built["site_id"])
    assert built.set_index("site_id").loc[BRSKOVO, "tailings_volume_m3"] == 2_500_000
    md = (out / "SOURCES.md").read_text()
    assert "## Questionnaire returns" in md and returned.name in md
    assert (out / "returns_conflicts.csv").exists() and (out / "returns_issues.csv").exists()
    prov = json.loads((out / "PROVENANCE.json").read_text())
    ch = prov["after"]["score_change"]
    assert ch["moved"] >= 2 and ch["touched"] == 5, ch
    assert f"{ch['moved']} of 5 moved from 'insufficient data' to a score" in md


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_round_trip_keeps_validation_and_protection(blank, returned, tmp_path, inventory):
    outdir = tmp_path / "lo"
    for f in (blank, returned):
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
                        "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(f)],
                       check=True, capture_output=True, timeout=240)
    wb = openpyxl.load_workbook(outdir / blank.name)
    t = wb["tailings_metal"]
    assert t.protection.sheet and wb["lists"].sheet_state == "hidden"
    types = {dv.type for dv in t.data_validations.dataValidation}
    assert {"list", "decimal", "date"} <= types
    r = row_of(t, BRSKOVO)
    assert t.cell(r, 1).protection.locked and not t.cell(r, col(t, "dam_condition")).protection.locked
    lo = merge_returns([outdir / returned.name], inventory)
    ours = merge_returns([returned], inventory)
    key = ["site_id", "field", "action"]
    assert lo.provenance[key].astype(str).values.tolist() == ours.provenance[key].astype(str).values.tolist()
    assert _errors(lo).keys() == _errors(ours).keys()


def test_field_coverage_says_who_filled_what(merged):
    from riskmap.inventory import field_coverage

    cov = field_coverage(merged.sites).set_index(["country", "category"])
    row = cov.loc[("MNE", "tailings_metal")]
    assert row["sites"] == 3 and row["tailings_volume_m3"] == 3 and row["dam_condition"] == 2
    assert row["filled_by"] == ("questionnaire MNE 2026-10-01 2; questionnaire MNE 2026-11-02 1; "
                                "questionnaire MNE 2026-11-03 3")
    assert cov.loc[("MNE", "dam_reservoir"), "filled_by"].startswith("public sources")
