"""Significance: confidence intervals, benchmark comparisons and funnel tests, columnar over DuckDB.

Every public function takes a ``duckdb.DuckDBPyRelation`` and returns a lazy relation with the
input columns plus result columns, computed for all rows (or all units of a group) in one SQL
statement. Nothing is written to the database: the SQL runs through ``rel.query`` (a common
table expression over the relation), and the only catalog entries made are the vectorised
chi-square quantile UDF registered by :func:`ensure_udfs`.

Conventions shared by the engine (``trends.py`` and ``spc.py`` import the helpers below):

* A result that cannot be computed is NULL and a ``<prefix>_reason`` text column says why;
  a computed row has a NULL reason.
* Every row carries a one-line ``<prefix>_basis`` saying how its result was made.
* Confidence levels are given as 0.95 / 0.998 or 95 / 99.8 (PHEindicatormethods accepts both);
  CI columns are suffixed with the level: ``_lower95``, ``_upper95``, ``_lower99_8``, ...
* Parameters naming a column may instead be given a number where documented (a constant
  benchmark, target or average); strings are always column names.

Sources (as cited in ``shared/reference/methods.md``): PHEindicatormethods v2.1.0
(``phe_proportion``, ``phe_rate``, ``calculate_ISRatio``, ``assign_funnel_significance``),
Fingertips comparator methods 1 and 17 (fingertips-open, FingertipsNext), and Spiegelhalter (2005)
"Handling over-dispersion of performance indicators" as executed by FunnelPlotR v0.6.0.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from cspa.engine.polarity import not_judged_sql, orient_sql
from cspa.engine.relations import (
    CHI2_QUANTILE_UDF,
    POISSON_EXACT,
    Confidence,
    Number,
    check_new_columns,
    confidence_levels,
    connection_of,
    ensure_udfs,
    fmt_number,
    level_tag,
    level_text,
    levels_text,
    number,
    partition,
    polarity_sql,
    require_columns,
    run,
    z_for,
)
from cspa.store.sql import ident, literal

#: What a direction against a benchmark means under polarity: (high is good, low is good).
DIRECTION_MEANINGS = {
    "highest": ("best", "worst"),
    "higher": ("better", "worse"),
    "similar": ("similar", "similar"),
    "lower": ("worse", "better"),
    "lowest": ("worst", "best"),
}

__all__ = [
    "CHI2_QUANTILE_UDF",
    "compare_ci_overlap",
    "ensure_udfs",
    "flag_outside",
    "funnel_significance",
    "isr_ci",
    "isr_expected",
    "overdispersion_limits",
    "overdispersion_test",
    "poisson_ci",
    "wilson_ci",
]


# --------------------------------------------------------------------------------------------
# Poisson limit expressions
# --------------------------------------------------------------------------------------------


def byars_lower_sql(o: str, z: float) -> str:
    """Byar's lower limit O(1 - 1/(9O) - z/(3 sqrt O))^3; NULL when negative or O = 0."""
    inner = f"(1 - 1 / (9 * {o}) - {literal(z)} / (3 * sqrt({o})))"
    return f"CASE WHEN {o} > 0 AND {inner} >= 0 THEN {o} * pow({inner}, 3) END"


def byars_upper_sql(o: str, z: float) -> str:
    """Byar's upper limit (O+1)(1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3."""
    o1 = f"({o} + 1)"
    return f"{o1} * pow(1 - 1 / (9 * {o1}) + {literal(z)} / (3 * sqrt({o1})), 3)"


def _written_out(o: str, c: float, side: int, computed: str) -> str:
    """A whole count below 10 at a level the catalogue uses reads its limit from
    :data:`cspa.engine.relations.POISSON_EXACT`; anything else is ``computed`` (the UDF)."""
    table = POISSON_EXACT.get(round(c, 12))
    if table is None:
        return computed
    values = "[" + ", ".join(repr(x) for x in table[side]) + "]"
    return (
        f"(CASE WHEN {o} >= 0 AND {o} < 10 AND {o} = floor({o}) "
        f"THEN {values}[CAST({o} AS INTEGER) + 1] ELSE {computed} END)"
    )


def exact_lower_sql(o: str, c: float) -> str:
    """Exact Poisson lower limit chi2inv(alpha/2, 2O)/2 (0 at O = 0)."""
    return _written_out(o, c, 0, f"{CHI2_QUANTILE_UDF}({literal((1 - c) / 2)}, 2 * {o}) / 2")


def exact_upper_sql(o: str, c: float) -> str:
    """Exact Poisson upper limit chi2inv(1 - alpha/2, 2O + 2)/2."""
    return _written_out(
        o, c, 1, f"{CHI2_QUANTILE_UDF}({literal(1 - (1 - c) / 2)}, 2 * {o} + 2) / 2"
    )


def _method_sql(o: str, method: str) -> str:
    """Exact below 10 events, Byar's from 10 (PHEindicatormethods: x = 10 is Byar's)."""
    if method == "auto":
        return f"CASE WHEN {o} < 10 THEN 'Exact' ELSE 'Byars' END"
    if method == "exact":
        return "'Exact'"
    if method == "byars":
        return "'Byars'"
    raise ValueError("method must be 'auto', 'exact' or 'byars'")


# --------------------------------------------------------------------------------------------
# 1.1 Wilson score interval for proportions
# --------------------------------------------------------------------------------------------


def wilson_limits_sql(x: str, n: str, c: float) -> tuple[str, str]:
    """SQL of the Wilson score limits of the proportion ``x`` / ``n`` at level ``c`` (the rule of
    :func:`wilson_ci`, which states it); valid where 0 <= x <= n and n > 0."""
    if c >= 1:
        # z is infinite: the interval is the whole [0, 1] range.
        return "0.0", "1.0"
    z = literal(z_for(c))
    root = f"{z} * sqrt({z} * {z} + 4 * {x} * (1 - {x} / {n}))"
    # Clamped (and exact at x = 0 and x = n) so rounding never puts a limit outside [0, 1].
    lower = (
        f"CASE WHEN {x} = 0 THEN 0.0 ELSE greatest(0.0, "
        f"(2 * {x} + {z} * {z} - {root}) / (2 * ({n} + {z} * {z}))) END"
    )
    upper = (
        f"CASE WHEN {x} = {n} THEN 1.0 ELSE least(1.0, "
        f"(2 * {x} + {z} * {z} + {root}) / (2 * ({n} + {z} * {z}))) END"
    )
    return lower, upper


def poisson_limits_sql(o: str, c: float, method: str) -> tuple[str, str]:
    """SQL of the Poisson limits of the count ``o`` at level ``c``: exact where the column
    ``method`` says 'Exact', Byar's otherwise (the rule of :func:`poisson_ci`, which states it)."""
    z = z_for(c)
    lower = (
        f"CASE WHEN {method} = 'Exact' THEN {exact_lower_sql(o, c)} "
        f"ELSE {byars_lower_sql(o, z)} END"
    )
    upper = (
        f"CASE WHEN {method} = 'Exact' THEN {exact_upper_sql(o, c)} "
        f"ELSE {byars_upper_sql(o, z)} END"
    )
    return lower, upper


