"""Validate a return against DfE's rules, written as data (``data/records/ssda903_rules.yaml``).

Each rule is compiled into one SQL query over the return's tables in an in-memory DuckDB:
the text tables become typed tables that keep each field's text beside its typed value
(``DECOM`` a date, ``DECOM_txt`` what the file said), the rule file's ``views`` add what
several rules share (a child's previous and next episode, whether a child was looked after
for 12 months at 31 March ...), and each rule selects the rows it finds wrong. A finding names
file, row, child, field, the value and the rule's code and DfE message.

    result = validate(read_903(files, la="821"))
    result.blocking        # the findings that stop a load
    result.counts()        # rule code -> rows found

Rules are counted against DfE's list (``903_2024_25_rule_info.csv``): :func:`coverage`.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field

import duckdb

from cspa.catalogue.yaml_file import load_yaml
from cspa.errors import CspaError
from cspa.records.returns import DATE_SQL, RECORDS_DATA, RecordReturn, load_spec
from cspa.store.sql import string as sql_string

RULES_FILE = {"ssda903": "ssda903_rules.yaml", "cin": "cin_rules.yaml"}
TABLES_FILE = {"ssda903": "ssda903_tables.yaml", "cin": "cin_tables.yaml"}
KINDS = ("codes", "date", "together", "child_in", "same_as", "unique", "where")


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    table: str
    file: str
    row: int | None
    child: str | None
    field: str | None
    value: str | None
    blocking: bool

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.child is not None:
            where += f", child {self.child}"
        if self.field:
            where += f", field {self.field}"
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: rule {self.rule}: {self.message}{value}"


@dataclass
class Validation:
    ret: RecordReturn
    rule_version: str
    findings: list[Finding]
    rules_run: list[str]
    rules_skipped: dict[str, str] = field(
        default_factory=dict
    )  # code -> why not run on this return

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def ok(self) -> bool:
        return not self.blocking

    def counts(self) -> Counter:
        return Counter(f.rule for f in self.findings)


@dataclass(frozen=True)
class RuleSet:
    kind: str
    version: str
    rules: list[dict]
    views: dict[str, str]
    blocking: frozenset[str]
    messages: dict[str, str]
    source: str

    def codes(self) -> list[str]:
        return [r["code"] for r in self.rules]


def load_rules(kind: str = "ssda903", blocking: list[str] | None = None) -> RuleSet:
    """The rule set for a return kind; ``blocking`` replaces the file's list of blocking rules."""
    data = load_yaml((RECORDS_DATA / RULES_FILE[kind]).read_text(encoding="utf-8"))
    messages = {}
    if data.get("rule_info"):
        with (RECORDS_DATA / data["rule_info"]).open(encoding="utf-8", newline="") as f:
            messages = {
                r["Rule code"]: " ".join(r["Rule message"].split()) for r in csv.DictReader(f)
            }
    for r in data["rules"]:
        if r["kind"] not in KINDS:
            raise CspaError(
                f"{RULES_FILE[kind]}: rule {r['code']}: unknown kind {r['kind']!r} ({', '.join(KINDS)})"
            )
        messages.setdefault(r["code"], r.get("message", ""))
    chosen = data.get("blocking", []) if blocking is None else blocking
    unknown = sorted(set(chosen) - {r["code"] for r in data["rules"]})
    if unknown:
        raise CspaError(
            f"blocking rules {', '.join(unknown)} are not rules of the {data['version']} rule set"
        )
    return RuleSet(
        kind,
        data["version"],
        data["rules"],
        data.get("views") or {},
        frozenset(map(str, chosen)),
        messages,
        data.get("source", ""),
    )


def coverage(kind: str = "ssda903") -> dict:
    """How many of DfE's listed rules are implemented (in full, and partly)."""
    rs = load_rules(kind)
    listed = list(rs.messages)
    data = load_yaml((RECORDS_DATA / RULES_FILE[kind]).read_text(encoding="utf-8"))
    with (RECORDS_DATA / data["rule_info"]).open(encoding="utf-8", newline="") as f:
        listed = [r["Rule code"] for r in csv.DictReader(f)]
    done = {r["code"]: bool(r.get("partial")) for r in rs.rules}
    return {
        "listed": len(listed),
        "implemented": sum(1 for c in listed if c in done),
        "partial": sum(1 for c in listed if done.get(c)),
        "not_implemented": [c for c in listed if c not in done],
    }


# ------------------------------------------------------------------------------- running


def ons_code(la: str | None) -> str | None:
    """The ONS code of an authority given by its DfE number (the area registry's current code)."""
    if not la:
        return None
    from cspa.catalogue.areas import load_areas

    area = load_areas().get(str(la))
    return area.ons_code if area is not None else None


