"""Render one report per authority, on every core.

The engine judges the whole framework once (ranks and neighbour averages need every authority),
in this process. Its rows are written to a temporary Parquet file, tagged and sorted by the
authority whose report shows them (``owner``, see :func:`cspa.outputs.document_apa.owner_sql`),
beside the few reference tables a document reads. Worker processes read those files and each
builds and renders whole reports: one authority's rows are a few row groups of the sorted file,
and nothing large crosses between processes (a task is an area code, a result a path). Each
worker keeps the rows every report shares (England, the regions) after the first report that
reads them.

The workers are forked from a server process that has already loaded the catalogue, the areas,
the neighbour groups and the templates (``cspa.app._batch_warm``), which it does while the
engine runs; fork, but not from this process, which holds DuckDB's threads. Where there is no
fork server (Windows) they are spawned and load those themselves. Either way a script that
calls :func:`render_all_areas` needs the usual ``if __name__ == "__main__":`` guard. A progress
bar shows the work.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import duckdb
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cspa.app.reports import WINDOW_ONLY_FORMATS
from cspa.catalogue.areas import load_areas
from cspa.errors import CspaError
from cspa.outputs.document_apa import PREPARED, owner_sql, present_columns, report_selection
from cspa.outputs.render import render
from cspa.store.coverage import refuse_not_yet
from cspa.store.sql import literal, string

#: The reference tables a document reads besides the judgements.
REFERENCE_TABLES = ("area", "measure", "indicator")

_worker: dict = {}


def prepare_judgements(
    con: duckdb.DuckDBPyConnection, framework: str, folder: Path, year: int | None = None
) -> int:
    """Write ``framework``'s judgements (the columns a document reads) as reports of ``year`` see
    them (:func:`cspa.outputs.document_apa.report_selection`), tagged and sorted by owner, and the
    reference tables, as Parquet files in ``folder``; :func:`open_prepared` reads them. Uses a
    stored ``judgement`` table when the database has one and the year allows, else runs the
    engine. Returns the number of judgement rows written."""
    from cspa.engine.run import judgements

    selection = report_selection(con, framework, year)
    source = f"({judgements(con, selection).sql_query()})"
    cols = ", ".join(f"j.{c}" for c in present_columns(con, f"SELECT * FROM {source}"))
    progress_bar = con.execute("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]
    con.execute("SET enable_progress_bar = false")  # ours is on the screen
    try:
        con.execute(
            f"COPY (SELECT {cols}, {owner_sql('j', 'a')} AS owner FROM {source} j LEFT JOIN area a "
            f"ON a.code = j.area ORDER BY owner) TO '{folder / PREPARED}.parquet' (FORMAT parquet)"
        )
    finally:
        con.execute(f"SET enable_progress_bar = {'true' if progress_bar else 'false'}")
    for table in REFERENCE_TABLES:
        con.execute(f"COPY (SELECT * FROM {table}) TO '{folder / table}.parquet' (FORMAT parquet)")
    con.execute(
        f"COPY (SELECT {string(framework)} AS framework, "
        f"{literal(selection.up_to.isoformat()) if selection.up_to else 'NULL'}::DATE AS up_to, "
        f"{literal(selection.neighbour_group)}::VARCHAR AS neighbour_group) "
        f"TO '{folder / PREPARED}_meta.parquet' (FORMAT parquet)"
    )
    return con.execute(
        f"SELECT count(*) FROM read_parquet('{folder / PREPARED}.parquet')"
    ).fetchall()[0][0]


def open_prepared(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose views read the files :func:`prepare_judgements` wrote."""
    con = duckdb.connect()
    for table in (PREPARED, f"{PREPARED}_meta", *REFERENCE_TABLES):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{folder / table}.parquet')"
        )
    return con


def _start_worker() -> None:
    """Load what every report needs, once per process (cached by the loaders)."""
    from cspa.catalogue.load import load_catalogue
    from cspa.catalogue.neighbours import load_neighbours
    from cspa.outputs import html

    load_catalogue()
    load_areas()
    load_neighbours()
    html._env().get_template("report.html")


def _context():
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["cspa.app._batch_warm"])
        return ctx
    return multiprocessing.get_context("spawn")


