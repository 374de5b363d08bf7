"""The server's hold on the DuckDB store: many readers, one serialized writer, a data version.

DuckDB lets one process open a database file for writing. The server is that process while it
runs: it opens the file once and gives each request thread its own cursor (a connection to the
same database instance). DuckDB's MVCC gives every read a consistent snapshot, so a page never
fails or waits because an edit or a load is being written; writes go through :meth:`write`, one at
a time (an edit's check, its change and its audit row in one transaction, so optimistic locking
needs no retry loop). Another process that wants to load while the server runs goes through the
server (``cspa load`` finds the server's note beside the database, :mod:`cspa.app.web.serverfile`).

:attr:`version` counts committed writes: caches of computed pages and API answers are keyed by it,
so nothing stale is served after an edit.

The engine's stored build (``cspa judge``) is kept in the store; :func:`prepare` copies the
``judgement`` view into a plain table sorted by indicator and area (``web_judgement``), which
answers "one indicator, every authority" from a few row groups instead of composing the view's
display strings for every row at every request (measured in bench/web.py).
"""

from __future__ import annotations

import glob
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from cspa.store.access import WriterLock, upgrade_if_older
from cspa.store.database import Store
from cspa.store.sql import ident, path_literal

WEB_TABLE = "web_judgement"
LATEST_TABLE = "web_latest"
ENGLAND = "E92000001"


