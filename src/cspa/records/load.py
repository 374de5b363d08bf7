"""Returns into the store, and measures out of it as observations.

* :func:`load_return` writes a validated return: its typed tables (``rec_<kind>_<table>``, each row
  with its ``return_id``), the return's record (``record_return``: files, checksum, collection year
  and how it was worked out, rule version, who and when) and every finding (``record_finding``).
  A return that fails a blocking rule is refused with the findings (file, row, child, field, rule)
  and nothing of it is written. A newer return for the same kind, authority and year supersedes
  the older, which is kept.
* :func:`compute_to_store` runs the measures over the current returns (DuckDB on the store's own
  connection, or Spark over Parquet) and loads the figures through :func:`cspa.store.ingest.load_files`
  like any other file, each row's note naming the return and the rule version.
"""

from __future__ import annotations

import csv
import json
import tempfile
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from cspa.errors import LoadError, Problem
from cspa.records.backends import Backend, compute
from cspa.records.measures import MEASURES, Measure
from cspa.records.population import SOURCE as POP_SOURCE
from cspa.records.population import population_table
from cspa.records.returns import RecordReturn, load_spec, typed_tables
from cspa.records.rules import TABLES_FILE, Validation
from cspa.store.database import Store
from cspa.store.ingest import LoadResult, _user, load_files

KIND_TITLE = {"ssda903": "SSDA903 return", "cin": "CIN census return"}


def refusal(v: Validation, limit: int = 50) -> LoadError:
    """The blocking findings as a load error (file, row, field; child and rule code in the message)."""
    probs = [
        Problem(
            f.file or "?",
            f.row,
            f.field,
            f"child {f.child}: rule {f.rule}: {f.message}"
            + (f" (value {f.value!r})" if f.value is not None else ""),
        )
        for f in v.blocking[:limit]
    ]
    n = len(v.blocking)
    if n > limit:
        probs.append(
            Problem(
                v.ret.files[0].name if v.ret.files else "?",
                None,
                None,
                f"... and {n - limit} more blocking findings",
            )
        )
    return LoadError(
        probs,
        rows_checked=sum(v.ret.rows().values()),
        bad_rows=len({(f.file, f.row) for f in v.blocking}),
    )


def load_return(
    store: Store,
    ret: RecordReturn,
    v: Validation,
    *,
    source: str | None = None,
    licence: str | None = None,
    loaded_by: str | None = None,
) -> int:
    """Write a validated return in one transaction; refuse it whole if a blocking rule failed."""
    if not v.ok:
        raise refusal(v)
    if ret.la is None:
        raise LoadError(
            [
                Problem(
                    ret.files[0].name if ret.files else "?",
                    None,
                    "LA",
                    "the return does not say which authority it is: give --la",
                )
            ]
        )
    spec = load_spec(TABLES_FILE[ret.kind])
    typed = typed_tables(ret, spec)
    con = store.con
    with store.transaction() as c:
        rid = c.execute("SELECT nextval('record_return_seq')").fetchall()[0][0]
        c.execute(
            "UPDATE record_return SET is_current = FALSE WHERE kind = ? AND la = ? AND year = ? AND is_current",
            [ret.kind, ret.la, ret.year],
        )
        c.execute(
            "INSERT INTO record_return VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, TRUE)",
            [
                rid,
                ret.kind,
                ret.la,
                ret.year,
                ret.period_label,
                ret.year_basis,
                ret.spec_version,
                v.rule_version,
                ";".join(str(p) for p in ret.files),
                ret.sha256(),
                json.dumps(ret.rows()),
                len(v.findings),
                ",".join(sorted({f.rule for f in v.blocking})) or None,
                source or KIND_TITLE[ret.kind],
                licence,
                loaded_by or _user(),
            ],
        )
        if v.findings:
            rows = pa.table(
                {
                    "return_id": pa.array([rid] * len(v.findings), pa.int32()),
                    "rule": [f.rule for f in v.findings],
                    "blocking": [f.blocking for f in v.findings],
                    "tbl": [f.table for f in v.findings],
                    "file": [f.file for f in v.findings],
                    "row_no": pa.array([f.row for f in v.findings], pa.int64()),
                    "child": [f.child for f in v.findings],
                    "field": [f.field for f in v.findings],
                    "value": [f.value for f in v.findings],
                    "message": [f.message for f in v.findings],
                }
            )
            c.register("_findings", rows)
            c.execute("INSERT INTO record_finding SELECT * FROM _findings")
            c.unregister("_findings")
        for name, t in typed.items():
            table = f"rec_{ret.kind}_{name}"
            c.register("_rows", t)
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table} AS SELECT CAST(NULL AS INTEGER) AS return_id, * FROM _rows WHERE FALSE"
            )
            c.execute(f"INSERT INTO {table} SELECT ?, * FROM _rows", [rid])
            c.unregister("_rows")
    del con
    return rid


