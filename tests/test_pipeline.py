"""The main job (`riskmap demo` / `make demo`): every output per basin, linked from index.html."""

from __future__ import annotations

import re

import pandas as pd
from click.testing import CliRunner

import riskmap
from riskmap.cli import main
from riskmap.maps import external_references


def test_demo_builds_linked_outputs_for_every_basin(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["demo", "-o", str(out), "--no-pdf"])
    assert res.exit_code == 0, res.output
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    assert links and all((out / link).is_file() for link in links), links
    inv = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv", strict=True)
    for basin in ("drin", "drina", "syr_darya"):
        assert f"{basin}_map.html" in links and f"{basin}_report.html" in links
        csv = pd.read_csv(out / f"{basin}_sites.csv")
        # every inventory site of the basin is in its CSV and counted on the index page
        assert sorted(csv["site_id"]) == sorted(inv.loc[inv["basin"] == basin, "site_id"])
        assert f"<td>{len(csv)}</td>" in index
        for page in (f"{basin}_map.html", f"{basin}_report.html"):
            assert external_references((out / page).read_text(encoding="utf-8")) == [], page


# ----------------------------------------------------------------- the explicit steps


import pytest  # noqa: E402

from riskmap import pipeline  # noqa: E402
from riskmap import RiskmapInputError  # noqa: E402

DRINA = riskmap.DATA_DIR / "sites" / "sites.csv"


@pytest.fixture(scope="module")
def prepared_drina():
    return pipeline.prepare(DRINA, basins=["drina"])


def test_prepare_runs_the_steps_asked_for():
    only_read = pipeline.prepare(DRINA, assess=False, score=False)
    assert (only_read.assessed, only_read.scored, only_read.steps) == (False, False, ("read",))
    assert "exposure_class" not in only_read.sites.columns
    assert only_read.validation is not None and only_read.source == DRINA
    assessed = pipeline.assess_step(only_read, basins=["drina"])
    assert assessed.assessed and not assessed.scored and "priority_score" not in assessed.sites.columns
    assert assessed.steps == ("read", "assess")
    with pytest.raises(RiskmapInputError, match="assess"):
        pipeline.prepare(DRINA, assess=False, score=True)


def test_a_scored_file_read_back_is_assessed_and_scored_again_to_the_same_values(prepared_drina, tmp_path):
    sub = prepared_drina.sites[prepared_drina.sites["basin"] == "drina"]
    f = tmp_path / "scored.gpkg"
    from riskmap.io import write_sites

    write_sites(sub, f)
    again = pipeline.prepare(f, basins=["drina"])
    assert again.assessed and again.scored
    assert [c for c in again.sites.columns if c.endswith("_input")] == []  # equal computed columns dropped
    a = sub.set_index("site_id")["priority_rank"]
    b = again.sites.set_index("site_id")["priority_rank"]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index(), check_dtype=False)


def test_report_inputs_rerun_no_analysis_and_build_report_writes_no_map(prepared_drina, tmp_path, monkeypatch):
    import riskmap.exposure
    import riskmap.hazard
    from riskmap.report import build_report, report_inputs

    def boom(*a, **k):
        raise AssertionError("exposure re-assessed or sites re-scored")

    monkeypatch.setattr(riskmap.exposure, "assess", boom)
    monkeypatch.setattr(riskmap.hazard, "score", boom)  # the one ranking comes with the scored sites
    inputs = report_inputs("drina", prepared_drina)
    assert len(inputs.sites) and (inputs.sites["basin"] == "drina").all()
    assert inputs.matrix is not None and inputs.validation is prepared_drina.validation
    build_report(inputs, tmp_path, pdf=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drina_report.html", "drina_report_provenance.json"]
    map_path, report = pipeline.write_map_and_report(inputs, tmp_path / "both", pdf=False)
    assert map_path.name == "drina_map.html" and 'href="drina_map.html"' in report.read_text(encoding="utf-8")


def test_export_of_prepared_sites_carries_the_matrix(prepared_drina, tmp_path):
    from riskmap.export import export

    p = export(prepared_drina.subset(prepared_drina.sites["basin"] == "drina"), tmp_path / "d.xlsx", basin="drina")
    m = pd.read_excel(p, sheet_name="exposure_matrix")
    assert "origin" in m.columns and "note" not in m.columns
    unassessed = pipeline.prepare(DRINA, assess=False, score=False)
    p2 = export(unassessed, tmp_path / "u.xlsx", basin="drina")
    assert "note" in pd.read_excel(p2, sheet_name="exposure_matrix").columns


def test_basin_step_counts_the_sites_left_out_per_basin(tmp_path):
    import warnings

    from riskmap import RiskmapDataWarning
    from riskmap.pipeline import basin_step, prepare

    p = tmp_path / "three.csv"
    p.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "d1,Mine A,mine,exact,test,19.3563,43.3563\n"
                 "x2,Almalyk,mine,exact,test,69.5981,40.8447\n"
                 "x3,Paris,other,town,test,2.3522,48.8566\n")
    prepared = prepare(p, score=False)
    with pytest.warns(RiskmapDataWarning, match=r"2 of the 3 sites of three.csv are left out"):
        drina = basin_step(prepared, "drina")
    assert list(drina.sites["site_id"]) == ["d1"]
    left = drina.left_out
    assert (left.n_input, left.n_kept, left.n, left.elsewhere, left.no_basin) == (3, 1, 2, (("syr_darya", 1),), 1)
    assert drina.steps[-1] == "basin"
    with warnings.catch_warnings():  # the bundled inventory's other basins are no warning
        warnings.simplefilter("error", RiskmapDataWarning)
        bundled = basin_step(prepare(score=False), "drina")
    assert bundled.left_out.n > 0 and set(bundled.sites["basin"]) == {"drina"}
