"""Statistical-neighbour means as one matrix product per neighbour group.

A neighbour mean is the sum of ten authorities' figures over the number present (LAIT user guide;
:mod:`cspa.engine.comparators`). Joined row by row, every figure is copied once for each authority
it is a neighbour of (six million rows for a national build) and hashed into 600,000 groups, the
largest step of the build. Laid out as a matrix, a neighbour group is a 0/1 matrix ``M`` (member
authority x authority whose neighbour it is) and a cell's figures a row of ``V`` (cell x member
authority, a cell being a measure and period): the sums are ``V @ M``, the counts of figures present
``P @ M`` and whether any member has a row at all ``R @ M``, each one dense product over every
measure and period of the group at once.

The sums must not depend on the order of adding: the means are rounded to 10 places, and a float
sum's last bits decide the few figures on a rounding boundary (the join's grouping uses a
compensated sum, ``fsum``, for the same reason). Each cell's figures are split into a high part on
a grid of ``2**(k - 44)``, where ``2**k`` bounds the cell's largest magnitude, and the remainder:
a sum of at most 256 high parts is an integer multiple of the grid below ``2**52``, exact in any
order, and the remainders are below half a grid step, so their rounding errors are some 40 binary
places below the sum's. Checked figure for figure against the compensated sum on the national
build (test_neighbour_means.py).
"""

from __future__ import annotations

import duckdb
import numpy as np
from threadpoolctl import threadpool_limits

from cspa.engine.comparators import members_sql
from cspa.engine.keys import BITS

#: the high parts' grid is this many binary places below the cell's largest magnitude: 2**44 x up
#: to 2**8 terms stays within a double's 53-bit significand, so their sum is exact in any order
_GRID_PLACES = 44
_MAX_TERMS = 1 << (52 - _GRID_PLACES)


def neighbour_means(con: duckdb.DuckDBPyConnection, v: str) -> dict[str, np.ndarray]:
    """The neighbour sums and counts of every measure whose ``sn_method`` is ``mean``, from the
    figures of table ``v`` (the build's observed figures, on integer keys).

    Returns columns ``k`` (the figure key of measure, ``SN:<group>:<la>`` area and period),
    ``total`` (the sum of the figures present) and ``n_used`` (how many), one entry for each key
    where at least one member authority has a row, figure or not, as the join's grouping makes them.
    """
    members = con.execute(members_sql()).fetchnumpy()
    # an authority's figures only (a neighbour is an authority) with their measure's group; a
    # missing figure as NaN
    fig = con.execute(
        f"""
        SELECT CAST(m.gid AS INTEGER) AS gid, CAST(x.sid AS INTEGER) AS sid, CAST(x.pid AS INTEGER) AS pid,
               CAST(x.aid AS INTEGER) AS aid, coalesce(x.value, 'NaN'::DOUBLE) AS value
        FROM {v} x JOIN _cspa_key_measure m ON m.sid = x.sid
        WHERE m.sn_method = 'mean' AND m.gid IS NOT NULL
          AND x.aid IN (SELECT aid FROM _cspa_key_area WHERE type = 'la')"""
    ).fetchnumpy()
    pair = {c: np.asarray(members[c], dtype=np.int64) for c in ("gid", "nb_aid", "sn_aid")}
    cols = {c: np.asarray(fig[c], dtype=np.int64) for c in ("gid", "sid", "pid", "aid")}
    value = np.asarray(fig["value"], dtype=float)
    out = []
    for g in np.unique(pair["gid"]):
        of_group = cols["gid"] == g
        if not of_group.any():
            continue
        in_group = pair["gid"] == g
        out.append(
            _group(
                pair["nb_aid"][in_group],
                pair["sn_aid"][in_group],
                cols["sid"][of_group],
                cols["pid"][of_group],
                cols["aid"][of_group],
                value[of_group],
            )
        )
    return {
        "k": np.concatenate([o[0] for o in out] or [np.empty(0, dtype=np.int64)]),
        "total": np.concatenate([o[1] for o in out] or [np.empty(0)]),
        "n_used": np.concatenate([o[2] for o in out] or [np.empty(0, dtype=np.int64)]),
    }


def _group(nb, sn, sid, pid, aid, value):
    """The sums of one neighbour group's measures (see :func:`neighbour_means`): ``nb`` and ``sn``
    the group's pairs (member authority, neighbour area), the rest the group's figures."""
    # dense positions of the member authorities and of the neighbour areas (area ids are small)
    member_at = np.full(int(max(nb.max(), aid.max())) + 1, -1, dtype=np.int64)
    members_u = np.unique(nb)
    member_at[members_u] = np.arange(len(members_u))
    sn_u, sn_at = np.unique(sn, return_inverse=True)
    if np.bincount(sn_at).max() > _MAX_TERMS:
        raise ValueError(f"a neighbour group of more than {_MAX_TERMS} authorities")
    weights = np.zeros((len(members_u), len(sn_u)))
    weights[member_at[nb], sn_at] = 1.0
    # a figure of an authority that is no one's neighbour adds to no mean
    col = member_at[aid]
    keep = col >= 0
    col, sid, pid, value = col[keep], sid[keep], pid[keep], value[keep]
    # dense cell positions: (measure, period) packed below the largest period id
    width = int(pid.max()) + 1
    packed = sid * width + pid
    seen = np.zeros(int(packed.max()) + 1, dtype=bool)
    seen[packed] = True
    cells = np.flatnonzero(seen)
    n_cells, n_members = len(cells), len(members_u)
    at = (np.cumsum(seen) - 1)[packed] * n_members + col
    size = n_cells * n_members
    present = ~np.isnan(value)
    # summed by position, so two rows of one authority in one cell both count, as in the join
    total = np.bincount(at, weights=np.where(present, value, 0.0), minlength=size).reshape(
        n_cells, n_members
    )
    biggest = np.abs(total).max(axis=1, keepdims=True)
    grid = np.exp2(np.ceil(np.log2(np.where(biggest > 0, biggest, 1.0))) - _GRID_PLACES)
    parts = np.empty((2, n_cells, n_members))
    parts[0] = np.round(total / grid) * grid
    parts[1] = total - parts[0]
    # the counts are small integers, exact in single precision (half the work of a double product)
    counts = np.empty((2, n_cells, n_members), dtype=np.float32)
    counts[0] = np.bincount(at, weights=present, minlength=size).reshape(n_cells, n_members)
    counts[1] = np.bincount(at, minlength=size).reshape(n_cells, n_members)
    # on one thread: the build's two lanes keep both cores busy, and BLAS's own threads, which
    # spin waiting for work after each product, would take them from DuckDB (5% of the build)
    with threadpool_limits(1, user_api="blas"):
        sums = (parts.reshape(2 * n_cells, n_members) @ weights).reshape(2, n_cells, len(sn_u))
        used = (counts.reshape(2 * n_cells, n_members) @ weights.astype(np.float32)).reshape(
            2, n_cells, len(sn_u)
        )
    r, c = np.nonzero(used[1])
    cell = cells[r]
    k = ((cell // width) << (2 * BITS)) | (sn_u[c] << BITS) | (cell % width)
    return k, sums[0, r, c] + sums[1, r, c], used[0, r, c].astype(np.int64)
