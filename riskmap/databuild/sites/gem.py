"""Global Energy Monitor (GEM) tracker importers.

One function per tracker; each returns a :class:`~riskmap.databuild.sites._common.SourceResult`.

- GCPT coal plants: units aggregated to plants by ``GEM location ID``
  (capacity summed over the kept units); cancelled and shelved units were
  never built and are dropped with a reason; retired and mothballed -> closed.
- GHPT hydropower (``dam_reservoir``): units aggregated by ``gem_location_id``.
- GOGPT oil and gas plants (``thermal_power_plant``): units aggregated by the
  project's GEM wiki page (the map file has no plant id).
- GIST iron and steel (``smelter_refinery``): units aggregated by ``plant-id``.
- GIOMT iron ore mines (``mine``), GOGET oil and gas fields (``oil_gas_extraction``).
- GGIT gas pipelines (``pipeline`` lines from WKT) and LNG terminals
  (``oil_refinery_depot``); GOIT oil pipeline routes (lines carrying only the
  ProjectID: named "Oil pipeline route P1234 (GEM GOIT)", status unknown).

A plant's status is that of its "most present" kept unit (operating >
under construction > closed > planned). GEM's location accuracy gives
``coord_precision`` (exact -> exact, approximate/blank -> approximate).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap.databuild.sites._common import (SourceResult, best_status, country_codes, make_sites, map_values,
                                     mappings, points, read_csv, refs, require, split_drop, to_number,
                                     valid_xy)

__all__ = ["read_gcpt", "read_ghpt", "read_gogpt", "read_gist", "read_giomt", "read_goget", "read_ggit",
           "read_goit", "GEM_READERS"]

DIR = "gem-trackers"
LICENCE = "CC BY 4.0"


def _attr(tracker: str, release: str) -> str:
    return f"{tracker}, Global Energy Monitor, {release} release. Licensed under CC BY 4.0."


def _prec(values: pd.Series, path: Path) -> pd.Series:
    return map_values(values.str.strip().str.lower(), mappings()["coord_precision"]["gem"],
                      "location accuracy", str(path))


def _approximate_on_a_river_outside(accuracy: pd.Series, river: pd.Series) -> pd.Series:
    """True where the coordinate is approximate and the river is one of ``mappings.toml`` ``[rivers_outside]``.

    Examples
    --------
    >>> _approximate_on_a_river_outside(pd.Series(["approximate", "exact", "approximate"]),
    ...                                 pd.Series(["Zerafshan River", "Zerafshan River", "Pskem River"])).tolist()
    [True, False, False]
    """
    names = sorted(mappings().get("rivers_outside", {}), key=len, reverse=True)
    if not names:
        return pd.Series(False, index=river.index)
    pattern = r"^\s*(?:" + "|".join(re.escape(n) for n in names) + r")\b"
    outside = river.fillna("").str.contains(pattern, case=False, regex=True)
    return (accuracy.fillna("").str.strip().str.lower() == "approximate") & outside


def _status(values: pd.Series, table: str, path: Path) -> pd.Series:
    return map_values(values.str.strip(), mappings()["status"][table], "status", str(path))


def _built_with_coordinates(raw: pd.DataFrame, status: pd.Series) -> tuple[pd.DataFrame, pd.Series, Counter]:
    """Rows of a point tracker that were built and have coordinates (``lng``/``lat``).

    Returns the kept rows, their status, and the dropped rows counted by reason.
    """
    keep, reason = split_drop(status)
    dropped = Counter(reason.dropna())
    ok = valid_xy(raw["lng"], raw["lat"])
    dropped["no coordinates"] += int((keep & ~ok).sum())
    keep &= ok
    return raw[keep], status[keep], dropped


def _units_to_plants(d: pd.DataFrame, key: str, status: pd.Series, capacity: pd.Series | None,
                     dropped: Counter) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Drop never-built units and aggregate the rest by ``key``.

    Returns (first unit row per plant, plant status, summed capacity, unit summary text).
    """
    keep, reason = split_drop(status)
    for r in reason.dropna():
        dropped[f"unit {r}"] += 1
    d = d[keep].copy()
    d["_status"] = status[keep]
    d["_cap"] = capacity[keep] if capacity is not None else np.nan
    g = d.groupby(key, sort=True)
    first = g.head(1).set_index(key).sort_index()
    st = g["_status"].agg(best_status)
    d["_plant_status"] = d[key].map(st)
    same = d["_status"] == d["_plant_status"]
    cap = d.loc[same, "_cap"].groupby(d.loc[same, key]).sum(min_count=1).reindex(st.index)

    def summary(s: pd.DataFrame) -> str:
        parts = []
        for k, grp in sorted(s.groupby("_status")):
            c = grp["_cap"].sum(min_count=1)
            parts.append(f"{len(grp)} {k}" + (f" ({c:.6g} MW)" if capacity is not None and pd.notna(c) else ""))
        return ", ".join(parts)

    text = g[["_status", "_cap"]].apply(summary)
    text = g.size().astype(str) + " unit(s) kept: " + text
    if capacity is not None:
        text = text + "; capacity = " + st + " units only"
    return first, st, cap, text


