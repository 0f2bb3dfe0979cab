"""Rebuilding the reference hydrography from the sources is deterministic and matches data/basins."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from riskmap import DATA_DIR

BASINS_DIR = DATA_DIR / "basins"


@pytest.mark.slow
def test_rebuild_matches_bundled_data(sources_dir, tmp_path):
    """`riskmap data build-reference`: the cartographic reference, then the Syr Darya from the GEBCO DEM."""
    import numpy as np

    from riskmap.databuild.dem import build_bundled

    if not (BASINS_DIR / "basins.json").is_file():
        pytest.skip("data/basins not built")
    out = tmp_path / "basins"
    meta = build_bundled(sources_dir, out, date="2000-01-01T00:00:00Z", plots=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["basins"]  # the temporary reference is gone
    assert meta["syr_darya"]["source"]["joined_downstream"]["basin"] == "syr_darya"
    with np.load(out / "syr_darya.flowdir.npz") as new, np.load(BASINS_DIR / "syr_darya.flowdir.npz") as old:
        assert all(np.array_equal(new[k], old[k]) for k in old.files)
    bundled = json.loads((BASINS_DIR / "basins.json").read_text())
    assert meta == {k: bundled[k] for k in meta}
    assert (out / "basins.json").read_text() == (BASINS_DIR / "basins.json").read_text()
    for b in ("drin", "drina", "syr_darya"):
        for layer in ("reaches", "sub_basins", "outline", "towns", "lakes"):
            new = gpd.read_file(out / f"{b}.gpkg", layer=layer)
            old = gpd.read_file(BASINS_DIR / f"{b}.gpkg", layer=layer)
            assert new.equals(old), f"{b}/{layer} differs from the bundled data"
    prov = json.loads((out / "PROVENANCE.json").read_text())
    assert prov["build_date"] == "2000-01-01T00:00:00Z"


def test_build_date_from_source_date_epoch(monkeypatch):
    from riskmap.databuild.reference import build_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert build_date(None) == "1970-01-01T00:00:00Z"
    assert build_date("2026-01-01") == "2026-01-01"


def test_synthetic_dams_rule():
    """The dam rule keeps operating, exact, >= 50 MW plants near a reach, one row per location."""
    import pandas as pd

    from riskmap.databuild.reference import ghpt_dams

    reaches = gpd.GeoDataFrame({"reach_id": [1, 2], "name": ["A", None]},
                               geometry=[shapely.LineString([(20.0, 42.0), (20.1, 42.0)]),
                                         shapely.LineString([(21.0, 42.0), (21.1, 42.0)])], crs=4326)
    rows = [  # name, cap, status, acc, lon, lat, river
        ("Near hydroelectric plant", 100, "operating", "exact", 20.05, 42.01, None),
        ("Near Pumped Storage hydroelectric plant", 500, "operating", "exact", 20.05, 42.01, None),
        ("Small hydroelectric plant", 20, "operating", "exact", 21.05, 42.0, "X River"),
        ("Planned hydroelectric plant", 300, "announced", "exact", 21.05, 42.0, None),
        ("Vague hydroelectric plant", 300, "operating", "approximate", 21.05, 42.0, None),
        ("Far hydroelectric plant", 300, "operating", "exact", 21.05, 42.2, None),
    ]
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as t:
        src = Path(t)
        (src / "gem-trackers").mkdir()
        pd.DataFrame({"project_name": [r[0] for r in rows], "capacity_(mw)": [r[1] for r in rows],
                      "status": [r[2] for r in rows], "location_accuracy": [r[3] for r in rows],
                      "lng": [r[4] for r in rows], "lat": [r[5] for r in rows],
                      "river_/_watercourse": [r[6] for r in rows]}).to_csv(
            src / "gem-trackers" / "hydropower_ghpt_2024-05_aoi.csv", index=False)
        from riskmap._geo import aeqd_for_bounds

        d = ghpt_dams(src, reaches, aeqd_for_bounds((19.5, 41.5, 21.5, 42.5)))
    assert list(d["name"]) == ["Near"]
    assert d["capacity_mw"].iloc[0] == 600.0 and d["reach_id"].iloc[0] == 1 and d["river"].iloc[0] == "A"


def test_a_bad_source_date_epoch_is_a_clear_error_before_the_build(monkeypatch, tmp_path):
    from riskmap._errors import RiskmapInputError
    from riskmap.databuild.reference import build_date, build_reference

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert build_date(None) == "2026-01-01T00:00:00Z"
    for bad in ("yesterday", "1.5e9", "9" * 30):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", bad)
        with pytest.raises(RiskmapInputError, match="SOURCE_DATE_EPOCH=.*not a whole number of seconds"):
            build_date(None)
    with pytest.raises(RiskmapInputError, match="SOURCE_DATE_EPOCH"):
        build_reference(tmp_path / "no sources", tmp_path / "out")
    assert not (tmp_path / "out").exists()  # refused before anything was made
