"""The HTML renderer: one self-contained, accessible page that shows the document as given."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import pytest

from cspa.outputs.html import render_html
from tests.unit.outputs.fixture_report import fixture_report


class _Tags(HTMLParser):
    """Collects start tags (name, attrs) in order and the text under each heading."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[int, str]] = []
        self._in_heading: int | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._in_heading, self._text = int(tag[1]), []

    def handle_endtag(self, tag):
        if self._in_heading and tag == f"h{self._in_heading}":
            self.headings.append((self._in_heading, " ".join("".join(self._text).split())))
            self._in_heading = None

    def handle_data(self, data):
        if self._in_heading:
            self._text.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    return p


def _section(page: str, code: str) -> str:
    start = page.index(f'id="ind-{code}"')
    end = page.find('class="cspa-indicator"', start + 10)
    return page[start : end if end > 0 else len(page)]


def test_page_is_self_contained(html_page):
    assert "<script" not in html_page
    assert "<link" not in html_page
    assert "@import" not in html_page
    # url() only names a marker in the page itself (the charts' markers, charts.MARKER_DEFS)
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", html_page))
    assert "@font-face" not in html_page
    # the only URLs are SVG namespaces
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html_page))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    for tag, attrs in _parse(html_page).tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)


def test_page_landmarks_language_title_and_skip_link(html_page):
    tags = _parse(html_page).tags
    assert tags[0] == ("html", {"lang": "en-GB", "class": "govuk-template"})
    names = [t for t, _a in tags]
    assert names.count("main") == 1 and names.count("header") == 1 and names.count("footer") == 1
    first_link = next(a for t, a in tags if t == "a")
    assert first_link == {"href": "#main-content", "class": "govuk-skip-link"}
    assert ("main", {"class": "govuk-main-wrapper", "id": "main-content"}) in tags
    assert "<title>Annual Performance Assessment dataset: Luton, 2008</title>" in html_page


def test_headings_start_at_one_h1_and_never_skip_a_level(html_page):
    headings = _parse(html_page).headings
    assert [h for h in headings if h[0] == 1] == [(1, "Annual Performance Assessment dataset")]
    level = 0
    for lvl, text in headings:
        assert lvl <= level + 1, f"heading {text!r} jumps from h{level} to h{lvl}"
        level = lvl


def test_title_page_changes_legend_and_contents(html_page, doc):
    assert "cspa 0.1.0" in html_page
    assert '<time datetime="2026-11-23">23 November 2026</time>' in html_page
    assert "What changed since the last version" in html_page
    for change in doc["changes"]:
        assert change.replace('"', "&#34;").replace("'", "&#39;") in html_page
    for meaning in doc["legend"]["status_symbols"].values():
        assert meaning in html_page
    assert doc["legend"]["published"] in html_page
    # contents: every section and indicator is linked, in the document's order
    contents = html_page[html_page.index('<nav class="cspa-contents"') : html_page.index("</nav>")]
    codes = re.findall(r'href="#ind-(\w+)"', contents)
    assert codes == ["1003HC", "2022SC", "2054SC", "2059SC", "3002OF", "3091DE", "3067AC"]
    for section in doc["sections"]:
        assert f'href="#{section["id"]}"' in contents
    assert 'href="#app-7001OF"' in contents and 'href="#map"' in contents


def test_every_indicator_has_a_heading_with_code_and_title(html_page, doc):
    headings = [t for _l, t in _parse(html_page).headings]
    for ind in doc["indicators"]:
        assert f'id="ind-{ind["code"]}"' in html_page
        assert any(h.startswith(ind["code"]) and ind["title"][:40] in h for h in headings), ind[
            "code"
        ]


def test_tables_have_captions_and_scoped_headers(html_page):
    tables = re.findall(r"<table\b.*?</table>", html_page, flags=re.S)
    assert len(tables) >= 7 + 2 + 2  # indicators, legend, bands
    ids = set(re.findall(r'id="([^"]+)"', html_page))
    for table in tables:
        # named by its caption, or by the heading just above it where the caption would repeat it
        labelled = re.match(r'<table[^>]*aria-labelledby="([^"]+)"', table)
        assert "<caption" in table or (labelled and labelled.group(1) in ids), table[:200]
        assert re.search(r'scope="?col"?', table)
        assert re.search(r'scope="?row"?', table)
    t = _section(html_page, "3091DE")
    assert '<th scope="rowgroup" colspan="4">Fixed exclusions</th>' in t


