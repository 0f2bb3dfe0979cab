"""Raster sampling and zonal statistics on small GeoTIFFs with known values."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from riskmap import RiskmapInputError
from riskmap.hazard import score
from riskmap.rasters import buffer_km, sample, zonal_stats

X0, Y0, RES = 19.0, 43.1, 0.01  # origin (upper-left) and pixel size in degrees
NODATA = -9999.0


def _values() -> np.ndarray:
    a = (np.arange(10)[:, None] * 10 + np.arange(10)[None, :]).astype("float32")  # row*10 + col
    a[5, 5] = NODATA
    return a


def _centre(row: int, col: int) -> tuple[float, float]:
    return X0 + (col + 0.5) * RES, Y0 - (row + 0.5) * RES


@pytest.fixture()
def grid(tmp_path):
    p = tmp_path / "grid.tif"
    with rasterio.open(p, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(X0, Y0, RES, RES), nodata=NODATA) as dst:
        dst.write(_values(), 1)
    return p


@pytest.fixture()
def utm_grid(tmp_path):
    """A 100 m grid in UTM 34N whose value is the column index."""
    p = tmp_path / "utm.tif"
    x0, y0 = 350_000.0, 4_800_000.0
    a = np.tile(np.arange(20, dtype="float32"), (20, 1))
    with rasterio.open(p, "w", driver="GTiff", width=20, height=20, count=1, dtype="float32",
                       crs="EPSG:32634", transform=from_origin(x0, y0, 100, 100), nodata=-1) as dst:
        dst.write(a, 1)
    return p, x0, y0


def _pts(coords, crs="EPSG:4326") -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(x, y) if x is not None else None for x, y in coords], crs=crs)


def test_sample_exact_values_outside_and_nodata(grid):
    pts = _pts([_centre(2, 3), _centre(0, 0), _centre(9, 9), _centre(5, 5), (25.0, 40.0), (None, None)])
    v = sample(pts, grid)
    assert v[:3].tolist() == [23.0, 0.0, 99.0]
    assert math.isnan(v[3])  # nodata
    assert math.isnan(v[4])  # outside
    assert math.isnan(v[5])  # missing geometry


def test_sample_reprojects_points(grid, utm_grid):
    pts = _pts([_centre(7, 1)]).to_crs("EPSG:3857")
    assert sample(pts, grid)[0] == 71.0
    p, x0, y0 = utm_grid
    utm_pt = gpd.GeoSeries([shapely.Point(x0 + 1250, y0 - 550)], crs="EPSG:32634").to_crs(4326)
    assert sample(utm_pt, p)[0] == 12.0


def test_zonal_stats_exact(grid):
    box = shapely.box(X0, Y0 - 2 * RES, X0 + 2 * RES, Y0)  # pixels (0,0),(0,1),(1,0),(1,1)
    around_nodata = shapely.box(X0 + 5 * RES, Y0 - 6 * RES, X0 + 6 * RES, Y0 - 4 * RES)  # (4,5) and nodata (5,5)
    outside = shapely.box(30, 30, 31, 31)
    g = gpd.GeoSeries([box, around_nodata, outside], crs="EPSG:4326")
    z = zonal_stats(g, grid, stats=("mean", "max", "min", "sum", "count"))
    assert z.loc[0].to_dict() == {"mean": 5.5, "max": 11.0, "min": 0.0, "sum": 22.0, "count": 4.0}
    assert z.loc[1, "mean"] == 45.0 and z.loc[1, "count"] == 1
    assert math.isnan(z.loc[2, "mean"]) and z.loc[2, "count"] == 0


def test_zonal_stats_small_geometry_falls_back_to_touched(grid):
    x, y = _centre(3, 3)
    tiny = shapely.box(x + 0.001, y + 0.001, x + 0.003, y + 0.003)  # inside pixel (3,3), not its centre
    z = zonal_stats(gpd.GeoSeries([tiny], crs=4326), grid)
    assert z.loc[0, "mean"] == 33.0


def test_zonal_stats_reprojects_geometries(grid, utm_grid):
    box = shapely.box(X0, Y0 - 2 * RES, X0 + 2 * RES, Y0)
    g = gpd.GeoSeries([box], crs=4326).to_crs("EPSG:3857")
    assert zonal_stats(g, grid)["mean"].iloc[0] == pytest.approx(5.5)
    p, x0, y0 = utm_grid
    # 300 m x 300 m square over columns 2..4 -> mean 3
    sq = gpd.GeoSeries([shapely.box(x0 + 200, y0 - 900, x0 + 500, y0 - 600)], crs=32634).to_crs(4326)
    assert zonal_stats(sq, p, stats=("mean", "count"))["mean"].iloc[0] == pytest.approx(3.0)


def test_errors(grid, tmp_path):
    with pytest.raises(RiskmapInputError, match="not found"):
        sample(_pts([(19.0, 43.0)]), tmp_path / "nope.tif")
    with pytest.raises(RiskmapInputError, match="band 2"):
        sample(_pts([(19.0, 43.0)]), grid, band=2)
    with pytest.raises(RiskmapInputError, match="no CRS"):
        sample(gpd.GeoSeries([shapely.Point(19, 43)]), grid)
    with pytest.raises(RiskmapInputError, match="unknown zonal"):
        zonal_stats(_pts([(19.0, 43.0)]), grid, stats=("mode",))
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster")
    with pytest.raises(RiskmapInputError, match="cannot open"):
        sample(_pts([(19.0, 43.0)]), junk)


def test_buffer_km_is_true_distance():
    b = buffer_km(_pts([(19.3, 43.3), (71.0, 41.0), (40.0, 10.0)]), 2.0)  # Balkans, Syr Darya, elsewhere
    for i in range(3):
        one = b.iloc[[i]]
        assert one.to_crs(one.estimate_utm_crs()).area.iloc[0] / 1e6 == pytest.approx(math.pi * 4, rel=0.01)


def test_score_with_rasters_and_corridor(grid):
    sites = gpd.GeoDataFrame({
        "site_id": ["a", "b"], "name": ["A", "B"], "category": ["chemical_plant", "landfill"],
        "country": ["BIH", "BIH"], "basin": ["drina", "drina"],
    }, geometry=[shapely.Point(*_centre(2, 3)), shapely.Point(*_centre(8, 8))], crs="EPSG:4326")
    corridor = gpd.GeoSeries([shapely.box(X0, Y0 - 2 * RES, X0 + 2 * RES, Y0), None], crs=4326)
    out = score(sites, rasters={"flood_depth": grid}, natech={"corridors": corridor})
    assert out["raster_flood_depth"].tolist() == [23.0, 88.0]
    assert out["raster_flood_depth_corridor_mean"].iloc[0] == 5.5
    assert math.isnan(out["raster_flood_depth_corridor_mean"].iloc[1])
    # 1 km buffer: the 0.01 deg pixels within ~1 km of the site -> max >= the site value
    assert out["raster_flood_depth_site_max"].iloc[0] >= 23.0
    assert out["natech_flood"].tolist() == [3.0, 3.0]  # depth >= 1 m
    assert pd.isna(out["natech_seismic"]).all()
