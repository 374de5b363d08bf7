"""Computed significance against comparators, and the Fingertips recent trend, as the catalogue asks.

Both read each figure's numerator and denominator (or count and population), for every area at
once: one SQL pass per distinct rule (method and confidence levels), never a loop over figures.

* :func:`significance`: a measure's ``significance`` rule (catalogue ``SignificanceRule``) names the
  figure's confidence interval and the comparators it is judged against:

  - ``wilson``: a proportion x/n, Wilson score interval (PHEindicatormethods ``phe_proportion``;
    methods.md 1.1);
  - ``poisson``: a count over a denominator (a crude rate, or observed over expected for a
    standardised ratio), exact Poisson limits below 10 events and Byar's from 10
    (PHEindicatormethods ``phe_rate``, ``calculate_ISRatio``; methods.md 1.2, 1.3, 1.6);

  the comparator's figure for the same period (England, the area's statistical-neighbour figure,
  its benchmark group or its region, as published or as the engine formed it) is the benchmark:
  ``similar`` when it lies inside the figure's interval at the rule's first level, else ``higher``
  or ``lower`` (Fingertips comparator method 1; with a second level, method 17 records whether the
  difference also holds there; methods.md 4.3). A figure that cannot be compared (no numerator
  and denominator, no comparator figure, a numerator larger than its denominator) is ``not
  compared`` and says why.

  With ``overdispersion`` the judgement is Spiegelhalter's (2005) additive random-effects test
  (FunnelPlotR ``od_adjustment``; methods.md 3): the between-area variance is estimated from every
  unit of the same kind with a figure for the period and the figure is flagged against the
  comparator at the first level. The variance needs a population of units: with fewer than
  :data:`cspa.catalogue.models.MIN_OVERDISPERSION_UNITS` the interval comparison is made and the
  basis says why the model was not.

  The result is a direction (``higher``/``lower``/``similar``), as Fingertips shows it for
  indicators without a polarity; reports colour it under polarity (engine.polarity).
* :func:`recent_trends`: measures whose ``recent_trend`` is ``fingertips``: the chi-squared test for
  trend over the last five annual points (fingertips-open ``TrendMarkerCalculator``; methods.md
  5), on each series' latest figure.
"""

from __future__ import annotations

import duckdb

from cspa.catalogue.models import MIN_OVERDISPERSION_UNITS
from cspa.engine.keys import figure_key, series_key
from cspa.engine.relations import confidence_levels, fmt_number, level_tag, level_text, number
from cspa.engine.significance import (
    compare_ci_overlap,
    ensure_udfs,
    overdispersion_test,
    overlap_sql,
    poisson_ci,
    poisson_limits_sql,
    poisson_reason_sql,
    wilson_ci,
    wilson_limits_sql,
    wilson_reason_sql,
)
from cspa.engine.trends import recent_trend_sql
from cspa.engine.values import COMPARATOR_TYPES
from cspa.store.sql import in_list, literal, string

ENGLAND = "E92000001"

#: How each comparator of a rule is named in a basis line.
COMPARATOR_NAMES = {
    "england": "England",
    "statistical_neighbours": "statistical neighbours",
    "benchmark_group": "benchmark group",
    "region": "region",
}

#: The columns of the family's table (run.py writes it empty with these when no rule applies).
SIGNIFICANCE_COLUMNS = (
    "rid BIGINT, ord INTEGER, comparator VARCHAR, significance VARCHAR, both_levels BOOLEAN, "
    "method VARCHAR, level DOUBLE, outer_level DOUBLE, benchmark DOUBLE, benchmark_area VARCHAR, "
    "lower DOUBLE, upper DOUBLE, lower_outer DOUBLE, upper_outer DOUBLE, reason VARCHAR, units BIGINT, "
    "od_used BOOLEAN, od_z DOUBLE, od_basis VARCHAR"
)


