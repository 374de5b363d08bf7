"""Build the APA dataset report document (docs/report-spec.md) for one authority from the engine's judgements.

Nothing is computed here: figures, display strings, bands, lights and their bases all come
from :func:`cspa.engine.run.compute`; this module only selects the rows for one authority
and arranges them in the seed's order (outcome, section, page) and table layout.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from operator import itemgetter
from typing import Any

import duckdb

from cspa import __version__
from cspa.catalogue.areas import ENGLAND, Area, load_areas
from cspa.catalogue.load import load_catalogue
from cspa.catalogue.models import OUTCOME_TITLES, Indicator, Outcome
from cspa.catalogue.neighbours import load_neighbours
from cspa.catalogue.vocabulary import attribution_for, reader_words, status_legend
from cspa.engine.selection import Selection
from cspa.errors import CspaError
from cspa.outputs.judgement_columns import JUDGEMENT_COLUMNS, JUDGEMENT_MEANINGS
from cspa.outputs.summary import summarise
from cspa.store.coverage import (
    area_coverage,
    coverage_sentence,
    mapped_owners,
    not_then,
    refuse_not_yet,
)
from cspa.store.sql import string

OUTCOME_ORDER = list(Outcome)
GEO_ORDER = {"area": 0, "statistical_neighbours": 2, "region": 3, "england": 4}

#: The prepared judgement table the batch renderer writes (see cspa.app.batch): one framework's
#: rows, each tagged with the authority whose report shows it in ``owner`` ('' = every report).
PREPARED = "report_judgement"


def framework_for_year(year: int) -> str:
    """The framework whose ``report_years`` cover ``year`` (the 2008 APA framework for the seed
    era, LAIT for current data): a default, overridable with ``--framework``."""
    frameworks = [fw for fw in load_catalogue().frameworks.values() if fw.report_years]
    for fw in frameworks:
        if fw.report_years[0] <= year <= fw.report_years[1]:
            return fw.id
    spans = "; ".join(
        f"{fw.id} ({fw.report_years[0]}"
        + (f"-{fw.report_years[1]})" if fw.report_years[1] != fw.report_years[0] else ")")
        for fw in sorted(frameworks, key=lambda f: f.report_years)
    )
    raise CspaError(
        f"no framework reports on {year} by default: {spans}; give --framework for another year"
    )


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


#: The owner of rows no report shows: a geography the catalogue maps to no authority.
NO_OWNER = "-"


def owner_sql(alias: str = "j", area_alias: str = "a") -> str:
    """SQL for the authority whose report shows a judgement row: the authority itself, the authority
    a statistical-neighbour aggregate belongs to (``SN:<group>:<code>``), the region (shown in the
    reports of its authorities), '' for England and the other countries (every report), and for a
    PCT, trust, drug action team, youth offending team or benchmark group the authority the
    catalogue maps it to (its ``parent`` chain); a geography mapped to none is shown by no report
    (:data:`NO_OWNER`), so one authority's PCT never appears in another's report."""
    mapped = " ".join(
        f"WHEN {string(code)} THEN {string(owner if owner is not None else NO_OWNER)}"
        for code, owner in sorted(mapped_owners().items())
    )
    return (
        f"CASE WHEN {alias}.area LIKE 'SN:%' THEN regexp_extract({alias}.area, '[^:]+$') "
        f"WHEN {area_alias}.type IN ('la', 'region') THEN {alias}.area "
        f"WHEN {area_alias}.type = 'country' THEN '' "
        + (
            f"ELSE coalesce(CASE {alias}.area {mapped} END, '{NO_OWNER}') END"
            if mapped
            else f"ELSE '{NO_OWNER}' END"
        )
    )


def report_selection(con: duckdb.DuckDBPyConnection, framework: str, year: int | None) -> Selection:
    """What the engine judges for a report of ``framework`` in ``year``: the figures of periods that
    ended by the end of that year (a report of 2019 knows nothing later: its ranks, neighbour
    averages, progress and trends use none of it) and the neighbour group in force then
    (``Framework.neighbour_group_for``). Where the store holds nothing later and the group is the
    default, the selection is the whole framework, which a stored build answers."""
    fw = load_catalogue().frameworks[framework]
    if year is None:
        return Selection.document(framework)
    up_to = dt.date(year, 12, 31)
    (latest,) = con.execute(
        "SELECT max(o.period_end) FROM observation o JOIN indicator i ON i.code = o.indicator "
        "WHERE i.framework = ?",
        [framework],
    ).fetchall()[0]
    group = fw.neighbour_group_for(year)
    return Selection.document(
        framework,
        up_to=up_to if latest is not None and latest > up_to else None,
        neighbour_group=group if group != fw.default_neighbour_group.get("default") else None,
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
    "rank_of",
    "rank_shared",
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
    "recent_trend",
    "recent_trend_basis",
    "significance",
    "significance_basis",
    "significance_method",
    "significance_level",
    "significance_outer_level",
    "significance_both_levels",
    "significance_comparator",
    "significance_reason",
    "significance_group",
    "significance_group_basis",
    "significance_group_comparator",
    "significance_meaning",
    "significance_note",
    "published_significance",
    "published_significance_benchmark",
    "recomputed_display",
    "recomputed_basis",
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
        self.columns: dict[str, list[str]] = {}  # the columns a query of the prepared rows has
        self.reference: dict[str, Any] = {}  # area names and measure decimals, read once

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


def prepared_selection(con: duckdb.DuckDBPyConnection, framework: str) -> Selection | None:
    """The selection a batch's prepared rows were judged with (cspa.app.batch writes it beside them)."""
    if not _has_table(con, f"{PREPARED}_meta"):
        return None
    cols = set(con.sql(f"SELECT * FROM {PREPARED}_meta LIMIT 0").columns)
    if "up_to" not in cols:
        return Selection.document(framework)
    up_to, group = con.execute(f"SELECT up_to, neighbour_group FROM {PREPARED}_meta").fetchall()[0]
    return Selection.document(framework, up_to=up_to, neighbour_group=group)


