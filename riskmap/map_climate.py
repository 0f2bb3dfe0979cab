"""Climate scenario layers of a basin map (``riskmap.natech.climate_scenarios`` columns; issue 19).

One point layer per scenario column, coloured by class, with the site name,
value and class (escaped) as tooltip; :func:`riskmap.maps.basin_map` adds them
as hidden layers.
"""

from __future__ import annotations

import html as _html
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.i18n import _, current_lang

#: Colours of the climate scenario classes 0..3 and of "no data".
CLIMATE_CLASS_COLOURS = {0: "#cccccc", 1: "#fdd49e", 2: "#fc8d59", 3: "#d7301f", None: "#969696"}


def _sig3(v: float) -> str:
    """``v`` to 3 significant digits (``f"{v:.3g}"``), with a decimal comma outside English."""
    text = f"{v:.3g}"
    return text if current_lang() == "en" else text.replace(".", ",")


def climate_layers(sites: gpd.GeoDataFrame | None) -> list[tuple[str, dict[str, Any]]]:
    """One point layer per climate scenario column (``climate_<hazard>_<scenario>_class``).

    Returns
    -------
    list of (layer name, GeoJSON FeatureCollection)
        Features carry ``style`` (colour by class, grey for no data) and ``label``
        (HTML-escaped site name, value and class). Empty without climate columns.
    """
    if sites is None or not len(sites):
        return []
    cls_cols = [c for c in sites.columns if c.startswith("climate_") and c.endswith("_class")]
    if not cls_cols:
        return []
    s = sites.to_crs("EPSG:4326") if sites.crs is not None and not sites.crs.equals("EPSG:4326") else sites
    keep = ~(s.geometry.isna() | s.geometry.is_empty).to_numpy()
    s = s[keep]
    g = s.geometry.to_numpy()
    pts = np.where(shapely.get_type_id(g) == 0, g, shapely.point_on_surface(g))
    xy = np.round(shapely.get_coordinates(pts), 5)
    names = s["name"].astype("string").fillna(_("unnamed site")).tolist() if "name" in s.columns else [""] * len(s)
    no_data = _("no data")
    out = []
    for col in cls_cols:
        key = col[len("climate_"):-len("_class")]
        hazard, _sep, scen = key.partition("_")
        vals = pd.to_numeric(s.get(col[:-len("_class")]), errors="coerce").to_numpy(dtype=float)
        cls = pd.to_numeric(s[col], errors="coerce").to_numpy(dtype=float)
        feats = []
        for (x, y), nm, v, k in zip(xy.tolist(), names, vals, cls):
            kk = int(k) if np.isfinite(k) else None
            txt = no_data if not np.isfinite(v) else _("{value} (class {cls})").format(
                value=_sig3(v), cls=_("unknown") if kk is None else kk)
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                          "properties": {"label": _html.escape(f"{nm}: {txt}"),
                                         "style": {"color": "#222222", "weight": 1, "fillOpacity": 0.9,
                                                   "fillColor": CLIMATE_CLASS_COLOURS.get(kk, "#969696")}}})
        name = _("Climate: {hazard} {scenario} (class)").format(hazard=hazard, scenario=scen)
        out.append((name, {"type": "FeatureCollection", "features": feats}))
    return out
