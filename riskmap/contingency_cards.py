"""Scenario cards: one site's release run through the spill model, its timeline and whom to notify.

:func:`scenario_card` runs :func:`riskmap.spill.simulate_spill` with the
site's release scenario and builds the :class:`ScenarioCard`: the checkpoint
timeline (:func:`timeline_table`), the notification table per downstream
country (:func:`notification_table`), the data gaps and a small route map.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap.contingency_scenario import release_scenario, site_facts
from riskmap.contingency_text import UNKNOWN, _code_or_label, _parts, _value_label
from riskmap.i18n import _, current_lang

__all__ = ["ScenarioCard", "notification_table", "scenario_card", "timeline_table"]

@dataclass
class ScenarioCard:
    """One site's scenario card: the site, the release, the spill result and its timeline.

    Attributes
    ----------
    site : dict
        ``site_id``, ``name``, ``category``, ``country``, ``basin``, ``priority_rank``.
    known, unknown : list
        Inventory facts known (label, value) and the labels of those unknown.
    scenario : dict
        :func:`release_scenario`.
    result : riskmap.spill.SpillResult
        The spill run.
    timeline : pandas.DataFrame
        One row per checkpoint (see :func:`timeline_table`).
    notifications : pandas.DataFrame
        :func:`notification_table`.
    route_png : str
        ``data:`` URI of the route map ("" when not drawn).
    """

    site: dict[str, Any]
    known: list[dict[str, str]]
    unknown: list[str]
    scenario: dict[str, Any]
    result: Any
    timeline: pd.DataFrame
    notifications: pd.DataFrame
    route_png: str = ""
    gaps: list[str] = field(default_factory=list)


def _col(df: pd.DataFrame, name: str, fallback: str | None = None) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce")
    if fallback is not None and fallback in df.columns:
        return pd.to_numeric(df[fallback], errors="coerce")
    return pd.Series(np.nan, index=df.index)


def timeline_table(checkpoints: pd.DataFrame, towns: pd.DataFrame | None = None) -> pd.DataFrame:
    """The card's timeline from a spill checkpoint table (public columns; range columns when present).

    Columns: ``checkpoint``, ``kind``, ``country``, ``river_km``, ``leading_edge_h``,
    ``leading_edge_h_fast``, ``peak_time_h``, ``peak_mg_l``, ``peak_mg_l_low``,
    ``peak_mg_l_high``, ``above_threshold_h``, ``population`` (towns; NaN when unknown), ``note``.
    """
    cp = checkpoints.reset_index(drop=True)
    out = pd.DataFrame({
        "checkpoint": cp["checkpoint"].astype(str), "kind": cp["kind"].astype(str),
        "country": cp["country"].astype(str), "river_km": _col(cp, "river_km"),
        "leading_edge_h": _col(cp, "leading_edge_h"),
        "leading_edge_h_fast": _col(cp, "leading_edge_h_fast"),
        "peak_time_h": _col(cp, "peak_time_h"), "peak_mg_l": _col(cp, "peak_mg_l"),
        "peak_mg_l_low": _col(cp, "peak_mg_l_low", "peak_mg_l"),
        "peak_mg_l_high": _col(cp, "peak_mg_l_high", "peak_mg_l"),
        "above_threshold_h": _col(cp, "above_threshold_h"),
    })
    pop = _col(cp, "population")
    if towns is not None and len(towns) and "population" in towns.columns and pop.isna().all():
        lookup = towns.drop_duplicates("name").set_index(towns.drop_duplicates("name")["name"].astype(str))
        tp = pd.to_numeric(lookup["population"], errors="coerce")
        pop = out["checkpoint"].map(tp).where(out["kind"].eq("town"))
    out["population"] = pd.to_numeric(pop, errors="coerce")
    out["note"] = cp["note"].fillna("").astype(str) if "note" in cp.columns else ""
    return out


def notification_table(timeline: pd.DataFrame, origin: str, river_entry: str | None = None) -> pd.DataFrame:
    """Who must be notified, by whom, and how much time there is (one row per downstream country).

    Walks the timeline in flow order; a country is notified at the first
    checkpoint whose country (or border pair) includes it. When the modelled
    river entry lies in another country than the site (``river_entry``), that
    country is affected before the first checkpoint: its time is unknown (NaN)
    and it is listed first (most urgent).

    Returns
    -------
    pandas.DataFrame
        ``notified``, ``origin`` (country of the accident, notifies under the
        UNECE IAN system), ``upstream`` (neighbour at the crossing), ``checkpoint``,
        ``river_km``, ``warning_h`` (central leading edge), ``warning_h_fast``, ordered
        by urgency (fast case, then central).
    """
    rows: list[dict[str, Any]] = []
    seen = set(_parts(origin))
    prev = _parts(origin)
    if river_entry:
        new = [c for c in _parts(river_entry) if c not in seen]
        for c in new:
            rows.append({"notified": c, "origin": origin, "upstream": "|".join(prev) or origin,
                         "checkpoint": f"river entry ({river_entry}): before the first checkpoint",
                         "river_km": np.nan, "warning_h": np.nan, "warning_h_fast": np.nan})
        seen |= set(new)
        prev = _parts(river_entry) or prev
    for r in timeline.itertuples(index=False):
        here = _parts(r.country)
        for c in here:
            if c in seen:
                continue
            up = [p for p in prev if p != c] or [p for p in here if p != c] or [origin]
            rows.append({"notified": c, "origin": origin, "upstream": "|".join(up), "checkpoint": r.checkpoint,
                         "river_km": r.river_km, "warning_h": r.leading_edge_h,
                         "warning_h_fast": r.leading_edge_h_fast})
            seen.add(c)
        if here:
            prev = here
    df = pd.DataFrame(rows, columns=["notified", "origin", "upstream", "checkpoint", "river_km", "warning_h",
                                     "warning_h_fast"])
    key = df["warning_h_fast"].fillna(df["warning_h"]).fillna(-1.0)
    return df.assign(_k=key).sort_values(["_k", "warning_h"], kind="mergesort", na_position="first") \
        .drop(columns="_k").reset_index(drop=True)


def _route_png(res: Any, basin: Any, site_geom: Any, title: str) -> str:
    """A small static route map (basin outline, reaches, path, site, checkpoints) as a data URI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from riskmap.report_figures import mpl_text, png_uri

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    if basin is not None:
        basin.outline.boundary.plot(ax=ax, color="#777777", linewidth=0.6)
        basin.reaches.plot(ax=ax, color="#9ecae1", linewidth=0.4)
    path = getattr(res, "path", None)
    if path is not None and len(path):
        gpd.GeoSeries(path.geometry, crs=4326).plot(ax=ax, color="#c0392b", linewidth=1.6)
    cp = res.checkpoints
    if {"_lon", "_lat"} <= set(cp.columns):
        sel = cp[cp["kind"].isin(["border", "town", "reservoir", "lake"]) & cp["_lon"].notna()]
        ax.scatter(sel["_lon"], sel["_lat"], s=10, c="#1b4f72", zorder=4)
    if site_geom is not None and not site_geom.is_empty:
        pt = site_geom.representative_point()
        ax.scatter([pt.x], [pt.y], s=60, marker="*", c="#000000", zorder=5)
    ax.set_title(mpl_text(title), fontsize=8)
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    return png_uri(fig)


