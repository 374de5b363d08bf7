"""Change since the previous period and progress under polarity.

* ``progress``: improved / same / worsened against the previous period of the same series
  (high is good: a rise is improved); polarity none gives no progress.
* ``improving``: the Audit Commission's "Improving?" (seed 000:L4035-4050, methods.md 7.2):
  "Improving" when the value is at least as good as the year before, so a value held at
  100.0 is Improving; else "Not Improving".
"""

from __future__ import annotations

import duckdb

from cspa.engine.keys import cell_key, figure_key
from cspa.engine.polarity import compare_sql
from cspa.engine.polarity import judged_sql as polarity_judged_sql


def judged_sql(m: str = "m") -> str:
    """SQL: whether measure ``m`` has progress judged: it has a direction, and is not itself a change
    (a change's own change is not progress)."""
    return (
        f"({m}.formula_type NOT IN ('change', 'percent_change', 'difference') "
        f"AND {polarity_judged_sql(f'{m}.polarity')})"
    )


def progress(
    con: duckdb.DuckDBPyConnection, v: str, ranks: str | None = None
) -> duckdb.DuckDBPyRelation:
    """:func:`progress_table_sql` as a relation of ``con``."""
    return con.sql(progress_table_sql(v, ranks))


def progress_table_sql(v: str, ranks: str | None = None) -> str:
    """Output: ``rid, prev_value, prev_label, break_basis`` for every figure that has a value, of a measure with a
    direction, whose area has a value in the measure's previous period: the comparison's inputs.

    The words (``progress``, ``improving``) follow from the value, the previous value and the
    measure's polarity, so they are decided when a row is read (:func:`progress_sql`) and the
    table holds no strings per figure but the previous period's label.

    The previous period is the one before it among the periods the measure has figures for (any
    area), so a year an area did not report is not skipped over: its next figure has no progress
    rather than a comparison with an older year; nor is a break in the series (catalogue ``breaks``):
    across one ``prev_value`` is NULL and ``break_basis`` says why. Numbering the periods of each measure (a few
    thousand cells) and joining each figure to its previous one on one packed key costs a hash
    join, where a window over every series would sort a million rows.

    ``ranks``: the build's ranks (:func:`cspa.engine.distribution.ranks_and_quartiles_sql`), whose
    ``flat`` cells are those where every authority ranked has the same figure. LAIT gives every
    authority (and region) England's figure for some measures and years (Stability_School in
    2017-18 and 2018-19): a change into or out of such a period is England's, or England's against
    the area's own, not the area's, so only a country's figure has progress there and the others
    say why (``break_basis``). Returns the SQL.
    """
    flat = (
        f"SELECT DISTINCT cell FROM {ranks} WHERE flat"
        if ranks
        else "SELECT CAST(NULL AS BIGINT) AS cell WHERE FALSE"
    )
    return f"""
    WITH f AS (
        SELECT v.rid, v.sid, v.aid, v.pid, v.value, v.period_label
        FROM {v} v JOIN _cspa_key_measure m ON m.sid = v.sid
        -- only where a direction is set: polarity none has no progress to judge
        WHERE {judged_sql("m")}
    ),
    cells AS (
        SELECT sid, pid, lag(pid) OVER (PARTITION BY sid ORDER BY pid) AS prev_pid
        FROM (SELECT DISTINCT sid, pid FROM f)
    ),
    -- cells where every authority has one repeated figure (a handful: read once, then looked up)
    flat AS ({flat}),
    repeated AS (
        SELECT c.sid, c.pid, {cell_key("c.sid", "c.pid")} IN (SELECT cell FROM flat) AS now,
               {cell_key("c.sid", "c.prev_pid")} IN (SELECT cell FROM flat) AS before
        FROM cells c
    ),
    -- a break in the series between the previous period and this one (catalogue ``breaks``): the
    -- figures are on different scales, so the cell has no progress, and says why
    broken AS (
        SELECT c.sid, c.pid, min('no progress judged: a break in the series (from ' || k.period_label || '): '
                                 || k.reason) AS why
        FROM cells c JOIN _cspa_key_measure m ON m.sid = c.sid
        JOIN _cspa_key_period p ON p.pid = c.pid JOIN _cspa_key_period q ON q.pid = c.prev_pid
        JOIN series_break k ON k.indicator = m.indicator AND k.measure = m.measure
             AND k.period_end > q.period_end AND k.period_end <= p.period_end
        GROUP BY ALL
    ),
    -- the previous figures as the join's build side: one packed key and what is read from it
    -- (hashing the figure's other columns for every row cost a third of this step)
    p AS (
        SELECT {figure_key("sid", "aid", "pid")} AS k, value, period_label FROM f WHERE value IS NOT NULL
    )
    -- a country's own figure is the one repeated: its change is judged (the list is read once)
    SELECT f.rid, CASE WHEN b.why IS NULL AND r.sid IS NULL THEN p.value END AS prev_value,
           p.period_label AS prev_label,
           coalesce(b.why, CASE WHEN r.sid IS NOT NULL THEN 'no progress judged: every authority has the same '
               || 'figure in ' || CASE WHEN r.before AND r.now THEN p.period_label || ' and ' || f.period_label
                                       WHEN r.before THEN p.period_label ELSE f.period_label END
               || ' (one figure given to them all), so a change to or from it is not the area''s own' END)
               AS break_basis
    FROM f JOIN cells c ON c.sid = f.sid AND c.pid = f.pid
    JOIN p ON p.k = {figure_key("f.sid", "f.aid", "c.prev_pid")}
    LEFT JOIN broken b ON b.sid = c.sid AND b.pid = c.pid
    LEFT JOIN (SELECT * FROM repeated WHERE now OR before) r ON r.sid = c.sid AND r.pid = c.pid
         AND NOT list_contains((SELECT list(aid) FROM _cspa_key_area WHERE type = 'country'), f.aid)
    WHERE f.value IS NOT NULL
    """


def progress_sql(c: str = "c", m: str = "m") -> tuple[str, str]:
    """SQL of ``progress`` and ``improving`` for a row ``c`` with ``value`` and ``prev_value`` (from
    :func:`progress`) of measure ``m``: high is good means a rise is improved; the Audit
    Commission's "Improving?" counts a value held as Improving (000:L4035-4050)."""
    compared = compare_sql(f"{c}.value", f"{c}.prev_value", f"{m}.polarity")
    progress = (
        f"CASE {compared} WHEN 'better' THEN 'improved' WHEN 'same' THEN 'same' "
        "WHEN 'worse' THEN 'worsened' END"
    )
    improving = (
        f"CASE WHEN {m}.trend = 'improving' THEN CASE {compared} WHEN 'worse' THEN 'Not Improving' "
        "WHEN 'better' THEN 'Improving' WHEN 'same' THEN 'Improving' END END"
    )
    return progress, improving
