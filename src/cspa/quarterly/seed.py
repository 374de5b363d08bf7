"""Load seed 001's targets and narrative into the quarterly tables, as user "seed 001 transcription".

Seed 001 is Luton's Children & Learning departmental performance & finance report for January to
March 2008. Its actuals and comparators are ordinary observations (``seeds/001/actuals.csv``,
loaded by the demo builder); its targets (``targets.csv``) and words (``narrative.yaml``) go
through the same revision machinery as a filled-in template (docs/seed-formats-001-004.md 1.3,
1.4), so they carry who and when and a later edit is a new revision on top of them. Loading twice
writes nothing the second time (only content that differs from the current revision is written).
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue
from cspa.catalogue.yaml_file import read_yaml
from cspa.quarterly.periods import parse_for, report_period
from cspa.quarterly.revisions import counts, decide, extra_json, write
from cspa.store.database import Store

SEED_DIR = Path(__file__).resolve().parents[1] / "data" / "seeds" / "001"
USER = "seed 001 transcription"
SEED = "001"

# Report-level entries of narrative.yaml that are single texts: field name -> YAML key.
REPORT_FIELDS = (
    "title",
    "department",
    "reporting_period",
    "date_cib",
    "provisional_caveat",
    "director",
    "date_dmt",
    "portfolio_holder",
    "date_portfolio_holder",
    "version",
    "key_financial_drivers",
    "intranet",
)
# Indicator-level entries that are single texts (the rest of an entry is its code, item and lists).
INDICATOR_FIELDS = (
    "title",
    "subtitle",
    "commentary",
    "commentary_and_planned_action",
    "planned_action",
    "action_plan_summary",
    "predicted_scale_of_improvement",
    "overall_action_plan_rag",
    "milestones",
    "actions_due",
    "achieved",
    "footnote",
)


def _ref(entry: dict) -> str | None:
    return f"{SEED}:L{entry['seed_line']}" if entry.get("seed_line") is not None else None


def _text_row(area: str, period: str, indicator: str, field: str, item: int, entry: dict) -> dict:
    extra = {k: v for k, v in entry.items() if k not in ("text", "seed_line")}
    return {
        "area": area,
        "period": period,
        "indicator": indicator,
        "field": field,
        "item": item,
        "text": entry.get("text"),
        "extra": extra_json(extra),
        "seed_ref": _ref(entry),
        "based_on": None,
        "where_": f"narrative.yaml {indicator or 'report'} {field} {item}",
    }


def narrative_rows(path: Path = SEED_DIR / "narrative.yaml") -> tuple[str, str, list[dict]]:
    """(area, report period key, text rows) of the seed's narrative."""
    doc = read_yaml(path)
    area = load_areas().resolve(str(doc["area"])).code
    rep = doc["report"]
    period = report_period(rep["reporting_period"]["period"]).key
    rows: list[dict] = []
    for f in REPORT_FIELDS:
        if f in rep:
            rows.append(_text_row(area, period, "", f, 0, rep[f]))
    news = rep.get("headline_news") or {}
    if news.get("heading"):
        rows.append(_text_row(area, period, "", "headline_news_heading", 0, news["heading"]))
    for i, it in enumerate(news.get("items") or [], start=1):
        rows.append(_text_row(area, period, "", "headline_news", i, it))
    key = rep.get("key") or {}
    if key.get("heading"):
        rows.append(_text_row(area, period, "", "key_heading", 0, key["heading"]))
    for i, it in enumerate(key.get("entries") or [], start=1):
        rows.append(_text_row(area, period, "", "key", i, it))
    for i, sec in enumerate(rep.get("sections") or [], start=1):
        rows.append(
            _text_row(
                area,
                period,
                "",
                "section_heading",
                i,
                {k: v for k, v in sec.items() if k != "description"},
            )
        )
        if sec.get("description"):
            rows.append(
                _text_row(
                    area,
                    period,
                    "",
                    "section_description",
                    i,
                    {**sec["description"], "section": sec.get("section")},
                )
            )
    cat = load_catalogue()
    for ind in doc.get("indicators") or []:
        code = cat.get(ind["code"]).code
        for f in INDICATOR_FIELDS:
            if f in ind:
                rows.append(_text_row(area, period, code, f, 0, ind[f]))
        for i, fig in enumerate(ind.get("commentary_figures") or [], start=1):
            rows.append(_text_row(area, period, code, "commentary_figure", i, fig))
        if ind.get("note"):
            # a transcriber's note on the whole entry (e.g. PAF A2: only the title is printed, 001:L223)
            rows.append(
                _text_row(
                    area,
                    period,
                    code,
                    "transcription_note",
                    0,
                    {"text": ind["note"], "seed_line": ind["title"].get("seed_line")},
                )
            )
    return area, period, rows


