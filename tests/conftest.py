"""Shared pytest fixtures for riskmap."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import LineString, box

from riskmap._paths import DATA_DIR, default_sources_dir

#: The synthetic basins and sites (tests/fixtures/): each module defines its fixtures.
pytest_plugins = ("fixtures.exposure", "fixtures.maps", "fixtures.questionnaire", "fixtures.report")

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The bundled data folder (data/)."""
    return DATA_DIR


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    """The public source datasets (../shared/data/sources); skipped outside CI if absent."""
    p = default_sources_dir()
    if not p.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"source datasets not found at {p} (CI must have ../shared beside the clone)")
        pytest.skip(f"source datasets not found at {p}")
    return p


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for test artifacts (screenshots, rendered pages)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


#: How the browser tests start Debian's chromium (headless, no sandbox as root, no background traffic).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's chromium; fails (not skips) in CI when missing."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (CI must apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - depends on the environment
        if os.environ.get("CI"):
            pytest.fail("playwright is not installed (CI must install riskmap[test])")
        pytest.skip("playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _hydrosheds_countries():
    c = gpd.GeoDataFrame({"iso3": ["AAA", "BBB"], "name": ["Aland", "Bland"]},
                         geometry=[box(0, -1, 1, 2), box(1, -1, 2, 2)], crs="EPSG:4326")
    b = gpd.GeoDataFrame({"iso3_a": ["AAA"], "iso3_b": ["BBB"], "border_class": ["international"]},
                         geometry=[shapely.MultiLineString([[(1, -1), (1, 2)]])], crs="EPSG:4326")
    return c, b


@pytest.fixture()
def hydrosheds(tmp_path):
    """Synthetic HydroSHEDS shapefiles and an output folder with countries: (basins, rivers, out).

    4 HydroBASINS cells draining to cell 1 (+ one unrelated), 5 HydroRIVERS reaches (+ one unrelated)."""
    basins = gpd.GeoDataFrame({
        "HYBAS_ID": [1, 2, 3, 4, 5],
        "NEXT_DOWN": [0, 1, 1, 2, 0],
        "PFAF_ID": [22110, 22121, 22130, 22122, 23000],
        "UP_AREA": [12000.0, 6000.0, 3000.0, 3000.0, 3000.0],
        "SUB_AREA": [3000.0] * 5,
    }, geometry=[box(0.5, 0, 1.0, 0.5), box(1.0, 0, 1.5, 0.5), box(0.5, 0.5, 1.0, 1.0),
                 box(1.0, 0.5, 1.5, 1.0), box(0.0, 0, 0.5, 0.5)], crs="EPSG:4326")
    rivers = gpd.GeoDataFrame({
        "HYRIV_ID": [10, 20, 30, 40, 60, 50],
        "NEXT_DOWN": [0, 10, 10, 30, 30, 0],
        "MAIN_RIV": [10, 10, 10, 10, 10, 50],
        "LENGTH_KM": [44.5, 55.6, 55.6, 55.6, 54.5, 44.5],
        "DIS_AV_CMS": [30.0, 10.0, 15.0, 8.0, 5.0, 2.0],
        "UPLAND_SKM": [12000.0, 3000.0, 8000.0, 3000.0, 2000.0, 3000.0],
    }, geometry=[
        LineString([(0.75, 0.45), (0.75, 0.05)]),            # outlet reach, AAA
        LineString([(0.75, 0.45), (0.75, 0.95)]),            # digitised upstream on purpose (must be flipped)
        LineString([(1.45, 0.45), (1.2, 0.45), (0.75, 0.45)]),  # mostly BBB
        LineString([(1.3, 0.95), (1.45, 0.45)]),             # BBB
        LineString([(1.01, 0.95), (1.01, 0.47)]),            # along the AAA|BBB border
        LineString([(0.25, 0.45), (0.25, 0.05)]),            # another river (not upstream)
    ], crs="EPSG:4326")
    bp, rp = tmp_path / "hybas_test.shp", tmp_path / "hyriv_test.shp"
    basins.to_file(bp)
    rivers.to_file(rp)
    c, b = _hydrosheds_countries()
    out = tmp_path / "out"
    out.mkdir()
    c.to_file(out / "countries.gpkg", layer="countries")
    b.to_file(out / "countries.gpkg", layer="borders")
    return bp, rp, out


# ---------------------------------------------------------------- rows of the bundled inventory


@pytest.fixture(scope="session")
def bundled_rows() -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (as text) of the bundled data/sites/sites.csv."""
    with (DATA_DIR / "sites" / "sites.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return list(rows[0].keys()), rows


@pytest.fixture()
def drina_rows(bundled_rows) -> tuple[list[str], list[dict[str, str]]]:
    """Header and the first three Drina rows of the bundled inventory (copies: safe to edit)."""
    header, rows = bundled_rows
    return list(header), [dict(r) for r in rows if r["basin"] == "drina"][:3]


def _rows_to_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, header)
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return Path(path)


@pytest.fixture()
def rows_to_csv():
    """``rows_to_csv(path, header, rows) -> path``: write text rows as a CSV site file."""
    return _rows_to_csv


@pytest.fixture()
def formula_column_file(tmp_path, drina_rows) -> Path:
    """Drina rows plus a user column whose header is a spreadsheet formula."""
    header, rows = drina_rows
    col = '=HYPERLINK("http://evil.example","x")'
    return _rows_to_csv(tmp_path / "in.csv", header + [col], [dict(r, **{col: "1"}) for r in rows])


# ---------------------------------------------------------------- markers: `pytest -m "not slow and not browser"`

#: Tests that take more than ~5 s each (measured with ``--durations``), marked ``slow`` here in one
#: place (besides the ``@pytest.mark.slow`` in the test files) so the quick inner loop skips them.
SLOW_TESTS = frozenset({
    "test_dropped_rows.py::test_demo_with_a_user_file_reports_dropped_rows",
    "test_dropped_rows.py::test_report_lists_dropped_rows_in_data_quality",
    "test_dropped_rows.py::test_report_of_a_clean_file_has_no_dropped_rows_table",
    "test_exposure_real.py::test_border_km_against_independent_geodesic",
    "test_exposure_real.py::test_consistency_over_random_sites",
    "test_exposure_real.py::test_precomputed_paths_match_hydrography",
    "test_hazard.py::test_monotonic_more_tailings_more_toxic_closer_border",
    "test_index_cache.py::test_small_and_large_batches_agree",
    "test_input_robustness.py::test_input_columns_named_like_outputs_are_recomputed_and_kept",
    "test_input_robustness.py::test_parquet_output_written_and_read_back",
    "test_input_robustness.py::test_property_geometry_files_load_or_raise_riskmap_error",
    "test_input_robustness.py::test_property_params_file_is_clean_error_or_valid",
    "test_output_safety.py::test_full_disk_gives_a_clear_error_naming_the_output",
    "test_output_safety.py::test_full_disk_under_the_cli_is_one_line_naming_the_output",
    "test_output_safety.py::test_killed_write_leaves_nothing_the_next_run_trips_over",
    "test_output_safety.py::test_sigterm_under_the_cli_cleans_up_at_once",
    "test_pipeline.py::test_demo_builds_linked_outputs_for_every_basin",
    "test_pipeline.py::test_report_inputs_rerun_no_analysis_and_build_report_writes_no_map",
    "test_questionnaire.py::test_build_includes_returns_folder",
    "test_questionnaire.py::test_libreoffice_round_trip_keeps_validation_and_protection",
    "test_report.py::test_report_is_deterministic_for_fixed_date",
    "test_report_real.py::test_full_report_of_real_basin",
    "test_sources.py::test_build_is_deterministic",
    "test_sources.py::test_cli_build_sites",
    "test_untrusted_text.py::test_cli_map_report_demo_keep_site_text_literal",
    "test_untrusted_text.py::test_report_basin_name_with_template_and_mathtext",
    "test_untrusted_text.py::test_report_text_is_never_a_template",
})
#: Fixtures that start headless Chromium: a test using one is a ``browser`` test.
BROWSER_FIXTURES = frozenset({"chromium_path", "browser", "pdf_path"})


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` the tests of :data:`SLOW_TESTS` and ``browser`` those using a browser fixture."""
    for item in items:
        name = item.nodeid.split("[", 1)[0]
        if name.removeprefix("tests/") in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
