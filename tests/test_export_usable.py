"""Exports that open well (issue 18 item 3): human XLSX, Excel CSV, styled GeoPackage."""

from __future__ import annotations

import shutil
import subprocess

import geopandas as gpd
import openpyxl
import pytest

from riskmap import export as ex


@pytest.fixture(scope="module")
def sites(report_sites):
    return report_sites


@pytest.fixture(scope="module")
def basin(report_basin):
    return report_basin


def test_xlsx_sites_sheet_is_human(sites, basin, report_matrix, tmp_path):
    p = ex.export(sites, tmp_path / "s.xlsx", basin=basin, matrix=report_matrix)
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["sites", "exposure_matrix", "data_dictionary", "sites_data"]
    assert wb["sites_data"].sheet_state == "hidden"
    ws = wb["sites"]
    head = [c.value for c in ws[1]]
    assert "River km to first border" in head and "first_border_river_km" not in head
    assert "Site ID" in head and "site_id" not in head
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == ws.dimensions
    for other in ("exposure_matrix", "data_dictionary"):
        assert wb[other].freeze_panes == "A2" and wb[other].auto_filter.ref
    widths = {ws.cell(row=1, column=i).value: ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width
              for i in range(1, ws.max_column + 1)}
    assert min(widths.values()) >= 10 and max(widths.values()) <= 50
    # kilometres and hours: rounded to 1 decimal and shown with 1 decimal
    for header in ("River km to first border", "Distance to border (km)", "Travel time to first border (h)"):
        col = head.index(header) + 1
        vals = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
        nums = [c.value for c in vals if isinstance(c.value, (int, float))]
        assert nums, header
        assert all(round(v, 1) == v for v in nums), header
        assert all(c.number_format == "0.0" for c in vals), header
    # no JSON in cells: lists as "A; B; C"
    text = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert not [t for t in text if t.startswith(("[", "{"))]
    col = head.index("Countries downstream") + 1
    lists = [ws.cell(row=r, column=col).value for r in range(2, ws.max_row + 1)]
    assert any(isinstance(v, str) and "; " in v for v in lists), lists
    # the data dictionary names the machine column of each human header
    dd = {r[0]: r[1] for r in wb["data_dictionary"].iter_rows(min_row=2, values_only=True)}
    assert dd["first_border_river_km"] == "River km to first border"
    # the machine sheet keeps full precision and JSON; read_export reads it
    back = ex.read_export(p)
    assert back["first_border_river_km"].fillna(-1).round(6).tolist() == \
        sites["first_border_river_km"].astype(float).fillna(-1).round(6).tolist()


def test_list_text():
    assert ex.list_text(["BIH", "BIH|SRB", "SRB"]) == "BIH; BIH|SRB; SRB"
    assert ex.list_text([{"name": "cyanide", "quantity_t": 5.0, "wgk": 3}]) == "cyanide, quantity_t 5, wgk 3"
    assert ex.list_text({"a": 1.5, "b": None}) == "a: 1.5"
    assert ex.list_text("plain") == "plain"


# ----------------------------------------------------------------- CSV for Excel


def test_excel_csv_bytes(sites, tmp_path):
    p = ex.export(sites, tmp_path / "x.csv", excel=True)
    raw = p.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    head = raw[3:].split(b"\r\n", 1)[0].decode("utf-8").split(";")
    assert head[:2] == ["Site ID", "Name"] and "River km to first border" in head
    text = raw.decode("utf-8-sig")
    assert '"[' not in text and ";[" not in text and ";{" not in text  # no JSON in cells
    # the default CSV is unchanged: comma, no BOM, machine headers
    plain = ex.export(sites, tmp_path / "p.csv").read_bytes()
    assert plain.startswith(b"site_id,name,")
    with pytest.raises(ex.RiskmapInputError, match="CSV only"):
        ex.export(sites, tmp_path / "x.xlsx", excel=True)


