"""The national build of today's data (`cspa judge`: LAIT and the DfE children's social care files),
checked by hand against the source files.

The expected figures below are worked out here directly from the LAIT base data set
(``bds_long_0.parquet``), DfE's EES files and the DfE May 2025 neighbour list, independently of the
store and the engine: Luton's re-referral rate, its rank among the authorities (low is good, ties
share the lowest rank), its quartile band (LAIT: type-7 quartiles, a value on a cut point goes to
the low-value side) and the mean of its ten neighbours; and (issue 17) its rate of children looked
after against England's and its neighbours' with Byar's interval, the Fingertips recent trend of
that rate, and the seed's trend class of a LAIT measure ranked among every authority's.
"""

from __future__ import annotations

import contextlib
import csv
import re
import statistics
from pathlib import Path

import duckdb
import numpy as np
import pytest

import cspa
from cspa.engine.run import judge
from cspa.engine.selection import Selection

DATA = Path(cspa.__file__).resolve().parent / "data" / "real"


@pytest.fixture(scope="module")
def judged(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("judge") / "cspa.duckdb"
    path.write_bytes(Path(demo_db).read_bytes())
    con = duckdb.connect(str(path))
    summary = judge(con, Selection(frameworks=("lait", "dfe_csc")))
    yield con, summary
    con.close()


def _source(code: str, year: str) -> dict[str, float]:
    rows = duckdb.sql(f"""SELECT CAST(CAST("LA Number" AS INTEGER) AS VARCHAR), "Values"
                          FROM read_parquet('{DATA / "indicators" / "bds_long_0.parquet"}')
                          WHERE "Short Desc" = '{code}' AND "Years" = '{year}' AND "LA Number" < 970""").fetchall()
    out = {}
    for la, v in rows:
        with contextlib.suppress(
            TypeError, ValueError
        ):  # suppressed ('-', 'c') or missing: not ranked
            out[la] = float(v)
    return out


def test_every_lait_figure_judged(judged):
    con, summary = judged
    assert (
        summary["rows"] > 1_000_000
        and summary["ranks"] > 300_000
        and summary["quartiles"] > 300_000
    )
    assert (
        con.execute("SELECT count(DISTINCT area) FROM judgement WHERE area_type = 'la'").fetchall()[
            0
        ][0]
        >= 153
    )


def test_a_judgement_not_made_says_why(judged):
    """A suppressed figure is not ranked and has no progress, and says so; so does the first year of
    a series (issue 5: "an explicit 'not judged' with the reason, never a silent blank")."""
    con, _ = judged
    rows = con.execute("""SELECT area, period_label, status, rank, quartile, distribution_basis, progress, progress_basis
                          FROM judgement WHERE indicator = 'ReReferral' AND area_type = 'la'
                            AND (status IS NOT NULL OR (area = '821' AND period_label = '2016'))""").fetchall()
    suppressed = [r for r in rows if r[2] is not None]
    assert len(suppressed) > 10
    for area, _, status, rank, quartile, dist, prog, prog_basis in suppressed:
        assert rank is None and quartile is None and prog is None, area
        assert dist == f"not ranked or banded: no figure (status {status})"
        assert prog_basis == f"no progress judged: no figure this period (status {status})"
    first = next(r for r in rows if r[0] == "821")  # LAIT's re-referrals start in 2016
    assert first[3] is not None and first[6] is None
    assert first[7] == "no progress judged: the area has no figure for the period before"
    # every authority's figure of a ranked measure has a rank line, and every one of a measure with
    # a direction a progress line: none is left blank
    blank = con.execute("""SELECT count(*) FILTER (WHERE distribution_basis IS NULL),
                                  count(*) FILTER (WHERE progress_basis IS NULL) FROM judgement
                           WHERE indicator = 'ReReferral' AND area_type = 'la'""").fetchall()[0]
    assert blank == (0, 0)


def test_no_neighbour_mean_is_negative_zero(judged):
    """Neighbours' values that cancel (Rutland's ten Progress 8 neighbours in 2017/18: -0.13, 0.01,
    0.06, 0.02, -0.09, -0.04, 0.13, -0.08, 0.11, 0.01) leave a float residual of either sign, by the
    order the threads add them; rounded, a negative one was -0.0, printed '-0' in about 30 progress
    lines of each national build."""
    con, _ = judged
    zeros = con.execute("""SELECT count(*), count(*) FILTER (WHERE CAST(value AS VARCHAR) = '-0.0'),
                                  count(*) FILTER (WHERE progress_basis LIKE '%: -0 vs%' OR progress_basis LIKE '% vs -0 (%')
                           FROM judgement WHERE area_type = 'sn_group' AND value = 0""").fetchall()[
        0
    ]
    assert zeros[0] > 20 and zeros[1:] == (0, 0), zeros


@pytest.mark.parametrize(("code", "year"), [("ReReferral", "2025"), ("LACStable_2016on", "2024")])
def test_luton_by_hand(judged, code, year):
    con, _ = judged
    values = _source(code, year)
    luton = values["821"]
    # rank: low is good, ties share the lowest rank
    rank = 1 + sum(1 for v in values.values() if v < luton)
    q1, q2, q3 = np.quantile(list(values.values()), [0.25, 0.5, 0.75])  # numpy 'linear' = type 7
    quartile = 1 if luton <= q1 else 2 if luton <= q2 else 3 if luton <= q3 else 4
    with (DATA / "statistical_neighbours" / "statistical_neighbours_long.csv").open(
        encoding="utf-8"
    ) as f:
        sns = [
            r["neighbour_dfe_la_code"]
            for r in csv.DictReader(f)
            if r["model"] == "DfE May 2025" and r["dfe_la_code"] == "821"
        ]
    sn_mean = statistics.mean(values[c] for c in sns if c in values)

    got = con.execute(
        """SELECT area, value, rank, quartile, basis, vintage FROM judgement
                         WHERE indicator = ? AND period_label = ? AND area IN ('821', 'SN:dfe_2025:821')""",
        [code, year],
    ).fetchall()
    by_area = {r[0]: r for r in got}
    assert by_area["821"][1] == pytest.approx(luton)
    assert by_area["821"][2] == rank
    assert by_area["821"][3] == quartile
    assert by_area["SN:dfe_2025:821"][1] == pytest.approx(sn_mean)
    # the neighbour figure's line: method, group and version, members used, the data's vintage
    used = sum(1 for c in sns if c in values)
    missing = f" ({len(sns) - used} missing or suppressed)" if used < len(sns) else ""
    assert by_area["SN:dfe_2025:821"][4] == (
        f"mean of {used} of {len(sns)} dfe_2025 neighbours{missing} ({by_area['821'][5]})"
    )
    assert by_area["821"][5].startswith("LAIT base data set")


def test_neighbour_means_are_the_same_every_run(demo_con):
    """Parallel float sums add in any order; the printed SN figures must not depend on it."""
    from cspa.engine.run import build

    where = Selection.framework("lait")
    for i in range(2):
        p = build(demo_con, where)
        demo_con.execute(
            f"CREATE OR REPLACE TEMP TABLE _det{i} AS SELECT area, indicator, measure, period, value "
            f"FROM {p}_presented WHERE area_type = 'sn_group'"
        )
    n, differ = demo_con.execute(
        "SELECT count(*), count(*) FILTER (WHERE a.value IS DISTINCT FROM b.value) FROM _det0 a "
        "JOIN _det1 b USING (area, indicator, measure, period)"
    ).fetchall()[0]
    assert n > 1000 and differ == 0


def test_no_rank_or_quartile_among_fewer_than_four(demo_con):
    """The seed's 2008 dataset holds Luton's figures only: a "rank of 1 authorities" with quartiles
    45.3 / 45.3 / 45.3 said nothing, so such cells are not judged and the line says why."""
    from cspa.engine.run import compute

    rows = (
        compute(demo_con, Selection.framework("apa2008"))
        .filter("distribution_basis IS NOT NULL")
        .project("area, rank, quartile, distribution_basis")
        .fetchall()
    )
    assert rows, "2008 measures ask for ranks or quartiles"
    assert all(r[1] is None and r[2] is None for r in rows)
    assert {r[3] for r in rows} == {
        "not ranked or banded: 1 authority has a figure here, and ranks and "
        "quartiles need at least 4"
    }


def test_no_progress_into_or_out_of_a_figure_every_authority_shares(judged):
    """LAIT gives every authority and region England's Stability_School figure for 2018 (12) and
    2019 (5), as read here from the base data set. Luton's "improved, 5 vs 12" for 2019 was England's
    improvement, not Luton's: a change into or out of a period where every authority has one figure
    is not the area's own, so only England's own figure has progress there, and the others say why."""
    src = {y: set(_source("Stability_School", y).values()) for y in ("2018", "2019")}
    assert src == {"2018": {12.0}, "2019": {5.0}}
    con, _ = judged
    rows = {
        r[0]: r[1:]
        for r in con.execute("""SELECT area, area_type, display, progress, progress_basis FROM judgement
                                WHERE indicator = 'Stability_School' AND period = 'FY2018-19'
                                  AND for_area IS NULL""").fetchall()
    }
    # England's own change is judged (low is good: fewer moves is better)
    assert rows["E92000001"][2:] == ("improved", "vs 2018: 5 vs 12 (low is good)")
    others = {a: r for a, r in rows.items() if a != "E92000001"}
    assert {r[0] for r in others.values()} >= {"la", "region", "sn_group"}
    assert len([r for r in others.values() if r[0] == "la"]) >= 150
    for area, (_, display, progress, basis) in others.items():
        assert display == "5.0" and progress is None, area
        assert basis == (
            "no progress judged: every authority has the same figure in 2018 and 2019 (one figure "
            "given to them all), so a change to or from it is not the area's own"
        ), area


def test_a_shared_rank_counts_the_authorities_sharing_it(judged):
    """Ties share the best rank (methods.md 7.1): Luton's 0.0 child protection plans active for two
    years or more at 31 March 2019 is rank 1 of 102 with every authority that also has none, counted
    here from the LAIT base data set."""
    src = _source("CPPlans2yrsActive", "2019")
    con, _ = judged
    rank, rank_of, shared = con.execute("""SELECT rank, rank_of, rank_shared FROM judgement
        WHERE indicator = 'CPPlans2yrsActive' AND area = '821' AND period_label = '2019'""").fetchall()[0]
    assert src["821"] == 0.0 and (rank, rank_of) == (1, 102)
    assert shared == sum(1 for v in src.values() if v == 0.0) == 30
    # a rank nobody shares counts one, and every rank has its count
    alone, missing = con.execute("""SELECT count(*) FILTER (WHERE rank_shared = 1),
                                           count(*) FILTER (WHERE rank IS NOT NULL AND rank_shared IS NULL)
                                    FROM judgement WHERE indicator = 'CPPlans2yrsActive'
                                      AND period_label = '2019'""").fetchall()[0]
    assert alone > 10 and missing == 0


# ---------------------------------------------------------------- issue 17: significance and trends


def _ees(name: str, **match: str) -> list[dict[str, str]]:
    with (DATA / "indicators" / name).open(encoding="utf-8-sig") as f:
        return [r for r in csv.DictReader(f) if all(r[k] == v for k, v in match.items())]


def _byar(o: float, z: float) -> tuple[float, float]:
    """Byar's limits for a count (methods.md 1.2), written out again here."""
    lo = o * (1 - 1 / (9 * o) - z / (3 * o**0.5)) ** 3
    hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * (o + 1) ** 0.5)) ** 3
    return lo, hi


