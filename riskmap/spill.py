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
cited volume in the parameter file stops the computation there, with a reason.

Nothing here imports from the presentation layers; geometry work happens in a
local azimuthal-equidistant projection, never in degrees.
"""

from __future__ import annotations

import re
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from riskmap._errors import RiskmapInputError
from riskmap.i18n import _, country_name, current_lang, format_number, format_percent, pgettext, town_name
from riskmap._geo import local_aeqd
from riskmap.basins import basins_dir, known_basins
from riskmap.discharge import _lake_lookup, _Network, _norm, _variants, assign_discharge, gauged_discharge
from riskmap.exposure import assess
from riskmap.params import DEFAULT_DISCHARGE_FILE, load_discharge_table  # noqa: F401  (re-exported)
from riskmap.transport import (G, USTAR_RATIO, WIDTH_COEF, WIDTH_EXP, _box_signal,  # noqa: F401  (re-exported)
                               _cstr, _jobson_analytic, _metrics, _river_signal, _Signal, fischer_dispersion,
                               jobson_unit_peak, jobson_velocity)

__all__ = [
    "MODELS",
    "CHECKPOINT_COLUMNS",
    "SpillResult",
    "SpillOptions",
    "simulate_spill",
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
    "priority_sites",
    "simulate_batch",
]

#: Model names accepted by :func:`simulate_spill`.
MODELS: tuple[str, ...] = ("jobson", "jobson-max", "ade")

#: Columns of :attr:`SpillResult.checkpoints`, in order.
CHECKPOINT_COLUMNS: list[str] = [
    "checkpoint", "kind", "river_km", "leading_edge_h", "peak_time_h", "peak_mg_l",
    "above_threshold_h", "country", "leading_edge_h_fast", "peak_mg_l_high", "discharge_m3s",
    "note",
    # issue 16: ranges (velocity band x discharge uncertainty), what the numbers rest on, towns
    "leading_edge_h_low", "leading_edge_h_high", "peak_time_h_low", "peak_time_h_high",
    "peak_mg_l_low", "overland_km", "basis", "discharge_basis", "volume_m3", "volume_source", "population",
]

#: Relative uncertainty of the mean discharge by what it rests on (riskmap assumption, docs/spill.md):
#: a GRDC long-term mean at its gauge, a value interpolated between gauges, an assumed value.
DISCHARGE_UNCERTAINTY: dict[str, float] = {"measured": 0.10, "interpolated": 0.25, "assumed": 0.50}
#: Lake/reservoir transit: plug-flow delay = this fraction of the residence time V/Q (central, fast),
#: followed by a completely mixed tank holding the rest of the residence time (docs/spill.md).
LAKE_PLUG_FRACTION: tuple[float, float] = (0.10, 0.03)

# Input guards (riskmap's, documented in docs/spill.md): refuse absurd inputs.
MAX_MASS_KG = 1.0e8          # 100,000 t
MAX_DURATION_H = 720.0       # 30 days; longer releases are chronic pollution, not a spill
# Jobson (1996) regressions were fitted on US rivers at ordinary flows; riskmap refuses
# relative discharges Q/Qa outside this band (see docs/spill.md, "Limits").
QREL_RANGE = (0.05, 20.0)
MIN_MIXED_TP_H = 1.0         # closer than 1 h travel the cloud is not laterally mixed
TOWN_BUFFER_KM = 5.0
#: Towns of at least this population are checkpoints; all towns count for the downstream population.
TOWN_CHECKPOINT_MIN_POP = 5000
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


# ------------------------------------------------------------------ result


@dataclass
class SpillResult:
    """Outcome of :func:`simulate_spill`.

    Attributes
    ----------
    checkpoints : pandas.DataFrame
        One row per checkpoint in flow order, columns :data:`CHECKPOINT_COLUMNS`
        (times in hours after the start of the release, concentrations in mg/L).
    assumptions : list of str
        Every assumption the numbers rest on.
    uncertainty : dict
        The band: ``velocity`` (most-probable vs maximum-probable), ``arrival_h``
        (per checkpoint [fast, central] leading edge), ``concentration_factor``.
    path : geopandas.GeoDataFrame
        The reaches from the release to the outlet with ``cum_km`` and peak times.
    curves : dict
        checkpoint name -> (t_h, c_mg_l) arrays, for plotting.
    params : dict
        The inputs (mass, duration, model, discharge, threshold, site).
    """

    checkpoints: pd.DataFrame
    assumptions: list[str]
    uncertainty: dict[str, Any]
    path: gpd.GeoDataFrame
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)

    def to_geojson_timestamped(self, start: datetime | None = None) -> dict[str, Any]:
        """A FeatureCollection for ``folium.plugins.TimestampedGeoJson``.

        The path is split into reach segments, each a LineString whose vertices
        carry the peak-arrival time (``properties.times``); each checkpoint is a
        Point at its peak time with the concentration in ``properties``.

        Parameters
        ----------
        start : datetime, optional
            Clock time of the release (default 2000-01-01 00:00, i.e. times read
            as elapsed time).

        Examples
        --------
        >>> fc = result.to_geojson_timestamped()  # doctest: +SKIP
        >>> fc["type"]  # doctest: +SKIP
        'FeatureCollection'
        """
        t0 = start or datetime(2000, 1, 1)
        feats: list[dict[str, Any]] = []
        for _i, row in self.path.iterrows():
            geom = row.geometry
            if geom is None or geom.is_empty or not np.isfinite(row["peak_time_end_h"]):
                continue
            coords = list(shapely.get_coordinates(geom))
            n = len(coords)
            ts = np.linspace(row["peak_time_start_h"], row["peak_time_end_h"], n)
            feats.append({
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [list(map(float, c)) for c in coords]},
                "properties": {"times": [(t0 + timedelta(hours=float(x))).isoformat() for x in ts],
                               "kind": "path", "reach_id": int(row["reach_id"]),
                               "style": {"color": "#c0392b", "weight": 4}},
            })
        for _i, cp in self.checkpoints.iterrows():
            if not np.isfinite(cp["peak_time_h"]) or pd.isna(cp.get("_lon")):
                continue
            feats.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(cp["_lon"]), float(cp["_lat"])]},
                "properties": {"time": (t0 + timedelta(hours=float(cp["peak_time_h"]))).isoformat(),
                               "kind": cp["kind"], "name": str(cp["checkpoint"]),
                               "peak_mg_l": None if pd.isna(cp["peak_mg_l"]) else float(cp["peak_mg_l"]),
                               "popup": f"{cp['checkpoint']}: peak {cp['peak_mg_l']:.3g} mg/L "
                                        f"at {cp['peak_time_h']:.1f} h"},
            })
        return {"type": "FeatureCollection", "features": feats}

    def table(self) -> pd.DataFrame:
        """The public checkpoint table (without private helper columns)."""
        return self.checkpoints[[c for c in CHECKPOINT_COLUMNS if c in self.checkpoints.columns]]

    def plot(self, ax: Any = None, log: bool | None = None) -> Any:
        """Concentration vs time at each checkpoint (matplotlib); returns the axes.

        ``log=None`` picks a log scale when peaks span more than two orders of
        magnitude (lakes); the time axis stops at three times the latest peak.

        Examples
        --------
        >>> ax = result.plot()  # doctest: +SKIP
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _fig, ax = plt.subplots(figsize=(9, 4.5))
        for name, (t, c) in self.curves.items():
            ax.plot(t, c, label=checkpoint_label(name).replace("$", r"\$"))  # "$" would start mathtext
        thr = self.params.get("threshold_mg_l")
        if thr:
            ax.axhline(thr, color="k", ls=":", lw=1,
                       label=_("threshold {value} mg/L").format(value=format_number(thr, 3 if thr < 1 else 1)))
        peaks = [float(c.max()) for _, c in self.curves.values() if len(c)]
        if log is None:
            log = bool(peaks) and max(peaks) > 100 * max(min(peaks), 1e-300)
        if log:
            ax.set_yscale("log")
            if peaks:
                ax.set_ylim(min(peaks) / 100, max(peaks) * 2)
        tpk = [float(t[np.argmax(c)]) for t, c in self.curves.values() if len(c)]
        if tpk:
            ax.set_xlim(0, 3 * max(tpk) + 1)
        ax.set_xlabel(_("hours after the start of the release"))
        ax.set_ylabel(_("concentration (mg/L)"))
        ax.set_title(_("Release of {mass} kg, model {model}").format(
            mass=format_number(self.params.get("mass_kg", float("nan")), 0), model=self.params.get("model")))
        ax.legend(fontsize=7, loc="upper right")
        return ax


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