def wilson_reason_sql(x: str, n: str, what: str) -> str:
    """SQL: why :func:`wilson_ci` computes no proportion from ``x`` and ``n`` (NULL when it does)."""
    return (
        f"CASE WHEN {x} IS NULL OR {n} IS NULL THEN 'numerator or denominator missing: {what} not computed' "
        f"WHEN {n} <= 0 THEN 'denominator <= 0: {what} not computed' "
        f"WHEN {x} < 0 THEN 'numerator < 0: {what} not computed' "
        f"WHEN {x} > {n} THEN 'numerator > denominator: {what} not computed' END"
    )


def poisson_reason_sql(
    o: str,
    d: str,
    s: str,
    levels: Sequence[float],
    what: str,
    divisor_name: str,
    ok: str,
    method: str,
) -> str:
    """SQL: why :func:`poisson_ci` computes no figure or limit from count ``o``, divisor ``d`` and
    scale ``s`` (``ok``: the inputs are valid; ``method``: 'Exact' or 'Byars'); NULL when it does."""
    # Byar's lower limit can go negative for tiny counts: PHE sets it to NA, and we say so.
    negative = [
        f"CASE WHEN {ok} AND {method} = 'Byars' AND ({byars_lower_sql(o, z_for(c))}) IS NULL "
        f"THEN 'Byar''s {level_text(c)} lower limit negative or undefined: not computed' END"
        for c in levels
    ]
    return (
        "coalesce("
        f"CASE WHEN {o} IS NULL THEN 'count missing: {what} not computed' "
        f"WHEN {o} < 0 THEN 'count < 0: {what} not computed' "
        f"WHEN {d} IS NULL THEN '{divisor_name} missing: {what} not computed' "
        f"WHEN {d} <= 0 THEN '{divisor_name} <= 0: {what} not computed' "
        f"WHEN {s} IS NULL THEN 'scale missing: {what} not computed' END, "
        f"nullif(concat_ws('; ', {', '.join(negative)}), ''))"
    )


def wilson_ci(
    rel: duckdb.DuckDBPyRelation,
    *,
    numerator: str = "numerator",
    denominator: str = "denominator",
    confidence: Confidence = (0.95, 0.998),
    multiplier: float = 1.0,
    prefix: str = "proportion",
) -> duckdb.DuckDBPyRelation:
    """Proportion x/n with Wilson score interval(s) (PHEindicatormethods ``phe_proportion``).

    Rule: value = x/n x multiplier; limits (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))
    x multiplier, z = z(c + (1-c)/2). x = 0 gives lower 0, x = n gives upper 1; at confidence 1
    the limits are 0 and 1. x need not be an integer.

    Input columns: ``numerator`` (x), ``denominator`` (n).
    Output columns: ``<prefix>_value``, ``<prefix>_lower<tag>``, ``<prefix>_upper<tag>`` for each
    level (tag 95, 99_8, ...), ``<prefix>_reason`` (why NULL: missing input, n <= 0, x < 0, x > n),
    ``<prefix>_basis``.
    """
    levels = confidence_levels(confidence)
    require_columns(rel, numerator, denominator)
    new = [f"{prefix}_value", f"{prefix}_reason", f"{prefix}_basis"]
    for c in levels:
        new += [f"{prefix}_lower{level_tag(c)}", f"{prefix}_upper{level_tag(c)}"]
    check_new_columns(rel, new)
    x, n, m = "_cspa_x", "_cspa_n", literal(multiplier)
    cols = [f"CASE WHEN _cspa_ok THEN {x} / {n} * {m} END AS {ident(prefix + '_value')}"]
    for c in levels:
        tag = level_tag(c)
        lower, upper = wilson_limits_sql(x, n, c)
        cols.append(
            f"CASE WHEN _cspa_ok THEN ({lower}) * {m} END AS {ident(f'{prefix}_lower{tag}')}"
        )
        cols.append(
            f"CASE WHEN _cspa_ok THEN ({upper}) * {m} END AS {ident(f'{prefix}_upper{tag}')}"
        )
    what = (
        "proportion"
        if multiplier == 1
        else ("percentage" if multiplier == 100 else f"proportion of {multiplier:g}")
    )
    cols.append(f"{wilson_reason_sql(x, n, what)} AS {ident(prefix + '_reason')}")
    basis = f"Wilson score {levels_text(levels)} CI, {what} (PHEindicatormethods phe_proportion)"
    cols.append(f"{literal(basis)} AS {ident(prefix + '_basis')}")
    sql = f"""
        WITH b AS (
            SELECT *, {number(numerator)} AS {x}, {number(denominator)} AS {n} FROM src
        ), c AS (
            SELECT *, ({x} IS NOT NULL AND {n} IS NOT NULL AND {n} > 0 AND {x} >= 0 AND {x} <= {n})
                AS _cspa_ok
            FROM b
        )
        SELECT * EXCLUDE ({x}, {n}, _cspa_ok), {", ".join(cols)} FROM c
    """
    return run(rel, sql)


# --------------------------------------------------------------------------------------------
# 1.2, 1.3, 1.6 Poisson family: counts, crude rates, indirectly standardised ratios
# --------------------------------------------------------------------------------------------


def _poisson_family(
    rel: duckdb.DuckDBPyRelation,
    *,
    observed: str,
    divisor: str | None,
    scale: str,
    levels: tuple[float, ...],
    method: str,
    prefix: str,
    what: str,
    divisor_name: str,
    source: str,
    con: duckdb.DuckDBPyConnection | None,
) -> duckdb.DuckDBPyRelation:
    """value = O/D x scale with limits lim(O)/D x scale, exact (chi-square) or Byar's per row."""
    ensure_udfs(connection_of(rel, con))
    new = [f"{prefix}_value", f"{prefix}_method", f"{prefix}_reason", f"{prefix}_basis"]
    for c in levels:
        new += [f"{prefix}_lower{level_tag(c)}", f"{prefix}_upper{level_tag(c)}"]
    check_new_columns(rel, new)
    o, d, s = "_cspa_o", "_cspa_d", "_cspa_s"
    d_expr = number(divisor) if divisor is not None else "1.0"
    cols = [
        f"CASE WHEN _cspa_ok THEN {o} / {d} * {s} END AS {ident(prefix + '_value')}",
        f"CASE WHEN _cspa_ok THEN _cspa_method END AS {ident(prefix + '_method')}",
    ]
    for c in levels:
        tag = level_tag(c)
        lower, upper = poisson_limits_sql(o, c, "_cspa_method")
        cols.append(
            f"CASE WHEN _cspa_ok THEN ({lower}) / {d} * {s} END AS {ident(f'{prefix}_lower{tag}')}"
        )
        cols.append(
            f"CASE WHEN _cspa_ok THEN ({upper}) / {d} * {s} END AS {ident(f'{prefix}_upper{tag}')}"
        )
    reason = poisson_reason_sql(o, d, s, levels, what, divisor_name, "_cspa_ok", "_cspa_method")
    cols.append(f"{reason} AS {ident(prefix + '_reason')}")
    lv = levels_text(levels)
    byars_text = f"Byar's {lv} CI (count >= 10), {what} ({source})"
    if method == "auto":
        basis = (
            f"CASE WHEN _cspa_method = 'Exact' THEN {literal(f'Exact Poisson {lv} CI (count < 10), {what} ({source})')} "
            f"ELSE {literal(byars_text)} END"
        )
    else:
        name = "Exact Poisson" if method == "exact" else "Byar's"
        basis = literal(f"{name} {lv} CI, {what} ({source})")
    cols.append(f"{basis} AS {ident(prefix + '_basis')}")
    sql = f"""
        WITH b AS (
            SELECT *, {number(observed)} AS {o}, {d_expr} AS {d}, {scale} AS {s} FROM src
        ), c AS (
            SELECT *,
                ({o} IS NOT NULL AND {o} >= 0 AND {d} IS NOT NULL AND {d} > 0 AND {s} IS NOT NULL)
                    AS _cspa_ok,
                {_method_sql(o, method)} AS _cspa_method
            FROM b
        )
        SELECT * EXCLUDE ({o}, {d}, {s}, _cspa_ok, _cspa_method), {", ".join(cols)} FROM c
    """
    return run(rel, sql)


