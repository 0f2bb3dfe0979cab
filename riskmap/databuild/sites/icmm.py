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
- after de-duplication (which compares the published names), a bare place
  name of a site named by ICMM gets the record's primary commodity and asset
  type (:func:`with_kind`, applied by :mod:`riskmap.databuild.sites.names`: "Birac" ->
  "Birac alumina refinery"); the published name goes to ``alt_names``.
- ``status`` is not given (``unknown``); commodities go to ``notes``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from riskmap.databuild.sites._common import (SourceResult, country_codes, make_sites, map_values, mappings, points,
                                     read_csv, refs, valid_xy)

__all__ = ["read_icmm", "clean_icmm_name", "with_kind"]

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


_KIND_WORDS = re.compile(r"\b(mine|mines|plant|smelter|refinery|combine|concentrator|field|works|deposit)\b", re.I)
_ASSET = {"Mine": "mine", "Plant": "plant", "Refinery": "refinery", "Smelter": "smelter",
          "Mine;Plant": "mine and plant", "Smelter;Refinery": "smelter and refinery",
          "Mine;Smelter;Refinery": "mine, smelter and refinery"}
_NOTE = re.compile(r"asset type ([A-Za-z;]+); commodities ([a-z ]+)")


def with_kind(name: str, notes: object) -> str:
    """A bare ICMM place name gets its commodity and asset type from the record's notes.

    Examples
    --------
    >>> with_kind("Birac", "asset type Refinery; commodities alumina; ICMM confidence factor High")
    'Birac alumina refinery'
    >>> with_kind("Angren Coal Mine", "asset type Mine; commodities thermal coal")
    'Angren Coal Mine'
    """
    m = _NOTE.search(str(notes or ""))
    if _KIND_WORDS.search(name) or m is None:
        return name
    commodity = m.group(2).strip().replace("thermal coal", "coal")
    return " ".join(filter(None, [name, commodity, _ASSET.get(m.group(1), "site")]))


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
