"""Hostile names, texts and values through every command that takes them (issue 22).

Hypothesis generates file names and texts with markup brackets, control characters, right-to-left
overrides and 100 kB strings, and values in every spelling a number can be mistyped in. The
properties: no command fails with "Unexpected error"; nothing a user typed is read as terminal
markup or reaches the terminal as a control character; what is stored is shown back as typed;
a value is either the figure its text plainly says or refused naming its cell, and a refused load
leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from cspa.errors import LoadError, one_line
from cspa.outputs.safe_text import terminal_text
from cspa.store.database import Store
from cspa.store.ingest import load_files
from cspa.store.validate import number_problem
from tests.unit.cli.helpers import cspa
from tests.unit.store.helpers import row, snapshot, write_csv

FAST = settings(
    max_examples=20,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

MARKUP = st.sampled_from(
    [
        "[/x]",
        "[bold]",
        "[/]",
        "[link=https://example.invalid]",
        "[red]",
        ":smile:",
        "\\[",
        "[#ff0000]",
        "]",
        "[",
    ]
)
CONTROL = st.sampled_from(
    [
        "\x1b[2J",
        "\x1b]8;;https://e.invalid\x1b\\",
        "\x07",
        "\x08",
        "\r",
        "\x7f",
        "\x9b",
        "\u202e",
        "\u202d",
        "\u2066",
        "\u200f",
        "\u2028",
    ]
)
PLAIN = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
)


def hostile(max_parts: int = 6) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(MARKUP, CONTROL, PLAIN), min_size=1, max_size=max_parts).map("".join)


HOSTILE_TEXT = st.one_of(
    hostile(), hostile().map(lambda s: (s + "x") * (100_000 // (len(s) + 1) + 1))
)
# a file name: no '/' or NUL, at most 255 bytes (the file system's limit)
FILE_NAME = (
    hostile()
    .map(lambda s: s.replace("/", "_").replace("\x00", "_"))
    .filter(lambda s: s.strip() not in ("", ".", "..") and len((s + ".csv").encode()) <= 255)
)


def _clean(text: str) -> None:
    """Nothing reached the terminal that could change what it shows."""
    assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text and "\x07" not in text


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    # one database for the module's examples (a new one would sync the catalogue each time)
    r = cspa(
        "load",
        str(write_csv(folder / "base.csv", [row(value="45")])),
        "--db",
        str(folder / "cspa.duckdb"),
    )
    assert r.code == 0, r.err
    return folder


@FAST
@example(name="[_x]", vintage="")  # an empty vintage is none given (found in a fresh clone's run)
@given(name=FILE_NAME, vintage=HOSTILE_TEXT)
def test_hostile_file_names_and_vintages_load_and_show_as_typed(work, name, vintage):
    folder = work / f"n{abs(hash((name, vintage)))}"
    folder.mkdir(exist_ok=True)
    path = write_csv(folder / (name + ".csv"), [row(value="46")])
    db = work / "cspa.duckdb"
    r = cspa(
        "load",
        str(path),
        "--db",
        str(db),
        "--vintage",
        vintage,
        "--source",
        vintage[:500],
        "--licence",
        name,
        width=100_000_000,
    )
    assert r.code == 0 and not r.unexpected, r.err[:2000]
    # a name or label is shown on one line (a line break as \\n), every other control character escaped
    assert terminal_text(one_line(path.name)) in r.out
    _clean(r.out + r.err)
    r = cspa("data", "status", "--db", str(db), width=100_000_000)
    assert r.code == 0 and not r.unexpected, r.err[:2000]
    assert terminal_text(one_line(vintage)) in r.out and terminal_text(one_line(path.name)) in r.out
    _clean(r.out + r.err)
    store = Store.open(db, read_only=True)
    try:
        got = store.con.execute(
            "SELECT vintage, source, licence FROM load_log ORDER BY load_id DESC LIMIT 1"
        ).fetchall()
    finally:
        store.close()
    if vintage:
        assert got == [(vintage, vintage[:500], name)]  # stored as typed
    else:  # an empty vintage and source are none given: the file's name, and the day it was loaded
        assert got[0][0].startswith(f"{path.name} loaded ") and got[0][1:] == (path.name, name)
    shutil.rmtree(folder)


@FAST
@example(query="\u0800\U00010000x" * 40)  # a file name over the system's 255 bytes (found in CI)
@example(query="-0")  # reads as an option unless the options are ended first (found in a run)
@given(query=HOSTILE_TEXT)
def test_hostile_queries_are_named_errors_never_unexpected(work, query):
    # the query is passed after '--', as a script passing what a user typed does: a query that
    # begins with '-' would otherwise be read as an option (Click's usage error, exit 2, below)
    for args in (
        ["areas", "show", "--", query],
        ["catalogue", "show", "--", query],
        ["neighbours", "--", query],
        [
            "load",
            str(work / (query[:100].replace("/", "_").replace("\x00", "_") + ".csv")),
            "--db",
            str(work / "cspa.duckdb"),
        ],
    ):
        r = cspa(*args)
        assert r.code in (0, 1) and not r.unexpected, (args[:2], r.err[:2000])
        _clean(r.out + r.err)


def test_a_query_read_as_an_option_is_a_named_usage_error():
    # Click's usage error: exit 2 as for any command line, the option named, no traceback
    r = cspa("areas", "show", "-0")
    assert r.code == 2 and "No such option: -0" in r.err
    assert "Unexpected error" not in r.err and "Traceback" not in r.err


@pytest.fixture(scope="module")
def demo_copy(demo_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("hostile-demo") / "cspa.duckdb"
    shutil.copy(demo_db, db)
    return db


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reason=HOSTILE_TEXT, user=hostile(), text=HOSTILE_TEXT)
def test_hostile_moderation_reasons_users_and_texts_are_kept_and_shown_as_typed(
    demo_copy, reason, user, text
):
    assume(reason.strip() and user.strip() and text.strip())
    db = str(demo_copy)
    r = cspa(
        "assess",
        "moderate",
        "--area",
        "Luton",
        "--year",
        "2011",
        "--section",
        "strengths",
        "--text",
        text,
        "--reason",
        reason,
        "--user",
        user,
        "--db",
        db,
    )
    assert r.code == 0 and not r.unexpected, r.err[:2000]
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
        str(demo_copy.parent / "letter.json"),
        "--db",
        db,
    )
    assert r.code == 0 and not r.unexpected, r.err[:2000]
    letter = json.loads((demo_copy.parent / "letter.json").read_text(encoding="utf-8"))
    assert text in letter["text"]["strengths"]  # kept character for character
    r = cspa(
        "assess", "history", "--area", "Luton", "--year", "2011", "--db", db, width=100_000_000
    )
    assert r.code == 0 and not r.unexpected, r.err[:2000]
    assert terminal_text(one_line(user)) in r.out
    _clean(r.out + r.err)


@FAST
@given(area=HOSTILE_TEXT, period=hostile(), indicator=hostile(), name=FILE_NAME)
def test_hostile_report_arguments_are_named_errors(
    demo_db, tmp_path_factory, area, period, indicator, name
):
    out = str(tmp_path_factory.mktemp("o") / name)
    for args in (
        ["quarterly", "history", "--area", area, "--period", period, "--indicator", indicator],
        ["report", "quarterly", "--area", area, "--period", period, "--output", out],
        ["quarterly", "template", "--area", area, "--period", period, "--output", out],
        ["report", "apa-dataset", "--area", area, "--output", out],
        ["report", "profile", "--area", area, "--year", "2011", "--output", out],
        ["judge", "--framework", indicator],
    ):
        r = cspa(*args, "--db", str(demo_db))
        assert r.code in (0, 1) and not r.unexpected, (args[:2], r.err[:2000])
        _clean(r.out + r.err)


# ------------------------------------------------------------------ values

NUMBERISH = st.one_of(
    st.from_regex(r"\A[ +\-£]{0,2}[0-9٠-٩_,. ]{1,8}([eE][+\-]?[0-9]{1,3})?%?\Z"),
    st.sampled_from(
        [
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "1e309",
            "-1e309",
            "1_000",
            "19,5",
            "1,2,3",
            "0x1A",
            "١٢",
            "½",
            "1e-400",
            "  7  ",
            "+.5",
            "5.",
            "£46",
            "46%",
            "--1",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)


@pytest.fixture(scope="module")
def store():
    s = Store.open(":memory:")
    s.sync_reference()
    yield s
    s.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=NUMBERISH)
def test_a_value_is_the_figure_its_text_says_or_refused_by_name(store, tmp_path_factory, text):
    # 2022SC is a percentage (0 to 100); a status symbol in the value column is a status
    assume("\x00" not in text and "\n" not in text and "\r" not in text)
    path = write_csv(
        tmp_path_factory.mktemp("v") / "v.csv", [row(area="821", period="2006-07", value=text)]
    )
    cell = text.strip()
    before = snapshot(store)
    try:
        [res] = load_files(store, [path])
    except LoadError as e:
        assert snapshot(store) == before
        assert [(p.file, p.row, p.field) for p in e.problems][:1] in (
            [("v.csv", 2, "value")],
            [("v.csv", 2, "status")],
        )
        return
    got = store.con.execute(
        "SELECT value, status FROM observation WHERE load_id = ?", [res.load_id]
    ).fetchall()
    if got[0][0] is None:
        assert got[0][1] == cell  # a status symbol
        return
    assert number_problem(cell) is None, cell
    value = got[0][0]
    assert math.isfinite(value) and 0 <= value <= 100
    assert value == float(cell.replace("£", "").rstrip("%")), (cell, value)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(note=HOSTILE_TEXT)
def test_a_note_is_stored_as_written(store, tmp_path_factory, note):
    assume("\x00" not in note)
    path = write_csv(
        tmp_path_factory.mktemp("n") / "n.csv",
        [row(area="821", period="2005-06", value="40")],
        header=None,
    )
    import csv as _csv

    with path.open("w", encoding="utf-8", newline="") as f:
        w = _csv.writer(f)
        w.writerow(["indicator", "area", "period", "value", "note"])
        w.writerow(["2022SC", "821", "2005-06", "40", note])
    [res] = load_files(store, [path])
    got = store.con.execute(
        "SELECT note FROM observation WHERE load_id = ?", [res.load_id]
    ).fetchall()[0][0]
    assert got == (note.strip() or None)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=HOSTILE_TEXT, user=hostile())
def test_hostile_commentary_survives_the_template_untouched(demo_copy, text, user):
    """Whatever words are stored, an untouched template loads back changing nothing."""
    from cspa.quarterly.template import write_template

    assume(text.strip() and user.strip())
    with Store.open(demo_copy) as store:
        store.con.execute(
            """INSERT INTO quarterly_text_revision VALUES (nextval('quarterly_revision_seq'), '821', 'FY2007-08-Q4',
               'PAF A2', 'commentary', 0, ?, NULL, NULL, FALSE, NULL, 'tester', now(), 'test', NULL)""",
            [text],
        )
        path = demo_copy.parent / "t.xlsx"
        write_template(store.con, "Luton", "2007-08-Q4", path)
    r = cspa(
        "quarterly", "load", str(path), "--user", user, "--db", str(demo_copy), width=100_000_000
    )
    assert r.code == 0 and not r.unexpected, r.err[:2000]
    assert "0 text(s)" in r.out
    _clean(r.out + r.err)
    with Store.open(demo_copy, read_only=True) as store:
        got = store.con.execute(
            "SELECT text FROM quarterly_text WHERE area = '821' AND period = 'FY2007-08-Q4' "
            "AND indicator = 'PAF A2' AND field = 'commentary'"
        ).fetchall()
    assert got == [(text,)]
