"""The assessment commands: reports as JSON, moderation needs a reason and keeps history."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from cspa.cli import app

runner = CliRunner()


def test_letter_json_has_the_envelope(demo_db, tmp_path):
    out = tmp_path / "letter.json"
    r = runner.invoke(
        app,
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
            str(out),
            "--db",
            str(demo_db),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["grades"][0]["judgement"] == "Children's services assessment"
    assert (doc["grades"][0]["grade"], doc["grades"][0]["label"]) == (4, "Performs excellently")
    assert set(doc["text"]) == {"strengths", "areas_for_improvement"}


def test_profile_json_observations_carry_the_printed_column(demo_db, tmp_path):
    out = tmp_path / "profile.json"
    r = runner.invoke(
        app,
        [
            "report",
            "profile",
            "--area",
            "Luton",
            "--year",
            "2011",
            "--format",
            "json",
            "--output",
            str(out),
            "--db",
            str(demo_db),
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    cm = next(i for i in doc["indicators"] if i["title"] == "Childminder")
    go = next(o for o in cm["observations"] if o["measure"] == "% Good or Outstanding")
    assert (go["display"], go["geography"], go["seed_ref"]) == ("63%", "area", "003:L19")
    ks2 = next(i for i in doc["indicators"] if i["title"] == "Key Stage 2")
    imp = next(
        o
        for o in ks2["observations"]
        if o["measure"] == "1 Year Improvement" and o["geography"] == "area"
    )
    assert imp["display"] == "2.00"


def test_moderation_without_reason_fails_and_history_lists_it(demo_db, tmp_path):
    db = tmp_path / "cspa.duckdb"
    shutil.copy(demo_db, db)
    r = runner.invoke(
        app,
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
            "--db",
            str(db),
        ],
    )
    assert r.exit_code != 0 and "needs a reason" in str(r.exception)
    r = runner.invoke(
        app,
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
            "panel decision",
            "--user",
            "inspector C",
            "--db",
            str(db),
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        app, ["assess", "history", "--area", "Luton", "--year", "2011", "--db", str(db)]
    )
    assert r.exit_code == 0 and "override" in r.output
    import duckdb

    from cspa.assessment.moderation import history

    con = duckdb.connect(str(db), read_only=True)
    events = [(h["event"], h["by"], h["grade"]) for h in history(con, "profile_2011", "821", 2011)]
    con.close()
    assert events[-2:] == [("override", "seed transcription", 4), ("override", "inspector C", 2)]


def test_moderating_an_item_that_does_not_exist_records_nothing(demo_db, tmp_path):
    db = tmp_path / "cspa.duckdb"
    shutil.copy(demo_db, db)
    r = runner.invoke(
        app,
        [
            "assess",
            "moderate",
            "--area",
            "Luton",
            "--year",
            "2011",
            "--section",
            "strengths",
            "--item",
            "no-such-item",
            "--remove",
            "--reason",
            "tidy",
            "--db",
            str(db),
        ],
    )
    assert r.exit_code != 0
    msg = str(r.exception)
    assert "has no item 'no-such-item' in strengths" in msg and "nothing was recorded" in msg
    assert "sg:SG_POST16" in msg  # the items that do exist are named
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    n = con.execute(
        "SELECT count(*) FROM assessment_moderation WHERE item_key = 'no-such-item'"
    ).fetchall()[0][0]
    con.close()
    assert n == 0
