"""River, lake and sub-basin names on a reaches table: name keys and the look-ups over them.

:func:`_norm` makes an accent-, case- and generic-word-insensitive key of a
name, :func:`_variants` the keys of a reach's name (brackets and ``/`` parts),
and :class:`_Network` looks reaches up by name over a reaches table and its
:class:`~riskmap.network.RiverNetwork`. Used by :mod:`riskmap.discharge` (placing
the stations of the discharge table) and the spill model (release reach, lakes,
checkpoints).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.network import RiverNetwork


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
        self._wb_keys: set[str] | None = None
        lengths = self.net.length_km
        if lengths is None:  # from_reaches always sets it; kept for the type checker
            raise RiskmapInputError("reaches table lacks length_km")
        #: channel length (km) per reach, in the order of ``self.net``
        self.length_km: np.ndarray = lengths
        #: upstream channel length (km) of each reach, itself included
        self.upl = dict(zip(self.net.ids.tolist(), self.net.accumulate(lengths).tolist()))

    def waterbody_keys(self) -> set[str]:
        """Name keys of every ``waterbody`` on the reaches (computed once)."""
        if self._wb_keys is None:
            self._wb_keys = set().union(*(_variants(w) for w in self.r["waterbody"] if isinstance(w, str)))
        return self._wb_keys

    def members(self, keys: set[str] | frozenset[str]) -> list[int]:
        """Reaches named ``keys``; failing that, the reaches of the sub-basin named ``keys``."""
        hit = [rid for rid, k in self.key.items() if k & keys]
        return hit or [rid for rid, k in self.subkey.items() if k & keys]

    def path(self, rid: int) -> list[int]:
        """Reach ids from ``rid`` to the outlet."""
        return self.net.downstream_ids(rid)
