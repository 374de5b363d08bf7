"""``/catalogue``: every indicator's definition, and where each data set comes from."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, HTTPException, Request

from cspa.app.web import queries
from cspa.app.web.pages.common import db, render
from cspa.catalogue.load import load_catalogue

router = APIRouter()


@router.get("/catalogue")
def catalogue_page(request: Request, framework: str | None = None, q: str | None = None):
    d = db(request)
    q = (q or "").strip()[:100] or None
    cat = load_catalogue()
    fws = sorted(cat.frameworks.values(), key=lambda f: f.id)
    fw = framework if framework in cat.frameworks else None
    with d.read() as cur:
        inds = d.cached(("indicators", fw, q), lambda: queries.indicators(cur, fw, q))
    grouped: dict[str, list[dict]] = defaultdict(list)
    for i in inds:
        grouped[
            f"{cat.frameworks[i['framework']].title if i['framework'] in cat.frameworks else i['framework']}: {i['topic']}"
        ].append(i)
    return render(
        request,
        "catalogue.html",
        public=True,
        title="Indicators and sources",
        frameworks=fws,
        framework=fw,
        q=q,
        grouped=dict(sorted(grouped.items())),
        count=len(inds),
    )


@router.get("/catalogue/{code}")
def definition_page(request: Request, code: str):
    d = db(request)
    with d.read() as cur:
        ind = d.cached(("indicator", code), lambda: queries.indicator(cur, code))
    if ind is None:
        raise HTTPException(404, f"There is no indicator {code!r} in the catalogue.")
    return render(request, "definition.html", public=True, title=ind["title"], indicator=ind)
