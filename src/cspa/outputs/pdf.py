"""PDF renderer: the report's HTML page, printed.

``render_pdf(doc, path)`` prints the page ``render_html(doc, for_print=True)`` gives with the
print stylesheet (static/cspa-print.css, after GOV.UK Frontend's and cspa.css, see styles.py):
A4, "Page n of m", a running header with the area, report title and outcome area, the attribution lines in every page's footer, a page break
before each outcome section, and contents with page numbers. Two printers can do it:

* **Chromium** (headless, the ``chromium`` command; ``$CSPA_CHROMIUM`` names another), the
  default where it is installed. It lays out the 2008 dataset (about 200 pages) in a few
  seconds. It cannot count pages for the contents (``target-counter``) or carry text into the
  margins (``string-set``, running elements), so the page is printed twice: the first print
  gives each contents target's page (the PDF's named destinations), the second prints those
  numbers, in boxes of fixed width so nothing moves; the running header and footer are
  literal text, the outcome area through a named page per section
  (:func:`chromium_page_css`), with a landscape one for an indicator whose table has too many
  periods side by side for portrait (:data:`WIDE_INDICATOR`). Its PDF is tagged (structure
  tree, ``/Lang``) and has an outline.
* **WeasyPrint**, where Chromium is missing or ``$CSPA_PDF_ENGINE=weasyprint``, or for a
  ``variant`` (``"pdf/ua-1"``). It does everything in CSS in one pass, but takes several times
  as long on a long report. Tagged (``pdf_tags=True``); PDF/UA-1 is not the default because
  WeasyPrint's PDF/UA output is not yet complete (it does not tag the running header and footer
  as artifacts on every version), so claiming conformance would overstate it.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from cspa.errors import CspaError
from cspa.outputs.html import _layout, render_html

__all__ = [
    "ENGINES",
    "WIDE_INDICATOR",
    "WIDE_OUTCOME",
    "WIDE_SUBSECTION",
    "WIDE_TABLE",
    "chromium_page_css",
    "find_chromium",
    "pdf_engine",
    "render_pdf",
    "weasyprint_pdf",
]

ENGINES = ("chromium", "weasyprint")
#: a periods-across figures table of eight or more periods (nine header cells): too wide for
#: portrait A4, so its indicator prints on landscape pages. The print stylesheet
#: (static/cspa-print.css) has the same selectors for its one landscape page; the Chromium page
#: rules below repeat them for each part's own landscape page, which names the part. (No leading
#: child combinator inside ``:has()``: WeasyPrint's selector engine does not match one followed by
#: further combinators.)
WIDE_TABLE = ".cspa-table-wrap > .cspa-data > thead > tr:only-child > :nth-child(9)"
WIDE_INDICATOR = f".cspa-indicator:has({WIDE_TABLE})"
#: a subsection or part that opens with a wide indicator starts landscape, so its heading goes with it
WIDE_SUBSECTION = f".cspa-subsection:has(.cspa-indicator:first-of-type > {WIDE_TABLE})"
WIDE_OUTCOME = f".cspa-outcome:has(.cspa-subsection:first-of-type > .cspa-indicator:first-of-type > {WIDE_TABLE})"
CHROMIUM_TIMEOUT_S = 600
#: passes of the Chromium printer before giving up on the contents' page numbers settling
MAX_PASSES = 3


def find_chromium() -> str | None:
    """The Chromium (or Chrome) command to print with: ``$CSPA_CHROMIUM``, else one on PATH."""
    named = os.environ.get("CSPA_CHROMIUM")
    if named:
        return named if (Path(named).exists() or shutil.which(named)) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pdf_engine(variant: str | None = None) -> str:
    """Which printer ``render_pdf`` uses: ``$CSPA_PDF_ENGINE`` if set, else Chromium where it is
    installed (and no PDF variant is asked for), else WeasyPrint."""
    engine = os.environ.get("CSPA_PDF_ENGINE", "").strip().lower()
    if engine:
        if engine not in ENGINES:
            raise CspaError(f"$CSPA_PDF_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
        return engine
    return "chromium" if variant is None and find_chromium() else "weasyprint"


def render_pdf(
    doc: dict[str, Any], path: str | Path, *, variant: str | None = None, engine: str | None = None
) -> Path:
    """Write the report document as a tagged PDF at ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine or pdf_engine(variant)
    if engine == "chromium":
        if variant:
            raise CspaError(
                f"PDF variant {variant!r} needs the WeasyPrint printer (CSPA_PDF_ENGINE=weasyprint)"
            )
        return _chromium_pdf(doc, path)
    if engine != "weasyprint":
        raise CspaError(f"Unknown PDF printer {engine!r}: choose one of {', '.join(ENGINES)}")
    return _weasyprint_pdf(doc, path, variant)


