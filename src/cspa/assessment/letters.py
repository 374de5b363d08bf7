"""Draft a letter section by section, as the seed letters are written: for each outcome or judgement
area a short paragraph, then its key strengths and areas for improvement, chosen by salience; every
sentence keeps its evidence.

A rule set's ``letter.sections`` (:class:`cspa.assessment.ruleset.Section`) say what each part of
the letter speaks of: the topics the seed letter names (an indicator's measure and the words for it,
with the seed line), the catalogue outcome whose other figures may be added, the areas of practice
whose current inspection judgement it reports, and the profile rows (inspected providers). From
these :func:`draft_items` builds, for every authority at once (SQL over ``_cspa_figures``,
``_cspa_inspections`` and ``_cspa_profile``), the temporary table ``_cspa_letter_facts``: one
candidate per authority, section and figure, inspection judgement or profile row, with

* ``sentence``: what the paragraph says (the figure, its period, the movement from the period
  before, and how it compares with statistical neighbours and England, in words), and ``item``:
  the short form for the lists of strengths and areas for improvement;
* ``direction``: ``strength``, ``improvement`` or ``context``. A figure is a strength when it is
  better than the letter's comparator (statistical neighbours, else England) or improved while no
  worse than it, and it did not decline; **a decline is never a strength**. It is an area for
  improvement when it is worse than the comparator, or declined while no better. Figures whose
  polarity has no better direction (``none``, ``middle``: counts, rates of referral, spending) are
  context: the paragraph reports them, the lists do not. An inspection judgement good or better
  (and not down on the previous one) is a strength, requires improvement or worse an area for
  improvement; a group of providers is a strength when at least ``strong_share`` % are good or
  outstanding, an area for improvement below ``weak_share`` %.
* ``salience`` (0 to 1), the documented score that orders the lists::

      salience = centrality x (0.45 gap + 0.15 significance + 0.15 band + 0.25 trend)

  - centrality: the topic's ``weight`` (1 for a topic the seed letter names), 0.5 for another
    figure of the section's outcome (its headline measure only: sub-measures, changes and
    variations are a topic's to name);
    inspection judgements and groups of providers 1 (the 2011 guidance weighs inspection
    outcomes most, 004:L35), single provider types 0.6;
  - gap: the mean of the relative gaps to statistical neighbours and England that exist,
    counting fully from 25% (for an inspection grade its distance from the middle of the scale;
    for providers the distance in points from England's share, else from 65%, full from 25);
  - significance: 1 where the engine finds the difference from England significant;
  - band: how far the figure's PAF band is from the middle band, ``|band - 3| / 2``;
  - trend: 1 where the latest change goes the list's way (improved for a strength, declined for
    an area for improvement), 0.5 where unchanged or unknown, 0 against it.

The paragraph of a section gives its inspection and provider facts, then every topic that has a
figure (in the rule set's order), then the ``paragraph_extra`` most salient other figures; the
lists keep the ``max_items`` most salient strengths and areas for improvement of the section.
Each fact has a stable ``key`` (so an inspector's edit in moderation follows it).
"""

from __future__ import annotations

import json

import duckdb

from cspa.assessment.evidence import FIGURES, _detail
from cspa.assessment.inspections import AREA_LABELS, INSPECTIONS, JUDGEMENT_PHRASES
from cspa.assessment.profile import PROFILE, _q, _table_exists
from cspa.assessment.ruleset import RuleSet, Section, Theme, Topic
from cspa.engine.polarity import compare_sql, sign_sql

FACTS = "_cspa_letter_facts"
ITEMS = "_cspa_letter_items"
COMPARATOR_NAMES = {"england": "England", "statistical_neighbours": "statistical neighbours"}
_FACT_COLS = "area, section, key, kind, para_order, sentence, item, direction, salience, trend, evidence, parts"
# the salience weights (see the module docstring)
W_GAP, W_SIG, W_BAND, W_TREND = 0.45, 0.15, 0.15, 0.25
SALIENCE_NOTE = (
    f"Strengths and areas for improvement are chosen by salience = centrality x ({W_GAP} gap + {W_SIG} "
    f"significance + {W_BAND} band + {W_TREND} trend): centrality 1 for a topic the framework's letter names "
    "(0.5 for another headline figure of the outcome); gap, the mean relative gap to statistical "
    "neighbours and England, counting fully from 25%; significance, 1 where the difference from England is "
    "significant; band, how far the PAF band is from the middle; trend, 1 where the latest change goes the "
    "list's way. A decline is never a strength."
)


def _values(rows: list[tuple], cols: str) -> str:
    if not rows:
        return f"(SELECT * FROM (VALUES ({', '.join('NULL' for _ in cols.split(','))})) t({cols}) WHERE FALSE)"
    body = ", ".join(
        "("
        + ", ".join("NULL" if v is None else _q(v) if isinstance(v, str) else repr(v) for v in r)
        + ")"
        for r in rows
    )
    return f"(SELECT * FROM (VALUES {body}) t({cols}))"


