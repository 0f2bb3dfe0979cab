"""Per-basin lookup index of the exposure engine.

For each basin riskmap precomputes once: a lookup grid for the sub-basin and
country polygons (``PolygonLabeler``), k-d trees over the densified reaches
and borders (``SegmentIndex``; both in :mod:`riskmap.spatial_index`), and
per reach x origin country tables of what lies downstream (``_BasinIndex``).
The index is kept in memory (:func:`clear_cache` empties it) and in the
user's cache folder (:mod:`riskmap.index_cache`), keyed by the basin data's
checksum and by the digest of the code it depends on. Used by
:mod:`riskmap.exposure` and :mod:`riskmap.population`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import aeqd_for_bounds
from riskmap.basins import BASIN_IDS
from riskmap.index_cache import (INDEX_CACHE_VERSION, _index_cache_file,  # noqa: F401  (re-exported)
                                 _read_index_cache, _write_index_cache)
from riskmap.hydrography import load_basin
from riskmap.network import network_of
from riskmap.spatial_index import (_GRID_MIN_POINTS, _STEP_DEG, PolygonLabeler,  # noqa: F401  (re-exported)
                                   SegmentIndex, _geoms_from_arrays, _geoms_to_arrays)

__all__ = ["BASIN_IDS", "clear_cache", "format_continuation"]

#: Basin indexes kept in memory (least recently built dropped first).
_CACHE_MAX = 8


# --------------------------------------------------------------------------
# Per-basin precomputation (cached)
# --------------------------------------------------------------------------


def _union(geoms: Iterable[Any]) -> shapely.Geometry | None:
    g = [x for x in geoms if x is not None and not x.is_empty]
    if not g:
        return None
    return shapely.union_all(np.array(g, dtype=object)) if len(g) > 1 else g[0]


def _clean_codes(col: pd.Series) -> np.ndarray:
    """Text column -> object array of stripped upper-case strings, None where blank (vectorised).

    Each distinct value is cleaned once (a column of a million sites holds a few codes).
    """
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    s = pd.Series(uniques).astype("string").str.strip().str.upper()
    s = s.where(s.str.len() > 0)
    clean = np.full(len(s) + 1, None, dtype=object)  # code -1 (missing): the last slot, None
    clean[:-1] = s.astype(object).where(s.notna(), None).to_numpy(dtype=object)
    return clean[codes]


def _str_or_none(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    s = str(v).strip()
    return s or None


def format_continuation(meta: dict[str, Any] | None) -> str | None:
    """Render a basin's ``continuation`` (beyond its outlet) as one line of text.

    Parameters
    ----------
    meta : dict
        The basin's ``basins.json`` entry (``Basin.meta``).

    Returns
    -------
    str or None
        e.g. ``"Sava (BIH|SRB, SRB) → Danube (SRB, ...) → Black Sea"``; None
        when the entry has no continuation.

    Examples
    --------
    >>> format_continuation({"continuation": [{"water": "Sava", "countries": ["BIH|SRB", "SRB"]},
    ...                                        {"water": "Black Sea", "countries": []}]})
    'Sava (BIH|SRB, SRB) → Black Sea'
    """
    steps = (meta or {}).get("continuation") or []
    parts = []
    for s in steps:
        if isinstance(s, str):
            parts.append(s)
            continue
        water = s.get("water") or "?"
        cs = [c for c in (s.get("countries") or []) if c]
        parts.append(f"{water} ({', '.join(cs)})" if cs else water)
    return " → ".join(parts) if parts else None


@dataclass
class _BasinIndex:
    """Everything :func:`assess` needs about one basin, precomputed."""

    id: str
    bounds: tuple[float, float, float, float]
    to_xy: pyproj.Transformer
    to_ll: pyproj.Transformer
    outline: shapely.Geometry
    outline_lab: PolygonLabeler
    outline_edge: SegmentIndex
    sub_names: np.ndarray
    sub_lab: PolygonLabeler
    country_codes: np.ndarray
    country_lab: PolygonLabeler
    border_a: np.ndarray
    border_b: np.ndarray
    border_idx: SegmentIndex | None
    reach_ids: np.ndarray
    reach_names: np.ndarray
    reach_country: np.ndarray
    reach_len: np.ndarray
    reach_dto: np.ndarray
    reach_border: np.ndarray
    reach_sub: np.ndarray
    reach_next: np.ndarray  # position of the reach below when it starts where this one ends (-1 otherwise)
    reach_idx: SegmentIndex | None
    sub_reach_idx: dict[str, tuple[np.ndarray, SegmentIndex]]
    origins: dict[str, int]
    exit_up: np.ndarray  # (n_reaches, n_origins + 1): upstream-end dto of first reach not in origin
    ds_code: np.ndarray  # (n_reaches, n_origins + 1): code into ds_lists
    ds_lists: list[tuple[str, ...]]
    shared_lakes: tuple[PolygonLabeler, SegmentIndex] | None
    shared_bounds: tuple[float, float, float, float]
    continuation: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    #: lon/lat bounds of the reaches and the reaches in :func:`riskmap._geo.aeqd_for_bounds` of them
    #: (table order): the projection :mod:`riskmap.population` measures along-river km in.
    reach_bounds: tuple[float, float, float, float] | None = None
    reach_proj: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))


_INDEX_CACHE: dict[int, tuple[Any, _BasinIndex]] = {}


def clear_cache() -> None:
    """Forget the per-basin indexes held in memory (the on-disk cache stays; it is keyed by content).

    Examples
    --------
    >>> clear_cache()
    """
    _INDEX_CACHE.clear()


def _basin_index(basin: Any) -> _BasinIndex:
    key = id(basin)
    hit = _INDEX_CACHE.get(key)
    if hit is not None and hit[0] is basin:
        return hit[1]
    cache_file = _index_cache_file(basin)
    arrays = _read_index_cache(cache_file) if cache_file is not None else None
    idx = _index_from_arrays(arrays) if arrays is not None else None
    if idx is None:
        idx = _build_index(basin)
        if cache_file is not None:
            _write_index_cache(cache_file, _index_to_arrays(idx))
    if len(_INDEX_CACHE) >= _CACHE_MAX:
        _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
    _INDEX_CACHE[key] = (basin, idx)
    return idx


#: Text (object array) fields of :class:`_BasinIndex`, kept as JSON in the index cache.
_TEXT_FIELDS = ("sub_names", "country_codes", "border_a", "border_b", "reach_names", "reach_country", "reach_sub")
#: Numeric array fields of :class:`_BasinIndex`.
_ARRAY_FIELDS = ("reach_ids", "reach_len", "reach_dto", "reach_border", "reach_next", "exit_up", "ds_code")


def _json_text(v: Any) -> str | float | None:
    """A text-field value as JSON: the string, None, or NaN (pandas' missing text) kept as NaN."""
    if v is None or isinstance(v, str):
        return v
    return float("nan") if isinstance(v, float) and math.isnan(v) else str(v)


def _index_to_arrays(ix: _BasinIndex) -> dict[str, np.ndarray]:
    """Plain arrays (numbers, WKB, one JSON header) of a basin index, for :mod:`riskmap.index_cache`."""
    subs = list(ix.sub_reach_idx)
    head = {"id": ix.id, "bounds": list(ix.bounds), "to_xy": ix.to_xy.to_proj4(), "to_ll": ix.to_ll.to_proj4(),
            "origins": ix.origins, "ds_lists": [list(t) for t in ix.ds_lists], "shared": ix.shared_lakes is not None,
            "shared_bounds": list(ix.shared_bounds), "continuation": ix.continuation, "meta": ix.meta, "subs": subs,
            "border": ix.border_idx is not None, "reach": ix.reach_idx is not None,
            "reach_bounds": list(ix.reach_bounds) if ix.reach_bounds is not None else None,
            **{f: [_json_text(v) for v in getattr(ix, f)] for f in _TEXT_FIELDS}}
    a: dict[str, np.ndarray] = {"head": np.frombuffer(json.dumps(head, default=str).encode("utf-8"), dtype=np.uint8),
                                "outline": np.frombuffer(shapely.to_wkb(ix.outline), dtype=np.uint8)}
    a.update({f: np.asarray(getattr(ix, f)) for f in _ARRAY_FIELDS})
    for name in ("outline_lab", "sub_lab", "country_lab"):
        a.update(getattr(ix, name).to_arrays(f"{name}."))
    for name in ("outline_edge", "border_idx", "reach_idx"):
        if getattr(ix, name) is not None:
            a.update(getattr(ix, name).to_arrays(f"{name}."))
    a.update(_geoms_to_arrays(list(ix.reach_proj), "reach_proj."))
    for k, s in enumerate(subs):
        sel, sidx = ix.sub_reach_idx[s]
        a[f"sub{k}.sel"] = sel
        # the vertices of a sub-basin's index are those of its reaches in the basin's: not stored twice
        a.update({name: arr for name, arr in sidx.to_arrays(f"sub{k}.").items()
                  if not name.endswith(_SUB_DERIVED)})
    if ix.shared_lakes is not None:
        a.update(ix.shared_lakes[0].to_arrays("lakes_lab."))
        a.update(ix.shared_lakes[1].to_arrays("lakes_shore."))
    return a


def _index_from_arrays(a: dict[str, np.ndarray]) -> _BasinIndex | None:
    """The basin index saved by :func:`_index_to_arrays`; None when the arrays do not make one (rebuilt)."""
    try:
        head = json.loads(a["head"].tobytes().decode("utf-8"))
        seg = SegmentIndex.from_arrays
        text = {f: np.array(head[f], dtype=object) for f in _TEXT_FIELDS}
        a = {**a, **_sub_vertices(a, len(head["subs"]))}
        subs = {s: (a[f"sub{k}.sel"].astype(np.intp), seg(a, f"sub{k}.")) for k, s in enumerate(head["subs"])}
        shared = ((PolygonLabeler.from_arrays(a, "lakes_lab."), seg(a, "lakes_shore."))
                  if head["shared"] else None)
        return _BasinIndex(
            id=head["id"], bounds=tuple(head["bounds"]), to_xy=pyproj.Transformer.from_pipeline(head["to_xy"]),
            to_ll=pyproj.Transformer.from_pipeline(head["to_ll"]), outline=shapely.from_wkb(a["outline"].tobytes()),
            outline_lab=PolygonLabeler.from_arrays(a, "outline_lab."), outline_edge=seg(a, "outline_edge."),
            sub_lab=PolygonLabeler.from_arrays(a, "sub_lab."), country_lab=PolygonLabeler.from_arrays(a, "country_lab."),
            border_idx=seg(a, "border_idx.") if head["border"] else None,
            reach_idx=seg(a, "reach_idx.") if head["reach"] else None, sub_reach_idx=subs,
            origins=head["origins"], ds_lists=[tuple(t) for t in head["ds_lists"]], shared_lakes=shared,
            shared_bounds=tuple(head["shared_bounds"]), continuation=head["continuation"], meta=head["meta"],
            reach_bounds=tuple(head["reach_bounds"]) if head["reach_bounds"] is not None else None,
            reach_proj=_geoms_from_arrays(a, "reach_proj."), **text, **{f: a[f] for f in _ARRAY_FIELDS})
    except (KeyError, ValueError, TypeError, UnicodeDecodeError, pyproj.exceptions.ProjError):
        return None


#: Arrays of a sub-basin's reach index left out of the cache: :func:`_sub_vertices` takes them from the basin's.
_SUB_DERIVED = (".xy", ".vpart", ".vline")


def _sub_vertices(a: dict[str, np.ndarray], n_subs: int) -> dict[str, np.ndarray]:
    """The vertex arrays of each sub-basin's reach index (and its coarse copy), from the basin's reach index.

    A sub-basin's index is built from its reaches ``sel`` (sorted), densified (or simplified) each on
    its own, so its vertices are those of the basin's index whose line is in ``sel``, in the same
    order; its lines and parts are numbered within it.
    """
    out: dict[str, np.ndarray] = {}
    for k in range(n_subs):
        sel = a[f"sub{k}.sel"].astype(np.intp)
        for level in ("", "coarse."):
            src, dst = f"reach_idx.{level}", f"sub{k}.{level}"
            if f"{dst}size" not in a:
                continue
            vline = a[f"{src}vline"].astype(np.intp)
            pos = np.full(int(max(vline.max(initial=-1), sel.max(initial=-1))) + 1, -1, dtype=np.intp)
            pos[sel] = np.arange(len(sel))  # line of the basin -> line of the sub-basin
            keep = pos[vline] >= 0
            vpart = a[f"{src}vpart"][keep]
            out[f"{dst}xy"] = a[f"{src}xy"].reshape(-1, 2)[keep]
            out[f"{dst}vline"] = pos[vline[keep]]
            out[f"{dst}vpart"] = np.cumsum(np.r_[False, vpart[1:] != vpart[:-1]]) if len(vpart) else vpart
    return out


def _ll(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        return gdf.to_crs("EPSG:4326")
    return gdf


def _projector(to_xy: pyproj.Transformer) -> Any:
    """Densify lon/lat geometries in degrees, then project them (a straight lon/lat segment keeps its curve)."""
    def proj(geoms: Any) -> np.ndarray:
        arr = shapely.segmentize(np.asarray(geoms, dtype=object), _STEP_DEG)
        return shapely.transform(arr, lambda c: np.c_[to_xy.transform(c[:, 0], c[:, 1])])
    return proj


def _labelled_polygons(gdf: gpd.GeoDataFrame | None, column: str) -> tuple[np.ndarray, PolygonLabeler]:
    """(labels, lookup) of a polygon layer; empty when the layer is missing or empty."""
    gdf = _ll(gdf)
    if gdf is None or not len(gdf):
        return np.array([], dtype=object), PolygonLabeler([])
    return gdf[column].map(_str_or_none).to_numpy(dtype=object), PolygonLabeler(list(gdf.geometry.to_numpy()))


def _border_parts(basin: Any, proj: Any, to_ll: pyproj.Transformer
                  ) -> tuple[np.ndarray, np.ndarray, SegmentIndex | None]:
    """Country codes on either side of each border line and the border lines' segment index."""
    borders = _ll(basin.borders)
    if borders is None or not len(borders):
        empty = np.array([], dtype=object)
        return empty, empty, None
    border_idx = SegmentIndex(proj(borders.geometry.to_numpy()))
    border_idx.attach_lonlat(to_ll)
    return (borders["iso3_a"].map(_str_or_none).to_numpy(dtype=object),
            borders["iso3_b"].map(_str_or_none).to_numpy(dtype=object), border_idx)


def _text_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A text column as an object array (None where blank or where the column is missing)."""
    if column not in frame:
        return np.full(len(frame), None, dtype=object)
    return frame[column].map(_str_or_none).to_numpy(dtype=object)


def _reach_parts(basin: Any, bid: str, proj: Any) -> dict[str, Any]:
    """Per-reach arrays, the reaches' segment indexes (all, and per sub-basin) and the flow order."""
    reaches = _ll(basin.reaches)
    n = 0 if reaches is None else len(reaches)
    if reaches is None or not n:
        empty = np.array([], dtype=object)
        return dict(reach_ids=np.zeros(0, np.int64), reach_names=empty, reach_country=empty, reach_sub=empty,
                    reach_len=np.zeros(0), reach_dto=np.zeros(0), reach_border=np.zeros(0, bool),
                    reach_next=np.zeros(0, np.intp), reach_idx=None, sub_reach_idx={}, down=np.zeros(0, np.intp),
                    order=np.zeros(0, np.intp))
    net = network_of(basin, name=f"basin {bid!r}")
    country = _text_column(reaches, "country")
    border = (reaches["is_border"].fillna(False).to_numpy(dtype=bool).copy() if "is_border" in reaches
              else np.zeros(n, bool))
    border |= np.array(["|" in (c or "") for c in country], dtype=bool)
    sub = _text_column(reaches, "sub_basin")
    rgeom = proj(reaches.geometry.to_numpy())
    sub_reach_idx: dict[str, tuple[np.ndarray, SegmentIndex]] = {}
    for s in pd.unique(sub):
        if s is not None:
            sel = np.flatnonzero(sub == s)
            sub_reach_idx[s] = (sel, SegmentIndex(rgeom[sel]))
    return dict(reach_ids=net.ids, reach_names=_text_column(reaches, "name"), reach_country=country,
                reach_sub=sub, reach_len=reaches["length_km"].to_numpy(dtype=float),
                reach_dto=reaches["dist_to_outlet_km"].to_numpy(dtype=float), reach_border=border,
                reach_next=_joined_below(rgeom, net.down), reach_idx=SegmentIndex(rgeom), sub_reach_idx=sub_reach_idx,
                # each reach after its downstream reach (raises on a cycle)
                down=net.down, order=net.flow_order)


def _joined_below(rgeom: np.ndarray, down: np.ndarray, tol_m: float = 1.0) -> np.ndarray:
    """Per reach, the position of the reach below when that one starts where this one ends (within ``tol_m``), else -1.

    Not joined: a reach with none below, or one whose water reaches the next by a link that is
    not a shared node (a karst link, a gap in the lines).
    """
    out = np.full(len(rgeom), -1, dtype=np.intp)
    has = np.flatnonzero(down >= 0)
    if len(has):
        end = shapely.get_point(rgeom[has], -1)
        start = shapely.get_point(rgeom[down[has]], 0)
        ok = shapely.distance(end, start) <= tol_m
        out[has[ok]] = down[has[ok]]
    return out


def _downstream_tables(r: dict[str, Any], riparian: Iterable[str]
                       ) -> tuple[dict[str, int], np.ndarray, np.ndarray, list[tuple[str, ...]]]:
    """Per reach x origin country: where the water leaves the origin and the countries below.

    Returns ``(origins, exit_up, ds_code, ds_lists)``: ``exit_up[i, o]`` is the
    upstream-end distance to outlet of the first reach below reach ``i`` not
    in origin ``o`` (the last column: an origin matching no reach);
    ``ds_lists[ds_code[i, o]]`` the countries downstream, origin removed.
    """
    country, dto, length = r["reach_country"], r["reach_dto"], r["reach_len"]
    n = len(country)
    origin_list: list[str] = []
    for c in list(riparian) + [c for c in country if c]:
        if c not in origin_list:
            origin_list.append(c)
    n_o = len(origin_list) + 1
    up_end = dto + length
    seqs: list[tuple[str, ...]] = [()] * n
    exit_up = np.full((n, n_o), np.nan)
    ds_code = np.zeros((n, n_o), dtype=np.int64)
    lists: dict[tuple[str, ...], int] = {(): 0}
    code_of_country = (pd.Index(origin_list).get_indexer(pd.Series(country, dtype=object))
                       if n else np.zeros(0, np.intp))
    for i in r["order"]:
        d = r["down"][i]
        c = country[i] or "unknown"
        tail = seqs[d] if d >= 0 else ()
        seqs[i] = tail if (tail and tail[0] == c) else (c,) + tail
        row = np.full(n_o, up_end[i])
        cc = code_of_country[i]
        if cc >= 0:
            row[cc] = exit_up[d, cc] if d >= 0 else np.nan
        exit_up[i] = row
        s = seqs[i]
        for o, oc in enumerate([*origin_list, None]):
            j = 0
            while j < len(s) and s[j] == oc:
                j += 1
            ds_code[i, o] = lists.setdefault(s[j:], len(lists))
    ds_lists: list[tuple[str, ...]] = [()] * len(lists)
    for t, cidx in lists.items():
        ds_lists[cidx] = t
    return {c: i for i, c in enumerate(origin_list)}, exit_up, ds_code, ds_lists


def _shared_lakes(basin: Any, proj: Any
                  ) -> tuple[tuple[PolygonLabeler, SegmentIndex] | None, tuple[float, float, float, float]]:
    """Lookup (inside: lon/lat labeller; near the shore: projected segments) of the lakes shared by countries."""
    lakes = _ll(getattr(basin, "lakes", None))
    nan4 = (math.nan, math.nan, math.nan, math.nan)
    if lakes is None or not len(lakes):
        return None, nan4
    sh = lakes["shared"].fillna(False).to_numpy(dtype=bool) if "shared" in lakes else \
        np.array(["|" in str(c or "") for c in lakes.get("countries", [None] * len(lakes))])
    geoms = lakes.geometry.to_numpy()[sh]
    if not len(geoms):
        return None, nan4
    x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(geoms))
    return (PolygonLabeler(list(geoms)), SegmentIndex(proj(shapely.boundary(geoms)))), (x0, y0, x1, y1)


def _build_index(basin: Any) -> _BasinIndex:
    """Precompute everything :func:`riskmap.exposure.assess` needs about ``basin``."""
    bid = str(getattr(basin, "id", None) or getattr(basin, "name", "basin"))
    outline_gdf = _ll(basin.outline)
    outline = _union(outline_gdf.geometry) if outline_gdf is not None else None
    if outline is None:
        raise RiskmapInputError(f"basin {bid!r}: empty outline")
    x0, y0, x1, y1 = (float(v) for v in outline.bounds)
    bounds = (x0, y0, x1, y1)
    crs = aeqd_for_bounds(bounds)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    to_ll = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    proj = _projector(to_xy)
    sub_names, sub_lab = _labelled_polygons(basin.sub_basins, "sub_basin")
    # every country with land in the outline (Basin.land_countries), not only the riparians
    country_codes, country_lab = _labelled_polygons(getattr(basin, "land_countries", basin.countries), "iso3")
    border_a, border_b, border_idx = _border_parts(basin, proj, to_ll)
    r = _reach_parts(basin, bid, proj)
    meta = dict(getattr(basin, "meta", None) or {})
    origins, exit_up, ds_code, ds_lists = _downstream_tables(r, meta.get("riparian") or [])
    shared, shared_bounds = _shared_lakes(basin, proj)
    return _BasinIndex(
        id=bid, bounds=bounds, to_xy=to_xy, to_ll=to_ll, outline=outline, outline_lab=PolygonLabeler([outline]),
        outline_edge=SegmentIndex(proj([shapely.boundary(outline)])), sub_names=sub_names, sub_lab=sub_lab,
        country_codes=country_codes, country_lab=country_lab, border_a=border_a, border_b=border_b,
        border_idx=border_idx, reach_ids=r["reach_ids"], reach_names=r["reach_names"],
        reach_country=r["reach_country"], reach_len=r["reach_len"], reach_dto=r["reach_dto"],
        reach_border=r["reach_border"], reach_sub=r["reach_sub"], reach_next=r["reach_next"], reach_idx=r["reach_idx"],
        sub_reach_idx=r["sub_reach_idx"], origins=origins, exit_up=exit_up, ds_code=ds_code, ds_lists=ds_lists,
        shared_lakes=shared, shared_bounds=shared_bounds, continuation=format_continuation(meta), meta=meta,
        **_population_reaches(basin))


def _population_reaches(basin: Any) -> dict[str, Any]:
    """``reach_bounds`` and ``reach_proj`` of :class:`_BasinIndex` (none for a basin without reaches)."""
    if basin.reaches is None or not len(basin.reaches):
        return {}
    reaches = basin.reaches.to_crs("EPSG:4326")
    x0, y0, x1, y1 = (float(v) for v in reaches.total_bounds)
    bounds = (x0, y0, x1, y1)
    return {"reach_bounds": bounds, "reach_proj": reaches.to_crs(aeqd_for_bounds(bounds)).geometry.to_numpy()}


def _resolve_basins(basins: Any, data_dir: Any) -> list[Any]:
    if basins is None:
        basins = list(BASIN_IDS)
    if isinstance(basins, str) or not isinstance(basins, (list, tuple)):
        basins = [basins]
    out = []
    for b in basins:
        if isinstance(b, str):
            out.append(load_basin(b, data_dir=data_dir))
        else:
            out.append(b)
    return out