def _rule_groups(con: duckdb.DuckDBPyConnection, sids: list[int]) -> dict[tuple, list[int]]:
    """The measures of ``sids`` grouped by their rule's constant parameters (method, levels,
    whether any asks for Spiegelhalter's model)."""
    groups: dict[tuple, list[int]] = {}
    wanted = set(sids)
    # the measures with a rule are a few dozen: read them all and keep the build's here (a
    # national build's hundreds of ids written into the SQL cost more to plan than the query)
    for sid, method, levels, od in con.execute(
        "SELECT sid, sig_method, sig_levels, sig_overdispersion FROM _cspa_key_measure "
        "WHERE sig_method IS NOT NULL ORDER BY sid"
    ).fetchall():
        if sid not in wanted:
            continue
        key = (method, confidence_levels(levels or [95.0, 99.8]), bool(od))
        groups.setdefault(key, []).append(sid)
    return groups


def _subjects_sql(v: str, sids: list[int], units: bool = True) -> str:
    """``v``: figure rows on the build's integer keys (``rid, sid, aid, pid, value, status,
    numerator, denominator``). Every area's figure of the measures ``sids`` paired with each comparator its rule names (in
    the rule's order, ``ord``), with the comparator's figure for the same period as ``benchmark``.

    The comparator's area is worked out per figure (England; the statistical-neighbour figure of
    the area, or of its parent authority for a PCT, trust, DAT or YOT; the benchmark group whose
    parent the area is; the area's region) and joined on the packed figure key. ``units`` (the
    population Spiegelhalter's model would be estimated from: a window over every figure) is
    counted only when a rule of the group asks for that model, else NULL.
    """
    units_sql = (
        """count(*) FILTER (WHERE c.numerator IS NOT NULL AND c.denominator > 0)
               OVER (PARTITION BY c.sid, c.pid, c.area_type, c.ord)"""
        if units
        else "CAST(NULL AS BIGINT)"
    )
    ids = ", ".join(map(str, sids))
    return f"""
    WITH s AS (
        SELECT f.rid, f.sid, f.aid, f.pid, a.code AS area, a.type AS area_type, f.value, f.status,
               f.numerator, f.denominator,
               m.polarity, m.grp, m.sig_overdispersion AS od,
               CASE m.formula_type WHEN 'percentage' THEN 100 WHEN 'standardised_ratio' THEN 100
                    WHEN 'rate' THEN m.multiplier WHEN 'ratio' THEN coalesce(m.multiplier, 1)
                    ELSE CASE m.unit WHEN 'percent' THEN 100 WHEN 'rate_per_1000' THEN 1000
                                     WHEN 'rate_per_10000' THEN 10000 WHEN 'rate_per_100000' THEN 100000
                                     ELSE coalesce(m.multiplier, 1) END END AS scale,
               unnest(m.sig_vs) AS comparator, generate_subscripts(m.sig_vs, 1) AS ord,
               coalesce(CASE WHEN a.type = 'la' THEN a.code END, a.parent, a.code) AS owner,
               coalesce(a.region_code, pa.region_code) AS region_code
        FROM {v} f JOIN _cspa_key_measure m ON m.sid = f.sid
        JOIN _cspa_key_area a ON a.aid = f.aid LEFT JOIN _cspa_key_area pa ON pa.code = a.parent
        WHERE f.sid IN ({ids}) AND a.type NOT IN {in_list(COMPARATOR_TYPES)}
    ),
    bg AS (SELECT parent, min(code) AS code FROM _cspa_key_area WHERE type = 'benchmark_group' GROUP BY parent),
    -- a region of another body (the NTA's 'East Anglia', 000:L673) stands for the region where
    -- the cell has no Government Office Region figure and only that one
    other AS (
        SELECT o.sid, o.pid, min(a.code) AS code FROM {v} o JOIN _cspa_key_area a ON a.aid = o.aid
        WHERE o.sid IN ({ids}) AND a.type = 'region_other' GROUP BY o.sid, o.pid HAVING count(*) = 1
    ),
    c AS (
        SELECT s.*, ca.aid AS bench_aid, ca.code AS bench_code, oa.aid AS alt_aid, oa.code AS alt_code
        FROM s LEFT JOIN bg ON s.comparator = 'benchmark_group' AND bg.parent = s.area
        LEFT JOIN other o ON s.comparator = 'region' AND o.sid = s.sid AND o.pid = s.pid
        LEFT JOIN _cspa_key_area oa ON oa.code = o.code
        LEFT JOIN _cspa_key_area ca ON ca.code = CASE s.comparator
            WHEN 'england' THEN {string(ENGLAND)}
            WHEN 'statistical_neighbours' THEN 'SN:' || s.grp || ':' || s.owner
            WHEN 'region' THEN s.region_code
            WHEN 'benchmark_group' THEN bg.code END
    )
    SELECT c.* EXCLUDE (bench_aid, bench_code, alt_aid, alt_code),
           CASE WHEN b.sid IS NOT NULL THEN b.value ELSE b2.value END AS benchmark,
           CASE WHEN b.sid IS NOT NULL THEN c.bench_code ELSE c.alt_code END AS benchmark_area,
           -- the units the over-dispersion model would estimate its variance from: the figures of
           -- the same kind of area with both counts, for the measure and period
           {units_sql} AS units
    FROM c LEFT JOIN {v} b
         ON {figure_key("b.sid", "b.aid", "b.pid")} = {figure_key("c.sid", "c.bench_aid", "c.pid")}
    LEFT JOIN {v} b2 ON b2.sid = c.sid AND b2.pid = c.pid AND b2.aid = c.alt_aid
    """


