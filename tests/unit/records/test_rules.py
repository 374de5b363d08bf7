"""DfE's 903 rules as data: how many are implemented, that they all run, and what they find."""

from __future__ import annotations

import csv
import dataclasses

import pyarrow as pa
import pytest

from cspa.records.returns import RECORDS_DATA, RecordReturn
from cspa.records.rules import coverage, load_rules, validate
from cspa.records.ssda903 import read_903

from .conftest import FAKE_903, FAKE_903_CSV

IMPLEMENTED, PARTIAL, LISTED = 269, 32, 312  # docs/records.md says the same


def test_rules_implemented_of_dfe_list():
    c = coverage()
    assert (c["implemented"], c["partial"], c["listed"]) == (IMPLEMENTED, PARTIAL, LISTED)
    with (RECORDS_DATA / "903_2024_25_rule_info.csv").open(encoding="utf-8") as f:
        listed = {r["Rule code"] for r in csv.DictReader(f)}
    assert set(load_rules().codes()) <= listed  # every rule is one of DfE's
    assert len(c["not_implemented"]) == LISTED - IMPLEMENTED


def test_every_rule_runs_on_the_fake_return():
    v = validate(read_903(FAKE_903_CSV, la="821"))
    # ten rules need a column the CSV extracts do not have (the UASC flag, PL_LA, PL_LOCATION, PL_DISTANCE)
    skipped = {"105", "303", "420", "169", "1015", "411", "179", "164", "392a", "406"}
    assert len(v.rules_run) == IMPLEMENTED - len(skipped) and set(v.rules_skipped) == skipped
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


def _ep(child, decom, rne, ls, place="U1", dec=None, rec=None, urn="1234567", **kw):
    return {
        "CHILD": child,
        "DECOM": decom,
        "RNE": rne,
        "LS": ls,
        "PLACE": place,
        "PLACE_PROVIDER": "PR1",
        "CIN": "N1",
        "URN": urn,
        **({"DEC": dec, "REC": rec} if dec else {}),
        **kw,
    }


