"""Build the quarterly report document (docs/report-spec.md, ``report: "quarterly"``) and write it.

The layout is seed 001's (Luton, January to March 2008): the key to how we are doing and the
headline news (001:L1-32), then one section per indicator with its table (actual, target,
"Progress on last period?", comparators, breakdowns; e.g. 001:L38-44), chart, commentary and
action plan (001:L46-72). Nothing is computed here: figures, display strings, progress, RAG,
comparators and SPC come from :mod:`cspa.engine` and :mod:`cspa.quarterly.judge` (SQL); this
module selects one authority's rows and arranges them.

Extra document fields beside report-spec's: ``period_key``, ``basket``, ``key``,
``headline_news``, ``report_meta`` (department, director, meeting dates, version, caveats),
and per indicator ``item``, ``key_financial_driver``, ``targets``, ``narrative``, ``action_plan``,
``commentary_figures``, ``spc`` and ``spc_note``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import duckdb
import pyarrow as pa

from cspa import __version__
from cspa.catalogue.areas import ENGLAND, Area, load_areas
from cspa.catalogue.load import load_catalogue
from cspa.catalogue.models import Indicator
from cspa.catalogue.periods import Period
from cspa.catalogue.vocabulary import attribution_for, status_legend
from cspa.errors import CspaError
from cspa.quarterly import judge
from cspa.quarterly.fields import ACTION_PLAN_HEADING, INDICATOR_FIELDS
from cspa.quarterly.periods import (
    offered_periods,
    quarter_words,
    report_period,
    seed_label,
    window_start,
)
from cspa.quarterly.revisions import ensure_readable
from cspa.quarterly.rules import (
    Basket,
    Rules,
    is_target_companion,
    judged_measures,
    load_rules,
    rules_table,
    target_measure,
)

# NHS Making Data Count icon meanings (NHSRplotthedots ptd_create_ggplot icons; methods.md 6).
VARIATION_TEXT = {
    "common_cause": "Common cause variation: no significant change",
    "improvement_high": "Special cause variation of an improving nature: higher values",
    "improvement_low": "Special cause variation of an improving nature: lower values",
    "concern_high": "Special cause variation of a concerning nature: higher values",
    "concern_low": "Special cause variation of a concerning nature: lower values",
    "neutral_high": "Special cause variation: higher values (neither improvement nor concern)",
    "neutral_low": "Special cause variation: lower values (neither improvement nor concern)",
}
ASSURANCE_TEXT = {
    "consistent_pass": "The process is capable: it will consistently hit the target",
    "consistent_fail": "The process is not capable: it will consistently miss the target",
    "inconsistent": "The process will inconsistently hit and miss the target (the target lies within the limits)",
}
KIND_WORDS = {
    "quarter": "quarterly",
    "financial_year": "annual (financial year)",
    "academic_year": "annual (academic year)",
    "calendar_year": "annual (calendar year)",
    "term": "termly",
    "snapshot": "snapshot",
    "multi_year": "multi-year",
}
GEO_LABEL = {"england": "National", "statistical_neighbours": "Statistical Neighbours"}


# ------------------------------------------------------------------------------------------ data


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def prepare(con: duckdb.DuckDBPyConnection, codes: list[str], rules: Rules) -> None:
    """Compute the engine's figures and the quarterly judgements for the basket (every area)."""
    from cspa.engine.run import compute
    from cspa.engine.selection import Selection

    ensure_readable(con)
    con.register("_cspa_q_codes", pa.table({"indicator": codes}))
    rel = compute(con, Selection.of(*codes))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cspa_q_engine AS {rel.sql_query()}")
    rt = rules_table(con, codes, rules)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _cspa_q_rules_t AS SELECT * FROM {rt}")
    con.unregister(rt)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cspa_q_targets AS {judge.targets_sql('_cspa_q_codes')}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _cspa_q_judged0 AS "
        + judge.judged_sql("_cspa_q_engine", "_cspa_q_targets", "_cspa_q_rules_t", rules)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _cspa_q_judged AS {judge.rag_sql('_cspa_q_judged0', rules)}"
    )


def _area_filter(alias: str) -> str:
    return (
        f"({alias}.area = $area OR {alias}.area = '{ENGLAND}' OR {alias}.area LIKE 'SN:%:' || $area "
        f"OR {alias}.area = $region)"
    )


def _geo(code: str, area: Area) -> str:
    if code == area.code:
        return "area"
    if code.startswith("SN:"):
        return "statistical_neighbours"
    if code == ENGLAND:
        return "england"
    return "region"


