"""A simple map of England showing an area and its statistical neighbours, as inline SVG.

``neighbour_map_svg(map_doc)`` takes the ``map`` dict of a report document (see
docs/report-spec.md): the area's and each neighbour's latitude and longitude.  Points are
placed with an equirectangular projection scaled by cos(latitude), over a rough outline of
England (about 130 coastal and border points typed in for cspa from well-known places; it
is a backdrop for orientation, not a boundary dataset).  The area is a large black square,
each neighbour a numbered blue circle labelled with its name where the label fits.

``neighbour_map_text(map_doc)`` is the text alternative: the same facts as sentences.  The
SVG itself carries ``role="img"``, an ``aria-label`` and a ``<title>`` with that text.
"""

from __future__ import annotations

import math
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["neighbour_map_svg", "neighbour_map_text"]

FONT = "arial, 'Liberation Sans', helvetica, sans-serif"

# (lat, long), clockwise from Berwick-upon-Tweed: the east coast, the south coast, Cornwall,
# the Bristol Channel, the Welsh border, the north-west coast and the Scottish border.
ENGLAND_OUTLINE: list[tuple[float, float]] = [
    (55.77, -2.00),
    (55.61, -1.71),
    (55.33, -1.58),
    (55.02, -1.42),
    (54.91, -1.37),
    (54.69, -1.19),
    (54.62, -1.07),
    (54.49, -0.61),
    (54.28, -0.40),
    (54.12, -0.08),
    (53.91, -0.17),
    (53.70, -0.03),
    (53.58, 0.11),
    (53.62, -0.20),
    (53.72, -0.45),
    (53.68, -0.62),
    (53.60, -0.40),
    (53.56, -0.07),
    (53.40, 0.20),
    (53.14, 0.34),
    (53.00, 0.05),
    (52.84, 0.20),
    (52.80, 0.40),
    (52.95, 0.49),
    (52.97, 0.85),
    (52.93, 1.30),
    (52.82, 1.53),
    (52.61, 1.73),
    (52.48, 1.76),
    (52.33, 1.68),
    (52.09, 1.58),
    (51.96, 1.35),
    (51.86, 1.27),
    (51.79, 1.15),
    (51.77, 0.92),
    (51.62, 0.95),
    (51.53, 0.80),
    (51.54, 0.60),
    (51.47, 0.40),
    (51.45, 0.55),
    (51.45, 0.75),
    (51.40, 0.85),
    (51.36, 1.03),
    (51.38, 1.44),
    (51.33, 1.42),
    (51.13, 1.31),
    (51.08, 1.17),
    (50.91, 0.98),
    (50.85, 0.57),
    (50.74, 0.24),
    (50.82, -0.14),
    (50.81, -0.37),
    (50.72, -0.79),
    (50.79, -1.09),
    (50.85, -1.38),
    (50.82, -1.31),
    (50.75, -1.54),
    (50.71, -1.75),
    (50.64, -1.94),
    (50.58, -2.06),
    (50.52, -2.45),
    (50.62, -2.56),
    (50.71, -2.76),
    (50.72, -2.94),
    (50.68, -3.24),
    (50.61, -3.41),
    (50.55, -3.49),
    (50.46, -3.53),
    (50.33, -3.57),
    (50.22, -3.64),
    (50.21, -3.79),
    (50.30, -3.95),
    (50.36, -4.14),
    (50.31, -4.22),
    (50.35, -4.45),
    (50.33, -4.64),
    (50.22, -4.80),
    (50.15, -5.07),
    (49.96, -5.20),
    (50.05, -5.35),
    (50.12, -5.54),
    (50.04, -5.66),
    (50.07, -5.72),
    (50.13, -5.71),
    (50.21, -5.48),
    (50.33, -5.20),
    (50.42, -5.08),
    (50.55, -4.94),
    (50.66, -4.75),
    (50.83, -4.55),
    (51.02, -4.53),
    (51.05, -4.19),
    (51.21, -4.12),
    (51.23, -3.83),
    (51.21, -3.47),
    (51.20, -3.10),
    (51.35, -2.98),
    (51.49, -2.77),
    (51.61, -2.62),
    (51.64, -2.68),
    (51.81, -2.72),
    (51.93, -2.97),
    (52.07, -3.13),
    (52.20, -3.04),
    (52.34, -3.05),
    (52.56, -3.15),
    (52.78, -3.09),
    (52.94, -3.06),
    (52.97, -2.75),
    (53.08, -2.88),
    (53.19, -2.93),
    (53.21, -3.02),
    (53.29, -3.07),
    (53.37, -3.18),
    (53.39, -3.18),
    (53.44, -3.04),
    (53.41, -2.99),
    (53.49, -3.04),
    (53.56, -3.10),
    (53.65, -3.01),
    (53.74, -2.96),
    (53.82, -3.06),
    (53.92, -3.01),
    (54.07, -2.87),
    (54.19, -2.83),
    (54.19, -3.09),
    (54.11, -3.23),
    (54.05, -3.26),
    (54.21, -3.27),
    (54.35, -3.41),
    (54.49, -3.61),
    (54.55, -3.59),
    (54.64, -3.57),
    (54.71, -3.50),
    (54.87, -3.39),
    (54.95, -3.21),
    (54.99, -3.06),
    (55.15, -2.80),
    (55.27, -2.59),
    (55.35, -2.48),
    (55.48, -2.15),
    (55.56, -2.25),
    (55.65, -2.25),
    (55.72, -2.16),
    (55.80, -2.03),
]
ISLE_OF_WIGHT: list[tuple[float, float]] = [
    (50.76, -1.30),
    (50.72, -1.16),
    (50.68, -1.07),
    (50.58, -1.29),
    (50.66, -1.58),
    (50.71, -1.50),
]

