"""Accuracy of basin, downstream countries and river km on real places (tests/geo_places.csv).

Each place gets up to three checks (basin, order of foreign countries downstream, river km to the
first border within a plausible range). Known failures of today's bundled data are listed in the
CSV (``xfail_basin``, ``xfail_order``, ``xfail_km``) and marked ``xfail(strict=True)``: when a
hydrography fix makes a place right, its test XPASSes, which fails the suite until the cell is
cleared. Run ``python tests/test_geography_places.py`` (or ``benchmarks/geo_accuracy.py``) for the
summary figures.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
import pytest

from fixtures import places as G

PLACES = G.load_places()
VALID_BASINS = set(G.BASINS) | {"outside"}


def _params(check: str) -> list:
    out = []
    for i, row in PLACES.iterrows():
        if check == "order" and G.expected_order(row["expected_downstream"]) is None:
            continue
        if check == "km" and not (pd.notna(row["km_min"]) and pd.notna(row["km_max"])):
            continue
        reason = str(row[f"xfail_{check}"]).strip()
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(i, id=f"{row['name']}-{row['source_id']}", marks=marks))
    return out


@pytest.fixture(scope="module")
def result():
    basins = G.load_bundled()
    if basins is None:
        pytest.skip("reference hydrography (data/basins) not built")
    return G.run(PLACES, basins)


# ---- the table itself -------------------------------------------------------


def test_table_is_well_formed():
    assert len(PLACES) >= 60
    assert set(PLACES["expected_basin"]) <= VALID_BASINS
    assert not PLACES.duplicated(["source", "source_id"]).any()
    for b in G.BASINS:  # every basin has places inside and places just outside its divide
        assert (PLACES["expected_basin"] == b).sum() >= 15, b
    assert (PLACES["expected_basin"] == "outside").sum() >= 20
    assert set(PLACES["source"]) <= {"geonames", "sites"}
    assert PLACES["basis"].str.len().gt(10).all()
    ranged = PLACES[["km_min", "km_max"]].dropna()
    assert len(ranged) >= 15 and (ranged["km_min"] < ranged["km_max"]).all() and (ranged["km_min"] >= 0).all()
    outside = PLACES["expected_basin"] == "outside"
    assert (PLACES.loc[outside, "expected_downstream"] == "").all()
    assert PLACES.loc[outside, "km_min"].isna().all()
    for cell in PLACES["expected_downstream"]:
        e = G.expected_order(cell)
        assert e is None or all(len(c) == 3 and c.isupper() for c in e), cell


def test_coordinates_are_copied_from_their_source(sources_dir):
    """No invented coordinates: every place matches its GeoNames record or inventory site exactly."""
    import riskmap

    gn_path = sources_dir / G.GEONAMES_REL
    with open(gn_path, encoding="utf-8", newline="") as fh:
        gn = {r["geonameid"]: r for r in csv.DictReader(fh)}
    inv = riskmap.read_sites(riskmap.DATA_DIR / "sites" / "sites.csv").set_index("site_id")
    iso = {"AL": "ALB", "MK": "MKD", "ME": "MNE", "XK": "XKX", "RS": "SRB", "BA": "BIH",
           "KG": "KGZ", "UZ": "UZB", "TJ": "TJK", "KZ": "KAZ"}
    for _, p in PLACES.iterrows():
        if p["source"] == "geonames":
            r = gn[p["source_id"]]
            assert (r["name"], float(r["longitude"]), float(r["latitude"]), iso[r["countrycode"]]) == \
                (p["name"], p["lon"], p["lat"], p["country"]), p["name"]
            assert p["coord_precision"] == "town"
        else:
            s = inv.loc[p["source_id"]]
            pt = s.geometry.representative_point() if s.geometry.geom_type != "Point" else s.geometry
            assert (s["name"], s["country"], s["coord_precision"]) == (p["name"], p["country"], p["coord_precision"])
            assert pt.x == pytest.approx(p["lon"], abs=1e-9) and pt.y == pytest.approx(p["lat"], abs=1e-9)


def test_foreign_order_rule():
    assert G.foreign_order(["BIH|MNE", "BIH", "BIH|SRB"], "MNE") == ["BIH", "SRB"]
    assert G.foreign_order(["UZB", "KGZ|UZB", "UZB", "TJK|UZB", "TJK", "KAZ|UZB", "KAZ"], "KGZ") == \
        ["UZB", "TJK", "KAZ"]
    assert G.foreign_order([], "KAZ") == [] and G.foreign_order(float("nan"), "KAZ") == []
    assert G.expected_order("") is None and G.expected_order("none") == []
    assert G.expected_order("UZB>TJK>KAZ") == ["UZB", "TJK", "KAZ"]


# ---- the checks on the bundled data ------------------------------------------


@pytest.mark.parametrize("i", _params("basin"))
def test_basin(result, i):
    r = result.loc[i]
    assert r["got_basin"] == r["expected_basin"], (r["name"], r["got_basin"])


@pytest.mark.parametrize("i", _params("order"))
def test_downstream_order(result, i):
    r = result.loc[i]
    assert r["got_basin"] == r["expected_basin"], (r["name"], "basin", r["got_basin"])
    assert r["got_order"] == (r["expected_downstream"] or "none"), (r["name"], r["got_order"])


@pytest.mark.parametrize("i", _params("km"))
def test_river_km_in_range(result, i):
    r = result.loc[i]
    assert r["got_basin"] == r["expected_basin"], (r["name"], "basin", r["got_basin"])
    assert r["km_min"] <= r["got_km"] <= r["km_max"], (r["name"], r["got_km"], r["river_km_basis"])


# ---- whole-basin checks -----------------------------------------------------


@pytest.fixture(scope="module")
def basins():
    b = G.load_bundled()
    if b is None:
        pytest.skip("reference hydrography (data/basins) not built")
    return b


@pytest.mark.parametrize("bid", [
    "drin",
    "drina",  # 20,298 km2 since the Jadar line and the Sava-side lowland lines (2026-11-29); 20,314 before
    "syr_darya",
])
def test_outline_area_within_published_range(basins, bid):
    a = G.outline_areas(basins).set_index("basin").loc[bid]
    assert a["within"], a.to_dict()


def test_outline_areas_near_published(basins):
    a = G.outline_areas(basins).set_index("basin")
    for bid, (lo, hi) in G.PUBLISHED_AREA_KM2.items():
        assert 0.95 * lo <= a.loc[bid, "area_km2"] <= 1.05 * hi, (bid, a.loc[bid].to_dict())


def test_outlines_against_tfdd(basins, sources_dir):
    """Validation only: TFDD is a coarse, web-simplified outline, so only gross agreement is asserted."""
    t = G.tfdd_overlap(basins, sources_dir).set_index("basin")
    assert t.loc["drin", "share_inside"] >= 0.7 and t.loc["drin", "iou"] >= 0.6, t.loc["drin"].to_dict()
    assert t.loc["drina", "share_inside"] >= 0.85 and t.loc["drina", "iou"] < 0.15, t.loc["drina"].to_dict()
    assert t.loc["syr_darya", "share_inside"] >= 0.9, t.loc["syr_darya"].to_dict()
    # the Syr Darya outline reaches little into TFDD's Chu and Talas (2.0 % on 2026-11-27; TFDD is coarse)
    assert t.loc["syr_darya", "share_in_neighbours"] < 0.03, t.loc["syr_darya"].to_dict()


def _summary(argv: list[str]) -> None:
    """Print the accuracy figures (the issue's targets) and the failing places.

    ``--json PATH`` also writes them as JSON (for before/after comparisons).
    """
    import json
    import math
    import os
    import tempfile

    basins = G.load_bundled()
    res = G.run(PLACES, basins)
    f = G.figures(res)
    by = G.figures_by_basin(res)
    print(f"places: {len(res)} (drin {sum(PLACES.expected_basin == 'drin')}, drina "
          f"{sum(PLACES.expected_basin == 'drina')}, syr_darya {sum(PLACES.expected_basin == 'syr_darya')}, "
          f"outside {sum(PLACES.expected_basin == 'outside')})")
    print(f"basin membership right: {f['basin_right_pct']:.1f} % of {f['basin_n']:.0f}   (target >= 97 %)")
    print(f"downstream order right: {f['order_right_pct']:.1f} % of {f['order_n']:.0f}   (target 100 %)")
    print(f"river km within range:  {f['km_right_pct']:.1f} % of {f['km_n']:.0f}   (target >= 85 %)")
    print(f"median |error| vs range midpoint: {f['km_median_err_pct']:.1f} %  (signed median "
          f"{f['km_median_signed_err_pct']:+.1f} %; target <= 10 %)")
    right_in = res[(res.expected_basin != "outside") & res.ok_basin.fillna(False).astype(bool)]
    buffered = right_in[~right_in.got_in_basin.astype(bool)]
    print(f"in the right basin only through the divide buffer (in_basin False): {len(buffered)} of "
          f"{len(right_in)}: {', '.join(buffered['name'])}")
    areas = G.outline_areas(basins)
    t = G.tfdd_overlap(basins)
    fails = G.failures(res)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60, "display.max_rows", 500):
        print("\nby expected basin:")
        print(by.round(1).to_string())
        print("\nbasin areas (km2):")
        print(areas.round(0).to_string(index=False))
        if t is not None:
            print("\nTFDD overlap (validation only):")
            print(t.round(3).to_string(index=False))
    print("\nfailing checks:")
    for x in fails:
        print(f"  {x['check']:5s} {x['name']:<28s} expected {x['expected']:<14s} got {x['got']}")
    if len(argv) >= 2 and argv[0] == "--json":
        def clean(o):
            if isinstance(o, dict):
                return {k: clean(v) for k, v in o.items()}
            if isinstance(o, list):
                return [clean(v) for v in o]
            return None if (o is pd.NA or (isinstance(o, float) and math.isnan(o))) else o

        doc = {"overall": f, "by_basin": by.to_dict(orient="index"), "areas": areas.to_dict(orient="records"),
               "tfdd": None if t is None else t.to_dict(orient="records"), "failures": fails}
        target = Path(argv[1])
        fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(clean(doc), fh, indent=1, allow_nan=False, default=str)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


if __name__ == "__main__":
    _summary(sys.argv[1:])
