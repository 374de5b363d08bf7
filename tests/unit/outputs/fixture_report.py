"""A realistic report document (see docs/report-spec.md) for the renderer tests.

Figures are transcribed from the seed document ``shared/seeds/000_1755010fd6423bb4.txt``
(Ofsted APA dataset, Luton, Version 2 - Final, September 2008); the line numbers are
given beside each table.  Where the seed's text lost the shading (traffic lights),
this fixture leaves ``light`` empty rather than invent one, except for the PAF-banded
indicators, whose bands and colours follow from the printed cut-offs.

Seven indicators with different table shapes:

* 1003HC  health, rows are periods, columns include significance flags (L215-222)
* 2022SC  PAF-banded, lights on every row, three band rows (L1375-1397)
* 2054SC  suppressed values ``-`` on the area row, no lights (L2553-2560)
* 2059SC  symmetric nine-band indicator (middle band best) (L2760-2777)
* 3002OF  attainment with year-on-year change columns (computed) (L3059-3066)
* 3091DE  row groups with ``n/a``, ``#`` and ``..`` statuses (L3936-3943)
* 3067AC  quartile position, periods as row groups, measures as rows (L4035-4056)
"""

from __future__ import annotations

import copy
from typing import Any

AREA = "Luton"

PAF_COLOURS = {1: "red", 2: "amber", 3: "amber", 4: "green", 5: "green"}


def _cell(
    display: str,
    *,
    status: str | None = None,
    light: str | None = None,
    blobs: int | None = None,
    band_range: str | None = None,
    source: str = "input",
    basis: str = "",
) -> dict[str, Any]:
    return {
        "display": display,
        "status": status,
        "light": light,
        "blobs": blobs,
        "band_range": band_range,
        "source": source,
        "basis": basis,
    }


def _num(display: str) -> float | None:
    text = display.replace("%", "").replace("£", "").replace(",", "").strip()
    try:
        return float(text)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- 2022SC

_2022_BANDS = [
    {
        "periods": "2004-05",
        "cutoffs": ["0<45", "45<55", "55<65", "65<75", "75<=100"],
        "blobs": [1, 2, 3, 4, 5],
    },
    {
        "periods": "2005-06",
        "cutoffs": ["0<45", "45<60", "60<70", "70<80", "80<=100"],
        "blobs": [1, 2, 3, 4, 5],
    },
    {
        "periods": "2006-08",
        "cutoffs": ["0<60", "60<70", "70<75", "75<80", "80<=100"],
        "blobs": [1, 2, 3, 4, 5],
    },
]


def _band_for(value: float, band: dict[str, Any]) -> tuple[int, str]:
    """Fixture helper only: find the printed band a printed value falls in."""
    for cutoff, blobs in zip(band["cutoffs"], band["blobs"], strict=True):
        if "<=" in cutoff:
            lo, hi = cutoff.split("<=")
            if float(lo) <= value <= float(hi):
                return blobs, cutoff
        elif "<" in cutoff:
            lo, hi = cutoff.split("<")
            if float(lo) <= value < float(hi):
                return blobs, cutoff
    raise ValueError(f"{value} in no band")


def _paf_rows(
    periods: list[str],
    rows: list[tuple[str, str, list[str], str]],
    bands_for_period: dict[str, dict[str, Any]],
    framework_note: str,
) -> list[dict[str, Any]]:
    out = []
    for label, geography, displays, source in rows:
        cells = []
        for period, display in zip(periods, displays, strict=True):
            band = bands_for_period[period]
            blobs, rng = _band_for(float(display), band)
            light = PAF_COLOURS[blobs]
            made = (
                "Published by the source"
                if source == "published"
                else f"Input: {AREA}'s return for {period}"
            )
            basis = (
                f"{made} ({display}); PAF band {band['periods']}: {rng} "
                f"({blobs} of 5 blobs); colour {light} ({framework_note})"
            )
            cells.append(
                _cell(display, light=light, blobs=blobs, band_range=rng, source=source, basis=basis)
            )
        out.append({"label": label, "geography": geography, "cells": cells})
    return out


