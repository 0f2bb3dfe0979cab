"""Sites located on the DEM flow grid (riskmap.flowgrid) and assess's use of it.

Synthetic grids check the walk itself (km, reach position, country change, pits, edges); the
bundled Syr Darya (built from GEBCO 2023 15") checks real places whose routes are known.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from riskmap import flowgrid
from riskmap import DATA_DIR
from riskmap.hydrography import flatten_countries, load_basin

RES = 0.01  # degrees per cell in the synthetic grids


def _grid(d8: np.ndarray, reaches: gpd.GeoDataFrame, country: np.ndarray | None = None,
          codes: tuple[str, ...] = ("AAA", "BBB"), tmp: Path | None = None) -> flowgrid.FlowGrid:
    """A FlowGrid with origin (0, 1) and cells of RES degrees (north up)."""
    h, w = d8.shape
    cc = np.ones((h, w), np.uint8) if country is None else country.astype(np.uint8)
    f = tmp / "x.flowdir.npz"
    np.savez_compressed(f, d8=d8.astype(np.uint8), country=cc, country_codes=np.array(codes, dtype="U3"),
                        transform=np.array([RES, 0, 0.0, 0, -RES, 1.0]),
                        reach_ids=reaches["reach_id"].to_numpy("int64"))
    basin = SimpleNamespace(source_file=[str(tmp / "x.gpkg")], reaches=reaches)  # its grid: x.flowdir.npz
    return flowgrid.load_flowgrid(basin)


def _centre(r: int, c: int) -> tuple[float, float]:
    return (c + 0.5) * RES, 1.0 - (r + 0.5) * RES


def _river_row2(tmp_path):
    """5 x 6 grid: every cell flows south to row 2, row 2 flows east along a reach (cells 0..5)."""
    d8 = np.full((5, 6), 4, np.uint8)  # S
    d8[3:, :] = 64  # N (rows below the river flow up to it)
    d8[2, :] = 1  # E along the river
    d8[2, 5] = 0  # pit: the outlet
    line = shapely.LineString([_centre(2, c) for c in range(6)])
    reaches = gpd.GeoDataFrame({"reach_id": [7], "downstream_id": [-1]}, geometry=[line], crs=4326)
    return d8, reaches


def test_walk_to_first_stream_cell(tmp_path):
    d8, reaches = _river_row2(tmp_path)
    g = _grid(d8, reaches, tmp=tmp_path)
    lon, lat = np.array([_centre(0, 1)[0], _centre(4, 4)[0], _centre(2, 3)[0]]), \
        np.array([_centre(0, 1)[1], _centre(4, 4)[1], _centre(2, 3)[1]])
    r = g.locate(lon, lat)
    assert list(r["reach_id"]) == [7, 7, 7]
    # two cells south (row 0 -> row 2), two cells north (row 4 -> row 2), the third is on the river
    step_km = 0.01 * 110.6  # 1 cell of latitude near 1 N, km
    assert r["overland_km"][0] == pytest.approx(2 * step_km, rel=0.01)
    assert r["overland_km"][1] == pytest.approx(2 * step_km, rel=0.01)
    assert r["overland_km"][2] == 0.0
    assert r["frac"][0] == pytest.approx(0.2) and r["frac"][1] == pytest.approx(0.8)
    assert r["frac"][2] == pytest.approx(0.6)
    assert np.isnan(r["cross_km"]).all()


def test_country_change_on_the_overland_path(tmp_path):
    d8, reaches = _river_row2(tmp_path)
    cc = np.ones((5, 6), np.uint8)
    cc[:2, :] = 2  # rows 0-1 in BBB, the river in AAA
    g = _grid(d8, reaches, country=cc, tmp=tmp_path)
    x, y = _centre(0, 2)
    r = g.locate(np.array([x]), np.array([y]))
    assert r["cross_km"][0] == pytest.approx(2 * 0.01 * 110.6, rel=0.01)  # entered AAA at the river cell


def test_off_grid_outside_basin_and_pits_are_not_located(tmp_path):
    d8, reaches = _river_row2(tmp_path)
    d8[0, 0] = flowgrid.NODATA  # outside the basin
    d8[4, 0] = 0  # a pit off the network
    g = _grid(d8, reaches, tmp=tmp_path)
    pts = [_centre(0, 0), _centre(4, 0), (5.0, 5.0), (np.nan, np.nan)]
    r = g.locate(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
    assert list(r["reach_id"]) == [-1, -1, -1, -1]
    assert np.isnan(r["overland_km"]).all() and np.isnan(r["frac"]).all()


def _same_answers(big: dict[str, np.ndarray], small: dict[str, np.ndarray], s: slice | np.ndarray) -> None:
    for k, v in small.items():
        np.testing.assert_array_equal(big[k][s], v, err_msg=k)


def test_per_cell_table_gives_the_walk_numbers(tmp_path):
    """Batches of TABLE_MIN_CELLS sites or more, answered by the per-cell table, get the walk's numbers.

    Country change, pit, outside cell and off-grid point included.
    """
    d8, reaches = _river_row2(tmp_path)
    d8[0, 0] = flowgrid.NODATA
    d8[4, 0] = 0  # a pit off the network
    cc = np.ones((5, 6), np.uint8)
    cc[:2, :] = 2
    cc[3:, 3:] = 2
    g = _grid(d8, reaches, country=cc, tmp=tmp_path)
    pts = [_centre(r, c) for r in range(5) for c in range(6)] + [(5.0, 5.0)]
    lon, lat = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    walked = dataclasses.replace(g).locate(lon, lat)  # a fresh grid, few sites: walked
    reps = 2 * flowgrid.TABLE_MIN_CELLS // len(pts)
    big = g.locate(np.tile(lon, reps), np.tile(lat, reps))
    assert g.cell_table_ready
    assert (walked["reach_id"] >= 0).sum() == 28 and np.isfinite(walked["cross_km"]).sum() >= 4
    for k in range(reps):
        _same_answers(big, walked, slice(k * len(pts), (k + 1) * len(pts)))


def test_grid_with_cells_of_no_country_keeps_the_walk(tmp_path):
    d8, reaches = _river_row2(tmp_path)
    cc = np.ones((5, 6), np.uint8)
    cc[0, 0] = 0
    g = _grid(d8, reaches, country=cc, tmp=tmp_path)
    x, y = _centre(0, 1)
    r = g.locate(np.full(flowgrid.TABLE_MIN_CELLS, x), np.full(flowgrid.TABLE_MIN_CELLS, y))
    assert not g.cell_table_ready
    assert (r["reach_id"] == 7).all()


def test_flowgrid_not_matching_the_reaches_is_refused(tmp_path):
    d8, reaches = _river_row2(tmp_path)
    moved = reaches.copy()
    moved["geometry"] = [shapely.LineString([(10, 10), (10.1, 10)])]
    from riskmap import RiskmapInputError

    with pytest.raises(RiskmapInputError, match="does not match"):
        _grid(d8, moved, tmp=tmp_path)


# ------------------------------------------------------------------ the bundled Syr Darya

needs_grid = pytest.mark.skipif(not (DATA_DIR / "basins" / "syr_darya.flowdir.npz").is_file(),
                                reason="bundled DEM Syr Darya not built")


def _assess(places: dict[str, tuple[float, float]]):
    from riskmap.exposure import assess

    g = gpd.GeoDataFrame({"name": list(places), "country": [None] * len(places)},
                         geometry=[shapely.Point(*v) for v in places.values()], crs=4326)
    return assess(g, "syr_darya").set_index("name")


@needs_grid
def test_bundled_flowgrid_is_small_and_recorded():
    f = DATA_DIR / "basins" / "syr_darya.flowdir.npz"
    assert f.stat().st_size < 5e6
    b = load_basin("syr_darya")
    assert b.meta["source"]["flow_grid"]["file"] == f.name
    assert flowgrid.load_flowgrid(b) is not None
    assert flowgrid.load_flowgrid(load_basin("drina")) is None  # cartographic: no grid


@needs_grid
def test_mailuu_suu_first_border_from_its_own_cell():
    out = _assess({"Mailuu-Suu": (72.44972, 41.26)})
    row = out.loc["Mailuu-Suu"]
    assert row["drainage_by"] == "dem flow path"
    assert flatten_countries(["KGZ", *row["downstream_countries"]])[:2] == ["KGZ", "UZB"]
    # the Mailuu-Suu river runs ~25 km straight south to the border near Kochkor-Ata
    assert 15 < row["first_border_river_km"] < 55
    assert row["first_border_river_km_low"] < row["first_border_river_km"] <= row["first_border_river_km_high"]
    assert 0 <= row["reach_frac"] <= 1


@needs_grid
def test_angren_goes_to_kazakhstan_without_kyrgyzstan():
    out = _assess({"Angren": (70.14361, 41.01667), "Almalyk": (69.59833, 40.84472)})
    for n in ("Angren", "Almalyk"):
        seq = flatten_countries(["UZB", *out.loc[n, "downstream_countries"]])
        assert seq[0] == "UZB" and "KGZ" not in seq and seq[-1] == "KAZ", (n, seq)
    assert out.loc["Angren", "reach_name"] == "Akhangaran"
    assert 110 <= out.loc["Angren", "first_border_river_km"] <= 230


@needs_grid
def test_site_in_a_river_cell_still_snaps():
    b = load_basin("syr_darya")
    r = b.reaches
    naryn = r[(r["name"] == "Naryn") & (r["length_km"] > 5)].iloc[0]
    x, y = np.asarray(naryn.geometry.coords)[1]  # a vertex: the centre of one of the reach's own cells
    out = _assess({"on the Naryn": (x, y)})
    row = out.loc["on the Naryn"]
    assert row["drainage_by"] == "river snap" and row["snap_km"] == 0
    assert int(row["reach_id"]) == int(naryn["reach_id"])
    assert 0 < row["reach_frac"] < 1


@needs_grid
def test_sites_off_the_dem_keep_the_cartographic_rule():
    # Kyzylorda, on the lower Syr Darya west of the GEBCO grid (66.14 E)
    out = _assess({"Kyzylorda": (65.50921, 44.85275)})
    row = out.loc["Kyzylorda"]
    assert row["basin"] == "syr_darya" and row["drainage_by"] in ("river snap", "basin allocation")


def test_sites_sharing_a_cell_get_the_same_answer_as_alone():
    """locate walks each distinct cell once: a batch (with repeats) equals locating every site on its own."""
    b = load_basin("syr_darya")
    g = flowgrid.load_flowgrid(b)
    assert g is not None
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = b.outline.to_crs("EPSG:4326").total_bounds
    lon, lat = rng.uniform(x0, x1, 60), rng.uniform(y0, y1, 60)
    lon, lat = np.r_[lon, lon[:20] + 1e-6], np.r_[lat, lat[:20]]  # repeats in the same cells
    batch = g.locate(lon, lat)
    assert (batch["reach_id"] >= 0).sum() > 10
    for i in range(len(lon)):
        alone = g.locate(lon[i:i + 1], lat[i:i + 1])
        for k, v in alone.items():
            np.testing.assert_array_equal(batch[k][i:i + 1], v)


def test_large_batches_give_the_same_numbers_as_small_ones():
    """Large batches keep a memo of step lengths (one slot per grid cell); the numbers are those of small ones."""
    b = load_basin("syr_darya")
    g = flowgrid.load_flowgrid(b)
    assert g is not None
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = b.outline.to_crs("EPSG:4326").total_bounds
    n = flowgrid.MEMO_MIN_SITES + 500
    lon, lat = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    big = g.locate(lon, lat)
    assert (big["overland_km"] > 0).sum() > 200
    for s in (slice(0, 300), slice(n - 300, n)):
        small = g.locate(lon[s], lat[s])
        for k, v in small.items():
            np.testing.assert_array_equal(big[k][s], v)


@needs_grid
def test_bundled_per_cell_table_equals_the_walk():
    """The Syr Darya per-cell table (large batches) gives exactly the walk's answers (small batches, fresh grid)."""
    b = load_basin("syr_darya")
    g = dataclasses.replace(flowgrid.load_flowgrid(b))  # a grid of this test's own
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = b.outline.to_crs("EPSG:4326").total_bounds
    n = 6 * flowgrid.TABLE_MIN_CELLS  # about a quarter of the box is on the grid
    lon, lat = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    big = g.locate(lon, lat)
    assert g.cell_table_ready
    assert (big["overland_km"] > 0).sum() > 1000 and np.isfinite(big["cross_km"]).sum() > 50
    for s in (slice(0, 400), slice(n - 400, n)):
        _same_answers(big, dataclasses.replace(g).locate(lon[s], lat[s]), s)
