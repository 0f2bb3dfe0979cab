"""Spill checkpoints: where along the path the scenario reports, and their names for people.

The checkpoints of a path (:func:`_checkpoints`) are, in flow order, the border
crossings, the outflows of lakes and reservoirs, the towns near the river (with
the downstream population by country) and the outlet. :func:`checkpoint_label`
turns a checkpoint's identifier into text in the current output language.
Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._errors import RiskmapInputError
from riskmap._geo import local_aeqd
from riskmap.discharge import _norm
from riskmap.i18n import _, country_name, current_lang, pgettext, town_name

__all__ = ["TOWN_BUFFER_KM", "TOWN_CHECKPOINT_MIN_POP", "checkpoint_label"]

TOWN_BUFFER_KM = 5.0
#: Towns of at least this population are checkpoints; all towns count for the downstream population.
TOWN_CHECKPOINT_MIN_POP = 5000
#: Order of checkpoints at the same river km: a lake outflow, then a border, a town, the outlet.
_KIND_ORDER = {"lake": 0, "reservoir": 0, "border": 1, "town": 2, "outlet": 3}
#: Words of a water-body name that make it a natural lake (else a reservoir) when the lakes layer does not say.
_LAKE_WORDS = ("lake", "jezero", "liqen", "ozero", "köl", "kol")

_BORDER_RE = re.compile(r"border (?P<a>\S+) -> (?P<b>\S+)")
_OUTFLOW_RE = re.compile(r"(?P<name>.+) \(outflow\)")
_ENTRY_RE = re.compile(r"river entry \((?P<c>[^)]*)\): before the first checkpoint")


def _countries_text(codes: str) -> str:
    return " / ".join(country_name(c) or c if c != "unknown" else _("unknown") for c in codes.split("|") if c)


def checkpoint_label(name: Any, kind: Any = None, country: Any = None) -> str:
    """A checkpoint's name for people, in the current output language (:mod:`riskmap.i18n`).

    The ``checkpoint`` column keeps riskmap's own identifiers (``"border KGZ -> UZB"``,
    ``"Kayrakkum Reservoir (outflow)"``, ``"outlet"``, a town's name), and English
    shows them as they are. In another language the country codes become names,
    "outflow", "outlet" and "river entry" are translated, and towns get their
    sourced name (:func:`riskmap.i18n.town_name`; ``country`` is the town's ISO3
    code or a ``"A|B"`` pair, the last one being the town's). Water-body names are data.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> checkpoint_label("border KGZ -> UZB")
    'border KGZ -> UZB'
    >>> with use_lang("ru"):
    ...     checkpoint_label("border KGZ -> UZB"), checkpoint_label("outlet"), checkpoint_label("Lake X (outflow)")
    ('граница Кыргызстан → Узбекистан', 'замыкающий створ', 'Lake X (выход из водоёма)')
    >>> with use_lang("ru"):
    ...     checkpoint_label("Jalal Abad", "town", "KGZ")
    'Джалал-Абад'
    """
    text = "" if name is None else str(name)
    if current_lang() == "en":
        return text
    if m := _BORDER_RE.fullmatch(text):
        return _("border {a} → {b}").format(a=_countries_text(m["a"]), b=_countries_text(m["b"]))
    if m := _OUTFLOW_RE.fullmatch(text):
        return _("{name} (outflow)").format(name=m["name"])
    if m := _ENTRY_RE.fullmatch(text):
        return _("river entry ({countries}): before the first checkpoint").format(countries=_countries_text(m["c"]))
    if text == "outlet" and kind in (None, "outlet"):
        return pgettext("checkpoint kind", "outlet")
    if kind in (None, "town"):
        parts = [p for p in str(country).split("|") if p and p.lower() not in ("nan", "none")] if country else []
        return str(town_name(text, parts[-1] if parts else None))
    return text


# ------------------------------------------------------------------ selection


def _checkpoints(pr: pd.DataFrame, towns: Any, buffer_km: float, lakes: Any, frac0: float = 0.0
                 ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Checkpoints in flow order (borders, lake outflows, towns, outlet) and downstream population by country."""
    cps = _border_checkpoints(pr) + _lake_checkpoints(pr, lakes)
    pop: dict[str, int] = {}
    if towns is not None and len(towns) and "geometry" in pr.columns:
        tcps = _town_checkpoints(pr, towns, buffer_km, frac0)
        pop = _population_by_country(tcps)
        cps.extend(t for t in tcps if not (t.get("population", np.nan) < TOWN_CHECKPOINT_MIN_POP))
    lon, lat = _endpoint(pr, len(pr) - 1, "end")
    cps.append(dict(name="outlet", kind="outlet", km=float(pr["cum_end_km"].iloc[-1]),
                    country=pr["country"].iloc[-1], lon=lon, lat=lat))
    return _in_flow_order(cps), pop


def _endpoint(pr: pd.DataFrame, i: int, which: str) -> tuple[float | None, float | None]:
    """(lon, lat) of the start or end of path row ``i``; (None, None) without geometry."""
    if "geometry" not in pr.columns:
        return None, None
    g = pr["geometry"].iloc[i]
    if g is None or g.is_empty:
        return None, None
    c = shapely.get_coordinates(g)
    x, y = (c[0] if which == "start" else c[-1])
    return float(x), float(y)


def _border_checkpoints(pr: pd.DataFrame) -> list[dict[str, Any]]:
    """A checkpoint where the country changes or a border stretch begins, at the start of that row."""
    cps = []
    countries = pr["country"].tolist()
    borders = pr["is_border"].fillna(False).astype(bool).tolist()
    for i in range(1, len(pr)):
        if countries[i] != countries[i - 1] or (borders[i] and not borders[i - 1]):
            lon, lat = _endpoint(pr, i, "start")
            a, b = countries[i - 1] or "unknown", countries[i] or "unknown"
            cps.append(dict(name=f"border {a} -> {b}", kind="border", km=float(pr["cum_start_km"].iloc[i]),
                            country=b, lon=lon, lat=lat))
    return cps


def _lake_checkpoints(pr: pd.DataFrame, lakes: Any) -> list[dict[str, Any]]:
    """A checkpoint at the outflow of every lake or reservoir on the path (kind from the lakes layer)."""
    lake_kind = {}
    if lakes is not None and len(lakes) and "name" in lakes.columns:
        for n, k in zip(lakes["name"], lakes.get("kind", pd.Series(["lake"] * len(lakes)))):
            lake_kind[_norm(n)] = k
    cps = []
    countries = pr["country"].tolist()
    lk = pr["lake"].tolist()
    for i in range(len(pr)):
        if lk[i] and (i + 1 == len(pr) or lk[i + 1] != lk[i]):
            lon, lat = _endpoint(pr, i, "end")
            natural = any(w in str(lk[i]).lower() for w in _LAKE_WORDS)
            kind = lake_kind.get(_norm(lk[i]), "lake" if natural else "reservoir")
            cps.append(dict(name=f"{lk[i]} (outflow)", kind=kind if kind in ("lake", "reservoir") else "reservoir",
                            km=float(pr["cum_end_km"].iloc[i]), country=countries[i], lon=lon, lat=lat,
                            lake=lk[i]))
    return cps


def _population_by_country(tcps: list[dict[str, Any]]) -> dict[str, int]:
    """The towns' population summed per country (towns without a population are left out)."""
    pop: dict[str, int] = {}
    for t in tcps:
        if pd.notna(t.get("population")):
            key = str(t["country"] or "unknown")
            pop[key] = pop.get(key, 0) + int(t["population"])
    return pop


def _in_flow_order(cps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checkpoints sorted by river km (kind order at the same km), the first of each name kept."""
    cps = sorted(cps, key=lambda c: (round(c["km"], 6), _KIND_ORDER.get(c["kind"], 2)))
    seen, out = set(), []
    for c in cps:
        if c["name"] in seen:
            continue
        seen.add(c["name"])
        out.append(c)
    return out


def _town_checkpoints(pr: pd.DataFrame, towns: gpd.GeoDataFrame, buffer_km: float, frac0: float
                      ) -> list[dict[str, Any]]:
    """Towns within ``buffer_km`` of the river path (not the overland route), at their river km."""
    cols = ["reach_id", "geometry", "cum_start_km", "length_km", "remaining_km"]
    real = pr[~pr["overland"]] if "overland" in pr.columns else pr
    g = gpd.GeoDataFrame(real[cols].reset_index(drop=True), geometry="geometry", crs=4326)
    c = g.geometry.union_all().centroid
    crs = local_aeqd(c.x, c.y)
    gp = g.to_crs(crs)
    t = towns if towns.crs is not None else towns.set_crs(4326)
    x0, y0, x1, y1 = g.total_bounds
    pad = buffer_km / 70.0 + 0.01  # degrees: >= buffer_km at these latitudes (1 deg lon >= 75 km below 47N)
    t = t.cx[x0 - pad:x1 + pad, y0 - pad:y1 + pad]
    towns = t
    tp = t.to_crs(crs)
    tree = shapely.STRtree(gp.geometry.values)
    ti, pi_ = tree.query(tp.geometry.values, predicate="dwithin", distance=buffer_km * 1000)
    if len(ti) == 0:
        return []
    d = shapely.distance(tp.geometry.values[ti], gp.geometry.values[pi_])
    best: dict[int, tuple[float, int]] = {}
    for a, b, dd in zip(ti, pi_, d):
        if a not in best or dd < best[a][0]:
            best[a] = (dd, b)
    out = []
    for a, (_dd, b) in best.items():
        line = gp.geometry.values[b]
        frac = float(shapely.line_locate_point(line, tp.geometry.values[a], normalized=True))
        rowp = g.iloc[b]
        if b == 0:  # the first river reach starts at the release point
            km = float(rowp["cum_start_km"]) + (frac - frac0) * float(rowp["length_km"])
        else:
            km = float(rowp["cum_start_km"]) + frac * float(rowp["length_km"])
        if km <= 0:
            continue
        if b == 0 and frac < frac0:
            continue
        name = str(towns.iloc[a].get("name", "town"))
        country = towns.iloc[a].get("country", None)
        popn = towns.iloc[a].get("population", np.nan)
        pt = t.geometry.iloc[a]
        out.append(dict(name=name, kind="town", km=km, country=country, lon=float(pt.x), lat=float(pt.y),
                        population=float(popn) if popn is not None and pd.notna(popn) else np.nan))
    return out


_PLACES: list[Any] = []


def _places() -> Any:
    """GeoNames towns with population (``data/sites/places.csv``, :func:`riskmap.population.load_places`)."""
    if not _PLACES:
        from riskmap.population import load_places

        try:
            _PLACES.append(load_places())
        except RiskmapInputError:
            _PLACES.append(None)
    return _PLACES[0]
