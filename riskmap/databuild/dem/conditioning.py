"""Conditioning the DEM: the mapped rivers to burn and stream burning."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap.databuild.dem.constants import BURN_M
from riskmap.databuild.dem.grid import DemGrid

# ---------------------------------------------------------------- burning and routing


def bundled_rivers(bounds: tuple[float, float, float, float], data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """The bundled reaches (``name``, geometry) of every bundled basin crossing ``bounds``."""
    from riskmap.basins import BASIN_IDS as BASINS
    from riskmap.basins import basins_dir as _basins_dir

    d = _basins_dir(data_dir)
    if not any((d / f"{b}.gpkg").is_file() for b in BASINS):
        from riskmap._paths import DATA_DIR

        d = DATA_DIR / "basins"
    box = shapely.box(*bounds)
    parts = []
    for b in BASINS:
        p = d / f"{b}.gpkg"
        if p.is_file():
            r = gpd.read_file(p, layer="reaches", bbox=tuple(bounds))
            r = r[r.intersects(box)]
            if len(r):
                parts.append(r[["name", "geometry"]].assign(source=f"{b}.gpkg reaches"))
    if not parts:
        out = gpd.GeoDataFrame({"name": [], "source": []}, geometry=[], crs="EPSG:4326")
    else:
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    out.attrs["dir"] = str(d)
    return out


def read_burn(path: str | Path, bounds: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """User river lines to burn (any vector format; a ``name`` column is used for reach names)."""
    p = Path(path)
    try:
        import pyogrio

        layers = [n for n, _ in pyogrio.list_layers(p)] if p.suffix.lower() == ".gpkg" else []
        # a riskmap basin file: its river network (layer "reaches")
        g = gpd.read_file(p, layer="reaches") if "reaches" in layers else gpd.read_file(p)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{p}: cannot read the river lines to burn: {e}") from None
    if g.crs is None:
        raise RiskmapInputError(f"{p}: the river lines have no CRS; save them with one (e.g. EPSG:4326)")
    g = g.to_crs("EPSG:4326")
    kinds = set(g.geom_type.dropna())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise RiskmapInputError(f"{p}: --burn needs river lines, found {', '.join(sorted(kinds))}")
    g = g[g.intersects(shapely.box(*bounds))]
    name = next((c for c in g.columns if c.lower() == "name"), None)
    names = g[name].astype(object).where(g[name].notna(), None) if name else pd.Series([None] * len(g), index=g.index)
    return gpd.GeoDataFrame({"name": names.to_numpy(), "source": p.name}, geometry=g.geometry.values,
                            crs="EPSG:4326")


def burn(grid: DemGrid, rivers: gpd.GeoDataFrame) -> tuple[np.ndarray, int]:
    """DEM with the river cells lowered by :data:`BURN_M`; also the number of burned cells."""
    from rasterio.features import rasterize

    elev = grid.elev.copy()
    if not len(rivers):
        return elev, 0
    m = rasterize(((g, 1) for g in rivers.geometry if g is not None and not g.is_empty), out_shape=grid.shape,
                  transform=grid.transform, fill=0, dtype="uint8", all_touched=False).astype(bool)
    m &= np.isfinite(elev)
    elev[m] -= BURN_M
    return elev, int(m.sum())
