"""Fixtures for the quarterly tests: a private, writable copy of the session's demo database."""

from __future__ import annotations

import warnings

import pytest


@pytest.fixture
def store(demo_store):
    """A writable copy of the demo store (seed 001 targets and narrative loaded)."""
    return demo_store


def open_book(path):
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl notes workbook extensions it does not read
        return openpyxl.load_workbook(path)


def rows_of(ws, header_row: int = 3) -> dict[str, int]:
    """Column header -> 1-based column index."""
    return {c.value: c.column for c in ws[header_row] if c.value}


def find_row(ws, **match) -> int:
    """The 1-based row whose cells equal ``match`` (header -> value)."""
    cols = rows_of(ws)
    for r in range(4, ws.max_row + 1):
        if all(ws.cell(r, cols[h]).value == v for h, v in match.items()):
            return r
    raise AssertionError(f"no row {match} in sheet {ws.title}")


def counts(con) -> dict[str, int]:
    q = (
        "quarterly_target_revision",
        "quarterly_text_revision",
        "quarterly_load",
        "observation",
        "load_log",
    )
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in q}
