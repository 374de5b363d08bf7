"""Indicator charts as inline SVG: the area against its comparators over time.

``indicator_chart_svg(chart)`` takes the ``chart`` dict of a report document (see
docs/report-spec.md) and returns one ``<svg>`` element ready to inline in HTML (and so in
the PDF).  It computes nothing about the figures: it only places the given points.

Two engines draw the same chart:

* ``"svg"`` (the default) is a small hand-written line-chart generator: about half a
  millisecond a chart, deterministic output, text kept as text.
* ``"vega"`` builds the chart with Altair and renders it with vl-convert.  The Vega-Lite ->
  Vega compile is cached per chart shape, so each chart costs only the Vega -> SVG render,
  about 0.1 s; at ~110 indicators x 153 authorities that is about half an hour of CPU,
  which is why it is not the default.

Either way the root ``<svg>`` has ``role="img"``, an ``aria-label`` and a ``<title>``
built from the chart's title and ``summary`` (the text alternative), and series are told
apart by line style and marker shape as well as colour.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["indicator_chart_svg"]

FONT = "arial, 'Liberation Sans', helvetica, sans-serif"
TEXT = "#0b0c0c"
GRID = "#dddddd"
AXIS = "#505a5f"
BAND_FILL = "#d2e2f1"
MEDIAN = "#505a5f"

# colour, dash pattern, marker: never colour alone
SERIES_STYLES: list[tuple[str, str | None, str]] = [
    ("#1d70b8", None, "circle"),  # the area: GOV.UK blue, solid
    ("#912b88", "8 4", "square"),  # first comparator: purple, dashed
    ("#0b0c0c", "2 3", "triangle"),  # second comparator: black, dotted
    ("#505a5f", "10 3 2 3", "diamond"),
    ("#00703c", "4 2", "circle"),
]

WIDTH, HEIGHT = 680, 330
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_BOTTOM = 60, 20, 46


def indicator_chart_svg(chart: dict[str, Any], *, engine: str = "svg") -> str:
    """Render a report document's ``chart`` dict as one accessible inline ``<svg>``."""
    if engine == "svg":
        return _hand_svg(chart)
    if engine == "vega":
        return _vega_svg(chart)
    raise ValueError(f"unknown chart engine {engine!r}: use 'svg' or 'vega'")


def _label(chart: dict[str, Any]) -> str:
    title = (chart.get("title") or "Chart").strip()
    summary = (chart.get("summary") or "").strip()
    return f"{title}. {summary}" if summary else title


def _periods(chart: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for band in chart.get("quartile_bands") or []:
        seen.setdefault(str(band["period"]), None)
    order: dict[str, None] = {}
    for series in chart.get("series") or []:
        for point in series.get("points") or []:
            order.setdefault(str(point["period"]), None)
    for p in seen:
        order.setdefault(p, None)
    # keep the series' order, but periods that sort as text (years, 2004-05) in text order
    periods = list(order)
    if all(_YEAR_LIKE.match(p) for p in periods):
        periods.sort()
    return periods


_YEAR_LIKE = re.compile(r"\d{4}")


def _points(series: dict[str, Any]) -> list[tuple[str, float]]:
    """A series' points that have a finite value, as (period, value)."""
    return [
        (str(p["period"]), float(p["value"]))
        for p in series.get("points") or []
        if _finite(p.get("value"))
    ]


def _values(chart: dict[str, Any], points: list[list[tuple[str, float]]]) -> list[float]:
    """Every value the chart places (``points``: each series', from :func:`_points`)."""
    vals = [v for pts in points for _p, v in pts]
    for band in chart.get("quartile_bands") or []:
        vals += [
            float(band[k])
            for k in ("lower_quartile", "median", "upper_quartile")
            if _finite(band.get(k))
        ]
    return vals


def _finite(v: Any) -> bool:
    # a number (not a bool), neither infinite nor NaN (both give NaN when subtracted from themselves)
    return isinstance(v, (int, float)) and v is not True and v is not False and v - v == 0


def _nice_step(span: float, target: int = 5) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * mag:
            return mult * mag
    return 10 * mag


def _ticks(lo: float, hi: float) -> list[float]:
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    step = _nice_step(hi - lo)
    start = math.floor(lo / step) * step
    stop = math.ceil(hi / step) * step
    n = round((stop - start) / step)
    return [start + i * step for i in range(n + 1)]


def _fmt_tick(v: float, step: float) -> str:
    decimals = (
        0
        if step >= 1
        else min(3, max(0, -math.floor(math.log10(step)) + (1 if step * 10 % 1 else 0)))
    )
    text = f"{v:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0", "-0.00") else text


