"""Hostile inputs found by the second new-user probe (November 2026).

Each test pins one defect: a raster that covers none of the sites (wrong CRS or area) gave
all-unknown columns in silence, a complex-valued band was read as unknown, an infinite pixel
read as a flood of class 3, a contacts row with an unquoted comma lost its last fields, a
HydroSHEDS file with a feature without geometry or with no feature at all ended in a traceback.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from rasterio.transform import from_origin

import riskmap
import riskmap._paths
from riskmap import RiskmapDataWarning, RiskmapInputError
from riskmap.cli import main
from riskmap.contingency_params import load_contingency_params, read_contacts
from riskmap.i18n import use_lang
from riskmap.rasters import sample

_SITES = ("site_id,name,category,coord_precision,source,lon,lat\n"
          "s1,Alpha,mine,exact,probe,19.30,43.70\n"
          "s2,Beta,tailings_metal,exact,probe,19.45,43.85\n")


def _raster(path: Path, values: np.ndarray, *, crs: str | None = "EPSG:4326",
            transform=None, nodata: float | None = None) -> Path:
    """A one-band GeoTIFF of ``values`` (default: 0.01-degree pixels from 18.5 E, 44.5 N)."""
    profile = {"driver": "GTiff", "height": values.shape[0], "width": values.shape[1], "count": 1,
               "dtype": values.dtype, "transform": transform or from_origin(18.5, 44.5, 0.01, 0.01)}
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
    return path


@pytest.fixture(scope="module")
def assessed(tmp_path_factory):
    f = tmp_path_factory.mktemp("sites") / "sites.csv"
    f.write_text(_SITES, encoding="utf-8")
    return riskmap.assess(riskmap.read_sites(f))


# ---------------------------------------------------------------- rasters


def test_raster_of_another_area_warns_with_its_extent(assessed, tmp_path):
    """A UTM raster 15 km east of both sites: every raster column unknown, and the user is told where it lies."""
    utm = _raster(tmp_path / "pop.tif", np.ones((300, 300), np.float32), crs="EPSG:32634",
                  transform=from_origin(380000, 4850000, 100, 100))
    with pytest.warns(RiskmapDataWarning, match=r"pop\.tif: raster pop gives no value at any of the 2 sites "
                                                r"\(outside the raster, which covers lon 19\.51\.\.19\.89"):
        out = riskmap.score(assessed, rasters={"pop": utm})
    assert out["raster_pop"].isna().all() and out["raster_pop_site_max"].isna().all()


def test_all_nodata_raster_warns_in_russian_too(assessed, tmp_path):
    empty = _raster(tmp_path / "depth.tif", np.full((300, 300), -9999, np.float32), nodata=-9999)
    with use_lang("ru"), pytest.warns(RiskmapDataWarning, match="не даёт значения ни для одного из 2 объектов"):
        riskmap.score(assessed, rasters={"flood_depth": empty})


def test_raster_covering_a_site_gives_no_coverage_warning(assessed, tmp_path):
    one = _raster(tmp_path / "one.tif", np.full((1, 1), 2.0, np.float32),
                  transform=from_origin(19.295, 43.705, 0.01, 0.01))  # a 1x1-pixel raster over site s1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RiskmapDataWarning)
        out = riskmap.score(assessed, rasters={"pop": one})
    assert out.set_index("site_id").loc["s1", "raster_pop"] == 2.0


def test_complex_raster_is_refused_naming_band_and_type(assessed, tmp_path):
    cplx = _raster(tmp_path / "cplx.tif", np.ones((50, 50), np.complex64))
    with pytest.raises(RiskmapInputError, match=r"cplx\.tif: band 1 holds complex64 values, not real numbers.*"
                                                r"gdal_translate -ot Float32"):
        riskmap.score(assessed, rasters={"flood_depth": cplx})
    res = CliRunner().invoke(main, ["score", "--raster", f"pop={cplx}", "-o", str(tmp_path / "o.csv"),
                                    "--lang", "ru", str(_sites_file(tmp_path))])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "канал 1 содержит значения типа complex64" in res.output
    assert not (tmp_path / "o.csv").exists()


def _sites_file(tmp_path: Path) -> Path:
    f = tmp_path / "sites.csv"
    f.write_text(_SITES, encoding="utf-8")
    return f


def test_infinite_pixel_is_unknown_not_a_deep_flood(assessed, tmp_path):
    """``inf`` is no depth: it read as class 3 ('deep flood') at the site while the site buffer said unknown."""
    inf = _raster(tmp_path / "inf.tif", np.full((300, 300), np.inf, np.float32))
    pts = gpd.GeoSeries(gpd.points_from_xy([19.3], [43.7]), crs="EPSG:4326")
    assert np.isnan(sample(pts, inf)).all()
    with pytest.warns(RiskmapDataWarning, match="gives no value"):
        out = riskmap.score(assessed, rasters={"flood_depth": inf})
    assert out["raster_flood_depth"].isna().all()
    plain = riskmap.score(assessed)
    assert out["natech_flood"].tolist() == plain["natech_flood"].tolist()  # the distance proxy, not class 3


# ---------------------------------------------------------------- contacts


def _contacts(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "contacts.csv"
    f.write_text(text, encoding="utf-8")
    return f


def test_contacts_row_with_an_unquoted_comma_is_refused_not_cut(tmp_path):
    """The phone number after 'Ministry of Interior, Sector ...' was dropped without a word."""
    f = _contacts(tmp_path, "country,role,organisation,contact\n"
                            "SRB,focal point,Ministry of Interior, Sector for Emergency Management,+381 11 123\n")
    with pytest.raises(RiskmapInputError, match=r"contacts\.csv: row 2: 5 fields, the header has 4; put values "
                                                r"holding a comma in double quotes"):
        read_contacts(f)
    with use_lang("ru"), pytest.raises(RiskmapInputError, match=r"строка 2: полей 5, а в заголовке 4"):
        read_contacts(f)


def test_contacts_quoted_comma_and_empty_trailing_fields_are_read(tmp_path):
    f = _contacts(tmp_path, "country,role,organisation,contact\n"
                            'SRB,focal point,"Ministry of Interior, Sector for Emergency Management",+381 11 123,,\n')
    c = read_contacts(f)
    assert c.to_dict("records") == [{"country": "SRB", "role": "focal point",
                                     "organisation": "Ministry of Interior, Sector for Emergency Management",
                                     "contact": "+381 11 123"}]


def test_contacts_repeated_column_is_refused(tmp_path):
    f = _contacts(tmp_path, "country,role,organisation,contact,contact\nSRB,a,b,c,d\n")
    with pytest.raises(RiskmapInputError, match=r"row 1: column\(s\) contact appear more than once"):
        read_contacts(f)


def test_contingency_cli_refuses_the_cut_contact_and_writes_nothing(tmp_path):
    f = _contacts(tmp_path, "country,role,organisation,contact\nBIH,a,b,c,d\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["contingency", "drina", "--sites", "top:1", "--no-pdf", "--contacts", str(f),
                                    "-o", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "row 2: 5 fields, the header has 4" in res.output
    assert not out.exists() or not any(out.iterdir())


# ---------------------------------------------------------------- contingency parameters


def test_contingency_table_written_as_a_value_is_named_as_such(tmp_path):
    """``meta = 5`` was reported as "unknown table [meta]; known: exercise, meta, tailings"."""
    f = tmp_path / "p.toml"
    f.write_text("meta = 5\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match=r"p\.toml: meta must be a table \(\[meta\] followed by its keys\), "
                                                r"got 5"):
        load_contingency_params(f)


# ---------------------------------------------------------------- HydroSHEDS import


def test_hydrosheds_river_without_geometry_is_a_clear_error(hydrosheds, tmp_path):
    from riskmap.databuild.hydrosheds import import_hydrosheds

    bp, rp, out = hydrosheds
    r = gpd.read_file(rp)
    r.loc[1, "geometry"] = None
    bad = tmp_path / "no_geom.shp"
    r.to_file(bad)
    with pytest.raises(RiskmapInputError, match=r"no_geom\.shp: 1 HydroRIVERS feature\(s\) without a geometry "
                                                r"\(first: row 2\)"):
        import_hydrosheds(bp, bad, outlet=(0.75, 0.04), name="x", out_dir=out)
    assert not (out / "x.gpkg").exists()


def test_hydrosheds_file_without_features_is_a_clear_error(hydrosheds, tmp_path):
    from riskmap.databuild.hydrosheds import import_hydrosheds

    bp, rp, out = hydrosheds
    empty = tmp_path / "empty.shp"
    gpd.read_file(rp).iloc[0:0].to_file(empty)
    res = CliRunner().invoke(main, ["data", "import-hydrosheds", "--basins", str(bp), "--rivers", str(empty),
                                    "--outlet", "0.75,0.04", "--name", "x", "--out", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "empty.shp: the HydroRIVERS file has no features" in res.output
    with pytest.raises(RiskmapInputError, match="has no features"):
        import_hydrosheds(bp, empty, outlet=(0.75, 0.04), name="x", out_dir=out)


# ---------------------------------------------------------------- matrix --weight


def _capacities(tmp_path: Path) -> Path:
    f = tmp_path / "cap.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat,capacity_mw\n"
                 "s1,A,thermal_power_plant,exact,probe,19.30,43.70,300\n"
                 "s2,B,thermal_power_plant,exact,probe,19.45,43.85,\n", encoding="utf-8")
    return f


@pytest.mark.parametrize("lang,unknown,said", [
    ("en", "unknown", "cap.csv: 1 of 2 sites has no capacity_mw: the sums leave it out (unknown, not 0)"),
    ("ru", "неизвестно", "cap.csv: у 1 объекта из 2 нет значения capacity_mw"),
])
def test_matrix_weight_says_unknown_and_counts_the_sites_without_a_value(tmp_path, lang, unknown, said):
    """The terminal printed 'nan' for a sum of unknown weights and skipped the sites without one in silence."""
    res = CliRunner().invoke(main, ["matrix", str(_capacities(tmp_path)), "--weight", "capacity_mw", "--lang", lang])
    assert res.exit_code == 0, res.output
    assert "nan" not in res.output.lower()
    assert unknown in res.output and "300" in res.output
    assert said in " ".join(res.output.split())


def test_matrix_weight_known_everywhere_warns_nothing(tmp_path):
    f = _capacities(tmp_path)
    f.write_text(f.read_text(encoding="utf-8").replace("19.85,\n", "19.85,50\n").replace("43.85,\n", "43.85,50\n"),
                 encoding="utf-8")
    res = CliRunner().invoke(main, ["matrix", str(f), "--weight", "capacity_mw"])
    assert res.exit_code == 0, res.output
    assert "warning" not in res.output and "unknown" not in res.output


# ---------------------------------------------------------------- Shapefile parts


def _shapefile(path: Path, name: str = "Рудник Бор") -> Path:
    g = gpd.GeoDataFrame({"site_id": ["s1"], "name": [name], "category": ["mine"], "coord_prec": ["exact"],
                          "source": ["probe"]}, geometry=gpd.points_from_xy([19.3], [43.7]), crs="EPSG:4326")
    g.to_file(path, encoding="cp1251")
    return path


@pytest.mark.parametrize("part", [".dbf", ".shx"])
def test_shapefile_without_its_dbf_or_shx_is_refused_naming_the_part(tmp_path, part):
    """Without its .dbf the file read as geometries only ('required column site_id is missing, found: geometry');
    without its .shx GDAL's advice was to set SHAPE_RESTORE_SHX."""
    shp = _shapefile(tmp_path / "sites.shp")
    shp.with_suffix(part).unlink()
    with pytest.raises(RiskmapInputError, match=rf"sites\.shp: the Shapefile's \{part} file\(s\) are missing beside "
                                                r"it .* copy every file of the Shapefile \(sites\.shp, \.shx, \.dbf"):
        riskmap.read_sites(shp)
    res = CliRunner().invoke(main, ["validate", str(shp)])
    assert res.exit_code == 2 and "Traceback" not in res.output and "SHAPE_RESTORE_SHX" not in res.output


