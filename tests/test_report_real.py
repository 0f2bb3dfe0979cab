"""Reports and exports of the real bundled inventory (data/sites) and, when built, basins (data/basins)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

from test_export import assert_same_sites  # noqa: E402
from test_report import Tables, parse, table  # noqa: E402

from riskmap import export as ex  # noqa: E402
from riskmap import report as rp  # noqa: E402
from riskmap import DATA_DIR  # noqa: E402
from riskmap.io import read_sites  # noqa: E402
from riskmap.report_labels import category_name, precision_name, source_name  # noqa: E402

BASINS = ["drin", "drina", "syr_darya"]
SITES_CSV = DATA_DIR / "sites" / "sites.csv"
WHEN = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def real_sites():
    if not SITES_CSV.is_file():
        pytest.skip("data/sites/sites.csv not built yet")
    sites = read_sites(SITES_CSV)
    raw = pd.read_csv(SITES_CSV, dtype=str, keep_default_na=False)
    basin_of = dict(zip(raw["site_id"], raw["basin"]))
    sites["basin"] = sites["site_id"].map(basin_of)
    assert len(sites) == len(raw)
    return sites


@pytest.fixture(scope="module")
def sites_provenance():
    p = DATA_DIR / "sites" / "PROVENANCE.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None


def _counts(rows):
    return {r[0]: int(r[1]) for r in rows[1:] if r[0] != "total"}


@pytest.mark.parametrize("basin", BASINS)
def test_inventory_report_of_real_basin(basin, real_sites, sites_provenance):
    sub = real_sites[real_sites["basin"] == basin]
    assert len(sub) > 0
    html = rp.report_html(rp.ReportInputs(basin, sub, sites_provenance=sites_provenance), generated_at=WHEN)
    t: Tables = parse(html)
    assert _counts(table(t, **{"data-summary": "Sites by category"})) == {
        category_name(k): v for k, v in sub["category"].value_counts().items()}
    assert table(t, **{"data-summary": "Sites by category"})[-1][:2] == ["total", str(len(sub))]
    assert _counts(table(t, **{"data-summary": "Sites by country"})) == {
        rp.country_label(k): v for k, v in sub["country"].fillna("unknown").value_counts().items()}
    prec = {r[0]: int(r[2]) for r in table(t, id="coord-precision")[1:]}
    assert prec == {precision_name(k): v for k, v in sub["coord_precision"].value_counts().items()}
    cited = {r[0]: r for r in table(t, id="sources-table")[1:]}
    titles = {e["name"]: e["title"] for e in rp.provenance_sources(sites_provenance) if e.get("title")}
    for src, n in sub["source"].value_counts().items():
        label = source_name(src, titles)
        assert label in cited, src
        assert int(cited[label][2]) == n
        if sites_provenance is not None:
            # every inventory source has a title, licence and attribution from the provenance file
            assert label != src and cited[label][3] != "not stated" and cited[label][4], cited[label]
    # every site is listed once in the country sections
    listed = sum(len(table(t, **{"data-country": c})) - 1
                 for c in {a.get("data-country") for tag, a in t.attrs if a.get("data-country")})
    assert listed == len(sub)
    has_xkx = (sub["country"] == "XKX").any()
    assert ("resolution 1244" in html) == bool(has_xkx)
    assert "<script" not in html.lower()


def test_drin_inventory_names_kosovo_with_footnote(real_sites, sites_provenance, monkeypatch):
    monkeypatch.setattr(rp, "map_figure", lambda *a, **k: "data:image/png;base64,")
    sub = real_sites[real_sites["basin"] == "drin"]
    if not (sub["country"] == "XKX").any():
        pytest.skip("no Kosovo site in the current inventory")
    html = rp.report_html(rp.ReportInputs("drin", sub, sites_provenance=sites_provenance), generated_at=WHEN)
    assert "Kosovo*" in html and rp.KOSOVO_FOOTNOTE in html
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"\bKOS\b", text)  # Natural Earth's code never leaks into the report


@pytest.mark.parametrize("fmt", ["csv", "gpkg", "xlsx", "geojson", "parquet"])
def test_real_inventory_round_trips(real_sites, tmp_path, fmt):
    p = ex.export(real_sites, tmp_path / f"sites.{fmt}")
    assert_same_sites(real_sites, ex.read_export(p))


def test_real_inventory_csv_is_deterministic_and_matches_schema_order(real_sites, tmp_path):
    a = ex.export(real_sites, tmp_path / "a.csv").read_bytes()
    b = ex.export(real_sites.sample(frac=1.0, random_state=1).sort_index(), tmp_path / "b.csv").read_bytes()
    assert a == b
    head = SITES_CSV.read_text(encoding="utf-8").splitlines()[0]
    assert a.decode("utf-8").splitlines()[0] == head  # same columns as the bundled inventory


# ----------------------------------------------------------------- full pipeline (when basins exist)


def _pipeline_ready(basin: str) -> None:
    pytest.importorskip("riskmap.hydrography")
    if not (DATA_DIR / "basins" / f"{basin}.gpkg").is_file():
        pytest.skip(f"data/basins/{basin}.gpkg not built yet")
    if not SITES_CSV.is_file():
        pytest.skip("data/sites/sites.csv not built yet")


@pytest.mark.slow
@pytest.mark.parametrize("basin", BASINS)
def test_full_report_of_real_basin(basin, tmp_path):
    _pipeline_ready(basin)
    inputs = rp.prepare_inputs(basin)
    sites = inputs.sites
    assert len(sites) > 0 and (sites["basin"] == basin).all()
    path = rp.build_report(inputs, tmp_path, pdf=False, generated_at=WHEN)
    html = path.read_text(encoding="utf-8")
    t = parse(html)
    assert _counts(table(t, **{"data-summary": "Sites by category"})) == {
        category_name(k): v for k, v in sites["category"].value_counts().items()}
    exp = _counts(table(t, **{"data-summary": "Sites by exposure class"}))
    assert exp == sites["exposure_class"].fillna("unknown").value_counts().to_dict()
    top = table(t, id="ranking")
    ranks = [int(r[0].replace(",", "")) for r in top[1:]]
    # the ONE ranking (hazard.score): every assessed site ranked, sites without data on their category
    assert sites["priority_rank"].notna().all()
    n_ranked = len(sites)
    assert ranks == list(range(1, min(rp.TOP_N, n_ranked) + 1))
    if (sites["rank_basis"] == "category screening").any():
        assert "typical hazard of its category" in html and "category_proxy" not in html
    cited = {r[0]: r for r in table(t, id="sources-table")[1:]}
    titles = {e["name"]: e["title"] for p in (inputs.sites_provenance, inputs.basins_provenance,
                                              *inputs.other_provenance.values())
              for e in rp.provenance_sources(p) if e.get("title")}
    assert {source_name(s, titles) for s in sites["source"]} <= set(cited)
    # every source of every provenance file used is cited, with its licence and attribution
    provs = [inputs.sites_provenance, inputs.basins_provenance, *inputs.other_provenance.values()]
    for prov in provs:
        for e in rp.provenance_sources(prov):
            label = source_name(e["name"], titles)
            assert label in cited, e["name"]
            assert cited[label][3] == (e.get("licence") or "not stated")
            assert cited[label][4] == " ".join((e.get("attribution") or "").split())
    riparian = inputs.basin.meta.get("riparian", [])
    assert ("resolution 1244" in html) == ("XKX" in riparian or (sites["country"] == "XKX").any())
    if inputs.interactive_map:
        assert (tmp_path / inputs.interactive_map).is_file() or (tmp_path / f"{basin}_map.html").is_file()
    g = ex.export(sites, tmp_path / f"{basin}.gpkg", basin=inputs.basin, matrix=inputs.matrix)
    import pyogrio

    layers = set(pyogrio.list_layers(g)[:, 0])
    assert {"sites", "basin", "rivers"} <= layers
    back = ex.read_export(g)
    assert len(back) == len(sites)
    assert back["site_id"].tolist() == sites["site_id"].tolist()
