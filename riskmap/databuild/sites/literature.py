"""Literature-documented hazardous sites (helper compilation) importer.

Categories: the first token of the ``category`` cell through the table
``[category.literature]`` (e.g. ``red_mud_basin`` -> ``tailings_red_mud``,
``ash_landfill`` -> ``tailings_ash``); the rest of the cell goes to
``tailings_type``/``notes``. Status: ordered, conservative rules
``[[status_rules.literature]]`` on the free text; the original text is kept
in ``notes``. ``coord_precision`` from the ``[coord_precision=...]`` note
(exact -> exact; approximate-town/-municipality/-district -> town;
approximate-site / approximate (+-N km) -> estimated). The evidence link is
``source_url`` and the evidence note goes to ``notes``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.databuild.sites._common import (SourceResult, country_codes, make_sites, map_values, mappings, points,
                                     read_csv, refs, slug, valid_xy)

__all__ = ["read_literature", "literature_status", "literature_category", "literature_precision"]

FILE = "literature-sites/sites.csv"
KEY = "literature"
_PREC_RE = re.compile(r"\[coord_precision=([a-z-]+)")


def literature_status(text: pd.Series) -> pd.Series:
    """Map free-text statuses through the ordered rules; unmatched text raises.

    Examples
    --------
    >>> literature_status(pd.Series(["remediated (EBRD ERA completed)"])).tolist()
    ['remediated']
    """
    rules = mappings()["status_rules"]["literature"]
    out = []
    for t in text.astype(str):
        hit = next((r["value"] for r in rules if re.search(r["pattern"], t.strip(), re.I)), None)
        if hit is None:
            raise RiskmapInputError(f"literature status {t!r} matches no rule in mappings.toml")
        out.append(hit)
    return pd.Series(out, index=text.index, dtype=object)


def literature_category(raw: pd.Series, path: str = FILE) -> pd.Series:
    """Schema category from the first token of the literature ``category`` cell."""
    first = raw.astype(str).str.split(" / ").str[0].str.replace(r"\s*\(.*\)\s*$", "", regex=True).str.strip()
    return map_values(first, mappings()["category"]["literature"], "category", path)


def literature_precision(notes: pd.Series, path: str = FILE) -> pd.Series:
    """``coord_precision`` from the ``[coord_precision=...]`` prefix of the evidence note."""
    word = notes.astype(str).str.extract(_PREC_RE, expand=False).fillna("")
    return map_values(word, mappings()["coord_precision"]["literature"], "coord_precision note", path)


def read_literature(sources_dir: Path) -> SourceResult:
    """Read the literature compilation into site records.

    Examples
    --------
    >>> res = read_literature(default_sources_dir())  # doctest: +SKIP
    """
    path = Path(sources_dir) / FILE
    raw = read_csv(path)
    ok = valid_xy(raw["lon"], raw["lat"])
    dropped = Counter({"no coordinates": int((~ok).sum())})
    d = raw[ok].reset_index(drop=True)
    cat = literature_category(d["category"], str(path))
    st = literature_status(d["status"])
    prec = literature_precision(d["evidence_note"], str(path))
    ids = d["name"].map(slug)
    if ids.duplicated().any():
        raise RiskmapInputError(f"{path}: duplicate site names give duplicate ids: {sorted(ids[ids.duplicated()])}")
    ttype = np.where(cat.str.startswith("tailings"), d["category"].str.extract(r"\(([^)]*)\)", expand=False)
                     .fillna(""), "")
    notes = ("source category: " + d["category"] + "; status as published: " + d["status"] +
             "; basin (compiler's reading): " + d["basin_guess"] + "; evidence: " + d["evidence_note"] +
             " (" + d["evidence_url"] + ")")
    sites = make_sites({
        "site_id": "lit-" + ids, "name": d["name"], "category": cat, "status": st,
        "country": country_codes(d["country"]), "coord_precision": prec, "source": KEY,
        "source_id": ids, "source_url": d["evidence_url"],
        "licence": "riskmap helper compilation; facts belong to the cited sources", "last_verified": None,
        "source_refs": refs(KEY, ids), "tailings_type": pd.Series(ttype).replace("", None), "notes": notes,
    }, points(d["lon"], d["lat"]))
    return SourceResult(
        KEY, "Literature-documented hazardous sites (riskmap helper compilation)", sites, len(raw), dropped,
        "original compilation for this project; quote the cited sources",
        "Hand-compiled list with evidence links (data/sources/literature-sites); each record cites its source page.",
        [path], "")
