"""A small interpreter of rule sets: conditions become SQL, one query proposes every grade for every area.

For each judgement of a rule set (in file order, so a later judgement may use an earlier one's
grade):

1. **thresholds**, top to bottom: the first whose condition holds gives the proposed grade
   (none holds, e.g. no evidence at all: no proposal);
2. **adjustments**: each that holds moves the grade one step ``better`` or ``worse`` (within the scale);
3. **limits**: "a grade cannot be better than ``cap`` if ...": ``cap`` is a grade of the scale or
   ``{judgement: id, offset: n}`` (an earlier proposed grade, n steps better);
4. **floors**: "a grade cannot be worse than ``floor`` if ...".

"Better" follows the scale's direction (``higher_is_better``: 4 = performs excellently in 2011;
1 = outstanding in Ofsted's ILACS numbering). Conditions (YAML):

* ``{evidence: id, op: ">=", value: 80}`` (``op`` one of ``== != > >= < <=``);
* ``{evidence: id, compare: better | worse | similar}`` (against its comparator, see evidence.py);
* ``{evidence: id, quartile: [1]}``; ``{evidence: id, available: true | false}``;
* ``{all: [...]}``, ``{any: [...]}``, ``{not: {...}}``, ``{at_least: n, of: [...]}``; ``true``.

A condition over missing evidence is false (SQL NULL is never a reason to fire a rule).
:func:`propose` returns the temporary table ``_cspa_proposal``: ``area, judgement, label (of the
judgement), grade, grade_label, rules`` (every rule that decided or applied: id, kind, text, source,
applied), ``evidence_ids`` (what those rules read) and ``basis`` (one line).
"""

from __future__ import annotations

from typing import Any

import duckdb

from cspa.assessment.evidence import EVIDENCE, build_evidence
from cspa.assessment.profile import _q, population
from cspa.assessment.ruleset import Judgement, Rule, RuleSet, RuleSetError, evidence_ids

