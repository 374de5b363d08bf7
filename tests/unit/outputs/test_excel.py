"""The Excel workbook: every sheet one real Excel table whose header is the sheet's first row (so it
filters, sorts and pivots as it stands, issue 18), numbers as numbers, frozen headers, lights as
words."""

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


def _indicator_rows(ws, code):
    """The rows of one indicator on its sheet: the sheet's one table, filtered on the code."""
    (table,) = ws.tables.values()
    header, rows = _table_rows(ws, table.name)
    return header, [r for r in rows if r["Code"].value == code]


def test_sheets(wb):
    assert wb.sheetnames == [
        "About",
        "Contents",
        "Data",
        "Being healthy",
        "Staying safe",
        "Enjoying and achieving",
        "Definitions",
        "Neighbours",
        "Map",
    ]


def test_every_sheet_is_one_table_whose_header_is_the_first_row(wb):
    for ws in wb.worksheets:
        assert len(ws.tables) == 1, ws.title
        (table,) = ws.tables.values()
        assert table.ref.startswith("A1:"), (ws.title, table.ref)
        # nothing above or beside the header but the attribution, which starts a column apart
        width = ws[table.ref][0][-1].column
        assert ws.cell(row=1, column=width + 1).value is None, ws.title
        assert ws.freeze_panes in ("A2", "B2"), ws.title
    # every indicator's printed cells are rows of its sheet's table
    for ind in fixture_report()["indicators"]:
        assert any(_indicator_rows(ws, ind["code"])[1] for ws in wb.worksheets[3:6]), ind["code"]


def test_numbers_are_numbers_with_matching_formats(wb):
    ws = wb["Staying safe"]
    header, rows = _indicator_rows(ws, "2022SC")
    assert header[:7] == ["Code", "Indicator", "Subsection", "Group", "Row", "Column", "Figure"]
    cell = _find(rows, Row="Luton", Column="2007-08")["Figure"]
    assert cell.value == 74 and cell.data_type == "n" and cell.number_format == "0"
    assert _find(rows, Row="Luton", Column="2007-08")["Indicator"].value.startswith("PAF CF/C64")
    _h, rows = _indicator_rows(ws, "2059SC")
    cell = _find(rows, Row="England", Column="2007-08")["Figure"]
    assert cell.value == pytest.approx(8.8) and cell.number_format == "0.0"
    _h, rows = _indicator_rows(wb["Being healthy"], "1003HC")
    cell = _find(rows, Row="2006/07", Column="Indicator value")["Figure"]
    assert cell.value == pytest.approx(58.8) and cell.number_format == '0.0"%"'
    cell = _find(rows, Row="2006/07", Column="Numerator")["Figure"]
    assert cell.value == 1884 and cell.number_format == "0"
    _h, rows = _indicator_rows(wb["Enjoying and achieving"], "3002OF")
    cell = _find(rows, Row="2006", Column="Area change")["Figure"]
    assert cell.value == pytest.approx(-1.45) and cell.number_format == "0.00"


def test_statuses_are_text_and_in_their_own_column(wb):
    _h, rows = _indicator_rows(wb["Enjoying and achieving"], "3091DE")
    row = _find(rows, Group="Permanent exclusions", Row="2006", Column="SN")
    assert row["Figure"].value == ".." and row["Figure"].data_type == "s"
    assert row["Status"].value == ".." and row["Status meaning"].value == "Data not available"
    row = _find(rows, Group="Permanent exclusions", Row="2006", Column="Area")
    assert row["Figure"].value == "#" and row["Status"].value == "#"
    _h, rows = _indicator_rows(wb["Staying safe"], "2054SC")
    row = _find(rows, Row="Luton", Column="2001-02")
    assert (
        row["Figure"].value == "-"
        and row["Status meaning"].value == "Data suppressed due to small numbers"
    )
    # text figures that are not statuses stay text
    _h, rows = _indicator_rows(wb["Enjoying and achieving"], "3067AC")
    row = _find(
        rows, Group="2003-04", Row="20 hours or more a week (159d)", Column="Quartile position"
    )
    assert row["Figure"].value == "Best Q'tile"


def test_light_word_band_source_and_basis_columns(wb):
    _h, rows = _indicator_rows(wb["Staying safe"], "2022SC")
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
        assert "Open Government Licence" in (ws.oddFooter.left.text or ""), ws.title
        if ws.title == "About":  # its rows say it
            _h, rows = _table_rows(ws, "About")
            said = [r["Text"].value for r in rows if r["Item"].value == "Attribution"]
            assert said == attribution
            continue
        # beside the table, one column apart, from the top
        (table,) = ws.tables.values()
        column = ws[table.ref][0][-1].column + 2
        top = [ws.cell(row=r, column=column).value for r in range(1, 1 + len(attribution))]
        assert top == attribution, ws.title
    ws = wb["Staying safe"]
    assert ws.freeze_panes == "B2" and ws.cell(row=1, column=7).value == "Figure"


def test_contents_links_and_about(wb):
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
    sheet, cell = link.location.split("!")
    assert sheet == "'Staying safe'"
    # the link lands on the indicator's first row
    assert wb["Staying safe"][cell].value == "2022SC"
    assert wb["Staying safe"].cell(row=wb["Staying safe"][cell].row - 1, column=1).value != "2022SC"
    _h, rows = _table_rows(wb["About"], "About")
    items = {r["Item"].value: r["Text"].value for r in rows}
    assert items["Report"] == "Annual Performance Assessment dataset: Luton (2008)"
    assert items["Status .."] == "Data not available"
    assert "within the expected range" in items["Traffic light: Amber"]
    assert wb.properties.title == items["Report"]


def test_definitions_and_appendices(wb):
    _h, rows = _table_rows(wb["Definitions"], "Definitions")
    row = _find(rows, Code="2022SC")
    assert row["Numerator"].value.startswith("Of the core assessments")
    assert "0<60 (● 1 of 5)" in row["Bands"].value
    assert row["Related"].value.startswith("2015SC, 2016SC")
    # what was written above each table is in its definition's row
    doc = {i["code"]: i for i in fixture_report()["indicators"]}
    assert row["Table"].value == doc["2022SC"]["table"]["caption"]
    assert row["Chart summary"].value == doc["2022SC"]["chart"]["summary"]
    _h, rows = _table_rows(wb["Neighbours"], "Neighbours")
    assert _find(rows, Appendix="7001OF", Rank=1)["Neighbour"].value == "Birmingham"
    _h, rows = _table_rows(wb["Map"], "MapPoints")
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
