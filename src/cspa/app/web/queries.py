"""What the pages and the API read: areas, indicators and judged figures, as plain rows.

Every query reads the web table of judgements (:mod:`cspa.app.web.database`) or the store's
reference tables, with parameters (never text pasted into SQL). Figures people typed and have not
published are left out for a viewer (``public``), and counts below the catalogue's small-number
threshold are shown as its suppression symbol (:func:`suppress`).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import duckdb

from cspa.catalogue.load import load_catalogue
from cspa.catalogue.vocabulary import small_number_rule as _rule
from cspa.engine.polarity import COMPARED_DECIMALS

ENGLAND = "E92000001"


def rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    res = cur.execute(sql, params or [])
    cols = [d[0] for d in res.description]
    return [dict(zip(cols, r, strict=True)) for r in res.fetchall()]


# ------------------------------------------------------------------ small numbers


@lru_cache(maxsize=1)
def small_number_rule() -> tuple[float, str, tuple[str, ...]]:
    """(threshold, symbol, units) of the catalogue's small-number rule (vocabulary.yaml)."""
    rule = _rule()
    return rule.below, rule.symbol, rule.units


def suppress(row: dict, viewer: bool) -> dict:
    """A viewer sees an authority's count below the threshold as the suppression symbol."""
    if not viewer:
        return row
    below, symbol, units = small_number_rule()
    v = row.get("value")
    if (
        row.get("unit") in units
        and row.get("area_type") == "la"
        and v is not None
        and 0 < v < below
    ):
        return {**row, "value": None, "display": symbol, "status": symbol, "suppressed": True}
    return row


# ------------------------------------------------------------------ areas


def areas(cur: duckdb.DuckDBPyConnection, q: str | None = None) -> list[dict]:
    """Current local authorities (those of 2025), optionally matching ``q`` (name, DfE or ONS code)."""
    where, params = "", []
    if q and q.strip():
        where = "AND (a.name ILIKE ? OR a.dfe_code = ? OR upper(a.ons_code) = upper(?))"
        text = q.strip()
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = where.replace("ILIKE ?", "ILIKE ? ESCAPE '\\'")
        params = [like, text, text]
    return rows(
        cur,
        f"""SELECT a.dfe_code, a.name, a.ons_code, a.la_type, r.name AS region
            FROM area a LEFT JOIN area r ON r.code = a.region_code
            WHERE a.type = 'la' AND a.dfe_code IS NOT NULL AND coalesce(a.in_2025, FALSE) {where}
            ORDER BY a.name""",
        params,
    )


def area(cur: duckdb.DuckDBPyConnection, dfe: str) -> dict | None:
    """One authority by DfE number (current or abolished), with its region."""
    found = rows(
        cur,
        """SELECT a.code, a.dfe_code, a.name, a.ons_code, a.la_type, a.in_2008, a.in_2025,
                  a.exists_from, a.exists_until, a.successors, a.region_code, r.name AS region
           FROM area a LEFT JOIN area r ON r.code = a.region_code
           WHERE a.type = 'la' AND a.dfe_code = ?""",
        [dfe],
    )
    return found[0] if found else None


def neighbours(cur: duckdb.DuckDBPyConnection, area_code: str, group: str) -> list[dict]:
    return rows(
        cur,
        """SELECT n.rank, n.neighbour_code AS code, coalesce(a.name, n.neighbour_name) AS name,
                  a.dfe_code, n.closeness
           FROM neighbour n LEFT JOIN area a ON a.code = n.neighbour_code
           WHERE n.grp = ? AND n.la_code = ? ORDER BY n.rank""",
        [group, area_code],
    )


def neighbour_group_info(cur: duckdb.DuckDBPyConnection, group: str) -> dict | None:
    found = rows(cur, "SELECT * FROM neighbour_group WHERE grp = ?", [group])
    return found[0] if found else None


# ------------------------------------------------------------------ indicators


