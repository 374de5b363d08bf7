"""The summary ("at a glance") of every APA-type report: each sentence checked against the
judgement it cites (issue 18).

The summary restates judgements the engine made of the authority's own figures; a sentence that
says "best quarter", "significantly higher", "shaded red" or "improved" must rest on a judgement
of that indicator, measure and period that says so, under the indicator's polarity, and must
quote the figure it is about.
"""

from __future__ import annotations

import copy
import re

import pytest

from cspa.app.reports import ReportRequest, build_report
from cspa.engine.polarity import compare
from cspa.outputs.document import validate
from cspa.outputs.summary import GLANCE, KINDS, PERSISTENT, THEME_LEAD, summarise

# (Kent's and Bedfordshire's 2008 reports are refused since the 2008 dataset shows only figures
# released by September 2008, issue 17: tests/unit/app/test_report_scope.py)
REPORTS = [
    ("Luton", 2008, None),
    ("Luton", 2025, "lait"),
    ("Kent", 2025, "lait"),
    ("North Northamptonshire", 2025, "lait"),
    ("Northamptonshire", 2019, "lait"),
    ("Luton", 2025, "dfe_csc"),
    ("Birmingham", 2025, "dfe_csc"),
]


@pytest.fixture(scope="module", params=REPORTS, ids=lambda r: f"{r[0]}-{r[1]}-{r[2] or 'apa2008'}")
def report(request, demo_con):
    area, year, framework = request.param
    return build_report(
        demo_con, ReportRequest("apa-dataset", area, year=year, framework=framework), "json"
    )


def _figure(ind: dict, measure: str | None, period: str) -> str:
    return next(
        o["display"]
        for o in ind["observations"]
        if o["measure"] == measure and o["period"] == period and o["geography"] == "area"
    )


def check_entry(e: dict, doc: dict) -> None:
    """One summary entry against the judgement it cites; raises AssertionError if they disagree."""
    inds = {i["code"]: i for i in doc["indicators"]}
    assert e["indicator"] in inds, e
    assert e["kind"] in KINDS and e["direction"] in ("better", "worse"), e
    ind = inds[e["indicator"]]
    j = next(
        j
        for j in ind["judgements"]
        if j["measure"] == e["measure"] and j["period"] == e["period"] and j["geography"] == "area"
    )
    text, d = e["sentence"], e["direction"]
    assert _figure(ind, e["measure"], e["period"]) in text, e
    assert e["period"] in text, e
    if e["kind"] == "significance":
        word = {"high": "higher", "low": "lower"}.get(j["significance"], j["significance"])
        assert f"significantly {word}" in text
        assert compare(ind["polarity"], 1, 0) == (d if word == "higher" else _other(d))
    elif e["kind"] == "quartile":
        if j["quartile_position"] in ("Best Q'tile", "Worst Q'tile"):
            assert d == ("better" if j["quartile_position"].startswith("Best") else "worse")
            assert ("best quartile" if d == "better" else "worst quartile") in text
        else:
            assert j["quartile"] == (1 if d == "better" else 4)
            assert f"rank {j['rank']} of {j['rank_of']}" in text
            assert ("best quarter" if d == "better" else "worst quarter") in text
    elif e["kind"] == "band":
        assert j["traffic_light"] == ("green" if d == "better" else "red")
        assert f"shaded {j['traffic_light']}" in text
        if j["band"]:
            assert f"band {j['band']} of 5" in text
    elif e["kind"] == "trend":
        assert str(j["trend"]).lower() in text
        assert ("not" in str(j["trend"]).lower() or "worse" in str(j["trend"]).lower()) == (
            d == "worse"
        )
    else:  # progress
        if "moved from rank" in text:
            before, after = map(int, re.search(r"rank (\d+) to (\d+)", text).groups())
            assert after == j["rank"]
            assert (after < before) == (d == "better")
        else:
            assert j["progress"] == ("improved" if d == "better" else "worsened")
            assert j["progress"] in text


def _other(d: str) -> str:
    return "worse" if d == "better" else "better"


def test_every_report_has_a_summary_whose_sentences_rest_on_their_judgements(report):
    assert report["summary"], "an APA-type report opens with a non-empty summary"
    for e in report["summary"]:
        check_entry(e, report)
    validate(report)  # the summary keeps the published contract


