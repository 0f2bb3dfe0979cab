"""Spill scenarios along a directed river network, for contingency planning.

A release of ``mass_kg`` of a conservative (non-decaying, non-sorbing) substance
at a site is routed down the reach network (the ``reaches`` layer of a basin,
see ``docs/architecture.md``) to the basin outlet. At every *checkpoint* --
border crossings, lakes and reservoirs, towns near the river, the outlet -- the
model reports when the leading edge and the peak arrive, how high the peak
concentration is and how long the concentration stays above a threshold.

Models (``docs/spill.md`` has the equations, units and sources):

``"jobson"`` (default)
    Jobson (1996, USGS WRIR 96-4013) empirical relations: most-probable peak
    velocity from drainage area, discharge and mean annual discharge (the
    no-slope relation, because reach slopes are not part of the hydrography),
    time to peak ``Tp = L / Vp``, leading edge ``0.890 Tp``, unit peak
    concentration ``Cup = 857 Tp^(-0.760 (Q/Qa)^-0.079)``, peak concentration
    ``Cp = Cup M / (10^6 Q)``, passage time ``Td10 = 2 10^6 / Cup`` (s).
``"jobson-max"``
    The same with Jobson's maximum-probable velocity (earliest arrival,
    highest concentration: the cautious planning case).
``"ade"``
    1-D advection--dispersion, the analytical solution for an instantaneous
    release written as a flux (inverse-Gaussian) travel-time density, with the
    longitudinal dispersion coefficient from Fischer (1975) on the same
    hydraulics; a finite-duration release is the superposition (convolution)
    of instantaneous ones.

Lakes and reservoirs on the path are completely mixed reactors: the arriving
mass mixes into the lake volume ``V`` and leaves with the outflow, the outflow
concentration decaying with the residence time ``V / Q``. A lake without a
cited volume is routed as river (said in the notes), or stops the computation
there with a reason (``on_unknown_lake``).

The model is split by job: this module is the public API (inputs, :func:`simulate_spill`,
batches); :mod:`riskmap.spill_release` locates the release, :mod:`riskmap.spill_path` lays
out the path with its flows, :mod:`riskmap.spill_checkpoints` picks and names the
checkpoints, :mod:`riskmap.spill_routing` routes the cloud along the river and through
lakes (on the kernels of :mod:`riskmap.transport`), :mod:`riskmap.spill_table` computes the
checkpoint rows, :mod:`riskmap.spill_assumptions` states what they rest on,
:mod:`riskmap.spill_result` holds the result and :mod:`riskmap.spill_output` writes it.
Every public name stays importable from here.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.basins import known_basins
from riskmap.discharge import _Network, assign_discharge
from riskmap.params import DEFAULT_DISCHARGE_FILE, load_discharge_table  # noqa: F401  (re-exported)
from riskmap.spill_assumptions import _assumptions, _path_assumptions, _transit_assumptions, _uncertainty
from riskmap.spill_checkpoints import (TOWN_BUFFER_KM, TOWN_CHECKPOINT_MIN_POP,  # noqa: F401  (re-exported)
                                       _checkpoints, _places, checkpoint_label)
from riskmap.spill_output import scenario_sidecar, write_batch_summary, write_result
from riskmap.spill_path import (DISCHARGE_UNCERTAINTY, QREL_RANGE, _flows, _Flows,  # noqa: F401  (re-exported)
                                _network, _path_frame, _path_table, _with_overland)
from riskmap.spill_release import (_aeqd, _origin, _Release, _release_network,  # noqa: F401  (re-exported)
                                   _resolve_release, find_basin, locate_release, resolve_site)
from riskmap.spill_result import CHECKPOINT_COLUMNS, SpillOptions, SpillResult
from riskmap.spill_routing import LAKE_PLUG_FRACTION, _lake_volumes, _RouteContext  # noqa: F401  (re-exported)
from riskmap.spill_table import MIN_MIXED_TP_H, _checkpoint_table  # noqa: F401  (re-exported)
from riskmap.transport import (G, USTAR_RATIO, WIDTH_COEF, WIDTH_EXP,  # noqa: F401  (re-exported)
                               fischer_dispersion, jobson_unit_peak, jobson_velocity)

__all__ = [
    "MODELS",
    "CHECKPOINT_COLUMNS",
    "SpillResult",
    "SpillOptions",
    "simulate_spill",
    "simulate_site",
    "checkpoint_label",
    "load_discharge_table",
    "assign_discharge",
    "jobson_velocity",
    "jobson_unit_peak",
    "fischer_dispersion",
    "parse_mass",
    "parse_duration",
    "resolve_site",
    "locate_release",
    "find_basin",
    "write_result",
    "write_batch_summary",
    "scenario_sidecar",
    "priority_sites",
    "simulate_batch",
]

#: Model names accepted by :func:`simulate_spill`.
MODELS: tuple[str, ...] = ("jobson", "jobson-max", "ade")

# Input guards (riskmap's, documented in docs/spill.md): refuse absurd inputs.
MAX_MASS_KG = 1.0e8          # 100,000 t
MAX_DURATION_H = 720.0       # 30 days; longer releases are chronic pollution, not a spill
#: Accepted mass units (a mass without a unit is refused).
MASS_UNITS: dict[str, float] = {"kg": 1.0, "t": 1000.0, "tonne": 1000.0, "tonnes": 1000.0, "g": 1e-3, "mg": 1e-6}


# ------------------------------------------------------------------ input parsing


def parse_mass(value: str | float | int) -> float:
    """Parse a released mass (``"10t"``, ``"500 kg"``, ``"2.5e3 kg"``) into kilograms.

    Examples
    --------
    >>> parse_mass("10t"), parse_mass("500 kg"), parse_mass(20)
    (10000.0, 500.0, 20.0)

    A string without a unit (``"10"``) is refused: the message names the accepted units.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    units = ", ".join(MASS_UNITS)
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z]+)?\s*", str(value))
    if not m:
        raise RiskmapInputError(f"--mass: cannot read {value!r}; write a number with a unit ({units}), "
                                "e.g. 10t or 500kg")
    if not m.group(2):
        raise RiskmapInputError(f"--mass {value!r} has no unit; write it with one of {units} (e.g. {value}t "
                                f"or {value}kg)")
    unit = m.group(2).lower()
    if unit not in MASS_UNITS:
        raise RiskmapInputError(f"--mass {value!r}: unknown unit {m.group(2)!r}; accepted units: {units}")
    return float(m.group(1)) * MASS_UNITS[unit]


