"""Moderation is append-only, needs a reason, and the final grade is the latest moderation else the proposal."""

from __future__ import annotations

import datetime as dt

import pytest

from cspa.assessment.moderation import apply_text, final_grades, moderate, moderations
from cspa.assessment.ruleset import load_rulesets
from cspa.errors import CspaError

RS = load_rulesets()["profile_2011"]
PROPOSAL = [
    {
        "judgement": "childrens_services_assessment",
        "judgement_label": "Children's services assessment",
        "grade": 3,
        "grade_label": "Performs well",
        "basis": "T3-large-majority: ...",
        "rules": [],
        "evidence_ids": ["go_all"],
    }
]
T0 = dt.datetime(2011, 11, 1, 9, 0)


def _count(store) -> int:
    return store.con.execute("SELECT count(*) FROM assessment_moderation").fetchall()[0][0]


def test_a_moderation_without_a_reason_is_refused_and_writes_nothing(bare_store):
    with pytest.raises(CspaError, match="needs a reason"):
        moderate(
            bare_store,
            RS,
            "821",
            2011,
            "override",
            "  ",
            judgement="childrens_services_assessment",
            grade=4,
        )
    assert _count(bare_store) == 0


def test_a_grade_off_the_scale_or_an_unknown_judgement_is_refused(bare_store):
    with pytest.raises(CspaError, match="5 is not a grade of the profile_2011 scale"):
        moderate(
            bare_store,
            RS,
            "821",
            2011,
            "override",
            "why",
            judgement="childrens_services_assessment",
            grade=5,
        )
    with pytest.raises(CspaError, match="has no judgement 'nope'"):
        moderate(bare_store, RS, "821", 2011, "override", "why", judgement="nope", grade=3)
    with pytest.raises(CspaError, match="nothing to confirm"):
        moderate(
            bare_store, RS, "821", 2011, "confirm", "why", judgement="childrens_services_assessment"
        )
    assert _count(bare_store) == 0


def test_overrides_are_kept_and_the_latest_decides(bare_store):
    moderate(
        bare_store,
        RS,
        "821",
        2011,
        "override",
        "004:L48 prints Performs excellently (4)",
        judgement="childrens_services_assessment",
        grade=4,
        user="inspector A",
        proposed_grade=3,
        at=T0,
    )
    moderate(
        bare_store,
        RS,
        "821",
        2011,
        "override",
        "second look: performs well",
        judgement="childrens_services_assessment",
        grade=3,
        user="inspector B",
        proposed_grade=3,
        at=T0 + dt.timedelta(hours=1),
    )
    mods = moderations(bare_store.con, "profile_2011", "821", 2011)
    assert [(m["moderated_by"], m["grade"], m["proposed_grade"]) for m in mods] == [
        ("inspector A", 4, 3),
        ("inspector B", 3, 3),
    ]
    g = final_grades(RS, PROPOSAL, mods)[0]
    assert (g["grade"], g["label"], g["status"], g["proposed_grade"]) == (
        3,
        "Performs well",
        "overridden",
        3,
    )
    assert "inspector B" in g["basis"] and "second look" in g["basis"]
    assert [m["by"] for m in g["moderations"]] == ["inspector A", "inspector B"]


def test_without_moderation_the_proposal_stands():
    g = final_grades(RS, PROPOSAL, [])[0]
    assert (g["grade"], g["status"], g["label"]) == (3, "proposed", "Performs well")


def test_text_edits_removals_and_additions_apply_in_order(bare_store):
    items = {
        "strengths": [
            {"key": "sg:A", "text": "drafted A", "evidence": [1]},
            {"key": "sg:B", "text": "drafted B", "evidence": [2]},
        ],
        "areas_for_improvement": [],
    }
    moderate(
        bare_store,
        RS,
        "821",
        2011,
        "edit_text",
        "clearer",
        section="strengths",
        item_key="sg:A",
        text="edited A",
        user="inspector A",
        at=T0,
    )
    moderate(
        bare_store,
        RS,
        "821",
        2011,
        "remove_text",
        "not a strength",
        section="strengths",
        item_key="sg:B",
        user="inspector A",
        at=T0 + dt.timedelta(minutes=1),
    )
    moderate(
        bare_store,
        RS,
        "821",
        2011,
        "add_text",
        "seen on the visit",
        section="areas_for_improvement",
        text="added C",
        user="inspector A",
        at=T0 + dt.timedelta(minutes=2),
    )
    with pytest.raises(CspaError, match="needs the item's key"):
        moderate(bare_store, RS, "821", 2011, "edit_text", "x", section="strengths", text="y")
    out = apply_text(items, moderations(bare_store.con, "profile_2011", "821", 2011))
    assert [i["text"] for i in out["strengths"]] == ["edited A"]
    assert (
        out["strengths"][0]["evidence"] == [1]
        and out["strengths"][0]["edited"]["by"] == "inspector A"
    )
    assert [i["text"] for i in out["areas_for_improvement"]] == ["added C"]
    assert items["strengths"][0]["text"] == "drafted A"  # the draft itself is untouched
    assert _count(bare_store) == 3


def test_editing_or_removing_an_item_that_does_not_exist_is_refused_naming_those_that_do(
    bare_store,
):
    items = {"strengths": ["sg:A", "sg:B"], "areas_for_improvement": []}
    for action, text in (("edit_text", "new words"), ("remove_text", None)):
        with pytest.raises(CspaError) as e:
            moderate(
                bare_store,
                RS,
                "821",
                2011,
                action,
                "why",
                section="strengths",
                item_key="sg:Z",
                text=text,
                items=items,
            )
        assert "has no item 'sg:Z' in strengths" in str(e.value) and "sg:A, sg:B" in str(e.value)
    with pytest.raises(CspaError, match="areas_for_improvement items are: none"):
        moderate(
            bare_store,
            RS,
            "821",
            2011,
            "remove_text",
            "why",
            section="areas_for_improvement",
            item_key="sg:A",
            items=items,
        )
    assert _count(bare_store) == 0
    moderate(
        bare_store,
        RS,
        "821",
        2011,
        "edit_text",
        "why",
        section="strengths",
        item_key="sg:B",
        text="ok",
        items=items,
    )
    assert _count(bare_store) == 1
