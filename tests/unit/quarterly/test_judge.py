"""RAG, progress, targets and SPC of the quarterly report (cspa.quarterly.judge) on small stores.

Figures are made up to hit each rule's edges; the rules are those of src/cspa/data/quarterly/rules.yaml
(percent indicators: amber within 5 points; NI 117 low is good; PAF C20 tolerance 0).
"""

from __future__ import annotations

import csv

import pytest

from cspa.quarterly.report import build_quarterly_document
from cspa.quarterly.revisions import decide, write
from cspa.quarterly.rules import is_target_companion, judged_measures, load_rules, target_measure
from cspa.store.ingest import load_files


def _load(store, tmp_path, rows: list[tuple]) -> None:
    path = tmp_path / f"obs{len(list(tmp_path.iterdir()))}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["indicator", "measure", "area", "period", "value", "status"])
        w.writerows(rows)
    load_files(store, [path], source="test", vintage="test")


def _targets(store, rows: list[tuple]) -> None:
    from cspa.catalogue.load import load_catalogue
    from cspa.quarterly.periods import parse_for

    cat = load_catalogue()
    staged = []
    for i, (code, measure, label, ttype, value, status, text) in enumerate(rows):
        p = parse_for(label, cat.get(code).year_type.value) if label != "*" else None
        staged.append(
            {
                "indicator": code,
                "measure": measure,
                "area": "821",
                "period": p.key if p else "*",
                "period_label": label if p else None,
                "period_kind": p.kind if p else None,
                "period_start": p.start if p else None,
                "period_end": p.end if p else None,
                "target_type": ttype,
                "value": value,
                "status": status,
                "text": text,
                "note": None,
                "seed_ref": None,
                "based_on": 0,
                "where_": f"{i:03d}",
            }
        )
    with store.transaction():
        decide(store.con, "target", staged, name="_t")
        write(store.con, "target", "_t_decided", "tester", "test", None)


def _judged(doc, code):
    ind = next(i for i in doc["indicators"] if i["code"] == code)
    return {j["period"]: j for j in ind["judgements"]}, ind


@pytest.fixture(scope="module")
def luton(tmp_path_factory):
    from cspa.store.database import Store

    bare_store = Store.open(":memory:")
    bare_store.sync_reference()
    tmp_path = tmp_path_factory.mktemp("luton")
    _load(
        bare_store,
        tmp_path,
        [
            ("NI 59", "actual", "821", "2006/07", "66", ""),
            ("NI 59", "actual", "821", "1st Qtr Jun 07", "70", ""),
            ("NI 59", "actual", "821", "2nd Qtr Sep 07", "65", ""),
            ("NI 59", "actual", "821", "3rd Qtr Dec 07", "61", ""),
            ("NI 59", "actual", "821", "4th Qtr Mar 08", "59.9", ""),
            ("NI 59", "actual", "england", "2006/07", "68.4", ""),
            ("NI 117", "actual", "821", "3rd Qtr Dec 07", "7.64", ""),
            ("NI 117", "actual", "821", "4th Qtr Mar 08", "7.6", ""),
            ("NI 117", "actual", "E12000006", "4th Qtr Mar 08", "5.9", ""),
            ("PAF C20", "actual", "821", "2006/07", "99", ""),
            ("PAF C20", "actual", "821", "4th Qtr Mar 08", "100", ""),
            ("LQ05", "education_only", "821", "3rd Qtr Dec 07", "14", ""),
            ("LQ05", "education_only", "821", "4th Qtr Mar 08", "15", ""),
        ],
    )
    _targets(
        bare_store,
        [
            ("NI 59", "actual", "1st Qtr Jun 07", "local", 65, None, None),
            ("NI 59", "actual", "2nd Qtr Sep 07", "local", 65, None, None),
            ("NI 59", "actual", "3rd Qtr Dec 07", "local", 65, None, None),
            ("NI 59", "actual", "4th Qtr Mar 08", "local", 65, None, None),
            ("NI 59", "actual", "4th Qtr Mar 08", "LAA", 54, None, None),
            ("NI 117", "actual", "4th Qtr Mar 08", "local", 7.0, None, None),
            ("PAF C20", "actual", "2006/07", "LAA", 100, None, None),
            ("PAF C20", "actual", "4th Qtr Mar 08", "local", None, "n/a", None),
            ("LQ05", "actual", "*", "local", None, None, "To reduce numbers"),
        ],
    )
    yield build_quarterly_document(bare_store.con, "Luton", "2007-08-Q4")
    bare_store.close()


def test_rag_edges_high_is_good(luton):
    j, _ = _judged(luton, "NI 59")
    # 70 and 65 on or above 65: green; 61 is 4 below (within 5): amber; 59.9 is 5.1 below: red
    assert [
        j[p]["rag"]
        for p in ("1st Qtr Jun 07", "2nd Qtr Sep 07", "3rd Qtr Dec 07", "4th Qtr Mar 08")
    ] == ["green", "green", "amber", "red"]
    # the local target sets the RAG even where an LAA target exists for the same period
    assert (j["4th Qtr Mar 08"]["target"], j["4th Qtr Mar 08"]["target_type"]) == (65.0, "local")
    assert "RAG: 59.9 against the local target 65" in j["4th Qtr Mar 08"]["basis"]
    assert j["2006/07"]["rag"] is None and "no target set" in j["2006/07"]["basis"]


