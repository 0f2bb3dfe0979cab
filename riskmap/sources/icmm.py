"""ICMM Global Mining Dataset (September 2025, V1) importer.

Reads ``icmm-global-mining-dataset/icmm_facilities_riskmap_boxes.csv`` (the 65
facilities of the workbook's ``External`` sheet inside the three basin boxes).

- ``category`` from ``Asset Type`` (table ``[category.icmm]``: a mine is a
  ``mine``; a smelter, refinery or processing plant, alone or with its mine,
  is a ``smelter_refinery``).
- ``coord_precision`` from the ``Confidence Factor`` (table
  ``[coord_precision.icmm]``): ICMM rates how well the sources it combined
  agree on the location and attribution, not a survey accuracy, so no level
  is ``exact`` except ``Very High``; ``High`` and ``Moderate`` ->
  ``approximate``; ``Low`` and ``Very Low`` -> ``estimated`` (the Very Low rows
  sit on a coarse grid, e.g. 41.9988 N 20.0019 E).
- ``name``: the ``Mine Name`` cleaned of ICMM's cross-reference tails
  ("Guri Kuq Including: See Alt Names" -> "Guri Kuq", "Prrenjas Mines (See
  Names)" -> "Prrenjas Mines"); a code-like name (``[names.icmm]`` lists them,
  e.g. "Chimkentzn") is replaced by the record's own alternative name given
  there. The other ``Group Names`` go to ``alt_names``.
- ``status`` is not given (``unknown``); commodities go to ``notes``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from riskmap.sources._common import (SourceResult, country_codes, make_sites, map_values, mappings, points,
                                     read_csv, refs, valid_xy)

__all__ = ["read_icmm", "clean_icmm_name"]

DIR = "icmm-global-mining-dataset"
FILE = "icmm_facilities_riskmap_boxes.csv"
KEY = "icmm"
LICENCE = "CC BY 4.0"
_TAIL = re.compile(r"\s*(?:\(\s*see (?:alt )?names\s*\)|including:?\s*see alt(?:ernative)? names)\s*$", re.I)


def clean_icmm_name(name: str) -> str:
    """Strip ICMM's cross-reference tails from a facility name.

    Examples
    --------
    >>> clean_icmm_name("Guri Kuq Including: See Alt Names")
    'Guri Kuq'
    >>> clean_icmm_name("Prrenjas Mines (See Names)")
    'Prrenjas Mines'
    """
    return _TAIL.sub("", str(name)).strip()


def _alt_names(group: pd.Series, names: pd.Series) -> list[str | None]:
    out = []
    for g, n in zip(group.astype(str), names):
        seen = {n.lower()}
        alts = []
        for a in g.split(";"):
            a = clean_icmm_name(a)
            if a and a.lower() not in seen:
                seen.add(a.lower())
                alts.append(a)
        out.append(" | ".join(alts) or None)
    return out


def read_icmm(sources_dir: Path) -> SourceResult:
    """Read the ICMM subset into site records.

    Examples
    --------
    >>> res = read_icmm(default_sources_dir())  # doctest: +SKIP
    >>> res.sites.loc[res.sites.source_id == "ICMM13334", "name"].item()  # doctest: +SKIP
    'Birac'
    """
    path = Path(sources_dir) / DIR / FILE
    raw = read_csv(path)
    raw.columns = [c.strip() for c in raw.columns]
    ok = valid_xy(raw["Longitude"], raw["Latitude"])
    dropped = Counter({"no coordinates": int((~ok).sum())})
    d = raw[ok].reset_index(drop=True)
    m = mappings()
    cat = map_values(d["Asset Type"], m["category"]["icmm"], "Asset Type", str(path))
    prec = map_values(d["Confidence Factor"], m["coord_precision"]["icmm"], "Confidence Factor", str(path))
    fixes = m.get("names", {}).get("icmm", {})
    original = d["Mine Name"].astype(str).str.strip()
    cleaned = original.map(clean_icmm_name)
    name = cleaned.map(lambda n: fixes.get(n, n))
    alts = _alt_names(d["Group Names"] + ";" + original, name)
    ids = d["ICMMID"].str.strip()
    commod = (d["Primary Commodity"] + d["Secondary Commodity"].map(lambda s: f", {s}" if s else "") +
              d["Other Commodities"].map(lambda s: f" (other: {s.replace(';', ', ')})" if s else ""))
    notes = ("asset type " + d["Asset Type"] + "; commodities " + commod + "; ICMM confidence factor " +
             d["Confidence Factor"] + (original != name).map(lambda x: "; name as published differs" if x else ""))
    sites = make_sites({
        "site_id": "icmm-" + ids.str.lower(), "name": name, "category": cat, "status": "unknown",
        "country": country_codes(d["Country"]), "coord_precision": prec, "source": KEY, "source_id": ids,
        "source_url": "https://www.icmm.com/en-gb/research/data/global-mining-dataset", "licence": LICENCE,
        "last_verified": None, "source_refs": refs(KEY, ids), "notes": notes, "alt_names": alts,
        "name_source": KEY,
    }, points(d["Longitude"], d["Latitude"]))
    return SourceResult(
        KEY, "ICMM Global Mining Dataset, September 2025 (V1)", sites, len(raw), dropped, LICENCE,
        ("ICMM Global Mining Dataset, September 2025 (V1) release (International Council on Mining and Metals). "
         "Licensed under CC BY 4.0. Compiled from the WAPHA Global Metal Mines Database, GEM trackers, "
         "Jasansky et al. 2024 and Skarn Associates."),
        [path], "2025-09")
