"""Loading files into the store: read -> stage -> validate everything -> commit in one transaction.

Formats:

* the documented long format (``docs/data-formats.md`` section 2) as CSV, XLSX or Parquet;
* the LAIT base data set (columns ``Short Desc, Data item, Years, LA and Regions, Values,
  LA Number, Region``), whose ``Values`` mix numbers and suppression markers;
* DfE Explore Education Statistics tidy CSVs, through a source mapping in
  ``data/catalogue/sources/*.yaml`` (see :mod:`cspa.store.ees`).

Validation is set-based: the distinct indicators, measures, areas and periods of a file are
resolved once and joined back, so a 600,000-row file is checked in seconds. Any problem
refuses the whole load (``LoadError`` listing file, row and field); nothing is written.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from cspa.catalogue.areas import AreaRegistry, load_areas
from cspa.catalogue.load import Catalogue, load_catalogue
from cspa.catalogue.periods import parse_period
from cspa.catalogue.vocabulary import status_symbols
from cspa.errors import CatalogueError, CspaError, LoadError, PeriodError, Problem
from cspa.store.database import Store
from cspa.store.sql import path_literal

# Status symbols and what they mean (seed legend 000:L263-265, L3956; DfE/GSS: methods.md 10).
# the symbols a figure may carry instead of a value (catalogue vocabulary.yaml)
STATUS_SYMBOLS = status_symbols()
LONG_COLUMNS = [
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
    "quality",
    "provisional",
    "note",
    "seed_line",
    "unit",
]
REQUIRED = ["indicator", "area", "period"]
LAIT_COLUMNS = [
    "Short Desc",
    "Data item",
    "Years",
    "LA and Regions",
    "Values",
    "LA Number",
    "Region",
]
UNIT_MARKERS = {"%": "percent", "£": "currency_gbp"}
_NUM = re.compile(r"^\s*[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?\s*$")


@dataclass
class LoadResult:
    file: str
    format: str
    rows: int
    load_id: int
    superseded: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------- reading


def read_table(path: Path) -> tuple[pa.Table, list[Problem]]:
    """Read CSV/XLSX/Parquet into an all-text arrow table with a ``_row`` column (file row numbers)."""
    name = path.name
    suffix = path.suffix.lower()
    if not path.exists():
        raise LoadError([Problem(name, None, None, "file not found")])
    if suffix == ".parquet":
        try:
            t = duckdb.sql(f"SELECT * FROM read_parquet({path_literal(path)})").to_arrow_table()
        except (duckdb.Error, OSError) as e:
            raise LoadError(
                [Problem(name, None, None, f"not a readable Parquet file ({e})")]
            ) from None
        cols = {
            c: pa.array(
                [None if v is None else _text(v) for v in t.column(c).to_pylist()], pa.string()
            )
            for c in t.column_names
        }
        cols["_row"] = pa.array(range(1, t.num_rows + 1), pa.int64())
        return pa.table(cols), []
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt", ""):
        return _read_csv(path)
    raise LoadError(
        [
            Problem(
                name, None, None, f"unsupported file type {suffix!r}: use .csv, .xlsx or .parquet"
            )
        ]
    )


def _text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_csv(path: Path) -> tuple[pa.Table, list[Problem]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise LoadError(
            [
                Problem(
                    path.name,
                    line,
                    None,
                    f"not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                    "save the file as UTF-8 CSV",
                )
            ]
        ) from None
    if "\x00" in text:
        raise LoadError(
            [Problem(path.name, None, None, "the file contains NUL bytes: is it a binary file?")]
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise LoadError([Problem(path.name, None, None, "the file is empty")]) from None
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    if len(set(header)) != len(header):
        problems.append(
            Problem(path.name, 1, None, f"repeated column names in the header: {header}")
        )
    cols: dict[str, list] = {h: [] for h in header}
    rows: list[int] = []
    try:
        for n, rec in enumerate(reader, start=2):
            if not any(x.strip() for x in rec):
                continue
            if len(rec) != len(header):
                problems.append(
                    Problem(
                        path.name,
                        n,
                        None,
                        f"{len(rec)} fields where the header has {len(header)} "
                        "(a truncated or misquoted row?)",
                    )
                )
                continue
            for h, v in zip(header, rec, strict=True):
                cols[h].append(v.strip() if v.strip() != "" else None)
            rows.append(n)
    except csv.Error as e:
        problems.append(
            Problem(path.name, reader.line_num, None, f"CSV syntax error: {e} (a truncated file?)")
        )
    if not text.endswith(("\n", "\r")) and rows and problems == [] and text.count('"') % 2:
        problems.append(
            Problem(path.name, rows[-1], None, "unterminated quote: the file looks truncated")
        )
    t = pa.table(
        {
            **{h: pa.array(v, pa.string()) for h, v in cols.items()},
            "_row": pa.array(rows, pa.int64()),
        }
    )
    return t, problems


def _read_xlsx(path: Path) -> tuple[pa.Table, list[Problem]]:
    import openpyxl  # local import: only needed for Excel input

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise LoadError(
            [Problem(path.name, None, None, f"not a readable Excel workbook ({type(e).__name__})")]
        ) from None
    ws = wb["observations"] if "observations" in wb.sheetnames else wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(it, [])]
    cols: dict[str, list] = {h: [] for h in header if h}
    rows = []
    for n, rec in enumerate(it, start=2):
        if rec is None or all(v is None or str(v).strip() == "" for v in rec):
            continue
        for h, v in zip(header, rec, strict=False):
            if h:
                cols[h].append(None if v is None or str(v).strip() == "" else _text(v).strip())
        for h in header[len(rec) :]:
            if h:
                cols[h].append(None)
        rows.append(n)
    wb.close()
    return pa.table(
        {
            **{h: pa.array(v, pa.string()) for h, v in cols.items()},
            "_row": pa.array(rows, pa.int64()),
        }
    ), []


def detect_format(columns: list[str]) -> str:
    cols = set(columns)
    if {"Short Desc", "Years", "Values", "LA Number"} <= cols:
        return "lait"
    if {"time_period", "geographic_level"} <= cols:
        return "ees"
    return "long"


# ---------------------------------------------------------------------------------- LAIT


def lait_to_long(t: pa.Table, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Reshape the LAIT base data set to the long format (set-based, one SQL statement).

    ``Values`` holds numbers and markers; LAIT itself reads ``-``, ``c``, ``..`` and blank
    as missing (methods.md 7.1). Here a marker is kept as the status, never turned into 0.
    """
    con.register("lait_raw", t)
    out = con.sql(r"""
        SELECT "Short Desc" AS indicator, NULL AS measure,
               CAST(CAST(TRY_CAST("LA Number" AS DOUBLE) AS BIGINT) AS VARCHAR) AS area,
               "Years" AS period, NULL AS statistic,
               CASE WHEN TRY_CAST(replace(trim("Values"), ',', '') AS DOUBLE) IS NOT NULL
                    THEN replace(trim("Values"), ',', '') END AS value,
               NULL AS numerator, NULL AS denominator,
               CASE WHEN "Values" IS NULL OR trim("Values") = '' THEN '..'
                    WHEN TRY_CAST(replace(trim("Values"), ',', '') AS DOUBLE) IS NULL THEN trim("Values") END AS status,
               NULL AS text, NULL AS quality, NULL AS provisional, NULL AS note, NULL AS seed_line, NULL AS unit,
               _row
        FROM lait_raw
    """).to_arrow_table()
    con.unregister("lait_raw")
    return out


