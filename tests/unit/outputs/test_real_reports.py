"""The APA dataset report renders from the demo database: Luton 2008 as the seed, and current
authorities on LAIT data with the DfE 2025 neighbours, in every format."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from cspa.outputs.document_apa import build_apa_document
from cspa.outputs.render import render


@pytest.fixture(scope="module")
def luton(demo_con):
    return build_apa_document(demo_con, "Luton", 2008, "apa2008")


@pytest.mark.slow
def test_pdf_has_every_indicator_and_sane_pages(luton, tmp_path):
    path = tmp_path / "luton.pdf"
    render(luton, "pdf", path)
    reader = PdfReader(str(path))
    n = len(reader.pages)
    assert 60 <= n <= 700, n
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    missing = [i["code"] for i in luton["indicators"] if i["code"] not in text]
    assert missing == []
    assert "Luton" in text and re.search(r"Page \d+ of \d+", text)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
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
    assert tables >= 100
    assert numeric > 1000
    assert texty == [], f"numbers stored as text: {texty[:10]}"
    assert any(ws.freeze_panes for ws in wb.worksheets)


@pytest.mark.parametrize("area", ["Luton", "Isles of Scilly", "City of London", "Cumberland", "Kent"])
def test_current_authorities_on_lait(demo_con, area, tmp_path):
    doc = build_apa_document(demo_con, area, 2025, "lait")
    assert doc["area"]["name"] == area
    assert len(doc["indicators"]) > 100
    assert any("Open Government Licence" in a for a in doc["attribution"])
    ranked = [j for i in doc["indicators"] for j in i["judgements"] if j["rank"] is not None and j["geography"] == "area"]
    assert ranked, "ranks among the 153 authorities"
    assert any(o["geography"] == "statistical_neighbours" and o["source"] == "computed"
               for i in doc["indicators"] for o in i["observations"])
    render(doc, "html", tmp_path / "r.html")
    assert area in (tmp_path / "r.html").read_text(encoding="utf-8")
