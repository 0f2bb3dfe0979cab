"""The spill model split by job (issue 14): public names, the routed dataclass, the API the CLI calls."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import riskmap
from riskmap import spill
from riskmap._errors import RiskmapInputError
from riskmap.i18n import use_lang
from test_spill import _lake_net, _table, _two_reach

_PKG = Path(riskmap.__file__).resolve().parent
_BASINS = riskmap.DATA_DIR / "basins"
_LAKE = {"name": "Testo", "aliases": ["Lake Testo"], "volume_m3": 1e8, "citation": "synthetic"}


# ------------------------------------------------------------------ public names


@pytest.mark.parametrize("module, names", [
    ("spill_release", ["locate_release", "resolve_site", "find_basin", "_aeqd"]),
    ("spill_checkpoints", ["checkpoint_label", "TOWN_BUFFER_KM", "TOWN_CHECKPOINT_MIN_POP"]),
    ("spill_routing", ["LAKE_PLUG_FRACTION"]),
    ("spill_path", ["DISCHARGE_UNCERTAINTY", "QREL_RANGE"]),
    ("spill_table", ["MIN_MIXED_TP_H"]),
    ("spill_result", ["SpillResult", "SpillOptions", "CHECKPOINT_COLUMNS"]),
    ("spill_output", ["write_result", "scenario_sidecar", "write_batch_summary"]),
])
def test_moved_names_stay_importable_from_riskmap_spill(module, names):
    import importlib

    mod = importlib.import_module(f"riskmap.{module}")
    for name in names:
        assert getattr(spill, name) is getattr(mod, name), name


def test_every_public_name_of_spill_resolves():
    missing = [n for n in spill.__all__ if not hasattr(spill, n)]
    assert missing == []
    assert riskmap.simulate_spill is spill.simulate_spill and riskmap.SpillResult is spill.SpillResult


def _function_sizes(path: Path) -> list[tuple[str, int, int]]:
    """(name, code lines without the docstring, parameter count) of every function in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            doc = isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
            start = body[1].lineno if doc and len(body) > 1 else body[0].lineno
            a = node.args
            n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + bool(a.vararg) + bool(a.kwarg)
            out.append((node.name, node.end_lineno - start + 1, n))
    return out


@pytest.mark.parametrize("name", ["spill.py", "spill_release.py", "spill_path.py", "spill_checkpoints.py",
                                  "spill_routing.py", "spill_table.py", "spill_assumptions.py",
                                  "spill_result.py", "spill_output.py", "discharge.py", "transport.py"])
def test_spill_modules_read_on_one_screen(name):
    """Issue 14: no module over about 600 lines, no function over 60 lines of code or 8 parameters."""
    path = _PKG / name
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 620
    too_big = [(f, lines, n) for f, lines, n in _function_sizes(path) if lines > 60 or n > 8]
    assert too_big == []


# ------------------------------------------------------------------ routing returns data


def _lake_run(mass: float = 1000.0, lakes=(_LAKE,), **kw) -> pd.DataFrame:
    """Checkpoints of a release on reach 10 of the lake network, with a town inside Lake Testo (km 16-24)."""
    import geopandas as gpd
    import shapely

    towns = gpd.GeoDataFrame({"name": ["Mid"], "population": [50_000], "country": ["ALB"]},
                             geometry=[shapely.Point(19.25, 44.0)], crs=4326)
    res = spill.simulate_spill(10, mass, reaches=_lake_net(), towns=towns, discharge=_table(lakes=list(lakes)), **kw)
    return res.checkpoints.set_index("checkpoint")


