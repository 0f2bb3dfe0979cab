"""Summaries of a site inventory: counts and how complete the hazard fields are."""

from __future__ import annotations

import json

import pandas as pd

__all__ = ["HAZARD_FIELDS", "COVERAGE_FIELDS", "summarize_sites", "field_coverage", "print_summary"]

#: Fields the hazard indices use; the summary reports the share of records that fill each.
HAZARD_FIELDS = ("substances", "tailings_volume_m3", "tailings_area_ha", "dam_height_m", "tailings_type",
                 "dam_condition", "reservoir_volume_m3", "capacity_mw", "capacity_t_yr")


#: The hazard fields the coverage table reports (the ones only operators and authorities hold).
COVERAGE_FIELDS = ("substances", "tailings_volume_m3", "tailings_area_ha", "dam_height_m", "dam_condition",
                   "reservoir_volume_m3")
PUBLIC = "public sources"


def _provider(field_sources: object, field: str) -> str:
    """Who supplied ``field``: the ``field_sources`` entry without the respondent part, else public sources."""
    if isinstance(field_sources, str) and field_sources.strip():
        try:
            fs = json.loads(field_sources)
        except ValueError:
            fs = {}
        who = fs.get(field) if isinstance(fs, dict) else None
        if isinstance(who, str) and who:
            return who.split(" (respondent:")[0]
    return PUBLIC


def _filled(col: pd.Series) -> pd.Series:
    return col.notna() & col.astype(str).str.strip().ne("") & col.astype(str).ne("unknown")


def field_coverage(sites: pd.DataFrame, fields: tuple[str, ...] = COVERAGE_FIELDS) -> pd.DataFrame:
    """Which hazard fields are filled, per country and category, and by whom.

    Returns one row per (``country``, ``category``) with ``sites``, per field
    ``<field>`` (filled count) and ``filled_by`` (providers with counts over all
    the fields, e.g. ``"public sources 5; questionnaire MNE 2026-11-03 3"``;
    providers come from ``field_sources``, anything else is "public sources").
    ``dam_condition`` "unknown" counts as not filled.

    Examples
    --------
    >>> s = pd.DataFrame({"country": ["MNE", "MNE"], "category": ["mine", "mine"],
    ...                   "tailings_volume_m3": [1e6, None],
    ...                   "field_sources": ['{"tailings_volume_m3": "questionnaire MNE 2026-11-03"}', None]})
    >>> field_coverage(s, ("tailings_volume_m3",)).to_dict("records")
    [{'country': 'MNE', 'category': 'mine', 'sites': 2, 'tailings_volume_m3': 1, 'filled_by': 'questionnaire MNE 2026-11-03 1'}]
    """
    n = len(sites)
    country = sites["country"].where(sites["country"].notna(), "(blank)") if "country" in sites.columns \
        else pd.Series(["(no column)"] * n, index=sites.index)
    category = sites["category"] if "category" in sites.columns else pd.Series(["(no column)"] * n, index=sites.index)
    fs = sites["field_sources"] if "field_sources" in sites.columns else pd.Series([None] * n, index=sites.index)
    frame = pd.DataFrame({"country": country.astype(str), "category": category.astype(str)}, index=sites.index)
    who = []
    for f in fields:
        filled = _filled(sites[f]) if f in sites.columns else pd.Series(False, index=sites.index)
        frame[f] = filled.astype(int)
        who += [(i, _provider(fs.at[i], f)) for i in sites.index[filled.to_numpy()]]
    w = pd.DataFrame(who, columns=["i", "who"])
    w["country"] = frame.loc[w["i"], "country"].to_numpy() if len(w) else []
    w["category"] = frame.loc[w["i"], "category"].to_numpy() if len(w) else []
    out = frame.groupby(["country", "category"], sort=True).agg(sites=("country", "size"),
                                                                 **{f: (f, "sum") for f in fields}).reset_index()

    def by(g: pd.DataFrame) -> str:
        c = g["who"].value_counts()
        return "; ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: (kv[0] != PUBLIC, kv[0])))

    txt = w.groupby(["country", "category"])[["who"]].apply(by) if len(w) else pd.Series(dtype=object)
    out["filled_by"] = [txt.get((c, k), "") if len(txt) else "" for c, k in zip(out["country"], out["category"])]
    for f in fields:
        out[f] = out[f].astype(int)
    return out


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
        ``share``; ``share`` in 0..1 of all sites) and ``coverage``
        (:func:`field_coverage`: per country and category, which hazard fields are filled and by whom).

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
    out["coverage"] = field_coverage(sites)
    return out


def print_summary(sites: pd.DataFrame, title: str = "Site inventory", console=None) -> None:
    """Print :func:`summarize_sites` as rich tables."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from riskmap._console import console_text
    from riskmap.i18n import _, current_lang, format_number, ngettext, pgettext

    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: wide enough for the coverage table
            console.width = max(console.width, 150)
    s = summarize_sites(sites)
    console.print(f"[bold]{escape(console_text(title))}[/bold]: "
                  + escape(ngettext("{n} site", "{n} sites", len(sites)).format(n=len(sites))))
    for key in ("basin", "country", "category", "status"):
        t = Table(title=escape(_("by {column}").format(column=key)), show_lines=False)
        t.add_column(key)
        t.add_column(pgettext("cli table", "sites"), justify="right")
        for r in s[key].itertuples():
            t.add_row(escape(console_text(r.value)), str(r.sites))  # values come from the file: not markup, not terminal codes
        console.print(t)
    t = Table(title=escape(_("hazard fields filled")))
    t.add_column(pgettext("cli table", "field"))
    t.add_column(pgettext("cli table", "filled"), justify="right")
    t.add_column(pgettext("cli table", "share"), justify="right")
    english = current_lang() == "en"
    for r in s["hazard_fields"].itertuples():
        share = "" if pd.isna(r.share) else (f"{100 * r.share:.1f}" if english
                                             else format_number(100 * r.share, 1, group=False))
        t.add_row(r.field, str(r.filled), pgettext("cli table", "n/a") if pd.isna(r.share) else f"{share} %")
    console.print(t)
    cov = s["coverage"]
    short = {"substances": "subst.", "tailings_volume_m3": "tail. vol", "tailings_area_ha": "tail. area",
             "dam_height_m": "dam h", "dam_condition": "dam cond.", "reservoir_volume_m3": "res. vol"}
    t = Table(title=escape(_("hazard-field coverage by country and category (filled/sites; filled by whom)")),
              caption=escape(_("subst. substances, tail. vol tailings_volume_m3, tail. area tailings_area_ha, dam h "
                               "dam_height_m, dam cond. dam_condition, res. vol reservoir_volume_m3")))
    for c in ("country", "category", "sites", *COVERAGE_FIELDS, "filled_by"):
        t.add_column(short.get(c, c), justify="right" if c in COVERAGE_FIELDS or c == "sites" else "left",
                     no_wrap=c != "filled_by")
    for r in cov.to_dict("records"):
        t.add_row(escape(console_text(r["country"])), escape(console_text(r["category"])), str(r["sites"]),
                  *[f"{r[f]}/{r['sites']}" if r[f] else "-" for f in COVERAGE_FIELDS],
                  escape(console_text(r["filled_by"])) or "-")
    console.print(t)
