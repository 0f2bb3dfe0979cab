"""The Natech-under-climate-change report section as an HTML fragment, in the output language.

:func:`climate_section_html` renders :func:`riskmap.natech.climate_section`
with the autoescaped template ``contingency_climate.html.j2``.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from riskmap.contingency_annex import _environment
from riskmap.contingency_text import _code_or_label, _loc, _unknown
from riskmap.i18n import N_, _, current_lang, use_lang

__all__ = ["climate_section_html"]

#: :data:`riskmap.natech.NO_CLIMATE_DATA`, marked here so that the climate section reads in the output language.
_NO_CLIMATE_DATA = N_("riskmap ships no climate data: the scenario rasters are the user's own GeoTIFFs, "
                      "sampled as given")
_CELL_RE = re.compile(r"(?P<value>\S+) \(class (?P<cls>\w+)\)")


def _climate_text(text: str) -> str:
    """A value cell (``0.42 (class 2)``, ``no data``) or change (``2050: +1; 2080: no data``) of the climate table."""
    if text == "no data":
        return _("no data")
    if m := _CELL_RE.fullmatch(text):
        cls = _unknown() if m["cls"] == "unknown" else m["cls"]
        return _("{value} (class {cls})").format(value=_loc(m["value"]), cls=cls)
    parts = [p.rsplit(": ", 1) for p in text.split("; ")]
    if all(len(p) == 2 for p in parts):
        return "; ".join(f"{k}: {_climate_text(v)}" for k, v in parts)
    return text


def _climate_context(ctx: dict[str, Any]) -> dict[str, Any]:
    if current_lang() == "en":
        return ctx
    hazards = [{**h, "rows": [{**r, "country": _code_or_label(r["country"]) if r["country"] else "",
                               "cells": [_climate_text(c) for c in r["cells"]], "change": _climate_text(r["change"])}
                              for r in h["rows"]]} for h in ctx["hazards"]]
    return {**ctx, "statement": _(ctx["statement"]), "hazards": hazards}


def climate_section_html(sites: pd.DataFrame, *, lang: str | None = None) -> str:
    """The Natech-under-climate-change report section as an HTML fragment ("" without climate columns).

    The report can include it as is (autoescaped template ``contingency_climate.html.j2``;
    context from :func:`riskmap.natech.climate_section`), in ``lang`` (default the
    current language). Hazard and scenario names are the user's raster keys (data).

    Examples
    --------
    >>> climate_section_html(pd.DataFrame({"name": ["x"]}))
    ''
    """
    from riskmap.natech import climate_section

    with use_lang(lang):
        ctx = climate_section(sites)
        if ctx is None:
            return ""
        return _environment().get_template("contingency_climate.html.j2").render(**_climate_context(ctx))
