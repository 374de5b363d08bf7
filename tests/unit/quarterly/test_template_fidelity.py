"""The quarterly template round trip keeps every character; formulas are refused by their cell.

Before issue 22: text over Excel's 32,767-character cell limit was cut in the template and
reloading the untouched template saved the cut version; a formula with no saved result in a
commentary cell (as openpyxl, pandas and scripts write) read as empty and deleted the commentary;
control characters came back as ``_x0001_``; a Value of ``19,5`` was stored as 195.
"""

from __future__ import annotations

import re
import zipfile

import pytest

from cspa.errors import LoadError
from cspa.quarterly.load import load_template
from cspa.quarterly.template import CELL_LIMIT, TemplateError, write_template
from tests.unit.quarterly.conftest import counts, find_row, open_book, rows_of

AREA, PERIOD = "Luton", "2007-08-Q4"
# over two Excel cells' worth, with characters that count twice (emoji), line breaks of both kinds,
# control characters, a literal Excel escape and spaces at both ends
LONG = ("  Commentary 😀 line\r\nnext\x01_x0041_ " + "x" * 997 + "\n") * 70 + "end  "


def _text(store, indicator: str, field: str) -> str | None:
    got = store.con.execute(
        "SELECT text FROM quarterly_text WHERE area = '821' AND period = 'FY2007-08-Q4' AND indicator = ? "
        "AND field = ? AND item = 0",
        [indicator, field],
    ).fetchall()
    return got[0][0] if got else None


def _set_text(store, indicator: str, field: str, text: str) -> None:
    store.con.execute(
        """INSERT INTO quarterly_text_revision VALUES (nextval('quarterly_revision_seq'), '821', 'FY2007-08-Q4',
           ?, ?, 0, ?, NULL, NULL, FALSE, NULL, 'tester', now(), 'test', NULL)""",
        [indicator, field, text],
    )


def test_long_text_split_and_rejoined_untouched_changes_nothing(store, tmp_path):
    assert len(LONG.encode("utf-16-le")) // 2 > 2 * CELL_LIMIT
    _set_text(store, "PAF A2", "commentary", LONG)
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    ws = open_book(path)["Commentary"]
    cols = rows_of(ws)
    parts = [
        r
        for r in range(4, ws.max_row + 1)
        if ws.cell(r, cols["Indicator"]).value == "PAF A2"
        and ws.cell(r, cols["Field"]).value == "commentary"
    ]
    assert [ws.cell(r, cols["Part"]).value for r in parts] == ["1 of 3", "2 of 3", "3 of 3"]
    before = counts(store.con)
    s = load_template(store, path, "alice")
    assert (s["targets"], s["texts"], s["actuals"]) == (0, 0, 0)
    assert counts(store.con)["quarterly_text_revision"] == before["quarterly_text_revision"]
    assert _text(store, "PAF A2", "commentary") == LONG


def test_edit_inside_a_split_text_is_kept_exactly(store, tmp_path):
    # edited with openpyxl, which (unlike Excel) reads _xHHHH_ escapes back undecoded: no control
    # characters or escapes in this text, so that the edit is the only change openpyxl makes
    long = LONG.replace("_x0041_", "").replace("\x01", "").replace("\r", "")
    _set_text(store, "PAF A2", "commentary", long)
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    wb = open_book(path)
    ws = wb["Commentary"]
    cols = rows_of(ws)
    r = find_row(ws, Indicator="PAF A2", Field="commentary", Part="2 of 3")
    old = ws.cell(r, cols["Text"]).value
    ws.cell(r, cols["Text"]).value = old.replace("line", "EDITED", 1)
    wb.save(path)
    s = load_template(store, path, "alice")
    assert s["texts"] == 1
    got = _text(store, "PAF A2", "commentary")
    assert got.count("EDITED") == 1 and len(got) == len(long) - len("line") + len("EDITED")
    assert got.startswith(long[:1000]) and got.endswith(long[-1000:])
    assert got.replace("EDITED", "line") == long


def test_control_characters_and_excel_escapes_round_trip(store, tmp_path):
    text = "tab\there\x01 bell\x07 _x0041_ literal\rCR \u202eRTL"
    _set_text(store, "PAF C20", "commentary", text)
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    s = load_template(store, path, "alice")
    assert s["texts"] == 0
    assert _text(store, "PAF C20", "commentary") == text


