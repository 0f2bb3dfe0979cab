"""Joint contingency planning: scenario cards, notification timelines and the basin annex.

``riskmap contingency BASIN`` and :func:`build_contingency` turn what riskmap
knows about a site (the inventory record, its downstream path, the spill
model's arrival times) into the documents a joint contingency plan is made of:

- a **scenario card** per selected site: what the site holds (known / unknown),
  a credible release scenario from the documented per-category defaults of
  ``riskmap/params/contingency.toml`` (stated assumptions the user changes with
  ``--params``), a small route map and the timeline of every checkpoint of
  :func:`riskmap.spill.simulate_spill` (leading edge, peak, concentration
  central and range, country and town affected);
- a **notification timeline** per downstream country (time available between
  the release and the arrival at its border, central and fast case, ordered by
  urgency, with the country of origin and the upstream neighbour that notify
  it) and the contact points the user supplies (``--contacts``; never invented);
- the **basin annex** (HTML and PDF): warning checkpoints, the cards, the
  notification matrix (origin x notified country, minimum warning time), the
  data gaps that limit the plan and the SOP checklist structure.

Only the public spill API is used (``locate_release``, ``simulate_spill``,
``SpillResult.checkpoints`` columns of ``riskmap.spill.CHECKPOINT_COLUMNS``;
optional range columns ``peak_mg_l_low``, ``leading_edge_h_low`` ... and
``population`` are shown when the spill model provides them).

This module writes the documents and re-exports the names of its parts:
:mod:`riskmap.contingency_params` (parameters, contacts),
:mod:`riskmap.contingency_scenario` (site selection, release scenario),
:mod:`riskmap.contingency_cards` (scenario cards), :mod:`riskmap.contingency_matrix`
(notification matrix, plan), :mod:`riskmap.contingency_annex` (HTML),
:mod:`riskmap.contingency_climate` (climate section) and
:mod:`riskmap.contingency_text` (texts in the output language).
"""

from __future__ import annotations

import csv
import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from riskmap._errors import RiskmapDataWarning, RiskmapInputError
from riskmap.contingency_annex import SOP_STEPS, plan_html, sop_context
from riskmap.contingency_annex import TO_BE_SUPPLIED as TO_BE_SUPPLIED
from riskmap.contingency_annex import contacts_for as contacts_for
from riskmap.contingency_annex import _environment as _environment
from riskmap.contingency_annex import plan_context as plan_context
from riskmap.contingency_cards import ScenarioCard, notification_table, scenario_card
from riskmap.contingency_cards import timeline_table as timeline_table
from riskmap.contingency_climate import climate_section_html
from riskmap.contingency_matrix import ContingencyPlan, notification_matrix
from riskmap.contingency_matrix import notification_pairs as notification_pairs
from riskmap.contingency_params import (
    CONTACT_COLUMNS,
    CONTACTS_TEMPLATE,
    DEFAULT_CONTINGENCY_FILE,
    PARAM_TEXTS,
    load_contingency_params,
    read_contacts,
)
from riskmap.contingency_scenario import basin_sites as basin_sites
from riskmap.contingency_scenario import release_scenario, select_sites
from riskmap.contingency_scenario import site_facts as site_facts
from riskmap.contingency_text import UNKNOWN as UNKNOWN
from riskmap.contingency_text import decimal_text as decimal_text
from riskmap.contingency_text import mass_text as mass_text
from riskmap.contingency_text import checkpoint_label, date_time_text, kind_label
from riskmap.i18n import _, country_label, use_lang

__all__ = [
    "CONTACTS_TEMPLATE",
    "CONTACT_COLUMNS",
    "CONTINGENCY_FILES",
    "DEFAULT_CONTINGENCY_FILE",
    "PARAM_TEXTS",
    "SOP_STEPS",
    "ContingencyOptions",
    "ContingencyPlan",
    "ScenarioCard",
    "build_contingency",
    "checkpoint_label",
    "climate_section_html",
    "contingency_outputs",
    "country_label",
    "date_time_text",
    "kind_label",
    "load_contingency_params",
    "notification_matrix",
    "notification_table",
    "plan_html",
    "read_contacts",
    "release_scenario",
    "scenario_card",
    "select_sites",
    "sop_context",
]


