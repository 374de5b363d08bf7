"""User text shown safely: in the terminal never read as markup, in a CSV never run as a formula.

Everything a user typed or named (file names, vintages, commentary, moderation reasons, area
queries) reaches the terminal through rich, which reads ``[bold]`` or ``[link=...]`` as markup and
``:smile:`` as an emoji code, and would pass control characters (an escape sequence can rewrite the
terminal) and right-to-left overrides (which reorder what is shown) straight through.
:class:`SafeConsole` is a rich console that does none of that: no markup, no emoji codes, and
control and bidirectional-formatting characters shown as visible escapes (``\\x1b``, ``\\u202e``).
Styling cspa itself adds is given as :class:`rich.text.Text` spans, never as markup strings.

A spreadsheet opening a CSV runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula: ``=HYPERLINK(...)`` becomes a link, ``@SUM(...)`` a
calculation. :func:`spreadsheet_cell` neutralises such a cell as OWASP's "CSV injection" guidance
recommends, by prefixing a single quote (a plain number such as ``-23.9`` is left as it is), and
:func:`csv_writer` quotes every cell.
"""

from __future__ import annotations

import csv
import json
import re
from typing import IO, Any

from rich.console import Console
from rich.text import Text

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional formatting
# characters (LRM, RLM, ALM, embeddings, overrides, isolates) and line/paragraph separators
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_BIDI = re.compile("[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?%?")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def terminal_text(text: object) -> str:
    """``text`` with every character that could change what the terminal shows made visible."""
    return _UNSAFE.sub(_escape, str(text))


class SafeConsole(Console):
    """A rich console that prints strings as they are (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("highlight", False)
        super().__init__(markup=False, emoji=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(terminal_text(text), **kwargs)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line of text with cspa's own styles: ``styled(("Error:", "bold red"), " ", message)``.
    Every part is shown as it is (user text inside is made safe by :func:`terminal_text`)."""
    return Text.assemble(
        *[(terminal_text(p[0]), p[1]) if isinstance(p, tuple) else terminal_text(p) for p in parts]
    )


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet will show, never run: text starting like a formula gets a ``'``."""
    if not isinstance(value, str) or not value:
        return value
    if _NUMBER.fullmatch(value):
        return value
    if value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def csv_writer(out: IO[str]):
    """A CSV writer that quotes every cell and neutralises formula-like text (OWASP CSV injection)."""
    w = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")

    class _Writer:
        def writerow(self, row):
            w.writerow([spreadsheet_cell(v) for v in row])

    return _Writer()


def json_text(data: object, **kwargs: Any) -> str:
    """JSON for a terminal or a file: non-ASCII text kept readable, but bidirectional controls
    written as ``\\uXXXX`` escapes (the same data, without reordering what a terminal shows)."""
    kwargs.setdefault("ensure_ascii", False)
    kwargs.setdefault("default", str)
    return _BIDI.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(data, **kwargs))