def _dfe_neighbours(la: str = "821") -> list[str]:
    with (DATA / "statistical_neighbours" / "statistical_neighbours_long.csv").open(
        encoding="utf-8"
    ) as f:
        return [
            r["neighbour_dfe_la_code"]
            for r in csv.DictReader(f)
            if r["model"] == "DfE May 2025" and r["dfe_la_code"] == la
        ]


CLA = "cla_number_and_rate_per_10k_children.csv"
ON_31_MARCH = "Children looked after on 31 March each year"


@pytest.mark.parametrize("year", ["2021", "2023", "2025"])
def test_cla_rate_significance_by_hand(judged, year):
    """Children looked after at 31 March per 10,000 (CLA_31MAR): Luton's count over its population,
    Byar's 95% and 99.8% limits, against England's rate (sum over sum, as DfE publishes it) and
    against the mean of its ten DfE neighbours' rates."""
    con, _ = judged
    rows = _ees(CLA, time_period=year, population_type=ON_31_MARCH)
    luton = next(r for r in rows if r["old_la_code"] == "821")
    england = next(r for r in rows if r["geographic_level"] == "National")
    o, n = float(luton["children_count"]), float(luton["population_estimate"])
    eng = float(england["children_count"]) / float(england["population_estimate"]) * 1e4
    lo, hi = (x / n * 1e4 for x in _byar(o, 1.959964))
    lo2, hi2 = (x / n * 1e4 for x in _byar(o, 3.090232))
    want = "similar" if lo <= eng <= hi else ("lower" if eng > hi else "higher")
    both = None if want == "similar" else not (lo2 <= eng <= hi2)
    rates = {
        r["old_la_code"]: float(r["children_count"]) / float(r["population_estimate"]) * 1e4
        for r in rows
        if r["geographic_level"] == "Local authority"
        and r["children_count"].isdigit()
        and float(r["population_estimate"] or 0) > 0
    }
    sn = statistics.mean(rates[c] for c in _dfe_neighbours() if c in rates)
    want_sn = "similar" if lo <= sn <= hi else ("lower" if sn > hi else "higher")
    got = con.execute(
        """SELECT value, significance, significance_both_levels, significance_basis,
                  significance_group, significance_group_comparator, significance_method
           FROM judgement WHERE indicator = 'CLA_31MAR' AND measure = 'rate' AND area = '821'
             AND period_label = ?""",
        [year],
    ).fetchall()
    value, sig, got_both, basis, sig_sn, sn_comp, method = got[0]
    assert value == pytest.approx(o / n * 1e4)
    assert (sig, got_both) == (want, both)
    assert f"{lo:.2f}-{hi:.2f}" in basis and f"vs England {eng:.2f}" in basis
    assert (sig_sn, sn_comp) == (want_sn, "statistical_neighbours")
    assert method.startswith("Poisson")


