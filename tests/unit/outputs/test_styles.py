"""The pages' stylesheet: GOV.UK Frontend's, vendored unmodified and inlined without fonts or
missing files, then cspa's own; every govuk-* class a page uses is one govuk-frontend defines."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser

import pytest

from cspa.outputs import styles
from cspa.outputs.styles import GOVUK_FRONTEND, govuk_frontend_css, govuk_frontend_version

VENDORED = GOVUK_FRONTEND / "govuk-frontend.min.css"
EXTERNAL_URL = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture(scope="module")
def pages(html_page, demo_con) -> dict[str, str]:
    """Every kind of page cspa renders: the APA dataset (fixture), quarterly report, profile and letter."""
    from cspa.assessment.report import build_letter_document, build_profile_document
    from cspa.outputs.html_letter import render_assessment_html
    from cspa.outputs.html_quarterly import render_quarterly_html
    from cspa.quarterly.report import build_quarterly_document

    return {
        "apa-dataset": html_page,
        "quarterly": render_quarterly_html(
            build_quarterly_document(demo_con, "Luton", "2007-08-Q4")
        ),
        "profile": render_assessment_html(build_profile_document(demo_con, "Luton", 2011)),
        "letter": render_assessment_html(build_letter_document(demo_con, "Luton", 2011)),
    }


class _Classes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.classes: set[str] = set()
        self.first: dict[str, str] = {}
        self.attr_values: list[str] = []

    def handle_starttag(self, tag, attrs):
        value = dict(attrs).get("class") or ""
        self.classes.update(value.split())
        self.first.setdefault(tag, value)
        self.attr_values += [v for k, v in attrs if v and k not in ("xmlns", "xmlns:xlink")]


def _classes(page: str) -> _Classes:
    p = _Classes()
    p.feed(page)
    return p


def _style(page: str) -> str:
    found = re.search(r"<style>(.*?)</style>", page, re.S)
    assert found, "the page has no inline stylesheet"
    return found.group(1)


def test_vendored_stylesheet_is_the_release_its_readme_names():
    readme = (GOVUK_FRONTEND / "README.md").read_text(encoding="utf-8")
    version = govuk_frontend_version()
    assert re.fullmatch(r"5\.\d+\.\d+", version)
    assert f"govuk-frontend@{version}" in readme
    assert hashlib.sha256(VENDORED.read_bytes()).hexdigest() in readme  # unmodified since vendored
    assert "MIT License" in (GOVUK_FRONTEND / "LICENSE.txt").read_text(encoding="utf-8")
    assert not list(GOVUK_FRONTEND.rglob("*.woff*")) and not list(
        GOVUK_FRONTEND.rglob("*.ttf")
    )  # no GDS Transport


@pytest.mark.parametrize("kind", ["apa-dataset", "quarterly", "profile", "letter"])
def test_page_inlines_govuk_frontend_then_cspa(pages, kind):
    css = _style(pages[kind])
    version = govuk_frontend_version()
    assert css.lstrip().startswith(f"/*! GOV.UK Frontend v{version} ")
    assert (
        "Permission is hereby granted, free of charge" in css
    )  # the MIT notice travels with the copy
    assert f'--govuk-frontend-version:"{version}"' in css
    # govuk-frontend's rules for the classes the page uses (the whole sheet is 130 KB)
    inlined = govuk_frontend_css(styles.page_classes(pages[kind]))
    assert inlined in css
    assert len(inlined) < len(govuk_frontend_css()) / 2
    # then cspa's own sheet and the print sheet, after govuk-frontend's so they win ties
    assert css.index(inlined) < css.index("cspa's own stylesheet") < css.index("@page")


def test_the_rules_a_page_drops_are_for_classes_it_does_not_use(pages):
    """Subsetting keeps every rule whose selector the page can match and drops only the others."""
    page = pages["apa-dataset"]
    used = styles.page_classes(page)
    kept = govuk_frontend_css(used)
    for head, body in styles._statements(govuk_frontend_css()):
        if body is None or head.lstrip().startswith("@"):
            continue
        for selector in head.split(","):
            needs = styles._selector_classes(selector)
            if needs and needs <= used:
                assert selector in kept, selector
    # a class the page does not use has no rule in it
    assert ".govuk-header__logo" not in kept and ".govuk-header__logo" in govuk_frontend_css()
    # the classes the page uses keep their rules
    for cls in ("govuk-table", "govuk-heading-l", "govuk-visually-hidden", "govuk-details"):
        assert cls in used and f".{cls}" in kept


def test_every_vendored_rule_reaches_the_page_but_fonts_and_files():
    """Nothing of govuk-frontend's is dropped but what would ask for a missing file."""
    inlined = govuk_frontend_css()
    dropped = []
    for head, body in styles._statements(VENDORED.read_text(encoding="utf-8")):
        text = head if body is None else f"{head}{{{body}}}"
        if text not in inlined:
            dropped.append(text)
    assert dropped, "expected the @font-face rules to be dropped"
    for text in dropped:
        assert (
            "@font-face" in text
            or "url(" in text
            or text.startswith(("/*# sourceMappingURL", "@charset"))
            or "GDS Transport" in text
            or "Margaret Calvert" in text
        ), text[:200]
    assert sum(map(len, dropped)) < 2000  # a handful of rules, not the stylesheet


