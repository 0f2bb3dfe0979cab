"""The DEM build: :func:`build_from_dem` (options, steps), provenance and the outlet parser."""

from __future__ import annotations

import datetime as _dt
import json
import time
from dataclasses import dataclass, replace
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import aeqd_for_bounds, geodesic_area_km2
from riskmap.basins import read_meta
from riskmap.databuild.border_rivers import rule_params as border_rule_params
from riskmap.databuild.dem.conditioning import bundled_rivers, burn, read_burn
from riskmap.databuild.dem.constants import (
    BURN_M,
    DAM_SNAP_M,
    MAX_REACH_KM,
    NAME_M,
    NAME_SHARE,
    OUTLET_SNAP_KM,
    SIMPLIFY_CELLS,
    STREAM_KM2,
    SUB_BASIN_MIN_SHARE,
    TOWN_M,
)
from riskmap.databuild.dem.context import _attach_dams, _context, _countries_in
from riskmap.databuild.dem.flowgrid_io import save_flowgrid
from riskmap.databuild.dem.grid import DemGrid, read_dem
from riskmap.databuild.dem.routing import check_cover, route, snap_outlet
from riskmap.databuild.dem.stems import name_stems
from riskmap.databuild.dem.vectorise import extract_reaches, label_reaches, polygons, sub_basin_raster

# ---------------------------------------------------------------- the build


