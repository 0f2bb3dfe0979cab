"""Which basin a site lies in: the basin outlines, and a divide buffer for sites near a divide.

Used by the inventory build (:mod:`riskmap.databuild.sites.build`) and by the
questionnaire merge for new sites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._paths import DATA_DIR
from riskmap._geo import local_aeqd
from riskmap.basins import BASIN_IDS
from riskmap.schema import DIVIDE_BUFFER_KM as DIVIDE_BUFFER_BY_PRECISION

__all__ = ["BASINS", "outline_regions", "divide_buffers", "assign_basins"]

#: The reference basins (riskmap.basins, the one registry).
BASINS = BASIN_IDS


def outline_regions(data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """The three basin outlines (``basin``, geometry, EPSG:4326) of ``<data_dir>/basins/<basin>.gpkg``.

    Raises
    ------
    RiskmapInputError
        When an outline file is missing.
    """
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    files = {b: data_dir / "basins" / f"{b}.gpkg" for b in BASINS}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise RiskmapInputError(f"basin outlines missing: {', '.join(missing)}")
    geoms = []
    for p in files.values():
        g = gpd.read_file(p, layer="outline").to_crs("EPSG:4326")
        geoms.append(shapely.union_all(g.geometry.values))
    from riskmap.basins import read_meta  # noqa: PLC0415

    meta = read_meta(data_dir / "basins")
    caps = [float((meta.get(b) or {}).get("divide_buffer_max_km", np.inf)) for b in BASINS]
    return gpd.GeoDataFrame({"basin": list(BASINS), "divide_buffer_max_km": caps}, geometry=geoms,
                            crs="EPSG:4326")


def _aeqd(geom: Any) -> Any:
    c = shapely.centroid(geom)
    return local_aeqd(round(c.x, 4), round(c.y, 4))


def divide_buffers(precision: pd.Series, buffer_km: float | None = None) -> np.ndarray:
    """Divide buffer (km) of each site: ``buffer_km`` for all, or by ``coord_precision``.

    The default table :data:`riskmap.schema.DIVIDE_BUFFER_KM` grows with the
    coordinate's uncertainty (exact 2 km ... town/estimated 10 km).
    """
    if buffer_km is not None:
        return np.full(len(precision), float(buffer_km))
    table = DIVIDE_BUFFER_BY_PRECISION
    return precision.map(table).fillna(table["lines"]).to_numpy(dtype=float)


def assign_basins(sites: gpd.GeoDataFrame, regions: gpd.GeoDataFrame, buffer_km: float | None = None,
                  ) -> tuple[pd.Series, gpd.GeoSeries]:
    """Basin of each site (None when outside all), and the geometry clipped to it.

    A point belongs to the basin whose region contains it, else to the
    nearest basin within its divide buffer (:func:`divide_buffers`, capped by the
    region's ``divide_buffer_max_km`` when present and ``buffer_km`` is not given; distances
    in a basin-centred azimuthal equidistant projection, so in true km). A
    line belongs to the basin whose buffered region holds its longest part
    and is clipped to it.

    Examples
    --------
    >>> basin, geom = assign_basins(sites, regions)  # doctest: +SKIP
    """
    n = len(sites)
    prec = sites["coord_precision"] if "coord_precision" in sites.columns else pd.Series([None] * n)
    buf_km = divide_buffers(pd.Series(prec).reset_index(drop=True), buffer_km)
    line_km = float(buffer_km) if buffer_km is not None else float(DIVIDE_BUFFER_BY_PRECISION["lines"])
    basin = np.full(n, None, dtype=object)
    best_d = np.full(n, np.inf)
    best_len = np.zeros(n)
    geoms = np.asarray(sites.geometry.values, dtype=object).copy()
    is_pt = np.asarray(sites.geom_type == "Point")
    for row in regions.itertuples():
        crs = _aeqd(row.geometry)
        reg = gpd.GeoSeries([row.geometry], crs="EPSG:4326").to_crs(crs).iloc[0]
        proj = sites.geometry.to_crs(crs).values
        # points: distance to the region (0 inside)
        d = np.where(is_pt, shapely.distance(reg, proj) / 1000.0, np.inf)
        cap = getattr(row, "divide_buffer_max_km", np.inf) if buffer_km is None else np.inf
        take = is_pt & (d <= np.fmin(buf_km, cap)) & (d < best_d)
        basin[take], best_d[take] = row.basin, d[take]
        # lines
        lines = np.flatnonzero(~is_pt)
        if len(lines):
            buf = shapely.buffer(reg, min(line_km, cap) * 1000.0)
            clipped = shapely.intersection(proj[lines], buf)
            length = shapely.length(clipped)
            for k, li in enumerate(lines):
                if length[k] > best_len[li]:
                    best_len[li] = length[k]
                    basin[li] = row.basin
                    geoms[li] = gpd.GeoSeries([clipped[k]], crs=crs).to_crs("EPSG:4326").iloc[0]
    return (pd.Series(basin, index=sites.index, dtype=object),
            gpd.GeoSeries(geoms, index=sites.index, crs="EPSG:4326"))
