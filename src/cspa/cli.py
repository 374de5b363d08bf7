"""The ``cspa`` command line: a thin layer that parses arguments and calls the library.

Errors are printed as one readable paragraph and exit with status 1; ``--debug`` shows
the traceback instead.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import typer
from rich.table import Table

from cspa import cli_assessment, cli_quarterly, cli_records, cli_web
from cspa.errors import CspaError, one_line
from cspa.outputs.safe_text import SafeConsole, styled

# user text (file names, vintages, commentary, reasons) is printed as it is: never markup
console = SafeConsole()
err_console = SafeConsole(stderr=True)

app = typer.Typer(
    help="cspa: children's services performance assessment for English local authorities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalogue_app = typer.Typer(help="Browse the indicator catalogue.", no_args_is_help=True)
areas_app = typer.Typer(help="Browse local authorities and other areas.", no_args_is_help=True)
data_app = typer.Typer(help="Inspect what the database holds.", no_args_is_help=True)
report_app = typer.Typer(
    help="Render reports (APA dataset, quarterly, profile, letter).", no_args_is_help=True
)
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(areas_app, name="areas")
app.add_typer(data_app, name="data")
app.add_typer(report_app, name="report")

STATE = {"debug": False}


def database(db: Path | None, mode: str, **kw):
    """Open the command's database by the one policy (cspa.store.access.open_db): ``read`` never
    creates or writes it, ``write`` needs it to exist, ``create`` may make it; waits for other
    processes are announced on stderr."""
    from cspa.app.web.client import snapshot_from_server
    from cspa.store.access import open_db

    # while `cspa serve` holds the database, a reader reads the server's copy of the data
    return open_db(db, mode, notify=err_console.print, snapshot=snapshot_from_server, **kw)


DbOption = typer.Option(
    None, "--db", help="Database file (default: $CSPA_DB or cspa-output/cspa.duckdb)."
)


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")) -> None:
    STATE["debug"] = debug


# ------------------------------------------------------------------------------- catalogue


@catalogue_app.command("list")
def catalogue_list(
    framework: str = typer.Option(
        None, "--framework", "-f", help="Only this framework (apa2008, lait, ...)."
    ),
) -> None:
    """List indicators: code, outcome, title."""
    from cspa.catalogue.load import load_catalogue
    from cspa.catalogue.models import OUTCOME_TITLES, Outcome

    cat = load_catalogue()
    order = list(Outcome)
    inds = [i for i in cat.indicators.values() if framework in (None, i.framework)]
    t = Table(
        "Code", "Framework", "Outcome / topic", "Page", "Title", title=f"{len(inds)} indicators"
    )
    # the seed's order: framework, then outcome (being healthy ... service management), then page
    for i in sorted(
        inds,
        key=lambda x: (
            x.framework,
            order.index(x.outcome) if x.outcome else 99,
            x.page or 0,
            x.code,
        ),
    ):
        t.add_row(
            i.code,
            i.framework,
            OUTCOME_TITLES.get(i.outcome, i.topic or "") if i.outcome else (i.topic or ""),
            str(i.page or ""),
            i.title,
        )
    console.print(t)


@catalogue_app.command("show")
def catalogue_show(code: str = typer.Argument(..., help="Indicator code, e.g. 1003HC.")) -> None:
    """Print one indicator's definition in readable form."""
    from cspa.catalogue.describe import describe
    from cspa.catalogue.load import load_catalogue

    console.print(describe(load_catalogue().get(code)))


# ------------------------------------------------------------------------------- areas


