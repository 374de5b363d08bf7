"""Words every framework shares (``data/catalogue/vocabulary.yaml``): status symbols and licences.

A status symbol stands in a table where a figure would (``..`` not available, ``-`` suppressed);
its meaning goes in every report's key, and the loader accepts only known symbols. A licence
names the statement every output showing its figures must carry (the Open Government Licence's
"Contains public sector information ..."). Frameworks may give a symbol a meaning of their own
(``Framework.status_symbols``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from cspa.catalogue.areas import DATA
from cspa.catalogue.models import Framework
from cspa.catalogue.neighbours import GROUP_INFO
from cspa.catalogue.yaml_file import read_yaml

__all__ = [
    "SmallNumbers",
    "attribution_for",
    "load_vocabulary",
    "reader_words",
    "small_number_rule",
    "status_legend",
    "status_symbols",
]

VOCABULARY = DATA / "catalogue" / "vocabulary.yaml"


@functools.cache
def load_vocabulary() -> dict[str, dict[str, str]]:
    """The vocabulary file, read once."""
    data = read_yaml(VOCABULARY)
    return {
        k: {str(a): str(b) for a, b in (data.get(k) or {}).items()}
        for k in ("status_symbols", "licences", "seed_documents")
    }


def status_symbols() -> tuple[str, ...]:
    """Every status symbol a figure may carry instead of a value."""
    return tuple(load_vocabulary()["status_symbols"])


def status_legend(framework: Framework | None = None) -> dict[str, str]:
    """Symbol -> meaning for a report's key: the shared meanings, with the framework's own."""
    legend = dict(load_vocabulary()["status_symbols"])
    if framework is not None:
        legend.update(framework.status_symbols)
    return legend


def attribution_for(*licences: str | None) -> list[str]:
    """The statements outputs must carry for figures under these licences (each once, in order)."""
    known = load_vocabulary()["licences"]
    out: list[str] = []
    for licence in licences:
        statement = known.get((licence or "").strip())
        if statement and statement not in out:
            out.append(statement)
    return out


@dataclass(frozen=True)
class SmallNumbers:
    """The small-number rule (vocabulary.yaml ``small_numbers``): counts in [1, below) of these
    units are shown to the public as ``symbol``."""

    below: float
    symbol: str
    units: tuple[str, ...]


@functools.cache
def small_number_rule() -> SmallNumbers:
    data = read_yaml(VOCABULARY).get("small_numbers") or {}
    rule = SmallNumbers(
        float(data.get("below", 0)), str(data.get("symbol", "c")), tuple(data.get("units", ()))
    )
    if rule.symbol not in status_symbols():
        raise ValueError(
            f"{VOCABULARY}: small_numbers.symbol {rule.symbol!r} is not a status symbol"
        )
    return rule


_SEED_REF = re.compile(r"\b(?:seed )?(\d{3}):L(\d+)(?:\s*-\s*(?:L)?(\d+))?")
_SEED_LIST = re.compile(r"\b(\d{3}):L(\d+)((?:,\s*L\d+)+)")
_PATH = re.compile(r"\b(?:src/cspa/)?data/[\w./-]+\.(?:csv|yaml|yml|json|parquet)\b")
#: a neighbour group's id as the engine's bases name it ("mean of 10 of 10 dfe_2025 neighbours")
_GROUP_ID = re.compile(r"\b(dfe_\d{4}) neighbours\b")


@functools.lru_cache(maxsize=65536)
def reader_words(text: str) -> str:
    """A transcription note worded for a reader: seed references ("000:L4035", "001:L42-44")
    become the document and its lines, a neighbour group's id its model ("dfe_2025 neighbours":
    "neighbours (DfE May 2025)"), and a file path in cspa's data folder "cspa's data"."""
    docs = load_vocabulary()["seed_documents"]

    def lines(m: re.Match) -> str:
        first, last = m.group(2), m.group(3)
        where = f"lines {first}-{last}" if last else f"line {first}"
        return f"{where} of {docs.get(m.group(1), 'seed document ' + m.group(1))}"

    def listed(m: re.Match) -> str:
        more = re.findall(r"\d+", m.group(3))
        return f"lines {', '.join([m.group(2), *more])} of {docs.get(m.group(1), m.group(1))}"

    def group(m: re.Match) -> str:
        info = GROUP_INFO.get(m.group(1))
        if info is None:
            return m.group(0)
        return f"neighbours ({info.source.replace(' statistical neighbour model,', '')})"

    text = _SEED_LIST.sub(listed, text)
    text = _SEED_REF.sub(lines, text)
    text = _GROUP_ID.sub(group, text)
    return _PATH.sub("cspa's data", text)
