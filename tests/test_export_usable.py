"""Exports that open well (issue 18 item 3): human XLSX, Excel CSV, styled GeoPackage."""

from __future__ import annotations

import openpyxl
import pytest

from _fixtures_report import assessed_sites, fake_basin, matrix  # noqa: E402

from riskmap import export as ex  # noqa: E402


@pytest.fixture(scope="module")
def sites():
    return assessed_sites()


@pytest.fixture(scope="module")
def basin():
    return fake_basin()


def test_xlsx_sites_sheet_is_human(sites, basin, tmp_path):
    p = ex.export(sites, tmp_path / "s.xlsx", basin=basin, matrix=matrix())
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
    assert ex._list_text(["BIH", "BIH|SRB", "SRB"]) == "BIH; BIH|SRB; SRB"
    assert ex._list_text([{"name": "cyanide", "quantity_t": 5.0, "wgk": 3}]) == "cyanide, quantity_t 5, wgk 3"
    assert ex._list_text({"a": 1.5, "b": None}) == "a: 1.5"
    assert ex._list_text("plain") == "plain"
