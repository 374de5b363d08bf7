"""The report's summary: "at a glance" sentences made from the engine's judgements.

Like Ofsted's inspection data summaries, a reader should see in a minute where the authority
stands out from its neighbours and England, what improved or worsened most, and what has moved
the same way for years, each sentence linking to its indicator's section and carrying its
evidence (the figures, periods and ranks it rests on). Nothing is judged here: every sentence
restates one judgement the engine made of the authority's own figure (its significance against
England, its quarter or rank among authorities, its trend, its progress from period to period,
its band and light), and which way is better comes from :mod:`cspa.engine.polarity`. This module
only chooses which judgements are notable and words them.

A summary entry is ``{indicator, measure, period, kind, direction, sentence}`` (the report JSON's
``summary``), ``kind`` one of :data:`KINDS`, ``direction`` ``better`` or ``worse``. What is notable:

* ``significance``: the figure is significantly higher or lower than England's;
* ``quartile``: it is in the best or worst quarter of authorities (LAIT's A or D), or in the best or
  worst quartile against England's published quartiles (the 2008 dataset);
* ``band``: it is shaded green or red by the indicator's traffic-light rule;
* ``trend``: the engine's trend class (the seed's improving / not improving, or Fingertips'
  recent trend) says it is getting better or worse;
* ``progress``: it moved into a better or worse quarter (or band) since the period before, or has
  improved or worsened in each of the last three periods or more.

Only the periods the report's tables show are read (their ``window``), so the HTML, whose document
holds only those, and the JSON, which holds every period, have the same summary.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cspa.engine.polarity import compare, sign

__all__ = ["GLANCE", "KINDS", "PERSISTENT", "THEME_LEAD", "place", "shared_with", "summarise"]

KINDS = ("significance", "quartile", "trend", "progress", "band")
#: How many periods in a row a figure must improve (or worsen) to be a persistent trend.
PERSISTENT = 3
#: How many sentences each part of the "at a glance" list shows.
GLANCE = 6
#: How many of a theme's better and of its worse sentences are shown first (the most notable of
#: each, one per indicator); where the theme has more than :data:`GLANCE`, the rest are listed
#: under them in a closed details element, as the indicators with nothing notable are: a theme of a
#: LAIT report can hold fifty sentences, which no reader scans, and a theme's strengths alone would
#: hide where it falls short.
THEME_LEAD = 2

# The engine's words for a figure's direction against England (published flags and computed).
_SIGNIFICANCE = {"high": "higher", "higher": "higher", "low": "lower", "lower": "lower"}
# The engine's trend classes, and which way each goes: the seed's class (000:L3083) is judged
# already; Fingertips' recent trend says "getting better" or "getting worse" where polarity allows.
_TREND = {
    "improving": "better",
    "not improving": "worse",
    "increasing and getting better": "better",
    "decreasing and getting better": "better",
    "increasing and getting worse": "worse",
    "decreasing and getting worse": "worse",
}
_QUARTILE_WORDS = {1: "best", 4: "worst"}
_POSITION = {"Best Q'tile": ("best", "better"), "Worst Q'tile": ("worst", "worse")}
_LIGHT = {"green": "better", "red": "worse"}


def _direction(polarity: str | None, higher: bool) -> str | None:
    """'better' or 'worse' for a figure above (``higher``) or below a comparator, under polarity."""
    got = compare(polarity, 1.0, 0.0) if higher else compare(polarity, 0.0, 1.0)
    return got if got in ("better", "worse") else None


def _shown(ind: dict[str, Any]) -> list[str]:
    table = ind.get("table") or {}
    cols = list(table.get("columns") or [])
    window = table.get("window")
    return cols[-window:] if window else cols


def _entry(ind, j, kind, direction, sentence, score, group) -> dict[str, Any]:
    return {
        "indicator": ind["code"],
        "measure": j["measure"],
        "period": j["period"],
        "kind": kind,
        "direction": direction,
        "sentence": sentence,
        "_score": score,  # how notable, for the "at a glance" order (renderers only)
        "_group": group,  # "stands_out" or "changed"
        "_anchor": ind["code"],
    }


def _indicator_entries(area: str, ind: dict[str, Any]) -> list[dict[str, Any]]:
    polarity = ind.get("polarity")
    shown = _shown(ind)
    order = {p: i for i, p in enumerate(shown)}
    mine: dict[str, dict[str, dict]] = defaultdict(dict)  # measure id -> period -> judgement
    for j in ind.get("judgements") or []:
        if j["geography"] == "area" and j["period"] in order:
            mine[j["measure_id"]][j["period"]] = j
    figures: dict[tuple, str] = {}
    amounts: dict[tuple, float] = {}  # the authority's own figures as numbers, by (measure, period)
    for o in ind.get("observations") or []:
        if o["period"] in order and o["geography"] in ("area", "england"):
            figures.setdefault((o["measure_id"], o["period"], o["geography"]), o["display"])
            if o["geography"] == "area" and o.get("value") is not None:
                amounts.setdefault((o["measure_id"], o["period"]), o["value"])
    out = []
    for mid, by_period in mine.items():
        periods = sorted(by_period, key=order.__getitem__)
        latest = periods[-1]
        j = by_period[latest]
        value = figures.get((mid, latest, "area"))
        if not value:
            continue  # a judgement with no figure of the authority's own shown: nothing to say
        label = _label(ind["title"], j["measure"])
        who = f"{label}: {area}"
        mine_then = f"{area}'s {value} in {latest}"
        # where it stands
        sig = _SIGNIFICANCE.get(str(j.get("significance") or "").lower())
        england = figures.get((mid, latest, "england"))
        if sig and (d := _direction(polarity, sig == "higher")):
            vs = f"England's {england}" if england else "England's"
            out.append(
                _entry(
                    ind,
                    j,
                    "significance",
                    d,
                    f"{label}: {mine_then} is significantly {sig} than {vs}, {d} than England.",
                    3.0,
                    "stands_out",
                )
            )
        # the seed's quartile position against England's published quartiles, else the quarter
        # among authorities (LAIT's A to D, from the authorities' ranks)
        if j.get("quartile_position") in _POSITION:
            words, d = _POSITION[j["quartile_position"]]
            out.append(
                _entry(
                    ind,
                    j,
                    "quartile",
                    d,
                    f"{who} is in the {words} quartile against England's published quartiles, "
                    f"with {value} in {latest}.",
                    2.0,
                    "stands_out",
                )
            )
        elif j.get("quartile") in _QUARTILE_WORDS and j.get("rank") and sign(polarity):
            q = j["quartile"]
            d = "better" if q == 1 else "worse"
            rank = (
                f" (rank {j['rank']} of {j['rank_of']}{shared_with(j, ', ')})"
                if j.get("rank") and j.get("rank_of")
                else ""
            )
            share = place(j)
            out.append(
                _entry(
                    ind,
                    j,
                    "quartile",
                    d,
                    f"{who} is in the {_QUARTILE_WORDS[q]} quarter of authorities{rank}, with "
                    f"{value} in {latest}.",
                    2.0 + (1 - share if q == 1 else share),
                    "stands_out",
                )
            )
        light = j.get("traffic_light")
        if light in _LIGHT:
            band = (
                f" band {j['band']} of 5" + (f" ({j['band_range']})" if j.get("band_range") else "")
                if j.get("band")
                else ""
            )
            where = f"in{band} and " if band else ""
            out.append(
                _entry(
                    ind,
                    j,
                    "band",
                    _LIGHT[light],
                    f"{label}: {mine_then} is {where}shaded {light} by the indicator's "
                    "traffic-light rule.",
                    1.5,
                    "stands_out",
                )
            )
        trend = _TREND.get(str(j.get("trend") or "").lower())
        if trend:
            out.append(
                _entry(
                    ind,
                    j,
                    "trend",
                    trend,
                    f"{label}: {area}'s trend to {latest} is judged {str(j['trend']).lower()} "
                    f"({value} in {latest}).",
                    1.8,
                    "changed",
                )
            )
        # what changed
        out += _progress(ind, area, label, mid, periods, by_period, figures, value, order, amounts)
    return out


def place(j: dict) -> float:
    """Where the authority's figure stands among the authorities ranked, from 0 (the best) to 1: its
    rank over how many, a tie counted at its middle rank (fractional ranking). A tie shares the
    best rank, and "rank 1 of 150" held by 62 authorities would otherwise head the glance above a
    rank 4 of 150 held alone, though it is the 31.5th place on average."""
    if not (j.get("rank") and j.get("rank_of")):
        return 0.5
    return (j["rank"] + ((j.get("rank_shared") or 1) - 1) / 2) / j["rank_of"]


def shared_with(j: dict, lead: str = "") -> str:
    """``lead`` and 'shared with 29 other authorities' where others have the same figure and rank
    (ties share the best rank, so "rank 1 of 102" alone would read as first of 102); '' where none do."""
    others = (j.get("rank_shared") or 1) - 1
    if others <= 0:
        return ""
    return f"{lead}shared with {others} other authorit{'y' if others == 1 else 'ies'}"


#: A figure's move in words, by the way it went under polarity.
_MOVED = {"better": "improved", "worse": "worsened"}


def _progress(
    ind, area, label, mid, periods, by_period, figures, value, order, amounts
) -> list[dict]:
    out = []
    latest = periods[-1]
    j = by_period[latest]
    # into a better or worse quarter (or band) since the period before
    if len(periods) >= 2:
        before = periods[-2]
        p = by_period[before]
        v0 = figures.get((mid, before, "area"))
        q0, q1 = p.get("quartile"), j.get("quartile")
        if (
            q0
            and q1
            and q0 != q1
            and j.get("rank")
            and p.get("rank")
            # the quarter and the rank move the same way (with fewer authorities ranked, or ties
            # at a cut point, a quarter can change against a rank that barely moved)
            and (q1 < q0) == (j["rank"] < p["rank"])
        ):
            d = "better" if q1 < q0 else "worse"
            n = j.get("rank_of") or 0
            # a rank can rise while the figure itself worsens (others worsened more) and fall while
            # it improves: the label follows the rank, and the sentence says which way the figure went
            a0, a1 = amounts.get((mid, before)), amounts.get((mid, latest))
            own = (
                compare(ind.get("polarity"), a1, a0) if a0 is not None and a1 is not None else None
            )
            though = f", though its own figure {_MOVED[own]}" if own in _MOVED and own != d else ""
            # what improved (or declined) most is led by figures that moved as their rank did: a
            # rank carried by the others' figures (its own the same, or moved the other way) ranks
            # after every such move, as Leeds's 48.9 to 48.9 (rank 138 to 50) had headed the list
            carried = own is not None and own != d
            out.append(
                _entry(
                    ind,
                    j,
                    "progress",
                    d,
                    f"{label}: {area} moved from rank {p['rank']} to {j['rank']}"
                    + (f" of {n}" if n else "")
                    + f" between {before} and {latest} ({v0} to {value}"
                    + shared_with(j, ", a rank ")
                    + f"), into the {_quarter_name(q1)} quarter of authorities{though}.",
                    (1.0 if carried else 2.0) + abs(p["rank"] - j["rank"]) / max(n, 1),
                    "changed",
                )
            )
        elif (
            j.get("band")
            and p.get("band")
            and j["band"] != p["band"]
            and j.get("progress") in ("improved", "worsened")
        ):
            d = "better" if j["progress"] == "improved" else "worse"
            out.append(
                _entry(
                    ind,
                    j,
                    "progress",
                    d,
                    f"{label}: {area}'s figure {j['progress']} from {v0} in {before} to {value} "
                    f"in {latest}, moving from band {p['band']} to band {j['band']} of 5.",
                    2.0,
                    "changed",
                )
            )
    # where progress is the only judgement the engine makes of the figure (no rank, quarter,
    # band or light), its latest move is the change there is to report
    only_progress = not any(
        by_period[per].get(k)
        for per in periods
        for k in ("rank", "quartile", "quartile_position", "band", "traffic_light", "trend")
    )
    if only_progress and j.get("progress") in ("improved", "worsened"):
        # the period the engine compared with: the last before this with a figure of the area's
        had = [p for p in order if p != latest and figures.get((mid, p, "area"))]
        had = [p for p in had if order[p] < order[latest]]
        before = had[-1] if had else None
        v0 = figures.get((mid, before, "area")) if before else None
        if v0:
            out.append(
                _entry(
                    ind,
                    j,
                    "progress",
                    "better" if j["progress"] == "improved" else "worse",
                    f"{label}: {area}'s figure {j['progress']} from {v0} in {before} to {value} "
                    f"in {latest}.",
                    0.5,
                    "changed",
                )
            )
    # improved (or worsened) in each of the last PERSISTENT periods or more
    run = 0
    for per in reversed(periods):
        if by_period[per].get("progress") == j.get("progress"):
            run += 1
        else:
            break
    if j.get("progress") in ("improved", "worsened") and run >= PERSISTENT:
        if len(periods) > run:
            start = periods[-run - 1]
        else:  # the run goes back to the first judged period: from the figure before it
            earlier = [p for p in order if order[p] < order[periods[0]]]
            earlier = [p for p in earlier if figures.get((mid, p, "area"))]
            start = earlier[-1] if earlier else None
        first = figures.get((mid, start, "area")) if start else None
        d = "better" if j["progress"] == "improved" else "worse"
        since = (
            f", from {first} in {start} to {value} in {latest}"
            if first
            else f", to {value} in {latest}"
        )
        out.append(
            _entry(
                ind,
                j,
                "progress",
                d,
                f"{label}: {area}'s figure has {j['progress']} in each of the last {run} "
                f"periods{since}.",
                1.0 + run / 10,
                "changed",
            )
        )
    return out


def _label(title: str, measure: str | None) -> str:
    """What a sentence calls the figure: the indicator's title, with its measure where it has
    several (a long measure label, as the 2008 dataset prints them, says it all alone)."""
    if not measure:
        return title
    return measure if len(measure) > 40 else f"{title} ({measure})"


def _quarter_name(q: int) -> str:
    return {1: "best", 2: "second", 3: "third", 4: "worst"}.get(q, str(q))


def summarise(
    area: str, indicators: list[dict[str, Any]], sections: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The report's summary entries (in the report's order) and the renderers' layout of them:
    ``glance`` (the most notable of each part: better and worse standing, improvements and
    declines, each a list of entry indexes) with each part's ``headings``, and ``themes`` (per
    section: its entries' indexes, the :data:`THEME_LEAD` most notable better and worse ones
    (``lead``) and the rest in the report's order (``more``; after the lead, unfolded, in a theme
    of :data:`GLANCE` or fewer), how many say better and worse, and the indicators with nothing
    notable)."""
    entries: list[dict[str, Any]] = []
    by_code: dict[str, list[int]] = defaultdict(list)
    for ind in indicators:
        for e in _indicator_entries(area, ind):
            by_code[ind["code"]].append(len(entries))
            entries.append(e)

    def most_notable(picked: list[int], n: int) -> list[int]:
        # by score, the report's order among equals; one sentence per indicator
        seen, out = set(), []
        for i in sorted(picked, key=lambda i: -entries[i]["_score"]):
            if entries[i]["indicator"] not in seen:
                seen.add(entries[i]["indicator"])
                out.append(i)
        return out[:n]

    def top(group: str, direction: str) -> list[int]:
        return most_notable(
            [
                i
                for i, e in enumerate(entries)
                if e["_group"] == group and e["direction"] == direction
            ],
            GLANCE,
        )

    titles = {ind["code"]: ind["title"] for ind in indicators}
    themes = []
    for s in sections:
        codes = [c for sub in s.get("subsections") or [] for c in sub.get("indicators") or []]
        inside = [i for c in codes for i in by_code.get(c, [])]
        lead = [
            i
            for direction in ("better", "worse")
            for i in most_notable(
                [i for i in inside if entries[i]["direction"] == direction], THEME_LEAD
            )
        ]
        more = [i for i in inside if i not in lead]
        if len(inside) <= GLANCE:  # a short theme is read whole: nothing worth folding
            lead, more = lead + more, []
        themes.append(
            {
                "id": s["id"],
                "title": s["title"],
                "entries": inside,
                "lead": lead,
                "more": more,
                "better": sum(entries[i]["direction"] == "better" for i in inside),
                "worse": sum(entries[i]["direction"] == "worse" for i in inside),
                "quiet": [
                    {"code": c, "title": titles.get(c, c)} for c in codes if c not in by_code
                ],
            }
        )
    glance = {
        "better": top("stands_out", "better"),
        "worse": top("stands_out", "worse"),
        "improved": top("changed", "better"),
        "declined": top("changed", "worse"),
    }
    headings = {
        "better": f"Where {area} does best",
        "worse": f"Where {area} does worst",
        "improved": "What improved most",
        "declined": "What declined most",
    }
    return entries, {"glance": glance, "headings": headings, "themes": themes}
