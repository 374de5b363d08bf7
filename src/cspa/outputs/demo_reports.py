"""The demo reports `cspa demo` renders: the 2008 APA dataset for Luton (every format), the current
benchmarking report for Luton on LAIT data, and each feature's own demo reports."""

from __future__ import annotations

import time
from importlib import import_module
from pathlib import Path

import duckdb

# "module:function" renderers of other features' demo reports: each takes (con, folder) and
# returns the paths it wrote.
FEATURE_REPORTS = ("cspa.quarterly.report:render_demo", "cspa.assessment.report:render_demo")


def render_all(db: Path, output: Path, prog=None, task=None) -> list[str]:
    from cspa.cli import _write_report
    from cspa.outputs.document_apa import build_apa_document

    written: list[str] = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        # The APA PDF (about 190 pages; some 20 s printed by Chromium, three-quarters of a minute or more
        # by WeasyPrint) is left to `cspa report ... --format pdf`, so the demo stays near two minutes.
        for area, year, fw, formats in (
            ("Luton", 2008, "apa2008", ("html", "xlsx", "json")),
            ("Luton", 2025, "lait", ("html", "xlsx", "json")),
        ):
            if prog is not None:
                prog.update(task, description=f"Rendering the {fw} report for {area}")
            started = time.perf_counter()
            doc = build_apa_document(con, area, year, fw)
            for fmt in formats:
                path = output / f"apa-dataset-{doc['area']['dfe_code']}-{year}.{fmt}"
                _write_report(doc, fmt, path)
                written.append(f"{path.name} ({time.perf_counter() - started:.1f} s)")
        for spec in FEATURE_REPORTS:
            mod_name, fn = spec.split(":")
            try:
                mod = import_module(mod_name)
            except ModuleNotFoundError as e:
                if e.name and mod_name.startswith(e.name):
                    continue
                raise
            if prog is not None:
                prog.update(task, description=f"Rendering {mod_name.split('.')[1]} reports")
            written += [Path(p).name for p in getattr(mod, fn)(con, output)]
    finally:
        con.close()
    return written
