"""Every command checks the schema version: earlier stores are migrated (tested on databases built
from the schema files of two earlier releases), newer ones refused and left untouched, and a
``--db`` that does not exist is created only by the commands that build a database.

Before issue 22: a store of the first release failed with a BinderException and was then stamped
as current; a store stamped by a newer cspa was stamped and written to; ``--db`` pointing at a
text file gave a raw IOException; a mistyped ``--db`` for ``judge`` silently created an empty
database.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from cspa.errors import SchemaError
from cspa.store.database import SCHEMA_VERSION, Store
from cspa.store.ingest import load_files
from tests.unit.cli.helpers import cspa
from tests.unit.store.helpers import row, write_csv

FIXTURES = Path(__file__).with_name("fixtures")
OBS = [
    ("2022SC", "value", "821", "FY2006-07", "2006-07", 46.0),
    ("2022SC", "value", "872", "FY2006-07", "2006-07", 51.5),
]


def _old_store(path: Path, release: str) -> None:
    """A database as the release made it: its schema files, its (15-column) area rows, a load and
    observations, and for the later release a target, words and a moderation users typed."""
    con = duckdb.connect(str(path))
    folder = FIXTURES / f"schema_{release}"
    for sql in [folder / "schema.sql", *sorted(folder.glob("schema_*.sql"))]:
        con.execute(sql.read_text(encoding="utf-8"))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '1')")
    con.execute(
        "INSERT INTO area VALUES ('821', 'Luton', 'la', '821', 'E06000032', 'E12000006', 'unitary authority',"
        " TRUE, TRUE, NULL, 51.9, -0.4, 821, NULL, NULL)"
    )
    con.execute(
        "INSERT INTO load_log VALUES (nextval('load_seq'), 'old.csv', 'long', 'old', 'release vintage', NULL, "
        "2, now(), 'analyst', 'abc')"
    )
    for ind, m, area, per, label, v in OBS:
        con.execute(
            "INSERT INTO observation (indicator, measure, area, period, period_label, period_kind, statistic, "
            "value, vintage, load_id, is_current) VALUES (?, ?, ?, ?, ?, 'financial_year', 'value', ?, "
            "'release vintage', 1, TRUE)",
            [ind, m, area, per, label, v],
        )
    if release == "3d3a88b":
        con.execute("""INSERT INTO quarterly_text_revision VALUES (nextval('quarterly_revision_seq'), '821',
                       'FY2007-08-Q4', 'NI 59', 'commentary', 0, 'Typed by a person', NULL, NULL, FALSE, NULL,
                       'alice', now(), 'quarterly template', NULL)""")
        con.execute("""INSERT INTO assessment_moderation VALUES (1, 'profile_2011', '821', 2011,
                       'childrens_services_assessment', 'override', 3, 2, 'Performs well', NULL, NULL, NULL,
                       'panel decision', 'inspector C', now(), NULL, NULL)""")
    con.close()


def _user_rows(con) -> tuple:
    q = con.execute
    out = [
        q(
            "SELECT indicator, measure, area, period, value, vintage FROM observation ORDER BY area"
        ).fetchall(),
        q("SELECT file, vintage, loaded_by FROM load_log").fetchall(),
    ]
    tables = {r[0] for r in q("SELECT table_name FROM information_schema.tables").fetchall()}
    if "quarterly_text_revision" in tables:
        out.append(q("SELECT text, changed_by FROM quarterly_text_revision").fetchall())
        out.append(q("SELECT reason, moderated_by, grade FROM assessment_moderation").fetchall())
    return tuple(out)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("release", ["73d2f08", "3d3a88b"])
def test_store_of_an_earlier_release_is_migrated_keeping_everything(tmp_path, release):
    path = tmp_path / "old.duckdb"
    _old_store(path, release)
    con = duckdb.connect(str(path), read_only=True)
    before = _user_rows(con)
    con.close()
    with Store.open(path) as store:
        assert store.con.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchall() == [(str(SCHEMA_VERSION),)]
        assert _user_rows(store.con)[:2] == before[:2]
        if release == "3d3a88b":
            assert _user_rows(store.con) == before
        # the reference tables are the current shape and synced: the areas carry their lifetimes
        got = store.con.execute("SELECT figures_until FROM area WHERE code = '820'").fetchall()
        assert str(got[0][0]) == "2009-08-31"
        cols = {r[0] for r in store.con.execute("DESCRIBE measure").fetchall()}
        assert {"formula_comparator_area", "significance_json"} <= cols
        # and it takes new loads (positional inserts into the rebuilt tables)
        [res] = load_files(store, [write_csv(tmp_path / "new.csv", [row(area="873", value="44")])])
        assert res.rows == 1
        store.sync_reference()


def test_cli_upgrades_an_old_store_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_store(path, "3d3a88b")
    old_sha = _sha(path)
    r = cspa("data", "status", "--db", str(path))
    assert r.code == 0, r.err
    assert "Upgrading" in r.err and f"from schema version 1 to {SCHEMA_VERSION}" in r.err
    backup = tmp_path / "old.duckdb.schema1.bak"
    assert backup.exists() and _sha(backup) == old_sha
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
        (str(SCHEMA_VERSION),)
    ]
    assert con.execute("SELECT text FROM quarterly_text_revision").fetchall() == [
        ("Typed by a person",)
    ]
    con.close()


def _newer(path: Path) -> None:
    with Store.open(path):
        pass
    con = duckdb.connect(str(path))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '99')")
    con.close()


COMMANDS = [
    ["data", "status"],
    ["load", "{csv}"],
    ["judge"],
    ["data", "upgrade"],
    ["report", "apa-dataset", "--area", "Luton", "--format", "json", "--output", "{out}"],
    [
        "report",
        "letter",
        "--area",
        "Luton",
        "--year",
        "2011",
        "--format",
        "json",
        "--output",
        "{out}",
    ],
    ["quarterly", "history", "--area", "Luton"],
    ["quarterly", "template", "--area", "Luton", "--period", "2007-08-Q4", "--output", "{out}"],
    ["assess", "history", "--area", "Luton", "--year", "2011"],
    [
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
        "r",
    ],
]


def _args(cmd, tmp_path, db):
    csv = write_csv(tmp_path / "in.csv", [row(value="40")])
    return [a.format(csv=csv, out=tmp_path / "out.x") for a in cmd] + ["--db", str(db)]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_newer_schema_refused_by_every_command_and_left_untouched(tmp_path, cmd):
    path = tmp_path / "newer.duckdb"
    _newer(path)
    sha = _sha(path)
    r = cspa(*_args(cmd, tmp_path, path))
    assert r.code == 1 and not r.unexpected, r.err
    assert "written by a newer cspa (schema version 99" in r.err
    assert _sha(path) == sha
    assert not (tmp_path / "out.x").exists()


def test_newer_schema_refused_by_the_library(tmp_path):
    path = tmp_path / "newer.duckdb"
    _newer(path)
    for read_only in (True, False):
        with pytest.raises(SchemaError, match="newer cspa"):
            Store.open(path, read_only=read_only)
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
        ("99",)
    ]
    con.close()


@pytest.mark.parametrize(
    "cmd", [c for c in COMMANDS if c[0] != "load"], ids=lambda c: " ".join(c[:2])
)
def test_missing_db_is_not_created_by_commands_that_do_not_build_one(tmp_path, cmd):
    path = tmp_path / "mistyped.duckdb"
    r = cspa(*_args(cmd, tmp_path, path))
    assert r.code == 1 and not r.unexpected, r.err
    assert f"No database at {path}" in r.err
    assert not path.exists() and not list(tmp_path.glob("mistyped*"))


def test_load_creates_the_database(tmp_path):
    path = tmp_path / "new" / "cspa.duckdb"
    r = cspa("load", str(write_csv(tmp_path / "in.csv", [row(value="40")])), "--db", str(path))
    assert r.code == 0, r.err
    assert path.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"hello, this is a text file\n", "is not a cspa database (not a DuckDB file)"),
        (None, "is a folder"),
    ],
)
@pytest.mark.parametrize(
    "cmd", [["data", "status"], ["load", "{csv}"], ["judge"]], ids=lambda c: c[0]
)
def test_db_that_is_not_a_database_is_a_named_error(tmp_path, content, message, cmd):
    path = tmp_path / "thing.duckdb"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    r = cspa(*_args(cmd, tmp_path, path))
    assert r.code == 1 and not r.unexpected, r.err
    assert message in r.err
    if content is not None:
        assert path.read_bytes() == content


def test_duckdb_database_of_something_else_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    sha = _sha(path)
    for cmd in (["data", "status"], ["load", "{csv}"]):
        r = cspa(*_args(cmd, tmp_path, path))
        assert r.code == 1 and "is a DuckDB database but not a cspa one" in r.err, r.err
    assert _sha(path) == sha


# ------------------------------------------------------------------ version 2 (before issue 17)


def _columns(con) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for t, c, ty in rows:
        out.setdefault(t, []).append((c, ty))
    return out


def _v2_store(path: Path, tmp_path: Path) -> None:
    """A store as the last version-2 release (commit 686975d) left it: synced, a load, and what
    users typed. Made with today's code and then taken back to that release's shape (no
    series_break table, no measure.recent_trend, no load_log.released), which the test checks
    against that release's own schema files."""
    with Store.open(path) as store:
        store.sync_reference()
        load_files(store, [write_csv(tmp_path / "v2.csv", [row(area="821", value="46")])])
        store.con.execute(
            """INSERT INTO quarterly_text_revision VALUES (nextval('quarterly_revision_seq'), '821',
               'FY2007-08-Q4', 'NI 59', 'commentary', 0, 'Typed at version 2', NULL, NULL, FALSE, NULL,
               'alice', now(), 'quarterly template', NULL)"""
        )
        con = store.con
        con.execute("DROP TABLE series_break")
        con.execute("ALTER TABLE measure DROP COLUMN recent_trend")
        con.execute("ALTER TABLE load_log DROP COLUMN released")
        con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '2')")
        shape = _columns(con)
    release = duckdb.connect()
    folder = FIXTURES / "schema_686975d"
    for sql in [folder / "schema.sql", *sorted(folder.glob("schema_*.sql"))]:
        release.execute(sql.read_text(encoding="utf-8"))
    expected = _columns(release)
    release.close()
    assert shape == expected  # the emulated store is the version-2 release's shape, table by table


