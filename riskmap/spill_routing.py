"""Routing a spill down its path: along the river and through lakes and reservoirs.

:func:`_route` carries the released mass from the release to a river km of the
path and returns a :class:`_Routed`: the concentration signal there, the flow,
the lakes passed and the notes, as data (the checkpoint table builds its text
from them; nothing is parsed back). On the river the cloud travels at a Jobson
velocity (with Fischer dispersion for the ADE model, :mod:`riskmap.transport`);
a lake or reservoir with a volume is a plug-flow delay followed by a completely
mixed tank (:data:`LAKE_PLUG_FRACTION`); a lake without one is routed as river
or stops the computation (:class:`_LakeUnknown`). ``_lake_volumes`` finds the
volumes (GRanD/cited ``reservoirs.csv``, then the discharge table).
Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmap.basins import basins_dir
from riskmap.discharge import _lake_lookup
from riskmap.i18n import _, current_lang, format_number
from riskmap.transport import _box_signal, _cstr, _jobson_analytic, _metrics, _river_signal, _Signal

__all__ = ["LAKE_PLUG_FRACTION"]

#: Lake/reservoir transit: plug-flow delay = this fraction of the residence time V/Q (central, fast),
#: followed by a completely mixed tank holding the rest of the residence time (docs/spill.md).
LAKE_PLUG_FRACTION: tuple[float, float] = (0.10, 0.03)

_KARST_NOTE = "underground karst link, travel time unknown (not included: arrival is a lower bound)"

#: A lake volume lookup: water-body name -> ``{volume_m3, source, citation}`` or None.
LakeInfo = Callable[[str], dict[str, Any] | None]


class _LakeUnknown(Exception):
    """The path crosses a lake or reservoir without a volume and the options say stop (or raise)."""


@dataclass(frozen=True)
class _Routed:
    """The signal at a checkpoint, as :func:`_route` returns it.

    Attributes
    ----------
    signal : _Signal or None
        Mass flux (kg/s) vs time at the checkpoint; None when routing stopped above it.
    q : float
        Discharge at the checkpoint (m3/s).
    lakes : tuple of str
        One text per lake or reservoir the cloud was mixed in (volume, residence, delay).
    notes : tuple of str
        Further notes: karst links, lakes routed as river, a checkpoint inside a lake.
    analytic : (Tp_h, Qa) or None
        Set when the closed-form Jobson metrics apply (instantaneous release, river only).
    stop_reason : str
        Why routing stopped above this checkpoint ("" when it did not).
    """

    signal: _Signal | None
    q: float
    lakes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    analytic: tuple[float, float] | None = None
    stop_reason: str = ""

    @property
    def mixed_in_lake(self) -> bool:
        """Whether the cloud passed through (or is inside) a mixed lake on its way here."""
        return bool(self.lakes)

    @property
    def note(self) -> str:
        """The checkpoint's note: the stop reason, or the lakes passed and the other notes."""
        if self.stop_reason:
            return self.stop_reason
        head = _("after lake(s) {lakes}").format(lakes="; ".join(self.lakes)) if self.lakes else ""
        return "; ".join(x for x in (head, *self.notes) if x)


@dataclass
class _RouteContext:
    """What every routing on one path shares: its arrays, the model, the release, the lake volumes.

    ``memo`` keeps the (per-kg) signal at each completed lake outflow, so the
    checkpoints below a lake do not recompute its transit (the signal is linear
    in the mass).
    """

    arr: dict[str, Any]
    model: str
    dur: float
    lake_info: LakeInfo
    unknown_as_river: bool = False
    memo: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, pr: pd.DataFrame, model: str, dur: float, lakes: LakeInfo | Mapping[str, Any], *,
           unknown_as_river: bool = False) -> _RouteContext:
        """The context of path ``pr``; ``lakes`` is a lookup or a discharge table with a ``lake`` list."""
        info = lakes if callable(lakes) else (lambda name, t=lakes: _lake_lookup(t, name))
        return cls(_arrays(pr), model, dur, info, unknown_as_river)


