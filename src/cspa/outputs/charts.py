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

#: One encoding per kind of series, the same in every report: colour, line width, dash pattern
#: and marker shape (never colour alone). A series names its kind (the geography it shows, or
#: ``target``); one without falls back on its place (the first is the authority).
STYLES: dict[str, tuple[str, float, str | None, str]] = {
    "area": ("#1d70b8", 3, None, "circle"),
    "statistical_neighbours": ("#912b88", 2, "8 4", "square"),
    "region": ("#00703c", 2, "6 3 2 3", "diamond"),
    "england": ("#0b0c0c", 2, "2 3", "triangle"),
    "target": ("#b58840", 2, "12 4", "cross"),
    "other": ("#505a5f", 2, "10 3 2 3", "diamond"),
}
#: What a series without a kind is taken to be, by its place in the chart.
BY_PLACE = ("area", "statistical_neighbours", "england", "region", "other")
#: The legend's words for the kinds whose series have no name.
KIND_NAMES = {
    "statistical_neighbours": "Statistical neighbours",
    "england": "England",
    "region": "Region",
    "target": "Target",
}
# kept for callers that name the styles by place
SERIES_STYLES: list[tuple[str, str | None, str]] = [
    (STYLES[k][0], STYLES[k][2], STYLES[k][3]) for k in BY_PLACE
]

# The drawing is 400 x 250 user units with 15-unit text: scaled to a desktop column (about 520 px
# wide) text is 19 px; at 320 px wide the stylesheet sets 17-unit text, about 12 px on screen.
WIDTH, HEIGHT = 400, 250
TOP, MARGIN_RIGHT, MARGIN_BOTTOM = 12, 14, 30
FONT_SIZE = 15
PHONE_FONT_SIZE = 17  # the stylesheet's size at phone widths: the margins leave room for it


def kind_of(series: dict[str, Any], i: int) -> str:
    """The kind of the ``i``-th series: its own ``kind``, else its place's."""
    kind = series.get("kind")
    if kind in STYLES:
        return kind
    return BY_PLACE[i] if i < len(BY_PLACE) else "other"


def chart_keys(chart: dict[str, Any]) -> list[tuple[str, str]]:
    """The chart's legend: (kind, name) per series in drawing order, then the England
    interquartile range and median where the chart shades them."""
    keys = [
        (kind_of(s, i), str(s.get("name") or KIND_NAMES.get(kind_of(s, i), f"Series {i + 1}")))
        for i, s in enumerate(chart.get("series") or [])
    ]
    bands = [b for b in chart.get("quartile_bands") or [] if _finite(b.get("lower_quartile"))]
    if bands:
        keys.append(("iqr", "England interquartile range"))
        if any(_finite(b.get("median")) for b in bands):
            keys.append(("median", "England median"))
    return keys


#: The classes the stylesheet paints a compact chart's series with (cspa.css), by kind.
KIND_CLASS = {
    "area": "a",
    "statistical_neighbours": "n",
    "region": "r",
    "england": "e",
    "target": "t",
    "other": "o",
}


#: The markers a report page's compact charts share (one each, in a hidden ``<svg>`` at the top of
#: the page; cspa.css puts them on the lines by kind): the shapes and colours of :data:`STYLES`.
MARKER_DEFS = (
    '<svg class="cspa-defs" aria-hidden="true" focusable="false" width="0" height="0"><defs>'
    + "".join(
        f'<marker id="mk-{KIND_CLASS[kind]}" viewBox="-7 -7 14 14" markerWidth="14" '
        f'markerHeight="14" markerUnits="userSpaceOnUse">{shape}</marker>'
        for kind, shape in (
            ("area", '<circle r="4.5" fill="#1d70b8"/>'),
            (
                "statistical_neighbours",
                '<rect x="-4.5" y="-4.5" width="9" height="9" fill="#912b88"/>',
            ),
            ("region", '<path d="M0-6l6 6-6 6-6-6z" fill="#00703c"/>'),
            ("england", '<path d="M0-6l6 10h-12z" fill="#0b0c0c"/>'),
            ("target", '<path d="M-5-5l10 10m0-10l-10 10" stroke="#b58840" stroke-width="2"/>'),
            ("other", '<path d="M0-6l6 6-6 6-6-6z" fill="#505a5f"/>'),
        )
    )
    + "</defs></svg>"
)


