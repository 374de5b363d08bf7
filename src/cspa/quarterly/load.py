"""Load a filled-in quarterly template (``cspa quarterly load``): validate, detect conflicts, write all or nothing.

Reading (openpyxl) checks that the workbook is a cspa quarterly template (the hidden ``_meta``
sheet), that every sheet and column header is where the template put it, and every cell a user
may fill: numbers, status symbols, target types, periods (parsed with the indicator's year
type), RAG words. A problem is reported with its sheet, row and column (``LoadError``).

Changes are then decided against the store (:mod:`cspa.quarterly.revisions`; for actuals the
same rule over the observation each row was based on): a row left as it was is no change; a
change to something that has been changed in the store since the template was made is a
conflict, and the whole load is refused with a conflict report (``ConflictError``) naming each
row, who made the newer change and when. Otherwise every change is written in one transaction:
targets and words as new revisions, actuals as observations (superseding, never deleting, the
figure they replace) under a ``load_log`` entry, and one ``quarterly_load`` row saying who loaded
which file when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue
from cspa.errors import CatalogueError, CspaError, LoadError, PeriodError, Problem
from cspa.quarterly.fields import RAG_FIELDS, RAG_WORDS
from cspa.quarterly.periods import parse_for, report_period
from cspa.quarterly.revisions import counts, decide, extra_json, write
from cspa.quarterly.rules import is_target_companion
from cspa.quarterly.template import (
    HEADER_ROW,
    READS_VERSIONS,
    SHEETS,
    TARGET_TYPES,
    TEMPLATE_VERSION,
)
from cspa.store.database import Store
from cspa.store.excel_text import open_workbook
from cspa.store.ingest import STATUS_SYMBOLS, stage_long
from cspa.store.validate import Columns, number_problem, parse_number

SOURCE = "quarterly template"
TEXT_KEYS = ("text", "note")  # cells of words: kept character for character
_FIELD = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Conflict:
    where: str
    what: str
    yours: str
    based_on: int
    theirs: str
    latest: int | None
    by: str | None
    at: str | None

    def __str__(self) -> str:
        newer = f"revision {self.latest}" if self.latest else "a newer entry"
        who = f" by {self.by}" if self.by else ""
        when = f" on {self.at}" if self.at else ""
        return (
            f"{self.where} ({self.what}): your {self.yours} was based on "
            f"{'revision ' + str(self.based_on) if self.based_on else 'nothing (a new entry)'}, but {newer}{who}{when} "
            f"has since made it {self.theirs}"
        )


@dataclass
class ConflictError(CspaError):
    """A load refused because it would overwrite newer edits; nothing was written."""

    conflicts: list[Conflict] = field(default_factory=list)
    file: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = "\n  ".join(str(c) for c in self.conflicts[:30])
        more = f"\n  ... and {len(self.conflicts) - 30} more" if len(self.conflicts) > 30 else ""
        return (
            f"Load refused, nothing was written: {len(self.conflicts)} change(s) in {self.file} conflict with "
            f"edits made in the store after the template was generated.\n  {shown}{more}\n"
            "Make a new template (cspa quarterly template), which shows the newer entries, and enter your "
            "changes there."
        )


def _show(value, status=None, text=None) -> str:
    if value is not None:
        return f"{value:g}" if isinstance(value, float) else str(value)
    if status:
        return f"status {status!r}"
    if text:
        return repr(text if len(text) <= 60 else text[:57] + "...")
    return "nothing (removed)"


class _Reader:
    def __init__(self, path: Path):
        from openpyxl.utils import get_column_letter

        self.path = path
        self.name = path.name
        self.letter = get_column_letter
        if not path.exists():
            raise LoadError([Problem(self.name, None, None, "file not found")])
        if path.is_dir():
            raise LoadError(
                [Problem(self.name, None, None, "is a folder, not a template workbook")]
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not read
                # formulas are read as formulas (and refused), never as a cached or missing
                # result; strings are decoded as Excel does (every character kept)
                self.wb = open_workbook(path)
        except Exception as e:  # openpyxl raises many types for a damaged or non-Excel file
            raise LoadError(
                [
                    Problem(
                        self.name,
                        None,
                        None,
                        f"not a readable Excel workbook ({type(e).__name__}); "
                        "load the .xlsx that `cspa quarterly template` made",
                    )
                ]
            ) from None
        self.problems: list[Problem] = []

    def where(self, sheet: str) -> str:
        return f"{self.name}, sheet {sheet!r}"

    def problem(
        self, sheet: str, row: int | None, col: int | None, header: str | None, message: str
    ) -> None:
        fld = f"{header} (column {self.letter(col + 1)})" if col is not None else header
        self.problems.append(Problem(self.where(sheet), row, fld, message))

    def meta(self) -> dict:
        if "_meta" not in self.wb.sheetnames:
            raise LoadError(
                [
                    Problem(
                        self.name,
                        None,
                        None,
                        "not a cspa quarterly template (no '_meta' sheet); make one "
                        "with `cspa quarterly template --area AREA --period PERIOD`",
                    )
                ]
            )
        ws = self.wb["_meta"]
        meta = {
            str(r[0]): ("" if r[1] is None else str(r[1]))
            for r in ws.iter_rows(values_only=True)
            if r and r[0]
        }
        if meta.get("kind") != "cspa quarterly template":
            raise LoadError(
                [Problem(self.where("_meta"), 1, "kind", "not a cspa quarterly template")]
            )
        if meta.get("template_version") not in READS_VERSIONS:
            raise LoadError(
                [
                    Problem(
                        self.where("_meta"),
                        2,
                        "template_version",
                        f"template version {meta.get('template_version')!r}; this cspa reads version "
                        f"{TEMPLATE_VERSION}: make a new template",
                    )
                ]
            )
        return meta

    def rows(self, sheet: str) -> list[tuple[int, dict]]:
        spec = SHEETS[sheet]
        if sheet not in self.wb.sheetnames:
            self.problem(sheet, None, None, None, "sheet missing (was it renamed or deleted?)")
            return []
        ws = self.wb[sheet]
        header = [c.value for c in ws[HEADER_ROW]] if ws.max_row >= HEADER_ROW else []
        if spec[-1][0] == "part" and (
            len(header) < len(spec) or header[len(spec) - 1] in (None, "")
        ):
            spec = spec[:-1]  # a version 1 template: no Part column (it had no split words)
        for c, (_k, h, _e, _w) in enumerate(spec):
            got = header[c] if c < len(header) else None
            if (got or "") != h:
                self.problem(
                    sheet, HEADER_ROW, c, h, f"column header changed: expected {h!r}, found {got!r}"
                )
        extra = [h for h in header[len(spec) :] if h not in (None, "")]
        if extra:
            self.problem(sheet, HEADER_ROW, len(spec), str(extra[0]), "unexpected extra column")
        if self.problems:
            return []
        out = []
        for n, cells in enumerate(ws.iter_rows(min_row=HEADER_ROW + 1), start=HEADER_ROW + 1):
            cells = list(cells[: len(spec)])
            formulas = [
                (i, c)
                for i, c in enumerate(cells)
                if c.data_type == "f" or isinstance(c.value, (ArrayFormula, DataTableFormula))
            ]
            for i, c in formulas:
                # a formula with no saved result reads as empty and would delete what the cell
                # held; one with a result would store the result but lose the formula
                shown = c.value.text if isinstance(c.value, ArrayFormula) else str(c.value)
                self.problem(
                    sheet,
                    n,
                    i,
                    spec[i][1],
                    f"cell {c.coordinate} holds a formula "
                    f"({shown[:60]}): type the text or figure itself",
                )
            if formulas:
                continue
            vals = [c.value for c in cells] + [None] * max(0, len(spec) - len(cells))
            row = {}
            for (k, _h, _e, _w), v in zip(spec, vals, strict=True):
                if isinstance(v, str):
                    if k == "text":
                        row["_raw_text"] = (
                            v  # a part of a split text, even all spaces, is kept whole
                        )
                    # words are kept as typed (every character); keys and figures lose stray spaces
                    v = (v if v.strip() else None) if k in TEXT_KEYS else (v.strip() or None)
                row[k] = v
            if all(
                v is None for k, v in row.items() if k not in ("revision", "_raw_text")
            ) and row.get("revision") in (None, 0):
                continue
            out.append((n, row))
        return out


_PART = re.compile(r"(\d+) of (\d+)")


def _joined(reader: _Reader, sheet: str, rows: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Rows of a text split over several rows (Part ``1 of 3``, ``2 of 3`` ...) joined into the first,
    its text the parts' texts in order, character for character (the template splits what does not
    fit in one Excel cell)."""
    pc, ph = _col(sheet, "part")
    keys = ("indicator", "field", "item", "revision")
    out, i = [], 0
    while i < len(rows):
        n, row = rows[i]
        part = row.get("part")
        if part in (None, ""):
            out.append((n, row))
            i += 1
            continue
        m = _PART.fullmatch(str(part).strip())
        total = int(m.group(2)) if m else 0
        group = rows[i : i + total] if m and m.group(1) == "1" else []
        ok = len(group) == total and all(
            _PART.fullmatch(str(r.get("part") or "").strip()) is not None
            and str(r.get("part")).strip() == f"{k} of {total}"
            and all(r.get(key) == row.get(key) for key in keys)
            and rn == n + k - 1
            for k, (rn, r) in enumerate(group, start=1)
        )
        if not ok:
            reader.problem(
                sheet,
                n,
                pc,
                ph,
                f"part {part!r} is not where the template put it: the parts "
                "of a long text are consecutive rows 1 of N to N of N (do not move, delete or "
                "edit Part)",
            )
            i += max(1, len(group))
            continue
        text = "".join(r.get("_raw_text") or "" for _rn, r in group)
        out.append((n, {**row, "text": text if text.strip() else None}))
        i += total
    return out


