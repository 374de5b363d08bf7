"""Test vectors of shared/reference/methods.md sections 1.1-1.3, 1.6, 2.1-2.2, 3.2 and 4.3.

[A] vectors come from the anchors' own test suites (full precision: relative 1e-9); [C] vectors
are the reference's own computations, checked at their printed precision.
"""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cspa.engine import significance as sg

A = 1e-9  # relative tolerance for [A] vectors printed to full precision


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


def table(con, **cols):
    return con.from_arrow(pa.table(cols))


def rows(rel, *cols):
    return rel.project(", ".join(cols)).fetchall()


# ---------------------------------------------------------------------------------------------
# 1.1 Wilson
# ---------------------------------------------------------------------------------------------

WILSON = [
    # x, n, confidence, lower, upper, relative tolerance
    (65, 100, 0.95, 0.55254443296887967, 0.73635751756902468, A),
    (1045, 5000, 0.95, 0.19795549880013297, 0.22049130373189027, A),
    (0.445, 1, 0.95, 0.043817447720588223, 0.93346212769791559, A),
    (65, 100, 99.8, 0.49549465740704313, 0.77835406140896968, A),
    (1045, 5000, 99.8, 0.19179381799015244, 0.22731562902525818, A),
    (1, 100, 0.95, 0.0017674320641406511, 0.054486196178705294, A),
    (1, 100, 0.998, 0.000873065697299977, 0.10455445283705821, A),
    (9856, 12345, 95, 0.79121017529090687, 0.80536400736149094, A),
    (0, 100, 0.95, 0.0, 0.03699349820698568, A),  # [C]
    (100, 100, 0.95, 0.9630065017930143, 1.0, A),  # [C]
]


@pytest.mark.parametrize(("x", "n", "conf", "lower", "upper", "tol"), WILSON)
def test_wilson_vectors(con, x, n, conf, lower, upper, tol):
    out = sg.wilson_ci(table(con, numerator=[x], denominator=[n]), confidence=conf)
    tag = sg.level_tag(sg.confidence_levels(conf)[0])
    lo, hi, reason = rows(
        out, f"proportion_lower{tag}", f"proportion_upper{tag}", "proportion_reason"
    )[0]
    assert lo == pytest.approx(lower, rel=tol, abs=1e-15)
    assert hi == pytest.approx(upper, rel=tol)
    assert reason is None


def test_wilson_all_rows_at_once_and_value(con):
    """Both levels for every row in one relation; value 9856/12345 [A]."""
    rel = table(con, numerator=[65.0, 9856.0], denominator=[100.0, 12345.0])
    out = rows(sg.wilson_ci(rel), "proportion_value", "proportion_lower95", "proportion_lower99_8")
    assert out[1][0] == pytest.approx(0.79837991089509919, rel=A)
    assert out[0][1] == pytest.approx(0.55254443296887967, rel=A)
    assert out[0][2] == pytest.approx(0.49549465740704313, rel=A)


def test_wilson_confidence_one(con):
    """At confidence 1 (100%) the limits are 0 and 1 for any x, n [A]."""
    out = sg.wilson_ci(table(con, numerator=[65, 3], denominator=[100, 7]), confidence=1)
    assert rows(out, "proportion_lower100", "proportion_upper100") == [(0.0, 1.0), (0.0, 1.0)]


def test_wilson_seed_1003hc_percentage(con):
    """Seed 1003HC 2006/07: 1884/3202 = 58.8%, CI 57.1241% - 60.5312% [C]."""
    out = sg.wilson_ci(
        table(con, numerator=[1884], denominator=[3202]), confidence=0.95, multiplier=100
    )
    value, lo, hi = rows(out, "proportion_value", "proportion_lower95", "proportion_upper95")[0]
    assert round(value, 1) == 58.8
    assert lo == pytest.approx(57.1241, abs=5e-5)
    assert hi == pytest.approx(60.5312, abs=5e-5)


def test_wilson_not_computed_is_explicit(con):
    """NA input gives NA (PHE 'test NAs'); PHE's errors become NULL plus a reason."""
    rel = table(con, numerator=[None, 5.0, -1.0, 6.0], denominator=[10.0, 0.0, 10.0, 5.0])
    out = rows(sg.wilson_ci(rel), "proportion_value", "proportion_lower95", "proportion_reason")
    assert [o[0] for o in out] == [None] * 4
    assert [o[1] for o in out] == [None] * 4
    assert [o[2].split(":")[0] for o in out] == [
        "numerator or denominator missing",
        "denominator <= 0",
        "numerator < 0",
        "numerator > denominator",
    ]


