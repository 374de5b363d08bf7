"""The read-only pages, against the prepared demo store: what they show is checked against the
engine's stored judgements (read here with SQL of the test's own)."""

from __future__ import annotations

import html
import json
import re
import statistics
import urllib.parse

import pytest

from tests.web.conftest import sign_in

# one worker runs the module, so its app (a copy of the store) is made once
pytestmark = pytest.mark.xdist_group("web-pages")


@pytest.fixture(scope="module")
def con(web_copy, app):
    # the app holds the file; read through its own connection as the tests' second reader
    with app.state.db.read() as cur:
        yield cur


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_find_luton_by_name_number_and_ons_code(client):
    for q in ("luton", "LUTON", "821", "E06000032"):
        r = client.get("/", params={"q": q})
        assert r.status_code == 200
        assert '<a class="govuk-link" href="/areas/821">Luton</a>' in r.text
        assert "1 authority matches" in text_of(r.text)
    everyone = client.get("/")
    assert everyone.text.count('href="/areas/') == 153  # every current authority, no search


def test_area_summary_cites_its_evidence(client, con):
    r = client.get("/areas/821")
    assert r.status_code == 200
    page = r.text
    assert '<h1 class="govuk-heading-xl">Luton</h1>' in page
    # each at-a-glance sentence links to the indicator page that holds its evidence
    links = re.findall(
        r'<li><strong class="govuk-tag[^"]*">(better|worse)</strong> (.*?) <a class="govuk-link" href="/areas/821/indicators/([^"?]+)\?measure=([^"]+)">',
        page,
    )
    assert links, "no at-a-glance sentences"
    assert {d for d, s, *_ in links if " from " in s and " to " in s} == {"better", "worse"}
    for direction, sentence, code, measure in links:
        code = urllib.parse.unquote(html.unescape(code))
        measure = urllib.parse.unquote(html.unescape(measure))
        row = con.execute(
            "SELECT display, rank, rank_of, rank_shared, quartile, significance, progress, period_end "
            "FROM web_latest WHERE area = '821' AND audience = 'public' AND indicator = ? AND measure = ?",
            [code, html.unescape(measure)],
        ).fetchall()
        assert row, f"{code}: the sentence cites a figure the store does not have"
        display, rank, rank_of, shared, quartile, sig, progress, end = row[0]
        sentence = html.unescape(sentence)
        assert display in sentence
        if "quarter of authorities" in sentence:
            # a rank other authorities share says so (ties share the best rank)
            others = (shared or 1) - 1
            tail = (
                f", shared with {others} other authorit{'y' if others == 1 else 'ies'}"
                if others
                else ""
            )
            assert f"rank {rank} of {rank_of}{tail})" in sentence
            assert quartile == (1 if direction == "better" else 4)
        elif "significantly" in sentence:
            assert sig in (("better", "best") if direction == "better" else ("worse", "worst"))
        else:
            assert progress == ("improved" if direction == "better" else "worsened")
            # it says what the figure moved from: Luton's figure before, as the store has it
            ((before, label),) = con.execute(
                "SELECT display, period_label FROM web_judgement WHERE area = '821' AND public "
                "AND for_area IS NULL AND indicator = ? AND measure = ? AND period_end < ? "
                "ORDER BY period_end DESC LIMIT 1",
                [code, html.unescape(measure), end],
            ).fetchall()
            assert f"{progress} from {before} in {label} to {display} in " in sentence
    # the neighbours listed are DfE's 2025 statistical neighbours of Luton, in order
    expected = [
        n
        for (n,) in con.execute(
            "SELECT coalesce(a.name, n.neighbour_name) FROM neighbour n LEFT JOIN area a ON a.code = n.neighbour_code "
            "WHERE grp = 'dfe_2025' AND la_code = '821' ORDER BY rank"
        ).fetchall()
    ]
    shown = re.findall(
        r'<li><a class="govuk-link" href="/areas/\d+">([^<]+)</a>',
        page.split("Statistical neighbours")[1],
    )
    assert shown[: len(expected)] == [html.escape(n) for n in expected]


