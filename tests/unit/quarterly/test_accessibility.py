"""The quarterly report pages in a real browser: axe-core finds no WCAG 2.2 AA violations.

The same checks as tests/browser/test_accessibility.py (Debian's Chromium through Playwright,
axe-core with the WCAG 2.0/2.1/2.2 A and AA tags, 1280 and 320 CSS pixels, details closed and
open), on Luton's January-March 2008 report (seed 001) and its 2024-25 Q4 report on LAIT data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium); "
        "browser accessibility checks skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory, demo_con) -> dict[str, Path]:
    from cspa.outputs.html_quarterly import render_quarterly_html
    from cspa.quarterly.report import build_quarterly_document

    folder = tmp_path_factory.mktemp("a11y-quarterly")
    out = {}
    for period in ("2007-08-Q4", "2024-25-Q4"):
        path = folder / f"quarterly-{period}.html"
        path.write_text(
            render_quarterly_html(build_quarterly_document(demo_con, "Luton", period)),
            encoding="utf-8",
        )
        out[period] = path
    return out


def _violations(page) -> str:
    results = axe_module.Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return results.generate_report() if results.violations_count else ""


@pytest.mark.parametrize("period", ["2007-08-Q4", "2024-25-Q4"])
@pytest.mark.parametrize("width", [1280, 320])
def test_no_wcag22aa_violations(browser, pages, period, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(pages[period].as_uri())
        report = _violations(page)
        assert not report, report
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        report = _violations(page)
        assert not report, report
        assert [u for u in requests if u != pages[period].as_uri()] == []
        if width == 320:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"page scrolls sideways by {overflow}px at 320px"
    finally:
        context.close()
