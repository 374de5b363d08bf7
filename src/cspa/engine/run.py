"""Compose the engine's families into one relation of judgements, for every area at once.

:func:`compute` returns (as a DuckDB relation) one row per figure: indicator, measure, area,
period with its value, display string and provenance, and every judgement the catalogue asks
for (band, traffic light, rank, quartile, quartile position, progress, significance), each
with a one-line ``*_basis`` saying how it was made. Comparator shading produces extra rows
for comparator figures judged *for* an authority (``for_area``).

The engine reads the store and never changes it: intermediate results are temporary views
of the connection. :func:`judge` (the store side) writes the result to the ``judgement``
table for the web app and the reports.
"""

from __future__ import annotations

import time

import duckdb

from cspa.engine.bands import bands
from cspa.engine.comparators import neighbour_aggregates
from cspa.engine.distribution import POSITION_LABELS, quartile_position, ranks_and_quartiles
from cspa.engine.formatting import display_sql
from cspa.engine.lights import lights
from cspa.engine.progress import progress
from cspa.engine.values import values

_POS = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in POSITION_LABELS) + "]"


def _view(con: duckdb.DuckDBPyConnection, rel: duckdb.DuckDBPyRelation, name: str) -> str:
    # A temporary table of the connection: materialised once (each family reads it), never
    # written to the store, and allowed on a read-only store.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {rel.sql_query()}")
    return name


def _on(alias: str) -> str:
    return f"{alias}.rid = v.rid"


def compute(con: duckdb.DuckDBPyConnection, where: str = "TRUE", default_group: str = "dfe_2025") -> duckdb.DuckDBPyRelation:
    """Every judgement for the observations matching ``where`` (SQL over the observation alias ``o``)."""
    observed = _view(con, values(con, where), "_cspa_observed")
    sn = _view(con, neighbour_aggregates(con, observed, default_group), "_cspa_sn")
    # a computed neighbour aggregate is used where no published figure exists for that key
    # every figure gets an integer row id, so the families' results join back cheaply
    v = _view(con, con.sql(f"""
        SELECT row_number() OVER () AS rid, * FROM (
            SELECT * , CAST(NULL AS BIGINT) AS n_used, CAST(NULL AS BIGINT) AS n_members FROM {observed}
            UNION ALL
            SELECT * FROM {sn} s WHERE NOT EXISTS (
                -- published neighbour figures are few (the seed's), so this anti-join is cheap
                SELECT 1 FROM (SELECT * FROM {observed} WHERE area LIKE 'SN:%') o
                WHERE o.indicator = s.indicator AND o.measure = s.measure AND o.area = s.area AND o.period = s.period))
    """), "_cspa_values")
    b = _view(con, bands(con, v), "_cspa_bands")
    lt = _view(con, lights(con, v, b), "_cspa_lights")
    rq = _view(con, ranks_and_quartiles(con, v), "_cspa_ranks")
    qp = _view(con, quartile_position(con, v), "_cspa_position")
    pg = _view(con, progress(con, v), "_cspa_progress")
    tr = _view(con, _seed_trends(con, v), "_cspa_trend")
    return con.sql(f"""
    WITH sig AS (
        SELECT indicator, measure, area, period,
               max(text) FILTER (WHERE statistic = 'significance_vs_england') AS significance,
               max(text) FILTER (WHERE statistic = 'significance_vs_benchmark') AS significance_vs_benchmark
        FROM observation_current WHERE statistic LIKE 'significance_vs_%' GROUP BY ALL
    ),
    own AS (
        SELECT v.rid, v.indicator, v.measure, v.area, v.area_type, CAST(NULL AS VARCHAR) AS for_area,
               v.period, v.period_label, v.period_kind, v.period_start, v.period_end,
               v.value, CASE WHEN v.text IS NOT NULL AND m.unit IN ('category', 'text') THEN v.text
                             ELSE {display_sql('v.value', 'v.status')} END AS display,
               v.numerator, v.denominator, v.status, v.source, v.basis, v.seed_ref, v.vintage,
               v.n_used, v.n_members, v.provisional, v.quality,
               b.band, b.band_range, b.band_basis,
               l.traffic_light,
               coalesce(l.light_basis, CASE WHEN m.light_rule = 'none' THEN 'no traffic light: '
                        || coalesce(json_extract_string(m.light_json, '$.reason'), 'none') END) AS light_basis,
               r.rank, r.quartile, r.distribution_basis,
               CASE WHEN q.position_quartile IS NOT NULL THEN {_POS}[q.position_quartile] END AS quartile_position,
               q.position_quartile, q.position_basis,
               p.change, p.progress, p.improving, p.progress_basis,
               t.trend, t.trend_sn, t.trend_basis,
               s.significance, s.significance_vs_benchmark
        FROM {v} v
        JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
        LEFT JOIN {b} b ON {_on('b')}
        LEFT JOIN (SELECT * FROM {lt} WHERE for_area IS NULL) l ON {_on('l')}
        LEFT JOIN {rq} r ON {_on('r')}
        LEFT JOIN {qp} q ON {_on('q')}
        LEFT JOIN {pg} p ON {_on('p')}
        LEFT JOIN {tr} t ON {_on('t')}
        LEFT JOIN sig s ON s.indicator = v.indicator AND s.measure = v.measure AND s.area = v.area
             AND s.period = v.period
    ),
    shading AS (
        SELECT o.rid, o.indicator, o.measure, o.area, o.area_type, l.for_area, o.period, o.period_label, o.period_kind,
               o.period_start, o.period_end, o.value, o.display, o.numerator, o.denominator, o.status, o.source,
               o.basis, o.seed_ref, o.vintage, o.n_used, o.n_members, o.provisional, o.quality,
               NULL, NULL, NULL, l.traffic_light, l.light_basis, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM own o JOIN {lt} l ON l.rid = o.rid AND l.for_area IS NOT NULL
    )
    SELECT * EXCLUDE (rid) FROM own UNION ALL SELECT * EXCLUDE (rid) FROM shading
    """)


