"""``/sign-in`` and ``/sign-out``: argon2 passwords, a fresh session id at every sign-in, and the
sign-in rate limit (:mod:`cspa.app.web.security`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from cspa.app.web import security
from cspa.app.web.pages.common import checked_form, client_of, redirect, render, state

router = APIRouter()


def _safe_next(url: str | None) -> str:
    """Only a path on this site (never //evil.example or https://...): no open redirect."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None):
    return render(request, "sign_in.html", title="Sign in", next=_safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request, form: FormData = Depends(checked_form)):
    username = str(form.get("username") or "")[:100]
    password = str(form.get("password") or "")[:1000]
    nxt = _safe_next(str(form.get("next") or "/"))
    st = state(request)
    result = await run_in_threadpool(security.sign_in, st, username, password, client_of(request))
    if result.retry_after:
        return render(
            request,
            "sign_in.html",
            status_code=429,
            headers={"Retry-After": str(result.retry_after)},
            title="Sign in",
            next=nxt,
            error=f"Too many wrong attempts. Wait {result.retry_after} seconds, then try again.",
            username=username,
        )
    if result.user is None:
        return render(
            request,
            "sign_in.html",
            status_code=401,
            title="Sign in",
            next=nxt,
            error="The username or password is not right.",
            username=username,
        )
    old = request.cookies.get(security.SESSION_COOKIE)
    if old:
        await run_in_threadpool(st.delete_session, security.digest(old))
    sid = await run_in_threadpool(security.start_session, st, result.user)
    resp = redirect(nxt)
    resp.set_cookie(
        security.SESSION_COOKIE,
        sid,
        max_age=security.SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )
    return resp


@router.post("/sign-out")
async def sign_out(request: Request, form: FormData = Depends(checked_form)):
    sid = request.cookies.get(security.SESSION_COOKIE)
    if sid:
        await run_in_threadpool(state(request).delete_session, security.digest(sid))
    resp = redirect("/")
    resp.delete_cookie(security.SESSION_COOKIE, path="/")
    return resp
