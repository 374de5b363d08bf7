"""Targets, progress, RAG, comparators and SPC of the quarterly report: columnar SQL, all areas at once.

Inputs are the engine's relation (:func:`cspa.engine.run.compute` over the basket's indicators),
the current targets (``quarterly_target``) and the rules table (:func:`cspa.quarterly.rules.rules_table`).

* **Target display**: the target's number formatted by the engine's one formatter
  (:func:`cspa.engine.formatting.display_sql`) under the catalogue's companion target measure
  (``target`` for ``actual``, ``M_target`` for ``M``; docs/seed-formats-001-004.md 1.1), else
  under the measure's own display; a status symbol or words are shown as they are.
* **Progress** (seed 001 "Progress on last period?", e.g. 001:L42; seed-formats 1.5): each
  period is compared with the period before it in the table's order (start, then end date),
  as printed figures (rounded to the measure's decimals), under the polarity: equal = same, a
  rise on high-is-good = improved, and so on. No polarity, no previous figure: no progress.
* **RAG** (issue 7; the seed's key 001:L20-26): against the period's target of the first type in
  the rules' ``target_types`` (local, then LAA); green = on or better than target, amber =
  worse but within the indicator's tolerance (absolute, or percent of the target), red = worse
  by more. A target given as a status or words, or no polarity: no RAG (the basis says why).
* **Comparators** (issue 7): England, statistical-neighbour and region figures from the engine
  for the same period, else for the financial year holding a quarter ("the matching year"),
  with the engine's quartile and quartile position of the area's own figure.
* **SPC**: :func:`cspa.engine.spc.xmr` over each area's series of one period kind with at least
  the rules' ``min_points`` values, with the improvement direction from the polarity and the
  period's target for the assurance icon.
"""

from __future__ import annotations

import duckdb

from cspa.engine.distribution import POSITION_LABELS
from cspa.engine.formatting import display_sql, rounded_sql
from cspa.engine.polarity import compare_sql, sign_sql
from cspa.engine.polarity import judged_sql as polarity_judged_sql
from cspa.engine.spc import xmr
from cspa.quarterly.rules import Rules
from cspa.store.sql import in_list
from cspa.store.sql import string as _lit

ENGLAND = "E92000001"
_POS = "[" + in_list(POSITION_LABELS)[1:-1] + "]"


def targets_sql(codes_table: str) -> str:
    """Current targets of the basket's indicators with their display strings."""
    fmt = ("decimals", "thousands", "plus_sign", "prefix", "percent_sign", "suffix")
    cols = ", ".join(
        f"CASE WHEN mt.measure IS NOT NULL THEN mt.{c} ELSE ma.{c} END AS {c}" for c in fmt
    )
    return f"""
    WITH tm AS (
        SELECT t.*, coalesce(mt.measure, t.measure) AS target_measure, ma.polarity, {cols}
        FROM quarterly_target t
        JOIN {codes_table} k ON k.indicator = t.indicator
        JOIN measure ma ON ma.indicator = t.indicator AND ma.measure = t.measure
        LEFT JOIN measure mt ON mt.indicator = t.indicator
             AND mt.measure = CASE WHEN t.measure = 'actual' THEN 'target' ELSE t.measure || '_target' END
    )
    SELECT m.* EXCLUDE ({", ".join(fmt)}),
           CASE WHEN m.value IS NULL AND m.status IS NULL THEN m.text
                ELSE {display_sql("m.value", "m.status", "m")} END AS display,
           m.target_type || ' target'
             || CASE WHEN m.period = '*' THEN ' for every period' ELSE '' END
             || ', entered by ' || m.changed_by || ' on ' || strftime(m.changed_at, '%Y-%m-%d')
             || ' (revision ' || m.revision || coalesce('; ' || m.seed_ref, '') || ')' AS basis
    FROM tm m
    """