@dataclass(frozen=True)
class DemBuildOptions:
    """What :func:`build_from_dem` builds (its keyword arguments, checked by :meth:`check`).

    Examples
    --------
    >>> o = DemBuildOptions(outlet=(19.47, 42.07), name="skadar").check()
    >>> o.label, o.stream_km2 == STREAM_KM2
    ('skadar', True)
    >>> DemBuildOptions(outlet=(19.47, 42.07), name="a b").check()
    Traceback (most recent call last):
    ...
    riskmap._errors.RiskmapInputError: basin name 'a b': use letters, digits, '_' or '-'
    """

    outlet: tuple[float, float]
    name: str
    burn_path: str | Path | None = None
    stream_km2: float = STREAM_KM2
    data_dir: str | Path | None = None
    allow_partial: bool = False
    display_name: str | None = None
    date: str | None = None
    #: Terminal sinks bundled as sub-basins: (sub-basin label, lake polygon in lon/lat); the sink is the lake
    #: cell of largest upstream area, made a pit: its catchment's reaches end there (downstream_id -1).
    sinks: tuple[tuple[str, Any], ...] = ()

    @property
    def label(self) -> str:
        """Display name for ``basins.json`` (default: the identifier)."""
        return self.display_name or self.name

    def check(self) -> DemBuildOptions:
        """The options with a float outlet and threshold; a :class:`RiskmapInputError` when one is wrong."""
        name = self.name
        if not name or not str(name).replace("_", "").replace("-", "").isalnum():
            raise RiskmapInputError(f"basin name {name!r}: use letters, digits, '_' or '-'")
        if not (np.isfinite(self.stream_km2) and self.stream_km2 > 0):
            raise RiskmapInputError(f"--stream-km2 {self.stream_km2!r}: give a positive upstream area in km2")
        lon, lat = float(self.outlet[0]), float(self.outlet[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RiskmapInputError(f"outlet {self.outlet!r}: not a lon,lat pair")
        return replace(self, outlet=(lon, lat), stream_km2=float(self.stream_km2))


def build_from_dem(dems: Sequence[str | Path] | str | Path, *, outlet: tuple[float, float], name: str,
                   burn_path: str | Path | None = None, stream_km2: float = STREAM_KM2,
                   data_dir: str | Path | None = None, allow_partial: bool = False,
                   display_name: str | None = None, date: str | None = None,
                   sinks: Sequence[tuple[str, Any]] = ()) -> Path:
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
    sinks : sequence of (label, polygon), optional
        Endorheic lakes whose catchments belong to the basin as terminal sub-basins (``label``):
        their reaches end at the lake (no downstream country beyond it).

    Returns
    -------
    pathlib.Path
        The written GeoPackage.
    """
    opts = DemBuildOptions(outlet=outlet, name=name, burn_path=burn_path, stream_km2=stream_km2,
                           data_dir=data_dir, allow_partial=allow_partial, display_name=display_name, date=date,
                           sinks=tuple(sinks))
    return build_with_options(dems, opts)


def build_with_options(dems: Sequence[str | Path] | str | Path, opts: DemBuildOptions) -> Path:
    """:func:`build_from_dem` with its options as a :class:`DemBuildOptions`: the steps in order."""
    from riskmap.hydrography import clear_cache
    from riskmap.io import write_layers

    t0 = time.perf_counter()
    opts = opts.check()
    paths = [dems] if isinstance(dems, (str, Path)) else list(dems)
    out = _out_dir(opts.data_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{opts.name}.gpkg"
    _refuse_overwrite(target, paths, opts.burn_path)
    grid = read_dem(paths)
    rivers = read_burn(opts.burn_path, grid.bounds) if opts.burn_path else bundled_rivers(grid.bounds, opts.data_dir)
    _refuse_burning_own_output(target, rivers, opts)
    burned, n_burn = burn(grid, rivers)
    routed = _route_basin(grid, burned, opts)
    ctx = _context(out, opts.data_dir)
    reaches, lakes, sub_poly = _network(grid, routed, rivers, ctx, opts)
    layers, geo = _layers(reaches, sub_poly, lakes, ctx, opts)
    write_layers(target, layers)
    fg = save_flowgrid(target, routed.flw, grid, routed.basin, ctx["countries"], layers["reaches"])
    entry = _meta_entry(out, opts, layers, geo, grid, rivers, routed.cover_note, fg)
    if routed.sink_cells:
        entry["terminal_sinks"] = _sink_entries(grid, routed.sink_cells, layers["reaches"])
        entry["notes"].append("Terminal sub-basins (endorheic, no outflow to the main stem; their reaches end at the "
                              "lake): " + ", ".join(lab for _, lab in routed.sink_cells) + ".")
    _write_meta(out, opts.name, entry)
    _write_provenance(out, opts.name, entry, grid, n_burn, opts.stream_km2, opts.date, time.perf_counter() - t0)
    clear_cache()
    return target


def _refuse_overwrite(target: Path, paths: list[str | Path], burn_path: str | Path | None) -> None:
    """No input (a DEM tile, the burn file) may be the output."""
    if any(Path(p).resolve() == target.resolve() for p in [*paths, *([burn_path] if burn_path else [])]):
        raise RiskmapInputError(f"{target}: the output would overwrite an input; choose another --name")


def _refuse_burning_own_output(target: Path, rivers: gpd.GeoDataFrame, opts: DemBuildOptions) -> None:
    """Default burn lines read from the very file about to be written: refuse (build the reference elsewhere)."""
    read_from = rivers.attrs.get("dir")
    if opts.burn_path is None and target.is_file() and f"{opts.name}.gpkg reaches" in set(rivers["source"]) \
            and read_from is not None and (Path(read_from) / f"{opts.name}.gpkg").resolve() == target.resolve():
        raise RiskmapInputError(f"{target}: its reaches would be burned into the DEM and then overwritten; "
                                f"build the cartographic reference elsewhere (`riskmap data build-reference "
                                f"--out REF`) and pass --burn REF/{opts.name}.gpkg")


@dataclass(frozen=True)
class _Routed:
    """The routed DEM of a build (:func:`_route_basin`).

    Attributes
    ----------
    flw : pyflwdir.FlwdirRaster
        D8 flow directions, with pits at the outlet and at the terminal sinks.
    upa : ndarray
        Upstream area (km2) per cell.
    idx_out : int
        Flat index of the outlet cell.
    basin : ndarray of bool
        The basin mask (the outlet's catchment and the sinks').
    cover_note : str or None
        Where the DEM edge cuts the basin off (a partial build, ``allow_partial``); None when the DEM covers it.
    sink_cells : list of (int, str)
        (cell, sub-basin label) of each terminal sink; empty without ``sinks``.
    """

    flw: Any
    upa: np.ndarray
    idx_out: int
    basin: np.ndarray
    cover_note: str | None
    sink_cells: list[tuple[int, str]]


def _route_basin(grid: DemGrid, burned: np.ndarray, opts: DemBuildOptions) -> _Routed:
    """D8 routing and upstream area, the outlet cell (a pit: the network ends there), basin mask, coverage note.

    With ``opts.sinks``, each sink lake's cell of largest upstream area is a pit too and its
    catchment joins the basin mask; ``sink_cells`` lists (cell, label) of the sinks.
    """
    flw, upa = route(grid, burned)
    idx_out = snap_outlet(grid, upa, opts.outlet, opts.stream_km2)
    sink_cells = [(_sink_cell(grid, upa, poly, label), label) for label, poly in opts.sinks]
    pits = np.array([idx_out, *[i for i, _ in sink_cells]], dtype=np.intp)
    flw.add_pits(idxs=pits)  # the network ends at the outlet (and at the terminal lakes)
    basin = flw.basins(idxs=pits).astype(bool)
    main = flw.basins(idxs=pits[:1]).astype(bool)
    cover_note = check_cover(grid, main, idx_out, opts.allow_partial)
    return _Routed(flw, upa, idx_out, basin, cover_note, sink_cells)


def _sink_cell(grid: DemGrid, upa: np.ndarray, poly: Any, label: str) -> int:
    """Flat index of the cell of largest upstream area inside a sink lake polygon."""
    from rasterio.features import rasterize

    inside = rasterize([poly], out_shape=grid.shape, transform=grid.transform, fill=0, default_value=1,
                       all_touched=False).astype(bool) & np.isfinite(grid.elev)
    if not inside.any():
        raise RiskmapInputError(f"{grid.label}: the sink lake of {label!r} is not on the DEM grid")
    return int(np.flatnonzero(inside)[np.argmax(upa[inside])])


def _sink_entries(grid: DemGrid, sink_cells: list[tuple[int, str]], reaches: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """basins.json ``terminal_sinks``: label, lake cell (lon, lat), countries of its reaches."""
    w = grid.shape[1]
    out = []
    for idx, label in sink_cells:
        x, y = grid.transform * (idx % w + 0.5, idx // w + 0.5)
        sub = reaches[reaches["sub_basin"] == label]
        countries = sorted({c for v in sub["country"].dropna() for c in str(v).split("|")})
        out.append({"sub_basin": label, "sink": [round(float(x), 5), round(float(y), 5)],
                    "n_reaches": len(sub), "countries": countries,
                    "continuation": "none: the lake is terminal (endorheic)"})
    return out


def _network(grid: DemGrid, routed: _Routed, rivers: gpd.GeoDataFrame, ctx: dict[str, gpd.GeoDataFrame],
             opts: DemBuildOptions) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Reaches (named, labelled, with sub-basins), the lakes near them and the sub-basin polygons."""
    flw, basin = routed.flw, routed.basin
    reaches = extract_reaches(grid, flw, routed.upa, basin, opts.stream_km2, grid.elev)
    env = shapely.box(*reaches.total_bounds).buffer(0.5)
    lakes = ctx["lakes"][ctx["lakes"].intersects(env)].drop_duplicates("name").reset_index(drop=True)
    reaches = label_reaches(reaches, rivers, ctx["countries"], ctx["borders"], lakes)
    if len(ctx["lakes"]):  # names of every bundled lake are not river names (lake links)
        reaches.loc[reaches["name"].isin(set(ctx["lakes"]["name"].dropna())), "name"] = None
    outlet_name = reaches.loc[reaches["downstream_id"] == -1].sort_values("upland_km2")["name"].iloc[-1]
    reaches = name_stems(reaches, outlet_name)
    main_label = f"{outlet_name} main" if outlet_name else f"{opts.label} main"
    sub, labels = sub_basin_raster(flw, grid, reaches, basin, routed.idx_out, main_label, sinks=routed.sink_cells)
    sub_poly = polygons(grid, sub, labels)
    reaches["sub_basin"] = [labels.get(int(v), "unknown") for v in
                            sub[reaches["_row"].to_numpy(), reaches["_col"].to_numpy()]]
    reaches = reaches.drop(columns=["_row", "_col"])
    return reaches[REACH_COLUMNS], lakes, sub_poly


#: Columns of the reaches layer of a DEM basin (the reference's plus ``upland_km2`` and ``slope``).
REACH_COLUMNS = ["reach_id", "downstream_id", "name", "length_km", "dist_to_outlet_km", "order", "country",
                 "is_border", "waterbody", "sub_basin", "upland_km2", "slope", "geometry"]


def _layers(reaches: gpd.GeoDataFrame, sub_poly: gpd.GeoDataFrame, lakes: gpd.GeoDataFrame,
            ctx: dict[str, gpd.GeoDataFrame], opts: DemBuildOptions,
            ) -> tuple[dict[str, gpd.GeoDataFrame], dict[str, Any]]:
    """The GeoPackage layers and the figures the basins.json entry needs (outline, area, countries)."""
    name = opts.name
    og = shapely.make_valid(shapely.union_all(sub_poly.geometry.values))
    area = float(geodesic_area_km2(og))
    sub_poly.insert(0, "basin", name)
    sub_poly["area_km2"] = np.round(np.asarray(geodesic_area_km2(sub_poly.geometry), dtype=float), 1)
    sub_poly = sub_poly[["basin", "sub_basin", "area_km2", "geometry"]].sort_values("sub_basin").reset_index(drop=True)
    outline = gpd.GeoDataFrame({"basin": [name], "name": [opts.label], "area_km2": [round(area, 1)]},
                               geometry=[og], crs="EPSG:4326")
    cin_all, is_rip = _countries_in(ctx["countries"], og, area)
    cin = cin_all[is_rip].reset_index(drop=True)  # layer: riparian countries only (as the reference)
    B = ctx["borders"]
    bsel = B[B.intersects(og.buffer(0.2))].reset_index(drop=True)
    towns = _towns_near(ctx["towns"], outline)
    dams = _attach_dams(ctx["dams"], reaches, og)
    _mark_dam_reservoirs(reaches, dams)
    layers = {"outline": outline, "sub_basins": sub_poly, "reaches": reaches, "lakes": lakes,
              "countries": cin, "borders": bsel, "towns": towns}
    if len(dams):
        layers["dams"] = dams
    return layers, {"area": area, "cin": cin, "cin_all": cin_all, "is_rip": is_rip}


def _towns_near(towns: gpd.GeoDataFrame, outline: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Bundled towns within :data:`TOWN_M` of the outline (one per name and country)."""
    if not len(towns):
        return towns
    crs = aeqd_for_bounds(tuple(outline.total_bounds))
    near = towns.to_crs(crs).distance(outline.to_crs(crs).geometry.iloc[0]) <= TOWN_M
    return towns[near.to_numpy()].drop_duplicates(["name", "country"]).reset_index(drop=True)


def _mark_dam_reservoirs(reaches: gpd.GeoDataFrame, dams: gpd.GeoDataFrame) -> None:
    """A dam that marks its reservoir names its reach's ``waterbody`` (in place) when the reach has none."""
    if not (len(dams) and "marks_reservoir" in dams):
        return
    for rid, res, marks in zip(dams["reach_id"], dams.get("reservoir", dams["name"]), dams["marks_reservoir"]):
        hit = (reaches["reach_id"] == rid) & reaches["waterbody"].isna()
        if bool(marks):
            reaches.loc[hit, "waterbody"] = res


def _area_error(pub: list[float] | None, area: float) -> float | None:
    """Distance (%) of ``area`` outside the published range (0 inside it); None without a range.

    Examples
    --------
    >>> _area_error([100.0, 200.0], 150.0), _area_error([100.0, 200.0], 220.0), _area_error(None, 1.0)
    (0.0, 10.0, None)
    """
    if not pub:
        return None
    lo, hi = pub
    return round(0.0 if lo <= area <= hi else 100.0 * min(abs(area - lo), abs(area - hi)) / (lo if area < lo else hi), 1)


def _sources_entry(grid: DemGrid, rivers: gpd.GeoDataFrame, burn_path: str | Path | None, fg: Path) -> dict[str, Any]:
    """The ``source`` block of the basins.json entry: DEM files, burn lines (content digest), flow grid."""
    import hashlib

    from riskmap.io import sha256_file

    dem_src = [{"file": str(Path(p).name), "sha256": sha256_file(p)} for p in grid.files]
    # the burned lines' content (a GeoPackage's bytes change with GDAL's timestamps on every rebuild)
    lines_sha = hashlib.sha256(b"".join(shapely.to_wkb(rivers.geometry.values).tolist())
                               + "\0".join(map(str, rivers["name"])).encode()).hexdigest()
    burn_src = ({"file": Path(burn_path).name, "lines_sha256": lines_sha} if burn_path
                else {"file": "bundled reaches (" + ", ".join(sorted(set(rivers["source"]))) + ")"
                      if len(rivers) else "none"})
    return {"dem": dem_src, "burn": burn_src, "builder": "riskmap data build-from-dem "
            "(riskmap/databuild/dem.py)", "dem_grid_bounds": [round(v, 6) for v in grid.bounds],
            "flow_grid": {"file": fg.name, "sha256": sha256_file(fg),
                          "content": "pyflwdir D8 codes of the basin's cells (247 outside) and the "
                                     "country of each cell; read by riskmap.flowgrid"}}


def _meta_entry(out: Path, opts: DemBuildOptions, layers: dict[str, gpd.GeoDataFrame], geo: dict[str, Any],
                grid: DemGrid, rivers: gpd.GeoDataFrame, cover_note: str | None, fg: Path) -> dict[str, Any]:
    """The basin's ``basins.json`` entry (published area and continuation kept from a previous entry)."""
    prev = read_meta(out).get(opts.name, {})  # a corrupt basins.json is an error, never silently replaced
    pub = prev.get("published_area_km2")
    area, cin, cin_all, is_rip = geo["area"], geo["cin"], geo["cin_all"], geo["is_rip"]
    reaches, sub_poly = layers["reaches"], layers["sub_basins"]
    notes = [(f"Built from a DEM by riskmap data build-from-dem: D8 flow directions (pyflwdir), mapped rivers "
              f"burned {BURN_M:g} m, streams from {opts.stream_km2:g} km2 upstream area, reaches <= "
              f"{MAX_REACH_KM:g} km; outline simplified with a tolerance of {SIMPLIFY_CELLS:g} cell "
              f"({grid.res * 3600:.1f} arc-seconds).")]
    if cover_note:
        notes.append(cover_note + " (built with --allow-partial).")
    entry: dict[str, Any] = {
        "name": opts.label,
        "riparian": list(cin["iso3"]),
        "outlet": [round(opts.outlet[0], 5), round(opts.outlet[1], 5)],
        "continuation": prev.get("continuation", []),
        "published_area_km2": pub,
        "measured": {"area_km2": round(area, 1), "area_error_pct": _area_error(pub, area), "iou_tfdd": None,
                     "n_reaches": len(reaches),
                     "network_km": round(float(reaches["length_km"].sum()), 1),
                     "sub_basin_km2": {s: float(a) for s, a in zip(sub_poly["sub_basin"], sub_poly["area_km2"])}},
        "area_in_basin_km2": {i: float(a) for i, a, k in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip) if k},
        "minor_shares_km2": {i: float(a) for i, a, k in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip)
                             if not k},
        "notes": notes,
        "source": _sources_entry(grid, rivers, opts.burn_path, fg),
    }
    if "dams" in layers:
        entry["dams"] = {"n": len(layers["dams"]), "source": "bundled dams layer re-attached to the DEM reaches "
                         f"(nearest within {DAM_SNAP_M / 1000:g} km)"}
    return entry


def _write_meta(out: Path, name: str, entry: dict[str, Any]) -> None:
    """Set the basin's entry in ``out/basins.json`` (atomic)."""
    from riskmap.io import atomic_write_text

    meta: dict[str, Any] = read_meta(out)
    meta[name] = entry
    atomic_write_text(out / "basins.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


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
