"""Evidence items of a rule set as one long relation for every authority (SQL, no row loops).

``build_evidence(con, rs, year)`` creates the temporary table ``_cspa_evidence``:

``area, evidence_id, label, value, display, comparator, comparator_value, comparator_display,
vs ('better' | 'worse' | 'similar'), quartile, details (list of the figures behind an aggregate:
indicator, title, measure, period, display, comparator_display, judgement, ref), ref``

and ``_cspa_figures``: every engine figure the rule set and its letter read (one row per
authority, indicator, measure: the latest period on or before the rule set's data cut-off), with
its comparator (England or statistical neighbours from :func:`cspa.engine.run.compute`), the
comparison under the measure's polarity, its quartile among authorities, band, significance and
progress, the period before and the one three periods before (a four-year change). Figures
published for a body reported for the authority (its youth offending team, primary care trust,
drug action team: ``area.parent``) count as the authority's where it has none of its own.

Kinds (``data/rules/*.yaml`` ``evidence[].kind``):

* ``profile``: pooled share, smallest share, count of rows below / at least a threshold, or a
  count, over profile rows (:mod:`cspa.assessment.profile`);
* ``profile_education``: how many education measures (e.g. the 4-year improvement) beat the
  comparator's;
* ``inspection``: count, worst grade, latest grade, or serious-case-review shortfall over the
  inspection judgements published by the assessment date (Ofsted numbering, 1 outstanding ... 4
  inadequate); ``where.current`` keeps the latest judgement of each kind, ``where.area_in`` those
  speaking for the areas of practice named (:mod:`cspa.assessment.inspections`);
* ``engine``: one indicator's figure against its comparator;
* ``engine_share``: over a set of indicators: share or count better / worse than the comparator,
  in the top or bottom quartile, improved or worsened;
* ``record``: a historical grade (``assessment_record``), e.g. last year's assessment.

``judgement`` evidence (a mean or the worst of earlier proposed grades) is evaluated inside the
proposal query (:mod:`cspa.assessment.rules`).

A figure is better than its comparator when it beats it by more than ``margin_percent`` of the
comparator's size under the measure's polarity, worse when it trails by as much, else similar.
"""

from __future__ import annotations

import re

import duckdb

from cspa.assessment.inspections import INSPECTIONS, build_inspections
from cspa.assessment.profile import (
    PROFILE,
    _q,
    _table_exists,
    build_profile,
    population,
)
from cspa.assessment.ruleset import Evidence, RuleSet
from cspa.catalogue.areas import ENGLAND
from cspa.engine.formatting import display_sql
from cspa.engine.polarity import compare_sql, sign_sql
from cspa.engine.polarity import judged_sql as polarity_judged
from cspa.store.sql import in_list

EVIDENCE = "_cspa_evidence"
FIGURES = "_cspa_figures"

_N = {
    "n_outstanding": "pct_outstanding",
    "n_good": "pct_good",
    "n_satisfactory": "pct_satisfactory",
    "n_inadequate": "pct_inadequate",
}

_COLS = (
    "area, evidence_id, label, value, display, comparator, comparator_value, comparator_display, vs, quartile, "
    "details, ref"
)
_DETAIL = (
    "STRUCT_PACK(indicator := {ind}, title := {title}, measure := {measure}, period := {period}, "
    "display := {display}, comparator_display := {cdisplay}, judgement := {judgement}, ref := {ref})"
)


def _detail(**kw) -> str:
    return _DETAIL.format(
        **{
            k: kw.get(k, "NULL::VARCHAR")
            for k in (
                "ind",
                "title",
                "measure",
                "period",
                "display",
                "cdisplay",
                "judgement",
                "ref",
            )
        }
    )


def _vs(value: str, comp: str, polarity: str, margin: str) -> str:
    """SQL: 'better' / 'worse' / 'similar' of value against comp under polarity, margin in percent."""
    tol = f"abs({comp}) * ({margin}) / 100.0"
    return f"replace({compare_sql(value, comp, polarity, tol)}, 'same', 'similar')"


def _num(v: str, decimals: int = 1) -> str:
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"ELSE format('{{:.{decimals}f}}', round(CAST({v} AS DOUBLE), {decimals})) END"
    )


# ------------------------------------------------------------------------------------ engine figures