def _columns(
    con: duckdb.DuckDBPyConnection, area: Area, p: Period, basket: Basket, rules: Rules, cat
) -> dict[str, list[dict]]:
    """Each indicator's table columns: periods with figures or table targets inside the window,
    plus the periods the basket offers even when empty; in start-then-end date order."""
    table_type = rules.rag.target_types[0]
    got = _rows(
        con,
        f"""
        WITH cand AS (
            SELECT e.indicator, e.period, e.period_label, e.period_kind, e.period_start, e.period_end,
                   CASE WHEN e.area = $area AND q.judged THEN 0 WHEN e.area = $area THEN 1 ELSE 2 END AS pref,
                   e.area = $area AND coalesce(e.provisional, FALSE) AS provisional
            FROM _cspa_q_engine e JOIN _cspa_q_rules_t q USING (indicator, measure)
            WHERE e.for_area IS NULL AND NOT q.commentary AND {_area_filter("e")}
            UNION ALL
            SELECT t.indicator, t.period, t.period_label, t.period_kind, t.period_start, t.period_end, 3, FALSE
            FROM _cspa_q_targets t WHERE t.area = $area AND t.period <> '*' AND t.target_type = $ttype
        )
        SELECT indicator, period, arg_min(period_label, pref) AS label, any_value(period_kind) AS kind,
               min(period_start) AS period_start, max(period_end) AS period_end, bool_or(provisional) AS provisional
        FROM cand WHERE period_start <= $end AND period_end > $window
        GROUP BY indicator, period
    """,
        {
            "area": area.code,
            "region": area.region_code or "",
            "ttype": table_type,
            "end": p.end,
            "window": window_start(p, basket.previous_years),
        },
    )
    by_ind: dict[str, dict[str, dict]] = defaultdict(dict)
    for r in got:
        by_ind[r["indicator"]][r["period"]] = r
    for code in basket.indicators:
        ind = cat.get(code)
        mode = rules.for_indicator(ind.code).columns or basket.columns
        for q in offered_periods(p, mode, basket.previous_years, ind.year_type.value):
            by_ind[ind.code].setdefault(
                q.key,
                {
                    "indicator": ind.code,
                    "period": q.key,
                    "label": seed_label(q),
                    "kind": q.kind,
                    "period_start": q.start,
                    "period_end": q.end,
                    "provisional": False,
                },
            )
    return {
        k: sorted(v.values(), key=lambda c: (c["period_start"], c["period_end"]))
        for k, v in by_ind.items()
    }


# ------------------------------------------------------------------------------------------ document