def indicator_chart_svg(
    chart: dict[str, Any],
    *,
    engine: str = "svg",
    labelledby: str | None = None,
    compact: bool = False,
) -> str:
    """Render a report document's ``chart`` dict as one accessible inline ``<svg>``: its text
    alternative is a ``<title>`` with the chart's title and summary, or, given ``labelledby``, the
    element of that id (the figure's caption, which says the same: not written twice)."""
    if engine == "svg":
        return _hand_svg(chart, labelledby, compact)
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
    """A tick step of 1, 2 or 5 times a power of ten, giving about ``target`` intervals: steps a
    reader counts in, each shown with the same decimals (no 82.5 printed as 82 beside 85)."""
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * mag * (1 + 1e-9):
            return mult * mag
    return 10 * mag


def _ticks(lo: float, hi: float) -> list[float]:
    """Ticks covering ``lo`` to ``hi`` at a nice step. The axis starts where the figures do, not
    at zero: a rate between 60 and 70 fills the chart rather than its top sixth."""
    if hi - lo < 1e-9:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    n = round((stop - start) / step)
    return [round(start + i * step, 12) for i in range(n + 1)]


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


def _fmt_tick(v: float, step: float) -> str:
    text = f"{v:,.{_decimals(step)}f}"
    return "0" if text.lstrip("-").strip("0.,") == "" else text


def _n(v: float) -> str:
    """A coordinate, in whole units (a quarter of a percent of the chart's width)."""
    return str(round(v))


#: How each marker shape is painted: a circle or square is a dot of a zero-length line drawn
#: with a round or square cap (a few bytes each, a report draws thousands); the others are filled
#: outlines, and the cross is stroked.
_MARK_PAINT = {
    "circle": 'fill="none" stroke="{c}" stroke-width="9" stroke-linecap="round"',
    "square": 'fill="none" stroke="{c}" stroke-width="9" stroke-linecap="square"',
    "cross": 'fill="none" stroke="{c}" stroke-width="2"',
}


def _marker(shape: str, x: float, y: float) -> str:
    """One marker as path data, so a series' markers are one ``<path>``."""
    if shape in ("circle", "square"):
        return f"M{_n(x)} {_n(y)}h0"
    if shape == "triangle":
        return f"M{_n(x)} {_n(y - 6)}l6 10h-12z"
    if shape == "diamond":
        return f"M{_n(x)} {_n(y - 6)}l6 6-6 6-6-6z"
    return f"M{_n(x - 5)} {_n(y - 5)}l10 10m0-10l-10 10"  # cross


def _text_width(text: str, size: float) -> float:
    return 0.56 * size * len(text)


# a worker renders dozens of reports: most charts share a few frames, each drawn once
@functools.lru_cache(maxsize=4096)
def _frame(ticks: tuple[float, ...], step: float, periods: tuple[str, ...], left: float) -> str:
    """Grid, axes and their labels: the same for every chart with these ticks and periods."""
    lo, hi = ticks[0], ticks[-1]
    plot_h = HEIGHT - TOP - MARGIN_BOTTOM
    base = TOP + plot_h
    slot = (WIDTH - left - MARGIN_RIGHT) / max(len(periods), 1)

    def y(v: float) -> float:
        return base - (v - lo) / (hi - lo) * plot_h

    grid = "".join(f"M{_n(left)} {_n(y(t))}H{WIDTH - MARGIN_RIGHT}" for t in ticks[1:])
    out = [
        f'<path d="{grid}" stroke="{GRID}"/>',
        f'<path d="M{_n(left)} {_n(base)}H{WIDTH - MARGIN_RIGHT}" stroke="{AXIS}"/>',
        '<g text-anchor="end">',
    ]
    out += [
        f'<text x="{_n(left - 6)}" y="{_n(y(t) + 5)}">{escape(_fmt_tick(t, step))}</text>'
        for t in ticks
    ]
    out.append('</g><g text-anchor="middle">')
    # every period labelled where the labels fit at the phone size, else every other (or fewer)
    widest = max((_text_width(p, PHONE_FONT_SIZE) for p in periods), default=0)
    every = max(1, math.ceil((widest + 6) / slot))
    last = len(periods) - 1
    out += [
        f'<text x="{_n(left + (i + 0.5) * slot)}" y="{_n(base + 21)}">{escape(p)}</text>'
        for i, p in enumerate(periods)
        if (last - i) % every == 0  # the latest period is always labelled
    ]
    out.append("</g>")
    return "".join(out)