def _cap(expr: str) -> str:
    """SQL: the text with its first letter in capitals (a sentence start)."""
    return f"(upper(left({expr}, 1)) || substr({expr}, 2))"


def _quantifier(rs: RuleSet, share: str) -> str:
    qs = sorted(rs.letter.quantifiers, key=lambda q: -float(q["from"]))
    if not qs:
        return f"format('{{:.0f}}%', {share})"
    return (
        "CASE "
        + " ".join(f"WHEN {share} >= {float(q['from'])} - 1e-9 THEN {_q(q['word'])}" for q in qs)
        + " END"
    )


def _score(centrality: str, gap: str, sig: str, band: str, trend: str) -> str:
    return (
        f"(({centrality}) * ({W_GAP} * least(1.0, coalesce({gap}, 0)) + {W_SIG} * coalesce({sig}, 0) "
        f"+ {W_BAND} * coalesce({band}, 0) + {W_TREND} * coalesce({trend}, 0.5)))"
    )


# ------------------------------------------------------------------------------------ figures


def _topics(rs: RuleSet) -> str:
    rows = []
    for sec in rs.letter.sections:
        for i, t in enumerate(sec.topics):
            rows.append(
                (
                    sec.id,
                    t.indicator,
                    t.measure,
                    t.phrase,
                    t.seed_ref,
                    float(t.weight),
                    t.polarity,
                    bool(t.long_change),
                    i,
                )
            )
    return _values(
        rows,
        "section, indicator, measure, phrase, seed_ref, weight, polarity, long_change, topic_order",
    )


def _section_outcomes(rs: RuleSet) -> str:
    rows = [(s.id, s.outcome, s.framework or rs.framework) for s in rs.letter.sections if s.outcome]
    return _values(rows, "section, outcome, framework")