@areas_app.command("list")
def areas_list(
    era: str = typer.Option(
        None, "--era", help="2008 (the 150 LAs of 2007-08) or 2025 (the 153 current LAs)."
    ),
    kind: str = typer.Option(
        "la", "--type", help="Area type: la, region, country, pct, trust, ..."
    ),
) -> None:
    """List areas with their DfE number, ONS code and region."""
    from cspa.catalogue.areas import load_areas

    reg = load_areas()
    rows = (
        reg.local_authorities(era)
        if kind == "la"
        else sorted((a for a in reg if a.type == kind), key=lambda a: a.name)
    )
    t = Table(
        "Code", "Name", "ONS code", "Region", "Type", "2007-08", "2025", title=f"{len(rows)} areas"
    )
    for a in rows:
        t.add_row(
            a.code,
            a.name,
            a.ons_code or "",
            a.region_name or "",
            a.la_type or a.type,
            "yes" if a.in_2008 else "",
            "yes" if a.in_2025 else "",
        )
    console.print(t)


@areas_app.command("show")
def areas_show(
    area: str = typer.Argument(..., help="Name, DfE LA number (821) or ONS code (E06000032)."),
) -> None:
    """Show one area."""
    from cspa.catalogue.areas import load_areas

    a = load_areas().resolve(area)
    t = Table(show_header=False, title=a.name)
    for k, v in [
        ("Code", a.code),
        ("Type", a.la_type or a.type),
        ("DfE LA number", a.dfe_code),
        ("ONS code", a.ons_code),
        ("Region", a.region_name),
        ("An LA in 2007-08", a.in_2008),
        ("An LA in 2025", a.in_2025),
        ("Successors", ", ".join(a.successors)),
        ("Latitude, longitude", f"{a.lat:.4f}, {a.long:.4f}" if a.lat is not None else "not known"),
        ("Note", a.note),
    ]:
        if v not in (None, ""):
            t.add_row(k, str(v))
    console.print(t)


@app.command("neighbours")
def neighbours(
    area: str = typer.Argument(..., help="Name, DfE LA number or ONS code."),
    group: str = typer.Option(
        None, "--set", help="Neighbour group: dfe_2025 (default), dfe_2021, nfer_2007, ..."
    ),
) -> None:
    """List an authority's statistical neighbours in rank order."""
    from cspa.catalogue.areas import load_areas
    from cspa.catalogue.neighbours import load_neighbours

    a = load_areas().resolve(area)
    ng = load_neighbours()
    group = group or "dfe_2025"
    ns = ng.of(group, a.code)
    info = ng.info.get(group)
    t = Table(
        "Rank", "Code", "Neighbour", "Closeness", title=f"{a.name}: {info.name if info else group}"
    )
    for n in ns:
        t.add_row(str(n.rank), n.code or "", n.name, n.closeness or "")
    if not ns:
        raise CspaError(
            f"{a.name} has no neighbours in group {group!r}; groups: {', '.join(ng.names())}"
        )
    console.print(t)
    if info:
        console.print(f"Source: {info.source}. {info.licence}.")


# ------------------------------------------------------------------------------- loading


@app.command("load")
def load(
    files: list[Path] = typer.Argument(
        ..., help="CSV, XLSX or Parquet files (long format, LAIT or DfE EES)."
    ),
    db: Path = DbOption,
    vintage: str = typer.Option(
        None, "--vintage", help="Label of this release, e.g. 'SSDA903 2025 final'."
    ),
    source: str = typer.Option(None, "--source", help="Who published it."),
    licence: str = typer.Option(None, "--licence", help="Licence of the figures."),
) -> None:
    """Validate and load files, all or nothing (through the server, while one runs on the database)."""
    from rich.progress import Progress

    from cspa.app.web.client import load_through_server
    from cspa.store.database import default_path

    through = load_through_server(Path(db or default_path()), files, vintage, source, licence)
    if through is not None:
        for line in through:
            console.print(line)
        return

    from cspa.store.ingest import load_files

    with database(db, "create") as store:
        if store.count("area") == 0:
            store.sync_reference()
        with Progress(console=err_console, transient=True) as prog:
            task = prog.add_task("Validating", total=len(files))
            results = load_files(
                store,
                files,
                vintage=vintage,
                source=source,
                licence=licence,
                progress=lambda p: prog.advance(task),
            )
    for r in results:
        console.print(
            f"Loaded {r.rows:,} rows from {one_line(r.file)} ({r.format} format, load {r.load_id}; "
            f"{r.superseded:,} earlier rows kept as history)."
        )


