"""Loading the fake SSDA903 (CSV and XML) and CIN census returns shipped in data/real."""

from __future__ import annotations

from datetime import date

import pytest

from cspa.errors import LoadError
from cspa.records.cin import read_cin
from cspa.records.read import read_return, return_kind
from cspa.records.returns import typed_tables
from cspa.records.ssda903 import read_903, spec

from .conftest import FAKE_903, FAKE_903_CSV, FAKE_CIN


def test_903_csv_extracts_are_read_as_their_tables():
    r = read_903(FAKE_903_CSV, la="821")
    # row counts as the shared data README lists them
    assert r.rows() == {
        "header": 2675,
        "episodes": 5050,
        "uasc": 132,
        "reviews": 12582,
        "missing": 43,
        "oc2": 2675,
        "oc3": 53,
        "ad1": 29,
        "placed_adoption": 29,
        "prev_perm": 2675,
        "sw_episodes": 1,
        "dolo": 1,
    }
    # the year is worked out from the latest episode start, 31/03/2018, as the README says it should be
    assert (r.year, r.period_label, r.collection_end) == (2018, "2017-18", date(2018, 3, 31))
    assert "31/03/2018" in r.year_basis
    first = r.tables["episodes"].slice(0, 1).to_pylist()[0]
    assert (first["CHILD"], first["DECOM"], first["_file"], first["_row"]) == (
        "566910",
        "15/02/2016",
        "episodes.csv",
        2,
    )


def test_903_xml_return_is_flattened_into_the_same_tables():
    r = read_903([FAKE_903 / "fake_903.xml"], la="821")
    assert r.rows() == {
        "header": 253,
        "episodes": 459,
        "uasc": 12,
        "reviews": 1206,
        "missing": 6,
        "oc2": 253,
        "oc3": 6,
        "ad1": 3,
        "placed_adoption": 3,
        "prev_perm": 253,
    }
    ep = r.tables["episodes"].slice(0, 1).to_pylist()[0]
    assert (ep["CHILD"], ep["PLACE"], ep["DECOM"]) == (
        "907440",
        "R5",
        "06/01/2017",
    )  # the XML's <PL> is PLACE
    rev = r.tables["reviews"].slice(0, 1).to_pylist()[0]
    assert (rev["CHILD"], rev["DOB"], rev["REVIEW_CODE"]) == (
        "907440",
        "28/07/2010",
        "PN0",
    )  # header fields repeated
    assert r.year == 2018


def test_typed_tables_parse_dates_and_add_authority_and_year():
    t = typed_tables(read_903(FAKE_903_CSV[:2], la="821"), spec())["episodes"]
    row = t.slice(0, 1).to_pylist()[0]
    assert (row["LA"], row["YEAR"], row["DECOM"], row["DEC"]) == (
        "821",
        2018,
        date(2016, 2, 15),
        date(2017, 8, 14),
    )


def test_a_csv_that_is_no_903_table_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "mystery.csv"
    bad.write_text("CHILD,COLOUR\n1,blue\n", encoding="utf-8")
    with pytest.raises(LoadError) as e:
        read_903([FAKE_903 / "header.csv", bad])
    assert "mystery.csv, row 1" in str(e.value) and "not a 903 table" in str(e.value)


def test_cin_census_xml_with_line_numbers():
    r = read_cin(FAKE_CIN / "fake_CIN_data.xml")
    assert (r.la, r.year, r.kind) == ("975", 2022, "cin")  # the header's LEA and Year
    assert (
        r.rows()["child"] == 332
        and r.rows()["cin_details"] == 402
        and r.rows()["disabilities"] == 117
    )
    first = r.tables["cin_details"].slice(0, 1).to_pylist()[0]
    # the first <CINdetails> starts on line 28 of the file
    assert (first["CHILD"], first["EPISODE"], first["CINreferralDate"], first["_row"]) == (
        "RND000215205141",
        "1",
        "2020-07-13",
        28,
    )
    full = read_cin(FAKE_CIN / "CIN_Census_2021.xml")
    assert full.rows() == {
        "child": 1,
        "disabilities": 2,
        "cin_details": 1,
        "assessments": 1,
        "cin_plans": 1,
        "section47": 1,
        "cp_plans": 1,
    }
    assert full.tables["cp_plans"].to_pylist()[0]["NumberOfPreviousCPP"] == "10"
    # 2024 schema: <Sex> replaces <GenderCurrent>; both land in Sex
    assert read_cin(FAKE_CIN / "CIN_Census_2024.xml").tables["child"].column("Sex").to_pylist() == [
        "1",
        "M",
    ]


def test_malformed_xml_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text("<Message>\n<Header>\n</Message>\n", encoding="utf-8")
    with pytest.raises(LoadError) as e:
        read_cin(bad)
    assert "broken.xml, row 3" in str(e.value)


def test_kind_is_told_from_the_files():
    assert return_kind([FAKE_CIN / "fake_CIN_data.xml"]) == "cin"
    assert return_kind([FAKE_903 / "fake_903.xml"]) == "ssda903"
    assert return_kind(FAKE_903_CSV) == "ssda903"
    assert read_return([FAKE_CIN / "CIN_Census_2021.xml"], la="201", year=2023).year == 2023
