"""The measures computed from record-level returns, each defined once as an Ibis expression.

Every measure is a function from the return's typed tables (Ibis tables on any backend: DuckDB,
PySpark ...) to ONE expression with a row per authority and collection year:
``LA, YEAR, numerator, denominator, value``. :func:`observations` stacks them into the store's
long format (indicator, measure, area, period, value, numerator, denominator).

The collection year ``YEAR`` is the year ending 31 March (2018 = 1 April 2017 to 31 March 2018).
Definitions follow DfE's statistics on children looked after (SSDA903) and children in need (CIN
census) and the LAIT indicators named in each catalogue file (``data/catalogue/records``); where
a single return cannot show what DfE's multi-year data shows, the docstring says how it is read.
Children looked after under an agreed series of short-term placements (legal status V3, V4) are
left out of every looked-after measure, as in DfE's statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

SHORT_BREAKS = ("V3", "V4")
ADOPTION_PLACEMENTS = ("A3", "A4", "A5", "A6")
ADOPTED = ("E11", "E12")
EPOCH_MONDAY = ibis.date(1900, 1, 1)  # a Monday: working days are counted from it


@dataclass(frozen=True)
class Measure:
    indicator: str
    measure: str
    kind: str  # "ssda903" or "cin": the return it reads
    tables: tuple[str, ...]
    fn: Callable[..., ir.Table]
    multiplier: float | None = (
        None  # value = numerator / denominator * multiplier; None: value given
    )

    @property
    def key(self) -> str:
        return f"{self.indicator}/{self.measure}"


# ------------------------------------------------------------------------------- helpers


def year_start(t: ir.Table) -> ir.DateValue:
    return ibis.date(t.YEAR - 1, 4, 1)


def year_end(t: ir.Table) -> ir.DateValue:
    return ibis.date(t.YEAR, 3, 31)


def in_year(d: ir.DateValue, t: ir.Table) -> ir.BooleanValue:
    return (d >= year_start(t)) & (d <= year_end(t))


def days(a: ir.DateValue, b: ir.DateValue) -> ir.IntegerValue:
    """Days from a to b."""
    return b.delta(a, unit="day")


def weekdays_before(d: ir.DateValue) -> ir.IntegerValue:
    """Monday-to-Friday days from 1 January 1900 (a Monday) up to, not including, d."""
    k = d.delta(EPOCH_MONDAY, unit="day")
    return (k // 7) * 5 + ibis.least(k % 7, 5)


def working_days(start: ir.DateValue, end: ir.DateValue) -> ir.IntegerValue:
    """Working days after ``start`` up to and including ``end`` (weekends out; bank holidays are not known)."""
    return weekdays_before(end + ibis.interval(days=1)) - weekdays_before(
        start + ibis.interval(days=1)
    )


def _keys(t: ir.Table) -> list:
    return [t.LA, t.YEAR]


def _count(t: ir.Table, n: ir.IntegerValue) -> ir.Table:
    return (
        t.group_by(["LA", "YEAR"])
        .agg(numerator=n.cast("float64"))
        .mutate(denominator=ibis.null("float64"), value=ibis._.numerator)
    )


def _share(
    t: ir.Table, num: ir.IntegerValue, den: ir.IntegerValue, multiplier: float = 100.0
) -> ir.Table:
    out = t.group_by(["LA", "YEAR"]).agg(
        numerator=num.cast("float64"), denominator=den.cast("float64")
    )
    return out.mutate(value=(out.numerator / out.denominator * multiplier))


def _rate(counts: ir.Table, population: ir.Table) -> ir.Table:
    j = counts.left_join(population, [counts.LA == population.LA, counts.YEAR == population.YEAR])
    j = j.select(
        LA=counts.LA,
        YEAR=counts.YEAR,
        numerator=counts.numerator,
        denominator=population.POP.cast("float64"),
    )
    return j.mutate(value=j.numerator / j.denominator * 10000)


# ------------------------------------------------------------------------------- SSDA903
#
# Most 903 measures ask something of each child's episodes in the year (open on 31 March, started,
# ceased, placements, distance, the period of care ...). :func:`children` answers all of it in ONE
# grouping of the episodes by child; each measure is then a count over that table. A backend may
# compute the table once and share it between the measures (``Backend.run``): the grouping by
# child (6 to 7 million groups at 10 million episodes) is the costly step, and a measure that
# grouped the episodes on its own would repeat it.


def children(episodes: ir.Table) -> ir.Table:
    """One row per child of a return (LA, YEAR, CHILD) with what the looked-after measures need of
    the child's episodes. Short-break care (V3, V4) is left out of every column but ``adoption``
    (DfE counts adoptions from every episode).

    * ``open_end``: an episode open on 31 March (ending on 31 March is leaving);
    * ``started``: an episode with reason S (started to be looked after) starting in the year;
    * ``ceased``: an episode ending in the year for a reason other than X1 (a new episode follows);
    * ``in_year``: an episode open at some time in the year;
    * ``moves``, ``first_key``: of the episodes open in the year, those that changed placement
      (reason other than L), and the earliest one's start day x 2 + (1 if it is an L);
    * ``distance_known``, ``far``: an episode open on 31 March with ``PL_DISTANCE``, and one more
      than 20 miles away;
    * ``first``, ``care_start``, ``place_start``: of the episodes begun by 31 March, the earliest
      start, the latest start with reason S, the latest start that changed placement;
    * ``adoption_placement``: an episode open on 31 March with adopters (A3-A6);
    * ``adoption``: the latest end in the year with reason E11 or E12 (adopted)."""
    # the year's bounds and the conditions worked out once a row, before the grouping
    e = episodes.mutate(ys=year_start(episodes), ye=year_end(episodes))
    e = e.mutate(
        cared=e.LS.isnull() | ~e.LS.isin(SHORT_BREAKS), is_l=(e.RNE == "L").fill_null(False)
    )
    e = e.mutate(begun=e.cared & (e.ye >= e.DECOM))
    e = e.mutate(
        in_year_=e.begun & (e.DEC.isnull() | (e.ys <= e.DEC)),
        open_=e.begun & (e.DEC.isnull() | (e.ye < e.DEC)),
        dec_in_year=(e.ys <= e.DEC) & (e.ye >= e.DEC),
    )
    begun, in_year_, open_, is_l, cared = e.begun, e.in_year_, e.open_, e.is_l, e.cared
    # the earliest episode is the placement the year opens with, whatever its reason; of episodes
    # starting the same day a new placement (reason other than L) comes first: the minimum of this
    # key finds it, and its last bit says whether it is an L (an aggregate, not a sorted window)
    key = e.DECOM.delta(EPOCH_MONDAY, unit="day").cast("int64") * 2 + is_l.cast("int64")
    return e.group_by(["LA", "YEAR", "CHILD"]).agg(
        open_end=open_.any(),
        started=(cared & (e.RNE == "S") & (e.ys <= e.DECOM) & (e.ye >= e.DECOM)).any(),
        ceased=(cared & e.dec_in_year & e.REC.notnull() & (e.REC != "X1")).any(),
        in_year=in_year_.any(),
        moves=(in_year_ & ~is_l).cast("int64").sum(),
        first_key=key.min(where=in_year_),
        distance_known=(open_ & e.PL_DISTANCE.notnull()).any(),
        far=(open_ & (e.PL_DISTANCE > 20)).any(),
        first=e.DECOM.min(where=begun),
        care_start=e.DECOM.max(where=begun & (e.RNE == "S")),
        place_start=e.DECOM.max(where=begun & (e.RNE != "L")),
        adoption_placement=(open_ & e.PLACE.isin(ADOPTION_PLACEMENTS)).any(),
        adoption=e.DEC.max(where=e.dec_in_year & e.REC.isin(ADOPTED)),
    )


def _children_where(children: ir.Table, flag: ir.BooleanValue) -> ir.Table:
    c = children.filter(flag)
    return _count(c, c.count())


def cla_31mar_count(children: ir.Table) -> ir.Table:
    """Children looked after at 31 March: distinct children with an episode open on 31 March
    (several episodes of one child, or several on one day, count once). DfE CLA statistics; LAIT ``LAC``."""
    return _children_where(children, children.open_end)


def cla_31mar_rate(children: ir.Table, population: ir.Table) -> ir.Table:
    """Children looked after at 31 March per 10,000 children aged 0-17 (ONS mid-year estimate of
    the previous calendar year, as DfE uses). LAIT ``LAC`` rate."""
    return _rate(cla_31mar_count(children), population)


def cla_started_count(children: ir.Table) -> ir.Table:
    """Children who started to be looked after in the year: distinct children with an episode whose
    reason for new episode is S (started to be looked after) starting in the year. LAIT ``LACnum_Start``."""
    return _children_where(children, children.started)


def cla_started_rate(children: ir.Table, population: ir.Table) -> ir.Table:
    """Children starting to be looked after per 10,000 children aged 0-17. LAIT ``LAC_Start_Rate``."""
    return _rate(cla_started_count(children), population)


def cla_ceased_count(children: ir.Table) -> ir.Table:
    """Children who ceased to be looked after in the year: distinct children with an episode that
    ended in the year for a reason other than X1 (a new episode follows). LAIT ``LACceased``."""
    return _children_where(children, children.ceased)


def cla_ceased_rate(children: ir.Table, population: ir.Table) -> ir.Table:
    """Children ceasing to be looked after per 10,000 children aged 0-17. LAIT ``LAC_Cease_Rate``."""
    return _rate(cla_ceased_count(children), population)


def placements_3plus(children: ir.Table) -> ir.Table:
    """Children looked after at 31 March with three or more placements in the year (%).

    Placements in the year: the child's first episode open in the year (its placement, however
    long before it began) and every later episode in the year that did not only change the legal
    status (reason for new episode other than L): the episodes other than L, plus one when the
    earliest (by start, then non-L first) is an L. LAIT ``LACStable_2016on`` (former NI 62)."""
    c = children.filter(children.open_end)
    placements = c.moves + c.first_key % 2
    return _share(c, (placements >= 3).cast("int64").sum(), c.count())


def long_term_stability(children: ir.Table, header: ir.Table) -> ir.Table:
    """Children under 16 at 31 March looked after for at least 2.5 years, who had lived in the same
    placement for at least 2 years or were placed for adoption (%). LAIT ``LAC_LongStable_`` (former NI 63).

    The period of care starts at the latest episode with reason S on or before 31 March (else, when
    the return holds no S episode for the child, at its earliest episode); the placement at the
    latest episode that changed placement (reason other than L)."""
    c = children
    c = c.filter(c.open_end & (c.care_start.fill_null(c.first) <= ibis.date(c.YEAR - 3, 9, 30)))
    # a child has one header row in a return (rule INT32 blocks a load otherwise)
    j = c.join(header.select("LA", "YEAR", "CHILD", "DOB"), ["LA", "YEAR", "CHILD"])
    j = j.filter(ibis.date(j.YEAR - 16, 3, 31) < j.DOB)
    stable = (
        j.place_start.fill_null(j.first) <= ibis.date(j.YEAR - 2, 3, 31)
    ) | j.adoption_placement
    return _share(j, stable.cast("int64").sum(), j.count())


def placed_20_miles(children: ir.Table) -> ir.Table:
    """Children looked after at 31 March placed more than 20 miles from home (%), of those whose
    distance is known (``PL_DISTANCE``, which DfE derives from the home and placement postcodes;
    a return without it gives no figure). LAIT ``LACDistance`` also requires the placement to be
    outside the authority, which the return's fields here do not show."""
    c = children.filter(children.distance_known)
    return _share(c, c.far.cast("int64").sum(), c.count())