def _figure_facts(rs: RuleSet) -> str:
    """Candidates from the engine's figures: each section's topics and the other figures of its outcome."""
    comp = rs.letter.comparator
    margin = rs.letter.margin_percent / 100.0
    own, own_display = (
        ("f.sn_value", "f.sn_display")
        if comp == "statistical_neighbours"
        else ("f.england_value", "f.england_display")
    )

    def tol(ref: str) -> str:  # the letter's margin, in the figure's units
        return f"abs({ref}) * {margin}"

    pol = "coalesce(f.topic_polarity, f.polarity)"
    # better / worse / same under the polarity: the engine's one rule (engine.polarity)
    vs_sn = compare_sql("f.value", "f.sn_value", pol, tol("f.sn_value"))
    vs_eng = compare_sql("f.value", "f.england_value", pol, tol("f.england_value"))
    vs_own = compare_sql("f.value", own, pol, tol(own))
    trend = (
        f"CASE WHEN f.prev_value IS NOT NULL THEN {compare_sql('f.value', 'f.prev_value', pol)} END"
    )
    moved = (
        "CASE WHEN f.prev_value IS NULL THEN ' was ' WHEN f.value > f.prev_value THEN ' rose to ' "
        "WHEN f.value < f.prev_value THEN ' fell to ' ELSE ' was unchanged at ' END || f.display || ' in ' "
        "|| f.period_label || CASE WHEN f.prev_value IS NULL OR f.value = f.prev_value THEN '' "
        "ELSE ' (from ' || f.prev_display || ' in ' || f.prev_period "
        "|| CASE f.trend WHEN 'better' THEN ', an improvement' WHEN 'worse' THEN ', a decline' ELSE '' END "
        "|| ')' END"
    )

    def words(vs: str, ref: str) -> str:
        # a judged polarity says better / worse / in line with; otherwise the figure is context: higher / lower
        return (
            f"CASE WHEN {ref} IS NULL THEN NULL WHEN {vs} = 'better' THEN 'better than' "
            f"WHEN {vs} = 'worse' THEN 'worse than' WHEN {vs} = 'same' THEN 'in line with' "
            f"WHEN abs(f.value - {ref}) <= {tol(ref)} THEN 'in line with' "
            f"WHEN f.value > {ref} THEN 'higher than' ELSE 'lower than' END"
        )

    w_sn, w_eng = words("f.vs_sn", "f.sn_value"), words("f.vs_eng", "f.england_value")
    versus = (
        f"CASE WHEN ({w_sn}) = ({w_eng}) THEN ', ' || ({w_sn}) || ' statistical neighbours (' || f.sn_display "
        f"|| ') and England (' || f.england_display || ')' "
        f"WHEN ({w_sn}) IS NOT NULL AND ({w_eng}) IS NOT NULL THEN ', ' || ({w_sn}) || ' statistical neighbours ("
        f"' || f.sn_display || ') and ' || ({w_eng}) || ' England (' || f.england_display || ')' "
        f"WHEN ({w_sn}) IS NOT NULL THEN ', ' || ({w_sn}) || ' statistical neighbours (' || f.sn_display || ')' "
        f"WHEN ({w_eng}) IS NOT NULL THEN ', ' || ({w_eng}) || ' England (' || f.england_display || ')' "
        f"ELSE '' END"
    )
    long_own, long_eng = "(f.value - f.base_value)", "(f.england_value - f.england_base_value)"
    points = "CASE WHEN f.unit = 'percent' THEN ' percentage points' ELSE '' END"
    long_txt = (
        f"CASE WHEN f.long_change AND f.base_value IS NOT NULL THEN ' Since ' || f.base_period || ' it has '"
        f" || CASE WHEN {long_own} >= 0 THEN 'risen' ELSE 'fallen' END || ' by ' "
        f"|| format('{{:.1f}}', abs({long_own})) || {points} || CASE WHEN f.england_base_value IS NOT NULL THEN "
        f"', against ' || CASE WHEN {long_eng} >= 0 THEN 'a rise' ELSE 'a fall' END || ' of ' "
        f"|| format('{{:.1f}}', abs({long_eng})) || ' for England' ELSE '' END || '.' ELSE '' END"
    )
    catch_up = (
        f"(f.long_change AND f.base_value IS NOT NULL AND f.england_base_value IS NOT NULL "
        f"AND {long_own} * f.sign_of > 0 AND ({long_own} - {long_eng}) * f.sign_of > 0)"
    )
    strength = (
        f"(coalesce(f.trend, 'same') <> 'worse' AND (f.vs_own = 'better' "
        f"OR (coalesce(f.vs_own, 'same') = 'same' AND f.trend = 'better') OR {catch_up}))"
    )
    improvement = (
        f"((f.vs_own = 'worse' AND NOT {catch_up}) "
        f"OR (f.trend = 'worse' AND coalesce(f.vs_own, 'same') <> 'better'))"
    )
    # an indicator's headline measure: 'value', else the first the catalogue lists (sub-measures, changes and
    # variations are a topic's to name)
    headline = (
        "(f.measure = coalesce((SELECT CASE WHEN list_contains(ms, 'value') THEN 'value' ELSE ms[1] END "
        "FROM (SELECT json_extract_string(i.definition_json, '$.measures[*].id') AS ms FROM indicator i "
        "WHERE i.code = f.indicator)), 'value'))"
    )
    # the size of the gaps, whichever way they go (the direction is the polarity's, decided above)
    g_sn = "abs(f.value - f.sn_value) / nullif(abs(f.sn_value), 0)"
    g_eng = "abs(f.value - f.england_value) / nullif(abs(f.england_value), 0)"
    gap = f"(coalesce({g_sn}, {g_eng}) + coalesce({g_eng}, {g_sn})) / 2 / 0.25"
    name = "coalesce(f.short_title, f.title)"
    phrase = f"coalesce(f.phrase, lower(left({name}, 1)) || substr({name}, 2))"  # another figure: its headline
    sig = "CASE WHEN lower(coalesce(f.significance, '')) IN ('high', 'low', 'better', 'worse') THEN 1 ELSE 0 END"
    band = "CASE WHEN f.band BETWEEN 1 AND 5 THEN abs(f.band - 3) / 2.0 END"
    trend_fit = (
        "CASE WHEN f.trend IS NULL OR f.trend = 'same' THEN 0.5 "
        "WHEN (f.direction = 'strength') = (f.trend = 'better') THEN 1 ELSE 0 END"
    )
    ev = _detail(
        ind="f.indicator",
        title="f.title",
        measure="f.measure_label",
        period="f.period_label",
        display="f.display",
        cdisplay=f"{_q(COMPARATOR_NAMES[comp])} || ': ' || coalesce({own_display}, 'none')"
        " || coalesce('; England: ' || f.england_display, '')",
        judgement="f.direction || coalesce('; ' || f.trend_word, '')",
        ref="f.ref",
    )
    topics, outcomes = _topics(rs), _section_outcomes(rs)

    def pct(d: str) -> str:  # a percentage reads as one: the seeds' PAF figures print '82' for 82%
        return (
            f"CASE WHEN f.unit = 'percent' AND NOT ends_with({d}, '%') AND TRY_CAST({d} AS DOUBLE) IS NOT NULL "
            f"THEN {d} || '%' ELSE {d} END"
        )

    return f"""
    WITH cand AS (
        SELECT s.section, t.phrase, t.seed_ref AS topic_ref, t.weight, t.polarity AS topic_polarity,
               coalesce(t.long_change, FALSE) AS long_change, t.topic_order,
               -- judged again below, under the topic's polarity; a count is not compared with other areas' counts
               f.* EXCLUDE (vs_sn, vs_england) REPLACE (
                   CASE WHEN f.unit = 'count' THEN NULL ELSE f.sn_value END AS sn_value,
                   CASE WHEN f.unit = 'count' THEN NULL ELSE f.england_value END AS england_value,
                   {pct("f.display")} AS display, {pct("f.prev_display")} AS prev_display,
                   {pct("f.sn_display")} AS sn_display, {pct("f.england_display")} AS england_display)
        FROM {FIGURES} f
        CROSS JOIN (SELECT section FROM {topics} UNION SELECT section FROM {outcomes}) s
        LEFT JOIN {topics} t ON t.section = s.section AND t.indicator = f.indicator AND t.measure = f.measure
        LEFT JOIN {outcomes} o ON o.section = s.section AND o.outcome = f.outcome AND o.framework = f.framework
        WHERE t.indicator IS NOT NULL OR (o.outcome IS NOT NULL AND {headline})
    ),
    c AS (
        SELECT f.*, {vs_sn} AS vs_sn, {vs_eng} AS vs_eng, {vs_own} AS vs_own, {trend} AS trend,
               {sign_sql(pol)} AS sign_of,
               CASE WHEN f.topic_order IS NOT NULL THEN f.weight ELSE 0.5 END AS centrality
        FROM cand f
    ),
    d AS (
        SELECT f.*, CASE WHEN f.sign_of IS NULL THEN 'context' WHEN {strength} THEN 'strength'
                         WHEN {improvement} THEN 'improvement' ELSE 'context' END AS direction,
               coalesce({catch_up}, FALSE) AS catch_up,
               CASE f.trend WHEN 'better' THEN 'improved on ' || f.prev_period WHEN 'worse' THEN 'declined from '
                    || f.prev_period WHEN 'same' THEN 'unchanged from ' || f.prev_period END AS trend_word
        FROM c f
    )
    SELECT f.area, f.section, 'figure:' || f.indicator || ':' || f.measure, 'figure',
           CASE WHEN f.topic_order IS NOT NULL THEN 200 + f.topic_order END,
           {_cap(phrase)} || ({moved}) || ({versus}) || '.' || ({long_txt}),
           {_cap(phrase)} || ': ' || f.display || ' in ' || f.period_label
             || CASE WHEN f.vs_own IN ('better', 'worse') THEN ', ' || f.vs_own || ' than '
                     || {_q(COMPARATOR_NAMES[comp])} || ' (' || {own_display} || ')' ELSE '' END
             || CASE f.trend WHEN 'better' THEN ', improved from ' || f.prev_display WHEN 'worse' THEN ', down from '
                     || f.prev_display ELSE '' END
             || CASE WHEN f.catch_up THEN ', rising faster than England since ' || f.base_period ELSE '' END || '.',
           f.direction, {_score("f.centrality", gap, sig, band, trend_fit)},
           CASE f.trend WHEN 'better' THEN 'improved' WHEN 'worse' THEN 'worsened' WHEN 'same' THEN 'same' END,
           [{ev}],
           -- what a theme's sentence says of this figure (cspa.assessment.letters.theme_sentences)
           to_json(struct_pack(display := f.display, period := f.period_label, value := f.value,
                               prev_display := f.prev_display, prev_period := f.prev_period,
                               prev_value := f.prev_value, sn_words := ({w_sn}), sn_display := f.sn_display,
                               eng_words := ({w_eng}), eng_display := f.england_display))::VARCHAR
    FROM d f
    """


