"""Rule sets as data: one validated YAML file per framework year in ``data/rules/<id>.yaml``.

A rule set says how cspa *proposes* grades for one assessment framework: its grade scale and
labels, the performance profile it reads, the named evidence items (each a columnar SQL query,
see :mod:`cspa.assessment.evidence`), and per judgement the threshold rules (the first that holds
gives the proposal), adjustments (one step better or worse) and limiting rules ("a grade cannot
be better than X if ..."). Loading checks every field and every reference (an evidence id a rule
uses, a judgement a cap names) and reports the file and the field at fault.

File format (top-level keys)::

    id: profile_2011            # = the file name; version: "1" (bump when a rule changes)
    title, framework, source, notes
    years: [first, last]        # assessment years the rule set covers (``--year`` picks it)
    population: {era: "2008" | "2025" | "as_at"}   # the authorities assessed (all at once): an
                                # era's list, or those that existed on the assessment's date
    data_cutoff: "08-31"        # figures for periods ending by this day of the assessment year
    neighbour_group: nfer_2007  # statistical neighbours for comparators
    scale: {higher_is_better, intro, grades: [{grade, label, descriptor, capacity_descriptor, seed_ref}]}
    profile: {kind: catalogue | ofsted, ...}   # the performance profile (see profile.py); optional
    profile_from: ilacs_2025    # or: the same profile as another rule set's (one layout, one file)
    evidence: [{id, label, kind, ...}]          # kinds: see evidence.py
    model: {kind: ordinal_logit, framework: ILACS | SIF, split_date, penalty, domains,
            judgements: {id: {target, area, domains}}}
                                # optional: judgements it lists are proposed by the model (forecast.py)
    judgements:
      - id, label, indicator (historical record), outcome (letter grouping)
        thresholds:  [{id, grade, when, text, source}]      # first that holds gives the grade
        adjustments: [{id, shift: better|worse, when, text, source}]
        limits:      [{id, cap: <grade> | {judgement: id, offset: n}, when, text, source}]
        floors:      [{id, floor: ..., when, text, source}]
    letter: {template, kind: annual_assessment | apa | inspection_summary, summary_judgements,
             outcome_sentence, comparator, quantifiers, max_items, paragraph_extra, strong_share,
             weak_share, margin_percent,
             sections: [{id, heading, judgement, outcome, framework, areas, seed_events, profile,
                         topics: [{indicator, measure, phrase, seed_ref, weight, polarity, long_change}],
                         unsupported: [{topic, seed_ref, reason}]}]}

Conditions (``when``) are described in :mod:`cspa.assessment.rules`. Every rule carries the text
shown to the inspector and its ``source`` (a seed line, or "cspa" where the rule is cspa's own).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cspa.catalogue.areas import DATA
from cspa.catalogue.yaml_file import load_yaml
from cspa.errors import CspaError

RULES = DATA / "rules"


class RuleSetError(CspaError):
    """A rule set file is invalid (names the file and the field)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Ref(_Strict):
    text: str
    seed_ref: str | None = None


class Grade(_Strict):
    grade: int
    label: str
    descriptor: str | None = None
    capacity_descriptor: str | None = None
    seed_ref: str | None = None


class Scale(_Strict):
    higher_is_better: bool
    intro: Ref | None = None
    grades: list[Grade]
    note: Ref | None = None

    def label(self, grade: int | None) -> str | None:
        return next((g.label for g in self.grades if g.grade == grade), None)

    @property
    def best(self) -> int:
        gs = [g.grade for g in self.grades]
        return max(gs) if self.higher_is_better else min(gs)

    @property
    def worst(self) -> int:
        gs = [g.grade for g in self.grades]
        return min(gs) if self.higher_is_better else max(gs)


class Column(_Strict):
    measure: Literal[
        "number_inspected",
        "pct_outstanding",
        "pct_good",
        "pct_satisfactory",
        "pct_inadequate",
        "pct_good_or_outstanding",
    ]
    label: str
    decimals: int = 0
    percent_sign: bool = False
    zero: Literal["print", "blank"] = "print"