def test_other_text_over_the_cell_limit_refused_before_anything_is_written(store, tmp_path):
    store.con.execute(
        """
        INSERT INTO quarterly_target_revision
        SELECT nextval('quarterly_revision_seq'), indicator, measure, area, period, period_label, period_kind,
               period_start, period_end, target_type, value, status, text, ?, seed_ref, deleted, revision,
               'tester', now(), 'test', NULL
        FROM quarterly_target WHERE area = '821' AND indicator = 'NI 117' ORDER BY revision LIMIT 1""",
        ["n" * (CELL_LIMIT + 1)],
    )
    path = tmp_path / "t.xlsx"
    with pytest.raises(TemplateError, match=r"Targets NI 117 .*Note is 32,768 characters"):
        write_template(store.con, AREA, PERIOD, path)
    assert not path.exists()


def _formula(
    path, sheet: str, match: dict, header: str, formula: str, cached: str | None = None
) -> str:
    """Put a formula in a cell (openpyxl saves it with no result); optionally give it a saved
    result as Excel does, by writing <v> into the sheet's XML. Returns the cell's address."""
    wb = open_book(path)
    ws = wb[sheet]
    r, c = find_row(ws, **match), rows_of(ws)[header]
    ws.cell(r, c).value = formula
    coord = ws.cell(r, c).coordinate
    idx = wb.sheetnames.index(sheet) + 1
    wb.save(path)
    if cached is not None:
        tmp = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w") as zout:
            for item in zin.infolist():
                data = zin.read(item.filename)
                if item.filename == f"xl/worksheets/sheet{idx}.xml":
                    xml = data.decode()
                    xml, n = re.subn(
                        rf'(<c r="{coord}"[^>]*>)<f>(.*?)</f><v\s*/?>(</v>)?',
                        rf"\1<f>\2</f><v>{cached}</v>",
                        xml,
                    )
                    assert n == 1, xml[xml.find(coord) - 50 : xml.find(coord) + 200]
                    data = xml.encode()
                zout.writestr(item, data)
        tmp.replace(path)
    return coord


@pytest.mark.parametrize("cached", [None, "42"])
def test_formula_in_a_commentary_cell_refused_naming_the_cell(store, tmp_path, cached):
    _set_text(store, "PAF A2", "commentary", "Existing commentary that must not be lost.")
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    coord = _formula(
        path, "Commentary", {"Indicator": "PAF A2", "Field": "commentary"}, "Text", "=A1&B1", cached
    )
    before = counts(store.con)
    with pytest.raises(LoadError) as e:
        load_template(store, path, "alice")
    assert f"cell {coord} holds a formula (=A1&B1)" in str(e.value)
    assert "sheet 'Commentary'" in str(e.value) and "Text (column G)" in str(e.value)
    assert counts(store.con) == before
    assert _text(store, "PAF A2", "commentary") == "Existing commentary that must not be lost."


def test_formula_in_a_value_cell_refused(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    coord = _formula(
        path,
        "Actuals",
        {"Indicator": "NI 59", "Measure": "actual", "Period key": "FY2007-08-Q4"},
        "Value",
        "=40+18",
        "58",
    )
    with pytest.raises(LoadError, match=rf"cell {coord} holds a formula \(=40\+18\)"):
        load_template(store, path, "alice")


@pytest.mark.parametrize(
    "value, message",
    [("19,5", "a comma is not read"), ("NaN", "not-a-number"), ("1e309", "too large")],
)
def test_value_that_is_not_a_figure_refused_in_the_template(store, tmp_path, value, message):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    wb = open_book(path)
    ws = wb["Actuals"]
    r = find_row(ws, Indicator="NI 59", Measure="actual")
    ws.cell(r, rows_of(ws)["Value"]).value = value
    wb.save(path)
    before = counts(store.con)
    with pytest.raises(LoadError, match=message):
        load_template(store, path, "alice")
    assert counts(store.con) == before


def test_out_of_range_actual_names_the_template_column(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    wb = open_book(path)
    ws = wb["Actuals"]
    r = find_row(ws, Indicator="NI 59", Measure="actual", **{"Period key": "FY2007-08-Q4"})
    ws.cell(r, rows_of(ws)["Value"]).value = 150
    wb.save(path)
    with pytest.raises(LoadError) as e:
        load_template(store, path, "alice")
    assert (
        f"row {r}, field 'Value (column H)': 150 is outside what NI 59 actual can be: from 0 to 100"
        in str(e.value)
    )
