"""Inspection evidence as at a date: the latest judgement of each kind is current, older ones history.

Real Ofsted data in the demo database (LA inspections 2009-2023, ILACS history to 31 March 2025).
Luton (821): SIF published 29/03/2016, ILACS published 24/02/2020 (inadequate) and 05/09/2022
(requires improvement; leaders good). Durham (840): SLAC 2012, SIF 2016, ILACS published
21/10/2019, 05/07/2022 and 13/05/2025 (inspected 24/03/2025).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cspa.assessment.inspections import INSPECTIONS, build_inspections


def _current(con, area: str, as_at: dt.date) -> dict[str, tuple]:
    """Per area of practice: (framework, published, grade) of the current judgement."""
    build_inspections(con, as_at)
    rows = con.execute(
        f"""SELECT ja, framework, published_text, grade FROM {INSPECTIONS}, unnest(judgement_areas) u(ja)
                           WHERE area = ? AND current ORDER BY ja""",
        [area],
    ).fetchall()
    out: dict[str, tuple] = {}
    for ja, fw, pub, grade in rows:
        assert ja not in out or out[ja][1] == pub, f"two current judgements for {ja}"
        out[ja] = (fw, pub, grade)
    return out


def test_luton_2025_reads_the_2022_ilacs_for_every_ilacs_area(demo_con):
    cur = _current(demo_con, "821", dt.date(2025, 8, 31))
    for ja in (
        "overall_effectiveness",
        "leadership",
        "help_and_protection",
        "children_in_care",
        "care_leavers",
    ):
        assert cur[ja][:2] == ("ILACS", "05/09/2022"), ja
    assert [
        cur[ja][2]
        for ja in (
            "overall_effectiveness",
            "leadership",
            "help_and_protection",
            "children_in_care",
            "care_leavers",
        )
    ] == [3, 2, 3, 3, 3]
    # the 2020 inspection is history, superseded when the 2022 one was published
    hist = demo_con.execute(f"""SELECT judgement, grade, superseded_on FROM {INSPECTIONS}
                                WHERE area = '821' AND framework = 'ILACS' AND published = DATE '2020-02-24'
                                ORDER BY judgement""").fetchall()
    assert hist == [
        ("children_in_care_and_care_leavers", 3, dt.date(2022, 9, 5)),
        ("help_and_protection", 4, dt.date(2022, 9, 5)),
        ("impact_of_leaders", 3, dt.date(2022, 9, 5)),
        ("overall_effectiveness", 4, dt.date(2022, 9, 5)),
    ]


def test_an_authority_inspected_several_times_as_at_each_date(demo_con):
    # before any ILACS: SIF 2016 is current for its areas and has superseded SLAC 2012's safeguarding
    cur = _current(demo_con, "840", dt.date(2018, 8, 31))
    assert cur["overall_effectiveness"] == ("SIF", "16/05/2016", 3)
    assert cur["help_and_protection"] == ("SIF", "16/05/2016", 3)
    assert cur["care_leavers"] == ("SIF", "16/05/2016", 2)
    assert cur["LSCB:overall_effectiveness"] == ("LSCB", "16/05/2016", 2)  # a kind of its own
    slac = demo_con.execute(f"""SELECT current, superseded_on FROM {INSPECTIONS} WHERE area = '840'
                                AND judgement = 'safeguarding_overall_effectiveness'""").fetchall()
    assert slac == [(False, dt.date(2016, 5, 16))]
    # inspected on 24/03/2025 but published on 13/05/2025: at 30 April 2025 the 2022 inspection is still current
    cur = _current(demo_con, "840", dt.date(2025, 4, 30))
    assert cur["overall_effectiveness"] == ("ILACS", "05/07/2022", 2)
    assert cur["leadership"] == ("ILACS", "05/07/2022", 1)
    n = demo_con.execute(
        f"SELECT count(*) FROM {INSPECTIONS} WHERE area = '840' AND published > DATE '2025-04-30'"
    ).fetchall()[0][0]
    assert n == 0  # nothing published after the date is read at all
    # at 31 August 2025: the 2025 inspection, which judged care leavers on their own
    cur = _current(demo_con, "840", dt.date(2025, 8, 31))
    assert cur["overall_effectiveness"] == ("ILACS", "13/05/2025", 1)
    assert cur["children_in_care"] == ("ILACS", "13/05/2025", 1)
    assert cur["care_leavers"] == ("ILACS", "13/05/2025", 1)
    assert cur["help_and_protection"] == ("ILACS", "13/05/2025", 2)


@pytest.mark.parametrize("area", ["Luton"])
def test_the_2025_letter_cites_the_2022_inspection_for_every_ilacs_judgement(letter, area):
    doc = letter(area, 2025)
    cited = [d for e in doc["evidence"] for d in e["details"] if d["indicator"] == "ILACS"]
    current = [d for d in cited if d["judgement"].startswith("current")]
    assert current, "the letter cites no current ILACS judgement"
    assert {d["period"] for d in current} == {"11/07/2022"}
    # the 2020 inspection appears only as history, with the date it was superseded
    assert {d["judgement"] for d in cited if d["period"] == "13/01/2020"} == {
        "history: superseded 05/09/2022"
    }
    texts = [
        i["text"]
        for i in doc["strengths"] + doc["areas_for_improvement"]
        if i["key"].startswith("inspection:")
    ]
    assert texts and all("2022" in t and "2020" not in t for t in texts)
