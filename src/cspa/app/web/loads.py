"""Loading files of figures through the server (the admin page, the API, and ``cspa load`` while
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
    """One uploaded file: :func:`load_uploads` with one file."""
    return load_uploads(
        db,
        state,
        user,
        [(filename, content)],
        vintage=vintage,
        source=source,
        licence=licence,
        via=via,
    )


def load_uploads(
    db: Database,
    state: StateStore,
    user: User,
    files: list[tuple[str, bytes]],
    *,
    vintage: str | None = None,
    source: str | None = None,
    licence: str | None = None,
    via: str = "page",
) -> dict:
    """Several files as one load, as ``cspa load a.csv b.csv`` is: checked together (a key given by
    two of them, or one file given twice, is refused naming both) and written all or nothing."""
    if user.role != "admin":
        raise PermissionError(f"{user.username} is not an administrator")
    if not files:
        raise ValueError("no file to load")
    names = []
    for filename, _content in files:
        name = Path(filename or "upload.csv").name
        if Path(name).suffix.lower() not in (".csv", ".xlsx", ".parquet"):
            raise ValueError(f"{name}: load a .csv, .xlsx or .parquet file")
        names.append(name)
    with tempfile.TemporaryDirectory(prefix="cspa-upload-") as tmp:
        paths = []
        for i, (name, (_f, content)) in enumerate(zip(names, files, strict=True)):
            # each file in a folder of its own: two files of one name from different folders
            # stay two files (and are checked against each other like any two)
            folder = Path(tmp) / str(i)
            folder.mkdir()
            path = folder / name
            try:
                path.write_bytes(content)
            except OSError as e:  # a name no file can have here (too long, say): the sender's slip
                raise ValueError(
                    f"{name[:80]}: not a name a file can have here ({e.strerror})"
                ) from None
            paths.append(path)
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        with db.write() as cur:
            results = load_files(
                db.nested_store(cur),
                paths,
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
                "file": ", ".join(names),
                "indicators": len(loaded),
                "rows": sum(r.rows for r in results),
                "load_ids": ids,
                "superseded": sum(r.superseded for r in results),
                "files": [
                    {
                        "file": name,
                        "rows": r.rows,
                        "load_id": r.load_id,
                        "superseded": r.superseded,
                    }
                    for name, r in zip(names, results, strict=True)
                ],
            }
            with state.edit_lock() as tx:
                state.audit(
                    tx if state.kind == "postgresql" else cur,
                    at=at,
                    username=user.username,
                    action="load",
                    area=None,
                    entity="file",
                    key=", ".join(names),
                    before=None,
                    after=summary,
                    via=via,
                )
    # the stored build and the loaded indicators' web rows are remade off the request
    db.schedule_refresh(loaded, rejudge=True)
    return summary


def load_template_upload(
    db: Database,
    state: StateStore,
    user: User,
    filename: str,
    content: bytes,
    *,
    loaded_by: str,
    via: str = "api",
) -> dict:
    """A filled-in quarterly template loaded by the server that holds the database, as ``cspa
    quarterly load`` loads it without one: validated whole, conflicting edits refused, every change
    kept with ``loaded_by`` (the person ``cspa quarterly load --user`` names) and the time."""
    from cspa.catalogue.areas import load_areas
    from cspa.quarterly.load import load_template

    if user.role != "admin":
        raise PermissionError(f"{user.username} is not an administrator")
    name = Path(filename or "template.xlsx").name
    if Path(name).suffix.lower() not in (".xlsx", ".xlsm"):
        raise ValueError(f"{name}: a quarterly template is an .xlsx workbook")
    with tempfile.TemporaryDirectory(prefix="cspa-template-") as tmp:
        path = Path(tmp) / name
        try:
            path.write_bytes(content)
        except OSError as e:
            raise ValueError(
                f"{name[:80]}: not a name a file can have here ({e.strerror})"
            ) from None
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        with db.write() as cur:
            summary = load_template(db.nested_store(cur), path, loaded_by)
            summary["file"] = name
            area = load_areas().resolve(summary["area"]).code
            db.bump_area(area)  # its quarterly report and pages are made again
            changed: tuple[str, ...] = ()
            if summary.get("observation_load_id"):
                changed = tuple(
                    i
                    for (i,) in cur.execute(
                        "SELECT DISTINCT indicator FROM observation WHERE load_id = ?",
                        [summary["observation_load_id"]],
                    ).fetchall()
                )
            with state.edit_lock() as tx:
                state.audit(
                    tx if state.kind == "postgresql" else cur,
                    at=at,
                    username=loaded_by,
                    action="quarterly template",
                    area=area,
                    entity="file",
                    key=name,
                    before=None,
                    after={k: v for k, v in summary.items() if k != "file"},
                    via=via,
                )
    if changed:  # the figures it changed are judged again off the request
        db.schedule_refresh(changed)
    return summary
