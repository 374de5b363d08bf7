"""Where a figure sits among all authorities: rank, quartile band, the seed's quartile position.

* **Rank** (LAIT ``calculate_rank``, methods.md 7.1): 1 = best under polarity, ties share the
  lowest rank ("min"), missing values are not ranked; polarity none -> no rank; fewer than
  four authorities with a figure -> not judged.
* **Quartile band** (LAIT ``calculate_quartile_band``): type-7 quartiles over the authorities'
  values for the period (regions and England excluded); 1 = best quarter (LAIT's A). A value
  on a cut point goes to the band on the low-value side (upper bounds inclusive); values and cut
  points are compared at ``polarity.COMPARED_DECIMALS`` places.
* **Quartile position** (seed 000:L4035-4050, methods.md 7.2): against the published England
  lower quartile / median / upper quartile; high is good: Best if v >= UQ, 2nd if v >= median,
  3rd if v >= LQ, else Worst (a value equal to the UQ is Best); mirrored for low is good.
"""

from __future__ import annotations

import duckdb

from cspa.engine.keys import cell_key
from cspa.engine.polarity import (
    best_quarter_sql,
    compared_sql,
    goodness_sql,
    judged_sql,
    rank_key_sql,
)

POSITION_LABELS = ("Best Q'tile", "2nd Q'tile", "3rd Q'tile", "Worst Q'tile")

# Type-7 quartiles need four values to cut; a rank among fewer authorities (the seed's 2008
# dataset holds Luton's figures only) says nothing about the country, so neither is judged.
MIN_RANKED_AREAS = 4


