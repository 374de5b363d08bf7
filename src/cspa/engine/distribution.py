"""Where a figure sits among all authorities: rank, quartile band, the seed's quartile position.

* **Rank** (LAIT ``calculate_rank``, methods.md 7.1): 1 = best under polarity, ties share the
  lowest rank ("min"), missing values are not ranked; polarity none -> no rank; fewer than
  four authorities with a figure -> not judged.
* **Quartile band** (LAIT ``calculate_quartile_band``): type-7 quartiles over the authorities'
  values for the period (regions and England excluded); 1 = best quarter (LAIT's A). A value
  on a cut point goes to the band on the low-value side (upper bounds inclusive); values and cut
  points are compared at ``polarity.COMPARED_DECIMALS`` places.
* **Quartile position** (seed 000:L4035-4050, methods.md 7.2): against the published England
  lower quartile / median / upper quartile; high is good: Best if v >= UQ, 2nd if v >= median,
  3rd if v >= LQ, else Worst (a value equal to the UQ is Best); mirrored for low is good.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from cspa.engine import ordering
from cspa.engine.keys import BITS, cell_key
from cspa.engine.polarity import (
    best_quarter_sql,
    compared_sql,
    goodness_sql,
    judged_sql,
    sign_sql,
)

POSITION_LABELS = ("Best Q'tile", "2nd Q'tile", "3rd Q'tile", "Worst Q'tile")

# Type-7 quartiles need four values to cut; a rank among fewer authorities (the seed's 2008
# dataset holds Luton's figures only) says nothing about the country, so neither is judged.
MIN_RANKED_AREAS = 4


def ranks_and_quartiles(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """:func:`ranks_and_quartiles_sql` as a relation of ``con`` (its inputs stay registered on
    ``con`` under :data:`RANK_INPUTS`' names)."""
    for name, table in rank_inputs(con, v).items():
        con.register(name, table)
    return con.sql(ranks_and_quartiles_sql())


#: The names :func:`ranks_and_quartiles_sql` reads the tables of :func:`rank_inputs` under.
RANK_INPUTS = ("_cspa_rank_rows", "_cspa_rank_cells", "_cspa_rank_outside")


def rank_inputs(con: duckdb.DuckDBPyConnection, v: str) -> dict[str, pa.Table]:
    """The rank and the quartile cut points of every authority's figure, per measure and period.

    ``v``: figure rows on the run's integer keys (``rid, sid, aid, pid, value``); the authorities are
    the areas of type ``la`` in ``_cspa_key_area``. Returns three Arrow tables, read by
    :func:`ranks_and_quartiles_sql` under the names of :data:`RANK_INPUTS`:

    * the figures ranked: ``rid, cell, compared`` and ``rank`` (LAIT's "min": 1 + the number of
      figures of the cell strictly better at ``polarity.COMPARED_DECIMALS`` places; NULL where the
      polarity has no better direction);
    * the cells (measure and period, ``keys.cell_key``): ``n_areas`` (the authorities ranked),
      ``q1, q2, q3`` (type-7 quartiles of their figures, interpolated as DuckDB's ``quantile_cont``:
      ``lo + (hi - lo) * d`` between the order statistics at ``(n - 1) p``) and ``flat`` (at least
      four and every one the same at the compared places);
    * the figures left out of the population (``rid, cell, aid, outside``): 1, the authority did not
      exist yet in the period; 2, it had ceased; 3, it ceased within the period and a successor has
      a figure for the same period.

    Numbered in one sort of the figures by cell and value (numpy): a rank window over every cell
    sorted every column of the figures with it, three times the cost (see docs/engine.md).
    """
    x = con.execute(
        f"""
        SELECT v.rid, {cell_key("v.sid", "v.pid")} AS cell, v.aid, v.value, {compared_sql("v.value")} AS compared,
               coalesce({sign_sql("m.polarity")}, 0) AS sign,
               CASE WHEN a.exists_from > p.period_end THEN 1 WHEN a.exists_until < p.period_start THEN 2
                    WHEN a.exists_until < p.period_end THEN 3 ELSE 0 END AS lifetime
        FROM {v} v JOIN _cspa_key_measure m ON m.sid = v.sid
        JOIN _cspa_key_area a ON a.aid = v.aid JOIN _cspa_key_period p ON p.pid = v.pid
        WHERE a.type = 'la' AND v.value IS NOT NULL AND (m.quartiles OR m.ranks)"""
    ).fetchnumpy()
    rid, cell, aid = (np.asarray(x[c], dtype=np.int64) for c in ("rid", "cell", "aid"))
    value, compared = (np.asarray(x[c], dtype=float) for c in ("value", "compared"))
    sign, lifetime = np.asarray(x["sign"], dtype=np.int8), np.asarray(x["lifetime"], dtype=np.int8)
    # dense cell numbers: (measure, period) packed below the largest period id
    sid, pid = cell >> BITS, cell & ((1 << BITS) - 1)
    dense, n_cells = ordering.dense(sid * (int(pid.max(initial=0)) + 1) + pid)
    outside = np.where(lifetime == 3, 0, lifetime)
    ended = np.flatnonzero(lifetime == 3)
    if len(ended):
        # an authority that ceased within the period is left out where a successor has a figure in
        # the same cell (any figure of the cell: the successor's own lifetime does not matter)
        of, to = ordering.successor_pairs(con)
        width = int(max(aid.max(), to.max(initial=0))) + 1
        has = np.zeros(n_cells * width, dtype=bool)
        at = dense.astype(np.int64) * width
        has[at + aid] = True
        row, pair = np.nonzero(aid[ended][:, None] == of[None, :])
        hit = has[at[ended[row]] + to[pair]]
        outside[ended[row[hit]]] = 3
    kept = outside == 0
    out = pa.table(
        {
            "rid": rid[~kept],
            "cell": cell[~kept],
            "aid": aid[~kept],
            "outside": outside[~kept],
        }
    )
    rid, cell, dense, value, compared, sign = (
        a[kept] for a in (rid, cell, dense, value, compared, sign)
    )
    order = ordering.order_within(dense, value)
    rid, cell, value, compared, sign = (a[order] for a in (rid, cell, value, compared, sign))
    n_rows = len(rid)
    first = ordering.runs(cell)
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], n_rows) if n_rows else starts
    n = ends - starts
    cuts = []
    for fraction in (0.25, 0.5, 0.75):
        h = (n - 1) * fraction
        lo, hi = np.floor(h).astype(np.int64), np.ceil(h).astype(np.int64)
        below, above = value[starts + lo], value[starts + hi]
        cuts.append(np.where(lo == hi, below, below + (above - below) * (h - lo)))
    # the compared figures are sorted with the values (rounding keeps their order): the first of a
    # run of equal ones and the last
    at = np.arange(n_rows)
    first |= ordering.runs(compared)
    last = np.append(first[1:], True) if n_rows else first
    first_of_run = np.maximum.accumulate(np.where(first, at, 0))
    last_of_run = np.minimum.accumulate(np.where(last, at, n_rows)[::-1])[::-1]
    of_cell = np.repeat(np.arange(len(starts)), n)
    # best first: where low is good, the figures before the run are better; where high is good,
    # those after it
    rank = np.where(sign < 0, first_of_run - starts[of_cell], ends[of_cell] - 1 - last_of_run) + 1
    rows = pa.table(
        {
            "rid": rid,
            "cell": cell,
            "compared": compared,
            "rank": pa.array(rank, mask=sign == 0),
        }
    )
    cells = pa.table(
        {
            "cell": cell[starts],
            "n_areas": n,
            "q1": cuts[0],
            "q2": cuts[1],
            "q3": cuts[2],
            "flat": (n >= MIN_RANKED_AREAS) & (compared[starts] == compared[ends - 1]),
        }
    )
    return dict(zip(RANK_INPUTS, (rows, cells, out), strict=True))


