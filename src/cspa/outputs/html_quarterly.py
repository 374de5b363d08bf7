"""HTML and PDF of the quarterly report (``report: "quarterly"``), in seed 001's layout.

The page is ``templates/quarterly.html`` with its ``quarterly_*.html`` partials; it reuses the
APA report's partials (title page, figure cell, chart, definition, changes, footer) and its
stylesheet through :func:`cspa.outputs.html._environment`, so the two reports look and behave
alike (WCAG 2.2 AA choices in docs/outputs.md). Like every renderer it computes nothing: it lays
out the document's display strings, RAG lights (word and shape, never colour alone), progress
glyphs with their words, narrative and SPC results.

:func:`spc_chart_svg` draws an XmR chart (NHS Making Data Count) from the document's ``spc``
dict: points, mean, process limits and target, special-cause points told apart by shape as well
as colour, with the chart's summary as its text alternative.
"""

from __future__ import annotations

import functools
import math
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from cspa.outputs.html import CSS_HERE, LIGHTS, MAX_BLOBS, _environment, inline_stylesheet

__all__ = ["render_quarterly_html", "spc_chart_svg"]

FONT = "arial, 'Liberation Sans', helvetica, sans-serif"
WIDTH, HEIGHT = 680, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 52, 46
# point type -> (fill, marker, legend); Making Data Count's colours (grey, blue, orange) plus shapes
POINT_STYLES = {
    "common_cause": ("#505a5f", "circle", "Common cause"),
    "special_cause_improvement": ("#1d70b8", "square", "Special cause: improvement"),
    "special_cause_concern": ("#d4351c", "triangle", "Special cause: concern"),
    "special_cause_neutral_high": ("#912b88", "diamond", "Special cause: neutral"),
    "special_cause_neutral_low": ("#912b88", "diamond", "Special cause: neutral"),
}


@functools.cache
def _env():
    env = _environment()
    env.globals.update(spc_svg=lambda s: Markup(spc_chart_svg(s)), MAX_BLOBS=MAX_BLOBS)
    return env


def render_quarterly_html(doc: dict[str, Any]) -> str:
    """Render a quarterly report document as one self-contained HTML page."""
    return inline_stylesheet(
        _env()
        .get_template("quarterly.html")
        .render(
            doc=doc,
            css=Markup(CSS_HERE),
            lights=LIGHTS,
            status_symbols=(doc.get("legend") or {}).get("status_symbols") or {},
            # a related indicator links to its section when it is in this report (its id is its anchor)
            related_targets={
                ind["code"]: ind["anchor"]
                for ind in doc.get("indicators") or []
                if ind.get("anchor")
            },
            by_code={ind["code"]: ind for ind in doc.get("indicators") or []},
        )
    )


# ----------------------------------------------------------------------------------------- SPC chart


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _marker(shape: str, x: float, y: float, fill: str, r: float = 5.0) -> str:
    stroke = 'stroke="#0b0c0c" stroke-width="0.8"'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{fill}" {stroke}/>'
    if shape == "triangle":
        return (
            f'<polygon points="{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y + r:.1f} {x - r - 1:.1f},{y + r:.1f}" '
            f'fill="{fill}" {stroke}/>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - r - 1:.1f} {x + r + 1:.1f},{y:.1f} {x:.1f},{y + r + 1:.1f} '
            f'{x - r - 1:.1f},{y:.1f}" fill="{fill}" {stroke}/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r - 1:.1f}" fill="{fill}" {stroke}/>'


def _nice(lo: float, hi: float) -> list[float]:
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    raw = (hi - lo) / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if raw <= m * mag)
    start, stop = math.floor(lo / step) * step, math.ceil(hi / step) * step
    return [start + i * step for i in range(round((stop - start) / step) + 1)]


