"""ONE priority ranking of a basin's sites (issue 14 item 2).

The same number in the scored frame, the report, the map, the contingency
cards and the ``spill --all`` selection.

Runs on the real bundled data: the score step ranks every assessed site, those
without site data on their category's typical hazard (``rank_basis``).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmap import pipeline
from riskmap import report as rp
from riskmap import report_sections as rs
from riskmap._paths import DATA_DIR
from riskmap.ranking import RANK_BASIS_CATEGORY, RANK_BASIS_DATA

BASINS = ("drin", "drina", "syr_darya")

pytestmark = pytest.mark.skipif(
    not all((DATA_DIR / "basins" / f"{b}.gpkg").is_file() for b in BASINS)
    or not (DATA_DIR / "sites" / "sites.csv").is_file(), reason="bundled basins or sites not built")


@pytest.fixture(scope="module")
def prepared():
    """The sites as every output prepares them: assessed against every basin, scored once."""
    return pipeline.prepare(basins=rp.assessment_basins("drina"))


def _ranks(frame: pd.DataFrame) -> dict[str, int]:
    r = pd.to_numeric(frame["priority_rank"], errors="coerce")
    return {str(s): int(v) for s, v in zip(frame["site_id"], r) if np.isfinite(v)}


def _map_column(data: dict, col: str) -> list:
    c, n = data["cols"][col], data["n"]
    if "v" in c:
        return list(c["v"])
    if "c" in c:
        return [None if k < 0 else c["k"][k] for k in c["c"]]
    return [c["s"].get(str(i)) for i in range(n)]


@pytest.mark.slow
@pytest.mark.parametrize("basin", BASINS)
def test_one_rank_in_frame_report_map_cards_and_spill(prepared, basin, tmp_path):
    from riskmap.contingency import basin_sites, build_contingency
    from riskmap.maps import basin_map
    from riskmap.spill import priority_sites

    frame = prepared.sites[prepared.sites["basin"].astype(object) == basin]
    truth = _ranks(frame)
    # every assessed site of the basin is ranked, 1..N, on site data or its category
    assert sorted(truth.values()) == list(range(1, len(frame) + 1))
    assert set(frame["rank_basis"]) <= {RANK_BASIS_DATA, RANK_BASIS_CATEGORY}
    # the report: its ranking frame, its top-N table and every country section number
    inputs = rp.report_inputs(basin, prepared)
    assert _ranks(rs.ranking_frame(inputs.sites)) == truth
    ctx = rp.report_context(inputs)
    by_name = {str(n): int(r) for n, r in zip(frame["name"], frame["priority_rank"])}
    assert [row["no"] for row in ctx["ranking"]] == list(range(1, len(ctx["ranking"]) + 1))
    assert all(by_name[row["name"]] == row["no"] for row in ctx["ranking"] if list(frame["name"]).count(row["name"]) == 1)
    # the map's embedded site data ("k of N": N is the basin's site count)
    data = basin_map(inputs.basin, inputs.sites)._riskmap_data["sites"]
    shown = {str(s): int(r) for s, r in zip(_map_column(data, "site_id"), _map_column(data, "priority_rank"))
             if r is not None}
    assert shown == {s: truth[s] for s in shown} and len(shown) == len(truth) == data["nRanked"]
    # the contingency cards (their own preparation of the inventory) and the spill --all selection
    plan = build_contingency(basin, tmp_path, sites="top:3", pdf=False)
    assert {str(c.site["site_id"]): int(c.site["priority_rank"]) for c in plan.cards} == {
        str(c.site["site_id"]): truth[str(c.site["site_id"])] for c in plan.cards}
    own = basin_sites(None, basin)  # what the cards and exercises rank on
    assert _ranks(own[own["basin"].astype(object) == basin]) == truth
    picked = priority_sites(basin, top=5)
    assert _ranks(picked) == {s: truth[s] for s in picked["site_id"].astype(str)}
    assert list(picked["priority_rank"]) == sorted(picked["priority_rank"])


@pytest.mark.slow
def test_taboshar_has_one_rank_in_cards_and_report(prepared, tmp_path):
    from riskmap.contingency import build_contingency

    frame = prepared.sites[prepared.sites["basin"].astype(object) == "syr_darya"]
    tab = frame[frame["name"].astype(str).str.contains("Taboshar", case=False)]
    assert len(tab) >= 1
    row = tab.iloc[0]
    ctx = rp.report_context(rp.report_inputs("syr_darya", prepared))
    in_report = [r["no"] for r in ctx["ranking"] if r["name"] == row["name"]]
    plan = build_contingency("syr_darya", tmp_path, sites=str(row["site_id"]), pdf=False)
    assert int(plan.cards[0].site["priority_rank"]) == int(row["priority_rank"])
    if in_report:  # in the report's top table
        assert in_report == [int(row["priority_rank"])]
    annex = [r for c in ctx["countries"] for r in c.get("sites", []) if r.get("name") == row["name"]]
    assert annex and all(r["no"] == str(int(row["priority_rank"])) for r in annex)


def test_site_without_data_is_ranked_on_its_category(prepared):
    s = prepared.sites
    screened = s[s["rank_basis"] == RANK_BASIS_CATEGORY]
    assert len(screened) > 0
    assert screened["priority_rank"].notna().all()
    assert screened["wri"].isna().all() and screened["thi"].isna().all()  # no index invented
    assert (screened["score_status"] == "insufficient data").all()  # what is known about the site: unchanged
    assert screened["score_reason"].str.contains("category-typical").all()
    data = s[s["rank_basis"] == RANK_BASIS_DATA]
    assert len(data) > 0 and (data["wri"].notna() | data["thi"].notna()).all()


@pytest.mark.slow
def test_user_params_change_the_one_ranking_everywhere(prepared, tmp_path):
    """A user's --params move the same rank in the scored frame, the report and the map.

    Here: pipelines typically as hazardous as anything (category hazard 1.0).
    """
    from riskmap.maps import basin_map

    params = {"label": "user test", "priority": {"category_hazard": {"pipeline": 1.0}}}
    user = pipeline.prepare(basins=rp.assessment_basins("drina"),
                            score_options=pipeline.ScoreOptions(params=params))
    for basin in BASINS:
        frame = user.sites[user.sites["basin"].astype(object) == basin]
        lf = frame[(frame["category"] == "pipeline") & (frame["rank_basis"] == RANK_BASIS_CATEGORY)]
        if lf.empty:
            continue
        before = _ranks(prepared.sites[prepared.sites["basin"].astype(object) == basin])
        after = _ranks(frame)
        assert all(after[s] <= before[s] for s in lf["site_id"].astype(str))
        assert any(after[s] < before[s] for s in lf["site_id"].astype(str))
        inputs = rp.report_inputs(basin, user)
        assert _ranks(rs.ranking_frame(inputs.sites)) == after
        assert (inputs.sites["params_label"] == "user test").all()
        data = basin_map(inputs.basin, inputs.sites)._riskmap_data["sites"]
        shown = {str(s): int(r) for s, r in zip(_map_column(data, "site_id"), _map_column(data, "priority_rank"))
                 if r is not None}
        assert shown == after
        return
    pytest.fail("no pipeline ranked on its category in any basin")


def test_exports_carry_the_rank_and_its_basis(prepared, tmp_path):
    from riskmap.export import export

    sub = prepared.subset(prepared.sites["basin"].astype(object) == "drina")
    p = export(sub, tmp_path / "drina.csv", basin="drina")
    out = pd.read_csv(p)
    assert {"priority_rank", "rank_basis"} <= set(out.columns)
    assert dict(zip(out["site_id"].astype(str), out["priority_rank"].astype(int))) == _ranks(sub.sites)
    assert set(out["rank_basis"]) <= {RANK_BASIS_DATA, RANK_BASIS_CATEGORY}
    terms = json.loads(out["score_terms"].iloc[0])
    assert "hazard_score" in terms
