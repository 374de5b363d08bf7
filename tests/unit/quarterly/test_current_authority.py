"""A current authority (Slough) on the real LAIT figures: template, targets filled in, loaded, rendered."""

from __future__ import annotations

import json

from cspa.outputs.json_out import to_json
from cspa.outputs.render import render
from cspa.quarterly.load import load_template
from cspa.quarterly.report import build_quarterly_document
from cspa.quarterly.template import write_template
from tests.unit.quarterly.conftest import open_book, rows_of

AREA, PERIOD = "Slough", "2024-25-Q4"


def test_slough_targets_through_the_template(store, tmp_path):
    path = tmp_path / "slough.xlsx"
    made = write_template(store.con, AREA, PERIOD, path)
    assert (made["area"], made["basket"]) == ("871", "lait_current")

    wb = open_book(path)
    # the Actuals sheet carries the LAIT figures, each with the load it came from
    ws = wb["Actuals"]
    cols = rows_of(ws)
    lait = {
        (ws.cell(r, cols["Indicator"]).value, ws.cell(r, cols["Period"]).value): ws.cell(
            r, cols["Value"]
        ).value
        for r in range(4, ws.max_row + 1)
    }
    expected = store.con.execute(
        "SELECT value FROM observation_current WHERE indicator = 'ReReferral' AND area = '871' "
        "AND period = 'FY2024-25'"
    ).fetchall()[0][0]
    assert lait[("ReReferral", "2025")] == expected
    assert all(
        ws.cell(r, cols["Based on load"]).value > 0
        for r in range(4, ws.max_row + 1)
        if ws.cell(r, cols["Value"]).value is not None
    )
    # a local target for every indicator's 2024/25 column: the actual, so every RAG is green
    ws = wb["Targets"]
    cols = rows_of(ws)
    filled = {}
    for r in range(4, ws.max_row + 1):
        code, key = ws.cell(r, cols["Indicator"]).value, ws.cell(r, cols["Period key"]).value
        if (
            code
            and key
            and key.endswith("2024-25")
            and ws.cell(r, cols["Target type"]).value == "local"
        ):
            value = next(
                (v for (c, p), v in lait.items() if c == code and p in ("2025", "2024/25")), None
            )
            if value is not None:
                ws.cell(r, cols["Target"]).value = value
                filled[code] = value
    ws = wb["Commentary"]
    cols = rows_of(ws)
    r = next(
        r
        for r in range(4, ws.max_row + 1)
        if ws.cell(r, cols["Indicator"]).value == "ReReferral"
        and ws.cell(r, cols["Field"]).value == "commentary"
    )
    ws.cell(r, cols["Text"]).value = "Re-referrals fell for the second year."
    wb.save(path)
    assert len(filled) >= 8

    s = load_template(store, path, "slough performance team")
    assert (s["targets"], s["texts"], s["actuals"]) == (len(filled), 1, 0)

    doc = json.loads(to_json(build_quarterly_document(store.con, AREA, PERIOD)))
    assert doc["basket"] == "lait_current" and doc["area"]["name"] == "Slough"
    # targets entered: the report still says why it has no quarters, and no longer that it has no RAG
    assert any("whole years, not quarters" in s for s in doc["scope"])
    assert not any("No targets" in s for s in doc["scope"])
    for ind in doc["indicators"]:
        if ind["code"] not in filled:
            continue
        j = next(j for j in ind["judgements"] if j["period_key"] == "FY2024-25")
        assert j["target"] == filled[ind["code"]]
        assert j["rag"] == ("green" if ind["polarity"] in ("high", "low") else None)
        obs = [
            o
            for o in ind["observations"]
            if o["measure"] == "Target" and o["period_key"] == "FY2024-25"
        ]
        assert [o["value"] for o in obs] == [filled[ind["code"]]]
        # comparators from the engine for the matching year, with the quartile where LAIT ranks
        assert {"england", "statistical_neighbours"} <= set(j["comparators"])
    rr = next(i for i in doc["indicators"] if i["code"] == "ReReferral")
    assert rr["narrative"][0]["text"] == "Re-referrals fell for the second year."
    assert rr["narrative"][0]["changed_by"] == "slough performance team"
    assert next(j for j in rr["judgements"] if j["period_key"] == "FY2024-25")[
        "quartile_position"
    ] in ("Best Q'tile", "2nd Q'tile", "3rd Q'tile", "Worst Q'tile")
    assert rr["spc"] and rr["spc"][0]["assurance_icon"] in (
        "consistent_pass",
        "consistent_fail",
        "inconsistent",
    )
    assert (
        "Contains public sector information licensed under the Open Government Licence v3.0."
        in doc["attribution"]
    )

    for fmt in ("html", "xlsx", "json"):
        out = render(doc, fmt, tmp_path / f"slough.{fmt}")
        assert out.stat().st_size > 10_000
    html = (tmp_path / "slough.html").read_text(encoding="utf-8")
    assert (
        "Re-referrals fell for the second year." in html and "Statistical process control" in html
    )


def test_a_current_report_says_why_it_has_no_quarters_targets_or_rag(demo_con):
    """LAIT publishes whole years, and nobody has entered targets or commentary for Kent: the
    2024-25 report says both, at its top, rather than showing an unexplained empty report
    (issue 18)."""
    from cspa.outputs.html_quarterly import render_quarterly_html

    doc = build_quarterly_document(demo_con, "Kent", PERIOD)
    assert doc["basket"] == "lait_current"
    assert not any(j.get("rag") for i in doc["indicators"] for j in i["judgements"])
    whole, none = doc["scope"]
    assert whole.startswith("The Local Authority Interactive Tool (LAIT) base data set publishes")
    assert "whole years, not quarters" in whole and "January to March 2025" in whole
    assert none.startswith("No targets have been entered for Kent") and "RAG" in none
    html = render_quarterly_html(doc)
    assert html.index("whole years, not quarters") < html.index('<section class="cspa-outcome"')
    # reader-facing: no file path in the RAG rule a reader sees
    assert "rules.yaml" not in html and "src/cspa" not in html
