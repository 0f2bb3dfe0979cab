"""Site data of a basin map: markers (shape, colour class), popup columns and rows, filters.

The site columns are encoded compactly (dense, categorical or sparse) with
codes turned into names in the current language (:mod:`riskmap.map_text`);
:func:`riskmap.maps.basin_map` hands them to the map's JavaScript as JSON data,
which shows them escaped: user text stays data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap.params import DEFAULT_LABEL
from riskmap.i18n import N_, _, current_lang, pgettext
from riskmap.map_basemap import _features
from riskmap.map_style import (
    _DEFAULT_COLOUR,
    _EXPOSURE_COLOURS,
    _FALLBACK,
    _PRIORITY_BANDS,
    _SHAPE_NAMES,
    _UNKNOWN_COLOUR,
    APPROXIMATE_PRECISIONS,
    CATEGORY_SHAPES,
)
from riskmap.map_text import (
    CATEGORY_LABELS,
    STATUS_LABELS,
    category_label,
    countries_text,
    country_name,
    number_text,
    precision_label,
    source_name,
    sources_text,
    status_label,
    why_texts,
)
from riskmap.schema import CATEGORIES

#: Popup groups, in display order.
POPUP_GROUPS: tuple[str, ...] = (N_("What it is"), N_("Exposure downstream"), N_("Hazard"), N_("Sources"))

#: Popup rows: (column, label, kind, group) in display order; only present, non-empty values are
#: shown. Kinds: text, km, h, num, int, bool, url, and the name look-ups category, status,
#: precision, country, countries, source, sources (codes become names in Python).
POPUP_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("category", N_("Kind"), "category", N_("What it is")),
    ("status", N_("Status"), "status", N_("What it is")),
    ("country", N_("Country"), "country", N_("What it is")),
    ("sub_basin", N_("Sub-basin"), "text", N_("What it is")),
    ("coord_precision", N_("Location"), "precision", N_("What it is")),
    ("substances", N_("Substances"), "text", N_("What it is")),
    ("tailings_volume_m3", N_("Tailings volume (m\u00b3)"), "int", N_("What it is")),
    ("tailings_area_ha", N_("Tailings area (ha)"), "num", N_("What it is")),
    ("dam_height_m", N_("Dam height (m)"), "num", N_("What it is")),
    ("tailings_type", N_("Tailings type"), "text", N_("What it is")),
    ("dam_condition", N_("Dam condition"), "text", N_("What it is")),
    ("reservoir_volume_m3", N_("Reservoir volume (m\u00b3)"), "int", N_("What it is")),
    ("capacity_mw", N_("Capacity (MW)"), "num", N_("What it is")),
    ("capacity_t_yr", N_("Capacity (t/yr)"), "int", N_("What it is")),
    ("exposure_class", N_("Exposure class"), "text", N_("Exposure downstream")),
    ("transboundary_downstream", N_("Water crosses a border downstream"), "bool", N_("Exposure downstream")),
    ("downstream_countries", N_("Countries downstream (flow order)"), "countries", N_("Exposure downstream")),
    ("first_border_river_km", N_("River km to the first border"), "km", N_("Exposure downstream")),
    ("first_border_km_range", N_("Range of that distance"), "text", N_("Exposure downstream")),
    ("travel_time_h", N_("Travel time to the first border"), "h", N_("Exposure downstream")),
    ("outlet_river_km", N_("River km to the basin outlet"), "km", N_("Exposure downstream")),
    ("continuation", N_("Beyond the outlet"), "text", N_("Exposure downstream")),
    ("on_border_water", N_("On a border river"), "bool", N_("Exposure downstream")),
    ("border_km", N_("Straight distance to a border"), "km", N_("Exposure downstream")),
    ("border_neighbour", N_("Nearest neighbouring country"), "country", N_("Exposure downstream")),
    ("downstream_pop_total", N_("People in towns downstream"), "int", N_("Exposure downstream")),
    ("snap_km", N_("Distance to the mapped river"), "km", N_("Exposure downstream")),
    ("river_km_basis", N_("How river km were measured"), "text", N_("Exposure downstream")),
    ("priority_rank", N_("Hazard priority rank in the basin"), "int", N_("Hazard")),
    ("rank_basis", N_("Rank based on"), "text", N_("Hazard")),
    ("priority_score", N_("Priority score (0-100)"), "num", N_("Hazard")),
    ("hazard_score", N_("Hazard score"), "num", N_("Hazard")),
    ("score_status", N_("Score status"), "text", N_("Hazard")),
    ("score_reason", N_("Why the score is limited"), "text", N_("Hazard")),
    ("params_label", N_("Scoring parameters"), "text", N_("Hazard")),
    ("completeness", N_("Data completeness (0-1)"), "num", N_("Hazard")),
    ("wri", N_("Water risk index (WRI)"), "num", N_("Hazard")),
    ("wri_band", N_("WRI band"), "text", N_("Hazard")),
    ("thi", N_("Tailings hazard index (THI)"), "num", N_("Hazard")),
    ("tri", N_("Tailings risk index (TRI)"), "num", N_("Hazard")),
    ("natech_seismic", N_("Earthquake class (0-3)"), "num", N_("Hazard")),
    ("natech_fault_km", N_("Nearest active fault (km)"), "km", N_("Hazard")),
    ("natech_max_mw", N_("Largest earthquake nearby (Mw)"), "num", N_("Hazard")),
    ("natech_flood", N_("Flood class (0-3)"), "num", N_("Hazard")),
    ("source", N_("Main source"), "source", N_("Sources")),
    ("source_id", N_("Record in that source"), "text", N_("Sources")),
    ("source_url", N_("Source link"), "url", N_("Sources")),
    ("source_refs", N_("All sources"), "sources", N_("Sources")),
    ("licence", N_("Licence"), "text", N_("Sources")),
    ("last_verified", N_("Last verified"), "text", N_("Sources")),
    ("site_id", N_("riskmap site id"), "text", N_("Sources")),
    ("notes", N_("Notes"), "text", N_("Sources")),
)

#: Popup rows without their group: (column, label, kind) (older name).
POPUP_FIELDS: tuple[tuple[str, str, str], ...] = tuple(r[:3] for r in POPUP_ROWS)

#: Client-side site filters: (key, label) in display order.
FILTERS: tuple[tuple[str, str], ...] = (("category", N_("Kind")), ("exposure_class", N_("Exposure class")),
                                        ("status", N_("Status")), ("country", N_("Country")))

def _value_names(column: str) -> dict[str, str]:
    """Display names, in the current language, of riskmap's exposure classes, river km bases and score statuses.

    Keys are the lower-cased values; other values (and other columns) are shown as they are.
    """
    if column == "exposure_class":
        return {"very high": pgettext("exposure class", "very high"), "high": pgettext("exposure class", "high"),
                "medium": pgettext("exposure class", "medium"), "low": pgettext("exposure class", "low"),
                "none": pgettext("exposure class", "none"), "outside": pgettext("exposure class", "outside"),
                "outside basin": pgettext("exposure class", "outside basin"),
                "not assessed": pgettext("exposure class", "not assessed")}
    if column == "river_km_basis":  # riskmap.exposure's explanations of how the river km were measured
        return {"river": pgettext("river km basis", "river"),
                "straight line to allocated reach + river (lower bound)": pgettext(
                    "river km basis", "straight line to allocated reach + river (lower bound)"),
                "border crossed off the mapped network: straight line to border (lower bound)": pgettext(
                    "river km basis", "border crossed off the mapped network: straight line to border (lower bound)"),
                "straight line to the shore of a shared lake (lower bound)": pgettext(
                    "river km basis", "straight line to the shore of a shared lake (lower bound)"),
                "dem flow path from the site's cell + river": pgettext(
                    "river km basis", "DEM flow path from the site's cell + river"),
                "dem flow path from the site's cell (border crossed overland)": pgettext(
                    "river km basis", "DEM flow path from the site's cell (border crossed overland)")}
    if column == "rank_basis":  # riskmap.ranking.RANK_BASIS_DATA / RANK_BASIS_CATEGORY
        return {"site data": pgettext("rank basis", "site data"),
                "category screening": pgettext("rank basis", "category screening")}
    if column == "score_status":
        return {"scored": pgettext("score status", "scored"), "proxy": pgettext("score status", "proxy"),
                "insufficient data": pgettext("score status", "insufficient data")}
    if column == "params_label":  # the shipped defaults' label (riskmap.params.DEFAULT_LABEL); a user's own as written
        return {DEFAULT_LABEL.lower(): _(DEFAULT_LABEL)}
    return {}


def _value_name(column: str, value: Any) -> Any:
    """``value`` of ``column`` as shown on the map (see :func:`_value_names`); English keeps the value as is."""
    if current_lang() == "en" or not isinstance(value, str):
        return value
    return _value_names(column).get(value.strip().lower(), value)

_EXPOSURE_ORDER = ("very high", "high", "medium", "low", "none", "outside basin")


def _text_value(v: Any, sep: str = "; ") -> str | None:
    """One cell as display text: lists joined with ``sep``, dicts as ``k: v; ...``, JSON strings parsed."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str):
        t = v.strip()
        if t[:1] in "[{" and t[-1:] in "]}":
            try:
                return _text_value(json.loads(t), sep)
            except (ValueError, TypeError):
                return v
        return v if t else None
    if isinstance(v, Mapping):
        parts = []
        for k, x in v.items():
            if isinstance(x, float):
                x = _("unknown") if math.isnan(x) else f"{x:.3g}"
            elif isinstance(x, Mapping):
                x = ", ".join(f"{a}={b}" for a, b in x.items())
            parts.append(f"{k}: {x}")
        return "; ".join(parts) or None
    if isinstance(v, (list, tuple, np.ndarray)):
        items = [_text_value(x, sep) for x in v]
        return sep.join(i for i in items if i) or None
    if isinstance(v, (bool, np.bool_)):
        return _("yes") if v else _("no")
    return str(v)


