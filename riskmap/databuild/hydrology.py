"""Derived hydrology tables for the spill model: gauges and reservoir volumes on the networks.

Reads (never modifies) two public sources (see their ``SOURCE.md``):

- the GRDC station catalogue (``grdc-station-catalogue/grdc_stations_riskmap_boxes.csv``):
  long-term mean discharge and catchment area of gauging stations;
- GRanD v1.3 storage volumes (``grand-reservoirs/grand_dams_riskmap_boxes.csv``,
  via the CaMa-Flood dam parameter table).

and writes, into ``data/basins/``:

- ``gauges.csv``: every GRDC station of the three basin boxes, placed on the
  basin's reach network (``reach_id``, ``reach_frac``, ``distance_km``) when
  its river is a river of the network, with catchment area (NaN where GRDC
  gives -999), long-term mean discharge, record period and a ``status``
  saying whether the spill model uses it, and why not;
- ``reservoirs.csv``: every lake or reservoir named on the basin's reaches
  (``waterbody``) with a volume (GRanD, else the cited figure of
  ``riskmap/params/discharge.toml``, else ``unknown`` with the consequence);
- ``PROVENANCE.hydrology.json`` / ``PROVENANCE.hydrology.md``: sources with
  sha256, licences, attribution, processing steps and build date.

Only derived values are written (never a raw copy of a source file).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import local_aeqd
from riskmap.io import atomic_write_text, csv_text, sha256_file

__all__ = ["BASINS", "EXCLUDED_GAUGES", "GAUGES_SRC", "GRAND_SRC", "build_hydrology"]

GAUGES_SRC = Path("grdc-station-catalogue") / "grdc_stations_riskmap_boxes.csv"
GRAND_SRC = Path("grand-reservoirs") / "grand_dams_riskmap_boxes.csv"

#: riskmap basin id -> the ``boxes`` label of the source tables.
BASINS: dict[str, str] = {"drin": "drin", "drina": "drina", "syr_darya": "syrdarya"}

#: GRDC river spelling -> the river name of the reach network.
GRDC_RIVER_NAMES: dict[str, str] = {
    "DRINO": "Drin", "LUMI I DRINIT TE ZI": "Black Drin (Crni Drim)", "LIM": "Lim",
    "NORIN": "Naryn", "SYR DARYA": "Syr Darya", "KARADAR'YA": "Kara Darya",
    "CHIRCHIQ": "sub_basin:Chirchik",  # the Chirchik reaches are unnamed; their sub-basin is named
}

#: Stations of the network's rivers that the discharge model does not use, with the reason.
EXCLUDED_GAUGES: dict[int, str] = {
    2316204: ("excluded: long-term mean 201.3 m3/s is lower than Kazalinsk (325.2) downstream with no "
              "tributary between them; its record (1937-1985) misses 32 % of the months. Kept for the "
              "leave-one-out comparison only"),
}

#: Farthest a gauge may lie from a reach of its river and still be placed on it (km).
MAX_GAUGE_KM = 15.0
#: Weight of the distance (per km) against the drainage-area mismatch ``|ln(upland/area)|`` when a
#: gauge is placed on a DEM network (1 km costs as much as a 1 % area mismatch).
AREA_MATCH_KM_WEIGHT = 0.01
#: Farthest a GRanD dam may lie from the downstream end of a waterbody on the network (km).
MAX_DAM_KM = 12.0

_GRANDNAME_ALIASES = {"andizhan": "andijan", "chardara": "shardara", "vaudejes": "vauidejes"}


def _key(name: Any) -> str:
    """ASCII, lower-case, letters only, without generic words (reservoir, dam, lake) and digits."""
    s = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"\b(reservoir|dam|lake|hpp|jezero)\b", " ", s)
    s = re.sub(r"[^a-z]+", "", s)
    return _GRANDNAME_ALIASES.get(s, s)


def _read_gauges(sources: Path) -> pd.DataFrame:
    f = sources / GAUGES_SRC
    if not f.is_file():
        raise RiskmapInputError(f"{f}: GRDC station table not found (see grdc-station-catalogue/SOURCE.md)")
    g = pd.read_csv(f)
    need = {"grdc_no", "river", "station", "lat", "long", "area", "lta_discharge", "boxes", "m_start", "m_end"}
    missing = need - set(g.columns)
    if missing:
        raise RiskmapInputError(f"{f}: missing column(s) {sorted(missing)}")
    return g


def _place_gauges(g: pd.DataFrame, basin: str, reaches: gpd.GeoDataFrame) -> pd.DataFrame:
    """Place each station of the basin box on the nearest reach of its river (vectorised per basin)."""
    sub = g[g["boxes"].astype(str).str.split("|").map(lambda b: BASINS[basin] in b)].copy()
    out = pd.DataFrame({
        "basin": basin, "grdc_no": sub["grdc_no"].astype(int).values,
        "river": sub["river"].values, "station": sub["station"].values,
        "country": sub.get("country", pd.Series([None] * len(sub))).values,
        "lon": sub["long"].astype(float).values, "lat": sub["lat"].astype(float).values,
        "area_km2": np.where(sub["area"].astype(float) > 0, sub["area"].astype(float), np.nan),
        "mean_m3s": np.where(sub["lta_discharge"].astype(float) > 0, sub["lta_discharge"].astype(float), np.nan),
        "period": [f"{int(a)}-{int(b)}" if pd.notna(a) and pd.notna(b) else "unknown"
                   for a, b in zip(sub["m_start"], sub["m_end"])],
        "missing_months_pct": sub.get("m_miss", pd.Series([np.nan] * len(sub))).astype(float).round(1).values,
    })
    out["network_river"] = out["river"].map(GRDC_RIVER_NAMES)
    out["reach_id"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["reach_frac"] = np.nan
    out["distance_km"] = np.nan
    out["status"] = "not on the network: its river is not a river of the bundled network"
    if out.empty:
        return out
    c = reaches.geometry.union_all().centroid
    crs = local_aeqd(c.x, c.y)
    rp = reaches.to_crs(crs)
    pts = np.asarray(gpd.GeoSeries(gpd.points_from_xy(out["lon"], out["lat"]), crs=4326).to_crs(crs).array, dtype=object)
    for river, idx in out.groupby("network_river").groups.items():
        sel = (rp[rp["sub_basin"] == river.split(":", 1)[1]] if river.startswith("sub_basin:")
               else rp[rp["name"] == river])
        if sel.empty:
            continue
        pos = out.index.get_indexer(idx)
        rows, near_j, dist = _nearest_reach(sel, pts[pos], out["area_km2"].to_numpy(dtype=float)[pos])
        rows = pos[rows]
        lines = sel.geometry.values[near_j]
        frac = shapely.line_locate_point(lines, pts[rows], normalized=True)
        ok = dist <= MAX_GAUGE_KM * 1000
        out.iloc[rows[ok], out.columns.get_loc("reach_id")] = sel["reach_id"].values[near_j][ok]
        out.iloc[rows[ok], out.columns.get_loc("reach_frac")] = np.round(frac[ok], 4)
        out.iloc[rows, out.columns.get_loc("distance_km")] = np.round(dist / 1000, 2)
        out.iloc[rows[ok], out.columns.get_loc("status")] = "used"
        out.iloc[rows[~ok], out.columns.get_loc("status")] = (
            f"not placed: more than {MAX_GAUGE_KM:g} km from the mapped {river}")
    for no, why in EXCLUDED_GAUGES.items():
        out.loc[(out["grdc_no"] == no) & (out["status"] == "used"), "status"] = why
    out.loc[(out["status"] == "used") & out["mean_m3s"].isna(), "status"] = "excluded: no long-term mean"
    return out.sort_values(["basin", "grdc_no"]).reset_index(drop=True)


def _nearest_reach(sel: gpd.GeoDataFrame, pts: np.ndarray, area_km2: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reach of ``sel`` each gauge point lies on: nearest, or best drainage-area match on a DEM network.

    Where the reaches carry the DEM drainage area ``upland_km2`` and the gauge a
    catchment area, the candidates are the river's reaches within
    :data:`MAX_GAUGE_KM`; the one minimising ``|ln(upland / area)| +
    AREA_MATCH_KM_WEIGHT * distance_km`` wins (a gauge on the Naryn main stem is
    not put on a 2,000 km2 side channel that passes closer to it). Otherwise the
    nearest reach.

    Returns
    -------
    tuple of ndarray
        Positions into ``pts``, positions into ``sel`` and distances (m).
    """
    tree = shapely.STRtree(sel.geometry.values)
    near, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    rows, js, ds = near[0].copy(), near[1].copy(), np.asarray(dist, dtype=float).copy()
    if "upland_km2" not in sel.columns:
        return rows, js, ds
    up = sel["upland_km2"].to_numpy(dtype=float)
    pi, cj = tree.query(pts, predicate="dwithin", distance=MAX_GAUGE_KM * 1000)
    if not len(pi):
        return rows, js, ds
    cd = shapely.distance(pts[pi], sel.geometry.values[cj])
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.abs(np.log(up[cj] / area_km2[pi])) + AREA_MATCH_KM_WEIGHT * cd / 1000
    cand = pd.DataFrame({"p": pi, "j": cj, "d": cd, "score": score}).dropna(subset=["score"])
    best = cand.sort_values(["p", "score"]).drop_duplicates("p").set_index("p")
    k = np.flatnonzero(np.isin(rows, best.index))
    js[k] = best.loc[rows[k], "j"].to_numpy()
    ds[k] = best.loc[rows[k], "d"].to_numpy()
    return rows, js, ds


