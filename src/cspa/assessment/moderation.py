"""Inspector moderation: confirm or override a proposed grade, edit the letter's text; nothing is lost.

Proposals (``assessment_proposal``) and moderations (``assessment_moderation``) are append-only:
a later row supersedes an earlier one when reading, and the earlier one stays. Every moderation
carries who, when and a reason (required), and the grade that was proposed when it was made.

The final grade of a judgement is its latest ``confirm``/``override`` moderation, else the
proposal. Letter text is the drafted items with ``edit_text`` / ``remove_text`` / ``add_text``
moderations applied in the order they were made.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from cspa.assessment.profile import _table_exists
from cspa.assessment.ruleset import RuleSet
from cspa.errors import CspaError
from cspa.store.database import Store
from cspa.store.ingest import _user
from cspa.store.sql import in_list

GRADE_ACTIONS = ("confirm", "override")
TEXT_ACTIONS = ("edit_text", "remove_text", "add_text")
SECTIONS = ("strengths", "areas_for_improvement", "summary")


def _next_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('assessment_seq')").fetchall()[0][0]


def save_proposal(
    store: Store,
    rs: RuleSet,
    year: int,
    proposal_table: str = "_cspa_proposal",
    areas: list[str] | None = None,
    user: str | None = None,
) -> int:
    """Append the proposal (every area, or those given) as one run; returns the run id."""
    con = store.con
    where = "TRUE" if areas is None else f"area IN {in_list(areas)}"
    with store.transaction() as c:
        run_id = _next_id(c)
        c.execute(
            f"""
            INSERT INTO assessment_proposal
            SELECT nextval('assessment_seq'), ?, ?, ?, ?, area, ?, judgement, grade, grade_label, basis,
                   to_json(rules)::VARCHAR, to_json(evidence_ids)::VARCHAR, now(), ?
            FROM {proposal_table} WHERE {where} ORDER BY area, judgement_order""",
            [run_id, rs.id, rs.version, rs.sha256, year, user or _user()],
        )
    del con
    return run_id


def latest_proposals(
    con: duckdb.DuckDBPyConnection, ruleset: str, area: str, year: int
) -> dict[str, dict]:
    """The latest stored proposal per judgement, by judgement id."""
    if not _table_exists(con, "assessment_proposal"):
        return {}
    rel = con.sql(
        """SELECT * FROM assessment_proposal WHERE ruleset = $r AND area = $a AND year = $y
                     QUALIFY row_number() OVER (PARTITION BY judgement ORDER BY proposal_id DESC) = 1""",
        params={"r": ruleset, "a": area, "y": year},
    )
    cols = rel.columns
    return {r[cols.index("judgement")]: dict(zip(cols, r, strict=True)) for r in rel.fetchall()}


def moderate(
    store: Store,
    rs: RuleSet,
    area: str,
    year: int,
    action: str,
    reason: str,
    *,
    judgement: str | None = None,
    grade: int | None = None,
    section: str | None = None,
    item_key: str | None = None,
    text: str | None = None,
    user: str | None = None,
    seed_ref: str | None = None,
    proposed_grade: int | None = None,
    proposal_id: int | None = None,
    at: dt.datetime | None = None,
    items: dict[str, list[str]] | None = None,
) -> int:
    """Record one moderation (one transaction); returns its id. Bad input changes nothing.

    ``items``: the letter's item keys per section as the inspector sees them (drafted, with earlier text
    moderations applied); editing or removing a key not among them is refused, naming those that exist."""
    if not (reason or "").strip():
        raise CspaError(
            "a moderation needs a reason (--reason): say why the grade or text is confirmed or changed"
        )
    if action not in GRADE_ACTIONS + TEXT_ACTIONS:
        raise CspaError(
            f"action must be one of {', '.join(GRADE_ACTIONS + TEXT_ACTIONS)}, not {action!r}"
        )
    label = None
    if action in GRADE_ACTIONS:
        j = rs.judgement(judgement or "")
        judgement = j.id
        if action == "override":
            if grade is None:
                raise CspaError("an override needs the new grade (--grade)")
            label = rs.scale.label(grade)
            if label is None:
                raise CspaError(
                    f"{grade} is not a grade of the {rs.id} scale: "
                    + ", ".join(f"{g.grade} {g.label}" for g in rs.scale.grades)
                )
    else:
        if section not in SECTIONS:
            raise CspaError(f"--section must be one of {', '.join(SECTIONS)}, not {section!r}")
        if action in ("edit_text", "remove_text") and not item_key:
            raise CspaError(
                "editing or removing text needs the item's key (--item; `cspa report letter "
                "--format json` lists each item's key)"
            )
        if action in ("edit_text", "add_text") and not (text or "").strip():
            raise CspaError("editing or adding text needs the new text (--text)")
        if (
            action in ("edit_text", "remove_text")
            and items is not None
            and item_key not in items.get(section, [])
        ):
            have = items.get(section, [])
            raise CspaError(
                f"the {year} letter for {area} has no item {item_key!r} in {section}, so nothing was "
                f"recorded; its {section} items are: {', '.join(have) if have else 'none'}"
            )
        if action == "add_text" and not item_key:
            item_key = f"added:{dt.datetime.now():%Y%m%d%H%M%S%f}"
    with store.transaction() as c:
        if action in GRADE_ACTIONS and (proposed_grade is None or proposal_id is None):
            stored = latest_proposals(c, rs.id, area, year).get(judgement)
            if stored is not None:
                proposed_grade = stored["grade"] if proposed_grade is None else proposed_grade
                proposal_id = stored["proposal_id"] if proposal_id is None else proposal_id
        if action == "confirm":
            grade = proposed_grade if grade is None else grade
            if grade is None:
                raise CspaError(
                    f"nothing to confirm: there is no proposed grade for {judgement} ({area} {year}); "
                    "run `cspa assess` first, or override with --grade"
                )
            label = rs.scale.label(grade)
        mid = _next_id(c)
        c.execute(
            "INSERT INTO assessment_moderation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                mid,
                rs.id,
                area,
                year,
                judgement,
                action,
                proposed_grade,
                grade,
                label,
                section,
                item_key,
                text,
                reason.strip(),
                user or _user(),
                at or dt.datetime.now(),
                proposal_id,
                seed_ref,
            ],
        )
    return mid


def moderations(con: duckdb.DuckDBPyConnection, ruleset: str, area: str, year: int) -> list[dict]:
    """Every moderation of an area and year, oldest first."""
    if not _table_exists(con, "assessment_moderation"):
        return []
    rel = con.sql(
        """SELECT * FROM assessment_moderation WHERE ruleset = $r AND area = $a AND year = $y
                     ORDER BY moderated_at, moderation_id""",
        params={"r": ruleset, "a": area, "y": year},
    )
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def final_grades(rs: RuleSet, proposals: list[dict], mods: list[dict]) -> list[dict]:
    """Per judgement: the proposal, the latest grade moderation, and the final grade (the latter, else the former)."""
    out = []
    for p in proposals:
        ms = [m for m in mods if m["judgement"] == p["judgement"] and m["action"] in GRADE_ACTIONS]
        last = ms[-1] if ms else None
        grade = last["grade"] if last else p["grade"]
        status = (
            {"confirm": "confirmed", "override": "overridden"}[last["action"]]
            if last
            else "proposed"
        )
        basis = (
            f"{'Confirmed' if status == 'confirmed' else 'Moderated'} by {last['moderated_by']} on "
            f"{last['moderated_at']:%d %B %Y}: {last['reason']} (proposed: "
            f"{p['grade'] if p['grade'] is not None else 'none'}"
            f"{' ' + p['grade_label'] if p.get('grade_label') else ''})"
            if last
            else f"Proposed by rule set {rs.id} v{rs.version}: {p['basis']}"
        )
        out.append(
            {
                "judgement": p["judgement_label"],
                "judgement_id": p["judgement"],
                "grade": grade,
                "label": rs.scale.label(grade),
                "basis": basis,
                "status": status,
                "proposed_grade": p["grade"],
                "proposed_label": p.get("grade_label"),
                "proposal_basis": p["basis"],
                "rules": p.get("rules") or [],
                "evidence_ids": p.get("evidence_ids") or [],
                "moderation": None
                if last is None
                else {
                    "action": last["action"],
                    "by": last["moderated_by"],
                    "at": last["moderated_at"],
                    "reason": last["reason"],
                    "seed_ref": last["seed_ref"],
                    "proposed_grade": last["proposed_grade"],
                },
                "moderations": [
                    {
                        "action": m["action"],
                        "grade": m["grade"],
                        "by": m["moderated_by"],
                        "at": m["moderated_at"],
                        "reason": m["reason"],
                    }
                    for m in ms
                ],
            }
        )
    return out


def apply_text(items: dict[str, list[dict]], mods: list[dict]) -> dict[str, list[dict]]:
    """Drafted items per section with the text moderations applied in order (each item keeps its key)."""
    out = {s: [dict(i) for i in v] for s, v in items.items()}
    for m in mods:
        if m["action"] not in TEXT_ACTIONS:
            continue
        sec = out.setdefault(m["section"], [])
        hit = next((i for i in sec if i["key"] == m["item_key"]), None)
        note = {
            "by": m["moderated_by"],
            "at": m["moderated_at"],
            "reason": m["reason"],
            "action": m["action"],
        }
        if m["action"] == "remove_text" and hit is not None:
            sec.remove(hit)
        elif m["action"] == "edit_text" and hit is not None:
            hit.update(text=m["text"], edited=note)
        elif m["action"] == "add_text":
            sec.append({"key": m["item_key"], "text": m["text"], "evidence": [], "edited": note})
    return out


def history(con: duckdb.DuckDBPyConnection, ruleset: str, area: str, year: int) -> list[dict]:
    """Every stored proposal and moderation of an area and year, in time order."""
    out = []
    if _table_exists(con, "assessment_proposal"):
        for r in con.execute(
            """SELECT proposed_at, proposed_by, judgement, grade, label, basis, run_id, ruleset_version
                                FROM assessment_proposal WHERE ruleset = ? AND area = ? AND year = ?
                                ORDER BY proposal_id""",
            [ruleset, area, year],
        ).fetchall():
            out.append(
                {
                    "at": r[0],
                    "by": r[1],
                    "event": "proposal",
                    "judgement": r[2],
                    "grade": r[3],
                    "label": r[4],
                    "detail": f"run {r[6]} (rule set v{r[7]}): {r[5]}",
                }
            )
    for m in moderations(con, ruleset, area, year):
        detail = m["reason"] + (f" [{m['seed_ref']}]" if m.get("seed_ref") else "")
        if m["action"] in TEXT_ACTIONS:
            detail = (
                f"{m['section']} {m['item_key']}: {m['text'] or '(removed)'} | reason: {detail}"
            )
        else:
            detail = (
                f"proposed {m['proposed_grade']} -> {m['grade']} {m['label']} | reason: {detail}"
            )
        out.append(
            {
                "at": m["moderated_at"],
                "by": m["moderated_by"],
                "event": m["action"],
                "judgement": m["judgement"] or m["section"],
                "grade": m["grade"],
                "label": m["label"],
                "detail": detail,
            }
        )
    return sorted(out, key=lambda x: x["at"])


def to_json_safe(v):
    return json.loads(json.dumps(v, default=str))