def test_wilson_basis_and_columns(con):
    out = sg.wilson_ci(table(con, numerator=[1], denominator=[2]), confidence=0.95)
    assert rows(out, "proportion_basis")[0][0].startswith("Wilson score 95% CI")
    with pytest.raises(ValueError, match="already exist"):
        sg.wilson_ci(out, confidence=0.95)
    with pytest.raises(ValueError, match="between 90 and 100"):
        sg.wilson_ci(table(con, numerator=[1], denominator=[2]), confidence=0.5)


# ---------------------------------------------------------------------------------------------
# 1.2 Byar's limits
# ---------------------------------------------------------------------------------------------

BYARS = [
    (65, 0.95, 50.163187710459454, 82.849138545939837),
    (1045, 0.95, 982.59320180733255, 1110.3312129856499),
    (1, 0.95, 0.013072132901504351, 5.5637555824752605),
    (65, 0.998, 42.880261471480203, 94.000290844318016),
    (1045, 0.998, 947.94070356103737, 1148.8061609880331),
    (10, 0.998, 2.916318374695686, 24.193724927880535),
    (1, 0.998, None, 9.362180217908362),
]


@pytest.mark.parametrize(("o", "conf", "lower", "upper"), BYARS)
def test_byars_vectors(con, o, conf, lower, upper):
    out = sg.poisson_ci(table(con, count=[float(o)]), confidence=conf, method="byars")
    tag = sg.level_tag(conf)
    lo, hi, reason = rows(out, f"rate_lower{tag}", f"rate_upper{tag}", "rate_reason")[0]
    assert hi == pytest.approx(upper, rel=A)
    if lower is None:
        assert lo is None
        assert "lower limit negative" in reason
    else:
        assert lo == pytest.approx(lower, rel=A)
        assert reason is None


def test_exact_poisson_limits_at_zero(con):
    """lower_E(0) = 0 (chi2inv(p, 0) = 0) and upper_E(0) = chi2inv(0.975, 2)/2."""
    out = sg.poisson_ci(table(con, count=[0.0]), confidence=0.95)
    lo, hi, method = rows(out, "rate_lower95", "rate_upper95", "rate_method")[0]
    assert (lo, method) == (0.0, "Exact")
    assert hi == pytest.approx(3.6888794541139354, rel=A)


# ---------------------------------------------------------------------------------------------
# 1.3 Crude rates
# ---------------------------------------------------------------------------------------------

RATES = [
    # x, n, multiplier, value, lower95, upper95, lower99.8, upper99.8, method, tolerance
    (
        1,
        100,
        100,
        1,
        0.025317807984289897,
        5.571643390938898,
        0.0010005003335835344,
        9.2334134764515845,
        "Exact",
        A,
    ),
    (
        5,
        100,
        100,
        5,
        1.62348639011842,
        11.668332079322669,
        0.739371731917839,
        16.454745203680105,
        "Exact",
        A,
    ),
    (
        20,
        100,
        100,
        20,
        12.211428834875937,
        30.889880369197066,
        8.922802365144193,
        38.085035625041911,
        "Byars",
        A,
    ),
    (
        250,
        220,
        1e5,
        113636.36363636365,
        99984.947385328764,
        128631.14487455782,
        92710.005544389525,
        137651.23772147458,
        "Byars",
        A,
    ),
    (2, 200, 1e5, 1000, 121.10463927198258, 3612.3438338619794, None, None, "Exact", A),
    (10, 200, 1e5, 5000, 2393.7249569837822, 9195.7293028782369, None, None, "Byars", A),
    (0, 1000, 1000, 0, 0.0, 3.6888794541139354, None, None, "Exact", A),  # [C]
]


@pytest.mark.parametrize(
    ("x", "n", "mult", "value", "l95", "u95", "l998", "u998", "method", "tol"), RATES
)
def test_rate_vectors(con, x, n, mult, value, l95, u95, l998, u998, method, tol):
    out = sg.poisson_ci(table(con, count=[x], n=[n]), denominator="n", multiplier=mult)
    got = rows(
        out,
        "rate_value",
        "rate_lower95",
        "rate_upper95",
        "rate_lower99_8",
        "rate_upper99_8",
        "rate_method",
    )[0]
    assert got[0] == pytest.approx(value, rel=tol)
    assert got[1] == pytest.approx(l95, rel=tol, abs=1e-300)
    assert got[2] == pytest.approx(u95, rel=tol)
    if l998 is not None:
        assert got[3] == pytest.approx(l998, rel=tol)
        assert got[4] == pytest.approx(u998, rel=tol)
    assert got[5] == method