def _judged(
    con: duckdb.DuckDBPyConnection,
    base: duckdb.DuckDBPyRelation,
    method: str,
    levels: tuple,
    overdispersion: bool = True,
) -> duckdb.DuckDBPyRelation:
    """One rule group's subjects with their interval, the CI-overlap direction and, where the rule
    asks and the population allows, Spiegelhalter's flag."""
    inner = levels[0]
    outer = levels[1] if len(levels) > 1 else None
    if method == "wilson":
        ci = wilson_ci(
            base, numerator="numerator", denominator="denominator", confidence=levels, prefix="ci"
        )
    else:
        ci = poisson_ci(
            base,
            count="numerator",
            denominator="denominator",
            confidence=levels,
            prefix="ci",
            con=con,
        )
    it = level_tag(inner)
    outer_cols = (
        f", ci_lower{level_tag(outer)} * scale AS lo2, ci_upper{level_tag(outer)} * scale AS hi2"
        if outer
        else ", CAST(NULL AS DOUBLE) AS lo2, CAST(NULL AS DOUBLE) AS hi2"
    )
    # the figure the interval is about: x/n on the figure's scale (a published value without
    # counts has no interval, and is not compared)
    scaled = ci.project(
        f"*, ci_lower{it} * scale AS lo, ci_upper{it} * scale AS hi{outer_cols}, "
        "CASE WHEN ci_reason IS NULL AND ci_value IS NOT NULL THEN ci_value * scale END AS est"
    )
    cmp = compare_ci_overlap(
        scaled,
        value="est",
        benchmark="benchmark",
        lower="lo",
        upper="hi",
        lower_outer="lo2" if outer else None,
        upper_outer="hi2" if outer else None,
        confidence=inner,
        outer_confidence=outer or 0.998,
        polarity="none",
        prefix="vs",
    )
    # Spiegelhalter's test on the figures whose rule asks for it; the transform is the proportion's
    # arcsine or, for counts, the square root of observed over expected at the comparator's rate
    kind = "proportion" if method == "wilson" else "ratio"
    if not overdispersion:
        # no measure of the group asks for Spiegelhalter's model: its columns are empty
        return cmp.project(
            "*, CAST(NULL AS VARCHAR) AS odt_flag, CAST(NULL AS DOUBLE) AS odt_z_adjusted, "
            "CAST(NULL AS VARCHAR) AS odt_basis"
        )
    use = f"od AND units >= {MIN_OVERDISPERSION_UNITS}"
    if kind == "proportion":
        od_cols = (
            f"CASE WHEN {use} THEN denominator END AS od_n, "
            f"CASE WHEN {use} THEN benchmark / scale END AS od_to"
        )
    else:
        od_cols = (
            f"CASE WHEN {use} THEN denominator * benchmark / scale END AS od_n, "
            f"CASE WHEN {use} THEN 1.0 END AS od_to"
        )
    od_in = cmp.project(f"*, CASE WHEN {use} THEN numerator END AS od_y, {od_cols}")
    od = overdispersion_test(
        od_in,
        numerator="od_y",
        denominator="od_n",
        kind=kind,
        group_by=("sid", "pid", "area_type", "ord"),
        compare_to="od_to",
        confidence=inner,
        prefix="odt",
    )
    return od