def judged_sql(engine: str, targets: str, rules: str, rules_obj: Rules) -> str:
    """One row per area figure of a judged measure: progress, target, RAG, comparators, quartile."""
    types = rules_obj.rag.target_types
    pref = (
        "CASE t.target_type "
        + " ".join(f"WHEN {_lit(t)} THEN {i}" for i, t in enumerate(types))
        + f" ELSE {len(types)} END"
    )
    r = rounded_sql("e.value", "m.decimals")
    return f"""
    WITH own AS (
        SELECT e.indicator, e.measure, e.area, e.period, e.period_label, e.period_kind, e.period_start, e.period_end,
               e.value, e.display, e.status, e.quartile, e.rank,
               coalesce(e.quartile_position, CASE WHEN e.quartile BETWEEN 1 AND 4 THEN {_POS}[e.quartile] END) AS quartile_position,
               coalesce(e.position_basis, e.distribution_basis) AS position_basis,
               {r} AS printed, m.polarity, m.decimals, q.tol_type, q.tol_value, q.show_progress
        FROM {engine} e
        JOIN measure m ON m.indicator = e.indicator AND m.measure = e.measure
        JOIN {rules} q ON q.indicator = e.indicator AND q.measure = e.measure
        WHERE e.for_area IS NULL AND e.area_type = 'la' AND q.judged
    ), prog AS (
        SELECT *, lag(printed) OVER w AS prev_printed, lag(period_label) OVER w AS prev_label,
               lag(status) OVER w AS prev_status
        FROM own
        WINDOW w AS (PARTITION BY indicator, measure, area ORDER BY period_start, period_end)
    ), tgt AS (   -- the RAG target of each figure: its own period's before one set for every period
        SELECT p.indicator, p.measure, p.area, p.period, t.value AS target, t.display AS target_display,
               t.status AS target_status, t.text AS target_text, t.target_type, t.revision AS target_revision
        FROM prog p JOIN {targets} t ON t.indicator = p.indicator AND t.measure = p.measure AND t.area = p.area
             AND (t.period = p.period OR t.period = '*')
        QUALIFY row_number() OVER (PARTITION BY p.indicator, p.measure, p.area, p.period
                                   ORDER BY {pref}, (t.period = '*')) = 1
    ), comp AS (  -- comparator figures of the same period, else of the financial year holding a quarter
        SELECT p.indicator, p.measure, p.area, p.period,
               CASE WHEN c.area = '{ENGLAND}' THEN 'england' WHEN c.area LIKE 'SN:%' THEN 'statistical_neighbours'
                    ELSE 'region' END AS geography,
               c.display AS c_display, c.period_label AS c_period
        FROM prog p
        JOIN area a ON a.code = p.area
        JOIN {engine} c ON c.indicator = p.indicator AND c.measure = p.measure AND c.for_area IS NULL
             AND (c.area = '{ENGLAND}' OR c.area LIKE 'SN:%:' || p.area OR c.area = a.region_code)
             AND (c.period = p.period OR (p.period_kind = 'quarter' AND c.period = regexp_replace(p.period, '-Q[1-4]$', '')))
        QUALIFY row_number() OVER (PARTITION BY p.indicator, p.measure, p.area, p.period, geography
                                   ORDER BY (c.period = p.period) DESC) = 1
    ), compagg AS (
        SELECT indicator, measure, area, period,
               max(c_display) FILTER (WHERE geography = 'england') AS england_display,
               max(c_period) FILTER (WHERE geography = 'england') AS england_period,
               max(c_display) FILTER (WHERE geography = 'statistical_neighbours') AS sn_display,
               max(c_period) FILTER (WHERE geography = 'statistical_neighbours') AS sn_period,
               max(c_display) FILTER (WHERE geography = 'region') AS region_display,
               max(c_period) FILTER (WHERE geography = 'region') AS region_period
        FROM comp GROUP BY ALL
    )
    SELECT p.*, t.target, t.target_display, t.target_status, t.target_text, t.target_type, t.target_revision,
           c.* EXCLUDE (indicator, measure, area, period),
           CASE WHEN NOT p.show_progress THEN NULL
                ELSE CASE {compare_sql("p.printed", "p.prev_printed", "p.polarity")}
                     WHEN 'better' THEN 'improved' WHEN 'same' THEN 'same' WHEN 'worse' THEN 'worsened' END
           END AS progress,
           CASE WHEN NOT p.show_progress THEN 'no progress row for this indicator (as the seed prints it)'
                WHEN NOT {polarity_judged_sql("p.polarity")} THEN 'no progress judged: the indicator has no polarity'
                WHEN p.prev_label IS NULL THEN 'no progress judged: no earlier period'
                WHEN p.printed IS NULL OR p.prev_printed IS NULL THEN
                     'no progress judged: no figure for ' || CASE WHEN p.printed IS NULL THEN p.period_label ELSE p.prev_label END
                ELSE 'progress vs ' || p.prev_label || ': ' || format('{{:g}}', p.printed) || ' vs '
                     || format('{{:g}}', p.prev_printed) || ' (' || p.polarity || ' is good, printed figures compared)'
           END AS progress_basis,
           CASE WHEN p.tol_type = 'absolute' THEN p.tol_value ELSE abs(t.target) * p.tol_value / 100 END AS tolerance
    FROM prog p
    LEFT JOIN tgt t USING (indicator, measure, area, period)
    LEFT JOIN compagg c USING (indicator, measure, area, period)
    """


