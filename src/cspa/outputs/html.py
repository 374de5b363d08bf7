"""HTML renderer: one self-contained, accessible page per report document.

``render_html(doc)`` lays out a report document (docs/report-spec.md) with the Jinja2
templates in ``templates/`` (autoescaped; ``_``-prefixed files are partials).  Everything
the page needs is inside it: the stylesheet is inlined, charts and the map are inline
SVG, there are no scripts and no web fonts, so it opens offline and prints (and WeasyPrint
turns it into the PDF, see pdf.py).

The renderer computes nothing: it shows the ``display`` strings, lights, blobs and
``basis`` lines it is given.  Its only work is arranging them: looking indicators up by
code for the contents, and turning a light into its word and shape.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from cspa.outputs.charts import indicator_chart_svg
from cspa.outputs.maps import neighbour_map_svg, neighbour_map_text

__all__ = ["LIGHTS", "render_html", "stylesheet"]

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: light -> (word, shape, fill colour).  A light is never shown by colour alone.
LIGHTS: dict[str, tuple[str, str, str]] = {
    "green": ("Green", "circle", "#00703c"),
    "amber": ("Amber", "triangle", "#f47738"),
    "red": ("Red", "square", "#d4351c"),
}
MAX_BLOBS = 5
BLOB = "●"


@functools.cache
def stylesheet(*, print_css: bool = True) -> str:
    """The inlined CSS: cspa's GOV.UK-style screen sheet, then the print sheet."""
    css = (STATIC / "cspa-govuk.css").read_text(encoding="utf-8")
    if print_css:
        css += "\n" + (STATIC / "cspa-print.css").read_text(encoding="utf-8")
    return css


def light_shape_svg(light: str | None, size: int = 14) -> Markup:
    if light not in LIGHTS:
        return Markup("")
    _word, shape, fill = LIGHTS[light]
    stroke = 'stroke="#0b0c0c" stroke-width="1"'
    if shape == "circle":
        body = f'<circle cx="7" cy="7" r="6" fill="{fill}" {stroke}/>'
    elif shape == "triangle":
        body = f'<polygon points="7,0.8 13.4,13 0.6,13" fill="{fill}" {stroke} stroke-linejoin="round"/>'
    else:
        body = f'<rect x="1" y="1" width="12" height="12" fill="{fill}" {stroke}/>'
    return Markup(f'<svg viewBox="0 0 14 14" width="{size}" height="{size}" aria-hidden="true" '
                  f'focusable="false">{body}</svg>')


def light_word(light: str | None) -> str:
    return LIGHTS[light][0] if light in LIGHTS else (light or "").capitalize()


def blob_glyphs(n: int | None) -> str:
    return BLOB * int(n) if n else ""


def plain_number(value: Any) -> str:
    """A chart point as plain text (46.0 -> 46): no rounding, only the float's own digits."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def nice_date(text: str | None) -> str:
    if not text:
        return ""
    try:
        d = dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return str(text)
    return f"{d.day} {d.strftime('%B %Y')}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(light_shape=light_shape_svg, light_word=light_word, blobs=blob_glyphs,
                       plain_number=plain_number, nice_date=nice_date)
    env.globals.update(MAX_BLOBS=MAX_BLOBS, chart_svg=lambda c: Markup(indicator_chart_svg(c)),
                       map_svg=lambda m: Markup(neighbour_map_svg(m)), map_text=neighbour_map_text)
    return env


@functools.cache
def _env() -> Environment:
    return _environment()


def _layout(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections in contents order, each subsection holding its indicator dicts.

    Indicators the ``sections`` list does not mention are kept, in an "Other indicators"
    section at the end, so nothing in the document is dropped.
    """
    by_code = {ind["code"]: ind for ind in doc.get("indicators") or []}
    used: set[str] = set()
    out = []
    for s_i, section in enumerate(doc.get("sections") or []):
        sid = str(section.get("id") or f"section-{s_i + 1}")
        subsections = []
        for sub_i, sub in enumerate(section.get("subsections") or []):
            inds = [by_code[c] for c in sub.get("indicators") or [] if c in by_code]
            used.update(i["code"] for i in inds)
            subsections.append({"id": f"{sid}-{sub_i + 1}", "title": sub.get("title"), "indicators": inds})
        out.append({"id": sid, "title": section.get("title") or sid, "subsections": subsections})
    rest = [ind for code, ind in by_code.items() if code not in used]
    if rest:
        out.append({"id": "other-indicators", "title": "Other indicators",
                    "subsections": [{"id": "other-indicators-1", "title": None, "indicators": rest}]})
    return out


def _basis_items(ind: dict[str, Any]) -> list[dict[str, str]]:
    """Where each figure made or judged by cspa came from, as (where, basis) pairs, in table order."""
    table = ind.get("table") or {}
    columns = table.get("columns") or []
    items, seen = [], set()
    for group in table.get("row_groups") or []:
        for row in group.get("rows") or []:
            for col, cell in zip(columns, row.get("cells") or [], strict=False):
                basis = (cell.get("basis") or "").strip()
                if not basis:
                    continue
                if cell.get("source") != "computed" and not cell.get("light") and not cell.get("blobs"):
                    continue
                where = ", ".join(str(x) for x in (group.get("label"), row.get("label"), col) if x)
                items.append({"where": where, "basis": basis})
                seen.add(basis)
    for j in ind.get("judgements") or []:
        basis = (j.get("basis") or "").strip()
        if basis and basis not in seen:
            where = ", ".join(str(x) for x in (j.get("measure"), j.get("geography"), j.get("period")) if x)
            items.append({"where": where, "basis": basis})
            seen.add(basis)
    return items


def render_html(doc: dict[str, Any]) -> str:
    """Render a report document as one self-contained HTML page (a ``str``)."""
    env = _env()
    template = env.get_template("report.html")
    status_symbols = (doc.get("legend") or {}).get("status_symbols") or {}
    related_codes = {ind["code"] for ind in doc.get("indicators") or []}
    return template.render(
        doc=doc,
        layout=_layout(doc),
        css=Markup(stylesheet()),
        status_symbols=status_symbols,
        related_codes=related_codes,
        basis_items=_basis_items,
        lights=LIGHTS,
        escape=escape,
    )