class ProviderType(_Strict):
    id: str
    title: str
    provision_types: list[str]
    sectors: list[str] | None = None
    super_group: str


class SuperGroup(_Strict):
    id: str
    title: str


class EducationRow(_Strict):
    indicator: str
    title: str | None = None


class History(_Strict):
    kind: Literal["record", "inspections"]
    indicator: str | None = None
    document: str | None = None
    judgement: str | None = None


class Profile(_Strict):
    kind: Literal["catalogue", "ofsted"]
    title: str
    title_ref: str | None = None
    period: str
    #: the document's "Reporting date" line; ``{as_at}`` and ``{year}`` are replaced by the
    #: assessment's date and year (a later provider snapshot is then said to be later)
    period_text: str | None = None
    period_ref: str | None = None
    outcome_labels: list[str] = Field(min_length=4, max_length=4)
    columns: list[Column]
    provider_heading: Ref
    provider_caption: Ref
    super_group_caption: Ref
    # catalogue kind: indicator codes; ofsted kind: provider type definitions
    provider_types: list[str] | list[ProviderType]
    super_groups: list[str] | list[SuperGroup]
    inspections_heading: Ref
    education_heading: Ref
    education: list[EducationRow]
    education_years: int = 4
    improvement_decimals: int = 2
    history_heading: Ref
    history: History
    notes_from: str | None = None
    source: str | None = None
    vintage: str | None = None
    licence: str | None = None


class Evidence(_Strict):
    id: str
    label: str
    kind: Literal[
        "profile",
        "profile_education",
        "inspection",
        "engine",
        "engine_share",
        "record",
        "judgement",
    ]
    # profile
    indicators: list[str] | None = None
    numerator: list[str] | None = None
    stat: str | None = None
    threshold: float | None = None
    # profile_education / engine
    measure: str | None = None
    comparator: Literal["england", "statistical_neighbours"] | None = None
    margin_percent: float | None = None
    indicator: str | None = None
    # engine_share: indicators or a selection by framework / outcome / code pattern
    select: dict[str, Any] | None = None
    # inspection
    where: dict[str, Any] | None = None
    # record
    year_offset: int | None = None
    # judgement
    judgements: list[str] | None = None
    polarity: Literal["high", "low"] | None = None

    @model_validator(mode="after")
    def _check(self) -> Evidence:
        stats = {
            "profile": {"pooled", "min_share", "count_below", "count_at_least", "count"},
            "profile_education": {"count_better", "count_worse"},
            "inspection": {"count", "worst_grade", "latest_grade", "shortfall"},
            "engine": {None, "value"},
            "engine_share": {
                "share_better",
                "share_worse",
                "net_better",
                "count_better",
                "count_worse",
                "count_top_quartile",
                "count_bottom_quartile",
                "share_improved",
                "share_worsened",
                "count",
            },
            "record": {None},
            "judgement": {"mean", "worst", "best"},
        }[self.kind]
        if self.stat not in stats:
            raise ValueError(
                f"evidence {self.id!r} of kind {self.kind} needs stat one of "
                f"{sorted(s for s in stats if s)}; got {self.stat!r}"
            )
        need = {
            "profile": ["indicators", "numerator"],
            "profile_education": ["measure", "comparator"],
            "inspection": ["where"],
            "engine": ["indicator"],
            "engine_share": [],
            "record": ["indicator", "year_offset"],
            "judgement": ["judgements"],
        }[self.kind]
        for f in need:
            if getattr(self, f) in (None, []):
                raise ValueError(f"evidence {self.id!r} of kind {self.kind} needs {f!r}")
        if self.kind == "engine_share" and not (self.indicators or self.select):
            raise ValueError(f"evidence {self.id!r}: engine_share needs 'indicators' or 'select'")
        return self


