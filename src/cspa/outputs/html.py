"""HTML renderer: one self-contained, accessible page per report document.

``render_html(doc)`` lays out a report document (docs/report-spec.md) with the Jinja2
templates in ``templates/`` (autoescaped; ``_``-prefixed files are partials).  Everything
the page needs is inside it: the stylesheet (GOV.UK Frontend's, then cspa's, see styles.py) is
inlined, charts and the map are inline SVG, there are no scripts and no web fonts, so it opens
offline and prints (Chromium or WeasyPrint turns it into the PDF, see pdf.py).

The renderer computes nothing: it shows the ``display`` strings, lights, blobs and
``basis`` lines it is given.  Its only work is arranging them: looking indicators up by
code for the contents, and turning a light into its word and shape.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from cspa.catalogue.vocabulary import reader_words
from cspa.outputs.charts import MARKER_DEFS, chart_keys, indicator_chart_svg
from cspa.outputs.judgement_columns import judgement_columns
from cspa.outputs.maps import neighbour_map_svg, neighbour_map_text
from cspa.outputs.styles import govuk_frontend_version, page_classes, stylesheet

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
    return Markup(
        f'<svg viewBox="0 0 14 14" width="{size}" height="{size}" aria-hidden="true" '
        f'focusable="false">{body}</svg>'
    )


#: the lights' shapes as text, for print: the same circle, triangle and square as light_shape_svg
LIGHT_GLYPHS = {"green": "\u25cf", "amber": "\u25b2", "red": "\u25a0"}


def light_glyph(light: str | None) -> Markup:
    """The light's shape as a coloured glyph (print: far cheaper for WeasyPrint than an SVG per cell)."""
    if light not in LIGHTS:
        return Markup("")
    return Markup(
        f'<span class="cspa-glyph cspa-glyph--{light}" aria-hidden="true">{LIGHT_GLYPHS[light]}</span>'
    )


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


def _for_reader(value: Any) -> Any:
    """Every plain string a template prints, with references to the seeds and paths in cspa's data
    worded for a reader (:func:`cspa.catalogue.vocabulary.reader_words`): the catalogue's notes,
    definitions and the framework's notes cite "000:L19"; the reader reads "line 19 of the 2008 APA
    dataset for Luton". Markup (HTML made in Python) passes as it is."""
    if type(value) is str and (":L" in value or "data/" in value):
        return reader_words(value)
    return value


def _environment() -> Environment:
    env = Environment(
        finalize=_for_reader,
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do"],
        auto_reload=False,  # the templates are package data: no stat() per include
    )
    env.filters.update(
        light_shape=light_shape_svg,
        light_word=light_word,
        blobs=blob_glyphs,
        plain_number=plain_number,
        nice_date=nice_date,
        anchor=anchor,
        light_glyph=light_glyph,
    )
    # What the per-indicator partials call for each of a report's ~430 indicators is a filter
    # (``ind | data_table(...)``): Jinja calls a filter directly, a global through Context.call, which
    # checks the callable for context arguments each time (about 1.5 us a call, ~3,000 calls a report).
    env.filters.update(
        provenance=provenance,
        data_table=data_table,
        notes_list=notes_list,
        indicator_part=indicator_part,
        chart_svg=lambda c, by=None, compact=True: Markup(
            indicator_chart_svg(c, labelledby=by, compact=compact)
        ),
        chart_keys=chart_keys,
        chart_in_table=chart_in_table,
    )
    env.globals.update(
        MAX_BLOBS=MAX_BLOBS,
        chart_table=chart_table,
        map_svg=lambda m: Markup(neighbour_map_svg(m)),
        map_text=neighbour_map_text,
        govuk_frontend_version=govuk_frontend_version(),
        marker_defs=Markup(MARKER_DEFS),
    )
    return env


@functools.cache
def _env() -> Environment:
    return _environment()


_PARTS: dict[tuple, Markup] = {}


