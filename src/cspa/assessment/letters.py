"""Draft the letter's strengths and areas for improvement from the evidence, every sentence with its source.

:func:`draft_items` builds, for every authority at once (SQL over the relations the proposal
made: ``_cspa_profile``, ``_cspa_figures``, ``_cspa_inspections``), candidate sentences of four kinds:

* **inspection outcomes of providers** (the profile's Blocks A and B, which the 2011 guidance
  weighs most, 004:L35): super-groups where a large share is good or outstanding, provider types
  where every provider inspected is, super-groups where few are, provider types with inadequate
  providers;
* **inspections of the authority**: outcomes judged good or better, or no areas for priority
  action (strengths); judged below good, or with priority actions (areas for improvement);
* **indicators against comparators**: figures better or worse than statistical neighbours or
  England by more than the letter's margin, largest gaps first (the engine's comparators);
* **trends**: education measures improving faster, or standing below, the national figure.

Each candidate has a stable ``key`` (so an inspector's edit in moderation follows it), a score,
and its evidence (indicator, value, comparator, judgement, seed line or source). The best
``max_items`` per section (per outcome for the 2006 letter) are kept. Sentence wording is data:
:data:`SENTENCES` (overridable per rule set) with ``{name}`` placeholders, turned into SQL
``format`` calls so drafting stays columnar.
"""

from __future__ import annotations

import re

import duckdb

from cspa.assessment.evidence import FIGURES, _detail
from cspa.assessment.inspections import INSPECTIONS
from cspa.assessment.profile import PROFILE, _q, _table_exists
from cspa.assessment.ruleset import RuleSet
from cspa.engine.polarity import judged_sql as polarity_judged
from cspa.store.sql import in_list

ITEMS = "_cspa_letter_items"
COMPARATOR_NAMES = {"england": "England", "statistical_neighbours": "statistical neighbours"}

SENTENCES = {
    "sg_strong": "{group}: {quantifier} of the {n} providers inspected are good or outstanding ({go}{vs_england}).",
    "types_all_good": "{group}: every {types} inspected is good or outstanding.",
    "sg_weak": "{group}: only {go} of the {n} providers inspected are good or outstanding{vs_england}.",
    "type_inadequate": "{type} ({group}): {n_inadequate} of {n} inspected judged inadequate.",
    "inspection_good": "{inspection} ({date}): {aspect} judged {outcome}.",
    "inspection_no_priority": "{inspection} ({date}): no areas for priority action.",
    "inspection_weak": "{inspection} ({date}): {aspect} judged {outcome}.",
    "inspection_priority": "{inspection} ({date}): areas for priority action were found.",
    "scr_all_adequate": "{inspection} ({date}): {adequate} of {conducted} conducted adequately or better.",
    "figure_better": "{title}: {display} in {period}, better than {comparator} ({cdisplay}){trend}.",
    "figure_worse": "{title}: {display} in {period}, worse than {comparator} ({cdisplay}){trend}.",
    "education_faster": "{title}: a four-year change of {imp} points to {value} in {period}, better than {comparator} ({cimp}).",
    "education_below": "{title}: {value} in {period}, below {comparator} ({cvalue}).",
}


def _fmt(template: str, args: dict[str, str]) -> str:
    """A ``{name}`` template as a DuckDB ``format()`` call over SQL expressions."""
    names = re.findall(r"\{(\w+)\}", template)
    text = re.sub(r"\{\w+\}", "{}", template.replace("'", "''"))
    return f"format('{text}', {', '.join(args[n] for n in names)})" if names else f"'{text}'"


def _quantifier(rs: RuleSet, share: str) -> str:
    qs = sorted(rs.letter.quantifiers, key=lambda q: -float(q["from"]))
    if not qs:
        return f"format('{{:.0f}}%', {share})"
    return (
        "CASE "
        + " ".join(f"WHEN {share} >= {float(q['from'])} - 1e-9 THEN {_q(q['word'])}" for q in qs)
        + " END"
    )


