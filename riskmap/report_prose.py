"""The report's prose written from the data: executive summary, key findings, limitations, recommendations.

Every sentence is one message with named placeholders (gettext domain
``report_text``); counts use ``ngettext`` (Russian has three plural forms).
Site names and other data stay as they are. The measured accuracy of the
river model quoted in the limitations is :data:`ACCURACY` (docs/accuracy.md).
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

import pandas as pd

from riskmap.i18n import _, country_label, format_date, format_number, ngettext, use_lang
from riskmap.report_ranking import foreign_downstream
from riskmap.report_values import _as_list, _dec, _en, _finite, cell_text, _int, _name, share_text
from riskmap.schema import TMF_CATEGORIES


#: Travel time to the first border (hours, at the assessed velocity) below which a site's warning time is short.
SHORT_WARNING_H = 6.0


#: River km to the first border counted as "close to a border" in the findings.
NEAR_BORDER_RIVER_KM = 50.0


#: Measured accuracy of the hydrography on known places (docs/accuracy.md, "Figures on the bundled data").
#: tests/test_report_publication.py checks that each value is still the one in docs/accuracy.md.
ACCURACY: dict[str, Any] = {
    "date": "2026-11-29",
    "basin_right": ("99.6 %", "264"),
    "order_right": ("99.4 %", "172"),
    "km_in_range": ("96.6 %", "29"),
    "km_median_error": "11.8 %",
}


def site_count_text(n: int) -> str:
    """``1 site``, ``3 sites`` (Russian ``1 объект``, ``3 объекта``, ``5 объектов``).

    Parameters
    ----------
    n : int
        Number of sites.

    Returns
    -------
    str
        The number (grouped in Russian) and the word in its plural form for ``n`` in the current language.

    Examples
    --------
    >>> site_count_text(1), site_count_text(1234)
    ('1 site', '1234 sites')
    """
    return ngettext("{n} site", "{n} sites", n).format(n=_int(n))


def _accuracy_pct(text: str) -> str:
    """A percentage of :data:`ACCURACY` (``"94.9 %"``, as in docs/accuracy.md) in the output language."""
    if _en():
        return text
    num = text.replace("%", "").strip()
    digits = len(num.split(".")[1]) if "." in num else 0
    return format_number(float(num), digits) + "\u00a0%"


def border_stretches(sites: pd.DataFrame) -> list[dict[str, Any]]:
    """Border waters (``"BIH|SRB"``) with the number of upstream sites and how many reach them within 50 km.

    Examples
    --------
    >>> import pandas as pd
    >>> sites = pd.DataFrame({"downstream_countries": [["BIH", "BIH|SRB"], ["MNE", "BIH", "BIH|SRB"]],
    ...                       "first_border_river_km": [12.0, 80.0]})
    >>> border_stretches(sites)
    [{'code': 'BIH|SRB', 'label': 'Bosnia and Herzegovina – Serbia', 'n': 2, 'near': 1}]
    """
    if "downstream_countries" not in sites.columns:
        return []
    km = pd.to_numeric(sites.get("first_border_river_km"), errors="coerce")
    rows = pd.DataFrame({"codes": sites["downstream_countries"].map(
        lambda v: sorted({str(c) for c in _as_list(v) if "|" in str(c)})), "km": km})
    ex = rows.explode("codes").dropna(subset=["codes"])
    if ex.empty:
        return []
    first = sites["downstream_countries"].map(lambda v: next((str(c) for c in _as_list(v) if "|" in str(c)), None))
    near = (km <= NEAR_BORDER_RIVER_KM).fillna(False)
    out = []
    for code, n in ex["codes"].value_counts().items():
        out.append({"code": code, "label": " – ".join(country_label(p) for p in code.split("|")),
                    "n": int(n), "near": int(((first == code) & near).sum())})
    return out


def short_warning(sites: pd.DataFrame, ranked_no: pd.Series | None = None) -> list[dict[str, Any]]:
    """Sites whose spill reaches a border in less than :data:`SHORT_WARNING_H` hours (fastest first).

    Examples
    --------
    >>> import pandas as pd
    >>> sites = pd.DataFrame({"name": ["Slow", "Fast"], "country": ["MNE", "BIH"],
    ...                       "travel_time_h": [22.0, 3.3], "priority_rank": [2, 1]})
    >>> short_warning(sites)
    [{'name': 'Fast', 'country': 'Bosnia and Herzegovina', 'hours': '3', 'no': '1'}]
    """
    if "travel_time_h" not in sites.columns:
        return []
    h = pd.to_numeric(sites["travel_time_h"], errors="coerce")
    sub = sites[(h < SHORT_WARNING_H).to_numpy()].assign(_h=h).sort_values("_h", kind="stable")
    return [{"name": _name(r.get("name")), "country": country_label(r.get("country")), "hours": cell_text(r["_h"], 0),
             "no": cell_text(r.get("priority_rank"))} for r in sub.to_dict("records")]


def data_gaps(sites: pd.DataFrame) -> list[dict[str, Any]]:
    """Per country: sites, sites with insufficient data for a site-specific score, unknown status."""
    if "country" not in sites.columns or not len(sites):
        return []
    basis = sites["basis"] if "basis" in sites.columns else sites.get("score_status")
    df = pd.DataFrame({
        "country": sites["country"].astype(object).where(sites["country"].notna(), "unknown"),
        "insufficient": (basis == "insufficient data") if basis is not None else False,
        "status_unknown": sites["status"].astype(object).isin(["unknown", None]) | sites["status"].isna()
        if "status" in sites.columns else False,
        "approx": ~sites["coord_precision"].isin(["exact"]) if "coord_precision" in sites.columns else False,
    })
    g = df.groupby("country").agg(n=("insufficient", "size"), insufficient=("insufficient", "sum"),
                                  status_unknown=("status_unknown", "sum"), approx=("approx", "sum"))
    g = g.sort_values(["insufficient", "n"], ascending=False)
    return [{"country": country_label(c), "n": int(r.n), "insufficient": int(r.insufficient),
             "insufficient_pct": share_text(int(r.insufficient), int(r.n)), "status_unknown": int(r.status_unknown),
             "approx": int(r.approx)} for c, r in g.iterrows()]


def _inventory_paragraph(sites: pd.DataFrame, basin_name: str) -> str:
    """The first paragraph of the summary: how many sites of which kinds, by country."""
    from riskmap.report_labels import category_plural

    n = len(sites)
    cats = sites["category"].value_counts()
    what = ", ".join(category_plural(c, int(k)) for c, k in cats.head(4).items())
    rest = n - int(cats.head(4).sum())
    if rest:
        what = ngettext("{what} and {n} other", "{what} and {n} other", rest).format(what=what, n=_int(rest))
    countries = sites["country"].map(country_label).value_counts() if "country" in sites.columns else pd.Series()
    where = ", ".join(f"{c} {_int(k)}" for c, k in countries.items())
    return ngettext("The inventory holds {n} site in the {basin} basin: {what}. By country: {where}.",
                    "The inventory holds {n} sites in the {basin} basin: {what}. By country: {where}.",
                    n).format(n=_int(n), basin=basin_name, what=what, where=where)


def _spill_paragraph(sites: pd.DataFrame) -> str:
    """The second paragraph of the summary: how many sites would send a spill abroad, and to whom."""
    n = len(sites)
    tb = int(sites["transboundary_downstream"].astype("boolean").fillna(False).sum())
    vh = int((sites.get("exposure_class") == "very high").sum()) if "exposure_class" in sites.columns else 0
    who = pd.Series([c for codes, own in zip(sites["downstream_countries"], sites["country"])
                     for c in foreign_downstream(codes, own)]).value_counts()
    whom = ", ".join(f"{country_label(c)} ({site_count_text(int(k))})" for c, k in who.head(4).items())
    cross = ngettext("A spill from {n} site ({share}) would cross an international border downstream",
                     "A spill from {n} sites ({share}) would cross an international border downstream",
                     tb).format(n=_int(tb), share=share_text(tb, n))
    near = ngettext("{n} site lies on border water or reaches a border within a short distance (very high exposure)",
                    "{n} sites lie on border water or reach a border within a short distance (very high exposure)",
                    vh).format(n=_int(vh))
    text = _("{first}; {second}.").format(first=cross, second=near)
    if whom:
        text += " " + _("Spills from other countries would reach {countries}.").format(countries=whom)
    return text


def _unknown_paragraph(sites: pd.DataFrame, basis: pd.Series) -> str:
    """The last paragraph of the summary: what the public sources do not say."""
    n = len(sites)
    ins = int((basis == "insufficient data").sum())
    st = int(sites["status"].isna().sum() + (sites["status"] == "unknown").sum()) if "status" in sites else 0
    gaps = ngettext("Much is unknown: for {n} site ({share}) the public sources give no quantity (volume, "
                    "substances, capacity), so its hazard is estimated from its category only",
                    "Much is unknown: for {n} sites ({share}) the public sources give no quantity (volume, "
                    "substances, capacity), so their hazard is estimated from their category only",
                    ins).format(n=_int(ins), share=share_text(ins, n))
    status = ngettext("the operating status of {n} site is not known", "the operating status of {n} sites is not known",
                      st).format(n=_int(st))
    return (_("{first}; {second}.").format(first=gaps, second=status) + " "
            + _("These gaps, and the limits of the river model, are set out under '{chapter}'.").format(
                chapter=_("Limitations")))


def executive_summary(sites: pd.DataFrame, ranking: list[dict[str, Any]], basin_name: str,
                      *, lang: str | None = None) -> list[str]:
    """Three or four paragraphs written from the data: what is where, what matters most for whom, what is unknown.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _executive_summary(sites, ranking, basin_name)


