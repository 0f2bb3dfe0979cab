"""Names of unnamed stems (:data:`NAMED_STEMS`, gaps along a named stem)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._geo import aeqd_for_bounds

# ---------------------------------------------------------------- names of unnamed stems

#: Stems that neither mapped network names (Natural Earth / GSHHG have no line or no name), keyed by
#: the name of the river at the basin outlet: (name, lon, lat, basis). The reach nearest the point
#: and every unnamed reach downstream of it, until the stem meets a named river, get the name.
NAMED_STEMS: dict[str, tuple[tuple[str, float, float, str], ...]] = {
    "Syr Darya": (
        ("Chirchik", 69.975, 41.625, "Charvak dam (GRanD 4676; GEM watercourse 'Chirchiq River')"),
        ("Akhangaran", 70.208, 41.058, "Akhangaran dam (GRanD 4681), above Angren"),
    ),
}


def _up_main(reaches: pd.DataFrame) -> dict[int, int]:
    """Per reach id, the upstream reach of largest upland area (the stem continues there)."""
    up = reaches[reaches["downstream_id"] >= 0].sort_values("upland_km2", ascending=False)
    return dict(zip(up.drop_duplicates("downstream_id")["downstream_id"].astype(int),
                    up.drop_duplicates("downstream_id")["reach_id"].astype(int)))


def name_stems(reaches: gpd.GeoDataFrame, outlet_name: str | None) -> gpd.GeoDataFrame:
    """Name unnamed stems: :data:`NAMED_STEMS`, then gaps along a stem between two reaches of one name.

    A reach through a reservoir or lake carries no river name (lake links are not river names);
    an unnamed run of reaches whose nearest named reach downstream and nearest named reach
    upstream (along the largest upstream branch) carry the same name gets that name (e.g. the
    Naryn through Toktogul, the Syr Darya through Shardara).
    """
    r = reaches.copy()
    ids = r["reach_id"].astype(int).to_numpy()
    down = dict(zip(ids, r["downstream_id"].astype(int)))
    name = {int(i): (None if pd.isna(v) else str(v)) for i, v in zip(ids, r["name"])}
    for nm, lon, lat, _basis in NAMED_STEMS.get(str(outlet_name), ()):
        crs = aeqd_for_bounds((lon - 0.5, lat - 0.5, lon + 0.5, lat + 0.5))
        d = r.to_crs(crs).distance(shapely.Point(0, 0)).to_numpy()
        k = int(np.argmin(d))
        if d[k] > 3000:  # the stem point is not on this network
            continue
        x = int(ids[k])
        while x != -1 and name.get(x) is None:
            name[x] = nm
            x = down.get(x, -1)
    upm = _up_main(r)
    changed = True
    while changed:
        changed = False
        for x in ids:
            if name[x] is not None:
                continue
            y = down.get(x, -1)
            while y != -1 and name.get(y) is None:
                y = down.get(y, -1)
            if y == -1:
                continue
            z = upm.get(int(x))
            while z is not None and name.get(z) is None:
                z = upm.get(z)
            if z is not None and name[y] == name[z]:
                name[x] = name[y]
                changed = True
    r["name"] = pd.Series([name[int(i)] for i in ids], index=r.index, dtype=object)
    return r
