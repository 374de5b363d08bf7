"""User text is shown as typed, never read as terminal markup, and a CSV export never hands a
spreadsheet a formula to run.

Before issue 22: a file named ``a[/b].csv`` loaded and the command then crashed (a retry loaded it
twice); a vintage, commentary or moderation reason containing ``[/x]`` made ``data status``,
``quarterly history`` or ``assess history`` crash every time after; ``[link=...]`` became a
clickable terminal link; ``quarterly history --format csv`` wrote ``=HYPERLINK(...)`` raw; an
``--output`` that is a folder, read-only or on a full device gave "Unexpected error: OSError"; and
``data status`` printed its rows in no fixed order.
"""

from __future__ import annotations

import csv
import io
import shutil

import duckdb
import pytest

from cspa.outputs.safe_text import spreadsheet_cell, terminal_text
from tests.unit.cli.helpers import cspa
from tests.unit.store.helpers import row, write_csv

HOSTILE = "[/x] [link=https://example.invalid]click[/link] [bold]b[/bold] :smile:"


def _no_terminal_tricks(text: str) -> None:
    assert "\x1b]8;" not in text, "a terminal hyperlink was emitted"
    assert "\x1b" not in text and "\u202e" not in text, (
        "a control or bidi character reached the terminal"
    )
    assert "\U0001f604" not in text, "an emoji code was replaced"


def test_bracketed_file_name_loads_once_and_prints(tmp_path):
    db = tmp_path / "cspa.duckdb"
    (tmp_path / "a[").mkdir()  # the path a[/b].csv: a folder 'a[' holding 'b].csv'
    f = write_csv(tmp_path / "a[/b].csv", [row(value="46")])
    r = cspa("load", str(f), "--db", str(db))
    assert r.code == 0, r.err
    assert "a[/b].csv" in r.out
    r = cspa("data", "status", "--db", str(db))
    assert r.code == 0, r.err
    assert "b].csv" in r.out  # status shows the file's name
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM load_log").fetchall() == [(1,)]
    con.close()


def test_vintage_with_markup_shown_literally_by_data_status(tmp_path):
    db = tmp_path / "cspa.duckdb"
    f = write_csv(tmp_path / "v.csv", [row(value="46")])
    assert cspa("load", str(f), "--db", str(db), "--vintage", HOSTILE).code == 0
    for _ in range(2):  # every time after, not only once
        r = cspa("data", "status", "--db", str(db))
        assert r.code == 0, r.err
        assert HOSTILE in r.out
        _no_terminal_tricks(r.out)


def test_control_and_bidi_characters_in_a_file_name_are_shown_escaped(tmp_path):
    db = tmp_path / "cspa.duckdb"
    f = write_csv(tmp_path / "evil\x1b[2J\u202ename.csv", [row(value="46")])
    r = cspa("load", str(f), "--db", str(db))
    assert r.code == 0, r.err
    assert "evil\\x1b[2J\\u202ename.csv" in r.out
    _no_terminal_tricks(r.out + r.err)


def test_error_message_with_markup_is_one_readable_paragraph(tmp_path):
    (tmp_path / "x[").mkdir()
    name = "missing[bold][link=mailto:a@e.invalid]y[x] :smile:.csv"
    r = cspa("load", str(tmp_path / "x[" / name), "--db", str(tmp_path / "cspa.duckdb"))
    assert r.code == 1 and not r.unexpected, r.err
    assert f"{name}: file not found" in r.err
    _no_terminal_tricks(r.err)


@pytest.fixture
def demo_copy(demo_db, tmp_path):
    db = tmp_path / "cspa.duckdb"
    shutil.copy(demo_db, db)
    return db


def test_moderation_reason_with_markup_shown_by_assess_history(demo_copy):
    r = cspa(
        "assess",
        "moderate",
        "--area",
        "Luton",
        "--year",
        "2011",
        "--judgement",
        "childrens_services_assessment",
        "--grade",
        "2",
        "--reason",
        HOSTILE,
        "--user",
        "[red]inspector[/red]",
        "--db",
        str(demo_copy),
    )
    assert r.code == 0, r.err
    for _ in range(2):
        r = cspa("assess", "history", "--area", "Luton", "--year", "2011", "--db", str(demo_copy))
        assert r.code == 0, r.err
        assert HOSTILE in r.out and "[red]inspector[/red]" in r.out
        _no_terminal_tricks(r.out)


FORMULAS = [
    '=HYPERLINK("https://example.invalid","click")',
    "=1+1",
    "@SUM(A1:A9)",
    "+1+2",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]