def build_quarterly_document(
    con: duckdb.DuckDBPyConnection, area_query: str, period: str, basket_id: str | None = None
) -> dict[str, Any]:
    """The quarterly report document for one authority and financial quarter (e.g. ``2007-08-Q4``)."""
    rules = load_rules()
    cat = load_catalogue()
    area = load_areas().resolve(area_query)
    if area.type != "la":
        raise CspaError(
            f"{area.name} is a {area.type}, not a local authority: the quarterly report is per authority."
        )
    p = report_period(period)
    if not area.existed_in(p.end.year) or (area.end is not None and area.end <= p.start):
        from cspa.store.coverage import area_coverage, coverage_sentence, not_then

        raise CspaError(
            not_then(area, p.end.year) + " " + coverage_sentence(area, area_coverage(con, area))
        )
    basket = rules.basket_for(p, basket_id)
    fw = cat.frameworks[basket.framework]
    prepare(con, basket.indicators, rules)
    params = {"area": area.code, "region": area.region_code or ""}
    obs = _rows(
        con,
        f"""
        SELECT e.*, q.commentary, q.judged FROM _cspa_q_engine e JOIN _cspa_q_rules_t q USING (indicator, measure)
        WHERE e.for_area IS NULL AND {_area_filter("e")} AND e.period_start <= $end
        ORDER BY e.indicator, e.measure, e.period_start, e.period_end, e.period, e.area""",
        {**params, "end": p.end},
    )
    if not any(r["area"] == area.code and r["value"] is not None for r in obs):
        # a report about an authority shows its figures: none for this quarter, so say what exists
        from cspa.store.coverage import area_coverage, coverage_sentence

        raise CspaError(
            f"{area.name} has no figures in the {basket.title} ({basket.framework}) for "
            f"{quarter_words(p)}, so there is no report to make. "
            + coverage_sentence(area, area_coverage(con, area))
        )
    targets = _rows(
        con,
        "SELECT * FROM _cspa_q_targets WHERE area = $area ORDER BY indicator, measure, "
        "period_start NULLS FIRST, period_end, period, target_type",
        {"area": area.code},
    )
    judged = _rows(
        con,
        "SELECT * FROM _cspa_q_judged WHERE area = $area AND period_start <= $end "
        "ORDER BY indicator, measure, period_start, period_end, period",
        {"area": area.code, "end": p.end},
    )
    spc_rel = judge.spc_relation(
        con,
        f"(SELECT * FROM _cspa_q_judged WHERE area = '{area.code}' "
        f"AND period_start <= DATE '{p.end.isoformat()}')",
        rules.spc.min_points,
    )
    spc_cols = spc_rel.columns
    spc_rows = [
        dict(zip(spc_cols, r, strict=True))
        for r in spc_rel.order("indicator, measure, period_kind, period_start").fetchall()
    ]
    texts = _rows(
        con,
        "SELECT * FROM quarterly_text WHERE area = $area AND period = $period ORDER BY indicator, field, item",
        {"area": area.code, "period": p.key},
    )
    columns = _columns(con, area, p, basket, rules, cat)
    # "what changed since the last version": entries people made through the template
    history = _rows(
        con,
        """
        SELECT 'target' AS kind, indicator, measure || ' (' || target_type || ')' AS what, period_label, revision,
               changed_by, changed_at, source, based_on, deleted
        FROM quarterly_target_revision WHERE area = $area AND source = 'quarterly template'
          AND indicator IN (SELECT indicator FROM _cspa_q_codes)
        UNION ALL
        SELECT 'text', indicator, field || CASE WHEN item > 0 THEN ' ' || item ELSE '' END, NULL, revision, changed_by,
               changed_at, source, based_on, deleted
        FROM quarterly_text_revision WHERE area = $area AND period = $period AND source = 'quarterly template'
        ORDER BY revision DESC LIMIT 30""",
        {"area": area.code, "period": p.key},
    )

    by = {k: defaultdict(list) for k in ("obs", "targets", "judged", "spc", "texts")}
    for name, rows in (("obs", obs), ("targets", targets), ("judged", judged), ("spc", spc_rows)):
        for r in rows:
            by[name][r["indicator"]].append(r)
    report_text: dict[str, list[dict]] = defaultdict(list)
    for t in texts:
        t["extra"] = json.loads(t["extra"]) if t["extra"] else {}
        if t["indicator"]:
            by["texts"][t["indicator"]].append(t)
        else:
            report_text[t["field"]].append(t)

    indicators, sections = [], []
    for code in basket.indicators:
        ind = cat.get(code)
        doc_ind = _indicator_doc(
            ind,
            area,
            rules,
            columns.get(ind.code, []),
            by["obs"][ind.code],
            by["targets"][ind.code],
            by["judged"][ind.code],
            by["spc"][ind.code],
            by["texts"][ind.code],
        )
        indicators.append(doc_ind)
        sec_title = (
            ind.section if basket.sections_from == "section" else ind.topic
        ) or "Indicators"
        sec_id = "sec-" + "".join(ch if ch.isalnum() else "-" for ch in sec_title.lower()).strip(
            "-"
        )
        if not sections or sections[-1]["id"] != sec_id:
            heading = next(
                (
                    t
                    for t in report_text.get("section_heading", [])
                    if t["extra"].get("section") == sec_title
                ),
                None,
            )
            desc = next(
                (
                    t
                    for t in report_text.get("section_description", [])
                    if t["extra"].get("section") == sec_title
                ),
                None,
            )
            sections.append(
                {
                    "id": sec_id,
                    "title": sec_title,
                    "printed_heading": heading["text"] if heading else None,
                    "description": desc["text"] if desc else None,
                    "subsections": [{"title": None, "indicators": []}],
                }
            )
        sections[-1]["subsections"][0]["indicators"].append(ind.code)

    def one(field: str) -> dict | None:
        rows = report_text.get(field) or []
        if not rows or rows[0]["text"] in (None, ""):
            return None
        t = rows[0]
        return {
            "text": t["text"],
            **{k: v for k, v in t["extra"].items() if k in ("date", "marker", "url", "note")},
            "changed_by": t["changed_by"],
            "changed_at": str(t["changed_at"])[:19],
            "seed_ref": t["seed_ref"],
        }

    key_rows = report_text.get("key") or []
    key_entries = [
        {
            "light": t["extra"].get("colour"),
            "label": (t["extra"].get("colour") or "").capitalize(),
            "meaning": t["text"],
            "seed_ref": t["seed_ref"],
        }
        for t in key_rows
    ] or [
        {"light": c, "label": c.capitalize(), "meaning": rules.rag.key_labels[c], "seed_ref": None}
        for c in ("green", "amber", "red")
    ]
    for e in key_entries:
        e["rule"] = rules.rag.meanings.get(e["light"])
    news_heading = one("headline_news_heading")
    headline = [
        {
            "marker": t["extra"].get("marker"),
            "text": t["text"],
            "indicator": t["extra"].get("indicator"),
            "changed_by": t["changed_by"],
            "seed_ref": t["seed_ref"],
        }
        for t in report_text.get("headline_news") or []
        if t["text"]
    ]
    overall = one("overall_action_plan_rag")
    if overall:
        overall["rag"] = (
            overall["text"].strip().lower()
            if overall["text"].strip().lower() in ("green", "amber", "red")
            else None
        )
    meta = {
        f: one(f)
        for f in (
            "department",
            "reporting_period",
            "date_cib",
            "provisional_caveat",
            "director",
            "date_dmt",
            "portfolio_holder",
            "date_portfolio_holder",
            "version",
            "key_financial_drivers",
            "intranet",
        )
    }
    meta["overall_action_plan_rag"] = overall
    meta["reporting_period"] = meta["reporting_period"] or {"text": quarter_words(p)}
    title_t = one("title")
    vintages = sorted({r["vintage"] for r in obs if r.get("vintage")})
    attribution = attribution_for(fw.licence)
    attribution.append(
        f"Source: {fw.publisher or fw.title}; {fw.vintage or ''}; {fw.licence or ''}".strip(
            "; "
        ).replace("; ;", ";")
    )
    for v in vintages[:8]:
        attribution.append(f"Data vintage: {v}.")
    editors = sorted({t["changed_by"] for t in targets} | {t["changed_by"] for t in texts})
    if editors:
        attribution.append(
            f"Targets and commentary entered by: {', '.join(editors)} (every change is kept; "
            "see `cspa quarterly history`)."
        )
    changes = [
        f"{h['indicator'] or 'Report'}: {h['kind']} {h['what']}{', ' + h['period_label'] if h['period_label'] else ''} "
        f"{'removed' if h['deleted'] else 'entered' if not h['based_on'] else 'changed'} by {h['changed_by']} "
        f"on {str(h['changed_at'])[:16]} (revision {h['revision']}"
        f"{', replacing revision ' + str(h['based_on']) if h['based_on'] else ''})"
        for h in history
    ]
    glyphs, words, meanings = rules.progress.glyphs, rules.progress.words, rules.progress.meanings
    scope = _scope(area, p, basket, fw, indicators, targets)
    return {
        "report": "quarterly",
        "scope": scope,
        "title": title_t["text"] if title_t else basket.title,
        "area": {
            "name": area.name,
            "dfe_code": area.dfe_code,
            "ons_code": area.ons_code,
            "region": area.region_name,
        },
        "period": quarter_words(p),
        "period_key": p.key,
        "period_label": seed_label(p),
        "basket": basket.id,
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
        "changes": changes,
        "legend": {
            "status_symbols": status_legend(fw),
            "traffic_lights": [
                {"light": e["light"], "label": e["label"], "meaning": e["meaning"]}
                for e in key_entries
            ],
            "progress": [
                {"progress": k, "glyph": glyphs[k], "word": words[k], "meaning": meanings[k]}
                for k in ("improved", "same", "worsened")
            ],
            "published": "Figures marked † are published by the source and cannot be recomputed by cspa.",
        },
        "key": {
            "heading": (one("key_heading") or {}).get("text") or "Key to how we are doing",
            "entries": key_entries,
            "key_financial_drivers": (meta["key_financial_drivers"] or {}).get("text")
            or "Performance indicators followed by (F) are key financial drivers.",
        },
        "headline_news": {
            "heading": (news_heading or {}).get("text") or "Headline news",
            "items": headline,
        },
        "report_meta": meta,
        "sections": sections,
        "indicators": indicators,
        "appendices": [],
        "map": None,
    }


