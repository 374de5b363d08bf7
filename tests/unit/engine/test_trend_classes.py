"""The numpy steps of the national trend class (engine/trend_classes.py) against the SQL they
restate: ``round(x, 10)`` as DuckDB rounds a double, and ``rank()`` over a descending order within
groups, ties sharing the best rank. The classes themselves are checked by hand against the source
files in test_national_build.py and against the SQL build's, row for row, when they were moved."""

from __future__ import annotations

import duckdb
import numpy as np

from cspa.engine.trend_classes import _rank_desc, _round


def test_slopes_are_rounded_as_duckdb_rounds():
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            rng.normal(0, 1, 2000) * 10.0 ** rng.integers(-12, 6, 2000),
            # halves at the tenth place, both signs, and their float neighbours
            np.array([0.5e-10, -0.5e-10, 2.5e-10, -2.5e-10, 1.00000000005, -1.00000000005]),
            np.nextafter(np.array([0.5e-10, 2.5e-10]), 1.0),
            np.array([0.0, -0.0, 1e300, -1e300]),
        ]
    )
    con = duckdb.connect()
    duck = con.execute("SELECT round(unnest($1), 10) AS r", [x.tolist()]).fetchnumpy()
    got = _round(x)
    want = np.asarray(duck["r"], dtype=float)
    assert np.array_equal(got, want), x[got != want][:5]
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_ranks_within_groups_are_sql_s_rank_descending():
    rng = np.random.default_rng(5)
    n = 5000
    group = rng.integers(0, 40, n)
    # few distinct values, so ties are common; a tenth missing
    x = np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 30, n) / 4)
    rank, counted = _rank_desc(group, x)
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT unnest($1) AS i, unnest($2) AS g, unnest($3) AS x",
        [list(range(n)), group.tolist(), [None if np.isnan(v) else float(v) for v in x]],
    )
    want = con.execute(
        "SELECT rank() OVER (PARTITION BY g ORDER BY x DESC NULLS LAST), count(x) OVER (PARTITION BY g) "
        "FROM t ORDER BY i"
    ).fetchall()
    present = ~np.isnan(x)
    assert [r for r, p in zip(rank.tolist(), present, strict=True) if p] == [
        w[0] for w, p in zip(want, present, strict=True) if p
    ]
    assert counted.tolist() == [w[1] for w in want]
    # the best in a group is rank 1, and a tie shares it
    best = x == np.nanmax(np.where(group == group[0], x, -np.inf))
    assert set(rank[best & (group == group[0])].tolist()) == {1}
