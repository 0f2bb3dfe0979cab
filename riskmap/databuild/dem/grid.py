"""Reading DEM tiles: checks (CRS, touching tiles), mosaic, sea/outside mask and void filling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from riskmap._errors import RiskmapInputError
from riskmap.databuild.dem.constants import _NODATA, MAX_VOID_SHARE, SEA_M, VOID_SEARCH_CELLS


@dataclass
class DemGrid:
    """A DEM mosaic in geographic coordinates (``elev`` float32, NaN outside/voids)."""

    elev: np.ndarray
    transform: Any
    files: list[Path]
    outside: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    n_voids: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        """Rows, columns."""
        return self.elev.shape  # type: ignore[return-value]

    @property
    def res(self) -> float:
        """Cell size (degrees)."""
        return float(abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the grid."""
        h, w = self.shape
        x0, y0 = self.transform * (0, 0)
        x1, y1 = self.transform * (w, h)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    @property
    def label(self) -> str:
        """The DEM files, for messages."""
        return ", ".join(str(p) for p in self.files)


# ---------------------------------------------------------------- reading


def _open_checked(path: Path) -> Any:
    import rasterio
    from rasterio.errors import RasterioIOError

    if not path.is_file():
        raise RiskmapInputError(f"{path}: DEM file not found")
    try:
        src = rasterio.open(path)
    except (RasterioIOError, OSError) as e:
        raise RiskmapInputError(f"{path}: cannot read as an elevation raster (GeoTIFF, SRTM .hgt, NetCDF): "
                                f"{e}") from None
    if src.crs is None:
        src.close()
        raise RiskmapInputError(f"{path}: the DEM has no coordinate reference system; assign geographic "
                                f"lon/lat, e.g. `gdal_edit.py -a_srs EPSG:4326 {path.name}`")
    if not src.crs.is_geographic:
        crs = src.crs.to_string()
        src.close()
        raise RiskmapInputError(f"{path}: the DEM is in a projected CRS ({crs}); build-from-dem needs "
                                f"geographic lon/lat cells: reproject it, e.g. `gdalwarp -t_srs EPSG:4326 "
                                f"{path.name} out.tif`, or use the original lon/lat tiles")
    if src.transform.b != 0 or src.transform.d != 0:
        src.close()
        raise RiskmapInputError(f"{path}: the DEM grid is rotated; warp it to a north-up grid first")
    return src


def _check_touch(paths: list[Path], srcs: list[Any]) -> None:
    """Tiles must share CRS and cell size and form one connected mosaic."""
    ref = srcs[0]
    for p, s in zip(paths[1:], srcs[1:]):
        if s.crs != ref.crs:
            raise RiskmapInputError(f"{p}: CRS {s.crs} differs from {paths[0]} ({ref.crs}); "
                                    f"give tiles of one CRS")
        if not np.allclose(s.res, ref.res, rtol=1e-6):
            raise RiskmapInputError(f"{p}: cell size {s.res} differs from {paths[0]} ({ref.res}); "
                                    f"resample the tiles to one grid first")
    tol = 0.5 * float(min(ref.res))
    boxes = shapely.box(*np.array([tuple(s.bounds) for s in srcs]).T)
    grown = shapely.buffer(boxes, tol, join_style="mitre")
    n = len(srcs)
    comp = list(range(n))

    def find(i: int) -> int:
        while comp[i] != i:
            i = comp[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if shapely.intersects(grown[i], boxes[j]):
                comp[find(i)] = find(j)
    roots = {find(i) for i in range(n)}
    if len(roots) > 1:
        main = find(0)
        apart = [str(paths[i]) for i in range(n) if find(i) != main]
        raise RiskmapInputError(f"{', '.join(apart)}: tile(s) do not touch {paths[0]} (bounds "
                                f"{tuple(round(v, 4) for v in srcs[0].bounds)}); give adjacent tiles that "
                                f"form one mosaic, or build each area separately")


def read_dem(paths: Sequence[str | Path]) -> DemGrid:
    """Read and mosaic DEM tiles; interior voids are filled, the outside (sea, no data) is NaN.

    Parameters
    ----------
    paths : sequence of path
        GeoTIFF / SRTM ``.hgt`` / NetCDF elevation tiles in geographic coordinates.

    Returns
    -------
    DemGrid

    Raises
    ------
    RiskmapInputError
        Unreadable file, no or projected CRS, tiles that differ in grid or do not touch,
        voids too large to fill.
    """
    from rasterio.merge import merge

    files = [Path(p) for p in paths]
    if not files:
        raise RiskmapInputError("build-from-dem: give at least one DEM file")
    srcs = [_open_checked(p) for p in files]
    try:
        if len(srcs) > 1:
            _check_touch(files, srcs)
            arr, transform = merge(srcs, nodata=_NODATA, dtype="float32")
            elev = arr[0].astype("float32")
            elev[elev == _NODATA] = np.nan
        else:
            s = srcs[0]
            band = s.read(1, masked=True)
            elev = np.ma.filled(band.astype("float32"), np.nan)
            transform = s.transform
    except RiskmapInputError:
        raise
    except Exception as e:  # noqa: BLE001  (GDAL errors on corrupt tiles)
        raise RiskmapInputError(f"{', '.join(map(str, files))}: cannot read the elevation values: {e}") from None
    finally:
        for s in srcs:
            s.close()
    grid = DemGrid(elev=elev, transform=transform, files=files)
    _fill_voids(grid)
    return grid


def _fill_voids(grid: DemGrid) -> None:
    """Split nodata into outside (edge-connected, plus edge-connected sea) and voids; fill voids."""
    from rasterio.fill import fillnodata
    from scipy import ndimage

    elev = grid.elev
    nod = ~np.isfinite(elev)
    if nod.all():
        raise RiskmapInputError(f"{grid.label}: the DEM has no valid elevation cell")
    low = nod | (elev <= SEA_M)
    lab, _ = ndimage.label(low, structure=np.ones((3, 3), bool))
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    outside = np.isin(lab, edge[edge > 0])
    voids = nod & ~outside
    n_valid = int((~nod).sum())
    n_void = int(voids.sum())
    if n_void > MAX_VOID_SHARE * n_valid:
        raise RiskmapInputError(f"{grid.label}: {n_void:,} void (nodata) cells inside the DEM, "
                                f"{n_void / max(n_valid, 1):.0%} of its valid cells (limit "
                                f"{MAX_VOID_SHARE:.0%}); use a void-filled DEM (e.g. SRTM v3, GEBCO, "
                                f"Copernicus GLO-90)")
    if n_void:
        src = np.where(nod, _NODATA, elev).astype("float32")
        filled = fillnodata(src, mask=(~nod).astype("uint8"), max_search_distance=VOID_SEARCH_CELLS)
        left = voids & (filled == _NODATA)
        if left.any():
            r, c = np.argwhere(left)[0]
            x, y = grid.transform * (c + 0.5, r + 0.5)
            raise RiskmapInputError(f"{grid.label}: a void of more than {VOID_SEARCH_CELLS} cells across "
                                    f"(e.g. at {x:.4f}, {y:.4f}) cannot be interpolated; use a void-filled "
                                    f"DEM or add the tile that covers it")
        elev = np.where(voids, filled, elev).astype("float32")
    elev[outside] = np.nan
    grid.elev, grid.outside, grid.n_voids = elev, outside, n_void
