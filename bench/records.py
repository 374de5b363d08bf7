"""Benchmark: every record-level measure on DuckDB, on local Spark, and in straightforward pandas.

    uv run python bench/records.py --episodes 1000000 [--seed 1] [--no-spark] [--cache .bench-cache/records]

Generates synthetic returns of about N episodes for all 153 authorities and five collection years
(cspa.records.synthetic, seeded; cached as Parquet under the cache folder by N and seed, so a second
run reuses them), then in one process times each measure:

* on DuckDB as cspa runs them: the measures' Ibis expressions with the tables they share (one
  grouping of the episodes by child) computed once, from the Parquet files (reading included) and
  from the store's tables in DuckDB's memory; and each measure on its own, deriving what it needs
  in its own query ("alone");
* on Spark: the same expressions on a local[2] session (what a cluster would run, on one machine);
* in pandas: a straightforward vectorised implementation written here from the same definitions,
  measure by measure, over DataFrames already in memory (the Parquet read is timed once, apart).

It checks that pandas and DuckDB agree on every figure, and Spark and DuckDB, and prints each time,
the ratios and the CPU seconds (goal at 10 million episodes on 2 cores: every measure on DuckDB
under 30 s and at least 10x faster than pandas).
"""

# ruff: noqa: SIM300  (upper-case 903 field names such as DECOM read to ruff as constants)

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cspa.records.backends import Backend, SparkConfig, compute, parquet_tables
from cspa.records.measures import MEASURES
from cspa.records.synthetic import LAYOUT, Scale, generate, write_parquet


def dataset(n: int, seed: int, cache: Path, layout: int = LAYOUT) -> Path:
    # the generator's layout version is in the name: files written before a change are not reused
    # unless asked for (--layout: an earlier layout with the same tables and columns)
    folder = cache / f"n{n}-s{seed}-v{layout}"
    if (folder / "episodes" / "part-0.parquet").exists():
        print(f"reusing {folder}")
        return folder
    if layout != LAYOUT:
        raise SystemExit(f"{folder}: no such returns (only layout {LAYOUT} can be generated)")
    t0 = time.perf_counter()
    counts = write_parquet(generate(Scale(episodes=n, seed=seed)), folder)
    print(
        f"generated {folder} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v)
    )
    return folder


# ------------------------------------------------------------------------------- pandas


