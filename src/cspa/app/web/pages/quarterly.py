"""``/areas/{dfe}/quarterly``: the quarterly performance report of an authority, with entry forms.

The report is the quarterly document (:func:`cspa.app.reports.build_report`, kind ``quarterly``):
actual against target by quarter, progress, comparators and RAG. An authority editor (of this
authority) gets a form per indicator to enter the quarter's actual, target and commentary; each
field carries the version its author saw, so a change made meanwhile by someone else is a
conflict page, never a silent overwrite (:mod:`cspa.app.web.edits`).
"""

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
    quarterly_periods,
    redirect,
    render,
    require_user,
    state,
)
from cspa.errors import CspaError
from cspa.quarterly.periods import report_period
from cspa.quarterly.rules import judged_measures

router = APIRouter()


def quarterly_doc(request: Request, area_code: str, period: str) -> dict:
    d = db(request)
    req = ReportRequest(kind="quarterly", area=area_code, period=period)

    def build() -> dict:
        with d.read() as cur:
            return build_report(cur, req, "html")

    return d.cached(("quarterly", area_code, period), build, area=area_code)


def headline(ind: dict) -> str:
    ids = list(dict.fromkeys([o["measure_id"] for o in ind.get("observations") or []]))
    judged = judged_measures(ids, [])
    return judged[0] if judged else (ids[0] if ids else "actual")


def forms_for(request: Request, area_code: str, doc: dict) -> dict[str, dict]:
    """Per indicator: the current actual, target and commentary for the report's quarter and the
    version tokens the form carries."""
    out = {}
    period = doc["period_key"]
    with db(request).read() as cur:
        for ind in doc["indicators"]:
            m = headline(ind)
            base = {"indicator": ind["code"], "measure": m, "period": period}
            a = edits.current(cur, "actual", area_code, base)
            t = edits.current(cur, "target", area_code, {**base, "target_type": "local"})
            c = edits.current(
                cur, "commentary", area_code, {**base, "field": "commentary", "item": 0}
            )
            out[ind["code"]] = {
                "measure": m,
                "actual": a,
                "target": t,
                "commentary": c,
                "actual_text": _shown(a.content, "value", "status"),
                "target_text": _shown(t.content, "value", "text"),
                "commentary_text": (c.content or {}).get("text") or "",
            }
    return out


def _shown(content: dict | None, *keys: str) -> str:
    for k in keys:
        v = (content or {}).get(k)
        if v is not None:
            return f"{v:g}" if isinstance(v, float) else str(v)
    return ""


def current_rag(ind: dict, period_key: str) -> dict | None:
    """The headline row's cell for the report's quarter (its RAG light), from the document."""
    table = ind.get("table") or {}
    keys = table.get("column_keys") or []
    if period_key not in keys:
        return None
    i = keys.index(period_key)
    for g in table.get("row_groups") or []:
        for row in g["rows"]:
            if row["kind"] == "actual":
                return row["cells"][i]
    return None


@router.get("/areas/{dfe}/quarterly")
def quarterly_page(request: Request, dfe: str, period: str | None = None, saved: str | None = None):
    a = area_or_404(request, dfe)
    periods = quarterly_periods(request, a["code"])
    if period:
        try:
            period = report_period(period).key
        except CspaError as e:
            raise HTTPException(400, str(e)) from None
    period = period or (periods[0] if periods else None)
    if period is None:
        return render(
            request,
            "quarterly.html",
            title=f"Quarterly report: {a['name']}",
            area=a,
            doc=None,
            periods=periods,
            period=None,
        )
    if not require_user(request).reads_internal(a["code"]):
        # figures typed by the authority are not public until published
        raise HTTPException(
            403,
            "The quarterly report holds figures not yet published: it is for the authority's own "
            "editors, the inspectors assigned to it and administrators.",
        )
    try:
        doc = quarterly_doc(request, a["code"], period)
    except CspaError as e:
        raise HTTPException(404, str(e)) from None
    u = request.state.user
    can_edit = u is not None and u.can_edit(a["code"])
    forms = forms_for(request, a["code"], doc) if can_edit else {}
    rags = {ind["code"]: current_rag(ind, doc["period_key"]) for ind in doc["indicators"]}
    return render(
        request,
        "quarterly.html",
        title=f"Quarterly report: {a['name']}",
        area=a,
        doc=doc,
        periods=periods,
        period=period,
        can_edit=can_edit,
        forms=forms,
        rags=rags,
        saved=saved,
    )


@router.post("/areas/{dfe}/quarterly/{code}")
async def quarterly_save(
    request: Request, dfe: str, code: str, form: FormData = Depends(checked_form)
):
    a = area_or_404(request, dfe)
    u = require_user(request)
    if not u.can_edit(a["code"]):
        raise HTTPException(
            403, f"You edit {', '.join(u.areas) or 'no authority'}, not {a['name']}."
        )
    period = str(form.get("period") or "")
    measure = str(form.get("measure") or "")
    base = {"indicator": code, "measure": measure, "period": period}
    items = [
        edits.Pending(
            "actual",
            {**base, "value": form.get("actual"), "provisional": form.get("provisional") == "y"},
            str(form.get("expected_actual") or "new"),
        ),
        edits.Pending(
            "target",
            {**base, "target_type": "local", "value": form.get("target")},
            str(form.get("expected_target") or "new"),
        ),
        edits.Pending(
            "commentary",
            {**base, "field": "commentary", "text": form.get("commentary")},
            str(form.get("expected_commentary") or "new"),
        ),
    ]
    if not str(form.get("actual") or "").strip():
        items = items[1:]  # an empty actual is "not entered yet", not a removal
    try:
        saved = await run_in_threadpool(
            edits.save, db(request), state(request), u, a["code"], items
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
            back=f"/areas/{dfe}/quarterly?{urllib.parse.urlencode({'period': period})}",
        )
    del saved
    q = urllib.parse.urlencode({"period": period, "saved": code})
    return redirect(f"/areas/{dfe}/quarterly?{q}#saved")
