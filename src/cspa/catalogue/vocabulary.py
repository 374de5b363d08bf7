"""Words every framework shares (``data/catalogue/vocabulary.yaml``): status symbols and licences.

A status symbol stands in a table where a figure would (``..`` not available, ``-`` suppressed);
its meaning goes in every report's key, and the loader accepts only known symbols. A licence
names the statement every output showing its figures must carry (the Open Government Licence's
"Contains public sector information ..."). Frameworks may give a symbol a meaning of their own
(``Framework.status_symbols``).
"""

from __future__ import annotations

import functools

import yaml

from cspa.catalogue.areas import DATA
from cspa.catalogue.models import Framework

__all__ = ["attribution_for", "load_vocabulary", "status_legend", "status_symbols"]

VOCABULARY = DATA / "catalogue" / "vocabulary.yaml"


@functools.cache
def load_vocabulary() -> dict[str, dict[str, str]]:
    """The vocabulary file, read once."""
    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    return {
        k: {str(a): str(b) for a, b in (data.get(k) or {}).items()}
        for k in ("status_symbols", "licences")
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
