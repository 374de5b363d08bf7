"""The APA dataset report for Luton 2008 reproduces what seed 000 prints, through the report JSON.

The engine's golden tests check every figure; these check that the *report* carries them: every
indicator of the seed's contents appears, and the printed figures, bands, lights and quartile
positions are in the report's observations and judgements under the JSON contract of issue 6
(geography area / statistical_neighbours / england / region / name as printed; period as printed).
"""

from __future__ import annotations

import re

import pytest

from cspa.catalogue.areas import load_areas
from cspa.catalogue.load import load_catalogue
from cspa.outputs.document_apa import build_apa_document
from tests.golden.cases import read_cases
from tests.seeds import seed_lines

LINES = seed_lines()
CONTENTS = [m.group(1) for line in LINES[47:203] if (m := re.match(r"^(\d{4}[A-Z]{2})\t", line))]


@pytest.fixture(scope="module")
def doc(demo_con):
    return build_apa_document(demo_con, "Luton", 2008, "apa2008")


def test_every_contents_indicator_appears_in_order(doc):
    codes = [i["code"] for i in doc["indicators"]]
    assert sorted(set(CONTENTS) - set(codes)) == []
    # the report follows the seed's outcome order: the first and last sections
    assert (
        doc["sections"][0]["title"] == "Being healthy"
        and doc["sections"][0]["subsections"][0]["indicators"][0] == "1003HC"
    )
    assert doc["sections"][-1]["title"] == "Appendices"


def test_envelope(doc):
    assert doc["report"] == "apa-dataset"
    assert doc["area"] == {
        "name": "Luton",
        "dfe_code": "821",
        "ons_code": "E06000032",
        "region": "East of England",
    }
    assert any("Version 2 - Final" in a for a in doc["attribution"])
    nfer = next(a for a in doc["appendices"] if a["group"] == "nfer_2007")
    assert len(nfer["neighbours"]) == 10


def _geo(area_ref: str) -> str:
    a = load_areas().resolve(area_ref)
    if a.code == "821" or (a.type in ("dat", "yot") and a.parent == "821"):
        return "area"
    if a.code.startswith("SN:"):
        return "statistical_neighbours"
    if a.code == "E92000001":
        return "england"
    if a.code == "E12000006":
        return "region"
    return a.name


def _report_cases() -> list:
    """The seed-000 cases the report is checked against.

    Rule and computed cases are all checked here as well as in the engine's golden test: the
    report must show the judgement the engine made. A ``display`` case (a stored figure formatted)
    is checked in full by the engine's golden test (tests/golden/test_seed000_engine.py); the
    report copies the engine's ``display`` and ``status`` as they are, so here one display case
    per indicator, measure and field is enough to show that each table carries them through.
    """
    seen: set[tuple] = set()
    out = []
    for c in read_cases("seed000_*.csv"):
        if c.statistic != "value" or c.field not in (
            "display",
            "band",
            "band_range",
            "traffic_light",
            "quartile_position",
            "status",
        ):
            continue
        if c.kind == "display":
            key = (c.indicator, c.measure, c.field)
            if key in seen:
                continue
            seen.add(key)
        out.append(c)
    return out


REPORT_CASES = _report_cases()


def _params():
    for c in REPORT_CASES:
        marks = [pytest.mark.golden]
        if c.xfail:
            marks.append(
                pytest.mark.xfail(strict=True, reason=f"seed 000 line {c.seed_line}: {c.xfail}")
            )
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.fixture(scope="module")
def by_key(doc):
    cat = load_catalogue()
    out: dict[tuple, list[dict]] = {}
    for ind in doc["indicators"]:
        for kind in ("observations", "judgements"):
            for o in ind[kind]:
                out.setdefault((kind, ind["code"], o["measure_id"], o["geography"]), []).append(o)
    return cat, out


def test_report_carries_at_least_150_printed_figures():
    assert len([c for c in REPORT_CASES if not c.xfail]) >= 150