def _profile_items(rs: RuleSet, s: dict) -> list[str]:
    strong, weak = rs.letter.strong_share, rs.letter.weak_share
    base = f"""(SELECT area, indicator, any_value(title) AS title, any_value(block) AS block, any_value(row_order) AS row_order,
                 any_value(super_group) AS super_group, any_value(period) AS period,
                 max(value) FILTER (WHERE measure_id = 'number_inspected' AND geography = 'area') AS n,
                 max(value) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'area') AS go,
                 max(display) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'area') AS go_display,
                 max(value) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'england') AS go_england,
                 max(display) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'england') AS go_england_display,
                 max(numerator) FILTER (WHERE measure_id = 'pct_inadequate' AND geography = 'area') AS n_inadequate,
                 min(seed_ref) AS ref
          FROM {PROFILE} WHERE block IN ('provider_type', 'super_group') GROUP BY area, indicator)"""
    ev = _detail(
        ind="p.indicator",
        title="p.title",
        measure="'% Good or Outstanding'",
        period="p.period",
        display="p.go_display",
        cdisplay="p.go_england_display",
        judgement="CAST(CAST(p.n AS BIGINT) AS VARCHAR) || ' inspected'",
        ref="coalesce(p.ref, 'Ofsted provider outcomes at ' || p.period)",
    )
    vs_eng = (
        "CASE WHEN p.go_england IS NULL THEN '' WHEN p.go > p.go_england THEN '; England ' || p.go_england_display "
        "WHEN p.go < p.go_england THEN '; England ' || p.go_england_display ELSE '' END"
    )
    n = "CAST(CAST(p.n AS BIGINT) AS VARCHAR)"
    out = [
        f"""
    SELECT p.area, 'strengths' AS section, NULL AS outcome, 'sg:' || p.indicator AS key,
           {
            _fmt(
                s["sg_strong"],
                {
                    "quantifier": f"lower({_quantifier(rs, 'p.go')})",
                    "n": n,
                    "group": "p.title",
                    "go": "p.go_display",
                    "vs_england": vs_eng,
                },
            )
        } AS text,
           3 + p.go / 100.0 AS score, [{ev}] AS evidence
    FROM {base} p WHERE p.block = 'super_group' AND p.n >= 2 AND p.go >= {strong}""",
        f"""
    SELECT p.area, 'areas_for_improvement', NULL, 'sg:' || p.indicator,
           {_fmt(s["sg_weak"], {"n": n, "group": "p.title", "go": "p.go_display", "vs_england": vs_eng})},
           3 + (100 - p.go) / 100.0, [{ev}]
    FROM {base} p WHERE p.block = 'super_group' AND p.n >= 2 AND p.go < {weak}""",
    ]
    # provider types: every one inspected good or outstanding (grouped per super-group), or inadequate ones
    tev = _detail(
        ind="t.indicator",
        title="t.title",
        measure="'% Good or Outstanding'",
        period="t.period",
        display="t.go_display",
        judgement="CAST(CAST(t.n AS BIGINT) AS VARCHAR) || ' inspected'",
        ref="coalesce(t.ref, 'Ofsted provider outcomes at ' || t.period)",
    )
    out.append(f"""
    SELECT t.area, 'strengths', NULL, 'types:' || t.super_group,
           {
        _fmt(
            s["types_all_good"],
            {
                "group": "any_value(g.title)",
                "types": "string_agg(t.title, ' and ' ORDER BY t.row_order)",
            },
        )
    },
           2.5 + count(*) / 10.0, list({tev} ORDER BY t.row_order)
    FROM {base} t JOIN {base} g ON g.area = t.area AND g.indicator = t.super_group
    WHERE t.block = 'provider_type' AND t.n >= 1 AND t.go = 100 AND coalesce(g.go, 0) < {strong}
    GROUP BY t.area, t.super_group""")
    out.append(f"""
    SELECT t.area, 'areas_for_improvement', NULL, 'inadequate:' || t.indicator,
           {
        _fmt(
            s["type_inadequate"],
            {
                "group": "g.title",
                "n_inadequate": "CAST(CAST(t.n_inadequate AS BIGINT) AS VARCHAR)",
                "n": "CAST(CAST(t.n AS BIGINT) AS VARCHAR)",
                "type": "t.title",
            },
        )
    },
           2.5 + t.n_inadequate / 10.0, [{tev}]
    FROM {base} t JOIN {base} g ON g.area = t.area AND g.indicator = t.super_group
    WHERE t.block = 'provider_type' AND t.n_inadequate >= 1""")
    return out


