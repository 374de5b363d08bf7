"""One way to write a report: ``render(document, format, destination)``.

Renderers are registered by report kind and format, the way datasette registers output
renderers: :func:`register_renderer` adds one, :data:`RENDERERS` lists them, and a kind that
has no renderer of its own for a format uses the shared one (``"*"``). So every kind is
written by the same JSON writer, the same PDF printers and the same Excel writer; a kind
that needs its own page layout (the quarterly report, the profile and the letter) registers
only that.

A renderer is ``fn(document, path, options) -> Path``. Renderer modules are imported when a
renderer runs, so asking for JSON does not load WeasyPrint or Chromium's driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cspa.errors import CspaError

__all__ = ["FORMATS", "RENDERERS", "RenderOptions", "formats_for", "register_renderer", "render"]


@dataclass(frozen=True)
class RenderOptions:
    """What a caller may ask of a renderer besides the document: an organisation's template
    (profile and letter) and a PDF variant (``"pdf/ua-1"``)."""

    template: str | Path | None = None
    variant: str | None = None


Renderer = Callable[[dict[str, Any], Path, RenderOptions], Path]

#: (report kind or "*", format) -> renderer; None: the kind is not written in that format
RENDERERS: dict[tuple[str, str], Renderer | None] = {}
#: format -> file suffix
SUFFIXES = {"html": ".html", "pdf": ".pdf", "xlsx": ".xlsx", "json": ".json"}
FORMATS = tuple(SUFFIXES)


def register_renderer(kind: str, fmt: str) -> Callable[[Renderer], Renderer]:
    """Decorator: ``fn`` writes documents of ``kind`` (``"*"``: any kind) as ``fmt``."""

    def add(fn: Renderer) -> Renderer:
        RENDERERS[(kind, fmt)] = fn
        return fn

    return add


def _renderer(kind: str, fmt: str) -> Renderer | None:
    if (kind, fmt) in RENDERERS:
        return RENDERERS[(kind, fmt)]
    return RENDERERS.get(("*", fmt))


def formats_for(kind: str) -> tuple[str, ...]:
    """The formats a report kind can be written in, in :data:`FORMATS` order."""
    return tuple(f for f in FORMATS if _renderer(kind, f) is not None)


def render(
    document: dict[str, Any],
    fmt: str,
    destination: str | Path,
    *,
    template: str | Path | None = None,
    variant: str | None = None,
) -> Path:
    """Write ``document`` as ``fmt`` at ``destination``; return the path written.

    If ``destination`` is an existing folder, or has no suffix, a file name is made from the
    report kind, area and period, with the format's suffix.
    """
    key = fmt.lower().lstrip(".")
    kind = str(document.get("report") or "")
    fn = _renderer(kind, key)
    if fn is None:
        choose = ", ".join(formats_for(kind)) or "none"
        raise CspaError(
            f"A {kind or 'report'} cannot be written as {fmt!r}: choose one of {choose}."
        )
    path = Path(destination)
    if path.is_dir() or not path.suffix:
        area = str((document.get("area") or {}).get("name") or "report")
        stem = "-".join(str(p) for p in (kind, area, document.get("period")) if p)
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem.replace(" ", "_"))
        path = path / f"{stem}{SUFFIXES[key]}"
    path.parent.mkdir(parents=True, exist_ok=True)
    return fn(document, path, RenderOptions(template=template, variant=variant))


# ------------------------------------------------------------------------- the shared renderers


@register_renderer("*", "json")
def _json(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.document import validate
    from cspa.outputs.json_out import render_json

    validate(doc)  # the JSON is the published contract (docs/report-schema.json): check it first
    return render_json(doc, path)


@register_renderer("*", "xlsx")
def _xlsx(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.excel import render_xlsx

    return render_xlsx(doc, path)


@register_renderer("apa-dataset", "html")
def _apa_html(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.html import render_html

    path.write_text(render_html(doc), encoding="utf-8")
    return path


@register_renderer("apa-dataset", "pdf")
def _apa_pdf(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.pdf import render_pdf

    return render_pdf(doc, path, variant=options.variant)


# ---------------------------------------------------------------- kinds with a layout of their own


@register_renderer("quarterly", "html")
def _quarterly_html(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.html_quarterly import render_quarterly_html

    path.write_text(render_quarterly_html(doc), encoding="utf-8")
    return path


@register_renderer("quarterly", "pdf")
def _quarterly_pdf(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.html_quarterly import render_quarterly_html
    from cspa.outputs.pdf import weasyprint_pdf

    return weasyprint_pdf(render_quarterly_html(doc), path, doc, options.variant)


@register_renderer("quarterly", "xlsx")
def _quarterly_xlsx(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.excel_quarterly import render_quarterly_xlsx

    return render_quarterly_xlsx(doc, path)


def _assessment_html(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.html_letter import render_assessment_html

    path.write_text(render_assessment_html(doc, options.template), encoding="utf-8")
    return path


def _assessment_pdf(doc: dict[str, Any], path: Path, options: RenderOptions) -> Path:
    from cspa.outputs.html_letter import render_assessment_html
    from cspa.outputs.pdf import weasyprint_pdf

    return weasyprint_pdf(render_assessment_html(doc, options.template), path, doc, options.variant)


for _kind in ("profile", "letter"):
    register_renderer(_kind, "html")(_assessment_html)
    register_renderer(_kind, "pdf")(_assessment_pdf)
    # the profile and the letter are prose, grades and small tables: no workbook of their own
    RENDERERS[(_kind, "xlsx")] = None