def _indicator_2022sc() -> dict[str, Any]:
    periods = ["2004-05", "2005-06", "2006-07", "2007-08"]
    bands = {
        "2004-05": _2022_BANDS[0],
        "2005-06": _2022_BANDS[1],
        "2006-07": _2022_BANDS[2],
        "2007-08": _2022_BANDS[2],
    }
    printed = [
        (AREA, "area", ["46", "82", "82", "74"], "input"),
        ("Statistical neighbours", "statistical_neighbours", ["64", "75", "79", "82"], "published"),
        ("England", "england", ["67", "74", "78", "80"], "published"),
    ]
    rows = _paf_rows(periods, printed, bands, "apa2008 PAF colours")
    return {
        "code": "2022SC",
        "title": "PAF CF/C64: percentage of core assessments that were completed within 35 working days of their commencement",
        "section": "Staying safe",
        "subsection": "Child protection data – child protection procedures",
        "page": 38,
        "polarity": "high",
        "unit": "percent",
        "definition": (
            "Percentage as a whole number. A core assessment is deemed to have commenced at the point "
            "at which the initial assessment ended, a strategy discussion decided to initiate enquiries "
            "under section 47 of the Children Act 1989, or new information obtained on an open case "
            "indicates that a core assessment should be undertaken."
        ),
        "numerator_definition": (
            "Of the core assessments in the denominator, the number that had been completed "
            "within 35 working days of their commencement. [Source - CPR3, Item 3, box 1]"
        ),
        "denominator_definition": (
            "The total number of core assessments in the year. If a child undergoes a core "
            "assessment more than once in the year, count each core assessment that finished "
            "during the year separately. [Source - CPR3, Item 3, box 1+ box 2]"
        ),
        "guidance": (
            "This indicator tries to establish whether children who are in the greatest need are being "
            "assessed in a timely manner as a proxy for the effectiveness of the assessment, and the "
            "meeting, of children's needs. High numbers generally indicate good performance. Low numbers "
            "generally indicate poor performance and suggest problems in allocation, and/or difficulties in "
            "joint working with other agencies."
        ),
        "health_warning": None,
        "source": "CPR3, Item 3, box 1 (numerator); CPR3, Item 3, box 1+ box 2 (denominator)",
        "owner": None,
        "related": ["2015SC", "2016SC", "2017SC", "2020SC", "2021SC", "6012SC"],
        "light_rule": "PAF band colours: 1 blob red, 2-3 amber, 4-5 green",
        "bands": copy.deepcopy(_2022_BANDS),
        "table": {
            "caption": f"Percentage of core assessments completed within 35 working days, {AREA}, 2004-05 to 2007-08",
            "columns": periods,
            "row_groups": [{"label": None, "rows": rows}],
        },
        "chart": {
            "kind": "line",
            "title": "Core assessments completed within 35 working days",
            "y_label": "%",
            "series": [
                {
                    "name": AREA,
                    "points": [
                        {"period": p, "value": v}
                        for p, v in zip(periods, [46.0, 82.0, 82.0, 74.0], strict=True)
                    ],
                },
                {
                    "name": "Statistical neighbours",
                    "points": [
                        {"period": p, "value": v}
                        for p, v in zip(periods, [64.0, 75.0, 79.0, 82.0], strict=True)
                    ],
                },
                {
                    "name": "England",
                    "points": [
                        {"period": p, "value": v}
                        for p, v in zip(periods, [67.0, 74.0, 78.0, 80.0], strict=True)
                    ],
                },
            ],
            "quartile_bands": None,
            "summary": f"{AREA}'s figure rose from 46 in 2004-05 to 82 in 2005-06 and 2006-07, then fell to 74 in 2007-08; statistical neighbours 82 and England 80 in 2007-08.",
        },
        "notes": ["The band row '2006-08' covers both 2006-07 and 2007-08."],
    }


# ----------------------------------------------------------------------------- 2059SC

_2059_BANDS = [
    {
        "periods": "2005-08",
        "cutoffs": ["0<3", "3<6", "6<7", "7<8", "8<25", ".", ".", "25<=100", "."],
        "blobs": [1, 2, 3, 4, 5, 4, 3, 2, 1],
    }
]


