"""Interactive basin risk maps (Leaflet via folium), offline and self-contained.

:func:`basin_map` draws one basin (outline, sub-basins, rivers with border
stretches, lakes and reservoirs, riparian countries and borders, checkpoint
towns) and a site inventory (markers shaped by category and coloured by hazard
priority or exposure class, clustered when numerous) with the downstream path
of every transboundary site and its first border crossing, a legend, a layer
control, a scale bar, a fullscreen button and a site-name search box.

:func:`save_map` writes ONE HTML file that needs no network: Leaflet, the
plugins and riskmap's own map code are inlined from ``riskmap/assets`` (see
``riskmap/assets/README.md`` for their origin and licences) and there is no
tile layer unless ``online_tiles=True`` (then OpenStreetMap is offered as an
optional extra layer, off by default). The basemap is drawn from riskmap's own
countries, rivers and lakes.

Every piece of user-supplied text (site names, sources, notes ...) is embedded
as JSON data with ``<``, ``>`` and ``&`` escaped and rendered by the map code
through an HTML-escaping function or ``textContent``; links are only made from
``http(s)://`` URLs. No user text is ever part of a (Jinja) template's source:
riskmap's layer element adds its code and data as raw text (see
``docs/security.md``).

The site columns of :mod:`riskmap.exposure` and :mod:`riskmap.hazard` are used
when present (colour by ``priority_score`` or ``exposure_class``; downstream
paths from ``reach_id``; popups list ``downstream_countries``,
``first_border_river_km``, ``travel_time_h``, ``score_terms`` ...) and simply
left out when absent.
"""

from __future__ import annotations

import html as _html
import warnings
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
from branca.element import Element, Figure, MacroElement

from riskmap._about import version_text as _version_string
from riskmap._errors import RiskmapError, RiskmapInputError
from riskmap.io import atomic_write_text
from riskmap.map_assets import (  # noqa: F401 - re-exported
    VENDORED_ASSETS,
    ASSETS_DIR,
    external_references,
    inline_assets,
    is_vendored,
)
from riskmap.map_assets import asset_text as _asset_text
from riskmap.i18n import _, check_lang, current_lang, use_lang
from riskmap.map_text import KOSOVO_NOTE, basin_display_name, country_name, js_catalogue, kosovo_note  # noqa: F401
from riskmap.map_assets import js_json as _js_json
from riskmap.map_basemap import _basemap_data, _bounds, _context_data, _downstream_table
from riskmap.map_climate import climate_layers
from riskmap.map_legend import _legend_html
from riskmap.map_page import map_html
from riskmap.map_sites import POPUP_FIELDS, _site_data  # noqa: F401 - POPUP_FIELDS re-exported
from riskmap.map_style import (  # noqa: F401 - constants re-exported from riskmap.maps
    _SHAPE_NAMES,
    _STYLE,
    APPROXIMATE_PRECISIONS,
    CATEGORY_SHAPES,
    SHAPE_PATHS,
)

__all__ = [
    "RiskMap",
    "basin_map",
    "save_map",
    "map_info",
    "map_html",
    "external_references",
    "CATEGORY_SHAPES",
    "CLUSTER_THRESHOLD",
]

#: Sites are clustered (Leaflet.markercluster) above this many sites when ``cluster=None``.
CLUSTER_THRESHOLD = 200

_OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


# --------------------------------------------------------------------------
# The map object
# --------------------------------------------------------------------------


class RiskMap(folium.Map):
    """A :class:`folium.Map` that displays self-contained (offline) in Jupyter.

    Build it with :func:`basin_map`; write it with :func:`save_map`. Extra
    folium elements may be added as usual, but only the JavaScript/CSS riskmap
    vendors can be inlined (:func:`map_html` raises otherwise).
    """

    def _repr_html_(self, **kwargs: Any) -> str:
        try:
            doc = _html.escape(map_html(self))
        except RiskmapError as e:  # an added folium element needs a CDN file: show folium's own (online) view
            warnings.warn(f"{e}; showing the map with CDN assets (needs the internet)", stacklevel=2)
            return super()._repr_html_(**kwargs)
        return (
            '<div style="width:100%;"><div style="position:relative;width:100%;height:0;padding-bottom:60%;">'
            f'<iframe srcdoc="{doc}" style="position:absolute;width:100%;height:100%;left:0;top:0;'
            'border:none !important;" allowfullscreen webkitallowfullscreen mozallowfullscreen></iframe>'
            "</div></div>"
        )


