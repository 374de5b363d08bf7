"""Editable state on a real PostgreSQL server: users, sessions and the audit trail there, and
edits journaled so that two servers (each with its own copy of the figures) converge and
never overwrite each other's edits."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from cspa.app.web import edits
from tests.web.conftest import form_fields, make_app, sign_in

# one worker runs the module, so its app (a copy of the store) is made once
pytestmark = pytest.mark.xdist_group("web-postgres")

QUARTER = "/areas/821/quarterly?period=2007-08-Q4"


def _two_servers(web_db, tmp_path, url):
    apps = []
    for n in (1, 2):
        path = tmp_path / f"server{n}.duckdb"
        shutil.copy(web_db, path)
        path.chmod(0o644)
        apps.append(make_app(path, state=url))
    return apps


def _close(*apps):
    for a in apps:
        a.state.db.close()
        a.state.state.close()
        path = Path(a.state.db.path)
        for p in path.parent.glob(path.name + "*"):  # large copies: not kept in pytest's folders
            p.unlink(missing_ok=True)


def test_sign_in_and_edit_with_state_in_postgresql(web_db, tmp_path, pg_db):
    (app, other) = _two_servers(web_db, tmp_path, pg_db)
    try:
        c = TestClient(app, follow_redirects=False)
        r = sign_in(c, "editor821")
        assert r.status_code == 303
        f = form_fields(c.get(QUARTER).text, "/areas/821/quarterly/LQ04")
        f.update(target="71", commentary="Entered on server one")
        assert c.post("/areas/821/quarterly/LQ04", data=f).status_code == 303
        with psycopg.connect(pg_db) as pg:
            users = pg.execute("SELECT username, role FROM web_user ORDER BY username").fetchall()
            sessions = pg.execute("SELECT count(*) FROM web_session").fetchone()[0]
            audit = pg.execute(
                "SELECT username, entity_key, after_value FROM web_audit ORDER BY id"
            ).fetchall()
            journal = pg.execute("SELECT kind, area FROM web_edit ORDER BY seq").fetchall()
        assert ("editor821", "editor") in users and sessions == 1
        assert [a[1] for a in audit] == [
            "local target for LQ04 actual, FY2007-08-Q4",
            "commentary of LQ04, FY2007-08-Q4",
        ]
        assert journal == [("target", "821"), ("commentary", "821")]
        # the session lives in PostgreSQL: the other server knows this user's cookie too
        o = TestClient(other, follow_redirects=False)
        o.cookies.set("cspa_session", c.cookies.get("cspa_session"))
        assert "Signed in as <strong>editor821</strong>" in o.get("/").text
        # and, once it has read the journal, shows the edit made on server one
        edits.sync_journal(other.state.db, other.state.state)
        assert "Entered on server one" in o.get(QUARTER).text
    finally:
        _close(app, other)


def test_a_server_started_later_replays_the_journal(web_db, tmp_path, pg_db):
    path1 = tmp_path / "one.duckdb"
    shutil.copy(web_db, path1)
    path1.chmod(0o644)
    one = make_app(path1, state=pg_db)
    try:
        u = one.state.state.user("inspector821")
        m = {
            "year": 2011,
            "ruleset": "profile_2011",
            "judgement": "childrens_services_assessment",
            "action": "override",
            "grade": 2,
            "reason": "journal test",
            "proposed_grade": 3,
        }
        with one.state.db.read() as cur:
            token = edits.current(
                cur, "moderation", "821", edits.normalise("moderation", "821", m)
            ).token
        edits.save(one.state.db, one.state.state, u, "821", [edits.Pending("moderation", m, token)])
    finally:
        _close(one)
    path2 = tmp_path / "two.duckdb"
    shutil.copy(web_db, path2)
    path2.chmod(0o644)
    two = make_app(path2, state=pg_db)  # starts from the figures alone, then reads the journal
    try:
        with two.state.db.read() as cur:
            got = cur.execute(
                "SELECT grade, moderated_by, reason FROM assessment_moderation WHERE area = '821' AND year = 2011 "
                "AND reason = 'journal test'"
            ).fetchall()
        assert got == [(2, "inspector821", "journal test")]
    finally:
        _close(two)


def test_two_servers_never_overwrite_each_other(web_db, tmp_path, pg_db):
    """Editors on two servers save to the same authority at once; every save is kept, in one
    order, on both servers."""
    apps = _two_servers(web_db, tmp_path, pg_db)
    try:
        base = {"indicator": "LQ07", "period": "2007-08-Q4", "field": "commentary"}
        errors = []

        def editor(n: int) -> None:
            app = apps[n % 2]
            db, st = app.state.db, app.state.state
            user = st.user("editor821")
            token = "new"
            for _ in range(60):
                try:
                    edits.save(
                        db,
                        st,
                        user,
                        "821",
                        [edits.Pending("commentary", {**base, "text": f"edit {n}"}, token)],
                    )
                    return
                except edits.Conflicts as c:
                    token = c.conflicts[0].token
            errors.append(n)

        threads = [threading.Thread(target=editor, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for app in apps:
            edits.sync_journal(app.state.db, app.state.state)
        seen = []
        for app in apps:
            with app.state.db.read() as cur:
                seen.append(
                    [
                        t
                        for (t,) in cur.execute(
                            "SELECT text FROM quarterly_text_revision WHERE area = '821' AND indicator = 'LQ07' "
                            "AND field = 'commentary' AND source = 'web form' ORDER BY changed_at, revision"
                        ).fetchall()
                    ]
                )
        assert sorted(seen[0]) == sorted(f"edit {n}" for n in range(8))
        assert seen[0] == seen[1]  # the same history, in the same order, on both servers
        with psycopg.connect(pg_db) as pg:
            n = pg.execute(
                "SELECT count(*) FROM web_audit WHERE entity_key LIKE 'commentary of LQ07%'"
            ).fetchone()[0]
        assert n == 8
    finally:
        _close(*apps)
