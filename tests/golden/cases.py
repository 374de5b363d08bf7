"""Read the golden cases (every figure the seeds print) from ``src/cspa/data/golden``.

Every case has a kind, so that the suite can say what its passing cases prove:

* ``display``: a figure stored as an input (as printed) and shown again, formatted: a test of the
  formatting and of the transcription, not of a judgement;
* ``computed``: a value the engine derived (a percentage from its numerator and denominator, a
  change, a sum, a neighbour median or pooled rate recomputed beside the published one);
* ``rule``: a judgement decided by a rule (band, traffic light, quartile position, progress,
  significance, trend).

``tests/golden/kinds.py`` counts the passing cases of each kind at the end of a run; the engine's
golden test checks that a case's kind matches how the engine made the figure it compares.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[2] / "src" / "cspa" / "data" / "golden"


@dataclass(frozen=True)
class Case:
    file: str
    row: int
    seed_line: str
    indicator: str
    measure: str
    area: str
    period: str
    field: str
    expected: str
    xfail: str
    note: str
    statistic: str
    kind: str

    @property
    def id(self) -> str:
        m = "" if self.measure == "value" else f"-{self.measure}"
        return f"L{self.seed_line}-{self.indicator}{m}-{self.area}-{self.period}-{self.field}-r{self.row}"


def read_cases(pattern: str) -> list[Case]:
    out = []
    for path in sorted(GOLDEN.glob(pattern)):
        with path.open(encoding="utf-8", newline="") as f:
            for n, r in enumerate(csv.DictReader(f), start=2):
                note = r.get("note") or ""
                stat = (r.get("statistic") or "").strip()
                first = note.split()[0] if note.split() else ""
                if not stat and first in ("lower_quartile", "median", "upper_quartile"):
                    stat = first
                if not stat and (note.startswith("statistic=") or note.startswith("statistic:")):
                    stat = (
                        note.split(";")[0]
                        .replace(":", "=", 1)
                        .split("=", 1)[1]
                        .strip()
                        .split()[0]
                        .rstrip(",.")
                    )
                out.append(
                    Case(
                        path.name,
                        n,
                        r["seed_line"],
                        r["indicator"].strip(),
                        (r.get("measure") or "").strip() or "value",
                        r["area"].strip(),
                        r["period"].strip(),
                        r["field"].strip(),
                        r["expected"],
                        (r.get("xfail") or "").strip(),
                        note,
                        stat or "value",
                        (r.get("kind") or "").strip(),
                    )
                )
    return out


KINDS = ("display", "computed", "rule")
#: The fields whose expected value a rule decides (the rest are figures, displayed or computed).
RULE_FIELDS = frozenset(
    {
        "band",
        "band_range",
        "traffic_light",
        "quartile_position",
        "quartile",
        "rank",
        "progress",
        "significance",
        "trend",
        "recent_trend",
    }
)


def param(case: Case, seed: str) -> object:
    """The case as a pytest parameter: marked golden and with its kind (``golden_kind``), and a
    strict xfail carrying the transcriber's reason where the case is not reproducible."""
    if case.kind not in KINDS:
        raise ValueError(f"{case.file}:{case.row}: kind {case.kind!r} is not one of {KINDS}")
    marks = [pytest.mark.golden, pytest.mark.golden_kind(case.kind)]
    if case.xfail:
        marks.append(
            pytest.mark.xfail(
                strict=True, reason=f"seed {seed} line {case.seed_line}: {case.xfail}"
            )
        )
    return pytest.param(case, id=case.id, marks=marks)
