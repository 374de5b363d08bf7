"""``/``: find an authority by name, DfE number or ONS code."""

from __future__ import annotations

from fastapi import APIRouter, Request

from cspa.app.web import queries
from cspa.app.web.pages.common import db, render

router = APIRouter()


@router.get("/")
def home(request: Request, q: str | None = None):
    d = db(request)
    q = (q or "").strip()[:100] or None
    with d.read() as cur:
        found = d.cached(("areas", q), lambda: queries.areas(cur, q))
        every = found if q is None else d.cached(("areas", None), lambda: queries.areas(cur))
    return render(
        request,
        "home.html",
        public=True,
        title="Find a local authority",
        q=q,
        found=found,
        every=every,
    )