def topic_of(definition_json: str | None, section: str | None, framework: str) -> str:
    d = json.loads(definition_json) if definition_json else {}
    return d.get("topic") or section or framework


def indicators(
    cur: duckdb.DuckDBPyConnection, framework: str | None = None, q: str | None = None
) -> list[dict]:
    where, params = ["TRUE"], []
    if framework:
        where.append("i.framework = ?")
        params.append(framework)
    if q and q.strip():
        where.append("(i.title ILIKE ? OR i.code ILIKE ?)")
        params += [f"%{q.strip()}%", f"%{q.strip()}%"]
    out = rows(
        cur,
        f"""SELECT i.code, i.framework, i.title, i.outcome, i.section, i.unit, i.polarity,
                   i.year_type, i.definition_json
            FROM indicator i WHERE {" AND ".join(where)} ORDER BY i.framework, i.code""",
        params,
    )
    for r in out:
        r["topic"] = topic_of(r.pop("definition_json"), r["section"], r["framework"])
    return out


def indicator(cur: duckdb.DuckDBPyConnection, code: str) -> dict | None:
    """One indicator's definition (from the catalogue) with its measures (from the store)."""
    found = rows(cur, "SELECT * FROM indicator WHERE code = ?", [code])
    if not found:
        return None
    ind = found[0]
    d = json.loads(ind.pop("definition_json") or "{}")
    ind["definition"] = d.get("definition")
    ind["topic"] = topic_of(json.dumps(d), ind["section"], ind["framework"])
    ind["notes"] = d.get("notes") or []
    ind["source"] = d.get("source")
    ind["short_title"] = d.get("short_title")
    ind["measures"] = rows(
        cur,
        """SELECT measure, label, unit, polarity, neighbour_group, quartiles, ranks, trend, light_rule
           FROM measure WHERE indicator = ? ORDER BY measure = 'value' DESC, measure""",
        [code],
    )
    fw = load_catalogue().frameworks.get(ind["framework"])
    ind["framework_title"] = fw.title if fw else ind["framework"]
    ind["licence"] = fw.licence if fw else None
    ind["publisher"] = fw.publisher if fw else None
    ind["vintage"] = fw.vintage if fw else None
    return ind


def neighbour_group_for(ind: dict, measure: dict, period: str | None = None) -> str | None:
    """The measure's own neighbour group, else its framework's default (catalogue data)."""
    if measure.get("neighbour_group"):
        return measure["neighbour_group"]
    fw = load_catalogue().frameworks.get(ind["framework"])
    if fw is None:
        return None
    groups = fw.default_neighbour_group
    return groups.get(period or "", groups.get("default"))


_FIGURE_COLS = """j.indicator, j.measure, j.area, j.area_type, j.for_area, j.period, j.period_label,
    j.period_end, j.value, j.display, j.status, j.vintage, j.basis, j.source, j.band, j.traffic_light,
    j.light_basis, j.rank, j.rank_of, j.rank_shared, j.quartile, j.distribution_basis, j.quartile_position,
    j.change, j.progress, j.improving, j.progress_basis, j.trend, j.trend_basis, j.significance,
    j.significance_basis, j.public, m.unit, m.polarity, m.label AS measure_label"""


def _public(alias: str, public_only: bool, own: str | None) -> tuple[str, list]:
    """SQL keeping public figures only, or those and ``own`` authority's (its own editors)."""
    if not public_only:
        return "", []
    if own is None:
        return f"AND {alias}public", []
    return f"AND ({alias}public OR {alias}area = ?)", [own]


def periods(
    cur: duckdb.DuckDBPyConnection,
    code: str,
    measure: str,
    public_only: bool,
    own: str | None = None,
) -> list[dict]:
    sql, params = _public("", public_only, own)
    return rows(
        cur,
        f"""SELECT period, any_value(period_label) AS period_label, max(period_end) AS period_end
            FROM web_judgement WHERE indicator = ? AND measure = ? AND area_type = 'la'
              AND value IS NOT NULL {sql}
            GROUP BY period ORDER BY max(period_end)""",
        [code, measure, *params],
    )