# The seed ranks every authority's rate of change (000:L3083: "all 150 LAs"); with fewer series the
# classes would describe a handful of areas, so the class is then "not judged" with that reason.
MIN_TREND_AREAS = 20


def _seed_trends(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """The seed's trend class for measures whose catalogue trend is ``seed_moving_average``."""
    from cspa.engine.trends import seed_trend

    base = con.sql(f"""
        SELECT v.rid, v.indicator, v.measure, v.area, v.last_year AS year, v.value,
               v.area_type = 'la' AS in_population
        FROM {v} v JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
        WHERE m.trend = 'seed_moving_average' AND v.area_type IN ('la', 'sn_group', 'country')
          AND v.period_kind IN ('academic_year', 'financial_year', 'calendar_year')""")
    nb = con.sql(f"""
        SELECT DISTINCT v.indicator, v.measure, v.area, 'SN:' || m.neighbour_group || ':' || v.area AS sn_area
        FROM {v} v JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
        WHERE m.trend = 'seed_moving_average' AND v.area_type = 'la' AND m.neighbour_group IS NOT NULL""")
    t = seed_trend(base, nb, population="in_population", england="E92000001")
    return con.sql(f"""
        SELECT rid, indicator, measure, area,
               CASE WHEN trend_n_ranked >= {MIN_TREND_AREAS} THEN trend_class END AS trend,
               CASE WHEN trend_sn_n_ranked >= {MIN_TREND_AREAS} THEN trend_sn_class END AS trend_sn,
               CASE WHEN coalesce(trend_n_ranked, 0) < {MIN_TREND_AREAS}
                    THEN 'trend not judged: the class ranks every authority''s rate of change (000:L3083) and only '
                         || coalesce(trend_n_ranked, 0) || ' authorities have a series here'
                    ELSE trend_basis END AS trend_basis
        FROM ({t.sql_query()})""")


def judge(con: duckdb.DuckDBPyConnection, where: str = "TRUE") -> dict:
    """Compute and write the ``judgement`` table (replacing it); returns counts and timing."""
    started = time.perf_counter()
    rel = compute(con, where)
    con.execute(f"CREATE OR REPLACE TABLE judgement AS {rel.sql_query()}")
    n = con.execute("SELECT count(*), count(band), count(traffic_light), count(rank), count(quartile), "
                    "count(progress) FROM judgement").fetchall()[0]
    return {"rows": n[0], "bands": n[1], "lights": n[2], "ranks": n[3], "quartiles": n[4], "progress": n[5],
            "seconds": time.perf_counter() - started}
