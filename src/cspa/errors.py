"""Errors users see. Each says what is wrong in one readable paragraph and where.

The CLI prints ``str(error)`` and exits non-zero; a traceback appears only with
``--debug``. Load errors carry file, row and field so the person fixing the file
can go straight to the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CspaError(Exception):
    """Base class of every error cspa reports to a user."""


def quoted(text: object, limit: int = 80) -> str:
    """What a user wrote, quoted for a message and shortened: a 100 kB cell is named, not printed."""
    s = str(text)
    return repr(s) if len(s) <= limit else repr(s[: limit - 3]) + f"... ({len(s):,} characters)"


def one_line(text: object) -> str:
    """A name or label a user gave, on one line: a line break (or tab) in a file name or a vintage is
    shown as ``\\n`` (``\\t``) so that it cannot start what looks like another line of cspa's output."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


class PeriodError(CspaError, ValueError):
    def __init__(self, text: object, reason: str):
        self.text = text
        self.reason = reason
        super().__init__(f"cannot read period {str(text)!r}: {reason}")


class CatalogueError(CspaError):
    """A catalogue file is invalid (names the file and the field)."""


class AreaNotFound(CspaError):
    def __init__(self, query: str, suggestions: list[str]):
        self.query = query
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"No area matches {quoted(query)}. Give a name (e.g. Luton), a DfE LA number (e.g. 821) "
            f"or an ONS code (e.g. E06000032).{hint}"
        )


@dataclass
class Problem:
    """One problem in an input file: where it is and what is wrong."""

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = one_line(self.file)
        if self.row is not None:
            where += f", row {self.row}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


@dataclass
class LoadError(CspaError):
    """A load was refused; nothing was written. Lists the problems found (file, row, field)."""

    problems: list[Problem] = field(default_factory=list)
    rows_checked: int = 0
    bad_rows: int = 0

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        shown = "\n  ".join(str(p) for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        return (
            f"Load refused, nothing was written: {len(self.problems)} problem(s) in "
            f"{self.bad_rows} of {self.rows_checked} rows.\n  {shown}{more}"
        )


class DatabaseError(CspaError):
    """The database named by --db (or $CSPA_DB) cannot be used: missing, a folder, not a cspa
    database, or busy. Says which file and what to do."""


class SchemaError(DatabaseError):
    """The database was written by a newer cspa, or by an older one and cannot be upgraded here."""


class LockError(DatabaseError):
    """Another process holds the database; names the process and what to do."""