def test_lakes_and_notes_reach_the_checkpoints():
    t = _lake_run()
    above, inside, below = t.loc["border MNE -> ALB|MNE"], t.loc["Mid"], t.loc["outlet"]
    assert above["river_km"] == 16.0 and inside["river_km"] == 20.0
    assert above["note"] == ""  # in the river above the lake: no lake, no note
    # river only, instantaneous: Jobson's closed form (Q/Qa = 1), not the numerical signal
    closed = 857 * above["peak_time_h"] ** -0.76 * 1000 / (1e6 * above["discharge_m3s"]) * 1e3
    assert above["peak_mg_l"] == pytest.approx(closed, rel=1e-9)
    lake = "Lake Testo: 1e+08 m3 (user table), residence 30.9 d, plug-flow delay 3.09 d then mixed"
    assert below["note"] == f"after lake(s) {lake}"
    assert inside["note"] == f"after lake(s) {lake}; inside Lake Testo: outflow concentration of the mixed lake"
    # mixed in the lake: peak outflow ~ M / (0.9 V), the same at every checkpoint at its outlet
    mixed = 1000 / (0.9 * 1e8) * 1e3
    for cp in ("Mid", "Lake Testo (outflow)", "border ALB|MNE -> ALB"):
        assert t.loc[cp, "peak_mg_l"] == pytest.approx(mixed, rel=0.01), cp
    # the lake's transit is kept per kg: below it the peaks scale with the mass
    again = _lake_run(2000.0)
    assert np.allclose(again["peak_mg_l"].to_numpy(), 2 * t["peak_mg_l"].to_numpy(), rtol=1e-9)


def test_unknown_lake_note_and_stop_reason_are_data():
    t = _lake_run(lakes=())
    assert "after lake(s)" not in t.loc["outlet", "note"] and np.isfinite(t.loc["outlet", "peak_mg_l"])
    assert t.loc["outlet", "note"].startswith("Lake Testo: no cited volume, routed as river")
    stopped = _lake_run(lakes=(), on_unknown_lake="stop")
    assert stopped.loc["border MNE -> ALB|MNE", "note"] == "" and np.isfinite(stopped["peak_mg_l"].iloc[0])
    for cp in ("Lake Testo (outflow)", "outlet"):
        assert stopped.loc[cp, "note"].startswith("path crosses Lake Testo, whose volume is not in the discharge")
        assert np.isnan(stopped.loc[cp, "peak_mg_l"])


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_mixed_lake_checkpoint_within_an_hour_is_reported_in_every_language(lang):
    """A checkpoint reached within 1 h, but through a mixed lake, keeps its peak in every language.

    The old code decided this by searching the note text for "lake", which the
    Russian note does not contain.
    """
    small = dict(_LAKE, volume_m3=5e4)  # residence 0.37 h at the lake's 37.5 m3/s
    with use_lang(lang):
        res = spill.simulate_spill(11, 1000, reaches=_lake_net(), discharge=_table(lakes=[small]))
    lk = res.checkpoints.set_index("checkpoint").loc["Lake Testo (outflow)"]
    assert lk["peak_time_h"] < 1.0
    assert np.isfinite(lk["peak_mg_l"]) and "not yet mixed" not in lk["note"]


def test_river_checkpoint_within_an_hour_is_flagged():
    res = spill.simulate_spill(2, 1000, reaches=_two_reach(l2=1.0), discharge=_table())
    out = res.checkpoints.set_index("checkpoint").loc["outlet"]
    assert out["peak_time_h"] < 1.0 and np.isnan(out["peak_mg_l"]) and "not yet mixed" in out["note"]
    assert out["note"].startswith("within the mixing zone (")


def test_mixing_zone_note_gives_the_fully_mixed_value(monkeypatch):
    """The note of a checkpoint in the mixing zone states the value the model gives when fully mixed."""
    import riskmap.spill_table as st

    res = spill.simulate_spill(2, 1000, reaches=_two_reach(l2=1.0), discharge=_table())
    note = res.checkpoints.set_index("checkpoint").loc["outlet", "note"]
    assert st.in_mixing_zone(0.5) and not st.in_mixing_zone(1.0) and not st.in_mixing_zone(np.nan)
    monkeypatch.setattr(st, "MIN_MIXED_TP_H", 0.0)  # no mixing zone: the model's cross-section peak
    mixed = spill.simulate_spill(2, 1000, reaches=_two_reach(l2=1.0), discharge=_table())
    peak = float(mixed.checkpoints.set_index("checkpoint").loc["outlet", "peak_mg_l"])
    assert np.isfinite(peak) and peak > 0
    assert f"fully mixed it would be {peak:.3g} mg/L" in note