def _education_items(rs: RuleSet, s: dict) -> list[str]:
    comp = "england"
    ev = _detail(
        ind="a.indicator",
        title="a.title",
        measure="a.measure",
        period="a.period",
        display="a.display",
        cdisplay="c.display",
        judgement="'compared with ' || c.geography",
        ref="coalesce(a.seed_ref, 'education data')",
    )
    name = _q(COMPARATOR_NAMES[comp])
    return [
        f"""
    SELECT a.area, 'strengths', NULL, 'edu-trend:' || a.indicator,
           {
            _fmt(
                s["education_faster"],
                {
                    "title": "a.title",
                    "imp": "a.display",
                    "value": "v.display",
                    "period": "a.period",
                    "comparator": name,
                    "cimp": "c.display",
                },
            )
        },
           1 + least(1, (a.value - c.value) / greatest(abs(c.value), 1)), [{ev}]
    FROM {PROFILE} a
    JOIN {
            PROFILE
        } c ON c.area = a.area AND c.indicator = a.indicator AND c.measure_id = a.measure_id
         AND c.period = a.period AND c.geography = '{comp}'
    JOIN {PROFILE} v ON v.area = a.area AND v.indicator = a.indicator AND v.measure_id = 'value'
         AND v.period = a.period AND v.geography = 'area'
    WHERE a.block = 'education' AND a.geography = 'area' AND a.measure_id = 'four_year_improvement'
      AND a.value > c.value""",
        f"""
    SELECT a.area, 'areas_for_improvement', NULL, 'edu-level:' || a.indicator,
           {
            _fmt(
                s["education_below"],
                {
                    "title": "a.title",
                    "value": "a.display",
                    "period": "a.period",
                    "comparator": name,
                    "cvalue": "c.display",
                },
            )
        },
           1 + least(1, (c.value - a.value) / greatest(abs(c.value), 1)), [{ev}]
    FROM {PROFILE} a
    JOIN {PROFILE} c ON c.area = a.area AND c.indicator = a.indicator AND c.measure_id = 'value'
         AND c.period = a.period AND c.geography = '{comp}'
    JOIN (SELECT area, indicator, max(period) AS period FROM {PROFILE}
          WHERE block = 'education' AND measure_id = 'value' AND geography = 'area' AND value IS NOT NULL GROUP BY ALL) l
         ON l.area = a.area AND l.indicator = a.indicator AND l.period = a.period
    WHERE a.block = 'education' AND a.geography = 'area' AND a.measure_id = 'value' AND a.value < c.value""",
    ]


def _inspection_items(rs: RuleSet, s: dict, year: int) -> list[str]:
    ev = _detail(
        ind="i.framework",
        title="i.inspection",
        measure="i.aspect",
        period="i.date_text",
        display="i.outcome",
        judgement="CAST(i.grade AS VARCHAR)",
        ref="i.ref",
    )
    # the latest judgement of each kind published by the assessment date (older ones are history)
    keep = f"i.current AND coalesce(i.year, {year}) >= {rs.years[0]}"
    priority = "lower(coalesce(i.aspect, '')) LIKE '%priority%'"
    args = {
        "inspection": "i.inspection",
        "date": "coalesce(i.date_text, '')",
        "aspect": "lower(coalesce(i.aspect, 'the service'))",
        "outcome": "lower(i.outcome)",
        "adequate": "CAST(i.adequate_or_better AS VARCHAR)",
        "conducted": "CAST(i.conducted AS VARCHAR)",
    }
    return [
        f"""
    SELECT i.area, 'strengths', NULL, 'inspection:' || coalesce(i.judgement, '') || ':' || CAST(i.row_order AS VARCHAR)
             || ':' || i.inspection,
           CASE WHEN {priority} THEN {_fmt(s["inspection_no_priority"], args)}
                WHEN i.conducted IS NOT NULL THEN {_fmt(s["scr_all_adequate"], args)}
                ELSE {_fmt(s["inspection_good"], args)} END,
           2 + CASE WHEN i.grade = 1 THEN 0.5 ELSE 0 END, [{ev}]
    FROM {INSPECTIONS} i
    WHERE ({keep}) AND ((i.grade IS NOT NULL AND i.grade <= 2 AND NOT {priority})
                        OR ({priority} AND i.outcome = 'No')
                        OR (i.conducted > 0 AND i.adequate_or_better = i.conducted))""",
        f"""
    SELECT i.area, 'areas_for_improvement', NULL, 'inspection:' || coalesce(i.judgement, '') || ':'
             || CAST(i.row_order AS VARCHAR) || ':' || i.inspection,
           CASE WHEN {priority} THEN {_fmt(s["inspection_priority"], args)} ELSE {_fmt(s["inspection_weak"], args)} END,
           2 + coalesce(i.grade, 3) / 10.0, [{ev}]
    FROM {INSPECTIONS} i
    WHERE ({keep}) AND ((i.grade IS NOT NULL AND i.grade >= 3 AND NOT {priority}) OR ({priority} AND i.outcome = 'Yes'))""",
    ]


