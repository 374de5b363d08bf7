"""Build the APA dataset report document (docs/report-spec.md) for one authority from the engine's judgements.

Nothing is computed here: figures, display strings, bands, lights and their bases all come
from :func:`cspa.engine.run.compute`; this module only selects the rows for one authority
and arranges them in the seed's order (outcome, section, page) and table layout.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from operator import itemgetter

import duckdb

from cspa import __version__
from cspa.catalogue.areas import ENGLAND, Area, load_areas
from cspa.catalogue.load import load_catalogue
from cspa.catalogue.models import OUTCOME_TITLES, Indicator, Outcome
from cspa.catalogue.neighbours import load_neighbours
from cspa.catalogue.vocabulary import attribution_for, status_legend
from cspa.errors import CspaError
from cspa.outputs.judgement_columns import JUDGEMENT_COLUMNS, JUDGEMENT_MEANINGS

OUTCOME_ORDER = list(Outcome)
GEO_ORDER = {"area": 0, "statistical_neighbours": 2, "region": 3, "england": 4}

#: The prepared judgement table the batch renderer writes (see cspa.app.batch): one framework's
#: rows, each tagged with the authority whose report shows it in ``owner`` ('' = every report).
PREPARED = "report_judgement"


def framework_for_year(year: int) -> str:
    """The framework whose ``report_years`` cover ``year`` (the 2008 APA framework for the seed
    era, LAIT for current data): a default, overridable with ``--framework``."""
    for fw in load_catalogue().frameworks.values():
        if fw.report_years and fw.report_years[0] <= year <= fw.report_years[1]:
            return fw.id
    raise CspaError(f"no framework reports on {year}; give --framework")


def period_window(framework: str, periods: int | None = None) -> int | None:
    """How many of the latest periods a report shows: ``periods`` if given (0 = every period),
    else the framework's ``period_window`` (the current frameworks show the latest five, as LAIT
    does; the 2008 dataset reproduces a printed document, so every period); None means every period."""
    if periods is None:
        return load_catalogue().frameworks[framework].period_window
    if periods < 0:
        raise ValueError(f"periods must be 0 (every period) or more, not {periods}")
    return periods or None


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()[0][0]
    )


def owner_sql(alias: str = "j", area_alias: str = "a") -> str:
    """SQL for the authority whose report shows a judgement row: the authority itself, the authority
    a statistical-neighbour aggregate belongs to (``SN:<group>:<code>``), the region (shown in the
    reports of its authorities), or '' for England and the other non-LA geographies (every report)."""
    return (
        f"CASE WHEN {alias}.area LIKE 'SN:%' THEN regexp_extract({alias}.area, '[^:]+$') "
        f"WHEN {area_alias}.type IN ('la', 'region') THEN {alias}.area ELSE '' END"
    )


#: The engine's columns a document reads (fewer columns, faster reads).
COLUMNS = (
    "indicator",
    "measure",
    "area",
    "for_area",
    "period_label",
    "period_start",
    "period_end",
    "value",
    "display",
    "numerator",
    "denominator",
    "status",
    "source",
    "basis",
    "vintage",
    "band",
    "band_range",
    "band_basis",
    "traffic_light",
    "light_basis",
    "rank",
    "quartile",
    "distribution_basis",
    "quartile_position",
    "position_quartile",
    "position_basis",
    "progress",
    "improving",
    "progress_basis",
    "trend",
    "trend_basis",
    "significance",
    "significance_basis",
)


def present_columns(con: duckdb.DuckDBPyConnection, rows_sql: str) -> list[str]:
    """The :data:`COLUMNS` that ``rows_sql`` has (a store judged before a column existed lacks it)."""
    have = set(con.sql(f"SELECT * FROM ({rows_sql}) LIMIT 0").columns)
    return [c for c in COLUMNS if c in have]


def _select(
    rows_sql: str,
    window: int | None,
    owner: str | None = None,
    columns: list[str] | tuple[str, ...] = COLUMNS,
) -> str:
    """The document's columns of ``rows_sql`` (one authority's rows, aliased ``j``); with ``window``,
    only the rows of each indicator's latest ``window`` distinct periods, in the table's column order;
    with ``owner``, only the rows of that owner (the window still taken over every row)."""
    cols = ", ".join(f"m.{c}" for c in columns)
    mine = f" AND m.owner = '{owner}'" if owner is not None else ""
    if not window:
        return f"SELECT {cols} FROM ({rows_sql}) m WHERE TRUE{mine}"
    return (
        f"WITH m AS ({rows_sql}), p AS (SELECT *, dense_rank() OVER (PARTITION BY indicator ORDER BY "
        "period_end DESC NULLS LAST, period_start DESC NULLS LAST, period_label DESC) AS r "
        "FROM (SELECT DISTINCT indicator, period_end, period_start, period_label FROM m)) "
        f"SELECT {cols} FROM m JOIN p ON p.indicator = m.indicator AND p.period_label IS NOT DISTINCT FROM m.period_label "
        "AND p.period_end IS NOT DISTINCT FROM m.period_end AND p.period_start IS NOT DISTINCT FROM m.period_start "
        f"WHERE p.r <= {int(window)}{mine}"
    )


def _window_keys_sql(rows_sql: str, window: int) -> str:
    return (
        f"WITH m AS ({rows_sql}) SELECT indicator, period_label, period_end, period_start FROM ("
        "SELECT *, dense_rank() OVER (PARTITION BY indicator ORDER BY period_end DESC NULLS LAST, "
        "period_start DESC NULLS LAST, period_label DESC) AS r "
        f"FROM (SELECT DISTINCT indicator, period_end, period_start, period_label FROM m)) WHERE r <= {int(window)}"
    )


class SharedRows:
    """What every report of a batch shares, kept between ``build_apa_document`` calls on one
    prepared connection (see cspa.app.batch): the rows of England, the regions and the other
    non-LA geographies, read once per owner rather than once per report, and the observation and
    judgement entries made from them (the same for every authority that shows them)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[dict]] = {}
        self.ids: set[int] = set()  # the rows kept here: only they are remembered by identity
        self.keyed: dict[tuple[str, str], list[tuple[tuple, dict]]] = {}
        self.entries: dict[tuple[int, str], tuple] = {}

    def owner_rows(self, con: duckdb.DuckDBPyConnection, framework: str, owner: str) -> list[dict]:
        key = (framework, owner)
        if key not in self.rows:
            inds = f"j.indicator IN (SELECT code FROM indicator WHERE framework = '{framework}')"
            rows = f"SELECT j.* FROM {PREPARED} j WHERE j.owner = '{owner}' AND {inds}"
            result = con.sql(_select(rows, None, columns=present_columns(con, rows)))
            cols = result.columns
            self.rows[key] = [dict(zip(cols, r, strict=True)) for r in result.fetchall()]
            self.ids.update(id(r) for r in self.rows[key])
            self.keyed[key] = [
                ((r["indicator"], r["period_label"], r["period_end"], r["period_start"]), r)
                for r in self.rows[key]
            ]
        return self.rows[key]

    def in_periods(
        self, con: duckdb.DuckDBPyConnection, framework: str, owner: str, keys: set | None
    ) -> list[dict]:
        """The owner's rows, or those of the periods ``keys`` names ((indicator, label, end, start))."""
        rows = self.owner_rows(con, framework, owner)
        if keys is None:
            return rows
        return [r for k, r in self.keyed[(framework, owner)] if k in keys]


