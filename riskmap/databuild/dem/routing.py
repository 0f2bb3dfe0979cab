"""D8 routing with pyflwdir: flow directions, upstream area, outlet snapping, coverage check."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from riskmap._errors import RiskmapInputError
from riskmap.databuild.dem.constants import _NODATA, OUTLET_SNAP_KM, STREAM_KM2
from riskmap.databuild.dem.grid import DemGrid


def route(grid: DemGrid, elev: np.ndarray) -> tuple[Any, np.ndarray]:
    """Flow directions (pyflwdir) and upstream area (km2) of a conditioned DEM."""
    import pyflwdir

    data = np.where(np.isfinite(elev), elev, _NODATA).astype("float32")
    try:
        flw = pyflwdir.from_dem(data, nodata=_NODATA, transform=grid.transform, latlon=True, outlets="edge")
        upa = flw.upstream_area(unit="km2")
    except Exception as e:  # noqa: BLE001  (pyflwdir/numba: never show their traceback)
        raise RiskmapInputError(f"{grid.label}: flow routing failed ({type(e).__name__}: {e}); check that the "
                                f"DEM holds elevations in metres on a lon/lat grid") from None
    return flw, np.where(upa < 0, np.nan, upa)


def snap_outlet(grid: DemGrid, upa: np.ndarray, outlet: tuple[float, float], stream_km2: float = STREAM_KM2) -> int:
    """Linear index of the outlet cell.

    The nearest stream cell within :data:`OUTLET_SNAP_KM` (else the cell of largest upstream
    area there).
    """
    lon, lat = float(outlet[0]), float(outlet[1])
    x0, y0, x1, y1 = grid.bounds
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        raise RiskmapInputError(f"outlet ({lon}, {lat}) is off the DEM grid ({grid.label}: lon {x0:.4f} to "
                                f"{x1:.4f}, lat {y0:.4f} to {y1:.4f}); give a point on the river inside the "
                                f"DEM or add the tile that covers it")
    h, w = grid.shape
    c, r = ~grid.transform * (lon, lat)
    r, c = min(int(r), h - 1), min(int(c), w - 1)
    if grid.outside[r, c]:
        raise RiskmapInputError(f"outlet ({lon}, {lat}) lies in the sea or on nodata of the DEM ({grid.label}); "
                                f"move it onto the river a little upstream of its mouth")
    ky = max(1, round(OUTLET_SNAP_KM / (grid.res * 111.32)))
    kx = max(1, round(OUTLET_SNAP_KM / (grid.res * 111.32 * max(np.cos(np.radians(lat)), 0.1))))
    rs, cs = slice(max(r - ky, 0), min(r + ky + 1, h)), slice(max(c - kx, 0), min(c + kx + 1, w))
    win = np.where(np.isfinite(upa[rs, cs]), upa[rs, cs], -1.0)
    ii, jj = np.mgrid[rs, cs]
    d2 = ((ii - r) * grid.res * 111.32) ** 2 + ((jj - c) * grid.res * 111.32 * np.cos(np.radians(lat))) ** 2
    ok = (win >= stream_km2) & (d2 <= OUTLET_SNAP_KM ** 2)
    if ok.any():  # the nearest stream cell
        k = int(np.argmin(np.where(ok, d2, np.inf)))
    else:  # no stream nearby: the largest upstream area
        k = int(np.argmax(win))
    i, j = np.unravel_index(k, win.shape)
    return int((rs.start + i) * w + cs.start + j)


def check_cover(grid: DemGrid, mask: np.ndarray, idx_out: int, allow_partial: bool) -> str | None:
    """Refuse (or warn about) a basin that reaches the DEM edge away from its outlet."""
    h, w = grid.shape
    ro, co = divmod(idx_out, w)
    k = max(2, round(OUTLET_SNAP_KM / (grid.res * 111.32)) * 2)
    edge = np.zeros_like(mask)
    edge[0, :] = edge[-1, :] = True
    edge[:, 0] = edge[:, -1] = True
    rr, cc = np.nonzero(mask & edge)
    far = (np.abs(rr - ro) > k) | (np.abs(cc - co) > k)
    n = int(far.sum())
    if n == 0:
        return None
    sides = sorted({s for s, hit in (("north", (rr[far] == 0).any()), ("south", (rr[far] == h - 1).any()),
                                     ("west", (cc[far] == 0).any()), ("east", (cc[far] == w - 1).any())) if hit})
    km = n * grid.res * 111.32
    msg = (f"{grid.label}: the DEM does not cover the whole basin: about {km:,.0f} km of its divide run along "
           f"the {'/'.join(sides)} edge of the DEM, where the basin is cut off")
    if not allow_partial:
        raise RiskmapInputError(msg + "; add the neighbouring tile(s), or pass --allow-partial to build the "
                                      "covered part only (its area and outline are then too small)")
    warnings.warn(msg + " (built anyway: --allow-partial)", stacklevel=3)
    return msg
