"""The report's one ranking: the top sites with three or four reasons in words, and the numbers for the annex.

The ranking is the sites' ``priority_rank`` (the one ranking of
:func:`riskmap.hazard.score`, see :mod:`riskmap.ranking`), never recomputed
here; this module words it. Messages belong to the gettext domain ``report_text``.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import pandas as pd

from riskmap.i18n import N_, _, country_label, format_number, ngettext, use_lang
from riskmap.report_values import _as_dict, _as_list, _cap, _dec, _en, _finite, cell_text, _missing, _name, exposure_name


#: Number of sites listed in the top-priority table.
TOP_N = 15


def ranking_frame(sites: pd.DataFrame) -> pd.DataFrame:
    """The sites, with what is known about each in ``basis`` (their ``score_status``), for the report's tables.

    The ranking itself is the sites' ``priority_rank``: the one ranking of
    :func:`riskmap.hazard.score` (sites without site data ranked on their
    category's typical hazard, ``rank_basis``), never recomputed here.

    Examples
    --------
    >>> import pandas as pd
    >>> ranking_frame(pd.DataFrame({"score_status": ["scored", "insufficient data"]}))["basis"].tolist()
    ['scored', 'insufficient data']
    """
    out = sites.reset_index(drop=True).copy()
    out["basis"] = out["score_status"] if "score_status" in out.columns else pd.Series(None, index=out.index)
    return out


def _parts(codes: Any) -> list[str]:
    return [p for c in _as_list(codes) for p in str(c).split("|")]


def _first_border_parts(codes: Any, own: Any) -> tuple[str, str] | None:
    """The first border a spill meets as ``("water", "A – B")`` or ``("country", "B")`` (names shown), or None."""
    for c in _as_list(codes):
        c = str(c)
        if "|" in c:
            return "water", " – ".join(country_label(p) for p in c.split("|"))
        if not _missing(own) and c != str(own):
            return "country", country_label(c)
    return None


def first_border(codes: Any, own: Any) -> str | None:
    """The first border a spill meets: a border water (``"BIH|SRB"``) or the first foreign country.

    Examples
    --------
    >>> first_border(["BIH", "BIH|SRB"], "BIH"), first_border(["MNE", "ALB"], "MNE")
    ('Bosnia and Herzegovina – Serbia border', 'border of Albania')
    """
    found = _first_border_parts(codes, own)
    if found is None:
        return None
    kind, label = found
    if kind == "water":
        return _("{countries} border").format(countries=label)
    return _("border of {country}").format(country=label)


def foreign_downstream(codes: Any, own: Any) -> list[str]:
    """Countries downstream other than the site's own, in path order (border pairs split).

    Examples
    --------
    >>> foreign_downstream(["BIH", "BIH|SRB", "SRB"], "BIH")
    ['SRB']
    """
    return list(dict.fromkeys(p for p in _parts(codes) if _missing(own) or p != str(own)))


def _quantity(r: Mapping[str, Any]) -> str | None:
    tv, rv = _finite(r.get("tailings_volume_m3")), _finite(r.get("reservoir_volume_m3"))
    mw = _finite(r.get("capacity_mw"))
    if tv:
        return _("about {amount} m³ of tailings").format(amount=amount_text(tv))
    if rv:
        return _("a reservoir of about {amount} m³").format(amount=amount_text(rv))
    if mw:
        return _("a capacity of {mw} MW").format(mw=f"{mw:,.0f}" if _en() else format_number(mw, 0))
    return None


def amount_text(v: float) -> str:
    """A large amount in words: ``1.2 billion``, ``3.4 million`` (Russian ``1,2 млрд``, ``3,4 млн``).

    Parameters
    ----------
    v : float
        The amount (people, cubic metres ...).

    Returns
    -------
    str
        Billions and millions with one decimal, smaller amounts as grouped whole numbers.

    Examples
    --------
    >>> amount_text(2.5e9), amount_text(3.42e6), amount_text(12_345.0)
    ('2.5 billion', '3.4 million', '12,345')
    """
    if v >= 1e9:
        return _("{x} billion").format(x=_dec(v / 1e9, 1))
    if v >= 1e6:
        return _("{x} million").format(x=_dec(v / 1e6, 1))
    return f"{v:,.0f}" if _en() else format_number(v, 0)


def _a(word: str) -> str:
    """English indefinite article by sound: ``an oil ...``, but ``a uranium ...`` (a "yoo" sound).

    Examples
    --------
    >>> _a("oil refinery"), _a("uranium tailings"), _a("metal-ore tailings facility")
    ('an oil refinery', 'a uranium tailings', 'a metal-ore tailings facility')
    """
    w = word.lower()
    vowel = w[:1] in "aeiou" and not w.startswith(("uranium", "uni", "use", "eu", "one"))
    return ("an " if vowel else "a ") + word


def _what(category: str) -> str:
    """The category as the subject of a reason: ``A mine`` in English, capitalised in other languages."""
    return _a(category).capitalize() if _en() else _cap(category)


def _and(items: list[str]) -> str:
    """``a, b and c`` in the output language."""
    if len(items) == 1:
        return items[0]
    return _("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])


def _border_reason(border: tuple[str, str], km: float, hours: float | None) -> str:
    """The reason "a spill reaches the border after about N km of river (about H h)"."""
    kind, label = border
    args = {"countries": label, "country": label, "km": _dec(km), "hours": _dec(hours) if hours is not None else ""}
    if kind == "water":
        msg = (_("A spill reaches the {countries} border after about {km} km of river (about {hours} h).")
               if hours is not None else _("A spill reaches the {countries} border after about {km} km of river."))
    else:
        msg = (_("A spill reaches the border of {country} after about {km} km of river (about {hours} h).")
               if hours is not None else _("A spill reaches the border of {country} after about {km} km of river."))
    return msg.format(**args)


def _basis_reason(r: Mapping[str, Any]) -> str:
    """The reason that says what the site's hazard rests on (its category, or site data)."""
    from riskmap.report_labels import category_name

    what, qty = _what(category_name(r.get("category"))), _quantity(r)
    basis = r.get("basis", r.get("score_status"))
    if basis == "insufficient data":
        return _("{what}: hazard of its category, as the sources give no quantities.").format(what=what)
    if basis == "proxy":
        msg = (_("{what} with {quantity}; data gaps filled with cautious defaults.") if qty
               else _("{what}; data gaps filled with cautious defaults."))
    else:
        msg = _("{what} with {quantity}, scored on site data.") if qty else _("{what}, scored on site data.")
    return msg.format(what=what, quantity=qty)


def why_reasons(r: Mapping[str, Any], max_reasons: int = 4) -> list[str]:
    """Three or four short reasons in words why a site ranks where it does (the numbers are in the annex).

    Examples
    --------
    >>> why_reasons({"category": "mine", "on_border_water": True, "basis": "insufficient data"})[0]
    'On border water: a spill enters a border river or shared lake at once.'
    """
    out: list[str] = []
    km, hours = _finite(r.get("first_border_river_km")), _finite(r.get("travel_time_h"))
    border = _first_border_parts(r.get("downstream_countries"), r.get("country"))
    if bool(r.get("on_border_water")) is True:
        out.append(_("On border water: a spill enters a border river or shared lake at once."))
    elif km is not None and border:
        out.append(_border_reason(border, km, hours))
    elif bool(r.get("near_border")) is True and _finite(r.get("border_km")) is not None:
        out.append(_("{km} km from an international border.").format(km=_dec(float(r["border_km"]))))
    else:
        out.append(_("No border crossing found downstream within the basin."))
    out.append(_basis_reason(r))
    foreign = foreign_downstream(r.get("downstream_countries"), r.get("country"))
    if foreign:
        out.append(_("Flows on into {countries}.").format(countries=_and([country_label(c) for c in foreign])))
    pop = _finite(r.get("downstream_pop_total"))
    if pop:
        if pop >= 1e6:
            out.append(_("Towns downstream: at least {amount} people.").format(amount=amount_text(pop)))
        else:
            people = f"{pop:,.0f}" if _en() else format_number(pop, 0)
            out.append(ngettext("Towns downstream: at least {n} person.", "Towns downstream: at least {n} people.",
                                int(round(pop))).format(n=people))
    terms = _as_dict(r.get("score_terms"))
    fault = _finite(r.get("natech_fault_km", terms.get("natech_fault_km")))
    if fault is not None and fault <= 10:
        out.append(_("{km} km from an active fault (earthquake hazard).").format(km=_dec(fault)))
    return out[:max_reasons]


#: Numbers behind the reasons, in the annex: (column or score term, header, digits). The headers are
#: in English; show them with :func:`annex_headers` (or ``_()``) in the output language.
ANNEX_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("priority_score", N_("priority score"), 1),
    ("priority_hazard_part", N_("of which hazard"), 1),
    ("priority_exposure_part", N_("of which exposure"), 1),
    ("thi", N_("Tailings Hazard Index"), 1),
    ("wri", N_("Water Risk Index"), 1),
    ("first_border_river_km", N_("river km to first border"), 0),
    ("travel_time_h", N_("hours to first border"), 0),
    ("natech_fault_km", N_("km to active fault"), 0),
    ("downstream_pop_total", N_("people in towns downstream"), 0),
    ("completeness", N_("data completeness"), 2),
)