class Rule(_Strict):
    id: str
    when: Any
    text: str
    source: str | None = None
    grade: int | None = None  # thresholds
    shift: Literal["better", "worse"] | None = None  # adjustments
    cap: int | dict[str, Any] | None = None  # limits: a grade cannot be better than this
    floor: int | dict[str, Any] | None = None  # floors: a grade cannot be worse than this


class Judgement(_Strict):
    id: str
    label: str
    indicator: str | None = None
    outcome: str | None = None  # the catalogue outcome whose evidence the letter groups under it
    thresholds: list[Rule] = Field(default_factory=list)
    adjustments: list[Rule] = Field(default_factory=list)
    limits: list[Rule] = Field(default_factory=list)
    floors: list[Rule] = Field(default_factory=list)
    letter_sentence: str | None = None


class ModelDomain(_Strict):
    """A group of indicators whose average position among authorities is one feature of the model."""

    id: str
    label: str
    indicators: list[str] = Field(min_length=1)


class ModelJudgement(_Strict):
    """How the model proposes one judgement: the grade it learns (of the model's framework), the area of practice whose latest
    judgement it starts from, and the indicator domains it reads."""

    target: Literal["overall", "leaders", "help_and_protection", "children_in_care", "care_leavers"]
    area: str
    domains: list[str] = Field(default_factory=list)
    neighbours: bool = True


class ModelTuning(_Strict):
    """Settings the method chooses for itself from the inspections it is trained on, and from nothing later
    (:func:`cspa.assessment.forecast.select_settings`): every combination of the previous grade's form and
    the penalty is fitted on the earlier training inspections and scored (Brier) on the latest
    ``validation_share`` of them; the lowest mean score over the model's judgements wins."""

    previous_forms: list[Literal["category", "number"]] = Field(
        default_factory=lambda: ["category", "number"], min_length=1
    )
    penalties: list[float] = Field(default_factory=lambda: [0.3, 1.0, 3.0], min_length=1)
    validation_share: float = Field(default=1 / 3, gt=0, lt=1)


class Model(_Strict):
    """A transparent statistical method (:mod:`cspa.assessment.forecast`): an ordinal logistic regression
    per judgement on the latest judgement of its area, the years since it, the statistical neighbours'
    latest grades and indicator domains, each as at the assessment date; trained on the inspections of
    ``framework`` (ILACS, or SIF for the years before it) published before it, and measured on a date
    split (:mod:`cspa.assessment.evaluate`)."""

    kind: Literal["ordinal_logit"] = "ordinal_logit"
    framework: Literal["ILACS", "SIF"] = "ILACS"
    # overall effectiveness grades of the framework under which, in force at the date, the
    # framework's own judgements stand as the proposals: SIF re-inspected only the authorities it
    # judged inadequate overall, so no authority it judged better was inspected under it again, and
    # a model that learnt from first inspections and re-inspections has no such case
    current_stands: list[int] = Field(default_factory=list)
    source: str
    split_date: dt.date
    penalty: float = Field(default=1.0, ge=0)
    previous_form: Literal["category", "number"] = "category"
    tuning: ModelTuning | None = None
    publication_lag_days: int = Field(default=240, ge=0)
    years_cap: float = Field(default=6.0, gt=0)
    neighbour_group: str = "dfe_2025"
    domains: list[ModelDomain] = Field(default_factory=list)
    judgements: dict[str, ModelJudgement]

    @model_validator(mode="after")
    def _domains(self) -> Model:
        ids = {d.id for d in self.domains}
        for jid, j in self.judgements.items():
            missing = [d for d in j.domains if d not in ids]
            if missing:
                raise ValueError(
                    f"model judgement {jid!r} reads domains {missing}, which are not defined"
                )
        return self