def read_gcpt(sources_dir: Path) -> SourceResult:
    """GEM Global Coal Plant Tracker (July 2024), units aggregated to plants.

    Examples
    --------
    >>> res = read_gcpt(default_sources_dir())  # doctest: +SKIP
    """
    path = require(Path(sources_dir) / DIR / "coal_plants_gcpt_2024-07_aoi.csv")
    raw = read_csv(path)
    dropped: Counter = Counter()
    status = _status(raw["Status"], "gem_gcpt", path)
    first, st, cap, text = _units_to_plants(raw, "GEM location ID", status, to_number(raw["Capacity (MW)"]),
                                            dropped)
    ok = valid_xy(first["Longitude"], first["Latitude"])
    dropped["no coordinates"] += int((~ok).sum())
    first, st, cap, text = first[ok], st[ok], cap[ok], text[ok]
    ids = first.index.to_series()
    key = "gem-gcpt"
    notes = (text + "; coal type " + first["Coal type"].replace("", "not stated") +
             first["Plant name (local)"].map(lambda s: f"; local name {s}" if s.strip() else ""))
    sites = make_sites({
        "site_id": "gem-gcpt-" + ids, "name": first["Plant name"], "category": "thermal_power_plant",
        "status": st, "country": country_codes(first["Country/Area"]),
        "coord_precision": _prec(first["Location accuracy"], path), "source": key, "source_id": ids,
        "source_url": first["Wiki URL"], "licence": LICENCE, "last_verified": None,
        "source_refs": refs(key, ids), "capacity_mw": cap, "notes": notes,
    }, points(first["Longitude"], first["Latitude"]))
    return SourceResult(key, "GEM Global Coal Plant Tracker (GCPT), July 2024", sites, len(raw), dropped,
                        LICENCE, _attr("Global Coal Plant Tracker", "July 2024"), [path], "2024-07",
                        "units aggregated to plants by GEM location ID; capacity summed over kept units")


def read_ghpt(sources_dir: Path) -> SourceResult:
    """GEM Global Hydropower Tracker (May 2024) -> ``dam_reservoir``."""
    path = require(Path(sources_dir) / DIR / "hydropower_ghpt_2024-05_aoi.csv")
    raw = read_csv(path)
    dropped: Counter = Counter()
    status = _status(raw["status"], "gem_ghpt", path)
    first, st, cap, text = _units_to_plants(raw, "gem_location_id", status, to_number(raw["capacity_(mw)"]),
                                            dropped)
    last = raw.groupby("gem_location_id")["date_last_researched"].max().reindex(first.index)
    ok = valid_xy(first["lng"], first["lat"])
    dropped["no coordinates"] += int((~ok).sum())
    first, st, cap, text, last = first[ok], st[ok], cap[ok], text[ok], last[ok]
    keep = ~_approximate_on_a_river_outside(first["location_accuracy"], first["river_/_watercourse"])
    dropped["approximate coordinate on a river outside the three basins"] += int((~keep).sum())
    first, st, cap, text, last = first[keep], st[keep], cap[keep], text[keep], last[keep]
    ids = first.index.to_series()
    key = "gem-ghpt"
    notes = (text + "; technology " + first["technology_type"] +
             first["river_/_watercourse"].map(lambda s: f"; river {s}" if s.strip() else "") +
             first["country_2"].map(lambda s: f"; binational with {s}" if s.strip() else ""))
    sites = make_sites({
        "site_id": "gem-ghpt-" + ids, "name": first["project_name"], "category": "dam_reservoir",
        "status": st, "country": country_codes(first["country"]),
        "coord_precision": _prec(first["location_accuracy"], path), "source": key, "source_id": ids,
        "source_url": first["url"], "licence": LICENCE, "last_verified": last.replace("", None),
        "source_refs": refs(key, ids), "capacity_mw": cap, "notes": notes,
    }, points(first["lng"], first["lat"]))
    return SourceResult(key, "GEM Global Hydropower Tracker (GHPT), May 2024", sites, len(raw), dropped,
                        LICENCE, _attr("Global Hydropower Tracker", "May 2024"), [path], "2024-05",
                        "units aggregated by gem_location_id; capacity summed over kept units")


