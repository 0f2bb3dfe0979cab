"""Schema and validation: every problem is reported precisely."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from riskmap import schema
from riskmap import RiskmapValidationError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def _raw(**over):
    base = {"site_id": ["s1"], "name": ["Mine"], "category": ["mine"], "lon": [19.36], "lat": [43.36],
            "source": ["survey"], "coord_precision": ["exact"]}
    base.update({k: [v] for k, v in over.items()})
    return pd.DataFrame(base)


def _issue(report, column=None, contains=""):
    hits = [i for i in report.issues if (column is None or i.column == column) and contains in i.reason]
    assert hits, f"no issue for column={column!r} containing {contains!r}: {report}"
    return hits[0]


def test_good_row_keeps_values_and_missing_stays_missing():
    sites, report = schema.validate_sites(_raw(tailings_volume_m3="1200.5"))
    assert report.ok and len(sites) == 1
    assert sites.crs.to_epsg() == 4326
    assert sites.loc[0, "tailings_volume_m3"] == 1200.5
    assert np.isnan(sites.loc[0, "capacity_mw"])  # missing, never 0
    assert sites.loc[0, "status"] == "unknown"
    assert list(sites.columns[:-1]) == schema.column_names()


def test_missing_required_column_refuses_file():
    raw = _raw().drop(columns=["category"])
    with pytest.raises(RiskmapValidationError) as e:
        schema.validate_sites(raw, file="x.csv")
    iss = _issue(e.value.report, "category", "required column is missing")
    assert iss.row is None and iss.file == "x.csv"


def test_unknown_category_suggests_closest():
    _, report = schema.validate_sites(_raw(category="Uranium tailings"))
    iss = _issue(report, "category", "unknown category")
    assert "tailings_uranium" in iss.fix and iss.row == 1


@pytest.mark.parametrize("lon,lat,column,text", [
    (43.36, 19.36, "lon/lat", "swapped"),
    (19.4, 95.0, "lat", "out of range"),
    (450000, 4800000, "lon/lat", "projected"),
    ("19.x", 43.0, "lon", "unparseable"),
])
def test_coordinate_problems(lon, lat, column, text):
    _, report = schema.validate_sites(_raw(lon=lon, lat=lat), line_offset=2)
    iss = _issue(report, column, text)
    assert iss.row == 1 and iss.line == 2 and iss.severity == "error"


def test_duplicate_site_id_and_unknown_country():
    raw = pd.concat([_raw(), _raw(country="KYR")], ignore_index=True)
    sites, report = schema.validate_sites(raw)
    assert len(sites) == 1
    dup = _issue(report, "site_id", "duplicate")
    assert dup.row == 2
    ctry = _issue(report, "country", "unknown country code")
    assert "KGZ" in ctry.fix


def test_kosovo_alias_is_repaired_with_warning():
    sites, report = schema.validate_sites(_raw(country="KOS", lon=20.7, lat=42.2))
    assert sites.loc[0, "country"] == "XKX"
    assert _issue(report, "country").severity == "warning"


def test_invalid_polygon_repaired_and_empty_refused():
    bowtie = shapely.Polygon([(19, 43), (19.1, 43.1), (19.1, 43), (19, 43.1), (19, 43)])
    gdf = gpd.GeoDataFrame(_raw().drop(columns=["lon", "lat"]).iloc[[0, 0]].reset_index(drop=True),
                           geometry=[bowtie, shapely.Polygon()], crs="EPSG:4326")
    gdf.loc[1, "site_id"] = "s2"
    sites, report = schema.validate_sites(gdf)
    assert len(sites) == 1 and sites.geometry.iloc[0].is_valid
    assert _issue(report, "geometry", "make_valid").severity == "warning"
    assert _issue(report, "geometry", "empty").row == 2


def test_projected_geodataframe_is_reprojected():
    raw = _raw().drop(columns=["lon", "lat"])
    g = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy([19.36], [43.36]), crs="EPSG:4326").to_crs(32634)
    sites, report = schema.validate_sites(g)
    assert report.ok
    assert sites.geometry.x.iloc[0] == pytest.approx(19.36, abs=1e-6)


def test_strict_mode_raises_lenient_keeps_good_rows():
    raw = pd.concat([_raw(), _raw(site_id="s2", category="bogus")], ignore_index=True)
    sites, report = schema.validate_sites(raw)
    assert len(sites) == 1 and len(report.errors) == 1
    with pytest.raises(RiskmapValidationError):
        schema.validate_sites(raw, strict=True)


def test_substances_parse_and_reject():
    good = json.dumps([{"name": "NaCN", "quantity_t": "12", "wgk": 3}, {"name": "As", "wgk": None}])
    sites, report = schema.validate_sites(_raw(substances=good))
    assert report.ok
    parsed = schema.parse_substances(sites.loc[0, "substances"])
    assert parsed == [{"name": "NaCN", "quantity_t": 12.0, "wgk": "3"},
                      {"name": "As", "quantity_t": None, "wgk": "unknown"}]
    _, report = schema.validate_sites(_raw(substances='[{"name": "x", "wgk": 7}]'))
    assert "wgk" in _issue(report, "substances").reason


def test_negative_and_decimal_comma_numbers():
    _, report = schema.validate_sites(_raw(dam_height_m="-3"))
    assert _issue(report, "dam_height_m", "negative")
    sites, report = schema.validate_sites(_raw(dam_height_m="12,5", lon="19,36"), decimal_comma=True)
    assert report.ok and sites.loc[0, "dam_height_m"] == 12.5


def test_schema_doc_is_generated_from_code():
    """docs/schema.md lists every column and vocabulary value of the code."""
    text = DOCS.read_text(encoding="utf-8")
    for c in schema.COLUMNS:
        assert re.search(rf"^\| `{c.name}` \|", text, re.M), c.name
    for vocab in (schema.CATEGORIES, schema.STATUSES, schema.COORD_PRECISIONS):
        for v in vocab:
            assert f"`{v}`" in text, v
    assert text == schema.schema_markdown()


def test_validation_report_frame_has_whole_line_and_row_numbers(tmp_path):
    """``validate --report`` writes line/row as whole numbers (not 2.0), blank for a file-level issue."""
    from riskmap.io import read_sites
    from riskmap import RiskmapValidationError

    f = tmp_path / "v.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\ns1,A,tailings_metal,exact,t,999,42\n")
    with pytest.raises(RiskmapValidationError) as e:
        read_sites(f)
    df = e.value.report.to_frame()
    assert str(df["line"].dtype) == "Int64" and df["line"].iloc[0] == 2 and df["row"].iloc[0] == 1
    assert "2,1," in df.to_csv(index=False) and ",2.0," not in df.to_csv(index=False)
    assert df["line"].isna().iloc[-1]


def test_lonlat_far_from_the_wkt_geometry_is_a_warning(tmp_path):
    """A row whose lon/lat point and WKT footprint are 4,100 km apart is kept (placed by the WKT) with a
    warning naming the distance; a label point inside its footprint gives none."""
    from riskmap.io import read_sites

    wkt = '"POLYGON((69.6 40.8,69.7 40.8,69.7 40.9,69.6 40.8))"'
    f = tmp_path / "w.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat,geometry_wkt\n"
                 f"s1,A,tailings_metal,exact,t,19.1,44.3,{wkt}\ns2,B,tailings_metal,exact,t,69.65,40.83,{wkt}\n")
    sites = read_sites(f)
    rep = sites.attrs["validation"]
    assert len(sites) == 2 and sites.geometry.iloc[0].centroid.x > 69
    warn = [str(i) for i in rep.warnings]
    assert len(warn) == 1 and "row 1" in warn[0] and "4,100 km" in warn[0]


def test_site_id_with_invisible_characters_is_refused(tmp_path):
    """'a1' and 'a1' + ZERO WIDTH SPACE look alike: the second row is refused, naming the code point."""
    from riskmap.io import read_sites

    f = tmp_path / "ids.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "a1,A,tailings_metal,exact,t,19.5,42.1\na1\u200b,B,tailings_metal,exact,t,19.6,42.1\n",
                 encoding="utf-8")
    sites = read_sites(f)
    assert list(sites["site_id"]) == ["a1"]
    err = [str(i) for i in sites.attrs["validation"].errors]
    assert len(err) == 1 and "U+200B" in err[0] and "row 2" in err[0]


@pytest.mark.parametrize("text, value", [("12 345", 12345.0), ("1 200 000.5", 1200000.5), ("1\u00a0234.5", 1234.5),
                                         ("1 5", None), ("12 34", None), ("1 2345", None)])
def test_spaces_in_numbers_only_as_thousands_separators(tmp_path, text, value):
    from riskmap.io import read_sites

    f = tmp_path / "n.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat,dam_height_m\n"
                 f's1,A,tailings_metal,exact,t,19.5,42.1,"{text}"\n', encoding="utf-8")
    from riskmap import RiskmapValidationError

    if value is None:
        with pytest.raises(RiskmapValidationError, match="spaces inside"):
            read_sites(f)
    else:
        assert read_sites(f)["dam_height_m"].iloc[0] == value


def test_a_country_code_the_location_contradicts_is_a_warning(tmp_path):
    """Zvornik (BIH) given as ALB and Shkoder (ALB) given as MNE are reported; Zvornik as BIH is not, nor a
    town within the border margin."""
    from riskmap.io import read_sites

    f = tmp_path / "c.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat,country\n"
                 "c1,Z,tailings_metal,exact,t,19.1022,44.3864,ALB\nc2,Y,tailings_metal,exact,t,19.1022,44.3864,BIH\n"
                 "c3,X,tailings_metal,exact,t,19.5126,42.0693,MNE\n"
                 "c4,M,tailings_metal,exact,t,19.1065,44.3734,BIH\n", encoding="utf-8")  # Mali Zvornik (SRB), 1 km
    sites = read_sites(f)
    warn = [str(i) for i in sites.attrs["validation"].warnings]
    assert len(warn) == 2 and "ALB given, but the site lies in BIH" in warn[0] and "row 3" in warn[1]
    assert list(sites["country"]) == ["ALB", "BIH", "MNE", "BIH"]  # kept as given: data, not corrected
