"""Statistical process control: XmR limits and the NHS "Making Data Count" rules, columnar.

One SQL statement computes, for every series and rebase segment at once, the XmR limits, the
special-cause rules with their precedence, point types, the variation icon of the last point
and the assurance icon against a target (NHSRplotthedots v0.2.2 ``ptd_spc_standard``,
``ptd_calculate_point_type``, ``ptd_calculate_assurance_type``, ``geom_ptd_icon``,
``ptd_add_short_group_warnings``; methods.md section 6). Nothing is written to the database.
Conventions (``<prefix>_reason``, ``<prefix>_basis``) are those of
:mod:`cspa.engine.significance`.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from cspa.engine.relations import check_new_columns, number, operand, require_columns, run
from cspa.store.sql import ident, literal

__all__ = ["DIRECTIONS", "spc_rules", "xmr"]

#: Improvement directions and their codes (NHSRplotthedots ``improvement_direction``).
DIRECTIONS = {"increase": 1, "neutral": 0, "decrease": -1}

# XmR constants: 2.66 = 3 sigma for individuals charts; near-limit band at two sigma; moving
# ranges of 3.267 x AMR or more are screened out before the limits are set.
LIMIT = 2.66
LIMIT_CLOSE = 2 * (LIMIT / 3)
SCREEN = 3.267


def _rule_ctes(
    prev: str, part: str, order: str, y: str | None, rtm: str | None, close: str | None
) -> tuple[str, str]:
    """CTEs (appended after ``prev``) adding the raw and 'part of' rule columns within ``part``.

    Raw end-point columns, as the package's rule functions return them:
    ``_cspa_trend_end`` -1/0/1 (6 successive strict differences of the same sign end here),
    ``_cspa_shift_end`` 0/1 (this and the 6 points before share a non-zero side of the mean),
    ``_cspa_q3`` 0/1 (this point starts a qualifying window of 3), ``_cspa_two3`` 0/1 (a
    qualifying window of 3 contains this point). 'Part of' columns flag whole runs.
    """
    w = f"{part} ORDER BY {order}"
    zero = "CAST(0 AS INTEGER)"
    sd = f"sign({y} - lag({y}) OVER ({w}))" if y else "CAST(NULL AS DOUBLE)"
    trend = (
        "CASE WHEN _cspa_pos >= 7 AND sum(_cspa_sd) OVER w6 = 6 THEN 1 "
        "WHEN _cspa_pos >= 7 AND sum(_cspa_sd) OVER w6 = -6 THEN -1 ELSE 0 END"
        if y
        else zero
    )
    # A point on the mean (0) breaks a shift: the 7 values must be equal and non-zero.
    shift = (
        f"CASE WHEN _cspa_pos >= 7 AND {rtm} <> 0 AND min({rtm}) OVER w7 = max({rtm}) OVER w7 "
        "THEN 1 ELSE 0 END"
        if rtm
        else zero
    )
    # 2023 MDC rule: at least 2 of 3 close to a limit and all 3 on the same side of the mean.
    q3 = (
        f"CASE WHEN count(*) OVER f3 = 3 AND sum(CAST({close} AS INTEGER)) OVER f3 >= 2 "
        f"AND abs(sum({rtm}) OVER f3) = 3 THEN 1 ELSE 0 END"
        if rtm and close
        else zero
    )
    part_close = f"coalesce(CAST({close} AS BOOLEAN), FALSE)" if close else "FALSE"
    ctes = f"""
        , r1 AS (
            SELECT *, row_number() OVER ({w}) AS _cspa_pos, {sd} AS _cspa_sd FROM {prev}
        ), r2 AS (
            SELECT *, {trend} AS _cspa_trend_end, {shift} AS _cspa_shift_end, {q3} AS _cspa_q3
            FROM r1
            WINDOW w6 AS ({w} ROWS BETWEEN 5 PRECEDING AND CURRENT ROW),
                w7 AS ({w} ROWS BETWEEN 6 PRECEDING AND CURRENT ROW),
                f3 AS ({w} ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING)
        ), r3 AS (
            SELECT *,
                max(abs(_cspa_trend_end)) OVER n7 AS _cspa_part_trend,
                max(_cspa_shift_end) OVER n7 AS _cspa_part_shift,
                max(_cspa_q3) OVER p3 AS _cspa_two3
            FROM r2
            WINDOW n7 AS ({w} ROWS BETWEEN CURRENT ROW AND 6 FOLLOWING),
                p3 AS ({w} ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
        ), r4 AS (
            SELECT *,
                -- Inside a trend the direction is the right-hand difference; at its last point
                -- (the next point is not in the trend) the left-hand one.
                CASE WHEN _cspa_part_trend = 1 AND coalesce(lead(_cspa_part_trend) OVER ({w}), 0) = 1
                    THEN lead(_cspa_sd) OVER ({w}) ELSE coalesce(_cspa_sd, 0) END AS _cspa_trend_dir,
                (_cspa_two3 = 1 AND {part_close}) AS _cspa_part_two3
            FROM r3
        )
    """
    return ctes, "r4"


_RULE_COLS = (
    "_cspa_pos, _cspa_sd, _cspa_trend_end, _cspa_shift_end, _cspa_q3, _cspa_part_trend, "
    "_cspa_part_shift, _cspa_two3, _cspa_trend_dir, _cspa_part_two3"
)


def spc_rules(
    rel: duckdb.DuckDBPyRelation,
    *,
    series: Sequence[str] = (),
    order: str = "date",
    value: str | None = "value",
    relative_to_mean: str | None = None,
    close_to_limits: str | None = None,
    prefix: str = "rule",
) -> duckdb.DuckDBPyRelation:
    """The raw Making Data Count special-cause rules on given inputs (NHSRplotthedots
    ``ptd_seven_point_trend``, ``ptd_seven_point_one_side_mean``, ``ptd_two_in_three``).

    Rule, within each series in ``order``: trend end point = the 6 successive differences ending
    here are all strictly positive (1) or negative (-1), so fewer than 7 points never trigger and
    an equal pair breaks it; shift end point (1) = this and the previous 6 ``relative_to_mean``
    values are equal and non-zero; two-in-three (1) = the point lies in a window of 3 consecutive
    points with at least 2 ``close_to_limits`` and |sum of relative_to_mean| = 3.

    Output columns: ``<prefix>_trend``, ``<prefix>_shift``, ``<prefix>_two_in_three``,
    ``<prefix>_basis``. :func:`xmr` applies the same SQL to the chart's own columns.
    """
    require_columns(rel, *series, order, value, relative_to_mean, close_to_limits)
    new = [f"{prefix}_{s}" for s in ("trend", "shift", "two_in_three", "basis")]
    check_new_columns(rel, new)
    part = f"PARTITION BY {', '.join(ident(c) for c in series)}" if series else ""
    y = number(value) if value else None
    rtm = f"CAST({ident(relative_to_mean)} AS INTEGER)" if relative_to_mean else None
    close = f"CAST({ident(close_to_limits)} AS INTEGER)" if close_to_limits else None
    ctes, last = _rule_ctes("src0", part, ident(order), y, rtm, close)
    sql = f"""
        WITH src0 AS (SELECT * FROM src) {ctes}
        SELECT * EXCLUDE ({_RULE_COLS}),
            _cspa_trend_end AS {ident(prefix + "_trend")},
            _cspa_shift_end AS {ident(prefix + "_shift")},
            _cspa_two3 AS {ident(prefix + "_two_in_three")},
            'Making Data Count rules: 7-point trend, 7 points one side of the mean, 2 of 3 near a limit (NHSRplotthedots)'
                AS {ident(prefix + "_basis")}
        FROM {last}
    """
    return run(rel, sql)


def xmr(
    rel: duckdb.DuckDBPyRelation,
    *,
    series: Sequence[str] = ("series",),
    order: str = "date",
    value: str = "value",
    rebase: str | None = None,
    improvement_direction: str = "increase",
    improvement_column: str | None = None,
    target: str | float | None = None,
    screen_outliers: bool = True,
    fix_after_n_points: int | None = None,
    warning_threshold: int = 13,
    prefix: str = "spc",
) -> duckdb.DuckDBPyRelation:
    """XmR chart limits and NHS Making Data Count rules (NHSRplotthedots v0.2.2
    ``ptd_spc``; methods.md section 6).

    Rule, per series and rebase segment (a truthy ``rebase`` starts a new segment at that point):
    * mean = mean of the first ``fix_after_n_points`` values (all by default); MR = |y_j -
      y_j-1|; AMR = mean MR; with ``screen_outliers`` MRs >= 3.267 AMR are dropped and AMR is
      recomputed once; limits mean -/+ 2.66 AMR; near-limit band mean -/+ (2/3) 2.66 AMR.
    * outside = y > UPL or y < LPL (strict); relative_to_mean = sign(y - mean); close = not
      outside and beyond the near-limit band.
    * special cause, first match wins: 'Above UCL'/'Below LCL'; '7 Point Trend
      (Increasing|Decreasing)'; '2 in 3 Above|Below CL' (only the close points of a qualifying
      window); '7 Points Above|Below CL'; else 'Common Cause'.
    * point type: with direction increase (+1) / decrease (-1), Above/Increasing x direction > 0
      is special_cause_improvement, < 0 special_cause_concern; neutral gives
      special_cause_neutral_high/low; otherwise common_cause.
    * variation icon (per series, from the last point): common_cause, improvement_high/low,
      concern_high/low, neutral_high/low; assurance icon (last row's limits, not for neutral):
      target > UPL consistent_fail (increase) / consistent_pass (decrease), target < LPL the
      reverse, else inconsistent (strict, so a target on a limit is inconsistent).
    * short-group warning when a segment has fewer than ``warning_threshold`` points (13: MDC
      shows limits from 13 points; fewer are trial limits).
    Limits that cannot be set (one point, or a constant segment whose moving ranges are all 0
    and so all screened out) are NULL with a reason and every point is common cause.
    Rows with a missing value are returned with NULL results and a reason; the chart is drawn
    over the remaining points.

    Input columns: ``series`` keys, ``order`` (date or ordinal), ``value``, optional
    ``rebase`` (boolean or 0/1), ``improvement_column`` (overrides ``improvement_direction``
    per row), ``target`` (column or constant).
    Output columns ``<prefix>_``: ``segment``, ``mean``, ``mr``, ``amr``, ``lpl``, ``upl``,
    ``near_lpl``, ``near_upl``, ``outside_limits``, ``relative_to_mean``, ``close_to_limits``,
    ``special_cause``, ``point_type``, ``variation_icon``, ``assurance_icon``,
    ``short_group_warning``, ``reason``, ``basis``.
    """
    if improvement_direction not in DIRECTIONS:
        raise ValueError(f"improvement_direction must be one of {sorted(DIRECTIONS)}")
    if fix_after_n_points is not None and fix_after_n_points < 12:
        raise ValueError("fix_after_n_points must be at least 12 (NHSRplotthedots)")
    require_columns(rel, *series, order, value, rebase, improvement_column, target)
    outs = (
        "segment",
        "mean",
        "mr",
        "amr",
        "lpl",
        "upl",
        "near_lpl",
        "near_upl",
        "outside_limits",
        "relative_to_mean",
        "close_to_limits",
        "special_cause",
        "point_type",
        "variation_icon",
        "assurance_icon",
        "short_group_warning",
        "reason",
        "basis",
    )
    check_new_columns(rel, [f"{prefix}_{o}" for o in outs])
    keys = ", ".join(ident(c) for c in series)
    fpart = f"PARTITION BY {keys}" if series else ""
    spart = f"PARTITION BY {keys + ', ' if series else ''}_cspa_seg"
    o = ident(order)
    reb = (
        f"CASE WHEN coalesce(CAST({ident(rebase)} AS INTEGER), 0) <> 0 THEN 1 ELSE 0 END"
        if rebase
        else "0"
    )
    if improvement_column is not None:
        direction = (
            f"CASE lower(CAST({ident(improvement_column)} AS VARCHAR)) WHEN 'increase' THEN 1 "
            "WHEN 'decrease' THEN -1 WHEN 'neutral' THEN 0 END"
        )
    else:
        direction = str(DIRECTIONS[improvement_direction])
    fix = f"_cspa_pos0 <= {int(fix_after_n_points)}" if fix_after_n_points else "TRUE"
    mr_keep = f"_cspa_mr < {literal(SCREEN)} * _cspa_amr0" if screen_outliers else "TRUE"
    tgt = f"CAST({operand(target)} AS DOUBLE)" if target is not None else "CAST(NULL AS DOUBLE)"
    ctes, last = _rule_ctes("l", spart, o, "_cspa_y", "_cspa_rtm", "_cspa_close")
    kind_v = (
        "CASE WHEN _cspa_type LIKE '%Above%' OR _cspa_type LIKE '%Increasing%' THEN 1 "
        "WHEN _cspa_type LIKE '%Below%' OR _cspa_type LIKE '%Decreasing%' THEN -1 ELSE 0 END"
    )
    basis = (
        "'XmR: mean ' || coalesce(printf('%.4g', _cspa_mean), 'NULL') || ', limits ' || "
        "coalesce(printf('%.4g', _cspa_lpl) || ' to ' || printf('%.4g', _cspa_upl), 'undefined') || "
        f"' (mean -/+ 2.66 x AMR ' || coalesce(printf('%.4g', _cspa_amr), 'NULL') || "
        f"'{', outlier-screened MRs' if screen_outliers else ''}"
        f"{f', fixed on the first {fix_after_n_points} points' if fix_after_n_points else ''}), "
        "segment ' || CAST(_cspa_seg AS VARCHAR) || ' (' || CAST(_cspa_seg_n AS VARCHAR) || ' points), "
        "direction ' || CASE _cspa_dir WHEN 1 THEN 'increase' WHEN -1 THEN 'decrease' WHEN 0 THEN 'neutral' "
        "ELSE 'unknown' END || ' (NHS Making Data Count, NHSRplotthedots)'"
    )
    excl_cols = (
        "_cspa_y, _cspa_seg, _cspa_dir, _cspa_tgt, _cspa_pos0, _cspa_fy, _cspa_mean, _cspa_mr, "
        "_cspa_amr0, _cspa_amr, _cspa_seg_n, _cspa_lpl, _cspa_upl, _cspa_nlpl, _cspa_nupl, "
        "_cspa_out, _cspa_rtm, _cspa_close, " + _RULE_COLS + ", _cspa_type, _cspa_ptype, "
        "_cspa_last_type, _cspa_last_lpl, _cspa_last_upl, _cspa_last_tgt, _cspa_last_dir"
    )
    sql = f"""
        WITH a AS (
            SELECT *, {number(value)} AS _cspa_y,
                -- Rebase flags start new segments: the segment is the running count of flags.
                sum({reb}) OVER ({fpart} ORDER BY {o} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                    AS _cspa_seg,
                {direction} AS _cspa_dir, {tgt} AS _cspa_tgt
            FROM src
        ), v AS (
            SELECT * FROM a WHERE _cspa_y IS NOT NULL
        ), f AS (
            SELECT *, row_number() OVER ({spart} ORDER BY {o}) AS _cspa_pos0 FROM v
        ), g AS (
            SELECT *, CASE WHEN {fix} THEN _cspa_y END AS _cspa_fy FROM f
        ), h AS (
            SELECT *, avg(_cspa_fy) OVER ({spart}) AS _cspa_mean,
                abs(_cspa_fy - lag(_cspa_fy) OVER ({spart} ORDER BY {o})) AS _cspa_mr,
                count(*) OVER ({spart}) AS _cspa_seg_n
            FROM g
        ), i AS (
            SELECT *, avg(_cspa_mr) OVER ({spart}) AS _cspa_amr0 FROM h
        ), j AS (
            SELECT *, avg(CASE WHEN {mr_keep} THEN _cspa_mr END) OVER ({spart}) AS _cspa_amr FROM i
        ), k AS (
            SELECT *,
                _cspa_mean - {literal(LIMIT)} * _cspa_amr AS _cspa_lpl,
                _cspa_mean + {literal(LIMIT)} * _cspa_amr AS _cspa_upl,
                _cspa_mean - {literal(LIMIT_CLOSE)} * _cspa_amr AS _cspa_nlpl,
                _cspa_mean + {literal(LIMIT_CLOSE)} * _cspa_amr AS _cspa_nupl
            FROM j
        ), l AS (
            SELECT *,
                coalesce(_cspa_y > _cspa_upl OR _cspa_y < _cspa_lpl, FALSE) AS _cspa_out,
                CAST(sign(_cspa_y - _cspa_mean) AS INTEGER) AS _cspa_rtm,
                coalesce(NOT (_cspa_y > _cspa_upl OR _cspa_y < _cspa_lpl)
                    AND (_cspa_y < _cspa_nlpl OR _cspa_y > _cspa_nupl), FALSE) AS _cspa_close
            FROM k
        ) {ctes}, t AS (
            SELECT *,
                CASE WHEN _cspa_out THEN CASE WHEN _cspa_rtm = 1 THEN 'Above UCL' ELSE 'Below LCL' END
                    WHEN _cspa_part_trend = 1 THEN '7 Point Trend ('
                        || CASE WHEN _cspa_trend_dir = 1 THEN 'In' ELSE 'De' END || 'creasing)'
                    WHEN _cspa_part_two3 THEN '2 in 3 ' || CASE WHEN _cspa_rtm > 0 THEN 'Above' ELSE 'Below' END || ' CL'
                    WHEN _cspa_part_shift = 1 THEN '7 Points ' || CASE WHEN _cspa_rtm > 0 THEN 'Above' ELSE 'Below' END || ' CL'
                    ELSE 'Common Cause' END AS _cspa_type
            FROM {last}
        ), p AS (
            SELECT *,
                CASE WHEN _cspa_dir IS NULL THEN NULL
                    WHEN _cspa_dir = 0 THEN CASE WHEN {kind_v} > 0 THEN 'special_cause_neutral_high'
                        WHEN {kind_v} < 0 THEN 'special_cause_neutral_low' ELSE 'common_cause' END
                    WHEN {kind_v} * _cspa_dir > 0 THEN 'special_cause_improvement'
                    WHEN {kind_v} * _cspa_dir < 0 THEN 'special_cause_concern'
                    ELSE 'common_cause' END AS _cspa_ptype
            FROM t
        ), q AS (
            SELECT *,
                last_value(_cspa_ptype) OVER wl AS _cspa_last_type,
                last_value(_cspa_lpl) OVER wl AS _cspa_last_lpl,
                last_value(_cspa_upl) OVER wl AS _cspa_last_upl,
                last_value(_cspa_tgt) OVER wl AS _cspa_last_tgt,
                last_value(_cspa_dir) OVER wl AS _cspa_last_dir
            FROM p
            WINDOW wl AS ({fpart} ORDER BY {o} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ), done AS (
            SELECT * EXCLUDE ({excl_cols}),
                _cspa_seg AS {ident(prefix + "_segment")},
                _cspa_mean AS {ident(prefix + "_mean")},
                _cspa_mr AS {ident(prefix + "_mr")},
                _cspa_amr AS {ident(prefix + "_amr")},
                _cspa_lpl AS {ident(prefix + "_lpl")},
                _cspa_upl AS {ident(prefix + "_upl")},
                _cspa_nlpl AS {ident(prefix + "_near_lpl")},
                _cspa_nupl AS {ident(prefix + "_near_upl")},
                _cspa_out AS {ident(prefix + "_outside_limits")},
                _cspa_rtm AS {ident(prefix + "_relative_to_mean")},
                _cspa_close AS {ident(prefix + "_close_to_limits")},
                _cspa_type AS {ident(prefix + "_special_cause")},
                _cspa_ptype AS {ident(prefix + "_point_type")},
                CASE _cspa_last_type
                    WHEN 'common_cause' THEN 'common_cause'
                    WHEN 'special_cause_neutral_high' THEN 'neutral_high'
                    WHEN 'special_cause_neutral_low' THEN 'neutral_low'
                    WHEN 'special_cause_improvement' THEN CASE WHEN _cspa_last_dir = 1 THEN 'improvement_high' ELSE 'improvement_low' END
                    WHEN 'special_cause_concern' THEN CASE WHEN _cspa_last_dir = 1 THEN 'concern_low' ELSE 'concern_high' END
                END AS {ident(prefix + "_variation_icon")},
                CASE WHEN _cspa_last_tgt IS NULL OR _cspa_last_dir IS NULL OR _cspa_last_dir = 0
                        OR _cspa_last_upl IS NULL THEN NULL
                    WHEN _cspa_last_tgt > _cspa_last_upl THEN CASE WHEN _cspa_last_dir = 1 THEN 'consistent_fail' ELSE 'consistent_pass' END
                    WHEN _cspa_last_tgt < _cspa_last_lpl THEN CASE WHEN _cspa_last_dir = 1 THEN 'consistent_pass' ELSE 'consistent_fail' END
                    ELSE 'inconsistent' END AS {ident(prefix + "_assurance_icon")},
                _cspa_seg_n < {int(warning_threshold)} AS {ident(prefix + "_short_group_warning")},
                concat_ws('; ',
                    CASE WHEN _cspa_dir IS NULL THEN 'improvement direction not increase/decrease/neutral: point type not set' END,
                    CASE WHEN _cspa_amr IS NULL AND _cspa_seg_n < 2 THEN 'fewer than 2 points in the segment: limits undefined'
                        WHEN _cspa_amr IS NULL AND _cspa_amr0 = 0 THEN 'limits undefined (constant series)'
                        WHEN _cspa_amr IS NULL THEN 'limits undefined (no moving range)' END,
                    CASE WHEN _cspa_seg_n < {int(warning_threshold)} THEN 'fewer than {int(warning_threshold)} points: trial limits' END,
                    CASE WHEN _cspa_last_tgt IS NOT NULL AND _cspa_last_dir = 0 THEN 'no assurance for a neutral direction' END,
                    CASE WHEN _cspa_last_tgt IS NOT NULL AND _cspa_last_dir <> 0 AND _cspa_last_upl IS NULL
                        THEN 'no assurance: limits undefined' END
                ) AS _cspa_reason_text,
                {basis} AS {ident(prefix + "_basis")}
            FROM q
        ), missing AS (
            SELECT * EXCLUDE (_cspa_y, _cspa_seg, _cspa_dir, _cspa_tgt),
                _cspa_seg AS {ident(prefix + "_segment")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_mean")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_mr")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_amr")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_lpl")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_upl")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_near_lpl")},
                CAST(NULL AS DOUBLE) AS {ident(prefix + "_near_upl")},
                CAST(NULL AS BOOLEAN) AS {ident(prefix + "_outside_limits")},
                CAST(NULL AS INTEGER) AS {ident(prefix + "_relative_to_mean")},
                CAST(NULL AS BOOLEAN) AS {ident(prefix + "_close_to_limits")},
                CAST(NULL AS VARCHAR) AS {ident(prefix + "_special_cause")},
                CAST(NULL AS VARCHAR) AS {ident(prefix + "_point_type")},
                CAST(NULL AS VARCHAR) AS {ident(prefix + "_variation_icon")},
                CAST(NULL AS VARCHAR) AS {ident(prefix + "_assurance_icon")},
                CAST(NULL AS BOOLEAN) AS {ident(prefix + "_short_group_warning")},
                'value missing: point not charted' AS _cspa_reason_text,
                'XmR: point left out of the chart (NHS Making Data Count, NHSRplotthedots)'
                    AS {ident(prefix + "_basis")}
            FROM a WHERE _cspa_y IS NULL
        ), allrows AS (
            SELECT * FROM done UNION ALL BY NAME SELECT * FROM missing
        )
        SELECT * EXCLUDE (_cspa_reason_text, {ident(prefix + "_basis")}),
            nullif(_cspa_reason_text, '') AS {ident(prefix + "_reason")},
            {ident(prefix + "_basis")}
        FROM allrows
    """
    return run(rel, sql)
