"""Typed models of the indicator catalogue.

An indicator definition is data: one YAML file per indicator under
``src/cspa/data/catalogue/<framework>/``. These models are the schema the loader
checks every file against; an invalid file is rejected with its path and the
field at fault (see :mod:`cspa.catalogue.load`).

The vocabulary follows the seed documents (PAF bands, blobs, traffic lights,
quartile position) and, where the seeds are silent, the FingertipsNext enums
(polarity, comparison outcome) named in ``shared/reference/methods.md``.
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    """Base for catalogue models: unknown keys are errors, so a typo in a YAML file is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(str, Enum):
    """The five Every Child Matters outcomes, service management and the appendices (seed 000 contents)."""

    being_healthy = "being_healthy"
    staying_safe = "staying_safe"
    enjoying_and_achieving = "enjoying_and_achieving"
    making_a_positive_contribution = "making_a_positive_contribution"
    achieving_economic_wellbeing = "achieving_economic_wellbeing"
    service_management = "service_management"
    appendices = "appendices"


OUTCOME_TITLES = {
    Outcome.being_healthy: "Being healthy",
    Outcome.staying_safe: "Staying safe",
    Outcome.enjoying_and_achieving: "Enjoying and achieving",
    Outcome.making_a_positive_contribution: "Making a positive contribution",
    Outcome.achieving_economic_wellbeing: "Achieving economic well-being",
    Outcome.service_management: "Service management",
    Outcome.appendices: "Appendices",
}


class Polarity(str, Enum):
    """Which direction is better. ``middle`` is the seed's symmetric 9-band case (000:L2775)."""

    high = "high"
    low = "low"
    none = "none"
    middle = "middle"


class Unit(str, Enum):
    percent = "percent"
    rate_per_1000 = "rate_per_1000"
    rate_per_10000 = "rate_per_10000"
    rate_per_100000 = "rate_per_100000"
    count = "count"  # type: ignore[assignment]  # the unit's name, shadowing str.count on purpose
    ratio = "ratio"
    standardised_ratio = "standardised_ratio"
    score = "score"
    points = "points"
    percentage_points = "percentage_points"
    currency_gbp = "currency_gbp"
    days = "days"
    weeks = "weeks"
    category = "category"
    text = "text"


class YearType(str, Enum):
    """How a bare year label such as ``2007`` is read (the seed prints both academic and calendar years so)."""

    financial = "financial"
    academic = "academic"
    calendar = "calendar"
    multi_year = "multi_year"
    snapshot = "snapshot"
    quarter = "quarter"


class GeographyLevel(str, Enum):
    la = "la"
    pct = "pct"
    trust = "trust"
    dat = "dat"
    yot = "yot"
    connexions = "connexions"
    lsc = "lsc"
    district = "district"
    region = "region"
    school = "school"
    provider = "provider"
    country = "country"


class Comparator(str, Enum):
    statistical_neighbours = "statistical_neighbours"
    england = "england"
    region = "region"
    benchmark_group = "benchmark_group"
    great_britain = "great_britain"
    other = "other"


class AggregateMethod(str, Enum):
    """How a group figure (statistical neighbours, England) is formed.

    ``median``: median of the members' values (seed 000:L3956, L4073 for SN).
    ``mean``: simple mean of the members' values (LAIT SN average).
    ``pooled``: sum of numerators over sum of denominators (seed 000:L3956 for national).
    ``published``: only the publisher's figure exists; it is shown and marked published.
    """

    median = "median"
    mean = "mean"
    pooled = "pooled"
    published = "published"


class FormulaType(str, Enum):
    """How the value is formed from its inputs.

    ``input``: the value is given (no numerator/denominator printed).
    ``percentage``: numerator / denominator x 100.
    ``rate``: numerator / denominator x multiplier (per 1,000, 10,000 ...).
    ``ratio``: numerator / denominator (x multiplier, default 1).
    ``standardised_ratio``: observed / expected x 100 (seed 1029HC, 000:L413).
    ``percent_change``: (value - base) / base x 100, base = the value in ``base_period``.
    ``change``: value - value of the previous period (year-on-year change columns).
    ``difference``: value - comparator value (e.g. DAT - region difference, 000:L669).
    ``mean_of_percentages``: mean of several numerators over one denominator (1037SC, 000:L800).
    ``sum``: the sum of the listed measures.
    """

    input = "input"
    percentage = "percentage"
    rate = "rate"
    ratio = "ratio"
    standardised_ratio = "standardised_ratio"
    percent_change = "percent_change"
    change = "change"
    difference = "difference"
    mean_of_percentages = "mean_of_percentages"
    sum = "sum"


