"""Pooled England and region figures (catalogue ``england_method: pooled``).

The exclusions file (``clean_la_data.csv``, DfE) publishes authorities' counts exactly and
national and regional counts rounded to the nearest 5; the engine pools the authorities'
numerators and denominators (000:L3956: national figures are the sum of the numerators over the
sum of the denominators). Expected values are read from the CSV here, not from the store.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import cspa
from cspa.engine.comparators import MIN_POOLED_AREAS, pooled_comparators
from cspa.engine.run import build, compute
from cspa.engine.selection import Selection

CSV = Path(cspa.__file__).resolve().parent / "data" / "real" / "indicators" / "clean_la_data.csv"
WHERE = Selection.of("EXCL_TOTAL", "EXCL_SPECIAL", "3097DE")


@pytest.fixture(scope="module")
def pooled(demo_con):
    con = demo_con.cursor()
    prefix = build(con, WHERE)
    rel = pooled_comparators(con, f"{prefix}_observed")
    cols = (
        "indicator",
        "measure",
        "area",
        "period",
        "value",
        "n_used",
        "n_members",
        "status",
        "basis",
    )
    rows = [
        dict(zip(cols, r, strict=True))
        for r in con.execute(f"SELECT {', '.join(cols)} FROM ({rel.sql_query()})").fetchall()
    ]
    presented = con.execute(f"""SELECT indicator, measure, area, period, value, display, source, basis
                                FROM ({compute(con, WHERE).sql_query()}) WHERE area_type IN ('country', 'region')""").fetchall()
    yield con, rows, presented
    con.close()


def _published(level: str, name: str, year: str) -> dict[str, str]:
    with CSV.open(newline="", encoding="utf-8") as f:
        return next(
            r
            for r in csv.DictReader(f)
            if r["level"] == level
            and r["la_name"] == name
            and r["year"] == year
            and r["school_type"] == "Total"
        )


def test_pooled_equals_published_where_every_authority_reported(pooled):
    """Where no authority's figure is suppressed, pooling reproduces DfE's published rate (2 dp)."""
    con, rows, _ = pooled
    published = {
        (i, m, a, p): v
        for i, m, a, p, v in con.execute(
            "SELECT indicator, measure, area, period, value FROM observation_current WHERE statistic = 'value' "
            "AND indicator IN ('EXCL_TOTAL', 'EXCL_SPECIAL') AND area IN (SELECT code FROM area WHERE type IN ('country', 'region'))"
        ).fetchall()
    }
    full = [
        r
        for r in rows
        if r["n_used"] == r["n_members"]
        and (r["indicator"], r["measure"], r["area"], r["period"]) in published
    ]
    assert len(full) > 150
    for r in full:
        assert round(r["value"], 2) == pytest.approx(
            published[(r["indicator"], r["measure"], r["area"], r["period"])], abs=1e-9
        ), r


def test_england_permanent_exclusions_2016_17(pooled):
    """England's permanent exclusion rate 2016/17, all schools: DfE prints 0.10 (7,720 / 8,025,075)."""
    _, rows, _ = pooled
    eng = next(
        r
        for r in rows
        if (r["indicator"], r["measure"], r["area"], r["period"])
        == ("EXCL_TOTAL", "permanent", "E92000001", "AY2016-17")
    )
    row = _published("National", "England", "201617")
    assert round(eng["value"], 2) == float(row["perm_excl_rate"]) == 0.10
    assert eng["n_members"] >= 150


def test_london_pooled_where_the_file_prints_inner_and_outer_only(pooled):
    """The file has no London row (Inner and Outer London only), so London is pooled from its boroughs,
    and agrees with Inner + Outer London's published counts."""
    con, _, presented = pooled
    london = {(i, m, p): (v, d, s, b) for i, m, a, p, v, d, s, b in presented if a == "E12000007"}
    value, display, source, basis = london[("EXCL_TOTAL", "fixed", "AY2016-17")]
    inner, outer = (_published("Region", n, "201617") for n in ("Inner London", "Outer London"))
    excluded = int(inner["fixed_excl"]) + int(outer["fixed_excl"])
    pupils = int(inner["headcount"]) + int(outer["headcount"])
    expected = excluded / pupils * 100
    assert value == pytest.approx(expected, abs=0.005)
    assert display == f"{expected:.2f}%"
    assert source == "computed"
    # 33 London authorities (the City included); counts as people write them, not 1.2685e+06; the
    # authorities' data vintage
    (vintage,) = con.execute(
        "SELECT DISTINCT vintage FROM observation_current WHERE indicator = 'EXCL_TOTAL' "
        "AND period = 'AY2016-17' AND area IN (SELECT code FROM area WHERE type = 'la')"
    ).fetchall()
    assert basis == (
        "pooled over 33 of 33 authorities: sum of numerators / sum of denominators = "
        f"{excluded:,} / {pupils:,} x 100 ({vintage[0]}); summed: " + ", ".join(LONDON)
    )


#: London's 33 authorities (the 32 boroughs and the City), in alphabetical order
LONDON = [
    "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley", "Camden", "City of London",
    "Croydon", "Ealing", "Enfield", "Greenwich", "Hackney", "Hammersmith and Fulham", "Haringey",
    "Harrow", "Havering", "Hillingdon", "Hounslow", "Islington", "Kensington and Chelsea",
    "Kingston upon Thames", "Lambeth", "Lewisham", "Merton", "Newham", "Redbridge",
    "Richmond upon Thames", "Southwark", "Sutton", "Tower Hamlets", "Waltham Forest",
    "Wandsworth", "Westminster",
]  # fmt: skip


def test_the_basis_names_the_authorities_not_summed(pooled):
    """Where an authority's figure is missing or suppressed, the pooled figure's basis names it among
    those not summed (issue 17: the authorities pooled are named), and names none it summed."""
    con, rows, _ = pooled
    partial = [r for r in rows if r["n_used"] < r["n_members"] and r["area"] == "E92000001"]
    assert partial, "some England cell has an authority without counts"
    for r in partial[:20]:
        left_out = {
            name
            for (name,) in con.execute(
                """SELECT a.name FROM observation_current o JOIN area a ON a.code = o.area
                   WHERE o.indicator = ? AND o.measure = ? AND o.period = ? AND o.statistic = 'value'
                     AND a.type = 'la' AND (o.value IS NULL OR o.numerator IS NULL
                                            OR coalesce(o.denominator, 0) <= 0)""",
                [r["indicator"], r["measure"], r["period"]],
            ).fetchall()
        }
        assert len(left_out) == r["n_members"] - r["n_used"], r
        summed, _, not_summed = r["basis"].partition("; not summed (no figure or counts): ")
        assert all(name in not_summed for name in left_out), r["basis"]
        assert not any(f", {name}," in f", {summed.split('; summed: ')[1]}," for name in left_out)


def test_published_comparator_wins(pooled):
    """A published England figure stays: it counts authorities whose figures are suppressed."""
    _, _, presented = pooled
    eng = [r for r in presented if r[2] == "E92000001" and r[0] == "EXCL_TOTAL"]
    assert eng and all(r[6] != "computed" for r in eng)


def test_one_authoritys_rows_are_not_pooled_into_england(pooled):
    """3097DE (seed 000, pooled England) holds Luton's rows only: no England is made of one authority."""
    _, rows, _ = pooled
    assert not [r for r in rows if r["indicator"] == "3097DE"]
    assert MIN_POOLED_AREAS >= 20
