"""Transport kernel of the spill model: travel-time relations and concentration signals.

- Jobson (1996, USGS WRIR 96-4013) velocity and unit-peak relations and the
  Fischer (1975) longitudinal dispersion coefficient (:func:`jobson_velocity`,
  :func:`jobson_unit_peak`, :func:`fischer_dispersion`);
- concentration-time signals at a point of the river (``_Signal``): the source
  release, the Jobson and advection-dispersion (inverse-Gaussian) kernels, the
  completely mixed lake (``_cstr``) and the checkpoint metrics.

Pure numerics on numbers and arrays: no geometry, no files. Used by
:mod:`riskmap.spill`; ``docs/spill.md`` has the equations, units and sources.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmap._errors import RiskmapInputError

__all__ = ["jobson_velocity", "jobson_unit_peak", "fischer_dispersion"]

G = 9.8  # m/s2, as in Jobson (1996)
# Fischer (1975) needs width, depth and shear velocity; riskmap uses the width-discharge
# relation of Andreadis et al. (2013) and a shear-velocity ratio u*/U (docs/spill.md).
WIDTH_COEF, WIDTH_EXP = 7.2, 0.5
USTAR_RATIO = 0.1


# ------------------------------------------------------------------ Jobson (1996) relations


def jobson_velocity(q: Any, qa: Any, area_m2: Any, kind: str = "most-probable", slope: Any = None) -> np.ndarray:
    """Velocity of the peak concentration, m/s, from Jobson (1996).

    Where the reach slope ``S`` (m/m) is known, Jobson's relations with slope
    (eq. 12 most probable, eq. 13 maximum probable)::

        Vp  = 0.094 + 0.0143 D'a^0.919 Q'a^-0.469 S^0.159 Q / Da
        Vmp = 0.25  + 0.02   D'a^0.919 Q'a^-0.469 S^0.159 Q / Da

    With the mean annual discharge ``qa`` (m3/s) known, Jobson's no-slope relations
    (eq. 14 most probable, eq. 15 maximum probable) are used::

        D'a = Da^1.25 sqrt(g) / Qa ,  Q'a = Q / Qa
        Vp  = 0.020 + 0.051 D'a^0.821 Q'a^-0.465 Q / Da
        Vmp = 0.200 + 0.093 D'a^0.821 Q'a^-0.465 Q / Da

    Where ``qa`` is NaN, the drainage-area-only relations (eqs. 16, 17, with
    ``D''a = Da^1.25 sqrt(g) / Q``)::

        Vp  = 0.152 + 8.1  D''a^0.595 Q / Da
        Vmp = 0.200 + 40.0 D''a^0.595 Q / Da

    Parameters
    ----------
    q : array-like
        Discharge at the time of the spill, m3/s.
    qa : array-like
        Mean annual discharge, m3/s (NaN when unknown).
    area_m2 : array-like
        Drainage area, m2.
    kind : {"most-probable", "maximum-probable"}
    slope : array-like, optional
        Reach slope (m/m); NaN or None: the relations without slope.

    Returns
    -------
    numpy.ndarray
        Peak velocity in m/s.

    Examples
    --------
    >>> round(float(jobson_velocity(100.0, 100.0, 5e9)), 4)
    0.5534
    """
    q, qa, da = (np.asarray(x, dtype=float) for x in (q, qa, area_m2))
    if kind not in ("most-probable", "maximum-probable"):
        raise RiskmapInputError(f"unknown velocity kind {kind!r}")
    mx = kind == "maximum-probable"
    with np.errstate(invalid="ignore", divide="ignore"):
        dpa = da**1.25 * math.sqrt(G) / qa
        with_qa = (0.200 if mx else 0.020) + (0.093 if mx else 0.051) * dpa**0.821 * (q / qa) ** -0.465 * q / da
        dppa = da**1.25 * math.sqrt(G) / q
        no_qa = (0.200 if mx else 0.152) + (40.0 if mx else 8.1) * dppa**0.595 * q / da
        v = np.where(np.isfinite(qa), with_qa, no_qa)
        if slope is not None:
            s = np.asarray(slope, dtype=float)
            with_s = (0.25 if mx else 0.094) + (0.02 if mx else 0.0143) * dpa**0.919 * (q / qa) ** -0.469 \
                * s**0.159 * q / da
            v = np.where(np.isfinite(qa) & np.isfinite(s) & (s > 0), with_s, v)
    return v


def jobson_unit_peak(tp_h: Any, q: Any, qa: Any) -> np.ndarray:
    """Unit peak concentration ``Cup`` of Jobson (1996), in 10^-6 s^-1.

    ``Cup = 857 Tp^(-0.760 (Q/Qa)^-0.079)`` with ``Tp`` in hours (eq. 7); when
    ``Qa`` is unknown ``Cup = 1025 Tp^-0.887``. ``Cup = 10^6 Cp Q / M`` in any
    consistent units, so with M in kg and Q in m3/s, ``Cp = Cup M / (10^6 Q)``
    is in kg/m3 and ``10^3`` times that in mg/L.

    Examples
    --------
    >>> round(float(jobson_unit_peak(10.0, 100.0, 100.0)), 3)
    148.93
    """
    tp, q, qa = (np.asarray(x, dtype=float) for x in (tp_h, q, qa))
    with np.errstate(invalid="ignore", divide="ignore"):
        with_qa = 857.0 * tp ** (-0.760 * (q / qa) ** -0.079)
        no_qa = 1025.0 * tp**-0.887
    return np.where(np.isfinite(qa), with_qa, no_qa)


def fischer_dispersion(q: Any, u: Any) -> np.ndarray:
    """Longitudinal dispersion coefficient K (m2/s) from Fischer (1975).

    ``K = 0.011 U^2 W^2 / (h u*)`` with width ``W = 7.2 Q^0.5`` (Andreadis et
    al. 2013, Water Resour. Res. 49), depth from continuity ``h = Q / (W U)`` and ``u* = 0.1 U``.

    Examples
    --------
    >>> round(float(fischer_dispersion(100.0, 0.5)), 1)
    102.6
    """
    q, u = np.asarray(q, dtype=float), np.asarray(u, dtype=float)
    w = WIDTH_COEF * q**WIDTH_EXP
    h = q / (w * u)
    return 0.011 * u**2 * w**2 / (h * USTAR_RATIO * u)


# ------------------------------------------------------------------ signals


@dataclass
class _Signal:
    """Mass flux (kg/s) on a uniform time grid (hours from the release)."""

    t0: float
    dt: float
    flux: np.ndarray

    @property
    def t(self) -> np.ndarray:
        return self.t0 + self.dt * np.arange(len(self.flux))

    def mass(self) -> float:
        return float(self.flux.sum() * self.dt * 3600.0)

    def shifted(self, hours: float) -> _Signal:
        return _Signal(self.t0 + hours, self.dt, self.flux)

    def regrid(self, t0: float, dt: float, n: int) -> _Signal:
        """Mass-conserving resampling (interpolate the cumulative mass)."""
        edges = self.t0 - self.dt / 2 + self.dt * np.arange(len(self.flux) + 1)
        cum = np.concatenate([[0.0], np.cumsum(self.flux) * self.dt])
        new_edges = t0 - dt / 2 + dt * np.arange(n + 1)
        c = np.interp(new_edges, edges, cum, left=0.0, right=cum[-1])
        return _Signal(t0, dt, np.diff(c) / dt)


def _source_signal(mass_kg: float, duration_h: float, kernel_t: np.ndarray,
                   kernel: np.ndarray, dt: float) -> _Signal:
    """Flux = mass x (kernel convolved with the release box); kernel in 1/h on grid."""
    if duration_h > 0:
        nb = max(1, int(round(duration_h / dt)))
        box = np.full(nb, 1.0 / (nb * dt))
        k = np.convolve(kernel, box) * dt
    else:
        k = kernel
    k = k / (k.sum() * dt)  # exact unit area (removes sampling error)
    return _Signal(float(kernel_t[0]), dt, mass_kg * k / 3600.0)


def _grid(lo: float, hi: float, duration_h: float, n: int = 3000) -> tuple[np.ndarray, float]:
    lo = max(lo, 0.0)
    span = max(hi - lo, 1e-6)
    dt = span / n
    if duration_h > 0:
        dt = min(dt, duration_h / 20)
        dt = max(dt, (span + duration_h) / 200000)
    return lo + dt * np.arange(int(span / dt) + 2), dt


def _jobson_kernel(tp_h: float, cup: float, duration_h: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Jobson's triangle (1/h): zero at Tl = 0.89 Tp, peak Cup/10^6 per s at Tp, zero at Tl + Td10.

    With ``Td10 = 2 10^6 / Cup`` seconds the triangle's area is exactly 1, i.e. the
    peak ``Cp = Cup M / (10^6 Q)`` and the passage time conserve the released mass.
    """
    tl = 0.890 * tp_h
    td10_h = 2.0e6 / cup / 3600.0
    t_end = max(tl + td10_h, tp_h * (1 + 1e-6))
    t, dt = _grid(tl, t_end, duration_h)
    peak = cup * 1e-6 * 3600.0  # 1/h  (= Cp Q / M)
    up = np.clip((t - tl) / max(tp_h - tl, 1e-12), 0, 1)
    down = np.clip((t_end - t) / max(t_end - tp_h, 1e-12), 0, 1)
    k = np.where(t <= tp_h, up, down) * peak
    return t, k, dt


