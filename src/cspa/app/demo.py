"""The demo database: the 2008-2011 Luton documents as published, and today's real data.

One builder serves the README's first command (``cspa demo``), the test fixtures and
contributors' exploration. It rebuilds from scratch each run (idempotent: a second run
never duplicates), so the database always matches the shipped data files.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cspa.app.reports import ReportRequest, build_report, default_output
from cspa.assessment.seed import load_seed_assessment
from cspa.catalogue.areas import DATA
from cspa.outputs.render import render
from cspa.quarterly.seed import load_seed_quarterly
from cspa.records.demo import load_demo_returns
from cspa.store.access import writing
from cspa.store.database import Store
from cspa.store.ingest import load_files
from cspa.store.real_data import load_real_data

SEEDS = DATA / "seeds"
SEED_FILES = {
    "000": (
        "shared/seeds/000_1755010fd6423bb4.txt",
        "Ofsted APA dataset, Luton, Version 2 - Final, September 2008",
    ),
    "001": (
        "shared/seeds/001_6f4cf877a258b12c.txt",
        "Luton Children & Learning performance report, January-March 2008",
    ),
    "003": (
        "shared/seeds/003_ab24c40c990829a0.txt",
        "Ofsted performance profile, Luton, 03 August 2011",
    ),
}


#: When each seed document was published (its date as printed): a dated document shows the figures
#: released by its own date, so the 2008 dataset never mixes in a later release's revisions.
SEED_RELEASED = {
    "000": dt.date(2008, 9, 30),  # "Version 2 - Final", "Produced September 2008" (000:L9-11)
    "001": dt.date(2008, 5, 19),  # "Date DMT: 19th May 2008" (001:L15)
    "003": dt.date(2011, 8, 3),  # "Quarter 10 : 03 August 2011" (003:L11)
}


def seed_observation_files(seed: str) -> list[Path]:
    """The observation CSVs of one seed (long format; other files in the folder have their own loaders)."""
    folder = SEEDS / seed
    files = sorted(p for p in folder.glob("*.csv") if not p.stem.endswith("_example"))
    out = []
    for p in files:
        with p.open(encoding="utf-8") as f:
            header = f.readline()
        if (
            header.startswith("indicator,")
            and ",area," in header
            and ",period," in header
            and "target" not in header
        ):
            out.append(p)
    return out


def build_demo_store(store: Store, progress=None) -> list[dict]:
    """Load everything into ``store``; returns one summary dict per source."""
    summary = []
    store.sync_reference()
    # Real data first, the seed documents last: where a 2008 document prints a figure that a later
    # release revised (e.g. England's 2007 secondary fixed-period exclusion rate, 10.83% in the
    # APA dataset, 10.92% in DfE's 2018 file), the document's figure is the current one for the
    # 2008 reports and the revision is kept as history, visible in `observation_changes`.
    summary += load_real_data(store, progress=progress)
    for seed, (_file, vintage) in SEED_FILES.items():
        files = seed_observation_files(seed)
        if not files:
            continue
        results = load_files(
            store,
            files,
            source=f"seed {seed}",
            vintage=vintage,
            seed_file=seed,
            licence="Published document; figures reproduced as data",
            released=SEED_RELEASED.get(seed),
        )
        summary.append(
            {"source": f"seed {seed}", "files": len(files), "rows": sum(r.rows for r in results)}
        )
        if progress:
            progress(f"seed {seed}")
    # targets, actuals and commentary (seed 001), assessment records and moderations (seeds 002-004)
    # and the record-level returns (fake SSDA903 and CIN census) with the measures computed from them
    for name, step in (
        ("quarterly", load_seed_quarterly),
        ("assessment", load_seed_assessment),
        ("records", load_demo_returns),
    ):
        summary += step(store) or []
        if progress:
            progress(name)
    return summary


def source_lines(summary: list[dict]) -> list[str]:
    """One line per source loaded: seed and record sources count ``rows``, a real data set's summary
    (:func:`cspa.store.real_data.load_real_data`) counts ``rows_loaded``."""
    return [
        f"  {s.get('source', s.get('name'))}: {s.get('rows', s.get('rows_loaded', 0)):,} rows"
        for s in summary
    ]


def build_demo(output: Path, console: Console | None = None) -> str:
    console = console or Console(stderr=True)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    db = output / "cspa.duckdb"
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as prog:
        task = prog.add_task("Building the demo database", total=None)
        # built from empty in a copy that replaces the database only when complete: reports open on
        # the previous demo database keep working meanwhile (cspa.store.access)
        with writing(db, create=True, fresh=True, notify=console.print) as store:
            summary = build_demo_store(
                store, progress=lambda what: prog.update(task, description=f"Loaded {what}")
            )
            counts = store.status()
        reports = render_demo_reports(db, output, prog, task)
    took = time.perf_counter() - started
    lines = [f"Demo database: {db.resolve()} (built in {took:.1f} s)", *source_lines(summary)]
    lines.append(
        "  frameworks: "
        + ", ".join(f"{f} ({n} indicators, {o:,} observations)" for f, n, o in counts["frameworks"])
    )
    if reports:
        lines.append(f"Reports: {output.resolve()}")
        lines += [f"  {r}" for r in reports]
    return "\n".join(lines)


#: The demo's reports: (kind, area, year or quarter, formats). The APA PDF (about 190 pages, some
#: 20 s printed by Chromium, a minute or more by WeasyPrint) and the quarterly PDF are left to
#: ``cspa report ... --format pdf``, so the demo stays quick.
DEMO_REPORTS: tuple[tuple[str, str, int | str, tuple[str, ...]], ...] = (
    ("apa-dataset", "Luton", 2008, ("html", "xlsx", "json")),
    ("apa-dataset", "Luton", 2025, ("html", "xlsx", "json")),
    ("quarterly", "Luton", "2007-08-Q4", ("html", "json", "xlsx")),
    ("quarterly", "Luton", "2024-25-Q4", ("html", "json")),
    ("profile", "Luton", 2011, ("html", "json")),
    ("letter", "Luton", 2006, ("html", "json")),
    ("letter", "Luton", 2011, ("html", "json", "pdf")),
    # every era has its letter: the last APA (2008, seed 000's year) and the SIF years
    ("letter", "Luton", 2008, ("html", "json")),
    ("letter", "Luton", 2016, ("html", "json")),
    ("profile", "Luton", 2025, ("html", "json")),
    ("letter", "Luton", 2025, ("html", "json")),
)


def render_demo_reports(db: Path, output: Path, prog=None, task=None) -> list[str]:
    """Render :data:`DEMO_REPORTS` from the database at ``db`` into ``output``; returns one line
    per file written (name and the seconds since its report was started)."""
    written: list[str] = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for kind, area, when, formats in DEMO_REPORTS:
            if prog is not None:
                prog.update(task, description=f"Rendering the {kind} report for {area} {when}")
            started = time.perf_counter()
            request = ReportRequest(
                kind,
                area,
                year=when if isinstance(when, int) else None,
                period=when if isinstance(when, str) else None,
            )
            # one document for every format asked (built with history: Excel and JSON keep it)
            doc = build_report(con, request)
            for fmt in formats:
                path = render(doc, fmt, default_output(doc, fmt, output))
                written.append(f"{path.name} ({time.perf_counter() - started:.1f} s)")
    finally:
        con.close()
    return written
