"""The Excel template an authority fills in for one quarter (``cspa quarterly template``).

One workbook per area and report period, written with XlsxWriter:

* **Instructions**: what to fill in, the rules the loader applies, and what a conflict is;
* **Actuals**: one row per input measure and table period, prefilled with the current figure;
* **Targets**: one row per judged measure, table period and the RAG target type (local), plus the
  area's other targets (LAA, milestones, targets for every period) and blank rows for new ones;
* **Report**: the report-level words (headline news, version, meeting dates, caveats ...);
* **Commentary**: per indicator, the commentary, planned action and action plan fields;
* a hidden **_meta** sheet (area, period, basket, when and by whom it was made) and a hidden
  **_lists** sheet (the values the drop-downs offer).

Key columns (indicator, measure, period, the revision the row is based on) are locked and the
sheets protected (without a password: protection prevents accidents, it is not security); the
cells to fill in are unlocked and carry data validation. Every row carries the revision (for
actuals, the load) its prefilled content came from, so :mod:`cspa.quarterly.load` can tell a
change made in this workbook from one made in the store since (optimistic concurrency).
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json
from pathlib import Path

import duckdb

from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue
from cspa.errors import CspaError
from cspa.quarterly.fields import INDICATOR_FIELDS, REPORT_FIELDS
from cspa.quarterly.periods import report_period, seed_label
from cspa.quarterly.report import _columns, prepare
from cspa.quarterly.revisions import ensure_readable
from cspa.quarterly.rules import is_target_companion, judged_measures, load_rules
from cspa.store.excel_text import utf16_len
from cspa.store.ingest import STATUS_SYMBOLS

# 2: long words are split over rows marked in a Part column (version 1 cut them at Excel's limit)
TEMPLATE_VERSION = "2"
READS_VERSIONS = ("1", "2")
CELL_LIMIT = 32_767  # characters (UTF-16 units) an Excel cell holds
PART_LIMIT = 32_000  # characters one part of a split text holds (the Text column's data validation)
SPLIT_SHEETS = ("Report", "Commentary")
HEADER_ROW = 3  # Excel row (1-based) of the column headers; data starts on the next row
EXTRA_TARGET_ROWS = 15
EXTRA_NEWS_ITEMS = 3
TARGET_TYPES = ("local", "LAA", "national", "milestone")

# sheet -> [(key, header, editable, width)]
SHEETS: dict[str, list[tuple[str, str, bool, int]]] = {
    "Actuals": [
        ("indicator", "Indicator", False, 14),
        ("title", "Indicator title", False, 48),
        ("measure", "Measure", False, 16),
        ("measure_label", "Measure label", False, 30),
        ("period", "Period", False, 16),
        ("period_key", "Period key", False, 14),
        ("revision", "Based on load", False, 10),
        ("value", "Value", True, 12),
        ("status", "Status", True, 8),
        ("provisional", "Provisional (y/n)", True, 10),
        ("note", "Note", True, 40),
    ],
    "Targets": [
        ("indicator", "Indicator", False, 14),
        ("title", "Indicator title", False, 48),
        ("measure", "Measure", False, 12),
        ("period", "Period", False, 16),
        ("period_key", "Period key", False, 14),
        ("target_type", "Target type", False, 11),
        ("revision", "Based on revision", False, 10),
        ("value", "Target", True, 10),
        ("status", "Status", True, 8),
        ("text", "Target in words", True, 24),
        ("note", "Note", True, 40),
    ],
    "Report": [
        ("field", "Field", False, 24),
        ("item", "Item", False, 6),
        ("label", "What to enter", False, 36),
        ("revision", "Based on revision", False, 10),
        ("text", "Text", True, 100),
        ("part", "Part", False, 8),
    ],
    "Commentary": [
        ("indicator", "Indicator", False, 14),
        ("title", "Indicator title", False, 40),
        ("field", "Field", False, 22),
        ("item", "Item", False, 6),
        ("label", "What to enter", False, 36),
        ("revision", "Based on revision", False, 10),
        ("text", "Text", True, 100),
        ("part", "Part", False, 8),
    ],
}
# columns a user may fill on the blank rows at the end of the Targets sheet
NEW_TARGET_KEYS = ("indicator", "measure", "period", "target_type")


class TemplateError(CspaError):
    """A template could not be made without losing text; nothing was written."""


def split_text(text: str, limit: int = PART_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` UTF-16 units, never splitting a character, preferably
    after a line break or a space; ``"".join`` gives it back."""
    parts, start = [], 0
    while start < len(text):
        end, units = start, 0
        while end < len(text) and units + (2 if ord(text[end]) > 0xFFFF else 1) <= limit:
            units += 2 if ord(text[end]) > 0xFFFF else 1
            end += 1
        if end < len(text):
            cut = max(text.rfind("\n", start, end), text.rfind(" ", start, end))
            if cut > start + (end - start) // 2:
                end = cut + 1
        parts.append(text[start:end])
        start = end
    return parts or [""]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> list[dict]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def template_rows(
    con: duckdb.DuckDBPyConnection, area_query: str, period: str, basket_id: str | None = None
) -> dict:
    """Everything the template shows, as lists of row dicts per sheet plus the meta block."""
    rules = load_rules()
    cat = load_catalogue()
    area = load_areas().resolve(area_query)
    p = report_period(period)
    basket = rules.basket_for(p, basket_id)
    ensure_readable(con)
    prepare(con, basket.indicators, rules)
    columns = _columns(con, area, p, basket, rules, cat)
    params = {"area": area.code}
    current = {
        (r["indicator"], r["measure"], r["period"]): r
        for r in _rows(
            con,
            """
        SELECT o.indicator, o.measure, o.period, o.period_label, o.value, o.status, o.provisional, o.note, o.load_id
        FROM observation_current o JOIN _cspa_q_codes k ON k.indicator = o.indicator
        WHERE o.area = $area AND o.statistic = 'value'""",
            params,
        )
    }
    measures = {
        (r["indicator"], r["measure"]): r
        for r in _rows(
            con,
            """
        SELECT m.indicator, m.measure, m.label, m.formula_type FROM measure m
        JOIN _cspa_q_codes k ON k.indicator = m.indicator""",
            {},
        )
    }
    targets = _rows(
        con,
        "SELECT * FROM quarterly_target WHERE area = $area AND indicator IN "
        "(SELECT indicator FROM _cspa_q_codes) ORDER BY indicator, measure, period_start NULLS FIRST, period_end, period, target_type",
        params,
    )
    texts = {
        (r["indicator"], r["field"], r["item"]): r
        for r in _rows(
            con,
            """
        SELECT * FROM quarterly_text WHERE area = $area AND period = $period""",
            {**params, "period": p.key},
        )
    }
    table_type = rules.rag.target_types[0]

    actuals, target_rows, report_rows, commentary_rows = [], [], [], []
    seen_targets = set()
    tkey = {(t["indicator"], t["measure"], t["period"], t["target_type"]): t for t in targets}
    for code in basket.indicators:
        ind = cat.get(code)
        r = rules.for_indicator(ind.code)
        mids = ind.measure_ids()
        cols = columns.get(ind.code, [])
        for mid in mids:
            m = measures.get((ind.code, mid)) or {}
            if (
                m.get("formula_type") != "input"
                or mid in r.commentary_measures
                or is_target_companion(mids, mid)
            ):
                continue
            for c in cols:
                o = current.get((ind.code, mid, c["period"])) or {}
                actuals.append(
                    {
                        "indicator": ind.code,
                        "title": ind.title,
                        "measure": mid,
                        "measure_label": m.get("label"),
                        "period": o.get("period_label") or c["label"],
                        "period_key": c["period"],
                        "revision": o.get("load_id") or 0,
                        "value": o.get("value"),
                        "status": o.get("status"),
                        "provisional": ("y" if o.get("provisional") else "n") if o else None,
                        "note": o.get("note"),
                    }
                )
        for mid in judged_measures(mids, r.commentary_measures):
            for c in cols:
                t = tkey.get((ind.code, mid, c["period"], table_type))
                seen_targets.add((ind.code, mid, c["period"], table_type))
                target_rows.append(_target_row(ind, mid, c["period"], c["label"], table_type, t))
        for t in targets:
            k = (t["indicator"], t["measure"], t["period"], t["target_type"])
            if t["indicator"] == ind.code and k not in seen_targets:
                seen_targets.add(k)
                target_rows.append(
                    _target_row(
                        ind, t["measure"], t["period"], t["period_label"] or "", t["target_type"], t
                    )
                )
        fields = [(f, label, 0) for f, label, _l, _g in INDICATOR_FIELDS]
        known = {f for f, _l, _i in fields}
        fields += [
            (f, f.replace("_", " ").capitalize(), item)
            for (i, f, item) in texts
            if i == ind.code and f not in known
        ]
        for f, label, item in fields:
            t = texts.get((ind.code, f, item)) or {}
            commentary_rows.append(
                {
                    "indicator": ind.code,
                    "title": ind.title,
                    "field": f,
                    "item": item,
                    "label": label,
                    "revision": t.get("revision") or 0,
                    "text": t.get("text"),
                }
            )
    fields = [(f, label, 0) for f, label, _l in REPORT_FIELDS if f != "headline_news"]
    known = {f for f, _l, _i in fields}
    news = sorted(item for (i, f, item) in texts if i == "" and f == "headline_news")
    news_rows = [
        ("headline_news", "Headline news item", n)
        for n in news
        + list(
            range((max(news) if news else 0) + 1, (max(news) if news else 0) + 1 + EXTRA_NEWS_ITEMS)
        )
    ]
    fields = fields[:3] + news_rows + fields[3:]
    fields += [
        (f, f.replace("_", " ").capitalize(), item)
        for (i, f, item) in sorted(texts)
        if i == "" and f not in known and f != "headline_news"
    ]
    for f, label, item in fields:
        t = texts.get(("", f, item)) or {}
        report_rows.append(
            {
                "field": f,
                "item": item,
                "label": label,
                "revision": t.get("revision") or 0,
                "text": t.get("text"),
            }
        )
    meta = {
        "kind": "cspa quarterly template",
        "template_version": TEMPLATE_VERSION,
        "area": area.code,
        "area_name": area.name,
        "period": p.key,
        "period_label": seed_label(p),
        "basket": basket.id,
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        "generated_by": _user(),
    }
    return {
        "meta": meta,
        "Actuals": actuals,
        "Targets": target_rows,
        "Report": report_rows,
        "Commentary": commentary_rows,
        "indicators": basket.indicators,
        "measures": sorted({m for (_i, m) in measures}),
    }