def judgement_rows(
    con: duckdb.DuckDBPyConnection,
    framework: str,
    area: Area,
    window: int | None = None,
    shared: SharedRows | None = None,
) -> list[dict]:
    """The engine's rows for one authority: its own figures, its comparators and non-LA geographies.

    With ``window``, only the latest ``window`` periods of each indicator (every period otherwise).
    ``shared`` (on a connection prepared by cspa.app.batch) keeps the rows every report shows.
    """
    region = area.region_code or ""
    inds = f"j.indicator IN (SELECT code FROM indicator WHERE framework = '{framework}')"
    if _has_table(con, PREPARED):
        if _has_table(con, f"{PREPARED}_meta") and con.execute(
            f"SELECT framework FROM {PREPARED}_meta"
        ).fetchall() == [(framework,)]:
            inds = "TRUE"  # the prepared rows are this framework's, and only its
        rows = f"SELECT j.* FROM {PREPARED} j WHERE j.owner IN ('{area.code}', '{region}', '') AND {inds}"
        if shared is not None:
            return _rows_with_shared(con, framework, area, window, shared, rows)
        columns = present_columns(con, rows)
    else:
        keep = f"{owner_sql()} IN ('{area.code}', '{region}', '')"
        # the stored build, or the whole framework computed now (ranks and neighbour aggregates
        # need every authority); the engine is imported here only: its imports take seconds
        from cspa.engine.run import judgements
        from cspa.engine.selection import Selection

        rel = judgements(con, Selection.framework(framework))
        rows = f"SELECT j.* FROM rel j LEFT JOIN area a ON a.code = j.area WHERE {keep}"
        columns = [c for c in COLUMNS if c in rel.columns]
    result = con.sql(_select(rows, window, columns=columns))
    cols = result.columns
    return [dict(zip(cols, r, strict=True)) for r in result.fetchall()]


