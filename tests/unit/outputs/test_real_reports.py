"""The APA dataset report renders from the demo database: Luton 2008 as the seed, and current
authorities on LAIT data with the DfE 2025 neighbours, in every format."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from cspa.engine.selection import Selection
from cspa.outputs.document_apa import build_apa_document
from cspa.outputs.render import render


@pytest.fixture(scope="module")
def luton(demo_con):
    return build_apa_document(demo_con, "Luton", 2008, "apa2008")


def test_pdf_has_every_indicator_and_sane_pages(luton, luton_2008_pdf, tmp_path):
    """The seed's report printed (the shared print of tests/unit/outputs/conftest.py): every
    indicator of the document is in its text, on a sane number of numbered pages."""
    reader = PdfReader(str(luton_2008_pdf))
    n = len(reader.pages)
    assert 60 <= n <= 700, n
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    missing = [i["code"] for i in luton["indicators"] if i["code"] not in text]
    assert missing == []
    assert "Luton" in text and re.search(r"Page \d+ of \d+", text)
    if shutil.which("pdftoppm"):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "50",
                "-f",
                "1",
                "-l",
                "1",
                str(luton_2008_pdf),
                str(tmp_path / "p"),
            ],
            check=True,
        )
        png = next(tmp_path.glob("p*.png"))
        assert png.stat().st_size > 5_000


def test_excel_numbers_are_numbers(luton, tmp_path):
    """Every figure in the indicator tables' Figure column is a number, or a status symbol."""
    path = tmp_path / "luton.xlsx"
    render(luton, "xlsx", path)
    wb = load_workbook(path)
    numeric, texty, tables = 0, [], 0
    for ws in wb.worksheets:
        for t in ws.tables.values():
            tables += 1
            cells = ws[t.ref]
            header = [c.value for c in cells[0]]
            if "Figure" not in header:
                continue  # contents, definitions and appendices tables hold text
            col = header.index("Figure")
            for row in cells[1:]:
                v = row[col].value
                if isinstance(v, (int, float)):
                    numeric += 1
                elif v is not None and re.fullmatch(r"[-+]?[\d,]*\.?\d+%?", str(v)):
                    texty.append(v)
    assert tables == len(wb.worksheets)  # one table a sheet, from A1 (test_excel.py)
    assert numeric > 1000
    assert texty == [], f"numbers stored as text: {texty[:10]}"
    assert any(ws.freeze_panes for ws in wb.worksheets)


@pytest.mark.parametrize(
    "area", ["Luton", "Isles of Scilly", "City of London", "Cumberland", "Kent"]
)
def test_current_authorities_on_lait(demo_con, area, tmp_path):
    doc = build_apa_document(demo_con, area, 2025, "lait")
    assert doc["area"]["name"] == area
    assert len(doc["indicators"]) > 100
    assert any("Open Government Licence" in a for a in doc["attribution"])
    ranked = [
        j
        for i in doc["indicators"]
        for j in i["judgements"]
        if j["rank"] is not None and j["geography"] == "area"
    ]
    assert ranked, "ranks among the 153 authorities"
    assert any(
        o["geography"] == "statistical_neighbours" and o["source"] == "computed"
        for i in doc["indicators"]
        for o in i["observations"]
    )
    render(doc, "html", tmp_path / "r.html")
    assert area in (tmp_path / "r.html").read_text(encoding="utf-8")


def _periods(table: str) -> list[str]:
    """The periods an indicator table shows: its column headings, or, in a table laid out periods
    down (one with judgement columns, under geography ``colgroup`` headings), its first body's row headings."""
    head = table[: table.index("</thead>")]
    if 'scope="colgroup"' not in head:
        return re.findall(r"<th scope=col>([^<]+)</th>", head)
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return re.findall(r"<tr><th scope=row>([^<]+)</th>", body)


def _indicator_table(page: str, code: str) -> str:
    from cspa.outputs.html import anchor

    start = page.index(f'id="ind-{anchor(code)}"')
    return page[start : page.index("</table>", start)]


def _shown_periods(page: str, code: str) -> list[str]:
    return _periods(_indicator_table(page, code))


def _data_tables(page: str) -> list[str]:
    return re.findall(r'<table class="govuk-table cspa-data"[^>]*>.*?</table>', page, flags=re.S)