def _col(sheet: str, key: str) -> tuple[int, str]:
    for i, (k, h, _e, _w) in enumerate(SHEETS[sheet]):
        if k == key:
            return i, h
    raise KeyError(key)


def _int(v) -> int | None:
    if v is None:
        return 0
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)) and float(v).is_integer():
        return int(v)
    if isinstance(v, str) and v.isdigit():
        return int(v)
    return None


def _number(v) -> tuple[float | None, str | None, str | None]:
    """(number, status symbol, problem) of a value cell: a figure is read one way only
    (cspa.store.validate: ``19,5`` is refused, never 195)."""
    if v is None:
        return None, None, None
    if isinstance(v, bool):
        return None, None, f"{v!r} is not a number"
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            return None, None, f"{v!r} is not a figure"
        return float(v), None, None
    s = str(v).strip()
    if s in STATUS_SYMBOLS:
        return None, s, None
    why = number_problem(s)
    return (None, None, why) if why else (parse_number(s), None, None)


def load_template(store: Store, path: str | Path, user: str) -> dict:
    """Validate and load a filled-in template; returns counts. Raises LoadError or ConflictError."""
    path = Path(path)
    if not user or not str(user).strip():
        raise CspaError(
            "Give the name of the person loading (--user): every change is kept with who made it."
        )
    reader = _Reader(path)
    meta = reader.meta()
    cat = load_catalogue()
    areas = load_areas()
    try:
        area = areas.resolve(meta.get("area", ""))
        p = report_period(meta.get("period", ""))
    except CspaError as e:
        raise LoadError([Problem(reader.where("_meta"), None, "area/period", str(e))]) from None

    def ind_of(sheet: str, n: int, row: dict, key: str = "indicator"):
        c, h = _col(sheet, key)
        code = row.get(key)
        if code is None:
            reader.problem(sheet, n, c, h, "empty")
            return None
        try:
            return cat.get(str(code))
        except CatalogueError:
            reader.problem(sheet, n, c, h, f"{code!r} is not an indicator cspa knows")
            return None

    def revision(sheet: str, n: int, row: dict) -> int:
        c, h = _col(sheet, "revision")
        v = _int(row.get("revision"))
        if v is None or v < 0:
            reader.problem(
                sheet,
                n,
                c,
                h,
                f"{row.get('revision')!r} is not a revision number (do not edit this column)",
            )
            return 0
        return v

    def period_of(sheet: str, n: int, row: dict, ind) -> dict | None:
        c, h = _col(sheet, "period")
        label, key = row.get("period"), row.get("period_key")
        if key == "*" or (
            sheet == "Targets"
            and label in (None, "every period")
            and key in (None, "*")
            and label is not None
        ):
            return {
                "period": "*",
                "period_label": None,
                "period_kind": None,
                "period_start": None,
                "period_end": None,
            }
        if label is None:
            reader.problem(
                sheet, n, c, h, "empty: give the period as printed, e.g. 2008/09 or 1st Qtr Jun 08"
            )
            return None
        try:
            q = parse_for(str(label), ind.year_type.value)
        except PeriodError as e:
            reader.problem(sheet, n, c, h, str(e))
            return None
        if key is not None and q.key != key:
            kc, kh = _col(sheet, "period_key")
            reader.problem(
                sheet,
                n,
                kc,
                kh,
                f"period {label!r} reads as {q.key}, not {key}: do not edit the key columns",
            )
            return None
        return {
            "period": q.key,
            "period_label": str(label),
            "period_kind": q.kind,
            "period_start": q.start,
            "period_end": q.end,
        }

    # ------------------------------------------------------------------ actuals
    actual_rows = []
    for n, row in reader.rows("Actuals"):
        ind = ind_of("Actuals", n, row)
        rev = revision("Actuals", n, row)
        if ind is None:
            continue
        mc, mh = _col("Actuals", "measure")
        mid = row.get("measure") or "value"
        if mid not in ind.measure_ids() or is_target_companion(ind.measure_ids(), mid):
            reader.problem("Actuals", n, mc, mh, f"{ind.code} has no measure {mid!r} for figures")
            continue
        per = period_of("Actuals", n, row, ind)
        value, vstatus, bad = _number(row.get("value"))
        vc, vh = _col("Actuals", "value")
        if bad:
            reader.problem("Actuals", n, vc, vh, bad)
        sc, sh = _col("Actuals", "status")
        status = row.get("status") or vstatus
        if status is not None and str(status) not in STATUS_SYMBOLS:
            reader.problem(
                "Actuals",
                n,
                sc,
                sh,
                f"unknown status symbol {status!r}; known: {' '.join(STATUS_SYMBOLS)}",
            )
        if value is not None and row.get("status"):
            reader.problem("Actuals", n, sc, sh, "give a value or a status, not both")
        pc, ph = _col("Actuals", "provisional")
        prov = row.get("provisional")
        if prov is not None and str(prov).lower() not in ("y", "n", "yes", "no"):
            reader.problem("Actuals", n, pc, ph, "use y or n")
        if per is None:
            continue
        actual_rows.append(
            {
                "row": n,
                "indicator": ind.code,
                "measure": mid,
                "area": area.code,
                **per,
                "based_on": rev,
                "value": value,
                "status": None if status is None else str(status),
                "provisional": str(prov).lower() in ("y", "yes") if prov is not None else False,
                "note": None if row.get("note") is None else str(row.get("note")),
            }
        )

    # ------------------------------------------------------------------ targets
    target_rows = []
    for n, row in reader.rows("Targets"):
        ind = ind_of("Targets", n, row)
        rev = revision("Targets", n, row)
        if ind is None:
            continue
        mc, mh = _col("Targets", "measure")
        mid = row.get("measure") or "value"
        if mid not in ind.measure_ids() or is_target_companion(ind.measure_ids(), mid):
            reader.problem(
                "Targets",
                n,
                mc,
                mh,
                f"{ind.code} has no measure {mid!r} to set a target for "
                f"(it has {', '.join(m for m in ind.measure_ids() if not is_target_companion(ind.measure_ids(), m))})",
            )
            continue
        tc, th = _col("Targets", "target_type")
        ttype = row.get("target_type")
        if ttype not in TARGET_TYPES:
            reader.problem("Targets", n, tc, th, f"{ttype!r}: use one of {', '.join(TARGET_TYPES)}")
            continue
        per = period_of("Targets", n, row, ind)
        value, vstatus, bad = _number(row.get("value"))
        vc, vh = _col("Targets", "value")
        if bad or vstatus:
            reader.problem(
                "Targets",
                n,
                vc,
                vh,
                (bad or f"{row.get('value')!r} is not a number")
                + " (a status goes in Status, words in 'Target in words')",
            )
        sc, sh = _col("Targets", "status")
        status = row.get("status")
        if status is not None and str(status) not in STATUS_SYMBOLS:
            reader.problem("Targets", n, sc, sh, f"unknown status symbol {status!r}")
        text = row.get("text")
        if sum(x is not None for x in (value, status, text)) > 1:
            reader.problem(
                "Targets", n, vc, vh, "give one of a number, a status or words, not several"
            )
        if per is None:
            continue
        target_rows.append(
            {
                "indicator": ind.code,
                "measure": mid,
                "area": area.code,
                **per,
                "target_type": ttype,
                "value": value,
                "status": None if status is None else str(status),
                "text": None if text is None else str(text),
                "note": None if row.get("note") is None else str(row.get("note")),
                "seed_ref": None,
                "based_on": rev,
                "where_": f"Targets row {n:05d}",
                "row": n,
            }
        )

    # ------------------------------------------------------------------ words
    text_rows = []
    for sheet in ("Report", "Commentary"):
        for n, row in _joined(reader, sheet, reader.rows(sheet)):
            code = ""
            if sheet == "Commentary":
                ind = ind_of(sheet, n, row)
                if ind is None:
                    continue
                code = ind.code
            rev = revision(sheet, n, row)
            fc, fh = _col(sheet, "field")
            fld = row.get("field")
            if fld is None or not _FIELD.match(str(fld)):
                reader.problem(
                    sheet, n, fc, fh, f"{fld!r} is not a field name (do not edit this column)"
                )
                continue
            ic, ih = _col(sheet, "item")
            item = _int(row.get("item"))
            if item is None or item < 0:
                reader.problem(sheet, n, ic, ih, f"{row.get('item')!r} is not an item number")
                continue
            text = row.get("text")
            text = None if text is None else str(text)
            extra = None
            if fld in RAG_FIELDS and text is not None:
                word = text.strip().rstrip(".").lower()
                if word not in RAG_WORDS:
                    xc, xh = _col(sheet, "text")
                    reader.problem(sheet, n, xc, xh, f"{text!r}: give green, amber or red")
                    continue
                extra = extra_json({"rag": word})
            text_rows.append(
                {
                    "area": area.code,
                    "period": p.key,
                    "indicator": code,
                    "field": str(fld),
                    "item": item,
                    "text": text,
                    "extra": extra,
                    "seed_ref": None,
                    "based_on": rev,
                    "where_": f"{sheet} row {n:05d}",
                    "row": n,
                    "sheet": sheet,
                }
            )

    if reader.problems:
        bad = len({(pr.file, pr.row) for pr in reader.problems})
        raise LoadError(
            reader.problems,
            rows_checked=len(actual_rows) + len(target_rows) + len(text_rows),
            bad_rows=bad,
        )

    con = store.con
    user = str(user).strip()
    with store.transaction():
        conflicts: list[Conflict] = []
        # actuals: decided against the observation each row was based on (its load) and the current one
        staged_a = _actuals_decided(con, actual_rows)
        for r in staged_a:
            if r["action"] == "conflict":
                conflicts.append(
                    Conflict(
                        f"{reader.where('Actuals')}, row {r['row']}",
                        f"{r['indicator']} {r['measure']}, {r['period_label']}",
                        _show(r["value"], r["status"]),
                        r["based_on"],
                        _show(r["cur_value"], r["cur_status"]),
                        r["cur_load"],
                        r["cur_by"],
                        str(r["cur_at"])[:16] if r["cur_at"] else None,
                    )
                )
            elif r["action"] == "remove":
                c, h = _col("Actuals", "value")
                reader.problem(
                    "Actuals",
                    r["row"],
                    c,
                    h,
                    "a figure cannot be removed by clearing it: give the "
                    "status '..' (not available) to withdraw it",
                )
        if reader.problems:
            raise LoadError(
                reader.problems, rows_checked=len(actual_rows), bad_rows=len(reader.problems)
            )
        dt_rel = decide(
            con,
            "target",
            [{k: v for k, v in r.items() if k != "row"} for r in target_rows],
            name="_cspa_q_load_target",
        )
        dx_rel = decide(
            con,
            "text",
            [{k: v for k, v in r.items() if k not in ("row", "sheet")} for r in text_rows],
            name="_cspa_q_load_text",
        )
        for r in _dicts(
            con,
            "SELECT * FROM _cspa_q_load_target_decided WHERE action = 'conflict' ORDER BY where_",
        ):
            conflicts.append(
                Conflict(
                    f"{reader.where('Targets')}, row {int(r['where_'].split()[-1])}",
                    f"{r['indicator']} {r['target_type']} target for {r['measure']}, {r['period_label'] or 'every period'}",
                    _show(r["value"], r["status"], r["text"]),
                    r["based_on"] or 0,
                    _show(r["latest_value"], r["latest_status"], r["latest_text"])
                    if not r["latest_deleted"]
                    else "removed",
                    r["latest_revision"],
                    r["latest_by"],
                    str(r["latest_at"])[:16] if r["latest_at"] else None,
                )
            )
        for r in _dicts(
            con, "SELECT * FROM _cspa_q_load_text_decided WHERE action = 'conflict' ORDER BY where_"
        ):
            sheet, _row, n = r["where_"].split()
            conflicts.append(
                Conflict(
                    f"{reader.where(sheet)}, row {int(n)}",
                    f"{r['indicator'] or 'report'} {r['field']}{' item ' + str(r['item']) if r['item'] else ''}",
                    _show(None, None, r["text"]),
                    r["based_on"] or 0,
                    _show(None, None, r["latest_text"]) if not r["latest_deleted"] else "removed",
                    r["latest_revision"],
                    r["latest_by"],
                    str(r["latest_at"])[:16] if r["latest_at"] else None,
                )
            )
        if conflicts:
            raise ConflictError(conflicts, file=path.name)

        to_write = [r for r in staged_a if r["action"] == "write"]
        n_t, n_x = counts(con, dt_rel)["write"], counts(con, dx_rel)["write"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        load_id = con.execute("SELECT nextval('quarterly_load_seq')").fetchall()[0][0]
        obs_load = (
            _write_actuals(con, reader, to_write, area.code, path, user, digest)
            if to_write
            else None
        )
        con.execute(
            "INSERT INTO quarterly_load VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?)",
            [
                load_id,
                str(path),
                digest,
                area.code,
                p.key,
                user,
                SOURCE,
                n_t,
                n_x,
                len(to_write),
                obs_load,
            ],
        )
        write(con, "target", "_cspa_q_load_target_decided", user, SOURCE, load_id)
        write(con, "text", "_cspa_q_load_text_decided", user, SOURCE, load_id)
    return {
        "load_id": load_id,
        "file": str(path),
        "area": area.name,
        "period": p.key,
        "user": user,
        "targets": n_t,
        "texts": n_x,
        "actuals": len(to_write),
        "observation_load_id": obs_load,
        "unchanged": len(actual_rows)
        + len(target_rows)
        + len(text_rows)
        - n_t
        - n_x
        - len(to_write),
    }


def _dicts(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _actuals_decided(con, rows: list[dict]) -> list[dict]:
    """Classify actual rows (skip / write / conflict / remove) in SQL against the observations."""
    if not rows:
        return []
    schema = pa.schema(
        [
            ("row", pa.int64()),
            ("indicator", pa.string()),
            ("measure", pa.string()),
            ("area", pa.string()),
            ("period", pa.string()),
            ("period_label", pa.string()),
            ("based_on", pa.int64()),
            ("value", pa.float64()),
            ("status", pa.string()),
            ("provisional", pa.bool_()),
            ("note", pa.string()),
        ]
    )
    con.register(
        "_cspa_q_load_actual",
        pa.table({f.name: [r.get(f.name) for r in rows] for f in schema}, schema=schema),
    )
    out = _dicts(
        con,
        """
        WITH d AS (
            SELECT s.*, c.load_id AS cur_load, c.value AS cur_value, c.status AS cur_status, l.loaded_by AS cur_by,
                   l.loaded_at AS cur_at,
                   (s.value, s.status, s.provisional, s.note) IS DISTINCT FROM
                   (b.value, b.status, coalesce(b.provisional, FALSE), b.note) AS edited,
                   (s.value, s.status) IS DISTINCT FROM (c.value, c.status)
                   OR (s.provisional, s.note) IS DISTINCT FROM (coalesce(c.provisional, FALSE), c.note) AS differs,
                   coalesce(c.load_id, 0) <> coalesce(s.based_on, 0) AS stale,
                   s.value IS NULL AND s.status IS NULL AS empty
            FROM _cspa_q_load_actual s
            LEFT JOIN observation b ON b.load_id = s.based_on AND b.indicator = s.indicator AND b.measure = s.measure
                 AND b.area = s.area AND b.period = s.period AND b.statistic = 'value'
            LEFT JOIN observation_current c ON c.indicator = s.indicator AND c.measure = s.measure AND c.area = s.area
                 AND c.period = s.period AND c.statistic = 'value'
            LEFT JOIN load_log l ON l.load_id = c.load_id
        )
        SELECT *, CASE WHEN NOT edited OR NOT differs THEN 'skip'
                       WHEN stale THEN 'conflict'
                       WHEN empty THEN CASE WHEN cur_load IS NULL THEN 'skip' ELSE 'remove' END
                       ELSE 'write' END AS action
        FROM d ORDER BY row""",
    )
    con.unregister("_cspa_q_load_actual")
    return out


def _write_actuals(
    con, reader: _Reader, rows: list[dict], area: str, path: Path, user: str, digest: str
) -> int:
    """Validate changed actuals as long-format rows (cspa.store.ingest.stage_long) and insert them as
    observations superseding the current ones (the same rule as ``load_files``)."""
    cols = {
        "indicator": [r["indicator"] for r in rows],
        "measure": [r["measure"] for r in rows],
        "area": [area] * len(rows),
        "period": [r["period_label"] for r in rows],
        "value": [None if r["value"] is None else repr(r["value"]) for r in rows],
        "status": [r["status"] for r in rows],
        "provisional": ["y" if r["provisional"] else "n" for r in rows],
        "note": [r["note"] for r in rows],
    }
    t = pa.table(
        {
            **{k: pa.array(v, pa.string()) for k, v in cols.items()},
            "_row": pa.array([r["row"] for r in rows], pa.int64()),
        }
    )
    # problems name the template's columns (Value (column H) ...), not cspa's fields
    names = {
        k: f"{h} (column {reader.letter(i + 1)})"
        for i, (k, h, _e, _w) in enumerate(SHEETS["Actuals"])
    }
    typed, problems = stage_long(
        t, reader.where("Actuals"), load_catalogue(), load_areas(), con, Columns(names)
    )
    if problems:
        raise LoadError(problems, rows_checked=len(rows), bad_rows=len({p.row for p in problems}))
    load_id = con.execute("SELECT nextval('load_seq')").fetchall()[0][0]
    vintage = f"{path.name} loaded by {user} {dt.date.today().isoformat()}"
    con.execute(
        "INSERT INTO load_log (load_id, file, format, source, vintage, licence, rows, loaded_at, "
        "loaded_by, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?, ?)",
        [
            load_id,
            str(path),
            "quarterly template",
            SOURCE,
            vintage,
            None,
            typed.num_rows,
            user,
            digest,
        ],
    )
    con.register("_cspa_q_new_obs", typed)
    con.execute("""
        UPDATE observation o SET is_current = FALSE FROM _cspa_q_new_obs n
        WHERE o.is_current AND o.indicator = n.indicator AND o.measure = n.measure AND o.area = n.area
          AND o.period = n.period AND o.statistic = n.statistic""")
    con.execute(
        """
        INSERT INTO observation
        SELECT indicator, measure, area, period, period_label, period_kind, period_start, period_end, statistic, value,
               numerator, denominator, status, text, quality, provisional, note, published, ?, ?, NULL, ?,
               NULL, row_no, TRUE
        FROM _cspa_q_new_obs""",
        [SOURCE, vintage, load_id],
    )
    con.unregister("_cspa_q_new_obs")
    return load_id