def _plain_sql(v: str, sids: list[int], method: str, levels: tuple) -> str:
    """One rule group without Spiegelhalter's model, as one flat statement: the rows, columns and
    values of the general path (:func:`_judged` over :func:`wilson_ci` or :func:`poisson_ci` and
    :func:`compare_ci_overlap`, whose rules the expressions here are: the same SQL helpers), without
    building and binding a relation per step (on a national build that binding cost more than
    judging its 44,000 comparisons; test_compared.py checks that both paths agree)."""
    inner = levels[0]
    outer = levels[1] if len(levels) > 1 else None
    one = literal(1.0)
    num, den = number("numerator"), number("denominator")
    if method == "wilson":
        x, n = "_cspa_x", "_cspa_n"
        inputs = f"{num} AS {x}, {den} AS {n}"
        ok = f"({x} IS NOT NULL AND {n} IS NOT NULL AND {n} > 0 AND {x} >= 0 AND {x} <= {n})"
        value = f"{x} / {n} * {one}"

        def limits(c: float) -> tuple[str, str]:
            lo, hi = wilson_limits_sql(x, n, c)
            return f"({lo}) * {one}", f"({hi}) * {one}"

        reason = wilson_reason_sql(x, n, "proportion")
    else:
        o, d, sc = "_cspa_o", "_cspa_d", "_cspa_s"
        inputs = (
            f"{num} AS {o}, {den} AS {d}, {one} AS {sc}, "
            f"CASE WHEN {o} < 10 THEN 'Exact' ELSE 'Byars' END AS _cspa_method"
        )
        ok = f"({o} IS NOT NULL AND {o} >= 0 AND {d} IS NOT NULL AND {d} > 0 AND {sc} IS NOT NULL)"
        value = f"{o} / {d} * {sc}"

        def limits(c: float) -> tuple[str, str]:
            lo, hi = poisson_limits_sql(o, c, "_cspa_method")
            return f"({lo}) / {d} * {sc}", f"({hi}) / {d} * {sc}"

        reason = poisson_reason_sql(
            o, d, sc, levels, "rate per 1", "denominator", "_cspa_ok", "_cspa_method"
        )
    lo, hi = limits(inner)
    lo2, hi2 = limits(outer) if outer else ("NULL", "NULL")
    direction, gate = overlap_sql(
        number("est"),
        number("benchmark"),
        number("lo"),
        number("hi"),
        number("lo2") if outer else None,
        number("hi2") if outer else None,
    )
    judged = (
        "CASE WHEN vs_direction IN ('higher', 'highest') THEN 'higher' "
        "WHEN vs_direction IN ('lower', 'lowest') THEN 'lower' "
        "WHEN vs_direction = 'similar' THEN 'similar' END"
    )
    both = (
        "CASE WHEN vs_direction IN ('highest', 'lowest') THEN TRUE "
        "WHEN vs_direction IN ('higher', 'lower') THEN FALSE END"
        if outer
        else "CAST(NULL AS BOOLEAN)"
    )
    interval = "Wilson score" if method == "wilson" else "Poisson (exact below 10, Byar's from 10)"
    why = (
        "CASE WHEN value IS NULL THEN 'no figure' || coalesce(' (status ' || status || ')', '') "
        "WHEN numerator IS NULL OR denominator IS NULL THEN 'no numerator and denominator: no interval' "
        "WHEN benchmark IS NULL THEN 'no ' || "
        + _comparator_name("comparator")
        + " || ' figure for the period' "
        "WHEN ci_reason IS NOT NULL THEN ci_reason ELSE vs_gate END"
    )
    return f"""SELECT * FROM (
    WITH a AS (SELECT *, {inputs} FROM ({_subjects_sql(v, sids, units=False)})),
    b AS (SELECT *, {ok} AS _cspa_ok FROM a),
    c AS (
        SELECT *, CASE WHEN _cspa_ok THEN {value} END AS ci_value, {reason} AS ci_reason,
               (CASE WHEN _cspa_ok THEN {lo} END) * scale AS lo, (CASE WHEN _cspa_ok THEN {hi} END) * scale AS hi,
               CAST((CASE WHEN _cspa_ok THEN {lo2} END) * scale AS DOUBLE) AS lo2,
               CAST((CASE WHEN _cspa_ok THEN {hi2} END) * scale AS DOUBLE) AS hi2
        FROM b
    ),
    e AS (SELECT *, CASE WHEN ci_reason IS NULL AND ci_value IS NOT NULL THEN ci_value * scale END AS est FROM c),
    g AS (SELECT *, {gate} AS vs_gate FROM e),
    h AS (SELECT *, CASE WHEN vs_gate IS NULL THEN {direction} END AS vs_direction FROM g)
    SELECT rid, CAST(ord AS INTEGER) AS ord, comparator, coalesce({judged}, 'not compared') AS significance,
           {both} AS both_levels, {string(interval + " CI overlap")} AS method,
           CAST({inner * 100!r} AS DOUBLE) AS level,
           {f"CAST({outer * 100!r} AS DOUBLE)" if outer else "CAST(NULL AS DOUBLE)"} AS outer_level,
           benchmark, benchmark_area, lo AS lower, hi AS upper, lo2 AS lower_outer, hi2 AS upper_outer,
           CASE WHEN {judged} IS NULL THEN {why} END AS reason,
           CAST(NULL AS BIGINT) AS units, FALSE AS od_used, CAST(NULL AS DOUBLE) AS od_z,
           CAST(NULL AS VARCHAR) AS od_basis
    FROM h)"""


