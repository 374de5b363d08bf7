"""The build's family tables: a family that applies to none of a build's measures is written empty,
with the columns it writes when it applies (readers join them the same way either way)."""

from __future__ import annotations

import pytest

from cspa.engine import run
from cspa.engine.selection import Selection


def _columns(con, table: str) -> str:
    # as a reader finds the table by its name (a temporary build's tables are views of the
    # connection over an attached database's: run._Lanes)
    return ", ".join(f"{r[0]} {r[1]}" for r in con.execute(f"DESCRIBE {table}").fetchall())


@pytest.fixture(scope="module")
def cur(demo_con):
    con = demo_con.cursor()
    yield con
    con.close()


def test_every_family_applies_to_the_whole_catalogue(cur):
    # the seed's measures have bands, lights, quartile positions and trends; the DfE children's
    # social care measures have computed significance: a build of everything fills every family
    prefix = run.build(cur)
    for name, columns in run._EMPTY.items():
        assert _columns(cur, f"{prefix}_{name}") == columns, name
        assert cur.execute(f"SELECT count(*) FROM {prefix}_{name}").fetchall()[0][0] > 0, name


def test_family_not_applying_is_empty_with_the_same_columns(cur):
    # LAIT measures have no bands, lights, recent-trend test or computed significance (catalogue:
    # 'none'; LAIT holds no counts); the seed's trend class they have (issue 17)
    prefix = run.build(
        cur,
        Selection.framework("lait", periods=("FY2023-24",)),
    )
    for name, columns in run._EMPTY.items():
        assert _columns(cur, f"{prefix}_{name}") == columns, name
        n = cur.execute(f"SELECT count(*) FROM {prefix}_{name}").fetchall()[0][0]
        assert (n > 0) if name == "trend" else (n == 0), name
    # one year is no trend: no authority has a rate of change to rank, and each line says why
    # (the line is composed when read, from the trend table's columns)
    assert cur.execute(
        f"SELECT count(trend), list(DISTINCT trend_basis) FROM {prefix}_presented "
        "WHERE trend_basis IS NOT NULL"
    ).fetchall()[0] == (
        0,
        [
            "trend not judged: the class ranks every authority's rate of change (000:L3083), and no "
            "authority has one here, where at least 20 are needed (a rate of change needs two "
            "three-year averages: four years of figures in a row)"
        ],
    )
    assert (
        cur.execute(
            f"SELECT count(*) FROM {prefix}_presented WHERE trend_basis IS NOT NULL"
        ).fetchall()[0][0]
        == cur.execute(f"SELECT count(*) FROM {prefix}_trend").fetchall()[0][0]
    )
    # and the rows readers use are complete: display strings and provenance for every figure
    missing = cur.execute(
        f"SELECT count(*) FROM {prefix}_presented WHERE display IS NULL OR basis IS NULL "
        "OR light_basis IS NULL"
    ).fetchall()[0][0]
    assert missing == 0
    assert cur.execute(f"SELECT count(*) FROM {prefix}_presented").fetchall()[0][0] > 10_000


def test_no_light_says_why(cur):
    """A figure a light rule applies to but that has no light says why (issue 5: never a silent blank):
    a figure not available (3104OF, Luton 2003: '..', 000:L3620), or a figure without a band for a
    band's colour (1043SC: "Data is not banded for 2005-06", 000:L509)."""
    rel = run.compute(cur, Selection.of("3104OF", "1043SC"))
    rows = cur.execute(f"""SELECT indicator, area, period_label, status, band, band_basis, traffic_light, light_basis
                           FROM ({rel.sql_query()}) WHERE for_area IS NULL""").fetchall()
    luton = {(r[0], r[2]): r for r in rows if r[1] == "821"}
    assert luton[("3104OF", "2003")][3] == ".."
    assert luton[("3104OF", "2003")][7] == "no traffic light: no figure (status ..)"
    assert luton[("1043SC", "2005-06")][5] == "not banded: no cut-offs for this period"
    unbanded = [r for r in rows if r[0] == "1043SC" and r[4] is None and r[5] is not None]
    assert len(unbanded) >= 3
    assert all(
        r[6] is None and r[7] == "no traffic light: no band to take a colour from" for r in unbanded
    )
    assert all(r[7] for r in rows if r[0] == "1043SC")


def test_a_temporary_build_holds_back_checkpoints_and_puts_the_setting_back(cur):
    # the threshold is raised while the build writes its temporary tables (run._HELD) and is the
    # user's again afterwards, whatever it was; a build that finds it raised leaves it raised
    seen = []

    class Watched:
        def __init__(self, con):
            self._con = con

        def execute(self, sql, *args):
            if "TABLE _cspa_observed AS" in sql:
                seen.append(run._checkpoint_threshold(self._con))
            return self._con.execute(sql, *args)

        def cursor(self):
            # the build writes its tables on cursors of the connection (run._Lanes)
            return Watched(self._con.cursor())

        def __getattr__(self, name):
            return getattr(self._con, name)

    cur.execute("SET checkpoint_threshold = '20 MiB'")
    try:
        run.build(Watched(cur), Selection.framework("lait", periods=("FY2023-24",)))
        assert seen == [run._HELD]
        assert run._checkpoint_threshold(cur) == "20.0 MiB"
        cur.execute(f"SET checkpoint_threshold = '{run._HELD}'")
        run.build(cur, Selection.framework("lait", periods=("FY2023-24",)))
        assert run._checkpoint_threshold(cur) == run._HELD
    finally:
        cur.execute("RESET checkpoint_threshold")


