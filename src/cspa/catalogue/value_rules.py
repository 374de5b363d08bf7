"""What a figure can be: ranges per unit, the known statistics and their scales, the
numerator/denominator rule, and the published exceptions (``data/catalogue/value_rules.yaml``).

The rules are data; :func:`measure_rules` resolves them for every measure of the catalogue into
one row each (least and greatest value, whole or not, numerator above denominator allowed or not),
which the store joins against to check a whole file at once (:mod:`cspa.store.validate`).
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cspa.catalogue.load import CATALOGUE, Catalogue
from cspa.catalogue.models import FormulaType, Unit
from cspa.catalogue.yaml_file import read_yaml
from cspa.errors import CatalogueError

RULES_FILE = CATALOGUE / "value_rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    min: float | None = None
    max: float | None = None
    whole: bool = False

    def describe(self) -> str:
        parts = []
        if self.min is not None and self.max is not None:
            parts.append(f"from {self.min:g} to {self.max:g}")
        elif self.min is not None:
            parts.append(f"{self.min:g} or more")
        elif self.max is not None:
            parts.append(f"{self.max:g} or less")
        if self.whole:
            parts.append("a whole number")
        return " and ".join(parts) or "any number"


class UnitRange(Range):
    unit: Unit
    formula: list[FormulaType] | None = None


class Statistic(_Strict):
    name: str | None = None
    pattern: str | None = None
    scale: Literal["value", "rank", "share", "flag"]

    @model_validator(mode="after")
    def _one(self) -> Statistic:
        if (self.name is None) == (self.pattern is None):
            raise ValueError("give a name or a pattern")
        if self.pattern:
            re.compile(self.pattern)
        return self


class NumDen(_Strict):
    min: float = 0
    not_above_denominator: list[FormulaType] = Field(default_factory=list)


class Exception_(_Strict):
    indicator: str
    measure: str | None = None
    range: Range | None = None
    numerator_above_denominator: bool = False
    why: str


class ValueRules(_Strict):
    unit_ranges: list[UnitRange]
    statistics: list[Statistic]
    numerator_denominator: NumDen
    exceptions: list[Exception_] = Field(default_factory=list)

    def scale(self, statistic: str) -> str | None:
        """The scale of a statistic name, or None when it is not a statistic cspa knows."""
        for s in self.statistics:
            if s.name == statistic or (s.pattern and re.fullmatch(s.pattern, statistic)):
                return s.scale
        return None

    def known_statistics(self) -> str:
        return ", ".join(s.name or f"/{s.pattern}/" for s in self.statistics)


def read_value_rules(path: Path = RULES_FILE) -> ValueRules:
    try:
        return ValueRules.model_validate(read_yaml(path))
    except ValidationError as e:
        errs = "; ".join(
            f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise CatalogueError(f"{path.name}: {errs}") from None
    except yaml.YAMLError as e:
        raise CatalogueError(f"{path.name}: not valid YAML: {e}") from None


@lru_cache(maxsize=1)
def load_value_rules() -> ValueRules:
    return read_value_rules()


def measure_rules(catalogue: Catalogue, rules: ValueRules | None = None) -> list[dict]:
    """One row per (indicator, measure): min, max, whole, num_le_den, and why (an exception's reason).

    (``tests/unit/catalogue/test_value_rules.py`` checks that every exception names a measure of
    the shipped catalogue, so a renamed indicator cannot silently lose its exception.)
    """
    rules = rules or load_value_rules()
    out = []
    for ind in catalogue.indicators.values():
        for mid in ind.measure_ids():
            m = ind.resolved(mid)
            rng: Range = Range()
            for ur in rules.unit_ranges:
                if ur.unit == m.unit and (ur.formula is None or m.formula.type in ur.formula):
                    rng = Range(min=ur.min, max=ur.max, whole=ur.whole)
                    break
            num_le_den = m.formula.type in rules.numerator_denominator.not_above_denominator
            why = None
            for ex in rules.exceptions:
                if ex.indicator == ind.code and (
                    ex.measure is None or fnmatch.fnmatchcase(mid, ex.measure)
                ):
                    if ex.range is not None:
                        rng = ex.range
                    if ex.numerator_above_denominator:
                        num_le_den = False
                    why = ex.why
            out.append(
                {
                    "indicator": ind.code,
                    "measure": mid,
                    "min": rng.min,
                    "max": rng.max,
                    "whole": rng.whole,
                    "num_le_den": num_le_den,
                    "range_text": rng.describe(),
                    "why": why,
                }
            )
    return out
