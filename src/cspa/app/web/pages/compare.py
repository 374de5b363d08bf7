"""``/compare?areas=821,909,...&indicator=...``: chosen authorities side by side, against the
group they make (a comparator group of the user's choosing) and England."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request

from cspa.app.web import charts, queries
from cspa.app.web.pages.common import db, render, sees_private

router = APIRouter()

MAX_AREAS = 20


def parse_areas(text: str | None) -> list[str]:
    codes = [c for c in re.split(r"[\s,;]+", text or "") if c]
    bad = [c for c in codes if not c.isdigit() or len(c) > 4]
    if bad:
        raise HTTPException(400, f"Give authorities by DfE number (three digits), not {bad[0]!r}.")
    return list(dict.fromkeys(codes))[:MAX_AREAS]


def fmt_diff(v: float | None, unit: str | None) -> str:
    if v is None:
        return ""
    digits = 0 if unit == "count" else 1
    return f"{v:+,.{digits}f}"


@router.get("/compare")
def compare_page(
    request: Request,
    areas: str | None = None,
    indicator: str | None = None,
    measure: str | None = None,
):
    d = db(request)
    viewer = not sees_private(request, None)  # unpublished figures: administrators only
    codes = parse_areas(areas)
    with d.read() as cur:
        chosen = [
            a for a in (d.cached(("area", c), lambda c=c: queries.area(cur, c)) for c in codes) if a
        ]
        unknown = [c for c in codes if c not in {a["dfe_code"] for a in chosen}]
        inds = d.cached(("indicators", None), lambda: queries.indicators(cur))
        ind = (
            d.cached(("indicator", indicator), lambda: queries.indicator(cur, indicator))
            if indicator
            else None
        )
        m = None
        rows_ = []
        if ind and chosen:
            ms = {x["measure"]: x for x in ind["measures"]}
            m = ms.get(measure or "") or (ind["measures"][0] if ind["measures"] else None)
            if m:
                rows_ = d.cached(
                    ("compare", indicator, m["measure"], tuple(codes), viewer),
                    lambda: queries.compared(
                        cur, indicator, m["measure"], [a["code"] for a in chosen], viewer
                    ),
                )
    rows_ = [queries.suppress(r, viewer) for r in rows_]
    periods = []
    for r in rows_:
        if r["period_label"] not in periods:
            periods.append(r["period_label"])
    periods = periods[-8:]
    table = []
    for a in chosen:
        cells = {r["period_label"]: r for r in rows_ if r["area"] == a["code"]}
        table.append({"area": a, "cells": [cells.get(p) for p in periods]})
    group_row = []
    england_row = []
    for p in periods:
        r = next((x for x in rows_ if x["period_label"] == p), None)
        group_row.append(r)
        england_row.append(r["england_display"] if r else None)
    latest = periods[-1] if periods else None
    latest_rows = [r for r in rows_ if r["period_label"] == latest]
    for r in latest_rows:
        r["vs_group_display"] = fmt_diff(r["vs_group"], r.get("unit"))
        r["area_name"] = next(a["name"] for a in chosen if a["code"] == r["area"])
    series = {
        a["code"]: [
            (r["period_label"], r["value"])
            for r in rows_
            if r["area"] == a["code"] and r["period_label"] in periods
        ]
        for a in chosen
    }
    chart = (
        charts.trend(series, {a["code"]: a["name"] for a in chosen}) if len(chosen) <= 4 else None
    )
    if chart:
        styles = list(charts.SERIES_STYLE.values())
        for i, line in enumerate(chart["lines"]):
            line.update(styles[i % len(styles)])
    return render(
        request,
        "compare.html",
        public=True,
        title="Compare authorities",
        areas_text=",".join(codes),
        chosen=chosen,
        unknown=unknown,
        indicators=inds,
        indicator=ind,
        measure=m,
        periods=periods,
        table=table,
        group_row=group_row,
        england_row=england_row,
        latest=latest,
        latest_rows=latest_rows,
        chart=chart,
        group_digits=0,
    )
