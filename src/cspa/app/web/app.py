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
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from cspa.app.web import api, security
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


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or Settings()
    db = database or Database(settings.db)
    state = open_state(settings.state, db)
    # read the catalogue and the areas now, not at the first request
    load_catalogue()
    load_areas()
    if settings.prepare:
        prepare(db, log=log.info)
    sync_journal(db, state)

    app = FastAPI(
        title="cspa",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the pages are not an API; the API publishes its own document
    )
    app.state.settings = settings
    app.state.db = db
    app.state.state = state
    app.state.secret = settings.secret or secrets.token_urlsafe(32)

    @app.middleware("http")
    async def identify(request: Request, call_next):
        """Who is asking, the CSRF base for their forms, and the security headers on every answer."""
        request.state.user = None
        sid = request.cookies.get(security.SESSION_COOKIE)
        if sid:
            request.state.user = await _run(state.session_user, security.digest(sid))
        pre = request.cookies.get(security.PRE_COOKIE)
        new_pre = None
        if request.state.user is None:
            sid = None
            if not pre or len(pre) > 64:
                pre = new_pre = secrets.token_urlsafe(24)
        request.state.csrf_base = ("s:" + sid) if sid else ("p:" + (pre or ""))
        request.state.csrf = security.csrf_token(app.state.secret, request.state.csrf_base)
        response: Response = await call_next(request)
        if new_pre:
            response.set_cookie(
                security.PRE_COOKIE,
                new_pre,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
                path="/",
            )
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.state.user is not None and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-store"
        return response

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
        return PlainTextResponse(f"ok: {n} areas, data version {db.version}")

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

    return app


async def _run(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)
