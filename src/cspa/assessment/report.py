"""The profile and letter report documents (docs/report-spec.md), and the demo's profiles and letters.

* :func:`build_profile_document` lays out the profile relations of one authority: every provider
  type, super-group and education measure is an indicator (title as printed), each printed figure
  an observation whose ``measure`` is the printed column (``Number inspected``, ``% Outstanding``,
  ``% Good or Outstanding``, ``Trend``, ``1 Year Improvement``, ...) and ``geography`` the row
  (area / statistical_neighbours / england); plus the inspection events and assessment history.
* :func:`build_letter_document` proposes the grades (:mod:`.rules`, all authorities at once),
  applies the moderations (:mod:`.moderation`), drafts strengths and areas for improvement
  (:mod:`.letters`) and lays out the letter in the seeds' structure (addressee block, the scale,
  the grade table, summary, strengths, areas for improvement, and for 2006 the judgement per
  outcome). ``grades`` and ``text`` are the shared envelope's keys.

Nothing is computed here: figures, grades and sentences come from the relations.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from cspa import __version__
from cspa.assessment.evidence import EVIDENCE
from cspa.assessment.inspections import AREA_LABELS, INSPECTIONS
from cspa.assessment.letters import (
    SALIENCE_NOTE,
    draft_items,
    items_for,
    sentences_for,
    theme_sentences,
)
from cspa.assessment.moderation import apply_text, final_grades, history, moderations
from cspa.assessment.profile import HISTORY, PROFILE, build_profile
from cspa.assessment.rules import evidence_rows, proposal_rows, propose
from cspa.assessment.ruleset import RuleSet, ruleset_for_year
from cspa.catalogue.areas import DATA, Area, load_areas
from cspa.catalogue.load import load_catalogue
from cspa.catalogue.vocabulary import attribution_for
from cspa.catalogue.yaml_file import read_yaml
from cspa.errors import CspaError
from cspa.store.coverage import refuse_not_yet
from cspa.store.sql import in_list

GEO_LABEL = {"area": None, "statistical_neighbours": "Statistical neighbours", "england": "England"}
SEED_LETTERS = DATA / "seeds" / "letters"
SEED_PROFILE = DATA / "seeds" / "003" / "profile.yaml"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    rel = con.sql(sql)
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def _area_doc(area: Area) -> dict:
    return {
        "name": area.name,
        "dfe_code": area.dfe_code,
        "ons_code": area.ons_code,
        "region": area.region_name,
    }


def _framework_doc(rs: RuleSet) -> dict:
    cat = load_catalogue()
    fw = cat.frameworks.get(rs.framework)
    return {
        "id": rs.framework,
        "title": rs.title,
        "publisher": fw.publisher if fw else None,
        "vintage": fw.vintage if fw else None,
        "licence": fw.licence if fw else None,
        "ruleset": rs.id,
        "ruleset_version": rs.version,
        "ruleset_sha256": rs.sha256,
    }


def _attribution(rs: RuleSet, con, area: Area, refs: set[str]) -> list[str]:
    fw = _framework_doc(rs)
    out = []
    # the statements the figures' licences ask for: the framework's, and the profile's data
    out += attribution_for(fw["licence"], rs.profile.licence if rs.profile else None)
    if rs.profile and rs.profile.source:
        out.append(f"Source: {rs.profile.source}; {rs.profile.licence or ''}".rstrip("; "))
    elif fw["publisher"]:
        out.append(
            f"Source: {fw['publisher']}; {fw['vintage'] or ''}; {fw['licence'] or ''}".strip("; ")
        )
    seeds = sorted({r.split(":")[0] for r in refs if r and ":L" in r})
    if seeds:
        out.append("Seed documents cited by line: " + ", ".join(seeds) + ".")
    out.append(
        f"Grades proposed by cspa rule set {rs.id} version {rs.version}; final grades are moderated by an inspector."
    )
    return out


# ------------------------------------------------------------------------------------ profile


def _profile_table(rows: list[dict], block: str, caption: str, comparators: bool) -> dict:
    blk = [r for r in rows if r["block"] == block]
    cols = sorted({(r["col_order"], r["measure"]) for r in blk})
    columns = [c[1] for c in cols]
    extra = []
    if comparators:
        extra = [
            ("england", "% Good or Outstanding: England"),
            ("statistical_neighbours", "% Good or Outstanding: statistical neighbours"),
        ]
    out_rows = []
    for ind in sorted({(r["row_order"], r["indicator"]) for r in blk}):
        own = {
            r["measure"]: r for r in blk if r["indicator"] == ind[1] and r["geography"] == "area"
        }
        first = next(iter(own.values()), None)
        if first is None:
            continue
        cells = [
            {
                "display": (own.get(c) or {}).get("display") or "",
                "basis": (own.get(c) or {}).get("basis"),
                "source": (own.get(c) or {}).get("source"),
            }
            for c in columns
        ]
        for geo, _label in extra:
            r = next(
                (
                    x
                    for x in blk
                    if x["indicator"] == ind[1]
                    and x["geography"] == geo
                    and x["measure_id"] == "pct_good_or_outstanding"
                ),
                None,
            )
            cells.append(
                {
                    "display": (r or {}).get("display") or "",
                    "basis": (r or {}).get("basis"),
                    "source": "computed",
                }
            )
        q = (own.get("% Good or Outstanding") or {}).get("quartile")
        if comparators:
            cells.append(
                {
                    "display": f"{q}" if q else "",
                    "basis": "quartile of % good or outstanding among authorities "
                    "(1 = best quarter; type-7 cut points)"
                    if q
                    else None,
                    "source": "computed",
                }
            )
        out_rows.append({"label": first["title"], "code": ind[1], "cells": cells})
    return {
        "caption": caption,
        "columns": columns + [e[1] for e in extra] + (["Quartile"] if comparators else []),
        "rows": out_rows,
    }


def _education_table(rows: list[dict], caption: str) -> dict:
    blk = [r for r in rows if r["block"] == "education"]
    years = sorted({r["period"] for r in blk if r["measure_id"] == "value"})
    imps = sorted({(r["col_order"], r["measure"]) for r in blk if r["measure_id"] != "value"})
    columns = years + [m for _, m in imps]
    out_rows = []
    geo_order = {"area": 0, "statistical_neighbours": 1, "england": 2}
    for ind in sorted({(r["row_order"], r["indicator"]) for r in blk}):
        irows = [r for r in blk if r["indicator"] == ind[1]]
        for geo in sorted({r["geography"] for r in irows}, key=lambda g: geo_order.get(g, 9)):
            g = [r for r in irows if r["geography"] == geo]
            cells = []
            for y in years:
                r = next((x for x in g if x["measure_id"] == "value" and x["period"] == y), None)
                cells.append(
                    {
                        "display": (r or {}).get("display") or "",
                        "basis": (r or {}).get("basis"),
                        "source": (r or {}).get("source"),
                    }
                )
            for _, m in imps:
                r = next((x for x in g if x["measure"] == m), None)
                cells.append(
                    {
                        "display": (r or {}).get("display") or "",
                        "basis": (r or {}).get("basis"),
                        "source": (r or {}).get("source"),
                    }
                )
            out_rows.append(
                {
                    "label": irows[0]["title"],
                    "geography": {"area": "LA", "england": "NAT", "statistical_neighbours": "SN"}[
                        geo
                    ],
                    "code": ind[1],
                    "cells": cells,
                }
            )
    return {"caption": caption, "columns": columns, "rows": out_rows}


def _indicators(rows: list[dict], rs: RuleSet) -> list[dict]:
    out = []
    sections = {
        "provider_type": rs.profile.provider_heading.text,
        "super_group": "Super-groups",
        "education": rs.profile.education_heading.text,
    }
    for key in sorted(
        {
            (
                r["block"] != "provider_type",
                r["block"] == "education",
                r["row_order"],
                r["indicator"],
            )
            for r in rows
        }
    ):
        irows = [r for r in rows if r["indicator"] == key[3]]
        first = irows[0]
        obs = [
            {
                "measure": r["measure"],
                "measure_id": r["measure_id"],
                "period": r["period"],
                "geography": r["geography"],
                "value": r["value"],
                "display": r["display"],
                "numerator": r["numerator"],
                "denominator": r["denominator"],
                "status": r["status"],
                "source": r["source"],
                "basis": r["basis"],
                "seed_ref": r["seed_ref"],
            }
            for r in sorted(irows, key=lambda r: (r["col_order"], r["period"], r["geography"]))
        ]
        judgements = [
            {
                "measure": r["measure"],
                "period": r["period"],
                "geography": "area",
                "quartile": r["quartile"],
                "basis": "quartile among authorities, 1 = best quarter",
            }
            for r in irows
            if r.get("quartile") is not None
        ]
        out.append(
            {
                "code": first["indicator"],
                "title": first["title"],
                "section": sections[first["block"]],
                "block": first["block"],
                "super_group": first["super_group"],
                "observations": obs,
                "judgements": judgements,
                "table": None,
                "chart": None,
                "notes": [],
            }
        )
    return out


def _coverage(con: duckdb.DuckDBPyConnection, area) -> str:
    """What the store holds for ``area``, for a refusal (see cspa.store.coverage)."""
    from cspa.store.coverage import area_coverage, coverage_sentence

    return coverage_sentence(area, area_coverage(con, area))


def _day(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _profile_period(rs: RuleSet, year: int) -> str:
    """What the profile is as at, in words: the rule set's ``period_text`` with the assessment's
    date and year put in (``{as_at}``, ``{year}``), saying so where the provider outcomes are a
    snapshot later than that date (:meth:`RuleSet.later_provider_snapshot`)."""
    p, as_at = rs.profile, rs.as_at(year)
    text = (p.period_text or p.period).format(as_at=_day(as_at), year=year)
    if rs.later_provider_snapshot(year):
        text += f". Provider outcomes are the only snapshot cspa holds, later than {_day(as_at)}"
    return text


def _profile_empty(rs: RuleSet, year: int, area: Area, rows: list[dict]) -> dict[str, str | None]:
    """Sentences for the profile's blocks that have nothing to show: an authority with no inspected
    provider in Ofsted's snapshot (one that had ceased by then has none), and a year before the
    education figures held begin."""
    p = rs.profile
    out: dict[str, str | None] = {"providers": None, "education": None}
    inspected = [
        r["value"]
        for r in rows
        if r["block"] == "provider_type"
        and r["geography"] == "area"
        and r["measure_id"] == "number_inspected"
    ]
    if not any(v for v in inspected if v is not None):
        out["providers"] = (
            f"Ofsted's provider outcomes ({p.period}) list no inspected provider in {area.name}"
            + (
                f", which ceased on {_day(area.exists_until)}."
                if area.exists_until and rs.later_provider_snapshot(year) is not None
                else "."
            )
        )
    if not any(r["block"] == "education" for r in rows):
        names = ", ".join(e.title or e.indicator for e in p.education)
        out["education"] = (
            f"cspa holds no figures of the overview's indicators ({names}) for years ending by "
            f"{_day(rs.as_at(year))}."
        )
    return out


def build_profile_document(
    con: duckdb.DuckDBPyConnection,
    area_query: str,
    year: int,
    ruleset: str | None = None,
    prepared: bool = False,
) -> dict:
    """The performance profile of one authority for one year (the rule set covering the year).

    ``prepared=True`` reuses the profile relations already built for every authority."""
    refuse_not_yet(year)
    area = load_areas().resolve(area_query)
    rs = ruleset_for_year(year, ruleset)
    if not prepared:
        build_profile(con, rs, year)
    p = rs.profile
    rows = _rows(
        con,
        f"SELECT * FROM {PROFILE} WHERE area = '{area.code}' "
        "ORDER BY block, row_order, col_order, period, geography",
    )
    if not rows:
        raise CspaError(
            f"{area.name} has no performance profile figures in {year} (rule set {rs.id}: "
            f"{p.title}), so there is no profile to make. " + _coverage(con, area)
        )
    inspections = _rows(
        con,
        f"SELECT * FROM {INSPECTIONS} WHERE area = '{area.code}' "
        f"AND (framework <> 'seed' OR year >= {rs.years[0]}) "
        "ORDER BY published NULLS LAST, row_order",
    )
    hist = _rows(con, f"SELECT * FROM {HISTORY} WHERE area = '{area.code}' ORDER BY year, period")
    comparators = any(r["geography"] != "area" for r in rows if r["block"] != "education")
    notes = []
    if p.notes_from and area.code == "821" and SEED_PROFILE.exists():
        seed = read_yaml(SEED_PROFILE)
        notes = [
            {"text": i["text"], "ref": f"003:L{i['seed_line']}"}
            for i in seed.get(p.notes_from, {}).get("items", [])
        ]
    refs = {r["seed_ref"] for r in rows if r["seed_ref"]} | {
        i["ref"] for i in inspections if i.get("ref")
    }
    return {
        "report": "profile",
        # what a block that shows nothing says instead of an empty table
        "empty": _profile_empty(rs, year, area, rows),
        "title": p.title,
        "area": _area_doc(area),
        "period": _profile_period(rs, year),
        "year": year,
        "framework": _framework_doc(rs),
        "version": f"cspa {__version__}",
        "produced": dt.date.today().isoformat(),
        "attribution": _attribution(rs, con, area, refs),
        "sections": [
            {"id": "provider-types", "title": p.provider_heading.text},
            {"id": "super-groups", "title": "Super-groups"},
            {"id": "inspections", "title": p.inspections_heading.text},
            {"id": "education", "title": p.education_heading.text},
            {"id": "history", "title": p.history_heading.text},
        ],
        "headings": {
            "provider": p.provider_heading.model_dump(),
            "inspections": p.inspections_heading.model_dump(),
            "education": p.education_heading.model_dump(),
            "history": p.history_heading.model_dump(),
            "title_ref": p.title_ref,
            "period_ref": p.period_ref,
        },
        "indicators": _indicators(rows, rs),
        "profile_tables": {
            "provider_types": _profile_table(
                rows, "provider_type", p.provider_caption.text, comparators
            ),
            "super_groups": _profile_table(
                rows, "super_group", p.super_group_caption.text, comparators
            ),
            "education": _education_table(
                rows,
                f"{p.education_heading.text}: {area.name} (LA), "
                f"{'statistical neighbours (SN), ' if comparators else ''}"
                "England (NAT)",
            ),
        },
        "inspections": [
            {
                "inspection": i["inspection"],
                "date": i["date_text"],
                "aspect": i["aspect"],
                "outcome": i["outcome"],
                "grade": i["grade"],
                "framework": i["framework"],
                "current": i["current"],
                "published": i["published_text"],
                "superseded_on": i["superseded_on"].strftime("%d/%m/%Y")
                if i["superseded_on"]
                else None,
                "adequate_or_better": i["adequate_or_better"],
                "conducted": i["conducted"],
                "ref": i["ref"],
            }
            for i in inspections
        ],
        "assessment_history": [
            {
                "period": h["period"],
                "judgement": h["judgement"],
                "grade": h["grade"],
                "label": h["label"],
                "ref": h["ref"],
            }
            for h in hist
        ],
        "grades": [
            {
                "judgement": f"{p.history_heading.text} {h['period']}",
                "grade": h["grade"],
                "label": h["label"],
                "basis": f"as published ({h['ref']})",
                "period": h["period"],
            }
            for h in hist
        ],
        "text": {"strengths": [], "areas_for_improvement": []},
        "notes": notes,
    }


# ------------------------------------------------------------------------------------ letter


def _seed_letter(area: Area, year: int) -> dict | None:
    path = SEED_LETTERS / f"{area.name.lower().replace(' ', '_')}_{year}.yaml"
    if not path.exists():
        return None
    d = read_yaml(path)
    return d if str(d.get("area")) == area.code else None


def _text(x) -> str | None:
    if x is None:
        return None
    if isinstance(x, dict):
        return x.get("text")
    return str(x)


def _letter_frame(rs: RuleSet, area: Area, year: int) -> dict:
    """Addressee block, date, salutation, introduction, closing: as the seed prints them for its authority and
    year, otherwise a neutral frame naming the authority."""
    seed = _seed_letter(area, year)
    if seed is not None:
        s = seed["seed"][:3]
        intro = seed.get("introduction")
        intro = intro if isinstance(intro, list) else [intro] if intro else []
        sender = seed.get("sender") or {}
        sender_lines = (
            [a["text"] for a in sender.get("address", [])]
            if isinstance(sender, dict) and "address" in sender
            else [_text(sender)]
            if sender
            else []
        )
        return {
            "sender": [x for x in sender_lines if x],
            "date": _text(seed.get("date")),
            "iso_date": (seed.get("date") or {}).get("iso_date"),
            "addressee": [a["text"] for a in seed["addressee"]["lines"]],
            "salutation": _text(seed.get("salutation")),
            "letter_title": _text(seed.get("title")),
            "introduction": [_text(i) for i in intro],
            "assessment_heading": _text(seed.get("assessment_heading")),
            "closing": [_text(seed.get(k)) for k in ("closing", "statutory_basis") if seed.get(k)],
            "valediction": _text(seed.get("valediction")),
            "signatories": [
                {"name": _text(x.get("name")), "role": _text(x.get("role"))}
                for x in seed.get("signatories", [])
            ],
            "frame_source": f"Letter frame as printed in seed {s} (addressee, date, introduction, signatories)",
        }
    return {
        "sender": [],
        "date": _day(dt.date.today()),
        "iso_date": dt.date.today().isoformat(),
        "addressee": ["The Director of Children's Services", f"{area.name} Council"],
        "salutation": "Dear Director of Children's Services",
        "letter_title": f"{rs.title}: {area.name}, {year}",
        "introduction": [
            f"This letter sets out the proposed assessment of children's services in {area.name} for "
            f"{year}, derived by cspa rule set {rs.id} (version {rs.version}) from the published data "
            "listed under each grade, and moderated by an inspector where shown."
        ]
        + (
            [
                f"Ofsted's outcomes for the social care providers in the area are held only as at "
                f"{_day(later)}, after this letter's date ({_day(rs.as_at(year))}), so it does not "
                "cite them."
            ]
            if (later := rs.later_provider_snapshot(year))
            else []
        ),
        "assessment_heading": f"{area.name} children's services assessment {year}",
        "closing": [],
        "valediction": "Yours sincerely",
        "signatories": [],
        "frame_source": "Neutral letter frame (no seed letter for this authority and year)",
    }


def _summary(rs: RuleSet, area: Area, grades: list[dict], ev: dict[str, dict]) -> list[str]:
    head = grades[0] if grades else None
    if head is None or head["grade"] is None:
        # the model says why it proposes nothing (too few inspections before the date, or no
        # judgement to start from); the rules, that their evidence is missing
        why = (head or {}).get("proposal_basis") or ""
        why = why.removeprefix("no proposal: ") if why.startswith("no proposal: ") else ""
        return [
            f"No grade can be proposed for {area.name}: "
            + (why or "the evidence the rules need is missing")
            + "."
        ]
    out = []
    g = next((x for x in rs.scale.grades if x.grade == head["grade"]), None)
    if rs.letter.kind == "annual_assessment":
        verb = head["label"].lower().replace("performs", "perform")
        out.append(f"Children's services in {area.name} {verb}.")
    elif rs.letter.kind == "apa":
        out.append(
            f"{area.name}: {g.descriptor[0].lower() + g.descriptor[1:] if g and g.descriptor else head['label']}."
        )
        cap = next((x for x in grades if x["judgement_id"] == "capacity_to_improve"), None)
        if cap and cap["grade"] is not None:
            word = next(
                (x.capacity_descriptor for x in rs.scale.grades if x.grade == cap["grade"]),
                cap["label"],
            )
            out.append(
                f"The council's overall capacity to improve its services for children and young people is "
                f"{word.lower()}."
            )
    else:
        out.append(f"Proposed overall effectiveness for {area.name}: {head['label'].lower()}.")
    go = ev.get("go_all")
    if go and go.get("value") is not None:
        out.append(
            f"{go['display']} of the services, settings and institutions inspected are good or outstanding."
        )
    return out


EVALUATION = "_cspa_evaluation"


def prepare_letters(
    con: duckdb.DuckDBPyConnection, year: int, ruleset: str | None = None
) -> RuleSet:
    """Propose every grade and draft every letter's text, for all authorities at once; where the rule set
    proposes with a model, also measure it (:func:`cspa.assessment.evaluate.evaluate`) for the letters."""
    rs = ruleset_for_year(year, ruleset)
    propose(con, rs, year)
    draft_items(con, rs, year)
    if rs.model is not None:
        import json

        from cspa.assessment.evaluate import evaluate

        res = evaluate(con, rs)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {EVALUATION} AS SELECT ? AS ruleset, ? AS result",
            [rs.id, json.dumps(res, default=str)],
        )
    return rs


def _evaluation(con: duckdb.DuckDBPyConnection, rs: RuleSet) -> dict | None:
    import json

    from cspa.assessment.profile import _table_exists

    if rs.model is None or not _table_exists(con, EVALUATION):
        return None
    got = con.execute(f"SELECT result FROM {EVALUATION} WHERE ruleset = ?", [rs.id]).fetchall()
    return json.loads(got[0][0]) if got else None


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f}%"


def _agreement_note(res: dict, rs: RuleSet, grade: int | None, baseline_grades: dict) -> dict:
    """The method's measured agreement for one judgement beside each baseline's, and this authority's
    baseline grades: what the letter prints next to a proposed grade."""
    from cspa.assessment.evaluate import tested_on

    t = res["test"]
    rows = [
        {
            "method": "This method (proposed grade)",
            "grade": grade,
            "label": rs.scale.label(grade),
            "exact": t["exact"],
            "within_one": t["within_one"],
            "weighted_kappa": t["weighted_kappa"],
        }
    ]
    for k, b in res["baselines"].items():
        g = baseline_grades.get(k)
        rows.append(
            {
                "method": b["label"][0].upper() + b["label"][1:],
                "grade": g,
                "label": rs.scale.label(g),
                "exact": b["exact"],
                "within_one": b["within_one"],
                "weighted_kappa": b["weighted_kappa"],
            }
        )
    misses = [k for k, v in res["beats"].items() if not v["exact"] or not v["within_one"]]
    head = (
        f"Measured on the {t['n']} {res.get('framework', 'ILACS')} inspections that {tested_on(res)} on or after "
        f"{res['split_date']} (trained on the "
        f"{res['train']['n']} published before), this method's grade matched Ofsted's in {_pct(t['exact'])} "
        f"of cases and was within one grade in {_pct(t['within_one'])}."
    )
    if misses:
        said = "; ".join(
            f"{res['baselines'][k]['label']} matched in {_pct(res['baselines'][k]['exact'])} "
            f"(within one {_pct(res['baselines'][k]['within_one'])})"
            + (
                f" and would propose {rs.scale.label(baseline_grades[k]).lower()} here"
                if baseline_grades.get(k) is not None
                else ""
            )
            for k in misses
        )
        verdict = f"It does not beat every baseline for this judgement: {said}."
    else:
        verdict = (
            "It beats every baseline (previous grade carried forward, always 'Good', the neighbours' "
            "majority grade) on exact agreement and agreement within one grade."
        )
    return {
        "sentence": f"{head} {verdict}",
        "beats_every_baseline": not misses,
        "rows": rows,
        "split_date": res["split_date"],
        "tested_on": tested_on(res, participle=True),
        "train_n": res["train"]["n"],
        "test_n": t["n"],
    }


def _printed_agreement(
    con: duckdb.DuckDBPyConnection, rs: RuleSet, area: Area, year: int, grades: list[dict]
) -> dict | None:
    """Where a seed letter prints this authority's grades for the year: how many the rules proposed before
    moderation, beside always proposing the scale's second grade ('good') and the grade a year before."""
    from cspa.assessment.profile import _table_exists

    if rs.model is not None or not _table_exists(con, "assessment_record"):
        return None
    ids = [g["judgement_id"] for g in grades]
    rows = con.execute(
        f"""SELECT r.judgement, r.grade, r.seed_ref, p.grade AS before
            FROM assessment_record r
            LEFT JOIN assessment_record p ON p.area = r.area AND p.judgement = r.judgement AND p.year = r.year - 1
                 AND p.grade IS NOT NULL
            WHERE r.area = ? AND r.year = ? AND r.grade IS NOT NULL AND r.judgement IN {in_list(ids)}
            QUALIFY row_number() OVER (PARTITION BY r.judgement ORDER BY r.seed_ref) = 1""",
        [area.code, year],
    ).fetchall()
    if not rows:
        return None
    proposed = {g["judgement_id"]: g["proposed_grade"] for g in grades}
    order = sorted((g.grade for g in rs.scale.grades), reverse=rs.scale.higher_is_better)
    good = order[1]
    n = len(rows)
    rules = sum(1 for j, g, _, _ in rows if proposed.get(j) == g)
    always = sum(1 for _, g, _, _ in rows if g == good)
    carried = [(g, b) for _, g, _, b in rows if b is not None]
    seeds = ", ".join(sorted({ref.split(":")[0] for _, _, ref, _ in rows}))
    text = (
        f"Before moderation, the rules proposed the printed grade for {rules} of the {n} judgement"
        f"{'s' if n != 1 else ''} seed {seeds} prints; always proposing '{rs.scale.label(good).lower()}' would "
        f"give {always} of {n}"
    )
    if carried:
        text += f", and last year's grade {sum(1 for g, b in carried if g == b)} of {len(carried)}"
    text += "."
    if always >= rules or (carried and sum(1 for g, b in carried if g == b) >= rules):
        text += (
            " The rules do not beat these baselines on this letter: read each proposed grade beside them; "
            "the grades printed here are the moderated ones."
        )
    return {
        "n": n,
        "rules": rules,
        "always_good": always,
        "good_grade": good,
        "carried": sum(1 for g, b in carried if g == b) if carried else None,
        "sentence": text,
    }


