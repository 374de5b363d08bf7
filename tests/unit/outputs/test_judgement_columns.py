"""The engine's judgements of each figure (rank, quartile band, progress, trend, significance) in
columns of their own beside the figures: HTML, Excel and JSON, on the demo database's real data.

The expected rank and quartile band are worked out here from the database with SQL (DuckDB's
``quantile_cont`` is the type-7 quantile the engine uses), not read from the report.
"""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook

from cspa.outputs.document_apa import build_apa_document
from cspa.outputs.html import anchor, render_html
from cspa.outputs.render import render

CODE = "ExcessRec"  # children in reception year who are overweight or obese: low is good


@pytest.fixture(scope="module")
def lait(demo_con):
    return build_apa_document(demo_con, "Luton", 2025, "lait")


@pytest.fixture(scope="module")
def expected(demo_con):
    """Luton's latest figure of CODE, its rank among the authorities (1 = the lowest, as low is good;
    ties share the best rank) and its quartile band (A = the best quarter, a figure on a cut point
    goes to the low-value side) worked out from the observations."""
    row = demo_con.execute(
        """
        WITH v AS (
            SELECT o.area, o.period_label, o.value FROM observation_current o JOIN area a ON a.code = o.area
            WHERE o.indicator = ? AND o.measure = 'value' AND a.type = 'la' AND o.value IS NOT NULL
              AND o.period_end = (SELECT max(period_end) FROM observation_current
                                  WHERE indicator = ? AND area = '821' AND value IS NOT NULL)),
        q AS (SELECT quantile_cont(value, 0.25) AS q1, quantile_cont(value, 0.5) AS q2,
                     quantile_cont(value, 0.75) AS q3, count(*) AS n FROM v)
        SELECT v.period_label, v.value, (SELECT count(*) FROM v w WHERE w.value < v.value) + 1 AS rank,
               CASE WHEN v.value <= q1 THEN 'A' WHEN v.value <= q2 THEN 'B' WHEN v.value <= q3 THEN 'C' ELSE 'D' END,
               q.n, (SELECT count(*) FROM v w WHERE w.value = v.value) AS shared
        FROM v, q WHERE v.area = '821'""",
        [CODE, CODE],
    ).fetchone()
    assert row is not None and row[4] > 140  # every authority with a figure, not a handful
    return {
        "period": row[0],
        "value": row[1],
        "rank": row[2],
        "band": row[3],
        "n": row[4],
        "shared": row[5],
    }


def _grid(table: str) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """A periods-down table as (geography headings, sub-column headings, period -> cell texts)."""
    text = lambda h: re.sub(r"<[^>]+>", "", h).strip()  # noqa: E731
    head = table[: table.index("</thead>")]
    groups = re.findall(r'<th scope="colgroup" colspan="(\d+)"[^>]*>(.*?)</th>', head)
    geos = [text(label) for n, label in groups for _ in range(int(n))]
    subs = [text(h) for h in re.findall(r"<th scope=col[^>]*>(.*?)</th>", head)]
    rows = {}
    for period, cells in re.findall(
        r"<tr><th scope=row>([^<]+)</th>(.*?)</tr>",
        table[table.index("<tbody>") :],
        flags=re.S,
    ):
        rows[period] = [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, flags=re.S)]
    return geos, subs, rows


def test_html_shows_luton_rank_and_quartile_band_beside_the_figure(lait, expected):
    page = render_html(lait)
    start = page.index(f'id="ind-{anchor(CODE)}"')
    table = page[start : page.index("</table>", start)]
    geos, subs, rows = _grid(table)
    # Luton's figure, then a column for each judgement the engine made of Luton's figures
    # (the trend is the seed's class of Luton's rate of change among every authority's, issue 17)
    assert geos[:5] == ["Luton"] * 5
    assert subs[:5] == ["Figure", "Rank", "Quartile band", "Progress", "Trend"]
    assert '<th scope="colgroup" colspan="5">Luton</th>' in table
    assert "<th scope=col class=cspa-j>Rank</th>" in table
    figure, rank, band, progress, trend = rows[expected["period"]][:5]
    assert float(figure) == pytest.approx(expected["value"])
    # "rank 12 of 152": among how many authorities, as the issue asks ("=12 of 152" where shared)
    tie = "=" if expected["shared"] > 1 else ""
    assert rank == f"{tie}{expected['rank']} of {expected['n']}" and band == expected["band"]
    assert progress in ("Improved", "Same", "Worsened")
    assert trend in ("Well above", "Above", "In line", "Below", "Well below", "n/a", "")
    # the comparators were not ranked, and their progress is left to Excel and JSON: a figure each
    assert subs[5:] == [] and len(rows[expected["period"]]) == 5 + 3
    # the note under the table says how the latest rank was made, with its cut-offs
    end = page.index("</details>", start)
    notes = page[page.index("<details class=cspa-basis>", start) : end]
    assert re.search(
        r"<li><b>Luton, "
        + re.escape(expected["period"])
        + r":</b> [^<]*rank of \d+ authorities \(low is good",
        notes,
    )
    # the legend says what the columns mean
    assert "What the judgement columns mean" in page and "A is the best quarter" in page