@pytest.mark.parametrize("case", list(_params()))
def test_report_case(case, by_key):
    from cspa.catalogue.periods import parse_period

    cat, idx = by_key
    kind = "observations" if case.field in ("display", "status") else "judgements"
    rows = idx.get((kind, case.indicator, case.measure, _geo(case.area)), [])
    hit = [r for r in rows if r["period"] == case.period]
    if not hit:
        yt = cat.get(case.indicator).year_type.value
        key = parse_period(case.period, yt).key
        hit = [r for r in rows if parse_period(r["period"], yt).key == key]
    assert hit, (
        f"no {kind[:-1]} for {case.indicator}/{case.measure}/{_geo(case.area)} {case.period}"
    )
    field = {
        "band": "band",
        "band_range": "band_range",
        "traffic_light": "traffic_light",
        "quartile_position": "quartile_position",
        "display": "display",
        "status": "status",
    }[case.field]
    got = hit[0][field]
    expected = case.expected.lower() if field == "traffic_light" else case.expected
    assert (str(got) if got is not None else None) == expected


@pytest.mark.golden
def test_judgement_columns_print_the_seeds_quartile_position_and_improving(doc):
    """Seed 000 prints 3067AC's quartile position and "Improving?" in columns beside each year's
    figure for 20 hours or more a week (000:L4045, L4050); the HTML table shows them in columns of
    their own, as text, under Luton's heading. The seed prints no rank: no table has a rank column."""
    from cspa.outputs.html import render_html

    page = render_html(doc)
    start = page.index('id="ind-3067AC"')
    table = page[start : page.index("</table>", start)]
    head = table[: table.index("</thead>")]
    subs = re.findall(r"<th scope=col[^>]*>([^<]+)</th>", head)
    assert subs[:4] == ["Figure", "Quartile position", "Progress", "Trend"]
    group = table[table.index(">20 hours or more a week (159d)</th>") :]
    for line, period in ((4045, "2003-04"), (4050, "2004-05")):
        printed = LINES[line].split(
            "\t"
        )  # measure, area, SN, lower quartile, median, upper quartile, position, improving?
        row = re.search(
            r"<tr><th scope=row>" + period + r"</th>(.*?)</tr>",
            group,
            flags=re.S,
        ).group(1)
        cells = [
            re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        assert cells[0] == printed[1]  # Luton's figure
        assert cells[1] == printed[6].replace("'", "&#39;")  # Best Q'tile
        assert cells[3] == printed[7]  # Improving
    assert ">Rank</th>" not in page


# ------------------------------------------------------------------ issue 17: judged, dated, drawn


def _subject_series(ind: dict) -> dict[tuple[str, str], list[dict]]:
    """The subject's figures with both counts (not the comparators'), by measure and geography."""
    out: dict[tuple[str, str], list[dict]] = {}
    for o in ind["observations"]:
        if o["geography"] in ("england", "statistical_neighbours", "region"):
            continue
        if o["numerator"] is not None and o["denominator"] is not None:
            out.setdefault((o["measure_id"], o["geography"]), []).append(o)
    return out


def test_every_figure_with_counts_has_a_computed_significance_for_its_latest_period(doc):
    """Each indicator with a numerator and denominator is judged by the engine itself (not from a
    printed flag) for Luton's latest period that has them: higher, lower or similar, with the method,
    level and comparator in its basis."""
    judged = []
    for ind in doc["indicators"]:
        columns = ind["table"]["columns"]
        for (mid, geo), figures in _subject_series(ind).items():
            latest = max(figures, key=lambda o: columns.index(o["period"]))
            j = [
                x
                for x in ind["judgements"]
                if (x["measure_id"], x["geography"], x["period"]) == (mid, geo, latest["period"])
            ]
            assert j, f"{ind['code']}/{mid}/{geo} {latest['period']}: no judgement"
            assert j[0]["significance"] in ("higher", "lower", "similar"), (ind["code"], j[0])
            basis = j[0]["significance_basis"]
            assert basis["method"] and basis["level"] in (95.0,) and basis["comparator"], basis
            judged.append(ind["code"])
    # the seed's indicators printed with counts (000:L219-472, L671, L4848, L5570-5760)
    assert set(judged) >= {"1003HC", "1015HC", "1029HC", "1030HC", "1032OF", "1040NT", "2061YJ"}
    assert set(judged) >= {"5041DE", "5042DE", "5044DE", "5045DE", "5046DE"}


def test_the_published_flag_stays_beside_the_computed_one(doc):
    """1003HC 2006/07: the engine says lower (Wilson 57.1-60.5% against England's 69.6%); the seed
    printed '-' (000:L221): both are in the judgement, with a note, and the table's column says both."""
    ind = next(i for i in doc["indicators"] if i["code"] == "1003HC")
    j = next(
        x for x in ind["judgements"] if (x["period"], x["geography"]) == ("2006/07", "LUTON PCT")
    )
    assert (j["significance"], j["published_significance"]) == ("lower", "-")
    assert j["significance_basis"]["comparator"] == "england"
    assert "57.12-60.53" in j["significance_basis"]["text"]
    assert j["significance_note"].startswith("published flag - (similar), computed lower")
    group = j["significance_vs_group"]
    assert (group["comparator"], group["significance"], group["published_significance"]) == (
        "benchmark_group",
        "lower",
        "-",
    )
    cell = next(
        c
        for g in ind["table"]["row_groups"]
        for r in g["rows"]
        for c in r["cells"]
        if c.get("_judgements") and c["display"] == "58.8%"
    )
    shown = {e["key"]: e["display"] for e in cell["_judgements"]}
    assert shown["significance"] == "Lower (published: not significant)"


def test_agreement_with_the_printed_flags_is_counted(doc):
    """21 of the 42 flags seed 000 prints agree with the engine (the golden significance cases)."""
    a = doc["significance_agreement"]
    assert (a["agree"], a["compared"], a["percent"]) == (21, 42, 50.0)
    assert "21 of the 42" in a["note"]


def test_the_2008_document_shows_only_what_was_published_by_september_2008(doc):
    """DfE's 2018 exclusions file revises 2006/07 and adds 2007/08 to 2016/17; the 2008 dataset
    (produced September 2008, 000:L11) shows the three years it printed (000:L3938-3943), and the
    revisions stay in the store as history."""
    for code in ("3091DE", "3092DE"):
        ind = next(i for i in doc["indicators"] if i["code"] == code)
        assert ind["table"]["columns"] == ["2005", "2006", "2007"]
        assert not [o for o in ind["observations"] if "2018" in (o["basis"] or "")]


def test_no_change_across_the_tariff_break(doc):
    """5003OF: the points scale changed in 2006 (000:L5391), so 05/06 prints n/a, not 426.22, and
    2006 has no progress (not 'Improved')."""
    ind = next(i for i in doc["indicators"] if i["code"] == "5003OF")
    change = [o for o in ind["observations"] if o["measure_id"] == "aps_student_change"]
    assert {o["display"] for o in change if o["period"] == "05/06"} == {"n/a"}
    assert all("break in the series" in o["basis"] for o in change if o["period"] == "05/06")
    assert not [j for j in ind["judgements"] if j["period"] == "2006" and j["progress"] is not None]


@pytest.mark.parametrize(("code", "subject"), [("1003HC", "LUTON PCT"), ("1030HC", "LUTON PCT")])
def test_charts_draw_the_subject(doc, code, subject):
    """1003HC and 1030HC print Luton's figures under its PCT and community trust (000:L220, L457):
    their charts draw those first, then the comparators."""
    ind = next(i for i in doc["indicators"] if i["code"] == code)
    names = [s["name"] for s in ind["chart"]["series"]]
    assert subject in names and names[-1] == "England"
    assert names.index(subject) < names.index("England")