def _scope(area: Area, p, basket, fw, indicators: list[dict], targets: list[dict]) -> list[str]:
    """What the report holds and why, for its reader: a basket of a source that publishes whole
    years (``columns: annual``, LAIT) has no quarters, and a report with no targets or commentary
    entered has no RAG against target and no commentary; each says so rather than leaving the
    reader to wonder (issue 18)."""
    out = []
    if basket.columns == "annual":
        out.append(
            f"The {fw.title} publishes figures for whole years, not quarters, so this report shows "
            f"each indicator's latest years up to {quarter_words(p)} rather than quarter by quarter."
        )
    if not targets:
        out.append(
            f"No targets have been entered for {area.name} for this period, so no figure has a RAG "
            "light against its target; an authority enters its targets, commentary and action plans "
            "(cspa quarterly template, then cspa quarterly load, or the web app's quarterly page)."
        )
    elif not any(i.get("narrative") or i.get("action_plan") for i in indicators):
        out.append(
            f"No commentary or action plan has been entered for {area.name} for this period."
        )
    return out


def _val(v, decimals) -> float | None:
    return None if v is None else round(float(v), int(decimals or 0) + 2)


def _indicator_doc(
    ind: Indicator,
    area: Area,
    rules: Rules,
    cols: list[dict],
    obs: list[dict],
    targets: list[dict],
    judged: list[dict],
    spc_rows: list[dict],
    texts: list[dict],
) -> dict[str, Any]:
    r = rules.for_indicator(ind.code)
    mids = ind.measure_ids()
    judged_ids = judged_measures(mids, r.commentary_measures)
    labels = {m.id: m.label for m in ind.measures} or {"value": ind.title}
    decimals = {mid: ind.resolved(mid).display.decimals for mid in mids}

    def mlabel(mid: str) -> str:
        return "Actual" if mid in ("actual", "value") else labels.get(mid, mid)

    def tlabel(mid: str) -> str:
        comp = target_measure(mids, mid)
        if mid in ("actual", "value"):
            return "Target"
        return (
            labels.get(comp, f"{labels.get(mid, mid)} target")
            if comp
            else f"{labels.get(mid, mid)} target"
        )

    col_keys = [c["period"] for c in cols]
    observations = []
    for o in obs:
        observations.append(
            {
                "measure": mlabel(o["measure"]),
                "measure_id": o["measure"],
                "period": o["period_label"],
                "period_key": o["period"],
                "geography": _geo(o["area"], area),
                "value": _val(o["value"], decimals.get(o["measure"]))
                if o["status"] is None
                else None,
                "display": o["display"],
                "numerator": o["numerator"],
                "denominator": o["denominator"],
                "status": o["status"],
                "source": o["source"],
                "basis": o["basis"],
                "provisional": bool(o["provisional"]),
                "in_table": o["period"] in col_keys and not o["commentary"],
                "seed_ref": o["seed_ref"],
            }
        )
    target_docs = []
    for t in targets:
        comp = target_measure(mids, t["measure"]) or f"{t['measure']}_target"
        d = {
            "measure": tlabel(t["measure"]),
            "measure_id": comp,
            "target_for": t["measure"],
            "period": t["period_label"],
            "period_key": None if t["period"] == "*" else t["period"],
            "geography": "area",
            "value": t["value"],
            "display": t["display"],
            "numerator": None,
            "denominator": None,
            "status": t["status"],
            "text": t["text"],
            "source": "input",
            "basis": t["basis"],
            "target_type": t["target_type"],
            "revision": t["revision"],
            "changed_by": t["changed_by"],
            "changed_at": str(t["changed_at"])[:19],
            "note": t["note"],
            "seed_ref": t["seed_ref"],
            "in_table": t["target_type"] == rules.rag.target_types[0]
            and (t["period"] == "*" or t["period"] in col_keys),
        }
        target_docs.append(d)
        observations.append(
            {
                **{
                    k: d[k]
                    for k in (
                        "measure",
                        "measure_id",
                        "period",
                        "period_key",
                        "geography",
                        "value",
                        "display",
                        "numerator",
                        "denominator",
                        "status",
                        "source",
                        "basis",
                    )
                },
                "target_type": t["target_type"],
                "provisional": False,
                "in_table": d["in_table"],
                "seed_ref": t["seed_ref"],
            }
        )
    judgements = []
    for j in judged:
        comparators = {
            g: {"display": j[f"{k}_display"], "period": j[f"{k}_period"]}
            for g, k in (
                ("england", "england"),
                ("statistical_neighbours", "sn"),
                ("region", "region"),
            )
            if j[f"{k}_display"] is not None
        }
        basis = "; ".join(
            b for b in (j["progress_basis"], j["rag_basis"], j["position_basis"]) if b
        )
        judgements.append(
            {
                "measure": mlabel(j["measure"]),
                "measure_id": j["measure"],
                "period": j["period_label"],
                "period_key": j["period"],
                "geography": "area",
                "band": None,
                "band_range": None,
                "traffic_light": None,
                "quartile": j["quartile"],
                "quartile_position": j["quartile_position"],
                "rank": j["rank"],
                "trend": None,
                "significance": None,
                "progress": j["progress"],
                "progress_glyph": j["progress_glyph"],
                "progress_word": j["progress_word"],
                "rag": j["rag"],
                "target": j["target"],
                "target_display": j["target_display"],
                "target_status": j["target_status"],
                "target_text": j["target_text"],
                "target_type": j["target_type"],
                "tolerance": j["tolerance"],
                "comparators": comparators,
                "basis": basis,
                "in_table": j["period"] in col_keys,
            }
        )
    table = _table(
        ind,
        area,
        r,
        cols,
        observations,
        target_docs,
        judgements,
        judged_ids,
        mids,
        mlabel,
        tlabel,
        rules,
    )
    narrative, action_plan, extras = _narrative(texts)
    spc, spc_note = _spc(ind, spc_rows, judged, judged_ids, mlabel, rules)
    title = ind.title
    return {
        "code": ind.code,
        "anchor": "ind-" + "".join(ch if ch.isalnum() else "-" for ch in ind.code),
        "item": r.item,
        "title": title,
        "short_title": ind.short_title,
        "printed_title": next((t["text"] for t in texts if t["field"] == "title"), None),
        "section": ind.section or ind.topic,
        "subsection": None,
        "page": None,
        "polarity": ind.polarity.value,
        "unit": ind.unit.value,
        "key_financial_driver": r.key_financial_driver or title.rstrip().endswith("(F)"),
        "year_to_date": r.year_to_date,
        "definition": ind.definition,
        "numerator_definition": ind.numerator,
        "denominator_definition": ind.denominator,
        "guidance": ind.guidance,
        "health_warning": ind.health_warning,
        "source": ind.source,
        "owner": ind.owner,
        "related": ind.related,
        "light_rule": _light_rule(ind, rules, judged_ids),
        "bands": [],
        "observations": observations,
        "judgements": judgements,
        "targets": target_docs,
        "table": table,
        "chart": _chart(ind, area, table, cols, observations, target_docs, judged_ids, rules),
        "spc": spc,
        "spc_note": spc_note,
        "narrative": narrative,
        "action_plan": action_plan,
        "action_plan_heading": ACTION_PLAN_HEADING,
        **extras,
        "commentary_figures": [o for o in observations if o["measure_id"] in r.commentary_measures],
        "notes": ind.notes,
    }


