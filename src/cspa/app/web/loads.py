"""Loading a file of figures through the server (the admin page, the API, and ``cspa load`` while
the server holds the database): the same validation and all-or-nothing load as ``cspa load``
(:func:`cspa.store.ingest.load_files`), written by the one writer, audited, then the judgements
rebuilt in the background."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from cspa.app.web.database import Database
from cspa.app.web.state import StateStore, User
from cspa.store.ingest import load_files


def load_upload(
    db: Database,
    state: StateStore,
    user: User,
    filename: str,
    content: bytes,
    *,
    vintage: str | None = None,
    source: str | None = None,
    licence: str | None = None,
    via: str = "page",
) -> dict:
    if user.role != "admin":
        raise PermissionError(f"{user.username} is not an administrator")
    name = Path(filename or "upload.csv").name
    if Path(name).suffix.lower() not in (".csv", ".xlsx", ".parquet"):
        raise ValueError(f"{name}: load a .csv, .xlsx or .parquet file")
    with tempfile.TemporaryDirectory(prefix="cspa-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        with db.write() as cur:
            results = load_files(
                db.nested_store(cur),
                [path],
                vintage=vintage or None,
                source=source or None,
                licence=licence or None,
                loaded_by=user.username,
            )
            ids = [r.load_id for r in results]
            loaded = tuple(
                i
                for (i,) in cur.execute(
                    "SELECT DISTINCT indicator FROM observation WHERE load_id IN (SELECT unnest(?))",
                    [ids],
                ).fetchall()
            )
            summary = {
                "file": name,
                "indicators": len(loaded),
                "rows": sum(r.rows for r in results),
                "load_ids": [r.load_id for r in results],
                "superseded": sum(r.superseded for r in results),
            }
            with state.edit_lock() as tx:
                state.audit(
                    tx if state.kind == "postgresql" else cur,
                    at=at,
                    username=user.username,
                    action="load",
                    area=None,
                    entity="file",
                    key=name,
                    before=None,
                    after=summary,
                    via=via,
                )
    # the stored build and the loaded indicators' web rows are remade off the request
    db.schedule_refresh(loaded, rejudge=True)
    return summary
