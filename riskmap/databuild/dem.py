"""Build a basin's hydrography from a digital elevation model (DEM).

``riskmap data build-from-dem DEM [DEM ...] --outlet LON,LAT --name NAME`` and
:func:`build_from_dem` write ``<data>/basins/<NAME>.gpkg`` with the same layers and
columns as the reference build (``outline``, ``sub_basins``, ``reaches``, ``lakes``,
``countries``, ``borders``, ``towns``, ``dams``), a ``basins.json`` entry and a
PROVENANCE record, so :func:`riskmap.hydrography.load_basin` and every other part of
riskmap use the result unchanged.

Method (every tolerance is a module constant, documented in ``docs/hydrography.md``):

1. Read one or more tiles (GeoTIFF, SRTM ``.hgt``, NetCDF: anything rasterio reads) in
   geographic coordinates; several tiles must share CRS and cell size and touch each other;
   they are mosaicked with :func:`rasterio.merge.merge`.
2. Nodata regions connected to the grid edge (and cells at or below :data:`SEA_M` connected
   to the edge) are "outside" (sea, no coverage); interior nodata cells are voids, filled by
   inverse-distance interpolation (:func:`rasterio.fill.fillnodata`, at most
   :data:`VOID_SEARCH_CELLS` cells away).
3. Stream burning: the mapped rivers (by default the bundled reaches of every bundled basin
   crossing the DEM; or ``burn``, a line file) are rasterised and lowered by :data:`BURN_M`.
4. D8 flow directions (depressions filled, outlets at the grid edge and the outside) and
   upstream area with pyflwdir; the outlet snaps to the nearest stream cell within
   :data:`OUTLET_SNAP_KM` (the network ends there).
5. Streams: cells of upstream area >= ``stream_km2`` in the outlet's basin, cut at confluences
   and into pieces of at most :data:`MAX_REACH_KM`; attributes: ``reach_id``, ``downstream_id``,
   ``length_km`` (geodesic), ``dist_to_outlet_km``, ``upland_km2``, ``slope`` (m/m, void-filled
   DEM before burning), Strahler ``order``, ``name`` (the mapped river followed by at least
   :data:`NAME_SHARE` of the reach's sample points within :data:`NAME_M`), ``country`` /
   ``is_border`` (the one border-river rule of :mod:`riskmap.databuild.border_rivers`: the river
   follows the border line), ``waterbody``, ``sub_basin``.
6. Outline and sub-basins from the flow directions (the catchments of the named tributaries
   larger than :data:`SUB_BASIN_MIN_SHARE` of the basin), vectorised with
   :func:`rasterio.features.shapes` and simplified as a coverage (no gaps, no overlaps) with a
   tolerance of :data:`SIMPLIFY_CELLS` cell.
7. Lakes, towns, dams, countries and borders from the bundled data (dams re-attached to the
   nearest new reach within :data:`DAM_SNAP_M`).

Examples
--------
>>> from riskmap.databuild.dem import build_from_dem
>>> build_from_dem(["N42E019.hgt"], outlet=(19.245, 42.44), name="moraca",
...                data_dir="/tmp/rm")  # doctest: +SKIP
PosixPath('/tmp/rm/basins/moraca.gpkg')
"""

from __future__ import annotations

import datetime as _dt
import json
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import LineString

from riskmap._errors import RiskmapInputError
from riskmap.databuild.border_rivers import label_border_reaches, rule_params as border_rule_params
from riskmap.basins import read_meta
from riskmap._geo import aeqd_for_bounds, geodesic_area_km2, geodesic_length_km

# ---------------------------------------------------------------- parameters

