"""The path of a spill: the reaches from the release to the outlet, with their flows and hydraulics.

``_flows`` chooses the discharge (GRDC gauges interpolated along the network,
a cited low flow, or a user table, :mod:`riskmap.discharge`); ``_path_table``
lays the reaches from the release to the outlet end to end with river km,
discharge, Jobson velocities (central, fast, slow) and Fischer dispersion;
``_with_overland`` prepends the site's overland route to the river;
``_path_frame`` is the path with peak times for the map animation.
Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from riskmap._errors import RiskmapInputError
from riskmap.discharge import _Network, assign_discharge, gauged_discharge
from riskmap.params import load_discharge_table
from riskmap.transport import fischer_dispersion, jobson_velocity

if TYPE_CHECKING:
    from riskmap.spill_result import SpillOptions

__all__ = ["DISCHARGE_UNCERTAINTY", "QREL_RANGE"]

#: Relative uncertainty of the mean discharge by what it rests on (riskmap assumption, docs/spill.md):
#: a GRDC long-term mean at its gauge, a value interpolated between gauges, an assumed value.
DISCHARGE_UNCERTAINTY: dict[str, float] = {"measured": 0.10, "interpolated": 0.25, "assumed": 0.50}
# Jobson (1996) regressions were fitted on US rivers at ordinary flows; riskmap refuses
# relative discharges Q/Qa outside this band (see docs/spill.md, "Limits").
QREL_RANGE = (0.05, 20.0)


@dataclass
class _Flows:
    """The discharge table used, which flow, where it came from, and per-reach flows."""

    table: Mapping[str, Any]
    flow: str
    qsource: str
    q: pd.DataFrame



_GAUGED: dict[tuple[Any, ...], pd.DataFrame] = {}
_NETS: dict[tuple[int, int], tuple[Any, _Network]] = {}


def _network(reaches: pd.DataFrame) -> _Network:
    """The name-aware network of a reaches table, built once per table object (basins are cached)."""
    key = (id(reaches), len(reaches))
    hit = _NETS.get(key)
    if hit is None or hit[0] is not reaches:
        hit = _NETS[key] = (reaches, _Network(reaches))
    return hit[1]


def _flows(reaches: pd.DataFrame, opts: SpillOptions, basin_id: str | None) -> _Flows:
    """The discharge table and flow chosen by ``opts.discharge``, and the flow on every reach."""
    discharge = opts.discharge
    table: Mapping[str, Any]
    if isinstance(discharge, (str, Path)) and str(discharge) not in ("mean", "low"):
        table = load_discharge_table(discharge)
        flow = "mean"
        qsource = f"user file {discharge}"
    elif isinstance(discharge, Mapping):
        table, flow, qsource = discharge, "mean", "user table"
    else:
        dt = opts.discharge_table
        table = dt if isinstance(dt, Mapping) else load_discharge_table(dt)
        flow = str(discharge)
        qsource = f"{Path(table.get('path', 'bundled')).name} ({flow} flow)"
        if basin_id is not None and flow == "mean":
            key = (basin_id, id(reaches), len(reaches), str(table.get("path", "")), opts.discharge_table is None)
            try:
                q = _GAUGED.get(key)
                if q is None:
                    q = _GAUGED.setdefault(key, gauged_discharge(reaches, basin_id, table=table))
            except RiskmapInputError:
                q = None
            if q is not None:
                qsource = ("GRDC gauges (data/basins/gauges.csv) interpolated along the network, cited "
                           f"figures of {Path(table.get('path', 'bundled')).name} where GRDC has no gauge (mean flow)")
                return _Flows(table, flow, qsource, q)
    q = assign_discharge(reaches, table, basin=basin_id)
    q["q_basis"] = q["q_mean_m3s"].notna().map({True: "assumed", False: None})
    return _Flows(table, flow, qsource, q)


def _path_table(net: _Network, rid0: int, frac0: float, flows: _Flows) -> pd.DataFrame:
    """The reaches from the release to the outlet, with distances, flows and hydraulics."""
    pr = net.r.loc[net.path(rid0)].copy()
    pr["remaining_km"] = pr["length_km"].astype(float)
    pr.iloc[0, pr.columns.get_loc("remaining_km")] = float(pr["length_km"].iloc[0]) * (1 - frac0)
    pr["cum_end_km"] = pr["remaining_km"].cumsum()
    pr["cum_start_km"] = pr["cum_end_km"] - pr["remaining_km"]
    pr = pr.join(flows.q, how="left")
    qcol = "q_low_m3s" if flows.flow == "low" else "q_mean_m3s"
    pr["Q"] = pr[qcol]
    pr["Qa"] = pr["q_mean_m3s"]
    pr["Da"] = pr["area_km2"] * 1e6
    _check_path_flows(pr, flows)
    slope = next((pr[c] for c in ("slope", "slope_m_m") if c in pr.columns), None)
    pr["Vp"] = jobson_velocity(pr["Q"], pr["Qa"], pr["Da"], "most-probable", slope=slope)
    pr["Vmax"] = jobson_velocity(pr["Q"], pr["Qa"], pr["Da"], "maximum-probable", slope=slope)
    pr["q_basis"] = pr["q_basis"].fillna("assumed") if "q_basis" in pr.columns else "assumed"
    pr["q_unc"] = pr["q_basis"].map(DISCHARGE_UNCERTAINTY).fillna(DISCHARGE_UNCERTAINTY["assumed"])
    # the slow end of the range: most-probable velocity at the low end of the discharge range
    pr["Vslow"] = jobson_velocity(pr["Q"] * (1 - pr["q_unc"]), pr["Qa"] * (1 - pr["q_unc"]), pr["Da"],
                                  "most-probable", slope=slope)
    pr["K"] = fischer_dispersion(pr["Q"], pr["Vp"])
    if "karst" in pr.columns:
        pr["karst"] = pr["karst"].fillna(False).astype(bool)
    else:  # drin-fix adds the column; until then the reach name says it
        pr["karst"] = pr["name"].fillna("").astype(str).str.contains("karst", case=False)
    pr["lake"] = pd.Series([w.strip() if isinstance(w, str) and w.strip() else "" for w in pr["waterbody"]],
                           index=pr.index, dtype=object)
    return pr


def _check_path_flows(pr: pd.DataFrame, flows: _Flows) -> None:
    """Refuse a path with a reach without flow, out of Jobson's Q/Qa range, or without drainage area."""
    bad = pr[~(pr["Q"] > 0)]
    if len(bad):
        b = bad.iloc[0]
        what = "low-flow" if flows.flow == "low" else "mean"
        raise RiskmapInputError(
            f"no cited {what} discharge for reach {int(b['reach_id'])} ({b['name'] or 'unnamed'}) on the path "
            f"({flows.qsource}); pass --discharge FILE with a station for it")
    qrel = pr["Q"] / pr["Qa"]
    out_of_range = pr[(qrel < QREL_RANGE[0]) | (qrel > QREL_RANGE[1])]
    if len(out_of_range):
        b = out_of_range.iloc[0]
        raise RiskmapInputError(
            f"relative discharge Q/Qa = {b['Q'] / b['Qa']:.3g} on {b['name']} is outside the range "
            f"{QREL_RANGE} riskmap accepts for Jobson (1996) relations")
    if pr["Da"].isna().any():
        raise RiskmapInputError("drainage area unknown on the path (no station with area_km2 in the basin)")