class Database:
    def __init__(self, path: str | Path, notify: Callable[[str], None] | None = None):
        """``notify`` is told when opening waits for another cspa process writing the database."""
        self.path = str(path)
        # a store from an older cspa is upgraded the way every command upgrades it (a new version
        # published whole, the old file kept as <db>.schema<N>.bak), not in place under the server
        upgrade_if_older(self.path, notify)
        # cspa's writer lock for as long as the server holds the file: a `cspa judge` or `cspa
        # quarterly load` publishing a new version of the database finishes first (or this waits
        # a bounded time and says who holds it), so no edit made here is lost under its rename
        self._writer_lock = WriterLock(self.path, notify=notify)
        try:
            self.store = Store.open(self.path)  # creates the schema if needed; holds the file
        except BaseException:
            self._writer_lock.release()
            raise
        for stale in _snapshots(Path(self.path)):  # left by a server that was killed
            stale.unlink(missing_ok=True)
        self.con = self.store.con
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._writing = threading.local()
        self.version = 0
        #: every committed write (figures, an authority's documents, sessions): a reader's
        #: snapshot (:meth:`snapshot`) is made again only when this has moved
        self.writes = 0
        self._snapshot: tuple[int, Path] | None = None
        self._snapshot_lock = threading.Lock()
        #: per-authority count of edits that change only that authority's own documents
        #: (targets, commentary, moderation): its quarterly report and letter are rebuilt, the
        #: comparisons every page shows are not
        self.area_versions: dict[str, int] = {}
        self.cache = Cache(3000)
        self._pending: set[str] = set()
        self._pending_cv = threading.Condition()
        self._refresher: threading.Thread | None = None
        self._busy = False
        self._closing = False
        self._rejudge = False
        self.refresh_errors: list[str] = []

    # ------------------------------------------------------------------ connections
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self.con.cursor()
            self._local.cur = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """This thread's cursor: a snapshot read that never waits for a writer."""
        yield self._cursor()

    @contextmanager
    def write(self, bump: bool | str = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """The one writer: a transaction on a cursor of its own, one writer at a time.

        A nested call (an edit writing its audit row) joins the transaction already open.
        ``bump``: True when the write changes figures every page may show; an authority's code
        when it changes only that authority's documents; False when it changes nothing shown
        (sessions, sign-in failures).
        """
        with self._write_lock:
            if getattr(self._writing, "cur", None) is not None:
                yield self._writing.cur
                self._writing.bumps.append(bump)
                return
            cur = self.con.cursor()
            cur.execute("BEGIN TRANSACTION")
            self._writing.cur, self._writing.bumps = cur, [bump]
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
                self.writes += 1
                self._bump(self._writing.bumps)
            finally:
                self._writing.cur = None
                cur.close()

    @contextmanager
    def write_autocommit(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The writer's lock without a transaction around the block: for the engine's stored build,
        whose row ids are DuckDB rowids and so must be written by committed statements (rows
        written inside an open transaction carry provisional row ids)."""
        with self._write_lock:
            cur = self.con.cursor()
            try:
                yield cur
            finally:
                cur.close()
                self.version += 1
                self.writes += 1

    def _bump(self, bumps: list[bool | str]) -> None:
        if any(b is True for b in bumps):
            self.version += 1
        for b in bumps:
            if isinstance(b, str):
                self.area_versions[b] = self.area_versions.get(b, 0) + 1

    def bump_area(self, area: str) -> None:
        """Mark the open write as changing ``area``'s documents (called inside :meth:`write`)."""
        bumps = getattr(self._writing, "bumps", None)
        if bumps is not None:
            bumps.append(area)

    def nested_store(self, cur: duckdb.DuckDBPyConnection) -> Store:
        """A Store on the writer's cursor whose ``transaction()`` joins the open transaction, for
        the stages' functions that open their own (moderation, loading)."""
        return _JoinedStore(cur, self.path)

    def schedule_refresh(self, indicators: tuple[str, ...], rejudge: bool = False) -> None:
        """Recompute these indicators' judged figures in the background (one at a time, coalesced);
        ``rejudge``: also remake the engine's stored build (after a load, which reports read)."""
        with self._pending_cv:
            self._pending.update(indicators)
            self._rejudge = self._rejudge or rejudge
            if self._refresher is None:
                self._refresher = threading.Thread(
                    target=self._refresh_loop, daemon=True, name="cspa-refresh"
                )
                self._refresher.start()
            self._pending_cv.notify()

    def _refresh_loop(self) -> None:
        while True:
            with self._pending_cv:
                while not self._pending and not self._closing:
                    self._pending_cv.wait()
                if self._closing:
                    return
                todo = tuple(sorted(self._pending))
                rejudge, self._rejudge = self._rejudge, False
                self._pending.clear()
                self._busy = True
            try:
                if rejudge:
                    rejudge_store(self)
                refresh_web_table(self, todo)
            except Exception as e:  # kept and shown on /healthz; the next edit tries again
                self.refresh_errors.append(f"{todo}: {type(e).__name__}: {e}")
            finally:
                with self._pending_cv:
                    self._busy = False
                    self._pending_cv.notify_all()

    def refreshing(self) -> bool:
        with self._pending_cv:
            return bool(self._pending) or self._busy

    def wait_refreshed(self, timeout: float = 120) -> bool:
        """Wait until scheduled recomputations are done (tests, the bench, shutdown)."""
        with self._pending_cv:
            return self._pending_cv.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self) -> None:
        # let a recomputation in progress finish: closing its connection under it would abort
        self.wait_refreshed()
        with self._pending_cv:
            self._closing = True
            self._pending_cv.notify_all()
        if self._refresher is not None:
            self._refresher.join(30)
        with self._cursors_lock:
            for c in self._cursors:
                c.close()
            self._cursors.clear()
        self.store.close()
        with self._snapshot_lock:
            for old in _snapshots(Path(self.path)):
                old.unlink(missing_ok=True)
            self._snapshot = None
        self._writer_lock.release()

    # ------------------------------------------------------------------ readers in other processes
    def snapshot(self) -> Path:
        """A copy of the last committed data for a command that reads (``cspa data status``,
        ``cspa report``) while the server holds the file, which DuckDB lets no other process open.

        One read transaction copies every table but the web app's own (accounts, sessions and
        its page tables, which no command reads), so the copy is one consistent version; it is
        made again only after a write, and published by a rename so a reader never sees half of
        one. A reader keeps the file it opened even when a newer copy replaces it."""
        with self._snapshot_lock:
            writes = self.writes
            if self._snapshot and self._snapshot[0] == writes and self._snapshot[1].exists():
                return self._snapshot[1]
            db = Path(self.path)
            target = db.with_name(f".{db.name}.snapshot-{writes}.duckdb")
            tmp = target.with_name(target.name + ".tmp")
            tmp.unlink(missing_ok=True)
            cur = self.con.cursor()
            alias = f"cspa_snapshot_{writes}"
            main = cur.execute("SELECT current_database()").fetchall()[0][0]
            cur.execute(f"ATTACH {path_literal(tmp)} AS {ident(alias)}")
            try:
                cur.execute("BEGIN TRANSACTION")
                cur.execute(f"COPY FROM DATABASE {ident(main)} TO {ident(alias)} (SCHEMA)")
                for (table,) in cur.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                    "AND schema_name = 'main' AND NOT starts_with(table_name, 'web_')",
                    [main],
                ).fetchall():
                    cur.execute(
                        f"INSERT INTO {ident(alias)}.main.{ident(table)} "
                        f"SELECT * FROM {ident(main)}.main.{ident(table)}"
                    )
                cur.execute("COMMIT")
                cur.execute(f"CHECKPOINT {ident(alias)}")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.execute(f"DETACH {ident(alias)}")
                cur.close()
            os.replace(tmp, target)
            for old in _snapshots(db):  # a reader of an older copy keeps its open file
                if old != target:
                    old.unlink(missing_ok=True)
            self._snapshot = (writes, target)
            return target

    # ------------------------------------------------------------------ cached computations
    def cached(self, key: tuple, compute: Callable[[], Any], area: str | None = None) -> Any:
        """``compute()``'s result for ``key`` at the current data version (and, for an
        authority's own documents, that authority's version)."""
        full = (self.version, self.area_versions.get(area, 0) if area else None, *key)
        hit = self.cache.get(full)
        if hit is not None:
            return hit
        value = compute()
        self.cache.put(full, value)
        return value