class Topic(_Strict):
    """A figure a letter section reports: one measure of one indicator, named as the letter names it."""

    indicator: str
    measure: str = "value"
    phrase: str  # e.g. "core assessments completed within 35 working days"
    seed_ref: str | None = None  # where the seed letter speaks of it
    weight: float = Field(
        default=1.0, gt=0, le=1
    )  # centrality to the judgement (1: a topic the seed names)
    # the letter's reading of better where the catalogue gives the measure no polarity (cite the seed)
    polarity: Literal["high", "low"] | None = None
    # also say the change over the last three periods against England's (the profile's four-year
    # improvement, 003:L71); a rise faster than England's while below it counts as catching up
    long_change: bool = False
    # said with the other topics of the section's theme in one sentence, under its short name (and, where
    # the short name is a clause, compared under its label)
    theme: str | None = None
    short: str | None = None
    label: str | None = None


class Unsupported(_Strict):
    """A topic the seed letter prints that the data cannot support, and why."""

    topic: str
    seed_ref: str
    reason: str


class Theme(_Strict):
    """Topics the letter says in one sentence, as the seeds do ('Results at the end of Key Stage 1 ...',
    002:L77): ``opening`` (with ``{period}`` where the shared period goes), then each topic's ``clause``
    (``{display}`` and the topic's ``short`` name), then how they compare with statistical neighbours and
    England."""

    id: str
    opening: str
    clause: str = "{display} in {short}"


class Section(_Strict):
    """One part of a letter: an outcome or judgement area (its grade) with a short paragraph, then its key
    strengths and areas for improvement chosen by salience (:mod:`cspa.assessment.letters`)."""

    id: str
    heading: str
    short_heading: str | None = None  # how the closing lists name it (002:L173, L184)
    judgement: str | None = None  # the judgement whose grade the section shows
    outcome: str | None = None  # the catalogue outcome whose other indicators are candidates too
    framework: str | None = None  # ... within this framework
    areas: list[str] = Field(
        default_factory=list
    )  # areas of practice whose current inspection it reports
    seed_events: bool = False  # seed 003's safeguarding events (the 2011 profile)
    profile: list[str] = Field(default_factory=list)  # profile rows (super-groups, provider types)
    topics: list[Topic] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    unsupported: list[Unsupported] = Field(default_factory=list)

    @model_validator(mode="after")
    def _themes(self) -> Section:
        ids = {t.id for t in self.themes}
        for t in self.topics:
            if t.theme is not None and (t.theme not in ids or not t.short):
                raise ValueError(
                    f"section {self.id!r}: topic {t.indicator} names theme {t.theme!r}, which needs "
                    "to be one of the section's themes, and a short name"
                )
        return self


class Focus(_Strict):
    """The closing list of the 2006 letter: aspects for focus in the next assessment (002:L190-198). cspa
    takes the ``max_items`` most salient areas for improvement over all sections, at most one per section
    unless fewer sections have one."""

    heading: str
    max_items: int = Field(default=5, ge=1)
    seed_ref: str = ""


class Letter(_Strict):
    template: str = "letter.html"
    kind: Literal["annual_assessment", "apa", "inspection_summary"] = "annual_assessment"
    quantifiers: list[dict[str, Any]] = Field(default_factory=list)
    max_items: int = 3  # strengths and areas for improvement per section, at most
    paragraph_extra: int = 1  # sentences beyond the section's topics, the most salient first
    strong_share: float = 80
    weak_share: float = 50
    margin_percent: float = 5
    comparator: Literal["england", "statistical_neighbours"] = "england"
    grade_words: dict[int, str] | None = None
    summary_judgements: list[str] = Field(default_factory=list)
    outcome_sentence: str | None = None
    sections: list[Section] = Field(default_factory=list)
    focus: Focus | None = None


