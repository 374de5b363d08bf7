"""Test vectors of shared/reference/methods.md section 8 (seed trend classes) and section 5
(Fingertips recent trend)."""

from __future__ import annotations

import itertools
from collections import Counter

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cspa.engine import trends as tr


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


def long_table(
    con, series: dict[str, list[float | None]], first_year: int = 2003, indicator="3002OF"
):
    rows = [
        (indicator, "value", area, first_year + i, v)
        for area, values in series.items()
        for i, v in enumerate(values)
    ]
    cols = ["indicator", "measure", "area", "year", "value"]
    return con.from_arrow(pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}))


def per_area(rel, *cols):
    """One row per area (results are series-level, repeated on every row)."""
    out = rel.aggregate(
        ", ".join(["area"] + [f"any_value({c}) AS {c}" for c in cols]), "area"
    ).fetchall()
    return {r[0]: r[1:] for r in out}


# ---------------------------------------------------------------------------------------------
# Section 8: seed trend
# ---------------------------------------------------------------------------------------------

READING = {
    "872": [80.81, 83.54, 84.70, 83.25, 84.20],
    "SN:nfer_2007:872": [81.57, 81.90, 81.44, 80.40, 80.21],
    "england": [84.88, 85.23, 85.50, 84.78, 84.16],
}


@pytest.fixture(scope="module")
def reading(con):
    rel = long_table(con, READING)
    nb = con.sql("SELECT '872' AS area, 'SN:nfer_2007:872' AS sn_area")
    return tr.seed_trend(rel, nb, england="england")


@pytest.mark.golden
def test_reading_l2_moving_averages_and_slope(reading):
    """3002OF Reading L2+ (000:L3066-3070, L3083): MA05..07 = 83.0167, 83.8300, 84.0500; slope
    0.5167 [C]."""
    mas = (
        reading.filter("area = '872' AND trend_ma IS NOT NULL")
        .order("year")
        .project("trend_ma")
        .fetchall()
    )
    assert [m[0] for m in mas] == pytest.approx([83.0167, 83.8300, 84.0500], abs=5e-5)
    assert per_area(reading, "trend_slope")["872"][0] == pytest.approx(0.5167, abs=5e-5)


@pytest.mark.golden
def test_reading_sn_and_national(reading):
    """SN MAs 81.6367, 81.2467, 80.6833, slope -0.4767, LA - SN = 0.9933; national slope -0.1950 [C]."""
    mas = (
        reading.filter("area LIKE 'SN:%' AND trend_ma IS NOT NULL")
        .order("year")
        .project("trend_ma")
        .fetchall()
    )
    assert [m[0] for m in mas] == pytest.approx([81.6367, 81.2467, 80.6833], abs=5e-5)
    got = per_area(
        reading,
        "trend_slope",
        "trend_sn_slope",
        "trend_sn_diff",
        "trend_sn_area",
        "trend_vs_england",
    )
    assert got["SN:nfer_2007:872"][0] == pytest.approx(-0.4767, abs=5e-5)
    assert got["872"][1] == pytest.approx(-0.4767, abs=5e-5)
    assert got["872"][2] == pytest.approx(0.9933, abs=5e-5)
    assert got["872"][3] == "SN:nfer_2007:872"
    assert got["england"][0] == pytest.approx(-0.1950, abs=5e-5)
    assert got["872"][4] == pytest.approx(0.5167 + 0.1950, abs=1e-4)


def test_reading_comparators_not_ranked(reading):
    got = per_area(reading, "trend_class", "trend_reason", "trend_n_ranked")
    assert got["872"] == ("Well above", None, 1)  # the only LA in this population
    for comparator in ("england", "SN:nfer_2007:872"):
        assert got[comparator][0] is None
        assert got[comparator][1].startswith("not in the ranked population")


