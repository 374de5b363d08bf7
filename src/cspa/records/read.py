"""Read a return whatever its files: a CIN census XML, a 903 XML return or 903 CSV extracts."""

from __future__ import annotations

from pathlib import Path

from cspa.errors import LoadError, Problem
from cspa.records.cin import read_cin
from cspa.records.returns import RecordReturn
from cspa.records.ssda903 import expand, read_903


def return_kind(paths: list[Path]) -> str:
    """``cin`` for a children in need census XML (root <Message>), else ``ssda903``."""
    files = expand(paths)
    for p in files:
        if p.suffix.lower() == ".xml":
            with p.open("rb") as f:
                head = f.read(2048)
            if b"<Message" in head:
                return "cin"
    return "ssda903"


def read_return(paths: list[Path], la: str | None = None, year: int | None = None) -> RecordReturn:
    paths = [Path(p) for p in paths]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise LoadError([Problem(p.name, None, None, f"file not found ({p})") for p in missing])
    if return_kind(paths) == "cin":
        files = expand(paths)
        if len(files) != 1:
            raise LoadError(
                [
                    Problem(
                        files[0].name,
                        None,
                        None,
                        "a CIN census return is one XML file; give one at a time",
                    )
                ]
            )
        return read_cin(files[0], la=la, year=year)
    return read_903(paths, la=la, year=year)
