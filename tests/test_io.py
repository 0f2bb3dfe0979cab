"""Loaders and writers: every format round-trips values, types and CRS; writes are atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import riskmap
from riskmap import io
from riskmap import RiskmapError
from riskmap.schema import column_names

FORMATS = ["csv", "xlsx", "geojson", "gpkg", "parquet", "shp"]


@pytest.fixture
def sites() -> gpd.GeoDataFrame:
    raw = pd.DataFrame({
        "site_id": ["a", "b", "c"],
        "name": ["Pljevlja TPP", "Čelebić tailings «old»", "=HYPERLINK(\"http://evil\")"],
        "category": ["thermal_power_plant", "tailings_metal", "pipeline"],
        "status": ["operating", None, "planned"],
        "country": ["MNE", "MNE", "BIH"],
        "coord_precision": ["exact", "town", "approximate"],
        "source": ["gem-gcpt", "survey", "-minus source"],
        "source_id": ["L1", "7", "P9"],
        "tailings_volume_m3": [np.nan, 3.0e6, np.nan],
        "capacity_mw": [225.0, np.nan, np.nan],
        "substances": [None, json.dumps([{"name": "Pb", "quantity_t": 10, "wgk": 3}]), None],
        "notes": ["line1\nline2, with comma", None, "@sum"],
    })
    geoms = [shapely.Point(19.32714, 43.334574),
             shapely.Polygon([(19.35, 43.35), (19.36, 43.35), (19.36, 43.36), (19.35, 43.35)]),
             shapely.LineString([(18.9, 44.6), (19.1, 44.7)])]
    gdf = gpd.GeoDataFrame(raw.drop(columns=[]), geometry=geoms, crs="EPSG:4326")
    out, report = riskmap.validate_sites(gdf)
    assert report.ok
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(sites, tmp_path, fmt):
    path = tmp_path / f"sites.{fmt}"
    if fmt == "shp":  # one geometry type per shapefile
        sites = sites[sites.geom_type == "Point"]
    io.write_sites(sites, path)
    back = riskmap.read_sites(path, strict=True)
    assert back.crs.to_epsg() == 4326
    assert list(back.columns[: len(column_names())]) == column_names()
    for c in column_names():
        a, b = sites[c], back[c]
        if a.dtype == "float64":
            assert back[c].dtype == "float64", c
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), equal_nan=True, err_msg=c)
        else:
            assert a.tolist() == b.tolist(), (c, a.tolist(), b.tolist())
    # geometry: points exact to 1e-7 degrees; lines/polygons kept
    for g0, g1 in zip(sites.geometry, back.geometry):
        assert g0.geom_type == g1.geom_type
        assert g0.equals_exact(g1, 1e-6)


def test_shapefile_refuses_mixed_geometries(sites, tmp_path):
    with pytest.raises(RiskmapError, match="one geometry type"):
        io.write_sites(sites, tmp_path / "s.shp")
    assert not list(tmp_path.iterdir())


def test_csv_is_formula_safe_and_has_lon_lat(sites, tmp_path):
    path = io.write_sites(sites, tmp_path / "s.csv")
    text = path.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'-minus source" in text and "'@sum" in text
    header = text.splitlines()[0].split(",")
    assert header[: len(column_names())] == column_names()
    assert header[len(column_names()): len(column_names()) + 3] == ["lon", "lat", "geometry_wkt"]


def test_csv_bytes_deterministic(sites, tmp_path):
    a = io.write_sites(sites, tmp_path / "a.csv").read_bytes()
    b = io.write_sites(sites, tmp_path / "b.csv").read_bytes()
    assert a == b


def test_read_csv_bom_semicolon_decimal_comma(tmp_path):
    p = tmp_path / "eu.csv"
    p.write_bytes("\ufeffsite_id;name;category;lon;lat;source;coord_precision;dam_height_m\n"
                  "x;Brana;dam_reservoir;19,289;43,7614;survey;exact;79,5\n".encode("utf-8"))
    s = riskmap.read_sites(p, strict=True)
    assert s.loc[0, "dam_height_m"] == 79.5
    assert s.geometry.x.iloc[0] == pytest.approx(19.289)


def test_read_projected_xy_with_crs(tmp_path):
    from pyproj import Transformer
    x, y = Transformer.from_crs(4326, 32634, always_xy=True).transform(20.0431, 42.2514)
    p = tmp_path / "utm.csv"
    p.write_text(f"site_id,name,category,x,y,source,coord_precision\nf,Fierza,dam_reservoir,{x},{y},s,exact\n")
    s = riskmap.read_sites(p, crs="EPSG:32634", strict=True)
    assert s.geometry.x.iloc[0] == pytest.approx(20.0431, abs=1e-6)
    assert s.geometry.y.iloc[0] == pytest.approx(42.2514, abs=1e-6)


def test_ragged_csv_row_reported_with_line(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("site_id,name,category,lon,lat,source,coord_precision\n"
                 "a,A,mine,19,43,s,exact\n"
                 "b,B,mine,19,43,s,exact,EXTRA\n"
                 "c,C,mine,19,43,s,bogus\n")
    s = riskmap.read_sites(p)
    rep = s.attrs["validation"]
    assert list(s["site_id"]) == ["a"]
    extra = [i for i in rep.errors if "fields" in i.reason][0]
    assert (extra.row, extra.line) == (2, 3)
    bogus = [i for i in rep.errors if i.column == "coord_precision"][0]
    assert (bogus.row, bogus.line) == (3, 4)


def test_atomic_write_leaves_existing_file_untouched(sites, tmp_path, monkeypatch):
    target = tmp_path / "s.gpkg"
    io.write_sites(sites, target)
    before = target.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", boom)
    with pytest.raises(RuntimeError):
        io.write_sites(sites, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.gpkg"]  # no temp file left


def test_input_never_modified(sites, tmp_path):
    p = io.write_sites(sites, tmp_path / "s.csv")
    before, mtime = p.read_bytes(), os.stat(p).st_mtime_ns
    riskmap.read_sites(p)
    assert p.read_bytes() == before and os.stat(p).st_mtime_ns == mtime


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage", b"a,b\n\"unclosed", b"site_id,site_id\n1,2\n"])
def test_unreadable_files_give_riskmap_errors(tmp_path, content):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(RiskmapError) as e:
        riskmap.read_sites(p)
    assert str(p) in str(e.value)


def test_unknown_extension(tmp_path):
    p = tmp_path / "x.dbf"
    p.write_text("x")
    with pytest.raises(RiskmapError, match="extension"):
        riskmap.read_sites(p)


# ---- property-based: malformed input never produces a foreign traceback -------

_HEADER = ["site_id", "name", "category", "lon", "lat", "source", "coord_precision", "tailings_volume_m3"]
cell = st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.sampled_from(["mine", "exact", "19.3", "43.3", "", "NaN", "1e400", "-0", ";", "\"", "\n"]))


def _only_riskmap_outcome(path: Path) -> None:
    try:
        s = riskmap.read_sites(path)
    except RiskmapError:
        return
    assert isinstance(s, gpd.GeoDataFrame)
    assert s.crs is not None and s.crs.to_epsg() == 4326
    assert s["site_id"].is_unique


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=10), max_size=6),
       header=st.lists(st.sampled_from(_HEADER + ["x", ""]), min_size=0, max_size=9),
       sep=st.sampled_from([",", ";"]))
def test_fuzz_csv(tmp_path_factory, rows, header, sep):
    p = tmp_path_factory.mktemp("fz") / "f.csv"
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    p.write_text("\n".join(lines), encoding="utf-8")
    _only_riskmap_outcome(p)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda ch: st.one_of(st.lists(ch, max_size=4), st.dictionaries(
        st.sampled_from(["type", "features", "geometry", "coordinates", "properties", "site_id", "category"]),
        ch, max_size=4)), max_leaves=20),
    valid_props=st.booleans())
def test_fuzz_geojson(tmp_path_factory, data, valid_props):
    p = tmp_path_factory.mktemp("fz") / "f.geojson"
    if valid_props:
        data = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": data if isinstance(data, dict) else {"type": "Point", "coordinates": data},
             "properties": {"site_id": "a", "name": "n", "category": "mine", "source": "s",
                            "coord_precision": "exact"}}]}
    p.write_text(json.dumps(data), encoding="utf-8")
    _only_riskmap_outcome(p)


def test_extra_columns_are_kept_not_dropped(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("site_id,name,category,lon,lat,source,coord_precision,my_code,basin\n"
                 "a,A,mine,19.3,43.3,s,exact,K-7,drina\n")
    s = riskmap.read_sites(p, strict=True)
    assert s.loc[0, "my_code"] == "K-7" and s.loc[0, "basin"] == "drina"
    assert list(s.columns[: len(column_names())]) == column_names()


def test_tab_delimited_csv_is_read(tmp_path):
    from riskmap.io import read_sites

    f = tmp_path / "t.csv"
    f.write_text("site_id\tname\tcategory\tcoord_precision\tsource\tlon\tlat\n"
                 "s1\tA, with a comma\ttailings_metal\texact\tt\t19.5\t42.1\n", encoding="utf-8")
    s = read_sites(f)
    assert list(s["name"]) == ["A, with a comma"] and s.geometry.iloc[0].x == 19.5


def test_line_numbers_count_physical_lines_after_a_multiline_field(tmp_path):
    """A quoted name over three lines: the next record's error names its physical line (5), and row 2."""
    from riskmap.io import read_sites

    f = tmp_path / "m.csv"
    f.write_text('site_id,name,category,coord_precision,source,lon,lat\n'
                 's1,"multi\nline\nname",tailings_metal,exact,t,19.5,42.1\n'
                 's2,B,tailings_metal,exact,t,999,42.1\n', encoding="utf-8")
    s = read_sites(f, strict=False)
    err = [str(i) for i in s.attrs["validation"].errors]
    assert len(err) == 1 and "line 5, row 2" in err[0]
    assert s["name"].iloc[0] == "multi\nline\nname"


def test_z_dropped_and_one_point_multipoints_are_points(tmp_path):
    """One 3-D point no longer makes the whole layer 3-D, and a one-point MultiPoint is a Point."""
    import json

    import shapely

    from riskmap.io import read_sites

    def feat(sid, geom):
        return {"type": "Feature", "geometry": geom, "properties": {
            "site_id": sid, "name": sid, "category": "tailings_metal", "coord_precision": "exact", "source": "t"}}

    f = tmp_path / "z.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        feat("z1", {"type": "Point", "coordinates": [19.5, 42.1, 100]}),
        feat("z2", {"type": "MultiPoint", "coordinates": [[19.6, 42.1]]}),
        feat("z3", {"type": "Point", "coordinates": [19.7, 42.1]})]}))
    s = read_sites(f)
    assert not shapely.has_z(s.geometry.values).any() and set(s.geometry.geom_type) == {"Point"}
    warn = [str(i) for i in s.attrs["validation"].warnings]
    assert len(warn) == 1 and "Z coordinates dropped" in warn[0] and "row 1" in warn[0]