def _indicator_2059sc() -> dict[str, Any]:
    periods = ["2005-06", "2006-07", "2007-08"]
    band = {
        "periods": "2005-08",
        "cutoffs": ["0<3", "3<6", "6<7", "7<8", "8<25", "25<=100"],
        "blobs": [1, 2, 3, 4, 5, 2],
    }
    bands = dict.fromkeys(periods, band)
    printed = [
        (AREA, "area", ["7.5", "7.3", "7.3"], "input"),
        ("Statistical neighbours", "statistical_neighbours", ["7.2", "7.0", "7.2"], "published"),
        ("England", "england", ["7.6", "8.3", "8.8"], "published"),
    ]
    rows = _paf_rows(periods, printed, bands, "apa2008 PAF colours, symmetric bands")
    return {
        "code": "2059SC",
        "title": (
            "PAF CF/C23: number of looked after children adopted during the year as a percentage of the "
            "number of looked after children at 31 March (excluding unaccompanied asylum seekers) who had "
            "been looked after for six months or more on that day (BVPI 163)"
        ),
        "section": "Staying safe",
        "subsection": "Looked after children and care leavers data",
        "page": 66,
        "polarity": "none",
        "unit": "percent",
        "definition": "Percentage to one decimal place.",
        "numerator_definition": (
            "The number of children who ceased to be looked after during the year as a result "
            "of the granting of an adoption order excluding any unaccompanied asylum seeking "
            "children. From 2005-06 onward, children ceasing to be looked after as a result of "
            "the granting of a special guardianship order should also be included. [Source - SSDA903]"
        ),
        "denominator_definition": (
            "The total number of children who were looked after at 31 March and who at that "
            "date had been looked after for 6 months or more, excluding any unaccompanied "
            "asylum seeking children and children looked after under an agreed series of "
            "short term placements. [Source - SSDA903]"
        ),
        "guidance": (
            "A high figure is, generally, considered good performance and a low figure poor performance. "
            "A very high figure, particularly sustained over some years, should prompt further enquiry: "
            "it may be the result of a council placing children inappropriately."
        ),
        "health_warning": (
            "Small numbers in this indicator can lead to some variability in the indicator value "
            "year on year; the data needs to be treated with some caution."
        ),
        "source": "SSDA903",
        "owner": None,
        "related": ["2058SC", "2043SC", "2067SC", "2068SC", "3085SC"],
        "light_rule": "PAF band colours on symmetric bands: the middle band (5 blobs) is best; 1 blob red, 2-3 amber, 4-5 green",
        "bands": copy.deepcopy(_2059_BANDS),
        "table": {
            "caption": f"Looked after children adopted as a percentage of those looked after for six months or more, {AREA}, 2005-06 to 2007-08",
            "columns": periods,
            "row_groups": [{"label": None, "rows": rows}],
        },
        "chart": {
            "kind": "line",
            "title": "Adoptions of looked after children",
            "y_label": "%",
            "series": [
                {
                    "name": AREA,
                    "points": [
                        {"period": p, "value": v}
                        for p, v in zip(periods, [7.5, 7.3, 7.3], strict=True)
                    ],
                },
                {
                    "name": "Statistical neighbours",
                    "points": [
                        {"period": p, "value": v}
                        for p, v in zip(periods, [7.2, 7.0, 7.2], strict=True)
                    ],
                },
                {
                    "name": "England",
                    "points": [
                        {"period": p, "value": v}
                        for p, v in zip(periods, [7.6, 8.3, 8.8], strict=True)
                    ],
                },
            ],
            "quartile_bands": None,
            "summary": f"{AREA}'s figure fell from 7.5 in 2005-06 to 7.3 in 2006-07 and 2007-08; statistical neighbours 7.2 and England 8.8 in 2007-08.",
        },
        "notes": [],
    }


# ----------------------------------------------------------------------------- 2054SC


def _indicator_2054sc() -> dict[str, Any]:
    periods = ["2001-02", "2002-03", "2003-04", "2004-05", "2005-06", "2006-07", "2007-08"]
    la = ["-", "-", "8.0", "11.2", "14.1", "13.1", "13.9"]
    sn = ["15.2", "17.9", "16.3", "15.8", "14.6", "14.6", "14.9"]
    eng = ["13.3", "14.1", "13.9", "13.8", "13.4", "12.7", "12.4"]

    def row(label: str, geography: str, displays: list[str], source: str) -> dict[str, Any]:
        cells = []
        for period, d in zip(periods, displays, strict=True):
            if d == "-":
                cells.append(
                    _cell(
                        "-",
                        status="-",
                        source=source,
                        basis=f"Suppressed by the source for {period}: small numbers",
                    )
                )
            else:
                made = (
                    "Published by the source"
                    if source == "published"
                    else f"Input: {AREA}'s SSDA903 return for {period}"
                )
                cells.append(_cell(d, source=source, basis=f"{made} ({d})"))
        return {"label": label, "geography": geography, "cells": cells}

    def pts(displays: list[str]) -> list[dict[str, Any]]:
        return [{"period": p, "value": _num(d)} for p, d in zip(periods, displays, strict=True)]

    return {
        "code": "2054SC",
        "title": "Percentage of looked after children fostered by relatives or friends",
        "section": "Staying safe",
        "subsection": "Looked after children and care leavers data",
        "page": 62,
        "polarity": "high",
        "unit": "percent",
        "definition": "Percentage to one decimal place.",
        "numerator_definition": (
            "Of the children in the denominator, the number fostered by a relative or friend "
            "(placement codes F1 or F4). [Source - SSDA903]"
        ),
        "denominator_definition": (
            "The total number of children looked after at 31 March 2008 excluding any children "
            "placed with parents (placement code P1) or who were looked after on that date "
            "under an agreed series of short term placements. [Source - SSDA903]"
        ),
        "guidance": (
            "A comparatively high figure is considered good performance and a comparatively low figure, "
            "especially a very low figure, poor performance. This measure may be affected by the age "
            "structure of the council's looked after children."
        ),
        "health_warning": None,
        "source": "SSDA903",
        "owner": None,
        "related": ["2042SC", "2052SC", "2068SC"],
        "light_rule": None,
        "bands": [],
        "table": {
            "caption": f"Percentage of looked after children fostered by relatives or friends, {AREA}, 2001-02 to 2007-08",
            "columns": periods,
            "row_groups": [
                {
                    "label": None,
                    "rows": [
                        row(AREA, "area", la, "input"),
                        row("Statistical neighbours", "statistical_neighbours", sn, "published"),
                        row("England", "england", eng, "published"),
                    ],
                }
            ],
        },
        "chart": {
            "kind": "line",
            "title": "Looked after children fostered by relatives or friends",
            "y_label": "%",
            "series": [
                {"name": AREA, "points": pts(la)},
                {"name": "Statistical neighbours", "points": pts(sn)},
                {"name": "England", "points": pts(eng)},
            ],
            "quartile_bands": None,
            "summary": (
                f"{AREA}'s figure is suppressed for 2001-02 and 2002-03, then rose from 8.0 in 2003-04 to "
                "13.9 in 2007-08; statistical neighbours 14.9 and England 12.4 in 2007-08."
            ),
        },
        "notes": ["Traffic lights have not been applied to this indicator."],
    }


