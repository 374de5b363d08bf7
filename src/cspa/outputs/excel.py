"""Excel renderer (XlsxWriter): a workbook people can filter, sort, pivot and calculate with.

Every sheet is one real Excel table (``add_table``) whose header is the sheet's first row, frozen,
with nothing above it (issue 18: titles and blank rows above a table stop a filter or a pivot
taking the sheet as it stands). ``render_xlsx(doc, path)`` writes:

* **About**: the report's title, area, period, framework, version and production date, the
  attribution, the scope, what changed, and how to read the lights, bands, symbols and
  judgement columns, as the rows of an ``Item``/``Text`` table;
* **Contents**: every indicator with a link to its first row;
* **Summary** (where the report has one): the "at a glance" sentences, one row each, with the
  theme, judgement, direction, the glance list it is in and whether its theme shows it first;
* **Data**: every figure, one row each, with its judgements (the tidy table);
* one sheet per **outcome area** (the document's ``sections``; LAIT's themes): every indicator's
  printed cells, one row each, with the indicator's code, title and subsection on every row:
  where the cell sits in the printed table (group, row, column), the figure, its status, its
  source, the traffic light as a word, the band as blobs and "n of 5", a column for each
  judgement the document's tables show (rank as a number, quartile band as LAIT's letter,
  progress, trend and significance as words), and the one-line bases of the figure and of its
  judgements;
* **Definitions**: each indicator's definition, numerator, denominator, guidance, health
  warning, traffic-light rule, bands, source, owner, related indicators, table caption and
  chart summary;
* **Neighbours** and **Map**: the neighbour lists and the map's points.

Figures are stored as numbers, with a number format showing the same decimals as the
document's ``display`` string (``58.8%`` is stored as 58.8 with format ``0.0"%"``, so the
cell holds the document's value and shows its text).  A figure with a status symbol
(``..``, ``-`` ...) is stored as that text, and the status is also in its own column.
Every sheet carries the attribution beside its table and in its printed footer. The renderer
computes nothing: the number in a cell is the number its ``display`` string shows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cspa.outputs.judgement_columns import judgement_columns

__all__ = ["display_number", "render_xlsx"]

LIGHT_WORDS = {"green": "Green", "amber": "Amber", "red": "Red"}
LIGHT_FILLS = {"green": "#CCE2D8", "amber": "#FCD6C3", "red": "#F4CDC6"}
MAX_BLOBS = 5

_NUMBER = re.compile(
    r"^(?P<sign>[-−+])?(?P<cur>£)?(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?)(?P<pct>%)?$"
)

DATA_COLUMNS = [
    ("Code", 9),
    ("Group", 16),
    ("Row", 24),
    ("Column", 14),
    ("Figure", 11),
    ("Status", 8),
    ("Status meaning", 24),
    ("Source", 12),
    ("Traffic light", 12),
    ("Band", 14),
    ("Band range", 12),
    ("How the figure was made", 80),
]
#: After the judgement columns (see cspa.outputs.judgement_columns): the judgements' own basis lines.
JUDGED_COLUMN = ("How it was judged", 80)


def _data_columns(judged: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The indicator tables' columns: the figure's, a column per judgement, then the two basis columns."""
    return [
        *DATA_COLUMNS[:-1],
        *((jc["label"], 14) for jc in judged),
        DATA_COLUMNS[-1],
        JUDGED_COLUMN,
    ]


def display_number(display: str | None) -> tuple[float, str] | None:
    """The number a display string shows and the Excel format that shows it the same way.

    ``"74"`` -> (74, ``"0"``); ``"58.8%"`` -> (58.8, ``'0.0"%"'``); ``"£1,234"`` ->
    (1234, ``'"£"#,##0'``); ``"+8.3%"`` -> (8.3, ``'+0.0"%";-0.0"%";0.0"%"'``); ``"-£5"`` -> (-5, ...).  Anything else (``".."``, ``"3rd Q'tile"``, ``"1: 830"``) -> None.
    """
    if display is None:
        return None
    m = _NUMBER.match(display.strip())
    if not m:
        return None
    text = m.group("num")
    sign = (m.group("sign") or "").replace("−", "-")
    value = float(text.replace(",", "")) * (-1 if sign == "-" else 1)
    decimals = len(m.group("dec") or "")
    fmt = ("#,##0" if "," in text else "0") + ("." + "0" * decimals if decimals else "")
    if m.group("cur"):
        fmt = '"£"' + fmt
    if m.group("pct"):
        fmt += '"%"'
    if sign == "+":
        # the seed prints changes with a + sign: positive;negative;zero sections keep it
        fmt = f"+{fmt};-{fmt};{fmt}"
    return value, fmt


