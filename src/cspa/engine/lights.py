"""Traffic lights: every rule type the seeds use, driven by the measure's catalogue rule.

A light is always a word plus a colour (``green``/``amber``/``red``); a measure whose rule is
``none`` gets no light and its printed reason as the basis. Rules:

* ``paf_band``: the colour of the PAF band's blobs (shading on LA, SN and England, 000:L45);
  the blob -> colour map is the rule's ``colours`` parameter.
* ``fixed_thresholds``: cut-offs that change by year (1040NT: 2005 green > 7%, red < 3%;
  2006 and 2007 green > 14%, red < 11%; 000:L711-741).
* ``points_tolerance``: within +/- N percentage points of a comparator is amber; more than N
  better is green, and a given value (100% at 26 weeks) is green (CAMHS 1030HC, 000:L482-484).
* ``published_significance``: the published significance flag passed through, coloured under
  polarity (Healthcare Commission indicators, 000:L235-237: green = significantly better).
* ``vs_statistical_neighbours``: better than SN under polarity is green, worse red, equal is
  never red (``equal_is``).
* ``comparator_shading``: attainment and absence (000:L45): the SN and England figures are
  shaded by how the authority compares with them; these lights are judgements of the
  comparator rows *for* an authority (``for_area``).
"""

from __future__ import annotations

import json

import duckdb

from cspa.catalogue.periods import PeriodError, parse_period
from cspa.engine.polarity import better_sql, compare_sql, compared_sql, judged_sql, orient_sql

#: A published significance flag's meaning under polarity: (high is good, low is good).
SIGNIFICANT = {"high": ("better", "worse"), "low": ("worse", "better")}


def _threshold_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    rows = []
    for ind, meas, lj in con.execute(
        "SELECT indicator, measure, light_json FROM measure WHERE light_rule = 'fixed_thresholds'"
    ).fetchall():
        for t in json.loads(lj).get("by_period", []):
            try:
                p = parse_period(str(t["periods"]), "calendar")
            except PeriodError:
                continue
            rows.append(
                (
                    ind,
                    meas,
                    p.first_year,
                    p.last_year,
                    str(t["periods"]),
                    t.get("green_above"),
                    t.get("red_below"),
                    t.get("green_below"),
                    t.get("red_above"),
                )
            )
    return rows


