"""``/areas/{dfe}/assessment``: the performance profile, the proposed grades, their moderation and
the letter. An inspector assigned to the authority confirms or overrides each grade, with a reason;
the letter is rebuilt from the moderated grades (:mod:`cspa.assessment.moderation`)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from cspa.app.reports import ReportRequest, build_report
from cspa.app.web import edits
from cspa.app.web.pages.common import (
    area_or_404,
    checked_form,
    db,
    redirect,
    render,
    require_user,
    state,
)
from cspa.app.web.reports_menu import assessment_spans
from cspa.assessment.ruleset import load_rulesets
from cspa.errors import CspaError

router = APIRouter()


def documents(
    request: Request, area_code: str, year: int, ruleset: str
) -> tuple[dict | None, dict]:
    """The letter and the performance profile (None where the rule set defines none: the APA's)."""
    d = db(request)

    def build(kind: str) -> dict:
        with d.read() as cur:
            return build_report(
                cur, ReportRequest(kind=kind, area=area_code, year=year, ruleset=ruleset), "html"
            )

    letter = d.cached(("letter", area_code, year, ruleset), lambda: build("letter"), area=area_code)
    profile = (
        d.cached(("profile", area_code, year, ruleset), lambda: build("profile"), area=area_code)
        if load_rulesets()[ruleset].profile is not None
        else None
    )
    return profile, letter


def proposal_for(letter: dict, judgement: str) -> dict:
    """The proposed grade the letter was drafted from (computed by the server, never the form)."""
    g = next((g for g in letter["grades"] if g["judgement_id"] == judgement), None)
    if g is None:
        raise HTTPException(400, f"The letter has no judgement {judgement!r}.")
    return g


def _year(a: dict, year: int | None) -> tuple[int, str, list[dict]]:
    """The year asked for (default: the latest assessed) and the rule set covering it, with every
    rule set's years for the authority (:func:`assessment_spans`)."""
    spans = assessment_spans(a)
    if not spans:
        raise HTTPException(404, f"No assessment rule set covers {a['name']}.")
    if year is None:
        return spans[0]["years"][-1], spans[0]["ruleset"], spans
    for s in spans:
        if year in s["years"]:
            return year, s["ruleset"], spans
    offered = "; ".join(f"{s['years'][0]}-{s['years'][-1]} ({s['ruleset']})" for s in spans)
    raise HTTPException(404, f"No assessment of {a['name']} for {year}; years: {offered}.")


@router.get("/areas/{dfe}/assessment")
def assessment_page(request: Request, dfe: str, year: int | None = None, saved: str | None = None):
    a = area_or_404(request, dfe)
    y, rs, spans = _year(a, year)
    try:
        profile, letter = documents(request, a["code"], y, rs)
    except CspaError as e:
        raise HTTPException(404, str(e)) from None
    u = request.state.user
    can_moderate = u is not None and u.can_moderate(a["code"])
    tokens = {}
    if can_moderate:
        with db(request).read() as cur:
            for g in letter["grades"]:
                tokens[g["judgement_id"]] = edits.current(
                    cur,
                    "moderation",
                    a["code"],
                    {"ruleset": rs, "year": y, "judgement": g["judgement_id"]},
                ).token
    return render(
        request,
        "assessment.html",
        public=True,
        title=f"Assessment {y}: {a['name']}",
        area=a,
        year=y,
        ruleset=rs,
        spans=spans,
        profile=profile,
        letter=letter,
        can_moderate=can_moderate,
        tokens=tokens,
        saved=saved,
    )


@router.post("/areas/{dfe}/assessment/moderations")
async def moderate_page(request: Request, dfe: str, form: FormData = Depends(checked_form)):
    a = area_or_404(request, dfe)
    u = require_user(request)
    if not u.can_moderate(a["code"]):
        raise HTTPException(403, f"You are not assigned to moderate {a['name']}.")
    try:
        y = int(str(form.get("year") or ""))
    except ValueError:
        raise HTTPException(400, "year: not a year") from None
    y, rs, _years = _year(a, y)
    _profile, letter = await run_in_threadpool(documents, request, a["code"], y, rs)
    judgement = str(form.get("judgement") or "")
    g = proposal_for(letter, judgement)
    data = {
        "year": y,
        "ruleset": rs,
        "judgement": judgement,
        "action": form.get("action"),
        "grade": form.get("grade"),
        "reason": form.get("reason"),
        "proposed_grade": g.get("proposed_grade"),
    }
    try:
        await run_in_threadpool(
            edits.save,
            db(request),
            state(request),
            u,
            a["code"],
            [edits.Pending("moderation", data, str(form.get("expected") or "new"))],
        )
    except edits.EditError as e:
        raise HTTPException(400, f"{e.field}: {e.message}") from None
    except edits.Conflicts as c:
        return render(
            request,
            "conflict.html",
            status_code=409,
            title="Someone else changed this first",
            area=a,
            conflicts=c.conflicts,
            back=f"/areas/{dfe}/assessment?year={y}",
        )
    q = urllib.parse.urlencode({"year": y, "saved": judgement})
    return redirect(f"/areas/{dfe}/assessment?{q}#saved")
