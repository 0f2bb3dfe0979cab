"""The flow-direction grid kept with a DEM basin (``<name>.flowdir.npz``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from riskmap.databuild.dem.grid import DemGrid

# ---------------------------------------------------------------- the flow-direction grid kept with a basin

#: D8 code of cells outside the basin in the saved flow grid (pyflwdir's nodata value).
FLOWGRID_NODATA = 247


def flowgrid_path(gpkg: str | Path) -> Path:
    """``<name>.flowdir.npz`` next to ``<name>.gpkg``."""
    p = Path(gpkg)
    return p.with_name(p.stem + ".flowdir.npz")


def save_flowgrid(target: Path, flw: Any, grid: DemGrid, basin: np.ndarray, countries: gpd.GeoDataFrame,
                  reaches: gpd.GeoDataFrame) -> Path:
    """Write the basin's D8 flow directions and the country of each cell, compressed.

    Flow directions are pyflwdir codes (cells outside the basin = 247); the file serves
    :mod:`riskmap.flowgrid` (sites located on the DEM).
    """
    from rasterio.features import rasterize

    from riskmap.io import atomic_path

    d8 = np.asarray(flw.to_array("d8"), dtype=np.uint8)
    d8 = np.where(basin, d8, FLOWGRID_NODATA).astype(np.uint8)
    codes = sorted(set(countries["iso3"].dropna()))
    C = countries[countries["iso3"].isin(codes)]
    cc = rasterize(((g, codes.index(i) + 1) for g, i in zip(C.geometry, C["iso3"])), out_shape=grid.shape,
                   transform=grid.transform, fill=0, dtype="uint8")
    cc = np.where(basin, cc, 0).astype(np.uint8)
    t = grid.transform
    path = flowgrid_path(target)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, d8=d8, country=cc, country_codes=np.array(codes, dtype="U3"),
                                transform=np.array([t.a, t.b, t.c, t.d, t.e, t.f], dtype="float64"),
                                reach_ids=reaches["reach_id"].to_numpy(dtype="int64"))
    return path
