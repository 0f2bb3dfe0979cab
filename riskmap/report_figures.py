"""Figures of the report (matplotlib, Agg backend) as ``data:`` URIs: the static basin map and the summary bars.

Labels are data: :func:`mpl_text` escapes ``$`` so that a name is never read
as mathtext. Titles, legends, axis labels, units and country and town names
follow the output language (:func:`riskmap.i18n.use_lang`); the font is
DejaVu Sans (bundled with matplotlib), which has the Cyrillic glyphs.
"""

from __future__ import annotations

import base64
import io as _io
import math
from typing import Any

import geopandas as gpd
import pandas as pd

from riskmap._console import console_text
from riskmap.i18n import N_, _, country_name, current_lang, town_name

__all__ = ["map_figure", "basin_part", "EXPOSURE_ORDER", "CLASS_COLOURS"]

CLASS_COLOURS = {
    "very high": "#7f0000", "high": "#d7301f", "medium": "#fc8d59", "moderate": "#fc8d59",
    "low": "#fdd49e", "outside": "#cccccc", "none": "#cccccc", "unknown": "#969696",
}
#: Exposure classes, most to least exposed (riskmap.exposure.EXPOSURE_CLASSES).
EXPOSURE_ORDER = ("very high", "high", "medium", "low", "outside")
FALLBACK_COLOURS = ["#1f78b4", "#33a02c", "#6a3d9a", "#b15928", "#a6cee3", "#b2df8a", "#cab2d6"]


def basin_part(basin: Any, name: str) -> Any:
    """A part of a basin (``Basin`` attribute or dict key), ``None`` when absent."""
    if basin is None:
        return None
    if isinstance(basin, dict):
        return basin.get(name)
    return getattr(basin, name, None)


def png_uri(fig, dpi: int = 100) -> str:
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def class_colours(classes: list[str]) -> dict[str, str]:
    out, k = {}, 0
    for c in classes:
        if c in CLASS_COLOURS:
            out[c] = CLASS_COLOURS[c]
        else:
            out[c] = FALLBACK_COLOURS[k % len(FALLBACK_COLOURS)]
            k += 1
    return out


def mpl_text(text: Any) -> str:
    """Text for a matplotlib label shown literally.

    ``$`` would start mathtext (and can crash the plot); control characters
    (ESC, BEL, tab, bidi controls, ...) have no glyph and are shown as the
    console shows them (``\\x1b``), so no "Glyph missing" warning is raised.
    Line feeds are kept.

    Examples
    --------
    >>> mpl_text("Tre\\x1b[2Jp $5")
    'Tre\\\\x1b[2Jp \\\\$5'
    """
    return console_text(text, multiline=True).replace("$", r"\$")


def class_column(sites: pd.DataFrame) -> str | None:
    for c in ("exposure_class", "score_status", "category"):
        if c in sites.columns:
            return c
    return None