def test_json_judgement_is_the_one_the_table_shows(lait, expected):
    ind = next(i for i in lait["indicators"] if i["code"] == CODE)
    j = next(
        j
        for j in ind["judgements"]
        if j["geography"] == "area" and j["period"] == expected["period"]
    )
    assert j["rank"] == expected["rank"] and j["quartile"] == "ABCD".index(expected["band"]) + 1
    from cspa.outputs.json_out import public_document

    public = public_document(
        j
    )  # the JSON contract of issue 6: the columns' own keys stay out of it
    assert set(public) == {
        "measure",
        "measure_id",
        "period",
        "geography",
        "band",
        "band_range",
        "traffic_light",
        "quartile",
        "quartile_position",
        "rank",
        "rank_of",
        "rank_shared",
        "trend",
        "recent_trend",
        "significance",
        "published_significance",
        "significance_basis",
        "significance_note",
        "significance_vs_group",
        "progress",
        "rag",
        "target",
        "basis",
    }


def test_excel_has_a_column_per_judgement_with_ranks_as_numbers(lait, expected, tmp_path):
    path = render(lait, "xlsx", tmp_path / "luton.xlsx")
    wb = load_workbook(path)
    # each theme's sheet is one table from A1; the indicator's rows are those with its code
    tables = [
        ws[t.ref] for ws in wb.worksheets for t in ws.tables.values() if t.name.startswith("T_")
    ]
    cells = next(c for c in tables if any(r[0].value == CODE for r in c[1:]))
    header = [c.value for c in cells[0]]
    cells = [cells[0], *(r for r in cells[1:] if r[0].value == CODE)]
    assert header[header.index("Band range") + 1 : header.index("How the figure was made")] == [
        "Rank",
        "Quartile band",
        "Progress",
        "Trend",
    ]  # LAIT ranks and bands; cspa adds the seed's trend class; no position or flag
    assert header[-1] == "How it was judged"
    rows = [dict(zip(header, r, strict=True)) for r in cells[1:]]
    luton = next(
        r for r in rows if r["Row"].value == "Luton" and r["Column"].value == expected["period"]
    )
    assert luton["Rank"].value == expected["rank"] and luton["Rank"].data_type == "n"
    assert luton["Quartile band"].value == expected["band"]
    assert luton["Progress"].value in ("Improved", "Same", "Worsened")
    assert "rank of" in luton["How it was judged"].value
    assert "no traffic light" not in luton["How it was judged"].value  # said once, under the table
    england = next(
        r for r in rows if r["Row"].value == "England" and r["Column"].value == expected["period"]
    )
    assert england["Rank"].value is None and england["Progress"].value in (
        "Improved",
        "Same",
        "Worsened",
    )
    # numbers are numbers in every indicator table's rank cells
    ranks = [
        r[header.index("Rank")]
        for ws in wb.worksheets
        for name in ws.tables
        if name.startswith("T_")
        for r in ws[ws.tables[name].ref][1:]
    ]
    assert len([c for c in ranks if c.value is not None]) > 100
    assert all(c.value is None or c.data_type == "n" for c in ranks)


def _cell(display, basis, *judgements):
    return {
        "display": display,
        "status": None,
        "source": "input",
        "basis": basis,
        "judged": [j[3] for j in judgements],
        "_judgements": [
            {"key": k, "value": v, "display": d, "basis": b} for k, v, d, b in judgements
        ],
    }


def _indicator(with_judgements: bool = True) -> dict:
    rank = [
        ("rank", 3, "3", "rank of 10 (2020)"),
        ("progress", "improved", "Improved", "vs 2019: 5 vs 6"),
    ]
    luton = [
        _cell("5", "as supplied", *(rank if with_judgements else [])),
        _cell("4", "as supplied"),
    ]
    england = [_cell("6", "published"), _cell("6", "published")]
    return {
        "code": "T 1",
        "light_rule": None,
        "table": {
            "caption": "A judged table",
            "columns": ["2020", "2021"],
            "window": None,
            "_judgement_columns": [
                {"key": "rank", "label": "Rank", "meaning": "1 = best"},
                {"key": "progress", "label": "Progress", "meaning": "vs last year"},
            ],
            "row_groups": [
                {
                    "label": None,
                    "rows": [
                        {"label": "Luton", "geography": "area", "cells": luton},
                        {"label": "England", "geography": "england", "cells": england},
                    ],
                }
            ],
        },
    }