# ------------------------------------------------------------------------------------ inspections


def _inspection_facts(rs: RuleSet, year: int) -> str:
    """The current judgement of each area of practice a section reports, with the one it replaced."""
    rows = [(s.id, a) for s in rs.letter.sections for a in s.areas]
    if not rows:
        return ""
    labels = _values(list(AREA_LABELS.items()), "ja, label")
    phrases = _values(
        [(f, j, t) for (f, j), t in JUDGEMENT_PHRASES.items()], "framework, judgement, phrase"
    )
    ev = _detail(
        ind="i.framework",
        title="i.inspection",
        measure="i.aspect",
        period="i.date_text",
        display="i.outcome",
        judgement="'current (published ' || i.published_text || ')'",
        ref="i.ref",
    )
    pev = _detail(
        ind="p.framework",
        title="p.inspection",
        measure="p.aspect",
        period="p.date_text",
        display="p.outcome",
        judgement="'history: superseded ' || strftime(p.superseded_on, '%d/%m/%Y')",
        ref="p.ref",
    )
    trend = (
        "CASE WHEN p.grade IS NULL THEN NULL WHEN i.grade < p.grade THEN 'better' "
        "WHEN i.grade > p.grade THEN 'worse' ELSE 'same' END"
    )
    return f"""
    WITH want AS {_values(rows, "section, ja")},
    cur AS (
        SELECT w.section, w.ja, i.* FROM {INSPECTIONS} i, unnest(i.judgement_areas) u(ja)
        JOIN want w ON w.ja = u.ja WHERE i.current AND i.grade IS NOT NULL
    ),
    prev AS (   -- the judgement the current one replaced in the same area
        SELECT u.ja, h.* FROM {INSPECTIONS} h, unnest(h.judgement_areas) u(ja)
        WHERE NOT h.current AND h.grade IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY h.area, u.ja ORDER BY h.published DESC, h.row_order DESC) = 1
    ),
    x0 AS (
        SELECT i.*, p.grade AS p_grade, p.outcome AS p_outcome, p.published_text AS p_published,
               p.framework AS p_framework, {trend} AS trend, [{ev}] || CASE WHEN p.grade IS NOT NULL THEN [{pev}]
               ELSE [] END AS evidence, coalesce(l.label, replace(i.ja, '_', ' ')) AS area_label, ph.phrase
        FROM cur i LEFT JOIN prev p ON p.area = i.area AND p.ja = i.ja
        LEFT JOIN {labels} l ON l.ja = i.ja
        LEFT JOIN {phrases} ph ON ph.framework = i.framework AND ph.judgement = i.judgement
    ),
    x AS (   -- what the judgement is called: its own name where the area's would misname it
        SELECT *, coalesce(phrase, area_label
               || CASE WHEN aspect <> replace(area_label, 'the ', '') THEN ' (judged with ' || replace(replace(aspect,
                       area_label || ' and ', ''), ' and ' || area_label, '') || ')' ELSE '' END) AS subject
        FROM x0
    )
    SELECT area, section, 'inspection:' || ja || ':' || framework || ':' || published_text, 'inspection', 10,
           'At the ' || framework || ' inspection ' || CASE WHEN event_date IS NOT NULL AND event_date <> published
                THEN 'of ' || date_text || ' (published ' || published_text || ')' ELSE 'published ' || published_text END
             || ', ' || subject || ' was judged ' || lower(outcome) || '.'
             || CASE WHEN p_grade = grade THEN ' It was judged the same at the inspection before (' || p_framework
                     || ', published ' || p_published || ').'
                     WHEN p_grade IS NOT NULL THEN ' Before that it was judged ' || lower(p_outcome) || ' ('
                     || p_framework || ', published ' || p_published || ').' ELSE '' END,
           {_cap("coalesce(phrase, area_label)")} || ': ' || lower(outcome) || ' at the ' || framework || ' inspection published '
             || published_text || CASE trend WHEN 'better' THEN ', up from ' || lower(p_outcome)
                                             WHEN 'worse' THEN ', down from ' || lower(p_outcome) ELSE '' END || '.',
           CASE WHEN grade <= 2 AND coalesce(trend, 'same') <> 'worse' THEN 'strength'
                WHEN grade >= 3 THEN 'improvement' ELSE 'context' END,
           {_score("1.0", "abs(grade - 2.5) / 1.5", "0", "0", "CASE WHEN trend IS NULL OR trend = 'same' THEN 0.5 WHEN (grade <= 2) = (trend = 'better') THEN 1 ELSE 0 END")},
           CASE trend WHEN 'better' THEN 'improved' WHEN 'worse' THEN 'worsened' WHEN 'same' THEN 'same' END,
           evidence, NULL::VARCHAR
    FROM x
    """