def test_cla_recent_trend_by_hand(judged):
    """The Fingertips recent trend of Luton's CLA rate over its last five years (2021-2025): the
    Cochran-Armitage chi-squared on the counts and populations (methods.md 5.2)."""
    con, _ = judged
    pts = []
    for year in range(2021, 2026):
        r = next(
            r
            for r in _ees(CLA, time_period=str(year), population_type=ON_31_MARCH)
            if r["old_la_code"] == "821"
        )
        pts.append((float(r["children_count"]), float(r["population_estimate"])))
    t = range(1, 6)
    big_x, big_n = sum(x for x, _ in pts), sum(n for _, n in pts)
    sxt = sum(x * ti for (x, _), ti in zip(pts, t, strict=True))
    snt = sum(n * ti for (_, n), ti in zip(pts, t, strict=True))
    snt2 = sum(n * ti * ti for (_, n), ti in zip(pts, t, strict=True))
    chi2 = (
        big_n
        * (big_n * sxt - big_x * snt) ** 2
        / (big_x * (big_n - big_x) * (big_n * snt2 - snt**2))
    )
    # 375, 382, 420, 375, 359 children: no significant trend at 99.8%
    assert chi2 < 9.5495
    trend, basis = con.execute(
        """SELECT recent_trend, recent_trend_basis FROM judgement WHERE indicator = 'CLA_31MAR'
           AND measure = 'rate' AND area = '821' AND period_label = '2025'"""
    ).fetchall()[0]
    assert trend == "No significant change"
    assert f"chi2 {chi2:.4g}" in basis