def parse_duration(value: str | float | int) -> float:
    """Parse a release duration (``"2h"``, ``"30min"``, ``"1d"``, ``0``) into hours.

    Examples
    --------
    >>> parse_duration("2h"), parse_duration("30min"), parse_duration("1d"), parse_duration(0)
    (2.0, 0.5, 24.0, 0.0)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = re.fullmatch(r"\s*([-+]?\d+(?:\.\d*)?)\s*(h|hr|hours?|min|m|d|days?|s)?\s*", str(value))
    if not m:
        raise RiskmapInputError(f"--duration: cannot read {value!r}; write e.g. 2h, 30min or 1d")
    num, unit = float(m.group(1)), (m.group(2) or "h").lower()
    factor = {"h": 1.0, "hr": 1.0, "hour": 1.0, "hours": 1.0, "min": 1 / 60, "m": 1 / 60,
              "d": 24.0, "day": 24.0, "days": 24.0, "s": 1 / 3600}[unit]
    return num * factor



# ------------------------------------------------------------------ one scenario


@dataclass
class _SpillPath:
    """A release placed on its network: the path to the outlet with flows, and where the release enters."""

    rel: _Release
    net: _Network
    flows: _Flows
    pr: pd.DataFrame
    rid0: int
    frac0: float
    snap_km: float
    label: str
    origin: str | None


def simulate_spill(site_or_point: Any, mass_kg: float | str, duration_h: float | str = 0.0,
                   options: SpillOptions | None = None, **overrides: Any) -> SpillResult:
    """Route a spill down the river network and report the checkpoints.

    Parameters
    ----------
    site_or_point : shapely Point, (lon, lat), site row/GeoDataFrame, site_id str, or int reach_id
        Where the release enters the river. A site row carrying ``reach_id``
        (from :func:`riskmap.exposure.assess`) is used as snapped; otherwise the
        nearest reach within ``max_snap_km`` is taken.
    mass_kg : float or str
        Released mass (kg, or a string such as ``"10t"``).
    duration_h : float or str
        Release duration in hours (0 = instantaneous).
    options : SpillOptions, optional
        All other choices (see :class:`SpillOptions`).
    **overrides
        Any :class:`SpillOptions` field by keyword (``discharge=``, ``model=``,
        ``basin=``, ``threshold_mg_l=``, ``reaches=``, ``lakes=``, ``towns=``,
        ``discharge_table=``, ``max_snap_km=``, ``town_buffer_km=``,
        ``on_unknown_lake=``), over ``options``. ``on_unknown_lake`` is what to do
        at a lake or reservoir without a cited volume: ``"river"``
        (default) routes through it as river, with no retention or dilution,
        and says so in the notes and assumptions: peak concentrations below it
        are then upper bounds and arrival times lower bounds (the cautious
        direction for warnings); ``"stop"`` stops the computation there (reason
        in the table); ``"raise"`` raises.

    Returns
    -------
    SpillResult

    Raises
    ------
    riskmap.RiskmapInputError
        Zero/negative/absurd mass, absurd duration, unknown model, discharge
        outside the model's range or missing, site off the network.

    Examples
    --------
    >>> res = simulate_spill((19.36, 43.36), "10t", basin="drina")  # doctest: +SKIP
    >>> res.table()  # doctest: +SKIP
    """
    opts = dataclasses.replace(options or SpillOptions(), **overrides)
    mass, dur = _check_inputs(mass_kg, duration_h, opts)
    path = _spill_path(site_or_point, opts)
    towns = path.rel.towns if opts.towns is not None or path.rel.basin_id is None else _places()
    cps, pop = _checkpoints(path.pr, towns, opts.town_buffer_km, path.rel.lakes, path.frac0)
    lake_fn = _lake_volumes(path.rel.basin_id, path.flows.table, user=path.flows.qsource.startswith("user"))
    ctx = _RouteContext.of(path.pr, opts.model, dur, lake_fn, unknown_as_river=opts.on_unknown_lake == "river")
    table_df, curves, stop_reason = _checkpoint_table(path.pr, cps, mass, ctx, opts)
    assumptions = _all_assumptions(path, opts, dur, stop_reason, pop)
    pgdf = _path_frame(path.pr, path.frac0, opts.model, path.rel.reaches)
    params = dict(mass_kg=mass, duration_h=dur, model=opts.model, discharge=path.flows.qsource,
                  threshold_mg_l=opts.threshold_mg_l, site=path.label,
                  start_reach=path.rid0, start_frac=path.frac0, snap_km=path.snap_km, basin=path.rel.basin_id,
                  origin_country=path.origin, downstream_population=pop, town_buffer_km=opts.town_buffer_km)
    return SpillResult(table_df, assumptions, _uncertainty(table_df), pgdf, curves, params)


def _check_inputs(mass_kg: Any, duration_h: Any, opts: SpillOptions) -> tuple[float, float]:
    """Parsed mass (kg) and duration (h); absurd inputs and unknown choices are refused."""
    mass = parse_mass(mass_kg)
    dur = parse_duration(duration_h)
    if not (np.isfinite(mass) and mass > 0):
        raise RiskmapInputError(f"mass must be a positive number of kg, got {mass_kg!r}")
    if mass > MAX_MASS_KG:
        raise RiskmapInputError(f"mass {mass:g} kg exceeds {MAX_MASS_KG:g} kg (100,000 t): not a spill scenario")
    if not (np.isfinite(dur) and 0 <= dur <= MAX_DURATION_H):
        raise RiskmapInputError(f"duration must be between 0 and {MAX_DURATION_H:g} h, got {duration_h!r}")
    if opts.model not in MODELS:
        raise RiskmapInputError(f"unknown model {opts.model!r}; choose one of {', '.join(MODELS)}")
    threshold_mg_l = opts.threshold_mg_l
    if not (np.isfinite(threshold_mg_l) and threshold_mg_l > 0):
        raise RiskmapInputError(f"threshold must be a positive concentration in mg/L, got {threshold_mg_l!r}")
    if opts.on_unknown_lake not in ("river", "stop", "raise"):
        raise RiskmapInputError("on_unknown_lake must be 'river', 'stop' or 'raise'")
    return mass, dur


def _spill_path(site_or_point: Any, opts: SpillOptions) -> _SpillPath:
    """The network of the release, where it enters, and the path to the outlet (overland route first)."""
    rel = _release_network(site_or_point, opts)
    net = _network(rel.reaches)
    flows = _flows(rel.reaches, opts, rel.basin_id)
    rid0, frac0, snap_km, label = _resolve_release(rel.site, rel.reaches, net, opts.max_snap_km)
    pr = _path_table(net, rid0, frac0, flows)
    origin, cross_km, site_pt = _origin(rel.site)
    pr = _with_overland(pr, snap_km, origin, cross_km, site_pt)
    return _SpillPath(rel, net, flows, pr, rid0, frac0, snap_km, label, origin)


def _all_assumptions(path: _SpillPath, opts: SpillOptions, dur: float, stop_reason: str | None,
                     pop: dict[str, int]) -> list[str]:
    """The scenario's assumptions: general, of this path, where it stopped, of the transit model."""
    a = _assumptions(opts.model, path.flows, dur, path.pr, path.snap_km, path.label)
    a += _path_assumptions(path.pr, path.net, path.flows, path.rel.basin_id, path.snap_km)
    if stop_reason:
        a.append(f"STOPPED: {stop_reason}")
    return a + _transit_assumptions(path.pr, opts.town_buffer_km, pop)