def adopted(children: ir.Table) -> ir.Table:
    """Children adopted in the year: distinct children whose episode ended with reason E11 or E12.
    LAIT ``No_of LAC Adopted``."""
    return _children_where(children, children.adoption.notnull())


def adopted_episodes(episodes: ir.Table, children: ir.Table) -> ir.Table:
    """The episodes of the children adopted in the year, with the adoption's date (a few in a
    hundred of the episodes: :func:`adoptions` reads them twice)."""
    keys = ["LA", "YEAR", "CHILD"]
    a = children.filter(children.adoption.notnull()).select(*keys, "adoption")
    return episodes.select(*keys, "DECOM", "RNE", "LS", "PLACE").join(a, keys)


def adoptions(adopted_episodes: ir.Table) -> ir.Table:
    """One row per child adopted in the year: ``start``, the start of the period of care the
    adoption ended (its latest episode with reason S before the adoption, else its earliest
    episode); ``placed``, the first placement with adopters (A3-A6) from then; ``order``, the
    first episode under a placement order (E1) or freeing order (D1) from then."""
    keys = ["LA", "YEAR", "CHILD"]
    e = adopted_episodes
    before = e.adoption > e.DECOM
    c = e.group_by(keys).agg(
        first=e.DECOM.min(where=before), care_start=e.DECOM.max(where=before & (e.RNE == "S"))
    )
    c = c.filter(c.first.notnull()).select(*keys, start=c.care_start.fill_null(c.first))
    j = e.join(c, keys)
    from_start = j.start <= j.DECOM
    return j.group_by(keys).agg(
        start=j.start.min(),
        placed=j.DECOM.min(where=from_start & j.PLACE.isin(ADOPTION_PLACEMENTS)),
        order=j.DECOM.min(where=from_start & j.LS.isin(("E1", "D1"))),
    )