def annex_headers() -> list[str]:
    """The headers of the annex table (:data:`ANNEX_COLUMNS`) in the output language.

    Examples
    --------
    >>> from riskmap.i18n import use_lang
    >>> with use_lang("ru"):
    ...     annex_headers()[:2]
    ['балл приоритетности', 'в т. ч. опасность']
    """
    return [_(h) for _c, h, _d in ANNEX_COLUMNS]


def ranking_context(ranked: pd.DataFrame, n: int = TOP_N, *, lang: str | None = None) -> list[dict[str, Any]]:
    """The top ``n`` of the ranking: number, site, category, country, exposure, basis, reasons and annex numbers.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _ranking_context(ranked, n)


def _ranking_context(ranked: pd.DataFrame, n: int = TOP_N) -> list[dict[str, Any]]:
    """The top ``n`` of the ranking: number, site, category, country, exposure, basis, reasons and annex numbers."""
    from riskmap.report_labels import category_name, score_status_name

    if "priority_rank" not in ranked.columns:
        return []
    key = pd.to_numeric(ranked["priority_rank"], errors="coerce")
    top = ranked.loc[key.dropna().sort_values(kind="stable").index].head(n)
    out = []
    for r in top.to_dict("records"):
        terms = _as_dict(r.get("score_terms"))
        out.append({
            "no": int(r["priority_rank"]), "name": _name(r.get("name")), "category": category_name(r.get("category")),
            "country": country_label(r.get("country")), "exposure_class": exposure_name(r.get("exposure_class")),
            "basis": score_status_name(r.get("basis")), "reasons": why_reasons(r),
            "numbers": [cell_text(_finite(r.get(c, terms.get(c))), d) for c, _h, d in ANNEX_COLUMNS],
        })
    return out
