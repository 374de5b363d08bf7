"""Values: what each observation's figure is, computed from its inputs by the catalogue's formula.

All areas, indicators and periods are computed in one pass of set-based SQL over the store
(read-only). Output columns of :func:`values`:

``sid, aid, pid, indicator, measure, area, area_type, period, period_label, period_kind, period_start,
period_end, first_year, last_year, value, numerator, denominator, status, text, quality,
provisional, published, source ('computed' | 'input' | 'published'), basis, seed_ref, vintage``.

Formulas (catalogue ``formula.type``; seed lines cite the definitions):

* ``percentage``: numerator / denominator x 100 (e.g. 1003HC, 000:L225);
* ``rate``: numerator / denominator x multiplier (per 1,000 births 1015HC, 000:L389);
* ``ratio``: numerator / denominator x (multiplier or 1);
* ``standardised_ratio``: observed / expected x 100 (1029HC, 000:L413);
* ``change``: the value minus the previous period's value of ``of_measure`` (or, with
  ``base_period``, minus the base period's value: the profile's 4-year improvement) (year-on-year
  columns, e.g. 3002OF 000:L3064-3070), labelled ``yy/yy`` between bare years as printed;
* ``percent_change``: (value - base) / base x 100, where base is ``base_period``'s value
  (2001DT on the 1994-98 average, 000:L876), a ``comparator``'s value (2062YJ), or else the
  previous period's value (5048DE, 000:L5733);
* ``difference``: the value minus the ``comparator``'s value in the same period (1040NT
  "DAT - region difference", 000:L669-676; 4021OF);
* ``sum``: the sum of the listed measures.

No change is computed across a break in the series (catalogue ``breaks``, table ``series_break``):
the figure is ``n/a`` and its basis gives the break's reason (5003OF's tariff change, 000:L5391).

A figure that cannot be computed (a missing or suppressed input) carries the input's status
symbol, never a number.
"""

from __future__ import annotations

import duckdb

from cspa.engine.keys import build_keys
from cspa.engine.selection import Selection
from cspa.store.sql import literal

COMPARATOR_TYPES = ("country", "region", "sn_group", "benchmark_group", "region_other")

#: How a derived figure that is not computed because of a break in its series begins its basis.
BREAK_PREFIX = "no change across a break in the series"


def _observed(con: duckdb.DuckDBPyConnection, where: str) -> str:
    """SQL of the observed figures (statistic 'value'), with num/den formulas applied."""
    return f"""
    SELECT m.sid, a.aid, p.pid, o.indicator, o.measure, o.area, a.type AS area_type,
           o.period, o.period_label, o.period_kind, o.period_start, o.period_end,
           year(o.period_start) AS first_year, year(o.period_end) AS last_year,
           CASE
             WHEN o.numerator IS NULL OR o.denominator IS NULL OR o.denominator = 0 THEN o.value
             WHEN m.formula_type = 'percentage' THEN o.numerator / o.denominator * 100
             WHEN m.formula_type = 'rate' THEN o.numerator / o.denominator * m.multiplier
             WHEN m.formula_type = 'ratio' THEN o.numerator / o.denominator * coalesce(m.multiplier, 1)
             WHEN m.formula_type = 'standardised_ratio' THEN o.numerator / o.denominator * 100
             ELSE o.value END AS value,
           o.numerator, o.denominator, o.status, o.text, o.quality, o.provisional, o.published,
           CASE
             WHEN o.numerator IS NOT NULL AND o.denominator IS NOT NULL AND o.denominator <> 0
                  AND m.formula_type IN ('percentage', 'rate', 'ratio', 'standardised_ratio') THEN 'computed'
             WHEN o.published THEN 'published' ELSE 'input' END AS source,
           -- an observed figure's provenance line is composed from these columns when it is read
           -- (engine.provenance); only derived figures carry a line of their own
           CAST(NULL AS VARCHAR) AS basis,
           o.seed_ref, o.vintage, vk.vid
    FROM _cspa_obs o
    LEFT JOIN _cspa_key_vintage vk ON vk.vintage = o.vintage
    JOIN _cspa_key_measure m ON m.indicator = o.indicator AND m.measure = o.measure
    JOIN _cspa_key_area a ON a.code = o.area
    JOIN _cspa_key_period p ON p.period = o.period
    WHERE o.statistic = 'value' AND ({where})
    """


