"""engine.polarity: the one place that decides "better".

Each SQL helper is checked against the Python rule on every polarity (high, low, middle, none,
missing), and the source tree is searched for a polarity decided anywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from cspa.engine import polarity as pol

POLARITIES = ["high", "low", "middle", "none", None]
PAIRS = [(10.0, 5.0), (5.0, 10.0), (7.0, 7.0), (None, 3.0), (3.0, None)]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _sql(con, expr: str, p: str | None, a: float | None, b: float | None):
    return con.execute(
        f"SELECT {expr} FROM (SELECT ?::VARCHAR AS p, ?::DOUBLE AS a, ?::DOUBLE AS b)", [p, a, b]
    ).fetchall()[0][0]


def test_compare_by_hand():
    assert pol.compare("high", 10, 5) == "better"
    assert pol.compare("low", 10, 5) == "worse"
    assert pol.compare("low", 5, 10) == "better"
    assert pol.compare("high", 7, 7) == "same"
    assert pol.compare("high", 7.4, 7, tolerance=0.5) == "same"
    assert pol.compare("high", 7.6, 7, tolerance=0.5) == "better"
    # middle (symmetric bands) and none (context) have no better direction
    assert pol.compare("middle", 10, 5) is None
    assert pol.compare("none", 10, 5) is None
    assert pol.compare(None, 10, 5) is None
    assert pol.compare("high", None, 5) is None
    # figures are compared at polarity.COMPARED_DECIMALS places: float noise is no change
    assert pol.compare("high", 97.30000000000001, 97.3) == "same"
    assert pol.compare("low", 0.1 + 0.2, 0.3) == "same"
    assert pol.compare("high", 97.3000000001, 97.3) == "better"


@pytest.mark.parametrize("p", POLARITIES)
@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_sql_agrees_with_python(con, p, a, b):
    want = pol.compare(p, a, b)
    assert _sql(con, pol.compare_sql("a", "b", "p"), p, a, b) == want
    better = _sql(con, pol.better_sql("a", "b", "p"), p, a, b)
    assert better == (None if want is None else want == "better")
    assert _sql(con, pol.sign_sql("p"), p, a, b) == pol.sign(p)
    assert _sql(con, pol.judged_sql("p"), p, a, b) is (p in ("high", "low"))
    assert _sql(con, pol.not_judged_sql("p"), p, a, b) == pol.not_judged_reason(p)


@pytest.mark.parametrize("p", POLARITIES)
def test_reversing_polarity_swaps_better_and_worse(p):
    flipped = {"high": "low", "low": "high"}.get(p or "", p)
    for a, b in PAIRS:
        got, back = pol.compare(p, a, b), pol.compare(flipped, a, b)
        swap = {"better": "worse", "worse": "better"}
        assert back == swap.get(got, got)


def test_quarters(con):
    # quarter 1 of the low values is the best quarter where low is good, the worst where high is
    assert _sql(con, pol.best_quarter_sql("1", "p"), "low", None, None) == 1
    assert _sql(con, pol.best_quarter_sql("1", "p"), "high", None, None) == 4
    assert _sql(con, pol.best_quarter_sql("1", "p"), "middle", None, None) is None


def test_orient(con):
    words = {"higher": ("better", "worse"), "lower": ("worse", "better")}
    expr = pol.orient_sql("'higher'", "p", words)
    assert _sql(con, expr, "high", None, None) == "better"
    assert _sql(con, expr, "low", None, None) == "worse"
    assert _sql(con, expr, "none", None, None) is None


# SQL or Python that decides a direction from the polarity's value: only engine/polarity.py may
_DECIDING = re.compile(
    r"polarity\s*(=|<>|!=|==)\s*['\"](high|low)['\"]"
    r"|polarity\s+(NOT\s+)?IN\s*\(\s*'high'"
    r"|polarity\s+WHEN\s+'(high|low)'"
    r"|polarity\.value\s*(==|!=)"
)


def test_no_other_module_decides_better():
    src = Path(__file__).resolve().parents[3] / "src" / "cspa"
    found = [
        f"{p.relative_to(src)}:{n}: {line.strip()}"
        for p in sorted(src.rglob("*.py"))
        if p.name != "polarity.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if _DECIDING.search(line)
    ]
    assert found == []
