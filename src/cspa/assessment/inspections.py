"""Inspection judgements as at a date: the latest of each kind is current, older ones are history.

An assessment made on a date can only read what was published by then, and for each area of
practice an inspection supersedes the earlier ones. :func:`inspections_sql` returns one row per
inspection judgement published on or before ``as_at`` (SQL over every authority at once):

``area, framework, inspection, judgement, aspect, event_date, published, date_text, published_text,
outcome, grade, adequate_or_better, conducted, row_order, ref, year, judgement_areas, current,
superseded_on``

* ``judgement_areas``: the areas of practice a judgement speaks for. Ofsted's frameworks replaced
  one another and name the same areas differently: SIF's (2013-18) "leadership, management and
  governance" and ILACS's (2018-) "impact of leaders" are both *leadership*; SIF's "looked after
  children and achieving permanence" and ILACS's "children in care" are *children in care*; the
  SLAC safeguarding judgement (2009-12) and the child protection inspections (2012-13) speak for
  *help and protection*. Before January 2023 ILACS judged children in care and care leavers
  together: that one judgement speaks for both areas. Judgements with no successor (the LSCB
  review, SIF's adoption judgement, seed 003's unannounced inspection, serious case reviews, joint
  area reviews, private fostering) are each a kind of their own.
* ``current``: the judgement is the latest published in at least one of its areas as at the date
  (ties: the later inspection row); ``superseded_on``: otherwise, when the judgement that replaced
  it in its area was published. Letters cite current judgements and mention older ones only as
  history, with their dates.
* ``published``: when the judgement became known: the publication date for Ofsted's data (ILACS
  rows also carry the inspection date, ``event_date``), the event date for seed 003's events, and
  for undated seed events the assessment year (``year``).

Sources: Ofsted's LA inspection history 2009-2023 (``inspection_la_history``, ILACS rows taken from
the fuller ILACS history instead), Ofsted's ILACS history to 31 March 2025 (``inspection_ilacs``),
and seed 003's safeguarding block (003:L59-67, ``assessment_inspection_event``).
"""

from __future__ import annotations

import datetime as dt

import duckdb

INSPECTIONS = "_cspa_inspections"

# (framework, judgement) -> areas of practice; a judgement not listed is a kind of its own
AREAS: dict[tuple[str, str], tuple[str, ...]] = {
    ("ILACS", "overall_effectiveness"): ("overall_effectiveness",),
    ("ILACS", "impact_of_leaders"): ("leadership",),
    ("ILACS", "help_and_protection"): ("help_and_protection",),
    ("ILACS", "children_in_care"): ("children_in_care",),
    ("ILACS", "care_leavers"): ("care_leavers",),
    ("ILACS", "children_in_care_and_care_leavers"): ("children_in_care", "care_leavers"),
    ("SIF", "overall_effectiveness"): ("overall_effectiveness",),
    ("SIF", "leadership_management_governance"): ("leadership",),
    ("SIF", "help_and_protection"): ("help_and_protection",),
    ("SIF", "looked_after_and_permanence"): ("children_in_care",),
    ("SIF", "care_leavers"): ("care_leavers",),
    ("SLAC", "safeguarding_overall_effectiveness"): ("help_and_protection",),
    ("SLAC", "looked_after_children_overall_effectiveness"): ("children_in_care",),
    ("CPI", "overall_effectiveness"): ("help_and_protection",),
    ("TLAC", "overall_effectiveness"): ("children_in_care",),
}
# what a letter calls a judgement of another framework than ILACS where the area's name would
# misname it (SIF's "leadership, management and governance" is not "the impact of leaders")
JUDGEMENT_PHRASES: dict[tuple[str, str], str] = {
    ("SIF", "leadership_management_governance"): "leadership, management and governance",
    ("SIF", "looked_after_and_permanence"): "children looked after and achieving permanence",
    ("SIF", "care_leavers"): "the experiences and progress of care leavers",
    ("SLAC", "safeguarding_overall_effectiveness"): "safeguarding",
    ("SLAC", "looked_after_children_overall_effectiveness"): "services for looked after children",
    ("CPI", "overall_effectiveness"): "child protection",
    ("TLAC", "overall_effectiveness"): "services for looked after children",
}
# the area names as a letter says them
AREA_LABELS = {
    "overall_effectiveness": "overall effectiveness",
    "leadership": "the impact of leaders",
    "help_and_protection": "help and protection",
    "children_in_care": "children in care",
    "care_leavers": "care leavers",
}
# ILACS columns (inspection_ilacs) -> judgement id and aspect as printed
ILACS_COLUMNS = (
    ("overall", "overall_effectiveness", "overall effectiveness"),
    ("leaders", "impact_of_leaders", "impact of leaders"),
    ("help_and_protection", "help_and_protection", "help and protection"),
    ("children_in_care", "children_in_care", "children in care"),
    ("care_leavers", "care_leavers", "care leavers"),
)

_EMPTY = (
    "(SELECT NULL::VARCHAR area, NULL::VARCHAR framework, NULL::VARCHAR inspection, NULL::VARCHAR judgement, "
    "NULL::VARCHAR aspect, NULL::DATE event_date, NULL::DATE published, NULL::VARCHAR date_text, "
    "NULL::VARCHAR published_text, NULL::VARCHAR outcome, NULL::INTEGER grade, NULL::INTEGER adequate_or_better, "
    "NULL::INTEGER conducted, NULL::INTEGER row_order, NULL::VARCHAR ref, NULL::INTEGER year, "
    "NULL::VARCHAR[] judgement_areas, FALSE current, NULL::DATE superseded_on WHERE FALSE)"
)


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
        > 0
    )


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _areas_sql() -> str:
    rows = ", ".join(
        f"({_q(f)}, {_q(j)}, [{', '.join(_q(a) for a in areas)}])"
        for (f, j), areas in AREAS.items()
    )
    return f"(SELECT * FROM (VALUES {rows}) t(framework, judgement, judgement_areas))"


