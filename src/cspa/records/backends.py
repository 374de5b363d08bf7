"""Where the measures run: DuckDB (the default, embedded) or Spark (a local session, or a cluster).

The same Ibis expressions (:mod:`cspa.records.measures`) run on either; a backend only says
where the typed tables are:

* in memory (Arrow tables: a return just read, the tests' crafted returns);
* in the store (the record tables a ``cspa records load`` wrote, current returns only);
* as Parquet under a folder, one ``<table>.parquet`` file or ``<table>/`` folder of files each
  (what ``cspa records generate`` writes): on a cluster this folder is on a shared filesystem or
  an object store (``s3a://``, ``hdfs://``), read by the executors, never through this process.

Spark is configured by :class:`SparkConfig` (or ``CSPA_SPARK_MASTER`` and ``CSPA_SPARK_CONF``,
``key=value;key=value``): ``local[2]`` by default, ``spark://host:7077`` or ``yarn`` for a
cluster, with executor settings passed through as Spark properties. One session is shared by
every call in a process (Spark allows one active session per JVM).
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pyarrow as pa

from cspa.errors import CspaError
from cspa.records.measures import MEASURES, Measure, applicable, measure_expr, needed, with_derived

OBS_SCHEMA = pa.schema(
    [
        ("indicator", pa.string()),
        ("measure", pa.string()),
        ("LA", pa.string()),
        ("YEAR", pa.int32()),
        ("value", pa.float64()),
        ("numerator", pa.float64()),
        ("denominator", pa.float64()),
    ]
)


@dataclass
class SparkConfig:
    master: str = "local[2]"
    app_name: str = "cspa-records"
    conf: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, master: str | None = None, conf: dict[str, str] | None = None) -> SparkConfig:
        env = dict(
            kv.split("=", 1) for kv in os.environ.get("CSPA_SPARK_CONF", "").split(";") if "=" in kv
        )
        return cls(
            master or os.environ.get("CSPA_SPARK_MASTER", "local[2]"), conf={**env, **(conf or {})}
        )


# Settings that keep a small local session quick and quiet; a cluster's own settings override them.
LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "4g",
    "spark.sql.warehouse.dir": "/tmp/cspa-spark-warehouse",
}

_SPARK = None


def spark_session(config: SparkConfig | None = None):
    """The process's Spark session (created on first use)."""
    global _SPARK
    if _SPARK is not None:
        return _SPARK
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - pyspark is a dependency
        raise CspaError("the Spark backend needs pyspark (uv sync installs it)") from e
    if not _java_available():
        raise CspaError(
            "the Spark backend needs Java: install Debian's default-jre-headless "
            "(.ci/run does) or set JAVA_HOME"
        )
    config = config or SparkConfig.from_env()
    b = SparkSession.builder.master(config.master).appName(config.app_name)
    for k, v in {**LOCAL_DEFAULTS, **config.conf}.items():
        b = b.config(k, v)
    _SPARK = b.getOrCreate()
    _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def _java_available() -> bool:
    import shutil

    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


class Backend:
    """An Ibis connection and how to put the typed tables into it."""

    name = "duckdb"

    def __init__(self, con):
        self.con = con

    @classmethod
    def duckdb(cls, duckdb_con=None) -> Backend:
        return DuckDBBackend(
            ibis.duckdb.from_connection(duckdb_con)
            if duckdb_con is not None
            else ibis.duckdb.connect()
        )

    @classmethod
    def spark(cls, config: SparkConfig | None = None) -> Backend:
        s = spark_session(config)
        return SparkBackend(ibis.pyspark.connect(s), s)

    @classmethod
    def named(cls, name: str, **kw) -> Backend:
        if name == "duckdb":
            return cls.duckdb()
        if name == "spark":
            return cls.spark(kw.get("config"))
        raise CspaError(f"unknown backend {name!r}: use duckdb or spark")

    def from_arrow(self, tables: dict[str, pa.Table], prefix: str = "r") -> dict[str, ibis.Table]:
        raise NotImplementedError

    def from_parquet(self, folder: str | Path, prefix: str = "p") -> dict[str, ibis.Table]:
        raise NotImplementedError

    def run(
        self,
        measures: list[Measure],
        tables: dict[str, ibis.Table],
        timings: dict | None = None,
        together: bool = False,
        share: bool = True,
    ) -> pa.Table:
        """Each measure's expression executed; the observations stacked (LA, YEAR, value, numerator, denominator).

        With ``share`` the derived tables the measures read (one grouping of the episodes by child,
        :func:`cspa.records.measures.children`) are computed once, kept in the backend while the
        measures run (timed as ``shared: <name>``), and released; without it each measure's query
        derives them itself. ``together`` runs the measures as one query (a union), which saves
        Spark a job per measure."""
        tables, cached = dict(tables), []
        try:
            if share:
                for d in needed(measures):
                    if d.name in tables:
                        continue
                    t0, c0 = time.perf_counter(), time.process_time()
                    tables[d.name] = self.keep(
                        with_derived(tables, [d])[d.name], timings is not None
                    )
                    cached.append(tables[d.name])
                    _timed(timings, f"shared: {d.name}", t0, c0)
            if together and measures:
                return self.con.to_pyarrow(
                    ibis.union(*(measure_expr(m, tables) for m in measures))
                ).cast(OBS_SCHEMA)
            parts = []
            for m in measures:
                t0, c0 = time.perf_counter(), time.process_time()
                parts.append(self.con.to_pyarrow(measure_expr(m, tables)).cast(OBS_SCHEMA))
                _timed(timings, m.key, t0, c0)
            return pa.concat_tables(parts) if parts else OBS_SCHEMA.empty_table()
        finally:
            for t in cached:
                self.forget(t)

    def keep(self, expr: ibis.Table, now: bool) -> ibis.Table:
        """The expression computed and kept in the backend until :meth:`forget`."""
        raise NotImplementedError

    def forget(self, table: ibis.Table) -> None:
        raise NotImplementedError


