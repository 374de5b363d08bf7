"""The web app's own state: users, sessions, API tokens, sign-in failures, the audit trail and,
on PostgreSQL, the journal of edits.

Two backends with one interface and one SQL text (plain SQL that DuckDB and PostgreSQL both
run; parameters are written ``?`` and given to psycopg as ``%s``):

* :class:`DuckState`: tables in the embedded DuckDB store (the default). Writes go through the
  server's one serialized writer (:meth:`cspa.app.web.database.Database.write`), so an edit, its
  audit row and the figures it changes commit together.
* :class:`PgState`: tables in PostgreSQL (``cspa serve --state postgresql://...``), for a
  deployment where many people edit at once. Every accepted edit is also written to the journal
  (``web_edit``) in the same PostgreSQL transaction as its audit row; each server applies the
  journal to its DuckDB copy of the figures (:mod:`cspa.app.web.edits`), so what people typed is
  kept by PostgreSQL and a server that starts later, or on another machine, shows it too.

Passwords, session ids and tokens are stored hashed (argon2 for passwords, SHA-256 for the random
session ids and tokens, which are 256-bit and need no slow hash).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_user (
    username VARCHAR PRIMARY KEY, password_hash VARCHAR NOT NULL, role VARCHAR NOT NULL,
    areas VARCHAR NOT NULL DEFAULT '', display_name VARCHAR, created_at TIMESTAMP NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE IF NOT EXISTS web_session (
    id_hash VARCHAR PRIMARY KEY, username VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS web_token (
    token_hash VARCHAR PRIMARY KEY, username VARCHAR NOT NULL, name VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS web_login_failure (
    username VARCHAR NOT NULL, client VARCHAR NOT NULL, failed_at TIMESTAMP NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS web_audit_seq START 1;
CREATE TABLE IF NOT EXISTS web_audit (
    id BIGINT PRIMARY KEY, changed_at TIMESTAMP NOT NULL, username VARCHAR NOT NULL, action VARCHAR NOT NULL,
    area VARCHAR, entity VARCHAR NOT NULL, entity_key VARCHAR NOT NULL, before_value VARCHAR,
    after_value VARCHAR, via VARCHAR
);
"""