def _baseline_grades(con: duckdb.DuckDBPyConnection, area: str) -> dict[str, dict]:
    from cspa.assessment.forecast import MODEL_PROPOSAL
    from cspa.assessment.profile import _table_exists

    if not _table_exists(con, MODEL_PROPOSAL):
        return {}
    rows = con.execute(
        f"SELECT judgement, carry_forward, neighbour_majority FROM {MODEL_PROPOSAL} WHERE area = ?",
        [area],
    ).fetchall()
    return {
        j: {"carry_forward": cf, "always_good": 2, "neighbour_majority": nm} for j, cf, nm in rows
    }


LEAD_SENTENCES = 3  # the opening paragraph of a section: its most salient sentences
PARAGRAPH_SENTENCES = 5  # then the rest in the rule set's order, a few to a paragraph


def _paragraphs(sentences: list[dict]) -> list[list[dict]]:
    """A section's sentences laid out as the seeds write: a short opening paragraph with the most salient
    (inspection judgements first, as drafted), then the rest in order, a few sentences to a paragraph.
    Each sentence gets its number within the section (its evidence note), in reading order."""
    fixed = [x for x in sentences if x["kind"] != "figure"]
    figures = [x for x in sentences if x["kind"] == "figure"]
    lead_figures = sorted(figures, key=lambda x: -x["salience"])[
        : max(0, LEAD_SENTENCES - len(fixed))
    ]
    lead = fixed + [x for x in figures if x in lead_figures]
    rest = [x for x in figures if x not in lead_figures]
    out = [lead] if lead else []
    out += [rest[i : i + PARAGRAPH_SENTENCES] for i in range(0, len(rest), PARAGRAPH_SENTENCES)]
    for n, sen in enumerate((s for para in out for s in para), start=1):
        sen["n"] = n
    return out