def test_rate_seed_1015hc(con):
    """Seed 1015HC 2004-06: 60 infant deaths / 9702 births per 1,000 = 6.1843 (4.7190-7.9605;
    99.8% 4.0049-9.0736), Byar's [C]."""
    out = sg.poisson_ci(table(con, count=[60], n=[9702]), denominator="n", multiplier=1000)
    got = rows(
        out,
        "rate_value",
        "rate_lower95",
        "rate_upper95",
        "rate_lower99_8",
        "rate_upper99_8",
        "rate_method",
    )[0]
    assert got[:5] == pytest.approx((6.1843, 4.7190, 7.9605, 4.0049, 9.0736), abs=5e-5)
    assert got[5] == "Byars"


def test_rate_many_rows_one_query(con):
    """Exact and Byar's rows mixed in one relation; x can exceed n; bad rows are explicit."""
    rel = table(con, count=[1.0, 250.0, None, 3.0], n=[100.0, 220.0, 10.0, 0.0])
    got = rows(sg.poisson_ci(rel, denominator="n", multiplier=100), "rate_method", "rate_reason")
    assert got[0] == ("Exact", None)
    assert got[1] == ("Byars", None)
    assert got[2][0] is None and got[2][1].startswith("count missing")
    assert got[3][0] is None and got[3][1].startswith("denominator <= 0")


# ---------------------------------------------------------------------------------------------
# 1.6 Indirectly standardised ratios
# ---------------------------------------------------------------------------------------------

POPS = [
    636,
    558,
    609,
    543,
    384,
    594,
    669,
    843,
    660,
    576,
    606,
    522,
    426,
    273,
    300,
    288,
    153,
    123,
    207,
]
COUNTS = {
    "big": [127, 25, 18, 21, 12, 27, 48, 27, 29, 32, 32, 34, 45, 65, 38, 68, 74, 82, 91],
    "small": [12, 4, 3, 2, 3, 4, 8, 2, 2, 3, 4, 5, 6, 8, 5, 6, 5, 5, 4],
    "tiny": [0, 0, None, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 2, 3],
}
X_REF = [
    10303,
    2824,
    0,
    3615,
    3641,
    3490,
    3789,
    3213,
    3031,
    2771,
    3089,
    3490,
    3595,
    4745,
    5514,
    7125,
    5694,
    6210,
    5757,
]
N_REF = [
    50520,
    57173,
    60213,
    54659,
    44345,
    50128,
    62163,
    67423,
    62899,
    55463,
    60479,
    49974,
    44140,
    40888,
    37239,
    30819,
    18136,
    15325,
    13918,
]

ISR = {
    "big": (
        895,
        1.0707232939020275,
        1.0017147712553987,
        1.1432332872498949,
        0.96351556196144372,
        1.1860070415876287,
        "Byars",
    ),
    "small": (
        91,
        0.10886683770400503,
        0.08765040101829405,
        0.13366576328418911,
        0.076954255283921108,
        0.14897920510466744,
        "Byars",
    ),
    "tiny": (
        9,
        0.010767049882813684,
        0.0049233808250957762,
        0.02043921455549973,
        0.0029339306550682617,
        0.027105896514690211,
        "Exact",
    ),
}


@pytest.fixture(scope="module")
def isr_expected(con):
    areas = [a for a in COUNTS for _ in POPS]
    bands = [i for _ in COUNTS for i in range(len(POPS))]
    counts = [c for a in COUNTS for c in COUNTS[a]]
    rel = table(con, area=areas, band=bands, count=counts, population=POPS * 3)
    ref = table(con, band=list(range(19)), count=X_REF, population=N_REF)
    return sg.isr_expected(rel, ref)


def test_isr_expected_and_observed(isr_expected):
    got = {
        r[0]: r[1:]
        for r in rows(
            isr_expected, "area", "observed", "expected", "reference_rate", "expected_reason"
        )
    }
    for area, (o, *_rest) in ISR.items():
        assert got[area][0] == o  # NA counts are removed from O (tiny: 9)
        assert got[area][1] == pytest.approx(835.88356123117433, rel=A)
        assert got[area][2] == pytest.approx(0.093498830922110192, rel=A)
        assert got[area][3] is None


