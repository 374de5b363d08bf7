"""CLI for the assessment feature: ``cspa assess`` (propose, moderate, history, evaluate) and
``cspa report profile`` / ``cspa report letter``. Registered by :mod:`cspa.cli`."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table

from cspa.errors import CspaError, one_line
from cspa.outputs.safe_text import SafeConsole, styled

# user text (reasons, letter text, who) is printed as it is: never markup (cspa.outputs.safe_text)
console = SafeConsole()
err_console = SafeConsole(stderr=True)
DbOption = typer.Option(
    None, "--db", help="Database file (default: $CSPA_DB or cspa-output/cspa.duckdb)."
)
AreaOption = typer.Option(None, "--area", help="Name, DfE LA number or ONS code.")
YearOption = typer.Option(
    None,
    "--year",
    help="Assessment year: 2005-2008 (APA), 2009-2011 (profile), 2012-2017 (SIF terms), 2018- (ILACS terms).",
)
RulesetOption = typer.Option(
    None, "--ruleset", help="Rule set id (default: the one covering --year)."
)
REPORT_FORMATS = ("html", "pdf", "json")

assess_app = typer.Typer(
    help="Propose grades from the rule sets, moderate them, and show their history.",
    invoke_without_command=True,
    no_args_is_help=False,
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


def _need(area, year):
    if not area or year is None:
        raise CspaError("Give --area (a name, DfE LA number or ONS code) and --year.")


@assess_app.callback()
def assess(
    ctx: typer.Context,
    area: str = AreaOption,
    year: int = YearOption,
    ruleset: str = RulesetOption,
    save: bool = typer.Option(
        True, "--save/--no-save", help="Store the proposal (append-only) for moderation."
    ),
    db: Path = DbOption,
) -> None:
    """Propose a grade per judgement, with the rules that fired and the evidence behind them."""
    if ctx.invoked_subcommand is not None:
        return
    _need(area, year)
    from cspa.assessment.moderation import save_proposal
    from cspa.assessment.rules import evidence_rows, proposal_rows, propose
    from cspa.assessment.ruleset import ruleset_for_year
    from cspa.catalogue.areas import load_areas

    a = load_areas().resolve(area)
    rs = ruleset_for_year(year, ruleset)
    with _database(db, "write" if save else "read") as store:
        propose(store.con, rs, year)
        rows = proposal_rows(store.con, a.code)
        if not rows:
            raise CspaError(f"{a.name} is not assessed by rule set {rs.id} ({rs.population})")
        ev = {e["evidence_id"]: e for e in evidence_rows(store.con, a.code)}
        run = save_proposal(store, rs, year, areas=[a.code]) if save else None
        measured = None
        if rs.model is not None:  # a model's proposals come with their measured agreement
            from cspa.assessment.evaluate import evaluate

            measured = evaluate(store.con, rs)["judgements"]
    console.print(
        styled(
            (f"{a.name} {year}", "bold"),
            f": rule set {rs.id} v{rs.version}" + (f" (stored as run {run})" if run else ""),
        )
    )
    for r in rows:
        console.print()
        console.print(
            styled(
                (r["judgement_label"], "bold"),
                ": "
                + (f"{r['grade']} {r['grade_label']}" if r["grade"] is not None else "no proposal"),
            )
        )
        for rule in r["rules"]:
            mark = "" if rule["applied"] else " (held, did not change the grade)"
            console.print(f"  {rule['kind']} {rule['id']}{mark}: {rule['text']}")
        t = Table("Evidence", "Value", "Comparator", "Judgement", "Source", show_lines=False)
        for eid in r["evidence_ids"]:
            e = ev.get(eid)
            if e:
                t.add_row(
                    e["label"],
                    e["display"] or "",
                    f"{e['comparator'] or ''} {e['comparator_display'] or ''}".strip(),
                    e["vs"] or "",
                    (e["ref"] or "")[:80],
                )
        if t.row_count:
            console.print(t)
        if measured and r["judgement"] in measured:
            console.print(f"  Measured: {measured[r['judgement']]['summary']}")


@assess_app.command("moderate")
def assess_moderate(
    area: str = AreaOption,
    year: int = YearOption,
    ruleset: str = RulesetOption,
    judgement: str = typer.Option(
        None, "--judgement", help="Judgement id (see `cspa assess`), for a grade."
    ),
    grade: int = typer.Option(None, "--grade", help="The moderated grade (an override)."),
    confirm: bool = typer.Option(False, "--confirm", help="Confirm the proposed grade."),
    section: str = typer.Option(
        None, "--section", help="strengths or areas_for_improvement, for text."
    ),
    item: str = typer.Option(None, "--item", help="The text item's key (in the letter's JSON)."),
    text: str = typer.Option(None, "--text", help="The new or edited text."),
    remove: bool = typer.Option(False, "--remove", help="Remove the text item."),
    reason: str = typer.Option(None, "--reason", help="Why (required)."),
    user: str = typer.Option(None, "--user", help="Who moderates (default: the login name)."),
    db: Path = DbOption,
) -> None:
    """Confirm or override a proposed grade, or edit the letter's text; always with a reason. Nothing is overwritten."""
    _need(area, year)
    from cspa.assessment.moderation import latest_proposals, moderate, save_proposal
    from cspa.assessment.rules import propose
    from cspa.assessment.ruleset import ruleset_for_year
    from cspa.catalogue.areas import load_areas

    a = load_areas().resolve(area)
    rs = ruleset_for_year(year, ruleset)
    if section:
        action = "remove_text" if remove else ("edit_text" if item else "add_text")
    elif confirm and grade is None:
        action = "confirm"
    elif grade is not None:
        action = "override"
    else:
        raise CspaError(
            "say what to moderate: --judgement J with --confirm or --grade G, or --section with --text/--remove"
        )
    with _database(db, "write") as store:
        if (
            action in ("confirm", "override")
            and judgement
            and not latest_proposals(store.con, rs.id, a.code, year)
        ):
            propose(store.con, rs, year)
            save_proposal(store, rs, year, areas=[a.code])
        items = None
        if action in ("edit_text", "remove_text"):
            # the items as the letter shows them now (drafted, earlier text moderations applied)
            from cspa.assessment.report import build_letter_document

            doc = build_letter_document(store.con, a.code, year, rs.id)
            items = {
                sec: [i["key"] for i in doc.get(sec) or []]
                for sec in ("strengths", "areas_for_improvement")
            }
        mid = moderate(
            store,
            rs,
            a.code,
            year,
            action,
            reason or "",
            judgement=judgement,
            grade=grade,
            section=section,
            item_key=item,
            text=text,
            user=user,
            items=items,
        )
    console.print(f"Recorded moderation {mid} ({action}) for {a.name} {year}.")


