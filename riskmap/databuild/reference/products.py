"""Per-basin products (``<basin>.gpkg``, JSON, PNG, provenance) and :func:`build_reference`, the whole build."""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import Point

from riskmap._geo import geodesic_area_km2
from riskmap.databuild.border_rivers import MAX_GAP_M as BR_MAX_GAP_M
from riskmap.databuild.border_rivers import MIN_RUN_M as BR_MIN_RUN_M
from riskmap.databuild.border_rivers import NEAR_M as BR_NEAR_M
from riskmap.databuild.reference.lines import RegionNetwork, _iso3, build_region_network, load_countries
from riskmap.databuild.reference.outlines import _as_multi, allocate
from riskmap.databuild.reference.reaches import basin_tree, build_reaches, finish_reaches
from riskmap.databuild.reference.specs import (
    BASIN_SPECS,
    DAM_MIN_MW,
    DAM_NO_RESERVOIR,
    DAM_SNAP_M,
    DAM_SOURCES,
    GHPT_ATTRIBUTION,
    GRID_M,
    GSHHG_LEVELS,
    LAKE_LINK_M,
    MAX_REACH_KM,
    MIN_RUN_M,
    NAME_M,
    NE_COVER_M,
    POINT_SOURCES,
    REGIONS,
    RIPARIAN_MIN_KM2,
    RIPARIAN_MIN_SHARE,
    SEED_M,
    SNAP_M,
    SOURCES,
    TABLES_FILE,
    BasinSpec,
    _load,
)
from riskmap.io import sha256_file

# ---------------------------------------------------------------- products


def _tfdd_metrics(sources: Path, spec: BasinSpec, outline) -> dict[str, Any]:
    t = gpd.read_file(sources / SOURCES["tfdd"] / REGIONS[spec.region]["tfdd"])
    t = t[t["BCODE"] == spec.tfdd_code]
    if t.empty:
        return {}
    tg = shapely.make_valid(shapely.union_all(t.geometry.values))
    inter = float(geodesic_area_km2(shapely.intersection(outline, tg)))
    a = float(geodesic_area_km2(outline))
    if spec.tfdd_mode == "iou":
        union = float(geodesic_area_km2(shapely.union(outline, tg)))
        extra = {}
        lk = gpd.read_file(sources / SOURCES["tfdd"] / REGIONS[spec.region]["tfdd"])
        lk = lk[lk["BCODE"] == "LKPP"]
        if spec.id == "drin" and len(lk):
            # TFDD keeps Lake Prespa as its own basin; compare without our part inside LKPP as well
            lg = shapely.difference(shapely.make_valid(shapely.union_all(lk.geometry.values)), tg)
            o2 = shapely.difference(outline, lg)
            i2 = float(geodesic_area_km2(shapely.intersection(o2, tg)))
            extra["iou_tfdd_without_prespa"] = round(i2 / float(geodesic_area_km2(shapely.union(o2, tg))), 3)
        return {"tfdd_code": spec.tfdd_code, "iou_tfdd": round(inter / union, 3), **extra,
                "share_in_tfdd": round(inter / a, 3), "tfdd_area_km2_clipped": round(float(geodesic_area_km2(tg)), 0)}
    return {"tfdd_code": spec.tfdd_code, "iou_tfdd": None, "share_in_tfdd": round(inter / a, 3)}