@pytest.mark.parametrize("area", sorted(ISR))
def test_isr_vectors(isr_expected, area):
    _o, ratio, l95, u95, l998, u998, method = ISR[area]
    out = sg.isr_ci(isr_expected).filter(f"area = '{area}'")
    got = rows(
        out,
        "isr_value",
        "isr_lower95",
        "isr_upper95",
        "isr_lower99_8",
        "isr_upper99_8",
        "isr_method",
    )[0]
    assert got[:5] == pytest.approx((ratio, l95, u95, l998, u998), rel=A)
    assert got[5] == method


def test_israte_vector(isr_expected):
    """ISRate per 100,000 for 'big': 10011.137622091057 (9365.91600297888 - 10689.097582910616) [A]."""
    out = sg.isr_ci(
        isr_expected, reference_rate="reference_rate", multiplier=100000, confidence=0.95
    )
    got = rows(out.filter("area = 'big'"), "isr_value", "isr_lower95", "isr_upper95")[0]
    assert got == pytest.approx((10011.137622091057, 9365.91600297888, 10689.097582910616), rel=A)


def test_isr_x100_seed_1029hc(con):
    """Seed 1029HC: O = 44, E = 44/0.635 gives 63.5 (46.13-85.25, Byar's); O = 8, E = 14.337 gives
    55.8 (24.09-109.95, exact) [C]."""
    rel = table(con, observed=[44.0, 8.0], expected=[44 / 0.635, 14.337])
    got = rows(
        sg.isr_ci(rel, refvalue=100, confidence=0.95),
        "isr_value",
        "isr_lower95",
        "isr_upper95",
        "isr_method",
    )
    assert got[0][:3] == pytest.approx((63.5, 46.13, 85.25), abs=5e-3)
    assert got[0][3] == "Byars"
    assert got[1][0] == pytest.approx(55.8, abs=5e-2)
    assert got[1][1:3] == pytest.approx((24.09, 109.95), abs=5e-3)
    assert got[1][3] == "Exact"


def test_isr_unmatched_band_is_explicit(con):
    rel = table(con, area=["a", "a"], band=[0, 99], count=[1, 2], population=[10, 10])
    ref = table(con, band=[0], count=[5], population=[50])
    got = rows(sg.isr_expected(rel, ref), "expected", "expected_reason")[0]
    assert got[0] is None and "without a reference rate" in got[1]


# ---------------------------------------------------------------------------------------------
# 2.1-2.2 PHE funnel limits and significance labels
# ---------------------------------------------------------------------------------------------

AV = 0.806424478571495


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, (3.204264, 100.0, 0.0, 100.0)),
        (664, (77.637263, 83.647632, 75.904239, 85.380656)),
        (110000, (80.408963, 80.875933, 80.274317, 81.010578)),
    ],
)
def test_proportion_funnel_limits(con, n, expected):
    """PHE proportion funnel limits (Wilson inversion) around av = 80.642448% [A]."""
    out = sg.funnel_significance(table(con, numerator=[0.0], denominator=[float(n)]), average=AV)
    got = rows(
        out,
        "funnel_limit_low95",
        "funnel_limit_high95",
        "funnel_limit_low99_8",
        "funnel_limit_high99_8",
    )[0]
    assert tuple(100 * g for g in got) == pytest.approx(expected, abs=5e-7)


def test_proportion_funnel_labels(con):
    rel = table(
        con, numerator=[35078.488, 24803.6256, 50050.7443], denominator=[41980.0, 31824.0, 61921.0]
    )
    got = [r[0] for r in rows(sg.funnel_significance(rel, average=AV), "funnel_significance")]
    assert got == ["High (0.001)", "Low (0.001)", "Not significant"]


def test_ratio_funnel_labels(con):
    rel = table(
        con,
        numerator=[8.0, 151.0, 150.0, 159.0, 0.0],
        denominator=[6.239860227, 106.4429719, 119.5695496, 232.9329036, 240.6273499],
    )
    got = [r[0] for r in rows(sg.funnel_significance(rel, kind="ratio"), "funnel_significance")]
    assert got == ["Not significant", "High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.001)"]


