"""One ``cspa load`` call is one consistent set, file names are names, and every unreadable input
is a named problem (file, row, column), never an "Unexpected error".

Before issue 22: two files with the same key loaded (the second silently superseding the first),
the same file given twice loaded twice, a header-only file "loaded 0 rows" with a load record,
``glob[1].parquet`` loaded ``glob1.parquet`` and ``star_*.parquet`` read three files, and a
folder, a period ``0000`` or a repeated header column gave "Unexpected error".
"""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cspa.store.ingest import load_files
from tests.unit.store.helpers import only, refused, row, snapshot, write_csv


def test_same_key_in_two_files_refused_naming_both(store, tmp_path):
    a = write_csv(
        tmp_path / "a.csv",
        [row(area="874", value="40"), row(area="874", period="2007-08", value="41")],
    )
    b = write_csv(tmp_path / "b.csv", [row(area="Peterborough", period="2007-08", value="43")])
    p = only(refused(store, [a, b]))
    assert (p.file, p.row) == ("b.csv", 2)
    assert (
        "is also given by a.csv, row 3" in p.message
        and "2022SC / value / 874 / 2007-08" in p.message
    )


def test_same_file_twice_refused(store, tmp_path):
    a = write_csv(tmp_path / "a.csv", [row(area="874", value="40")])
    p = only(refused(store, [a, a]))
    assert p.file == "a.csv" and "given twice in this load (the same file)" in p.message
    copy = tmp_path / "copy.csv"
    shutil.copy(a, copy)
    p = only(refused(store, [a, copy]))
    assert p.file == "copy.csv" and "the same content as a.csv" in p.message


def test_header_only_file_refused_and_writes_no_load_record(store, tmp_path):
    empty = write_csv(tmp_path / "header.csv", [])
    before = store.count("load_log")
    p = only(refused(store, [empty]))
    assert p.file == "header.csv" and "no data rows" in p.message
    assert store.count("load_log") == before


def _parquet(path, value):
    pq.write_table(
        pa.table(
            {"indicator": ["2022SC"], "area": ["876"], "period": ["2004-05"], "value": [value]}
        ),
        path,
    )
    return path


def test_file_names_are_names_not_patterns(store, tmp_path):
    _parquet(tmp_path / "glob1.parquet", 11.0)
    literal = _parquet(tmp_path / "glob[1].parquet", 22.0)
    [res] = load_files(store, [literal])
    got = store.con.execute(
        "SELECT value FROM observation WHERE load_id = ?", [res.load_id]
    ).fetchall()
    assert got == [(22.0,)]
    (tmp_path / "glob[1].parquet").unlink()
    p = only(refused(store, [literal]))
    assert (p.file, p.message) == ("glob[1].parquet", "file not found")


def test_star_in_a_name_reads_that_one_file(store, tmp_path):
    for n, name in enumerate(["star_a.parquet", "star_b.parquet", "star_*.parquet"]):
        pq.write_table(
            pa.table(
                {
                    "indicator": ["2022SC"],
                    "area": ["877"],
                    "period": [f"200{n + 4}-0{n + 5}"],
                    "value": [float(n)],
                }
            ),
            tmp_path / name,
        )
    [res] = load_files(store, [tmp_path / "star_*.parquet"])
    assert res.rows == 1


def test_folder_refused_by_name(store, tmp_path):
    (tmp_path / "figures").mkdir()
    p = only(refused(store, [tmp_path / "figures"]))
    assert p.file == "figures" and "is a folder, not a file" in p.message


@pytest.mark.parametrize("period", ["0000", "0000-01", "9999"])
def test_impossible_period_is_a_named_problem(store, tmp_path, period):
    p = only(refused(store, [write_csv(tmp_path / "p.csv", [row(period=period, value="4")])]))
    assert (p.row, p.field) == (2, "period") and "years run from 1900 to 2199" in p.message


def test_repeated_header_column_refused_naming_it(store, tmp_path):
    path = tmp_path / "rep.csv"
    path.write_text("indicator,area,period,value,value\n2022SC,821,2004-05,4,5\n", encoding="utf-8")
    p = only(refused(store, [path]))
    assert (p.file, p.row, p.field) == ("rep.csv", 1, "value") and "columns D and E" in p.message