def figures(
    cur: duckdb.DuckDBPyConnection,
    code: str,
    measure: str,
    period: str,
    public_only: bool,
    own: str | None = None,
) -> list[dict]:
    """Every area's figure for one indicator, measure and period (authorities, regions, England,
    neighbour averages), ranked authorities first."""
    sql, params = _public("j.", public_only, own)
    return rows(
        cur,
        f"""SELECT {_FIGURE_COLS}, a.name AS area_name, a.dfe_code
            FROM web_judgement j JOIN measure m ON m.indicator = j.indicator AND m.measure = j.measure
            LEFT JOIN area a ON a.code = j.area
            WHERE j.indicator = ? AND j.measure = ? AND j.period = ? AND j.for_area IS NULL {sql}
            ORDER BY j.area_type <> 'la', j.rank NULLS LAST, a.name""",
        [code, measure, period, *params],
    )


def indicator_figures(
    cur: duckdb.DuckDBPyConnection,
    code: str,
    measure: str,
    period: str | None,
    group: str | None,
    public_only: bool,
    own: str | None = None,
) -> list[dict]:
    """Every authority's, region's and England's figure of one indicator and measure (one period or
    every period), each authority's with its statistical neighbours' average beside it (the ``group``'s
    figure for it): the indicator page's figures as one table, period by period."""
    sql, params = _public("j.", public_only, own)
    # a neighbour average is public where its figures are (an SN area is never an editor's own)
    sn_sql, sn_params = _public("sn.", public_only, None)
    one = "AND (j.period = ? OR j.period_label = ?)" if period else ""
    return rows(
        cur,
        f"""SELECT j.indicator, j.measure, j.period, j.period_label, j.period_end, j.area_type, j.area,
                   a.dfe_code, a.ons_code, a.name AS area_name, j.value, j.display, j.numerator,
                   j.denominator, j.status, j.rank, j.rank_of, j.rank_shared, j.quartile,
                   sn.value AS neighbours_value, sn.display AS neighbours_display,
                   j.change, j.progress, j.trend, j.significance, j.source, j.vintage,
                   m.unit, m.polarity, m.label AS measure_label
            FROM web_judgement j JOIN measure m ON m.indicator = j.indicator AND m.measure = j.measure
            LEFT JOIN area a ON a.code = j.area
            LEFT JOIN web_judgement sn ON sn.indicator = j.indicator AND sn.measure = j.measure
                 AND sn.period = j.period AND sn.for_area IS NULL AND j.area_type = 'la'
                 AND sn.area = 'SN:' || ? || ':' || j.area {sn_sql}
            WHERE j.indicator = ? AND j.measure = ? AND j.for_area IS NULL
              AND j.area_type IN ('la', 'region', 'country') {one} {sql}
            ORDER BY j.period_end, j.area_type = 'country' DESC, j.area_type = 'region' DESC,
                     j.rank NULLS LAST, a.name""",
        [group, *sn_params, code, measure, *([period, period] if period else []), *params],
    )


_LEVEL = {"la": "Local authority", "region": "Regional", "country": "National"}
#: where a figure comes from, in words (the engine's ``source``: the area's own figure as loaded, a
#: comparator's published figure, or one cspa computed, such as a pooled England figure)
_ORIGIN = {"input": "as loaded", "published": "as loaded", "computed": "computed by cspa"}


def _tidy(v: object) -> object:
    # figures as the engine compares them (polarity.COMPARED_DECIMALS): LAIT's spreadsheets hold
    # float noise (2.4000000000000004 beside 2.4) that a download should not pass on
    return round(v, COMPARED_DECIMALS) + 0.0 if isinstance(v, float) else v