def test_indicator_page_against_every_authority(client, con):
    # an indicator whose authorities' figures are all well above zero (so an axis forced to zero
    # would show), ranked, with a figure for Luton
    ((code, measure, period),) = con.execute(
        """SELECT indicator, measure, period FROM web_judgement
           WHERE area_type = 'la' AND for_area IS NULL AND measure = 'value' AND rank IS NOT NULL
           GROUP BY indicator, measure, period
           HAVING min(value) > 0.3 * max(value) AND count(*) > 140 AND bool_or(area = '821')
           ORDER BY indicator LIMIT 1"""
    ).fetchall()
    r = client.get(f"/areas/821/indicators/{code}", params={"measure": measure, "period": period})
    assert r.status_code == 200
    ((label,),) = con.execute(
        "SELECT any_value(period_label) FROM web_judgement WHERE indicator = ? AND period = ?",
        [code, period],
    ).fetchall()
    las = con.execute(
        "SELECT area, value, display, rank FROM web_judgement WHERE indicator = ? AND measure = ? AND period = ? "
        "AND area_type = 'la' AND for_area IS NULL AND value IS NOT NULL",
        [code, measure, period],
    ).fetchall()
    luton = next(x for x in las if x[0] == "821")
    page = r.text
    assert (
        f'<dd class="govuk-summary-list__value cspa-figure" id="area-figure">{luton[2]}</dd>'
        in page
    )
    ranked = sum(1 for x in las if x[3] is not None)
    if luton[3] is not None:
        assert f"{luton[3]} of {ranked} authorities" in text_of(page)
    # every authority with a figure is in the table; the chart's axis spans the figures, not zero
    assert page.count('<tr class="govuk-table__row') >= len(las)
    ticks = [
        float(t.replace(",", ""))
        for t in re.findall(
            r'text-anchor="middle" class="cspa-svg-text">([-\d.,]+)</text>',
            page.split("Every authority's figure")[1].split("</svg>")[0],
        )
    ]
    lo = min(x[1] for x in las)
    assert (
        ticks[0] <= lo < ticks[0] + (ticks[1] - ticks[0])
    )  # the first tick is just below the lowest figure
    assert ticks[0] > 0, "the axis was forced to start at zero"
    # the quartile bands are drawn, each labelled
    assert all(f">Q{q}</text>" in page for q in (1, 2, 3, 4))
    # the period asked for is the one chosen, and provenance names the data set and its licence
    assert f" selected>{label}</option>" in page
    assert "Open Government Licence v3.0" in page


def test_a_counts_england_total_is_left_off_the_charts_scale(client, con):
    # 10_ICPC is a count: England's figure is the sum over authorities, far above any one of
    # them; drawn on the same axis it would squeeze every authority into the left edge
    ((period, top),) = con.execute(
        """SELECT period, max(value) FILTER (WHERE area_type = 'la')
           FROM web_judgement WHERE indicator = '10_ICPC' AND measure = 'value' AND for_area IS NULL
           GROUP BY period ORDER BY max(period_end) DESC LIMIT 1"""
    ).fetchall()
    ((england,),) = con.execute(
        "SELECT display FROM web_judgement WHERE indicator = '10_ICPC' AND measure = 'value' "
        "AND period = ? AND area = 'E92000001' AND for_area IS NULL",
        [period],
    ).fetchall()
    page = client.get("/areas/821/indicators/10_ICPC", params={"period": period}).text
    strip = page.split("Every authority's figure")[1].split("</figure>")[0]
    assert f"England's figure ({england})" in text_of(strip)
    assert 'stroke-dasharray="10 4" stroke-width="2"' not in strip  # no England line
    ticks = [
        float(t.replace(",", ""))
        for t in re.findall(r'class="cspa-svg-text">([-\d.,]+)</text>', strip.split("</svg>")[0])
    ]
    assert ticks[-1] < 2 * top, f"the axis runs to {ticks[-1]}, the largest authority is {top}"
    over_time = page.split("<strong>Over time</strong>")[1].split("</figure>")[0]
    assert "England (long dashes, triangles)" not in over_time
    assert f'<td class="govuk-table__cell govuk-table__cell--numeric">{england}</td>' in page
    # a rate's England figure lies among the authorities' and is drawn
    rate = client.get("/areas/821/indicators/KS2_RWM_SCG").text
    assert 'stroke-dasharray="10 4" stroke-width="2"' in rate.split("Every authority's figure")[1]
    assert "totals over authorities" not in rate