def read_gogpt(sources_dir: Path) -> SourceResult:
    """GEM Global Oil and Gas Plant Tracker (map file 2024-08-29) -> ``thermal_power_plant``."""
    path = require(Path(sources_dir) / DIR / "oil_gas_plants_gogpt_2024-08_aoi.csv")
    raw = read_csv(path)
    if (raw["url"].str.strip() == "").any():
        raise RiskmapInputError(f"{path}: rows without a GEM wiki url cannot be aggregated")
    raw = raw.assign(_pid=raw["url"].str.rstrip("/").str.rsplit("/", n=1).str[-1])
    dropped: Counter = Counter()
    status = _status(raw["status"], "gem_gogpt", path)
    first, st, cap, text = _units_to_plants(raw, "_pid", status, to_number(raw["capacity"]), dropped)
    ok = valid_xy(first["lng"], first["lat"])
    dropped["no coordinates"] += int((~ok).sum())
    first, st, cap, text = first[ok], st[ok], cap[ok], text[ok]
    ids = first.index.to_series()
    key = "gem-gogpt"
    notes = (text + "; fuel " + first["fuel_type"] + "; technology " + first["technology"] +
             first["project_loc"].map(lambda s: f"; local name {s}" if s.strip() else "") +
             "; location accuracy not given in the map file")
    sites = make_sites({
        "site_id": "gem-gogpt-" + ids, "name": first["project"], "category": "thermal_power_plant",
        "status": st, "country": country_codes(first["country"]), "coord_precision": "approximate",
        "source": key, "source_id": ids, "source_url": first["url"], "licence": LICENCE,
        "last_verified": "2024-08-29", "source_refs": refs(key, ids), "capacity_mw": cap, "notes": notes,
    }, points(first["lng"], first["lat"]))
    return SourceResult(key, "GEM Global Oil and Gas Plant Tracker (GOGPT), map file 2024-08-29", sites,
                        len(raw), dropped, LICENCE, _attr("Global Oil and Gas Plant Tracker", "August 2024"),
                        [path], "2024-08-29",
                        "units aggregated by GEM wiki page (no plant id in the map file); capacity summed")


def read_gist(sources_dir: Path) -> SourceResult:
    """GEM Global Iron and Steel Tracker (map file 2025-03-18) -> ``smelter_refinery``.

    ``capacity_t_yr`` is the steelmaking capacity (BOF + EAF units) when the
    plant has any, else the ironmaking capacity (BF + DRI); which one is in ``notes``.
    """
    path = require(Path(sources_dir) / DIR / "iron_steel_gist_2025-03_aoi.csv")
    raw = read_csv(path)
    dropped: Counter = Counter()
    status = _status(raw["status"], "gem_gist", path)
    keep, _ = split_drop(status)
    cap = to_number(raw["current-capacity-(ttpa)"]) * 1000.0
    steel = raw["tab-type"].isin(["Basic_oxygen_furnaces", "Electric_arc_furnaces"])
    kept = raw[keep]
    steel_cap = cap[keep & steel].groupby(raw.loc[keep & steel, "plant-id"]).sum(min_count=1)
    iron_cap = cap[keep & ~steel].groupby(raw.loc[keep & ~steel, "plant-id"]).sum(min_count=1)
    first, st, _, text = _units_to_plants(raw, "plant-id", status, None, dropped)
    capacity = steel_cap.reindex(first.index)
    which = pd.Series(np.where(capacity.notna(), "steelmaking (BOF+EAF)", "ironmaking (BF+DRI)"),
                      index=first.index)
    capacity = capacity.fillna(iron_cap.reindex(first.index))
    which = which.where(capacity.notna(), "not given")
    del kept
    ok = valid_xy(first["lng"], first["lat"])
    dropped["no coordinates"] += int((~ok).sum())
    first, st, text, capacity, which = first[ok], st[ok], text[ok], capacity[ok], which[ok]
    ids = first.index.to_series()
    key = "gem-gist"
    notes = text + "; capacity_t_yr = " + which + " capacity of kept units"
    sites = make_sites({
        "site_id": "gem-gist-" + ids, "name": first["plant-name-(english)"], "category": "smelter_refinery",
        "status": st, "country": country_codes(first["country/area"]),
        "coord_precision": _prec(first["coordinate-accuracy"], path), "source": key, "source_id": ids,
        "source_url": first["gem-wiki-page"], "licence": LICENCE, "last_verified": "2025-03-18",
        "source_refs": refs(key, ids), "capacity_t_yr": capacity, "notes": notes,
    }, points(first["lng"], first["lat"]))
    return SourceResult(key, "GEM Global Iron and Steel Tracker (GIST), map file 2025-03-18", sites, len(raw),
                        dropped, LICENCE, _attr("Global Iron and Steel Tracker", "March 2025"), [path],
                        "2025-03-18", "units aggregated by plant-id")