def test_rag_low_is_good_and_comparators(luton):
    j, _ = _judged(luton, "NI 117")
    q4 = j["4th Qtr Mar 08"]
    assert (q4["rag"], q4["target"]) == ("amber", 7.0)  # 7.6 is 0.6 above 7.0, within 5
    assert q4["comparators"] == {"region": {"display": "5.9", "period": "4th Qtr Mar 08"}}


def test_progress_under_polarity_on_printed_figures(luton):
    j, _ = _judged(luton, "NI 59")
    assert [
        j[p]["progress"] for p in ("2006/07", "1st Qtr Jun 07", "2nd Qtr Sep 07", "3rd Qtr Dec 07")
    ] == [None, "improved", "worsened", "worsened"]
    assert (j["2nd Qtr Sep 07"]["progress_glyph"], j["2nd Qtr Sep 07"]["progress_word"]) == (
        "✗",
        "Worsened",
    )
    # 7.64 prints as 7.6 (NI 117 shows 1 dp): the printed figures are equal, so 'same'
    k, _ = _judged(luton, "NI 117")
    assert (k["4th Qtr Mar 08"]["progress"], k["4th Qtr Mar 08"]["progress_glyph"]) == ("same", "=")


def test_laa_target_when_no_local_and_status_target(luton):
    j, _ = _judged(luton, "PAF C20")
    # no local target for 2006/07: the LAA one is used; 99 is 1 below 100 and PAF C20's tolerance is 0
    assert (j["2006/07"]["target"], j["2006/07"]["target_type"], j["2006/07"]["rag"]) == (
        100.0,
        "LAA",
        "red",
    )
    assert (j["4th Qtr Mar 08"]["target"], j["4th Qtr Mar 08"]["target_status"]) == (None, "n/a")
    assert "no RAG: the target is n/a" in j["4th Qtr Mar 08"]["basis"]


def test_text_target_spans_every_column(luton):
    j, ind = _judged(luton, "LQ05")
    assert "no RAG: the target is 'To reduce numbers'" in j["4th Qtr Mar 08"]["basis"]
    target_row = next(
        r for g in ind["table"]["row_groups"] for r in g["rows"] if r["kind"] == "target"
    )
    assert target_row["cells"][0]["display"] == "To reduce numbers"
    assert target_row["cells"][0]["colspan"] == len(ind["table"]["columns"])
    assert all(c.get("spanned") for c in target_row["cells"][1:])
    obs = [o for o in ind["observations"] if o["measure_id"] == "target"]
    assert [(o["period"], o["display"]) for o in obs] == [(None, "To reduce numbers")]


def test_quarterly_columns_offered_even_when_empty(luton):
    _, ind = _judged(luton, "PAF A2")  # no figures at all: the template still needs its rows
    assert ind["table"]["columns"] == [
        "2005/06",
        "2006/07",
        "1st Qtr Jun 07",
        "2nd Qtr Sep 07",
        "3rd Qtr Dec 07",
        "4th Qtr Mar 08",
    ]


def test_rules_data(tmp_path):
    rules = load_rules()
    assert rules.tolerance("NI 59", "percent").value == 5
    assert rules.tolerance("PAF C20", "percent").value == 0
    assert rules.tolerance("LQ04", "rate_per_10000").type == "relative"
    assert [b.id for b in rules.baskets] == ["quarterly2008", "lait_current"]
    assert "LAC_LongStable%" in rules.baskets[1].indicators  # spelled as the catalogue spells it
    assert judged_measures(["english", "english_target", "maths", "maths_target"], []) == [
        "english",
        "maths",
    ]
    assert judged_measures(["actual", "target", "number_in_care"], ["number_in_care"]) == ["actual"]
    assert target_measure(["actual", "target"], "actual") == "target"
    assert target_measure(["value"], "value") is None
    assert is_target_companion(["english", "english_target"], "english_target")


def test_spc_on_a_long_annual_series(bare_store, tmp_path):
    years = list(range(2016, 2026))
    values = [20, 21, 19, 22, 20, 21, 20, 19, 30, 31]
    _load(
        bare_store,
        tmp_path,
        [("ReReferral", "", "821", str(y), str(v), "") for y, v in zip(years, values, strict=True)],
    )
    doc = build_quarterly_document(bare_store.con, "Luton", "2024-25-Q4")
    ind = next(i for i in doc["indicators"] if i["code"] == "ReReferral")
    assert ind["table"]["columns"] == ["2021", "2022", "2023", "2024", "2025"]
    (spc,) = ind["spc"]
    assert [p["period"] for p in spc["points"]] == [str(y) for y in years]
    assert spc["short_group_warning"] is True
    assert spc["variation_icon"] in ("concern_high", "common_cause")
    assert spc["summary"].startswith("Actual, annual (financial year) figures 2016 to 2025: mean")
    # no polarity (LAC), no progress and no RAG, and the table says why
    other = next(i for i in doc["indicators"] if i["code"] == "CP_conf_15days")
    assert other["spc"] == [] and other["spc_note"].startswith("No SPC chart: no figures")
