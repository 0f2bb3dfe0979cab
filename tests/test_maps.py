"""Tests for riskmap.maps: layers, offline inlining, escaping, clustering, degradation.

Synthetic basin and sites from ``tests/_fixtures_maps.py``; real-data tests
run when ``data/basins/<basin>.gpkg`` and the bundled sites exist. Browser
checks are in ``tests/test_browser_maps.py``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import folium
import folium.plugins
import pytest

from riskmap import maps
from riskmap._errors import RiskmapError, RiskmapInputError
from riskmap._paths import DATA_DIR

from _fixtures_maps import XSS_IMG, XSS_SCRIPT, many_sites, synthetic_basin, synthetic_sites

REAL_BASINS = [b for b in ("drin", "drina", "syr_darya") if (DATA_DIR / "basins" / f"{b}.gpkg").is_file()
               and importlib.util.find_spec("riskmap.hydrography") is not None]


@pytest.fixture(scope="module")
def basin():
    return synthetic_basin()


@pytest.fixture(scope="module")
def sites():
    return synthetic_sites()


@pytest.fixture(scope="module")
def html8(basin, sites):
    return maps.map_html(maps.basin_map(basin, sites))


def _site_value(data: dict, col: str, i: int):
    c = data["sites"]["cols"][col]
    if "v" in c:
        return c["v"][i]
    if "c" in c:
        k = c["c"][i]
        return None if k < 0 else c["k"][k]
    return c["s"].get(str(i))


# ---------------------------------------------------------------- offline


def test_html_is_self_contained(html8):
    assert maps.external_references(html8) == []
    assert "<script src=" not in html8 and 'rel="stylesheet"' not in html8
    assert "cdn.jsdelivr" not in html8 and "cdnjs" not in html8 and "unpkg" not in html8
    # the vendored Leaflet and plugins are inlined
    assert '"1.9.3"' in html8 or "version=\"1.9.3\"" in html8
    assert "L.control.fullscreen" in html8 and "FullScreen" in html8
    # CSS images became data: URIs; no source map lookups
    assert "url(images/" not in html8 and "data:image/png;base64," in html8
    assert "sourceMappingURL" not in html8
    # no tile layer at all
    assert "tile.openstreetmap" not in html8 and "{z}" not in html8


def test_online_tiles_are_an_optional_extra_layer(basin, sites):
    m = maps.basin_map(basin, sites, online_tiles=True)
    html = maps.map_html(m)
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert maps.external_references(html) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert maps.external_references(html, allow_tiles=True) == []
    assert "OpenStreetMap (online)" in html
    # scripts and styles are still inlined
    assert "<script src=" not in html


def test_folium_global_defaults_untouched(basin, sites):
    before_js, before_css = list(folium.Map.default_js), list(folium.Map.default_css)
    maps.map_html(maps.basin_map(basin, sites))
    assert folium.Map.default_js == before_js and folium.Map.default_css == before_css
    plain = folium.Map(tiles=None).get_root().render()
    assert "jquery" in plain  # a later ordinary folium map still gets folium's own defaults


def test_unvendored_asset_raises(basin):
    m = maps.basin_map(basin)
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(RiskmapError, match="does not vendor"):
        maps.map_html(m)


def test_external_references_detector():
    doc = ('<script src="https://x.org/a.js"></script><link rel="stylesheet" href="//cdn.x/b.css"/>'
           '<style>.a{background:url("http://x.org/i.png")}</style><img src="https://x.org/p.png">'
           '<a href="https://example.org">a link is fine</a><script>var t="https://t/{z}/{x}/{y}.png"</script>')
    refs = maps.external_references(doc)
    assert refs == ["https://x.org/a.js", "//cdn.x/b.css", "http://x.org/i.png", "https://x.org/p.png",
                    "https://t/{z}/{x}/{y}.png"]
    assert "https://t/{z}/{x}/{y}.png" not in maps.external_references(doc, allow_tiles=True)


def test_save_map_writes_one_file_atomically(tmp_path, basin, sites, html8):
    out = maps.save_map(maps.basin_map(basin, sites), tmp_path / "drina.html")
    assert out == tmp_path / "drina.html"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and maps.external_references(text) == []
    assert [p.name for p in tmp_path.iterdir()] == ["drina.html"]
    # same structure as map_html (element ids differ between renders)
    norm = lambda s: re.sub(r"_[0-9a-f]{32}", "_X", s)  # noqa: E731
    assert norm(text) == norm(html8)


def test_jupyter_repr_is_offline(basin, sites):
    frame = maps.basin_map(basin, sites)._repr_html_()
    assert frame.startswith("<div") and "<iframe srcdoc=" in frame
    assert "cdn.jsdelivr" not in frame and "https://cdnjs" not in frame
    # a map with an element riskmap cannot inline still displays (folium's online view), with a warning
    m = maps.basin_map(basin)
    folium.plugins.MiniMap().add_to(m)
    with pytest.warns(UserWarning, match="CDN"):
        assert "<iframe" in m._repr_html_()


# ---------------------------------------------------------------- layers and sites


def test_layers_and_controls(html8):
    for name in ("Riparian countries", "International borders", "Sub-basins", "Basin outline",
                 "Lakes and reservoirs", "Rivers (border stretches highlighted)", "Checkpoint towns",
                 "Sites (8)", "Downstream paths of transboundary sites", "Downstream path of the selected site",
                 "Pipelines (lines)"):
        assert f'"{name}"' in html8, name
    assert "L.control.layers" in html8
    assert "L.control.scale" in html8
    assert "riskmap.build(" in html8
    assert "L.markerClusterGroup" not in html8  # 8 sites: not clustered


def test_site_data_contents(basin, sites):
    m = maps.basin_map(basin, sites)
    data = m._riskmap_data
    s = data["sites"]
    assert s["n"] == len(sites) == 8
    # coordinates: point sites exactly, the pipeline at a point on the line
    assert s["lon"][0] == pytest.approx(18.85) and s["lat"][0] == pytest.approx(43.2)
    assert 18.6 <= s["lon"][7] <= 19.1
    # category shapes and hollow (approximate) markers
    names = data["shapeNames"]
    assert names[s["shape"][0]] == "triangle" and names[s["shape"][3]] == "diamond"
    assert s["hollow"] == [0, 0, 1, 1, 0, 0, 0, 0]
    # colour by hazard priority (present): unscored sites are grey
    assert s["colors"][s["cls"][3]] == "#9e9e9e" and s["colors"][s["cls"][7]] == "#9e9e9e"
    assert s["colors"][s["cls"][0]] != "#9e9e9e"
    # exposure/hazard columns flow into the popup record
    assert _site_value(data, "downstream_countries", 0) == "BIH \u2192 BIH|SRB"
    assert _site_value(data, "first_border_river_km", 0) == 45.0
    assert _site_value(data, "travel_time_h", 2) is None  # missing stays missing
    assert _site_value(data, "score_terms", 0) == "wri: 3.1; thi: 2"
    assert _site_value(data, "score_terms", 4) == "wri: unknown"
    assert _site_value(data, "reach_id", 7) is None and _site_value(data, "reach_id", 0) == 1
    fields = [f[0] for f in s["fields"]]
    assert fields.index("category") < fields.index("source") < fields.index("first_border_river_km")
    # rivers carry what the downstream-path code needs
    props = data["rivers"]["features"][3]["properties"]
    assert props == {"id": 4, "o": 4, "b": 1, "n": "Drina", "c": "BIH|SRB", "w": "Lake Perucac",
                     "km": 33.0}
    info = m._riskmap_info
    assert info["sites"] == 8 and info["approximate"] == 2 and info["lines"] == 1 and info["reaches"] == 7


def test_exposure_colours_when_no_priority(basin, sites):
    s = sites.drop(columns=["priority_score", "score_status"])
    data = maps.basin_map(basin, s)._riskmap_data["sites"]
    cls_colour = [data["colors"][c] for c in data["cls"]]
    assert cls_colour[0] == "#d7301f"  # high
    assert cls_colour[2] == "#fc8d59"  # medium
    assert cls_colour[5] == "#9e9e9e"  # not assessed
    legend = maps.basin_map(basin, s)._riskmap_data["legend"]
    assert "Exposure class" in legend and "not assessed" in legend


def test_degrades_without_exposure_columns_or_layers(basin, sites):
    schema_only = sites[["site_id", "name", "category", "country", "coord_precision", "source", "geometry"]]
    m = maps.basin_map(basin, schema_only)
    html = maps.map_html(m)
    assert "Downstream paths of transboundary sites" not in html
    data = m._riskmap_data["sites"]
    assert set(data["cls"]) == {0} and data["colors"] == ["#6a3d9a"]
    # a basin with only an outline, and no sites
    bare = type("B", (), {"id": "x", "name": "X", "outline": basin.outline})()
    html = maps.map_html(maps.basin_map(bare))
    assert '"Basin outline"' in html and "Rivers" not in html and "Sites (" not in html
    # reprojected input comes back in degrees
    m = maps.basin_map(basin, sites.to_crs("EPSG:3857"))
    assert m._riskmap_data["sites"]["lon"][0] == pytest.approx(18.85, abs=1e-5)


def test_sites_of_other_basins_are_left_out(basin, sites):
    s = sites.copy()
    s.loc[s.index[:3], "basin"] = "drin"
    assert maps.basin_map(basin, s)._riskmap_data["sites"]["n"] == 5
    assert maps.basin_map(basin, s, only_basin_sites=False)._riskmap_data["sites"]["n"] == 8


def test_clustering_threshold(basin):
    assert "L.markerClusterGroup" not in maps.map_html(maps.basin_map(basin, many_sites(200)))
    assert "L.markerClusterGroup" in maps.map_html(maps.basin_map(basin, many_sites(201)))
    assert "L.markerClusterGroup" not in maps.map_html(maps.basin_map(basin, many_sites(201), cluster=False))
    assert "L.markerClusterGroup" in maps.map_html(maps.basin_map(basin, many_sites(5), cluster=True))


def test_bad_arguments(basin, sites):
    with pytest.raises(RiskmapInputError, match="color_by"):
        maps.basin_map(basin, sites, color_by="rainbow")
    with pytest.raises(RiskmapInputError, match="GeoDataFrame"):
        maps.basin_map(basin, [1, 2])


# ---------------------------------------------------------------- escaping


def test_hostile_text_is_never_markup(html8, basin, sites):
    assert XSS_IMG not in html8
    assert "<img" not in html8
    assert XSS_SCRIPT not in html8 and "<script>alert" not in html8
    # exactly the scripts riskmap emits (no early </script> from data)
    assert html8.count("</script>") == html8.count("<script>")
    # javascript: URLs never become links (dropped before embedding)
    assert "javascript:alert(3)" not in html8
    # the names are kept (as escaped JSON) for popups, tooltips and search
    data = maps.basin_map(basin, sites)._riskmap_data
    assert _site_value(data, "name", 1) == XSS_IMG
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html8
    # the legend is built in Python with html.escape
    m = maps.basin_map(basin, sites, title="<b>Drina</b> & co")
    assert "&lt;b&gt;Drina&lt;/b&gt; &amp; co" in m._riskmap_data["legend"]


def test_vendored_assets_are_documented_and_licensed():
    root = Path(maps.__file__).parent / "assets"
    readme = (root / "README.md").read_text()
    for folder in ("leaflet", "leaflet.markercluster", "leaflet.fullscreen"):
        assert (root / folder / "LICENSE").is_file(), folder
        for f in (root / folder).rglob("*"):
            if f.is_file() and f.name != "LICENSE" and f.parent.name != "images":
                assert f.name in readme, f"{f} not documented in assets/README.md"
    for name, (rel, _pkg) in maps._ASSET_FOR.items():
        assert (root / rel).is_file(), rel


def test_runtime_escapes_everything_it_inserts():
    js = (Path(maps.__file__).parent / "assets" / "riskmap" / "riskmap.js").read_text()
    # every innerHTML-bound string from data goes through esc(); search results use textContent
    assert "label.textContent = names[j]" in js
    assert "innerHTML" in js and js.count("innerHTML") == 1  # only the Python-built legend
    assert "bindTooltip(esc(val(S, 'name', i))" in js


# ---------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real_sites():
    """The bundled inventory, assessed (and scored when riskmap.hazard is there)."""
    from riskmap.io import read_sites

    csv = DATA_DIR / "sites" / "sites.csv"
    if not csv.is_file() or importlib.util.find_spec("riskmap.exposure") is None:
        return None
    from riskmap.exposure import assess

    return assess(read_sites(csv))


@pytest.mark.skipif(not REAL_BASINS, reason="no bundled basin data or riskmap.hydrography yet")
@pytest.mark.parametrize("basin_id", REAL_BASINS)
def test_real_basin_map(basin_id, real_sites):
    from riskmap.hydrography import load_basin

    b = load_basin(basin_id)
    m = maps.basin_map(b, real_sites)
    html = maps.map_html(m)
    assert maps.external_references(html) == []
    assert len(html) < 5_000_000
    data = m._riskmap_data
    assert len(data["rivers"]["features"]) == len(b.reaches)
    assert set(data) >= {"countries", "borders", "outline", "sub_basins", "rivers"}
    if real_sites is not None:
        expected = int((real_sites["basin"] == basin_id).sum())
        assert expected > 0 and data["sites"]["n"] == expected
        # assessed sites carry reach ids that exist in the river layer -> downstream paths can be drawn
        ids = {f["properties"]["id"] for f in data["rivers"]["features"]}
        c = data["sites"]["cols"]["reach_id"]
        rids = c.get("v") or list(c.get("s", {}).values()) or [c["k"][k] for k in c["c"] if k >= 0]
        assert {r for r in rids if r is not None} <= ids
        assert '"Downstream paths of transboundary sites"' in html
        legend = data["legend"]
        assert "Exposure class" in legend or "Hazard priority" in legend


@pytest.mark.skipif("drina" not in REAL_BASINS, reason="no bundled Drina basin data")
def test_map_data_carries_precomputed_downstream_paths(real_sites):
    """The map gets each site's downstream reaches from riskmap.network; riskmap.js walks nothing."""
    from riskmap.hydrography import load_basin

    if real_sites is None:
        pytest.skip("no bundled inventory")
    b = load_basin("drina")
    data = maps.basin_map(b, real_sites)._riskmap_data
    drina = real_sites[(real_sites["basin"] == "drina") & (real_sites["reach_id"] >= 0)]
    starts = {str(int(r)) for r in drina["reach_id"]}
    assert starts and set(data["downstream"]) == starts  # one entry per distinct start reach
    site = drina.iloc[0]
    path = data["downstream"][str(int(site["reach_id"]))]
    assert path == b.network.downstream_ids(int(site["reach_id"]))
    assert path[0] == int(site["reach_id"]) and path[-1] in set(b.network.outlets.tolist())
    for key, ids in data["downstream"].items():
        assert ids == b.network.downstream_ids(int(key))
    assert all("dn" not in f["properties"] for f in data["rivers"]["features"])
    js = (Path(maps.__file__).parent / "assets" / "riskmap" / "riskmap.js").read_text(encoding="utf-8")
    assert "data.downstream" in js
    assert not re.search(r"\.dn\b|\[['\"]dn['\"]\]", js)
