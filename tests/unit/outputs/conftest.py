"""Fixtures for the renderer tests: the fixture report document and its rendered outputs."""

from __future__ import annotations

import shutil

import pytest

from tests.unit.outputs.fixture_report import fixture_report


@pytest.fixture
def doc():
    """A fresh copy of the fixture report document (tests may change it)."""
    return fixture_report()


@pytest.fixture(scope="module")
def html_page():
    from cspa.outputs.html import render_html

    return render_html(fixture_report())


@pytest.fixture(scope="session", params=["chromium", "weasyprint"])
def pdf_path(request, tmp_path_factory):
    """The fixture report printed by each PDF printer (Chromium where it is installed)."""
    from cspa.outputs.pdf import find_chromium, render_pdf

    if request.param == "chromium" and find_chromium() is None:
        pytest.skip(
            "no Chromium to print with (apt-get install chromium); the WeasyPrint PDF is still checked"
        )
    return render_pdf(
        fixture_report(),
        tmp_path_factory.mktemp(f"pdf-{request.param}") / "apa-dataset-Luton.pdf",
        engine=request.param,
    )


@pytest.fixture(scope="session")
def xlsx_path(tmp_path_factory):
    from cspa.outputs.excel import render_xlsx

    return render_xlsx(fixture_report(), tmp_path_factory.mktemp("xlsx") / "apa-dataset-Luton.xlsx")


@pytest.fixture(scope="session")
def luton_2008_pdf(demo_db, tmp_path_factory):
    """The seed's report (Luton's 2008 APA dataset, built as the CLI builds it for print) printed by
    Chromium: the largest print job of the suite, printed once for every worker and module that
    checks it (tests/conftest.shared_file)."""
    import duckdb

    from cspa.outputs.document_apa import build_apa_document
    from cspa.outputs.pdf import find_chromium, render_pdf
    from tests.conftest import shared_file

    if find_chromium() is None:
        pytest.skip("no Chromium to print with (apt-get install chromium)")

    def build(path):
        con = duckdb.connect(str(demo_db), read_only=True)
        try:
            doc = build_apa_document(con, "Luton", 2008, "apa2008", history=False)
        finally:
            con.close()
        out = render_pdf(
            doc, tmp_path_factory.mktemp("print-pdf") / "luton-2008.pdf", engine="chromium"
        )
        shutil.move(out, path)

    return shared_file("luton-2008", ".pdf", build)
