"""Fixtures for the web app: a prepared copy of the demo store, an app with one user per role,
a test client, and a real uvicorn server on loopback for the browser journeys.

The prepared store (the demo database with the engine's stored build and the web tables) is
built once per set of inputs, like the demo database, and shared read-only; every module that
writes works on its own copy.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSWORD = "correct horse battery staple"
#: username -> (role, authorities)
USERS = {
    "viewer1": ("viewer", ()),
    "editor821": ("editor", ("821",)),
    "editor909": ("editor", ("909",)),
    "inspector821": ("inspector", ("821",)),
    "admin1": ("admin", ()),
}


@pytest.fixture(scope="session")
def web_db(demo_db) -> Path:
    """The demo store prepared for the web app (stored judgements, web tables), read-only."""
    from cspa.app.web.database import Database, prepare
    from tests.conftest import shared_file

    def build(path: Path) -> None:
        shutil.copy(demo_db, path)
        path.chmod(0o644)
        db = Database(path)
        prepare(db)
        db.close()
        # the writer lock's file the Database held (cspa.store.access.WriterLock)
        path.with_name(path.name + ".lock").unlink(missing_ok=True)

    return shared_file("web", ".duckdb", build)


def make_app(db_path: Path, state: str | None = None):
    from cspa.app.web.app import create_app
    from cspa.app.web.security import hash_password
    from cspa.app.web.settings import Settings

    app = create_app(Settings(db=db_path, state=state, secure_cookies=False, secret="test-secret"))
    hashed = hash_password(PASSWORD)
    st = app.state.state
    for name, (role, areas) in USERS.items():
        if st.user(name) is None:
            st.add_user(name, hashed, role, areas)
    return app


@pytest.fixture(scope="module")
def web_copy(web_db, tmp_path_factory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("web") / "cspa.duckdb"
    shutil.copy(web_db, path)
    path.chmod(0o644)
    yield path
    # the copy is large (the stored build): not kept among pytest's last runs' folders
    for p in path.parent.glob("cspa.duckdb*"):
        p.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def app(web_copy):
    a = make_app(web_copy)
    yield a
    a.state.state.close()
    a.state.db.close()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/sign-in").text)
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
    )


def form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden and text fields of the form posting to ``action``."""
    m = re.search(r'<form method="post" action="' + re.escape(action) + r'".*?</form>', html, re.S)
    assert m, f"no form for {action}"
    return dict(re.findall(r'name="([^"]+)"(?: type="[^"]*")? value="([^"]*)"', m.group(0)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving an app on loopback in a thread of this process."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# ------------------------------------------------------------------ PostgreSQL


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def pg_url(tmp_path_factory):
    """A throwaway PostgreSQL server (Debian's ``postgresql`` package, which .ci/run installs)
    on a Unix socket in a temporary folder; as root it runs as the ``postgres`` user."""
    import os
    import subprocess

    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL is not installed (apt-get install -y postgresql); PostgreSQL state tests skipped"
        )
    root = Path(tempfile.mkdtemp(prefix="cspa-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    root.chmod(0o755)
    port = free_port()
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *run_as,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(root / "log"),
            "-w",
            "-o",
            f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_db(pg_url):
    """A fresh database on the throwaway server for one test."""
    import uuid

    import psycopg

    name = "cspa_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    yield pg_url.replace("/postgres?", f"/{name}?")