def _marker(shape: str, x: float, y: float, colour: str, r: float = 4.5) -> str:
    xs = _marker_xs(shape, x, r)
    if shape == "square":
        return (
            f'<rect x="{xs[0]}" y="{y - r:.1f}" width="{xs[1]}" height="{xs[1]}" fill="{colour}"/>'
        )
    if shape == "triangle":
        bottom = f"{y + r:.1f}"
        return f'<polygon points="{xs[0]},{y - r - 1:.1f} {xs[1]},{bottom} {xs[2]},{bottom}" fill="{colour}"/>'
    if shape == "diamond":
        middle = f"{y:.1f}"
        return (
            f'<polygon points="{xs[0]},{y - r - 1:.1f} {xs[1]},{middle} {xs[0]},{y + r + 1:.1f} {xs[2]},{middle}" '
            f'fill="{colour}"/>'
        )
    return f'<circle cx="{xs[0]}" cy="{y:.1f}" r="{xs[1]}" fill="{colour}"/>'


@functools.lru_cache(maxsize=1024)
def _marker_xs(shape: str, x: float, r: float) -> tuple[str, ...]:
    """What a marker writes that does not depend on its figure (its x and size), formatted once: a
    chart's markers stand at a few x positions, chart after chart, and formatting floats is most of
    a marker's cost."""
    if shape == "square":
        return f"{x - r:.1f}", f"{2 * r:.1f}"
    if shape in ("triangle", "diamond"):
        return f"{x:.1f}", f"{x + r + 1:.1f}", f"{x - r - 1:.1f}"
    return f"{x:.1f}", f"{r:.1f}"


def _text_width(text: str, size: float) -> float:
    return 0.52 * size * len(text)


@functools.cache
def _legend_sample(i: int) -> str:
    """The legend's sample of the ``i``th series: its line and marker."""
    colour, dash, shape = SERIES_STYLES[i % len(SERIES_STYLES)]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="0" y1="0" x2="28" y2="0" stroke="{colour}" stroke-width="{3 if i == 0 else 2}"{dash_attr}/>'
        + _marker(shape, 14, 0, colour, 4)
    )


@functools.lru_cache(maxsize=64)
def _legend(items: tuple[tuple[str, str], ...], top: float) -> tuple[list[str], float]:
    """Lay legend entries left to right, wrapping; return the SVG parts and the height used."""
    parts, x, y = [], float(MARGIN_LEFT), top
    for sample, name in items:
        w = 34 + _text_width(name, 13) + 22
        if x + w > WIDTH - MARGIN_RIGHT and x > MARGIN_LEFT:
            x, y = float(MARGIN_LEFT), y + 22
        parts.append(
            f'<g transform="translate({x:.1f},{y:.1f})">{sample}'
            f'<text x="34" y="4.5">{escape(name)}</text></g>'
        )
        x += w
    return parts, (y - top) + 22


# a worker renders dozens of reports: every indicator's frames at a few scales each, about 20
# distinct frames for each new report once the common ones are in (a few KB each)
@functools.lru_cache(maxsize=4096)
def _frame(
    ticks: tuple[float, ...],
    step: float,
    periods: tuple[str, ...],
    top: float,
    plot_h: float,
    y_label: str | None,
) -> str:
    """Grid, axes and their labels: the same for every chart with these ticks and periods (most of a
    report's charts share a few), so each is drawn once. Shared attributes sit on groups."""
    lo, hi = ticks[0], ticks[-1]
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    slot = plot_w / max(len(periods), 1)
    xs = [MARGIN_LEFT + (i + 0.5) * slot for i in range(len(periods))]

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    out = [f'<g stroke="{GRID}">']
    out += [
        f'<line x1="{MARGIN_LEFT}" y1="{y(t):.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{y(t):.1f}"/>'
        for t in ticks
    ]
    out.append('</g><g text-anchor="end">')
    out += [
        f'<text x="{MARGIN_LEFT - 8}" y="{y(t) + 4.5:.1f}">{escape(_fmt_tick(t, step))}</text>'
        for t in ticks
    ]
    out.append("</g>")
    if y_label:
        out.append(
            f'<text transform="translate(16,{top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
            f"{escape(str(y_label))}</text>"
        )
    base = top + plot_h
    out.append(
        f'<g stroke="{AXIS}"><line x1="{MARGIN_LEFT}" y1="{base:.1f}" x2="{WIDTH - MARGIN_RIGHT}" y2="{base:.1f}"/>'
    )
    out += [f'<line x1="{x:.1f}" y1="{base:.1f}" x2="{x:.1f}" y2="{base + 5:.1f}"/>' for x in xs]
    out.append('</g><g text-anchor="middle">')
    every = max(1, math.ceil(len(periods) * 62 / plot_w))
    out += [
        f'<text x="{x:.1f}" y="{base + 21:.1f}">{escape(p)}</text>'
        for i, (x, p) in enumerate(zip(xs, periods, strict=True))
        if i % every == 0
    ]
    out.append("</g>")
    return "".join(out)