def _snapshots(db: Path) -> list[Path]:
    # the database's name is a name, never a pattern (a file called x[1].duckdb)
    return [p for p in db.parent.glob(f".{glob.escape(db.name)}.snapshot-*.duckdb*") if p.is_file()]


class _JoinedStore(Store):
    @contextmanager
    def transaction(self):
        yield self.con


class Cache:
    """A small thread-safe LRU (entries of older data versions fall out as new ones come in)."""

    def __init__(self, size: int):
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


def prepare(db: Database, log: Callable[[str], None] = lambda _m: None) -> dict:
    """Make sure the store has the engine's stored build and the web table read from it.

    Builds what is missing (``cspa judge``'s build, then ``web_judgement``) and returns what was
    done with timings. A store whose build is older than its last load is rebuilt.
    """
    done: dict[str, float] = {}
    with db.read() as cur:
        stale = _stale(cur)
    if stale:
        log(f"Judging every figure ({stale}) ...")
        started = time.perf_counter()
        rejudge_store(db)
        done["judge_seconds"] = time.perf_counter() - started
    with db.read() as cur:
        need_table = stale or not has_table(cur, WEB_TABLE) or not has_table(cur, LATEST_TABLE)
    if need_table:
        log("Preparing the web table of judgements ...")
        started = time.perf_counter()
        refresh_web_table(db)
        done["web_table_seconds"] = time.perf_counter() - started
    return done


def rejudge_store(db: Database) -> None:
    """Remake the engine's stored build (``cspa judge``), noting the last load it includes."""
    from cspa.engine.run import judge

    with db.write_autocommit() as cur:
        judge(cur)
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('web_judged_load', ?)", [_last_load(cur)])


def refresh_web_table(db: Database, indicators: tuple[str, ...] | None = None) -> None:
    """(Re)write ``web_judgement`` from the stored build, or recompute ``indicators`` only (after an
    edit of their figures) with the engine and replace their rows."""
    if indicators is None:
        with db.write() as cur:
            cols = [r[0] for r in cur.execute("DESCRIBE judgement").fetchall()]
            cur.execute(f"CREATE OR REPLACE TABLE {WEB_TABLE} AS {_web_select('judgement', cols)}")
            cur.execute(f"CREATE OR REPLACE TABLE {LATEST_TABLE} AS {_latest_select('TRUE')}")
        return
    from cspa.engine.run import compute
    from cspa.engine.selection import Selection

    # computed on a reader (other writers go on), swapped in by the writer
    with db.read() as cur:
        rel = compute(cur, Selection.of(*indicators))
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE _web_fresh AS "
            f"{_web_select('(' + rel.sql_query() + ')', rel.columns)}"
        )
        fresh = cur.sql("SELECT * FROM _web_fresh").to_arrow_table()
    with db.write() as cur:
        cur.register("_web_fresh_rows", fresh)
        cur.execute(
            f"DELETE FROM {WEB_TABLE} WHERE indicator IN (SELECT * FROM unnest(?))",
            [list(indicators)],
        )
        cur.execute(f"INSERT INTO {WEB_TABLE} BY NAME SELECT * FROM _web_fresh_rows")
        cur.unregister("_web_fresh_rows")
        cur.execute(
            f"DELETE FROM {LATEST_TABLE} WHERE indicator IN (SELECT * FROM unnest(?))",
            [list(indicators)],
        )
        cur.execute(
            f"INSERT INTO {LATEST_TABLE} BY NAME {_latest_select('j.indicator IN (SELECT * FROM unnest(?))')}",
            [list(indicators), list(indicators)],
        )


# Figures people typed (the quarterly template, the web form) are not public until published:
# a viewer sees public figures only.
PRIVATE_SOURCES = ("quarterly template", "web form")