@pytest.mark.parametrize("kind", ["apa-dataset", "quarterly", "profile", "letter"])
def test_no_fonts_missing_files_or_external_urls(pages, kind):
    page = pages[kind]
    assert "@font-face" not in page
    # url() only names a marker in the page itself (the charts' markers, charts.MARKER_DEFS)
    assert all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    assert "sourceMappingURL" not in page
    assert "@import" not in page and "<link" not in page and "<script" not in page
    # no external URL in the stylesheet or in any attribute (src, href, ...): the page asks for
    # nothing. (Text may quote one: the 2008 quarterly report prints its intranet's address.)
    assert set(EXTERNAL_URL.findall(_style(page))) == set()
    assert [v for v in _classes(page).attr_values if EXTERNAL_URL.search(v)] == []
    assert "font-family: arial, sans-serif" in _style(
        page
    )  # GOV.UK's fallback stack, not GDS Transport


@pytest.mark.parametrize("kind", ["apa-dataset", "quarterly", "profile", "letter"])
def test_every_govuk_class_is_defined_by_govuk_frontend(pages, kind):
    defined = set(re.findall(r"\.(govuk-[A-Za-z0-9_-]+)", VENDORED.read_text(encoding="utf-8")))
    parsed = _classes(pages[kind])
    used = {c for c in parsed.classes if c.startswith("govuk-")}
    assert {
        "govuk-template",
        "govuk-template__body",
        "govuk-width-container",
        "govuk-main-wrapper",
    } <= used
    assert used - defined == set(), (
        f"govuk-* classes govuk-frontend {govuk_frontend_version()} does not define"
    )
    # govuk-frontend's page template: the classes on <html> and <body>
    assert "govuk-template" in parsed.first["html"].split()
    assert "govuk-template__body" in parsed.first["body"].split()


def test_classes_in_the_renderers_source_are_defined_too():
    """Classes written in Python (tables built as strings) and every template, rendered or not."""
    from pathlib import Path

    import cspa.outputs

    root = Path(cspa.outputs.__file__).parent
    defined = set(re.findall(r"\.(govuk-[A-Za-z0-9_-]+)", VENDORED.read_text(encoding="utf-8")))
    used: set[str] = set()
    for path in [*root.glob("*.py"), *root.glob("templates/*.html")]:
        for attr in re.findall(r'class="([^"]*)"', path.read_text(encoding="utf-8")):
            used.update(
                c
                for c in re.split(r"[\s{}%]+", attr)
                if re.fullmatch(r"govuk-[a-z0-9_-]*[a-z0-9]", c)
            )
    assert used and used - defined == set()


@pytest.mark.parametrize("kind", ["apa-dataset", "profile", "letter"])
def test_colophon_credits_govuk_frontend(pages, kind):
    footer = pages[kind][pages[kind].index('<footer class="govuk-footer">') :]
    assert f"Styled with GOV.UK Frontend {govuk_frontend_version()}" in footer
    assert "MIT licence" in footer and "not part of GOV.UK" in footer


def test_font_face_and_file_rules_are_dropped_wherever_they_are():
    css = (
        '@charset "UTF-8";:root{--v:"a{b}c"}.a{content:"}"}'
        "/*! font notice */@font-face{font-family:X;src:url(/f.woff2)}"
        "@media print{.b{color:red}.c{background:url(/i.svg)}}"
        "@supports (mask:none){.d{mask-image:url(/i.svg)}}"
        ".e{color:blue}/*# sourceMappingURL=x.css.map */"
    )
    assert (
        styles._without_missing_files(css)
        == ':root{--v:"a{b}c"}.a{content:"}"}@media print{.b{color:red}}.e{color:blue}'
    )


def test_stylesheet_without_print():
    assert "@page" in styles.stylesheet()
    assert "@page" not in styles.stylesheet(print_css=False)
    assert styles.stylesheet(print_css=False).startswith(govuk_frontend_css())
