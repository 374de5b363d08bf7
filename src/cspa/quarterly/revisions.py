"""Revisions of targets and narrative: optimistic concurrency and append-only writes, in SQL.

Every change is a new row in ``quarterly_target_revision`` / ``quarterly_text_revision``
(schema_quarterly.sql) carrying who, when, the source and the revision it was based on; nothing
is updated or deleted. A staged change (from a template or the seed transcription) names the
revision it was based on (``based_on``, 0 for a new key):

* it is an **edit** when its content differs from that base revision (an untouched template row
  is not an edit, even if someone else has changed the key since: theirs stands);
* an edit whose key has a newer revision than its base is a **conflict**, unless the newer
  revision already holds the same content (two people made the same change);
* any other edit whose content differs from the current revision is written.

All rows of a load are decided together (set-based SQL over the staged relation), so a load
writes everything or, on any conflict, nothing.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

TARGET_KEY = ("indicator", "measure", "area", "period", "target_type")
TEXT_KEY = ("area", "period", "indicator", "field", "item")

TARGET_SCHEMA = pa.schema(
    [
        ("indicator", pa.string()),
        ("measure", pa.string()),
        ("area", pa.string()),
        ("period", pa.string()),
        ("period_label", pa.string()),
        ("period_kind", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("target_type", pa.string()),
        ("value", pa.float64()),
        ("status", pa.string()),
        ("text", pa.string()),
        ("note", pa.string()),
        ("seed_ref", pa.string()),
        ("based_on", pa.int64()),
        ("where_", pa.string()),
    ]
)
TEXT_SCHEMA = pa.schema(
    [
        ("area", pa.string()),
        ("period", pa.string()),
        ("indicator", pa.string()),
        ("field", pa.string()),
        ("item", pa.int64()),
        ("text", pa.string()),
        ("extra", pa.string()),
        ("seed_ref", pa.string()),
        ("based_on", pa.int64()),
        ("where_", pa.string()),
    ]
)


def has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the quarterly tables (a store built before this feature has not)."""
    return (
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = "
            "'quarterly_target_revision'"
        ).fetchall()[0][0]
        > 0
    )


def ensure_readable(con: duckdb.DuckDBPyConnection) -> None:
    """On a store without the quarterly tables (opened read-only), stand in empty temporary ones."""
    if has_tables(con):
        return
    from pathlib import Path

    sql = (Path(__file__).resolve().parents[1] / "store" / "schema_quarterly.sql").read_text(
        encoding="utf-8"
    )
    sql = sql.replace("CREATE TABLE IF NOT EXISTS", "CREATE TEMP TABLE IF NOT EXISTS")
    sql = sql.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TEMP VIEW")
    sql = "\n".join(line for line in sql.splitlines() if not line.startswith("CREATE SEQUENCE"))
    con.execute(sql)


def _register(
    con: duckdb.DuckDBPyConnection, name: str, rows: list[dict], schema: pa.Schema
) -> str:
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    con.register(name, pa.table(cols, schema=schema))
    return name


def _content(alias: str, kind: str) -> str:
    # words compare as typed but for surrounding spaces, and an empty cell is no words (a workbook
    # cannot tell '' from nothing)
    cols = ("value", "status", "text", "note") if kind == "target" else ("text",)
    return ", ".join(
        f"{alias}.{c}" if c == "value" else f"nullif(trim({alias}.{c}), '')" for c in cols
    )