class RuleSet(_Strict):
    id: str
    version: str
    title: str
    framework: str
    years: list[int] = Field(min_length=2, max_length=2)
    population: dict[str, Any] = Field(default_factory=lambda: {"era": "2025"})
    data_cutoff: str = "08-31"
    neighbour_group: str = "dfe_2025"
    source: str
    notes: list[str] = Field(default_factory=list)
    scale: Scale
    profile: Profile | None = None
    profile_from: str | None = None
    evidence: list[Evidence]
    judgements: list[Judgement]
    model: Model | None = None
    letter: Letter = Field(default_factory=Letter)
    sha256: str = ""
    path: str = ""

    @model_validator(mode="after")
    def _refs(self) -> RuleSet:
        era = str(self.population.get("era", "2025"))
        if era not in ("2008", "2025", "as_at"):
            raise ValueError(f"population.era must be 2008, 2025 or as_at; got {era!r}")
        if self.profile is not None and self.profile_from is not None:
            raise ValueError("give a profile or profile_from, not both")
        ev = {e.id for e in self.evidence}
        if len(ev) != len(self.evidence):
            raise ValueError("evidence ids must be unique")
        seen: set[str] = set()
        grades = {g.grade for g in self.scale.grades}
        for j in self.judgements:
            for r in [*j.thresholds, *j.adjustments, *j.limits, *j.floors]:
                for e in evidence_ids(r.when):
                    if e not in ev:
                        raise ValueError(
                            f"judgement {j.id!r} rule {r.id!r} uses evidence {e!r}, which is not defined"
                        )
                for bound in (r.cap, r.floor):
                    if isinstance(bound, dict) and bound.get("judgement") not in seen:
                        raise ValueError(
                            f"judgement {j.id!r} rule {r.id!r} limits by judgement "
                            f"{bound.get('judgement')!r}, which is not an earlier judgement"
                        )
                    if isinstance(bound, int) and bound not in grades:
                        raise ValueError(
                            f"judgement {j.id!r} rule {r.id!r}: {bound} is not a grade of the scale"
                        )
            modelled = self.model is not None and j.id in self.model.judgements
            if not j.thresholds and not modelled:
                raise ValueError(
                    f"judgement {j.id!r} needs thresholds, or a model that proposes it"
                )
            for r in j.thresholds:
                if r.grade not in grades:
                    raise ValueError(
                        f"judgement {j.id!r} threshold {r.id!r} needs a grade of the scale, got {r.grade!r}"
                    )
            kinds = {e.id: e for e in self.evidence}
            for r in [*j.thresholds, *j.adjustments, *j.limits, *j.floors]:
                for eid in evidence_ids(r.when):
                    e = kinds[eid]
                    if e.kind == "judgement" and not set(e.judgements or []) <= seen:
                        raise ValueError(
                            f"judgement {j.id!r} rule {r.id!r} uses evidence {eid!r}, which needs "
                            f"judgements {e.judgements} proposed before {j.id!r}"
                        )
            seen.add(j.id)
        if self.model is not None:
            unknown = [
                jid for jid in self.model.judgements if jid not in {j.id for j in self.judgements}
            ]
            if unknown:
                raise ValueError(f"the model proposes judgements {unknown}, which are not defined")
        for e in self.evidence:
            if e.kind == "judgement":
                for name in e.judgements or []:
                    if name not in {j.id for j in self.judgements}:
                        raise ValueError(
                            f"evidence {e.id!r} names judgement {name!r}, which is not defined"
                        )
        return self

    def later_provider_snapshot(self, year: int) -> dt.date | None:
        """The date of Ofsted's provider outcomes the profile reads, where it is later than an
        assessment of ``year`` is made as at (the only snapshot held is at 31 March 2023): a
        dated document does not cite figures from after its date, so a 2019 letter leaves them
        out and a 2020 profile says they are later. None where they are not later, or are the
        seed's own (a catalogue profile)."""
        if self.profile is None or self.profile.kind != "ofsted":
            return None
        try:
            snapshot = dt.datetime.strptime(self.profile.period, "%d %B %Y").date()
        except ValueError:
            return None
        return snapshot if snapshot > self.as_at(year) else None

    def assesses(self, area: dict[str, Any], year: int) -> bool:
        """Whether the rule set assesses ``area`` (a row of the area table, as a mapping) in
        ``year``: an era's list (``in_2008``, ``in_2025``), or with ``era: as_at`` whether it existed
        on the assessment date (``exists_from``, ``exists_until``). The same rule for every
        authority at once, in SQL: :func:`cspa.assessment.profile.population`."""
        if not self.years[0] <= year <= self.years[1]:
            return False
        era = str(self.population.get("era", "2025"))
        if era == "as_at":
            day = self.as_at(year)
            began, ended = area.get("exists_from"), area.get("exists_until")
            return (began is None or began <= day) and (ended is None or ended >= day)
        return bool(area.get("in_2008" if era == "2008" else "in_2025"))

    def as_at(self, year: int) -> dt.date:
        """The date an assessment of ``year`` is made as at: the data cut-off day of that year. Figures for
        periods ending by then and inspections published by then are its evidence."""
        month, day = (int(x) for x in self.data_cutoff.split("-"))
        return dt.date(year, month, day)

    def judgement(self, jid: str) -> Judgement:
        for j in self.judgements:
            if j.id == jid:
                return j
        raise CspaError(
            f"rule set {self.id} has no judgement {jid!r}; judgements: "
            f"{', '.join(j.id for j in self.judgements)}"
        )

    def evidence_by_id(self) -> dict[str, Evidence]:
        return {e.id: e for e in self.evidence}


