"""Test vectors of shared/reference/methods.md section 6.4 (NHS Making Data Count SPC)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cspa.engine import spc


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


def series(con, values, name="s", **extra):
    n = len(values)
    return con.from_arrow(
        pa.table({"series": [name] * n, "date": list(range(1, n + 1)), "value": values, **extra})
    )


def ordered(rel, *cols):
    return rel.order("series, date").project(", ".join(cols)).fetchall()


RNORM_123 = [
    -0.56047565,
    -0.23017749,
    1.55870831,
    0.07050839,
    0.12928774,
    1.71506499,
    0.46091621,
    -1.26506123,
    -0.68685285,
    -0.44566197,
    1.22408180,
    0.35981383,
    0.40077145,
    0.11068272,
    -0.55584113,
    1.78691314,
    0.49785048,
    -1.96661716,
    0.70135590,
    -0.47279141,
]


def test_r1_limits_and_relative_to_mean(con):
    """rnorm(20), seed 123: mean 0.1416238, LPL -3.01138, UPL 3.294627, no point outside;
    relative_to_mean starts -1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1 [A] (snapshot r1)."""
    got = ordered(
        spc.xmr(series(con, RNORM_123)),
        "spc_mean",
        "spc_lpl",
        "spc_upl",
        "spc_outside_limits",
        "spc_relative_to_mean",
    )
    assert {g[:3] for g in got} == {got[0][:3]}
    assert got[0][0] == pytest.approx(0.1416238, abs=5e-8)
    assert got[0][1] == pytest.approx(-3.01138, abs=5e-6)
    assert got[0][2] == pytest.approx(3.294627, abs=5e-7)
    assert not any(g[3] for g in got)
    assert [g[4] for g in got][:15] == [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]


def test_r2_r3_outlier_screening(con):
    """y[15] = 10: screened mean 0.6694159, LPL -2.383666, UPL 3.722497 (r2); unscreened LPL
    -4.596625, UPL 5.935457 (r3) [A]."""
    y = list(RNORM_123)
    y[14] = 10.0
    r2 = ordered(spc.xmr(series(con, y)), "spc_mean", "spc_lpl", "spc_upl")[0]
    assert r2 == pytest.approx((0.6694159, -2.383666, 3.722497), abs=5e-7)
    r3 = ordered(spc.xmr(series(con, y), screen_outliers=False), "spc_lpl", "spc_upl")[0]
    assert r3 == pytest.approx((-4.596625, 5.935457), abs=5e-7)


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 1]),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0, 0, 0, 0, 0, 0, 0, 1, 0]),
        ([7, 6, 5, 4, 3, 2, 1], [0, 0, 0, 0, 0, 0, -1]),
    ],
)
def test_seven_point_trend(con, y, expected):
    """ptd_seven_point_trend [A]."""
    out = spc.spc_rules(series(con, [float(v) for v in y]), series=["series"])
    assert [r[0] for r in ordered(out, "rule_trend")] == expected


@pytest.mark.parametrize(
    ("rtm", "expected"),
    [([1] * 8 + [-1], [0, 0, 0, 0, 0, 0, 1, 1, 0]), ([1] * 6 + [-1], [0] * 7)],
)
def test_seven_point_one_side_mean(con, rtm, expected):
    """ptd_seven_point_one_side_mean [A]."""
    rel = series(con, [0.0] * len(rtm), rtm=rtm)
    out = spc.spc_rules(rel, series=["series"], value=None, relative_to_mean="rtm")
    assert [r[0] for r in ordered(out, "rule_shift")] == expected


@pytest.mark.parametrize(
    ("close", "rtm", "expected"),
    [
        ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 1, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 1, 1, 1, 1, 0, 0]),
        ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
    ],
)
def test_two_in_three(con, close, rtm, expected):
    """ptd_two_in_three [A]."""
    rel = series(con, [0.0] * len(rtm), rtm=rtm, close=[bool(c) for c in close])
    out = spc.spc_rules(
        rel, series=["series"], value=None, relative_to_mean="rtm", close_to_limits="close"
    )
    assert [r[0] for r in ordered(out, "rule_two_in_three")] == expected


def test_opposite_sides_are_common_cause(con):
    """Alternating +-1 x 16 with y15 = 5.5, y16 = -5.5: the last two points are common_cause [A]."""
    y = [1.0 if i % 2 == 0 else -1.0 for i in range(16)]
    y[14], y[15] = 5.5, -5.5
    got = ordered(spc.xmr(series(con, y)), "spc_point_type")
    assert [g[0] for g in got[-2:]] == ["common_cause", "common_cause"]


def limits_series(con, lpl: float, upl: float, name: str):
    """A series whose XmR limits are exactly (lpl, upl): values alternate mean -/+ d."""
    mean, amr = (lpl + upl) / 2, (upl - lpl) / (2 * spc.LIMIT)
    d = amr / 2
    return series(con, [mean + d if i % 2 else mean - d for i in range(12)], name=name)


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("increase", ["consistent_fail", "consistent_pass", "inconsistent"]),
        ("decrease", ["consistent_pass", "consistent_fail", "inconsistent"]),
        ("neutral", [None, None, None]),
    ],
)
def test_assurance(con, direction, expected):
    """LPL/UPL (1,3), (5,7), (1,5) with target 4 [A] (ptd_calculate_assurance_type)."""
    rel = (
        limits_series(con, 1, 3, "a")
        .union(limits_series(con, 5, 7, "b"))
        .union(limits_series(con, 1, 5, "c"))
    )
    out = spc.xmr(rel, target=4.0, improvement_direction=direction)
    got = dict(out.aggregate("series, any_value(spc_assurance_icon)", "series").fetchall())
    assert [got[k] for k in "abc"] == expected
    lims = dict(out.aggregate("series, any_value(spc_lpl)", "series").fetchall())
    assert [lims[k] for k in "abc"] == pytest.approx([1, 5, 1])


SHIFT = [12, 11, 13, 12, 11, 12, 13, 12, 11, 12, 14, 14.5, 15, 14, 14.5, 15, 14, 14.5]


def test_worked_example_shift(con):
    """y = 12, 11, 13, ... 14.5 (18 points), increase: mean 13.0278, AMR 0.9706, LPL 10.4460,
    UPL 15.6095; points 1-10 '7 Points Below CL' (concern), 11-18 '7 Points Above CL'
    (improvement); variation icon improvement_high [C]."""
    out = spc.xmr(series(con, [float(v) for v in SHIFT]))
    got = ordered(
        out,
        "spc_mean",
        "spc_amr",
        "spc_lpl",
        "spc_upl",
        "spc_special_cause",
        "spc_point_type",
        "spc_variation_icon",
    )
    assert got[0][:4] == pytest.approx((13.0278, 0.9706, 10.4460, 15.6095), abs=5e-5)
    assert [g[4] for g in got] == ["7 Points Below CL"] * 10 + ["7 Points Above CL"] * 8
    assert [g[5] for g in got] == ["special_cause_concern"] * 10 + ["special_cause_improvement"] * 8
    assert {g[6] for g in got} == {"improvement_high"}


@pytest.mark.parametrize(
    ("target", "direction", "expected"),
    [
        (13.0, "increase", "inconsistent"),
        (10.0, "increase", "consistent_pass"),
        (17.0, "decrease", "consistent_pass"),
    ],
)
def test_worked_example_assurance(con, target, direction, expected):
    """Assurance for the worked example: target 13.0 inconsistent; 10 consistent_pass (increase);
    17 with direction decrease consistent_pass [C]."""
    out = spc.xmr(
        series(con, [float(v) for v in SHIFT]), target=target, improvement_direction=direction
    )
    assert {g[0] for g in ordered(out, "spc_assurance_icon")} == {expected}


def test_constant_series_limits_undefined(con):
    """All 5s: AMR = 0, every MR screened, limits undefined, all common cause, a reason [C]."""
    out = spc.xmr(series(con, [5.0] * 15))
    got = ordered(out, "spc_lpl", "spc_upl", "spc_special_cause", "spc_point_type", "spc_reason")
    assert {g[:4] for g in got} == {(None, None, "Common Cause", "common_cause")}
    assert all("limits undefined (constant series)" in g[4] for g in got)


def test_rules_precedence_and_icons(con):
    """Outside the limits beats every other rule; a trend beats a shift; the variation icon comes
    from the last point; a decreasing improvement direction flips improvement and concern."""
    base = [10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0]
    out = ordered(
        spc.xmr(series(con, [*base, 30.0])),
        "spc_special_cause",
        "spc_point_type",
        "spc_variation_icon",
    )
    assert out[-1][:2] == ("Above UCL", "special_cause_improvement")
    assert out[0][2] == "improvement_high"
    down = ordered(
        spc.xmr(series(con, [*base, 30.0]), improvement_direction="decrease"),
        "spc_point_type",
        "spc_variation_icon",
    )
    assert down[-1] == ("special_cause_concern", "concern_high")
    neutral = ordered(
        spc.xmr(series(con, [*base, 30.0]), improvement_direction="neutral"),
        "spc_point_type",
        "spc_variation_icon",
    )
    assert neutral[-1] == ("special_cause_neutral_high", "neutral_high")
    rise = [10.0, 14.0, 10.0, 14.0, 10.0, 14.0, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0]
    trend = ordered(spc.xmr(series(con, rise)), "spc_special_cause", "spc_outside_limits")
    assert not any(t[1] for t in trend)
    assert [t[0] for t in trend] == ["Common Cause"] * 6 + ["7 Point Trend (Increasing)"] * 7


def test_rebase_segments_and_short_group_warning(con):
    """A rebase flag starts a new segment with its own limits; segments under 13 points warn."""
    y = [10.0, 11.0] * 7 + [20.0, 21.0] * 3
    flags = [0] * 14 + [1] + [0] * 5
    out = ordered(
        spc.xmr(series(con, y, rebase=flags), rebase="rebase"),
        "spc_segment",
        "spc_mean",
        "spc_short_group_warning",
        "spc_reason",
    )
    assert {o[0] for o in out[:14]} == {0} and {o[0] for o in out[14:]} == {1}
    assert out[0][1] == pytest.approx(10.5) and out[-1][1] == pytest.approx(20.5)
    assert out[0][2] is False and out[-1][2] is True
    assert "trial limits" in out[-1][3]


def test_many_series_and_missing_values(con):
    """All series in one query; a missing value is returned, not charted, with a reason."""
    rel = series(con, RNORM_123, name="a").union(series(con, [1.0, None, 2.0, 3.0], name="b"))
    out = spc.xmr(rel)
    assert out.count("*").fetchall()[0][0] == 24
    b = ordered(out.filter("series = 'b'"), "spc_mean", "spc_reason")
    assert b[1] == (None, "value missing: point not charted")
    assert b[0][0] == pytest.approx(2.0)


def test_fix_after_n_points(con):
    with pytest.raises(ValueError, match="at least 12"):
        spc.xmr(series(con, RNORM_123), fix_after_n_points=5)
    fixed = ordered(spc.xmr(series(con, RNORM_123), fix_after_n_points=12), "spc_mean")[0][0]
    assert fixed == pytest.approx(sum(RNORM_123[:12]) / 12)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.floats(-1000, 1000, allow_nan=False), min_size=2, max_size=40))
def test_property_limits_and_flags(con, values):
    """Limits are symmetric about the mean; outside means strictly beyond them."""
    out = ordered(
        spc.xmr(series(con, values)),
        "value",
        "spc_mean",
        "spc_lpl",
        "spc_upl",
        "spc_outside_limits",
        "spc_special_cause",
    )
    for v, mean, lpl, upl, outside, cause in out:
        if lpl is None:
            assert cause == "Common Cause"
            continue
        assert mean - lpl == pytest.approx(upl - mean, rel=1e-9, abs=1e-9)
        assert outside == (v > upl or v < lpl)
        if outside:
            assert cause in ("Above UCL", "Below LCL")
