"""The demo database holds the measures computed from the fake returns, and a report shows them."""

from __future__ import annotations


def test_demo_holds_the_fake_returns_measures(demo_con):
    rows = dict(
        demo_con.execute(
            """SELECT indicator || '/' || measure, numerator FROM observation_current
               WHERE indicator LIKE 'REC_%' AND area = '821'"""
        ).fetchall()
    )
    # from the fake 903 return (year ending 31 March 2018) and CIN census (year ending 31 March 2022)
    assert rows["REC_CLA_31MAR/count"] == 1201
    assert rows["REC_ADOPTED/value"] == 82
    assert rows["REC_REFERRALS/value"] == 54
    assert len(rows) == 17
    kinds = demo_con.execute(
        "SELECT kind, la, period, is_current FROM record_return ORDER BY kind"
    ).fetchall()
    assert kinds == [("cin", "821", "2021-22", True), ("ssda903", "821", "2017-18", True)]
    src = demo_con.execute(
        "SELECT DISTINCT source FROM observation_current WHERE indicator = 'REC_CLA_31MAR'"
    ).fetchall()
    assert "FAKE SSDA903 return" in src[0][0]


def test_records_report_shows_them(demo_con):
    from cspa.outputs.document_apa import build_apa_document

    doc = build_apa_document(demo_con, "Luton", 2018, "records")
    by_code = {i["code"]: i for i in doc["indicators"]}
    cla = by_code["REC_CLA_31MAR"]
    shown = {(o["measure_id"], o["period"]): o["display"] for o in cla["observations"]}
    assert shown[("count", "2017-18")] == "1,201"
    assert shown[("rate", "2017-18")] == "207"  # 1,201 / 58,006 children x 10,000
    # the report says where the figures come from: fake returns, and which rules checked them
    vintages = " ".join(doc["attribution"])
    assert "FAKE SSDA903 return" in vintages and "rules 903 2024-25" in vintages
    assert "FAKE SSDA903 return" in next(o["basis"] for o in cla["observations"])


def test_what_the_fake_903_return_cannot_give():
    """Two measures have no figure from the fake 903 return, because the data do not allow one.

    A2 needs, for a child adopted in the year, an episode under a placement order (E1) or freeing
    order (D1) AND an AD1 match date: of the 82 children adopted in the year, 17 had such an order and 2 an
    AD1 record, none both. The distance measure needs PL_DISTANCE, which DfE derives from
    postcodes and the 2018 extracts do not carry (their postcodes are random, so no distance can
    be worked out either)."""
    import duckdb

    from cspa.records.backends import Backend, compute
    from cspa.records.measures import applicable
    from cspa.records.returns import load_spec, typed_tables
    from cspa.records.ssda903 import read_903

    from .conftest import FAKE_903_CSV

    t = typed_tables(read_903(FAKE_903_CSV, la="821"), load_spec("ssda903_tables.yaml"))
    con = duckdb.connect()
    con.register("e", t["episodes"])
    con.register("a", t["ad1"])
    adopted = "SELECT CHILD FROM e WHERE REC IN ('E11', 'E12') AND DEC BETWEEN '2017-04-01' AND '2018-03-31'"
    order = "SELECT CHILD FROM e WHERE LS IN ('E1', 'D1')"
    match = "SELECT CHILD FROM a WHERE DATE_MATCH IS NOT NULL"
    n = lambda q: con.execute(f"SELECT count(DISTINCT CHILD) FROM ({q})").fetchone()[0]  # noqa: E731
    assert n(adopted) == 82
    assert n(f"{adopted} INTERSECT {order}") == 17
    assert n(f"{adopted} INTERSECT {match}") == 2
    assert n(f"{adopted} INTERSECT {order} INTERSECT {match}") == 0
    assert t["episodes"].column("PL_DISTANCE").null_count == t["episodes"].num_rows

    duck = Backend.duckdb()
    tables = duck.from_arrow(t, prefix="fake")
    obs = compute(tables, duck).to_pylist()
    got = {(r["indicator"], r["measure"]) for r in obs}
    # of the measures the 903 tables feed (the rates also need populations), only these two are empty
    assert {(m.indicator, m.measure) for m in applicable(tables)} - got == {
        ("REC_ADOPTION_A2", "value"),
        ("REC_PLACED_20_MILES", "value"),
    }
    assert ("REC_ADOPTION_A1", "value") in got  # A1 needs no AD1: it has a figure


def test_what_the_fake_cin_census_cannot_give():
    """The fake CIN census (fake_CIN_data.xml) holds referrals but no assessments and no child
    protection plans, so of the six CIN measures only referrals and re-referrals have figures."""
    from cspa.records.backends import Backend, compute
    from cspa.records.cin import read_cin
    from cspa.records.returns import load_spec, typed_tables

    from .conftest import FAKE_CIN

    t = typed_tables(
        read_cin(FAKE_CIN / "fake_CIN_data.xml", la="821"), load_spec("cin_tables.yaml")
    )
    assert t["cin_details"].num_rows == 402
    assert t["assessments"].num_rows == 0 and t["cp_plans"].num_rows == 0
    duck = Backend.duckdb()
    obs = compute(duck.from_arrow(t, prefix="fakecin"), duck).to_pylist()
    assert {r["indicator"] for r in obs} == {"REC_REFERRALS", "REC_REREFERRALS_12M"}