def _with_overland(pr: pd.DataFrame, snap_km: float, origin: str | None, cross_km: float | None,
                   site_pt: shapely.Point | None) -> pd.DataFrame:
    """Prepend the site's overland/unmapped route to the river (``snap_km``) as explicit path rows.

    The rows (``reach_id`` -1, -2) carry the first reach's flow and velocities
    (an approximation, flagged in every checkpoint below). When the site's
    country differs from the first reach's, the border is crossed on that
    route: at ``cross_km`` (the straight line to the border, from ``assess``)
    when known, else at its end.
    """
    first_real = pr.iloc[0]
    if not (snap_km and snap_km > 0):
        pr = pr.copy()
        pr["overland"] = False
        return pr
    rc = str(first_real["country"] or "")
    crossing = origin is not None and rc and origin not in rc.split("|")
    parts: list[tuple[float, str | None]] = []
    if crossing and cross_km is not None and 0 < cross_km < snap_km:
        parts = [(cross_km, origin), (snap_km - cross_km, rc)]
    elif crossing:
        parts = [(snap_km, origin)]
    else:
        parts = [(snap_km, origin or rc)]
    geom = None
    if site_pt is not None and "geometry" in pr.columns and first_real["geometry"] is not None:
        c = shapely.get_coordinates(first_real["geometry"])
        geom = shapely.LineString([(site_pt.x, site_pt.y), tuple(c[0])])
    cut = cross_km / snap_km if cross_km is not None else 1.0
    rows = []
    for k, (length, country) in enumerate(parts):
        r = first_real.copy()
        r["reach_id"] = -(k + 1)
        r["downstream_id"] = -1
        r["name"] = f"overland/unmapped route to {first_real['name'] or 'the river'} (approximate)"
        r["length_km"] = r["remaining_km"] = length
        same = country == rc  # the route is in the first reach's country (or border stretch): no crossing
        r["country"], r["lake"], r["waterbody"], r["karst"] = country, "", None, False
        r["is_border"] = bool(first_real["is_border"]) if same and pd.notna(first_real["is_border"]) else False
        if "geometry" in pr.columns:
            r["geometry"] = geom if len(parts) == 1 else (
                shapely.ops.substring(geom, 0, cut, normalized=True) if k == 0 and geom is not None
                else shapely.ops.substring(geom, cut, 1, normalized=True) if geom is not None else None)
        rows.append(r)
    out = pd.concat([pd.DataFrame(rows), pr], ignore_index=False)
    out["overland"] = out["reach_id"].astype(int) < 0
    out["cum_end_km"] = out["remaining_km"].cumsum()
    out["cum_start_km"] = out["cum_end_km"] - out["remaining_km"]
    return out


def _path_frame(pr: pd.DataFrame, frac0: float, model: str, reaches: Any) -> gpd.GeoDataFrame:
    """The path with peak times, for the map animation (first reach cut at the release)."""
    v = pr["Vmax"] if model == "jobson-max" else pr["Vp"]
    tp_cum = (pr["remaining_km"] * 1000 / v / 3600).cumsum()
    pr["peak_time_end_h"] = tp_cum.values
    pr["peak_time_start_h"] = pr["peak_time_end_h"] - (pr["remaining_km"] * 1000 / v / 3600)
    if "geometry" in pr.columns:
        pgdf = gpd.GeoDataFrame(pr.reset_index(drop=True), geometry="geometry", crs=getattr(reaches, "crs", None))
        k0 = int(np.argmax(~pgdf["overland"].to_numpy(bool))) if "overland" in pgdf.columns else 0
        if frac0 > 0 and pgdf.crs is not None and len(pgdf):
            g0 = pgdf.geometry.iloc[k0]
            if g0 is not None and not g0.is_empty:
                pgdf.loc[k0, "geometry"] = shapely.ops.substring(g0, frac0, 1.0, normalized=True)
    else:
        pgdf = gpd.GeoDataFrame(pr.reset_index(drop=True))
    pgdf["cum_km"] = pgdf["cum_end_km"]
    return pgdf