def _timed(timings: dict | None, key: str, t0: float, c0: float) -> None:
    if timings is not None:
        timings[key] = time.perf_counter() - t0
        # CPU seconds of this process (all its threads): on a shared machine a steadier figure than
        # the wall clock; for Spark it misses the JVM's work
        timings.setdefault("_cpu", {})[key] = time.process_time() - c0


class DuckDBBackend(Backend):
    name = "duckdb"

    def keep(self, expr, now):
        # a temporary table of this connection (ibis's own cache cannot drop it with this sqlglot)
        name = f"cspa_shared_{uuid.uuid4().hex}"
        self.con.create_table(name, expr, temp=True)
        return self.con.table(name)

    def forget(self, table):
        self.con.con.execute(f'DROP TABLE IF EXISTS "{table.get_name()}"')

    def from_arrow(self, tables, prefix="r"):
        out = {}
        for name, t in tables.items():
            self.con.con.register(f"{prefix}_{name}", t)
            out[name] = self.con.table(f"{prefix}_{name}")
        return out

    def from_parquet(self, folder, prefix="p", materialize: bool = False):
        """Views over the Parquet files (read at each query), or with ``materialize`` tables in memory."""
        out = {}
        kind = "TABLE" if materialize else "VIEW"
        for name, path in parquet_tables(folder).items():
            self.con.con.execute(
                f"CREATE OR REPLACE {kind} {prefix}_{name} AS SELECT * FROM read_parquet('{path}')"
            )
            out[name] = self.con.table(f"{prefix}_{name}")
        return out


class SparkBackend(Backend):
    name = "spark"

    def __init__(self, con, session):
        super().__init__(con)
        self.session = session

    def keep(self, expr, now):
        # a cached DataFrame: computed at its first use, or at once when ``now`` (to time it apart)
        kept = expr.cache()
        if now:
            kept.count().execute()
        return kept

    def forget(self, table):
        table.release()

    def from_arrow(self, tables, prefix="r"):
        out = {}
        for name, t in tables.items():
            df = self.session.createDataFrame(t)  # Spark 4 reads an Arrow table directly
            df.createOrReplaceTempView(f"{prefix}_{name}")
            out[name] = self.con.table(f"{prefix}_{name}")
        return out

    def from_parquet(self, folder, prefix="p"):
        out = {}
        for name, path in parquet_tables(folder).items():
            self.session.read.parquet(path.replace("/*.parquet", "")).createOrReplaceTempView(
                f"{prefix}_{name}"
            )
            out[name] = self.con.table(f"{prefix}_{name}")
        return out


def _spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    m = {
        pa.string(): T.StringType(),
        pa.date32(): T.DateType(),
        pa.int32(): T.IntegerType(),
        pa.int64(): T.LongType(),
        pa.float64(): T.DoubleType(),
        pa.bool_(): T.BooleanType(),
    }
    return T.StructType([T.StructField(f.name, m[f.type], True) for f in schema])


def parquet_tables(folder: str | Path) -> dict[str, str]:
    """``<table>.parquet`` files and ``<table>/`` folders of Parquet files under ``folder``."""
    folder = str(folder)
    if "://" in folder:  # an object store: the layout is the generator's, one folder per table
        from cspa.records.returns import load_spec

        names = [
            *load_spec("ssda903_tables.yaml")["tables"],
            *load_spec("cin_tables.yaml")["tables"],
            "population",
        ]
        return {n: f"{folder.rstrip('/')}/{n}/*.parquet" for n in names}
    p = Path(folder)
    if not p.is_dir():
        raise CspaError(f"{folder}: not a folder of Parquet tables")
    out = {}
    for x in sorted(p.iterdir()):
        if x.suffix == ".parquet":
            out[x.stem] = str(x)
        elif x.is_dir() and any(x.glob("*.parquet")):
            out[x.name] = str(x / "*.parquet")
    return out


def compute(
    tables: dict[str, ibis.Table],
    backend: Backend,
    measures: list[Measure] | None = None,
    timings: dict | None = None,
    together: bool = False,
    share: bool = True,
) -> pa.Table:
    """Every applicable measure on ``backend`` (the tables must live in it)."""
    return backend.run(applicable(tables, measures or MEASURES), tables, timings, together, share)
