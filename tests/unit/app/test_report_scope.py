"""Reports are about the area asked for, as it stood in the year asked for (issue 18).

Every report kind is built for authorities other than Luton (Kent, Birmingham and North
Northamptonshire, created in the 2021 reorganisation), for an abolished authority
(Northamptonshire, Bedfordshire) and for a past year, and checked to hold that authority's own
figures only, no period after the year, and a refusal (exit 1) naming what the store does hold
where the authority has no figures.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest

from cspa.app.reports import ReportRequest, build_report
from cspa.errors import CspaError
from cspa.outputs.json_out import to_json

OTHERS = ("Kent", "Birmingham", "North Northamptonshire")
#: What another authority's report must never show: Luton's own geographies and Luton itself.
LUTON_WORDS = re.compile(r"Luton|LUTON")


def _text(doc: dict) -> str:
    return to_json(doc)


def _own_geographies(doc: dict) -> set[str]:
    return {
        o["geography"]
        for ind in doc.get("indicators") or []
        for o in ind.get("observations") or []
        if o.get("geography")
    }


# ----------------------------------------------------------------------------- apa-dataset


def test_kent_2008_is_refused_naming_what_kent_has(demo_con):
    """The 2008 dataset cspa holds is Luton's, as published by September 2008 (its ``as_at``,
    issue 17): Kent's only figures under it are DfE's exclusion statistics of a 2018 release, which
    the 2008 document never showed. So there is no 2008 report of Kent, and the refusal names
    what there is, leaving out what the 2008 dataset would not show (a refusal that pointed at
    ``--framework apa2008`` would lead to another refusal)."""
    with pytest.raises(CspaError) as e:
        build_report(demo_con, ReportRequest("apa-dataset", "kent", year=2008), "json")
    text = " ".join(str(e.value).split())
    assert text.startswith("Kent has no figures in the Annual Performance Assessment dataset 2008")
    assert not LUTON_WORDS.search(text)
    holds = text[text.index("cspa holds") :]
    assert "--framework apa2008" not in holds
    assert re.search(r"--framework lait\): \d+ indicators, periods ending 20\d\d to 20\d\d", holds)
    assert re.search(r"--framework dfe_csc\): \d+ indicators", holds)


def test_luton_2008_keeps_its_own_pct_drug_action_team_and_trust(demo_con):
    doc = build_report(demo_con, ReportRequest("apa-dataset", "luton", year=2008), "json")
    geos = _own_geographies(doc)
    # the catalogue maps these to Luton (seed_geographies*.csv, parent 821)
    assert {"LUTON PCT", "BEDFORDSHIRE AND LUTON COMMUNITY NHS TRUST", "EAST ANGLIA"} <= geos
    assert len(doc["indicators"]) == 109  # the published document's subject: every indicator


@pytest.mark.parametrize("area", OTHERS)
def test_current_report_of_another_authority_holds_only_its_own_figures(demo_con, area):
    doc = build_report(
        demo_con, ReportRequest("apa-dataset", area, year=2025, framework="lait"), "html"
    )
    assert doc["area"]["name"] == area
    assert not LUTON_WORDS.search(_text(doc))
    assert _own_geographies(doc) <= {"area", "region", "england", "statistical_neighbours"}
    assert len(doc["indicators"]) > 300


def _period_ends(con, framework: str) -> dict[tuple[str, str], dt.date]:
    return {
        (i, label): end
        for i, label, end in con.execute(
            "SELECT o.indicator, o.period_label, max(o.period_end) FROM observation o "
            "JOIN indicator i ON i.code = o.indicator WHERE i.framework = ? GROUP BY ALL",
            [framework],
        ).fetchall()
    }


@pytest.mark.parametrize("area", ["Luton", "Northamptonshire"])
def test_a_2019_report_has_no_period_after_2019(demo_con, area):
    """Luton as in the issue; Northamptonshire, abolished in 2021, as it stood in 2019."""
    doc = build_report(
        demo_con, ReportRequest("apa-dataset", area, year=2019, framework="lait"), "json"
    )
    ends = _period_ends(demo_con, "lait")
    periods = {(ind["code"], o["period"]) for ind in doc["indicators"] for o in ind["observations"]}
    assert periods
    late = sorted(p for p in periods if ends[p] > dt.date(2019, 12, 31))
    assert late == []
    assert max(ends[p] for p in periods).year == 2019
    assert doc["period"] == "2019"
    # the neighbour group then: DfE's April 2021 model, the earliest cspa holds (and says so)
    assert [a["group"] for a in doc["appendices"]] == ["dfe_2021"]
    assert any("earliest model cspa holds" in s for s in doc["scope"])
    assert any("31 December 2019" in s for s in doc["scope"])
    # ranks are among the authorities that existed then and had a figure: never more than the
    # 152 of 2009-2019 (LAIT back-casts North Northamptonshire, BCP, Cumberland ... into these
    # years beside their predecessors: a Kent report printed "rank 1 of 158")
    judged = [j for ind in doc["indicators"] for j in ind["judgements"] if j.get("rank_of")]
    assert judged and max(j["rank_of"] for j in judged) <= 152
    own = [j for j in judged if j["geography"] == "area" and j["period"] in ("2018", "2019")]
    assert own  # the authority's own figures are ranked (Northamptonshire existed in 2019)


def test_a_2019_report_is_not_the_2025_report(demo_con):
    then = build_report(demo_con, ReportRequest("apa-dataset", "luton", 2019, framework="lait"))
    now = build_report(demo_con, ReportRequest("apa-dataset", "luton", 2025, framework="lait"))

    def latest(doc):
        return {i["code"]: i["table"]["columns"][-1] for i in doc["indicators"]}

    before, after = latest(then), latest(now)
    common = set(before) & set(after)
    assert len(common) > 300
    assert sum(before[c] != after[c] for c in common) > 300  # years later in nearly every table


def test_an_abolished_authority_is_refused_after_it_ceased_saying_what_exists(demo_con):
    with pytest.raises(CspaError) as e:
        build_report(
            demo_con, ReportRequest("apa-dataset", "northamptonshire", 2025, framework="lait")
        )
    text = str(e.value)
    assert "ceased on 1 April 2021" in text
    assert "North Northamptonshire, West Northamptonshire" in text
    assert "ask for 2020 or earlier" in text
    assert "--framework lait" in text  # what it does have


def test_a_year_to_come_is_refused_for_every_report_of_a_year(demo_con, tmp_path):
    """Leeds's LAIT report for 2031 (a mistyped 2021) was written headed 2031 with 2025's figures,
    and a letter for 2029 would have proposed grades for a year no one has inspected; the current
    year is still reported on (a report for it shows the latest periods that have ended)."""
    from cspa.app.batch import render_assessment_all_areas
    from cspa.store.coverage import not_yet

    later = dt.date.today().year + 1
    for request in (
        ReportRequest("apa-dataset", "leeds", later, framework="lait"),
        ReportRequest("letter", "leeds", later),
        ReportRequest("profile", "leeds", later),
    ):
        with pytest.raises(
            CspaError, match=f"^{later} has not come yet .*ask for {later - 1} or earlier"
        ):
            build_report(demo_con, request, "json")
    # a batch of letters said nothing and wrote none (each authority's refusal read as "no figures")
    with pytest.raises(CspaError, match="has not come yet"):
        render_assessment_all_areas(demo_con, "letter", later, "json", tmp_path)
    assert not list(tmp_path.iterdir())
    today = dt.date(2026, 12, 7)
    assert not_yet(2026, today) is None and not_yet(2021, today) is None
    assert not_yet(2027, today) == (
        "2027 has not come yet (today is 7 December 2026): a report for a year is of the periods "
        "ending by then; ask for 2026 or earlier."
    )


def test_bedfordshire_2008_is_refused_saying_what_it_has(demo_con):
    """Bedfordshire (820), abolished in 2009, existed in 2008; its only figures under the 2008
    dataset are of a later release (as Kent's), so the report is refused, naming what exists."""
    with pytest.raises(CspaError) as e:
        build_report(demo_con, ReportRequest("apa-dataset", "bedfordshire", 2008), "json")
    text = " ".join(str(e.value).split())
    assert text.startswith("Bedfordshire has no figures in the Annual Performance Assessment")
    assert "--framework apa2008" not in text[text.index("cspa holds") :]


def test_cli_refusal_exits_1_with_the_frameworks_and_years_there_are(demo_db):
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cspa",
            "report",
            "quarterly",
            "--area",
            "kent",
            "--period",
            "2007-08-Q4",
            "--db",
            str(demo_db),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    out = " ".join(r.stderr.split())
    assert "Kent has no figures" in out and "quarterly2008" in out
    assert re.search(r"--framework lait\): \d+ indicators, periods ending 20\d\d to 20\d\d", out)


# ------------------------------------------------------------------------- other report kinds


@pytest.mark.parametrize("area", OTHERS)
def test_current_quarterly_report_of_another_authority(demo_con, area):
    doc = build_report(demo_con, ReportRequest("quarterly", area, period="2024-25-Q4"), "json")
    assert doc["area"]["name"] == area
    assert not LUTON_WORDS.search(_text(doc))
    figures = [
        o
        for ind in doc["indicators"]
        for o in ind["observations"]
        if o["geography"] == "area" and o["value"] is not None
    ]
    assert figures


def test_quarterly_report_of_an_abolished_authority_when_it_existed(demo_con):
    doc = build_report(
        demo_con, ReportRequest("quarterly", "northamptonshire", period="2019-20-Q4"), "json"
    )
    assert doc["area"]["dfe_code"] == "928"
    assert any(
        o["geography"] == "area" and o["value"] is not None
        for ind in doc["indicators"]
        for o in ind["observations"]
    )
    with pytest.raises(CspaError, match="ceased on 1 April 2021"):
        build_report(demo_con, ReportRequest("quarterly", "northamptonshire", period="2024-25-Q4"))


def test_the_2008_quarterly_report_is_refused_for_kent(demo_con):
    with pytest.raises(CspaError, match=r"Kent has no figures .*quarterly2008"):
        build_report(demo_con, ReportRequest("quarterly", "kent", period="2007-08-Q4"))


@pytest.mark.parametrize("kind", ["profile", "letter"])
@pytest.mark.parametrize("area", OTHERS)
def test_current_profile_and_letter_of_another_authority(demo_store, letter, kind, area):
    # a letter as the report command builds it (app.reports._letter), prepared once for all three
    doc = (
        letter(area, 2025)
        if kind == "letter"
        else build_report(demo_store.con, ReportRequest(kind, area, year=2025), "json")
    )
    assert doc["area"]["name"] == area
    assert not LUTON_WORDS.search(_text(doc))
    if kind == "letter":
        assert any(g["grade"] is not None for g in doc["grades"])
    else:
        assert doc["indicators"]


@pytest.mark.parametrize("kind", ["profile", "letter"])
@pytest.mark.parametrize(("area", "year"), [("Kent", 2011), ("Northamptonshire", 2025)])
def test_profile_and_letter_are_refused_where_the_authority_has_no_evidence(
    demo_store, kind, area, year
):
    with pytest.raises(CspaError) as e:
        build_report(demo_store.con, ReportRequest(kind, area, year=year))
    assert f"cspa holds {area}'s own figures for" in str(e.value)


def test_a_year_no_framework_covers_is_refused_naming_the_years_each_covers(demo_con):
    with pytest.raises(CspaError) as e:
        build_report(demo_con, ReportRequest("apa-dataset", "leeds", 1990), "json")
    text = str(e.value)
    assert text.startswith(
        "no framework reports on 1990 by default: apa2008 (2006-2011); lait (2012-"
    )
    assert text.endswith("give --framework for another year")