def test_lait_report_shows_the_latest_five_periods_and_keeps_the_rest_for_json(demo_con):
    from cspa.outputs.html import render_html

    doc = build_apa_document(demo_con, "Luton", 2025, "lait")
    assert doc["period_window"] == 5
    page = render_html(doc)
    assert "Each table and chart shows the latest 5 periods of its indicator." in page
    long = [i for i in doc["indicators"] if len(i["table"]["columns"]) > 5]
    assert len(long) > 100  # LAIT's histories run to ten years
    for ind in long[:25]:
        assert ind["table"]["window"] == 5
        assert _shown_periods(page, ind["code"]) == ind["table"]["columns"][-5:]
        # the JSON keeps every period: observations before the window are still in the document
        periods = {o["period"] for o in ind["observations"]}
        assert set(ind["table"]["columns"]) <= periods and len(periods) > 5
        # the chart shows the window too, so its summary speaks of the periods shown
        if ind["chart"]:
            assert {p["period"] for s in ind["chart"]["series"] for p in s["points"]} <= set(
                ind["table"]["columns"][-5:]
            )


def test_period_window_is_an_option(demo_con):
    from cspa.outputs.html import render_html

    every = build_apa_document(demo_con, "Luton", 2025, "lait", periods=0)
    assert every["period_window"] is None
    three = build_apa_document(demo_con, "Luton", 2025, "lait", periods=3, history=False)
    code = next(i["code"] for i in every["indicators"] if len(i["table"]["columns"]) >= 8)
    ind_all = next(i for i in every["indicators"] if i["code"] == code)
    ind_three = next(i for i in three["indicators"] if i["code"] == code)
    assert _shown_periods(render_html(every), code) == ind_all["table"]["columns"]
    # built without history, the document holds only the periods it shows
    assert ind_three["table"]["columns"] == ind_all["table"]["columns"][-3:]
    assert {o["period"] for o in ind_three["observations"]} == set(ind_all["table"]["columns"][-3:])
    assert _shown_periods(render_html(three), code) == ind_all["table"]["columns"][-3:]


def test_the_2008_dataset_shows_every_period_it_printed(luton):
    from cspa.outputs.html import render_html

    assert luton["period_window"] is None
    page = render_html(luton)
    # 2015SC prints seven years, 2001-02 to 2007-08 (000:L982-988): every one is shown
    ind = next(i for i in luton["indicators"] if i["code"] == "2015SC")
    assert ind["table"]["columns"][0] == "2001-02" and len(ind["table"]["columns"]) >= 7
    assert _shown_periods(page, "2015SC") == ind["table"]["columns"]
    assert "Periods shown" not in page
    # and none it did not: DfE's 2018 exclusions release is later than the document (issue 17)
    excl = next(i for i in luton["indicators"] if i["code"] == "3091DE")
    assert excl["table"]["columns"] == ["2005", "2006", "2007"]


def test_every_figure_of_a_real_report_is_noted_with_its_basis(luton):
    """1003HC (Luton's figures are its PCT's): every figure's basis is in a note under the table
    naming its row and period, once; no figure is a link (thousands of small targets)."""
    from cspa.outputs.html import provenance, render_html

    page = render_html(luton)
    start = page.index('id="ind-1003HC"')
    section = page[start : page.index("</section>", start)]
    assert "cspa-fig" not in section and "aria-describedby" not in section
    notes = [
        (where, text)
        for where, text in re.findall(r"<li><b>([^<]*):</b> ([^<]*)</li>", section)
        if where != "Source"  # the catalogue's notes on the source, after the figures' notes
    ]
    ind = next(i for i in luton["indicators"] if i["code"] == "1003HC")
    pv = provenance(ind)
    assert notes and len(notes) == len(pv["notes"])
    # each note is printed once: no two notes say the same
    assert len({text for _where, text in notes}) == len(notes)
    # the latest figure of each row is noted; every note names where it applies
    for row_group in pv["groups"]:
        for row in row_group["rows"]:
            shown = [c for c in row["cells"] if c["cell"].get("display") or c["cell"].get("status")]
            if shown:
                assert any(row["label"] in where for where, _t in notes), row["label"]


