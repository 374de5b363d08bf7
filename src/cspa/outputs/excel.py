"""Excel renderer (XlsxWriter): a workbook people can filter, sort and calculate with.

``render_xlsx(doc, path)`` writes:

* **Contents**: title, area, version and production date, the attribution, a table of
  every indicator with a link to where it is, what changed, and how to read the lights,
  bands and symbols;
* one sheet per **outcome area** (the document's ``sections``): for each indicator a
  heading, the table caption and a real Excel table (``add_table``) with one row per
  printed cell: where it sits in the printed table (group, row, column), the figure, its
  status, its source, the traffic light as a word, the band as blobs and "n of 5", a
  column for each judgement the document's tables show (rank as a number, quartile band
  as LAIT's letter, progress, trend and significance as words), and the one-line bases
  of the figure and of its judgements;
* **Definitions**: each indicator's definition, numerator, denominator, guidance, health
  warning, traffic-light rule, bands, source, owner and related indicators;
* **Appendices**: the neighbour lists and the map's points.

Figures are stored as numbers, with a number format showing the same decimals as the
document's ``display`` string (``58.8%`` is stored as 58.8 with format ``0.0"%"``, so the
cell holds the document's value and shows its text).  A figure with a status symbol
(``..``, ``-`` ...) is stored as that text, and the status is also in its own column.
Every sheet carries the attribution lines at the top and in its printed footer, and its
header rows are frozen.  The renderer computes nothing: the number in a cell is the
number its ``display`` string shows.
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


def _attribution(ws: Any, doc: dict[str, Any], fmt: _Formats, row: int) -> int:
    for line in doc.get("attribution") or []:
        ws.write_string(row, 0, line, fmt.small)
        row += 1
    footer = " ".join(doc.get("attribution") or []).replace("&", "&&")
    if footer:
        ws.set_footer(f"&L&8{footer[:200]}&R&8Page &P of &N")
    return row


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


def _write_indicator(
    ws: Any,
    row: int,
    ind: dict[str, Any],
    doc: dict[str, Any],
    fmt: _Formats,
    symbols: dict[str, str],
    judged: list[dict[str, Any]] | None = None,
) -> int:
    code = ind["code"]
    ws.write_string(row, 0, code, fmt.heading)
    ws.write_string(row, 1, ind.get("title") or "", fmt.heading)
    row += 1
    table = ind.get("table") or {}
    if table.get("caption"):
        ws.write_string(row, 1, table["caption"], fmt.caption)
        row += 1
    records = []
    columns = table.get("columns") or []
    for group in table.get("row_groups") or []:
        for r in group.get("rows") or []:
            for col, cell in zip(columns, r.get("cells") or [], strict=False):
                records.append((group.get("label"), r.get("label"), col, cell))
    judged = judged or []
    columns_out = _data_columns(judged)
    # the sentence under the table says it, once: not in every row (as in the HTML's notes)
    no_light = f"no traffic light: {ind['light_rule']}" if ind.get("light_rule") else None
    basis_col = len(columns_out) - 2
    if records:
        first = row
        last = row + len(records)
        ws.add_table(
            first,
            0,
            last,
            len(columns_out) - 1,
            {
                "name": f"T_{re.sub(r'[^A-Za-z0-9_]', '_', code)}",
                "columns": [{"header": h} for h, _w in columns_out],
                "style": "Table Style Light 1",
            },
        )
        for i, (group, rlabel, col, cell) in enumerate(records, start=first + 1):
            light = cell.get("light")
            ws.write_string(i, 0, code)
            _put(ws, i, 1, str(group or ""))
            _put(ws, i, 2, str(rlabel or ""))
            _put(ws, i, 3, str(col))
            display = cell.get("display") or ""
            status = cell.get("status")
            parsed = None if status else display_number(display)
            if parsed is not None:
                value, num_format = parsed
                ws.write_number(i, 4, value, fmt.get(num_format, light))
            else:
                _put(ws, i, 4, display or (status or ""), fmt.get(None, light, "right"))
            _put(ws, i, 5, status)
            _put(ws, i, 6, symbols.get(status, "") if status else "")
            source = cell.get("source") or ""
            _put(ws, i, 7, f"{source} †" if source == "published" and not status else source)
            _put(
                ws,
                i,
                8,
                LIGHT_WORDS.get(light, light or ""),
                fmt.get(None, light) if light else None,
            )
            _put(ws, i, 9, _blobs_text(cell.get("blobs")))
            _put(ws, i, 10, cell.get("band_range"))
            entries = {e["key"]: e for e in cell.get("_judgements") or ()}
            for c, jc in enumerate(judged, start=11):
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
        row = last + 1
    if ind.get("light_rule"):
        ws.write_string(row, 1, f"Traffic lights: {ind['light_rule']}")
    elif records:
        ws.write_string(row, 1, "Traffic lights have not been applied to this indicator.")
    row += 1
    if ind.get("chart") and ind["chart"].get("summary"):
        ws.write_string(row, 1, f"Chart summary: {ind['chart']['summary']}")
        row += 1
    return row + 1


def _contents_sheet(
    wb: Any, doc: dict[str, Any], fmt: _Formats, locations: dict[str, tuple[str, int]]
) -> None:
    ws = wb.get_worksheet_by_name("Contents")
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 90)
    ws.set_column(2, 3, 34)
    ws.set_column(4, 4, 26)
    ws.write_string(0, 0, _doc_title(doc), fmt.title)
    row = _attribution(ws, doc, fmt, 1)
    facts = [
        (
            "Area",
            ", ".join(
                str(x)
                for x in (
                    (doc.get("area") or {}).get("name"),
                    (doc.get("area") or {}).get("region"),
                )
                if x
            ),
        ),
        ("Period", str(doc.get("period") or "")),
        ("Framework", str((doc.get("framework") or {}).get("title") or "")),
        ("Version", str(doc.get("version") or "")),
        ("Produced", str(doc.get("produced") or "")),
    ]
    for key, value in facts:
        if value:
            ws.write_string(row, 0, key, fmt.bold)
            ws.write_string(row, 1, value)
            row += 1
    row += 1
    ws.write_string(row, 0, "Contents", fmt.heading)
    row += 1
    header_row = row
    items = []
    for section_title, subs in _layout(doc):
        for sub_title, inds in subs:
            for ind in inds:
                items.append((ind["code"], ind.get("title") or "", section_title, sub_title or ""))
    if items:
        ws.add_table(
            row,
            0,
            row + len(items),
            4,
            {
                "name": "Contents",
                "style": "Table Style Light 1",
                "columns": [
                    {"header": h} for h in ("Code", "Title", "Outcome area", "Subsection", "Go to")
                ],
            },
        )
        for i, (code, title, section_title, sub_title) in enumerate(items, start=row + 1):
            ws.write_string(i, 0, code)
            ws.write_string(i, 1, title)
            ws.write_string(i, 2, section_title)
            _put(ws, i, 3, sub_title)
            if code in locations:
                sheet, at = locations[code]
                ws.write_url(
                    i, 4, f"internal:'{sheet}'!A{at + 1}", fmt.link, string=f"{sheet}, row {at + 1}"
                )
        row += len(items) + 2
    ws.freeze_panes(header_row + 1, 0)
    if doc.get("changes"):
        ws.write_string(row, 0, "What changed since the last version", fmt.heading)
        row += 1
        for change in doc["changes"]:
            ws.write_string(row, 1, change, fmt.wrap)
            row += 1
        row += 1
    legend = doc.get("legend") or {}
    ws.write_string(row, 0, "How to read this workbook", fmt.heading)
    row += 1
    for tl in legend.get("traffic_lights") or []:
        ws.write_string(
            row,
            0,
            tl.get("label") or LIGHT_WORDS.get(tl.get("light"), ""),
            fmt.get(None, tl.get("light")),
        )
        ws.write_string(row, 1, tl.get("meaning") or "", fmt.wrap)
        row += 1
    if legend.get("bands"):
        ws.write_string(row, 0, "Bands", fmt.bold)
        ws.write_string(
            row,
            1,
            f"{legend['bands']} The Band column shows blobs and the number, e.g. {_blobs_text(3)}.",
            fmt.wrap,
        )
        row += 1
    for symbol, meaning in (legend.get("status_symbols") or {}).items():
        ws.write_string(row, 0, symbol, fmt.bold)
        ws.write_string(row, 1, meaning)
        row += 1
    if legend.get("published"):
        ws.write_string(row, 0, "†", fmt.bold)
        ws.write_string(row, 1, legend["published"])
        row += 1
    for jc in judgement_columns(doc):
        ws.write_string(row, 0, jc["label"], fmt.bold)
        ws.write_string(row, 1, jc.get("meaning") or "", fmt.wrap)
        row += 1
    ws.write_string(row, 0, "Numbers", fmt.bold)
    ws.write_string(
        row,
        1,
        "Figures are stored as numbers with the report's decimals; a percentage such as 58.8% is stored as 58.8.",
        fmt.wrap,
    )


def _definitions_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    ws = wb.add_worksheet("Definitions")
    ws.write_string(0, 0, f"Definitions: {_doc_title(doc)}", fmt.title)
    row = _attribution(ws, doc, fmt, 1) + 1
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
        ("Notes", 50, None),
    ]
    inds = doc.get("indicators") or []
    for c, (_h, width, _k) in enumerate(cols):
        ws.set_column(c, c, width, fmt.wrap)
    if inds:
        ws.add_table(
            row,
            0,
            row + len(inds),
            len(cols) - 1,
            {
                "name": "Definitions",
                "style": "Table Style Light 1",
                "columns": [{"header": h} for h, _w, _k in cols],
            },
        )
        for i, ind in enumerate(inds, start=row + 1):
            for c, (header, _w, key) in enumerate(cols):
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
                else:
                    value = " ".join(ind.get("notes") or [])
                _put(ws, i, c, str(value) if value not in (None, "") else "", fmt.wrap)
    ws.freeze_panes(row + 1, 1)


def _appendices_sheet(wb: Any, doc: dict[str, Any], fmt: _Formats) -> None:
    ws = wb.add_worksheet("Appendices")
    ws.write_string(0, 0, f"Appendices: {_doc_title(doc)}", fmt.title)
    row = _attribution(ws, doc, fmt, 1) + 1
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 60)
    ws.set_column(2, 2, 8)
    ws.set_column(3, 3, 28)
    ws.set_column(4, 5, 12)
    rows = [
        (app.get("code") or "", app.get("title") or "", n)
        for app in doc.get("appendices") or []
        for n in app.get("neighbours") or []
    ]
    header_row = row
    if rows:
        ws.add_table(
            row,
            0,
            row + len(rows),
            5,
            {
                "name": "Neighbours",
                "style": "Table Style Light 1",
                "columns": [
                    {"header": h}
                    for h in ("Appendix", "Title", "Rank", "Neighbour", "DfE code", "Closeness")
                ],
            },
        )
        for i, (code, title, n) in enumerate(rows, start=row + 1):
            ws.write_string(i, 0, code)
            ws.write_string(i, 1, title)
            if isinstance(n.get("rank"), (int, float)):
                ws.write_number(i, 2, n["rank"], fmt.get("0"))
            ws.write_string(i, 3, str(n.get("name") or ""))
            _put(ws, i, 4, str(n.get("code") or ""))
            if isinstance(n.get("closeness"), (int, float)):
                ws.write_number(i, 5, n["closeness"])
        row += len(rows) + 2
    ws.freeze_panes(header_row + 1, 0)
    m = doc.get("map")
    if m:
        ws.write_string(row, 0, "Map", fmt.heading)
        from cspa.outputs.maps import neighbour_map_text

        ws.write_string(row, 1, neighbour_map_text(m), fmt.wrap)
        row += 1
        points = [("area", m.get("area") or {})] + [
            ("neighbour", n) for n in m.get("neighbours") or []
        ]
        ws.add_table(
            row,
            0,
            row + len(points),
            4,
            {
                "name": "MapPoints",
                "style": "Table Style Light 1",
                "columns": [
                    {"header": h} for h in ("Role", "Name", "Rank", "Latitude", "Longitude")
                ],
            },
        )
        for i, (role, p) in enumerate(points, start=row + 1):
            ws.write_string(i, 0, role)
            ws.write_string(i, 1, str(p.get("name") or ""))
            if isinstance(p.get("rank"), (int, float)):
                ws.write_number(i, 2, p["rank"], fmt.get("0"))
            for c, key in ((3, "lat"), (4, "long")):
                if isinstance(p.get(key), (int, float)):
                    ws.write_number(i, c, p[key], fmt.get("0.0000"))
        row += len(points) + 1
        if m.get("note"):
            ws.write_string(row, 1, m["note"], fmt.small)


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
    side = len(TIDY_COLUMNS) + 1
    ws.set_column(side, side, 70)
    for r, line in enumerate(doc.get("attribution") or []):
        ws.write_string(r, side, line, fmt.small)
    footer = " ".join(doc.get("attribution") or [])[:250]
    ws.set_footer(f"&L&8{footer.replace('&', '&&')}")


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
            "comments": f"Produced by {doc.get('version', 'cspa')} on {doc.get('produced', '')}",
        }
    )
    fmt = _Formats(wb)
    symbols = (doc.get("legend") or {}).get("status_symbols") or {}
    wb.add_worksheet("Contents")
    _data_sheet(wb, doc, fmt)
    used = {"contents", "data", "definitions", "appendices"}
    locations: dict[str, tuple[str, int]] = {}
    judged = judgement_columns(doc)
    data_columns = _data_columns(judged)
    for section_title, subs in _layout(doc):
        name = _sheet_name(section_title, used)
        ws = wb.add_worksheet(name)
        for c, (_h, width) in enumerate(data_columns):
            ws.set_column(c, c, width)
        ws.write_string(0, 0, f"{section_title}: {_doc_title(doc)}", fmt.title)
        row = _attribution(ws, doc, fmt, 1)
        for c, (h, _w) in enumerate(data_columns):  # the column guide, frozen above every table
            ws.write_string(row, c, h, fmt.header)
        ws.freeze_panes(row + 1, 0)
        row += 2
        for sub_title, inds in subs:
            if sub_title:
                ws.write_string(row, 0, sub_title, fmt.subheading)
                row += 2
            for ind in inds:
                locations[ind["code"]] = (name, row)
                row = _write_indicator(ws, row, ind, doc, fmt, symbols, judged)
    _contents_sheet(wb, doc, fmt, locations)
    _definitions_sheet(wb, doc, fmt)
    _appendices_sheet(wb, doc, fmt)
    wb.close()
    return path
