"""Change since the previous period and progress under polarity.

* ``progress``: improved / same / worsened against the previous period of the same series
  (high is good: a rise is improved); polarity none gives no progress.
* ``improving``: the Audit Commission's "Improving?" (seed 000:L4035-4050, methods.md 7.2):
  "Improving" when the value is at least as good as the year before, so a value held at
  100.0 is Improving; else "Not Improving".
"""

from __future__ import annotations

import duckdb

from cspa.engine.keys import series_key


def progress(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """Output: ``rid, change, prev_value, prev_label, progress, improving`` for every figure with a
    previous period in its series (one window over the packed ``series_key``, in ``pid`` order)."""
    return con.sql(f"""
    WITH s AS (
        SELECT v.rid, v.value, m.polarity, m.trend,
               lag(v.value) OVER w AS prev_value, lag(v.period_label) OVER w AS prev_label
        FROM {v} v JOIN _cspa_key_measure m ON m.sid = v.sid
        -- only where a direction is set: polarity none has no progress to judge
        WHERE m.formula_type NOT IN ('change', 'percent_change', 'difference') AND m.polarity IN ('high', 'low')
        WINDOW w AS (PARTITION BY {series_key('v.sid', 'v.aid')} ORDER BY v.pid)
    )
    SELECT rid, value - prev_value AS change, prev_value, prev_label,
           CASE WHEN value IS NULL OR prev_value IS NULL THEN NULL
                WHEN value = prev_value THEN 'same'
                WHEN (value > prev_value) = (polarity = 'high') THEN 'improved' ELSE 'worsened' END AS progress,
           CASE WHEN trend = 'improving' AND value IS NOT NULL AND prev_value IS NOT NULL THEN
                CASE WHEN (polarity = 'high' AND value >= prev_value) OR (polarity = 'low' AND value <= prev_value)
                     THEN 'Improving' ELSE 'Not Improving' END END AS improving
    FROM s WHERE prev_label IS NOT NULL
    """)
