"""Build the APA dataset report document (docs/report-spec.md) for one authority from the engine's judgements.

Nothing is computed here: figures, display strings, bands, lights and their bases all come
from :func:`cspa.engine.run.compute`; this module only selects the rows for one authority
and arranges them in the seed's order (outcome, section, page) and table layout.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb

from cspa import __version__
from cspa.catalogue.areas import ENGLAND, Area, load_areas
from cspa.catalogue.load import load_catalogue
from cspa.catalogue.models import OUTCOME_TITLES, Indicator, Outcome
from cspa.catalogue.neighbours import load_neighbours

OUTCOME_ORDER = list(Outcome)
GEO_ORDER = {"area": 0, "statistical_neighbours": 2, "region": 3, "england": 4}
STATUS_LEGEND = {
    ".": "Data not applicable", "..": "Data not available", "-": "Data suppressed due to small numbers",
    "n/a": "Not applicable", "N/A": "Not applicable or null accepted", "#": "Rate based on fewer than 3 pupils not shown",
    "*": "Doubts about reliability", "x": "Not available", "c": "Confidential (suppressed)", "z": "Not applicable",
    "k": "Low (rounds to zero)", "low": "Low (rounds to zero)",
}
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


def framework_for_year(year: int) -> str:
    """The 2008 APA framework for the seed era, LAIT for current data (a default, overridable)."""
    return "apa2008" if year <= 2011 else "lait"


def judgement_rows(con: duckdb.DuckDBPyConnection, framework: str, area: Area) -> list[dict]:
    """The engine's rows for one authority: its own figures, its comparators and non-LA geographies."""
    from cspa.engine.run import compute

    has_table = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'judgement'").fetchall()[0][0]
    region = area.region_code or ""
    keep = (f"(j.area = '{area.code}' OR j.area LIKE 'SN:%:{area.code}' OR j.area = '{ENGLAND}' OR j.area = '{region}' "
            f"OR coalesce(a.type, 'x') NOT IN ('la', 'region') AND j.area NOT LIKE 'SN:%')")
    inds = f"j.indicator IN (SELECT code FROM indicator WHERE framework = '{framework}')"
    if has_table:
        rel = con.sql(f"SELECT j.* FROM judgement j LEFT JOIN area a ON a.code = j.area WHERE {inds} AND {keep}")
    else:
        # compute for the whole framework (ranks and neighbour aggregates need every authority)
        rel = compute(con, f"o.indicator IN (SELECT code FROM indicator WHERE framework = '{framework}')")
        rel = con.sql(f"SELECT j.* FROM rel j LEFT JOIN area a ON a.code = j.area WHERE {keep}")
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


# Geographies that are the authority's own area under another name: a drug action team and a
# youth offending team cover their local authority (000:L693; the YOT-area list at 000:L7195-7221
# names the exceptions, which have no parent).
COTERMINOUS_TYPES = ("dat", "yot")


def _geography(row: dict, area: Area, names: dict[str, str]) -> str:
    code = row["area"]
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