def test_a_sentence_that_misstates_its_judgement_fails_the_check(report):
    """The check above can fail: each kind of misstatement is caught."""
    e = copy.deepcopy(report["summary"][0])
    e["direction"] = _other(e["direction"])
    with pytest.raises(AssertionError):
        check_entry(e, report)
    e = copy.deepcopy(report["summary"][0])
    e["period"] = "1999"
    with pytest.raises((AssertionError, StopIteration)):
        check_entry(e, report)
    e = copy.deepcopy(report["summary"][0])
    e["indicator"] = "NOT-IN-THE-REPORT"
    with pytest.raises(AssertionError):
        check_entry(e, report)


def test_the_glance_picks_the_most_notable_and_links_every_theme(report):
    layout = report["_summary"]
    summary = report["summary"]
    for part, idx in layout["glance"].items():
        for i in idx:
            want = "better" if part in ("better", "improved") else "worse"
            assert summary[i]["direction"] == want
    # every indicator is either notable in its theme or listed there as nothing notable
    listed = {summary[i]["indicator"] for t in layout["themes"] for i in t["entries"]} | {
        q["code"] for t in layout["themes"] for q in t["quiet"]
    }
    assert listed == {i["code"] for i in report["indicators"]}


# --------------------------------------------------------------------------- hand-made cases


def _ind(code, polarity, judgements, figures, columns):
    return {
        "code": code,
        "title": f"Indicator {code}",
        "polarity": polarity,
        "table": {"columns": columns, "window": None},
        "judgements": [
            {
                "measure": None,
                "measure_id": "value",
                "geography": "area",
                "band": None,
                "band_range": None,
                "traffic_light": None,
                "quartile": None,
                "quartile_position": None,
                "rank": None,
                "rank_of": None,
                "trend": None,
                "significance": None,
                "progress": None,
                **j,
            }
            for j in judgements
        ],
        "observations": [
            {"measure": None, "measure_id": "value", "period": p, "geography": g, "display": v}
            for (p, g), v in figures.items()
        ],
    }


def test_hand_made_judgements_give_the_sentences_they_should():
    years = ["2021", "2022", "2023", "2024", "2025"]
    inds = [
        # best quarter, moved up from the third; low is good
        _ind(
            "A",
            "low",
            [
                {"period": "2024", "rank": 100, "rank_of": 150, "quartile": 3},
                {"period": "2025", "rank": 10, "rank_of": 150, "quartile": 1},
            ],
            {("2024", "area"): "9.0", ("2025", "area"): "4.0"},
            years,
        ),
        # significantly lower than England where high is good: worse
        _ind(
            "B",
            "high",
            [{"period": "2025", "significance": "lower"}],
            {("2025", "area"): "61", ("2025", "england"): "70"},
            years,
        ),
        # improved in each of the last four periods, nothing else judged
        _ind(
            "C",
            "high",
            [{"period": p, "progress": "improved"} for p in years[1:]],
            {(p, "area"): str(50 + i) for i, p in enumerate(years)},
            years,
        ),
        # polarity none: nothing is notable
        _ind("D", "none", [], {("2025", "area"): "3"}, years),
    ]
    sections = [{"id": "s", "title": "S", "subsections": [{"indicators": ["A", "B", "C", "D"]}]}]
    entries, layout = summarise("Luton", inds, sections)
    got = {(e["indicator"], e["kind"], e["direction"]) for e in entries}
    assert ("A", "quartile", "better") in got
    assert ("A", "progress", "better") in got  # third quarter to the best
    assert ("B", "significance", "worse") in got
    assert ("C", "progress", "better") in got
    assert not any(e["indicator"] == "D" for e in entries)
    a = next(e for e in entries if e["indicator"] == "A" and e["kind"] == "quartile")
    assert a["sentence"] == (
        "Indicator A: Luton is in the best quarter of authorities (rank 10 of 150), with 4.0 in "
        "2025."
    )
    b = next(e for e in entries if e["indicator"] == "B")
    assert b["sentence"] == (
        "Indicator B: Luton's 61 in 2025 is significantly lower than England's 70, worse than "
        "England."
    )
    c = [e for e in entries if e["indicator"] == "C"]
    assert c[-1]["sentence"] == (
        "Indicator C: Luton's figure has improved in each of the last 4 periods, from 50 in 2021 "
        "to 54 in 2025."
    )
    assert PERSISTENT <= 4
    assert layout["themes"][0]["quiet"] == [{"code": "D", "title": "Indicator D"}]
    assert layout["glance"]["better"][0] == entries.index(a)


