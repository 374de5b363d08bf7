"""Report periods and table columns of the quarterly report.

A quarterly report is for one financial quarter (``2007-08-Q4`` = January to March 2008, seed
001:L3). Its tables show the previous financial years and the quarters of the report year up to
the report quarter (001:L39 ``2005 /06  2006/ 07  1 st Qtr Jun 07 ... 4th Qtr Mar 08``); labels
are made the way the seed prints them (``2005/06``, ``1st Qtr Jun 07``).
"""

from __future__ import annotations

import calendar
from datetime import date

from cspa.catalogue.periods import (
    Period,
    academic_year,
    calendar_year,
    financial_year,
    fy_quarter,
    parse_period,
)
from cspa.errors import CspaError, PeriodError

ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}


def report_period(text: str) -> Period:
    """The report's quarter from ``2007-08-Q4``, ``Q4 2007/08``, ``Jan-Mar 2008`` or ``4th Qtr Mar 08``."""
    try:
        p = parse_period(str(text), "financial")
    except PeriodError as e:
        raise CspaError(
            f"--period {text!r}: {e.reason}. Give a financial quarter such as 2007-08-Q4."
        ) from None
    if p.kind != "quarter":
        raise CspaError(
            f"--period {text!r} is a {p.kind.replace('_', ' ')}, not a quarter; give e.g. 2007-08-Q4."
        )
    return p


def quarter_words(p: Period) -> str:
    """``January to March 2008`` (the seed's "Reporting Period", 001:L3)."""
    first = date(p.start.year, p.start.month, 1)
    return f"{calendar.month_name[first.month]} to {calendar.month_name[p.end.month]} {p.end.year}"


def seed_label(p: Period) -> str:
    """A period label in the seed's style: ``1st Qtr Jun 07``, ``2005/06``; academic years by the
    year they end (the attainment tables print ``2007``, 001:L233); calendar years as the year."""
    if p.kind == "quarter":
        return (
            f"{ORDINALS[p.quarter]} Qtr {calendar.month_abbr[p.end.month]} {p.end.year % 100:02d}"
        )
    if p.kind == "financial_year":
        return f"{p.first_year}/{p.last_year % 100:02d}"
    if p.kind == "academic_year":
        return str(p.last_year)
    if p.kind == "calendar_year":
        return str(p.first_year)
    return p.label


def window_start(p: Period, previous_years: int) -> date:
    """Columns end after this date: the start of the financial year ``previous_years`` before."""
    return date(p.first_year - previous_years, 4, 1)


def offered_periods(p: Period, columns: str, previous_years: int, year_type: str) -> list[Period]:
    """Columns a table offers even when empty, so that the template has a row for each.

    ``quarterly``: the previous financial years and the quarters of the report year up to the
    report quarter; ``annual``: the year (of the indicator's year type) holding the report
    period's end and the years before; ``as_recorded``: none.
    """
    if columns == "quarterly":
        fy = p.first_year
        return [financial_year(fy - k) for k in range(previous_years, 0, -1)] + [
            fy_quarter(fy, q) for q in range(1, p.quarter + 1)
        ]
    if columns == "annual":
        end = p.end
        if year_type == "academic":
            last = academic_year(end.year if end.month >= 9 else end.year - 1)
            make = academic_year
        elif year_type == "calendar":
            last = calendar_year(end.year)
            make = calendar_year
        else:
            last = financial_year(p.first_year)
            make = financial_year
        return [make(last.first_year - k) for k in range(previous_years, -1, -1)]
    return []


def parse_for(label: str, year_type: str) -> Period:
    """Parse a label typed in a template or CSV; raises PeriodError naming the text."""
    return parse_period(str(label), year_type)