def _seed_event_facts(rs: RuleSet, year: int) -> str:
    """Seed 003's safeguarding block (current events) for the sections that report it."""
    secs = [s.id for s in rs.letter.sections if s.seed_events]
    if not secs:
        return ""
    ev = _detail(
        ind="i.framework",
        title="i.inspection",
        measure="i.aspect",
        period="i.date_text",
        display="i.outcome",
        judgement="CAST(i.grade AS VARCHAR)",
        ref="i.ref",
    )
    priority = "lower(coalesce(i.aspect, '')) LIKE '%priority%'"
    text = (
        f"CASE WHEN {priority} THEN i.inspection || ' (' || i.date_text || '): ' || CASE i.outcome WHEN 'No' "
        "THEN 'no areas for priority action.' ELSE 'areas for priority action were found.' END "
        "WHEN i.conducted IS NOT NULL THEN i.inspection || ' (' || i.date_text || '): '"
        " || CAST(i.adequate_or_better AS VARCHAR) || ' of ' || CAST(i.conducted AS VARCHAR) || '.' "
        "WHEN i.grade IS NOT NULL THEN i.inspection || ' (' || i.date_text || ')' || coalesce(', ' || "
        "lower(i.aspect), '') || ': judged ' || lower(i.outcome) || '.' END"
    )
    good = (
        f"(({priority}) AND i.outcome = 'No') OR (i.conducted > 0 AND i.adequate_or_better = i.conducted) "
        f"OR (NOT {priority} AND i.grade <= 2)"
    )
    bad = (
        f"(({priority}) AND i.outcome = 'Yes') OR (i.conducted > i.adequate_or_better) "
        f"OR (NOT {priority} AND i.grade >= 3)"
    )
    return f"""
    SELECT i.area, s.section, 'seed:' || CAST(i.row_order AS VARCHAR) || ':' || i.inspection, 'inspection',
           10 + i.row_order, {text}, {text},
           CASE WHEN {good} THEN 'strength' WHEN {bad} THEN 'improvement' ELSE 'context' END,
           {_score("1.0", f"CASE WHEN {good} OR {bad} THEN 1.0 ELSE 0 END", "0", "0", "0.5")}, NULL, [{ev}],
           NULL::VARCHAR
    FROM {INSPECTIONS} i CROSS JOIN {_values([(x,) for x in secs], "section")} s
    WHERE i.framework = 'seed' AND i.current AND coalesce(i.year, {year}) >= {rs.years[0]}
      AND ({text}) IS NOT NULL
    """


