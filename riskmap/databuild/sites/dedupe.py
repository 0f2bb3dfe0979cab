"""De-duplicate sites reported by several sources.

The same facility often appears in several sources (a coal plant in WRI GPPD
and the GEM coal tracker, a dam in GEM hydropower, GPPD and GeoDAR, a
literature record that copied GEM's coordinates). :func:`dedupe_sites` finds
such records by geodesic distance and name similarity (after transliteration
and removal of generic words) and merges them into one site that keeps every
source reference, with conflicting attribute values written to ``notes``.

Thresholds, category groups and the precedence of sources are data in
``riskmap/databuild/sites/mappings.toml`` (section ``[dedupe]``).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from riskmap._geo import GEOD

from riskmap._text import transliterate
from riskmap.schema import COLUMNS, NUMERIC_COLUMNS

__all__ = ["transliterate", "name_key", "name_score", "dedupe_sites"]

_GEOD = GEOD

_DIGRAPHS = (("shch", "sc"), ("sh", "s"), ("zh", "z"), ("ch", "c"), ("kh", "h"), ("ts", "c"), ("dzh", "dz"))

_GENERIC = {
    "power", "station", "plant", "thermal", "thermoelectric", "hydroelectric", "hydropower", "hydro",
    "electric", "electricity", "tpp", "hpp", "chp", "tec", "tes", "te", "he", "hes", "ges", "gres", "grez",
    "tets", "tez", "ies", "dam", "dams", "reservoir", "and", "the", "of", "project", "complex", "unit",
    "units", "lignite", "coal", "gas", "fired", "combined", "cycle", "ccgt", "cogeneration", "heat",
    "hidroelektrana", "termoelektrana", "elektrana", "former", "i", "ii", "iii",
    "cascade", "lake", "jsc", "llc", "ao", "oao", "ojsc", "ltd", "state", "district", "heating",
    # country names, appended to plant names by some GPPD sources
    "albania", "bosnia", "herzegovina", "montenegro", "macedonia", "north", "serbia", "kosovo", "kyrgyzstan",
    "tajikistan", "uzbekistan", "kazakhstan", "russian", "uzbek",
}



def name_key(name: Any) -> str:
    """Comparison key of a facility name: transliterated, lower case, generic words removed.

    English and South-Slavic spellings are folded together (``sh``/``š`` ->
    ``s``, ``zh``/``ž`` -> ``z``, ``ch``/``č`` -> ``c``, ``kh`` -> ``h``).

    Examples
    --------
    >>> name_key("Pljevlja power station")
    'pljevlja'
    >>> name_key("ТЕ Пљевља")
    'pljevlja'
    >>> name_key("Višegrad hydroelectric plant") == name_key("HPP Visegrad")
    True
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    s = transliterate(str(name)).lower()
    s = re.sub(r"[^a-z0-9]+", " ", s)
    for a, b in _DIGRAPHS:
        s = s.replace(a, b)
    tokens = s.split()
    kept = [t for t in tokens if t not in _GENERIC and not t.isdigit()]
    return " ".join(kept or tokens)


def _tok_eq(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8)


def name_score(a: Any, b: Any) -> float:
    """Similarity of two names in 0..1 (1 = same after :func:`name_key`).

    The larger of the string similarity of the two keys and the share of the
    shorter key's words found (fuzzily) in the longer one, discounted by up to
    30 % when the longer name has more words ("Angren" vs "Novo-Angren" 0.85).

    Examples
    --------
    >>> name_score("Pljevlja power station", "ТЕ Пљевља")
    1.0
    >>> name_score("Angren power station", "Novo-Angren power station")
    0.85
    >>> name_score("Fierza", "Koman") < 0.5
    True
    """
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return 0.0
    ratio = difflib.SequenceMatcher(None, ka, kb).ratio()
    ta, tb = ka.split(), kb.split()
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    hits = sum(any(_tok_eq(s, t) for t in long_) for s in short)
    # containment, discounted when the longer name has many more words
    contained = hits / len(short) * (0.7 + 0.3 * len(short) / len(long_))
    return round(max(ratio, contained), 3)


# --------------------------------------------------------------------------


def _cfg() -> dict[str, Any]:
    from riskmap.databuild.sites._common import mappings

    return mappings()["dedupe"]


def _family(sources: pd.Series, cfg: dict[str, Any]) -> np.ndarray:
    """Source family of each record; two records of one family are never merged.

    Sources sharing a listed prefix (e.g. all GEM trackers) are one family;
    records of a source that indexes several databases and repeats
    facilities (``self_duplicating_sources``) each form their own family.
    """
    out = sources.astype(str).to_numpy().astype(object)
    for p in cfg.get("family_prefixes", []):
        out = np.where(np.char.startswith(out.astype(str), p), p, out)
    selfdup = np.isin(out.astype(str), cfg.get("self_duplicating_sources", []))
    out[selfdup] = [f"{s}#{k}" for s, k in zip(out[selfdup], np.flatnonzero(selfdup))]
    return out


