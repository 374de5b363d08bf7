"""Charts and the neighbour map: well-formed, accessible SVG that places the given points."""

from __future__ import annotations

import itertools
import re
import time
import xml.etree.ElementTree as ET

import pytest

from cspa.outputs.charts import STYLES, chart_keys, indicator_chart_svg
from cspa.outputs.maps import neighbour_map_svg, neighbour_map_text
from tests.unit.outputs.fixture_report import fixture_report

SVG = "{http://www.w3.org/2000/svg}"


def _chart(code: str) -> dict:
    return next(i for i in fixture_report()["indicators"] if i["code"] == code)["chart"]


def test_chart_is_accessible_svg():
    chart = _chart("2022SC")
    root = ET.fromstring(indicator_chart_svg(chart))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert chart["summary"] in root.get("aria-label")
    assert root[0].tag == f"{SVG}title" and chart["summary"] in root[0].text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for label in ("2004-05", "2007-08"):
        assert label in texts
    # the key is the page's, as text (charts.chart_keys): one line style per kind of series
    assert chart_keys(chart) == [
        ("area", "Luton"),
        ("statistical_neighbours", "Statistical neighbours"),
        ("england", "England"),
    ]
    # in a report page the caption names it, and the page's stylesheet paints it
    compact = ET.fromstring(indicator_chart_svg(chart, labelledby="fc-1", compact=True))
    assert compact.get("aria-labelledby") == "fc-1" and compact.find(f"{SVG}title") is None
    assert {p.get("class") for p in compact.iter("polyline")} == {"la", "ln", "le"}


def test_series_differ_by_more_than_colour():
    svg = indicator_chart_svg(_chart("2022SC"))
    root = ET.fromstring(svg)
    lines = [p for p in root.iter(f"{SVG}polyline")]
    dashes = {p.get("stroke-dasharray") for p in lines}
    assert len(dashes) == 3  # solid (None), dashed, dotted
    # markers: round dots, square dots, filled triangles
    marks = [
        p
        for p in root.iter(f"{SVG}path")
        if p.get("stroke-width") == "9" or p.get("fill") not in (None, "none")
    ]
    caps = {p.get("stroke-linecap") for p in marks if p.get("stroke-width") == "9"}
    assert caps == {"round", "square"}
    assert any(p.get("d", "").count("z") >= 2 for p in marks)  # triangles


def test_points_are_placed_in_order_and_scale():
    chart = {
        "title": "t",
        "summary": "s",
        "y_label": None,
        "quartile_bands": None,
        "series": [
            {
                "name": "A",
                "points": [
                    {"period": "2001", "value": 10.0},
                    {"period": "2002", "value": 20.0},
                    {"period": "2003", "value": 30.0},
                ],
            }
        ],
    }
    root = ET.fromstring(indicator_chart_svg(chart))
    (line,) = root.iter(f"{SVG}polyline")
    pts = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
    xs, ys = zip(*pts, strict=True)
    assert xs[0] < xs[1] < xs[2]
    assert ys[0] > ys[1] > ys[2]  # higher values drawn higher up
    assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 0.2  # linear


def test_missing_values_break_the_line():
    chart = _chart("2054SC")  # Luton suppressed in 2001-02 and 2002-03
    root = ET.fromstring(indicator_chart_svg(chart))
    luton_lines = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke") == STYLES["area"][0]]
    assert len(luton_lines) == 1 and len(luton_lines[0].get("points").split()) == 5
    gap = {
        "title": "t",
        "summary": "s",
        "series": [
            {
                "name": "A",
                "points": [
                    {"period": "2001", "value": 1.0},
                    {"period": "2002", "value": None},
                    {"period": "2003", "value": 3.0},
                    {"period": "2004", "value": 4.0},
                ],
            }
        ],
    }
    root = ET.fromstring(indicator_chart_svg(gap))
    assert len(list(root.iter(f"{SVG}polyline"))) == 1  # 2001 alone is a marker, 2003-04 a line
    (dots,) = [p for p in root.iter(f"{SVG}path") if p.get("stroke-linecap") == "round"]
    assert dots.get("d").count("h0") == 3  # three markers


def test_quartile_band_is_shaded_with_median():
    chart = _chart("3067AC")
    svg = indicator_chart_svg(chart)
    assert 'fill="#d2e2f1"' in svg
    assert ("iqr", "England interquartile range") in chart_keys(chart)
    assert ("median", "England median") in chart_keys(chart)
    root = ET.fromstring(svg)
    band = [p for p in root.iter(f"{SVG}polygon") if p.get("fill") == "#d2e2f1"]
    assert len(band) == 1 and len(band[0].get("points").split()) == 6


@pytest.mark.parametrize(
    "chart",
    [
        {
            "title": "flat",
            "summary": "s",
            "series": [
                {
                    "name": "A",
                    "points": [{"period": "2001", "value": 5.0}, {"period": "2002", "value": 5.0}],
                }
            ],
        },
        {
            "title": "one point",
            "summary": "s",
            "series": [{"name": "A", "points": [{"period": "2001", "value": -2.5}]}],
            "quartile_bands": [
                {"period": "2001", "lower_quartile": -3, "median": -2, "upper_quartile": 0}
            ],
        },
        {"title": "empty", "summary": "", "series": []},
        {
            "title": "small <&> values",
            "summary": 'a "quoted" & <tagged> summary',
            "series": [
                {
                    "name": "A & B",
                    "points": [{"period": "Q1", "value": 0.001}, {"period": "Q2", "value": 0.004}],
                }
            ],
        },
    ],
)
def test_awkward_charts_still_give_valid_svg(chart):
    root = ET.fromstring(indicator_chart_svg(chart))
    assert root.get("role") == "img"
    assert "nan" not in ET.tostring(root, encoding="unicode").lower().replace("none", "")


