"""Text in Excel workbooks, character for character.

A workbook stores a character XML cannot hold (a control character, U+FFFE) as ``_xHHHH_``, and a
literal ``_xHHHH_`` in the text as ``_x005F_xHHHH_`` (ECMA-376 Part 1, 22.9.2.19 ST_Xstring);
XlsxWriter writes both so. openpyxl reads the first back unchanged (``_x0001_``) and removes
every ``x005F_`` from the second, so a round trip through it changes the text. :func:`open_workbook`
reads a workbook with openpyxl but decodes its shared strings as the standard (and Excel) does.
"""

from __future__ import annotations

import re
from pathlib import Path

_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def utf16_len(text: str) -> int:
    """Length as Excel counts it (UTF-16 units: a character outside the BMP counts twice)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def decode(raw: str) -> str:
    """The text a stored string means: each ``_xHHHH_`` is the character HHHH (one pass, so
    ``_x005F_x0041_`` is the literal ``_x0041_``)."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), raw) if "_x" in raw else raw


def _read_string_table(xml_source) -> list[str]:
    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    tag = f"{{{SHEET_MAIN_NS}}}si"
    strings = []
    for _, node in iterparse(xml_source):
        if node.tag == tag:
            strings.append(decode(Text.from_tree(node).content))
            node.clear()
    return strings


def open_workbook(path: Path | str, read_only: bool = False):
    """An openpyxl workbook whose strings are decoded as Excel decodes them; formulas are read as
    formulas (``data_only=False``), never as a cached or missing result."""
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    class _Reader(ExcelReader):
        def read_strings(self) -> None:
            ct = self.package.find(SHARED_STRINGS)
            if ct is not None:
                with self.archive.open(ct.PartName[1:]) as src:
                    self.shared_strings = _read_string_table(src)

    reader = _Reader(str(path), read_only=read_only, data_only=False)
    reader.read()
    return reader.wb