def simulate_site(site_id: str, mass_kg: float | str, duration_h: float | str = 0.0, *,
                  sites: gpd.GeoDataFrame | str | Path | None = None, **options: Any) -> SpillResult:
    """A spill from the site the user names, as ``riskmap spill SITE_ID`` runs it.

    :func:`locate_release` places ``site_id`` (an inventory ``site_id``, ``"lon,lat"``
    or ``"reach:<id>"``; ``basin=`` and ``max_snap_km=`` of ``options`` apply to it),
    then :func:`simulate_spill` runs with ``options`` on the basin found.

    Examples
    --------
    >>> res = simulate_site("lit-mailuu-suu-uranium-tailings-and-waste-dumps", "10t")  # doctest: +SKIP
    >>> res.params["basin"]  # doctest: +SKIP
    'syr_darya'
    """
    max_snap_km = options.get("max_snap_km", SpillOptions.max_snap_km)
    site, basin = locate_release(site_id, sites, basin=options.pop("basin", None), max_snap_km=max_snap_km)
    return simulate_spill(site, mass_kg, duration_h, basin=basin, **options)


# ------------------------------------------------------------------ batches


def priority_sites(basin: str, top: int = 10, sites: gpd.GeoDataFrame | str | Path | None = None
                   ) -> gpd.GeoDataFrame:
    """The ``top`` priority sites of ``basin`` on the one ranking (:func:`riskmap.pipeline.prepare`).

    The sites (a file, a frame, or None for the bundled inventory) are
    validated, assessed against every basin and scored as the report sees
    them; sites of a file outside ``basin`` are counted in a warning
    (:func:`riskmap.pipeline.basin_step`). Ranked sites come first by
    ``priority_rank``; when fewer than ``top`` are ranked, unranked sites of
    the basin with a downstream path follow, by ``site_id`` (stated in the
    ``selection`` column).
    """
    from riskmap.pipeline import basin_step, prepare
    from riskmap.report import assessment_basins

    if basin not in set(known_basins()):
        raise RiskmapInputError(f"unknown basin {basin!r}; known: {', '.join(sorted(known_basins()))}")
    if top < 1:
        raise RiskmapInputError(f"--top must be at least 1, got {top}")
    ranked = basin_step(prepare(sites, basins=assessment_basins(basin)), basin).sites
    if ranked.empty:
        raise RiskmapInputError(f"no site of the inventory lies in basin {basin!r}")
    ranked = ranked[ranked["reach_id"].notna()].copy()
    ranked["selection"] = np.where(ranked["priority_rank"].notna(), "priority rank", "unranked (filler)")
    order = ranked.assign(_r=ranked["priority_rank"].astype("Float64").fillna(np.inf)).sort_values(["_r", "site_id"])
    return order.drop(columns="_r").head(top)


