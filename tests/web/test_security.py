"""Security probes: role rules on every write route, CSRF, stored and reflected XSS, SQL
injection, session fixation, the sign-in rate limit, headers and cookies. Each probe must fail."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, csrf_of, sign_in

# one worker runs the module, so its app (a copy of the store) is made once
pytestmark = pytest.mark.xdist_group("web-security")

XSS = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def post_routes(app) -> list[str]:
    """Every page route that accepts POST (the API is under /api/v1 and uses bearer tokens)."""
    out = []

    def walk(routes) -> None:
        for r in routes:
            inner = getattr(r, "original_router", None)  # a router included by the app
            if inner is not None:
                walk(inner.routes)
            elif "POST" in (getattr(r, "methods", None) or set()) and not r.path.startswith("/api"):
                out.append(r.path.replace("{dfe}", "821").replace("{code}", "NI%2059"))

    walk(app.routes)
    return out


WRITE_ROUTES = [
    "/areas/821/quarterly/NI%2059",
    "/areas/821/assessment/moderations",
    "/admin/users",
    "/admin/loads",
]


def test_the_write_routes_are_the_ones_probed(app):
    assert set(post_routes(app)) == set(WRITE_ROUTES) | {"/sign-in", "/sign-out"}


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_anonymous_is_sent_to_sign_in(client, route):
    token = csrf_of(client.get("/sign-in").text)
    r = client.post(route, data={"csrf_token": token, "year": "2011", "period": "2007-08-Q4"})
    assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize("who", ["viewer1", "editor909"])
def test_viewer_and_another_authoritys_editor_are_refused(client, route, who):
    sign_in(client, who)
    token = csrf_of(client.get("/").text)
    r = client.post(
        route, data={"csrf_token": token, "year": "2011", "period": "2007-08-Q4", "actual": "1"}
    )
    assert r.status_code == 403


def test_editor_cannot_moderate_and_inspector_cannot_edit(client):
    sign_in(client, "editor821")
    token = csrf_of(client.get("/").text)
    assert (
        client.post(
            "/areas/821/assessment/moderations", data={"csrf_token": token, "year": "2011"}
        ).status_code
        == 403
    )
    assert client.post("/admin/users", data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    sign_in(client, "inspector821")
    token = csrf_of(client.get("/").text)
    assert (
        client.post(
            "/areas/821/quarterly/NI%2059", data={"csrf_token": token, "target": "1"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize("route", [*WRITE_ROUTES, "/sign-in", "/sign-out"])
def test_every_form_needs_its_csrf_token(client, app, route):
    sign_in(client, "admin1")
    mine = csrf_of(client.get("/").text)
    assert client.post(route, data={"year": "2011"}).status_code == 403  # none
    assert (
        client.post(
            route,
            data={"csrf_token": mine[:-1] + ("1" if mine[-1] == "0" else "0"), "year": "2011"},
        ).status_code
        == 403
    )  # forged
    other = TestClient(app, follow_redirects=False)
    sign_in(other, "admin1")
    theirs = csrf_of(other.get("/").text)
    assert theirs != mine
    assert (
        client.post(route, data={"csrf_token": theirs, "year": "2011"}).status_code == 403
    )  # another session's


def test_stored_xss_in_commentary_is_shown_as_text(client, app):
    sign_in(client, "editor821")
    page = client.get("/areas/821/quarterly", params={"period": "2007-08-Q4"}).text
    from tests.web.conftest import form_fields

    f = form_fields(page, "/areas/821/quarterly/LQ04")
    f["commentary"] = XSS
    r = client.post("/areas/821/quarterly/LQ04", data=f)
    assert r.status_code == 303
    shown = client.get(r.headers["location"]).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown
    assert "<script>alert" not in shown and "<img src=x" not in shown
    client.cookies.clear()
    sign_in(client, "admin1")
    audit = client.get("/admin").text
    assert "<script>alert" not in audit and "&lt;script&gt;" in audit


@pytest.mark.parametrize(
    "url",
    [
        "/?q=" + XSS,
        "/catalogue?q=" + XSS,
        "/sign-in?next=" + XSS,
        "/areas/821/indicators/" + XSS,
        "/compare?areas=821&indicator=" + XSS,
    ],
)
def test_reflected_xss_is_escaped(client, url):
    r = client.get(url)
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_sign_in_never_redirects_off_site(client):
    for bad in (
        "//evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
    ):
        token = csrf_of(client.get("/sign-in").text)
        r = client.post(
            "/sign-in",
            data={"username": "viewer1", "password": PASSWORD, "csrf_token": token, "next": bad},
        )
        assert r.status_code == 303 and r.headers["location"] == "/"
        client.cookies.clear()


@pytest.mark.parametrize(
    "url, expect",
    [
        ("/?q=' OR 1=1 --", "0 authorities match"),
        ("/?q=%' OR '1'='1", "0 authorities match"),
        ("/catalogue?q=x' OR '1'='1", "0 indicators"),
    ],
)
def test_sql_injection_in_search_matches_nothing(client, url, expect):
    r = client.get(url)
    assert r.status_code == 200 and expect in r.text


def test_sql_injection_in_paths_and_api_filters(client):
    assert client.get("/areas/821' OR '1'='1").status_code == 404
    assert client.get("/areas/821%3B DROP TABLE area").status_code == 404
    r = client.get("/api/v1/areas/821/judgements", params={"indicator": "x' OR '1'='1"}).json()
    assert r["total"] == 0
    r = client.get("/api/v1/areas/821/observations", params={"period": "x') OR TRUE --"}).json()
    assert r["total"] == 0
    assert client.get("/healthz").text.startswith("ok: 1")  # the area table is still there


def test_session_fixation_fails(client):
    client.cookies.set("cspa_session", "attacker-chosen-session-id")
    r = sign_in(client, "editor821")
    issued = r.cookies.get("cspa_session")
    assert issued and issued != "attacker-chosen-session-id"
    attacker = TestClient(client.app, follow_redirects=False)
    attacker.cookies.set("cspa_session", "attacker-chosen-session-id")
    assert "Signed in as" not in attacker.get("/").text
    assert "Signed in as <strong>editor821</strong>" in client.get("/").text


def test_sign_out_ends_the_session_on_the_server(client, app):
    sign_in(client, "editor821")
    sid = client.cookies.get("cspa_session")
    token = csrf_of(client.get("/").text)
    client.post("/sign-out", data={"csrf_token": token})
    replay = TestClient(app, follow_redirects=False)
    replay.cookies.set("cspa_session", sid)
    assert "Signed in as" not in replay.get("/").text


def test_session_cookie_flags(app):
    from cspa.app.web.settings import Settings

    with TestClient(app, follow_redirects=False) as c:
        r = sign_in(c, "viewer1")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    # the app under test runs on loopback without TLS (told so); the default is Secure cookies,
    # and then every cookie the app sets says so
    assert Settings().secure_cookies is True
    app.state.settings = dataclasses.replace(app.state.settings, secure_cookies=True)
    try:
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
            first = c.get("/sign-in")
            r = sign_in(c, "viewer1")
        assert r.status_code == 303 and r.cookies.get("cspa_session")
        for set_cookie in (first.headers["set-cookie"], r.headers["set-cookie"]):
            assert "; secure" in set_cookie.lower() and "httponly" in set_cookie.lower()
    finally:
        app.state.settings = dataclasses.replace(app.state.settings, secure_cookies=False)


def test_passwords_are_kept_only_as_argon2id_hashes(app):
    from argon2 import PasswordHasher

    stored = app.state.state.password_hash("viewer1")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    with app.state.db.read() as cur:  # nowhere in the state tables either
        rows = cur.execute("SELECT * FROM web_user").fetchall()
    assert rows and not any(PASSWORD in str(v) for row in rows for v in row)


def test_repeated_wrong_passwords_are_slowed(app):
    c = TestClient(app, follow_redirects=False, client=("10.9.8.7", 5000))
    codes = []
    for _ in range(6):
        token = csrf_of(c.get("/sign-in").text)
        codes.append(
            c.post(
                "/sign-in",
                data={"username": "admin1", "password": "wrong password!", "csrf_token": token},
            ).status_code
        )
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    # even the right password now waits, and is told how long
    token = csrf_of(c.get("/sign-in").text)
    r = c.post("/sign-in", data={"username": "admin1", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    from cspa.app.web.security import wait_needed

    assert wait_needed(app.state.state, "someone-else", "10.9.8.7") >= 1  # the client too is slowed
    app.state.state.clear_failures("admin1")


def test_an_unknown_user_costs_one_password_check_like_a_known_one(app, monkeypatch):
    # both paths verify an argon2 hash once, so the time taken does not tell which accounts exist
    from cspa.app.web import security

    calls = []
    real = security._hasher

    class Counting:
        def verify(self, h, p):
            calls.append(h)
            return real.verify(h, p)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(security, "_hasher", Counting())
    st = app.state.state
    assert security.sign_in(st, "nobody-here", "x" * 12, "10.1.1.1").user is None
    assert security.sign_in(st, "viewer1", "x" * 12, "10.1.1.2").user is None
    assert len(calls) == 2 and calls[0] == security._DUMMY and calls[1] != security._DUMMY
    st.clear_failures("nobody-here")
    st.clear_failures("viewer1")


def test_an_authoritys_quarterly_report_is_for_its_own_people(client):
    url = "/areas/821/quarterly?period=2007-08-Q4"
    assert client.get(url).status_code == 303  # anonymous: sign in first
    for who, status in (
        ("viewer1", 403),
        ("editor909", 403),
        ("editor821", 200),
        ("inspector821", 200),
        ("admin1", 200),
    ):
        client.cookies.clear()
        sign_in(client, who)
        assert client.get(url).status_code == status, who
        r = client.get(
            "/areas/821/reports/quarterly", params={"format": "json", "period": "2007-08-Q4"}
        )
        assert r.status_code == status, who