def current_returns(store: Store, kind: str | None = None) -> list[dict]:
    q = (
        "SELECT * FROM record_return WHERE is_current"
        + (" AND kind = ?" if kind else "")
        + " ORDER BY kind, la, year"
    )
    cur = store.con.execute(q, [kind] if kind else [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def store_tables(store: Store, backend: Backend, kind: str) -> dict:
    """The current returns' typed tables as Ibis tables on the store's DuckDB connection."""
    spec = load_spec(TABLES_FILE[kind])
    out = {}
    have = {
        r[0]
        for r in store.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    for name in spec["tables"]:
        table = f"rec_{kind}_{name}"
        if table in have:
            # a temporary view, not Ibis's con.sql(): Ibis 12 reads a query's schema with a DuckDB 1 call
            store.con.execute(
                f"CREATE OR REPLACE TEMP VIEW cur_{kind}_{name} AS SELECT t.* EXCLUDE (return_id) "
                f"FROM {table} t JOIN record_return r USING (return_id) WHERE r.is_current"
            )
            out[name] = backend.con.table(f"cur_{kind}_{name}")
    return out


def compute_to_store(
    store: Store,
    measures: list[Measure] | None = None,
    *,
    kinds: tuple[str, ...] = ("ssda903", "cin"),
    timings: dict | None = None,
) -> list[LoadResult]:
    """Compute every measure over the store's current returns (DuckDB) and load the figures."""
    backend = Backend.duckdb(store.con)
    results = []
    for kind in kinds:
        returns = current_returns(store, kind)
        if not returns:
            continue
        tables = store_tables(store, backend, kind)
        tables |= backend.from_arrow({"population": population_table()}, prefix=f"pop_{kind}")
        ms = [m for m in (measures or MEASURES) if m.kind == kind]
        obs = compute(tables, backend, ms, timings)
        results += write_observations(store, obs, returns, kind)
    return results


def write_observations(
    store: Store, obs: pa.Table, returns: list[dict], kind: str
) -> list[LoadResult]:
    """Load computed figures through the store's validated loader; each row's note names its return."""
    if obs.num_rows == 0:
        return []
    by_key = {(r["la"], int(r["year"])): r for r in returns}
    rule_versions = sorted({r["rule_version"] for r in returns})
    with tempfile.TemporaryDirectory(prefix="cspa-records-") as d:
        path = Path(d) / f"{kind}_measures.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                [
                    "indicator",
                    "measure",
                    "area",
                    "period",
                    "value",
                    "numerator",
                    "denominator",
                    "status",
                    "note",
                ]
            )
            for r in obs.to_pylist():
                ret = by_key.get((r["LA"], r["YEAR"]))
                note = (
                    (
                        f"computed from {KIND_TITLE[kind]} {ret['la']} {ret['period']} (return {ret['return_id']}, "
                        f"{Path(ret['files'].split(';')[0]).name}{' ...' if ';' in ret['files'] else ''}; "
                        f"sha256 {ret['sha256'][:12]}), rules {ret['rule_version']}"
                    )
                    if ret
                    else None
                )
                value = r["value"]
                ok = value is not None and value == value  # NaN: a rate without a population
                w.writerow(
                    [
                        r["indicator"],
                        r["measure"],
                        r["LA"],
                        f"{r['YEAR'] - 1}-{str(r['YEAR'])[-2:]}",
                        _num(value) if ok else None,
                        _num(r["numerator"]),
                        _num(r["denominator"]) if ok else None,
                        None if ok else "..",
                        note,
                    ]
                )
        sources = sorted({r["source"] for r in returns})
        licences = sorted({r["licence"] for r in returns if r["licence"]})
        src = f"cspa.records measures from {'; '.join(sources)}"
        if any(m.tables and "population" in m.tables for m in MEASURES if m.kind == kind):
            src += f"; rates use {POP_SOURCE}"
        # the vintage is what reports print beside each figure: it names the returns and the rules
        periods = sorted({r["period"] for r in returns})
        vintage = (
            f"computed {datetime.now():%Y-%m-%d} from {'; '.join(sources)} "
            f"({len(returns)} return(s), {', '.join(periods)}) with rules {', '.join(rule_versions)}"
        )
        return load_files(
            store, [path], source=src, vintage=vintage, licence="; ".join(licences) or None
        )


def _num(x) -> str | None:
    if x is None or x != x:
        return None
    return repr(float(x)) if not float(x).is_integer() else str(int(x))
