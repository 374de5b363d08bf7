"""The report document's contract: typed, frozen classes for what every report kind publishes.

Builders (``outputs.document_apa``, ``quarterly.report``, ``assessment.report``) assemble a
document; :func:`validate` checks it against these classes before any renderer writes it (so
an HTML page, a workbook and the JSON are all made from a document that keeps the contract),
and :func:`json_schema` writes the same classes as the JSON Schema published in
``docs/report-schema.json``. Keys that start with ``_`` are the renderers' own (layout hints)
and are not part of the contract.

The envelope (kind, title, area, period, framework, attribution, ...) and the APA dataset's
indicators, observations and judgements (the JSON contract ``../shared/acceptance`` reads) are
closed: an unknown key is an error, so a renamed field cannot slip out unnoticed. The parts
that differ by kind and are still growing (quarterly sections, profile tables, letter text)
are typed where their shape is settled and open elsewhere.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = ["REPORT_KINDS", "ReportDocument", "json_schema", "validate"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


# ------------------------------------------------------------------------------------ envelope


class AreaRef(_Open):
    name: str
    dfe_code: str | None = None
    ons_code: str | None = None
    region: str | None = None


class FrameworkRef(_Open):
    id: str | None = None
    title: str | None = None
    publisher: str | None = None
    vintage: str | None = None
    licence: str | None = None


class SummaryEntry(_Closed):
    """One "at a glance" sentence: a judgement of the authority's own figure, worded (issue 18)."""

    indicator: str = Field(description="the code of an indicator in the report")
    measure: str | None = Field(
        description="the measure as the judgement names it (null: the indicator's one)"
    )
    period: str
    kind: Literal["significance", "quartile", "trend", "progress", "band"]
    direction: Literal["better", "worse"]
    sentence: str = Field(description="the judgement and its evidence, in words")


class _Envelope(_Open):
    """What every report kind carries: what it is, of whom, when, and where its figures come from."""

    title: str
    area: AreaRef
    period: str | None = None
    framework: FrameworkRef | None = None
    version: str = Field(description="cspa's version that made the report")
    produced: str = Field(description="the date the report was made (ISO 8601)")
    attribution: list[str] = Field(
        description="source, vintage and licence statements every output carries"
    )


# ------------------------------------------------------------------------------ APA dataset


Geography = str  # "area" | "statistical_neighbours" | "region" | "england" | a name as printed


class Observation(_Closed):
    """A figure as the report shows it (the issue 6 contract)."""

    measure: str | None
    measure_id: str
    period: str
    geography: Geography
    value: float | None
    display: str
    numerator: float | None = None
    denominator: float | None = None
    status: str | None = None
    source: Literal["computed", "published", "input"] | str
    basis: str = Field(description="one line: how the figure was made")


class SignificanceBasis(_Closed):
    """How the engine's significance was judged (issue 17's contract)."""

    method: str | None = Field(
        description="the interval and test, e.g. 'Wilson score CI overlap', 'Spiegelhalter additive "
        "over-dispersion (95%)'"
    )
    level: float | None = Field(description="the confidence level the judgement is made at (95)")
    outer_level: float | None = Field(
        default=None, description="a second level checked too (99.8), if the rule names one"
    )
    both_levels: bool | None = Field(
        default=None, description="whether the difference also holds at the outer level"
    )
    comparator: str | None = Field(
        description="england, statistical_neighbours, benchmark_group or region"
    )
    reason: str | None = Field(description="why the figure was not compared, when it was not")
    text: str | None = Field(description="the basis as one line: interval, comparator, result")


class SignificanceVsGroup(_Closed):
    """The engine's judgement against the rule's second comparator, and the flag printed for it."""

    comparator: str | None
    significance: Literal["higher", "lower", "similar", "not compared"] | None
    published_significance: str | None = None
    basis: str | None = None


class SignificanceAgreement(_Closed):
    """How often the engine's significance agrees with the flags the source printed."""

    compared: int
    agree: int
    percent: float
    note: str


class Judgement(_Open):
    """The engine's judgements of one figure."""

    measure: str | None
    measure_id: str
    period: str
    geography: Geography
    band: int | None = None
    band_range: str | None = None
    traffic_light: Literal["green", "amber", "red"] | None = None
    quartile: int | None = None
    quartile_position: str | None = None
    rank: int | None = None
    rank_of: int | None = Field(
        default=None, description="how many authorities the rank is among (rank 12 of 152)"
    )
    rank_shared: int | None = Field(
        default=None,
        description="how many authorities share the rank, this one included (ties share the best rank)",
    )
    trend: str | None = None
    recent_trend: str | None = Field(
        default=None, description="Fingertips' recent trend on the series' latest figure"
    )
    significance: Literal["higher", "lower", "similar", "not compared"] | None = Field(
        default=None, description="the engine's judgement against the rule's first comparator"
    )
    published_significance: str | None = Field(
        default=None, description="the flag the source printed ('-', 'high', 'low'), if any"
    )
    significance_basis: SignificanceBasis | None = None
    significance_note: str | None = Field(
        default=None, description="where the engine and the published flag disagree, why"
    )
    significance_vs_group: SignificanceVsGroup | None = None
    progress: Literal["improved", "same", "worsened"] | None = None
    rag: str | None = None
    target: Any = None
    basis: str


class Cell(_Open):
    display: str
    status: str | None = None
    light: str | None = None
    blobs: int | None = None
    band_range: str | None = None
    source: str | None = None
    basis: str | None = None
    judged: list[str] = []


class Row(_Open):
    label: str
    geography: Geography | None = Field(description="None where the row is a period (periods down)")
    cells: list[Cell]