def _web_select(source: str, columns: list[str]) -> str:
    """The web table's rows from a relation of judgements (with these ``columns``): each figure
    with how many authorities its rank is among (``rank_of``: "rank 12 of 150", the engine's own
    where it gives one) and whether it is public."""
    private = ", ".join(f"'{s}'" for s in PRIVATE_SOURCES)
    rank_of = (
        ""
        if "rank_of" in columns
        else ", count(j.rank) OVER (PARTITION BY j.indicator, j.measure, j.period) AS rank_of"
    )
    # a store judged before the engine counted shared ranks says nothing about them
    shared = "" if "rank_shared" in columns else ", CAST(NULL AS BIGINT) AS rank_shared"
    return f"""
        SELECT j.*{rank_of}{shared}, p.area IS NULL AS public
        FROM {source} j
        LEFT JOIN (SELECT DISTINCT indicator, measure, area, period FROM observation_current
                   WHERE source IN ({private})) p
          ON p.indicator = j.indicator AND p.measure = j.measure AND p.area = j.area
             AND p.period = j.period
        ORDER BY j.indicator, j.area, j.period"""


_BEFORE = (
    "lag(display) OVER s AS before_display, lag(period_label) OVER s AS before_period_label, "
    "lag(rank) OVER s AS before_rank"
)


def _latest_select(where: str) -> str:
    """Every authority's latest figure of every indicator and measure, with England's and its
    neighbours' figures for the same period: what an area's summary page shows, made for every
    area at once. ``audience`` 'all' is the latest figure; 'public' the latest public one."""
    return f"""
        WITH base AS (
            SELECT j.*, i.title, i.framework, i.section, i.definition_json,
                   m.unit, m.polarity, m.label AS measure_label
            FROM {WEB_TABLE} j JOIN indicator i ON i.code = j.indicator
            JOIN measure m ON m.indicator = j.indicator AND m.measure = j.measure
            WHERE j.area_type = 'la' AND j.for_area IS NULL
              AND (j.value IS NOT NULL OR j.status IS NOT NULL) AND {where}
        ), latest AS (
            -- with the figure before it (the one its progress was judged against: progress is
            -- judged only where the authority has a figure in the measure's previous period), so
            -- the summary can say "from 7.2 in 2024 to 2.1 in 2025", not only "to 2.1"
            SELECT 'all' AS audience, *, {_BEFORE} FROM base
            WINDOW s AS (PARTITION BY area, indicator, measure ORDER BY period_end)
            QUALIFY row_number() OVER (PARTITION BY area, indicator, measure ORDER BY period_end DESC) = 1
            UNION ALL BY NAME
            SELECT 'public' AS audience, *, {_BEFORE} FROM base WHERE public
            WINDOW s AS (PARTITION BY area, indicator, measure ORDER BY period_end)
            QUALIFY row_number() OVER (PARTITION BY area, indicator, measure ORDER BY period_end DESC) = 1
        ), sn AS (
            SELECT indicator, measure, period, regexp_extract(area, '^SN:[^:]+:(.+)$', 1) AS for_la,
                   min_by(display, area) AS neighbours_display, min_by(value, area) AS neighbours_value
            FROM {WEB_TABLE} j WHERE area_type = 'sn_group' AND for_area IS NULL AND {where}
            GROUP BY ALL
        )
        SELECT l.*, e.display AS england_display, e.value AS england_value,
               sn.neighbours_display, sn.neighbours_value
        FROM latest l
        LEFT JOIN {WEB_TABLE} e ON e.indicator = l.indicator AND e.measure = l.measure
             AND e.period = l.period AND e.area = '{ENGLAND}' AND e.for_area IS NULL
        LEFT JOIN sn ON sn.indicator = l.indicator AND sn.measure = l.measure AND sn.period = l.period
             AND sn.for_la = l.area
        ORDER BY l.area, l.framework, l.indicator, l.measure"""


def _last_load(cur: duckdb.DuckDBPyConnection) -> str:
    return str(cur.execute("SELECT coalesce(max(load_id), 0) FROM load_log").fetchall()[0][0])


def _stale(cur: duckdb.DuckDBPyConnection) -> str | None:
    """Why the stored build must be made again, or None."""
    if not has_table(cur, "judgement"):
        return "no stored build yet"
    found = cur.execute("SELECT value FROM meta WHERE key = 'web_judged_load'").fetchall()
    if not found or found[0][0] != _last_load(cur):
        return "figures loaded since the last build"
    return None