def adoption_a1(adoptions: ir.Table) -> ir.Table:
    """A1: average days between entering care and moving in with the adoptive family, for children
    adopted in the year (adoption scorecard A1). Entering care: the start of the period of care that
    the adoption ended; moving in: the first placement with adopters (A3-A6) in that period.
    Numerator: total days; denominator: children."""
    a = adoptions.filter(adoptions.placed.notnull())
    out = a.group_by(["LA", "YEAR"]).agg(
        numerator=days(a.start, a.placed).sum().cast("float64"),
        denominator=a.count().cast("float64"),
    )
    return out.mutate(value=out.numerator / out.denominator)


def adoption_a2(adoptions: ir.Table, ad1: ir.Table) -> ir.Table:
    """A2: average days between the court's authority to place (the first episode under a placement
    order, legal status E1, or a freeing order D1, in the period of care) and the match with adopters
    (AD1 ``DATE_MATCH``), for children adopted in the year (adoption scorecard A2)."""
    po = adoptions.filter(adoptions.order.notnull())
    a = (
        ad1.filter(ad1.DATE_MATCH.notnull())
        .group_by(["LA", "YEAR", "CHILD"])
        .agg(match=ad1.DATE_MATCH.max())
    )
    k = po.join(a, ["LA", "YEAR", "CHILD"]).mutate(d=lambda t: days(t.order, t.match))
    out = k.group_by(["LA", "YEAR"]).agg(
        numerator=k.d.sum().cast("float64"), denominator=k.count().cast("float64")
    )
    return out.mutate(value=out.numerator / out.denominator)


