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

from cspa.engine.keys import BITS, figure_key
from cspa.engine.provenance import sn_basis_sql

_MASK = (1 << BITS) - 1


def neighbour_aggregates(con: duckdb.DuckDBPyConnection, v: str, default_group: str = "dfe_2025",
                         min_used: int = 1) -> duckdb.DuckDBPyRelation:
    """Statistical-neighbour aggregates for every authority, indicator, measure and period at once.

    ``v`` is a table of :func:`cspa.engine.values.values` rows (with the run's integer keys).
    Output: the value columns of ``v`` for area ``SN:<group>:<la>`` plus ``n_used``, ``n_members``
    and ``sn_method``. The join of every figure with the authorities it is a neighbour of is the
    engine's largest (ten rows per figure), so it runs on integer keys and one packed group key;
    the median, a holistic aggregate, is only accumulated for measures that ask for it.
    """
    return con.sql(f"""
    WITH m AS (
        SELECT sid, gid, grp, sn_method, unit, indicator, measure FROM _cspa_key_measure
        WHERE sn_method IN ('median', 'mean', 'pooled')
    ),
    members AS (
        SELECT g.gid, nb.aid AS nb_aid, sn.aid AS sn_aid,
               count(*) OVER (PARTITION BY n.grp, n.la_code) AS n_members
        FROM neighbour n
        JOIN _cspa_key_group g ON g.grp = n.grp
        JOIN _cspa_key_area nb ON nb.code = n.neighbour_code
        JOIN _cspa_key_area sn ON sn.code = 'SN:' || n.grp || ':' || n.la_code
        WHERE n.neighbour_code IS NOT NULL
    ),
    agg AS (
        SELECT {figure_key('x.sid', 'mb.sn_aid', 'x.pid')} AS k,
               -- parallel float sums add in any order, and the last bits decide printed figures on a
               -- rounding boundary: a compensated sum, rounded to 10 places, gives the same mean every run
               round(fsum(x.value) / count(x.value), 10) AS mean_value,
               median(x.value) FILTER (WHERE m.sn_method = 'median') AS median_value,
               sum(x.numerator) FILTER (WHERE x.value IS NOT NULL) AS numerator,
               sum(x.denominator) FILTER (WHERE x.value IS NOT NULL) AS denominator,
               count(x.value) AS n_used, any_value(mb.n_members) AS n_members,
               bool_or(x.provisional) AS provisional
        FROM {v} x JOIN m ON m.sid = x.sid JOIN members mb ON mb.gid = m.gid AND mb.nb_aid = x.aid
        GROUP BY k
    ),
    cells AS (   -- the period's labels and vintage, once per measure and period
        SELECT sid, pid, any_value(period_label) AS period_label,
               any_value(period_start) AS period_start,
               any_value(period_end) AS period_end, any_value(first_year) AS first_year,
               any_value(last_year) AS last_year, any_value(vid) AS vid
        FROM {v} GROUP BY sid, pid
    ),
    unpacked AS (
        SELECT k >> {2 * BITS} AS sid, (k >> {BITS}) & {_MASK} AS aid, k & {_MASK} AS pid, * EXCLUDE (k) FROM agg
    )
    SELECT u.sid, u.aid, u.pid, m.indicator, m.measure, a.code AS area, 'sn_group' AS area_type,
           kp.period, c.period_label, kp.period_kind, c.period_start, c.period_end, c.first_year, c.last_year,
           CASE m.sn_method
                WHEN 'median' THEN u.median_value
                WHEN 'mean' THEN u.mean_value
                ELSE u.numerator / nullif(u.denominator, 0) * CASE WHEN m.unit = 'percent' THEN 100 ELSE 1 END
           END AS value,
           u.numerator, u.denominator,
           CASE WHEN u.n_used < {min_used} THEN '..' END AS status,
           CAST(NULL AS VARCHAR) AS text, CAST(NULL AS VARCHAR) AS quality, u.provisional, FALSE AS published,
           'computed' AS source,
           {sn_basis_sql('m.sn_method', 'u.n_used', 'u.n_members', 'm.grp')} AS basis,
           CAST(NULL AS VARCHAR) AS seed_ref, vk.vintage, c.vid, u.n_used, u.n_members, m.sn_method
    FROM unpacked u JOIN m ON m.sid = u.sid
    JOIN _cspa_key_area a ON a.aid = u.aid
    JOIN cells c ON c.sid = u.sid AND c.pid = u.pid
    JOIN _cspa_key_period kp ON kp.pid = u.pid
    LEFT JOIN _cspa_key_vintage vk ON vk.vid = c.vid
    """)