def test_a_judged_table_is_laid_out_periods_down_with_a_column_per_judgement():
    from cspa.outputs.html import data_table, provenance

    ind = _indicator()
    pv = provenance(ind)
    html = str(data_table(ind, pv, {}))
    head = html[html.index("<thead>") : html.index("</thead>")]
    # Luton's figure and its two judgements under one heading; England, never judged, one column
    assert (
        '<th scope="colgroup" colspan="3">Luton</th><th scope="col" rowspan="2">England'
    ) in head
    assert re.findall(r"<th scope=col[^>]*>([^<]+)</th>", head) == ["Figure", "Rank", "Progress"]
    _geos, _subs, rows = _grid(html)
    assert list(rows) == ["2020", "2021"]  # a row per period
    assert rows["2020"] == ["5", "3", "Improved", "6"] and rows["2021"] == ["4", "", "", "6"]
    # how each judgement was made is noted (the table here is not of periods: every figure's)
    assert any("rank of 10 (2020)" in n["text"] for n in pv["notes"])
    # no links in the table: in print or on screen, the words
    printed = str(data_table(ind, pv, {}, for_print=True))
    assert "<td>Improved</td>" in printed and "href" not in printed and "href" not in html


def test_a_table_without_judgements_keeps_its_periods_across():
    from cspa.outputs.html import data_table, provenance

    ind = _indicator(with_judgements=False)
    html = str(data_table(ind, provenance(ind), {}))
    assert "colgroup" not in html and "cspa-j" not in html
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert re.findall(r"<th scope=col>([^<]+)</th>", head) == ["2020", "2021"]
    assert "cspa-latest" in html  # periods across: it opens at the latest period


def test_a_trend_that_is_n_a_everywhere_makes_no_column_and_keeps_periods_across():
    """LAIT's series are mostly too short for the seed's trend class: a column of "n/a" alone
    would turn nearly every table periods down (issue 18); a made trend keeps its column."""
    from cspa.outputs.html import data_table, provenance

    ind = _indicator(with_judgements=False)
    luton = ind["table"]["row_groups"][0]["rows"][0]
    ind["table"]["_judgement_columns"].append({"key": "trend", "label": "Trend", "meaning": "x"})
    why = "trend n/a: fewer than 2 moving averages (4 consecutive years) in the latest 5 years"
    luton["cells"][1] = _cell("4", "as supplied", ("trend", "n/a", "n/a", why))
    pv = provenance(ind)
    html = str(data_table(ind, pv, {}))
    assert "colgroup" not in html and ">Trend<" not in html and "cspa-latest" in html
    assert any(why in n["text"] for n in pv["notes"])  # the note still says why
    # nor does the legend explain a column no table shows
    from tests.unit.outputs.fixture_report import fixture_report

    doc = fixture_report()
    ind["code"], ind["title"] = "T1", "A judged table"
    doc["indicators"] = [ind]
    doc["sections"] = [
        {"id": "s", "title": "S", "subsections": [{"title": None, "indicators": ["T1"]}]}
    ]
    assert "What the judgement columns mean" not in render_html(doc)
    luton["cells"][1] = _cell("4", "as supplied", ("trend", "Above", "Above", "ranked 20 of 150"))
    html = str(data_table(ind, provenance(ind), {}))
    assert ">Trend<" in html and "colgroup" in html
    page = render_html(doc)
    legend = page[page.index("What the judgement columns mean") :]
    assert ">Trend<" in legend[: legend.index("</table>")]


def test_a_judgement_column_only_where_a_shown_figure_has_it():
    """A judgement makes a column only when one of the figures shown has it: one outside the period
    window makes none (and the 2008 tables, which print no rank, have no rank column: tests/golden)."""
    ind = _indicator()
    ind["table"]["window"] = 1  # 2021 only: Luton's 2021 figure is not judged
    from cspa.outputs.html import data_table, provenance

    html = str(data_table(ind, provenance(ind), {}))
    assert "colgroup" not in html and ">Rank<" not in html


