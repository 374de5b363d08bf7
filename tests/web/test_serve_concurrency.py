"""Concurrent use while ``cspa serve`` holds the database (issue 22 with the web app of issue 19).

DuckDB lets no other process open a database file that one process has open for writing, not even
to read. Before these changes, with the server running: ``cspa data status`` and every report
waited and then failed ("open for writing in another program: python3.11"); ``cspa load a.csv
b.csv`` sent the files one request each, so a key given by both files was loaded twice (the second
silently superseding the first), the same file given twice loaded twice, and a bad second file left
the first loaded; ``cspa judge`` waited a minute and named "python3.11", not the server; and a
server started while ``cspa judge`` was publishing its new version of the database wrote its edits
into the file the rename then replaced.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

from cspa.errors import LockError
from tests.unit.cli.helpers import cspa
from tests.web.conftest import free_port

pytestmark = pytest.mark.xdist_group("web-serve-concurrency")


@pytest.fixture(scope="module")
def served(web_copy):
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cspa",
            "serve",
            "--db",
            str(web_copy),
            "--port",
            str(port),
            "--no-warm",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert server.poll() is None, server.stderr.read()
        assert time.monotonic() < deadline, "cspa serve did not answer /healthz"
        time.sleep(0.5)
    yield web_copy, url
    server.terminate()
    # it stops once the judging its loads started is done (a minute or more on a busy machine)
    server.communicate(timeout=600)
    # the server's copies for readers go with it
    assert not list(web_copy.parent.glob(f".{web_copy.name}.snapshot-*"))


def _csv(path: Path, *rows: str) -> Path:
    path.write_text(
        "indicator,area,period,value\n" + "".join(r + "\n" for r in rows), encoding="utf-8"
    )
    return path


def _observed(url: str, indicator: str, area: str, period: str) -> list:
    items = httpx.get(
        f"{url}/api/v1/areas/{area}/observations", params={"indicator": indicator, "period": period}
    ).json()["items"]
    return [(o["value"], o["vintage"]) for o in items]


def test_readers_read_the_servers_copy_while_it_runs(served):
    db, _url = served
    env = {"CSPA_LOCK_WAIT": "2"}  # were they to wait for the lock, they would fail within 2 s
    r = cspa("data", "status", "--db", str(db), env=env)
    assert r.code == 0 and not r.unexpected, r.err
    assert "reading its copy of the last committed data" in r.err and "Frameworks" in r.out
    r = cspa("quarterly", "history", "--area", "Luton", "--db", str(db), env=env)
    assert r.code == 0 and not r.unexpected, r.err
    r = cspa("assess", "history", "--area", "Luton", "--year", "2011", "--db", str(db), env=env)
    assert r.code == 0 and not r.unexpected, r.err


def test_a_reader_sees_what_was_loaded_through_the_server(served, tmp_path):
    db, url = served
    csv = _csv(tmp_path / "fresh.csv", "20_ICPC,872,2025-26,17")
    r = cspa("load", str(csv), "--db", str(db), "--vintage", "fresh [/b] vintage")
    assert r.code == 0, r.err
    assert _observed(url, "20_ICPC", "872", "2025-26") == [(17.0, "fresh [/b] vintage")]
    r = cspa("data", "status", "--db", str(db), env={"CSPA_LOCK_WAIT": "2"})
    assert r.code == 0, r.err
    assert "fresh [/b] vintage" in r.out  # the copy was made again after the load


def test_one_load_through_the_server_is_one_consistent_set(served, tmp_path):
    db, url = served
    a = _csv(tmp_path / "a.csv", "20_ICPC,873,2025-26,11")
    b = _csv(tmp_path / "b.csv", "20_ICPC,873,2025-26,12")
    r = cspa("load", str(a), str(b), "--db", str(db))
    assert r.code == 1 and not r.unexpected, r.err
    assert (
        "b.csv, row 2: 20_ICPC / value / 873 / 2025-26 / value is also given by a.csv, row 2"
        in r.err
    )
    r = cspa("load", str(a), str(a), "--db", str(db))
    assert r.code == 1 and "given twice in this load" in r.err, r.err
    bad = _csv(tmp_path / "bad.csv", "20_ICPC,874,2025-26,abc")
    r = cspa("load", str(a), str(bad), "--db", str(db))
    assert r.code == 1 and "bad.csv, row 2, field 'value'" in r.err, r.err
    assert _observed(url, "20_ICPC", "873", "2025-26") == []  # none of them wrote anything
    # two good files are one load: both written
    c = _csv(tmp_path / "c.csv", "20_ICPC,874,2025-26,9")
    r = cspa("load", str(a), str(c), "--db", str(db), "--vintage", "pair")
    assert r.code == 0, r.err
    assert "from a.csv" in r.out and "from c.csv" in r.out
    assert _observed(url, "20_ICPC", "873", "2025-26") == [(11.0, "pair")]
    assert _observed(url, "20_ICPC", "874", "2025-26") == [(9.0, "pair")]


@pytest.mark.parametrize(
    "cmd",
    [
        ["judge"],
        ["data", "upgrade"],
        [
            "assess",
            "moderate",
            "--area",
            "Luton",
            "--year",
            "2011",
            "--judgement",
            "childrens_services_assessment",
            "--grade",
            "2",
            "--reason",
            "r",
        ],
    ],
    ids=lambda c: c[0],
)
def test_a_writer_is_told_at_once_that_the_server_holds_the_database(served, cmd):
    db, url = served
    started = time.monotonic()
    r = cspa(*cmd, "--db", str(db), env={"CSPA_LOCK_WAIT": "60"})
    assert time.monotonic() - started < 30  # not the minute's wait for a lock that will not free
    assert r.code == 1 and not r.unexpected, r.err
    assert f"The cspa server at {url}" in r.err and "make this change through it" in r.err
    assert "Nothing was changed" in r.err


def test_server_waits_for_a_writer_publishing_a_new_version(tmp_path):
    """The server takes cspa's writer lock for as long as it runs: while another cspa process holds
    it (here, this test), the server does not open the file whose replacement would lose its edits."""
    from cspa.app.web.database import Database
    from cspa.store.access import WriterLock
    from cspa.store.database import Store

    db = tmp_path / "cspa.duckdb"
    Store.open(db).close()
    held = WriterLock(db)
    try:
        os.environ["CSPA_LOCK_WAIT"] = "1"
        with pytest.raises(LockError, match=rf"being written by process {os.getpid()}"):
            Database(db)
    finally:
        os.environ.pop("CSPA_LOCK_WAIT", None)
        held.release()
    database = Database(db)  # free again: it opens, and holds the lock itself
    try:
        with pytest.raises(LockError):
            WriterLock(db, wait=0)
    finally:
        database.close()
    WriterLock(db, wait=0).release()  # released when it closes
    duckdb.connect(str(db), read_only=True).close()


def test_server_upgrades_an_older_store_as_every_command_does(tmp_path):
    """Before: the server migrated a store of an older schema in place, keeping no copy of it."""
    from cspa.app.web.database import Database
    from cspa.store.database import SCHEMA_VERSION
    from tests.unit.store.test_schema_versions import _sha, _v2_store

    path = tmp_path / "v2.duckdb"
    _v2_store(path, tmp_path)
    old = _sha(path)
    database = Database(path)
    try:
        got = database.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        assert got == [(str(SCHEMA_VERSION),)]
        assert database.con.execute("SELECT count(*) FROM series_break").fetchall()[0][0] > 0
    finally:
        database.close()
    assert _sha(tmp_path / "v2.duckdb.schema2.bak") == old


@pytest.mark.parametrize("name", ["x" * 300 + ".csv", "..", "a\x00b.csv"])
def test_a_hostile_upload_name_is_refused_by_name(served, name):
    """A name no file can have is a 400 naming it, never a server error."""
    _db, url = served
    note = _db.with_name(_db.name + ".server.json")
    import json

    token = json.loads(note.read_text(encoding="utf-8"))["token"]
    r = httpx.post(
        f"{url}/api/v1/loads",
        files=[("file", (name, b"indicator,area,period,value\n20_ICPC,875,2025-26,3\n"))],
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert r.status_code == 400, r.text
    assert "error" in r.json()


def test_a_second_server_on_the_same_database_is_told_at_once(served):
    from cspa.app.web.database import Database

    db, url = served
    started = time.monotonic()
    os.environ["CSPA_LOCK_WAIT"] = "60"
    try:
        with pytest.raises(
            LockError, match=rf"The cspa server at {url} .* holds .* until it stops"
        ):
            Database(db)
    finally:
        os.environ.pop("CSPA_LOCK_WAIT", None)
    assert time.monotonic() - started < 30


def test_cspa_serve_says_it_waits_for_a_writer_then_names_it(tmp_path):
    from cspa.store.access import WriterLock
    from cspa.store.database import Store

    db = tmp_path / "cspa.duckdb"
    Store.open(db).close()
    held = WriterLock(db)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "cspa", "serve", "--db", str(db), "--port", str(free_port())],
            env={**os.environ, "CSPA_LOCK_WAIT": "2"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        held.release()
    assert out.returncode == 1, out.stderr
    assert f"Waiting for process {os.getpid()}" in out.stderr
    assert f"is being written by process {os.getpid()}" in out.stderr
    assert "Unexpected" not in out.stderr


def test_a_quarterly_template_is_loaded_through_the_server(served, tmp_path):
    """Before: ``cspa quarterly load`` while the server ran was refused (the server holds the
    database) and the web app takes no workbook, so a filled-in template could not be loaded."""
    import json

    import openpyxl

    db, _url = served
    tpl = tmp_path / "t.xlsx"
    r = cspa(
        "quarterly",
        "template",
        "--area",
        "Luton",
        "--period",
        "2007-08-Q4",
        "--output",
        str(tpl),
        "--db",
        str(db),
    )
    assert r.code == 0, r.err  # a reader: made from the server's copy
    wb = openpyxl.load_workbook(tpl)
    ws = wb["Commentary"]
    cols = {c.value: c.column for c in ws[3] if c.value}
    row = next(
        n for n in range(4, ws.max_row + 1) if ws.cell(n, cols["Field"]).value == "commentary"
    )
    indicator = ws.cell(row, cols["Indicator"]).value
    typed = "Typed while the server ran [/b] =1+1"
    ws.cell(row, cols["Text"]).value = typed
    wb.save(tmp_path / "filled.xlsx")
    ws.cell(row, cols["Text"]).value = "=A1&B1"  # a formula: refused, naming the cell
    wb.save(tmp_path / "formula.xlsx")

    r = cspa(
        "quarterly", "load", str(tmp_path / "formula.xlsx"), "--user", "alice", "--db", str(db)
    )
    assert r.code == 1 and not r.unexpected, r.err
    assert "refused by the server" in r.err and "holds a formula (=A1&B1)" in r.err
    r = cspa("quarterly", "load", str(tmp_path / "filled.xlsx"), "--user", "alice", "--db", str(db))
    assert r.code == 0 and not r.unexpected, r.err
    assert "loaded through it" in r.out and "1 text(s)" in r.out
    r = cspa(
        "quarterly",
        "history",
        "--area",
        "Luton",
        "--period",
        "2007-08-Q4",
        "--indicator",
        indicator,
        "--format",
        "json",
        "--db",
        str(db),
    )
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert [(x["new"], x["who"]) for x in rows if x["new"] == typed] == [(typed, "alice")], rows[:3]
    # loading the same workbook again changes nothing (the template's round trip)
    r = cspa("quarterly", "load", str(tmp_path / "filled.xlsx"), "--user", "alice", "--db", str(db))
    assert r.code == 0 and "0 text(s)" in r.out, r.out + r.err