def test_rate_funnel_labels(con):
    """dsr count 2130 at 752.3254955 per 1e5 (weighted av 0.00704900470331713): High (0.025);
    crude 2130 at 742.8902266 (av 0.006685089282681704): High (0.001); dsr < 10: not applicable [A]."""
    dsr = table(con, numerator=[2130.0, 7.0], rate=[752.3254955, 3.1])
    got = rows(
        sg.funnel_significance(
            dsr,
            kind="rate",
            rate="rate",
            rate_type="dsr",
            denominator=None,
            average=0.00704900470331713,
        ),
        "funnel_significance",
    )
    assert [g[0] for g in got] == [
        "High (0.025)",
        "Not applicable for events less than 10 for dsrs",
    ]
    crude = table(con, numerator=[2130.0], rate=[742.8902266])
    got = rows(
        sg.funnel_significance(
            crude, kind="rate", rate="rate", denominator=None, average=0.006685089282681704
        ),
        "funnel_significance",
    )
    assert got[0][0] == "High (0.001)"


def test_proportion_funnel_average_is_pooled_per_group(con):
    rel = table(
        con, g=["a", "a", "b"], numerator=[10.0, 30.0, 5.0], denominator=[100.0, 100.0, 50.0]
    )
    got = rows(sg.funnel_significance(rel, group_by=["g"]), "g, funnel_average")
    # relation order is not defined: compare per group
    assert sorted((r[0], round(r[1], 9)) for r in got) == [("a", 0.2), ("a", 0.2), ("b", 0.1)]


# ---------------------------------------------------------------------------------------------
# 3.2 Spiegelhalter over-dispersion
# ---------------------------------------------------------------------------------------------

FP_NUM = [100.0, 150.0, 180.0, 80.0, 120.0, 225.0]
FP_DEN = [108.0, 112.0, 165.0, 95.0, 100.0, 220.0]


def test_funnelplotr_shmi_phi(con):
    """FunnelPlotR defaults (SR, SHMI, trim 0.1): phi = 2.948033 [A]; tau2 = 0.0194775 [C]."""
    out = sg.overdispersion_test(
        table(con, numerator=FP_NUM, denominator=FP_DEN), kind="ratio_shmi"
    )
    got = set(rows(out, "od_phi", "od_tau2", "od_units"))
    assert len(got) == 1
    phi, tau2, units = got.pop()
    assert phi == pytest.approx(2.948033, abs=5e-7)
    assert tau2 == pytest.approx(0.0194775, abs=5e-8)
    assert units == 6  # no unit truncated for I = 6


def test_cqc_sqrt_transform(con):
    """Same data as CQC/Spiegelhalter SR: z, winsorised z, phi, tau2 [C]."""
    out = sg.overdispersion_test(table(con, numerator=FP_NUM, denominator=FP_DEN), kind="ratio")
    got = rows(out, "od_z", "od_z_winsorised", "od_phi", "od_tau2")
    z = [-0.78461, 3.32889, 1.14235, -1.60504, 1.90890, 0.33521]
    wz = [-0.78461, 2.61889, 1.14235, -1.19483, 1.90890, 0.33521]
    assert [g[0] for g in got] == pytest.approx(z, abs=5e-6)
    assert [g[1] for g in got] == pytest.approx(wz, abs=5e-6)
    assert got[0][2] == pytest.approx(2.327178, abs=5e-7)
    assert got[0][3] == pytest.approx(0.00343978, abs=5e-9)


def test_poisson_sr_limits_unadjusted(con):
    """Unadjusted Poisson SR limits, target 1, E = 15, 20, 30 [A]."""
    out = sg.overdispersion_limits(
        table(con, denominator=[15.0, 20.0, 30.0]), target=1.0, tau2=None, kind="ratio"
    )
    got = rows(out, "funnel_lower95", "funnel_upper95", "funnel_lower99_8", "funnel_upper99_8")
    assert [g[0] for g in got] == pytest.approx([0.5596924, 0.6108260, 0.6746958], abs=5e-8)
    assert [g[1] for g in got] == pytest.approx([1.649348, 1.544419, 1.427562], abs=5e-7)
    assert [g[2] for g in got] == pytest.approx([0.3862650, 0.4479107, 0.5289724], abs=5e-8)
    assert [g[3] for g in got] == pytest.approx([2.082907, 1.902094, 1.702771], abs=5e-7)


def test_outlier_rule_is_strict(con):
    """LCL 0.9, UCL 1.1: inside means LCL <= value <= UCL [A]."""
    rr = [1, 0.95, 1.05, 0.8, 1.2, 0.6, 1.4, 0.4, 1.6, 0]
    out = sg.flag_outside(table(con, value=[float(r) for r in rr]), lower=0.9, upper=1.1)
    assert [r[0] for r in rows(out, "outlier")] == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    edge = sg.flag_outside(table(con, value=[0.9, 1.1]), lower=0.9, upper=1.1)
    assert [r[0] for r in rows(edge, "outlier")] == [0, 0]