def _light_rule(ind: Indicator, rules: Rules, judged_ids: list[str]) -> str:
    mid = (judged_ids or ind.measure_ids())[0]
    t = rules.tolerance(ind.code, ind.resolved(mid).unit.value)
    tol = f"{t.value:g}% of the target" if t.type == "relative" else f"{t.value:g}"
    return (
        f"RAG against the {' or '.join(rules.rag.target_types)} target: green on or better than target, amber "
        f"worse but within {tol}, red worse by more (the tolerance cspa sets for this indicator "
        "in its quarterly rules)"
    )


def _cell(o: dict | None, light: str | None = None, basis_extra: str | None = None) -> dict:
    if o is None:
        return {
            "display": "",
            "status": None,
            "light": None,
            "blobs": None,
            "band_range": None,
            "source": None,
            "basis": None,
            "provisional": False,
        }
    basis = "; ".join(b for b in (o.get("basis"), basis_extra) if b)
    return {
        "display": o["display"] or "",
        "status": o["status"],
        "light": light,
        "blobs": None,
        "band_range": None,
        "source": o["source"],
        "basis": basis,
        "provisional": o.get("provisional", False),
    }


def _table(
    ind,
    area,
    r,
    cols,
    observations,
    target_docs,
    judgements,
    judged_ids,
    mids,
    mlabel,
    tlabel,
    rules,
) -> dict:
    keys = [c["period"] for c in cols]
    labels = [c["label"] + (" (provisional)" if c["provisional"] else "") for c in cols]
    table_type = rules.rag.target_types[0]
    obs = {
        (o["measure_id"], o["geography"], o["period_key"]): o
        for o in observations
        if o.get("target_type") is None
    }
    jx = {(j["measure_id"], j["period_key"]): j for j in judgements}
    groups = []
    multi = len(judged_ids) > 1
    for mid in judged_ids:
        rows = [
            {
                "label": f"{area.name} Actual",
                "kind": "actual",
                "geography": "area",
                "cells": [
                    _cell(
                        obs.get((mid, "area", k)),
                        (jx.get((mid, k)) or {}).get("rag"),
                        (jx.get((mid, k)) or {}).get("basis"),
                    )
                    for k in keys
                ],
            }
        ]
        tdocs = [
            t for t in target_docs if t["target_for"] == mid and t["target_type"] == table_type
        ]
        spread = next((t for t in tdocs if t["period_key"] is None), None)
        if spread is not None:
            cells = [{**_cell({**spread, "provisional": False}), "colspan": len(keys)}]
            cells += [
                {"spanned": True, "display": "", "status": None, "source": None, "basis": None}
                for _ in keys[1:]
            ]
            rows.append(
                {
                    "label": f"{area.name} Target",
                    "kind": "target",
                    "geography": "area",
                    "cells": cells,
                }
            )
        elif tdocs:
            tk = {t["period_key"]: t for t in tdocs}
            rows.append(
                {
                    "label": f"{area.name} Target",
                    "kind": "target",
                    "geography": "area",
                    "cells": [
                        _cell({**tk[k], "provisional": False}) if k in tk else _cell(None)
                        for k in keys
                    ],
                }
            )
        if r.show_progress:
            cells = []
            for k in keys:
                j = jx.get((mid, k)) or {}
                cells.append(
                    {
                        "display": j.get("progress_glyph") or "",
                        "word": j.get("progress_word"),
                        "progress": j.get("progress"),
                        "status": None,
                        "source": "computed" if j.get("progress") else None,
                        "basis": j.get("basis") if j.get("progress") else None,
                    }
                )
            rows.append(
                {
                    "label": "Progress on last period?",
                    "kind": "progress",
                    "geography": "area",
                    "cells": cells,
                }
            )
        for geo in ("england", "statistical_neighbours", "region"):
            if any((mid, geo, k) in obs for k in keys):
                name = GEO_LABEL.get(geo) or area.region_name or "Region"
                rows.append(
                    {
                        "label": name,
                        "kind": "comparator",
                        "geography": geo,
                        "cells": [_cell(obs.get((mid, geo, k))) for k in keys],
                    }
                )
        groups.append(
            {"label": labels_for(ind, mid) if multi else None, "measure_id": mid, "rows": rows}
        )
    for mid in mids:
        if mid in judged_ids or mid in r.commentary_measures or is_target_companion(mids, mid):
            continue
        rows = []
        for geo in ("area", "england", "statistical_neighbours", "region"):
            if any((mid, geo, k) in obs for k in keys):
                label = (
                    area.name
                    if geo == "area"
                    else (area.region_name if geo == "region" else GEO_LABEL[geo])
                )
                rows.append(
                    {
                        "label": label,
                        "kind": "breakdown" if geo == "area" else "comparator",
                        "geography": geo,
                        "cells": [_cell(obs.get((mid, geo, k))) for k in keys],
                    }
                )
        if rows:
            groups.append({"label": mlabel(mid), "measure_id": mid, "rows": rows})
    ytd = (
        " (quarters cumulative year to date)"
        if r.year_to_date and any(c["kind"] == "quarter" for c in cols)
        else ""
    )
    return {
        "caption": f"{ind.title}: {area.name}{ytd}",
        "columns": labels,
        "column_keys": keys,
        "row_groups": groups,
    }