@pytest.mark.golden
def test_writing_slopes(con):
    """3003OF Writing: LA 0.5083, SN -0.8950, diff 1.4033 [C]."""
    rel = long_table(
        con,
        {"872": [78.07, 78.92, 79.45, 79.64, 80.40], "SN:872": [78.89, 79.40, 78.26, 76.88, 76.04]},
        indicator="3003OF",
    )
    nb = con.sql("SELECT '872' AS area, 'SN:872' AS sn_area")
    got = per_area(tr.seed_trend(rel, nb), "trend_slope", "trend_sn_slope", "trend_sn_diff")["872"]
    assert got == pytest.approx((0.5083, -0.8950, 1.4033), abs=5e-5)


def test_four_years_gap_and_six_years(con):
    """4 years (2004-07 of 3002OF): MAs 83.83, 84.05, slope 0.22; 2005 missing from 5 years: no
    MA, n/a; 6 years 1, 2, 4, 7, 11, 16: MAs 2.3333, 4.3333, 7.3333, 11.3333, slope 3.0 [C]."""
    four = long_table(con, {"four": [83.54, 84.70, 83.25, 84.20]}, first_year=2004)
    gap = long_table(con, {"gap": [80.81, 83.54, None, 83.25, 84.20]})
    six = long_table(con, {"six": [1, 2, 4, 7, 11, 16]}, first_year=2002)
    rel = four.union(gap).union(six)
    out = tr.seed_trend(rel)
    mas = {
        a: [
            m
            for _, m in sorted(
                (y, m)
                for aa, y, m in out.project("area, year, trend_ma").fetchall()
                if aa == a and m is not None
            )
        ]
        for a in ("four", "gap", "six")
    }
    assert mas["four"] == pytest.approx([83.83, 84.05], abs=5e-5)
    assert mas["gap"] == []
    assert mas["six"] == pytest.approx([2.3333, 4.3333, 7.3333, 11.3333], abs=5e-5)
    got = per_area(out, "trend_slope", "trend_class", "trend_reason")
    assert got["four"][0] == pytest.approx(0.22, abs=5e-5)
    assert got["six"][0] == pytest.approx(3.0, abs=1e-9)
    assert got["gap"] == (
        None,
        "n/a",
        "fewer than 2 moving averages (4 consecutive years): slope not computed",
    )


def linear_las(con, slopes: dict[str, float | None]):
    """Series whose moving averages rise by exactly ``slope`` a year (None: one year only)."""
    series = {a: ([s * k for k in range(5)] if s is not None else [1.0]) for a, s in slopes.items()}
    return long_table(con, series)


def test_n150_class_sizes_and_boundaries(con):
    """N = 150 distinct slopes: classes 15, 30, 60, 30, 15; ranks 15/16/45/46/105/106/135/136 give
    WA/A/A/IL/IL/B/B/WB [C]."""
    rel = linear_las(con, {f"la{i:03d}": float(151 - i) for i in range(1, 151)})  # rank = i
    got = per_area(tr.seed_trend(rel), "trend_rank", "trend_class")
    assert Counter(c for _, c in got.values()) == {
        "Well above": 15,
        "Above": 30,
        "In line": 60,
        "Below": 30,
        "Well below": 15,
    }
    by_rank = {r: c for r, c in got.values()}
    assert [by_rank[r] for r in (15, 16, 45, 46, 105, 106, 135, 136)] == [
        "Well above",
        "Above",
        "Above",
        "In line",
        "In line",
        "Below",
        "Below",
        "Well below",
    ]


def test_n149_class_sizes(con):
    rel = linear_las(con, {f"la{i:03d}": float(i) for i in range(149)})
    got = per_area(tr.seed_trend(rel), "trend_class")
    assert Counter(c for (c,) in got.values()) == {
        "Well above": 15,
        "Above": 30,
        "In line": 60,
        "Below": 30,
        "Well below": 14,
    }