def _target_row(ind, mid: str, period: str, label: str, ttype: str, t: dict | None) -> dict:
    t = t or {}
    return {
        "indicator": ind.code,
        "title": ind.title,
        "measure": mid,
        "period": label if period != "*" else "every period",
        "period_key": period,
        "target_type": ttype,
        "revision": t.get("revision") or 0,
        "value": t.get("value"),
        "status": t.get("status"),
        "text": t.get("text"),
        "note": t.get("note"),
    }


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def sheet_rows(data: dict) -> dict[str, list[dict]]:
    """The rows each sheet shows: a Report or Commentary text longer than a cell holds is split over
    consecutive rows (Part ``1 of 3``, ``2 of 3`` ...), which the loader joins back character for
    character. Any other text too long for a cell is refused (TemplateError) before anything is
    written, rather than cut."""
    out: dict[str, list[dict]] = {}
    too_long = []
    for sheet, spec in SHEETS.items():
        rows = []
        for r in data[sheet]:
            text = r.get("text")
            if sheet in SPLIT_SHEETS and isinstance(text, str) and utf16_len(text) > PART_LIMIT:
                parts = split_text(text)
                for k, part in enumerate(parts, start=1):
                    rows.append(
                        {
                            **r,
                            "text": part,
                            "part": f"{k} of {len(parts)}",
                            **(
                                {"label": f"(continued) {r.get('label') or ''}".strip()}
                                if k > 1
                                else {}
                            ),
                        }
                    )
                continue
            rows.append(r)
            for key, header, _e, _w in spec:
                v = r.get(key)
                if isinstance(v, str) and utf16_len(v) > CELL_LIMIT:
                    what = " ".join(
                        str(r.get(k))
                        for k in ("indicator", "measure", "period", "field")
                        if r.get(k) not in (None, "")
                    )
                    too_long.append(f"{sheet} {what}: {header} is {utf16_len(v):,} characters")
        out[sheet] = rows
    if too_long:
        raise TemplateError(
            "No template written: these entries are longer than an Excel cell holds "
            f"({CELL_LIMIT:,} characters) and would be cut: "
            + "; ".join(too_long[:10])
            + (f" ... and {len(too_long) - 10} more" if len(too_long) > 10 else "")
            + ". Shorten them in the store (for example by loading a shorter text) and make the template again."
        )
    return out