#: The columns of a figure that only some figures fill: a text answer, a quality note, a derived
#: figure's own provenance line and the line of the seed document a figure was read from.
NOTE_COLUMNS = ("text", "quality", "basis", "seed_ref")


def _derived(con: duckdb.DuckDBPyConnection, selection: Selection) -> list[str]:
    """The indicators with a derived measure that have figures in ``selection``.

    Only these go through the derivation and its anti-joins; every other figure (nearly all of a
    national build) passes straight through. Those the selection names are read from the catalogue
    first, then those with figures (the constant list is pushed down to the scan), so a run with
    none (a LAIT build) neither plans the derivation nor scans the store for it.
    """
    derived = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT m.indicator FROM _cspa_key_measure m WHERE m.formula_type IN ('change', "
            f"'percent_change', 'difference', 'sum') AND {selection.indicator_filter('m')}"
        ).fetchall()
    ]
    if not derived:
        return []
    codes = ", ".join(map(literal, derived))
    return [
        r[0]
        for r in con.execute(f"""SELECT DISTINCT o.indicator FROM _cspa_obs o
        WHERE o.statistic = 'value' AND o.indicator IN ({codes})
          AND ({selection.observation_filter("o")})""").fetchall()
    ]


def note_columns(con: duckdb.DuckDBPyConnection, selection: Selection) -> set[str]:
    """The :data:`NOTE_COLUMNS` that some figure of ``selection`` fills (after :func:`values_sql`
    made the keys): ``basis`` where the selection has derived figures, the others where some
    observation of it has one. Each column is looked for on its own, so DuckDB skips the blocks of
    the store whose statistics say the column is empty there (a few milliseconds for a national
    build, whose figures fill none of them)."""
    where = selection.observation_filter("o")
    stored = [c for c in NOTE_COLUMNS if c != "basis"]
    found = {
        r[0]
        for r in con.execute(
            " UNION ALL ".join(
                f"(SELECT '{c}' FROM _cspa_obs o WHERE o.{c} IS NOT NULL AND o.statistic = 'value' "
                f"AND ({where}) LIMIT 1)"
                for c in stored
            )
        ).fetchall()
    }
    return found | ({"basis"} if _derived(con, selection) else set())


def values(
    con: duckdb.DuckDBPyConnection, selection: Selection | None = None
) -> duckdb.DuckDBPyRelation:
    """Observed and derived figures for every observation ``selection`` names (all by default).

    Builds the run's integer keys (:mod:`cspa.engine.keys`) first: every row carries ``sid``,
    ``aid`` and ``pid`` beside its string keys.
    """
    return con.sql(values_sql(con, selection))