class Formula(Strict):
    type: FormulaType = FormulaType.input
    multiplier: float | None = None
    base_period: str | None = None
    of_measure: str | None = Field(
        default=None,
        description="for change/percent_change/difference: the measure the formula applies to",
    )
    comparator: Comparator | None = None
    comparator_area: str | None = Field(
        default=None,
        description="the comparator's area code when the type alone does not pick it (e.g. K04000001)",
    )
    measures: list[str] = Field(default_factory=list, description="for sum / mean_of_percentages")

    @model_validator(mode="after")
    def _params(self) -> Formula:
        if self.type is FormulaType.rate and self.multiplier is None:
            raise ValueError("a rate needs a multiplier (e.g. 1000 or 10000)")
        if (
            self.type is FormulaType.percent_change
            and self.base_period is None
            and self.of_measure is None
        ):
            raise ValueError("percent_change needs base_period (e.g. '1998') or of_measure")
        if self.type is FormulaType.difference and self.comparator is None:
            raise ValueError("difference needs a comparator")
        return self


class Display(Strict):
    """How the seed prints the figure: decimals, %, thousands separators, a + sign, £."""

    decimals: int = Field(default=0, ge=0, le=6)
    percent_sign: bool = False
    thousands: bool = False
    plus_sign: bool = False
    prefix: str = ""
    suffix: str = ""


_NUMBER = r"[£]?-?(?:\d[\d,]*(?:\.\d+)?|\.\d+)%?"
_CUTOFF = re.compile(
    r"^\s*(?:"
    r"\.|\.\.|n/a|"  # printed as empty
    rf"(?P<lo>{_NUMBER})\s*(?P<op><=|<)\s*(?P<hi>{_NUMBER})|"
    rf"(?P<plus>{_NUMBER})\s*\+|"
    rf">=\s*(?P<ge>{_NUMBER})|"
    r"(?P<list>\d+(?:\s*,\s*\d+)+)|"
    r"(?P<single>-?\d+(?:\.\d+)?)"
    r")\s*$"
)


def parse_cutoff(text: str) -> tuple[float | None, float | None, bool] | None:
    """Parse one printed band interval (seed grammar, methods.md section 9).

    ``a<b`` is a <= v < b; ``a<=b`` is a <= v <= b (the top interval); ``n+`` and ``>=n`` are v >= n;
    ``4,5`` (a list of whole values, 000:L511) is min <= v <= max; a single number is v == n.
    Returns (low, high, high_inclusive) or None for an empty printed cell (``.``).
    """

    m = _CUTOFF.match(text)
    if not m:
        raise ValueError(
            f"cannot read band cut-off {text!r} (expected forms like '0<45', '80<=100', '3+', '4,5')"
        )

    def num(s: str) -> float:
        return float(s.replace("£", "").replace(",", "").replace("%", ""))

    if m.group("op"):
        return num(m.group("lo")), num(m.group("hi")), m.group("op") == "<="
    if m.group("plus") or m.group("ge"):
        return num(m.group("plus") or m.group("ge")), None, True
    if m.group("list"):
        vals = [float(x) for x in m.group("list").split(",")]
        return min(vals), max(vals), True
    if m.group("single"):
        v = float(m.group("single"))
        return v, v, True
    return None


class BandSet(Strict):
    """PAF cut-off bands for a range of periods, as printed under "Bands" (e.g. 000:L1393-1397).

    ``cutoffs`` are the printed intervals, low to high; ``blobs`` the number of blobs (1-5)
    printed for each, so a 9-band symmetric row reads 1,2,3,4,5,4,3,2,1 (000:L2775-2777).
    A ``.`` in ``cutoffs`` is a band printed empty. ``group`` restricts the row to a named
    group of authorities (group-specific cut-offs).
    """

    periods: str = Field(description="the period range as printed, e.g. '2006-08' or '2004-05'")
    cutoffs: list[str]
    blobs: list[int]
    group: str | None = None
    seed_line: int | None = None

    @field_validator("cutoffs")
    @classmethod
    def _cutoffs_parse(cls, v: list[str]) -> list[str]:
        for c in v:
            parse_cutoff(c)
        return v

    @model_validator(mode="after")
    def _aligned(self) -> BandSet:
        if len(self.cutoffs) != len(self.blobs):
            raise ValueError(f"{len(self.cutoffs)} cut-offs but {len(self.blobs)} blob counts")
        if any(b < 0 or b > 5 for b in self.blobs):
            raise ValueError("blob counts run 0-5")
        return self


class LightNone(Strict):
    rule: Literal["none"] = "none"
    reason: str = "Traffic lights have not been applied to this indicator"


