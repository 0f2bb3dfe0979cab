"""River-length bias correction (issue 15 item 4): measured factors, applied once on load, ranges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmap import river_length as rl
from riskmap._errors import RiskmapInputError
from riskmap.databuild import length_bias as lb
from riskmap.hydrography import load_basin


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return lb.measure()


def test_stored_factors_are_the_measured_ones(sample):
    """riskmap/params/river_length.toml is what the published sample gives on the bundled raw networks."""
    stored = rl.length_factors()
    for kind, v in lb.factors(sample).items():
        assert stored[kind]["factor"] == pytest.approx(v["factor"], abs=0.002)
        assert stored[kind]["low"] == pytest.approx(v["low"], abs=0.002)
        assert stored[kind]["high"] == pytest.approx(v["high"], abs=0.002)
        assert stored[kind]["n"] == v["n"]


def test_sample_has_citations_and_sensible_ratios(sample):
    assert sample["source"].str.len().min() > 20  # every row cites where its length comes from
    assert set(sample["kind"]) >= {"cartographic", "dem", "mixed"}
    # generalised 1:10m lines are short against published lengths; D8 paths on 15" cells are not
    carto = sample[(sample["kind"] == "cartographic") & sample["used"]]["ratio"]
    dem = sample[(sample["kind"] == "dem") & sample["used"]]["ratio"]
    assert (carto > 1.05).all() and len(carto) >= 3
    assert dem.between(0.95, 1.05).all() and len(dem) >= 2
    drina = sample.set_index("river").loc["Drina"]
    assert drina["published_km"] == 346 and 250 < drina["network_km"] < 346


def test_loaded_reaches_are_corrected_once():
    raw = lb.raw_reaches("drina")
    b = load_basin("drina")
    f = rl.length_factors()["cartographic"]["factor"]
    got = b.reaches.set_index("reach_id")["length_km"]
    want = raw.set_index("reach_id")["length_km"] * f
    assert np.allclose(got.loc[want.index], want)
    assert b.meta["river_length_correction"]["cartographic"] == f
    # the network (spill, paths) sees the same corrected lengths
    assert np.allclose(b.network.length_km, b.reaches["length_km"])


def test_mixed_network_corrected_per_reach():
    """The Syr Darya: DEM reaches get the DEM factor, the joined cartographic lower course its own."""
    raw = lb.raw_reaches("syr_darya").set_index("reach_id")
    r = load_basin("syr_darya").reaches.set_index("reach_id")
    f = rl.length_factors()
    ratio = r["length_km"] / raw.loc[r.index, "length_km"]
    kind = raw.loc[r.index, "kind"]
    assert np.allclose(ratio[kind == "dem"], f["dem"]["factor"])
    assert np.allclose(ratio[kind == "cartographic"], f["cartographic"]["factor"])
    # distances to the outlet stay consistent with the corrected lengths along every path
    down = r["downstream_id"]
    inner = down[down != -1]
    expect = r.loc[inner.to_numpy(), "dist_to_outlet_km"].to_numpy() + r.loc[inner.to_numpy(), "length_km"].to_numpy()
    assert np.allclose(r.loc[inner.index, "dist_to_outlet_km"].to_numpy(), expect, atol=0.05)


def test_assess_km_is_corrected_with_a_range(make_sites):
    from riskmap.exposure import assess

    raw = lb.raw_reaches("drin")
    b = load_basin("drin")
    out = assess(make_sites([(20.67894, 41.17787)], ["MKD"]), [b])  # Struga, on the Black Drin
    row = out.iloc[0]
    # the same route on the raw lines: the corrected km is the raw km times the cartographic factor
    rid = int(row["reach_id"])
    raw_dto = float(raw.set_index("reach_id").loc[rid, "dist_to_outlet_km"])
    cor_dto = float(b.reaches.set_index("reach_id").loc[rid, "dist_to_outlet_km"])
    assert cor_dto == pytest.approx(raw_dto * rl.length_factors()["cartographic"]["factor"], rel=1e-6)
    f = rl.length_factors()["cartographic"]
    assert row["first_border_river_km_low"] < row["first_border_river_km"] < row["first_border_river_km_high"]
    assert row["first_border_river_km_high"] / row["first_border_river_km"] == pytest.approx(
        max(f["high"] / f["factor"], 1 + rl.MIN_RELATIVE_SPREAD))
    # never narrower than +/- MIN_RELATIVE_SPREAD: two or three rivers do not measure a stretch's error
    assert row["first_border_river_km_low"] / row["first_border_river_km"] == pytest.approx(
        min(f["low"] / f["factor"], 1 - rl.MIN_RELATIVE_SPREAD))
    assert row["travel_time_h"] > 0


def test_km_range_lower_bound_has_no_high_end():
    f = {"dem": {"factor": 1.0, "low": 0.98, "high": 1.0}, "cartographic": {"factor": 1.12, "low": 1.11, "high": 1.23}}
    lo, hi = rl.km_range(np.array([10.0, 10.0]), np.array([False, False]), np.array([False, True]), f)
    assert np.isnan(hi[1]) and hi[0] > 10.0 > lo[0]
    assert lo[0] == pytest.approx(9.0) and hi[0] == pytest.approx(11.0)  # the +/-10 % floor (1.23 / 1.12 < 1.1)
    lo, hi = rl.km_range(np.array([10.0]), np.array([False]), np.array([False]),
                         {**f, "cartographic": {"factor": 1.0, "low": 1.0, "high": 1.3}})
    assert hi[0] == pytest.approx(13.0)  # a wider measured spread is kept


def test_bad_factor_file_is_a_clear_error(tmp_path):
    p = tmp_path / "river_length.toml"
    p.write_text("[cartographic]\nfactor = 1.1\nlow = 1.2\nhigh = 1.3\n[dem]\nfactor = 1\nlow = 1\nhigh = 1\n")
    with pytest.raises(RiskmapInputError, match=r"river_length.toml: \[cartographic\] needs 0.5 < low <= factor"):
        rl.length_factors(p)
    p.write_text("[dem]\nfactor = 1\nlow = 1\nhigh = 1\n")
    with pytest.raises(RiskmapInputError, match="no \\[cartographic\\] table"):
        rl.length_factors(p)
