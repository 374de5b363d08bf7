"""A record-level return as read from its files: text tables that know where each row came from.

Both loaders (:mod:`cspa.records.ssda903`, :mod:`cspa.records.cin`) produce a :class:`RecordReturn`:
one Arrow table per return table, every field kept as the text the file holds (so that the
validation rules can say "not a valid date" about the text itself), plus ``_file`` and ``_row``
columns (the CSV line, or the record's number in an XML file) for error messages. Typed
tables (dates as dates, codes trimmed, with the authority and collection year) are made from
them by :func:`typed_tables` once the return has passed its blocking rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from cspa.catalogue.areas import DATA
from cspa.catalogue.yaml_file import load_yaml

RECORDS_DATA = DATA / "records"

# dd/mm/yyyy in 903 CSV extracts, ISO dates in the XML returns (the fake 903 XML uses dd/mm/yyyy too)
DATE_SQL = "CAST(coalesce(try_strptime({x}, '%d/%m/%Y'), try_strptime({x}, '%Y-%m-%d')) AS DATE)"


@dataclass
class RecordReturn:
    """One authority's return for one collection year, as read (all fields text)."""

    kind: str  # "ssda903" or "cin"
    tables: dict[str, pa.Table]
    files: list[Path]
    la: str | None = None
    year: int | None = None
    year_basis: str = ""
    spec_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def collection_start(self) -> date:
        return date(self.year - 1, 4, 1)

    @property
    def collection_end(self) -> date:
        return date(self.year, 3, 31)

    @property
    def period_label(self) -> str:
        """The collection year as the store labels a financial year: ``2017-18``."""
        return f"{self.year - 1}-{str(self.year)[-2:]}"

    def rows(self) -> dict[str, int]:
        return {k: t.num_rows for k, t in self.tables.items()}

    def sha256(self) -> str:
        h = hashlib.sha256()
        for p in sorted(self.files):
            h.update(p.read_bytes())
        return h.hexdigest()


def load_spec(name: str) -> dict:
    """A table specification (``ssda903_tables.yaml``, ``cin_tables.yaml``) from ``data/records``."""
    return load_yaml((RECORDS_DATA / name).read_text(encoding="utf-8"))


def collection_year_of(d: date) -> int:
    """The collection year (year ending 31 March) a date falls in: 2017-04-01..2018-03-31 -> 2018."""
    return d.year + 1 if d.month >= 4 else d.year


def empty_table(columns: list[str]) -> pa.Table:
    return pa.table(
        {
            **{c: pa.array([], pa.string()) for c in columns},
            "_file": pa.array([], pa.string()),
            "_row": pa.array([], pa.int64()),
        }
    )


def typed_tables(ret: RecordReturn, spec: dict) -> dict[str, pa.Table]:
    """The return's tables with typed columns (dates, integers, numbers), ``LA`` and ``YEAR``.

    Run after validation: a text that is not a date becomes null here, which is why a return
    whose dates fail the blocking date rules is never typed and loaded.
    """
    con = duckdb.connect()
    out = {}
    for name, tspec in spec["tables"].items():
        t = ret.tables.get(name)
        cols = dict(tspec["columns"]) | dict(tspec.get("optional") or {})
        if t is None:
            t = empty_table(list(tspec["columns"]))
        con.register("t", t)
        present = set(t.column_names)
        select = ["CAST(? AS VARCHAR) AS LA", "CAST(? AS INTEGER) AS YEAR"]
        for c, typ in cols.items():
            if c not in present:
                select.append(f"CAST(NULL AS {_SQL_TYPE[typ]}) AS {c}")
                continue
            x = f'trim("{c}")'
            if typ == "date":
                select.append(f"{DATE_SQL.format(x=x)} AS {c}")
            elif typ == "int":
                select.append(f"TRY_CAST({x} AS INTEGER) AS {c}")
            elif typ == "float":
                select.append(f"TRY_CAST({x} AS DOUBLE) AS {c}")
            else:
                select.append(f"nullif({x}, '') AS {c}")
        out[name] = con.sql(
            f"SELECT {', '.join(select)} FROM t ORDER BY _file, _row", params=[ret.la, ret.year]
        ).to_arrow_table()
        con.unregister("t")
    con.close()
    return out


_SQL_TYPE = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",
    "int": "INTEGER",
    "float": "DOUBLE",
}


def arrow_schema(spec: dict) -> dict[str, pa.Schema]:
    """The typed tables' Arrow schemas (what the generator writes and the measures read)."""
    types = {
        "text": pa.string(),
        "code": pa.string(),
        "date": pa.date32(),
        "int": pa.int32(),
        "float": pa.float64(),
    }
    out = {}
    for name, tspec in spec["tables"].items():
        cols = dict(tspec["columns"]) | dict(tspec.get("optional") or {})
        out[name] = pa.schema(
            [("LA", pa.string()), ("YEAR", pa.int32())] + [(c, types[t]) for c, t in cols.items()]
        )
    return out
