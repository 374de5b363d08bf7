"""Computed significance against England and the Fingertips recent trend, as the catalogue asks.

Both read the figure's numerator and denominator, so they apply to measures with counts behind
them (the DfE children's social care measures); the seed's health indicators carry published
significance flags instead, which pass through unchanged (a published flag wins).

* :func:`significance_vs_england`: the measure's ``significance`` rule names the interval
  (``wilson`` for proportions, PHEindicatormethods ``phe_proportion``; ``poisson`` for rates,
  ``phe_rate``: exact below 10 events, Byar's from 10) and the two levels (95% and 99.8%);
  England's figure for the same period is the benchmark; the comparison is Fingertips comparator
  method 17 (CI overlap at two levels, then polarity: best / better / similar / worse / worst).
  Methods in :mod:`cspa.engine.significance`, vectors in methods.md sections 2-3.
* :func:`recent_trends`: measures whose ``trend`` is ``fingertips``: the chi-squared test for
  trend over the last five annual points (fingertips-open ``TrendMarkerCalculator``; methods.md
  5), on the series' latest figure.
"""

from __future__ import annotations

import json

import duckdb

from cspa.engine.significance import compare_ci_overlap, poisson_ci, wilson_ci
from cspa.engine.trends import recent_trend

ENGLAND = "E92000001"


def _rules(con: duckdb.DuckDBPyConnection) -> dict[tuple, list[int]]:
    """Measures grouped by the rule's constant parameters (method, multiplier, levels)."""
    groups: dict[tuple, list[int]] = {}
    for sid, sj, unit, mult in con.execute(
        "SELECT sid, significance_json, unit, multiplier FROM _cspa_key_measure "
        "WHERE significance_json IS NOT NULL"
    ).fetchall():
        rule = json.loads(sj)
        scale = 100.0 if unit == "percent" else float(mult or 1.0)
        key = (rule["method"], scale, tuple(float(c) for c in rule["confidence"]))
        groups.setdefault(key, []).append(sid)
    return groups


def significance_vs_england(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """``rid, significance_computed, significance_basis`` for every figure of an authority whose
    measure has a ``significance`` rule (one SQL pass per distinct rule, not per figure)."""
    parts = []
    for (method, scale, levels), sids in _rules(con).items():
        base = con.sql(f"""
            SELECT f.rid, f.numerator, f.denominator, f.value, e.value AS england_value, m.polarity
            FROM {v} f JOIN _cspa_key_measure m ON m.sid = f.sid
            JOIN _cspa_key_area ea ON ea.code = '{ENGLAND}'
            JOIN {v} e ON e.sid = f.sid AND e.pid = f.pid AND e.aid = ea.aid
            WHERE f.sid IN ({", ".join(map(str, sids))}) AND f.area_type = 'la'""")
        if method == "wilson":
            ci = wilson_ci(base, confidence=levels, multiplier=scale, prefix="ci")
        else:
            ci = poisson_ci(
                base,
                count="numerator",
                denominator="denominator",
                multiplier=scale,
                confidence=levels,
                prefix="ci",
                con=con,
            )
        inner, outer = (f"{c:g}".replace(".", "_") for c in levels)
        cmp = compare_ci_overlap(
            ci,
            value="value",
            benchmark="england_value",
            lower=f"ci_lower{inner}",
            upper=f"ci_upper{inner}",
            lower_outer=f"ci_lower{outer}",
            upper_outer=f"ci_upper{outer}",
            confidence=levels[0] / 100,
            outer_confidence=levels[1] / 100,
            benchmark_label="England",
            prefix="vs",
        )
        parts.append(f"""SELECT rid, CASE WHEN vs_outcome <> 'not compared' THEN vs_outcome END AS significance_computed,
                                 coalesce(vs_basis, vs_reason) || ' (' || coalesce(ci_basis, ci_reason, '') || ')'
                                   AS significance_basis
                          FROM ({cmp.sql_query()})""")
    if not parts:
        return con.sql(
            "SELECT CAST(NULL AS BIGINT) AS rid, CAST(NULL AS VARCHAR) AS significance_computed, "
            "CAST(NULL AS VARCHAR) AS significance_basis WHERE FALSE"
        )
    return con.sql(" UNION ALL ".join(parts))


def recent_trends(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """``rid, trend, trend_basis`` on the latest figure of each series whose measure's trend is
    ``fingertips`` (annual points: financial, academic or calendar years)."""
    base = con.sql(f"""
        SELECT f.rid, f.sid, f.aid, f.last_year AS year, f.value, f.numerator, f.denominator, m.polarity,
               f.last_year - f.first_year + CASE WHEN f.period_kind = 'calendar_year' THEN 1 ELSE 0 END AS year_range
        FROM {v} f JOIN _cspa_key_measure m ON m.sid = f.sid
        WHERE m.trend = 'fingertips' AND f.area_type IN ('la', 'region', 'country')
          AND f.period_kind IN ('financial_year', 'academic_year', 'calendar_year')""")
    t = recent_trend(
        base,
        series=("sid", "aid"),
        period="year",
        count="numerator",
        denominator="denominator",
        year_range="year_range",
        polarity_column="polarity",
    )
    return con.sql(f"""
        SELECT rid, recent_trend_label AS trend, CAST(NULL AS VARCHAR) AS trend_sn,
               'Fingertips recent trend: ' || coalesce(recent_trend_basis, recent_trend_reason) AS trend_basis
        FROM ({t.sql_query()})
        QUALIFY year = max(year) OVER (PARTITION BY sid, aid)""")
