"""Benchmark: the national build (every judgement of today's data for every authority, indicator and year).

Times, in one process on the same database:

* cspa's engine: the national build (`cspa.engine.run.build` over today's data, the LAIT and DfE
  children's social care frameworks: every figure, neighbour aggregate and judgement computed and
  materialised, as `cspa judge` stores them; their catalogue asks for values, neighbour means,
  ranks, quartile bands, progress, the seed's trend class over the latest five years, the
  Fingertips recent trend and significance against England and the neighbours, the same
  judgements as (a), and the families it does not ask for are written empty), and, on a second
  line, that build plus presenting every row (the display string and provenance line of all 1.3
  million figures, which readers otherwise compose only for the rows they read); and the build
  again with DuckDB on one thread, as pandas runs on one core (on a shared machine the parallel
  build's threads wait for each other whenever another process holds a core);
* (a) a straightforward vectorised pandas implementation of the same judgements written here
  (values, display strings, SN means over the DfE 2025 neighbours, ranks, quartile bands,
  progress on the previous period, trend classes, recent trends, significance);
* (b) a bare DuckDB read-and-group of the same observations;
* (c) for scale, a skeleton of the same build: the least SQL that yields the raw numbers of those
  judgements (keyed figures, neighbour sums and counts, ranks, previous values) and nothing else,
  step by step: a floor under any SQL build of these judgements, against the bare read.

and prints the ratios (goal: at least 5x faster than pandas, within 10x of the bare read). The
engine, its one-thread build and pandas are timed in turn within each repeat, so that a change in
the shared machine's load falls on both sides alike.

    uv run python bench/national_build.py [--db cspa-output/cspa.duckdb] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cspa.engine.selection import Selection

WHERE = Selection(frameworks=("lait", "dfe_csc"))


def run_engine(con: duckdb.DuckDBPyConnection) -> int:
    from cspa.engine.run import build

    prefix = build(con, WHERE)
    return con.execute(f"SELECT count(*) FROM {prefix}_figure_rows").fetchall()[0][0]


def run_engine_one_thread(con: duckdb.DuckDBPyConnection) -> int:
    """The same build on one DuckDB thread, as the pandas baseline runs on one core."""
    con.execute("SET threads = 1")
    try:
        return run_engine(con)
    finally:
        con.execute("RESET threads")


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
    return sum(len(x) for x in pandas_judgements(con).values())


def pandas_judgements(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    obs = con.execute(f"""
        SELECT o.indicator, o.measure, o.area, coalesce(a.type, 'x') AS area_type, o.period, o.period_end,
               o.period_kind, year(o.period_end) AS year, o.value, o.numerator, o.denominator, o.status
        FROM observation_current o LEFT JOIN area a ON a.code = o.area
        WHERE o.statistic = 'value' AND {WHERE.observation_filter("o")}""").df()
    meas = con.execute(
        "SELECT indicator, measure, polarity, decimals, percent_sign, quartiles, ranks, formula_type, unit, "
        "multiplier, trend, recent_trend, significance_json, neighbour_group FROM measure"
    ).df()
    nb = con.execute("SELECT la_code, neighbour_code FROM neighbour WHERE grp = 'dfe_2025'").df()
    df = obs.merge(meas, on=["indicator", "measure"], how="left")
    # values: a figure with both counts is recomputed by its formula
    counts = df["numerator"].notna() & (df["denominator"] > 0)
    per = np.select(
        [df["formula_type"].eq("percentage"), df["formula_type"].eq("rate")],
        [100.0, df["multiplier"]],
        np.nan,
    )
    recompute = counts & ~np.isnan(per)
    df.loc[recompute, "value"] = df["numerator"] / df["denominator"] * per
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
        la[["indicator", "measure", "period", "year", "area", "value"]],
        left_on="neighbour_code",
        right_on="area",
    )
    sn = sn.groupby(["indicator", "measure", "period", "year", "la_code"], as_index=False)[
        "value"
    ].agg(["mean", "count"])
    # ranks and quartile bands among LAs
    lr = la[la["value"].notna() & (la["quartiles"] | la["ranks"])].copy()
    sign = np.where(lr["polarity"] == "low", 1.0, -1.0)
    lr["key"] = lr["value"] * sign
    g = lr.groupby(["indicator", "measure", "period"])
    lr["rank"] = g["key"].rank(method="min")
    q = g["value"].quantile([0.25, 0.5, 0.75]).unstack()
    q.columns = ["q1", "q2", "q3"]
    lr = lr.join(q, on=["indicator", "measure", "period"])
    band_low = np.select(
        [lr["value"] <= lr["q1"], lr["value"] <= lr["q2"], lr["value"] <= lr["q3"]], [1, 2, 3], 4
    )
    lr["quartile"] = np.where(lr["polarity"] == "low", band_low, 5 - band_low)
    # progress on the previous period
    df = df.sort_values(["indicator", "measure", "area", "period_end"])
    prev = df.groupby(["indicator", "measure", "area"])["value"].shift()
    better = np.where(df["polarity"] == "high", df["value"] > prev, df["value"] < prev)
    df["progress"] = np.where(
        prev.isna() | df["value"].isna() | ~df["polarity"].isin(["high", "low"]),
        None,
        np.where(df["value"] == prev, "same", np.where(better, "improved", "worsened")),
    )
    trends = _pandas_trend_classes(df, sn)
    recent = _pandas_recent_trends(df)
    sig = _pandas_significance(df, sn)
    return {
        "figures": df,
        "sn": sn,
        "ranks": lr,
        "trends": trends,
        "recent": recent,
        "significance": sig,
    }


_ANNUAL = ["academic_year", "financial_year", "calendar_year"]


def _classes(rank: pd.Series, n: pd.Series) -> np.ndarray:
    p10 = 10 * (rank - 1)
    return np.select(
        [p10 < n, p10 < 3 * n, p10 < 7 * n, p10 < 9 * n],
        ["Well above", "Above", "In line", "Below"],
        "Well below",
    )


def _pandas_trend_classes(df: pd.DataFrame, sn: pd.DataFrame) -> pd.DataFrame:
    """The seed's trend class (000:L3083) over each measure's latest five years: three-year moving
    averages, their OLS slope, authorities ranked (largest increase first) into 10/20/40/20/10%, and
    the same for the slope less the neighbours' slope."""
    t = df[(df["trend"] == "seed_moving_average") & df["period_kind"].isin(_ANNUAL)]
    t = t[t["area_type"].isin(["la", "country"])][["indicator", "measure", "area", "year", "value"]]
    s = sn[["indicator", "measure", "la_code", "year", "mean"]].rename(
        columns={"la_code": "area", "mean": "value"}
    )
    s["area"] = "SN:" + s["area"]
    t = pd.concat([t, s[s["indicator"].isin(t["indicator"].unique())]], ignore_index=True)
    latest = t.groupby(["indicator", "measure"])["year"].transform("max")
    t = t[t["year"] > latest - 5].assign(off=lambda x: x["year"] - (latest - 4))
    wide = (
        t.drop_duplicates(["indicator", "measure", "area", "off"])
        .set_index(["indicator", "measure", "area", "off"])["value"]
        .unstack()
    )
    v = [wide.get(i) for i in range(5)]
    m2, m3, m4 = (v[0] + v[1] + v[2]) / 3, (v[1] + v[2] + v[3]) / 3, (v[2] + v[3] + v[4]) / 3
    slope = ((m4 - m2) / 2).fillna(m4 - m3).fillna(m3 - m2).round(10)
    out = slope.rename("slope").reset_index()
    is_sn = out["area"].str.startswith("SN:")
    las = out[~is_sn & (out["area"] != "E92000001")].copy()
    g = las.groupby(["indicator", "measure"])["slope"]
    las["rank"], las["n"] = g.rank(ascending=False, method="min"), g.transform("count")
    las["class"] = np.where(las["slope"].notna(), _classes(las["rank"], las["n"]), "n/a")
    sns = out[is_sn].assign(area=lambda x: x["area"].str[3:]).rename(columns={"slope": "sn_slope"})
    las = las.merge(sns, on=["indicator", "measure", "area"], how="left")
    las["diff"] = las["slope"] - las["sn_slope"]
    g = las.groupby(["indicator", "measure"])["diff"]
    las["sn_rank"], las["sn_n"] = g.rank(ascending=False, method="min"), g.transform("count")
    las["sn_class"] = np.where(las["diff"].notna(), _classes(las["sn_rank"], las["sn_n"]), "n/a")
    return las


