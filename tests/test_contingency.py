"""Contingency planning: scenario cards, notification timelines and matrix, basin annex (issue 19 items 1-3)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap import contingency as ct
from riskmap import RiskmapInputError
from riskmap.cli import main

MAILUU = "lit-mailuu-suu-uranium-tailings-and-waste-dumps"


def _pdftotext(p: Path) -> str:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext (poppler-utils) missing and CI is set")
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", str(p), "-"], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def syr_plan(tmp_path_factory, chromium_path):
    """The Syr Darya annex for the two top sites, with PDFs (Mailuu-Suu is rank 1)."""
    out = tmp_path_factory.mktemp("contingency_syr")
    return ct.build_contingency("syr_darya", out, sites="top:2", pdf=True), out


def _card_text(pdf: Path, name: str) -> str:
    squeezed = "".join(_pdftotext(pdf).split())
    start = squeezed.index("Scenariocard:" + "".join(name.split()))
    end = squeezed.find("Scenariocard:", start + 10)
    return squeezed[start:end if end > 0 else None]


def _first_timeline_row(card: str) -> str:
    """The text of the timeline's first row (pdftotext may put the header cells after page 1's rows)."""
    tl = card[card.index("Timeline(hoursfromtherelease)"):]
    tl = tl[tl.index("CheckpointKindCountry") + len("CheckpointKindCountry"):]
    if tl.startswith("Riverkm"):  # the whole header comes before the rows
        tl = tl[tl.index("Population") + len("Population"):]
        tl = tl.removeprefix("threshold")
    return tl


# ------------------------------------------------------------------ real basins, end to end


def test_syr_darya_annex_cards_and_matrix(syr_plan):
    plan, out = syr_plan
    names = {p.name for p in out.iterdir()}
    assert {"syr_darya_contingency_annex.html", "syr_darya_contingency_annex.pdf", "syr_darya_scenario_cards.html",
            "syr_darya_scenario_cards.pdf", "syr_darya_notifications.csv", "syr_darya_notification_matrix.csv",
            "syr_darya_timelines.csv"} <= names
    assert not [n for n in names if n.startswith(".riskmap-tmp")]
    assert plan.cards[0].site["site_id"] == MAILUU
    assert len(plan.cards) == 2
    annex = " ".join(_pdftotext(out / "syr_darya_contingency_annex.pdf").split())
    for needle in ("Warning checkpoints", "Notification matrix", "Data gaps that limit the plan",
                   "Harmonised SOP checklist", "Alert", "Verification", "Notification", "Response", "Sampling",
                   "All-clear", "Scenario card: Mailuu-Suu", "to be supplied"):
        assert needle in annex, needle
    pairs = pd.read_csv(out / "syr_darya_notification_matrix.csv")
    kgz = pairs[pairs["origin"] == "KGZ"]
    assert {"UZB", "TJK", "KAZ"} <= set(kgz["notified"])
    # the matrix is the minimum over the cards of the fast-case warning time
    notes = pd.read_csv(out / "syr_darya_notifications.csv")
    m = notes.groupby(["origin", "notified"])["warning_h_fast"].min()
    for r in pairs.itertuples():
        assert (np.isnan(r.min_warning_h_fast) and np.isnan(m[(r.origin, r.notified)])) \
            or r.min_warning_h_fast == pytest.approx(m[(r.origin, r.notified)], rel=1e-3)


def test_cards_timeline_is_the_spill_table(syr_plan):
    plan, _ = syr_plan
    card = plan.cards[0]
    tab = card.result.table()
    assert card.timeline["checkpoint"].tolist() == tab["checkpoint"].tolist()
    assert np.allclose(card.timeline["leading_edge_h"], tab["leading_edge_h"], equal_nan=True)
    assert np.allclose(card.timeline["peak_mg_l_high"], tab["peak_mg_l_high"], equal_nan=True)
    khujand = card.timeline[card.timeline["checkpoint"] == "Khujand"]
    assert khujand["population"].notna().all()  # towns carry their population from the basin towns layer


def test_mailuu_suu_notifies_uzbekistan_first(syr_plan):
    """The notification timeline of Mailuu-Suu starts with the KGZ->UZB step (most urgent)."""
    plan, out = syr_plan
    first = plan.cards[0].notifications.iloc[0]
    assert (first["origin"], first["notified"]) == ("KGZ", "UZB")
    card = _card_text(out / "syr_darya_scenario_cards.pdf", "Mailuu-Suu uranium tailings and waste dumps")
    nt = card[card.index("Notificationtimeline(mosturgentfirst)"):]
    rows = nt[nt.index("Notifiedcountry"):]
    # first row: Uzbekistan at the KGZ->UZB crossing of the DEM flow path, with hours (fast, central);
    # then Tajikistan, Kazakhstan
    first_row = rows[:rows.index("Tajikistan")]
    assert rows.index("Uzbekistan") < rows.index("borderKGZ>UZB") < rows.index("Tajikistan") \
        < rows.index("Kazakhstan")
    m = re.search(r"Uzbekistan(\d[\d,]*\.\d)(\d[\d,]*\.\d)borderKGZ>UZB", first_row)
    assert m and 0 < float(m.group(1)) <= float(m.group(2)), first_row
    assert "unknown" not in first_row


def test_mailuu_suu_pdf_timeline_lists_kgz_uzb_crossing_first_with_hours(syr_plan):
    _, out = syr_plan
    row = _first_timeline_row(_card_text(out / "syr_darya_scenario_cards.pdf",
                                         "Mailuu-Suu uranium tailings and waste dumps"))
    m = re.match(r"borderKGZ->[A-Z|]*UZB[A-Z|]*border[A-Za-z/]+?(\d[\d,]*\.\d)(\d[\d,]*\.\d)(\d[\d,]*\.\d)", row)
    assert m, row[:120]
    assert float(m.group(2).replace(",", "")) > 0  # leading edge, hours from the release


def test_drina_cli_with_contacts(tmp_path):
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("country,role,organisation,contact\n"
                        "BIH,IAN point of contact,<script>alert(1)</script> Ministry,=HYPERLINK(\"x\")\n",
                        encoding="utf-8")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["contingency", "Drina", "--sites", "top:2", "--no-pdf",
                                    "--contacts", str(contacts), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "card:" in res.output
    html = (out / "drina_contingency_annex.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Ministry" in html
    assert "to be supplied" in html  # SRB, MNE have no contact
    pairs = pd.read_csv(out / "drina_notification_matrix.csv")
    assert len(pairs) >= 1 and set(pairs["origin"]) <= {"BIH", "MNE", "SRB"}
    notes = pd.read_csv(out / "drina_notifications.csv")
    for _, grp in notes.groupby("site_id", sort=False):
        fast = grp["warning_h_fast"].dropna().tolist()
        assert fast == sorted(fast)  # ordered by urgency
    assert not list(out.glob("*.pdf"))


def test_cli_refuses_unknown_site_and_bad_top(tmp_path):
    r = CliRunner().invoke(main, ["contingency", "drina", "--sites", "no-such-site", "--no-pdf", "-o", str(tmp_path)])
    assert r.exit_code != 0 and "no-such-site" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["contingency", "drina", "--sites", "top:0", "--no-pdf", "-o", str(tmp_path)])
    assert r.exit_code != 0 and "top:N" in r.output
    r = CliRunner().invoke(main, ["contingency", "drina", "--sites", MAILUU, "--no-pdf", "-o", str(tmp_path)])
    assert r.exit_code != 0 and "not in basin drina" in r.output and "Traceback" not in r.output
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ units on synthetic inputs


def _timeline(rows):
    cols = ["checkpoint", "kind", "country", "river_km", "leading_edge_h", "leading_edge_h_fast"]
    df = pd.DataFrame(rows, columns=cols)
    for c in ("peak_time_h", "peak_mg_l", "peak_mg_l_low", "peak_mg_l_high", "above_threshold_h", "population"):
        df[c] = np.nan
    df["note"] = ""
    return df


def test_notification_table_order_and_notifiers():
    tl = _timeline([
        ("border BIH -> BIH|SRB", "border", "BIH|SRB", 10.0, 5.0, 2.5),
        ("Town A", "town", "BIH|SRB", 20.0, 8.0, 4.0),
        ("border BIH|SRB -> SRB", "border", "SRB", 40.0, 12.0, 6.0),
        ("border SRB -> HRV", "border", "HRV", 90.0, 30.0, 15.0),
    ])
    nt = ct.notification_table(tl, "MNE", river_entry="BIH")
    assert nt["notified"].tolist() == ["BIH", "SRB", "HRV"]
    assert np.isnan(nt.loc[0, "warning_h"])  # river entry: before the first checkpoint, time unknown (never 0)
    assert nt.loc[1, "warning_h"] == 5.0 and nt.loc[1, "warning_h_fast"] == 2.5 and nt.loc[1, "upstream"] == "BIH"
    assert nt.loc[2, "upstream"] == "SRB" and nt.loc[2, "warning_h"] == 30.0
    assert (nt["origin"] == "MNE").all()
    # no river entry elsewhere: the origin itself is never notified
    nt2 = ct.notification_table(tl, "BIH")
    assert nt2["notified"].tolist() == ["SRB", "HRV"]


def test_timeline_uses_range_columns_when_present():
    cp = pd.DataFrame({"checkpoint": ["X"], "kind": ["town"], "river_km": [1.0], "leading_edge_h": [1.0],
                       "peak_time_h": [2.0], "peak_mg_l": [0.5], "above_threshold_h": [1.0], "country": ["SRB"],
                       "leading_edge_h_fast": [0.5], "peak_mg_l_high": [0.9], "discharge_m3s": [10.0], "note": [""]})
    t = ct.timeline_table(cp)
    assert t.loc[0, "peak_mg_l_low"] == 0.5 and t.loc[0, "peak_mg_l_high"] == 0.9  # no low column: central
    assert np.isnan(t.loc[0, "population"])  # unknown, never 0
    t2 = ct.timeline_table(cp.assign(peak_mg_l_low=[0.2], population=[1234.0]))
    assert t2.loc[0, "peak_mg_l_low"] == 0.2 and t2.loc[0, "population"] == 1234.0


def test_release_scenario_nominal_and_tailings():
    par = ct.load_contingency_params()
    s = ct.release_scenario({"category": "tailings_uranium", "tailings_volume_m3": np.nan}, par)
    assert s["mass_kg"] == 10_000.0 and not s["volume_known"] and "tailings volume unknown" in s["basis"]
    s = ct.release_scenario({"category": "tailings_metal", "tailings_volume_m3": 3.0e6}, par)
    assert s["volume_known"]
    assert s["mass_kg"] == pytest.approx(3.0e6 * 0.33 * 0.001)
    assert any("Rico" in a for a in s["assumptions"]) and any("assumption" in a for a in s["assumptions"])
    s = ct.release_scenario({"category": "tailings_metal", "tailings_volume_m3": 1e12}, par)
    assert s["mass_kg"] == 1e8 and any("capped" in a for a in s["assumptions"])
    s = ct.release_scenario({"category": "chemical_plant"}, ct.load_contingency_params({"meta": {"nominal_mass_t": 2}}))
    assert s["mass_kg"] == 2000.0 and "stored quantity unknown" in s["basis"]


def test_params_errors(tmp_path):
    bad = tmp_path / "p.toml"
    for text, needle in (("[meta]\nnominal_mass = 1\n", "unknown key 'nominal_mass'"),
                         ("[meta]\nnominal_mass_t = \"ten\"\n", "nominal_mass_t"),
                         ("[tailings]\nrelease_fraction = 1.5\n", "tailings.release_fraction"),
                         ("[other]\nx = 1\n", "unknown table [other]"),
                         ("[meta]\nmodel = \"magic\"\n", "meta.model")):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(RiskmapInputError, match=re.escape(needle)) as e:
            ct.load_contingency_params(bad)
        assert str(bad) in str(e.value)


def test_contacts_template_is_empty_and_bad_files_are_named(tmp_path):
    assert ct.CONTACTS_TEMPLATE.read_text(encoding="utf-8").strip() == ",".join(ct.CONTACT_COLUMNS)
    assert ct.read_contacts(ct.CONTACTS_TEMPLATE).empty
    f = tmp_path / "c.csv"
    f.write_text("country,role,organisation\nKGZ,x,y\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match=r"c\.csv: row 1: missing column\(s\) contact"):
        ct.read_contacts(f)
    f.write_text("country,role,organisation,contact\nKGZ,a,b,c\nKyrgyzstan,a,b,c\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match=r"row 3, column country: 'Kyrgyzstan' is not an ISO3 code"):
        ct.read_contacts(f)
    f.write_text("country,role,organisation,contact\nkgz,POC,Ministry,+996 000\n", encoding="utf-8")
    c = ct.read_contacts(f)
    assert c["country"].tolist() == ["KGZ"]
    assert ct.contacts_for(c, "UZB") == [ct.TO_BE_SUPPLIED]
    f.write_text("country,role,organisation,contact\nXXX,POC,Ministry,+1\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match=r"row 2, column country: 'XXX' is not a country code"):
        ct.read_contacts(f)


def test_contacts_of_countries_outside_the_plan_are_reported(tmp_path):
    """A contact row of a country the basin does not have (KGZ for the Drina) is not used silently."""
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("country,role,organisation,contact\nBIH,POC,Ministry,+387\nKGZ,POC,Ministry,+996\n",
                        encoding="utf-8")
    res = CliRunner().invoke(main, ["contingency", "Drina", "--sites", "top:1", "--no-pdf",
                                    "--contacts", str(contacts), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "1 contact row(s) of KGZ not used: not a country of the drina basin (BIH, MNE, SRB)" in res.output


def test_select_sites_top_and_ids():
    sites = pd.DataFrame({"site_id": ["a", "b", "c", "d"], "basin": ["x", "x", "x", "y"],
                          "transboundary_downstream": [True, False, True, True],
                          "priority_rank": pd.array([2, 1, pd.NA, 1], dtype="Int64")})
    assert ct.select_sites(sites, "x", None, 5)["site_id"].tolist() == ["a", "c"]
    assert ct.select_sites(sites, "x", "top:1", 5)["site_id"].tolist() == ["a"]
    assert ct.select_sites(sites, "x", "d,b", 5)["site_id"].tolist() == ["d", "b"]
    with pytest.raises(RiskmapInputError, match="not in the inventory: zz"):
        ct.select_sites(sites, "x", "a,zz", 5)
    with pytest.raises(RiskmapInputError, match="no site with a transboundary"):
        ct.select_sites(sites.assign(transboundary_downstream=False), "x", None, 5)


def test_options_and_keyword_overrides(tmp_path):
    """build_contingency takes a ContingencyOptions, keywords override its fields, unknown keywords fail."""
    with pytest.raises(RiskmapInputError, match="no-such-site"):
        ct.build_contingency("drina", tmp_path / "x", ct.ContingencyOptions(sites="no-such-site", pdf=False))
    assert not (tmp_path / "x").exists()
    opts = ct.ContingencyOptions(sites="top:2", pdf=False, lang="ru")
    plan = ct.build_contingency("drina", tmp_path / "ru", opts, sites="top:1")  # the keyword wins over opts
    assert len(plan.cards) == 1 and not list((tmp_path / "ru").glob("*.pdf"))
    assert 'lang="ru"' in (tmp_path / "ru" / "drina_contingency_annex.html").read_text(encoding="utf-8")
    assert opts.sites == "top:2"  # the caller's options are not changed
    with pytest.raises(TypeError, match="no_such_option"):
        ct.build_contingency("drina", tmp_path, no_such_option=1)


def test_split_modules_keep_the_public_names():
    """riskmap.contingency still offers every name of its parts that callers used (issue 14 split)."""
    from riskmap import contingency_cards, contingency_params, contingency_scenario

    assert [n for n in ct.__all__ if not hasattr(ct, n)] == []
    assert ct.scenario_card is contingency_cards.scenario_card
    assert ct.load_contingency_params is contingency_params.load_contingency_params
    assert ct.basin_sites is contingency_scenario.basin_sites
