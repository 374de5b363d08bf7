"""``/areas/{dfe}/indicators/{code}``: one indicator for one authority against its neighbours,
its region, England and every authority: table, charts, rank, trend, significance, provenance."""

from __future__ import annotations

import io
import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from cspa.app.web import charts, queries
from cspa.app.web.pages.common import area_or_404, cached_page, db, render, sees_private
from cspa.outputs.safe_text import csv_writer

router = APIRouter()


def audience(request: Request, a: dict) -> tuple[bool, str | None]:
    """Who is asking about authority ``a``'s figures: ``viewer`` (True: public figures only, small
    counts suppressed) and ``own`` (the authority whose unpublished figures they may also see).
    Figures not yet published: every authority's for administrators, this authority's for its own
    editors and inspectors, none for anyone else."""
    viewer = not sees_private(request, a["code"])
    own = None if sees_private(request, None) else (a["code"] if not viewer else None)
    return viewer, own


def indicator_view(
    request: Request, a: dict, code: str, measure: str | None, period: str | None
) -> dict:
    d = db(request)
    viewer, own = audience(request, a)
    public_only = viewer or own is not None
    with d.read() as cur:
        ind = d.cached(("indicator", code), lambda: queries.indicator(cur, code))
        if ind is None:
            raise HTTPException(404, f"There is no indicator {code!r} in the catalogue.")
        ms = {m["measure"]: m for m in ind["measures"]}
        m = ms.get(measure or "") or (ind["measures"][0] if ind["measures"] else None)
        if m is None:
            raise HTTPException(404, f"Indicator {code!r} has no measures.")
        pers = d.cached(
            ("periods", code, m["measure"], public_only, own),
            lambda: queries.periods(cur, code, m["measure"], public_only, own),
        )
        keys = [p["period"] for p in pers]
        chosen = period if period in keys else (keys[-1] if keys else None)
        figs = (
            d.cached(
                ("figures", code, m["measure"], chosen, public_only, own),
                lambda: queries.figures(cur, code, m["measure"], chosen, public_only, own),
            )
            if chosen
            else []
        )
        group = queries.neighbour_group_for(ind, m)
        nbs = (
            d.cached(("nbs", a["code"], group), lambda: queries.neighbours(cur, a["code"], group))
            if group
            else []
        )
        sn_code = f"SN:{group}:{a['code']}" if group else None
        wanted = [a["code"], queries.ENGLAND] + ([a["region_code"]] if a.get("region_code") else [])
        wanted += [sn_code] if sn_code else []
        ser = d.cached(
            ("series", code, m["measure"], a["code"], viewer),
            lambda: queries.series(cur, code, m["measure"], wanted, viewer),
        )
    figs = [queries.suppress(f, viewer) for f in figs]
    ser = [queries.suppress(f, viewer) for f in ser]
    nb_codes = {n["code"] for n in nbs}
    mine = next((f for f in figs if f["area"] == a["code"]), None)
    england = next((f for f in figs if f["area"] == queries.ENGLAND), None)
    region = next((f for f in figs if f["area"] == a.get("region_code")), None)
    sn = next((f for f in figs if f["area"] == sn_code), None)
    las = [f for f in figs if f["area_type"] == "la"]
    neighbour_rows = [f for f in las if f["area"] in nb_codes]
    dist = charts.distribution(figs, a["code"], nb_codes, england["value"] if england else None)
    by_key = {
        "area": a["code"],
        "neighbours": sn_code,
        "region": a.get("region_code"),
        "england": queries.ENGLAND,
    }
    series = {
        key: [(f["period_label"], f["value"]) for f in ser if f["area"] == code_]
        for key, code_ in by_key.items()
        if code_
    }
    labels = {
        "area": a["name"],
        "neighbours": "Statistical neighbours' average",
        "region": a.get("region") or "Region",
        "england": "England",
    }
    # region and England figures outside every authority's are totals (a count's): off the
    # charts' scale, given in the tables (judged only when authorities have figures to span)
    la_values = [f["value"] for f in las if f["value"] is not None]
    off = [
        (key, f)
        for key, f in (("region", region), ("england", england))
        if len(la_values) >= 2
        and f is not None
        and f["value"] is not None
        and not charts.within(f["value"], la_values)
    ]
    off_scale = [(labels[key], f["display"]) for key, f in off]
    drawn = {k: v for k, v in series.items() if v and k not in {key for key, _ in off}}
    trend_chart = charts.trend(drawn, labels)
    trend_rows = []
    for p in sorted({(f["period_end"], f["period_label"]) for f in ser}):
        row = {"period": p[1]}
        for key, code_ in by_key.items():
            f = next((x for x in ser if x["area"] == code_ and x["period_label"] == p[1]), None)
            row[key] = f["display"] if f else None
        trend_rows.append(row)
    return {
        "area": a,
        "indicator": ind,
        "measure": m,
        "periods": pers,
        "period": chosen,
        "figures": figs,
        "authorities": las,
        "mine": mine,
        "england": england,
        "region": region,
        "neighbours_avg": sn,
        "neighbour_rows": neighbour_rows,
        "neighbour_codes": nb_codes,
        "group": group,
        "distribution": dist,
        "trend_chart": trend_chart,
        "off_scale": off_scale,
        "trend_rows": trend_rows,
        "labels": labels,
        "viewer": viewer,
    }


