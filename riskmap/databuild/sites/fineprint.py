"""FINEPRINT (WU Vienna) company-report mining compilation importer.

``mine_or_processing`` gives the category (mine -> ``mine``, smelter/refinery
-> ``smelter_refinery``). Coordinates are ``approximate`` (company reports, no
accuracy given); the status column is blank in this subset (``unknown``).
Sub-sites (Zeravshan, Tajikistan) are outside the basins and not imported.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from riskmap.databuild.sites._common import (SourceResult, country_codes, make_sites, map_values, mappings, points,
                                     read_csv, refs, slug, valid_xy)

__all__ = ["read_fineprint"]

FILE = "fineprint-mining-compilation/detailed_data_mining_general_aoi.csv"
KEY = "fineprint"


def read_fineprint(sources_dir: Path) -> SourceResult:
    """Read the FINEPRINT facility table into site records.

    Examples
    --------
    >>> res = read_fineprint(default_sources_dir())  # doctest: +SKIP
    """
    path = Path(sources_dir) / FILE
    raw = read_csv(path)
    cat = map_values(raw["mine_or_processing"], mappings()["category"]["fineprint"], "mine_or_processing",
                     str(path))
    ok = valid_xy(raw["longitude"], raw["latitude"])
    dropped = Counter({"no coordinates": int((~ok).sum())})
    d, cat = raw[ok], cat[ok]
    ids = d["mine_fac"].str.strip().map(slug)
    notes = ("commodities " + d["commodities_products"].replace("", "not stated") +
             d["mine_other_names"].map(lambda s: f"; other names {s}" if s.strip() else "") +
             d["source"].map(lambda s: f"; company report: {s}" if s.strip() else ""))
    sites = make_sites({
        "site_id": "fineprint-" + ids, "name": d["mine_fac"].str.strip(), "category": cat, "status": "unknown",
        "country": country_codes(d["country"].str.strip()), "coord_precision": "approximate", "source": KEY,
        "source_id": d["mine_fac"].str.strip(), "source_url": d["source_url"],
        "licence": "Not stated for this raw input (published dataset CC BY-SA 4.0); attribution required",
        "last_verified": None, "source_refs": refs(KEY, d["mine_fac"].str.strip()), "notes": notes,
    }, points(d["longitude"], d["latitude"]))
    return SourceResult(
        KEY, "FINEPRINT company-report mining compilation (WU Vienna)", sites, len(raw), dropped,
        "not stated for the raw input; published dataset CC BY-SA 4.0; attribution required",
        ("Institute for Ecological Economics, WU Vienna, FINEPRINT project, compilation_mining_data; "
         "Jasansky, S., Lieber, M., Giljum, S., Maus, V. (2023). An open database on global coal and metal "
         "mine production. Scientific Data 10, 52."), [path], "")