def labels_for(ind: Indicator, mid: str) -> str:
    m = next((x for x in ind.measures if x.id == mid), None)
    return m.label if m else ind.title


def _narrative(texts: list[dict]) -> tuple[list[dict], list[dict], dict]:
    by_field = defaultdict(list)
    for t in texts:
        by_field[t["field"]].append(t)
    narrative, plan = [], []
    for field, label, _line, group in INDICATOR_FIELDS:
        for t in by_field.get(field, []):
            if t["text"] in (None, "") and field != "planned_action":
                continue
            entry = {
                "field": field,
                "label": label,
                "text": t["text"] or "",
                "changed_by": t["changed_by"],
                "changed_at": str(t["changed_at"])[:19],
                "revision": t["revision"],
                "seed_ref": t["seed_ref"],
                "note": t["extra"].get("note"),
                "marker": t["extra"].get("marker"),
            }
            if field in ("overall_action_plan_rag",):
                word = (t["extra"].get("rag") or t["text"] or "").strip().lower()
                entry["rag"] = word if word in ("green", "amber", "red") else None
            (plan if group == "action_plan" else narrative).append(entry)
    extras = {"transcription_note": (by_field.get("transcription_note") or [{}])[0].get("text")}
    return narrative, plan, extras


def _spc(ind, rows, judged, judged_ids, mlabel, rules) -> tuple[list[dict], str | None]:
    out = []
    series = defaultdict(list)
    for r in rows:
        series[(r["measure"], r["period_kind"])].append(r)
    for (mid, kind), pts in series.items():
        pts.sort(key=lambda x: x["period_start"])
        last = pts[-1]
        var, ass = last["spc_variation_icon"], last["spc_assurance_icon"]
        specials = [
            f"{p['period_label']} ({p['spc_special_cause']})"
            for p in pts
            if p["spc_point_type"] != "common_cause" and p["spc_special_cause"]
        ]
        summary = (
            f"{mlabel(mid)}, {KIND_WORDS.get(kind, kind)} figures {pts[0]['period_label']} to {last['period_label']}: "
            f"mean {last['spc_mean']:.4g}, process limits {last['spc_lpl']:.4g} to {last['spc_upl']:.4g}. "
            if last["spc_mean"] is not None and last["spc_lpl"] is not None
            else f"{mlabel(mid)}: limits could not be set ({last['spc_reason']}). "
        )
        summary += VARIATION_TEXT.get(var, "Variation not judged") + ". "
        summary += (
            ASSURANCE_TEXT[ass] + "."
            if ass in ASSURANCE_TEXT
            else "No target assurance (no target set)."
        )
        if specials:
            summary += " Special cause points: " + "; ".join(specials) + "."
        out.append(
            {
                "measure": mlabel(mid),
                "measure_id": mid,
                "period_kind": kind,
                "title": f"{ind.title}: SPC chart",
                "points": [
                    {
                        "period": p["period_label"],
                        "value": p["value"],
                        "target": p["target"],
                        "mean": p["spc_mean"],
                        "lpl": p["spc_lpl"],
                        "upl": p["spc_upl"],
                        "special_cause": p["spc_special_cause"],
                        "point_type": p["spc_point_type"],
                    }
                    for p in pts
                ],
                "mean": last["spc_mean"],
                "lpl": last["spc_lpl"],
                "upl": last["spc_upl"],
                "variation_icon": var,
                "variation_text": VARIATION_TEXT.get(var),
                "assurance_icon": ass,
                "assurance_text": ASSURANCE_TEXT.get(ass),
                "short_group_warning": bool(last["spc_short_group_warning"]),
                "reason": last["spc_reason"],
                "basis": last["spc_basis"],
                "summary": summary,
            }
        )
    note = None
    if not out:
        counts = defaultdict(int)
        for j in judged:
            if j["measure"] in judged_ids[:1] and j["value"] is not None:
                counts[j["period_kind"]] += 1
        have = (
            ", ".join(f"{n} {KIND_WORDS.get(k, k)}" for k, n in sorted(counts.items()))
            or "no figures"
        )
        note = (
            f"No SPC chart: {have}; an XmR chart needs at least {rules.spc.min_points} figures of one kind "
            "(NHS Making Data Count)."
        )
    return out, note