def judgement_rows(
    con: duckdb.DuckDBPyConnection,
    framework: str,
    area: Area,
    window: int | None = None,
    shared: SharedRows | None = None,
    selection: Selection | None = None,
) -> list[dict]:
    """The engine's rows for one authority: its own figures, its comparators and non-LA geographies.

    With ``window``, only the latest ``window`` periods of each indicator (every period otherwise).
    ``shared`` (on a connection prepared by cspa.app.batch) keeps the rows every report shows.
    ``selection`` is what the engine judges (:func:`report_selection`; default: the framework);
    a prepared connection was judged with the batch's selection already.
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

        rel = judgements(con, selection or Selection.document(framework))
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
    # the prepared rows' columns are the same for every authority: looked up once
    columns = shared.columns.get(PREPARED)
    if columns is None:
        columns = shared.columns[PREPARED] = present_columns(con, rows_sql)
    result = con.sql(_select(rows_sql, window, owner=area.code, columns=columns))
    keys = set(con.execute(_window_keys_sql(rows_sql, window)).fetchall()) if window else None
    cols = result.columns
    own = [dict(zip(cols, r, strict=True)) for r in result.fetchall()]
    others = shared.in_periods(con, framework, "", keys)
    if area.region_code:
        others = others + shared.in_periods(con, framework, area.region_code, keys)
    return own + others


def _section_of(ind: Indicator, fw) -> tuple[str, str, str | None]:
    """The section (id and title) and subsection title an indicator is filed under: its outcome
    and the seed's section, or, where the framework reports by the source's themes, its topic."""
    if fw.report_sections == "topic":
        topic = ind.topic or "Other"
        return "theme-" + re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-"), topic, None
    title = OUTCOME_TITLES.get(ind.outcome, "Other") if ind.outcome else (ind.topic or "Other")
    sec_id = ind.outcome.value if ind.outcome else (ind.topic or "other").lower().replace(" ", "_")
    return sec_id, title, ind.section or ind.topic or ""


def _chosen(
    indicators: list[Indicator], fw, themes: tuple[str, ...] | list[str], codes
) -> list[Indicator]:
    """The indicators of the themes and codes a user chose (all when none are given); an unknown
    theme or code is refused, naming those there are."""
    if not themes and not codes:
        return indicators
    by_theme: dict[str, list[Indicator]] = defaultdict(list)
    names: dict[str, str] = {}
    for ind in indicators:
        sec_id, title, _sub = _section_of(ind, fw)
        by_theme[sec_id].append(ind)
        names[sec_id] = title
    keys = {
        k.lower(): sid for sid, t in names.items() for k in (sid, t, sid.removeprefix("theme-"))
    }
    picked: set[str] = set()
    for t in themes:
        sid = keys.get(str(t).strip().lower())
        if sid is None:
            raise CspaError(f"no theme {t!r} in this report; themes: " + "; ".join(names.values()))
        picked.update(i.code for i in by_theme[sid])
    have = {i.code: i for i in indicators}
    lower = {c.lower(): c for c in have}
    for c in codes:
        code = lower.get(str(c).strip().lower())
        if code is None:
            raise CspaError(
                f"no indicator {c!r} in this report (codes are shown in each indicator's "
                "details, e.g. " + ", ".join(list(have)[:5]) + ")"
            )
        picked.add(code)
    return [i for i in indicators if i.code in picked]


def _is_own(code: str, area: Area) -> bool:
    """A figure filed under ``code`` is the authority's own: its code, or a geography the catalogue
    maps to it (a PCT, drug action team ...), not a comparator (neighbours, region, England)."""
    if code == area.code:
        return True
    owner = mapped_owners().get(code)
    return owner == area.code


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
    themes: tuple[str, ...] | list[str] = (),
    indicators: tuple[str, ...] | list[str] = (),
) -> dict:
    """The APA dataset report document for one authority (docs/report-spec.md).

    ``themes`` and ``indicators`` narrow the report to those sections (by title or id, any case)
    and indicator codes; the judgements are the same (ranks and averages need every authority).

    ``periods`` is how many of the latest periods each indicator's table and chart show (0 = every
    period; None = the framework's ``period_window``). With ``history`` (the default)
    the document keeps every period all the same: ``observations`` and ``judgements`` hold the whole
    history (the JSON contract) and each table holds every column, ``table["window"]`` saying how
    many of the latest the HTML and PDF show (Excel shows them all). ``history=False`` builds only
    the periods shown, which is all the HTML and PDF need and much less work for a batch of reports.
    ``shared`` keeps what every report of a batch shares between calls (see :class:`SharedRows`).
    """
    refuse_not_yet(year)
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
    if shared is not None and shared.reference:
        names, decimals = shared.reference["names"], shared.reference["decimals"]
    else:
        names = {a.code: a.name for a in areas}
        names.update(dict(con.execute("SELECT code, name FROM area").fetchall()))
        decimals = {
            (i, m): d
            for i, m, d in con.execute(
                "SELECT indicator, measure, decimals FROM measure"
            ).fetchall()
        }
        if shared is not None:
            shared.reference.update(names=names, decimals=decimals)
    if area.type != "la":
        raise CspaError(
            f"{area.name} is a {area.type}, not a local authority: an APA dataset report is of one "
            "authority."
        )
    if not area.existed_in(year):
        raise CspaError(
            not_then(area, year) + " " + coverage_sentence(area, area_coverage(con, area))
        )
    selection = (
        prepared_selection(con, framework)
        if shared is not None
        else report_selection(con, framework, year)
    )
    rows = judgement_rows(con, framework, area, None if history else window, shared, selection)
    by_ind: dict[str, list[dict]] = defaultdict(list)
    own: set[str] = set()  # the indicators with a figure of the authority's own (a value)
    listed: set[str] = set()  # ... or a status symbol in its place (suppressed, not available)
    for r in rows:
        by_ind[r["indicator"]].append(r)
        if r["for_area"] is None and _is_own(r["area"], area):
            listed.add(r["indicator"])
            if r["value"] is not None:
                own.add(r["indicator"])
    if not own:
        # a report about an authority shows its figures: none here, so say what there is instead
        raise CspaError(
            f"{area.name} has no figures in the {fw.title} ({framework}) for periods ending by "
            f"{year}, so there is no report to make. "
            + coverage_sentence(area, area_coverage(con, area))
        )

    chosen_themes, chosen_codes = themes, indicators
    if fw.report_sections == "topic":
        # the source's own themes (LAIT's topics), alphabetically as LAIT lists them; within a
        # theme, by title, so a reader finds an indicator by its name
        indicators = sorted(
            cat.in_framework(framework),
            key=lambda i: ((i.topic or "Other").lower(), i.title.lower(), i.code),
        )
    else:
        indicators = sorted(
            cat.in_framework(framework),
            key=lambda i: (
                OUTCOME_ORDER.index(i.outcome) if i.outcome else 99,
                i.page or 0,
                i.section or i.topic or "",
                i.code,
            ),
        )
    subject = area.code in fw.report_subjects
    if fw.only_indicators_with_figures or not subject:
        # current frameworks, and a printed document's framework for an authority other than its
        # subject: only the indicators with figures of this authority's own
        indicators = [i for i in indicators if i.code in listed]
    n_listed = len(indicators)
    indicators = _chosen(indicators, fw, chosen_themes, chosen_codes)
    sections: list[dict] = []
    docs = []
    vintages: set[str] = set()
    geo_cache: dict[str, str] = {}
    for ind in indicators:
        irows = by_ind.get(ind.code, [])
        docs.append(_indicator_doc(ind, irows, area, names, decimals, window, geo_cache, shared))
        vintages.update(map(_VINTAGE, irows))
        sec_id, title, sub = _section_of(ind, fw)
        if not sections or sections[-1]["id"] != sec_id:
            sections.append({"id": sec_id, "title": title, "subsections": []})
        if not sections[-1]["subsections"] or sections[-1]["subsections"][-1]["title"] != sub:
            sections[-1]["subsections"].append({"title": sub, "indicators": []})
        sections[-1]["subsections"][-1]["indicators"].append(ind.code)

    ng = load_neighbours()
    appendices = []
    year_group = fw.neighbour_group_for(year)
    groups = sorted(
        {i.neighbour_group for i in indicators if i.neighbour_group} | {year_group} - {None}
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
    map_doc = _map(area, ng, year_group, areas)
    agreement = significance_agreement(docs)
    scope = _scope(fw, area, year, year_group, ng, n_listed, subject, selection)
    if len(indicators) < n_listed:
        shown = ", ".join(dict.fromkeys(s["title"] for s in sections))
        scope.append(
            f"This report shows only what was chosen: {len(indicators)} of the {n_listed} "
            f"indicators with {area.name}'s figures, under {shown}."
        )
    summary, summary_layout = summarise(area.name, docs, sections)
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
        "scope": scope,
        "summary": summary,
        "_summary": summary_layout,
        "_show_codes": fw.show_codes,
        # a report of the source's themes runs its indicators on in print (the seed's one a page)
        "_flow": fw.report_sections == "topic",
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
            "comparator_shading": (
                f"Where statistical neighbours' or England's figures are shaded, the shading "
                f"compares {area.name} with that figure, as the published dataset does for "
                f"attainment and absence: green, {area.name}'s figure is better; amber, similar; "
                f"red, {area.name}'s is worse. It says nothing of how the neighbours or England "
                "perform. The cell says which, in words."
            )
            if any(
                c.get("light_label")
                for d in docs
                for g in d["table"]["row_groups"]
                for row in g["rows"]
                for c in row["cells"]
            )
            else None,
            "published": "Figures marked † are published by the source and cannot be recomputed by cspa.",
            "significance": SIGNIFICANCE_LEGEND,
        },
        "significance_agreement": agreement,
        "sections": sections,
        "indicators": docs,
        "appendices": appendices,
        "map": map_doc,
    }


_PROGRESS_WORDS = {"improved": "Improved", "same": "Same", "worsened": "Worsened"}
#: A published significance flag in words (a printed "-" means no significant difference, not a
#: suppressed figure) and as the engine's direction (engine.provenance.PUBLISHED_FLAGS).
_PUBLISHED_WORDS = {
    "-": "not significant",
    "high": "significantly high",
    "low": "significantly low",
}
_PUBLISHED_DIRECTION = {"-": "similar", "high": "higher", "low": "lower"}


def _rank_display(rank: int, j: dict) -> str:
    """A rank as its column prints it: "12 of 152", and "=12 of 152" where other authorities have
    the same figure (ties share the best rank; the league tables' mark for a shared place, so a
    reader does not take a tie for a place of its own)."""
    shared = "=" if (j.get("rank_shared") or 1) > 1 else ""
    return f"{shared}{rank} of {j['rank_of']}"


def _judgement_display(key: str, value, j: dict | None = None) -> str:
    """A judgement as the words (or number) its column prints: the quartile as LAIT's letter (1 = A,
    the best quarter), progress as a word, the engine's significance as a word with, where the source
    printed a flag that differs, that flag beside it."""
    if key == "quartile":
        return "ABCD"[int(value) - 1] if 1 <= int(value) <= 4 else str(value)
    if key == "progress":
        return _PROGRESS_WORDS.get(value, str(value).capitalize())
    if key == "significance":
        word = str(value).capitalize()
        published = (j or {}).get("published_significance")
        if published in _PUBLISHED_DIRECTION and _PUBLISHED_DIRECTION[published] != value:
            word += f" (published: {_PUBLISHED_WORDS[published]})"
        return word
    return str(value)


SIGNIFICANCE_LEGEND = (
    "Significance is cspa's own judgement, made from each figure's numerator and denominator: the "
    "figure is higher or lower than its comparator when the comparator lies outside the figure's 95% "
    "confidence interval (Wilson for proportions, Poisson for rates; Spiegelhalter's over-dispersion "
    "model where the source used it and every area's figures are held), otherwise similar. Where the "
    "source printed a flag that differs, it is shown beside, with a note."
)


def significance_agreement(indicators: list[dict]) -> dict | None:
    """How often cspa's significance agrees with the flags the source printed, over the document's
    judgements (each comparator's flag counted once): count, agreements, percentage and a sentence."""
    compared = agree = 0
    for ind in indicators:
        for j in ind["judgements"]:
            pairs = [(j.get("published_significance"), j.get("significance"))]
            group = j.get("significance_vs_group") or {}
            pairs.append((group.get("published_significance"), group.get("significance")))
            for published, computed in pairs:
                if published in _PUBLISHED_DIRECTION and computed is not None:
                    compared += 1
                    agree += _PUBLISHED_DIRECTION[published] == computed
    if not compared:
        return None
    percent = round(100 * agree / compared, 1)
    return {
        "compared": compared,
        "agree": agree,
        "percent": percent,
        "note": (
            f"cspa's significance agrees with {agree} of the {compared} flags the source printed "
            f"({percent:g}%); where they differ both are shown. The published flags come from the "
            "publisher's own model (for the Healthcare Commission's indicators, Spiegelhalter's "
            "over-dispersion model fitted across every area, whose figures the source does not print)."
        ),
    }


def _significance_basis(r: dict) -> dict | None:
    """The engine's significance basis as the JSON contract gives it: method, level, comparator,
    the reason when not compared, and the one-line text."""
    if r.get("significance") is None:
        return None
    return {
        "method": r.get("significance_method"),
        "level": r.get("significance_level"),
        "outer_level": r.get("significance_outer_level"),
        "both_levels": r.get("significance_both_levels"),
        "comparator": r.get("significance_comparator"),
        "reason": r.get("significance_reason"),
        "text": r.get("significance_basis"),
    }


def _significance_vs_group(r: dict) -> dict | None:
    """The engine's judgement against the rule's second comparator (statistical neighbours or the
    benchmark group), with the flag the source printed against it."""
    if r.get("significance_group") is None:
        return None
    return {
        "comparator": r.get("significance_group_comparator"),
        "significance": r.get("significance_group"),
        "published_significance": r.get("published_significance_benchmark"),
        "basis": r.get("significance_group_basis"),
    }


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
        "recent_trend": r.get("recent_trend_basis"),
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
        r.get("recent_trend"),
        r.get("published_significance"),
    )
    parts = [
        b
        for b in (
            r["band_basis"],
            r["light_basis"],
            r["position_basis"],
            r["distribution_basis"],
            r["progress_basis"],
            r["trend_basis"],
            r.get("recent_trend_basis"),
            r.get("significance_basis"),
            r.get("significance_group_basis"),
            r.get("significance_note"),
        )
        if b
    ]
    if values.count(None) == len(values):
        # nothing judged: the authority's own figure still says why (every authority had the same
        # figure, the authority did not exist then, a break in the series), so an empty rank or
        # progress cell is explained under the table as a judged one is; a comparator's figure and
        # a cell with no figure (its status says why) are left as they are
        explained = obs is not None and r["status"] is None and not _is_comparator(r["area"])
        return obs, None, list(dict.fromkeys(parts)) if explained else [], []
    band, band_range, light, quartile, position, rank, trend, significance, progress = values[:9]
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
        "rank_of": r.get("rank_of") if rank is not None else None,
        "rank_shared": r.get("rank_shared") if rank is not None else None,
        "trend": trend,
        "significance": significance,
        "published_significance": r.get("published_significance"),
        "significance_basis": _significance_basis(r),
        "significance_note": r.get("significance_note"),
        "significance_vs_group": _significance_vs_group(r),
        "recent_trend": r.get("recent_trend"),
        "progress": progress,
        "rag": None,
        "target": None,
        "basis": "; ".join(parts),
        "_bases": _judgement_bases(r),
        # a comparator's light judged for the authority (000:L45): it says how the authority
        # compares with that figure, not how the figure itself performs
        "_for_area": r["for_area"] is not None,
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
            "display": _rank_display(value, j)
            if key == "rank" and j.get("rank_of")
            else _judgement_display(key, value, j),
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
    comparator_geos: set[str] = set()  # the geographies that are comparators, for the chart
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
        if _is_comparator(r["area"]):
            comparator_geos.add(geo)
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
        at = (r["measure"], r["period_label"], geo)
        if judgement is None:
            if parts:  # a figure with nothing judged, and the reasons why (see _entries)
                judged.setdefault(at, ([], parts, []))
        else:
            judgements.append(judgement)
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
        else LIGHT_RULE_WORDS.get(light.rule, light.rule.replace("_", " ")).format(area=area.name),
        "bands": [
            {"periods": b.periods, "cutoffs": b.cutoffs, "blobs": b.blobs} for b in ind.bands
        ],
        "observations": observations,
        "judgements": judgements,
        "table": table,
        "chart": _chart(ind, observations, shown, area, frozenset(comparator_geos)),
        # transcription notes, worded for a reader (the renderers show them as provenance)
        "notes": [reader_words(n) for n in ind.notes],
    }