def test_lait_trend_class_by_hand(judged):
    """The seed's trend class (000:L3083) on today's data: for each authority the OLS slope of the
    three-year moving averages of LAIT's re-referral rate, 2021-2025; the slopes of every authority
    ranked, largest increase first, into 10/20/40/20/10% classes."""
    con, _ = judged
    years = range(2021, 2026)
    series = {y: _source("ReReferral", str(y)) for y in years}
    slopes = {}
    for la in {la for y in years for la in series[y]}:
        v = [series[y].get(la) for y in years]
        # a moving average needs all three years (a missing one is never 0); the slope, two of them
        ma = {
            y: sum(v[i - 2 : i + 1]) / 3
            for i, y in enumerate(years)
            if i >= 2 and None not in v[i - 2 : i + 1]
        }
        if len(ma) >= 2:
            slope = float(np.polyfit(list(ma), list(ma.values()), 1)[0])  # OLS on the calendar year
            slopes[la] = round(slope, 10)
    n = len(slopes)
    rank = 1 + sum(1 for s in slopes.values() if s > slopes["821"])
    p = (rank - 1) / n
    want = (
        "Well above"
        if p < 0.1
        else "Above"
        if p < 0.3
        else "In line"
        if p < 0.7
        else "Below"
        if p < 0.9
        else "Well below"
    )
    got = con.execute(
        """SELECT trend, trend_basis FROM judgement WHERE indicator = 'ReReferral' AND area = '821'
           AND period_label = '2025'"""
    ).fetchall()[0]
    assert n >= 140
    assert got[0] == want, got[1]
    assert f"ranked {rank} of " in got[1]