@dataclass
class _Cloud:
    """The cloud while it is routed: river travel since the release, or the signal out of the last lake."""

    sig: _Signal | None = None   # None: no lake yet, the cloud is a river signal from the release
    river_tp: float = 0.0        # h of river travel since the release (while no lake)
    river_var: float = 0.0       # h2, ADE travel-time variance (while no lake)
    delay: float = 0.0           # h of river travel since the last lake
    notes: list[str] = field(default_factory=list)
    lakes: list[str] = field(default_factory=list)


def _arrays(pr: pd.DataFrame) -> dict[str, np.ndarray]:
    """The path's columns as numpy arrays (built once per path: ``_route`` runs many times on it)."""
    cols = ["cum_start_km", "cum_end_km", "Q", "Qa", "K", "lake", "Vp", "Vmax", "Vslow", "karst", "q_unc", "q_basis"]
    arr: dict[str, Any] = {c: pr[c].to_numpy() for c in cols if c in pr.columns}
    if "karst" not in arr:
        arr["karst"] = np.zeros(len(pr), dtype=bool)
    arr["overland_km"] = float(pr.loc[pr["overland"], "remaining_km"].sum()) if "overland" in pr.columns else 0.0
    return arr


def _route(ctx: _RouteContext, km: float, mass: float, vcol: str) -> _Routed:
    """Signal at river km ``km`` from the release at velocity column ``vcol``, with the flow there and notes."""
    a = ctx.arr
    idx = min(int(np.searchsorted(a["cum_end_km"], km - 1e-9)), len(a["cum_end_km"]) - 1)
    segs = _segments(a, idx, km)
    cloud = _Cloud()
    i = 0
    while i < len(segs):
        if segs[i][0] == "river":
            _river_step(cloud, a, vcol, segs[i])
            i += 1
        else:
            i = _lake_step(ctx, cloud, segs, i, km, mass, vcol)
    return _finish_route(ctx, cloud, mass, (float(a["Q"][idx]), float(a["Qa"][idx])))


def _segments(a: dict[str, np.ndarray], idx: int, km: float) -> list[tuple[str, float, int]]:
    """Segments between the release and ``km``: (``"lake"`` or ``"river"``, length km, reach row index)."""
    start = a["cum_start_km"][: idx + 1].astype(float)
    end = np.minimum(a["cum_end_km"][: idx + 1].astype(float), km)
    lengths = np.maximum(end - start, 0.0)
    return [("lake" if a["lake"][i] else "river", float(lengths[i]), i) for i in range(idx + 1)]


def _river_step(cloud: _Cloud, a: dict[str, np.ndarray], vcol: str, seg: tuple[str, float, int]) -> None:
    """Carry the cloud along one river segment (a karst link adds no time, and a note)."""
    _kind, length, ri = seg
    if bool(a["karst"][ri]):
        if length > 0 and _KARST_NOTE not in cloud.notes:
            cloud.notes.append(_KARST_NOTE)
        return
    v = float(a[vcol][ri])
    tt = length * 1000 / v / 3600
    if cloud.sig is None:
        cloud.river_tp += tt
        cloud.river_var += 2 * float(a["K"][ri]) * length * 1000 / v**3 / 3600**2
    else:
        cloud.delay += tt


def _lake_step(ctx: _RouteContext, cloud: _Cloud, segs: list[tuple[str, float, int]], i: int, km: float,
               mass: float, vcol: str) -> int:
    """Carry the cloud through the lake starting at segment ``i``; the index of the next segment to route.

    A lake without a volume becomes river segments (the same index is returned,
    to route them as river) or raises :class:`_LakeUnknown`.
    """
    a = ctx.arr
    name = a["lake"][segs[i][2]]
    j = i
    while j < len(segs) and segs[j][0] == "lake" and a["lake"][segs[j][2]] == name:
        j += 1
    last_ri = segs[j - 1][2]
    complete = a["cum_end_km"][last_ri] <= km + 1e-9
    key = (vcol, ctx.model, ctx.dur, last_ri)
    if complete and key in ctx.memo:
        s_kg, notes_m, done_m = ctx.memo[key]
        cloud.sig = _Signal(s_kg.t0, s_kg.dt, s_kg.flux * mass)
        cloud.notes, cloud.lakes, cloud.delay = list(notes_m), list(done_m), 0.0
        return j
    info = ctx.lake_info(name)
    if info is None and ctx.unknown_as_river:
        cloud.notes.append(_("{name}: no cited volume, routed as river (no retention or dilution): "
                             "peaks below it are upper bounds, arrival times lower bounds").format(name=name))
        for t in range(i, j):
            segs[t] = ("river", segs[t][1], segs[t][2])
        return i
    if info is None:
        raise _LakeUnknown(f"path crosses {name}, whose volume is not in the discharge file: "
                           "no cited volume, so no concentration is computed from here on")
    lake_text = _mix_in_lake(ctx, cloud, segs[i:j], info, mass, vcol)
    if complete:
        sig = cloud.sig
        assert sig is not None  # set by _mix_in_lake
        ctx.memo[key] = (_Signal(sig.t0, sig.dt, sig.flux / mass), list(cloud.notes), cloud.lakes + [lake_text])
    cloud.lakes.append(lake_text)
    if not complete:
        cloud.notes.append(_("inside {name}: outflow concentration of the mixed lake").format(name=name))
    return j


