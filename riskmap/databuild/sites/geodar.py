"""GeoDAR v1.1 dams (beta pre-release 1) importer -> ``dam_reservoir``.

GeoDAR has no dam names by design: sites are named "Dam (GeoDAR <ID_v11>)".
``reservoir_volume_m3`` = ``rv_mcm_v11`` (else ``rv_mcm_v10``) x 1e6; -999
means none and stays missing. Coordinate precision from ``pnt_src`` (GRanD
points -> exact) and, for GeoDAR v1.0 points, the ``QA_level`` (tables in
``mappings.toml``). Status is not given (``unknown``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from riskmap.databuild.sites._common import (SourceResult, make_sites, map_values, mappings, points, read_csv, refs,
                                     to_number, valid_xy)

__all__ = ["read_geodar"]

FILE = "geodar-dams/geodar_v11_dams_beta_pr1_aoi.csv"
KEY = "geodar"


def read_geodar(sources_dir: Path) -> SourceResult:
    """Read the GeoDAR subset into site records.

    Examples
    --------
    >>> res = read_geodar(default_sources_dir())  # doctest: +SKIP
    >>> res.sites["name"].iloc[0]  # doctest: +SKIP
    'Dam (GeoDAR 7)'
    """
    path = Path(sources_dir) / FILE
    raw = read_csv(path)
    m = mappings()["coord_precision"]
    ok = valid_xy(raw["longitude"], raw["latitude"])
    dropped = Counter({"no coordinates": int((~ok).sum())})
    d = raw[ok].reset_index(drop=True)
    by_src = map_values(d["pnt_src"], m["geodar_pnt_src"], "pnt_src", str(path))
    by_qa = map_values(d["QA_level"], m["geodar_qa"], "QA_level", str(path))
    prec = by_src.where(by_src != "by_qa", by_qa)
    v11 = to_number(d["rv_mcm_v11"], missing=(-999,))
    v10 = to_number(d["rv_mcm_v10"], missing=(-999,))
    vol = v11.fillna(v10) * 1e6
    vol_note = np.where(v11.notna(), "", np.where(v10.notna(), "; reservoir volume from rv_mcm_v10", ""))
    grand = to_number(d["ID_GRDv13"], missing=(-999,))
    ids = d["ID_v11"].str.strip()
    notes = ("point source " + d["pnt_src"] + d["QA_level"].map(lambda q: f"; QA level {q}" if q else "") +
             d["geomtd_v10"].map(lambda q: f"; georeferencing {q}" if q else "") +
             grand.map(lambda g: f"; GRanD v1.3 id {g:.0f}" if pd.notna(g) else "") + vol_note +
             "; GeoDAR has no dam names")
    sites = make_sites({
        "site_id": "geodar-" + ids, "name": "Dam (GeoDAR " + ids + ")", "category": "dam_reservoir",
        "status": "unknown", "country": None, "coord_precision": prec, "source": KEY, "source_id": ids,
        "source_url": "https://doi.org/10.5281/zenodo.6163413", "licence": "CC BY 4.0", "last_verified": None,
        "source_refs": refs(KEY, ids), "reservoir_volume_m3": vol, "notes": notes,
    }, points(d["longitude"], d["latitude"]))
    return SourceResult(
        KEY, "GeoDAR v1.1 dams (beta pre-release 1)", sites, len(raw), dropped, "CC BY 4.0",
        ("Wang, J., Walter, B. A., Yao, F., Song, C., Ding, M., Maroof, A. S., et al. (2022). GeoDAR: "
         "georeferenced global dams and reservoirs dataset for bridging attributes and geolocations. "
         "Earth System Science Data 14, 1869-1899. https://doi.org/10.5281/zenodo.6163413"),
        [path], "2022")
