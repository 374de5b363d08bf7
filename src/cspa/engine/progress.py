"""Change since the previous period and progress under polarity.

* ``progress``: improved / same / worsened against the previous period of the same series
  (high is good: a rise is improved); polarity none gives no progress.
* ``improving``: the Audit Commission's "Improving?" (seed 000:L4035-4050, methods.md 7.2):
  "Improving" when the value is at least as good as the year before, so a value held at
  100.0 is Improving; else "Not Improving".
"""

from __future__ import annotations

import duckdb


def progress(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    return con.sql(f"""
    WITH s AS (
        SELECT v.rid, v.indicator, v.measure, v.area, v.period, v.period_label, v.value, m.polarity, m.trend,
               lag(v.value) OVER w AS prev_value, lag(v.period_label) OVER w AS prev_label
        FROM {v} v JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
        -- only where a direction is set: polarity none has no progress to judge
        WHERE m.formula_type NOT IN ('change', 'percent_change', 'difference') AND m.polarity IN ('high', 'low')
        WINDOW w AS (PARTITION BY v.indicator, v.measure, v.area ORDER BY v.period_end, v.period_start)
    )
    SELECT rid, indicator, measure, area, period,
           value - prev_value AS change,
           CASE WHEN polarity NOT IN ('high', 'low') OR value IS NULL OR prev_value IS NULL THEN NULL
                WHEN value = prev_value THEN 'same'
                WHEN (value > prev_value) = (polarity = 'high') THEN 'improved' ELSE 'worsened' END AS progress,
           CASE WHEN trend = 'improving' AND polarity IN ('high', 'low') AND value IS NOT NULL AND prev_value IS NOT NULL THEN
                CASE WHEN (polarity = 'high' AND value >= prev_value) OR (polarity = 'low' AND value <= prev_value)
                     THEN 'Improving' ELSE 'Not Improving' END END AS improving,
           CASE WHEN prev_value IS NOT NULL THEN
             'vs ' || prev_label || ': ' || format('{{:g}}', value) || ' vs ' || format('{{:g}}', prev_value) || ' (' || polarity || ' is good)'
           END AS progress_basis
    FROM s WHERE prev_label IS NOT NULL
    """)
