"""Record-level fixtures: the shared fake returns, a crafted return with hand-calculated measures,
and the two backends (Spark tests are marked ``spark`` and share one local[2] session)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from cspa.catalogue.areas import DATA
from cspa.records.returns import arrow_schema, load_spec

FAKE_903 = DATA / "real" / "ssda903"
FAKE_CIN = DATA / "real" / "cin_census"
FAKE_903_CSV = [
    FAKE_903 / f
    for f in (
        "header.csv",
        "episodes.csv",
        "uasc.csv",
        "reviews.csv",
        "missing.csv",
        "oc2.csv",
        "oc3.csv",
        "ad1.csv",
        "placed_for_adoption.csv",
        "previous_permanence.csv",
        "sw_episodes.csv",
        "DoLo.csv",
    )
]


def d(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


def table(schema: pa.Schema, rows: list[dict]) -> pa.Table:
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema})


def crafted() -> dict[str, pa.Table]:
    """A crafted 903 return (LA 821, year ending 31 March 2018) and CIN census (year ending 31 March 2022).

    Each child tests an edge case; tests/unit/records/test_measures.py works each measure out by hand."""
    s903, scin = (
        arrow_schema(load_spec("ssda903_tables.yaml")),
        arrow_schema(load_spec("cin_tables.yaml")),
    )
    Y = {"LA": "821", "YEAR": 2018}

    def ep(child, decom, dec, rne, ls, place, rec=None, dist=None):
        return {
            **Y,
            "CHILD": child,
            "DECOM": d(decom),
            "DEC": d(dec),
            "RNE": rne,
            "LS": ls,
            "PLACE": place,
            "REC": rec,
            "PL_DISTANCE": dist,
            "CIN": "N1",
        }

    episodes = [
        # A: three placements in the year, open at 31 March, placed 30 miles away
        ep("A", "2016-01-10", "2017-06-01", "S", "C2", "U1", "X1", 5.0),
        ep("A", "2017-06-01", "2017-09-01", "P", "C2", "U2", "X1", 25.0),
        ep("A", "2017-09-01", None, "P", "C2", "K2", None, 30.0),
        # B: started in the year and ceased on 31 March itself (so not looked after at 31 March)
        ep("B", "2017-05-01", "2018-03-31", "S", "V2", "U3", "E13"),
        # C: two episodes on one day (a start, then a change of legal status): counted once
        ep("C", "2018-02-10", "2018-02-10", "S", "C1", "U3", "X1"),
        ep("C", "2018-02-10", None, "L", "C2", "U3"),
        # D: adopted in the year: care 2015-03-01, placement order 2016-05-01, with adopters 2016-11-01
        ep("D", "2015-03-01", "2016-05-01", "S", "C2", "U3", "X1"),
        ep("D", "2016-05-01", "2016-11-01", "L", "E1", "U3", "X1"),
        ep("D", "2016-11-01", "2017-07-01", "P", "E1", "A6", "E11"),
        # E: short breaks (V3) are left out of everything
        ep("E", "2018-03-20", None, "S", "V3", "U6"),
        # F: no start date (a missing date): left out
        ep("F", None, None, "S", "C2", "U3"),
        # G: looked after since 2014 in one placement, aged 9: long-term stable
        ep("G", "2014-01-01", None, "S", "C2", "U1", None, 10.0),
        # H: looked after since 2015, moved in January 2017, aged 12: in the cohort, not stable
        ep("H", "2015-01-01", "2017-01-01", "S", "C2", "U1", "X1"),
        ep("H", "2017-01-01", None, "P", "C2", "U2", None, 22.0),
        # I: 16th birthday on 31 March: not under 16, so outside the long-term cohort
        ep("I", "2014-06-01", None, "S", "C2", "U1"),
        # K: a start and a change of legal status on one day, then a move: two placements, not three
        ep("K", "2017-05-01", "2017-05-01", "S", "C1", "U1", "X1"),
        ep("K", "2017-05-01", "2017-09-01", "L", "C2", "U1", "X1"),
        ep("K", "2017-09-01", None, "P", "C2", "U2"),
    ]
    dobs = {
        "A": "2001-03-01",
        "B": "2010-01-01",
        "C": "2012-01-01",
        "D": "2014-06-01",
        "E": "2009-01-01",
        "F": "2010-01-01",
        "G": "2008-05-05",
        "H": "2006-01-01",
        "I": "2002-03-31",
        "K": "2010-01-01",
    }
    header = [{**Y, "CHILD": c, "DOB": d(v), "SEX": "M"} for c, v in dobs.items()]
    ad1 = [
        {
            **Y,
            "CHILD": "D",
            "DOB": d(dobs["D"]),
            "DATE_INT": d("2016-04-01"),
            "DATE_MATCH": d("2016-09-01"),
        }
    ]
    missing = [
        {
            **Y,
            "CHILD": "A",
            "MISSING": "M",
            "MIS_START": d("2017-05-01"),
            "MIS_END": d("2017-05-03"),
        },
        {
            **Y,
            "CHILD": "A",
            "MISSING": "M",
            "MIS_START": d("2017-10-01"),
            "MIS_END": d("2017-10-02"),
        },
        {
            **Y,
            "CHILD": "B",
            "MISSING": "A",
            "MIS_START": d("2017-06-01"),
            "MIS_END": d("2017-06-02"),
        },
        {
            **Y,
            "CHILD": "G",
            "MISSING": "M",
            "MIS_START": d("2017-03-01"),
            "MIS_END": d("2017-03-05"),
        },
        {**Y, "CHILD": "H", "MISSING": "M", "MIS_START": None, "MIS_END": None},
    ]
    oc3 = [
        {**Y, "CHILD": f"L{i}", "IN_TOUCH": t, "ACTIV": a, "ACCOM": c}
        for i, (t, a, c) in enumerate(
            [
                ("YES", "F1", "B1"),
                ("NO", "G5", "C2"),
                ("DIED", "0", "0"),
                ("YES", "P2", "K2"),
                ("REFU", "0", "0"),
            ]
        )
    ]
    C = {"LA": "821", "YEAR": 2022}

    def ref(child, n, date_):
        return {**C, "CHILD": child, "EPISODE": n, "CINreferralDate": d(date_)}

    cin_details = [
        ref("X", 1, "2020-06-01"),
        ref("X", 2, "2021-05-01"),  # 334 days: a re-referral
        ref("Y", 1, "2021-04-01"),
        ref("Y", 2, "2021-04-01"),  # same day: a re-referral
        ref("Z", 1, "2022-03-31"),  # last day of the year
        ref("W", 1, "2019-01-01"),
        ref("W", 2, "2021-06-01"),  # 882 days: not within 12 months
        ref("V", 1, "2022-04-01"),  # after the year
        ref("U", 1, None),
    ]  # no referral date

    def asmt(start, auth):
        return {
            **C,
            "CHILD": "X",
            "EPISODE": 2,
            "AssessmentActualStartDate": d(start),
            "AssessmentAuthorisationDate": d(auth),
        }

    assessments = [
        asmt("2021-06-07", "2021-08-09"),  # Monday to Monday nine weeks on: 45 working days
        asmt("2021-06-07", "2021-08-10"),  # 46 working days
        asmt("2021-03-01", "2021-03-30"),  # authorised before the year
        asmt(None, "2021-07-01"),  # no start date
        asmt("2021-12-31", "2022-01-03"),
    ]  # Friday to Monday: 1 working day

    def plan(child, start, end, prev=0):
        return {
            **C,
            "CHILD": child,
            "EPISODE": 1,
            "CPPstartDate": d(start),
            "CPPendDate": d(end),
            "NumberOfPreviousCPP": prev,
        }

    cp_plans = [
        plan("X", "2021-05-10", None),
        plan("Y", "2019-01-01", "2019-06-01"),
        plan("Y", "2021-09-01", None),
        plan("Z", "2020-03-31", None),
        plan("W", "2022-02-01", "2022-03-31", 2),
        plan("V", "2020-04-01", None),
    ]
    population = pa.table(
        {"LA": ["821", "822"], "YEAR": pa.array([2018, 2018], pa.int32()), "POP": [1000, 5000]}
    )
    return {
        "episodes": table(s903["episodes"], episodes),
        "header": table(s903["header"], header),
        "ad1": table(s903["ad1"], ad1),
        "missing": table(s903["missing"], missing),
        "oc3": table(s903["oc3"], oc3),
        "cin_details": table(scin["cin_details"], cin_details),
        "assessments": table(scin["assessments"], assessments),
        "cp_plans": table(scin["cp_plans"], cp_plans),
        "population": population,
    }


@pytest.fixture(
    params=[
        "duckdb",
        pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
    ]
)
def backend(request):
    """Each backend in turn (ibis's test style): DuckDB in process, Spark on the shared local[2] session."""
    from cspa.records.backends import Backend

    if request.param == "spark":
        import shutil

        if not shutil.which("java"):
            pytest.skip("Spark needs Java: .ci/run installs Debian's default-jre-headless")
    return Backend.named(request.param)