def _scale_bar(ax, lat: float) -> None:
    """A scale bar (km, geodesic at the map's middle latitude) in the lower left corner."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    km_per_deg = 111.32 * max(math.cos(math.radians(lat)), 0.05)
    width_km = (x1 - x0) * km_per_deg
    nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]
    length = max([n for n in nice if n <= width_km / 5] or [1])
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    dx = length / km_per_deg
    ax.plot([bx, bx + dx], [by, by], color="black", linewidth=3, solid_capstyle="butt", zorder=9)
    ax.plot([bx, bx + dx / 2], [by, by], color="white", linewidth=1.4, solid_capstyle="butt", zorder=10)
    ax.text(bx + dx / 2, by + 0.012 * (y1 - y0), _("{n} km").format(n=f"{length:g}"), ha="center", va="bottom", fontsize=7,
            zorder=10, bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.5))
    ax.annotate(_("N"), xy=(x1 - 0.04 * (x1 - x0), y1 - 0.05 * (y1 - y0)),
                xytext=(x1 - 0.04 * (x1 - x0), y1 - 0.13 * (y1 - y0)), ha="center", va="center", fontsize=8,
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1.0), zorder=10)


def _context_labels(ax, basin: Any, frame_bounds) -> None:
    """Country names (at a point inside the part in view) and the largest towns."""
    import shapely

    x0, y0, x1, y1 = frame_bounds
    view = shapely.box(x0, y0, x1, y1)
    countries = basin_part(basin, "countries")
    if countries is not None and len(countries) and "name" in countries.columns:
        c = countries.to_crs("EPSG:4326")
        parts = shapely.intersection(c.geometry.to_numpy(), view)
        areas = shapely.area(parts)
        big = areas > 0.04 * view.area
        pts = shapely.point_on_surface(parts[big])
        codes = c["iso3"].astype(str).to_numpy()[big] if "iso3" in c.columns else [None] * int(big.sum())
        for pt, name, code in zip(pts, c["name"].astype(str).to_numpy()[big], codes):
            label = _country_name(name, code)
            ax.text(pt.x, pt.y, mpl_text(label.upper()), fontsize=7, color="#6b6358", ha="center", va="center",
                    alpha=0.9, zorder=3)
    towns = basin_part(basin, "towns")
    if towns is not None and len(towns) and "name" in towns.columns:
        t = towns.to_crs("EPSG:4326")
        t = t[t.geometry.within(view)]
        if "population" in t.columns:
            t = t.assign(_p=pd.to_numeric(t["population"], errors="coerce")).sort_values(
                "_p", ascending=False, na_position="last")
        t = t.head(8)
        ax.scatter(t.geometry.x, t.geometry.y, s=8, color="#333333", marker="s", zorder=6)
        iso = t["country"] if "country" in t.columns else t["iso3"] if "iso3" in t.columns else [None] * len(t)
        for x, y, name, code in zip(t.geometry.x, t.geometry.y, t["name"].astype(str), iso):
            ax.text(x, y, " " + mpl_text(town_name(name, code)), fontsize=6.5, color="#333333", ha="left", va="center", zorder=6)


def _country_name(name: str, code: Any) -> str:
    """A country's name on the map: Kosovo with its asterisk, others in the output language when it is not English."""
    if code == "XKX":
        return f"{country_name('XKX') or 'Kosovo'}*"
    if current_lang() == "en" or code is None:
        return name
    return country_name(code) or name


def _class_label(col: str, cls: str) -> str:
    """A legend entry: an exposure class, basis or category in the output language."""
    from riskmap.report_labels import category_name, exposure_name, score_status_name

    if col == "exposure_class":
        return exposure_name(cls)
    if col == "score_status":
        return score_status_name(cls) if cls != "unknown" else _("unknown")
    if col == "category":
        return category_name(cls) if cls != "unknown" else _("unknown")
    return cls.replace("_", " ")


#: Legend titles of the class columns.
_LEGEND_TITLES = {"exposure_class": N_("exposure class"), "score_status": N_("score status"), "category": N_("category")}