Colour = Literal["red", "amber", "green"]


def _paf_colours() -> dict[int, Colour]:
    return {1: "red", 2: "amber", 3: "amber", 4: "green", 5: "green"}


class LightPafBand(Strict):
    """Colour from the PAF band's blobs (000:L45: shading on LA, SN and England)."""

    rule: Literal["paf_band"]
    colours: dict[int, Colour] = Field(default_factory=_paf_colours)


class LightComparatorShading(Strict):
    """Attainment: SN/England figures shaded by how the LA compares (000:L45)."""

    rule: Literal["comparator_shading"]
    comparators: list[Comparator] = Field(
        default_factory=lambda: [Comparator.statistical_neighbours, Comparator.england]
    )
    tolerance: float = 0.0


class ThresholdPeriod(Strict):
    periods: str
    green_above: float | None = None
    red_below: float | None = None
    green_below: float | None = None
    red_above: float | None = None
    seed_line: int | None = None


class LightFixedThresholds(Strict):
    """Fixed cut-offs that vary by year (1040NT, 000:L711-741)."""

    rule: Literal["fixed_thresholds"]
    by_period: list[ThresholdPeriod]


class LightPointsTolerance(Strict):
    """Within +/- N points of a comparator is amber (CAMHS, 000:L482-484)."""

    rule: Literal["points_tolerance"]
    comparator: Comparator = Comparator.england
    points: float
    green_at_value: float | None = Field(
        default=None, description="a value that is green whatever the comparator (100% at 26 weeks)"
    )


class LightVsNeighbours(Strict):
    """Above/below the SN figure under polarity; equal to SN is not red."""

    rule: Literal["vs_statistical_neighbours"]
    equal_is: Literal["green", "amber"] = "amber"


class LightPublishedSignificance(Strict):
    """Pass the published significance flag through (Healthcare Commission indicators, 000:L235-237)."""

    rule: Literal["published_significance"]
    vs: Comparator = Comparator.england
    method: str = "Spiegelhalter additive over-dispersion, 95%"


TrafficLightRule = Annotated[
    LightNone
    | LightPafBand
    | LightComparatorShading
    | LightFixedThresholds
    | LightPointsTolerance
    | LightVsNeighbours
    | LightPublishedSignificance,
    Field(discriminator="rule"),
]


SignificanceComparator = Literal["england", "statistical_neighbours", "benchmark_group", "region"]


def _england_only() -> list[SignificanceComparator]:
    return ["england"]