PR_Y = [30.0, 45.0, 60.0, 20.0, 50.0, 90.0, 75.0, 40.0, 55.0, 65.0]
PR_N = [100.0, 120.0, 150.0, 90.0, 110.0, 200.0, 160.0, 100.0, 130.0, 140.0]


@pytest.fixture(scope="module")
def pr_example(con):
    return table(con, grp=["all"] * 10, numerator=PR_Y, denominator=PR_N)


def test_pr_example(pr_example):
    """PR example: p0, z, winsorisation bounds, phi, tau2, z_D and flags at 95% and 99.8% [C]."""
    out = sg.overdispersion_test(pr_example, group_by=["grp"])
    got = rows(
        out, "od_target", "od_z", "od_z_winsorised", "od_phi", "od_tau2", "od_z_adjusted", "od_flag"
    )
    assert got[0][0] == pytest.approx(0.4076923, abs=5e-8)
    assert math.asin(math.sqrt(got[0][0])) == pytest.approx(0.6925579, abs=5e-8)
    z = [-2.2584, -0.7339, -0.1920, -3.8265, 0.9927, 1.2093, 1.5576, -0.1568, 0.3560, 1.3511]
    assert [g[1] for g in got] == pytest.approx(z, abs=5e-5)
    assert min(g[2] for g in got) == pytest.approx(-2.4152, abs=5e-5)
    assert max(g[2] for g in got) == pytest.approx(1.3718, abs=5e-5)
    assert got[0][3] == pytest.approx(1.781530, abs=5e-7)
    assert got[0][4] == pytest.approx(0.00189633, abs=5e-9)
    zd = [-1.7030, -0.5310, -0.1313, -2.9499, 0.7329, 0.7623, 1.0469, -0.1182, 0.2526, 0.9409]
    assert [g[5] for g in got] == pytest.approx(zd, abs=5e-5)
    assert [g[6] for g in got] == ["-", "-", "-", "low", "-", "-", "-", "-", "-", "-"]
    strict = sg.overdispersion_test(pr_example, group_by=["grp"], confidence=0.998)
    assert {r[0] for r in rows(strict, "od_flag")} == {"-"}


@pytest.mark.parametrize(
    ("n", "tau2", "expected"),
    [
        (100, "od", (0.28450, 0.53708, 0.21955, 0.61112)),
        (100, None, (0.31376, 0.50516, 0.26261, 0.56152)),
        (200, "od", (0.30273, 0.51709, 0.24622, 0.58015)),
    ],
)
def test_pr_example_limits(con, pr_example, n, tau2, expected):
    """PR example funnel limits at n = 100 and 200, adjusted and unadjusted [C]."""
    est = sg.overdispersion_test(pr_example, group_by=["grp"]).aggregate(
        "any_value(od_target) AS target, any_value(od_tau2) AS tau2"
    )
    grid = table(con, denominator=[float(n)]).cross(est)
    out = sg.overdispersion_limits(grid, tau2="tau2" if tau2 else None)
    got = rows(out, "funnel_lower95", "funnel_upper95", "funnel_lower99_8", "funnel_upper99_8")[0]
    assert got == pytest.approx(expected, abs=5e-6)


def test_identical_proportions_no_overdispersion(con):
    """20/100, 40/200, 60/300: phi = 0, tau2 = 0, so the limits are unadjusted [C]."""
    out = sg.overdispersion_test(
        table(con, numerator=[20.0, 40.0, 60.0], denominator=[100.0, 200.0, 300.0])
    )
    got = set(rows(out, "od_phi", "od_tau2", "od_tau2_applied"))
    assert got == {(0.0, 0.0, 0.0)}
    basis = rows(out, "od_basis")[0][0]
    assert "no over-dispersion" in basis


