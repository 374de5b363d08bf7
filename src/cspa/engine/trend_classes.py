"""The seed's trend class of every authority's series at once, on the build's integer keys.

The rule is :func:`cspa.engine.trends.seed_trend`'s (000:L3083, methods.md 8): each series' three-year
moving averages over the measure's latest :data:`~cspa.engine.trends.TREND_YEARS` years (defined only
where all three years are present), the OLS slope of the averages on the calendar year over at least
two of them, ranked descending among every authority's with ties sharing the best rank, classed
10/20/40/20/10%; and the same for the authority's slope less its neighbours' (the neighbour group's
series, made from the neighbours' figures like any other). With five years there are at most three
moving averages, equally spaced, so the slope is ``(m4 - m2) / 2`` through three and the difference
through two.

A national build has a million figures in 140,000 series. Which of the five years a figure falls in
is decided in SQL per measure and period (a few thousand cells); the series are then laid out in
numpy, five slots side by side, and ranked by one sort each: DuckDB's grouping and windows cost
twice as much for the same numbers (docs/engine.md). The rules that read the catalogue (which
periods are annual, the series' breaks, the authorities' lifetimes) are SQL's; the classes and the
reasons a series is left out are written by SQL from the numbers (:func:`trend_classes_sql`).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cspa.engine import ordering
from cspa.engine.trends import MIN_TREND_AREAS, TREND_YEARS, class_sql

#: The names :func:`trend_classes_sql` reads the table of :func:`trend_inputs` under.
TREND_INPUT = "_cspa_trend_series"

# a rounded slope: equal slopes (common where figures are published to one decimal) rank as ties,
# whatever the float arithmetic's last bits (polarity.COMPARED_DECIMALS places, rounded as SQL's
# round() rounds: half away from zero on the value x 10^10)
_SCALE = 1e10


def trend_inputs(con: duckdb.DuckDBPyConnection, f: str, observed: str) -> pa.Table:
    """Each authority series' trend numbers: one row per series of an authority (``la``) with a
    figure in the measure's latest five years, on the series' latest figure (``rid``).

    ``f``: the build's figure rows (observed, neighbour and pooled figures: ``rid, sid, aid, pid,
    value``); ``observed``: its observed figures (the cells a neighbour figure can be in are those
    of the authorities' figures it was made from, so the periods are read from half the rows).

    Columns: ``rid, aid, slope`` (NaN where not ranked: a repeated year, fewer than two
    moving averages, or the authority ``outside`` the series' latest period), ``outside`` (0; 1 the
    authority was created after that period; 2 it had ceased before it; 3 it ceased within it and a
    successor's series ends in it too, so the place is ranked once, as the successor), ``rank`` and
    ``n`` (among the measure's authorities), ``diff`` (slope less the neighbours' slope), ``sn_rank``
    and ``sn_n``, ``dup`` (a repeated year), ``n_ma``, ``y0`` and ``y1`` (the years of the first and
    last moving average used).
    """
    # which of the five years each figure falls in is decided per measure and period; the figures
    # of areas other than authorities and neighbour groups are dropped after the fetch (fewer rows
    # than a filter in the join costs)
    x = con.execute(
        f"""
        WITH cells AS (
            SELECT DISTINCT o.sid, o.pid FROM {observed} o
            WHERE o.aid IN (SELECT aid FROM _cspa_key_area WHERE type IN ('la', 'sn_group'))
        ),
        annual AS (
            SELECT c.sid, c.pid, p.last_year AS y, p.period_end FROM cells c JOIN _cspa_key_period p ON p.pid = c.pid
            WHERE p.period_kind IN ('academic_year', 'financial_year', 'calendar_year')
        ),
        latest AS (SELECT sid, max(y) AS latest FROM annual GROUP BY sid),
        -- only the points after the series' latest break (catalogue ``breaks``)
        cut AS (
            SELECT m.sid, max(k.period_end) AS since FROM series_break k
            JOIN _cspa_key_measure m ON m.indicator = k.indicator AND m.measure = k.measure GROUP BY m.sid
        ),
        -- slot 0 is the oldest of the measure's latest five years, 4 the latest
        slots AS (
            SELECT a.sid, a.pid, CAST(a.y - (l.latest - 4) AS TINYINT) AS slot, CAST(l.latest AS SMALLINT) AS latest
            FROM annual a JOIN latest l ON l.sid = a.sid LEFT JOIN cut c ON c.sid = a.sid
            WHERE a.y > l.latest - {TREND_YEARS} AND (c.since IS NULL OR a.period_end >= c.since)
        )
        SELECT f.rid, CAST(f.sid AS UINTEGER) AS sid, CAST(f.aid AS UINTEGER) AS aid,
               CAST(f.pid AS UINTEGER) AS pid, s.slot, s.latest, coalesce(f.value, 'NaN'::DOUBLE) AS value
        FROM {f} f JOIN slots s ON s.sid = f.sid AND s.pid = f.pid"""
    ).fetchnumpy()
    areas = con.execute(
        "SELECT aid, type = 'la' AS la, type = 'sn_group' AS sn, epoch_ms(exists_from) AS exists_from, "
        "epoch_ms(exists_until) AS exists_until FROM _cspa_key_area"
    ).fetchnumpy()
    aid = np.asarray(x["aid"], dtype=np.int64)
    n_areas = int(max(np.max(areas["aid"], initial=0), np.max(aid, initial=0))) + 1
    is_la, kept = np.zeros(n_areas, dtype=bool), np.zeros(n_areas, dtype=bool)
    is_la[areas["aid"]] = areas["la"]
    kept[areas["aid"]] = areas["la"] | areas["sn"]
    keep = kept[aid]
    rid, sid, pid, latest, slot = (
        np.asarray(x[c], dtype=np.int64)[keep] for c in ("rid", "sid", "pid", "latest", "slot")
    )
    aid, value = aid[keep], np.asarray(x["value"], dtype=float)[keep]
    if not is_la[aid].any():
        return _empty()

    # the series, numbered densely: measure x area below the largest area id
    packed = sid * n_areas + aid
    seen = np.zeros(int(packed.max()) + 1, dtype=bool)
    seen[packed] = True
    keys = np.flatnonzero(seen)
    position = np.cumsum(seen) - 1
    series = position[packed]
    n_series = len(keys)
    s_sid, s_aid = keys // n_areas, keys % n_areas
    s_latest = np.zeros(n_series, dtype=np.int64)
    s_latest[series] = latest

    # five slots side by side; two figures for one year (a measure mixing year types) make the
    # slope meaningless
    at = series * TREND_YEARS + slot
    per_slot = np.bincount(at, minlength=n_series * TREND_YEARS).reshape(n_series, TREND_YEARS)
    dup = per_slot.sum(axis=1) > (per_slot > 0).sum(axis=1)
    flat = np.full(n_series * TREND_YEARS, np.nan)
    np.fmax.at(flat, at, value)
    v = flat.reshape(n_series, TREND_YEARS)
    # the series' latest figure (of two in one year, the later row) and its period: the slot above
    # the row's place among the rows (row ids count from 2**55 inside a transaction, so the id
    # itself would not fit below the slot)
    base = int(rid.min())
    last = np.zeros(n_series, dtype=np.int64)
    np.maximum.at(last, series, (slot << 32) | (rid - base))
    s_rid = (last & 0xFFFFFFFF) + base
    last[:] = 0
    np.maximum.at(last, series, (slot << 32) | pid)
    s_pid = last & 0xFFFFFFFF

    # the moving averages ending in years 2, 3 and 4 of the five, and the slope through them
    m2, m3, m4 = ((v[:, k - 2] + v[:, k - 1] + v[:, k]) / 3 for k in (2, 3, 4))
    has2, has3, has4 = ~np.isnan(m2), ~np.isnan(m3), ~np.isnan(m4)
    n_ma = has2.astype(np.int64) + has3 + has4
    y0 = s_latest - 4 + np.where(has2, 2, np.where(has3, 3, 4))
    y1 = s_latest - 4 + np.where(has4, 4, np.where(has3, 3, 2))
    fit = np.where(has2 & has4, (m4 - m2) / 2, np.where(has4 & has3, m4 - m3, m3 - m2))
    slope = np.where(~dup & (n_ma >= 2), _round(fit), np.nan) + 0.0

    # the authorities' series, each with its lifetime against the period of its latest figure
    la = np.flatnonzero(is_la[s_aid])
    periods = con.execute(
        "SELECT pid, epoch_ms(period_start) AS period_start, epoch_ms(period_end) AS period_end "
        "FROM _cspa_key_period"
    ).fetchnumpy()
    start, end = (_by_id(periods["pid"], periods[c]) for c in ("period_start", "period_end"))
    began, until = (
        _by_id(areas["aid"], areas[c], n_areas) for c in ("exists_from", "exists_until")
    )
    p_start, p_end = start[s_pid[la]], end[s_pid[la]]
    a_from, a_until = began[s_aid[la]], until[s_aid[la]]
    outside = np.where(a_from > p_end, 1, np.where(a_until < p_start, 2, 0))
    # ceased within the period of its latest figure, where a successor's series with a slope ends
    # in the same period
    of, to = ordering.successor_pairs(con)
    within = np.flatnonzero((outside == 0) & (a_until < p_end))
    if len(within) and len(of):
        row, pair = np.nonzero(s_aid[la[within]][:, None] == of[None, :])
        succ = s_sid[la[within[row]]] * n_areas + to[pair]
        found = succ < len(seen)
        found[found] = seen[succ[found]]
        k = position[succ[found]]
        hit = np.zeros(len(row), dtype=bool)
        hit[found] = (s_pid[k] == s_pid[la[within[row[found]]]]) & ~np.isnan(slope[k])
        outside[within[row[hit]]] = 3
    held = np.where(outside == 0, slope[la], np.nan)

    # the neighbour group's series of each authority's: its group's area 'SN:<group>:<code>'
    # (group 0: a measure without one, whose row of sn_area is left empty)
    groups = con.execute(
        """SELECT g.gid, a.aid, nb.aid AS sn_aid FROM _cspa_key_group g
           JOIN _cspa_key_area nb ON starts_with(nb.code, 'SN:' || g.grp || ':')
           JOIN _cspa_key_area a ON a.code = substr(nb.code, length(g.grp) + 5)"""
    ).fetchnumpy()
    of_measure = con.execute(
        "SELECT sid, coalesce(gid, 0) AS gid FROM _cspa_key_measure"
    ).fetchnumpy()
    gid = np.zeros(int(max(np.max(of_measure["sid"], initial=0), s_sid.max())) + 1, dtype=np.int64)
    gid[np.asarray(of_measure["sid"], dtype=np.int64)] = of_measure["gid"]
    g_gid, g_aid, g_sn = (np.asarray(groups[c], dtype=np.int64) for c in ("gid", "aid", "sn_aid"))
    sn_area = np.full(
        (int(max(gid.max(), np.max(g_gid, initial=0))) + 1, n_areas), -1, dtype=np.int64
    )
    sn_area[g_gid, g_aid] = g_sn
    la_sid, la_aid = s_sid[la], s_aid[la]
    sn_aid = sn_area[gid[la_sid], la_aid]
    sn_key = la_sid * n_areas + sn_aid
    has_sn = (sn_aid >= 0) & (sn_key < len(seen))
    has_sn[has_sn] = seen[sn_key[has_sn]]
    sn_slope = np.full(len(la), np.nan)
    sn_slope[has_sn] = slope[position[sn_key[has_sn]]]
    diff = held - sn_slope
    # each ranked within the measure
    rank, n = _rank_desc(la_sid, held)
    sn_rank, sn_n = _rank_desc(la_sid, diff)
    return pa.table(
        {
            "rid": s_rid[la],
            "aid": s_aid[la],
            "slope": held,
            "outside": outside.astype(np.int8),
            "rank": rank,
            "n": n,
            "diff": diff,
            "sn_rank": sn_rank,
            "sn_n": sn_n,
            "dup": dup[la],
            "n_ma": n_ma[la],
            "y0": y0[la],
            "y1": y1[la],
        }
    )


def _empty() -> pa.Table:
    ints = ("rid", "aid", "rank", "n", "sn_rank", "sn_n", "n_ma", "y0", "y1")
    return pa.table(
        {
            **{c: pa.array([], pa.int64()) for c in ints},
            "slope": pa.array([], pa.float64()),
            "diff": pa.array([], pa.float64()),
            "outside": pa.array([], pa.int8()),
            "dup": pa.array([], pa.bool_()),
        }
    )


def _by_id(ids: np.ndarray, values: np.ndarray, size: int | None = None) -> np.ndarray:
    """``values`` (dates as epoch milliseconds, NULL as NaN) placed at their integer ``ids``."""
    out = np.full(int(size if size is not None else np.max(ids, initial=0) + 1), np.nan)
    vals = np.ma.filled(np.ma.asarray(values).astype(float), np.nan)
    out[np.asarray(ids, dtype=np.int64)] = vals
    return out


def _round(x: np.ndarray) -> np.ndarray:
    """``round(x, 10)`` as DuckDB rounds a double: ``x * 10^10`` rounded half away from zero (C's
    ``round``), divided back; infinities and NaN as they are."""
    with np.errstate(over="ignore", invalid="ignore"):
        y = x * _SCALE
        t = np.trunc(y)
        out = np.where(np.abs(y - t) >= 0.5, t + np.sign(y), t) / _SCALE
    return np.where(np.isfinite(out), out, x)


def _rank_desc(group: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rank of each ``x`` among those of its ``group``, largest first, ties sharing the best
    rank (SQL's ``rank()``; NaN last, its rank not read), and how many of the group are not NaN."""
    n_rows = len(x)
    g, n_groups = ordering.dense(group)
    order = ordering.order_within(g, -x)
    group_start = ordering.runs(g[order])
    first = group_start | ordering.runs(x[order])
    at = np.arange(n_rows)
    run_start = np.maximum.accumulate(np.where(first, at, 0))
    start = np.maximum.accumulate(np.where(group_start, at, 0))
    rank = np.empty(n_rows, dtype=np.int64)
    rank[order] = run_start - start + 1
    counted = np.bincount(g, weights=~np.isnan(x), minlength=n_groups).astype(np.int64)
    return rank, counted[g]


def trend_classes_sql() -> str:
    """The trend table from the numbers of :func:`trend_inputs` (registered as :data:`TREND_INPUT`):
    ``rid, trend, trend_sn, trend_n, trend_rank, trend_repeated_year, trend_from, trend_to, trend_mas,
    trend_sn_diff, trend_sn_rank, trend_sn_n, trend_outside``. A class needs at least
    :data:`~cspa.engine.trends.MIN_TREND_AREAS` authorities ranked (else none), and a series without
    a slope in a ranked measure is ``n/a``; a series whose authority is outside its latest period has
    no class, and says why. The line saying how the class was made is composed when a row is read
    (:func:`cspa.engine.trends.trend_basis_sql`) from these columns."""
    t = TREND_INPUT
    return f"""
    SELECT t.rid,
           CASE WHEN t.outside > 0 THEN NULL
                WHEN t.n >= {MIN_TREND_AREAS} AND NOT isnan(t.slope) THEN {class_sql("t.rank", "t.n")}
                WHEN t.n >= {MIN_TREND_AREAS} THEN 'n/a' END AS trend,
           CASE WHEN t.outside > 0 THEN NULL
                WHEN t.sn_n >= {MIN_TREND_AREAS} AND NOT isnan(t.diff) THEN {class_sql("t.sn_rank", "t.sn_n")}
                WHEN t.sn_n >= {MIN_TREND_AREAS} THEN 'n/a' END AS trend_sn,
           t.n AS trend_n, CASE WHEN NOT isnan(t.slope) THEN t.rank END AS trend_rank,
           t.dup AS trend_repeated_year,
           CASE WHEN NOT isnan(t.slope) THEN t.y0 END AS trend_from,
           CASE WHEN NOT isnan(t.slope) THEN t.y1 END AS trend_to,
           CAST(CASE WHEN NOT isnan(t.slope) THEN t.n_ma END AS INTEGER) AS trend_mas,
           CASE WHEN NOT isnan(t.diff) THEN t.diff END AS trend_sn_diff,
           CASE WHEN NOT isnan(t.diff) THEN t.sn_rank END AS trend_sn_rank, t.sn_n AS trend_sn_n,
           CASE t.outside
               WHEN 1 THEN 'was created on ' || strftime(a.exists_from, '%-d %B %Y') || ', after'
               WHEN 2 THEN 'ceased on ' || strftime(a.exists_until, '%-d %B %Y') || ', before'
               WHEN 3 THEN 'ceased on ' || strftime(a.exists_until, '%-d %B %Y') || ', within' END
               AS trend_outside
    FROM {t} t LEFT JOIN _cspa_key_area a ON t.outside > 0 AND a.aid = t.aid"""
