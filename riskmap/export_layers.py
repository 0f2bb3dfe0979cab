"""GeoPackage layers of an export: basin outline, rivers and the downstream paths of the transboundary sites.

Each path follows the basin's river network (``basin.network``, :mod:`riskmap.network`) from
the site's reach to where the river leaves the site's country.
"""

from __future__ import annotations

import json
import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from riskmap._geo import GEOD
from riskmap.network import RiverNetwork, network_of

__all__ = ["DOWNSTREAM_PATH_COLUMNS", "downstream_paths", "basin_layers", "layer_qml", "LAYER_SYMBOLS"]


def _blank(v: Any) -> bool:
    return (v is None or v is pd.NA or v is pd.NaT or (isinstance(v, str) and v == "")
            or (isinstance(v, (float, np.floating)) and math.isnan(v)))


def _basin_part(basin: Any, name: str) -> Any:
    if basin is None:
        return None
    if isinstance(basin, dict):
        return basin.get(name)
    return getattr(basin, name, None)


#: Columns of the ``downstream_paths`` layer (before the geometry).
DOWNSTREAM_PATH_COLUMNS = ["path_id", "reach_id", "country", "n_sites", "site_ids", "path_km", "ends_at",
                           "countries"]


def _path_of(net: RiverNetwork, reach_id: int, country: Any,
             start: float) -> tuple[Any, str, list[str]] | None:
    """Line, ``ends_at`` and countries of one downstream path starting ``start`` (0..1) along its first reach.

    The reach sequence and the line come from the basin's :class:`RiverNetwork`
    (``downstream_path`` and its ``geometry``); this function only decides
    where the path stops: at the first border reach or change of country.
    """
    path = net.downstream_path(reach_id, fraction=float(start))
    table = net.table if net.table is not None else pd.DataFrame(index=range(len(net)))
    rows = table.iloc[path["position"].to_numpy()]
    n = len(path)
    cs = rows["country"].to_numpy(dtype=object) if "country" in rows.columns else np.full(n, None, dtype=object)
    cs = np.array([None if _blank(c) else str(c) for c in cs], dtype=object)  # reaches of one path (tens)
    border = (rows["is_border"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "is_border" in rows.columns
              else np.zeros(n, dtype=bool))
    crosses = border.copy()
    if country is not None:
        crosses |= np.array([c is not None and c != str(country) for c in cs], dtype=bool)
    hit = np.flatnonzero(crosses)
    k = int(hit[0]) if len(hit) else n  # first reach beyond the country (n: none)
    ends_at = "outlet" if k == n else ("on border water" if k == 0 else "border")
    n_keep = max(k, 1)  # draining straight into border water: show that stretch
    seen = [c for c in cs[:min(k + 1, n)] if c is not None]
    countries = [c for i, c in enumerate(seen) if i == 0 or seen[i - 1] != c]
    line = _line_of(net, path["position"].to_numpy()[:n_keep], float(start))
    return None if line is None else (line, ends_at, countries)


def _line_of(net: RiverNetwork, pos: np.ndarray, start: float) -> Any:
    """The reach lines at ``pos`` (flow order) merged into one line, the first cut ``start`` (0..1) along.

    Not :meth:`RiverNetwork.path_geometry`: its ``union_all`` nodes a river that
    crosses itself (Drin) into several parts, where ``line_merge`` of the reach
    lines keeps the single LineString the layer has always held.
    """
    geoms = net.geometry[pos]  # type: ignore[index]
    if start > 0 and len(geoms):
        geoms = geoms.copy()
        geoms[0] = substring(geoms[0], start, 1.0, normalized=True)
    lines = [ln for ln in geoms if ln is not None and ln.geom_type == "LineString" and not ln.is_empty]
    if not lines:
        return None
    merged = shapely.line_merge(shapely.MultiLineString(lines))
    return None if merged.is_empty else merged


def downstream_paths(sites: gpd.GeoDataFrame, basin: Any) -> gpd.GeoDataFrame:
    """One line per distinct downstream path of the transboundary sites, with the sites it serves.

    A site's path to the first border depends only on its start reach and its
    country (a path ends where the river leaves that country), so sites are
    grouped by ``(reach_id, country)`` and each group's path is computed and
    stored once, whatever the number of sites: the cost grows with the number
    of distinct start reaches, not of sites. The line starts at the most
    upstream snap point of the group's sites on the start reach, so every
    served site's own path is the downstream part of it.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Assessed sites with ``reach_id`` and ``transboundary_downstream``.
    basin : riskmap.hydrography.Basin
        Provides ``reaches`` and ``network`` (a :class:`riskmap.network.RiverNetwork`;
        built from ``reaches`` when absent).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``path_id`` (1, 2, ... in order of ``reach_id``, ``country``),
        ``reach_id`` (start reach), ``country`` (of the sites served),
        ``n_sites``, ``site_ids`` (JSON list of the ``site_id`` served, in
        input order), ``path_km`` (geodesic length of the line), ``ends_at``
        (``border``, ``outlet``, or ``on border water`` when the sites drain
        straight into a border river or shared lake: the line is then the rest
        of that reach), ``countries`` (JSON list of the countries of the
        path's reaches), geometry (LineString, EPSG:4326). Empty when exposure
        did not provide ``reach_id`` or the basin has no downstream paths.

    Examples
    --------
    >>> paths = downstream_paths(assessed, basin)  # doctest: +SKIP
    """
    cols = DOWNSTREAM_PATH_COLUMNS
    empty = gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in cols},
                             geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    reaches = _basin_part(basin, "reaches")
    if reaches is None or "reach_id" not in sites.columns or not len(sites):
        return empty
    net = network_of(basin)
    if net.geometry is None or net.length_km is None:
        return empty
    mask = _path_site_mask(sites, getattr(basin, "id", None))
    if not mask.any():
        return empty
    geom_of = dict(zip(net.ids.tolist(), net.geometry))
    rid = pd.to_numeric(sites["reach_id"], errors="coerce").to_numpy(dtype=float)[mask].astype("int64")
    known = np.array([r in geom_of for r in np.unique(rid)], dtype=bool)  # distinct reaches only
    ok = np.isin(rid, np.unique(rid)[known])
    if not ok.any():
        return empty
    starts = _path_starts(sites, np.flatnonzero(mask)[ok], rid[ok], geom_of)
    rows = _path_rows(net, starts)
    if not rows:
        return empty
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    out.insert(0, "path_id", np.arange(1, len(out) + 1, dtype="int64"))
    return out[cols + ["geometry"]]