def _hand_svg(chart: dict[str, Any], labelledby: str | None = None, compact: bool = False) -> str:
    """The chart as SVG; ``compact`` leaves the series' paint and the text's font to the page's
    stylesheet (classes, cspa.css), as a page of 400 charts can: a chart printed by WeasyPrint, or
    used outside a report page, carries its own."""
    periods = _periods(chart)
    series = chart.get("series") or []
    bands = [
        b
        for b in chart.get("quartile_bands") or []
        if _finite(b.get("lower_quartile")) and _finite(b.get("upper_quartile"))
    ]
    label = _label(chart)
    points = [_points(s) for s in series]
    values = _values(chart, points)
    ticks = _ticks(min(values), max(values)) if values else [0.0, 1.0]
    lo, hi = ticks[0], ticks[-1]
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    left = 10 + max(_text_width(_fmt_tick(t, step), PHONE_FONT_SIZE) for t in ticks)
    plot_h = HEIGHT - TOP - MARGIN_BOTTOM
    slot = (WIDTH - left - MARGIN_RIGHT) / max(len(periods), 1)
    xpos = {p: left + (i + 0.5) * slot for i, p in enumerate(periods)}
    base, span = TOP + plot_h, hi - lo

    def y(v: float) -> float:
        return base - (v - lo) / span * plot_h

    named = (
        f'aria-labelledby="{escape(labelledby)}">'
        if labelledby
        else f"aria-label={quoteattr(label)}><title>{escape(label)}</title>"
    )
    head = (
        f'<svg class="cspa-chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" {named}'
        if compact
        else f'<svg xmlns="http://www.w3.org/2000/svg" class="cspa-chart-svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="arial,sans-serif" '
        f'font-size="{FONT_SIZE}" fill="{TEXT}" {named}'
    )
    out = [head, _frame(tuple(ticks), step, tuple(periods), left)]
    if bands:
        bands = sorted(
            (b for b in bands if str(b["period"]) in xpos), key=lambda b: xpos[str(b["period"])]
        )
        if len(bands) == 1:  # a single period: a short bar
            x0 = xpos[str(bands[0]["period"])]
            yu, yl = y(float(bands[0]["upper_quartile"])), y(float(bands[0]["lower_quartile"]))
            out.append(
                f'<rect x="{_n(x0 - 12)}" y="{_n(yu)}" width="24" height="{_n(yl - yu)}" fill="{BAND_FILL}"/>'
            )
        elif bands:
            edge = [
                f"{_n(xpos[str(b['period'])])},{_n(y(float(b['upper_quartile'])))}" for b in bands
            ]
            edge += [
                f"{_n(xpos[str(b['period'])])},{_n(y(float(b['lower_quartile'])))}"
                for b in reversed(bands)
            ]
            out.append(f'<polygon points="{" ".join(edge)}" fill="{BAND_FILL}"/>')
        med = [
            f"{_n(xpos[str(b['period'])])},{_n(y(float(b['median'])))}"
            for b in bands
            if _finite(b.get("median"))
        ]
        if len(med) > 1:
            out.append(
                f'<polyline points="{" ".join(med)}" fill="none" stroke="{MEDIAN}" '
                'stroke-width="1.5" stroke-dasharray="4 3"/>'
            )
    # comparators first, so the authority's line is drawn on top
    for i in reversed(range(len(series))):
        kind = kind_of(series[i], i)
        colour, width, dash, shape = STYLES[kind]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        line_paint = (
            f'class="l{KIND_CLASS[kind]}"'
            if compact
            else f'fill="none" stroke="{colour}" stroke-width="{width}" stroke-linejoin="round"'
            f"{dash_attr}"
        )
        ys = {p: y(v) for p, v in points[i] if p in xpos}
        segments: list[list[str]] = [[]]
        for p in periods:
            if p in ys:
                segments[-1].append(f"{_n(xpos[p])},{_n(ys[p])}")
            elif segments[-1]:
                segments.append([])
        if compact:
            # the page's stylesheet puts each kind's marker on every point of its lines (CSS
            # ``marker``, MARKER_DEFS): a lone point is a line of one point
            out += [f'<polyline points="{" ".join(seg)}" {line_paint}/>' for seg in segments if seg]
            continue
        for seg in segments:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" {line_paint}/>')
        if ys:
            marks = "".join(_marker(shape, xpos[p], yp) for p, yp in ys.items())
            paint = (
                f'class="m{KIND_CLASS[kind]}"'
                if compact
                else _MARK_PAINT.get(shape, 'fill="{c}"').format(c=colour)
            )
            out.append(f'<path d="{marks}" {paint}/>')
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