# ------------------------------------------------------------------------------------ providers


def _profile_facts(rs: RuleSet) -> str:
    """Groups of inspected providers (super-groups) and single provider types a section reports."""
    rows = [(s.id, code) for s in rs.letter.sections for code in s.profile]
    if not rows:
        return ""
    strong, weak = rs.letter.strong_share, rs.letter.weak_share
    base = f"""(SELECT area, indicator, any_value(title) AS title, any_value(block) AS block,
                 any_value(row_order) AS row_order, any_value(super_group) AS super_group, any_value(period) AS period,
                 max(value) FILTER (WHERE measure_id = 'number_inspected' AND geography = 'area') AS n,
                 max(value) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'area') AS go,
                 max(display) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'area') AS go_display,
                 max(value) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'england') AS go_eng,
                 max(display) FILTER (WHERE measure_id = 'pct_good_or_outstanding' AND geography = 'england')
                   AS go_eng_display,
                 max(numerator) FILTER (WHERE measure_id = 'pct_inadequate' AND geography = 'area') AS n_inadequate,
                 min(seed_ref) AS ref
          FROM {PROFILE} WHERE block IN ('provider_type', 'super_group') GROUP BY area, indicator)"""
    ev = _detail(
        ind="p.indicator",
        title="p.title",
        measure="'% good or outstanding'",
        period="p.period",
        display="p.go_display",
        cdisplay="coalesce('England ' || p.go_eng_display, '')",
        judgement="CAST(CAST(p.n AS BIGINT) AS VARCHAR) || ' inspected'",
        ref="coalesce(p.ref, 'Ofsted provider outcomes at ' || p.period)",
    )
    n = "CAST(CAST(p.n AS BIGINT) AS VARCHAR)"
    eng = "CASE WHEN p.go_eng IS NOT NULL THEN ' (England ' || p.go_eng_display || ')' ELSE '' END"
    n_go = "CAST(CAST(round(p.n * p.go / 100) AS BIGINT) AS VARCHAR)"
    gap = "abs(p.go - coalesce(p.go_eng, 65)) / 25.0"
    quant = f"lower({_quantifier(rs, 'p.go')})"
    return f"""
    WITH want AS {_values(rows, "section, code")},
    p AS (   -- a provider type named by the section, or a member of a super-group it names (once per section)
        SELECT w.section, b.*, bool_or(w.code = b.indicator) OVER (PARTITION BY w.section, b.area, b.indicator) AS named
        FROM {base} b JOIN want w ON w.code = b.indicator OR w.code = b.super_group
        WHERE b.n >= 1
        QUALIFY row_number() OVER (PARTITION BY w.section, b.area, b.indicator ORDER BY w.code = b.indicator DESC) = 1
    )
    SELECT p.area, p.section, CASE p.block WHEN 'super_group' THEN 'sg:' ELSE 'type:' END || p.indicator, 'profile',
           100 + p.row_order + CASE p.block WHEN 'super_group' THEN 0 ELSE 50 END,
           CASE WHEN p.block = 'super_group' THEN p.title || ': ' || {quant} || ' of the ' || {n} || ' inspected ('
                     || p.go_display || ') are good or outstanding' || {eng} || '.'
                ELSE p.title || ': ' || CASE WHEN p.n = 1 THEN 'the one inspected is' || CASE WHEN p.go = 100
                     THEN '' ELSE ' not' END WHEN p.go = 100 THEN 'all ' || {n} || ' inspected are'
                     ELSE {n_go} || ' of the ' || {n} || ' inspected (' || p.go_display || ') are' END
                     || ' good or outstanding' || CASE WHEN p.n_inadequate >= 1 THEN '; '
                     || CAST(CAST(p.n_inadequate AS BIGINT) AS VARCHAR) || ' judged inadequate' ELSE '' END || '.'
           END,
           CASE WHEN p.block = 'super_group' THEN p.title || ': ' || {quant} || ' of ' || {n}
                     || ' inspected good or outstanding (' || p.go_display || ')' || {eng} || '.'
                WHEN p.n_inadequate >= 1 THEN p.title || ': ' || CAST(CAST(p.n_inadequate AS BIGINT) AS VARCHAR)
                     || ' of ' || {n} || ' inspected judged inadequate.'
                WHEN p.go = 100 AND p.n = 1 THEN p.title || ': the one inspected is good or outstanding.'
                WHEN p.go = 100 THEN p.title || ': all ' || {n} || ' inspected good or outstanding.'
                ELSE p.title || ': ' || {n_go} || ' of ' || {n} || ' inspected good or outstanding ('
                     || p.go_display || ').' END,
           CASE WHEN p.block = 'super_group' AND p.n >= 2 AND p.go >= {strong} THEN 'strength'
                WHEN p.block = 'super_group' AND p.n >= 2 AND p.go < {weak} THEN 'improvement'
                WHEN p.block = 'provider_type' AND p.n_inadequate >= 1 THEN 'improvement'
                WHEN p.block = 'provider_type' AND (p.n >= 2 OR p.named) AND p.go = 100 THEN 'strength'
                ELSE 'context' END,
           {_score("CASE p.block WHEN 'super_group' THEN 1.0 ELSE 0.6 END", gap, "0", "0", "0.5")},
           NULL, [{ev}], NULL::VARCHAR
    FROM p
    WHERE p.block = 'super_group' OR p.named OR p.n_inadequate >= 1 OR (p.go = 100 AND p.n >= 2)
    """


