"""Joining a cartographic lower course below the DEM grid (:func:`join_downstream`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import LineString

from riskmap._errors import RiskmapInputError
from riskmap._geo import aeqd_for_bounds, geodesic_area_km2, geodesic_length_km
from riskmap.databuild.dem.build import _area_error, _out_dir
from riskmap.databuild.dem.context import _attach_dams, _context, _countries_in

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
    from riskmap.hydrography import clear_cache
    from riskmap.io import write_layers
    from riskmap.river_length import uncorrected_reaches

    out = _out_dir(data_dir)
    dem, cb, gb = _load_pair(name, carto, out, carto_dir)
    r, c = uncorrected_reaches(dem), uncorrected_reaches(cb)  # line lengths: corrected again on load
    j = _junction(r, c, name, carto)
    keep = _lower_ids(c, j["k"], dem.outline.geometry.iloc[0])
    reaches, lower, newid = _append_lower(r, c, keep, j)
    sub, low_sub = _joined_sub_basins(dem, cb, gb, name)
    og = shapely.make_valid(shapely.union_all(sub.geometry.values))
    area = float(geodesic_area_km2(og))
    lower_labels = set(low_sub["sub_basin"])
    reaches.loc[reaches["reach_id"].isin(newid.values()), "sub_basin"] = [
        s if s in lower_labels else "unknown" for s in lower["sub_basin"]]
    C2 = gpd.read_file(_context(out, data_dir)["_countries_path"], layer="countries")
    cin_all, is_rip = _countries_in(C2, og, area)
    layers = _joined_layers(dem, cb, reaches, sub, og, area, cin_all[is_rip].reset_index(drop=True))
    target = out / f"{name}.gpkg"
    write_layers(target, layers)
    _update_meta(out, name, carto, cb.meta, {"area": area, "cin_all": cin_all, "is_rip": is_rip, "reaches": reaches,
                                             "sub": sub, "lower": lower, "junction": (j["x"], j["y"])})
    clear_cache()
    return target


def _load_pair(name: str, carto: str, out: Path, carto_dir: str | Path | None) -> tuple[Any, Any, list[float]]:
    """The DEM basin (built by build-from-dem, not yet joined), the cartographic one and the DEM grid bounds."""
    from riskmap.hydrography import load_basin

    dem = load_basin(name, out)
    cb = load_basin(carto, carto_dir)
    gb = dem.meta.get("source", {}).get("dem_grid_bounds")
    if not gb:
        raise RiskmapInputError(f"{out / (name + '.gpkg')}: not built by build-from-dem (no DEM grid bounds in "
                                f"basins.json); build it with `riskmap data build-from-dem` first")
    if "joined_downstream" in dem.meta.get("source", {}):
        raise RiskmapInputError(f"{name}: already joined to {dem.meta['source']['joined_downstream']['basin']}; "
                                f"rebuild it with build-from-dem before joining again")
    return dem, cb, gb


def _junction(r: pd.DataFrame, c: gpd.GeoDataFrame, name: str, carto: str) -> dict[str, Any]:
    """The DEM outlet (``x``, ``y``, ``out_reach``) and the nearest cartographic reach (position ``k``) within 5 km."""
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
    return {"x": jx, "y": jy, "out_reach": out_reach, "k": k, "crs": crs, "projected": C, "point": jp}


def _lower_ids(c: gpd.GeoDataFrame, k: int, og_dem: Any) -> set[int]:
    """Cartographic reach ids from position ``k`` to the outlet, with their tributaries outside the DEM outline."""
    ids = c["reach_id"].to_numpy()
    down = dict(zip(ids, c["downstream_id"].to_numpy()))
    path, x = [], int(ids[k])
    while x != -1:
        path.append(x)
        x = int(down.get(x, -1))
    outside = ~shapely.within(shapely.line_interpolate_point(c.geometry.values, 0.5, normalized=True), og_dem)
    keep = set(path)
    changed = True
    while changed:
        add = {int(i) for i, ds, o in zip(ids, c["downstream_id"], outside) if o and int(ds) in keep} - keep
        changed = bool(add)
        keep |= add
    return keep


def _append_lower(r: pd.DataFrame, c: gpd.GeoDataFrame, keep: set[int], j: dict[str, Any],
                  ) -> tuple[gpd.GeoDataFrame, pd.DataFrame, dict[int, int]]:
    """DEM reaches plus the lower course (the junction reach cut at the DEM outlet, new ids, distances shifted)."""
    from shapely.ops import substring

    from riskmap.network import RiverNetwork, strahler_order

    ids = c["reach_id"].to_numpy()
    lower = c[c["reach_id"].isin(keep)].copy()
    g = j["projected"].geometry.iloc[j["k"]]
    cut = substring(g, g.project(j["point"]), g.length)
    cut_ll = gpd.GeoSeries([cut], crs=j["crs"]).to_crs("EPSG:4326").iloc[0]
    cut_ll = LineString([(j["x"], j["y"]), *cut_ll.coords[1:]])  # starts exactly where the DEM outlet reach ends
    kid = int(ids[j["k"]])
    lower.loc[lower["reach_id"] == kid, "geometry"] = cut_ll
    lower.loc[lower["reach_id"] == kid, "length_km"] = round(float(geodesic_length_km(cut_ll)), 4)
    offset = int(r["reach_id"].max())
    newid = {int(i): offset + n + 1 for n, i in enumerate(sorted(keep))}
    lower["reach_id"] = lower["reach_id"].map(newid).astype("int64")
    lower["downstream_id"] = lower["downstream_id"].map(lambda v: newid.get(int(v), -1)).astype("int64")
    base = float(lower.loc[lower["reach_id"] == newid[kid], "dist_to_outlet_km"].iloc[0]
                 + lower.loc[lower["reach_id"] == newid[kid], "length_km"].iloc[0])
    r = r.copy()
    # only the reaches that drain to the junction move down (terminal sinks keep their own distances)
    main = RiverNetwork.from_reaches(r).upstream_mask(int(j["out_reach"]["reach_id"]))
    r.loc[main, "dist_to_outlet_km"] = np.round(r.loc[main, "dist_to_outlet_km"] + base, 4)
    r.loc[r["reach_id"] == j["out_reach"]["reach_id"], "downstream_id"] = newid[kid]
    for col in ("upland_km2", "slope"):
        if col not in lower:
            lower[col] = np.nan
    reaches = gpd.GeoDataFrame(pd.concat([r, lower[r.columns]], ignore_index=True), geometry="geometry",
                               crs="EPSG:4326")
    pos = {int(v): i for i, v in enumerate(reaches["reach_id"])}
    dpos = np.array([pos.get(int(v), -1) for v in reaches["downstream_id"]])
    reaches["order"] = strahler_order(dpos).astype("int64")
    return reaches, lower, newid


def _joined_sub_basins(dem: Any, cb: Any, gb: list[float], name: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Sub-basins: the DEM ones plus the cartographic ones outside the DEM grid (dissolved by label)."""
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
    return sub, low_sub


