"""The checkpoint table of a spill: route to each checkpoint and compute its row.

For every checkpoint ``_checkpoint_table`` routes the cloud three times
(:mod:`riskmap.spill_routing`): at the central velocity, the fast one (Jobson
maximum-probable) and the slow one (most-probable at the low end of the
discharge range), and turns the signals into a row of
:data:`riskmap.spill_result.CHECKPOINT_COLUMNS`: arrival of the leading edge
and the peak, peak concentration, hours above the threshold, their ranges,
what the numbers rest on, and the concentration curve. Used by
:mod:`riskmap.spill`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap.i18n import _, current_lang, format_percent
from riskmap.spill_result import CHECKPOINT_COLUMNS
from riskmap.spill_routing import _LakeUnknown, _route, _RouteContext, _Routed, _routed_metrics, _sig

if TYPE_CHECKING:
    from riskmap.spill_result import SpillOptions

__all__ = ["MAX_DILUTE_MG_L", "MIN_MIXED_TP_H", "in_mixing_zone"]

MIN_MIXED_TP_H = 1.0         # closer than 1 h travel the cloud is not laterally mixed
#: Above this peak (mg/L = g/m3: 100 g/L, a tenth of the water's own mass) the release is no longer a
#: trace carried by the river but a good part of what flows (a slurry, a tailings flow): the dilution
#: model's number is kept and flagged.
MAX_DILUTE_MG_L = 1e5


def _checkpoint_table(pr: pd.DataFrame, cps: list[dict[str, Any]], mass: float, ctx: _RouteContext,
                      opts: SpillOptions) -> tuple[pd.DataFrame, dict[str, Any], str | None]:
    """Route to every checkpoint (central, fast and slow velocity): the table rows, curves and any stop reason."""
    rows, curves = [], {}
    stop_reason = None
    retain = _retained_fraction(pr)
    cum_end = ctx.arr["cum_end_km"]
    for cp in cps:
        k = min(int(np.searchsorted(cum_end, cp["km"] - 1e-9)), len(pr) - 1)
        m_cp = mass * float(retain[k])
        if cp["kind"] in ("lake", "reservoir"):
            _add_volume(cp, ctx)
        res, stopped = _route_variants(ctx, cp["km"], m_cp, opts)
        stop_reason = stopped or stop_reason
        row, curve = _checkpoint_row(cp, res["main"], res["fast"], m_cp, opts.threshold_mg_l)
        row.update(_range_columns(cp, res, m_cp, opts.threshold_mg_l, row, ctx.arr))
        if retain[k] < 0.999 and res["main"].signal is not None:
            row["note"] = "; ".join(x for x in (row["note"], _loss_note(float(retain[k]))) if x)
        rows.append(row)
        if curve is not None:
            curves[cp["name"]] = curve
    table_df = pd.DataFrame(rows)
    if table_df.empty:
        table_df = pd.DataFrame(columns=CHECKPOINT_COLUMNS + ["_lon", "_lat"])
    return table_df, curves, stop_reason


def _add_volume(cp: dict[str, Any], ctx: _RouteContext) -> None:
    """Put the volume of a lake checkpoint and where it comes from into ``cp``."""
    info = ctx.lake_info(cp.get("lake", ""))
    cp["volume_m3"] = None if info is None else float(info["volume_m3"])
    cp["volume_source"] = "unknown (routed as river)" if info is None else info.get("source", "cited")


def _velocity_column(variant: str, model: str) -> str:
    """The path's velocity column of a variant: main (the model's), fast (Vmax) or slow (Vslow).

    Examples
    --------
    >>> [_velocity_column(v, "jobson") for v in ("main", "fast", "slow")]
    ['Vp', 'Vmax', 'Vslow']
    >>> [_velocity_column(v, "jobson-max") for v in ("main", "fast", "slow")]
    ['Vmax', 'Vmax', 'Vmax']
    """
    if model == "jobson-max" or variant == "fast":
        return "Vmax"
    return "Vslow" if variant == "slow" else "Vp"


def _route_variants(ctx: _RouteContext, km: float, mass: float, opts: SpillOptions
                    ) -> tuple[dict[str, _Routed], str | None]:
    """The main, fast and slow routings to river km ``km``, and the reason routing stopped (None if not)."""
    res: dict[str, _Routed] = {}
    stop_reason = None
    for variant in ("main", "fast", "slow"):
        try:
            res[variant] = _route(ctx, km, mass, _velocity_column(variant, opts.model))
        except _LakeUnknown as e:
            if opts.on_unknown_lake == "raise":
                raise RiskmapInputError(str(e)) from None
            stop_reason = str(e)
            res[variant] = _Routed(None, np.nan, stop_reason=str(e))
    return res, stop_reason


def _loss_note(retained: float) -> str:
    """The note of a checkpoint below a losing stretch: the share of the mass gone with the water."""
    lost = _("{share} of the released mass left the river with the water lost upstream (gauged losses)")
    share = f"{1 - retained:.0%}" if current_lang() == "en" else format_percent(1 - retained)
    return lost.format(share=share)


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


def _range_columns(cp: dict[str, Any], res: dict[str, _Routed], mass: float, threshold: float,
                   row: dict[str, Any], arr: dict[str, Any]) -> dict[str, Any]:
    """The issue-16 columns of a checkpoint: ranges, overland km, what it rests on, volume, population.

    Arrival range: fast = Jobson maximum-probable velocity, slow = most-probable
    velocity at the low end of the discharge range. Peak range: the central and
    fast peaks widened by the relative discharge uncertainty at the checkpoint
    (:data:`riskmap.spill_path.DISCHARGE_UNCERTAINTY`; the peak scales as 1/Q).
    """
    idx = min(int(np.searchsorted(arr["cum_end_km"], cp["km"] - 1e-9)), len(arr["cum_end_km"]) - 1)
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


def in_mixing_zone(peak_time_h: float, mixed_in_lake: bool = False) -> bool:
    """Whether a checkpoint lies in the mixing zone: peak reached within :data:`MIN_MIXED_TP_H` of travel.

    There the cloud is not yet mixed across the river, so the table gives no cross-section peak
    concentration (``peak_mg_l`` is NaN) and says why. A checkpoint reached through a mixed lake
    is never in it.

    Examples
    --------
    >>> in_mixing_zone(0.5), in_mixing_zone(1.5), in_mixing_zone(0.5, mixed_in_lake=True)
    (True, False, False)
    >>> in_mixing_zone(float("nan"))
    False
    """
    return bool(np.isfinite(peak_time_h) and peak_time_h < MIN_MIXED_TP_H and not mixed_in_lake)


def _unmixed_note(tpeak: float, cpeak: float) -> str:
    """The note of a checkpoint in the mixing zone: why no peak, and the fully mixed value for scale."""
    return _("within the mixing zone ({hours} h of travel, under {limit} h): the cloud is not yet mixed across "
             "the river, so no cross-section peak is given; fully mixed it would be {conc} mg/L, the plume near "
             "the release bank is more concentrated and the far bank less").format(
        hours=_sig(tpeak, 2), limit=_sig(MIN_MIXED_TP_H, 2), conc=_sig(cpeak))


def _dense_note(cpeak: float) -> str:
    """The note of a checkpoint whose peak is beyond a dilution model (:data:`MAX_DILUTE_MG_L`), else ''."""
    if not (np.isfinite(cpeak) and cpeak > MAX_DILUTE_MG_L):
        return ""
    return _("peak {conc} mg/L is over {limit} g/L: the release is a large part of the river's own flow there "
             "(a slurry or tailings flow, not a dissolved trace), which a dilution model does not describe; read "
             "it as undiluted").format(conc=_sig(cpeak), limit=_sig(MAX_DILUTE_MG_L / 1000.0))


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
    unmixed = _unmixed_note(m["tpeak"], m["cpeak"]) if in_mixing_zone(m["tpeak"], main.mixed_in_lake) else ""
    row = dict(
        checkpoint=cp["name"], kind=cp["kind"], river_km=round(cp["km"], 2),
        leading_edge_h=m["leading"], peak_time_h=m["tpeak"],
        peak_mg_l=np.nan if unmixed else m["cpeak"], above_threshold_h=np.nan if unmixed else m["above"],
        country=cp["country"], leading_edge_h_fast=min(mf["leading"], m["leading"]),
        peak_mg_l_high=np.nan if unmixed else max(mf["cpeak"], m["cpeak"]), discharge_m3s=qx,
        note="; ".join(x for x in (note, unmixed, _dense_note(m["cpeak"])) if x),
        _lon=cp["lon"], _lat=cp["lat"])
    return row, (sig.t[keep], csig[keep])