# ------------------------------------------------------------------ locating the release


def _aeqd(lon: float, lat: float) -> Any:
    return local_aeqd(lon, lat)


def _locate(point: shapely.Point, reaches: gpd.GeoDataFrame, max_km: float) -> tuple[int, float, float]:
    """Nearest reach (STRtree in a local equidistant projection): (reach_id, fraction, km)."""
    crs = _aeqd(point.x, point.y)
    r = reaches.to_crs(crs)
    p = gpd.GeoSeries([point], crs=4326).to_crs(crs).iloc[0]
    tree = shapely.STRtree(r.geometry.values)
    idx, dist = tree.query_nearest(p, return_distance=True)
    i = int(idx[0])
    km = float(dist[0]) / 1000.0
    if km > max_km:
        raise RiskmapInputError(f"site at {point.x:.4f}E {point.y:.4f}N is {km:.1f} km from the nearest "
                                f"river reach (limit {max_km:g} km): not on the river network")
    line = r.geometry.values[i]
    frac = float(shapely.line_locate_point(line, p, normalized=True)) if line.length > 0 else 1.0
    return int(r["reach_id"].values[i]), frac, km


# ------------------------------------------------------------------ main


@dataclass(frozen=True)
class SpillOptions:
    """How :func:`simulate_spill` runs: flows, model, network and reporting choices.

    Attributes
    ----------
    discharge : {"mean", "low"} or path or dict
        Which flow to use: the long-term mean, the cited low flow, or a user
        parameter file with the format of ``riskmap/params/discharge.toml``.
    model : {"jobson", "jobson-max", "ade"}
    basin : str or Basin, optional
        Basin id (loaded with :func:`riskmap.hydrography.load_basin`) or a loaded
        Basin; not needed when ``reaches`` is given.
    threshold_mg_l : float
        Concentration threshold for the "hours above threshold" column.
    reaches, lakes, towns : GeoDataFrame, optional
        Use this network instead of a basin's (schema of ``docs/architecture.md``).
    discharge_table : dict or path, optional
        Station/lake table used with ``discharge="mean"|"low"`` (default bundled).
    max_snap_km : float
        Farthest a release point may lie from the network.
    town_buffer_km : float
        Towns within this distance of the path are checkpoints.
    on_unknown_lake : {"river", "stop", "raise"}
        What to do at a lake or reservoir without a cited volume (see :func:`simulate_spill`).
    """

    discharge: str | Path | Mapping[str, Any] = "mean"
    model: str = "jobson"
    basin: Any = None
    threshold_mg_l: float = 0.01
    reaches: gpd.GeoDataFrame | None = None
    lakes: gpd.GeoDataFrame | None = None
    towns: gpd.GeoDataFrame | None = None
    discharge_table: Mapping[str, Any] | str | Path | None = None
    max_snap_km: float = 10.0
    town_buffer_km: float = TOWN_BUFFER_KM
    on_unknown_lake: str = "river"


@dataclass
class _Release:
    """The network a spill runs on and where it enters it."""

    site: Any
    basin_id: str | None
    reaches: Any
    lakes: Any
    towns: Any


@dataclass
class _Flows:
    """The discharge table used, which flow, where it came from, and per-reach flows."""

    table: Mapping[str, Any]
    flow: str
    qsource: str
    q: pd.DataFrame


@dataclass
class _Routed:
    """The signal at a checkpoint, as :func:`_route` returns it.

    ``analytic`` holds ``(Tp_h, Qa)`` when the closed-form Jobson metrics apply
    (instantaneous release, river only); ``note`` never carries it.
    """

    signal: _Signal | None
    q: float
    note: str
    analytic: tuple[float, float] | None = None


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
    rel = _release_network(site_or_point, opts)
    net = _network(rel.reaches)
    flows = _flows(rel.reaches, opts, rel.basin_id)
    rid0, frac0, snap_km, site_label = _resolve_release(rel.site, rel.reaches, net, opts.max_snap_km)
    pr = _path_table(net, rid0, frac0, flows)
    origin, cross_km, site_pt = _origin(rel.site)
    pr = _with_overland(pr, snap_km, origin, cross_km, site_pt)
    towns = rel.towns if opts.towns is not None or rel.basin_id is None else _places()
    cps, pop = _checkpoints(pr, towns, opts.town_buffer_km, rel.lakes, frac0)
    assumptions = _assumptions(opts.model, flows.flow, flows.qsource, dur, pr, flows.table, snap_km, site_label)
    assumptions += _path_assumptions(pr, net, flows, rel.basin_id, snap_km)
    lake_fn = _lake_volumes(rel.basin_id, flows.table, user=flows.qsource.startswith("user"))
    table_df, curves, stop_reason = _checkpoint_table(pr, cps, mass, dur, lake_fn, opts)
    if stop_reason:
        assumptions.append(f"STOPPED: {stop_reason}")
    assumptions += _transit_assumptions(pr, opts.town_buffer_km, pop)
    pgdf = _path_frame(pr, frac0, opts.model, rel.reaches)
    params = dict(mass_kg=mass, duration_h=dur, model=opts.model, discharge=flows.qsource,
                  threshold_mg_l=opts.threshold_mg_l, site=site_label,
                  start_reach=rid0, start_frac=frac0, snap_km=snap_km, basin=rel.basin_id,
                  origin_country=origin, downstream_population=pop, town_buffer_km=opts.town_buffer_km)
    return SpillResult(table_df, assumptions, _uncertainty(table_df), pgdf, curves, params)