# ----------------------------------------------------------------------------- 1003HC


def _indicator_1003hc() -> dict[str, Any]:
    columns = [
        "Numerator",
        "Denominator",
        "Indicator value",
        "Benchmark group average",
        "Significant difference vs benchmark group?",
        "England average",
        "Significant difference vs England?",
    ]
    printed = [
        ("2006/07", ["1884", "3202", "58.8%", "67.9%", "-", "69.6%", "-"]),
        ("2005/06", ["1999", "3083", "64.8%", "81.9%", "-", "68.9%", "-"]),
        ("2003/04", ["1936", "2846", "68.0%", "75.3%", "-", "64.6%", "-"]),
    ]
    rows = []
    for period, displays in printed:
        cells = []
        for col, d in zip(columns, displays, strict=True):
            if col.startswith("Significant"):
                cells.append(
                    _cell(
                        d,
                        source="published",
                        basis="Significance flag as printed by the Healthcare Commission ('-': no significant difference flagged)",
                    )
                )
            elif col == "Indicator value":
                n, den = displays[0], displays[1]
                cells.append(
                    _cell(
                        d,
                        source="computed",
                        basis=f"{n} / {den} x 100 = {d} (mothers initiating breastfeeding / deliveries with known status)",
                    )
                )
            elif col in ("Numerator", "Denominator"):
                cells.append(
                    _cell(
                        d, source="input", basis=f"Input: Luton PCT {period}, {col.lower()} ({d})"
                    )
                )
            else:
                cells.append(
                    _cell(
                        d, source="published", basis=f"Published by the Healthcare Commission ({d})"
                    )
                )
        rows.append({"label": period, "geography": "area", "cells": cells})
    return {
        "code": "1003HC",
        "title": "Proportion of mothers initiating breast feeding",
        "section": "Being healthy",
        "subsection": "Healthy lifestyle and preventative care data",
        "page": 10,
        "polarity": "high",
        "unit": "percent",
        "definition": (
            "Time period: 1 April to 31 March. The numerator is the number of mothers known to have "
            "initiated breastfeeding. The denominator is the number of deliveries for which the "
            "breastfeeding status of the mother was known (not the total number of maternities)."
        ),
        "numerator_definition": "The number of mothers known to have initiated breastfeeding.",
        "denominator_definition": "The number of deliveries for which the breastfeeding status of the mother was known.",
        "guidance": (
            "High is good. Breastfeeding, especially in the first six months, is generally accepted to have "
            "health benefits for the child. A low percentage of mothers breastfeeding could prompt questions "
            "surrounding the PCT's health promotion schemes."
        ),
        "health_warning": (
            "Confidence intervals are not shown as the calculation uses an additive over-dispersion "
            "model; PCTs were reconfigured in October 2006."
        ),
        "source": 'Selective data submitted for the "infant health" PCT PI',
        "owner": "Healthcare Commission",
        "related": [],
        "light_rule": (
            "Green = significantly high rate with 95% confidence; amber = within the expected range; "
            "red = significantly low rate"
        ),
        "bands": [],
        "table": {
            "caption": "Proportion of mothers initiating breastfeeding, Luton PCT, 2003/04 to 2006/07",
            "columns": columns,
            "row_groups": [{"label": "Luton PCT", "rows": rows}],
        },
        "chart": None,
        "notes": [],
    }


# ----------------------------------------------------------------------------- 3002OF