def _add_commentary(db, texts: list[str]) -> None:
    con = duckdb.connect(str(db))
    for i, t in enumerate(texts, start=1):
        con.execute(
            """INSERT INTO quarterly_text_revision VALUES (nextval('quarterly_revision_seq'), '821',
                       'FY2007-08-Q4', 'NI 59', 'commentary', ?, ?, NULL, NULL, FALSE, NULL, 'tester', now(),
                       'test', NULL)""",
            [100 + i, t],
        )
    con.close()


def test_quarterly_history_csv_neutralises_formulas(demo_copy):
    _add_commentary(demo_copy, [*FORMULAS, "-23.9", "plain words"])
    r = cspa(
        "quarterly",
        "history",
        "--area",
        "Luton",
        "--period",
        "2007-08-Q4",
        "--format",
        "csv",
        "--db",
        str(demo_copy),
    )
    assert r.code == 0, r.err
    new = [rec[7] for rec in csv.reader(io.StringIO(r.out))]
    for f in FORMULAS:
        assert "'" + f in new, f
        assert f not in new, f
    assert "-23.9" in new and "plain words" in new  # numbers and words as they are


def test_quarterly_history_table_and_json_show_markup_literally(demo_copy):
    _add_commentary(demo_copy, [HOSTILE, "\u202eevil\x1b[2J"])
    r = cspa(
        "quarterly",
        "history",
        "--area",
        "Luton",
        "--period",
        "2007-08-Q4",
        "--db",
        str(demo_copy),
        width=2000,
    )
    assert r.code == 0, r.err
    assert HOSTILE[:47] in r.out  # the table shortens long words to 50 characters
    _no_terminal_tricks(r.out)
    r = cspa(
        "quarterly",
        "history",
        "--area",
        "Luton",
        "--period",
        "2007-08-Q4",
        "--format",
        "json",
        "--db",
        str(demo_copy),
    )
    assert r.code == 0, r.err
    import json

    rows = json.loads(r.out)
    assert HOSTILE in [x["new"] for x in rows] and "\u202eevil\x1b[2J" in [x["new"] for x in rows]
    _no_terminal_tricks(r.out)


def test_data_status_prints_rows_in_a_fixed_order(tmp_path):
    db = tmp_path / "cspa.duckdb"
    symbols = [".", "..", "-", "n/a", "x", "c", "z", "k", "low", "u", ":"]
    rows = [
        row(area="821", period=f"{2000 + i}-{str(i + 1).zfill(2)[-2:]}", status=s)
        for i, s in enumerate(symbols)
    ]
    assert cspa("load", str(write_csv(tmp_path / "s.csv", rows)), "--db", str(db)).code == 0
    r = cspa("data", "status", "--db", str(db))
    block = r.out.split("┃ Status ┃ Rows ┃")[1]
    shown = [line.split("│")[1].strip() for line in block.splitlines() if line.count("│") == 3]
    assert shown == sorted(symbols), shown


@pytest.mark.parametrize(
    "command, target, why",
    [
        ("template", "folder", "is a folder"),
        ("letter", "/sys/cspa-letter.json", "may not write there"),
        ("template", "/dev/full", "the device is full"),
        ("letter", "/dev/full", "a file is in the way"),  # no suffix: a folder to write into
    ],
)
def test_output_that_cannot_be_written_names_the_option(demo_db, tmp_path, command, target, why):
    out = str(tmp_path) if target == "folder" else target
    args = {
        "template": ["quarterly", "template", "--area", "Luton", "--period", "2007-08-Q4"],
        "letter": ["report", "letter", "--area", "Luton", "--year", "2011", "--format", "json"],
    }[command]
    r = cspa(*args, "--output", out, "--db", str(demo_db))
    assert r.code == 1 and not r.unexpected, r.err
    assert f"--output {out}" in r.err and why in r.err


def test_output_folder_for_a_report_writes_a_named_file_in_it(demo_db, tmp_path):
    r = cspa(
        "report",
        "letter",
        "--area",
        "Luton",
        "--year",
        "2011",
        "--format",
        "json",
        "--output",
        str(tmp_path),
        "--db",
        str(demo_db),
    )
    assert r.code == 0, r.err
    assert [p.suffix for p in tmp_path.iterdir()] == [".json"]


def test_helpers():
    assert terminal_text("a\x1bb\u202ec\nd\te") == "a\\x1bb\\u202ec\nd\te"
    assert (
        spreadsheet_cell("=1+1") == "'=1+1"
        and spreadsheet_cell("-5") == "-5"
        and spreadsheet_cell(3) == 3
    )
