"""The one border-river rule: a river stretch is a border stretch only where it follows the border.

Before this rule, any river sample point within 2.5 km of a border line was "on the border", so a
river that merely *crosses* a border, or runs near one (the Lim at Rudo, the Syr Darya at Bekabad),
got an ``A|B`` label and a first border at 0 km. The rule here (used by the reference build for all
basins, and meant for the DEM build) is:

1. Sample the river every :data:`SAMPLE_M` m. A sample is *near* a border when a shared border line
   of two countries lies within :data:`NEAR_M` (1.5 km: the positional tolerance of 1:10m Natural
   Earth borders against GSHHG / Natural Earth river lines, measured on the Drina where the river
   is the BIH/SRB border: 95-100 % of its samples lie within 1.5 km of the border line).
2. Only runs of consecutive near samples with the same border pair at least :data:`MIN_RUN_M` long
   count (6 km: a river crossing a border line at an angle theta stays within ``NEAR_M`` of it for
   2 x 1.5 km / sin(theta), which is under 6 km for every crossing steeper than 30 degrees; a river
   that meets the border at a shallower angle runs along it). Gaps shorter than :data:`MAX_GAP_M` between
   two runs of the same pair are bridged (where generalised lines drift apart for a bend), and so is a
   gap of any length that stays within :data:`FAR_M` (2 x ``NEAR_M``) of that same border all along
   (hysteresis: a river that follows a border on both sides of a stretch and never leaves it by more than
   3 km is still the border there, e.g. the Drina below the Bajina Basta dam, drawn 1.5-2.0 km off the
   border line for 11 km).
3. A reach is a border reach when at least :data:`MIN_SHARE` of its length lies in qualifying runs;
   its label is that border pair ``"A|B"`` (ISO3, sorted).

Runs are measured along the line passed in: the reference build applies the rule to whole chains
between confluences before splitting them into reaches (:func:`border_pairs_along`);
:func:`label_border_reaches` applies it reach by reach, with the run length capped at the reach's
own length for reaches shorter than ``MIN_RUN_M`` (call it on merged chains where reaches are short).

Everything is vectorised with shapely 2 / numpy; distances are in a local metric projection.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "FAR_M",
    "MAX_GAP_M",
    "MIN_RUN_M",
    "MIN_SHARE",
    "NEAR_M",
    "SAMPLE_M",
    "border_pairs_along",
    "is_border_reach",
    "label_border_reaches",
]

#: A river sample within this distance (m) of a border line is near that border.
NEAR_M = 1500.0
#: Shortest run (m) of near samples that counts as following the border (2 x NEAR_M / sin 30 deg).
MIN_RUN_M = 6000.0
#: Gaps (m) between two runs of the same border pair that are bridged.
MAX_GAP_M = 3000.0
#: A gap between two runs of the same pair is bridged, whatever its length, when it stays this close (m) to that border.
FAR_M = 3000.0
#: Share of a reach's length in qualifying runs that makes it a border reach.
MIN_SHARE = 0.5
#: Sample spacing (m) along the lines.
SAMPLE_M = 250.0


def _pair_codes(borders: gpd.GeoDataFrame) -> np.ndarray:
    a = borders["iso3_a"].astype(str).to_numpy()
    b = borders["iso3_b"].astype(str).to_numpy()
    return np.where(a <= b, np.char.add(np.char.add(a, "|"), b), np.char.add(np.char.add(b, "|"), a))


def _runs(group: np.ndarray, pair: np.ndarray, step: np.ndarray | float, min_run_m: np.ndarray | float,
          max_gap_m: float, far: np.ndarray | None = None) -> np.ndarray:
    """Pair of each sample kept only in runs (per ``group``) of >= ``min_run_m``; '' elsewhere.

    ``pair`` is '' for samples not near a border; samples are in line order within each group.
    ``far`` (optional) is the pair of the nearest border within :data:`FAR_M` of each sample: a gap
    between two runs of one pair is bridged whatever its length when every sample of it has that pair.
    """
    n = len(pair)
    if n == 0:
        return pair
    pair = pair.astype(object).copy()
    step = np.broadcast_to(np.asarray(step, float), (n,))
    # bridge short gaps between two runs of the same pair (same group)
    brk = np.r_[True, (group[1:] != group[:-1]) | (pair[1:] != pair[:-1])]
    rid = np.cumsum(brk) - 1
    starts = np.flatnonzero(brk)
    rpair = pair[starts]
    rgroup = group[starts]
    rlen = np.bincount(rid, weights=step)
    gap = (rpair == "") & (np.r_[False, rgroup[1:] == rgroup[:-1]]) & (np.r_[rgroup[:-1] == rgroup[1:], False])
    prev_p = np.r_[[""], rpair[:-1]]
    next_p = np.r_[rpair[1:], [""]]
    short = rlen <= max_gap_m
    if far is not None:  # hysteresis: the whole gap stays within FAR_M of the flanking pair's border
        off = far.astype(object) != prev_p[rid]
        short = short | (np.bincount(rid, weights=off.astype(float), minlength=len(rlen)) == 0)
    fill = gap & short & (prev_p == next_p) & (prev_p != "")
    rpair = np.where(fill, prev_p, rpair)
    pair = rpair[rid]
    # runs again after bridging; keep those long enough
    brk = np.r_[True, (group[1:] != group[:-1]) | (pair[1:] != pair[:-1])]
    rid = np.cumsum(brk) - 1
    rlen = np.bincount(rid, weights=step)
    need = np.broadcast_to(np.asarray(min_run_m, float), (n,))
    need_run = np.bincount(rid, weights=need) / np.bincount(rid)
    keep = rlen[rid] >= need_run[rid] - 1e-6
    return np.where(keep & (pair != ""), pair, "").astype(object)


def _near_pairs(pts: np.ndarray, borders_xy: np.ndarray, pair_codes: np.ndarray, near_m: float) -> np.ndarray:
    """Border pair of the nearest border line within ``near_m`` of each point ('' when none)."""
    out = np.full(len(pts), "", dtype=object)
    if len(pts) == 0 or len(borders_xy) == 0:
        return out
    tree = shapely.STRtree(borders_xy)
    (pi, bi) = tree.query_nearest(pts, max_distance=near_m, all_matches=False)
    out[pi] = pair_codes[bi]
    return out


def border_pairs_along(line_xy: shapely.LineString, borders_xy: gpd.GeoDataFrame, *, near_m: float = NEAR_M,
                       min_run_m: float = MIN_RUN_M, max_gap_m: float = MAX_GAP_M,
                       sample_pts: np.ndarray | None = None, step_m: float | None = None) -> np.ndarray:
    """Border pair (``"A|B"``) of each sample along one projected line, '' where it does not follow a border.

    Parameters
    ----------
    line_xy : shapely.LineString
        The river line in a metric CRS, upstream to downstream.
    borders_xy : geopandas.GeoDataFrame
        Border lines (``iso3_a``, ``iso3_b``) in the same CRS.
    sample_pts, step_m : optional
        Sample points (shapely points) along the line and their spacing (m); default every
        :data:`SAMPLE_M` m at segment midpoints.

    Returns
    -------
    numpy.ndarray of object
        One label per sample point.
    """
    if sample_pts is None:
        n = max(int(np.ceil(line_xy.length / SAMPLE_M)), 1)
        step_m = line_xy.length / n
        d = (np.arange(n) + 0.5) * step_m
        sample_pts = shapely.line_interpolate_point(line_xy, d)
    elif step_m is None:
        raise TypeError("border_pairs_along: step_m is required with sample_pts")
    bxy, codes = borders_xy.geometry.to_numpy(), _pair_codes(borders_xy)
    near = _near_pairs(np.asarray(sample_pts), bxy, codes, near_m)
    far = _near_pairs(np.asarray(sample_pts), bxy, codes, 2.0 * near_m)
    group = np.zeros(len(near), dtype=np.int64)
    return _runs(group, near, float(step_m), min(min_run_m, 0.999 * line_xy.length), max_gap_m, far)


def label_border_reaches(reaches: gpd.GeoDataFrame, borders: gpd.GeoDataFrame, *, near_m: float = NEAR_M,
                         min_run_m: float = MIN_RUN_M, max_gap_m: float = MAX_GAP_M,
                         min_share: float = MIN_SHARE) -> pd.Series:
    """Border pair of each reach (``"A|B"``, ISO3 sorted) where it follows a border, else None.

    Parameters
    ----------
    reaches : geopandas.GeoDataFrame
        River reaches (LineStrings, drawn upstream to downstream), any CRS.
    borders : geopandas.GeoDataFrame
        Shared border lines with ``iso3_a`` and ``iso3_b`` (``countries.gpkg`` layer ``borders``).
    near_m, min_run_m, max_gap_m, min_share : float
        The rule's thresholds (module docstring).

    Returns
    -------
    pandas.Series
        Index of ``reaches``; ``"A|B"`` or None.

    Examples
    --------
    >>> pairs = label_border_reaches(basin.reaches, borders)  # doctest: +SKIP
    >>> basin.reaches["is_border"] = pairs.notna()  # doctest: +SKIP
    """
    out = pd.Series([None] * len(reaches), index=reaches.index, dtype=object)
    if len(reaches) == 0 or len(borders) == 0:
        return out
    crs = reaches.estimate_utm_crs() if reaches.crs is not None and reaches.crs.is_geographic else reaches.crs
    geoms = reaches.to_crs(crs).geometry.to_numpy()
    b = borders.to_crs(crs)
    length = shapely.length(geoms)
    n = np.maximum(np.ceil(length / SAMPLE_M).astype(np.int64), 1)
    step = length / n
    group = np.repeat(np.arange(len(geoms)), n)
    offs = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    pts = shapely.line_interpolate_point(geoms[group], (offs + 0.5) * step[group])
    near = _near_pairs(pts, b.geometry.to_numpy(), _pair_codes(b), near_m)
    far = _near_pairs(pts, b.geometry.to_numpy(), _pair_codes(b), 2.0 * near_m)
    kept = _runs(group, near, step[group], np.minimum(min_run_m, 0.999 * length)[group], max_gap_m, far)
    df = pd.DataFrame({"g": group, "p": kept, "w": step[group]})
    df = df[df["p"] != ""]
    if df.empty:
        return out
    share = df.groupby(["g", "p"])["w"].sum() / pd.Series(length, name="L").reindex(
        df.groupby(["g", "p"])["w"].sum().index.get_level_values(0)).to_numpy()
    share = share.reset_index(name="s").sort_values(["g", "s"], ascending=[True, False]).drop_duplicates("g")
    share = share[share["s"] >= min_share]
    out.iloc[share["g"].to_numpy()] = share["p"].to_numpy()
    return out


def is_border_reach(reaches: gpd.GeoDataFrame, borders: gpd.GeoDataFrame, **kw: float) -> pd.Series:
    """Boolean: the reach follows a border (:func:`label_border_reaches` is not None)."""
    return label_border_reaches(reaches, borders, **kw).notna()


def rule_params() -> dict[str, float]:
    """The rule's thresholds, as recorded in a build's provenance.

    Examples
    --------
    >>> rule_params()["near_m"]
    1500.0
    """
    return {"near_m": NEAR_M, "min_run_m": MIN_RUN_M, "max_gap_m": MAX_GAP_M, "far_m": FAR_M,
            "min_share": MIN_SHARE, "sample_m": SAMPLE_M}