# ---------------------------------------------------------------------------------- validation


def _col(t: pa.Table, name: str) -> pa.Array:
    return t.column(name) if name in t.column_names else pa.nulls(t.num_rows, pa.string())


def stage_long(
    t: pa.Table,
    file: str,
    catalogue: Catalogue,
    areas: AreaRegistry,
    con: duckdb.DuckDBPyConnection,
) -> tuple[pa.Table, list[Problem]]:
    """Validate a long-format table; return the typed rows ready to insert, and the problems."""
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in t.column_names]
    if missing:
        return t, [Problem(file, 1, c, "required column missing") for c in missing]
    unknown = [c for c in t.column_names if c not in LONG_COLUMNS and c != "_row"]
    if unknown:
        problems.append(
            Problem(file, 1, None, f"unknown columns {unknown}; the long format has {LONG_COLUMNS}")
        )
    full = pa.table({c: _col(t, c) for c in LONG_COLUMNS} | {"_row": t.column("_row")})
    con.register("stg", full)

    def first_rows(where: str, params: list | None = None, limit: int = 3) -> list[int]:
        return [
            r[0]
            for r in con.execute(
                f"SELECT _row FROM stg WHERE {where} ORDER BY _row LIMIT {limit}", params or []
            ).fetchall()
        ]

    # indicators and measures: resolve the distinct values once
    ind_map: dict[str, str] = {}
    for (code,) in con.execute("SELECT DISTINCT indicator FROM stg").fetchall():
        if code is None:
            for r in first_rows("indicator IS NULL"):
                problems.append(Problem(file, r, "indicator", "empty"))
            continue
        try:
            ind_map[code] = catalogue.get(code).code
        except CatalogueError:
            for r in first_rows("indicator = ?", [code]):
                problems.append(Problem(file, r, "indicator", f"{code!r} is not in the catalogue"))
    meas_ok: dict[tuple[str, str], bool] = {}
    for code, m in con.execute(
        "SELECT DISTINCT indicator, coalesce(measure, 'value') FROM stg"
    ).fetchall():
        if code in ind_map:
            ind = catalogue.indicators[ind_map[code]]
            meas_ok[(code, m)] = m in ind.measure_ids()
            if not meas_ok[(code, m)]:
                for r in first_rows("indicator = ? AND coalesce(measure, 'value') = ?", [code, m]):
                    problems.append(
                        Problem(
                            file,
                            r,
                            "measure",
                            f"{ind.code} has no measure {m!r} (it has {ind.measure_ids()})",
                        )
                    )

    # areas
    area_map: dict[str, tuple[str, bool]] = {}
    for (a,) in con.execute("SELECT DISTINCT area FROM stg").fetchall():
        if a is None:
            for r in first_rows("area IS NULL"):
                problems.append(Problem(file, r, "area", "empty"))
            continue
        try:
            ar = areas.resolve(a)
            area_map[a] = (ar.code, ar.type != "la")
        except CspaError as e:
            for r in first_rows("area = ?", [a]):
                problems.append(Problem(file, r, "area", str(e)))

    # periods: parsed per indicator because the year type decides what '2007' means
    period_rows = []
    for code, p in con.execute(
        "SELECT DISTINCT indicator, period FROM stg WHERE indicator IS NOT NULL"
    ).fetchall():
        if code not in ind_map:
            continue
        if p is None:
            for r in first_rows("indicator = ? AND period IS NULL", [code]):
                problems.append(Problem(file, r, "period", "empty"))
            continue
        try:
            per = parse_period(p, catalogue.indicators[ind_map[code]].year_type.value)
            period_rows.append((code, p, per.key, per.kind, per.start, per.end))
        except PeriodError as e:
            for r in first_rows("indicator = ? AND period = ?", [code, p]):
                problems.append(Problem(file, r, "period", str(e)))

    # values: numbers, or a status symbol; a symbol in the value column is moved to status
    for r, col, v in con.execute(
        r"""
        SELECT _row, col, v FROM (
            SELECT _row, 'value' col, value v FROM stg UNION ALL
            SELECT _row, 'numerator', numerator FROM stg UNION ALL
            SELECT _row, 'denominator', denominator FROM stg)
        WHERE v IS NOT NULL AND TRY_CAST(replace(replace(replace(v, ',', ''), '%', ''), '£', '') AS DOUBLE) IS NULL
          AND NOT (col = 'value' AND v IN (SELECT unnest(?)))
        ORDER BY _row LIMIT 50""",
        [list(STATUS_SYMBOLS)],
    ).fetchall():
        problems.append(Problem(file, r, col, f"{v!r} is not a number (nor a status symbol)"))
    for r, s in con.execute(
        "SELECT _row, status FROM stg WHERE status IS NOT NULL AND status NOT IN (SELECT unnest(?)) "
        "ORDER BY _row LIMIT 20",
        [list(STATUS_SYMBOLS)],
    ).fetchall():
        problems.append(
            Problem(
                file, r, "status", f"unknown status symbol {s!r}; known: {' '.join(STATUS_SYMBOLS)}"
            )
        )
    for (
        r,
    ) in con.execute("""SELECT _row FROM stg WHERE value IS NULL AND numerator IS NULL AND status IS NULL
                               AND text IS NULL ORDER BY _row LIMIT 20""").fetchall():
        problems.append(Problem(file, r, "value", "no value, numerator, status or text"))
    for r in first_rows("numerator IS NOT NULL AND denominator IS NULL AND value IS NULL"):
        problems.append(
            Problem(file, r, "denominator", "a numerator without a denominator or a value")
        )
    for r in first_rows("TRY_CAST(replace(denominator, ',', '') AS DOUBLE) = 0"):
        problems.append(Problem(file, r, "denominator", "zero denominator"))

    # mixed units: a % or £ marker (or a unit column) that contradicts the catalogue's unit
    for code, marker in con.execute(r"""
            SELECT DISTINCT indicator, CASE WHEN value LIKE '%\%%' ESCAPE '\' THEN '%' WHEN value LIKE '%£%' THEN '£' END
            FROM stg WHERE value LIKE '%\%%' ESCAPE '\' OR value LIKE '%£%'""").fetchall():
        if (
            code in ind_map
            and catalogue.indicators[ind_map[code]].unit.value != UNIT_MARKERS[marker]
        ):
            for r in first_rows("indicator = ? AND value LIKE ?", [code, f"%{marker}%"]):
                problems.append(
                    Problem(
                        file,
                        r,
                        "value",
                        f"{marker!r} given but {ind_map[code]} is measured in "
                        f"{catalogue.indicators[ind_map[code]].unit.value} (mixed units)",
                    )
                )
    for code, unit in con.execute(
        "SELECT DISTINCT indicator, unit FROM stg WHERE unit IS NOT NULL"
    ).fetchall():
        if code in ind_map and catalogue.indicators[ind_map[code]].unit.value != unit:
            for r in first_rows("indicator = ? AND unit = ?", [code, unit]):
                problems.append(
                    Problem(
                        file,
                        r,
                        "unit",
                        f"{unit!r} but the catalogue measures {ind_map[code]} in "
                        f"{catalogue.indicators[ind_map[code]].unit.value} (mixed units)",
                    )
                )
    for r in first_rows("seed_line IS NOT NULL AND TRY_CAST(seed_line AS INTEGER) IS NULL"):
        problems.append(Problem(file, r, "seed_line", "must be a line number"))
    for r in first_rows(
        "provisional IS NOT NULL AND lower(provisional) NOT IN ('y', 'n', 'yes', 'no', 'true', 'false')"
    ):
        problems.append(Problem(file, r, "provisional", "use y or n"))

    if problems:
        con.unregister("stg")
        return full, problems

    con.register("ind_map", pa.table({"k": list(ind_map), "v": list(ind_map.values())}))
    con.register(
        "area_map",
        pa.table(
            {
                "k": list(area_map),
                "v": [v[0] for v in area_map.values()],
                "published": [v[1] for v in area_map.values()],
            }
        ),
    )
    con.register(
        "period_map",
        pa.table(
            {
                "indicator": [p[0] for p in period_rows],
                "label": [p[1] for p in period_rows],
                "key": [p[2] for p in period_rows],
                "kind": [p[3] for p in period_rows],
                "start": pa.array([p[4] for p in period_rows], pa.date32()),
                "end": pa.array([p[5] for p in period_rows], pa.date32()),
            }
        ),
    )
    typed = con.sql(
        r"""
        SELECT im.v AS indicator, coalesce(s.measure, 'value') AS measure, am.v AS area,
               pm.key AS period, s.period AS period_label, pm.kind AS period_kind,
               pm.start AS period_start, pm."end" AS period_end, coalesce(s.statistic, 'value') AS statistic,
               CASE WHEN s.value IN (SELECT unnest($1)) THEN NULL
                    ELSE TRY_CAST(replace(replace(replace(s.value, ',', ''), '%', ''), '£', '') AS DOUBLE) END AS value,
               TRY_CAST(replace(s.numerator, ',', '') AS DOUBLE) AS numerator,
               TRY_CAST(replace(s.denominator, ',', '') AS DOUBLE) AS denominator,
               coalesce(s.status, CASE WHEN s.value IN (SELECT unnest($1)) THEN s.value END) AS status,
               s.text, s.quality, lower(coalesce(s.provisional, 'n')) IN ('y', 'yes', 'true') AS provisional,
               s.note, am.published, TRY_CAST(s.seed_line AS INTEGER) AS seed_line, s._row AS row_no
        FROM stg s
        JOIN ind_map im ON im.k = s.indicator
        JOIN area_map am ON am.k = s.area
        JOIN period_map pm ON pm.indicator = s.indicator AND pm.label = s.period
    """,
        params=[list(STATUS_SYMBOLS)],
    ).to_arrow_table()
    for v in ("stg", "ind_map", "area_map", "period_map"):
        con.unregister(v)
    con.register("typed", typed)
    for key, rows in con.execute("""
            SELECT indicator || ' / ' || measure || ' / ' || area || ' / ' || any_value(period_label) || ' / ' || statistic,
                   list(row_no ORDER BY row_no)
            FROM typed GROUP BY indicator, measure, area, period, statistic HAVING count(*) > 1 LIMIT 20""").fetchall():
        problems.append(Problem(file, rows[1], None, f"duplicate key {key} (also row {rows[0]})"))
    con.unregister("typed")
    return typed, problems


