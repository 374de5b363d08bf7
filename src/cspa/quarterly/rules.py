"""The quarterly report's rules as validated data (``src/cspa/data/quarterly/rules.yaml``).

RAG tolerances, the progress rule and glyphs, the SPC minimum and the baskets of indicators
live in that file, not in code. :func:`rules_table` turns the per-indicator settings into a
DuckDB relation so the RAG and progress SQL can join them for every indicator at once.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cspa.catalogue.load import load_catalogue
from cspa.catalogue.periods import Period
from cspa.catalogue.yaml_file import read_yaml
from cspa.errors import CspaError

RULES = Path(__file__).resolve().parents[1] / "data" / "quarterly" / "rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tolerance(_Strict):
    type: Literal["absolute", "relative"]
    value: float = Field(ge=0)


class RagRules(_Strict):
    target_types: list[str]
    meanings: dict[Literal["green", "amber", "red"], str]
    key_labels: dict[Literal["green", "amber", "red"], str]
    tolerance_by_unit: dict[str, Tolerance]


class ProgressRules(_Strict):
    rule: Literal["previous_column"]
    glyphs: dict[Literal["improved", "same", "worsened"], str]
    words: dict[Literal["improved", "same", "worsened"], str]
    meanings: dict[Literal["improved", "same", "worsened"], str]


class SpcRules(_Strict):
    min_points: int = Field(ge=2)


Columns = Literal["quarterly", "annual", "as_recorded"]


class Basket(_Strict):
    id: str
    title: str
    framework: str
    first_year: int
    last_year: int
    previous_years: int = Field(ge=0)
    columns: Columns
    sections_from: Literal["section", "topic"]
    indicators: list[str]


class IndicatorRules(_Strict):
    item: int | None = None
    tolerance: Tolerance | None = None
    columns: Columns | None = None
    show_progress: bool = True
    commentary_measures: list[str] = Field(default_factory=list)
    key_financial_driver: bool = False
    year_to_date: bool = False


class Rules(_Strict):
    rag: RagRules
    progress: ProgressRules
    spc: SpcRules
    baskets: list[Basket]
    indicators: dict[str, IndicatorRules] = Field(default_factory=dict)

    def basket_for(self, period: Period, basket_id: str | None = None) -> Basket:
        """The basket whose financial years cover the report period (or the one named)."""
        if basket_id:
            for b in self.baskets:
                if b.id == basket_id:
                    return b
            raise CspaError(
                f"no quarterly basket {basket_id!r}; baskets: {', '.join(b.id for b in self.baskets)}"
            )
        for b in self.baskets:
            if b.first_year <= period.first_year <= b.last_year:
                return b
        raise CspaError(f"no quarterly basket covers {period.label}; see {RULES}")

    def for_indicator(self, code: str) -> IndicatorRules:
        return self.indicators.get(code) or IndicatorRules()

    def tolerance(self, code: str, unit: str) -> Tolerance:
        own = self.for_indicator(code).tolerance
        return own or self.rag.tolerance_by_unit.get(unit) or self.rag.tolerance_by_unit["default"]


@functools.cache
def load_rules(path: Path = RULES) -> Rules:
    try:
        raw = read_yaml(path)
        rules = Rules.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise CspaError(f"{path}: invalid quarterly rules: {e}") from None
    cat = load_catalogue()
    # codes as the catalogue spells them (a CatalogueError names an unknown one)
    for b in rules.baskets:
        b.indicators = [cat.get(code).code for code in b.indicators]
    rules.indicators = {cat.get(code).code: r for code, r in rules.indicators.items()}
    return rules


def rules_table(
    con: duckdb.DuckDBPyConnection,
    codes: list[str],
    rules: Rules | None = None,
    name: str = "_cspa_q_rules",
) -> str:
    """Register one row per indicator measure (tolerance type/value, show_progress, commentary flag)."""
    rules = rules or load_rules()
    cat = load_catalogue()
    rows: dict[str, list] = {
        k: []
        for k in (
            "indicator",
            "measure",
            "tol_type",
            "tol_value",
            "show_progress",
            "commentary",
            "judged",
            "item",
        )
    }
    for code in codes:
        ind = cat.get(code)
        r = rules.for_indicator(ind.code)
        judged = judged_measures(ind.measure_ids(), r.commentary_measures)
        for mid in ind.measure_ids():
            m = ind.resolved(mid)
            tol = rules.tolerance(ind.code, m.unit.value)
            rows["indicator"].append(ind.code)
            rows["measure"].append(mid)
            rows["tol_type"].append(tol.type)
            rows["tol_value"].append(tol.value)
            rows["show_progress"].append(r.show_progress)
            rows["commentary"].append(mid in r.commentary_measures)
            rows["judged"].append(mid in judged)
            rows["item"].append(r.item)
    con.register(
        name,
        pa.table(
            rows,
            schema=pa.schema(
                [
                    ("indicator", pa.string()),
                    ("measure", pa.string()),
                    ("tol_type", pa.string()),
                    ("tol_value", pa.float64()),
                    ("show_progress", pa.bool_()),
                    ("commentary", pa.bool_()),
                    ("judged", pa.bool_()),
                    ("item", pa.int64()),
                ]
            ),
        ),
    )
    return name


def target_measure(indicator_measures: list[str], measure: str) -> str | None:
    """The catalogue's companion measure that carries a measure's printed target display.

    docs/seed-formats-001-004.md 1.1: ``target`` is the companion of ``actual``; a measure ``M``
    with its own target row has ``M_target``. None when the catalogue has no companion (then the
    target is shown with the measure's own display).
    """
    companion = "target" if measure == "actual" else f"{measure}_target"
    return companion if companion in indicator_measures else None


def is_target_companion(indicator_measures: list[str], measure: str) -> bool:
    return measure == "target" or (
        measure.endswith("_target") and measure[: -len("_target")] in indicator_measures
    )


def judged_measures(indicator_measures: list[str], commentary: list[str]) -> list[str]:
    """Measures that get a target, progress and RAG: the headline (``actual`` or the single
    ``value``) and every measure with its own target companion; not commentary figures."""
    out = []
    for m in indicator_measures:
        if m in commentary or is_target_companion(indicator_measures, m):
            continue
        if m in ("actual", "value") or target_measure(indicator_measures, m):
            out.append(m)
    return out
