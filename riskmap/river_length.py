"""River-length bias correction: the one place where network km become river km (issue 15 item 4).

A network line is not the river: generalised 1:10m cartographic lines cut the meanders (they
measure about 11 % short against published lengths), D8 flow paths on the GEBCO 15" grid come out
about right. The factors (true km / network km, per network kind, with their spread) are measured
by :mod:`riskmap.databuild.length_bias` against published river lengths and stored in
``riskmap/params/river_length.toml``. :func:`correct_reaches` applies them to every reach when a
basin is loaded (:func:`riskmap.hydrography.load_basin`), so ``length_km`` and
``dist_to_outlet_km`` -- and with them every river km, travel time, spill distance and arrival
time, map and export -- are the bias-corrected estimate. :func:`km_range` gives the spread
(``first_border_river_km_low`` / ``_high``).

Examples
--------
>>> f = length_factors()
>>> sorted(f)
['cartographic', 'dem']
>>> f["cartographic"]["low"] <= f["cartographic"]["factor"] <= f["cartographic"]["high"]
True
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from collections.abc import Mapping

import numpy as np
import pandas as pd

from riskmap._errors import RiskmapInputError
from riskmap._paths import PARAMS_DIR

__all__ = ["FACTORS_FILE", "length_factors", "reach_kind", "correct_reaches", "km_range", "uncorrected_reaches"]

#: Factors written by ``python -m riskmap.databuild.length_bias --write``.
FACTORS_FILE = PARAMS_DIR / "river_length.toml"
_KINDS = ("cartographic", "dem")


def _read_factors(path: str | Path | None) -> dict[str, Any]:
    """The factor file: a given path, or the bundled one (read as a package resource: zipped wheels too)."""
    from riskmap.params import _read_toml

    if path is not None:
        return _read_toml(Path(path), "river-length factor")
    import importlib.resources
    import tomllib

    try:
        return tomllib.loads(importlib.resources.files("riskmap").joinpath("params", FACTORS_FILE.name)
                             .read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise RiskmapInputError(f"{FACTORS_FILE}: cannot read the bundled river-length factors ({e}); "
                                f"rerun python -m riskmap.databuild.length_bias --write") from None


@functools.lru_cache(maxsize=4)
def length_factors(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Per network kind: ``factor``, ``low``, ``high`` (true km / network km), ``n``, ``rivers``, ``date``.

    ``path`` defaults to the bundled ``riskmap/params/river_length.toml``.
    """
    t = _read_factors(path)
    path = path if path is not None else FACTORS_FILE
    out: dict[str, dict[str, Any]] = {}
    for kind in _KINDS:
        v = t.get(kind)
        if not isinstance(v, dict):
            raise RiskmapInputError(f"{path}: no [{kind}] table; rerun python -m riskmap.databuild.length_bias --write")
        try:
            lo, f, hi = float(v["low"]), float(v["factor"]), float(v["high"])
        except (KeyError, TypeError, ValueError):
            raise RiskmapInputError(f"{path}: [{kind}] needs numbers factor, low, high") from None
        if not (0.5 < lo <= f <= hi < 2.0):
            raise RiskmapInputError(f"{path}: [{kind}] needs 0.5 < low <= factor <= high < 2 (got {lo}, {f}, {hi})")
        out[kind] = {"factor": f, "low": lo, "high": hi, "n": int(v.get("n", 0)), "rivers": list(v.get("rivers", [])),
                     "date": str(t.get("date", "unknown"))}
    return out


def reach_kind(reaches: pd.DataFrame) -> np.ndarray:
    """``"dem"`` for reaches traced on a DEM (they carry ``upland_km2``), else ``"cartographic"``.

    Examples
    --------
    >>> reach_kind(pd.DataFrame({"upland_km2": [350.0, float("nan")]})).tolist()
    ['dem', 'cartographic']
    >>> reach_kind(pd.DataFrame({"length_km": [1.0]})).tolist()
    ['cartographic']
    """
    if "upland_km2" not in reaches.columns:
        return np.full(len(reaches), "cartographic", dtype=object)
    dem = pd.to_numeric(reaches["upland_km2"], errors="coerce").notna().to_numpy()
    return np.where(dem, "dem", "cartographic").astype(object)


def _dist_to_outlet(reaches: pd.DataFrame, length: np.ndarray) -> np.ndarray:
    """River km from each reach's downstream end to the outlet for the given reach lengths."""
    from riskmap.network import RiverNetwork

    net = RiverNetwork(reaches["reach_id"].to_numpy(), reaches["downstream_id"].to_numpy(), length_km=length)
    return net.dist_to_outlet()


