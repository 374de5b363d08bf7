"""Several processes, one database: writers take turns, readers never wait for a writer.

DuckDB lets one process open a database file for writing and then refuses every other process,
readers included ("Conflicting lock is held in ... (PID n)"). So cspa never writes to the file
that readers open:

* a **writer** (``load``, ``judge``, ``demo``, ``quarterly load``, ``assess``) takes cspa's writer
  lock, an advisory lock on ``<db>.lock`` that the operating system releases even when the process
  is killed. It waits for it at most ``$CSPA_LOCK_WAIT`` seconds (default 60), saying which process
  holds it, then gives up naming that process and what to do. Holding it, the writer copies the
  database to a temporary file beside it, works on the copy and, only when the command succeeds,
  renames the copy over the database in one atomic step. A refused, failed or killed command
  leaves the database exactly as it was (the copy is removed, or cleared by the next writer).
* a **reader** (``data status``, reports, histories) opens the database read-only. It reads the
  last complete version; a writer running meanwhile does not disturb it (the rename gives later
  readers the new file, and this one keeps the file it opened).

Another program that opens the database for writing (the ``duckdb`` shell, a notebook) locks
everyone out; cspa waits for it at most ``$CSPA_LOCK_WAIT`` seconds, then names the program and
its PID (from DuckDB's message).

``cspa serve`` keeps the database open for writing for as long as it runs, and holds cspa's writer
lock all that time (:class:`WriterLock`), so it never opens a file that a writer is about to
replace. Meanwhile ``cspa load`` sends its files to the server (all of them in one request: one
load), a reader asks the server for a copy of its last committed data and reads that
(``snapshot``), and any other writer is told at once that the server holds the database and what
to do, rather than waiting for a lock that frees only when the server stops. The server leaves a
note beside the database (:func:`server_note_path`) by which commands find it.

Every command opens its database through :func:`open_db`, whose ``mode`` says whether it may
create the database (``create``: ``load``, ``demo``), must find one to write (``write``) or only
reads (``read``: never creates a file, so a mistyped ``--db`` is an error, not a new empty
database). The schema version is checked on every open (:meth:`cspa.store.database.Store.open`); a
store from an older cspa is upgraded through the writer path (the old file is kept beside it as
``<db>.schema<N>.bak``), one from a newer cspa is refused and left untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb

from cspa.errors import DatabaseError, LockError, SchemaError
from cspa.store.database import (
    SCHEMA_VERSION,
    Store,
    _open_error,
    default_path,
    lock_holder,
    schema_version,
)

try:  # advisory file locks (POSIX); without them cspa still works, writers just do not queue
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

Notify = Callable[[str], None]
Mode = Literal["read", "write", "create"]
LOCK_WAIT_ENV = "CSPA_LOCK_WAIT"


def lock_wait() -> float:
    """Seconds to wait for another process: ``$CSPA_LOCK_WAIT``, default 60."""
    try:
        return max(0.0, float(os.environ.get(LOCK_WAIT_ENV, "60")))
    except ValueError:
        return 60.0


def _pid(holder: str) -> str:
    m = re.search(r"(?:PID|process) (\d+)", holder)
    return m.group(1) if m else "?"


def server_note_path(db: str | Path) -> Path:
    """Where a running ``cspa serve`` leaves its note (address, PID, token) beside its database."""
    return Path(str(db) + ".server.json")


def running_server(db: str | Path) -> dict | None:
    """The note of a ``cspa serve`` running on ``db``, or None (a stale note is ignored)."""
    try:
        note = json.loads(server_note_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        os.kill(int(note["pid"]), 0)
    except (OSError, KeyError, ValueError, TypeError):
        return None
    return note


def _served(db: Path) -> str | None:
    """A sentence saying that the cspa server holds ``db``, or None."""
    note = running_server(db)
    if note is None:
        return None
    return f"the cspa server at {note.get('url', '?')} (PID {note.get('pid', '?')}) holds {db}"


def _lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def _temp_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.{os.getpid()}.writing")


def _wal(p: Path) -> Path:
    return p.with_name(p.name + ".wal")


def _command() -> str:
    """What this process is, as ps would show it (``cspa load x.csv``), shortened."""
    if not sys.argv:
        return "python"
    return " ".join([Path(sys.argv[0]).name or "python", *sys.argv[1:]])[:200]


class _WriterLock:
    """cspa's writer lock on ``<db>.lock``; the file also says who holds it (PID, command, since)."""

    def __init__(self, db: Path):
        self.db = db
        self.path = _lock_path(db)
        self.fd: int | None = None

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            info = {}
        if not info.get("pid"):
            return "another cspa process"
        return (
            f"process {info['pid']} ({info.get('command', 'cspa')}, since {info.get('since', '?')})"
        )

    def acquire(self, wait: float, notify: Notify | None) -> None:
        if fcntl is None:  # pragma: no cover
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise DatabaseError(
                f"cannot write beside {self.db} ({e.strerror}): is its folder read-only?"
            ) from None
        deadline, told = time.monotonic() + wait, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                served = _served(self.db)
                if served:  # a server keeps the lock until it stops: waiting would not help
                    os.close(fd)
                    raise LockError(
                        f"{served[0].upper()}{served[1:]} until it stops: use it (its pages or API), "
                        "or stop it first."
                    ) from None
                holder = self.holder()
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockError(
                        f"{self.db} is being written by {holder}; waited {wait:.0f} s. Let it finish and "
                        f"run this command again; if that process has hung, stop it (kill {_pid(holder)}). "
                        f"Set {LOCK_WAIT_ENV} to wait longer."
                    ) from None
                if not told and notify:
                    notify(
                        f"Waiting for {holder} to finish writing {self.db} (at most {wait:.0f} s) ..."
                    )
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(
            fd,
            json.dumps(
                {
                    "pid": os.getpid(),
                    "command": _command(),
                    "since": dt.datetime.now().isoformat(timespec="seconds"),
                }
            ).encode(),
        )
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _connect_reading(db: Path, wait: float, notify: Notify | None) -> duckdb.DuckDBPyConnection:
    """A read-only connection, waiting at most ``wait`` seconds for another program's write lock."""
    deadline, told = time.monotonic() + wait, False
    while True:
        try:
            return duckdb.connect(str(db), read_only=True)
        except duckdb.Error as e:
            holder = lock_holder(str(e))
            if holder is None:
                raise _open_error(str(db), e) from None
            if time.monotonic() >= deadline:
                served = _served(db)
                if served:  # the server did not give a copy (still starting, or stopping)
                    raise LockError(
                        f"{served[0].upper()}{served[1:]} and did not give a copy of its data; waited "
                        f"{wait:.0f} s. Run this again once the server answers, or stop it."
                    ) from None
                raise LockError(
                    f"{db} is open for writing in another program: {holder}; waited {wait:.0f} s. Close the "
                    f"database there (or stop that program: kill {_pid(holder)}), then run this command "
                    f"again. Set {LOCK_WAIT_ENV} to wait longer."
                ) from None
            if not told and notify:
                notify(
                    f"Waiting for {holder}, which has {db} open for writing (at most {wait:.0f} s) ..."
                )
                told = True
            time.sleep(0.1)


