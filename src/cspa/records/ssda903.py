"""Read an SSDA903 (children looked after) return: the CSV extracts or the XML return.

    ret = read_903([Path("episodes.csv"), Path("header.csv"), ...], la="821")
    ret = read_903([Path("fake_903.xml")], la="821", year=2018)

Tables and fields come from ``data/records/ssda903_tables.yaml``. A CSV is matched to a table by
its header (the exact set of a table's columns, in any order), so renamed extracts still load;
two files of one table are read as one table (each row keeps its file and line). The XML return
(``EXPSSDA903/CHILD/HEADER, EPISODE ...``) is flattened into the same tables: child-level fields
(``CHILDID``, ``DOB``, ``SEX``) are repeated on each review, missing and permanence record, as
the CSV extracts carry them.

The collection year, when not given, is worked out from the data: the year ending 31 March in
which the latest episode start (``DECOM``) falls. Episode end dates are not used, because a
wrong ``DEC`` after the collection year is exactly what rule 385 looks for.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pyarrow as pa

from cspa.errors import LoadError, Problem
from cspa.records.returns import DATE_SQL, RecordReturn, collection_year_of, empty_table, load_spec
from cspa.store.ingest import read_table

SPEC_FILE = "ssda903_tables.yaml"


def spec() -> dict:
    return load_spec(SPEC_FILE)


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; a folder stands for its .csv and .xml files (sorted)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(x for x in p.iterdir() if x.suffix.lower() in (".csv", ".xml"))
        else:
            out.append(p)
    return out


def read_903(paths: list[Path], la: str | None = None, year: int | None = None) -> RecordReturn:
    """Read the files of one 903 return. Raises :class:`LoadError` naming file (and row) for a file it cannot read."""
    sp = spec()
    parts: dict[str, list[pa.Table]] = {}
    problems: list[Problem] = []
    files = expand(paths)
    for path in files:
        if path.suffix.lower() == ".xml":
            for name, t in _read_xml(path, sp).items():
                parts.setdefault(name, []).append(t)
            continue
        t, probs = read_table(path)
        problems += probs
        name = _match_table(t.column_names, sp)
        if name is None:
            known = "; ".join(f"{n}: {', '.join(s['columns'])}" for n, s in sp["tables"].items())
            problems.append(
                Problem(
                    path.name,
                    1,
                    None,
                    f"the header {[c for c in t.column_names if c != '_row']} "
                    f"is not a 903 table's (known tables: {known})",
                )
            )
            continue
        t = t.append_column("_file", pa.array([path.name] * t.num_rows, pa.string()))
        parts.setdefault(name, []).append(t)
    if problems:
        raise LoadError(problems)
    tables = {}
    for name, ts in parts.items():
        cols = list(sp["tables"][name]["columns"]) + [
            c
            for c in (sp["tables"][name].get("optional") or {})
            if any(c in t.column_names for t in ts)
        ]
        tables[name] = pa.concat_tables([_conform(t, cols) for t in ts])
    ret = RecordReturn("ssda903", tables, files, la=la, spec_version=sp["version"])
    _set_year(ret, year)
    return ret


def _match_table(columns: list[str], sp: dict) -> str | None:
    cols = {c.strip().upper() for c in columns if c != "_row"}
    for name, tspec in sp["tables"].items():
        required = set(tspec["columns"])
        if required <= cols <= required | set(tspec.get("optional") or {}):
            return name
    return None


def _conform(t: pa.Table, cols: list[str]) -> pa.Table:
    """Columns in the table's order (upper case), missing optional ones as nulls, then _file and _row."""
    by_upper = {c.strip().upper(): c for c in t.column_names}
    arrays = {
        c: t.column(by_upper[c]) if c in by_upper else pa.nulls(t.num_rows, pa.string())
        for c in cols
    }
    return pa.table({**arrays, "_file": t.column("_file"), "_row": t.column("_row")})


def _read_xml(path: Path, sp: dict) -> dict[str, pa.Table]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise LoadError(
            [Problem(path.name, e.position[0], None, f"not well-formed XML ({e})")]
        ) from None
    if root.tag != "EXPSSDA903":
        raise LoadError(
            [Problem(path.name, None, None, f"root element is <{root.tag}>, not <EXPSSDA903>")]
        )
    rows: dict[str, list[dict]] = {n: [] for n in sp["tables"]}
    for child in root.iter("CHILD"):
        header = child.find("HEADER")
        if header is None:
            continue
        base = {e.tag: _text(e) for e in header if len(e) == 0}
        base["CHILD"] = base.pop(sp["tables"]["header"]["xml"].get("child_field", "CHILDID"), None)
        for name, tspec in sp["tables"].items():
            x = tspec.get("xml") or {}
            names = tspec.get("xml_names") or {}
            path_parts = x.get("path", "").split("/")
            if path_parts == ["HEADER"]:
                if x.get("only_if") and not base.get(x["only_if"]):
                    continue
                rows[name].append(dict(base))
                continue
            elems = [child] if path_parts[0] != "HEADER" else [header]
            for part in path_parts if path_parts[0] != "HEADER" else path_parts[1:]:
                elems = [c for e in elems for c in e.findall(part)]
            for e in elems:
                rec = {"CHILD": base.get("CHILD"), "DOB": base.get("DOB"), "SEX": base.get("SEX")}
                rec |= {names.get(c.tag, c.tag): _text(c) for c in e}
                rows[name].append(rec)
    out = {}
    for name, recs in rows.items():
        tspec = sp["tables"][name]
        cols = list(tspec["columns"]) + [
            c for c in (tspec.get("optional") or {}) if any(c in r for r in recs)
        ]
        if not recs:
            continue
        out[name] = pa.table(
            {
                **{c: pa.array([r.get(c) for r in recs], pa.string()) for c in cols},
                "_file": pa.array([path.name] * len(recs), pa.string()),
                "_row": pa.array(range(1, len(recs) + 1), pa.int64()),
            }
        )
    return out


def _text(e: ET.Element) -> str | None:
    t = (e.text or "").strip()
    return t or None


def _set_year(ret: RecordReturn, year: int | None) -> None:
    if year is not None:
        ret.year, ret.year_basis = int(year), "given"
        return
    eps = ret.tables.get("episodes")
    latest = None
    if eps is not None and eps.num_rows:
        latest = duckdb.sql(f"SELECT max({DATE_SQL.format(x='DECOM')}) FROM eps").fetchall()[0][0]
    if latest is None:
        raise LoadError(
            [
                Problem(
                    ret.files[0].name if ret.files else "(no files)",
                    None,
                    "DECOM",
                    "cannot work out the collection year: no episode start dates; give --year",
                )
            ]
        )
    ret.year = collection_year_of(latest)
    ret.year_basis = (
        f"the year ending 31 March in which the latest episode start ({latest:%d/%m/%Y}) falls"
    )


__all__ = ["empty_table", "expand", "read_903", "spec"]