# PostgreSQL only: the journal every server applies to its DuckDB copy of the figures.
PG_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_edit (
    seq BIGSERIAL PRIMARY KEY, edited_at TIMESTAMP NOT NULL, username VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, area VARCHAR NOT NULL, payload TEXT NOT NULL
);
"""

ROLES = ("viewer", "editor", "inspector", "admin")


@dataclass(frozen=True)
class User:
    username: str
    role: str
    areas: tuple[str, ...]
    display_name: str | None = None
    disabled: bool = False

    def can_edit(self, area: str) -> bool:
        """An authority editor edits its own authorities only; an admin any."""
        return self.role == "admin" or (self.role == "editor" and area in self.areas)

    def can_moderate(self, area: str) -> bool:
        """An inspector moderates the authorities assigned to them; an admin any."""
        return self.role == "admin" or (self.role == "inspector" and area in self.areas)

    @property
    def sees_unpublished(self) -> bool:
        return self.role != "viewer"

    def reads_internal(self, area: str) -> bool:
        """An authority's internal reports (the quarterly report, with figures not yet published)
        are for its own editors, the inspectors assigned to it, and administrators."""
        return self.role == "admin" or (self.role in ("editor", "inspector") and area in self.areas)


def _user(row: tuple | None) -> User | None:
    if row is None:
        return None
    name, role, areas, display, disabled = row
    return User(
        name, role, tuple(a for a in (areas or "").split(",") if a), display, bool(disabled)
    )


_USER_COLS = "username, role, areas, display_name, disabled"


class StateStore:
    """The interface both backends give; ``tx`` is a transaction handle from :meth:`transaction`."""

    kind = "abstract"

    # ------------------------------------------------------------------ plumbing
    def _execute(self, tx: Any, sql: str, params: list | tuple = ()) -> Any:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def _one(self, sql: str, params: list | tuple = ()) -> tuple | None:
        with self.transaction() as tx:
            found = self._execute(tx, sql, params).fetchall()
            return found[0] if found else None

    def _all(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        with self.transaction() as tx:
            return self._execute(tx, sql, params).fetchall()

    def _run(self, sql: str, params: list | tuple = ()) -> None:
        with self.transaction() as tx:
            self._execute(tx, sql, params)

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return self.kind

    # ------------------------------------------------------------------ users
    def add_user(
        self,
        username: str,
        password_hash: str,
        role: str,
        areas: tuple[str, ...] = (),
        display_name: str | None = None,
    ) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        self._run(
            "INSERT INTO web_user VALUES (?, ?, ?, ?, ?, ?, FALSE)",
            [username, password_hash, role, ",".join(areas), display_name, _now()],
        )

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        areas: tuple[str, ...] | None = None,
        password_hash: str | None = None,
        disabled: bool | None = None,
    ) -> None:
        if role is not None and role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        with self.transaction() as tx:
            for col, val in (
                ("role", role),
                ("areas", None if areas is None else ",".join(areas)),
                ("password_hash", password_hash),
                ("disabled", disabled),
            ):
                if val is not None:
                    self._execute(
                        tx, f"UPDATE web_user SET {col} = ? WHERE username = ?", [val, username]
                    )
            if password_hash is not None or disabled:
                # a changed password or a disabled account ends every session of that user
                self._execute(tx, "DELETE FROM web_session WHERE username = ?", [username])

    def user(self, username: str) -> User | None:
        return _user(self._one(f"SELECT {_USER_COLS} FROM web_user WHERE username = ?", [username]))

    def password_hash(self, username: str) -> str | None:
        row = self._one(
            "SELECT password_hash FROM web_user WHERE username = ? AND NOT disabled", [username]
        )
        return row[0] if row else None

    def users(self) -> list[User]:
        rows = self._all(f"SELECT {_USER_COLS} FROM web_user ORDER BY username")
        return [u for u in map(_user, rows) if u is not None]

    # ------------------------------------------------------------------ sessions and tokens
    def create_session(self, id_hash: str, username: str, expires_at: dt.datetime) -> None:
        self._run(
            "INSERT INTO web_session VALUES (?, ?, ?, ?)", [id_hash, username, _now(), expires_at]
        )

    def session_user(self, id_hash: str) -> User | None:
        row = self._one(
            f"""SELECT {", ".join("u." + c.strip() for c in _USER_COLS.split(","))}
                FROM web_session s JOIN web_user u ON u.username = s.username
                WHERE s.id_hash = ? AND s.expires_at > ? AND NOT u.disabled""",
            [id_hash, _now()],
        )
        return _user(row)

    def delete_session(self, id_hash: str) -> None:
        self._run("DELETE FROM web_session WHERE id_hash = ?", [id_hash])

    def add_token(self, token_hash: str, username: str, name: str | None) -> None:
        self._run("INSERT INTO web_token VALUES (?, ?, ?, ?)", [token_hash, username, name, _now()])

    def token_user(self, token_hash: str) -> User | None:
        row = self._one(
            f"""SELECT {", ".join("u." + c.strip() for c in _USER_COLS.split(","))}
                FROM web_token t JOIN web_user u ON u.username = t.username
                WHERE t.token_hash = ? AND NOT u.disabled""",
            [token_hash],
        )
        return _user(row)

    # ------------------------------------------------------------------ sign-in failures
    def record_failure(self, username: str, client: str) -> None:
        self._run("INSERT INTO web_login_failure VALUES (?, ?, ?)", [username, client, _now()])

    def failures(self, username: str, client: str, since: dt.datetime) -> tuple[int, dt.datetime]:
        """Failures for this account, or from this client, since ``since``: (count, latest)."""
        row = self._one(
            """SELECT count(*), max(failed_at) FROM web_login_failure
               WHERE (username = ? OR client = ?) AND failed_at > ?""",
            [username, client, since],
        )
        return (row[0], row[1]) if row else (0, None)

    def clear_failures(self, username: str) -> None:
        self._run("DELETE FROM web_login_failure WHERE username = ?", [username])

    # ------------------------------------------------------------------ audit
    def audit(
        self,
        tx: Any,
        *,
        at: dt.datetime,
        username: str,
        action: str,
        area: str | None,
        entity: str,
        key: str,
        before: Any,
        after: Any,
        via: str,
    ) -> None:
        """One audit row, inside the caller's transaction ``tx`` (the change and its record commit together)."""
        self._execute(
            tx,
            "INSERT INTO web_audit VALUES (nextval('web_audit_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [at, username, action, area, entity, key, _json(before), _json(after), via],
        )

    def audit_rows(self, area: str | None = None, limit: int = 200) -> list[dict]:
        cols = "id, changed_at, username, action, area, entity, entity_key, before_value, after_value, via"
        where, params = ("WHERE area = ?", [area]) if area else ("", [])
        rows = self._all(
            f"SELECT {cols} FROM web_audit {where} ORDER BY id DESC LIMIT {int(limit)}", params
        )
        return [dict(zip([c.strip() for c in cols.split(",")], r, strict=True)) for r in rows]

    # ------------------------------------------------------------------ journal (PostgreSQL)
    def journal_append(
        self, tx: Any, at: dt.datetime, username: str, kind: str, area: str, payload: dict
    ) -> int:
        raise NotImplementedError

    def journal_since(self, seq: int) -> list[tuple]:
        return []

    @contextmanager
    def edit_lock(self) -> Iterator[Any]:
        """A transaction in which no other server writes an edit (PostgreSQL: an advisory lock)."""
        with self.transaction() as tx:
            yield tx


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _json(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


class DuckState(StateStore):
    """State in the embedded store: reads on the caller's cursor, writes through the writer."""

    kind = "duckdb"

    def __init__(self, database: Any):
        self.db = database  # cspa.app.web.database.Database
        with self.db.write() as cur:
            cur.execute(SCHEMA)

    def _execute(self, tx: Any, sql: str, params: list | tuple = ()) -> Any:
        return tx.execute(sql, list(params))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.db.write(bump=False) as cur:
            yield cur

    def _one(self, sql: str, params: list | tuple = ()) -> tuple | None:
        if sql.lstrip().upper().startswith("SELECT"):
            with self.db.read() as cur:  # reads never wait for the writer
                found = cur.execute(sql, list(params)).fetchall()
                return found[0] if found else None
        return super()._one(sql, params)

    def _all(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        if sql.lstrip().upper().startswith("SELECT"):
            with self.db.read() as cur:
                return cur.execute(sql, list(params)).fetchall()
        return super()._all(sql, params)

    def describe(self) -> str:
        return f"embedded DuckDB ({self.db.path})"


class PgState(StateStore):
    """State in PostgreSQL (psycopg 3, one connection per thread)."""

    kind = "postgresql"

    def __init__(self, url: str):
        import psycopg

        self.url = url
        self._psycopg = psycopg
        self._local = threading.local()
        self._all_conns: list[Any] = []
        self._conns_lock = threading.Lock()
        with self.transaction() as tx:
            # one server creates the tables at a time
            tx.execute("SELECT pg_advisory_xact_lock(7319001)")
            for stmt in (SCHEMA + PG_SCHEMA).split(";"):
                if stmt.strip():
                    tx.execute(stmt)

    def _conn(self) -> Any:
        c = getattr(self._local, "conn", None)
        if c is None or c.closed:
            c = self._psycopg.connect(self.url)
            self._local.conn = c
            with self._conns_lock:
                self._all_conns.append(c)
        return c

    def _execute(self, tx: Any, sql: str, params: list | tuple = ()) -> Any:
        return tx.execute(sql.replace("?", "%s"), list(params))

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        conn = self._conn()
        with conn.transaction():
            yield conn.cursor()

    def close(self) -> None:
        with self._conns_lock:
            for c in self._all_conns:
                c.close()
            self._all_conns.clear()

    def describe(self) -> str:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(self.url)
        return f"PostgreSQL ({info.get('dbname', '')} on {info.get('host', 'local socket')})"

    def journal_append(
        self, tx: Any, at: dt.datetime, username: str, kind: str, area: str, payload: dict
    ) -> int:
        return tx.execute(
            "INSERT INTO web_edit (edited_at, username, kind, area, payload) VALUES (%s, %s, %s, %s, %s) "
            "RETURNING seq",
            [at, username, kind, area, _json(payload)],
        ).fetchall()[0][0]

    def journal_since(self, seq: int) -> list[tuple]:
        return self._all(
            "SELECT seq, edited_at, username, kind, area, payload FROM web_edit WHERE seq > ? ORDER BY seq",
            [seq],
        )

    @contextmanager
    def edit_lock(self) -> Iterator[Any]:
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(7319002)")
            yield tx


def open_state(url: str | None, database: Any) -> StateStore:
    """``None`` or ``duckdb``: the embedded store; ``postgresql://...``: PostgreSQL."""
    if url and url.startswith(("postgresql://", "postgres://")):
        return PgState(url)
    if url not in (None, "", "duckdb"):
        raise ValueError(f"--state must be a postgresql:// URL or 'duckdb', not {url!r}")
    return DuckState(database)
