"""Which reports an authority has, in which formats: the download links every area page offers.

Every report is built by :func:`cspa.app.reports.build_report` and written by
:func:`cspa.outputs.render.render`, in every format its kind is registered for.
"""

from __future__ import annotations

import urllib.parse

from cspa.assessment.ruleset import load_rulesets
from cspa.outputs.render import formats_for

FORMAT_NAMES = {"html": "HTML", "pdf": "PDF", "xlsx": "Excel", "json": "JSON"}


# the latest year the web offers an assessment for (a rule set may cover later years)
LATEST_YEAR = 2025


def assessment_spans(area: dict) -> list[dict]:
    """Every rule set that assesses the authority, with the years it does (latest rule set first):
    ``ruleset, title, years``. A rule set of an era's list assesses its authorities every year it
    covers; one of ``era: as_at`` those that existed on each year's assessment date."""
    out = []
    for rs in load_rulesets().values():
        years = [
            y for y in range(rs.years[0], min(rs.years[1], LATEST_YEAR) + 1) if rs.assesses(area, y)
        ]
        if years:
            out.append({"ruleset": rs.id, "title": rs.title, "years": years})
    return sorted(out, key=lambda s: -s["years"][-1])


def assessment_years(area: dict) -> list[tuple[int, str, str]]:
    """(year, rule set id, title) of the latest year of every rule set that assesses the authority."""
    return [(s["years"][-1], s["ruleset"], s["title"]) for s in assessment_spans(area)]


def report_url(dfe: str, kind: str, fmt: str, **params: object) -> str:
    q = urllib.parse.urlencode(
        {"format": fmt, **{k: v for k, v in params.items() if v is not None}}
    )
    return f"/areas/{dfe}/reports/{kind}?{q}"


def downloads_for(area: dict, quarterly_periods: list[str] | None = None) -> list[dict]:
    """The reports of one authority: label, kind, parameters and a link per format."""
    dfe = area["dfe_code"]
    items: list[tuple[str, str, dict]] = []
    if area.get("in_2025"):
        items.append(
            (
                "Benchmarking report, current data (LAIT)",
                "apa-dataset",
                {"framework": "lait", "year": 2025},
            )
        )
    if area.get("in_2008"):
        items.append(("APA dataset 2008", "apa-dataset", {"framework": "apa2008", "year": 2008}))
    for period in quarterly_periods or []:
        items.append((f"Quarterly performance report, {period}", "quarterly", {"period": period}))
    sets = load_rulesets()
    for year, rs, title in assessment_years(area):
        if sets[rs].profile is not None:  # the APA rule set defines none
            items.append(
                (f"Performance profile {year} ({title})", "profile", {"year": year, "ruleset": rs})
            )
        items.append(
            (f"Assessment letter {year} ({title})", "letter", {"year": year, "ruleset": rs})
        )
    return [
        {
            "label": label,
            "kind": kind,
            "params": params,
            "links": [
                (FORMAT_NAMES.get(f, f), report_url(dfe, kind, f, **params))
                for f in formats_for(kind)
            ],
        }
        for label, kind, params in items
    ]