@pytest.mark.parametrize(
    "shared, words",
    [
        (None, ""),
        (1, ""),
        (2, ", shared with 1 other authority"),
        (30, ", shared with 29 other authorities"),
    ],
)
def test_a_shared_rank_says_so(shared, words):
    """Ties share the best rank: "rank 1 of 102" where 30 authorities have the same figure (Luton's
    child protection plans lasting two years, LAIT 2019) would read as first of 102."""
    years = ["2024", "2025"]
    j = {"period": "2025", "quartile": 1, "rank": 1, "rank_of": 102, "rank_shared": shared}
    ind = _ind("A", "low", [j], {("2025", "area"): "0.0"}, years)
    sections = [{"id": "s", "title": "S", "subsections": [{"indicators": ["A"]}]}]
    entries, _ = summarise("Luton", [ind], sections)
    q = next(e for e in entries if e["kind"] == "quartile")
    assert q["sentence"] == (
        f"Indicator A: Luton is in the best quarter of authorities (rank 1 of 102{words}), with 0.0 in 2025."
    )


def test_a_move_into_a_shared_rank_says_so():
    """The move's new rank is shared as any rank is: 'rank 29 of 123' alongside four others with the
    same figure is said so."""
    years = ["2024", "2025"]
    js = [
        {"period": "2024", "quartile": 4, "rank": 140, "rank_of": 150},
        {"period": "2025", "quartile": 2, "rank": 29, "rank_of": 123, "rank_shared": 5},
    ]
    ind = _ind("A", "high", js, {("2024", "area"): "50.0", ("2025", "area"): "89.0"}, years)
    sections = [{"id": "s", "title": "S", "subsections": [{"indicators": ["A"]}]}]
    entries, _ = summarise("Luton", [ind], sections)
    moved = next(e for e in entries if e["kind"] == "progress")
    assert moved["sentence"] == (
        "Indicator A: Luton moved from rank 140 to 29 of 123 between 2024 and 2025 (50.0 to 89.0, a "
        "rank shared with 4 other authorities), into the second quarter of authorities."
    )


def _glance_order(part: str, *placed: tuple[str, dict, str]) -> list[str]:
    """The indicators of one glance list, in order, for indicators (code, the area's latest
    judgement, its figure) of polarity low in one section."""
    years = ["2020", "2021"]
    inds = [_ind(code, "low", [j], {("2021", "area"): value}, years) for code, j, value in placed]
    codes = [code for code, _j, _v in placed]
    sections = [{"id": "s", "title": "S", "subsections": [{"indicators": codes}]}]
    entries, layout = summarise("Leeds", inds, sections)
    return [entries[i]["indicator"] for i in layout["glance"][part]]


def test_a_widely_shared_rank_stands_out_less_than_a_place_held_alone():
    """Leeds, LAIT 2021: "rank 1 of 150, shared with 61 other authorities" (no primary permanent
    exclusions, as 62 authorities) headed 'where Leeds does best' above its rank 4 of 150 held alone.
    A tie counts at its middle rank (31.5th of 150), so the place held alone comes first; the
    shared one is still in the best quarter and still said, after it."""
    tied = {"period": "2021", "quartile": 1, "rank": 1, "rank_of": 150, "rank_shared": 62}
    alone = {"period": "2021", "quartile": 1, "rank": 4, "rank_of": 150, "rank_shared": 1}
    assert _glance_order("better", ("A", tied, "0.00"), ("B", alone, "0.00")) == ["B", "A"]
    # at the bottom, a tie's middle rank is further down than its best: rank 140 shared by ten
    # (140th to 149th) stands out more than rank 141 held alone
    tied = {"period": "2021", "quartile": 4, "rank": 140, "rank_of": 150, "rank_shared": 10}
    alone = {"period": "2021", "quartile": 4, "rank": 141, "rank_of": 150, "rank_shared": 1}
    assert _glance_order("worse", ("C", alone, "9.0"), ("D", tied, "9.5")) == ["D", "C"]


