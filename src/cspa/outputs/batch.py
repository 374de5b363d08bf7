"""Render one report per authority: judgements computed once, documents built in one process,
rendering spread over the machine's cores (a progress bar shows the work)."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cspa.catalogue.areas import load_areas


def _render_one(args) -> str:
    doc, fmt, path = args
    from cspa.cli import _write_report

    _write_report(doc, fmt, Path(path))
    return path


def render_all_areas(con: duckdb.DuckDBPyConnection, framework: str, year: int, fmt: str, out: Path,
                     console=None, workers: int | None = None) -> int:
    from cspa.engine.run import compute
    from cspa.outputs.document_apa import build_apa_document

    out.mkdir(parents=True, exist_ok=True)
    has = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'judgement'").fetchall()[0][0]
    if not has:
        rel = compute(con, f"o.indicator IN (SELECT code FROM indicator WHERE framework = '{framework}')")
        con.execute(f"CREATE TEMP TABLE judgement AS {rel.sql_query()}")
    era = "2008" if framework == "apa2008" else "2025"
    present = {r[0] for r in con.execute(
        "SELECT DISTINCT area FROM judgement WHERE indicator IN (SELECT code FROM indicator WHERE framework = ?)",
        [framework]).fetchall()}
    las = [a for a in load_areas().local_authorities(era) if a.code in present]
    workers = workers or min(2, os.cpu_count() or 1)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as prog:
        task = prog.add_task(f"Rendering {len(las)} reports", total=len(las))
        jobs = []
        for a in las:
            doc = build_apa_document(con, a.code, year, framework)
            jobs.append((doc, fmt, str(out / f"apa-dataset-{a.code}-{a.name.replace(' ', '_')}.{fmt}")))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(_render_one, jobs, chunksize=4):
                prog.advance(task)
    return len(las)