def _rows_with_shared(
    con: duckdb.DuckDBPyConnection,
    framework: str,
    area: Area,
    window: int | None,
    shared: SharedRows,
    rows_sql: str,
) -> list[dict]:
    """The authority's own rows read now, the shared ones from ``shared``; the window taken over both."""
    # the window's periods come from every row the report shows; only the authority's own are read
    result = con.sql(
        _select(rows_sql, window, owner=area.code, columns=present_columns(con, rows_sql))
    )
    cols = result.columns
    own = [dict(zip(cols, r, strict=True)) for r in result.fetchall()]
    keys = set(con.execute(_window_keys_sql(rows_sql, window)).fetchall()) if window else None
    others = shared.in_periods(con, framework, "", keys)
    if area.region_code:
        others = others + shared.in_periods(con, framework, area.region_code, keys)
    return own + others


# Geographies that are the authority's own area under another name: a drug action team and a
# youth offending team cover their local authority (000:L693; the YOT-area list at 000:L7195-7221
# names the exceptions, which have no parent).
COTERMINOUS_TYPES = ("dat", "yot")


def _geography_of(code: str, area: Area, names: dict[str, str]) -> str:
    if code == area.code:
        return "area"
    other = load_areas().get(code)
    if other is not None and other.type in COTERMINOUS_TYPES and other.parent == area.code:
        return "area"
    if code.startswith("SN:"):
        return "statistical_neighbours"
    if code == ENGLAND:
        return "england"
    if code == area.region_code:
        return "region"
    return names.get(code, code)


def _round(v, decimals):
    if v is None:
        return None
    return round(float(v), int(decimals))


