"""Small vectorised helpers over site tables, shared by :mod:`riskmap.hazard` and :mod:`riskmap.natech`.

Step tables (class lookups), typed column access that keeps missing values
missing, and rounding for the ``score_terms`` JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd


def _step_le(x, table: list[dict], key: str) -> np.ndarray:
    """Value of the row with the smallest ``key`` >= x; 0 beyond the last row; NaN stays NaN."""
    x = np.asarray(x, dtype="float64")
    out = np.zeros_like(x)
    for row in sorted(table, key=lambda r: r[key], reverse=True):
        out = np.where(x <= float(row[key]), float(row["value"]), out)
    return np.where(np.isnan(x), np.nan, out)


def _step_ge(x, table: list[dict], key: str) -> np.ndarray:
    """Value of the row with the largest ``key`` <= x; 0 below the first row; NaN stays NaN."""
    x = np.asarray(x, dtype="float64")
    out = np.zeros_like(x)
    for row in sorted(table, key=lambda r: r[key]):
        out = np.where(x >= float(row[key]), float(row["value"]), out)
    return np.where(np.isnan(x), np.nan, out)


def _num(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", copy=True)


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    s = frame[col].astype(object)
    return s.where(s.notna(), None).map(lambda v: None if v is None or not str(v).strip() else str(v))


def _bool(frame: pd.DataFrame, col: str) -> np.ndarray:
    """Float array: 1.0 true, 0.0 false, NaN unknown (accepts bools, 'true'/'false' text)."""
    if col not in frame.columns:
        return np.full(len(frame), np.nan)

    def conv(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return np.nan
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        s = str(v).strip().lower()
        if s in ("true", "1", "yes", "1.0"):
            return 1.0
        if s in ("false", "0", "no", "0.0"):
            return 0.0
        return np.nan

    return np.array([conv(v) for v in frame[col].tolist()], dtype="float64")


def _as_list(v) -> list | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return list(v)
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        try:
            out = json.loads(s)
        except json.JSONDecodeError:
            return [p for p in s.replace(";", ",").split(",") if p.strip()]
        return out if isinstance(out, list) else None
    return None


def _foreign_countries(downstream, own) -> float:
    """Number of distinct ISO3 codes on the downstream path other than ``own`` (NaN if unknown)."""
    lst = _as_list(downstream)
    if lst is None:
        return np.nan
    codes = {c.strip().upper() for e in lst for c in str(e).split("|") if c.strip()}
    if own is not None and isinstance(own, str):
        codes.discard(own.strip().upper())
    return float(len(codes))


def _r(v: Any) -> Any:
    """JSON-friendly rounded value (NaN -> None)."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        f = float(v)
        return None if not math.isfinite(f) else round(f, 4)
    return v