WIDTH = 520
PAD = 14
LAT0 = 52.8  # reference latitude for the cos(lat) scaling
AREA_COLOUR = "#0b0c0c"
NEIGHBOUR_COLOUR = "#1d70b8"


def _project(lat: float, long: float) -> tuple[float, float]:
    return long * math.cos(math.radians(LAT0)), -lat


def _bounds() -> tuple[float, float, float, float]:
    xs, ys = zip(*(_project(lat, lon) for lat, lon in ENGLAND_OUTLINE), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


_MINX, _MINY, _MAXX, _MAXY = _bounds()
_SCALE = (WIDTH - 2 * PAD) / (_MAXX - _MINX)
HEIGHT = round((_MAXY - _MINY) * _SCALE + 2 * PAD)


def _xy(lat: float, long: float) -> tuple[float, float]:
    x, y = _project(lat, long)
    return PAD + (x - _MINX) * _SCALE, PAD + (y - _MINY) * _SCALE


def _path(points: list[tuple[float, float]]) -> str:
    coords = [_xy(lat, lon) for lat, lon in points]
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords) + " Z"


def _usable(p: dict[str, Any] | None) -> bool:
    return bool(p) and all(isinstance(p.get(k), (int, float)) for k in ("lat", "long"))


def neighbour_map_text(map_doc: dict[str, Any]) -> str:
    """One paragraph saying what the map shows (its text alternative)."""
    area = (map_doc.get("area") or {}).get("name", "The area")
    group = map_doc.get("group") or "statistical neighbours"
    neighbours = sorted(
        map_doc.get("neighbours") or [], key=lambda n: (n.get("rank") is None, n.get("rank") or 0)
    )
    names = [
        f"{n['rank']}. {n['name']}" if n.get("rank") is not None else str(n["name"])
        for n in neighbours
    ]
    missing = [n["name"] for n in neighbours if not _usable(n)]
    text = f"Map of England showing {area} and its {len(neighbours)} {group}"
    text += (": " + "; ".join(names) + ".") if names else "."
    if missing:
        text += " Not plotted (no coordinates): " + ", ".join(missing) + "."
    return text


def _label_box(
    x: float, y: float, text: str, anchor: str, size: float
) -> tuple[float, float, float, float]:
    w = 0.55 * size * len(text)
    if anchor == "start":
        x0 = x
    elif anchor == "end":
        x0 = x - w
    else:
        x0 = x - w / 2
    return x0, y - size * 0.8, x0 + w, y + size * 0.25


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return not (a[2] + 2 < b[0] or b[2] + 2 < a[0] or a[3] + 1 < b[1] or b[3] + 1 < a[1])


