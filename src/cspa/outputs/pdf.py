"""PDF renderer: the HTML page printed by WeasyPrint.

``render_pdf(doc, path)`` renders the same page as ``render_html`` and lets WeasyPrint
lay it out with the print stylesheet (static/cspa-print.css): A4, "Page n of m", a running
header with the area, report title and outcome area, the attribution lines in every
page's footer, a page break before each outcome section, and contents with page numbers
(``target-counter``).

The PDF is tagged (``pdf_tags=True``, WeasyPrint >= 63) so screen readers get headings,
tables and reading order, and carries the document language and title.  PDF/UA-1 can
be asked for with ``variant="pdf/ua-1"``; it is not the default because WeasyPrint's
PDF/UA output is not yet complete (it does not tag the running header and footer as
artifacts on every version), so claiming conformance would overstate it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cspa.outputs.html import render_html

__all__ = ["render_pdf"]


def render_pdf(doc: dict[str, Any], path: str | Path, *, variant: str | None = None) -> Path:
    """Write the report document as a tagged PDF at ``path``; return the path."""
    import weasyprint

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(doc)
    # WeasyPrint logs every CSS property it does not support (there are a few screen-only
    # ones in the stylesheet); they are expected, so keep them out of the user's console.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    options: dict[str, Any] = {"pdf_tags": True, "uncompressed_pdf": False}
    if variant:
        options["pdf_variant"] = variant
    title = f"{doc.get('title', 'Report')}: {(doc.get('area') or {}).get('name', '')}".rstrip(": ")
    document = weasyprint.HTML(string=html, base_url=str(path.parent)).render()
    document.metadata.title = title
    document.metadata.authors = [str((doc.get("framework") or {}).get("publisher") or "cspa")]
    document.metadata.generator = str(doc.get("version") or "cspa")
    document.metadata.lang = "en-GB"
    document.write_pdf(path, **options)
    return path
