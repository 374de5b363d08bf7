"""Periods parse from every form the seeds and DfE files print."""

from __future__ import annotations

from datetime import date

import pytest

from cspa.catalogue.periods import covers, parse_period
from cspa.errors import PeriodError


@pytest.mark.parametrize(
    ("text", "year_type", "key"),
    [
        ("2006/07", "financial", "FY2006-07"),  # 000:L221
        ("2006-07", "financial", "FY2006-07"),  # 000:L1380
        ("05-06", "financial", "FY2005-06"),
        ("2005 /06", "financial", "FY2005-06"),  # 001:L38 (OCR spacing)
        ("2007", "academic", "AY2006-07"),  # attainment year 2007 = 2006/07 (000:L19)
        ("2007", "calendar", "CY2007"),
        ("2004-06", "multi_year", "CY2004-2006"),  # 000:L381 pooled years
        ("1999-2001", "multi_year", "CY1999-2001"),  # 000:L386
        ("As at 31 Jan 2006", "snapshot", "D2006-01-31"),  # 000:L528
        ("Jan-Mar 2008", "financial", "FY2007-08-Q4"),
        ("1st Qtr Jun 07", "financial", "FY2007-08-Q1"),  # 001:L38
        ("4th Qtr Mar 08 (provisional)", "financial", "FY2007-08-Q4"),
        ("2007-08-Q4", "financial", "FY2007-08-Q4"),
        ("1994 - 1998 Average", "calendar", "CY1994-1998"),  # 000:L876
        ("202425", "financial", "FY2024-25"),  # DfE EES time_period
        ("2025", "financial", "FY2024-25"),
        ("2018 (Rev)", "academic", "AY2017-18"),  # LAIT qualifiers
        ("2013/14-15/16", "academic", "CY2013-2016"),
    ],
)
def test_parse(text, year_type, key):
    assert parse_period(text, year_type).key == key


def test_dates_and_order():
    q4 = parse_period("Jan-Mar 2008")
    assert (q4.start, q4.end) == (date(2008, 1, 1), date(2008, 3, 31))
    labels = ["2007-08", "2005-06", "2006-07"]
    assert sorted(labels, key=lambda s: parse_period(s).sort_key()) == [
        "2005-06",
        "2006-07",
        "2007-08",
    ]


@pytest.mark.parametrize(
    "bad",
    ["", "20O7", "2007-05", "5th Qtr Jun 07", "1st Qtr Dec 07", "Jan-Feb 2008", "31 Feb 2008"],
)
def test_bad_periods_are_named(bad):
    with pytest.raises(PeriodError) as e:
        parse_period(bad)
    assert repr(bad) in str(e.value) or "empty" in str(e.value)


def test_band_period_ranges():
    # 000:L1397: the 2006-08 row covers 2006-07 and 2007-08, not 2005-06.
    assert covers("2006-08", parse_period("2007-08"))
    assert covers("2006-08", parse_period("2006-07"))
    assert not covers("2006-08", parse_period("2005-06"))
    assert covers("2004-05", parse_period("2004-05"))


def test_band_ranges_are_year_ranges_only():
    # a band row is keyed by years; a cohort or term label is not a band period range
    with pytest.raises(PeriodError):
        covers("2002 cohort after 12 months", parse_period("2002", "calendar"))
