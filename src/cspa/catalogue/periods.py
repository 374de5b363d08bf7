"""Typed reporting periods, parsed from every form the seeds and DfE files print.

The seeds print the same kinds of period many ways: ``2006/07``, ``2006-07``,
``05-06``, ``2005 /06`` (financial or academic years), ``2007`` (an academic or a
calendar year, depending on the indicator), ``2004-06`` and ``1999-2001`` (pooled
multi-year periods, seed 000:L381-387), ``As at 31 Jan 2006`` (snapshots,
000:L528), ``Jan-Mar 2008`` and ``1st Qtr Jun 07`` (quarters, seed 001), and
``1994 - 1998 Average`` (a baseline, 000:L876). DfE files add ``202425`` and
``2025``. :func:`parse_period` turns each into a :class:`Period` with a canonical
key, dates and kind; the label as printed is kept beside it by the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cspa.errors import PeriodError

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
QUARTER_END_MONTH = {1: 6, 2: 9, 3: 12, 4: 3}

KINDS = (
    "financial_year",
    "academic_year",
    "calendar_year",
    "multi_year",
    "quarter",
    "snapshot",
    "term",
)


@dataclass(frozen=True, order=False)
class Period:
    """A reporting period. ``key`` is canonical and unique; ``start``/``end`` order periods."""

    kind: str
    key: str
    start: date
    end: date
    first_year: int
    last_year: int
    quarter: int | None = None

    def sort_key(self) -> tuple[date, date]:
        return (self.end, self.start)

    @property
    def label(self) -> str:
        """A readable default label (the store keeps the printed one)."""
        if self.kind in ("financial_year", "academic_year"):
            return f"{self.first_year}/{str(self.last_year)[-2:]}"
        if self.kind == "calendar_year":
            return str(self.first_year)
        if self.kind == "quarter":
            return f"{self.first_year}-{str(self.first_year + 1)[-2:]} Q{self.quarter}"
        if self.kind == "snapshot":
            return self.end.isoformat()
        return f"{self.first_year}-{self.last_year}"


def _year(s: str, ref: int | None = None) -> int:
    """A 2- or 4-digit year; a 2-digit year is read in the century that makes it follow ``ref``."""
    y = int(s)
    if len(s) == 4:
        return y
    if ref is not None:
        c = ref - ref % 100 + y
        return c if c >= ref else c + 100
    return 1900 + y if y >= 50 else 2000 + y


def financial_year(y: int) -> Period:
    return Period(
        "financial_year", f"FY{y}-{str(y + 1)[-2:]}", date(y, 4, 1), date(y + 1, 3, 31), y, y + 1
    )


def academic_year(y: int) -> Period:
    """Academic year starting September ``y`` (results published as ``y+1``)."""
    return Period(
        "academic_year", f"AY{y}-{str(y + 1)[-2:]}", date(y, 9, 1), date(y + 1, 8, 31), y, y + 1
    )


def calendar_year(y: int) -> Period:
    return Period("calendar_year", f"CY{y}", date(y, 1, 1), date(y, 12, 31), y, y)


def multi_year(a: int, b: int, basis: str = "calendar") -> Period:
    """Pooled years ``a``..``b`` inclusive (e.g. infant mortality 2004-06, 000:L381)."""
    if basis == "financial":
        return Period("multi_year", f"FY{a}-{b}", date(a, 4, 1), date(b, 3, 31), a, b)
    return Period("multi_year", f"CY{a}-{b}", date(a, 1, 1), date(b, 12, 31), a, b)


def fy_quarter(fy_start: int, q: int) -> Period:
    """Quarter ``q`` (1 = Apr-Jun) of the financial year starting April ``fy_start``."""
    end_month = QUARTER_END_MONTH[q]
    end_year = fy_start + (1 if q == 4 else 0)
    start_month = end_month - 2
    last_day = {3: 31, 6: 30, 9: 30, 12: 31}[end_month]
    return Period(
        "quarter",
        f"FY{fy_start}-{str(fy_start + 1)[-2:]}-Q{q}",
        date(end_year, start_month, 1),
        date(end_year, end_month, last_day),
        fy_start,
        fy_start + 1,
        q,
    )


def snapshot(d: date) -> Period:
    return Period("snapshot", f"D{d.isoformat()}", d, d, d.year, d.year)


# Release qualifiers printed after a period: LAIT's "(OT)" outturn, "(Rev)", "(prov)", "(Final)".
QUALIFIER = re.compile(r"\s*\((?:provisional|prov\.?|p|rev(?:ised)?|final|ot|outturn)\)\s*$", re.I)
_TWOTWO = re.compile(r"^(\d{4})\s*/\s*(\d{2})\s*-\s*(\d{2})\s*/\s*(\d{2})$")
_TWO = re.compile(r"^(\d{2}|\d{4})\s*[-/]\s*(\d{2}|\d{4})$")
_RANGE_AVG = re.compile(r"^(\d{4})\s*-\s*(\d{4})\s*average$", re.I)
_ASAT = re.compile(
    r"^(?:as\s+at\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3})[a-z]*\.?\s+(\d{2}|\d{4})$", re.I
)
_MONRANGE = re.compile(r"^([a-z]{3})[a-z]*\s*-\s*([a-z]{3})[a-z]*\s+(\d{2}|\d{4})$", re.I)
_QTR = re.compile(
    r"^([1-4])\s*(?:st|nd|rd|th)?\s*(?:qtr|quarter)\b\s*([a-z]{3})[a-z]*\s*'?(\d{2}|\d{4})", re.I
)
_QKEY = re.compile(r"^(?:FY)?(\d{4})-(\d{2})-?Q([1-4])$", re.I)
_QYEAR = re.compile(r"^Q([1-4])\s+(\d{4})\s*[-/]\s*(\d{2}|\d{4})$", re.I)
_COHORT = re.compile(r"^(\d{4})\s+cohort\b.*$", re.I)
_TERM = re.compile(
    r"^(autumn|spring|summer)(?:\s*(?:&|and)\s*(spring|summer))?\s+terms?(?:\s+only)?\s+"
    r"(\d{2}|\d{4})\s*/\s*(\d{1,2}|\d{4})$",
    re.I,
)
_FULLYEAR = re.compile(
    r"^full\s+year(?:\s*\(3\s+terms\))?\s+(\d{2}|\d{4})\s*/\s*(\d{1,2}|\d{4})$", re.I
)
TERM_MONTHS = {
    "autumn": ((9, 1), (12, 31)),
    "spring": ((1, 1), (3, 31)),
    "summer": ((4, 1), (8, 31)),
}
_EES = re.compile(r"^(\d{4})(\d{2})$")
_KEY = re.compile(r"^(FY|AY|CY)(\d{4})(?:-(\d{2}|\d{4}))?$")
_DKEY = re.compile(r"^D(\d{4})-(\d{2})-(\d{2})$")


# Years a period of children's services data can fall in: '0000' or '9999' is a typing slip,
# refused by name rather than read as a date Python cannot make (or one nobody means).
FIRST_YEAR, LAST_YEAR = 1900, 2199


def parse_period(text: str, year_type: str = "financial") -> Period:
    """Parse a printed period (see :func:`_parse_period`); a year outside 1900-2199 or a day
    that does not exist (``As at 31 Feb 2008``) is a :class:`~cspa.errors.PeriodError`."""
    try:
        p = _parse_period(text, year_type)
    except (ValueError, OverflowError) as e:
        if isinstance(e, PeriodError):
            raise
        reason = (
            f"years run from {FIRST_YEAR} to {LAST_YEAR}"
            if "year" in str(e)
            else f"not a date ({e})"
        )
        raise PeriodError(text, reason) from None
    if not (p.first_year >= FIRST_YEAR and p.last_year <= LAST_YEAR):
        raise PeriodError(text, f"years run from {FIRST_YEAR} to {LAST_YEAR}")
    return p


def _parse_period(text: str, year_type: str = "financial") -> Period:
    """Parse a printed period.

    ``year_type`` (an indicator's catalogue field) decides what a two-year form such as
    ``2006-07`` (financial or academic) and a bare year such as ``2007`` mean: for
    ``academic`` the bare year is the academic year *ending* that summer, as the attainment
    tables print it (000:L3060); for ``calendar`` and ``multi_year`` it is a calendar year.
    Raises :class:`~cspa.errors.PeriodError` naming the text if it cannot be read.
    """

    raw = text
    s = " ".join(str(text).replace("\u2013", "-").replace("\u2014", "-").split())
    s = QUALIFIER.sub("", s)
    if not s:
        raise PeriodError(raw, "empty period")
    low = s.lower()

    if m := _KEY.match(s):
        kind, a, b = m.groups()
        y = int(a)
        if kind == "FY" and (b is None or len(b) == 2):
            return financial_year(y)
        if kind == "AY":
            return academic_year(y)
        if kind == "CY" and b is None:
            return calendar_year(y)
        if b is not None:
            return multi_year(y, int(b), "financial" if kind == "FY" else "calendar")
    if m := _DKEY.match(s):
        return snapshot(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    if m := _QKEY.match(s):
        return fy_quarter(int(m.group(1)), int(m.group(3)))
    if m := _QYEAR.match(s):
        return fy_quarter(int(m.group(2)), int(m.group(1)))
    if m := _QTR.match(s):
        q = int(m.group(1))
        month = MONTHS.get(m.group(2).lower()[:3])
        year = _year(m.group(3))
        if month is None:
            raise PeriodError(raw, "unknown month")
        fy = year if month >= 4 else year - 1
        expected = {4: 1, 5: 1, 6: 1, 7: 2, 8: 2, 9: 2, 10: 3, 11: 3, 12: 3, 1: 4, 2: 4, 3: 4}[
            month
        ]
        if expected != q:
            raise PeriodError(raw, f"quarter {q} does not end in {m.group(2)}")
        return fy_quarter(fy, q)
    if m := _MONRANGE.match(s):
        a, b = MONTHS.get(m.group(1).lower()), MONTHS.get(m.group(2).lower())
        year = _year(m.group(3))
        if a and b and (b - a) % 12 == 2 and b in (3, 6, 9, 12):
            q = {6: 1, 9: 2, 12: 3, 3: 4}[b]
            return fy_quarter(year if b >= 4 else year - 1, q)
        raise PeriodError(raw, "a month range must be a financial quarter (e.g. Jan-Mar 2008)")
    if m := _ASAT.match(s):
        month = MONTHS.get(m.group(2).lower()[:3])
        if month is None:
            raise PeriodError(raw, "unknown month")
        try:
            return snapshot(date(_year(m.group(3)), month, int(m.group(1))))
        except ValueError as e:
            raise PeriodError(raw, str(e)) from None
    if m := _RANGE_AVG.match(s):
        return multi_year(int(m.group(1)), int(m.group(2)))
    if m := _EES.match(s):
        a, b = int(m.group(1)), int(m.group(2))
        if (a + 1) % 100 == b:
            return financial_year(a) if year_type == "financial" else academic_year(a)
        raise PeriodError(raw, "six-digit periods are two consecutive years, e.g. 202425")
    if m := _TWOTWO.match(s):
        # A range of two-year periods, e.g. LAIT's 2013/14-15/16 (three years pooled).
        a = int(m.group(1))
        b = _year(m.group(4), ref=a)
        return multi_year(a, b, "financial" if year_type == "financial" else "calendar")
    if m := _TWO.match(s):
        a = _year(m.group(1))
        b = _year(m.group(2), ref=a)
        if b == a + 1:
            if year_type == "academic":
                return academic_year(a)
            if year_type == "calendar":
                return multi_year(a, b)
            return financial_year(a)
        if a + 1 < b <= a + 10:
            return multi_year(a, b, "financial" if year_type == "financial" else "calendar")
        raise PeriodError(
            raw, "the second year must follow the first (ranges span at most ten years)"
        )
    if m := _TERM.match(s):
        # School terms of an academic year, cumulative when two are named (termly monitoring, 001:L195-197).
        ay = _year(m.group(3))
        first, last = m.group(1).lower(), (m.group(2) or m.group(1)).lower()
        (sm, sd), (em, ed) = TERM_MONTHS[first][0], TERM_MONTHS[last][1]
        start = date(ay if sm >= 9 else ay + 1, sm, sd)
        end = date(ay if em >= 9 else ay + 1, em, ed)
        tag = (
            "T"
            + {"autumn": "1", "spring": "2", "summer": "3"}[first]
            + ("-" + {"spring": "2", "summer": "3"}[last] if m.group(2) else "")
        )
        return Period("term", f"AY{ay}-{str(ay + 1)[-2:]}-{tag}", start, end, ay, ay + 1)
    if m := _FULLYEAR.match(s):
        return academic_year(_year(m.group(1)))
    if m := _COHORT.match(s):
        # A cohort named by its year (YJB recidivism: "2002 cohort after 12 months", 000 ea2 pages).
        return calendar_year(int(m.group(1)))
    if re.fullmatch(r"\d{4}", s):
        y = int(s)
        if year_type == "academic":
            return academic_year(y - 1)
        if year_type == "financial":
            # A bare year on a financial-year indicator is the year ending 31 March (DfE files print 2025).
            return financial_year(y - 1)
        return calendar_year(y)
    raise PeriodError(raw, f"not a period form cspa knows ({low!r})")


def qualifier(text: str) -> str | None:
    """The release qualifier printed with a period (``2025 (prov)`` -> ``prov``), if any."""
    m = QUALIFIER.search(str(text))
    return m.group(0).strip(" ()").lower() if m else None


def covers(range_text: str, period: Period) -> bool:
    """Whether a band row's period range (e.g. ``2006-08``, ``2004-05``, ``2005``) covers ``period``.

    Seed band rows are keyed by ranges of years (000:L1395-1397): ``2006-08`` covers the
    financial years 2006-07 and 2007-08; a single year covers the period ending in it.
    """
    s = range_text.strip()
    if m := _TWO.match(s):
        a = _year(m.group(1))
        b = _year(m.group(2), ref=a)
        return a <= period.first_year and period.last_year <= b
    if re.fullmatch(r"\d{4}", s):
        y = int(s)
        return period.last_year == y or (period.first_year == y and period.kind == "calendar_year")
    if s.lower() in ("all", "*"):
        return True
    raise PeriodError(range_text, "a band period range reads like 2006-08 or 2005")