# ------------------------------------------------------------------------------- data


@data_app.command("status")
def data_status(db: Path = DbOption) -> None:
    """What is loaded: frameworks, indicators, areas, periods, vintages, rows by status."""
    with database(db, "read") as store:
        s = store.status()
    t = Table("Framework", "Indicators", "Observations (current)", title="Frameworks")
    for r in s["frameworks"]:
        t.add_row(r[0], f"{r[1]:,}", f"{r[2]:,}")
    console.print(t)
    t = Table("Area type", "Count", title="Areas")
    for r in s["areas"]:
        t.add_row(r[0], str(r[1]))
    console.print(t)
    t = Table("Group", "Authorities", title="Neighbour groups")
    for r in s["neighbour_groups"]:
        t.add_row(r[0], str(r[1]))
    console.print(t)
    t = Table("Period kind", "First", "Last", "Periods", title="Periods")
    for r in s["periods"]:
        t.add_row(*(str(x) for x in r))
    console.print(t)
    t = Table("Load", "File", "Format", "Vintage", "Rows", "Loaded", title="Loads (vintages)")
    for r in s["loads"]:
        t.add_row(
            str(r[0]),
            one_line(Path(r[1]).name),
            r[2],
            one_line(r[3] or ""),
            f"{r[4]:,}",
            f"{r[5]:%Y-%m-%d %H:%M}",
        )
    console.print(t)
    t = Table("Status", "Rows", title="Current rows by status")
    for r in s["by_status"]:
        t.add_row(r[0], f"{r[1]:,}")
    console.print(t)
    console.print(f"{s['history_rows']:,} superseded rows kept as history.")


@data_app.command("upgrade")
def data_upgrade(db: Path = DbOption) -> None:
    """Upgrade a database made by an earlier cspa to this one's schema (any command does it too)."""
    from cspa.store.database import SCHEMA_VERSION

    with database(db, "write"):
        pass
    console.print(f"The database is at schema version {SCHEMA_VERSION}.")


# ------------------------------------------------------------------------------- reports

FORMATS = ("html", "pdf", "xlsx", "json")


def _split(values: list[str] | None) -> tuple[str, ...]:
    """Values given as ``--opt a,b --opt c``: ("a", "b", "c")."""
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


@report_app.command("apa-dataset")
def report_apa(
    area: str = typer.Option(None, "--area", help="Name, DfE LA number or ONS code."),
    year: int = typer.Option(
        2008, "--year", help="Assessment year (2008 = the seed's APA dataset)."
    ),
    framework: str = typer.Option(
        None, "--framework", help="apa2008 (default up to 2011) or lait (current data)."
    ),
    fmt: str = typer.Option("html", "--format", help="html, pdf, xlsx or json."),
    output: Path = typer.Option(
        None, "--output", "-o", help="File to write (a folder with --all-areas)."
    ),
    all_areas: bool = typer.Option(
        False, "--all-areas", help="Render every authority of the framework's era."
    ),
    periods: int = typer.Option(
        None,
        "--periods",
        min=0,
        help="How many of the latest periods each table and chart shows in HTML and PDF "
        "(0 = every period; default: the framework's, 5 for LAIT, every period for the "
        "2008 dataset). Excel and JSON keep every period.",
    ),
    themes: list[str] = typer.Option(
        None,
        "--themes",
        help="Only these themes (section titles, e.g. 'Children in Need'; comma-separated or "
        "repeated). The summary covers what is shown.",
    ),
    indicators: list[str] = typer.Option(
        None,
        "--indicators",
        help="Only these indicators (codes, comma-separated or repeated), with --themes or alone.",
    ),
    db: Path = DbOption,
) -> None:
    """The APA dataset report: every indicator against neighbours and England, with bands and lights."""
    from cspa.outputs.document_apa import framework_for_year

    if fmt not in FORMATS:
        raise CspaError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    with database(db, "read") as store:
        con = store.con
        if all_areas:
            from cspa.app.batch import render_all_areas
            from cspa.outputs.destination import output_folder

            fw = framework or framework_for_year(year)
            out = output or Path("cspa-output") / f"apa-dataset-{fw}-{year}"
            with output_folder(out):
                n = render_all_areas(
                    con,
                    fw,
                    year,
                    fmt,
                    out,
                    console=err_console,
                    periods=periods,
                    themes=_split(themes),
                    indicators=_split(indicators),
                )
            console.print(f"Wrote {n} reports to {one_line(out)}")
            return
        if not area:
            raise CspaError("Give --area (a name, DfE LA number or ONS code) or --all-areas.")
        from cspa.app.reports import ReportRequest, write_report

        request = ReportRequest(
            "apa-dataset",
            area,
            year=year,
            framework=framework,
            periods=periods,
            themes=_split(themes),
            indicators=_split(indicators),
        )
        console.print(f"Wrote {one_line(write_report(con, request, fmt, output))}")


