"""Golden: the 2006 and 2011 letters carry the grades the seeds print, once moderated.

The flow is the product's: the rule set proposes a grade per judgement from the evidence
(:func:`cspa.assessment.rules.propose`), an inspector confirms or overrides it with a reason
(:func:`cspa.assessment.moderation.moderate`), and the letter uses the moderated result. The
demo database holds the proposals and the moderations by "seed transcription" that reproduce
the printed grades (``cspa.assessment.seed``); these tests check each step on a copy of it.

Grades as printed: 2006 APA letter, nine judgements, all 3 (002:L27-29, L47, L65, L75, L103,
L112, L132; golden ``seed002_004.csv``); 2011 letter, "Performs excellently (4)" (004:L48).
"""

from __future__ import annotations

import pytest

from cspa.assessment.moderation import history, moderate
from cspa.assessment.report import build_letter_document
from cspa.assessment.rules import proposal_rows, propose
from cspa.assessment.ruleset import load_rulesets
from tests.golden.cases import param, read_cases

GRADE_CASES = read_cases("seed002_004.csv")


@pytest.fixture
def store(demo_store):
    return demo_store


def _by_indicator(doc: dict, rs) -> dict:
    ind = {j.id: j.indicator for j in rs.judgements}
    return {ind[g["judgement_id"]]: g for g in doc["grades"]}


@pytest.mark.parametrize(
    "case", [param(c, "002" if c.period == "2006" else "004") for c in GRADE_CASES]
)
def test_moderated_letter_carries_the_printed_grade(case, letter):
    year = int(case.period)
    rs = load_rulesets()["apa_2006" if year == 2006 else "profile_2011"]
    doc = letter("Luton", year)
    g = _by_indicator(doc, rs)[case.indicator]
    assert str(g["grade"]) == case.expected, case.note
    assert g["status"] in ("confirmed", "overridden")
    assert g["moderation"]["by"] == "seed transcription"
    assert g["moderation"]["seed_ref"] == f"{'002' if year == 2006 else '004'}:L{case.seed_line}"


@pytest.mark.golden
def test_2011_proposal_moderation_and_final_letter(store):
    """Proposal 3 (Performs well: 71.5% of providers good or outstanding, 003:L51-57), moderated to the
    printed 4 (004:L48), then changed again by an inspector: every step is kept."""
    rs = load_rulesets()["profile_2011"]
    con = store.con
    # 1. the proposal, with the rule that fired and its evidence
    propose(con, rs, 2011)
    p = proposal_rows(con, "821")[0]
    assert (p["grade"], p["grade_label"]) == (3, "Performs well")
    assert [r["id"] for r in p["rules"]] == ["T3-large-majority"]
    ev = con.execute(
        "SELECT display, ref FROM _cspa_evidence WHERE area = '821' AND evidence_id = 'go_all'"
    ).fetchall()
    assert ev == [("71.5%", "003:L51; 003:L52; 003:L53; 003:L54; 003:L55; 003:L56; 003:L57")]
    # 2. the demo's moderation reproduces the printed grade
    doc = build_letter_document(con, "Luton", 2011)
    g = doc["grades"][0]
    assert (g["grade"], g["label"], g["status"], g["proposed_grade"]) == (
        4,
        "Performs excellently",
        "overridden",
        3,
    )
    assert doc["grade_table"] == [
        {
            "judgement": "Children's services assessment",
            "grade": 4,
            "label": "Performs excellently",
            "status": "overridden",
        }
    ]
    assert doc["summary"][0] == "Children's services in Luton perform excellently."
    assert (
        doc["addressee"][0] == "Mr Martin Pratt" and doc["date"] == "8 November 2011"
    )  # 004:L19-21
    # 3. an inspector changes it again: the letter follows, and nothing is lost
    moderate(
        store,
        rs,
        "821",
        2011,
        "override",
        "re-moderated at the panel",
        judgement="childrens_services_assessment",
        grade=3,
        user="inspector B",
    )
    doc = build_letter_document(con, "Luton", 2011)
    assert (doc["grades"][0]["grade"], doc["grades"][0]["label"]) == (3, "Performs well")
    events = [(h["event"], h["by"], h["grade"]) for h in history(con, "profile_2011", "821", 2011)]
    assert events[0] == ("proposal", "cspa rules", 3)
    assert events[1:] == [("override", "seed transcription", 4), ("override", "inspector B", 3)]