@assess_app.command("history")
def assess_history(
    area: str = AreaOption,
    year: int = YearOption,
    ruleset: str = RulesetOption,
    db: Path = DbOption,
) -> None:
    """Every stored proposal and moderation for an authority and year, oldest first."""
    _need(area, year)

    from cspa.assessment.moderation import history
    from cspa.assessment.ruleset import ruleset_for_year
    from cspa.catalogue.areas import load_areas

    a = load_areas().resolve(area)
    rs = ruleset_for_year(year, ruleset)
    with _read(db) as con:
        rows = history(con, rs.id, a.code, year)
    t = Table(
        "When", "Who", "What", "Judgement", "Grade", "Detail", title=f"{a.name} {year} ({rs.id})"
    )
    for h in rows:
        t.add_row(
            str(h["at"])[:19],
            one_line(h["by"]),
            h["event"],
            h["judgement"] or "",
            "" if h["grade"] is None else f"{h['grade']} {h['label'] or ''}",
            h["detail"][:200],
        )
    console.print(t if rows else f"Nothing proposed or moderated yet for {a.name} {year}.")


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}%"


@assess_app.command("evaluate")
def assess_evaluate(
    split_date: str = typer.Option(
        None, "--split-date", help="YYYY-MM-DD (default: the rule set's model.split_date)."
    ),
    ruleset: str = typer.Option(
        "ilacs_2025", "--ruleset", help="Rule set whose model to measure: ilacs_2025 or sif_2013."
    ),
    fmt: str = typer.Option("text", "--format", help="text or json."),
    db: Path = DbOption,
) -> None:
    """Measure the proposals against Ofsted's grades on a date split, beside three baselines."""
    import datetime as dt
    import json

    from cspa.assessment.evaluate import evaluate, tested_on
    from cspa.assessment.ruleset import ruleset_for_year

    if fmt not in ("text", "json"):
        raise CspaError(f"--format must be text or json, not {fmt!r}")
    try:
        split = dt.date.fromisoformat(split_date) if split_date else None
    except ValueError as e:
        raise CspaError(f"--split-date must be a date as YYYY-MM-DD, not {split_date!r}") from e
    rs = ruleset_for_year(2025, ruleset)
    with _read(db) as con:
        res = evaluate(con, rs, split)
    if fmt == "json":
        print(json.dumps(res, indent=1, default=str))
        return
    console.print(styled((rs.id, "bold"), f": {res['method']}"))
    tuning = res.get("tuning")
    if tuning:
        first = next(iter(tuning["judgements"].values()))
        t = Table(
            "Previous grade",
            "Penalty",
            "Brier",
            "Exact",
            "Weighted kappa",
            title=f"Settings tried on training inspections only: fitted on those published before "
            f"{first['validation_from']}, scored on the {first['validation_n']} {tested_on(res, participle=True)} from then; the lowest "
            "mean Brier over the judgements is chosen",
        )
        for c in tuning["candidates"]:
            chosen = (c["previous_form"], c["penalty"]) == tuple(tuning["chosen"].values())
            t.add_row(
                c["previous_form"] + (" (chosen)" if chosen else ""),
                f"{c['penalty']:g}",
                f"{c['brier']:.3f}",
                _pct(c["exact"]),
                f"{c['weighted_kappa']:.2f}" if c["weighted_kappa"] is not None else "",
            )
        console.print(t)
    for jid, r in res["judgements"].items():
        t = Table(
            "Method",
            "Exact",
            "Within one",
            "Weighted kappa",
            "Brier",
            title=f"{rs.judgement(jid).label}: train {r['train']['n']} (published before {r['split_date']}), "
            f"test {r['test']['n']} ({tested_on(r, participle=True)} on or after)",
        )
        t.add_row(
            "model",
            _pct(r["test"]["exact"]),
            _pct(r["test"]["within_one"]),
            f"{r['test']['weighted_kappa']:.2f}",
            f"{r['test']['brier']:.3f}",
        )
        for b in r["baselines"].values():
            t.add_row(
                b["label"],
                _pct(b["exact"]),
                _pct(b["within_one"]),
                f"{b['weighted_kappa']:.2f}",
                "",
            )
        console.print(t)
        console.print(r["summary"])