def test_hand_written_chart_is_fast():
    chart = _chart("3067AC")
    t = time.perf_counter()
    for _ in range(200):
        indicator_chart_svg(chart)
    assert (time.perf_counter() - t) / 200 < 0.01


def test_vega_engine_gives_the_same_accessible_wrapper():
    pytest.importorskip("vl_convert")
    chart = _chart("3067AC")
    svg = indicator_chart_svg(chart, engine="vega")
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and chart["summary"] in root.get("aria-label")
    assert not re.search(r"<(?!svg)[^>]*\srole=", svg)  # Vega's own ARIA roles removed
    with pytest.raises(ValueError):
        indicator_chart_svg(chart, engine="matplotlib")


def test_map_marks_and_labels_area_and_neighbours():
    m = fixture_report()["map"]
    svg = neighbour_map_svg(m)
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == neighbour_map_text(m)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Luton" in texts
    labelled = [t for t in texts if t and re.match(r"^\d+ ", t)]
    assert len(labelled) >= 8  # most neighbours labelled by name; numbers on every marker
    for rank in range(1, 11):
        assert str(rank) in texts
    # markers are where the coordinates say: Luton east of Birmingham, south of Bradford
    area = next(r for r in root.iter(f"{SVG}rect") if r.get("width") == "14")
    ax, ay = float(area.get("x")) + 7, float(area.get("y")) + 7
    marker = {
        int(t.text): (float(t.get("x")), float(t.get("y")))
        for t in root.iter(f"{SVG}text")
        if t.get("font-size") == "10"
    }
    assert sorted(marker) == list(range(1, 11))
    assert ax > marker[1][0] and ay > marker[2][1]
    assert marker[3][1] > ay  # Slough is south of Luton
    text = neighbour_map_text(m)
    assert text.startswith(
        "Map of England showing Luton and its 10 NFER statistical neighbours: 1. Birmingham; 2. Bradford;"
    )


def test_map_without_coordinates_says_so():
    m = {
        "area": {"name": "Bedfordshire", "lat": None, "long": None},
        "neighbours": [
            {"name": "Cheshire", "lat": None, "long": None, "rank": 1},
            {"name": "Luton", "lat": 51.89, "long": -0.42, "rank": 2},
        ],
    }
    svg = neighbour_map_svg(m)
    ET.fromstring(svg)
    assert "Not plotted (no coordinates): Cheshire." in neighbour_map_text(m)


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (80.2, 88.4, [80, 82, 84, 86, 88, 90]),  # steps of 1, 2 or 5 (not 2.5: "82, 85, 88")
        (57.4467, 61.2, [57, 58, 59, 60, 61, 62]),
        (0.031, 0.046, [0.03, 0.035, 0.04, 0.045, 0.05]),
        (1200, 9800, [0, 2000, 4000, 6000, 8000, 10000]),
    ],
)
def test_ticks_are_nice_and_evenly_labelled(lo, hi, ticks):
    from cspa.outputs.charts import _fmt_tick, _ticks

    got = _ticks(lo, hi)
    assert got == pytest.approx(ticks)
    step = got[1] - got[0]
    labels = [_fmt_tick(t, step) for t in got]
    # every label has the same decimals and the gaps between labels are equal
    assert len({len(x.split(".")[1]) if "." in x else 0 for x in labels}) == 1
    values = [float(x.replace(",", "")) for x in labels]
    assert len({round(b - a, 9) for a, b in itertools.pairwise(values)}) == 1


def test_the_axis_starts_near_the_figures_not_at_zero():
    from cspa.outputs.charts import _ticks

    assert _ticks(62.0, 68.0)[0] == 62  # not 0
    assert _ticks(-3.2, -1.1)[-1] <= 0


def test_the_same_kind_of_series_is_drawn_the_same_way_in_every_report():
    """A target is never drawn as neighbours are (issue 18: the quarterly report's target took the
    APA report's neighbour style by position)."""
    pts = [{"period": "2021", "value": 1.0}, {"period": "2022", "value": 2.0}]
    quarterly = {
        "title": "q",
        "summary": "s",
        "series": [
            {"name": "Luton actual", "kind": "area", "points": pts},
            {"name": "Luton target", "kind": "target", "points": pts},
            {"name": "National", "kind": "england", "points": pts},
        ],
    }
    apa = {
        "title": "a",
        "summary": "s",
        "series": [
            {"name": "Luton", "kind": "area", "points": pts},
            {"name": "Statistical neighbours", "kind": "statistical_neighbours", "points": pts},
            {"name": "England", "kind": "england", "points": pts},
        ],
    }

    def styles(chart):
        root = ET.fromstring(indicator_chart_svg(chart))
        return [(p.get("stroke"), p.get("stroke-dasharray")) for p in root.iter(f"{SVG}polyline")]

    q, a = styles(quarterly), styles(apa)
    # drawn last series first: England, then the target or the neighbours, then the authority
    assert q[0] == a[0] == (STYLES["england"][0], STYLES["england"][2])
    assert q[1] != a[1]  # a target is not drawn as neighbours are
    assert q[1] == (STYLES["target"][0], STYLES["target"][2])
    assert q[2] == a[2]  # the authority the same in both
