"""Proposed ILACS (or SIF) grades from a transparent statistical model, every grade explained by what moved it.

A rule set's ``model`` (:class:`cspa.assessment.ruleset.Model`) proposes the judgements it lists
with an ordinal logistic regression (:mod:`cspa.assessment.ordinal`), one per judgement, on
features read **as at a date** (nothing published later is seen):

* ``previous:1``, ``previous:3``, ``previous:4``: the latest judgement of the judgement's area of
  practice published before the date (ILACS, or SIF before it; SIF, or SLAC and the child
  protection inspections before it; :mod:`cspa.assessment.inspections`), else the latest overall
  effectiveness grade, else the weakest judgement of the authority's latest inspection (the first SIF
  inspections followed SLAC, which judged no overall effectiveness, leadership or care leavers),
  as a category (good is the reference): grades do not
  move in a straight line (an inadequate authority is usually re-inspected once it has improved,
  an outstanding one mostly stays outstanding), so each previous grade gets its own effect; with
  no earlier judgement there is no proposal;
* ``years_since``: years from that judgement's publication to the date (capped at ``years_cap``);
* ``neighbour_grade``: the mean of the statistical neighbours' latest judgements of the same area
  published before the date (DfE's neighbour model, ``neighbour_group``);
* ``domain:<id>``: the authority's average position among authorities on a group of indicators
  (LAIT), each indicator's latest figure for a period that ended ``publication_lag_days`` or more
  before the date (DfE publishes a March year's figures in the autumn), scored 1 for the best
  authority and 0 for the worst (the engine's rank: ``1 - (rank - 1) / (n - 1)``).

Training rows are the inspections of the model's framework (``model.framework``: ILACS, Ofsted's
history to 31 March 2025; or SIF, Ofsted's LA inspection history 2009-2023), each with its features
as at the day the inspection began (a SIF inspection's publication day: see :func:`inspections_sql`)
and its grade as target; a training set keeps the inspections
*published* before a cut-off (the assessment date for a proposal, the split date for the
evaluation in :mod:`cspa.assessment.evaluate`), so a proposal never learns from a grade it could
not have known. A missing feature value counts as the training mean (it moves nothing).

:func:`model_proposals` creates ``_cspa_model_proposal`` (``area, judgement, grade, probabilities,
rules, basis``): ``rules`` holds one entry per feature saying what its value was and how far it
moved the grade (the feature's contribution to the latent score: a worse-grade push is positive),
largest first, so the letter can say why. Evidence rows for the features (with the figures behind
each domain) are appended to ``_cspa_evidence`` as ``model:<judgement>:<feature>``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import duckdb
import numpy as np

from cspa.assessment.agreement import agreement, brier
from cspa.assessment.inspections import AREA_LABELS, judgements_sql
from cspa.assessment.ordinal import OrdinalModel, fit
from cspa.assessment.ruleset import Model, RuleSet

FEATURES = "_cspa_model_features"
MODEL_PROPOSAL = "_cspa_model_proposal"
SCORES = "_cspa_model_scores"
GRADES = [1, 2, 3, 4]
GRADE_LABELS = {1: "outstanding", 2: "good", 3: "requires improvement to be good", 4: "inadequate"}
TARGET_COLUMNS = {
    "overall": "overall_grade",
    "leaders": "leaders_grade",
    "help_and_protection": "help_and_protection_grade",
    "children_in_care": "children_in_care_grade",
    # before 2023 ILACS judged care leavers with children in care: that grade is theirs too
    "care_leavers": "coalesce(care_leavers_grade, children_in_care_grade)",
}


def neighbour_majority(grades: list[int] | None) -> int | None:
    """The most common grade; ties: nearest the mean, then the better (lower) grade."""
    if not grades:
        return None
    counts = Counter(grades)
    top = max(counts.values())
    mean = sum(grades) / len(grades)
    return min((g for g, c in counts.items() if c == top), key=lambda g: (abs(g - mean), g))


def _q(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


# SIF's judgements in Ofsted's LA inspection history (a row per judgement) under the same five
# targets: its care leavers judgement a sub-judgement of children looked after and achieving permanence
SIF_JUDGEMENTS = {
    "overall": "overall_effectiveness",
    "leaders": "leadership_management_governance",
    "help_and_protection": "help_and_protection",
    "children_in_care": "looked_after_and_permanence",
    "care_leavers": "care_leavers",
}
# the fewest inspections a judgement's model is fitted on: with fewer there is no proposal
MIN_TRAINING = 20


def inspections_sql(framework: str = "ILACS") -> str:
    """The inspections of ``framework`` with an overall grade: the training and test rows (``key,
    area, as_at, published, inspection_type`` and a grade column per target, TARGET_COLUMNS' names).

    ILACS rows (Ofsted's ILACS history) carry the day the inspection began, when its features are
    read. SIF rows (Ofsted's LA inspection history 2009-2023) carry only their publication date, so
    theirs are read as at that day: what is read is published strictly before it, and in the weeks
    between an inspection and its report nothing else about the authority is published."""
    if framework == "SIF":
        grades = ", ".join(
            f"max(grade) FILTER (WHERE judgement = {_q(j)}) AS {target}"
            for target, j in SIF_JUDGEMENTS.items()
        )
        return f"""(SELECT * FROM (
                    SELECT 'SIF:' || la_code || ':' || CAST(publication_date AS VARCHAR) AS key, la_code AS area,
                           publication_date AS as_at, publication_date AS published,
                           any_value(inspection) AS inspection_type, {grades}
                    FROM inspection_la_history
                    WHERE framework = 'SIF' AND la_code IS NOT NULL AND publication_date IS NOT NULL
                    GROUP BY la_code, publication_date)
                WHERE overall IS NOT NULL)"""
    if framework != "ILACS":
        raise ValueError(f"no inspections to learn from for framework {framework!r} (ILACS, SIF)")
    targets = ", ".join(f"{expr} AS {name}" for name, expr in TARGET_COLUMNS.items())
    return f"""(SELECT 'ILACS:' || la_code || ':' || CAST(inspection_date AS VARCHAR) AS key, la_code AS area,
                       inspection_date AS as_at, coalesce(publication_date, inspection_date) AS published,
                       inspection_type, {targets}
                FROM inspection_ilacs
                WHERE dataset = 'history' AND la_code IS NOT NULL AND overall_grade IS NOT NULL)"""


PREVIOUS = (
    "previous:1",
    "previous:3",
    "previous:4",
)  # the previous grade as a category; good is the reference


@dataclass(frozen=True)
class Settings:
    """How the previous grade enters the model (``category``: one effect per grade; ``number``: one slope)
    and the ridge penalty."""

    previous_form: str
    penalty: float

    def describe(self) -> str:
        form = "a category" if self.previous_form == "category" else "a number"
        return f"previous grade as {form}, penalty {self.penalty:g}"


def default_settings(model: Model) -> Settings:
    return Settings(model.previous_form, float(model.penalty))


def feature_names(model: Model, judgement: str, settings: Settings | None = None) -> list[str]:
    j = model.judgements[judgement]
    form = (settings or default_settings(model)).previous_form
    return [
        *(PREVIOUS if form == "category" else ("previous_grade",)),
        "years_since",
        *(["neighbour_grade"] if j.neighbours else []),
        *(f"domain:{d}" for d in j.domains),
    ]


def feature_group(name: str) -> str:
    """The feature a column belongs to (the previous grade's categories are one feature)."""
    return "previous_grade" if name.startswith("previous:") else name


# ------------------------------------------------------------------------------------ features (SQL)


def build_scores(con: duckdb.DuckDBPyConnection, model: Model) -> str:
    """Every authority's position on each domain indicator per period (engine ranks), once per connection."""
    from cspa.engine.run import compute
    from cspa.engine.selection import Selection

    codes = sorted({c for d in model.domains for c in d.indicators})
    if not codes:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {SCORES} (area VARCHAR, indicator VARCHAR, title VARCHAR, "
            "period_label VARCHAR, period_end DATE, display VARCHAR, score DOUBLE, rank INTEGER, n INTEGER, "
            "ref VARCHAR)"
        )
        return SCORES
    rel = compute(con, Selection(indicators=codes, neighbour_group=model.neighbour_group))
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE {SCORES} AS
    WITH e AS (SELECT * FROM ({rel.sql_query()}) WHERE for_area IS NULL AND area_type = 'la' AND measure = 'value'),
    r AS (SELECT e.*, count(rank) OVER (PARTITION BY indicator, measure, period) AS n FROM e WHERE rank IS NOT NULL)
    SELECT r.area, r.indicator, i.title, r.period_label, r.period_end, r.display,
           CASE WHEN r.n > 1 THEN 1 - (r.rank - 1) / (r.n - 1) END AS score, r.rank, r.n, r.vintage AS ref
    FROM r JOIN indicator i ON i.code = r.indicator""")
    return SCORES


def build_features(con: duckdb.DuckDBPyConnection, model: Model, pairs: str) -> str:
    """Features of every (key, area, as_at) row of ``pairs`` for every modelled judgement, one SQL query.

    Output ``_cspa_model_features``: ``key, area, as_at, judgement, previous_grade, previous_label,
    previous_framework, previous_inspection, previous_published, previous_area, years_since,
    neighbour_grade, neighbour_n, neighbour_grades, domains`` (a list of ``{domain, score, n, details}``)."""
    judgements = judgements_sql(con)
    if judgements is None:
        raise ValueError(
            "the store holds no inspection judgements (run `cspa demo` or load Ofsted's data)"
        )
    build_scores(con, model)
    js = ", ".join(f"({_q(jid)}, {_q(j.area)})" for jid, j in model.judgements.items())
    dom_rows = [(d.id, c) for d in model.domains for c in d.indicators]
    doms = (", ".join(f"({_q(d)}, {_q(c)})" for d, c in dom_rows)) or "(NULL, NULL)"
    lag = int(model.publication_lag_days)
    cap = float(model.years_cap)
    con.execute(f"""
    CREATE OR REPLACE TEMP TABLE {FEATURES} AS
    WITH pairs AS (SELECT DISTINCT key, area, as_at FROM {pairs}),
    mj AS (SELECT * FROM (VALUES {js}) t(judgement, ja)),
    dm AS (SELECT * FROM (VALUES {doms}) t(domain, indicator) WHERE domain IS NOT NULL),
    ev AS (   -- Ofsted's judgements by area of practice (seed transcriptions are not Ofsted's data)
        SELECT j.area, u.ja, j.grade, j.outcome, j.framework, j.inspection, j.published, j.row_order
        FROM {judgements} j, unnest(j.judgement_areas) u(ja)
        WHERE j.framework <> 'seed' AND j.grade IS NOT NULL AND j.published IS NOT NULL
    ),
    latest AS (   -- per row and area of practice: the latest judgement published before the date
        SELECT p.key, ev.ja,
               arg_max(ev.grade, (ev.published, ev.row_order)) AS grade,
               arg_max(ev.outcome, (ev.published, ev.row_order)) AS label,
               arg_max(ev.framework, (ev.published, ev.row_order)) AS framework,
               arg_max(ev.inspection, (ev.published, ev.row_order)) AS inspection,
               max(ev.published) AS published
        FROM pairs p JOIN ev ON ev.area = p.area AND ev.published < p.as_at
        WHERE ev.ja IN (SELECT ja FROM mj UNION SELECT 'overall_effectiveness')
        GROUP BY p.key, ev.ja
    ),
    -- with neither (the first SIF inspections: SLAC and the child protection inspections judged no
    -- overall effectiveness, leadership or care leavers), the weakest judgement of the authority's
    -- latest inspection before the date
    lastday AS (
        SELECT p.key, max(ev.published) AS day
        FROM pairs p JOIN ev ON ev.area = p.area AND ev.published < p.as_at GROUP BY p.key
    ),
    weakest AS (
        SELECT l.key, arg_max(ev.ja, (ev.grade, ev.row_order)) AS ja,
               max(ev.grade) AS grade,
               arg_max(ev.outcome, (ev.grade, ev.row_order)) AS label,
               arg_max(ev.framework, (ev.grade, ev.row_order)) AS framework,
               arg_max(ev.inspection, (ev.grade, ev.row_order)) AS inspection,
               l.day AS published
        FROM lastday l JOIN pairs p ON p.key = l.key JOIN ev ON ev.area = p.area AND ev.published = l.day
        GROUP BY l.key, l.day
    ),
    nb AS (   -- the statistical neighbours' latest judgement of each modelled area before the date
        SELECT key, ja, avg(grade) AS neighbour_grade, count(*) AS neighbour_n, list(grade ORDER BY grade) AS neighbour_grades
        FROM (
            SELECT p.key, ev.ja, n.neighbour_code, arg_max(ev.grade, (ev.published, ev.row_order)) AS grade
            FROM pairs p JOIN neighbour n ON n.la_code = p.area AND n.grp = {_q(model.neighbour_group)}
            JOIN ev ON ev.area = n.neighbour_code AND ev.published < p.as_at AND ev.ja IN (SELECT ja FROM mj)
            GROUP BY ALL)
        GROUP BY key, ja
    ),
    ind AS (   -- per row and indicator: the latest figure published (period end + lag) before the date
        SELECT p.key, dm.domain, s.indicator,
               arg_max(s.score, s.period_end) AS score,
               arg_max(STRUCT_PACK(indicator := s.indicator, title := s.title, measure := 'position among authorities',
                                   period := s.period_label, display := s.display,
                                   comparator_display := 'rank ' || CAST(s.rank AS VARCHAR) || ' of ' || CAST(s.n AS VARCHAR),
                                   judgement := format('{{:.0f}}', 100 * s.score), ref := s.ref), s.period_end) AS detail
        FROM pairs p JOIN {SCORES} s ON s.area = p.area AND s.period_end + INTERVAL {lag} DAY < p.as_at
             AND s.score IS NOT NULL
        JOIN dm ON dm.indicator = s.indicator
        GROUP BY ALL
    ),
    dom AS (
        SELECT key, domain, avg(score) AS score, count(*) AS n, list(detail ORDER BY indicator) AS details
        FROM ind GROUP BY ALL
    ),
    doms AS (
        SELECT key, list(STRUCT_PACK(domain := domain, score := score, n := n, details := details)) AS domains
        FROM dom GROUP BY key
    )
    SELECT p.key, p.area, p.as_at, mj.judgement,
           coalesce(own.grade, ov.grade, wk.grade) AS previous_grade,
           coalesce(own.label, ov.label, wk.label) AS previous_label,
           coalesce(own.framework, ov.framework, wk.framework) AS previous_framework,
           coalesce(own.inspection, ov.inspection, wk.inspection) AS previous_inspection,
           coalesce(own.published, ov.published, wk.published) AS previous_published,
           CASE WHEN own.grade IS NOT NULL THEN mj.ja WHEN ov.grade IS NOT NULL THEN 'overall_effectiveness'
                ELSE wk.ja END AS previous_area,
           least({cap}, date_diff('day', coalesce(own.published, ov.published, wk.published), p.as_at) / 365.25)
             AS years_since,
           ov.grade AS overall_grade, ov.label AS overall_label, ov.framework AS overall_framework,
           nb.neighbour_grade, coalesce(nb.neighbour_n, 0) AS neighbour_n, nb.neighbour_grades, doms.domains
    FROM pairs p CROSS JOIN mj
    LEFT JOIN latest own ON own.key = p.key AND own.ja = mj.ja
    LEFT JOIN latest ov ON ov.key = p.key AND ov.ja = 'overall_effectiveness'
    LEFT JOIN weakest wk ON wk.key = p.key
    LEFT JOIN nb ON nb.key = p.key AND nb.ja = mj.ja
    LEFT JOIN doms ON doms.key = p.key""")
    return FEATURES


# ------------------------------------------------------------------------------------ matrices


@dataclass
class Rows:
    """Feature rows of one judgement: keys, areas, the matrix (NaN where missing) and the raw records."""

    keys: list[str]
    areas: list[str]
    x: np.ndarray
    records: list[dict]


def feature_rows(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    judgement: str,
    where: str = "TRUE",
    settings: Settings | None = None,
) -> Rows:
    """The feature matrix of one judgement (rows with a previous grade only), from ``_cspa_model_features``."""
    names = feature_names(model, judgement, settings)
    rel = con.sql(
        f"SELECT * FROM {FEATURES} WHERE judgement = {_q(judgement)} AND previous_grade IS NOT NULL "
        f"AND ({where}) ORDER BY key"
    )
    cols = rel.columns
    records = [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
    x = np.full((len(records), len(names)), np.nan)
    for i, r in enumerate(records):
        doms = {d["domain"]: d for d in (r["domains"] or [])}
        r["domain_map"] = doms
        for k, name in enumerate(names):
            v = _value(name, r)
            x[i, k] = np.nan if v is None else float(v)
    return Rows([r["key"] for r in records], [r["area"] for r in records], x, records)


def standing(model: Model, judgement: str, r: dict) -> int | None:
    """The grade in force where the authority's latest judgement of the judgement's own area is of
    the model's framework, and so is its overall effectiveness, graded one of
    ``model.current_stands`` (an authority the framework would not inspect again: its grades are
    the assessment, and the model is not asked); else None. ``r``: a row of
    ``_cspa_model_features``."""
    own = model.judgements[judgement].area
    if (
        r["overall_framework"] == model.framework
        and r["overall_grade"] in model.current_stands
        and r["previous_framework"] == model.framework
        and r["previous_area"] == own
    ):
        return int(r["previous_grade"])
    return None


def apply_standing(
    model: Model, judgement: str, records: list[dict], grades: np.ndarray, probs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """``grades`` and ``probs`` with each standing grade (:func:`standing`) in place of the
    model's, its probability 1; and which rows stood."""
    grades, probs = grades.copy(), probs.copy()
    stood = []
    for i, r in enumerate(records):
        g = standing(model, judgement, r)
        stood.append(g is not None)
        if g is not None:
            grades[i] = g
            probs[i] = [1.0 if x == g else 0.0 for x in GRADES]
    return grades, probs, stood


def _value(name: str, r: dict) -> float | None:
    """One feature's value for one row of ``_cspa_model_features`` (``r["domain_map"]`` set)."""
    if name.startswith("domain:"):
        d = r["domain_map"].get(name.split(":", 1)[1])
        return d["score"] if d else None
    if name.startswith("previous:"):
        return 1.0 if r["previous_grade"] == int(name.split(":", 1)[1]) else 0.0
    return r[name]


def _impute(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    out = x.copy()
    idx = np.where(np.isnan(out))
    out[idx] = means[idx[1]]
    return out


def train(x: np.ndarray, y: np.ndarray, names: list[str], penalty: float) -> OrdinalModel:
    """Fit on rows with missing values counted as the training mean."""
    seen = ~np.isnan(x)
    counts = seen.sum(axis=0)
    means = np.where(counts > 0, np.where(seen, x, 0.0).sum(axis=0) / np.maximum(counts, 1), 0.0)
    return fit(_impute(x, means), y, names, GRADES, penalty)


def predict(m: OrdinalModel, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(grades, probabilities, contributions) with missing values counted as the training mean.

    A value outside the training rows' range is used as it is: holding it at the range's edge was
    measured (2026-12-07) and scored slightly worse on both date splits (Brier 0.597 against 0.596
    for ILACS overall effectiveness, 0.648 against 0.646 for SIF's)."""
    xi = _impute(x, m.mean)
    return m.predict(xi), m.probabilities(xi), m.contributions(xi)


def training_set(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    judgement: str,
    published_before: dt.date,
    settings: Settings | None = None,
) -> tuple[Rows, np.ndarray]:
    """Training rows for a judgement: inspections published before the date with a grade for its target."""
    target = model.judgements[judgement].target  # a column of inspections_sql()
    rows = feature_rows(
        con,
        model,
        judgement,
        f"key IN (SELECT key FROM {inspections_sql(model.framework)} WHERE published < DATE '{published_before}' "
        f"AND {target} IS NOT NULL)",
        settings,
    )
    grades = dict(
        con.execute(f"SELECT key, {target} FROM {inspections_sql(model.framework)}").fetchall()
    )
    return rows, np.array([grades[k] for k in rows.keys], dtype=int)


def select_settings(
    con: duckdb.DuckDBPyConnection, model: Model, published_before: dt.date
) -> tuple[Settings, dict | None]:
    """The settings the method uses when it learns from inspections published before the date, chosen from
    those inspections alone (``model.tuning``; without it, the rule set's fixed settings).

    For each judgement the training inspections are split again by the day they began: the latest
    ``validation_share`` of them validate, and each candidate (previous grade's form x penalty) is fitted
    on the inspections published before the first of those began. The candidate with the lowest mean
    Brier score over the judgements wins; ties go to the earlier candidate in the rule set's order.
    Needs ``_cspa_model_features`` built for the training inspections (:func:`build_features`).

    Returns the settings and a record of the choice (candidates with their validation scores)."""
    fixed = default_settings(model)
    tuning = model.tuning
    if tuning is None:
        return fixed, None
    cands = [Settings(f, float(p)) for f in tuning.previous_forms for p in tuning.penalties]
    dates = {
        k: (pub, start)
        for k, pub, start in con.execute(
            f"SELECT key, published, as_at FROM {inspections_sql(model.framework)}"
        ).fetchall()
    }
    scores: dict[Settings, list[dict]] = {c: [] for c in cands}
    per_judgement = {}
    for jid in model.judgements:
        by_form = {
            f: training_set(con, model, jid, published_before, Settings(f, 0.0))
            for f in tuning.previous_forms
        }
        rows, _ = next(iter(by_form.values()))
        starts = sorted(dates[k][1] for k in rows.keys)
        if len(starts) < 30:
            continue
        inner = starts[min(len(starts) - 1, int(len(starts) * (1 - tuning.validation_share)))]
        fit_idx = [i for i, k in enumerate(rows.keys) if dates[k][0] < inner]
        val_idx = [i for i, k in enumerate(rows.keys) if dates[k][1] >= inner]
        if len(fit_idx) < 20 or not val_idx:
            continue
        per_judgement[jid] = {
            "validation_from": str(inner),
            "fit_n": len(fit_idx),
            "validation_n": len(val_idx),
        }
        for c in cands:
            r, yy = by_form[c.previous_form]
            names = feature_names(model, jid, c)
            m = train(r.x[fit_idx], yy[fit_idx], names, c.penalty)
            pred, probs, _ = predict(m, r.x[val_idx])
            a = agreement(pred, yy[val_idx])
            scores[c].append(
                {
                    "brier": brier(probs, yy[val_idx]),
                    "exact": a["exact"],
                    "kappa": a["weighted_kappa"],
                }
            )
    if not per_judgement:
        return fixed, None

    def mean(c: Settings, key: str) -> float | None:
        vals = [s[key] for s in scores[c] if s[key] is not None]
        return float(np.mean(vals)) if vals else None

    table = [
        {
            "previous_form": c.previous_form,
            "penalty": c.penalty,
            "brier": mean(c, "brier"),
            "exact": mean(c, "exact"),
            "weighted_kappa": mean(c, "kappa"),
        }
        for c in cands
    ]
    best = min(range(len(cands)), key=lambda i: (table[i]["brier"], i))
    chosen = cands[best]
    return chosen, {
        "chosen": {"previous_form": chosen.previous_form, "penalty": chosen.penalty},
        "published_before": str(published_before),
        "judgements": per_judgement,
        "candidates": table,
        "rule": "lowest mean Brier score on the latest "
        f"{tuning.validation_share:.0%} of the training inspections, fitted on those published before they began",
    }


# ------------------------------------------------------------------------------------ explanations


def _feature_text(model: Model, name: str, r: dict) -> tuple[str, str]:
    """(label, what the value was) of one feature for one row, in words."""
    if name == "previous_grade":
        area = AREA_LABELS.get(r["previous_area"], r["previous_area"])
        return (
            "Latest judgement",
            f"{area}: {r['previous_label'].lower()} ({r['previous_inspection']}, "
            f"published {r['previous_published']:%d/%m/%Y})",
        )
    if name == "years_since":
        return (
            "Time since that inspection",
            f"{r['years_since']:.1f} years"
            + (
                f" (counted as {model.years_cap:g}, the most the model reads)"
                if r["years_since"] >= model.years_cap
                else ""
            ),
        )
    if name == "neighbour_grade":
        if r["neighbour_grade"] is None:
            return ("Statistical neighbours", "no neighbour inspected yet (counted as the average)")
        return (
            "Statistical neighbours",
            f"their latest grades for this area average {r['neighbour_grade']:.1f} "
            f"({r['neighbour_n']} neighbours; 1 is outstanding, 4 inadequate)",
        )
    d = next(x for x in model.domains if x.id == name.split(":", 1)[1])
    got = r["domain_map"].get(d.id)
    if not got:
        return (d.label, "no figures published yet (counted as the average)")
    return (
        d.label,
        f"average position {100 * got['score']:.0f} of 100 among authorities (100 = best), "
        f"over {got['n']} of {len(d.indicators)} indicators",
    )


def _push(c: float) -> str:
    if abs(c) < 0.05:
        return "made little difference"
    # contributions are measured from an authority at the training mean of every feature
    return (
        f"moved the grade towards {'worse' if c > 0 else 'better'} than for an average authority inspected "
        f"({c:+.2f} on the model's scale)"
    )


def explain(
    model: Model,
    m: OrdinalModel,
    r: dict,
    contributions: np.ndarray,
    probs: np.ndarray,
    grade: int,
    trained_before: dt.date,
    settings: Settings | None = None,
) -> list[dict]:
    """One rule-like entry per feature (the previous grade's categories summed), largest push first, then
    the probabilities."""
    groups: dict[str, float] = {}
    for name, c in zip(m.features, contributions, strict=True):
        groups[feature_group(name)] = groups.get(feature_group(name), 0.0) + float(c)
    out = []
    for name, c in sorted(groups.items(), key=lambda kv: -abs(kv[1])):
        label, value = _feature_text(model, name, r)
        out.append(
            {
                "id": name,
                "kind": "model",
                "text": f"{label}: {value}; {_push(c)}.",
                "source": f"ordinal model trained on {m.n} {model.framework} inspections published before "
                f"{trained_before:%d/%m/%Y}"
                + (f" ({settings.describe()}, chosen from those inspections)" if settings else ""),
                "applied": True,
                "grade": None,
                "evidence": [],
            }
        )
    chances = ", ".join(
        f"{GRADE_LABELS[g]} {100 * p:.0f}%" for g, p in zip(GRADES, probs, strict=True)
    )
    out.append(
        {
            "id": "probabilities",
            "kind": "model",
            "text": f"Most probable grade: {GRADE_LABELS[grade]} (chances: {chances}).",
            "source": "ordinal model",
            "applied": True,
            "grade": int(grade),
            "evidence": [],
        }
    )
    return out


# ------------------------------------------------------------------------------------ proposals


def _arrow_table(cols: dict[str, tuple[list, object]]):
    import pyarrow as pa

    return pa.table({k: pa.array(v, t) for k, (v, t) in cols.items()})


def _insert(con: duckdb.DuckDBPyConnection, sql: str, table) -> None:
    con.register("_cspa_model_arrow", table)
    try:
        con.execute(sql.format(src="_cspa_model_arrow"))
    finally:
        con.unregister("_cspa_model_arrow")


def _stands(model: Model, r: dict) -> dict:
    """The one rule of a standing grade (:func:`standing`): the judgement in force, and why the
    model is not asked."""
    fw = model.framework
    area = AREA_LABELS.get(r["previous_area"], r["previous_area"])
    return {
        "id": "current_stands",
        "kind": "model",
        "text": (
            f"The {fw} judgement in force stands: {area}: {r['previous_label'].lower()} "
            f"({r['previous_inspection']}, published {r['previous_published']:%d/%m/%Y}). {fw} "
            "re-inspected only the authorities whose overall effectiveness it had judged inadequate, so no "
            f"authority judged {r['overall_label'].lower()} overall was inspected under {fw} again, and the "
            "model, which learnt from first inspections and re-inspections, has no case like this one."
        ),
        "source": "cspa.assessment.forecast (model.current_stands)",
        "applied": True,
        "grade": int(r["previous_grade"]),
        "evidence": [],
    }


def _too_few(con: duckdb.DuckDBPyConnection, model: Model, jid: str, as_at: dt.date, n: int) -> str:
    """Why a judgement has no proposal when too few inspections precede the date: how many there
    were, how many the model needs, and when the framework's first inspection was published."""
    target = model.judgements[jid].target
    first = con.execute(
        f"SELECT min(published) FROM {inspections_sql(model.framework)} WHERE {target} IS NOT NULL"
    ).fetchall()[0][0]
    had = (
        f"only {n} {model.framework} inspection{'' if n == 1 else 's'} with this judgement had"
        if n
        else f"no {model.framework} inspection with this judgement had"
    )
    return (
        f"no proposal: {had} been published by {as_at:%d/%m/%Y}, and the model learns from "
        f"{MIN_TRAINING} or more"
        + (f" (the first was published on {first:%d/%m/%Y})" if first and first >= as_at else "")
    )


def _no_proposal(
    out: dict[str, list], areas: list[str], jid: str, why: str, evidence_ids: list[str]
) -> None:
    """Rows for judgements the model cannot propose: no grade, the reason as the one rule, and the
    evidence the letter still reports (the area's inspections)."""
    for area in areas:
        out["area"].append(area)
        out["judgement"].append(jid)
        out["grade"].append(None)
        out["probabilities"].append(None)
        out["rules"].append(
            [
                {
                    "id": "no_proposal",
                    "kind": "model",
                    "text": why[0].upper() + why[1:] + ".",
                    "source": "cspa.assessment.forecast",
                    "applied": True,
                    "grade": None,
                    "evidence": [],
                }
            ]
        )
        out["basis"].append(why)
        out["evidence_ids"].append(list(evidence_ids))
        out["carry_forward"].append(None)
        out["neighbour_majority"].append(None)


def model_proposals(
    con: duckdb.DuckDBPyConnection,
    rs: RuleSet,
    as_at: dt.date,
    population: str,
    evidence_table: str | None = None,
) -> str:
    """Propose every modelled judgement of ``rs`` for every authority of ``population`` as at ``as_at``.

    Creates ``_cspa_model_proposal`` (``area, judgement, grade, probabilities, rules, basis, evidence_ids,
    carry_forward, neighbour_majority``: the last two are the baselines' grades for the same authority);
    with ``evidence_table``, appends the domain features as evidence rows ``model:<domain>`` (the figures
    behind each average position)."""
    import pyarrow as pa

    model = rs.model
    assert model is not None
    pairs = (
        f"(SELECT 'P:' || area AS key, area, DATE '{as_at}' AS as_at FROM {population} "
        f"UNION ALL SELECT key, area, as_at FROM {inspections_sql(model.framework)} WHERE published < DATE '{as_at}')"
    )
    build_features(con, model, pairs)
    # the rule set's evidence items on each area's judgements cite the inspections behind previous_grade
    by_area = {
        a: [
            e.id
            for e in rs.evidence
            if e.kind == "inspection" and a in ((e.where or {}).get("area_in") or [])
        ]
        for a in {j.area for j in model.judgements.values()}
    }
    cols = (
        "area",
        "judgement",
        "grade",
        "probabilities",
        "rules",
        "basis",
        "evidence_ids",
        "carry_forward",
        "neighbour_majority",
    )
    out: dict[str, list] = {k: [] for k in cols}
    domain_rows: dict[tuple[str, str], dict] = {}
    settings, _ = select_settings(
        con, model, as_at
    )  # chosen from what was published before the date
    everyone = [
        r[0]
        for r in con.execute(f"SELECT DISTINCT area FROM {population} ORDER BY area").fetchall()
    ]
    for jid, mj in model.judgements.items():
        train_rows, y = training_set(con, model, jid, as_at, settings)
        if len(y) < MIN_TRAINING:
            # too few inspections before the date to learn from: no proposal, and the letter says why
            _no_proposal(
                out,
                everyone,
                jid,
                _too_few(con, model, jid, as_at, len(y)),
                by_area.get(mj.area, []),
            )
            continue
        m = train(train_rows.x, y, feature_names(model, jid, settings), settings.penalty)
        rows = feature_rows(con, model, jid, "key LIKE 'P:%'", settings)
        # with no judgement of the area, nor of overall effectiveness, the model starts from the
        # latest inspection's weakest judgement: without one, the authority had no inspection at all
        _no_proposal(
            out,
            sorted(set(everyone) - set(rows.areas)),
            jid,
            f"no proposal: no inspection judgement of the authority had been published by "
            f"{as_at:%d/%m/%Y}, and the model starts from the latest one",
            by_area.get(mj.area, []),
        )
        if not rows.keys:
            continue
        grades, probs, contrib = predict(m, rows.x)
        grades, probs, stood = apply_standing(model, jid, rows.records, grades, probs)
        for i, r in enumerate(rows.records):
            if stood[i]:
                rules = [_stands(model, r)]
            else:
                rules = explain(model, m, r, contrib[i], probs[i], int(grades[i]), as_at, settings)
            out["area"].append(r["area"])
            out["judgement"].append(jid)
            out["grade"].append(int(grades[i]))
            out["probabilities"].append([float(p) for p in probs[i]])
            out["rules"].append(rules)
            out["basis"].append("; ".join(x["text"] for x in rules[:3]))
            out["evidence_ids"].append(
                by_area.get(mj.area, []) + [f"model:{d}" for d in mj.domains]
            )
            out["carry_forward"].append(r["previous_grade"])
            out["neighbour_majority"].append(neighbour_majority(r["neighbour_grades"]))
            for d in model.domains:
                got = r["domain_map"].get(d.id)
                if got and (r["area"], d.id) not in domain_rows:
                    domain_rows[(r["area"], d.id)] = {**got, "spec": d}
    rule_type = pa.struct(
        [
            ("id", pa.string()),
            ("kind", pa.string()),
            ("text", pa.string()),
            ("source", pa.string()),
            ("applied", pa.bool_()),
            ("grade", pa.int32()),
            ("evidence", pa.list_(pa.string())),
        ]
    )
    table = _arrow_table(
        {
            "area": (out["area"], pa.string()),
            "judgement": (out["judgement"], pa.string()),
            "grade": (out["grade"], pa.int32()),
            "probabilities": (out["probabilities"], pa.list_(pa.float64())),
            "rules": (out["rules"], pa.list_(rule_type)),
            "basis": (out["basis"], pa.string()),
            "evidence_ids": (out["evidence_ids"], pa.list_(pa.string())),
            "carry_forward": (out["carry_forward"], pa.int32()),
            "neighbour_majority": (out["neighbour_majority"], pa.int32()),
        }
    )
    _insert(con, f"CREATE OR REPLACE TEMP TABLE {MODEL_PROPOSAL} AS SELECT * FROM {{src}}", table)
    if evidence_table and domain_rows:
        detail = pa.struct(
            [
                (k, pa.string())
                for k in (
                    "indicator",
                    "title",
                    "measure",
                    "period",
                    "display",
                    "comparator_display",
                    "judgement",
                    "ref",
                )
            ]
        )
        vals = list(domain_rows.items())
        ev = _arrow_table(
            {
                "area": ([a for (a, _), _ in vals], pa.string()),
                "evidence_id": ([f"model:{d}" for (_, d), _ in vals], pa.string()),
                "label": (
                    [
                        v["spec"].label + ": average position among authorities (100 = best)"
                        for _, v in vals
                    ],
                    pa.string(),
                ),
                "value": ([100 * v["score"] for _, v in vals], pa.float64()),
                "display": (
                    [
                        f"{100 * v['score']:.0f} of 100 ({v['n']} of {len(v['spec'].indicators)} indicators)"
                        for _, v in vals
                    ],
                    pa.string(),
                ),
                "details": ([[dict(x) for x in v["details"]] for _, v in vals], pa.list_(detail)),
                "ref": (["DfE LAIT via the engine's ranks" for _ in vals], pa.string()),
            }
        )
        _insert(
            con,
            f"""INSERT INTO {evidence_table} BY NAME
                         SELECT area, evidence_id, label, value, display, details, ref FROM {{src}}""",
            ev,
        )
    return MODEL_PROPOSAL


__all__ = [
    "FEATURES",
    "MODEL_PROPOSAL",
    "Settings",
    "apply_standing",
    "build_features",
    "default_settings",
    "explain",
    "feature_group",
    "feature_names",
    "feature_rows",
    "inspections_sql",
    "model_proposals",
    "predict",
    "select_settings",
    "standing",
    "train",
    "training_set",
]