def test_excel_csv_refused_for_other_formats_before_work(tmp_path):
    from click.testing import CliRunner

    from riskmap.cli import main

    r = CliRunner().invoke(main, ["export", "drina", "--excel", "-o", str(tmp_path / "d.gpkg")])
    assert r.exit_code == 2 and "--excel" in r.output
    assert not (tmp_path / "d.gpkg").exists()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_excel_csv_round_trips_through_libreoffice(tmp_path):
    from click.testing import CliRunner

    from riskmap.cli import main

    csv_path = tmp_path / "drina.csv"
    r = CliRunner().invoke(main, ["export", "drina", "--excel", "-o", str(csv_path)])
    assert r.exit_code == 0, r.output
    # ';' separator and a locale with decimal comma (de-DE, as in BIH/SRB/ALB); the charset is left to
    # LibreOffice's detection, which reads the BOM (without it the text would be read as Latin-1)
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--infilter=CSV:59,34,,1,,1031", "--convert-to", "xlsx", "--outdir", str(out),
                    str(csv_path)], check=True, capture_output=True, timeout=300)
    ws = openpyxl.load_workbook(out / "drina.xlsx").active
    head = [c.value for c in ws[1]]
    assert head[:3] == ["Site ID", "Name", "Category"]
    assert len(head) > 40  # columns split
    names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert "Bajina Bašta hydroelectric plant" in names
    km = [row[head.index("River km to first border")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert any(isinstance(v, float) and not v.is_integer() for v in km)  # decimal comma read as a number


# ----------------------------------------------------------------- GeoPackage for QGIS


@pytest.mark.parametrize("basin_id", ["drin", "drina"])
def test_gpkg_layers_are_single_type_and_styled(tmp_path, basin_id):
    import re
    import sqlite3

    from click.testing import CliRunner

    from riskmap.cli import main
    from riskmap.hydrography import load_basin

    p = tmp_path / f"{basin_id}.gpkg"
    r = CliRunner().invoke(main, ["export", basin_id, "-o", str(p)])
    assert r.exit_code == 0, r.output
    with sqlite3.connect(p) as con:
        geom = dict(con.execute("SELECT table_name, geometry_type_name FROM gpkg_geometry_columns"))
        styles = con.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, useAsDefault "
                             "FROM layer_styles").fetchall()
        cols = [c[1] for c in con.execute("PRAGMA table_info(layer_styles)")]
    b = load_basin(basin_id)
    expected = {"sites", "basin", "countries", "borders", "rivers", "downstream_paths"}
    expected |= {n for n in ("lakes", "towns") if len(getattr(b, n))}  # the Drina data has neither (yet)
    assert expected <= set(geom), geom
    assert basin_id != "drin" or {"lakes", "towns"} <= set(geom)
    assert "GEOMETRY" not in {v.upper() for v in geom.values()}, geom
    assert geom["sites"].upper() == "POINT"
    if basin_id == "drina":  # the bundled Drina inventory has a pipeline (a line site)
        assert "LINESTRING" in geom["site_lines"].upper()
    for c in ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
              "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"):
        assert c in cols, c
    assert sorted(s[0] for s in styles) == sorted(geom)  # one default style per spatial layer
    assert all(s[4] and s[3].startswith("<!DOCTYPE qgis") and "<renderer-v2" in s[3] for s in styles)
    for layer in geom:
        g = gpd.read_file(p, layer=layer)
        assert len(g) and g.geom_type.str.replace("Multi", "").nunique() == 1, layer
    back = ex.read_export(p)
    n = int(re.search(r"\((\d+) sites\)", r.output).group(1))
    assert len(back) == n and back["site_id"].is_unique


@pytest.mark.parametrize("fmt", ["xlsx", "gpkg"])
def test_read_sites_takes_an_export_back_whole(sites, basin, report_matrix, tmp_path, fmt):
    """The human XLSX sheet and the split GPKG site layers still read back as the whole inventory."""
    import warnings

    from riskmap import read_sites

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = read_sites(ex.export(sites, tmp_path / "s.csv"))
        got = read_sites(ex.export(sites, tmp_path / f"s.{fmt}", basin=basin, matrix=report_matrix))
    assert len(want) and got["site_id"].tolist() == want["site_id"].tolist()
    assert got.geom_type.tolist() == want.geom_type.tolist()
    assert "LineString" in set(got.geom_type)


def test_xlsx_refuses_a_cell_it_would_cut(sites, basin, tmp_path):
    """An XLSX cell holds 32,767 characters: a longer name is refused with site, column and length (no silent
    truncation, no file written); CSV keeps it whole."""
    from riskmap import RiskmapInputError

    s = sites.copy()
    s.loc[s.index[0], "name"] = "x" * 40_000
    out = tmp_path / "long.xlsx"
    with pytest.raises(RiskmapInputError, match=r"column 'name': 40,000 characters.*32,767"):
        ex.export(s, out, basin=basin)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_excel_csv_reads_back_as_the_same_sites(sites, tmp_path):
    """The --excel CSV (display headers, ';', decimal comma, lists as 'A; B') validates and reads back as
    the sites of the machine CSV: same ids, names, categories, places and source references."""
    import warnings

    from riskmap import read_sites

    s = sites.copy()
    s["source_refs"] = [["gem-gcpt:G1", "usgs:2"]] + [None] * (len(s) - 1)
    s["field_sources"] = [{"capacity_mw": "questionnaire MNE 2026-11-03"}] + [None] * (len(s) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = read_sites(ex.export(s, tmp_path / "machine.csv"))
        got = read_sites(ex.export(s, tmp_path / "excel.csv", excel=True))
    report = got.attrs["validation"]
    assert report.ok and report.n_kept == len(want) == len(s), str(report)
    for c in ("site_id", "name", "category", "coord_precision", "country", "substances", "source_refs",
              "field_sources"):
        assert got[c].tolist() == want[c].tolist(), c
    assert got.geometry.distance(want.geometry).max() < 1e-6  # lon/lat (decimal comma) and line WKT
