"""Ranks and quartile bands among the authorities that existed in a period (issue 18).

LAIT carries figures for an authority before it existed (back-cast for its area) and after it
ceased, so one period can hold an old authority and its successors; a Kent report for 2019 printed
"rank 1 of 158" when there were 152 authorities. Each case here is a reorganisation in
``src/cspa/data/areas/la_lifetimes.csv``.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from cspa.engine.distribution import ranks_and_quartiles

# (code, exists_from, exists_until, successors)
AREAS = [
    ("886", None, None, None),  # Kent
    ("887", None, None, None),  # Medway
    ("888", None, None, None),  # Lancashire
    ("889", None, None, None),  # Blackburn with Darwen
    ("928", None, dt.date(2021, 3, 31), "940;941"),  # Northamptonshire
    ("940", dt.date(2021, 4, 1), None, None),  # North Northamptonshire
    ("941", dt.date(2021, 4, 1), None, None),  # West Northamptonshire
    ("837", None, dt.date(2019, 3, 31), "839"),  # Bournemouth
    ("839", dt.date(2019, 4, 1), None, None),  # Bournemouth, Christchurch and Poole
]
PERIODS = {  # pid: (start, end)
    1: (dt.date(2018, 4, 1), dt.date(2019, 3, 31)),  # FY2018-19: Northamptonshire and Bournemouth
    2: (dt.date(2018, 9, 1), dt.date(2019, 8, 31)),  # AY2018/19: Bournemouth ceased within it
    3: (dt.date(2022, 4, 1), dt.date(2023, 3, 31)),  # FY2022-23: the successors
}


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(
        "CREATE TEMP TABLE _cspa_key_measure AS SELECT 1::BIGINT AS sid, 'low' AS polarity, "
        "TRUE AS quartiles, TRUE AS ranks"
    )
    c.execute(
        "CREATE TEMP TABLE _cspa_key_area (aid BIGINT, code VARCHAR, type VARCHAR, exists_from DATE, "
        "exists_until DATE, successors VARCHAR[])"
    )
    for aid, (code, start, until, successors) in enumerate(AREAS, 1):
        c.execute(
            "INSERT INTO _cspa_key_area VALUES (?, ?, 'la', ?, ?, string_split(?, ';'))",
            [aid, code, start, until, successors],
        )
    c.execute("CREATE TEMP TABLE _cspa_key_period (pid BIGINT, period_start DATE, period_end DATE)")
    c.executemany(
        "INSERT INTO _cspa_key_period VALUES (?, ?, ?)", [(p, *d) for p, d in PERIODS.items()]
    )
    yield c
    c.close()


def _ranks(con, figures: dict[str, float | None], pid: int) -> dict[str, tuple]:
    aid = {code: i for i, (code, *_) in enumerate(AREAS, 1)}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE v (rid BIGINT, sid BIGINT, aid BIGINT, pid BIGINT, value DOUBLE)"
    )
    con.executemany(
        "INSERT INTO v VALUES (?, 1, ?, ?, ?)",
        [(i, aid[code], pid, value) for i, (code, value) in enumerate(figures.items())],
    )
    code = {i: c for i, c in enumerate(figures)}
    rel = ranks_and_quartiles(con, "v")
    return {code[r[0]]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()}


def test_a_past_year_ranks_the_authorities_that_existed_then(con):
    # LAIT's FY2018-19 holds Northamptonshire and its two back-cast successors, Bournemouth and
    # the back-cast BCP: the rank is among the six authorities of that year, never eight
    r = _ranks(
        con,
        {
            "886": 1,
            "887": 2,
            "888": 3,
            "889": 4,
            "928": 5,
            "940": 0.5,
            "941": 0.7,
            "837": 6,
            "839": 0.1,
        },
        pid=1,
    )
    ranked = {c: x["rank"] for c, x in r.items() if x["rank"] is not None}
    assert ranked == {"886": 1, "887": 2, "888": 3, "889": 4, "928": 5, "837": 6}
    assert {x["n_areas"] for c, x in r.items() if c in ranked} == {6}
    assert r["940"]["not_ranked"].startswith(
        "not ranked or banded: the authority was created on 1 April 2021, after this period"
    )
    assert r["839"]["rank"] is None and r["839"]["quartile"] is None
    # the cut-offs are the six authorities' (type-7 over 1..6), not moved by the back-casts
    assert (r["886"]["q1"], r["886"]["q2"], r["886"]["q3"]) == (2.25, 3.5, 4.75)


def test_an_authority_that_ceased_within_the_period_is_counted_once_as_its_successor(con):
    # AY2018/19 ends after Bournemouth merged into BCP: where both have a figure, the area is
    # ranked once, as the authority that held it at the period's end
    r = _ranks(con, {"886": 1, "887": 2, "888": 3, "889": 4, "837": 9, "839": 5}, pid=2)
    assert r["839"]["rank"] == 5 and r["839"]["n_areas"] == 5
    assert r["837"]["rank"] is None
    assert "ceased on 31 March 2019, within this period" in r["837"]["not_ranked"]
    # with no successor figure, the old authority's figure for the year is ranked
    r = _ranks(con, {"886": 1, "887": 2, "888": 3, "889": 4, "837": 9}, pid=2)
    assert r["837"]["rank"] == 5 and r["837"]["n_areas"] == 5


def test_a_figure_after_an_authority_ceased_is_not_ranked_and_rows_without_a_figure_not_counted(
    con,
):
    r = _ranks(
        con,
        {"886": 1, "887": None, "888": 3, "889": 4, "928": 2, "940": 6, "941": 7},
        pid=3,
    )
    assert {c: x["rank"] for c, x in r.items() if x["rank"]} == {
        "886": 1,
        "888": 2,
        "889": 3,
        "940": 4,
        "941": 5,
    }
    assert {x["n_areas"] for x in r.values() if x["rank"]} == {5}
    assert "887" not in r  # no figure: neither ranked nor counted
    assert r["928"]["not_ranked"].startswith(
        "not ranked or banded: the authority ceased on 31 March 2021, before this period"
    )


def test_a_figure_every_authority_shares_is_not_ranked_or_banded(con):
    """LAIT gives every authority England's figure for Stability_School in 2018 and 2019: Kent's
    2019 summary said it was "in the best quarter of authorities (rank 1 of 152)" for it. Where all
    the authorities ranked have the same figure nobody is better or worse placed, so no rank or
    band, with the reason; one different figure is enough to rank them again."""
    same = {"886": 5.0, "887": 5.0, "888": 5.0, "889": 5.0, "928": 5.0}
    r = _ranks(con, same, 1)
    assert {c: (x["rank"], x["quartile"]) for c, x in r.items()} == {c: (None, None) for c in same}
    assert r["886"]["not_ranked"] == (
        "not ranked or banded: all 5 authorities with a figure have the same one, so none is "
        "better or worse placed than another"
    )
    r = _ranks(con, {**same, "889": 6.0}, 1)
    assert r["886"]["rank"] == 1 and r["889"]["rank"] == 5 and r["886"]["not_ranked"] is None


def test_a_source_s_float_noise_is_no_difference_in_rank_or_band(con):
    # LAIT's spreadsheets hold 97.30000000000001 beside 97.3 for two authorities that both
    # published 97.3: they tie (one rank, one band) as any reader of the printed figures expects.
    # Compared to the last bit, the noisy one ranked below the other (low is good here) and a cut
    # interpolated between them put them in different quarters.
    r = _ranks(con, {"886": 97.3, "887": 97.30000000000001, "888": 90.0, "889": 99.0}, pid=3)
    assert r["886"]["rank"] == r["887"]["rank"] == 2
    assert r["886"]["quartile"] == r["887"]["quartile"]
    # ... while a difference in the tenth decimal place is one
    r = _ranks(con, {"886": 97.3, "887": 97.3000000001, "888": 90.0, "889": 99.0}, pid=3)
    assert (r["886"]["rank"], r["887"]["rank"]) == (2, 3)
    # and a cell whose figures differ only by noise is one shared figure: not ranked
    r = _ranks(con, {"886": 0.3, "887": 0.1 + 0.2, "888": 0.3, "889": 0.3}, pid=3)
    assert {x["rank"] for x in r.values()} == {None}
    assert r["887"]["not_ranked"].startswith("not ranked or banded: all 4 authorities")


def test_cells_of_both_polarities_are_ranked_apart_in_one_pass(con):
    """Every cell is numbered in one sort of all the figures (by cell, then value): ranks, counts
    and cut points must not run across cells. Ties share the best rank and the next rank skips
    (LAIT's "min"); where high is good the highest figure is rank 1; polarity none is counted and
    cut but neither ranked nor banded."""
    con.execute(
        "INSERT INTO _cspa_key_measure VALUES (2, 'high', TRUE, TRUE), (3, 'none', TRUE, TRUE)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE v (rid BIGINT, sid BIGINT, aid BIGINT, pid BIGINT, value DOUBLE)"
    )
    figures = {  # (sid, pid): the values of Kent, Medway, Lancashire, Blackburn
        (1, 3): (4.0, 4.0, 9.0, 1.0),  # low is good
        (2, 3): (4.0, 4.0, 9.0, 1.0),  # high is good
        (2, 1): (10.0, 30.0, 20.0, 40.0),
        (3, 3): (4.0, 4.0, 9.0, 1.0),  # context
    }
    rows = [
        (len(figures) * 10 + i * 4 + a, sid, a + 1, pid, value)
        for i, ((sid, pid), values) in enumerate(figures.items())
        for a, value in enumerate(values)
    ]
    con.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?)", rows)
    rel = ranks_and_quartiles(con, "v")
    got = {r[0]: dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()}
    by_cell = {
        (sid, pid): [got[rid]["rank"] for rid, s, _, p, _ in rows if (s, p) == (sid, pid)]
        for sid, pid in figures
    }
    assert by_cell == {
        (1, 3): [2, 2, 4, 1],
        (2, 3): [2, 2, 1, 4],
        (2, 1): [4, 2, 3, 1],
        (3, 3): [None] * 4,
    }
    quartiles = {
        (sid, pid): [got[rid]["quartile"] for rid, s, _, p, _ in rows if (s, p) == (sid, pid)]
        for sid, pid in figures
    }
    # cuts of (1, 4, 4, 9): 3.25, 4, 5.25; a value on a cut goes to the low-value side
    assert quartiles[(1, 3)] == [2, 2, 4, 1] and quartiles[(2, 3)] == [3, 3, 1, 4]
    assert quartiles[(3, 3)] == [None] * 4
    assert {
        (got[r[0]]["q1"], got[r[0]]["q2"], got[r[0]]["q3"]) for r in rows if r[1:4:2] == (2, 1)
    } == {(17.5, 25.0, 32.5)}
    assert {got[r[0]]["n_areas"] for r in rows} == {4}


def test_cut_points_are_type_7_quartiles(con):
    """The cut points are Hyndman and Fan's type 7 (R's default, LAIT's; methods.md 7.1):
    ``x[lo] + (x[hi] - x[lo]) * d`` at ``(n - 1) p``. DuckDB's ``quantile_cont`` computes the same
    point as ``x[lo] (1 - d) + x[hi] d``, which can differ in the last bit: checked to 1e-12 of
    the figure on random cells of four to seven authorities, exactly on a cell worked out by hand."""
    import numpy as np

    rng = np.random.default_rng(7)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE v (rid BIGINT, sid BIGINT, aid BIGINT, pid BIGINT, value DOUBLE)"
    )
    existing = (1, 2, 3, 4, 6, 7, 9)  # the authorities of FY2022-23 (pid 3)
    rows = [
        (sid * 100 + aid, sid, aid, 3, float(x))
        for sid, n in enumerate(range(4, 8), 1)
        for aid, x in zip(existing, np.round(rng.random(n) * 100, 1), strict=False)
    ]
    con.executemany(
        "INSERT INTO _cspa_key_measure VALUES (?, 'low', TRUE, TRUE)", [(s,) for s in range(2, 5)]
    )
    con.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?)", rows)
    cuts = {r[1]: r[5:8] for r in ranks_and_quartiles(con, "v").fetchall()}
    duck = dict(
        con.execute(
            "SELECT (sid << 20) | pid, quantile_cont(value, [0.25, 0.5, 0.75]) FROM v GROUP BY ALL"
        ).fetchall()
    )
    assert len(cuts) == 4
    for cell, got in cuts.items():
        assert np.allclose(got, duck[cell], rtol=1e-12, atol=0), cell
    # by hand, four figures 1, 2, 4, 8 at h = 0.75, 1.5, 2.25: 1.75, 3 and 5
    con.execute("DELETE FROM v")
    con.executemany(
        "INSERT INTO v VALUES (?, 1, ?, 3, ?)", [(i, i + 1, x) for i, x in enumerate((8, 1, 4, 2))]
    )
    assert {r[5:8] for r in ranks_and_quartiles(con, "v").fetchall()} == {(1.75, 3.0, 5.0)}