def significance(
    con: duckdb.DuckDBPyConnection, v: str, sids: list[int], plain: bool = True
) -> str:
    """One row per (figure, comparator) for every figure of an area (not a comparator row) whose
    measure has a ``significance`` rule, with what its one-line basis is made of (composed when a
    row is read, :func:`significance_basis_sql`, as the engine's other lines are): the columns of
    :data:`SIGNIFICANCE_COLUMNS`. A rule group without Spiegelhalter's model takes the flat path
    (:func:`_plain_sql`) unless ``plain`` is False (tests compare the two). Returns the SQL (the
    build materialises it; binding it as a relation first cost more than running it)."""
    parts = []
    # the figures are read four times over (subjects, their comparators, a region's stand-in): a
    # few thousand rows, kept once rather than filtered out of a national build's million each time
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cspa_sig_figures AS SELECT rid, sid, aid, pid, value, status, "
        f"numerator, denominator FROM {v}"
    )
    for (method, levels, overdispersion), group in _rule_groups(con, sids).items():
        if plain and not overdispersion:
            if method != "wilson":
                ensure_udfs(con)  # exact Poisson limits off the written-out table use the UDF
            parts.append(_plain_sql("_cspa_sig_figures", group, method, levels))
            continue
        base = con.sql(_subjects_sql("_cspa_sig_figures", group))
        od = _judged(con, base, method, levels, overdispersion)
        inner = levels[0]
        outer = levels[1] if len(levels) > 1 else None
        od_used = f"(od AND units >= {MIN_OVERDISPERSION_UNITS} AND odt_flag IS NOT NULL)"
        direction = (
            f"CASE WHEN {od_used} THEN CASE odt_flag WHEN 'high' THEN 'higher' WHEN 'low' THEN 'lower' "
            "ELSE 'similar' END "
            "WHEN vs_direction IN ('higher', 'highest') THEN 'higher' "
            "WHEN vs_direction IN ('lower', 'lowest') THEN 'lower' "
            "WHEN vs_direction = 'similar' THEN 'similar' END"
        )
        reason = (
            "CASE WHEN value IS NULL THEN 'no figure' || coalesce(' (status ' || status || ')', '') "
            "WHEN numerator IS NULL OR denominator IS NULL THEN 'no numerator and denominator: no interval' "
            "WHEN benchmark IS NULL THEN 'no ' || "
            + _comparator_name("comparator")
            + " || ' figure for the period' "
            "WHEN ci_reason IS NOT NULL THEN ci_reason "
            "ELSE vs_reason END"
        )
        both = (
            "CASE WHEN vs_direction IN ('highest', 'lowest') THEN TRUE "
            "WHEN vs_direction IN ('higher', 'lower') THEN FALSE END"
            if outer
            else "CAST(NULL AS BOOLEAN)"
        )
        interval = (
            "Wilson score" if method == "wilson" else "Poisson (exact below 10, Byar's from 10)"
        )
        parts.append(f"""
        SELECT rid, CAST(ord AS INTEGER) AS ord, comparator,
               coalesce({direction}, 'not compared') AS significance,
               CASE WHEN {od_used} THEN NULL ELSE {both} END AS both_levels,
               CASE WHEN {od_used} THEN 'Spiegelhalter additive over-dispersion ({level_text(inner)})'
                    ELSE {string(interval + " CI overlap")} END AS method,
               CAST({inner * 100!r} AS DOUBLE) AS level,
               {f"CAST({outer * 100!r} AS DOUBLE)" if outer else "CAST(NULL AS DOUBLE)"} AS outer_level,
               benchmark, benchmark_area, lo AS lower, hi AS upper, lo2 AS lower_outer, hi2 AS upper_outer,
               CASE WHEN {direction} IS NULL THEN {reason} END AS reason,
               CASE WHEN od THEN units END AS units, {od_used} AS od_used,
               CASE WHEN {od_used} THEN odt_z_adjusted END AS od_z,
               CASE WHEN {od_used} THEN odt_basis END AS od_basis
        FROM ({od.sql_query()})""")
    if not parts:
        return (
            "SELECT "
            + ", ".join(
                f"CAST(NULL AS {c.split()[1]}) AS {c.split()[0]}"
                for c in SIGNIFICANCE_COLUMNS.split(", ")
            )
            + " WHERE FALSE"
        )
    return " UNION ALL BY NAME ".join(parts)


