"""The note a running server leaves beside its database, so ``cspa load`` can go through it.

DuckDB lets one process write a database file. While ``cspa serve`` runs it is that process, so
``cspa load`` on the same file sends its files to the server's load endpoint instead of failing
on the lock. The note (``<database>.server.json``, readable by its owner only) holds the server's
address, its process id and a token that the server accepts, for that process's lifetime, as an
administrator loading files and as a reader asking for a copy of the data (the same trust as access
to the database file itself). Where the note lives and how it is read is the store's
(:mod:`cspa.store.access`), so that every command sees a running server.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cspa.store.access import running_server, server_note_path


def note_path(db: str | Path) -> Path:
    return server_note_path(db)


def write_note(db: str | Path, url: str) -> str:
    """Write the note; returns the token (kept by the server in memory only as accepted)."""
    token = "cspa_local_" + secrets.token_urlsafe(32)
    path = note_path(db)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "pid": os.getpid(), "token": token}, f)
    return token


def remove_note(db: str | Path) -> None:
    note_path(db).unlink(missing_ok=True)


__all__ = ["note_path", "remove_note", "running_server", "write_note"]
