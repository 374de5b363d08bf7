"""Every measure against a hand calculation on the crafted return (conftest.crafted), on DuckDB and on Spark.

Year ending 31 March 2018 for the 903 measures (1 April 2017 to 31 March 2018), 2022 for the CIN ones.
"""

from __future__ import annotations

import pytest

from cspa.records.backends import compute
from cspa.records.measures import MEASURES

from .conftest import crafted

# (indicator, measure) -> (numerator, denominator, value), worked out by hand in the comments
EXPECTED = {
    # at 31 March: A, C (two episodes on one day: once), G, H, I, K; not B (left on 31 March),
    # D (adopted), E (short breaks), F (no start date)
    ("REC_CLA_31MAR", "count"): (6, None, 6),
    ("REC_CLA_31MAR", "rate"): (6, 1000, 60.0),  # 6 / 1,000 children x 10,000
    # B (1 May 2017), C (10 February 2018, once), K (1 May 2017, once)
    ("REC_CLA_STARTED", "count"): (3, None, 3),
    ("REC_CLA_STARTED", "rate"): (3, 1000, 30.0),
    # B (E13 on 31 March), D (E11); the X1 endings of C and K are no leaving
    ("REC_CLA_CEASED", "count"): (2, None, 2),
    ("REC_CLA_CEASED", "rate"): (2, 1000, 20.0),
    # A: U1 (from before the year), U2, K2; C: one (a same-day L); K: two (U1, then U2), not three
    ("REC_PLACEMENTS_3PLUS", "value"): (1, 6, 100 / 6),
    # cohort G, H (A: care since 2016; I: 16 on 31 March; K: care since 2017)
    ("REC_LONG_TERM_STABILITY", "value"): (1, 2, 50.0),
    # known distances at 31 March: A 30, G 10, H 22
    ("REC_PLACED_20_MILES", "value"): (2, 3, 200 / 3),
    ("REC_ADOPTED", "value"): (1, None, 1),  # D
    ("REC_ADOPTION_A1", "value"): (611, 1, 611.0),  # 1 March 2015 to 1 November 2016
    # placement order 1 May 2016 to match 1 September 2016
    ("REC_ADOPTION_A2", "value"): (123, 1, 123.0),
    ("REC_CARE_LEAVERS_IN_TOUCH", "value"): (2, 4, 50.0),  # 5 leavers, one died: YES twice
    ("REC_CARE_LEAVERS_ACCOM", "value"): (1, 4, 25.0),  # B1 (suitable); C2, K2 not; 0 unknown
    ("REC_CARE_LEAVERS_EET", "value"): (2, 4, 50.0),  # F1, P2
    # A of A, B, C, D, G, H, I, K (B was away, not missing)
    ("REC_MISSING", "children"): (1, 8, 12.5),
    # A's two (G's began before the year; H's has no date)
    ("REC_MISSING", "episodes"): (2, None, 2),
    ("REC_REFERRALS", "value"): (5, None, 5),  # X2, Y1, Y2, Z1, W2
    # X2 (334 days), Y2 (same day); W2 (882 days) not
    ("REC_REREFERRALS_12M", "value"): (2, 5, 40.0),
    ("REC_ASSESSMENTS_45D", "value"): (2, 3, 200 / 3),  # 45 and 1 working days in; 46 not
    ("REC_CPP_STARTED", "value"): (3, None, 3),  # X, Y's second, W
    ("REC_CPP_SUBSEQUENT", "value"): (2, 3, 200 / 3),  # Y (an earlier plan), W (2 previous)
    ("REC_CPP_2YRS", "value"): (1, 4, 25.0),  # open: X, Y, Z, V; Z from 31 March 2020
}


def test_every_measure_has_a_hand_calculation():
    assert {(m.indicator, m.measure) for m in MEASURES} == set(EXPECTED)


def test_measures_match_hand_calculations(backend):
    tables = backend.from_arrow(crafted(), prefix=f"crafted_{backend.name}")
    obs = compute(tables, backend, together=backend.name == "spark").to_pylist()
    got = {(r["indicator"], r["measure"]): r for r in obs}
    assert set(got) == set(EXPECTED)
    for key, (num, den, value) in EXPECTED.items():
        r = got[key]
        assert (r["LA"], r["YEAR"]) == ("821", 2018 if key[0] not in CIN else 2022), key
        assert r["numerator"] == num, key
        assert r["denominator"] == den, key
        assert r["value"] == pytest.approx(value), key


CIN = {
    "REC_REFERRALS",
    "REC_REREFERRALS_12M",
    "REC_ASSESSMENTS_45D",
    "REC_CPP_STARTED",
    "REC_CPP_SUBSEQUENT",
    "REC_CPP_2YRS",
}


def test_rate_without_a_population_has_no_value(backend):
    t = crafted()
    t["population"] = t["population"].slice(1)  # only LA 822
    tables = backend.from_arrow(
        {k: v for k, v in t.items() if k in ("episodes", "population")},
        prefix=f"nopop_{backend.name}",
    )
    rate = [m for m in MEASURES if (m.indicator, m.measure) == ("REC_CLA_31MAR", "rate")]
    (r,) = compute(tables, backend, rate).to_pylist()
    assert r["numerator"] == 6 and r["denominator"] is None and r["value"] is None


def test_each_measure_alone_matches_hand_calculations():
    """Run with the others a measure reads the table of children computed once (Backend.run's
    sharing, as the test above does); run on its own it derives the table in its own query. The
    same hand calculations hold."""
    from cspa.records.backends import Backend

    duck = Backend.duckdb()
    tables = duck.from_arrow(crafted(), prefix="crafted_alone")
    obs = compute(tables, duck, share=False).to_pylist()
    got = {(r["indicator"], r["measure"]): (r["numerator"], r["denominator"]) for r in obs}
    assert got == {k: (num, den) for k, (num, den, _) in EXPECTED.items()}