_MIN_DATE = dt.date.min
#: :func:`_row_order` for rows whose periods all have an end: the same order (a date is never false)
_ROW_ORDER = itemgetter("measure", "period_end", "area")
_VINTAGE = itemgetter("vintage")


def _row_order(r: dict) -> tuple:
    """Rows in table order: by measure, then period, then area (:data:`_ROW_ORDER`, where no period lacks an end)."""
    return r["measure"], r["period_end"] or _MIN_DATE, r["area"]


#: A light rule in a reader's words (catalogue.models' TrafficLight rules; lights.py says how each
#: is applied).
LIGHT_RULE_WORDS = {
    "paf_band": "the colour of the figure's PAF band (a red, amber or green blob band)",
    "comparator_shading": (
        "the neighbours' and England's figures are shaded by how {area} compares with them, as "
        "the published dataset shades attainment and absence"
    ),
    "fixed_thresholds": "green or red beyond the indicator's thresholds for the year, amber between",
    "points_tolerance": (
        "amber within the indicator's tolerance of its comparator, green better than that, red worse"
    ),
    "published_significance": (
        "the published significance against England: green significantly better, red "
        "significantly worse, amber not significantly different"
    ),
    "vs_statistical_neighbours": (
        "green where {area} is better than its statistical neighbours, red where worse"
    ),
}