class RowGroup(_Open):
    label: str | None
    rows: list[Row]


class Table(_Open):
    caption: str
    columns: list[str]
    row_groups: list[RowGroup]
    window: int | None = None


class ChartPoint(_Open):
    period: str
    value: float | None


class ChartSeries(_Open):
    name: str
    points: list[ChartPoint]


class Chart(_Open):
    kind: str
    title: str
    y_label: str | None = None
    series: list[ChartSeries]
    summary: str = Field(description="the chart in words: its text alternative")


class BandSet(_Closed):
    periods: str
    cutoffs: list[str]
    blobs: list[int]


class ApaIndicator(_Open):
    code: str
    title: str
    section: str | None = None
    subsection: str | None = None
    page: int | None = None
    polarity: Literal["high", "low", "middle", "none"]
    unit: str
    definition: str | None = None
    light_rule: str | None = None
    bands: list[BandSet] = []
    observations: list[Observation]
    judgements: list[Judgement]
    table: Table
    chart: Chart | None = None
    notes: list[str] = []


class Subsection(_Open):
    title: str | None
    indicators: list[str]


class Section(_Open):
    id: str
    title: str
    subsections: list[Subsection] = []


class ApaDocument(_Envelope):
    report: Literal["apa-dataset"]
    period_window: int | None = None
    history: bool
    scope: list[str] = Field(
        default=[],
        description="what the report covers, for its reader: periods, neighbour group, indicators held",
    )
    summary: list[SummaryEntry] = Field(
        default=[],
        description="what stands out, in sentences made from the engine's judgements (issue 18)",
    )
    legend: dict[str, Any]
    changes: list[str] = []
    sections: list[Section]
    indicators: list[ApaIndicator]
    appendices: list[dict[str, Any]] = []
    map: dict[str, Any] | None = None
    significance_agreement: SignificanceAgreement | None = None


# ------------------------------------------------------------------------ other report kinds


class QuarterlyDocument(_Envelope):
    report: Literal["quarterly"]
    period_key: str
    scope: list[str] = Field(
        default=[],
        description="what the report holds and why, for its reader: no quarters in a source of "
        "whole years, no targets or commentary entered (issue 18)",
    )
    period_label: str | None = None
    basket: Any = None
    legend: dict[str, Any]
    sections: list[dict[str, Any]]
    indicators: list[dict[str, Any]]


class Grade(_Open):
    judgement: str | None = None
    grade: int | None = None
    label: str | None = None


class ProfileDocument(_Envelope):
    report: Literal["profile"]
    year: int
    grades: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    indicators: list[dict[str, Any]] = []


class LetterEvidence(_Open):
    """One figure or judgement behind a letter's sentence, with its source (seed line or vintage)."""

    indicator: str | None = None
    title: str | None = None
    measure: str | None = None
    period: str | None = None
    display: str | None = None
    comparator_display: str | None = None
    judgement: str | None = None
    ref: str | None = None


class LetterSentence(_Open):
    """A sentence of a section's paragraph, or an item of its strengths or areas for improvement."""

    key: str
    text: str
    salience: float | None = Field(
        default=None, description="the documented salience score, 0 to 1"
    )
    evidence: list[LetterEvidence] = []
    covers: list[str] | None = Field(
        default=None, description="a theme's sentence: the keys of the topics it says together"
    )


class LetterAgreement(_Open):
    """A proposing method's measured agreement with Ofsted beside each baseline's, for one judgement."""

    sentence: str
    beats_every_baseline: bool
    split_date: str
    train_n: int
    test_n: int
    rows: list[dict[str, Any]]


class LetterUnsupported(_Closed):
    topic: str
    seed_ref: str
    reason: str


class LetterSection(_Open):
    """An outcome or judgement area: its grade, its paragraphs, its key strengths and areas for improvement."""

    id: str
    heading: str
    judgement_id: str | None = None
    grade: int | None = None
    label: str | None = None
    sentence: str | None = None
    reason: str | None = None
    paragraphs: list[list[LetterSentence]] = []
    agreement: LetterAgreement | None = None
    strengths: list[LetterSentence] = []
    areas_for_improvement: list[LetterSentence] = []
    unsupported: list[LetterUnsupported] = []


class LetterFocusItem(LetterSentence):
    """An aspect for focus: one of a section's areas for improvement, where it sits in that section's list."""

    section_index: int
    item_index: int


class LetterFocus(_Open):
    """The closing list of aspects for focus in the next assessment (the 2006 letter, 002:L190-198)."""

    heading: str
    seed_ref: str = ""
    items: list[LetterFocusItem] = []


class LetterDocument(_Envelope):
    report: Literal["letter"]
    year: int
    grades: list[dict[str, Any]]
    outcomes: list[LetterSection] = []
    strengths: list[Any] = []
    areas_for_improvement: list[Any] = []
    method_agreement: dict[str, Any] | None = None
    printed_agreement: dict[str, Any] | None = None
    focus: LetterFocus | None = None


ReportDocument = Annotated[
    ApaDocument | QuarterlyDocument | ProfileDocument | LetterDocument,
    Field(discriminator="report"),
]
REPORT_KINDS = ("apa-dataset", "quarterly", "profile", "letter")
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ReportDocument)


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_public(v) for v in value]
    return value


def validate(document: dict[str, Any]) -> Any:
    """The document as its typed class; raises ``pydantic.ValidationError`` naming the field
    that breaks the contract."""
    return _ADAPTER.validate_python(_public(document))


def json_schema() -> str:
    """The JSON Schema of every report kind's document (``docs/report-schema.json``)."""
    schema = _ADAPTER.json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cspa report document"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
