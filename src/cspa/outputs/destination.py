"""Where a report goes: a file or folder the user named, checked and guarded in one place.

A folder given where a file is meant, a read-only place or a full disk is reported naming the
option the user typed (``--output``) and the path, never as "Unexpected error: OSError"; a file
left half-written by the failure is removed.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cspa.errors import CspaError

_WHY = {
    errno.ENOSPC: "the device is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "cspa may not write there",
    errno.EPERM: "cspa may not write there",
    errno.EROFS: "it is on a read-only file system",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "a file is in the way of a folder the path names",
    errno.ENAMETOOLONG: "the name is too long",
}


class OutputError(CspaError):
    """A report could not be written where the user asked."""


def _reason(e: BaseException) -> str:
    cause = e.__cause__ or e.__context__
    if not isinstance(e, OSError) and isinstance(cause, OSError):
        e = cause  # XlsxWriter's FileCreateError wraps the OSError that says why
    if isinstance(e, OSError):
        why = _WHY.get(e.errno or 0) or e.strerror or str(e)
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        return f"{why}{where}"
    return str(e)


def _write_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:  # XlsxWriter wraps the OSError of a file it cannot create
        from xlsxwriter.exceptions import FileCreateError

        errors.append(FileCreateError)
    except ImportError:  # pragma: no cover - xlsxwriter is a dependency
        pass
    return tuple(errors)


@contextmanager
def output_file(
    path: Path | str, option: str = "--output", *, folder_ok: bool = False
) -> Iterator[Path]:
    """Guard writing one file: ``with output_file(out) as p: render(doc, fmt, p)``. With
    ``folder_ok`` a folder is a place to write into (the renderer names the file)."""
    p = Path(path)
    if p.is_dir() and not folder_ok:
        raise OutputError(
            f"{option} {p} is a folder: give a file name (for example {p / ('report' + (p.suffix or '.html'))})"
        )
    existed = p.exists()
    try:
        if not folder_ok:
            p.parent.mkdir(parents=True, exist_ok=True)
        yield p
    except _write_errors() as e:
        if not existed and p.is_file():
            with suppress(OSError):
                p.unlink()  # no half-written report left behind
        raise OutputError(f"{option} {p}: could not write the file: {_reason(e)}") from e


@contextmanager
def output_folder(path: Path | str, option: str = "--output") -> Iterator[Path]:
    """Guard writing into a folder (``--all-areas``, ``cspa demo``)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{option} {p} is a file: give a folder for the reports")
    try:
        p.mkdir(parents=True, exist_ok=True)
        yield p
    except _write_errors() as e:
        raise OutputError(f"{option} {p}: could not write into the folder: {_reason(e)}") from e
