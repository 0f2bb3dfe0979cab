"""Discharge along the river network: mean and low flows from cited gauging stations.

:func:`assign_discharge` places the stations of the discharge table
(``riskmap/params/discharge.toml``, read by
:func:`riskmap.params.load_discharge_table`) on the reaches of a basin by
river name and position, and spreads their flows over the network in
proportion to drainage area. ``_lake_lookup`` finds a lake's cited volume.
Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.network import RiverNetwork
from riskmap.params import load_discharge_table

__all__ = ["assign_discharge"]


# ------------------------------------------------------------------ names


def _norm(name: Any) -> str:
    """Accent-, case- and generic-word-insensitive key for river/lake names."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    s = str(name).replace("đ", "d").replace("Đ", "D").replace("ë", "e")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[^a-z0-9]+", " ", s)
    drop = {"lake", "reservoir", "river", "jezero", "liqeni", "lumi", "reka", "rijeka", "i",
            "e", "the", "of", "vodokhranilishche", "res", "hpp", "dam", "akumulacija"}
    return " ".join(w for w in s.split() if w not in drop)


def _variants(name: Any) -> frozenset[str]:
    """Name keys of a reach: the whole name, the part before brackets, the bracketed part, "/"-parts.

    ``"Black Drin (Crni Drim)"`` -> {"black drin crni drim", "black drin", "crni drim"}.
    """
    if not isinstance(name, str) or not name.strip():
        return frozenset()
    parts = {name}
    m = re.match(r"^(.*?)\((.*?)\)\s*$", name)
    if m:
        parts |= {m.group(1), m.group(2)}
    for p in list(parts):
        parts |= set(p.split("/"))
    return frozenset(k for k in (_norm(p) for p in parts) if k)




# ------------------------------------------------------------------ network helpers


class _Network:
    """Name lookups over a reaches table, on top of its :class:`~riskmap.network.RiverNetwork`."""

    def __init__(self, reaches: pd.DataFrame):
        need = {"reach_id", "downstream_id", "length_km"}
        missing = need - set(reaches.columns)
        if missing:
            raise RiskmapInputError(f"reaches table lacks column(s) {sorted(missing)}")
        self.net = RiverNetwork.from_reaches(reaches, name="reaches table", missing="raise")
        r = reaches.copy()
        r["reach_id"] = r["reach_id"].astype("int64")
        r["downstream_id"] = r["downstream_id"].astype("int64")
        for col, default in (("name", None), ("country", None), ("is_border", False),
                             ("waterbody", None), ("sub_basin", None)):
            if col not in r.columns:
                r[col] = default
        self.r = r.set_index("reach_id", drop=False)
        self.down = dict(zip(self.r["reach_id"], self.r["downstream_id"]))
        self.length = dict(zip(self.r["reach_id"], self.r["length_km"].astype(float)))
        self.key = {rid: _variants(n) for rid, n in zip(self.r["reach_id"], self.r["name"])}
        self.subkey = {rid: _variants(n) for rid, n in zip(self.r["reach_id"], self.r["sub_basin"])}
        ups: dict[int, list[int]] = {}
        for rid, d in self.down.items():
            if d != -1:
                ups.setdefault(d, []).append(rid)
        self.ups = ups
        #: upstream channel length (km) of each reach, itself included
        self.upl = dict(zip(self.net.ids.tolist(), self.net.accumulate(self.net.length_km).tolist()))

    def members(self, keys: set[str] | frozenset[str]) -> list[int]:
        """Reaches named ``keys``; failing that, the reaches of the sub-basin named ``keys``."""
        hit = [rid for rid, k in self.key.items() if k & keys]
        return hit or [rid for rid, k in self.subkey.items() if k & keys]

    def path(self, rid: int) -> list[int]:
        """Reach ids from ``rid`` to the outlet."""
        return self.net.downstream_ids(rid)


def _place_station(net: _Network, st: Mapping[str, Any]) -> int | None:
    keys = set(_variants(st["river"])).union(*(_variants(a) for a in st.get("aliases", [])))
    members = net.members(keys)
    if not members:
        return None
    mset = set(members)
    at = str(st["at"])
    mouths = [rid for rid in members if net.down[rid] not in mset]
    mouth = max(mouths, key=lambda r: net.upl[r])
    if at == "mouth":
        return mouth
    if at == "source":
        # walk up the main stem (largest upstream length) while the name holds
        cur = mouth
        while True:
            nxt = [u for u in net.ups.get(cur, []) if u in mset]
            if not nxt:
                return cur
            cur = max(nxt, key=lambda r: net.upl[r])
    if at.startswith("confluence:"):
        tkeys = _variants(at.split(":", 1)[1])
        cands = [net.down[rid] for rid in net.members(tkeys) if net.down[rid] in mset]
        return max(cands, key=lambda r: net.upl[r]) if cands else None
    if at.startswith("km_above_mouth:"):
        km = float(at.split(":", 1)[1])
        cur, acc = mouth, 0.0
        while True:
            acc += net.length[cur]
            if acc >= km:
                return cur
            nxt = [u for u in net.ups.get(cur, []) if u in mset]
            if not nxt:
                return None
            cur = max(nxt, key=lambda r: net.upl[r])
    return None


