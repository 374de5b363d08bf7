"""Polarity: which way is better. The one place that turns "higher" and "lower" into "better" and "worse".

A measure's polarity is catalogue data (``catalogue.models.Polarity``):

* ``high``: a higher figure is better (attainment, timeliness);
* ``low``: a lower figure is better (re-referrals, absence, infant mortality);
* ``middle``: neither end is better; a band in the middle is (the seed's symmetric bands,
  1 to 5 blobs and back to 2, 000:L2775-2776). Bands judge it themselves; no comparison is
  better or worse;
* ``none``: the figure is context, not performance (population, expenditure per head).

Every family that compares (traffic lights, progress, quartiles and ranks, significance,
trends, the quarterly RAG, assessment evidence) asks here, so the rule is written once:
only ``high`` and ``low`` have a better direction; ``middle`` and ``none`` give no judgement
(NULL, with the reason :func:`not_judged_reason` words). This follows FingertipsNext's
benchmark engine, which turns higher/lower into better/worse in one last step and leaves
"no judgement" indicators neutral.

Figures are compared at :data:`COMPARED_DECIMALS` decimal places, far below any published
precision: a source's floating-point noise is not a difference (LAIT's spreadsheets hold
97.30000000000001 beside 97.3 for two authorities that both published 97.3, which would otherwise
rank one above the other, split them across a quartile cut, or call an unchanged 97.3 improved).
The engine's neighbour means and trend slopes are rounded to the same places for the same reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from cspa.store.sql import in_list, string

__all__ = [
    "COMPARED_DECIMALS",
    "JUDGED",
    "POLARITIES",
    "best_quarter_sql",
    "better_sql",
    "compare",
    "compare_sql",
    "compared",
    "compared_sql",
    "goodness_sql",
    "judged_sql",
    "not_judged_reason",
    "not_judged_sql",
    "orient_sql",
    "sign",
    "sign_sql",
]

POLARITIES = ("high", "low", "middle", "none")
#: The polarities with a better direction.
JUDGED = ("high", "low")

Comparison = Literal["better", "worse", "same"]

#: The decimal places figures are compared at (see the module's docstring).
COMPARED_DECIMALS = 10


def compared(value: float) -> float:
    """A figure as it is compared, at :data:`COMPARED_DECIMALS` places, rounded as SQL's
    ``round(value, places)`` rounds (half away from zero on value x 10^places; Python's ``round``
    rounds some halves the other way), so :func:`compare` and :func:`compare_sql` agree."""
    y = value * 10.0**COMPARED_DECIMALS
    return math.copysign(math.floor(abs(y) + 0.5), y) / 10.0**COMPARED_DECIMALS


def sign(polarity: str | None) -> int | None:
    """+1 where higher is better, -1 where lower is better, None where neither is."""
    return {"high": 1, "low": -1}.get(polarity or "")


def compare(
    polarity: str | None, value: float | None, reference: float | None, tolerance: float = 0.0
) -> Comparison | None:
    """``value`` against ``reference`` under ``polarity``: better, worse, or the same within
    ``tolerance`` (in the figure's units); None when either is missing or the polarity has no
    better direction."""
    s = sign(polarity)
    if s is None or value is None or reference is None:
        return None
    gap = (compared(value) - compared(reference)) * s
    if gap > tolerance:
        return "better"
    if -gap > tolerance:
        return "worse"
    return "same"


def not_judged_reason(polarity: str | None) -> str | None:
    """Why a comparison under ``polarity`` is not judged (None when it is)."""
    if polarity in JUDGED:
        return None
    if polarity == "middle":
        return "polarity middle (the middle band is best): not judged better or worse"
    if polarity == "none":
        return "polarity none (context, not performance): not judged better or worse"
    return "polarity missing: not judged better or worse"


# ---------------------------------------------------------------------------------------- SQL


def sign_sql(polarity: str) -> str:
    """SQL: 1 (high is good), -1 (low is good) or NULL (middle, none, missing) of a polarity expression."""
    return f"(CASE {polarity} WHEN 'high' THEN 1 WHEN 'low' THEN -1 END)"


def judged_sql(polarity: str) -> str:
    """SQL: true where the polarity expression has a better direction."""
    return f"(coalesce({polarity} IN {in_list(JUDGED)}, FALSE))"


def compared_sql(value: str) -> str:
    """SQL: a figure as it is compared, at :data:`COMPARED_DECIMALS` places."""
    return f"round({value}, {COMPARED_DECIMALS})"


def better_sql(value: str, reference: str, polarity: str) -> str:
    """SQL: true where ``value`` is strictly better than ``reference``; NULL where not judged."""
    return f"(({compared_sql(value)} - {compared_sql(reference)}) * {sign_sql(polarity)} > 0)"


def compare_sql(value: str, reference: str, polarity: str, tolerance: str = "0") -> str:
    """SQL: 'better' / 'worse' / 'same' (within ``tolerance``, an SQL expression in the figure's
    units) of ``value`` against ``reference``; NULL when either is missing or not judged."""
    gap = f"(({compared_sql(value)} - {compared_sql(reference)}) * {sign_sql(polarity)})"
    return (
        f"(CASE WHEN {gap} IS NULL THEN NULL WHEN {gap} > ({tolerance}) THEN 'better' "
        f"WHEN -{gap} > ({tolerance}) THEN 'worse' ELSE 'same' END)"
    )


def goodness_sql(value: str, polarity: str) -> str:
    """SQL: the value oriented so that larger is better (value x sign); NULL where not judged."""
    return f"({compared_sql(value)} * {sign_sql(polarity)})"


def best_quarter_sql(quarter_from_low: str, polarity: str) -> str:
    """SQL: a quarter counted from the low values (1 = lowest quarter) renumbered from the best
    (1 = best quarter) under polarity; NULL where not judged."""
    return f"(CASE {polarity} WHEN 'low' THEN ({quarter_from_low}) WHEN 'high' THEN 5 - ({quarter_from_low}) END)"


def orient_sql(direction: str, polarity: str, words: Mapping[str, tuple[str, str]]) -> str:
    """SQL: a direction word turned into its meaning under polarity.

    ``words`` maps each direction (``'higher'``) to what it means (``('better', 'worse')``):
    the first where high is good, the second where low is good. A direction not in ``words``,
    or a polarity with no better direction, gives NULL.
    """
    high = " ".join(f"WHEN {string(d)} THEN {string(h)}" for d, (h, _) in words.items())
    low = " ".join(f"WHEN {string(d)} THEN {string(lo)}" for d, (_, lo) in words.items())
    return (
        f"(CASE {polarity} WHEN 'high' THEN CASE {direction} {high} END "
        f"WHEN 'low' THEN CASE {direction} {low} END END)"
    )


def not_judged_sql(polarity: str) -> str:
    """SQL of :func:`not_judged_reason`: NULL where the polarity has a better direction."""
    return (
        f"(CASE WHEN {polarity} IN {in_list(JUDGED)} THEN NULL "
        f"WHEN {polarity} = 'middle' THEN {string(not_judged_reason('middle'))} "
        f"WHEN {polarity} = 'none' THEN {string(not_judged_reason('none'))} "
        f"ELSE {string(not_judged_reason(None))} END)"
    )