def build_apa_document(
    con: duckdb.DuckDBPyConnection,
    area_query: str,
    year: int,
    framework: str | None = None,
    *,
    periods: int | None = None,
    history: bool = True,
    shared: SharedRows | None = None,
) -> dict:
    """The APA dataset report document for one authority (docs/report-spec.md).

    ``periods`` is how many of the latest periods each indicator's table and chart show (0 = every
    period; None = the framework's ``period_window``). With ``history`` (the default)
    the document keeps every period all the same: ``observations`` and ``judgements`` hold the whole
    history (the JSON contract) and each table holds every column, ``table["window"]`` saying how
    many of the latest the HTML and PDF show (Excel shows them all). ``history=False`` builds only
    the periods shown, which is all the HTML and PDF need and much less work for a batch of reports.
    ``shared`` keeps what every report of a batch shares between calls (see :class:`SharedRows`).
    """
    areas = load_areas()
    area = areas.resolve(area_query)
    framework = framework or framework_for_year(year)
    cat = load_catalogue()
    if framework not in cat.frameworks:
        raise CspaError(
            f"no framework {framework!r}; frameworks: {', '.join(sorted(cat.frameworks))}"
        )
    fw = cat.frameworks[framework]
    window = period_window(framework, periods)
    names = {a.code: a.name for a in areas}
    names.update(dict(con.execute("SELECT code, name FROM area").fetchall()))
    decimals = {
        (i, m): d
        for i, m, d in con.execute("SELECT indicator, measure, decimals FROM measure").fetchall()
    }
    rows = judgement_rows(con, framework, area, None if history else window, shared)
    by_ind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_ind[r["indicator"]].append(r)

    indicators = sorted(
        cat.in_framework(framework),
        key=lambda i: (
            OUTCOME_ORDER.index(i.outcome) if i.outcome else 99,
            i.page or 0,
            i.section or i.topic or "",
            i.code,
        ),
    )
    if fw.only_indicators_with_figures:
        # current frameworks: only indicators with figures for this authority
        indicators = [
            i for i in indicators if any(r["area"] == area.code for r in by_ind.get(i.code, []))
        ]
    sections: list[dict] = []
    docs = []
    vintages: set[str] = set()
    geo_cache: dict[str, str] = {}
    for ind in indicators:
        irows = by_ind.get(ind.code, [])
        docs.append(_indicator_doc(ind, irows, area, names, decimals, window, geo_cache, shared))
        vintages.update(map(_VINTAGE, irows))
        title = OUTCOME_TITLES.get(ind.outcome, "Other") if ind.outcome else (ind.topic or "Other")
        sec_id = (
            ind.outcome.value if ind.outcome else (ind.topic or "other").lower().replace(" ", "_")
        )
        if not sections or sections[-1]["id"] != sec_id:
            sections.append({"id": sec_id, "title": title, "subsections": []})
        sub = ind.section or ind.topic or ""
        if not sections[-1]["subsections"] or sections[-1]["subsections"][-1]["title"] != sub:
            sections[-1]["subsections"].append({"title": sub, "indicators": []})
        sections[-1]["subsections"][-1]["indicators"].append(ind.code)

    ng = load_neighbours()
    appendices = []
    groups = sorted(
        {i.neighbour_group for i in indicators if i.neighbour_group}
        | {fw.default_neighbour_group.get("default")} - {None}
    )
    for g in groups:
        try:
            ns = ng.of(g, area.code)
        except Exception:  # a group unknown for this framework: listed as such, not fatal
            ns = []
        if ns:
            info = ng.info.get(g)
            appendices.append(
                {
                    "code": None,
                    "title": f"{info.name if info else g} for {area.name}",
                    "group": g,
                    "source": info.source if info else None,
                    "neighbours": [
                        {"rank": n.rank, "name": n.name, "code": n.code, "closeness": n.closeness}
                        for n in ns
                    ],
                }
            )
    default_group = fw.default_neighbour_group.get("default")
    map_doc = _map(area, ng, default_group, areas)
    attribution = attribution_for(fw.licence)
    attribution.append(
        f"Source: {fw.publisher or fw.title}; {fw.vintage or ''}; {fw.licence or ''}".strip("; ")
    )
    for v in sorted(v for v in vintages if v)[:12]:
        attribution.append(f"Data vintage: {v}.")
    return {
        "report": "apa-dataset",
        "title": fw.report_title or fw.title,
        "area": {
            "name": area.name,
            "dfe_code": area.dfe_code,
            "ons_code": area.ons_code,
            "region": area.region_name,
        },
        "period": str(year),
        "period_window": window,
        "history": history,
        "framework": {
            "id": fw.id,
            "title": fw.title,
            "publisher": fw.publisher,
            "vintage": fw.vintage,
            "licence": fw.licence,
        },
        "version": f"cspa {__version__}",
        "produced": dt.date.today().isoformat(),
        "attribution": attribution,
        "changes": list(fw.notes),
        "legend": {
            "status_symbols": status_legend(fw),
            "traffic_lights": [
                {
                    "light": "green",
                    "label": "Green",
                    "meaning": "performance at or above the good threshold the indicator sets",
                },
                {"light": "amber", "label": "Amber", "meaning": "within the expected range"},
                {"light": "red", "label": "Red", "meaning": "performance that needs to improve"},
            ],
            "bands": "Bands run from Low (1 blob) to High (5 blobs); on symmetric indicators the middle band is best.",
            "published": "Figures marked † are published by the source and cannot be recomputed by cspa.",
        },
        "sections": sections,
        "indicators": docs,
        "appendices": appendices,
        "map": map_doc,
    }


_PROGRESS_WORDS = {"improved": "Improved", "same": "Same", "worsened": "Worsened"}
_SIGNIFICANCE_WORDS = {
    "-": "Not significant",
    "high": "Significantly high",
    "low": "Significantly low",
}


def _judgement_display(key: str, value) -> str:
    """A judgement as the words (or number) its column prints: the quartile as LAIT's letter (1 = A,
    the best quarter), progress and significance as words (a published "-" flag means no significant
    difference, not a suppressed figure)."""
    if key == "quartile":
        return "ABCD"[int(value) - 1] if 1 <= int(value) <= 4 else str(value)
    if key == "progress":
        return _PROGRESS_WORDS.get(value, str(value).capitalize())
    if key == "significance":
        return _SIGNIFICANCE_WORDS.get(value, str(value).capitalize())
    return str(value)


