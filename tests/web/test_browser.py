"""Each role's main journeys in a real browser (Debian's Chromium through Playwright) against a
real uvicorn server on loopback, with axe-core's WCAG 2.2 AA check of every page kind and
screenshots at 390 and 1280 px (saved in .cache/web-screens/, which git ignores).

One server and one browser for the module; the journeys run in order (the editor's save shows
in the inspector's and admin's pages afterwards, as it would for real users).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, LiveServer, make_app

# one worker runs the module: one server, one browser, the journeys in order
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("web-browser")]

CHROMIUM = Path("/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENS = Path(__file__).resolve().parents[2] / ".cache" / "web-screens"
WIDTHS = (390, 1280)

if not CHROMIUM.exists():
    pytest.skip(
        "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium); "
        "browser journeys skipped",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture(scope="module")
def server(web_copy):
    app = make_app(web_copy)
    with LiveServer(app) as s:
        yield s
    app.state.db.close()
    app.state.state.close()


def new_page(browser, width: int = 1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    return context, context.new_page()


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert f"Signed in as {username}" in page.inner_text("body")


def check(page, name: str) -> None:
    """axe finds no WCAG 2.2 AA violation at either width; screenshots of both are kept."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=width == 390)
        results = axe_module.Axe().run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        assert not results.violations_count, f"{name} at {width}px:\n{results.generate_report()}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} at {width}px scrolls sideways by {overflow}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def screens(page, name: str) -> None:
    """Screenshots at both widths, for a page without JavaScript (axe runs in the page's
    JavaScript, so it checks the same pages in the journeys above, where scripts run)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENS / f"{name}-{width}.png"), full_page=width == 390)


def test_viewer_finds_luton_reads_compares_and_downloads(browser, server, tmp_path):
    context, page = new_page(browser)
    try:
        page.goto(server.url)
        check(page, "home")
        page.get_by_label("Name, DfE number or ONS code").fill("Luton")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Luton", exact=True).click()
        assert page.url.endswith("/areas/821")
        assert page.get_by_role("heading", name="At a glance").is_visible()
        assert page.locator("#summary ~ ul li").count() > 0
        check(page, "area")
        # a theme's figures, then an indicator from its table
        page.locator(".cspa-theme-index a").first.click()
        assert "theme=" in page.url
        check(page, "area-theme")  # the summary with one theme's table of figures
        page.locator("#themes ~ .cspa-table-wrap tbody th a").first.click()
        assert "/areas/821/indicators/" in page.url
        assert page.locator("#area-figure").inner_text().strip() != ""
        check(page, "indicator")
        # the indicator's figures for every authority and period, downloaded through the server
        with page.expect_download() as dl:
            page.get_by_role("link", name="every period").click()
        figures = tmp_path / "figures.csv"
        dl.value.save_as(figures)
        lines = figures.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith('"indicator","indicator_title","measure"') and len(lines) > 150
        assert dl.value.suggested_filename.endswith("all-periods.csv")
        # a count: its England total is off the authorities' scale and left off the charts
        page.goto(f"{server.url}/areas/821/indicators/10_ICPC")
        check(page, "indicator-count")
        # three authorities side by side
        page.goto(f"{server.url}/compare")
        page.get_by_label("Authorities (DfE numbers, separated by commas)").fill("821,909,919")
        page.get_by_label("Indicator").select_option("KS2_RWM_SCG")
        page.get_by_role("button", name="Compare").click()
        page.wait_for_load_state()  # all_inner_texts does not wait (see the no-JavaScript test)
        rows = page.locator("#comparison tbody tr th").all_inner_texts()
        assert rows[:3] == ["Luton", "Cumbria", "Hertfordshire"] and "Group average" in rows
        assert (
            "areas=821%2C909%2C919" in page.url or "areas=821,909,919" in page.url
        )  # the selection is in the URL
        check(page, "compare")
        page.goto(f"{server.url}/catalogue/10_ICPC")
        check(page, "definition")
        page.goto(f"{server.url}/catalogue")
        check(page, "catalogue")
        # a PDF: the assessment letter
        page.goto(f"{server.url}/areas/821/assessment?year=2011")
        check(page, "assessment")
        with page.expect_download() as dl:
            page.get_by_role("link", name="PDF of the letter").click()
        path = tmp_path / "letter.pdf"
        dl.value.save_as(path)
        assert path.read_bytes()[:5] == b"%PDF-"
        page.goto(f"{server.url}/areas/999")
        check(page, "not-found")
        page.goto(f"{server.url}/sign-in")
        check(page, "sign-in")
    finally:
        context.close()


def test_editor_enters_a_quarter_and_sees_the_rag(browser, server):
    context, page = new_page(browser)
    try:
        sign_in(page, server.url, "editor821")
        page.goto(f"{server.url}/areas/821/quarterly?period=2007-08-Q4")
        check(page, "quarterly")
        form = page.locator("#form-ind-NI-59")
        form.get_by_label("Actual").fill("52.5")
        form.get_by_label("Local target").fill("65")
        form.get_by_label("Commentary").fill(
            "Fewer assessments in time this quarter; agency staff cover ended."
        )
        form.get_by_role("button", name="Save NI 59").click()
        banner = page.locator("#saved")
        assert "Your changes to NI 59 are saved" in banner.inner_text()
        assert "Red" in banner.inner_text()  # 52.5 against 65 (high is good): worse by more than 5
        assert "agency staff cover ended" in page.inner_text(
            "#ind-NI-59 ~ p.cspa-narrative, .cspa-quarterly-indicator"
        )
        check(page, "quarterly-saved")
    finally:
        context.close()


def test_inspector_moderates_a_grade_and_the_letter_changes(browser, server):
    context, page = new_page(browser)
    try:
        sign_in(page, server.url, "inspector821")
        page.goto(f"{server.url}/areas/821/assessment?year=2011")
        before = page.locator("#letter-grade-1").inner_text()
        assert "Performs excellently (4)" in before
        page.get_by_label("Give this grade instead").first.check()
        page.get_by_label("Grade", exact=True).first.select_option("3")
        page.get_by_label("Reason (kept in the letter's history)").first.fill(
            "Panel: strong, not excellent"
        )
        page.get_by_role("button", name="Record moderation").first.click()
        assert "Performs well (3)" in page.locator("#letter-grade-1").inner_text()
        assert "Panel: strong, not excellent" in page.inner_text("#grades")
        check(page, "assessment-inspector")
    finally:
        context.close()


def test_admin_loads_a_file(browser, server, tmp_path):
    csv = tmp_path / "icpc.csv"
    csv.write_text(
        "indicator,area,period,value\n15_ICPC,821,2025-26,9\n15_ICPC,919,2025-26,11\n",
        encoding="utf-8",
    )
    context, page = new_page(browser)
    try:
        sign_in(page, server.url, "admin1")
        page.goto(f"{server.url}/admin")
        check(page, "admin")
        page.set_input_files("#file", str(csv))
        page.get_by_label("Vintage (optional, e.g. 2025 final)").fill("browser test")
        page.get_by_role("button", name="Load").click()
        assert "Loaded 2 rows" in page.locator("#loaded-message").inner_text()
        assert "icpc.csv" in page.inner_text("#audit")
        check(page, "admin-loaded")
    finally:
        context.close()


def test_without_javascript_every_selection_is_a_form_and_a_url(browser, server):
    """The pages work with JavaScript off: search, theme, period and comparison are plain GET
    forms whose choices land in the URL, and an editor's save is a plain POST."""
    context = browser.new_context(viewport={"width": 390, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(server.url)
        page.get_by_label("Name, DfE number or ONS code").fill("Luton")
        page.get_by_role("button", name="Search").click()
        assert "q=Luton" in page.url
        page.get_by_role("link", name="Luton", exact=True).click()
        page.get_by_label("Theme").select_option("all")
        page.get_by_role("button", name="Show").click()
        assert "theme=all" in page.url
        page.locator("#themes ~ .cspa-table-wrap tbody th a").first.click()
        assert "/areas/821/indicators/" in page.url
        period = page.get_by_label("Period")
        older = period.locator("option").nth(1).get_attribute("value")
        period.select_option(older)
        page.get_by_role("button", name="Show").click()
        assert f"period={older}" in page.url
        assert page.locator("#area-figure").inner_text().strip() != ""
        screens(page, "indicator-no-js")
        page.goto(f"{server.url}/compare")
        page.get_by_label("Authorities (DfE numbers, separated by commas)").fill("821,919,822")
        page.get_by_label("Indicator").select_option("KS2_RWM_SCG")
        page.get_by_role("button", name="Compare").click()
        # all_inner_texts does not wait for the new page (the click waits only for the navigation
        # to start): wait until it has loaded, as sign_in does (found flaking in a fresh clone)
        page.wait_for_load_state()
        assert page.locator("#comparison tbody tr th").all_inner_texts()[0] == "Luton"
        sign_in(page, server.url, "editor821")
        page.goto(f"{server.url}/areas/821/quarterly?period=2007-08-Q4")
        form = page.locator("#form-ind-NI-59")
        form.get_by_label("Commentary").fill("Saved with JavaScript off.")
        form.get_by_role("button", name="Save NI 59").click()
        assert "Your changes to NI 59 are saved" in page.locator("#saved").inner_text()
        screens(page, "quarterly-no-js")
    finally:
        context.close()


def test_two_people_save_the_same_entry_and_the_second_sees_the_conflict_page(browser, server):
    ctx_a, a = new_page(browser)
    ctx_b, b = new_page(browser)
    try:
        sign_in(a, server.url, "editor821")
        sign_in(b, server.url, "admin1")
        url = f"{server.url}/areas/821/quarterly?period=2007-08-Q4"
        a.goto(url)
        b.goto(url)  # both opened the same version
        a.locator("#form-ind-NI-59").get_by_label("Commentary").fill("The editor's words.")
        a.locator("#form-ind-NI-59").get_by_role("button", name="Save NI 59").click()
        assert "are saved" in a.locator("#saved").inner_text()
        b.locator("#form-ind-NI-59").get_by_label("Commentary").fill("The admin's words.")
        b.locator("#form-ind-NI-59").get_by_role("button", name="Save NI 59").click()
        body = b.inner_text("main")
        assert "Someone else changed this first" in body
        assert "editor821" in body and "The admin's words." in body  # theirs and yours
        check(b, "conflict")
        b.get_by_role("link", name="Go back to the newer version").click()
        assert "The editor's words." in b.inner_text(
            "#ind-NI-59 ~ p.cspa-narrative, .cspa-quarterly-indicator"
        )
    finally:
        ctx_a.close()
        ctx_b.close()