#: What a comparator's shading says of the authority (000:L45: the shading compares the authority
#: with the neighbours' and England's figures): green, the authority is better; amber, within the
#: rule's tolerance; red, worse.
SHADING_WORDS = {"green": "better", "amber": "similar", "red": "worse"}

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
                if at is None or not at[0]:
                    # not judged: the reasons why, where the engine gave them (see _entries)
                    cells.append(
                        {
                            "display": o["display"],
                            "status": o["status"],
                            "light": None,
                            "blobs": None,
                            "band_range": None,
                            "source": o["source"],
                            "basis": o["basis"],
                            **({"judged": at[1]} if at is not None else {}),
                        }
                    )
                    continue
                js, parts, columns = at
                j = js[-1]
                lit = next((x for x in reversed(js) if x["traffic_light"]), j)
                cell = {
                    "display": o["display"],
                    "status": o["status"],
                    "light": lit["traffic_light"],
                    "blobs": j["band"],
                    "band_range": j["band_range"],
                    "source": o["source"],
                    "basis": o["basis"],
                    "judged": parts,
                }
                if lit["traffic_light"] and lit.get("_for_area") and area is not None:
                    cell["light_label"] = f"{area.name} {SHADING_WORDS[lit['traffic_light']]}"
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


#: Area types that are comparators rather than the report's subject.
_COMPARATOR_TYPES = frozenset({"country", "region", "region_other", "benchmark_group", "sn_group"})