def _cited_lakes() -> list[dict[str, Any]]:
    from riskmap.params import load_discharge_table

    return list(load_discharge_table(None).get("lake", []))


def _match_reservoirs(grand: pd.DataFrame, basin: str, reaches: gpd.GeoDataFrame,
                      cited: list[dict[str, Any]]) -> pd.DataFrame:
    """Every waterbody on the basin's reaches with a volume: GRanD, else cited, else unknown."""
    from riskmap.discharge import _variants

    r = reaches[reaches["waterbody"].fillna("").astype(str).str.strip() != ""]
    if r.empty:
        return pd.DataFrame()
    c = reaches.geometry.union_all().centroid
    crs = local_aeqd(c.x, c.y)
    ids = set(reaches["reach_id"])
    down = dict(zip(reaches["reach_id"], reaches["downstream_id"]))
    g = grand[grand["boxes"].astype(str).str.split("|").map(lambda b: BASINS[basin] in b)]
    gp = np.asarray(gpd.GeoSeries(gpd.points_from_xy(g["DamLon"], g["DamLat"]), crs=4326).to_crs(crs).array, dtype=object)
    rows = []
    for wb, grp in r.groupby("waterbody", sort=True):
        members = set(grp["reach_id"])
        outs = grp[[down[x] not in members or down[x] not in ids for x in grp["reach_id"]]]
        ends = gpd.GeoSeries(shapely.line_interpolate_point(outs.geometry.values, 1.0, normalized=True),
                             crs=4326).to_crs(crs)
        wbgeom = gpd.GeoSeries(grp.geometry.values, crs=4326).to_crs(crs).union_all()
        end_pts = np.asarray(ends.array, dtype=object)
        d_end = shapely.distance(gp[:, None], end_pts[None, :]).min(axis=1) if len(gp) else np.array([])
        d_wb = shapely.distance(gp, wbgeom) if len(gp) else np.array([])
        name_ok = np.array([_key(n) and (_key(n) in _key(wb) or _key(wb) in _key(n))
                            for n in g["DamName"].str.replace("_", " ")], dtype=bool)
        cand = np.flatnonzero(name_ok & (np.fmin(d_end, d_wb) <= MAX_DAM_KM * 1000))
        row = dict(basin=basin, waterbody=wb, kind="lake" if "lake" in wb.lower() or "prespa" in wb.lower()
                   else "reservoir", outflow_reach_id=int(outs["reach_id"].iloc[0]),
                   grand_id=pd.NA, grand_name=None, dam_distance_km=np.nan, volume_m3=np.nan,
                   volume_source="unknown", citation=None)
        if len(cand):
            j = cand[np.argmin(d_end[cand])]
            row.update(grand_id=int(g["GRAND_ID"].iloc[j]), grand_name=str(g["DamName"].iloc[j]),
                       dam_distance_km=round(float(d_end[j]) / 1000, 2),
                       volume_m3=float(g["TotalVol_mcm"].iloc[j]) * 1e6, volume_source="GRanD v1.3",
                       citation="GRanD v1.3 total storage (CAP_MCM) via the CaMa-Flood dam table; "
                                "Lehner et al. (2011), doi:10.1890/100125")
        else:
            keys = _variants(wb)
            hit = next((lk for lk in cited if keys & (set(_variants(lk["name"])).union(
                *(_variants(a) for a in lk.get("aliases", []))))), None)
            if hit is not None:
                row.update(volume_m3=float(hit["volume_m3"]), volume_source="cited",
                           citation=str(hit.get("citation", "")))
        rows.append(row)
    out = pd.DataFrame(rows)
    out["consequence"] = np.where(
        out["volume_source"] == "unknown",
        "no volume: routed as river (no retention, no dilution); concentrations below it are upper "
        "bounds and arrival times lower bounds", "")
    return out


