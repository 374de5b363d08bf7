"""The judgement columns of a report document's tables, for the renderers' legends and Excel's columns.

An APA document's table names the judgements it shows in columns of their own beside each figure
(``table["_judgement_columns"]``: ``key``, ``label``, ``meaning``; see docs/report-spec.md). A
renderer that needs them for the whole document (a legend, a workbook's column guide) takes them
from here: every table's, once each, in the tables' own order.
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

__all__ = ["judgement_columns"]


def judgement_columns(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every judgement column any indicator table of ``doc`` has, once, in the order the tables give them."""
    order: TopologicalSorter = TopologicalSorter()
    found: dict[str, dict[str, Any]] = {}
    for ind in doc.get("indicators") or []:
        columns = (ind.get("table") or {}).get("_judgement_columns") or []
        for i, jc in enumerate(columns):
            found.setdefault(jc["key"], jc)
            order.add(jc["key"], *(c["key"] for c in columns[:i]))
    return [found[k] for k in order.static_order()]