def test_shapefile_with_brackets_in_its_name_reads_its_own_parts_not_a_neighbours(tmp_path):
    """``u[1].shp`` was globbed as ``u[1].*``, which matches ``u1.cpg``: the neighbour's .cpg hid the missing one."""
    shp = _shapefile(tmp_path / "u[1].shp")
    (tmp_path / "u[1].cpg").unlink()
    (tmp_path / "u1.cpg").write_text("1251", encoding="ascii")
    with pytest.warns(RiskmapDataWarning):
        sites = riskmap.read_sites(shp)
    assert [i.column for i in sites.attrs["validation"].issues] == ["name"]
    assert "no .cpg file" in sites.attrs["validation"].issues[0].reason
    (tmp_path / "u[1].cpg").write_text("1251", encoding="ascii")
    assert riskmap.read_sites(shp)["name"].tolist() == ["Рудник Бор"]


# ---------------------------------------------------------------- basin imports over the reference basins


def test_import_under_a_reference_basin_name_never_replaces_it(hydrosheds, tmp_path, monkeypatch):
    """``riskmap data import-hydrosheds --name drina`` wrote a bare HydroSHEDS basin over data/basins/drina.gpkg."""
    import riskmap._paths
    import riskmap.cli._base

    bp, rp, out = hydrosheds
    data = tmp_path / "data"
    (data / "basins").mkdir(parents=True)
    for f in ("countries.gpkg",):
        (data / "basins" / f).write_bytes((out / f).read_bytes())
    bundled = data / "basins" / "drina.gpkg"
    bundled.write_bytes(b"the curated basin")
    monkeypatch.setattr(riskmap._paths, "DATA_DIR", data)
    monkeypatch.setattr(riskmap.cli._base, "DATA_DIR", data)
    monkeypatch.setattr(riskmap.cli._base, "data_dir_is_writable_default", lambda: True)
    args = ["data", "import-hydrosheds", "--basins", str(bp), "--rivers", str(rp), "--outlet", "0.75,0.04"]
    res = CliRunner().invoke(main, [*args, "--name", "drina"])
    assert res.exit_code == 2, res.output
    assert "--name drina: drina is a reference basin of riskmap" in res.output and "drina_hydrosheds" in res.output
    assert bundled.read_bytes() == b"the curated basin"
    res = CliRunner().invoke(main, ["data", "build-from-dem", "x.tif", "--outlet", "0.75,0.04", "--name", "drina"])
    assert res.exit_code == 2 and "reference basin" in res.output
    res = CliRunner().invoke(main, [*args, "--name", "drina", "--out", str(out)])  # the user's own folder
    assert res.exit_code == 0, res.output
    assert (out / "drina.gpkg").is_file() and bundled.read_bytes() == b"the curated basin"


