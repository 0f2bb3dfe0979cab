"""WRI Global Power Plant Database v1.3.0 importer.

Thermal plants (coal, gas, oil, nuclear) become ``thermal_power_plant``, hydro
plants ``dam_reservoir``; solar, wind and other plants are not hazardous
water sites and are dropped with a counted reason.

Coordinate precision: GPPD gives no location accuracy. Plant-level
geolocation sources (GEODB, WRI, Industry About, GCPT, UNFCCC CDM) are taken
as ``approximate`` (not verified to 100 m here); CARMA is known to place
plants at city centroids, so ``town``; a blank geolocation source gives
``estimated`` (table ``[coord_precision.gppd]`` in ``mappings.toml``).
GPPD has no status field: status stays ``unknown``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from riskmap.databuild.sites._common import (SourceResult, country_codes, make_sites, map_values, mappings, points,
                                     read_csv, refs, split_drop, to_number, valid_xy)

__all__ = ["read_gppd"]

FILE = "wri-gppd/gppd_v130_aoi.csv"
KEY = "wri-gppd"


def read_gppd(sources_dir: Path) -> SourceResult:
    """Read the WRI GPPD subset into site records.

    Parameters
    ----------
    sources_dir : pathlib.Path
        Folder of the public source datasets.

    Returns
    -------
    SourceResult

    Examples
    --------
    >>> from riskmap._paths import default_sources_dir
    >>> res = read_gppd(default_sources_dir())  # doctest: +SKIP
    >>> res.sites["category"].value_counts()  # doctest: +SKIP
    """
    path = Path(sources_dir) / FILE
    raw = read_csv(path)
    m = mappings()
    cat = map_values(raw["primary_fuel"], m["category"]["gppd"], "primary_fuel", str(path))
    keep, reason = split_drop(cat)
    dropped = Counter(reason.dropna())
    ok_xy = valid_xy(raw["longitude"], raw["latitude"])
    dropped["no coordinates"] += int((keep & ~ok_xy).sum())
    keep &= ok_xy
    d = raw[keep].reset_index(drop=True)
    cat = cat[keep].reset_index(drop=True)
    prec = map_values(d["geolocation_source"], m["coord_precision"]["gppd"], "geolocation_source", str(path))
    notes = ("primary fuel " + d["primary_fuel"] + "; geolocation source " +
             d["geolocation_source"].replace("", "not stated") +
             d["commissioning_year"].map(lambda y: f"; commissioned {float(y):.0f}" if y.strip() else "") +
             d["owner"].map(lambda o: f"; owner {o}" if o.strip() else ""))
    sites = make_sites({
        "site_id": "gppd-" + d["gppd_idnr"],
        "name": d["name"],
        "category": cat,
        "status": "unknown",
        "country": country_codes(d["country"]),
        "coord_precision": prec,
        "source": KEY,
        "source_id": d["gppd_idnr"],
        "source_url": "https://datasets.wri.org/dataset/globalpowerplantdatabase",
        "licence": "CC BY 4.0",
        "last_verified": "2021-06-02",
        "source_refs": refs(KEY, d["gppd_idnr"]),
        "capacity_mw": to_number(d["capacity_mw"]),
        "notes": notes,
    }, points(d["longitude"], d["latitude"]))
    return SourceResult(
        key=KEY, title="WRI Global Power Plant Database v1.3.0", sites=sites, rows_read=len(raw),
        dropped=dropped, licence="CC BY 4.0",
        attribution=("Global Energy Observatory, Google, KTH Royal Institute of Technology in Stockholm, "
                     "Enipedia, World Resources Institute. 2019. Global Power Plant Database v1.3.0. "
                     "Published on Resource Watch and Google Earth Engine."),
        files=[path], release="2021-06-02")
