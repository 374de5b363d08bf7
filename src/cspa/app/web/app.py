"""The ASGI application: pages, the JSON API under ``/api/v1``, static files, ``/healthz``.

:func:`create_app` wires one :class:`~cspa.app.web.database.Database` (the DuckDB store, held
by this process), one state store (:mod:`cspa.app.web.state`) and the page modules (one per page
kind, under :mod:`cspa.app.web.pages`). Every request learns who is asking (session cookie, or a
bearer token for the API) in :func:`identify`; pages that change anything check a CSRF token
(:func:`cspa.app.web.pages.common.checked_form`) and the role rules (:mod:`cspa.app.web.state`'s
``User``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from cspa.app.web import api, security, warm
from cspa.app.web.database import Database, prepare
from cspa.app.web.edits import sync_journal
from cspa.app.web.pages import (
    account,
    admin,
    areas,
    assessment,
    catalogue,
    common,
    compare,
    downloads,
    home,
    indicators,
    quarterly,
)
from cspa.app.web.settings import Settings
from cspa.app.web.state import open_state
from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue

HERE = Path(__file__).resolve().parent
OUTPUT_STATIC = HERE.parents[1] / "outputs" / "static"
log = logging.getLogger("cspa.web")

# Content Security Policy: nothing inline, nothing from elsewhere (the stylesheets and the one
# script are served by the app itself; charts are inline SVG, which CSP does not restrict).
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    on_shutdown: Callable[[], None] | None = None,
) -> FastAPI:
    """The app; ``on_shutdown`` runs when the server stops (uvicorn's lifespan), before it exits."""
    settings = settings or Settings()
    db = database or Database(settings.db)
    state = open_state(settings.state, db)
    # read the catalogue and the areas now, not at the first request
    load_catalogue()
    load_areas()
    if settings.prepare:
        prepare(db, log=log.info)
    sync_journal(db, state)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="cspa",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the pages are not an API; the API publishes its own document
    )
    app.state.settings = settings
    app.state.db = db
    app.state.state = state
    app.state.secret = settings.secret or secrets.token_urlsafe(32)

    app.add_middleware(Identify, web=app)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        return common.error_page(request, exc.status_code, str(exc.detail), exc.headers)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        """Answers 200 when the store can be read."""
        try:
            with db.read() as cur:
                n = cur.execute("SELECT count(*) FROM area").fetchall()[0][0]
        except Exception as e:  # any failure to read is "not healthy", said as such
            return PlainTextResponse(f"store not readable: {type(e).__name__}", status_code=503)
        warmth = getattr(app.state, "warm", None)
        return PlainTextResponse(
            f"ok: {n} areas, data version {db.version}" + (f", caches {warmth}" if warmth else "")
        )

    app.mount("/static/govuk", StaticFiles(directory=OUTPUT_STATIC / "vendor" / "govuk-frontend"))
    app.mount("/static/cspa", StaticFiles(directory=OUTPUT_STATIC))
    app.mount("/static/web", StaticFiles(directory=HERE / "static"))
    for module in (
        home,
        areas,
        indicators,
        compare,
        quarterly,
        assessment,
        catalogue,
        downloads,
        account,
        admin,
    ):
        app.include_router(module.router)
    app.mount("/api/v1", api.create_api(app))
    if settings.warm:
        app.state.warm_thread = warm.start(app)

    return app


class Identify:
    """Who is asking, the CSRF base for their forms, and the security headers on every answer.

    A plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which copies every response
    body through a stream: measured in bench/web.py, it cost more than rendering a cached page).
    """

    def __init__(self, app, web: FastAPI):
        self.app = app
        self.web = web
        self.limited = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        web = self.web
        if not self.limited:
            # how many requests run in threads at once (anyio's default is 40)
            anyio.to_thread.current_default_thread_limiter().total_tokens = (
                web.state.settings.threads
            )
            self.limited = True
        request = Request(scope)
        user = None
        sid = request.cookies.get(security.SESSION_COOKIE)
        if sid and len(sid) <= 100:
            user = await run_in_threadpool(web.state.state.session_user, security.digest(sid))
        pre = request.cookies.get(security.PRE_COOKIE)
        new_pre = None
        if user is None:
            sid = None
            if not pre or len(pre) > 64:
                pre = new_pre = secrets.token_urlsafe(24)
        base = ("s:" + sid) if sid else ("p:" + (pre or ""))
        st = scope.setdefault("state", {})
        st["user"] = user
        st["csrf_base"] = base
        st["csrf"] = security.csrf_token(web.state.secret, base)
        secure = web.state.settings.secure_cookies

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                if new_pre:
                    h.append(
                        "set-cookie",
                        f"{security.PRE_COOKIE}={new_pre}; HttpOnly; Path=/; SameSite=lax"
                        + ("; Secure" if secure else ""),
                    )
                for k, v in SECURITY_HEADERS.items():
                    if k not in h:
                        h[k] = v
                if user is not None and "cache-control" not in h:
                    h["Cache-Control"] = "private, no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
