"""Where a spill release enters the river network, and on which basin's network.

:func:`resolve_site` reads what the user names (an inventory ``site_id``,
``"lon,lat"`` or ``"reach:<id>"``), :func:`locate_release` places an inventory
site as :func:`riskmap.exposure.assess` does, :func:`find_basin` finds the basin
of a point, and ``_resolve_release`` gives the start reach, the fraction along
it and the snap distance. Geometry work happens in a local azimuthal-equidistant
projection, never in degrees. Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import local_aeqd
from riskmap.basins import basins_dir, known_basins, resolve_basin
from riskmap.discharge import _Network
from riskmap.exposure import SHARED_LAKE_SHORE, assess

if TYPE_CHECKING:
    from riskmap.spill_result import SpillOptions

__all__ = ["locate_release", "resolve_site", "find_basin"]


def _aeqd(lon: float, lat: float) -> Any:
    """The local azimuthal-equidistant CRS centred on (lon, lat) (:func:`riskmap._geo.local_aeqd`)."""
    return local_aeqd(lon, lat)


def _locate(point: shapely.Point, reaches: gpd.GeoDataFrame, max_km: float) -> tuple[int, float, float]:
    """Nearest reach (STRtree in a local equidistant projection): (reach_id, fraction, km)."""
    crs = _aeqd(point.x, point.y)
    r = reaches.to_crs(crs)
    p = gpd.GeoSeries([point], crs=4326).to_crs(crs).iloc[0]
    tree = shapely.STRtree(r.geometry.values)
    idx, dist = tree.query_nearest(p, return_distance=True)
    i = int(idx[0])
    km = float(dist[0]) / 1000.0
    if km > max_km:
        raise RiskmapInputError(f"site at {point.x:.4f}E {point.y:.4f}N is {km:.1f} km from the nearest "
                                f"river reach (limit {max_km:g} km): not on the river network")
    line = r.geometry.values[i]
    frac = float(shapely.line_locate_point(line, p, normalized=True)) if line.length > 0 else 1.0
    return int(r["reach_id"].values[i]), frac, km


@dataclass
class _Release:
    """The network a spill runs on and where it enters it."""

    site: Any
    basin_id: str | None
    reaches: Any
    lakes: Any
    towns: Any


def _release_network(site_or_point: Any, opts: SpillOptions) -> _Release:
    """The release object, basin id and network layers (the basin's, or the ones given)."""
    basin, reaches, lakes, towns = opts.basin, opts.reaches, opts.lakes, opts.towns
    max_snap_km = opts.max_snap_km
    basin_id = None
    if isinstance(site_or_point, str):  # "site_id", "lon,lat" or "reach:<id>", as on the CLI
        site_or_point, basin = locate_release(site_or_point, basin=basin if reaches is None else None,
                                              max_snap_km=max_snap_km)
    if basin is None and reaches is None and isinstance(site_or_point, pd.Series):
        b = site_or_point.get("basin")
        basin = b if isinstance(b, str) and b else None
    if basin is None and reaches is None and not isinstance(site_or_point, (int, np.integer)):
        pt = site_or_point
        if isinstance(pt, pd.Series):
            pt = pt.geometry
        elif isinstance(pt, (tuple, list)) and len(pt) == 2:
            pt = shapely.Point(float(pt[0]), float(pt[1]))
        if isinstance(pt, shapely.Geometry):
            basin = find_basin(pt.representative_point() if pt.geom_type != "Point" else pt,
                               max_snap_km=max_snap_km)
    if reaches is None:
        if basin is None:
            raise RiskmapInputError("give basin= (drin, drina, syr_darya) or a reaches= network")
        if isinstance(basin, str):
            basin_id = basin
            basin = _load_basin(basin)
        else:
            basin_id = getattr(basin, "id", None)
        reaches, lakes, towns = basin.reaches, getattr(basin, "lakes", None), getattr(basin, "towns", None)
    elif isinstance(basin, str):
        basin_id = basin
    if isinstance(reaches, gpd.GeoDataFrame) and reaches.crs is not None and not reaches.crs.equals("EPSG:4326"):
        reaches = reaches.to_crs(4326)
    return _Release(site_or_point, basin_id, reaches, lakes, towns)


def _origin(site: Any) -> tuple[str | None, float | None, shapely.Point | None]:
    """The site's country, the km to a border crossed before the mapped river (``assess``), the site point."""
    if isinstance(site, gpd.GeoDataFrame) and len(site) == 1:
        site = site.iloc[0]
    if not isinstance(site, pd.Series):
        pt = site if isinstance(site, shapely.Point) else None
        return None, None, pt
    c = site.get("country")
    if not (isinstance(c, str) and c):
        c = site.get("country_poly")  # assess: the country the point lies in
    origin = str(c) if isinstance(c, str) and c else None
    cross = None
    basis = site.get("river_km_basis")
    if isinstance(basis, str) and basis.startswith("border crossed off"):
        fb = site.get("first_border_river_km")
        cross = float(fb) if fb is not None and pd.notna(fb) else None
    g = site.get("geometry")
    pt = None if g is None else (g if g.geom_type == "Point" else g.representative_point())
    return origin, cross, pt


def _resolve_release(site: Any, reaches: pd.DataFrame, net: _Network, max_km: float
                     ) -> tuple[int, float, float, str]:
    """The start reach, the fraction along it, the snap distance (km) and a label of the release."""
    if isinstance(site, (int, np.integer)) and not isinstance(site, bool):
        if int(site) not in net.down:
            raise RiskmapInputError(f"reach {site} is not in the network")
        return int(site), 0.0, 0.0, f"reach {int(site)}"
    if isinstance(site, gpd.GeoDataFrame):
        if len(site) != 1:
            raise RiskmapInputError(f"give exactly one site, got {len(site)}")
        site = site.iloc[0]
    label = "release point"
    if isinstance(site, pd.Series):
        label = str(site.get("name") or site.get("site_id") or label)
        geom = _row_geometry(site)
        placed = _on_assessed_reach(site, geom, reaches, net)
        if placed is not None:
            return (*placed, label)
        if geom is None:
            raise RiskmapInputError(f"site {label}: no geometry and no reach_id")
        site = geom if geom.geom_type == "Point" else geom.representative_point()
    if isinstance(site, (tuple, list)) and len(site) == 2:
        site = shapely.Point(float(site[0]), float(site[1]))
        label = f"{site.x:.4f}E {site.y:.4f}N"
    if isinstance(site, shapely.Point):
        if label == "release point":
            label = f"{site.x:.4f}E {site.y:.4f}N"
        return (*_snap_point(site, reaches, max_km), label)
    raise RiskmapInputError(f"cannot locate a release from {type(site).__name__}; give (lon, lat), a Point, "
                            "a site row or a reach_id")


def _row_geometry(site: pd.Series) -> Any:
    """A site row's geometry, or a point from its ``lon``/``lat`` columns (None without either)."""
    geom = site.get("geometry")
    if geom is None and {"lon", "lat"} <= set(site.index):
        geom = shapely.Point(float(site["lon"]), float(site["lat"]))
    return geom


def _on_assessed_reach(site: pd.Series, geom: Any, reaches: pd.DataFrame, net: _Network
                       ) -> tuple[int, float, float] | None:
    """(reach_id, fraction, snap km) of a site row that carries its reach (from ``assess``), else None."""
    rid = site.get("reach_id")
    if not (rid is not None and pd.notna(rid) and int(rid) in net.down and geom is not None and "geometry" in reaches):
        return None
    line = reaches.set_index("reach_id").geometry.loc[int(rid)]
    pt = geom if geom.geom_type == "Point" else geom.representative_point()
    crs = _aeqd(pt.x, pt.y)
    gl = gpd.GeoSeries([line], crs=4326).to_crs(crs).iloc[0]
    gp = gpd.GeoSeries([pt], crs=4326).to_crs(crs).iloc[0]
    frac = float(shapely.line_locate_point(gl, gp, normalized=True))
    given = site.get("reach_frac")  # dem-syr's assess: where the site's own route joins the reach
    if given is not None and pd.notna(given) and 0 <= float(given) <= 1:
        frac = float(given)
    snap = site.get("snap_km")
    if site.get("river_km_basis") == SHARED_LAKE_SHORE and pd.notna(site.get("first_border_river_km")):
        snap = site["first_border_river_km"]  # assess: the water enters the shared lake at its shore
    return int(rid), frac, float(snap) if snap is not None and pd.notna(snap) else gl.distance(gp) / 1000


def _snap_point(point: shapely.Point, reaches: pd.DataFrame, max_km: float) -> tuple[int, float, float]:
    """(reach_id, fraction, km) of the reach nearest to ``point`` (within ``max_km``)."""
    if "geometry" not in reaches.columns:
        raise RiskmapInputError("the reaches table has no geometry: give a reach_id instead of a point")
    rg = reaches if isinstance(reaches, gpd.GeoDataFrame) else gpd.GeoDataFrame(reaches, crs=4326)
    if rg.crs is None:
        rg = rg.set_crs(4326)
    return _locate(point, rg.to_crs(4326), max_km)


def _load_basin(basin_id: str, data_dir: Any = None) -> Any:
    """``riskmap.hydrography.load_basin``, or the contract's GeoPackage layers read directly."""
    try:
        from riskmap.hydrography import load_basin
    except ImportError:
        pass
    else:
        return load_basin(basin_id, data_dir=data_dir) if data_dir is not None else load_basin(basin_id)
    from types import SimpleNamespace

    from riskmap._paths import DATA_DIR

    f = (Path(data_dir) if data_dir is not None else DATA_DIR) / "basins" / f"{basin_id}.gpkg"
    if not f.exists():
        raise RiskmapInputError(f"{f} not found: unknown basin {basin_id!r} or data/basins not built")
    layers = {k: gpd.read_file(f, layer=k) for k in ("reaches", "lakes", "towns")}
    return SimpleNamespace(id=basin_id, **layers)


def locate_release(site_id: str, sites: gpd.GeoDataFrame | str | Path | None = None, *,
                   basin: Any = None, max_snap_km: float = 10.0) -> tuple[Any, Any]:
    """Where a release at ``site_id`` enters the network, and in which basin.

    An inventory site is located like :func:`riskmap.exposure.assess` does
    (river snap, or allocation to a reach of its sub-basin), so the spill starts
    on the same reach the exposure engine reports; a ``"lon,lat"`` point or
    ``"reach:<id>"`` is returned as given (the point snaps in
    :func:`simulate_spill`).

    Returns
    -------
    (site, basin)
        The object to pass to :func:`simulate_spill` and the basin id (or the
        ``basin`` given).

    Examples
    --------
    >>> site, basin = locate_release("lit-mailuu-suu-uranium-tailings-and-waste-dumps")  # doctest: +SKIP
    >>> simulate_spill(site, "10t", basin=basin)  # doctest: +SKIP
    """
    site = resolve_site(site_id, sites)
    if isinstance(site, shapely.Point):  # a lon,lat release is located as assess locates a site there
        located = _assessed_point(site, basin)
        if located is not None:  # already assessed (once: a second pass would warn about its own columns)
            return located
        # else: the nearest river within max_snap_km (find_basin below), or its error
    if isinstance(site, pd.Series):
        if basin is None and isinstance(site.get("basin"), str) and site.get("basin"):
            basin = site["basin"]
        site, basin = _assessed_release(site, basin)
    if basin is None:
        if isinstance(site, int):
            raise RiskmapInputError("a release at reach:<id> needs a basin")
        pt = site if not isinstance(site, pd.Series) else site.geometry.representative_point()
        basin = find_basin(pt, max_snap_km=max_snap_km)
    return site, basin


def _assessed_point(pt: shapely.Point, basin: Any) -> tuple[pd.Series, str] | None:
    """A ``lon,lat`` release located as :func:`assess` locates a site there, in the country it lies in.

    River snap, allocation to a reach of its sub-basin, a shared lake's shore or the DEM flow path.
    None where ``assess`` places it on no reach (outside every basin), or in another basin than the
    ``basin`` asked for (the point then snaps to that basin's network, as before).
    """
    row = pd.Series({"site_id": f"{pt.x:.5f},{pt.y:.5f}", "name": f"{pt.x:.4f}E {pt.y:.4f}N",
                     "category": "other", "coord_precision": "exact", "geometry": pt})
    located, _ = _assessed_release(row, None)
    where = located.get("basin") if located is not row else None
    if not isinstance(where, str) or not where:
        return None
    if basin is not None:
        asked = resolve_basin(basin) if isinstance(basin, str) else getattr(basin, "id", basin)
        if asked != where:
            return None
        return located, basin
    return located, where


def _assessed_release(site: pd.Series, basin: Any) -> tuple[pd.Series, Any]:
    """The site as :func:`riskmap.exposure.assess` places it, when it sits on a reach.

    The explicit "assess" step of the analysis, with no error swallowed: a site
    the exposure engine refuses raises its :class:`RiskmapInputError`. A site
    that is neither snapped to a river nor allocated to a reach is returned
    unchanged (the release point then snaps in :func:`simulate_spill`).
    """
    row = assess(gpd.GeoDataFrame([site], geometry="geometry", crs=4326)).iloc[0]
    # every located site ("river snap", "basin allocation", dem-syr's "dem flow path"): start where assess says
    if row.get("drainage_by") not in (None, "none") and pd.notna(row.get("reach_id")):
        return row, basin or row.get("basin")
    return site, basin


def resolve_site(site_id: str, sites: gpd.GeoDataFrame | str | Path | None = None
                 ) -> pd.Series | shapely.Point | int:
    """A site row by ``site_id`` from an inventory, a point from ``"lon,lat"``, or ``"reach:<id>"``.

    Parameters
    ----------
    site_id : str
        A ``site_id`` of the inventory, ``"lon,lat"`` in decimal degrees, or
        ``"reach:<reach_id>"`` (release at the upstream end of that reach; needs a basin).
    sites : GeoDataFrame or path, optional
        The inventory (default ``data/sites/sites.csv``).

    Examples
    --------
    >>> resolve_site("19.36,43.36")
    <POINT (19.36 43.36)>
    >>> resolve_site("reach:57")
    57
    """
    r = re.fullmatch(r"\s*reach:(\d+)\s*", str(site_id))
    if r:
        return int(r.group(1))
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", str(site_id))
    if m:
        lon, lat = float(m.group(1)), float(m.group(2))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RiskmapInputError(f"{site_id!r}: longitude/latitude out of range")
        return shapely.Point(lon, lat)
    if sites is None or isinstance(sites, (str, Path)):
        from riskmap._paths import DATA_DIR
        from riskmap.io import read_sites

        path = Path(sites) if sites is not None else DATA_DIR / "sites" / "sites.csv"
        if not path.exists():
            raise RiskmapInputError(f"{path}: site inventory not found; give --sites FILE or lon,lat")
        inv = read_sites(path)
    else:
        inv = sites
    hit = inv[inv["site_id"].astype(str) == str(site_id)]
    if hit.empty:
        close = [s for s in inv["site_id"].astype(str) if str(site_id).lower() in s.lower()][:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise RiskmapInputError(f"site_id {site_id!r} not found in the inventory{hint}")
    return hit.iloc[0]


def find_basin(point: shapely.Point, max_snap_km: float = 10.0, data_dir: Any = None) -> str:
    """The basin whose river network passes nearest to ``point`` (within ``max_snap_km``).

    Examples
    --------
    >>> find_basin(shapely.Point(19.36, 43.36))  # doctest: +SKIP
    'drina'
    """
    folder = basins_dir(data_dir)
    ids = list(known_basins(data_dir))  # reference and imported basins (riskmap.basins)
    if not ids:
        raise RiskmapInputError(f"no basin networks in {folder}: run `riskmap data build-reference`")
    best: tuple[float, str] | None = None
    for b in ids:
        basin = _load_basin(b, data_dir)
        try:
            _r, _f, km = _locate(point, basin.reaches.to_crs(4326), max_snap_km)
        except RiskmapInputError:
            continue
        if best is None or km < best[0]:
            best = (km, b)
    if best is None:
        raise RiskmapInputError(f"{point.x:.4f}E {point.y:.4f}N is not within {max_snap_km:g} km of a river "
                                "of the Drin, Drina or Syr Darya networks: outside the basins (a point is "
                                "given as lon,lat: longitude first)")
    return best[1]
