"""The public API stays the same when modules are split (issue 14 item 7).

``maps.basin_map`` bundles its keyword arguments in ``maps.MapOptions``; ``riskmap.export`` serves the
data dictionary and XLSX names that moved to ``riskmap.export_dictionary`` and ``riskmap.export_xlsx``.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from riskmap import export, export_dictionary, export_xlsx, maps


def test_basin_map_keywords_are_the_map_options_with_the_same_defaults():
    sig = inspect.signature(maps.basin_map)
    keywords = {n: p.default for n, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    options = {f.name: f.default for f in dataclasses.fields(maps.MapOptions)}
    assert keywords.pop("lang") is None  # the language is applied around the build, not an option of it
    assert keywords == options


def test_map_options_reach_the_map(map_basin, map_sites):
    m = maps.basin_map(map_basin, map_sites, cluster=True, title="Custom <title>", measure=False,
                       online_tiles=True)
    html = maps.map_html(m)
    assert maps.map_info(m)["clustered"] is True
    assert "L.markerClusterGroup" in html
    assert "leaflet-measure" not in html.lower()
    assert "tile.openstreetmap.org" in html
    assert "\\u003csummary\\u003eCustom \\u0026lt;title\\u0026gt;\\u003c/summary" in html  # legend, escaped


def test_export_serves_the_names_of_its_split_modules():
    assert export.data_dictionary is export_dictionary.data_dictionary
    assert export.data_dictionary_markdown is export_dictionary.data_dictionary_markdown
    assert export.write_data_dictionary is export_dictionary.write_data_dictionary
    assert export.XLSX_DATA_SHEET == "sites_data"
    assert export.list_text is export_xlsx.list_text
    namespace: dict[str, object] = {}
    exec("from riskmap.export import *", namespace)  # noqa: S102 - a fixed import statement
    assert set(export.__all__) <= set(namespace)


def test_export_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        export.no_such_name  # noqa: B018
