"""Print layout of the APA dataset report: nothing runs off the page, and no heading ends one.

Two faults a printed table can have, each checked where it was found:

* cut off at the right edge: a table wider than the page's text (1043SC's self-assessment
  sentences sat in figure cells that never wrap; a report of every period, ``--periods 0``, has
  tables of nine or ten periods side by side of figures like £1,433,315,755†). Checked in Chromium
  with print media at A4's text width (landscape for an indicator the stylesheet prints on
  landscape pages), and in printed PDFs by where each word is drawn (``pdftotext -bbox``).
* a heading alone at the foot of a page, its table moved whole to the next page (nine in the
  Luton 2008 PDF). Checked in that PDF: on the page each indicator starts on, there is more after
  its heading than the heading (and the table caption repeating it).

The documents come from the demo database (``demo_con``: read only, shared by the session), one
build, one opened page and one PDF each per module; the browser is the shared ``browser`` fixture.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from cspa.outputs.document_apa import build_apa_document
from cspa.outputs.html import anchor, render_html
from cspa.outputs.pdf import (
    WIDE_INDICATOR,
    WIDE_OUTCOME,
    WIDE_SUBSECTION,
    chromium_page_css,
    find_chromium,
    render_pdf,
)
from cspa.outputs.styles import STATIC

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path("/usr/bin/chromium").exists():
    pytest.skip(
        "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install -y chromium); "
        "print layout checks skipped",
        allow_module_level=True,
    )

#: the indicator of the every-period LAIT report whose table runs ten periods across (no trend
#: class), and the code of its copy in the sample of wide and portrait indicators
WIDE_CODE = "LAC_19_HE_Num"
WIDE_COPY = "LAC_19_HE_Num_copy"
MM = 96 / 25.4  # CSS pixels per millimetre
#: A4 less the print stylesheet's 14 mm side margins, portrait and landscape, in CSS pixels
TEXT_WIDTH = (210 - 28) * MM
LANDSCAPE_TEXT_WIDTH = (297 - 28) * MM
SIDE_MARGIN_PT = 14 / 25.4 * 72

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="pdftotext (Debian package poppler-utils) is not installed",
)


# ------------------------------------------------------------------------------ documents


@pytest.fixture(scope="module")
def luton_2008(demo_con):
    """The seed's report: every period of the 2008 dataset (without history, as the CLI prints it)."""
    return build_apa_document(demo_con, "Luton", 2008, "apa2008", history=False)


@pytest.fixture(scope="module")
def luton_2025_every_period(demo_con):
    """A current LAIT report of every period: the widest tables the report can have."""
    return build_apa_document(demo_con, "Luton", 2025, "lait", periods=0, history=False)


@pytest.fixture(scope="module")
def print_page(browser, tmp_path_factory):
    """``print_page(doc)``: the page the Chromium printer prints, opened once per document with
    print media at A4's text width; indicators the stylesheet prints landscape are laid out at
    the landscape text width."""
    opened: dict[int, object] = {}
    contexts = []

    def open_page(doc):
        if id(doc) not in opened:
            path = tmp_path_factory.mktemp("print-html") / "report.html"
            path.write_text(
                render_html(doc, for_print=True, extra_css=chromium_page_css(doc)), encoding="utf-8"
            )
            context = browser.new_context(
                viewport={"width": round(TEXT_WIDTH), "height": 1000}, offline=True
            )
            contexts.append(context)
            page = context.new_page()
            page.goto(path.as_uri())
            page.emulate_media(media="print")
            page.add_style_tag(
                content=f"{WIDE_INDICATOR} {{ width: {LANDSCAPE_TEXT_WIDTH:.1f}px; }}"
            )
            opened[id(doc)] = page
        return opened[id(doc)]

    yield open_page
    for context in contexts:
        context.close()


def _wide_ids(page) -> set[str]:
    return set(
        page.evaluate("s => [...document.querySelectorAll(s)].map(e => e.id)", WIDE_INDICATOR)
    )


# ------------------------------------------------------------------------------ the page