def _comparator_name(comparator: str) -> str:
    return (
        f"CASE {comparator} "
        + " ".join(f"WHEN {string(k)} THEN {string(n)}" for k, n in COMPARATOR_NAMES.items())
        + f" ELSE {comparator} END"
    )


def significance_basis_sql(cs: str = "cs", f: str = "f") -> str:
    """SQL of the one-line basis of a significance row ``cs`` (:func:`significance`) of figure ``f``
    (its numerator and denominator): the interval at each level, the comparator and its figure, the
    result, and the methods' sources; or why the figure was not compared."""
    comp = _comparator_name(f"{cs}.comparator")
    lv = f"printf('%g', {cs}.level) || '%'"
    outer = f"printf('%g', {cs}.outer_level) || '%'"
    ci = (
        f"{fmt_number(f'{cs}.lower')} || '-' || {fmt_number(f'{cs}.upper')}"
        f" || CASE WHEN {cs}.outer_level IS NOT NULL THEN ' (' || {outer} || ': ' || "
        f"{fmt_number(f'{cs}.lower_outer')} || '-' || {fmt_number(f'{cs}.upper_outer')} || ')' ELSE '' END"
    )
    counts = f"' (' || format('{{:g}}', {f}.numerator) || ' / ' || format('{{:g}}', {f}.denominator) || ')'"
    benchmark = (
        f"{comp} || CASE WHEN {cs}.comparator = 'england' THEN '' ELSE ' (' || {cs}.benchmark_area || ')' END"
        f" || ' ' || {fmt_number(f'{cs}.benchmark')}"
    )
    strength = (
        f"CASE WHEN {cs}.both_levels THEN ', also at ' || {outer} "
        f"WHEN NOT {cs}.both_levels THEN ', not at ' || {outer} ELSE '' END"
    )
    od_note = (
        f"CASE WHEN {cs}.units IS NOT NULL AND NOT {cs}.od_used THEN '; Spiegelhalter''s over-dispersion model "
        "asked for but not applied: its between-area variance is estimated from every unit with a figure, and ' "
        f"|| {cs}.units || CASE WHEN {cs}.units = 1 THEN ' has' ELSE ' have' END || ' one here (it needs "
        f"{MIN_OVERDISPERSION_UNITS})' ELSE '' END"
    )
    source = (
        f"CASE WHEN {cs}.method LIKE 'Wilson%' THEN 'PHEindicatormethods phe_proportion' "
        "ELSE 'PHEindicatormethods phe_rate / calculate_ISRatio' END"
    )
    return (
        f"CASE WHEN {cs}.rid IS NULL THEN NULL "
        f"WHEN {cs}.significance = 'not compared' THEN 'not compared with ' || {comp} || ': ' || {cs}.reason "
        f"WHEN {cs}.od_used THEN 'Spiegelhalter additive over-dispersion at ' || {lv} || ' vs ' || {benchmark} "
        f"|| ': ' || {cs}.significance || ' (z ' || printf('%.2f', {cs}.od_z) || '; ' || {cs}.od_basis || ')' "
        f"ELSE replace({cs}.method, ' CI overlap', '') || ' ' || {lv} || ' CI ' || {ci} || {counts} || ' vs ' "
        f"|| {benchmark} || ': ' || {cs}.significance || {strength} || {od_note} || ' (Fingertips method ' "
        f"|| CASE WHEN {cs}.outer_level IS NULL THEN '1' ELSE '17' END || '; ' || {source} || ')' END"
    )


