"""Tabletop-exercise packs (issue 19 item 4): inject times, participant pack without model results, determinism."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap import spill as sp
from riskmap import RiskmapInputError
from riskmap.cli import main
from riskmap.contingency import load_contingency_params, release_scenario
from riskmap.exercise import build_exercise, clock_at, parse_start

MAILUU = "lit-mailuu-suu-uranium-tailings-and-waste-dumps"
START = "2027-05-12 06:00"


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """The same exercise built twice, into two folders."""
    a, b = tmp_path_factory.mktemp("ex_a"), tmp_path_factory.mktemp("ex_b")
    return build_exercise("syr_darya", MAILUU, a, start=START), build_exercise("Syr Darya", MAILUU, b, start=START)


def _files(pack, which):
    return next(p for p in pack.files if p.name.endswith(which))


def test_inject_times_are_the_spill_arrival_times(packs):
    pack, _ = packs
    # an independent run of the spill model with the same release
    site, basin = sp.locate_release(MAILUU)
    scen = release_scenario(site, load_contingency_params())
    res = sp.simulate_spill(site, scen["mass_kg"], scen["duration_h"], basin=basin)
    tab = res.table()
    arrivals = [i for i in pack.injects if i.kind == "arrival"]
    reached = tab[tab["leading_edge_h"].notna()]
    assert len(arrivals) == len(reached) > 5
    t0 = dt.datetime(2027, 5, 12, 6, 0)
    by_name = {i.title: i for i in arrivals}
    for r in reached.itertuples():
        inj = by_name[f"Pollution arriving at {r.checkpoint} ({r.kind})"]
        assert inj.t_h == pytest.approx(r.leading_edge_h, abs=1e-9)
        assert inj.clock == (t0 + dt.timedelta(minutes=round(r.leading_edge_h * 60))).strftime("%Y-%m-%d %H:%M")
    # the injects are in time order, detection first at the start
    assert pack.injects[0].kind == "detection" and pack.injects[0].clock == START
    ts = [i.t_h for i in pack.injects]
    assert ts == sorted(ts)
    csv = pd.read_csv(_files(pack, "_injects.csv"))
    assert csv["clock"].tolist() == [i.clock for i in pack.injects]


def test_participant_pack_holds_no_model_result(packs):
    pack, _ = packs
    part = _files(pack, "_participant.html").read_text(encoding="utf-8")
    fac = _files(pack, "_facilitator.html").read_text(encoding="utf-8")
    tab = pack.card.timeline
    numbers = set()
    for col in ("river_km", "leading_edge_h", "leading_edge_h_fast", "peak_time_h", "above_threshold_h"):
        numbers |= {f"{v:,.1f}" for v in tab[col].dropna()}
    for col in ("peak_mg_l", "peak_mg_l_high", "peak_mg_l_low"):
        numbers |= {f"{v:.3g}" for v in tab[col].dropna()}
    numbers |= {i.clock for i in pack.injects if i.kind != "detection"}
    numbers.discard("0.0")
    shown = [n for n in numbers if n in fac]
    assert len(shown) > 10  # the facilitator pack does show them
    assert [n for n in numbers if re.search(r"(?<![\d.,])" + re.escape(n) + r"(?![\d])", part)] == []
    assert "mg/L" not in part and " km" not in part and "T+" not in part
    for i in pack.injects:  # every inject is there, in the same order
        assert i.title.replace(">", "&gt;") in part


def test_same_inputs_give_byte_identical_files(packs):
    a, b = packs
    assert [p.name for p in a.files] == [p.name for p in b.files]
    for pa, pb in zip(a.files, b.files):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_evaluation_sheet_per_country_and_sop_step(packs):
    pack, _ = packs
    ev = _files(pack, "_evaluation.html").read_text(encoding="utf-8")
    for country in ("Kyrgyzstan", "Uzbekistan", "Tajikistan", "Kazakhstan"):
        assert f"<h2>{country}</h2>" in ev
    assert ev.count("<th>All-clear</th>") == 4


def test_start_time_is_parsed_or_refused():
    assert parse_start("2027-05-12 6:30") == dt.datetime(2027, 5, 12, 6, 30)
    assert clock_at(dt.datetime(2027, 5, 12, 6, 0), 25.51) == "2027-05-13 07:31"
    assert clock_at(dt.datetime(2027, 5, 12, 6, 0), float("nan")) == "unknown"
    for bad in ("12/05/2027", "2027-13-01 06:00", "tomorrow"):
        with pytest.raises(RiskmapInputError, match="--start"):
            parse_start(bad)


def test_cli_refuses_bad_start_and_site_of_other_basin(tmp_path):
    r = CliRunner().invoke(main, ["exercise", "syr_darya", "--site", MAILUU, "--start", "soon", "-o", str(tmp_path)])
    assert r.exit_code != 0 and "--start" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["exercise", "drina", "--site", MAILUU, "-o", str(tmp_path)])
    assert r.exit_code != 0 and "not 'drina'" in r.output
    assert not list(tmp_path.iterdir())