def _care_leavers(oc3: ir.Table) -> ir.Table:
    """Care leavers reported in the year, those who died left out."""
    return oc3.filter(oc3.IN_TOUCH.isnull() | (oc3.IN_TOUCH != "DIED"))


def care_leavers_in_touch(oc3: ir.Table) -> ir.Table:
    """Care leavers the authority was in touch with (IN_TOUCH YES), % of care leavers (OC3) who had not
    died. LAIT ``CareLeavers_LA_NotInTouch`` is its complement."""
    t = _care_leavers(oc3)
    return _share(t, (t.IN_TOUCH == "YES").cast("int64").sum(), t.count())


def care_leavers_accommodation(oc3: ir.Table) -> ir.Table:
    """Care leavers in suitable accommodation (ACCOM ending 1), % of care leavers. LAIT ``CareLeaverAcc``."""
    t = _care_leavers(oc3)
    return _share(t, t.ACCOM.fill_null("").endswith("1").cast("int64").sum(), t.count())


def care_leavers_eet(oc3: ir.Table) -> ir.Table:
    """Care leavers in education, employment or training (ACTIV F* or P*: full or part time), % of care
    leavers. LAIT ``CareLeaverEET``."""
    t = _care_leavers(oc3)
    a = t.ACTIV.fill_null("")
    return _share(t, (a.startswith("F") | a.startswith("P")).cast("int64").sum(), t.count())


def missing_children(children: ir.Table, missing: ir.Table) -> ir.Table:
    """Children looked after during the year who went missing (MISSING M) at least once in the year,
    % of children looked after during the year. LAIT ``Children_missing``."""
    keys = ["LA", "YEAR", "CHILD"]
    c = children.filter(children.in_year).select(*keys)
    m = missing.filter((missing.MISSING == "M") & in_year(missing.MIS_START, missing))
    went = m.select(*keys).distinct().mutate(went=ibis.literal(1))
    # the children who went missing are few: a left join against them, not a second grouping of
    # the episodes by child
    j = c.left_join(went, keys)
    return _share(j, j.went.notnull().cast("int64").sum(), j.count())


def missing_episodes(missing: ir.Table) -> ir.Table:
    """Missing episodes (MISSING M) that started in the year."""
    m = missing.filter((missing.MISSING == "M") & in_year(missing.MIS_START, missing))
    return _count(m, m.count())


