"""The quarterly report's HTML, PDF and Excel, the CLI commands, the seed loader and the history."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from cspa.outputs.html_quarterly import render_quarterly_html, spc_chart_svg
from cspa.outputs.render import render
from cspa.quarterly.report import build_quarterly_document


@pytest.fixture(scope="module")
def doc(demo_con):
    return build_quarterly_document(demo_con, "Luton", "2007-08-Q4")


class _Headings(HTMLParser):
    def __init__(self):
        super().__init__()
        self.levels, self.ids, self.imgs, self.labelled_by = [], [], 0, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "svg" and a.get("role") == "img":
            # a text alternative of its own, or the caption under it (aria-labelledby)
            assert a.get("aria-label") or a.get("aria-labelledby"), (
                "an SVG image without a text alternative"
            )
            if a.get("aria-labelledby"):
                self.labelled_by.append(a["aria-labelledby"])
            self.imgs += 1


def test_html_is_accessible_and_in_the_seeds_layout(doc):
    html = render_quarterly_html(doc)
    p = _Headings()
    p.feed(html)
    assert p.levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(p.levels, p.levels[1:], strict=False)), (
        "a heading level is skipped"
    )
    assert len(p.ids) == len(set(p.ids)) and all(" " not in i for i in p.ids)
    assert set(p.labelled_by) <= set(p.ids)  # every chart's caption is on the page
    assert '<html lang="en-GB"' in html and "govuk-skip-link" in html
    # the seed's order: key, headline news, then item 1 with table, chart, commentary and action plan
    front = [
        html.index(s)
        for s in (
            "Headline News (incorporating",
            "KEY TO HOW WE ARE DOING:",
            '<section class="cspa-outcome"',
        )
    ]
    body = html[front[-1] :]
    order = [
        body.index(s)
        for s in (
            "1. Percentage of initial assessments",
            "Progress on last period?",
            "Commentary</h4>",
            "SUMMARY OF THE ACTION PLAN:",
            "13. Adoptions",
        )
    ]
    assert front == sorted(front) and order == sorted(order)
    # a RAG light is a word and a shape, never colour alone; progress is a glyph and a word
    assert re.search(r'cspa-light--red.*?<svg[^>]*aria-hidden="true".*?</svg> Red', html, re.S)
    assert '<span class="cspa-q-glyph" aria-hidden="true">✓</span>Improved' in html
    assert (
        '<th scope="col" class="govuk-table__header govuk-table__header--numeric">4th Qtr Mar 08</th>'
        in html
    )
    assert 'colspan="6"' in html and "To reduce numbers" in html
    assert p.imgs >= 10  # charts with text alternatives


def test_spc_chart_svg_text_alternative():
    spc = {
        "title": "T: SPC chart",
        "summary": "mean 10",
        "points": [
            {
                "period": str(2016 + i),
                "value": v,
                "mean": 10.0,
                "lpl": 5.0,
                "upl": 15.0,
                "target": 12.0,
                "point_type": "special_cause_improvement" if v > 15 else "common_cause",
            }
            for i, v in enumerate([9, 11, 10, 16])
        ],
    }
    svg = spc_chart_svg(spc)
    assert 'role="img"' in svg and 'aria-label="T: SPC chart. mean 10"' in svg and "<title>" in svg
    assert "Special cause: improvement" in svg and "Target" in svg and "<rect x=" in svg


def test_excel_and_pdf(doc, tmp_path):
    import openpyxl

    xlsx = render(doc, "xlsx", tmp_path / "q.xlsx")
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    assert {
        "Contents",
        "Report",
        "Performance indicators",
        "Commentary",
        "Targets",
        "SPC",
        "Definitions",
    } <= set(wb.sheetnames)
    cells = [
        c
        for r in wb["Performance indicators"].iter_rows(values_only=True)
        for c in r
        if c is not None
    ]
    assert "✓ Improved" in cells and 57.7 in cells
    commentary = [r for r in wb["Commentary"].iter_rows(values_only=True)]
    assert any(
        r[1] == "Current overall progress on action plan" and r[2] == "Amber" for r in commentary
    )
    wb.close()
    pdf = render(doc, "pdf", tmp_path / "q.pdf")
    import pypdf

    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages[:4])
    assert "DEPARTMENTAL PERFORMANCE & FINANCE REPORT" in text and "Headline News" in text


def test_cli_report_template_load_history(demo_db, tmp_path):
    import shutil

    from typer.testing import CliRunner

    from cspa.cli import app

    db = tmp_path / "cspa.duckdb"
    shutil.copy(demo_db, db)
    run = CliRunner().invoke
    out = tmp_path / "q.json"
    r = run(
        app,
        [
            "report",
            "quarterly",
            "--area",
            "Luton",
            "--period",
            "2007-08-Q4",
            "--format",
            "json",
            "--output",
            str(out),
            "--db",
            str(db),
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["report"] == "quarterly" and len(data["indicators"]) == 13
    t = tmp_path / "t.xlsx"
    r = run(
        app,
        [
            "quarterly",
            "template",
            "--area",
            "821",
            "--period",
            "Jan-Mar 2008",
            "--output",
            str(t),
            "--db",
            str(db),
        ],
    )
    assert r.exit_code == 0, r.output
    r = run(app, ["quarterly", "load", str(t), "--user", "carol", "--db", str(db)])
    assert r.exit_code == 0 and "0 target(s), 0 text(s) and 0 figure(s) changed" in " ".join(
        r.output.split()
    ), r.output
    r = run(
        app,
        [
            "quarterly",
            "history",
            "--area",
            "Luton",
            "--indicator",
            "NI 59",
            "--format",
            "csv",
            "--db",
            str(db),
        ],
    )
    assert r.exit_code == 0 and "seed 001 transcription" in r.output
    r = run(app, ["report", "quarterly", "--area", "Luton", "--period", "2007-08", "--db", str(db)])
    assert r.exit_code != 0 and "not a quarter" in str(r.exception or r.output)


def test_seed_loader_is_idempotent_and_attributed(store):
    from cspa.quarterly.seed import USER, load_seed_quarterly

    before = store.con.execute("SELECT count(*) FROM quarterly_target_revision").fetchall()[0][0]
    assert load_seed_quarterly(store) == [{"source": "seed 001 targets and narrative", "rows": 0}]
    assert (
        store.con.execute("SELECT count(*) FROM quarterly_target_revision").fetchall()[0][0]
        == before
    )
    who = store.con.execute("SELECT DISTINCT changed_by FROM quarterly_target_revision").fetchall()
    assert who == [(USER,)]
    # the 63 rows of targets.csv (every printed target, 001:L41 ... L251, the LAA targets and the
    # milestone), none lost
    assert before == 63