def _sheet_name(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "-", title).strip("'")[:31] or "Sheet"
    base, n = name, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


class _Formats:
    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self._cache: dict[tuple, Any] = {}
        self.title = wb.add_format({"bold": True, "font_size": 16})
        self.heading = wb.add_format({"bold": True, "font_size": 13})
        self.subheading = wb.add_format({"bold": True, "font_size": 11, "font_color": "#505A5F"})
        self.caption = wb.add_format({"italic": True})
        self.small = wb.add_format({"font_size": 9, "font_color": "#505A5F"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True})
        self.link = wb.add_format({"font_color": "#1D70B8", "underline": 1})
        self.header = wb.add_format({"bold": True, "bg_color": "#F3F2F1", "bottom": 1})

    def get(
        self, num_format: str | None = None, light: str | None = None, align: str | None = None
    ) -> Any:
        key = (num_format, light, align)
        if key not in self._cache:
            props: dict[str, Any] = {"valign": "top"}
            if num_format:
                props["num_format"] = num_format
            if light in LIGHT_FILLS:
                props["bg_color"] = LIGHT_FILLS[light]
            if align:
                props["align"] = align
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]


def _attribution(ws: Any, doc: dict[str, Any], fmt: _Formats, column: int) -> None:
    """The attribution beside the sheet's table (in ``column``, one line a row from the top, so the
    table starts at A1 and filters and pivots whole) and in the printed footer."""
    lines = doc.get("attribution") or []
    if lines:
        ws.set_column(column, column, 70)
    for r, line in enumerate(lines):
        ws.write_string(r, column, line, fmt.small)
    footer = " ".join(lines).replace("&", "&&")
    if footer:
        ws.set_footer(f"&L&8{footer[:200]}&R&8Page &P of &N")


def _doc_title(doc: dict[str, Any]) -> str:
    area = (doc.get("area") or {}).get("name", "")
    period = doc.get("period")
    return f"{doc.get('title', 'Report')}: {area}" + (f" ({period})" if period else "")


def _put(ws: Any, row: int, col: int, text: str | None, cell_format: Any = None) -> None:
    """Write text, leaving the cell blank (but formatted) when there is none."""
    if text:
        ws.write_string(row, col, text, cell_format)
    elif cell_format is not None:
        ws.write_blank(row, col, None, cell_format)


def _blobs_text(n: Any) -> str:
    return f"{'●' * int(n)} {int(n)} of {MAX_BLOBS}" if n else ""


def _layout(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str | None, list[dict[str, Any]]]]]]:
    by_code = {ind["code"]: ind for ind in doc.get("indicators") or []}
    used: set[str] = set()
    out = []
    for section in doc.get("sections") or []:
        subs = []
        for sub in section.get("subsections") or []:
            inds = [by_code[c] for c in sub.get("indicators") or [] if c in by_code]
            used.update(i["code"] for i in inds)
            subs.append((sub.get("title"), inds))
        out.append((section.get("title") or section.get("id") or "Section", subs))
    rest = [i for c, i in by_code.items() if c not in used]
    if rest:
        out.append(("Other indicators", [(None, rest)]))
    return out


def table_name(text: str, used: set[str]) -> str:
    """A name Excel accepts for a table, unique in the workbook: letters, digits and underscores,
    starting with a letter, never like a cell reference ("T2")."""
    base = "T_" + re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60]
    name, n = base, 2
    while name.lower() in used:
        name = f"{base}_{n}"
        n += 1
    used.add(name.lower())
    return name


def write_table(
    ws: Any,
    name: str,
    columns: list[tuple[str, int]],
    rows: list[list[Any]],
    fmt: _Formats,
    freeze_columns: int = 0,
) -> None:
    """``rows`` as one Excel table whose header row is the sheet's first row (so the sheet filters,
    sorts and pivots as it stands), numbers as numbers, the header frozen. A table holds at least
    one row (Excel's own rule): an empty one gets a blank row."""
    for c, (_h, width) in enumerate(columns):
        ws.set_column(c, c, width, fmt.wrap)
    for i, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if isinstance(v, bool):
                ws.write_string(i, c, str(v))
            elif isinstance(v, int | float):
                ws.write_number(i, c, v)
            elif v not in (None, ""):
                ws.write_string(i, c, str(v))
    ws.add_table(
        0,
        0,
        max(len(rows), 1),
        len(columns) - 1,
        {
            "name": name,
            "style": "Table Style Light 1",
            "columns": [{"header": h} for h, _w in columns],
        },
    )
    ws.freeze_panes(1, freeze_columns)