def test_n10_ties_take_min_rank(con):
    """N = 10 with a tie and a missing slope: a WA; b, c A (tie); d-g IL; h, i B; j WB; k n/a [C]."""
    slopes = dict(zip("abcdefghij", [5, 4, 4, 3, 2, 1, 0, -1, -2, -3], strict=True)) | {"k": None}
    got = per_area(
        tr.seed_trend(linear_las(con, slopes)), "trend_class", "trend_rank", "trend_n_ranked"
    )
    classes = {a: v[0] for a, v in got.items()}
    assert classes == {
        "a": "Well above",
        "b": "Above",
        "c": "Above",
        "d": "In line",
        "e": "In line",
        "f": "In line",
        "g": "In line",
        "h": "Below",
        "i": "Below",
        "j": "Well below",
        "k": "n/a",
    }
    assert got["b"][1] == got["c"][1] == 2
    assert got["a"][2] == 10


def test_sn_ranking_uses_differences(con):
    """The SN classes rank slope_LA - slope_SN, not slope_LA; a missing SN slope is n/a."""
    slopes = {f"la{i}": float(i) for i in range(10)} | {f"sn{i}": float(2 * i) for i in range(10)}
    slopes["sn9"] = None
    rel = linear_las(con, slopes)
    nb = con.from_arrow(
        pa.table({"area": [f"la{i}" for i in range(10)], "sn_area": [f"sn{i}" for i in range(10)]})
    )
    got = per_area(
        tr.seed_trend(rel, nb), "trend_class", "trend_sn_diff", "trend_sn_class", "trend_sn_reason"
    )
    assert got["la0"][0] == "Well below" and got["la0"][2] == "Well above"  # d = 0 is the largest
    assert got["la8"][1] == pytest.approx(-8.0)
    assert got["la9"][2] == "n/a" and got["la9"][3].startswith("SN slope missing")
    assert "sn0" not in {a for a, v in got.items() if v[0] is not None}


def test_population_column_and_mapping_per_indicator(con):
    """An explicit population column; the SN mapping may differ by indicator."""
    rows = []
    for ind in ("X", "Y"):
        for area, slope in (("la1", 1.0), ("la2", 2.0), ("snA", 0.5), ("snB", 3.0), ("eng", 0.0)):
            rows += [
                (ind, "value", area, 2003 + k, slope * k, area.startswith("la")) for k in range(5)
            ]
    cols = ["indicator", "measure", "area", "year", "value", "is_la"]
    rel = con.from_arrow(pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)}))
    nb = con.from_arrow(
        pa.table(
            {
                "indicator": ["X", "X", "Y", "Y"],
                "area": ["la1", "la2"] * 2,
                "sn_area": ["snA", "snA", "snB", "snB"],
            }
        )
    )
    out = tr.seed_trend(rel, nb, population="is_la")
    got = {
        (r[0], r[1]): r[2:]
        for r in out.aggregate(
            "indicator, area, any_value(trend_class), any_value(trend_sn_area), any_value(trend_sn_diff)",
            "indicator, area",
        ).fetchall()
    }
    assert got[("X", "la2")] == ("Well above", "snA", pytest.approx(1.5))
    assert got[("Y", "la1")] == ("In line", "snB", pytest.approx(-2.0))
    assert got[("X", "eng")] == (None, None, None)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=40))
def test_property_classes_monotone_in_slope(con, slopes):
    """Classes partition the ranked LAs and never get worse as the slope rises."""
    rel = linear_las(con, {f"la{i}": float(s) for i, s in enumerate(slopes)})
    got = per_area(tr.seed_trend(rel), "trend_slope", "trend_class", "trend_n_ranked")
    order = {c: k for k, c in enumerate(tr.TREND_CLASSES)}
    pairs = sorted((s, order[c]) for s, c, _ in got.values())
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(pairs))
    assert all(n == len(slopes) for _, _, n in got.values())


# ---------------------------------------------------------------------------------------------
# Section 5: Fingertips recent trend
# ---------------------------------------------------------------------------------------------