def indicator_table(
    cur: duckdb.DuckDBPyConnection,
    ind: dict,
    measure: str | None,
    period: str | None,
    viewer: bool,
    own: str | None = None,
) -> tuple[dict | None, list[dict]]:
    """The measure (``measure``, else the indicator's first; None for a measure it does not have)
    and :func:`indicator_figures` for it as a table to take away: each row with its level in
    words, its neighbour group, where it comes from, and the data set, publisher and licence; small
    counts suppressed for a ``viewer`` with nothing beside them that gives them away; float noise
    dropped."""
    ms = {m["measure"]: m for m in ind["measures"]}
    # a script that names a measure gets that measure or nothing, never another one's figures
    m = ms.get(measure) if measure else (ind["measures"][0] if ind["measures"] else None)
    if m is None:
        return None, []
    group = neighbour_group_for(ind, m)
    found = indicator_figures(
        cur, ind["code"], m["measure"], period, group, viewer or own is not None, own
    )
    out = []
    for f in found:
        f = suppress(f, viewer)
        if f.get("suppressed"):
            # a count below the threshold: its counts and change would give it away
            f = {**f, "numerator": None, "denominator": None, "change": None}
        out.append(
            {
                **{k: _tidy(v) for k, v in f.items() if k != "source"},
                "indicator_title": ind["title"],
                "geographic_level": _LEVEL.get(f["area_type"], f["area_type"]),
                "neighbour_group": group if f["area_type"] == "la" else None,
                "origin": _ORIGIN.get(f["source"], f["source"]),
                "data_set": ind["framework_title"],
                "publisher": ind["publisher"],
                "licence": ind["licence"],
            }
        )
    return m, out


def table_refusal(
    ind: dict, measure: str | None, period: str | None, m: dict | None, found: list[dict]
) -> str | None:
    """Why :func:`indicator_table`'s answer is no table (a measure or period the indicator does not
    have), in a sentence naming what it has; None where there is a table."""
    if m is None:
        names = ", ".join(x["measure"] for x in ind["measures"]) or "none"
        return f"Indicator {ind['code']!r} has no measure {measure!r} (its measures: {names})."
    if period and not found:
        return f"Indicator {ind['code']!r} has no figures for the period {period!r}."
    return None


def series(
    cur: duckdb.DuckDBPyConnection,
    code: str,
    measure: str,
    area_codes: list[str],
    public_only: bool,
) -> list[dict]:
    """Figures over time for the areas named (an authority, its neighbour average, its region, England)."""
    return rows(
        cur,
        f"""SELECT {_FIGURE_COLS}, a.name AS area_name, a.dfe_code
            FROM web_judgement j JOIN measure m ON m.indicator = j.indicator AND m.measure = j.measure
            LEFT JOIN area a ON a.code = j.area
            WHERE j.indicator = ? AND j.measure = ? AND j.area IN (SELECT unnest(?))
              AND j.for_area IS NULL {"AND j.public" if public_only else ""}
            ORDER BY j.area, j.period_end""",
        [code, measure, area_codes],
    )


def area_latest(cur: duckdb.DuckDBPyConnection, area_code: str, public_only: bool) -> list[dict]:
    """The area's latest figure of every indicator and measure, with England's and its
    neighbours' figures for the same period (precomputed for every area: web_latest)."""
    return rows(
        cur,
        "SELECT * FROM web_latest WHERE area = ? AND audience = ? ORDER BY framework, indicator, measure",
        [area_code, "public" if public_only else "all"],
    )


