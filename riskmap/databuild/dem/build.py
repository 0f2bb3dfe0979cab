"""The DEM build: :func:`build_from_dem` (options, steps), provenance and the outlet parser."""

from __future__ import annotations

import datetime as _dt
import json
import time
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
