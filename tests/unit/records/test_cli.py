"""The records commands: validate says what blocks, load refuses it whole, generate is seeded."""

from __future__ import annotations

from typer.testing import CliRunner

from cspa.cli import app
from cspa.errors import LoadError

from .conftest import FAKE_903, FAKE_CIN

runner = CliRunner()


def _tables(db: str) -> set[str]:
    import duckdb

    with duckdb.connect(db, read_only=True) as con:
        return {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }


EPISODES = [str(FAKE_903 / "header.csv"), str(FAKE_903 / "episodes.csv")]


def test_validate_exits_1_when_a_blocking_rule_fails():
    ok = runner.invoke(app, ["records", "validate", *EPISODES, "--la", "luton", "--limit", "3"])
    assert ok.exit_code == 0, ok.output
    assert "collection year 2017-18" in ok.output and "none blocks a load" in ok.output
    bad = runner.invoke(app, ["records", "validate", *EPISODES, "--la", "821", "--blocking", "501"])
    assert bad.exit_code == 1
    assert "BLOCKING: 501" in bad.output
    assert "episodes.csv, row 313, child 708102, field DECOM: rule 501" in " ".join(
        bad.output.split()
    )


def test_load_refuses_a_blocked_return_and_loads_a_clean_one(tmp_path):
    db = str(tmp_path / "r.duckdb")
    bad = runner.invoke(
        app, ["records", "load", *EPISODES, "--la", "821", "--blocking", "501", "--db", db]
    )
    # the CLI's main() prints the error as one paragraph; the runner hands back the exception itself
    assert isinstance(bad.exception, LoadError)
    assert "episodes.csv, row 313, field 'DECOM': child 708102: rule 501" in str(bad.exception)
    assert not (tmp_path / "r.duckdb").exists() or "rec_ssda903_episodes" not in _tables(db)
    ok = runner.invoke(
        app, ["records", "load", str(FAKE_CIN / "fake_CIN_data.xml"), "--la", "luton", "--db", db]
    )
    assert ok.exit_code == 0, ok.output
    assert "Loaded return 1: cin 821 2021-22" in " ".join(ok.output.split())
    assert "Computed 2 figures" in ok.output


def test_rules_command_reports_the_count():
    r = runner.invoke(app, ["records", "rules"])
    assert "269 of 312 implemented (32 of them partly)" in " ".join(r.output.split())