def _group_of(categories: pd.Series, groups: list[list[str]]) -> np.ndarray:
    lookup = {c: i for i, g in enumerate(groups) for c in g}
    return np.array([lookup.get(c, 1000 + hash(c) % 1000) for c in categories])


def _candidate_pairs(sites: gpd.GeoDataFrame, max_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) of point sites within ``max_km`` (geodesic)."""
    geom = sites.geometry.values
    is_pt = np.asarray(sites.geom_type == "Point")
    idx = np.flatnonzero(is_pt)
    if len(idx) < 2:
        e = np.array([], dtype=int)
        return e, e, np.array([], dtype=float)
    x = np.asarray(geom[idx].x)
    y = np.asarray(geom[idx].y)
    ii, jj = np.triu_indices(len(idx), k=1)
    # cheap pre-filter: 1 degree of latitude > 110 km, of longitude at 50N > 70 km
    near = (np.abs(y[ii] - y[jj]) * 110.0 <= max_km * 1.05) & \
           (np.abs(x[ii] - x[jj]) * 110.0 * np.cos(np.radians(np.maximum(np.abs(y[ii]), np.abs(y[jj])) + 1))
            <= max_km * 1.05)
    ii, jj = ii[near], jj[near]
    _, _, d = _GEOD.inv(x[ii], y[ii], x[jj], y[jj])
    d_km = np.asarray(d) / 1000.0
    keep = d_km <= max_km
    return idx[ii[keep]], idx[jj[keep]], d_km[keep]


def _match_pairs(sites: gpd.GeoDataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    rules = cfg["rules"]
    max_km = max(r["max_km"] for r in rules)
    i, j, d = _candidate_pairs(sites, max_km)
    cols = ["i", "j", "distance_km", "name_score", "rule", "priority"]
    if len(i) == 0:
        return pd.DataFrame(columns=cols)
    src = _family(sites["source"], cfg)
    grp = _group_of(sites["category"], cfg["category_groups"])
    same_src = src[i] == src[j]
    same_grp = grp[i] == grp[j]
    i, j, d = i[~same_src & same_grp], j[~same_src & same_grp], d[~same_src & same_grp]
    names = sites["name"].to_numpy()
    unnamed = sites["source"].isin(cfg["unnamed_sources"]).to_numpy()
    # a record of an unnamed source that another source named (a GeoDAR dam named after GRanD on the
    # GRanD id) still matches by the unnamed-source rules, and also by the name rules
    named_by = sites["name_source"] if "name_source" in sites.columns else pd.Series([None] * len(sites))
    nameless = unnamed & ~(named_by.notna().to_numpy() & (named_by.to_numpy() != sites["source"].to_numpy()))
    cat = sites["category"].to_numpy()
    prec = sites["coord_precision"].to_numpy()
    rows = []
    for a, b, dist in zip(i, j, d):  # few candidate pairs; not a per-site hot path
        score = 0.0 if (nameless[a] or nameless[b]) else name_score(names[a], names[b])
        for k, r in enumerate(rules):
            if dist > r["max_km"]:
                continue
            if "categories" in r and cat[a] not in r["categories"]:
                continue
            if r.get("unnamed") and not (unnamed[a] or unnamed[b]):
                continue
            if not r.get("unnamed") and (nameless[a] or nameless[b]):
                continue
            if score < r.get("min_name_score", 0.0):
                continue
            if "precisions" in r and not (prec[a] in r["precisions"] or prec[b] in r["precisions"]):
                continue
            if "both_precisions" in r and not (prec[a] in r["both_precisions"] and prec[b] in r["both_precisions"]):
                continue
            rows.append((a, b, round(float(dist), 3), score, r["name"], k))
            break
    return pd.DataFrame(rows, columns=cols)


def _pos(order: list[str], value: Any) -> int:
    try:
        return order.index(value)
    except ValueError:
        return len(order)


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _merge_cluster(recs: list[dict[str, Any]], geoms: list[Any], cfg: dict[str, Any],
                   ) -> tuple[dict[str, Any], Any, str]:
    """Merge the records of one cluster (plain dicts). Returns (record, geometry, primary site_id)."""
    prec = cfg["precedence"]
    unnamed = set(cfg["unnamed_sources"])

    def order(key: str) -> list[int]:
        return sorted(range(len(recs)), key=lambda k: (_pos(prec[key], recs[k]["source"]), recs[k]["site_id"]))

    by_id = order("identity")
    primary = recs[by_id[0]]
    rec: dict[str, Any] = {c.name: primary.get(c.name) for c in COLUMNS}
    notes: list[str] = []
    for col, key in (("category", "category"), ("status", "status")):
        ranked = [recs[k] for k in order(key) if not _missing(recs[k].get(col))]
        informative = [r for r in ranked if not (col == "status" and r[col] == "unknown")]
        rec[col] = informative[0][col] if informative else (ranked[0][col] if ranked else rec[col])
        if len({r[col] for r in informative}) > 1:
            notes.append(f"{col}: " + "; ".join(f"{r['source']} {r[col]}" for r in informative))
    xy_order = sorted(range(len(recs)), key=lambda k: (
        _pos(prec["coord_precision"], recs[k]["coord_precision"]), _pos(prec["coordinates"], recs[k]["source"]),
        recs[k]["site_id"]))
    xy = recs[xy_order[0]]
    rec["coord_precision"] = xy["coord_precision"]
    if xy["site_id"] != primary["site_id"]:
        notes.append(f"coordinates from {xy['source']}:{xy['source_id']} ({xy['coord_precision']})")
    notes += _merge_numbers(rec, [recs[k] for k in order("numbers")])
    for col in ("country", "source_url", "tailings_type", "dam_condition", "substances"):
        if _missing(rec[col]):
            vals = [recs[k][col] for k in by_id if not _missing(recs[k].get(col))]
            rec[col] = vals[0] if vals else None
    other = sorted({r["name"] for r in recs if r["source"] not in unnamed and not _missing(r["name"])
                    and r["name"] != rec["name"]})
    if other:
        notes.append("also named: " + " | ".join(other))
    ranked_recs = [recs[k] for k in by_id]
    rec["alt_names"] = _alt_names(ranked_recs, unnamed, rec["name"])
    rec["name_source"] = primary.get("name_source") if not _missing(primary.get("name_source")) \
        else primary["source"]
    _merge_provenance(rec, recs)
    member_notes = [f"[{r['source']}] {r['notes']}" for r in ranked_recs
                    if isinstance(r.get("notes"), str) and r["notes"].strip()]
    parts = (["merged: " + "; ".join(notes)] if notes else []) + member_notes
    rec["notes"] = " || ".join(parts) or None
    return rec, geoms[xy_order[0]], primary["site_id"]


def _merge_numbers(rec: dict[str, Any], ranked: list[dict[str, Any]]) -> list[str]:
    """Set each numeric column of ``rec`` from the first of the ``ranked`` records that has it.

    Returns the notes on values that differ by more than 1 % between the records.
    """
    notes = []
    for col in NUMERIC_COLUMNS:
        vals = [(r["source"], float(r[col])) for r in ranked if not _missing(r.get(col))]
        rec[col] = vals[0][1] if vals else np.nan
        if len(vals) > 1:
            v = [x for _, x in vals]
            if max(v) - min(v) > 0.01 * max(abs(max(v)), 1e-9):
                notes.append(f"{col}: " + "; ".join(f"{src} {_fmt(x)}" for src, x in vals))
    return notes


def _alt_names(ranked: list[dict[str, Any]], unnamed: set[str], name: Any) -> str | None:
    """The alternative names of a merged site, ``" | "``-separated (None: none).

    The other records' names (those of unnamed sources only when another source named them, e.g. a
    GeoDAR dam named after GRanD) and their own alternative names, in the order of ``ranked``.
    """
    alts: list[str] = []
    for r in ranked:
        cands = [r.get("name")] if (r["source"] not in unnamed or r.get("name_source") not in
                                    (None, r["source"])) else []
        cands += str(r.get("alt_names") or "").split(" | ") if not _missing(r.get("alt_names")) else []
        for a in cands:
            if not _missing(a) and str(a).strip() and str(a).strip() != name and str(a).strip() not in alts:
                alts.append(str(a).strip())
    return " | ".join(alts) or None


def _merge_provenance(rec: dict[str, Any], recs: list[dict[str, Any]]) -> None:
    """Set the licences, the latest ``last_verified`` and the union of the ``source_refs`` of ``recs``."""
    lics = sorted({r["licence"] for r in recs if not _missing(r.get("licence"))})
    rec["licence"] = "; ".join(lics) if lics else None
    dates = sorted(r["last_verified"] for r in recs if not _missing(r.get("last_verified")))
    rec["last_verified"] = dates[-1] if dates else None
    refs: list[str] = []
    for r in recs:
        if isinstance(r.get("source_refs"), str):
            refs.extend(json.loads(r["source_refs"]))
    rec["source_refs"] = json.dumps(sorted(set(refs)), ensure_ascii=False)


def _clusters(sites: gpd.GeoDataFrame, cfg: dict[str, Any]) -> tuple[np.ndarray, pd.DataFrame]:
    """Group the matching records: the cluster root of each row, and the accepted pairs (with ``root``).

    Pairs are accepted best first (rule order, then distance); a pair that would join two records of
    the same source family is refused.
    """
    pairs = _match_pairs(sites, cfg).sort_values(["priority", "distance_km", "i", "j"], kind="mergesort")
    n = len(sites)
    parent = list(range(n))
    srcs: list[set[str]] = [{s} for s in _family(sites["source"], cfg)]

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    accepted = []
    for p in pairs.itertuples(index=False):
        ra, rb = find(p.i), find(p.j)
        if ra == rb or srcs[ra] & srcs[rb]:
            continue
        parent[rb] = ra
        srcs[ra] |= srcs[rb]
        accepted.append(p)
    roots = np.array([find(k) for k in range(n)])
    acc = pd.DataFrame(accepted, columns=pairs.columns)
    acc["root"] = roots[acc["i"].to_numpy()] if len(acc) else []
    return roots, acc


def dedupe_sites(sites: gpd.GeoDataFrame, config: dict[str, Any] | None = None,
                 ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Merge records of the same facility reported by several sources.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites in the schema, from several sources, with ``source_refs`` set
        (a JSON list with the record's own ``source:source_id``).
    config : dict, optional
        The ``[dedupe]`` table (default: from ``mappings.toml``): ``rules``
        (ordered; each with ``name``, ``max_km``, optional ``min_name_score``,
        ``categories``, ``unnamed``, ``precisions`` (either record),
        ``both_precisions``), ``category_groups``,
        ``unnamed_sources`` and ``precedence``.

    Returns
    -------
    merged : geopandas.GeoDataFrame
        One row per facility, sorted by ``site_id``.
    merges : pandas.DataFrame
        One row per merge: ``kept_id``, ``merged_ids`` (JSON list),
        ``sources``, ``distance_km`` (largest matched pair distance),
        ``name_score`` (lowest matched pair score; blank for unnamed
        records), ``reason``.

    Notes
    -----
    Two records of the same source are never merged (a source lists each
    facility once); pairs are accepted best first (rule order, then
    distance), so a chain of near records cannot swallow two facilities of
    the same source.

    Examples
    --------
    >>> merged, merges = dedupe_sites(sites)  # doctest: +SKIP
    """
    cfg = config or _cfg()
    sites = sites.reset_index(drop=True)
    n = len(sites)
    roots, acc = _clusters(sites, cfg)
    singles = pd.Series(roots).value_counts()
    multi = set(singles[singles > 1].index)
    keep_rows = [k for k in range(n) if roots[k] not in multi]
    out = sites.iloc[keep_rows].copy()
    merged_recs, merged_geoms, merge_rows = [], [], []
    unnamed = set(cfg["unnamed_sources"])
    plain = sites.drop(columns=sites.geometry.name).to_dict("records")
    geoms_all = list(sites.geometry.values)
    site_ids = sites["site_id"].to_numpy()
    sources_all = sites["source"].to_numpy()
    for root in sorted(multi, key=lambda r: str(site_ids[r])):
        idx = np.flatnonzero(roots == root)
        rec, geom, kept = _merge_cluster([plain[k] for k in idx], [geoms_all[k] for k in idx], cfg)
        merged_recs.append(rec)
        merged_geoms.append(geom)
        a = acc[acc["root"] == root]
        named_scores = [s for s, ii, jj in zip(a["name_score"], a["i"], a["j"])
                        if sources_all[ii] not in unnamed and sources_all[jj] not in unnamed]
        merge_rows.append({
            "kept_id": kept,
            "merged_ids": json.dumps(sorted(x for x in site_ids[idx] if x != kept)),
            "sources": json.dumps(sorted(sources_all[idx].tolist())),
            "distance_km": round(float(a["distance_km"].max()), 3),
            "name_score": min(named_scores) if named_scores else None,
            "reason": "; ".join(sorted(set(a["rule"]))),
        })
    if merged_recs:
        extra = gpd.GeoDataFrame(pd.DataFrame(merged_recs), geometry=merged_geoms, crs=sites.crs)
        out = pd.concat([out, extra], ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=sites.crs)
    out = out.sort_values("site_id", kind="mergesort").reset_index(drop=True)
    merges = pd.DataFrame(merge_rows, columns=["kept_id", "merged_ids", "sources", "distance_km",
                                               "name_score", "reason"])
    return out, merges.sort_values("kept_id").reset_index(drop=True)
