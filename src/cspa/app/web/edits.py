"""Edits people make in the browser or through the API: targets, actuals, commentary, moderation.

Every edit names the version of the thing it changes that its author saw (``expected``: a token
from :func:`current`, ``"new"`` for something not yet entered). In the one writer's transaction
(:meth:`cspa.app.web.database.Database.write`) the current version is read again: if it is not
the one the author saw, someone else changed it first and the edit is refused with a
:class:`Conflict` naming who, when, theirs and yours (optimistic locking: nothing is overwritten
silently). Otherwise the change is written the way the stages keep such changes (targets and
words as new revisions, an actual as an observation superseding the old one, a moderation as a
new row: nothing is deleted), with an audit row (who, when, before, after) in the same
transaction.

A token is a digest of the current content and of who wrote it when, so it is the same on every
server that holds the same history (the PostgreSQL journal replays edits with their author and
time), and a token from one server is valid on another.

With PostgreSQL state, the edit is also appended to the journal (``web_edit``) under an advisory
lock, in the same PostgreSQL transaction as its audit row, before the DuckDB transaction commits;
:func:`sync_journal` applies journal entries this server has not yet applied (made by another
server, or before a restart) in order, so every server converges on the same edits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from cspa.app.web.database import Database
from cspa.app.web.state import StateStore, User
from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue
from cspa.errors import CatalogueError, CspaError, PeriodError
from cspa.quarterly.fields import INDICATOR_FIELDS
from cspa.quarterly.periods import parse_for, seed_label
from cspa.quarterly.revisions import ensure_readable
from cspa.quarterly.rules import is_target_companion
from cspa.quarterly.template import TARGET_TYPES
from cspa.store.ingest import STATUS_SYMBOLS, stage_long

KINDS = ("target", "actual", "commentary", "moderation")
WEB_SOURCE = "web form"
TEXT_FIELDS = tuple(f for f, _label, _line, _group in INDICATOR_FIELDS)


class EditError(CspaError):
    """The edit is not valid (a message for the person who made it, naming the field)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass
class Conflict(CspaError):
    """Someone changed the thing first; nothing was written."""

    what: str
    yours: dict
    theirs: dict
    by: str | None
    at: Any
    token: str
    edit: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(
            f"{self.what} was changed by {self.by or 'someone'} at {self.at} after you opened it; "
            "nothing was saved"
        )


@dataclass(frozen=True)
class Current:
    token: str
    content: dict | None
    by: str | None = None
    at: Any = None