@functools.cache
def _is_comparator(code: str) -> bool:
    """Whether an area code is a comparator's (England, a region, a benchmark group, an SN figure)."""
    if code.startswith("SN:"):
        return True
    a = load_areas().get(code)
    return a is not None and a.type in _COMPARATOR_TYPES


def _chart(
    ind: Indicator,
    obs: list[dict],
    cols: list[str],
    area: Area,
    comparator_geos: frozenset[str] = frozenset(),
) -> dict | None:
    """The subject against its comparators over the periods ``cols`` (those the table shows).

    The subject is every geography of the first measure that is not a comparator: the authority,
    or the body the source reports for it (a PCT, an NHS trust: 1003HC, 1030HC print Luton's
    figures under "LUTON PCT" and its community trust, 000:L220, L457; a report shows only the
    geographies the catalogue maps to its authority); the comparators follow (statistical
    neighbours, region, benchmark group, England), so a chart never shows the comparators alone.
    Each series names its kind (the first subject is drawn as the authority), so a kind is drawn
    the same way in every report. The summary quotes the figures as the table prints them."""
    mid = ([m.id for m in ind.measures] or ["value"])[0]
    shown = set(cols)
    comparators = {"statistical_neighbours", "region", "england"} | set(comparator_geos)
    order = {"statistical_neighbours": 1, "region": 2, "england": 4}
    labels = {"area": area.name, **ROW_LABELS}
    points: dict[str, list[dict]] = {}
    for o in obs:
        if o["measure_id"] == mid and o["value"] is not None and o["period"] in shown:
            points.setdefault(o["geography"], []).append(
                {"period": o["period"], "value": o["value"], "display": o["display"]}
            )
    subjects = sorted(
        (g for g in points if g not in comparators),
        key=lambda g: (g != "area", -len(points[g]), g),
    )
    if not subjects:
        return None
    others = sorted((g for g in points if g in comparators), key=lambda g: (order.get(g, 3), g))
    kinds = {g: "area" if i == 0 else "other" for i, g in enumerate(subjects)}
    kinds.update({g: g if g in order else "other" for g in others})
    series = [
        {"name": labels.get(g, g), "kind": kinds[g], "points": points[g]}
        for g in [*subjects, *others]
        if points[g]
    ]
    if not series or max(len(s["points"]) for s in series) < 2:
        return None
    first = series[0]["points"]
    summary = f"{series[0]['name']}: {first[0]['display']} in {first[0]['period']}"
    if len(first) > 1:
        summary += f" and {first[-1]['display']} in {first[-1]['period']}"
    summary += "."
    for s in series[1:]:
        last = s["points"][-1]
        summary += f" {s['name']}: {last['display']} in {last['period']}."
    return {
        "kind": "line",
        "title": ind.title,
        "y_label": _UNIT_WORDS.get(ind.unit.value, ind.unit.value.replace("_", " ")),
        "series": series,
        "quartile_bands": None,
        "summary": summary,
    }