def _executive_summary(sites: pd.DataFrame, ranking: list[dict[str, Any]], basin_name: str) -> list[str]:
    """Three or four paragraphs written from the data: what is where, what matters most for whom, what is unknown."""
    if not len(sites):
        return [_("The inventory holds no site in the {basin} basin.").format(basin=basin_name)]
    paras = [_inventory_paragraph(sites, basin_name)]
    if "transboundary_downstream" in sites.columns:
        paras.append(_spill_paragraph(sites))
    if ranking:
        top = "; ".join(f"{r['no']}. {r['name']} ({r['country']})" for r in ranking[:3])
        paras.append(_("The sites that matter most for transboundary preparedness are {sites}. The ranking and the "
                       "reasons behind it are in the chapter '{chapter}'.").format(sites=top,
                                                                                    chapter=_("Priority sites")))
    basis = sites["basis"] if "basis" in sites.columns else sites.get("score_status")
    if basis is not None:
        paras.append(_unknown_paragraph(sites, basis))
    return paras


def key_findings(sites: pd.DataFrame, ranking: list[dict[str, Any]], *, lang: str | None = None) -> list[str]:
    """Short findings (one sentence each) from the data.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _key_findings(sites, ranking)


def _key_findings(sites: pd.DataFrame, ranking: list[dict[str, Any]]) -> list[str]:
    """Short findings (one sentence each) from the data."""
    from riskmap.report_labels import category_plural

    out: list[str] = []
    n = len(sites)
    if not n:
        return out
    cat = sites["category"].value_counts()
    out.append(_("The largest group is {group} ({share} of the sites).").format(
        group=category_plural(cat.index[0], int(cat.iloc[0])), share=share_text(int(cat.iloc[0]), n)))
    tmf = int(sites["category"].isin(TMF_CATEGORIES).sum())
    if tmf:
        out.append(ngettext("{n} site is a tailings facility, the category behind the worst transboundary accidents "
                            "in the region.",
                            "{n} sites are tailings facilities, the category behind the worst transboundary "
                            "accidents in the region.", tmf).format(n=_int(tmf)))
    stretches = border_stretches(sites)
    if stretches:
        s = stretches[0]
        out.append(_("The {border} border water has the most sites upstream: {n}, of which {near} reach it within "
                     "{km} river km.").format(border=s["label"], n=_int(s["n"]), near=_int(s["near"]),
                                              km=_dec(NEAR_BORDER_RIVER_KM)))
    fast = short_warning(sites)
    if fast:
        out.append(ngettext("{n} site would send a spill across a border in less than {hours} hours (at the assumed "
                            "flow speed): too little time for a downstream country to act without an agreed warning "
                            "procedure.",
                            "{n} sites would send a spill across a border in less than {hours} hours (at the assumed "
                            "flow speed): too little time for a downstream country to act without an agreed warning "
                            "procedure.", len(fast)).format(n=_int(len(fast)), hours=_dec(SHORT_WARNING_H)))
    gaps = data_gaps(sites)
    if gaps and gaps[0]["insufficient"]:
        g = gaps[0]
        out.append(ngettext("The largest data gap is in {country}: {insufficient} of its {n} site ({share}) have no "
                            "quantity in the public sources.",
                            "The largest data gap is in {country}: {insufficient} of its {n} sites ({share}) have no "
                            "quantity in the public sources.", g["n"]).format(
            country=g["country"], insufficient=_int(g["insufficient"]), n=_int(g["n"]), share=g["insufficient_pct"]))
    if ranking:
        r = ranking[0]
        out.append(_("The first priority is {name} ({country}), a {category}.").format(
            name=r["name"], country=r["country"], category=r["category"]))
    return out


def _river_limits(meta: Mapping[str, Any] | None) -> str:
    """The limitation of the river model, with its measured accuracy (docs/accuracy.md)."""
    measured = (meta or {}).get("measured") or {}
    area_err = _finite(measured.get("area_error_pct"))
    a = ACCURACY
    text = _("The river network and basin outlines are generalised. Tested on known places (docs/accuracy.md, "
             "{date}): the basin is right for {basin_right} of {basin_n} places, the downstream countries are in "
             "the right order for {order_right} of {order_n}, and the river distance to the first border is within "
             "the published range for {km_in_range} of {km_n} places, with a median error of {median_error}, "
             "mostly too short. River kilometres are corrected for the measured length bias of the mapped lines "
             "(docs/hydrography.md); read them with their low-high range.").format(
        date=a["date"] if _en() else format_date(a["date"]),
        basin_right=_accuracy_pct(a["basin_right"][0]), basin_n=a["basin_right"][1],
        order_right=_accuracy_pct(a["order_right"][0]), order_n=a["order_right"][1],
        km_in_range=_accuracy_pct(a["km_in_range"][0]), km_n=a["km_in_range"][1],
        median_error=_accuracy_pct(a["km_median_error"]))
    if area_err is not None:
        text += " " + _("The basin area as mapped differs by {pct} % from the published range.").format(
            pct=_dec(area_err, 1))
    return text


def limitations_context(sites: pd.DataFrame, meta: Mapping[str, Any] | None,
                        *, lang: str | None = None) -> list[dict[str, str]]:
    """The data and model limits with their measured size.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _limitations_context(sites, meta)


