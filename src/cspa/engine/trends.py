"""Trends: the seed's moving-average trend classes and the Fingertips recent trend, columnar.

Both functions take a long relation (one row per series and year) and return it with the
series-level results attached to every row of the series, computed for all series at once in
one SQL statement (window functions and ``regr_slope``); nothing is written to the database.
Conventions (``<prefix>_reason``, ``<prefix>_basis``) are those of :mod:`cspa.engine.significance`.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from cspa.engine.polarity import orient_sql
from cspa.engine.relations import check_new_columns, number, polarity_sql, require_columns, run
from cspa.store.sql import ident, literal

__all__ = [
    "TREND_CHI2_CRITICAL",
    "TREND_CLASSES",
    "class_sql",
    "recent_trend",
    "recent_trend_sql",
    "seed_trend",
]

#: The seed's classes, best rank first (000:L3083): top 10%, next 20%, 40%, 20%, final 10%.
TREND_CLASSES = ("Well above", "Above", "In line", "Below", "Well below")

#: chi2inv(0.998, 1) = scipy.stats.chi2.ppf(0.998, 1): Fingertips tests the recent trend at the 99.8%
#: level. Written out, not computed here: importing scipy.stats takes ~4 s, and most builds need
#: nothing else from it (tests/unit/outputs/test_lazy_scipy.py checks the value against scipy's).
TREND_CHI2_CRITICAL = 9.549535706083237


def _same(cols: Sequence[str], left: str, right: str) -> str:
    """NULL-safe equality of key columns between two aliases."""
    return " AND ".join(f"{left}.{ident(c)} IS NOT DISTINCT FROM {right}.{ident(c)}" for c in cols)


# The seed ranks every authority's rate of change (000:L3083: "all 150 LAs"); with fewer series the
# classes would describe a handful of areas, so the class is then "not judged" with that reason.
MIN_TREND_AREAS = 20


#: The seed's trend classes are made over five years of figures (2003-2007, 000:L3060-3083: three
#: three-year moving averages); on longer series the latest five years are used, the same window
#: for every authority.
TREND_YEARS = 5


def trend_basis_sql(t: str) -> str:
    """SQL of the one-line basis of a row ``t`` of a build's trend table
    (:func:`cspa.engine.trend_classes.trend_classes_sql`): how the seed's class was made (moving
    averages, slope, rank among how many, 000:L3083), or why there is none; NULL where the figure
    has no trend row."""
    return (
        f"CASE WHEN {t}.rid IS NULL THEN NULL "
        f"WHEN {t}.trend_n < {MIN_TREND_AREAS} "
        "THEN 'trend not judged: the class ranks every authority''s rate of change (000:L3083), and ' "
        f"|| CASE WHEN {t}.trend_n = 0 THEN 'no authority has one' "
        f"WHEN {t}.trend_n = 1 THEN 'only 1 authority has one' "
        f"ELSE 'only ' || {t}.trend_n || ' authorities have one' END "
        f"|| ' here, where at least {MIN_TREND_AREAS} are needed (a rate of change needs two three-year "
        "averages: four years of figures in a row)' "
        f"WHEN {t}.trend_outside IS NOT NULL THEN 'trend not judged: the authority ' || {t}.trend_outside "
        "|| ' the period of its latest figure here; ' || CASE WHEN "
        + t
        + ".trend_outside LIKE '%, within' "
        "THEN 'its successor''s series is ranked in its place (one place, ranked once)' "
        "ELSE 'the class ranks the series of the authorities that existed then' END "
        f"WHEN {t}.trend_rank IS NULL THEN 'trend n/a: ' || CASE WHEN {t}.trend_repeated_year "
        "THEN 'a year appears more than once in the series' "
        f"ELSE 'fewer than 2 moving averages (4 consecutive years) in the latest {TREND_YEARS} years' END "
        f"ELSE '3-point moving average, OLS slope over ' || {t}.trend_from || '-' || {t}.trend_to || ' (' "
        f"|| {t}.trend_mas || ' MAs), ranked ' || {t}.trend_rank || ' of ' || {t}.trend_n "
        "|| ' descending, classes 10/20/40/20/10% (APA 2008 trend, seed 000:L3083)' "
        f"|| coalesce('; vs neighbours: slope difference ' || printf('%.4g', {t}.trend_sn_diff) || ' ranked ' "
        f"|| {t}.trend_sn_rank || ' of ' || {t}.trend_sn_n, '') END"
    )


def class_sql(rank: str, n: str) -> str:
    """10/20/40/20/10% classes by p = (rank - 1)/N, compared in integers so that a rank exactly on
    a boundary (rank 16 of 150: p = 0.10) is never misplaced by floating point."""
    return (
        f"CASE WHEN 10 * ({rank} - 1) < {n} THEN 'Well above' "
        f"WHEN 10 * ({rank} - 1) < 3 * {n} THEN 'Above' "
        f"WHEN 10 * ({rank} - 1) < 7 * {n} THEN 'In line' "
        f"WHEN 10 * ({rank} - 1) < 9 * {n} THEN 'Below' "
        f"ELSE 'Well below' END"
    )


def seed_trend(
    rel: duckdb.DuckDBPyRelation,
    neighbours: duckdb.DuckDBPyRelation | None = None,
    *,
    indicator: str = "indicator",
    measure: str = "measure",
    area: str = "area",
    year: str = "year",
    value: str = "value",
    neighbour_area: str = "area",
    sn_area: str = "sn_area",
    population: str | None = None,
    england: str | None = None,
    prefix: str = "trend",
) -> duckdb.DuckDBPyRelation:
    """The seed's trend classification (APA 2008 attainment tables, 000:L3083; methods.md section 8).

    Rule. MA(y) = (v(y-2) + v(y-1) + v(y))/3, defined only when all three years are present
    (a missing value is never 0). slope = OLS slope of MA on the actual calendar year over every
    year with an MA (``regr_slope``); fewer than 2 MAs (4 consecutive years) gives class 'n/a'.
    Within each indicator and measure the N areas of the ranked population with a slope are
    ranked descending (rank 1 = largest increase; ties take the min rank) and p = (rank - 1)/N
    gives 'Well above' (p < 0.1), 'Above' (< 0.3), 'In line' (< 0.7), 'Below' (< 0.9), else
    'Well below'. Polarity is not applied: the seed ranks the rate of change itself.
    SN version: d = slope_LA - slope_SN, where slope_SN is the slope of the LA's statistical-
    neighbour series (the printed SN figure, an area of its own in ``rel``); the N values of d are
    ranked and classed the same way; 'n/a' when either slope is missing.

    Input: ``rel`` with ``indicator``, ``measure``, ``area``, ``year`` (integer) and ``value``,
    one row per series and year; every area's series is in ``rel``, including SN and England
    series. ``neighbours`` (optional): ``neighbour_area`` -> ``sn_area`` (the area code of the
    LA's SN series in ``rel``, e.g. ``SN:nfer_2007:821``), one row per LA; if it also has
    ``indicator``/``measure`` columns it is matched on them too. The ranked population is the
    boolean column ``population`` if given, else every area that is neither an SN series named in
    ``neighbours`` nor ``england``.
    Output columns ``<prefix>_``: ``ma`` (this row's moving average), ``slope``, ``n_ma``,
    ``rank``, ``n_ranked``, ``class``, ``reason``, ``basis``, ``sn_area``, ``sn_slope``,
    ``sn_diff``, ``sn_rank``, ``sn_n_ranked``, ``sn_class``, ``sn_reason``, ``sn_basis``,
    ``vs_england`` (slope - England's slope, an extra figure only; NULL without ``england``).
    """
    require_columns(rel, indicator, measure, area, year, value, population)
    outs = (
        "ma",
        "slope",
        "n_ma",
        "rank",
        "n_ranked",
        "class",
        "reason",
        "basis",
        "sn_area",
        "sn_slope",
        "sn_diff",
        "sn_rank",
        "sn_n_ranked",
        "sn_class",
        "sn_reason",
        "sn_basis",
        "vs_england",
    )
    check_new_columns(rel, [f"{prefix}_{o}" for o in outs])
    keys = [indicator, measure, area]
    grp = [indicator, measure]
    src = rel
    if neighbours is not None:
        require_columns(neighbours, neighbour_area, sn_area)
        extra = [c for c in (indicator, measure) if c in neighbours.columns]
        # One SN series per key: an ambiguous mapping is reported, never resolved by row order.
        nb = neighbours.aggregate(
            ", ".join(
                [f"{ident(c)} AS _cspa_nb_{i}" for i, c in enumerate(extra)]
                + [
                    f"{ident(neighbour_area)} AS _cspa_nb_area",
                    f"min(CAST({ident(sn_area)} AS VARCHAR)) AS _cspa_sn",
                    f"count(DISTINCT {ident(sn_area)}) AS _cspa_nsn",
                ]
            ),
            ", ".join([ident(c) for c in extra] + [ident(neighbour_area)]),
        )
        cond = " AND ".join(
            [f"CAST({ident(area)} AS VARCHAR) = CAST(_cspa_nb_area AS VARCHAR)"]
            + [f"{ident(c)} IS NOT DISTINCT FROM _cspa_nb_{i}" for i, c in enumerate(extra)]
        )
        src = rel.join(nb, cond, how="left")
        drop_nb = [f"_cspa_nb_{i}" for i in range(len(extra))] + ["_cspa_nb_area"]
    else:
        src = rel.project("*, CAST(NULL AS VARCHAR) AS _cspa_sn, CAST(0 AS BIGINT) AS _cspa_nsn")
        drop_nb = []
    k = ", ".join(ident(c) for c in keys)
    g = ", ".join(ident(c) for c in grp)
    if population is not None:
        pop = f"coalesce(bool_or(CAST({ident(population)} AS BOOLEAN)), FALSE)"
    else:
        pop = (
            f"CAST({ident(area)} AS VARCHAR) NOT IN "
            "(SELECT _cspa_sn FROM b WHERE _cspa_sn IS NOT NULL)"
        )
        if england is not None:
            pop += f" AND CAST({ident(area)} AS VARCHAR) <> {literal(england)}"
    eng = (
        f"(SELECT e._cspa_slope FROM s AS e WHERE {_same(grp, 'e', 's')} "
        f"AND CAST(e.{ident(area)} AS VARCHAR) = {literal(england)})"
        if england is not None
        else "CAST(NULL AS DOUBLE)"
    )
    sel = lambda alias: ", ".join(f"{alias}.{ident(c)}" for c in keys)  # noqa: E731
    sql = f"""
        WITH b AS (
            SELECT *, {number(value)} AS _cspa_v, CAST({ident(year)} AS BIGINT) AS _cspa_y FROM src
        ), m AS (
            SELECT *,
                -- RANGE over the integer year: the three values must be y-2, y-1 and y exactly.
                CASE WHEN count(_cspa_v) OVER w3 = 3 AND count(*) OVER w3 = 3
                    THEN avg(_cspa_v) OVER w3 END AS _cspa_ma,
                count(*) OVER (PARTITION BY {k}, _cspa_y) AS _cspa_dup
            FROM b
            WINDOW w3 AS (PARTITION BY {k} ORDER BY _cspa_y RANGE BETWEEN 2 PRECEDING AND CURRENT ROW)
        ), s0 AS (
            SELECT {k}, any_value(_cspa_sn) AS _cspa_sn, max(_cspa_nsn) AS _cspa_nsn,
                max(_cspa_dup) AS _cspa_dup, count(_cspa_ma) AS _cspa_n_ma,
                min(_cspa_y) FILTER (WHERE _cspa_ma IS NOT NULL) AS _cspa_y0,
                max(_cspa_y) FILTER (WHERE _cspa_ma IS NOT NULL) AS _cspa_y1,
                -- rounded: a parallel aggregate adds in any order, and equal slopes (common where
                -- figures are published to one decimal) must rank as ties every run, not by float noise
                round(regr_slope(_cspa_ma, _cspa_y), 10) + 0.0 AS _cspa_fit,
                {pop} AS _cspa_pop
            FROM m GROUP BY {k}
        ), s AS (
            SELECT *, CASE WHEN _cspa_dup = 1 AND _cspa_n_ma >= 2 THEN _cspa_fit END AS _cspa_slope
            FROM s0
        ), r AS (
            SELECT *,
                (_cspa_pop AND _cspa_slope IS NOT NULL) AS _cspa_in,
                {eng} AS _cspa_eng_slope
            FROM s
        ), r2 AS (
            SELECT *,
                CASE WHEN _cspa_in THEN rank() OVER (PARTITION BY {g}, _cspa_in ORDER BY _cspa_slope DESC) END
                    AS _cspa_rank,
                count(*) FILTER (WHERE _cspa_in) OVER (PARTITION BY {g}) AS _cspa_n
            FROM r
        ), t AS (
            SELECT r2.*, sn._cspa_slope AS _cspa_sn_slope
            FROM r2 LEFT JOIN s AS sn
                ON {_same(grp, "sn", "r2")} AND CAST(sn.{ident(area)} AS VARCHAR) = r2._cspa_sn
        ), u AS (
            SELECT *, _cspa_slope - _cspa_sn_slope AS _cspa_d,
                (_cspa_pop AND _cspa_nsn = 1 AND _cspa_slope - _cspa_sn_slope IS NOT NULL) AS _cspa_sn_in
            FROM t
        ), v AS (
            SELECT *,
                CASE WHEN _cspa_sn_in THEN rank() OVER (PARTITION BY {g}, _cspa_sn_in ORDER BY _cspa_d DESC) END
                    AS _cspa_sn_rank,
                count(*) FILTER (WHERE _cspa_sn_in) OVER (PARTITION BY {g}) AS _cspa_sn_n
            FROM u
        ), res AS (
            SELECT {sel("v")},
                _cspa_slope AS {ident(prefix + "_slope")},
                _cspa_n_ma AS {ident(prefix + "_n_ma")},
                _cspa_rank AS {ident(prefix + "_rank")},
                CASE WHEN _cspa_pop THEN _cspa_n END AS {ident(prefix + "_n_ranked")},
                CASE WHEN _cspa_in THEN {class_sql("_cspa_rank", "_cspa_n")}
                    WHEN _cspa_pop THEN 'n/a' END AS {ident(prefix + "_class")},
                CASE WHEN NOT _cspa_pop THEN 'not in the ranked population (comparator series): not classed'
                    WHEN _cspa_dup > 1 THEN 'a year appears more than once in the series: slope not computed'
                    WHEN _cspa_n_ma < 2 THEN 'fewer than 2 moving averages (4 consecutive years): slope not computed'
                END AS {ident(prefix + "_reason")},
                '3-point moving average, OLS slope over '
                    || coalesce(CAST(_cspa_y0 AS VARCHAR) || '-' || CAST(_cspa_y1 AS VARCHAR), 'no years')
                    || ' (' || CAST(_cspa_n_ma AS VARCHAR) || ' MAs)'
                    || coalesce(', ranked ' || CAST(_cspa_rank AS VARCHAR) || ' of ' || CAST(_cspa_n AS VARCHAR)
                        || ' descending', '')
                    || ', classes 10/20/40/20/10% (APA 2008 trend, seed 000:L3083)'
                    AS {ident(prefix + "_basis")},
                _cspa_sn AS {ident(prefix + "_sn_area")},
                _cspa_sn_slope AS {ident(prefix + "_sn_slope")},
                CASE WHEN _cspa_nsn = 1 THEN _cspa_d END AS {ident(prefix + "_sn_diff")},
                _cspa_sn_rank AS {ident(prefix + "_sn_rank")},
                CASE WHEN _cspa_pop THEN _cspa_sn_n END AS {ident(prefix + "_sn_n_ranked")},
                CASE WHEN _cspa_sn_in THEN {class_sql("_cspa_sn_rank", "_cspa_sn_n")}
                    WHEN _cspa_pop THEN 'n/a' END AS {ident(prefix + "_sn_class")},
                CASE WHEN NOT _cspa_pop THEN 'not in the ranked population (comparator series): not classed'
                    WHEN _cspa_nsn > 1 THEN 'more than one statistical-neighbour series mapped: not classed'
                    WHEN _cspa_sn IS NULL THEN 'no statistical-neighbour series mapped: not classed'
                    WHEN _cspa_slope IS NULL THEN 'LA slope missing: SN difference not computed'
                    WHEN _cspa_sn_slope IS NULL THEN 'SN slope missing (fewer than 2 moving averages): SN difference not computed'
                END AS {ident(prefix + "_sn_reason")},
                'slope LA - slope SN (' || coalesce(_cspa_sn, 'none') || ')'
                    || coalesce(', ranked ' || CAST(_cspa_sn_rank AS VARCHAR) || ' of '
                        || CAST(_cspa_sn_n AS VARCHAR) || ' descending', '')
                    || ', classes 10/20/40/20/10% (APA 2008 SN trend, seed 000:L3083)'
                    AS {ident(prefix + "_sn_basis")},
                _cspa_slope - _cspa_eng_slope AS {ident(prefix + "_vs_england")}
            FROM v
        )
        SELECT m.* EXCLUDE (_cspa_v, _cspa_y, _cspa_sn, _cspa_nsn, _cspa_ma, _cspa_dup
                {"".join(", " + d for d in drop_nb)}),
            m._cspa_ma AS {ident(prefix + "_ma")},
            res.* EXCLUDE ({", ".join(ident(c) for c in keys)})
        FROM m JOIN res ON {_same(keys, "m", "res")}
    """
    return run(src, sql)


def recent_trend(
    rel: duckdb.DuckDBPyRelation,
    *,
    series: Sequence[str] = ("indicator", "measure", "area"),
    period: str = "year",
    value: str = "value",
    lower: str = "lower95",
    upper: str = "upper95",
    count: str | None = None,
    denominator: str | None = None,
    year_range: str | None = None,
    polarity: str | None = None,
    polarity_column: str = "polarity",
    points: int = 5,
    prefix: str = "recent_trend",
) -> duckdb.DuckDBPyRelation:
    """Fingertips recent trend: chi-squared test for trend over the last 5 points (fingertips-open
    ``TrendMarkerCalculator``; FingertipsNext ``TrendCalculator``; Fingertips technical guidance
    "Trend markers"; methods.md section 5).

    Rule. The points used are the 5 most recent of the unbroken run of valid annual points
    counting back from the latest (a missing or invalid point or a gap in the years stops the
    run; fewer than 5 gives 'Cannot be calculated'), labelled t = 1..5 oldest to newest.
    * Values path (default): se = (UCL95 - LCL95)/3.92, w = 1/se^2; weighted regression of the
      value on t: beta = (S1 S2 - S3 S4)/(S1 S5 - S3^2), se(beta) = sqrt(S1/(S1 S5 - S3^2)),
      chi^2 = (beta/se(beta))^2.
    * Proportion path (``count`` and ``denominator`` given; legacy Cochran-Armitage):
      chi^2 = N (N Sum xt - X Sum nt)^2 / (X (N - X)(N Sum nt^2 - (Sum nt)^2)); the slope and its
      sign come from the OLS slope of logit(x/n) on t (the legacy code never set it; methods.md
      5.2 spec decision). A point with count = denominator (or 0) makes the logit undefined:
      'Cannot be calculated'.
    Significant when chi^2 > chi2inv(0.998, 1) = 9.5495 and the slope keeps its sign (0 counted
    as +) when each point is left out in turn; then Increasing (slope > 0) or Decreasing, else
    'No significant change'. Polarity then gives the label: high is good 'Increasing and getting
    better' / 'Decreasing and getting worse', low is good the reverse, otherwise unadjusted.
    Periods must be single non-overlapping years: with ``year_range`` any value other than 1
    makes the series 'Cannot be calculated'.

    Input columns: ``series`` keys, ``period`` (integer year), ``value``, ``lower``, ``upper``
    (or ``count`` and ``denominator``), optional ``year_range``, ``polarity_column`` unless
    ``polarity`` is given.
    Output columns: ``<prefix>`` (Increasing / Decreasing / No significant change / Cannot be
    calculated), ``<prefix>_label`` (with polarity), ``<prefix>_chi2``, ``<prefix>_slope``,
    ``<prefix>_points`` (number used), ``<prefix>_t`` (this row's position 1..5, NULL if unused),
    ``<prefix>_reason``, ``<prefix>_basis``.
    """
    proportion = count is not None or denominator is not None
    if proportion and (count is None or denominator is None):
        raise ValueError("the proportion path needs both count and denominator")
    require_columns(rel, *series, period, year_range)
    if proportion:
        require_columns(rel, count, denominator)
    else:
        require_columns(rel, value, lower, upper)
    if polarity is None:
        require_columns(rel, polarity_column)
    outs = ("", "_label", "_chi2", "_slope", "_points", "_t", "_reason", "_basis")
    check_new_columns(rel, [prefix + o for o in outs])
    return run(
        rel,
        recent_trend_sql(
            "src",
            series=series,
            period=period,
            value=value,
            lower=lower,
            upper=upper,
            count=count,
            denominator=denominator,
            year_range=year_range,
            polarity=polarity,
            polarity_column=polarity_column,
            points=points,
            prefix=prefix,
        ),
    )


def recent_trend_sql(
    src: str,
    *,
    series: Sequence[str] = ("indicator", "measure", "area"),
    period: str = "year",
    value: str = "value",
    lower: str = "lower95",
    upper: str = "upper95",
    count: str | None = None,
    denominator: str | None = None,
    year_range: str | None = None,
    polarity: str | None = None,
    polarity_column: str = "polarity",
    points: int = 5,
    prefix: str = "recent_trend",
    latest_only: bool = False,
) -> str:
    """The SQL of :func:`recent_trend` over ``src`` (a table, view or parenthesised query with the
    input columns, which are not checked here): for a caller that composes its own statement (the
    build), where binding a relation per step cost as much as running it. ``latest_only``: only
    the rows of each series' latest year (the build shows the trend on the latest figure).

    The rule reads no more than each series' ``points`` newest rows: the run of valid consecutive
    years counting back from the latest is tested only up to ``points`` (a longer run is used as
    ``points``; a shorter one is counted for the reason), and the regression's sums and each
    leave-one-out slope are sums over those rows. So one window, newest first, lays the k-th newest
    row's figures beside every row (``nth_value``), and the sums are written out term by term: one
    sort per series, where a window per step (the run, the sums, the leave-one-out check) sorted
    the series six times over."""
    proportion = count is not None or denominator is not None
    keys = ", ".join(ident(c) for c in series)
    newest = f"PARTITION BY {keys} ORDER BY _cspa_y DESC"
    whole = f"({newest} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    pol = polarity_sql(polarity, polarity_column)
    if proportion:
        x, n = number(count), number(denominator)
        valid = f"({x} IS NOT NULL AND {n} IS NOT NULL AND {n} > 0 AND {x} >= 0 AND {x} <= {n})"
        load = f"{x} AS _cspa_x, {n} AS _cspa_n"
        terms = ("_cspa_x", "_cspa_n")
    else:
        v, lo, hi = number(value), number(lower), number(upper)
        valid = f"({v} IS NOT NULL AND {lo} IS NOT NULL AND {hi} IS NOT NULL AND {hi} > {lo})"
        load = f"1 / pow(({hi} - {lo}) / 3.92, 2) AS _cspa_w, {v} AS _cspa_val"
        terms = ("_cspa_w", "_cspa_val")
    yr = (
        f"coalesce(bool_or(CAST({ident(year_range)} AS DOUBLE) <> 1) OVER {whole}, FALSE)"
        if year_range is not None
        else "FALSE"
    )
    # k: the k-th newest row of the series, at t = points + 1 - k on the trend's time axis
    ks = range(1, points + 1)
    t_of = {k: points + 1 - k for k in ks}
    laid = ", ".join(
        f"nth_value({c}, {k}) OVER {whole} AS {c}{k}"
        for k in ks
        for c in ("_cspa_y", "_cspa_valid", *terms)
    )
    # the run counting back from the latest breaks at the first invalid row or the first year that
    # does not follow on from the one after it (a missing year or a repeated one); a row without a
    # year breaks nothing
    ok = {
        k: f"(coalesce(_cspa_valid{k}, FALSE) AND NOT coalesce(_cspa_y{k} <> _cspa_y1 - {k - 1}, FALSE))"
        for k in ks
    }
    run = "CASE " + " ".join(f"WHEN NOT {ok[k]} THEN {k - 1}" for k in ks) + f" ELSE {points} END"

    def total(term: str) -> str:
        # ``term`` with {k} and {t} for each row used
        return "(" + " + ".join(term.format(k=k, t=t_of[k]) for k in ks) + ")"

    if proportion:
        logit = (
            "CASE WHEN _cspa_x{k} > 0 AND _cspa_x{k} < _cspa_n{k} "
            "THEN ln(_cspa_x{k} / (_cspa_n{k} - _cspa_x{k})) END"
        )
        logits = ", ".join(f"{logit.format(k=k)} AS _cspa_l{k}" for k in ks)
        sums = {
            "_cspa_sumn": total("_cspa_n{k}"),
            "_cspa_sumx": total("_cspa_x{k}"),
            "_cspa_sxt": total("_cspa_x{k} * {t}"),
            "_cspa_snt": total("_cspa_n{k} * {t}"),
            "_cspa_sntt": total("_cspa_n{k} * {t} * {t}"),
            "_cspa_sl": total("_cspa_l{k}"),
            "_cspa_slt": total("_cspa_l{k} * {t}"),
            "_cspa_st": str(sum(t_of.values())),
            "_cspa_stt": str(sum(t * t for t in t_of.values())),
        }
        bad = " OR ".join(f"_cspa_x{k} = _cspa_n{k} OR _cspa_x{k} = 0" for k in ks)
        chi2 = (
            "_cspa_sumn * pow(_cspa_sumn * _cspa_sxt - _cspa_sumx * _cspa_snt, 2) / "
            "(_cspa_sumx * (_cspa_sumn - _cspa_sumx) * (_cspa_sumn * _cspa_sntt - _cspa_snt * _cspa_snt))"
        )
        m = f"CAST({points} AS DOUBLE)"
        slope = f"({m} * _cspa_slt - _cspa_st * _cspa_sl) / ({m} * _cspa_stt - _cspa_st * _cspa_st)"

        def loo(k: int) -> str:
            t, lk = t_of[k], f"_cspa_l{k}"
            return (
                f"(({m} - 1) * (_cspa_slt - {lk} * {t}) - (_cspa_st - {t}) * (_cspa_sl - {lk})) / "
                f"(({m} - 1) * (_cspa_stt - {t} * {t}) - pow(_cspa_st - {t}, 2))"
            )

        path = "Cochran-Armitage chi-squared for trend on counts, logit slope"
    else:
        logits = "NULL AS _cspa_l"
        sums = {
            "_cspa_s1": total("_cspa_w{k}"),
            "_cspa_s2": total("_cspa_w{k} * _cspa_val{k} * {t}"),
            "_cspa_s3": total("_cspa_w{k} * {t}"),
            "_cspa_s4": total("_cspa_w{k} * _cspa_val{k}"),
            "_cspa_s5": total("_cspa_w{k} * {t} * {t}"),
        }
        bad = "FALSE"
        den = "(_cspa_s1 * _cspa_s5 - _cspa_s3 * _cspa_s3)"
        slope = f"(_cspa_s1 * _cspa_s2 - _cspa_s3 * _cspa_s4) / {den}"
        chi2 = f"pow({slope}, 2) / (_cspa_s1 / {den})"

        def loo(k: int) -> str:
            # leave the k-th newest point out: subtract its own terms from each sum
            w, val, t = f"_cspa_w{k}", f"_cspa_val{k}", t_of[k]
            a1, a2 = f"(_cspa_s1 - {w})", f"(_cspa_s2 - {w} * {val} * {t})"
            a3, a4 = f"(_cspa_s3 - {w} * {t})", f"(_cspa_s4 - {w} * {val})"
            a5 = f"(_cspa_s5 - {w} * {t} * {t})"
            return f"({a1} * {a2} - {a3} * {a4}) / ({a1} * {a5} - {a3} * {a3})"

        path = "weighted regression of values on time (se = CI width / 3.92)"
    # the slope keeps its sign (0 counted as +) when each point is left out in turn
    same_sign = [
        f"CASE WHEN _cspa_loo{k} IS NOT NULL THEN (_cspa_loo{k} >= 0) = (_cspa_slope >= 0) END"
        for k in ks
    ]
    consistent = (
        "(NOT ("
        + " AND ".join(f"{c} IS NULL" for c in same_sign)
        + ") AND NOT ("
        + " OR ".join(f"coalesce(NOT {c}, FALSE)" for c in same_sign)
        + "))"
    )
    crit = literal(TREND_CHI2_CRITICAL)
    direction = (
        "CASE WHEN _cspa_cannot IS NOT NULL THEN 'Cannot be calculated' "
        f"WHEN _cspa_chi2 > {crit} AND _cspa_consistent AND _cspa_slope > 0 THEN 'Increasing' "
        f"WHEN _cspa_chi2 > {crit} AND _cspa_consistent AND _cspa_slope < 0 THEN 'Decreasing' "
        "ELSE 'No significant change' END"
    )
    getting = orient_sql(
        "_cspa_dir",
        "_cspa_pol",
        {
            "Increasing": (" and getting better", " and getting worse"),
            "Decreasing": (" and getting worse", " and getting better"),
        },
    )
    label = f"CASE WHEN _cspa_dir IN ('Increasing', 'Decreasing') THEN _cspa_dir || coalesce({getting}, '') ELSE _cspa_dir END"
    internal = (
        ["_cspa_y", "_cspa_valid", *terms, "_cspa_pol", "_cspa_pos", "_cspa_multi"]
        + [f"{c}{k}" for k in ks for c in ("_cspa_y", "_cspa_valid", *terms)]
        + ([f"_cspa_l{k}" for k in ks] if proportion else ["_cspa_l"])
        + ["_cspa_run", *sums, "_cspa_bad", "_cspa_cannot", "_cspa_chi2", "_cspa_slope"]
        + [f"_cspa_loo{k}" for k in ks]
        + ["_cspa_consistent", "_cspa_dir"]
    )
    return f"""
        WITH b AS (
            SELECT *, CAST({ident(period)} AS BIGINT) AS _cspa_y, {valid} AS _cspa_valid, {load},
                {pol} AS _cspa_pol
            FROM {src}
        ), o AS (
            SELECT *, row_number() OVER ({newest}) AS _cspa_pos, {yr} AS _cspa_multi, {laid}
            FROM b
        ), r AS (
            SELECT *, {run} AS _cspa_run, {logits} FROM o
            {"WHERE _cspa_y = _cspa_y1" if latest_only else ""}
        ), s AS (
            SELECT *, {", ".join(f"{e} AS {n}" for n, e in sums.items())}, {bad} AS _cspa_bad FROM r
        ), c AS (
            SELECT *,
                CASE WHEN _cspa_multi THEN 'periods are not single years: trend not calculated'
                    WHEN _cspa_run < {points} THEN 'fewer than {points} consecutive valid points ('
                        || CAST(_cspa_run AS VARCHAR) || '): trend not calculated'
                    WHEN _cspa_bad THEN 'a count equals its denominator or is 0 (logit undefined): trend not calculated'
                END AS _cspa_cannot
            FROM s
        ), d AS (
            SELECT *,
                CASE WHEN _cspa_cannot IS NULL THEN {chi2} END AS _cspa_chi2,
                CASE WHEN _cspa_cannot IS NULL THEN {slope} END AS _cspa_slope,
                {", ".join(f"CASE WHEN _cspa_cannot IS NULL THEN {loo(k)} END AS _cspa_loo{k}" for k in ks)}
            FROM c
        ), e AS (
            SELECT *, {consistent} AS _cspa_consistent FROM d
        ), f AS (
            SELECT *, {direction} AS _cspa_dir FROM e
        )
        SELECT * EXCLUDE ({", ".join(internal)}),
            _cspa_dir AS {ident(prefix)},
            {label} AS {ident(prefix + "_label")},
            _cspa_chi2 AS {ident(prefix + "_chi2")},
            _cspa_slope AS {ident(prefix + "_slope")},
            CASE WHEN _cspa_cannot IS NULL THEN {points} ELSE least(_cspa_run, {points}) END
                AS {ident(prefix + "_points")},
            CASE WHEN _cspa_cannot IS NULL AND _cspa_pos <= {points} THEN {points + 1} - _cspa_pos END
                AS {ident(prefix + "_t")},
            CASE WHEN _cspa_cannot IS NOT NULL THEN _cspa_cannot
                WHEN _cspa_dir = 'No significant change' AND _cspa_chi2 > {crit}
                    THEN 'slope changes sign when a point is left out: not significant'
            END AS {ident(prefix + "_reason")},
            '{path}, last {points} points, chi2 > 9.5495 (99.8%) and leave-one-out sign check'
                || coalesce(', chi2 ' || printf('%.4g', _cspa_chi2), '')
                || ' (Fingertips recent trend)' AS {ident(prefix + "_basis")}
        FROM f
    """