def recent_trends(con: duckdb.DuckDBPyConnection, v: str) -> str:
    """``rid, recent_trend, recent_trend_basis`` on the latest figure of each series whose measure's
    recent trend is ``fingertips`` (annual points: financial, academic or calendar years; only the
    points after the series' latest break, catalogue ``breaks``). Returns the SQL, which the build
    materialises (not bound as a relation first: binding it cost half as much as running it)."""
    base = f"""
        SELECT f.rid, {series_key("f.sid", "f.aid")} AS sk, f.last_year AS year, f.value, f.numerator, f.denominator, m.polarity,
               f.last_year - f.first_year + CASE WHEN f.period_kind = 'calendar_year' THEN 1 ELSE 0 END AS year_range
        FROM {v} f JOIN _cspa_key_measure m ON m.sid = f.sid
        WHERE m.recent_trend = 'fingertips' AND f.area_type IN ('la', 'region', 'country')
          AND f.period_kind IN ('financial_year', 'academic_year', 'calendar_year')
          AND NOT EXISTS (SELECT 1 FROM series_break k WHERE k.indicator = f.indicator AND k.measure = f.measure
                          AND k.period_end > f.period_end)"""
    t = recent_trend_sql(
        f"({base})",
        series=("sk",),
        period="year",
        count="numerator",
        denominator="denominator",
        year_range="year_range",
        polarity_column="polarity",
        latest_only=True,
    )
    return f"""
        SELECT rid, recent_trend_label AS recent_trend,
               'Fingertips recent trend: ' || coalesce(recent_trend_reason, recent_trend_basis) AS recent_trend_basis
        FROM ({t})"""