def rag_sql(judged: str, rules_obj: Rules) -> str:
    glyph = rules_obj.progress.glyphs
    word = rules_obj.progress.words
    return f"""
    SELECT j.*,
           -- green on or better than target, amber within the tolerance of it, red beyond
           CASE {compare_sql("j.printed", "j.target", "j.polarity")} WHEN 'better' THEN 'green' WHEN 'same' THEN 'green'
                WHEN 'worse' THEN CASE WHEN abs(j.printed - j.target) <= j.tolerance + 1e-9 THEN 'amber' ELSE 'red' END
           END AS rag,
           CASE WHEN j.target_type IS NULL THEN 'no RAG: no target set for ' || j.period_label
                WHEN j.target IS NULL THEN 'no RAG: the target is ' || coalesce('''' || j.target_text || '''', j.target_status, 'not a number')
                WHEN NOT {polarity_judged_sql("j.polarity")} THEN 'no RAG: the indicator has no polarity'
                WHEN j.printed IS NULL THEN 'no RAG: no figure for ' || j.period_label
                ELSE 'RAG: ' || format('{{:g}}', j.printed) || ' against the ' || j.target_type || ' target '
                     || j.target_display || ' (' || j.polarity || ' is good; green on or better than target, amber within '
                     || format('{{:g}}', round(j.tolerance, 6)) || CASE WHEN j.tol_type = 'relative'
                        THEN ' (' || format('{{:g}}', j.tol_value) || '% of the target)' ELSE '' END
                     || ' of it, red beyond)' END AS rag_basis,
           CASE progress WHEN 'improved' THEN {_lit(glyph["improved"])} WHEN 'same' THEN {_lit(glyph["same"])}
                         WHEN 'worsened' THEN {_lit(glyph["worsened"])} END AS progress_glyph,
           CASE progress WHEN 'improved' THEN {_lit(word["improved"])} WHEN 'same' THEN {_lit(word["same"])}
                         WHEN 'worsened' THEN {_lit(word["worsened"])} END AS progress_word
    FROM {judged} j
    """


def spc_relation(
    con: duckdb.DuckDBPyConnection, judged: str, min_points: int
) -> duckdb.DuckDBPyRelation:
    """XmR results for every series (indicator, measure, area, period kind) with enough figures."""
    series = con.sql(f"""
        SELECT indicator, measure, area, period_kind, period, period_label, period_start, value, target,
               -- SPC's improvement direction (NHSRplotthedots): +1 increase, -1 decrease, else neutral
               CASE {sign_sql("polarity")} WHEN 1 THEN 'increase' WHEN -1 THEN 'decrease' ELSE 'neutral' END AS direction
        FROM {judged}
        WHERE value IS NOT NULL
        QUALIFY count(*) OVER (PARTITION BY indicator, measure, area, period_kind) >= {int(min_points)}
    """)
    return xmr(
        series,
        series=("indicator", "measure", "area", "period_kind"),
        order="period_start",
        value="value",
        improvement_column="direction",
        target="target",
    )