def _report(
    kind: str,
    area: str,
    year: int,
    fmt: str,
    output: Path | None,
    db: Path | None,
    ruleset: str | None,
    template: Path | None,
    all_areas: bool = False,
) -> None:

    from cspa.app.batch import render_assessment_all_areas
    from cspa.app.reports import ReportRequest, write_report

    if fmt not in REPORT_FORMATS:
        raise CspaError(f"--format must be one of {', '.join(REPORT_FORMATS)}, not {fmt!r}")
    if all_areas:
        if year is None:
            raise CspaError("Give --year with --all-areas.")
        folder = output or Path("cspa-output") / f"{kind}-{year}"
        from cspa.outputs.destination import output_folder

        with _read(db) as con, output_folder(folder):
            n = len(render_assessment_all_areas(con, kind, year, fmt, folder, ruleset, template))
        console.print(f"Wrote {n} {kind}s to {one_line(folder)}")
        return
    _need(area, year)
    with _read(db) as con:
        out = write_report(
            con, ReportRequest(kind, area, year=year, ruleset=ruleset), fmt, output, template
        )
    console.print(f"Wrote {one_line(out)}")


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    app.add_typer(assess_app, name="assess")

    # the profile and the letter take the same options; one command definition serves both
    for kind, summary in (
        (
            "profile",
            "The performance profile: inspection outcomes by provider type and super-group, inspections,\n"
            "        the education overview and the assessment history.",
        ),
        (
            "letter",
            "The assessment letter: grades (moderated where an inspector has), summary, strengths and areas\n"
            "        for improvement, each sentence linked to its evidence.",
        ),
    ):
        report_app.command(kind, help=summary)(_report_command(kind))


def _report_command(kind: str):
    def command(
        area: str = AreaOption,
        year: int = YearOption,
        fmt: str = typer.Option("html", "--format", help="html, pdf or json."),
        output: Path = typer.Option(None, "--output", "-o", help="File to write."),
        ruleset: str = RulesetOption,
        template: Path = typer.Option(
            None, "--template", help="An organisation's template file or folder."
        ),
        all_areas: bool = typer.Option(
            False, "--all-areas", help="Every authority (--output is a folder)."
        ),
        db: Path = DbOption,
    ) -> None:
        _report(kind, area, year, fmt, output, db, ruleset, template, all_areas)

    command.__name__ = f"report_{kind}"
    return command
