"""Tests of riskmap.export: column order, formats, round trips, determinism, atomicity."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from fixtures.report import FORMULA, XSS_SCRIPT

from riskmap import export as ex  # noqa: E402
from riskmap import RiskmapInputError  # noqa: E402
from riskmap.schema import column_names  # noqa: E402

FORMATS = ["csv", "gpkg", "xlsx", "geojson", "parquet"]
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sites(assessed_sites):
    return assessed_sites()


@pytest.fixture(scope="module")
def basin(fake_basin):
    return fake_basin()


def _norm_json(v):
    if isinstance(v, str):
        v = json.loads(v)
    if v is None:
        return None
    if isinstance(v, (list, dict)) and not v:
        return v
    return json.loads(json.dumps(v, sort_keys=True))


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _column_kinds() -> dict[str, str]:
    """The documented kind (text, number, json ...) of every export column, from the data dictionary."""
    dd = ex.data_dictionary()
    return dict(zip(dd["column"], dd["kind"]))


def assert_same_sites(mem: gpd.GeoDataFrame, back: gpd.GeoDataFrame) -> None:
    """Every export column of the in-memory frame equals the re-read one (value and type)."""
    kinds = _column_kinds()
    assert len(back) == len(mem)
    assert back.crs is not None and back.crs.equals("EPSG:4326")
    mem = mem.reset_index(drop=True)
    back = back.reset_index(drop=True)
    for c in mem.columns:
        if c == mem.geometry.name:
            continue
        assert c in back.columns, c
        kind = kinds.get(c, "text")
        a, b = mem[c].tolist(), back[c].tolist()
        for i, (x, y) in enumerate(zip(a, b)):
            where = f"column {c}, row {i}: {x!r} != {y!r}"
            if kind == "json":
                assert _norm_json(None if _missing(x) else x) == _norm_json(None if _missing(y) else y), where
            elif _missing(x):
                assert _missing(y), where
            elif kind == "number":
                assert isinstance(y, float) and math.isclose(x, y, rel_tol=1e-12), where
            elif kind == "integer":
                assert int(x) == int(y) and float(y).is_integer(), where
            elif kind == "bool":
                assert bool(x) is bool(y), where
            else:
                assert isinstance(y, str) and x == y, where
    assert back.geometry.geom_equals_exact(mem.geometry.to_crs("EPSG:4326"), tolerance=1e-6).all()


# ----------------------------------------------------------------- columns


def test_column_order_is_schema_location_exposure_hazard(sites):
    cols = ex.export_columns(sites)
    n = len(column_names())
    assert cols[:n] == column_names()
    assert cols[n:n + 3] == ["lon", "lat", "geometry_wkt"]
    exp = [c for c, _, _ in ex.EXPOSURE_COLUMNS]
    haz = [c for c, _, _ in ex.HAZARD_COLUMNS]
    assert cols[n + 3:n + 3 + len(exp)] == exp
    assert cols[n + 3 + len(exp):] == haz
    # shuffling the input columns does not change the export order
    shuffled = sites[list(reversed(sites.columns))]
    assert ex.export_columns(shuffled) == cols
    # hazard detail columns follow the hazard columns; an unknown extra column goes last
    extra = sites.assign(zz_custom=1, natech_fault_km=2.0)
    assert ex.export_columns(extra)[-2:] == ["natech_fault_km", "zz_custom"]


def test_data_dictionary_covers_every_column_and_file_is_current(sites):
    dd = ex.data_dictionary()
    details = [c for c, _, _ in ex.HAZARD_DETAIL_COLUMNS]
    assert dd["column"].tolist() == ex.export_columns(sites) + details
    committed = (REPO / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == ex.data_dictionary_markdown(), (
        "docs/data_dictionary.md is stale: run python -c \"from riskmap.export import "
        "write_data_dictionary; write_data_dictionary()\"")
    for c in dd["column"]:
        assert f"`{c}`" in committed


# ----------------------------------------------------------------- CSV


def test_csv_is_deterministic(sites, tmp_path):
    a = ex.export(sites, tmp_path / "a.csv")
    b = ex.export(sites, tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes()
    # dict key order and column order in memory do not change the bytes
    s2 = sites.copy()
    s2["score_terms"] = [dict(reversed(list(d.items()))) for d in s2["score_terms"]]
    s2 = s2[list(reversed(s2.columns))]
    c = ex.export(s2, tmp_path / "c.csv")
    assert c.read_bytes() == a.read_bytes()


def test_csv_is_utf8_json_and_formula_safe(sites, tmp_path):
    p = ex.export(sites, tmp_path / "s.csv")
    raw = p.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert not raw.startswith("\ufeff")
    assert "Trepça" in raw and "Pipeline Ω" in raw
    table = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert table.columns.tolist() == ex.export_columns(sites)
    byid = table.set_index("site_id")
    assert byid.loc["s4", "name"] == "'" + FORMULA
    assert byid.loc["s5", "name"] == "'-1+2 plant"
    assert byid.loc["s1", "notes"] == "Tab\there"  # tab inside, not at the start: unchanged
    assert byid.loc["s6", "notes"] == "'+33 phone"
    assert byid.loc["s4", "notes"] == "'@SUM(A1)"
    assert byid.loc["s2", "name"] == XSS_SCRIPT  # CSV is not HTML: kept verbatim
    assert byid.loc["s1", "downstream_countries"] == '["XKX","ALB","ALB|MNE"]'
    assert byid.loc["s1", "score_terms"] == '{"exposure":1.0,"tri":0.9}'
    # no cell anywhere starts a formula
    kinds = _column_kinds()
    for col in table.columns:
        if kinds.get(col, "text") in ("text", "json", "date"):
            assert not table[col].str.match(r"^[=+\-@]").any(), col
    # missing stays blank, never 0
    assert byid.loc["s4", "priority_score"] == ""
    assert byid.loc["s3", "tailings_volume_m3"] == ""
    # the pipeline keeps its line as WKT, points have none
    assert byid.loc["s7", "geometry_wkt"].startswith("LINESTRING")
    assert byid.loc["s1", "geometry_wkt"] == ""


# ----------------------------------------------------------------- round trips


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(sites, basin, tmp_path, fmt, matrix):
    p = ex.export(sites, tmp_path / f"out.{fmt}", basin=basin, matrix=matrix())
    back = ex.read_export(p)
    assert_same_sites(sites, back)
    if fmt != "csv" and fmt != "xlsx":
        assert "geometry_wkt" not in back.columns
    if fmt == "parquet":  # GeoParquet: geometry metadata with the CRS
        import pyarrow.parquet as pq

        geo = json.loads(pq.read_schema(p).metadata[b"geo"])
        assert geo["primary_column"] == "geometry"
        assert "4326" in json.dumps(geo["columns"]["geometry"].get("crs", "EPSG:4326"))
    order = [c for c in ex.export_columns(sites, tabular=fmt in ("csv", "xlsx")) if c in back.columns]
    assert [c for c in back.columns if c != back.geometry.name and c != "geometry_wkt"] == \
        [c for c in order if c != "geometry_wkt"]


def test_reprojected_input_is_written_in_wgs84(sites, tmp_path):
    p = ex.export(sites.to_crs("EPSG:32634"), tmp_path / "s.gpkg")
    back = ex.read_export(p)
    assert back.crs.equals("EPSG:4326")
    assert_same_sites(sites, back)


def test_gpkg_layers_and_validity(sites, basin, tmp_path):
    p = ex.export(sites, tmp_path / "drin.gpkg", basin=basin)
    layers = dict(pyogrio.list_layers(p).tolist())
    spatial = {"sites", "site_lines", "basin", "countries", "borders", "rivers", "lakes", "towns",
               "downstream_paths"}
    assert set(layers) == spatial | {"layer_styles"}
    with sqlite3.connect(p) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        contents = {r[0]: r[1] for r in con.execute("SELECT table_name, srs_id FROM gpkg_contents")}
    assert {k: v for k, v in contents.items() if k != "layer_styles"} == {k: 4326 for k in spatial}
    rivers = gpd.read_file(p, layer="rivers")
    assert rivers["reach_id"].tolist() == [1, 2, 3]
    outline = gpd.read_file(p, layer="basin")
    assert outline.geometry.iloc[0].equals(basin.outline.geometry.iloc[0])


def _paths_by_site(paths):
    """One row per served site (the layer holds one feature per distinct path)."""
    rows = paths.assign(site_id=paths["site_ids"].map(json.loads)).explode("site_id")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=paths.crs).set_index("site_id")


def test_downstream_paths_end_at_first_border(sites, basin):
    raw = ex.downstream_paths(sites, basin)
    paths = _paths_by_site(raw)
    tb = sites.loc[sites["transboundary_downstream"] & sites["reach_id"].notna(), "site_id"]
    assert set(paths.index) <= set(tb)
    # one feature per distinct (start reach, country): s2, s6, s8 (Albania, reach 2) share one
    assert len(raw) == 4 and raw["path_id"].tolist() == [1, 2, 3, 4]
    assert raw["n_sites"].tolist() == [len(json.loads(v)) for v in raw["site_ids"]] == [1, 3, 1, 1]
    assert paths.loc["s2", "path_id"] == paths.loc["s6", "path_id"] == paths.loc["s8", "path_id"]
    # s1 (Kosovo, reach 1) stops where the river leaves Kosovo, at the end of reach 1
    s1 = paths.loc["s1"]
    assert s1["ends_at"] == "border"
    start, end = shapely.get_point(s1.geometry, 0), shapely.get_point(s1.geometry, -1)
    assert end.equals_exact(shapely.Point(20.4, 42.2), 1e-9)
    snap = basin.reaches.geometry.iloc[0].interpolate(basin.reaches.geometry.iloc[0].project(
        sites.geometry.iloc[0]))
    assert start.distance(snap) < 1e-9
    assert json.loads(s1["countries"]) == ["XKX", "ALB"]
    # s2 (Albania, reach 2) runs to the Buna/Bojana border river: the whole rest of reach 2
    s2 = paths.loc["s2"]
    assert s2["ends_at"] == "border"
    assert shapely.get_point(s2.geometry, -1).equals_exact(shapely.Point(19.7, 41.9), 1e-9)
    from pyproj import Geod

    reach2_km = Geod(ellps="WGS84").geometry_length(basin.reaches.geometry.iloc[1]) / 1000
    assert 0 < s2["path_km"] < reach2_km  # geodesic km, a part of reach 2 (from the most upstream site)
    # s5 drains straight into the border river: its line is the rest of that reach
    s5 = paths.loc["s5"]
    assert s5["ends_at"] == "on border water"
    assert shapely.get_point(s5.geometry, -1).equals_exact(shapely.Point(19.4, 41.8), 1e-9)
    assert set(paths.index) == {"s1", "s2", "s3", "s5", "s6", "s8"}
    # reach_id -1 (no reach) and missing reach ids give no path
    assert "s4" not in paths.index and "s7" not in paths.index


def test_downstream_paths_without_reach_ids_is_empty(sites, basin):
    assert ex.downstream_paths(sites.drop(columns="reach_id"), basin).empty
    assert ex.downstream_paths(sites, None).empty


def test_xlsx_sheets_and_neutralised_cells(sites, basin, tmp_path, matrix):
    p = ex.export(sites, tmp_path / "s.xlsx", basin=basin, matrix=matrix())
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["sites", "exposure_matrix", "data_dictionary", "sites_data"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), (ws.title, cell.coordinate)
    m = pd.read_excel(p, sheet_name="exposure_matrix")
    assert m.columns.tolist() == ["basin", "origin", "ALB", "MNE", "sites", "transboundary"]
    assert m["MNE"].tolist() == [4, 0, 0, 1]
    dd = pd.read_excel(p, sheet_name="data_dictionary")
    assert dd["column"].tolist() == ex.data_dictionary()["column"].tolist()


# ----------------------------------------------------------------- atomicity and errors


def test_failed_csv_write_leaves_existing_file(sites, tmp_path, monkeypatch):
    p = tmp_path / "s.csv"
    p.write_text("previous content\n")

    def boom(self, data):
        with open(self, "wb") as f:
            f.write(data[:10])
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", boom)
    with pytest.raises(OSError):
        ex.export(sites, p)
    monkeypatch.undo()
    assert p.read_text() == "previous content\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["s.csv"]  # no temp file left


def test_failed_gpkg_write_leaves_existing_file(sites, basin, tmp_path, monkeypatch):
    p = ex.export(sites, tmp_path / "s.gpkg", basin=basin)
    before = p.read_bytes()
    real = gpd.GeoDataFrame.to_file

    def flaky(self, filename, *a, **kw):
        if kw.get("layer") == "rivers":
            raise RuntimeError("GDAL failure")
        return real(self, filename, *a, **kw)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", flaky)
    with pytest.raises(RuntimeError):
        ex.export(sites.iloc[:2], p, basin=basin)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["s.gpkg"]


def test_xlsx_matrix_computed_from_basin_when_not_given(sites, basin, tmp_path):
    pytest.importorskip("riskmap.exposure")
    p = ex.export(sites, tmp_path / "s.xlsx", basin=basin)
    m = pd.read_excel(p, sheet_name="exposure_matrix")
    assert m.columns.tolist() == ["basin", "origin", "ALB", "MNE", "sites", "transboundary"]
    assert m["sites"].sum() == len(sites)
    p2 = ex.export(sites, tmp_path / "t.xlsx")
    assert "note" in pd.read_excel(p2, sheet_name="exposure_matrix").columns


def test_unknown_format_is_refused(sites, tmp_path):
    with pytest.raises(RiskmapInputError, match="format"):
        ex.export(sites, tmp_path / "s.csv", fmt="shp")
    with pytest.raises(RiskmapInputError, match="extension"):
        ex.export(sites, tmp_path / "s.docx")
    with pytest.raises(RiskmapInputError):
        ex.export(pd.DataFrame(sites.drop(columns="geometry")), tmp_path / "s.csv")


def test_format_option_overrides_extension(sites, tmp_path):
    p = ex.export(sites, tmp_path / "sites.dat", fmt="csv")
    assert p.read_bytes().startswith(b"site_id,name,category")


def test_matrix_fixture_matches_exposure_module(sites, matrix):
    exposure = pytest.importorskip("riskmap.exposure")
    pd.testing.assert_frame_equal(exposure.exposure_matrix(sites, "drin"), matrix(), check_dtype=False)


def test_column_lists_match_the_analysis_modules():
    """The documented export order follows the contract of exposure.assess and hazard.score."""
    exposure = pytest.importorskip("riskmap.exposure")
    hazard = pytest.importorskip("riskmap.hazard")
    assert [c for c, _, _ in ex.EXPOSURE_COLUMNS] == [c for c in exposure.EXPOSURE_COLUMNS if c != "country"]
    assert [c for c, _, _ in ex.HAZARD_COLUMNS] == list(hazard.HAZARD_COLUMNS)


def test_cli_export_help():
    from click.testing import CliRunner

    from riskmap.cli import main

    r = CliRunner().invoke(main, ["export", "--help"])
    assert r.exit_code == 0
    for f in FORMATS:
        assert f in r.output


def test_downstream_paths_skip_sites_of_other_basins(sites, basin):
    """Reach ids are unique only within a basin: a site of another basin is not looked up."""
    mixed = sites.copy()
    other = mixed.index[mixed["reach_id"].notna()][0]
    mixed.loc[other, "basin"] = "syr_darya"
    mixed.loc[other, "reach_id"] = 99999  # not a reach of the Drin fixture
    paths = _paths_by_site(ex.downstream_paths(mixed, basin))
    full = _paths_by_site(ex.downstream_paths(sites, basin))
    assert mixed.loc[other, "site_id"] not in set(paths.index)
    assert len(paths) == len(full) - int(sites.loc[other, "site_id"] in set(full.index))


def test_real_downstream_paths_follow_the_basin_network():
    """Drin paths come from basin.network and stay single lines (the Drin crosses itself)."""
    from riskmap import DATA_DIR
    from riskmap.exposure import assess
    from riskmap.hydrography import load_basin
    from riskmap.io import read_sites

    csv = DATA_DIR / "sites" / "sites.csv"
    if not csv.is_file() or not (DATA_DIR / "basins" / "drin.gpkg").is_file():
        pytest.skip("no bundled data")
    b = load_basin("drin")
    raw = ex.downstream_paths(assess(read_sites(csv)), b)
    assert len(raw) > 10
    assert set(raw.geom_type) == {"LineString"}  # line_merge of the reaches, never a noded union
    geom = dict(zip(b.network.ids.tolist(), b.network.geometry))
    for rid, line in zip(raw["reach_id"], raw.geometry):
        ids = b.network.downstream_ids(int(rid))
        end = shapely.get_point(line, -1)
        # the line ends at the downstream end of one of the reaches on the network's path
        assert any(shapely.get_point(geom[r], -1).equals_exact(end, 1e-9) for r in ids)
        assert line.within(shapely.union_all([geom[r] for r in ids]).buffer(1e-9))
