"""USGS index to PGE-Ni-Cr deposits and occurrences importer -> ``mine``.

``Record_tp`` decides what is kept (table ``[status.usgs]``): producers and
past producers, old mines and deposits of unknown exploitation are kept;
mineral occurrences, prospects and dormant deposits are not mines and are
dropped with a counted reason. Coordinates are ``approximate`` (compiled
from regional databases at map scales of 1:1.5-5 million). The source puts
Kosovo records under Serbia: the country is derived from the location by the
build (the source's name is kept in ``notes`` when they differ).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path


from riskmap.databuild.sites._common import (SourceResult, country_codes, make_sites, map_values, mappings, points,
                                     read_csv, refs, split_drop, valid_xy)

__all__ = ["read_usgs"]

DIR = "usgs-pge-ni-cr-index"
KEY = "usgs-pge-ni-cr"


def read_usgs(sources_dir: Path) -> SourceResult:
    """Read the USGS PGE-Ni-Cr index subset into site records.

    Examples
    --------
    >>> res = read_usgs(default_sources_dir())  # doctest: +SKIP
    """
    path = Path(sources_dir) / DIR / "nicrpge_aoi.csv"
    ref_path = Path(sources_dir) / DIR / "nicrpge_references_used.csv"
    raw = read_csv(path)
    refs_tab = read_csv(ref_path).set_index("Ref_no")["Ref_st_frm"]
    status = map_values(raw["Record_tp"], mappings()["status"]["usgs"], "Record_tp", str(path))
    keep, reason = split_drop(status)
    dropped = Counter(reason.dropna())
    ok = valid_xy(raw["WGS84_Lon"], raw["WGS84_Lat"])
    dropped["no coordinates"] += int((keep & ~ok).sum())
    keep &= ok
    d, st = raw[keep], status[keep]
    ids = d["Site_ID"].str.strip()
    notes = ("commodities " + d["Commod_gp"].str.strip("; ") + "; record type " +
             d["Record_tp"].replace("", "not stated") + "; source record " + d["Src_Rec_No"] +
             " (" + d["Ref_no"].map(lambda r: refs_tab.get(r, f"ref {r}")) + ")" +
             "; source country " + d["Country"])
    sites = make_sites({
        "site_id": "usgs-" + ids, "name": d["Name"], "category": "mine", "status": st,
        "country": country_codes(d["Country"]), "coord_precision": "approximate", "source": KEY,
        "source_id": ids, "source_url": None, "licence": "Public domain (USGS); see the referenced databases",
        "last_verified": None, "source_refs": refs(KEY, ids), "notes": notes,
    }, points(d["WGS84_Lon"], d["WGS84_Lat"]))
    return SourceResult(
        KEY, "USGS index to PGE-Ni-Cr deposits and occurrences", sites, len(raw), dropped,
        "US public domain (the indexed third-party databases may have other terms)",
        ("U.S. Geological Survey. Causey, J. D., Galloway, J. P., and Zientek, M. L., An Index to PGE-Ni-Cr "
         "Deposits and Occurrences in Selected Mineral-Occurrence Databases."), [path, ref_path], "")