def _limitations_context(sites: pd.DataFrame, meta: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The data and model limits with their measured size."""
    out: list[dict[str, str]] = []
    n = len(sites)
    basis = sites["basis"] if "basis" in sites.columns else sites.get("score_status")
    if n and basis is not None:
        ins = int((basis == "insufficient data").sum())
        out.append({"title": _("Incomplete site data"), "text": ngettext(
            "The inventory is compiled from public global and regional datasets and the literature, not from "
            "national registers. For {insufficient} of {n} site ({share}) the sources give no quantity (tailings "
            "volume, substances, capacity); their hazard is the typical hazard of their category. Missing values "
            "are never replaced by zero. Sites that no public source records are missing altogether.",
            "The inventory is compiled from public global and regional datasets and the literature, not from "
            "national registers. For {insufficient} of {n} sites ({share}) the sources give no quantity (tailings "
            "volume, substances, capacity); their hazard is the typical hazard of their category. Missing values "
            "are never replaced by zero. Sites that no public source records are missing altogether.",
            n).format(insufficient=_int(ins), n=_int(n), share=share_text(ins, n))})
    if n and "coord_precision" in sites.columns:
        exact = int((sites["coord_precision"] == "exact").sum())
        out.append({"title": _("Locations"), "text": ngettext(
            "{exact} of {n} site ({share}) are located to about 100 m; the others only approximately (a few km) or "
            "by the nearest town, which can place a site on the wrong side of a divide or river.",
            "{exact} of {n} sites ({share}) are located to about 100 m; the others only approximately (a few km) or "
            "by the nearest town, which can place a site on the wrong side of a divide or river.",
            n).format(exact=_int(exact), n=_int(n), share=share_text(exact, n))})
    out.append({"title": _("River distances and basins"), "text": _river_limits(meta)})
    out.append({"title": _("Travel times"), "text":
                _("Hours to the first border assume a constant flow speed of 1 m/s; real speeds vary several-fold "
                  "with discharge, and reservoirs hold spills back. They indicate an order of magnitude only.")})
    if "downstream_pop_total" in sites.columns:
        out.append({"title": _("People downstream"), "text":
                    _("Downstream population counts only towns of 1,000 inhabitants or more within 5 km of the "
                      "river (GeoNames); it is a lower bound.")})
    out.append({"title": _("Scores"), "text":
                _("The scores use riskmap's documented default weights, not the official ICPDR or UNECE tables. "
                  "They rank sites for attention; they are not a risk assessment of any single facility.")})
    return out


def _short_warning_names(fast: list[dict[str, Any]]) -> str:
    """The first five sites with a short warning time, and how many more."""
    names = ", ".join(f["name"] for f in fast[:5])  # already _name()d
    return _("{names} and {n} more").format(names=names, n=_int(len(fast) - 5)) if len(fast) > 5 else names


def recommendations_context(sites: pd.DataFrame, ranking: list[dict[str, Any]],
                            *, lang: str | None = None) -> list[dict[str, str]]:
    """Recommendations for transboundary cooperation, each derived from a finding of this report.

    ``lang`` is the output language (``"en"``, ``"ru"``; ``None``: the current one, see
    :func:`riskmap.i18n.use_lang`).
    """
    with use_lang(lang):
        return _recommendations_context(sites, ranking)


def _recommendations_context(sites: pd.DataFrame, ranking: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Recommendations for transboundary cooperation, each derived from a finding of this report."""
    out: list[dict[str, str]] = []
    stretches = border_stretches(sites)
    for s in stretches[:2]:
        out.append({"title": _("Joint alerting on the {border} border water").format(border=s["label"]),
                    "text": ngettext(
                        "{n} site drains to this border water ({near} of them within {km} river km). The riparian "
                        "authorities should agree one notification procedure and contact points for it, and exercise "
                        "them together.",
                        "{n} sites drain to this border water ({near} of them within {km} river km). The riparian "
                        "authorities should agree one notification procedure and contact points for it, and exercise "
                        "them together.", s["n"]).format(n=_int(s["n"]), near=_int(s["near"]),
                                                          km=_dec(NEAR_BORDER_RIVER_KM))})
    fast = short_warning(sites)
    if fast:
        out.append({"title": _("Early warning for sites with short warning times"), "text": ngettext(
            "A spill from {n} site would cross a border in less than {hours} hours ({names}). Their operators and "
            "the downstream country should have direct 24-hour contacts and alarm plans, as the UNECE Industrial "
            "Accidents Convention provides.",
            "A spill from {n} sites would cross a border in less than {hours} hours ({names}). Their operators and "
            "the downstream country should have direct 24-hour contacts and alarm plans, as the UNECE Industrial "
            "Accidents Convention provides.", len(fast)).format(
            n=_int(len(fast)), hours=_dec(SHORT_WARNING_H), names=_short_warning_names(fast))})
    tmf = sites[sites["category"].isin(TMF_CATEGORIES)] if "category" in sites.columns else sites.iloc[:0]
    if len(tmf):
        out.append({"title": _("Tailings safety"), "text": ngettext(
            "Apply the UNECE Safety Guidelines and Good Practices for Tailings Management Facilities (and its "
            "checklist) to the {n} tailings facility listed here, starting with those ranked highest.",
            "Apply the UNECE Safety Guidelines and Good Practices for Tailings Management Facilities (and its "
            "checklist) to the {n} tailings facilities listed here, starting with those ranked highest.",
            len(tmf)).format(n=_int(len(tmf)))})
    gaps = [g for g in data_gaps(sites) if g["insufficient"]]
    if gaps:
        worst = ", ".join(_("{country} ({insufficient} of {n})").format(
            country=g["country"], insufficient=_int(g["insufficient"]), n=_int(g["n"])) for g in gaps[:4])
        out.append({"title": _("Close the data gaps"), "text":
                    _("Sites without quantities, by country: {countries}. Each country should complete the riskmap "
                      "questionnaire for them (volumes, substances, dam condition, status), so that they are "
                      "ranked on their own data rather than on their category.").format(countries=worst)})
    if "coord_precision" in sites.columns:
        rough = int((sites["coord_precision"] != "exact").sum())
        if rough:
            out.append({"title": _("Verify locations"), "text": ngettext(
                "{n} site has only an approximate location; verifying it (site visit or imagery) decides which "
                "river, and so which neighbour, a spill would reach.",
                "{n} sites have only approximate locations; verifying them (site visit or imagery) decides which "
                "river, and so which neighbour, a spill would reach.", rough).format(n=_int(rough))})
    return out