class SignificanceRule(Strict):
    """How the engine judges a figure significantly higher or lower than a comparator, from its
    numerator and denominator (or count and population).

    ``method`` names the figure's confidence interval: ``wilson`` (a proportion: Wilson score,
    PHEindicatormethods ``phe_proportion``) or ``poisson`` (a count over a denominator: a rate, or
    observed over expected for a standardised ratio; exact below 10 events, Byar's from 10,
    ``phe_rate`` / ``calculate_ISRatio``). The comparator's figure for the same period is the
    benchmark: ``similar`` when it lies inside the figure's interval at the first ``confidence``
    level, else ``higher`` or ``lower`` (Fingertips comparator method 1; with a second level, method
    17 records whether the difference holds at that level too). ``vs`` lists the comparators, the
    first being the one a report shows (methods.md 1, 4.3).

    ``overdispersion``: Spiegelhalter's (2005) additive random-effects test instead (the seed's
    Healthcare Commission indicators, 000:L235-237): the between-area variance is estimated from
    every unit of the same kind with a figure for the period, so it is applied only when at least
    :data:`MIN_OVERDISPERSION_UNITS` have one; otherwise the interval comparison is made and the
    basis says why the model was not (methods.md 3).

    The judgement is a direction, not a verdict: polarity turns it into better or worse where a
    report colours it (engine.polarity).
    """

    method: Literal["wilson", "poisson"]
    vs: list[SignificanceComparator] = Field(default_factory=_england_only, min_length=1)
    confidence: list[float] = Field(
        default_factory=lambda: [95.0, 99.8], min_length=1, max_length=2
    )
    overdispersion: bool = False

    @field_validator("vs", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("confidence")
    @classmethod
    def _levels(cls, v: list[float]) -> list[float]:
        for c in v:
            if not (90 <= c <= 100 or 0.9 <= c <= 1):
                raise ValueError(f"confidence level {c} must be between 90 and 100 (or 0.9 and 1)")
        return v


#: Spiegelhalter's between-area variance needs a population of units to be estimated from; with
#: fewer (the seed's dataset holds one PCT's figures) it would describe a handful of areas.
MIN_OVERDISPERSION_UNITS = 20


class SeriesBreak(Strict):
    """A break in a series: the figures from ``period`` on are not comparable with those before
    (a new points scale, a changed definition). No change, progress or trend is computed across
    it (5003OF: the UCAS tariff gave way to the QCA tariff in 2006, 000:L5391)."""

    period: str = Field(description="the first period of the new series, as printed")
    reason: str
    seed_line: int | None = None


class Measure(Strict):
    """One part of an indicator (a row block of its table). Fields left out take the indicator's."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str
    unit: Unit | None = None
    display: Display | None = None
    polarity: Polarity | None = None
    formula: Formula | None = None
    numerator: str | None = None
    denominator: str | None = None
    bands: list[BandSet] | None = None
    traffic_light: TrafficLightRule | None = None
    quartiles: bool | None = None
    ranks: bool | None = None
    trend: Literal["none", "seed_moving_average", "improving"] | None = None
    recent_trend: Literal["none", "fingertips"] | None = None
    significance: SignificanceRule | None = None
    breaks: list[SeriesBreak] | None = None
    geography_level: GeographyLevel | None = None


def file_stem(code: str) -> str:
    """The file name (without .yaml) an indicator's definition lives in: the code, with characters
    that are unsafe in file names on common systems replaced by ``_``."""
    return re.sub(r'[<>:"/\\|?*%&,]', "_", code)


class Indicator(Strict):
    """One indicator definition, transcribed from the seed lines it cites."""

    code: str = Field(pattern=r"^[A-Za-z0-9%][^\x00-\x1f]*$", max_length=60)
    framework: str
    title: str
    short_title: str | None = None
    outcome: Outcome | None = None
    section: str | None = Field(default=None, description="the sub-heading the seed files it under")
    topic: str | None = None
    page: int | None = None
    owner: str | None = None
    source: str | None = None
    unit: Unit
    display: Display = Field(default_factory=Display)
    polarity: Polarity
    formula: Formula = Field(default_factory=Formula)
    numerator: str | None = None
    denominator: str | None = None
    geography_level: GeographyLevel = GeographyLevel.la
    year_type: YearType = YearType.financial
    comparators: list[Comparator] = Field(default_factory=list)
    neighbour_group: str | None = None
    sn_method: AggregateMethod = AggregateMethod.published
    england_method: AggregateMethod = AggregateMethod.published
    bands: list[BandSet] = Field(default_factory=list)
    traffic_light: TrafficLightRule = Field(default_factory=LightNone)
    quartiles: bool = False
    ranks: bool = False
    trend: Literal["none", "seed_moving_average", "improving"] = Field(
        default="none",
        description="the seed's trend class (seed_moving_average, 000:L3083) or the Audit "
        "Commission's 'Improving?' (improving, 000:L4035)",
    )
    recent_trend: Literal["none", "fingertips"] = Field(
        default="none",
        description="fingertips: the chi-squared test for trend on the last five annual points "
        "(needs counts or confidence intervals)",
    )
    significance: SignificanceRule | None = None
    breaks: list[SeriesBreak] = Field(
        default_factory=list, description="breaks in the series: nothing is compared across them"
    )
    measures: list[Measure] = Field(default_factory=list)
    definition: str | None = None
    guidance: str | None = None
    health_warning: str | None = None
    related: list[str] = Field(default_factory=list)
    status_symbols: list[str] = Field(default_factory=list)
    updated_from_previous: bool = False
    updated_from_v1: bool = False
    notes: list[str] = Field(default_factory=list)
    seed_lines: list[int] = Field(default_factory=list)
    source_ref: str | None = Field(
        default=None, description="for generated entries: the source file and row"
    )

    @model_validator(mode="after")
    def _measures_unique(self) -> Indicator:
        ids = [m.id for m in self.measures]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"measure ids repeated: {sorted(dup)}")
        return self

    def measure_ids(self) -> list[str]:
        return [m.id for m in self.measures] or ["value"]

    def resolved(self, measure_id: str | None) -> ResolvedMeasure:
        """The measure with every field filled from the indicator's defaults."""

        m = next((x for x in self.measures if x.id == measure_id), None)
        if m is None:
            if measure_id not in (None, "value") and self.measures:
                raise KeyError(
                    f"{self.code} has no measure {measure_id!r}; it has {self.measure_ids()}"
                )
            return ResolvedMeasure(
                indicator=self.code,
                id="value",
                label=self.title,
                unit=self.unit,
                display=self.display,
                polarity=self.polarity,
                formula=self.formula,
                bands=list(self.bands),
                traffic_light=self.traffic_light,
                quartiles=self.quartiles,
                ranks=self.ranks,
                trend=self.trend,
                recent_trend=self.recent_trend,
                geography_level=self.geography_level,
                numerator=self.numerator,
                denominator=self.denominator,
                significance=self.significance,
                breaks=list(self.breaks),
            )
        return ResolvedMeasure(
            indicator=self.code,
            id=m.id,
            label=m.label,
            unit=m.unit or self.unit,
            display=m.display or self.display,
            polarity=m.polarity or self.polarity,
            formula=m.formula or self.formula,
            bands=list(m.bands if m.bands is not None else self.bands),
            traffic_light=m.traffic_light or self.traffic_light,
            quartiles=self.quartiles if m.quartiles is None else m.quartiles,
            ranks=self.ranks if m.ranks is None else m.ranks,
            trend=m.trend or self.trend,
            recent_trend=m.recent_trend or self.recent_trend,
            geography_level=m.geography_level or self.geography_level,
            numerator=m.numerator or self.numerator,
            denominator=m.denominator or self.denominator,
            significance=m.significance or self.significance,
            breaks=list(m.breaks if m.breaks is not None else self.breaks),
        )


class ResolvedMeasure(Strict):
    indicator: str
    id: str
    label: str
    unit: Unit
    display: Display
    polarity: Polarity
    formula: Formula
    bands: list[BandSet]
    traffic_light: TrafficLightRule
    quartiles: bool
    ranks: bool
    trend: str
    recent_trend: str = "none"
    geography_level: GeographyLevel
    numerator: str | None = None
    denominator: str | None = None
    significance: SignificanceRule | None = None
    breaks: list[SeriesBreak] = Field(default_factory=list)


class Framework(Strict):
    """A set of indicators judged together (APA 2008, LAIT, the quarterly report ...)."""

    id: str
    title: str
    publisher: str | None = None
    vintage: str | None = None
    licence: str | None = None
    default_neighbour_group: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "'default' -> the neighbour group of measures that name none; a year -> the group a "
            "report of that year or later uses (the model in force then, see neighbour_group_for)"
        ),
    )
    quartile_tie: Literal["low_side", "better"] = "low_side"
    paf_colours: dict[int, Literal["red", "amber", "green"]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    source: str | None = None
    # How the framework's benchmarking report (cspa report apa-dataset) presents it
    report_title: str | None = Field(
        default=None, description="the report's title (default: the framework's title)"
    )
    report_years: tuple[int, int] | None = Field(
        default=None,
        description="first and last assessment year whose report uses this framework by default",
    )
    areas_era: Literal["2008", "2025"] | None = Field(
        default=None, description="the authorities a report of every area covers (2007-08 or 2025)"
    )
    period_window: int | None = Field(
        default=None, description="how many of the latest periods a table shows (None: all)"
    )
    only_indicators_with_figures: bool = Field(
        default=False,
        description="leave out indicators with no figure for the authority (a printed document keeps them)",
    )
    status_symbols: dict[str, str] = Field(
        default_factory=dict,
        description="symbols this framework gives a meaning of its own (vocabulary.yaml has the rest)",
    )
    report_sections: Literal["outcome", "topic"] = Field(
        default="outcome",
        description=(
            "how the report groups indicators: by Every Child Matters outcome and the seed's "
            "sections (the 2008 dataset), or by the source's own topics (LAIT's themes)"
        ),
    )
    show_codes: bool = Field(
        default=True,
        description=(
            "whether headings and contents show indicator codes (the 2008 dataset prints its "
            "codes; LAIT's short names are database keys, shown only in each indicator's details)"
        ),
    )
    report_subjects: list[str] = Field(
        default_factory=list,
        description=(
            "authorities (DfE codes) whose published document the framework reproduces: their "
            "reports keep every indicator as printed; other authorities' reports show only the "
            "indicators with figures of their own"
        ),
    )

    as_at: date | None = Field(
        default=None,
        description="a dated document's date: its reports show the figures released by then, never a "
        "later release's (later revisions stay in the store as history)",
    )

    def neighbour_group_for(self, year: int | None) -> str | None:
        """The statistical-neighbour group a report of ``year`` uses: of the groups this framework
        dates in ``default_neighbour_group``, the latest from that year or before; before the first,
        the first (the earliest model cspa holds); with no dated group, the default."""
        dated = sorted((int(k), g) for k, g in self.default_neighbour_group.items() if k.isdigit())
        if year is None or not dated:
            return self.default_neighbour_group.get("default")
        chosen = [g for y, g in dated if y <= year]
        return chosen[-1] if chosen else dated[0][1]