def _title(doc: dict[str, Any]) -> str:
    return f"{doc.get('title', 'Report')}: {(doc.get('area') or {}).get('name', '')}".rstrip(": ")


# ----------------------------------------------------------------------------------- WeasyPrint


def _weasyprint_pdf(doc: dict[str, Any], path: Path, variant: str | None) -> Path:
    return weasyprint_pdf(render_html(doc, for_print=True), path, doc, variant)


def weasyprint_pdf(
    html: str, path: str | Path, doc: dict[str, Any], variant: str | None = None
) -> Path:
    """Print an HTML page (any report kind's) with WeasyPrint: A4 as its print stylesheet says,
    tagged, with the document's title, publisher and version as the PDF's metadata."""
    import weasyprint

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # WeasyPrint logs every CSS property it does not support (there are a few screen-only
    # ones in the stylesheet); they are expected, so keep them out of the user's console.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    options: dict[str, Any] = {"pdf_tags": True, "uncompressed_pdf": False}
    if variant:
        options["pdf_variant"] = variant
    # WeasyPrint makes millions of small objects that live until the PDF is written; the cyclic
    # garbage collector would walk them all again and again (about a sixth of the time), while
    # reference counting frees them anyway. So it is off while the PDF is made.
    collecting = gc.isenabled()
    gc.disable()
    try:
        document = weasyprint.HTML(string=html, base_url=str(path.parent)).render()
        document.metadata.title = _title(doc)
        document.metadata.authors = [str((doc.get("framework") or {}).get("publisher") or "cspa")]
        document.metadata.generator = str(doc.get("version") or "cspa")
        document.metadata.lang = "en-GB"
        document.write_pdf(path, **options)
    finally:
        if collecting:
            gc.enable()
    return path


# ------------------------------------------------------------------------------------ Chromium


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (newlines as ``\\A``)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ")
    return f'"{escaped}"'