@app.command("judge")
def judge_cmd(
    framework: str = typer.Option(
        None, "--framework", help="Only this framework (apa2008, lait, ...)."
    ),
    db: Path = DbOption,
) -> None:
    """Compute every judgement for every authority, indicator and period, and store them."""
    from cspa.engine.run import judge
    from cspa.engine.selection import Selection

    selection = Selection.framework(framework) if framework else None
    if framework:
        from cspa.catalogue.load import load_catalogue

        if framework not in load_catalogue().frameworks:
            raise CspaError(
                f"no framework {framework!r}; frameworks: {', '.join(load_catalogue().frameworks)}"
            )
    with database(db, "write") as store:
        r = judge(store.con, selection)
    console.print(
        f"{r['rows']:,} figures judged in {r['seconds']:.1f} s: {r['bands']:,} bands, {r['lights']:,} lights, "
        f"{r['ranks']:,} ranks, {r['quartiles']:,} quartiles, {r['progress']:,} progress judgements, "
        f"{r['significance']:,} significance judgements, {r['trends']:,} trend classes and "
        f"{r['recent_trends']:,} recent trends."
    )


# ------------------------------------------------------------------------------- demo


@app.command("demo")
def demo(
    output: Path = typer.Option(
        Path("cspa-output"), "--output", "-o", help="Folder for the database and reports."
    ),
) -> None:
    """Build the demo database (2008 Luton documents + today's real data) and render the demo reports."""
    from cspa.app.demo import build_demo
    from cspa.outputs.destination import output_folder

    with output_folder(output):
        summary = build_demo(output, console=err_console)
    console.print(summary)


# Command groups that live in their own modules (quarterly performance, assessment, record-level
# returns) register here.
cli_quarterly.register(app, report_app)
cli_assessment.register(app, report_app)
cli_records.register(app, report_app)
cli_web.register(app)


def main() -> None:
    """Entry point: run the app, turning cspa errors into one readable paragraph (a traceback only with --debug)."""
    try:
        app()  # standalone mode: usage errors, --help and exit codes are handled by the CLI library
    except CspaError as e:
        if STATE["debug"]:
            raise
        err_console.print(styled(("Error:", "bold red"), " ", str(e)), soft_wrap=True)
        sys.exit(1)
    except Exception as e:  # anything unexpected: one paragraph, not a traceback
        if STATE["debug"] or "--debug" in sys.argv:
            raise
        msg = textwrap.shorten(f"{type(e).__name__}: {e}", 600)
        err_console.print(
            styled(
                ("Unexpected error:", "bold red"), f" {msg} (run with --debug for the traceback)"
            ),
            soft_wrap=True,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
