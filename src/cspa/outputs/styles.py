"""The stylesheet every report page inlines: GOV.UK Frontend's, then cspa's own, then print.

GOV.UK Frontend's precompiled CSS is vendored unmodified in ``static/vendor/govuk-frontend/``
(see its README: version, source, licence, how to update). A page inlines it after its MIT
licence notice, less what would make a page opened from disk, or the PDF printer, ask for a
file that is not there: the ``@font-face`` rules for GDS Transport (licensed for gov.uk
domains only, so not shipped; ``cspa.css`` sets GOV.UK's fallback stack instead), the rules
that draw the GOV.UK crest from ``/assets/`` (a footer logo cspa does not use), the
source-map comment and ``@charset`` (the page says UTF-8). Then come ``static/cspa.css``
(what govuk-frontend does not provide: the font, traffic lights, blobs, bands, charts,
contents, scrolling tables) and ``static/cspa-print.css``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

__all__ = [
    "GOVUK_FRONTEND",
    "govuk_frontend_css",
    "govuk_frontend_version",
    "page_classes",
    "stylesheet",
]

STATIC = Path(__file__).parent / "static"
GOVUK_FRONTEND = STATIC / "vendor" / "govuk-frontend"


def _skip_string(css: str, i: int) -> int:
    """The index just after the quoted string starting at ``css[i]``."""
    quote, i = css[i], i + 1
    while i < len(css) and css[i] != quote:
        i += 2 if css[i] == "\\" else 1
    return i + 1


def _statements(css: str) -> list[tuple[str, str | None]]:
    """Split a stylesheet (or an at-rule's block) into its statements, in order:
    ``(comment, None)``, ``(prelude;, None)`` for a statement without a block, and
    ``(prelude, body)`` for a rule or at-rule with a ``{ body }``. Strings and comments
    are respected, so braces inside them do not count."""
    out: list[tuple[str, str | None]] = []
    i, n = 0, len(css)
    while i < n:
        while i < n and css[i].isspace():
            i += 1
        if i >= n:
            break
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append((css[i:end], None))
            i = end
            continue
        start = i
        while i < n and css[i] not in "{;":
            if css[i] in "\"'":
                i = _skip_string(css, i)
            elif css.startswith("/*", i):
                end = css.find("*/", i + 2)
                i = n if end < 0 else end + 2
            else:
                i += 1
        if i >= n:
            out.append((css[start:], None))
            break
        if css[i] == ";":
            out.append((css[start : i + 1], None))
            i += 1
            continue
        prelude, depth, i = css[start:i], 1, i + 1
        body_start = i
        while i < n and depth:
            if css[i] in "\"'":
                i = _skip_string(css, i)
                continue
            if css.startswith("/*", i):
                end = css.find("*/", i + 2)
                i = n if end < 0 else end + 2
                continue
            depth += {"{": 1, "}": -1}.get(css[i], 0)
            i += 1
        out.append((prelude, css[body_start : i - 1]))
    return out


#: at-rules whose block holds rules (filtered in turn), not declarations
_GROUPING = ("@media", "@supports", "@layer", "@container", "@-moz-document", "@document")


def _without_missing_files(css: str) -> str:
    """``css`` less ``@font-face`` rules (and the comment just before each), rules that load a
    file with ``url(...)``, grouping at-rules left empty, source-map comments and ``@charset``."""
    statements = _statements(css)
    kept: list[str] = []
    for k, (head, body) in enumerate(statements):
        name = head.lstrip().lower()
        if body is None:
            if name.startswith("/*"):
                following = statements[k + 1][0].lstrip().lower() if k + 1 < len(statements) else ""
                if name.startswith("/*#") or following.startswith("@font-face"):
                    continue  # a source map, or the font's notice: neither file is here
                kept.append(head)
            elif not name.startswith("@charset"):
                kept.append(head)
            continue
        if name.startswith("@font-face"):
            continue
        if name.startswith(_GROUPING):
            inner = _without_missing_files(body)
            if inner:
                kept.append(f"{head}{{{inner}}}")
            continue
        if "url(" in body:
            continue
        kept.append(f"{head}{{{body}}}")
    return "".join(kept)


@functools.cache
def govuk_frontend_version() -> str:
    """The vendored GOV.UK Frontend's version, as its stylesheet states it (``--govuk-frontend-version``)."""
    css = (GOVUK_FRONTEND / "govuk-frontend.min.css").read_text(encoding="utf-8")
    found = re.search(r'--govuk-frontend-version:\s*"([^"]+)"', css)
    if not found:
        raise RuntimeError(
            f"no --govuk-frontend-version in {GOVUK_FRONTEND / 'govuk-frontend.min.css'}"
        )
    return found.group(1)


_CLASS = re.compile(r"\.(-?[A-Za-z_][\w-]*)")
_BRACKETS = re.compile(r"\[[^\]]*\]|\([^)]*\)")


def _selector_classes(selector: str) -> set[str]:
    """The classes a selector needs (attribute values and pseudo-class arguments left aside)."""
    return set(_CLASS.findall(_BRACKETS.sub("", selector)))


def _only_used(css: str, classes: frozenset[str]) -> str:
    """``css`` with only the selectors whose classes are all in ``classes`` (selectors without a
    class, such as ``:root`` or ``html``, are kept); a rule left with no selector goes, and so
    does a grouping at-rule left empty."""
    kept: list[str] = []
    for head, body in _statements(css):
        name = head.lstrip().lower()
        if body is None:
            kept.append(head)
            continue
        if name.startswith(_GROUPING):
            inner = _only_used(body, classes)
            if inner:
                kept.append(f"{head}{{{inner}}}")
            continue
        if name.startswith("@"):  # @keyframes and the like: kept whole
            kept.append(f"{head}{{{body}}}")
            continue
        selectors = [sel for sel in head.split(",") if _selector_classes(sel) <= classes]
        if selectors:
            kept.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(kept)


@functools.lru_cache(maxsize=64)
def govuk_frontend_css(classes: frozenset[str] | None = None) -> str:
    """GOV.UK Frontend's stylesheet as a page inlines it: its licence notice, then the CSS less
    what would ask for a missing file (see the module's docstring) and, given the ``classes`` a page
    uses, less the rules for none of them (the whole sheet is 130 KB; a report uses a tenth)."""
    css = (GOVUK_FRONTEND / "govuk-frontend.min.css").read_text(encoding="utf-8")
    licence = (GOVUK_FRONTEND / "LICENSE.txt").read_text(encoding="utf-8").strip()
    notice = (
        f"/*! GOV.UK Frontend v{govuk_frontend_version()} (github.com/alphagov/govuk-frontend), "
        f"its compiled stylesheet without fonts or images"
        f"{', only the rules this page uses' if classes is not None else ''}.\n{licence}\n*/"
    )
    body = _without_missing_files(css)
    if classes is not None:
        body = _only_used(body, classes)
    return f"{notice}\n{body}"


@functools.lru_cache(maxsize=64)
def stylesheet(classes: frozenset[str] | None = None, *, print_css: bool = True) -> str:
    """The CSS: GOV.UK Frontend's (only the rules for ``classes`` when given), then cspa's own,
    then (by default) the print sheet."""
    parts = [govuk_frontend_css(classes), (STATIC / "cspa.css").read_text(encoding="utf-8")]
    if print_css:
        parts.append((STATIC / "cspa-print.css").read_text(encoding="utf-8"))
    return "\n".join(parts)


_CLASS_ATTR = re.compile(r'class=(?:"([^"]*)"|([^\s>"]+))')


def page_classes(html: str) -> frozenset[str]:
    """Every class a page's elements name (quoted or not)."""
    return frozenset(
        c for m in _CLASS_ATTR.finditer(html) for c in (m.group(1) or m.group(2)).split()
    )
