"""Two processes, one database: a writer waits a bounded time for another writer and then names
it; a reader never fails because a writer runs; a writer killed mid-write changes nothing.

Before issue 22 the second process got "Unexpected error: IOException ... Conflicting lock is held".
These tests start a second process (a real one: locks are per process), sparingly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.unit.cli.helpers import cspa
from tests.unit.store.helpers import row, write_csv

WRITER = """
import sys, time
from pathlib import Path
from cspa.store.access import writing
from cspa.store.ingest import load_files
db, csv, ready, hold = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
with writing(db) as store:
    load_files(store, [csv], vintage="second process")
    ready.write_text("writing")
    time.sleep(hold)
"""
OTHER_PROGRAM = """
import sys, time, duckdb
from pathlib import Path
con = duckdb.connect(sys.argv[1])  # read-write, as the duckdb shell or a notebook would
Path(sys.argv[2]).write_text("open")
time.sleep(float(sys.argv[3]))
"""


def _start(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the second process ended early: {proc.communicate()[1]}")
        assert time.monotonic() < end, "the second process did not start"
        time.sleep(0.05)


def _values(db: Path) -> list:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT area, value FROM observation_current ORDER BY area").fetchall()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "cspa.duckdb"
    r = cspa(
        "load",
        str(write_csv(tmp_path / "first.csv", [row(area="821", value="46")])),
        "--db",
        str(path),
    )
    assert r.code == 0, r.err
    return path


def test_reader_reads_while_a_writer_writes_and_a_killed_writer_changes_nothing(db, tmp_path):
    ready = tmp_path / "ready"
    proc = _start(
        WRITER, db, write_csv(tmp_path / "second.csv", [row(area="872", value="51")]), ready, 120
    )
    try:
        _wait_for(ready, proc)
        t0 = time.monotonic()
        r = cspa("data", "status", "--db", str(db), env={"CSPA_LOCK_WAIT": "0"})
        assert r.code == 0, r.err
        assert time.monotonic() - t0 < 30 and "Waiting" not in r.err
        assert "first.csv" in r.out and "second.csv" not in r.out  # the last complete version
    finally:
        _kill(proc)  # kill -9 in the middle of the write
    assert _values(db) == [("821", 46.0)]
    # the lock died with the process; the next writer clears its leftovers and writes
    r = cspa(
        "load",
        str(write_csv(tmp_path / "third.csv", [row(area="873", value="47")])),
        "--db",
        str(db),
        env={"CSPA_LOCK_WAIT": "5"},
    )
    assert r.code == 0, r.err
    assert _values(db) == [("821", 46.0), ("873", 47.0)]
    assert not list(tmp_path.glob(".cspa.duckdb.*.writing*"))


def test_writer_waits_a_bounded_time_then_names_the_process(db, tmp_path):
    ready = tmp_path / "ready"
    proc = _start(
        WRITER, db, write_csv(tmp_path / "second.csv", [row(area="872", value="51")]), ready, 120
    )
    try:
        _wait_for(ready, proc)
        t0 = time.monotonic()
        r = cspa(
            "load",
            str(write_csv(tmp_path / "mine.csv", [row(area="874", value="40")])),
            "--db",
            str(db),
            env={"CSPA_LOCK_WAIT": "1"},
        )
        took = time.monotonic() - t0
    finally:
        _kill(proc)
    assert r.code == 1 and not r.unexpected, r.err
    assert (
        f"Waiting for process {proc.pid} (-c " in r.err
    )  # the holder's command line (python -c ...)
    assert f"is being written by process {proc.pid}" in r.err and f"kill {proc.pid}" in r.err
    assert "CSPA_LOCK_WAIT" in r.err
    assert 1 <= took < 30
    assert _values(db) == [("821", 46.0)]


def test_writer_queues_behind_another_and_both_writes_are_kept(db, tmp_path):
    ready = tmp_path / "ready"
    proc = _start(
        WRITER, db, write_csv(tmp_path / "second.csv", [row(area="872", value="51")]), ready, 1.5
    )
    try:
        _wait_for(ready, proc)
        r = cspa(
            "load",
            str(write_csv(tmp_path / "mine.csv", [row(area="874", value="40")])),
            "--db",
            str(db),
            env={"CSPA_LOCK_WAIT": "60"},
        )
    finally:
        proc.communicate(timeout=60)
    assert r.code == 0, r.err
    assert "Waiting for process" in r.err
    assert _values(db) == [("821", 46.0), ("872", 51.0), ("874", 40.0)]


@pytest.mark.parametrize("cmd", [["data", "status"], ["load", "{csv}"]], ids=lambda c: c[0])
def test_another_program_holding_the_database_is_named(db, tmp_path, cmd):
    ready = tmp_path / "ready"
    proc = _start(OTHER_PROGRAM, db, ready, 120)
    try:
        _wait_for(ready, proc)
        args = [
            a.format(csv=write_csv(tmp_path / "mine.csv", [row(area="874", value="40")]))
            for a in cmd
        ]
        r = cspa(*args, "--db", str(db), env={"CSPA_LOCK_WAIT": "1"})
    finally:
        _kill(proc)
    assert r.code == 1 and not r.unexpected, r.err
    assert "is open for writing in another program" in r.err and f"(PID {proc.pid})" in r.err
    assert f"kill {proc.pid}" in r.err


def test_a_server_that_gives_no_copy_is_named_not_the_python_holding_the_file(db, tmp_path):
    """A reader finds a server's note but the server does not answer (starting or stopping): the
    error names the server and says to run again, not "python3.11 (PID n)"."""
    import json
    import socket

    ready = tmp_path / "ready"
    proc = _start(OTHER_PROGRAM, db, ready, 120)
    try:
        _wait_for(ready, proc)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens there once closed
        note = db.with_name(db.name + ".server.json")
        note.write_text(json.dumps({"url": url, "pid": proc.pid, "token": "t"}), encoding="utf-8")
        r = cspa("data", "status", "--db", str(db), env={"CSPA_LOCK_WAIT": "1"})
        w = cspa("judge", "--db", str(db), env={"CSPA_LOCK_WAIT": "60"})
    finally:
        _kill(proc)
    assert r.code == 1 and not r.unexpected, r.err
    assert f"The cspa server at {url} (PID {proc.pid}) holds" in r.err
    assert "did not give a copy of its data" in r.err
    assert w.code == 1 and "make this change through it" in w.err, w.err


def test_a_writer_clears_what_killed_processes_left_and_only_that(tmp_path):
    """A killed writer's copy and a killed server's copies for readers are removed by the next
    writer; a database's name is a name, so another database's files are never touched (before,
    ``x[1].duckdb`` matched ``x1.duckdb``'s files as a pattern)."""
    from cspa.store.access import writing

    db = tmp_path / "x[1].duckdb"
    r = cspa("load", str(write_csv(tmp_path / "a.csv", [row(value="40")])), "--db", str(db))
    assert r.code == 0, r.err
    left = [tmp_path / ".x[1].duckdb.4242.writing", tmp_path / ".x[1].duckdb.snapshot-7.duckdb"]
    other = [tmp_path / ".x1.duckdb.4243.writing", tmp_path / ".x1.duckdb.snapshot-2.duckdb"]
    for p in left + other:
        p.write_bytes(b"stale")
    with writing(db):
        pass
    assert [p.exists() for p in left] == [False, False]
    assert [p.exists() for p in other] == [True, True]


def test_a_reader_asks_again_when_the_servers_copy_was_replaced_before_it_opened_it(db, tmp_path):
    """The server replaces its copy after each write; a reader whose copy went in between asks
    again instead of failing (before: DuckDB's "database does not exist" as an Unexpected error)."""
    import json

    from cspa.store.access import reading

    note = db.with_name(db.name + ".server.json")
    note.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid()}), encoding="utf-8")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    answers = [tmp_path / "gone.duckdb", copy]
    asked = []

    def snapshot(path):
        asked.append(path)
        return answers[len(asked) - 1]

    told = []
    with reading(db, snapshot=snapshot, notify=told.append) as store:
        got = store.con.execute("SELECT area, value FROM observation_current").fetchall()
    assert got == [("821", 46.0)] and len(asked) == 2
    assert "reading its copy of the last committed data" in told[0]