def _with_bounds(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with its collection year's first (S) and last (E) day beside each row."""
    years = df["YEAR"].unique()
    return df.assign(
        S=df["YEAR"].map({y: pd.Timestamp(int(y) - 1, 4, 1) for y in years}),
        E=df["YEAR"].map({y: pd.Timestamp(int(y), 3, 31) for y in years}),
    )


def _la(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["LS"].isna() | ~df["LS"].isin(["V3", "V4"])]


def _out(num: pd.Series, den: pd.Series | None = None, mult: float | None = None) -> pd.DataFrame:
    o = pd.DataFrame({"numerator": num.astype(float)})
    if den is not None:
        o = o.join(den.astype(float).rename("denominator"), how="outer")
        o["numerator"] = o["numerator"].fillna(0)
        o["value"] = o["numerator"] / o["denominator"] * (mult if mult else 1)
    else:
        o["denominator"] = np.nan
        o["value"] = o["numerator"]
    return o


def pandas_measures(t: dict[str, pd.DataFrame]) -> dict[str, callable]:
    # Every measure starts from the tables as read (nothing prepared outside the timed call, as
    # DuckDB's queries start from the tables): the year's bounds are worked out in each.
    E0 = t["episodes"]
    pop = t["population"].set_index(["LA", "YEAR"])["POP"]
    keys = ["LA", "YEAR"]

    def cla31():
        e = _with_bounds(_la(E0))
        e = e[(e.DECOM <= e.E) & (e.DEC.isna() | (e.DEC > e.E))]
        return e.groupby(keys).CHILD.nunique()

    def started():
        e = _with_bounds(_la(E0))
        e = e[(e.RNE == "S") & (e.DECOM >= e.S) & (e.DECOM <= e.E)]
        return e.groupby(keys).CHILD.nunique()

    def ceased():
        e = _with_bounds(_la(E0))
        e = e[(e.DEC >= e.S) & (e.DEC <= e.E) & e.REC.notna() & (e.REC != "X1")]
        return e.groupby(keys).CHILD.nunique()

    def rate(counts):
        return _out(counts, pop.reindex(counts.index), 10000)

    def placements():
        e = _with_bounds(_la(E0))
        e = e[(e.DECOM <= e.E) & (e.DEC.isna() | (e.DEC >= e.S))]
        # the same algorithm as the Ibis definition: per child, the episodes that changed placement,
        # plus one when the earliest (by start, a new placement before a same-day change of legal
        # status) is only a change of legal status
        isl = (e.RNE == "L").fillna(False).astype("int64")
        e = e.assign(
            moves=1 - isl,
            key=(e.DECOM - pd.Timestamp(1900, 1, 1)).dt.days.astype("int64") * 2 + isl,
            o=e.DEC.isna() | (e.DEC > e.E),
        )
        c = e.groupby([*keys, "CHILD"]).agg(
            moves=("moves", "sum"), key=("key", "min"), o=("o", "any")
        )
        c = c[c.o]
        p = c.moves + c.key % 2
        return _out((p >= 3).groupby(keys).sum(), c.groupby(keys).size(), 100)

    def long_term():
        e = _with_bounds(_la(E0))
        e = e[e.DECOM <= e.E].copy()
        e["cs"] = e.DECOM.where(e.RNE == "S")
        e["ps"] = e.DECOM.where(e.RNE != "L")
        e["o"] = e.DEC.isna() | (e.DEC > e.E)
        e["ad"] = e.o & e.PLACE.isin(["A3", "A4", "A5", "A6"])
        c = (
            e.groupby([*keys, "CHILD"])
            .agg(
                first=("DECOM", "min"),
                cs=("cs", "max"),
                ps=("ps", "max"),
                o=("o", "any"),
                ad=("ad", "any"),
            )
            .reset_index()
        )
        # one header row per child, as the Ibis definition assumes (rule INT32 blocks a load otherwise)
        h = t["header"][[*keys, "CHILD", "DOB"]]
        c = c.merge(h, on=[*keys, "CHILD"])
        y = c.YEAR
        c = c[
            c.o
            & (c.DOB > pd.to_datetime((y - 16).astype(str) + "-03-31"))
            & (c.cs.fillna(c["first"]) <= pd.to_datetime((y - 3).astype(str) + "-09-30"))
        ]
        ok = (c.ps.fillna(c["first"]) <= pd.to_datetime((c.YEAR - 2).astype(str) + "-03-31")) | c.ad
        return _out(ok.groupby([c.LA, c.YEAR]).sum(), c.groupby(keys).size(), 100)

    def distance():
        e = _with_bounds(_la(E0))
        e = e[(e.DECOM <= e.E) & (e.DEC.isna() | (e.DEC > e.E)) & e.PL_DISTANCE.notna()]
        c = (e.PL_DISTANCE > 20).groupby([e.LA, e.YEAR, e.CHILD]).any()
        return _out(c.groupby(keys).sum(), c.groupby(keys).size(), 100)

    def adopted_children():
        E = _with_bounds(E0)
        a = (
            E[(E.DEC >= E.S) & (E.DEC <= E.E) & E.REC.isin(["E11", "E12"])]
            .groupby([*keys, "CHILD"])
            .DEC.max()
        )
        j = E[[*keys, "CHILD", "DECOM", "RNE"]].merge(
            a.rename("adoption").reset_index(), on=[*keys, "CHILD"]
        )
        j = j[j.DECOM < j.adoption]
        j["cs"] = j.DECOM.where(j.RNE == "S")
        c = j.groupby([*keys, "CHILD"]).agg(first=("DECOM", "min"), cs=("cs", "max")).reset_index()
        c["start"] = c.cs.fillna(c["first"])
        return c

    def adopted():
        E = _with_bounds(E0)
        e = E[(E.DEC >= E.S) & (E.DEC <= E.E) & E.REC.isin(["E11", "E12"])]
        return _out(e.groupby(keys).CHILD.nunique())

    def a1():
        c = adopted_children()
        placed = E0[E0.PLACE.isin(["A3", "A4", "A5", "A6"])][[*keys, "CHILD", "DECOM"]]
        j = c.merge(placed, on=[*keys, "CHILD"])
        j = j[j.DECOM >= j.start]
        d = j.groupby([*keys, "CHILD"]).agg(s=("start", "min"), m=("DECOM", "min"))
        d = (d.m - d.s).dt.days
        return _out(d.groupby(keys).sum(), d.groupby(keys).size())

    def a2():
        c = adopted_children()
        orders = E0[E0.LS.isin(["E1", "D1"])][[*keys, "CHILD", "DECOM"]]
        j = c.merge(orders, on=[*keys, "CHILD"])
        j = j[j.DECOM >= j.start]
        po = j.groupby([*keys, "CHILD"]).DECOM.min().rename("order")
        ad1 = t["ad1"]
        m = ad1[ad1.DATE_MATCH.notna()].groupby([*keys, "CHILD"]).DATE_MATCH.max()
        k = pd.concat([po, m], axis=1, join="inner")
        d = (k.DATE_MATCH - k.order).dt.days
        return _out(d.groupby(keys).sum(), d.groupby(keys).size())

    oc3 = t["oc3"]

    def care_leavers():
        return oc3[oc3.IN_TOUCH.isna() | (oc3.IN_TOUCH != "DIED")]

    def in_touch():
        leavers = care_leavers()
        return _out(
            (leavers.IN_TOUCH == "YES").groupby([leavers.LA, leavers.YEAR]).sum(),
            leavers.groupby(keys).size(),
            100,
        )

    def accom():
        leavers = care_leavers()
        return _out(
            leavers.ACCOM.fillna("").str.endswith("1").groupby([leavers.LA, leavers.YEAR]).sum(),
            leavers.groupby(keys).size(),
            100,
        )

    def eet():
        leavers = care_leavers()
        a = leavers.ACTIV.fillna("")
        return _out(
            (a.str.startswith("F") | a.str.startswith("P"))
            .groupby([leavers.LA, leavers.YEAR])
            .sum(),
            leavers.groupby(keys).size(),
            100,
        )

    def missing_in_year():
        M = _with_bounds(t["missing"])
        return M[(M.MISSING == "M") & (M.MIS_START >= M.S) & (M.MIS_START <= M.E)]

    def missing_children():
        e = _with_bounds(_la(E0))
        e = e[(e.DECOM <= e.E) & (e.DEC.isna() | (e.DEC >= e.S))]
        cla = e[[*keys, "CHILD"]].drop_duplicates()
        went = missing_in_year()[[*keys, "CHILD"]].drop_duplicates().assign(w=1)
        j = cla.merge(went, on=[*keys, "CHILD"], how="left")
        return _out(j.w.fillna(0).groupby([j.LA, j.YEAR]).sum(), j.groupby(keys).size(), 100)

    def missing_eps():
        return _out(missing_in_year().groupby(keys).size())

    def referrals():
        C = _with_bounds(t["cin_details"])
        r = C[(C.CINreferralDate >= C.S) & (C.CINreferralDate <= C.E)]
        return _out(r.groupby(keys).size())

    def rereferrals():
        C = _with_bounds(t["cin_details"])
        c = C[C.CINreferralDate.notna()].sort_values([*keys, "CHILD", "CINreferralDate", "EPISODE"])
        c = c.assign(prev=c.groupby([*keys, "CHILD"]).CINreferralDate.shift())
        r = c[(c.CINreferralDate >= c.S) & (c.CINreferralDate <= c.E)]
        w = r.prev.notna() & ((r.CINreferralDate - r.prev).dt.days <= 365)
        return _out(w.groupby([r.LA, r.YEAR]).sum(), r.groupby(keys).size(), 100)

    def assessments():
        A = _with_bounds(t["assessments"])
        a = A[
            (A.AssessmentAuthorisationDate >= A.S)
            & (A.AssessmentAuthorisationDate <= A.E)
            & A.AssessmentActualStartDate.notna()
        ]
        wd = np.busday_count(
            (a.AssessmentActualStartDate + pd.Timedelta(days=1)).values.astype("datetime64[D]"),
            (a.AssessmentAuthorisationDate + pd.Timedelta(days=1)).values.astype("datetime64[D]"),
        )
        return _out(
            pd.Series(wd <= 45, index=a.index).groupby([a.LA, a.YEAR]).sum(),
            a.groupby(keys).size(),
            100,
        )

    def cpp_started():
        P = _with_bounds(t["cp_plans"])
        p = P[(P.CPPstartDate >= P.S) & (P.CPPstartDate <= P.E)]
        return _out(p.groupby(keys).size())

    def cpp_subsequent():
        P = _with_bounds(t["cp_plans"])
        p = P[P.CPPstartDate.notna()]
        p = p.assign(earlier=p.groupby([*keys, "CHILD"]).CPPstartDate.transform("min"))
        s = p[(p.CPPstartDate >= p.S) & (p.CPPstartDate <= p.E)]
        sub = (s.NumberOfPreviousCPP.fillna(0) > 0) | (s.earlier < s.CPPstartDate)
        return _out(sub.groupby([s.LA, s.YEAR]).sum(), s.groupby(keys).size(), 100)

    def cpp_2y():
        P = _with_bounds(t["cp_plans"])
        o = P[(P.CPPstartDate <= P.E) & (P.CPPendDate.isna() | (P.CPPendDate > P.E))]
        ok = o.CPPstartDate <= pd.to_datetime((o.YEAR - 2).astype(str) + "-03-31")
        return _out(ok.groupby([o.LA, o.YEAR]).sum(), o.groupby(keys).size(), 100)

    return {
        "REC_CLA_31MAR/count": lambda: _out(cla31()),
        "REC_CLA_31MAR/rate": lambda: rate(cla31()),
        "REC_CLA_STARTED/count": lambda: _out(started()),
        "REC_CLA_STARTED/rate": lambda: rate(started()),
        "REC_CLA_CEASED/count": lambda: _out(ceased()),
        "REC_CLA_CEASED/rate": lambda: rate(ceased()),
        "REC_PLACEMENTS_3PLUS/value": placements,
        "REC_LONG_TERM_STABILITY/value": long_term,
        "REC_PLACED_20_MILES/value": distance,
        "REC_ADOPTED/value": adopted,
        "REC_ADOPTION_A1/value": a1,
        "REC_ADOPTION_A2/value": a2,
        "REC_CARE_LEAVERS_IN_TOUCH/value": in_touch,
        "REC_CARE_LEAVERS_ACCOM/value": accom,
        "REC_CARE_LEAVERS_EET/value": eet,
        "REC_MISSING/children": missing_children,
        "REC_MISSING/episodes": missing_eps,
        "REC_REFERRALS/value": referrals,
        "REC_REREFERRALS_12M/value": rereferrals,
        "REC_ASSESSMENTS_45D/value": assessments,
        "REC_CPP_STARTED/value": cpp_started,
        "REC_CPP_SUBSEQUENT/value": cpp_subsequent,
        "REC_CPP_2YRS/value": cpp_2y,
    }


def load_pandas(folder: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name, path in parquet_tables(folder).items():
        t = pq.read_table(path.replace("/*.parquet", ""))
        # strings as pyarrow-backed pandas strings: a tenth of the memory of Python objects at 10 million rows
        out[name] = t.to_pandas(
            date_as_object=False, types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get
        )
    return out


# ------------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--episodes", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path(".bench-cache/records"))
    ap.add_argument("--no-spark", action="store_true", help="Skip Spark (no Java, or no time).")
    ap.add_argument("--no-pandas", action="store_true")
    ap.add_argument(
        "--layout",
        type=int,
        default=LAYOUT,
        help="Reuse returns cached by an earlier generator layout (same tables and columns).",
    )
    args = ap.parse_args()

    folder = dataset(args.episodes, args.seed, args.cache, args.layout)
    rows = pq.read_metadata(folder / "episodes" / "part-0.parquet").num_rows
    print(f"{rows:,} episodes; {os.cpu_count()} cores")

    duck = Backend.duckdb()
    parquet = duck.from_parquet(folder)
    # the same tables read into DuckDB's memory, as pandas gets its DataFrames
    t0 = time.perf_counter()
    mem = duck.from_parquet(folder, prefix="m", materialize=True)
    print(
        f"DuckDB: Parquet read into tables in {time.perf_counter() - t0:.1f} s (not counted below)"
    )
    fns = None
    if not args.no_pandas:
        t0 = time.perf_counter()
        frames = load_pandas(folder)
        print(
            f"pandas: Parquet read into DataFrames in {time.perf_counter() - t0:.1f} s (not counted below)"
        )
        fns = pandas_measures(frames)
    # one untimed query first, on each engine, so that one-off costs (imports, Ibis's compiler,
    # the Parquet reader's first open) do not land on whichever measure happens to come first
    compute(parquet, duck, MEASURES[:1])
    if fns:
        fns[MEASURES[0].key]()

    # DuckDB as cspa runs it: the derived tables (one grouping of the episodes by child) computed
    # once and shared by the measures, from the Parquet files and from the tables in memory; then
    # each measure on its own (its query derives what it needs itself), then pandas, measure by
    # measure (a straightforward implementation shares nothing).
    t_duck: dict[str, float] = {}
    t_mem: dict[str, float] = {}
    t_alone: dict[str, float] = {}
    t_pd: dict[str, float] = {}
    c_pd: dict[str, float] = {}
    obs = compute(parquet, duck, timings=t_duck).to_pandas()
    compute(mem, duck, timings=t_mem)
    compute(mem, duck, timings=t_alone, share=False)
    mismatches = 0
    for m in MEASURES if fns else []:
        t0, c0 = time.perf_counter(), time.process_time()
        res = fns[m.key]()
        t_pd[m.key] = time.perf_counter() - t0
        c_pd[m.key] = time.process_time() - c0
        ours = obs[(obs.indicator == m.indicator) & (obs.measure == m.measure)]
        ours = ours.set_index(["LA", "YEAR"]).sort_index()
        theirs = res.reset_index().astype({"YEAR": "int32"}).set_index(["LA", "YEAR"]).sort_index()
        if len(ours) != len(theirs) or not np.allclose(
            ours["value"].to_numpy(float), theirs["value"].to_numpy(float), equal_nan=True
        ):
            mismatches += 1
            print(f"  pandas and DuckDB differ on {m.key}: {len(ours)} vs {len(theirs)} rows")
    c_duck, c_mem, c_alone = t_duck.pop("_cpu"), t_mem.pop("_cpu"), t_alone.pop("_cpu")
    if fns is not None:
        print(
            f"pandas and DuckDB agree on {len(MEASURES) - mismatches} of {len(MEASURES)} measures"
        )
        del frames, fns

    t_spark: dict[str, float] = {}
    if not args.no_spark:
        t0 = time.perf_counter()
        spark = Backend.spark(
            SparkConfig.from_env(
                conf={"spark.driver.memory": "6g", "spark.sql.shuffle.partitions": "8"}
            )
        )
        tables = spark.from_parquet(folder)
        print(
            f"spark: local[2] session started in {time.perf_counter() - t0:.1f} s (not counted below)"
        )
        sp = compute(tables, spark, timings=t_spark).to_pandas()
        t_spark.pop("_cpu", None)
        k = ["indicator", "measure", "LA", "YEAR"]
        a, b = obs.sort_values(k).reset_index(drop=True), sp.sort_values(k).reset_index(drop=True)
        same = a[k].equals(b[k]) and all(
            np.allclose(a[c].to_numpy(float), b[c].to_numpy(float), equal_nan=True)
            for c in ("value", "numerator", "denominator")
        )
        print(
            f"Spark and DuckDB {'agree on every one' if same else 'DIFFER on some'} of {len(a):,} figures"
        )

    nan = float("nan")
    print(
        f"\n{'seconds':<32}{'DuckDB':>8}{'store':>8}{'alone':>8}{'pandas':>8}{'Spark':>8}"
        f"{'pandas/':>9}{'pandas/':>9}{'pandas/':>9}{'Spark/':>9}"
        f"\n{'':<72}{'DuckDB':>9}{'store':>9}{'alone':>9}{'DuckDB':>9}"
    )

    def f(x):
        return x if x else nan

    def row(label, d, m, a, p, s):
        print(
            f"{label:<32}{f(d):>8.2f}{f(m):>8.2f}{f(a):>8.2f}{f(p):>8.2f}{f(s):>8.2f}"
            f"{f(p) / f(d):>8.1f}x{f(p) / f(m):>8.1f}x{f(p) / f(a):>8.1f}x{f(s) / f(d):>8.1f}x"
        )

    for k in t_duck:
        row(k, t_duck[k], t_mem.get(k), t_alone.get(k), t_pd.get(k), t_spark.get(k))
    total = {n: sum(t.values()) for n, t in (("d", t_duck), ("m", t_mem), ("a", t_alone))}
    row(
        "all measures",
        total["d"],
        total["m"],
        total["a"],
        sum(t_pd.values()),
        sum(t_spark.values()),
    )
    slowest = max((k for k in t_duck if "/" in k), key=t_duck.get)
    print(f"slowest measure on DuckDB: {slowest} {t_duck[slowest]:.2f} s (goal: under 30 s)")
    if t_pd:
        p = sum(t_pd.values())
        print(
            f"pandas/DuckDB over all measures: {p / total['d']:.1f}x from Parquet, "
            f"{p / total['m']:.1f}x from the store's tables in memory, {p / total['a']:.1f}x with each "
            "measure on its own (goal: 10x)"
        )
        cpu = {n: sum(c.values()) for n, c in (("d", c_duck), ("m", c_mem), ("a", c_alone))}
        cp = sum(c_pd.values())
        print(
            "CPU seconds (this process, all threads; steadier than the wall clock on a shared machine): "
            f"DuckDB {cpu['d']:.1f}, store {cpu['m']:.1f}, alone {cpu['a']:.1f}, pandas {cp:.1f}; "
            f"pandas/DuckDB {cp / cpu['d']:.1f}x, pandas/store {cp / cpu['m']:.1f}x, "
            f"pandas/alone {cp / cpu['a']:.1f}x"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