def write_template(
    con: duckdb.DuckDBPyConnection,
    area_query: str,
    period: str,
    path: str | Path,
    basket_id: str | None = None,
) -> dict:
    """Write the template workbook; returns the meta block and row counts."""
    import xlsxwriter

    data = template_rows(con, area_query, period, basket_id)
    meta = data["meta"]
    # every text is checked (and long words split) before the workbook exists: nothing half-written
    data = {**data, **sheet_rows(data)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # built in memory and written in one go: a full disk or a read-only place is one clean error,
    # never a half-written workbook
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    wb.set_properties(
        {
            "title": f"cspa quarterly template: {meta['area_name']}, {meta['period_label']}",
            "comments": json.dumps(meta),
        }
    )
    f_title = wb.add_format({"bold": True, "font_size": 14})
    f_hint = wb.add_format(
        {"italic": True, "font_color": "#505a5f", "text_wrap": True, "valign": "top"}
    )
    f_head = wb.add_format(
        {
            "bold": True,
            "bg_color": "#dee0e2",
            "border": 1,
            "text_wrap": True,
            "valign": "top",
            "locked": True,
        }
    )
    f_key = wb.add_format(
        {"locked": True, "bg_color": "#f3f2f1", "valign": "top", "text_wrap": True}
    )
    f_edit = wb.add_format(
        {
            "locked": False,
            "bg_color": "#ffffff",
            "border": 1,
            "border_color": "#b1b4b6",
            "valign": "top",
            "text_wrap": True,
        }
    )
    f_edit_num = wb.add_format(
        {"locked": False, "border": 1, "border_color": "#b1b4b6", "valign": "top"}
    )

    ws = wb.add_worksheet("Instructions")
    ws.set_column(0, 0, 110)
    lines = [
        (
            f"cspa quarterly template: {meta['area_name']}, {meta['period_label']} ({meta['period']})",
            f_title,
        ),
        (
            f"Made by {meta['generated_by']} on {meta['generated_at']} for basket {meta['basket']}.",
            None,
        ),
        ("", None),
        (
            "Fill in the white cells of the Actuals, Targets, Report and Commentary sheets, then load the workbook with",
            None,
        ),
        ("    cspa quarterly load THIS-FILE.xlsx --user YOUR-NAME", None),
        ("", None),
        (
            "Actuals: the figure for each indicator, measure and period. Give a number, or a status symbol in the Status "
            "column (.. not available, - suppressed, n/a not applicable ...). To withdraw a figure give the status '..'.",
            None,
        ),
        (
            "Targets: a number, or a status (n/a), or the target in words. Clear all three to remove a target. Use the "
            "blank rows at the end for a new target: fill Indicator, Measure, Period (as printed, e.g. 2008/09 or "
            "1st Qtr Jun 08) and Target type (local or LAA) as well.",
            None,
        ),
        (
            "Report and Commentary: the words of the report. 'Overall progress on action plan' takes green, amber or red.",
            None,
        ),
        ("", None),
        (
            "Grey cells are keys and are locked. Do not rename sheets or columns: the loader checks them.",
            None,
        ),
        (
            "The load is all or nothing: any problem (named by sheet, row and column) refuses the whole workbook and "
            "nothing is written.",
            None,
        ),
        (
            "Every row remembers the revision it was based on. If someone else changed the same target, text or figure "
            "after this workbook was made, your change is refused as a conflict, not written over theirs: make a new "
            "template, which shows their change, and enter yours again.",
            None,
        ),
        ("Rows you leave as they are change nothing, even if the store has changed since.", None),
        (
            "A text longer than one cell holds is split over consecutive rows marked in the Part column "
            "(1 of 3, 2 of 3 ...): edit the parts in place; they are joined back exactly. Type words and "
            "figures, not formulas: a cell holding a formula is refused, naming the cell.",
            None,
        ),
    ]
    for i, (text, fmt) in enumerate(lines):
        ws.write_string(i, 0, text, fmt or f_hint)
    ws.protect()

    lists = wb.add_worksheet("_lists")
    list_values = {
        "indicator": data["indicators"],
        "measure": data["measures"],
        "status": list(STATUS_SYMBOLS),
        "target_type": list(TARGET_TYPES),
        "provisional": ["y", "n"],
        "target_status": ["n/a"],
    }
    refs = {}
    for c, (name, values) in enumerate(list_values.items()):
        lists.write_string(0, c, name)
        for r, v in enumerate(values, start=1):
            lists.write_string(r, c, str(v))
        col = xlsxwriter.utility.xl_col_to_name(c)
        refs[name] = f"=_lists!${col}$2:${col}${len(values) + 1}"
    lists.hide()

    hints = {
        "Actuals": "One row per indicator, measure and period. Value: a number; or a status symbol in Status.",
        "Targets": "Target: a number; or Status n/a; or the target in words. Blank rows at the end are for new targets.",
        "Report": "The report's own words: headline news, version, meeting dates, caveats.",
        "Commentary": "Per indicator: commentary, planned action and the action plan.",
    }
    for sheet, spec in SHEETS.items():
        ws = wb.add_worksheet(sheet)
        ws.write_string(0, 0, f"{sheet}: {meta['area_name']}, {meta['period_label']}", f_title)
        ws.write_string(1, 0, hints[sheet], f_hint)
        for c, (_k, header, _e, width) in enumerate(spec):
            ws.set_column(c, c, width)
            ws.write_string(HEADER_ROW - 1, c, header, f_head)
        rows = data[sheet]
        for r_i, row in enumerate(rows, start=HEADER_ROW):
            for c, (key, _h, editable, _w) in enumerate(spec):
                v = row.get(key)
                fmt = (f_edit_num if key == "value" else f_edit) if editable else f_key
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(r_i, c, v, fmt)
                elif v not in (None, ""):
                    ws.write_string(r_i, c, str(v), fmt)
                else:
                    ws.write_blank(r_i, c, None, fmt)
        first, last = HEADER_ROW, HEADER_ROW + max(len(rows), 1) - 1
        if sheet == "Targets":
            for r_i in range(last + 1, last + 1 + EXTRA_TARGET_ROWS):
                for c, (key, _h, editable, _w) in enumerate(spec):
                    if key == "revision":
                        ws.write_number(r_i, c, 0, f_key)
                    elif editable or key in NEW_TARGET_KEYS:
                        ws.write_blank(r_i, c, None, f_edit)
                    else:
                        ws.write_blank(r_i, c, None, f_key)
            last += EXTRA_TARGET_ROWS
        col = {k: i for i, (k, _h, _e, _w) in enumerate(spec)}
        if "value" in col:
            ws.data_validation(
                first,
                col["value"],
                last,
                col["value"],
                {
                    "validate": "decimal",
                    "criteria": "between",
                    "minimum": -1e12,
                    "maximum": 1e12,
                    "ignore_blank": True,
                    "error_title": "A number",
                    "error_message": "Enter a number (or leave blank and use the Status column).",
                },
            )
        if "status" in col:
            ws.data_validation(
                first,
                col["status"],
                last,
                col["status"],
                {
                    "validate": "list",
                    "source": refs["target_status" if sheet == "Targets" else "status"],
                    "error_title": "Status symbol",
                    "error_message": "Choose a status symbol from the list.",
                },
            )
        if "provisional" in col:
            ws.data_validation(
                first,
                col["provisional"],
                last,
                col["provisional"],
                {"validate": "list", "source": refs["provisional"], "error_message": "y or n"},
            )
        if sheet == "Targets":
            n = len(rows)
            ws.data_validation(
                first + n,
                col["indicator"],
                last,
                col["indicator"],
                {
                    "validate": "list",
                    "source": refs["indicator"],
                    "error_message": "An indicator of this report.",
                },
            )
            ws.data_validation(
                first + n,
                col["measure"],
                last,
                col["measure"],
                {
                    "validate": "list",
                    "source": refs["measure"],
                    "error_message": "A measure of the indicator.",
                },
            )
            ws.data_validation(
                first + n,
                col["target_type"],
                last,
                col["target_type"],
                {
                    "validate": "list",
                    "source": refs["target_type"],
                    "error_message": "local, LAA, national or milestone.",
                },
            )
        if "text" in col and sheet != "Targets":
            ws.data_validation(
                first,
                col["text"],
                last,
                col["text"],
                {
                    "validate": "length",
                    "criteria": "<=",
                    "value": 32000,
                    "ignore_blank": True,
                    "error_message": "At most 32,000 characters.",
                },
            )
        ws.freeze_panes(HEADER_ROW, 0)
        ws.autofilter(HEADER_ROW - 1, 0, last, len(spec) - 1)
        ws.protect(
            "", {"autofilter": True, "sort": False, "format_columns": True, "format_rows": True}
        )

    ws = wb.add_worksheet("_meta")
    for r_i, (k, v) in enumerate(meta.items()):
        ws.write_string(r_i, 0, k)
        ws.write_string(r_i, 1, str(v))
    ws.protect()
    ws.hide()
    wb.worksheets()[0].activate()
    wb.close()
    path.write_bytes(buffer.getvalue())
    return {"path": str(path), **meta, **{s: len(data[s]) for s in SHEETS}}
