"""Agreement of the proposed overall effectiveness (rule set ilacs_2025) with the latest ILACS grades.

Real data for all 153 current authorities (Ofsted inspection outcomes at 31 March 2025). The figures
are what the rule set gives, not a target: the rules were written once and not fitted to this.
"""

from __future__ import annotations

import pytest

from cspa.assessment.agreement import ilacs_agreement


@pytest.fixture(scope="module")
def result(demo_con):
    return ilacs_agreement(demo_con, 2025)


def test_every_current_authority_is_compared(result):
    rules = result["matrices"]["rules"]
    assert sum(map(sum, rules)) == 153
    # latest ILACS grades at 31 March 2025: 36 outstanding, 67 good, 31 requires improvement, 19 inadequate
    assert [sum(r[j] for r in rules) for j in range(4)] == [36, 67, 31, 19]


def test_agreement_figures(result):
    s = result["stats"]
    assert (s["rules"]["n"], s["rules"]["no_grade"], s["rules"]["agree"]) == (149, 4, 38)
    assert round(s["rules"]["rate"], 3) == 0.255
    assert round(s["rules"]["within_one"], 3) == 0.799
    # reference points: carrying the previous grade forward, and always proposing 'Good'
    assert round(s["persistence"]["rate"], 3) == 0.416
    assert round(s["always_good"]["rate"], 3) == 0.438
    assert s["rules"]["rate"] < s["persistence"]["rate"]


def test_the_rules_are_pessimistic(result):
    """Proposals below the grade Ofsted gave outnumber those above it: authorities improved since the
    inspection the rules start from (the printed confusion matrix, rows proposed, columns ILACS)."""
    m = result["matrices"]["rules"]
    below = sum(
        m[i][j] for i in range(4) for j in range(4) if i > j
    )  # proposed grade number higher = worse
    above = sum(m[i][j] for i in range(4) for j in range(4) if i < j)
    assert (below, above) == (95, 16)