def test_compare_three_authorities_with_their_group_average(client, con):
    r = client.get("/compare", params={"areas": "821,909,919", "indicator": "KS2_RWM_SCG"})
    assert r.status_code == 200
    page = r.text
    for name in ("Luton", "Cumbria", "Hertfordshire"):
        assert f'<th scope="row" class="govuk-table__header">{name}</th>' in page
    ((measure,),) = con.execute(
        "SELECT measure FROM measure WHERE indicator = 'KS2_RWM_SCG' ORDER BY measure = 'value' DESC, measure "
        "LIMIT 1"
    ).fetchall()
    ((period,),) = con.execute(
        "SELECT period FROM web_judgement WHERE indicator = 'KS2_RWM_SCG' AND measure = ? "
        "AND area IN ('821', '909', '919') AND value IS NOT NULL ORDER BY period_end DESC LIMIT 1",
        [measure],
    ).fetchall()
    vals = [
        v
        for (v,) in con.execute(
            "SELECT value FROM web_judgement WHERE indicator = 'KS2_RWM_SCG' AND measure = ? AND period = ? "
            "AND for_area IS NULL AND area IN ('821', '909', '919') AND value IS NOT NULL",
            [measure, period],
        ).fetchall()
    ]
    mean = statistics.mean(vals)
    group_row = page.split("Group average</th>")[1].split("</tr>")[0]
    assert re.findall(r">([\d.]+)</td>", group_row)[-1] == f"{mean:.1f}"


def test_compare_refuses_what_is_not_a_dfe_number(client):
    r = client.get("/compare", params={"areas": "821,<script>"})
    assert r.status_code == 400
    assert "<script>" not in r.text


def test_catalogue_lists_every_indicator_and_its_sources(client, con):
    n = con.execute("SELECT count(*) FROM indicator").fetchall()[0][0]
    r = client.get("/catalogue")
    assert f"{n} indicators" in r.text
    d = client.get("/catalogue/10_ICPC")
    assert "initial child protection conference should be convened" in d.text
    assert "Open Government Licence v3.0" in d.text


def test_unknown_area_and_indicator_are_404(client):
    assert client.get("/areas/999").status_code == 404
    assert client.get("/areas/821/indicators/NOPE").status_code == 404


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.text.startswith("ok: ")


def test_downloads_every_format_of_the_letter(client):
    r = client.get(
        "/areas/821/reports/letter",
        params={"format": "json", "year": 2011, "ruleset": "profile_2011"},
    )
    assert r.status_code == 200
    doc = json.loads(r.text)
    assert doc["report"] == "letter" and doc["area"]["dfe_code"] == "821"
    pdf = client.get(
        "/areas/821/reports/letter",
        params={"format": "pdf", "year": 2011, "ruleset": "profile_2011"},
    )
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert "attachment" in pdf.headers["content-disposition"]
    assert (
        client.get("/areas/821/reports/letter", params={"format": "docx", "year": 2011}).status_code
        == 404
    )


def test_a_viewer_sees_small_counts_suppressed_and_an_editor_sees_them(client, con):
    row = con.execute(
        """SELECT j.indicator, j.measure, j.period FROM web_judgement j JOIN measure m USING (indicator, measure)
           WHERE m.unit = 'count' AND j.area = '821' AND j.value BETWEEN 1 AND 5 AND j.for_area IS NULL
             AND j.public ORDER BY j.indicator LIMIT 1"""
    ).fetchall()
    assert row, "the demo has no small count for Luton"
    code, measure, period = row[0]
    url = f"/areas/821/indicators/{code}"
    anonymous = client.get(url, params={"measure": measure, "period": period}).text
    assert 'id="area-figure">c</dd>' in anonymous
    sign_in(client, "editor821")
    editor = client.get(url, params={"measure": measure, "period": period}).text
    assert 'id="area-figure">c</dd>' not in editor