def build_apa_document(con: duckdb.DuckDBPyConnection, area_query: str, year: int, framework: str | None = None) -> dict:
    areas = load_areas()
    area = areas.resolve(area_query)
    framework = framework or framework_for_year(year)
    cat = load_catalogue()
    fw = cat.frameworks[framework]
    names = {a.code: a.name for a in areas}
    names.update(dict(con.execute("SELECT code, name FROM area").fetchall()))
    decimals = {(i, m): d for i, m, d in con.execute("SELECT indicator, measure, decimals FROM measure").fetchall()}
    rows = judgement_rows(con, framework, area)
    by_ind: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_ind[r["indicator"]].append(r)

    indicators = sorted(cat.in_framework(framework), key=lambda i: (
        OUTCOME_ORDER.index(i.outcome) if i.outcome else 99, i.page or 0, i.section or i.topic or "", i.code))
    if framework != "apa2008":
        # current frameworks: only indicators with figures for this authority
        indicators = [i for i in indicators if any(r["area"] == area.code for r in by_ind.get(i.code, []))]
    sections: list[dict] = []
    docs = []
    vintages: set[str] = set()
    for ind in indicators:
        irows = by_ind.get(ind.code, [])
        docs.append(_indicator_doc(ind, irows, area, names, decimals))
        vintages.update(r["vintage"] for r in irows if r["vintage"])
        title = OUTCOME_TITLES.get(ind.outcome, "Other") if ind.outcome else (ind.topic or "Other")
        sec_id = ind.outcome.value if ind.outcome else (ind.topic or "other").lower().replace(" ", "_")
        if not sections or sections[-1]["id"] != sec_id:
            sections.append({"id": sec_id, "title": title, "subsections": []})
        sub = ind.section or ind.topic or ""
        if not sections[-1]["subsections"] or sections[-1]["subsections"][-1]["title"] != sub:
            sections[-1]["subsections"].append({"title": sub, "indicators": []})
        sections[-1]["subsections"][-1]["indicators"].append(ind.code)

    ng = load_neighbours()
    appendices = []
    groups = sorted({i.neighbour_group for i in indicators if i.neighbour_group} |
                    {fw.default_neighbour_group.get("default")} - {None})
    for g in groups:
        try:
            ns = ng.of(g, area.code)
        except Exception:  # a group unknown for this framework: listed as such, not fatal
            ns = []
        if ns:
            info = ng.info.get(g)
            appendices.append({"code": None, "title": f"{info.name if info else g} for {area.name}", "group": g,
                               "source": info.source if info else None,
                               "neighbours": [{"rank": n.rank, "name": n.name, "code": n.code, "closeness": n.closeness}
                                              for n in ns]})
    default_group = fw.default_neighbour_group.get("default")
    map_doc = _map(area, ng, default_group, areas)
    attribution = [OGL] if framework != "apa2008" else []
    attribution.append(f"Source: {fw.publisher or fw.title}; {fw.vintage or ''}; {fw.licence or ''}".strip("; "))
    for v in sorted(vintages)[:12]:
        attribution.append(f"Data vintage: {v}.")
    return {
        "report": "apa-dataset",
        "title": fw.title if framework == "apa2008" else f"{fw.title}: benchmarking report",
        "area": {"name": area.name, "dfe_code": area.dfe_code, "ons_code": area.ons_code, "region": area.region_name},
        "period": str(year),
        "framework": {"id": fw.id, "title": fw.title, "publisher": fw.publisher, "vintage": fw.vintage, "licence": fw.licence},
        "version": f"cspa {__version__}",
        "produced": dt.date.today().isoformat(),
        "attribution": attribution,
        "changes": list(fw.notes),
        "legend": {
            "status_symbols": STATUS_LEGEND,
            "traffic_lights": [
                {"light": "green", "label": "Green", "meaning": "performance at or above the good threshold the indicator sets"},
                {"light": "amber", "label": "Amber", "meaning": "within the expected range"},
                {"light": "red", "label": "Red", "meaning": "performance that needs to improve"}],
            "bands": "Bands run from Low (1 blob) to High (5 blobs); on symmetric indicators the middle band is best.",
            "published": "Figures marked † are published by the source and cannot be recomputed by cspa.",
        },
        "sections": sections,
        "indicators": docs,
        "appendices": appendices,
        "map": map_doc,
    }


