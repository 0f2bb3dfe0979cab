"""DEM hydrography builder (riskmap.databuild.dem, `riskmap data build-from-dem`).

Synthetic GeoTIFFs in tmp_path for the method and every bad input; the real SRTM tile
N42E019 (Moraca / Lake Skadar, Drin) for divides and river lengths.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.transform import from_origin

from riskmap import RiskmapInputError
from riskmap.databuild.dem import build_from_dem
from riskmap.hydrography import load_basin

SRTM = Path(__file__).resolve().parents[1].parent.parent / "shared/data/sources/srtm3-n42e019/N42E019.hgt"
if not SRTM.is_file():
    SRTM = Path("/work/shared/data/sources/srtm3-n42e019/N42E019.hgt")

#: synthetic grid: 0.002 deg cells, north-west corner (19.30 E, 42.95 N): inside Montenegro
RES, X0, Y0, N = 0.002, 19.30, 42.95, 120


def valley(n: int = N) -> np.ndarray:
    """A bowl of radius 45 cells whose valley leaves through a notch at the south edge (centre column)."""
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    cy = cx = (n - 1) / 2
    d = np.hypot(yy - cy, xx - cx)
    z = 200 + 2.0 * np.abs(xx - cx) + 1.0 * (n - 1 - yy)
    rim = d >= 45
    z = np.where(rim, 2000 - 5.0 * (d - 45), z)
    notch = (np.abs(xx - cx) <= 1) & (yy > cy)
    z = np.where(notch, 150 + 0.5 * (n - 1 - yy), z)
    return z.astype("float32")


def write_tif(path: Path, z: np.ndarray, *, x0: float = X0, y0: float = Y0, crs: str = "EPSG:4326",
              res: float = RES, nodata: float | None = -32768) -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=z.shape[0], width=z.shape[1], count=1,
                       dtype="float32", crs=crs, transform=from_origin(x0, y0, res, res), nodata=nodata) as dst:
        dst.write(z.astype("float32"), 1)
    return path


OUTLET = (X0 + (N - 1) / 2 * RES + RES / 2, Y0 - (N - 1.5) * RES)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("dem")
    z = valley()
    z[40:43, 70:73] = -32768  # a small interior void, filled by interpolation
    dem = write_tif(d / "valley.tif", z)
    path = build_from_dem([dem], outlet=OUTLET, name="valley", data_dir=d / "data", stream_km2=2.0)
    return d, path


def test_synthetic_basin_layers_and_topology(built):
    d, path = built
    assert path == d / "data" / "basins" / "valley.gpkg"
    b = load_basin("valley", d / "data")
    r = b.reaches
    for c in ("reach_id", "downstream_id", "name", "length_km", "dist_to_outlet_km", "order", "country",
              "is_border", "waterbody", "sub_basin", "upland_km2", "slope"):
        assert c in r.columns
    assert (r["downstream_id"] == -1).sum() == 1
    assert set(r.loc[r["downstream_id"] != -1, "downstream_id"]) <= set(r["reach_id"])
    # every reach ends where its downstream reach starts
    start = dict(zip(r["reach_id"], (g.coords[0] for g in r.geometry)))
    for g, ds in zip(r.geometry, r["downstream_id"]):
        if ds != -1:
            assert g.coords[-1] == start[ds]
    # distance to the outlet adds up along the network
    by = r.set_index("reach_id")
    for rid, ds in zip(r["reach_id"], r["downstream_id"]):
        if ds != -1:
            assert by.at[rid, "dist_to_outlet_km"] == pytest.approx(
                by.at[ds, "dist_to_outlet_km"] + by.at[ds, "length_km"], abs=1e-3)
    assert r["length_km"].gt(0).all() and r["length_km"].le(10.5).all()
    assert (r["slope"] >= 0).all() and r["order"].max() >= 2
    # the basin is the bowl (radius 45 cells) plus the notch: compare with the bowl's geodesic area
    cell_km2 = (RES * 111.32) * (RES * 111.32 * np.cos(np.radians(Y0 - N / 2 * RES)))
    bowl = np.pi * 45 ** 2 * cell_km2
    assert b.outline["area_km2"].iloc[0] == pytest.approx(bowl, rel=0.08)
    assert r["upland_km2"].max() == pytest.approx(bowl, rel=0.08)
    og = b.outline.geometry.iloc[0]
    assert og.is_valid and shapely.contains(og.buffer(1e-6), shapely.line_interpolate_point(
        r.geometry.values, 0.5, normalized=True)).all()
    assert b.sub_basins["area_km2"].sum() == pytest.approx(b.outline["area_km2"].iloc[0], rel=1e-3)
    assert b.meta["riparian"] == ["MNE"] and set(r["country"]) == {"MNE"}
    assert b.downstream_countries(int(r["reach_id"].iloc[0])) == ["MNE"]


def test_synthetic_provenance(built):
    d, _ = built
    prov = json.loads((d / "data" / "basins" / "PROVENANCE.json").read_text())
    rec = prov["dem_builds"]["valley"]
    assert rec["dem"][0]["file"] == "valley.tif" and len(rec["dem"][0]["sha256"]) == 64
    assert rec["grid"]["void_cells_filled"] == 9
    md = (d / "data" / "basins" / "PROVENANCE.md").read_text()
    assert "## valley: built from a DEM" in md
    meta = json.loads((d / "data" / "basins" / "basins.json").read_text())["valley"]
    assert meta["measured"]["n_reaches"] == len(load_basin("valley", d / "data").reaches)
    assert not list((d / "data" / "basins").glob("*.tmp*"))


def test_rebuild_replaces_provenance_section(built, tmp_path):
    d, _ = built
    build_from_dem([d / "valley.tif"], outlet=OUTLET, name="valley", data_dir=d / "data", stream_km2=2.0)
    md = (d / "data" / "basins" / "PROVENANCE.md").read_text()
    assert md.count("## valley: built from a DEM") == 1


def _err(tmp_path: Path, **kw) -> str:
    with pytest.raises(RiskmapInputError) as e:
        build_from_dem(outlet=kw.pop("outlet", OUTLET), name="x", data_dir=tmp_path / "data",
                       stream_km2=2.0, **kw)
    msg = str(e.value)
    assert "Traceback" not in msg
    return msg


def test_projected_crs_refused(tmp_path):
    dem = write_tif(tmp_path / "utm.tif", valley(), x0=500000, y0=4700000, res=100.0, crs="EPSG:32634")
    msg = _err(tmp_path, dems=[dem])
    assert "utm.tif" in msg and "projected CRS" in msg and "EPSG:32634" in msg and "gdalwarp" in msg


def test_tiles_that_do_not_touch_refused(tmp_path):
    a = write_tif(tmp_path / "a.tif", valley())
    b = write_tif(tmp_path / "b.tif", valley(), x0=X0 + 1.0)
    msg = _err(tmp_path, dems=[a, b])
    assert "b.tif" in msg and "do not touch" in msg


def test_touching_tiles_are_mosaicked(tmp_path):
    z = valley()
    a = write_tif(tmp_path / "west.tif", z[:, :60])
    b = write_tif(tmp_path / "east.tif", z[:, 60:], x0=X0 + 60 * RES)
    build_from_dem([a, b], outlet=OUTLET, name="mosaic", data_dir=tmp_path / "data", stream_km2=2.0)
    one = write_tif(tmp_path / "one.tif", z)
    build_from_dem([one], outlet=OUTLET, name="single", data_dir=tmp_path / "data", stream_km2=2.0)
    m, s = load_basin("mosaic", tmp_path / "data"), load_basin("single", tmp_path / "data")
    assert m.outline["area_km2"].iloc[0] == pytest.approx(s.outline["area_km2"].iloc[0], rel=1e-6)


def test_large_voids_refused(tmp_path):
    z = valley()
    z[10:110, 10:110] = -32768
    msg = _err(tmp_path, dems=[write_tif(tmp_path / "holes.tif", z)])
    assert "holes.tif" in msg and "void" in msg and "void-filled DEM" in msg


def test_outlet_off_grid_refused(tmp_path):
    msg = _err(tmp_path, dems=[write_tif(tmp_path / "v.tif", valley())], outlet=(21.0, 42.8))
    assert "off the DEM grid" in msg and "v.tif" in msg


def test_outlet_in_sea_refused(tmp_path):
    z = valley()
    z[100:, :30] = 0.0  # sea in the south-west corner
    msg = _err(tmp_path, dems=[write_tif(tmp_path / "coast.tif", z)],
               outlet=(X0 + 5 * RES, Y0 - 115 * RES))
    assert "sea or on nodata" in msg


def test_basin_cut_by_dem_edge(tmp_path):
    z = valley()[:, :70]  # the east part of the bowl is missing: its basin runs into the east edge
    dem = write_tif(tmp_path / "cut.tif", z)
    msg = _err(tmp_path, dems=[dem])
    assert "does not cover the whole basin" in msg and "east edge" in msg and "--allow-partial" in msg
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        build_from_dem([dem], outlet=OUTLET, name="cut", data_dir=tmp_path / "data", stream_km2=2.0,
                       allow_partial=True)
    assert any("does not cover" in str(x.message) for x in w)
    assert "does not cover" in " ".join(load_basin("cut", tmp_path / "data").meta["notes"])


def test_not_a_raster(tmp_path):
    p = tmp_path / "notes.tif"
    p.write_text("not a DEM")
    msg = _err(tmp_path, dems=[p])
    assert "notes.tif" in msg and "cannot read" in msg


def test_cli_build_from_dem(tmp_path):
    from riskmap.cli import main

    dem = write_tif(tmp_path / "v.tif", valley())
    res = CliRunner().invoke(main, ["data", "build-from-dem", str(dem), "--outlet", f"{OUTLET[0]},{OUTLET[1]}",
                                    "--name", "cli_valley", "--stream-km2", "2", "--data-dir", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    assert "cli_valley:" in res.output and (tmp_path / "d" / "basins" / "cli_valley.gpkg").is_file()
    utm = write_tif(tmp_path / "utm.tif", valley(), x0=500000, y0=4700000, res=100.0, crs="EPSG:32634")
    res = CliRunner().invoke(main, ["data", "build-from-dem", str(utm), "--outlet", "19.4,42.8", "--name", "u",
                                    "--data-dir", str(tmp_path / "d")])
    assert res.exit_code != 0 and "projected CRS" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["data", "build-from-dem", str(dem), "--outlet", "19.6;42.7", "--name", "u",
                                    "--data-dir", str(tmp_path / "d")])
    assert res.exit_code != 0 and "LON,LAT" in res.output


# ---------------------------------------------------------------- real data: SRTM N42E019

#: GeoNames cities500 (geonames.org, CC BY 4.0) coordinates (lon, lat)
INSIDE = {"Podgorica": (19.26309, 42.44124), "Danilovgrad": (19.14608, 42.55384), "Tuzi": (19.3297, 42.36578)}
#: across the divide: the Lim (Plav, Gusinje, Andrijevica, Berane) and the Tara (Kolasin, Mojkovac) flow to
#: the Drina; Bar is on the Adriatic coast
OUTSIDE = {"Kolasin": (19.51653, 42.82229), "Mojkovac": (19.5833, 42.96044), "Plav": (19.94415, 42.5969),
           "Gusinje": (19.83389, 42.56194), "Andrijevica": (19.79194, 42.73389), "Berane": (19.87281, 42.84333),
           "Bar": (19.09841, 42.0937)}
SKADAR_OUTLET = (19.47, 42.07)  # Lake Skadar at its outflow into the Bojana (Shkoder), above the Drin


@pytest.fixture(scope="module")
def skadar(tmp_path_factory):
    if not SRTM.is_file():
        pytest.skip("SRTM tile N42E019 not available")
    d = tmp_path_factory.mktemp("srtm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_from_dem([SRTM], outlet=SKADAR_OUTLET, name="skadar", data_dir=d, allow_partial=True)
    return d, load_basin("skadar", d)


@pytest.mark.slow
def test_srtm_refuses_basin_cut_by_tile_edge(tmp_path):
    if not SRTM.is_file():
        pytest.skip("SRTM tile N42E019 not available")
    with pytest.raises(RiskmapInputError, match="west edge"):  # the Zeta rises west of 19 E (Niksic)
        build_from_dem([SRTM], outlet=SKADAR_OUTLET, name="skadar", data_dir=tmp_path)


def _river_km(b, lon: float, lat: float) -> float:
    """River km from the point's nearest reach (projected onto it) to the basin outlet."""
    r = b.reaches.to_crs(f"+proj=aeqd +lat_0={lat} +lon_0={lon}")
    p = shapely.Point(0, 0)
    i = int(np.argmin(r.distance(p).to_numpy()))
    g = r.geometry.iloc[i]
    return float(b.reaches["dist_to_outlet_km"].iloc[i] + (1 - g.project(p) / g.length) * b.reaches["length_km"].iloc[i])


