"""The embedded store: one DuckDB file (path configurable), the only module that writes to it.

``Store.open(path)`` creates the schema if needed. Reference data (areas, neighbour groups,
the resolved catalogue) is written by :meth:`Store.sync_reference` so that the engine can
join against it in SQL. Observations arrive only through :mod:`cspa.store.ingest`, which
validates a whole file before writing it in one transaction.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cspa.catalogue.areas import AreaRegistry, load_areas
from cspa.catalogue.load import Catalogue, load_catalogue
from cspa.catalogue.models import file_stem, parse_cutoff
from cspa.catalogue.neighbours import NeighbourGroups, load_neighbours
from cspa.catalogue.periods import PeriodError, parse_period
from cspa.errors import CatalogueError, DatabaseError, SchemaError

SCHEMA = Path(__file__).with_name("schema.sql")
# The schema's version, stamped in meta.schema_version. Every store written before issue 22 says
# "1" whatever its shape (it was stamped on every open); 2 adds the areas' lifetimes and rebuilds
# the reference tables in their current shape; 3 adds series breaks, the measure's recent trend
# and the release date of each load (issue 17). A new version adds its step to MIGRATIONS.
SCHEMA_VERSION = 3
# Tables derived from the catalogue and rewritten whole by sync_reference: a migration may drop
# and recreate them, never the observations, loads, targets, words or moderations users made.
REFERENCE_TABLES = ("area", "neighbour", "neighbour_group", "indicator", "measure", "band")


def default_path() -> Path:
    """``$CSPA_DB`` if set, else ``./cspa-output/cspa.duckdb``."""
    return Path(os.environ.get("CSPA_DB", "cspa-output/cspa.duckdb"))


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """schema.sql first, then each feature's own tables (schema_<feature>.sql); all idempotent."""
    for sql in [SCHEMA, *sorted(SCHEMA.parent.glob("schema_*.sql"))]:
        con.execute(sql.read_text(encoding="utf-8"))


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
    """The store's schema version; 0 for an empty database (no tables), None when it is not a cspa
    store (tables but no meta version)."""
    tables = _tables(con)
    if not tables:
        return 0
    if "meta" not in tables:
        return None
    got = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    if not got:
        return None
    try:
        return int(got[0][0])
    except (TypeError, ValueError):
        return None


def _migrate_1_to_2(store: Store) -> None:
    """Stores stamped 1 come in several shapes (the measure table gained formula_comparator_area
    and significance_json after the first release; the quarterly and assessment tables came later):
    rebuild the reference tables in the current shape and sync them again, create the feature
    tables a store lacks. Observations, loads and everything users typed are kept as they are."""
    con = store.con
    synced = (
        "area" in _tables(con) and con.execute("SELECT count(*) FROM area").fetchall()[0][0] > 0
    )
    with store.transaction():
        for t in REFERENCE_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {t}")
        _create_tables(con)
    if synced:
        store.sync_reference()


def _migrate_2_to_3(store: Store) -> None:
    """Version 3 adds the series_break table, measure.recent_trend and load_log.released (NULL for
    earlier loads: they are left out of dated documents, as a load without a date is). The new
    table and column are reference data: a synced store is synced again, or its judgements would
    silently have no series breaks and no recent trends until the next full rebuild."""
    con = store.con
    with store.transaction():
        _create_tables(con)
    if "measure" in _tables(con) and con.execute("SELECT count(*) FROM measure").fetchall()[0][0]:
        store.sync_reference()


# from-version -> step to the next version
MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