def test_lights_are_word_shape_and_colour(html_page):
    t = _section(html_page, "2022SC")
    cells = re.findall(r'<td class="cspa-l(\w)">(.*?)</td>', t, flags=re.S)
    assert len(cells) == 12
    lights = {"g": "green", "a": "amber", "r": "red"}
    shapes = {"green": "<circle", "amber": "<polygon", "red": "<rect"}
    for short, body in cells:
        light = lights[short]  # the cell's shade
        assert light.capitalize() in body  # the word
        assert shapes[light] in body  # the shape
        assert 'aria-hidden="true"' in body
    # Luton 2007-08 is 74, band 3, amber
    luton = re.search(r"<th scope=row>Luton</th>(.*?)</tr>", t, flags=re.S).group(1)
    last = re.findall(r"<td.*?</td>", luton, flags=re.S)[-1]
    assert 'class="cspa-la"' in last and ">74<" in last and "Amber" in last
    assert '<span class="cspa-blobs" aria-hidden="true">●●●</span> 3 of 5' in last


def test_published_figures_marked_with_dagger_but_not_statuses(html_page):
    t = _section(html_page, "2022SC")
    # the SN and England rows, whose every figure is published: the dagger once, in the heading
    assert t.count("<span class=cspa-dagger aria-hidden=true>†</span>") == 2
    assert (
        "Statistical neighbours <span class=cspa-dagger" in t
        and "England <span class=cspa-dagger" in t
    )
    t = _section(html_page, "3091DE")
    # figures published beside statuses: each figure its dagger, a status none
    assert t.count("1.04%<span class=cspa-dagger aria-hidden=true>†</span>") == 1
    assert not re.search(r"n/a</b>.{0,80}†", t)


def test_status_symbols_are_explained_to_screen_readers(html_page):
    t = _section(html_page, "3091DE")
    assert (
        "<b aria-hidden=true>..</b><span class=govuk-visually-hidden>Data not available</span>" in t
    )
    assert (
        "<b aria-hidden=true>#</b><span class=govuk-visually-hidden>"
        "Exclusion rate based on less than 3 pupils</span>"
    ) in t
    t = _section(html_page, "2054SC")
    assert (
        t.count("<span class=govuk-visually-hidden>Data suppressed due to small numbers</span>")
        == 2
    )


def test_every_figure_is_noted_with_where_it_applies(html_page):
    """No figure links anywhere (a report has thousands: each would be a target to tap): the
    notes under the table say how each figure was made and name the rows and periods they cover."""
    t = _section(html_page, "1003HC")
    basis = "1884 / 3202 x 100 = 58.8% (mothers initiating breastfeeding / deliveries with known status)"
    assert basis not in t[: t.index("<details")]  # not repeated in the table
    assert "cspa-fig" not in t and "aria-describedby" not in t
    details = t[t.index("<details class=cspa-basis>") : t.index("</details>")]
    assert "How these figures were made" in details
    # 1003HC's columns are the printed measures, not periods: every figure is noted
    assert f"<li><b>Luton PCT, 2006/07, Indicator value:</b> {basis}</li>" in details
    # a basis several figures share is one note naming every place it applies to
    flag = "Significance flag as printed by the Healthcare Commission (&#39;-&#39;: no significant difference flagged)"
    assert details.count(flag) == 1
    shared = re.search(r"<li><b>([^<]*):</b> " + re.escape(flag), details)
    assert shared.group(1) == (
        "Luton PCT, 2006/07, Significant difference vs benchmark group?, Significant difference "
        "vs England?; Luton PCT, 2005/06, Significant difference vs benchmark group?, Significant "
        "difference vs England?; Luton PCT, 2003/04, Significant difference vs benchmark group?, "
        "Significant difference vs England?"
    )