def ranks_and_quartiles_sql() -> str:
    """Rank and quartile band of every authority's figure, per measure and period (``cell_key``),
    from the tables of :func:`rank_inputs` (registered under :data:`RANK_INPUTS`' names).

    Output: ``rid, cell, rank, quartile, n_areas, q1, q2, q3, flat, not_ranked`` (the cut-offs are
    kept so the provenance line can be composed when read, once per cell,
    :mod:`cspa.engine.provenance`; ``flat``: every authority ranked has the same figure, which
    progress reads too, :func:`cspa.engine.progress.progress_table_sql`).

    The population of a period is the authorities that existed in it and have a figure for it.
    LAIT carries figures for an authority before it existed (DfE back-casts a new authority's area,
    e.g. North Northamptonshire from 2013/14) and after it ceased (Cumbria's to 2024-25), so a past
    year can hold both the old authority and its successors, and counting every row would rank one
    place twice ("rank 1 of 158" in 2018, when there were 152 authorities). LAIT's own
    ``calculate_rank`` ranks only its latest year, among every row with a value (methods.md 7.1),
    where the two rarely overlap. A figure left out is kept with the reason (``not_ranked``):

    * the authority did not exist on any day of the period (``la_lifetimes.csv``);
    * it ceased during the period and a successor has a figure for the same period: the area is
      counted once, as the authority that held it at the period's end;
    * every authority ranked has the same figure (LAIT repeats England's figure for every authority
      in some years): all would tie at rank 1 in the best quarter, which places nobody.

    A rank or quarter of fewer than four authorities says nothing about the country: not judged.
    """
    rows, cells, out = RANK_INPUTS
    judged = f"c.n_areas >= {MIN_RANKED_AREAS} AND NOT c.flat"
    # LAIT's quarters: a value equal to a cut point is in the quarter on the low-value side
    # (methods.md 7.1), then numbered from the best under polarity
    from_low = (
        f"CASE WHEN r.compared <= {compared_sql('c.q1')} THEN 1 WHEN r.compared <= {compared_sql('c.q2')} THEN 2 "
        f"WHEN r.compared <= {compared_sql('c.q3')} THEN 3 ELSE 4 END"
    )
    return f"""
    SELECT r.rid, r.cell, CASE WHEN m.ranks AND {judged} THEN r.rank END AS rank,
           CAST(CASE WHEN m.quartiles AND {judged} THEN {best_quarter_sql(from_low, "m.polarity")} END AS INTEGER)
               AS quartile,
           c.n_areas, c.q1, c.q2, c.q3, c.flat,
           CASE WHEN c.flat THEN 'not ranked or banded: all ' || c.n_areas || ' authorities with a '
                || 'figure have the same one, so none is better or worse placed than another' END AS not_ranked
    FROM {rows} r JOIN {cells} c ON c.cell = r.cell JOIN _cspa_key_measure m ON m.sid = r.cell >> {BITS}
    UNION ALL
    SELECT o.rid, o.cell, CAST(NULL AS BIGINT), CAST(NULL AS INTEGER), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
           CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS BOOLEAN),
           CASE o.outside
           WHEN 1 THEN 'not ranked or banded: the authority was created on '
                || strftime(a.exists_from, '%-d %B %Y') || ', after this period; ranks are among the authorities'
                || ' that existed in the period (this figure is for its area before it existed)'
           WHEN 2 THEN 'not ranked or banded: the authority ceased on '
                || strftime(a.exists_until, '%-d %B %Y') || ', before this period; ranks are among the'
                || ' authorities that existed in the period'
           ELSE 'not ranked or banded: the authority ceased on '
                || strftime(a.exists_until, '%-d %B %Y') || ', within this period, and its successor'
                || ' has a figure for it; the area is ranked once, as its successor' END
    FROM {out} o JOIN _cspa_key_area a ON a.aid = o.aid
    """