def chromium_page_css(doc: dict[str, Any]) -> str:
    """The page furniture for Chromium, which has page margin boxes and page counters but no
    ``string-set`` or running elements: the running header and the attribution footer as literal
    text, and a named page per outcome section whose header names the section."""
    area = str((doc.get("area") or {}).get("name") or "")
    title = str(doc.get("title") or "")
    header = f"{area} \u2014  {title}" if area else title
    footer = "\n".join(str(line) for line in doc.get("attribution") or [])
    font = (
        "font-family: arial, sans-serif; font-size: 8.5pt;"  # GOV.UK's fallback stack, as cspa.css
    )
    rules = [
        "@media print {",
        ".cspa-print-attribution { display: none !important; }",
        "@page {",
        f"  @top-left {{ content: {_css_string(header)}; {font} color: #505a5f; vertical-align: bottom; padding-bottom: 3mm; }}",
        f"  @bottom-left {{ content: {_css_string(footer)}; white-space: pre-wrap; font-family: arial, sans-serif; "
        "font-size: 7pt; line-height: 1.3; color: #505a5f; vertical-align: top; padding-top: 3mm; width: 78%; }",
        "}",
        "@page :first { @top-left { content: none; } @top-right { content: none; } }",
        ".cspa-front-matter { page: cspa-front; }",
        f'@page cspa-front {{ @top-right {{ content: "About this report"; {font} font-weight: bold; vertical-align: bottom; padding-bottom: 3mm; }} }}',
        ".cspa-appendices { page: cspa-appendices; }",
        f'@page cspa-appendices {{ @top-right {{ content: "Appendices"; {font} font-weight: bold; vertical-align: bottom; padding-bottom: 3mm; }} }}',
        # contents: the page number in a box of fixed width, so filling it in moves nothing
        ".cspa-contents--numbered a.cspa-toc-link { display: flex; align-items: baseline; gap: 6pt; "
        "border-bottom: 1px dotted #b1b4b6; }",
        ".cspa-contents--numbered .cspa-toc-page { flex: 0 0 3em; margin-left: auto; text-align: right; }",
    ]
    for i, section in enumerate(_layout(doc)):
        part = f"[id={_css_string(str(section['id']))}].cspa-outcome"
        top_right = (
            f"@top-right {{ content: {_css_string(str(section['title']))}; "
            f"{font} font-weight: bold; vertical-align: bottom; padding-bottom: 3mm; }}"
        )
        rules.append(f"{part} {{ page: cspa-section-{i}; }}")
        # the stylesheet names every subsection's and indicator's page (portrait or landscape):
        # here they take the part's, so its running header names it
        rules.append(
            f"{part} .cspa-subsection, {part} .cspa-indicator {{ page: cspa-section-{i}; }}"
        )
        rules.append(f"@page cspa-section-{i} {{ {top_right} }}")
        rules.append(
            f"[id={_css_string(str(section['id']))}]{WIDE_OUTCOME}, {part} {WIDE_SUBSECTION}, "
            f"{part} {WIDE_INDICATOR} {{ page: cspa-section-{i}-wide; }}"
        )
        rules.append(f"@page cspa-section-{i}-wide {{ size: A4 landscape; {top_right} }}")
    rules.append("}")
    return "\n".join(rules)


def _page_numbers(pdf: Path) -> dict[str, int]:
    """Each named destination (an element id Chromium linked to) and the page (from 1) it is on."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    return {
        str(name).lstrip("/"): reader.get_destination_page_number(dest) + 1
        for name, dest in reader.named_destinations.items()
    }


def _chromium_print(chromium: str, html: Path, pdf: Path) -> None:
    # absolute paths: a file URI cannot be relative, and `--output X.pdf` gives a relative folder
    html, pdf = html.resolve(), pdf.resolve()
    args = [
        chromium,
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # a profile of its own: printers running at once must not share (or wait for) one
        f"--user-data-dir={html.parent / 'profile'}",
        "--no-pdf-header-footer",
        "--generate-pdf-document-outline",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium will not run as root with its sandbox
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise CspaError(
            f"Chromium took more than {CHROMIUM_TIMEOUT_S} s to print {html.name}; "
            "set CSPA_PDF_ENGINE=weasyprint to print with WeasyPrint instead."
        ) from e
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        tail = "\n".join((done.stderr or "").strip().splitlines()[-5:])
        raise CspaError(
            f"Chromium could not print {html.name} (exit {done.returncode}): {tail}\n"
            "Set CSPA_PDF_ENGINE=weasyprint to print with WeasyPrint instead."
        )


def _chromium_pdf(doc: dict[str, Any], path: Path) -> Path:
    chromium = find_chromium()
    if chromium is None:
        raise CspaError(
            "No Chromium to print the PDF with (install Debian's chromium, or set CSPA_CHROMIUM); "
            "or set CSPA_PDF_ENGINE=weasyprint."
        )
    css = chromium_page_css(doc)
    with tempfile.TemporaryDirectory(prefix="cspa-pdf-", dir=path.parent) as tmp:
        html, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        numbers: dict[str, int] = {}
        for _ in range(MAX_PASSES):
            html.write_text(
                render_html(doc, for_print=True, page_numbers=numbers, extra_css=css),
                encoding="utf-8",
            )
            pdf.unlink(missing_ok=True)
            _chromium_print(chromium, html, pdf)
            found = _page_numbers(pdf)
            if found == numbers:
                break  # the contents print the pages the targets are on
            numbers = found
        else:
            logging.getLogger(__name__).warning(
                "contents page numbers did not settle after %d prints", MAX_PASSES
            )
        shutil.move(str(pdf), path)
    return path