def test_a_basis_shared_by_the_table_or_a_row_is_one_note():
    from cspa.outputs.html import provenance

    def cell(display, basis, *judged, source="input"):
        return {
            "display": display,
            "status": None,
            "source": source,
            "basis": basis,
            "judged": list(judged),
        }

    ind = {
        "code": "X 1%",
        "light_rule": "none here",
        "table": {
            "caption": "c",
            "columns": ["2019", "2020", "2021"],
            "window": 2,
            "row_groups": [
                {
                    "label": None,
                    "rows": [
                        {
                            "label": "Luton",
                            "cells": [
                                cell("0", "as supplied", "rank 1 of 10"),
                                cell(
                                    "1",
                                    "as supplied",
                                    "rank 3 of 10",
                                    "no traffic light: none here",
                                    "by cspa",
                                ),
                                cell("2", "as supplied", "rank 4 of 10", "by cspa"),
                            ],
                        },
                        {
                            "label": "England",
                            "cells": [
                                cell("4", "published", "by cspa", source="published"),
                                cell("5", "published", "by cspa", source="published"),
                                cell("", "no figure for this period"),
                            ],
                        },
                    ],
                }
            ],
        },
    }
    pv = provenance(ind)
    assert pv["columns"] == ["2020", "2021"]  # the window: the latest two periods
    assert pv["anchor"] == "X_201_25"
    notes = [(n["id"], n["where"], n["text"]) for n in pv["notes"]]
    assert notes == [
        ("n1-X_201_25", "Every figure in the table", "by cspa"),
        ("n2-X_201_25", "Luton, every period shown", "as supplied"),
        (
            "n3-X_201_25",
            "Luton, 2020",
            "rank 3 of 10",
        ),  # "no traffic light: none here" is the sentence under the table
        ("n4-X_201_25", "Luton, 2021", "rank 4 of 10"),
        ("n5-X_201_25", "England, 2020", "published"),
    ]
    luton, england = pv["groups"][0]["rows"]
    assert [c["note"] for c in luton["cells"]] == ["n3-X_201_25", "n4-X_201_25"]
    # a figure with no note of its own links to the first note that covers it; an empty cell to none
    assert [c["note"] for c in england["cells"]] == ["n5-X_201_25", None]


def test_a_table_of_periods_notes_each_rows_latest_figure_and_what_all_share():
    """Where the columns are the indicator's periods, a row's judgements and its own bases are noted
    for its latest figure (the earlier were made the same way; Excel and JSON keep each one), and a
    basis every figure of the row shares for every period."""
    from cspa.outputs.html import provenance

    def cell(display, basis, *judged):
        return {
            "display": display,
            "status": None,
            "source": "input",
            "basis": basis,
            "judged": list(judged),
        }

    ind = {
        "code": "Y",
        "light_rule": None,
        "observations": [{"period": p} for p in ("2021", "2022", "2023")],
        "table": {
            "caption": "c",
            "columns": ["2021", "2022", "2023"],
            "row_groups": [
                {
                    "label": None,
                    "rows": [
                        {
                            "label": "Luton",
                            "geography": "area",
                            "cells": [
                                cell("1", "as supplied", "rank 9 of 10"),
                                cell("2", "as supplied", "rank 5 of 10"),
                                cell("3", "as supplied", "rank 1 of 10"),
                            ],
                        },
                        {
                            "label": "Statistical neighbours",
                            "geography": "statistical_neighbours",
                            "cells": [
                                cell("4", "mean of 10"),
                                cell("5", "mean of 9"),
                                cell("6", "mean of 8"),
                            ],
                        },
                    ],
                }
            ],
        },
    }
    pv = provenance(ind)
    assert [(n["where"], n["text"]) for n in pv["notes"]] == [
        ("Luton, every period shown", "as supplied"),
        ("Luton, 2023", "rank 1 of 10"),
        ("Statistical neighbours, 2023", "mean of 8"),
    ]
    assert pv["earlier"] and pv["periodic"]


def test_bands_table(html_page):
    t = _section(html_page, "2022SC")
    bands = t[t.index('class="govuk-table cspa-bands"') :]
    bands = bands[: bands.index("</table>")]
    assert "Bands for 2022SC" in bands
    assert '<span class="cspa-blobs" aria-hidden="true">●●●●●</span> 5 of 5' in bands
    assert bands.count("<td") == 15
    assert "0&lt;60" in bands and "80&lt;=100" in bands  # autoescaped
    # the symmetric nine-band indicator keeps its nine columns, "." explained
    t = _section(html_page, "2059SC")
    bands = t[t.index('class="govuk-table cspa-bands"') :]
    bands = bands[: bands.index("</table>")]
    assert bands.count("<td") == 9
    assert (
        '<span aria-hidden="true">.</span><span class="govuk-visually-hidden">Data not applicable</span>'
        in bands
    )


