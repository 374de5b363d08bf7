"""The Excel workbook: real tables, numbers as numbers, frozen headers, lights as words."""

from __future__ import annotations

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cspa.outputs.excel import display_number
from tests.unit.outputs.fixture_report import fixture_report


@pytest.fixture(scope="module")
def wb(xlsx_path):
    return openpyxl.load_workbook(xlsx_path)


def _table_rows(ws, name):
    ref = ws.tables[name].ref
    rows = [list(r) for r in ws[ref]]
    header = [c.value for c in rows[0]]
    return header, [dict(zip(header, r, strict=True)) for r in rows[1:]]


def _find(rows, **where):
    return next(r for r in rows if all(r[k].value == v for k, v in where.items()))


def test_sheets(wb):
    assert wb.sheetnames == [
        "Contents",
        "Data",
        "Being healthy",
        "Staying safe",
        "Enjoying and achieving",
        "Definitions",
        "Appendices",
    ]


def test_every_indicator_is_an_excel_table(wb):
    tables = {name for ws in wb.worksheets for name in ws.tables}
    for ind in fixture_report()["indicators"]:
        assert f"T_{ind['code']}" in tables
    assert {"Contents", "Data", "Definitions", "Neighbours", "MapPoints"} <= tables


def test_numbers_are_numbers_with_matching_formats(wb):
    ws = wb["Staying safe"]
    header, rows = _table_rows(ws, "T_2022SC")
    assert header[:5] == ["Code", "Group", "Row", "Column", "Figure"]
    cell = _find(rows, Row="Luton", Column="2007-08")["Figure"]
    assert cell.value == 74 and cell.data_type == "n" and cell.number_format == "0"
    _h, rows = _table_rows(ws, "T_2059SC")
    cell = _find(rows, Row="England", Column="2007-08")["Figure"]
    assert cell.value == pytest.approx(8.8) and cell.number_format == "0.0"
    _h, rows = _table_rows(wb["Being healthy"], "T_1003HC")
    cell = _find(rows, Row="2006/07", Column="Indicator value")["Figure"]
    assert cell.value == pytest.approx(58.8) and cell.number_format == '0.0"%"'
    cell = _find(rows, Row="2006/07", Column="Numerator")["Figure"]
    assert cell.value == 1884 and cell.number_format == "0"
    _h, rows = _table_rows(wb["Enjoying and achieving"], "T_3002OF")
    cell = _find(rows, Row="2006", Column="Area change")["Figure"]
    assert cell.value == pytest.approx(-1.45) and cell.number_format == "0.00"


def test_statuses_are_text_and_in_their_own_column(wb):
    _h, rows = _table_rows(wb["Enjoying and achieving"], "T_3091DE")
    row = _find(rows, Group="Permanent exclusions", Row="2006", Column="SN")
    assert row["Figure"].value == ".." and row["Figure"].data_type == "s"
    assert row["Status"].value == ".." and row["Status meaning"].value == "Data not available"
    row = _find(rows, Group="Permanent exclusions", Row="2006", Column="Area")
    assert row["Figure"].value == "#" and row["Status"].value == "#"
    _h, rows = _table_rows(wb["Staying safe"], "T_2054SC")
    row = _find(rows, Row="Luton", Column="2001-02")
    assert (
        row["Figure"].value == "-"
        and row["Status meaning"].value == "Data suppressed due to small numbers"
    )
    # text figures that are not statuses stay text
    _h, rows = _table_rows(wb["Enjoying and achieving"], "T_3067AC")
    row = _find(
        rows, Group="2003-04", Row="20 hours or more a week (159d)", Column="Quartile position"
    )
    assert row["Figure"].value == "Best Q'tile"


def test_light_word_band_source_and_basis_columns(wb):
    _h, rows = _table_rows(wb["Staying safe"], "T_2022SC")
    row = _find(rows, Row="Luton", Column="2004-05")
    assert row["Traffic light"].value == "Amber"
    assert row["Band"].value == "●● 2 of 5" and row["Band range"].value == "45<55"
    assert row["Source"].value == "input"
    assert "PAF band 2004-05" in row["How the figure was made"].value
    row = _find(rows, Row="England", Column="2004-05")
    assert row["Traffic light"].value == "Green" and row["Source"].value == "published †"
    lights = {r["Traffic light"].value for r in rows}
    assert lights == {"Amber", "Green"}
    # the light cell is shaded as well as worded
    assert row["Traffic light"].fill.fgColor.rgb.endswith("CCE2D8")


