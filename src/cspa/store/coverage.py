"""What the store holds for one area: its own figures by framework and year.

A report is about the area asked for. Before a report is built for an area, framework and year,
the report builders ask here whether the area has any figure of its own there, and, when it has
none, tell the user which frameworks and years it does have (so a refusal says what to ask for
instead). An area's own figures are those filed under its code and under the geographies the
catalogue maps to it (a drug action team, youth offending team or primary care trust whose
``parent`` is the authority: ``data/areas/seed_geographies*.csv``).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import duckdb

from cspa.catalogue.areas import Area, load_areas
from cspa.catalogue.load import load_catalogue
from cspa.errors import CspaError
from cspa.store.sql import in_list, string

__all__ = [
    "Coverage",
    "area_coverage",
    "coverage_sentence",
    "not_then",
    "not_yet",
    "own_codes",
    "refuse_not_yet",
]

#: Area types that are an authority or a region: a geography of any other type belongs to the
#: authority (or region) its ``parent`` chain reaches, and only to that one.
OWNING_TYPES = ("la", "region")


def owner_of(code: str) -> str | None:
    """The authority or region whose reports show figures filed under ``code``: the area itself
    when it is one, else the first authority or region on its ``parent`` chain; '' for a country
    (every report shows England); None for a geography the catalogue maps to no authority
    (a youth offending team covering several authorities), which no report shows."""
    areas = load_areas()
    seen: set[str] = set()
    area = areas.get(code)
    while area is not None and area.code not in seen:
        if area.type in OWNING_TYPES:
            return area.code
        if area.type == "country":
            return ""
        seen.add(area.code)
        area = areas.get(area.parent) if area.parent else None
    return None


@functools.cache
def mapped_owners() -> dict[str, str | None]:
    """Every catalogue geography that is neither an authority, a region nor a country, with the
    authority or region it belongs to (:func:`owner_of`; None: none)."""
    return {
        a.code: owner_of(a.code)
        for a in load_areas()
        if a.type not in (*OWNING_TYPES, "country", "sn_group")
    }


def own_codes(area: Area) -> tuple[str, ...]:
    """The area's code and the codes of the geographies the catalogue maps to it."""
    return (area.code, *sorted(c for c, o in mapped_owners().items() if o == area.code))


@dataclass(frozen=True)
class Coverage:
    """The area's own figures in one framework: how many indicators, first and last year."""

    framework: str
    title: str
    indicators: int
    first: int
    last: int

    def years(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first} to {self.last}"


def area_coverage(
    con: duckdb.DuckDBPyConnection,
    area: Area,
    framework: str | None = None,
    up_to: dt.date | None = None,
) -> list[Coverage]:
    """The frameworks in which ``area`` has figures of its own (values, not only status symbols),
    with the years their periods end in; only ``framework`` and periods ending by ``up_to`` when
    given. A dated framework (``Framework.as_at``: the 2008 APA dataset) counts only the figures
    released by its date, as its reports show them (``Selection.document``): a figure published
    later is no part of it, so a refusal never points at a report that would show nothing."""
    dated = {k: f.as_at for k, f in load_catalogue().frameworks.items() if f.as_at is not None}
    released = "o.is_current"
    if dated:
        released = (
            "CASE "
            + " ".join(
                f"WHEN i.framework = {string(k)} THEN l.released <= {string(d.isoformat())}::DATE"
                for k, d in sorted(dated.items())
            )
            + " ELSE o.is_current END"
        )
    cond = [f"o.area IN {in_list(own_codes(area))}", "o.value IS NOT NULL", f"({released})"]
    params: list = []
    if framework is not None:
        cond.append("i.framework = ?")
        params.append(framework)
    if up_to is not None:
        cond.append("o.period_end <= ?")
        params.append(up_to)
    rows = con.execute(
        f"""SELECT i.framework, count(DISTINCT o.indicator), min(year(o.period_end)),
                   max(year(o.period_end))
            FROM observation o JOIN indicator i ON i.code = o.indicator
            LEFT JOIN load_log l ON l.load_id = o.load_id
            WHERE {" AND ".join(cond)}
            GROUP BY 1 ORDER BY 1""",
        params,
    ).fetchall()
    frameworks = load_catalogue().frameworks
    return [
        Coverage(fw, frameworks[fw].title if fw in frameworks else fw, n, int(lo), int(hi))
        for fw, n, lo, hi in rows
        if lo is not None
    ]


def coverage_sentence(area: Area, coverage: list[Coverage]) -> str:
    """What the store holds for ``area``, as one sentence for a refusal."""
    if not coverage:
        return f"cspa holds no figures of {area.name}'s own in any framework."
    parts = [
        f"{c.title} (--framework {c.framework}): {c.indicators} indicator"
        f"{'s' if c.indicators != 1 else ''}, periods ending {c.years()}"
        for c in coverage
    ]
    return f"cspa holds {area.name}'s own figures for: " + "; ".join(parts) + "."


def not_then(area: Area, year: int) -> str:
    """Why there is no report of ``area`` in ``year``: it had not begun, or had ceased (the dates
    :meth:`Area.existed_in` uses: ``la_lifetimes.csv`` first, else mySociety's and the successors')."""
    areas = load_areas()
    end = area.exists_until + dt.timedelta(days=1) if area.exists_until else area.end
    if end is not None and end <= dt.date(year, 1, 1):
        successors = [a for a in (areas.get(s) for s in area.successors) if a is not None]
        after = ", ".join(a.name for a in successors)
        return (
            f"{area.name} ceased on {end.day} {end:%B %Y}"
            + (f" (succeeded by {after})" if after else "")
            + f", so there is no report of it in {year}; ask for {end.year - 1} or earlier."
        )
    start = area.exists_from or area.start or dt.date(year, 1, 1)
    return (
        f"{area.name} began on {start.day} {start:%B %Y}, so there is no report of it in {year}; "
        f"ask for {start.year} or later."
    )


def not_yet(year: int, today: dt.date | None = None) -> str | None:
    """Why there is no report for ``year``, when it is after the current year (else None).

    A report for a year is of the periods ending by that year, so one for a year to come would be
    today's latest figures under a year they are not of: a mistyped 2031 for 2021 would get a
    report headed 2031 of 2025's figures, and a letter proposing grades for a year no one has
    inspected yet."""
    today = today or dt.date.today()
    if year <= today.year:
        return None
    return (
        f"{year} has not come yet (today is {today.day} {today:%B %Y}): a report for a year is of "
        f"the periods ending by then; ask for {today.year} or earlier."
    )


def refuse_not_yet(year: int) -> None:
    """Raise :class:`CspaError` saying why (:func:`not_yet`) when ``year`` is after the current one."""
    if why := not_yet(year):
        raise CspaError(why)