def _origin(site: Any) -> tuple[str | None, float | None, shapely.Point | None]:
    """The site's country, the km to a border crossed before the mapped river (``assess``), the site point."""
    if isinstance(site, gpd.GeoDataFrame) and len(site) == 1:
        site = site.iloc[0]
    if not isinstance(site, pd.Series):
        pt = site if isinstance(site, shapely.Point) else None
        return None, None, pt
    c = site.get("country")
    origin = str(c) if isinstance(c, str) and c else None
    cross = None
    basis = site.get("river_km_basis")
    if isinstance(basis, str) and basis.startswith("border crossed off"):
        fb = site.get("first_border_river_km")
        cross = float(fb) if fb is not None and pd.notna(fb) else None
    g = site.get("geometry")
    pt = None if g is None else (g if g.geom_type == "Point" else g.representative_point())
    return origin, cross, pt


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


_RESERVOIRS: dict[str, pd.DataFrame] = {}


def _lake_volumes(basin_id: str | None, table: Mapping[str, Any], *, user: bool = False) -> Any:
    """A lookup ``name -> {volume_m3, source, citation}``: GRanD/cited (reservoirs.csv), then the table."""
    res = pd.DataFrame()
    if basin_id is not None:
        if basin_id not in _RESERVOIRS:
            f = basins_dir() / "reservoirs.csv"
            allr = pd.read_csv(f) if f.exists() else pd.DataFrame(columns=["basin", "waterbody"])
            _RESERVOIRS[basin_id] = allr[allr["basin"] == basin_id]
        res = _RESERVOIRS[basin_id]

    memo: dict[str, dict[str, Any] | None] = {}

    def lookup(name: str) -> dict[str, Any] | None:
        if name not in memo:
            memo[name] = _lookup(name)
        return memo[name]

    def _lookup(name: str) -> dict[str, Any] | None:
        cited = _lake_lookup(table, name)
        if user and cited is not None:
            return dict(cited, source="user table")
        if len(res):
            hit = res[res["waterbody"] == name]
            if len(hit) and pd.notna(hit["volume_m3"].iloc[0]):
                h = hit.iloc[0]
                return dict(volume_m3=float(h["volume_m3"]), source=str(h["volume_source"]),
                            citation=str(h["citation"]), name=name)
        if cited is not None:
            return dict(cited, source="cited")
        return None

    return lookup


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


def _release_network(site_or_point: Any, opts: SpillOptions) -> _Release:
    """The release object, basin id and network layers (the basin's, or the ones given)."""
    basin, reaches, lakes, towns = opts.basin, opts.reaches, opts.lakes, opts.towns
    max_snap_km = opts.max_snap_km
    basin_id = None
    if isinstance(site_or_point, str):  # "site_id", "lon,lat" or "reach:<id>", as on the CLI
        site_or_point, basin = locate_release(site_or_point, basin=basin if reaches is None else None,
                                              max_snap_km=max_snap_km)
    if basin is None and reaches is None and isinstance(site_or_point, pd.Series):
        b = site_or_point.get("basin")
        basin = b if isinstance(b, str) and b else None
    if basin is None and reaches is None and not isinstance(site_or_point, (int, np.integer)):
        pt = site_or_point
        if isinstance(pt, pd.Series):
            pt = pt.geometry
        elif isinstance(pt, (tuple, list)) and len(pt) == 2:
            pt = shapely.Point(float(pt[0]), float(pt[1]))
        if isinstance(pt, shapely.Geometry):
            basin = find_basin(pt.representative_point() if pt.geom_type != "Point" else pt,
                               max_snap_km=max_snap_km)
    if reaches is None:
        if basin is None:
            raise RiskmapInputError("give basin= (drin, drina, syr_darya) or a reaches= network")
        if isinstance(basin, str):
            basin_id = basin
            basin = _load_basin(basin)
        else:
            basin_id = getattr(basin, "id", None)
        reaches, lakes, towns = basin.reaches, getattr(basin, "lakes", None), getattr(basin, "towns", None)
    elif isinstance(basin, str):
        basin_id = basin
    if isinstance(reaches, gpd.GeoDataFrame) and reaches.crs is not None and not reaches.crs.equals("EPSG:4326"):
        reaches = reaches.to_crs(4326)
    return _Release(site_or_point, basin_id, reaches, lakes, towns)


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


def _checkpoint_table(pr: pd.DataFrame, cps: list[dict[str, Any]], mass: float, dur: float,
                      table: Any, opts: SpillOptions
                      ) -> tuple[pd.DataFrame, dict[str, Any], str | None]:
    """Route to every checkpoint (central and fast velocity): the table rows, curves and any stop reason."""
    rows, curves = [], {}
    stop_reason = None
    arr = _arrays(pr)
    memo: dict[Any, Any] = {}
    retain = _retained_fraction(pr)
    cum_end = pr["cum_end_km"].to_numpy()
    for cp in cps:
        k = min(int(np.searchsorted(cum_end, cp["km"] - 1e-9)), len(pr) - 1)
        m_cp = mass * float(retain[k])
        if cp["kind"] in ("lake", "reservoir") and callable(table):
            info = table(cp.get("lake", ""))
            cp["volume_m3"] = None if info is None else float(info["volume_m3"])
            cp["volume_source"] = "unknown (routed as river)" if info is None else info.get("source", "cited")
        res = {}
        for variant in ("main", "fast", "slow"):
            vcol = "Vmax" if (variant == "fast" or opts.model == "jobson-max") else "Vp"
            vcol = "Vslow" if variant == "slow" and opts.model != "jobson-max" else vcol
            try:
                res[variant] = _route(pr, cp["km"], m_cp, dur, opts.model, vcol, table, arr=arr, memo=memo,
                                      unknown_as_river=opts.on_unknown_lake == "river")
            except _LakeUnknown as e:
                if opts.on_unknown_lake == "raise":
                    raise RiskmapInputError(str(e)) from None
                stop_reason = str(e)
                res[variant] = _Routed(None, np.nan, str(e))
        row, curve = _checkpoint_row(cp, res["main"], res["fast"], m_cp, opts.threshold_mg_l)
        row.update(_range_columns(cp, pr, res, m_cp, opts.threshold_mg_l, row, arr))
        if retain[k] < 0.999 and res["main"].signal is not None:
            lost = _("{share} of the released mass left the river with the water lost upstream (gauged losses)")
            share = f"{1 - retain[k]:.0%}" if current_lang() == "en" else format_percent(1 - retain[k])
            row["note"] = "; ".join(x for x in (row["note"], lost.format(share=share)) if x)
        rows.append(row)
        if curve is not None:
            curves[cp["name"]] = curve
    table_df = pd.DataFrame(rows)
    if table_df.empty:
        table_df = pd.DataFrame(columns=CHECKPOINT_COLUMNS + ["_lon", "_lat"])
    return table_df, curves, stop_reason