def _token(content: dict | None, by: Any, at: Any) -> str:
    if content is None:
        return "new"
    raw = json.dumps([content, str(by), str(at)], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# ------------------------------------------------------------------ validation


def _indicator(code: str):
    try:
        return load_catalogue().get(str(code))
    except CatalogueError:
        raise EditError("indicator", f"{code!r} is not an indicator cspa knows") from None


def _number(text: Any, field_name: str) -> tuple[float | None, str | None]:
    """(value, status symbol) from what was typed: a plain number, or a status symbol."""
    if text is None or str(text).strip() == "":
        return None, None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        v = float(text)
    else:
        s = str(text).strip()
        if s in STATUS_SYMBOLS:
            return None, s
        s = s.rstrip("%").strip()
        # a decimal comma or a thousands separator would change the number: refuse it
        if "," in s or "_" in s or " " in s:
            raise EditError(
                field_name,
                f"{text!r} is not a number: write it with a decimal point and no separators, e.g. 1234.5",
            )
        try:
            v = float(s)
        except ValueError:
            raise EditError(
                field_name, f"{text!r} is not a number (nor a status symbol such as '..')"
            ) from None
    if v != v or v in (float("inf"), float("-inf")):
        raise EditError(field_name, f"{text!r} is not a finite number")
    return v, None


def _period(ind: Any, text: str, field_name: str = "period") -> Any:
    try:
        return parse_for(str(text), ind.year_type.value)
    except (PeriodError, CspaError) as e:
        raise EditError(field_name, f"{text!r}: {e}") from None


def normalise(kind: str, area: str, data: dict) -> dict:
    """The edit's fields, checked and in canonical form (what is journalled and applied)."""
    if kind not in KINDS:
        raise EditError("kind", f"unknown kind of edit {kind!r}")
    if kind == "moderation":
        return _normalise_moderation(data)
    ind = _indicator(data.get("indicator", ""))
    measures = ind.measure_ids()
    if kind == "commentary":
        fld = str(data.get("field") or "commentary")
        if fld not in TEXT_FIELDS:
            raise EditError(
                "field", f"{fld!r} is not a commentary field ({', '.join(TEXT_FIELDS)})"
            )
        p = _period(ind, data.get("period", ""))
        text = data.get("text")
        text = None if text is None or not str(text).strip() else str(text)
        if text is not None and len(text) > 20000:
            raise EditError("text", "the commentary is longer than 20,000 characters")
        return {"indicator": ind.code, "field": fld, "period": p.key, "item": 0, "text": text}
    mid = str(data.get("measure") or ("actual" if "actual" in measures else "value"))
    if mid not in measures or is_target_companion(measures, mid):
        raise EditError("measure", f"{ind.code} has no measure {mid!r} to enter")
    p = _period(ind, data.get("period", ""))
    value, status = _number(data.get("value"), "value")
    if kind == "target":
        ttype = str(data.get("target_type") or "local")
        if ttype not in TARGET_TYPES:
            raise EditError("target_type", f"{ttype!r}: use one of {', '.join(TARGET_TYPES)}")
        if status is not None:
            raise EditError("value", "a target is a number (or words in the target's text)")
        text = data.get("text")
        text = None if text is None or not str(text).strip() else str(text).strip()
        if value is not None and text is not None:
            raise EditError("value", "give a number or words for the target, not both")
        return {
            "indicator": ind.code,
            "measure": mid,
            "period": p.key,
            "target_type": ttype,
            "value": value,
            "text": text,
        }
    # actual
    if value is None and status is None:
        raise EditError("value", "enter the figure (or '..' if it is not available)")
    if value is not None and value < 0 and ind.unit.value in ("count", "percent", "rate"):
        raise EditError("value", f"{value:g} is negative; a {ind.unit.value} cannot be")
    if value is not None and ind.unit.value == "percent" and value > 100:
        raise EditError("value", f"{value:g} is more than 100%")
    note = data.get("note")
    return {
        "indicator": ind.code,
        "measure": mid,
        "period": p.key,
        "value": value,
        "status": status,
        "provisional": bool(data.get("provisional")),
        "note": None if note is None or not str(note).strip() else str(note).strip()[:2000],
    }


def _normalise_moderation(data: dict) -> dict:
    from cspa.assessment.moderation import GRADE_ACTIONS
    from cspa.assessment.ruleset import ruleset_for_year

    try:
        year = int(data.get("year"))
    except (TypeError, ValueError):
        raise EditError("year", f"{data.get('year')!r} is not a year") from None
    try:
        rs = ruleset_for_year(year, data.get("ruleset") or None)
    except CspaError as e:
        raise EditError("ruleset", str(e)) from None
    action = str(data.get("action") or "")
    if action not in GRADE_ACTIONS:
        raise EditError("action", "choose to confirm the proposed grade or to give another one")
    try:
        j = rs.judgement(str(data.get("judgement") or ""))
    except CspaError as e:
        raise EditError("judgement", str(e)) from None
    grade = data.get("grade")
    if action == "override":
        try:
            grade = int(grade)
        except (TypeError, ValueError):
            raise EditError("grade", "choose the grade") from None
        if rs.scale.label(grade) is None:
            raise EditError("grade", f"{grade} is not a grade of the {rs.id} scale")
    else:
        grade = None
    reason = str(data.get("reason") or "").strip()
    if not reason:
        raise EditError(
            "reason", "give the reason for the moderation: it goes in the letter's history"
        )
    return {
        "ruleset": rs.id,
        "year": year,
        "judgement": j.id,
        "action": action,
        "grade": grade,
        "reason": reason[:5000],
        "proposed_grade": data.get("proposed_grade"),
        "proposal_id": data.get("proposal_id"),
    }


# ------------------------------------------------------------------ current versions


def _one(cur: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict | None:
    res = cur.execute(sql, params)
    found = res.fetchall()
    if not found:
        return None
    return dict(zip([d[0] for d in res.description], found[0], strict=True))


def current(cur: duckdb.DuckDBPyConnection, kind: str, area: str, e: dict) -> Current:
    """The current version of what the edit changes: its token, content, author and time."""
    if kind == "target":
        r = _one(
            cur,
            """SELECT value, status, text, deleted, changed_by, changed_at FROM quarterly_target_latest
               WHERE indicator = ? AND measure = ? AND area = ? AND period = ? AND target_type = ?""",
            [e["indicator"], e["measure"], area, e["period"], e["target_type"]],
        )
        content = (
            None
            if r is None or r["deleted"]
            else {"value": r["value"], "status": r["status"], "text": r["text"]}
        )
        by, at = (r["changed_by"], r["changed_at"]) if r else (None, None)
        return Current(_token(content, by, at) if r else "new", content, by, at)
    if kind == "commentary":
        r = _one(
            cur,
            """SELECT text, deleted, changed_by, changed_at FROM quarterly_text_latest
               WHERE area = ? AND period = ? AND indicator = ? AND field = ? AND item = ?""",
            [area, e["period"], e["indicator"], e["field"], e["item"]],
        )
        content = None if r is None or r["deleted"] else {"text": r["text"]}
        by, at = (r["changed_by"], r["changed_at"]) if r else (None, None)
        return Current(_token(content, by, at) if r else "new", content, by, at)
    if kind == "actual":
        r = _one(
            cur,
            """SELECT o.value, o.status, o.provisional, o.note, o.vintage, l.loaded_by, l.loaded_at
               FROM observation_current o LEFT JOIN load_log l ON l.load_id = o.load_id
               WHERE o.indicator = ? AND o.measure = ? AND o.area = ? AND o.period = ?
                 AND o.statistic = 'value'""",
            [e["indicator"], e["measure"], area, e["period"]],
        )
        if r is None:
            return Current("new", None)
        content = {
            "value": r["value"],
            "status": r["status"],
            "provisional": bool(r["provisional"]),
            "note": r["note"],
        }
        # the vintage names the load (and, for a web edit, who and when), the same on every server
        return Current(_token(content, r["vintage"], ""), content, r["loaded_by"], r["loaded_at"])
    # moderation of a grade
    r = _one(
        cur,
        """SELECT action, grade, label, reason, moderated_by, moderated_at FROM assessment_moderation
           WHERE ruleset = ? AND area = ? AND year = ? AND judgement = ?
             AND action IN ('confirm', 'override')
           ORDER BY moderated_at DESC, moderation_id DESC LIMIT 1""",
        [e["ruleset"], area, e["year"], e["judgement"]],
    )
    if r is None:
        return Current("new", None)
    content = {
        "action": r["action"],
        "grade": r["grade"],
        "label": r["label"],
        "reason": r["reason"],
    }
    return Current(
        _token(content, r["moderated_by"], r["moderated_at"]),
        content,
        r["moderated_by"],
        r["moderated_at"],
    )


# ------------------------------------------------------------------ writing


def _apply(
    db: Database,
    cur: duckdb.DuckDBPyConnection,
    kind: str,
    area: str,
    e: dict,
    user: str,
    at: dt.datetime,
) -> None:
    """Write the edit the way its stage keeps such changes (inside the writer's transaction)."""
    ensure_readable(cur)
    if kind == "target":
        ind = load_catalogue().get(e["indicator"])
        p = parse_for(e["period"], ind.year_type.value)
        cur.execute(
            """INSERT INTO quarterly_target_revision (revision, indicator, measure, area, period,
                   period_label, period_kind, period_start, period_end, target_type, value, status,
                   text, note, seed_ref, deleted, based_on, changed_by, changed_at, source, load_id)
               SELECT nextval('quarterly_revision_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, NULL, NULL,
                      ?, (SELECT revision FROM quarterly_target_latest WHERE indicator = ? AND measure = ?
                          AND area = ? AND period = ? AND target_type = ?), ?, ?, ?, NULL""",
            [
                e["indicator"],
                e["measure"],
                area,
                p.key,
                _label(cur, e["indicator"], p),
                p.kind,
                p.start,
                p.end,
                e["target_type"],
                e["value"],
                e["text"],
                e["value"] is None and e["text"] is None,
                e["indicator"],
                e["measure"],
                area,
                p.key,
                e["target_type"],
                user,
                at,
                WEB_SOURCE,
            ],
        )
    elif kind == "commentary":
        cur.execute(
            """INSERT INTO quarterly_text_revision (revision, area, period, indicator, field, item,
                   text, extra, seed_ref, deleted, based_on, changed_by, changed_at, source, load_id)
               SELECT nextval('quarterly_revision_seq'), ?, ?, ?, ?, ?, ?,
                      (SELECT extra FROM quarterly_text_latest WHERE area = ? AND period = ? AND indicator = ?
                       AND field = ? AND item = ?), NULL, ?,
                      (SELECT revision FROM quarterly_text_latest WHERE area = ? AND period = ? AND indicator = ?
                       AND field = ? AND item = ?), ?, ?, ?, NULL""",
            [
                area,
                e["period"],
                e["indicator"],
                e["field"],
                e["item"],
                e["text"],
                area,
                e["period"],
                e["indicator"],
                e["field"],
                e["item"],
                e["text"] is None,
                area,
                e["period"],
                e["indicator"],
                e["field"],
                e["item"],
                user,
                at,
                WEB_SOURCE,
            ],
        )
    elif kind == "actual":
        _write_actual(cur, area, e, user, at)
    else:
        from cspa.assessment.moderation import moderate
        from cspa.assessment.ruleset import ruleset_for_year

        rs = ruleset_for_year(e["year"], e["ruleset"])
        moderate(
            db.nested_store(cur),
            rs,
            area,
            e["year"],
            e["action"],
            e["reason"],
            judgement=e["judgement"],
            grade=e["grade"],
            user=user,
            at=at,
            proposed_grade=e.get("proposed_grade"),
            proposal_id=e.get("proposal_id"),
        )


def _label(cur: duckdb.DuckDBPyConnection, indicator: str, p: Any) -> str:
    """The period as the area's reports print it (an existing figure's label), else the seed's form."""
    r = cur.execute(
        "SELECT period_label FROM observation WHERE indicator = ? AND period = ? AND period_label IS NOT NULL LIMIT 1",
        [indicator, p.key],
    ).fetchall()
    return r[0][0] if r else seed_label(p)


def _write_actual(
    cur: duckdb.DuckDBPyConnection, area: str, e: dict, user: str, at: dt.datetime
) -> None:
    ind = load_catalogue().get(e["indicator"])
    p = parse_for(e["period"], ind.year_type.value)
    t = pa.table(
        {
            "indicator": pa.array([e["indicator"]], pa.string()),
            "measure": pa.array([e["measure"]], pa.string()),
            "area": pa.array([area], pa.string()),
            "period": pa.array([_label(cur, e["indicator"], p)], pa.string()),
            "value": pa.array([None if e["value"] is None else repr(e["value"])], pa.string()),
            "status": pa.array([e["status"]], pa.string()),
            "provisional": pa.array(["y" if e["provisional"] else "n"], pa.string()),
            "note": pa.array([e["note"]], pa.string()),
            "_row": pa.array([1], pa.int64()),
        }
    )
    typed, problems = stage_long(t, WEB_SOURCE, load_catalogue(), load_areas(), cur)
    cur.unregister("stg")
    if problems:
        raise EditError(problems[0].field or "value", problems[0].message)
    load_id = cur.execute("SELECT nextval('load_seq')").fetchall()[0][0]
    vintage = f"entered in the web form by {user} at {at:%Y-%m-%d %H:%M:%S}"
    cur.execute(
        # columns named: the store's schema gains columns (a migration adds them at the end)
        "INSERT INTO load_log (load_id, file, format, source, vintage, licence, rows, loaded_at, "
        "loaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, WEB_SOURCE, WEB_SOURCE, WEB_SOURCE, vintage, None, typed.num_rows, at, user],
    )
    cur.register("_web_new_obs", typed)
    cur.execute("""
        UPDATE observation o SET is_current = FALSE FROM _web_new_obs n
        WHERE o.is_current AND o.indicator = n.indicator AND o.measure = n.measure AND o.area = n.area
          AND o.period = n.period AND o.statistic = n.statistic""")
    cur.execute(
        """INSERT INTO observation (indicator, measure, area, period, period_label, period_kind,
                  period_start, period_end, statistic, value, numerator, denominator, status, text,
                  quality, provisional, note, published, source, vintage, licence, load_id,
                  seed_ref, row_no, is_current)
           SELECT indicator, measure, area, period, period_label, period_kind, period_start, period_end,
                  statistic, value, numerator, denominator, status, text, quality, provisional, note,
                  FALSE, ?, ?, NULL, ?, NULL, row_no, TRUE
           FROM _web_new_obs""",
        [WEB_SOURCE, vintage, load_id],
    )
    cur.unregister("_web_new_obs")


@dataclass
class Saved:
    kind: str
    area: str
    edit: dict
    before: dict | None
    after: dict | None
    token: str
    at: dt.datetime


@dataclass(frozen=True)
class Pending:
    """One change as submitted: its kind, its fields, and the version its author saw."""

    kind: str
    data: dict
    expected: str | None = None


class Conflicts(CspaError):
    """One or more changes met a newer version; nothing of the submission was written."""

    def __init__(self, conflicts: list[Conflict]):
        super().__init__("; ".join(str(c) for c in conflicts))
        self.conflicts = conflicts


def _same(kind: str, e: dict, content: dict | None) -> bool:
    """Whether the edit leaves the content as it is (then it is no change, and cannot conflict)."""
    if kind == "moderation":
        return False
    if content is None:
        if kind == "target":
            return e["value"] is None and e["text"] is None
        if kind == "commentary":
            return e["text"] is None
        return False
    keys = {
        "target": ("value", "text"),
        "commentary": ("text",),
        "actual": ("value", "status", "provisional", "note"),
    }[kind]
    return all(e.get(k) == content.get(k) for k in keys)


def save(
    db: Database,
    state: StateStore,
    user: User,
    area: str,
    items: list[Pending],
    via: str = "page",
) -> list[Saved]:
    """Check the role rules, the fields and the versions seen; write every change and its audit
    row in one transaction, or nothing. A field left as it was is no change."""
    for it in items:
        if it.kind == "moderation":
            if not user.can_moderate(area):
                raise PermissionError(f"{user.username} does not moderate authority {area}")
        elif not user.can_edit(area):
            raise PermissionError(f"{user.username} does not edit authority {area}")
    edits = [(it, normalise(it.kind, area, it.data)) for it in items]
    at = _now()
    out: list[Saved] = []
    global_change = any(it.kind == "actual" for it in items)
    with db.write(bump=True if global_change else area) as cur, state.edit_lock() as tx:
        if state.kind == "postgresql":
            _sync(db, state, cur)
        conflicts = []
        todo = []
        for it, e in edits:
            now = current(cur, it.kind, area, e)
            if _same(it.kind, e, now.content):
                continue
            if (it.expected or "new") != now.token:
                conflicts.append(
                    Conflict(_what(it.kind, e), e, now.content or {}, now.by, now.at, now.token, e)
                )
            todo.append((it, e, now))
        if conflicts:
            raise Conflicts(conflicts)
        for it, e, now in todo:
            _apply(db, cur, it.kind, area, e, user.username, at)
            after = current(cur, it.kind, area, e)
            state.audit(
                tx if state.kind == "postgresql" else cur,
                at=at,
                username=user.username,
                action=it.kind,
                area=area,
                entity=it.kind,
                key=_what(it.kind, e),
                before=now.content,
                after=after.content,
                via=via,
            )
            if state.kind == "postgresql":
                seq = state.journal_append(tx, at, user.username, it.kind, area, e)
                cur.execute("INSERT OR REPLACE INTO meta VALUES ('web_journal_seq', ?)", [str(seq)])
            out.append(Saved(it.kind, area, e, now.content, after.content, after.token, at))
    changed = tuple(sorted({s.edit["indicator"] for s in out if s.kind == "actual"}))
    if changed:
        # the judged figures of an edited indicator are recomputed off the request (coalesced):
        # the quarterly page reads the figure itself at once, the comparisons within seconds
        db.schedule_refresh(changed)
    return out


def _what(kind: str, e: dict) -> str:
    if kind == "target":
        return f"{e['target_type']} target for {e['indicator']} {e['measure']}, {e['period']}"
    if kind == "actual":
        return f"actual {e['indicator']} {e['measure']}, {e['period']}"
    if kind == "commentary":
        return f"{e['field']} of {e['indicator']}, {e['period']}"
    return f"{e['judgement']} grade, {e['ruleset']} {e['year']}"


# ------------------------------------------------------------------ the PostgreSQL journal


def _applied(cur: duckdb.DuckDBPyConnection) -> int:
    found = cur.execute("SELECT value FROM meta WHERE key = 'web_journal_seq'").fetchall()
    return int(found[0][0]) if found else 0


def _sync(db: Database, state: StateStore, cur: duckdb.DuckDBPyConnection) -> int:
    """Apply journal entries newer than this store's last (inside the writer's transaction)."""
    n = 0
    for seq, at, username, kind, area, payload in state.journal_since(_applied(cur)):
        _apply(db, cur, kind, area, json.loads(payload), username, at)
        db.bump_area(area)
        if kind == "actual":
            db.schedule_refresh((json.loads(payload)["indicator"],))
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('web_journal_seq', ?)", [str(seq)])
        n += 1
    return n


def sync_journal(db: Database, state: StateStore) -> int:
    """Bring this server's store up to the PostgreSQL journal (at start, and before reading edits)."""
    if state.kind != "postgresql":
        return 0
    with db.read() as cur:
        behind = state.journal_since(_applied(cur))
    if not behind:
        return 0
    with db.write() as cur, state.edit_lock():
        n = _sync(db, state, cur)
    return n
