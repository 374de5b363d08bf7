"""``cspa load`` while the server runs: send the files to the server, which holds the database."""

from __future__ import annotations

import urllib.parse
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
    import httpx

    out = [f"The server at {note['url']} holds {db}: loading through it."]
    for f in files:
        path = Path(f)
        if not path.is_file():
            raise CspaError(f"{path}: no such file")
        params = {
            k: v
            for k, v in {
                "filename": path.name,
                "vintage": vintage,
                "source": source,
                "licence": licence,
            }.items()
            if v
        }
        url = f"{note['url']}/api/v1/loads?{urllib.parse.urlencode(params)}"
        try:
            r = httpx.post(
                url,
                content=path.read_bytes(),
                headers={"Authorization": f"Bearer {note['token']}"},
                timeout=600,
            )
        except httpx.HTTPError as e:
            raise CspaError(
                f"The server at {note['url']} did not answer ({type(e).__name__}); nothing was loaded from {path.name}."
            ) from None
        body = (
            r.json()
            if r.headers.get("content-type", "").startswith("application/json")
            else {"error": r.text}
        )
        if r.status_code != 201:
            problems = "\n  ".join(body.get("problems") or [])
            raise CspaError(
                f"{path.name} was refused by the server: {body.get('error')}"
                + (f"\n  {problems}" if problems else "")
            )
        out.append(
            f"Loaded {body['rows']:,} rows from {path.name} (load {', '.join(map(str, body['load_ids']))}; {body['superseded']:,} earlier rows kept as history)."
        )
    return out