# ------------------------------------------------------------------------------------ drafting


def draft_items(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> str:
    """Create ``_cspa_letter_facts`` and ``_cspa_letter_items`` (after :func:`cspa.assessment.rules.propose`)."""
    parts = []
    if _table_exists(con, FIGURES) and any(s.topics or s.outcome for s in rs.letter.sections):
        parts.append(_figure_facts(rs))
    if _table_exists(con, INSPECTIONS):
        parts += [p for p in (_inspection_facts(rs, year), _seed_event_facts(rs, year)) if p]
    # a letter does not cite provider outcomes dated after it (RuleSet.later_provider_snapshot)
    if (
        rs.profile is not None
        and _table_exists(con, PROFILE)
        and not rs.later_provider_snapshot(year)
    ):
        parts += [p for p in (_profile_facts(rs),) if p]
    empty = (
        f"SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::INTEGER, NULL::VARCHAR, "
        f"NULL::VARCHAR, NULL::VARCHAR, NULL::DOUBLE, NULL::VARCHAR, [{_detail()}][1:0], NULL::VARCHAR "
        "WHERE FALSE"
    )
    body = " UNION ALL ".join(f"SELECT * FROM ({p}) t({_FACT_COLS})" for p in [empty, *parts])
    extra = int(rs.letter.paragraph_extra)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {FACTS} AS
        WITH f AS (SELECT * FROM ({body}) t({_FACT_COLS}) WHERE sentence IS NOT NULL),
        ranked AS (
            SELECT f.*, row_number() OVER (PARTITION BY area, section, para_order IS NULL
                                           ORDER BY salience DESC, key) AS extra_rank
            FROM f
        )
        SELECT * EXCLUDE (extra_rank),
               para_order IS NOT NULL OR (direction <> 'context' AND extra_rank <= {extra}) AS in_paragraph,
               coalesce(para_order, 1000 + extra_rank) AS sentence_order
        FROM ranked""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {ITEMS} AS
        SELECT area, CASE direction WHEN 'strength' THEN 'strengths' ELSE 'areas_for_improvement' END AS section,
               section AS outcome, key, item AS text, salience AS score, trend, evidence,
               row_number() OVER (PARTITION BY area, section, direction ORDER BY salience DESC, key) AS item_order
        FROM {FACTS} WHERE direction IN ('strength', 'improvement')
        QUALIFY item_order <= {int(rs.letter.max_items)}""")
    return ITEMS


def items_for(con: duckdb.DuckDBPyConnection, area: str) -> dict[str, list[dict]]:
    """The drafted items of one area, per list, in the letter's section order then salience."""
    rel = con.sql(
        f"SELECT * FROM {ITEMS} WHERE area = {_q(area)} ORDER BY section, outcome, item_order"
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
                "trend": d["trend"],
                "salience": round(d["score"], 3),
                "evidence": d["evidence"] or [],
            }
        )
    return out


def sentences_for(con: duckdb.DuckDBPyConnection, area: str) -> dict[str, list[dict]]:
    """The paragraph of each section of one area: its sentences in order, each with its evidence."""
    rel = con.sql(
        f"SELECT * FROM {FACTS} WHERE area = {_q(area)} AND in_paragraph "
        "ORDER BY section, sentence_order, key"
    )
    cols = rel.columns
    out: dict[str, list[dict]] = {}
    for r in rel.fetchall():
        d = dict(zip(cols, r, strict=True))
        out.setdefault(d["section"], []).append(
            {
                "key": d["key"],
                "text": d["sentence"],
                "kind": d["kind"],
                "direction": d["direction"],
                "trend": d["trend"],
                "salience": round(d["salience"], 3),
                "evidence": d["evidence"] or [],
                "parts": json.loads(d["parts"]) if d["parts"] else None,
            }
        )
    return out


_VERSUS = {
    "statistical neighbours": ("sn_words", "sn_display"),
    "England": ("eng_words", "eng_display"),
}


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _versus(members: list[tuple[Topic, dict]], name: str) -> tuple[str | None, str | None]:
    """How a theme's figures compare with one comparator, and the one word for all of them if there is
    one: 'in line with England (84.78%, 81.71%)' where all compare alike, else by topic ('in line with
    England in reading (84.78%), worse than England in mathematics (90.67%)')."""
    words_key, display_key = _VERSUS[name]
    groups: dict[str, list[tuple[str, str]]] = {}
    for t, s in members:
        w, d = s["parts"].get(words_key), s["parts"].get(display_key)
        if w and d:
            groups.setdefault(w, []).append((t.label or t.short or t.indicator, d))
    if not groups:
        return None, None
    if len(groups) == 1 and len(next(iter(groups.values()))) == len(members):
        w, xs = next(iter(groups.items()))
        return f"{w} {name} ({', '.join(d for _, d in xs)})", w
    return ", ".join(
        f"{w} {name} in {_join([f'{short} ({d})' for short, d in xs])}" for w, xs in groups.items()
    ), None