@pytest.mark.golden
def test_2006_letter_has_the_seed_structure_and_grades(demo_con):
    doc = build_letter_document(demo_con, "Luton", 2006)
    assert [g["grade"] for g in doc["grade_table"]] == [3, 3, 3]  # 002:L27-29
    assert [o["heading"] for o in doc["outcomes"]] == [
        "Being healthy",
        "Staying safe",
        "Enjoying and achieving",
        "Making a positive contribution",
        "Achieving economic well-being",
        "The council's management of its services for children and young people, including its capacity to improve "
        "them further",
    ]
    assert {o["sentence"] for o in doc["outcomes"]} == {
        "The contribution the council's services make to improving outcomes in this area is good."
    }  # 002:L47 etc.
    assert doc["summary"][1] == (
        "The council's overall capacity to improve its services for children and young "
        "people is good."
    )  # 002:L43
    proposed = {g["judgement_id"]: g["proposed_grade"] for g in doc["grades"]}
    assert proposed == {
        "being_healthy": 3,
        "staying_safe": 3,
        "enjoying_and_achieving": 3,
        "making_a_positive_contribution": 4,
        "achieving_economic_wellbeing": 2,
        "service_management": 4,
        "childrens_services": 3,
        "capacity_to_improve": 4,
        "social_care": 3,
    }
    assert [g["status"] for g in doc["grades"]].count("overridden") == 4


def test_drafted_text_is_linked_to_evidence_and_editable(store, demo_con):
    doc = build_letter_document(demo_con, "Luton", 2006)
    areas = doc["areas_for_improvement"]
    ia = next(i for i in areas if i["key"] == "figure:2020SC:value")
    # 2020SC, 2005-06: 40.3 against statistical neighbours 67.2 (000:L1254); the letter printed 'initial
    # assessments need to be undertaken more promptly' (002:L150)
    assert ia["text"] == (
        "The proportion of initial assessments completed within seven working days of referral: 40.3% in 2005-06, worse than "
        "statistical neighbours (67.2%), improved from 26.4%."
    )
    assert ia["evidence"][0]["ref"] == "000:L1254"
    rs = load_rulesets()["apa_2006"]
    moderate(
        store,
        rs,
        "821",
        2006,
        "edit_text",
        "the letter's own words (002:L150)",
        section="areas_for_improvement",
        item_key="figure:2020SC:value",
        text="Initial assessments need to be undertaken more promptly.",
        user="inspector A",
    )
    doc = build_letter_document(store.con, "Luton", 2006)
    item = next(i for i in doc["areas_for_improvement"] if i["key"] == "figure:2020SC:value")
    assert item["text"] == "Initial assessments need to be undertaken more promptly."
    assert item["evidence"][0]["ref"] == "000:L1254" and item["edited"]["by"] == "inspector A"
    assert (
        "Initial assessments need to be undertaken more promptly."
        in doc["text"]["areas_for_improvement"]
    )


def test_2011_strengths_draw_on_inspection_outcomes(demo_con):
    """The 2011 letter speaks of the providers Ofsted inspected first (Blocks A and B, 004:L35)."""
    doc = build_letter_document(demo_con, "Luton", 2011)
    strengths = doc["text"]["strengths"]
    # 003:L54 (3 post-16 providers, 100%); the letter: 'all settings good or better' (004:L60)
    assert "Post-16: all of 3 inspected good or outstanding (100%)." in strengths
    # 003:L36-37, the LA adoption and fostering agencies; the letter: 'The local authority adoption agency is good' (004:L67)
    assert "LA adoption agency: the one inspected is good or outstanding." in strengths
    # the standards at 16 are below England but rising faster (003:L76-77: +11.50 against +9.73; 004:L60)
    gcse = next(
        p for o in doc["outcomes"] for p in o["paragraph"] if p["key"] == "figure:ED_GCSE_5AC:value"
    )
    assert gcse["text"] == (
        "The proportion of 16-year-olds gaining five or more GCSEs at A* to C rose to 52.2% in 2010 (from 46.2% in "
        "2009, an improvement), worse than England (55.1%). Since 2007 it has risen by 11.5 percentage points, "
        "against a rise of 9.7 for England."
    )
    assert gcse["direction"] == "strength"