@pytest.mark.parametrize(
    ("before", "now", "clause"),
    [
        (32.72, 49.67, ", though its own figure worsened"),  # Leeds 2019-2021: others worsened more
        (49.67, 32.72, ""),  # the figure improved as the rank rose: nothing to add
        (40.0, 40.0, ""),  # the same figure
    ],
)
def test_a_rank_that_rose_while_the_figure_worsened_says_so(before, now, clause):
    """Leeds's special-school persistent absence (low is good) rose from rank 118 to 79 of 148
    between 2019 and 2021 while the figure went from 32.72 to 49.67: the entry is 'better' (the
    rank), and the sentence says the figure itself worsened, so the label is not read as the
    figure's."""
    years = ["2019", "2021"]
    js = [
        {"period": "2019", "quartile": 4, "rank": 118, "rank_of": 148},
        {"period": "2021", "quartile": 3, "rank": 79, "rank_of": 148},
    ]
    ind = _ind("A", "low", js, {("2019", "area"): str(before), ("2021", "area"): str(now)}, years)
    for o in ind["observations"]:
        o["value"] = before if o["period"] == "2019" else now
    sections = [{"id": "s", "title": "S", "subsections": [{"indicators": ["A"]}]}]
    entries, _ = summarise("Leeds", [ind], sections)
    moved = next(e for e in entries if e["kind"] == "progress")
    assert moved["direction"] == "better"
    assert moved["sentence"] == (
        f"Indicator A: Leeds moved from rank 118 to 79 of 148 between 2019 and 2021 ({before} to "
        f"{now}), into the third quarter of authorities{clause}."
    )


def test_a_theme_leads_with_its_most_notable_better_and_worse_and_keeps_the_rest():
    """Leeds's 2021 LAIT report said 29 sentences under 'All Pupil Absence & Exclusions' alone (328
    in all its themes). A theme now leads with its THEME_LEAD most notable better sentences and its
    most notable worse ones (so its strengths do not hide where it falls short), says how many of
    each it has, and keeps every other sentence, in the report's order, for a closed list; a theme
    of GLANCE sentences or fewer is shown whole, its most notable first."""

    def theme_of(best_ranks, worst_ranks):
        placed = [
            (f"B{r}", {"period": "2021", "quartile": 1, "rank": r, "rank_of": 150})
            for r in best_ranks
        ] + [
            (f"W{r}", {"period": "2021", "quartile": 4, "rank": r, "rank_of": 150})
            for r in worst_ranks
        ]
        inds = [
            _ind(code, "low", [j], {("2021", "area"): "1.0"}, ["2020", "2021"])
            for code, j in placed
        ]
        sections = [
            {"id": "s", "title": "S", "subsections": [{"indicators": [c for c, _ in placed]}]}
        ]
        entries, layout = summarise("Leeds", inds, sections)
        theme = layout["themes"][0]
        names = {k: [entries[i]["indicator"] for i in theme[k]] for k in ("lead", "more")}
        return theme, names

    assert (THEME_LEAD, GLANCE) == (2, 6)
    theme, names = theme_of((30, 2, 9, 20), (120, 149, 140, 130))
    assert names["lead"] == ["B2", "B9", "W149", "W140"]
    assert names["more"] == ["B30", "B20", "W120", "W130"]  # the report's order
    assert (theme["better"], theme["worse"]) == (4, 4)
    assert sorted(theme["lead"] + theme["more"]) == theme["entries"]
    # six findings: nothing folded, the most notable of each first and the rest after them
    theme, names = theme_of((30, 2, 9), (120, 149, 140))
    assert names == {"lead": ["B2", "B9", "W149", "W140", "B30", "W120"], "more": []}