def _figure_items(rs: RuleSet, s: dict) -> list[str]:
    sel = rs.letter.indicators or {}
    comp = rs.letter.comparator
    cv, cd, gap = (
        ("sn_value", "sn_display", "gap_sn")
        if comp == "statistical_neighbours"
        else ("england_value", "england_display", "gap_england")
    )
    margin = rs.letter.margin_percent / 100.0
    conds = []
    if sel.get("codes"):
        conds.append(f"f.indicator IN ({', '.join(_q(c) for c in sel['codes'])})")
    if sel.get("select"):
        from cspa.assessment.evidence import _selected_codes

        conds.append(f"f.indicator IN {in_list(_selected_codes(sel['select']))}")
    if not conds:
        return []
    where = (
        "(" + " OR ".join(conds) + f") AND {polarity_judged('f.polarity')} AND f.{cv} IS NOT NULL"
    )
    ev = _detail(
        ind="f.indicator",
        title="f.title",
        measure="f.measure_label",
        period="f.period_label",
        display="f.display",
        cdisplay=f"f.{cd}",
        judgement=f"{_q(COMPARATOR_NAMES[comp])} || ': ' || "
        f"CASE WHEN f.{gap} > 0 THEN 'better' ELSE 'worse' END",
        ref="f.ref",
    )
    title = (
        "f.title || CASE WHEN f.measure <> 'value' THEN ' (' || f.measure_label || ')' ELSE '' END"
    )
    trend = (
        "CASE WHEN f.progress = 'improved' THEN ', an improvement on ' || f.prev_display || ' in ' || f.prev_period "
        "WHEN f.progress = 'worsened' THEN ', worse than ' || f.prev_display || ' in ' || f.prev_period ELSE '' END"
    )
    args = {
        "title": title,
        "display": "f.display",
        "period": "f.period_label",
        "comparator": _q(COMPARATOR_NAMES[comp]),
        "cdisplay": f"f.{cd}",
        "trend": trend,
    }
    return [
        f"""
    SELECT f.area, 'strengths', f.outcome, 'figure:' || f.indicator || ':' || f.measure,
           {_fmt(s["figure_better"], args)}, least(f.{gap}, 1.0), [{ev}]
    FROM {FIGURES} f WHERE {where} AND f.{gap} > {margin}""",
        f"""
    SELECT f.area, 'areas_for_improvement', f.outcome, 'figure:' || f.indicator || ':' || f.measure,
           {_fmt(s["figure_worse"], args)}, least(-f.{gap}, 1.0), [{ev}]
    FROM {FIGURES} f WHERE {where} AND f.{gap} < -{margin}""",
    ]


def draft_items(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> str:
    """Create ``_cspa_letter_items`` (after :func:`cspa.assessment.rules.propose`): the kept candidates."""
    s = {**SENTENCES}
    parts = []
    if rs.profile is not None and _table_exists(con, PROFILE):
        parts += _profile_items(rs, s) + _education_items(rs, s)
    if _table_exists(con, INSPECTIONS):
        parts += _inspection_items(rs, s, year)
    if _table_exists(con, FIGURES):
        parts += _figure_items(rs, s)
    cols = "area, section, outcome, key, text, score, evidence"
    body = " UNION ALL ".join(f"SELECT * FROM ({p}) t({cols})" for p in parts)
    by = "area, section, outcome" if rs.letter.sections_by_outcome else "area, section"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {ITEMS} AS
        SELECT *, row_number() OVER (PARTITION BY {by} ORDER BY score DESC, key) AS item_order
        FROM ({body}) WHERE text IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY {by} ORDER BY score DESC, key) <= {int(rs.letter.max_items)}""")
    return ITEMS


def items_for(con: duckdb.DuckDBPyConnection, area: str) -> dict[str, list[dict]]:
    """The drafted items of one area, per section, in order."""
    rel = con.sql(
        f"SELECT * FROM {ITEMS} WHERE area = {_q(area)} ORDER BY section, outcome NULLS FIRST, item_order"
    )
    cols = rel.columns
    out: dict[str, list[dict]] = {"strengths": [], "areas_for_improvement": []}
    for r in rel.fetchall():
        d = dict(zip(cols, r, strict=True))
        out.setdefault(d["section"], []).append(
            {
                "key": d["key"],
                "text": d["text"],
                "outcome": d["outcome"],
                "evidence": d["evidence"] or [],
            }
        )
    return out