def _path_site_mask(sites: gpd.GeoDataFrame, basin_id: str | None) -> np.ndarray:
    """Which sites get a downstream path: a reach (not -1), transboundary, and of this basin."""
    tb = sites.get("transboundary_downstream")
    rid_num = pd.to_numeric(sites["reach_id"], errors="coerce")
    mask = (rid_num.notna() & (rid_num >= 0)).to_numpy(dtype=bool).copy()  # -1: no reach
    if tb is not None:
        mask &= tb.astype("boolean").fillna(False).to_numpy(dtype=bool)
    if basin_id is not None and "basin" in sites.columns:  # reach ids are only unique within a basin
        mask &= (sites["basin"].astype(object) == basin_id).to_numpy(dtype=bool)
    return mask


def _path_starts(sites: gpd.GeoDataFrame, sel_idx: np.ndarray, rid: np.ndarray,
                 geom_of: dict[int, Any]) -> pd.DataFrame:
    """Where the selected sites (positions ``sel_idx``, start reaches ``rid``) join their reach.

    Columns ``reach_id``, ``country``, ``pos`` (0 upstream end .. 1 downstream end of the reach)
    and ``site_id``.
    """
    geom = sites.geometry
    if geom.crs is not None and not geom.crs.equals("EPSG:4326"):
        geom = geom.to_crs("EPSG:4326")
    pts = np.asarray(geom.values)[sel_idx]
    not_pt = shapely.get_type_id(pts) != 0
    pts = pts.copy()
    pts[not_pt] = shapely.point_on_surface(pts[not_pt])
    ureach, inv = np.unique(rid, return_inverse=True)
    first = np.array([geom_of[int(r)] for r in ureach], dtype=object)[inv]
    pos = shapely.line_locate_point(first, pts, normalized=True)  # 0 upstream end .. 1 downstream end
    pos = np.where(np.isfinite(pos), pos, 0.0)
    if "country" in sites.columns:
        cser = sites["country"].iloc[sel_idx].astype(object)
        country = cser.where(cser.notna(), "").astype(str).to_numpy(dtype=object)
    else:
        country = np.full(len(sel_idx), "", dtype=object)
    site_id = (sites["site_id"].astype(object).to_numpy()[sel_idx] if "site_id" in sites.columns
               else sel_idx.astype(object))
    return pd.DataFrame({"reach_id": rid, "country": country, "pos": pos, "site_id": site_id})