def test_reader_facing_text_names_no_seed_lines_or_file_paths(luton):
    """Internals stay out of what a reader reads (issue 18): the notes under the tables cite the
    published documents by name and line ("line 3083 of the 2008 APA dataset for Luton"), never
    "000:L3083", a path in cspa's source tree or a data file of cspa's own."""
    from cspa.outputs.html import render_html

    page = render_html(luton)
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    assert not re.search(r"\b\d{3}:L\d+", text)
    assert "src/cspa" not in text and "seed_geographies" not in text
    assert not re.search(r"\bseed \d{3}\b", text)
    assert "line 3083 of the 2008 APA dataset for Luton" in text  # the trend's basis, worded


def test_the_neighbour_group_is_named_for_a_reader(demo_con):
    """The notes under a current report's tables name the neighbour model, not its id."""
    from cspa.outputs.html import render_html

    doc = build_apa_document(
        demo_con, "Kent", 2025, "lait", history=False, indicators=("ReReferral",)
    )
    text = re.sub(r"<[^>]+>", " ", render_html(doc))  # (the appendix's anchor is its id)
    assert "dfe_2025" not in text
    assert re.search(r"mean of \d+ of 10 neighbours \(DfE May 2025\)", text)


def test_batch_reads_the_same_documents_from_its_prepared_files(demo_db, tmp_path):
    """The batch renderer's workers read the judgements from Parquet files, sorted by the authority
    whose report shows them, and keep the shared rows (England, regions) between reports: the
    documents are exactly those built straight from the database's judgements."""
    import duckdb

    from cspa.app.batch import open_prepared, prepare_judgements
    from cspa.engine.run import compute
    from cspa.outputs.document_apa import SharedRows
    from cspa.outputs.json_out import to_json

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        # judged once, for both: the engine's sums are not bit-for-bit the same from run to run
        rel = compute(con, Selection.framework("lait"))
        con.execute(f"CREATE TEMP TABLE judgement AS {rel.sql_query()}")
        # a report of 2026 holds every period the store has, so both read the judgement table (a
        # report of an earlier year is judged as it stood then: test_reports_scope.py)
        rows = prepare_judgements(con, "lait", tmp_path, 2026)
        assert rows == con.execute("SELECT count(*) FROM judgement").fetchall()[0][0] > 100_000
        prepared, shared = open_prepared(tmp_path), SharedRows()
        for area in (
            "Luton",
            "Bedford",
            "Kent",
        ):  # two in one region: the second reuses the first's shared rows
            for history in (False, True):
                direct = build_apa_document(con, area, 2026, "lait", history=history)
                batch = build_apa_document(
                    prepared, area, 2026, "lait", history=history, shared=shared
                )
                assert to_json(batch) == to_json(direct), (area, history)
        assert ("lait", "") in shared.rows and shared.entries
    finally:
        con.close()


def test_report_command_takes_a_period_window(demo_db, tmp_path):
    from typer.testing import CliRunner

    from cspa.cli import app

    out = tmp_path / "luton.html"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "apa-dataset",
            "--db",
            str(demo_db),
            "--area",
            "Luton",
            "--year",
            "2025",
            "--framework",
            "lait",
            "--periods",
            "2",
            "--format",
            "html",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "Each table and chart shows the latest 2 periods of its indicator." in page
    assert max(len(_periods(t)) for t in _data_tables(page)) == 2


@pytest.mark.slow
def test_batch_renders_reports_in_worker_processes(demo_con, tmp_path):
    """The whole batch path: the engine once, the prepared file, worker processes forked from the
    warm server, one file per authority (here three of them), each with only the period window."""
    from cspa.app.batch import render_all_areas

    n = render_all_areas(demo_con, "lait", 2025, "html", tmp_path, areas=["821", "822", "202"])
    assert n == 3
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [
        "apa-dataset-202-Camden.html",
        "apa-dataset-821-Luton.html",
        "apa-dataset-822-Bedford.html",
    ]
    page = (tmp_path / "apa-dataset-822-Bedford.html").read_text(encoding="utf-8")
    assert '<h1 class="govuk-heading-xl cspa-doc-title">' in page and "Bedford" in page
    assert "Each table and chart shows the latest 5 periods of its indicator." in page
    assert max(len(_periods(t)) for t in _data_tables(page)) == 5
    assert "Open Government Licence" in page