@pytest.mark.golden
def test_seed_1003hc_2005_consistency(con):
    """Seed 1003HC 2005/06 (000:L222): 1999/3083 = 64.8% vs benchmark 81.9% printed '-'.
    Y = 0.93606, theta0 = 1.13135, s = 0.00900, unadjusted z = -21.69; the printed '-' holds only
    if tau >= 0.0992 on the arcsine scale, and a pure binomial test flags low [C]."""
    assert math.asin(math.sqrt(1999 / 3083)) == pytest.approx(0.93606, abs=5e-6)
    assert math.asin(math.sqrt(0.819)) == pytest.approx(1.13135, abs=5e-6)
    assert 1 / (2 * math.sqrt(3083)) == pytest.approx(0.00900, abs=5e-6)
    out = sg.overdispersion_test(table(con, numerator=[1999.0], denominator=[3083.0]), target=0.819)
    assert rows(out, "od_z")[0][0] == pytest.approx(-21.69, abs=5e-3)
    unit = table(con, value=[1999 / 3083], denominator=[3083.0])
    verdicts = []
    for tau in (0.0, 0.0990, 0.0993):
        limits = sg.overdispersion_limits(unit, target=0.819, tau2=tau * tau, confidence=0.95)
        flagged = sg.flag_outside(limits, lower="funnel_lower95", upper="funnel_upper95")
        verdicts.append(rows(flagged, "outlier")[0][0])
    assert verdicts == [1, 1, 0]


def test_overdispersion_groups_estimated_separately(con, pr_example):
    """Each group gets its own phi and tau2 from all its units at once."""
    rel = table(
        con,
        grp=["a"] * 10 + ["b"] * 3,
        numerator=[*PR_Y, 20.0, 40.0, 60.0],
        denominator=[*PR_N, 100.0, 200.0, 300.0],
    )
    got = dict(
        rows(
            sg.overdispersion_test(rel, group_by=["grp"]).aggregate("grp, max(od_phi)", "grp"), "*"
        )
    )
    assert got["a"] == pytest.approx(1.781530, abs=5e-7)
    assert got["b"] == 0.0


def test_overdispersion_compare_to_benchmark(pr_example):
    """A benchmark-group comparison reuses the tau2 estimated against the pooled target."""
    base = rows(sg.overdispersion_test(pr_example, group_by=["grp"]), "od_tau2")[0][0]
    out = sg.overdispersion_test(pr_example, group_by=["grp"], compare_to=0.5)
    got = rows(out, "od_tau2", "od_target", "od_flag", "od_value", "od_lower", "od_upper")
    assert got[0][0] == pytest.approx(base)
    assert got[0][1] == 0.5
    for _, _, flag, v, lo, hi in got:
        assert flag == ("low" if v < lo else "high" if v > hi else "-")


# ---------------------------------------------------------------------------------------------
# 4.3 Fingertips CI overlap
# ---------------------------------------------------------------------------------------------

OVERLAP = [
    # value, lower, upper, benchmark, polarity, expected outcome
    (11.0, 10.0, 12.0, 11.0, "low", "similar"),
    (11.0, 10.0, 12.0, 11.0, "high", "similar"),
    (3.05, 2.7, 3.1, 3.0, "low", "similar"),
    (3.3, 3.2, 3.5, 3.0, "low", "worse"),
    (3.3, 3.2, 3.5, 3.0, "high", "better"),
    (2.5, 2.2, 2.8, 3.0, "low", "better"),
    (2.5, 2.2, 2.8, 3.0, "high", "worse"),
    (None, None, None, 3.0, "low", "not compared"),  # Fingertips NullValue -1
    (4.0, None, 4.5, 3.0, "low", "not compared"),
    (4.0, 3.5, None, 3.0, "low", "not compared"),
    (4.0, None, None, 3.0, "low", "not compared"),
]


def test_ci_overlap_vectors(con):
    """Fingertips SingleOverlappingCIsForOneCILevelComparatorTest [A], all rows in one query."""
    rel = table(
        con,
        value=[o[0] for o in OVERLAP],
        lower95=[o[1] for o in OVERLAP],
        upper95=[o[2] for o in OVERLAP],
        benchmark=[o[3] for o in OVERLAP],
        polarity=[o[4] for o in OVERLAP],
    )
    got = rows(sg.compare_ci_overlap(rel), "vs_benchmark_outcome", "vs_benchmark_reason")
    assert [g[0] for g in got] == [o[5] for o in OVERLAP]
    assert all(
        (g[1] is None) == (o[5] != "not compared") for g, o in zip(got, OVERLAP, strict=True)
    )


def test_ci_overlap_basis_and_polarity_none(con):
    rel = table(con, value=[58.8], lower95=[57.1241], upper95=[60.5312], benchmark=[69.6])
    out = sg.compare_ci_overlap(rel, polarity="none", benchmark_label="england", decimals=1)
    direction, outcome, reason, basis = rows(
        out,
        "vs_benchmark_direction",
        "vs_benchmark_outcome",
        "vs_benchmark_reason",
        "vs_benchmark_basis",
    )[0]
    assert (direction, outcome) == ("lower", "not compared")
    assert reason == "polarity none (context, not performance): not judged better or worse"
    assert basis.startswith("CI overlap vs england at 95%: 57.1-60.5 vs 69.6")


