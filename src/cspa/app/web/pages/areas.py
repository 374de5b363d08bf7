"""``/areas/{dfe}``: an authority's summary ("at a glance") and its figures by theme."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request

from cspa.app.web import queries
from cspa.app.web.pages.common import (
    area_or_404,
    cached_page,
    db,
    quarterly_periods,
    render,
    sees_private,
)
from cspa.app.web.reports_menu import downloads_for
from cspa.catalogue.load import load_catalogue
from cspa.outputs.summary import place, shared_with

router = APIRouter()

#: how many sentences of each kind the summary shows
PER_KIND = 5


def frameworks_present(rows: list[dict]) -> list[tuple[str, str]]:
    cat = load_catalogue()
    ids = sorted({r["framework"] for r in rows})
    return [(f, cat.frameworks[f].title if f in cat.frameworks else f) for f in ids]


def default_framework(rows: list[dict]) -> str | None:
    """The current data (LAIT) where the authority has it, else its most recent framework."""
    present = {r["framework"] for r in rows}
    if "lait" in present:
        return "lait"
    latest = max(rows, key=lambda r: r["period_end"] or 0, default=None)
    return latest["framework"] if latest else None


def at_a_glance(rows: list[dict]) -> list[dict]:
    """Sentences where the authority stands out, each with its evidence (the report document's
    ``summary`` shape: indicator, measure, period, kind, direction, sentence)."""
    out: list[dict] = []

    def add(kind: str, direction: str, r: dict, sentence: str) -> None:
        out.append(
            {
                "indicator": r["indicator"],
                "measure": r["measure"],
                "period": r["period_label"],
                "kind": kind,
                "direction": direction,
                "sentence": sentence,
                "title": r["title"],
            }
        )

    sig = {"better": "better", "best": "better", "worse": "worse", "worst": "worse"}
    for direction in ("better", "worse"):
        picked = [r for r in rows if sig.get(r.get("significance") or "") == direction]
        for r in picked[:PER_KIND]:
            add(
                "significance",
                direction,
                r,
                f"{r['title']}: {r['display']} in {r['period_label']}, significantly {direction} "
                f"than England ({r['england_display'] or 'no figure'}).",
            )
    for q, direction, words in ((1, "better", "best"), (4, "worse", "worst")):
        picked = [r for r in rows if r.get("quartile") == q and r.get("rank_of")]
        # the report's order (outputs.summary.place): a shared rank counts at its middle place, so
        # "rank 1 of 150" held by 62 authorities does not head the list above a rank 4 held alone
        picked.sort(key=lambda r: place(r) if q == 1 else -place(r))
        for r in picked[:PER_KIND]:
            add(
                "quartile",
                direction,
                r,
                f"{r['title']}: {r['display']} in {r['period_label']}, among the {words} quarter of "
                f"authorities (rank {r['rank']} of {r['rank_of']}{shared_with(r, ', ')}).",
            )
    for word, direction in (("improved", "better"), ("worsened", "worse")):
        picked = [r for r in rows if r.get("progress") == word]
        # a move that also moved the authority's rank the same way comes first, the biggest move
        # first (a figure can improve while others improved more, so its rank fell); the rest
        # keep the catalogue's order
        picked.sort(key=lambda r: -_rank_move(r, direction))
        for r in picked[:PER_KIND]:
            before = (
                f"from {r['before_display']} in {r['before_period_label']} "
                if r.get("before_display") and r.get("before_period_label")
                else ""
            )
            add(
                "progress",
                direction,
                r,
                f"{r['title']}: {word} {before}to {r['display']} in {r['period_label']}"
                f"{_rank_words(r, direction)}.",
            )
    return out


def _rank_move(r: dict, direction: str) -> float:
    """How far the authority's rank moved the way its figure did, as a share of those ranked (0
    where it was not ranked both times, or moved against the figure)."""
    if not (r.get("rank") and r.get("before_rank") and r.get("rank_of")):
        return 0.0
    up = r["before_rank"] - r["rank"]  # a smaller rank is better
    return max(up if direction == "better" else -up, 0) / r["rank_of"]


def _rank_words(r: dict, direction: str) -> str:
    if _rank_move(r, direction) <= 0:
        return ""
    return f" (rank {r['before_rank']} to {r['rank']} of {r['rank_of']})"


@router.get("/areas/{dfe}")
def area_page(request: Request, dfe: str, framework: str | None = None, theme: str | None = None):
    a = area_or_404(request, dfe)
    hit = cached_page(request, "area.html", a["code"])
    if hit is not None:
        return hit
    d = db(request)
    viewer = not sees_private(request, a["code"])
    with d.read() as cur:
        latest = d.cached(
            ("latest", a["code"], viewer), lambda: queries.area_latest(cur, a["code"], viewer)
        )
    present = frameworks_present(latest)
    chosen = framework if framework in dict(present) else default_framework(latest)
    shown = [
        queries.suppress({**r, "area_type": "la"}, viewer)
        for r in latest
        if r["framework"] == chosen
    ]
    themes: dict[str, list[dict]] = defaultdict(list)
    for r in shown:
        r["topic"] = queries.topic_of(r["definition_json"], r["section"], r["framework"])
        themes[r["topic"]].append(r)
    theme_names = sorted(themes)
    summary = at_a_glance(shown)
    summary_ids = {(x["indicator"], x["measure"]) for x in summary}
    index = [
        {
            "topic": t,
            "count": len(themes[t]),
            "standing_out": sum((r["indicator"], r["measure"]) in summary_ids for r in themes[t]),
        }
        for t in theme_names
    ]
    # the summary page lists the themes; one theme's figures (or all) are a click away, so the
    # page a reader lands on stays light (a current authority has some 430 indicators)
    if theme in themes:
        themes = {theme: themes[theme]}
    elif theme != "all":
        themes = {}
    cat = load_catalogue()
    fw = cat.frameworks.get(chosen) if chosen else None
    group = None
    if fw is not None:
        group = fw.default_neighbour_group.get("default")
    with d.read() as cur:
        nbs = (
            d.cached(("nbs", a["code"], group), lambda: queries.neighbours(cur, a["code"], group))
            if group
            else []
        )
    return render(
        request,
        "area.html",
        public=True,
        title=a["name"],
        area=a,
        frameworks=present,
        framework=chosen,
        framework_info=fw,
        themes=dict(sorted(themes.items())),
        theme_names=theme_names,
        theme=theme if theme in theme_names or theme == "all" else None,
        theme_index=index,
        summary=summary,
        neighbours=nbs,
        group=group,
        downloads=downloads_for(a, quarterly_periods(request, a["code"])),
        viewer=viewer,
    )