class _RawText(Element):
    """Text placed in the page verbatim: it is never parsed as a template.

    branca's :meth:`MacroElement.render` wraps the *rendered* output of an
    element's ``header``/``script`` macros in ``Element(text)``, whose
    ``Template(text)`` parses that output as Jinja source a second time: any
    ``{{ ... }}`` or ``{% ... %}`` inside the data would then be executed.
    riskmap's own element adds its code and data through this class instead.
    """

    def __init__(self, text: str):
        super().__init__()
        self._name = "RawText"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


class _RiskmapLayers(MacroElement):
    """Injects riskmap's runtime (CSS + JS) and the map data, then builds the layers.

    No template is involved: :meth:`render` assembles the ``<style>``, the
    runtime ``<script>`` and the ``riskmap.build(...)`` call in Python and
    adds them as :class:`_RawText`, so user text (site names, notes, basin
    names ...) is only ever data: JSON with ``<``, ``>`` and ``&`` escaped
    (:func:`_js_json`), never Jinja or JavaScript source.
    """

    def __init__(self, data: Mapping[str, Any], groups: Mapping[str, Any]):
        super().__init__()
        self._name = "RiskmapLayers"
        self.data_json = _js_json(data)
        self.groups = dict(groups)
        self.runtime_js = _asset_text("riskmap/riskmap.js").replace("</script", "<\\/script")
        self.runtime_css = _asset_text("riskmap/riskmap.css").replace("</style", "<\\/style")

    def _script(self) -> str:
        groups = "".join(f"\n  {key}: {group.get_name() if group is not None else 'null'},"
                         for key, group in self.groups.items())
        parent = self._parent.get_name() if self._parent is not None else "null"
        return (f"var {self.get_name()} = riskmap.build({parent}, {self.data_json}, "
                f"{{{groups}\n}});\n")

    # branca's MacroElement.render (unannotated) returns None as well; only Element.render declares str
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the runtime to the page header and the build call to the page script."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise RiskmapError("the riskmap layers can only be rendered inside a map (folium.Map)")
        runtime = f"<style>{self.runtime_css}</style>\n<script>{self.runtime_js}</script>\n"
        figure.header.add_child(_RawText(runtime), name=self.get_name())
        figure.script.add_child(_RawText(self._script()), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


def _country_names(data: Mapping[str, Any]) -> dict[str, str]:
    """Display names of the country codes the map's rivers and sites use (``"XKX"`` -> ``"Kosovo*"``)."""
    codes: set[str] = set(data.get("riparian", []))
    for f in data.get("rivers", {}).get("features", []):
        codes.update(str(f["properties"].get("c") or "").split("|"))
    for f in data.get("countries", {}).get("features", []):
        codes.add(str(f["properties"].get("iso") or ""))
    return {c: country_name(c) or c for c in sorted(codes) if c}


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def _feature_group(m: folium.Map, name: str, show: bool = True) -> folium.FeatureGroup:
    """A layer-control group added to ``m``."""
    fg = folium.FeatureGroup(name=name, show=show)
    fg.add_to(m)
    return fg


def _add_site_groups(m: folium.Map, groups: dict[str, Any], data: Mapping[str, Any], n_sites: int,
                     cluster: bool | None) -> bool:
    """Add the groups of the sites, pipelines and downstream paths to ``m`` and ``groups``.

    Parameters
    ----------
    m : folium.Map
        The map.
    groups : dict
        Group of each layer key, filled in place (``paths``, ``selected``, ``lines``, ``sites``).
    data : mapping
        The map data (``sites``, ``rivers``, ``lines`` keys).
    n_sites : int
        Number of sites on the map; none: no group is added.
    cluster : bool or None
        Cluster the markers; None: when there are more than :data:`CLUSTER_THRESHOLD` sites.

    Returns
    -------
    bool
        Whether the site markers are clustered.
    """
    if not n_sites:
        return False
    if "rivers" in data and "reach_id" in data["sites"]["cols"]:
        groups["paths"] = _feature_group(m, _("Downstream paths of transboundary sites"))
        groups["selected"] = _feature_group(m, _("Downstream path of the selected site"))
    if "lines" in data:
        groups["lines"] = _feature_group(m, _("Pipelines (lines)"))
    do_cluster = n_sites > CLUSTER_THRESHOLD if cluster is None else bool(cluster)
    label = _("Sites ({n})").format(n=n_sites)
    if do_cluster:
        groups["sites"] = folium.plugins.MarkerCluster(
            name=label, options={"maxClusterRadius": 45, "spiderfyOnMaxZoom": True,
                                 "showCoverageOnHover": False, "disableClusteringAtZoom": 13}).add_to(m)
    else:
        groups["sites"] = _feature_group(m, label)
    return do_cluster


def basin_map(
    basin: Any,
    sites: gpd.GeoDataFrame | None = None,
    *,
    online_tiles: bool = False,
    cluster: bool | None = None,
    color_by: str = "auto",
    only_basin_sites: bool = True,
    title: str | None = None,
    simplify_deg: float = 0.002,
    context: bool = True,
    measure: bool = True,
    lang: str | None = None,
) -> RiskMap:
    """Build an interactive risk map of one basin and its sites.

    Parameters
    ----------
    basin : Basin or str
        A :class:`riskmap.hydrography.Basin` (or any object with the same
        GeoDataFrame attributes ``outline``, ``sub_basins``, ``reaches``,
        ``lakes``, ``countries``, ``borders``, ``towns``; missing ones are
        skipped) or a basin id such as ``"drina"`` (loaded with
        :func:`riskmap.hydrography.load_basin`).
    sites : GeoDataFrame, optional
        Sites in the riskmap schema, optionally with the columns added by
        :func:`riskmap.exposure.assess` and :func:`riskmap.hazard.score`.
        Point sites become markers; line sites (pipelines) are drawn as lines
        with a marker at a representative point.
    online_tiles : bool, default False
        Offer an OpenStreetMap tile layer (needs the internet; off by default
        even then). Without it the map has no external reference at all.
    cluster : bool, optional
        Cluster the site markers; default: when there are more than
        :data:`CLUSTER_THRESHOLD` sites.
    color_by : {"auto", "priority", "exposure", "none"}
        Marker colour: hazard priority band (from ``priority_score``, by
        share of the scored sites on the map), ``exposure_class``, or one
        colour. ``"auto"``: priority when at least half of the sites have a
        ``priority_score``, else exposure class when present, else priority
        when any score exists, else one colour.
    only_basin_sites : bool, default True
        When ``sites`` has a ``basin`` column, keep only the rows of this basin.
    title : str, optional
        Legend title (default: the basin's display name).
    simplify_deg : float, default 0.002
        Tolerance (degrees, display only) used to simplify the basemap
        polygons and lines; ``0`` keeps every vertex.
    context : bool, default True
        Draw the bundled context around the basin: whole neighbouring
        countries (as far as ``data/basins/countries.gpkg`` reaches) and the sea,
        lakes and reservoirs (``data/context``, incl. the Aral Sea) and the
        basin's dams, towns (``data/sites/places.csv``, labelled by size as you
        zoom in), active faults and earthquakes (``data/natech``).
    measure : bool, default True
        Add folium's :class:`folium.plugins.MeasureControl` (distances and
        areas; inlined, works offline).
    lang : {"en", "ru"}, optional
        Language of every label, popup, legend, filter and layer name, of the
        numbers and of country and town names (default: the current language,
        :func:`riskmap.i18n.use_lang`). Data (site names, notes, sources'
        records) are shown as they are.

    Returns
    -------
    RiskMap
        A :class:`folium.Map` subclass; shows inline in Jupyter, write it
        with :func:`save_map`.

    Raises
    ------
    RiskmapInputError
        If ``color_by`` or ``lang`` is unknown or ``sites`` is not a GeoDataFrame.

    Examples
    --------
    >>> from riskmap.hydrography import load_basin   # doctest: +SKIP
    >>> m = basin_map(load_basin("drina"), sites)    # doctest: +SKIP
    >>> save_map(m, "drina.html")                    # doctest: +SKIP
    PosixPath('drina.html')
    >>> ru = basin_map("drina", sites, lang="ru")     # doctest: +SKIP
    """
    opts = MapOptions(online_tiles=online_tiles, cluster=cluster, color_by=color_by,
                      only_basin_sites=only_basin_sites, title=title, simplify_deg=simplify_deg,
                      context=context, measure=measure)
    with use_lang(lang):
        return _basin_map(basin, sites, opts)


@dataclass(frozen=True)
class MapOptions:
    """The keyword options of :func:`basin_map` (see there), bundled for its steps."""

    online_tiles: bool = False
    cluster: bool | None = None
    color_by: str = "auto"
    only_basin_sites: bool = True
    title: str | None = None
    simplify_deg: float = 0.002
    context: bool = True
    measure: bool = True


def _basin_map(basin: Any, sites: gpd.GeoDataFrame | None, opts: MapOptions) -> RiskMap:
    """:func:`basin_map` in the current language."""
    if isinstance(basin, str):
        from riskmap.hydrography import load_basin

        basin = load_basin(basin)
    if opts.color_by not in ("auto", "priority", "exposure", "none"):
        raise RiskmapInputError(f"color_by must be auto, priority, exposure or none, not {opts.color_by!r}")
    if sites is not None and not isinstance(sites, gpd.GeoDataFrame):
        raise RiskmapInputError("sites must be a GeoDataFrame (see riskmap.read_sites)")

    basin_id = getattr(basin, "id", None)
    display = getattr(basin, "name", None) or (str(basin_id) if basin_id else "Basin")
    title = opts.title or _("{basin} basin").format(basin=basin_display_name(display))
    if sites is not None and opts.only_basin_sites and basin_id is not None and "basin" in sites.columns:
        sites = sites[sites["basin"].astype("string").eq(str(basin_id)).fillna(False).to_numpy(bool)]
    data, site_info = _map_data(basin, sites, opts)
    data["legend"] = _legend_html(title, data, site_info)
    if current_lang() != "en":  # the map's JavaScript translates with t(); English needs no catalogue
        data["lang"] = current_lang()
        data["i18n"], data["i18nPlural"] = js_catalogue()

    m = _new_map(data, opts.online_tiles, title)
    groups = _layer_groups(m, data)
    n_sites = site_info["n"]
    do_cluster = _add_site_groups(m, groups, data, n_sites, opts.cluster)
    _RiskmapLayers(data, groups).add_to(m)
    for name, fc in climate_layers(sites):  # one layer per climate scenario (issue 19)
        folium.GeoJson(fc, name=name, show=False, marker=folium.CircleMarker(radius=5),
                       style_function=lambda f: f["properties"]["style"],
                       tooltip=folium.GeoJsonTooltip(["label"], labels=False)).add_to(m)
    _add_controls(m, opts.measure)
    m._riskmap_data = data  # type: ignore[attr-defined]
    m._riskmap_info = {  # type: ignore[attr-defined]
        **site_info, "sites": n_sites, "clustered": bool(n_sites and do_cluster),
        "reaches": len(data.get("rivers", {}).get("features", []))}
    return m


def _map_data(basin: Any, sites: gpd.GeoDataFrame | None,
              opts: MapOptions) -> tuple[dict[str, Any], dict[str, Any]]:
    """The map data (basemap, sites, downstream paths, context) and the site counts, without the legend.

    Parameters
    ----------
    basin : Basin
        The basin.
    sites : GeoDataFrame or None
        The sites of this basin.
    opts : MapOptions
        ``color_by``, ``simplify_deg`` and ``context`` are used.

    Returns
    -------
    tuple of dict
        ``(data, site_info)``; ``site_info["n"]`` is the number of site markers.
    """
    data: dict[str, Any] = {"style": _STYLE, "approx": list(APPROXIMATE_PRECISIONS), "shapes": SHAPE_PATHS,
                            "shapeNames": list(_SHAPE_NAMES),
                            "attribution": _("Basin layers: riskmap reference hydrography (see "
                                             "data/basins/PROVENANCE.md)") + f" · {_version_string()}"}
    data.update(_basemap_data(basin, opts.simplify_deg))
    site_info: dict[str, Any] = {"n": 0}
    if sites is not None:
        enc, lines, site_info = _site_data(sites, opts.color_by)
        if enc is not None:
            data["sites"] = enc
        if lines is not None:
            data["lines"] = lines
        downstream = _downstream_table(basin, sites)
        if downstream is not None:
            data["downstream"] = downstream
    data["bounds"] = _bounds(basin, data)
    if opts.context:
        data.update(_context_data(basin, data["bounds"], set(data.get("riparian", [])), opts.simplify_deg))
    data["countryNames"] = _country_names(data)
    data["kosovoNote"] = kosovo_note()
    return data, site_info


def _new_map(data: Mapping[str, Any], online_tiles: bool, title: str) -> RiskMap:
    """An empty :class:`RiskMap` centred on ``data["bounds"]``, with only Leaflet's own assets."""
    b = data["bounds"]
    centre = [(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2] if b else None
    m = RiskMap(location=centre, tiles=None, control_scale=True, zoom_start=7, maxZoom=18, minZoom=3)
    # per-map asset lists (never the class-wide folium defaults): only Leaflet itself is needed
    m.default_js = [js for js in folium.Map.default_js if js[0] == "leaflet"]
    m.default_css = [css for css in folium.Map.default_css if css[0] == "leaflet_css"]
    m._riskmap_online_tiles = bool(online_tiles)  # type: ignore[attr-defined]
    m._riskmap_lang = current_lang()  # type: ignore[attr-defined]
    m._riskmap_title = title  # type: ignore[attr-defined]
    if online_tiles:
        folium.TileLayer(_OSM_TILES, attr=_OSM_ATTR, name=_("OpenStreetMap (online)"), overlay=True,
                         show=False, max_zoom=19).add_to(m)
    return m


def _layer_groups(m: folium.Map, data: Mapping[str, Any]) -> dict[str, Any]:
    """The feature group of each basemap layer in ``data`` (None: absent); the site groups are None."""

    def group(name: str, show: bool = True) -> folium.FeatureGroup:
        return _feature_group(m, name, show)

    has_lakes = any(k in data for k in ("lakes", "ctx_lakes", "dams"))
    return {
        "countries": group(_("Countries (riparian darker) and sea")) if "countries" in data else None,
        "borders": group(_("International borders")) if "borders" in data else None,
        "sub_basins": group(_("Sub-basins")) if "sub_basins" in data else None,
        "outline": group(_("Basin outline")) if "outline" in data else None,
        "lakes": group(_("Lakes and reservoirs")) if has_lakes else None,
        "rivers": group(_("Rivers (border stretches highlighted)")) if "rivers" in data else None,
        "places": group(_("Towns (labels by size as you zoom in)")) if "places" in data else None,
        "towns": group(_("Checkpoint towns"), show=False) if "towns" in data else None,
        "faults": group(_("Active faults (GEM)"), show=False) if "faults" in data else None,
        "quakes": group(_("Earthquakes since 1900 (ISC-GEM)"), show=False) if "quakes" in data else None,
        "paths": None,
        "selected": None,
        "lines": None,
        "sites": None,
    }


def _add_controls(m: folium.Map, measure: bool) -> None:
    """Add the full-screen button, the optional measure tool and the layer control to ``m``."""
    folium.plugins.Fullscreen(position="topleft", title=_("Full Screen"),
                              title_cancel=_("Exit Full Screen")).add_to(m)
    if measure:
        # leaflet-measure has its own Russian texts (option "localization"), and metres instead of miles;
        # English keeps folium's default
        english = current_lang() == "en"
        loc = {} if english else {"localization": current_lang()}
        folium.plugins.MeasureControl(position="topleft", primary_length_unit="kilometers",
                                      secondary_length_unit="miles" if english else "meters",
                                      primary_area_unit="sqkilometers", secondary_area_unit="hectares",
                                      **loc).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)


def map_info(m: folium.Map) -> dict[str, Any]:
    """What :func:`basin_map` put on the map: counts for a summary line.

    Keys: ``sites`` (markers), ``reaches`` (river lines), ``clustered``,
    ``approximate`` (sites with approximate locations), ``dropped_no_geometry``
    (sites without coordinates, not on the map).

    Examples
    --------
    >>> m = basin_map(riskmap.hydrography.load_basin("drina"))  # doctest: +SKIP
    >>> map_info(m)["sites"]  # doctest: +SKIP
    0
    """
    info = getattr(m, "_riskmap_info", None)
    if info is None:
        raise TypeError("map_info needs a map made by riskmap.maps.basin_map")
    return dict(info)


def save_map(m: folium.Map, path: str | Path, *, lang: str | None = None) -> Path:
    """Write a map as one self-contained HTML file, atomically.

    The map's texts are in the language :func:`basin_map` built it in; the page
    says so (``<html lang="ru">`` and the map's title as the page title in a
    language other than English).

    Parameters
    ----------
    m : folium.Map
        A map from :func:`basin_map`.
    path : str or Path
        Target ``.html`` file (its folder must exist).
    lang : {"en", "ru"}, optional
        Only checked: a language given here must be the one the map was built
        in (texts are made when the map is built, not when it is written).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    RiskmapInputError
        ``lang`` is unknown or not the map's language.

    Examples
    --------
    >>> save_map(basin_map("drin"), "out/drin.html")   # doctest: +SKIP
    PosixPath('out/drin.html')
    >>> save_map(basin_map("drin", lang="ru"), "out/drin_ru.html", lang="ru")   # doctest: +SKIP
    PosixPath('out/drin_ru.html')
    """
    built = getattr(m, "_riskmap_lang", "en")
    if lang is not None and check_lang(lang) != built:
        raise RiskmapInputError(f"this map was built in {built!r}, not {check_lang(lang)!r}: build it with "
                                f"riskmap.maps.basin_map(..., lang={check_lang(lang)!r}) to write it in that language")
    return atomic_write_text(path, map_html(m))