PROPOSAL = "_cspa_proposal"
# one entry of a proposal's ``rules`` (typed, so a judgement that no rule decides still has the column's type)
RULE_TYPE = (
    "STRUCT(id VARCHAR, kind VARCHAR, text VARCHAR, source VARCHAR, applied BOOLEAN, grade INTEGER, "
    "evidence VARCHAR[])[]"
)
PIVOT = "_cspa_pivot"
_OPS = {"==": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def _col(prefix: str, eid: str) -> str:
    return '"' + f"{prefix}_{eid}".replace('"', "") + '"'


class _Compiler:
    def __init__(self, rs: RuleSet):
        self.rs = rs
        self.ev = rs.evidence_by_id()

    def value(self, eid: str) -> str:
        e = self.ev[eid]
        if e.kind != "judgement":
            return _col("v", eid)
        cols = ", ".join(_col("g", j) for j in e.judgements)
        lst = f"list_filter([{cols}], lambda x: x IS NOT NULL)"
        if e.stat == "mean":
            return f"list_avg({lst})"
        worst_is_max = not self.rs.scale.higher_is_better
        pick = {
            "worst": "list_max" if worst_is_max else "list_min",
            "best": "list_min" if worst_is_max else "list_max",
        }
        return f"{pick[e.stat]}({lst})"

    def cond(self, c: Any, where: str) -> str:
        if c is True:
            return "TRUE"
        if not isinstance(c, dict):
            raise RuleSetError(
                f"{self.rs.id}: {where}: a condition is a mapping or true, got {c!r}"
            )
        if "all" in c:
            return "(" + " AND ".join(self.cond(x, where) for x in c["all"]) + ")"
        if "any" in c:
            return "(" + " OR ".join(self.cond(x, where) for x in c["any"]) + ")"
        if "not" in c:
            return f"(NOT coalesce({self.cond(c['not'], where)}, FALSE))"
        if "at_least" in c:
            parts = " + ".join(
                f"CASE WHEN {self.cond(x, where)} THEN 1 ELSE 0 END" for x in c.get("of") or []
            )
            return f"(({parts or '0'}) >= {int(c['at_least'])})"
        if "evidence" in c:
            eid = c["evidence"]
            v = self.value(eid)
            if "op" in c:
                if c["op"] not in _OPS:
                    raise RuleSetError(
                        f"{self.rs.id}: {where}: op must be one of {', '.join(_OPS)}, got {c['op']!r}"
                    )
                return f"({v} {_OPS[c['op']]} {float(c['value'])})"
            if "compare" in c:
                return f"({_col('vs', eid)} = {_q(c['compare'])})"
            if "quartile" in c:
                qs = c["quartile"] if isinstance(c["quartile"], list) else [c["quartile"]]
                return f"({_col('q', eid)} IN ({', '.join(str(int(q)) for q in qs)}))"
            if "available" in c:
                return f"({v} IS {'NOT ' if c['available'] else ''}NULL)"
        raise RuleSetError(f"{self.rs.id}: {where}: cannot read the condition {c!r}")


def _bound(rs: RuleSet, b: int | dict, comp: _Compiler) -> str:
    if isinstance(b, int):
        return str(b)
    step = 1 if rs.scale.higher_is_better else -1
    g = _col("g", b["judgement"])
    off = int(b.get("offset", 0)) * step
    lo, hi = min(rs.scale.best, rs.scale.worst), max(rs.scale.best, rs.scale.worst)
    # DuckDB's least/greatest skip NULLs: a missing grade must stay missing
    return f"CASE WHEN {g} IS NOT NULL THEN greatest({lo}, least({hi}, {g} + ({off}))) END"


def _judgement_sql(rs: RuleSet, j: Judgement, k: int, comp: _Compiler) -> tuple[list[str], str]:
    """Columns (``name AS expr``) computing judgement ``j`` over the previous stage."""
    hib = rs.scale.higher_is_better
    lo, hi = min(rs.scale.best, rs.scale.worst), max(rs.scale.best, rs.scale.worst)
    cols = []
    t_flags = []
    for i, r in enumerate(j.thresholds):
        f = f'"t{k}_{i}"'
        cols.append(f"coalesce({comp.cond(r.when, f'{j.id}.{r.id}')}, FALSE) AS {f}")
        t_flags.append(f)
    base = (
        "CASE "
        + " ".join(f"WHEN {f} THEN {r.grade}" for f, r in zip(t_flags, j.thresholds, strict=True))
        + " END"
        if j.thresholds
        else "CAST(NULL AS INTEGER)"
    )  # a judgement the model proposes (forecast.py)
    shifts = []
    for i, r in enumerate(j.adjustments):
        f = f'"a{k}_{i}"'
        cols.append(f"coalesce({comp.cond(r.when, f'{j.id}.{r.id}')}, FALSE) AS {f}")
        step = (1 if r.shift == "better" else -1) * (1 if hib else -1)
        shifts.append(f"CASE WHEN {f} THEN {step} ELSE 0 END")
    adjusted = (
        f"CASE WHEN ({base}) IS NOT NULL "
        f"THEN greatest({lo}, least({hi}, ({base}) + {' + '.join(shifts) or '0'})) END"
    )
    cols.append(f'{adjusted} AS "pre{k}"')
    for i, r in enumerate(j.limits):
        cols.append(f'coalesce({comp.cond(r.when, f"{j.id}.{r.id}")}, FALSE) AS "l{k}_{i}"')
    for i, r in enumerate(j.floors):
        cols.append(f'coalesce({comp.cond(r.when, f"{j.id}.{r.id}")}, FALSE) AS "f{k}_{i}"')
    return cols, base


def _final_sql(rs: RuleSet, j: Judgement, k: int, comp: _Compiler) -> str:
    hib = rs.scale.higher_is_better
    capped = f'"pre{k}"'
    for i, r in enumerate(j.limits):
        b = _bound(rs, r.cap, comp)
        capped = (
            f'CASE WHEN "l{k}_{i}" AND {b} IS NOT NULL THEN {"least" if hib else "greatest"}({capped}, {b}) '
            f"ELSE {capped} END"
        )
    for i, r in enumerate(j.floors):
        b = _bound(rs, r.floor, comp)
        capped = (
            f'CASE WHEN "f{k}_{i}" AND {b} IS NOT NULL THEN {"greatest" if hib else "least"}({capped}, {b}) '
            f"ELSE {capped} END"
        )
    return f'CASE WHEN "pre{k}" IS NOT NULL THEN {capped} END'


def _struct(r: Rule, kind: str, applied: str, grade: str) -> str:
    return (
        f"STRUCT_PACK(id := {_q(r.id)}, kind := {_q(kind)}, text := {_q(r.text)}, source := {_q(r.source)}, "
        f"applied := {applied}, grade := CAST({grade} AS INTEGER), evidence := "
        f"[{', '.join(_q(e) for e in evidence_ids(r.when)) or 'NULL'}]::VARCHAR[])"
    )


def propose(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> str:
    """Propose every judgement of ``rs`` for every authority of its population; returns ``_cspa_proposal``."""
    if not rs.years[0] <= year <= rs.years[1]:
        raise RuleSetError(f"the rule set {rs.id} covers {rs.years[0]}-{rs.years[1]}, not {year}")
    build_evidence(con, rs, year)
    comp = _Compiler(rs)
    pivot_cols = []
    for e in rs.evidence:
        if e.kind == "judgement":
            continue
        f = f"evidence_id = {_q(e.id)}"
        pivot_cols += [
            f"max(ev.value) FILTER (WHERE {f}) AS {_col('v', e.id)}",
            f"max(ev.vs) FILTER (WHERE {f}) AS {_col('vs', e.id)}",
            f"max(ev.quartile) FILTER (WHERE {f}) AS {_col('q', e.id)}",
        ]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {PIVOT} AS
        SELECT p.area{", " if pivot_cols else ""}{", ".join(pivot_cols)}
        FROM {population(con, rs, year)} p LEFT JOIN {EVIDENCE} ev ON ev.area = p.area GROUP BY p.area""")
    stages = [f"s0 AS (SELECT * FROM {PIVOT})"]
    for k, j in enumerate(rs.judgements, start=1):
        cols, _base = _judgement_sql(rs, j, k, comp)
        stages.append(f"s{k}x AS (SELECT *, {', '.join(cols)} FROM s{k - 1})")
        stages.append(
            f"s{k} AS (SELECT *, {_final_sql(rs, j, k, comp)} AS {_col('g', j.id)} FROM s{k}x)"
        )
    hib = rs.scale.higher_is_better
    outs = []
    labels = (
        "CASE "
        + " ".join(f"WHEN g = {g.grade} THEN {_q(g.label)}" for g in rs.scale.grades)
        + " END"
    )
    for k, j in enumerate(rs.judgements, start=1):
        g = _col("g", j.id)
        items = []
        for i, r in enumerate(j.thresholds):
            earlier = " AND ".join(f'NOT "t{k}_{x}"' for x in range(i)) or "TRUE"
            items.append(
                f'CASE WHEN "t{k}_{i}" AND {earlier} THEN {_struct(r, "threshold", "TRUE", str(r.grade))} END'
            )
        for i, r in enumerate(j.adjustments):
            items.append(
                f'CASE WHEN "a{k}_{i}" THEN {_struct(r, "adjustment", "TRUE", "NULL")} END'
            )
        for i, r in enumerate(j.limits):
            b = _bound(rs, r.cap, comp)
            worse = f'({b} {"<" if hib else ">"} "pre{k}")'
            items.append(
                f'CASE WHEN "l{k}_{i}" THEN {_struct(r, "limit", f"coalesce({worse}, FALSE)", b)} END'
            )
        for i, r in enumerate(j.floors):
            b = _bound(rs, r.floor, comp)
            better = f'({b} {">" if hib else "<"} "pre{k}")'
            items.append(
                f'CASE WHEN "f{k}_{i}" THEN {_struct(r, "floor", f"coalesce({better}, FALSE)", b)} END'
            )
        rules = f"CAST(list_filter([{', '.join(items)}], lambda x: x IS NOT NULL) AS {RULE_TYPE})"
        outs.append(f"""SELECT area, {_q(j.id)} AS judgement, {_q(j.label)} AS judgement_label, {k} AS judgement_order,
                               {g} AS grade, {rules} AS rules FROM s{len(rs.judgements)}""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {PROPOSAL} AS
        WITH {", ".join(stages)}, o AS ({" UNION ALL ".join(outs)})
        SELECT area, judgement, judgement_label, judgement_order, grade,
               (SELECT {labels} FROM (SELECT o.grade AS g)) AS grade_label, rules,
               list_sort(list_distinct(flatten(list_transform(rules, lambda r: r.evidence)))) AS evidence_ids,
               CASE WHEN grade IS NULL THEN 'no proposal: the evidence the rules need is missing'
                    ELSE array_to_string(list_transform(list_filter(rules, lambda r: r.applied),
                                                        lambda r: r.id || ': ' || r.text), '; ') END AS basis
        FROM o""")
    if rs.model is not None:
        _apply_model(con, rs, year)
    return PROPOSAL


def _apply_model(con: duckdb.DuckDBPyConnection, rs: RuleSet, year: int) -> None:
    """The judgements the rule set's model proposes take the model's grade, reasons and evidence."""
    from cspa.assessment.forecast import MODEL_PROPOSAL, model_proposals

    model_proposals(con, rs, rs.as_at(year), population(con, rs, year), evidence_table=EVIDENCE)
    labels = (
        "CASE "
        + " ".join(f"WHEN m.grade = {g.grade} THEN {_q(g.label)}" for g in rs.scale.grades)
        + " END"
    )
    con.execute(f"""UPDATE {PROPOSAL} p SET grade = m.grade, grade_label = {labels}, rules = m.rules,
                        evidence_ids = m.evidence_ids, basis = m.basis
                    FROM {MODEL_PROPOSAL} m WHERE m.area = p.area AND m.judgement = p.judgement""")


def proposal_rows(con: duckdb.DuckDBPyConnection, area: str) -> list[dict]:
    """The proposal of one area as dicts (after :func:`propose`), judgements in rule-set order."""
    rel = con.sql(
        f"SELECT * FROM {PROPOSAL} WHERE area = ? ORDER BY judgement_order".replace("?", _q(area))
    )
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def evidence_rows(
    con: duckdb.DuckDBPyConnection, area: str, ids: list[str] | None = None
) -> list[dict]:
    """The evidence items of one area (all, or those named), as dicts."""
    where = f"area = {_q(area)}"
    if ids is not None:
        where += f" AND evidence_id IN ({', '.join(_q(i) for i in ids) or 'NULL'})"
    rel = con.sql(f"SELECT * FROM {EVIDENCE} WHERE {where}")
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