def _csv_text(df: pd.DataFrame) -> str:
    from riskmap.io import csv_text

    out = df.copy()
    for c in out.columns:  # list cells as "a; b"; text in every column (object or string dtype) neutralised
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: "; ".join(v) if isinstance(v, list) else v)
    return csv_text(out, float_format="%.4g", quoting=csv.QUOTE_NONNUMERIC)


def _generated() -> str:
    from riskmap.report import _generation_time

    return date_time_text(_generation_time(), " UTC")


@dataclass(frozen=True)
class ContingencyOptions:
    """What :func:`build_contingency` writes and from which inputs (every field optional).

    Attributes
    ----------
    sites : str or list, optional
        ``"top:N"`` (default ``top:<meta.top_n>``: best priority rank with a
        transboundary path) or site ids.
    params : path or mapping, optional
        Overrides of ``riskmap/params/contingency.toml``.
    contacts : path, optional
        Contact points (CSV ``country, role, organisation, contact``); else
        every step says "to be supplied".
    inventory : GeoDataFrame or path, optional
        Site inventory (default the bundled one).
    pdf : bool
        Also print the HTML documents to PDF (Chromium).
    data_dir : path, optional
        Alternative ``data/`` folder (basins and hydrography).
    lang : str, optional
        Output language of the documents (``"en"``, ``"ru"``; default the current
        language, see :func:`riskmap.i18n.use_lang`). The CSV tables keep their
        English column names and the spill model's checkpoint names and codes
        (machine-readable); the annex and the cards are written in ``lang``.

    Examples
    --------
    >>> ContingencyOptions(sites="top:2", pdf=False).pdf
    False
    """

    sites: str | Sequence[str] | None = None
    params: str | Path | Mapping | None = None
    contacts: str | Path | None = None
    inventory: gpd.GeoDataFrame | str | Path | None = None
    pdf: bool = True
    data_dir: str | Path | None = None
    lang: str | None = None


#: The files :func:`build_contingency` writes in its output folder, after ``<basin>_``.
CONTINGENCY_FILES = ("contingency_annex.html", "contingency_annex.pdf", "scenario_cards.html", "scenario_cards.pdf",
                     "notifications.csv", "notification_matrix.csv", "timelines.csv")


def contingency_outputs(basin: str, out_dir: str | Path) -> list[Path]:
    """Every file :func:`build_contingency` may write for ``basin`` in ``out_dir`` (checked against the inputs).

    Examples
    --------
    >>> [p.name for p in contingency_outputs("drina", "out")][:2]
    ['drina_contingency_annex.html', 'drina_contingency_annex.pdf']
    """
    return [Path(out_dir) / f"{basin}_{name}" for name in CONTINGENCY_FILES]


def build_contingency(basin: str, out_dir: str | Path, options: ContingencyOptions | None = None,
                      **overrides: Any) -> ContingencyPlan:
    """Write the contingency documents of a basin: annex, scenario cards, notification tables.

    Parameters
    ----------
    basin : str
        Basin id or name (``syr_darya``, ``Drina``).
    out_dir : path
        Output folder (created). Files: ``<basin>_contingency_annex.html`` (+ ``.pdf``),
        ``<basin>_scenario_cards.html`` (+ ``.pdf``), ``<basin>_notifications.csv``,
        ``<basin>_notification_matrix.csv``, ``<basin>_timelines.csv``.
    options : ContingencyOptions, optional
        The inputs and choices (see :class:`ContingencyOptions`).
    **overrides
        Any :class:`ContingencyOptions` field by keyword (``sites=``, ``params=``,
        ``contacts=``, ``inventory=``, ``pdf=``, ``data_dir=``, ``lang=``), over
        ``options``; an unknown keyword raises ``TypeError``.

    Returns
    -------
    ContingencyPlan
        With ``files`` written.

    Examples
    --------
    >>> plan = build_contingency("drina", "out/contingency", sites="top:2", pdf=False)  # doctest: +SKIP
    """
    opts = dataclasses.replace(options or ContingencyOptions(), **overrides)
    with use_lang(opts.lang):
        return _build_contingency(basin, out_dir, opts)


