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
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from cspa.catalogue.areas import AreaRegistry, load_areas
from cspa.catalogue.load import Catalogue, load_catalogue
from cspa.catalogue.periods import parse_period
from cspa.catalogue.vocabulary import status_symbols
from cspa.errors import CatalogueError, CspaError, LoadError, PeriodError, Problem
from cspa.store.database import Store
from cspa.store.validate import (
    LONG,
    Columns,
    check_area_periods,
    check_numbers,
    check_statistics,
    check_values,
    number_ok_sql,
    strip_markers_sql,
    trim_sql,
)

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
    """Read CSV/XLSX/Parquet into an all-text arrow table with a ``_row`` column (file row numbers).

    ``path`` is a file name, never a pattern: ``glob[1].parquet`` reads that file, not ``glob1.parquet``.
    """
    name = path.name
    suffix = path.suffix.lower()
    try:
        # a name the file system cannot hold (too long, a NUL) raises rather than answering no
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise LoadError(
            [Problem(name, None, None, f"not a file name this system can open ({why})")]
        ) from None
    if not exists:
        raise LoadError([Problem(name, None, None, "file not found")])
    if is_dir:
        raise LoadError(
            [Problem(name, None, None, "is a folder, not a file: give the files in it")]
        )
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            with path.open(
                "rb"
            ) as f:  # an open file: pyarrow reads it as given, never as a pattern or URI
                t = pq.read_table(f)
        except (pa.ArrowException, OSError) as e:
            raise LoadError(
                [Problem(name, None, None, f"not a readable Parquet file ({e})")]
            ) from None
        _no_repeats(name, t.column_names)
        # a pre-stepped copy (real_data) carries the original file's row numbers in _row
        if "_row" in t.column_names and pa.types.is_integer(t.schema.field("_row").type):
            rows = t.column("_row").combine_chunks().cast(pa.int64())
        else:
            rows = pa.array(range(1, t.num_rows + 1), pa.int64())
        cols = {
            c: pa.array(
                [None if v is None else _text(v) for v in t.column(c).to_pylist()], pa.string()
            )
            for c in t.column_names
            if c != "_row"
        }
        cols["_row"] = rows
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


def _no_repeats(name: str, header: list[str]) -> None:
    """A column named twice cannot be read one way: refuse the file naming both places."""
    seen: dict[str, int] = {}
    problems = []
    for i, h in enumerate(header, start=1):
        if h in seen and h != "":
            problems.append(
                Problem(
                    name,
                    1,
                    h,
                    f"column {h!r} appears twice in the header (columns "
                    f"{_letters(seen[h])} and {_letters(i)}): keep one",
                )
            )
        seen.setdefault(h, i)
    if problems:
        raise LoadError(problems, rows_checked=0, bad_rows=1)


