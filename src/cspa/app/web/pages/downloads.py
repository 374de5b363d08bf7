"""``/areas/{dfe}/reports/{kind}?format=...``: every report of an authority, in every format.

Built by :func:`cspa.app.reports.write_report` (the one entry for every report kind) on a reader
cursor, into a folder of files kept per data version: the same report is built once until the
figures change. One report is built at a time, so a burst of PDF downloads cannot starve the pages.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from cspa.app.reports import ReportRequest, write_report
from cspa.app.web.database import Database
from cspa.app.web.pages.common import area_or_404, db, require_user
from cspa.errors import CspaError
from cspa.outputs.render import formats_for

router = APIRouter()

_build_lock = threading.Lock()
#: the folder the built reports are kept in, made on the first download (see _reports_folder)
_kept: tempfile.TemporaryDirectory | None = None
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
#: report kinds that show figures people typed before they are published (targets, actuals,
#: commentary): for signed-in editors, inspectors and administrators only
INTERNAL_KINDS = ("quarterly",)


def _reports_folder() -> Path:
    """The server's folder of built reports, made on the first download and removed with its
    files when the process ends (one made when the module was imported was left behind by every
    process that imported it, tests and workers alike). Called under ``_build_lock``."""
    global _kept
    if _kept is None:
        # a TemporaryDirectory removes its folder when it is collected or the interpreter exits
        _kept = tempfile.TemporaryDirectory(prefix="cspa-web-reports-")
    return Path(_kept.name)


def report_file(d: Database, req: ReportRequest, fmt: str) -> Path:
    """The report written as ``fmt``, built once per data version."""
    key = hashlib.sha256(
        repr((d.version, d.area_versions.get(req.area, 0), req, fmt)).encode()
    ).hexdigest()[:24]
    with _build_lock:
        path = _reports_folder() / f"{key}.{fmt}"
        if not path.exists():
            part = path.with_suffix(".part" + path.suffix)
            with d.read() as cur:
                write_report(cur, req, fmt, output=part)
            part.rename(path)
    return path


@router.get("/areas/{dfe}/reports/{kind}")
def download(
    request: Request,
    dfe: str,
    kind: str,
    format: str = "html",
    year: int | None = None,
    period: str | None = None,
    framework: str | None = None,
    ruleset: str | None = None,
):
    a = area_or_404(request, dfe)
    if kind in INTERNAL_KINDS and not require_user(request).reads_internal(a["code"]):
        raise HTTPException(403, "The quarterly report holds figures not yet published.")
    try:
        fmts = formats_for(kind)
    except CspaError:
        fmts = ()
    if format not in fmts:
        raise HTTPException(404, f"There is no {kind!r} report as {format!r}.")
    req = ReportRequest(
        kind=kind, area=a["code"], year=year, period=period, framework=framework, ruleset=ruleset
    )
    try:
        path = report_file(db(request), req, format)
    except CspaError as e:
        raise HTTPException(404, str(e)) from None
    name = f"{kind}-{dfe}-{year or period or 'latest'}.{format}"
    return FileResponse(path, media_type=MEDIA[format], filename=name)