# ---------------------------------------------------------------------------------- loading


def load_files(
    store: Store,
    paths: list[Path],
    *,
    source: str | None = None,
    vintage: str | None = None,
    licence: str | None = None,
    seed_file: str | None = None,
    catalogue: Catalogue | None = None,
    areas: AreaRegistry | None = None,
    loaded_by: str | None = None,
    progress=None,
) -> list[LoadResult]:
    """Validate every file, then write them all in one transaction, or write nothing.

    A row whose key (indicator, measure, area, period, statistic) is already current is
    superseded: the old row stays in the table, marked not current, so every vintage is kept.
    """
    catalogue = catalogue or load_catalogue()
    areas = areas or load_areas()
    con = store.con
    staged: list[tuple[Path, str, pa.Table]] = []
    problems: list[Problem] = []
    checked = 0
    for path in paths:
        path = Path(path)
        t, read_problems = read_table(path)
        fmt = detect_format(t.column_names)
        if fmt == "lait":
            t = lait_to_long(t, con)
        elif fmt == "ees":
            from cspa.store.ees import ees_to_long  # the EES mapping needs the source catalogue

            t = ees_to_long(t, path, con)
        typed, probs = stage_long(t, path.name, catalogue, areas, con)
        problems += read_problems + probs
        checked += t.num_rows
        staged.append((path, fmt, typed))
        if progress:
            progress(path)
    if problems:
        raise LoadError(
            problems, rows_checked=checked, bad_rows=len({(p.file, p.row) for p in problems})
        )

    results = []
    user = loaded_by or _user()
    with store.transaction() as c:
        for path, fmt, typed in staged:
            load_id = c.execute("SELECT nextval('load_seq')").fetchall()[0][0]
            vint = vintage or f"{path.name} loaded {datetime.now():%Y-%m-%d}"
            c.execute(
                "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?, ?)",
                [
                    load_id,
                    str(path),
                    fmt,
                    source or path.name,
                    vint,
                    licence,
                    typed.num_rows,
                    user,
                    _sha256(path),
                ],
            )
            c.register("new_rows", typed)
            superseded = c.execute("""
                UPDATE observation o SET is_current = FALSE
                FROM new_rows n
                WHERE o.is_current AND o.indicator = n.indicator AND o.measure = n.measure AND o.area = n.area
                  AND o.period = n.period AND o.statistic = n.statistic""").fetchall()[0][0]
            seed_ref = (
                f"'{seed_file}:L' || seed_line" if seed_file else "CAST(seed_line AS VARCHAR)"
            )
            c.execute(
                f"""
                INSERT INTO observation
                SELECT indicator, measure, area, period, period_label, period_kind, period_start, period_end,
                       statistic, value, numerator, denominator, status, text, quality, provisional, note,
                       published, ?, ?, ?, ?, {seed_ref}, row_no, TRUE
                FROM new_rows""",
                [source or path.name, vint, licence, load_id],
            )
            c.unregister("new_rows")
            results.append(LoadResult(str(path), fmt, typed.num_rows, load_id, superseded))
    return results


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