# ------------------------------------------------------------------------------- CIN census


def referrals(cin_details: ir.Table) -> ir.Table:
    """Referrals received in the year (CIN episodes whose referral date is in the year). LAIT ``CIN_Referrals``."""
    r = cin_details.filter(in_year(cin_details.CINreferralDate, cin_details))
    return _count(r, r.count())


def rereferrals_12m(cin_details: ir.Table) -> ir.Table:
    """Referrals in the year within 12 months (365 days) of the child's previous referral, % of
    referrals in the year. A referral on the same day as another counts as within 12 months of it.
    LAIT ``ReReferral``; DfE c1 table."""
    c = cin_details.filter(cin_details.CINreferralDate.notnull())
    # only the columns the window needs: it carries every column it is given through its sort
    c = c.select("LA", "YEAR", "CHILD", "EPISODE", "CINreferralDate")
    c = c.mutate(
        prev=c.CINreferralDate.lag().over(
            group_by=[c.LA, c.YEAR, c.CHILD], order_by=[c.CINreferralDate, c.EPISODE]
        )
    )
    r = c.filter(in_year(c.CINreferralDate, c))
    within = r.prev.notnull() & (days(r.prev, r.CINreferralDate) <= 365)
    return _share(r, within.cast("int64").sum(), r.count())


def assessments_45_days(assessments: ir.Table) -> ir.Table:
    """Assessments completed (authorised) in the year within 45 working days of their start, % of
    assessments completed in the year. Working days leave out weekends; bank holidays are not
    known to the return and are counted as working days. LAIT ``Continue_Assess_Comp`` (single assessment)."""
    a = assessments.filter(
        in_year(assessments.AssessmentAuthorisationDate, assessments)
        & assessments.AssessmentActualStartDate.notnull()
    )
    ok = working_days(a.AssessmentActualStartDate, a.AssessmentAuthorisationDate) <= 45
    return _share(a, ok.cast("int64").sum(), a.count())


def cpp_started(cp_plans: ir.Table) -> ir.Table:
    """Child protection plans that started in the year. DfE d3 table ``CPP_start``."""
    p = cp_plans.filter(in_year(cp_plans.CPPstartDate, cp_plans))
    return _count(p, p.count())


def cpp_subsequent(cp_plans: ir.Table) -> ir.Table:
    """Plans starting in the year that were a second or subsequent plan (NumberOfPreviousCPP above 0,
    or an earlier plan of the child in the return), % of plans starting. DfE d3 table."""
    p = cp_plans.filter(cp_plans.CPPstartDate.notnull())
    p = p.select("LA", "YEAR", "CHILD", "CPPstartDate", "NumberOfPreviousCPP")
    p = p.mutate(earlier=p.CPPstartDate.min().over(group_by=[p.LA, p.YEAR, p.CHILD]))
    s = p.filter(in_year(p.CPPstartDate, p))
    subsequent = (s.NumberOfPreviousCPP.fill_null(0) > 0) | (s.earlier < s.CPPstartDate)
    return _share(s, subsequent.cast("int64").sum(), s.count())


def cpp_2_years(cp_plans: ir.Table) -> ir.Table:
    """Plans open at 31 March that had lasted two years or more (started on or before 31 March two
    years earlier), % of plans open at 31 March. DfE d5 table; LAIT ``CPPlans2yrsActive``."""
    p = cp_plans
    end = year_end(p)
    o = p.filter((p.CPPstartDate <= end) & (p.CPPendDate.isnull() | (p.CPPendDate > end)))
    return _share(
        o, (o.CPPstartDate <= ibis.date(o.YEAR - 2, 3, 31)).cast("int64").sum(), o.count()
    )


# ------------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Derived:
    """A table derived from the return's tables that several measures read (see :func:`children`)."""

    name: str
    tables: tuple[str, ...]
    fn: Callable[..., ir.Table]


DERIVED: list[Derived] = [
    Derived("children", ("episodes",), children),
    Derived("adopted_episodes", ("episodes", "children"), adopted_episodes),
    Derived("adoptions", ("adopted_episodes",), adoptions),
]

