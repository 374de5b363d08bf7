"""The performance profile as relations, for every authority at once (SQL over the store).

Seed 003 (the Luton profile of 3 August 2011) prints four blocks; :func:`build_profile` makes
each one a temporary table of the connection (never written to the store):

* ``_cspa_profile`` (inspection outcomes and the education overview), one row per printed
  figure: ``area, block, indicator, title, row_order, super_group, measure_id, measure (the
  printed column), col_order, period, geography, value, display, numerator, denominator,
  status, source, basis, seed_ref, quartile``.

  - Provider rows: counts of providers judged outstanding / good / third point / inadequate;
    ``Number inspected`` is their sum and every percentage is count / number inspected x 100,
    computed from the unrounded counts and printed by the engine's one formatter
    (:func:`cspa.engine.formatting.display_sql`: half away from zero, so 1/8 prints 13, 003:L25).
    A super-group's counts are the sums over its member provider types (the catalogue's
    ``formula.measures`` for profile2011, 003:L50-57; the rule set's ``super_group`` for the
    Ofsted data). Comparators (Ofsted data): England and statistical neighbours pool the counts
    (sum of counts / sum of inspected, the engine's ``pooled`` method); the quartile of the
    authority's % good or outstanding among authorities is type-7 with high good, like
    :func:`cspa.engine.distribution.ranks_and_quartiles`.
  - Education rows: the values by year (measure ``Trend``, 003:L71), ``1 Year Improvement``
    (latest - previous year) and ``4 Year Improvement`` (latest - the measure's ``base_period``,
    else the year three before: 2010 - 2007 at 003:L72) computed from the stored, unrounded
    values (so seed 003's NAT improvements, published from unrounded data, do not all reproduce
    from the printed 1-dp values). For current data the values, statistical-neighbour means,
    England figures and quartiles come from :func:`cspa.engine.run.compute`.

* ``_cspa_inspections``: the inspection judgements published by the assessment date, the latest of
  each kind current and older ones history (:mod:`cspa.assessment.inspections`): seed 003's
  safeguarding block (003:L59-67), Ofsted's LA inspection history 2009-2023 and ILACS to 31 March 2025.
* ``_cspa_history``: the assessment history (003:L81-85) or the overall effectiveness grades.
"""

from __future__ import annotations

import duckdb

from cspa.assessment.inspections import INSPECTIONS, build_inspections, inspections_sql
from cspa.assessment.ruleset import Profile, RuleSet
from cspa.catalogue.areas import ENGLAND
from cspa.engine.formatting import display_sql
from cspa.store.sql import literal
from cspa.store.sql import string as _q

# Printed-column measure -> (numerator expression over the counts, col_order)
_MEASURES = {
    "number_inspected": ("n1 + n2 + n3 + n4", 1),
    "pct_outstanding": ("n1", 2),
    "pct_good": ("n2", 3),
    "pct_satisfactory": ("n3", 4),
    "pct_inadequate": ("n4", 5),
    "pct_good_or_outstanding": ("n1 + n2", 6),
}
PROFILE = "_cspa_profile"
HISTORY = "_cspa_history"


def _lit(v) -> str:
    return literal(v, double=False)


def _values(rows: list[tuple], cols: list[str]) -> str:
    body = ", ".join("(" + ", ".join(_lit(v) for v in r) + ")" for r in rows)
    return f"(SELECT * FROM (VALUES {body}) t({', '.join(cols)}))"


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
        > 0
    )