def test_frozen_headers_and_attribution_on_every_sheet(wb):
    attribution = fixture_report()["attribution"]
    for ws in wb.worksheets:
        assert ws.freeze_panes is not None, ws.title
        # at the top of the sheet; on the Data sheet, whose table starts at A1, beside it
        column = 1 if ws.title != "Data" else ws.max_column
        top = [ws.cell(row=r, column=column).value for r in range(1, 6)]
        for line in attribution:
            assert line in top, (ws.title, top)
        assert "Open Government Licence" in (ws.oddFooter.left.text or ""), ws.title
    ws = wb["Staying safe"]
    frozen_row = int(ws.freeze_panes[1:]) - 1
    assert ws.cell(row=frozen_row, column=5).value == "Figure"


def test_contents_links_and_legend(wb):
    ws = wb["Contents"]
    _h, rows = _table_rows(ws, "Contents")
    assert [r["Code"].value for r in rows] == [
        "1003HC",
        "2022SC",
        "2054SC",
        "2059SC",
        "3002OF",
        "3091DE",
        "3067AC",
    ]
    link = _find(rows, Code="2022SC")["Go to"].hyperlink
    assert link.location.startswith("'Staying safe'!A")
    values = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert "Data not available" in values and "Amber" in values


def test_definitions_and_appendices(wb):
    _h, rows = _table_rows(wb["Definitions"], "Definitions")
    row = _find(rows, Code="2022SC")
    assert row["Numerator"].value.startswith("Of the core assessments")
    assert "0<60 (● 1 of 5)" in row["Bands"].value
    assert row["Related"].value.startswith("2015SC, 2016SC")
    _h, rows = _table_rows(wb["Appendices"], "Neighbours")
    assert _find(rows, Appendix="7001OF", Rank=1)["Neighbour"].value == "Birmingham"
    _h, rows = _table_rows(wb["Appendices"], "MapPoints")
    luton = _find(rows, Role="area")
    assert luton["Latitude"].value == pytest.approx(51.8942)


@pytest.mark.parametrize(
    "display,expected",
    [
        ("74", (74, "0")),
        ("7.3", (7.3, "0.0")),
        ("-1.45", (-1.45, "0.00")),
        ("58.8%", (58.8, '0.0"%"')),
        ("0.00%", (0.0, '0.00"%"')),
        ("£722", (722, '"£"0')),
        ("£1,234.50", (1234.5, '"£"#,##0.00')),
        ("1,884", (1884, "#,##0")),
    ],
)
def test_display_number(display, expected):
    assert display_number(display) == expected


@pytest.mark.parametrize(
    "display", ["..", ".", "-", "n/a", "#", "", "3rd Q'tile", "1: 830", "0<45", "12 V", None]
)
def test_display_number_leaves_text_alone(display):
    assert display_number(display) is None


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=0, max_value=4),
    st.booleans(),
)
def test_display_number_round_trips_formatted_numbers(n, decimals, percent):
    value = n / 10**decimals
    display = f"{value:.{decimals}f}" + ("%" if percent else "")
    parsed = display_number(display)
    assert parsed is not None
    number, fmt = parsed
    assert f"{number:.{decimals}f}" == display.rstrip("%")
    assert fmt.count("0") == 1 + decimals


def test_data_sheet_is_one_tidy_table_of_every_figure(wb):
    """Analysts filter and pivot: one row per figure, one header row, numbers as numbers."""
    doc = fixture_report()
    ws = wb["Data"]
    table = ws.tables["Data"]
    assert table.ref.startswith("A1:")
    header, rows = _table_rows(ws, "Data")
    assert header[:6] == ["Area", "Indicator", "Title", "Measure", "Period", "Geography"]
    for name in (
        "Value",
        "Status",
        "Source",
        "Band",
        "Light",
        "Quartile",
        "Rank",
        "Trend",
        "Significance",
        "Progress",
    ):
        assert name in header
    n_figures = sum(len(i["observations"]) for i in doc["indicators"])
    assert len(rows) == n_figures
    # Luton's 2007-08 core assessments: 74, band 3, amber, as a number with the report's decimals
    row = _find(rows, Indicator="2022SC", Period="2007-08", Geography="Luton")
    assert row["Value"].value == 74 and row["Value"].number_format == "0"
    assert row["Band"].value == 3 and row["Light"].value == "amber"
    assert "PAF band 2006-08: 70<75 (3 of 5 blobs)" in row["How it was judged"].value
    # a status is text in its own column, never a number
    sup = _find(rows, Indicator="2054SC", Period="2001-02", Geography="Luton")
    assert sup["Status"].value == "-" and not isinstance(sup["Value"].value, int | float)
    # every figure the document has a value for is a number in the sheet, in the document's order
    numbers = [o["value"] for i in doc["indicators"] for o in i["observations"]]
    for o_value, r in zip(numbers, rows, strict=True):
        if o_value is not None:
            assert r["Value"].value == o_value
