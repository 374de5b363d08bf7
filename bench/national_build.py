"""Benchmark: the national build (every LAIT judgement for every authority, indicator and year).

Times, in one process on the same database:

* cspa's engine: the national build (`cspa.engine.run.build` over the LAIT framework: every
  figure, neighbour aggregate and judgement computed and materialised, as `cspa judge` stores
  them; LAIT's catalogue asks for values, neighbour means, ranks, quartile bands and progress,
  the same judgements as (a), and the families it does not ask for are written empty), and, on
  a second line, that build plus presenting every row (the display string and provenance line
  of all 1.2 million figures, which readers otherwise compose only for the rows they read);
* (a) a straightforward vectorised pandas implementation of the same judgements written here
  (values, display strings, SN means over the DfE 2025 neighbours, ranks, quartile bands,
  progress on the previous period);
* (b) a bare DuckDB read-and-group of the same observations;
* (c) for scale, a skeleton of the same build: the least SQL that yields the raw numbers of those
  judgements (keyed figures, neighbour sums and counts, ranks, previous values) and nothing else,
  step by step: a floor under any SQL build of these judgements, against the bare read.

and prints the ratios (goal: at least 5x faster than pandas, within 10x of the bare read).

    uv run python bench/national_build.py [--db cspa-output/cspa.duckdb] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cspa.engine.selection import Selection

WHERE = Selection.framework("lait")


def run_engine(con: duckdb.DuckDBPyConnection) -> int:
    from cspa.engine.run import build

    prefix = build(con, WHERE)
    return con.execute(f"SELECT count(*) FROM {prefix}_figure_rows").fetchall()[0][0]


def run_engine_presented(con: duckdb.DuckDBPyConnection) -> int:
    from cspa.engine.run import compute

    rel = compute(con, WHERE)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _bench_engine AS {rel.sql_query()}")
    return con.execute("SELECT count(*) FROM _bench_engine").fetchall()[0][0]


def run_bare(con: duckdb.DuckDBPyConnection) -> int:
    return len(
        con.execute(f"""
        SELECT o.indicator, o.measure, o.period, count(*), avg(o.value), min(o.value), max(o.value)
        FROM observation_current o WHERE {WHERE.observation_filter("o")} GROUP BY ALL""").fetchall()
    )


def skeleton_steps() -> list[tuple[str, str]]:
    """The least SQL that yields the raw numbers of the judgements LAIT asks for, judging nothing:
    the observations keyed and written, the neighbour join grouped into a sum and count per figure,
    a rank window over the authorities, the previous period's value joined. No display, polarity, quartiles, status,
    comparator rules or provenance. Runs on the key tables the engine made in this process."""
    from cspa.engine.keys import cell_key, figure_key

    return [
        (
            "observations keyed and written",
            f"""
            CREATE OR REPLACE TEMP TABLE _bench_obs AS SELECT m.sid, a.aid, p.pid, o.value
            FROM observation_current o JOIN _cspa_key_measure m ON m.indicator = o.indicator AND m.measure = o.measure
            JOIN _cspa_key_area a ON a.code = o.area JOIN _cspa_key_period p ON p.period = o.period
            WHERE o.statistic = 'value' AND {WHERE.observation_filter("o")}""",
        ),
        (
            "neighbour sums and counts",
            f"""
            CREATE OR REPLACE TEMP TABLE _bench_sn AS
            WITH members AS (
                SELECT nb.aid AS nb_aid, sn.aid AS sn_aid FROM neighbour n
                JOIN _cspa_key_area nb ON nb.code = n.neighbour_code
                JOIN _cspa_key_area sn ON sn.code = 'SN:dfe_2025:' || n.la_code
                WHERE n.grp = 'dfe_2025')
            SELECT {figure_key("x.sid", "mb.sn_aid", "x.pid")} AS k, sum(x.value) AS s, count(x.value) AS n
            FROM _bench_obs x JOIN members mb ON mb.nb_aid = x.aid GROUP BY k""",
        ),
        (
            "ranks",
            f"""
            CREATE OR REPLACE TEMP TABLE _bench_rank AS
            SELECT rowid AS rid, rank() OVER (PARTITION BY {cell_key("sid", "pid")} ORDER BY value) AS rank
            FROM _bench_obs WHERE value IS NOT NULL AND aid IN (SELECT aid FROM _cspa_key_area WHERE type = 'la')""",
        ),
        (
            "previous values",
            f"""
            CREATE OR REPLACE TEMP TABLE _bench_prev AS
            WITH c AS (SELECT sid, pid, lag(pid) OVER (PARTITION BY sid ORDER BY pid) AS prev
                       FROM (SELECT DISTINCT sid, pid FROM _bench_obs))
            SELECT f.rowid AS rid, p.value AS prev_value FROM _bench_obs f JOIN c ON c.sid = f.sid AND c.pid = f.pid
            JOIN _bench_obs p ON {figure_key("p.sid", "p.aid", "p.pid")} = {figure_key("f.sid", "f.aid", "c.prev")}""",
        ),
    ]


def run_pandas(con: duckdb.DuckDBPyConnection) -> int:
    obs = con.execute(f"""
        SELECT o.indicator, o.measure, o.area, coalesce(a.type, 'x') AS area_type, o.period, o.period_end,
               o.value, o.status FROM observation_current o LEFT JOIN area a ON a.code = o.area
        WHERE o.statistic = 'value' AND {WHERE.observation_filter("o")}""").df()
    meas = con.execute(
        "SELECT indicator, measure, polarity, decimals, percent_sign, quartiles, ranks FROM measure"
    ).df()
    nb = con.execute("SELECT la_code, neighbour_code FROM neighbour WHERE grp = 'dfe_2025'").df()
    df = obs.merge(meas, on=["indicator", "measure"], how="left")
    # display: round half away from zero to the measure's decimals, keep trailing zeros
    dec = df["decimals"].fillna(0).astype(int)
    scale = np.power(10.0, dec)
    rounded = np.sign(df["value"]) * np.floor(np.abs(df["value"]) * scale + 0.5 + 1e-9) / scale
    disp = pd.Series(
        [f"{v:.{d}f}" if v == v else None for v, d in zip(rounded, dec, strict=True)],
        index=df.index,
    )
    df["display"] = disp.where(df["status"].isna(), df["status"]) + np.where(
        df["percent_sign"].fillna(False), "%", ""
    )
    # statistical-neighbour means
    la = df[df["area_type"] == "la"]
    sn = nb.merge(
        la[["indicator", "measure", "period", "area", "value"]],
        left_on="neighbour_code",
        right_on="area",
    )
    sn = sn.groupby(["indicator", "measure", "period", "la_code"], as_index=False)["value"].agg(
        ["mean", "count"]
    )
    # ranks and quartile bands among LAs
    la = la[la["value"].notna() & (la["quartiles"] | la["ranks"])].copy()
    sign = np.where(la["polarity"] == "low", 1.0, -1.0)
    la["key"] = la["value"] * sign
    g = la.groupby(["indicator", "measure", "period"])
    la["rank"] = g["key"].rank(method="min")
    q = g["value"].quantile([0.25, 0.5, 0.75]).unstack()
    q.columns = ["q1", "q2", "q3"]
    la = la.join(q, on=["indicator", "measure", "period"])
    band_low = np.select(
        [la["value"] <= la["q1"], la["value"] <= la["q2"], la["value"] <= la["q3"]], [1, 2, 3], 4
    )
    la["quartile"] = np.where(la["polarity"] == "low", band_low, 5 - band_low)
    # progress on the previous period
    df = df.sort_values(["indicator", "measure", "area", "period_end"])
    prev = df.groupby(["indicator", "measure", "area"])["value"].shift()
    better = np.where(df["polarity"] == "high", df["value"] > prev, df["value"] < prev)
    df["progress"] = np.where(
        prev.isna() | df["value"].isna() | ~df["polarity"].isin(["high", "low"]),
        None,
        np.where(df["value"] == prev, "same", np.where(better, "improved", "worsened")),
    )
    return len(df) + len(sn) + len(la)


def timed(fn, con, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        t = time.perf_counter()
        n = fn(con)
        times.append(time.perf_counter() - t)
    return statistics.median(times), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("cspa-output/cspa.duckdb"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if not a.db.exists():
        raise SystemExit(f"no database at {a.db}: run `uv run cspa demo` first")
    con = duckdb.connect(str(a.db), read_only=True)
    n_obs = con.execute(
        f"SELECT count(*) FROM observation_current o WHERE {WHERE.observation_filter('o')}"
    ).fetchall()[0][0]
    bare, n_bare = timed(run_bare, con, a.repeat)
    engine, n_engine = timed(run_engine, con, a.repeat)
    presented, n_presented = timed(run_engine_presented, con, a.repeat)
    steps = []
    for name, sql in skeleton_steps():
        steps.append((name, timed(lambda c, q=sql: c.execute(q), con, a.repeat)[0]))
    skeleton = sum(t for _, t in steps)
    pdt, n_pd = timed(run_pandas, con, a.repeat)
    print(f"LAIT observations: {n_obs:,}")
    print(
        f"cspa engine          {engine:7.2f} s  ({n_engine:,} judged figures: every judgement the LAIT catalogue "
        "asks for; it sets no bands, lights, trends or significance rules)"
    )
    print(
        f"  + every row presented {presented:5.2f} s  ({n_presented:,} rows with display strings and provenance lines)"
    )
    print(
        f"(a) pandas baseline  {pdt:7.2f} s  ({n_pd:,} rows: display, SN means, ranks, quartiles, progress)"
    )
    print(f"(b) bare DuckDB read {bare:7.2f} s  ({n_bare:,} groups)")
    print(
        f"(c) skeleton, judging nothing {skeleton:5.2f} s = {skeleton / bare:.1f}x the bare read: the least SQL "
        "giving the raw numbers of the same judgements, a floor under any SQL build of them"
    )
    for name, t in steps:
        print(f"      {name:32s} {t:5.2f} s = {t / bare:4.1f}x")
    print(f"engine vs pandas:    {pdt / engine:5.1f}x faster (goal >= 5x)")
    print(f"engine vs bare read: {engine / bare:5.1f}x slower (goal <= 10x)")
    print(
        f"engine vs skeleton:  {engine / skeleton:5.1f}x (what the judgements' rules, display and provenance add)"
    )
    print(
        f"presented vs pandas: {pdt / presented:5.1f}x faster; vs bare read {presented / bare:5.1f}x slower"
    )


if __name__ == "__main__":
    main()