def population(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> str:
    """SQL of the authorities a rule set assesses in ``year`` (``area`` column): those of an era's
    list (``era: "2008"`` or ``"2025"``), or (``era: as_at``) those that existed on the assessment's
    date, by the areas' lifetimes: 152 from April 2009 to March 2019, before the Dorset,
    Northamptonshire, Cumbria and other reorganisations."""
    era = str(rs.population.get("era", "2025"))
    if era == "as_at":
        day = f"DATE '{rs.as_at(year)}'"
        return (
            "(SELECT code AS area FROM area WHERE type = 'la' "
            f"AND coalesce(exists_from <= {day}, TRUE) AND coalesce(exists_until >= {day}, TRUE))"
        )
    col = "in_2008" if era == "2008" else "in_2025"
    return f"(SELECT code AS area FROM area WHERE type = 'la' AND {col})"


# ------------------------------------------------------------------------------------ counts


def _counts_catalogue(con, p: Profile) -> str:
    """Per area, provider type and super-group: the four counts (profile2011 observations)."""
    types = _values(
        [(c, i + 1) for i, c in enumerate(p.provider_types)], ["indicator", "row_order"]
    )
    sgs = _values([(c, i + 1) for i, c in enumerate(p.super_groups)], ["indicator", "row_order"])
    return f"""
    WITH pt AS {types}, sg AS {sgs},
    obs AS (
        SELECT o.area, o.indicator,
               sum(o.value) FILTER (WHERE o.measure = 'n_outstanding') AS n1,
               sum(o.value) FILTER (WHERE o.measure = 'n_good') AS n2,
               sum(o.value) FILTER (WHERE o.measure = 'n_satisfactory') AS n3,
               sum(o.value) FILTER (WHERE o.measure = 'n_inadequate') AS n4,
               min(o.seed_ref) AS seed_ref, any_value(o.vintage) AS vintage
        FROM observation_current o JOIN pt ON pt.indicator = o.indicator
        WHERE o.statistic = 'value' AND o.period_label = {_q(p.period)}
        GROUP BY ALL
    ),
    members AS (   -- the catalogue's super-group formula: sum over member indicators (003:L50)
        SELECT i.code AS sg, unnest(CAST(json_extract(i.definition_json, '$.formula.measures') AS VARCHAR[])) AS member,
               list_max(CAST(json_extract(i.definition_json, '$.seed_lines') AS INTEGER[])) AS line
        FROM indicator i JOIN sg ON sg.indicator = i.code
    ),
    sg_of AS (SELECT member, any_value(sg) AS sg FROM members GROUP BY 1)
    SELECT obs.area, 'area' AS geography, 'provider_type' AS block, obs.indicator, pt.row_order, sg_of.sg AS super_group,
           obs.n1, obs.n2, obs.n3, obs.n4, obs.seed_ref, obs.vintage
    FROM obs JOIN pt USING (indicator) LEFT JOIN sg_of ON sg_of.member = obs.indicator
    UNION ALL
    SELECT obs.area, 'area', 'super_group', m.sg, sg.row_order, NULL,
           sum(obs.n1), sum(obs.n2), sum(obs.n3), sum(obs.n4),
           split_part(min(obs.seed_ref), ':', 1) || ':L' || any_value(m.line), any_value(obs.vintage)
    FROM obs JOIN members m ON m.member = obs.indicator JOIN sg ON sg.indicator = m.sg
    GROUP BY obs.area, m.sg, sg.row_order
    """


def _counts_ofsted(con, p: Profile, rs: RuleSet, year: int) -> str:
    """Per area, provider type and super-group: counts from Ofsted's provider-level outcomes, with
    England and statistical-neighbour pools."""
    rows = []
    for i, t in enumerate(p.provider_types):
        for pt in t.provision_types:
            for sec in t.sectors or [None]:
                rows.append((t.id, i + 1, t.super_group, pt, sec))
    types = _values(rows, ["indicator", "row_order", "super_group", "provision_type", "sector"])
    sgs = _values([(g.id, i + 1) for i, g in enumerate(p.super_groups)], ["indicator", "row_order"])
    grp = rs.neighbour_group
    pop = population(con, rs, year)
    return f"""
    WITH pt AS {types}, sg AS {sgs},
    prov AS (
        SELECT p.la_code AS area, pt.indicator, pt.row_order, pt.super_group, p.overall_grade, p.vintage
        FROM inspection_provider p JOIN pt ON pt.provision_type = p.provision_type
             AND (pt.sector IS NULL OR pt.sector = p.sector)
        WHERE p.la_code IS NOT NULL AND p.overall_grade IS NOT NULL
    ),
    by_type AS (   -- every authority has a row for every type (0 inspected prints as 0)
        SELECT a.area, t.indicator, t.row_order, t.super_group,
               count(prov.overall_grade) FILTER (WHERE prov.overall_grade = 1) AS n1,
               count(prov.overall_grade) FILTER (WHERE prov.overall_grade = 2) AS n2,
               count(prov.overall_grade) FILTER (WHERE prov.overall_grade = 3) AS n3,
               count(prov.overall_grade) FILTER (WHERE prov.overall_grade = 4) AS n4,
               any_value(prov.vintage) AS vintage
        FROM {pop} a CROSS JOIN (SELECT DISTINCT indicator, row_order, super_group FROM pt) t
        LEFT JOIN prov ON prov.area = a.area AND prov.indicator = t.indicator
        GROUP BY ALL
    ),
    both_levels AS (
        SELECT area, 'provider_type' AS block, indicator, row_order, super_group, n1, n2, n3, n4, vintage FROM by_type
        UNION ALL
        SELECT b.area, 'super_group', sg.indicator, sg.row_order, NULL, sum(n1), sum(n2), sum(n3), sum(n4), any_value(vintage)
        FROM by_type b JOIN sg ON sg.indicator = b.super_group GROUP BY ALL
    ),
    eng AS (
        SELECT block, indicator, row_order, super_group, sum(n1) n1, sum(n2) n2, sum(n3) n3, sum(n4) n4,
               any_value(vintage) vintage
        FROM both_levels GROUP BY ALL
    ),
    sn AS (
        SELECT n.la_code AS area, b.block, b.indicator, b.row_order, b.super_group,
               sum(b.n1) n1, sum(b.n2) n2, sum(b.n3) n3, sum(b.n4) n4, any_value(b.vintage) vintage
        FROM neighbour n JOIN both_levels b ON b.area = n.neighbour_code
        WHERE n.grp = {_q(grp)} GROUP BY ALL
    )
    SELECT area, 'area' AS geography, block, indicator, row_order, super_group, n1, n2, n3, n4,
           NULL AS seed_ref, vintage FROM both_levels
    UNION ALL
    SELECT a.area, 'england', e.block, e.indicator, e.row_order, e.super_group, e.n1, e.n2, e.n3, e.n4, NULL, e.vintage
    FROM {pop} a CROSS JOIN eng e
    UNION ALL
    SELECT area, 'statistical_neighbours', block, indicator, row_order, super_group, n1, n2, n3, n4, NULL, vintage FROM sn
    """


def _provider_rows(con, rs: RuleSet, counts_sql: str, titles_sql: str) -> str:
    """Every printed provider figure from the counts (one row per column)."""
    p = rs.profile
    cols = _values(
        [
            (c.measure, c.label, _MEASURES[c.measure][1], c.decimals, c.percent_sign, c.zero)
            for c in p.columns
        ],
        ["measure_id", "measure", "col_order", "decimals", "percent_sign", "zero"],
    )
    num_case = (
        "CASE f.measure_id "
        + " ".join(f"WHEN '{m}' THEN {e}" for m, (e, _) in _MEASURES.items())
        + " END"
    )
    value = (
        "CASE WHEN x.measure_id = 'number_inspected' THEN num "
        "WHEN den > 0 THEN 100.0 * num / den END"
    )
    return f"""
    WITH c AS ({counts_sql}), f AS {cols}, t AS {titles_sql},
    x AS (
        SELECT c.*, f.measure_id, f.measure, f.col_order, f.decimals, f.percent_sign, f.zero,
               NULL::BOOLEAN AS thousands, NULL::BOOLEAN AS plus_sign, NULL::VARCHAR AS prefix, NULL::VARCHAR AS suffix,
               CAST({num_case} AS DOUBLE) AS num, CAST(c.n1 + c.n2 + c.n3 + c.n4 AS DOUBLE) AS den
        FROM c CROSS JOIN f
    ),
    v AS (SELECT x.*, {value} AS value FROM x),
    q AS (   -- type-7 quartiles of the authorities' % good or outstanding (high is good)
        SELECT indicator, quantile_cont(value, 0.25) q1, quantile_cont(value, 0.5) q2, quantile_cont(value, 0.75) q3,
               count(*) n_areas
        FROM v WHERE geography = 'area' AND measure_id = 'pct_good_or_outstanding' AND value IS NOT NULL
        GROUP BY 1
    )
    SELECT v.area, v.block, v.indicator, t.title, v.row_order, v.super_group, v.measure_id, v.measure, v.col_order,
           {_q(p.period)} AS period, v.geography, v.value,
           CASE WHEN v.zero = 'blank' AND coalesce(v.value, 0) = 0 THEN ''
                ELSE coalesce({display_sql("v.value", "NULL", "v")}, '') END AS display,
           CASE WHEN v.measure_id <> 'number_inspected' THEN v.num END AS numerator,
           CASE WHEN v.measure_id <> 'number_inspected' THEN v.den END AS denominator,
           CAST(NULL AS VARCHAR) AS status,
           CASE WHEN v.geography = 'area' AND v.seed_ref IS NOT NULL AND v.block = 'provider_type' THEN 'input' ELSE 'computed' END AS source,
           CASE WHEN v.measure_id = 'number_inspected'
                THEN 'sum of the counts judged ' || {_q(p.outcome_labels[0].lower())} || ' / ' || {_q(p.outcome_labels[1].lower())}
                     || ' / ' || {_q(p.outcome_labels[2].lower())} || ' / ' || {_q(p.outcome_labels[3].lower())} || ': '
                     || CAST(CAST(v.n1 AS BIGINT) AS VARCHAR) || ' + ' || CAST(CAST(v.n2 AS BIGINT) AS VARCHAR) || ' + '
                     || CAST(CAST(v.n3 AS BIGINT) AS VARCHAR) || ' + ' || CAST(CAST(v.n4 AS BIGINT) AS VARCHAR)
                WHEN v.den > 0 THEN 'percentage: ' || CAST(CAST(v.num AS BIGINT) AS VARCHAR) || ' / '
                     || CAST(CAST(v.den AS BIGINT) AS VARCHAR) || ' x 100 = ' || format('{{:.2f}}', v.value)
                     || ', rounded half up'
                ELSE 'none inspected' END
             || CASE v.block WHEN 'super_group' THEN ' (counts summed over the member provider types)' ELSE '' END
             || CASE v.geography WHEN 'england' THEN ' (England: counts pooled over all authorities)'
                                 WHEN 'statistical_neighbours' THEN ' (statistical neighbours: counts pooled)' ELSE '' END
             || CASE WHEN v.seed_ref IS NOT NULL THEN ' [' || v.seed_ref || ']'
                     WHEN v.vintage IS NOT NULL THEN ' (' || v.vintage || ')' ELSE '' END AS basis,
           v.seed_ref,
           CASE WHEN v.geography = 'area' AND v.measure_id = 'pct_good_or_outstanding' AND v.value IS NOT NULL
                     AND q.n_areas >= 4
                THEN CASE WHEN v.value <= q.q1 THEN 4 WHEN v.value <= q.q2 THEN 3 WHEN v.value <= q.q3 THEN 2 ELSE 1 END
           END AS quartile
    FROM v JOIN t USING (indicator) LEFT JOIN q USING (indicator)
    """


# ------------------------------------------------------------------------------------ education


def _education_rows(con, rs: RuleSet, year: int) -> str:
    """Education overview: values by year, 1-year and 4-year improvements, LA and comparators."""
    p = rs.profile
    eds = _values(
        [(e.indicator, i + 1, e.title) for i, e in enumerate(p.education)],
        ["indicator", "row_order", "title_override"],
    )
    codes = ", ".join(_q(e.indicator) for e in p.education)
    cutoff = f"DATE '{year}-{rs.data_cutoff}'"
    pop = population(con, rs, year)
    if p.kind == "catalogue":
        # seed 003: the LA and NAT rows as stored (the profile prints no neighbours)
        src = f"""
        SELECT o.area AS own, CASE WHEN o.area = '{ENGLAND}' THEN 'england' ELSE 'area' END AS geography,
               o.indicator, o.measure, o.period_label, o.period_end, o.value, o.status, o.seed_ref, o.vintage,
               CAST(NULL AS INTEGER) AS quartile
        FROM observation_current o
        WHERE o.indicator IN ({codes}) AND o.measure = 'value' AND o.statistic = 'value' AND o.period_end <= {cutoff}
        """
        per_area = """
        SELECT a.area, s.* EXCLUDE (own) FROM src s
        JOIN (SELECT DISTINCT own AS area FROM src WHERE geography = 'area') a
          ON s.own = a.area OR s.geography = 'england'
        """
    else:
        from cspa.engine.run import compute
        from cspa.engine.selection import Selection

        rel = compute(
            con,
            Selection(
                indicators=[e.indicator for e in p.education], neighbour_group=rs.neighbour_group
            ),
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _cspa_profile_engine AS SELECT * FROM ({rel.sql_query()}) "
            "WHERE for_area IS NULL AND measure = 'value'"
        )
        src = f"""
        SELECT area AS own, area_type, indicator, measure, period_label, period_end, value, status, seed_ref, vintage,
               quartile
        FROM _cspa_profile_engine WHERE period_end <= {cutoff}
        """
        per_area = f"""
        SELECT a.area,
               CASE WHEN s.own = a.area THEN 'area' WHEN s.own = '{ENGLAND}' THEN 'england'
                    ELSE 'statistical_neighbours' END AS geography,
               s.indicator, s.measure, s.period_label, s.period_end, s.value, s.status, s.seed_ref, s.vintage,
               CASE WHEN s.own = a.area THEN s.quartile END AS quartile
        FROM {pop} a JOIN src s ON s.own = a.area OR s.own = '{ENGLAND}' OR s.own = 'SN:{rs.neighbour_group}:' || a.area
        """
    n = p.education_years
    return f"""
    WITH src AS ({src}), e AS {eds}, pa AS ({per_area}),
    latest AS (   -- the latest year any geography of the area has, per indicator
        SELECT area, indicator, max(year(period_end)) AS y FROM pa WHERE value IS NOT NULL AND geography = 'area'
        GROUP BY ALL
    ),
    shown AS (
        SELECT pa.*, l.y AS latest_year, year(pa.period_end) AS y FROM pa JOIN latest l USING (area, indicator)
        WHERE year(pa.period_end) > l.y - {n} AND year(pa.period_end) <= l.y
    ),
    base AS (     -- base year of the 4-year improvement: the measure's base_period, else three years before
        SELECT e.indicator, m.base_period FROM e
        LEFT JOIN measure m ON m.indicator = e.indicator AND m.measure = 'four_year_improvement'
    ),
    imp AS (
        SELECT s.area, s.geography, s.indicator, s.latest_year,
               max(s.value) FILTER (WHERE s.y = s.latest_year) AS v_last,
               max(s.value) FILTER (WHERE s.y = s.latest_year - 1) AS v_prev,
               max(s.value) FILTER (WHERE CASE WHEN b.base_period IS NOT NULL THEN s.period_label = b.base_period
                                               ELSE s.y = s.latest_year - {n - 1} END) AS v_base,
               max(s.period_label) FILTER (WHERE s.y = s.latest_year) AS p_last,
               max(s.period_label) FILTER (WHERE s.y = s.latest_year - 1) AS p_prev,
               max(s.period_label) FILTER (WHERE CASE WHEN b.base_period IS NOT NULL THEN s.period_label = b.base_period
                                                      ELSE s.y = s.latest_year - {n - 1} END) AS p_base,
               min(s.seed_ref) AS seed_ref, any_value(s.vintage) AS vintage
        FROM shown s JOIN base b USING (indicator) GROUP BY ALL
    ),
    erows AS (
        SELECT s.area, s.indicator, 'value' AS measure_id, 'Trend' AS measure, 1 AS col_order, s.period_label AS period,
               s.period_end, s.geography, s.value, s.status, s.seed_ref, s.vintage, s.quartile,
               CASE WHEN s.geography = 'statistical_neighbours' THEN 'computed' ELSE 'input' END AS source,
               CASE WHEN s.geography = 'statistical_neighbours' THEN 'mean of the statistical neighbours'' figures (engine)'
                    ELSE 'figure as supplied' END
                 || CASE WHEN s.seed_ref IS NOT NULL THEN ' [' || s.seed_ref || ']' ELSE ' (' || coalesce(s.vintage, '') || ')' END AS basis,
               'v' AS kind
        FROM shown s
        UNION ALL
        SELECT area, indicator, 'one_year_improvement', '1 Year Improvement', 2, p_last, NULL, geography,
               v_last - v_prev, CASE WHEN v_last IS NULL OR v_prev IS NULL THEN '..' END, seed_ref, vintage, NULL, 'computed',
               'change: ' || coalesce(format('{{:g}}', v_last), '?') || ' (' || coalesce(p_last, '?') || ') - '
                 || coalesce(format('{{:g}}', v_prev), '?') || ' (' || coalesce(p_prev, '?') || '), from the unrounded values',
               'i'
        FROM imp
        UNION ALL
        SELECT area, indicator, 'four_year_improvement', '{n} Year Improvement', 3, p_last, NULL, geography,
               v_last - v_base, CASE WHEN v_last IS NULL OR v_base IS NULL THEN '..' END, seed_ref, vintage, NULL, 'computed',
               'change: ' || coalesce(format('{{:g}}', v_last), '?') || ' (' || coalesce(p_last, '?') || ') - '
                 || coalesce(format('{{:g}}', v_base), '?') || ' (' || coalesce(p_base, '?') || '), from the unrounded values',
               'i'
        FROM imp
    ),
    fmt AS (     -- values print as the engine prints the measure; improvements with the profile's decimals
        SELECT r.*, CASE WHEN r.kind = 'v' THEN m.decimals ELSE {p.improvement_decimals} END AS decimals,
               CASE WHEN r.kind = 'v' THEN m.percent_sign ELSE FALSE END AS percent_sign,
               CASE WHEN r.kind = 'v' THEN m.thousands END AS thousands, NULL::BOOLEAN AS plus_sign,
               CASE WHEN r.kind = 'v' THEN m.prefix END AS prefix, CASE WHEN r.kind = 'v' THEN m.suffix END AS suffix
        FROM erows r LEFT JOIN measure m ON m.indicator = r.indicator AND m.measure = 'value'
    )
    SELECT r.area, 'education' AS block, r.indicator, coalesce(e.title_override, i.title) AS title, e.row_order,
           NULL AS super_group, r.measure_id, r.measure, r.col_order, r.period, r.geography, r.value,
           coalesce({display_sql("r.value", "r.status", "r")}, '') AS display,
           CAST(NULL AS DOUBLE) AS numerator, CAST(NULL AS DOUBLE) AS denominator, r.status, r.source,
           r.basis, r.seed_ref, r.quartile
    FROM fmt r JOIN e USING (indicator) JOIN indicator i ON i.code = r.indicator
    """


# ------------------------------------------------------------------------------------ blocks


def _titles(con, rs: RuleSet) -> str:
    p = rs.profile
    if p.kind == "catalogue":
        codes = ", ".join(_q(c) for c in [*p.provider_types, *p.super_groups])
        return f"(SELECT code AS indicator, title FROM indicator WHERE code IN ({codes}))"
    return _values(
        [(t.id, t.title) for t in p.provider_types] + [(g.id, g.title) for g in p.super_groups],
        ["indicator", "title"],
    )


def history_sql(con, rs: RuleSet, year: int) -> str:
    """The assessment history printed with the profile, per area (inspections: those published by the
    assessment date)."""
    h = rs.profile.history if rs.profile else None
    if h is not None and h.kind == "record" and _table_exists(con, "assessment_record"):
        doc = f" AND document = {_q(h.document)}" if h.document else ""
        return f"""(SELECT area, year, CAST(year AS VARCHAR) AS period, judgement, grade, coalesce(printed, label) AS label,
                    seed_ref AS ref FROM assessment_record WHERE indicator = {_q(h.indicator)}{doc})"""
    return f"""(SELECT area, year, date_text AS period, 'Overall effectiveness (' || inspection || ')' AS judgement,
                grade, outcome AS label, ref FROM {inspections_sql(con, rs.as_at(year))} i
                -- the authority's overall effectiveness (SIF, ILACS): not the LSCB review's, nor the
                -- child protection or looked after children inspections' own overall judgements
                WHERE list_contains(judgement_areas, 'overall_effectiveness'))"""


def build_profile(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> dict[str, str]:
    """Create the profile's temporary tables for every area; returns their names."""
    if rs.profile is None:
        from cspa.errors import CspaError

        raise CspaError(
            f"the rule set {rs.id} ({rs.title}) defines no performance profile for {year}"
        )
    p = rs.profile
    if p.kind == "catalogue":
        counts = _counts_catalogue(con, p)
    else:
        if not _table_exists(con, "inspection_provider"):
            from cspa.errors import CspaError

            raise CspaError(
                "the database has no Ofsted provider outcomes (inspection_provider): run `cspa demo` "
                "or load the real data first"
            )
        counts = _counts_ofsted(con, p, rs, year)
    prov = _provider_rows(con, rs, counts, _titles(con, rs))
    edu = _education_rows(con, rs, year)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {PROFILE} AS SELECT * FROM ({prov}) UNION ALL BY NAME SELECT * FROM ({edu})"
    )
    build_inspections(con, rs.as_at(year))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {HISTORY} AS SELECT * FROM {history_sql(con, rs, year)}"
    )
    return {"profile": PROFILE, "inspections": INSPECTIONS, "history": HISTORY}