def _check_path(db: Path, must_exist: bool) -> None:
    if db.is_dir():
        raise DatabaseError(
            f"the database {db} (--db or $CSPA_DB) is a folder: give the database file, "
            f"for example {db / 'cspa.duckdb'}"
        )
    if must_exist and not db.exists():
        raise DatabaseError(
            f"No database at {db}. Run `cspa demo` to build one, or `cspa load FILE --db {db}`; "
            "commands that only read or judge never create one."
        )


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def writing(
    db: Path | str,
    *,
    create: bool = False,
    fresh: bool = False,
    wait: float | None = None,
    notify: Notify | None = None,
) -> Iterator[Store]:
    """A store to write, published atomically when the block finishes (see the module docstring).

    ``create``: the database may not exist yet; ``fresh``: start from an empty database (``demo``).
    """
    db = Path(db)
    wait = lock_wait() if wait is None else wait
    _check_path(db, must_exist=not create)
    served = _served(db)
    if served:  # it holds the file until it stops: waiting for it would only delay this sentence
        raise LockError(
            f"{served[0].upper()}{served[1:]} and writes it while it runs: make this change through "
            "it (its pages or API; `cspa load` goes through it by itself), or stop the server and "
            "run this command again. Nothing was changed."
        )
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatabaseError(f"cannot make the folder for {db}: {e.strerror}") from None
    lock = _WriterLock(db)
    lock.acquire(wait, notify)
    tmp = _temp_path(db)
    old_version = None
    try:
        # left by a killed writer (we hold the lock); the name is a name, never a pattern
        # and a killed server's copies for readers (no server runs: writing() refuses while one does)
        name = glob.escape(db.name)
        for stale in [
            *db.parent.glob(f".{name}.*.writing*"),
            *db.parent.glob(f".{name}.snapshot-*.duckdb*"),
        ]:
            stale.unlink(missing_ok=True)
        if db.exists() and not fresh:
            con = _connect_reading(db, wait, notify)
            try:
                old_version = schema_version(con)
                if old_version is None or old_version > SCHEMA_VERSION:
                    Store(con, str(db))._check_schema(read_only=False, upgrade=False)
                shutil.copyfile(db, tmp)
                if _wal(db).exists():  # committed work not yet checkpointed into the file
                    shutil.copyfile(_wal(db), _wal(tmp))
            except OSError as e:
                raise DatabaseError(
                    f"cannot copy {db} to write it ({e.strerror}): is the disk full or the "
                    "folder read-only?"
                ) from None
            finally:
                con.close()
            if old_version and old_version < SCHEMA_VERSION and notify:
                notify(
                    f"Upgrading {db} from schema version {old_version} to {SCHEMA_VERSION} "
                    f"(the old file is kept as {db.name}.schema{old_version}.bak) ..."
                )
        store = Store.open(tmp)
        try:
            yield store
            store.con.execute("CHECKPOINT")
        finally:
            store.close()
        try:  # publish: the copy becomes the database in one rename
            _fsync(tmp)
            if old_version and old_version < SCHEMA_VERSION:
                backup = db.with_name(f"{db.name}.schema{old_version}.bak")
                if not backup.exists():
                    os.link(db, backup)
            _wal(db).unlink(
                missing_ok=True
            )  # its contents are in the copy; it must not replay onto it
            os.replace(tmp, db)
            _fsync(db.parent)
        except OSError as e:
            raise DatabaseError(f"cannot write {db}: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)
        _wal(tmp).unlink(missing_ok=True)
        lock.release()


Snapshot = Callable[[Path], "Path | None"]


@contextmanager
def reading(
    db: Path | str,
    *,
    wait: float | None = None,
    notify: Notify | None = None,
    snapshot: Snapshot | None = None,
) -> Iterator[Store]:
    """A read-only store of the last complete version of the database.

    While ``cspa serve`` holds the database (DuckDB then lets no other process open it, not even to
    read), ``snapshot(db)`` asks the server for a copy of its last committed state and the command
    reads that: a reader never fails or waits because the server is writing.
    """
    db = Path(db)
    wait = lock_wait() if wait is None else wait
    _check_path(db, must_exist=True)
    con = None
    if snapshot is not None and _served(db):
        for _attempt in range(3):  # a write between the answer and the open replaces the copy
            copy = snapshot(db)
            if copy is None:
                break
            try:
                con = duckdb.connect(str(copy), read_only=True)
            except duckdb.Error:
                continue
            if notify:
                notify(f"{_served(db)}: reading its copy of the last committed data.")
            break
    if con is None:
        con = _connect_reading(db, wait, notify)
        version = schema_version(con)
        if version is not None and 0 < version < SCHEMA_VERSION:
            con.close()
            with writing(db, wait=wait, notify=notify):
                pass  # the upgrade is the whole write
            con = _connect_reading(db, wait, notify)
    store = Store(con, str(db))
    try:
        store._check_schema(read_only=True, upgrade=False)
    except BaseException:
        con.close()
        raise
    try:
        yield store
    finally:
        store.close()


def upgrade_if_older(db: Path | str, notify: Notify | None = None) -> bool:
    """Upgrade ``db`` through the writer path if it is a cspa store of an older schema version
    (for a process that then opens it itself, as ``cspa serve`` does); True if it did."""
    db = Path(db)
    if not db.is_file() or _served(db):  # a running server has upgraded it already
        return False
    con = _connect_reading(db, lock_wait(), notify)
    try:
        version = schema_version(con)
    finally:
        con.close()
    if version is None or not 0 < version < SCHEMA_VERSION:
        return False
    with writing(db, notify=notify):
        pass  # the upgrade is the whole write
    return True


class WriterLock:
    """cspa's writer lock on a database, held for as long as a process keeps the database open for
    writing (``cspa serve``, ``cspa web user``): cspa's other writers queue behind it, and it waits
    for one that is publishing a new version, whose edits would otherwise be lost under the rename."""

    def __init__(self, db: Path | str, *, wait: float | None = None, notify: Notify | None = None):
        self._lock = _WriterLock(Path(db))
        self._lock.acquire(lock_wait() if wait is None else wait, notify)

    def release(self) -> None:
        self._lock.release()


def open_db(
    db: Path | str | None,
    mode: Mode,
    notify: Notify | None = None,
    *,
    fresh: bool = False,
    snapshot: Snapshot | None = None,
) -> contextlib.AbstractContextManager[Store]:
    """The one way commands open their database: ``read`` (must exist, never written; a running
    server's snapshot when ``snapshot`` is given), ``write`` (must exist) or ``create`` (may be new)."""
    path = Path(db) if db is not None else default_path()
    if mode == "read":
        return reading(path, notify=notify, snapshot=snapshot)
    return writing(path, create=mode == "create", fresh=fresh, notify=notify)


__all__ = [
    "LockError",
    "SchemaError",
    "WriterLock",
    "lock_holder",
    "lock_wait",
    "open_db",
    "reading",
    "running_server",
    "server_note_path",
    "upgrade_if_older",
    "writing",
]
