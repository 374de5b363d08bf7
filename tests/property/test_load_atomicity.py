"""Malformed inputs are refused with file/row/field and leave the store exactly as it was.

Hypothesis generates valid long-format files for real catalogue indicators, then damages
one row in one of the ways users' files go wrong: a wrong type, an unknown area or
indicator, a bad period, a duplicate key, mixed units, a truncated file, the wrong encoding.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cspa.errors import LoadError
from cspa.store.database import Store
from cspa.store.ingest import load_files

HEADER = ["indicator", "measure", "area", "period", "value", "status", "seed_line"]
# real definitions: 2022SC (percent, financial years), 3002OF level2 (academic years)
SERIES = [
    ("2022SC", "", ["2004-05", "2005-06", "2006-07", "2007-08"]),
    ("3002OF", "level2", ["2003", "2004", "2005", "2006", "2007"]),
]
AREAS = ["821", "Luton", "E06000032", "england", "SN:nfer_2007:821", "Slough", "872"]


@st.composite
def valid_rows(draw):
    rows, seen = [], set()
    for _ in range(draw(st.integers(2, 12))):
        code, measure, periods = draw(st.sampled_from(SERIES))
        area = draw(st.sampled_from(AREAS))
        period = draw(st.sampled_from(periods))
        key = (
            code,
            measure,
            area if not area[0].isalpha() or area.startswith("SN") else area.lower(),
            period,
        )
        canon = (code, measure, {"Luton": "821", "E06000032": "821"}.get(area, area), period)
        if canon in seen or key in seen:
            continue
        seen.add(canon)
        value = draw(
            st.one_of(st.floats(0, 100, allow_nan=False).map(lambda x: f"{x:.1f}"), st.just(""))
        )
        status = "" if value else draw(st.sampled_from([".", "..", "-", "n/a"]))
        rows.append(
            {
                "indicator": code,
                "measure": measure,
                "area": area,
                "period": period,
                "value": value,
                "status": status,
                "seed_line": "1",
            }
        )
    return rows


DAMAGE = {
    "wrong_type": ("value", "eighty"),
    "unknown_area": ("area", "Atlantis"),
    "unknown_indicator": ("indicator", "9999XX"),
    "bad_period": ("period", "2007-05"),
    "unknown_measure": ("measure", "no_such_part"),
    "mixed_units": ("value", "£74"),
    "bad_status": ("status", "???"),
}


def _csv(rows) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, HEADER, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _snapshot(store: Store):
    return store.con.execute(
        "SELECT count(*), sum(hash(indicator, measure, area, period, value, is_current)) "
        "FROM observation"
    ).fetchone(), store.count("load_log")


@pytest.fixture(scope="module")
def store():
    s = Store.open(":memory:")
    s.sync_reference()
    # some existing data, so that "unchanged" means something
    yield s
    s.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=valid_rows(), damage=st.sampled_from(sorted(DAMAGE)), where=st.integers(0, 100))
def test_damaged_row_refused_and_store_unchanged(store, tmp_path_factory, rows, damage, where):
    path = tmp_path_factory.mktemp("load") / "input.csv"
    path.write_bytes(_csv(rows))
    load_files(store, [path], vintage="base")  # valid files load
    before = _snapshot(store)
    i = where % len(rows)
    field, bad = DAMAGE[damage]
    rows[i] = dict(rows[i], **{field: bad})
    if damage == "wrong_type":
        rows[i]["status"] = ""
    path.write_bytes(_csv(rows))
    with pytest.raises(LoadError) as e:
        load_files(store, [path], vintage="damaged")
    problem = e.value.problems[0]
    assert problem.file == "input.csv"
    assert problem.row == i + 2
    assert problem.field == field
    assert _snapshot(store) == before


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=valid_rows(), cut=st.floats(0.3, 0.95))
def test_truncated_file_refused(store, tmp_path_factory, rows, cut):
    data = _csv(rows)
    # cut inside a row (never exactly at a line end, which would just be a shorter valid file)
    # a cut inside the header is a different error (a damaged header, also refused); cut inside a row
    pos = max(int(len(data) * cut), data.index(b"\n") + 2)
    while pos < len(data) and data[pos - 1 : pos] in (b"\n", b","):
        pos += 1
    path = tmp_path_factory.mktemp("trunc") / "input.csv"
    path.write_bytes(data[:pos])
    before = _snapshot(store)
    last_line = data[:pos].decode().split("\n")[-1]
    # the cut left a complete row: not a truncation, let hypothesis try another cut
    assume(last_line.count(",") != len(HEADER) - 1)
    with pytest.raises(LoadError) as e:
        load_files(store, [path])
    assert "fields where the header has" in str(e.value) or "truncated" in str(e.value)
    assert _snapshot(store) == before


def test_duplicate_key_refused(store, tmp_path):
    rows = [
        {
            "indicator": "2022SC",
            "measure": "",
            "area": "821",
            "period": "2004-05",
            "value": "46",
            "status": "",
            "seed_line": "1381",
        },
        {
            "indicator": "2022SC",
            "measure": "",
            "area": "Luton",
            "period": "2004-05",
            "value": "47",
            "status": "",
            "seed_line": "1381",
        },
    ]
    path = tmp_path / "dup.csv"
    path.write_bytes(_csv(rows))
    before = _snapshot(store)
    with pytest.raises(LoadError) as e:
        load_files(store, [path])
    assert "duplicate key 2022SC / value / 821" in str(e.value) and e.value.problems[0].row == 3
    assert _snapshot(store) == before


def test_wrong_encoding_refused(store, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "indicator,area,period,value,note\n2022SC,821,2004-05,46,Café\n".encode("latin-1")
    )
    before = _snapshot(store)
    with pytest.raises(LoadError) as e:
        load_files(store, [path])
    assert e.value.problems[0].row == 2 and "not UTF-8" in str(e.value)
    assert _snapshot(store) == before


def test_second_file_bad_means_nothing_written(store, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(
        _csv(
            [
                {
                    "indicator": "2022SC",
                    "measure": "",
                    "area": "872",
                    "period": "2004-05",
                    "value": "50",
                    "status": "",
                    "seed_line": "1",
                }
            ]
        )
    )
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        _csv(
            [
                {
                    "indicator": "2022SC",
                    "measure": "",
                    "area": "872",
                    "period": "2004-05",
                    "value": "seventy",
                    "status": "",
                    "seed_line": "1",
                }
            ]
        )
    )
    before = _snapshot(store)
    with pytest.raises(LoadError):
        load_files(store, [good, bad])
    assert _snapshot(store) == before


def test_newer_vintage_keeps_history(store, tmp_path):
    p = tmp_path / "v.csv"
    row = {
        "indicator": "2022SC",
        "measure": "",
        "area": "874",
        "period": "2006-07",
        "value": "70",
        "status": "",
        "seed_line": "1",
    }
    p.write_bytes(_csv([row]))
    load_files(store, [p], vintage="April 2008 v1")
    p.write_bytes(_csv([dict(row, value="72")]))
    load_files(store, [p], vintage="September 2008 v2")
    changes = store.con.execute(
        "SELECT previous_value, previous_vintage, value, vintage FROM observation_changes "
        "WHERE area = '874' AND period = 'FY2006-07'"
    ).fetchall()
    assert changes == [(70.0, "April 2008 v1", 72.0, "September 2008 v2")]
