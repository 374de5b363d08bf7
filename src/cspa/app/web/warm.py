"""Warming the caches after a start, a load or an edit of figures, in the background.

The first reader of an authority's summary, or of an indicator, would otherwise pay for the
queries and the rendering (about 0.1 s each alone, seconds under load: measured in bench/web.py).
The warmer asks the app itself, as an anonymous reader, for every current authority's summary and
for one authority's page of every indicator of the current data (which computes what every
authority's page of that indicator shares), at low priority: one request at a time.
"""

from __future__ import annotations

import asyncio
import threading

from fastapi import FastAPI


def start(app: FastAPI) -> threading.Thread:
    app.state.warm = "warming"

    def run() -> None:
        asyncio.run(_warm(app))
        app.state.warm = "warm"

    t = threading.Thread(target=run, daemon=True, name="cspa-warm")
    t.start()
    return t


async def _warm(app: FastAPI) -> None:
    import httpx

    from cspa.app.web import queries

    db = app.state.db
    with db.read() as cur:
        areas = [a["dfe_code"] for a in queries.areas(cur)]
        codes = [
            r[0]
            for r in cur.execute(
                "SELECT DISTINCT indicator FROM web_latest WHERE framework IN ('lait', 'dfe_csc') "
                "ORDER BY 1"
            ).fetchall()
        ]
    version = db.version
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://warm"
    ) as c:
        urls = [f"/areas/{a}" for a in areas] + [
            f"/areas/{areas[0]}/indicators/{code}" for code in codes
        ]
        for url in urls:
            if db.version != version or getattr(app.state, "closing", False):
                return  # the figures changed: what was warmed is stale; the next start warms again
            try:
                await c.get(url)
            except Exception:  # a page that fails here fails for its reader too, who sees why
                continue
            await asyncio.sleep(0)
