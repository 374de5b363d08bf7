"""Template out, filled in, loaded back, report out: nothing lost; conflicts and bad workbooks refused.

The store is a copy of the demo database (Luton's seed 001 figures, targets and narrative for
January-March 2008, docs/seed-formats-001-004.md section 1).
"""

from __future__ import annotations

import json

import pytest

from cspa.errors import LoadError
from cspa.outputs.json_out import to_json
from cspa.quarterly.history import history
from cspa.quarterly.load import ConflictError, load_template
from cspa.quarterly.report import build_quarterly_document
from cspa.quarterly.template import write_template
from tests.unit.quarterly.conftest import counts, find_row, open_book, rows_of

AREA, PERIOD = "Luton", "2007-08-Q4"


def _report(store) -> dict:
    return json.loads(to_json(build_quarterly_document(store.con, AREA, PERIOD)))


def _ind(doc: dict, code: str) -> dict:
    return next(i for i in doc["indicators"] if i["code"] == code)


def _set(path, sheet: str, match: dict, **values) -> None:
    wb = open_book(path)
    ws = wb[sheet]
    r = find_row(ws, **match)
    cols = rows_of(ws)
    for header, v in values.items():
        ws.cell(r, cols[header]).value = v
    wb.save(path)


def test_untouched_template_changes_nothing(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    before = counts(store.con)
    s = load_template(store, path, "alice")
    after = counts(store.con)
    assert (s["targets"], s["texts"], s["actuals"]) == (0, 0, 0)
    # only the load itself is logged
    assert {k: after[k] - before[k] for k in after} == {
        "quarterly_target_revision": 0,
        "quarterly_text_revision": 0,
        "quarterly_load": 1,
        "observation": 0,
        "load_log": 0,
    }


def test_round_trip_nothing_lost(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    # a new actual, a changed target, a new LAA target, new words and a headline news item
    _set(
        path,
        "Actuals",
        {"Indicator": "NI 59", "Measure": "actual", "Period key": "FY2007-08-Q4"},
        Value=58.0,
    )
    _set(
        path,
        "Targets",
        {"Indicator": "NI 117", "Period key": "FY2007-08-Q4", "Target type": "local"},
        Target=8.0,
    )
    _set(
        path,
        "Commentary",
        {"Indicator": "PAF A2", "Field": "commentary"},
        Text="No care leavers left care in the quarter.",
    )
    _set(
        path, "Commentary", {"Indicator": "PAF C20", "Field": "owner"}, Text="Head of Safeguarding"
    )
    _set(
        path, "Commentary", {"Indicator": "LQ07", "Field": "overall_action_plan_rag"}, Text="Green"
    )
    _set(
        path,
        "Report",
        {"Field": "headline_news", "Item": 4},
        Text="Ofsted inspection of the YOS: good.",
    )
    _set(path, "Report", {"Field": "portfolio_holder"}, Text="Cllr A N Other")
    wb = open_book(path)
    ws = wb["Targets"]
    cols = rows_of(ws)
    blank = next(r for r in range(4, ws.max_row + 1) if ws.cell(r, cols["Indicator"]).value is None)
    for h, v in {
        "Indicator": "LQ07",
        "Measure": "actual",
        "Period": "2008/09",
        "Target type": "LAA",
        "Target": 92,
    }.items():
        ws.cell(blank, cols[h]).value = v
    wb.save(path)

    s = load_template(store, path, "alice")
    assert (s["targets"], s["texts"], s["actuals"]) == (2, 5, 1)

    doc = _report(store)
    ni59 = _ind(doc, "NI 59")
    q4 = next(
        o
        for o in ni59["observations"]
        if o["measure_id"] == "actual"
        and o["period"] == "4th Qtr Mar 08"
        and o["geography"] == "area"
    )
    assert (q4["display"], q4["source"]) == ("58.0", "input")
    # the change moved the Q4 glyph: 54.1 -> 58.0 is still improved (001:L42 printed a tick)
    assert (
        next(j for j in ni59["judgements"] if j["period"] == "4th Qtr Mar 08")["progress"]
        == "improved"
    )
    j = next(j for j in _ind(doc, "NI 117")["judgements"] if j["period"] == "4th Qtr Mar 08")
    assert (j["target"], j["rag"]) == (8.0, "green")  # 7.1 against 8.0, low is good
    assert [n["text"] for n in _ind(doc, "PAF A2")["narrative"]] == [
        "No care leavers left care in the quarter."
    ]
    owner = next(n for n in _ind(doc, "PAF C20")["action_plan"] if n["field"] == "owner")
    assert (owner["text"], owner["changed_by"]) == ("Head of Safeguarding", "alice")
    assert (
        next(
            n for n in _ind(doc, "LQ07")["action_plan"] if n["field"] == "overall_action_plan_rag"
        )["rag"]
        == "green"
    )
    assert doc["headline_news"]["items"][-1]["text"] == "Ofsted inspection of the YOS: good."
    assert doc["report_meta"]["portfolio_holder"]["text"] == "Cllr A N Other"
    laa = [t for t in _ind(doc, "LQ07")["targets"] if t["target_type"] == "LAA"]
    assert [(t["period"], t["value"], t["changed_by"]) for t in laa] == [("2008/09", 92.0, "alice")]
    # everything the seed transcription entered is still there
    assert (
        next(n for n in ni59["action_plan"] if n["field"] == "milestones")["changed_by"]
        == "seed 001 transcription"
    )
    assert len(doc["headline_news"]["items"]) == 4
    assert any(
        c.startswith("NI 117: target actual (local), 4th Qtr Mar 08 changed by alice")
        for c in doc["changes"]
    )

    # the template made now shows every entry, so a second template round-trips them unchanged
    path2 = tmp_path / "t2.xlsx"
    write_template(store.con, AREA, PERIOD, path2)
    assert load_template(store, path2, "bob")["unchanged"] > 0
    assert _report(store)["indicators"] == doc["indicators"]

    # the history keeps who changed what, with the old value beside the new
    h = history(store.con, AREA, PERIOD)
    tgt = next(
        r
        for r in h
        if r["kind"] == "target" and r["indicator"] == "NI 117" and r["period"] == "4th Qtr Mar 08"
    )
    assert (tgt["who"], tgt["old"], tgt["new"]) == ("alice", "8.2", "8.0")
    fig = next(r for r in h if r["kind"] == "figure" and r["indicator"] == "NI 59")
    assert (fig["who"], fig["old"], fig["new"]) == ("alice", "57.7", "58.0")


def test_conflicting_second_load_is_refused(store, tmp_path):
    a, b = tmp_path / "alice.xlsx", tmp_path / "bob.xlsx"
    write_template(store.con, AREA, PERIOD, a)
    write_template(store.con, AREA, PERIOD, b)
    _set(
        a,
        "Targets",
        {"Indicator": "NI 59", "Period key": "FY2007-08-Q4", "Target type": "local"},
        Target=66,
    )
    load_template(store, a, "alice")
    # Bob's workbook was made before Alice's load: one change of his collides, one does not
    _set(
        b,
        "Targets",
        {"Indicator": "NI 59", "Period key": "FY2007-08-Q4", "Target type": "local"},
        Target=70,
    )
    _set(b, "Commentary", {"Indicator": "LQ07", "Field": "owner"}, Text="YOS manager")
    before = counts(store.con)
    with pytest.raises(ConflictError) as e:
        load_template(store, b, "bob")
    msg = str(e.value)
    row = find_row(open_book(b)["Targets"], Indicator="NI 59", **{"Period key": "FY2007-08-Q4"})
    assert "Load refused, nothing was written: 1 change(s) in bob.xlsx conflict" in msg
    assert f"bob.xlsx, sheet 'Targets', row {row}" in msg
    assert (
        "your 70 was based on revision" in msg
        and "by alice" in msg
        and "has since made it 66" in msg
    )
    assert counts(store.con) == before  # nothing written, not even Bob's other change
    doc = _report(store)
    assert (
        next(j for j in _ind(doc, "NI 59")["judgements"] if j["period"] == "4th Qtr Mar 08")[
            "target"
        ]
        == 66.0
    )
    assert not [n for n in _ind(doc, "LQ07")["action_plan"] if n["field"] == "owner"]


def test_stale_rows_left_alone_do_not_overwrite(store, tmp_path):
    a, b = tmp_path / "alice.xlsx", tmp_path / "bob.xlsx"
    write_template(store.con, AREA, PERIOD, a)
    write_template(store.con, AREA, PERIOD, b)
    _set(a, "Actuals", {"Indicator": "LQ07", "Period key": "FY2007-08-Q4"}, Value=82)
    load_template(store, a, "alice")
    _set(b, "Commentary", {"Indicator": "LQ07", "Field": "owner"}, Text="YOS manager")
    assert (
        load_template(store, b, "bob")["texts"] == 1
    )  # Bob's old copy of the figure (81) is not a change
    lq07 = _ind(_report(store), "LQ07")
    q4 = next(
        o
        for o in lq07["observations"]
        if o["period"] == "4th Qtr Mar 08" and o["geography"] == "area"
    )
    assert q4["display"] == "82"


def test_conflicting_actual_is_refused(store, tmp_path):
    a, b = tmp_path / "alice.xlsx", tmp_path / "bob.xlsx"
    write_template(store.con, AREA, PERIOD, a)
    write_template(store.con, AREA, PERIOD, b)
    _set(a, "Actuals", {"Indicator": "LQ07", "Period key": "FY2007-08-Q4"}, Value=82)
    load_template(store, a, "alice")
    _set(b, "Actuals", {"Indicator": "LQ07", "Period key": "FY2007-08-Q4"}, Value=83)
    with pytest.raises(
        ConflictError,
        match=r"LQ07 actual, 4th Qtr Mar 08\): your 83 was based on revision \d+, "
        r"but revision \d+ by alice",
    ):
        load_template(store, b, "bob")


@pytest.mark.parametrize(
    ("sheet", "match", "header", "value", "message"),
    [
        (
            "Targets",
            {"Indicator": "NI 59", "Period key": "FY2007-08-Q4"},
            "Target",
            "sixty-five",
            "is not a number",
        ),
        (
            "Actuals",
            {"Indicator": "NI 59", "Period key": "FY2007-08-Q4"},
            "Status",
            "??",
            "unknown status symbol",
        ),
        (
            "Commentary",
            {"Indicator": "NI 59", "Field": "overall_action_plan_rag"},
            "Text",
            "purple",
            "give green, amber or red",
        ),
        (
            "Targets",
            {"Indicator": "NI 59", "Period key": "FY2007-08-Q4"},
            "Period key",
            "FY2007-08-Q3",
            "do not edit the key columns",
        ),
        (
            "Targets",
            {"Indicator": "NI 59", "Period key": "FY2007-08-Q4"},
            "Target type",
            "stretch",
            "use one of",
        ),
    ],
)
def test_malformed_template_rejected_and_changes_nothing(
    store, tmp_path, sheet, match, header, value, message
):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    # a good change alongside the bad one: it must not be written either
    _set(path, "Commentary", {"Indicator": "LQ07", "Field": "owner"}, Text="YOS manager")
    ws = open_book(path)[sheet]
    row, col = find_row(ws, **match), rows_of(ws)[header]
    _set(path, sheet, match, **{header: value})
    before = counts(store.con)
    with pytest.raises(LoadError) as e:
        load_template(store, path, "alice")
    from openpyxl.utils import get_column_letter

    assert (
        f"t.xlsx, sheet '{sheet}', row {row}, field '{header} (column {get_column_letter(col)})'"
        in str(e.value)
    )
    assert message in str(e.value)
    assert "nothing was written" in str(e.value)
    assert counts(store.con) == before


def test_renamed_header_and_foreign_workbook_rejected(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    wb = open_book(path)
    wb["Targets"].cell(3, 8).value = "Aim"
    wb.save(path)
    with pytest.raises(
        LoadError,
        match=r"sheet 'Targets', row 3, field 'Target \(column H\)': column header changed",
    ):
        load_template(store, path, "alice")
    import openpyxl

    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(LoadError, match="not a cspa quarterly template"):
        load_template(store, other, "alice")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    with pytest.raises(LoadError, match="not a readable Excel workbook"):
        load_template(store, junk, "alice")


def test_clearing_a_figure_is_refused_not_lost(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    _set(path, "Actuals", {"Indicator": "LQ07", "Period key": "FY2007-08-Q4"}, Value=None)
    with pytest.raises(LoadError, match=r"give the status '\.\.'"):
        load_template(store, path, "alice")


def test_removing_a_target_keeps_it_in_history(store, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    _set(
        path,
        "Targets",
        {"Indicator": "LQ07", "Period key": "FY2007-08-Q4", "Target type": "local"},
        Target=None,
    )
    assert load_template(store, path, "alice")["targets"] == 1
    j = next(
        j for j in _ind(_report(store), "LQ07")["judgements"] if j["period"] == "4th Qtr Mar 08"
    )
    assert (j["target"], j["rag"]) == (None, None)
    h = [
        r
        for r in history(store.con, AREA, PERIOD, "LQ07")
        if r["kind"] == "target" and r["period"] == "4th Qtr Mar 08"
    ]
    assert [(r["who"], r["old"], r["new"]) for r in h] == [
        ("alice", "90", "(removed)"),
        ("seed 001 transcription", None, "90"),
    ]


def test_user_is_required(store, tmp_path):
    from cspa.errors import CspaError

    path = tmp_path / "t.xlsx"
    write_template(store.con, AREA, PERIOD, path)
    with pytest.raises(CspaError, match="--user"):
        load_template(store, path, " ")