class Store:
    def __init__(self, con: duckdb.DuckDBPyConnection, path: str | None = None):
        self.con = con
        self.path = path

    @classmethod
    def open(
        cls, path: str | Path | None = None, read_only: bool = False, *, upgrade: bool = True
    ) -> Store:
        """Open (and create if needed) the store. ``":memory:"`` gives an in-memory store.

        The schema version is checked every time: a store from a newer cspa is refused and left
        as it is; an older one is migrated (``upgrade``, writable opens only) or refused with what
        to do. For use by several processes at once see :mod:`cspa.store.access`.
        """
        p = str(default_path() if path is None else path)
        if p != ":memory:":
            if Path(p).is_dir():
                raise DatabaseError(f"{p} is a folder, not a database file")
            Path(p).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(p, read_only=read_only)
        except duckdb.Error as e:
            raise _open_error(p, e) from None
        store = cls(con, p)
        try:
            store._check_schema(read_only, upgrade)
        except BaseException:
            con.close()
            raise
        return store

    def _check_schema(self, read_only: bool, upgrade: bool) -> None:
        con, p = self.con, self.path
        version = schema_version(con)
        if version is None:
            raise SchemaError(
                f"{p} is a DuckDB database but not a cspa one (it has no schema version); "
                "give the cspa database with --db, or a new file name to make one"
            )
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{p} was written by a newer cspa (schema version {version}; this cspa knows "
                f"versions up to {SCHEMA_VERSION}): use that cspa, or upgrade this one. "
                "The database was not changed."
            )
        if read_only:
            if version == 0:
                raise DatabaseError(
                    f"{p} is an empty database: load data into it (cspa load FILE --db {p}) "
                    "or build the demo (cspa demo)"
                )
            if version < SCHEMA_VERSION:
                raise SchemaError(
                    f"{p} was written by an older cspa (schema version {version}; this cspa "
                    f"reads version {SCHEMA_VERSION}): run any cspa command that writes to it "
                    f"(for example cspa data upgrade --db {p}) to upgrade it first"
                )
            return
        if 0 < version < SCHEMA_VERSION:
            if not upgrade:
                raise SchemaError(
                    f"{p} has schema version {version}; this cspa writes version {SCHEMA_VERSION}"
                )
            for v in range(version, SCHEMA_VERSION):
                MIGRATIONS[v](self)
                con.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(v + 1)]
                )
        # every open that may write makes sure the tables exist (a new store, a new feature's tables)
        _create_tables(con)
        if version == 0:
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        """All or nothing: commit if the block finishes, roll everything back if it raises."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    # ------------------------------------------------------------------ reference data

    def sync_reference(
        self,
        areas: AreaRegistry | None = None,
        neighbours: NeighbourGroups | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        """Write areas, neighbour groups and the resolved catalogue (measures, bands) in one transaction."""
        areas = areas or load_areas()
        neighbours = neighbours or load_neighbours()
        catalogue = catalogue or load_catalogue()
        area_rows = [
            (
                a.code,
                a.name,
                a.type,
                a.dfe_code,
                a.ons_code,
                a.region_code,
                a.la_type,
                a.in_2008,
                a.in_2025,
                ";".join(a.successors) or None,
                a.lat,
                a.long,
                a.lait_number,
                a.parent,
                a.note,
                a.exists_from,
                a.exists_until,
                a.figures_from,
                a.figures_until,
            )
            for a in areas
        ]
        nb_rows = [(g, la, n.rank, n.code, n.name, n.closeness) for g, la, n in neighbours.rows()]
        grp_rows = [(i.id, i.name, i.period, i.source, i.licence) for i in neighbours.info.values()]
        ind_rows, m_rows, b_rows, k_rows = [], [], [], []
        _check_groups(catalogue, set(neighbours.info))
        for ind in catalogue.indicators.values():
            ind_rows.append(
                (
                    ind.code,
                    ind.framework,
                    ind.title,
                    ind.outcome.value if ind.outcome else None,
                    ind.section,
                    ind.page,
                    ind.unit.value,
                    ind.polarity.value,
                    ind.year_type.value,
                    ind.model_dump_json(),
                )
            )
            for mid in ind.measure_ids():
                m = ind.resolved(mid)
                f, d = m.formula, m.display
                m_rows.append(
                    (
                        ind.code,
                        mid,
                        m.label,
                        ind.framework,
                        m.unit.value,
                        m.polarity.value,
                        d.decimals,
                        d.percent_sign,
                        d.thousands,
                        d.plus_sign,
                        d.prefix,
                        d.suffix,
                        f.type.value,
                        f.multiplier,
                        f.base_period,
                        f.of_measure,
                        f.comparator.value if f.comparator else None,
                        f.comparator_area,
                        ",".join(f.measures) or None,
                        ind.sn_method.value,
                        ind.england_method.value,
                        ind.neighbour_group,
                        ind.year_type.value,
                        m.geography_level.value,
                        m.quartiles,
                        m.ranks,
                        m.trend,
                        m.traffic_light.rule,
                        json.dumps(m.traffic_light.model_dump(mode="json")),
                        m.significance.model_dump_json() if m.significance else None,
                        m.recent_trend,
                    )
                )
                for br in m.breaks:
                    try:
                        p = parse_period(br.period, ind.year_type.value)
                    except PeriodError as e:
                        raise CatalogueError(
                            f"catalogue/{ind.framework}/{file_stem(ind.code)}.yaml: breaks period "
                            f"{br.period!r}: {e}"
                        ) from e
                    k_rows.append(
                        (ind.code, mid, p.key, br.period, p.start, p.end, br.reason, br.seed_line)
                    )
                for bs in m.bands:
                    first, last = _band_years(bs.periods)
                    for idx, (cut, blobs) in enumerate(
                        zip(bs.cutoffs, bs.blobs, strict=True), start=1
                    ):
                        parsed = parse_cutoff(cut)
                        lo, hi, inc = parsed if parsed else (None, None, None)
                        b_rows.append(
                            (
                                ind.code,
                                mid,
                                bs.periods,
                                first,
                                last,
                                bs.group,
                                idx,
                                cut,
                                lo,
                                hi,
                                inc,
                                blobs if parsed else None,
                                bs.seed_line,
                            )
                        )
        with self.transaction() as con:
            for t in (
                "area",
                "neighbour",
                "neighbour_group",
                "indicator",
                "measure",
                "band",
                "series_break",
            ):
                con.execute(f"DELETE FROM {t}")
            _insert(con, "area", area_rows, 19)
            _insert(con, "neighbour", nb_rows, 6)
            _insert(con, "neighbour_group", grp_rows, 5)
            _insert(con, "indicator", ind_rows, 10)
            _insert(con, "measure", m_rows, 31)
            _insert(con, "band", b_rows, 13)
            _insert(con, "series_break", k_rows, 8)

    # ------------------------------------------------------------------ queries

    def count(self, table: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]

    def status(self) -> dict:
        q = self.con.execute
        return {
            "frameworks": q("""SELECT i.framework, count(DISTINCT i.code) indicators,
                                      count(o.indicator) observations
                               FROM indicator i LEFT JOIN observation_current o ON o.indicator = i.code
                               GROUP BY 1 ORDER BY 1""").fetchall(),
            "areas": q("SELECT type, count(*) FROM area GROUP BY 1 ORDER BY 1").fetchall(),
            "neighbour_groups": q(
                "SELECT grp, count(DISTINCT la_code) FROM neighbour GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "loads": q(
                "SELECT load_id, file, format, vintage, rows, loaded_at FROM load_log ORDER BY load_id"
            ).fetchall(),
            "periods": q("""SELECT period_kind, min(period_label), max(period_label), count(DISTINCT period)
                            FROM observation_current GROUP BY 1 ORDER BY 1""").fetchall(),
            # ties in the count ordered by status, so the same store always prints the same lines
            "by_status": q("""SELECT coalesce(status, '(value)'), count(*) FROM observation_current
                              GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall(),
            "history_rows": q("SELECT count(*) FROM observation WHERE NOT is_current").fetchall()[
                0
            ][0],
        }