def lights(con: duckdb.DuckDBPyConnection, v: str, bands_view: str) -> duckdb.DuckDBPyRelation:
    """Traffic lights for the figures of view ``v`` (with the bands of ``bands_view``)."""
    thr = _threshold_rows(con)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _light_threshold (indicator VARCHAR, measure VARCHAR, "
        "first_year INTEGER, last_year INTEGER, periods VARCHAR, green_above DOUBLE, red_below DOUBLE, "
        "green_below DOUBLE, red_above DOUBLE)"
    )
    if thr:
        con.executemany("INSERT INTO _light_threshold VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", thr)
    return con.sql(f"""
    WITH vm AS (
        SELECT v.*, m.light_rule, m.light_colours, m.light_points, m.light_green_at_value, m.light_comparator,
               m.light_vs, m.light_method, m.light_equal_is, m.light_tolerance, m.polarity, m.grp AS neighbour_group,
               -- a non-LA geography (YOT, DAT) compares with its parent authority's neighbours
               coalesce(a.parent, v.area) AS sn_owner
        FROM {v} v JOIN _cspa_key_measure m ON m.sid = v.sid
        LEFT JOIN area a ON a.code = v.area
        WHERE m.light_rule <> 'none'
    ),
    paf AS (
        SELECT vm.rid, vm.indicator, vm.measure, vm.area, vm.period, CAST(NULL AS VARCHAR) AS for_area,
               vm.light_colours[b.band] AS traffic_light,
               'PAF band colour: ' || b.band || ' blob(s) = ' || coalesce(vm.light_colours[b.band], 'no colour') AS light_basis
        FROM vm JOIN {bands_view} b ON b.rid = vm.rid
        WHERE vm.light_rule = 'paf_band' AND b.band IS NOT NULL
    ),
    fixed AS (
        SELECT vm.rid, vm.indicator, vm.measure, vm.area, vm.period, NULL,
               CASE WHEN vm.value > t.green_above OR vm.value < t.green_below THEN 'green'
                    WHEN vm.value < t.red_below OR vm.value > t.red_above THEN 'red' ELSE 'amber' END,
               'fixed thresholds for ' || t.periods || ': ' || format('{{:.2f}}', vm.value)
                 || coalesce(' (green above ' || format('{{:g}}', t.green_above), ' (green below ' || format('{{:g}}', t.green_below))
                 || coalesce(', red below ' || format('{{:g}}', t.red_below), ', red above ' || format('{{:g}}', t.red_above)) || ')'
        FROM vm JOIN _light_threshold t ON t.indicator = vm.indicator AND t.measure = vm.measure
             AND t.first_year <= vm.first_year AND vm.last_year <= t.last_year
        WHERE vm.light_rule = 'fixed_thresholds' AND vm.value IS NOT NULL AND vm.area_type NOT IN ('country', 'region', 'region_other', 'sn_group', 'benchmark_group')
    ),
    tol AS (
        SELECT vm.rid, vm.indicator, vm.measure, vm.area, vm.period, NULL,
               CASE WHEN vm.value >= vm.light_green_at_value THEN 'green'
                    ELSE CASE {compare_sql("vm.value", "c.value", "vm.polarity", "vm.light_points")}
                         WHEN 'better' THEN 'green' WHEN 'worse' THEN 'red' ELSE 'amber' END END,
               'within +/-' || format('{{:g}}', vm.light_points) || ' points of ' || c.area || ': '
                 || format('{{:.1f}}', vm.value) || ' vs ' || format('{{:.1f}}', c.value)
                 || ' (' || format('{{:+.1f}}', vm.value - c.value) || ' points)'
        FROM vm JOIN {v} c ON c.indicator = vm.indicator AND c.measure = vm.measure AND c.period = vm.period
             AND c.area = CASE vm.light_comparator
                              WHEN 'statistical_neighbours' THEN 'SN:' || vm.neighbour_group || ':' || vm.sn_owner
                              ELSE 'E92000001' END
        WHERE vm.light_rule = 'points_tolerance' AND vm.value IS NOT NULL AND c.value IS NOT NULL
          AND {judged_sql("vm.polarity")}
          AND vm.area_type NOT IN ('country', 'region', 'sn_group', 'benchmark_group')
    ),
    sig AS (
        SELECT vm.rid, vm.indicator, vm.measure, vm.area, vm.period, NULL,
               CASE WHEN o.text = '-' THEN 'amber'
                    WHEN o.text IN ('high', 'low') THEN
                         CASE {orient_sql("o.text", "vm.polarity", SIGNIFICANT)} WHEN 'better' THEN 'green' ELSE 'red' END
               END,
               'published significance vs ' || vm.light_vs || ': ' || o.text
                 || ' (' || vm.light_method || '; ' || vm.polarity || ' is good)'
        FROM vm JOIN _cspa_obs o ON o.indicator = vm.indicator AND o.measure = vm.measure
             AND o.area = vm.area AND o.period = vm.period
             AND o.statistic = 'significance_vs_' || CASE vm.light_vs WHEN 'benchmark_group' THEN 'benchmark'
                                                                     ELSE vm.light_vs END
        WHERE vm.light_rule = 'published_significance' AND {judged_sql("vm.polarity")}
    ),
    vs_sn AS (
        SELECT vm.rid, vm.indicator, vm.measure, vm.area, vm.period, NULL,
               CASE WHEN {compared_sql("vm.value")} = {compared_sql("s.value")} THEN vm.light_equal_is
                    WHEN {better_sql("vm.value", "s.value", "vm.polarity")} THEN 'green' ELSE 'red' END,
               'vs statistical neighbours: ' || format('{{:g}}', vm.value) || ' vs ' || format('{{:g}}', s.value)
                 || ' (' || vm.polarity || ' is good; equal is ' || vm.light_equal_is || ')'
        FROM vm JOIN {v} s ON s.indicator = vm.indicator AND s.measure = vm.measure AND s.period = vm.period
             AND s.area = 'SN:' || vm.neighbour_group || ':' || vm.sn_owner
        WHERE vm.light_rule = 'vs_statistical_neighbours' AND vm.value IS NOT NULL AND s.value IS NOT NULL
          AND {judged_sql("vm.polarity")}
    ),
    shade AS (
        SELECT c.rid, c.indicator, c.measure, c.area, c.period, vm.area AS for_area,
               -- equal as figures are compared (polarity.COMPARED_DECIMALS): the same test as better_sql's
               CASE WHEN abs({compared_sql("vm.value")} - {compared_sql("c.value")}) <= coalesce(vm.light_tolerance, 0)
                    THEN 'amber'
                    WHEN {better_sql("vm.value", "c.value", "vm.polarity")} THEN 'green' ELSE 'red' END,
               'shading of ' || c.area || ' for ' || vm.area || ': authority ' || format('{{:g}}', vm.value)
                 || ' vs ' || format('{{:g}}', c.value) || ' (' || vm.polarity || ' is good)'
        FROM vm JOIN {v} c ON c.indicator = vm.indicator AND c.measure = vm.measure AND c.period = vm.period
             AND (c.area = 'E92000001' OR c.area = 'SN:' || vm.neighbour_group || ':' || vm.sn_owner)
        WHERE vm.light_rule = 'comparator_shading' AND vm.area_type = 'la' AND {judged_sql("vm.polarity")}
          AND vm.value IS NOT NULL AND c.value IS NOT NULL
    ),
    -- a measure whose rule is 'none' gets no rows here: run.py gives its figures the rule's printed
    -- reason as the light basis, without materialising a row per figure
    SELECT * FROM paf UNION ALL SELECT * FROM fixed UNION ALL SELECT * FROM tol UNION ALL SELECT * FROM sig
    UNION ALL SELECT * FROM vs_sn UNION ALL SELECT * FROM shade
    """)
