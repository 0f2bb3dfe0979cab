"""The `riskmap assess` and `riskmap matrix` commands on the bundled basins."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from riskmap.cli import main
from riskmap.io import write_sites


@pytest.fixture(scope="module")
def sites_csv(tmp_path_factory, real_basin, make_sites):
    if any(real_basin(b) is None for b in ("drin", "drina", "syr_darya")):
        pytest.skip("reference hydrography (data/basins) not built")
    s = make_sites([(19.36, 43.36), (72.45, 41.26), (10.0, 10.0)], ["MNE", "KGZ", None])
    s["category"] = "mine"
    s["coord_precision"] = "approximate"
    s["source"] = "test"
    p = tmp_path_factory.mktemp("cli") / "sites.csv"
    write_sites(s, p)
    return p


def test_assess_writes_inventory_and_prints_matrix(sites_csv, tmp_path):
    out = tmp_path / "assessed.csv"
    res = CliRunner().invoke(main, ["assess", str(sites_csv), "-o", str(out), "--velocity", "2"])
    assert res.exit_code == 0, res.output
    assert "3 sites assessed" in res.output and "drina" in res.output and "syr_darya" in res.output
    t = pd.read_csv(out)
    assert list(t["basin"].fillna("-")) == ["drina", "syr_darya", "-"]
    ds = json.loads(t.loc[1, "downstream_countries"])
    assert "UZB" in ds and "KAZ" in ds
    assert t.loc[1, "travel_time_h"] == pytest.approx(t.loc[1, "first_border_river_km"] / 7.2)
    assert t.loc[2, "exposure_class"] == "outside"

    res = CliRunner().invoke(main, ["matrix", str(out), "--basin", "syr_darya", "-o", str(tmp_path / "m.csv")])
    assert res.exit_code == 0, res.output
    m = pd.read_csv(tmp_path / "m.csv")
    row = m[m.origin == "KGZ"].iloc[0]
    assert row["UZB"] == 1 and row["KAZ"] == 1 and row["sites"] == 1


def test_assess_bad_velocity(sites_csv, tmp_path):
    res = CliRunner().invoke(main, ["assess", str(sites_csv), "-o", str(tmp_path / "x.csv"), "--velocity", "0"])
    assert res.exit_code != 0


def test_weighted_matrix_all_missing_weights_stay_missing(drina_rows, tmp_path, rows_to_csv):
    import numpy as np

    from riskmap.exposure import assess, exposure_matrix
    from riskmap.io import read_sites

    header, rows = drina_rows
    a = assess(read_sites(rows_to_csv(tmp_path / "m.csv", header, rows)), ["drina"])
    counts = exposure_matrix(a)
    a["w"] = np.nan
    m = exposure_matrix(a, weight="w")
    assert list(m.index) == list(counts.index)
    # sites reach these countries but every weight is unknown: NaN, never 0
    for origin, row in counts.iterrows():
        for c in counts.columns:
            if c in ("sites", "transboundary") or row[c] > 0:
                assert np.isnan(m.loc[origin, c]), (origin, c, m.loc[origin, c])
            else:  # no site of the origin reaches c: a true 0
                assert m.loc[origin, c] == 0
    a["w"] = 2.0  # fully known weights: twice the counts
    assert (exposure_matrix(a, weight="w") == 2 * counts).all().all()


def _two_sites(tmp_path):
    p = tmp_path / "two.csv"
    p.write_text("site_id,name,category,lon,lat,source,coord_precision,owner,staff\n"
                 "a,Mine A,mine,19.3563,43.3563,survey,exact,Company,10\n"
                 "b,Mine B,mine,19.36,43.35,survey,exact,Other,\n", encoding="utf-8")
    return p


def test_matrix_weight_on_a_text_column_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["matrix", str(_two_sites(tmp_path)), "--weight", "owner"])
    assert r.exit_code == 2, r.output
    assert "--weight 'owner': the column holds text, not numbers (2 of 2 values, e.g. 'Company')" in r.output
    assert "nan" not in r.output


@pytest.mark.parametrize("weight,total", [("lat", "86.7"), ("LAT", "86.7"), ("Staff", "10")])
def test_matrix_weight_takes_the_files_real_column_names(tmp_path, weight, total):
    r = CliRunner().invoke(main, ["matrix", str(_two_sites(tmp_path)), "--weight", weight])
    assert r.exit_code == 0, r.output
    assert "no such column" not in r.output and total in r.output
