"""Numbers are read one way only: anything that is not plainly a figure is refused naming the cell.

Before issue 22, ``NaN``, ``inf`` and ``1e309`` were stored (the HTML printed ``nan%``), ``19,5``
was stored as 195, ``1,2,3`` as 123 and ``1_000`` as 1000.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cspa.store.ingest import load_files
from cspa.store.validate import number_problem, parse_number
from tests.unit.store.helpers import only, refused, row, write_csv

NOT_FIGURES = {
    "NaN": "not-a-number and infinity cannot be stored",
    "nan": "not-a-number and infinity cannot be stored",
    "inf": "not-a-number and infinity cannot be stored",
    "-Infinity": "not-a-number and infinity cannot be stored",
    "1e309": "too large to be a figure",
    "19,5": "a comma is not read as a decimal point",
    "1,2,3": "a comma is not read as a decimal point",
    "1,118": "a comma is not read as a decimal point",
    "1_000": "digit groups with '_' are not read",
    "\u0661\u0662": "use the digits 0-9",
    "0x10": "is not a number",
    "12 5": "is not a number",
    "5%%": "is not a number",
}


@pytest.mark.parametrize("text", sorted(NOT_FIGURES))
def test_value_that_is_not_a_figure_is_refused_naming_the_cell(store, tmp_path, text):
    path = write_csv(tmp_path / "figures.csv", [row(value="46"), row(period="2007-08", value=text)])
    p = only(refused(store, [path]))
    assert (p.file, p.row, p.field) == ("figures.csv", 3, "value")
    assert NOT_FIGURES[text] in p.message and repr(text) in p.message


@pytest.mark.parametrize("column", ["numerator", "denominator"])
def test_numerator_and_denominator_are_figures_too(store, tmp_path, column):
    r = row(indicator="1003HC", numerator="12", denominator="40")
    r[column] = "1,200"
    p = only(refused(store, [write_csv(tmp_path / "nd.csv", [r])]))
    assert (p.row, p.field) == (2, column) and "comma" in p.message


def test_lait_values_cell_is_named_as_lait_spells_it(store, tmp_path):
    header = ["Short Desc", "Data item", "Years", "LA and Regions", "Values", "LA Number", "Region"]
    rows = [
        {
            "Short Desc": "16-17 NEET",
            "Data item": "x",
            "Years": "2023-24",
            "LA and Regions": "Luton",
            "Values": "19,5",
            "LA Number": "821",
            "Region": "East of England",
        },
        {
            "Short Desc": "16-17 NEET",
            "Data item": "x",
            "Years": "2022-23",
            "LA and Regions": "Luton",
            "Values": "NaN",
            "LA Number": "821",
            "Region": "East of England",
        },
    ]
    err = refused(store, [write_csv(tmp_path / "lait.csv", rows, header)])
    assert [(p.row, p.field) for p in err.problems] == [(2, "Values"), (3, "Values")]


def test_parquet_nan_and_infinity_are_refused(store, tmp_path):
    path = tmp_path / "figures.parquet"
    pq.write_table(
        pa.table(
            {
                "indicator": ["2022SC"] * 3,
                "area": ["821"] * 3,
                "period": ["2004-05", "2005-06", "2006-07"],
                "value": [46.0, math.nan, math.inf],
            }
        ),
        path,
    )
    err = refused(store, [path])
    assert [(p.file, p.row, p.field) for p in err.problems] == [
        ("figures.parquet", 2, "value"),
        ("figures.parquet", 3, "value"),
    ]


@pytest.mark.parametrize(
    "text, value",
    [
        ("46", 46.0),
        ("4.798E-2", 0.04798),
        (" 12.5 ", 12.5),
        ("+7", 7.0),
        ("58.8%", 58.8),
        (".5", 0.5),
        ("5.", 5.0),
        ("-0", 0.0),
    ],
)
def test_figures_written_plainly_load(store, tmp_path, text, value):
    [res] = load_files(store, [write_csv(tmp_path / "ok.csv", [row(value=text)])])
    got = store.con.execute(
        "SELECT value FROM observation WHERE load_id = ?", [res.load_id]
    ).fetchall()
    assert got == [(value,)]


def test_pound_sign_is_a_marker_not_part_of_the_number():
    assert parse_number("£467") == 467.0 and parse_number("-£5") == -5.0
    assert number_problem("£") is not None and number_problem("%") is not None


def test_python_and_sql_agree_on_what_a_figure_is(store):
    """The loader decides in SQL (set-based), the template and messages in Python: one grammar."""
    from cspa.store.validate import number_ok_sql, strip_markers_sql

    texts = [
        "1",
        "1.",
        ".1",
        "1e5",
        "1E-5",
        "1e309",
        "-1e309",
        "nan",
        "inf",
        "1,0",
        "1_0",
        "",
        " ",
        "+",
        "-",
        "1e",
        "e5",
        "١",
        "1.2.3",
        "£5",
        "5%",
        "£5%",
        "--5",
        "+-5",
        "0005",
        "1 ",
        "\t2\t",
        "½",
        "²",
    ]
    sql = dict(
        store.con.execute(
            f"SELECT t, {number_ok_sql(strip_markers_sql('t'))} FROM (SELECT unnest($1) AS t)",
            [texts],
        ).fetchall()
    )
    for t in texts:
        assert (number_problem(t) is None) == bool(sql[t]), t