def _glance_row(code: str, **fields) -> dict:
    """A row of web_latest as the area glance reads it: the indicator's latest figure, judged."""
    return {
        "indicator": code,
        "measure": "value",
        "period_label": "2021",
        "title": f"Indicator {code}",
        "display": "0.00",
        "significance": None,
        "progress": None,
        "quartile": None,
        "rank": None,
        "rank_of": None,
        **fields,
    }


def test_the_area_glance_counts_a_shared_rank_at_its_middle_place():
    """As the report's summary does (outputs.summary.place): Leeds's "rank 1 of 150, shared with 61
    other authorities" (no primary permanent exclusions, as 62 authorities) is the 31.5th place on
    average, so a rank 4 of 150 held alone comes first among the best, and at the bottom a rank 140
    shared by ten (140th to 149th) before a rank 141 held alone."""
    from cspa.app.web.pages.areas import at_a_glance

    def row(code, quartile, rank, shared):
        return _glance_row(code, quartile=quartile, rank=rank, rank_of=150, rank_shared=shared)

    rows = [row("A", 1, 1, 62), row("B", 1, 4, 1), row("C", 4, 141, 1), row("D", 4, 140, 10)]
    said = [(s["direction"], s["indicator"]) for s in at_a_glance(rows)]
    assert said == [("better", "B"), ("better", "A"), ("worse", "D"), ("worse", "C")]


def test_the_area_glance_says_what_a_figure_moved_from_biggest_rank_move_first():
    """A progress sentence names the figure before ("improved from 7.2 in 2024 to 2.1 in 2025":
    "improved to 2.1" alone does not say by how much), and the moves that took the authority's rank
    the same way come first, the biggest share of those ranked first; the rest in the catalogue's
    order."""
    from cspa.app.web.pages.areas import at_a_glance

    def row(code, progress, before_rank, rank):
        return _glance_row(
            code,
            period_label="2025",
            display="2.1",
            before_display="7.2",
            before_period_label="2024",
            progress=progress,
            rank=rank,
            before_rank=before_rank,
            rank_of=150 if rank else None,
        )

    rows = [
        row("A", "improved", None, None),
        row("B", "improved", 80, 90),  # improved, but others more: its rank fell
        row("C", "improved", 100, 40),
        row("D", "improved", 60, 50),
        row("E", "worsened", 10, 70),
        row("F", "worsened", 10, 20),
    ]
    said = at_a_glance(rows)
    assert [(s["direction"], s["indicator"]) for s in said] == [
        ("better", "C"),
        ("better", "D"),
        ("better", "A"),
        ("better", "B"),
        ("worse", "E"),
        ("worse", "F"),
    ]
    by = {s["indicator"]: s["sentence"] for s in said}
    assert (
        by["C"] == "Indicator C: improved from 7.2 in 2024 to 2.1 in 2025 (rank 100 to 40 of 150)."
    )
    assert by["B"] == "Indicator B: improved from 7.2 in 2024 to 2.1 in 2025."
    assert (
        by["E"] == "Indicator E: worsened from 7.2 in 2024 to 2.1 in 2025 (rank 10 to 70 of 150)."
    )


