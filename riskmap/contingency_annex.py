"""The basin annex and the scenario cards as HTML: template contexts and rendering.

:func:`plan_context` turns a :class:`~riskmap.contingency_matrix.ContingencyPlan`
into plain template values (warning checkpoints, cards, notification matrix,
gaps, SOP checklist; the autoescaped templates ``contingency_annex.html.j2``
and ``contingency_cards.html.j2`` escape them); :func:`plan_html` renders them
in the output language. :func:`_environment` is shared with :mod:`riskmap.exercise`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from riskmap.contingency_cards import ScenarioCard
from riskmap.contingency_matrix import ContingencyPlan
from riskmap.contingency_text import (
    _discharge_label,
    decimal_text,
    _kosovo_note,
    _loc,
    mass_text,
    _mg,
    _missing,
    _parts,
    _population,
    _unknown,
    _value_label,
    checkpoint_label,
    kind_label,
)
from riskmap.i18n import N_, _, country_label, current_lang, use_lang

__all__ = ["SOP_STEPS", "TO_BE_SUPPLIED", "contacts_for", "plan_context", "plan_html", "sop_context"]

#: The harmonised SOP steps of the checklist structure (title, what the riparians complete).
#: (English as written, marked for the catalogue: show them with ``riskmap.i18n._``.)
SOP_STEPS: tuple[tuple[str, str], ...] = (
    (N_("Alert"), N_("who raises the alarm at the site, by which channel, within which time")),
    (N_("Verification"),
     N_("who confirms the release (site visit, first samples) and how the first report is made")),
    (N_("Notification"),
     N_("who notifies which downstream country, basin body and the UNECE IAN point of contact")),
    (N_("Response"), N_("measures at intakes, reservoirs and the site; who decides on closures and releases")),
    (N_("Sampling"), N_("where and how often each country samples; laboratories; sharing of results")),
    (N_("All-clear"), N_("criteria (concentration below the standard at the checkpoints) and who declares it")),
)
TO_BE_SUPPLIED = N_("to be supplied")


def contacts_for(contacts: pd.DataFrame, country: str) -> list[str]:
    """The contact points of ``country`` as shown on a scenario card: ``role · organisation · contact``.

    Parameters
    ----------
    contacts : pandas.DataFrame
        The contact table (:func:`riskmap.contingency.read_contacts`).
    country : str
        ISO3 code.

    Returns
    -------
    list of str
        One line per contact, or the "to be supplied" text (in the current language) when the
        country has none: never an empty list.

    Examples
    --------
    >>> c = pd.DataFrame({"country": ["KGZ"], "role": ["POC"], "organisation": ["Ministry"], "contact": [""]})
    >>> contacts_for(c, "KGZ"), contacts_for(c, "UZB") == [_(TO_BE_SUPPLIED)]
    (['POC · Ministry'], True)
    """
    sub = contacts[contacts["country"] == country]
    return [" · ".join(x for x in (r.role, r.organisation, r.contact) if x) for r in sub.itertuples()] \
        or [_(TO_BE_SUPPLIED)]


def _card_context(card: ScenarioCard, contacts: pd.DataFrame) -> dict[str, Any]:
    rows = [{"checkpoint": checkpoint_label(r.checkpoint, r.kind, r.country), "kind": kind_label(r.kind),
             "country": " / ".join(country_label(c) for c in _parts(r.country)),
             "km": decimal_text(r.river_km), "lead": decimal_text(r.leading_edge_h),
             "lead_fast": decimal_text(r.leading_edge_h_fast),
             "peak": decimal_text(r.peak_time_h), "conc": _mg(r.peak_mg_l),
             "range": f"{_mg(r.peak_mg_l_low)}–{_mg(r.peak_mg_l_high)}", "above": decimal_text(r.above_threshold_h),
             "population": _population(r.population) if r.kind == "town" else "",
             "note": r.note} for r in card.timeline.itertuples(index=False)]
    notes = [{"notified": country_label(r.notified), "notified_code": r.notified,
              "origin": country_label(r.origin), "upstream": " / ".join(country_label(c) for c in _parts(r.upstream)),
              "checkpoint": checkpoint_label(r.checkpoint), "central": decimal_text(r.warning_h),
              "fast": decimal_text(r.warning_h_fast),
              "contacts_origin": contacts_for(contacts, r.origin),
              "contacts_notified": contacts_for(contacts, r.notified)}
             for r in card.notifications.itertuples(index=False)]
    s = card.site
    return {"site": {**s, "country_label": country_label(s["country"]),
                     "category_label": _value_label("category", s["category"]),
                     "river_entry_label": country_label(s["river_entry"]) if s["river_entry"] else None,
                     "rank": _unknown() if _missing(s["priority_rank"]) else f"{float(s['priority_rank']):.0f}"},
            "anchor": "card-" + re.sub(r"[^a-z0-9]+", "-", s["site_id"].lower()),
            "known": card.known, "unknown": card.unknown, "scenario": card.scenario,
            "mass": mass_text(card.scenario["mass_kg"]),
            "duration": _("{value} h").format(value=_loc(f"{card.scenario['duration_h']:g}")),
            "model": card.result.params.get("model"), "discharge": _discharge_label(card.result.params.get("discharge")),
            "threshold": _loc(f"{card.result.params.get('threshold_mg_l', float('nan')):g}"),
            "snap": decimal_text(card.site.get("snap_km")),
            "uncertainty": card.result.uncertainty.get("statement", ""),
            "timeline": rows, "notifications": notes, "route_png": card.route_png, "gaps": card.gaps}


def _matrix_context(plan: ContingencyPlan) -> dict[str, Any]:
    pairs = plan.pairs
    if pairs.empty:
        return {"origins": [], "notified": [], "cells": {}}
    origins, notified = sorted(pairs["origin"].unique()), sorted(pairs["notified"].unique())
    cells: dict[str, dict[str, str]] = {o: {n: "" for n in notified} for o in origins}
    for r in pairs.itertuples(index=False):
        fast, central = decimal_text(r.min_warning_h_fast), decimal_text(r.min_warning_h)
        txt = _("{fast} h (central {central} h)").format(fast=fast, central=central)
        if r.unknown_time:
            txt = _("before the first checkpoint (time unknown)") if pd.isna(r.min_warning_h) else \
                _("{fast} h (central {central} h); before the first checkpoint for some sites").format(
                    fast=fast, central=central)
        cells[r.origin][r.notified] = txt
    return {"origins": [{"code": o, "label": country_label(o)} for o in origins],
            "notified": [{"code": n, "label": country_label(n)} for n in notified], "cells": cells}


def _checkpoints_context(plan: ContingencyPlan) -> list[dict[str, Any]]:
    """Warning checkpoints of the basin: every border/reservoir/lake/town the cards pass, earliest arrival."""
    frames = [c.timeline.assign(site=c.site["name"]) for c in plan.cards]
    if not frames:
        return []
    df = pd.concat(frames, ignore_index=True)
    df = df[df["kind"].isin(["border", "reservoir", "lake", "town"])]
    g = df.groupby(["checkpoint", "kind", "country"], sort=False)
    out = pd.DataFrame({"lead_fast": g["leading_edge_h_fast"].min(), "lead": g["leading_edge_h"].min(),
                        "n": g["site"].nunique()}).reset_index()
    out = out.sort_values(["lead_fast", "checkpoint"], kind="mergesort", na_position="last")
    return [{"checkpoint": checkpoint_label(r.checkpoint, r.kind, r.country), "kind": kind_label(r.kind),
             "country": " / ".join(country_label(c) for c in _parts(r.country)),
             "lead_fast": decimal_text(r.lead_fast), "lead": decimal_text(r.lead), "n": int(r.n)} for r in out.itertuples()]


def plan_context(plan: ContingencyPlan, generated: str) -> dict[str, Any]:
    """Template context of the annex and the cards (plain values; the templates escape them)."""
    from riskmap.report_sections import _version

    cards = [_card_context(c, plan.contacts) for c in plan.cards]
    gaps = [{"site": c["site"]["name"], "gaps": c["gaps"]} for c in cards if c["gaps"]]
    missing_contacts = [country_label(c) for c in plan.riparian if c not in set(plan.contacts["country"])]
    codes = set(plan.riparian) | {p for c in plan.cards for col in ("notified", "origin", "upstream")
                                  for v in c.notifications[col] for p in _parts(v)}
    return {"basin_id": plan.basin_id, "basin_name": _(plan.basin_name),
            "riparian": [country_label(c) for c in plan.riparian], "cards": cards,
            "matrix": _matrix_context(plan), "checkpoints": _checkpoints_context(plan), "gaps": gaps,
            "missing_contacts": missing_contacts, "sop": sop_context(),
            "params_label": _(plan.params["meta"]["label"]), "version": _version(), "generated": generated,
            "to_be_supplied": _(TO_BE_SUPPLIED), "lang": current_lang(), "kosovo_note": _kosovo_note(codes)}


def sop_context() -> list[dict[str, str]]:
    """The SOP steps (:data:`SOP_STEPS`) in the current language."""
    return [{"step": _(s), "what": _(w)} for s, w in SOP_STEPS]


def _environment():
    """The Jinja environment of the contingency and exercise templates (autoescape, gettext installed).

    ``{{ _("...") }}`` in the templates is :func:`riskmap.i18n.gettext` (newstyle:
    ``_("%(n)s sites", n=3)`` escapes the values), so the templates follow
    :func:`riskmap.i18n.use_lang`.
    """
    import jinja2

    from riskmap import i18n

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def plan_html(plan: ContingencyPlan, which: str = "annex", generated: str = "", *, lang: str | None = None) -> str:
    """Render the annex (``which="annex"``) or the scenario cards (``"cards"``) to HTML in ``lang``.

    The cards' texts (release scenario, gaps) are in the language the plan was built in.
    """
    tpl = {"annex": "contingency_annex.html.j2", "cards": "contingency_cards.html.j2"}[which]
    with use_lang(lang):
        return _environment().get_template(tpl).render(**plan_context(plan, generated))