def _sections(
    rs: RuleSet,
    con: duckdb.DuckDBPyConnection,
    area: Area,
    by_id: dict,
    text: dict,
    evaluation: dict | None,
) -> list[dict]:
    """Each section of the letter: heading, grade, the grade sentence, the paragraph (every sentence with its
    evidence), the reason the model gives, the measured agreement, and the section's strengths and areas for
    improvement (after moderation)."""
    paragraphs = sentences_for(con, area.code)
    baselines = _baseline_grades(con, area.code)
    out = []
    for sec in rs.letter.sections:
        g = by_id.get(sec.judgement) if sec.judgement else None
        sentence = None
        if g is not None:
            word = next(
                (x.capacity_descriptor for x in rs.scale.grades if x.grade == g["grade"]), None
            )
            if rs.letter.outcome_sentence:
                sentence = rs.letter.outcome_sentence.format(
                    word=(word or g["label"] or "not graded").lower(),
                    label=(g["label"] or "no proposal").lower(),
                )
        reason = None
        if g is not None and g["status"] == "proposed":
            first = next((r for r in g["rules"] if r.get("kind") == "model"), None)
            if first is not None and first.get("id") in ("no_proposal", "current_stands"):
                reason = first["text"]  # why the model proposes nothing, or is not asked
            elif first is not None:
                reason = f"What moved the proposed grade most: {first['text']}"
        agreement = None
        if evaluation and sec.judgement in (evaluation.get("judgements") or {}):
            agreement = _agreement_note(
                evaluation["judgements"][sec.judgement],
                rs,
                g["grade"] if g else None,
                baselines.get(sec.judgement, {}),
            )
            stood = g is not None and any(r.get("id") == "current_stands" for r in g["rules"] or [])
            if stood:
                # the grade is the framework's own in force, not the model's: the measurement is
                # the model's, printed for what the model would be trusted with elsewhere
                agreement["sentence"] = (
                    "This grade is Ofsted's own in force, not the model's; for reference, the model "
                    "proposes the other authorities' grades, measured as follows. "
                    + agreement["sentence"]
                )
        sentences = theme_sentences(sec, paragraphs.get(sec.id, []))
        for s in sentences:
            s.pop("parts", None)  # what the theme's sentence was made of; the text says it
        out.append(
            {
                "id": sec.id,
                "heading": sec.heading,
                "judgement_id": sec.judgement,
                "paragraphs": _paragraphs(sentences),
                # said where the section has nothing to report
                "empty": (
                    "No inspection published by the assessment date had judged "
                    + " or ".join(AREA_LABELS.get(a, a.replace("_", " ")) for a in sec.areas)
                    + "."
                    if sec.areas
                    else "The data hold no figure for this area as at the assessment date."
                ),
                "grade": g["grade"] if g else None,
                "label": g["label"] if g else None,
                "status": g["status"] if g else None,
                "sentence": sentence,
                "reason": reason,
                "paragraph": sentences,
                "agreement": agreement,
                "strengths": [i for i in text["strengths"] if i.get("outcome") == sec.id],
                "areas_for_improvement": [
                    i for i in text["areas_for_improvement"] if i.get("outcome") == sec.id
                ],
                "unsupported": [u.model_dump() for u in sec.unsupported],
            }
        )
    return out


