"""Hostile and real-world inputs found by the new-user probe (November 2026).

Each test pins one defect the probe found: a GeometryCollection site, a spurious
warning of ``riskmap spill lon,lat``, header cells Excel leaves blank or
repeats, a GeoJSON date GDAL cannot parse, coordinates in degrees-minutes-seconds.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import riskmap
from riskmap.cli import main

_PROPS = {"category": "mine", "coord_precision": "exact", "source": "probe"}


def _feature(site_id: str, geometry: dict | None, **props: object) -> dict:
    return {"type": "Feature", "properties": {"site_id": site_id, "name": f"Site {site_id}", **_PROPS, **props},
            "geometry": geometry}


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _issues(report, column: str) -> list[str]:
    return [i.reason for i in report.issues if i.column == column]


# ---------------------------------------------------------------- GeometryCollection sites

_SQUARE = [[19.30, 43.70], [19.31, 43.70], [19.31, 43.71], [19.30, 43.71], [19.30, 43.70]]
_SQUARE2 = [[19.50, 43.70], [19.51, 43.70], [19.51, 43.71], [19.50, 43.71], [19.50, 43.70]]


def test_geometry_collection_of_one_kind_becomes_its_multi_geometry(tmp_path):
    """A collection of polygons is the site's footprint (a polygon layer in the GeoPackage), with a warning."""
    f = _geojson(tmp_path / "gc.geojson", [
        _feature("polys", {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "coordinates": [_SQUARE]}, {"type": "Polygon", "coordinates": [_SQUARE2]}]}),
        _feature("points", {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [19.3, 43.7]}, {"type": "Point", "coordinates": [19.4, 43.8]}]}),
    ])
    sites = riskmap.read_sites(f)
    kinds = dict(zip(sites["site_id"], sites.geom_type))
    assert kinds == {"polys": "MultiPolygon", "points": "MultiPoint"}
    assert len(_issues(sites.attrs["validation"], "geometry")) == 2
    out = riskmap.export_sites(riskmap.score(riskmap.assess(sites)), tmp_path / "gc.gpkg", basin="drina")
    import pyogrio

    layer_types = {str(n): str(t) for n, t in pyogrio.list_layers(out)}
    assert layer_types["site_areas"] == "MultiPolygon"