@pytest.mark.slow
def test_srtm_skadar_divides(skadar):
    _, b = skadar
    og = b.outline.geometry.iloc[0]
    for name, xy in INSIDE.items():
        assert og.contains(shapely.Point(xy)), name
    for name, xy in OUTSIDE.items():
        assert not og.contains(shapely.Point(xy)), name
    assert set(b.meta["riparian"]) == {"ALB", "MNE"}
    # in-tile part of the Skadar basin (the Zeta karst west of 19 E is cut off); the whole Lake Skadar
    # basin is about 5,500 km2
    assert 3500 < b.outline["area_km2"].iloc[0] < 5000
    assert "west edge" in " ".join(b.meta["notes"])


@pytest.mark.slow
def test_srtm_river_lengths_vs_cartographic(skadar):
    """Danilovgrad -> Podgorica (Zeta confluence) along the river: the DEM path is longer than the
    generalised 1:10m line (meanders), by less than a third."""
    _, b = skadar
    ref = load_basin("drin")
    dan, conf = INSIDE["Danilovgrad"], (19.256, 42.472)
    dem_km = _river_km(b, *dan) - _river_km(b, *conf)
    ref_km = _river_km(ref, *dan) - _river_km(ref, *conf)
    assert 1.0 < dem_km / ref_km < 1.33


def test_never_burns_and_overwrites_the_same_basin_file(built):
    d, _ = built
    data = d / "data"
    # a basin folder holding a "drina.gpkg" whose reaches cross the DEM: rebuilding drina there from its
    # own reaches would overwrite the burn input
    import shutil

    from riskmap import DATA_DIR

    own = d / "own"
    (own / "basins").mkdir(parents=True)
    shutil.copy(DATA_DIR / "basins" / "drina.gpkg", own / "basins" / "drina.gpkg")
    shutil.copy(DATA_DIR / "basins" / "countries.gpkg", own / "basins" / "countries.gpkg")
    z = valley()
    dem = write_tif(d / "tara.tif", z, x0=19.40, y0=43.00)  # crosses the Tara (drina reaches)
    with pytest.raises(RiskmapInputError, match="would be burned into the DEM and then overwritten"):
        build_from_dem([dem], outlet=(19.40 + 60 * RES, 43.00 - 118.5 * RES), name="drina", data_dir=own,
                       stream_km2=2.0)
    assert data.is_dir()