def _indicator_3002of() -> dict[str, Any]:
    columns = [
        "Area",
        "SN",
        "England",
        "Validated (V) or unvalidated (U)",
        "Change years",
        "Area change",
        "SN change",
        "England change",
    ]
    printed = [
        ("2003", ["80.81", "81.57", "84.88", "V"], None),
        ("2004", ["83.54", "81.90", "85.23", "V"], ("03/04", "2.72", "0.34", "0.35")),
        ("2005", ["84.70", "81.44", "85.50", "V"], ("04/05", "1.16", "-0.46", "0.27")),
        ("2006", ["83.25", "80.40", "84.78", "U"], ("05/06", "-1.45", "-1.04", "-0.72")),
        ("2007", ["84.20", "80.21", "84.16", "V"], ("06/07", "0.95", "-0.19", "-0.62")),
    ]
    rows = []
    prev = None
    for year, (a, s, e, v), change in printed:
        cells = [
            _cell(
                a,
                source="input",
                basis=f"Input: DCSF Achievement and Attainment Tables, {AREA} {year} ({a})",
            ),
            _cell(
                s,
                source="published",
                basis=f"Published by Ofsted: statistical neighbours {year} ({s})",
            ),
            _cell(e, source="published", basis=f"Published by DCSF: England {year} ({e})"),
            _cell(v, source="published", basis="Data quality marker as printed"),
        ]
        if change is None:
            cells += [_cell("", source="published") for _ in range(4)]
        else:
            span, ca, cs, ce = change
            cells.append(_cell(span, source="computed", basis="Years compared"))
            for what, now_, before, ch in (
                ("Area", a, prev[0], ca),
                ("SN", s, prev[1], cs),
                ("England", e, prev[2], ce),
            ):
                cells.append(
                    _cell(
                        ch,
                        source="computed",
                        basis=f"{what} Level 2+ % {year} minus previous year: {now_} - {before} (from unrounded figures) = {ch}",
                    )
                )
        prev = (a, s, e)
        rows.append({"label": year, "geography": None, "cells": cells})
    years = [p[0] for p in printed]

    def pts(i: int) -> list[dict[str, Any]]:
        return [{"period": y, "value": float(p[1][i])} for y, p in zip(years, printed, strict=True)]

    return {
        "code": "3002OF",
        "title": "Teacher assessment results on reading: achievement at KS1, level 2+ (all pupils)",
        "section": "Enjoying and achieving",
        "subsection": "Key Stage 1 data",
        "page": 75,
        "polarity": "high",
        "unit": "percent",
        "definition": "The percentage of KS1 pupils who achieve at least level 2 in Reading (teacher assessment).",
        "numerator_definition": None,
        "denominator_definition": None,
        "guidance": (
            "Trend: the trend for each year is a three point moving average of the LA percentage figures; "
            "the rate of change is the slope of a regression line fitted to these moving averages."
        ),
        "health_warning": (
            "These figures include mainstream maintained schools only (i.e. no special schools or "
            "independent schools are included). Therefore figures may be different from DCSF "
            "published figures."
        ),
        "source": "DCSF Achievement + Attainment Tables",
        "owner": "RAI, Ofsted",
        "related": ["3003OF", "3004OF"],
        "light_rule": "Shading is applied to the neighbours' and national figures, comparing them with the authority",
        "bands": [],
        "table": {
            "caption": f"KS1 reading, level 2+ (%) and year-on-year change, {AREA}, 2003 to 2007",
            "columns": columns,
            "row_groups": [{"label": "Reading", "rows": rows}],
        },
        "chart": {
            "kind": "line",
            "title": "KS1 reading, level 2+",
            "y_label": "%",
            "series": [
                {"name": AREA, "points": pts(0)},
                {"name": "Statistical neighbours", "points": pts(1)},
                {"name": "England", "points": pts(2)},
            ],
            "quartile_bands": None,
            "summary": f"{AREA} rose from 80.81% in 2003 to 84.20% in 2007, above statistical neighbours (80.21%) and level with England (84.16%) in 2007.",
        },
        "notes": [
            "The shading of the neighbours' and national figures is not reproduced: it was lost in the source text."
        ],
    }


# ----------------------------------------------------------------------------- 3091DE


def _indicator_3091de() -> dict[str, Any]:
    groups = [
        (
            "fixed",
            [
                ("2005", ["1.43%", "0.87%", "1.04%"]),
                ("2006", ["n/a", "n/a", "n/a"]),
                ("2007", ["1.18%", "1.03%", "1.11%"]),
            ],
        ),
        (
            "permanent",
            [
                ("2005", ["0.04%", "..", "0.03%"]),
                ("2006", ["#", "..", "0.02%"]),
                ("2007", ["0.00%", "..", "0.02%"]),
            ],
        ),
    ]
    statuses = {"n/a": "n/a", "..": "..", "#": "#"}
    reasons = {
        "n/a": "Not applicable: fixed period exclusions were not collected for maintained primary schools in 2006",
        "..": "Not available: statistical neighbour figures are not given for permanent exclusions",
        "#": "Not shown: exclusion rate based on fewer than 3 pupils",
    }
    row_groups = []
    for label, rows in groups:
        out_rows = []
        for year, displays in rows:
            cells = []
            for who, d in zip(("Area", "SN", "England"), displays, strict=True):
                if d in statuses:
                    cells.append(_cell(d, status=statuses[d], source="published", basis=reasons[d]))
                else:
                    cells.append(
                        _cell(
                            d,
                            source="published" if who != "Area" else "input",
                            basis=f"{'Published by DCSF' if who != 'Area' else 'Input: DCSF exclusions data'} ({d})",
                        )
                    )
            out_rows.append({"label": year, "geography": None, "cells": cells})
        row_groups.append({"label": f"{label.capitalize()} exclusions", "rows": out_rows})
    return {
        "code": "3091DE",
        "title": "Percentage of fixed term and permanent exclusions in relation to the number of pupils in primary phase",
        "section": "Enjoying and achieving",
        "subsection": "Exclusions data",
        "page": 100,
        "polarity": "low",
        "unit": "percent",
        "definition": (
            "The number of fixed period and permanent exclusions expressed as a percentage of the number "
            "(headcount) of pupils in the local authority. Exclusion rates based on less than 3 pupils are "
            "not shown (indicated by #)."
        ),
        "numerator_definition": "The number of fixed period (or permanent) exclusions of pupils in the primary phase.",
        "denominator_definition": "The number (headcount) of pupils in the primary phase in the local authority.",
        "guidance": (
            "The two types of exclusions are shown together to present a fuller picture of exclusions "
            "policies within the area: fixed term exclusions can be used as a strategy to prevent permanent "
            "exclusions, so are not necessarily a negative outcome for children and young people."
        ),
        "health_warning": (
            "All %s are based on low numbers of students. Due to changes in the data collection, "
            "information on fixed period exclusions is not available for maintained primary schools for 2006."
        ),
        "source": (
            "DCSF Pupil Level Annual School Census (permanent exclusions) and the Termly Exclusions Survey "
            "(fixed-term exclusions)"
        ),
        "owner": "Department for Children, Schools and Families",
        "related": ["3092DE"],
        "light_rule": None,
        "bands": [],
        "table": {
            "caption": f"Exclusions as a percentage of pupils in the primary phase, {AREA}, 2005 to 2007",
            "columns": ["Area", "SN", "England"],
            "row_groups": row_groups,
        },
        "chart": None,
        "notes": ["Traffic lights have not been applied to this indicator."],
    }