def test_repeated_header_column_in_excel_refused(store, tmp_path):
    import openpyxl

    path = tmp_path / "rep.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["indicator", "area", "area", "period", "value"])
    ws.append(["2022SC", "821", "821", "2004-05", 4])
    wb.save(path)
    p = only(refused(store, [path]))
    assert (p.file, p.field) == ("rep.xlsx", "area") and "columns B and C" in p.message


def test_excel_formula_cell_is_named_not_called_empty(store, tmp_path):
    import openpyxl

    path = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["indicator", "area", "period", "value"])
    ws.append(
        ["2022SC", "821", "2004-05", "=40+6"]
    )  # openpyxl saves a formula with no cached result
    wb.save(path)
    p = only(refused(store, [path]))
    assert (p.file, p.row, p.field) == ("f.xlsx", 2, "value")
    assert "cell D2 holds a formula (=40+6)" in p.message


def test_every_file_of_a_load_is_checked_and_problems_of_all_are_reported(store, tmp_path):
    good = write_csv(tmp_path / "good.csv", [row(area="878", value="40")])
    bad = write_csv(tmp_path / "bad.csv", [row(area="878", period="2005-06", value="NaN")])
    err = refused(store, [tmp_path / "missing.csv", good, bad, tmp_path])
    assert [(p.file, p.row) for p in err.problems] == [
        ("missing.csv", None),
        ("bad.csv", 2),
        (tmp_path.name, None),
    ]


def test_refused_load_leaves_store_exactly_as_it_was(store, tmp_path):
    load_files(
        store, [write_csv(tmp_path / "base.csv", [row(area="879", value="40")])], vintage="base"
    )
    before = snapshot(store)
    refused(
        store,
        [
            write_csv(
                tmp_path / "over.csv",
                [row(area="879", value="41"), row(area="879", value="1e309", period="2007-08")],
            )
        ],
    )
    assert snapshot(store) == before


LAIT = ["Short Desc", "Data item", "Years", "LA and Regions", "Values", "LA Number", "Region"]


def test_lait_problems_name_lait_columns(store, tmp_path):
    rows = [
        {
            "Short Desc": "NoSuchIndicator",
            "Data item": "x",
            "Years": "2023-24",
            "LA and Regions": "Luton",
            "Values": "5",
            "LA Number": "821",
            "Region": "East of England",
        },
        {
            "Short Desc": "16-17 NEET",
            "Data item": "x",
            "Years": "2023-24",
            "LA and Regions": "Atlantis",
            "Values": "5",
            "LA Number": "999",
            "Region": "East of England",
        },
        {
            "Short Desc": "16-17 NEET",
            "Data item": "x",
            "Years": "0000",
            "LA and Regions": "Luton",
            "Values": "5",
            "LA Number": "821",
            "Region": "East of England",
        },
    ]
    err = refused(store, [write_csv(tmp_path / "lait.csv", rows, LAIT)])
    assert sorted((p.row, p.field) for p in err.problems) == [
        (2, "Short Desc"),
        (3, "LA Number"),
        (4, "Years"),
    ]


def test_ees_problems_name_the_mapped_columns(store, tmp_path):
    header = [
        "time_period",
        "time_identifier",
        "geographic_level",
        "country_code",
        "country_name",
        "region_code",
        "region_name",
        "old_la_code",
        "la_name",
        "new_la_code",
        "population_type",
        "population_estimate",
        "children_count",
        "rate_per_10000",
    ]
    base = {
        "time_identifier": "Reporting year",
        "geographic_level": "Local authority",
        "country_code": "E92000001",
        "country_name": "England",
        "region_code": "E12000006",
        "region_name": "East of England",
        "la_name": "Luton",
        "new_la_code": "E06000032",
        "population_type": "Children looked after on 31 March each year",
    }
    rows = [
        dict(
            base,
            time_period="2024",
            old_la_code="821",
            population_estimate="55000",
            children_count="1,234",
            rate_per_10000="22",
        ),
        dict(
            base,
            time_period="2024",
            old_la_code="99999",
            population_estimate="55000",
            children_count="40",
            rate_per_10000="7",
        ),
    ]
    err = refused(
        store, [write_csv(tmp_path / "cla_number_and_rate_per_10k_children.csv", rows, header)]
    )
    fields = {(p.row, p.field) for p in err.problems}
    assert (
        2,
        "children_count",
    ) in fields  # the value column the mapping names, not 'value' or 'numerator'
    assert (3, "old_la_code") in fields  # the area column of a local authority row