def _lower_first(text: str) -> str:
    """'The rate of ...' after a colon reads 'the rate of ...'; an initialism ('KS2 ...') keeps its capitals."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _focus(rs: RuleSet, outcomes: list[dict]) -> dict | None:
    """The letter's closing aspects for focus (``letter.focus``, 002:L190-198): the most salient areas for
    improvement (after moderation) over all sections, one per section first, then the next most salient.
    Each keeps its place in its section's list, so it links to the same evidence."""
    spec = rs.letter.focus
    if spec is None:
        return None
    names = {s.id: s.short_heading or s.heading for s in rs.letter.sections}
    cands = [
        {
            **item,
            "section_heading": names.get(o["id"], o["heading"]),
            "section_index": oi,
            "item_index": n,
        }
        for oi, o in enumerate(outcomes, start=1)
        for n, item in enumerate(o["areas_for_improvement"], start=1)
    ]
    cands.sort(key=lambda c: (-(c.get("salience") or 0), c["section_index"], c["item_index"]))
    chosen: list[dict] = []
    for c in cands:  # one per section, most salient first
        if len(chosen) < spec.max_items and all(
            x["section_index"] != c["section_index"] for x in chosen
        ):
            chosen.append(c)
    for c in cands:  # then fill with the next most salient
        if len(chosen) < spec.max_items and c not in chosen:
            chosen.append(c)
    chosen.sort(key=lambda c: -(c.get("salience") or 0))
    return {
        "heading": spec.heading,
        "seed_ref": spec.seed_ref,
        "items": [
            {
                "key": c["key"],
                "text": f"{c['section_heading']}: {_lower_first(c['text'])}",
                "outcome": c.get("outcome"),
                "salience": c.get("salience"),
                "section_index": c["section_index"],
                "item_index": c["item_index"],
                "evidence": c.get("evidence") or [],
            }
            for c in chosen
        ],
    }