def test_ci_overlap_method_17(con):
    """Two levels: benchmark inside 95% similar; between the 95% and 99.8% limits better/worse;
    beyond 99.8% best/worst (before the polarity swap)."""
    rel = table(
        con,
        value=[10.0, 10.0, 10.0, 10.0, 10.0],
        l95=[9.0] * 5,
        u95=[11.0] * 5,
        l998=[8.0] * 5,
        u998=[12.0] * 5,
        benchmark=[10.5, 8.5, 7.0, 11.5, 13.0],
    )
    out = sg.compare_ci_overlap(
        rel, lower="l95", upper="u95", lower_outer="l998", upper_outer="u998", polarity="high"
    )
    got = rows(out, "vs_benchmark_direction", "vs_benchmark_outcome")
    assert got == [
        ("similar", "similar"),
        ("higher", "better"),
        ("highest", "best"),
        ("lower", "worse"),
        ("lowest", "worst"),
    ]
    low = sg.compare_ci_overlap(
        rel, lower="l95", upper="u95", lower_outer="l998", upper_outer="u998", polarity="low"
    )
    assert [g[0] for g in rows(low, "vs_benchmark_outcome")] == [
        "similar",
        "worse",
        "worst",
        "better",
        "best",
    ]


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------

FAST = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(1, 5000)).map(lambda t: (min(t), max(t))),
        min_size=1,
        max_size=30,
    )
)
def test_property_wilson_contains_estimate(con, pairs):
    rel = table(
        con, numerator=[float(p[0]) for p in pairs], denominator=[float(p[1]) for p in pairs]
    )
    for v, lo95, hi95, lo998, hi998 in rows(
        sg.wilson_ci(rel),
        "proportion_value",
        "proportion_lower95",
        "proportion_upper95",
        "proportion_lower99_8",
        "proportion_upper99_8",
    ):
        assert 0 <= lo998 <= lo95 <= v <= hi95 <= hi998 <= 1


@FAST
@given(st.lists(st.tuples(st.integers(0, 3000), st.floats(1, 1e5)), min_size=1, max_size=30))
def test_property_poisson_contains_estimate(con, pairs):
    rel = table(con, count=[float(p[0]) for p in pairs], n=[p[1] for p in pairs])
    for v, lo95, hi95, lo998, hi998 in rows(
        sg.poisson_ci(rel, denominator="n", multiplier=1000),
        "rate_value",
        "rate_lower95",
        "rate_upper95",
        "rate_lower99_8",
        "rate_upper99_8",
    ):
        assert lo95 <= v * (1 + 1e-12) and v <= hi95
        assert (lo998 is None or lo998 <= lo95) and hi95 <= hi998


@FAST
@given(
    st.lists(
        st.tuples(
            st.floats(-100, 100), st.floats(0.01, 20), st.floats(0.01, 20), st.floats(-100, 100)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_property_polarity_swap_swaps_better_and_worse(con, items):
    rel = table(
        con,
        value=[i[0] for i in items],
        lower95=[i[0] - i[1] for i in items],
        upper95=[i[0] + i[2] for i in items],
        benchmark=[i[3] for i in items],
    )
    high = [r[0] for r in rows(sg.compare_ci_overlap(rel, polarity="high"), "vs_benchmark_outcome")]
    low = [r[0] for r in rows(sg.compare_ci_overlap(rel, polarity="low"), "vs_benchmark_outcome")]
    swap = {"better": "worse", "worse": "better", "similar": "similar"}
    assert low == [swap[h] for h in high]


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.integers(1, 400)).map(lambda t: (min(t), max(t))),
        min_size=3,
        max_size=40,
    )
)
def test_property_od_flag_matches_limits(con, pairs):
    """A unit is flagged exactly when it lies outside its own adjusted limits."""
    rel = table(
        con, numerator=[float(p[0]) for p in pairs], denominator=[float(p[1]) for p in pairs]
    )
    for flag, v, lo, hi, zd in rows(
        sg.overdispersion_test(rel), "od_flag", "od_value", "od_lower", "od_upper", "od_z_adjusted"
    ):
        if flag is None or abs(abs(zd) - 1.959963984540054) < 1e-6:
            continue
        assert flag == ("low" if v < lo else "high" if v > hi else "-")
