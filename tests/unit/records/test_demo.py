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
