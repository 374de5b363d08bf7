"""``cspa load`` while the server runs: send the files to the server, which holds the database."""

from __future__ import annotations

from pathlib import Path

from cspa.app.web.serverfile import running_server
from cspa.errors import CspaError


def load_through_server(
    db: Path, files: list[Path], vintage: str | None, source: str | None, licence: str | None
) -> list[str] | None:
    """Lines to print after loading through the running server, or None when no server runs."""
    note = running_server(db)
    if note is None:
        return None

    out = [f"The server at {note['url']} holds {db}: loading through it."]
    parts = []
    seen: set[Path] = set()
    for f in files:
        path = Path(f)
        if path.resolve() in seen:
            raise CspaError(
                f"{path.name}: given twice in this load (the same file): give each file once; "
                "nothing was loaded"
            )
        seen.add(path.resolve())
        if path.is_dir():
            raise CspaError(
                f"{path}: is a folder, not a file: give the files in it; nothing was loaded"
            )
        if not path.is_file():
            raise CspaError(f"{path}: file not found; nothing was loaded")
        parts.append(("file", (path.name, path.read_bytes(), "application/octet-stream")))
    # every file in one request: the server checks them together and writes all or nothing, as
    # ``cspa load`` does without a server
    params = {
        k: v for k, v in {"vintage": vintage, "source": source, "licence": licence}.items() if v
    }
    names = ", ".join(Path(f).name for f in files)
    # a refused load's error lists its problems (file, row, column)
    body = _post_load(note, "loads", names, params=params, files=parts)
    for one in body.get("files") or [body]:
        out.append(
            f"Loaded {one['rows']:,} rows from {one['file']} (load {one.get('load_id') or ', '.join(map(str, body['load_ids']))}; "
            f"{one['superseded']:,} earlier rows kept as history)."
        )
    return out


def snapshot_from_server(db: Path) -> Path | None:
    """The file of the last committed data, from the server running on ``db`` (it holds the file,
    which DuckDB lets no other process open), or None when no server runs or it cannot answer (the
    command then waits for the database as it would for any other program)."""
    note = running_server(db)
    if note is None:
        return None
    import httpx

    try:
        r = httpx.post(
            f"{note['url']}/api/v1/snapshot",
            headers={"Authorization": f"Bearer {note['token']}"},
            timeout=300,
        )
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    path = Path(r.json().get("path", ""))
    return path if path.is_file() else None


def template_through_server(db: Path, file: Path, user: str) -> dict | None:
    """``cspa quarterly load`` while the server runs: the server loads the workbook (it holds the
    database) and answers with the counts; None when no server runs."""
    note = running_server(db)
    if note is None:
        return None

    path = Path(file)
    if path.is_dir():
        raise CspaError(f"{path.name}: is a folder, not a template workbook")
    if not path.is_file():
        raise CspaError(f"{path.name}: file not found")
    return _post_load(
        note,
        "quarterly/templates",
        path.name,
        params={"filename": path.name, "loaded_by": user},
        content=path.read_bytes(),
    )


def _post_load(note: dict, route: str, names: str, **request) -> dict:
    """POST a load to the running server's API; its JSON answer, or a named refusal when it does
    not answer or refuses (nothing is loaded then)."""
    import httpx

    try:
        r = httpx.post(
            f"{note['url']}/api/v1/{route}",
            headers={"Authorization": f"Bearer {note['token']}"},
            timeout=600,
            **request,
        )
    except httpx.HTTPError as e:
        raise CspaError(
            f"The server at {note['url']} did not answer ({type(e).__name__}); nothing was loaded from {names}."
        ) from None
    body = (
        r.json()
        if r.headers.get("content-type", "").startswith("application/json")
        else {"error": r.text}
    )
    if r.status_code != 201:
        raise CspaError(f"{names} refused by the server: {body.get('error')}")
    return body
