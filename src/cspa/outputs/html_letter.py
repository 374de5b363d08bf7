"""HTML and PDF for the assessment documents (profile, letter), with templates an organisation can replace.

The APA renderer (:mod:`cspa.outputs.html`) always renders ``report.html``; the profile and the
letter need their own top-level templates, so this module renders by template name, looking
first in an organisation's folder (``template=`` a file or folder, or ``$CSPA_TEMPLATES``) and
then in ``outputs/templates``. It reuses the same stylesheet, partials (``_attribution.html``,
``_footer.html``) and filters, so the pages look and behave like the APA report (self-contained,
no scripts, accessible). The renderer computes nothing.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from cspa.errors import CspaError
from cspa.outputs.html import CSS_HERE, TEMPLATES, inline_stylesheet, nice_date, plain_number
from cspa.outputs.styles import govuk_frontend_version

__all__ = ["render_assessment_html"]

DEFAULT_TEMPLATES = {"profile": "profile.html", "letter": "letter.html"}


@functools.cache
def _env(extra: str | None) -> Environment:
    loaders = [FileSystemLoader(extra)] if extra else []
    env = Environment(
        loader=ChoiceLoader([*loaders, FileSystemLoader(str(TEMPLATES))]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(nice_date=nice_date, plain_number=plain_number)
    env.globals.update(govuk_frontend_version=govuk_frontend_version())
    return env


def _resolve(doc: dict[str, Any], template: str | Path | None) -> tuple[str | None, str]:
    """(extra folder, template name) for a document and an optional organisation template."""
    name = doc.get("template") or DEFAULT_TEMPLATES.get(doc.get("report") or "", "letter.html")
    if doc.get("report") == "profile":
        name = DEFAULT_TEMPLATES["profile"]
    t = template or os.environ.get("CSPA_TEMPLATES")
    if not t:
        return None, name
    p = Path(t)
    if p.is_dir():
        return str(p), name
    if p.is_file():
        return str(p.parent), p.name
    raise CspaError(f"template {t!r} is neither a file nor a folder")


def render_assessment_html(doc: dict[str, Any], template: str | Path | None = None) -> str:
    folder, name = _resolve(doc, template)
    env = _env(folder)
    try:
        tpl = env.get_template(name)
    except Exception as e:  # a missing or broken organisation template: say which
        raise CspaError(f"cannot load template {name!r} ({folder or TEMPLATES}): {e}") from e
    # an organisation's template that writes {{ css }} gets the stylesheet for the classes it uses
    return inline_stylesheet(tpl.render(doc=doc, css=Markup(CSS_HERE)))