def test_version_2_store_is_migrated_with_its_reference_data_made_current(tmp_path):
    """Migration 2 -> 3 adds the columns and table and syncs the reference data again: a store judged
    after the upgrade has the catalogue's series breaks and recent-trend rules, not empty ones."""
    path = tmp_path / "v2.duckdb"
    _v2_store(path, tmp_path)
    fresh = Store.open(":memory:")
    fresh.sync_reference()
    want_breaks = fresh.count("series_break")
    want_trends = fresh.con.execute(
        "SELECT count(*) FROM measure WHERE recent_trend IS NOT NULL"
    ).fetchall()[0][0]
    fresh.close()
    assert want_breaks > 0 and want_trends > 0  # else this test could not fail
    old_sha = _sha(path)
    r = cspa("data", "status", "--db", str(path))
    assert r.code == 0 and not r.unexpected, r.err
    assert f"from schema version 2 to {SCHEMA_VERSION}" in r.err
    assert _sha(tmp_path / "v2.duckdb.schema2.bak") == old_sha
    con = duckdb.connect(str(path), read_only=True)
    q = lambda s: con.execute(s).fetchall()  # noqa: E731
    assert q("SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
    assert q("SELECT count(*) FROM series_break") == [(want_breaks,)]
    assert q("SELECT count(*) FROM measure WHERE recent_trend IS NOT NULL") == [(want_trends,)]
    assert q("SELECT released FROM load_log") == [(None,)]  # earlier loads: no release date
    assert q("SELECT area, value FROM observation") == [("821", 46.0)]
    assert q("SELECT text, changed_by FROM quarterly_text_revision") == [
        ("Typed at version 2", "alice")
    ]
    con.close()
    # and it judges and takes loads as a store made today does
    r = cspa(
        "load",
        str(write_csv(tmp_path / "v3.csv", [row(area="872", value="51")])),
        "--db",
        str(path),
    )
    assert r.code == 0, r.err
    r = cspa("judge", "--db", str(path))
    assert r.code == 0, r.err