def test_columns_no_figure_fills_are_not_written_but_read_as_empty(cur):
    # a LAIT build's figures fill none of the note columns (text answers, quality notes, derived
    # figures' lines, seed references: the 2008 documents') and its neighbour figures are means and
    # medians, without counts: those columns are not written, and the figure rows have them all,
    # empty, in the same order as a build whose figures fill them
    lait = run.build(cur, Selection.framework("lait", periods=("FY2023-24",)))
    observed, sn = (_columns(cur, f"{lait}_{t}") for t in ("observed", "sn"))
    for column in ("text", "quality", "basis", "seed_ref"):
        assert f" {column} " not in f" {observed} ", column
    assert "numerator" not in sn and "denominator" not in sn
    lait_rows = _columns(cur, f"{lait}_figure_rows")
    assert cur.execute(
        f"SELECT count(text), count(quality), count(basis), count(seed_ref) FROM {lait}_figure_rows "
        "WHERE rid < (SELECT count(*) FROM _cspa_observed)"
    ).fetchall()[0] == (0, 0, 0, 0)
    everything = run.build(cur)
    assert _columns(cur, f"{everything}_figure_rows") == lait_rows
    assert "seed_ref" in _columns(cur, f"{everything}_observed")
    # the seed's figures carry their lines, a derived figure its own, a text answer its text
    text, quality, basis, seed_ref = cur.execute(
        f"SELECT count(text), count(quality), count(basis), count(seed_ref) FROM {everything}_figure_rows "
        "WHERE rid < (SELECT count(*) FROM _cspa_observed)"
    ).fetchall()[0]
    assert min(text, quality, basis) > 0 and seed_ref > 1000


def _digest(con, prefix: str) -> tuple:
    # every presented row, as a reader gets it (row ids aside: they number rows, they are not read)
    return con.execute(
        f"SELECT count(*), sum(hash(indicator, measure, area, period, for_area, display, basis, band, "
        f"traffic_light, rank, quartile, progress, trend, trend_sn, recent_trend, significance)) "
        f"FROM {prefix}_presented"
    ).fetchall()[0]


def test_every_way_of_running_a_build_gives_the_same_rows(demo_con):
    # a temporary build runs its steps on two cursors (run._Lanes); inside a transaction, and on
    # one DuckDB thread, one step after another: the same rows each way, and each replaces what the
    # other left on the connection (views of the attached database, or temporary tables)
    cur = demo_con.cursor()
    sel = Selection.framework("lait", periods=("FY2023-24",))
    try:
        two = _digest(cur, run.build(cur, sel))
        assert two[0] > 10_000
        assert (
            cur.execute(
                "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = '_cspa_ranks'"
            ).fetchall()[0][0]
            == 1
        )
        cur.execute("BEGIN TRANSACTION")
        inside = _digest(cur, run.build(cur, sel))
        cur.execute("COMMIT")
        assert (
            cur.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = '_cspa_ranks'"
            ).fetchall()[0][0]
            == 1
        )
        again = _digest(cur, run.build(cur, sel))
        cur.execute("SET threads = 1")
        one = _digest(cur, run.build(cur, sel))
        assert two == inside == again == one
    finally:
        cur.execute("RESET threads")
        cur.close()


def test_a_build_inside_a_transaction_classes_the_same_trends(demo_con):
    # inside a transaction DuckDB numbers a new table's rows from 2**55: a series' latest figure
    # was once packed below its year slot in 32 bits there, and such a build showed no trend class
    cur = demo_con.cursor()
    sel = Selection.framework("lait")
    trends = (
        "SELECT count(trend), count(trend_sn), sum(hash(indicator, measure, area, period, trend, "
        "trend_sn, trend_basis)) FROM {}_presented"
    )
    try:
        outside = cur.execute(trends.format(run.build(cur, sel))).fetchall()[0]
        cur.execute("BEGIN TRANSACTION")
        inside = cur.execute(trends.format(run.build(cur, sel))).fetchall()[0]
        cur.execute("ROLLBACK")
        assert outside[0] > 10_000 and outside[1] > 10_000
        assert inside == outside
    finally:
        cur.close()


def test_an_error_in_a_step_on_either_cursor_is_raised_and_stops_the_rest(demo_con):
    # the steps run on two cursors: a step that fails on the second is raised to the caller once
    # the first's step in hand has finished, and no step waiting on it starts
    cur = demo_con.cursor()
    try:
        lanes = run._Lanes(cur, stored=False)
        assert lanes.parallel
        ran = []

        def ok(name):
            return lambda c: ran.append(name) or c.execute("SELECT 1").fetchall()

        def fails(c):
            c.execute("SELECT * FROM no_such_table")

        jobs = [
            run._Job("a", (), ok("a")),
            run._Job("b", (), fails),
            run._Job("c", ("a", "b"), ok("c")),
        ]
        with pytest.raises(Exception, match="no_such_table"):
            lanes.run(jobs, run._Job("side", ("c",), ok("side")))
        assert "c" not in ran and "side" not in ran
    finally:
        cur.close()