# ---------------------------------------------------------------- XLSX cells of assess/score -o


@pytest.mark.parametrize("cmd", ["assess", "score"])
def test_assess_and_score_xlsx_refuse_a_cell_excel_cannot_hold_like_export(tmp_path, cmd):
    """``score -o x.xlsx`` cut a 100,000-character note to 32,767 with a raw Python UserWarning (data lost);
    ``export --format xlsx`` already refused it."""
    f = tmp_path / "long.csv"
    f.write_text(_SITES.replace("\ns2,", f",\"{'x' * 100_000}\"\ns2,", 1).replace(",lat\n", ",lat,notes\n", 1),
                 encoding="utf-8")
    out = tmp_path / "o.xlsx"
    res = CliRunner().invoke(main, [cmd, str(f), "-o", str(out), "--lang", "ru"])
    assert res.exit_code == 2, res.output
    assert "site 's1', column 'notes'" not in res.output  # the message is translated
    assert "объект 's1', столбец 'notes': символов 100,000, больше, чем вмещает ячейка XLSX" in res.output
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))
    res = CliRunner().invoke(main, [cmd, str(f), "-o", str(tmp_path / "o.csv")])  # CSV keeps it whole
    assert res.exit_code == 0, res.output
    assert len(riskmap.read_sites(tmp_path / "o.csv").set_index("site_id").loc["s1", "notes"]) == 100_000