def _mix_in_lake(ctx: _RouteContext, cloud: _Cloud, lake_segs: list[tuple[str, float, int]],
                 info: Mapping[str, Any], mass: float, vcol: str) -> str:
    """Pass the cloud through one lake (plug-flow delay, then a mixed tank); the lake's text for the note."""
    a = ctx.arr
    ri, last_ri = lake_segs[0][2], lake_segs[-1][2]
    name = a["lake"][ri]
    qa_lake = float(a["Q"][last_ri])
    tau_h = float(info["volume_m3"]) / qa_lake / 3600
    lake_len_km = sum(s[1] for s in lake_segs)
    v_lake = float(a[vcol][ri])
    frac = LAKE_PLUG_FRACTION[1] if vcol == "Vmax" else LAKE_PLUG_FRACTION[0]
    plug_h = min(max(frac * tau_h, lake_len_km * 1000 / v_lake / 3600), 0.9 * tau_h)
    sig = _lake_inflow(ctx, cloud, ri, mass)
    cloud.delay = 0.0
    cloud.sig = _cstr(sig.shifted(plug_h), tau_h - plug_h)
    return _("{name}: {volume} m3 ({source}), residence {days} d, plug-flow delay {delay} d then mixed").format(
        name=name, volume=_sig(info["volume_m3"]), source=info.get("source", "cited"), days=_sig(tau_h / 24),
        delay=_sig(plug_h / 24))


def _lake_inflow(ctx: _RouteContext, cloud: _Cloud, ri: int, mass: float) -> _Signal:
    """The signal entering a lake at reach row ``ri``: the release, the river signal, or the shifted one."""
    if cloud.sig is not None:
        return cloud.sig.shifted(cloud.delay)
    if cloud.river_tp < 1e-3:
        return _box_signal(mass, ctx.dur)
    a = ctx.arr
    return _river_signal(mass, ctx.dur, cloud.river_tp, cloud.river_var, float(a["Q"][ri]), float(a["Qa"][ri]),
                         ctx.model)


def _finish_route(ctx: _RouteContext, cloud: _Cloud, mass: float, flow: tuple[float, float]) -> _Routed:
    """The signal at the checkpoint: river-only (with Jobson's analytic peak) or after lakes."""
    q_here, qa_here = flow
    analytic = None
    if cloud.sig is None:
        river_tp = cloud.river_tp if cloud.river_tp > 0 else 1e-6
        sig = _river_signal(mass, ctx.dur, river_tp, cloud.river_var, q_here, qa_here, ctx.model)
        if ctx.model.startswith("jobson") and ctx.dur == 0:
            analytic = (river_tp, qa_here)
    else:
        sig = cloud.sig.shifted(cloud.delay)
    return _Routed(sig, q_here, tuple(cloud.lakes), tuple(cloud.notes), analytic)


def _routed_metrics(r: _Routed, mass: float, threshold: float) -> dict[str, float]:
    """Checkpoint metrics of a routed signal (closed-form Jobson when it applies)."""
    if r.analytic is not None:
        return _jobson_analytic(r.analytic[0], r.q, r.analytic[1], mass, threshold)
    if r.signal is None:
        raise ValueError("no signal to measure (routing stopped before this checkpoint)")
    return _metrics(r.signal, r.q, threshold)


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