OVERFLOWING_TABLES = """([wide, portrait]) => {
  const left = document.querySelector('main').getBoundingClientRect().left;
  const out = [];
  for (const t of document.querySelectorAll('table')) {
    const ind = t.closest('.cspa-indicator');
    const room = ind && ind.matches(wide) ? ind.getBoundingClientRect().width : portrait;
    const right = t.getBoundingClientRect().right - left;
    if (right > room + 0.5) out.push(`${ind ? ind.id : t.className}: ${Math.round(right)} px in ${Math.round(room)}`);
  }
  return out;
}"""


@pytest.mark.parametrize("which", ["luton_2008", "luton_2025_every_period"])
def test_no_table_is_wider_than_its_page(print_page, request, which):
    page = print_page(request.getfixturevalue(which))
    assert page.locator("table").count() > 100
    assert page.evaluate(OVERFLOWING_TABLES, [WIDE_INDICATOR, TEXT_WIDTH]) == []


def test_only_tables_of_many_periods_across_are_printed_landscape(
    print_page, luton_2025_every_period, luton_2008
):
    """The landscape selector picks the every-period report's widest tables (periods across), not
    its periods-down tables, and nothing in the 2008 report (at most seven periods across)."""
    wide = _wide_ids(print_page(luton_2025_every_period))
    assert "ind-LAC_19_HE_Num" in wide  # ten periods across
    # a trend of "n/a" everywhere makes no column, so its table is periods across as well (issue 18)
    assert "ind-C_26YPExpenditure" in wide
    # periods down (with judgement columns): as wide for ten periods as for one
    assert "ind-CMH_0-17yrs" not in wide
    assert _wide_ids(print_page(luton_2008)) == set()


def test_stylesheet_and_chromium_page_rules_pick_the_same_indicators():
    """The stylesheet's one landscape page and the Chromium printer's landscape page per part
    (pdf.py) are chosen by the same selectors."""
    css = (STATIC / "cspa-print.css").read_text(encoding="utf-8")
    for selector in (WIDE_INDICATOR, WIDE_SUBSECTION, WIDE_OUTCOME):
        assert selector in css


def test_period_labels_are_not_broken(print_page, luton_2008):
    """A period ("2005-06") stays on one line: beside 1043SC's sentence-long figures, the row
    headings were squeezed to a word a line, "2005-" over "06"."""
    broken = print_page(luton_2008).evaluate("""() => {
      const out = [];
      for (const th of document.querySelectorAll('.cspa-data tbody th[scope=row]')) {
        if (/\\s/.test(th.textContent.trim())) continue;  // a label of several words may wrap
        const range = document.createRange();
        range.selectNodeContents(th);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) out.push(`${th.closest('section').id}: ${th.textContent}`);
      }
      return out;
    }""")
    assert broken == []


# ------------------------------------------------------------------------------ the PDFs


def _flat(text: str) -> str:
    return " ".join(text.split())


