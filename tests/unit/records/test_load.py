"""Returns into the store (all or nothing) and measures out of it as observations with provenance."""

from __future__ import annotations

import pytest

from cspa.errors import LoadError
from cspa.records.cin import read_cin
from cspa.records.load import compute_to_store, load_return
from cspa.records.rules import load_rules, validate
from cspa.records.ssda903 import read_903

from .conftest import FAKE_903_CSV, FAKE_CIN


def _counts(store):
    tables = [
        r[0]
        for r in store.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_name LIKE 'rec_%' OR table_name LIKE 'record_%'"
        ).fetchall()
    ]
    return {t: store.count(t) for t in tables} | {"observation": store.count("observation")}


def test_a_return_failing_a_blocking_rule_loads_nothing(bare_store):
    ret = read_903(FAKE_903_CSV[:2], la="821")
    v = validate(ret, load_rules(blocking=["501", "148"]))
    before = _counts(bare_store)
    with pytest.raises(LoadError) as e:
        load_return(bare_store, ret, v)
    assert _counts(bare_store) == before
    msg = str(e.value)
    assert (
        "episodes.csv, row 3, field 'DEC': child 566910: rule 148:" in msg
    )  # open episode with a reason


def test_fake_returns_load_and_their_measures_reach_the_store(bare_store):
    r903 = read_903(FAKE_903_CSV, la="821")
    rid = load_return(bare_store, r903, validate(r903), licence="MIT (fake test data)")
    cin = read_cin(FAKE_CIN / "fake_CIN_data.xml", la="821")
    load_return(bare_store, cin, validate(cin))
    assert (
        bare_store.con.execute(
            "SELECT count(*) FROM rec_ssda903_episodes WHERE return_id = ?", [rid]
        ).fetchall()[0][0]
        == 5050
    )
    assert (
        bare_store.con.execute(
            "SELECT findings FROM record_return WHERE return_id = ?", [rid]
        ).fetchall()[0][0]
        == bare_store.con.execute(
            "SELECT count(*) FROM record_finding WHERE return_id = ?", [rid]
        ).fetchall()[0][0]
    )
    res = compute_to_store(bare_store)
    assert [r.rows for r in res] == [15, 2]
    row = bare_store.con.execute("""SELECT value, numerator, denominator, period, note, source, licence FROM observation_current
                                    WHERE indicator = 'REC_CLA_31MAR' AND measure = 'rate' AND area = '821'""").fetchall()[
        0
    ]
    # 1,201 children at 31 March 2018 (several episodes count once); Luton's ONS 0-17 mid-2017 estimate 58,006
    assert row[1:4] == (1201.0, 58006.0, "FY2017-18") and row[0] == pytest.approx(
        1201 / 58006 * 10000
    )
    assert "SSDA903 return 821 2017-18" in row[4] and "rules 903 2024-25" in row[4]
    assert "ONS mid-year" in row[5] and row[6] == "MIT (fake test data)"
    # a second load of the same return supersedes the first, which is kept
    load_return(bare_store, r903, validate(r903))
    assert bare_store.con.execute(
        "SELECT count(*), count(*) FILTER (is_current) FROM record_return WHERE kind = 'ssda903'"
    ).fetchall()[0] == (2, 1)
    compute_to_store(bare_store, kinds=("ssda903",))
    assert bare_store.con.execute(
        "SELECT numerator FROM observation_current WHERE indicator = 'REC_CLA_31MAR' "
        "AND measure = 'count'"
    ).fetchall() == [(1201.0,)]
