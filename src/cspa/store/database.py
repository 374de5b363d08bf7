"""The embedded store: one DuckDB file (path configurable), the only module that writes to it.

``Store.open(path)`` creates the schema if needed. Reference data (areas, neighbour groups,
the resolved catalogue) is written by :meth:`Store.sync_reference` so that the engine can
join against it in SQL. Observations arrive only through :mod:`cspa.store.ingest`, which
validates a whole file before writing it in one transaction.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path

import duckdb

from cspa.catalogue.areas import AreaRegistry, load_areas
from cspa.catalogue.load import Catalogue, load_catalogue
from cspa.catalogue.models import file_stem, parse_cutoff
from cspa.catalogue.neighbours import NeighbourGroups, load_neighbours
from cspa.catalogue.periods import PeriodError, parse_period
from cspa.errors import CatalogueError

SCHEMA = Path(__file__).with_name("schema.sql")
SCHEMA_VERSION = "1"


def default_path() -> Path:
    """``$CSPA_DB`` if set, else ``./cspa-output/cspa.duckdb``."""
    return Path(os.environ.get("CSPA_DB", "cspa-output/cspa.duckdb"))


class Store:
    def __init__(self, con: duckdb.DuckDBPyConnection, path: str | None = None):
        self.con = con
        self.path = path

    @classmethod
    def open(cls, path: str | Path | None = None, read_only: bool = False) -> Store:
        """Open (and create if needed) the store. ``":memory:"`` gives an in-memory store."""
        p = str(default_path() if path is None else path)
        if p != ":memory:":
            Path(p).parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(p, read_only=read_only)
        store = cls(con, p)
        if not read_only:
            # schema.sql first, then each feature's own tables (schema_<feature>.sql)
            for sql in [SCHEMA, *sorted(SCHEMA.parent.glob("schema_*.sql"))]:
                con.execute(sql.read_text(encoding="utf-8"))
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION]
            )
        return store

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
            _insert(con, "area", area_rows, 15)
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
            "by_status": q("""SELECT coalesce(status, '(value)'), count(*) FROM observation_current
                              GROUP BY 1 ORDER BY 2 DESC""").fetchall(),
            "history_rows": q("SELECT count(*) FROM observation WHERE NOT is_current").fetchall()[
                0
            ][0],
        }


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
