"""The legend of a basin map: site kinds (shapes) and colour classes, basemap layers, the caveat.

Built as HTML in Python with every text escaped (:func:`html.escape`); the map's
JavaScript places it as it is.
"""

from __future__ import annotations

import html as _html
from collections.abc import Mapping
from typing import Any

from riskmap.i18n import _, pgettext
from riskmap.map_style import _STYLE, APPROXIMATE_PRECISIONS, CATEGORY_SHAPES, SHAPE_PATHS
from riskmap.map_text import category_label, country_name, kosovo_note


def _svg(shape: str, fill: str, stroke: str = "#222222", hollow: bool = False) -> str:
    d = SHAPE_PATHS[shape]
    if hollow:
        return (f'<svg class="rm-swatch" viewBox="0 0 20 20"><path d="{d}" fill="#ffffff" stroke="{fill}" '
                'stroke-width="2.6" stroke-dasharray="3 2"/></svg>')
    return f'<svg class="rm-swatch" viewBox="0 0 20 20"><path d="{d}" fill="{fill}" stroke="{stroke}" stroke-width="1.2"/></svg>'


def _line(colour: str, width: float, dash: str | None = None) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<svg class="rm-swatch" viewBox="0 0 20 20"><line x1="1" y1="10" x2="19" y2="10" stroke="{colour}" '
            f'stroke-width="{width}"{dash_attr}/></svg>')


def _row(symbol: str, text: str) -> str:
    return f'<div class="rm-row">{symbol}<span>{_html.escape(text)}</span></div>'


def _precision_words() -> dict[str, str]:
    """Short names of the approximate coordinate precisions, for the legend."""
    return {"town": pgettext("coordinate precision", "town"),
            "estimated": pgettext("coordinate precision", "estimated")}


def _legend_sites(info: Mapping[str, Any]) -> list[str]:
    """Legend rows of the sites: kinds (shape), colour classes, line and approximate sites."""
    heading = _("Sites: kind (shape)")
    parts = [f"<h5>{_html.escape(heading)}</h5>"]
    for c in info["categories"]:
        parts.append(_row(_svg(CATEGORY_SHAPES.get(c, "circle"), "#bbbbbb"), category_label(c)))
    if info.get("heading"):
        colour_heading = _("{heading} (colour)").format(heading=info["heading"])
        parts.append(f"<h5>{_html.escape(colour_heading)}</h5>")
        for label, colour in info["classes"]:
            parts.append(_row(_svg("circle", colour), label))
    if info.get("lines"):
        parts.append(_row(_line("#555555", 3.5, "9 4"), _("line site (pipeline), in its colour")))
    if info.get("approximate"):
        words = _precision_words()
        parts.append(_row(_svg("circle", "#555555", hollow=True), _("approximate location ({precisions})").format(
            precisions=" / ".join(words.get(p, p) for p in APPROXIMATE_PRECISIONS))))
    return parts


_DOT = '<svg class="rm-swatch" viewBox="0 0 20 20"><circle cx="10" cy="10" '


def _legend_html(title: str, data: Mapping[str, Any], info: Mapping[str, Any]) -> str:
    parts = [f"<details open><summary>{_html.escape(title)}</summary>"]
    if info.get("n"):
        parts += _legend_sites(info)
    basin_heading = _("Basin")
    parts.append(f"<h5>{_html.escape(basin_heading)}</h5>")
    st = _STYLE
    if "outline" in data:
        parts.append(_row(_line("#3f007d", 2.5), _("basin outline")))
    if "sub_basins" in data:
        parts.append(_row(_line("#6a51a3", 1.2, "4 3"), _("sub-basin")))
    if "rivers" in data:
        parts.append(_row(_line(st["water"], 2.5), _("river (width by order)")))
        parts.append(_row(_line(st["borderRiver"], 3.5), _("border stretch of a river")))
    if "lakes" in data:
        parts.append(_row(_svg("square", st["lake"], st["water"]), _("lake / reservoir")))
    if "dams" in data:
        parts.append(_row(_DOT + 'r="5" fill="#08306b" stroke="#fff" stroke-width="1.5"/></svg>',
                          _("large dam (hydropower)")))
    if "places" in data:
        parts.append(_row(_DOT + 'r="3.5" fill="#fff" stroke="#333" stroke-width="1.5"/></svg>',
                          _("town (more as you zoom in)")))
    if "faults" in data:
        parts.append(_row(_line("#8c2d04", 1.6), _("active fault (layer control)")))
    if "quakes" in data:
        parts.append(_row(_DOT + 'r="6" fill="#fc4e2a" fill-opacity="0.45" stroke="#7f0000"/></svg>',
                          _("earthquake, size by magnitude (layer control)")))
    if "borders" in data:
        parts.append(_row(_line("#4a4a4a", 1.6), _("international border")))
        parts.append(_row(_line("#4a4a4a", 1.6, "6 4"), _("disputed border")))
    if info.get("n") and "rivers" in data and "reach_id" in data.get("sites", {}).get("cols", {}):
        parts.append(_row(_line("#ef6548", 4), _("downstream path of transboundary sites")))
        parts.append(_row(_line("#d7301f", 6), _("downstream path of the clicked site")))
        parts.append(_row(_DOT + 'r="6" fill="#ffeb3b" stroke="#000" stroke-width="2"/></svg>',
                          _("first border crossing")))
    kosovo_label = country_name("XKX") or "Kosovo*"
    kosovo = any(kosovo_label in str(lb[2]) for lb in data.get("labels", [])) or \
        bool(data.get("sites", {}).get("kosovo"))
    caveat = _("Screening map: locations and scores are indicative; see each site's source. Boundaries and "
               "names do not imply endorsement or acceptance.")
    parts.append(f'<div class="rm-caveat">{_html.escape(caveat, quote=False)}'
                 + (f" {_html.escape(kosovo_note())}" if kosovo else "") + "</div></details>")
    return "".join(parts)
