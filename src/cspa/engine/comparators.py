"""Comparator figures formed from member authorities' values, as the catalogue says.

* ``median``: the median of the neighbours' values (seed 000:L3956 and L4073: "SN figures ...
  are median averages of the %s for all of the LA's statistical neighbours");
* ``mean``: the simple mean of the neighbours' values, ignoring missing ones (LAIT user guide);
* ``pooled``: sum of numerators / sum of denominators (seed 000:L3956 for national figures);
* ``published``: nothing is computed; the published figure is shown and marked.

England and region figures (the catalogue's ``england_method``) are published, or ``pooled``
across the authorities: sum of numerators over sum of denominators (000:L3956 "national figures
... the sum of the numerators divided by the sum of the denominators"; 3097DE's definition,
000:L4786: "the number of exclusions in all LAs divided by the sum of the pupils in all LAs").
A published figure for the same key wins, as for neighbours: it counts the authorities whose
figures are suppressed, which a pooled figure cannot.

Missing and suppressed neighbours are skipped and counted: every aggregate says how many of
the group's members it used (``n_used`` of ``n_members``). The group is the measure's
``neighbour_group`` or the framework's default for the period (data, not code).
"""

from __future__ import annotations

import duckdb

from cspa.engine.keys import BITS, figure_key
from cspa.engine.provenance import count_sql, sn_basis_sql, used_of_sql, vintage_sql

_MASK = (1 << BITS) - 1

ENGLAND = "E92000001"

# A pooled national figure needs national data: with fewer authorities in a cell (the seed's
# 2008 dataset holds one authority's rows) a "pooled England" would be that authority's figure.
# The same floor as the seed's trend classes, which rank every authority (run.MIN_TREND_AREAS).
MIN_POOLED_AREAS = 20


def pooled_scale_sql(m: str = "m") -> str:
    """SQL: the factor a pooled numerator / denominator is multiplied by, from the measure's formula
    (x 100 for percentages and standardised ratios, the multiplier for rates, per cent units x 100)."""
    return (
        f"CASE {m}.formula_type WHEN 'percentage' THEN 100 WHEN 'standardised_ratio' THEN 100"
        f" WHEN 'rate' THEN {m}.multiplier WHEN 'ratio' THEN coalesce({m}.multiplier, 1)"
        f" ELSE CASE WHEN {m}.unit = 'percent' THEN 100 ELSE coalesce({m}.multiplier, 1) END END"
    )


def members_sql(*extra: str) -> str:
    """SQL: each neighbour group's pairs on the build's integer keys: ``gid`` (the group), ``nb_aid``
    (a member authority) and ``sn_aid`` (the ``SN:<group>:<la>`` area whose figure it is part of),
    with any ``extra`` columns of ``neighbour n``."""
    more = "".join(f", {e}" for e in extra)
    return f"""
        SELECT g.gid, nb.aid AS nb_aid, sn.aid AS sn_aid{more}
        FROM neighbour n
        JOIN _cspa_key_group g ON g.grp = n.grp
        JOIN _cspa_key_area nb ON nb.code = n.neighbour_code
        JOIN _cspa_key_area sn ON sn.code = 'SN:' || n.grp || ':' || n.la_code
        WHERE n.neighbour_code IS NOT NULL"""


def neighbour_aggregates(
    con: duckdb.DuckDBPyConnection,
    v: str,
    min_used: int = 1,
    names: bool = True,
) -> duckdb.DuckDBPyRelation:
    """:func:`neighbour_aggregates_sql` as a relation of ``con``."""
    return con.sql(neighbour_aggregates_sql(v, min_used, names))


