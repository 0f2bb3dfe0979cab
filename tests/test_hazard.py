"""Hazard indices: worked examples of docs/hazard.md, parameters, missing data, monotonicity."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmap import RiskmapInputError
from riskmap.hazard import (DEFAULT_LABEL, HAZARD_COLUMNS, load_params, rank, score, thi, tri, wri)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "hazard.md"
NO_LAYERS: dict = {}  # score(..., natech=NO_LAYERS): no Natech layers at all


def _site(**kw) -> dict:
    base = {
        "site_id": "s1", "name": "Site", "category": "tailings_metal", "status": "closed",
        "country": "BIH", "coord_precision": "exact", "source": "test", "substances": None,
        "tailings_volume_m3": np.nan, "tailings_type": None, "dam_condition": None,
        "basin": "drina", "downstream_countries": ["BIH", "BIH|SRB", "SRB"],
        "transboundary_downstream": True, "first_border_river_km": 8.0, "travel_time_h": 3.0,
        "on_border_water": False, "natech_seismic": np.nan, "natech_flood": np.nan,
        "lon": 19.3, "lat": 43.5,
    }
    base.update(kw)
    return base


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows)
    geom = shapely.points(df.pop("lon").to_numpy(), df.pop("lat").to_numpy())
    return gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")


T1 = dict(tailings_volume_m3=2.5e6, tailings_type="Pb-Zn flotation", dam_condition="poor",
          natech_seismic=2.0, natech_flood=3.0)


def _natech_ready(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pass the frame's own natech classes through score()."""
    return frame[["natech_seismic", "natech_flood"]].copy()


# ---------------------------------------------------------------- parameters


def test_default_params_label_and_values():
    p = load_params()
    assert p["label"] == DEFAULT_LABEL
    assert "not official" in p["label"]
    assert p["wri"]["weights"] == {"1": 1.0, "2": 10.0, "3": 100.0, "unknown": 100.0}
    assert p["wri"]["quantity_unit"] == "kg"
    assert p["thi"]["management"]["unknown"] == p["thi"]["management"]["poor"]
    assert p["priority"]["hazard_weight"] + p["priority"]["exposure_weight"] == pytest.approx(1.0)


def test_docs_mention_every_default_section():
    text = DOCS.read_text(encoding="utf-8")
    for key in ("quantity_unit", "allow_partial", "capacity_min_m3", "category_proxy",
                "site_buffer_km", "toxicity_keywords", "_replace"):
        assert key in text, key
    assert "not official" in text.lower() or "not the official" in text.lower()