def test_a_measure_shows_only_the_periods_it_has_figures_for():
    """The table's columns are every measure's periods (a change measure's ``03/04`` beside the
    levels' ``2003``): laid out periods down, each measure lists only its own."""
    from cspa.outputs.html import data_table, provenance

    ind = _indicator()
    change = {
        "label": "Change",
        "rows": [
            {
                "label": "Luton",
                "geography": "area",
                "cells": [{"display": "", "basis": "no figure"}, _cell("-1", "4 - 5")],
            },
            {
                "label": "England",
                "geography": "england",
                "cells": [{"display": "", "basis": "no figure"}, _cell("0", "6 - 6")],
            },
        ],
    }
    ind["table"]["row_groups"][0]["label"] = "Level"
    ind["table"]["row_groups"].append(change)
    html = str(data_table(ind, provenance(ind), {}))
    bodies = html.split("<tbody>")[1:]
    periods = [re.findall(r"<tr><th scope=row>([^<]+)</th>", b) for b in bodies]
    assert periods == [["2020", "2021"], ["2021"]]


@pytest.mark.parametrize(
    ("shared", "shown"),
    [(None, "12 of 152"), (1, "12 of 152"), (2, "=12 of 152"), (30, "=12 of 152")],
)
def test_a_shared_rank_is_marked_in_its_column(shared, shown):
    """Ties share the best rank; the column marks a shared place with '=' (the league tables' mark),
    so "=1 of 102" for 30 authorities with one figure does not read as a first place of its own."""
    from cspa.outputs.document_apa import _judgement_entries

    j = {"rank": 12, "rank_of": 152, "rank_shared": shared, "_bases": {}}
    (entry,) = _judgement_entries(j)
    assert entry["key"] == "rank" and entry["value"] == 12 and entry["display"] == shown


def test_a_figure_with_nothing_judged_says_why_under_the_table(demo_con):
    """LAIT gives every authority England's school-stability figure for 2019 (5.0, Barnet's too):
    the engine ranks, bands and judges the progress of none of them, and says why. The report shows
    no judgement column for it, so the note under the table is where a reader learns that an empty
    place is the rule at work (every authority has the same figure), not a missing number."""
    doc = build_apa_document(demo_con, "302", 2019, "lait")
    ind = next(i for i in doc["indicators"] if i["code"] == "Stability_School")
    assert not [
        j for j in ind["judgements"] if j["geography"] == "area" and j["period"] == "2019"
    ]  # nothing judged of Barnet's 2019 figure
    table = ind["table"]
    col = table["columns"].index("2019")
    rows = {r["geography"]: r for g in table["row_groups"] for r in g["rows"]}
    barnet = rows["area"]["cells"][col]
    assert barnet["display"] == "5.0"
    assert any(p.startswith("not ranked or banded: all 152 authorities") for p in barnet["judged"])
    assert any(
        p.startswith("no progress judged: every authority has the same") for p in barnet["judged"]
    )
    # a comparator's figure with nothing judged is not explained so (comparators are never ranked;
    # England's own change is judged, as a country's is, and noted as before)
    assert "judged" not in rows["statistical_neighbours"]["cells"][col]
    assert "judged" not in rows["region"]["cells"][col]
    page = render_html(doc)
    start = page.index('id="ind-Stability_School"')
    notes = page[page.index("<details class=cspa-basis>", start) : page.index("</details>", start)]
    assert re.search(r"<b>Barnet, 2019:</b> not ranked or banded: all 152 authorities", notes)


def test_html_shows_the_judgements_of_every_period_shown(lait):
    """Each period's rank, band and progress are in their columns, not the latest's alone: a rank
    history is read down the column (earlier periods' were left blank while their notes were left
    to Excel and JSON). Each is the judgement the JSON holds for that period."""
    page = render_html(lait)
    start = page.index(f'id="ind-{anchor(CODE)}"')
    geos, subs, rows = _grid(page[start : page.index("</table>", start)])
    assert geos[:3] == ["Luton"] * 3 and subs[:3] == ["Figure", "Rank", "Quartile band"]
    ind = next(i for i in lait["indicators"] if i["code"] == CODE)
    mine = {j["period"]: j for j in ind["judgements"] if j["geography"] == "area"}
    shown = [p for p in rows if p in mine and mine[p]["rank"] is not None]
    assert len(shown) >= 3  # the latest and at least two earlier periods
    for period in shown:
        j = mine[period]
        tie = "=" if (j["rank_shared"] or 1) > 1 else ""
        rank, band = rows[period][1:3]
        assert rank == f"{tie}{j['rank']} of {j['rank_of']}", period
        assert band == "ABCD"[j["quartile"] - 1], period