# ----------------------------------------------------------------------------- 3067AC


def _indicator_3067ac() -> dict[str, Any]:
    columns = [
        "Area",
        "Statistical neighbours",
        "Lower quartile",
        "England median",
        "Upper quartile",
        "Quartile position",
        "Improving?",
    ]
    measures = [
        "Under 6 hours a week (159a)",
        "6-12 (inclusive) hours a week (159b)",
        "13-19 (inclusive) hours a week (159c)",
        "20 hours or more a week (159d)",
    ]
    printed = {
        "2002-03": [
            ["7.6%", "18.0%", "1.8%", "11.0%", "20.9%"],
            ["28.3%", "26.0%", "3.3%", "12.2%", "20.0%"],
            ["18.9%", "17.4%", "7.5%", "16.1%", "25.9%"],
            ["45.3%", "20.0%", "32.2%", "52.0%", "75.0%", "3rd Q'tile", "Not Improving"],
        ],
        "2003-04": [
            ["0.0%", "1.4%", "0.0%", "3.9%", "13.0%"],
            ["3.9%", "11.2%", "1.0%", "5.8%", "12.8%"],
            ["2.6%", "24.2%", "2.0%", "10.3%", "20.4%"],
            ["93.4%", "58.2%", "50.5%", "70.6%", "93.2%", "Best Q'tile", "Improving"],
        ],
        "2004-05": [
            ["0.0%", "0.6%", "0.0%", "3.0%", "11.7%"],
            ["0.0%", "2.8%", "0.0%", "3.8%", "10.2%"],
            ["3.9%", "18.5%", "0.5%", "6.1%", "15.4%"],
            ["96.1%", "70.7%", "55.3%", "80.3%", "93.4%", "Best Q'tile", "Improving"],
        ],
    }
    row_groups = []
    for period, rows in printed.items():
        out_rows = []
        for measure, displays in zip(measures, rows, strict=True):
            cells = []
            for col, d in zip(
                columns, displays + [""] * (len(columns) - len(displays)), strict=True
            ):
                if d == "":
                    cells.append(_cell("", source="published"))
                elif col == "Statistical neighbours":
                    cells.append(
                        _cell(
                            d,
                            source="computed",
                            basis=f"Median of the 10 NFER statistical neighbours' {measure[-5:-1]} figures, {period} = {d}",
                        )
                    )
                elif col in ("Quartile position", "Improving?"):
                    cells.append(
                        _cell(d, source="published", basis=f"Printed by the Audit Commission: {d}")
                    )
                elif col == "Area":
                    cells.append(
                        _cell(
                            d,
                            source="input",
                            basis=f"Input: BVPI {measure[-5:-1]}, {AREA} {period} ({d})",
                        )
                    )
                else:
                    cells.append(
                        _cell(
                            d, source="published", basis=f"Published by the Audit Commission ({d})"
                        )
                    )
            out_rows.append({"label": measure, "geography": "area", "cells": cells})
        row_groups.append({"label": period, "rows": out_rows})
    periods = list(printed)
    la_159d = [_num(printed[p][3][0]) for p in periods]
    sn_159d = [_num(printed[p][3][1]) for p in periods]
    return {
        "code": "3067AC",
        "title": "BVPI 159a, 159b, 159c and 159d - percentage of permanently excluded pupils provided with alternative tuition",
        "section": "Enjoying and achieving",
        "subsection": "Education otherwise than at school data",
        "page": 103,
        "polarity": "none",
        "unit": "percent",
        "definition": (
            "The percentage of permanently excluded pupils provided with alternative tuition of the "
            "following average hours per week: 5 hours or less; 6-12 hours; 13-19 hours; or 20 hours or more."
        ),
        "numerator_definition": None,
        "denominator_definition": None,
        "guidance": (
            "Provision is calculated from the 16th school day after the governors uphold the head teacher's "
            "decision to exclude, or from the date the exclusion appeal panel uphold the decision to exclude."
        ),
        "health_warning": (
            "BVPI 159 was not collected by the Audit Commission from data period 2005/2006. SN figures "
            "have been added by Ofsted to assist inspectors. They are median averages of the %s for "
            "all of the LA's statistical neighbours."
        ),
        "source": "Best Value Performance Indicators (BVPIs) 159a, 159b, 159c & 159d",
        "owner": "Audit Commission",
        "related": [],
        "light_rule": None,
        "bands": [],
        "table": {
            "caption": f"Permanently excluded pupils provided with alternative tuition, by hours a week, {AREA}, 2002-03 to 2004-05",
            "columns": columns,
            "row_groups": row_groups,
        },
        "chart": {
            "kind": "line",
            "title": "Permanently excluded pupils given 20 hours or more tuition a week (159d)",
            "y_label": "%",
            "series": [
                {
                    "name": AREA,
                    "points": [
                        {"period": p, "value": v} for p, v in zip(periods, la_159d, strict=True)
                    ],
                },
                {
                    "name": "Statistical neighbours",
                    "points": [
                        {"period": p, "value": v} for p, v in zip(periods, sn_159d, strict=True)
                    ],
                },
            ],
            "quartile_bands": [
                {
                    "period": "2002-03",
                    "lower_quartile": 32.2,
                    "median": 52.0,
                    "upper_quartile": 75.0,
                },
                {
                    "period": "2003-04",
                    "lower_quartile": 50.5,
                    "median": 70.6,
                    "upper_quartile": 93.2,
                },
                {
                    "period": "2004-05",
                    "lower_quartile": 55.3,
                    "median": 80.3,
                    "upper_quartile": 93.4,
                },
            ],
            "summary": (
                f"{AREA}'s figure rose from 45.3% in 2002-03 (3rd quartile) to 96.1% in 2004-05, above "
                "the England upper quartile (93.4%); statistical neighbours 70.7% in 2004-05."
            ),
        },
        "notes": [
            "* = Doubts expressed about the reliability of the council's arrangements for producing the data.",
            "N/A = Not applicable or null accepted.",
        ],
    }