@router.get("/areas/{dfe}/indicators/{code}")
def indicator_page(
    request: Request, dfe: str, code: str, measure: str | None = None, period: str | None = None
):
    a = area_or_404(request, dfe)
    hit = cached_page(request, "indicator.html", a["code"])
    if hit is not None:
        return hit
    v = indicator_view(request, a, code, measure, period)
    return render(
        request, "indicator.html", public=True, title=f"{v['indicator']['title']}: {a['name']}", **v
    )


#: the download's columns: (heading, the figure's field of :func:`queries.indicator_table`); the
#: names follow DfE's tidy data files where they can (time_period, geographic_level) so an
#: analyst's scripts read it like the sources
CSV_COLUMNS = (
    ("indicator", "indicator"),
    ("indicator_title", "indicator_title"),
    ("measure", "measure"),
    ("measure_label", "measure_label"),
    ("unit", "unit"),
    ("polarity", "polarity"),
    ("time_period", "period"),
    ("time_period_label", "period_label"),
    ("geographic_level", "geographic_level"),
    ("area_code", "area"),
    ("dfe_la_code", "dfe_code"),
    ("ons_code", "ons_code"),
    ("area_name", "area_name"),
    ("value", "value"),
    ("display", "display"),
    ("numerator", "numerator"),
    ("denominator", "denominator"),
    ("status", "status"),
    ("rank", "rank"),
    ("rank_of", "rank_of"),
    ("rank_shared", "rank_shared"),
    ("quartile", "quartile"),
    ("neighbours_average", "neighbours_value"),
    ("neighbours_average_display", "neighbours_display"),
    ("neighbour_group", "neighbour_group"),
    ("change", "change"),
    ("progress", "progress"),
    ("trend", "trend"),
    ("significance_vs_england", "significance"),
    ("figure_origin", "origin"),
    ("data_set", "data_set"),
    ("publisher", "publisher"),
    ("vintage", "vintage"),
    ("licence", "licence"),
)


@router.get("/areas/{dfe}/indicators/{code}/figures.csv")
def indicator_csv(
    request: Request, dfe: str, code: str, measure: str | None = None, period: str | None = None
):
    """The indicator's figures for every authority, region and England as CSV (one period, or every
    period without ``period``), each row with its source, vintage and licence: what LAIT's and
    Fingertips' downloads give, with cspa's judgements. Who sees which figures is as on the page."""
    a = area_or_404(request, dfe)
    d = db(request)
    viewer, own = audience(request, a)
    with d.read() as cur:
        ind = queries.indicator(cur, code)
        if ind is None:
            raise HTTPException(404, f"There is no indicator {code!r} in the catalogue.")
        m, found = queries.indicator_table(cur, ind, measure, period, viewer, own)
    if why := queries.table_refusal(ind, measure, period, m, found):
        raise HTTPException(404, why)
    out = io.StringIO()
    w = csv_writer(out)
    w.writerow([heading for heading, _ in CSV_COLUMNS])
    for f in found:
        w.writerow([f.get(field) for _, field in CSV_COLUMNS])
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"cspa-{code}-{m['measure']}-{period or 'all-periods'}")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
