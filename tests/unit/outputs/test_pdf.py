"""The PDF: printed from the HTML by WeasyPrint, with page furniture and tags."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from cspa.outputs.pdf import chromium_page_css, pdf_engine
from tests.unit.outputs.fixture_report import fixture_report


@pytest.fixture(scope="module")
def reader(pdf_path):
    return PdfReader(str(pdf_path))


@pytest.fixture(scope="module")
def pages(reader):
    return [p.extract_text() or "" for p in reader.pages]


def test_every_indicator_code_present(pages):
    text = "\n".join(pages)
    for ind in fixture_report()["indicators"]:
        assert ind["code"] in text
    for code in ("7001OF", "7002OF"):
        assert code in text


def test_page_count_is_sane(reader):
    # title page, front matter, then a part per outcome area (each indicator on its own
    # page or two) and the appendices
    assert 12 <= len(reader.pages) <= 30


def test_page_numbers_header_and_attribution_on_every_page(pages):
    n = len(pages)
    attribution = fixture_report()["attribution"]
    for i, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        assert f"Page {i} of {n}" in flat
        for line in attribution:
            assert " ".join(line.split()) in flat, (i, line)
        if i > 1:
            assert "Luton — Annual Performance Assessment dataset" in flat, i


def test_each_outcome_area_starts_a_page(pages):
    for title in ("Being healthy", "Staying safe", "Enjoying and achieving", "Appendices"):
        starts = [
            i
            for i, text in enumerate(pages)
            if text.split("\n")[0:3] and any(line.strip() == title for line in text.split("\n")[:4])
        ]
        assert starts, title


def test_contents_page_numbers_point_at_the_indicators(pages):
    flat_pages = [" ".join(t.split()) for t in pages]
    # WeasyPrint draws a dotted leader in text, Chromium a dotted rule
    pattern = r"2022SC PAF CF/C64: percentage of core assessments .*? commencement ?\.* ?(\d+)"
    found = [m for t in flat_pages[:5] if (m := re.search(pattern, t))]
    assert found, flat_pages[1:4]
    page_no = int(found[0].group(1))
    assert "2022SC" in flat_pages[page_no - 1]
    assert (
        "Percentage of core assessments completed within 35 working days, Luton"
        in flat_pages[page_no - 1]
    )


def test_pdf_is_tagged_with_language_and_title(reader):
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    assert str(root.get("/Lang", "")).lower().startswith("en")
    assert "Luton" in (reader.metadata.title or "")


def test_figures_lights_and_bands_reach_the_pdf(pages):
    text = " ".join(" ".join(pages).split())
    assert "Amber" in text and "Green" in text
    assert "3 of 5" in text
    assert "†" in text
    assert "How these figures were made" in text
    assert "1884 / 3202 x 100 = 58.8%" in text


def test_first_page_renders_to_png(pdf_path, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian package poppler-utils) is not installed; PNG check skipped")
    out = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf_path), str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000


def test_chromium_page_furniture_is_literal_text_and_named_pages():
    """Chromium has margin boxes and page counters but no string-set or running elements: the
    header, footer and each section's running title are written into the page CSS."""
    doc = fixture_report()
    css = chromium_page_css(doc)
    assert '@top-left { content: "Luton \u2014  Annual Performance Assessment dataset";' in css
    footer = css[css.index("@bottom-left") :]
    for line in doc["attribution"]:
        assert line.replace('"', '\\"') in footer
    assert "\\A " in footer and "white-space: pre-wrap" in footer  # one attribution line per line
    assert '[id="staying_safe"].cspa-outcome { page: cspa-section-1; }' in css
    assert '@page cspa-section-1 { @top-right { content: "Staying safe";' in css
    assert ".cspa-print-attribution { display: none !important; }" in css


def test_printer_choice(monkeypatch):
    monkeypatch.setenv("CSPA_PDF_ENGINE", "weasyprint")
    assert pdf_engine() == "weasyprint"
    monkeypatch.setenv("CSPA_PDF_ENGINE", "Chromium")
    assert pdf_engine() == "chromium"
    monkeypatch.delenv("CSPA_PDF_ENGINE")
    monkeypatch.setenv("CSPA_CHROMIUM", "/nonexistent/chromium")
    assert pdf_engine() == "weasyprint"  # no Chromium: WeasyPrint prints
    assert pdf_engine(variant="pdf/ua-1") == "weasyprint"


def test_chromium_prints_to_a_relative_path(tmp_path, monkeypatch):
    """`cspa report ... --output X.pdf` names a file in the working folder: a relative path."""
    from cspa.outputs.pdf import find_chromium, render_pdf

    if find_chromium() is None:
        pytest.skip("no Chromium to print with")
    monkeypatch.chdir(tmp_path)
    doc = fixture_report()
    doc["indicators"] = doc["indicators"][:2]
    out = render_pdf(doc, "relative.pdf", engine="chromium")
    assert (tmp_path / "relative.pdf").stat().st_size > 1000
    assert out == Path("relative.pdf")