# ----------------------------------------------------------------------------- observations


def _add_observations(ind: dict[str, Any]) -> None:
    """Fill observations/judgements from the table (fixture construction only)."""
    obs, judgements = [], []
    table = ind["table"]
    for group in table["row_groups"]:
        for row in group["rows"]:
            for column, cell in zip(table["columns"], row["cells"], strict=True):
                if not cell["display"]:
                    continue
                period_like = column[:2].isdigit()
                row_is_period = row["label"][:2].isdigit()
                if period_like:
                    measure, period = group["label"], column
                elif row_is_period:
                    measure, period = (
                        " - ".join(x for x in (group["label"], column) if x),
                        row["label"],
                    )
                else:
                    measure, period = f"{row['label']} - {column}", group["label"]
                obs.append(
                    {
                        "measure": measure,
                        "measure_id": measure or "value",
                        "period": period,
                        "geography": row["geography"] or row["label"],
                        "value": _num(cell["display"]) if not cell["status"] else None,
                        "display": cell["display"],
                        "numerator": None,
                        "denominator": None,
                        "status": cell["status"],
                        "source": cell["source"],
                        "basis": cell["basis"],
                    }
                )
                if cell["light"] or cell["blobs"]:
                    judgements.append(
                        {
                            "measure": None,
                            "measure_id": "value",
                            "period": column,
                            "geography": row["geography"],
                            "band": cell["blobs"],
                            "band_range": cell["band_range"],
                            "traffic_light": cell["light"],
                            "quartile": None,
                            "quartile_position": None,
                            "rank": None,
                            "trend": None,
                            "significance": None,
                            "progress": None,
                            "rag": None,
                            "target": None,
                            "basis": cell["basis"],
                        }
                    )
    ind["observations"] = obs
    ind["judgements"] = judgements


NFER_NEIGHBOURS = [  # seed L7129-7138, coordinates from src/cspa/data/real/areas/uk_local_authorities.csv
    ("Birmingham", "330", 52.4885, -1.8748),
    ("Bradford", "380", 53.8446, -1.8546),
    ("Slough", "871", 51.5084, -0.5862),
    ("Enfield", "308", 51.6509, -0.0872),
    ("Coventry", "331", 52.4169, -1.5198),
    ("Walsall", "335", 52.5993, -1.9663),
    ("Derby", "831", 52.9125, -1.4683),
    ("Sandwell", "333", 52.5154, -2.0090),
    ("Blackburn with Darwen", "889", 53.6926, -2.4675),
    ("Peterborough", "874", 52.6086, -0.2531),
]
YJB_NEIGHBOURS = [
    "Enfield",
    "Hounslow",
    "Hillingdon",
    "Slough",
    "Sunderland",
    "Bolton",  # seed L7168-7176
    "Stoke-on-Trent",
    "Bradford",
    "Sandwell",
]


