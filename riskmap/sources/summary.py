"""Summaries of a site inventory: counts and how complete the hazard fields are."""

from __future__ import annotations

import pandas as pd

__all__ = ["HAZARD_FIELDS", "summarize_sites", "print_summary"]

#: Fields the hazard indices use; the summary reports the share of records that fill each.
HAZARD_FIELDS = ("substances", "tailings_volume_m3", "tailings_area_ha", "dam_height_m", "tailings_type",
                 "dam_condition", "reservoir_volume_m3", "capacity_mw", "capacity_t_yr")


def summarize_sites(sites: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Count sites by basin, country, category and status, and measure hazard-field completeness.

    Parameters
    ----------
    sites : pandas.DataFrame or geopandas.GeoDataFrame
        A site inventory (e.g. :func:`riskmap.io.read_sites` of ``data/sites/sites.csv``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``basin``, ``country``, ``category``, ``status`` (columns ``value``, ``sites``,
        sorted by count then value) and ``hazard_fields`` (``field``, ``filled``,
        ``share``; ``share`` in 0..1 of all sites).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"basin": ["drin", "drina"], "country": ["ALB", "BIH"],
    ...                   "category": ["mine", "mine"], "status": ["operating", None],
    ...                   "capacity_mw": [None, 5.0]})
    >>> summarize_sites(s)["category"].to_dict("records")
    [{'value': 'mine', 'sites': 2}]
    """
    out: dict[str, pd.DataFrame] = {}
    for col in ("basin", "country", "category", "status"):
        if col in sites.columns:
            v = sites[col].where(sites[col].notna(), "unknown" if col == "status" else "(blank)")
        else:
            v = pd.Series(["(no column)"] * len(sites))
        c = v.astype(str).value_counts().rename_axis("value").reset_index(name="sites")
        out[col] = c.sort_values(["sites", "value"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    rows = []
    n = len(sites)
    for f in HAZARD_FIELDS:
        if f in sites.columns:
            col = sites[f]
            filled = int((col.notna() & col.astype(str).str.strip().ne("")).sum())
        else:
            filled = 0
        rows.append({"field": f, "filled": filled, "share": (filled / n) if n else float("nan")})
    out["hazard_fields"] = pd.DataFrame(rows)
    return out


def print_summary(sites: pd.DataFrame, title: str = "Site inventory", console=None) -> None:
    """Print :func:`summarize_sites` as rich tables."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from riskmap._console import console_text

    console = console or Console()
    s = summarize_sites(sites)
    console.print(f"[bold]{escape(console_text(title))}[/bold]: {len(sites)} sites")
    for key in ("basin", "country", "category", "status"):
        t = Table(title=f"by {key}", show_lines=False)
        t.add_column(key)
        t.add_column("sites", justify="right")
        for r in s[key].itertuples():
            t.add_row(escape(console_text(r.value)), str(r.sites))  # values come from the file: not markup, not terminal codes
        console.print(t)
    t = Table(title="hazard fields filled")
    t.add_column("field")
    t.add_column("filled", justify="right")
    t.add_column("share", justify="right")
    for r in s["hazard_fields"].itertuples():
        t.add_row(r.field, str(r.filled), "n/a" if pd.isna(r.share) else f"{100 * r.share:.1f} %")
    console.print(t)
