"""The rule interpreter: thresholds, adjustments, limits (fixed and by another judgement), missing evidence.

Evidence here is historical records (``assessment_record``) so the test needs no profile or engine data.
"""

from __future__ import annotations

import pytest

from cspa.assessment.rules import proposal_rows, propose
from cspa.assessment.ruleset import RuleSet

RS = {
    "id": "t",
    "version": "1",
    "title": "test",
    "framework": "lait",
    "years": [2020, 2021],
    "source": "test",
    "population": {"era": "2025"},
    "scale": {
        "higher_is_better": True,
        "grades": [{"grade": g, "label": f"G{g}"} for g in (4, 3, 2, 1)],
    },
    "evidence": [
        {"id": "a", "label": "A", "kind": "record", "indicator": "XA", "year_offset": 0},
        {"id": "b", "label": "B", "kind": "record", "indicator": "XB", "year_offset": 0},
        {
            "id": "m",
            "label": "mean",
            "kind": "judgement",
            "judgements": ["first", "second"],
            "stat": "mean",
        },
    ],
    "judgements": [
        {
            "id": "first",
            "label": "First",
            "thresholds": [
                {
                    "id": "T4",
                    "grade": 4,
                    "when": {"evidence": "a", "op": ">=", "value": 90},
                    "text": "a >= 90",
                },
                {
                    "id": "T3",
                    "grade": 3,
                    "when": {"evidence": "a", "op": ">=", "value": 60},
                    "text": "a >= 60",
                },
                {
                    "id": "T1",
                    "grade": 1,
                    "when": {"evidence": "a", "available": True},
                    "text": "otherwise",
                },
            ],
            "adjustments": [
                {
                    "id": "A+",
                    "shift": "better",
                    "when": {"evidence": "b", "op": "==", "value": 1},
                    "text": "b is 1",
                },
                {
                    "id": "A-",
                    "shift": "worse",
                    "when": {"evidence": "b", "op": "==", "value": 9},
                    "text": "b is 9",
                },
            ],
            "limits": [
                {
                    "id": "L",
                    "cap": 2,
                    "when": {"at_least": 1, "of": [{"evidence": "b", "op": "==", "value": 5}]},
                    "text": "b is 5 caps at 2",
                }
            ],
        },
        {
            "id": "second",
            "label": "Second",
            "thresholds": [
                {
                    "id": "S",
                    "grade": 4,
                    "when": {"evidence": "b", "available": True},
                    "text": "any b",
                }
            ],
            "limits": [
                {
                    "id": "LJ",
                    "cap": {"judgement": "first", "offset": 1},
                    "when": True,
                    "text": "no more than one above first",
                }
            ],
        },
        {
            "id": "third",
            "label": "Third",
            "thresholds": [
                {
                    "id": "M3",
                    "grade": 3,
                    "when": {"evidence": "m", "op": ">=", "value": 2.5},
                    "text": "mean >= 2.5",
                },
                {
                    "id": "M1",
                    "grade": 1,
                    "when": {"evidence": "m", "available": True},
                    "text": "mean below",
                },
            ],
        },
    ],
}

# area: (a, b) -> expected grades (first, second, third)
CASES = {
    "821": ((95, 0), (4, 4, 3)),  # T4; second capped at first+1 = 5 -> 4 (no change)
    "822": ((70, 1), (4, 4, 3)),  # T3 + better = 4
    "823": (
        (70, 9),
        (2, 3, 3),
    ),  # T3 + worse = 2; second capped at first + 1 = 3; mean (2 + 3) / 2 = 2.5 -> M3
    "825": ((95, 5), (2, 3, 3)),  # T4 capped at 2 by L; second capped at 3; mean 2.5 -> M3
    "826": ((10, 9), (1, 2, 1)),  # T1, and worse stays at the bottom of the scale; mean 1.5 -> M1
}


@pytest.fixture
def store(bare_store):
    rows = []
    for area, ((a, b), _) in CASES.items():
        rows.append((area, 2020, "lait", "x", "XA", a, None, None, "t", None, "test", None, None))
        rows.append((area, 2020, "lait", "x", "XB", b, None, None, "t", None, "test", None, None))
    bare_store.con.executemany(
        "INSERT INTO assessment_record VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )
    return bare_store


def test_grades_follow_thresholds_adjustments_and_limits(store):
    rs = RuleSet.model_validate(RS)
    propose(store.con, rs, 2020)
    got = {a: tuple(r["grade"] for r in proposal_rows(store.con, a)) for a in CASES}
    assert got == {a: exp for a, (_, exp) in CASES.items()}


def test_rules_that_fired_are_reported_with_their_evidence(store):
    rs = RuleSet.model_validate(RS)
    propose(store.con, rs, 2020)
    first = proposal_rows(store.con, "825")[0]
    assert [(r["id"], r["kind"], r["applied"]) for r in first["rules"]] == [
        ("T4", "threshold", True),
        ("L", "limit", True),
    ]
    assert first["evidence_ids"] == ["a", "b"]
    assert first["basis"] == "T4: a >= 90; L: b is 5 caps at 2"
    second = proposal_rows(store.con, "821")[1]
    assert [(r["id"], r["applied"]) for r in second["rules"]] == [("S", True), ("LJ", False)]


def test_missing_evidence_gives_no_proposal_not_a_grade(store):
    rs = RuleSet.model_validate(RS)
    propose(store.con, rs, 2020)
    rows = proposal_rows(store.con, "202")  # an authority with no records
    assert [r["grade"] for r in rows] == [None, None, None]
    assert rows[0]["basis"].startswith("no proposal")


def test_lower_is_better_scales_cap_the_other_way(bare_store):
    spec = {
        **RS,
        "scale": {
            "higher_is_better": False,
            "grades": [{"grade": g, "label": f"G{g}"} for g in (1, 2, 3, 4)],
        },
    }
    spec["judgements"] = [
        {
            "id": "first",
            "label": "First",
            "thresholds": [
                {
                    "id": "T1",
                    "grade": 1,
                    "when": {"evidence": "a", "op": ">=", "value": 90},
                    "text": "t",
                }
            ],
            "limits": [{"id": "L", "cap": 3, "when": True, "text": "cannot be better than 3"}],
        }
    ]
    spec["evidence"] = spec["evidence"][:2]
    bare_store.con.execute(
        "INSERT INTO assessment_record VALUES ('821', 2020, 'lait', 'x', 'XA', 95, NULL, NULL, 't',"
        " NULL, 'test', NULL, NULL)"
    )
    rs = RuleSet.model_validate(spec)
    propose(bare_store.con, rs, 2020)
    assert proposal_rows(bare_store.con, "821")[0]["grade"] == 3
