"""Helpers for the store's validation tests: write a small input file, snapshot the store."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cspa.errors import LoadError
from cspa.store.database import Store
from cspa.store.ingest import load_files

LONG = [
    "indicator",
    "measure",
    "area",
    "period",
    "statistic",
    "value",
    "numerator",
    "denominator",
    "status",
    "text",
]


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None) -> Path:
    header = header or LONG
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, lineterminator="\n", extrasaction="raise")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def row(indicator="2022SC", area="821", period="2006-07", value="", **kw) -> dict:
    return {"indicator": indicator, "area": area, "period": period, "value": value, **kw}


def snapshot(store: Store) -> tuple:
    """Everything a load writes: observations (every column that matters), the load log, the sequence."""
    q = store.con.execute
    obs = q(
        "SELECT count(*), sum(hash(indicator, measure, area, period, statistic, value, numerator, denominator, "
        "status, text, vintage, load_id, is_current)) FROM observation"
    ).fetchall()[0]
    log = q("SELECT count(*), sum(hash(load_id, file, vintage, rows)) FROM load_log").fetchall()[0]
    return obs, log


def refused(store: Store, paths: list[Path], **kw) -> LoadError:
    """Load ``paths``, expect a refusal, check nothing was written; return the error."""
    before = snapshot(store)
    with pytest.raises(LoadError) as e:
        load_files(store, paths, **kw)
    assert snapshot(store) == before, "a refused load changed the store"
    return e.value


def only(err: LoadError):
    assert len(err.problems) == 1, [str(p) for p in err.problems]
    return err.problems[0]