def _counted(df: pd.DataFrame) -> pd.Series:
    return df["formula_type"].isin(["percentage", "rate", "ratio", "standardised_ratio"]) | (
        df["formula_type"].eq("input")
        & df["unit"].isin(["percent", "rate_per_1000", "rate_per_10000", "rate_per_100000"])
    )


def _pandas_recent_trends(df: pd.DataFrame) -> pd.DataFrame:
    """The Fingertips recent trend (methods.md 5.2): the last five consecutive valid annual points
    of each series with counts, the Cochran-Armitage chi-squared and the logit slope's
    leave-one-out sign check."""
    r = df[
        df["recent_trend"].eq("fingertips")
        & _counted(df)
        & df["period_kind"].isin(_ANNUAL)
        & df["area_type"].isin(["la", "region", "country"])
    ][["indicator", "measure", "area", "year", "numerator", "denominator", "polarity"]].copy()
    keys = ["indicator", "measure", "area"]
    r["latest"] = r.groupby(keys)["year"].transform("max")
    r["t"] = 5 - (r["latest"] - r["year"])
    r["ok"] = (
        r["numerator"].notna()
        & (r["denominator"] > 0)
        & (r["numerator"] > 0)
        & (r["numerator"] < r["denominator"])
    )
    r = r[r["t"].between(1, 5)]
    good = r.groupby(keys)["ok"].agg(["sum", "count"])
    r = r.join(good, on=keys)
    r = r[(r["sum"] == 5) & (r["count"] == 5)].copy()
    x, n, t = r["numerator"], r["denominator"], r["t"]
    r["xt"], r["nt"], r["ntt"] = x * t, n * t, n * t * t
    r["l"] = np.log(x / (n - x))
    r["lt"], r["tt"] = r["l"] * t, t * t
    a = r.groupby(keys)[
        ["numerator", "denominator", "xt", "nt", "ntt", "l", "lt", "t", "tt"]
    ].transform("sum")
    big_n, big_x = a["denominator"], a["numerator"]
    chi2 = (
        big_n
        * (big_n * a["xt"] - big_x * a["nt"]) ** 2
        / (big_x * (big_n - big_x) * (big_n * a["ntt"] - a["nt"] ** 2))
    )
    slope = (5 * a["lt"] - a["t"] * a["l"]) / (5 * a["tt"] - a["t"] ** 2)
    loo = (4 * (a["lt"] - r["lt"]) - (a["t"] - t) * (a["l"] - r["l"])) / (
        4 * (a["tt"] - r["tt"]) - (a["t"] - t) ** 2
    )
    r["same_sign"] = (loo >= 0) == (slope >= 0)
    r["chi2"], r["slope"] = chi2, slope
    res = r.groupby(keys).agg(
        chi2=("chi2", "first"), slope=("slope", "first"), consistent=("same_sign", "all")
    )
    sig = (res["chi2"] > 9.549535706083237) & res["consistent"]
    res["trend"] = np.where(
        sig & (res["slope"] > 0), "Increasing", np.where(sig, "Decreasing", "No significant change")
    )
    return res