def evidence_ids(cond: Any) -> list[str]:
    """Every evidence id a condition refers to, in order."""
    out: list[str] = []
    if isinstance(cond, dict):
        if "evidence" in cond:
            out.append(cond["evidence"])
        for key in ("all", "any", "of"):
            for c in cond.get(key) or []:
                out += evidence_ids(c)
        if "not" in cond:
            out += evidence_ids(cond["not"])
    return list(dict.fromkeys(out))


def _read(path: Path) -> RuleSet:
    raw = path.read_bytes()
    try:
        data = load_yaml(raw)
    except yaml.YAMLError as e:
        raise RuleSetError(f"{path.name}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise RuleSetError(f"{path.name}: a rule set is a mapping")
    try:
        rs = RuleSet.model_validate(
            {**data, "sha256": hashlib.sha256(raw).hexdigest(), "path": str(path)}
        )
    except ValidationError as e:
        errs = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or '(top)'}: {err['msg']}"
            for err in e.errors()[:6]
        )
        raise RuleSetError(f"{path.name}: invalid rule set: {errs}") from e
    if rs.id != path.stem:
        raise RuleSetError(f"{path.name}: id {rs.id!r} must match the file name {path.stem!r}")
    return rs


@functools.cache
def load_rulesets(folder: str | None = None) -> dict[str, RuleSet]:
    """Every rule set in ``data/rules`` (or ``folder``), by id."""
    d = Path(folder) if folder else RULES
    sets = {p.stem: _read(p) for p in sorted(d.glob("*.yaml"))}
    for rid, rs in sets.items():
        if rs.profile_from is None:
            continue
        other = sets.get(rs.profile_from)
        if other is None or other.profile is None:
            raise RuleSetError(
                f"{Path(rs.path).name}: profile_from names {rs.profile_from!r}, which is not a rule set "
                f"with a profile; rule sets with one: {', '.join(k for k, v in sets.items() if v.profile)}"
            )
        sets[rid] = rs.model_copy(update={"profile": other.profile})
    return sets


def ruleset_for_year(year: int, ruleset: str | None = None) -> RuleSet:
    """The rule set named, or the one whose ``years`` cover ``year``."""
    sets = load_rulesets()
    if ruleset:
        if ruleset not in sets:
            raise CspaError(f"no rule set {ruleset!r}; rule sets: {', '.join(sets)}")
        return sets[ruleset]
    hits = [r for r in sets.values() if r.years[0] <= year <= r.years[1]]
    if not hits:
        spans = ", ".join(f"{r.id} ({r.years[0]}-{r.years[1]})" for r in sets.values())
        raise CspaError(f"no rule set covers the year {year}; rule sets: {spans}")
    return hits[0]