def build_hydrology(sources: str | Path, out_dir: str | Path, *, build_date: str | None = None
                    ) -> dict[str, Any]:
    """Build ``gauges.csv``, ``reservoirs.csv`` and their provenance in ``out_dir``.

    Parameters
    ----------
    sources : path
        Folder of the public source datasets (``grdc-station-catalogue``, ``grand-reservoirs``).
    out_dir : path
        The basins folder holding ``<basin>.gpkg`` (read) and receiving the tables.
    build_date : str, optional
        ISO date recorded in the provenance (default: now, UTC).

    Returns
    -------
    dict
        ``gauges`` and ``gauges_used`` counts, ``reservoirs`` and ``with_volume`` counts, ``out_dir``.

    Examples
    --------
    >>> build_hydrology("../shared/data/sources", "data/basins")  # doctest: +SKIP
    """
    from riskmap.hydrography import load_basin

    sources, out = Path(sources), Path(out_dir)
    g = _read_gauges(sources)
    gf = sources / GRAND_SRC
    if not gf.is_file():
        raise RiskmapInputError(f"{gf}: GRanD table not found (see grand-reservoirs/SOURCE.md)")
    grand = pd.read_csv(gf)
    cited = _cited_lakes()
    gauges, res = [], []
    for b in BASINS:
        reaches = load_basin(b, data_dir=out.parent if (out / f"{b}.gpkg").exists() else None).reaches
        reaches = reaches.to_crs(4326)
        gauges.append(_place_gauges(g, b, reaches))
        res.append(_match_reservoirs(grand, b, reaches, cited))
    gauges_df = pd.concat(gauges, ignore_index=True)
    res_df = pd.concat(res, ignore_index=True)
    # station, river and dam names are source text: neutralised like every CSV riskmap writes
    atomic_write_text(out / "gauges.csv", csv_text(gauges_df))
    atomic_write_text(out / "reservoirs.csv", csv_text(res_df))
    date = build_date or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _write_provenance(out, sources, date, gauges_df, res_df)
    return dict(gauges=len(gauges_df), gauges_used=int((gauges_df["status"] == "used").sum()),
                reservoirs=len(res_df), with_volume=int(res_df["volume_m3"].notna().sum()),
                out_dir=str(out))