def poisson_ci(
    rel: duckdb.DuckDBPyRelation,
    *,
    count: str = "count",
    denominator: str | None = None,
    multiplier: float = 1.0,
    confidence: Confidence = (0.95, 0.998),
    method: str = "auto",
    prefix: str = "rate",
    con: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """Count or crude rate with Poisson limits (PHEindicatormethods ``phe_rate``; Byar's method and
    the exact Poisson interval, internal ``byars_lower/upper``).

    Rule: value = x/n x multiplier (x itself when no denominator). Method 'auto' (PHE) uses the
    exact interval chi2inv(a/2, 2x)/2 .. chi2inv(1-a/2, 2x+2)/2 when x < 10 and Byar's
    x(1 - 1/(9x) -/+ z/(3 sqrt x))^3 (upper with x+1) from x = 10; 'exact' or 'byars' force one.
    A negative Byar's lower limit is NULL with a reason (PHE sets it to NA). x may exceed n.

    Input columns: ``count`` (x), optional ``denominator`` (n).
    Output columns: ``<prefix>_value``, ``<prefix>_lower<tag>``, ``<prefix>_upper<tag>``,
    ``<prefix>_method`` ('Exact'/'Byars'), ``<prefix>_reason``, ``<prefix>_basis``.
    """
    levels = confidence_levels(confidence)
    require_columns(rel, count, denominator)
    what = f"rate per {multiplier:g}" if denominator is not None else "count"
    return _poisson_family(
        rel,
        observed=count,
        divisor=denominator,
        scale=literal(multiplier),
        levels=levels,
        method=method,
        prefix=prefix,
        what=what,
        divisor_name="denominator",
        source="PHEindicatormethods phe_rate",
        con=con,
    )


def isr_ci(
    rel: duckdb.DuckDBPyRelation,
    *,
    observed: str = "observed",
    expected: str = "expected",
    refvalue: float = 1.0,
    reference_rate: str | Number | None = None,
    multiplier: float = 1.0,
    confidence: Confidence = (0.95, 0.998),
    method: str = "auto",
    prefix: str = "isr",
    con: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """Indirectly standardised ratio O/E with Poisson limits (PHEindicatormethods
    ``calculate_ISRatio``; with ``reference_rate``, ``calculate_ISRate``).

    Rule: value = O/E x refvalue (100 for the seed's "x100" standardised admission ratios);
    limits lower_E(O)/E, upper_E(O)/E when O < 10 ("Exact") else Byar's lower_B(O)/E, upper_B(O)/E,
    times refvalue. As a rate: ratio and limits x reference_rate x multiplier instead.

    Input columns: ``observed`` (O), ``expected`` (E), optional ``reference_rate`` (a column or
    number, e.g. ``reference_rate`` from :func:`isr_expected`).
    Output columns: ``<prefix>_value``, ``<prefix>_lower<tag>``, ``<prefix>_upper<tag>``,
    ``<prefix>_method``, ``<prefix>_reason``, ``<prefix>_basis``.
    """
    levels = confidence_levels(confidence)
    require_columns(rel, observed, expected, reference_rate)
    if reference_rate is None:
        scale = literal(refvalue)
        what = "standardised ratio" + (f" x {refvalue:g}" if refvalue != 1 else "")
        source = "PHEindicatormethods calculate_ISRatio"
    else:
        scale = f"({number(reference_rate)} * {literal(multiplier)})"
        what = f"indirectly standardised rate per {multiplier:g}"
        source = "PHEindicatormethods calculate_ISRate"
    return _poisson_family(
        rel,
        observed=observed,
        divisor=expected,
        scale=scale,
        levels=levels,
        method=method,
        prefix=prefix,
        what=what,
        divisor_name="expected",
        source=source,
        con=con,
    )


def isr_expected(
    rel: duckdb.DuckDBPyRelation,
    reference: duckdb.DuckDBPyRelation,
    *,
    by: Sequence[str] = ("area",),
    band: str = "band",
    count: str = "count",
    population: str = "population",
    ref_band: str = "band",
    ref_count: str = "count",
    ref_population: str = "population",
) -> duckdb.DuckDBPyRelation:
    """Observed and expected events per unit for indirect standardisation (PHEindicatormethods
    ``calculate_ISRatio``: E = sum_i (x_ref,i / n_ref,i) n_i, O = sum x_i with NAs removed).

    Rule: a NA count is left out of O; a NA population or reference count counts as 0 in E
    (as PHE). Bands are matched by key, not by position; a unit with a band the reference lacks
    gets NULL E with a reason. The reference rate is sum x_ref / sum n_ref over the reference.

    Input: ``rel`` with ``by`` columns, ``band``, ``count``, ``population`` (one row per unit and
    band); ``reference`` with ``ref_band``, ``ref_count``, ``ref_population``.
    Output (one row per unit, an aggregate): the ``by`` columns, ``observed``, ``expected``,
    ``reference_rate``, ``expected_reason``, ``expected_basis``.
    """
    require_columns(rel, *by, band, count, population)
    require_columns(reference, ref_band, ref_count, ref_population)
    ref = reference.project(
        f"{ident(ref_band)} AS _cspa_rb, CAST({ident(ref_count)} AS DOUBLE) AS _cspa_rx, "
        f"CAST({ident(ref_population)} AS DOUBLE) AS _cspa_rn"
    )
    total = reference.aggregate(
        f"sum(CAST({ident(ref_count)} AS DOUBLE)) / sum(CAST({ident(ref_population)} AS DOUBLE)) "
        "AS _cspa_rr"
    )
    joined = rel.join(ref, f"{ident(band)} = _cspa_rb", how="left").cross(total)
    keys = ", ".join(ident(c) for c in by)
    band_rate = "CASE WHEN _cspa_rn > 0 THEN coalesce(_cspa_rx, 0) / _cspa_rn ELSE 0 END"
    sql = f"""
        WITH g AS (
            SELECT {keys},
                sum(CAST({ident(count)} AS DOUBLE)) AS observed,
                sum(({band_rate}) * coalesce(CAST({ident(population)} AS DOUBLE), 0)) AS _cspa_e,
                any_value(_cspa_rr) AS reference_rate,
                count(*) FILTER (WHERE _cspa_rb IS NULL) AS _cspa_unmatched
            FROM src GROUP BY {keys}
        )
        SELECT * EXCLUDE (_cspa_e, _cspa_unmatched),
            CASE WHEN _cspa_unmatched = 0 THEN _cspa_e END AS expected,
            CASE WHEN _cspa_unmatched > 0
                THEN CAST(_cspa_unmatched AS VARCHAR) || ' band(s) without a reference rate: expected not computed'
            END AS expected_reason,
            'expected = sum of reference band rates x unit populations (PHEindicatormethods calculate_ISRatio)'
                AS expected_basis
        FROM g
    """
    return run(joined, sql)


# --------------------------------------------------------------------------------------------
# 4.3 Fingertips comparison with a benchmark by CI overlap (methods 1 and 17)
# --------------------------------------------------------------------------------------------


def overlap_sql(
    v: str, b: str, lo: str, hi: str, lo2: str | None = None, hi2: str | None = None
) -> tuple[str, str]:
    """SQL of the direction of value ``v`` against benchmark ``b`` by CI overlap (the rule of
    :func:`compare_ci_overlap`, which states it; method 17 with the outer limits ``lo2``, ``hi2``)
    and of the gate: why it is not compared (NULL when it is; the direction applies only then)."""
    if lo2 is not None and hi2 is not None:
        ci_missing = f"{lo} IS NULL OR {hi} IS NULL OR {lo2} IS NULL OR {hi2} IS NULL"
        # Benchmark inside the inner CI: similar; between the inner and outer limit: significant at
        # the inner level only; beyond the outer limit: significant at both levels.
        direction = (
            f"CASE WHEN {b} BETWEEN {lo} AND {hi} THEN 'similar' "
            f"WHEN {b} BETWEEN {lo2} AND {lo} THEN 'higher' "
            f"WHEN {b} BETWEEN {hi} AND {hi2} THEN 'lower' "
            f"WHEN {v} < {b} THEN 'lowest' ELSE 'highest' END"
        )
    else:
        ci_missing = f"{lo} IS NULL OR {hi} IS NULL"
        direction = (
            f"CASE WHEN {b} BETWEEN {lo} AND {hi} THEN 'similar' "
            f"WHEN {v} < {b} THEN 'lower' ELSE 'higher' END"
        )
    gate = (
        f"CASE WHEN {v} IS NULL THEN 'value missing: not compared' "
        f"WHEN {b} IS NULL THEN 'benchmark missing: not compared' "
        f"WHEN {ci_missing} THEN 'confidence interval missing: not compared' END"
    )
    return direction, gate


def compare_ci_overlap(
    rel: duckdb.DuckDBPyRelation,
    *,
    value: str = "value",
    benchmark: str | Number = "benchmark",
    lower: str = "lower95",
    upper: str = "upper95",
    lower_outer: str | None = None,
    upper_outer: str | None = None,
    confidence: float = 0.95,
    outer_confidence: float = 0.998,
    polarity: str | None = None,
    polarity_column: str = "polarity",
    benchmark_label: str = "benchmark",
    decimals: int | None = None,
    prefix: str = "vs_benchmark",
) -> duckdb.DuckDBPyRelation:
    """Compare a value with a benchmark by whether the benchmark lies in the value's CI
    (Fingertips comparator method 1, SingleOverlappingCIsForOneCiLevel; with ``lower_outer`` and
    ``upper_outer``, method 17, SingleOverlappingCIsForTwoCiLevels; fingertips-open
    ``PholioVisualisationWS/Analysis``, FingertipsNext ``BenchmarkComparisonEngine``).

    Rule (method 1): similar if LCL <= benchmark <= UCL (inclusive); otherwise lower if the value
    is below the benchmark, else higher. Method 17 adds the outer level: lowest / highest when the
    benchmark is also outside [LCL_outer, UCL_outer]. Polarity is applied in one last step: high
    is good maps higher -> better, highest -> best; low is good swaps; polarity none or middle
    (or missing) gives 'not compared'. A missing value, benchmark or CI gives 'not compared'
    (Fingertips gate conditions) with a reason.

    Input columns: ``value``, ``benchmark`` (column or constant), ``lower``/``upper`` (the CI at
    ``confidence``), optional ``lower_outer``/``upper_outer`` (at ``outer_confidence``), and the
    ``polarity_column`` unless ``polarity`` is given.
    Output columns: ``<prefix>_direction`` (lowest/lower/similar/higher/highest, before
    polarity; NULL when not compared for want of data), ``<prefix>_outcome``
    (worst/worse/similar/better/best/not compared), ``<prefix>_reason``, ``<prefix>_basis``
    (e.g. 'CI overlap vs england at 95%: 57.1-60.5 vs 69.6').
    """
    two = lower_outer is not None or upper_outer is not None
    if two and (lower_outer is None or upper_outer is None):
        raise ValueError("method 17 needs both lower_outer and upper_outer")
    inner_c = confidence_levels(confidence)[0]
    outer_c = confidence_levels(outer_confidence)[0]
    require_columns(rel, value, benchmark, lower, upper, lower_outer, upper_outer)
    if polarity is None:
        require_columns(rel, polarity_column)
    new = [f"{prefix}_{s}" for s in ("direction", "outcome", "reason", "basis")]
    check_new_columns(rel, new)
    v, b, lo, hi = number(value), number(benchmark), number(lower), number(upper)
    pol = polarity_sql(polarity, polarity_column)
    if two:
        lo2, hi2 = number(lower_outer), number(upper_outer)
        direction, gate = overlap_sql(v, b, lo, hi, lo2, hi2)
        ci_text = (
            f"{fmt_number(lo, decimals)} || '-' || {fmt_number(hi, decimals)} || ' / ' || "
            f"{fmt_number(lo2, decimals)} || '-' || {fmt_number(hi2, decimals)}"
        )
        lv = f"{level_text(inner_c)}/{level_text(outer_c)}"
        source = "Fingertips method 17"
    else:
        direction, gate = overlap_sql(v, b, lo, hi)
        ci_text = f"{fmt_number(lo, decimals)} || '-' || {fmt_number(hi, decimals)}"
        lv = level_text(inner_c)
        source = "Fingertips method 1"
    # the one polarity step (engine.polarity) turns higher/lower into better/worse
    outcome = (
        f"coalesce({orient_sql('_cspa_dir', '_cspa_pol', DIRECTION_MEANINGS)}, 'not compared')"
    )
    reason = f"coalesce(_cspa_gate, {not_judged_sql('_cspa_pol')})"
    basis = (
        f"'CI overlap vs {benchmark_label.replace(chr(39), chr(39) * 2)} at {lv}: ' || "
        f"{ci_text} || ' vs ' || {fmt_number(b, decimals)} || ' ({source})'"
    )
    sql = f"""
        WITH g AS (SELECT *, {gate} AS _cspa_gate, {pol} AS _cspa_pol FROM src),
        d AS (SELECT *, CASE WHEN _cspa_gate IS NULL THEN {direction} END AS _cspa_dir FROM g)
        SELECT * EXCLUDE (_cspa_gate, _cspa_pol, _cspa_dir),
            _cspa_dir AS {ident(prefix + "_direction")},
            {outcome} AS {ident(prefix + "_outcome")},
            {reason} AS {ident(prefix + "_reason")},
            {basis} AS {ident(prefix + "_basis")}
        FROM d
    """
    return run(rel, sql)


# --------------------------------------------------------------------------------------------
# 2.1-2.2 PHEindicatormethods funnel significance (no over-dispersion)
# --------------------------------------------------------------------------------------------

_FUNNEL_LEVELS = ((0.998, "0.001"), (0.95, "0.025"))


def _wilson_inversion_sql(av: str, n: str, k: float) -> tuple[str, str]:
    """Closed-form proportion funnel limits at population N (PHEindicatormethods
    ``calculate_funnel_limits``): the observed proportion whose Wilson bound equals av."""
    kk = literal(k)
    a = f"({av} * ({n} / {kk} + 1))"
    b = f"(1 / {kk} + 1 / {n})"
    rad = (
        f"pow(8 * {av} * ({n} / {kk} + 1), 2) - 64 * {b} * {av} * "
        f"({n} * ({av} * ({n} / {kk} + 2) - 1) + {kk} * ({av} - 1))"
    )
    d = f"sqrt(greatest({rad}, 0))"
    # Clamped to [0, 1]: PHE clamps upper limits at 100 whatever the multiplier, which on the
    # proportion scale used here is 1 (and 100 for a percentage).
    low = f"greatest(({a} - {d} / 8) / {b} / {n}, 0)"
    high = f"least(({a} + {d} / 8) / {b} / {n}, 1)"
    return low, high


def funnel_significance(
    rel: duckdb.DuckDBPyRelation,
    *,
    kind: str = "proportion",
    numerator: str = "numerator",
    denominator: str | None = "denominator",
    rate: str | None = None,
    rate_type: str = "crude",
    multiplier: float = 100000.0,
    average: str | Number | None = None,
    group_by: Sequence[str] = (),
    prefix: str = "funnel",
    con: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """Funnel-plot significance labels without over-dispersion (PHEindicatormethods
    ``assign_funnel_significance``, ``calculate_funnel_limits``; Fingertips technical guidance).

    Rule. Levels 2s = 95% (p = 0.025 per tail) and 3s = 99.8% (p = 0.001); checks in the order
    3s low, 2s low, 3s high, 2s high, else 'Not significant'; all comparisons strict.
    * ``proportion``: p = num/den against the Wilson-inversion limits at N = den around the
      average av (Sum num / Sum den over ``group_by`` unless ``average`` is given).
    * ``ratio`` (O/E, numerator O, denominator E): High when 1 (or ``average``) is below
      lower(O)/E, Low when above upper(O)/E; exact limits for O < 10, Byar's otherwise.
    * ``rate`` (numerator = count, ``rate`` per ``multiplier``): denominator_derived =
      multiplier x count / rate (dsr: NULL at count 0; crude: the supplied denominator at count
      0); av = Sum count / Sum denominator_derived; compared as for ratios. A DSR with count < 10
      is 'Not applicable for events less than 10 for dsrs'.

    Output columns: ``<prefix>_significance`` (PHE label), ``<prefix>_average``, for
    proportions ``<prefix>_limit_low95``/``_limit_high95``/``_limit_low99_8``/``_limit_high99_8``
    (the funnel limits at the unit's denominator, as proportions), ``<prefix>_reason``,
    ``<prefix>_basis``.
    """
    if kind not in ("proportion", "ratio", "rate"):
        raise ValueError("kind must be 'proportion', 'ratio' or 'rate'")
    if rate_type not in ("crude", "dsr"):
        raise ValueError("rate_type must be 'crude' or 'dsr'")
    require_columns(rel, numerator, denominator, rate, average, *group_by)
    new = [f"{prefix}_{s}" for s in ("significance", "average", "reason", "basis")]
    if kind == "proportion":
        new += [f"{prefix}_limit_{s}{t}" for s in ("low", "high") for t in ("95", "99_8")]
    check_new_columns(rel, new)
    over = f"OVER ({partition(group_by)})"
    num = number(numerator)
    if kind == "rate":
        if rate is None:
            raise ValueError("kind='rate' needs the rate column")
        mult = literal(multiplier)
        derived = f"{mult} * {num} / {number(rate)}"
        at_zero = "NULL" if rate_type == "dsr" else (number(denominator) if denominator else "NULL")
        den = f"CASE WHEN {num} = 0 THEN {at_zero} ELSE {derived} END"
    else:
        if denominator is None:
            raise ValueError(f"kind={kind!r} needs a denominator")
        den = number(denominator)
    if average is not None:
        av = number(average)
    elif kind == "ratio":
        av = "1.0"
    else:
        av = f"sum(_cspa_num) {over} / sum(_cspa_den) {over}"

    labels = []
    limit_cols = []
    if kind == "proportion":
        p = "(_cspa_num / _cspa_den)"
        for c, tail in _FUNNEL_LEVELS:
            low, high = _wilson_inversion_sql("_cspa_av", "_cspa_den", z_for(c) ** 2)
            tag = level_tag(c)
            limit_cols += [
                f"CASE WHEN _cspa_ok THEN {low} END AS {ident(f'{prefix}_limit_low{tag}')}",
                f"CASE WHEN _cspa_ok THEN {high} END AS {ident(f'{prefix}_limit_high{tag}')}",
            ]
            labels.append((f"{p} < {low}", f"Low ({tail})", f"{p} > {high}", f"High ({tail})"))
        reason = (
            "CASE WHEN _cspa_num IS NULL OR _cspa_den IS NULL THEN 'numerator or denominator missing: not assessed' "
            "WHEN _cspa_den <= 0 THEN 'denominator <= 0: not assessed' "
            "WHEN _cspa_num < 0 OR _cspa_num > _cspa_den THEN 'numerator outside 0..denominator: not assessed' "
            "WHEN _cspa_av IS NULL THEN 'average undefined: not assessed' END"
        )
        basis = "Wilson funnel limits 95% and 99.8% around the average (PHEindicatormethods assign_funnel_significance)"
    else:
        ensure_udfs(connection_of(rel, con))
        o = "_cspa_num"
        for c, tail in _FUNNEL_LEVELS:
            z = z_for(c)
            lower = f"(CASE WHEN {o} < 10 THEN {exact_lower_sql(o, c)} ELSE {byars_lower_sql(o, z)} END)"
            upper = f"(CASE WHEN {o} < 10 THEN {exact_upper_sql(o, c)} ELSE {byars_upper_sql(o, z)} END)"
            labels.append(
                (
                    f"_cspa_av > {upper} / _cspa_den",
                    f"Low ({tail})",
                    f"_cspa_av < {lower} / _cspa_den",
                    f"High ({tail})",
                )
            )
        what = "expected" if kind == "ratio" else "derived denominator"
        reason = (
            f"CASE WHEN _cspa_num IS NULL THEN 'count missing: not assessed' "
            f"WHEN _cspa_num < 0 THEN 'count < 0: not assessed' "
            f"WHEN _cspa_den IS NULL OR _cspa_den <= 0 THEN '{what} missing or <= 0: not assessed' "
            f"WHEN _cspa_av IS NULL THEN 'average undefined: not assessed' END"
        )
        basis = (
            "Poisson limits (exact below 10, Byar's from 10) at 95% and 99.8% vs "
            + ("1" if kind == "ratio" and average is None else "the average")
            + " (PHEindicatormethods assign_funnel_significance)"
        )
    order = [(lt, ll) for lt, ll, _, _ in labels] + [(ht, hl) for _, _, ht, hl in labels]
    label = "CASE " + " ".join(f"WHEN {t} THEN {literal(lab)}" for t, lab in order)
    label += " ELSE 'Not significant' END"
    label = f"CASE WHEN _cspa_ok THEN {label} END"
    if kind == "rate" and rate_type == "dsr":
        label = (
            "CASE WHEN _cspa_num IS NOT NULL AND _cspa_num < 10 "
            f"THEN 'Not applicable for events less than 10 for dsrs' ELSE {label} END"
        )
        reason = (
            "CASE WHEN _cspa_num IS NOT NULL AND _cspa_num < 10 "
            f"THEN 'count < 10: DSR not assessed' ELSE {reason} END"
        )
    valid = "(_cspa_num IS NOT NULL AND _cspa_num >= 0 AND _cspa_den IS NOT NULL AND _cspa_den > 0"
    valid += " AND _cspa_num <= _cspa_den)" if kind == "proportion" else ")"
    sql = f"""
        WITH b AS (SELECT *, {num} AS _cspa_num, {den} AS _cspa_den FROM src),
        c AS (SELECT *, {av} AS _cspa_av FROM b),
        d AS (SELECT *, ({valid} AND _cspa_av IS NOT NULL) AS _cspa_ok FROM c)
        SELECT * EXCLUDE (_cspa_num, _cspa_den, _cspa_av, _cspa_ok),
            {label} AS {ident(prefix + "_significance")},
            _cspa_av AS {ident(prefix + "_average")},
            {"".join(col + ", " for col in sorted(limit_cols, key=lambda t: "99_8" in t))}
            {reason} AS {ident(prefix + "_reason")},
            {literal(basis)} AS {ident(prefix + "_basis")}
        FROM d
    """
    return run(rel, sql)


# --------------------------------------------------------------------------------------------
# 3. Spiegelhalter (2005) additive over-dispersion model
# --------------------------------------------------------------------------------------------

_OD_KINDS = {
    # kind: (transform of a value on its natural scale, within-unit SD at denominator n, label)
    "proportion": ("asin(sqrt({v}))", "1 / (2 * sqrt({n}))", "PR arcsine"),
    "ratio": ("sqrt({v})", "1 / (2 * sqrt({n}))", "SR square-root (CQC)"),
    "ratio_shmi": ("ln({v})", "1 / sqrt({n})", "SR log (SHMI)"),
}


def _od_kind(kind: str) -> tuple[str, str, str]:
    if kind not in _OD_KINDS:
        raise ValueError(f"kind must be one of {sorted(_OD_KINDS)}")
    return _OD_KINDS[kind]


def _od_back(kind: str, t: str, half: str) -> tuple[str, str]:
    """Back-transform target t -/+ half-width to the value scale, truncated where the transform
    folds over (arcsine below 0 or above pi/2, square root below 0)."""
    if kind == "proportion":
        low = f"CASE WHEN {t} - {half} <= 0 THEN 0.0 ELSE pow(sin({t} - {half}), 2) END"
        high = f"CASE WHEN {t} + {half} >= pi() / 2 THEN 1.0 ELSE pow(sin({t} + {half}), 2) END"
    elif kind == "ratio":
        low = f"CASE WHEN {t} - {half} <= 0 THEN 0.0 ELSE pow({t} - {half}, 2) END"
        high = f"pow({t} + {half}, 2)"
    else:
        low, high = f"exp({t} - {half})", f"exp({t} + {half})"
    return low, high


def overdispersion_test(
    rel: duckdb.DuckDBPyRelation,
    *,
    numerator: str = "numerator",
    denominator: str = "denominator",
    kind: str = "proportion",
    group_by: Sequence[str] = (),
    target: str | Number | None = None,
    compare_to: str | Number | None = None,
    trim: float = 0.1,
    confidence: float = 0.95,
    prefix: str = "od",
) -> duckdb.DuckDBPyRelation:
    """Spiegelhalter (2005) additive random-effects over-dispersion test, "Handling
    over-dispersion of performance indicators", Qual Saf Health Care 14:347-51 (the seed's
    "additive over-dispersion model"; executed as FunnelPlotR ``od_adjustment.R``).

    Rule, per group of units (``group_by``, e.g. indicator and period; all units at once):
    1. transform: ``proportion`` (PR) Y = asin sqrt(y/n), s = 1/(2 sqrt n), target
       asin sqrt(Sum y / Sum n) unless given; ``ratio`` (SR, CQC) Y = sqrt(O/E), s = 1/(2 sqrt E),
       target 1; ``ratio_shmi`` Y = ln(O/E), s = 1/sqrt E, target 0. z = (Y - target)/s.
    2. winsorise z at the type-7 ``trim`` and 1 - ``trim`` quantiles (SHMI: truncate instead,
       dropping units with floor(rank x 10/(I + 1)) <= 0 or >= 9, average ranks);
    3. phi = mean of squared winsorised z over the I retained units;
    4. tau^2 = max(0, (I phi - (I - 1)) / (Sum w - Sum w^2 / Sum w)), w = 1/s^2; 0 if I phi < I - 1;
    5. z_D = (Y - theta)/sqrt(s^2 + tau^2) where theta is ``compare_to`` (transformed) or the
       target: tau^2 is always estimated against the target over all units, and a benchmark
       group comparison reuses it (methods.md 3.1 step 7). FunnelPlotR draws unadjusted limits
       when phi <= 1, so tau^2 is then not applied.
    6. flag 'high' if z_D > z_c, 'low' if z_D < -z_c, else '-' (z_c = 1.959964 at 95%).
    Limits at the unit's own denominator (value scale) agree with the flag: PR
    sin^2(theta -/+ z sqrt(s^2 + tau^2)), SR (theta -/+ ...)^2 (FunnelPlotR plots the CQC limits
    without squaring; squared here so a point outside them is exactly a flagged point).

    Input columns: ``numerator`` (y or O), ``denominator`` (n or E), ``group_by`` columns,
    optional ``target`` and ``compare_to`` (columns or constants, on the value scale: a
    proportion 0-1 or an O/E ratio).
    Output columns ``<prefix>_``: ``value`` (y/n or O/E), ``target`` (value scale), ``z``,
    ``z_winsorised`` (NULL for a truncated unit), ``units`` (I), ``phi``, ``tau2``,
    ``tau2_applied``, ``z_adjusted``, ``flag``, ``lower``, ``upper``, ``reason``, ``basis``.
    """
    tf, sd, label = _od_kind(kind)
    c = confidence_levels(confidence)[0]
    if not 0 <= trim < 0.5:
        raise ValueError("trim must be in [0, 0.5)")
    require_columns(rel, numerator, denominator, target, compare_to, *group_by)
    outs = (
        "value",
        "target",
        "z",
        "z_winsorised",
        "units",
        "phi",
        "tau2",
        "tau2_applied",
        "z_adjusted",
        "flag",
        "lower",
        "upper",
        "reason",
        "basis",
    )
    check_new_columns(rel, [f"{prefix}_{o}" for o in outs])
    part = partition(group_by)
    y, n = "_cspa_y", "_cspa_n"
    ok = f"({y} IS NOT NULL AND {n} IS NOT NULL AND {n} > 0 AND {y} >= 0"
    if kind == "proportion":
        ok += f" AND {y} <= {n})"
    elif kind == "ratio_shmi":
        ok += f" AND {y} > 0)"  # ln(0) is undefined
    else:
        ok += ")"
    if target is not None:
        tgt = number(target)
    elif kind == "proportion":
        # Pooled proportion over the valid units of the group.
        tgt = (
            f"sum(CASE WHEN _cspa_ok THEN {y} END) OVER ({part}) / "
            f"sum(CASE WHEN _cspa_ok THEN {n} END) OVER ({part})"
        )
    else:
        tgt = "1.0"
    cmp_ = number(compare_to) if compare_to is not None else "_cspa_tv"
    zc = literal(z_for(c))
    tr = lambda v: tf.format(v=v)  # noqa: E731
    s = sd.format(n=n)
    okpart = "PARTITION BY " + ", ".join(["_cspa_grp_ok", *(ident(g) for g in group_by)])
    if kind == "ratio_shmi":
        # Truncation (NHS Digital SHMI): rank with average ties, keep 0 < floor(rank k/(I+1)) < k-1.
        if trim > 0:
            k = literal(1 / trim)
            avg_rank = (
                f"(rank() OVER ({okpart} ORDER BY _cspa_z) "
                f"+ (count(*) OVER ({okpart}, _cspa_z) - 1) / 2.0)"
            )
            keep = f"floor({avg_rank} * {k} / (count(*) OVER ({okpart}) + 1)) BETWEEN 1 AND {k} - 2"
        else:
            keep = "TRUE"
        wz = f"CASE WHEN _cspa_ok AND {keep} THEN _cspa_z END"
        trim_text = f"truncated {trim:g} each end"
    else:
        lz = f"quantile_cont(_cspa_z, {literal(trim)}) OVER ({okpart})"
        uz = f"quantile_cont(_cspa_z, {literal(1 - trim)}) OVER ({okpart})"
        wz = f"CASE WHEN _cspa_ok THEN least(greatest(_cspa_z, {lz}), {uz}) END"
        trim_text = f"winsorised {trim:g} each end"
    tau = (
        "CASE WHEN _cspa_units < 2 THEN NULL WHEN _cspa_units * _cspa_phi < _cspa_units - 1 THEN 0.0 "
        "ELSE greatest(0.0, (_cspa_units * _cspa_phi - (_cspa_units - 1)) / "
        "(_cspa_sw - _cspa_sw2 / _cspa_sw)) END"
    )
    low, high = _od_back(kind, "_cspa_tc", f"{zc} * sqrt(_cspa_s * _cspa_s + _cspa_tau2a)")
    basis = (
        f"'Spiegelhalter additive over-dispersion, {label}, {trim_text}, {level_text(c)}: "
        "phi ' || coalesce(printf('%.4f', _cspa_phi), 'NULL') || ', tau2 ' || "
        "coalesce(printf('%.6g', _cspa_tau2), 'NULL') || "
        "CASE WHEN _cspa_tau2 IS NOT NULL AND _cspa_phi <= 1 THEN ' (no over-dispersion: unadjusted)' ELSE '' END || "
        "', I = ' || CAST(_cspa_units AS VARCHAR) || ' (FunnelPlotR od_adjustment)'"
    )
    sql = f"""
        WITH a AS (
            SELECT *, {number(numerator)} AS {y}, {number(denominator)} AS {n} FROM src
        ), b AS (
            SELECT *, {ok} AS _cspa_ok, coalesce({ok}, FALSE) AS _cspa_grp_ok FROM a
        ), c AS (
            SELECT *, {tgt} AS _cspa_tv,
                CASE WHEN _cspa_ok THEN {y} / {n} END AS _cspa_v,
                CASE WHEN _cspa_ok THEN {s} END AS _cspa_s
            FROM b
        ), d AS (
            SELECT *, {tr(cmp_)} AS _cspa_tc,
                CASE WHEN _cspa_ok THEN ({tr("_cspa_v")} - {tr("_cspa_tv")}) / _cspa_s END AS _cspa_z
            FROM c
        ), e AS (
            SELECT *, {wz} AS _cspa_wz FROM d
        ), f AS (
            SELECT *,
                count(_cspa_wz) OVER ({part}) AS _cspa_units,
                avg(_cspa_wz * _cspa_wz) OVER ({part}) AS _cspa_phi,
                sum(CASE WHEN _cspa_wz IS NOT NULL THEN 1 / (_cspa_s * _cspa_s) END) OVER ({part})
                    AS _cspa_sw,
                sum(CASE WHEN _cspa_wz IS NOT NULL THEN pow(1 / (_cspa_s * _cspa_s), 2) END)
                    OVER ({part}) AS _cspa_sw2
            FROM e
        ), g AS (
            SELECT *, {tau} AS _cspa_tau2 FROM f
        ), h AS (
            SELECT *, CASE WHEN _cspa_tau2 IS NULL THEN NULL WHEN _cspa_phi > 1 THEN _cspa_tau2
                ELSE 0.0 END AS _cspa_tau2a
            FROM g
        ), i AS (
            SELECT *,
                CASE WHEN _cspa_ok THEN ({tr("_cspa_v")} - _cspa_tc)
                    / sqrt(_cspa_s * _cspa_s + _cspa_tau2a) END AS _cspa_zd
            FROM h
        )
        SELECT * EXCLUDE (
                {y}, {n}, _cspa_ok, _cspa_grp_ok, _cspa_tv, _cspa_v, _cspa_s, _cspa_tc,
                _cspa_z, _cspa_wz, _cspa_units, _cspa_phi, _cspa_sw, _cspa_sw2, _cspa_tau2,
                _cspa_tau2a, _cspa_zd),
            _cspa_v AS {ident(prefix + "_value")},
            {cmp_ if compare_to is not None else "_cspa_tv"} AS {ident(prefix + "_target")},
            _cspa_z AS {ident(prefix + "_z")},
            _cspa_wz AS {ident(prefix + "_z_winsorised")},
            _cspa_units AS {ident(prefix + "_units")},
            _cspa_phi AS {ident(prefix + "_phi")},
            _cspa_tau2 AS {ident(prefix + "_tau2")},
            _cspa_tau2a AS {ident(prefix + "_tau2_applied")},
            _cspa_zd AS {ident(prefix + "_z_adjusted")},
            CASE WHEN _cspa_zd IS NULL THEN NULL WHEN _cspa_zd > {zc} THEN 'high'
                WHEN _cspa_zd < -{zc} THEN 'low' ELSE '-' END AS {ident(prefix + "_flag")},
            CASE WHEN _cspa_zd IS NOT NULL THEN {low} END AS {ident(prefix + "_lower")},
            CASE WHEN _cspa_zd IS NOT NULL THEN {high} END AS {ident(prefix + "_upper")},
            CASE WHEN {y} IS NULL OR {n} IS NULL THEN 'numerator or denominator missing: not assessed'
                WHEN {n} <= 0 THEN 'denominator <= 0: not assessed'
                WHEN NOT _cspa_ok THEN 'numerator out of range for the transform: not assessed'
                WHEN _cspa_tc IS NULL THEN 'target undefined: not assessed'
                WHEN _cspa_units < 2 THEN 'fewer than 2 units: over-dispersion not estimated'
            END AS {ident(prefix + "_reason")},
            {basis} AS {ident(prefix + "_basis")}
        FROM i
    """
    return run(rel, sql)


def overdispersion_limits(
    rel: duckdb.DuckDBPyRelation,
    *,
    denominator: str = "denominator",
    target: str | Number = "target",
    tau2: str | Number | None = "tau2",
    kind: str = "proportion",
    confidence: Confidence = (0.95, 0.998),
    prefix: str = "funnel",
    con: duckdb.DuckDBPyConnection | None = None,
) -> duckdb.DuckDBPyRelation:
    """Funnel limits at given denominators under Spiegelhalter's (2005) additive model
    (FunnelPlotR ``calculate_limits``).

    Rule: on the transformed scale the limits are theta -/+ z_c sqrt(s(n)^2 + tau^2),
    back-transformed: PR sin^2(asin sqrt p0 -/+ z sqrt(1/(4n) + tau^2)) truncated to [0, 1]
    (and to 0 or 1 where the arcsine folds over); SR (CQC) (sqrt(target) -/+ z sqrt(1/(4E) +
    tau^2))^2; SHMI target x exp(-/+ z sqrt(1/E + tau^2)). With ``tau2=None`` the limits are
    unadjusted: PR with tau^2 = 0, SR exact Poisson target x chi2inv(a/2, 2E)/2/E ..
    target x chi2inv(1 - a/2, 2E + 2)/2/E.

    Input columns: ``denominator`` (n or E), ``target`` (value scale), ``tau2`` (columns or
    constants; a grid of denominators crossed with ``overdispersion_test`` results works).
    Output columns: ``<prefix>_lower<tag>``, ``<prefix>_upper<tag>``, ``<prefix>_reason``,
    ``<prefix>_basis``.
    """
    tf, sd, label = _od_kind(kind)
    levels = confidence_levels(confidence)
    require_columns(rel, denominator, target, tau2)
    new = [f"{prefix}_reason", f"{prefix}_basis"]
    for c in levels:
        new += [f"{prefix}_lower{level_tag(c)}", f"{prefix}_upper{level_tag(c)}"]
    check_new_columns(rel, new)
    n, t = "_cspa_n", "_cspa_t"
    cols = []
    poisson = tau2 is None and kind in ("ratio", "ratio_shmi")
    if poisson:
        ensure_udfs(connection_of(rel, con))
    for c in levels:
        tag = level_tag(c)
        if poisson:
            low = f"{t} * {exact_lower_sql(n, c)} / {n}"
            high = f"{t} * {exact_upper_sql(n, c)} / {n}"
        else:
            half = f"{literal(z_for(c))} * sqrt(pow({sd.format(n=n)}, 2) + _cspa_tau2)"
            low, high = _od_back(kind, tf.format(v=t), half)
        cols.append(f"CASE WHEN _cspa_ok THEN {low} END AS {ident(f'{prefix}_lower{tag}')}")
        cols.append(f"CASE WHEN _cspa_ok THEN {high} END AS {ident(f'{prefix}_upper{tag}')}")
    tau_expr = "0.0" if tau2 is None else number(tau2)
    if poisson:
        how = "unadjusted exact Poisson"
    elif tau2 is None:
        how = f"unadjusted {label}"
    else:
        how = f"additive over-dispersion {label}"
    basis = f"{how} funnel limits {levels_text(levels)} (Spiegelhalter 2005; FunnelPlotR calculate_limits)"
    sql = f"""
        WITH b AS (
            SELECT *, {number(denominator)} AS {n}, {number(target)} AS {t}, {tau_expr} AS _cspa_tau2
            FROM src
        ), c AS (
            SELECT *, ({n} > 0 AND {t} IS NOT NULL AND _cspa_tau2 >= 0) AS _cspa_ok FROM b
        )
        SELECT * EXCLUDE ({n}, {t}, _cspa_tau2, _cspa_ok), {", ".join(cols)},
            CASE WHEN {n} IS NULL OR {n} <= 0 THEN 'denominator missing or <= 0: no limits'
                WHEN {t} IS NULL THEN 'target missing: no limits'
                WHEN _cspa_tau2 IS NULL OR _cspa_tau2 < 0 THEN 'tau2 missing or negative: no limits'
            END AS {ident(prefix + "_reason")},
            {literal(basis)} AS {ident(prefix + "_basis")}
        FROM c
    """
    return run(rel, sql)


def flag_outside(
    rel: duckdb.DuckDBPyRelation,
    *,
    value: str = "value",
    lower: str | Number = "lower",
    upper: str | Number = "upper",
    prefix: str = "outlier",
) -> duckdb.DuckDBPyRelation:
    """Whether a value lies outside funnel limits (FunnelPlotR ``outliers_func``): inside means
    LCL <= value <= UCL, so a value on a limit is not an outlier.

    Output columns: ``<prefix>`` (1 outside, 0 inside, NULL if anything is missing),
    ``<prefix>_reason``, ``<prefix>_basis``.
    """
    require_columns(rel, value, lower, upper)
    check_new_columns(rel, [prefix, f"{prefix}_reason", f"{prefix}_basis"])
    v, lo, hi = number(value), number(lower), number(upper)
    sql = f"""
        SELECT *,
            CASE WHEN {v} IS NULL OR {lo} IS NULL OR {hi} IS NULL THEN NULL
                WHEN {v} BETWEEN {lo} AND {hi} THEN 0 ELSE 1 END AS {ident(prefix)},
            CASE WHEN {v} IS NULL OR {lo} IS NULL OR {hi} IS NULL
                THEN 'value or limit missing: not assessed' END AS {ident(prefix + "_reason")},
            'outside the limits (strict; FunnelPlotR outliers_func)' AS {ident(prefix + "_basis")}
        FROM src
    """
    return run(rel, sql)