def _retained_fraction(pr: pd.DataFrame) -> np.ndarray:
    """Fraction of the released mass still in the river on each path row.

    Where the flow falls along the path (a losing stretch: irrigation
    withdrawals, evaporation, seepage) the water leaving carries the substance
    at the river's concentration: the mass falls in proportion to the flow and
    the concentration is not raised by the loss. Rises (tributaries) dilute.
    """
    q = pr["Q"].to_numpy(dtype=float)
    step = np.ones(len(q))
    if len(q) > 1:
        step[1:] = np.minimum(1.0, q[1:] / q[:-1])
    return np.cumprod(step)


def _range_columns(cp: dict[str, Any], pr: pd.DataFrame, res: dict[str, _Routed], mass: float,
                   threshold: float, row: dict[str, Any], arr: dict[str, Any] | None = None) -> dict[str, Any]:
    """The issue-16 columns of a checkpoint: ranges, overland km, what it rests on, volume, population.

    Arrival range: fast = Jobson maximum-probable velocity, slow = most-probable
    velocity at the low end of the discharge range. Peak range: the central and
    fast peaks widened by the relative discharge uncertainty at the checkpoint
    (:data:`DISCHARGE_UNCERTAINTY`; the peak scales as 1/Q).
    """
    arr = _arrays(pr) if arr is None else arr
    idx = min(int(np.searchsorted(arr["cum_end_km"], cp["km"] - 1e-9)), len(pr) - 1)
    u = float(arr["q_unc"][idx])
    qb = str(arr["q_basis"][idx])
    overland = float(arr["overland_km"])
    ov_km = min(float(cp["km"]), overland)
    out: dict[str, Any] = dict(overland_km=round(ov_km, 2), discharge_basis=qb, volume_m3=np.nan,
                               volume_source=cp.get("volume_source"), population=cp.get("population", np.nan))
    parts = [f"discharge {qb} (+/-{u:.0%})", "travel time: Jobson (1996) regression"]
    if ov_km > 0:
        parts.append(f"first {ov_km:.1f} km overland/unmapped: approximate")
    if cp.get("volume_m3") is not None:
        out["volume_m3"] = cp["volume_m3"]
        parts.append(f"lake transit: plug flow + mixed tank (assumed), volume {cp.get('volume_source')}")
    if arr["karst"][: idx + 1].any():
        parts.append("underground karst link on the path: travel time unknown (not included)")
    out["basis"] = "; ".join(parts)
    if res["main"].signal is None:
        out.update(leading_edge_h_low=np.nan, leading_edge_h_high=np.nan, peak_time_h_low=np.nan,
                   peak_time_h_high=np.nan, peak_mg_l_low=np.nan)
        return out
    mf = _routed_metrics(res["fast"], mass, threshold) if res["fast"].signal is not None else None
    ms = _routed_metrics(res["slow"], mass, threshold) if res["slow"].signal is not None else None
    lead, tpk = row["leading_edge_h"], row["peak_time_h"]
    out["leading_edge_h_low"] = row["leading_edge_h_fast"]
    out["leading_edge_h_high"] = max(lead, ms["leading"]) if ms else lead
    out["peak_time_h_low"] = min(tpk, mf["tpeak"]) if mf else tpk
    out["peak_time_h_high"] = max(tpk, ms["tpeak"]) if ms else tpk
    out["peak_mg_l_low"] = row["peak_mg_l"] / (1 + u) if pd.notna(row["peak_mg_l"]) else np.nan
    out["peak_mg_l_high"] = row["peak_mg_l_high"] / (1 - u) if pd.notna(row["peak_mg_l_high"]) else np.nan
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


def _routed_metrics(r: _Routed, mass: float, threshold: float) -> dict[str, float]:
    """Checkpoint metrics of a routed signal (closed-form Jobson when it applies)."""
    if r.analytic is not None:
        return _jobson_analytic(r.analytic[0], r.q, r.analytic[1], mass, threshold)
    if r.signal is None:
        raise ValueError("no signal to measure (routing stopped before this checkpoint)")
    return _metrics(r.signal, r.q, threshold)


def _checkpoint_row(cp: dict[str, Any], main: _Routed, fast: _Routed, mass: float, threshold: float
                    ) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None]:
    """One row of the checkpoint table and the concentration curve there (None when stopped)."""
    if main.signal is None:
        return dict(checkpoint=cp["name"], kind=cp["kind"], river_km=round(cp["km"], 2), leading_edge_h=np.nan,
                    peak_time_h=np.nan, peak_mg_l=np.nan, above_threshold_h=np.nan,
                    country=cp["country"], leading_edge_h_fast=np.nan, peak_mg_l_high=np.nan,
                    discharge_m3s=np.nan, note=main.note, _lon=cp["lon"], _lat=cp["lat"]), None
    m = _routed_metrics(main, mass, threshold)
    mf = _routed_metrics(fast, mass, threshold) if fast.signal is not None else m
    sig, qx, note = main.signal, main.q, main.note
    csig = sig.flux / qx * 1e3
    keep = csig >= 1e-4 * max(csig.max(), 1e-300)
    unmixed = ""
    if m["tpeak"] < MIN_MIXED_TP_H and "lake" not in note:
        unmixed = "within 1 h of the release: cloud not yet mixed across the river, peak not reliable"
    row = dict(
        checkpoint=cp["name"], kind=cp["kind"], river_km=round(cp["km"], 2),
        leading_edge_h=m["leading"], peak_time_h=m["tpeak"],
        peak_mg_l=np.nan if unmixed else m["cpeak"], above_threshold_h=np.nan if unmixed else m["above"],
        country=cp["country"], leading_edge_h_fast=min(mf["leading"], m["leading"]),
        peak_mg_l_high=np.nan if unmixed else max(mf["cpeak"], m["cpeak"]), discharge_m3s=qx,
        note="; ".join(x for x in (note, unmixed) if x), _lon=cp["lon"], _lat=cp["lat"])
    return row, (sig.t[keep], csig[keep])


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


