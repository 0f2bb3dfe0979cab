"""The basin map as one self-contained HTML page: rendering, assets inlined, page language.

:func:`map_html` renders a folium map and inlines the vendored scripts and
stylesheets (:mod:`riskmap.map_assets`), refusing any folium element whose
files riskmap does not vendor; a map not in English gets ``<html lang="..">``
and its title as the page title. :func:`riskmap.maps.save_map` writes it.
"""

from __future__ import annotations

import html as _html
from typing import Any

import folium

from riskmap._errors import RiskmapError
from riskmap.map_assets import inline_assets, is_vendored

__all__ = ["map_html"]


def map_html(m: folium.Map) -> str:
    """Render a map to ONE self-contained HTML document.

    Every ``<script src>`` / ``<link rel=stylesheet href>`` pointing at a
    known CDN file (Leaflet, Leaflet.markercluster, leaflet.fullscreen) is
    replaced by the vendored file from ``riskmap/assets``, with CSS images as
    ``data:`` URIs.

    Parameters
    ----------
    m : folium.Map
        Usually a :class:`riskmap.maps.RiskMap` from :func:`riskmap.maps.basin_map`.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    RiskmapError
        If the map references an external script or stylesheet riskmap does
        not vendor, or (without ``online_tiles``) any external resource.

    Examples
    --------
    >>> from riskmap.maps import basin_map, external_references   # doctest: +SKIP
    >>> html = map_html(basin_map("drina"))   # doctest: +SKIP
    >>> external_references(html)             # doctest: +SKIP
    []
    """
    _check_plugin_assets(m)
    page = inline_assets(m.get_root().render(), allow_tiles=bool(getattr(m, "_riskmap_online_tiles", False)))
    return _page_language(page, getattr(m, "_riskmap_lang", "en"), getattr(m, "_riskmap_title", None))


def _page_language(page: str, lang: str, title: str | None) -> str:
    """``<html lang="..">`` and the (escaped) map title as the page title, for a map not in English.

    English pages stay exactly as folium writes them.
    """
    if lang == "en" or not page.startswith("<!DOCTYPE html>\n<html>\n<head>\n"):
        return page
    head = f'<!DOCTYPE html>\n<html lang="{_html.escape(lang)}">\n<head>\n'
    if title:
        head += f"<title>{_html.escape(title)}</title>\n"
    return head + page[len("<!DOCTYPE html>\n<html>\n<head>\n"):]


def _elements(element: Any) -> Any:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _elements(child)


def _check_plugin_assets(m: folium.Map) -> None:
    """Refuse, naming the folium element, any script or stylesheet riskmap cannot inline.

    Raises
    ------
    RiskmapError
        ``"folium element Draw (draw_1a2b) needs https://..., which riskmap does not vendor ..."``.
    """
    for el in _elements(m):
        if el is m:
            continue
        for _name, url in list(getattr(el, "default_js", [])) + list(getattr(el, "default_css", [])):
            if str(url).startswith(("http://", "https://", "//")) and not is_vendored(str(url)):
                raise RiskmapError(
                    f"folium element {type(el).__name__} ({el.get_name()}) needs {url}, which riskmap does "
                    "not vendor in riskmap/assets, so the map cannot be saved as one offline file; remove "
                    "that element, or add the file to riskmap/assets and riskmap.map_assets.VENDORED_ASSETS")
