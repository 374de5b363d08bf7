"""Comparator figures formed from member authorities' values, as the catalogue says.

* ``median``: the median of the neighbours' values (seed 000:L3956 and L4073: "SN figures ...
  are median averages of the %s for all of the LA's statistical neighbours");
* ``mean``: the simple mean of the neighbours' values, ignoring missing ones (LAIT user guide);
* ``pooled``: sum of numerators / sum of denominators (seed 000:L3956 for national figures);
* ``published``: nothing is computed; the published figure is shown and marked.

Missing and suppressed neighbours are skipped and counted: every aggregate says how many of
the group's members it used (``n_used`` of ``n_members``). The group is the measure's
``neighbour_group`` or the framework's default for the period (data, not code).
"""

from __future__ import annotations

import duckdb


def neighbour_aggregates(con: duckdb.DuckDBPyConnection, v: str, default_group: str = "dfe_2025",
                         min_used: int = 1) -> duckdb.DuckDBPyRelation:
    """Statistical-neighbour aggregates for every authority, indicator, measure and period at once.

    Output: the value columns of ``v`` for area ``SN:<group>:<la>`` plus ``n_used``, ``n_members``.
    """
    return con.sql(f"""
    WITH m AS (
        SELECT indicator, measure, sn_method, coalesce(neighbour_group, '{default_group}') AS grp
        FROM measure WHERE sn_method IN ('median', 'mean', 'pooled')
    ),
    members AS (
        SELECT n.grp, n.la_code, n.neighbour_code, count(*) OVER (PARTITION BY n.grp, n.la_code) AS n_members
        FROM neighbour n WHERE n.neighbour_code IS NOT NULL
    ),
    joined AS (
        SELECT m.indicator, m.measure, m.sn_method, m.grp, mb.la_code, mb.n_members, x.*  EXCLUDE (indicator, measure)
        FROM m JOIN members mb ON mb.grp = m.grp
        JOIN {v} x ON x.indicator = m.indicator AND x.measure = m.measure AND x.area = mb.neighbour_code
    )
    SELECT indicator, measure, 'SN:' || grp || ':' || la_code AS area, 'sn_group' AS area_type,
           period, any_value(period_label) AS period_label, any_value(period_kind) AS period_kind,
           any_value(period_start) AS period_start, any_value(period_end) AS period_end,
           any_value(first_year) AS first_year, any_value(last_year) AS last_year,
           CASE any_value(sn_method)
                WHEN 'median' THEN median(value)
                WHEN 'mean' THEN avg(value)
                ELSE sum(numerator) FILTER (WHERE value IS NOT NULL) / nullif(sum(denominator) FILTER (WHERE value IS NOT NULL), 0)
                     * CASE WHEN any_value(unit) = 'percent' THEN 100 ELSE 1 END END AS value,
           sum(numerator) FILTER (WHERE value IS NOT NULL) AS numerator,
           sum(denominator) FILTER (WHERE value IS NOT NULL) AS denominator,
           CASE WHEN count(value) < {min_used} THEN '..' END AS status,
           NULL AS text, NULL AS quality, bool_or(provisional) AS provisional, FALSE AS published,
           'computed' AS source,
           any_value(sn_method) || ' of ' || count(value) || ' of ' || any_value(n_members) || ' ' || any_value(grp)
             || ' neighbours' || CASE WHEN count(value) < any_value(n_members)
                                      THEN ' (' || (any_value(n_members) - count(value)) || ' missing or suppressed)' ELSE '' END
             AS basis,
           NULL AS seed_ref, any_value(vintage) AS vintage,
           count(value) AS n_used, any_value(n_members) AS n_members
    FROM (SELECT j.*, ms.unit FROM joined j JOIN measure ms ON ms.indicator = j.indicator AND ms.measure = j.measure)
    GROUP BY indicator, measure, grp, la_code, period
    """)