def _chart(ind, area, table, cols, observations, target_docs, judged_ids, rules) -> dict | None:
    if not judged_ids or len(cols) < 2:
        return None
    mid = judged_ids[0]
    keys = [c["period"] for c in cols]
    label_of = dict(zip(keys, [c["label"] for c in cols], strict=True))
    series = []
    for geo, name in (
        ("area", f"{area.name} actual"),
        ("target", f"{area.name} target"),
        ("england", "National"),
        ("statistical_neighbours", "Statistical neighbours"),
        ("region", area.region_name or "Region"),
    ):
        if geo == "target":
            src = [
                t
                for t in target_docs
                if t["target_for"] == mid
                and t["target_type"] == rules.rag.target_types[0]
                and t["period_key"] in keys
                and t["value"] is not None
            ]
        else:
            src = [
                o
                for o in observations
                if o["measure_id"] == mid
                and o["geography"] == geo
                and o.get("target_type") is None
                and o["period_key"] in keys
                and o["value"] is not None
            ]
        pts = sorted(
            (
                {
                    "period": label_of[o["period_key"]],
                    "value": o["value"],
                    "display": o.get("display") or f"{o['value']:g}",
                }
                for o in src
            ),
            key=lambda x: list(label_of.values()).index(x["period"]),
        )
        if pts:
            # the kind says how the chart draws it: the same encoding in every report
            series.append({"name": name, "kind": geo, "points": pts})
    if not series or series[0]["name"] != f"{area.name} actual" or len(series[0]["points"]) < 2:
        return None
    first = series[0]["points"]
    summary = (
        f"{area.name}: {first[0]['display']} in {first[0]['period']} and "
        f"{first[-1]['display']} in {first[-1]['period']}."
    )
    for s in series[1:]:
        summary += f" {s['name']}: {s['points'][-1]['display']} in {s['points'][-1]['period']}."
    return {
        "kind": "line",
        "title": ind.short_title or ind.title,
        "y_label": ind.unit.value.replace("_", " "),
        "series": series,
        "quartile_bands": None,
        "summary": summary,
    }
