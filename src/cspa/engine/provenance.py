"""Provenance lines and display strings, composed from a judgement's structured columns.

Every figure and judgement carries one line saying how it was made (method, thresholds,
comparator group, number of comparators used, data vintage). The engine stores what the line
is made of (formula and inputs, ``n_used`` of ``n_members``, quartile cut-offs, the previous
period's value) and composes the sentence when a row is read: a national build judges over a
million figures, and writing a sentence per figure would cost more than judging them, while a
report reads only its own authority's rows. Lines for the rare judgements (bands, lights,
quartile positions, trends) are made by their families directly.

:func:`present_sql` is the one projection every reader uses (the ``judgement`` view, and the
relation :func:`cspa.engine.run.compute` returns), so the words are the same everywhere.
"""

from __future__ import annotations

from cspa.engine.compared import significance_basis_sql
from cspa.engine.distribution import MIN_RANKED_AREAS, POSITION_LABELS
from cspa.engine.formatting import display_sql
from cspa.engine.keys import BITS, figure_key
from cspa.engine.polarity import orient_sql
from cspa.engine.progress import judged_sql, progress_sql
from cspa.engine.trends import trend_basis_sql
from cspa.engine.values import COMPARATOR_TYPES
from cspa.store.sql import string

_PROGRESS, _IMPROVING = progress_sql("c", "m")
# the printed label of ``position_quartile`` (a CASE: indexing a list literal rebuilds the list per row)
_POS = (
    "CASE c.position_quartile "
    + " ".join(f"WHEN {i} THEN {string(p)}" for i, p in enumerate(POSITION_LABELS, 1))
    + " END"
)


def _g(x: str) -> str:
    return f"format('{{:g}}', {x})"


def count_sql(x: str) -> str:
    """SQL: a count as people write it (``1,268,505``; ``{:g}`` would print ``1.2685e+06``)."""
    return f"CASE WHEN {x} = round({x}) AND abs({x}) < 1e15 THEN format('{{:,}}', CAST({x} AS BIGINT)) ELSE {_g(x)} END"


def used_of_sql(n_used: str, n_members: str, members: str) -> str:
    """``9 of 10 <members> (1 missing or suppressed)``: how many members an aggregate used."""
    return (
        f"{n_used} || ' of ' || {n_members} || ' ' || {members}"
        f" || CASE WHEN {n_used} < {n_members} THEN ' (' || ({n_members} - {n_used})"
        f" || ' missing or suppressed)' ELSE '' END"
    )


def vintage_sql(vintage: str) -> str:
    """`` (<vintage>)``, or nothing where the figures have no vintage."""
    return f"coalesce(' (' || {vintage} || ')', '')"


def sn_basis_sql(
    method: str, n_used: str, n_members: str, grp: str, vintage: str | None = None
) -> str:
    """``median of 9 of 10 dfe_2025 neighbours (1 missing or suppressed) (<vintage>)`` (000:L3956):
    the method, the group and its version, how many members were used, the members' data vintage."""
    members = f"{grp} || ' neighbours'"
    line = f"{method} || ' of ' || {used_of_sql(n_used, n_members, members)}"
    return f"{line} || {vintage_sql(vintage)}" if vintage else line


def observed_basis_sql(v: str = "v", m: str = "m", vintage: str = "v.vintage") -> str:
    """How an observed figure was made: its formula and inputs, or its status, and its vintage."""
    vint = vintage_sql(vintage)
    formula = (
        f"{m}.formula_type || ': ' || {count_sql(f'{v}.numerator')} || ' / ' || {count_sql(f'{v}.denominator')}"
        f" || CASE {m}.formula_type WHEN 'percentage' THEN ' x 100' WHEN 'standardised_ratio' THEN ' x 100'"
        f" ELSE coalesce(' x ' || {_g(f'{m}.multiplier')}, '') END"
    )
    return (
        f"CASE WHEN {v}.source = 'computed' THEN {formula} || {vint}"
        f" WHEN {v}.status IS NOT NULL THEN 'status ' || {v}.status || ' as published' || {vint}"
        f" WHEN {v}.published THEN 'published figure' || {vint}"
        f" ELSE 'figure as supplied' || {vint} END"
    )