def _indicator_doc(ind: Indicator, rows: list[dict], area: Area, names: dict[str, str], decimals: dict) -> dict:
    mlabels = {m.id: m.label for m in ind.measures}
    observations, judgements = [], []
    periods: dict[str, tuple] = {}
    for r in sorted(rows, key=lambda r: (r["measure"], r["period_end"] or dt.date.min, r["area"])):
        geo = _geography(r, area, names)
        measure = mlabels.get(r["measure"]) if r["measure"] != "value" else None
        if r["for_area"] is None:
            observations.append({
                "measure": measure, "measure_id": r["measure"], "period": r["period_label"], "geography": geo,
                "value": _round(r["value"], decimals.get((r["indicator"], r["measure"]), 1) + 2) if r["status"] is None else None,
                "display": r["display"], "numerator": r["numerator"], "denominator": r["denominator"],
                "status": r["status"], "source": r["source"], "basis": r["basis"],
            })
            periods.setdefault(r["period_label"], (r["period_end"] or dt.date.min, r["period_start"] or dt.date.min))
        if r["for_area"] is not None and r["for_area"] != area.code:
            continue
        fields = {
            "band": r["band"], "band_range": r["band_range"], "traffic_light": r["traffic_light"],
            "quartile": r["quartile"] or r["position_quartile"], "quartile_position": r["quartile_position"],
            "rank": r["rank"], "trend": r["improving"] or r.get("trend"), "significance": r["significance"],
            "progress": r["progress"], "rag": None, "target": None,
        }
        if any(v is not None for v in fields.values()):
            basis = "; ".join(b for b in (r.get("band_basis"), r.get("light_basis"), r.get("position_basis"),
                                         r.get("distribution_basis"), r.get("progress_basis"),
                                         r.get("trend_basis"), r.get("significance_basis")) if b)
            judgements.append({"measure": measure, "measure_id": r["measure"], "period": r["period_label"],
                               "geography": geo, **fields, "basis": basis})
    cols = [p for p, _ in sorted(periods.items(), key=lambda kv: kv[1])]
    table = _table(ind, observations, judgements, cols, mlabels)
    light = ind.traffic_light
    return {
        "code": ind.code, "title": ind.title, "section": OUTCOME_TITLES.get(ind.outcome) if ind.outcome else ind.topic,
        "subsection": ind.section, "page": ind.page, "polarity": ind.polarity.value if ind.polarity.value != "middle" else "none",
        "unit": ind.unit.value, "definition": ind.definition, "numerator_definition": ind.numerator,
        "denominator_definition": ind.denominator, "guidance": ind.guidance, "health_warning": ind.health_warning,
        "source": ind.source, "owner": ind.owner, "related": ind.related,
        "light_rule": getattr(light, "reason", None) if light.rule == "none" else light.rule.replace("_", " "),
        "bands": [{"periods": b.periods, "cutoffs": b.cutoffs, "blobs": b.blobs} for b in ind.bands],
        "observations": observations, "judgements": judgements, "table": table,
        "chart": _chart(ind, observations, cols, area), "notes": ind.notes,
    }


def _table(ind: Indicator, obs: list[dict], judgements: list[dict], cols: list[str], mlabels: dict) -> dict:
    jx = {(j["measure_id"], j["period"], j["geography"]): j for j in judgements}
    groups = []
    for mid in [m.id for m in ind.measures] or ["value"]:
        mobs = [o for o in obs if o["measure_id"] == mid]
        if not mobs:
            continue
        geos = sorted({o["geography"] for o in mobs}, key=lambda g: (GEO_ORDER.get(g, 1), g))
        rows = []
        for g in geos:
            cells = []
            for p in cols:
                o = next((o for o in mobs if o["geography"] == g and o["period"] == p), None)
                j = jx.get((mid, p, g), {})
                cells.append({"display": "", "status": None, "light": None, "blobs": None, "band_range": None,
                              "source": None, "basis": "no figure for this period"} if o is None else {
                    "display": o["display"], "status": o["status"], "light": j.get("traffic_light"),
                    "blobs": j.get("band"), "band_range": j.get("band_range"), "source": o["source"],
                    "basis": o["basis"]})
            label = {"area": None, "statistical_neighbours": "Statistical neighbours", "england": "England",
                     "region": "Region"}.get(g, g)
            rows.append({"label": label, "geography": g, "cells": cells})
        groups.append({"label": mlabels.get(mid), "rows": rows})
    return {"caption": ind.title, "columns": cols, "row_groups": groups}


def _chart(ind: Indicator, obs: list[dict], cols: list[str], area: Area) -> dict | None:
    mid = ([m.id for m in ind.measures] or ["value"])[0]
    series = []
    for g, name in (("area", area.name), ("statistical_neighbours", "Statistical neighbours"), ("england", "England")):
        pts = [{"period": o["period"], "value": o["value"]} for o in obs
               if o["measure_id"] == mid and o["geography"] == g and o["value"] is not None]
        if pts:
            series.append({"name": name, "points": pts})
    if not series or max(len(s["points"]) for s in series) < 2:
        return None
    first = series[0]["points"]
    summary = (f"{series[0]['name']}: {first[0]['value']:g} in {first[0]['period']} and {first[-1]['value']:g} in "
               f"{first[-1]['period']}.")
    for s in series[1:]:
        summary += f" {s['name']}: {s['points'][-1]['value']:g} in {s['points'][-1]['period']}."
    return {"kind": "line", "title": ind.title, "y_label": ind.unit.value.replace("_", " "), "series": series,
            "quartile_bands": None, "summary": summary}


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
    return {"area": {"name": area.name, "lat": area.lat, "long": area.long}, "neighbours": pts, "note": note}