def fixture_report() -> dict[str, Any]:
    """Return a fresh copy of the fixture report document."""
    indicators = [
        _indicator_1003hc(),
        _indicator_2022sc(),
        _indicator_2054sc(),
        _indicator_2059sc(),
        _indicator_3002of(),
        _indicator_3091de(),
        _indicator_3067ac(),
    ]
    for ind in indicators:
        _add_observations(ind)
    return {
        "report": "apa-dataset",
        "title": "Annual Performance Assessment dataset",
        "area": {
            "name": AREA,
            "dfe_code": "821",
            "ons_code": "E06000032",
            "region": "East of England",
        },
        "period": "2008",
        "period_window": None,
        "history": True,
        "framework": {
            "id": "apa2008",
            "title": "Annual Performance Assessment 2008",
            "publisher": "Ofsted",
            "vintage": "Version 2 - Final, September 2008",
            "licence": "Open Government Licence v3.0",
        },
        "version": "cspa 0.1.0",
        "produced": "2026-11-23",
        "attribution": [
            "Contains public sector information licensed under the Open Government Licence v3.0.",
            "Source: Ofsted APA dataset, Luton, Version 2 - Final, September 2008 (published figures).",
        ],
        "changes": [
            "3013OF /3104OF /5003OF /5004OF: the data shown was correct, however in some cases the traffic light bandings may have been incorrectly applied.",
            "1032OF: the final two columns titled 'current progress' have been removed in line with the Department of Health's guidelines.",
            "5007OF: data was transposed in some columns and this has now been amended.",
            '6016SC: values of 0 (nil) were changed to "." (not applicable) for some LAs in the years prior to 2007-08.',
        ],
        "legend": {
            "status_symbols": {
                ".": "Data not applicable",
                "..": "Data not available",
                "-": "Data suppressed due to small numbers",
                "n/a": "Not applicable",
                "#": "Exclusion rate based on less than 3 pupils",
            },
            "traffic_lights": [
                {
                    "light": "green",
                    "label": "Green",
                    "meaning": "Performance is good: in the top bands, or significantly better than the comparator.",
                },
                {
                    "light": "amber",
                    "label": "Amber",
                    "meaning": "Performance is in the middle bands, or within the expected range.",
                },
                {
                    "light": "red",
                    "label": "Red",
                    "meaning": "Performance is poor: in the lowest band, or significantly worse than the comparator.",
                },
            ],
            "bands": "Bands run from Low (1 blob) to High (5 blobs); on symmetric indicators the middle band is best.",
            "published": "Figures marked † are published by the source and cannot be recomputed by cspa.",
        },
        "sections": [
            {
                "id": "being_healthy",
                "title": "Being healthy",
                "subsections": [
                    {
                        "title": "Healthy lifestyle and preventative care data",
                        "indicators": ["1003HC"],
                    }
                ],
            },
            {
                "id": "staying_safe",
                "title": "Staying safe",
                "subsections": [
                    {
                        "title": "Child protection data – child protection procedures",
                        "indicators": ["2022SC"],
                    },
                    {
                        "title": "Looked after children and care leavers data",
                        "indicators": ["2054SC", "2059SC"],
                    },
                ],
            },
            {
                "id": "enjoying_and_achieving",
                "title": "Enjoying and achieving",
                "subsections": [
                    {"title": "Key Stage 1 data", "indicators": ["3002OF"]},
                    {"title": "Exclusions data", "indicators": ["3091DE"]},
                    {"title": "Education otherwise than at school data", "indicators": ["3067AC"]},
                ],
            },
        ],
        "indicators": indicators,
        "appendices": [
            {
                "code": "7001OF",
                "title": f"List of NFER statistical neighbours for {AREA}",
                "group": "nfer_2007",
                "neighbours": [
                    {"rank": i + 1, "name": n, "code": c, "closeness": None}
                    for i, (n, c, _lat, _long) in enumerate(NFER_NEIGHBOURS)
                ],
            },
            {
                "code": "7002OF",
                "title": f"List of Youth Justice Board statistical neighbours for {AREA}",
                "group": "yjb",
                "neighbours": [
                    {"rank": i + 1, "name": n, "code": None, "closeness": None}
                    for i, n in enumerate(YJB_NEIGHBOURS)
                ],
            },
        ],
        "map": {
            "area": {"name": AREA, "lat": 51.8942, "long": -0.4256},
            "neighbours": [
                {"name": n, "lat": lat, "long": long, "rank": i + 1}
                for i, (n, _c, lat, long) in enumerate(NFER_NEIGHBOURS)
            ],
            "note": "Coordinates from mySociety's list of UK local authorities.",
            "group": "NFER statistical neighbours",
        },
        "_internal": {"cache_key": "not for output"},
    }