def _joined_layers(dem: Any, cb: Any, reaches: gpd.GeoDataFrame, sub: gpd.GeoDataFrame, og: Any, area: float,
                   cin: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The joined basin's layers (lakes, towns, borders of both; the cartographic dams re-attached)."""
    outline = dem.outline.copy()
    outline["geometry"] = [og]
    outline["area_km2"] = round(area, 1)

    def both(layer: str, key: list[str] | str | None) -> gpd.GeoDataFrame:
        g = gpd.GeoDataFrame(pd.concat([getattr(dem, layer), getattr(cb, layer)], ignore_index=True),
                             geometry="geometry", crs="EPSG:4326")
        g = g.drop_duplicates(key) if key is not None else g[~g.geometry.duplicated()]
        return g.reset_index(drop=True)

    dams = _attach_dams(cb.dams, reaches, og) if len(cb.dams) else dem.dams
    layers = {"outline": outline, "sub_basins": sub, "reaches": reaches, "lakes": both("lakes", "name"),
              "countries": cin, "borders": both("borders", None), "towns": both("towns", ["name", "country"])}
    if len(dams):
        layers["dams"] = dams
    return layers


def _update_meta(out: Path, name: str, carto: str, cmeta: dict[str, Any], j: dict[str, Any]) -> None:
    """The joined basin's basins.json entry (outlet, continuation, published area and figures) and PROVENANCE."""
    from riskmap.io import atomic_write_text

    meta_path = out / "basins.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    e = meta[name]
    area, cin_all, is_rip, lower = j["area"], j["cin_all"], j["is_rip"], j["lower"]
    jx, jy = j["junction"]
    pub = cmeta.get("published_area_km2")
    e["outlet"] = cmeta.get("outlet", e["outlet"])
    e["continuation"] = cmeta.get("continuation", [])
    e["published_area_km2"] = pub
    e["riparian"] = [i for i, q in zip(cin_all["iso3"], is_rip) if q]
    e["area_in_basin_km2"] = {i: float(a) for i, a, q in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip) if q}
    e["minor_shares_km2"] = {i: float(a) for i, a, q in zip(cin_all["iso3"], cin_all["area_km2_in_basin"], is_rip)
                             if not q}
    m = e["measured"]
    m["area_km2"] = round(area, 1)
    if pub:
        m["area_error_pct"] = _area_error(pub, area)
    m["n_reaches"] = len(j["reaches"])
    m["network_km"] = round(float(j["reaches"]["length_km"].sum()), 1)
    m["sub_basin_km2"] = {s: float(a) for s, a in zip(j["sub"]["sub_basin"], j["sub"]["area_km2"])}
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
