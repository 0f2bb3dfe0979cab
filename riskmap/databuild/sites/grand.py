"""GRanD v1.3 reservoirs (via the CaMa-Flood dam parameter table): names and storage volumes.

GRanD is joined to the other sources in two ways (:func:`attach_grand`):

1. **on the GRanD id** that GeoDAR records carry (``ID_GRDv13``): the GeoDAR
   dam gets the GRanD name (``name_source = grand``), ``grand:<id>`` in its
   ``source_refs`` and, when GeoDAR has none, GRanD's total storage
   (``TotalVol_mcm`` x 1e6) as ``reservoir_volume_m3``;
2. GRanD dams that no GeoDAR record carries become their own ``dam_reservoir``
   records (``site_id`` ``grand-<id>``, exact coordinates); the build keeps
   them only when they lie inside a basin, and de-duplicates them like any
   other source.

After de-duplication, :func:`fill_grand_volumes` gives dam sites still without
a volume the storage of the GRanD dam they match by location and name
(:data:`MATCH_KM` with a name score >= :data:`MIN_NAME_SCORE`, or within
:data:`NEAR_KM` whatever the name; each GRanD dam used once, nearest first).

Terms: GRanD v1.3 is released by the Global Dam Watch partners free of charge
for non-commercial use with the citation below; the volumes in the inventory
carry that licence in ``licence``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from riskmap._geo import GEOD

from riskmap.databuild.sites._common import SourceResult, make_sites, points, read_csv, refs, to_number, valid_xy

__all__ = ["read_grand_table", "attach_grand", "fill_grand_volumes", "MATCH_KM", "NEAR_KM", "MIN_NAME_SCORE"]

DIR = "grand-reservoirs"
FILE = "grand_dams_riskmap_boxes.csv"
KEY = "grand"
LICENCE = "GRanD v1.3: free for non-commercial use with citation (Global Dam Watch)"
ATTRIBUTION = ("Lehner, B., et al. (2011) High-resolution mapping of the world's reservoirs and dams for "
               "sustainable river-flow management. Frontiers in Ecology and the Environment 9(9): 494-502, "
               "doi:10.1890/100125 (GRanD v1.3, storage via the CaMa-Flood v4 dam parameter table, Apache-2.0 code).")
#: Location + name rule for dams without a GRanD id (geodesic km).
MATCH_KM = 3.0
MIN_NAME_SCORE = 0.6
NEAR_KM = 1.0
_GEOD = GEOD


def grand_name(raw: str) -> str:
    """Readable GRanD name: ``'Bajina_Basta'`` -> ``'Bajina Basta'``, ``'Komani_Dam'`` -> ``'Komani'``."""
    s = re.sub(r"_+", " ", str(raw)).strip()
    s = re.sub(r"\s+dam$", "", s, flags=re.I)
    return s


def read_grand_table(sources_dir: Path) -> tuple[pd.DataFrame, Path]:
    """The GRanD rows of the boxes: ``grand_id`` (int), ``name``, ``lon``, ``lat``, ``volume_m3``."""
    path = Path(sources_dir) / DIR / FILE
    raw = read_csv(path)
    ok = valid_xy(raw["DamLon"], raw["DamLat"])
    t = pd.DataFrame({
        "grand_id": to_number(raw["GRAND_ID"]).astype("Int64"), "name": raw["DamName"].map(grand_name),
        "lon": to_number(raw["DamLon"]), "lat": to_number(raw["DamLat"]),
        "volume_m3": to_number(raw["TotalVol_mcm"], missing=(-999,)) * 1e6,
    })[ok].reset_index(drop=True)
    return t, path


def attach_grand(results: list[SourceResult], sources_dir: Path) -> SourceResult:
    """Name GeoDAR dams after GRanD (on the GRanD id) and return the unmatched GRanD dams as a source.

    Modifies the ``geodar`` result's sites in place (``name``, ``name_source``,
    ``source_refs``, ``reservoir_volume_m3``, ``licence``, ``notes``).
    """
    table, path = read_grand_table(sources_dir)
    by_id = table.set_index("grand_id")
    geo = next((r for r in results if r.key == "geodar"), None)
    matched: set[int] = set()
    if geo is not None and len(geo.sites):
        s = geo.sites
        gid = s["notes"].astype(str).str.extract(r"GRanD v1\.3 id (\d+)", expand=False)
        gid = pd.to_numeric(gid, errors="coerce").astype("Int64")
        hit = gid.notna() & gid.isin(by_id.index)
        rows = by_id.loc[gid[hit].astype(int)]
        s.loc[hit, "name"] = (rows["name"] + " dam").to_numpy()
        s.loc[hit, "name_source"] = KEY
        s.loc[hit, "alt_names"] = "Dam (GeoDAR " + s.loc[hit, "source_id"].astype(str) + ")"
        s.loc[hit, "source_refs"] = [json.dumps(json.loads(r) + [f"{KEY}:{g}"], ensure_ascii=False)
                                     for r, g in zip(s.loc[hit, "source_refs"], gid[hit])]
        novol = hit & s["reservoir_volume_m3"].isna()
        s.loc[novol, "reservoir_volume_m3"] = by_id.loc[gid[novol].astype(int), "volume_m3"].to_numpy()
        s.loc[hit, "licence"] = s.loc[hit, "licence"].astype(str) + "; name" + \
            novol[hit].map({True: " and volume", False: ""}) + f" from {LICENCE}"
        s.loc[hit, "notes"] = s.loc[hit, "notes"].astype(str).str.replace(
            "; GeoDAR has no dam names", "; name from GRanD v1.3 (joined on the GRanD id)", regex=False)
        matched = set(int(g) for g in gid[hit])
    rest = table[~table["grand_id"].isin(list(matched))].reset_index(drop=True)
    ids = rest["grand_id"].astype(int).astype(str)
    sites = make_sites({
        "site_id": "grand-" + ids, "name": rest["name"], "category": "dam_reservoir", "status": "unknown",
        "country": None, "coord_precision": "exact", "source": KEY, "source_id": ids,
        "source_url": "https://www.globaldamwatch.org/grand", "licence": LICENCE, "last_verified": None,
        "source_refs": refs(KEY, ids), "reservoir_volume_m3": rest["volume_m3"], "name_source": KEY,
        "notes": "GRanD v1.3 dam not in GeoDAR's AOI subset; volume = GRanD total storage (TotalVol_mcm)",
    }, points(rest["lon"], rest["lat"]))
    res = SourceResult(KEY, "GRanD v1.3 reservoirs (via CaMa-Flood dam parameters)", sites, len(table),
                       Counter(), LICENCE, ATTRIBUTION, [path], "v1.3 (table 2023-10)")
    res.aggregation = f"{len(matched)} GRanD dams joined to GeoDAR records on the GRanD id (not counted as sites)"
    return res


def fill_grand_volumes(sites: gpd.GeoDataFrame, sources_dir: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Fill ``reservoir_volume_m3`` of dam sites without a volume from the matching GRanD dam.

    A site carrying ``grand:<id>`` in ``source_refs`` takes that dam's volume;
    other dam sites take the nearest unused GRanD dam within :data:`MATCH_KM`
    with a name score >= :data:`MIN_NAME_SCORE`, or within :data:`NEAR_KM`.

    Returns
    -------
    sites : geopandas.GeoDataFrame
    joins : pandas.DataFrame
        One row per filled volume: ``site_id``, ``grand_id``, ``grand_name``, ``distance_km``,
        ``name_score``, ``rule``.
    """
    from riskmap.databuild.sites.dedupe import name_score

    table, _ = read_grand_table(sources_dir)
    out = sites.copy()
    is_dam = (out["category"] == "dam_reservoir") & (out.geom_type == "Point")
    refs_ = out["source_refs"].fillna("[]").map(json.loads)
    gid_of = refs_.map(lambda rs: next((int(r.split(":", 1)[1]) for r in rs if r.startswith(f"{KEY}:")), None))
    used = set(int(g) for g in gid_of.dropna())
    rows = []
    need = is_dam & out["reservoir_volume_m3"].isna()
    vol = table.set_index("grand_id")["volume_m3"]
    for i in np.flatnonzero(need & gid_of.notna()):
        g = int(gid_of.iloc[i])
        if g in vol.index and pd.notna(vol[g]):
            out.iloc[i, out.columns.get_loc("reservoir_volume_m3")] = float(vol[g])
            rows.append((out["site_id"].iloc[i], g, table.set_index("grand_id").loc[g, "name"], 0.0, None,
                         "GRanD id in source_refs"))
    cand = np.flatnonzero(need & gid_of.isna())
    free = table[~table["grand_id"].isin(list(used))].reset_index(drop=True)
    if len(cand) and len(free):
        x = out.geometry.iloc[cand].x.to_numpy()
        y = out.geometry.iloc[cand].y.to_numpy()
        ii, jj = np.meshgrid(np.arange(len(cand)), np.arange(len(free)), indexing="ij")
        ii, jj = ii.ravel(), jj.ravel()  # type: ignore[assignment]
        _, _, d = _GEOD.inv(x[ii], y[ii], free["lon"].to_numpy()[jj], free["lat"].to_numpy()[jj])
        d_km = np.asarray(d) / 1000.0
        close = d_km <= MATCH_KM
        pairs = []
        for a, b, dk in zip(ii[close], jj[close], d_km[close]):  # a handful of candidate pairs
            sc = name_score(out["name"].iloc[cand[a]], free["name"].iloc[b])
            if dk <= NEAR_KM or sc >= MIN_NAME_SCORE:
                pairs.append((dk, a, b, sc))
        taken_s, taken_g = set(), set()
        for dk, a, b, sc in sorted(pairs):
            if a in taken_s or b in taken_g or pd.isna(free["volume_m3"].iloc[b]):
                continue
            taken_s.add(a)
            taken_g.add(b)
            i = cand[a]
            out.iloc[i, out.columns.get_loc("reservoir_volume_m3")] = float(free["volume_m3"].iloc[b])
            g = int(free["grand_id"].iloc[b])
            out.iloc[i, out.columns.get_loc("source_refs")] = json.dumps(
                sorted(set(refs_.iloc[i]) | {f"{KEY}:{g}"}), ensure_ascii=False)
            rule = f"within {NEAR_KM:g} km" if dk <= NEAR_KM else \
                f"within {MATCH_KM:g} km and name score >= {MIN_NAME_SCORE:g}"
            rows.append((out["site_id"].iloc[i], g, free["name"].iloc[b], round(float(dk), 3), sc, rule))  # type: ignore[arg-type]
    joins = pd.DataFrame(rows, columns=["site_id", "grand_id", "grand_name", "distance_km", "name_score", "rule"])
    filled = out["site_id"].isin(joins["site_id"])
    if filled.any():
        out.loc[filled, "licence"] = out.loc[filled, "licence"].fillna("").astype(str).map(
            lambda s: "; ".join(filter(None, [s, f"reservoir volume: {LICENCE}"])))
        out.loc[filled, "notes"] = out.loc[filled, "notes"].map(
            lambda s: "; ".join(filter(None, [s if isinstance(s, str) else "",
                                              "reservoir_volume_m3 from GRanD v1.3 total storage"])))
    return out, joins.sort_values("site_id").reset_index(drop=True)
