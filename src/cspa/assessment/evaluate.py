"""How well the proposals agree with Ofsted's grades, measured out of sample beside honest baselines.

:func:`evaluate` splits Ofsted's ILACS (or, for a SIF rule set, SIF) inspections by date. The method (the rule set's model,
:mod:`cspa.assessment.forecast`) is built only on inspections *published* before the split date:
its features are fixed in the rule set, and the settings it tunes (the previous grade's form and the
penalty, ``model.tuning``) are chosen from those training inspections alone by
:func:`cspa.assessment.forecast.select_settings`, exactly as a proposal chooses them from what was
published before its assessment date. It is then asked for the grade of every inspection that *began* on or after the
split, from what was published before that inspection began (a SIF inspection, whose start
Ofsted's history does not hold, by its publication date). Each test inspection needs an
earlier judgement of its area (the method and the first baseline start from it); inspections
without one are counted and left out of every figure alike.

Figures, each over the same test inspections:

* **exact**: share whose proposed grade equals Ofsted's; **within_one**: share within one grade;
* **weighted_kappa**: Cohen's kappa with linear weights ``1 - |i - j| / 3`` (agreement beyond what
  the two grade distributions give by chance; Cohen 1968);
* **brier** (the method only, it gives probabilities): mean over inspections of the sum over the four
  grades of ``(p - o)^2`` (Brier 1950); 0 is perfect, always giving each grade 25% scores 0.75, and
  ``brier_training_shares`` is the score of giving every inspection the training set's grade shares.

Baselines: **carry_forward** (the area's latest judgement before the inspection, ILACS or SIF),
**always_good** (grade 2), **neighbour_majority** (the most common latest grade for the area among
the authority's statistical neighbours before the inspection; ties go to the grade nearest the
neighbours' mean, then to the better grade).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np

from cspa.assessment.agreement import agreement, brier, confusion_matrix
from cspa.assessment.forecast import (
    GRADES,
    Settings,
    apply_standing,
    build_features,
    feature_names,
    feature_rows,
    inspections_sql,
    neighbour_majority,
    predict,
    select_settings,
    train,
)
from cspa.assessment.ruleset import RuleSet, load_rulesets, ruleset_for_year
from cspa.errors import CspaError

HEADLINE = "overall_effectiveness"
BASELINES = {
    "carry_forward": "previous grade carried forward",
    "always_good": "always 'Good'",
    "neighbour_majority": "majority grade among statistical neighbours",
}
METRICS = ("exact", "within_one", "weighted_kappa")


def _judgement(
    con: duckdb.DuckDBPyConnection, rs: RuleSet, jid: str, split: dt.date, settings: Settings
) -> dict:
    model = rs.model
    target = model.judgements[jid].target  # a column of inspections_sql()
    ins = {
        r[0]: r[1:]
        for r in con.execute(
            f"SELECT key, {target}, published, as_at FROM {inspections_sql(model.framework)} WHERE {target} IS NOT NULL"
        ).fetchall()
    }
    names = feature_names(model, jid, settings)
    rows = feature_rows(
        con,
        model,
        jid,
        f"key IN (SELECT key FROM {inspections_sql(model.framework)} WHERE {target} IS NOT NULL)",
        settings,
    )
    idx_train = [i for i, k in enumerate(rows.keys) if ins[k][1] < split]
    idx_test = [i for i, k in enumerate(rows.keys) if ins[k][2] >= split]
    y = np.array([ins[k][0] for k in rows.keys], dtype=int)
    n_all_test = sum(1 for v in ins.values() if v[2] >= split)
    n_limbo = sum(1 for v in ins.values() if v[2] < split <= v[1])
    if len(idx_train) < 20 or not idx_test:
        raise CspaError(
            f"the split at {split} leaves {len(idx_train)} training and {len(idx_test)} test inspections "
            f"for {jid}; choose a date with inspections on both sides ({model.framework} inspections were "
            f"published from {min(v[1] for v in ins.values())} to {max(v[1] for v in ins.values())})"
        )
    m = train(rows.x[idx_train], y[idx_train], names, settings.penalty)
    pred, probs, _ = predict(m, rows.x[idx_test])
    recs = [rows.records[i] for i in idx_test]
    # a grade in force stands where the rule set says so, in the measurement as in the proposals
    pred, probs, stood = apply_standing(model, jid, recs, pred, probs)
    actual = y[idx_test]
    shares = np.array([np.mean(y[idx_train] == g) for g in GRADES])
    test = agreement(pred, actual) | {
        "brier": brier(probs, actual),
        "brier_training_shares": brier(np.tile(shares, (len(actual), 1)), actual),
        "first": str(min(ins[rows.keys[i]][2] for i in idx_test)),
        "last": str(max(ins[rows.keys[i]][2] for i in idx_test)),
        "grades": {str(g): int((actual == g).sum()) for g in GRADES},
        "matrix": confusion_matrix(pred, actual),
    }
    base_pred = {
        "carry_forward": np.array([r["previous_grade"] for r in recs], dtype=int),
        "always_good": np.full(len(recs), 2),
        "neighbour_majority": np.array(
            [neighbour_majority(r["neighbour_grades"]) or 2 for r in recs], dtype=int
        ),
    }
    baselines = {k: {"label": BASELINES[k], **agreement(v, actual)} for k, v in base_pred.items()}
    beats = {
        k: {mt: (test[mt] or 0) > (b[mt] or 0) for mt in METRICS} for k, b in baselines.items()
    }
    return {
        "judgement": jid,
        "framework": model.framework,
        "split_date": str(split),
        "train": {
            "n": len(idx_train),
            "first": str(min(ins[rows.keys[i]][1] for i in idx_train)),
            "last": str(max(ins[rows.keys[i]][1] for i in idx_train)),
            "grades": {str(g): int((y[idx_train] == g).sum()) for g in GRADES},
        },
        "test": test,
        "baselines": baselines,
        "beats": beats,
        "beats_every_baseline": all(all(v.values()) for v in beats.values()),
        "excluded": {
            "no_earlier_judgement": n_all_test - len(idx_test),
            "inspected_before_published_after": n_limbo,
        },
        "coefficients": {f: round(float(c), 4) for f, c in zip(m.features, m.coef, strict=True)},
        "missing_neighbours": sum(1 for r in recs if not r["neighbour_grades"]),
        "standing": sum(stood),
    }


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def tested_on(res: dict, participle: bool = False) -> str:
    """How the test inspections are dated, in words ("began", or as a participle "begun"): ILACS
    inspections by the day they began, SIF inspections (whose start Ofsted's history does not hold)
    by their publication ("were published", "published")."""
    if res.get("framework", "ILACS") == "ILACS":
        return "begun" if participle else "began"
    return "published" if participle else "were published"


def summary(res: dict) -> str:
    """One paragraph in plain words: the method's figures beside each baseline's, and where it does not beat one."""
    t, b = res["test"], res["baselines"]
    head = (
        f"Trained on {res['train']['n']} {res.get('framework', 'ILACS')} inspections published before "
        f"{res['split_date']} and tested on the {t['n']} that {tested_on(res)} on or after it: the method's grade matched Ofsted's in {_pct(t['exact'])} "
        f"(within one grade {_pct(t['within_one'])}; weighted kappa {t['weighted_kappa']:.2f}; Brier {t['brier']:.3f}, "
        f"against {t['brier_training_shares']:.3f} for the training grade shares). Baselines: "
        + "; ".join(
            f"{v['label']} {_pct(v['exact'])} (within one {_pct(v['within_one'])}, kappa "
            f"{v['weighted_kappa']:.2f})"
            for v in b.values()
        )
        + "."
    )
    misses = [
        f"{BASELINES[k]} on {', '.join(m.replace('_', ' ') for m, ok in v.items() if not ok)}"
        for k, v in res["beats"].items()
        if not all(v.values())
    ]
    if misses:
        return (
            head
            + " It does NOT beat "
            + "; ".join(misses)
            + ": read its grade beside that baseline's."
        )
    return head + " It beats every baseline on all three measures."


def evaluate(
    con: duckdb.DuckDBPyConnection, rs: RuleSet | None = None, split_date: dt.date | None = None
) -> dict:
    """The date-split evaluation of a rule set's model (default: ilacs_2025 and its split date).

    Top level: overall effectiveness (``split_date, train, test, baselines``, fractions in 0..1);
    ``judgements``: the same for every judgement the model proposes."""
    rs = rs or ruleset_for_year(2025, "ilacs_2025")
    if rs.model is None:
        raise CspaError(
            f"rule set {rs.id} proposes its grades by rules only; there is no model to evaluate "
            "(the evaluation needs inspections of many authorities over time); rule sets with a model: "
            + ", ".join(k for k, v in load_rulesets().items() if v.model is not None)
        )
    split = split_date or rs.model.split_date
    build_features(con, rs.model, inspections_sql(rs.model.framework))
    # the method's settings are chosen from the training inspections alone, as a proposal's are
    settings, tuning = select_settings(con, rs.model, split)
    per = {jid: _judgement(con, rs, jid, split, settings) for jid in rs.model.judgements}
    head = per.get(HEADLINE) or next(iter(per.values()))
    chosen = (
        f" Its settings ({settings.describe()}) were chosen from the training inspections alone."
        if tuning
        else ""
    )
    for r in per.values():
        r["summary"] = summary(r) + chosen
    return {
        "ruleset": rs.id,
        "ruleset_version": rs.version,
        "method": f"{rs.model.kind}: one ordinal logistic regression per judgement (cspa.assessment.forecast), "
        f"{settings.describe()}"
        + (", chosen on the training inspections alone" if tuning else ", fixed in the rule set"),
        "settings": {"previous_form": settings.previous_form, "penalty": settings.penalty},
        "tuning": tuning,
        "judgement": head["judgement"],
        "framework": rs.model.framework,
        "split_date": head["split_date"],
        "train": head["train"],
        "test": head["test"],
        "baselines": head["baselines"],
        "beats": head["beats"],
        "beats_every_baseline": head["beats_every_baseline"],
        "excluded": head["excluded"],
        "coefficients": head["coefficients"],
        "summary": head["summary"],
        "judgements": per,
    }


__all__ = ["agreement", "brier", "evaluate", "neighbour_majority", "summary", "tested_on"]