#: An outcome area's (or theme's) sheet: every indicator's printed cells as the rows of one table.
SECTION_COLUMNS = [("Code", 9), ("Indicator", 40), ("Subsection", 22)]


def _section_columns(judged: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [*SECTION_COLUMNS, *_data_columns(judged)[1:]]


def _indicator_records(ind: dict[str, Any]) -> list[tuple[Any, Any, Any, dict[str, Any]]]:
    table = ind.get("table") or {}
    columns = table.get("columns") or []
    return [
        (group.get("label"), r.get("label"), col, cell)
        for group in table.get("row_groups") or []
        for r in group.get("rows") or []
        for col, cell in zip(columns, r.get("cells") or [], strict=False)
    ]


def _write_indicator(
    ws: Any,
    row: int,
    ind: dict[str, Any],
    sub_title: str | None,
    fmt: _Formats,
    symbols: dict[str, str],
    judged: list[dict[str, Any]],
) -> int:
    """The indicator's printed cells as rows of its sheet's table from ``row``; the next row."""
    code = ind["code"]
    title = ind.get("title") or ""
    # the sentence under the table says it, once: not in every row (as in the HTML's notes)
    no_light = f"no traffic light: {ind['light_rule']}" if ind.get("light_rule") else None
    first_judgement = len(SECTION_COLUMNS) + len(DATA_COLUMNS) - 2
    basis_col = first_judgement + len(judged)
    for i, (group, rlabel, col, cell) in enumerate(_indicator_records(ind), start=row):
        light = cell.get("light")
        ws.write_string(i, 0, code)
        _put(ws, i, 1, title)
        _put(ws, i, 2, sub_title or "")
        _put(ws, i, 3, str(group or ""))
        _put(ws, i, 4, str(rlabel or ""))
        _put(ws, i, 5, str(col))
        display = cell.get("display") or ""
        status = cell.get("status")
        parsed = None if status else display_number(display)
        if parsed is not None:
            value, num_format = parsed
            ws.write_number(i, 6, value, fmt.get(num_format, light))
        else:
            _put(ws, i, 6, display or (status or ""), fmt.get(None, light, "right"))
        _put(ws, i, 7, status)
        _put(ws, i, 8, symbols.get(status, "") if status else "")
        source = cell.get("source") or ""
        _put(ws, i, 9, f"{source} †" if source == "published" and not status else source)
        _put(
            ws, i, 10, LIGHT_WORDS.get(light, light or ""), fmt.get(None, light) if light else None
        )
        _put(ws, i, 11, _blobs_text(cell.get("blobs")))
        _put(ws, i, 12, cell.get("band_range"))
        entries = {e["key"]: e for e in cell.get("_judgements") or ()}
        for c, jc in enumerate(judged, start=first_judgement):
            e = entries.get(jc["key"])
            if e is None:
                continue
            number = display_number(str(e.get("display") or ""))
            if e["key"] == "rank" and isinstance(e.get("value"), int | float):
                # a rank is a number (the table's "21 of 151": how many is in the Data sheet)
                ws.write_number(i, c, e["value"], fmt.get("0"))
            elif number is not None:
                ws.write_number(i, c, number[0], fmt.get(number[1]))
            else:  # words, and the quartile band as its letter
                _put(ws, i, c, str(e.get("display") or ""))
        _put(ws, i, basis_col, cell.get("basis"))
        _put(
            ws,
            i,
            basis_col + 1,
            "; ".join(
                p for p in cell.get("judged") or () if p not in (cell.get("basis"), no_light)
            ),
        )
        row = i + 1
    return row


def section_sheet(
    wb: Any,
    name: str,
    subs: list[tuple[str | None, list[dict[str, Any]]]],
    doc: dict[str, Any],
    fmt: _Formats,
    judged: list[dict[str, Any]],
    locations: dict[str, tuple[str, int]],
    used_tables: set[str],
) -> None:
    """One outcome area's (or theme's) sheet: one Excel table from A1 holding every indicator's
    printed cells, one row each, with the indicator's code, title and subsection on every row (so
    a filter on the code gives an indicator's table); ``locations`` gets each indicator's first row.
    The caption, light rule and chart summary of each indicator are on the Definitions sheet."""
    ws = wb.add_worksheet(name)
    symbols = (doc.get("legend") or {}).get("status_symbols") or {}
    columns = _section_columns(judged)
    for c, (_h, width) in enumerate(columns):
        ws.set_column(c, c, width)
    row = 1
    for sub_title, inds in subs:
        for ind in inds:
            if _indicator_records(ind):
                locations[ind["code"]] = (name, row)
            row = _write_indicator(ws, row, ind, sub_title, fmt, symbols, judged)
    if row == 1:
        row = 2  # Excel's tables hold at least one row
    ws.add_table(
        0,
        0,
        row - 1,
        len(columns) - 1,
        {
            "name": table_name(name, used_tables),
            "style": "Table Style Light 1",
            "columns": [{"header": h} for h, _w in columns],
        },
    )
    ws.freeze_panes(1, 1)
    _attribution(ws, doc, fmt, len(columns) + 1)


def _about_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """What a title page says, as the rows of a two-column table: the report, the area, the
    attribution, what changed, how to read the workbook."""
    area = doc.get("area") or {}
    rows: list[list[Any]] = [
        ["Report", _doc_title(doc)],
        ["Area", ", ".join(str(x) for x in (area.get("name"), area.get("region")) if x)],
        ["Period", str(doc.get("period") or "")],
        ["Framework", str((doc.get("framework") or {}).get("title") or "")],
        ["Version", str(doc.get("version") or "")],
        ["Produced", str(doc.get("produced") or "")],
    ]
    rows += [["Attribution", line] for line in doc.get("attribution") or []]
    rows += [["Scope", line] for line in doc.get("scope") or []]
    rows += [["What changed", line] for line in doc.get("changes") or []]
    legend = doc.get("legend") or {}
    rows += [
        [
            f"Traffic light: {tl.get('label') or LIGHT_WORDS.get(tl.get('light'), '')}",
            tl.get("meaning") or "",
        ]
        for tl in legend.get("traffic_lights") or []
    ]
    if legend.get("bands"):
        rows.append(
            [
                "Bands",
                f"{legend['bands']} The Band column shows blobs and the number, e.g. {_blobs_text(3)}.",
            ]
        )
    if legend.get("comparator_shading"):
        rows.append(["Shading of comparators", legend["comparator_shading"]])
    rows += [
        [f"Status {symbol}", meaning]
        for symbol, meaning in (legend.get("status_symbols") or {}).items()
    ]
    if legend.get("published"):
        rows.append(["Published (†)", legend["published"]])
    if legend.get("significance"):
        rows.append(["Significance", legend["significance"]])
    rows += [[jc["label"], jc.get("meaning") or ""] for jc in judgement_columns(doc)]
    rows.append(
        [
            "Numbers",
            "Figures are stored as numbers with the report's decimals; a percentage such as 58.8% "
            "is stored as 58.8.",
        ]
    )
    rows.append(
        [
            "Sheets",
            "Each sheet is one Excel table whose header is its first row: Contents lists the "
            "indicators; Data has every figure, one row each; one sheet per outcome area or theme "
            "has every printed cell; Definitions, Neighbours and Map follow.",
        ]
    )
    m = doc.get("map")
    if m:
        from cspa.outputs.maps import neighbour_map_text

        rows.append(["Map", neighbour_map_text(m)])
        if m.get("note"):
            rows.append(["Map note", m["note"]])
    return rows


def about_sheet(
    wb: Any, doc: dict[str, Any], fmt: _Formats, more: list[list[Any]] | None = None
) -> None:
    """The About sheet: the report's title, attribution and how to read it, as one table from A1."""
    ws = wb.add_worksheet("About")
    for i, row in enumerate(_about_rows(doc) + (more or []), start=1):
        if row[0].startswith("Traffic light: "):
            light = next(
                (k for k, w in LIGHT_WORDS.items() if row[0].endswith(w)),
                None,
            )
            ws.write_string(i, 0, row[0], fmt.get(None, light))
        else:
            ws.write_string(i, 0, row[0])
        _put(ws, i, 1, row[1])
    n = len(_about_rows(doc)) + len(more or [])
    ws.set_column(0, 0, 26, fmt.wrap)
    ws.set_column(1, 1, 110, fmt.wrap)
    ws.add_table(
        0,
        0,
        max(n, 1),
        1,
        {
            "name": "About",
            "style": "Table Style Light 1",
            "columns": [{"header": "Item"}, {"header": "Text"}],
        },
    )
    ws.freeze_panes(1, 0)
    footer = " ".join(doc.get("attribution") or []).replace("&", "&&")
    if footer:
        ws.set_footer(f"&L&8{footer[:200]}&R&8Page &P of &N")


def contents_sheet(
    wb: Any, doc: dict[str, Any], fmt: _Formats, locations: dict[str, tuple[str, int]]
) -> None:
    """Every indicator, one row each, with a link to its first row on its sheet (or, where it has
    no printed cells, to its definition)."""
    ws = wb.get_worksheet_by_name("Contents")
    columns = [("Code", 12), ("Title", 90), ("Outcome area", 34), ("Subsection", 34), ("Go to", 30)]
    items = [
        (ind["code"], ind.get("title") or "", section_title, sub_title or "")
        for section_title, subs in _layout(doc)
        for sub_title, inds in subs
        for ind in inds
    ]
    definitions = {ind["code"]: i for i, ind in enumerate(doc.get("indicators") or [], start=1)}
    write_table(ws, "Contents", columns, [list(it) for it in items], fmt)
    for i, (code, *_rest) in enumerate(items, start=1):
        if code in locations:
            sheet, at = locations[code]
        else:
            sheet, at = "Definitions", definitions.get(code, 0)
        ws.write_url(
            i, 4, f"internal:'{sheet}'!A{at + 1}", fmt.link, string=f"{sheet}, row {at + 1}"
        )
    _attribution(ws, doc, fmt, len(columns) + 1)


#: The Summary sheet: the report's "at a glance" sentences, one row each.
SUMMARY_COLUMNS = [
    ("Theme", 30),
    ("Code", 14),
    ("Indicator", 40),
    ("Measure", 16),
    ("Period", 10),
    ("Judgement", 13),
    ("Direction", 10),
    ("At a glance", 26),
    ("First in theme", 10),
    ("Sentence", 100),
]


def _summary_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    """The ``Summary`` sheet: every sentence of the report's summary (``summary``), one row each,
    with its theme, the glance list it is in (if any) and whether its theme shows it first, as the
    HTML's "At a glance" lays them out (``_summary``): filter on Worse to read where the authority
    falls short, theme by theme."""
    entries = doc.get("summary") or []
    if not entries:
        return
    layout = doc.get("_summary") or {}
    theme_of, lead = {}, set()
    for t in layout.get("themes") or []:
        theme_of.update(dict.fromkeys(t.get("entries") or [], t.get("title")))
        lead.update(t.get("lead") or [])
    headings = layout.get("headings") or {}
    glance = {
        i: headings.get(part, part)
        for part, idx in (layout.get("glance") or {}).items()
        for i in idx
    }
    titles = {ind["code"]: ind.get("title") or "" for ind in doc.get("indicators") or []}
    rows = [
        [
            theme_of.get(i, ""),
            e["indicator"],
            titles.get(e["indicator"], ""),
            e.get("measure") or "",
            e.get("period") or "",
            e["kind"],
            e["direction"].capitalize(),
            glance.get(i, ""),
            "Yes" if i in lead else "",
            e["sentence"],
        ]
        for i, e in enumerate(entries)
    ]
    ws = wb.get_worksheet_by_name("Summary")
    write_table(ws, "Summary", SUMMARY_COLUMNS, rows, fmt)
    _attribution(ws, doc, fmt, len(SUMMARY_COLUMNS) + 1)


def _definitions_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    ws = wb.add_worksheet("Definitions")
    cols = [
        ("Code", 9, "code"),
        ("Title", 50, "title"),
        ("Outcome area", 18, "section"),
        ("Subsection", 24, "subsection"),
        ("Definition", 60, "definition"),
        ("Numerator", 50, "numerator_definition"),
        ("Denominator", 50, "denominator_definition"),
        ("Guidance", 70, "guidance"),
        ("Health warning", 50, "health_warning"),
        ("Traffic lights", 40, "light_rule"),
        ("Bands", 40, None),
        ("Source", 30, "source"),
        ("Owner", 20, "owner"),
        ("Related", 20, None),
        ("Table", 50, None),
        ("Chart summary", 60, None),
        ("Notes", 50, None),
    ]
    rows = []
    for ind in doc.get("indicators") or []:
        row = []
        for header, _w, key in cols:
            if key:
                value = ind.get(key)
            elif header == "Bands":
                value = "; ".join(
                    f"{b.get('periods')}: "
                    + ", ".join(
                        f"{cut} ({_blobs_text(bl)})"
                        for cut, bl in zip(
                            b.get("cutoffs") or [], b.get("blobs") or [], strict=False
                        )
                    )
                    for b in ind.get("bands") or []
                )
            elif header == "Related":
                value = ", ".join(ind.get("related") or [])
            elif header == "Table":
                value = (ind.get("table") or {}).get("caption")
            elif header == "Chart summary":
                value = (ind.get("chart") or {}).get("summary")
            else:
                value = " ".join(ind.get("notes") or [])
            row.append(str(value) if value not in (None, "") else None)
        rows.append(row)
    write_table(ws, "Definitions", [(h, w) for h, w, _k in cols], rows, fmt, freeze_columns=1)
    _attribution(ws, doc, fmt, len(cols) + 1)


def _neighbours_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    rows = [
        [
            app.get("code") or "",
            app.get("title") or "",
            n.get("rank") if isinstance(n.get("rank"), int | float) else None,
            str(n.get("name") or ""),
            str(n.get("code") or ""),
            n.get("closeness") if isinstance(n.get("closeness"), int | float) else None,
        ]
        for app in doc.get("appendices") or []
        for n in app.get("neighbours") or []
    ]
    if not rows:
        return
    ws = wb.add_worksheet("Neighbours")
    columns = [
        ("Appendix", 10),
        ("Title", 60),
        ("Rank", 8),
        ("Neighbour", 28),
        ("DfE code", 12),
        ("Closeness", 12),
    ]
    write_table(ws, "Neighbours", columns, rows, fmt)
    _attribution(ws, doc, fmt, len(columns) + 1)


def _map_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    m = doc.get("map")
    if not m:
        return
    ws = wb.add_worksheet("Map")
    points = [("area", m.get("area") or {})] + [("neighbour", n) for n in m.get("neighbours") or []]
    rows = [
        [
            role,
            str(p.get("name") or ""),
            p.get("rank") if isinstance(p.get("rank"), int | float) else None,
            *(p.get(k) if isinstance(p.get(k), int | float) else None for k in ("lat", "long")),
        ]
        for role, p in points
    ]
    columns = [("Role", 12), ("Name", 34), ("Rank", 8), ("Latitude", 12), ("Longitude", 12)]
    write_table(ws, "MapPoints", columns, rows, fmt)
    for i, row in enumerate(rows, start=1):
        for c in (3, 4):
            if row[c] is not None:
                ws.write_number(i, c, row[c], fmt.get("0.0000"))
    _attribution(ws, doc, fmt, len(columns) + 1)


#: The tidy ``Data`` sheet's columns: one row per figure, as analysts filter and pivot (issue 18).
TIDY_COLUMNS = [
    ("Area", 18),
    ("Indicator", 14),
    ("Title", 48),
    ("Measure", 24),
    ("Period", 11),
    ("Geography", 22),
    ("Value", 11),
    ("Status", 8),
    ("Source", 11),
    ("Band", 7),
    ("Light", 18),
    ("Quartile", 9),
    ("Rank", 7),
    ("Ranked of", 10),
    ("Trend", 16),
    ("Significance", 18),
    ("Progress", 10),
    ("How the figure was made", 60),
    ("How it was judged", 60),
]

_GEOGRAPHY_WORDS = {
    "statistical_neighbours": "Statistical neighbours",
    "england": "England",
    "region": "Region",
}


def _tidy_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """Every figure of the document, one row each, with its judgements (see TIDY_COLUMNS)."""
    area = str((doc.get("area") or {}).get("name") or "")
    shading = {"green": "better", "amber": "similar", "red": "worse"}
    rows = []
    for ind in doc.get("indicators") or []:
        judged: dict[tuple, list[dict[str, Any]]] = {}
        for j in ind.get("judgements") or []:
            judged.setdefault((j.get("measure_id"), j["period"], j["geography"]), []).append(j)
        for o in ind.get("observations") or []:
            js = judged.get((o.get("measure_id"), o["period"], o["geography"]), [])

            def first(key: str, js: list[dict[str, Any]] = js) -> Any:
                return next((j[key] for j in js if j.get(key) is not None), None)

            light = None
            for j in js:
                if j.get("traffic_light"):
                    light = j["traffic_light"]
                    if j.get("_for_area"):  # the comparator's shading says how the area compares
                        light = f"{light} ({area} {shading.get(light, '')})".strip()
                    break
            quartile = first("quartile_position") or (
                "ABCD"[first("quartile") - 1] if first("quartile") in (1, 2, 3, 4) else None
            )
            geo = o["geography"]
            rows.append(
                [
                    area,
                    ind["code"],
                    ind.get("title"),
                    o.get("measure"),
                    o["period"],
                    area if geo == "area" else _GEOGRAPHY_WORDS.get(geo, geo),
                    o,  # the value: written as a number, formatted as the report shows it
                    o.get("status"),
                    o.get("source"),
                    first("band"),
                    light,
                    quartile,
                    first("rank"),
                    first("rank_of"),
                    first("trend"),
                    first("significance"),
                    first("progress"),
                    o.get("basis"),
                    "; ".join(dict.fromkeys(j["basis"] for j in js if j.get("basis"))) or None,
                ]
            )
    return rows


def _data_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    """The ``Data`` sheet: every figure, one row each, as one Excel table (filter, sort, pivot);
    values as numbers, formatted with the report's decimals."""
    ws = wb.add_worksheet("Data")
    for c, (_h, width) in enumerate(TIDY_COLUMNS):
        ws.set_column(c, c, width)
    rows = _tidy_rows(doc)
    value_col = 6
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            if c == value_col:
                o = v
                got = display_number(o.get("display")) if o.get("status") is None else None
                if o.get("value") is not None and got is not None:
                    ws.write_number(r, c, float(o["value"]), fmt.get(got[1]))
                elif o.get("value") is not None:
                    ws.write_number(r, c, float(o["value"]))
                elif o.get("display"):
                    ws.write_string(r, c, str(o["display"]))
            elif isinstance(v, bool):
                ws.write_string(r, c, str(v))
            elif isinstance(v, int | float):
                ws.write_number(r, c, v)
            elif v is not None:
                ws.write_string(r, c, str(v))
    ws.add_table(
        0,
        0,
        max(len(rows), 1),
        len(TIDY_COLUMNS) - 1,
        {
            "name": "Data",
            "style": "Table Style Light 1",
            "columns": [{"header": h} for h, _w in TIDY_COLUMNS],
        },
    )
    ws.freeze_panes(1, 0)
    # the attribution beside the table (the table starts at A1, so it filters and pivots whole),
    # and in the printed footer
    _attribution(ws, doc, fmt, len(TIDY_COLUMNS) + 1)


def render_xlsx(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the report document as an .xlsx workbook at ``path``; return the path."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    wb.set_properties(
        {
            "title": _doc_title(doc),
            "author": str((doc.get("framework") or {}).get("publisher") or "cspa"),
            "subject": str((doc.get("area") or {}).get("name") or ""),
            "comments": f"Produced by {doc.get('version', 'cspa')} on {doc.get('produced', '')}. "
            + " ".join(doc.get("attribution") or []),
        }
    )
    fmt = _Formats(wb)
    # every sheet is one Excel table whose header is the sheet's first row (issue 18): the title,
    # attribution and legend are the About sheet's rows (and the workbook's properties)
    about_sheet(wb, doc, fmt)
    wb.add_worksheet("Contents")
    if doc.get("summary"):
        wb.add_worksheet("Summary")
    _data_sheet(wb, doc, fmt)
    used = {"about", "contents", "summary", "data", "definitions", "neighbours", "map"}
    used_tables = {"about", "contents", "summary", "data", "definitions", "neighbours", "mappoints"}
    locations: dict[str, tuple[str, int]] = {}
    judged = judgement_columns(doc)
    for section_title, subs in _layout(doc):
        name = _sheet_name(section_title, used)
        section_sheet(wb, name, subs, doc, fmt, judged, locations, used_tables)
    contents_sheet(wb, doc, fmt, locations)
    _summary_sheet(wb, doc, fmt)
    _definitions_sheet(wb, doc, fmt)
    _neighbours_sheet(wb, doc, fmt)
    _map_sheet(wb, doc, fmt)
    wb.close()
    return path
