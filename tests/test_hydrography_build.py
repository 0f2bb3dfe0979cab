"""Rebuilding the reference hydrography from the sources is deterministic and matches data/basins."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from riskmap._paths import DATA_DIR

BASINS_DIR = DATA_DIR / "basins"


@pytest.mark.slow
def test_rebuild_matches_bundled_data(sources_dir, tmp_path):
    from riskmap.databuild.reference import build_reference

    if not (BASINS_DIR / "basins.json").is_file():
        pytest.skip("data/basins not built")
    out = tmp_path / "basins"
    meta = build_reference(sources_dir, out, date="2000-01-01T00:00:00Z", plots=False)
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
    from riskmap.databuild.reference.products import _build_date

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert _build_date(None) == "1970-01-01T00:00:00Z"
    assert _build_date("2026-01-01") == "2026-01-01"