def figure_indicators(rs: RuleSet) -> tuple[list[str], list[dict]]:
    """Indicator codes and selections every engine evidence item and the letter read."""
    codes: list[str] = []
    selects: list[dict] = []
    for e in rs.evidence:
        if e.kind == "engine":
            codes.append(e.indicator)
        elif e.kind == "engine_share":
            codes += e.indicators or []
            if e.select:
                selects.append(e.select)
    for sec in rs.letter.sections:
        codes += [t.indicator for t in sec.topics]
        if sec.outcome:
            selects.append({"framework": sec.framework or rs.framework, "outcome": sec.outcome})
    return list(dict.fromkeys(codes)), selects


def _selected_codes(sel: dict) -> list[str]:
    """The catalogue's indicators a rule set's ``select`` names (framework, outcome, and a code
    pattern written as SQL's LIKE: ``%`` any run of characters, ``_`` one character)."""
    from cspa.catalogue.load import load_catalogue

    like = sel.get("code_like")
    pattern = (
        re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in like) + r"\Z"
        )
        if like
        else None
    )
    return [
        i.code
        for i in load_catalogue().indicators.values()
        if (not sel.get("framework") or i.framework == sel["framework"])
        and (not sel.get("outcome") or (i.outcome and i.outcome.value) == sel["outcome"])
        and (pattern is None or pattern.match(i.code))
    ]


