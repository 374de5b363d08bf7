"""One entry point for every output format.

``render(doc, fmt, path)`` writes a report document (docs/report-spec.md) in the format
asked for.  ``RENDERERS`` maps a format name to a function ``(doc, path) -> Path``; a new
format is one more entry (and its module).  Renderer modules are imported only when used,
so asking for JSON does not load WeasyPrint.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cspa.errors import CspaError

__all__ = ["FORMATS", "RENDERERS", "render"]


def _html(doc: dict[str, Any], path: Path) -> Path:
    from cspa.outputs.html import render_html

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(doc), encoding="utf-8")
    return path


# Reports with a page layout of their own: report kind -> {format: (module, function)}. Formats not
# named here (xlsx, json) use the shared renderers.
LAYOUTS: dict[str, dict[str, tuple[str, str]]] = {
    "quarterly": {
        "html": ("cspa.outputs.html_quarterly", "_write_html"),
        "pdf": ("cspa.outputs.html_quarterly", "render_quarterly_pdf"),
    },
}


def _lazy(module: str, name: str) -> Callable[[dict[str, Any], Path], Path]:
    def run(doc: dict[str, Any], path: Path) -> Path:
        return getattr(importlib.import_module(module), name)(doc, path)

    run.__name__ = name
    run.__doc__ = f"{module}.{name}"
    return run


#: format name -> (renderer, file suffix)
RENDERERS: dict[str, tuple[Callable[[dict[str, Any], Path], Path], str]] = {
    "html": (_html, ".html"),
    "pdf": (_lazy("cspa.outputs.pdf", "render_pdf"), ".pdf"),
    "xlsx": (_lazy("cspa.outputs.excel", "render_xlsx"), ".xlsx"),
    "json": (_lazy("cspa.outputs.json_out", "render_json"), ".json"),
}
FORMATS = tuple(RENDERERS)


def render(doc: dict[str, Any], fmt: str, path: str | Path) -> Path:
    """Write ``doc`` as ``fmt`` (html, pdf, xlsx or json) at ``path``; return the path written.

    If ``path`` is an existing folder, or has no suffix, a file name is made from the
    report kind and area, with the format's suffix.
    """
    key = fmt.lower().lstrip(".")
    if key not in RENDERERS:
        raise CspaError(f"Unknown report format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    renderer, suffix = RENDERERS[key]
    layout = LAYOUTS.get(str(doc.get("report")), {}).get(key)
    if layout is not None:
        renderer = _lazy(*layout)
    if doc.get("report") in ("profile", "letter") and key in ("html", "pdf"):
        from cspa.outputs.html_letter import render_assessment

        renderer = lambda d, p: render_assessment(d, key, p)  # noqa: E731 - the template comes from the document
    path = Path(path)
    if path.is_dir() or not path.suffix:
        area = str((doc.get("area") or {}).get("name") or "report")
        stem = "-".join(part for part in (doc.get("report"), area, doc.get("period")) if part)
        stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem.replace(" ", "_"))
        path = path / f"{stem}{suffix}"
    return renderer(doc, path)