def _path_rows(net: Any, starts: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per distinct (start reach, country) of ``starts`` with its path line (never per site)."""
    groups = starts.groupby(["reach_id", "country"], sort=True)
    start = groups["pos"].min()
    members = groups["site_id"].agg(list)
    rows = []
    for (r, c), s0 in start.items():
        r = int(r)
        got = _path_of(net, r, c or None, float(s0))
        if got is None:
            continue
        line, ends_at, countries = got
        ids = members.loc[(r, c)]
        rows.append({"reach_id": r, "country": c or None, "n_sites": len(ids),
                     "site_ids": json.dumps([str(i) for i in ids], ensure_ascii=False, separators=(",", ":")),
                     "path_km": round(GEOD.geometry_length(line) / 1000.0, 3), "ends_at": ends_at,
                     "countries": json.dumps(countries, ensure_ascii=False), "geometry": line})
    return rows


def basin_layers(sites: gpd.GeoDataFrame, basin: Any) -> dict[str, gpd.GeoDataFrame]:
    """The reference layers of ``basin`` for an export: outline, countries, borders, rivers, lakes, towns."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    for layer, part in (("basin", "outline"), ("countries", "countries"), ("borders", "borders"),
                        ("rivers", "reaches"), ("lakes", "lakes"), ("towns", "towns")):
        frame = _basin_part(basin, part)
        if isinstance(frame, gpd.GeoDataFrame) and len(frame):
            layers[layer] = frame
    paths = downstream_paths(sites, basin) if basin is not None else None
    if paths is not None and len(paths):
        layers["downstream_paths"] = paths
    return layers


#: QGIS symbol of each GeoPackage layer: (symbol type, colour as "r,g,b,a", size or width in mm).
LAYER_SYMBOLS: dict[str, tuple[str, str, float]] = {
    "sites": ("marker", "215,48,39,255", 2.6),
    "site_lines": ("line", "215,48,39,255", 0.8),
    "site_areas": ("fill", "215,48,39,120", 0.4),
    "basin": ("fill", "0,0,0,0", 0.6),
    "countries": ("fill", "240,240,235,255", 0.3),
    "borders": ("line", "90,90,90,255", 0.6),
    "rivers": ("line", "70,130,200,255", 0.4),
    "lakes": ("fill", "166,206,227,255", 0.2),
    "towns": ("marker", "40,40,40,255", 1.6),
    "downstream_paths": ("line", "255,127,0,200", 1.0),
}

_QML_LAYER = {
    "marker": ("SimpleMarker", {"name": "circle", "size": "{size}", "outline_color": "35,35,35,255",
                                "outline_width": "0.2"}),
    "line": ("SimpleLine", {"line_color": "{color}", "line_width": "{size}", "line_style": "solid"}),
    "fill": ("SimpleFill", {"style": "solid", "outline_color": "60,60,60,255", "outline_width": "{size}"}),
}


def layer_qml(layer: str) -> str | None:
    """A QGIS style (QML, single symbol) for a GeoPackage layer of :data:`LAYER_SYMBOLS`, else None.

    Examples
    --------
    >>> "SimpleMarker" in layer_qml("sites")
    True
    """
    if layer not in LAYER_SYMBOLS:
        return None
    kind, color, size = LAYER_SYMBOLS[layer]
    cls, opts = _QML_LAYER[kind]
    opts = {"color": color, **{k: v.format(color=color, size=size) for k, v in opts.items()}}
    options = "".join(f'<Option type="QString" name="{k}" value="{v}"/>' for k, v in opts.items())
    style = "no" if color.endswith(",0") else "solid"
    if kind == "fill":
        options = options.replace('name="style" value="solid"', f'name="style" value="{style}"')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            '<qgis version="3.28.0" styleCategories="Symbology">'
            '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0"><symbols>'
            f'<symbol type="{kind}" name="0" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="{cls}" enabled="1" locked="0" pass="0"><Option type="Map">{options}</Option>'
            "</layer></symbol></symbols></renderer-v2></qgis>")
