"""Integer keys for the engine's joins, windows and groupings.

The store keys figures by strings (indicator, measure, area, period), as people read them. The
engine's heavy steps (the statistical-neighbour join, the series windows, the ranks) group and
join hundreds of thousands of rows; hashing and comparing strings there costs several times
more than integers, so each run first numbers the keys in small temporary tables:

* ``_cspa_key_measure``: ``sid`` per (indicator, measure), with the measure's settings (and the
  line a figure without a traffic light carries, ``no_light_basis``);
* ``_cspa_key_area``: ``aid`` per area code, including every statistical-neighbour pseudo-area
  ``SN:<group>:<la>`` and any code the observations use that is not a reference area;
* ``_cspa_key_period``: ``pid`` per period key (with its kind, dates and years: a period key names
  one span of time), numbered in time order (end, then start), so ordering by ``pid`` orders a series;
* ``_cspa_key_group``: ``gid`` per neighbour group;
* ``_cspa_key_vintage``: ``vid`` per data vintage (a sentence repeated on every row of a load).

The keys are packed into one BIGINT where a step groups by several of them (one integer hashes
faster than three): ``series_key`` = (sid, aid), ``cell_key`` = (sid, pid), ``figure_key`` =
(sid, aid, pid). Each part has 20 bits (a million measures, areas or periods).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from cspa.catalogue.load import load_catalogue
from cspa.store.sql import literal, string

BITS = 20


def series_key(sid: str, aid: str) -> str:
    """SQL: one integer per (measure, area) series."""
    return f"(({sid} << {BITS}) | {aid})"


def cell_key(sid: str, pid: str) -> str:
    """SQL: one integer per (measure, period): the set of areas ranked together."""
    return f"(({sid} << {BITS}) | {pid})"


def figure_key(sid: str, aid: str, pid: str) -> str:
    """SQL: one integer per figure (measure, area, period)."""
    return f"(((({sid} << {BITS}) | {aid}) << {BITS}) | {pid})"


# The light rule's parameters (catalogue.models.TrafficLight), as json_transform reads them.
LIGHT_SHAPE = (
    '{"reason": "VARCHAR", "colours": {"1": "VARCHAR", "2": "VARCHAR", "3": "VARCHAR", "4": "VARCHAR", '
    '"5": "VARCHAR"}, "points": "VARCHAR", "green_at_value": "VARCHAR", "comparator": "VARCHAR", '
    '"vs": "VARCHAR", "method": "VARCHAR", "equal_is": "VARCHAR", "tolerance": "VARCHAR"}'
)


#: SQL over a ``measure`` row ``m``: its figures are a numerator over a denominator (a proportion,
#: a rate, a ratio), by formula or, for a figure stored as published with its counts beside it, by
#: unit. Significance and the recent-trend test apply to these measures only.
COUNTED = (
    "(m.formula_type IN ('percentage', 'rate', 'ratio', 'standardised_ratio') "
    "OR (m.formula_type = 'input' AND m.unit IN ('percent', 'rate_per_1000', 'rate_per_10000', "
    "'rate_per_100000')))"
)


def group_sql(neighbour_group: str | None = None) -> str:
    """SQL of a measure's neighbour group (over the ``measure`` row ``m``): its own, else
    ``neighbour_group`` (a caller's choice) or its framework's default from the catalogue."""
    if neighbour_group is not None:
        return f"coalesce(m.neighbour_group, {string(neighbour_group)})"
    defaults = {
        fid: fw.default_neighbour_group.get("default")
        for fid, fw in load_catalogue().frameworks.items()
        if fw.default_neighbour_group.get("default")
    }
    cases = " ".join(f"WHEN {string(f)} THEN {string(g)}" for f, g in sorted(defaults.items()))
    return (
        f"coalesce(m.neighbour_group, CASE m.framework {cases} END)"
        if cases
        else "m.neighbour_group"
    )


def observations_sql(released_by: dt.date | None = None) -> str:
    """SQL of the observations a build reads: the current ones, or, ``released_by`` a date, those of
    the loads released on or before it, the latest release of each figure winning (a revision
    released later is not known yet; loads without a release date are not read)."""
    if released_by is None:
        return "SELECT * FROM observation_current"
    return f"""
        SELECT o.* FROM observation o JOIN load_log l ON l.load_id = o.load_id
        WHERE l.released <= {literal(released_by.isoformat())}::DATE
        QUALIFY row_number() OVER (PARTITION BY o.indicator, o.measure, o.area, o.period, o.statistic
                                   ORDER BY l.released DESC, o.load_id DESC) = 1"""


def build_keys(
    con: duckdb.DuckDBPyConnection,
    neighbour_group: str | None = None,
    released_by: dt.date | None = None,
    temporary: bool = True,
) -> None:
    """(Re)create the key tables for this connection (temporary: the store is never written), and
    the view ``_cspa_obs`` of the observations the build reads (:func:`observations_sql`).

    ``neighbour_group``: the group for measures whose catalogue entry names none (else their
    framework's default). ``temporary`` False: in the connection's current database instead (a
    build's attached in-memory database, where its other connections read them)."""
    temp = "TEMP " if temporary else ""
    if temporary:
        # a temporary build on this connection may have left views of these names over its own
        # database's key tables (engine.run._Lanes)
        drop_temporary(con, "view", KEY_NAMES)
    # what this store has (an older store, opened read-only, is not migrated): one catalogue
    # query (DuckDB's information_schema views cost a few milliseconds each)
    present = {
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE table_name IN ('load_log', 'measure', 'series_break')"
        ).fetchall()
    }
    if released_by is not None and ("load_log", "released") not in present:
        raise ValueError(
            "this store records no release dates: rebuild it to judge as released by a date"
        )
    con.execute(f"CREATE OR REPLACE {temp}VIEW _cspa_obs AS {observations_sql(released_by)}")
    # a store made before measures had significance rules or recent trends
    sig = (
        ""
        if ("measure", "significance_json") in present
        else ", CAST(NULL AS VARCHAR) AS significance_json"
    )
    if ("measure", "recent_trend") not in present:
        sig += ", 'none' AS recent_trend"
    if not any(t == "series_break" for t, _ in present):
        # a store made before breaks were recorded: none are known
        con.execute(
            f"CREATE OR REPLACE {temp}TABLE series_break (indicator VARCHAR, measure VARCHAR, "
            "period VARCHAR, period_label VARCHAR, period_start DATE, period_end DATE, reason VARCHAR, "
            "seed_line INTEGER)"
        )
    grp = group_sql(neighbour_group)
    con.execute(f"""
    CREATE OR REPLACE {temp}TABLE _cspa_key_group AS
        SELECT CAST(row_number() OVER (ORDER BY grp) AS BIGINT) AS gid, grp
        FROM (SELECT DISTINCT grp FROM neighbour
              UNION SELECT DISTINCT {grp} FROM measure m WHERE {grp} IS NOT NULL);
    CREATE OR REPLACE {temp}TABLE _cspa_key_measure AS
        SELECT CAST(row_number() OVER (ORDER BY m.indicator, m.measure) AS BIGINT) AS sid, m.* EXCLUDE (lt),
               {grp} AS grp, g.gid,
               -- the line every figure of a measure without a light carries, made once per measure
               CASE WHEN m.light_rule = 'none' THEN 'no traffic light: '
                    || coalesce((m.lt).reason, 'none') END AS no_light_basis,
               -- the light rule's parameters as typed columns, parsed once per measure (lights.py)
               [(m.lt).colours."1", (m.lt).colours."2", (m.lt).colours."3", (m.lt).colours."4",
                (m.lt).colours."5"] AS light_colours,
               TRY_CAST((m.lt).points AS DOUBLE) AS light_points,
               TRY_CAST((m.lt).green_at_value AS DOUBLE) AS light_green_at_value,
               (m.lt).comparator AS light_comparator, (m.lt).vs AS light_vs, (m.lt).method AS light_method,
               (m.lt).equal_is AS light_equal_is, TRY_CAST((m.lt).tolerance AS DOUBLE) AS light_tolerance,
               -- the significance rule's parameters (compared.py), parsed once per measure
               -- (a rule applies to the measures whose figures are a numerator over a denominator: a
               -- count, a change or a text has no interval to judge)
               CASE WHEN {COUNTED} THEN m.significance_json ->> 'method' END AS sig_method,
               {COUNTED} AS counted,
               CASE json_type(m.significance_json -> 'vs') WHEN 'ARRAY'
                    THEN from_json(m.significance_json -> 'vs', '["VARCHAR"]')
                    WHEN 'VARCHAR' THEN [m.significance_json ->> 'vs'] END AS sig_vs,
               from_json(m.significance_json -> 'confidence', '["DOUBLE"]') AS sig_levels,
               coalesce(TRY_CAST(m.significance_json ->> 'overdispersion' AS BOOLEAN), FALSE) AS sig_overdispersion
        FROM (SELECT *{sig}, json_transform(light_json, '{LIGHT_SHAPE}') AS lt FROM measure) m
        LEFT JOIN _cspa_key_group g ON g.grp = {grp};
    CREATE OR REPLACE {temp}TABLE _cspa_key_area AS
        SELECT CAST(row_number() OVER (ORDER BY k.code) AS BIGINT) AS aid, k.code,
               CASE WHEN k.code LIKE 'SN:%' THEN 'sn_group' ELSE coalesce(a.type, 'other') END AS type,
               a.parent, a.region_code,
               -- when the authority existed, and what replaced it: ranks and quartiles in a period
               -- are among the authorities that existed then (distribution.py)
               a.exists_from, a.exists_until,
               CASE WHEN a.successors IS NOT NULL THEN string_split(a.successors, ';') END AS successors
        FROM (SELECT code FROM area
              UNION SELECT DISTINCT area FROM _cspa_obs WHERE statistic = 'value'
              UNION SELECT DISTINCT 'SN:' || grp || ':' || la_code FROM neighbour
              UNION SELECT DISTINCT 'SN:' || g.grp || ':' || n.la_code FROM neighbour n,
                  (SELECT DISTINCT grp FROM _cspa_key_measure WHERE grp IS NOT NULL) g) k
        LEFT JOIN area a ON a.code = k.code;
    CREATE OR REPLACE {temp}TABLE _cspa_key_period AS
        SELECT CAST(row_number() OVER (ORDER BY period_end NULLS FIRST, period_start NULLS FIRST, period) AS BIGINT) AS pid,
               period, period_kind, period_start, period_end,
               year(period_start) AS first_year, year(period_end) AS last_year
        FROM (SELECT period, min(period_end) AS period_end, min(period_start) AS period_start,
                     min(period_kind) AS period_kind
              FROM _cspa_obs WHERE statistic = 'value' GROUP BY period);
    CREATE OR REPLACE {temp}TABLE _cspa_key_vintage AS
        SELECT CAST(row_number() OVER (ORDER BY vintage) AS BIGINT) AS vid, vintage
        FROM (SELECT DISTINCT vintage FROM _cspa_obs WHERE vintage IS NOT NULL);
    """)


KEY_TABLES = ("measure", "area", "period", "vintage")

#: every key table :func:`build_keys` makes, by name
KEY_NAMES = tuple(f"_cspa_key_{k}" for k in ("group", *KEY_TABLES))


def drop_temporary(con: duckdb.DuckDBPyConnection, kind: str, names: Sequence[str]) -> None:
    """Drop the connection's temporary objects of ``kind`` ('table' or 'view') among ``names``:
    DuckDB replaces a table by a table and a view by a view only, so a name made as one kind
    before is dropped before it is made as the other."""
    listed = ", ".join(map(literal, names))
    for (name,) in con.execute(
        f"SELECT {kind}_name FROM duckdb_{kind}s() WHERE temporary AND {kind}_name IN ({listed})"
    ).fetchall():
        con.execute(f"DROP {kind.upper()} temp.main.{name}")


def persist_keys(con: duckdb.DuckDBPyConnection, prefix: str) -> None:
    """Copy this run's key tables into the store as ``<prefix>_<name>``, for a stored build."""
    for name in KEY_TABLES:
        con.execute(f"CREATE OR REPLACE TABLE {prefix}_{name} AS SELECT * FROM _cspa_key_{name}")