def neighbour_map_svg(map_doc: dict[str, Any]) -> str:
    """Render the report document's ``map`` dict as one accessible inline ``<svg>``."""
    area = map_doc.get("area") or {}
    neighbours = [n for n in map_doc.get("neighbours") or [] if _usable(n)]
    label = neighbour_map_text(map_doc)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cspa-map-svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label={quoteattr(label)} font-family="{FONT}">',
        f"<title>{escape(label)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<path d="{_path(ENGLAND_OUTLINE)}" fill="#f3f2f1" stroke="#6f777b" stroke-width="1" stroke-linejoin="round"/>',
        f'<path d="{_path(ISLE_OF_WIGHT)}" fill="#f3f2f1" stroke="#6f777b" stroke-width="1"/>',
    ]

    marks: list[str] = []
    boxes: list[tuple[float, float, float, float]] = []
    labels: list[str] = []
    points: list[tuple[float, float, str, str]] = []  # x, y, label text, kind
    if _usable(area):
        ax, ay = _xy(area["lat"], area["long"])
        marks.append(
            f'<rect x="{ax - 7:.1f}" y="{ay - 7:.1f}" width="14" height="14" fill="{AREA_COLOUR}" '
            f'stroke="#ffffff" stroke-width="1.5"/>'
        )
        boxes.append((ax - 8, ay - 8, ax + 8, ay + 8))
        points.append((ax, ay, str(area.get("name", "")), "area"))
    # highest rank drawn last, so the closest neighbour's marker is on top
    for n in sorted(neighbours, key=lambda n: -(n.get("rank") or 0)):
        nx, ny = _xy(n["lat"], n["long"])
        rank = n.get("rank")
        marks.append(
            f'<circle cx="{nx:.1f}" cy="{ny:.1f}" r="7.5" fill="{NEIGHBOUR_COLOUR}" stroke="#ffffff" stroke-width="1.5"/>'
        )
        if rank is not None:
            marks.append(
                f'<text x="{nx:.1f}" y="{ny + 4:.1f}" font-size="10" font-weight="bold" fill="#ffffff" '
                f'text-anchor="middle">{int(rank)}</text>'
            )
        boxes.append((nx - 9, ny - 9, nx + 9, ny + 9))
        points.append(
            (
                nx,
                ny,
                f"{int(rank)} {n['name']}" if rank is not None else str(n["name"]),
                "neighbour",
            )
        )

    # greedy label placement: right, left, above, below; skip a name that fits nowhere
    # (its number is still on the marker and it is listed in the text beside the map)
    area_first = [p for p in points if p[3] == "area"] + sorted(
        (p for p in points if p[3] != "area"),
        key=lambda p: int(p[2].split()[0]) if p[2].split()[0].isdigit() else 0,
    )
    for x, y, text, kind in area_first:
        size = 14 if kind == "area" else 12
        weight = ' font-weight="bold"' if kind == "area" else ""
        for dx, dy, anchor in (
            (12, 4, "start"),
            (-12, 4, "end"),
            (0, -13, "middle"),
            (0, 22, "middle"),
            (12, -9, "start"),
            (-12, -9, "end"),
            (12, 16, "start"),
            (-12, 16, "end"),
        ):
            box = _label_box(x + dx, y + dy, text, anchor, size)
            if box[0] < 2 or box[2] > WIDTH - 2 or box[1] < 2 or box[3] > HEIGHT - 2:
                continue
            if any(_overlaps(box, b) for b in boxes):
                continue
            boxes.append(box)
            # a pale box behind the label keeps it readable over the outline (no paint-order:
            # WeasyPrint's SVG renderer does not support it)
            labels.append(
                f'<rect x="{box[0] - 2:.1f}" y="{box[1] - 1:.1f}" width="{box[2] - box[0] + 4:.1f}" '
                f'height="{box[3] - box[1] + 2:.1f}" rx="2" fill="#ffffff" fill-opacity="0.85"/>'
                f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" font-size="{size}"{weight} text-anchor="{anchor}" '
                f'fill="#0b0c0c">{escape(text)}</text>'
            )
            break
    out += marks + labels
    # key, top right (the North Sea)
    kx, ky = WIDTH - 200, 18
    group = str(map_doc.get("group") or "Statistical neighbours")
    out.append(
        f'<rect x="{kx}" y="{ky}" width="12" height="12" fill="{AREA_COLOUR}"/>'
        f'<text x="{kx + 18}" y="{ky + 11}" font-size="12" fill="#0b0c0c">{escape(str(area.get("name", "Area")))}</text>'
    )
    out.append(
        f'<circle cx="{kx + 6}" cy="{ky + 26}" r="6" fill="{NEIGHBOUR_COLOUR}"/>'
        f'<text x="{kx + 18}" y="{ky + 30}" font-size="12" fill="#0b0c0c">{escape(group)}</text>'
        f'<text x="{kx + 18}" y="{ky + 45}" font-size="12" fill="#0b0c0c">numbered by rank</text>'
    )
    out.append("</svg>")
    return "".join(out)
