"""The quarterly report as an Excel workbook: the APA workbook's sheets plus the quarterly parts.

Reuses :mod:`cspa.outputs.excel` (about, contents, one sheet per section with every printed cell
as a row of an Excel table, definitions) and adds **Report** (report details), **Headline news**,
**Key**,
**Commentary** (every narrative and action-plan field, with who entered it and when),
**Targets** (every target with its type and revision) and **SPC** (the XmR points and limits).
Like every renderer it only lays out the document.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from cspa.outputs import excel as base


def _excel_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with progress cells spelled out (glyph and word) for the generic table sheet."""
    d = copy.deepcopy(doc)
    for ind in d.get("indicators") or []:
        for g in (ind.get("table") or {}).get("row_groups") or []:
            for row in g.get("rows") or []:
                for cell in row.get("cells") or []:
                    if row.get("kind") == "progress" and cell.get("progress"):
                        cell["display"] = f"{cell['display']} {cell.get('word') or ''}".strip()
                    if cell.get("spanned"):
                        cell["display"] = ""
                        cell["basis"] = "merged with the first period's cell"
    return d


def _table(
    wb, fmt, d: dict[str, Any], sheet: str, name: str, headers: list[str], rows, widths: list[int]
) -> None:
    """One sheet holding one Excel table from A1 (an empty one holds a blank row)."""
    ws = wb.add_worksheet(sheet)
    base.write_table(ws, name, list(zip(headers, widths, strict=True)), rows, fmt)
    base._attribution(ws, d, fmt, len(headers) + 1)


def render_quarterly_xlsx(doc: dict[str, Any], path: str | Path) -> Path:
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    d = _excel_doc(doc)
    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    wb.set_properties(
        {
            "title": base._doc_title(d),
            "author": str((d.get("framework") or {}).get("publisher") or "cspa"),
            "comments": f"Produced by {d.get('version', 'cspa')} on {d.get('produced', '')}",
        }
    )
    fmt = base._Formats(wb)
    # as the APA workbook: every sheet one Excel table whose header is its first row
    base.about_sheet(wb, d, fmt)
    wb.add_worksheet("Contents")
    used = {
        "about",
        "contents",
        "definitions",
        "report",
        "headline news",
        "key",
        "commentary",
        "targets",
        "spc",
    }
    used_tables = {"about", "contents", "definitions", "reportdetails", "headlinenews", "key"}
    used_tables |= {"commentary", "targets", "spc"}
    meta = d.get("report_meta") or {}
    facts = [
        [k.replace("_", " ").capitalize(), (v or {}).get("text"), (v or {}).get("changed_by")]
        for k, v in meta.items()
        if v
    ]
    _table(
        wb, fmt, d, "Report", "ReportDetails", ["Item", "Text", "Entered by"], facts, [26, 100, 26]
    )
    news = [
        [n.get("marker"), n.get("text"), n.get("indicator"), n.get("changed_by")]
        for n in (d.get("headline_news") or {}).get("items") or []
    ]
    heading = (d.get("headline_news") or {}).get("heading") or "Headline news"
    _table(
        wb,
        fmt,
        d,
        "Headline news",
        "HeadlineNews",
        ["Marker", heading, "Indicator", "Entered by"],
        news,
        [26, 100, 26, 26],
    )
    key = [
        [e.get("label"), e.get("meaning"), e.get("rule")]
        for e in (d.get("key") or {}).get("entries") or []
    ]
    key += [
        [p["glyph"] + " " + p["word"], p["meaning"], ""]
        for p in (d.get("legend") or {}).get("progress") or []
    ]
    _table(
        wb,
        fmt,
        d,
        "Key",
        "Key",
        ["Light or symbol", "Meaning", "Rule against the target"],
        key,
        [26, 100, 60],
    )

    locations: dict[str, tuple[str, int]] = {}
    for section_title, subs in base._layout(d):
        name = base._sheet_name(section_title, used)
        base.section_sheet(wb, name, subs, d, fmt, [], locations, used_tables)

    rows = [
        [
            ind["code"],
            n["label"],
            n.get("text") if not n.get("rag") else n["rag"].capitalize(),
            n.get("changed_by"),
            n.get("changed_at"),
            n.get("seed_ref"),
        ]
        for ind in d.get("indicators") or []
        for n in (ind.get("narrative") or []) + (ind.get("action_plan") or [])
    ]
    _table(
        wb,
        fmt,
        d,
        "Commentary",
        "Commentary",
        ["Indicator", "Field", "Text", "Entered by", "When", "Seed line"],
        rows,
        [14, 34, 100, 24, 20, 10],
    )

    rows = [
        [
            ind["code"],
            t["measure"],
            t.get("period") or "every period",
            t["target_type"],
            t.get("value"),
            t.get("status") or t.get("text"),
            t.get("revision"),
            t.get("changed_by"),
            t.get("changed_at"),
            t.get("note"),
        ]
        for ind in d.get("indicators") or []
        for t in ind.get("targets") or []
    ]
    _table(
        wb,
        fmt,
        d,
        "Targets",
        "Targets",
        [
            "Indicator",
            "Measure",
            "Period",
            "Type",
            "Target",
            "Status or words",
            "Revision",
            "Entered by",
            "When",
            "Note",
        ],
        rows,
        [14, 22, 22, 10, 10, 24, 10, 24, 20, 60],
    )

    rows = [
        [
            ind["code"],
            s["measure"],
            s["period_kind"],
            p["period"],
            p.get("value"),
            p.get("mean"),
            p.get("lpl"),
            p.get("upl"),
            p.get("target"),
            p.get("special_cause"),
            s.get("variation_text"),
            s.get("assurance_text"),
        ]
        for ind in d.get("indicators") or []
        for s in ind.get("spc") or []
        for p in s["points"]
    ]
    _table(
        wb,
        fmt,
        d,
        "SPC",
        "SPC",
        [
            "Indicator",
            "Measure",
            "Kind",
            "Period",
            "Figure",
            "Mean",
            "Lower limit",
            "Upper limit",
            "Target",
            "Special cause",
            "Variation",
            "Assurance",
        ],
        rows,
        [14, 12, 14, 12, 10, 10, 10, 10, 10, 22, 50, 50],
    )

    base.contents_sheet(wb, d, fmt, locations)
    base._definitions_sheet(wb, d, fmt)
    wb.close()
    return path
