"""Seeds 002-004 as assessment records, and the demo's moderations that reproduce their grades.

:func:`load_seed_assessment` (a demo step, ``cspa.app.demo.build_demo_store``):

1. the grades as printed, as historical records (``assessment_record``): the 2006 APA letter's
   nine judgements (002:L27-29 and the outcome paragraphs 002:L47-132), the profile's assessment
   history (003:L83-85, including 2011's "Available in November 2011") and the 2011 letter's
   grade (004:L48); the letters' grade files also load as observations of their indicators
   (``seeds/letters/luton_<year>_grades.csv``, observation format);
2. the profile's safeguarding block (003:L59-67) as inspection events;
3. for the demo, the proposal of each letter's rule set for Luton, stored, then one moderation
   per printed grade by the user ``seed transcription`` (a confirmation where the proposal already
   equals the printed grade, otherwise an override), each citing its seed line. The letters then
   carry the grades the seeds print, and the history shows what was proposed.

Re-running replaces the records and events (they are transcriptions, not user input) and adds a
seed moderation only where the same one is not already there.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cspa.catalogue.areas import DATA
from cspa.catalogue.yaml_file import read_yaml
from cspa.store.database import Store

SEEDS = DATA / "seeds"
SEED_USER = "seed transcription"
SOURCE = "seed transcription"
OFSTED_GRADE = {"outstanding": 1, "good": 2, "satisfactory": 3, "adequate": 3, "inadequate": 4}
# (rule set, year, letter file): the demo's moderations
DEMO_LETTERS = (("apa_2006", 2006, "luton_2006.yaml"), ("profile_2011", 2011, "luton_2011.yaml"))


def _yaml(path: Path) -> dict:
    return read_yaml(path)


def _line(seed: str, n) -> str | None:
    return f"{seed}:L{n}" if n is not None else None


def seed_records() -> list[tuple]:
    """(area, year, framework, judgement, indicator, grade, label, printed, document, seed_ref) as printed."""
    rows = []
    l06 = _yaml(SEEDS / "letters" / "luton_2006.yaml")
    scale06 = {g["grade"]: g["capacity_descriptor"] for g in l06["grade_scale"]["grades"]}
    for j in l06["summary_table"]["judgements"] + l06["outcome_judgements"]:
        rows.append(
            (
                l06["area"],
                int(l06["year"]),
                l06["framework"],
                j["id"],
                j["indicator"],
                j["grade"],
                scale06.get(j["grade"]),
                j["printed"],
                "002",
                _line("002", j["seed_line"]),
            )
        )
    l11 = _yaml(SEEDS / "letters" / "luton_2011.yaml")
    for j in l11["judgements"]:
        rows.append(
            (
                l11["area"],
                int(l11["year"]),
                l11["framework"],
                j["id"],
                j["indicator"],
                j["grade"],
                j["grade_label"],
                j["printed"],
                "004",
                _line("004", j["seed_line"]),
            )
        )
    prof = _yaml(SEEDS / "003" / "profile.yaml")
    labels = {g["grade"]: g["label"] for g in l11["grade_scale"]["grades"]}
    for h in prof["assessment_history"]:
        rows.append(
            (
                prof["area"],
                int(h["year"]),
                prof["framework"],
                "childrens_services_assessment",
                "CSA",
                h.get("grade"),
                labels.get(h.get("grade")),
                h["text"],
                "003",
                _line("003", h["seed_line"]),
            )
        )
    return rows


def seed_inspection_events() -> list[tuple]:
    """The profile's safeguarding block (003:L59-67) as inspection events."""
    prof = _yaml(SEEDS / "003" / "profile.yaml")
    year = int(str(prof["header"]["reporting_date"]["date"])[:4])
    rows = []
    for i, s in enumerate(prof["safeguarding_inspections"], start=1):
        outcome = s.get("outcome")
        grade = OFSTED_GRADE.get(str(outcome).lower())
        line = s.get("outcome_seed_line") or s["seed_line"]
        rows.append(
            (
                prof["area"],
                year,
                s["text"],
                s.get("iso_date"),
                s.get("date") or s.get("period"),
                (s.get("aspect") or "").rstrip(":") or None,
                outcome,
                grade,
                s.get("adequate_or_better"),
                s.get("conducted"),
                i,
                _line("003", line),
                "seed 003",
            )
        )
    return rows


def load_seed_assessment(store: Store) -> list[dict]:
    """Load seeds 002-004's assessment records and the demo moderations; returns summary dicts."""
    from cspa.store.ingest import _user, load_files

    con = store.con
    records = seed_records()
    events = seed_inspection_events()
    now = dt.datetime.now()
    with store.transaction() as c:
        c.execute("DELETE FROM assessment_record WHERE source = ?", [SOURCE])
        c.executemany(
            "INSERT INTO assessment_record VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*r, SOURCE, now, _user()) for r in records],
        )
        c.execute("DELETE FROM assessment_inspection_event WHERE source = 'seed 003'")
        c.executemany(
            "INSERT INTO assessment_inspection_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
    out = [
        {"source": "assessment records (seeds 002-004)", "rows": len(records)},
        {"source": "inspection events (seed 003)", "rows": len(events)},
    ]
    n = 0
    for seed, name, vintage in (
        ("002", "luton_2006_grades.csv", "Ofsted/CSCI APA letter to Luton, 01 November 2006"),
        (
            "004",
            "luton_2011_grades.csv",
            "Ofsted children's services assessment letter to Luton, 8 November 2011",
        ),
    ):
        res = load_files(
            store,
            [SEEDS / "letters" / name],
            source=f"seed {seed}",
            vintage=vintage,
            seed_file=seed,
            licence="Published document; grades reproduced as data",
        )
        n += sum(r.rows for r in res)
    out.append({"source": "letter grades as observations (seeds 002, 004)", "rows": n})
    out.append({"source": "seed moderations (demo)", "rows": demo_moderations(store)})
    del con
    return out


def demo_moderations(store: Store) -> int:
    """Propose each letter's grades for Luton, store the proposal, and moderate to the printed grades."""
    from cspa.assessment.moderation import moderate, moderations, save_proposal
    from cspa.assessment.rules import proposal_rows, propose
    from cspa.assessment.ruleset import load_rulesets

    sets = load_rulesets()
    n = 0
    for rs_id, year, letter in DEMO_LETTERS:
        rs = sets.get(rs_id)
        if rs is None:
            continue
        doc = _yaml(SEEDS / "letters" / letter)
        area = str(doc["area"])
        printed = {
            j["id"]: j
            for j in (doc.get("judgements") or [])
            + (doc.get("summary_table") or {}).get("judgements", [])
            + (doc.get("outcome_judgements") or [])
        }
        done = {
            (m["judgement"], m["grade"])
            for m in moderations(store.con, rs.id, area, year)
            if m["moderated_by"] == SEED_USER
        }
        propose(store.con, rs, year)
        proposals = {p["judgement"]: p for p in proposal_rows(store.con, area)}
        if not done:
            save_proposal(store, rs, year, areas=[area], user="cspa rules")
        for jid, j in printed.items():
            if jid not in proposals or (jid, j["grade"]) in done:
                continue
            p = proposals[jid]
            action = "confirm" if p["grade"] == j["grade"] else "override"
            ref = f"{doc['seed'][:3]}:L{j['seed_line']}"
            moderate(
                store,
                rs,
                area,
                year,
                action,
                judgement=jid,
                grade=j["grade"],
                user=SEED_USER,
                seed_ref=ref,
                reason=f"Grade as printed in the {year} letter, {ref}: {j['printed']!r}",
            )
            n += 1
    return n