MEASURES: list[Measure] = [
    Measure("REC_CLA_31MAR", "count", "ssda903", ("children",), cla_31mar_count),
    Measure("REC_CLA_31MAR", "rate", "ssda903", ("children", "population"), cla_31mar_rate, 10000),
    Measure("REC_CLA_STARTED", "count", "ssda903", ("children",), cla_started_count),
    Measure(
        "REC_CLA_STARTED", "rate", "ssda903", ("children", "population"), cla_started_rate, 10000
    ),
    Measure("REC_CLA_CEASED", "count", "ssda903", ("children",), cla_ceased_count),
    Measure(
        "REC_CLA_CEASED", "rate", "ssda903", ("children", "population"), cla_ceased_rate, 10000
    ),
    Measure("REC_PLACEMENTS_3PLUS", "value", "ssda903", ("children",), placements_3plus, 100),
    Measure(
        "REC_LONG_TERM_STABILITY",
        "value",
        "ssda903",
        ("children", "header"),
        long_term_stability,
        100,
    ),
    Measure("REC_PLACED_20_MILES", "value", "ssda903", ("children",), placed_20_miles, 100),
    Measure("REC_ADOPTED", "value", "ssda903", ("children",), adopted),
    Measure("REC_ADOPTION_A1", "value", "ssda903", ("adoptions",), adoption_a1),
    Measure("REC_ADOPTION_A2", "value", "ssda903", ("adoptions", "ad1"), adoption_a2),
    Measure("REC_CARE_LEAVERS_IN_TOUCH", "value", "ssda903", ("oc3",), care_leavers_in_touch, 100),
    Measure(
        "REC_CARE_LEAVERS_ACCOM", "value", "ssda903", ("oc3",), care_leavers_accommodation, 100
    ),
    Measure("REC_CARE_LEAVERS_EET", "value", "ssda903", ("oc3",), care_leavers_eet, 100),
    Measure("REC_MISSING", "children", "ssda903", ("children", "missing"), missing_children, 100),
    Measure("REC_MISSING", "episodes", "ssda903", ("missing",), missing_episodes),
    Measure("REC_REFERRALS", "value", "cin", ("cin_details",), referrals),
    Measure("REC_REREFERRALS_12M", "value", "cin", ("cin_details",), rereferrals_12m, 100),
    Measure("REC_ASSESSMENTS_45D", "value", "cin", ("assessments",), assessments_45_days, 100),
    Measure("REC_CPP_STARTED", "value", "cin", ("cp_plans",), cpp_started),
    Measure("REC_CPP_SUBSEQUENT", "value", "cin", ("cp_plans",), cpp_subsequent, 100),
    Measure("REC_CPP_2YRS", "value", "cin", ("cp_plans",), cpp_2_years, 100),
]


def derived_names(available: set[str] | dict) -> set[str]:
    """The derived tables that can be built from the tables ``available``."""
    have, out = set(available), set()
    for d in DERIVED:  # in dependency order
        if all(t in have for t in d.tables):
            have.add(d.name)
            out.add(d.name)
    return out


def needed(measures: list[Measure]) -> list[Derived]:
    """The derived tables the measures read, directly or through another derived table, in order."""
    names = {t for m in measures for t in m.tables}
    for d in reversed(DERIVED):
        if d.name in names:
            names |= set(d.tables)
    return [d for d in DERIVED if d.name in names]


def with_derived(tables: dict[str, ir.Table], derived: list[Derived]) -> dict[str, ir.Table]:
    """The tables with each derived table added as an expression over them (not yet computed)."""
    out = dict(tables)
    for d in derived:
        if d.name not in out and all(t in out for t in d.tables):
            out[d.name] = d.fn(*(out[t] for t in d.tables))
    return out


def measure_expr(m: Measure, tables: dict[str, ir.Table]) -> ir.Table:
    """The measure's expression with the indicator and measure named (one row per authority and year).

    A derived table the measure reads and ``tables`` lacks is built inline from the return's tables."""
    tables = with_derived(tables, needed([m]))
    e = m.fn(*(tables[t] for t in m.tables))
    return e.select(
        indicator=ibis.literal(m.indicator),
        measure=ibis.literal(m.measure),
        LA=e.LA,
        YEAR=e.YEAR.cast("int32"),
        value=e.value.cast("float64"),
        numerator=e.numerator.cast("float64"),
        denominator=e.denominator.cast("float64"),
    )


def applicable(tables: dict[str, ir.Table], measures: list[Measure] | None = None) -> list[Measure]:
    """The measures whose tables are all present (or derived from present ones)."""
    have = set(tables) | derived_names(tables)
    return [m for m in (measures or MEASURES) if all(t in have for t in m.tables)]
