"""`cspa judge --framework lait`: every judgement for every authority, checked by hand against the source file.

The expected figures below are worked out here directly from the LAIT base data set
(``bds_long_0.parquet``) and the DfE May 2025 neighbour list, independently of the store and
the engine: Luton's re-referral rate, its rank among the authorities (low is good, ties share
the lowest rank), its quartile band (LAIT: type-7 quartiles, a value on a cut point goes to
the low-value side) and the mean of its ten neighbours.
"""

from __future__ import annotations

import contextlib
import csv
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
    summary = judge(con, Selection.framework("lait"))
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