def _render_one(
    folder: str,
    area_code: str,
    framework: str,
    year: int,
    fmt: str,
    path: str,
    periods: int | None,
    themes: tuple[str, ...] = (),
    indicators: tuple[str, ...] = (),
) -> str:
    from cspa.outputs.document_apa import SharedRows, build_apa_document

    if _worker.get("folder") != folder:
        _worker.update(folder=folder, con=open_prepared(Path(folder)), shared=SharedRows())
    # A report is tens of thousands of small dicts and strings, freed by reference counting once it
    # is written; the cyclic garbage collector would walk them (and the shared rows) again and again,
    # for a quarter of the time. So a worker collects only between reports, every 25th.
    gc.disable()
    try:
        doc = build_apa_document(
            _worker["con"],
            area_code,
            year,
            framework,
            periods=periods,
            history=fmt not in WINDOW_ONLY_FORMATS,
            shared=_worker["shared"],
            themes=themes,
            indicators=indicators,
        )
        render(doc, fmt, Path(path))
        del doc
    finally:
        _worker["reports"] = _worker.get("reports", 0) + 1
        if _worker["reports"] % 25 == 0:
            gc.collect()
    return path


def render_all_areas(
    con: duckdb.DuckDBPyConnection,
    framework: str,
    year: int,
    fmt: str,
    out: Path,
    console=None,
    workers: int | None = None,
    periods: int | None = None,
    areas: list[str] | None = None,
    themes: tuple[str, ...] = (),
    indicators: tuple[str, ...] = (),
) -> int:
    """Render the APA dataset report of every authority of the framework's era into ``out`` (or of
    the authorities ``areas`` names, DfE codes); return how many were written. ``periods`` as in
    ``build_apa_document``."""
    refuse_not_yet(year)  # before every authority is judged, not once per authority after
    out.mkdir(parents=True, exist_ok=True)
    workers = workers or min(2, os.cpu_count() or 1)
    folder = Path(tempfile.mkdtemp(prefix="cspa-batch-"))
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_context(), initializer=_start_worker
    )
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as prog:
            task = prog.add_task(f"Judging the {framework} framework", total=None)
            # Start the workers now, from another thread: starting the fork server waits for it to
            # load the catalogue and templates, which it does while the engine runs here.
            ready: list = []
            starter = threading.Thread(
                target=lambda: ready.extend(pool.submit(_start_worker) for _ in range(workers)),
                daemon=True,
            )
            starter.start()
            prepare_judgements(con, framework, folder, year)
            starter.join()
            # every authority that existed in the year and has a figure of its own in the periods
            # judged (Northamptonshire in a report of 2019, North Northamptonshire from 2021)
            present = {
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT owner FROM read_parquet('{folder / PREPARED}.parquet') "
                    "WHERE value IS NOT NULL AND for_area IS NULL AND owner = area"
                ).fetchall()
            }
            las = [
                a
                for a in load_areas().local_authorities()
                if a.code in present
                and (year is None or a.existed_in(year))
                and (areas is None or a.code in areas)
            ]
            for f in ready:
                f.result()
            prog.update(
                task, description=f"Rendering {len(las)} reports", total=len(las), completed=0
            )
            jobs = [
                pool.submit(
                    _render_one,
                    str(folder),
                    a.code,
                    framework,
                    year,
                    fmt,
                    str(out / f"apa-dataset-{a.code}-{a.name.replace(' ', '_')}.{fmt}"),
                    periods,
                    themes,
                    indicators,
                )
                for a in las
            ]
            for job in as_completed(jobs):
                job.result()
                prog.advance(task)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(folder, ignore_errors=True)
    return len(las)


def render_assessment_all_areas(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    year: int,
    fmt: str,
    folder: Path,
    ruleset: str | None = None,
    template: str | Path | None = None,
) -> list[Path]:
    """Every authority's profile or letter for a year; the relations they read are computed once."""
    from cspa.assessment.report import (
        build_letter_document,
        build_profile_document,
        prepare_all_areas,
    )

    refuse_not_yet(year)  # each authority's refusal below would be passed over as "no figures"
    build = build_profile_document if kind == "profile" else build_letter_document
    written = []
    for code in prepare_all_areas(con, kind, year, ruleset):
        try:
            doc = build(con, code, year, ruleset, prepared=True)
        except CspaError:  # an authority with no figures at all for this year
            continue
        written.append(
            render(doc, fmt, Path(folder) / f"{kind}-{code}-{year}.{fmt}", template=template)
        )
    return written