def _uncertainty(table_df: pd.DataFrame) -> dict[str, Any]:
    """The fast-vs-central spread of arrival times and peak concentrations."""
    factor = _conc_factor(table_df)
    return {
        "velocity": ("most-probable (central) vs maximum-probable (fast) peak velocity, Jobson (1996); the late "
                     "end: most-probable velocity at the low end of the discharge range"),
        "arrival_h": {r["checkpoint"]: [r["leading_edge_h_fast"], r["leading_edge_h"]] for _, r in table_df.iterrows()},
        "arrival_range_h": {r["checkpoint"]: [r.get("leading_edge_h_low"), r.get("leading_edge_h_high")]
                            for _, r in table_df.iterrows()},
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


def _load_basin(basin_id: str, data_dir: Any = None) -> Any:
    """``riskmap.hydrography.load_basin``, or the contract's GeoPackage layers read directly."""
    try:
        from riskmap.hydrography import load_basin
    except ImportError:
        pass
    else:
        return load_basin(basin_id, data_dir=data_dir) if data_dir is not None else load_basin(basin_id)
    from types import SimpleNamespace

    from riskmap._paths import DATA_DIR

    f = (Path(data_dir) if data_dir is not None else DATA_DIR) / "basins" / f"{basin_id}.gpkg"
    if not f.exists():
        raise RiskmapInputError(f"{f} not found: unknown basin {basin_id!r} or data/basins not built")
    layers = {k: gpd.read_file(f, layer=k) for k in ("reaches", "lakes", "towns")}
    return SimpleNamespace(id=basin_id, **layers)


class _LakeUnknown(Exception):
    pass


def _conc_factor(df: pd.DataFrame) -> float:
    if df.empty:
        return float("nan")
    r = (df["peak_mg_l_high"] / df["peak_mg_l"]).replace([np.inf, -np.inf], np.nan).dropna()
    return float(max(r.max(), 1.0)) if len(r) else float("nan")


def _resolve_release(site: Any, reaches: pd.DataFrame, net: _Network, max_km: float
                     ) -> tuple[int, float, float, str]:
    if isinstance(site, (int, np.integer)) and not isinstance(site, bool):
        if int(site) not in net.down:
            raise RiskmapInputError(f"reach {site} is not in the network")
        return int(site), 0.0, 0.0, f"reach {int(site)}"
    if isinstance(site, gpd.GeoDataFrame):
        if len(site) != 1:
            raise RiskmapInputError(f"give exactly one site, got {len(site)}")
        site = site.iloc[0]
    label = "release point"
    if isinstance(site, pd.Series):
        label = str(site.get("name") or site.get("site_id") or label)
        geom = site.get("geometry")
        if geom is None and {"lon", "lat"} <= set(site.index):
            geom = shapely.Point(float(site["lon"]), float(site["lat"]))
        rid = site.get("reach_id")
        if rid is not None and pd.notna(rid) and int(rid) in net.down and geom is not None and "geometry" in reaches:
            line = reaches.set_index("reach_id").geometry.loc[int(rid)]
            pt = geom if geom.geom_type == "Point" else geom.representative_point()
            crs = _aeqd(pt.x, pt.y)
            gl = gpd.GeoSeries([line], crs=4326).to_crs(crs).iloc[0]
            gp = gpd.GeoSeries([pt], crs=4326).to_crs(crs).iloc[0]
            frac = float(shapely.line_locate_point(gl, gp, normalized=True))
            given = site.get("reach_frac")  # dem-syr's assess: where the site's own route joins the reach
            if given is not None and pd.notna(given) and 0 <= float(given) <= 1:
                frac = float(given)
            snap = site.get("snap_km")
            return int(rid), frac, float(snap) if snap is not None and pd.notna(snap) else gl.distance(gp) / 1000, label
        if geom is None:
            raise RiskmapInputError(f"site {label}: no geometry and no reach_id")
        site = geom if geom.geom_type == "Point" else geom.representative_point()
    if isinstance(site, (tuple, list)) and len(site) == 2:
        site = shapely.Point(float(site[0]), float(site[1]))
        label = f"{site.x:.4f}E {site.y:.4f}N"
    if isinstance(site, shapely.Point):
        if label == "release point":
            label = f"{site.x:.4f}E {site.y:.4f}N"
        if "geometry" not in reaches.columns:
            raise RiskmapInputError("the reaches table has no geometry: give a reach_id instead of a point")
        rg = reaches if isinstance(reaches, gpd.GeoDataFrame) else gpd.GeoDataFrame(reaches, crs=4326)
        if rg.crs is None:
            rg = rg.set_crs(4326)
        rid, frac, km = _locate(site, rg.to_crs(4326), max_km)
        return rid, frac, km, label
    raise RiskmapInputError(f"cannot locate a release from {type(site).__name__}; give (lon, lat), a Point, "
                            "a site row or a reach_id")


def _checkpoints(pr: pd.DataFrame, towns: Any, buffer_km: float, lakes: Any, frac0: float = 0.0
                 ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Checkpoints in flow order (borders, lake outflows, towns, outlet) and downstream population by country."""
    cps: list[dict[str, Any]] = []
    has_geom = "geometry" in pr.columns

    def endpoint(i: int, which: str) -> tuple[float | None, float | None]:
        if not has_geom:
            return None, None
        g = pr["geometry"].iloc[i]
        if g is None or g.is_empty:
            return None, None
        c = shapely.get_coordinates(g)
        x, y = (c[0] if which == "start" else c[-1])
        return float(x), float(y)

    countries = pr["country"].tolist()
    borders = pr["is_border"].fillna(False).astype(bool).tolist()
    for i in range(1, len(pr)):
        if countries[i] != countries[i - 1] or (borders[i] and not borders[i - 1]):
            lon, lat = endpoint(i, "start")
            a, b = countries[i - 1] or "unknown", countries[i] or "unknown"
            cps.append(dict(name=f"border {a} -> {b}", kind="border", km=float(pr["cum_start_km"].iloc[i]),
                            country=b, lon=lon, lat=lat))
    lake_kind = {}
    if lakes is not None and len(lakes) and "name" in lakes.columns:
        for n, k in zip(lakes["name"], lakes.get("kind", pd.Series(["lake"] * len(lakes)))):
            lake_kind[_norm(n)] = k
    lk = pr["lake"].tolist()
    for i in range(len(pr)):
        if lk[i] and (i + 1 == len(pr) or lk[i + 1] != lk[i]):
            lon, lat = endpoint(i, "end")
            natural = any(w in str(lk[i]).lower() for w in ("lake", "jezero", "liqen", "ozero", "köl", "kol"))
            kind = lake_kind.get(_norm(lk[i]), "lake" if natural else "reservoir")
            cps.append(dict(name=f"{lk[i]} (outflow)", kind=kind if kind in ("lake", "reservoir") else "reservoir",
                            km=float(pr["cum_end_km"].iloc[i]), country=countries[i], lon=lon, lat=lat,
                            lake=lk[i]))
    pop: dict[str, int] = {}
    if towns is not None and len(towns) and has_geom:
        tcps = _town_checkpoints(pr, towns, buffer_km, frac0)
        for t in tcps:
            if pd.notna(t.get("population")):
                key = str(t["country"] or "unknown")
                pop[key] = pop.get(key, 0) + int(t["population"])
        cps.extend(t for t in tcps if not (t.get("population", np.nan) < TOWN_CHECKPOINT_MIN_POP))
    lon, lat = endpoint(len(pr) - 1, "end")
    cps.append(dict(name="outlet", kind="outlet", km=float(pr["cum_end_km"].iloc[-1]),
                    country=countries[-1], lon=lon, lat=lat))
    order = {"lake": 0, "reservoir": 0, "border": 1, "town": 2, "outlet": 3}
    cps.sort(key=lambda c: (round(c["km"], 6), order.get(c["kind"], 2)))
    seen, out = set(), []
    for c in cps:
        if c["name"] in seen:
            continue
        seen.add(c["name"])
        out.append(c)
    return out, pop


def _town_checkpoints(pr: pd.DataFrame, towns: gpd.GeoDataFrame, buffer_km: float, frac0: float
                      ) -> list[dict[str, Any]]:
    cols = ["reach_id", "geometry", "cum_start_km", "length_km", "remaining_km"]
    real = pr[~pr["overland"]] if "overland" in pr.columns else pr
    g = gpd.GeoDataFrame(real[cols].reset_index(drop=True), geometry="geometry", crs=4326)
    c = g.geometry.union_all().centroid
    crs = _aeqd(c.x, c.y)
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


def _arrays(pr: pd.DataFrame) -> dict[str, np.ndarray]:
    """The path's columns as numpy arrays (built once per path: ``_route`` runs many times on it)."""
    cols = ["cum_start_km", "cum_end_km", "Q", "Qa", "K", "lake", "Vp", "Vmax", "Vslow", "karst", "q_unc", "q_basis"]
    arr: dict[str, Any] = {c: pr[c].to_numpy() for c in cols if c in pr.columns}
    if "karst" not in arr:
        arr["karst"] = np.zeros(len(pr), dtype=bool)
    arr["overland_km"] = float(pr.loc[pr["overland"], "remaining_km"].sum()) if "overland" in pr.columns else 0.0
    return arr


def _route(pr: pd.DataFrame, km: float, mass: float, dur: float, model: str, vcol: str,
           table: Any, *, unknown_as_river: bool = False, arr: dict[str, np.ndarray] | None = None,
           memo: dict[Any, Any] | None = None) -> _Routed:
    """Signal at river km ``km`` from the release, with the flow there and notes.

    ``memo`` keeps the (per-kg) signal at each completed lake outflow, so the
    checkpoints below a lake do not recompute its transit (the signal is linear
    in the mass).
    """
    a = arr if arr is not None else _arrays(pr)
    cum_end = a["cum_end_km"]
    idx = int(np.searchsorted(cum_end, km - 1e-9))
    idx = min(idx, len(pr) - 1)
    q_here = float(a["Q"][idx])
    qa_here = float(a["Qa"][idx])
    segs = _segments(a, idx, km)
    sig: _Signal | None = None
    river_tp = 0.0       # hours of river travel since the last re-mixing point
    river_var = 0.0      # h2, ADE travel-time variance
    delay = 0.0
    notes = []
    lakes_done: list[str] = []
    i = 0
    while i < len(segs):
        kind, L, ri = segs[i]
        if kind == "river":
            v = float(a[vcol][ri])
            tt = L * 1000 / v / 3600
            if bool(a["karst"][ri]):
                tt = 0.0
                karst_note = "underground karst link, travel time unknown (not included: arrival is a lower bound)"
                if L > 0 and karst_note not in notes:
                    notes.append(karst_note)
                i += 1
                continue
            if sig is None:
                river_tp += tt
                river_var += 2 * float(a["K"][ri]) * L * 1000 / v**3 / 3600**2
            else:
                delay += tt
            i += 1
            continue
        # a lake: gather consecutive reaches with the same lake name
        name = a["lake"][ri]
        j = i
        while j < len(segs) and segs[j][0] == "lake" and a["lake"][segs[j][2]] == name:
            j += 1
        last_ri = segs[j - 1][2]
        lake_complete = cum_end[last_ri] <= km + 1e-9
        key = (vcol, model, dur, last_ri)
        if memo is not None and lake_complete and key in memo:
            s_kg, notes_m, done_m = memo[key]
            sig = _Signal(s_kg.t0, s_kg.dt, s_kg.flux * mass)
            notes, lakes_done, delay, i = list(notes_m), list(done_m), 0.0, j
            continue
        info = table(name) if callable(table) else _lake_lookup(table, name)
        if info is None and unknown_as_river:
            notes.append(_("{name}: no cited volume, routed as river (no retention or dilution): "
                           "peaks below it are upper bounds, arrival times lower bounds").format(name=name))
            for t in range(i, j):
                segs[t] = ("river", segs[t][1], segs[t][2])
            continue
        if info is None:
            raise _LakeUnknown(f"path crosses {name}, whose volume is not in the discharge file: "
                               "no cited volume, so no concentration is computed from here on")
        qa_lake = float(a["Q"][last_ri])
        tau_h = float(info["volume_m3"]) / qa_lake / 3600
        lake_len_km = sum(segs[t][1] for t in range(i, j))
        v_lake = float(a[vcol][ri])
        frac = LAKE_PLUG_FRACTION[1] if vcol == "Vmax" else LAKE_PLUG_FRACTION[0]
        plug_h = min(max(frac * tau_h, lake_len_km * 1000 / v_lake / 3600), 0.9 * tau_h)
        sig = _lake_inflow(sig, a, ri, mass, dur, river_tp, river_var, delay, model)
        delay = 0.0
        sig = _cstr(sig.shifted(plug_h), tau_h - plug_h)
        lake_text = _("{name}: {volume} m3 ({source}), residence {days} d, plug-flow delay {delay} d then mixed").format(
            name=name, volume=_sig(info["volume_m3"]), source=info.get("source", "cited"), days=_sig(tau_h / 24),
            delay=_sig(plug_h / 24))
        if memo is not None and lake_complete:
            memo[key] = (_Signal(sig.t0, sig.dt, sig.flux / mass), list(notes), lakes_done + [lake_text])
        lakes_done.append(lake_text)
        i = j
        if not lake_complete:
            notes.append(_("inside {name}: outflow concentration of the mixed lake").format(name=name))
    return _finish_route(sig, mass, dur, model, (river_tp, river_var, delay), (q_here, qa_here),
                         lakes_done, notes)


def _segments(a: dict[str, np.ndarray], idx: int, km: float) -> list[tuple[str, float, int]]:
    """Segments between the release and ``km``: (``"lake"`` or ``"river"``, length km, reach row index)."""
    start = a["cum_start_km"][: idx + 1].astype(float)
    end = np.minimum(a["cum_end_km"][: idx + 1].astype(float), km)
    lengths = np.maximum(end - start, 0.0)
    return [("lake" if a["lake"][i] else "river", float(lengths[i]), i) for i in range(idx + 1)]


def _lake_inflow(sig: _Signal | None, a: dict[str, np.ndarray], ri: int, mass: float, dur: float,
                 river_tp: float, river_var: float, delay: float, model: str) -> _Signal:
    """The signal entering a lake at reach row ``ri``: the release, the river signal, or the shifted one."""
    if sig is not None:
        return sig.shifted(delay)
    if river_tp < 1e-3:
        return _box_signal(mass, dur)
    return _river_signal(mass, dur, river_tp, river_var, float(a["Q"][ri]), float(a["Qa"][ri]), model)


def _sig(x: float, n: int = 3) -> str:
    """``x`` with ``n`` significant digits in the current language.

    English is ``f"{x:.{n}g}"`` as the notes always were (``4.16e+09``); other languages
    have no exponent and use their number format (``4 160 000 000``, ``2,1``).
    """
    if current_lang() == "en":
        return f"{x:.{n}g}"
    x = float(x)
    if not np.isfinite(x) or x == 0:
        return format_number(x, 0)
    digits = max(0, n - 1 - int(np.floor(np.log10(abs(x)))))
    return format_number(round(x, digits), digits)


def _finish_route(sig: _Signal | None, mass: float, dur: float, model: str, river: tuple[float, float, float],
                  flow: tuple[float, float], lakes_done: list[str], notes: list[str]) -> _Routed:
    """The signal at the checkpoint: river-only (with Jobson's analytic peak) or after lakes, with notes."""
    river_tp, river_var, delay = river
    q_here, qa_here = flow
    analytic = None
    if sig is None:
        river_tp = river_tp if river_tp > 0 else 1e-6
        sig = _river_signal(mass, dur, river_tp, river_var, q_here, qa_here, model)
        note = ""
        if model.startswith("jobson") and dur == 0:
            analytic = (river_tp, qa_here)
    else:
        sig = sig.shifted(delay)
        note = _("after lake(s) {lakes}").format(lakes="; ".join(lakes_done))
    if notes:
        note = "; ".join([note, *notes]) if note else "; ".join(notes)
    return _Routed(sig, q_here, note, analytic)


def _assumptions(model: str, flow: str, qsource: str, dur: float, pr: pd.DataFrame,
                 table: Mapping[str, Any], snap_km: float, site: str) -> list[str]:
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


# ------------------------------------------------------------------ sites, basins, output files


def locate_release(site_id: str, sites: gpd.GeoDataFrame | str | Path | None = None, *,
                   basin: Any = None, max_snap_km: float = 10.0) -> tuple[Any, Any]:
    """Where a release at ``site_id`` enters the network, and in which basin.

    An inventory site is located like :func:`riskmap.exposure.assess` does
    (river snap, or allocation to a reach of its sub-basin), so the spill starts
    on the same reach the exposure engine reports; a ``"lon,lat"`` point or
    ``"reach:<id>"`` is returned as given (the point snaps in
    :func:`simulate_spill`).

    Returns
    -------
    (site, basin)
        The object to pass to :func:`simulate_spill` and the basin id (or the
        ``basin`` given).

    Examples
    --------
    >>> site, basin = locate_release("lit-mailuu-suu-uranium-tailings-and-waste-dumps")  # doctest: +SKIP
    >>> simulate_spill(site, "10t", basin=basin)  # doctest: +SKIP
    """
    site = resolve_site(site_id, sites)
    if isinstance(site, pd.Series):
        if basin is None and isinstance(site.get("basin"), str) and site.get("basin"):
            basin = site["basin"]
        site, basin = _assessed_release(site, basin)
    if basin is None:
        if isinstance(site, int):
            raise RiskmapInputError("a release at reach:<id> needs a basin")
        pt = site if not isinstance(site, pd.Series) else site.geometry.representative_point()
        basin = find_basin(pt, max_snap_km=max_snap_km)
    return site, basin


def _assessed_release(site: pd.Series, basin: Any) -> tuple[pd.Series, Any]:
    """The site as :func:`riskmap.exposure.assess` places it, when it sits on a reach.

    The explicit "assess" step of the analysis, with no error swallowed: a site
    the exposure engine refuses raises its :class:`RiskmapInputError`. A site
    that is neither snapped to a river nor allocated to a reach is returned
    unchanged (the release point then snaps in :func:`simulate_spill`).
    """
    row = assess(gpd.GeoDataFrame([site], geometry="geometry", crs=4326)).iloc[0]
    # every located site ("river snap", "basin allocation", dem-syr's "dem flow path"): start where assess says
    if row.get("drainage_by") not in (None, "none") and pd.notna(row.get("reach_id")):
        return row, basin or row.get("basin")
    return site, basin


def resolve_site(site_id: str, sites: gpd.GeoDataFrame | str | Path | None = None
                 ) -> pd.Series | shapely.Point | int:
    """A site row by ``site_id`` from an inventory, a point from ``"lon,lat"``, or ``"reach:<id>"``.

    Parameters
    ----------
    site_id : str
        A ``site_id`` of the inventory, ``"lon,lat"`` in decimal degrees, or
        ``"reach:<reach_id>"`` (release at the upstream end of that reach; needs a basin).
    sites : GeoDataFrame or path, optional
        The inventory (default ``data/sites/sites.csv``).

    Examples
    --------
    >>> resolve_site("19.36,43.36")
    <POINT (19.36 43.36)>
    >>> resolve_site("reach:57")
    57
    """
    r = re.fullmatch(r"\s*reach:(\d+)\s*", str(site_id))
    if r:
        return int(r.group(1))
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", str(site_id))
    if m:
        lon, lat = float(m.group(1)), float(m.group(2))
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RiskmapInputError(f"{site_id!r}: longitude/latitude out of range")
        return shapely.Point(lon, lat)
    if sites is None or isinstance(sites, (str, Path)):
        from riskmap._paths import DATA_DIR
        from riskmap.io import read_sites

        path = Path(sites) if sites is not None else DATA_DIR / "sites" / "sites.csv"
        if not path.exists():
            raise RiskmapInputError(f"{path}: site inventory not found; give --sites FILE or lon,lat")
        inv = read_sites(path)
    else:
        inv = sites
    hit = inv[inv["site_id"].astype(str) == str(site_id)]
    if hit.empty:
        close = [s for s in inv["site_id"].astype(str) if str(site_id).lower() in s.lower()][:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise RiskmapInputError(f"site_id {site_id!r} not found in the inventory{hint}")
    return hit.iloc[0]


def find_basin(point: shapely.Point, max_snap_km: float = 10.0, data_dir: Any = None) -> str:
    """The basin whose river network passes nearest to ``point`` (within ``max_snap_km``).

    Examples
    --------
    >>> find_basin(shapely.Point(19.36, 43.36))  # doctest: +SKIP
    'drina'
    """
    folder = basins_dir(data_dir)
    ids = list(known_basins(data_dir))  # reference and imported basins (riskmap.basins)
    if not ids:
        raise RiskmapInputError(f"no basin networks in {folder}: run `riskmap data build-reference`")
    best: tuple[float, str] | None = None
    for b in ids:
        basin = _load_basin(b, data_dir)
        try:
            _r, _f, km = _locate(point, basin.reaches.to_crs(4326), max_snap_km)
        except RiskmapInputError:
            continue
        if best is None or km < best[0]:
            best = (km, b)
    if best is None:
        raise RiskmapInputError(f"{point.x:.4f}E {point.y:.4f}N is not within {max_snap_km:g} km of a river "
                                "of the Drin, Drina or Syr Darya networks: outside the basins")
    return best[1]


def priority_sites(basin: str, top: int = 10, sites: gpd.GeoDataFrame | str | Path | None = None
                   ) -> gpd.GeoDataFrame:
    """The ``top`` priority sites of ``basin``, assessed (``exposure.assess``) and ranked (``hazard.rank``).

    Ranked sites come first by ``priority_rank``; when fewer than ``top`` are
    ranked, unranked sites of the basin with a downstream path follow, by
    ``site_id`` (stated in the ``selection`` column).
    """
    from riskmap._paths import DATA_DIR
    from riskmap.hazard import rank, score
    from riskmap.io import read_sites

    if basin not in set(known_basins()):
        raise RiskmapInputError(f"unknown basin {basin!r}; known: {', '.join(sorted(known_basins()))}")
    if top < 1:
        raise RiskmapInputError(f"--top must be at least 1, got {top}")
    inv = (read_sites(Path(sites) if sites is not None else DATA_DIR / "sites" / "sites.csv")
           if sites is None or isinstance(sites, (str, Path)) else sites)
    mine = inv[inv["basin"] == basin]
    if mine.empty:
        raise RiskmapInputError(f"no site of the inventory lies in basin {basin!r}")
    ranked = rank(score(assess(mine)))
    ranked = ranked[ranked["reach_id"].notna()]
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


def scenario_sidecar(path: str | Path) -> Path:
    """The JSON file beside a spill CSV holding its scenario: ``x.csv`` -> ``x.scenario.json``."""
    p = Path(path)
    return p.with_name(f"{p.stem}.scenario.json")


def write_result(result: SpillResult, path: str | Path) -> Path:
    """Write a spill result: ``.csv`` (checkpoint table), ``.geojson`` (timestamped path) or ``.html``.

    The CSV holds the checkpoint table only: a plain RFC 4180 table (text cells
    quoted and formula-neutralised) that spreadsheets and ``pandas.read_csv``
    open as is. The scenario (parameters including the site name, uncertainty
    statement, assumptions) is free text, so it is written beside it as JSON,
    :func:`scenario_sidecar` (``x.csv`` -> ``x.scenario.json``). The HTML
    escapes every text and embeds the concentration plot, so it works offline.

    Examples
    --------
    >>> write_result(result, "spill.csv")  # doctest: +SKIP
    """
    import html
    import json

    from riskmap._about import version_string
    from riskmap.io import atomic_write_text, neutralise_formula

    p = Path(path)
    ext = p.suffix.lower()
    tab = result.table()
    if ext == ".csv":
        import csv

        out = tab.copy()
        for c in out.columns:
            if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].astype(object).map(neutralise_formula)
        # the scenario (parameters, uncertainty, assumptions) is free text holding user text (the
        # site name): it goes to a JSON sidecar, never into CSV lines a spreadsheet would split into
        # cells; the CSV is the checkpoint table only, every text cell quoted and formula-neutralised
        atomic_write_text(scenario_sidecar(p), json.dumps(
            {"riskmap spill": {k: v for k, v in result.params.items()},
             "uncertainty": result.uncertainty.get("statement", ""),
             "assumptions": list(result.assumptions), "table": p.name,
             "generated_by": version_string()},
            ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n")
        return atomic_write_text(p, out.to_csv(index=False, lineterminator="\n", float_format="%.6g",
                                               quoting=csv.QUOTE_NONNUMERIC))
    if ext in (".geojson", ".json"):
        return atomic_write_text(p, json.dumps(result.to_geojson_timestamped(), ensure_ascii=False))
    if ext in (".html", ".htm"):
        import base64
        import io as _io

        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 4.5))
        result.plot(ax=ax)
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        img = base64.b64encode(buf.getvalue()).decode("ascii")
        e = html.escape

        def fmt(v: Any) -> str:
            if isinstance(v, float):
                return "" if not np.isfinite(v) else f"{v:.4g}"
            return e("" if v is None else str(v))

        rows = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in r) + "</tr>"
                       for r in tab.itertuples(index=False))
        heads = "".join(f"<th>{e(c)}</th>" for c in tab.columns)
        prm = result.params
        doc = f"""<!doctype html><html><head><meta charset="utf-8">
<title>riskmap spill scenario</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;font-size:13px}}
td,th{{border:1px solid #bbb;padding:3px 6px;text-align:right}}th{{background:#eee}}td:first-child{{text-align:left}}</style>
</head><body>
<h1>Spill scenario: {e(str(prm.get("site")))}</h1>
<p>Mass {fmt(prm.get("mass_kg"))} kg, release duration {fmt(prm.get("duration_h"))} h, model {e(str(prm.get("model")))},
discharge {e(str(prm.get("discharge")))}, threshold {fmt(prm.get("threshold_mg_l"))} mg/L.
Times in hours after the start of the release; concentrations in mg/L.</p>
<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>
<h2>Uncertainty</h2><p>{e(str(result.uncertainty.get("statement", "")))}</p>
<h2>Assumptions</h2><ul>{"".join(f"<li>{e(a)}</li>" for a in result.assumptions)}</ul>
<img alt="concentration at each checkpoint" src="data:image/png;base64,{img}">
<p>Method: docs/spill.md (Jobson 1996, USGS WRIR 96-4013; Fischer 1975). Not an operational
warning model: use for contingency planning only.</p>
<p><small>Generated by {e(version_string())}.</small></p>
</body></html>"""
        return atomic_write_text(p, doc)
    raise RiskmapInputError(f"{p}: unknown output type {ext!r}; use .csv, .geojson or .html")
