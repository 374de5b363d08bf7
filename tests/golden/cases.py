"""Read the golden cases (every figure the seeds print) from ``src/cspa/data/golden``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

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
                    )
                )
    return out