@pytest.mark.parametrize("lang, label", [("en", "mixing zone"), ("ru", "зона смешения")])
def test_cli_table_says_mixing_zone_instead_of_a_dash(lang, label):
    """The checkpoint table states why a checkpoint ~1 km below the release has no peak (was '- (---)')."""
    from rich.console import Console

    from riskmap.cli.spill_commands import result_table

    with use_lang(lang):
        res = spill.simulate_spill(2, 1000, reaches=_two_reach(l2=1.0), discharge=_table())
        con = Console(width=400, record=True)
        con.print(result_table(res))
        text = con.export_text()
    row = next(line for line in text.splitlines() if line.startswith("│ outlet"))
    assert row.count(label) == 2 and "(---)" not in row
    far = spill.simulate_spill(2, 1000, reaches=_two_reach(l2=30.0), discharge=_table())
    con = Console(width=400, record=True)
    con.print(result_table(far))
    row = next(line for line in con.export_text().splitlines() if line.startswith("│ outlet"))
    assert "mixing zone" not in row and np.isfinite(far.checkpoints["peak_mg_l"].iloc[-1])


# ------------------------------------------------------------------ the API the CLI calls


def test_notes_are_distinct_with_their_first_checkpoint():
    res = spill.simulate_spill(10, 1000, reaches=_lake_net(), discharge=_table(lakes=[_LAKE]))
    notes = res.notes()
    texts = [n for _cp, n in notes]
    assert len(texts) == len(set(texts)) and texts
    table_notes = [n for n in res.checkpoints["note"] if n]
    assert set(texts) == set(table_notes)
    for cp, n in notes:
        assert res.checkpoints.loc[res.checkpoints["note"] == n, "checkpoint"].iloc[0] == cp


def test_simulate_site_is_locate_then_simulate():
    if not (_BASINS / "drina.gpkg").exists():
        pytest.skip("data/basins not built")
    sid = "lit-stolice-antimony-mine-tailings-kostajnik-krupanj"
    res = spill.simulate_site(sid, "10t", model="jobson-max", threshold_mg_l=0.1)
    site, basin = spill.locate_release(sid)
    ref = spill.simulate_spill(site, "10t", basin=basin, model="jobson-max", threshold_mg_l=0.1)
    pd.testing.assert_frame_equal(res.table(), ref.table())
    assert res.params["basin"] == basin == "drina"


def test_simulate_site_refuses_unknown_site():
    with pytest.raises(RiskmapInputError, match="not found in the inventory"):
        spill.simulate_site("no-such-site", "10t")


def test_write_batch_summary_neutralises_and_refuses_other_types(tmp_path: Path):
    """Text cells are neutralised also in pandas 3's string columns (the old CLI looked at object columns only)."""
    summary = pd.DataFrame({"site_id": ["a"], "name": ["=HYPERLINK(\"x\")"], "first_border_km": [12.5],
                            "error": [None]})
    out = spill.write_batch_summary(summary, tmp_path / "b.csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["site_id", "name", "first_border_km", "error"]
    assert rows[1][1] == "'=HYPERLINK(\"x\")" and rows[1][2] == "12.5"
    assert [p.name for p in tmp_path.iterdir()] == ["b.csv"]  # no temporary file left
    with pytest.raises(RiskmapInputError, match=r"\.csv"):
        spill.write_batch_summary(summary, tmp_path / "b.html")


def test_a_peak_beyond_dilution_is_flagged_not_hidden():
    """1,000 t into a creek of about half a cubic metre a second is not a dissolved trace (Bozymchak, real data):
    the model's peak stays in the table, the note says it is beyond a dilution model; 1 t is not flagged."""
    import riskmap.spill_table as st

    big = spill.simulate_spill("fineprint-bozymchak", 1_000_000).checkpoints
    small = spill.simulate_spill("fineprint-bozymchak", 1_000).checkpoints
    first = big.index[big["kind"] == "border"][0]
    assert big.loc[first, "peak_mg_l"] > st.MAX_DILUTE_MG_L
    assert "which a dilution model does not describe" in big.loc[first, "note"]
    assert f"peak {big.loc[first, 'peak_mg_l']:.3g} mg/L" in big.loc[first, "note"]
    assert small.loc[first, "peak_mg_l"] < st.MAX_DILUTE_MG_L
    assert not small["note"].str.contains("dilution model", regex=False).any()