def spc_chart_svg(spc: dict[str, Any]) -> str:
    """An XmR chart as one accessible inline ``<svg>`` (text alternative = the spc summary)."""
    pts = [p for p in spc.get("points") or [] if _finite(p.get("value"))]
    label = f"{spc.get('title') or 'SPC chart'}. {spc.get('summary') or ''}".strip()
    values = [p["value"] for p in pts]
    for k in ("lpl", "upl", "mean"):
        values += [p[k] for p in pts if _finite(p.get(k))]
    values += [p["target"] for p in pts if _finite(p.get("target"))]
    ticks = _nice(min(values), max(values)) if values else [0.0, 1.0]
    lo, hi = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(pts), 1)

    def x(i: int) -> float:
        return LEFT + (i + 0.5) * slot

    def y(v: float) -> float:
        return TOP + plot_h - (v - lo) / (hi - lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cspa-chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(label)} font-family="{FONT}" fill="#0b0c0c">',
        f"<title>{escape(label)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    legend = [
        ('<line x1="0" y1="0" x2="26" y2="0" stroke="#0b0c0c" stroke-width="1.5"/>', "Mean"),
        (
            '<line x1="0" y1="0" x2="26" y2="0" stroke="#505a5f" stroke-width="1.5" stroke-dasharray="6 4"/>',
            "Process limits",
        ),
    ]
    if any(_finite(p.get("target")) for p in pts):
        legend.append(
            (
                '<line x1="0" y1="0" x2="26" y2="0" stroke="#912b88" stroke-width="2" stroke-dasharray="10 3 2 3"/>',
                "Target",
            )
        )
    seen = []
    for p in pts:
        style = POINT_STYLES.get(
            p.get("point_type") or "common_cause", POINT_STYLES["common_cause"]
        )
        if style[2] not in seen:
            seen.append(style[2])
            legend.append((_marker(style[1], 13, 0, style[0], 4.5), style[2]))
    lx, ly = float(LEFT), 16.0
    for sample, name in legend:
        w = 34 + 0.52 * 13 * len(name) + 18
        if lx + w > WIDTH - RIGHT:
            lx, ly = float(LEFT), ly + 20
        out.append(
            f'<g transform="translate({lx:.1f},{ly:.1f})">{sample}<text x="32" y="4.5" font-size="13">'
            f"{escape(name)}</text></g>"
        )
        lx += w
    for t in ticks:
        out.append(
            f'<line x1="{LEFT}" y1="{y(t):.1f}" x2="{WIDTH - RIGHT}" y2="{y(t):.1f}" stroke="#dddddd"/>'
        )
        out.append(
            f'<text x="{LEFT - 8}" y="{y(t) + 4.5:.1f}" font-size="13" text-anchor="end">{t:g}</text>'
        )
    base = TOP + plot_h
    out.append(
        f'<line x1="{LEFT}" y1="{base:.1f}" x2="{WIDTH - RIGHT}" y2="{base:.1f}" stroke="#505a5f"/>'
    )
    every = max(1, math.ceil(len(pts) * 70 / plot_w))
    for i, p in enumerate(pts):
        if i % every == 0:
            out.append(
                f'<text x="{x(i):.1f}" y="{base + 21:.1f}" font-size="12" text-anchor="middle">'
                f"{escape(str(p['period']))}</text>"
            )

    def line(key: str, colour: str, dash: str | None, width: float) -> None:
        seg = [f"{x(i):.1f},{y(p[key]):.1f}" for i, p in enumerate(pts) if _finite(p.get(key))]
        if len(seg) > 1:
            d = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="{width}"{d}/>'
            )

    line("upl", "#505a5f", "6 4", 1.5)
    line("lpl", "#505a5f", "6 4", 1.5)
    line("mean", "#0b0c0c", None, 1.5)
    line("target", "#912b88", "10 3 2 3", 2)
    line("value", "#505a5f", None, 1.2)
    for i, p in enumerate(pts):
        fill, shape, _name = POINT_STYLES.get(
            p.get("point_type") or "common_cause", POINT_STYLES["common_cause"]
        )
        out.append(_marker(shape, x(i), y(p["value"]), fill))
    out.append("</svg>")
    return "".join(out)