def quartile_position(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """The seed's quartile position against published England quartiles (000:L4035-4050)."""
    good_v, good_lq, good_med, good_uq = (
        goodness_sql(x, "m.polarity") for x in ("v.value", "qs.lq", "qs.med", "qs.uq")
    )
    return con.sql(f"""
    WITH qs AS (
        SELECT indicator, measure, period,
               max(value) FILTER (WHERE statistic = 'lower_quartile') AS lq,
               max(value) FILTER (WHERE statistic = 'median') AS med,
               max(value) FILTER (WHERE statistic = 'upper_quartile') AS uq
        FROM _cspa_obs WHERE statistic IN ('lower_quartile', 'median', 'upper_quartile')
        GROUP BY ALL
    )
    SELECT v.rid, v.indicator, v.measure, v.area, v.period,
           -- the seed's position: a value equal to a cut-off takes the better quarter
           -- (000:L4035-4050), so it is decided on the values oriented better-is-larger
           CASE WHEN {good_v} >= greatest({good_lq}, {good_uq}) THEN 1 WHEN {good_v} >= {good_med} THEN 2
                WHEN {good_v} >= least({good_lq}, {good_uq}) THEN 3 WHEN {good_v} IS NOT NULL THEN 4
           END AS position_quartile,
           'England quartiles ' || format('{{:g}}', qs.lq) || ' / ' || format('{{:g}}', qs.med) || ' / ' || format('{{:g}}', qs.uq)
             || ' (published); ' || m.polarity || ' is good; a value equal to a cut-off takes the better quarter' AS position_basis
    FROM {v} v JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
    JOIN qs ON qs.indicator = v.indicator AND qs.measure = v.measure AND qs.period = v.period
    WHERE v.area_type NOT IN ('country', 'region', 'sn_group') AND v.value IS NOT NULL
      AND qs.lq IS NOT NULL AND qs.med IS NOT NULL AND qs.uq IS NOT NULL AND {judged_sql("m.polarity")}
    """)