def test_the_html_shows_a_themes_lead_and_folds_the_rest(report):
    """In the page, each theme's lead sentences are in its list, in the layout's order, and the rest
    in its closed 'more findings' details (open in print, which cannot unfold), so none is lost; a
    theme with nothing folded has no such details."""
    from markupsafe import escape

    from cspa.outputs.html import render_html

    layout, summary = report["_summary"], report["summary"]
    themes = [t for t in layout["themes"] if t["entries"]]
    assert themes, "every report here has a theme with findings"
    for for_print in (False, True):
        page = render_html(report, for_print=for_print)
        start = page.index('id="summary"')
        blocks = page[start : page.index("</section>", start)].split(
            '<div class="cspa-theme-summary">'
        )
        for t in themes:
            (block,) = [b for b in blocks if f">{escape(t['title'])}</a></h4>" in b]
            n = len(t["entries"])
            assert (
                f"{n} finding{'s' if n != 1 else ''}: {t['better']} better, {t['worse']} worse"
                in block
            )
            # "of each" only where the theme has both, and something is folded
            both = bool(t["better"] and t["worse"] and t["more"])
            assert ("the most notable of each first" in block) == both
            lead, _, more = block.partition('<details class="govuk-details cspa-more"')
            at = [lead.index(str(escape(summary[i]["sentence"]))) for i in t["lead"]]
            assert at == sorted(at), t["title"]  # the layout's order
            if not t["more"]:
                assert not more, t["title"]
                continue
            assert more.startswith(" open>" if for_print else ">"), t["title"]
            more = more.partition("</details>")[0]
            for i in t["more"]:
                sentence = str(escape(summary[i]["sentence"]))
                assert sentence not in lead and sentence in more


def test_what_improved_most_leads_with_figures_that_moved_as_their_rank_did():
    """Leeds's 2021 LAIT report headed 'What improved most' with a rank carried by the others'
    figures: persistent absence of children on a protection plan, rank 138 to 50 of 146 with its own
    figure 48.9 both years. A rank move whose own figure improved with it now comes first, and the
    carried ones follow, the larger move first."""
    years = ["2019", "2021"]

    def moved(code, r0, r1, v0, v1):
        js = [
            {"period": "2019", "quartile": 4 if r0 > 110 else 3, "rank": r0, "rank_of": 146},
            {"period": "2021", "quartile": 2 if r1 <= 73 else 3, "rank": r1, "rank_of": 146},
        ]
        ind = _ind(code, "low", js, {("2019", "area"): str(v0), ("2021", "area"): str(v1)}, years)
        for o in ind["observations"]:
            o["value"] = v0 if o["period"] == "2019" else v1
        return ind

    inds = [
        moved("SAME", 138, 50, 48.9, 48.9),  # the others' figures carried the rank
        moved("AGAINST", 118, 79, 32.72, 49.67),  # its own figure worsened
        moved("WITH", 120, 70, 30.0, 25.0),  # its own figure improved with the rank
    ]
    sections = [
        {"id": "s", "title": "S", "subsections": [{"indicators": ["SAME", "AGAINST", "WITH"]}]}
    ]
    entries, layout = summarise("Leeds", inds, sections)
    assert [entries[i]["indicator"] for i in layout["glance"]["improved"]] == [
        "WITH",
        "SAME",
        "AGAINST",
    ]


def test_the_workbook_lists_every_summary_sentence_as_the_page_lays_them_out(report, tmp_path):
    """Excel's Summary sheet: one row per sentence, in the report's order, with its theme, the
    glance list it is in under that list's heading, and whether its theme shows it first."""
    import openpyxl

    from cspa.outputs.excel import render_xlsx

    ws = openpyxl.load_workbook(render_xlsx(report, tmp_path / "r.xlsx"))["Summary"]
    cells = [list(r) for r in ws[ws.tables["Summary"].ref]]
    header = [c.value for c in cells[0]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in cells[1:]]
    summary, layout = report["summary"], report["_summary"]
    assert [r["Sentence"] for r in rows] == [e["sentence"] for e in summary]
    assert [r["Direction"] for r in rows] == [e["direction"].capitalize() for e in summary]
    for part, idx in layout["glance"].items():
        for i in idx:
            assert rows[i]["At a glance"] == layout["headings"][part]
    listed = {i for idx in layout["glance"].values() for i in idx}
    assert all(not rows[i]["At a glance"] for i in range(len(rows)) if i not in listed)
    for t in layout["themes"]:
        assert {rows[i]["Theme"] for i in t["entries"]} <= {t["title"]}
        assert {i for i in t["entries"] if rows[i]["First in theme"] == "Yes"} == set(t["lead"])