#: A unit as a chart's axis names it.
_UNIT_WORDS = {
    "percent": "%",
    "rate_per_1000": "rate per 1,000",
    "rate_per_10000": "rate per 10,000",
    "rate_per_100000": "rate per 100,000",
    "currency_gbp": "£",
}


def _scope(
    fw,
    area: Area,
    year: int,
    group: str | None,
    ng,
    n_indicators: int,
    subject: bool,
    selection: Selection | None,
) -> list[str]:
    """What the report covers, in sentences for its reader: the periods (a report of a past year
    leaves out what came later), the neighbour group and, for an authority that is not the subject
    of the published document a framework reproduces, how much of it cspa holds for this one."""
    out = []
    if selection is not None and selection.up_to is not None:
        out.append(
            f"Figures for periods ending by {selection.up_to.day} {selection.up_to:%B %Y}; later "
            "figures are left out, and every rank, average and comparison is made as it stood then."
        )
    info = ng.info.get(group) if group else None
    if info is not None:
        try:
            group_year = int(info.period)
        except ValueError:
            group_year = None
        members = ng.of(group, area.code) if group in ng.groups else []
        if not members:
            out.append(
                f"{area.name} has no statistical neighbours in the {info.name}, so no neighbour "
                "average is shown."
            )
        elif group_year is not None and group_year > year:
            out.append(
                f"Statistical neighbours are the {info.name}, the earliest model cspa holds; the "
                f"model in force in {year} is not held."
            )
    if fw.report_subjects and not subject:
        subjects = ", ".join(
            a.name for code in fw.report_subjects if (a := load_areas().get(code)) is not None
        )
        total = len(load_catalogue().in_framework(fw.id))
        out.append(
            f"The published {fw.title} that cspa reproduces is {subjects}'s. For {area.name} cspa "
            f"holds figures of its own for {n_indicators} of its {total} indicators, which are "
            "the ones shown here."
        )
    return out


def _map(area: Area, ng, group: str | None, areas) -> dict | None:
    if area.lat is None or not group:
        return None
    try:
        ns = ng.of(group, area.code)
    except Exception:  # the authority has no neighbours in this group
        return None
    if not ns:  # nothing to place around the authority
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
