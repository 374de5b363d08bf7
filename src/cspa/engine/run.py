"""Compose the engine's families into one relation of judgements, for every area at once.

:func:`compute` returns (as a DuckDB relation) one row per figure: indicator, measure, area,
period with its value, display string and provenance, and every judgement the catalogue asks
for (band, traffic light, rank, quartile, quartile position, progress, significance), each
with a one-line ``*_basis`` saying how it was made. Comparator shading produces extra rows
for comparator figures judged *for* an authority (``for_area``).

The engine reads the store and never changes it: intermediate results are tables of an
in-memory database attached for the connection, which it reads as temporary views (or, inside a
transaction, temporary tables). :func:`judge` (the store side) writes the result to the
``judgement`` table for the web app and the reports.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import duckdb

from cspa.engine.bands import bands
from cspa.engine.comparators import neighbour_aggregates_sql, pooled_comparators_sql
from cspa.engine.compared import SIGNIFICANCE_COLUMNS, recent_trends, significance
from cspa.engine.distribution import quartile_position, rank_inputs, ranks_and_quartiles_sql
from cspa.engine.keys import (
    KEY_NAMES,
    drop_temporary,
    figure_key,
    persist_keys,
)
from cspa.engine.lights import lights
from cspa.engine.neighbour_means import neighbour_means
from cspa.engine.progress import progress_table_sql
from cspa.engine.provenance import present_sql
from cspa.engine.selection import Selection
from cspa.engine.trend_classes import TREND_INPUT, trend_classes_sql, trend_inputs
from cspa.engine.values import NOTE_COLUMNS, note_columns, values_sql
from cspa.store.sql import ident

# The tables one build writes (``<prefix>_<name>``): the figures on integer keys, one table
# per judgement family keyed by the figure's row id, and the key tables that hold each
# repeated name once. ``provenance.present_sql`` joins them into the rows readers use.
TEMP_PREFIX = "_cspa"
STORED_PREFIX = "judgement"

# What the figure tables keep per figure: integer keys instead of the repeated strings
# (indicator, measure, area, period, vintage), which the key tables hold once, and nothing that
# is the area's or the period's (area type, dates, years: read from the key tables). The label
# stays: a period key is printed differently by different indicators ('2022', '2021/22'). Where
# the figure came from is one flag (``computed``: from its counts or derived; else published or
# input, as ``published`` says), named as readers know it by the figure rows' view.
_FIGURE = (
    "sid", "aid", "pid", "vid", "period_label", "value", "numerator", "denominator", "status", "text",
    "quality", "provisional", "published", "computed", "basis", "seed_ref",
)  # fmt: skip
_NARROW = ", ".join("source = 'computed' AS computed" if c == "computed" else c for c in _FIGURE)


def _narrow(absent: tuple[str, ...]) -> str:
    """:data:`_NARROW` without the note columns ``absent`` (see ``note_columns``)."""
    return ", ".join(
        "source = 'computed' AS computed" if c == "computed" else c
        for c in _FIGURE
        if c not in absent
    )


_SOURCE = (
    "CASE WHEN computed THEN 'computed' WHEN published THEN 'published' ELSE 'input' END AS source"
)


def _subset(
    con: duckdb.DuckDBPyConnection,
    v: str,
    name: str,
    measures_sql: str,
    built: set[int],
) -> str | None:
    """A view of ``v`` holding only the measures a family applies to, among those ``built``.

    The measure ids are read first and written into the view as constants, so the filter is
    pushed down to the scans: a family that applies to a few measures (bands, lights, trends)
    never touches the national figures of the others, and one that applies to none of this
    build's measures (a LAIT build has no bands or lights) is skipped: None.
    """
    sids = sorted(r[0] for r in con.execute(measures_sql).fetchall() if r[0] in built)
    if not sids:
        return None
    # a family that applies to every measure of the build (the trend class of a national build)
    # reads the figures unfiltered: a list of hundreds of ids is a join of its own on a million rows
    where = "TRUE" if set(sids) >= built else f"v.sid IN ({', '.join(map(str, sids))})"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {v} v WHERE {where}")
    return name


# The tables of the families that apply to a few measures, as readers find them. A family that
# applies to none of a build's measures is written empty with these columns, without planning
# its SQL (planning the trend or light rules costs more than running them on nothing);
# test_run.py checks that they match the tables the families write.
_EMPTY = {
    "bands": "rid BIGINT, indicator VARCHAR, measure VARCHAR, area VARCHAR, period VARCHAR, band INTEGER, "
    "band_range VARCHAR, band_basis VARCHAR",
    "lights": "rid BIGINT, indicator VARCHAR, measure VARCHAR, area VARCHAR, period VARCHAR, for_area VARCHAR, "
    "traffic_light VARCHAR, light_basis VARCHAR",
    "position": "rid BIGINT, indicator VARCHAR, measure VARCHAR, area VARCHAR, period VARCHAR, "
    "position_quartile INTEGER, position_basis VARCHAR",
    "trend": "rid BIGINT, trend VARCHAR, trend_sn VARCHAR, trend_n BIGINT, trend_rank BIGINT, "
    "trend_repeated_year BOOLEAN, trend_from BIGINT, trend_to BIGINT, trend_mas INTEGER, trend_sn_diff DOUBLE, "
    "trend_sn_rank BIGINT, trend_sn_n BIGINT, trend_outside VARCHAR",
    "recent_trend": "rid BIGINT, recent_trend VARCHAR, recent_trend_basis VARCHAR",
    "computed_significance": SIGNIFICANCE_COLUMNS,
}


# The columns of the tables of the families that finish last, for the empty tables a temporary
# build made on two cursors puts in their place first: the caller's views over the build (the
# presented rows among them, whose binding is a planning of its own) are then made while those
# families run, and read their tables once they are replaced.
_LATE = {
    "trend": _EMPTY["trend"],
    "computed_significance": _EMPTY["computed_significance"],
    "progress": "rid BIGINT, prev_value DOUBLE, prev_label VARCHAR, break_basis VARCHAR",
    "recent_trend": _EMPTY["recent_trend"],
}


# The tables a build writes, one per step (the figure rows, the engine's own figures for published
# comparators and the presented rows are views over them).
_TABLES = (
    "observed",
    "sn",
    "pooled",
    "ranks",
    "bands",
    "lights",
    "position",
    "trend",
    "progress",
    "recent_trend",
    "computed_significance",
    "significance",
)


# While a temporary build runs, DuckDB's automatic checkpoint is held back. Since DuckDB 1.4
# in-memory tables are checkpointed too (to vacuum them) once the data written since the last
# checkpoint passes ``checkpoint_threshold`` (16 MiB): a national build writes several hundred MB
# of temporary tables, and the checkpoint in the middle of it cost 0.1 s of a 0.9 s build
# (DuckDB's profiler: ``checkpoint_latency``), for tables the connection drops unread when it
# closes. A stored build keeps the default: its tables are the store's, and are checkpointed.
_HELD = "64.0 GiB"  # as DuckDB prints it back


def _checkpoint_threshold(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('checkpoint_threshold')").fetchall()[0][0]


def build(
    con: duckdb.DuckDBPyConnection,
    selection: Selection | None = None,
    stored: bool = False,
) -> str:
    """Compute every judgement for the observations ``selection`` names; returns the tables' prefix.

    Temporary tables (prefix ``_cspa``: never written to the store, allowed on a read-only
    store; tables of an in-memory database attached for ``con``, which ``con`` reads as temporary
    views under those names, see :class:`_Lanes`) unless ``stored``, when the same tables are
    written to the store under the prefix ``judgement`` (for the reports and the web app) with the
    key tables beside them.
    """
    if stored:
        return _build(con, selection, stored)
    # the setting is the database's, shared by its cursors: raised for the build and put back
    # (a build that finds it raised by another one running leaves it to that one)
    before = _checkpoint_threshold(con)
    if before == _HELD:
        return _build(con, selection, stored)
    con.execute(f"SET checkpoint_threshold = '{_HELD}'")
    try:
        return _build(con, selection, stored)
    finally:
        con.execute(f"SET checkpoint_threshold = '{before}'")


class _Lanes:
    """Where a build's statements run, and which of them run at the same time.

    A stored build runs on the caller's connection, one statement after another, as does a
    temporary build made inside a transaction (what it has not committed, no other connection
    sees). Any other temporary build's tables live in an in-memory database attached for the
    caller's connection (``work``: attached databases are shared by a database's connections,
    where temporary tables are not), written by two cursors of it: steps that do not read each
    other's tables run at the same time, one on each. A statement that keeps one core busy
    (planning, or a family of a few thousand rows: significance, the recent trend, pooled
    figures) then runs beside one that uses both, where one after the other left a core idle
    for a fifth of the build. With DuckDB on one thread (``SET threads = 1``) one cursor takes
    the steps in turn: one thread means one core.

    Readers find the tables under their usual names (``<prefix>_<name>``) on the caller's
    connection: temporary views of the attached database's tables (:meth:`publish`).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, stored: bool) -> None:
        self.con = con
        self.first = self.second = con
        self.work: str | None = None
        self.parallel = False
        # how the build's tables and views are made, and the views only its steps read
        self.kind, self.view, self.inner_view = "TABLE", "VIEW", "TEMP VIEW"
        if stored:
            return
        if _in_transaction(con):
            self.kind, self.view = "TEMP TABLE", "TEMP VIEW"
            return
        db, schema = con.execute("SELECT current_database(), current_schema()").fetchall()[0]
        # one per live connection (a build replaces its own), detached when the connection goes
        self.work = f"_cspa_work_{id(con)}"
        con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {self.work} (READ_WRITE)")
        if self.work not in _WORKSPACES:
            _WORKSPACES.add(self.work)
            weakref.finalize(con, _detach, con.cursor(), self.work)
        self.first, self.second = con.cursor(), con.cursor()
        for c in (self.first, self.second):
            c.execute(f"USE {self.work}")
            c.execute(f"SET search_path = '{self.work}.main,{ident(db)}.{ident(schema)}'")
        self.inner_view = "VIEW"
        threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        self.parallel = int(threads) > 1

    def keys(self, selection: Selection) -> str:
        """The key tables for the build (where its cursors read them); returns the SQL of the
        observed figures. The caller's connection sees them as temporary views (:meth:`publish`)."""
        if self.work is None:
            return values_sql(self.con, selection)
        return values_sql(self.first, selection, temporary=False)

    def make_room(self, tables: list[str]) -> None:
        """Drop the caller's temporary objects named ``tables`` that are of the other kind than
        this build makes them (a build of the other kind on this connection made them): DuckDB
        replaces a table by a table and a view by a view only. A temporary build inside a
        transaction makes tables, any other temporary build views of its attached database's."""
        if self.work is not None:
            drop_temporary(self.con, "table", [*KEY_NAMES, *tables])
        elif self.kind == "TEMP TABLE":
            drop_temporary(self.con, "view", tables)
        # (a stored build's tables are the store's)

    def publish(self, tables: list[str], views: dict[str, Callable[[str], str]]) -> None:
        """The build's tables (``tables``, by name) as temporary views of the caller's connection
        under the same names, and its ``views`` (by name: their SQL, given the prefix the tables
        are named with) made there on the attached database's tables by their full names: DuckDB
        keeps a view's references to its own database without the database's name, so a view
        made in the attached database would read the caller's tables of the same name."""
        if self.work is None:
            return
        for name in [*KEY_NAMES, *tables]:
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {self.work}.main.{name}"
            )
        for name, sql in views.items():
            self.con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS {sql(f'{self.work}.main.{TEMP_PREFIX}')}"
            )
        # a store made before breaks were recorded: the build's empty break table, where the
        # caller's readers look for it too (assessment.evidence)
        where = [
            (db, temp)
            for db, temp in self.con.execute(
                "SELECT database_name, temporary FROM duckdb_tables() WHERE table_name = 'series_break'"
            ).fetchall()
            if temp or not db.startswith("_cspa_work_")
        ]
        if not where:
            self.con.execute(
                f"CREATE TEMP TABLE series_break AS SELECT * FROM {self.work}.main.series_break"
            )

    def run(self, jobs: list[_Job], side: _Job | None = None) -> None:
        """Run ``jobs`` (in an order their dependencies allow), each on one cursor: one after the
        other in the order given, or on both cursors, each taking the first job in that order
        whose dependencies are done; and ``side`` on the caller's connection, in a thread of its
        own as soon as its dependencies are done (last, when one after the other). An error in
        one is raised here once the others in hand have finished."""
        if not self.parallel:
            for job in jobs:
                job.run(self.first)
            if side is not None:
                side.run(self.con)
            return
        pending, done = list(jobs), set[str]()
        failed: list[BaseException] = []
        ready = threading.Condition()

        def take(cur: duckdb.DuckDBPyConnection, job: _Job) -> bool:
            try:
                job.run(cur)
            except BaseException as e:
                with ready:
                    failed.append(e)
                    ready.notify_all()
                return False
            with ready:
                done.add(job.name)
                ready.notify_all()
            return True

        def worker(cur: duckdb.DuckDBPyConnection) -> None:
            while True:
                with ready:
                    while True:
                        if failed or not pending:
                            return
                        job = next((j for j in pending if set(j.after) <= done), None)
                        if job is not None:
                            pending.remove(job)
                            break
                        ready.wait()
                if not take(cur, job):
                    return

        def aside(job: _Job) -> None:
            with ready:
                ready.wait_for(lambda: bool(failed) or set(job.after) <= done)
                if failed:
                    return
            take(self.con, job)

        with ThreadPoolExecutor(max_workers=2) as pool:
            other = pool.submit(worker, self.second)
            beside = pool.submit(aside, side) if side is not None else None
            worker(self.first)
            other.result()
            if beside is not None:
                beside.result()
        if failed:
            raise failed[0]


