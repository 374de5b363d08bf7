"""``cspa records validate|load|compute|generate|rules``: record-level returns (issue 20).

Registered by :mod:`cspa.cli`. A return that fails a blocking rule is refused
with its findings (file, row, child, field, rule code) and nothing of it is loaded.
"""

from __future__ import annotations

from pathlib import Path

import typer

from cspa.errors import CspaError, one_line
from cspa.outputs.safe_text import SafeConsole

# a return's values and file names are printed as they are: never markup (cspa.outputs.safe_text)
console = SafeConsole()
err_console = SafeConsole(stderr=True)


def _database(db: Path | None, mode: str):
    """The command's database by the one policy (cspa.store.access.open_db)."""
    from cspa.app.web.client import snapshot_from_server
    from cspa.store.access import open_db

    return open_db(db, mode, notify=err_console.print, snapshot=snapshot_from_server)


DbOption = typer.Option(
    None, "--db", help="Database file (default: $CSPA_DB or cspa-output/cspa.duckdb)."
)
FilesArg = typer.Argument(
    ...,
    help="The return's files: 903 CSV extracts (or a folder of them), a 903 XML or a CIN census XML.",
)
LaOption = typer.Option(
    None,
    "--la",
    help="The authority (DfE LA number, name or ONS code); the CIN XML's header says it.",
)
YearOption = typer.Option(
    None,
    "--year",
    help="Collection year (2018 = year ending 31 March 2018); worked out from the data if not given.",
)
BlockingOption = typer.Option(
    None,
    "--blocking",
    help="Comma-separated rule codes that block a load (default: the rule file's list).",
)