def indicator_part(
    ind: dict[str, Any],
    name: str,
    hl: int,
    related_targets: dict[str, str],
    status_symbols: dict[str, str],
    show_codes: bool = True,
    same_as: tuple[str, str] | None = None,
) -> Markup:
    """A partial that shows only what the catalogue says of an indicator (``_definition.html``,
    ``_bands.html``): the same for every authority's report, so a batch renders each once.
    ``related_targets`` maps each indicator code in the page to its section's id: a related
    indicator links there only when it is in the page."""
    related = tuple((code, related_targets.get(code)) for code in ind.get("related") or ())
    fields = (
        "code",
        "title",
        "definition",
        "numerator_definition",
        "denominator_definition",
        "guidance",
        "health_warning",
        "source",
        "owner",
    )
    key = (
        name,
        hl,
        related,
        tuple(ind.get(f) for f in fields),
        tuple(ind.get("notes") or ()),
        repr(ind.get("bands")) if name == "_bands.html" else None,
        tuple(sorted(status_symbols.items())),
        show_codes,
        same_as,
    )
    part = _PARTS.get(key)
    if part is None:
        if len(_PARTS) > 5000:
            _PARTS.clear()
        part = _PARTS[key] = Markup(
            _env()
            .get_template(name)
            .render(
                ind=ind,
                hl=hl,
                related_targets=related_targets,
                status_symbols=status_symbols,
                show_codes=show_codes,
                same_as=same_as,
            )
        )
    return part


