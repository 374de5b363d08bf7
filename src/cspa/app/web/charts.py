"""Chart geometry for the pages (drawn as inline SVG by the templates, which compute nothing).

* :func:`distribution`: every authority's figure for one period on one axis, the quartile groups
  the engine judged shaded behind them (each band spans its authorities' figures), the chosen
  authority, its neighbours and England marked. The axis spans the figures, not zero to the top.
* :func:`trend`: the authority, its neighbours' average, its region and England over time.

Ticks are "nice" numbers (1, 2 or 5 times a power of ten), so labels step evenly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    t = first
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 10))
    return ticks


def _fmt(v: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{v:,.{decimals}f}"


@dataclass
class Axis:
    lo: float
    hi: float
    ticks: list[tuple[float, str]] = field(default_factory=list)

    @classmethod
    def over(cls, values: list[float]) -> Axis:
        ticks = nice_ticks(min(values), max(values))
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
        return cls(ticks[0], ticks[-1], [(t, _fmt(t, step)) for t in ticks])

    def x(self, v: float) -> float:
        span = (self.hi - self.lo) or 1
        return LEFT + (v - self.lo) / span * (WIDTH - LEFT - RIGHT)

    def y(self, v: float) -> float:
        span = (self.hi - self.lo) or 1
        return TOP + (1 - (v - self.lo) / span) * (HEIGHT - TOP - BOTTOM)


def within(value: float, values: list[float]) -> bool:
    """Whether ``value`` lies among ``values``' span. An England or region figure outside every
    authority's is a total over authorities (a count's), not a figure on one authority's scale:
    drawn on the same axis it would squeeze every authority into a corner, so charts leave it off
    and say so (the tables give it)."""
    return bool(values) and min(values) <= value <= max(values)


QUARTILE_FILLS = {1: "#d2e2f1", 2: "#e8f0f8", 3: "#f3f2f1", 4: "#e5e4e3"}


def distribution(
    figures: list[dict], area: str, neighbours: set[str], england: float | None
) -> dict | None:
    """Geometry of the strip chart (None when fewer than two authorities have a figure)."""
    las = [f for f in figures if f["area_type"] == "la" and f["value"] is not None]
    if len(las) < 2:
        return None
    values = [f["value"] for f in las]
    if england is not None and not within(england, values):
        england = None  # a total over authorities (a count's): off this scale, in the table
    ax = Axis.over(values + ([england] if england is not None else []))
    bands = []
    for q in (1, 2, 3, 4):
        vs = [f["value"] for f in las if f.get("quartile") == q]
        if vs:
            bands.append(
                {
                    "quartile": q,
                    "x": ax.x(min(vs)),
                    "w": max(ax.x(max(vs)) - ax.x(min(vs)), 2),
                    "fill": QUARTILE_FILLS[q],
                    "label": f"Q{q}",
                }
            )
    mid = TOP + (HEIGHT - TOP - BOTTOM) / 2
    dots = []
    for f in las:
        kind = "area" if f["area"] == area else "neighbour" if f["area"] in neighbours else "other"
        dots.append({"x": ax.x(f["value"]), "y": mid, "kind": kind, "name": f.get("area_name")})
    dots.sort(key=lambda d: {"other": 0, "neighbour": 1, "area": 2}[d["kind"]])
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "mid": mid,
        "ticks": [{"x": ax.x(t), "label": label} for t, label in ax.ticks],
        "bands": bands,
        "dots": dots,
        "england": None if england is None else ax.x(england),
        "lo": ax.lo,
        "hi": ax.hi,
    }


SERIES_STYLE = {
    "area": {"stroke": "#1d70b8", "dash": "", "marker": "circle"},
    "neighbours": {"stroke": "#f47738", "dash": "6 3", "marker": "square"},
    "region": {"stroke": "#4c2c92", "dash": "2 3", "marker": "diamond"},
    "england": {"stroke": "#0b0c0c", "dash": "10 4", "marker": "triangle"},
}


def trend(series: dict[str, list[tuple[str, float | None]]], labels: dict[str, str]) -> dict | None:
    """Geometry of the line chart: one line per series over the periods any of them has."""
    periods: list[str] = []
    for pts in series.values():
        for p, _v in pts:
            if p not in periods:
                periods.append(p)
    values = [v for pts in series.values() for _p, v in pts if v is not None]
    if len(periods) < 2 or not values:
        return None
    ax = Axis.over(values)
    step = (WIDTH - LEFT - RIGHT) / max(len(periods) - 1, 1)
    xs = {p: LEFT + i * step for i, p in enumerate(periods)}
    lines = []
    for key, pts in series.items():
        coords = [(xs[p], ax.y(v)) for p, v in pts if v is not None]
        if not coords:
            continue
        lines.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in coords),
                "dots": [{"x": x, "y": y} for x, y in coords],
                **SERIES_STYLE.get(key, SERIES_STYLE["area"]),
            }
        )
    label_every = max(1, math.ceil(len(periods) / 6))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "yticks": [{"y": ax.y(t), "label": label} for t, label in ax.ticks],
        "xticks": [{"x": xs[p], "label": p} for i, p in enumerate(periods) if i % label_every == 0],
        "lines": lines,
    }