def _la(la: str | None) -> str | None:
    if la is None:
        return None
    from cspa.catalogue.areas import load_areas

    a = load_areas().resolve(la)
    if a.type != "la":
        raise CspaError(f"{la!r} is {a.name}, not a local authority")
    return a.code


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    records_app = typer.Typer(
        help="Record-level returns (SSDA903, CIN census): validate, load, compute measures.",
        no_args_is_help=True,
    )
    app.add_typer(records_app, name="records")

    def _read_and_validate(files, la, year, blocking):
        from cspa.records.read import read_return
        from cspa.records.rules import load_rules, validate

        ret = read_return(files, la=_la(la), year=year)
        if ret.la is not None:
            try:
                ret.la = _la(ret.la)
            except CspaError as e:
                raise CspaError(
                    f"the return's authority {ret.la!r} is not known: {e} Give --la."
                ) from None
        rules = load_rules(
            ret.kind,
            [c.strip() for c in blocking.split(",") if c.strip()] if blocking is not None else None,
        )
        return ret, validate(ret, rules)

    def _summary(v, limit: int) -> None:
        r = v.ret
        console.print(
            f"{'SSDA903' if r.kind == 'ssda903' else 'CIN census'} return, authority {r.la or '(not given)'}, "
            f"collection year {r.period_label} ({r.year_basis}); rules {v.rule_version}: {len(v.rules_run)} run"
            + (
                f", {len(v.rules_skipped)} not applicable ({'; '.join(f'{k}: {w}' for k, w in v.rules_skipped.items())})"
                if v.rules_skipped
                else ""
            )
        )
        console.print("Rows: " + ", ".join(f"{k} {n:,}" for k, n in r.rows().items() if n))
        counts = v.counts()
        blocking = sorted({f.rule for f in v.blocking})
        console.print(
            f"{len(v.findings):,} findings from {len(counts)} rules"
            + (f"; BLOCKING: {', '.join(blocking)}" if blocking else "; none blocks a load")
        )
        for code, n in counts.most_common(limit):
            f = next(x for x in v.findings if x.rule == code)
            console.print(
                f"  {code:>9} {n:>7,}{' (blocking)' if f.blocking else ''}  {f.message[:110]}",
                highlight=False,
            )
        for f in (v.blocking or v.findings)[:limit]:
            console.print(f"  {f}", highlight=False)

    @records_app.command("validate")
    def validate_cmd(
        files: list[Path] = FilesArg,
        la: str = LaOption,
        year: int = YearOption,
        blocking: str = BlockingOption,
        limit: int = typer.Option(15, "--limit", help="How many rules and findings to list."),
        csv_out: Path = typer.Option(None, "--csv", help="Write every finding to this CSV."),
    ) -> None:
        """Check a return against DfE's rules; exit 1 if a blocking rule fails."""
        _, v = _read_and_validate(files, la, year, blocking)
        _summary(v, limit)
        if csv_out:
            from cspa.outputs.destination import output_file
            from cspa.outputs.safe_text import csv_writer

            # a return's values never run as formulas in the spreadsheet that opens this
            with (
                output_file(csv_out, "--csv"),
                csv_out.open("w", encoding="utf-8", newline="") as f,
            ):
                w = csv_writer(f)
                w.writerow(
                    ["rule", "blocking", "file", "row", "child", "field", "value", "message"]
                )
                for x in v.findings:
                    w.writerow(
                        [x.rule, x.blocking, x.file, x.row, x.child, x.field, x.value, x.message]
                    )
            console.print(f"Wrote {one_line(csv_out)}")
        if not v.ok:
            raise typer.Exit(1)

    @records_app.command("load")
    def load_cmd(
        files: list[Path] = FilesArg,
        la: str = LaOption,
        year: int = YearOption,
        blocking: str = BlockingOption,
        licence: str = typer.Option(
            None, "--licence", help="Licence of the return's data, kept with it."
        ),
        compute: bool = typer.Option(
            True, "--compute/--no-compute", help="Compute the measures after loading."
        ),
        db: Path = DbOption,
    ) -> None:
        """Validate and load a return (all or nothing), then compute its measures into the store."""
        from cspa.records.load import compute_to_store, load_return

        ret, v = _read_and_validate(files, la, year, blocking)
        with _database(db, "create") as store:
            if store.count("area") == 0:
                store.sync_reference()
            rid = load_return(store, ret, v, licence=licence)
            console.print(
                f"Loaded return {rid}: {ret.kind} {ret.la} {ret.period_label}, "
                f"{sum(ret.rows().values()):,} rows, {len(v.findings):,} findings (none blocking)."
            )
            if compute:
                for r in compute_to_store(store, kinds=(ret.kind,)):
                    console.print(
                        f"Computed {r.rows} figures (load {r.load_id}, {r.superseded} superseded)."
                    )

    @records_app.command("compute")
    def compute_cmd(
        backend: str = typer.Option("duckdb", "--backend", help="duckdb (default) or spark."),
        input_: str = typer.Option(
            None,
            "--input",
            help="A folder of Parquet tables (cspa records generate); "
            "a path on a shared filesystem or object store for a cluster. Default: the store's returns.",
        ),
        master: str = typer.Option(
            None, "--master", help="Spark master URL (default $CSPA_SPARK_MASTER or local[2])."
        ),
        conf: list[str] = typer.Option(
            None,
            "--conf",
            help="Spark property KEY=VALUE (repeatable), e.g. spark.executor.memory=8g.",
        ),
        output: Path = typer.Option(
            None, "--output", "-o", help="Write the figures to this CSV or Parquet file."
        ),
        db: Path = DbOption,
    ) -> None:
        """Compute every measure, on DuckDB or Spark, from the store's returns or from Parquet tables."""
        import time

        from cspa.records.backends import Backend, SparkConfig, compute

        if input_ is None:
            if backend != "duckdb":
                raise CspaError(
                    "the store's returns are computed on DuckDB; give --input (Parquet) for Spark"
                )
            from cspa.records.load import compute_to_store

            with _database(db, "write") as store:
                timings: dict = {}
                res = compute_to_store(store, timings=timings)
            for r in res:
                console.print(f"Computed {r.rows} figures into the store (load {r.load_id}).")
            if not res:
                console.print("No returns loaded: load one with `cspa records load`.")
            return
        cfg = SparkConfig.from_env(master, dict(c.split("=", 1) for c in conf or []))
        b = (
            Backend.duckdb()
            if backend == "duckdb"
            else Backend.spark(cfg)
            if backend == "spark"
            else None
        )
        if b is None:
            raise CspaError(f"unknown backend {backend!r}: use duckdb or spark")
        tables = b.from_parquet(input_)
        timings = {}
        t0 = time.perf_counter()
        obs = compute(tables, b, timings=timings)
        timings.pop("_cpu", None)
        for k, s in timings.items():
            err_console.print(f"  {k:<36} {s:8.2f} s")
        console.print(
            f"{obs.num_rows:,} figures from {sum('/' in k for k in timings)} measures on {b.name} "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        if output:
            from cspa.outputs.destination import output_file

            with output_file(output):
                if output.suffix == ".parquet":
                    import pyarrow.parquet as pq

                    pq.write_table(obs, output)
                else:
                    import pyarrow.csv as pcsv

                    pcsv.write_csv(obs, output)
            console.print(f"Wrote {one_line(output)}")

    @records_app.command("generate")
    def generate_cmd(
        episodes: int = typer.Option(
            100_000, "--episodes", help="About how many 903 episode rows, over all returns."
        ),
        seed: int = typer.Option(1, "--seed"),
        years: str = typer.Option(
            "2021-2025", "--years", help="Collection years, e.g. 2021-2025 or 2024."
        ),
        output: Path = typer.Option(
            Path("cspa-output/synthetic"), "--output", "-o", help="Folder for the Parquet tables."
        ),
        csv_la: str = typer.Option(
            None, "--csv-la", help="Also write this authority's returns as 903 CSV extracts."
        ),
    ) -> None:
        """Generate synthetic returns for all 153 authorities (seeded: the same command gives the same files)."""
        from cspa.records.synthetic import Scale, generate, write_903_csv, write_parquet

        a, _, b = years.partition("-")
        ys = tuple(range(int(a), int(b or a) + 1))
        tables = generate(Scale(episodes=episodes, seed=seed, years=ys))
        from cspa.outputs.destination import output_folder

        with output_folder(output):
            counts = write_parquet(tables, output)
        console.print(
            f"Wrote {one_line(output)}: " + ", ".join(f"{k} {n:,}" for k, n in counts.items() if n)
        )
        if csv_la:
            code = _la(csv_la)
            for y in ys:
                files = write_903_csv(tables, output / "csv" / f"{code}-{y}", code, y)
                console.print(f"Wrote {len(files)} CSV files for {code} {y} to {files[0].parent}")

    @records_app.command("rules")
    def rules_cmd() -> None:
        """How many of DfE's 903 rules are implemented, and which are not."""
        from cspa.records.rules import coverage

        c = coverage()
        console.print(
            f"903 rules 2024-25: {c['implemented']} of {c['listed']} implemented ({c['partial']} of them partly); "
            f"not implemented: {', '.join(c['not_implemented'])}"
        )
