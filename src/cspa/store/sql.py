"""SQL text from Python values: the one place that quotes identifiers, strings and numbers.

Every module that writes SQL (the store's loaders, the engine's families, the assessment and
quarterly judgements) quotes through these functions, so a name or a value with a quote in it
(an area called ``King's Lynn``, a file called ``o'brien.csv``) can never end a string early.
Values that a user typed go to DuckDB as parameters where a statement allows them; these are
for the SQL the code composes (constant lists pushed down to scans, column names read from a
file's header).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

__all__ = ["ident", "in_list", "literal", "path_literal", "string"]


def ident(name: str) -> str:
    """A column or table name quoted for SQL (so any spelling, keyword or case survives)."""
    return '"' + str(name).replace('"', '""') + '"'


def string(value: object) -> str:
    """A string literal (``None`` is ``NULL``): ``King's Lynn`` -> ``'King''s Lynn'``."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def literal(value: object, *, double: bool = True) -> str:
    """A Python constant as a SQL literal.

    Numbers are cast to DOUBLE (``double=True``, the engine's arithmetic: no DECIMAL creeps into
    a ratio), or written as they are (``double=False``: an integer stays an integer, for a
    value list whose column type the reader decides); NaN and infinities keep their meaning.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, int | float):
        x = float(value)
        if math.isnan(x):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(x):
            return "CAST('inf' AS DOUBLE)" if x > 0 else "CAST('-inf' AS DOUBLE)"
        if not double:
            return str(value)
        return f"CAST({x!r} AS DOUBLE)"
    return string(value)


def in_list(values: Iterable[object], *, double: bool = False) -> str:
    """``(v1, v2, ...)`` for ``x IN ...``; an empty list is ``(NULL)``, which matches nothing."""
    items = [literal(v, double=double) for v in values]
    return "(" + (", ".join(items) or "NULL") + ")"


def path_literal(path: str | Path) -> str:
    """A file path as a string literal, for ``read_csv``/``COPY ... TO`` (paths are data, not SQL)."""
    return string(str(path))