SIGNIFICANT = [
    (24.67, 23.16, 26.25),
    (24.6, 23.15, 26.19),
    (28, 26.44, 29.64),
    (30.2, 28.63, 31.9),
    (30.6, 28.98, 32.25),
]
NOT_SIGNIFICANT = [
    (20.5506, 18.1803, 23.1427),
    (19.5952, 17.3444, 22.0602),
    (19.0349, 16.8421, 21.4394),
    (21.3966, 19.0918, 23.8975),
    (18.4372, 16.2925, 20.7941),
]


def value_series(
    con, series: dict[str, list[tuple[float, float | None, float | None] | None]], polarity=None
):
    rows = []
    for area, points in series.items():
        for i, p in enumerate(points):
            if p is not None:
                rows.append((area, 2010 + i, *p))
    cols = {
        c: [r[i] for r in rows]
        for i, c in enumerate(["area", "year", "value", "lower95", "upper95"])
    }
    if polarity is not None:
        cols["polarity"] = [polarity[r[0]] for r in rows]
    return con.from_arrow(pa.table(cols))


def test_recent_trend_values_path(con):
    """TrendMarkerCalculatorTest: chi2 = 46.77 significant, beta = 1.751566 -> Increasing [A];
    the second series chi2 = 0.4642 [C] -> No significant change [A]."""
    rel = value_series(con, {"sig": SIGNIFICANT, "flat": NOT_SIGNIFICANT})
    got = per_area(
        tr.recent_trend(rel, series=["area"], polarity="none"),
        "recent_trend",
        "recent_trend_chi2",
        "recent_trend_slope",
    )
    assert got["sig"][0] == "Increasing"
    assert got["sig"][1] == pytest.approx(46.77, abs=5e-3)
    assert got["sig"][2] == pytest.approx(1.751566, abs=5e-7)
    assert got["flat"][0] == "No significant change"
    assert got["flat"][1] == pytest.approx(0.4642, abs=5e-5)


def test_recent_trend_proportion_path(con):
    """Counts 994/40299 ... 1367/44701: chi2 = 47.9 (47.8967) significant [A]; 5/5 first: cannot
    be calculated [A] (the anchor reports chi2 = 0, its placeholder; here chi2 is NULL with a reason)."""
    c = [(994, 40299), (1023, 41527), (1199, 42811), (1332, 44064), (1367, 44701)]
    d = [(5, 5), (3, 5), (1, 5), (1, 4), (2, 4)]
    rows = [("P", 2010 + i, x, n) for i, (x, n) in enumerate(c)] + [
        ("D", 2010 + i, x, n) for i, (x, n) in enumerate(d)
    ]
    rel = con.from_arrow(
        pa.table(
            {
                k: [r[i] for r in rows]
                for i, k in enumerate(["area", "year", "count", "denominator"])
            }
        )
    )
    out = tr.recent_trend(
        rel, series=["area"], count="count", denominator="denominator", polarity="none"
    )
    got = per_area(out, "recent_trend", "recent_trend_chi2", "recent_trend_reason")
    assert got["P"][0] == "Increasing"
    assert got["P"][1] == pytest.approx(47.8967, abs=5e-5)
    assert round(got["P"][1], 1) == 47.9
    assert got["D"][0] == "Cannot be calculated"
    assert got["D"][1] is None
    assert "equals its denominator" in got["D"][2]


def test_recent_trend_year_range(con):
    """A first row with YearRange = 3 is invalid: message set, not significant [A]."""
    rows = [("A", 2010 + i, *p, 3 if i == 0 else 1) for i, p in enumerate(SIGNIFICANT)]
    rel = con.from_arrow(
        pa.table(
            {
                k: [r[i] for r in rows]
                for i, k in enumerate(["area", "year", "value", "lower95", "upper95", "yr"])
            }
        )
    )
    got = per_area(
        tr.recent_trend(rel, series=["area"], year_range="yr", polarity="high"),
        "recent_trend",
        "recent_trend_reason",
    )
    assert got["A"][0] == "Cannot be calculated"
    assert "not single years" in got["A"][1]