# ---------------------------------------------------------------- contingency selections and tailings categories


@pytest.mark.parametrize("categories,shown", [('[1, 2]', "1, 2"), ('["tailings"]', "'tailings'")])
def test_tailings_categories_that_match_no_site_are_refused(tmp_path, categories, shown):
    """``categories = ["tailings"]`` (not a schema category) silently turned the tailings release rule off."""
    f = tmp_path / "p.toml"
    f.write_text(f"[tailings]\ncategories = {categories}\n", encoding="utf-8")
    with pytest.raises(RiskmapInputError, match=rf"p\.toml: tailings\.categories: not a site category: {shown}; "
                                                r"use any of tailings_metal, tailings_uranium"):
        load_contingency_params(f)
    f.write_text('[tailings]\ncategories = ["tailings_metal", "tailings_ash"]\n', encoding="utf-8")
    assert load_contingency_params(f)["tailings"]["categories"] == ["tailings_metal", "tailings_ash"]


def test_contingency_site_given_twice_gets_one_card_and_a_warning(tmp_path):
    sid = "lit-suplja-stijena-pb-zn-mine-flotation-tailings-inc"
    res = CliRunner().invoke(main, ["contingency", "drina", "--sites", f"{sid},{sid}", "--no-pdf",
                                    "-o", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert f"--sites: {sid} given more than once; one card per site" in res.output
    assert res.output.count("card: ") == 1


# ---------------------------------------------------------------- text lost to an encoding


def test_geojson_lone_surrogate_escape_is_reported_not_silently_replaced(tmp_path):
    """GDAL reads ``"A\\ud800B"`` (valid JSON, no valid character) as ``A\\ufffdB``: the name changed without a word."""
    f = tmp_path / "s.geojson"
    f.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"site_id": "s1", '
                 '"name": "A\\ud800B", "category": "mine", "coord_precision": "exact", "source": "p"}, '
                 '"geometry": {"type": "Point", "coordinates": [19.3, 43.7]}}, {"type": "Feature", "properties": '
                 '{"site_id": "s2", "name": "pair \\ud83d\\ude00", "category": "mine", "coord_precision": "exact", '
                 '"source": "p"}, "geometry": {"type": "Point", "coordinates": [19.4, 43.7]}}]}', encoding="ascii")
    sites = riskmap.read_sites(f)
    issues = sites.attrs["validation"].issues
    assert [(i.row, i.column) for i in issues] == [(1, "name")]  # the surrogate pair (an emoji) is fine
    assert "U+FFFD" in issues[0].reason and "wrong text encoding" in issues[0].reason
    assert sites["name"].tolist() == ["A\ufffdB", "pair \U0001F600"]  # kept as read
    res = CliRunner().invoke(main, ["validate", str(f), "--lang", "ru"])
    assert res.exit_code == 0 and "знак символа, потерянного из-за неверной кодировки" in res.output


# ---------------------------------------------------------------- huge rasters


def test_zonal_statistics_read_in_strips_are_the_same(tmp_path, monkeypatch):
    """The strip-by-strip reading gives the statistics of one read, also for a geometry smaller than a pixel."""
    import shapely

    from riskmap import rasters

    rng = np.random.default_rng(7)
    values = rng.normal(5, 2, (300, 300)).astype(np.float32)
    values[rng.random((300, 300)) < 0.1] = -9999
    tif = _raster(tmp_path / "v.tif", values, nodata=-9999)
    geoms = gpd.GeoSeries([shapely.Point(19.7, 43.3).buffer(0.4), shapely.box(19.001, 43.001, 19.003, 43.003),
                           shapely.LineString([(18.6, 44.4), (21.4, 41.6)]).buffer(0.02), None], crs="EPSG:4326")
    stats = ("mean", "max", "min", "sum", "median", "std", "count")
    whole = rasters.zonal_stats(geoms, tif, stats=stats)
    monkeypatch.setattr(rasters, "ZONAL_STRIP_PIXELS", 50)  # one or a few rows per strip
    strips = rasters.zonal_stats(geoms, tif, stats=stats)
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(whole, strips)
    assert whole.loc[1, "count"] == 1 and whole.loc[3, "count"] == 0 and whole.loc[0, "count"] > 4000


def test_long_corridor_over_a_10_m_raster_reads_strips_not_its_bounding_box(tmp_path):
    """A diagonal 2 km corridor over a 3x3-degree 10 m raster (10^9 pixels) allocated its whole bounding box
    (0.7 x 0.7 degrees: 57 million pixels, about 0.7 GB); 1.55 GB peak for ``score`` of two sites."""
    import tracemalloc

    import shapely

    from riskmap.rasters import zonal_stats

    res = 1 / 10800
    tif = tmp_path / "huge.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=32400, height=32400, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(18.0, 45.0, res, res), tiled=True, blockxsize=512,
                       blockysize=512, compress="deflate", nodata=-9999, sparse_ok=True, BIGTIFF="YES") as dst:
        dst.write(np.full((512, 512), 0.5, np.float32), 1, window=rasterio.windows.Window(0, 0, 512, 512))
    corridor = gpd.GeoSeries([shapely.LineString([(18.01, 44.99), (18.7, 44.3)]).buffer(0.01)], crs="EPSG:4326")
    tracemalloc.start()
    try:
        out = zonal_stats(corridor, tif, stats=("max", "count"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.loc[0, "max"] == 0.5 and out.loc[0, "count"] > 0
    assert peak < 250e6, f"{peak / 1e6:.0f} MB"  # 1,294 MB before, about 100 MB in strips


# ---------------------------------------------------------------- questionnaire of hostile names


def test_questionnaire_of_escape_and_formula_names_is_written_and_merges_without_false_changes(tmp_path):
    """A site name with ESC ended ``questionnaire write`` in openpyxl's IllegalCharacterError traceback; names
    starting with ``=``, ``@`` or ``-`` came back from an untouched workbook as 'fixed column changed'."""
    import openpyxl

    names = ["\x1b[31mRED\x1b[0m\x07", "=cmd|' /C calc'!A0", "@SUM(1)", "-1+2", "Plain"]
    f = tmp_path / "inv.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat,country,basin\n" + "".join(
        f'q{i},"{n.replace(chr(34), chr(34) * 2)}",mine,exact,probe,{19.3 + i * 0.01},43.7,BIH,drina\n'
        for i, n in enumerate(names)), encoding="utf-8")
    wb_path = tmp_path / "q.xlsx"
    res = CliRunner().invoke(main, ["questionnaire", "drina", "--country", "BIH", "--sites", str(f),
                                    "-o", str(wb_path)])
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    cells = [c for ws in openpyxl.load_workbook(wb_path) for row in ws.iter_rows() for c in row]
    shown = {c.value for c in cells if isinstance(c.value, str)}
    assert "_x001B_[31mRED_x001B_[0m_x0007_" in shown and "'=cmd|' /C calc'!A0" in shown
    assert not [c for c in cells if c.data_type == "f" and "cmd" in str(c.value)]
    res = CliRunner().invoke(main, ["questionnaire", "merge", str(wb_path), "--sites", str(f),
                                    "-o", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    assert "fixed column changed" not in res.output and "0 errors and 0 warnings" in res.output


def test_raster_errors_are_translated(tmp_path):
    """The raster errors (no CRS, unreadable, missing band) were English under ``--lang ru``."""
    nocrs = _raster(tmp_path / "nocrs.tif", np.ones((5, 5), np.float32), crs=None)
    text = tmp_path / "text.tif"
    text.write_text("not a raster", encoding="utf-8")
    pts = gpd.GeoSeries(gpd.points_from_xy([19.3], [43.7]), crs="EPSG:4326")
    with use_lang("ru"):
        with pytest.raises(RiskmapInputError, match="nocrs.tif: у растра нет системы координат"):
            sample(pts, nocrs)
        with pytest.raises(RiskmapInputError, match="text.tif: не удаётся открыть как растр"):
            sample(pts, text)
        with pytest.raises(RiskmapInputError, match=r"канала 2 нет \(каналов в растре: 1\)"):
            sample(pts, _raster(tmp_path / "one.tif", np.ones((5, 5), np.float32)), band=2)


def test_score_summary_names_the_statuses_in_russian(tmp_path):
    """``riskmap score --lang ru`` printed '(insufficient data: 2)' in a Russian sentence."""
    res = CliRunner().invoke(main, ["score", str(_sites_file(tmp_path)), "-o", str(tmp_path / "s.csv"), "--lang", "ru"])
    assert res.exit_code == 0, res.output
    assert "(недостаточно данных: 2)" in res.output and "insufficient" not in res.output


# ---------------------------------------------------------------- a site exactly on a border line


def test_site_exactly_on_a_border_vertex_gets_a_country_and_its_downstream_path(tmp_path):
    """A site on a vertex of the BIH-SRB border (the Drina) lay in no country polygon: no country,
    'not checked (outside the basin countries)' and no downstream country, without a word."""
    f = tmp_path / "on_border.csv"
    f.write_text("site_id,name,category,coord_precision,source,lon,lat\n"
                 "b1,On the border,mine,exact,probe,19.4484559,44.1444384\n", encoding="utf-8")
    import shapely

    c = gpd.read_file(riskmap._paths.DATA_DIR / "basins" / "countries.gpkg", layer="countries").set_index("iso3")
    pt = shapely.Point(19.4484559, 44.1444384)
    assert c.loc["BIH", "geometry"].touches(pt) and c.loc["SRB", "geometry"].touches(pt)  # on both boundaries
    sites = riskmap.read_sites(f)
    assert [(i.column, i.severity) for i in sites.attrs["validation"].issues] == [("country", "warning")]
    assert "lies exactly on the border of BIH and SRB" in sites.attrs["validation"].issues[0].reason
    a = riskmap.assess(sites).iloc[0]
    assert a["country"] in ("BIH", "SRB") and a["country_check"] == "derived from location"
    assert "BIH|SRB" in str(a["downstream_countries"]) and a["basin"] == "drina"