def test_no_trend_class_or_rank_for_an_authority_that_did_not_exist_then(judged):
    """LAIT carries Cumbria's joint returns to 2024-25 and back-casts Cumberland and Westmorland and
    Furness (created 1 April 2023) to 2013: a class or rank of a series whose latest figure is from
    a period the authority did not exist in would rank one place twice (issue 18)."""
    con, _ = judged
    rows = con.execute("""
        SELECT j.area, count(j.trend) FILTER (WHERE j.trend <> 'n/a'), count(j.rank),
               count(*) FILTER (WHERE j.trend_basis LIKE 'trend not judged: the authority %')
        FROM judgement j JOIN area a ON a.code = j.area
        WHERE a.exists_until < j.period_start OR a.exists_from > j.period_end
        GROUP BY ALL""").fetchall()
    assert rows, "LAIT holds figures outside some authority's lifetime"
    assert all(classes == 0 and ranks == 0 for _area, classes, ranks, _said in rows), rows
    assert sum(said for *_x, said in rows) > 100  # and each says why


def test_a_trend_class_ranks_no_more_authorities_than_held_the_places_then(demo_con):
    """Chlamydia_Diagnosis as it stood at the end of 2019: Bournemouth, Poole and Dorset ceased on
    31 March 2019, within the calendar year, and BCP and the new Dorset have series ending in it
    too; Kent's 2019 report said its class was "ranked 24 of 154". An authority that ceased within
    the period of its series' latest figure, whose successor has a ranked series there, is ranked
    once, as the successor (as ranks are, issue 18): no more series than authorities then."""
    import datetime as dt

    from cspa.engine.run import compute

    rel = compute(
        demo_con,
        Selection(
            frameworks=("lait",), indicators=("Chlamydia_Diagnosis",), up_to=dt.date(2019, 12, 31)
        ),
    )
    rows = {
        (r[0], r[1]): r[2]
        for r in demo_con.execute(
            f"SELECT area, period, trend_basis FROM ({rel.sql_query()}) WHERE for_area IS NULL"
        ).fetchall()
    }
    n = {int(m) for b in rows.values() if b for m in re.findall(r"ranked \d+ of (\d+) desc", b)}
    at_end = demo_con.execute(
        """SELECT count(*) FROM area WHERE type = 'la' AND coalesce(exists_from, DATE '1900-01-01') <= DATE '2019-12-31'
           AND coalesce(exists_until, DATE '9999-12-31') >= DATE '2019-12-31'"""
    ).fetchall()[0][0]
    assert n and max(n) <= at_end == 151, (n, at_end)
    assert "ranked 24 of 151 descending" in rows[("886", "CY2019")]  # Kent
    for bournemouth_poole_dorset in ("835", "836", "837"):
        assert rows[(bournemouth_poole_dorset, "CY2019")].startswith(
            "trend not judged: the authority ceased on 31 March 2019, within the period of its "
            "latest figure here; its successor's series is ranked in its place"
        )


def test_every_applicable_measure_is_judged(judged):
    """Significance on every figure of an authority whose measure has a rule and counts; the seed's
    trend class on every authority series of a measure with one; the recent trend on the latest
    figure of every authority series with counts."""
    con, _ = judged
    rows = dict(
        con.execute("""
        SELECT 'significance', count(*) FILTER (WHERE significance IN ('higher', 'lower', 'similar'))
        FROM judgement j JOIN judgement_key_measure m USING (indicator, measure)
        WHERE m.sig_method IS NOT NULL AND j.area_type = 'la' AND j.numerator IS NOT NULL
          AND j.denominator > 0 AND j.value IS NOT NULL
        UNION ALL SELECT 'significance missing', count(*) FILTER (WHERE significance IS NULL)
        FROM judgement j JOIN judgement_key_measure m USING (indicator, measure)
        WHERE m.sig_method IS NOT NULL AND j.area_type = 'la'
        UNION ALL SELECT 'trend classes', count(*) FROM judgement WHERE trend IN
            ('Well above', 'Above', 'In line', 'Below', 'Well below') AND area_type = 'la'
        UNION ALL SELECT 'recent trends', count(*) FROM judgement WHERE recent_trend IS NOT NULL
            AND area_type = 'la'""").fetchall()
    )
    assert rows["significance missing"] == 0
    assert rows["significance"] > 10_000
    assert rows["trend classes"] > 40_000  # one per authority series
    assert rows["recent trends"] > 1_000
    measures = con.execute("""
        SELECT count(DISTINCT indicator || measure) FROM judgement
        WHERE area_type = 'la' AND trend IN ('Well above', 'Above', 'In line', 'Below', 'Well below')""").fetchall()[
        0
    ][0]
    assert measures > 300  # LAIT's measures with four consecutive years, and DfE's