@pytest.mark.parametrize(
    ("direction", "polarity", "label"),
    [
        ("Increasing", "high", "Increasing and getting better"),
        ("Increasing", "low", "Increasing and getting worse"),
        ("Decreasing", "high", "Decreasing and getting worse"),
        ("Decreasing", "low", "Decreasing and getting better"),
        ("Increasing", "none", "Increasing"),
    ],
)
def test_recent_trend_polarity_labels(con, direction, polarity, label):
    """FingertipsNext TrendCalculatorTests: polarity adjusts the label [A]."""
    points = SIGNIFICANT if direction == "Increasing" else SIGNIFICANT[::-1]
    rel = value_series(con, {"A": points}, polarity={"A": polarity})
    got = per_area(tr.recent_trend(rel, series=["area"]), "recent_trend", "recent_trend_label")
    assert got["A"] == (direction, label)


def test_recent_trend_run_counts_back_from_latest(con):
    """Only the unbroken run of valid points from the latest counts: a gap or a point without a CI
    stops it; the 5 most recent points of a longer run are used."""
    long = NOT_SIGNIFICANT[:3] + SIGNIFICANT
    rel = value_series(
        con,
        {
            "long": long,
            "gap": [*SIGNIFICANT[:2], None, *SIGNIFICANT[2:]],
            "latest_bad": [*SIGNIFICANT, (31.0, None, None)],
        },
    )
    out = tr.recent_trend(rel, series=["area"], polarity="none")
    got = per_area(out, "recent_trend", "recent_trend_chi2", "recent_trend_reason")
    assert got["long"][0] == "Increasing" and got["long"][1] == pytest.approx(46.7653, abs=5e-4)
    assert got["gap"][0] == "Cannot be calculated" and got["gap"][2].startswith("fewer than 5")
    assert got["latest_bad"][0] == "Cannot be calculated"
    ts = (
        out.filter("area = 'long' AND recent_trend_t IS NOT NULL")
        .order("year")
        .project("year, recent_trend_t")
        .fetchall()
    )
    assert ts == [(2013 + i, i + 1) for i in range(5)]


def test_recent_trend_leave_one_out_check(con):
    """A huge chi2 driven by two precise points is not significant when leaving one of them out
    flips the sign of the slope (all 6 slopes must agree)."""
    points = [
        (20.0, 10.0, 30.0),
        (0.0, -0.01, 0.01),
        (10.0, 9.99, 10.01),
        (0.0, -10.0, 10.0),
        (-20.0, -30.0, -10.0),
    ]
    got = per_area(
        tr.recent_trend(value_series(con, {"A": points}), series=["area"], polarity="none"),
        "recent_trend",
        "recent_trend_chi2",
        "recent_trend_slope",
        "recent_trend_reason",
    )["A"]
    assert got[1] > tr.TREND_CHI2_CRITICAL and got[2] > 0
    assert got[0] == "No significant change"
    assert "changes sign" in got[3]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.floats(1, 100), st.floats(0.1, 5)), min_size=5, max_size=8))
def test_property_trend_polarity_swap(con, pts):
    points = [(v, v - w, v + w) for v, w in pts]
    high = per_area(
        tr.recent_trend(value_series(con, {"A": points}), series=["area"], polarity="high"),
        "recent_trend_label",
    )["A"][0]
    low = per_area(
        tr.recent_trend(value_series(con, {"A": points}), series=["area"], polarity="low"),
        "recent_trend_label",
    )["A"][0]
    swap = {"better": "worse", "worse": "better"}
    if " and getting " in high:
        head, tail = high.rsplit(" ", 1)
        assert low == f"{head} {swap[tail]}"
    else:
        assert low == high