def build_letter_document(
    con: duckdb.DuckDBPyConnection,
    area_query: str,
    year: int,
    ruleset: str | None = None,
    prepared: bool = False,
) -> dict:
    """The assessment letter of one authority for one year: proposal, moderation, drafted text.

    ``prepared=True`` reuses what :func:`prepare_letters` computed (for every authority in one go)."""
    from cspa.assessment.profile import population

    refuse_not_yet(year)
    area = load_areas().resolve(area_query)
    rs = ruleset_for_year(year, ruleset)
    # an authority the rule set does not assess is refused before every authority's letter is
    # proposed and drafted (seconds of work that could only confirm it has none)
    assessed = con.execute(
        f"SELECT count(*) FROM {population(con, rs, year)} p WHERE p.area = ?", [area.code]
    ).fetchall()[0][0]
    if not prepared and assessed:
        prepare_letters(con, year, ruleset)
    props = proposal_rows(con, area.code) if assessed else []
    if not props:
        era = rs.population.get("era") if isinstance(rs.population, dict) else None
        raise CspaError(
            f"{area.name} is not among the authorities rule set {rs.id} assesses"
            + (f" (the authorities of {era})" if era else "")
            + ", so there is no letter to write. "
            + _coverage(con, area)
        )
    mods = moderations(con, rs.id, area.code, year)
    grades = final_grades(rs, props, mods)
    if all(g["grade"] is None for g in grades) and not any(g["evidence_ids"] for g in grades):
        # nothing the rules need is there for this authority and year: no letter to write
        raise CspaError(
            f"{area.name} has none of the evidence rule set {rs.id} grades from in {year}, so "
            "there is no letter to write. " + _coverage(con, area)
        )
    drafted = items_for(con, area.code)
    order = {s.id: i for i, s in enumerate(rs.letter.sections)}
    for items in drafted.values():
        items.sort(key=lambda i: order.get(i.get("outcome"), len(order)))
    text = apply_text(
        {
            "strengths": drafted.get("strengths", []),
            "areas_for_improvement": drafted.get("areas_for_improvement", []),
        },
        mods,
    )
    ev_rows = evidence_rows(con, area.code)
    ev = {e["evidence_id"]: e for e in ev_rows}
    used = sorted({i for g in grades for i in g["evidence_ids"]})
    evidence = [
        {
            "id": e["evidence_id"],
            "label": e["label"],
            "value": e["value"],
            "display": e["display"],
            "comparator": e["comparator"],
            "comparator_display": e["comparator_display"],
            "judgement": e["vs"],
            "ref": e["ref"],
            "details": [d for d in (e["details"] or []) if d is not None][:40],
        }
        for e in ev_rows
        if e["evidence_id"] in used
    ]
    by_id = {g["judgement_id"]: g for g in grades}
    summary_ids = rs.letter.summary_judgements or [g["judgement_id"] for g in grades[:1]]
    grade_table = [by_id[j] for j in summary_ids if j in by_id]
    evaluation = _evaluation(con, rs)
    outcomes = _sections(rs, con, area, by_id, text, evaluation)
    focus = _focus(rs, outcomes)
    frame = _letter_frame(rs, area, year)
    refs = {e["ref"] or "" for e in evidence} | {
        d.get("ref") or "" for e in evidence for d in e["details"]
    }
    for sec in text.values():
        for item in sec:
            refs |= {d.get("ref") or "" for d in item.get("evidence") or []}
    for o in outcomes:
        for sentence in o["paragraph"]:
            refs |= {d.get("ref") or "" for d in sentence["evidence"]}
    attribution = _attribution(rs, con, area, {r for x in refs for r in x.split("; ")})
    scale = {
        "intro": rs.scale.intro.text
        if rs.scale.intro
        else "The assessment uses a four point scale:",
        "grades": [g.model_dump() for g in rs.scale.grades],
        "capacity_column": any(g.capacity_descriptor for g in rs.scale.grades),
    }
    hist = history(con, rs.id, area.code, year)
    return {
        "report": "letter",
        "title": rs.title,
        "area": _area_doc(area),
        "period": str(year),
        "year": year,
        "framework": _framework_doc(rs),
        "version": f"cspa {__version__}",
        "produced": dt.date.today().isoformat(),
        "attribution": attribution,
        "letter_kind": rs.letter.kind,
        **frame,
        "scale": scale,
        "grades": [
            {
                k: g[k]
                for k in (
                    "judgement",
                    "grade",
                    "label",
                    "basis",
                    "status",
                    "proposed_grade",
                    "proposed_label",
                    "judgement_id",
                )
            }
            | {
                "rules": [dict(r) for r in g["rules"]],
                "evidence_ids": list(g["evidence_ids"]),
                "moderation": g["moderation"],
                "proposal_basis": g["proposal_basis"],
            }
            for g in grades
        ],
        "grade_table": [
            {
                "judgement": g["judgement"],
                "grade": g["grade"],
                "label": g["label"],
                "status": g["status"],
            }
            for g in grade_table
        ],
        "summary": _summary(rs, area, grade_table or grades, ev),
        "outcomes": outcomes,
        "strengths": text["strengths"],
        "areas_for_improvement": text["areas_for_improvement"],
        "text": {
            "strengths": [i["text"] for i in text["strengths"]],
            "areas_for_improvement": [i["text"] for i in text["areas_for_improvement"]],
        },
        "evidence": evidence,
        "method_agreement": None
        if evaluation is None
        else {
            "summary": evaluation["summary"],
            "split_date": evaluation["split_date"],
            "train_n": evaluation["train"]["n"],
            "test_n": evaluation["test"]["n"],
            "beats_every_baseline": evaluation["beats_every_baseline"],
            "method": evaluation["method"],
        },
        "salience": SALIENCE_NOTE,
        "focus": focus,
        "printed_agreement": _printed_agreement(con, rs, area, year, grades),
        "moderation_history": [{**h, "at": str(h["at"])[:19]} for h in hist],
        "draft": any(g["status"] == "proposed" for g in grades),
        "template": rs.letter.template,
    }


def prepare_all_areas(
    con: duckdb.DuckDBPyConnection, kind: str, year: int, ruleset: str | None = None
) -> list[str]:
    """Compute, once, what every authority's profile or letter for ``year`` reads; return the
    codes of the authorities the rule set assesses (build each with ``prepared=True``)."""
    from cspa.assessment.profile import population

    rs = ruleset_for_year(year, ruleset)
    if kind == "profile":
        build_profile(con, rs, year)
    else:
        prepare_letters(con, year, ruleset)
    return [
        r[0]
        for r in con.execute(
            f"SELECT area FROM {population(con, rs, year)} ORDER BY area"
        ).fetchall()
    ]


__all__ = [
    "EVIDENCE",
    "build_letter_document",
    "build_profile_document",
    "prepare_all_areas",
    "prepare_letters",
]
