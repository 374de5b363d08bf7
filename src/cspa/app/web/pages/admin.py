"""``/admin``: users and their roles, loading a file of figures, and the audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from cspa.app.web import security
from cspa.app.web.loads import load_upload
from cspa.app.web.pages.common import checked_form, db, redirect, render, require_user, state
from cspa.app.web.state import ROLES
from cspa.errors import CspaError, LoadError

router = APIRouter()


def require_admin(request: Request):
    u = require_user(request)
    if u.role != "admin":
        raise HTTPException(403, "Only an administrator can do this.")
    return u


@router.get("/admin")
def admin_page(request: Request, loaded: str | None = None, added: str | None = None):
    require_admin(request)
    st = state(request)
    return render(
        request,
        "admin.html",
        title="Administration",
        users=st.users(),
        audit=st.audit_rows(limit=50),
        roles=ROLES,
        loaded=loaded,
        added=added,
        state_name=st.describe(),
        errors=None,
    )


@router.post("/admin/users")
async def add_user(request: Request, form: FormData = Depends(checked_form)):
    admin = require_admin(request)
    username = str(form.get("username") or "").strip()
    role = str(form.get("role") or "")
    areas = tuple(a for a in str(form.get("areas") or "").replace(" ", "").split(",") if a)
    password = str(form.get("password") or "")
    st = state(request)
    problems = []
    if (
        not username
        or not username.replace("-", "").replace("_", "").replace(".", "").isalnum()
        or len(username) > 64
    ):
        problems.append("Username: letters, digits, dots, hyphens and underscores, up to 64")
    if role not in ROLES:
        problems.append(f"Role: one of {', '.join(ROLES)}")
    if any(not a.isdigit() for a in areas):
        problems.append("Authorities: DfE numbers separated by commas")
    if len(password) < 10:
        problems.append("Password: at least 10 characters")
    if not problems and st.user(username) is not None:
        problems.append(f"Username: {username} already exists")
    if problems:
        return render(
            request,
            "admin.html",
            status_code=400,
            title="Administration",
            users=st.users(),
            audit=st.audit_rows(limit=50),
            roles=ROLES,
            loaded=None,
            added=None,
            state_name=st.describe(),
            errors=problems,
        )
    await run_in_threadpool(st.add_user, username, security.hash_password(password), role, areas)
    import datetime as dt

    with st.edit_lock() as tx:
        st.audit(
            tx,
            at=dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0),
            username=admin.username,
            action="add_user",
            area=None,
            entity="user",
            key=username,
            before=None,
            after={"role": role, "areas": list(areas)},
            via="page",
        )
    return redirect(f"/admin?added={username}")


@router.post("/admin/loads")
async def load_file(request: Request, form: FormData = Depends(checked_form)):
    admin = require_admin(request)
    upload = form.get("file")
    st = state(request)
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems = ["File: choose a file to load"]
    else:
        try:
            content = await upload.read()
        finally:
            await upload.close()
        try:
            summary = await run_in_threadpool(
                load_upload,
                db(request),
                st,
                admin,
                upload.filename,
                content,
                vintage=str(form.get("vintage") or "") or None,
            )
        except LoadError as e:
            problems = [str(p) for p in e.problems[:20]] or [str(e)]
        except (CspaError, ValueError) as e:
            problems = [str(e)]
        else:
            return redirect(f"/admin?loaded={summary['rows']}")
    return render(
        request,
        "admin.html",
        status_code=400,
        title="Administration",
        users=st.users(),
        audit=st.audit_rows(limit=50),
        roles=ROLES,
        loaded=None,
        added=None,
        state_name=st.describe(),
        errors=problems,
    )
