"""The profile and letter pages pass the same browser accessibility checks as the APA report.

axe-core (WCAG 2.0/2.1/2.2 A and AA) at 1280 and 320 CSS pixels with every ``<details>`` closed
and open, no page-level sideways scroll at 320 px, the skip link first, and every "evidence"
link of a drafted sentence landing on its evidence. Pages are rendered from the demo database:
the 2011 profile (seed 003), the 2006 and 2011 letters (seeds 002 and 004), a SIF-years profile
and letter, and the current profile and letter on the real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# the axe helpers are shared with the APA report's checks (the browser fixture is in tests/conftest.py)
from tests.browser.test_accessibility import _open, _violations

pytestmark = pytest.mark.browser

PAGES = [
    ("profile", 2011),
    ("letter", 2006),
    ("letter", 2011),
    ("profile", 2015),  # the SIF years (sif_2013): education figures not yet held, said in words
    ("letter", 2016),
    ("profile", 2025),
    ("letter", 2025),
]


@pytest.fixture(scope="module")
def pages(demo_con, tmp_path_factory) -> dict[tuple[str, int], Path]:
    from cspa.assessment.report import build_letter_document, build_profile_document
    from cspa.outputs.render import render

    folder = tmp_path_factory.mktemp("a11y-assessment")
    out = {}
    for kind, year in PAGES:
        build = build_profile_document if kind == "profile" else build_letter_document
        out[(kind, year)] = render(
            build(demo_con, "Luton", year), "html", folder / f"{kind}-{year}.html"
        )
    return out


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("key", PAGES, ids=[f"{k}-{y}" for k, y in PAGES])
def test_no_wcag22aa_violations(browser, pages, key, width):
    path = pages[key]
    context, page, requests = _open(browser, path, width)
    try:
        assert not (report := _violations(page)), report
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert not (report := _violations(page)), report
        assert [u for u in requests if u != path.as_uri()] == []
        if width == 320:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"page scrolls sideways by {overflow}px at 320px"
    finally:
        context.close()


@pytest.mark.parametrize("key", PAGES, ids=[f"{k}-{y}" for k, y in PAGES])
def test_skip_link_first_and_one_h1(browser, pages, key):
    context, page, _ = _open(browser, pages[key], 1280)
    try:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "govuk-skip-link"
        assert page.locator("h1").count() == 1
    finally:
        context.close()


def test_every_evidence_link_lands_on_its_evidence(browser, pages):
    context, page, _ = _open(browser, pages[("letter", 2011)], 1280)
    try:
        links = page.locator("a.cspa-evidence-ref")
        assert links.count() >= 10
        for i in range(links.count()):
            target = links.nth(i).get_attribute("href")
            assert page.locator(target).count() == 1, target
        assert (
            "003:L36" in page.locator("section[aria-labelledby=evidence]").inner_text()
        )  # LA adoption agency
    finally:
        context.close()


def test_the_current_profiles_tables_fit_a_desktop_page(browser, pages):
    """At 1280 px the current profile's ten-column tables fit the page's width (their worded
    headings wrap; the figures never break), so no column is hidden behind a sideways scroll; and
    the inspections table's text reads left to right and wraps like prose."""
    context, page, _ = _open(browser, pages[("profile", 2025)], 1280)
    try:
        widths = page.evaluate(
            """() => [...document.querySelectorAll('.cspa-table-wrap')].map(
                 e => [e.getAttribute('aria-labelledby'), e.scrollWidth - e.clientWidth])"""
        )
        assert len(widths) == 5
        assert [w for w in widths if w[1] > 1] == []
        aligned = page.evaluate(
            """() => getComputedStyle(document.querySelector(
                 '#tbl-inspections-cap').closest('table').querySelector('tbody td')).textAlign"""
        )
        assert aligned in ("left", "start")
    finally:
        context.close()
