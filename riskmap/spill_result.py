"""What a spill scenario takes and gives: :class:`SpillOptions` in, :class:`SpillResult` out.

A :class:`SpillResult` holds the checkpoint table (columns
:data:`CHECKPOINT_COLUMNS`), the assumptions, the uncertainty band, the path
and the concentration curves; it turns itself into a timestamped GeoJSON for
the map animation and into a concentration plot. Files are written by
:mod:`riskmap.spill_output`. Used by :mod:`riskmap.spill`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from riskmap._console import console_text
from riskmap.i18n import _, format_number
from riskmap.spill_checkpoints import TOWN_BUFFER_KM, checkpoint_label

__all__ = ["CHECKPOINT_COLUMNS", "SpillOptions", "SpillResult"]

#: Columns of :attr:`SpillResult.checkpoints`, in order.
CHECKPOINT_COLUMNS: list[str] = [
    "checkpoint", "kind", "river_km", "leading_edge_h", "peak_time_h", "peak_mg_l",
    "above_threshold_h", "country", "leading_edge_h_fast", "peak_mg_l_high", "discharge_m3s",
    "note",
    # issue 16: ranges (velocity band x discharge uncertainty), what the numbers rest on, towns
    "leading_edge_h_low", "leading_edge_h_high", "peak_time_h_low", "peak_time_h_high",
    "peak_mg_l_low", "overland_km", "basis", "discharge_basis", "volume_m3", "volume_source", "population",
]



@dataclass(frozen=True)
class SpillOptions:
    """How :func:`riskmap.spill.simulate_spill` runs: flows, model, network and reporting choices.

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
        What to do at a lake or reservoir without a cited volume (see :func:`riskmap.spill.simulate_spill`).
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
class SpillResult:
    """Outcome of :func:`riskmap.spill.simulate_spill`.

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

    def notes(self) -> list[tuple[str, str]]:
        """The distinct notes of the checkpoint table, each with the first checkpoint that carries it.

        Examples
        --------
        >>> result.notes()  # doctest: +SKIP
        [('Toktogul Reservoir (outflow)', 'after lake(s) Toktogul Reservoir: ...')]
        """
        seen: dict[str, str] = {}
        for name, note in zip(self.checkpoints["checkpoint"], self.checkpoints["note"]):
            if isinstance(note, str) and note and note not in seen:
                seen[note] = str(name)
        return [(name, note) for note, name in seen.items()]

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
            ax.plot(t, c, label=_legend_label(checkpoint_label(name)))
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


def _legend_label(text: Any) -> str:
    """A checkpoint name (data: towns, water bodies) as a legend label shown literally.

    ``$`` would start mathtext, control characters have no glyph (shown escaped, as on
    the console) and matplotlib hides a label starting with ``_`` (a space keeps it).

    Examples
    --------
    >>> _legend_label("_Lake $5\x1b[2J")
    ' _Lake \\\\$5\\\\x1b[2J'
    """
    label = console_text(text).replace("$", r"\$")
    return " " + label if label.startswith("_") else label