def _judgement_bases(r: dict) -> dict[str, str | None]:
    """Which basis line says how each column judgement was made (the seed's "Improving?" is made
    from the previous figure, so its basis is the progress basis)."""
    distribution = r["distribution_basis"] if r["quartile"] is not None else r["position_basis"]
    return {
        "rank": r["distribution_basis"],
        "quartile": distribution,
        "quartile_position": r["position_basis"],
        "progress": r["progress_basis"],
        "trend": r["trend_basis"] if r["trend"] else r["progress_basis"],
        "significance": r.get("significance_basis"),
    }


def _entries(r: dict, geo: str, mlabels: dict, decimals: dict, places: dict) -> tuple:
    """One engine row as the document's observation (None for a judgement made for an authority),
    its judgement (None if nothing is judged), the parts of the judgement's basis, each once (the
    figure's ``judged``), and the judgement's column entries (see :func:`_column_judgements`)."""
    mid, period = r["measure"], r["period_label"]
    measure = mlabels.get(mid) if mid != "value" else None
    obs = None
    if r["for_area"] is None:
        if mid not in places:
            places[mid] = decimals.get((r["indicator"], mid), 1) + 2
        status = r["status"]
        obs = {
            "measure": measure,
            "measure_id": mid,
            "period": period,
            "geography": geo,
            "value": _round(r["value"], places[mid]) if status is None else None,
            "display": r["display"],
            "numerator": r["numerator"],
            "denominator": r["denominator"],
            "status": status,
            "source": r["source"],
            "basis": r["basis"],
        }
    values = (
        r["band"],
        r["band_range"],
        r["traffic_light"],
        r["quartile"] or r["position_quartile"],
        r["quartile_position"],
        r["rank"],
        r["improving"] or r["trend"],
        r["significance"],
        r["progress"],
    )
    if values.count(None) == len(values):
        return obs, None, [], []
    parts = [
        b
        for b in (
            r["band_basis"],
            r["light_basis"],
            r["position_basis"],
            r["distribution_basis"],
            r["progress_basis"],
            r["trend_basis"],
            r.get("significance_basis"),
        )
        if b
    ]
    band, band_range, light, quartile, position, rank, trend, significance, progress = values
    judgement = {
        "measure": measure,
        "measure_id": mid,
        "period": period,
        "geography": geo,
        "band": band,
        "band_range": band_range,
        "traffic_light": light,
        "quartile": quartile,
        "quartile_position": position,
        "rank": rank,
        "trend": trend,
        "significance": significance,
        "progress": progress,
        "rag": None,
        "target": None,
        "basis": "; ".join(parts),
        "_bases": _judgement_bases(r),
    }
    return obs, judgement, list(dict.fromkeys(parts)), _column_judgements((judgement,))


def _column_judgements(judgements: tuple[dict, ...] | list[dict]) -> list[dict]:
    """The judgements of one figure (it may be judged twice: an SN average's progress, and its
    shading for this authority) as the entries of its judgement columns: key, value, display, basis;
    where two judge the same column, the first's."""
    if len(judgements) == 1:
        return _judgement_entries(judgements[0])
    out: dict[str, dict] = {}
    for j in judgements:
        for e in _judgement_entries(j):
            out.setdefault(e["key"], e)
    return [out[k] for k, _label in JUDGEMENT_COLUMNS if k in out]


def _judgement_entries(j: dict) -> list[dict]:
    """One judgement's column entries, in column order. A quartile read from the published quartile
    position is shown as that position, not again as a band."""
    bases = j.get("_bases") or {}
    return [
        {
            "key": key,
            "value": value,
            "display": _judgement_display(key, value),
            "basis": bases.get(key),
        }
        for key, _label in JUDGEMENT_COLUMNS
        if (value := j.get(key)) is not None
        and not (key == "quartile" and j.get("quartile_position"))
    ]