#: Depth (m) by which the mapped river cells are lowered before routing (stream burning).
BURN_M = 20.0
#: Default stream threshold: upstream area (km2) from which a cell is a stream.
STREAM_KM2 = 100.0
#: Longest reach (km); longer stream segments are split into equal parts.
MAX_REACH_KM = 10.0
#: The outlet moves to the cell of largest upstream area within this distance (km).
OUTLET_SNAP_KM = 5.0
#: Interior voids are interpolated from valid cells at most this many cells away.
VOID_SEARCH_CELLS = 100
#: Refuse a DEM whose interior voids exceed this share of its valid cells.
MAX_VOID_SHARE = 0.25
#: Cells at or below this elevation (m) connected to the grid edge are sea.
SEA_M = 0.0
#: Spacing of sample points along reaches (m).
SAMPLE_M = 250.0
#: Mapped-river names are transferred to reaches whose sample points lie within this distance (m) ...
NAME_M = 3000.0
#: ... for at least this share of the reach's sample points.
NAME_SHARE = 0.5
#: A named tributary becomes a sub-basin when its catchment is at least this share of the basin.
SUB_BASIN_MIN_SHARE = 0.05
#: Outline simplification tolerance, in cells (coverage simplification: no gaps between sub-basins).
SIMPLIFY_CELLS = 1.0
#: Dams of the bundled data are re-attached to the nearest new reach within this distance (m).
DAM_SNAP_M = 3000.0
#: Bundled towns within this distance of the outline are kept (m).
TOWN_M = 10_000.0
#: Countries with at least this share of the basin area are riparian (as the reference build).
RIPARIAN_MIN_SHARE = 0.02
RIPARIAN_MIN_KM2 = 20.0
_NODATA = -9999.0


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
        return self.elev.shape  # type: ignore[return-value]

    @property
    def res(self) -> float:
        return float(abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        h, w = self.shape
        x0, y0 = self.transform * (0, 0)
        x1, y1 = self.transform * (w, h)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    @property
    def label(self) -> str:
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


# ---------------------------------------------------------------- vectorising


def _cells(grid: DemGrid, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, r = ~grid.transform * (coords[:, 0], coords[:, 1])
    h, w = grid.shape
    return np.clip(np.floor(r).astype(int), 0, h - 1), np.clip(np.floor(c).astype(int), 0, w - 1)


def extract_reaches(grid: DemGrid, flw: Any, upa: np.ndarray, basin: np.ndarray, stream_km2: float,
                    elev: np.ndarray) -> gpd.GeoDataFrame:
    """Stream segments of the basin as reaches (topology, length, slope, upland area, order)."""
    from riskmap.network import strahler_order

    mask = basin & (upa >= stream_km2)
    if mask.sum() < 2:
        raise RiskmapInputError(f"{grid.label}: no stream of at least {stream_km2:g} km2 upstream area in the "
                                f"outlet's basin ({np.nanmax(np.where(basin, upa, np.nan)):.1f} km2 at the "
                                f"outlet); lower --stream-km2 or move the outlet onto a larger river")
    max_len = max(2, int(MAX_REACH_KM / (grid.res * 111.32)))
    feats = flw.streams(mask=mask, max_len=max_len)
    rows = []
    for f in feats:
        xy = np.asarray(f["geometry"]["coordinates"], dtype=float)
        if len(xy) < 2:
            continue
        rows.append((int(f["properties"]["idx"]), int(f["properties"]["idx_ds"]), xy))
    first = np.array([r[0] for r in rows])
    pos = {int(k): i for i, k in enumerate(first)}
    down = np.array([pos.get(ids, -1) for _, ids, _ in rows])
    down[down == np.arange(len(rows))] = -1
    # the outlet pit comes as a one-cell segment (twice the same vertex): drop it, relink its upstreams
    pit = np.array([r[0] == r[1] for r in rows])
    if pit.any():
        down = np.where((down >= 0) & pit[np.maximum(down, 0)], down[np.maximum(down, 0)], down)
        keep = np.flatnonzero(~pit)
        newpos = np.full(len(rows), -1)
        newpos[keep] = np.arange(len(keep))
        down = np.where(down[keep] >= 0, newpos[np.maximum(down[keep], 0)], -1)
        rows = [rows[i] for i in keep]
    geoms = [LineString(xy) for _, _, xy in rows]
    ends = np.array([xy[-2] for _, _, xy in rows])  # last own cell (the last vertex is the confluence)
    starts = np.array([xy[0] for _, _, xy in rows])
    last = np.array([xy[-1] for _, _, xy in rows])
    re, ce = _cells(grid, ends)
    rs, cs = _cells(grid, starts)
    rl, cl = _cells(grid, last)
    length = np.asarray(geodesic_length_km(geoms), dtype=float)
    z0, z1 = elev[rs, cs], elev[rl, cl]
    slope = np.clip((z0 - z1) / np.maximum(length * 1000.0, 1.0), 0, None)
    # upstream first: order so that each reach comes before its downstream reach is irrelevant here;
    dist = np.full(len(rows), np.nan)
    for i in range(len(rows)):
        stack, j = [], i
        while j >= 0 and np.isnan(dist[j]):
            stack.append(j)
            j = down[j]
        base = 0.0 if j < 0 else dist[j] + length[j]
        for s in reversed(stack):
            dist[s] = base
            base += length[s]
    ids = np.arange(1, len(rows) + 1)
    return gpd.GeoDataFrame({
        "reach_id": ids.astype("int64"),
        "downstream_id": np.where(down >= 0, down + 1, -1).astype("int64"),
        "length_km": np.round(length, 4),
        "dist_to_outlet_km": np.round(dist, 4),
        "order": strahler_order(down).astype("int64"),
        "upland_km2": np.round(upa[re, ce].astype(float), 1),
        "slope": np.round(slope, 5),
        "_row": re, "_col": ce,
    }, geometry=geoms, crs="EPSG:4326")


def _samples(lines: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray, Any]:
    """Sample points every :data:`SAMPLE_M` along each line, in a local equidistant projection."""
    crs = aeqd_for_bounds(tuple(lines.total_bounds))
    L = lines.to_crs(crs).values
    lens = shapely.length(L)
    n = np.maximum((lens // SAMPLE_M).astype(int), 1) + 1
    owner = np.repeat(np.arange(len(L)), n)
    frac = np.concatenate([np.linspace(0, 1, k) for k in n])
    pts = shapely.line_interpolate_point(L[owner], frac, normalized=True)
    return pts, owner, crs


def _majority(owner: np.ndarray, values: np.ndarray, n_lines: int, min_share: float) -> np.ndarray:
    """Per line, the most common non-null value when it covers >= ``min_share`` of its points."""
    out = np.array([None] * n_lines, dtype=object)
    ok = pd.notna(values)
    if not ok.any():
        return out
    df = pd.DataFrame({"o": owner[ok], "v": values[ok]})
    cnt = df.groupby(["o", "v"]).size().reset_index(name="n").sort_values(["o", "n", "v"],
                                                                          ascending=[True, False, True])
    top = cnt.drop_duplicates("o")
    total = np.bincount(owner, minlength=n_lines)
    keep = top["n"].to_numpy() >= min_share * total[top["o"].to_numpy()]
    out[top["o"].to_numpy()[keep]] = top["v"].to_numpy()[keep]
    return out


def label_reaches(reaches: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame, countries: gpd.GeoDataFrame,
                  borders: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``name``, ``country``, ``is_border`` and ``waterbody`` from sample points along each reach."""
    pts, owner, crs = _samples(reaches.geometry)
    n = len(reaches)
    # names: nearest mapped river within NAME_M
    # lake links of the cartographic network carry the lake's name: not a river name
    lake_names = set(lakes["name"].dropna()) if len(lakes) and "name" in lakes else set()
    named = (rivers[rivers["name"].notna() & ~rivers["name"].isin(lake_names)
                    & ~rivers["name"].astype(str).str.contains(r"\blink\b|reservoir|\blake\b", case=False)]
             if len(rivers) else rivers)
    nm = np.array([None] * len(pts), dtype=object)
    if len(named):
        R = named.to_crs(crs)
        pi, ri = shapely.STRtree(R.geometry.values).query_nearest(pts, max_distance=NAME_M, all_matches=False)
        nm[pi] = R["name"].to_numpy()[ri]
    names = _majority(owner, nm, n, NAME_SHARE)
    # countries and borders
    C = countries.to_crs(crs)
    ci, pi2 = (shapely.STRtree(C.geometry.values).query(pts, predicate="within")
               if len(C) else (np.array([], int), np.array([], int)))
    iso = np.array([None] * len(pts), dtype=object)
    iso[ci] = C["iso3"].to_numpy()[pi2]
    # border rivers: the one rule of riskmap.databuild.border_rivers (the river follows the border)
    pairs = label_border_reaches(reaches, borders).to_numpy() if len(borders) else np.array([None] * n)
    country = _majority(owner, iso, n, 0.0)
    country = np.where(pd.notna(pairs), pairs, country)
    country = np.array([c if c is not None else "unknown" for c in country], dtype=object)
    is_border = np.array(["|" in c for c in country])
    # waterbodies: lake polygons holding at least half of the sample points
    wb = np.array([None] * len(pts), dtype=object)
    if len(lakes):
        K = lakes.to_crs(crs)
        ki, kj = shapely.STRtree(K.geometry.values).query(pts, predicate="within")
        wb[ki] = K["name"].to_numpy()[kj]
    out = reaches.copy()
    out.insert(2, "name", names)
    out["country"] = country
    out["is_border"] = is_border
    out["waterbody"] = _majority(owner, wb, n, 0.5)
    return out


def sub_basin_raster(flw: Any, grid: DemGrid, reaches: gpd.GeoDataFrame, basin: np.ndarray, idx_out: int,
                     main_label: str) -> tuple[np.ndarray, dict[int, str]]:
    """Catchments of the named tributaries (>= :data:`SUB_BASIN_MIN_SHARE` of the basin) and the rest."""
    total = float(reaches["upland_km2"].max())
    w = grid.shape[1]
    outlet_name = reaches.loc[reaches["downstream_id"] == -1].sort_values("upland_km2")["name"].iloc[-1]
    idxs, labels = [idx_out], [main_label]
    cand = reaches[reaches["name"].notna() & (reaches["name"] != outlet_name)]
    if len(cand):
        top = cand.sort_values("upland_km2", ascending=False).drop_duplicates("name")
        top = top[top["upland_km2"] >= SUB_BASIN_MIN_SHARE * total]
        for _, r in top.iterrows():
            idxs.append(int(r["_row"]) * w + int(r["_col"]))
            labels.append(str(r["name"]))
    ids = np.arange(1, len(idxs) + 1, dtype=np.int32)
    sub = flw.basins(idxs=np.asarray(idxs, dtype=np.intp), ids=ids)
    sub = np.where(basin, sub, 0).astype(np.int32)
    return sub, {int(i): lab for i, lab in zip(ids, labels)}


def polygons(grid: DemGrid, sub: np.ndarray, names: dict[int, str]) -> gpd.GeoDataFrame:
    """Vectorise the sub-basin raster and simplify it as a coverage (tolerance :data:`SIMPLIFY_CELLS`)."""
    from rasterio.features import shapes

    geoms, vals = [], []
    for g, v in shapes(sub, mask=sub > 0, transform=grid.transform, connectivity=8):
        geoms.append(shapely.geometry.shape(g))
        vals.append(int(v))
    df = gpd.GeoDataFrame({"v": vals}, geometry=geoms, crs="EPSG:4326").dissolve("v").reset_index()
    simple = shapely.coverage_simplify(df.geometry.values, tolerance=SIMPLIFY_CELLS * grid.res)
    simple = shapely.make_valid(simple)
    return gpd.GeoDataFrame({"sub_basin": [names[v] for v in df["v"]]}, geometry=simple, crs="EPSG:4326")


# ---------------------------------------------------------------- context layers


def _countries_in(countries: gpd.GeoDataFrame, outline: Any, area: float) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """Countries overlapping a basin outline with their area inside it, and which of them are riparians.

    Riparians hold at least :data:`RIPARIAN_MIN_SHARE` of the basin's ``area``
    (km²) and at least :data:`RIPARIAN_MIN_KM2`.
    """
    cin = countries[countries.intersects(outline)].copy()
    cin["area_km2_in_basin"] = np.round(np.asarray(geodesic_area_km2(
        shapely.intersection(cin.geometry.values, outline)), dtype=float), 1)
    cin = cin[cin["area_km2_in_basin"] > 0][["iso3", "name", "area_km2_in_basin", "geometry"]]
    cin = cin.sort_values("iso3").reset_index(drop=True)
    is_rip = (cin["area_km2_in_basin"] >= RIPARIAN_MIN_SHARE * area) & (cin["area_km2_in_basin"] >= RIPARIAN_MIN_KM2)
    return cin, is_rip


def _context(out: Path, data_dir: str | Path | None) -> dict[str, gpd.GeoDataFrame]:
    """countries/borders (countries.gpkg) and lakes/towns/dams of all bundled basins."""
    import pyogrio

    from riskmap._paths import DATA_DIR
    from riskmap.basins import BASIN_IDS as BASINS

    cands = [out / "countries.gpkg", DATA_DIR / "basins" / "countries.gpkg"]
    cpath = next((p for p in cands if p.is_file()), None)
    if cpath is None:
        raise RiskmapInputError(f"{cands[0]}: countries.gpkg not found; run `riskmap data build-reference` first")
    ctx = {"countries": gpd.read_file(cpath, layer="countries"), "borders": gpd.read_file(cpath, layer="borders")}
    src = out if any((out / f"{b}.gpkg").is_file() for b in BASINS) else DATA_DIR / "basins"
    for lyr in ("lakes", "towns", "dams"):
        parts = []
        for b in BASINS:
            p = src / f"{b}.gpkg"
            if p.is_file() and lyr in {n for n, _ in pyogrio.list_layers(p)}:
                parts.append(gpd.read_file(p, layer=lyr))
        ctx[lyr] = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")
                    if parts else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    ctx["_countries_path"] = cpath  # type: ignore[assignment]
    return ctx


def _attach_dams(dams: gpd.GeoDataFrame, reaches: gpd.GeoDataFrame, outline: shapely.Geometry) -> gpd.GeoDataFrame:
    if not len(dams):
        return dams
    d = dams[dams.intersects(outline.buffer(0.05))].drop_duplicates("name").reset_index(drop=True)
    if not len(d):
        return d
    crs = aeqd_for_bounds(tuple(reaches.total_bounds))
    R, D = reaches.to_crs(crs), d.to_crs(crs)
    di, ri = shapely.STRtree(R.geometry.values).query_nearest(D.geometry.values, max_distance=DAM_SNAP_M,
                                                               all_matches=False)
    d = d.iloc[di].copy()
    d["reach_id"] = R["reach_id"].to_numpy()[ri].astype("int64")
    d["dist_km"] = np.round(shapely.distance(D.geometry.values[di], R.geometry.values[ri]) / 1000.0, 3)
    return d.reset_index(drop=True)


# ---------------------------------------------------------------- the build


def build_from_dem(dems: Sequence[str | Path] | str | Path, *, outlet: tuple[float, float], name: str,
                   burn_path: str | Path | None = None, stream_km2: float = STREAM_KM2,
                   data_dir: str | Path | None = None, allow_partial: bool = False,
                   display_name: str | None = None, date: str | None = None) -> Path:
    """Build ``<data_dir>/basins/<name>.gpkg`` (and its basins.json / PROVENANCE entries) from a DEM.

    Parameters
    ----------
    dems : path or sequence of paths
        Elevation tiles in geographic coordinates (mosaicked when several).
    outlet : (lon, lat)
        A point on the river at (or a little upstream of) the basin outlet.
    name : str
        Basin identifier (letters, digits, ``_``, ``-``).
    burn_path : path, optional
        River lines to burn into the DEM (default: the bundled reaches crossing the DEM).
    stream_km2 : float
        Upstream area (km2) from which a cell is part of the river network.
    data_dir : path, optional
        ``data/`` or ``data/basins`` folder to write into (default: riskmap's data folder).
    allow_partial : bool
        Build a basin cut off by the DEM edge (warns) instead of refusing.
    display_name : str, optional
        Display name for ``basins.json`` (default ``name``).
    date : str, optional
        Build date recorded in PROVENANCE (default: now, UTC).

    Returns
    -------
    pathlib.Path
        The written GeoPackage.
    """
    from riskmap.hydrography import clear_cache
    from riskmap.io import atomic_write_text, sha256_file, write_layers

    t0 = time.perf_counter()
    if not name or not str(name).replace("_", "").replace("-", "").isalnum():
        raise RiskmapInputError(f"basin name {name!r}: use letters, digits, '_' or '-'")
    if not (np.isfinite(stream_km2) and stream_km2 > 0):
        raise RiskmapInputError(f"--stream-km2 {stream_km2!r}: give a positive upstream area in km2")
    lon, lat = float(outlet[0]), float(outlet[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise RiskmapInputError(f"outlet {outlet!r}: not a lon,lat pair")
    paths = [dems] if isinstance(dems, (str, Path)) else list(dems)
    out = _out_dir(data_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{name}.gpkg"
    if any(Path(p).resolve() == target.resolve() for p in [*paths, *([burn_path] if burn_path else [])]):
        raise RiskmapInputError(f"{target}: the output would overwrite an input; choose another --name")

    grid = read_dem(paths)
    rivers = read_burn(burn_path, grid.bounds) if burn_path else bundled_rivers(grid.bounds, data_dir)
    read_from = rivers.attrs.get("dir")
    if burn_path is None and target.is_file() and f"{name}.gpkg reaches" in set(rivers["source"]) \
            and read_from is not None and (Path(read_from) / f"{name}.gpkg").resolve() == target.resolve():
        raise RiskmapInputError(f"{target}: its reaches would be burned into the DEM and then overwritten; "
                                f"build the cartographic reference elsewhere (`riskmap data build-reference "
                                f"--out REF`) and pass --burn REF/{name}.gpkg")
    burned, n_burn = burn(grid, rivers)
    flw, upa = route(grid, burned)
    idx_out = snap_outlet(grid, upa, (lon, lat), float(stream_km2))
    flw.add_pits(idxs=np.array([idx_out], dtype=np.intp))  # the network ends at the outlet
    basin = flw.basins(idxs=np.array([idx_out], dtype=np.intp)).astype(bool)
    cover_note = check_cover(grid, basin, idx_out, allow_partial)

    ctx = _context(out, data_dir)
    reaches = extract_reaches(grid, flw, upa, basin, float(stream_km2), grid.elev)
    env = shapely.box(*reaches.total_bounds).buffer(0.5)
    lakes = ctx["lakes"][ctx["lakes"].intersects(env)].drop_duplicates("name").reset_index(drop=True)
    reaches = label_reaches(reaches, rivers, ctx["countries"], ctx["borders"], lakes)
    if len(ctx["lakes"]):  # names of every bundled lake are not river names (lake links)
        reaches.loc[reaches["name"].isin(set(ctx["lakes"]["name"].dropna())), "name"] = None
    outlet_name = reaches.loc[reaches["downstream_id"] == -1].sort_values("upland_km2")["name"].iloc[-1]
    reaches = name_stems(reaches, outlet_name)
    main_label = f"{outlet_name} main" if outlet_name else f"{display_name or name} main"
    sub, labels = sub_basin_raster(flw, grid, reaches, basin, idx_out, main_label)
    sub_poly = polygons(grid, sub, labels)
    reaches["sub_basin"] = [labels.get(int(v), "unknown") for v in
                            sub[reaches["_row"].to_numpy(), reaches["_col"].to_numpy()]]
    reaches = reaches.drop(columns=["_row", "_col"])
    cols = ["reach_id", "downstream_id", "name", "length_km", "dist_to_outlet_km", "order", "country",
            "is_border", "waterbody", "sub_basin", "upland_km2", "slope", "geometry"]
    reaches = reaches[cols]

    og = shapely.make_valid(shapely.union_all(sub_poly.geometry.values))
    area = float(geodesic_area_km2(og))
    label = display_name or name
    sub_poly.insert(0, "basin", name)
    sub_poly["area_km2"] = np.round(np.asarray(geodesic_area_km2(sub_poly.geometry), dtype=float), 1)
    sub_poly = sub_poly[["basin", "sub_basin", "area_km2", "geometry"]].sort_values("sub_basin").reset_index(drop=True)
    outline = gpd.GeoDataFrame({"basin": [name], "name": [label], "area_km2": [round(area, 1)]},
                               geometry=[og], crs="EPSG:4326")
    cin_all, is_rip = _countries_in(ctx["countries"], og, area)
    cin = cin_all[is_rip].reset_index(drop=True)  # layer: riparian countries only (as the reference)
    B = ctx["borders"]
    bsel = B[B.intersects(og.buffer(0.2))].reset_index(drop=True)
    towns = ctx["towns"]
    if len(towns):
        crs = aeqd_for_bounds(tuple(outline.total_bounds))
        near = towns.to_crs(crs).distance(outline.to_crs(crs).geometry.iloc[0]) <= TOWN_M
        towns = towns[near.to_numpy()].drop_duplicates(["name", "country"]).reset_index(drop=True)
    dams = _attach_dams(ctx["dams"], reaches, og)
    if len(dams) and "marks_reservoir" in dams:
        for rid, res, marks in zip(dams["reach_id"], dams.get("reservoir", dams["name"]), dams["marks_reservoir"]):
            hit = (reaches["reach_id"] == rid) & reaches["waterbody"].isna()
            if bool(marks):
                reaches.loc[hit, "waterbody"] = res
    layers = {"outline": outline, "sub_basins": sub_poly, "reaches": reaches, "lakes": lakes,
              "countries": cin, "borders": bsel, "towns": towns}
    if len(dams):
        layers["dams"] = dams
    write_layers(target, layers)
    fg = save_flowgrid(target, flw, grid, basin, ctx["countries"], reaches)

    # ---- basins.json
    meta_path = out / "basins.json"
    meta: dict[str, Any] = read_meta(out)  # a corrupt basins.json is an error, never silently replaced
    prev = meta.get(name, {})
    pub = prev.get("published_area_km2")
    err = None
    if pub:
        lo, hi = pub
        err = round(0.0 if lo <= area <= hi else 100.0 * min(abs(area - lo), abs(area - hi)) / (lo if area < lo else hi), 1)
    dem_src = [{"file": str(Path(p).name), "sha256": sha256_file(p)} for p in grid.files]
    # the burned lines' content (a GeoPackage's bytes change with GDAL's timestamps on every rebuild)
    import hashlib

    lines_sha = hashlib.sha256(b"".join(shapely.to_wkb(rivers.geometry.values).tolist())
                               + "\0".join(map(str, rivers["name"])).encode()).hexdigest()
    burn_src = ({"file": Path(burn_path).name, "lines_sha256": lines_sha} if burn_path
                else {"file": "bundled reaches (" + ", ".join(sorted(set(rivers["source"]))) + ")"
                      if len(rivers) else "none"})
    notes = [(f"Built from a DEM by riskmap data build-from-dem: D8 flow directions (pyflwdir), mapped rivers "
              f"burned {BURN_M:g} m, streams from {stream_km2:g} km2 upstream area, reaches <= {MAX_REACH_KM:g} km; "
              f"outline simplified with a tolerance of {SIMPLIFY_CELLS:g} cell ({grid.res * 3600:.1f} arc-seconds).")]
    if cover_note:
        notes.append(cover_note + " (built with --allow-partial).")
    meta[name] = {
        "name": label,
        "riparian": list(cin["iso3"]),
        "outlet": [round(lon, 5), round(lat, 5)],
        "continuation": prev.get("continuation", []),
        "published_area_km2": pub,
        "measured": {"area_km2": round(area, 1), "area_error_pct": err, "iou_tfdd": None,
                     "n_reaches": len(reaches),
                     "network_km": round(float(reaches["length_km"].sum()), 1),
                     "sub_basin_km2": {s: float(a) for s, a in zip(sub_poly["sub_basin"], sub_poly["area_km2"])}},
        "area_in_basin_km2": {i: float(a) for i, a, k in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip) if k},
        "minor_shares_km2": {i: float(a) for i, a, k in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip)
                             if not k},
        "notes": notes,
        "source": {"dem": dem_src, "burn": burn_src, "builder": "riskmap data build-from-dem "
                   "(riskmap/databuild/dem.py)", "dem_grid_bounds": [round(v, 6) for v in grid.bounds],
                   "flow_grid": {"file": fg.name, "sha256": sha256_file(fg),
                                 "content": "pyflwdir D8 codes of the basin's cells (247 outside) and the "
                                            "country of each cell; read by riskmap.flowgrid"}},
    }
    if "dams" in layers:
        meta[name]["dams"] = {"n": len(dams), "source": "bundled dams layer re-attached to the DEM reaches "
                              f"(nearest within {DAM_SNAP_M / 1000:g} km)"}
    atomic_write_text(meta_path, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    _write_provenance(out, name, meta[name], grid, n_burn, stream_km2, date, time.perf_counter() - t0)
    clear_cache()
    return target


def _out_dir(data_dir: str | Path | None) -> Path:
    """``data_dir/basins`` (created) unless ``data_dir`` is itself a basins folder."""
    from riskmap._paths import DATA_DIR

    if data_dir is None:
        return DATA_DIR / "basins"
    d = Path(data_dir)
    if d.name == "basins":
        return d
    if (d / "basins").is_dir() or not ((d / "basins.json").is_file() or any(d.glob("*.gpkg"))):
        return d / "basins"
    return d


def _write_provenance(out: Path, name: str, entry: dict[str, Any], grid: DemGrid, n_burn: int,
                      stream_km2: float, date: str | None, seconds: float) -> None:
    """Record the DEM build in ``PROVENANCE.json`` (``dem_builds``) and a section of ``PROVENANCE.md``."""
    from riskmap._about import __version__
    from riskmap.io import atomic_write_text

    when = date or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rec = {
        "builder": "riskmap data build-from-dem (riskmap/databuild/dem.py)",
        "riskmap_version": __version__,
        "build_date": when,
        "dem": entry["source"]["dem"],
        "burn": entry["source"]["burn"],
        "grid": {"shape": list(grid.shape), "cell_arcsec": round(grid.res * 3600, 3),
                 "bounds": [round(v, 5) for v in grid.bounds], "void_cells_filled": grid.n_voids,
                 "burned_cells": n_burn},
        "parameters": {"burn_m": BURN_M, "stream_km2": stream_km2, "max_reach_km": MAX_REACH_KM,
                       "outlet_snap_km": OUTLET_SNAP_KM, "border_rule": border_rule_params(),
                       "name_m": NAME_M, "name_share": NAME_SHARE, "simplify_cells": SIMPLIFY_CELLS,
                       "sub_basin_min_share": SUB_BASIN_MIN_SHARE},
        "build_seconds": round(seconds, 1),
    }
    pj = out / "PROVENANCE.json"
    prov: dict[str, Any] = {}
    if pj.is_file():
        try:
            prov = json.loads(pj.read_text(encoding="utf-8"))
        except ValueError:
            prov = {}
    prov.setdefault("dem_builds", {})[name] = rec
    atomic_write_text(pj, json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    pm = out / "PROVENANCE.md"
    text = pm.read_text(encoding="utf-8") if pm.is_file() else "# Provenance of data/basins\n"
    start, end = f"<!-- dem:{name} -->", f"<!-- /dem:{name} -->"
    if start in text and end in text:
        text = text[: text.index(start)].rstrip("\n") + "\n" + text[text.index(end) + len(end):].lstrip("\n")
    dem_rows = "\n".join(f"| `{d['file']}` | `{d['sha256']}` |" for d in rec["dem"])
    section = (f"\n{start}\n## {name}: built from a DEM\n\nBuilt by `riskmap data build-from-dem` (riskmap "
               f"{__version__}) on {when} from:\n\n| DEM file | sha256 |\n|---|---|\n{dem_rows}\n\n"
               f"Mapped rivers burned: {rec['burn']['file']}. Method and tolerances: "
               f"`riskmap/databuild/dem.py`, `docs/hydrography.md`.\n\n" + "\n".join(f"- {n}" for n in entry["notes"])
               + f"\n{end}\n")
    atomic_write_text(pm, text.rstrip("\n") + "\n" + section)


def parse_outlet(text: str) -> tuple[float, float]:
    """``"19.25,42.44"`` -> ``(19.25, 42.44)`` or a clear error."""
    try:
        lon, lat = (float(v) for v in str(text).split(","))
    except ValueError:
        raise RiskmapInputError(f"--outlet must be LON,LAT in degrees (got {text!r})") from None
    return lon, lat


__all__: Sequence[str] = ("BURN_M", "STREAM_KM2", "build_from_dem", "read_dem")


# ---------------------------------------------------------------- joining a cartographic lower course


def join_downstream(name: str, carto: str = "syr_darya", *, data_dir: str | Path | None = None,
                    carto_dir: str | Path | None = None, date: str | None = None) -> Path:
    """Continue a DEM-built basin with the course of a cartographic basin below the DEM outlet.

    The junction is the DEM basin's outlet (a point on the main stem, e.g. where the Syr Darya
    leaves the GEBCO grid at 66.14 E). The cartographic reach nearest the junction is cut there;
    it and every cartographic reach downstream of it (and their tributaries that lie outside the
    DEM outline) are appended, with new ids after the DEM ids; the DEM outlet reach flows into
    the cut reach and every DEM distance to the outlet grows by the cartographic river km below
    the junction. The outline is the DEM outline plus the part of the cartographic outline outside
    the DEM grid (lower sub-basin labels kept). The cartographic basin's outlet, continuation and
    published area become the joined basin's.

    Parameters
    ----------
    name : str
        The DEM-built basin (rewritten in place: ``<data_dir>/basins/<name>.gpkg``).
    carto : str
        The cartographic basin to take the lower course from (default the bundled ``syr_darya``).
    data_dir, carto_dir : path, optional
        Folders of the DEM basin and of the cartographic basin (default: the bundled data).

    Returns
    -------
    pathlib.Path
    """
    from shapely.ops import substring

    from riskmap.hydrography import clear_cache, load_basin
    from riskmap.io import atomic_write_text, write_layers

    out = _out_dir(data_dir)
    dem = load_basin(name, out)
    cb = load_basin(carto, carto_dir)
    gb = dem.meta.get("source", {}).get("dem_grid_bounds")
    if not gb:
        raise RiskmapInputError(f"{out / (name + '.gpkg')}: not built by build-from-dem (no DEM grid bounds in "
                                f"basins.json); build it with `riskmap data build-from-dem` first")
    if "joined_downstream" in dem.meta.get("source", {}):
        raise RiskmapInputError(f"{name}: already joined to {dem.meta['source']['joined_downstream']['basin']}; "
                                f"rebuild it with build-from-dem before joining again")
    r, c = dem.reaches.copy(), cb.reaches.copy()
    out_reach = r.loc[r["downstream_id"] == -1].sort_values("upland_km2").iloc[-1]
    jx, jy = out_reach.geometry.coords[-1]
    crs = aeqd_for_bounds((jx - 1, jy - 1, jx + 1, jy + 1))
    C = c.to_crs(crs)
    jp = gpd.GeoSeries([shapely.Point(jx, jy)], crs="EPSG:4326").to_crs(crs).iloc[0]
    d = C.distance(jp).to_numpy()
    k = int(np.argmin(d))
    if d[k] > 5000:
        raise RiskmapInputError(f"{name}: the DEM outlet ({jx:.4f}, {jy:.4f}) is {d[k] / 1000:.1f} km from any "
                                f"reach of {carto}; build the DEM basin with its outlet on {carto}'s main stem")
    # reaches downstream of the junction (the cut one included) and their tributaries outside the DEM outline
    ids = c["reach_id"].to_numpy()
    down = dict(zip(ids, c["downstream_id"].to_numpy()))
    path, x = [], int(ids[k])
    while x != -1:
        path.append(x)
        x = int(down.get(x, -1))
    og_dem = dem.outline.geometry.iloc[0]
    outside = ~shapely.within(shapely.line_interpolate_point(c.geometry.values, 0.5, normalized=True), og_dem)
    keep = set(path)
    changed = True
    while changed:
        add = {int(i) for i, ds, o in zip(ids, c["downstream_id"], outside) if o and int(ds) in keep} - keep
        changed = bool(add)
        keep |= add
    lower = c[c["reach_id"].isin(keep)].copy()
    g = C.geometry.iloc[k]
    cut = substring(g, g.project(jp), g.length)
    cut_ll = gpd.GeoSeries([cut], crs=crs).to_crs("EPSG:4326").iloc[0]
    cut_ll = LineString([(jx, jy), *cut_ll.coords[1:]])  # starts exactly where the DEM outlet reach ends
    kid = int(ids[k])
    lower.loc[lower["reach_id"] == kid, "geometry"] = cut_ll
    lower.loc[lower["reach_id"] == kid, "length_km"] = round(float(geodesic_length_km(cut_ll)), 4)
    offset = int(r["reach_id"].max())
    newid = {int(i): offset + j + 1 for j, i in enumerate(sorted(keep))}
    lower["reach_id"] = lower["reach_id"].map(newid).astype("int64")
    lower["downstream_id"] = lower["downstream_id"].map(lambda v: newid.get(int(v), -1)).astype("int64")
    base = float(lower.loc[lower["reach_id"] == newid[kid], "dist_to_outlet_km"].iloc[0]
                 + lower.loc[lower["reach_id"] == newid[kid], "length_km"].iloc[0])
    r["dist_to_outlet_km"] = np.round(r["dist_to_outlet_km"] + base, 4)
    r.loc[r["reach_id"] == out_reach["reach_id"], "downstream_id"] = newid[kid]
    for col in ("upland_km2", "slope"):
        if col not in lower:
            lower[col] = np.nan
    reaches = gpd.GeoDataFrame(pd.concat([r, lower[r.columns]], ignore_index=True), geometry="geometry",
                               crs="EPSG:4326")
    from riskmap.network import strahler_order

    pos = {int(v): i for i, v in enumerate(reaches["reach_id"])}
    dpos = np.array([pos.get(int(v), -1) for v in reaches["downstream_id"]])
    reaches["order"] = strahler_order(dpos).astype("int64")
    # outline: the DEM outline plus the cartographic one outside the DEM grid
    grid_box = shapely.box(*gb)
    low_sub = cb.sub_basins.copy()
    low_sub["geometry"] = shapely.difference(low_sub.geometry.values, grid_box)
    low_sub = low_sub[~low_sub.geometry.is_empty]
    sub = dem.sub_basins.copy()
    sub = gpd.GeoDataFrame(pd.concat([sub, low_sub.assign(basin=name)], ignore_index=True), geometry="geometry",
                           crs="EPSG:4326").dissolve("sub_basin", as_index=False)
    sub["geometry"] = shapely.make_valid(sub.geometry.values)
    sub["area_km2"] = np.round(np.asarray(geodesic_area_km2(sub.geometry), dtype=float), 1)
    sub["basin"] = name
    sub = sub[["basin", "sub_basin", "area_km2", "geometry"]].sort_values("sub_basin").reset_index(drop=True)
    og = shapely.make_valid(shapely.union_all(sub.geometry.values))
    area = float(geodesic_area_km2(og))
    outline = dem.outline.copy()
    outline["geometry"] = [og]
    outline["area_km2"] = round(area, 1)
    lower_labels = set(low_sub["sub_basin"])
    reaches.loc[reaches["reach_id"].isin(newid.values()), "sub_basin"] = [
        s if s in lower_labels else "unknown" for s in lower["sub_basin"]]
    C2 = gpd.read_file(_context(out, data_dir)["_countries_path"], layer="countries")
    cin_all, is_rip = _countries_in(C2, og, area)
    cin = cin_all[is_rip].reset_index(drop=True)
    lakes = gpd.GeoDataFrame(pd.concat([dem.lakes, cb.lakes], ignore_index=True), geometry="geometry",
                             crs="EPSG:4326").drop_duplicates("name").reset_index(drop=True)
    towns = gpd.GeoDataFrame(pd.concat([dem.towns, cb.towns], ignore_index=True), geometry="geometry",
                             crs="EPSG:4326").drop_duplicates(["name", "country"]).reset_index(drop=True)
    borders = gpd.GeoDataFrame(pd.concat([dem.borders, cb.borders], ignore_index=True), geometry="geometry",
                               crs="EPSG:4326")
    borders = borders[~borders.geometry.duplicated()].reset_index(drop=True)
    dams = _attach_dams(cb.dams, reaches, og) if len(cb.dams) else dem.dams
    layers = {"outline": outline, "sub_basins": sub, "reaches": reaches, "lakes": lakes, "countries": cin,
              "borders": borders, "towns": towns}
    if len(dams):
        layers["dams"] = dams
    target = out / f"{name}.gpkg"
    write_layers(target, layers)
    meta_path = out / "basins.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    e = meta[name]
    pub = cb.meta.get("published_area_km2")
    e["outlet"] = cb.meta.get("outlet", e["outlet"])
    e["continuation"] = cb.meta.get("continuation", [])
    e["published_area_km2"] = pub
    e["riparian"] = list(cin["iso3"])
    e["area_in_basin_km2"] = {i: float(a) for i, a, q in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip) if q}
    e["minor_shares_km2"] = {i: float(a) for i, a, q in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip)
                             if not q}
    m = e["measured"]
    m["area_km2"] = round(area, 1)
    if pub:
        lo, hi = pub
        m["area_error_pct"] = round(0.0 if lo <= area <= hi else 100.0 * min(abs(area - lo), abs(area - hi))
                                    / (lo if area < lo else hi), 1)
    m["n_reaches"] = len(reaches)
    m["network_km"] = round(float(reaches["length_km"].sum()), 1)
    m["sub_basin_km2"] = {s: float(a) for s, a in zip(sub["sub_basin"], sub["area_km2"])}
    e["notes"] = [n for n in e["notes"] if "does not cover the whole basin" not in n] + [
        (f"Joined at ({jx:.4f}, {jy:.4f}) on the main stem (the DEM outlet, at the edge of the DEM grid) to the "
         f"cartographic course of '{carto}' below it: {len(lower)} reaches, {lower['length_km'].sum():.1f} river km "
         f"and the cartographic outline outside the DEM grid come from the reference build.")]
    e["source"]["joined_downstream"] = {"basin": carto, "junction": [round(jx, 5), round(jy, 5)],
                                        "n_reaches": len(lower)}
    atomic_write_text(meta_path, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    pj = out / "PROVENANCE.json"
    if pj.is_file():
        prov = json.loads(pj.read_text(encoding="utf-8"))
        prov.setdefault("dem_builds", {}).setdefault(name, {})["joined_downstream"] = e["source"]["joined_downstream"]
        atomic_write_text(pj, json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    clear_cache()
    return target



# ---------------------------------------------------------------- names of unnamed stems

#: Stems that neither mapped network names (Natural Earth / GSHHG have no line or no name), keyed by
#: the name of the river at the basin outlet: (name, lon, lat, basis). The reach nearest the point
#: and every unnamed reach downstream of it, until the stem meets a named river, get the name.
NAMED_STEMS: dict[str, tuple[tuple[str, float, float, str], ...]] = {
    "Syr Darya": (
        ("Chirchik", 69.975, 41.625, "Charvak dam (GRanD 4676; GEM watercourse 'Chirchiq River')"),
        ("Akhangaran", 70.208, 41.058, "Akhangaran dam (GRanD 4681), above Angren"),
    ),
}


def _up_main(reaches: pd.DataFrame) -> dict[int, int]:
    """Per reach id, the upstream reach of largest upland area (the stem continues there)."""
    up = reaches[reaches["downstream_id"] >= 0].sort_values("upland_km2", ascending=False)
    return dict(zip(up.drop_duplicates("downstream_id")["downstream_id"].astype(int),
                    up.drop_duplicates("downstream_id")["reach_id"].astype(int)))


def name_stems(reaches: gpd.GeoDataFrame, outlet_name: str | None) -> gpd.GeoDataFrame:
    """Name unnamed stems: :data:`NAMED_STEMS`, then gaps along a stem between two reaches of one name.

    A reach through a reservoir or lake carries no river name (lake links are not river names);
    an unnamed run of reaches whose nearest named reach downstream and nearest named reach
    upstream (along the largest upstream branch) carry the same name gets that name (e.g. the
    Naryn through Toktogul, the Syr Darya through Shardara).
    """
    r = reaches.copy()
    ids = r["reach_id"].astype(int).to_numpy()
    down = dict(zip(ids, r["downstream_id"].astype(int)))
    name = {int(i): (None if pd.isna(v) else str(v)) for i, v in zip(ids, r["name"])}
    for nm, lon, lat, _basis in NAMED_STEMS.get(str(outlet_name), ()):
        crs = aeqd_for_bounds((lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5))
        d = r.to_crs(crs).distance(shapely.Point(0, 0)).to_numpy()
        k = int(np.argmin(d))
        if d[k] > 3000:  # the stem point is not on this network
            continue
        x = int(ids[k])
        while x != -1 and name.get(x) is None:
            name[x] = nm
            x = down.get(x, -1)
    upm = _up_main(r)
    changed = True
    while changed:
        changed = False
        for x in ids:
            if name[x] is not None:
                continue
            y = down.get(x, -1)
            while y != -1 and name.get(y) is None:
                y = down.get(y, -1)
            if y == -1:
                continue
            z = upm.get(int(x))
            while z is not None and name.get(z) is None:
                z = upm.get(z)
            if z is not None and name[y] == name[z]:
                name[x] = name[y]
                changed = True
    r["name"] = pd.Series([name[int(i)] for i in ids], index=r.index, dtype=object)
    return r


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


# ---------------------------------------------------------------- the bundled data: reference + DEM Syr Darya

#: The bundled basins built from a DEM after the cartographic reference: basin id ->
#: (DEM file under the sources folder, junction/outlet on the main stem at the grid edge, stream km2).
BUNDLED_DEM_BASINS: dict[str, tuple[str, tuple[float, float], float]] = {
    "syr_darya": ("gebco-2023-15s-syr-darya/gebco_2023_15s_syr_darya.tif", (66.15, 44.427), 300.0),
}


def build_bundled(sources: str | Path, out_dir: str | Path, *, date: str | None = None,
                  plots: bool = True) -> dict[str, Any]:
    """Rebuild ``data/basins`` as bundled: the cartographic reference, then the DEM basins.

    The reference is built into a temporary folder next to ``out_dir`` (its Syr Darya reaches are
    the burn lines and its lower course the part joined below the DEM grid); its files are moved
    into ``out_dir``, then every basin of :data:`BUNDLED_DEM_BASINS` is rebuilt from its DEM into
    ``out_dir`` and joined to the cartographic course below the grid. No input is overwritten and
    the temporary folder is removed.

    Returns
    -------
    dict
        The final ``basins.json`` content.
    """
    import os
    import shutil
    import tempfile

    from riskmap.databuild.reference import build_reference
    from riskmap.databuild.reference.products import _plot
    from riskmap.databuild.reference.specs import BASIN_SPECS
    from riskmap.hydrography import load_basin

    sources, out = Path(sources), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".reference-", dir=out.parent) as t:
        ref = Path(t) / "basins"
        build_reference(sources, ref, date=date, plots=plots)
        for f in sorted(ref.iterdir()):
            os.replace(f, out / f.name)  # same file system: atomic per file
        carto = Path(t) / "carto"
        carto.mkdir()
        for bid, (dem, junction, km2) in BUNDLED_DEM_BASINS.items():
            shutil.copy2(out / f"{bid}.gpkg", carto / f"{bid}.gpkg")
            shutil.copy2(out / "basins.json", carto / "basins.json")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the basin meets the grid edge at the junction (joined below)
                build_from_dem([sources / dem], outlet=junction, name=bid, burn_path=carto / f"{bid}.gpkg",
                               stream_km2=km2, data_dir=out, allow_partial=True,
                               display_name=BASIN_SPECS[bid].name if bid in BASIN_SPECS else bid, date=date)
            join_downstream(bid, bid, data_dir=out, carto_dir=carto, date=date)
            if plots and bid in BASIN_SPECS:
                b = load_basin(bid, out)
                _plot(out / f"{bid}.png", BASIN_SPECS[bid], b.outline, b.sub_basins, b.reaches, b.lakes,
                      b.borders, b.towns)
    return read_meta(out)