def test_chart_has_text_alternative_and_data_table(html_page, doc):
    ind = next(i for i in doc["indicators"] if i["code"] == "3067AC")
    t = _section(html_page, "3067AC")
    svg = t[t.index("<svg") : t.index("</svg>")]
    # the chart is an image named by its caption, which gives its figures in words
    labelled = re.search(r'role="img" aria-labelledby="([^"]+)"', svg).group(1)
    caption = re.search(rf'<figcaption id="{labelled}">([^<]*)</figcaption>', t).group(1)
    assert caption == ind["chart"]["summary"].replace("'", "&#39;")
    assert "above the England upper quartile (93.4%)" in caption
    assert "Chart data" in t and "England upper quartile</th>" in t
    assert ">96.1<" in t  # chart data table cell


def test_definitions_related_and_notes(html_page):
    t = _section(html_page, "3002OF")
    for key in ("Definition", "Guidance", "Health warning", "Source", "Owner", "Related"):
        assert f"<dt>{key}</dt>" in t
    assert "Numerator</dt>" not in t  # absent keys are left out, not printed empty
    # the catalogue's notes on the source are provenance: in the notes under the table
    notes = t[t.index("<details class=cspa-basis>") : t.index("</details>")]
    assert "<li><b>Source:</b>" in notes
    t = _section(html_page, "2022SC")
    assert "2015SC, 2016SC" in t  # codes not in this document are plain text
    t = _section(html_page, "3091DE")
    assert "3092DE" in t


def test_appendices_and_map(html_page, doc):
    tail = html_page[html_page.index('id="appendices"') :]
    for name in ("Birmingham", "Peterborough", "Blackburn with Darwen", "Hillingdon"):
        assert name in tail
    assert "7001OF" in tail and "7002OF" in tail
    svg = tail[tail.index('<svg xmlns="http://www.w3.org/2000/svg" class="cspa-map-svg"') :]
    assert 'role="img"' in svg[:600]
    assert (
        "Map of England showing Luton and its 10 NFER statistical neighbours: 1. Birmingham;"
        in tail
    )
    assert doc["map"]["note"].replace("'", "&#39;") in tail


def test_attribution_on_the_page(html_page, doc):
    footer = html_page[html_page.index('<footer class="govuk-footer">') :]
    for line in doc["attribution"]:
        assert line in footer
        assert html_page.count(line) >= 3  # title page, footer, print running footer


def test_text_is_escaped(doc):
    doc["indicators"][0]["title"] = "<script>alert(1)</script> & more"
    doc["indicators"][0]["table"]["row_groups"][0]["rows"][0]["cells"][0]["basis"] = 'say "hi" <b>'
    page = render_html(doc)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "</b> say &#34;hi&#34; &lt;b&gt;</li>" in page  # the note saying how the figure was made


def test_minimal_document_renders(doc):
    """Optional parts missing: no chart, map, appendices, legend, changes; an unsectioned indicator."""
    for key in ("map", "appendices", "legend", "changes", "framework"):
        doc.pop(key)
    doc["sections"] = doc["sections"][:1]
    for ind in doc["indicators"]:
        ind["chart"] = None
        ind.pop("bands")
    page = render_html(doc)
    assert "Other indicators" in page
    assert 'id="ind-3067AC"' in page
    assert "Nothing has changed since the last version." in page
    assert "cspa-map-svg" not in page


def test_render_is_fast_enough():
    doc = fixture_report()
    render_html(doc)
    t = time.perf_counter()
    render_html(doc)
    assert time.perf_counter() - t < 2.0


@pytest.mark.parametrize(
    "code", ["1003HC", "2022SC", "2054SC", "2059SC", "3002OF", "3091DE", "3067AC"]
)
def test_every_printed_cell_appears(html_page, doc, code):
    ind = next(i for i in doc["indicators"] if i["code"] == code)
    t = _section(html_page, code)
    for group in ind["table"]["row_groups"]:
        for row in group["rows"]:
            assert re.search(
                rf">{re.escape(row['label'])}( <span class=cspa-dagger[^/]*/span>[^/]*/span>)?</th>",
                t,
            ), row["label"]
            for cell in row["cells"]:
                if cell["display"]:
                    assert f">{cell['display']}<" in t.replace("&#39;", "'")