def map_figure(sites: gpd.GeoDataFrame, basin: Any, title: str, numbers: Any = None,
               max_numbers: int = 40) -> str:
    """The static basin map: rivers, lakes, borders, countries and towns named, sites by exposure class.

    Parameters
    ----------
    numbers : pandas.Series, optional
        Rank number of each site (aligned with ``sites``): the first ``max_numbers``
        are printed next to their symbol, matching the report's tables.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 6.5), layout="constrained")
    _plot_basemap(ax, basin)
    col = class_column(sites)
    s = sites.to_crs("EPSG:4326") if len(sites) and sites.crs is not None else sites
    if len(sites) and col:
        # NB: the figure's title is the legend title here (behaviour kept from before the split; see report)
        title = _plot_classes(ax, s, col)
    outline = basin_part(basin, "outline")
    frame = outline if outline is not None and len(outline) else (sites if len(sites) else None)
    if frame is not None:
        _frame(fig, ax, basin, frame)
    if numbers is not None and len(sites):
        _number_labels(ax, s, numbers, max_numbers)
    ax.set_title(mpl_text(title), fontsize=11)
    ax.set_xlabel(_("longitude (°E, WGS84)"), fontsize=8)
    ax.set_ylabel(_("latitude (°N)"), fontsize=8)
    ax.tick_params(labelsize=7)
    return png_uri(fig, dpi=150)


def _plot_basemap(ax: Any, basin: Any) -> None:
    """Draw the countries, the basin outline, lakes, rivers (width by order) and borders."""
    for name, kw in (("countries", dict(facecolor="#f4f1ea", edgecolor="#b0a99f", linewidth=0.6)),
                     ("outline", dict(facecolor="#e3eef7", edgecolor="#1b4f72", linewidth=1.4, alpha=0.8)),
                     ("lakes", dict(facecolor="#8fc1e3", edgecolor="#3b7fb6", linewidth=0.5))):
        g = basin_part(basin, name)
        if g is not None and len(g):
            g.to_crs("EPSG:4326").plot(ax=ax, **kw)
    reaches = basin_part(basin, "reaches")
    if reaches is not None and len(reaches):
        r = reaches.to_crs("EPSG:4326")
        lw = 0.4 + 0.35 * pd.to_numeric(r.get("order", pd.Series(1, index=r.index)), errors="coerce").fillna(1)
        r.plot(ax=ax, color="#2c7fb8", linewidth=lw.clip(upper=3.0).to_numpy())
    borders = basin_part(basin, "borders")
    if borders is not None and len(borders):
        borders.to_crs("EPSG:4326").plot(ax=ax, color="#444444", linewidth=0.9, linestyle="--")


def _plot_classes(ax: Any, s: gpd.GeoDataFrame, col: str) -> str:
    """Draw the sites ``s`` (EPSG:4326) coloured by class column ``col`` with a legend; the legend title."""
    classes = s[col].astype(object).where(s[col].notna(), "unknown").map(str)
    present = [c for c in EXPOSURE_ORDER if c in set(classes)]
    present += sorted(c for c in classes.unique() if c not in present)
    colours = class_colours(present)
    for cls in present:
        sub = s[(classes == cls).to_numpy()]
        pts = sub[sub.geom_type == "Point"]
        lines = sub[sub.geom_type != "Point"]
        n = len(sub)
        label = mpl_text(f"{_class_label(col, cls)} ({n})") if current_lang() != "en" \
            else mpl_text(f"{cls.replace('_', ' ')} ({n})")
        if len(pts):
            pts.plot(ax=ax, color=colours[cls], markersize=22, edgecolor="black", linewidth=0.4,
                     label=label, zorder=5)
        if len(lines):
            lines.plot(ax=ax, color=colours[cls], linewidth=1.6, zorder=4, label=None if len(pts) else label)
    title = _(_LEGEND_TITLES[col]) if col in _LEGEND_TITLES else col.replace("_", " ")
    ax.legend(title=title, loc="upper left", fontsize=7, title_fontsize=7, framealpha=0.9)
    return title


def _frame(fig: Any, ax: Any, basin: Any, frame: gpd.GeoDataFrame) -> None:
    """Zoom to ``frame`` plus a margin, size the figure to its shape, and add place names and a scale bar."""
    x0, y0, x1, y1 = frame.to_crs("EPSG:4326").total_bounds
    dx, dy = (x1 - x0) * 0.05 + 0.05, (y1 - y0) * 0.05 + 0.05
    x0, y0, x1, y1 = x0 - dx, y0 - dy, x1 + dx, y1 + dy
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1.0 / max(math.cos(math.radians((y0 + y1) / 2)), 0.2))
    ratio = (y1 - y0) / max((x1 - x0) * max(math.cos(math.radians((y0 + y1) / 2)), 0.2), 1e-9)
    fig.set_size_inches(8.0, min(max(7.0 * ratio + 0.8, 4.5), 8.6))  # tall basins get a tall figure
    _context_labels(ax, basin, (x0, y0, x1, y1))
    _scale_bar(ax, (y0 + y1) / 2)


def _number_labels(ax, sites: gpd.GeoDataFrame, numbers: Any, max_numbers: int) -> None:
    """Rank numbers beside the first ``max_numbers`` sites (a point on the line for pipelines)."""
    import shapely

    no = pd.to_numeric(pd.Series(list(numbers), index=sites.index), errors="coerce")
    keep = no.notna() & (no <= max_numbers) & ~sites.geometry.is_empty & sites.geometry.notna()
    sub, no = sites[keep.to_numpy()], no[keep]
    pts = shapely.point_on_surface(sub.geometry.to_numpy())
    for pt, k in zip(pts, no.astype(int)):
        ax.annotate(str(k), (pt.x, pt.y), xytext=(3, 3), textcoords="offset points", fontsize=6.5,
                    fontweight="bold", zorder=8,
                    bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="#555555", linewidth=0.3,
                              alpha=0.85))

