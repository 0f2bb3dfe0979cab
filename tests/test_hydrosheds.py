"""riskmap.databuild.hydrosheds on small synthetic HydroBASINS / HydroRIVERS shapefiles."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from riskmap import RiskmapInputError
from riskmap.hydrography import load_basin
from riskmap.databuild.hydrosheds import import_hydrosheds


def test_import_builds_contract_layers(hydrosheds):
    bp, rp, out = hydrosheds
    path = import_hydrosheds(bp, rp, outlet=(0.75, 0.04), name="synthetic", out_dir=out)
    assert path == out / "synthetic.gpkg"
    from riskmap.hydrography import list_basins

    assert list_basins(out) == ["synthetic"]
    b = load_basin("synthetic", data_dir=out)
    # outline = cells 1-4 (not 5)
    o = b.outline.geometry.iloc[0]
    assert o.area == pytest.approx(1.0, rel=1e-6)
    assert not o.contains(shapely.Point(0.25, 0.25))
    assert 12000 < b.outline["area_km2"].iloc[0] < 12500
    # sub-basins from the Pfafstetter digit below the shared prefix "221"
    assert sorted(b.sub_basins["sub_basin"]) == ["PFAF 2211", "PFAF 2212", "PFAF 2213"]
    assert b.sub_basins["area_km2"].sum() == pytest.approx(b.outline["area_km2"].iloc[0], rel=1e-6)
    r = b.reaches.set_index("reach_id")
    assert sorted(r.index) == [10, 20, 30, 40, 60]
    assert r.loc[10, "downstream_id"] == -1 and r.loc[40, "downstream_id"] == 30
    # flipped to flow direction: first vertex upstream
    assert r.loc[20].geometry.coords[0][1] == pytest.approx(0.95)
    assert r.loc[10, "dist_to_outlet_km"] == 0
    assert r.loc[20, "dist_to_outlet_km"] == pytest.approx(r.loc[10, "length_km"], abs=1e-3)
    assert r.loc[40, "dist_to_outlet_km"] == pytest.approx(r.loc[10, "length_km"] + r.loc[30, "length_km"], abs=1e-3)
    assert r.loc[10, "length_km"] == pytest.approx(44.3, abs=0.5)  # geodesic, 0.4 deg of latitude
    assert r.loc[10, "country"] == "AAA" and r.loc[30, "country"] == "BBB"
    assert r.loc[60, "country"] == "AAA|BBB" and bool(r.loc[60, "is_border"])
    assert r.loc[30, "discharge_m3s"] == 15.0
    assert r.loc[10, "order"] == 2 and r.loc[20, "order"] == 1
    assert b.downstream_countries(60) == ["AAA|BBB", "BBB", "AAA"]
    assert set(b.countries["iso3"]) == {"AAA", "BBB"}
    meta = json.loads((out / "basins.json").read_text())
    assert meta["synthetic"]["riparian"] == ["AAA", "BBB"]
    t = b.reach_table()
    assert t.loc[40, "km_to_border"] != 0 and t.loc[60, "km_to_border"] == 0
    assert t.loc[30, "discharge_m3s"] == 15.0


def test_missing_column_names_file_and_column(hydrosheds, tmp_path):
    bp, rp, out = hydrosheds
    r = gpd.read_file(rp).drop(columns=["NEXT_DOWN"])
    bad = tmp_path / "bad_rivers.shp"
    r.to_file(bad)
    with pytest.raises(RiskmapInputError, match=r"bad_rivers\.shp.*NEXT_DOWN"):
        import_hydrosheds(bp, bad, outlet=(0.75, 0.04), name="x", out_dir=out)


def test_outlet_far_away(hydrosheds):
    bp, rp, out = hydrosheds
    with pytest.raises(RiskmapInputError, match="outlet"):
        import_hydrosheds(bp, rp, outlet=(10.0, 10.0), name="x", out_dir=out)


def test_cli_import(hydrosheds):
    from riskmap.cli import main

    bp, rp, out = hydrosheds
    res = CliRunner().invoke(main, ["data", "import-hydrosheds", "--basins", str(bp), "--rivers", str(rp),
                                    "--outlet", "0.75,0.04", "--name", "cli_basin", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "cli_basin.gpkg").is_file()
    res = CliRunner().invoke(main, ["data", "import-hydrosheds", "--basins", str(bp), "--rivers", str(rp),
                                    "--outlet", "nonsense", "--name", "y", "--out", str(out)])
    assert res.exit_code != 0 and "LON,LAT" in res.output
    assert np.isfinite(load_basin("cli_basin", data_dir=out).reaches["length_km"]).all()