def test_indicator_figures_download_as_csv(client, con):
    """The indicator page's download: every authority's, region's and England's figure of every
    period (or one), each authority's with its rank and its neighbours' average, and each row
    with its publisher, vintage and licence; the figures checked against the store's judgements."""
    import csv
    import io

    ((code, measure),) = con.execute(
        """SELECT indicator, measure FROM web_judgement
           WHERE area = '821' AND for_area IS NULL AND rank IS NOT NULL AND public
           GROUP BY ALL HAVING count(DISTINCT period) >= 3 ORDER BY indicator, measure LIMIT 1"""
    ).fetchall()
    url = f"/areas/821/indicators/{urllib.parse.quote(code)}/figures.csv"
    r = client.get(url, params={"measure": measure})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    ((n_la, n_periods, group_area),) = con.execute(
        """SELECT count(*) FILTER (WHERE area_type = 'la'), count(DISTINCT period),
                  any_value(area) FILTER (WHERE area LIKE 'SN:%:821')
           FROM web_judgement WHERE indicator = ? AND measure = ? AND for_area IS NULL AND public
             AND area_type IN ('la', 'sn_group', 'region', 'country')""",
        [code, measure],
    ).fetchall()
    assert sum(x["geographic_level"] == "Local authority" for x in rows) == n_la
    assert len({x["time_period"] for x in rows}) == n_periods
    assert {x["geographic_level"] for x in rows} >= {"Local authority", "National"}
    for x in rows:
        assert x["publisher"] and x["licence"] == "Open Government Licence v3.0" and x["vintage"]
        # figures as the engine compares them: no float noise past ten decimals
        for field in ("value", "change", "neighbours_average"):
            assert len(x[field].partition(".")[2]) <= 10, (field, x[field])
    luton = {x["time_period"]: x for x in rows if x["area_code"] == "821"}
    stored = con.execute(
        """SELECT j.period, j.value, j.rank, j.rank_of, j.quartile, j.progress, sn.value
           FROM web_judgement j LEFT JOIN web_judgement sn ON sn.indicator = j.indicator
             AND sn.measure = j.measure AND sn.period = j.period AND sn.area = ? AND sn.for_area IS NULL
           WHERE j.indicator = ? AND j.measure = ? AND j.area = '821' AND j.for_area IS NULL AND j.public""",
        [group_area, code, measure],
    ).fetchall()
    assert len(luton) == len(stored) >= 3
    for period, value, rank, rank_of, quartile, progress, sn in stored:
        x = luton[period]
        assert x["area_name"] == "Luton" and x["ons_code"] == "E06000032"
        assert (float(x["value"]) if x["value"] else None) == (
            round(value, 10) if value is not None else None
        )
        assert x["rank"] == str(rank or "") and x["rank_of"] == str(rank_of or "")
        assert x["quartile"] == str(quartile or "") and x["progress"] == (progress or "")
        assert (float(x["neighbours_average"]) if x["neighbours_average"] else None) == (
            round(sn, 10) if sn is not None else None
        )
    # one period, named by its label as the page's menu shows it
    label = next(iter(luton.values()))["time_period_label"]
    one = list(
        csv.DictReader(
            io.StringIO(client.get(url, params={"measure": measure, "period": label}).text)
        )
    )
    assert one and {x["time_period_label"] for x in one} == {label}
    assert client.get(url, params={"measure": measure, "period": "1066"}).status_code == 404
    # the page links to both
    page = client.get(
        f"/areas/821/indicators/{urllib.parse.quote(code)}", params={"measure": measure}
    )
    assert (
        f"{html.escape(url.split('/indicators/')[1].split('/')[0])}/figures.csv?measure="
        in page.text
    )


def test_indicator_csv_suppresses_small_counts_for_a_viewer(client, con):
    """A count below the threshold is the suppression symbol for a viewer in the download too,
    with nothing beside it that gives it away (its counts, its change); its editor sees it."""
    import csv
    import io

    ((code, measure, period, value),) = con.execute(
        """SELECT j.indicator, j.measure, j.period, j.value FROM web_judgement j
           JOIN measure m USING (indicator, measure)
           WHERE m.unit = 'count' AND j.area = '821' AND j.value BETWEEN 1 AND 5 AND j.for_area IS NULL
             AND j.public ORDER BY j.indicator LIMIT 1"""
    ).fetchall()
    url = f"/areas/821/indicators/{urllib.parse.quote(code)}/figures.csv"

    def luton(c):
        text = c.get(url, params={"measure": measure, "period": period}).text
        return next(x for x in csv.DictReader(io.StringIO(text)) if x["area_code"] == "821")

    seen = luton(client)
    assert seen["display"] == "c" and seen["value"] == "" and seen["change"] == ""
    assert seen["numerator"] == "" and seen["denominator"] == ""
    sign_in(client, "editor821")
    assert float(luton(client)["value"]) == value
