"""Tests for riskmap.maps: layers, offline inlining, escaping, clustering, degradation.

Synthetic basin and sites from ``tests/fixtures/maps.py`` (fixtures); real-data tests
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
from riskmap import RiskmapError, RiskmapInputError
from riskmap import DATA_DIR

from fixtures.maps import XSS_IMG, XSS_SCRIPT

REAL_BASINS = [b for b in ("drin", "drina", "syr_darya") if (DATA_DIR / "basins" / f"{b}.gpkg").is_file()
               and importlib.util.find_spec("riskmap.hydrography") is not None]


@pytest.fixture(scope="module")
def basin(synthetic_basin):
    return synthetic_basin()


@pytest.fixture(scope="module")
def sites(synthetic_sites):
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


def test_user_plugins_save_offline_or_are_named(basin, sites, tmp_path):
    """A folium plugin riskmap vendors is inlined; any other is refused with the plugin's name."""
    m = maps.basin_map(basin, sites, measure=False)
    assert "L.Control.Measure" not in maps.map_html(m)
    folium.plugins.MeasureControl(position="bottomleft").add_to(m)  # as a user would
    out = maps.save_map(m, tmp_path / "measure.html")
    html = out.read_text(encoding="utf-8")
    assert maps.external_references(html) == [] and "new L.Control.Measure(" in html
    assert "leaflet-measure" not in "".join(re.findall(r'<script src="[^"]*"', html))
    folium.plugins.Draw().add_to(m)
    with pytest.raises(RiskmapError, match=r"folium element Draw \(draw_control_[0-9a-f]+\) needs https://\S+leaflet\.draw"):
        maps.save_map(m, tmp_path / "draw.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measure.html"]  # nothing half-written


def test_category_symbols_are_distinct_and_labelled(basin, sites):
    from riskmap.map_text import CATEGORY_LABELS
    from riskmap.schema import CATEGORIES

    assert set(maps.CATEGORY_SHAPES) == set(CATEGORIES) == set(CATEGORY_LABELS)
    assert len(set(maps.CATEGORY_SHAPES.values())) == len(maps.CATEGORY_SHAPES)  # one shape per category
    legend = maps.basin_map(basin, sites)._riskmap_data["legend"]
    assert "Ash and slag pond or landfill" in legend and "tailings_ash" not in legend
    assert legend.startswith("<details open>")  # the map's code collapses it on small screens


def test_filter_data(basin, sites):
    s = maps.basin_map(basin, sites)._riskmap_data["sites"]
    filters = {f["key"]: f for f in s["filters"]}
    assert list(filters) == ["category", "exposure_class", "status", "country"]
    for f in filters.values():
        assert len(f["idx"]) == 8 and sum(v[2] for v in f["values"]) == 8
        assert all(0 <= k < len(f["values"]) for k in f["idx"])
    expo = filters["exposure_class"]["values"]
    assert [v[0] for v in expo] == ["high", "medium", "low", "not assessed"] and expo[0][2] == 3
    assert filters["country"]["values"][0][:2] == ["BIH", "Bosnia and Herzegovina"]
    assert filters["status"]["values"][-1][0] == "unknown" and filters["status"]["values"][-1][2] == 2


