"""Run the ``cspa`` command in-process exactly as the console script does (``cspa.cli.main``), so
that the error handling users see (one paragraph, exit 1; "Unexpected error", exit 2) is tested."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def unexpected(self) -> bool:
        return self.code == 2 or "Unexpected error" in self.err or "Traceback" in self.err


def cspa(*args: str, env: dict | None = None, width: int = 400) -> Result:
    from cspa import cli, cli_assessment, cli_quarterly, cli_records

    consoles = [
        getattr(m, c)
        for m in (cli, cli_assessment, cli_quarterly, cli_records)
        for c in ("console", "err_console")
        if hasattr(m, c)
    ]
    widths = [c._width for c in consoles]
    for c in consoles:
        c.width = width  # wide enough that a long name is not wrapped across table lines

    out, err = io.StringIO(), io.StringIO()
    old_argv, old_env = sys.argv, dict(os.environ)
    sys.argv = ["cspa", *args]
    os.environ.update({"COLUMNS": "400", "NO_COLOR": "1", "TERM": "dumb", **(env or {})})
    cli.STATE["debug"] = False
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        for c, w in zip(consoles, widths, strict=True):
            c._width = w
        sys.argv = old_argv
        os.environ.clear()
        os.environ.update(old_env)
    return Result(code, out.getvalue(), err.getvalue())