def assign_discharge(reaches: pd.DataFrame, table: Mapping[str, Any] | str | Path | None = None,
                     basin: str | None = None) -> pd.DataFrame:
    """Discharge, low flow and drainage area per reach from published station figures.

    Each station of the table is placed on the reach it names (``at = mouth``,
    ``source``, ``confluence:<River>`` or ``km_above_mouth:<km>``). A reach takes
    the first station found walking *downstream* from it, scaled by the ratio of
    upstream channel length (reach / station), a stand-in for the drainage-area
    ratio. A reach with no station downstream takes the largest station upstream,
    held constant (not scaled up: lower courses lose water to irrigation and
    evaporation). Drainage areas scale the same way; a station without an area
    gets one from the specific runoff of the basin's stations that have one.

    Parameters
    ----------
    reaches : pandas.DataFrame
        Reach table (``reach_id``, ``downstream_id``, ``length_km``, ``name``...).
    table : dict or path, optional
        A table from :func:`load_discharge_table` or a file; default the bundled one.
    basin : str, optional
        Use only stations of this basin id (stations without ``basin`` always apply).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``reach_id``: ``q_mean_m3s``, ``q_low_m3s``, ``area_km2``,
        ``q_station``, ``q_method``, ``q_citation``. NaN where nothing applies.

    Examples
    --------
    >>> r = pd.DataFrame({"reach_id": [1, 2], "downstream_id": [2, -1],
    ...                   "length_km": [10.0, 30.0], "name": ["Drina", "Drina"]})
    >>> t = {"station": [{"river": "Drina", "at": "mouth", "mean_m3s": 100.0,
    ...                   "area_km2": 1000.0, "citation": "test"}], "lake": []}
    >>> assign_discharge(r, t)["q_mean_m3s"].round(2).tolist()
    [25.0, 100.0]
    """
    if table is None or isinstance(table, (str, Path)):
        table = load_discharge_table(table)
    net = _Network(reaches)
    stations = [s for s in table.get("station", []) if basin is None or s.get("basin") in (None, basin)]
    placed: dict[int, dict[str, Any]] = {}
    unplaced: list[str] = []
    for s in stations:
        rid = _place_station(net, s)
        if rid is not None and rid not in placed:
            placed[rid] = dict(s)
        else:
            unplaced.append(f"{s['river']} ({s['at']})")
    # areas for stations lacking one: specific runoff of stations with an area
    with_area = [s for s in placed.values() if s.get("area_km2")]
    for s in placed.values():
        if not s.get("area_km2") and with_area:
            ref = min(with_area, key=lambda w: abs(math.log(w["mean_m3s"] / s["mean_m3s"])))
            s["area_km2"] = s["mean_m3s"] * ref["area_km2"] / ref["mean_m3s"]
            s["_area_note"] = f"area from the specific runoff at {ref['river']} {ref['at']}"
    rows = []
    upstream_of: dict[int, list[int]] = {}
    for srid in placed:
        for rid in net.path(srid):
            upstream_of.setdefault(rid, []).append(srid)
    station_below = net.net.first_downstream(np.isin(net.net.ids, list(placed)))
    for rid, below in zip(net.r["reach_id"], station_below):
        srid, method = None, ""
        if below >= 0:
            srid = cur = int(net.net.ids[below])
            ratio = net.upl[rid] / net.upl[cur]
            method = f"scaled by upstream channel length (x{ratio:.3g})"
        if srid is None:
            cands = upstream_of.get(rid, [])
            if cands:
                srid = max(cands, key=lambda c: net.upl[c])
                ratio = 1.0
                method = "held constant below the lowest station"
        if srid is None:
            hyd = net.r.at[rid, "discharge_m3s"] if "discharge_m3s" in net.r.columns else np.nan
            rows.append((rid, float(hyd) if pd.notna(hyd) else np.nan, np.nan, np.nan, None,
                         "hydrography discharge_m3s" if pd.notna(hyd) else "no station", None))
            continue
        s = placed[srid]
        label = f"{s['river']} ({s['at']})"
        rows.append((rid, s["mean_m3s"] * ratio,
                     s["low_m3s"] * ratio if s.get("low_m3s") else np.nan,
                     s["area_km2"] * ratio if s.get("area_km2") else np.nan,
                     label, method + ("; " + s["_area_note"] if s.get("_area_note") else ""),
                     s.get("citation")))
    out = pd.DataFrame(rows, columns=["reach_id", "q_mean_m3s", "q_low_m3s", "area_km2",
                                      "q_station", "q_method", "q_citation"]).set_index("reach_id")
    out.attrs["unplaced_stations"] = unplaced
    return out


def _lake_lookup(table: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    k = _variants(name)
    for lk in table.get("lake", []):
        keys = set(_variants(lk["name"])).union(*(_variants(a) for a in lk.get("aliases", [])))
        if k & keys:
            return lk
    return None