def _riskmap_version() -> str:
    """The package version only (not the data hash: the build must not record its own output)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("riskmap")
    except PackageNotFoundError:
        return "unknown"


def _write_provenance(out: Path, sources: Path, date: str, gauges: pd.DataFrame, res: pd.DataFrame) -> None:
    version_string = _riskmap_version

    srcs = [
        dict(dataset="grdc-station-catalogue", path=str(GAUGES_SRC), sha256=sha256_file(sources / GAUGES_SRC),
             licence="GRDC station metadata, published openly by GRDC",
             attribution="The Global Runoff Data Centre, 56068 Koblenz, Germany (station catalogue)",
             use="gauges.csv: long-term mean discharge and catchment area (period per station)"),
        dict(dataset="grand-reservoirs", path=str(GRAND_SRC), sha256=sha256_file(sources / GRAND_SRC),
             licence="GRanD v1.3: free of charge for non-commercial use with citation (Global Dam Watch); "
                     "users may replace the volumes",
             attribution="Lehner, B., et al. (2011) High-resolution mapping of the world's reservoirs and dams "
                         "for sustainable river-flow management. Front. Ecol. Environ. 9(9): 494-502, "
                         "doi:10.1890/100125",
             use="reservoirs.csv: total storage volume (TotalVol_mcm = GRanD CAP_MCM)"),
    ]
    steps = [
        ("gauges: stations of the source's basin box; river names mapped to the network's "
         f"({', '.join(f'{k} -> {v}' for k, v in GRDC_RIVER_NAMES.items())}); placed on the nearest reach of "
         f"that river within {MAX_GAUGE_KM:g} km (local azimuthal equidistant projection); on a DEM "
         "network (reaches with `upland_km2`) the reach of that river within that distance whose DEM "
         "drainage area best matches the GRDC catchment area (score |ln(upland/area)| + "
         f"{AREA_MATCH_KM_WEIGHT:g} x km); "
         "catchment area -999 -> NaN; excluded stations listed in `status` with the reason"),
        ("reservoirs: every `waterbody` on the basin's reaches; GRanD dam of the same name within "
         f"{MAX_DAM_KM:g} km of the waterbody's outflow (or of its reaches); else the cited volume of "
         "riskmap/params/discharge.toml; else 'unknown' with the consequence for the spill model"),
        "no raw rows are copied: only the fields listed above, per station and per waterbody",
    ]
    prov = dict(product="riskmap hydrology tables (data/basins/gauges.csv, reservoirs.csv)",
                builder="riskmap data build-hydrology (riskmap/databuild/hydrology.py)",
                riskmap_version=version_string(), build_date=date, sources=srcs, processing=steps,
                counts=dict(gauges=len(gauges), gauges_used=int((gauges["status"] == "used").sum()),
                            reservoirs=len(res), reservoirs_with_volume=int(res["volume_m3"].notna().sum())))
    atomic_write_text(out / "PROVENANCE.hydrology.json", json.dumps(prov, indent=2, ensure_ascii=False) + "\n")
    md = ["# Provenance of data/basins/gauges.csv and reservoirs.csv", "",
          f"Built by `riskmap data build-hydrology` (riskmap {version_string()}) on {date}.", "", "## Sources", ""]
    for s in srcs:
        md += [f"- **{s['dataset']}** (`{s['path']}`, sha256 `{s['sha256']}`): {s['use']}. "
               f"Licence: {s['licence']}. Attribution: {s['attribution']}."]
    md += ["", "## Processing", ""] + [f"- {x}" for x in steps] + [""]
    atomic_write_text(out / "PROVENANCE.hydrology.md", "\n".join(md))
