"""DfE's 903 rules as data: how many are implemented, that they all run, and what they find."""

from __future__ import annotations

import csv

import pyarrow as pa
import pytest

from cspa.records.returns import RECORDS_DATA, RecordReturn
from cspa.records.rules import coverage, load_rules, validate
from cspa.records.ssda903 import read_903

from .conftest import FAKE_903, FAKE_903_CSV

IMPLEMENTED, PARTIAL, LISTED = 234, 23, 312  # docs/records.md says the same


def test_rules_implemented_of_dfe_list():
    c = coverage()
    assert (c["implemented"], c["partial"], c["listed"]) == (IMPLEMENTED, PARTIAL, LISTED)
    with (RECORDS_DATA / "903_2024_25_rule_info.csv").open(encoding="utf-8") as f:
        listed = {r["Rule code"] for r in csv.DictReader(f)}
    assert set(load_rules().codes()) <= listed  # every rule is one of DfE's
    assert len(c["not_implemented"]) == LISTED - IMPLEMENTED


def test_every_rule_runs_on_the_fake_return():
    v = validate(read_903(FAKE_903_CSV, la="821"))
    # 234 rules, three of which need a column the CSV extracts do not have (UASC flag, PL_LA, PL_DISTANCE)
    assert len(v.rules_run) == IMPLEMENTED - 3 and set(v.rules_skipped) == {"105", "420", "164"}
    counts = v.counts()
    assert v.ok  # the default blocking rules pass: the fake return loads
    # what the fixtures break on purpose (shared data README): overlapping episodes, open episodes with a
    # reason for ceasing, and the pre-2024 sex codes 1/2 that the 2024-25 rule 101 no longer accepts
    assert counts["501"] == 62 and counts["148"] == 1413 and counts["101"] == 2675


def _ret(tables: dict[str, list[dict]]) -> RecordReturn:
    out = {}
    for name, rows in tables.items():
        cols = sorted({k for r in rows for k in r})
        out[name] = pa.table(
            {
                **{c: pa.array([r.get(c) for r in rows], pa.string()) for c in cols},
                "_file": pa.array([f"{name}.csv"] * len(rows)),
                "_row": pa.array(range(2, len(rows) + 2), pa.int64()),
            }
        )
    return RecordReturn("ssda903", out, [], la="821", year=2018)


H = {"CHILD": "1", "SEX": "M", "DOB": "01/01/2010", "ETHNIC": "WBRI", "UPN": "A123456789012"}


def test_findings_name_file_row_child_field_and_rule():
    ret = _ret(
        {
            "header": [H, {**H, "CHILD": "2", "DOB": "31/02/2010"}, H],
            "episodes": [
                {
                    "CHILD": "1",
                    "DECOM": "01/05/2017",
                    "RNE": "S",
                    "LS": "C2",
                    "PLACE": "U1",
                    "PLACE_PROVIDER": "PR1",
                    "DEC": "01/06/2017",
                    "REC": "X1",
                    "CIN": "N1",
                },
                {
                    "CHILD": "1",
                    "DECOM": "20/05/2017",
                    "RNE": "Q",
                    "LS": "C2",
                    "PLACE": "U1",
                    "PLACE_PROVIDER": "PR1",
                    "CIN": "N1",
                },
                {
                    "CHILD": "9",
                    "DECOM": "01/05/2017",
                    "RNE": "S",
                    "LS": "C2",
                    "PLACE": "U1",
                    "CIN": "N1",
                    "PLACE_PROVIDER": "PR1",
                    "DEC": "01/05/2017",
                    "REC": "E13",
                },
            ],
        }
    )
    v = validate(ret)
    found = {(f.rule, f.file, f.row, f.child, f.field) for f in v.findings}
    assert ("102", "header.csv", 3, "2", "DOB") in found  # 31 February is no date
    assert ("INT32", "header.csv", 4, "1", None) in found  # child 1 twice
    assert ("501", "episodes.csv", 3, "1", "DECOM") in found  # starts before the previous one ended
    assert ("143", "episodes.csv", 3, "1", "RNE") in found  # Q is no reason for a new episode
    assert ("INT03", "episodes.csv", 4, "9", None) in found  # no header for child 9
    assert ("355", "episodes.csv", 4, "9", "DEC") in found  # ended the day it began
    assert not v.ok and {f.rule for f in v.blocking} == {"102", "INT32", "INT03"}
    text = str(next(f for f in v.findings if f.rule == "102"))
    assert text.startswith(
        "header.csv, row 3, child 2, field DOB: rule 102: Date of birth is not a valid date."
    )


def test_blocking_rules_are_configuration():
    ret = read_903(FAKE_903_CSV[:2], la="821")
    assert validate(ret, load_rules(blocking=["501"])).blocking[0].rule == "501"
    assert validate(ret, load_rules(blocking=[])).ok
    with pytest.raises(Exception, match="not rules of the"):
        load_rules(blocking=["XYZ"])


def test_xml_header_uasc_flag_is_checked_when_present():
    v = validate(read_903([FAKE_903 / "fake_903.xml"], la="821"))
    assert (
        "105" in v.rules_run and v.counts()["105"] == 241
    )  # <UASC /> left empty: 241 of the 253 children
