"""``cspa quarterly template|load|history`` and ``cspa report quarterly`` (issue 7).

Registered by :mod:`cspa.cli`. Errors are ``CspaError`` paragraphs; the load
refuses a bad workbook naming sheet, row and column, and a conflicting one naming each conflict.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from cspa.errors import CspaError, one_line
from cspa.outputs.safe_text import SafeConsole

# user text (commentary, file names, who) is printed as it is: never markup (cspa.outputs.safe_text)
console = SafeConsole()
err_console = SafeConsole(stderr=True)

FORMATS = ("html", "pdf", "xlsx", "json")
DbOption = typer.Option(
    None, "--db", help="Database file (default: $CSPA_DB or cspa-output/cspa.duckdb)."
)


def _database(db: Path | None, mode: str):
    """The command's database by the one policy (cspa.store.access.open_db): ``read`` never
    creates or writes it; waits for other processes are announced on stderr."""
    from cspa.app.web.client import snapshot_from_server
    from cspa.store.access import open_db

    return open_db(db, mode, notify=err_console.print, snapshot=snapshot_from_server)


@contextmanager
def _read(db: Path | None):
    """A read-only connection to the command's database."""
    with _database(db, "read") as store:
        yield store.con


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    quarterly_app = typer.Typer(
        help="Quarterly performance management: targets, actuals and commentary.",
        no_args_is_help=True,
    )
    app.add_typer(quarterly_app, name="quarterly")

    @quarterly_app.command("template")
    def template_cmd(
        area: str = typer.Option(..., "--area", help="Name, DfE LA number or ONS code."),
        period: str = typer.Option(
            ..., "--period", help="Financial quarter, e.g. 2007-08-Q4 or 2024-25-Q2."
        ),
        output: Path = typer.Option(None, "--output", "-o", help="The .xlsx to write."),
        basket: str = typer.Option(
            None, "--basket", help="Indicator basket (default: the one for the period)."
        ),
        db: Path = DbOption,
    ) -> None:
        """Write the Excel template for an area and quarter: actuals, targets and words to fill in."""
        from cspa.quarterly.template import write_template

        with _read(db) as con:
            from cspa.catalogue.areas import load_areas
            from cspa.quarterly.periods import report_period

            a, p = load_areas().resolve(area), report_period(period)
            out = (
                output
                or Path("cspa-output") / f"quarterly-template-{a.dfe_code or a.code}-{p.key}.xlsx"
            )
            from cspa.outputs.destination import output_file

            with output_file(out):
                s = write_template(con, area, period, out, basket)
        console.print(
            f"Wrote {one_line(out)}: {s['Actuals']} actuals, {s['Targets']} targets, {s['Report']} report and "
            f"{s['Commentary']} commentary rows for {s['area_name']}, {s['period_label']}. "
            f"Load it with: cspa quarterly load {out} --user NAME"
        )

    @quarterly_app.command("load")
    def load_cmd(
        file: Path = typer.Argument(..., help="A filled-in template (.xlsx)."),
        user: str = typer.Option(
            None, "--user", help="Who is loading it (kept with every change; default: login name)."
        ),
        db: Path = DbOption,
    ) -> None:
        """Load a filled-in template: all or nothing; conflicting edits are refused, never overwritten."""
        from cspa.app.web.client import template_through_server
        from cspa.quarterly.load import load_template
        from cspa.quarterly.template import _user
        from cspa.store.database import default_path

        # while `cspa serve` holds the database, the server loads it (the same checks, all or nothing)
        s = template_through_server(Path(db or default_path()), file, user or _user())
        if s is not None:
            console.print(f"The server holds {one_line(db or default_path())}: loaded through it.")
        else:
            with _database(db, "write") as store:
                s = load_template(store, file, user or _user())
        console.print(
            f"Loaded {one_line(file)} for {s['area']}, {s['period']} as {one_line(s['user'])} (load {s['load_id']}): "
            f"{s['targets']} target(s), {s['texts']} text(s) and {s['actuals']} figure(s) changed; "
            f"{s['unchanged']} row(s) unchanged."
        )

    @quarterly_app.command("history")
    def history_cmd(
        area: str = typer.Option(..., "--area", help="Name, DfE LA number or ONS code."),
        period: str = typer.Option(
            None, "--period", help="Only this report quarter (e.g. 2007-08-Q4)."
        ),
        indicator: str = typer.Option(None, "--indicator", help="Only this indicator code."),
        fmt: str = typer.Option("table", "--format", help="table, csv or json."),
        db: Path = DbOption,
    ) -> None:
        """Every change to the area's targets, words and template-loaded figures: who, when, old and new."""
        from cspa.quarterly.history import history

        with _read(db) as con:
            rows = history(con, area, period, indicator)
        if fmt == "json":
            import sys

            from cspa.outputs.safe_text import json_text

            sys.stdout.write(json_text(rows, indent=1) + "\n")
            return
        if fmt == "csv":
            import sys

            from cspa.outputs.safe_text import csv_writer

            # a spreadsheet opening this never runs a cell as a formula (OWASP CSV injection)
            w = csv_writer(sys.stdout)
            cols = [
                "when",
                "who",
                "kind",
                "indicator",
                "what",
                "period",
                "old",
                "new",
                "source",
                "revision",
            ]
            w.writerow(cols)
            for r in rows:
                w.writerow([r[c] for c in cols])
            return
        if fmt != "table":
            raise CspaError(f"--format must be table, csv or json, not {fmt!r}")
        from rich.table import Table

        def short(s):
            s = "" if s is None else str(s)
            return s if len(s) <= 50 else s[:47] + "..."

        t = Table(
            "When",
            "Who",
            "Kind",
            "Indicator",
            "What",
            "Period",
            "Old",
            "New",
            "Revision",
            title=f"{len(rows)} change(s)",
        )
        for r in rows:
            t.add_row(
                str(r["when"])[:16],
                one_line(r["who"]),
                r["kind"],
                r["indicator"] or "(report)",
                r["what"],
                short(r["period"]),
                short(r["old"]),
                short(r["new"]),
                str(r["revision"]),
            )
        console.print(t)

    @report_app.command("quarterly")
    def report_quarterly(
        area: str = typer.Option(..., "--area", help="Name, DfE LA number or ONS code."),
        period: str = typer.Option(
            ..., "--period", help="Financial quarter, e.g. 2007-08-Q4 (January-March 2008)."
        ),
        fmt: str = typer.Option("html", "--format", help="html, pdf, xlsx or json."),
        output: Path = typer.Option(None, "--output", "-o", help="File to write."),
        basket: str = typer.Option(
            None, "--basket", help="Indicator basket (default: the one for the period)."
        ),
        db: Path = DbOption,
    ) -> None:
        """The quarterly performance report: targets, progress, RAG, comparators, commentary, action plans, SPC."""
        from cspa.app.reports import ReportRequest, write_report

        with _read(db) as con:
            out = write_report(
                con, ReportRequest("quarterly", area, period=period, basket=basket), fmt, output
            )
        console.print(f"Wrote {one_line(out)}")
