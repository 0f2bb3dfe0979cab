"""The notification matrix of a basin and the :class:`ContingencyPlan` that holds the cards.

:func:`notification_pairs` (long form: origin, notified country, minimum
warning times, sites) and :func:`notification_matrix` (origin x notified) over
the scenario cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmap.contingency_cards import ScenarioCard

__all__ = ["ContingencyPlan", "notification_matrix", "notification_pairs"]

def notification_matrix(cards: Sequence[ScenarioCard]) -> pd.DataFrame:
    """Origin country x notified country: the minimum warning time (h, fast case) over the cards.

    A cell is NaN when no card links the pair, and ``0``-free: an unknown time
    (river entry in another country) is kept as NaN in ``min_warning_h`` and
    counted in ``unknown_time`` of :func:`notification_pairs`.
    """
    pairs = notification_pairs(cards)
    if pairs.empty:
        return pd.DataFrame()
    return pairs.pivot(index="origin", columns="notified", values="min_warning_h_fast")


def notification_pairs(cards: Sequence[ScenarioCard]) -> pd.DataFrame:
    """Long form of the notification matrix, one row per origin and notified country.

    Columns ``origin``, ``notified``, ``min_warning_h_fast``, ``min_warning_h``,
    ``unknown_time`` (a card reaches the country before any modelled checkpoint), ``sites``.
    """
    allrows = [c.notifications.assign(site=c.site["name"]) for c in cards if len(c.notifications)]
    if not allrows:
        return pd.DataFrame(columns=["origin", "notified", "min_warning_h_fast", "min_warning_h",
                                     "unknown_time", "sites"])
    df = pd.concat(allrows, ignore_index=True)
    g = df.groupby(["origin", "notified"], sort=True)
    out = pd.DataFrame({
        "min_warning_h_fast": g["warning_h_fast"].min(), "min_warning_h": g["warning_h"].min(),
        "unknown_time": g["warning_h"].apply(lambda s: bool(s.isna().any())),
        "sites": g["site"].apply(lambda s: sorted(set(s))),
    }).reset_index()
    return out


@dataclass
class ContingencyPlan:
    """A basin contingency plan: cards, notifications, matrix, gaps; what :func:`riskmap.contingency.build_contingency` writes."""

    basin_id: str
    basin_name: str
    riparian: list[str]
    cards: list[ScenarioCard]
    contacts: pd.DataFrame
    params: dict[str, Any]
    files: list[Path] = field(default_factory=list)

    @property
    def pairs(self) -> pd.DataFrame:
        """:func:`notification_pairs` of the cards."""
        return notification_pairs(self.cards)

    @property
    def matrix(self) -> pd.DataFrame:
        """:func:`notification_matrix` of the cards."""
        return notification_matrix(self.cards)