def neighbour_aggregates_sql(
    v: str, min_used: int = 1, names: bool = True, means: str | None = None
) -> str:
    """Statistical-neighbour aggregates for every authority, indicator, measure and period at once.

    ``v`` is a table of :func:`cspa.engine.values.values` rows (with the run's integer keys).
    Output: the value columns of ``v`` for area ``SN:<group>:<la>`` plus ``n_used``, ``n_members``
    and ``sn_method``; with ``names=False`` only the integer keys, the period's label and the figures
    (the engine's build, which joins names, dates and area types when a row is read). The join of every figure with the authorities it is a
    neighbour of is the engine's largest (ten rows per figure), so it runs on integer keys and one
    packed group key; each method is accumulated in a pass of its own over the measures that ask
    for it (the median is holistic; only pooled figures need the counts summed), so a measure pays
    only for its own aggregate. A median or mean has no numerator or denominator.

    ``means``: a relation of the mean measures' sums and counts already made by
    :func:`cspa.engine.neighbour_means.neighbour_means` (columns ``k``, ``total``, ``n_used``), read
    in place of the join's grouping for them.
    """

    def agg(method: str, value: str, counts: bool = False) -> str:
        # only a pooled figure is made of the neighbours' counts; a median or mean of rates shown
        # beside the sum of the neighbours' numerators would read as that sum's rate, so they have none
        sums = (
            "sum(x.numerator) FILTER (WHERE x.value IS NOT NULL)",
            "sum(x.denominator) FILTER (WHERE x.value IS NOT NULL)",
        )
        num, den = sums if counts else ("CAST(NULL AS DOUBLE)", "CAST(NULL AS DOUBLE)")
        return f"""
        SELECT {figure_key("x.sid", "mb.sn_aid", "x.pid")} AS k, {value} AS value,
               {num} AS numerator, {den} AS denominator, count(x.value) AS n_used
        FROM {v} x JOIN m ON m.sid = x.sid AND m.sn_method = '{method}'
        JOIN members mb ON mb.gid = m.gid AND mb.nb_aid = x.aid
        GROUP BY k"""

    mean = agg("mean", "round(fsum(x.value) / count(x.value), 10) + 0.0")
    if means is not None:
        mean = f"""
        SELECT k, CASE WHEN n_used > 0 THEN round(total / n_used, 10) + 0.0 END AS value,
               CAST(NULL AS DOUBLE) AS numerator, CAST(NULL AS DOUBLE) AS denominator, n_used
        FROM {means}"""
    narrow = f"""
    WITH m AS (
        SELECT sid, gid, grp, sn_method, unit, formula_type, multiplier FROM _cspa_key_measure
        WHERE sn_method IN ('median', 'mean', 'pooled')
    ),
    members AS ({members_sql("count(*) OVER (PARTITION BY n.grp, n.la_code) AS n_members")}),
    agg AS (
        -- parallel float sums add in any order, and the last bits decide printed figures on a
        -- rounding boundary: a compensated sum, rounded to 10 places, gives the same mean every run
        -- (+ 0.0: a residual of either sign rounds to zero, and -0 would print as '-0')
        {mean}
        UNION ALL {agg("pooled", "CAST(NULL AS DOUBLE)", counts=True)}
        UNION ALL {agg("median", "median(x.value)")}
    ),
    -- the group's size and whether any member's figure is provisional are joined after the
    -- grouping, not aggregated in it: each aggregate costs a pass over the ten rows per figure,
    -- and provisional figures are a handful (a dozen in the whole store)
    sizes AS (SELECT DISTINCT sn_aid, n_members FROM members),
    provisional AS (
        SELECT DISTINCT {figure_key("x.sid", "mb.sn_aid", "x.pid")} AS k
        FROM {v} x JOIN m ON m.sid = x.sid JOIN members mb ON mb.gid = m.gid AND mb.nb_aid = x.aid
        WHERE x.provisional
    ),
    cells AS (   -- the period's label and vintage, once per measure and period
        SELECT sid, pid, any_value(period_label) AS period_label, any_value(vid) AS vid FROM {v} GROUP BY sid, pid
    ),
    unpacked AS (
        SELECT k >> {2 * BITS} AS sid, (k >> {BITS}) & {_MASK} AS aid, k & {_MASK} AS pid, * EXCLUDE (k),
               k IN (SELECT k FROM provisional) AS provisional
        FROM agg
    )
    SELECT u.sid, u.aid, u.pid, c.vid, c.period_label,
           CASE WHEN m.sn_method = 'pooled'
                THEN u.numerator / nullif(u.denominator, 0) * {pooled_scale_sql("m")} ELSE u.value END AS value,
           u.numerator, u.denominator,
           CASE WHEN u.n_used < {min_used} THEN '..' END AS status,
           CAST(NULL AS VARCHAR) AS text, CAST(NULL AS VARCHAR) AS quality, u.provisional, FALSE AS published,
           'computed' AS source, CAST(NULL AS VARCHAR) AS basis, CAST(NULL AS VARCHAR) AS seed_ref,
           u.n_used, z.n_members
    FROM unpacked u JOIN m ON m.sid = u.sid
    JOIN cells c ON c.sid = u.sid AND c.pid = u.pid
    JOIN sizes z ON z.sn_aid = u.aid
    """
    if not names:
        return narrow
    return f"""
    SELECT n.* EXCLUDE (basis), m.indicator, m.measure, a.code AS area, a.type AS area_type, kp.period,
           kp.period_kind, kp.period_start, kp.period_end, kp.first_year, kp.last_year,
           {sn_basis_sql("m.sn_method", "n.n_used", "n.n_members", "m.grp", "vk.vintage")} AS basis, vk.vintage, m.sn_method
    FROM ({narrow}) n JOIN _cspa_key_measure m ON m.sid = n.sid
    JOIN _cspa_key_area a ON a.aid = n.aid
    JOIN _cspa_key_period kp ON kp.pid = n.pid
    LEFT JOIN _cspa_key_vintage vk ON vk.vid = n.vid
    """