def _jobson_analytic(tp_h: float, q: float, qa: float, mass: float, threshold: float) -> dict[str, float]:
    """Exact checkpoint values of an instantaneous Jobson cloud (no lake upstream)."""
    cup = float(jobson_unit_peak(tp_h, q, qa))
    cp = cup * mass / (1e6 * q) * 1e3  # kg/m3 -> mg/L
    td10_h = 2.0e6 / cup / 3600.0
    above = td10_h * (1 - threshold / cp) if cp > threshold else 0.0
    return dict(leading=0.890 * tp_h, tpeak=tp_h, cpeak=cp, above=above)


def _ig_kernel(mu_h: float, var_h2: float, duration_h: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Inverse-Gaussian travel-time density (1/h) with mean mu and variance var."""
    lam = mu_h**3 / var_h2
    sd = math.sqrt(var_h2)
    t, dt = _grid(max(mu_h - 8 * sd, mu_h * 0.02), mu_h + 14 * sd, duration_h, n=4000)
    t = np.maximum(t, 1e-9)
    k = np.sqrt(lam / (2 * np.pi * t**3)) * np.exp(-lam * (t - mu_h) ** 2 / (2 * mu_h**2 * t))
    return t, k, dt


def _cstr(sig: _Signal, tau_h: float) -> _Signal:
    """Completely mixed reactor: outflow flux of a lake with residence time tau."""
    from scipy.signal import lfilter

    t_in_end = sig.t[-1]
    span = (t_in_end - sig.t0) + 10.0 * tau_h
    dt = min(max(sig.dt, (t_in_end - sig.t0) / 50), tau_h / 20)
    dt = max(dt, span / 200000)
    n = int(span / dt) + 2
    s = sig.regrid(sig.t0, dt, n)
    a = math.exp(-dt / tau_h)
    # storage S_k = a S_{k-1} + inflow mass in step k; outflow mass per step = S_k (1 - a)
    inflow = s.flux * dt
    store = lfilter([1.0], [1.0, -a], inflow)
    out = store * (1.0 - a) / dt
    return _Signal(s.t0, dt, out)


def _metrics(sig: _Signal, q: float, threshold: float) -> dict[str, float]:
    c = sig.flux / q * 1e3  # kg/m3 -> mg/L
    if not np.any(c > 0):
        return dict(leading=np.nan, tpeak=np.nan, cpeak=0.0, above=0.0)
    i = int(np.argmax(c))
    cp = float(c[i])
    t = sig.t
    first = int(np.argmax(c >= 0.01 * cp))
    above = float(np.count_nonzero(c >= threshold) * sig.dt) if cp >= threshold else 0.0
    return dict(leading=float(t[first]), tpeak=float(t[i]), cpeak=cp, above=above)


def _box_signal(mass: float, dur: float) -> _Signal:
    """The release itself (mass flux at the release point)."""
    if dur > 0:
        n = 200
        dt = dur / n
        return _Signal(dt / 2, dt, np.full(n, mass / (dur * 3600.0)))
    dt = 1e-3
    return _Signal(0.0, dt, np.array([mass / (dt * 3600.0)]))


def _river_signal(mass: float, dur: float, tp_h: float, var_h2: float, q: float, qa: float, model: str) -> _Signal:
    if model.startswith("jobson"):
        cup = float(jobson_unit_peak(tp_h, q, qa))
        t, k, dt = _jobson_kernel(tp_h, cup, dur)
    else:
        t, k, dt = _ig_kernel(tp_h, max(var_h2, 1e-12), dur)
    return _source_signal(mass, dur, t, k, dt)