def _words_past_the_margin(pdf: Path) -> list[tuple[int, str]]:
    """Words drawn to the right of the text area (each page's width less its right margin)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    word = re.compile(
        r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>'
    )
    past = []
    for number, page in enumerate(out.split("<page ")[1:], start=1):
        right = float(re.search(r'width="([\d.]+)"', page).group(1)) - SIDE_MARGIN_PT + 1
        past += [(number, text) for x_max, text in word.findall(page) if float(x_max) > right]
    return past


@needs_pdftotext
def test_no_indicator_heading_ends_a_page(luton_2008, luton_2008_pdf):
    """On the page each indicator starts on (the PDF's destination for its id), after its heading
    (its code on a line of its own, then its title) comes more than the heading and the table
    caption repeating it: the table or its first rows, or the indicator's first paragraph."""
    reader = PdfReader(str(luton_2008_pdf))
    starts = {
        str(name).lstrip("/"): reader.get_destination_page_number(dest)
        for name, dest in reader.named_destinations.items()
    }
    pages = subprocess.run(
        ["pdftotext", str(luton_2008_pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split("\f")
    area, title = luton_2008["area"]["name"], luton_2008["title"]
    furniture = [
        _flat(f"{area} \u2014 {title}"),
        *(_flat(line) for line in luton_2008["attribution"]),
        *(_flat(s["title"]) for s in luton_2008["sections"]),
    ]
    alone = []
    for ind in luton_2008["indicators"]:
        code, heading = ind["code"], _flat(ind["title"])
        number = starts[f"ind-{anchor(code)}"]
        text = pages[number] + "\n"
        at = text.find(f"\n{code}\n")
        assert at >= 0, (number + 1, code)
        rest = re.sub(r"Page \d+ of \d+", "", _flat(text[at:])[len(code) :])
        for repeated in [heading, *furniture]:
            rest = rest.replace(repeated, "")
        if not rest.strip():
            alone.append((number + 1, code))
    assert alone == [], f"headings alone at the foot of a page (page, indicator): {alone}"


def test_page_count_is_sane(luton_2008_pdf):
    # 295 pages when each table too tall for the rest of its page left its heading on a page of its own
    assert 150 <= len(PdfReader(str(luton_2008_pdf)).pages) <= 292


@needs_pdftotext
def test_nothing_is_printed_past_the_right_margin(luton_2008_pdf):
    assert _words_past_the_margin(luton_2008_pdf) == []


@pytest.fixture(scope="module")
def wide_sample(luton_2025_every_period):
    """A few indicators of the every-period LAIT report, arranged to cover each case: a theme
    (Children Looked After) opening with a landscape indicator, a portrait indicator after a
    landscape one, and a landscape indicator after a portrait one in another theme.

    Since every LAIT measure has a trend class (issue 17), its tables run periods down with a
    Trend column; only LAC_19_HE_Num runs ten periods across, so a copy of it under another code
    (WIDE_COPY) stands for the second landscape indicator. The report is organised by LAIT's own
    themes (issue 18), each a part with one untitled subsection."""
    doc = luton_2025_every_period
    wide = next(i for i in doc["indicators"] if i["code"] == WIDE_CODE)

    def theme(title: str) -> dict:
        return next(s for s in doc["sections"] if s["title"] == title)

    def portrait(title: str, n: int) -> list[str]:
        codes = [c for sub in theme(title)["subsections"] for c in sub["indicators"]]
        return [c for c in codes if c != WIDE_CODE][:n]

    def part(title: str, codes: list[str]) -> dict:
        s = theme(title)
        return dict(s, subsections=[dict(s["subsections"][0], indicators=codes)])

    sections = [
        part("Health and Wellbeing", portrait("Health and Wellbeing", 2)),
        part("Children Looked After", [WIDE_CODE, *portrait("Children Looked After", 1)]),
        part(
            "Children's Services Workforce",
            [*portrait("Children's Services Workforce", 1), WIDE_COPY],
        ),
    ]
    copy = dict(wide, code=WIDE_COPY)
    codes = {c for s in sections for sub in s["subsections"] for c in sub["indicators"]}
    return dict(
        doc,
        sections=sections,
        indicators=[i for i in doc["indicators"] if i["code"] in codes] + [copy],
        map=None,
        summary=[],  # the whole report's summary names indicators the sample leaves out
        # contents naming every indicator (a link target, so each has a named destination in the
        # PDF that the test finds its page by)
        _flow=False,
    )


@needs_pdftotext
@pytest.mark.parametrize("engine", ["chromium", "weasyprint"])
def test_wide_indicators_print_on_landscape_pages(print_page, wide_sample, engine, tmp_path):
    if engine == "chromium" and find_chromium() is None:
        pytest.skip("no Chromium to print with")
    wide = _wide_ids(print_page(wide_sample))
    pdf = render_pdf(wide_sample, tmp_path / f"wide-{engine}.pdf", engine=engine)
    reader = PdfReader(str(pdf))
    starts = {
        str(name).lstrip("/"): reader.get_destination_page_number(dest)
        for name, dest in reader.named_destinations.items()
        if str(name).lstrip("/").startswith("ind-")
    }
    assert len(starts) == len(wide_sample["indicators"])
    assert wide and len(wide) < len(starts)  # both kinds in the sample
    for target, number in starts.items():
        box = reader.pages[number].mediabox
        assert (box.width > box.height) == (target in wide), (engine, target)
    parts = [s["title"] for s in wide_sample["sections"]]
    for page in reader.pages:
        if page.mediabox.width > page.mediabox.height:  # the running header names the part here too
            assert any(part in _flat(page.extract_text() or "") for part in parts)
    assert _words_past_the_margin(pdf) == []