def test_rules_across_episodes_and_tables():
    """Hand-made return (year ending 31 March 2018) for the rules added over several episodes or tables."""
    episodes = [
        # A: police protection (L1) for four days, then an interim care order: 361; B: three days, fine
        _ep("A", "01/05/2017", "S", "L1", dec="05/05/2017", rec="X1"),
        _ep("A", "05/05/2017", "L", "C2"),
        _ep("B", "01/05/2017", "S", "L1", dec="04/05/2017", rec="X1"),
        _ep("B", "04/05/2017", "L", "C2"),
        # C: an emergency protection order over two episodes of 14 and 16 days (30 > 21): 362 on both
        _ep("C", "01/06/2017", "S", "L2", dec="15/06/2017", rec="X1"),
        _ep("C", "15/06/2017", "P", "L2", place="U3", dec="01/07/2017", rec="X1"),
        _ep("C", "01/07/2017", "L", "C2", place="U3"),
        # D: short breaks of 61 and 30 days (91 > 75): 367 on both; the second changes placement: 366
        _ep("D", "01/05/2017", "S", "V3", place="U6", dec="01/07/2017", rec="E13"),
        _ep("D", "01/09/2017", "P", "V3", place="U6", dec="01/10/2017", rec="E13"),
        # E: short breaks under V3 and V4 in one year: 426 on both
        _ep("E", "01/05/2017", "S", "V3", place="U6", dec="03/05/2017", rec="E13"),
        _ep("E", "01/08/2017", "S", "V4", place="U6", dec="03/08/2017", rec="E13"),
        # F: three temporary placements for a foster carer's holiday (T3): 377 on each
        _ep("F", "01/05/2017", "S", "C2", dec="01/06/2017", rec="X1"),
        _ep("F", "01/06/2017", "T", "C2", place="T3", urn=None, dec="05/06/2017", rec="X1"),
        _ep("F", "05/06/2017", "T", "C2", dec="01/07/2017", rec="X1"),
        _ep("F", "01/07/2017", "T", "C2", place="T3", urn=None, dec="05/07/2017", rec="X1"),
        _ep("F", "05/07/2017", "T", "C2", dec="01/08/2017", rec="X1"),
        _ep("F", "01/08/2017", "T", "C2", place="T3", urn=None, dec="05/08/2017", rec="X1"),
        _ep("F", "05/08/2017", "T", "C2"),
        # G: still freed for adoption (D1, open): 451; and no decision to place for adoption: 555
        _ep("G", "01/05/2017", "S", "D1"),
        # H: placement order (E1), left care not adopted, the decision not closed: 557
        _ep("H", "01/05/2017", "S", "E1", dec="01/12/2017", rec="E13"),
        # J: adopted, then looked after again: 199 on the later episode
        _ep("J", "01/04/2017", "S", "E1", place="A3", dec="01/06/2017", rec="E11"),
        _ep("J", "01/09/2017", "S", "C2"),
        # K: the first episode in the return starts in the year but is not a start of care: 357
        _ep("K", "01/05/2017", "P", "C2"),
        # M: a URN for a placement with parents (R1... here R1, residential employment): 222
        _ep("M", "01/05/2017", "S", "C2", place="R1"),
        # N: foster placement with no URN: 218
        _ep("N", "01/05/2017", "S", "C2", urn=None),
        # P: left care after the 17th birthday (1 June 2017), and care leaver information given: 1016
        _ep("P", "01/01/2017", "S", "C2", dec="01/08/2017", rec="E4A"),
        # R and S: looked after for over a year at 31 March (the OC2 cohort)
        _ep("R", "01/01/2016", "S", "C2"),
        _ep("S", "01/01/2016", "S", "C2"),
    ]
    dobs = {"P": "01/06/2000", "Q": "01/01/2000", "R": "01/06/2010", "S": "01/10/2013"}
    children = sorted({e["CHILD"] for e in episodes} | {"L", "Q"})
    header = [{**H, "CHILD": c, "DOB": dobs.get(c, H["DOB"])} for c in children]
    ret = _ret(
        {
            "header": header,
            "episodes": episodes,
            "placed_adoption": [
                # L: the decision ceased before the year began: 118
                {"CHILD": "L", "DOB": H["DOB"], "DATE_PLACED": "01/06/2016"}
                | {"DATE_PLACED_CEASED": "01/03/2017", "REASON_PLACED_CEASED": "RD1"},
            ],
            "oc3": [
                # P: 17 in the year, living with former foster carers: 3001 (and 1016 above)
                {"CHILD": "P", "DOB": dobs["P"], "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "Z1"},
                # Q: under 18 at the start of the year, in a Foyer (T): 347
                {"CHILD": "Q", "DOB": dobs["Q"], "IN_TOUCH": "YES", "ACTIV": "F1", "ACCOM": "T1"},
            ],
            "oc2": [
                # R: aged 6, no score and reason SDQ1 (too young for a questionnaire): 157
                {"CHILD": "R", "DOB": dobs["R"], "SDQ_REASON": "SDQ1"},
                # S: four during the year, neither score nor reason: 197B
                {"CHILD": "S", "DOB": dobs["S"]},
            ],
            "sw_episodes": [
                # R: the only social worker episode ended before 31 March, R still looked after: SW11
                {"CHILD": "R", "DOB": dobs["R"], "SW_ID": "SW1", "SW_DECOM": "01/01/2016"}
                | {"SW_DEC": "01/02/2018", "SW_REASON": "MANAGE"},
                # S: starts after the year (SW06), with a reason that is not a code (SW13)
                {"CHILD": "S", "DOB": dobs["S"], "SW_ID": "SW2", "SW_DECOM": "01/05/2018"}
                | {"SW_REASON": "BADRSN"},
                # S: ended more than a year before the year began: SW07
                {"CHILD": "S", "DOB": dobs["S"], "SW_ID": "SW3", "SW_DECOM": "01/01/2016"}
                | {"SW_DEC": "01/02/2016", "SW_REASON": "MANAGE"},
            ],
        }
    )
    v = validate(ret)
    found = {(f.rule, f.child, f.row) for f in v.findings}
    by_rule: dict[str, set] = {}
    for rule, child, row in found:
        by_rule.setdefault(rule, set()).add((child, row))

    def rows(child: str, *nth: int) -> set:
        idx = [i + 2 for i, e in enumerate(episodes) if e["CHILD"] == child]
        return {(child, idx[n]) for n in nth}

    assert by_rule["361"] == rows("A", 0)
    assert by_rule["362"] == rows("C", 0, 1)
    assert by_rule["367"] == rows("D", 0, 1)
    assert by_rule["366"] == rows("D", 1)
    assert by_rule["426"] == rows("E", 0, 1)
    assert by_rule["377"] == rows("F", 1, 3, 5)
    assert by_rule["451"] == rows("G", 0)
    assert by_rule["555"] == rows("G", 0)
    assert by_rule["557"] == rows("H", 0)
    assert by_rule["199"] == rows("J", 1)
    assert by_rule["357"] == rows("K", 0)
    assert by_rule["222"] == rows("M", 0)
    assert by_rule["218"] == rows("N", 0)  # T3 placements need no URN
    assert by_rule["1016"] == {("P", 2)} and by_rule["3001"] == {("P", 2)}
    assert by_rule["347"] == {("Q", 3)}
    assert by_rule["118"] == {("L", 2)}
    assert by_rule["157"] == {("R", 2)} and by_rule["197B"] == {("S", 3)}
    assert by_rule["SW11STG2"] == {("R", 2)}
    assert by_rule["SW06STG2"] == by_rule["SW13STG1"] == {("S", 3)}
    assert by_rule["SW07STG2"] == {("S", 4)}
    # open episodes of children with no social worker episode (all but R and S)
    assert {c for c, _ in by_rule["SW01STG1"]} == {"A", "B", "C", "F", "G", "J", "K", "M", "N"}
    assert "364" not in by_rule and "363" not in by_rule and "556" not in by_rule
    # a return without social worker episodes is not asked for them
    no_sw = RecordReturn(
        "ssda903",
        {k: t for k, t in ret.tables.items() if k != "sw_episodes"},
        [],
        la="821",
        year=2018,
    )
    assert "SW01STG1" in validate(no_sw).rules_skipped


def test_placement_in_the_authoritys_own_area():
    """Rules 1015 and 411 compare PL_LA with the authority's ONS code (Luton, 821: E06000032)."""
    own, other = "E06000032", "E06000033"
    episodes = [
        # X: own provision in a children's home in another area: 1015
        _ep("X", "01/05/2017", "S", "C2", place="K2", PL_LA=other, PL_LOCATION="OUT"),
        # Y: said to be inside the authority, but PL_LA names another: 411
        _ep("Y", "01/05/2017", "S", "C2", PL_LA=other, PL_LOCATION="IN"),
        # Z: own provision in its own area, inside: neither; W: foster care elsewhere by PR1: allowed
        _ep("Z", "01/05/2017", "S", "C2", place="K2", PL_LA=own, PL_LOCATION="IN"),
        _ep("W", "01/05/2017", "S", "C2", place="U1", PL_LA=other, PL_LOCATION="OUT"),
    ]
    header = [{**H, "CHILD": c} for c in "WXYZ"]
    ret = _ret({"header": header, "episodes": episodes})
    v = validate(ret)
    assert {(f.rule, f.child) for f in v.findings if f.rule in ("1015", "411")} == {
        ("1015", "X"),
        ("411", "Y"),
    }
    unknown = RecordReturn("ssda903", ret.tables, [], la="999", year=2018)
    assert "not known" in validate(unknown).rules_skipped["1015"]


def test_social_worker_episodes_at_each_start_and_end_of_care():
    """SW12 as DfE's validator reads it (year ending 31 March 2018): an episode starting care (S) or
    ending it (other than X1), ended from 1 April 2016 on or still open, fails unless each of the
    child's social worker episodes began on or after the start (S) or by the end (an ending)."""

    def sw(child: str, decom: str) -> dict:
        return {"CHILD": child, "DOB": H["DOB"], "SW_ID": "SW1", "SW_DECOM": decom} | {
            "SW_REASON": "MANAGE"
        }

    episodes = [
        _ep("A", "01/01/2018", "S", "C2"),  # a social worker from the day care began: passes
        _ep("B", "01/01/2018", "S", "C2"),  # no social worker episode: fails
        _ep("C", "01/01/2018", "S", "V4"),  # short breaks are not asked: passes
        # D: care began (X1: a new episode follows) and ended (E4A); one social worker between: passes
        _ep("D", "01/06/2017", "S", "C2", dec="01/09/2017", rec="X1"),
        _ep("D", "01/09/2017", "P", "C2", dec="01/12/2017", rec="E4A"),
        # E: a social worker since before care began: fails (DfE pairs the start with that episode)
        _ep("E", "01/06/2017", "S", "C2"),
        # F: left care before 1 April 2016: not asked
        _ep("F", "01/01/2015", "S", "C2", dec="01/02/2016", rec="E4A"),
    ]
    ret = _ret(
        {
            "header": [{**H, "CHILD": c} for c in "ABCDEF"],
            "episodes": episodes,
            "sw_episodes": [sw("A", "01/01/2018"), sw("D", "01/07/2017"), sw("E", "01/01/2017")],
        }
    )
    rules = load_rules()
    sw12 = dataclasses.replace(rules, rules=[r for r in rules.rules if r["code"] == "SW12STG2"])
    found = {(f.child, f.row) for f in validate(ret, sw12).findings}
    assert found == {("B", 3), ("E", 7)}