def _letters(n: int) -> str:
    """Spreadsheet column letters of the n-th column (1 -> A, 28 -> AB): how a user finds it."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


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
    except csv.Error as e:
        raise LoadError(
            [Problem(path.name, 1, None, f"CSV syntax error in the header: {e}")]
        ) from None
    header = [h.strip() for h in header]
    _no_repeats(path.name, header)
    problems: list[Problem] = []
    cols: dict[str, list] = {h: [] for h in header}
    rows: list[int] = []
    n = 1
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
            Problem(path.name, n + 1, None, f"CSV syntax error: {e} (a truncated file?)")
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
    from cspa.store.excel_text import open_workbook  # openpyxl: only needed for Excel input

    try:
        # strings decoded as Excel does (control characters, literal _xHHHH_), formulas kept as formulas
        wb = open_workbook(path, read_only=True)
    except Exception as e:  # openpyxl raises many types for a damaged workbook
        raise LoadError(
            [Problem(path.name, None, None, f"not a readable Excel workbook ({type(e).__name__})")]
        ) from None
    ws = wb["observations"] if "observations" in wb.sheetnames else wb.worksheets[0]
    it = ws.iter_rows()
    header = [str(c.value).strip() if c.value is not None else "" for c in next(it, [])]
    _no_repeats(path.name, header)
    cols: dict[str, list] = {h: [] for h in header if h}
    rows = []
    problems: list[Problem] = []
    for n, rec in enumerate(it, start=2):
        # a formula is refused by its cell, never read as its cached result or as an empty cell
        formulas = [i for i, c in enumerate(rec) if getattr(c, "data_type", None) == "f"]
        for i in formulas:
            problems.append(
                Problem(
                    path.name,
                    n,
                    header[i] if i < len(header) and header[i] else _letters(i + 1),
                    f"cell {_letters(i + 1)}{n} holds a formula ({str(rec[i].value)[:60]}); "
                    "type the figure itself",
                )
            )
        vals = [c.value for c in rec]
        if formulas or all(v is None or str(v).strip() == "" for v in vals):
            continue
        for h, v in zip(header, vals, strict=False):
            if h:
                cols[h].append(None if v is None or str(v).strip() == "" else _text(v).strip())
        for h in header[len(vals) :]:
            if h:
                cols[h].append(None)
        rows.append(n)
    wb.close()
    return pa.table(
        {
            **{h: pa.array(v, pa.string()) for h, v in cols.items()},
            "_row": pa.array(rows, pa.int64()),
        }
    ), problems[:50]


def detect_format(columns: list[str]) -> str:
    cols = set(columns)
    if {"Short Desc", "Years", "Values", "LA Number"} <= cols:
        return "lait"
    if {"time_period", "geographic_level"} <= cols:
        return "ees"
    return "long"


# ---------------------------------------------------------------------------------- LAIT

LAIT_NAMES = {
    "indicator": "Short Desc",
    "area": "LA Number",
    "period": "Years",
    "value": "Values",
    "status": "Values",
}


def lait_to_long(t: pa.Table, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Reshape the LAIT base data set to the long format (set-based, one SQL statement).

    ``Values`` holds numbers and markers; LAIT itself reads ``-``, ``c``, ``..`` and blank
    as missing (methods.md 7.1). Here a marker is kept as the status, never turned into 0, and
    anything else is the value as written: the loader reads it as a figure or refuses it naming
    the ``Values`` cell (``19,5`` is not silently 195).
    """
    con.register("lait_raw", t)
    out = con.sql(
        r"""
        SELECT "Short Desc" AS indicator, NULL AS measure,
               regexp_replace(trim(CAST("LA Number" AS VARCHAR)), '\.0+$', '') AS area,
               "Years" AS period, NULL AS statistic,
               CASE WHEN "Values" IS NULL OR trim("Values") = '' OR trim("Values") IN (SELECT unnest($1)) THEN NULL
                    ELSE trim("Values") END AS value,
               NULL AS numerator, NULL AS denominator,
               CASE WHEN "Values" IS NULL OR trim("Values") = '' THEN '..'
                    WHEN trim("Values") IN (SELECT unnest($1)) THEN trim("Values") END AS status,
               NULL AS text, NULL AS quality, NULL AS provisional, NULL AS note, NULL AS seed_line, NULL AS unit,
               _row
        FROM lait_raw
    """,
        params=[list(STATUS_SYMBOLS)],
    ).to_arrow_table()
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
    columns: Columns | None = None,
) -> tuple[pa.Table, list[Problem]]:
    """Validate a long-format table; return the typed rows ready to insert, and the problems.

    ``columns`` spells cspa's fields as the user's file does (``Years`` for ``period`` in a LAIT
    file), so that every problem names the column the user sees.
    """
    cols = columns or LONG
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in t.column_names]
    if missing:
        return t, [Problem(file, 1, cols.name(c), "required column missing") for c in missing]
    unknown = [c for c in t.column_names if c not in LONG_COLUMNS and not c.startswith("_")]
    if unknown:
        problems.append(
            Problem(file, 1, None, f"unknown columns {unknown}; the long format has {LONG_COLUMNS}")
        )
    per_row = {c: t.column(c) for c in t.column_names if c.startswith("_col_")}
    full = pa.table({c: _col(t, c) for c in LONG_COLUMNS} | per_row | {"_row": t.column("_row")})
    con.register("stg", full)

    def first_rows(
        where: str, params: list | None = None, field: str | None = None, limit: int = 3
    ) -> list[tuple[int, str]]:
        name = cols.sql(field) if field else "NULL"
        return [
            (r[0], r[1])
            for r in con.execute(
                f"SELECT _row, {name} FROM stg WHERE {where} ORDER BY _row LIMIT {limit}",
                params or [],
            ).fetchall()
        ]

    # indicators and measures: resolve the distinct values once
    ind_map: dict[str, str] = {}
    for (code,) in con.execute("SELECT DISTINCT indicator FROM stg").fetchall():
        if code is None:
            for r, c in first_rows("indicator IS NULL", field="indicator"):
                problems.append(Problem(file, r, c, "empty"))
            continue
        try:
            ind_map[code] = catalogue.get(code).code
        except CatalogueError:
            for r, c in first_rows("indicator = ?", [code], "indicator"):
                problems.append(Problem(file, r, c, f"{code!r} is not in the catalogue"))
    for code, m in con.execute(
        "SELECT DISTINCT indicator, coalesce(measure, 'value') FROM stg"
    ).fetchall():
        if code in ind_map:
            ind = catalogue.indicators[ind_map[code]]
            if m not in ind.measure_ids():
                for r, c in first_rows(
                    "indicator = ? AND coalesce(measure, 'value') = ?", [code, m], "measure"
                ):
                    problems.append(
                        Problem(
                            file,
                            r,
                            c,
                            f"{ind.code} has no measure {m!r} (it has {ind.measure_ids()})",
                        )
                    )

    # areas
    area_map: dict[str, tuple[str, bool]] = {}
    for (a,) in con.execute("SELECT DISTINCT area FROM stg").fetchall():
        if a is None:
            for r, c in first_rows("area IS NULL", field="area"):
                problems.append(Problem(file, r, c, "empty"))
            continue
        try:
            ar = areas.resolve(a)
            area_map[a] = (ar.code, ar.type != "la")
        except CspaError as e:
            for r, c in first_rows("area = ?", [a], "area"):
                problems.append(Problem(file, r, c, str(e)))

    # periods: parsed per indicator because the year type decides what '2007' means
    period_rows = []
    for code, p in con.execute(
        "SELECT DISTINCT indicator, period FROM stg WHERE indicator IS NOT NULL"
    ).fetchall():
        if code not in ind_map:
            continue
        if p is None:
            for r, c in first_rows("indicator = ? AND period IS NULL", [code], "period"):
                problems.append(Problem(file, r, c, "empty"))
            continue
        try:
            per = parse_period(p, catalogue.indicators[ind_map[code]].year_type.value)
            period_rows.append((code, p, per.key, per.kind, per.start, per.end))
        except PeriodError as e:
            for r, c in first_rows("indicator = ? AND period = ?", [code, p], "period"):
                problems.append(Problem(file, r, c, str(e)))

    # values: figures (one grammar, validate.NUMBER), or a status symbol; a symbol in the value column
    # is moved to status
    problems += check_numbers(con, "stg", file, cols, list(STATUS_SYMBOLS))
    for r, s, c in con.execute(
        f"SELECT _row, status, {cols.sql('status')} FROM stg WHERE status IS NOT NULL "
        "AND status NOT IN (SELECT unnest(?)) ORDER BY _row LIMIT 20",
        [list(STATUS_SYMBOLS)],
    ).fetchall():
        problems.append(
            Problem(file, r, c, f"unknown status symbol {s!r}; known: {' '.join(STATUS_SYMBOLS)}")
        )
    problems += check_statistics(con, "stg", file, cols)
    for r, c in first_rows(
        "value IS NULL AND numerator IS NULL AND status IS NULL AND text IS NULL",
        field="value",
        limit=20,
    ):
        problems.append(Problem(file, r, c, "no value, numerator, status or text"))
    for r, c in first_rows(
        "numerator IS NOT NULL AND denominator IS NULL AND value IS NULL", field="denominator"
    ):
        problems.append(Problem(file, r, c, "a numerator without a denominator or a value"))
    for r, c in first_rows(
        f"{number_ok_sql(trim_sql('denominator'))} AND TRY_CAST({trim_sql('denominator')} AS DOUBLE) = 0",
        field="denominator",
    ):
        problems.append(Problem(file, r, c, "zero denominator"))

    # mixed units: a % or £ marker (or a unit column) that contradicts the catalogue's unit
    for code, marker in con.execute(r"""
            SELECT DISTINCT indicator, CASE WHEN value LIKE '%\%%' ESCAPE '\' THEN '%' WHEN value LIKE '%£%' THEN '£' END
            FROM stg WHERE value LIKE '%\%%' ESCAPE '\' OR value LIKE '%£%'""").fetchall():
        if (
            code in ind_map
            and catalogue.indicators[ind_map[code]].unit.value != UNIT_MARKERS[marker]
        ):
            for r, c in first_rows(
                "indicator = ? AND value LIKE ?", [code, f"%{marker}%"], "value"
            ):
                problems.append(
                    Problem(
                        file,
                        r,
                        c,
                        f"{marker!r} given but {ind_map[code]} is measured in "
                        f"{catalogue.indicators[ind_map[code]].unit.value} (mixed units)",
                    )
                )
    for code, unit in con.execute(
        "SELECT DISTINCT indicator, unit FROM stg WHERE unit IS NOT NULL"
    ).fetchall():
        if code in ind_map and catalogue.indicators[ind_map[code]].unit.value != unit:
            for r, c in first_rows("indicator = ? AND unit = ?", [code, unit], "unit"):
                problems.append(
                    Problem(
                        file,
                        r,
                        c,
                        f"{unit!r} but the catalogue measures {ind_map[code]} in "
                        f"{catalogue.indicators[ind_map[code]].unit.value} (mixed units)",
                    )
                )
    for r, c in first_rows(
        "seed_line IS NOT NULL AND TRY_CAST(seed_line AS INTEGER) IS NULL", field="seed_line"
    ):
        problems.append(Problem(file, r, c, "must be a line number"))
    for r, c in first_rows(
        "provisional IS NOT NULL AND lower(provisional) NOT IN ('y', 'n', 'yes', 'no', 'true', 'false')",
        field="provisional",
    ):
        problems.append(Problem(file, r, c, "use y or n"))

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
    value = strip_markers_sql("s.value")
    typed = con.sql(
        f"""
        SELECT im.v AS indicator, coalesce(s.measure, 'value') AS measure, am.v AS area,
               pm.key AS period, s.period AS period_label, pm.kind AS period_kind,
               pm.start AS period_start, pm."end" AS period_end, coalesce(s.statistic, 'value') AS statistic,
               CASE WHEN {trim_sql("s.value")} IN (SELECT unnest($1)) THEN NULL ELSE CAST({value} AS DOUBLE) END AS value,
               CAST({trim_sql("s.numerator")} AS DOUBLE) AS numerator,
               CAST({trim_sql("s.denominator")} AS DOUBLE) AS denominator,
               coalesce(s.status, CASE WHEN {trim_sql("s.value")} IN (SELECT unnest($1))
                                       THEN {trim_sql("s.value")} END) AS status,
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
    try:
        problems += check_values(con, "typed", file, cols, catalogue)
        problems += check_area_periods(con, "typed", file, cols, areas)
        for key, rows in con.execute("""
                SELECT indicator || ' / ' || measure || ' / ' || area || ' / ' || any_value(period_label) || ' / ' || statistic,
                       list(row_no ORDER BY row_no)
                FROM typed GROUP BY indicator, measure, area, period, statistic HAVING count(*) > 1
                ORDER BY min(row_no) LIMIT 20""").fetchall():
            problems.append(
                Problem(file, rows[1], None, f"duplicate key {key} (also row {rows[0]})")
            )
    finally:
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
    released: date | None = None,
) -> list[LoadResult]:
    """Validate every file, then write them all in one transaction, or write nothing.

    ``released`` is the date the figures were published (kept in ``load_log``): a dated document
    (a framework with ``as_at``) shows only figures released by its date; a load without one is
    left out of dated documents.

    A row whose key (indicator, measure, area, period, statistic) is already current is
    superseded: the old row stays in the table, marked not current, so every vintage is kept.
    """
    catalogue = catalogue or load_catalogue()
    areas = areas or load_areas()
    con = store.con
    staged: list[tuple[Path, str, pa.Table, str]] = []
    problems: list[Problem] = []
    checked = 0
    seen: dict[str, Path] = {}
    for path in paths:
        path = Path(path)
        try:
            t, read_problems = read_table(path)
        except LoadError as e:  # a file that cannot be read at all; go on to report the others too
            problems += e.problems
            continue
        # one load is one consistent set: the same file (or the same bytes under two names) twice is a slip
        digest = _sha256(path)
        if digest in seen:
            same = (
                "the same file"
                if seen[digest].resolve() == path.resolve()
                else f"the same content as {seen[digest].name}"
            )
            problems.append(
                Problem(
                    path.name, None, None, f"given twice in this load ({same}): give each file once"
                )
            )
            continue
        seen[digest] = path
        raw_rows = t.num_rows
        fmt = detect_format(t.column_names)
        cols = LONG
        if fmt == "lait":
            t = lait_to_long(t, con)
            cols = Columns(LAIT_NAMES)
        elif fmt == "ees":
            from cspa.store.ees import (  # the EES mapping needs the source catalogue
                EES_NAMES,
                ees_to_long,
            )

            t = ees_to_long(t, path, con)
            cols = Columns(EES_NAMES, frozenset({"value", "numerator", "denominator", "area"}))
        if raw_rows == 0 and not read_problems:
            problems.append(
                Problem(path.name, None, None, "no data rows (only a header): nothing to load")
            )
            continue
        if t.num_rows == 0 and not read_problems:
            problems.append(
                Problem(
                    path.name,
                    None,
                    None,
                    f"none of its {raw_rows:,} rows is one its source "
                    "mapping reads: nothing to load",
                )
            )
            continue
        typed, probs = stage_long(t, path.name, catalogue, areas, con, cols)
        problems += read_problems + probs
        checked += t.num_rows
        staged.append((path, fmt, typed, digest))
        if progress:
            progress(path)
    if not problems:
        problems += _conflicting_keys(con, staged)
    if problems:
        raise LoadError(
            problems, rows_checked=checked, bad_rows=len({(p.file, p.row) for p in problems})
        )

    results = []
    user = loaded_by or _user()
    with store.transaction() as c:
        for path, fmt, typed, digest in staged:
            load_id = c.execute("SELECT nextval('load_seq')").fetchall()[0][0]
            vint = vintage or f"{path.name} loaded {datetime.now():%Y-%m-%d}"
            c.execute(
                "INSERT INTO load_log (load_id, file, format, source, vintage, licence, rows, loaded_at, "
                "loaded_by, sha256, released) VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?)",
                [
                    load_id,
                    str(path),
                    fmt,
                    source or path.name,
                    vint,
                    licence,
                    typed.num_rows,
                    user,
                    digest,
                    released,
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


def _conflicting_keys(
    con: duckdb.DuckDBPyConnection, staged: list[tuple[Path, str, pa.Table, str]]
) -> list[Problem]:
    """A key (indicator, measure, area, period, statistic) given by two files of one load: the load
    would otherwise keep whichever came last. Refused naming both places."""
    if len(staged) < 2:
        return []
    keys = pa.concat_tables(
        [
            typed.select(
                ["indicator", "measure", "area", "period", "period_label", "statistic", "row_no"]
            ).append_column("file_no", pa.array([i] * typed.num_rows, pa.int64()))
            for i, (_p, _f, typed, _d) in enumerate(staged)
        ]
    )
    con.register("_cspa_keys", keys)
    try:
        rows = con.execute("""
            SELECT indicator, measure, area, any_value(period_label), statistic,
                   list(file_no ORDER BY file_no, row_no), list(row_no ORDER BY file_no, row_no)
            FROM _cspa_keys GROUP BY indicator, measure, area, period, statistic
            HAVING count(DISTINCT file_no) > 1 ORDER BY min(file_no), min(row_no) LIMIT 20""").fetchall()
    finally:
        con.unregister("_cspa_keys")
    out = []
    for ind, meas, area, label, stat, files, rows_ in rows:
        first, second = staged[files[0]][0].name, staged[files[1]][0].name
        out.append(
            Problem(
                second,
                rows_[1],
                None,
                f"{ind} / {meas} / {area} / {label} / {stat} is also given by {first}, row {rows_[0]}: "
                "one load must say each figure once (load the files separately, the newer vintage "
                "last, to keep both as history)",
            )
        )
    return out


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"