def _decide_sql(kind: str, staged: str) -> str:
    """SQL classifying every staged row: action in ('skip', 'write', 'conflict'), with the base and
    latest revisions beside it."""
    table = "quarterly_target_revision" if kind == "target" else "quarterly_text_revision"
    latest = "quarterly_target_latest" if kind == "target" else "quarterly_text_latest"
    key = TARGET_KEY if kind == "target" else TEXT_KEY
    on = " AND ".join(f"l.{k} = s.{k}" for k in key)
    # a removed entry has no content, so content alone tells an edit (a missing base is no content)
    new = f"({_content('s', kind)})"
    base = f"({_content('b', kind)})"
    cur = f"({_content('l', kind)})"
    return f"""
    WITH s AS (
        -- removed = nothing at all (an empty string from a transcription is kept as printed)
        SELECT *, ({" AND ".join(f"s0.{c} IS NULL" for c in (("value", "status", "text") if kind == "target" else ("text",)))})
                  AS deleted
        FROM {staged} s0
    ), d AS (
        SELECT s.*, b.revision AS base_revision, l.revision AS latest_revision,
               l.changed_by AS latest_by, l.changed_at AS latest_at, l.source AS latest_source,
               {", ".join(f"l.{c} AS latest_{c}" for c in (("value", "status", "text") if kind == "target" else ("text",)))},
               l.deleted AS latest_deleted,
               {", ".join(f"b.{c} AS base_{c}" for c in (("value", "status", "text") if kind == "target" else ("text",)))},
               -- a new key with content (even an empty string printed as such) is an edit
               {new} IS DISTINCT FROM {base} OR (b.revision IS NULL AND NOT s.deleted) AS edited,
               {new} IS DISTINCT FROM {cur} OR (l.revision IS NULL AND NOT s.deleted)
                   OR coalesce(l.deleted, FALSE) <> s.deleted AS differs,
               coalesce(l.revision, 0) <> coalesce(s.based_on, 0) AS stale
        FROM s
        LEFT JOIN {table} b ON b.revision = s.based_on AND s.based_on > 0
        LEFT JOIN {latest} l ON {on}
    )
    SELECT *, CASE WHEN NOT edited OR NOT differs THEN 'skip'
                   WHEN stale THEN 'conflict' ELSE 'write' END AS action
    FROM d
    """


def decide(
    con: duckdb.DuckDBPyConnection, kind: str, rows: list[dict], name: str | None = None
) -> duckdb.DuckDBPyRelation:
    """Stage ``rows`` (dicts with the TARGET_SCHEMA / TEXT_SCHEMA fields) and classify them."""
    name = name or f"_cspa_q_staged_{kind}"
    _register(con, name, rows, TARGET_SCHEMA if kind == "target" else TEXT_SCHEMA)
    rel = con.sql(_decide_sql(kind, name))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_decided AS {rel.sql_query()}")
    con.unregister(name)
    return con.table(f"{name}_decided")


def counts(con: duckdb.DuckDBPyConnection, decided: duckdb.DuckDBPyRelation) -> dict[str, int]:
    """Rows per action of a decided relation: {'skip': n, 'write': n, 'conflict': n}."""
    got = dict(
        con.execute(
            f"SELECT action, count(*) FROM ({decided.sql_query()}) GROUP BY action"
        ).fetchall()
    )
    return {a: got.get(a, 0) for a in ("skip", "write", "conflict")}


def write(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    decided: str,
    user: str,
    source: str,
    load_id: int | None,
) -> int:
    """Insert a revision for every row decided 'write' (inside the caller's transaction)."""
    if kind == "target":
        sql = f"""
        INSERT INTO quarterly_target_revision
        SELECT nextval('quarterly_revision_seq'), indicator, measure, area, period, period_label, period_kind,
               period_start, period_end, target_type, value, status, text, note, seed_ref, deleted,
               nullif(based_on, 0), ?, now(), ?, ?
        FROM {decided} WHERE action = 'write' ORDER BY where_"""
    else:
        # a template edits the words only: typed details (marker, rag, date ...) are kept from the
        # current revision unless the change brings its own
        sql = f"""
        INSERT INTO quarterly_text_revision
        SELECT nextval('quarterly_revision_seq'), d.area, d.period, d.indicator, d.field, d.item, d.text,
               coalesce(d.extra, l.extra), coalesce(d.seed_ref, l.seed_ref), d.deleted, nullif(d.based_on, 0),
               ?, now(), ?, ?
        FROM {decided} d LEFT JOIN quarterly_text_latest l
             ON l.area = d.area AND l.period = d.period AND l.indicator = d.indicator AND l.field = d.field
                AND l.item = d.item
        WHERE d.action = 'write' ORDER BY d.where_"""
    n = con.execute(f"SELECT count(*) FROM {decided} WHERE action = 'write'").fetchall()[0][0]
    if n:
        con.execute(sql, [user, source, load_id])
    return n


def extra_json(d: dict | None) -> str | None:
    d = {k: v for k, v in (d or {}).items() if v not in (None, "", [])}
    return json.dumps(d, ensure_ascii=False, sort_keys=True, default=str) if d else None