def test_geometry_collection_mixing_kinds_is_refused_with_its_row(tmp_path):
    """A point and a line in one collection: which is the site? Refused, naming the row (was: kept, and the
    GeoPackage ``site_areas`` layer became of 'Unknown' geometry type)."""
    f = _geojson(tmp_path / "mixed.geojson", [
        _feature("ok", {"type": "Point", "coordinates": [19.29, 43.78]}),
        _feature("gc", {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": [19.3, 43.7]},
            {"type": "LineString", "coordinates": [[19.3, 43.7], [19.4, 43.8]]}]}),
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = riskmap.read_sites(f)
    assert list(sites["site_id"]) == ["ok"]
    bad = [i for i in sites.attrs["validation"].issues if i.severity == "error"]
    assert len(bad) == 1 and bad[0].row == 2 and bad[0].column == "geometry"
    assert "GeometryCollection" in bad[0].reason and "point" in bad[0].reason and "line" in bad[0].reason


def test_geometry_collection_in_wkt_column_is_refused_too(tmp_path):
    f = tmp_path / "gc.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat,geometry_wkt\n"
                 "a,A,mine,exact,probe,19.3,43.7,\"GEOMETRYCOLLECTION (POINT (19.3 43.7), "
                 "LINESTRING (19.3 43.7, 19.4 43.8))\"\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 1
    assert "line 2, row 1, column 'geometry_wkt'" in res.output and "GeometryCollection" in res.output


# ---------------------------------------------------------------- spill from lon,lat


def test_spill_from_lon_lat_gives_no_warning_about_columns_the_user_never_gave():
    """``riskmap spill 19.29,43.78`` (Visegrad) warned that "the input has column(s) 'country_check'":
    the point was assessed twice and the second pass saw the first one's columns."""
    from riskmap._errors import RiskmapDataWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        site, basin = riskmap.spill.locate_release("19.29,43.78")
    assert basin == "drina" and site["country"] == "BIH"
    assert [str(w.message) for w in caught if issubclass(w.category, RiskmapDataWarning)] == []
    res = CliRunner().invoke(main, ["spill", "19.29,43.78", "--mass", "10t"])
    assert res.exit_code == 0, res.output
    assert "country_check" not in res.output and "warning" not in res.output


# ---------------------------------------------------------------- GeoJSON dates


def test_geojson_impossible_date_is_a_cell_error_not_a_refused_file(tmp_path):
    """GDAL typed ``last_verified`` as a date and '2024-02-30' stopped the whole file with "cannot read as
    geojson: ValueError: day is out of range for month" (no row, no column)."""
    f = _geojson(tmp_path / "dates.geojson", [
        _feature("a", {"type": "Point", "coordinates": [19.29, 43.78]}, last_verified="2024-02-03"),
        _feature("b", {"type": "Point", "coordinates": [19.30, 43.70]}, last_verified="2024-02-30"),
        _feature("c", {"type": "Point", "coordinates": [19.31, 43.71]}, last_verified="2024-03-01"),
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = riskmap.read_sites(f)
    assert dict(zip(sites["site_id"], sites["last_verified"])) == {"a": "2024-02-03", "c": "2024-03-01"}
    bad = [i for i in sites.attrs["validation"].issues if i.severity == "error"]
    assert [(i.row, i.column) for i in bad] == [(2, "last_verified")] and "2024-02-30" in bad[0].reason


# ---------------------------------------------------------------- header rows Excel leaves behind

_HEAD = "site_id;name;category;coord_precision;source;lon;lat"


def test_csv_with_trailing_nameless_columns_from_excel_is_read(tmp_path):
    """``...;lat;;;`` (Excel's trailing empty columns) was refused: "duplicate column names ['']"."""
    f = tmp_path / "excel.csv"
    f.write_bytes(("\ufeff" + _HEAD + ";;;\r\na;Mine A;mine;town;probe;19,36;43,36;;;\r\n").encode("utf-8"))
    sites = riskmap.read_sites(f)
    assert list(sites["site_id"]) == ["a"] and sites.geometry.iloc[0].x == pytest.approx(19.36)
    assert "" not in sites.columns and not any(str(c).startswith("column_") for c in sites.columns)
    assert sites.attrs["validation"].issues == []


def test_nameless_column_holding_values_is_kept_and_named_with_a_warning(tmp_path):
    """A value under a blank header cell is kept as ``column_<n>`` and reported (it was kept as a column
    with the empty name in CSV, and as pandas' 'Unnamed: 7' in XLSX, without a word)."""
    import openpyxl

    f = tmp_path / "stray.csv"
    f.write_text(_HEAD + ";;\na;Mine A;mine;town;probe;19,36;43,36;;see the permit\n", encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEAD.split(";") + [None, None])
    ws.append(["a", "Mine A", "mine", "town", "probe", 19.36, 43.36, None, "see the permit"])
    wb.save(tmp_path / "stray.xlsx")
    for path in (f, tmp_path / "stray.xlsx"):
        sites = riskmap.read_sites(path)
        assert sites.loc[0, "column_9"] == "see the permit", path
        assert "column_8" not in sites.columns and not any(str(c).startswith("Unnamed") for c in sites.columns)
        (issue,) = sites.attrs["validation"].issues
        assert issue.severity == "warning" and issue.column == "column_9" and "line 2" in issue.reason


def test_repeated_column_name_in_a_workbook_is_refused_like_in_csv(tmp_path):
    """XLSX ``name ... name`` was read as 'name' and 'name.1' in silence (CSV refuses it)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEAD.split(";") + ["name"])
    ws.append(["a", "Mine A", "mine", "town", "probe", 19.36, 43.36, "Other name"])
    wb.save(tmp_path / "dup.xlsx")
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "dup.xlsx")])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "dup.xlsx: line 1: duplicate column names ['name']" in res.output
    with pytest.raises(riskmap.RiskmapInputError, match="duplicate column names"):
        riskmap.read_sites(tmp_path / "dup.xlsx")


# ---------------------------------------------------------------- degrees, minutes, seconds


def test_dms_coordinates_are_refused_with_the_decimal_value_to_write(tmp_path):
    """``19°37'29"E`` was refused with the generic "e.g. 43.3563": the fix now gives the decimal value."""
    f = tmp_path / "dms.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "a,Vau i Dejes,dam_reservoir,town,probe,\"19°37'29\"\"E\",\"42°0'36\"\"N\"\n"
                 "b,Plain,mine,town,probe,not a number,42.01\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 1
    assert "line 2, row 1, column 'lon'" in res.output and "write 19.6247 (decimal degrees)" in res.output
    assert "line 2, row 1, column 'lat'" in res.output and "write 42.01 (decimal degrees)" in res.output
    assert "line 3, row 2, column 'lon'" in res.output and "e.g. 43.3563" in res.output
    res = CliRunner().invoke(main, ["validate", str(f), "--lang", "ru"])
    assert "запишите 19.6247 (десятичные градусы)" in res.output
    f.write_text("site_id;name;category;coord_precision;source;lon;lat\n"
                 "a;Vau i Dejes;dam_reservoir;town;probe;19°37'29\"E;42,01\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert "write 19,6247 (decimal degrees)" in res.output  # the file's decimal comma


# ---------------------------------------------------------------- a country the file did not give


def test_country_filled_from_the_location_is_not_reported_as_checked(tmp_path):
    """A file without countries: ``country_check`` said 'ok' (given and location agree) for every site,
    because ``read_sites`` had already filled the blanks; 'derived from location' never reached a user.
    Quvasoy (GeoNames 1513331, UZB) lies 2 km from the Natural Earth border and is placed in KGZ: the
    column must not claim that anyone's code was checked there."""
    f = tmp_path / "places.csv"
    f.write_text("site_id,name,category,coord_precision,source,country,lon,lat\n"
                 "quvasoy,Quvasoy,chemical_plant,town,geonames,,71.98026,40.29721\n"
                 "chinoz,Chinoz,chemical_plant,town,geonames,UZB,68.76128,40.93633\n"
                 "vau,Vau i Dejes,dam_reservoir,town,geonames,,19.62472,42.01\n", encoding="utf-8")
    out = tmp_path / "assessed.csv"
    res = CliRunner().invoke(main, ["assess", str(f), "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = riskmap.read_export(out).set_index("site_id")
    assert got.loc["quvasoy", "country_check"] == "derived from location"
    assert got.loc["vau", ["country", "country_check"]].tolist() == ["ALB", "derived from location"]
    assert got.loc["chinoz", ["country", "country_check"]].tolist() == ["UZB", "ok"]


# ---------------------------------------------------------------- Shapefiles that do not state their encoding


def _shapefile(path: Path, encoding: str, *, cpg: bool) -> Path:
    import geopandas as gpd
    import shapely

    g = gpd.GeoDataFrame({"site_id": ["a"], "name": ["Бајина Башта"], "category": ["mine"],
                          "coord_prec": ["town"], "source": ["probe"]},
                         geometry=[shapely.Point(19.5675, 43.97)], crs=4326)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.to_file(path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


def test_shapefile_without_cpg_in_cp1251_warns_that_its_text_is_garbled(tmp_path):
    """Cyrillic names in CP1251 without a .cpg came out as 'Áà¼èíà Áàøòà' without a word."""
    from riskmap._errors import RiskmapDataWarning

    f = _shapefile(tmp_path / "cyr.shp", "cp1251", cpg=False)
    with pytest.warns(RiskmapDataWarning, match="states no text encoding"):
        sites = riskmap.read_sites(f)
    (issue,) = sites.attrs["validation"].issues
    assert issue.column == "name" and "cyr.cpg" in issue.fix and "CP1251" in issue.fix
    (f.with_suffix(".cpg")).write_text("CP1251", encoding="ascii")  # the fix the message gives
    with warnings.catch_warnings():
        warnings.simplefilter("error", RiskmapDataWarning)
        assert riskmap.read_sites(f).loc[0, "name"] == "Бајина Башта"


def test_shapefile_without_cpg_in_utf8_is_read_as_utf8(tmp_path):
    f = _shapefile(tmp_path / "utf.shp", "UTF-8", cpg=False)
    sites = riskmap.read_sites(f)
    assert sites.loc[0, "name"] == "Бајина Башта" and sites.attrs["validation"].issues == []


def test_derived_country_survives_a_round_trip_through_an_assessed_file(tmp_path):
    """An assessed file read back keeps 'derived from location' (and gives no '_input' column warning)."""
    from riskmap._errors import RiskmapDataWarning

    f = tmp_path / "p.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "vau,Vau i Dejes,dam_reservoir,town,geonames,19.62472,42.01\n", encoding="utf-8")
    first = tmp_path / "a.csv"
    assert CliRunner().invoke(main, ["assess", str(f), "-o", str(first)]).exit_code == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RiskmapDataWarning)
        again = riskmap.assess(riskmap.read_sites(first))
    assert again.loc[0, "country_check"] == "derived from location"
    assert not [c for c in again.columns if c.endswith("_input")]


# ---------------------------------------------------------------- identifiers Excel shortened


def test_identifier_in_excel_scientific_notation_is_warned_about(tmp_path):
    """'1,23457E+11' (Excel's display of 123456789012, saved so) was kept as the site_id without a word."""
    f = tmp_path / "excel.csv"
    f.write_text("site_id;name;category;coord_precision;source;source_id;lon;lat\n"
                 "1,23457E+11;Mine A;mine;town;probe;4.5E+15;19,36;43,36\n"
                 "1E5-b;Mine B;mine;town;probe;12345;19,37;43,37\n", encoding="utf-8")
    sites = riskmap.read_sites(f)
    assert list(sites["site_id"]) == ["1,23457E+11", "1E5-b"]  # kept: a warning, not a refusal
    got = [(i.row, i.column, i.severity) for i in sites.attrs["validation"].issues]
    assert got == [(1, "site_id", "warning"), (1, "source_id", "warning")]


# ---------------------------------------------------------------- UTF-16 text


def test_utf16_with_bom_is_read_and_without_bom_named_as_such(tmp_path):
    """Excel's "Unicode Text" (UTF-16 with BOM, tabs) was refused as "not UTF-8 (byte 0xff at offset 0)";
    UTF-16 without a BOM as "contains NUL bytes; it is not a text CSV"."""
    text = ("site_id\tname\tcategory\tcoord_precision\tsource\tlon\tlat\n"
            "a\tБајина Башта\tmine\ttown\tprobe\t19.5675\t43.97\n")
    (tmp_path / "u16.txt").write_bytes(text.encode("utf-16"))
    sites = riskmap.read_sites(tmp_path / "u16.txt")
    assert sites.loc[0, "name"] == "Бајина Башта" and sites.attrs["validation"].ok
    (tmp_path / "u16le.csv").write_bytes(text.replace("\t", ",").encode("utf-16-le"))
    res = CliRunner().invoke(main, ["validate", str(tmp_path / "u16le.csv")])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert "looks like UTF-16 text without a byte order mark" in res.output


def test_derived_country_of_a_site_outside_every_basin_is_kept(tmp_path):
    """Kucove (Albania, Devoll/Seman basin): the country read_sites derived must not be blanked by assess."""
    f = tmp_path / "p.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "kucove,Kucove refinery,oil_refinery_depot,town,geonames,19.91667,40.80028\n", encoding="utf-8")
    got = riskmap.assess(riskmap.read_sites(f))
    assert got.loc[0, ["basin", "country"]].tolist()[1] == "ALB" and not isinstance(got.loc[0, "basin"], str)


# ---------------------------------------------------------------- x/y columns read with --crs


def test_bad_projected_coordinate_names_its_column_and_value(tmp_path):
    """With --crs, '38611x' or a blank x was reported as "column 'geometry': geometry is empty" (the file
    has no such column); the x cell and its value are named now, and '386 119' reads as 386119 like
    every other number."""
    f = tmp_path / "utm.csv"
    f.write_text("site_id,name,category,coord_precision,source,x,y\n"
                 "a,A,mine,town,probe,386119,4651800\n"
                 "b,B,mine,town,probe,38611x,4651800\n"
                 "c,C,mine,town,probe,386119,\n"
                 "d,D,mine,town,probe,386 119,4651800\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f), "--crs", "EPSG:32634"])
    assert res.exit_code == 1, res.output
    assert "line 3, row 2, column 'x': unparseable coordinate: '38611x' is not a number" in res.output
    assert "line 4, row 3, column 'y': coordinate is blank" in res.output
    assert "geometry is empty" not in res.output and "2 kept" in res.output


def test_crs_option_that_contradicts_the_file_is_reported(tmp_path):
    """``--crs EPSG:4326`` on a GeoPackage in UTM 34N was ignored without a word (the file's CRS wins)."""
    import geopandas as gpd
    import shapely

    from riskmap._errors import RiskmapDataWarning

    g = gpd.GeoDataFrame({"site_id": ["a"], "name": ["A"], "category": ["mine"], "coord_precision": ["town"],
                          "source": ["probe"]}, geometry=[shapely.Point(19.36, 43.36)], crs=4326).to_crs(32634)
    g.to_file(tmp_path / "utm.gpkg")
    with pytest.warns(RiskmapDataWarning, match="--crs EPSG:4326 is not used: the file declares its own CRS"):
        sites = riskmap.read_sites(tmp_path / "utm.gpkg", crs="EPSG:4326")
    assert sites.geometry.iloc[0].x == pytest.approx(19.36)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RiskmapDataWarning)
        riskmap.read_sites(tmp_path / "utm.gpkg", crs="EPSG:32634")  # agrees: nothing to say


# ---------------------------------------------------------------- flood depth rasters with undeclared nodata


def test_negative_flood_depth_is_unknown_not_dry(tmp_path):
    """A flood-depth raster whose nodata (-9999) is not declared: a site outside every basin (no distance
    to water: flood class unknown) read "dry", class 0. Now the depth is unknown, with a warning, and the
    class comes from the distance to water alone (unknown outside the basins)."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from riskmap._errors import RiskmapDataWarning

    def raster(name: str, value: float) -> Path:
        path = tmp_path / name
        with rasterio.open(path, "w", driver="GTiff", height=60, width=60, count=1, dtype="float32",
                           crs="EPSG:4326", transform=from_origin(18.0, 44.5, 0.05, 0.05)) as dst:
            dst.write(np.full((60, 60), value, dtype="float32"), 1)
        return path

    f = tmp_path / "p.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "sekovici,Sekovici,mine,town,geonames,18.85532,44.29896\n"
                 "sarajevo,Sarajevo plant,chemical_plant,town,probe,18.41,43.86\n", encoding="utf-8")
    assessed = riskmap.assess(riskmap.read_sites(f))
    no_raster = riskmap.score(assessed)["natech_flood"]
    assert no_raster.isna().tolist() == [False, True]  # Sarajevo: outside the basins, not measured
    with pytest.warns(RiskmapDataWarning, match=r"2 sites have a negative flood depth \(lowest -9999 m"):
        undeclared = riskmap.score(assessed, rasters={"flood_depth": raster("nodata.tif", -9999.0)})
    assert undeclared["natech_flood"].iloc[0] == no_raster.iloc[0]
    assert np.isnan(undeclared["natech_flood"].iloc[1])  # was 0: "dry"
    deep = riskmap.score(assessed, rasters={"flood_depth": raster("deep.tif", 2.0)})
    assert deep["natech_flood"].notna().all() and deep["natech_flood"].iloc[1] > 0


# ---------------------------------------------------------------- an output folder holding an input


def test_contingency_and_exercise_never_write_over_their_contacts_file(tmp_path):
    """``contingency --contacts out/drina_timelines.csv -o out`` wrote the timelines over the contacts
    file (only the folder itself was compared with the inputs)."""
    contacts = tmp_path / "drina_timelines.csv"
    text = "country,role,organisation,contact\nSRB,civil protection,Sector for Emergency Management,+381\n"
    contacts.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["contingency", "drina", "--contacts", str(contacts), "--sites", "top:1",
                                    "--no-pdf", "-o", str(tmp_path)])
    assert res.exit_code != 0 and "would overwrite the input file" in res.output
    sid = "gem-gcpt-L100000100104"
    injects = tmp_path / f"{sid}_exercise_injects.csv"
    injects.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["exercise", "drina", "--site", sid, "--contacts", str(injects),
                                    "-o", str(tmp_path)])
    assert res.exit_code != 0 and "would overwrite the input file" in res.output
    assert contacts.read_text(encoding="utf-8") == text and injects.read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([contacts.name, injects.name])


# ---------------------------------------------------------------- dates Excel rewrote


def test_excel_rewritten_dates_get_the_probable_iso_date_in_the_fix(tmp_path):
    """'01.02.2024' (day first, as written in the basins' countries) and an Excel serial day (45000) get the
    ISO date they probably mean in the fix; an ambiguous '2/1/2024' keeps the plain fix."""
    f = tmp_path / "dates.csv"
    f.write_text("site_id;name;category;coord_precision;source;last_verified;lon;lat\n"
                 "a;A;mine;town;probe;01.02.2024;19,36;43,36\n"
                 "b;B;mine;town;probe;45000;19,37;43,37\n"
                 "c;C;mine;town;probe;2/1/2024;19,38;43,38\n"
                 "d;D;mine;town;probe;31.02.2024;19,39;43,39\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 1
    out = res.output
    assert "row 1, column 'last_verified': unparseable date '01.02.2024'. Fix: write the date as YYYY-MM-DD " \
           "(here probably 2024-02-01)" in out
    assert "(here probably 2023-03-15)" in out
    assert "unparseable date '2/1/2024'. Fix: write the date as YYYY-MM-DD\n" in out
    assert "unparseable date '31.02.2024'. Fix: write the date as YYYY-MM-DD\n" in out


def test_geometry_collection_of_invalid_polygons_is_repaired_not_a_traceback(tmp_path):
    """A bow-tie polygon in a collection made the first version of the collection fix raise a GEOS
    TopologyException (a union of invalid polygons); the parts are now repaired like any invalid footprint."""
    bow = [[19.3, 43.7], [19.31, 43.71], [19.31, 43.7], [19.3, 43.71], [19.3, 43.7]]
    f = _geojson(tmp_path / "bow.geojson", [
        _feature("bow", {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "coordinates": [bow]}, {"type": "Polygon", "coordinates": [_SQUARE]}]}),
        _feature("empty", {"type": "GeometryCollection", "geometries": []}),
    ])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sites = riskmap.read_sites(f)
    assert list(sites["site_id"]) == ["bow"] and sites.geometry.is_valid.all()
    reasons = [i.reason for i in sites.attrs["validation"].issues]
    assert any("repaired with make_valid" in r for r in reasons) and any("geometry is empty" in r for r in reasons)


def test_nameless_column_named_like_an_existing_one_gets_a_free_name(tmp_path):
    """A worksheet whose header already has 'column_7' and a value in the nameless 7th column crashed with
    "'DataFrame' object has no attribute 'dtype'" (two columns named column_7); found by fuzzing."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["column_7", "site_id", "name", "category", "coord_precision", "source", None, "lon", "lat"])
    ws.append(["x", "a", "A", "mine", "town", "probe", "stray", 19.36, 43.36])
    wb.save(tmp_path / "clash.xlsx")
    sites = riskmap.read_sites(tmp_path / "clash.xlsx")
    assert sites.loc[0, "column_7"] == "x" and sites.loc[0, "column_7_2"] == "stray"


def test_geopackage_export_without_point_sites_keeps_a_point_sites_layer(tmp_path):
    """Only footprints: the empty ``sites`` layer was of geometry type 'Unknown' (found by fuzzing exports)."""
    import pyogrio

    f = _geojson(tmp_path / "areas.geojson", [
        _feature("area", {"type": "Polygon", "coordinates": [_SQUARE]}, category="tailings_metal")])
    out = riskmap.export_sites(riskmap.score(riskmap.assess(riskmap.read_sites(f))), tmp_path / "a.gpkg",
                               basin="drina")
    types = {str(n): str(t) for n, t in pyogrio.list_layers(out)}
    assert types["sites"] == "Point" and types["site_areas"] in ("Polygon", "MultiPolygon")
    back = riskmap.read_export(out)
    assert list(back["site_id"]) == ["area"]


def test_geojson_ids_keep_the_digits_of_the_file(tmp_path):
    """An id column mixing integers and decimals is typed Real by GDAL: 123456789012345678 came back as
    1.2345678901234568e+17 (with a misleading "Excel" warning); the file's own text is kept."""
    import json

    from riskmap import read_sites

    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [19.3, 43.7]},
              "properties": {"site_id": sid, "name": f"S{i}", "category": "mine", "coord_precision": "exact",
                             "source": "probe", "source_id": 987654321098765432}}
             for i, sid in enumerate([123456789012345678, 17.5, 18])]
    f = tmp_path / "ids.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    sites = read_sites(f)
    assert sites["site_id"].tolist() == ["123456789012345678", "17.5", "18"]
    assert sites["source_id"].tolist() == ["987654321098765432"] * 3