def test_why_texts_reasons():
    import pandas as pd

    from riskmap.map_text import why_texts

    df = pd.DataFrame({
        "country": ["BIH", "SRB", "MNE"], "transboundary_downstream": [False, True, False],
        "on_border_water": [True, False, False], "downstream_countries": [["BIH|SRB"], ["SRB", "BIH|SRB"], None],
        "first_border_river_km": [0.0, 120.0, None], "travel_time_h": [0.0, 50.0, None],
        "downstream_pop_total": [12345, None, 0], "natech_seismic": [3, 0, None], "natech_fault_km": [0.4, 9, None],
        "natech_max_mw": [6.06, None, None], "score_status": ["scored", "insufficient data", "insufficient data"],
        "score_reason": [None, "no substance inventory", None], "priority_rank": [1, None, None],
        "category": ["tailings_metal", "mine", "other"], "tailings_volume_m3": [2.5e6, None, None]})
    w = why_texts(df)
    assert w[0].split("\n") == [
        "On a border river: a spill is transboundary from the start.",
        "About 12,300 people live in towns along the river downstream.",
        "Ranked 1 of 1 by hazard priority (tailings facility (metal ore) holding about 2.5 million m\u00b3 of "
        "tailings).",
        "Earthquake-prone: active fault less than 1 km away, earthquakes up to M6.1 recorded nearby."]
    assert w[1].split("\n") == [
        "Water from the site reaches the Bosnia and Herzegovina / Serbia border: 120 km along the rivers to the "
        "first border, about 2.1 days.", "Not ranked: no substance inventory."]
    assert w[2] == "Not ranked: too little data on the facility."


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
    for name in ("Countries (riparian darker) and sea", "International borders", "Sub-basins", "Basin outline",
                 "Lakes and reservoirs", "Rivers (border stretches highlighted)", "Checkpoint towns",
                 "Sites (8)", "Downstream paths of transboundary sites", "Downstream path of the selected site",
                 "Pipelines (lines)", "Towns (labels by size as you zoom in)", "Active faults (GEM)",
                 "Earthquakes since 1900 (ISC-GEM)"):
        assert f'"{name}"' in html8, name
    assert "new L.Control.Measure(" in html8  # folium's MeasureControl, inlined (leaflet-measure)
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
    # ... with names, not codes
    assert _site_value(data, "downstream_countries", 0) == (
        "Bosnia and Herzegovina \u2192 Bosnia and Herzegovina / Serbia border")
    assert _site_value(data, "country", 0) == "Bosnia and Herzegovina"
    assert _site_value(data, "country_code", 0) == "BIH"  # raw code kept for the path logic
    assert _site_value(data, "category", 0) == "Tailings facility (metal ore)"
    assert _site_value(data, "status", 1) == "Closed (not remediated)"
    assert _site_value(data, "first_border_river_km", 0) == 45.0
    assert _site_value(data, "travel_time_h", 2) is None  # missing stays missing
    assert "score_terms" not in s["cols"]  # no term dumps in the popup
    why = _site_value(data, "why", 0).split("\n")
    assert 1 <= len(why) <= 4 and why[0].startswith("Water from the site reaches the Bosnia and Herzegovina / Serbia")
    assert "45 km along the rivers" in why[0]
    assert [f[3] for f in s["fields"]][0] == "What it is" and s["fields"][-1][3] == "Sources"
    assert _site_value(data, "reach_id", 7) is None and _site_value(data, "reach_id", 0) == 1
    fields = [f[0] for f in s["fields"]]
    assert fields.index("category") < fields.index("first_border_river_km") < fields.index("source")
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


def test_clustering_threshold(basin, many_sites):
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
    for folder in ("leaflet", "leaflet.markercluster", "leaflet.fullscreen", "leaflet-measure"):
        assert (root / folder / "LICENSE").is_file(), folder
        for f in (root / folder).rglob("*"):
            if f.is_file() and f.name != "LICENSE" and f.parent.name != "images":
                assert f.name in readme, f"{f} not documented in assets/README.md"
    for name, (rel, _pkg) in maps.VENDORED_ASSETS.items():
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


