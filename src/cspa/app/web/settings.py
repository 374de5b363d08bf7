"""The web app's settings: where the figures are, where editable state lives, cookie policy."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cspa.store.database import default_path


@dataclass(frozen=True)
class Settings:
    #: the DuckDB store (figures, catalogue, quarterly and assessment tables)
    db: Path = field(default_factory=default_path)
    #: None or "duckdb": editable state in the store; "postgresql://...": in PostgreSQL
    state: str | None = field(default_factory=lambda: os.environ.get("CSPA_STATE") or None)
    #: signs CSRF tokens; a new random one per start unless $CSPA_SECRET is set (then sessions
    #: outlive a restart, since the session ids themselves are stored)
    secret: str | None = field(default_factory=lambda: os.environ.get("CSPA_SECRET") or None)
    #: cookies marked Secure (only sent over HTTPS). Off only for a server on loopback without TLS,
    #: where browsers would not send a Secure cookie over http.
    secure_cookies: bool = True
    #: build the engine's stored judgements at start if missing or stale
    prepare: bool = True
    #: warm the caches in the background after the start (``cspa serve`` does; tests need not)
    warm: bool = False
    #: request threads at once (DuckDB queries and page rendering hold the GIL in turns: a few
    #: threads keep latency low under load, measured in bench/web.py)
    threads: int = 8