def validate(ret: RecordReturn, rules: RuleSet | None = None) -> Validation:
    rules = rules or load_rules(ret.kind)
    spec = load_spec(TABLES_FILE[ret.kind])
    con = duckdb.connect()
    la_code = ons_code(ret.la)
    try:
        present = _stage(con, ret, spec)
        # the authority's own code as placement fields hold it (PL_LA: ONS's nine characters)
        con.execute(f"CREATE MACRO la_code() AS {sql_string(la_code) if la_code else 'NULL'}")
        for name, sql in rules.views.items():
            con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
        findings: list[Finding] = []
        run, skipped = [], {}
        for r in rules.rules:
            need = r.get("requires_column")
            if need and need not in present.get(r["table"].removesuffix("_x"), set()):
                skipped[r["code"]] = f"the return has no {need} column"
                continue
            need_table = r.get("requires_table")
            if need_table and not present.get(need_table):
                skipped[r["code"]] = f"the return has no {need_table} table"
                continue
            if r.get("requires_la_code") and la_code is None:
                skipped[r["code"]] = f"the ONS code of authority {ret.la!r} is not known"
                continue
            sql = compile_rule(r, con)
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error as e:
                raise CspaError(
                    f"{RULES_FILE[ret.kind]}: rule {r['code']} does not run: {e}"
                ) from None
            run.append(r["code"])
            blocking = r["code"] in rules.blocking
            msg = rules.messages.get(r["code"], "")
            for file, row, child, value in rows:
                findings.append(
                    Finding(
                        r["code"],
                        msg,
                        r["table"].removesuffix("_x"),
                        file,
                        row,
                        child,
                        r.get("field"),
                        value,
                        blocking,
                    )
                )
    finally:
        con.close()
    findings.sort(key=lambda f: (not f.blocking, f.file or "", f.row or 0, f.rule))
    return Validation(ret, rules.version, findings, run, skipped)


def _stage(con: duckdb.DuckDBPyConnection, ret: RecordReturn, spec: dict) -> dict[str, set[str]]:
    """Typed tables with each field's text kept as ``<FIELD>_txt``; returns the columns each file had."""
    start, end = ret.collection_start, ret.collection_end
    con.execute(f"CREATE MACRO cstart() AS DATE '{start.isoformat()}'")
    con.execute(f"CREATE MACRO cend() AS DATE '{end.isoformat()}'")
    con.execute(
        "CREATE MACRO age(dob, d) AS date_diff('year', dob, d) "
        "- CASE WHEN strftime(d, '%m-%d') < strftime(dob, '%m-%d') THEN 1 ELSE 0 END"
    )
    con.execute(f"CREATE MACRO valid_date(x) AS x IS NULL OR {DATE_SQL.format(x='x')} IS NOT NULL")
    present: dict[str, set[str]] = {}
    for name, tspec in spec["tables"].items():
        cols = dict(tspec["columns"]) | dict(tspec.get("optional") or {})
        t = ret.tables.get(name)
        have = set(t.column_names) if t is not None else set()
        present[name] = have
        if t is not None:
            con.register(f"raw_{name}", t)
        select = []
        for c, typ in cols.items():
            txt = f"nullif(trim(\"{c}\"), '')" if c in have else "CAST(NULL AS VARCHAR)"
            if typ == "date":
                typed = DATE_SQL.format(x=txt)
            elif typ == "int":
                typed = f"TRY_CAST({txt} AS INTEGER)"
            elif typ == "float":
                typed = f"TRY_CAST({txt} AS DOUBLE)"
            else:
                typed = txt
            select.append(f"{typed} AS {c}")
            select.append(f"{txt} AS {c}_txt")
        if t is not None:
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT {', '.join(select)}, _file, _row FROM raw_{name}"
            )
            con.unregister(f"raw_{name}")
        else:
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT {', '.join(select)}, CAST(NULL AS VARCHAR) AS _file, "
                "CAST(NULL AS BIGINT) AS _row WHERE FALSE"
            )
    return present


def compile_rule(r: dict, con: duckdb.DuckDBPyConnection) -> str:
    """One rule as a query returning (file, row, child, value) for each row found wrong."""
    t, kind, f = r["table"], r["kind"], r.get("field")
    cols = {c[0] for c in con.execute(f"DESCRIBE {t}").fetchall()}
    value = "NULL" if not f else (f"{f}_txt" if f"{f}_txt" in cols else f"CAST({f} AS VARCHAR)")
    head = f"SELECT _file, _row, CHILD, {value} FROM {t}"
    if kind == "codes":
        codes = ", ".join("'" + str(c).replace("'", "''") + "'" for c in r["codes"])
        if r.get("blank") == "error":
            return f"{head} WHERE {f}_txt IS NULL OR {f}_txt NOT IN ({codes})"
        return f"{head} WHERE {f}_txt IS NOT NULL AND {f}_txt NOT IN ({codes})"
    if kind == "date":
        bad = f"({f}_txt IS NOT NULL AND {f} IS NULL)"
        return f"{head} WHERE {bad}" + (f" OR {f}_txt IS NULL" if r.get("blank") == "error" else "")
    if kind == "together":
        filled = " + ".join(f"CASE WHEN {c}_txt IS NULL THEN 0 ELSE 1 END" for c in r["fields"])
        return f"{head} WHERE ({filled}) NOT IN (0, {len(r['fields'])})"
    if kind == "child_in":
        return f"{head} t WHERE NOT EXISTS (SELECT 1 FROM {r['other']} o WHERE o.CHILD = t.CHILD)"
    if kind == "same_as":
        return (
            f"{head} t WHERE EXISTS (SELECT 1 FROM {r['other']} o WHERE o.CHILD = t.CHILD "
            f"AND o.{f} IS DISTINCT FROM t.{f})"
        )
    if kind == "unique":
        return (
            f"SELECT _file, _row, CHILD, CHILD FROM (SELECT *, row_number() OVER (PARTITION BY CHILD "
            f"ORDER BY _file, _row) AS n FROM {t}) WHERE n > 1 AND CHILD IS NOT NULL"
        )
    return f"{head} WHERE {r['where']}"
