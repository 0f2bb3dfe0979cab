"""What a spill scenario's numbers rest on: its assumptions and its uncertainty statement.

``_assumptions`` (the model, flows and release), ``_path_assumptions`` (the
stations used, lakes not marked on the network, the snap distance) and
``_transit_assumptions`` (lake transit, ranges, overland route, karst, towns)
are the ``assumptions`` of a :class:`riskmap.spill_result.SpillResult`;
``_uncertainty`` is its ``uncertainty``. Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmap.discharge import _Network, _variants
from riskmap.i18n import _, current_lang, format_percent
from riskmap.spill_path import DISCHARGE_UNCERTAINTY, _Flows
from riskmap.spill_routing import LAKE_PLUG_FRACTION, _sig

__all__: list[str] = []


def _assumptions(model: str, flows: _Flows, dur: float, pr: pd.DataFrame, snap_km: float, site: str) -> list[str]:
    """The assumptions of every scenario: substance, mixing, discharge, slopes, lakes, model, release."""
    qsource = flows.qsource
    a = [
        "conservative substance: no decay, settling, sorption or volatilisation (real peaks are lower for reactive ones)",
        "complete mixing over the river cross-section; values within about 1 h of travel from the release are not reliable",
        f"discharge: {qsource}; " + (
            "each reach's flow and drainage area interpolated between the gauges (rule per reach in q_method), "
            "conserved at confluences, losing where the gauges lose; steady flow during the event"
            if qsource.startswith("GRDC") else
            "published long-term figures scaled to each reach by upstream channel length (a stand-in for "
            "drainage area); steady flow during the event"),
        ("reach slopes: Jobson's relations with slope (eqs. 12-13) where the reaches carry a slope column"
         if ("slope" in pr.columns or "slope_m_m" in pr.columns) else
         "no river slopes in the hydrography: Jobson's no-slope velocity relations (eqs. 14-15) are used"),
        "real stratified lakes and reservoirs operated for hydropower can pass a cloud faster than the lake "
        "transit model; those without a volume are routed as river unless on_unknown_lake='stop'",
        "after a lake the outflow is carried downstream by advection only (its residence time dwarfs river dispersion)",
        "tributaries dilute the cloud as the discharge grows along the path (mass is conserved)",
    ]
    if model == "jobson":
        a.append("model: Jobson (1996) most-probable peak velocity; maximum-probable velocity gives the fast band")
    elif model == "jobson-max":
        a.append("model: Jobson (1996) maximum-probable peak velocity (cautious: earliest arrival, highest peak)")
    else:
        a.append("model: 1-D advection-dispersion (instantaneous-release flux solution), velocity = Jobson "
                 "most-probable, dispersion Fischer (1975) with W = 7.2 Q^0.5 and u* = 0.1 U")
    if dur > 0:
        a.append(f"release spread evenly over {dur:g} h (superposition of instantaneous releases)")
    else:
        a.append("instantaneous release")
    a.append(f"release at {site}, {snap_km:.2f} km from the river line it was snapped to")
    a.append("leading edge: first time the concentration reaches 1% of its peak "
             "(for a Jobson river-only cloud this is Jobson's 0.89 Tp)")
    return a


def _path_assumptions(pr: pd.DataFrame, net: _Network, flows: _Flows, basin_id: str | None,
                      snap_km: float) -> list[str]:
    """Assumptions specific to this path: stations used, unplaced stations, unmarked lakes, snap distance."""
    out = []
    used = pr.dropna(subset=["q_station"]).drop_duplicates("q_station")
    for _i, u in used.iterrows():
        out.append(f"discharge station used: {u['q_station']} -- {u['q_citation']}")
    if flows.q.attrs.get("unplaced_stations"):
        out.append("stations of the table not found on this network (river name absent): "
                   + ", ".join(flows.q.attrs["unplaced_stations"]))
    marked = net.waterbody_keys()
    unmarked = [lk["name"] for lk in flows.table.get("lake", [])
                if basin_id and lk.get("basin") == basin_id
                and not (set(_variants(lk["name"])).union(*(_variants(a) for a in lk.get("aliases", []))) & marked)]
    if unmarked:
        out.append("lakes/reservoirs of this basin NOT marked on the network, so not modelled even if "
                   "the path passes them (concentrations below them are then overestimated): "
                   + ", ".join(unmarked))
    if snap_km > 1.0:
        out.append(f"the release point is {snap_km:.1f} km from the mapped network; that stretch is counted as "
                   "straight-line km (a lower bound of the true route) and the dilution before the river is ignored")
    return out


def _transit_assumptions(pr: pd.DataFrame, buffer_km: float, pop: dict[str, Any]) -> list[str]:
    """Assumptions of the issue-16 model: overland route, lake transit, karst, ranges, towns."""
    a = [f"lakes and reservoirs: plug-flow delay of {LAKE_PLUG_FRACTION[0]:.0%} of the residence time V/Q "
         f"(fast band {LAKE_PLUG_FRACTION[1]:.0%}; never shorter than the lake length at river velocity), then "
         "a completely mixed tank for the rest of it; volume from GRanD v1.3, else a cited figure; a lake "
         "without a volume is routed as river (see the notes)",
         "ranges: arrival between the maximum-probable velocity (early) and the most-probable velocity at the "
         "low end of the discharge range (late); peaks widened by the discharge uncertainty "
         + ", ".join(f"{k} +/-{v:.0%}" for k, v in DISCHARGE_UNCERTAINTY.items()) + " (riskmap assumption)"]
    if "overland" in pr.columns and pr["overland"].any():
        km = float(pr.loc[pr["overland"], "remaining_km"].sum())
        a.append(f"the first {km:.1f} km (site to the mapped river) are an overland/unmapped route, "
                 "counted as straight-line km at the first reach's flow and velocity: approximate")
    if pr["karst"].any():
        a.append("underground karst link on the path (Prespa -> Ohrid): not a surface river; its travel time "
                 "is unknown and NOT included, so arrival times below it are lower bounds")
    if pop:
        a.append(f"downstream population: GeoNames towns (data/sites/places.csv) within {buffer_km:g} km of the "
                 "path, per country: " + ", ".join(f"{k} {int(v):,}" for k, v in pop.items()))
    return a


def _uncertainty(table_df: pd.DataFrame) -> dict[str, Any]:
    """The fast-vs-central spread of arrival times and peak concentrations."""
    factor = _conc_factor(table_df)
    return {
        "velocity": ("most-probable (central) vs maximum-probable (fast) peak velocity, Jobson (1996); the late "
                     "end: most-probable velocity at the low end of the discharge range"),
        "arrival_h": {r["checkpoint"]: [r["leading_edge_h_fast"], r["leading_edge_h"]] for _i, r in table_df.iterrows()},
        "arrival_range_h": {r["checkpoint"]: [r.get("leading_edge_h_low"), r.get("leading_edge_h_high")]
                            for _i, r in table_df.iterrows()},
        "concentration_factor": factor,
        "discharge_uncertainty": dict(DISCHARGE_UNCERTAINTY),
        "statement": _("arrival times: between leading_edge_h_low and leading_edge_h_high (velocity band x "
                       "discharge uncertainty); peak concentrations: between peak_mg_l_low and peak_mg_l_high, "
                       "a factor of about {factor} above the central value at most; discharge measured at "
                       "gauges +/-{measured}, interpolated +/-{interpolated}, assumed +/-{assumed} "
                       "(column discharge_basis)").format(
            factor=_sig(factor, 2),
            **{k: f"{v:.0%}" if current_lang() == "en" else format_percent(v)
               for k, v in DISCHARGE_UNCERTAINTY.items() if k in ("measured", "interpolated", "assumed")}),
    }


def _conc_factor(df: pd.DataFrame) -> float:
    """The largest ratio of the high to the central peak concentration (at least 1; NaN without peaks)."""
    if df.empty:
        return float("nan")
    r = (df["peak_mg_l_high"] / df["peak_mg_l"]).replace([np.inf, -np.inf], np.nan).dropna()
    return float(max(r.max(), 1.0)) if len(r) else float("nan")
