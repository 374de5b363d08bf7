"""The judgement columns of a report document's tables, for the renderers' legends and Excel's columns.

An APA document's table names the judgements it shows in columns of their own beside each figure
(``table["_judgement_columns"]``: ``key``, ``label``, ``meaning``; see docs/report-spec.md). A
renderer that needs them for the whole document (a legend, a workbook's column guide) takes them
from here: every table's, once each, in the one order every table follows.
"""

from __future__ import annotations

from typing import Any

__all__ = ["JUDGEMENT_COLUMNS", "JUDGEMENT_MEANINGS", "judgement_columns"]

#: The judgements a table shows in columns of their own beside each figure, in this order, with their
#: column headings (the light and the band stay in the figure's cell, as word, shape and blobs).
JUDGEMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "Rank"),
    ("quartile", "Quartile band"),
    ("quartile_position", "Quartile position"),
    ("progress", "Progress"),
    ("trend", "Trend"),
    ("recent_trend", "Recent trend"),
    ("significance", "Significance"),
)

#: What each judgement column means, for the report's legend.
JUDGEMENT_MEANINGS = {
    "rank": "The authority's rank among every authority with a figure: 1 is the best under the indicator's polarity "
    "(ties share the best rank, marked '=': \"=12 of 152\" is a place shared with other authorities).",
    "quartile": "The quarter of authorities the figure falls in, as LAIT shows it: A is the best quarter, D the worst.",
    "quartile_position": "The figure's place against the published England quartiles, as the source prints it.",
    "progress": "The figure against the same area's figure for the previous period: improved, same or worsened "
    "under the indicator's polarity.",
    "trend": "The direction of the series over recent periods, as the source or the trend test states it.",
    "recent_trend": "Fingertips' test for a trend in the last five annual points (chi-squared at 99.8%): "
    "increasing, decreasing or no significant change, and whether that is getting better or worse.",
    "significance": "Whether the figure is significantly higher or lower than its comparator (England unless "
    "the indicator names another), judged by cspa from the figure's numerator and denominator; a flag the "
    "source printed that differs is shown beside it.",
}


def judgement_columns(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every judgement column any indicator table of ``doc`` has, once, in :data:`JUDGEMENT_COLUMNS` order
    (each table's columns follow that order too)."""
    found: dict[str, dict[str, Any]] = {}
    for ind in doc.get("indicators") or []:
        for jc in (ind.get("table") or {}).get("_judgement_columns") or []:
            found.setdefault(jc["key"], jc)
    return [found[k] for k, _label in JUDGEMENT_COLUMNS if k in found]
