"""Report jobs: build a report document of any kind from the database, and write it.

The application layer's one entry to the report kinds. The CLI, the demo, the batch renderer
and the web app all call :func:`build_report` and :func:`write_report`; the kinds' document
builders live in their stages (``outputs.document_apa``, ``quarterly.report``,
``assessment.report``) and every format is written by :func:`cspa.outputs.render.render`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from cspa.errors import CspaError
from cspa.outputs.destination import output_file
from cspa.outputs.render import formats_for, render

__all__ = ["KINDS", "ReportRequest", "build_report", "default_output", "write_report"]


@dataclass(frozen=True)
class ReportRequest:
    """What a report is of: its kind, area, and year or quarter, with each kind's options."""

    kind: str
    area: str
    year: int | None = None
    period: str | None = None
    framework: str | None = None
    periods: int | None = None
    ruleset: str | None = None
    basket: str | None = None
    themes: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()


def _apa(con: duckdb.DuckDBPyConnection, r: ReportRequest, history: bool) -> dict[str, Any]:
    from cspa.outputs.document_apa import build_apa_document

    return build_apa_document(
        con,
        r.area,
        r.year or 2008,
        r.framework,
        periods=r.periods,
        history=history,
        themes=r.themes,
        indicators=r.indicators,
    )


def _quarterly(con: duckdb.DuckDBPyConnection, r: ReportRequest, history: bool) -> dict[str, Any]:
    from cspa.quarterly.report import build_quarterly_document

    if not r.period:
        raise CspaError("Give --period (a financial quarter, e.g. 2007-08-Q4).")
    return build_quarterly_document(con, r.area, r.period, r.basket)


def _profile(con: duckdb.DuckDBPyConnection, r: ReportRequest, history: bool) -> dict[str, Any]:
    from cspa.assessment.report import build_profile_document

    return build_profile_document(con, r.area, _year(r), r.ruleset)


def _letter(con: duckdb.DuckDBPyConnection, r: ReportRequest, history: bool) -> dict[str, Any]:
    from cspa.assessment.report import build_letter_document

    return build_letter_document(con, r.area, _year(r), r.ruleset)


def _year(r: ReportRequest) -> int:
    if r.year is None:
        raise CspaError(f"Give --year for a {r.kind}.")
    return r.year


#: report kind -> document builder (con, request, history) -> document
KINDS: dict[str, Callable[[duckdb.DuckDBPyConnection, ReportRequest, bool], dict[str, Any]]] = {
    "apa-dataset": _apa,
    "quarterly": _quarterly,
    "profile": _profile,
    "letter": _letter,
}

#: Formats whose renderers show only a report's period window (see document_apa.period_window):
#: their documents need not hold the earlier periods; Excel and JSON keep every period.
WINDOW_ONLY_FORMATS = ("html", "pdf")


def build_report(
    con: duckdb.DuckDBPyConnection, request: ReportRequest, fmt: str | None = None
) -> dict[str, Any]:
    """The report document ``request`` asks for (built for ``fmt`` where that lets it hold less)."""
    if request.kind not in KINDS:
        raise CspaError(f"Unknown report {request.kind!r}: choose one of {', '.join(KINDS)}.")
    return KINDS[request.kind](con, request, fmt not in WINDOW_ONLY_FORMATS)


def default_output(doc: dict[str, Any], fmt: str, folder: Path = Path("cspa-output")) -> Path:
    """Where a report is written when no ``--output`` is given: one name per kind, area and period."""
    kind = doc.get("report")
    code = (doc.get("area") or {}).get("dfe_code") or (doc.get("area") or {}).get("code")
    when = doc.get("period_key") if kind == "quarterly" else doc.get("year") or doc.get("period")
    return folder / f"{kind}-{code}-{when}.{fmt}"


def write_report(
    con: duckdb.DuckDBPyConnection,
    request: ReportRequest,
    fmt: str,
    output: Path | None = None,
    template: str | Path | None = None,
) -> Path:
    """Build the report and write it as ``fmt`` (at ``output``, else :func:`default_output`)."""
    if fmt not in formats_for(request.kind):
        raise CspaError(
            f"--format must be one of {', '.join(formats_for(request.kind))} for a "
            f"{request.kind}, not {fmt!r}"
        )
    doc = build_report(con, request, fmt)
    out = output or default_output(doc, fmt)
    # a folder, a read-only place or a full disk is an error naming --output, not an OSError
    with output_file(out, folder_ok=True):
        return render(doc, fmt, out, template=template)
