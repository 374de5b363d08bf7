"""A readable rendering of one indicator definition (``cspa catalogue show CODE``)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cspa.catalogue.models import OUTCOME_TITLES, Indicator

POLARITY = {
    "high": "high is good",
    "low": "low is good",
    "none": "no direction (context only)",
    "middle": "middle is best (symmetric bands)",
}


def _light(rule) -> str:
    d = rule.model_dump(mode="json")
    kind = d.pop("rule")
    if kind == "none":
        return d.get("reason", "none")
    params = ", ".join(f"{k}={v}" for k, v in d.items() if v not in (None, [], {}))
    return f"{kind} ({params})" if params else kind


def describe(ind: Indicator) -> Group:
    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column()
    rows = [
        ("Framework", ind.framework),
        ("Outcome", OUTCOME_TITLES.get(ind.outcome) if ind.outcome else None),
        ("Section", ind.section),
        ("Topic", ind.topic),
        ("Page", ind.page),
        ("Owner", ind.owner),
        ("Source", ind.source),
        (
            "Unit",
            f"{ind.unit.value}, {ind.display.decimals} decimal place(s)"
            + (", printed with %" if ind.display.percent_sign else "")
            + (", thousands separators" if ind.display.thousands else "")
            + (f", prefix {ind.display.prefix}" if ind.display.prefix else ""),
        ),
        ("Polarity", POLARITY[ind.polarity.value]),
        (
            "Formula",
            ind.formula.type.value
            + (f" x {ind.formula.multiplier:g}" if ind.formula.multiplier else ""),
        ),
        ("Numerator", ind.numerator),
        ("Denominator", ind.denominator),
        ("Geography", ind.geography_level.value),
        ("Years", ind.year_type.value),
        ("Comparators", ", ".join(c.value for c in ind.comparators) or None),
        ("Neighbour group", ind.neighbour_group),
        ("SN figure", ind.sn_method.value),
        ("England figure", ind.england_method.value),
        ("Traffic light", _light(ind.traffic_light)),
        (
            "Quartiles / ranks / trend",
            f"{'yes' if ind.quartiles else 'no'} / {'yes' if ind.ranks else 'no'} / {ind.trend}",
        ),
        ("Related", ", ".join(ind.related) or None),
        ("Seed lines", ", ".join(map(str, ind.seed_lines)) or None),
        ("Source row", ind.source_ref),
    ]
    for k, v in rows:
        if v not in (None, ""):
            head.add_row(k, str(v))
    parts: list[RenderableType] = [head]
    if ind.bands:
        parts.append(_bands("Bands", ind.bands))
    for m in ind.measures:
        r = ind.resolved(m.id)
        t = Text(f"\nMeasure {m.id}: {m.label}\n", style="bold")
        t.append(
            f"  unit {r.unit.value}, {r.display.decimals} dp, {POLARITY[r.polarity.value]}, "
            f"formula {r.formula.type.value}, light: {_light(r.traffic_light)}"
        )
        parts.append(t)
        if m.bands:
            parts.append(_bands(f"Bands ({m.id})", m.bands))
    for label, text in (
        ("Definition", ind.definition),
        ("Guidance and interpretation", ind.guidance),
        ("Health warning", ind.health_warning),
    ):
        if text:
            parts.append(Text(f"\n{label}", style="bold"))
            parts.append(Text(text.strip()))
    for n in ind.notes:
        parts.append(Text(f"Note: {n}", style="italic"))
    return Group(Panel(Text(f"{ind.code}  {ind.title}", style="bold"), expand=False), *parts)


def _bands(title: str, bands) -> Table:
    width = max(len(b.cutoffs) for b in bands)
    t = Table("Periods", *[f"{i + 1}" for i in range(width)], title=title, title_justify="left")
    for b in bands:
        t.add_row(
            b.periods + (f" ({b.group})" if b.group else ""),
            *[
                f"{c} {'●' * n}" if c != "." else "."
                for c, n in zip(b.cutoffs, b.blobs, strict=True)
            ],
        )
    return t