def _pandas_significance(df: pd.DataFrame, sn: pd.DataFrame) -> pd.DataFrame:
    """Significance of every authority's figure with counts against England's and its neighbours'
    (Wilson for proportions, exact Poisson below 10 events and Byar's from 10; Fingertips methods 1
    and 17)."""
    from scipy import stats

    rule = df["significance_json"].notna() & _counted(df)
    f = df[rule & (df["area_type"] == "la") & df["numerator"].notna() & (df["denominator"] > 0)]
    f = f[
        [
            "indicator",
            "measure",
            "area",
            "period",
            "value",
            "numerator",
            "denominator",
            "significance_json",
            "formula_type",
            "multiplier",
            "unit",
        ]
    ].copy()
    f["method"] = f["significance_json"].str.extract(r'"method":\s*"(\w+)"')[0]
    f["scale"] = np.where(f["formula_type"].eq("rate"), f["multiplier"], 100.0)
    eng = df[df["area"] == "E92000001"][["indicator", "measure", "period", "value"]]
    f = f.merge(
        eng.rename(columns={"value": "england"}), on=["indicator", "measure", "period"], how="left"
    )
    f = f.merge(
        sn[["indicator", "measure", "period", "la_code", "mean"]].rename(
            columns={"la_code": "area", "mean": "neighbours"}
        ),
        on=["indicator", "measure", "period", "area"],
        how="left",
    )
    x, n = f["numerator"].to_numpy(float), f["denominator"].to_numpy(float)
    limits = {}
    for z, tail in ((1.959963984540054, 0.025), (3.090232306167813, 0.001)):
        root = z * np.sqrt(z * z + 4 * x * (1 - x / n))
        w_lo = np.where(x == 0, 0.0, (2 * x + z * z - root) / (2 * (n + z * z)))
        w_hi = np.where(x == n, 1.0, (2 * x + z * z + root) / (2 * (n + z * z)))
        with np.errstate(invalid="ignore", divide="ignore"):
            b_lo = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
            b_hi = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
            e_lo = np.where(x > 0, stats.chi2.ppf(tail, 2 * x) / 2, 0.0)
            e_hi = stats.chi2.ppf(1 - tail, 2 * x + 2) / 2
        p_lo, p_hi = np.where(x < 10, e_lo, b_lo) / n, np.where(x < 10, e_hi, b_hi) / n
        wil = f["method"].eq("wilson").to_numpy()
        limits[tail] = (
            np.where(wil, w_lo, p_lo) * f["scale"].to_numpy(),
            np.where(wil, w_hi, p_hi) * f["scale"].to_numpy(),
        )
    lo, hi = limits[0.025]
    lo2, hi2 = limits[0.001]
    for comp in ("england", "neighbours"):
        b = f[comp].to_numpy(float)
        f[comp + "_significance"] = np.select(
            [np.isnan(b), (b >= lo) & (b <= hi), b > hi],
            ["not compared", "similar", "lower"],
            "higher",
        )
        f[comp + "_both"] = (b < lo2) | (b > hi2)
    return f