def read_giomt(sources_dir: Path) -> SourceResult:
    """GEM Global Iron Ore Mines Tracker (November 2024, V1) -> ``mine``."""
    path = require(Path(sources_dir) / DIR / "iron_ore_mines_giomt_2024-11_aoi.csv")
    raw = read_csv(path)
    status = _status(raw["Operating status"], "gem_giomt", path)
    d, st, dropped = _built_with_coordinates(raw, status)
    key = "gem-giomt"
    ids = d["GEM Asset ID"]
    sites = make_sites({
        "site_id": "gem-giomt-" + ids, "name": d["Asset name (English)"], "category": "mine", "status": st,
        "country": country_codes(d["Country/Area"]), "coord_precision": _prec(d["Coordinate accuracy"], path),
        "source": key, "source_id": ids, "source_url": d["GEM wiki page URL"], "licence": LICENCE,
        "last_verified": None, "source_refs": refs(key, ids),
        "capacity_t_yr": to_number(d["Design capacity (ttpa)"]) * 1000.0,
        "notes": "iron ore mine; capacity_t_yr = design capacity",
    }, points(d["lng"], d["lat"]))
    return SourceResult(key, "GEM Global Iron Ore Mines Tracker (GIOMT), November 2024 (V1)", sites, len(raw),
                        dropped, LICENCE, _attr("Global Iron Ore Mines Tracker", "November 2024 (V1)"), [path],
                        "2024-11")


def read_goget(sources_dir: Path) -> SourceResult:
    """GEM Global Oil and Gas Extraction Tracker (map file 2025-02-26) -> ``oil_gas_extraction``."""
    path = require(Path(sources_dir) / DIR / "oil_gas_extraction_goget_2025-02_aoi.csv")
    raw = read_csv(path)
    status = _status(raw["status"], "gem_goget", path)
    d, st, dropped = _built_with_coordinates(raw, status)
    key = "gem-goget"
    ids = d["unit-id"]
    notes = d["status"].map(lambda s: "" if s.strip() else "status not found in source")
    sites = make_sites({
        "site_id": "gem-goget-" + ids, "name": d["wiki-name"], "category": "oil_gas_extraction", "status": st,
        "country": country_codes(d["country/area"]), "coord_precision": _prec(d["location-accuracy"], path),
        "source": key, "source_id": ids, "source_url": d["url"], "licence": LICENCE,
        "last_verified": "2025-02-26", "source_refs": refs(key, ids),
        "notes": notes + d["operator"].map(lambda s: f"; operator {s}" if s.strip() else ""),
    }, points(d["lng"], d["lat"]))
    return SourceResult(key, "GEM Global Oil and Gas Extraction Tracker (GOGET), map file 2025-02-26", sites,
                        len(raw), dropped, LICENCE, _attr("Global Oil and Gas Extraction Tracker",
                                                          "February 2025"), [path], "2025-02-26")