def events_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """Every inspection judgement held, whatever its date (None: the store holds no inspections)."""
    parts = []
    if _table_exists(con, "assessment_inspection_event"):
        parts.append("""
        SELECT area, 'seed' AS framework, inspection, NULL AS judgement, aspect, event_date, event_date AS published,
               date_text, outcome, grade, adequate_or_better, conducted, row_order, seed_ref AS ref, year
        FROM assessment_inspection_event""")
    if _table_exists(con, "inspection_la_history"):
        parts.append("""
        SELECT la_code, framework, inspection, judgement, replace(judgement, '_', ' '), publication_date,
               publication_date, strftime(publication_date, '%d/%m/%Y'), grade_label, grade, NULL, NULL, row_no,
               source || ', row ' || row_no, year(publication_date)
        FROM inspection_la_history WHERE la_code IS NOT NULL AND framework <> 'ILACS'""")
    if _table_exists(con, "inspection_ilacs"):
        for col, jid, aspect in ILACS_COLUMNS:
            # before care leavers had a judgement of their own, the children-in-care column held the combined one
            j = (
                f"CASE WHEN h.care_leavers_grade IS NULL THEN 'children_in_care_and_care_leavers' ELSE '{jid}' END"
                if col == "children_in_care"
                else f"'{jid}'"
            )
            a = (
                f"CASE WHEN h.care_leavers_grade IS NULL THEN 'children in care and care leavers' ELSE '{aspect}' END"
                if col == "children_in_care"
                else f"'{aspect}'"
            )
            parts.append(f"""
        SELECT h.la_code, 'ILACS', coalesce(h.inspection_type, 'ILACS inspection'), {j}, {a}, h.inspection_date,
               coalesce(h.publication_date, h.inspection_date), strftime(h.inspection_date, '%d/%m/%Y'),
               h.{col}_label, h.{col}_grade, NULL, NULL, h.row_no, h.source || ', row ' || h.row_no,
               year(h.inspection_date)
        FROM inspection_ilacs h WHERE h.dataset = 'history' AND h.la_code IS NOT NULL AND h.{col}_grade IS NOT NULL""")
    if not parts:
        return None
    return "(" + " UNION ALL ".join(parts) + ")"


def judgements_sql(con: duckdb.DuckDBPyConnection) -> str | None:
    """Every inspection judgement held with its areas of practice (``judgement_areas``), whatever its date."""
    events = events_sql(con)
    if events is None:
        return None
    return f"""(
    SELECT x.*, strftime(x.published, '%d/%m/%Y') AS published_text,
           coalesce(m.judgement_areas,
                    [x.framework || ':' || coalesce(x.judgement, x.inspection || coalesce(': ' || x.aspect, ''))])
             AS judgement_areas
    FROM {events} x(area, framework, inspection, judgement, aspect, event_date, published, date_text, outcome, grade,
                    adequate_or_better, conducted, row_order, ref, year)
    LEFT JOIN {_areas_sql()} m ON m.framework = x.framework AND m.judgement = x.judgement
    WHERE x.area IS NOT NULL)"""


def inspections_sql(con: duckdb.DuckDBPyConnection, as_at: dt.date) -> str:
    """The inspection judgements published on or before ``as_at``, each marked current or history."""
    judgements = judgements_sql(con)
    if judgements is None:
        return _EMPTY
    day = f"DATE '{as_at.isoformat()}'"
    return f"""(
    WITH seen AS (
        SELECT row_number() OVER () AS rid, j.* FROM {judgements} j
        WHERE CASE WHEN j.published IS NOT NULL THEN j.published <= {day} ELSE coalesce(j.year, 0) <= {as_at.year} END
    ),
    per_area AS (
        SELECT s.rid, s.area, u.ja, s.published, s.row_order,
               row_number() OVER (PARTITION BY s.area, u.ja ORDER BY s.published DESC NULLS LAST, s.row_order DESC) AS k,
               max(s.published) OVER (PARTITION BY s.area, u.ja) AS newest
        FROM seen s, unnest(s.judgement_areas) AS u(ja)
    ),
    flags AS (
        SELECT rid, bool_or(k = 1) AS current, min(newest) FILTER (WHERE k > 1) AS superseded_on
        FROM per_area GROUP BY rid
    )
    SELECT s.area, s.framework, s.inspection, s.judgement, s.aspect, s.event_date, s.published, s.date_text,
           s.published_text, s.outcome, s.grade, s.adequate_or_better, s.conducted, s.row_order, s.ref, s.year,
           s.judgement_areas, f.current, CASE WHEN NOT f.current THEN f.superseded_on END AS superseded_on
    FROM seen s JOIN flags f USING (rid))"""


def build_inspections(con: duckdb.DuckDBPyConnection, as_at: dt.date) -> str:
    """Create ``_cspa_inspections`` as at the date; returns its name."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {INSPECTIONS} AS SELECT * FROM {inspections_sql(con, as_at)}"
    )
    return INSPECTIONS


__all__ = [
    "AREAS",
    "AREA_LABELS",
    "INSPECTIONS",
    "build_inspections",
    "events_sql",
    "inspections_sql",
    "judgements_sql",
]