@dataclass(frozen=True)
class _Job:
    """A step of the build: its name, the steps it reads, and what it runs on a cursor."""

    name: str
    after: tuple[str, ...]
    run: Callable[[duckdb.DuckDBPyConnection], object]


# the work databases attached so far (each is detached when its connection is collected)
_WORKSPACES: set[str] = set()


def _detach(cur: duckdb.DuckDBPyConnection, work: str) -> None:
    _WORKSPACES.discard(work)
    # (when the database is closing, its attached databases go with it)
    with contextlib.suppress(duckdb.Error):
        cur.execute(f"DETACH DATABASE IF EXISTS {work}")


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` is inside a transaction it began: outside one, each statement runs in a
    transaction of its own, so two in a row have the same id only inside one."""
    ids = [con.execute("SELECT txid_current()").fetchall()[0][0] for _ in range(2)]
    return ids[0] == ids[1]


def _build(con: duckdb.DuckDBPyConnection, selection: Selection | None, stored: bool) -> str:
    lanes = _Lanes(con, stored)
    observed_sql = lanes.keys(selection or Selection())
    kind, view, inner_view = lanes.kind, lanes.view, lanes.inner_view
    prefix = STORED_PREFIX if stored else TEMP_PREFIX

    def table(c: duckdb.DuckDBPyConnection, rel: duckdb.DuckDBPyRelation | str, name: str) -> str:
        # each family's result is materialised once: later families and readers join it by row id
        sql = rel if isinstance(rel, str) else rel.sql_query()
        c.execute(f"CREATE OR REPLACE {kind} {prefix}_{name} AS {sql}")
        return f"{prefix}_{name}"

    keys = f"{prefix}_key"
    if stored:
        persist_keys(con, keys)
    observed, sn = f"{prefix}_observed", f"{prefix}_sn"
    f = f"{prefix}_figure_rows"
    # the families that read names (bands, lights, positions, trends) see them through this view;
    # they read a few measures, and the measure filter is pushed below the joins
    v = "_cspa_values"
    km = "SELECT sid FROM _cspa_key_measure"
    # the measures this build has figures for (every comparator figure is of an observed measure)
    built: set[int] = set()
    # a computed comparator (neighbour aggregate, pooled England or region) is used where no
    # published figure exists for that key (published comparator figures are a few thousand,
    # so the anti-join is cheap). A neighbour aggregate's line is composed on read and its
    # columns that are the same for every aggregate (source, no text) are the view's constants,
    # not written 600,000 times; pooled figures keep their lines.
    published = f"""SELECT {figure_key("o.sid", "o.aid", "o.pid")} FROM {observed} o
                     WHERE o.aid IN (SELECT aid FROM _cspa_key_area WHERE type IN ({{}}))"""

    # the note columns no figure of the selection fills (all four in a national build: they are
    # the 2008 documents' and derived figures') are not written, a quarter of the cost of writing
    # the observed figures; the figure rows read them as NULL
    absent: tuple[str, ...] = ()

    def observe(c: duckdb.DuckDBPyConnection) -> None:
        nonlocal absent
        filled = note_columns(c, selection or Selection())
        absent = tuple(col for col in NOTE_COLUMNS if col not in filled)
        table(c, f"SELECT {_narrow(absent)} FROM ({observed_sql})", "observed")
        built.update(r[0] for r in c.execute(f"SELECT DISTINCT sid FROM {observed}").fetchall())

    def neighbours(c: duckdb.DuckDBPyConnection) -> None:
        # an aggregate whose key has a published figure is kept, flagged ``superseded``: the
        # published figure is the one shown and judged, and the engine's own figure is shown
        # beside it (a published median or pooled rate recomputed, so the rule is checked, not
        # taken on trust)
        # the means as one matrix product per neighbour group (neighbour_means.py), read by the
        # statement that makes the medians and pooled figures by the join
        c.register("_cspa_sn_means", neighbour_means(c, observed))
        # only a pooled neighbour figure has counts: without one (every LAIT and DfE measure is a
        # mean or a median) they are not written, and the figure rows read them as NULL
        pooled = {r[0] for r in c.execute(f"{km} WHERE sn_method = 'pooled'").fetchall()}
        counted = "numerator, denominator, " if pooled & built else ""
        table(
            c,
            f"""
            SELECT sid, aid, pid, vid, period_label, value, {counted}status, provisional, n_used, n_members,
                   {figure_key("s.sid", "s.aid", "s.pid")} IN ({published.format("'sn_group'")}) AS superseded
            FROM ({neighbour_aggregates_sql(observed, names=False, means="_cspa_sn_means")}) s""",
            "sn",
        )
        c.unregister("_cspa_sn_means")

    def pool(c: duckdb.DuckDBPyConnection) -> None:
        pools = {
            r[0]
            for r in c.execute(
                "SELECT sid FROM _cspa_key_measure WHERE england_method = 'pooled'"
            ).fetchall()
        }
        table(
            c,
            f"""
            SELECT {_NARROW}, n_used, n_members,
                   {figure_key("s.sid", "s.aid", "s.pid")} IN ({published.format("'country', 'region'")}) AS superseded
            FROM ({pooled_comparators_sql(observed)}) s
            WHERE {"TRUE" if built & pools else "FALSE"}""",
            "pooled",
        )  # FALSE: no scan when nothing is pooled

    def rank(c: duckdb.DuckDBPyConnection) -> None:
        # ranks and quartiles are among authorities, whose figures are all observed (row id = rowid)
        c.execute(
            f"CREATE OR REPLACE {inner_view} _cspa_observed_rows AS SELECT rowid AS rid, * FROM {observed}"
        )
        # numbered in numpy (distribution.rank_inputs), judged and written by SQL
        inputs = rank_inputs(c, "_cspa_observed_rows")
        for name, arrow in inputs.items():
            c.register(name, arrow)
        table(c, ranks_and_quartiles_sql(), "ranks")
        for name in inputs:
            c.unregister(name)

    counts: list[int] = []

    def figure_rows(tp: str) -> str:
        # a figure's row id is its position in its table (DuckDB's rowid) after the tables
        # before it: numbering rows with a window would sort and copy every column once more
        n_observed, n_sn = counts
        columns = ", ".join(
            f"CAST(NULL AS VARCHAR) AS {c}" if c in absent else c
            for c in _FIGURE
            if c != "computed"
        )
        return f"""
            SELECT rowid AS rid, {columns}, {_SOURCE}, CAST(NULL AS BIGINT) AS n_used,
                CAST(NULL AS BIGINT) AS n_members FROM {tp}_observed
            UNION ALL BY NAME SELECT rowid + {n_observed} AS rid, * EXCLUDE (superseded), CAST(NULL AS VARCHAR) AS text,
                CAST(NULL AS VARCHAR) AS quality, FALSE AS published, 'computed' AS source, CAST(NULL AS VARCHAR) AS basis,
                CAST(NULL AS VARCHAR) AS seed_ref FROM {tp}_sn WHERE NOT superseded
            UNION ALL BY NAME SELECT rowid + {n_observed + n_sn} AS rid, * EXCLUDE (superseded, computed),
                {_SOURCE} FROM {tp}_pooled
                WHERE NOT superseded"""

    def recomputed(tp: str) -> str:
        # the engine's own figure for each published comparator figure (see ``superseded``)
        return f"""
            SELECT {figure_key("sid", "aid", "pid")} AS fk, value, status, n_used, n_members, CAST(NULL AS VARCHAR) AS basis
            FROM {tp}_sn WHERE superseded
            UNION ALL SELECT {figure_key("sid", "aid", "pid")}, value, status, n_used, n_members, basis
            FROM {tp}_pooled WHERE superseded"""

    def figures(c: duckdb.DuckDBPyConnection) -> None:
        counts[:] = c.execute(
            f"SELECT (SELECT count(*) FROM {observed}), (SELECT count(*) FROM {sn})"
        ).fetchall()[0]
        c.execute(f"CREATE OR REPLACE {view} {f} AS {figure_rows(prefix)}")
        c.execute(f"CREATE OR REPLACE {view} {prefix}_recomputed AS {recomputed(prefix)}")
        c.execute(f"""CREATE OR REPLACE {inner_view} {v} AS
            SELECT f.*, a.type AS area_type, p.period_start, p.period_end, p.first_year, p.last_year,
                   m.indicator, m.measure, a.code AS area, p.period, p.period_kind, vk.vintage
            FROM {f} f JOIN _cspa_key_measure m ON m.sid = f.sid JOIN _cspa_key_area a ON a.aid = f.aid
            JOIN _cspa_key_period p ON p.pid = f.pid LEFT JOIN _cspa_key_vintage vk ON vk.vid = f.vid""")

    def family(
        name: str,
        make: Callable[[duckdb.DuckDBPyConnection, str], duckdb.DuckDBPyRelation | str],
        source: str,
        measures_sql: str,
    ) -> Callable[[duckdb.DuckDBPyConnection], str]:
        # the family's view of the figures is made on the cursor that runs it; ``make`` is called
        # (the family's SQL planned) only when that view has measures
        def run(c: duckdb.DuckDBPyConnection) -> str:
            subset = _subset(c, source, f"_cspa_{name}_in", measures_sql, built)
            if not subset:
                c.execute(f"CREATE OR REPLACE {kind} {prefix}_{name} ({_EMPTY[name]})")
                return f"{prefix}_{name}"
            return table(c, make(c, subset), name)

        return run

    def trend(c: duckdb.DuckDBPyConnection) -> None:
        # the trend class reads a million figures of a national build: its series laid out and
        # ranked in numpy (trend_classes.py), classed by SQL
        subset = _subset(c, f, "_cspa_trend_in", f"{km} WHERE trend = 'seed_moving_average'", built)
        if not subset:
            c.execute(f"CREATE OR REPLACE {kind} {prefix}_trend ({_EMPTY['trend']})")
            return
        c.register(TREND_INPUT, trend_inputs(c, subset, observed))
        table(c, trend_classes_sql(), "trend")
        c.unregister(TREND_INPUT)

    def published_significance(c: duckdb.DuckDBPyConnection) -> None:
        # published significance flags are few: resolved to figure keys once, joined on one integer
        table(
            c,
            f"""
            SELECT {figure_key("m.sid", "a.aid", "p.pid")} AS fk,
                   max(o.text) FILTER (WHERE o.statistic = 'significance_vs_england') AS published_significance,
                   max(o.text) FILTER (WHERE o.statistic = 'significance_vs_benchmark')
                       AS published_significance_benchmark
            FROM _cspa_obs o
            JOIN _cspa_key_measure m ON m.indicator = o.indicator AND m.measure = o.measure
            JOIN _cspa_key_area a ON a.code = o.area JOIN _cspa_key_period p ON p.period = o.period
            WHERE o.statistic LIKE 'significance_vs_%' GROUP BY ALL""",
            "significance",
        )

    tables = [f"{prefix}_{name}" for name in _TABLES]
    lanes.make_room(tables)
    if lanes.work is not None:
        for name, columns in _LATE.items():
            lanes.first.execute(f"CREATE OR REPLACE TABLE {prefix}_{name} ({columns})")
        # the caller's views of the build (see _LATE) once the tables they read first are made
        side = _Job(
            "published",
            ("figures", "ranks", "significance", "bands", "lights", "position"),
            lambda c: lanes.publish(
                tables,
                {
                    f: figure_rows,
                    f"{prefix}_recomputed": recomputed,
                    f"{prefix}_presented": lambda tp: present_sql(prefix, keys),
                },
            ),
        )
    else:
        side = _Job(
            "presented",
            (),
            lambda c: c.execute(
                f"CREATE OR REPLACE {view} {prefix}_presented AS {present_sql(prefix, keys)}"
            ),
        )
    # the steps in the order they are taken (the longest first where several can start); each
    # names the steps whose tables or views it reads
    lanes.run(
        [
            _Job("observed", (), observe),
            _Job("neighbours", ("observed",), neighbours),
            _Job("pooled", ("observed",), pool),
            _Job("ranks", ("observed",), rank),
            _Job("significance", (), published_significance),
            _Job("figures", ("neighbours", "pooled"), figures),
            _Job(
                "bands",
                ("figures",),
                family(
                    "bands",
                    bands,
                    v,
                    f"{km} WHERE (indicator, measure) IN (SELECT indicator, measure FROM band)",
                ),
            ),
            _Job(
                "lights",
                ("bands",),
                family(
                    "lights",
                    lambda c, s: lights(c, s, f"{prefix}_bands"),
                    v,
                    f"{km} WHERE light_rule <> 'none'",
                ),
            ),
            _Job(
                "position",
                ("figures",),
                family(
                    "position",
                    quartile_position,
                    v,
                    f"""{km} WHERE (indicator, measure) IN (
                    SELECT indicator, measure FROM _cspa_obs WHERE statistic IN ('lower_quartile', 'median', 'upper_quartile'))""",
                ),
            ),
            _Job("trend", ("figures",), trend),
            _Job(
                "computed_significance",
                ("figures",),
                family(
                    "computed_significance",
                    # the rule groups are read from the measure keys for the build's measures
                    # (those without a rule drop out there): no second pass over the figures
                    lambda c, s: significance(c, s, sorted(built)),
                    f,
                    f"{km} WHERE sig_method IS NOT NULL",
                ),
            ),
            _Job(
                "progress",
                ("figures", "ranks"),
                lambda c: table(c, progress_table_sql(f, f"{prefix}_ranks"), "progress"),
            ),
            _Job(
                "recent_trend",
                ("figures",),
                family(
                    "recent_trend",
                    recent_trends,
                    v,
                    f"{km} WHERE recent_trend = 'fingertips' AND counted",
                ),
            ),
        ],
        side,
    )
    return prefix


def compute(
    con: duckdb.DuckDBPyConnection, selection: Selection | None = None
) -> duckdb.DuckDBPyRelation:
    """Every judgement for the observations ``selection`` names (everything by default), keeping
    the rows of the areas it names (see :class:`cspa.engine.selection.Selection`)."""
    selection = selection or Selection()
    return con.sql(
        f"SELECT * FROM {build(con, selection)}_presented j WHERE {selection.area_filter('j')}"
    )


def judgements(
    con: duckdb.DuckDBPyConnection, selection: Selection | None = None
) -> duckdb.DuckDBPyRelation:
    """The judgements ``selection`` names: read from the stored build (:func:`judge`) when the
    store has one and the selection can be answered from it, else computed now (:func:`compute`).

    A stored build holds every area and period as judged when it was made, so a selection that
    changes how figures are judged (``up_to``, ``neighbour_group``, ``released_by``) is always
    computed.
    """
    selection = selection or Selection()
    stored = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'judgement'"
    ).fetchall()[0][0]
    if (
        not stored
        or selection.up_to is not None
        or selection.neighbour_group is not None
        or selection.released_by is not None
    ):
        return compute(con, selection)
    return con.sql(
        f"SELECT * FROM judgement j WHERE {selection.observation_filter('j')} "
        f"AND {selection.area_filter('j')}"
    )


def judge(con: duckdb.DuckDBPyConnection, selection: Selection | None = None) -> dict:
    """Compute and store every judgement (replacing the previous build); returns counts and timing.

    The store gets the build's tables (``judgement_observed``, ``judgement_sn``, one per family,
    ``judgement_key_*``) and the view ``judgement`` that readers (reports, the web app) query;
    the view composes display strings and provenance lines for the rows a reader asks for.
    Every area is stored: a selection that names areas is refused (readers narrow by area).
    """
    if selection is not None and selection.areas:
        raise ValueError("a stored build keeps every area; narrow by area when reading it")
    started = time.perf_counter()
    for (kind,) in con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'judgement' "
        "AND table_schema = 'main'"
    ).fetchall():
        con.execute("DROP VIEW judgement" if kind == "VIEW" else "DROP TABLE judgement")
    prefix = build(con, selection, stored=True)
    con.execute(f"CREATE VIEW judgement AS SELECT * FROM {prefix}_presented")
    n = con.execute(f"""SELECT (SELECT count(*) FROM {prefix}_figure_rows) + (SELECT count(*) FROM {prefix}_lights
                                WHERE for_area IS NOT NULL),
                               (SELECT count(band) FROM {prefix}_bands), (SELECT count(traffic_light) FROM {prefix}_lights),
                               (SELECT count(rank) FROM {prefix}_ranks), (SELECT count(quartile) FROM {prefix}_ranks),
                               (SELECT count(*) FROM {prefix}_progress),
                               (SELECT count(*) FROM {prefix}_computed_significance
                                WHERE significance <> 'not compared'),
                               (SELECT count(trend) FROM {prefix}_trend),
                               (SELECT count(*) FROM {prefix}_recent_trend)""").fetchall()[0]
    return {
        "rows": n[0],
        "bands": n[1],
        "lights": n[2],
        "ranks": n[3],
        "quartiles": n[4],
        "progress": n[5],
        "significance": n[6],
        "trends": n[7],
        "recent_trends": n[8],
        "seconds": time.perf_counter() - started,
    }