def _by_topic(members: list[tuple[Topic, dict]]) -> str:
    """Each topic's comparison with both comparators ('core assessments better than statistical neighbours
    (75%) and England (74%)'), for a theme whose topics compare differently with each."""
    out = []
    for t, s in members:
        p = s["parts"]
        sn = (
            f"{p['sn_words']} statistical neighbours ({p['sn_display']})"
            if p.get("sn_words")
            else None
        )
        eng = f"{p['eng_words']} England ({p['eng_display']})" if p.get("eng_words") else None
        if sn and eng and p["sn_words"] == p["eng_words"]:
            eng = f"England ({p['eng_display']})"
        said = " and ".join(x for x in (sn, eng) if x)
        if said:
            out.append(f"{t.label or t.short} {said}")
    return "; ".join(out)


def _theme_sentence(theme: Theme, members: list[tuple[Topic, dict]]) -> str:
    parts = [s["parts"] for _, s in members]
    periods = {p["period"] for p in parts}
    prev_periods = {p["prev_period"] for p in parts if p.get("prev_display")}
    clauses = []
    for i, (t, s) in enumerate(members):
        p = s["parts"]
        c = theme.clause.format(display=p["display"], short=t.short)
        if len(periods) > 1:
            c += f" in {p['period']}"
        if p.get("prev_display") and p.get("value") is not None and p.get("prev_value") is not None:
            when = f" in {p['prev_period']}" if i == 0 or len(prev_periods) > 1 else ""
            if p["value"] == p["prev_value"]:
                c += f" (unchanged{when.replace(' in ', ' on ')})"
            else:
                c += f" ({'up' if p['value'] > p['prev_value'] else 'down'} from {p['prev_display']}{when})"
        clauses.append(c)
    text = theme.opening.format(period=f" in {next(iter(periods))}" if len(periods) == 1 else "")
    text += " " + _join(clauses)
    (sn, w_sn), (eng, w_eng) = (
        _versus(members, "statistical neighbours"),
        _versus(members, "England"),
    )
    if (
        sn and eng and w_sn and w_sn == w_eng
    ):  # 'in line with statistical neighbours (..) and England (..)'
        text += f": {sn} and England {eng.split(' England ', 1)[1]}"
    elif sn and eng and not w_sn and not w_eng:  # each topic its own comparison
        text += ": " + _by_topic(members)
    elif sn or eng:
        vs = [v for v in (sn, eng) if v]
        text += ": " + ("; ".join(vs) if not (w_sn and w_eng) else " and ".join(vs))
    return text + "."


def theme_sentences(section: Section, sentences: list[dict]) -> list[dict]:
    """A section's sentences with the topics of each theme said together, as the seeds say them (one
    sentence for the Key Stage 1 results, 002:L77), where two or more of its topics have a figure. The
    theme's sentence takes the place of its first topic, the highest salience of its topics, every topic's
    evidence, and lists the topics it covers; a topic alone keeps its own sentence."""
    by_key = {f"figure:{t.indicator}:{t.measure}": t for t in section.topics if t.theme}
    members: dict[str, list[tuple[Topic, dict]]] = {}
    for s in sentences:
        t = by_key.get(s["key"])
        if t is not None and s.get("parts"):
            members.setdefault(t.theme or "", []).append((t, s))
    order = {f"figure:{t.indicator}:{t.measure}": i for i, t in enumerate(section.topics)}
    out: list[dict] = []
    done: set[str] = set()
    for s in sentences:
        t = by_key.get(s["key"])
        group = members.get(t.theme or "", []) if t is not None else []
        if len(group) < 2:
            out.append(s)
            continue
        if t.theme in done:
            continue
        done.add(t.theme or "")
        group.sort(key=lambda m: order[m[1]["key"]])
        theme = next(x for x in section.themes if x.id == t.theme)
        out.append(
            {
                "key": f"theme:{section.id}:{theme.id}",
                "text": _theme_sentence(theme, group),
                "kind": "figure",
                "direction": "context",
                "trend": None,
                "salience": max(m[1]["salience"] for m in group),
                "evidence": [e for _, m in group for e in m["evidence"]],
                "covers": [m[1]["key"] for m in group],
            }
        )
    return out


def section_of(rs: RuleSet, sid: str) -> Section | None:
    return next((s for s in rs.letter.sections if s.id == sid), None)


__all__ = [
    "FACTS",
    "ITEMS",
    "SALIENCE_NOTE",
    "draft_items",
    "items_for",
    "section_of",
    "sentences_for",
    "theme_sentences",
]
