"""Broken and hostile inputs: clear errors, never a traceback, never a silent wrong answer (issue 13, items 4-6).

Item 4: ``assess``/``score`` write GeoParquet. Item 5: NaN/inf coordinates,
projected WKT, unknown CRS, malformed parameter and discharge files give a
clear error. Item 6: antimeridian geometries, case-ambiguous coordinate
columns, absurd parameters, input columns named like computed ones,
multi-layer files, formula cells without values, ``1_9.3``, dates with
trailing text, and sites at (0, 0), at sea or on another continent.
Hypothesis properties at the end: the loaders on geometry files and
``load_params`` on random parameter files either succeed with valid output
or raise riskmap's own error.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskmap
from riskmap import RiskmapDataWarning, RiskmapError, RiskmapInputError, RiskmapValidationError
from riskmap.cli import main
from riskmap.hazard import load_params, score
from riskmap.spill import load_discharge_table

BASE = {"name": "Site", "category": "mine", "coord_precision": "exact", "source": "test"}
OK_LON, OK_LAT = 19.3563, 43.3563  # Pljevlja, Drina basin


def _row(site_id: str, **kw) -> dict:
    return {"site_id": site_id, **BASE, **kw}


def _issues(sites_or_exc) -> str:
    rep = sites_or_exc.attrs["validation"] if hasattr(sites_or_exc, "attrs") else sites_or_exc.report
    return "\n".join(str(i) for i in rep.issues)


def _quiet_read(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RiskmapDataWarning)
        return riskmap.read_sites(path, **kw)


# ------------------------------------------------------------------ item 4: parquet outputs


@pytest.mark.parametrize("cmd", ["assess", "score"])
def test_parquet_output_written_and_read_back(cmd, data_dir, tmp_path):
    out = tmp_path / "x.parquet"
    res = CliRunner().invoke(main, [cmd, str(data_dir / "sites" / "sites.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    back = riskmap.read_sites(out)
    assert len(back) == len(riskmap.read_sites(data_dir / "sites" / "sites.csv")) > 200
    assert back["exposure_class"].notna().all()
    if cmd == "score":
        assert back["score_status"].notna().all()


# ------------------------------------------------------------------ item 5: clear errors


def _geojson(path: Path, geoms: list[dict]) -> Path:
    feats = [{"type": "Feature", "properties": _row(f"s{i}"), "geometry": g} for i, g in enumerate(geoms)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))  # NaN/Infinity literals
    return path


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "parquet"])
def test_nonfinite_geometry_coordinates_are_row_errors(fmt, bad, tmp_path):
    poly = shapely.Polygon([(19.0, 43.0), (19.1, 43.0), (bad, 43.1), (19.0, 43.0)])
    if fmt == "geojson":
        path = _geojson(tmp_path / "x.geojson", [shapely.geometry.mapping(shapely.Point(OK_LON, OK_LAT)),
                                                  shapely.geometry.mapping(poly)])
    else:
        g = gpd.GeoDataFrame([_row("s0"), _row("s1")], geometry=[shapely.Point(OK_LON, OK_LAT), poly],
                             crs="EPSG:4326")
        path = tmp_path / f"x.{fmt}"
        g.to_file(path) if fmt == "gpkg" else g.to_parquet(path)
    sites = _quiet_read(path)
    assert list(sites["site_id"]) == ["s0"]
    assert "row 2, column 'geometry': geometry has NaN or infinite coordinates" in _issues(sites)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 1 and "Traceback" not in res.output and "NaN or infinite" in res.output


@pytest.mark.parametrize("wkt,reason", [
    ("POINT (NaN NaN)", "WKT geometry has NaN or infinite coordinates"),
    ("LINESTRING (19 43, inf 43.5)", "WKT geometry has NaN or infinite coordinates"),
    ("POINT (400000 4800000)", "WKT coordinates outside lon/lat range"),
    ("POLYGON ((400000 4800000, 401000 4800000, 401000 4801000, 400000 4800000))",
     "WKT coordinates outside lon/lat range"),
])
def test_geometry_wkt_nonfinite_or_projected_refused(wkt, reason, tmp_path):
    p = tmp_path / "w.csv"
    pd.DataFrame([_row("a", lon=OK_LON, lat=OK_LAT), _row("b", lon=OK_LON, lat=OK_LAT, geometry_wkt=wkt)]
                 ).to_csv(p, index=False)
    sites = _quiet_read(p)
    assert list(sites["site_id"]) == ["a"]
    assert f"line 3, row 2, column 'geometry_wkt': {reason}" in _issues(sites)
    # map and export work on what is left (they crashed on the projected WKT)
    res = CliRunner().invoke(main, ["export", "drina", "--sites", str(p), "-o", str(tmp_path / "e.gpkg")])
    assert res.exit_code == 0, res.output


def test_validate_unknown_crs_is_a_clear_error(tmp_path):
    p = tmp_path / "xy.csv"
    p.write_text("site_id,name,category,coord_precision,source,x,y\na,A,mine,exact,t,400000,4800000\n")
    res = CliRunner().invoke(main, ["validate", str(p), "--crs", "EPSG:99999"])
    assert res.exit_code == 2
    assert "crs 'EPSG:99999' is not a known coordinate reference system" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(main, ["validate", str(p), "--crs", "EPSG:32634"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("text,expect", [
    ("wri = 5\n", "parameter 'wri' must be a table"),
    ("[wri]\nweights = [1, 2]\n", "parameter 'wri.weights' must be a table"),
    ("[priority]\nhazard_weight = \"0.6\"\n", "parameter 'priority.hazard_weight' must be a number"),
    ("[wri]\nquantity_unit = 3\n", "parameter 'wri.quantity_unit' must be text"),
    ("[[wri.bands]]\nlabel = \"x\"\nmin = \"a\"\nmax = 1.0\n", "[[wri.bands]] row 1: 'min' must be a number"),
    ("[wri]\nbands = [1, 2]\n", "[[wri.bands]] row 1 must be a table"),
    ("[[tri.first_border]]\nmax_km = 10.0\n", "[[tri.first_border]] row 1: missing ['value']"),
    ("[thi.toxicity]\nnew_kind = \"high\"\n", "parameter 'thi.toxicity.new_kind' must be a number"),
    ("label = 5\n", "parameter 'label' must be text"),
])
def test_params_wrong_structure_or_type(text, expect, tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(RiskmapInputError) as e:
        load_params(p)
    assert str(p) in str(e.value) and expect in str(e.value)


def test_params_not_utf8_cli(data_dir, tmp_path):
    p = tmp_path / "p.toml"
    p.write_bytes(b'label = "Param\xe8tres"\n')
    res = CliRunner().invoke(main, ["score", str(data_dir / "sites" / "sites.csv"), "-o", str(tmp_path / "o.csv"),
                                    "--params", str(p)])
    assert res.exit_code == 2, res.output
    assert "not UTF-8 text (byte 0xe8" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("text,expect", [
    ('[[station]]\nriver = "Drina"\nat = "mouth"\nmean_m3s = inf\ncitation = "x"\n',
     "mean_m3s must be a positive, finite number, got inf"),
    ('[[station]]\nriver = "Drina"\nat = "mouth"\nmean_m3s = nan\ncitation = "x"\n',
     "mean_m3s must be a positive, finite number, got nan"),
    ('[[station]]\nriver = "Drina"\nat = "mouth"\nmean_m3s = "370"\ncitation = "x"\n',
     "mean_m3s must be a positive, finite number, got '370'"),
    ('[[lake]]\nname = "Zvornik"\nvolume_m3 = inf\ncitation = "x"\n', "volume_m3 must be a positive, finite number"),
    ("station = 5\n", "'station' must be an array of tables"),
    ('[[station]]\nriver = 5\nat = "mouth"\nmean_m3s = 3.0\ncitation = "x"\n', "river must be text"),
    ('[[station]]\nriver = "Drina"\nat = 5\nmean_m3s = 3.0\ncitation = "x"\n', "at must be text"),
    ('meta = "x"\n', "'meta' must be a table"),
])
def test_discharge_file_errors(text, expect, tmp_path):
    p = tmp_path / "q.toml"
    p.write_text(text)
    with pytest.raises(RiskmapInputError, match="q.toml") as e:
        load_discharge_table(p)
    assert expect in str(e.value)


def test_discharge_file_error_in_cli(tmp_path):
    p = tmp_path / "q.toml"
    p.write_text('[[station]]\nriver = "Drina"\nat = "mouth"\nmean_m3s = inf\ncitation = "x"\n')
    res = CliRunner().invoke(main, ["spill", "19.35,43.81", "--basin", "drina", "--mass", "1t",
                                    "--discharge", str(p)])
    assert res.exit_code == 2 and "finite number, got inf" in res.output and "Traceback" not in res.output


# ------------------------------------------------------------------ item 6: silent wrong answers


def test_antimeridian_line_is_refused_not_a_world_band(tmp_path):
    path = _geojson(tmp_path / "a.geojson", [
        {"type": "Point", "coordinates": [OK_LON, OK_LAT]},
        {"type": "LineString", "coordinates": [[179.5, 43.0], [-179.5, 43.1]]},
        {"type": "Polygon", "coordinates": [[[179, 43], [-179, 43], [-179, 44], [179, 44], [179, 43]]]},
    ])
    sites = _quiet_read(path)
    assert list(sites["site_id"]) == ["s0"]
    text = _issues(sites)
    assert "row 2, column 'geometry': geometry spans 359 degrees of longitude: it crosses the antimeridian" in text
    assert "row 3, column 'geometry': geometry spans 358 degrees" in text


def test_both_lon_lat_and_LON_Lat_refused(tmp_path):
    p = tmp_path / "amb.csv"
    p.write_text("site_id,name,category,coord_precision,source,lon,lat,LON,Lat\n"
                 f"a,A,mine,exact,t,{OK_LON},{OK_LAT},20.1,44.2\n")
    with pytest.raises(RiskmapValidationError) as e:
        riskmap.read_sites(p)
    msg = str(e.value)
    assert "ambiguous columns 'lon', 'LON'" in msg and "ambiguous columns 'lat', 'Lat'" in msg
    res = CliRunner().invoke(main, ["export", "drina", "--sites", str(p), "-o", str(tmp_path / "o.csv")])
    assert res.exit_code == 1 and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("text,key,why", [
    ('[wri.weights]\n"3" = nan\n', "wri.weights.3", "must be a finite number, got nan"),
    ('[wri.weights]\n"2" = inf\n', "wri.weights.2", "must be a finite number, got inf"),
    ("[thi.management]\npoor = -2.0\n", "thi.management.poor", "must not be negative"),
    ("[priority]\nhazard_weight = 78.3\n", "priority.hazard_weight", "must be within 0..1"),
    ("[priority]\nhazard_weight = 0.9\nexposure_weight = 0.9\n", "priority.hazard_weight",
     "+ priority.exposure_weight must be within 0..1"),
    ("[priority.normalise]\nwri_lo = 6.0\nwri_hi = 6.0\n", "priority.normalise.wri_lo", "must be below wri_hi"),
    ("[priority.normalise]\nthi_lo = 17.0\nthi_hi = 5.0\n", "priority.normalise.thi_lo", "must be below thi_hi"),
    ("[priority.category_hazard]\nmine = 4.0\n", "priority.category_hazard.mine", "must be within 0..1"),
    ("[[natech.fault_km]]\nmax_km = 5.0\nvalue = 9\n", "natech.fault_km[1].value", "must be within 0..3"),
    ("[[wri.bands]]\nlabel = \"x\"\nmin = 6.0\nmax = 6.0\n", "wri.bands[1]", "min must be below max"),
    ("[natech.buffers]\ncorridor_buffer_km = 0.0\n", "natech.buffers.corridor_buffer_km", "must be greater than 0"),
])
def test_params_absurd_values_refused_with_file_key_reason(text, key, why, tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(RiskmapInputError) as e:
        load_params(p)
    assert f"{p}: parameter '{key}'" in str(e.value) and why in str(e.value)


def test_input_columns_named_like_outputs_are_recomputed_and_kept(data_dir, tmp_path):
    src = pd.read_csv(data_dir / "sites" / "sites.csv", dtype=str)
    drina = src[src["basin"] == "drina"].head(8).copy()
    clean = tmp_path / "clean.csv"
    drina.to_csv(clean, index=False)
    mine = drina.assign(exposure_class="my own class", priority_score="oops", hazard_score="7")
    dirty = tmp_path / "dirty.csv"
    mine.to_csv(dirty, index=False)
    outs = {}
    for name, f in (("clean", clean), ("dirty", dirty)):
        res = CliRunner().invoke(main, ["export", "drina", "--sites", str(f), "-o", str(tmp_path / f"{name}_e.csv")])
        assert res.exit_code == 0, res.output
        outs[name] = pd.read_csv(tmp_path / f"{name}_e.csv", dtype=str)
        if name == "dirty":
            assert "'exposure_class' (kept as 'exposure_class_input')" in res.stderr
            assert "'priority_score' (kept as 'priority_score_input')" in res.stderr
    c, d = outs["clean"], outs["dirty"]
    for col in ("exposure_class", "priority_score", "hazard_score", "score_status"):
        assert d[col].fillna("").tolist() == c[col].fillna("").tolist(), col
    assert set(d["exposure_class_input"]) == {"my own class"}
    assert set(d["priority_score_input"]) == {"oops"}
    # a riskmap output read back adds no *_input column (equal values are dropped)
    res = CliRunner().invoke(main, ["score", str(tmp_path / "clean_e.csv"), "-o", str(tmp_path / "again.csv")])
    assert res.exit_code == 0, res.output
    again = pd.read_csv(tmp_path / "again.csv", nrows=1)
    assert not [col for col in again.columns if col.endswith("_input")]


def _two_layer_gpkg(path: Path) -> Path:
    a = gpd.GeoDataFrame([_row("first")], geometry=[shapely.Point(OK_LON, OK_LAT)], crs="EPSG:4326")
    b = gpd.GeoDataFrame([_row("second1"), _row("second2")], geometry=[shapely.Point(OK_LON, OK_LAT),
                                                                        shapely.Point(18.78, 43.51)], crs="EPSG:4326")
    a.to_file(path, layer="plants")
    b.to_file(path, layer="tailings")
    return path


def test_multi_layer_geopackage_warns_and_layer_option_chooses(tmp_path):
    p = _two_layer_gpkg(tmp_path / "two.gpkg")
    with pytest.warns(RiskmapDataWarning, match=r"2 layers \('plants', 'tailings'\); read only the first"):
        assert list(riskmap.read_sites(p)["site_id"]) == ["first"]
    for layer in ("tailings", "1", 1):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RiskmapDataWarning)
            assert list(riskmap.read_sites(p, layer=layer)["site_id"]) == ["second1", "second2"]
    with pytest.raises(RiskmapInputError, match="no layer 'nope'; the file has 'plants', 'tailings'"):
        riskmap.read_sites(p, layer="nope")
    with pytest.raises(RiskmapInputError, match="no layer 5; the file has"):
        riskmap.read_sites(p, layer=5)
    csv = tmp_path / "c.csv"
    csv.write_text(f"site_id,name,category,coord_precision,source,lon,lat\na,A,mine,exact,t,{OK_LON},{OK_LAT}\n")
    with pytest.raises(RiskmapInputError, match="a CSV file has no layers or sheets"):
        riskmap.read_sites(csv, layer="tailings")
    res = CliRunner().invoke(main, ["assess", str(p), "-o", str(tmp_path / "o.csv"), "--layer", "tailings"])
    assert res.exit_code == 0 and "2 sites assessed" in res.output
    res = CliRunner().invoke(main, ["export", "drina", "--sites", str(p), "-o", str(tmp_path / "e.csv")])
    assert res.exit_code == 0 and "read only the first, 'plants'" in res.stderr


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)  # openpyxl saves formulas without a computed value
    return path


HEAD = ["site_id", "name", "category", "coord_precision", "source", "lon", "lat", "tailings_volume_m3"]


def test_multi_sheet_workbook_warns_and_layer_chooses(tmp_path):
    p = _workbook(tmp_path / "w.xlsx", {
        "notes": [HEAD, ["n1", "A", "mine", "exact", "t", OK_LON, OK_LAT, None]],
        "sites": [HEAD, ["s1", "B", "mine", "exact", "t", OK_LON, OK_LAT, None],
                  ["s2", "C", "mine", "exact", "t", 18.78, 43.51, None]]})
    with pytest.warns(RiskmapDataWarning, match=r"2 sheets \('notes', 'sites'\)"):
        assert list(riskmap.read_sites(p)["site_id"]) == ["n1"]
    assert list(riskmap.read_sites(p, layer="sites")["site_id"]) == ["s1", "s2"]
    res = CliRunner().invoke(main, ["sites", "summary", str(p), "--layer", "1"])
    assert res.exit_code == 0 and "sheets" not in res.stderr


def test_xlsx_formula_without_cached_value_reported(tmp_path):
    p = _workbook(tmp_path / "f.xlsx", {"sites": [
        HEAD,
        ["a", "A", "mine", "exact", "t", OK_LON, OK_LAT, 1000],
        ["b", "B", "mine", "exact", "t", OK_LON, OK_LAT, "=2*500"],
        ["c", "C", "mine", "exact", "t", "=19+0.3", OK_LAT, None]]})
    sites = _quiet_read(p)
    assert list(sites["site_id"]) == ["a"]
    text = _issues(sites)
    assert "line 3, row 2, column 'tailings_volume_m3': formula '=2*500' has no saved value" in text
    assert "line 4, row 3, column 'lon': formula '=19+0.3' has no saved value" in text


@pytest.mark.parametrize("col,value", [("lon", "1_9.3"), ("lat", "4_3.3"), ("tailings_volume_m3", "1_000")])
def test_underscore_numbers_refused(col, value, tmp_path):
    row = _row("a", lon=OK_LON, lat=OK_LAT, tailings_volume_m3="")
    row[col] = value
    p = tmp_path / "u.csv"
    pd.DataFrame([row, _row("b", lon=OK_LON, lat=OK_LAT)]).to_csv(p, index=False)
    sites = _quiet_read(p)
    assert list(sites["site_id"]) == ["b"]
    assert f"column '{col}'" in _issues(sites) and "underscore" in _issues(sites)


@pytest.mark.parametrize("value,ok", [("2024-01-01garbage", None), ("2024-01-01T00:00:00", "2024-01-01"),
                                      ("2024-01-01 12:30", "2024-01-01"), ("2024-13-01", None),
                                      ("2024-01-01", "2024-01-01"), ("01/02/2024", None)])
def test_dates_parsed_strictly(value, ok, tmp_path):
    p = tmp_path / "d.csv"
    pd.DataFrame([_row("a", lon=OK_LON, lat=OK_LAT, last_verified=value),
                  _row("b", lon=OK_LON, lat=OK_LAT)]).to_csv(p, index=False)
    sites = _quiet_read(p)
    if ok is None:
        assert list(sites["site_id"]) == ["b"]
        assert f"unparseable date {value!r}" in _issues(sites)
    else:
        assert sites.set_index("site_id").at["a", "last_verified"] == ok


def test_suspicious_locations_are_warnings_in_validate(tmp_path):
    p = tmp_path / "loc.csv"
    pd.DataFrame([_row("zero", lon=0, lat=0), _row("sea", lon=17.5, lat=42.0),       # Adriatic Sea
                  _row("paris", lon=2.35, lat=48.85), _row("ok", lon=OK_LON, lat=OK_LAT)]).to_csv(p, index=False)
    res = CliRunner().invoke(main, ["validate", str(p)])
    assert res.exit_code == 0, res.output  # warnings, not errors
    out = res.output
    assert "WARNING: " in out and "ERROR" not in out
    assert "row 1, column 'geometry': the site is at (0, 0)" in out
    assert "row 2, column 'geometry': the site (17.5, 42) is outside every country polygon" in out
    assert "row 3, column 'geometry': the site (2.35, 48.85) is far from riskmap's basins" in out
    assert "row 4" not in out


# ------------------------------------------------------------------ Hypothesis: geometry loaders

_coord = st.one_of(
    st.floats(-180, 180), st.floats(-90, 90), st.sampled_from([float("nan"), float("inf"), -float("inf"),
                                                                179.9, -179.9, 0.0, 4.8e6, 4.0e5, 1e300]),
    st.floats(allow_nan=True, allow_infinity=True))
_xy = st.tuples(_coord, _coord)


@st.composite
def _geometry(draw):
    kind = draw(st.sampled_from(["point", "line", "polygon"]))
    if kind == "point":
        return {"type": "Point", "coordinates": list(draw(_xy))}
    pts = [list(p) for p in draw(st.lists(_xy, min_size=2, max_size=5))]
    if kind == "line":
        return {"type": "LineString", "coordinates": pts}
    return {"type": "Polygon", "coordinates": [pts + [pts[0]]]}


def _check_loaded(sites) -> None:
    geoms = np.asarray(sites.geometry.values, dtype=object)
    if not len(geoms):
        return
    xy = shapely.get_coordinates(geoms)
    assert np.isfinite(xy).all()
    b = shapely.bounds(geoms)
    assert (b[:, 0] >= -180).all() and (b[:, 2] <= 180).all() and (b[:, 1] >= -90).all() and (b[:, 3] <= 90).all()
    assert ((b[:, 2] - b[:, 0]) <= 180).all()
    assert sites.crs.to_epsg() == 4326


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(geoms=st.lists(_geometry(), min_size=1, max_size=4), fmt=st.sampled_from(["geojson", "gpkg"]),
       crs=st.sampled_from([None, "EPSG:4326", "EPSG:32634", "EPSG:3857", "EPSG:32642"]))
def test_property_geometry_files_load_or_raise_riskmap_error(tmp_path_factory, geoms, fmt, crs):
    d = tmp_path_factory.mktemp("g")
    if fmt == "geojson":
        path = _geojson(d / "x.geojson", geoms)
        kw = {"crs": crs} if crs else {}
    else:
        path = d / "x.gpkg"
        try:
            shapes = [shapely.geometry.shape(g) for g in geoms]
            gpd.GeoDataFrame([_row(f"s{i}") for i in range(len(shapes))], geometry=shapes,
                             crs=crs).to_file(path)
        except Exception:  # noqa: BLE001 - GDAL cannot even write it: nothing to read
            return
        kw = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sites = riskmap.read_sites(path, **kw)
    except RiskmapError:
        return
    _check_loaded(sites)


# ------------------------------------------------------------------ Hypothesis: parameter files


def _leaves(node, where=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*where, k))
    else:
        yield where, node


_DEFAULT = {k: v for k, v in load_params().items() if k != "label"}
_PATHS = [p for p, _ in _leaves(_DEFAULT)]
_value = st.recursive(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6), st.booleans(),
              st.text(max_size=8), st.sampled_from([0.0, 0.5, 1.0, 4.0, 9.0, -1.0, 100.0])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["min", "max", "label", "value", "max_km", "x"]),
                                            inner, max_size=3)),
    max_leaves=6)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


def _toml(tree: dict) -> str:
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in tree.items())


def _set(tree: dict, path: tuple, value) -> None:
    for k in path[:-1]:
        nxt = tree.setdefault(k, {})
        if not isinstance(nxt, dict):
            return
        tree = nxt
    tree[path[-1]] = value


_SITES = gpd.GeoDataFrame(pd.DataFrame([
    {"site_id": "t1", "name": "T", "category": "tailings_metal", "country": "BIH", "basin": "drina",
     "substances": '[{"name": "cyanide", "quantity_t": 12, "wgk": 3}]', "tailings_volume_m3": 2.5e6,
     "tailings_type": "Pb-Zn flotation", "dam_condition": "poor", "downstream_countries": ["BIH", "SRB"],
     "transboundary_downstream": True, "first_border_river_km": 8.0, "travel_time_h": 3.0,
     "on_border_water": False, "coord_precision": "exact", "status": "closed", "source": "t"},
    {"site_id": "c1", "name": "C", "category": "chemical_plant", "country": "SRB", "basin": "drina",
     "substances": '[{"name": "chlorine", "quantity_t": 40, "wgk": 2}]', "tailings_volume_m3": np.nan,
     "tailings_type": None, "dam_condition": None, "downstream_countries": ["SRB"],
     "transboundary_downstream": False, "first_border_river_km": np.nan, "travel_time_h": np.nan,
     "on_border_water": False, "coord_precision": "exact", "status": "operating", "source": "t"}]),
    geometry=[shapely.Point(19.3, 43.5), shapely.Point(19.2, 44.3)], crs="EPSG:4326")
_NATECH = pd.DataFrame({"natech_seismic": [2.0, 1.0], "natech_flood": [3.0, 0.0]}, index=_SITES.index)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(_PATHS), _value), min_size=1, max_size=4),
       extra=st.one_of(st.none(), st.tuples(st.text(min_size=1, max_size=6), _value)))
def test_property_params_file_is_clean_error_or_valid(tmp_path_factory, changes, extra):
    tree: dict = {}
    for path, v in changes:
        _set(tree, path, v)
    if extra is not None:
        tree[extra[0]] = extra[1]
    p = tmp_path_factory.mktemp("p") / "p.toml"
    p.write_text(_toml(tree))
    try:
        params = load_params(p)
    except RiskmapInputError as e:
        assert str(p) in str(e)
        return
    for _, v in _leaves({k: v for k, v in params.items() if k != "label"}):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            assert math.isfinite(v) and v >= 0
    out = score(_SITES, params=params, natech=_NATECH)
    ps = out["priority_score"].to_numpy(dtype="float64")
    hz = out["hazard_score"].to_numpy(dtype="float64")
    assert np.all(np.isnan(ps) | ((ps >= 0) & (ps <= 100 + 1e-9)))
    assert np.all(np.isnan(hz) | ((hz >= 0) & (hz <= 1 + 1e-9)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=64))
def test_property_params_bytes_never_traceback(tmp_path_factory, raw):
    p = tmp_path_factory.mktemp("b") / "p.toml"
    p.write_bytes(raw)
    try:
        load_params(p)
    except RiskmapInputError:
        pass


# ------------------------------------------------------------------ hostile/careless files (probe, stop 27)


def test_empty_feature_collection_says_the_file_has_no_features(tmp_path):
    p = tmp_path / "empty.geojson"
    p.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(p)])
    assert r.exit_code == 1, r.output
    assert "the file has no features" in r.output
    assert "required column is missing" not in r.output


_HEADER = "site_id;name;category;lon;lat;source;coord_precision"


@pytest.mark.parametrize("title", ["Hazardous sites of the Drina basin, 2026\n\n",
                                   "Hazardous sites of the Drina basin;;;;;;\n"])
def test_csv_title_line_above_the_header_is_skipped_with_a_warning(tmp_path, title):
    p = tmp_path / "titled.csv"
    p.write_text(f"{title}{_HEADER}\na;Mine;mine;19,3;43,3;survey;exact\nb;Mine;minee;19,3;43,3;survey;exact\n",
                 encoding="utf-8")
    with pytest.warns(RiskmapDataWarning, match="a title above the header row was skipped"):
        sites = riskmap.read_sites(p)
    assert sites["site_id"].tolist() == ["a"]
    assert sites.geometry.iloc[0].x == pytest.approx(19.3)
    report = sites.attrs["validation"]
    header_line = title.count("\n") + 1
    err = report.errors[0]
    assert err.column == "category" and err.line == header_line + 2  # lines still count from the file's top
    assert f"the header is line {header_line}" in report.warnings[0].reason


def test_xlsx_title_row_above_the_header_is_skipped(tmp_path):
    import openpyxl

    p = tmp_path / "titled.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Sites of the Drina basin"])
    ws.append(_HEADER.split(";"))
    ws.append(["a", "Mine", "mine", 19.3, 43.3, "survey", "exact"])
    wb.save(p)
    r = CliRunner().invoke(main, ["validate", str(p)])
    assert r.exit_code == 0, r.output
    assert "1 kept" in r.output and "the header is line 2" in r.output


def test_lon_and_longitude_both_present_warns_and_refuses_rows_where_they_disagree(tmp_path):
    p = tmp_path / "both.csv"
    p.write_text("site_id,name,category,lon,longitude,lat,latitude,source,coord_precision\n"
                 "a,A,mine,19.3,19.3,43.3,43.3,s,exact\n"
                 "b,B,mine,19.3,20.3,43.3,43.3,s,exact\n"
                 "c,C,mine,19.3,,43.3,43.30,s,exact\n", encoding="utf-8")
    with pytest.warns(RiskmapDataWarning, match="1 of 3 rows dropped"):
        sites = riskmap.read_sites(p)
    assert sites["site_id"].tolist() == ["a", "c"]
    report = sites.attrs["validation"]
    assert {w.reason for w in report.warnings} == {
        "columns 'lon', 'longitude' give the same coordinate; 'lon' is used",
        "columns 'lat', 'latitude' give the same coordinate; 'lat' is used"}
    (err,) = report.errors
    assert err.row == 2 and err.column == "longitude" and "19.3 but longitude is 20.3" in err.reason


def test_a_site_line_thousands_of_km_long_is_a_warning(tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("site_id,name,category,lon,lat,geometry_wkt,source,coord_precision\n"
                 'a,A,mine,19.3,43.3,"LINESTRING (19.3 43.3, 60 60)",s,exact\n'
                 'b,B,pipeline,19.3,43.3,"LINESTRING (19.3 43.3, 25 44)",s,exact\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(p)])
    assert r.exit_code == 0, r.output  # a warning: the site is kept, the user told
    assert "1 warnings" in r.output
    assert "row 1, column 'geometry_wkt': the site's geometry spans 3,295 km, more than 500 km for one mine" in r.output
    assert "row 2" not in r.output  # a 470 km pipeline is plausible


def test_control_and_bidi_characters_in_text_are_a_warning(tmp_path):
    """An escape sequence or a bidi override in a name or note is kept (data) but the user is told where."""
    p = tmp_path / "ctl.csv"
    p.write_text("site_id,name,category,lon,lat,source,coord_precision,notes\n"
                 "a,Kumtor\x07 \x1b[31mred,mine,19.3,43.3,s,exact,fine\n"
                 "b,B,mine,19.3,43.3,s,exact,\u202egnirts desrever\n"
                 "c,C,mine,19.3,43.3,s,exact,\"two\tcolumns\nand two lines\"\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["validate", str(p)])
    assert r.exit_code == 0, r.output
    assert "3 rows read, 3 kept, 0 errors, 2 warnings" in r.output
    assert "row 1, column 'name': contains control or invisible characters (U+0007, U+001B)" in r.output
    assert "row 2, column 'notes': contains control or invisible characters (U+202E)" in r.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = riskmap.read_sites(p)
    assert sites["name"].iloc[0] == "Kumtor\x07 \x1b[31mred"  # kept as given