@pytest.mark.skipif(not REAL_BASINS, reason="no bundled basin data")
def test_context_layers_on_real_maps():
    """Whole neighbouring countries and sea, lakes (Aral Sea), towns, dams, faults and earthquakes."""
    from riskmap.hydrography import load_basin

    data = {b: maps.basin_map(load_basin(b))._riskmap_data for b in REAL_BASINS}
    if "drina" in data:
        d = data["drina"]
        isos = {f["properties"]["iso"] for f in d["countries"]["features"]}
        assert {"BIH", "MNE", "SRB", "HRV", "XKX", "ALB"} <= isos  # not only the basin's riparian clip
        assert {f["properties"]["iso"] for f in d["countries"]["features"] if f["properties"]["r"]} >= {"BIH", "SRB"}
        assert "sea" in d and d["sea"]["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert any(lb[2] == "Kosovo*" for lb in d["labels"]) and "* Kosovo: this designation" in d["legend"]
        assert len(d["dams"]["features"]) == len(load_basin("drina").dams) > 0  # Drina reservoirs by their dams
        assert any("reservoir" in str(f["properties"]["w"]) for f in d["rivers"]["features"])
        assert "Višegrad" in d["places"]["n"] or "Visegrad" in d["places"]["n"]
        assert d["places"]["p"] == sorted(d["places"]["p"], key=lambda v: -(v or 0))  # largest first
        assert d["faults"]["features"] and d["quakes"]["features"]
        assert d["style"]["outside"] != d["style"]["sea"]  # beyond the bundled countries is not painted as sea
    if "syr_darya" in data:
        d = data["syr_darya"]
        names = [f["properties"]["n"] for f in d["ctx_lakes"]["features"]]
        assert "Aral Sea" in names
        assert {"KAZ", "UZB", "KGZ", "TJK", "TKM"} <= {f["properties"]["iso"] for f in d["countries"]["features"]}
        assert "sea" not in d  # no sea in the Central Asian box


def test_map_context_build(tmp_path):
    from riskmap._paths import default_sources_dir
    from riskmap.databuild.map_context import LAKE_SOURCES, build_map_context

    src = default_sources_dir()
    if not all((src / rel).is_file() for rel, _, _ in LAKE_SOURCES):
        pytest.skip("Natural Earth sources not available")
    res = build_map_context(src, tmp_path)
    import json

    import geopandas as gpd

    lakes = gpd.read_file(tmp_path / "lakes.gpkg", layer="lakes")
    assert res["lakes"] == len(lakes) > 20
    assert "Aral Sea" in set(lakes["name"]) and set(lakes["kind"]) <= {"lake", "reservoir", "alkaline lake"}
    assert lakes["name"].isna().any()  # unnamed lakes stay unnamed
    prov = json.loads((tmp_path / "PROVENANCE.json").read_text())
    entry = prov["products"]["lakes.gpkg"]
    assert entry["features"] == len(lakes) and all(len(s["sha256"]) == 64 for s in entry["sources"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["PROVENANCE.json", "lakes.gpkg"]
    bundled = gpd.read_file(DATA_DIR / "context" / "lakes.gpkg", layer="lakes")
    assert len(bundled) == len(lakes)  # the bundled layer is this build's output


# ------------------------------------------------------------------ module sizes (issue 14)


_PKG = Path(maps.__file__).parent


@pytest.mark.parametrize("name", ["maps.py"] + sorted(p.name for p in _PKG.glob("map_*.py")))
def test_map_modules_read_on_one_screen(name):
    """Issue 14: no map module over about 600 lines, no function over 60 lines of code or 8 parameters.

    ``basin_map`` keeps its public keyword options (bundled as ``MapOptions`` for its steps).
    """
    from test_spill_modules import _function_sizes  # the one size rule of issue 14

    path = _PKG / name
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 600
    too_big = [(f, lines, n) for f, lines, n in _function_sizes(path)
               if (lines > 60 or n > 8) and (name, f) != ("maps.py", "basin_map")]
    assert too_big == []


def test_former_map_layers_names_still_importable():
    """``riskmap.map_layers`` and ``riskmap.maps`` re-export the public names that moved to the ``map_*`` modules."""
    from riskmap import map_basemap, map_climate, map_layers, map_page, map_sites, map_style

    assert map_layers.POPUP_ROWS is map_sites.POPUP_ROWS and maps.POPUP_FIELDS is map_sites.POPUP_FIELDS
    assert map_layers.FILTERS is map_sites.FILTERS and map_layers.POPUP_GROUPS is map_sites.POPUP_GROUPS
    assert map_layers.CONTEXT_MARGIN_DEG is map_basemap.CONTEXT_MARGIN_DEG
    assert map_layers.climate_layers is map_climate.climate_layers
    assert maps.CATEGORY_SHAPES is map_layers.CATEGORY_SHAPES is map_style.CATEGORY_SHAPES
    assert maps.SHAPE_PATHS is map_style.SHAPE_PATHS and maps.APPROXIMATE_PRECISIONS is map_style.APPROXIMATE_PRECISIONS
    assert maps.map_html is map_page.map_html