def correct_reaches(reaches: pd.DataFrame, factors: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Reaches with bias-corrected ``length_km`` and ``dist_to_outlet_km``, and a summary for the basin meta.

    ``dist_to_outlet_km`` is shifted by the correction of the reaches below (so a network that
    mixes kinds, the Syr Darya DEM joined to its cartographic lower course, is corrected per reach).
    A table without ``length_km`` is returned unchanged.

    Examples
    --------
    >>> r = pd.DataFrame({"reach_id": [1, 2], "downstream_id": [2, -1], "length_km": [10.0, 20.0],
    ...                   "dist_to_outlet_km": [20.0, 0.0], "upland_km2": [400.0, float("nan")]})
    >>> f = {"dem": {"factor": 1.0}, "cartographic": {"factor": 1.1}}
    >>> c, info = correct_reaches(r, f)
    >>> c["length_km"].round(3).tolist(), c["dist_to_outlet_km"].round(3).tolist()
    ([10.0, 22.0], [22.0, 0.0])
    """
    f = factors if factors is not None else length_factors()
    if "length_km" not in reaches.columns or len(reaches) == 0:
        return reaches, {}
    kind = reach_kind(reaches)
    mult = np.where(kind == "dem", float(f["dem"]["factor"]), float(f["cartographic"]["factor"]))
    raw = reaches["length_km"].to_numpy(dtype=float)
    out = reaches.copy()
    out["length_km"] = raw * mult
    if "dist_to_outlet_km" in out.columns and {"reach_id", "downstream_id"} <= set(out.columns):
        shift = _dist_to_outlet(reaches, raw * mult) - _dist_to_outlet(reaches, raw)
        out["dist_to_outlet_km"] = reaches["dist_to_outlet_km"].to_numpy(dtype=float) + shift
    info = {"file": FACTORS_FILE.name, "basis": "true km / network km, measured against published river lengths",
            "date": str(f["cartographic"].get("date", "unknown")),
            **{k: float(f[k]["factor"]) for k in _KINDS if (kind == k).any()}}
    return out, info


#: Smallest half-width of a river-km range, as a share of the value. The factors rest on two or three
#: whole rivers, whose min-max understates the error on a single stretch: stretch ratios measured on the
#: Syr Darya main stem range 0.73-1.02 (docs/hydrography.md "River-length bias") and the lower Syr Darya
#: is still 10 % short after correction. So a range is never narrower than +/- 10 %.
MIN_RELATIVE_SPREAD = 0.10


def km_range(km: np.ndarray, dem: np.ndarray, lower_bound: np.ndarray,
             factors: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Low and high end of bias-corrected river km from the spread of the network's factor.

    ``km`` is already corrected with the central factor; the ends scale it by ``low / factor`` and
    ``high / factor`` of the route's network kind (``dem`` True: DEM flow path), widened to at least
    :data:`MIN_RELATIVE_SPREAD` either side. A lower bound
    (``lower_bound`` True: an unmapped stretch measured as a straight line) has no upper end (NaN).

    Examples
    --------
    >>> f = {"dem": {"factor": 1.0, "low": 0.9, "high": 1.0},
    ...      "cartographic": {"factor": 1.1, "low": 1.1, "high": 1.21}}
    >>> lo, hi = km_range(np.array([11.0, 10.0, 11.0]), np.array([False, True, False]),
    ...                   np.array([False, False, True]), f)
    >>> lo.round(2).tolist(), hi.round(2).tolist()
    ([9.9, 9.0, 9.9], [12.1, 11.0, nan])
    """
    f = factors if factors is not None else length_factors()
    d, c = f["dem"], f["cartographic"]
    lo = np.where(dem, km * float(d["low"]) / float(d["factor"]), km * float(c["low"]) / float(c["factor"]))
    hi = np.where(dem, km * float(d["high"]) / float(d["factor"]), km * float(c["high"]) / float(c["factor"]))
    lo = np.minimum(lo, km * (1.0 - MIN_RELATIVE_SPREAD))
    hi = np.maximum(hi, km * (1.0 + MIN_RELATIVE_SPREAD))
    return lo, np.where(lower_bound, np.nan, hi)


def uncorrected_reaches(basin: Any) -> pd.DataFrame:
    """A loaded basin's reaches with the raw ``length_km`` / ``dist_to_outlet_km`` of its GeoPackage.

    For data builds that read a basin and write reaches back (``riskmap.databuild.dem.join_downstream``):
    they must work on line lengths, or the correction would be applied twice on the next load.

    Examples
    --------
    >>> from riskmap.hydrography import load_basin
    >>> b = load_basin("drina")
    >>> raw = uncorrected_reaches(b)
    >>> bool((b.reaches["length_km"] > raw["length_km"]).all())
    True
    """
    import pyogrio

    reaches = basin.reaches.copy()
    src = getattr(basin, "source_file", None)
    if src is None or "length_km" not in reaches.columns:
        return reaches
    raw = pyogrio.read_dataframe(src[0], layer="reaches", columns=["reach_id", "length_km", "dist_to_outlet_km"],
                                 read_geometry=False)
    if not np.array_equal(raw["reach_id"].to_numpy(), reaches["reach_id"].to_numpy()):
        raise RiskmapInputError(f"{src[0]}: reaches changed since the basin was loaded; reload it")
    for c in ("length_km", "dist_to_outlet_km"):
        if c in reaches.columns:
            reaches[c] = raw[c].to_numpy(dtype=float)
    return reaches