def pooled_comparators(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """:func:`pooled_comparators_sql` as a relation of ``con``."""
    return con.sql(pooled_comparators_sql(v))


def pooled_comparators_sql(v: str) -> str:
    """England and region figures pooled from the authorities' numerators and denominators.

    For measures whose ``england_method`` is ``pooled``, every (measure, period) with figures from
    at least :data:`MIN_POOLED_AREAS` authorities gets an England figure (all authorities) and one
    per region (the authorities whose ``region_code`` it is): sum of numerators / sum of
    denominators x the formula's scale (:func:`pooled_scale_sql`), over the authorities with a
    figure and both counts; the rest are skipped and counted (``n_used`` of ``n_members``, the
    authorities with a row in that cell, suppressed ones included). Output columns as
    :func:`neighbour_aggregates`, with the provenance line in ``basis``, which names the
    authorities that were summed and those that were not (issue 17: a pooled figure says what it
    is made of, so a reader can check it against the authorities' own figures).
    """
    usable = "x.value IS NOT NULL AND x.numerator IS NOT NULL AND x.denominator > 0"
    return f"""
    WITH m AS (
        SELECT sid, indicator, measure, unit, formula_type, multiplier FROM _cspa_key_measure
        WHERE england_method = 'pooled'
    ),
    la AS (
        SELECT x.sid, x.pid, x.vid, x.value, x.numerator, x.denominator, x.provisional, x.period_label,
               {usable} AS usable, a.region_code, coalesce(an.name, a.code) AS area_name,
               count(*) OVER (PARTITION BY x.sid, x.pid) AS n_cell
        FROM {v} x JOIN m ON m.sid = x.sid JOIN _cspa_key_area a ON a.aid = x.aid
        LEFT JOIN area an ON an.code = a.code
        WHERE a.type = 'la'
    ),
    geo AS (
        SELECT '{ENGLAND}' AS code, * FROM la WHERE n_cell >= {MIN_POOLED_AREAS}
        UNION ALL SELECT region_code AS code, * FROM la WHERE n_cell >= {MIN_POOLED_AREAS} AND region_code IS NOT NULL
    ),
    agg AS (
        SELECT sid, pid, code, sum(numerator) FILTER (WHERE usable) AS numerator,
               sum(denominator) FILTER (WHERE usable) AS denominator,
               count(*) FILTER (WHERE usable) AS n_used, count(*) AS n_members,
               -- the authorities summed and those left out, by name (a few hundred cells, so cheap)
               string_agg(area_name, ', ' ORDER BY area_name) FILTER (WHERE usable) AS summed,
               string_agg(area_name, ', ' ORDER BY area_name) FILTER (WHERE NOT usable) AS not_summed,
               bool_or(provisional) AS provisional, any_value(period_label) AS period_label, any_value(vid) AS vid
        FROM geo GROUP BY sid, pid, code
    )
    SELECT g.sid, a.aid, g.pid, m.indicator, m.measure, a.code AS area, a.type AS area_type,
           kp.period, g.period_label, kp.period_kind, kp.period_start, kp.period_end, kp.first_year, kp.last_year,
           g.numerator / nullif(g.denominator, 0) * {pooled_scale_sql("m")} AS value,
           g.numerator, g.denominator,
           CASE WHEN g.n_used = 0 OR coalesce(g.denominator, 0) = 0 THEN '..' END AS status,
           CAST(NULL AS VARCHAR) AS text, CAST(NULL AS VARCHAR) AS quality, g.provisional, FALSE AS published,
           'computed' AS source,
           'pooled over ' || {used_of_sql("g.n_used", "g.n_members", "'authorities'")}
             || ': sum of numerators / sum of denominators = ' || {count_sql("g.numerator")} || ' / '
             || {count_sql("g.denominator")} || ' x ' || format('{{:g}}', {pooled_scale_sql("m")})
             || {vintage_sql("vk.vintage")}
             || '; summed: ' || coalesce(g.summed, 'none')
             || coalesce('; not summed (no figure or counts): ' || g.not_summed, '') AS basis,
           CAST(NULL AS VARCHAR) AS seed_ref, vk.vintage, g.vid, g.n_used, g.n_members, 'pooled' AS sn_method
    FROM agg g JOIN m ON m.sid = g.sid
    JOIN _cspa_key_area a ON a.code = g.code
    JOIN _cspa_key_period kp ON kp.pid = g.pid
    LEFT JOIN _cspa_key_vintage vk ON vk.vid = g.vid
    """