def _layout(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections in contents order, each subsection holding its indicator dicts.

    Indicators the ``sections`` list does not mention are kept, in an "Other indicators"
    section at the end, so nothing in the document is dropped.
    """
    by_code = {ind["code"]: ind for ind in doc.get("indicators") or []}
    used: set[str] = set()
    out = []
    for s_i, section in enumerate(doc.get("sections") or []):
        sid = anchor(section.get("id") or f"section-{s_i + 1}")
        if sid in PAGE_IDS:  # the seed's "Appendices" outcome beside the page's own appendices
            sid = f"outcome-{sid}"
        subsections = []
        for sub_i, sub in enumerate(section.get("subsections") or []):
            inds = [by_code[c] for c in sub.get("indicators") or [] if c in by_code]
            used.update(i["code"] for i in inds)
            subsections.append(
                {"id": f"{sid}-{sub_i + 1}", "title": sub.get("title"), "indicators": inds}
            )
        out.append(
            {
                "id": sid,
                "source_id": section.get("id"),
                "title": section.get("title") or sid,
                "subsections": subsections,
            }
        )
    rest = [ind for code, ind in by_code.items() if code not in used]
    if rest:
        out.append(
            {
                "id": "other-indicators",
                "source_id": None,
                "title": "Other indicators",
                "subsections": [{"id": "other-indicators-1", "title": None, "indicators": rest}],
            }
        )
    return out


#: The ids the report page's own parts use (templates/report.html and its partials).
PAGE_IDS = frozenset(
    {
        "main-content",
        "summary",
        "summary-heading",
        "changes",
        "how-to-read",
        "contents-heading",
        "appendices",
        "appendices-heading",
        "map",
    }
)


def appendices(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's appendices, each with the id of its place in the page (``id``): ``app-`` and
    its code, else its neighbour group, else its number; unique (a repeat gets ``-2``, ``-3`` ...)
    and the same in every run, so a link to an appendix keeps working."""
    out, seen = [], set()
    for i, app in enumerate(doc.get("appendices") or [], start=1):
        base = "app-" + anchor(app.get("code") or app.get("group") or i)
        aid, n = base, 2
        while aid in seen:
            aid, n = f"{base}-{n}", n + 1
        seen.add(aid)
        out.append({**app, "id": aid})
    return out


def anchor(code: Any) -> str:
    """An indicator code as an HTML id fragment: letters, digits, ``_`` and ``-`` kept, anything
    else (LAIT codes hold spaces, ``%``, ``<`` and commas) written as ``_`` and its hex code point,
    so ids stay valid, unique and usable in ``href`` and ``aria-labelledby``."""
    return _ANCHOR_UNSAFE.sub(lambda m: f"_{ord(m.group()):x}", str(code))


_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def _esc(text: Any) -> str:
    """HTML-escape text exactly as markupsafe does (``&#34;``, ``&#39;``), for the parts of the page
    built in Python: a few plain ``str.replace`` calls are several times cheaper per call, and a
    report makes tens of thousands."""
    text = str(text)
    # most figures and labels have nothing to replace; five substring tests beat a regex search
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return (
            text.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&#34;")
            .replace("'", "&#39;")
        )
    return text


def shown_columns(table: dict[str, Any]) -> tuple[int, list[str]]:
    """Where the shown columns start, and the columns: the latest ``table["window"]`` periods (all if no window)."""
    columns = list(table.get("columns") or [])
    window = table.get("window")
    start = len(columns) - window if window and len(columns) > window else 0
    return start, columns[start:]


def provenance(ind: dict[str, Any]) -> dict[str, Any]:
    """The indicator's table as shown, with how each figure was made as numbered notes.

    Every figure has a basis (from the engine) and, when judged, the parts of its judgement's basis.
    Each distinct part is printed once, in a numbered list under the table, saying where it applies
    (every figure, a row's figures, or the rows and periods it names); the parts only one figure
    has make that figure's own note. A figure links to its own note, or else to the first note that
    covers it, so the basis is one click (or, for a screen reader, the link's description) away
    without the same sentence repeated in every cell. A part saying only that the indicator has no
    traffic light is left out: the sentence under the table says so, for every figure.

    Returns ``columns`` (the shown periods), ``groups`` (row groups of rows of cells: ``cell``,
    ``col`` and ``note``, the id of the note the figure links to; each group's ``shown``, the
    indexes of the columns in which one of its rows has a figure) and ``notes`` (``n``, ``id``,
    ``where``, ``text``).
    """
    table = ind.get("table") or {}
    start, columns = shown_columns(table)
    code = anchor(ind.get("code"))
    no_light = f"no traffic light: {ind.get('light_rule')}" if ind.get("light_rule") else None
    groups, rows_flat = [], []
    found: dict[
        str, list[tuple[int, str]]
    ] = {}  # part -> (row number, period) of every figure with it
    n_figures = 0
    kinds: dict[
        str, set[str]
    ] = {}  # row label (geography) -> the judgements its shown figures have
    geo_of: dict[str, str | None] = {}  # row label -> its geography
    earlier = False  # an earlier period's figure was judged (its note is left to Excel and JSON)
    # the judgements some shown figure has a value of: a column of "n/a" alone (LAIT's series too
    # short for the seed's trend class) would turn the table periods down for nothing; the notes
    # still say why there is no trend
    informative: set[str] = set()
    # a table whose columns are the indicator's periods notes each row's latest figure (and what
    # every period shares); one laid out otherwise (the printed 1003HC) notes every figure
    periods = {o.get("period") for o in ind.get("observations") or ()}
    periodic = bool(columns) and set(columns) <= periods
    noted = []  # (cell as shown, its parts, its column judgements) of each figure with a basis, in table order
    for group in table.get("row_groups") or []:
        glabel = group.get("label")
        rows = []
        shown: set[int] = set()  # the shown columns in which a row of the group has a figure
        for row in group.get("rows") or []:
            label = row.get("label")
            ri = len(rows_flat)
            cells = []
            with_parts = 0
            have = kinds.setdefault(label, set())
            geo_of[label] = row.get("geography")
            comparator = row.get("geography") != "area"
            row_cells = (row.get("cells") or [])[start:]
            # how each judgement was made is noted for the row's latest figure shown: earlier
            # periods' were made the same way, and their numbers are in the Excel and JSON
            last = (
                max(
                    (
                        i
                        for i, cell in enumerate(row_cells)
                        if cell.get("display") or cell.get("status")
                    ),
                    default=-1,
                )
                if periodic
                else None  # columns that are not periods (a printed layout): every figure noted
            )
            # a figure's own basis is noted for every period where every figure of the row shares
            # it ("figure as supplied"), else for the latest: the rest were made the same way
            bases = [
                cell.get("basis") for cell in row_cells if cell.get("display") or cell.get("status")
            ]
            common = bases[0] if bases and all(b == bases[0] for b in bases) else None
            if last is None:
                common = None
            for i, (col, cell) in enumerate(zip(columns, row_cells, strict=False)):
                parts = []
                judgements = cell.get("_judgements")
                if cell.get("display") or cell.get("status"):
                    shown.add(i)
                    n_figures += 1
                    basis = cell.get("basis")
                    if basis and (last is None or i == last or basis == common):
                        parts.append(basis)
                    elif basis:
                        earlier = True
                    left_out = ()
                    if comparator and judgements:
                        # a comparator's progress is not shown: nor is how it was made
                        kept = {
                            e["basis"] for e in judgements if e["key"] not in COMPARATOR_LEFT_OUT
                        }
                        left_out = {
                            e["basis"]
                            for e in judgements
                            if e["key"] in COMPARATOR_LEFT_OUT and e["basis"] not in kept
                        }
                    if last is not None and i != last and cell.get("judged"):
                        earlier = True
                    for part in cell.get("judged") or () if last is None or i == last else ():
                        if part != basis and part != no_light and part not in left_out:
                            parts.append(part)
                    if parts:
                        with_parts += 1
                        place = (ri, col)
                        for part in parts:
                            places = found.get(part)
                            if places is None:
                                found[part] = [place]
                            else:
                                places.append(place)
                for e in judgements or ():
                    have.add(e["key"])
                    if e.get("value") != NOT_APPLICABLE:
                        informative.add(e["key"])
                c = {"cell": cell, "col": col, "parts": parts, "note": None}
                if judgements and not parts:
                    # an earlier period's judgements are shown in their columns as the latest's
                    # are (a rank history is read down the column); how they were made is said
                    # once, for the latest, and in full in Excel and JSON
                    c["judgements"] = {e["key"]: (e, None) for e in judgements}
                cells.append(c)
                if parts:
                    noted.append((c, parts, judgements))
            where = f"{glabel}, {label}" if glabel and label else (glabel or label or "Figure")
            r = {"label": label, "where": where, "cells": cells, "n": with_parts}
            rows.append(r)
            rows_flat.append(r)
        groups.append({"label": glabel, "rows": rows, "shown": shown})

    notes: list[dict[str, Any]] = []
    index: dict[str, str] = {}

    def where(places: list[tuple[int, str]]) -> str:
        if len(places) == 1:
            return f"{rows_flat[places[0][0]]['where']}, {places[0][1]}"
        if len(places) == n_figures and n_figures > 1:
            return "Every figure in the table"
        by_row: dict[int, list[str]] = {}
        for ri, col in places:
            by_row.setdefault(ri, []).append(col)
        return "; ".join(
            f"{rows_flat[ri]['where']}, every period shown"
            if len(cols) == rows_flat[ri]["n"] > 1
            else f"{rows_flat[ri]['where']}, {', '.join(str(c) for c in cols)}"
            for ri, cols in by_row.items()
        )

    def note(text: str, places: list[tuple[int, str]]) -> str:
        if text not in index:
            index[text] = f"n{len(notes) + 1}-{code}"
            notes.append(
                {"n": len(notes) + 1, "id": index[text], "where": where(places), "text": text}
            )
        return index[text]

    everywhere = [
        note(p, places) for p, places in found.items() if len(places) == n_figures and n_figures > 1
    ]
    for c, parts, judgements in noted:
        # the parts other figures share are numbered first, in the figure's order; then its own
        own, first_shared = [], None
        for p in parts:
            places = found[p]
            if len(places) == 1:
                own.append(p)
            elif first_shared is None:
                first_shared = index.get(p) or note(p, places)
            elif p not in index:
                note(p, places)
        c["note"] = note("; ".join(own), found[own[0]]) if own else first_shared or everywhere[0]
        # each judgement in a column of its own links to the note holding its basis (the figure's
        # own note when no other figure shares it)
        if judgements:
            c["judgements"] = {
                e["key"]: (
                    e,
                    index[e["basis"]]
                    if e.get("basis") in index and len(found[e["basis"]]) > 1
                    else c["note"],
                )
                for e in judgements
            }
    return {
        "columns": columns,
        "groups": groups,
        "notes": notes,
        "anchor": code,
        "judgement_columns": _judgement_columns(
            table, {label: have & informative for label, have in kinds.items()}, geo_of
        ),
        "earlier": earlier,
        "periodic": periodic,
    }


#: A judgement that could not be made for a figure (the trend class's "n/a"): shown in a column
#: only beside a judgement of the same kind that was made.
NOT_APPLICABLE = "n/a"

#: Judgements a comparator's column leaves out on screen and in print: how the neighbours' or
#: England's figure moved is in the Excel and JSON; the table's room goes to the authority's own.
COMPARATOR_LEFT_OUT = frozenset({"progress"})


def _judgement_columns(
    table: dict[str, Any], kinds: dict[str, set[str]], geo_of: dict[str, str | None] | None = None
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Per row label (geography), in order, the judgement columns its shown figures have (``kinds``):
    a column only where at least one figure has that judgement (``table["_judgement_columns"]``
    gives their order, headings and meanings); a comparator's progress is left out."""
    columns = table.get("_judgement_columns") or []
    geo_of = geo_of or {}
    return [
        (
            label,
            [
                jc
                for jc in columns
                if jc["key"] in have
                and (geo_of.get(label) == "area" or jc["key"] not in COMPARATOR_LEFT_OUT)
            ],
        )
        for label, have in kinds.items()
    ]


_DAGGER = "<span class=cspa-dagger aria-hidden=true>†</span>"
_DAGGER_SR = "<span class=govuk-visually-hidden> (published)</span>"
_ROW_PUBLISHED = (
    " <span class=cspa-dagger aria-hidden=true>†</span>"
    "<span class=govuk-visually-hidden> (published figures)</span>"
)


def _all_published(cells: list[dict[str, Any]]) -> bool:
    """Every figure of a row shown is published: the row's heading carries the dagger, once."""
    # a status symbol carries no dagger anyway: the row's figures with a value decide
    figures = [c["cell"] for c in cells if c["cell"].get("display") and not c["cell"].get("status")]
    return bool(figures) and all(f.get("source") == "published" for f in figures)


def _figure_cell(
    c: dict[str, Any], status_symbols: dict[str, str], for_print: bool, row_dagger: bool = False
) -> str:
    """One figure's ``<td>``: the figure, a dagger if published (on the row's heading when every
    figure of the row is), a status symbol's meaning for screen readers, a light's word and shape
    (for a comparator shaded for the authority, what the shading says of the authority), a band's
    blobs and number. Cells carry no classes but a light's shade: the stylesheet lays out every
    figure cell of a ``cspa-data`` table, which keeps a report of 400 tables small."""
    cell = c["cell"]
    display, status, light, blobs = (
        cell.get("display"),
        cell.get("status"),
        cell.get("light"),
        cell.get("blobs"),
    )
    dagger = cell.get("source") == "published" and display and not status and not row_dagger
    if status and status_symbols.get(status) and not for_print:
        # the symbol for the eye, its meaning for a screen reader (the key gives both)
        figure = (
            f"<b aria-hidden=true>{_esc(display or status)}</b>"
            f"<span class=govuk-visually-hidden>{_esc(status_symbols[status])}</span>"
        )
    elif status:
        figure = f'<span class="cspa-status">{_esc(display or status)}</span>'
    else:
        figure = _esc(display) if display else ""
    if dagger:
        figure += "†" if for_print else _DAGGER + _DAGGER_SR
    if light:
        shape = light_glyph(light) if for_print else light_shape_svg(light)
        words = cell.get("light_label") or light_word(light)
        figure += f'<span class="cspa-x cspa-light">{shape} {_esc(words)}</span>'
    if blobs:
        figure += (
            f'<span class="cspa-x"><span class="cspa-blobs" aria-hidden="true">'
            f"{blob_glyphs(blobs)}</span> {blobs} of {MAX_BLOBS}</span>"
        )
    if light:
        return f'<td class="cspa-l{light[0]}">{figure}</td>'
    return f"<td>{figure}</td>"


def _judgement_cells(c: dict[str, Any] | None, keys: list[str], for_print: bool) -> list[str]:
    """A figure's judgement ``<td>``s, one per column ``keys``: its words (a rank as "12 of 152");
    empty where the figure has no such judgement. How each was made is in the notes under the
    table, which name the rows and periods they apply to."""
    judgements = c.get("judgements") if c is not None else None
    out = []
    for key in keys:
        entry = judgements.get(key) if judgements else None
        out.append(f"<td>{_esc(entry[0].get('display'))}</td>" if entry else "<td></td>")
    return out


def data_table(
    ind: dict[str, Any], pv: dict[str, Any], status_symbols: dict[str, str], for_print: bool = False
) -> Markup:
    """The indicator's table as shown (``pv`` from :func:`provenance`), as HTML.

    A real table: caption, ``th scope="col"`` per column, ``th scope="row"`` per row, a ``rowgroup``
    header per measure. A table whose shown figures carry judgements in columns of their own
    (``cell["_judgements"]``: rank, quartile band, progress ...) is laid out with its columns as rows,
    as the seed prints its judged tables (000:L4035): a row per period, a column per geography and,
    beside each geography's figures, a column for each judgement one of them has, headed
    ``th scope="col"`` under the geography's ``colgroup`` heading. Periods across would need each
    judgement once per period: too wide for the page. The first column stays in view as the table
    scrolls sideways, and a table of periods across opens scrolled to its latest period (the
    stylesheet's ``cspa-latest``). How each figure was made is in the notes under the table; a
    published figure carries a dagger, a status symbol its meaning for screen readers, a light its
    word and shape, a band its blobs and number.
    Written in Python rather than a template: it is most of the page, and this is several times faster.
    """
    aid = pv.get("sid") or pv["anchor"]
    columns = pv["columns"]
    table = ind.get("table") or {}
    judged = pv.get("judgement_columns") or []
    down = any(kinds for _label, kinds in judged)
    caption = table.get("caption") or ""
    if caption and caption == ind.get("title"):
        # the caption would repeat the heading just above: the heading names the table instead
        out = [
            f'<div class="cspa-table-wrap{"" if down else " cspa-latest"}" role="region" '
            f'aria-labelledby="h-{aid}" tabindex="0">'
            f'<table class="govuk-table cspa-data" aria-labelledby="h-{aid}">\n'
        ]
    else:
        out = [
            f'<div class="cspa-table-wrap{"" if down else " cspa-latest"}" role="region" '
            f'aria-labelledby="cap-{aid}" tabindex="0">'
            '<table class="govuk-table cspa-data">'
            f'<caption class="govuk-table__caption" id="cap-{aid}">{_esc(caption)}</caption>\n'
        ]
    if down:
        out += _periods_down(pv, judged, status_symbols, for_print)
    else:
        out.append("<thead><tr><td></td>")
        out += [f"<th scope=col>{_esc(c)}</th>" for c in columns]
        out.append("</tr></thead>\n")
        for group in pv["groups"]:
            out.append("<tbody>")
            if group["label"]:
                out.append(
                    f'<tr><th scope="rowgroup" colspan="{len(columns) + 1}">'
                    f"{_esc(group['label'])}</th></tr>\n"
                )
            for row in group["rows"]:
                # a row of a geography's figures carries the dagger once when they all have one
                whole = pv.get("periodic", True) and _all_published(row["cells"])
                out.append(
                    f"<tr><th scope=row>{_esc(row['label'])}"
                    f"{_ROW_PUBLISHED if whole and not for_print else '†' if whole else ''}</th>"
                )
                out += [_figure_cell(c, status_symbols, for_print, whole) for c in row["cells"]]
                out.append("</tr>\n")
            out.append("</tbody>\n")
    out.append("</table></div>\n")
    return Markup("".join(out))


def _periods_down(
    pv: dict[str, Any],
    judged: list[tuple[str, list[dict[str, Any]]]],
    status_symbols: dict[str, str],
    for_print: bool,
) -> list[str]:
    """The table's head and bodies with its columns (periods) as rows and its rows (geographies) as
    columns, each followed by its judgement columns (see :func:`data_table`). A measure's body leaves
    out the periods it has no figure for: the change measures' periods (``03/04``) are not the
    levels' (``2003``), and a row of empty cells for each would double the table's length."""
    columns = pv["columns"]
    width = sum(1 + len(kinds) for _label, kinds in judged)
    # a geography whose every figure shown is published carries the dagger once, in its heading
    cells_of: dict[str, list] = {}
    for group in pv["groups"]:
        for row in group["rows"]:
            cells_of.setdefault(row["label"], []).extend(row["cells"])
    whole = {label: _all_published(cells) for label, cells in cells_of.items()}
    mark = "†" if for_print else _ROW_PUBLISHED
    top = ['<thead><tr><td rowspan="2"></td>']
    sub = ["<tr>"]
    for label, kinds in judged:
        dag = mark if whole.get(label) else ""
        if kinds:
            top.append(f'<th scope="colgroup" colspan="{1 + len(kinds)}">{_esc(label)}{dag}</th>')
            sub.append("<th scope=col>Figure</th>")
            sub += [f"<th scope=col class=cspa-j>{_esc(jc['label'])}</th>" for jc in kinds]
        else:
            top.append(f'<th scope="col" rowspan="2">{_esc(label)}{dag}</th>')
    out = [*top, "</tr>\n", *sub, "</tr></thead>\n"]
    keys = [(label, [jc["key"] for jc in kinds]) for label, kinds in judged]
    for group in pv["groups"]:
        out.append("<tbody>")
        if group["label"]:
            out.append(
                f'<tr><th scope="rowgroup" colspan="{width + 1}">{_esc(group["label"])}</th></tr>\n'
            )
        by_label = {row["label"]: row["cells"] for row in group["rows"]}
        # the geographies' cells in column order (a geography the group lacks has none)
        geographies = [(by_label.get(label, ()), kinds, whole.get(label)) for label, kinds in keys]
        for i, col in enumerate(columns):
            if i not in group["shown"]:
                continue  # a period this measure has no figure for (the table's columns are every measure's)
            out.append(f"<tr><th scope=row>{_esc(col)}</th>")
            for cells, kinds, published in geographies:
                c = cells[i] if i < len(cells) else None
                out.append(
                    _figure_cell(c, status_symbols, for_print, bool(published))
                    if c is not None
                    else "<td></td>"
                )
                if kinds:
                    out += _judgement_cells(c, kinds, for_print)
            out.append("</tr>\n")
        out.append("</tbody>\n")
    return out


def notes_list(ind: dict[str, Any], pv: dict[str, Any] | None, for_print: bool = False) -> Markup:
    """The provenance under the table: the notes saying how its figures were made (``pv`` from
    :func:`provenance`), each naming the rows and periods it applies to, then the catalogue's notes
    on the source and its transcription; one details element, printed open."""
    notes = pv["notes"] if pv else []
    source = pv["source_notes"] if pv and "source_notes" in pv else ind.get("notes") or []
    if not notes and not source:
        return Markup("")
    # styled by cspa.css as govuk-details looks (a report has 400: no classes on its parts)
    out = [
        f"<details class=cspa-basis{' open' if for_print else ''}>"
        "<summary>How these figures were made</summary><ol class=cspa-notes>"
    ]
    # how each figure was made, as the engine says it, with its references to the seeds worded
    # for a reader ("line 3083 of the 2008 APA dataset for Luton", not "000:L3083")
    out += [f"<li><b>{_esc(n['where'])}:</b> {_esc(reader_words(n['text']))}</li>" for n in notes]
    out += [f"<li><b>Source:</b> {_esc(n)}</li>" for n in source]
    out.append("</ol></details>\n")
    return Markup("".join(out))


def chart_in_table(chart: dict[str, Any], pv: dict[str, Any] | None) -> bool:
    """True when the indicator's table (as ``provenance`` shows it) already holds every point of the
    chart: same series as rows, same periods as columns, no quartile band. Then the table above the
    chart is its data table, and a second one would only repeat it."""
    if not pv or chart.get("quartile_bands") or not pv.get("groups"):
        return False
    rows = {r["label"] for r in pv["groups"][0]["rows"]}
    columns = set(pv["columns"])
    return all(
        s.get("name") in rows and all(p["period"] in columns for p in s.get("points") or [])
        for s in chart.get("series") or []
    )


def chart_table(chart: dict[str, Any]) -> list[tuple[str, list[Any], list[Any]]]:
    """The chart's data table: (period, a value per series, England quartiles if any) per period."""
    periods: list[str] = []
    by_series = []
    for s in chart.get("series") or []:
        pts = {}
        for p in s.get("points") or []:
            pts.setdefault(p["period"], p["value"])
            if p["period"] not in periods:
                periods.append(p["period"])
        by_series.append(pts)
    bands = {b["period"]: b for b in reversed(chart.get("quartile_bands") or [])}
    rows = []
    for period in periods:
        values = [plain_number(pts[period]) if period in pts else "" for pts in by_series]
        quart = []
        if chart.get("quartile_bands"):
            b = bands.get(period)
            quart = [
                plain_number(b[k]) if b else ""
                for k in ("lower_quartile", "median", "upper_quartile")
            ]
        rows.append((period, values, quart))
    return rows


def _provenances(doc: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    """Each indicator's table as shown (:func:`provenance`), and the notes that most of the tables
    share word for word ("Luton, every period shown: figure as supplied ..."): those are said once,
    in "How to read this report", and left out of each table's notes (a current report has 400)."""
    pvs = {ind["code"]: provenance(ind) for ind in doc.get("indicators") or [] if ind.get("table")}
    # the ids of an indicator's parts (its heading, its chart's caption) are short and numbered:
    # its section keeps "ind-" and its code, the id people link to
    for n, pv in enumerate(pvs.values(), start=1):
        pv["sid"] = f"x{n}"
    # a report whose figures all come from one release names it once (its attribution's "Data
    # vintage"), not in each of a current report's ~900 notes (issue 18: page weight)
    vintages = [
        a[len("Data vintage: ") :].rstrip(".")
        for a in doc.get("attribution") or []
        if a.startswith("Data vintage: ")
    ]
    said_once = []
    if len(vintages) == 1 and len(pvs) >= 20:
        suffix = f" ({vintages[0]})"
        for pv in pvs.values():
            for n in pv["notes"]:
                if suffix in n["text"]:
                    n["text"] = n["text"].replace(suffix, "")
        said_once.append({"where": "Every figure", "text": f"from the {vintages[0]}"})
    counts: dict[tuple[str, str], int] = {}
    for pv in pvs.values():
        for n in pv["notes"]:
            key = (n["where"], n["text"])
            counts[key] = counts.get(key, 0) + 1
    common = {k for k, n in counts.items() if n * 2 > len(pvs) and len(pvs) >= 20}
    if common:
        for pv in pvs.values():
            pv["notes"] = [n for n in pv["notes"] if (n["where"], n["text"]) not in common]
    # the catalogue's notes on the source that a fifth of the indicators share, likewise
    inds = doc.get("indicators") or []
    said: dict[str, int] = {}
    for ind in inds:
        for note in set(ind.get("notes") or ()):
            said[note] = said.get(note, 0) + 1
    shared = {t for t, n in said.items() if n * 5 > len(inds) and len(inds) >= 20}
    for ind in inds:
        pv = pvs.get(ind["code"])
        if pv is not None:
            pv["source_notes"] = [t for t in ind.get("notes") or () if t not in shared]
    return pvs, said_once + [{"where": w, "text": t} for w, t in sorted(common)] + [
        {"where": "Many indicators", "text": t} for t in sorted(shared)
    ]


def render_html(
    doc: dict[str, Any],
    *,
    for_print: bool = False,
    page_numbers: dict[str, int] | None = None,
    extra_css: str = "",
    stylesheet_href: str | None = None,
) -> str:
    """Render a report document as one self-contained HTML page (a ``str``).

    ``for_print`` leaves out what only a screen uses (the chart data tables, which print hides, and
    the lights' inline SVG shapes, printed as the same shapes in text): the page a PDF is printed
    from. ``page_numbers`` (anchor id -> page) writes the contents' page numbers into the page, for
    a printer that cannot compute them itself (pdf.py's Chromium path; WeasyPrint uses
    ``target-counter``); an empty dict keeps their room. ``extra_css`` is added after the stylesheet.
    """
    env = _env()
    template = env.get_template("report.html")
    status_symbols = (doc.get("legend") or {}).get("status_symbols") or {}
    related_targets = {
        ind["code"]: "ind-" + anchor(ind["code"]) for ind in doc.get("indicators") or []
    }
    layout = _layout(doc)
    # an indicator whose definition an earlier one in the page has says so, with a link to it
    # (LAIT's 434 definitions are 167 texts: the repeats were a tenth of the page)
    first: dict[str, tuple[str, str]] = {}
    same_as: dict[str, tuple[str, str]] = {}
    for section in layout:
        for sub in section["subsections"]:
            for ind in sub["indicators"]:
                text = ind.get("definition")
                if not text:
                    continue
                if text in first:
                    same_as[ind["code"]] = first[text]
                else:
                    first[text] = ("ind-" + anchor(ind["code"]), ind.get("title") or ind["code"])
    # one light rule for every indicator (LAIT's "quartile bands, not traffic lights") is said once
    rules = {ind.get("light_rule") for ind in doc.get("indicators") or []}
    provenances, common_notes = _provenances(doc)
    shown_columns = {
        jc["key"]
        for pv in provenances.values()
        for _label, kinds in pv["judgement_columns"]
        for jc in kinds
    }
    page = template.render(
        provenances=provenances,
        common_notes=common_notes,
        same_definition=same_as,
        light_rules_everywhere=next(iter(rules)) if len(rules) == 1 else None,
        doc=doc,
        layout=layout,
        section_ids={s["source_id"]: s["id"] for s in layout},
        show_codes=doc.get("_show_codes", True),
        stylesheet_href=stylesheet_href,
        css=Markup(_CSS_HERE),
        status_symbols=status_symbols,
        related_targets=related_targets,
        # the legend explains the judgement columns the page's tables show (a table shows a column
        # only where a figure shown has that judgement made: provenance)
        judgement_columns=[jc for jc in judgement_columns(doc) if jc["key"] in shown_columns],
        appendices=appendices(doc),
        lights=LIGHTS,
        escape=escape,
        for_print=for_print,
        page_numbers=page_numbers,
    )
    if stylesheet_href:
        return page
    return inline_stylesheet(page, extra_css)


def inline_stylesheet(page: str, extra_css: str = "") -> str:
    """``page`` (rendered with ``css=Markup(CSS_HERE)``) with its stylesheet inlined: GOV.UK
    Frontend's rules for the classes the page uses, cspa's own and the print sheet."""
    css = stylesheet(page_classes(page)) + ("\n" + extra_css if extra_css else "")
    return page.replace(_CSS_HERE, css, 1)


#: Where the inlined stylesheet goes, once the page is written and its classes are known.
_CSS_HERE = CSS_HERE = "/*cspa:stylesheet*/"