def _card_gaps(site: Mapping[str, Any], unknown: list[str], scenario: dict[str, Any], res: Any,
               river_entry: str | None) -> list[str]:
    gaps = [_("{field}: unknown").format(field=lab) for lab in unknown]
    if not scenario["volume_known"]:
        gaps.append(_("release mass: nominal (stored quantity not in the inventory)"))
    prec = str(site.get("coord_precision") or "")
    if prec in ("town", "approximate", "unknown", ""):
        shown = prec or "unknown"
        gaps.append(_("location: coordinate precision '{precision}'").format(
            precision=shown if current_lang() == "en" else _value_label("coord_precision", shown)))
    if river_entry:
        gaps.append(_("the modelled river entry lies in {entry}, not in {country}: the time to that border is "
                      "not modelled").format(entry=_code_or_label(river_entry),
                                             country=_code_or_label(site.get("country"))))
    for note in dict.fromkeys(str(n) for n in res.checkpoints.get("note", pd.Series(dtype=str)).fillna("")):
        if note:
            gaps.append(_("spill model: {note}").format(note=note))
    gaps += [_("spill model: {note}").format(note=a) for a in res.assumptions if a.startswith("STOPPED")]
    return gaps


def scenario_card(site: pd.Series, basin_id: str, params: Mapping[str, Any], *, inventory: Any = None,
                  basin: Any = None, draw: bool = True) -> ScenarioCard:
    """Build the scenario card of one site (runs :func:`riskmap.spill.simulate_spill`).

    Parameters
    ----------
    site : Series
        An assessed (and scored) site row.
    basin_id : str
        Its basin.
    params : dict
        :func:`riskmap.contingency_params.load_contingency_params`.
    inventory : GeoDataFrame, optional
        The inventory the site comes from (for :func:`riskmap.spill.locate_release`).
    basin : Basin, optional
        Loaded basin (for towns and the route map).
    """
    from riskmap import spill as sp

    meta = params["meta"]
    scen = release_scenario(site, params)
    where, b = sp.locate_release(str(site["site_id"]), inventory, basin=basin_id)
    res = sp.simulate_spill(where, scen["mass_kg"], scen["duration_h"], basin=b, model=meta["model"],
                            discharge=meta["discharge"], threshold_mg_l=float(meta["threshold_mg_l"]))
    towns = getattr(basin, "towns", None)
    timeline = timeline_table(res.checkpoints, towns)
    origin = str(site.get("country") or UNKNOWN)
    entry = None
    path = getattr(res, "path", None)
    if path is not None and len(path) and "country" in path.columns:
        first = str(path["country"].iloc[0])
        if not set(_parts(first)) & set(_parts(origin)):
            entry = first
    known, unknown = site_facts(site)
    info = {"site_id": str(site["site_id"]), "name": str(site.get("name") or site["site_id"]),
            "category": str(site.get("category") or UNKNOWN), "country": origin, "basin": basin_id,
            "priority_rank": site.get("priority_rank"), "river_entry": entry,
            "snap_km": res.params.get("snap_km")}
    title = _("{name}: route to the outlet").format(name=info["name"])
    png = _route_png(res, basin, site.geometry, title) if draw else ""
    return ScenarioCard(info, known, unknown, scen, res, timeline, notification_table(timeline, origin, entry),
                        png, _card_gaps(site, unknown, scen, res, entry))