def values_sql(
    con: duckdb.DuckDBPyConnection, selection: Selection | None = None, temporary: bool = True
) -> str:
    """The SQL of :func:`values` (the build materialises it without binding a relation first);
    ``temporary``: where the key tables are made (:func:`cspa.engine.keys.build_keys`)."""
    selection = selection or Selection()
    where = selection.observation_filter("o")
    build_keys(con, selection.neighbour_group, selection.released_by, temporary)
    derived_in = _derived(con, selection)
    if not derived_in:
        return _observed(con, where)
    codes = ", ".join(map(literal, derived_in))
    observed = _observed(con, f"({where}) AND o.indicator IN ({codes})")
    passing = _observed(con, f"({where}) AND o.indicator NOT IN ({codes})")
    sql = f"""
    WITH obs AS ({observed}),
    der AS (SELECT * FROM _cspa_key_measure WHERE formula_type IN ('change', 'percent_change', 'difference', 'sum')),
    -- series of the measure a derived measure is formed from, with the previous period of each area
    series AS (
        SELECT d.sid AS dsid, d.indicator, d.measure AS dmeasure, d.formula_type, d.base_period, d.formula_comparator,
               d.formula_comparator_area,
               d.neighbour_group, b.* EXCLUDE (indicator, sid),
               lag(b.value) OVER w AS prev_value, lag(b.status) OVER w AS prev_status,
               lag(b.last_year) OVER w AS prev_last_year, lag(b.period_label) OVER w AS prev_label,
               lag(b.period_end) OVER w AS prev_end
        FROM der d JOIN obs b ON b.indicator = d.indicator AND b.measure = d.of_measure
        WINDOW w AS (PARTITION BY d.indicator, d.measure, b.area ORDER BY b.period_end, b.period_start)
    ),
    -- a break in the series between the previous period and this one (catalogue ``breaks``):
    -- the two figures are on different scales, so no change is computed across it
    broken AS (
        SELECT s.dsid, s.aid, s.pid,
               min({literal(BREAK_PREFIX)} || ' (from ' || k.period_label || '): ' || k.reason) AS why
        FROM series s JOIN series_break k ON k.indicator = s.indicator AND k.measure = s.dmeasure
             AND k.period_end > s.prev_end AND k.period_end <= s.period_end
        GROUP BY ALL
    ),
    base_rows AS (   -- the base period's value for percent changes on a base (2001DT, 1047SC)
        SELECT s.indicator, s.dmeasure, s.area, s.value AS base_value, s.period_label AS base_label
        FROM series s WHERE s.base_period IS NOT NULL AND (s.period_label = s.base_period OR s.period = s.base_period)
    ),
    comp AS (        -- the comparator row of each derived series, same period
        SELECT s.indicator, s.dmeasure, s.period, s.area AS comp_area, s.area_type AS comp_type,
               s.value AS comp_value, s.status AS comp_status
        FROM series s WHERE s.formula_comparator IS NOT NULL
    ),
    changes AS (
        SELECT s.dsid AS sid, s.aid, s.pid, s.indicator, s.dmeasure AS measure, s.area, s.area_type, s.period,
               -- a change between two bare years is printed 'yy/yy' (03/04, 000:L3066); any other
               -- period (a financial year, a quarter, a cohort) keeps its own label on the change row
               CASE WHEN regexp_full_match(s.period_label, '[0-9]{{4}}')
                    THEN lpad(CAST(s.prev_last_year % 100 AS VARCHAR), 2, '0') || '/' || lpad(CAST(s.last_year % 100 AS VARCHAR), 2, '0')
                    ELSE s.period_label END AS period_label,
               s.period_kind, s.period_start, s.period_end, s.first_year, s.last_year,
               CASE WHEN k.why IS NOT NULL THEN NULL
                    WHEN s.formula_type = 'change' THEN s.value - s.prev_value
                    ELSE (s.value - s.prev_value) / nullif(s.prev_value, 0) * 100 END AS value,
               CAST(NULL AS DOUBLE) AS numerator, CAST(NULL AS DOUBLE) AS denominator,
               CASE WHEN k.why IS NOT NULL THEN 'n/a'
                    WHEN s.value IS NULL OR s.prev_value IS NULL THEN coalesce(s.status, s.prev_status, '..') END AS status,
               NULL AS text, NULL AS quality, s.provisional, s.published, 'computed' AS source,
               coalesce(k.why, s.formula_type || ' on previous period: ' || coalesce(format('{{:g}}', s.value), s.status, '?')
                 || ' (' || s.period_label || ') vs ' || coalesce(format('{{:g}}', s.prev_value), s.prev_status, '?')
                 || ' (' || s.prev_label || ')') AS basis,
               s.seed_ref, s.vintage, s.vid
        FROM series s LEFT JOIN broken k ON k.dsid = s.dsid AND k.aid = s.aid AND k.pid = s.pid
        WHERE ((s.formula_type = 'change' AND s.base_period IS NULL)
               OR (s.formula_type = 'percent_change' AND s.base_period IS NULL AND s.formula_comparator IS NULL))
          AND s.prev_last_year IS NOT NULL
    ),
    on_base AS (
        SELECT s.dsid AS sid, s.aid, s.pid, s.indicator, s.dmeasure AS measure, s.area, s.area_type, s.period, s.period_label, s.period_kind,
               s.period_start, s.period_end, s.first_year, s.last_year,
               CASE WHEN s.formula_type = 'change' THEN s.value - b.base_value
                    ELSE (s.value - b.base_value) / nullif(b.base_value, 0) * 100 END AS value,
               CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
               CASE WHEN s.value IS NULL THEN coalesce(s.status, '..') END, NULL, NULL, s.provisional, s.published,
               'computed', CASE WHEN s.formula_type = 'change'
                 THEN 'change on ' || b.base_label || ': ' || coalesce(format('{{:g}}', s.value), s.status) || ' - ' || format('{{:g}}', b.base_value)
                 ELSE 'percent change on ' || b.base_label || ': (' || coalesce(format('{{:g}}', s.value), s.status)
                 || ' - ' || format('{{:g}}', b.base_value) || ') / ' || format('{{:g}}', b.base_value) || ' x 100' END,
               s.seed_ref, s.vintage, s.vid
        FROM series s JOIN base_rows b ON b.indicator = s.indicator AND b.dmeasure = s.dmeasure AND b.area = s.area
        WHERE s.formula_type IN ('percent_change', 'change') AND s.period_label <> b.base_label
    ),
    vs_comp AS (
        SELECT s.dsid AS sid, s.aid, s.pid, s.indicator, s.dmeasure AS measure, s.area, s.area_type, s.period, s.period_label, s.period_kind,
               s.period_start, s.period_end, s.first_year, s.last_year,
               CASE WHEN s.formula_type = 'difference' THEN s.value - c.comp_value
                    ELSE (s.value - c.comp_value) / nullif(c.comp_value, 0) * 100 END AS value,
               CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
               CASE WHEN s.value IS NULL OR c.comp_value IS NULL THEN coalesce(s.status, c.comp_status, '..') END,
               NULL, NULL, s.provisional, s.published, 'computed',
               s.formula_type || ' vs ' || c.comp_area || ': ' || coalesce(format('{{:g}}', s.value), s.status, '?')
                 || ' - ' || coalesce(format('{{:g}}', c.comp_value), c.comp_status, '?'),
               s.seed_ref, s.vintage, s.vid
        FROM series s
        JOIN comp c ON c.indicator = s.indicator AND c.dmeasure = s.dmeasure AND c.period = s.period
        LEFT JOIN area la ON la.code = s.area
        WHERE s.formula_type IN ('difference', 'percent_change') AND s.formula_comparator IS NOT NULL
          AND s.area_type NOT IN {COMPARATOR_TYPES}
          AND CASE WHEN s.formula_comparator_area IS NOT NULL THEN c.comp_area = s.formula_comparator_area
                ELSE CASE s.formula_comparator
                WHEN 'england' THEN c.comp_area = 'E92000001'
                -- a non-LA geography (a YOT, a DAT) compares with its parent authority's neighbours
                WHEN 'statistical_neighbours' THEN c.comp_area = 'SN:' || coalesce(s.neighbour_group, '') || ':' || coalesce(la.parent, s.area)
                WHEN 'region' THEN c.comp_type IN ('region', 'region_other')
                                   AND (la.region_code IS NULL OR c.comp_area = la.region_code)
                WHEN 'benchmark_group' THEN c.comp_type = 'benchmark_group'
                ELSE c.comp_type IN {COMPARATOR_TYPES} END END
    ),
    sums AS (
        SELECT d.sid, b.aid, b.pid, d.indicator, d.measure, b.area, any_value(b.area_type), b.period, any_value(b.period_label),
               any_value(b.period_kind), any_value(b.period_start), any_value(b.period_end),
               any_value(b.first_year), any_value(b.last_year),
               CASE WHEN count(b.value) = count(*) THEN sum(b.value) END, NULL, NULL,
               CASE WHEN count(b.value) < count(*) THEN '..' END, NULL, NULL, bool_or(b.provisional),
               bool_or(b.published), 'computed', 'sum of ' || string_agg(b.measure, ' + ' ORDER BY b.measure),
               any_value(b.seed_ref), any_value(b.vintage), any_value(b.vid)
        FROM der d JOIN obs b ON b.indicator = d.indicator
             AND list_contains(string_split(d.formula_measures, ','), b.measure)
        WHERE d.formula_type = 'sum'
        GROUP BY d.sid, b.aid, b.pid, d.indicator, d.measure, b.area, b.period
    ),
    derived AS (
        SELECT * FROM changes UNION ALL SELECT * FROM on_base UNION ALL SELECT * FROM vs_comp UNION ALL SELECT * FROM sums
    )
    -- a derived figure replaces a stored one for the same key only when it could be computed, or
    -- when the engine knows why it cannot be (a break in the series: its reason beats a bare symbol)
    SELECT * FROM derived WHERE value IS NOT NULL OR starts_with(basis, {literal(BREAK_PREFIX)}) OR NOT EXISTS (
        SELECT 1 FROM obs o WHERE o.sid = derived.sid AND o.aid = derived.aid AND o.pid = derived.pid)
    UNION ALL
    SELECT * FROM obs WHERE NOT EXISTS (
        SELECT 1 FROM derived d WHERE d.sid = obs.sid AND d.aid = obs.aid AND d.pid = obs.pid
        AND (d.value IS NOT NULL OR starts_with(d.basis, {literal(BREAK_PREFIX)})))
    UNION ALL
    SELECT * FROM ({passing})
    """
    return sql