def _indicator_doc(
    ind: Indicator,
    rows: list[dict],
    area: Area,
    names: dict[str, str],
    decimals: dict,
    window: int | None = None,
    geo_cache: dict[str, str] | None = None,
    shared: SharedRows | None = None,
) -> dict:
    mlabels = {m.id: m.label for m in ind.measures}
    observations, judgements = [], []
    periods: dict[str, tuple] = {}
    figures: dict[str, dict[tuple, dict]] = defaultdict(
        dict
    )  # measure -> (geography, period) -> its first figure
    judged: dict[
        tuple, tuple
    ] = {}  # (measure, period, geography) -> the figure's judgements, parts, columns
    places: dict[str, int] = {}  # decimals shown per measure, plus two
    memo = shared.entries if shared is not None else None
    geo_cache = {} if geo_cache is None else geo_cache
    try:  # sorting by the rows' own values (C) is several times cheaper than by a Python key function
        ordered = sorted(rows, key=_ROW_ORDER)
    except TypeError:  # a period without an end: None does not compare with a date
        ordered = sorted(rows, key=_row_order)
    ids = shared.ids if shared is not None else ()
    for r in ordered:
        for_area = r["for_area"]
        if for_area is not None and for_area != area.code:
            continue
        geo = geo_cache.get(r["area"])
        if geo is None:
            geo = geo_cache[r["area"]] = _geography_of(r["area"], area, names)
        if id(r) in ids:  # a shared row: made into entries once, for every report that shows it
            key = (id(r), geo)
            entry = memo.get(key)
            if entry is None:
                entry = memo[key] = _entries(r, geo, mlabels, decimals, places)
        else:
            entry = _entries(r, geo, mlabels, decimals, places)
        obs, judgement, parts, columns = entry
        if obs is not None:
            observations.append(obs)
            period = obs["period"]
            if period not in periods:
                periods[period] = (r["period_end"] or _MIN_DATE, r["period_start"] or _MIN_DATE)
            figures[obs["measure_id"]].setdefault((geo, period), obs)
        if judgement is not None:
            judgements.append(judgement)
            at = (r["measure"], r["period_label"], geo)
            had = judged.get(at)
            if had is None:
                judged[at] = ([judgement], parts, columns)
            else:
                # a figure can be judged twice (an SN average's progress, and its shading for this
                # authority): new lists, as the first judgement's may be a shared row's
                js = [*had[0], judgement]
                judged[at] = (
                    js,
                    had[1] + [b for b in parts if b not in had[1]],
                    _column_judgements(js),
                )
    cols = [p for p, _ in sorted(periods.items(), key=lambda kv: kv[1])]
    table = _table(ind, figures, judged, cols, mlabels, area)
    table["window"] = window
    shown = cols[-window:] if window else cols
    light = ind.traffic_light
    return {
        "code": ind.code,
        "title": ind.title,
        "section": OUTCOME_TITLES.get(ind.outcome) if ind.outcome else ind.topic,
        "subsection": ind.section,
        "page": ind.page,
        "polarity": ind.polarity.value,
        "unit": ind.unit.value,
        "definition": ind.definition,
        "numerator_definition": ind.numerator,
        "denominator_definition": ind.denominator,
        "guidance": ind.guidance,
        "health_warning": ind.health_warning,
        "source": ind.source,
        "owner": ind.owner,
        "related": ind.related,
        "light_rule": getattr(light, "reason", None)
        if light.rule == "none"
        else light.rule.replace("_", " "),
        "bands": [
            {"periods": b.periods, "cutoffs": b.cutoffs, "blobs": b.blobs} for b in ind.bands
        ],
        "observations": observations,
        "judgements": judgements,
        "table": table,
        "chart": _chart(ind, observations, shown, area),
        "notes": ind.notes,
    }


_MIN_DATE = dt.date.min
#: :func:`_row_order` for rows whose periods all have an end: the same order (a date is never false)
_ROW_ORDER = itemgetter("measure", "period_end", "area")
_VINTAGE = itemgetter("vintage")


def _row_order(r: dict) -> tuple:
    """Rows in table order: by measure, then period, then area (:data:`_ROW_ORDER`, where no period lacks an end)."""
    return r["measure"], r["period_end"] or _MIN_DATE, r["area"]


ROW_LABELS = {
    "statistical_neighbours": "Statistical neighbours",
    "england": "England",
    "region": "Region",
}