def _plot(path: Path, spec: BasinSpec, outline, subs, reaches, lakes, borders, towns) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    subs.plot(ax=ax, column="sub_basin", cmap="Pastel1", alpha=0.8, legend=True,
              legend_kwds={"loc": "lower left", "fontsize": 7, "title": "sub-basin"})
    outline.boundary.plot(ax=ax, color="black", lw=1.2)
    if len(lakes):
        lakes.plot(ax=ax, color="#9ecae1", edgecolor="#3182bd", lw=0.4)
    borders.plot(ax=ax, color="#cb181d", lw=0.8, ls="--")
    reaches.plot(ax=ax, color="#08519c", lw=0.4 + 0.6 * reaches["order"].astype(float))
    if len(towns):
        towns.plot(ax=ax, color="black", markersize=8)
        for x, y, n in zip(towns.geometry.x, towns.geometry.y, towns["name"]):
            ax.annotate(str(n), (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    b = outline.total_bounds
    ax.set_xlim(b[0] - 0.2, b[2] + 0.2)
    ax.set_ylim(b[1] - 0.2, b[3] + 0.2)
    ax.set_aspect(1 / np.cos(np.radians((b[1] + b[3]) / 2)))
    ax.set_title(f"{spec.name}: reference hydrography (riskmap; NE, GSHHG)", fontsize=10)
    ax.set_xlabel("lon")
    ax.set_ylabel("lat")
    with _atomic(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)


def _atomic(path: Path):
    from riskmap.io import atomic_path

    return atomic_path(path)


def _towns(sources: Path, spec: BasinSpec, outline, crs) -> gpd.GeoDataFrame:
    pp = gpd.read_file(sources / SOURCES["places"] / REGIONS[spec.region]["places"], layer="populated_places")
    o = gpd.GeoSeries([outline], crs="EPSG:4326").to_crs(crs).iloc[0].buffer(10_000.0)
    near = pp.to_crs(crs).within(o).values
    t = pp[near].copy()
    pop = pd.to_numeric(t["pop_max"], errors="coerce").astype(float)
    t = gpd.GeoDataFrame({
        "name": t["name"].astype(str).values,
        "country": t["adm0_a3"].map(_iso3).values,
        "population": pop.where(pop > 0).values,
        "source": "Natural Earth 10m populated places v5.0.1 (pop_max)",
    }, geometry=t.geometry.values, crs="EPSG:4326")
    return t.sort_values(["country", "name"]).reset_index(drop=True)


def ghpt_dams(sources: Path, reaches: gpd.GeoDataFrame, crs: Any,
              lakes: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Operating large hydropower dams (GEM GHPT) on the basin network, one row per location.

    A dam is kept when it is operating, its ``location_accuracy`` is ``exact``, its capacity is at
    least :data:`DAM_MIN_MW` and it lies within :data:`DAM_SNAP_M` of a reach; ``reach_id`` is the
    nearest reach. Several GEM units at one location (e.g. Bajina Basta and its pumped-storage plant)
    become one row with the summed capacity; pumped-storage plants alone do not mark a reservoir.
    ``reservoir`` is the mapped lake/reservoir polygon within :data:`DAM_SNAP_M` of the dam (e.g.
    Kairakkum -> "Kayrakkum reservoir"), else "<name> reservoir" (its extent unknown; the dam's reach
    is the marker), or None for diversion plants (:data:`DAM_NO_RESERVOIR`).

    Parameters
    ----------
    sources : pathlib.Path
        Folder of the public source datasets (the GHPT table of :data:`DAM_SOURCES`).
    reaches : geopandas.GeoDataFrame
        The basin's reaches (``reach_id``, ``name``).
    crs : pyproj.CRS or str
        Projected CRS (metres) in which distances are measured.
    lakes : geopandas.GeoDataFrame, optional
        Mapped lakes and reservoirs (``name``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per dam location (``name``, ``river``, ``capacity_mw``, ``reach_id``, ``dist_km``,
        ``plants``, ``reservoir``, ``marks_reservoir``, ``source``), sorted by name; EPSG:4326.

    Examples
    --------
    >>> import tempfile
    >>> from shapely import LineString
    >>> reaches = gpd.GeoDataFrame({"reach_id": [1], "name": ["Drina"]},
    ...                            geometry=[LineString([(19.0, 44.0), (19.1, 44.0)])], crs=4326)
    >>> with tempfile.TemporaryDirectory() as t:
    ...     folder = Path(t) / DAM_SOURCES["ghpt"][0]
    ...     folder.mkdir()
    ...     pd.DataFrame({"project_name": ["Test hydroelectric plant"], "capacity_(mw)": [100],
    ...                   "status": ["operating"], "location_accuracy": ["exact"], "lng": [19.05],
    ...                   "lat": [44.001], "river_/_watercourse": [None]}).to_csv(folder / DAM_SOURCES["ghpt"][1])
    ...     dams = ghpt_dams(Path(t), reaches, "EPSG:3035")
    >>> dams[["name", "river", "capacity_mw", "reach_id", "reservoir"]].values.tolist()
    [['Test', 'Drina', 100.0, 1, 'Test reservoir']]
    """
    d = pd.read_csv(sources / DAM_SOURCES["ghpt"][0] / DAM_SOURCES["ghpt"][1])
    cap = pd.to_numeric(d["capacity_(mw)"], errors="coerce")
    d = d[(d["status"] == "operating") & (d["location_accuracy"] == "exact") & (cap >= DAM_MIN_MW)].copy()
    d["capacity_mw"] = cap[d.index].astype(float)
    cols: dict[str, list[Any]] = {"name": [], "river": [], "capacity_mw": [], "reach_id": [], "dist_km": [], "plants": [],
            "reservoir": [], "marks_reservoir": [], "source": [], "geometry": []}
    empty = gpd.GeoDataFrame({k: [] for k in cols if k != "geometry"}, geometry=[], crs="EPSG:4326")
    if d.empty or reaches.empty:
        return empty
    pts = gpd.GeoSeries(gpd.points_from_xy(d["lng"], d["lat"]), crs="EPSG:4326").to_crs(crs).values
    rp = reaches.to_crs(crs).geometry.values
    tree = shapely.STRtree(rp)
    idx, dist = tree.query_nearest(pts, max_distance=DAM_SNAP_M, return_distance=True, all_matches=False)
    d = d.iloc[idx[0]].copy()
    d["reach_id"] = reaches["reach_id"].values[idx[1]]
    d["dist_km"] = np.round(dist / 1000.0, 3)
    d["short"] = d["project_name"].astype(str).str.replace(r"\s*hydroelectric plant.*$", "", regex=True)
    d["key"] = list(zip(d["lat"].round(3), d["lng"].round(3)))
    d["lake"] = None
    if lakes is not None and len(lakes):
        lk = lakes[lakes["name"].notna()].to_crs(crs).reset_index(drop=True)
        li, _ = shapely.STRtree(lk.geometry.values).query_nearest(
            gpd.GeoSeries(gpd.points_from_xy(d["lng"], d["lat"]), crs="EPSG:4326").to_crs(crs).values,
            max_distance=DAM_SNAP_M, return_distance=True, all_matches=False)
        lake = np.array([None] * len(d), dtype=object)
        lake[li[0]] = lk["name"].values[li[1]]
        d["lake"] = lake
    for _, g in sorted(d.groupby("key"), key=lambda kv: kv[0]):
        main = g[~g["short"].str.contains("Pumped Storage", case=False)]
        if main.empty:
            continue
        main = main.sort_values(["capacity_mw", "short"], ascending=[False, True])
        r0 = main.iloc[0]
        river = next((str(x) for x in g["river_/_watercourse"] if isinstance(x, str) and x.strip()), None)
        if river is None:
            nm = reaches.loc[reaches["reach_id"] == r0["reach_id"], "name"].iloc[0]
            river = nm if isinstance(nm, str) else None
        cols["name"].append(str(r0["short"]))
        cols["river"].append(river)
        cols["capacity_mw"].append(float(g["capacity_mw"].sum()))
        cols["reach_id"].append(int(r0["reach_id"]))
        cols["dist_km"].append(float(r0["dist_km"]))
        cols["plants"].append("; ".join(sorted(g["project_name"].astype(str))))
        diversion = str(r0["short"]) in DAM_NO_RESERVOIR
        mapped = r0["lake"] if isinstance(r0["lake"], str) else None
        cols["reservoir"].append(None if diversion else (mapped or f"{r0['short']} reservoir"))
        cols["marks_reservoir"].append(not diversion and mapped is None)
        cols["source"].append(GHPT_ATTRIBUTION + " (CC BY 4.0)")
        cols["geometry"].append(Point(float(r0["lng"]), float(r0["lat"])))
    if not cols["name"]:
        return empty
    out = gpd.GeoDataFrame(cols, geometry="geometry", crs="EPSG:4326")
    out["river"] = out["river"].astype(object)
    out["reservoir"] = out["reservoir"].astype(object)
    return out.sort_values("name").reset_index(drop=True)


def _riparian(countries: gpd.GeoDataFrame, outline_geom, area: float) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Countries near the outline with their area in it, and the riparian ones (RIPARIAN_MIN_*)."""
    creg = countries[countries.intersects(shapely.box(*outline_geom.bounds))].copy()
    creg["area_km2_in_basin"] = np.round(
        geodesic_area_km2(shapely.intersection(creg.geometry.values, outline_geom)), 1)
    rip = creg[(creg["area_km2_in_basin"] >= max(RIPARIAN_MIN_KM2, RIPARIAN_MIN_SHARE * area))]
    rip = rip[["iso3", "name", "area_km2_in_basin", "geometry"]].sort_values("iso3").reset_index(drop=True)
    return creg, rip


def _basin_lakes(net: RegionNetwork, reaches: gpd.GeoDataFrame, outline_geom,
                 countries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Named lakes on the basin's reaches or mostly inside its outline, with their countries."""
    lk = net.lakes[net.lakes["name"].notna()].to_crs("EPSG:4326")
    used = set(reaches["waterbody"].dropna())
    lk = lk[lk["name"].isin(used) | (shapely.area(shapely.intersection(lk.geometry.values, outline_geom))
                                     > 0.5 * shapely.area(lk.geometry.values))].copy()
    lcs = []
    for g in lk.geometry:
        inter = shapely.area(shapely.intersection(countries.geometry.values, g))
        lcs.append("|".join(sorted(countries["iso3"].values[inter > 0.02 * shapely.area(g)])))
    lakes = gpd.GeoDataFrame({"name": lk["name"].values, "kind": lk["kind"].values, "countries": lcs,
                              "shared": [("|" in c) for c in lcs]},
                             geometry=[_as_multi(g) for g in lk.geometry], crs="EPSG:4326")
    lakes["geometry"] = shapely.set_precision(lakes.geometry.values, 1e-6)
    return lakes.sort_values("name").reset_index(drop=True)


def _measured(spec: BasinSpec, area: float, tf: dict[str, Any], reaches: gpd.GeoDataFrame,
              subs: gpd.GeoDataFrame) -> dict[str, Any]:
    """``basins.json`` ``measured``: area against the published range, TFDD agreement, network size."""
    lo, hi = spec.published_area_km2
    err = 0.0 if lo <= area <= hi else (100.0 * (area - hi) / hi if area > hi else 100.0 * (area - lo) / lo)
    return {
        "area_km2": area,
        "area_error_pct": round(err, 1),
        "area_error_basis": f"distance outside the published range {lo:,.0f}-{hi:,.0f} km2 (0 inside it)",
        "area_vs_max_pct": round(100.0 * (area - hi) / hi, 1),
        "iou_tfdd": tf.get("iou_tfdd"),
        **({"iou_tfdd_without_prespa": tf["iou_tfdd_without_prespa"]} if "iou_tfdd_without_prespa" in tf else {}),
        "share_in_tfdd": tf.get("share_in_tfdd"),
        "tfdd_code": tf.get("tfdd_code"),
        "n_reaches": int(len(reaches)),
        "network_km": round(float(reaches["length_km"].sum()), 1),
        "sub_basin_km2": {s: float(a) for s, a in zip(subs["sub_basin"], subs["area_km2"])},
    }


def _notes(spec: BasinSpec) -> list[str]:
    notes = list(spec.notes)
    if spec.towns_note:
        notes.append(spec.towns_note)
    if spec.sub_basin_note:
        notes.append(spec.sub_basin_note)
    if spec.corridor_km:
        notes.append("Outline restricted to the flow-forming part plus a corridor of "
                     + ", ".join(f"{v:g} km around the {k} network" for k, v in spec.corridor_km.items())
                     + " (the endorheic desert is left out).")
    return notes


def _meta(spec: BasinSpec, measured: dict[str, Any], creg: gpd.GeoDataFrame, rip: gpd.GeoDataFrame,
          n_dams: int) -> dict[str, Any]:
    """The basin's ``basins.json`` entry."""
    meta: dict[str, Any] = {
        "name": spec.name,
        "riparian": list(rip["iso3"]),
        "outlet": [spec.outlet[0], spec.outlet[1]],
        "continuation": spec.continuation,
        "published_area_km2": list(spec.published_area_km2),
        "measured": measured,
        "area_in_basin_km2": {k: float(v) for k, v in zip(rip["iso3"], rip["area_km2_in_basin"])},
        "minor_shares_km2": {k: float(v) for k, v in zip(creg["iso3"], creg["area_km2_in_basin"])
                             if k not in set(rip["iso3"]) and v > 0},
    }
    if spec.divide_buffer_max_km is not None:
        meta["divide_buffer_max_km"] = float(spec.divide_buffer_max_km)
    if spec.distributaries:
        meta["other_mouths"] = [[m[0], m[1]] for m, _ in spec.distributaries]
    meta["notes"] = _notes(spec)
    meta["dams"] = {"n": n_dams, "source": GHPT_ATTRIBUTION,
                    "rule": f"operating, location_accuracy exact, >= {DAM_MIN_MW:g} MW, within "
                            f"{DAM_SNAP_M / 1000:g} km of a reach; the nearest reach gets waterbody "
                            "'<name> reservoir' unless the dam is within that distance of a mapped "
                            "lake/reservoir polygon (then that polygon is its reservoir); reservoir extents "
                            "are unknown"}
    return meta


def build_basin(sources: Path, spec: BasinSpec, net: RegionNetwork, countries: gpd.GeoDataFrame,
                borders: gpd.GeoDataFrame) -> dict[str, Any]:
    """All layers and metadata of one basin (nothing written)."""
    edges, basin_idx = basin_tree(net, spec)
    reaches = finish_reaches(build_reaches(net, spec, edges), net, spec)
    dams = ghpt_dams(sources, reaches, net.crs, net.lakes)
    # the dam's reach marks the reservoir (its extent is unknown here); mapped lakes keep their name
    for wb, rid in zip(dams["reservoir"][dams["marks_reservoir"]], dams["reach_id"][dams["marks_reservoir"]]):
        m = (reaches["reach_id"] == rid).values & pd.isna(reaches["waterbody"]).values
        reaches.loc[m, "waterbody"] = wb
    subs = allocate(net, spec, reaches, basin_idx)
    outline_geom = _as_multi(shapely.make_valid(shapely.union_all(subs.geometry.values)))
    area = round(float(geodesic_area_km2(outline_geom)), 1)
    outline = gpd.GeoDataFrame({"basin": [spec.id], "name": [spec.name], "area_km2": [area]},
                               geometry=[outline_geom], crs="EPSG:4326")
    creg, rip = _riparian(countries, outline_geom, area)
    lakes = _basin_lakes(net, reaches, outline_geom, countries)
    bsel = borders[borders.intersects(shapely.box(*outline.total_bounds).buffer(0.2))].reset_index(drop=True)
    towns = _towns(sources, spec, outline_geom, net.crs)
    measured = _measured(spec, area, _tfdd_metrics(sources, spec, outline_geom), reaches, subs)
    return {"outline": outline, "sub_basins": subs, "reaches": reaches, "lakes": lakes, "dams": dams,
            "countries": rip, "borders": bsel, "towns": towns, "meta": _meta(spec, measured, creg, rip, len(dams))}


def _source_files(sources: Path) -> list[dict[str, str]]:
    out = []
    for key in ("admin0", "physical", "gshhg", "places", "tfdd"):
        for files in REGIONS.values():
            p = sources / SOURCES[key] / files[key]
            out.append({"dataset": SOURCES[key], "path": f"{SOURCES[key]}/{files[key]}", "sha256": sha256_file(p),
                        "use": "validation only (not in any product)" if key == "tfdd" else "product input"})
    for key, (ds, fn) in DAM_SOURCES.items():
        out.append({"dataset": ds, "path": f"{ds}/{fn}", "sha256": sha256_file(sources / ds / fn),
                    "use": ("product input (dams layer, reservoir markers)" if key == "ghpt" else
                            "product input (GRanD dams as allocation seeds: Mat anchors, neighbour river lines)")})
    for ds, fn in POINT_SOURCES.values():
        out.append({"dataset": ds, "path": f"{ds}/{fn}", "sha256": sha256_file(sources / ds / fn),
                    "use": "product input (points of the neighbour river seed lines, specs.toml neighbour_rivers)"})
    return out


#: Licences and attribution of the sources (``specs.toml``, ``[[licences]]``).
LICENCES: list[dict[str, str]] = [dict(x) for x in _load(TABLES_FILE)["licences"]]

STEPS = [
    "countries: NE admin-0 v5.1.2 (both AOI files); ISO3 from ADM0_A3, KOS->XKX, KAB (Baikonur lease) "
    "dissolved into KAZ; borders from admin_0_borders_derived without lease_internal, iso3 pair sorted",
    f"rivers: GSHHG WDBII levels {list(GSHHG_LEVELS)} (intermittent 5-7 and canals 8-10 dropped) plus NE "
    f"rivers_lake_centerlines/rivers_europe stretches farther than {NE_COVER_M / 1000:g} km from any GSHHG line "
    "(their ends extended onto the nearest GSHHG line)",
    f"lakes: river ends within {LAKE_LINK_M / 1000:g} km of a NE lake/reservoir polygon linked straight to "
    "the lake's representative point; Lake Prespa linked to Lake Ohrid (underground karst flow) and Small "
    "Prespa to Prespa",
    f"noding: line ends within {SNAP_M / 1000:g} km of another line snapped onto it, that line split there",
    "per basin: network component upstream of the outlet (receiving river excluded), shortest-path tree to "
    "the outlet (loops dropped), distributary mouths re-oriented toward their mouth",
    f"reaches: tree chains between confluences split where the country/border label changes (border only "
    f"where the river follows the border: within {BR_NEAR_M / 1000:g} km of a shared border line of its own "
    f"country for runs >= {BR_MIN_RUN_M / 1000:g} km, gaps <= {BR_MAX_GAP_M / 1000:g} km bridged, "
    "riskmap.databuild.border_rivers; other label runs < "
    f"{MIN_RUN_M / 1000:g} km merged into a neighbour) and to <= {MAX_REACH_KM:g} km; length geodesic (WGS84)",
    f"names: majority NE name within {NAME_M / 1000:g} km of the reach (>= 50 % of sample points)",
    "outlines: land (union of countries) gridded (1.5 km Western Balkans, 3 km Central Asia, local "
    "azimuthal-equidistant projection), each cell allocated to the nearest river seed point (every 1 km along "
    "all river lines of the region, each labelled by basin/sub-basin or 'other', plus 'other' seeds along the "
    "sea/lake coast and the shores of lakes off the basin's path); basin cells farther than 22 km (Western "
    "Balkans) / 100 km (Syr Darya) from the basin's own rivers dropped, Lower Syr Darya limited to a 60 km "
    "corridor, land in China excluded for the Syr Darya; enclosed gaps filled; cells polygonised per "
    "sub-basin, clipped to land and dissolved",
    "neighbour rivers in neither river source (Mat, Fan, Shkumbin, Ibar, Spreca): 'other' allocation seed "
    "lines straight between sourced points on each river (GeoNames towns, GRDC gauges, GRanD dams; "
    "specs.toml neighbour_rivers); anchors of the region's other basins are 'other' seeds too",
    "unmapped systems: the Mat (Albania) is in neither river source; its Shkopet and Ulez dams (GeoDAR/GRanD "
    "3981, 3982) are 'other' allocation seeds. Unmapped tributaries: the Mailuu-Suu (to the Kara Darya) is a "
    "Kara Darya seed at Mailuu-Suu town (literature-sites). Kara Darya sub-basin stem named 'Kara Darya'",
    f"dams: GEM Global Hydropower Tracker (May 2024) operating plants with exact location, >= {DAM_MIN_MW:g} MW, "
    f"within {DAM_SNAP_M / 1000:g} km of a reach -> layer dams; the nearest reach gets waterbody "
    "'<name> reservoir' unless the dam is that close to a mapped lake/reservoir polygon (then it is that "
    "reservoir's dam) or the reach already has a waterbody (reservoir extents unknown; the diversion plant "
    "Perucica marks nothing)",
    "riparian countries: >= 2 % of the outline area (smaller shares listed as minor_shares_km2)",
    "towns: NE populated places v5.0.1 within 10 km of the outline; population = pop_max (NaN if missing)",
]


def build_reference(sources: Path | str, out_dir: Path | str, *, date: str | None = None,
                    basins: list[str] | None = None, plots: bool = True) -> dict[str, Any]:
    """Build ``countries.gpkg`` and every ``<basin>.gpkg`` (+ JSON, provenance, PNG) into ``out_dir``.

    Parameters
    ----------
    sources : path
        Folder of public source datasets (``../shared/data/sources``).
    out_dir : path
        Output folder (``data/basins``).
    date : str, optional
        Build date written into PROVENANCE only (default: ``$SOURCE_DATE_EPOCH`` or today, UTC).
    basins : list of str, optional
        Subset of basin ids (default: all).
    plots : bool
        Write the PNG overviews.

    Returns
    -------
    dict
        The ``basins.json`` content.

    Examples
    --------
    >>> from riskmap._paths import default_sources_dir
    >>> meta = build_reference(default_sources_dir(), "/tmp/basins")  # doctest: +SKIP
    """
    from riskmap.io import atomic_write_text, write_layers

    t0 = time.time()
    build_date(date)  # a bad $SOURCE_DATE_EPOCH fails here, before the build, not at its end
    sources, out_dir = Path(sources), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for key in SOURCES.values():
        if not (sources / key).is_dir():
            from riskmap._errors import RiskmapInputError

            raise RiskmapInputError(f"{sources / key}: source dataset folder not found")
    countries, borders = load_countries(sources)
    write_layers(out_dir / "countries.gpkg", {"countries": countries, "borders": borders})
    ids = basins or list(BASIN_SPECS)
    nets: dict[str, RegionNetwork] = {}
    meta_all: dict[str, Any] = {}
    for bid in ids:
        spec = BASIN_SPECS[bid]
        if spec.region not in nets:
            nets[spec.region] = build_region_network(sources, spec.region, countries, borders)
        res = build_basin(sources, spec, nets[spec.region], countries, borders)
        write_layers(out_dir / f"{bid}.gpkg", {k: res[k] for k in
                                               ("outline", "sub_basins", "reaches", "lakes", "dams",
                                                "countries", "borders", "towns")})
        if plots:
            _plot(out_dir / f"{bid}.png", spec, res["outline"], res["sub_basins"], res["reaches"],
                  res["lakes"], res["borders"], res["towns"])
        meta_all[bid] = res["meta"]
    if basins is None:
        atomic_write_text(out_dir / "basins.json", json.dumps(meta_all, indent=2, ensure_ascii=False) + "\n")
    write_provenance(sources, out_dir, meta_all, date=date, seconds=time.time() - t0)
    return meta_all


def build_date(date: str | None) -> str:
    """``date``, else ``$SOURCE_DATE_EPOCH`` (whole seconds since 1970, checked), else now; ISO 8601, UTC.

    The date recorded in PROVENANCE.json of a reference build (reproducible builds set
    ``SOURCE_DATE_EPOCH``).

    Parameters
    ----------
    date : str or None
        The date given by the user, kept as given.

    Returns
    -------
    str
        The build date.

    Raises
    ------
    riskmap.RiskmapInputError
        ``SOURCE_DATE_EPOCH`` is not a whole number of seconds.

    Examples
    --------
    >>> build_date("2026-01-31")
    '2026-01-31'
    >>> len(build_date(None))  # $SOURCE_DATE_EPOCH or now: 2026-01-01T00:00:00Z
    20
    """
    if date:
        return date
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        try:
            when = _dt.datetime.fromtimestamp(int(sde.strip()), tz=_dt.UTC)
        except (ValueError, OverflowError, OSError):
            from riskmap._errors import RiskmapInputError

            raise RiskmapInputError(
                f"SOURCE_DATE_EPOCH={sde!r}: not a whole number of seconds since 1970-01-01 (the reproducible "
                "build date); set it to e.g. 1767225600, or unset it") from None
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _dt.datetime.now(tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_provenance(sources: Path, out_dir: Path, meta: dict[str, Any], *, date: str | None,
                     seconds: float) -> None:
    """Write PROVENANCE.json and PROVENANCE.md of data/basins into ``out_dir``.

    Parameters
    ----------
    sources : pathlib.Path
        Folder of the public source datasets (checksummed).
    out_dir : pathlib.Path
        Output folder (data/basins).
    meta : dict
        Per basin id, the build record with its ``measured`` agreement figures.
    date : str or None
        Build date to record; None: ``SOURCE_DATE_EPOCH`` or now (UTC).
    seconds : float
        Build time (not written, to keep the files deterministic apart from the date).
    """
    from importlib.metadata import PackageNotFoundError, version

    from riskmap.io import atomic_write_text

    try:
        rv = version("riskmap")
    except PackageNotFoundError:
        rv = "unknown"
    files = _source_files(sources)
    prov = {
        "product": "riskmap reference hydrography (data/basins)",
        "riskmap_version": rv,
        "build_date": build_date(date),
        "builder": "riskmap data build-reference (riskmap/databuild/reference/)",
        "sources": files,
        "licences": LICENCES,
        "licence_of_products": "derived from public-domain Natural Earth and LGPL-3.0-or-later GSHHG data; "
                               "keep the GSHHG attribution (Wessel & Smith) with the reaches and outlines",
        "steps": STEPS,
        "parameters": {"NE_COVER_M": NE_COVER_M, "NAME_M": NAME_M, "SNAP_M": SNAP_M, "LAKE_LINK_M": LAKE_LINK_M,
                       "BORDER_NEAR_M": BR_NEAR_M, "BORDER_MIN_RUN_M": BR_MIN_RUN_M,
                       "BORDER_MAX_GAP_M": BR_MAX_GAP_M, "MIN_RUN_M": MIN_RUN_M, "MAX_REACH_KM": MAX_REACH_KM,
                       "GRID_M": GRID_M, "SEED_M": SEED_M, "GSHHG_LEVELS": list(GSHHG_LEVELS)},
        "products": {
            "countries.gpkg": {"sources": [f["path"] for f in files if "admin0" in f["path"]]},
            **{f"{b}.gpkg": {"sources": [f["path"] for f in files if "tfdd" not in f["path"]
                                         and (REGIONS[BASIN_SPECS[b].region]["admin0"].split("_", 2)[2]
                                              in f["path"] or f["dataset"] in {v[0] for v in
                                                                                DAM_SOURCES.values()})],
                             "measured": m["measured"]} for b, m in meta.items()},
        },
        "build_seconds": round(seconds, 1),
    }
    prov.pop("build_seconds")  # keep the file deterministic apart from the date
    atomic_write_text(out_dir / "PROVENANCE.json", json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    lines = ["# Provenance of data/basins", "",
             f"Built by `riskmap data build-reference` (riskmap {rv}) on {prov['build_date']}.", "",
             "## Sources", "", "| dataset file | sha256 | use |", "|---|---|---|"]
    lines += [f"| `{f['path']}` | `{f['sha256']}` | {f['use']} |" for f in files]
    lines += ["", "## Licences and attribution", ""]
    lines += [f"- **{l_['dataset']}**: {l_['licence']}. {l_['attribution']}" for l_ in LICENCES]
    lines += ["", "## Processing steps", ""]
    lines += [f"{i + 1}. {s}" for i, s in enumerate(STEPS)]
    lines += ["", "## Measured agreement", "",
              "| basin | area km2 | published km2 | error % | IoU TFDD | share inside TFDD | reaches |",
              "|---|---|---|---|---|---|---|"]
    for b, m in meta.items():
        x = m["measured"]
        lines.append(f"| {b} | {x['area_km2']:,.0f} | {m['published_area_km2'][0]:,.0f}-{m['published_area_km2'][1]:,.0f} "
                     f"| {x['area_error_pct']} | {x['iou_tfdd']} | {x['share_in_tfdd']} ({x['tfdd_code']}) | {x['n_reaches']} |")
    lines += ["", "See docs/hydrography.md for the method, tolerances and known errors.", ""]
    atomic_write_text(out_dir / "PROVENANCE.md", "\n".join(lines))