def test_user_params_change_results(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('label = "test table"\n[wri.weights]\n"3" = 1000.0\nunknown = 1000.0\n'
                 '[thi.management]\npoor = 3.0\n', encoding="utf-8")
    subs = json.dumps([{"name": "NaCN", "quantity_t": 10, "wgk": 3}])
    assert wri([subs])["wri"].iloc[0] == pytest.approx(6.0)
    assert wri([subs], params=f)["wri"].iloc[0] == pytest.approx(7.0)
    s = _frame([_site(**T1)])
    d = score(s, natech=_natech_ready(s))
    u = score(s, natech=_natech_ready(s), params=f)
    assert u["thi"].iloc[0] == pytest.approx(d["thi"].iloc[0] + 1.0)
    assert u["params_label"].iloc[0] == "test table"
    assert d["params_label"].iloc[0] == DEFAULT_LABEL


def test_user_params_without_label_say_so(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text("[priority]\nhazard_weight = 0.5\nexposure_weight = 0.5\n", encoding="utf-8")
    p = load_params(f)
    assert p["label"].startswith("user parameters x.toml over riskmap defaults")
    assert p["priority"]["category_proxy"] is False  # untouched defaults kept


def test_user_params_typo_and_type_refused(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text("[wri.wieghts]\n\"3\" = 5\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match="wri.wieghts"):
        load_params(f)
    f.write_text("[wri.weights]\n\"3\" = \"lots\"\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match="must be a number"):
        load_params(f)
    f.write_text("[wri\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match="not valid TOML"):
        load_params(f)


def test_replace_table_and_open_table(tmp_path):
    f = tmp_path / "kw.toml"
    f.write_text('[thi.toxicity]\ncyanide_heap = 2.9\n[thi.toxicity_keywords]\n_replace = true\n'
                 'heap = "cyanide_heap"\n', encoding="utf-8")
    p = load_params(f)
    assert p["thi"]["toxicity_keywords"] == {"heap": "cyanide_heap"}
    s = pd.DataFrame({"category": ["tailings_metal"], "tailings_type": ["gold heap leach"],
                      "tailings_volume_m3": [1e6], "dam_condition": ["good"],
                      "natech_seismic": [0.0], "natech_flood": [0.0]})
    assert thi(s, params=p)["thi"].iloc[0] == pytest.approx(6 + 2.9)


# ---------------------------------------------------------------- worked examples


def test_worked_example_w1_wri():
    subs = json.dumps([{"name": "sodium cyanide", "quantity_t": 10, "wgk": 3},
                       {"name": "sulphuric acid", "quantity_t": 50, "wgk": 1},
                       {"name": "unknown reagent", "quantity_t": 2, "wgk": "unknown"}])
    r = wri([subs]).iloc[0]
    assert r["wri_weighted"] == pytest.approx(1_250_000)
    assert r["wri"] == pytest.approx(6.09691, abs=1e-5)
    assert r["wri_band"] == "6-7"
    assert r["wri_status"] == "scored"
    assert "6.0969" in DOCS.read_text(encoding="utf-8")


def test_wri_bands_edges():
    def one(q, w=3):
        return wri([json.dumps([{"name": "x", "quantity_t": q, "wgk": w}])]).iloc[0]
    assert one(1)["wri_band"] == "5-6"        # 1000 kg x 100 = 1e5
    assert one(0.5)["wri_band"] == "<5"
    assert one(10_000)["wri_band"] == ">=9"   # 1e7 kg x 100 = 1e9
    assert one(1000, 2)["wri"] == pytest.approx(7.0)


def test_worked_example_t1_t2_p1():
    s = _frame([_site(**T1)])
    out = score(s, natech=_natech_ready(s))
    r = out.iloc[0]
    terms = r["score_terms"]
    assert terms["thi_capacity"] == pytest.approx(6.3979, abs=1e-4)
    assert terms["thi_toxicity"] == 2.5 and terms["thi_toxicity_kind"] == "metal_pb_zn"
    assert terms["thi_management"] == 2.0
    assert terms["thi_seismic"] == 1.0 and terms["thi_flood"] == 1.5
    assert r["thi"] == pytest.approx(13.39794, abs=1e-5)
    assert terms["tri_downstream_countries"] == 0.5
    assert terms["tri_first_border"] == 1.5
    assert terms["tri_travel_time"] == 1.0
    assert r["tri"] == pytest.approx(16.39794, abs=1e-5)
    assert r["hazard_score"] == pytest.approx(0.699828, abs=1e-6)
    assert r["exposure_score"] == pytest.approx(0.7)
    assert r["priority_score"] == pytest.approx(69.9897, abs=1e-4)
    assert r["score_status"] == "scored"
    assert r["completeness"] == pytest.approx(1.0)
    assert r["priority_rank"] == 1
    doc = DOCS.read_text(encoding="utf-8")
    for figure in ("13.3979", "16.3979", "69.990"):
        assert figure in doc


def test_score_adds_every_contract_column():
    s = _frame([_site(**T1), _site(site_id="s2", category="chemical_plant")])
    out = score(s, natech=_natech_ready(s))
    for c in HAZARD_COLUMNS:
        assert c in out.columns, c
    assert list(out.index) == list(s.index)
    assert str(out["priority_rank"].dtype) == "Int64"


# ---------------------------------------------------------------- missing data


def test_missing_substance_quantities_are_insufficient_not_zero():
    subs = json.dumps([{"name": "cyanide", "quantity_t": None, "wgk": 3}])
    s = _frame([_site(category="chemical_plant", substances=subs)])
    r = score(s, natech=NO_LAYERS).iloc[0]
    assert math.isnan(r["wri"]) and r["wri_band"] is None
    assert r["score_status"] == "insufficient data"
    assert "quantity unknown" in r["score_reason"]
    # ranked on the category-typical hazard (the one ranking), labelled as such; the index stays missing
    assert r["hazard_score"] == pytest.approx(0.6) and r["priority_rank"] == 1
    assert r["rank_basis"] == "category screening" and "category-typical" in r["score_reason"]
    assert 0 <= r["completeness"] < 1


def test_partial_quantities_are_lower_bound_proxy():
    subs = json.dumps([{"name": "a", "quantity_t": 1, "wgk": 3}, {"name": "b", "quantity_t": None, "wgk": 1}])
    r = wri([subs]).iloc[0]
    assert r["wri_status"] == "proxy" and r["wri"] == pytest.approx(5.0)
    assert "lower bound" in r["wri_reason"]
    strict = wri([subs], params={"wri": {"allow_partial": False}}).iloc[0]
    assert strict["wri_status"] == "insufficient data" and math.isnan(strict["wri"])


def test_no_inventory_is_insufficient():
    s = _frame([_site(category="thermal_power_plant")])
    r = score(s, natech=NO_LAYERS).iloc[0]
    assert r["score_status"] == "insufficient data"
    assert "no substance inventory" in r["score_reason"]
    assert math.isnan(r["wri"]) and math.isnan(r["thi"])
    assert r["hazard_score"] == pytest.approx(0.3) and r["rank_basis"] == "category screening"


def test_tmf_without_volume_is_insufficient():
    s = _frame([_site(tailings_type="uranium mill", dam_condition="poor")])
    r = score(s, natech=NO_LAYERS).iloc[0]
    assert r["score_status"] == "insufficient data"
    assert "tailings_volume_m3 missing" in r["score_reason"]
    assert math.isnan(r["thi"]) and math.isnan(r["tri"])


def test_proxy_terms_are_labelled():
    s = _frame([_site(tailings_volume_m3=1e6)])  # metal, no type, no dam condition, no natech
    r = score(s, natech=NO_LAYERS).iloc[0]
    assert r["score_status"] == "proxy"
    for words in ("tailings_type missing", "dam_condition unknown", "seismic class missing"):
        assert words in r["score_reason"]
    assert r["thi"] == pytest.approx(6 + 2.0 + 2.0 + 0.75 + 0.75)
    assert r["completeness"] < 1


def test_missing_exposure_not_ranked():
    s = _frame([_site(**T1, downstream_countries=None, transboundary_downstream=None,
                      first_border_river_km=np.nan, travel_time_h=np.nan, on_border_water=None)])
    r = score(s, natech=_natech_ready(s)).iloc[0]
    assert np.isfinite(r["thi"])
    assert math.isnan(r["tri"])
    assert math.isnan(r["priority_score"]) and pd.isna(r["priority_rank"])
    assert "not ranked" in r["score_reason"]


def test_no_border_downstream_is_zero_terms_not_missing():
    s = _frame([_site(**T1, country="UZB", downstream_countries=["UZB"], transboundary_downstream=False,
                      first_border_river_km=np.nan, travel_time_h=np.nan, basin="syr_darya")])
    r = score(s, natech=_natech_ready(s)).iloc[0]
    assert r["tri"] == pytest.approx(r["thi"])
    assert r["exposure_score"] == 0.0
    assert r["score_status"] == "scored"


def test_category_screening_only_where_no_index():
    s = _frame([_site(site_id="a", category="chemical_plant"), _site(site_id="b", **T1)])
    out = score(s, natech=_natech_ready(s)).set_index("site_id")
    assert out.loc["a", "rank_basis"] == "category screening" and "category-typical" in out.loc["a", "score_reason"]
    assert out.loc["b", "rank_basis"] == "site data" and "category-typical" not in out.loc["b", "score_reason"]
    assert sorted(out["priority_rank"].tolist()) == [1, 2]


def test_category_proxy_option():
    s = _frame([_site(category="chemical_plant")])
    r = score(s, natech=NO_LAYERS, params={"priority": {"category_proxy": True}}).iloc[0]
    assert r["score_status"] == "proxy" and r["hazard_score"] == pytest.approx(0.6)
    assert "category-typical" in r["score_reason"]


# ---------------------------------------------------------------- ranking


def test_rank_per_basin_and_ties():
    df = pd.DataFrame({"site_id": ["b", "a", "c", "d", "e"], "basin": ["drin", "drin", "drin", "drina", None],
                       "priority_score": [50.0, 50.0, 70.0, np.nan, 90.0]})
    r = rank(df)["priority_rank"].tolist()
    assert r[0] == 3 and r[1] == 2 and r[2] == 1
    assert pd.isna(r[3]) and pd.isna(r[4])
    assert rank(df, by=None)["priority_rank"].tolist()[4] == 1
    with pytest.raises(RiskmapInputError):
        rank(df.drop(columns="priority_score"))


def test_rank_orders_by_priority():
    rows = [_site(site_id=f"s{i}", **{**T1, "tailings_volume_m3": v}) for i, v in enumerate([1e5, 1e7, 1e6])]
    s = _frame(rows)
    out = score(s, natech=_natech_ready(s))
    assert out.set_index("site_id")["priority_rank"].to_dict() == {"s1": 1, "s2": 2, "s0": 3}


# ---------------------------------------------------------------- monotonicity


def _tmf(vol, tox_type, dam, seis, flood, n_foreign, fb_km, tt_h):
    ds = ["KGZ"] + ["UZB", "TJK", "KAZ"][:n_foreign]
    return _site(category="tailings_metal", country="KGZ", tailings_volume_m3=vol, tailings_type=tox_type,
                 dam_condition=dam, natech_seismic=seis, natech_flood=flood, downstream_countries=ds,
                 transboundary_downstream=n_foreign > 0, first_border_river_km=fb_km, travel_time_h=tt_h,
                 basin="syr_darya")


_TYPES = ["coal ash", "copper", "Pb-Zn flotation", "gold cyanide"]  # toxicity 1 < 2 < 2.5 < 3
_DAMS = ["good", "fair", "poor", "failed"]
inputs = st.tuples(
    st.floats(1e3, 1e9), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3),
    st.integers(1, 3), st.floats(0, 500), st.floats(0, 200),
)


@settings(max_examples=40, deadline=None)
@given(inputs, st.floats(1.0, 100.0), st.integers(0, 3), st.floats(0, 300))
def test_monotonic_more_tailings_more_toxic_closer_border(x, factor, more_tox, closer_km):
    vol, tox, dam, seis, flood, nf, fb, tt = x
    base = _tmf(vol, _TYPES[tox], _DAMS[dam], seis, flood, nf, fb, tt)
    variants = [
        _tmf(vol * factor, _TYPES[tox], _DAMS[dam], seis, flood, nf, fb, tt),          # more tailings
        _tmf(vol, _TYPES[max(tox, more_tox)], _DAMS[dam], seis, flood, nf, fb, tt),    # more toxic
        _tmf(vol, _TYPES[tox], _DAMS[dam], seis, flood, nf, max(0.0, fb - closer_km),  # closer to border
             max(0.0, tt - closer_km / 3.6)),
        _tmf(vol, _TYPES[tox], _DAMS[min(3, dam + 1)], min(3, seis + 1), flood, min(3, nf + 1), fb, tt),
    ]
    rows = [dict(r, site_id=f"s{i}") for i, r in enumerate([base, *variants])]
    s = _frame(rows)
    out = score(s, natech=_natech_ready(s))
    for col in ("thi", "tri", "hazard_score", "priority_score"):
        v = out[col].to_numpy()
        assert np.all(np.isfinite(v)), col
        assert np.all(v[1:] >= v[0] - 1e-9), (col, v)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0.001, 1e5), st.sampled_from(["1", "2", "3", "unknown"])),
                min_size=1, max_size=5), st.floats(1.0, 50.0))
def test_monotonic_wri_in_quantity(items, factor):
    a = json.dumps([{"name": f"x{i}", "quantity_t": q, "wgk": w} for i, (q, w) in enumerate(items)])
    b = json.dumps([{"name": f"x{i}", "quantity_t": q * factor, "wgk": w} for i, (q, w) in enumerate(items)])
    c = json.dumps([{"name": f"x{i}", "quantity_t": q, "wgk": "3"} for i, (q, w) in enumerate(items)])
    r = wri([a, b, c])["wri"].to_numpy()
    assert r[1] >= r[0] - 1e-12 and r[2] >= r[0] - 1e-12
    assert r[1] - r[0] == pytest.approx(math.log10(factor), abs=1e-9)


def test_tri_function_direct():
    s = pd.DataFrame({"category": ["tailings_ash"], "tailings_volume_m3": [1e4], "dam_condition": ["good"],
                      "natech_seismic": [0.0], "natech_flood": [0.0], "country": ["ALB"],
                      "downstream_countries": ['["ALB", "ALB|MNE"]'], "transboundary_downstream": ["true"],
                      "first_border_river_km": [200.0], "travel_time_h": [100.0], "downstream_towns": [6]})
    r = tri(s).iloc[0]
    assert r["tri"] == pytest.approx(5.0 + 0.5 + 0 + 0 + 1.0)  # THI 5, MNE 0.5, towns capped 4 x 0.25
    assert r["tri_status"] == "scored"


# ---------------------------------------------------------------- literature proxies, keywords


@pytest.mark.parametrize("note, m3, txt", [
    ("EC JRC: 23 tailings and 13 dumps, ~3 Mm3 over 44 ha; 22-25 m high", 3e6, "3 Mm3"),
    ("dump 8 ha, up to 65 m high, ~1.12 Mm3 ... 12 Mt tailings near town", 8e6, "12 Mt"),
    ("Rosatom: 3.45 ha, 22-25 m high, ~400,000 t accumulated waste", 400_000 / 1.5, "400,000 t"),
    ("2.6 million m3 of radioactive waste over 50 km2", 2.6e6, "2.6 million m3"),
    ("closed in 1990; EUR 10 M spent; 3,500 residents; 50 km2", None, None),
    (None, None, None),
])
def test_volume_from_notes(note, m3, txt):
    from riskmap.tailings_inputs import volume_from_notes

    v, t = volume_from_notes(note, 1.5)
    if m3 is None:
        assert math.isnan(v) and t is None
    else:
        assert v == pytest.approx(m3) and t == txt


def test_volume_from_notes_is_a_labelled_proxy_and_can_be_disabled():
    s = _frame([_site(notes="about 7.5 Mt of red mud in two basins", category="tailings_red_mud",
                      dam_condition="poor", natech_seismic=1.0, natech_flood=1.0)])
    r = score(s, natech=_natech_ready(s)).iloc[0]
    assert r["score_status"] == "proxy"
    assert "read from notes ('7.5 Mt')" in r["score_reason"]
    assert r["score_terms"]["thi_volume_m3"] == pytest.approx(5e6)
    assert r["thi"] == pytest.approx(math.log10(5e6) + 2.0 + 2.0 + 0.5 + 0.5)
    off = score(s, natech=_natech_ready(s), params={"thi": {"volume_from_notes": {"enabled": False}}}).iloc[0]
    assert off["score_status"] == "insufficient data" and math.isnan(off["thi"])
    # an explicit volume always wins over the note
    s2 = _frame([_site(notes="7.5 Mt", category="tailings_red_mud", tailings_volume_m3=1e4)])
    assert score(s2, natech=NO_LAYERS)["score_terms"].iloc[0]["thi_volume_m3"] == 1e4
    assert s2["tailings_volume_m3"].iloc[0] == 1e4  # input not modified


@pytest.mark.parametrize("ttype, kind", [
    ("Sb, As, Hg", "metal_hg_as_cn"), ("Au, cyanide", "metal_hg_as_cn"), ("Pb-Zn", "metal_pb_zn"),
    ("Sb", "metal_other"), ("uranium mill tailings", "uranium"), ("gas condensate sludge", "metal_other"),
])
def test_toxicity_keywords(ttype, kind):
    s = pd.DataFrame({"category": ["tailings_metal"], "tailings_type": [ttype], "tailings_volume_m3": [1e6]})
    t = thi(s).iloc[0]
    assert t["thi_terms"]["thi_toxicity_kind"] == kind
    assert t["thi_status"] == "proxy"  # no dam condition / Natech classes given
    assert ("not in the toxicity table" in t["thi_reason"]) == ttype.startswith("gas")


def test_index_and_order_independent_and_empty():
    rows = [_site(site_id=f"s{i}", **{**T1, "tailings_volume_m3": 10 ** (4 + i)}) for i in range(4)]
    s = _frame(rows)
    a = score(s, natech=_natech_ready(s)).set_index("site_id")
    r = s.iloc[::-1].copy()
    r.index = [70, 10, 50, 30]
    b = score(r, natech=_natech_ready(r))
    assert list(b.index) == [70, 10, 50, 30]
    b = b.set_index("site_id").reindex(a.index)
    assert np.allclose(a["priority_score"], b["priority_score"])
    assert (a["priority_rank"] == b["priority_rank"]).all()
    empty = score(s.iloc[:0], natech=NO_LAYERS)
    assert len(empty) == 0 and "priority_rank" in empty.columns
