"""Every id in a report page is unique, and every in-page link (``href="#..."``) lands on one:
the APA dataset (the fixture, Luton 2008 and Luton on LAIT data) and the quarterly report."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from cspa.outputs.html import anchor, appendices, render_html
from tests.unit.outputs.fixture_report import fixture_report


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.refs: list[str] = []  # aria-labelledby / aria-describedby targets

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") is not None:
            self.ids.append(a["id"])
        if (a.get("href") or "").startswith("#"):
            self.hrefs.append(a["href"][1:])
        for k in ("aria-labelledby", "aria-describedby"):
            self.refs += (a.get(k) or "").split()


def _check(page: str) -> _Ids:
    p = _Ids()
    p.feed(page)
    dups = sorted(i for i, n in Counter(p.ids).items() if n > 1)
    assert dups == [], f"ids used more than once: {dups[:10]}"
    ids = set(p.ids)
    assert all(i and not re.search(r"\s", i) for i in ids)
    missing = sorted({h for h in p.hrefs if h not in ids})
    assert missing == [], f"links to no id in the page: {missing[:10]}"
    assert sorted({r for r in p.refs if r not in ids}) == []
    return p


def test_fixture_page():
    p = _check(render_html(fixture_report()))
    assert "app-7001OF" in p.ids and "app-7001OF" in p.hrefs


def test_appendices_without_a_code_get_their_groups_id():
    doc = fixture_report()
    doc["appendices"] = [{**a, "code": None, "group": "nfer_2007"} for a in doc["appendices"]] + [
        {"code": None, "group": None, "title": "A list", "neighbours": []}
    ]
    assert [a["id"] for a in appendices(doc)] == ["app-nfer_2007", "app-nfer_2007-2", "app-3"]
    page = render_html(doc)
    _check(page)
    assert "app-None" not in page and ">None<" not in page


@pytest.fixture(scope="module")
def luton_2008(demo_con):
    from cspa.outputs.document_apa import build_apa_document

    return build_apa_document(demo_con, "Luton", 2008, "apa2008")


def test_luton_2008(luton_2008):
    """Seed 000's appendices (the neighbour groups, which carry no code) and its own "Appendices"
    outcome (7001OF-7004OF) each have an id of their own."""
    p = _check(render_html(luton_2008))
    apps = [i for i in p.ids if i.startswith("app-")]
    assert apps == ["app-" + a["group"] for a in luton_2008["appendices"]]
    assert len(apps) == 4 and "appendices" in p.ids and "outcome-appendices" in p.ids


def test_luton_on_lait(demo_con):
    from cspa.outputs.document_apa import build_apa_document

    doc = build_apa_document(demo_con, "Luton", 2025, "lait", history=False)
    p = _check(render_html(doc))
    assert "app-dfe_2025" in p.hrefs
    # the summary links every indicator (notable ones by sentence, the rest in its themes' lists)
    assert {"ind-" + i for i in map(anchor, (i["code"] for i in doc["indicators"]))} <= set(p.hrefs)
    # each table and chart is named by an element of the page
    assert len([i for i in p.ids if i.startswith(("h-x", "fc-x"))]) > 700


@pytest.fixture(scope="module")
def quarterly(demo_con):
    from cspa.quarterly.report import build_quarterly_document

    return build_quarterly_document(demo_con, "Luton", "2007-08-Q4")


def test_quarterly(quarterly):
    from cspa.outputs.html_quarterly import render_quarterly_html

    _check(render_quarterly_html(quarterly))


def test_quarterly_related_indicator_links_to_its_section(quarterly):
    """A related indicator in the report links to its section (the quarterly report's ids are not
    the APA report's ``ind-<code>``); one not in the report is plain text."""
    import copy

    from cspa.outputs.html_quarterly import render_quarterly_html

    doc = copy.deepcopy(quarterly)
    first, second = doc["indicators"][:2]
    first["related"] = [second["code"], "NOT IN THE REPORT"]
    page = render_quarterly_html(doc)
    _check(page)
    assert (
        f'<a class="govuk-link" href="#{second["anchor"]}">{second["code"]}</a>, NOT IN THE REPORT'
        in page
    )