def distribution_basis_sql(c: str = "c", m: str = "m") -> str:
    """Rank and quartile band: population, polarity and the type-7 cut-offs (methods.md 7.1)."""
    q = " || ' / ' || ".join(_g(f"round({c}.{k}, 4)") for k in ("q1", "q2", "q3"))
    return (
        f"CASE WHEN {c}.n_areas < {MIN_RANKED_AREAS} THEN 'not ranked or banded: ' || {c}.n_areas"
        f" || CASE WHEN {c}.n_areas = 1 THEN ' authority has' ELSE ' authorities have' END"
        f" || ' a figure here, and ranks and quartiles need at least {MIN_RANKED_AREAS}'"
        f" WHEN {c}.n_areas IS NOT NULL THEN 'rank of ' || {c}.n_areas || ' authorities (' || {m}.polarity"
        f" || ' is good, ties share the lowest rank); type-7 quartiles ' || {q}"
        f" || ', a value on a cut point goes to the low-value side' END"
    )


def _no_figure(c: str) -> str:
    """`` (status x)`` or `` (missing)``: why a figure has no value."""
    return f"' (' || coalesce('status ' || {c}.status, 'missing') || ')'"


def progress_basis_sql(c: str = "c", m: str = "m") -> str:
    """Change on the previous period of the same series, under polarity; where the measure has
    progress judged but this figure cannot have it, the reason (no figure, or none the period before)."""
    return (
        f"CASE WHEN {c}.break_basis IS NOT NULL THEN {c}.break_basis"
        f" WHEN {c}.prev_value IS NOT NULL THEN 'vs ' || {c}.prev_label || ': ' || {_g(f'{c}.value')}"
        f" || ' vs ' || {_g(f'{c}.prev_value')} || ' (' || {m}.polarity || ' is good)'"
        f" WHEN NOT {judged_sql(m)} OR {c}.for_area IS NOT NULL THEN NULL"
        f" WHEN {c}.value IS NULL THEN 'no progress judged: no figure this period' || {_no_figure(c)}"
        f" ELSE 'no progress judged: the area has no figure for the period before' END"
    )


def no_rank_basis_sql(c: str = "c", m: str = "m", area_type: str = "a.type") -> str:
    """Why an authority's figure of a ranked measure has no rank or quartile band: it has no value."""
    return (
        f"CASE WHEN {area_type} = 'la' AND ({m}.ranks OR {m}.quartiles) AND {c}.value IS NULL"
        f" AND {c}.for_area IS NULL THEN 'not ranked or banded: no figure' || {_no_figure(c)} END"
    )


#: What the engine's significance means under polarity (high is good, low is good): the one
#: polarity step (engine.polarity) turns higher and lower into better and worse.
SIGNIFICANCE_MEANINGS = {
    "higher": ("better", "worse"),
    "lower": ("worse", "better"),
    "similar": ("similar", "similar"),
}

#: A published significance flag (the seed's 'significant difference vs ...?' columns, 000:L219)
#: as the engine's direction words.
PUBLISHED_FLAGS = {"-": "similar", "high": "higher", "low": "lower"}


def published_direction_sql(flag: str) -> str:
    """SQL: a published flag as ``higher`` / ``lower`` / ``similar`` (NULL for n/a or no flag)."""
    return (
        f"(CASE {flag} "
        + " ".join(f"WHEN {string(k)} THEN {string(v)}" for k, v in PUBLISHED_FLAGS.items())
        + " END)"
    )


def significance_note_sql(c: str = "c") -> str:
    """Where the engine's judgement and the published flag disagree, a short note saying so (the
    report shows the engine's judgement, and the published one beside it)."""
    pub = published_direction_sql(f"{c}.published_significance")
    return (
        f"CASE WHEN {pub} IS NOT NULL AND {c}.significance IS NOT NULL AND {c}.significance <> {pub} "
        f"THEN 'published flag ' || {c}.published_significance || ' (' || {pub} || '), computed ' "
        f"|| {c}.significance || ': ' || CASE WHEN {c}.significance = 'not compared' "
        f"THEN coalesce({c}.significance_reason, 'not compared') "
        f"ELSE 'the publisher''s model is not the engine''s (' || {c}.significance_method || ')' END END"
    )