_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")


def lock_holder(duckdb_message: str) -> str | None:
    """The program and PID DuckDB names as holding a database's lock, or None."""
    m = _HOLDER.search(duckdb_message)
    return f"{m.group(1)} (PID {m.group(2)})" if m else None


def _open_error(path: str, e: duckdb.Error) -> DatabaseError:
    """DuckDB's refusal to open a file, as a sentence naming the file and what to do."""
    text = str(e)
    holder = lock_holder(text)
    if holder:
        from cspa.errors import LockError

        return LockError(
            f"{path} is open for writing in another program ({holder}); close it there, "
            "then run this again"
        )
    if "not a valid DuckDB database" in text:
        return DatabaseError(
            f"{path} is not a cspa database (not a DuckDB file): give the cspa database "
            "with --db, or a new file name to make one"
        )
    if "version" in text.lower() and "database" in text.lower():
        return DatabaseError(
            f"{path} was written by a different DuckDB version than this cspa reads ({text})"
        )
    if "directory" in text.lower():
        return DatabaseError(f"{path} is a folder, not a database file")
    return DatabaseError(f"{path} cannot be opened: {text}")


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple], width: int) -> None:
    if rows:
        con.executemany(f"INSERT INTO {table} VALUES ({', '.join(['?'] * width)})", rows)


def _check_groups(catalogue: Catalogue, known: set[str]) -> None:
    """Every neighbour group an indicator or a band row names must be a loaded group."""
    for ind in catalogue.indicators.values():
        where = f"catalogue/{ind.framework}/{file_stem(ind.code)}.yaml"
        if ind.neighbour_group and ind.neighbour_group not in known:
            raise CatalogueError(
                f"{where}: neighbour_group {ind.neighbour_group!r} is not a known neighbour group "
                f"({', '.join(sorted(known))})"
            )
        for mid in ind.measure_ids():
            for n, bs in enumerate(ind.resolved(mid).bands, start=1):
                if bs.group and bs.group not in known:
                    raise CatalogueError(
                        f"{where}: bands[{n}].group {bs.group!r} is not a known neighbour group "
                        f"({', '.join(sorted(known))})"
                    )


def _band_years(text: str) -> tuple[int | None, int | None]:
    """First and last year a band row covers: '2006-08' -> (2006, 2008), '2005' -> (2005, 2005)."""
    try:
        p = parse_period(text, "calendar")
    except PeriodError:
        return None, None
    return p.first_year, p.last_year