def ranks_and_quartiles(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """:func:`ranks_and_quartiles_sql` as a relation of ``con``."""
    return con.sql(ranks_and_quartiles_sql(v))


def ranks_and_quartiles_sql(v: str) -> str:
    """Rank and quartile band of every authority's figure, per measure and period (``cell_key``).

    ``v``: figure rows on the run's integer keys (``rid, sid, aid, pid, value``); the authorities are
    the areas of type ``la`` in ``_cspa_key_area``. Output: ``rid, cell, rank, quartile, n_areas,
    q1, q2, q3, flat, not_ranked`` (the cut-offs are kept so the provenance line can be composed when
    read, once per cell, :mod:`cspa.engine.provenance`; ``flat``: every authority ranked has the
    same figure, which progress reads too, :func:`cspa.engine.progress.progress_table_sql`).

    The population of a period is the authorities that existed in it and have a figure for it.
    LAIT carries figures for an authority before it existed (DfE back-casts a new authority's area,
    e.g. North Northamptonshire from 2013/14) and after it ceased (Cumbria's to 2024-25), so a past
    year can hold both the old authority and its successors, and counting every row would rank one
    place twice ("rank 1 of 158" in 2018, when there were 152 authorities). LAIT's own
    ``calculate_rank`` ranks only its latest year, among every row with a value (methods.md 7.1),
    where the two rarely overlap. A figure left out is kept with the reason (``not_ranked``):

    * the authority did not exist on any day of the period (``la_lifetimes.csv``);
    * it ceased during the period and a successor has a figure for the same period: the area is
      counted once, as the authority that held it at the period's end;
    * every authority ranked has the same figure (LAIT repeats England's figure for every authority
      in some years): all would tie at rank 1 in the best quarter, which places nobody.

    Returns the SQL (the build materialises it without binding it as a relation first).
    """
    return f"""
    WITH x AS (
        SELECT v.rid, {
        cell_key("v.sid", "v.pid")
    } AS cell, v.value, m.polarity, m.quartiles, m.ranks,
               -- one sort key for both polarities: the best value sorts first
               {rank_key_sql("v.value", "m.polarity")} AS best_first,
               -- compared at polarity.COMPARED_DECIMALS places: a source's float noise is no difference
               {compared_sql("v.value")} AS compared,
               a.code, a.successors,
               CASE WHEN a.exists_from > p.period_end THEN 'began'
                    WHEN a.exists_until < p.period_start THEN 'ceased'
                    WHEN a.exists_until < p.period_end THEN 'ended_within' END AS lifetime,
               a.exists_from, a.exists_until
        FROM {v} v JOIN _cspa_key_measure m ON m.sid = v.sid
        JOIN _cspa_key_area a ON a.aid = v.aid JOIN _cspa_key_period p ON p.pid = v.pid
        WHERE a.type = 'la' AND v.value IS NOT NULL AND (m.quartiles OR m.ranks)
    ),
    -- an authority that ended within the period, whose successor has a figure for it (the few
    -- such figures are paired with their successors' codes, so the join is on equal keys and the
    -- cell's other figures are not paired with them)
    replaced AS (
        SELECT DISTINCT e.rid
        FROM (SELECT rid, cell, unnest(successors) AS successor FROM x WHERE lifetime = 'ended_within') e
        JOIN x s ON s.cell = e.cell AND s.code = e.successor
    ),
    y AS (
        SELECT x.*, CASE
            WHEN x.lifetime = 'began' THEN 'not ranked or banded: the authority was created on '
                || strftime(x.exists_from, '%-d %B %Y') || ', after this period; ranks are among the authorities'
                || ' that existed in the period (this figure is for its area before it existed)'
            WHEN x.lifetime = 'ceased' THEN 'not ranked or banded: the authority ceased on '
                || strftime(x.exists_until, '%-d %B %Y') || ', before this period; ranks are among the'
                || ' authorities that existed in the period'
            WHEN r.rid IS NOT NULL THEN 'not ranked or banded: the authority ceased on '
                || strftime(x.exists_until, '%-d %B %Y') || ', within this period, and its successor'
                || ' has a figure for it; the area is ranked once, as its successor'
            END AS not_ranked
        FROM x LEFT JOIN (SELECT DISTINCT rid FROM replaced) r ON r.rid = x.rid
    ),
    q0 AS (
        SELECT cell, count(*) AS n_areas,
               -- the three cuts from one sorted copy of the cell's figures (three aggregates kept three)
               quantile_cont(value, [0.25, 0.5, 0.75]) AS cuts,
               -- every authority ranked has the same figure (LAIT gives every authority England's
               -- figure for some measures and years): all would be "rank 1" in the best quarter,
               -- which places none of them
               count(*) >= {MIN_RANKED_AREAS} AND min(compared) = max(compared) AS flat
        FROM y WHERE not_ranked IS NULL GROUP BY cell
    ),
    q AS (SELECT * EXCLUDE (cuts), cuts[1] AS q1, cuts[2] AS q2, cuts[3] AS q3 FROM q0),
    ranked AS (
        SELECT y.rid, y.cell,
               CASE WHEN y.ranks AND y.best_first IS NOT NULL AND q.n_areas >= {MIN_RANKED_AREAS}
                    AND NOT q.flat THEN rank() OVER (PARTITION BY y.cell ORDER BY y.best_first) END AS rank,
               -- LAIT's quarters: a value equal to a cut point is in the quarter on the low-value
               -- side (methods.md 7.1), then numbered from the best under polarity
               CASE WHEN y.quartiles AND q.n_areas >= {MIN_RANKED_AREAS} AND NOT q.flat THEN {
        best_quarter_sql(
            f"CASE WHEN y.compared <= {compared_sql('q.q1')} THEN 1 WHEN y.compared <= {compared_sql('q.q2')} THEN 2 "
            f"WHEN y.compared <= {compared_sql('q.q3')} THEN 3 ELSE 4 END",
            "y.polarity",
        )
    } END AS quartile,
               q.n_areas, q.q1, q.q2, q.q3, q.flat,
               CASE WHEN q.flat THEN 'not ranked or banded: all ' || q.n_areas || ' authorities with a '
                    || 'figure have the same one, so none is better or worse placed than another' END AS not_ranked
        FROM y JOIN q USING (cell) WHERE y.not_ranked IS NULL
    )
    SELECT * FROM ranked
    UNION ALL
    SELECT rid, cell, CAST(NULL AS BIGINT), CAST(NULL AS INTEGER), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
           CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS BOOLEAN), not_ranked
    FROM y WHERE not_ranked IS NOT NULL
    """


def quartile_position(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """The seed's quartile position against published England quartiles (000:L4035-4050)."""
    good_v, good_lq, good_med, good_uq = (
        goodness_sql(x, "m.polarity") for x in ("v.value", "qs.lq", "qs.med", "qs.uq")
    )
    return con.sql(f"""
    WITH qs AS (
        SELECT indicator, measure, period,
               max(value) FILTER (WHERE statistic = 'lower_quartile') AS lq,
               max(value) FILTER (WHERE statistic = 'median') AS med,
               max(value) FILTER (WHERE statistic = 'upper_quartile') AS uq
        FROM _cspa_obs WHERE statistic IN ('lower_quartile', 'median', 'upper_quartile')
        GROUP BY ALL
    )
    SELECT v.rid, v.indicator, v.measure, v.area, v.period,
           -- the seed's position: a value equal to a cut-off takes the better quarter
           -- (000:L4035-4050), so it is decided on the values oriented better-is-larger
           CASE WHEN {good_v} >= greatest({good_lq}, {good_uq}) THEN 1 WHEN {good_v} >= {good_med} THEN 2
                WHEN {good_v} >= least({good_lq}, {good_uq}) THEN 3 WHEN {good_v} IS NOT NULL THEN 4
           END AS position_quartile,
           'England quartiles ' || format('{{:g}}', qs.lq) || ' / ' || format('{{:g}}', qs.med) || ' / ' || format('{{:g}}', qs.uq)
             || ' (published); ' || m.polarity || ' is good; a value equal to a cut-off takes the better quarter' AS position_basis
    FROM {v} v JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
    JOIN qs ON qs.indicator = v.indicator AND qs.measure = v.measure AND qs.period = v.period
    WHERE v.area_type NOT IN ('country', 'region', 'sn_group') AND v.value IS NOT NULL
      AND qs.lq IS NOT NULL AND qs.med IS NOT NULL AND qs.uq IS NOT NULL AND {judged_sql("m.polarity")}
    """)
