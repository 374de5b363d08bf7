"""Figures put in order within their groups in numpy, and what ranks and trend classes read of
authorities' successions.

DuckDB's windows and sorts cost 130-300 ns a row (docs/engine.md, twelfth session); the ranks
(:mod:`cspa.engine.distribution`) and the trend classes (:mod:`cspa.engine.trend_classes`) order
their figures here instead: the groups numbered densely, a quicksort on the values, then a stable
sort on the group numbers, which numpy does as a radix sort where they fit 16 bits.
"""

from __future__ import annotations

import duckdb
import numpy as np


def dense(keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Each of ``keys`` (small non-negative integers) numbered by its place among the distinct
    keys, in the keys' order (16-bit numbers where they fit), and how many distinct keys there are."""
    if not len(keys):
        return np.zeros(0, dtype=np.uint16), 0
    seen = np.zeros(int(keys.max()) + 1, dtype=bool)
    seen[keys] = True
    n = int(seen.sum())
    return (np.cumsum(seen) - 1).astype(np.uint16 if n <= 1 << 16 else np.int64)[keys], n


def order_within(group: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The order putting rows by ``group`` (dense numbers, :func:`dense`), then by ``x`` ascending
    (NaN last)."""
    order = np.argsort(x)
    return order[np.argsort(group[order], kind="stable")]


def runs(a: np.ndarray) -> np.ndarray:
    """True where a run of equal entries of ``a`` begins."""
    first = np.ones(len(a), dtype=bool)
    first[1:] = a[1:] != a[:-1]
    return first


def successor_pairs(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray]:
    """Each authority that has successors (``la_lifetimes.csv``) with each successor, as area ids
    of the build's key table (``_cspa_key_area``)."""
    pairs = con.execute(
        """SELECT e.aid, s.aid AS successor
           FROM (SELECT aid, unnest(successors) AS code FROM _cspa_key_area WHERE type = 'la') e
           JOIN _cspa_key_area s ON s.code = e.code"""
    ).fetchnumpy()
    return np.asarray(pairs["aid"], dtype=np.int64), np.asarray(pairs["successor"], dtype=np.int64)
