"""The date-split evaluation: metrics on known vectors, and the method against three baselines on real data.

Real data: Ofsted's ILACS inspections to 31 March 2025 and DfE LAIT in the demo database. The
figures below are what the method (rule set ilacs_2025, model) measures, not targets it was tuned
to: its features are fixed in the rule set, its two settings are chosen from the training inspections
alone, and it is trained on inspections published before the split date only.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from cspa.assessment.evaluate import agreement, brier, evaluate, neighbour_majority
from cspa.assessment.forecast import FEATURES
from cspa.cli import app


def test_agreement_on_known_vectors():
    pred = np.array([1, 2, 2, 3, 4, 2])
    actual = np.array([1, 2, 3, 1, 4, 2])
    a = agreement(pred, actual)
    assert (a["n"], a["exact"], a["within_one"]) == (6, 4 / 6, 5 / 6)
    # linear weights 1 - |i - j| / 3: observed (1 + 1 + 2/3 + 1/3 + 1 + 1) / 6 = 5/6; expected from the
    # margins (pred 1,3,1,1; actual 2,2,1,1): (11/3 + 3 * 13/3 + 11/3 + 7/3) / 36 = 17/27; kappa = 0.55
    assert a["weighted_kappa"] == pytest.approx((5 / 6 - 17 / 27) / (1 - 17 / 27))
    assert a["weighted_kappa"] == pytest.approx(0.55)
    assert (
        agreement(np.array([2, 2]), np.array([2, 2]))["weighted_kappa"] is None
    )  # no spread: kappa undefined


def test_brier_and_neighbour_majority():
    assert brier(np.array([[1, 0, 0, 0.0]]), np.array([1])) == 0.0
    assert brier(np.full((2, 4), 0.25), np.array([1, 4])) == pytest.approx(0.75)
    assert neighbour_majority([2, 2, 3, 3, 1]) == 2  # tie 2/3, mean 2.2: the nearer is 2
    assert neighbour_majority([1, 1, 3, 3]) == 1  # tie, mean 2 equidistant: the better grade
    assert neighbour_majority([4, 4, 4, 1]) == 4
    assert neighbour_majority([]) is None


@pytest.fixture(scope="module")
def result(demo_con):
    return evaluate(demo_con)


def test_split_sizes_and_no_leakage(result, demo_con):
    assert result["split_date"] == "2022-04-01"
    assert (
        result["train"]["n"] == 121 and result["train"]["last"] < "2022-04-01"
    )  # published before the split
    assert (
        result["test"]["n"] == 131 and result["test"]["first"] >= "2022-04-01"
    )  # begun on or after it
    # 4 test inspections had no earlier judgement; 13 began before the split but were published after it
    assert result["excluded"] == {"no_earlier_judgement": 4, "inspected_before_published_after": 13}
    # Luton's 2022 inspection (begun 11/07/2022) reads the 2020 ILACS, published 24/02/2020, not itself
    row = demo_con.execute(f"""SELECT previous_grade, previous_framework, strftime(previous_published, '%d/%m/%Y'),
                                      round(years_since, 2) FROM {FEATURES}
                               WHERE key = 'ILACS:821:2022-07-11' AND judgement = 'overall_effectiveness'""").fetchall()
    assert row == [(4, "ILACS", "24/02/2020", 2.38)]


def test_the_method_beats_every_baseline_on_overall_effectiveness(result):
    t, b = result["test"], result["baselines"]
    n = t["n"]
    assert (round(t["exact"] * n), round(t["within_one"] * n)) == (68, 122)  # 51.9%, 93.1%
    assert t["weighted_kappa"] == pytest.approx(0.371, abs=0.001)
    assert t["brier"] == pytest.approx(0.596, abs=0.001) and t[
        "brier_training_shares"
    ] == pytest.approx(0.736, abs=0.001)
    assert {k: (round(v["exact"] * n), round(v["within_one"] * n)) for k, v in b.items()} == {
        "carry_forward": (55, 117),
        "always_good": (52, 115),
        "neighbour_majority": (51, 115),
    }
    assert result["beats_every_baseline"] is True
    assert "beats every baseline" in result["summary"]


def test_the_settings_are_chosen_from_the_training_inspections_alone(result):
    """The previous grade's form and the penalty are chosen by validation inside the training window (the
    latest third of the inspections published before the split, from 21/10/2019), never on the test set:
    the lowest mean Brier over the five judgements is a category with penalty 3 (0.657; a number with
    penalty 3 scores 0.661)."""
    tuning = result["tuning"]
    assert tuning["published_before"] == "2022-04-01"
    assert result["settings"] == {"previous_form": "category", "penalty": 3.0}
    assert tuning["chosen"] == result["settings"]
    for v in tuning["judgements"].values():
        assert v["validation_from"] == "2019-10-21" and (v["fit_n"], v["validation_n"]) == (73, 41)
    scores = {(c["previous_form"], c["penalty"]): c["brier"] for c in tuning["candidates"]}
    assert len(scores) == 6 and min(scores, key=scores.get) == ("category", 3.0)
    assert scores[("category", 3.0)] == pytest.approx(0.657, abs=0.001)
    assert scores[("number", 3.0)] == pytest.approx(0.661, abs=0.001)
    assert "chosen from the training inspections alone" in result["summary"]


def test_where_the_method_does_not_beat_a_baseline_it_says_so(result):
    """Sub-judgements: the model does not beat always 'Good' on exact agreement for help and protection,
    children in care or care leavers; the summary names the baseline."""
    per = result["judgements"]
    assert per["impact_of_leaders"]["beats_every_baseline"] is True
    for jid in ("help_and_protection", "children_in_care", "care_leavers"):
        r = per[jid]
        assert r["beats"]["always_good"]["exact"] is False, jid
        assert "It does NOT beat" in r["summary"] and "always 'Good' on exact" in r["summary"], jid


def test_cli_json_contract(demo_db):
    r = CliRunner().invoke(app, ["assess", "evaluate", "--format", "json", "--db", str(demo_db)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert set(d) >= {"split_date", "train", "test", "baselines"}
    assert d["train"]["n"] == 121
    assert set(d["test"]) >= {"n", "exact", "within_one", "weighted_kappa", "brier"}
    assert set(d["baselines"]) == {"carry_forward", "always_good", "neighbour_majority"}
    for v in [
        d["test"]["exact"],
        d["test"]["within_one"],
        d["test"]["brier"],
        *(b[m] for b in d["baselines"].values() for m in ("exact", "within_one")),
    ]:
        assert 0 <= v <= 1
    r = CliRunner().invoke(
        app, ["assess", "evaluate", "--split-date", "2018-01-01", "--db", str(demo_db)]
    )
    assert r.exit_code != 0 and "choose a date with inspections on both sides" in str(r.exception)


def test_cli_text_shows_the_settings_tried_and_the_baselines(demo_db):
    r = CliRunner().invoke(app, ["assess", "evaluate", "--db", str(demo_db)])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "category (chosen)" in out and "Settings tried on training inspections only" in out
    assert "51.9%" in out and "previous grade carried forward" in out