def _hand_svg(chart: dict[str, Any]) -> str:
    periods = _periods(chart)
    series = chart.get("series") or []
    bands = [
        b
        for b in chart.get("quartile_bands") or []
        if _finite(b.get("lower_quartile")) and _finite(b.get("upper_quartile"))
    ]
    label = _label(chart)

    legend_items = [
        (_legend_sample(i), str(s.get("name", f"Series {i + 1}"))) for i, s in enumerate(series)
    ]
    if bands:
        legend_items.append(
            (
                '<rect x="0" y="-6" width="28" height="12" fill="' + BAND_FILL + '"/>',
                "England interquartile range",
            )
        )
        if any(_finite(b.get("median")) for b in bands):
            legend_items.append(
                (
                    f'<line x1="0" y1="0" x2="28" y2="0" stroke="{MEDIAN}" stroke-width="1.5" stroke-dasharray="4 3"/>',
                    "England median",
                )
            )
    legend_parts, legend_h = _legend(
        tuple(legend_items), 16
    )  # the same few legends, chart after chart
    top = 16 + legend_h + 8

    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - top - MARGIN_BOTTOM
    points = [_points(s) for s in series]
    values = _values(chart, points)
    ticks = _ticks(min(values), max(values)) if values else [0.0, 1.0]
    lo, hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    slot = plot_w / max(len(periods), 1)
    xpos = {p: MARGIN_LEFT + (i + 0.5) * slot for i, p in enumerate(periods)}
    xtext = {p: f"{x:.1f}" for p, x in xpos.items()}
    base, span = top + plot_h, hi - lo  # y(v) below, with its sums made once

    def y(v: float) -> float:
        return base - (v - lo) / span * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cspa-chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(label)} '
        f'font-family="{FONT}" font-size="13" fill="{TEXT}">',
        f"<title>{escape(label)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    out += legend_parts
    out.append(
        _frame(tuple(ticks), step, tuple(periods), top, plot_h, chart.get("y_label") or None)
    )
    # quartile band and median
    if bands:
        bands = [b for b in bands if str(b["period"]) in xpos]
        bands.sort(key=lambda b: xpos[str(b["period"])])
        upper = [f"{xpos[str(b['period'])]:.1f},{y(float(b['upper_quartile'])):.1f}" for b in bands]
        lower = [
            f"{xpos[str(b['period'])]:.1f},{y(float(b['lower_quartile'])):.1f}"
            for b in reversed(bands)
        ]
        if len(bands) == 1:  # a single period: draw a short bar
            x0 = xpos[str(bands[0]["period"])]
            yu, yl = y(float(bands[0]["upper_quartile"])), y(float(bands[0]["lower_quartile"]))
            out.append(
                f'<rect x="{x0 - 12:.1f}" y="{yu:.1f}" width="24" height="{yl - yu:.1f}" fill="{BAND_FILL}"/>'
            )
        else:
            out.append(f'<polygon points="{" ".join(upper + lower)}" fill="{BAND_FILL}"/>')
        med = [
            f"{xpos[str(b['period'])]:.1f},{y(float(b['median'])):.1f}"
            for b in bands
            if _finite(b.get("median"))
        ]
        if len(med) > 1:
            out.append(
                f'<polyline points="{" ".join(med)}" fill="none" stroke="{MEDIAN}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
    # series: comparators first so the area's line is drawn on top
    for i in reversed(range(len(series))):
        colour, dash, shape = SERIES_STYLES[i % len(SERIES_STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        width = 3 if i == 0 else 2
        ys = {
            p: y(v) for p, v in dict(points[i]).items()
        }  # each point's place, for its line and its marker
        segment: list[str] = []
        segments: list[list[str]] = []
        for p in periods:
            if p in ys:
                segment.append(f"{xtext[p]},{ys[p]:.1f}")
            elif segment:
                segments.append(segment)
                segment = []
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                out.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    f'stroke-width="{width}" stroke-linejoin="round"{dash_attr}/>'
                )
        for p, yp in ys.items():
            if p in xpos:
                out.append(_marker(shape, xpos[p], yp, colour))
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------ Altair + vl-convert


def _vega_data(chart: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = []
    for i, s in enumerate(chart.get("series") or []):
        for p in s.get("points") or []:
            if _finite(p.get("value")):
                rows.append(
                    {
                        "series": str(s.get("name")),
                        "order": i,
                        "period": str(p["period"]),
                        "value": float(p["value"]),
                    }
                )
    bands = [
        {
            "period": str(b["period"]),
            "lower": b.get("lower_quartile"),
            "median": b.get("median"),
            "upper": b.get("upper_quartile"),
        }
        for b in chart.get("quartile_bands") or []
        if _finite(b.get("lower_quartile"))
    ]
    return rows, bands


@functools.lru_cache(maxsize=8)
def _compiled_vega(with_bands: bool) -> str:
    """Build the chart with Altair once per shape, compile it to Vega, return it as JSON."""
    import altair as alt
    import vl_convert as vlc

    x = alt.X("period:O", title=None, sort=None, axis=alt.Axis(labelAngle=0))
    colours = [c for c, _d, _s in SERIES_STYLES]
    dashes = [[int(n) for n in d.split()] if d else [1, 0] for _c, d, _s in SERIES_STYLES]
    shapes = [s for _c, _d, s in SERIES_STYLES]
    enc = {
        "x": x,
        "y": alt.Y("value:Q", title="value", scale=alt.Scale(zero=False)),
        "color": alt.Color(
            "series:N",
            sort=alt.EncodingSortField("order"),
            scale=alt.Scale(range=colours),
            legend=alt.Legend(title=None, orient="top"),
        ),
        "strokeDash": alt.StrokeDash(
            "series:N",
            sort=alt.EncodingSortField("order"),
            scale=alt.Scale(range=dashes),
            legend=None,
        ),
    }
    lines = alt.Chart(alt.NamedData(name="series")).mark_line(strokeWidth=2.5).encode(**enc)
    points = (
        alt.Chart(alt.NamedData(name="series"))
        .mark_point(filled=True, size=60, opacity=1)
        .encode(
            x=x,
            y="value:Q",
            color=alt.Color(
                "series:N",
                sort=alt.EncodingSortField("order"),
                scale=alt.Scale(range=colours),
                legend=None,
            ),
            shape=alt.Shape(
                "series:N",
                sort=alt.EncodingSortField("order"),
                scale=alt.Scale(range=shapes),
                legend=None,
            ),
        )
    )
    layers = [lines, points]
    if with_bands:
        band = (
            alt.Chart(alt.NamedData(name="bands"))
            .mark_area(color=BAND_FILL)
            .encode(x=x, y="lower:Q", y2="upper:Q")
        )
        median = (
            alt.Chart(alt.NamedData(name="bands"))
            .mark_line(color=MEDIAN, strokeDash=[4, 3])
            .encode(x=x, y="median:Q")
        )
        layers = [band, median, *layers]
    spec = (
        alt.layer(*layers)
        .properties(width=560, height=220)
        .configure(font="arial", aria=False, background="#ffffff")
        .configure_axis(labelFontSize=12, titleFontSize=12, labelColor=TEXT, titleColor=TEXT)
    )
    vl = spec.to_dict()
    vl.setdefault("datasets", {})
    vl["data"] = {"name": "series"}
    return json.dumps(vlc.vegalite_to_vega(vl))


def _vega_svg(chart: dict[str, Any]) -> str:
    import vl_convert as vlc

    rows, bands = _vega_data(chart)
    vega = json.loads(_compiled_vega(bool(bands)))
    for d in vega.get("data", []):
        if d.get("name") == "series":
            d["values"] = copy.deepcopy(rows)
        elif d.get("name") == "bands":
            d["values"] = copy.deepcopy(bands)
    for axis in vega.get("axes", []):
        if axis.get("title") == "value":
            axis["title"] = chart.get("y_label") or ""
    svg = vlc.vega_to_svg(vega)
    label = _label(chart)
    svg = re.sub(r'\s(?:role|aria-[a-z]+)="[^"]*"', "", svg)
    svg = re.sub(r'(<svg\b[^>]*?)\sclass="[^"]*"', r"\1", svg, count=1)
    return re.sub(
        r"<svg\b([^>]*)>",
        lambda m: (
            f'<svg{m.group(1)} class="cspa-chart-svg" role="img" aria-label={quoteattr(label)}>'
            f"<title>{escape(label)}</title>"
        ),
        svg,
        count=1,
    )
