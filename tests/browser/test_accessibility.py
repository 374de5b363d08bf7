"""The APA dataset page in a real browser: axe-core finds no WCAG 2.2 AA violations.

Drives Debian's Chromium (``/usr/bin/chromium``; CI installs it in ``.ci/run``) through
Playwright and runs axe-core (via axe-playwright-python) with the WCAG 2.0/2.1/2.2 A and
AA tags, at a desktop width and at 320 CSS pixels (reflow, WCAG 1.4.10), with every
``<details>`` closed and open.  Also checks the keyboard basics: the first Tab stop is
the skip link and it moves focus to the main content.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cspa.outputs.html import render_html
from tests.unit.outputs.fixture_report import fixture_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium is not installed at /usr/bin/chromium "
        "(apt-get install -y chromium); browser accessibility checks skipped",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("a11y") / "apa-dataset-Luton.html"
    path.write_text(render_html(fixture_report()), encoding="utf-8")
    return path


def _open(browser, page_file: Path, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.as_uri())
    return context, page, requests


def _violations(page) -> str:
    results = axe_module.Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return results.generate_report() if results.violations_count else ""


@pytest.mark.parametrize("width", [1280, 390, 320])
def test_no_wcag22aa_violations(browser, page_file, width):
    context, page, requests = _open(browser, page_file, width)
    try:
        report = _violations(page)
        assert not report, report
        # with every details element open (the basis lists and chart data tables)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        report = _violations(page)
        assert not report, report
        # the page is self-contained: it asked for nothing but itself
        assert [u for u in requests if u != page_file.as_uri()] == []
    finally:
        context.close()


def test_reflow_has_no_page_level_horizontal_scroll(browser, page_file):
    context, page, _requests = _open(browser, page_file, 320)
    try:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"page scrolls sideways by {overflow}px at 320px"
    finally:
        context.close()


def test_skip_link_is_first_tab_stop_and_moves_focus(browser, page_file):
    context, page, _requests = _open(browser, page_file, 1280)
    try:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "govuk-skip-link"
        assert (
            page.evaluate("document.activeElement.getBoundingClientRect().width") > 10
        )  # visible on focus
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main-content"
    finally:
        context.close()


def test_the_notes_under_a_table_open_and_say_how_its_latest_figures_were_made(browser, page_file):
    """How each of the latest figures was made is in the notes under the table, closed until asked
    for (issue 18: one note per geography's latest figure, not a link and a note per cell)."""
    context, page, _requests = _open(browser, page_file, 1280)
    try:
        details = page.locator("#ind-2022SC details.cspa-basis")
        assert not details.evaluate("d => d.open")
        details.locator("summary").click()
        assert details.evaluate("d => d.open")
        notes = details.locator("ol.cspa-notes li")
        assert notes.count() >= 3 and notes.first.is_visible()
        assert notes.first.inner_text().startswith("Luton, 2007-08:")
        assert "PAF band 2006-08" in notes.first.inner_text()
    finally:
        context.close()


def test_screenshot_for_people(browser, page_file, tmp_path):
    """Not an assertion about looks: leaves a screenshot for a person to inspect on failure."""
    context, page, _requests = _open(browser, page_file, 1280)
    try:
        shot = tmp_path / "apa-dataset.png"
        page.locator("#ind-2022SC").screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        context.close()


@pytest.fixture(scope="module")
def real_page(tmp_path_factory, demo_con) -> Path:
    """The real report cspa renders from the demo database: Luton's 2008 APA dataset."""
    from cspa.outputs.document_apa import build_apa_document

    path = tmp_path_factory.mktemp("a11y-real") / "apa-dataset-821-2008.html"
    path.write_text(
        render_html(build_apa_document(demo_con, "Luton", 2008, "apa2008")), encoding="utf-8"
    )
    return path


@pytest.mark.slow
def test_real_luton_report_has_no_wcag22aa_violations(browser, real_page):
    context, page, requests = _open(browser, real_page, 1280)
    try:
        report = _violations(page)
        assert not report, report
        assert [u for u in requests if u != real_page.as_uri()] == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def current_page(tmp_path_factory, demo_con) -> Path:
    """A current report from the demo database, summary first: Kent's LAIT 2025 report narrowed to
    two of LAIT's themes (the whole report, 1.9 MB, is checked by hand: docs/outputs.md)."""
    from cspa.outputs.document_apa import build_apa_document

    doc = build_apa_document(
        demo_con, "Kent", 2025, "lait", themes=("Children Looked After", "Child Protection")
    )
    assert doc["summary"]
    path = tmp_path_factory.mktemp("a11y-current") / "apa-dataset-886-2025.html"
    path.write_text(render_html(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [1280, 390, 320])
def test_current_report_has_no_wcag22aa_violations_at_three_widths(browser, current_page, width):
    """Issue 18: zero axe WCAG 2.2 AA violations, target size included, at 320, 390 and 1280 px,
    and no sideways scroll of the page itself (a table scrolls in its own region)."""
    context, page, requests = _open(browser, current_page, width)
    try:
        report = _violations(page)
        assert not report, report
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert [u for u in requests if u != current_page.as_uri()] == []
    finally:
        context.close()
