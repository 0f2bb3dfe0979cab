"""Natech under climate change (issue 19 item 5): scenario rasters at real site locations, end to end.

The GeoTIFFs are generated here over the Drina basin (riskmap ships no climate data):
a "present" and a "2050" flood-depth field that grow eastwards, the same 2050 field
in another CRS (Web Mercator), an all-nodata raster, a raster far from the sites
and one without a CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from riskmap import RiskmapDataWarning, RiskmapInputError
from riskmap.cli import main
from riskmap.contingency import climate_section_html
from riskmap.natech import NO_CLIMATE_DATA, climate_scenarios, parse_scenario_key

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin

X0, Y0, RES, COLS, ROWS = 18.0, 45.0, 0.01, 300, 280


def present(lon):
    return (lon - 18.0) * 0.8


def future(lon):
    return (lon - 18.0) * 1.2


def _write(path, values, crs="EPSG:4326", transform=None, nodata=-9999.0):
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform or from_origin(X0, Y0, RES, RES),
                       nodata=nodata) as dst:
        dst.write(values.astype("float32"), 1)
    return path


def _grid(f):
    lon = X0 + RES * (np.arange(COLS) + 0.5)
    return np.tile(f(lon), (ROWS, 1))


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    d = tmp_path_factory.mktemp("climate")
    out = {"present": _write(d / "present.tif", _grid(present)), "2050": _write(d / "2050.tif", _grid(future)),
           "nodata": _write(d / "nodata.tif", np.full((ROWS, COLS), -9999.0)),
           "far": _write(d / "far.tif", _grid(future), transform=from_origin(0.0, 10.0, RES, RES))}
    # the 2050 field in Web Mercator (another CRS): same values at the same places
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src_t = from_origin(X0, Y0, RES, RES)
    t, w, h = calculate_default_transform("EPSG:4326", "EPSG:3857", COLS, ROWS, X0, Y0 - RES * ROWS, X0 + RES * COLS, Y0)
    dst = np.full((h, w), -9999.0, dtype="float32")
    reproject(_grid(future).astype("float32"), dst, src_transform=src_t, src_crs="EPSG:4326", dst_transform=t,
              dst_crs="EPSG:3857", resampling=Resampling.nearest, dst_nodata=-9999.0)
    out["2050_3857"] = _write(d / "2050_3857.tif", dst, crs="EPSG:3857", transform=t)
    nocrs = d / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(X0, Y0, RES, RES)) as dst_:
        dst_.write(np.ones((4, 4), dtype="float32"), 1)
    out["nocrs"] = nocrs
    return out


@pytest.fixture(scope="module")
def drina_sites():
    from riskmap.pipeline import read_step

    s = read_step().sites
    s = s[(s["basin"] == "drina") & (s.geometry.geom_type == "Point")].head(12).copy()
    assert len(s) == 12
    return s


def _expected(f, lon):
    col = np.floor((lon - X0) / RES)
    return f(X0 + RES * (col + 0.5))


def test_classes_per_scenario_and_change_at_real_sites(rasters, drina_sites):
    out = climate_scenarios(drina_sites, {"flood:present": rasters["present"], "flood:2050": rasters["2050"]})
    lon = drina_sites.geometry.x.to_numpy()
    assert np.allclose(out["climate_flood_present"], _expected(present, lon), atol=1e-5)
    assert np.allclose(out["climate_flood_2050"], _expected(future, lon), atol=1e-5)
    # classes from params/climate.toml (the natech.toml flood-depth steps): >= 1 m -> 3, >= 0.01 m -> 2
    exp_p = np.where(out["climate_flood_present"] >= 1.0, 3, 2)
    exp_f = np.where(out["climate_flood_2050"] >= 1.0, 3, 2)
    assert (out["climate_flood_present_class"] == exp_p).all() and (out["climate_flood_2050_class"] == exp_f).all()
    assert ((exp_f - exp_p) == 1).any()  # the fixture crosses the 1 m step for some real sites
    assert out["climate_flood_change"].tolist() == [f"2050: {d:+d}" for d in (exp_f - exp_p)]
    assert (out["climate_flood_present_status"] == "ok").all()


def test_other_crs_gives_the_same_values(rasters, drina_sites):
    a = climate_scenarios(drina_sites, {"flood:2050": rasters["2050"]})["climate_flood_2050"]
    b = climate_scenarios(drina_sites, {"flood:2050": rasters["2050_3857"]})["climate_flood_2050"]
    assert np.allclose(a, b, atol=0.013)  # nearest-pixel resampling: within one pixel's change


def test_bad_rasters_give_no_data_or_a_clear_error(rasters, drina_sites):
    for bad in ("nodata", "far"):
        with pytest.warns(RiskmapDataWarning, match="gives no value at any of the 12 sites"):
            out = climate_scenarios(drina_sites, {"flood:present": rasters["present"], "flood:2050": rasters[bad]})
        assert (out["climate_flood_2050_status"] == "no data").all()
        assert out["climate_flood_2050"].isna().all() and out["climate_flood_2050_class"].isna().all()
        assert (out["climate_flood_change"] == "2050: no data").all()
    with pytest.raises(RiskmapInputError, match="no CRS"):
        climate_scenarios(drina_sites, {"flood:present": rasters["nocrs"]})
    with pytest.raises(RiskmapInputError, match="not found"):
        climate_scenarios(drina_sites, {"flood:present": "/nonexistent/x.tif"})
    with pytest.raises(RiskmapInputError, match="HAZARD:SCENARIO"):
        parse_scenario_key("flood:")


def test_hazard_without_class_table_keeps_values_and_unknown_class(rasters, drina_sites):
    out = climate_scenarios(drina_sites, {"landslide:present": rasters["present"]})
    assert out["climate_landslide_present"].notna().all()
    assert out["climate_landslide_present_class"].isna().all()  # unknown, never 0
    assert (out["climate_landslide_present_status"] == "ok (no class table)").all()


def test_tmf_footprint_uses_the_polygon_maximum(rasters):
    # a tailings polygon 0.2 deg wide over real Drina ground: the east edge carries the higher depth
    poly = shapely.box(19.10, 43.50, 19.30, 43.52)
    sites = gpd.GeoDataFrame({"name": ["pond", "pond point"], "category": ["tailings_metal", "tailings_metal"]},
                             geometry=[poly, poly.representative_point()], crs=4326)
    out = climate_scenarios(sites, {"flood:present": rasters["present"]})
    assert out["climate_flood_present"].iloc[0] == pytest.approx(present(19.295), abs=1e-4)
    assert out["climate_flood_present"].iloc[1] < out["climate_flood_present"].iloc[0]


def test_end_to_end_score_cli_report_section_and_map(tmp_path, rasters, drina_sites):
    src = tmp_path / "sites.csv"
    from riskmap.io import write_sites

    sub = drina_sites.copy()
    sub.loc[sub.index[0], "name"] = "<b>Pond</b> {{ 7*7 }}"
    write_sites(sub, src)
    out = tmp_path / "scored.csv"
    r = CliRunner().invoke(main, ["score", str(src), "-o", str(out), "--raster", f"flood:present={rasters['present']}",
                                  "--raster", f"flood:2050={rasters['2050']}"])
    assert r.exit_code == 0, r.output
    scored = pd.read_csv(out)
    for col in ("climate_flood_present", "climate_flood_present_class", "climate_flood_2050_class",
                "climate_flood_change", "priority_rank"):
        assert col in scored.columns, col
    assert "raster_flood:present" not in scored.columns
    # report section
    from riskmap.pipeline import ScoreOptions, prepare

    p = prepare(sub, basins=["drina"], score_options=ScoreOptions(
        rasters={"flood:present": rasters["present"], "flood:2050": rasters["2050"]})).sites
    html = climate_section_html(p)
    assert NO_CLIMATE_DATA.replace("'", "&#39;") in html
    assert "<th>present</th><th>2050</th>" in html and "&lt;b&gt;Pond&lt;/b&gt; {{ 7*7 }}" in html
    assert climate_section_html(sub) == ""
    # map: a layer per scenario, nothing external
    from riskmap.hydrography import load_basin
    from riskmap.maps import basin_map, external_references, map_html

    page = map_html(basin_map(load_basin("drina"), p))
    assert "Climate: flood present (class)" in page and "Climate: flood 2050 (class)" in page
    assert "<b>Pond</b>" not in page
    assert external_references(page) == []


@pytest.mark.slow
def test_report_and_map_commands_carry_the_climate_scenarios(tmp_path, rasters, drina_sites):
    """`riskmap report/map BASIN --raster flood:present=A --raster flood:2050=B`: a report chapter and map layers."""
    from riskmap.io import write_sites

    sub = drina_sites.copy()
    sub.loc[sub.index[0], "name"] = "<b>Pond</b> {{ 7*7 }}"
    src = tmp_path / "sites.csv"
    write_sites(sub, src)
    opts = ["--sites", str(src), "--raster", f"flood:present={rasters['present']}",
            "--raster", f"flood:2050={rasters['2050']}"]
    r = CliRunner().invoke(main, ["report", "drina", "-o", str(tmp_path / "rep"), "--no-pdf", *opts])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "rep" / "drina_report.html").read_text(encoding="utf-8")
    assert '<section id="climate" class="chapter">' in html and "Natech under climate change" in html
    assert "<th>present</th><th>2050</th>" in html
    assert "&lt;b&gt;Pond&lt;/b&gt; {{ 7*7 }}" in html and "<b>Pond</b>" not in html
    r = CliRunner().invoke(main, ["map", "drina", "-o", str(tmp_path / "m.html"), *opts])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "Climate: flood present (class)" in page and "Climate: flood 2050 (class)" in page
    # without climate rasters: no chapter
    r = CliRunner().invoke(main, ["report", "drina", "-o", str(tmp_path / "rep0"), "--no-pdf", "--sites", str(src)])
    assert r.exit_code == 0, r.output
    assert 'id="climate"' not in (tmp_path / "rep0" / "drina_report.html").read_text(encoding="utf-8")


def test_a_negative_scenario_flood_depth_is_no_data_not_dry(tmp_path, rasters, drina_sites):
    """A scenario raster whose nodata (-9999) is not declared: the sites read no data, not class 0 ("dry")."""
    undeclared = _write(tmp_path / "undeclared.tif", np.full((ROWS, COLS), -9999.0), nodata=None)
    with pytest.warns(RiskmapDataWarning, match=r"12 sites have a negative flood depth \(lowest -9999 m"):
        out = climate_scenarios(drina_sites, {"flood:present": rasters["present"], "flood:2050": undeclared})
    assert (out["climate_flood_2050_status"] == "no data").all()
    assert out["climate_flood_2050_class"].isna().all() and (out["climate_flood_change"] == "2050: no data").all()