def target_rows(path: Path = SEED_DIR / "targets.csv") -> list[dict]:
    """Target rows of ``targets.csv``. A ``text`` target (a local target printed as words, 001:L136)
    is stored as a local target with words; a blank period (a merged cell across the period
    columns) is period ``*``."""
    cat = load_catalogue()
    areas = load_areas()
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, r in enumerate(csv.DictReader(f), start=2):
            ind = cat.get(r["indicator"])
            label = (r.get("period") or "").strip()
            if label:
                p = parse_for(label, ind.year_type.value)
                period = dict(
                    period=p.key,
                    period_label=label,
                    period_kind=p.kind,
                    period_start=p.start,
                    period_end=p.end,
                )
            else:
                period = dict(
                    period="*",
                    period_label=None,
                    period_kind=None,
                    period_start=None,
                    period_end=None,
                )
            ttype = r["target_type"].strip()
            note = (r.get("note") or "").strip() or None
            if ttype == "text":
                ttype = "local"
                note = "; ".join(x for x in ("printed as words in the target row", note) if x)
            out.append(
                {
                    "indicator": ind.code,
                    "measure": r["measure"].strip() or "value",
                    "area": areas.resolve(r["area"].strip()).code,
                    **period,
                    "target_type": ttype,
                    "value": float(r["target"]) if (r.get("target") or "").strip() else None,
                    "status": (r.get("status") or "").strip() or None,
                    "text": (r.get("text") or "").strip() or None,
                    "note": note,
                    "seed_ref": f"{SEED}:L{r['seed_line']}",
                    "based_on": None,
                    "where_": f"targets.csv row {n:04d}",
                }
            )
    return out


def load_seed_quarterly(store: Store) -> list[dict]:
    """Write seed 001's targets and narrative as revisions by "seed 001 transcription" (idempotent)."""
    targets = target_rows()
    area, period, texts = narrative_rows()
    con = store.con
    files = [SEED_DIR / "targets.csv", SEED_DIR / "narrative.yaml"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()
    with store.transaction():
        # the transcription is the authority on its own rows: it is applied on top of whatever is
        # current (based on the latest revision), and only differences are written
        for kind, rows in (("target", targets), ("text", texts)):
            key = (
                ("indicator", "measure", "area", "period", "target_type")
                if kind == "target"
                else ("area", "period", "indicator", "field", "item")
            )
            latest = {
                tuple(r[:-1]): r[-1]
                for r in con.execute(
                    f"SELECT {', '.join(key)}, revision FROM "
                    f"{'quarterly_target_latest' if kind == 'target' else 'quarterly_text_latest'}"
                ).fetchall()
            }
            for r in rows:
                r["based_on"] = latest.get(tuple(r[k] for k in key), 0)
        dt = decide(con, "target", targets)
        dx = decide(con, "text", texts)
        n_t = counts(con, dt)["write"]
        n_x = counts(con, dx)["write"]
        load_id = None
        if n_t or n_x:
            load_id = con.execute("SELECT nextval('quarterly_load_seq')").fetchall()[0][0]
            con.execute(
                "INSERT INTO quarterly_load VALUES (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, 0, NULL)",
                [
                    load_id,
                    "; ".join(str(p.relative_to(SEED_DIR.parents[2])) for p in files),
                    digest,
                    area,
                    period,
                    USER,
                    "seed 001",
                    n_t,
                    n_x,
                ],
            )
            write(con, "target", "_cspa_q_staged_target_decided", USER, "seed 001", load_id)
            write(con, "text", "_cspa_q_staged_text_decided", USER, "seed 001", load_id)
    return [{"source": "seed 001 targets and narrative", "rows": n_t + n_x}]
