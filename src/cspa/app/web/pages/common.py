"""What every page shares: the templates, who is asking, the CSRF check, errors, the area lookup.

Templates are Jinja2 with autoescaping on for every file (a user's commentary or a hostile query
string is text on the page, never markup); the views hand them computed values only.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from cspa.app.web import queries, security
from cspa.app.web.database import Database
from cspa.app.web.state import StateStore, User

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["urlquote"] = lambda v: urllib.parse.quote(str(v), safe="")

ROLE_NAMES = {
    "viewer": "viewer",
    "editor": "authority editor",
    "inspector": "inspector",
    "admin": "administrator",
}
env.globals["role_names"] = ROLE_NAMES


def db(request: Request) -> Database:
    return request.app.state.db


def state(request: Request) -> StateStore:
    return request.app.state.state


def user(request: Request) -> User | None:
    return request.state.user


def sees_private(request: Request, area_code: str | None) -> bool:
    """Whether the reader sees ``area_code``'s figures not yet published (typed through the
    quarterly template or the web form): its own editors, its inspectors and administrators; with
    None, whether they see every authority's (administrators only)."""
    u = user(request)
    if u is None:
        return False
    if area_code is None:
        return u.role == "admin"
    return u.reads_internal(area_code)


def is_viewer(request: Request) -> bool:
    u = user(request)
    return u is None or not u.sees_unpublished


def _page_key(request: Request, template: str, area_code: str | None) -> tuple:
    d = db(request)
    return (
        d.version,
        "page",
        d.area_versions.get(area_code, 0) if area_code else None,
        template,
        request.url.path,
        request.url.query,
    )


def _cacheable(request: Request) -> bool:
    return user(request) is None and request.method == "GET"


def cached_page(
    request: Request, template: str, area_code: str | None = None
) -> HTMLResponse | None:
    """The page as last rendered for anonymous readers at this data version, if it is kept."""
    if not _cacheable(request):
        return None
    hit = db(request).cache.get(_page_key(request, template, area_code))
    return HTMLResponse(hit) if hit is not None else None


def render(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict | None = None,
    public: bool = False,
    **ctx: Any,
) -> HTMLResponse:
    """The page. ``public``: a read-only page whose HTML is the same for every anonymous reader
    (no form token, no name): kept per data version (and per authority version for an
    authority's page), so :func:`cached_page` can serve it again without computing it."""
    html = env.get_template(template).render(
        request=request,
        user=user(request),
        csrf=request.state.csrf,
        path=request.url.path,
        **ctx,
    )
    if public and status_code == 200 and _cacheable(request):
        a = ctx.get("area")
        code = a["code"] if isinstance(a, dict) and "code" in a else None
        db(request).cache.put(_page_key(request, template, code), html)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def error_page(request: Request, status: int, detail: str, headers: dict | None = None):
    titles = {
        400: "There is a problem with the request",
        401: "Sign in to continue",
        403: "You cannot do that",
        404: "Page not found",
        405: "That cannot be done here",
        409: "Someone else changed this first",
        429: "Too many attempts",
    }
    if not hasattr(request.state, "csrf"):
        request.state.csrf = ""
        request.state.user = None
    return render(
        request,
        "error.html",
        status_code=status,
        headers=headers,
        title=titles.get(status, "Sorry, there is a problem with the service"),
        detail=detail,
        status=status,
    )


async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """The posted form, once its CSRF token is checked (403 without a valid one); its uploaded
    files are closed when the request is done."""
    form = await request.form()
    try:
        token = form.get("csrf_token") or request.headers.get("x-csrf-token")
        if not security.csrf_ok(
            request.app.state.secret, request.state.csrf_base, str(token or "")
        ):
            raise HTTPException(
                403,
                "This form has expired or did not come from this site (its security token did not "
                "match). Go back, reload the page and try again.",
            )
        yield form
    finally:
        await form.close()


def require_user(request: Request) -> User:
    """The signed-in user; anyone else is sent to sign in (then back here)."""
    u = user(request)
    if u is None:
        raise SignInRequired(
            request.url.path + (("?" + request.url.query) if request.url.query else "")
        )
    return u


class SignInRequired(HTTPException):
    def __init__(self, back: str):
        super().__init__(303, "Sign in to continue", headers={"Location": sign_in_url(back)})


def sign_in_url(back: str) -> str:
    return "/sign-in?" + urllib.parse.urlencode({"next": back})


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def area_or_404(request: Request, dfe: str) -> dict:
    with db(request).read() as cur:
        a = db(request).cached(("area", dfe), lambda: queries.area(cur, dfe))
    if a is None:
        raise HTTPException(404, f"There is no local authority with DfE number {dfe!r}.")
    return a


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def quarterly_periods(request: Request, area_code: str) -> list[str]:
    """Report periods (e.g. FY2007-08-Q4) with quarterly targets or words for the area, newest first."""
    d = db(request)

    def find() -> list[str]:
        with d.read() as cur:
            got = cur.execute(
                """SELECT DISTINCT period FROM quarterly_text WHERE area = ?
                   ORDER BY period DESC""",
                [area_code],
            ).fetchall()
        return [r[0] for r in got]

    return d.cached(("qperiods", area_code), find)
