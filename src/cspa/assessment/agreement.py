"""How often the proposed grade agrees with each current authority's latest ILACS overall effectiveness.

:func:`ilacs_agreement` proposes every judgement of the ``ilacs_2025`` rule set for all 153
current authorities in one query and compares its overall effectiveness with the latest ILACS
grade (Ofsted, inspections at 31 March 2025). Two reference points make the figure readable:

* **persistence**: the authority's previous overall effectiveness grade carried forward (what the
  rules start from, without the data adjustments);
* **weakest latest sub-judgement** (the worst of the same inspection's four sub-judgements): not a
  prediction, since it is the same inspectors' findings; it shows how far the overall grade
  simply follows the sub-judgements, which is why the rule set does not read them.

Cohen's kappa (unweighted, and linearly weighted for the ordered scale) corrects for the
agreement expected by chance from the two distributions.
"""

from __future__ import annotations

import duckdb

from cspa.assessment.rules import PROPOSAL, propose
from cspa.assessment.ruleset import ruleset_for_year

GRADES = [1, 2, 3, 4]


def _matrix(pairs: list[tuple[int | None, int]]) -> list[list[int]]:
    """Rows: proposed grade 1-4 then none; columns: ILACS grade 1-4 (counts)."""
    m = [[0] * 4 for _ in range(5)]
    for p, a in pairs:
        m[(p - 1) if p in GRADES else 4][a - 1] += 1
    return m


def _stats(m: list[list[int]]) -> dict:
    graded = m[:4]
    n = sum(map(sum, graded))
    if n == 0:
        return {"n": 0}
    agree = sum(graded[i][i] for i in range(4))
    within1 = sum(graded[i][j] for i in range(4) for j in range(4) if abs(i - j) <= 1)
    rows = [sum(r) for r in graded]
    cols = [sum(graded[i][j] for i in range(4)) for j in range(4)]
    pe = sum(rows[i] * cols[i] for i in range(4)) / n / n
    po = agree / n
    w = [[1 - abs(i - j) / 3 for j in range(4)] for i in range(4)]
    pow_ = sum(w[i][j] * graded[i][j] for i in range(4) for j in range(4)) / n
    pew = sum(w[i][j] * rows[i] * cols[j] for i in range(4) for j in range(4)) / n / n
    return {
        "n": n,
        "no_grade": sum(m[4]),
        "agree": agree,
        "rate": po,
        "within_one": within1 / n,
        "kappa": (po - pe) / (1 - pe) if pe < 1 else None,
        "weighted_kappa": (pow_ - pew) / (1 - pew) if pew < 1 else None,
    }


def ilacs_agreement(con: duckdb.DuckDBPyConnection, year: int = 2025) -> dict:
    rs = ruleset_for_year(year, "ilacs_2025")
    propose(con, rs, year)
    rows = con.execute(f"""
        SELECT l.la_code, l.overall_grade, p.grade,
               (SELECT max(value) FROM _cspa_evidence e WHERE e.area = l.la_code AND e.evidence_id = 'prior_overall'),
               greatest(l.leaders_grade, l.help_and_protection_grade, l.children_in_care_grade,
                        coalesce(l.care_leavers_grade, l.children_in_care_grade))
        FROM inspection_ilacs l
        LEFT JOIN {PROPOSAL} p ON p.area = l.la_code AND p.judgement = 'overall_effectiveness'
        WHERE l.dataset <> 'history' AND l.overall_grade IS NOT NULL
        ORDER BY l.la_code""").fetchall()
    pairs = {
        "rules": [(r[2], r[1]) for r in rows],
        "persistence": [(int(r[3]) if r[3] is not None else None, r[1]) for r in rows],
        "weakest_latest_subjudgement": [(r[4], r[1]) for r in rows],
        "always_good": [(2, r[1]) for r in rows],
    }
    matrices = {k: _matrix(v) for k, v in pairs.items()}
    stats = {k: _stats(m) for k, m in matrices.items()}
    s = stats["rules"]
    summary = (
        f"{len(rows)} authorities with a latest ILACS grade; the rules propose a grade for {s['n']} "
        f"({s['no_grade']} have no earlier inspection to start from). Exact agreement {s['agree']}/{s['n']} = "
        f"{100 * s['rate']:.1f}% (within one grade {100 * s['within_one']:.1f}%; kappa {s['kappa']:.2f}, "
        f"weighted {s['weighted_kappa']:.2f}). Persistence alone: {100 * stats['persistence']['rate']:.1f}%; "
        f"always 'Good': {100 * stats['always_good']['rate']:.1f}%; weakest latest sub-judgement (same "
        f"inspection, not a prediction): {100 * stats['weakest_latest_subjudgement']['rate']:.1f}%."
    )
    return {
        "ruleset": rs.id,
        "version": rs.version,
        "labels": [f"{g} {rs.scale.label(g)}" for g in GRADES],
        "matrices": matrices,
        "stats": stats,
        "summary": summary,
        "authorities": [
            {"area": r[0], "ilacs": r[1], "proposed": r[2], "previous": r[3]} for r in rows
        ],
    }