def _encode(values: list[Any]) -> dict[str, Any] | None:
    """Compact column: dense ``v``, categorical ``c``/``k`` or sparse ``s``; None when all empty."""
    n = len(values)
    present = [i for i, v in enumerate(values) if v is not None]
    if not present:
        return None
    if len(present) < 0.4 * n:
        return {"s": {str(i): values[i] for i in present}}
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    if len(uniques) <= max(16, n // 4) and all(isinstance(u, str) for u in uniques):
        return {"c": codes.tolist(), "k": list(uniques)}
    return {"v": values}


_LOOKUPS: dict[str, Any] = {
    "category": category_label,
    "status": status_label,
    "precision": precision_label,
    "country": country_name,
    "countries": countries_text,
    "source": source_name,
    "sources": sources_text,
}


def _km_range(s: pd.DataFrame) -> list[Any] | None:
    """``first_border_river_km_low``-``_high`` as text ("40-52 km") when both are known."""
    if "first_border_river_km_low" not in s.columns or "first_border_river_km_high" not in s.columns:
        return None
    lo = pd.to_numeric(s["first_border_river_km_low"], errors="coerce").round(0)
    hi = pd.to_numeric(s["first_border_river_km_high"], errors="coerce").round(0)
    ok = (lo.notna() & hi.notna()).to_numpy()
    msg = _("{low}\u2013{high} km")
    return [msg.format(low=number_text(a, 0), high=number_text(b, 0)) if k else None
            for a, b, k in zip(lo.to_numpy(), hi.to_numpy(), ok)]


def _site_column(s: pd.DataFrame, name: str, kind: str) -> list[Any] | None:
    if name == "first_border_km_range":
        return _km_range(s)
    if name not in s.columns:
        return None
    series = s[name]
    if kind in ("num", "km", "h", "int"):
        num = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        digits = {"km": 1, "h": 1, "int": 0}.get(kind, 4)
        vals = np.round(num, digits)
        return [None if not np.isfinite(v) else (int(v) if kind == "int" else float(v)) for v in vals]
    if kind == "bool":
        out: list[bool | None] = []
        for v in series.tolist():
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                out.append(None)
            elif isinstance(v, str):
                out.append(v.strip().lower() in ("true", "1", "yes"))
            else:
                out.append(bool(v))
        return out
    if kind in _LOOKUPS:
        look = _LOOKUPS[kind]
        return [None if _text_value(v) is None else look(v if kind in ("countries", "sources") else str(v))
                for v in series.tolist()]
    sep = " \u2192 " if name == "downstream_countries" else "; "
    return [_value_name(name, _text_value(v, sep)) for v in series.tolist()]


def _filter_data(s: pd.DataFrame) -> list[dict[str, Any]]:
    """Per filter: its values ``[code, label, count]`` and each site's value index (``idx``)."""
    out = []
    for key, label in FILTERS:
        if key not in s.columns:
            continue
        raw = s[key].astype("string").str.strip().replace("", pd.NA)
        missing = "not assessed" if key == "exposure_class" else "unknown"  # codes; shown translated below
        raw = raw.fillna(missing)
        counts = raw.value_counts()
        if key == "category":
            order = [c for c in CATEGORIES if c in counts.index]
        elif key == "status":
            order = [c for c in STATUS_LABELS if c in counts.index]
        elif key == "exposure_class":
            order = [c for c in _EXPOSURE_ORDER if c in counts.index]
        else:
            order = list(counts.index)  # most sites first
        order += sorted(c for c in counts.index if c not in order)
        names: list[str | None]
        if key == "category":
            names = [_(CATEGORY_LABELS[c]) if c in CATEGORY_LABELS else c for c in order]
        elif key == "status":
            names = [_(STATUS_LABELS[c]) if c in STATUS_LABELS else c for c in order]
        elif key == "country":
            names = [country_name(c) if c != "unknown" else _("unknown") for c in order]
        else:
            names = [_value_name(key, c) for c in order]
        code = {c: k for k, c in enumerate(order)}
        out.append({"key": key, "label": _(label), "values": [[c, n, int(counts[c])] for c, n in zip(order, names)],
                    "idx": raw.map(code).astype(int).tolist()})
    return out


def _colour_classes(s: pd.DataFrame, color_by: str) -> tuple[np.ndarray, list[str], list[str], str]:
    """Per-site class index, class labels, colours and the legend heading."""
    n = len(s)
    mode = color_by
    if mode == "auto":
        n_prio = int(pd.to_numeric(s["priority_score"], errors="coerce").notna().sum()) \
            if "priority_score" in s.columns else 0
        if "rank_basis" in s.columns:  # "auto" colours by priority when most ranks rest on site data
            n_prio = int(s["rank_basis"].astype("string").eq("site data").fillna(False).sum())
        n_expo = int(s["exposure_class"].notna().sum()) if "exposure_class" in s.columns else 0
        if n_prio and n_prio >= 0.5 * n:
            mode = "priority"
        elif n_expo:
            mode = "exposure"
        elif n_prio:
            mode = "priority"
        else:
            mode = "none"
    if mode == "priority" and "priority_score" in s.columns:
        score = pd.to_numeric(s["priority_score"], errors="coerce")
        if "priority_rank" in s.columns:  # the one ranking (riskmap.ranking): the ranked sites are coloured
            score = score.where(pd.to_numeric(s["priority_rank"], errors="coerce").notna())
        pct = score.rank(ascending=False, method="min", pct=True).to_numpy()
        labels = [_(b[0]) for b in _PRIORITY_BANDS] + [_("not ranked")]
        colours = [b[2] for b in _PRIORITY_BANDS] + [_UNKNOWN_COLOUR]
        cls = np.full(n, len(_PRIORITY_BANDS), dtype=int)
        for k in range(len(_PRIORITY_BANDS) - 1, -1, -1):
            cls[np.nan_to_num(pct, nan=2.0) <= _PRIORITY_BANDS[k][1]] = k
        return cls, labels, colours, _("Hazard priority (share of ranked sites on this map)")
    if mode == "exposure" and "exposure_class" in s.columns:
        raw = s["exposure_class"].astype("string").str.strip()
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        labels = [str(u) for u in uniques]
        known = list(_EXPOSURE_COLOURS)
        order = sorted(range(len(labels)), key=lambda k: (known.index(labels[k].lower())
                                                          if labels[k].lower() in known else len(known), labels[k]))
        labels = [labels[k] for k in order]
        remap = np.empty(len(order), dtype=int)
        remap[order] = np.arange(len(order))
        fallback = iter(_FALLBACK * 4)
        colours = [_EXPOSURE_COLOURS.get(lb.lower()) or next(fallback) for lb in labels]
        cls = np.where(codes < 0, len(labels), remap[np.clip(codes, 0, None)] if len(order) else 0)
        labels = [_value_name("exposure_class", lb) for lb in labels]
        if (codes < 0).any():
            labels.append(_value_name("exposure_class", "not assessed"))
            colours.append(_UNKNOWN_COLOUR)
        return cls.astype(int), labels, colours, _("Exposure class")
    return np.zeros(n, dtype=int), ["site"], [_DEFAULT_COLOUR], ""


def _site_data(sites: gpd.GeoDataFrame, color_by: str) -> tuple[dict | None, dict | None, dict[str, Any]]:
    s = sites
    if s.crs is not None and not s.crs.equals("EPSG:4326"):
        s = s.to_crs("EPSG:4326")
    geom = s.geometry
    keep = ~(geom.isna() | geom.is_empty).to_numpy()
    s = s[keep]
    info: dict[str, Any] = {"n": 0, "dropped_no_geometry": int((~keep).sum())}
    if s.empty:
        return None, None, info
    g = s.geometry.to_numpy()
    is_point = shapely.get_type_id(g) == 0
    xy = np.round(shapely.get_coordinates(np.where(is_point, g, shapely.point_on_surface(g))), 5)
    n = len(s)
    cls, labels, colours, heading = _colour_classes(s, color_by)
    cats = s["category"].astype("string").to_numpy(dtype=object, na_value=None) if "category" in s.columns \
        else np.full(n, None, dtype=object)
    shape_code = {c: _SHAPE_NAMES.index(shape) for c, shape in CATEGORY_SHAPES.items()}
    shape_idx = pd.Series(cats, dtype=object).map(shape_code).fillna(_SHAPE_NAMES.index("circle")) \
        .to_numpy(dtype=int)
    prec = s["coord_precision"].astype("string").to_numpy(dtype=object, na_value="") \
        if "coord_precision" in s.columns else np.full(n, "", dtype=object)
    hollow = np.isin(prec.astype(str), APPROXIMATE_PRECISIONS).astype(int)
    cols = _site_columns(s)
    fields = [[f, _(lb), k, g] for f, lb, k, g in POPUP_ROWS if f in cols and f not in ("source_url",)]
    # "k of N": N counts the ranked sites on the map (the one ranking, riskmap.ranking)
    n_ranked = int(pd.to_numeric(s["priority_rank"], errors="coerce").notna().sum()) \
        if "priority_rank" in s.columns else 0
    country_codes = s["country"].astype("string").fillna("") if "country" in s.columns else pd.Series([""] * n)
    enc_sites = {"n": n, "lon": xy[:, 0].tolist(), "lat": xy[:, 1].tolist(), "shape": shape_idx.tolist(),
                 "cls": cls.tolist(), "colors": colours, "hollow": hollow.tolist(), "cols": cols, "fields": fields,
                 "groups": list(POPUP_GROUPS), "nRanked": n_ranked, "filters": _filter_data(s),
                 "kosovo": bool(country_codes.str.contains("XKX").any())}
    if current_lang() != "en":  # the groups' names as shown (English: the keys themselves)
        enc_sites["groupNames"] = [_(g) for g in POPUP_GROUPS]
    lines = None
    if (~is_point).any():
        idx = np.flatnonzero(~is_point)
        sub = gpd.GeoDataFrame({"i": idx}, geometry=g[idx], crs="EPSG:4326")
        lines = _features(sub, {"i": idx.tolist(), "cl": cls[idx].tolist(), "h": hollow[idx].tolist()}, 0.0005)
    present_cls = sorted(set(cls.tolist()))
    info.update({"n": n, "heading": heading, "classes": [(labels[k], colours[k]) for k in present_cls],
                 "categories": sorted({c for c in cats if c}, key=lambda c: list(CATEGORIES).index(c)
                                      if c in CATEGORIES else 99),
                 "approximate": int(hollow.sum()), "lines": int((~is_point).sum())})
    return enc_sites, lines, info


def _site_columns(s: pd.DataFrame) -> dict[str, Any]:
    """The encoded popup columns: name, "why it matters", the popup rows, raw country codes and reach ids."""
    n = len(s)
    cols: dict[str, Any] = {}
    name = _site_column(s, "name", "text") or [None] * n
    unnamed = _("unnamed site")
    cols["name"] = _encode([v if v is not None else unnamed for v in name])
    why = _encode(why_texts(s))
    if why is not None:
        cols["why"] = why
    for field, _label, kind, _group in POPUP_ROWS:
        vals = _site_column(s, field, kind)
        if field == "source_url" and vals is not None:
            vals = [v if v and re.match(r"^https?://", v, flags=re.I) else None for v in vals]
        enc = _encode(vals) if vals is not None else None
        if enc is not None:
            cols[field] = enc
    if "country" in s.columns:  # raw codes for the downstream-path logic (the popup shows names)
        enc = _encode([v.strip() if isinstance(v, str) and v.strip() else None
                       for v in s["country"].astype("string").to_numpy(dtype=object, na_value=None)])
        if enc is not None:
            cols["country_code"] = enc
    if "reach_id" in s.columns:
        rid = pd.to_numeric(s["reach_id"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        enc = _encode([int(v) if np.isfinite(v) else None for v in rid])
        if enc is not None:
            cols["reach_id"] = enc
    return cols