def _table(
    ind: Indicator,
    figures: dict[str, dict[tuple, dict]],
    judged: dict[tuple, tuple],
    cols: list[str],
    mlabels: dict,
    area: Area | None = None,
) -> dict:
    """The printed table: a row group per measure, a row per geography, a cell per period.

    ``figures`` holds each measure's observations by (geography, period); ``judged`` each judged
    figure's judgements, the parts of their bases and its column entries, by (measure, period,
    geography). Each cell carries its figure's ``basis`` and, where the figure is judged, the parts of
    the judgement's basis (``judged``: band, light, position, distribution, progress, trend, significance).
    """
    kinds: set[str] = set()
    groups = []
    for mid in [m.id for m in ind.measures] or ["value"]:
        mobs = figures.get(mid)
        if not mobs:
            continue
        geos = sorted({g for g, _p in mobs}, key=lambda g: (GEO_ORDER.get(g, 1), g))
        rows = []
        for g in geos:
            cells = []
            for p in cols:
                o = mobs.get((g, p))
                if o is None:
                    cells.append(
                        {
                            "display": "",
                            "status": None,
                            "light": None,
                            "blobs": None,
                            "band_range": None,
                            "source": None,
                            "basis": "no figure for this period",
                        }
                    )
                    continue
                at = judged.get((mid, p, g))
                if at is None:
                    cells.append(
                        {
                            "display": o["display"],
                            "status": o["status"],
                            "light": None,
                            "blobs": None,
                            "band_range": None,
                            "source": o["source"],
                            "basis": o["basis"],
                        }
                    )
                    continue
                js, parts, columns = at
                j = js[-1]
                cell = {
                    "display": o["display"],
                    "status": o["status"],
                    "light": j["traffic_light"],
                    "blobs": j["band"],
                    "band_range": j["band_range"],
                    "source": o["source"],
                    "basis": o["basis"],
                    "judged": parts,
                }
                if columns:
                    cell["_judgements"] = columns
                    for c in columns:
                        kinds.add(c["key"])
                cells.append(cell)
            label = area.name if g == "area" and area is not None else ROW_LABELS.get(g, g)
            rows.append({"label": label, "geography": g, "cells": cells})
        groups.append({"label": mlabels.get(mid), "rows": rows})
    # the judgements shown in columns of their own, for the renderers (not in the JSON: its judgements say it)
    return {
        "caption": ind.title,
        "columns": cols,
        "row_groups": groups,
        "_judgement_columns": [
            {"key": k, "label": label, "meaning": JUDGEMENT_MEANINGS[k]}
            for k, label in JUDGEMENT_COLUMNS
            if k in kinds
        ],
    }


def _chart(ind: Indicator, obs: list[dict], cols: list[str], area: Area) -> dict | None:
    """LA vs statistical neighbours vs England over the periods ``cols`` (those the table shows)."""
    mid = ([m.id for m in ind.measures] or ["value"])[0]
    shown = set(cols)
    names = {
        "area": area.name,
        "statistical_neighbours": "Statistical neighbours",
        "england": "England",
    }
    points: dict[str, list[dict]] = {g: [] for g in names}
    for o in obs:
        if (
            o["measure_id"] == mid
            and o["value"] is not None
            and o["period"] in shown
            and o["geography"] in points
        ):
            points[o["geography"]].append({"period": o["period"], "value": o["value"]})
    series = [{"name": name, "points": points[g]} for g, name in names.items() if points[g]]
    if not series or max(len(s["points"]) for s in series) < 2:
        return None
    first = series[0]["points"]
    summary = (
        f"{series[0]['name']}: {first[0]['value']:g} in {first[0]['period']} and {first[-1]['value']:g} in "
        f"{first[-1]['period']}."
    )
    for s in series[1:]:
        summary += f" {s['name']}: {s['points'][-1]['value']:g} in {s['points'][-1]['period']}."
    return {
        "kind": "line",
        "title": ind.title,
        "y_label": ind.unit.value.replace("_", " "),
        "series": series,
        "quartile_bands": None,
        "summary": summary,
    }


def _map(area: Area, ng, group: str | None, areas) -> dict | None:
    if area.lat is None or not group:
        return None
    try:
        ns = ng.of(group, area.code)
    except Exception:  # the authority has no neighbours in this group
        return None
    pts, missing = [], []
    for n in ns:
        a = areas.get(n.code) if n.code else None
        if a is not None and a.lat is not None:
            pts.append({"name": a.name, "lat": a.lat, "long": a.long, "rank": n.rank})
        else:
            missing.append(n.name)
    note = "Coordinates from mySociety's UK local authority list (CC-BY-4.0)."
    if missing:
        note += f" No coordinates for: {', '.join(missing)} (abolished before the list begins)."
    return {
        "area": {"name": area.name, "lat": area.lat, "long": area.long},
        "neighbours": pts,
        "note": note,
    }
