"""The pandas baseline of bench/national_build.py restates the engine's rules without importing the
engine; the bench compares the two on the demo store's national build after timing them. These check
two of its rules on edge cases the demo data need not hold, against the engine's own SQL: display
strings (round half away from zero as C's round(), so 2.675 prints 2.68; negative zero; thousands
carried into a new group; signs, prefixes, per cent, status symbols) and the trend classes' 10/20/40/
20/10% boundaries (rank 16 of 150 is p = 0.10 exactly: 'Above', seed 000:L3083)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cspa.engine.formatting import display_sql
from cspa.engine.trends import class_sql

BENCH = Path(__file__).resolve().parents[2] / "bench" / "national_build.py"


@pytest.fixture(scope="module")
def baseline():
    spec = importlib.util.spec_from_file_location("national_build_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# value, status, decimals, thousands, plus_sign, prefix, suffix, percent_sign, as the engine prints it
CASES = [
    (2.675, None, 2, False, False, "", "", False, "2.68"),
    (58.75, None, 1, False, False, "", "", True, "58.8%"),
    (-0.04, None, 1, False, False, "", "", False, "0.0"),
    (-2.5, None, 0, False, False, "", "", False, "-3"),
    (0.0, None, 2, False, False, "", "", True, "0.00%"),
    (1234567.0, None, 0, True, False, "£", "", False, "£1,234,567"),
    (-1234.5, None, 0, True, False, "£", "", False, "-£1,235"),
    (999.5, None, 0, True, False, "", "", False, "1,000"),
    (1000000.25, None, 1, True, False, "", "", False, "1,000,000.3"),
    (12.3, None, 1, False, True, "", "", True, "+12.3%"),
    (5.0, None, 0, False, False, "1:", " days", False, "1:5 days"),
    (None, "c", 1, False, False, "", "", True, "c"),
    (3.0, "x", 1, False, False, "", "", False, "x"),
    (None, None, 1, False, False, "", "", False, None),
]
COLUMNS = [
    "value",
    "status",
    "decimals",
    "thousands",
    "plus_sign",
    "prefix",
    "suffix",
    "percent_sign",
    "printed",
]


def test_display_strings_are_the_engines(baseline):
    cases = pd.DataFrame(CASES, columns=COLUMNS)
    con = duckdb.connect()
    sql = f"SELECT {display_sql('t.value', 't.status', 't')} FROM cases t"
    engine = [r[0] for r in con.execute(sql).fetchall()]
    assert engine == [c[-1] for c in CASES]  # the cases say what the engine prints
    measures = cases[COLUMNS[2:8]].assign(unit="percent")
    obs = pd.DataFrame(
        {
            "sid": np.arange(len(CASES)),
            "value": cases["value"].astype(float),
            "status": cases["status"],
            "text": None,
        }
    )
    shown = baseline._pandas_display(obs, measures)
    assert [None if pd.isna(s) else s for s in shown] == engine


def test_trend_class_boundaries_are_the_engines(baseline):
    ranks = pd.DataFrame({"rank": np.arange(1, 151), "n": 150})
    engine = (
        duckdb.connect()
        .execute(f"SELECT {class_sql('rank', 'n')} FROM ranks ORDER BY rank")
        .df()
        .iloc[:, 0]
    )
    assert list(baseline._classes(ranks["rank"], ranks["n"])) == engine.tolist()
    assert engine[15] == "Above"  # rank 16 of 150: p = 0.10 exactly
