"""Metamorphic tests: turn a rule's input the other way and every judgement it makes turns too.

A golden case checks one judgement against one printed answer; these check every judgement of
every indicator the engine lights, progresses, bands into quarters or judges significant, on the
whole demo store (the seed's indicators and today's data), by judging it twice:

* polarity reversed (high <-> low) in the catalogue: progress improved <-> worsened, quartile band
  q <-> 5 - q, the seed's quartile position q <-> 5 - q, every traffic light decided under polarity
  green <-> red (amber stays), the meaning of a significance better <-> worse, the recent trend's
  "getting better" <-> "getting worse", "Improving?" Improving <-> Not Improving; while the seed's
  trend class (a rate of change, 000:L3083) and a PAF band do not move;
* PAF band blobs reversed (b <-> 6 - b) and fixed thresholds swapped (green above <-> red above):
  their lights turn the other way (engine.lights);
* proportions mirrored (x -> n - x, a published percentage p -> 100 - p) for the measures whose
  significance is a Wilson interval: higher <-> lower, similar stays similar (the Wilson interval of
  n - x is the mirror image of x's).

A rule that ignored its input's direction (a polarity read the wrong way, a light that did not
follow its band) fails here for every indicator at once.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from cspa.engine.polarity import compared_sql
from cspa.engine.run import build
from cspa.engine.selection import Selection

pytestmark = pytest.mark.slow

KEY = "indicator, measure, area, period, coalesce(for_area, '') AS for_area"


def _snapshot(con: duckdb.DuckDBPyConnection, name: str) -> None:
    prefix = build(con, Selection())
    con.execute(f"""
        CREATE OR REPLACE TABLE {name} AS
        SELECT {KEY}, j.value, j.value - j.change AS prev_value, j.progress, j.improving, j.quartile,
               j.position_quartile AS quartile_position, j.traffic_light, j.light_basis, j.band,
               j.significance, j.significance_meaning, j.recent_trend, j.trend, m.polarity, m.light_rule,
               m.light_green_at_value AS green_at_value,
               -- a value equal to a published cut-off takes the better quarter whichever way is better
               coalesce(list_contains(q.cuts, j.value), FALSE) AS position_on_cut
        FROM {prefix}_presented j JOIN _cspa_key_measure m USING (indicator, measure)
        LEFT JOIN (SELECT indicator, measure, period, list(value) AS cuts FROM observation_current
                   WHERE statistic IN ('lower_quartile', 'median', 'upper_quartile') GROUP BY ALL) q
             USING (indicator, measure, period)""")


@pytest.fixture(scope="module")
def store(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("metamorphic") / "cspa.duckdb"
    shutil.copy(demo_db, path)
    con = duckdb.connect(str(path))
    _snapshot(con, "original")
    yield con
    con.close()


def _swap_thresholds(con: duckdb.DuckDBPyConnection) -> None:
    for ind, meas, lj in con.execute(
        "SELECT indicator, measure, light_json FROM measure WHERE light_rule = 'fixed_thresholds'"
    ).fetchall():
        rule = json.loads(lj)
        for t in rule["by_period"]:
            t["green_above"], t["red_above"] = t.get("red_above"), t.get("green_above")
            t["green_below"], t["red_below"] = t.get("red_below"), t.get("green_below")
        con.execute(
            "UPDATE measure SET light_json = ? WHERE indicator = ? AND measure = ?",
            [json.dumps(rule), ind, meas],
        )


@pytest.fixture(scope="module")
def reversed_(store):
    con = store
    con.execute("CREATE TABLE measure_kept AS SELECT * FROM measure")
    con.execute("CREATE TABLE band_kept AS SELECT * FROM band")
    con.execute(
        "UPDATE measure SET polarity = CASE polarity WHEN 'high' THEN 'low' WHEN 'low' THEN 'high' "
        "ELSE polarity END"
    )
    con.execute("UPDATE band SET blobs = 6 - blobs WHERE blobs IS NOT NULL")
    _swap_thresholds(con)
    _snapshot(con, "reversed")
    con.execute("DELETE FROM measure; INSERT INTO measure SELECT * FROM measure_kept")
    con.execute("DELETE FROM band; INSERT INTO band SELECT * FROM band_kept")
    return con


def _by_indicator(
    con, other: str, expr_a: str, expr_b: str, where: str
) -> dict[str, tuple[int, int]]:
    """Per indicator: how many judgements were compared, and how many did not turn as they should."""
    rows = con.execute(f"""
        SELECT a.indicator, count(*), count(*) FILTER (WHERE NOT ({expr_b} IS NOT DISTINCT FROM {expr_a}))
        FROM original a JOIN {other} b USING (indicator, measure, area, period, for_area)
        WHERE {where} GROUP BY a.indicator""").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


TURNED = {
    "progress": (
        "CASE a.progress WHEN 'improved' THEN 'worsened' WHEN 'worsened' THEN 'improved' ELSE a.progress END",
        "b.progress",
        "a.progress IS NOT NULL",
    ),
    "improving": (
        # a figure held (as figures are compared, polarity.COMPARED_DECIMALS) is Improving either way
        f"CASE WHEN {compared_sql('a.value')} = {compared_sql('a.prev_value')} THEN a.improving "
        "WHEN a.improving = 'Improving' "
        "THEN 'Not Improving' ELSE 'Improving' END",
        "b.improving",
        "a.improving IS NOT NULL",
    ),
    "quartile": ("5 - a.quartile", "b.quartile", "a.quartile IS NOT NULL"),
    "quartile_position": (
        "5 - a.quartile_position",
        "b.quartile_position",
        "a.quartile_position IS NOT NULL AND NOT coalesce(a.position_on_cut, FALSE)",
    ),
    "traffic_light": (
        "CASE a.traffic_light WHEN 'green' THEN 'red' WHEN 'red' THEN 'green' ELSE a.traffic_light END",
        "b.traffic_light",
        # a light the rule makes green whatever the comparator (CAMHS: 100% at 26 weeks, 000:L482)
        "a.traffic_light IS NOT NULL AND a.light_rule <> 'paf_band' "
        "AND NOT coalesce(a.value >= a.green_at_value, FALSE)",
    ),
    "significance_meaning": (
        "CASE a.significance_meaning WHEN 'better' THEN 'worse' WHEN 'worse' THEN 'better' "
        "ELSE a.significance_meaning END",
        "b.significance_meaning",
        "a.significance_meaning IS NOT NULL",
    ),
    "recent_trend": (
        "replace(replace(replace(a.recent_trend, 'better', '#'), 'worse', 'better'), '#', 'worse')",
        "b.recent_trend",
        "a.recent_trend IS NOT NULL",
    ),
    # not turned: the seed's class ranks the rate of change itself, whichever way is better
    "trend": ("a.trend", "b.trend", "a.trend IS NOT NULL"),
}


@pytest.mark.parametrize("family", list(TURNED))
def test_reversing_the_polarity_turns_every_judgement(reversed_, family):
    expr_a, expr_b, where = TURNED[family]
    got = _by_indicator(reversed_, "reversed", expr_a, expr_b, where)
    assert got, f"no {family} judgements to turn"
    wrong = {k: v for k, v in got.items() if v[1]}
    assert wrong == {}, f"{family}: (judgements, not turned) by indicator"


def test_a_paf_light_follows_its_band(reversed_):
    """Blobs reversed (b <-> 6 - b): the band moves and its light with it (1 blob red <-> 5 green)."""
    got = _by_indicator(
        reversed_,
        "reversed",
        "6 - a.band",
        "b.band",
        "a.band IS NOT NULL",
    )
    assert got and not {k: v for k, v in got.items() if v[1]}
    lights = _by_indicator(
        reversed_,
        "reversed",
        "CASE a.traffic_light WHEN 'green' THEN 'red' WHEN 'red' THEN 'green' END",
        "b.traffic_light",
        "a.light_rule = 'paf_band' AND a.band IN (1, 5)",
    )
    assert lights and not {k: v for k, v in lights.items() if v[1]}


def test_every_judged_indicator_is_turned(reversed_):
    """Every indicator with a light, progress, quartile or significance has judgements compared
    above: the polarity of every judged indicator is covered by a test that fails when it is
    reversed (issue 17)."""
    con = reversed_
    judged = {
        r[0]
        for r in con.execute("""SELECT DISTINCT indicator FROM original WHERE polarity IN ('high', 'low')
               AND (traffic_light IS NOT NULL OR progress IS NOT NULL OR quartile IS NOT NULL
                    OR significance_meaning IS NOT NULL OR improving IS NOT NULL
                    OR quartile_position IS NOT NULL)""").fetchall()
    }
    covered = set()
    for expr_a, expr_b, where in TURNED.values():
        covered |= set(_by_indicator(con, "reversed", expr_a, expr_b, where))
    assert len(judged) > 300
    assert judged - covered == set()


@pytest.fixture(scope="module")
def mirrored(reversed_):
    con = reversed_
    wilson = con.execute("""SELECT m.indicator, m.measure FROM measure m
                            WHERE json_extract_string(m.significance_json, '$.method') = 'wilson'""").fetchall()
    con.execute("CREATE TABLE observation_kept AS SELECT * FROM observation")
    for ind, meas in wilson:
        con.execute(
            """UPDATE observation SET
                   numerator = CASE WHEN numerator IS NOT NULL AND denominator IS NOT NULL
                                    THEN denominator - numerator END,
                   value = CASE WHEN numerator IS NOT NULL AND denominator IS NOT NULL THEN value
                                WHEN value IS NOT NULL THEN 100 - value END
               WHERE indicator = ? AND measure = ? AND statistic = 'value'""",
            [ind, meas],
        )
    _snapshot(con, "mirrored")
    return con, {i for i, _ in wilson}


def test_mirroring_a_proportion_turns_its_significance(mirrored):
    con, wilson = mirrored
    got = _by_indicator(
        con,
        "mirrored",
        "CASE a.significance WHEN 'higher' THEN 'lower' WHEN 'lower' THEN 'higher' ELSE a.significance END",
        "b.significance",
        f"a.significance IS NOT NULL AND a.indicator IN ({', '.join(repr(i) for i in sorted(wilson))})",
    )
    assert set(got) == wilson, "every indicator with a Wilson rule is compared"
    assert {k: v for k, v in got.items() if v[1]} == {}
    turned = con.execute("""SELECT count(*) FROM original a JOIN mirrored b
                            USING (indicator, measure, area, period, for_area)
                            WHERE a.significance IN ('higher', 'lower') AND b.significance <> a.significance
                            """).fetchall()[0][0]
    assert turned > 1000