def observations(
    cur: duckdb.DuckDBPyConnection,
    area_code: str,
    *,
    indicator: str | None,
    period: str | None,
    public_only: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[dict]]:
    """The area's current observations (as loaded), filtered, one page of them."""
    where = ["o.area = ?"]
    params: list[Any] = [area_code]
    if indicator:
        where.append("o.indicator = ?")
        params.append(indicator)
    if period:
        where.append("(o.period = ? OR o.period_label = ?)")
        params += [period, period]
    if public_only:
        where.append("o.source NOT IN ('quarterly template', 'web form')")
    w = " AND ".join(where)
    total = cur.execute(f"SELECT count(*) FROM observation_current o WHERE {w}", params).fetchall()[
        0
    ][0]
    found = rows(
        cur,
        f"""SELECT o.indicator, o.measure, o.area, o.period, o.period_label, o.statistic, o.value,
                   o.numerator, o.denominator, o.status, o.text, o.provisional, o.source, o.vintage,
                   o.licence, a.type AS area_type, m.unit
            FROM observation_current o LEFT JOIN area a ON a.code = o.area
            LEFT JOIN measure m ON m.indicator = o.indicator AND m.measure = o.measure
            WHERE {w} ORDER BY o.indicator, o.measure, o.period_end, o.statistic
            LIMIT {int(limit)} OFFSET {int(offset)}""",
        params,
    )
    return total, found


def judgements(
    cur: duckdb.DuckDBPyConnection,
    area_code: str,
    *,
    indicator: str | None,
    period: str | None,
    geography: str | None,
    public_only: bool,
    limit: int,
    offset: int,
) -> tuple[int, list[dict]]:
    """Judged figures for the area and its comparators (geography: la, sn_group, region, country)."""
    where = [
        "(j.area = ? OR j.for_area = ? OR (j.area_type = 'sn_group' AND j.area LIKE 'SN:%:' || ?) "
        "OR j.area_type IN ('country', 'region'))"
    ]
    params: list[Any] = [area_code, area_code, area_code]
    if indicator:
        where.append("j.indicator = ?")
        params.append(indicator)
    else:
        # England and regions belong to an area's answer only for the indicators it has
        where.append("j.indicator IN (SELECT indicator FROM web_judgement WHERE area = ?)")
        params.append(area_code)
    if period:
        where.append("(j.period = ? OR j.period_label = ?)")
        params += [period, period]
    if geography:
        where.append("j.area_type = ?")
        params.append(geography)
    if public_only:
        where.append("j.public")
    w = " AND ".join(where)
    total = cur.execute(f"SELECT count(*) FROM web_judgement j WHERE {w}", params).fetchall()[0][0]
    found = rows(
        cur,
        f"""SELECT {_FIGURE_COLS} FROM web_judgement j
            JOIN measure m ON m.indicator = j.indicator AND m.measure = j.measure
            WHERE {w} ORDER BY j.indicator, j.measure, j.period_end, j.area
            LIMIT {int(limit)} OFFSET {int(offset)}""",
        params,
    )
    return total, found


def compared(
    cur: duckdb.DuckDBPyConnection,
    code: str,
    measure: str,
    area_codes: list[str],
    public_only: bool,
) -> list[dict]:
    """The chosen authorities' figures per period, with the chosen group's mean and England's:
    the user's own comparator group, averaged the way LAIT averages neighbours (simple mean of
    the members with a figure)."""
    pub = "AND j.public" if public_only else ""
    return rows(
        cur,
        f"""
        WITH chosen AS (
            SELECT j.area, j.period, j.period_label, j.period_end, j.value, j.display, j.rank,
                   j.rank_of, j.quartile, m.unit, 'la' AS area_type
            FROM web_judgement j JOIN measure m ON m.indicator = j.indicator AND m.measure = j.measure
            WHERE j.indicator = $code AND j.measure = $measure AND j.for_area IS NULL
              AND j.area IN (SELECT unnest($areas)) {pub}
        ), grp AS (
            SELECT period, avg(value) AS group_mean, count(value) AS group_n FROM chosen GROUP BY period
        )
        SELECT c.*, g.group_mean, g.group_n, c.value - g.group_mean AS vs_group,
               e.display AS england_display, e.value AS england_value
        FROM chosen c JOIN grp g USING (period)
        LEFT JOIN web_judgement e ON e.indicator = $code AND e.measure = $measure
             AND e.period = c.period AND e.area = '{ENGLAND}' AND e.for_area IS NULL
        ORDER BY c.period_end, c.area""",
        {"code": code, "measure": measure, "areas": area_codes},
    )