def _warn_unused_contacts(cont: pd.DataFrame, riparian: list[str], basin_id: str, path: Any) -> None:
    """Warn (:class:`riskmap.RiskmapDataWarning`) about contact rows of countries the plan never names."""
    unused = sorted(set(cont["country"]) - set(riparian)) if len(cont) and riparian else []
    if unused:
        n = int(cont["country"].isin(unused).sum())
        warnings.warn(_("{file}: {n} contact row(s) of {codes} not used: not a country of the {basin} basin "
                        "({riparian})").format(file=path, n=n, codes=", ".join(unused), basin=basin_id,
                                                riparian=", ".join(riparian)), RiskmapDataWarning, stacklevel=3)


def _build_contingency(basin: str, out_dir: str | Path, opts: ContingencyOptions) -> ContingencyPlan:
    from riskmap.basins import basin_name, resolve_basin
    from riskmap.hydrography import load_basin
    from riskmap.io import atomic_write_text
    from riskmap.pipeline import read_step

    basin_id = resolve_basin(basin)
    par = load_contingency_params(opts.params)
    cont = read_contacts(opts.contacts)
    raw = read_step(opts.inventory, data_dir=opts.data_dir).sites
    prepared = basin_sites(raw, basin_id, opts.data_dir)
    chosen = select_sites(prepared, basin_id, opts.sites, int(par["meta"]["top_n"]))
    where = chosen["basin"].astype("string").fillna("none")
    if (where != basin_id).any():
        bad = [f"{i} (basin {b})" for i, b in zip(chosen["site_id"].astype(str), where) if b != basin_id]
        raise RiskmapInputError(f"--sites: {', '.join(bad)} not in basin {basin_id}")
    b = load_basin(basin_id, opts.data_dir) if opts.data_dir is not None else load_basin(basin_id)
    cards = [scenario_card(row, basin_id, par, inventory=raw, basin=b) for _, row in chosen.iterrows()]
    riparian = [str(c) for c in (b.meta.get("riparian") or [])]
    _warn_unused_contacts(cont, riparian, basin_id, opts.contacts)
    plan = ContingencyPlan(basin_id, basin_name(basin_id), riparian, cards, cont, par)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gen = _generated()
    files = []
    for which, stem in (("annex", "contingency_annex"), ("cards", "scenario_cards")):
        p = atomic_write_text(out / f"{basin_id}_{stem}.html", plan_html(plan, which, gen))
        files.append(p)
        if opts.pdf:
            from riskmap.report_pdf import html_to_pdf

            footer = (_("riskmap {basin} contingency annex ·") if which == "annex"
                      else _("riskmap {basin} contingency cards ·")).format(basin=_(plan.basin_name))
            files.append(html_to_pdf(p, p.with_suffix(".pdf"), footer=footer))
    notes = pd.concat([c.notifications.assign(site_id=c.site["site_id"], site=c.site["name"]) for c in cards],
                      ignore_index=True) if cards else pd.DataFrame()
    files.append(atomic_write_text(out / f"{basin_id}_notifications.csv", _csv_text(notes)))
    files.append(atomic_write_text(out / f"{basin_id}_notification_matrix.csv", _csv_text(plan.pairs)))
    tl = pd.concat([c.timeline.assign(site_id=c.site["site_id"], site=c.site["name"]) for c in cards],
                   ignore_index=True) if cards else pd.DataFrame()
    files.append(atomic_write_text(out / f"{basin_id}_timelines.csv", _csv_text(tl)))
    plan.files = files
    return plan