def simulate_batch(sites: gpd.GeoDataFrame, mass_kg: float | str, duration_h: float | str = 0.0,
                   **options: Any) -> pd.DataFrame:
    """One spill per assessed site row: the first border crossing and the downstream population.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``name``, ``first_border``, ``first_border_km``, ``overland_km``,
        ``arrival_h`` / ``arrival_h_low`` / ``arrival_h_high`` (leading edge at the first border),
        ``peak_mg_l`` / ``peak_mg_l_high`` there, ``outlet_km``, ``downstream_population``,
        ``checkpoints``, ``error`` (a site that cannot be routed says why; the others still run).
    """
    rows = []
    for _i, site in sites.iterrows():
        rec: dict[str, Any] = dict(site_id=site.get("site_id"), name=site.get("name"))
        try:
            res = simulate_spill(site, mass_kg, duration_h, basin=site.get("basin"), **options)
        except RiskmapInputError as e:
            rows.append(dict(rec, error=str(e)))
            continue
        t = res.checkpoints
        b = t[t["kind"] == "border"]
        first = b.iloc[0] if len(b) else None
        rec.update(first_border=None if first is None else first["checkpoint"],
                   first_border_km=np.nan if first is None else first["river_km"],
                   overland_km=res.params.get("snap_km"),
                   arrival_h=np.nan if first is None else first["leading_edge_h"],
                   arrival_h_low=np.nan if first is None else first["leading_edge_h_low"],
                   arrival_h_high=np.nan if first is None else first["leading_edge_h_high"],
                   peak_mg_l=np.nan if first is None else first["peak_mg_l"],
                   peak_mg_l_high=np.nan if first is None else first["peak_mg_l_high"],
                   outlet_km=float(t["river_km"].max()) if len(t) else np.nan,
                   downstream_population=int(sum(res.params.get("downstream_population", {}).values())),
                   checkpoints=len(t), error=None)
        rows.append(rec)
    return pd.DataFrame(rows)

