"""Every change to an area's targets, words and template-loaded figures, with who and when
(``cspa quarterly history``).

Targets and words come from the append-only revision tables (schema_quarterly.sql); figures from
the observation table, whose superseded rows are kept (``is_current = FALSE``), for loads made
through the template. Each change is shown beside the value it replaced (the previous revision
of the same key), computed with a window over each key's revisions.
"""

from __future__ import annotations

import duckdb

from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue
from cspa.engine.formatting import display_sql
from cspa.quarterly.periods import report_period
from cspa.quarterly.revisions import ensure_readable


def history(
    con: duckdb.DuckDBPyConnection,
    area_query: str,
    period: str | None = None,
    indicator: str | None = None,
) -> list[dict]:
    """Changes for one area, newest first: when, who, kind, indicator, what, period, old, new, source, revision."""
    ensure_readable(con)
    area = load_areas().resolve(area_query)
    code = load_catalogue().get(indicator).code if indicator else None
    p = report_period(period) if period else None
    params = {
        "area": area.code,
        "ind": code,
        "rp": p.key if p else None,
        "lo": p.start.replace(year=p.start.year - 3) if p else None,
        "hi": p.end if p else None,
    }
    tdisp = display_sql("value", "status", "m")
    sql = f"""
    WITH t AS (
        SELECT r.*, CASE WHEN r.deleted THEN '(removed)' WHEN r.value IS NULL AND r.status IS NULL THEN r.text
                         ELSE {tdisp} END AS shown
        FROM quarterly_target_revision r LEFT JOIN measure m ON m.indicator = r.indicator AND m.measure = r.measure
        WHERE r.area = $area
    ), tt AS (
        SELECT changed_at AS "when", changed_by AS who, 'target' AS kind, indicator,
               measure || ' (' || target_type || ')' AS what, coalesce(period_label, 'every period') AS period,
               lag(shown) OVER (PARTITION BY indicator, measure, area, period, target_type ORDER BY revision) AS old,
               shown AS new, source, revision, period_end
        FROM t
    ), x AS (
        SELECT changed_at, changed_by, 'text', nullif(indicator, ''),
               field || CASE WHEN item > 0 THEN ' ' || item ELSE '' END, period,
               lag(CASE WHEN deleted THEN '(removed)' ELSE text END)
                   OVER (PARTITION BY area, period, indicator, field, item ORDER BY revision),
               CASE WHEN deleted THEN '(removed)' ELSE text END, source, revision, CAST(NULL AS DATE)
        FROM quarterly_text_revision WHERE area = $area AND ($rp IS NULL OR period = $rp)
    ), o AS (
        SELECT o.*, l.loaded_at, l.loaded_by,
               lag({display_sql("o.value", "o.status")}) OVER (PARTITION BY o.indicator, o.measure, o.area, o.period
                                                               ORDER BY o.load_id) AS old,
               {display_sql("o.value", "o.status")} AS new
        FROM observation o JOIN measure m ON m.indicator = o.indicator AND m.measure = o.measure
        LEFT JOIN load_log l ON l.load_id = o.load_id
        WHERE o.area = $area AND o.statistic = 'value'
          AND (o.indicator, o.measure, o.period) IN (SELECT (indicator, measure, period) FROM observation
                                                     WHERE area = $area AND source = 'quarterly template')
    ), oo AS (
        SELECT loaded_at, loaded_by, 'figure', indicator, measure, period_label, old, new,
               source || coalesce(' (' || vintage || ')', ''), load_id, period_end
        FROM o WHERE source = 'quarterly template'
    )
    SELECT * FROM (
        SELECT * FROM tt WHERE $lo IS NULL OR period_end IS NULL OR (period_end > $lo AND period_end <= $hi)
        UNION ALL SELECT * FROM x
        UNION ALL SELECT * FROM oo WHERE $lo IS NULL OR (period_end > $lo AND period_end <= $hi)
    ) WHERE $ind IS NULL OR indicator = $ind
    ORDER BY "when" DESC, revision DESC
    """
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