def read_ggit(sources_dir: Path) -> SourceResult:
    """GEM Global Gas Infrastructure Tracker (2024-10-08): pipelines (lines) and LNG terminals."""
    path = require(Path(sources_dir) / DIR / "gas_pipelines_lng_ggit_2024-10_aoi.csv")
    raw = read_csv(path)
    status = _status(raw["status"], "gem_ggit", path)
    keep, reason = split_drop(status)
    dropped = Counter(reason.dropna())
    geom = gpd.GeoSeries.from_wkt(raw["geometry"].replace("", None), on_invalid="ignore")
    ok = geom.notna() & ~geom.is_empty
    dropped["no geometry"] += int((keep & ~ok).sum())
    keep &= ok
    d = raw[keep].assign(_status=status[keep], _geom=geom[keep].values)
    # a pipeline id can appear once per segment: union the segments
    rows, geoms = [], []
    for _pid, g in d.groupby("id", sort=True):
        rows.append(g.iloc[0].to_dict() | {"_status": best_status(g["_status"]), "_n": len(g)})
        geoms.append(shapely.line_merge(shapely.union_all(g["_geom"].to_list()))
                     if len(g) > 1 else g["_geom"].iloc[0])
    f = pd.DataFrame(rows)
    lng = f["tracker-acro"].eq("GGIT-lng")
    key = "gem-ggit"
    name = np.where(lng, f["name"], f["name"] + f["unit-name"].map(lambda s: f" ({s})" if s.strip() else ""))
    notes = (np.where(lng, "LNG terminal; capacity ", "gas pipeline; capacity ") + f["capacity-table"] +
             "; countries " + f["areas"])
    sites = make_sites({
        "site_id": "gem-ggit-" + f["id"], "name": name,
        "category": np.where(lng, "oil_refinery_depot", "pipeline"), "status": f["_status"],
        "country": [None] * len(f), "coord_precision": "approximate", "source": key, "source_id": f["id"],
        "source_url": f["url"], "licence": LICENCE, "last_verified": "2024-10-08",
        "source_refs": refs(key, f["id"]), "notes": notes,
    }, geoms)
    return SourceResult(key, "GEM Global Gas Infrastructure Tracker (GGIT), 2024-10-08", sites, len(raw),
                        dropped, LICENCE, _attr("Global Gas Infrastructure Tracker", "October 2024"), [path],
                        "2024-10-08", "pipeline segments with the same id merged into one line")


def read_goit(sources_dir: Path) -> SourceResult:
    """GEM GOIT oil and liquids pipeline route geometries (ProjectID only)."""
    path = require(Path(sources_dir) / DIR / "oil_liquid_pipeline_routes_goit_aoi.geojson")
    try:
        raw = gpd.read_file(path)
    except Exception as e:  # noqa: BLE001
        raise RiskmapInputError(f"{path}: cannot read: {e}") from None
    ok = raw.geometry.notna() & ~raw.geometry.is_empty
    dropped = Counter({"no geometry": int((~ok).sum())}) if (~ok).any() else Counter()
    d = raw[ok].sort_values("ProjectID")
    key = "gem-goit"
    ids = d["ProjectID"].astype(str)
    sites = make_sites({
        "site_id": "gem-goit-" + ids, "name": "Oil pipeline route " + ids + " (GEM GOIT)",
        "category": "pipeline", "status": "unknown", "country": [None] * len(d),
        "coord_precision": "approximate", "source": key, "source_id": ids, "source_url": None,
        "licence": LICENCE, "last_verified": None, "source_refs": refs(key, ids),
        "notes": "route geometry only: name, status and capacity are in the GOIT spreadsheet, not available here",
    }, d.geometry.to_crs("EPSG:4326").values)
    return SourceResult(key, "GEM Global Oil Infrastructure Tracker (GOIT) pipeline routes", sites, len(raw),
                        dropped, LICENCE,
                        "Global Oil Infrastructure Tracker pipeline routes, Global Energy Monitor "
                        "(GOIT-GGIT-pipeline-routes repository). GEM trackers are published under CC BY 4.0.",
                        [path], "")


#: Every GEM reader, in build order.
GEM_READERS: tuple[Callable[[Path], SourceResult], ...] = (
    read_gcpt, read_ghpt, read_gogpt, read_gist, read_giomt, read_goget, read_ggit, read_goit)
