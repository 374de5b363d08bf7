"""What a caller asks the engine to judge: a typed selection, never SQL text.

A :class:`Selection` names frameworks, indicators, areas and periods as values. The engine
turns it into its own SQL (quoted by :mod:`cspa.store.sql`), so no caller knows the engine's
table aliases or can pass it a fragment that breaks it.

Two kinds of narrowing behave differently, because judgements compare authorities:

* what is *judged* (``frameworks``, ``indicators``, ``exclude_frameworks``, ``periods``,
  ``up_to``): only these observations go in (a period list judges those periods alone: no
  progress on a period left out). ``up_to`` is "as at a date": figures for periods ending after it
  are not known yet, so ranks, neighbour averages, progress and trends use none of them;
* what is *returned* (``areas``): every authority is still judged (a rank or a neighbour
  median needs them all), and the result keeps the rows of these areas, of their
  statistical-neighbour figures, of comparator rows judged for them, and of every non-LA
  geography (England, regions).

``neighbour_group`` is a caller's choice of neighbour group for the measures whose catalogue
entry names none (an assessment rule set's group); by default those take their framework's
``default_neighbour_group`` from the catalogue.

``released_by`` is "as published on a date": only figures from loads released on or before it are
read, the latest release of each figure winning (a dated document, such as the 2008 APA dataset,
never mixes in a later release's figures or revisions; they stay in the store as history).
A load without a release date is not read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from cspa.store.sql import in_list, literal

__all__ = ["Selection"]


def _tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        return (values,)
    return tuple(dict.fromkeys(str(v) for v in values))


@dataclass(frozen=True)
class Selection:
    """Frameworks, indicators, areas and periods for the engine, as values.

    Empty tuples mean "no narrowing" (every framework, every area); ``indicators`` is None for
    every indicator, and an empty tuple for none (a list of codes that came out empty selects
    nothing, never everything).
    """

    frameworks: tuple[str, ...] = ()
    indicators: tuple[str, ...] | None = None
    exclude_frameworks: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    up_to: dt.date | None = None
    neighbour_group: str | None = None
    released_by: dt.date | None = None

    def __post_init__(self) -> None:
        # accept any iterable (or one string) for the tuple fields, and keep them hashable
        for name in ("frameworks", "exclude_frameworks", "areas", "periods"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        if self.indicators is not None:
            object.__setattr__(self, "indicators", _tuple(self.indicators))
        for name in ("up_to", "released_by"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dt.date):
                raise TypeError(f"{name} must be a date, not {type(value).__name__}")

    # ------------------------------------------------------------------ constructors

    @classmethod
    def everything(cls) -> Selection:
        """Every indicator of every framework."""
        return cls()

    @classmethod
    def framework(cls, framework: str, **kw: object) -> Selection:
        """Every indicator of one framework (``Selection.framework("lait")``)."""
        return cls(frameworks=(framework,), **kw)  # type: ignore[arg-type]

    @classmethod
    def document(cls, framework: str, **kw: object) -> Selection:
        """What a framework's documents show: every indicator of the framework, as released by the
        framework's ``as_at`` date if it has one (the 2008 APA dataset shows the figures published
        by September 2008, never a later release's; catalogue ``Framework.as_at``)."""
        from cspa.catalogue.load import load_catalogue

        fw = load_catalogue().frameworks.get(framework)
        released = fw.as_at if fw is not None else None
        return cls(frameworks=(framework,), released_by=released, **kw)  # type: ignore[arg-type]

    @classmethod
    def of(cls, *indicators: str, **kw: object) -> Selection:
        """These indicators (``Selection.of("1003HC", "1015HC")``)."""
        return cls(indicators=indicators, **kw)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ engine side

    def observation_filter(self, alias: str = "o") -> str:
        """SQL over an observation row (alias ``alias``): the engine's own use, never a caller's."""
        conds = [self.indicator_filter(alias)]
        if self.periods:
            conds.append(f"{alias}.period IN {in_list(self.periods)}")
        if self.up_to is not None:
            conds.append(f"{alias}.period_end <= {literal(self.up_to.isoformat())}::DATE")
        return " AND ".join(c for c in conds if c != "TRUE") or "TRUE"

    def indicator_filter(self, alias: str = "o") -> str:
        """SQL over any row with an ``indicator`` column (alias ``alias``): the indicators and
        frameworks this selection names, without its periods."""
        conds = []
        if self.indicators is not None:
            conds.append(f"{alias}.indicator IN {in_list(self.indicators)}")
        if self.frameworks:
            conds.append(
                f"{alias}.indicator IN (SELECT code FROM indicator WHERE framework IN "
                f"{in_list(self.frameworks)})"
            )
        if self.exclude_frameworks:
            conds.append(
                f"{alias}.indicator NOT IN (SELECT code FROM indicator WHERE framework IN "
                f"{in_list(self.exclude_frameworks)})"
            )
        return " AND ".join(conds) or "TRUE"

    def area_filter(self, alias: str = "j") -> str:
        """SQL keeping the result rows :attr:`areas` asks for (see the module docstring)."""
        if not self.areas:
            return "TRUE"
        codes = in_list(self.areas)
        return (
            f"({alias}.area IN {codes} OR {alias}.for_area IN {codes} "
            f"OR regexp_extract({alias}.area, '^SN:[^:]+:(.+)$', 1) IN {codes} "
            f"OR {alias}.area_type NOT IN ('la', 'sn_group'))"
        )