def build_figures(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> str:
    """The engine's figures for the rule set's indicators, latest on or before the cut-off, with comparators."""
    from cspa.engine.run import compute
    from cspa.engine.selection import Selection

    codes, selects = figure_indicators(rs)
    codes += [c for s in selects for c in _selected_codes(s)]
    rel = compute(con, Selection(indicators=codes, neighbour_group=rs.neighbour_group))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cspa_engine AS SELECT * FROM ({rel.sql_query()}) WHERE for_area IS NULL"
    )
    cutoff = f"DATE '{year}-{rs.data_cutoff}'"
    margin = rs.letter.margin_percent
    breaks = (
        "series_break"
        if _table_exists(con, "series_break")
        else "(SELECT NULL AS indicator, NULL AS measure, NULL::DATE AS period_end WHERE FALSE)"
    )
    pop = population(con, rs, year)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE {FIGURES} AS
    WITH geo AS (   -- the authority's own rows, else those of a body reported for it (its YOT, PCT, DAT)
        SELECT area AS code, area, 0 AS sub FROM {pop}
        UNION ALL
        SELECT a.code, a.parent, 1 FROM area a
        WHERE a.type IN ('yot', 'pct', 'dat', 'trust') AND a.parent IN (SELECT area FROM {pop})
    ),
    one_geo AS (   -- one geography per figure (the authority's own first), one row per period
        SELECT e.* REPLACE (g.area AS area), e.area AS source_area
        FROM _cspa_engine e JOIN geo g ON g.code = e.area
        WHERE e.value IS NOT NULL AND e.period_end <= {cutoff}
        QUALIFY dense_rank() OVER (PARTITION BY g.area, e.indicator, e.measure ORDER BY g.sub, g.code) = 1
            AND row_number() OVER (PARTITION BY g.area, e.indicator, e.measure, e.period ORDER BY e.period_start) = 1
    ),
    own AS (
        SELECT *, row_number() OVER (PARTITION BY area, indicator, measure ORDER BY period_end DESC, period_start DESC) AS k
        FROM one_geo
    ),
    latest AS (SELECT * FROM own WHERE k = 1),
    prev AS (SELECT * FROM own WHERE k = 2),
    base AS (SELECT * FROM own WHERE k = 4),   -- three periods before the latest (a four-year change)
    x AS (
        SELECT l.area, l.source_area, l.indicator, l.measure, i.title, i.outcome, i.framework,
               json_extract_string(i.definition_json, '$.short_title') AS short_title,
               m.label AS measure_label, m.unit, m.polarity,
               l.period, l.period_label, l.value, l.display, l.quartile, l.progress, l.band, l.significance,
               l.seed_ref, l.vintage, l.basis,
               pv.display AS prev_display, pv.period_label AS prev_period, pv.value AS prev_value,
               b.value AS base_value, b.period_label AS base_period, b.display AS base_display,
               eng.value AS england_value, eng.display AS england_display, engb.value AS england_base_value,
               sn.value AS sn_value, sn.display AS sn_display, sn.area AS sn_area
        FROM latest l
        JOIN indicator i ON i.code = l.indicator
        JOIN measure m ON m.indicator = l.indicator AND m.measure = l.measure
        -- no movement is read across a break in the series (catalogue ``breaks``: the figures are on
        -- different scales, e.g. the A-level points tariff of 2006, 000:L5391)
        LEFT JOIN prev pv ON pv.area = l.area AND pv.indicator = l.indicator AND pv.measure = l.measure
             AND NOT EXISTS (SELECT 1 FROM {breaks} k WHERE k.indicator = l.indicator AND k.measure = l.measure
                             AND k.period_end > pv.period_end AND k.period_end <= l.period_end)
        LEFT JOIN base b ON b.area = l.area AND b.indicator = l.indicator AND b.measure = l.measure
             AND NOT EXISTS (SELECT 1 FROM {breaks} k WHERE k.indicator = l.indicator AND k.measure = l.measure
                             AND k.period_end > b.period_end AND k.period_end <= l.period_end)
        LEFT JOIN _cspa_engine eng ON eng.area = '{ENGLAND}' AND eng.indicator = l.indicator
             AND eng.measure = l.measure AND eng.period = l.period
        LEFT JOIN _cspa_engine engb ON engb.area = '{ENGLAND}' AND engb.indicator = l.indicator
             AND engb.measure = l.measure AND engb.period = b.period
        LEFT JOIN _cspa_engine sn ON sn.area = 'SN:' || coalesce(m.neighbour_group, {_q(rs.neighbour_group)}) || ':' || l.area
             AND sn.indicator = l.indicator AND sn.measure = l.measure AND sn.period = l.period
    )
    SELECT x.*,
           {_vs("x.value", "x.england_value", "x.polarity", str(margin))} AS vs_england,
           {_vs("x.value", "x.sn_value", "x.polarity", str(margin))} AS vs_sn,
           CASE WHEN x.england_value IS NULL OR x.england_value = 0 THEN NULL
                ELSE (x.value - x.england_value) / abs(x.england_value)
                     * {sign_sql("x.polarity")} END AS gap_england,
           CASE WHEN x.sn_value IS NULL OR x.sn_value = 0 THEN NULL
                ELSE (x.value - x.sn_value) / abs(x.sn_value) * {sign_sql("x.polarity")} END AS gap_sn,
           coalesce(x.seed_ref, x.vintage) AS ref
    FROM x
    """)
    return FIGURES


# ------------------------------------------------------------------------------------ kinds


def _profile_ev(e: Evidence) -> str:
    inds = ", ".join(_q(i) for i in e.indicators)
    nums = ", ".join(_q(_N.get(n, n)) for n in e.numerator)
    share = "100.0 * num / den"
    agg = {
        "pooled": ("100.0 * sum(num) / nullif(sum(den), 0)", True),
        "min_share": (f"min({share}) FILTER (WHERE den > 0)", False),
        "count_below": (f"count(*) FILTER (WHERE den > 0 AND {share} < {e.threshold or 0})", False),
        "count_at_least": (
            f"count(*) FILTER (WHERE den > 0 AND {share} >= {e.threshold or 0})",
            False,
        ),
        "count": ("sum(num)", False),
    }[e.stat]
    pol = _q(e.polarity or "high")
    has_comp = agg[1]
    return f"""
    SELECT r.area, {_q(e.id)}, {_q(e.label)}, r.value,
           {_num("r.value", 1 if e.stat in ("pooled", "min_share") else 0)}
             || CASE WHEN {_q(e.stat)} IN ('pooled', 'min_share') THEN '%' ELSE '' END,
           CASE WHEN c.value IS NOT NULL THEN 'england' END, c.value, {_num("c.value")} || '%',
           {
        _vs("r.value", "c.value", pol, "0") if has_comp else "NULL"
    }, NULL::INTEGER, r.details, r.ref
    FROM (
        SELECT area, geography, {agg[0]} AS value,
               list({
        _detail(
            ind="indicator",
            title="title",
            measure="'share'",
            period="period",
            display="CAST(CAST(num AS BIGINT) AS VARCHAR) || ' of ' || CAST(CAST(den AS BIGINT) AS VARCHAR)",
            judgement="CASE WHEN den > 0 THEN format('{:.0f}%', 100.0 * num / den) END",
            ref="ref",
        )
    } ORDER BY row_order) AS details,
               string_agg(DISTINCT ref, '; ' ORDER BY ref) AS ref
        FROM (
            SELECT p.area, p.geography, p.indicator, any_value(p.title) AS title, any_value(p.row_order) AS row_order,
                   any_value(p.period) AS period, sum(p.numerator) FILTER (WHERE p.measure_id IN ({
        nums
    })) AS num,
                   max(p.value) FILTER (WHERE p.measure_id = 'number_inspected') AS den,
                   coalesce(min(p.seed_ref), 'Ofsted provider outcomes') AS ref
            FROM {PROFILE} p WHERE p.indicator IN ({inds}) AND p.block <> 'education'
            GROUP BY ALL
        ) GROUP BY ALL
    ) r
    LEFT JOIN (
        SELECT area, 100.0 * sum(num) / nullif(sum(den), 0) AS value FROM (
            SELECT p.area, p.indicator, sum(p.numerator) FILTER (WHERE p.measure_id IN ({
        nums
    })) AS num,
                   max(p.value) FILTER (WHERE p.measure_id = 'number_inspected') AS den
            FROM {PROFILE} p WHERE p.indicator IN ({inds}) AND p.geography = 'england' GROUP BY ALL
        ) GROUP BY 1
    ) c ON c.area = r.area AND {_q(e.stat)} = 'pooled'
    WHERE r.geography = 'area'
    """


def _profile_education_ev(e: Evidence) -> str:
    op = ">" if e.stat == "count_better" else "<"
    return f"""
    SELECT a.area, {_q(e.id)}, {_q(e.label)}, CAST(count(*) FILTER (WHERE a.value {
        op
    } c.value) AS DOUBLE),
           CAST(count(*) FILTER (WHERE a.value {
        op
    } c.value) AS VARCHAR) || ' of ' || CAST(count(*) AS VARCHAR),
           {_q(e.comparator)}, NULL, NULL, NULL, NULL::INTEGER,
           list({
        _detail(
            ind="a.indicator",
            title="a.title",
            measure="a.measure",
            period="a.period",
            display="a.display",
            cdisplay="c.display",
            judgement=f"CASE WHEN a.value {op} c.value THEN 'yes' ELSE 'no' END",
            ref="a.seed_ref",
        )
    } ORDER BY a.row_order),
           string_agg(DISTINCT a.seed_ref, '; ' ORDER BY a.seed_ref)
    FROM {PROFILE} a JOIN {
        PROFILE
    } c ON c.area = a.area AND c.indicator = a.indicator AND c.measure_id = a.measure_id
         AND c.period = a.period AND c.geography = {_q(e.comparator)}
    WHERE a.block = 'education' AND a.geography = 'area' AND a.measure_id = {_q(e.measure)}
      AND a.value IS NOT NULL AND c.value IS NOT NULL
    GROUP BY a.area
    """


# an inspection judgement in an evidence list says whether it is current or history, and since when
_CURRENT = (
    "CASE WHEN current THEN 'current (published ' || coalesce(published_text, '') || ')' "
    "ELSE 'history: superseded ' || coalesce(strftime(superseded_on, '%d/%m/%Y'), '') END"
)


def _inspection_ev(e: Evidence) -> str:
    """Over the inspection judgements published by the assessment date (:mod:`.inspections`);
    ``current: true`` keeps the latest of each kind, ``area_in`` the judgements that speak for those
    areas of practice."""
    w = e.where or {}
    conds = ["TRUE"]
    if w.get("current"):
        conds.append("current")
    if w.get("area_in"):
        conds.append(f"list_has_any(judgement_areas, [{', '.join(_q(x) for x in w['area_in'])}])")
    if w.get("inspection_like"):
        conds.append(f"inspection LIKE {_q(w['inspection_like'])}")
    if w.get("inspection_like_any"):
        conds.append(
            "(" + " OR ".join(f"inspection LIKE {_q(x)}" for x in w["inspection_like_any"]) + ")"
        )
    if w.get("outcome_in"):
        conds.append(f"outcome IN ({', '.join(_q(x) for x in w['outcome_in'])})")
    if w.get("grade_in"):
        conds.append(f"grade IN ({', '.join(str(int(x)) for x in w['grade_in'])})")
    if w.get("framework_in"):
        conds.append(f"framework IN ({', '.join(_q(x) for x in w['framework_in'])})")
    if w.get("judgement_in"):
        conds.append(f"judgement IN ({', '.join(_q(x) for x in w['judgement_in'])})")
    cond = " AND ".join(conds)
    agg = {
        "count": f"CAST(count(*) FILTER (WHERE {cond}) AS DOUBLE)",
        "worst_grade": f"max(grade) FILTER (WHERE {cond})",
        "latest_grade": f"arg_max(grade, published) FILTER (WHERE {cond} AND grade IS NOT NULL)",
        "shortfall": f"CAST(coalesce(sum(conducted - adequate_or_better) FILTER (WHERE {cond}), 0) AS DOUBLE)",
    }[e.stat]
    display = {
        "worst_grade": f"arg_max(outcome, grade) FILTER (WHERE {cond})",
        # an authority whose latest inspections judged other areas (SLAC had no overall
        # effectiveness, leadership or care leavers judgement) is told so, not shown a blank
        "latest_grade": f"coalesce(arg_max(outcome || ' (' || coalesce(inspection, '') || ', published ' || "
        f"published_text || ')', published) FILTER (WHERE {cond} AND grade IS NOT NULL), "
        "'none published by the assessment date')",
    }.get(e.stat, f"CAST(CAST({agg} AS BIGINT) AS VARCHAR)")
    return f"""
    SELECT area, {_q(e.id)}, {_q(e.label)}, CAST({agg} AS DOUBLE), {
        display
    }, NULL, NULL, NULL, NULL, NULL::INTEGER,
           list({
        _detail(
            ind="framework",
            title="inspection",
            measure="aspect",
            period="date_text",
            display="outcome",
            judgement=_CURRENT,
            ref="ref",
        )
    } ORDER BY published, row_order)
             FILTER (WHERE {cond}),
           string_agg(DISTINCT ref, '; ' ORDER BY ref) FILTER (WHERE {cond})
    FROM {INSPECTIONS} WHERE area IS NOT NULL GROUP BY area
    """


def _engine_ev(e: Evidence) -> str:
    comp = e.comparator or "england"
    cv, cd, vs = (
        ("england_value", "england_display", "vs_england")
        if comp == "england"
        else ("sn_value", "sn_display", "vs_sn")
    )
    measure = e.measure or "value"
    if e.margin_percent is not None:
        vs_sql = _vs("value", cv, "polarity", str(e.margin_percent))
    else:
        vs_sql = vs
    return f"""
    SELECT area, {_q(e.id)}, {_q(e.label)}, value, display, {_q(comp)}, {cv}, {cd}, {
        vs_sql
    }, quartile,
           [{
        _detail(
            ind="indicator",
            title="title",
            measure="measure_label",
            period="period_label",
            display="display",
            cdisplay=cd,
            judgement=vs_sql,
            ref="ref",
        )
    }],
           ref
    FROM {FIGURES} WHERE indicator = {_q(e.indicator)} AND measure = {_q(measure)}
    """


def _engine_share_ev(e: Evidence) -> str:
    comp = e.comparator or "england"
    cv, cd, vs = (
        ("england_value", "england_display", "vs_england")
        if comp == "england"
        else ("sn_value", "sn_display", "vs_sn")
    )
    if e.margin_percent is not None:
        vs = _vs("value", cv, "polarity", str(e.margin_percent))
    sets = []
    if e.indicators:
        sets.append(f"indicator IN ({', '.join(_q(i) for i in e.indicators)})")
    if e.select:
        sets.append(f"indicator IN {in_list(_selected_codes(e.select))}")
    where = "(" + " OR ".join(sets) + f") AND {polarity_judged('polarity')}"
    if e.measure:
        where += f" AND measure = {_q(e.measure)}"
    agg = {
        "share_better": f"100.0 * count(*) FILTER (WHERE {vs} = 'better') / nullif(count({vs}), 0)",
        "share_worse": f"100.0 * count(*) FILTER (WHERE {vs} = 'worse') / nullif(count({vs}), 0)",
        "net_better": (
            f"100.0 * (count(*) FILTER (WHERE {vs} = 'better') - count(*) FILTER (WHERE {vs} = 'worse'))"
            f" / nullif(count({vs}), 0)"
        ),
        "count_better": f"count(*) FILTER (WHERE {vs} = 'better')",
        "count_worse": f"count(*) FILTER (WHERE {vs} = 'worse')",
        "count_top_quartile": "count(*) FILTER (WHERE quartile = 1)",
        "count_bottom_quartile": "count(*) FILTER (WHERE quartile = 4)",
        "share_improved": "100.0 * count(*) FILTER (WHERE progress = 'improved') / nullif(count(progress), 0)",
        "share_worsened": "100.0 * count(*) FILTER (WHERE progress = 'worsened') / nullif(count(progress), 0)",
        "count": "count(*)",
    }[e.stat]
    judged = {
        "count_top_quartile": "CAST(quartile AS VARCHAR)",
        "count_bottom_quartile": "CAST(quartile AS VARCHAR)",
        "share_improved": "progress",
        "share_worsened": "progress",
    }.get(e.stat, vs)
    share = e.stat.startswith("share") or e.stat == "net_better"
    return f"""
    SELECT area, {_q(e.id)}, {_q(e.label)}, CAST({agg} AS DOUBLE),
           CASE WHEN {agg} IS NULL THEN NULL ELSE {_num(f"CAST({agg} AS DOUBLE)", 0)}
                || {
        "'%'" if share else "''"
    } || ' of ' || CAST(count(*) AS VARCHAR) || ' figures' END,
           {_q(comp)}, NULL, NULL, NULL, NULL::INTEGER,
           list({
        _detail(
            ind="indicator",
            title="title",
            measure="measure_label",
            period="period_label",
            display="display",
            cdisplay=cd,
            judgement=judged,
            ref="ref",
        )
    } ORDER BY indicator, measure),
           string_agg(DISTINCT ref, '; ' ORDER BY ref)
    FROM {FIGURES} WHERE {where} GROUP BY area
    """


def _record_ev(e: Evidence, year: int) -> str:
    y = year + (e.year_offset or 0)
    return f"""
    SELECT area, {_q(e.id)}, {
        _q(e.label)
    }, CAST(grade AS DOUBLE), coalesce(printed, label), NULL, NULL, NULL, NULL,
           NULL::INTEGER,
           [{
        _detail(
            ind="indicator",
            title="judgement",
            measure="'grade'",
            period="CAST(year AS VARCHAR)",
            display="coalesce(printed, label)",
            judgement="CAST(grade AS VARCHAR)",
            ref="seed_ref",
        )
    }],
           seed_ref
    FROM (SELECT *, row_number() OVER (PARTITION BY area ORDER BY seed_ref) AS k FROM assessment_record
          WHERE indicator = {_q(e.indicator)} AND year = {y} AND grade IS NOT NULL)
    WHERE k = 1
    """


def build_evidence(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> str:
    """Create ``_cspa_evidence`` (and the profile and figures it reads) for every authority."""
    if rs.profile is not None:
        build_profile(con, rs, year)
    else:
        # no profile: the inspections alone, so profile evidence kinds and the letter read nothing else
        build_inspections(con, rs.as_at(year))
    build_figures(con, rs, year)
    parts = []
    for e in rs.evidence:
        if e.kind == "profile" and rs.profile is not None:
            # provider outcomes from after the assessment's date are not its evidence
            if not rs.later_provider_snapshot(year):
                parts.append(_profile_ev(e))
        elif e.kind == "profile_education" and rs.profile is not None:
            parts.append(_profile_education_ev(e))
        elif e.kind == "inspection":
            parts.append(_inspection_ev(e))
        elif e.kind == "engine":
            parts.append(_engine_ev(e))
        elif e.kind == "engine_share":
            parts.append(_engine_share_ev(e))
        elif e.kind == "record" and _table_exists(con, "assessment_record"):
            parts.append(_record_ev(e, year))
    empty = (
        f"SELECT NULL::VARCHAR AS area, NULL::VARCHAR AS evidence_id, NULL::VARCHAR AS label, NULL::DOUBLE AS value, "
        "NULL::VARCHAR AS display, NULL::VARCHAR AS comparator, NULL::DOUBLE AS comparator_value, "
        "NULL::VARCHAR AS comparator_display, NULL::VARCHAR AS vs, NULL::INTEGER AS quartile, "
        f"[{_detail()}][1:0] AS details, NULL::VARCHAR AS ref WHERE FALSE"
    )
    body = " UNION ALL ".join(f"SELECT * FROM ({p}) t({_COLS})" for p in parts) or empty
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {EVIDENCE} AS SELECT * FROM ({empty} UNION ALL {body})"
    )
    return EVIDENCE


__all__ = ["EVIDENCE", "FIGURES", "build_evidence", "build_figures", "display_sql"]
