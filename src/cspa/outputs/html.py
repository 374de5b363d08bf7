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

from cspa.outputs.charts import indicator_chart_svg
from cspa.outputs.judgement_columns import judgement_columns
from cspa.outputs.maps import neighbour_map_svg, neighbour_map_text
from cspa.outputs.styles import govuk_frontend_version, stylesheet

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


def _environment() -> Environment:
    env = Environment(
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
        chart_svg=lambda c: Markup(indicator_chart_svg(c)),
        chart_in_table=chart_in_table,
    )
    env.globals.update(
        MAX_BLOBS=MAX_BLOBS,
        chart_table=chart_table,
        map_svg=lambda m: Markup(neighbour_map_svg(m)),
        map_text=neighbour_map_text,
        govuk_frontend_version=govuk_frontend_version(),
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
    )
    part = _PARTS.get(key)
    if part is None:
        if len(_PARTS) > 5000:
            _PARTS.clear()
        part = _PARTS[key] = Markup(
            _env()
            .get_template(name)
            .render(ind=ind, hl=hl, related_targets=related_targets, status_symbols=status_symbols)
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
        out.append({"id": sid, "title": section.get("title") or sid, "subsections": subsections})
    rest = [ind for code, ind in by_code.items() if code not in used]
    if rest:
        out.append(
            {
                "id": "other-indicators",
                "title": "Other indicators",
                "subsections": [{"id": "other-indicators-1", "title": None, "indicators": rest}],
            }
        )
    return out


#: The ids the report page's own parts use (templates/report.html and its partials).
PAGE_IDS = frozenset(
    {
        "main-content",
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
            for i, (col, cell) in enumerate(
                zip(columns, (row.get("cells") or [])[start:], strict=False)
            ):
                parts = []
                judgements = cell.get("_judgements")
                if cell.get("display") or cell.get("status"):
                    shown.add(i)
                    n_figures += 1
                    basis = cell.get("basis")
                    if basis:
                        parts.append(basis)
                    for part in cell.get("judged") or ():
                        if part != basis and part != no_light:
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
                c = {"cell": cell, "col": col, "parts": parts, "note": None}
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
        "judgement_columns": _judgement_columns(table, kinds),
    }


def _judgement_columns(
    table: dict[str, Any], kinds: dict[str, set[str]]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Per row label (geography), in order, the judgement columns its shown figures have (``kinds``):
    a column only where at least one figure has that judgement (``table["_judgement_columns"]``
    gives their order, headings and meanings)."""
    columns = table.get("_judgement_columns") or []
    return [(label, [jc for jc in columns if jc["key"] in have]) for label, have in kinds.items()]


_NUMERIC_TD = "govuk-table__cell govuk-table__cell--numeric"
_EMPTY_FIGURE = f'<td class="{_NUMERIC_TD}"></td>\n'
_DAGGER = '<span class="cspa-dagger" aria-hidden="true">†</span><span class="govuk-visually-hidden"> (published)</span>'


def _figure_cell(c: dict[str, Any], status_symbols: dict[str, str], for_print: bool) -> str:
    """One figure's ``<td>``: the figure (linked to its note on screen), a dagger if published, a
    status symbol's meaning for screen readers, a light's word and shape, a band's blobs and number."""
    cell = c["cell"]
    display, status, light, blobs = (
        cell.get("display"),
        cell.get("status"),
        cell.get("light"),
        cell.get("blobs"),
    )
    dagger = cell.get("source") == "published" and display and not status
    classes = f"{_NUMERIC_TD} cspa-light--{light}" if light else _NUMERIC_TD
    if not dagger and (display or status):
        classes += " cspa-nd"
    if for_print:  # the legend explains symbols and daggers; every box costs WeasyPrint time
        figure = (
            f'<span class="cspa-status">{_esc(display or status)}</span>'
            if status
            else _esc(display or "") + ("†" if dagger else "")
        )
    else:
        if status and status_symbols.get(status):
            figure = (
                f'<span class="cspa-status"><span aria-hidden="true">{_esc(display or status)}</span>'
                f'<span class="govuk-visually-hidden">{_esc(status_symbols[status])}</span></span>'
            )
        else:
            figure = _esc(display) if display else ""
        note = c["note"]
        if note:
            figure = f'<a class="cspa-fig" href="#{note}" aria-describedby="{note}">{figure}</a>'
        if dagger:
            figure += _DAGGER
    if light:
        shape = light_glyph(light) if for_print else light_shape_svg(light)
        figure += (
            f'<span class="cspa-cell-extra cspa-light">{shape} {_esc(light_word(light))}</span>'
        )
    if blobs:
        figure += (
            f'<span class="cspa-cell-extra"><span class="cspa-blobs" aria-hidden="true">'
            f"{blob_glyphs(blobs)}</span> {blobs} of {MAX_BLOBS}</span>"
        )
    return f'<td class="{classes}">{figure}</td>\n'


_JUDGEMENT_TD = '<td class="govuk-table__cell cspa-judgement">'
_RANK_TD = (
    '<td class="govuk-table__cell cspa-judgement govuk-table__cell--numeric">'  # a rank is a number
)


def _judgement_cells(c: dict[str, Any] | None, keys: list[str], for_print: bool) -> list[str]:
    """A figure's judgement ``<td>``s, one per column ``keys``: its words (a rank as a number),
    linked on screen to the note saying how it was made; empty where the figure has no such judgement."""
    judgements = c.get("judgements") if c is not None else None
    out = []
    for key in keys:
        entry, note = judgements.get(key, (None, None)) if judgements else (None, None)
        if entry is None:
            out.append('<td class="govuk-table__cell"></td>\n')
            continue
        text = _esc(entry.get("display"))
        if note and not for_print:
            text = f'<a class="cspa-fig" href="#{note}" aria-describedby="{note}">{text}</a>'
        out.append(f"{_RANK_TD if entry.get('key') == 'rank' else _JUDGEMENT_TD}{text}</td>\n")
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
    judgement once per period: too wide for the page. Each figure and judgement links to its note (on screen;
    print names the places in each note instead); a published figure carries a dagger, a status
    symbol its meaning for screen readers, a light its word and shape, a band its blobs and number.
    Written in Python rather than a template: it is most of the page, and this is several times faster.
    """
    aid = pv["anchor"]
    columns = pv["columns"]
    table = ind.get("table") or {}
    out = [
        f'<div class="cspa-table-wrap" role="region" aria-labelledby="cap-{aid}" tabindex="0">\n'
        '<table class="govuk-table cspa-data">\n'
        f'<caption class="govuk-table__caption" id="cap-{aid}">'
        f"{_esc(table.get('caption') or '')}</caption>\n"
    ]
    judged = pv.get("judgement_columns") or []
    if any(kinds for _label, kinds in judged):
        out += _periods_down(pv, judged, status_symbols, for_print)
    else:
        out.append('<thead><tr><td class="govuk-table__header"></td>')
        out += [
            f'<th scope="col" class="govuk-table__header govuk-table__header--numeric">{_esc(c)}</th>'
            for c in columns
        ]
        out.append("</tr></thead>\n")
        for group in pv["groups"]:
            out.append("<tbody>\n")
            if group["label"]:
                out.append(
                    f'<tr><th scope="rowgroup" colspan="{len(columns) + 1}" class="govuk-table__header">'
                    f"{_esc(group['label'])}</th></tr>\n"
                )
            for row in group["rows"]:
                out.append(
                    f'<tr><th scope="row" class="govuk-table__header">{_esc(row["label"])}</th>\n'
                )
                out += [_figure_cell(c, status_symbols, for_print) for c in row["cells"]]
                out.append("</tr>\n")
            out.append("</tbody>\n")
    out.append("</table>\n</div>\n")
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
    num = "govuk-table__header govuk-table__header--numeric"
    top = ['<thead><tr><td class="govuk-table__header" rowspan="2"></td>']
    sub = ["<tr>"]
    for label, kinds in judged:
        if kinds:
            top.append(
                f'<th scope="colgroup" colspan="{1 + len(kinds)}" class="govuk-table__header">{_esc(label)}</th>'
            )
            sub.append(f'<th scope="col" class="{num}">Figure</th>')
            sub += [
                f'<th scope="col" class="govuk-table__header">{_esc(jc["label"])}</th>'
                for jc in kinds
            ]
        else:
            top.append(f'<th scope="col" rowspan="2" class="{num}">{_esc(label)}</th>')
    out = [*top, "</tr>\n", *sub, "</tr></thead>\n"]
    keys = [(label, [jc["key"] for jc in kinds]) for label, kinds in judged]
    for group in pv["groups"]:
        out.append("<tbody>\n")
        if group["label"]:
            out.append(
                f'<tr><th scope="rowgroup" colspan="{width + 1}" class="govuk-table__header">'
                f"{_esc(group['label'])}</th></tr>\n"
            )
        by_label = {row["label"]: row["cells"] for row in group["rows"]}
        # the geographies' cells in column order (a geography the group lacks has none)
        geographies = [(by_label.get(label, ()), kinds) for label, kinds in keys]
        for i, col in enumerate(columns):
            if i not in group["shown"]:
                continue  # a period this measure has no figure for (the table's columns are every measure's)
            out.append(f'<tr><th scope="row" class="govuk-table__header">{_esc(col)}</th>\n')
            for cells, kinds in geographies:
                c = cells[i] if i < len(cells) else None
                out.append(
                    _figure_cell(c, status_symbols, for_print) if c is not None else _EMPTY_FIGURE
                )
                if kinds:
                    out += _judgement_cells(c, kinds, for_print)
            out.append("</tr>\n")
        out.append("</tbody>\n")
    return out


def notes_list(ind: dict[str, Any], pv: dict[str, Any], for_print: bool = False) -> Markup:
    """The numbered notes saying how the table's figures were made (``pv`` from :func:`provenance`):
    a details element under the table, printed open."""
    if not pv["notes"]:
        return Markup("")
    out = [
        f'<details class="govuk-details cspa-basis"{" open" if for_print else ""}>\n'
        '<summary class="govuk-details__summary"><span class="govuk-details__summary-text">How these figures were made'
        f'<span class="govuk-visually-hidden"> ({_esc(ind.get("code"))})</span></span></summary>\n'
        '<div class="govuk-details__text">\n<ol class="govuk-list cspa-notes">\n'
    ]
    if for_print:  # plain text: no links point here, and every box costs WeasyPrint time
        out += [f"<li>{n['n']}. {_esc(n['where'])}: {_esc(n['text'])}</li>\n" for n in pv["notes"]]
    else:
        out += [
            f'<li id="{n["id"]}">{n["n"]}. <span class="cspa-basis__where">{_esc(n["where"])}:</span> '
            f"{_esc(n['text'])}</li>\n"
            for n in pv["notes"]
        ]
    out.append("</ol>\n</div>\n</details>\n")
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


def render_html(
    doc: dict[str, Any],
    *,
    for_print: bool = False,
    page_numbers: dict[str, int] | None = None,
    extra_css: str = "",
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
    return template.render(
        doc=doc,
        layout=_layout(doc),
        css=Markup(stylesheet() + ("\n" + extra_css if extra_css else "")),
        status_symbols=status_symbols,
        related_targets=related_targets,
        judgement_columns=judgement_columns(doc),
        appendices=appendices(doc),
        lights=LIGHTS,
        escape=escape,
        for_print=for_print,
        page_numbers=page_numbers,
    )
