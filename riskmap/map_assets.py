"""Offline maps: the vendored JavaScript/CSS inlined into one HTML page, and the check that nothing external is left.

The files come from ``riskmap/assets`` (origin and licences in
``riskmap/assets/README.md``); CSS images become ``data:`` URIs. Data for the
page is embedded with :func:`js_json` (no ``</script>`` can close the element).
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from riskmap._errors import RiskmapError

__all__ = ["ASSETS_DIR", "VENDORED_ASSETS", "asset_text", "external_references", "inline_assets", "is_vendored", "js_json"]

#: Folder of the vendored JavaScript/CSS (see ``assets/README.md``).
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

#: Known CDN file -> (vendored asset, package the URL must name): the files riskmap inlines.
VENDORED_ASSETS: dict[str, tuple[str, str]] = {
    "leaflet.js": ("leaflet/leaflet.js", "leaflet"),
    "leaflet.css": ("leaflet/leaflet.css", "leaflet"),
    "leaflet.markercluster.js": ("leaflet.markercluster/leaflet.markercluster.js", "markercluster"),
    "MarkerCluster.css": ("leaflet.markercluster/MarkerCluster.css", "markercluster"),
    "MarkerCluster.Default.css": ("leaflet.markercluster/MarkerCluster.Default.css", "markercluster"),
    "Control.FullScreen.min.js": ("leaflet.fullscreen/Control.FullScreen.js", "fullscreen"),
    "Control.FullScreen.js": ("leaflet.fullscreen/Control.FullScreen.js", "fullscreen"),
    "Control.FullScreen.css": ("leaflet.fullscreen/Control.FullScreen.css", "fullscreen"),
    "leaflet-measure.min.js": ("leaflet-measure/leaflet-measure.min.js", "leaflet-measure"),
    "leaflet-measure.js": ("leaflet-measure/leaflet-measure.min.js", "leaflet-measure"),
    "leaflet-measure.min.css": ("leaflet-measure/leaflet-measure.css", "leaflet-measure"),
    "leaflet-measure.css": ("leaflet-measure/leaflet-measure.css", "leaflet-measure"),
}


def is_vendored(url: str) -> bool:
    """Whether riskmap can inline ``url`` (a CDN file of a vendored package).

    Examples
    --------
    >>> is_vendored("https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js")
    True
    >>> is_vendored("https://cdn.jsdelivr.net/npm/leaflet-draw@1.0.4/dist/leaflet.draw.js")
    False
    """
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    hit = VENDORED_ASSETS.get(name)
    return hit is not None and hit[1] in url


def inline_assets(html_text: str, *, allow_tiles: bool = False) -> str:
    """Replace CDN ``<script src>``/stylesheet links by the vendored files, inline; refuse what is left external.

    Raises
    ------
    RiskmapError
        A script or stylesheet riskmap does not vendor, or (unless
        ``allow_tiles``) any other external resource.
    """

    def script(match: re.Match) -> str:
        return "<script>" + _inline_js(_vendored(match.group(1))) + "</script>"

    def style(match: re.Match) -> str:
        return "<style>" + _inline_css(_vendored(match.group(1))) + "</style>"

    out = re.sub(r'<script\s+src="(https?://[^"]+)"\s*>\s*</script>', script, html_text)
    out = re.sub(r'<link\s+rel="stylesheet"\s+href="(https?://[^"]+)"\s*/?>', style, out)
    refs = external_references(out, allow_tiles=allow_tiles)
    if refs:
        raise RiskmapError("the map still references external resources that riskmap cannot inline: "
                           + ", ".join(refs[:5]))
    return out


def external_references(html_text: str, *, allow_tiles: bool = False) -> list[str]:
    """External (http/https/protocol-relative) resources an HTML map would load.

    Looks at ``<script src>``, ``<link href>``, ``<img src>``, ``<iframe src>``,
    CSS ``url(...)`` and ``@import``, and tile URL templates (``{z}/{x}/{y}``).
    Plain hyperlinks (``<a href>``, popups' source links) are not resources
    and are ignored.

    Parameters
    ----------
    html_text : str
        The HTML document.
    allow_tiles : bool, default False
        Ignore tile URL templates (maps saved with ``online_tiles=True``).

    Returns
    -------
    list of str
        The offending URLs, in document order (empty when self-contained).

    Examples
    --------
    >>> external_references('<script src="https://x.org/a.js"></script><a href="https://x.org">x</a>')
    ['https://x.org/a.js']
    """
    ext = r"(?:https?:)?//[^\s\"'<>)]+"
    patterns = [
        rf"<script[^>]*\ssrc\s*=\s*[\"']?({ext})",
        rf"<link[^>]*\shref\s*=\s*[\"']?({ext})",
        rf"<img[^>]*\ssrc\s*=\s*[\"']?({ext})",
        rf"<iframe[^>]*\ssrc\s*=\s*[\"']?({ext})",
        rf"url\(\s*[\"']?({ext})",
        rf"@import\s+[\"']({ext})",
    ]
    found: list[tuple[int, str]] = []
    for p in patterns:
        found += [(mt.start(1), mt.group(1)) for mt in re.finditer(p, html_text, flags=re.I)]
    if not allow_tiles:
        found += [(mt.start(), mt.group(0)) for mt in
                  re.finditer(r"(?:https?:)?//[^\s\"'<>]*\{z\}[^\s\"'<>]*", html_text)]
    return [u for _, u in sorted(set(found))]




@cache
def asset_text(rel: str) -> str:
    """Text of a vendored file, ``rel`` to :data:`ASSETS_DIR`."""
    return (ASSETS_DIR / rel).read_text(encoding="utf-8")


def _vendored(url: str) -> str:
    if not is_vendored(url):
        raise RiskmapError(f"the map needs {url}, which riskmap does not vendor in riskmap/assets; "
                           "remove the element that adds it or use riskmap's own layers")
    return VENDORED_ASSETS[url.rsplit("/", 1)[-1].split("?", 1)[0]][0]


@cache
def _inline_js(rel: str) -> str:
    text = asset_text(rel)
    text = re.sub(r"//# sourceMappingURL=\S+\s*$", "", text)
    return text.replace("</script", "<\\/script")


@cache
def _inline_css(rel: str) -> str:
    folder = (ASSETS_DIR / rel).parent
    text = asset_text(rel)

    def data_uri(match: re.Match) -> str:
        ref = match.group(2)
        if ref.startswith(("data:", "#")):
            return match.group(0)
        file = folder / ref
        if not file.is_file():
            raise RiskmapError(f"vendored stylesheet {rel} refers to missing file {ref}")
        mime = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}[file.suffix.lower()]
        b64 = base64.b64encode(file.read_bytes()).decode("ascii")
        return f'url("data:{mime};base64,{b64}")'

    text = re.sub(r"url\((['\"]?)([^)'\"]+)\1\)", data_uri, text)
    return text.replace("</style", "<\\/style")


def js_json(obj: Any) -> str:
    """JSON safe to embed in a ``<script>`` element (no ``</script>``, ``<!--`` or line separators)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


_asset_text = asset_text  # older private names
_js_json = js_json
