"""The JSON API under ``/api/v1`` (its OpenAPI document at ``/api/v1/openapi.json``).

Reads are open (anyone is a viewer: public figures only, small numbers suppressed); a bearer
token (``Authorization: Bearer cspa_...``, made with ``cspa web token``) reads as its user and is
needed for every write. Writes follow the pages' rules: an authority editor writes targets,
actuals and commentary of its own authorities, an inspector moderates the authorities assigned,
an administrator loads files. A write names the version it was based on (``expected``, from the
matching GET or an earlier write; ``"new"`` for a first entry); a newer version is a 409 with the
current one, never a silent overwrite.

Lists are paginated (``page``, ``per_page``; a ``Link`` header and ``links`` give the next page)
and every GET answer has an ``ETag``: send it back in ``If-None-Match`` to get 304 when nothing
changed. Reports come in the shared JSON envelope every ``cspa report --format json`` writes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from cspa.app.reports import ReportRequest
from cspa.app.web import edits, queries, security
from cspa.app.web.loads import load_template_upload, load_uploads
from cspa.app.web.reports_menu import assessment_spans
from cspa.app.web.state import User
from cspa.errors import CspaError, LoadError
from cspa.outputs.json_out import public_document
from cspa.outputs.render import formats_for
from cspa.quarterly.load import ConflictError

MAX_PER_PAGE = 500


def create_api(parent: FastAPI) -> FastAPI:
    api = FastAPI(
        title="cspa API",
        version="1",
        description=__doc__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.parent = parent
    api.include_router(router)

    def openapi() -> dict:
        """The generated document, with the bearer scheme the routes check by hand (``writer``,
        ``caller``) declared: every write needs it, a read takes it optionally (it widens what
        the caller sees to its role's), so generated clients know to send the token."""
        if api.openapi_schema is None:
            doc = get_openapi(
                title=api.title, version=api.version, description=api.description, routes=api.routes
            )
            doc.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `cspa web token USERNAME`.",
                }
            }
            for operations in doc["paths"].values():
                for method, op in operations.items():
                    op["security"] = [{"bearer": []}] if method == "post" else [{}, {"bearer": []}]
            api.openapi_schema = doc
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]

    @api.exception_handler(HTTPException)
    async def error(request: Request, exc: HTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    return api


router = APIRouter()


# ------------------------------------------------------------------ who is asking


def _app(request: Request) -> Any:
    return request.app.state.parent.state


def caller(request: Request) -> User | None:
    """The token's user, or None (a viewer). A malformed or unknown token is refused (401)."""
    auth = request.headers.get("authorization")
    if not auth:
        return None
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401, "Use Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"}
        )
    local = getattr(_app(request), "local_token", None)
    if local and hmac.compare_digest(token.strip(), local):
        return User("cspa load (this machine)", "admin", ())
    u = _app(request).state.token_user(security.digest(token.strip()))
    if u is None:
        raise HTTPException(
            401,
            "The token is not valid.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return u


def writer(request: Request) -> User:
    u = caller(request)
    if u is None:
        raise HTTPException(
            401, "Writing needs a bearer token.", headers={"WWW-Authenticate": "Bearer"}
        )
    return u


# ------------------------------------------------------------------ answers


def answer(request: Request, body: Any, status: int = 200, headers: dict | None = None) -> Response:
    """JSON with an ETag; 304 when the client already has this answer."""
    data = json.dumps(
        public_document(body), ensure_ascii=False, sort_keys=True, allow_nan=False
    ).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    h = {"ETag": etag, "Cache-Control": "no-cache", **(headers or {})}
    if request.method == "GET" and etag in [
        t.strip() for t in request.headers.get("if-none-match", "").split(",")
    ]:
        return Response(status_code=304, headers=h)
    return Response(data, status_code=status, media_type="application/json", headers=h)


def paged(request: Request, items: list, total: int, page: int, per_page: int) -> Response:
    links: dict[str, str | None] = {"next": None, "prev": None}
    base = str(request.url.remove_query_params(["page"]))
    sep = "&" if "?" in base else "?"
    if page * per_page < total:
        links["next"] = f"{base}{sep}page={page + 1}"
    if page > 1:
        links["prev"] = f"{base}{sep}page={page - 1}"
    header = ", ".join(f'<{u}>; rel="{r}"' for r, u in links.items() if u)
    return answer(
        request,
        {"items": items, "page": page, "per_page": per_page, "total": total, "links": links},
        headers={"Link": header} if header else None,
    )


Page = Query(1, ge=1, description="page number, from 1")
PerPage = Query(100, ge=1, le=MAX_PER_PAGE, description=f"items per page (at most {MAX_PER_PAGE})")


def _area(request: Request, dfe: str) -> dict:
    db = _app(request).db
    with db.read() as cur:
        a = db.cached(("area", dfe), lambda: queries.area(cur, dfe))
    if a is None:
        raise HTTPException(404, f"no local authority with DfE number {dfe!r}")
    return a


# ------------------------------------------------------------------ reads


@router.get("/areas", summary="Local authorities (current), optionally matching q")
def list_areas(request: Request, q: str | None = None, page: int = Page, per_page: int = PerPage):
    db = _app(request).db
    with db.read() as cur:
        found = db.cached(("areas", q), lambda: queries.areas(cur, q))
    start = (page - 1) * per_page
    return paged(request, found[start : start + per_page], len(found), page, per_page)


@router.get("/areas/{dfe}", summary="One authority by DfE number, with its statistical neighbours")
def get_area(request: Request, dfe: str):
    a = _area(request, dfe)
    db = _app(request).db
    with db.read() as cur:
        nbs = queries.neighbours(cur, a["code"], "dfe_2025")
    return answer(
        request,
        {
            **a,
            "neighbours": {"group": "dfe_2025", "members": nbs},
            # the years a letter and profile can be asked for (/areas/{dfe}/reports/letter?year=)
            "assessments": assessment_spans(a),
        },
    )


@router.get("/indicators", summary="Indicators of the catalogue")
def list_indicators(
    request: Request,
    framework: str | None = None,
    q: str | None = None,
    page: int = Page,
    per_page: int = PerPage,
):
    db = _app(request).db
    with db.read() as cur:
        found = db.cached(
            ("indicators", framework, q), lambda: queries.indicators(cur, framework, q)
        )
    start = (page - 1) * per_page
    return paged(request, found[start : start + per_page], len(found), page, per_page)


@router.get("/indicators/{code}", summary="One indicator's definition and measures")
def get_indicator(request: Request, code: str):
    db = _app(request).db
    with db.read() as cur:
        ind = db.cached(("indicator", code), lambda: queries.indicator(cur, code))
    if ind is None:
        raise HTTPException(404, f"no indicator {code!r}")
    return answer(request, ind)


@router.get(
    "/indicators/{code}/figures",
    summary="One indicator's figures for every authority, region and England, period by period",
)
def get_indicator_figures(
    request: Request,
    code: str,
    measure: str | None = None,
    period: str | None = None,
    page: int = Page,
    per_page: int = PerPage,
    user: User | None = Depends(caller),
):
    """What the indicator page's CSV download holds (one period by key or label, or every period):
    each authority's figure with its rank, quartile, neighbours' average and judgements, and every
    row's data set, publisher, vintage and licence. Published figures only, but for administrators;
    small counts suppressed as on the pages."""
    db = _app(request).db
    admin = user is not None and user.role == "admin"
    with db.read() as cur:
        ind = db.cached(("indicator", code), lambda: queries.indicator(cur, code))
        if ind is None:
            raise HTTPException(404, f"no indicator {code!r}")
        m, found = queries.indicator_table(cur, ind, measure, period, viewer=not admin)
    if why := queries.table_refusal(ind, measure, period, m, found):
        raise HTTPException(404, why)
    start = (page - 1) * per_page
    return paged(request, found[start : start + per_page], len(found), page, per_page)


@router.get(
    "/areas/{dfe}/observations", summary="The authority's figures as loaded (current vintage)"
)
def get_observations(
    request: Request,
    dfe: str,
    indicator: str | None = None,
    period: str | None = None,
    page: int = Page,
    per_page: int = PerPage,
    user: User | None = Depends(caller),
):
    a = _area(request, dfe)
    db = _app(request).db
    viewer = user is None or not user.reads_internal(a["code"])
    with db.read() as cur:
        total, found = queries.observations(
            cur,
            a["code"],
            indicator=indicator,
            period=period,
            public_only=viewer,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    return paged(request, [queries.suppress(r, viewer) for r in found], total, page, per_page)


@router.get(
    "/areas/{dfe}/judgements", summary="Judged figures of the authority and its comparators"
)
def get_judgements(
    request: Request,
    dfe: str,
    indicator: str | None = None,
    period: str | None = None,
    geography: Literal["la", "sn_group", "region", "country"] | None = None,
    page: int = Page,
    per_page: int = PerPage,
    user: User | None = Depends(caller),
):
    a = _area(request, dfe)
    db = _app(request).db
    viewer = user is None or not user.reads_internal(a["code"])
    with db.read() as cur:
        total, found = queries.judgements(
            cur,
            a["code"],
            indicator=indicator,
            period=period,
            geography=geography,
            public_only=viewer,
            limit=per_page,
            offset=(page - 1) * per_page,
        )
    return paged(request, [queries.suppress(r, viewer) for r in found], total, page, per_page)


@router.get("/areas/{dfe}/reports/{kind}", summary="A report in the shared JSON envelope")
def get_report(
    request: Request,
    dfe: str,
    kind: str,
    year: int | None = None,
    period: str | None = None,
    framework: str | None = None,
    ruleset: str | None = None,
    user: User | None = Depends(caller),
):
    from cspa.app.web.pages.downloads import INTERNAL_KINDS, report_file

    a = _area(request, dfe)
    try:
        ok = "json" in formats_for(kind)
    except CspaError:
        ok = False
    if not ok:
        raise HTTPException(404, f"no report kind {kind!r}")
    if kind in INTERNAL_KINDS and (user is None or not user.reads_internal(a["code"])):
        raise HTTPException(
            401 if user is None else 403, "this report holds figures not yet published"
        )
    req = ReportRequest(
        kind=kind, area=a["code"], year=year, period=period, framework=framework, ruleset=ruleset
    )
    try:
        path = report_file(_app(request).db, req, "json")
    except CspaError as e:
        raise HTTPException(404, str(e)) from None
    return answer(request, json.loads(path.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ writes


class TargetIn(BaseModel):
    indicator: str
    period: str = Field(description="e.g. 2007-08-Q4, or as the report prints it")
    measure: str | None = None
    target_type: str = "local"
    value: float | None = None
    text: str | None = None
    expected: str = Field(
        "new", description="the version you based this on ('new' for a first entry)"
    )


class ActualIn(BaseModel):
    indicator: str
    period: str
    measure: str | None = None
    value: float | None = None
    status: str | None = Field(None, description="a status symbol such as '..' instead of a value")
    provisional: bool = False
    note: str | None = None
    expected: str = "new"


class CommentaryIn(BaseModel):
    indicator: str
    period: str
    field: str = "commentary"
    text: str | None = None
    expected: str = "new"


class ModerationIn(BaseModel):
    year: int
    judgement: str
    action: Literal["confirm", "override"]
    grade: int | None = None
    reason: str
    ruleset: str | None = None
    expected: str = "new"


def _save(request: Request, user: User, dfe: str, kind: str, data: dict) -> Response:
    a = _area(request, dfe)
    st = _app(request)
    expected = data.pop("expected", "new")
    if kind == "moderation":
        if not user.can_moderate(a["code"]):
            raise HTTPException(403, f"{user.username} is not assigned to moderate {dfe}")
        from cspa.app.web.pages.assessment import documents, proposal_for
        from cspa.assessment.ruleset import ruleset_for_year

        try:
            rs = ruleset_for_year(data["year"], data.get("ruleset")).id
            _p, letter = documents(_RequestShim(request), a["code"], data["year"], rs)
        except CspaError as e:
            raise HTTPException(404, str(e)) from None
        g = proposal_for(letter, data["judgement"])
        data = {**data, "ruleset": rs, "proposed_grade": g.get("proposed_grade")}
    elif not user.can_edit(a["code"]):
        raise HTTPException(403, f"{user.username} does not edit authority {dfe}")
    if kind == "actual" and data.get("value") is None:
        data["value"] = data.pop("status", None)
    try:
        saved = edits.save(
            st.db, st.state, user, a["code"], [edits.Pending(kind, data, expected)], via="api"
        )
    except edits.EditError as e:
        return JSONResponse({"error": e.message, "field": e.field}, status_code=400)
    except edits.Conflicts as c:
        return JSONResponse(
            {
                "error": str(c),
                "conflicts": [
                    {
                        "what": x.what,
                        "current": public_document(x.theirs),
                        "by": x.by,
                        "at": str(x.at),
                        "version": x.token,
                    }
                    for x in c.conflicts
                ],
            },
            status_code=409,
        )
    except PermissionError as e:
        raise HTTPException(403, str(e)) from None
    s = saved[0] if saved else None
    body = {"saved": bool(saved), "kind": kind, "area": a["dfe_code"]}
    if s:
        body |= {
            "edit": public_document(s.edit),
            "before": public_document(s.before),
            "after": public_document(s.after),
            "version": s.token,
            "at": str(s.at),
        }
    else:
        body["note"] = "no change: the submitted content is what is stored"
    return JSONResponse(body, status_code=201 if saved else 200)


class _RequestShim:
    """What the page helpers read from a request (the app's state), for the API's use."""

    def __init__(self, request: Request):
        self.app = request.app.state.parent


@router.get(
    "/areas/{dfe}/{kind}/current", summary="The current entry and its version (for expected)"
)
def get_current(
    request: Request,
    dfe: str,
    kind: Literal["targets", "actuals", "commentary", "moderations"],
    indicator: str | None = None,
    period: str | None = None,
    measure: str | None = None,
    target_type: str = "local",
    field: str = "commentary",
    year: int | None = None,
    judgement: str | None = None,
    ruleset: str | None = None,
    user: User = Depends(writer),
):
    a = _area(request, dfe)
    k = {
        "targets": "target",
        "actuals": "actual",
        "commentary": "commentary",
        "moderations": "moderation",
    }[kind]
    # the current entry may be unpublished: only those who may change it read it here
    allowed = user.can_moderate(a["code"]) if k == "moderation" else user.can_edit(a["code"])
    if not allowed:
        raise HTTPException(403, f"{user.username} does not edit or moderate authority {dfe}")
    data = {
        "indicator": indicator,
        "period": period,
        "measure": measure,
        "target_type": target_type,
        "field": field,
        "year": year,
        "judgement": judgement,
        "ruleset": ruleset,
        "value": "0" if k == "actual" else None,
        "action": "override",
        "grade": None,
        "reason": "-",
    }
    if k == "moderation":
        data["grade"] = 1
    try:
        e = edits.normalise(k, a["code"], {kk: v for kk, v in data.items() if v is not None})
    except edits.EditError as err:
        return JSONResponse({"error": err.message, "field": err.field}, status_code=400)
    db = _app(request).db
    with db.read() as cur:
        c = edits.current(cur, k, a["code"], e)
    return answer(
        request,
        {"kind": k, "key": e, "current": c.content, "by": c.by, "at": c.at, "version": c.token},
    )


@router.post(
    "/areas/{dfe}/targets", status_code=201, summary="Enter or change a target (authority editor)"
)
def post_target(request: Request, dfe: str, body: TargetIn, user: User = Depends(writer)):
    return _save(request, user, dfe, "target", body.model_dump())


@router.post(
    "/areas/{dfe}/actuals", status_code=201, summary="Enter or change an actual (authority editor)"
)
def post_actual(request: Request, dfe: str, body: ActualIn, user: User = Depends(writer)):
    return _save(request, user, dfe, "actual", body.model_dump())


@router.post(
    "/areas/{dfe}/commentary",
    status_code=201,
    summary="Enter or change commentary (authority editor)",
)
def post_commentary(request: Request, dfe: str, body: CommentaryIn, user: User = Depends(writer)):
    return _save(request, user, dfe, "commentary", body.model_dump())


@router.post(
    "/areas/{dfe}/moderations", status_code=201, summary="Confirm or override a grade (inspector)"
)
def post_moderation(request: Request, dfe: str, body: ModerationIn, user: User = Depends(writer)):
    return _save(request, user, dfe, "moderation", body.model_dump())


@router.post(
    "/snapshot",
    summary="A copy of the last committed data for a command on this machine (cspa's own use)",
    include_in_schema=False,
)
async def post_snapshot(request: Request):
    """The file ``cspa data status``, ``cspa report`` and the other commands that read open while
    this server holds the database (DuckDB lets no other process open it). Only the token in the
    server's note beside the database is accepted: whoever can read that note can read the
    database file itself."""
    local = getattr(_app(request), "local_token", None)
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if not local or scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), local):
        raise HTTPException(403, "only a cspa command on this machine asks for a snapshot")
    path = await run_in_threadpool(_app(request).db.snapshot)
    return JSONResponse({"path": str(path)})


@router.post(
    "/quarterly/templates",
    status_code=201,
    summary="Load a filled-in quarterly template (administrator)",
)
async def post_template(
    request: Request,
    filename: str = Query(..., description="the workbook's name"),
    loaded_by: str = Query(..., description="who filled it in: kept with every change"),
    user: User = Depends(writer),
):
    """What ``cspa quarterly load`` does, done by this server while it holds the database; the
    workbook is the body."""
    if user.role != "admin":
        raise HTTPException(403, "loading a template needs an administrator's token")
    content = await request.body()
    st = _app(request)
    try:
        summary = await run_in_threadpool(
            load_template_upload,
            st.db,
            st.state,
            user,
            urllib.parse.unquote(filename),
            content,
            loaded_by=loaded_by,
        )
    except LoadError as e:
        return JSONResponse(
            {"error": str(e), "problems": [str(p) for p in e.problems[:50]]}, status_code=400
        )
    except ConflictError as e:
        return JSONResponse({"error": str(e)}, status_code=409)
    except (CspaError, ValueError) as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    return JSONResponse(summary, status_code=201)


@router.post("/loads", status_code=201, summary="Load files of figures (administrator)")
async def post_load(
    request: Request,
    filename: str | None = Query(
        None,
        description="the file's name (its suffix says its format), when the body is the file; "
        "several files go as multipart/form-data parts named 'file' and are one load",
    ),
    vintage: str | None = None,
    source: str | None = None,
    licence: str | None = None,
    user: User = Depends(writer),
):
    if user.role != "admin":
        raise HTTPException(403, "loading needs an administrator's token")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        from starlette.datastructures import UploadFile

        form = await request.form()
        files = []
        for part in form.getlist("file"):
            if isinstance(part, UploadFile):
                files.append((part.filename or "upload.csv", await part.read()))
                await part.close()
        if not files:
            return JSONResponse({"error": "no 'file' part to load"}, status_code=400)
    else:
        if not filename:
            return JSONResponse(
                {"error": "give ?filename= with the file as the body, or multipart 'file' parts"},
                status_code=400,
            )
        files = [(urllib.parse.unquote(filename), await request.body())]
    st = _app(request)
    try:
        summary = await run_in_threadpool(
            load_uploads,
            st.db,
            st.state,
            user,
            files,
            vintage=vintage,
            source=source,
            licence=licence,
            via="api",
        )
    except LoadError as e:
        return JSONResponse(
            {"error": str(e), "problems": [str(p) for p in e.problems[:50]]}, status_code=400
        )
    except (CspaError, ValueError) as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    return JSONResponse(summary, status_code=201)