def present_sql(prefix: str, keys: str = "_cspa_key") -> str:
    """SQL of the judgement relation readers use, over one build's tables (``<prefix>_figure_rows``
    and the family tables, see :mod:`cspa.engine.run`) and its key tables (``<keys>_measure``,
    ``_area``, ``_period``, ``_vintage``)."""
    rare = f"""
        SELECT rid, for_area, traffic_light, light_basis FROM {prefix}_lights"""
    # the rank's line depends only on its cell (measure and period): composed once per cell, not
    # for each of the cell's hundred-odd authorities
    dist = f"""
        SELECT c.cell, {distribution_basis_sql("c", "m")} AS distribution_basis
        FROM (SELECT cell, any_value(n_areas) AS n_areas, any_value(q1) AS q1, any_value(q2) AS q2,
                     any_value(q3) AS q3 FROM {prefix}_ranks GROUP BY cell) c
        JOIN {keys}_measure m ON m.sid = c.cell >> {BITS}"""
    return f"""
    WITH c AS (
        SELECT f.*, CAST(NULL AS VARCHAR) AS for_area,
               b.band, b.band_range, b.band_basis, l.traffic_light, l.light_basis,
               r.rank, r.quartile, r.cell AS rank_cell, r.n_areas AS ranked_areas, r.not_ranked,
               q.position_quartile, q.position_basis,
               p.prev_value, p.prev_label, p.break_basis,
               t.trend, t.trend_sn, {trend_basis_sql("t")} AS trend_basis, rt.recent_trend, rt.recent_trend_basis,
               -- the engine's own judgement; a published flag is shown beside it, never instead
               cs.significance, {significance_basis_sql("cs", "f")} AS significance_basis,
               cs.method AS significance_method,
               cs.level AS significance_level, cs.outer_level AS significance_outer_level,
               cs.both_levels AS significance_both_levels, cs.comparator AS significance_comparator,
               cs.reason AS significance_reason,
               cs2.significance AS significance_group, {significance_basis_sql("cs2", "f")} AS significance_group_basis,
               cs2.comparator AS significance_group_comparator,
               s.published_significance, s.published_significance_benchmark,
               rc.value AS recomputed_value, rc.status AS recomputed_status, rc.n_used AS recomputed_n_used,
               rc.n_members AS recomputed_n_members, rc.basis AS recomputed_line
        FROM {prefix}_figure_rows f
        LEFT JOIN {prefix}_bands b ON b.rid = f.rid
        LEFT JOIN ({rare} WHERE for_area IS NULL) l ON l.rid = f.rid
        LEFT JOIN {prefix}_ranks r ON r.rid = f.rid
        LEFT JOIN {prefix}_position q ON q.rid = f.rid
        LEFT JOIN {prefix}_progress p ON p.rid = f.rid
        LEFT JOIN {prefix}_trend t ON t.rid = f.rid
        LEFT JOIN {prefix}_recent_trend rt ON rt.rid = f.rid
        LEFT JOIN {prefix}_significance s ON s.fk = {figure_key("f.sid", "f.aid", "f.pid")}
        LEFT JOIN {prefix}_recomputed rc ON f.published AND rc.fk = {figure_key("f.sid", "f.aid", "f.pid")}
        LEFT JOIN {prefix}_computed_significance cs ON cs.rid = f.rid AND cs.ord = 1
        LEFT JOIN {prefix}_computed_significance cs2 ON cs2.rid = f.rid AND cs2.ord = 2
        UNION ALL BY NAME
        -- comparator shading: the comparator's figure judged *for* an authority (000:L45)
        SELECT f.*, l.for_area, l.traffic_light, l.light_basis
        FROM ({rare} WHERE for_area IS NOT NULL) l JOIN {prefix}_figure_rows f ON f.rid = l.rid
    )
    SELECT m.indicator, m.measure, a.code AS area, a.type AS area_type, c.for_area, p.period, c.period_label,
           p.period_kind, p.period_start, p.period_end, c.value,
           CASE WHEN c.text IS NOT NULL AND m.unit IN ('category', 'text') THEN c.text
                ELSE {display_sql("c.value", "c.status")} END AS display,
           c.numerator, c.denominator, c.status, c.source,
           CASE WHEN c.for_area IS NOT NULL THEN NULL
                ELSE coalesce(c.basis, CASE WHEN c.n_members IS NOT NULL
                    THEN {sn_basis_sql("m.sn_method", "c.n_used", "c.n_members", "split_part(a.code, ':', 2)", "vk.vintage")}
                    ELSE {observed_basis_sql("c", "m", "vk.vintage")} END) END AS basis,
           c.seed_ref, vk.vintage, c.n_used, c.n_members, c.provisional, c.quality,
           c.band, c.band_range, c.band_basis, c.traffic_light,
           coalesce(c.light_basis, CASE WHEN c.for_area IS NOT NULL THEN NULL
                                        WHEN m.light_rule = 'none' THEN m.no_light_basis
                                        -- an area's own figure that a rule would light, had it a value
                                        WHEN c.value IS NULL AND a.type NOT IN {COMPARATOR_TYPES}
                                        THEN 'no traffic light: no figure' || {_no_figure("c")}
                                        -- a band's colour needs a band; the band line says why there is none
                                        WHEN m.light_rule = 'paf_band' AND c.band IS NULL AND c.band_basis IS NOT NULL
                                        THEN 'no traffic light: no band to take a colour from' END) AS light_basis,
           c.rank,
           -- how many authorities the rank is among ("rank 12 of 152")
           CASE WHEN c.rank IS NOT NULL THEN c.ranked_areas END AS rank_of,
           -- how many authorities share the rank, the figure's own included (ties share the best
           -- rank: "rank 1 of 102" where 30 authorities have no plan lasting two years is shared)
           t.n AS rank_shared,
           c.quartile,
           coalesce(c.not_ranked, d.distribution_basis, {no_rank_basis_sql("c", "m")}) AS distribution_basis,
           {_POS} AS quartile_position,
           c.position_quartile, c.position_basis,
           c.value - c.prev_value AS change, {_PROGRESS} AS progress, {_IMPROVING} AS improving,
           {progress_basis_sql("c", "m")} AS progress_basis,
           c.trend, c.trend_sn, c.trend_basis, c.recent_trend, c.recent_trend_basis,
           c.significance, c.significance_basis, c.significance_method, c.significance_level,
           c.significance_outer_level, c.significance_both_levels, c.significance_comparator,
           c.significance_reason, c.significance_group, c.significance_group_basis,
           c.significance_group_comparator, c.published_significance, c.published_significance_benchmark,
           {orient_sql("c.significance", "m.polarity", SIGNIFICANCE_MEANINGS)} AS significance_meaning,
           {significance_note_sql("c")} AS significance_note,
           c.recomputed_value,
           CASE WHEN c.recomputed_n_used IS NOT NULL THEN {display_sql("c.recomputed_value", "c.recomputed_status")}
                END AS recomputed_display,
           CASE WHEN c.recomputed_n_used IS NOT NULL THEN 'recomputed: ' || coalesce(c.recomputed_line,
                {sn_basis_sql("m.sn_method", "c.recomputed_n_used", "c.recomputed_n_members", "split_part(a.code, ':', 2)")})
                || '; the published figure is shown' END AS recomputed_basis
    FROM c JOIN {keys}_measure m ON m.sid = c.sid JOIN {keys}_area a ON a.aid = c.aid
    JOIN {keys}_period p ON p.pid = c.pid LEFT JOIN {keys}_vintage vk ON vk.vid = c.vid
    LEFT JOIN ({dist}) d ON d.cell = c.rank_cell
    LEFT JOIN (SELECT cell, rank, count(*) AS n FROM {prefix}_ranks WHERE rank IS NOT NULL GROUP BY ALL) t
         ON t.cell = c.rank_cell AND t.rank = c.rank
    """