#: CPU seconds of the last timed call's median run (all of the process's threads), by function name
CPU: dict[str, float] = {}


def timed(fn, con, repeat: int) -> tuple[float, int]:
    times, cpus, n = [], [], 0
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        n = fn(con)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    CPU[getattr(fn, "__name__", "?")] = statistics.median(cpus)
    return statistics.median(times), n


def timed_together(fns, con, repeat: int) -> list[tuple[float, int]]:
    """Like :func:`timed` for several functions, run in turn within each repeat (engine, engine on
    one thread, pandas, engine, ...): on a shared machine the load moves over seconds, and timing one
    side's repeats before the other's would hand whichever ran in a quieter spell the advantage."""
    times: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    ns = [0] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t, c = time.perf_counter(), time.process_time()
            ns[i] = fn(con)
            times[i].append(time.perf_counter() - t)
            cpus[i].append(time.process_time() - c)
    for fn, c in zip(fns, cpus, strict=True):
        CPU[fn.__name__] = statistics.median(c)
    return [(statistics.median(t), n) for t, n in zip(times, ns, strict=True)]


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
    (engine, n_engine), (one, _), (pdt, n_pd) = timed_together(
        [run_engine, run_engine_one_thread, run_pandas], con, a.repeat
    )
    presented, n_presented = timed(run_engine_presented, con, a.repeat)
    steps = []
    for name, sql in skeleton_steps():
        steps.append((name, timed(lambda c, q=sql: c.execute(q), con, a.repeat)[0]))
    skeleton = sum(t for _, t in steps)
    print(f"LAIT and DfE observations: {n_obs:,}")
    print(
        f"cspa engine          {engine:7.2f} s  ({n_engine:,} judged figures: every judgement the LAIT and DfE "
        "catalogues ask for, trend classes, recent trends and significance included; they set no bands or lights)"
    )
    print(
        f"  on one thread       {one:7.2f} s  (the same build, DuckDB on one thread as pandas on one core: on a "
        "machine whose cores other processes hold, parallel steps wait for each other)"
    )
    print(
        f"  + every row presented {presented:5.2f} s  ({n_presented:,} rows with display strings and provenance lines)"
    )
    print(
        f"(a) pandas baseline  {pdt:7.2f} s  ({n_pd:,} rows: values, display, SN means, ranks, quartiles, "
        "progress, trend classes, recent trends, significance)"
    )
    print(f"(b) bare DuckDB read {bare:7.2f} s  ({n_bare:,} groups)")
    print(
        f"(c) skeleton, judging nothing {skeleton:5.2f} s = {skeleton / bare:.1f}x the bare read: the least SQL "
        "giving the raw numbers of the same judgements, a floor under any SQL build of them"
    )
    for name, t in steps:
        print(f"      {name:32s} {t:5.2f} s = {t / bare:4.1f}x")
    print(
        f"engine vs pandas:    {pdt / engine:5.1f}x faster (goal >= 5x); on one thread {pdt / one:.1f}x"
    )
    # the machine is shared: the wall clock counts the time other processes held the cores, so the
    # CPU time each side used (every thread of this process) is printed beside it
    eng_cpu, pd_cpu, one_cpu = CPU["run_engine"], CPU["run_pandas"], CPU["run_engine_one_thread"]
    print(
        f"CPU seconds:         engine {eng_cpu:.2f} (one thread {one_cpu:.2f}), pandas {pd_cpu:.2f} "
        f"({pd_cpu / eng_cpu:.1f}x, {pd_cpu / one_cpu:.1f}x); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"engine vs bare read: {engine / bare:5.1f}x slower (goal <= 10x)")
    print(
        f"engine vs skeleton:  {engine / skeleton:5.1f}x (what the judgements' rules, display and provenance add)"
    )
    print(
        f"presented vs pandas: {pdt / presented:5.1f}x faster; vs bare read {presented / bare:5.1f}x slower"
    )


if __name__ == "__main__":
    main()
