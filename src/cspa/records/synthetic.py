"""Synthetic SSDA903 and CIN census returns at any scale, seeded: the same arguments give the same files.

    tables = generate(episodes=1_000_000, seed=1)          # typed Arrow tables, all 153 authorities
    write_parquet(tables, Path("out"))                      # <table>/part-0.parquet, as the backends read
    write_903_csv(tables, Path("out-csv"), la="821", year=2024)   # one return in the 903 CSV layout

Children's periods of care are drawn for every authority (in proportion to its 0-17 population)
over the years asked for and a few before, then cut into each year's return as DfE's collection
does: a return holds the episodes open at any time in its year, an episode still open on 31 March
has no end date or reason, and a child's header, previous permanence, adoption, missing and care
leaver records go with it. The shapes are realistic rather than fitted: periods of care last a
lognormal time (median about ten months), children move placement or change legal status a
Poisson number of times, legal statuses and placement types follow the shares in DfE's national
statistics, about one in nine periods ends in adoption (through a placement order and a placement
with adopters), and the codes and dates are drawn so that the return passes the 903 rules cspa
implements (a test checks a generated return against them). CIN census returns are drawn in
proportion: referrals, re-referrals within a year, assessments and child protection plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cspa.records.returns import arrow_schema, load_spec

D = np.timedelta64(1, "D")
# Raised whenever what the generator writes changes (draws, columns, row order), so that cached
# files (bench/records.py keeps them by size and seed) are not reused across a change.
LAYOUT = 4
ETHNIC = (
    [
        "WBRI",
        "WIRI",
        "WOTH",
        "WIRT",
        "WROM",
        "MWBC",
        "MWBA",
        "MWAS",
        "MOTH",
        "AIND",
        "APKN",
        "ABAN",
        "AOTH",
        "BCRB",
        "BAFR",
        "BOTH",
        "CHNE",
        "OOTH",
        "REFU",
        "NOBT",
    ],
    [66, 1, 6, 1, 1, 3, 1, 1, 3, 1, 2, 1, 1, 1, 4, 2, 0.2, 3, 0.5, 1.3],
)
START_LS = (["C2", "V2", "C1", "L1", "L2", "J2"], [30, 45, 15, 4, 4, 2])
PLACES = (
    ["U1", "U2", "U3", "U4", "U5", "U6", "K2", "P1", "H5", "R1"],
    [8, 6, 30, 10, 4, 12, 11, 6, 5, 3],
)
PROVIDER = {
    "U": ["PR1", "PR4"],
    "K": ["PR1", "PR4"],
    "P": ["PR0"],
    "H": ["PR4"],
    "R": ["PR3", "PR4"],
    "A": ["PR1"],
}
# placements with no Ofsted-registered provider, so no URN (2024-25 rules 218 and 222)
NO_URN = ["P1", "P3", "R1", "R2", "R5", "T0", "T1", "T2", "T3", "T4", "Z1"]
# legal statuses that last days by law, and how many (rules 361, 362, 364)
SHORT_ORDERS = {"L1": 3, "L2": 21, "J2": 21}
CIN_NEED = (["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8"], [65, 3, 3, 14, 7, 1, 1, 6])
ENDS = (["E13", "E4A", "E41", "E45", "E48", "E8"], [25, 30, 5, 10, 10, 20])
CHANGE_REASONS = ["CARPL", "LAREQ", "CHILD", "CREQB", "PLACE", "OTHER", "ALLEG", "STAND"]
REFERRAL_SOURCES = [
    "1A",
    "1B",
    "2A",
    "2B",
    "3A",
    "3B",
    "3C",
    "4",
    "5A",
    "5B",
    "5C",
    "5D",
    "6",
    "7",
    "8",
    "9",
    "10",
]


@dataclass(frozen=True)
class Scale:
    episodes: int
    seed: int = 1
    years: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)
    las: tuple[str, ...] | None = None  # DfE LA numbers; default: the 153 of the area registry
    cin_per_episode: float = 0.5  # referrals drawn per 903 episode row


def _authorities(las: tuple[str, ...] | None) -> tuple[np.ndarray, np.ndarray]:
    from cspa.catalogue.areas import load_areas
    from cspa.records.population import population_table

    pop = population_table().to_pandas()
    latest = pop.sort_values("YEAR").groupby("LA").POP.last()
    codes = (
        list(las) if las else sorted(a.code for a in load_areas() if a.type == "la" and a.in_2025)
    )
    w = np.array([float(latest.get(c, 50_000)) for c in codes])
    return np.array(codes), w / w.sum()


def _pick(rng: np.random.Generator, choices: tuple[list[str], list[float]], n: int) -> np.ndarray:
    p = np.asarray(choices[1], float)
    return np.asarray(choices[0])[rng.choice(len(choices[0]), size=n, p=p / p.sum())]


def _postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    pool_rng = np.random.default_rng(12345)
    letters = np.array(list("ABCDEFGHJKLMNOPRSTUWYZ"))
    k = 20_000
    area = np.char.add(
        letters[pool_rng.integers(0, len(letters), k)],
        letters[pool_rng.integers(0, len(letters), k)],
    )
    pool = np.char.add(
        np.char.add(np.char.add(area, pool_rng.integers(1, 30, k).astype(str)), " "),
        np.char.add(
            pool_rng.integers(0, 10, k).astype(str),
            np.char.add(
                letters[pool_rng.integers(0, len(letters), k)],
                letters[pool_rng.integers(0, len(letters), k)],
            ),
        ),
    )
    return pool[rng.integers(0, k, n)]


def _ffill(values: np.ndarray, change: np.ndarray) -> np.ndarray:
    """Each row takes the value of the latest row (itself included) where ``change`` holds."""
    idx = np.where(change, np.arange(len(change)), 0)
    np.maximum.accumulate(idx, out=idx)
    return values[idx]


def birthday(dob: np.ndarray, years: int) -> np.ndarray:
    """The date ``years`` years after ``dob``, by months, so that a day of the month is kept exactly
    (29 February gives 1 March, after the 28 February that SQL's interval arithmetic gives)."""
    month = dob.astype("datetime64[M]")
    return (month + 12 * years).astype("datetime64[D]") + (dob - month.astype("datetime64[D]"))


def _periods(
    rng: np.random.Generator, n: int, scale: Scale, las: np.ndarray, w: np.ndarray
) -> dict:
    """Periods of care (one per child) and their episodes, before cutting into years."""
    first = np.datetime64(f"{min(scale.years) - 4}-04-01")
    last = np.datetime64(f"{max(scale.years)}-03-31")
    start = first + rng.integers(0, int((last - first) / D) + 1, n) * D
    age_start = np.clip(
        rng.choice([0, 1, 3, 6, 10, 13, 16], n, p=[0.2, 0.08, 0.1, 0.17, 0.15, 0.2, 0.1])
        + rng.integers(0, 3, n),
        0,
        17,
    )
    dob = start - (age_start * 365.25 + rng.integers(0, 365, n)).astype(int) * D
    eighteen = birthday(dob, 18)
    respite = rng.random(n) < 0.02
    adoption = (~respite) & (age_start <= 4) & (rng.random(n) < 0.45)
    length = np.maximum(1, np.exp(rng.normal(np.log(300), 1.1, n))).astype(int)
    length = np.where(respite, rng.integers(1, 17, n), length)
    length = np.where(adoption, np.maximum(length, 500) + rng.integers(100, 500, n), length)
    end = start + length * D
    at18 = end >= eighteen
    end = np.where(at18, eighteen, end)
    k = np.where(respite, 1, 1 + rng.poisson(1.3, n))
    k = np.where(adoption, 3, k)
    k = np.minimum(k, np.maximum(1, (end - start) / D // 30).astype(int))
    k = np.where(adoption, 3, k)
    la = las[rng.choice(len(las), n, p=w)]
    sex = np.where(rng.random(n) < 0.56, "M", "F")
    rec_end = _pick(rng, ENDS, n)
    rec_end = np.where(at18, np.where(rng.random(n) < 0.3, "E17", "E8"), rec_end)
    rec_end = np.where(adoption, "E11", rec_end)
    return {
        "la": la,
        "start": start,
        "end": end,
        "dob": dob,
        "age_start": age_start,
        "respite": respite,
        "adoption": adoption,
        "k": k,
        "sex": sex,
        "rec_end": rec_end,
        "ethnic": _pick(rng, ETHNIC, n),
        "cin": _pick(rng, CIN_NEED, n),
        "ls": _pick(rng, START_LS, n),
    }


def _episodes(rng: np.random.Generator, p: dict) -> dict:
    n = len(p["k"])
    pid = np.repeat(np.arange(n), p["k"])
    m = len(pid)
    offs = np.repeat(np.cumsum(p["k"]) - p["k"], p["k"])
    j = np.arange(m) - offs  # episode number within the period
    last = j == p["k"][pid] - 1
    # cut points: sorted uniform fractions of the period, whole days, strictly increasing
    span = ((p["end"] - p["start"]) / D).astype(int)[pid]
    frac = rng.random(m)
    frac[j == 0] = 0.0
    order = np.lexsort((frac, pid))
    frac = frac[order]
    dstart = np.floor(frac * span).astype(np.int64)
    # at least a day per episode: a running maximum within each period (the period number keeps them apart)
    key = pid.astype(np.int64) * 10**7 + dstart - j
    np.maximum.accumulate(key, out=key)
    dstart = key - pid.astype(np.int64) * 10**7 + j
    # a period begun under a short-lived order (police protection, an emergency protection order,
    # PACE) has it for a first episode no longer than the law allows, then a change of legal status
    limit0 = np.select([p["ls"] == k for k in SHORT_ORDERS], list(SHORT_ORDERS.values()), 0)[pid]
    short_first = (limit0 > 0) & (j == 1) & ~p["adoption"][pid]
    dstart = np.where(
        short_first, np.minimum(dstart, rng.integers(1, np.maximum(limit0, 1) + 1, m)), dstart
    )
    decom = p["start"][pid] + dstart * D
    dec = np.empty(m, "datetime64[D]")
    dec[:-1] = decom[1:]
    dec[last] = p["end"][pid][last]
    dec = np.maximum(dec, decom + D)
    ok = np.ones(m, bool)
    age_at = ((decom - p["dob"][pid]) / D / 365.25).astype(int)
    # reasons for new episodes; legal status and placement carried forward unless changed
    rne = np.where(j == 0, "S", np.asarray(["P", "L", "T"])[rng.choice(3, m, p=[0.65, 0.2, 0.15])])
    adopt = p["adoption"][pid]
    rne = np.where(adopt & (j == 1), "L", np.where(adopt & (j == 2), "P", rne))
    rne = np.where(short_first, "L", rne)
    place_new = _pick(rng, PLACES, m)
    place_new = np.where((place_new == "H5") & (age_at < 16), "U3", place_new)
    # placed with parents is not a placement of a child accommodated under section 20 (rule 378)
    place_new = np.where((place_new == "P1") & (p["ls"][pid] == "V2"), "U3", place_new)
    place_new = np.where(adopt & (j < 2), "U3", np.where(adopt & (j == 2), "A6", place_new))
    place_new = np.where(p["respite"][pid], "U6", place_new)
    change_place = (j == 0) | (rne == "P") | (rne == "T")
    # a changed placement must differ in type or postcode: a new postcode is drawn
    place = _ffill(place_new, change_place)
    prov_u = rng.random(m)
    provider_new = np.select(
        [np.char.startswith(place.astype(str), x) for x in PROVIDER],
        [np.where(prov_u < 0.5, v[0], v[-1]) for v in PROVIDER.values()],
        "PR1",
    )
    provider = _ffill(provider_new, change_place)
    home_post = _postcodes(rng, n)[pid]
    pl_new = _postcodes(rng, m)
    pl_new = np.where(
        (pl_new == home_post) & (place_new != "P1"), _postcodes(rng, m), pl_new
    )  # rule 392d
    pl_post = _ffill(pl_new, change_place)
    dist_new = np.round(np.exp(rng.normal(np.log(6), 1.0, m)), 1)
    distance = _ffill(dist_new, change_place)
    # an Ofsted URN for every placement with a registered provider (rules 218, 222)
    urn_new = np.where(
        ~np.isin(place_new, NO_URN),
        rng.integers(1_000_000, 9_999_999, m).astype(str),
        None,
    )
    urn = _ffill(urn_new.astype(object), change_place)
    ls_start = p["ls"][pid]
    ls_start = np.where(np.isin(ls_start, ["J2"]) & (age_at < 10), "C2", ls_start)
    ls_start = np.where(adopt, "C2", ls_start)
    # A short-lived order (police protection, an emergency protection order, PACE detention) holds
    # only for a first episode no longer than the law allows that ends in a change of legal status
    # (rules 361, 362, 364); the period is otherwise drawn under an interim care order.
    limit = np.select([ls_start == k for k in SHORT_ORDERS], list(SHORT_ORDERS.values()), 0)
    next_l = np.zeros(m, bool)
    next_l[:-1] = (~last[:-1]) & (rne[1:] == "L")
    short_order = (limit > 0) & (j == 0) & ((dec - decom) / D <= limit) & next_l
    emergency = ls_start
    ls_start = np.where(limit > 0, "C2", ls_start)
    change_ls = (j == 0) | (rne == "L") | (rne == "T")
    # each change of legal status alternates between two statuses, so that it is a change
    nchange = np.cumsum(change_ls) - np.repeat(
        np.cumsum(change_ls)[np.cumsum(p["k"]) - p["k"]], p["k"]
    )
    alt = np.where(ls_start == "C2", "C1", "C2")
    ls_new = np.where(nchange % 2 == 1, alt, ls_start)
    ls = _ffill(ls_new, change_ls)
    ls = np.where(short_order, emergency, ls)
    ls = np.where(adopt & (j >= 1), "E1", ls)
    ls = np.where(p["respite"][pid], "V3", ls)
    rec = np.where(last, p["rec_end"][pid], "X1")
    rec = np.where(
        last & np.isin(rec, ["E45"]) & ~np.char.startswith(place.astype(str), "U"), "E48", rec
    )
    respite = p["respite"][pid]
    rec = np.where(last & respite, "E13", rec)
    nxt_change = np.zeros(m, bool)
    nxt_change[:-1] = (~last[:-1]) & np.isin(rne[1:], ["P", "T"])
    reason = np.where(
        nxt_change, np.asarray(CHANGE_REASONS)[rng.integers(0, len(CHANGE_REASONS), m)], None
    )
    ep = {
        "pid": pid,
        "DECOM": decom,
        "DEC": dec,
        "RNE": rne,
        "LS": ls,
        "CIN": p["cin"][pid],
        "PLACE": place,
        "PLACE_PROVIDER": provider,
        "REC": rec,
        "REASON_PLACE_CHANGE": reason,
        "HOME_POST": np.where(respite, None, home_post.astype(object)),
        "PL_POST": np.where(respite, None, pl_post.astype(object)),
        "URN": urn,
        "PL_DISTANCE": np.where(respite, np.nan, distance),
    }
    return {k: v[ok] for k, v in ep.items()}


def _arr(v, typ) -> pa.Array:
    if isinstance(v, pa.Array | pa.ChunkedArray):
        return v.cast(typ)
    if typ == pa.date32():
        return pa.array(np.asarray(v, "datetime64[D]"), pa.date32(), from_pandas=True)
    return pa.array(v, typ, from_pandas=True)


def _table(schema: pa.Schema, cols: dict) -> pa.Table:
    n = len(next(iter(cols.values())))
    return pa.table(
        {
            f.name: _arr(cols[f.name], f.type) if f.name in cols else pa.nulls(n, f.type)
            for f in schema
        }
    )


def _child_ids(la: np.ndarray, pid: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(
        pa.array(la.tolist()), pc.utf8_lpad(pc.cast(pa.array(pid), pa.string()), 8, "0"), "C"
    )


def generate(scale: Scale) -> dict[str, pa.Table]:
    """Typed tables (the 903 and CIN specifications' columns with LA and YEAR) for every year of ``scale``."""
    rng = np.random.default_rng(scale.seed)
    las, w = _authorities(scale.las)
    # calibrate: rows per period of care across the years' returns, from a pilot draw
    pilot = _periods(np.random.default_rng(scale.seed + 1), 20_000, scale, las, w)
    pe = _episodes(np.random.default_rng(scale.seed + 2), pilot)
    rows = sum(int(_year_mask(pe, pilot, y).sum()) for y in scale.years)
    n = max(1, round(scale.episodes * 20_000 / max(rows, 1)))
    p = _periods(rng, n, scale, las, w)
    e = _episodes(rng, p)
    schemas = {
        **arrow_schema(load_spec("ssda903_tables.yaml")),
        **arrow_schema(load_spec("cin_tables.yaml")),
    }
    parts: dict[str, list[pa.Table]] = {k: [] for k in schemas}
    child = _child_ids(p["la"], np.arange(n))
    for y in scale.years:
        for name, t in _year_tables(rng, p, e, child, y, schemas).items():
            parts[name].append(t)
    out = {k: pa.concat_tables(v) if v else schemas[k].empty_table() for k, v in parts.items()}
    out |= _cin(rng, scale, las, w, int(scale.episodes * scale.cin_per_episode), schemas)
    return out


def _year_mask(e: dict, p: dict, y: int) -> np.ndarray:
    s, end = np.datetime64(f"{y - 1}-04-01"), np.datetime64(f"{y}-03-31")
    return (e["DECOM"] <= end) & (e["DEC"] >= s)


def _year_tables(
    rng, p: dict, e: dict, child: pa.Array, y: int, schemas: dict
) -> dict[str, pa.Table]:
    s, end = np.datetime64(f"{y - 1}-04-01"), np.datetime64(f"{y}-03-31")
    m = _year_mask(e, p, y)
    pid = e["pid"][m]
    open_ = e["DEC"][m] > end
    ep = {k: v[m] for k, v in e.items() if k != "pid"}
    ep["DEC"] = np.where(open_, np.datetime64("NaT"), ep["DEC"])
    ep["REC"] = np.where(open_, None, ep["REC"].astype(object))
    ep["REASON_PLACE_CHANGE"] = np.where(open_, None, ep["REASON_PLACE_CHANGE"])
    la = p["la"][pid]
    out = {
        "episodes": _table(
            schemas["episodes"],
            {**ep, "LA": la, "YEAR": np.full(len(pid), y), "CHILD": child.take(pa.array(pid))},
        )
    }
    # care leavers: left care at 16 or over before the year, with a 19th-21st birthday in the year
    age_end = (p["end"] - p["dob"]) / D / 365.25

    def bday(a):
        return birthday(p["dob"], a)

    leaver = (
        (age_end >= 16)
        & (p["end"] < s)
        & ~p["respite"]
        & (
            ((bday(19) >= s) & (bday(19) <= end))
            | ((bday(20) >= s) & (bday(20) <= end))
            | ((bday(21) >= s) & (bday(21) <= end))
        )
    )
    lp = np.flatnonzero(leaver)
    nl = len(lp)
    touch = np.where(rng.random(nl) < 0.9, "YES", np.where(rng.random(nl) < 0.7, "NO", "REFU"))
    activ = np.where(
        rng.random(nl) < 0.56,
        np.asarray(["F1", "P1", "F2", "P2", "F4", "P4"])[rng.integers(0, 6, nl)],
        np.asarray(["G4", "G5", "G6"])[rng.integers(0, 3, nl)],
    )
    accom = np.char.add(
        np.asarray(["B", "C", "D", "E", "G", "K", "R", "T", "U", "Z"])[rng.integers(0, 10, nl)],
        np.where(rng.random(nl) < 0.88, "1", "2"),
    )
    activ = np.where(touch == "YES", activ, "0")
    accom = np.where(touch == "YES", accom, "0")
    out["oc3"] = _table(
        schemas["oc3"],
        {
            "LA": p["la"][lp],
            "YEAR": np.full(nl, y),
            "CHILD": child.take(pa.array(lp)),
            "DOB": p["dob"][lp],
            "IN_TOUCH": touch,
            "ACTIV": activ,
            "ACCOM": accom,
        },
    )
    # header: every child with an episode in the year, and the care leavers
    kids = np.unique(pid)
    allk = np.concatenate([kids, lp])
    girls12 = (p["sex"][allk] == "F") & (((end - p["dob"][allk]) / D / 365.25) >= 12)
    mother = np.where(girls12 & np.isin(allk, kids), "0", None)
    upn = np.char.add(
        np.asarray(list("ABCDEFGHJKLMNPQRTUVWXYZ"))[allk % 23],
        np.char.zfill((allk * 7919 % 10**12).astype(str), 12),
    )
    out["header"] = _table(
        schemas["header"],
        {
            "LA": p["la"][allk],
            "YEAR": np.full(len(allk), y),
            "CHILD": child.take(pa.array(allk)),
            "SEX": p["sex"][allk],
            "DOB": p["dob"][allk],
            "ETHNIC": p["ethnic"][allk],
            "UPN": upn,
            "MOTHER": mother,
        },
    )
    # previous permanence for children who started in the year
    started = kids[(p["start"][kids] >= s) & (p["start"][kids] <= end)]
    out["prev_perm"] = _table(
        schemas["prev_perm"],
        {
            "LA": p["la"][started],
            "YEAR": np.full(len(started), y),
            "CHILD": child.take(pa.array(started)),
            "DOB": p["dob"][started],
            "PREV_PERM": np.full(len(started), "Z1"),
        },
    )
    # adoption: the decision (before the placement order), the match (before the placement with adopters)
    ad = kids[p["adoption"][kids]]
    eps_ad = {k: v[np.isin(e["pid"], ad)] for k, v in e.items()}
    is_l, is_a = eps_ad["RNE"] == "L", (eps_ad["PLACE"] == "A6") & (eps_ad["RNE"] == "P")
    ad_sorted = np.intersect1d(
        eps_ad["pid"][is_l], eps_ad["pid"][is_a]
    )  # a full chain: order, then adopters
    order = eps_ad["DECOM"][is_l][
        np.searchsorted(eps_ad["pid"][is_l], ad_sorted)
    ]  # placement order
    placed = eps_ad["DECOM"][is_a][
        np.searchsorted(eps_ad["pid"][is_a], ad_sorted)
    ]  # placed with adopters
    decision = (
        p["start"][ad_sorted]
        + ((order - p["start"][ad_sorted]) / D * rng.uniform(0.3, 0.9, len(ad_sorted))).astype(int)
        * D
    )
    match = (
        order
        + np.maximum(1, ((placed - order) / D * rng.uniform(0.3, 0.9, len(ad_sorted))).astype(int))
        * D
    )
    in_ret = decision <= end
    a = ad_sorted[in_ret]
    out["placed_adoption"] = _table(
        schemas["placed_adoption"],
        {
            "LA": p["la"][a],
            "YEAR": np.full(len(a), y),
            "CHILD": child.take(pa.array(a)),
            "DOB": p["dob"][a],
            "DATE_PLACED": decision[in_ret],
        },
    )
    adopted_now = (p["end"][ad_sorted] >= s) & (p["end"][ad_sorted] <= end)
    b = ad_sorted[adopted_now]
    nb = len(b)
    out["ad1"] = _table(
        schemas["ad1"],
        {
            "LA": p["la"][b],
            "YEAR": np.full(nb, y),
            "CHILD": child.take(pa.array(b)),
            "DOB": p["dob"][b],
            "DATE_INT": decision[adopted_now],
            "DATE_MATCH": match[adopted_now],
            "FOSTER_CARE": np.full(nb, "0"),
            "NB_ADOPTR": np.full(nb, "2"),
            "SEX_ADOPTR": np.full(nb, "MF"),
            "LS_ADOPTR": np.full(nb, "L11"),
        },
    )
    # missing: about one child in ten looked after in the year, closed spells inside the year and the care
    inyear = kids[~p["respite"][kids]]
    lo = np.maximum(p["start"][inyear], s)
    hi = np.minimum(p["end"][inyear], end)
    room = ((hi - lo) / D).astype(int)
    who = inyear[(rng.random(len(inyear)) < 0.1) & (room > 12)]
    if len(who):
        lo_w = np.maximum(p["start"][who], s)
        room_w = ((np.minimum(p["end"][who], end) - lo_w) / D).astype(int)
        nspell = 1 + rng.poisson(1.0, len(who))
        rid = np.repeat(np.arange(len(who)), nspell)
        slot = (room_w[rid] - 2) // nspell[rid]
        k = np.arange(len(rid)) - np.repeat(np.cumsum(nspell) - nspell, nspell)
        ok = slot >= 2
        mis_start = lo_w[rid] + (k * slot + 1) * D
        mis_end = mis_start + np.maximum(1, np.minimum(slot - 1, rng.integers(1, 8, len(rid)))) * D
        mw = who[rid][ok]
        out["missing"] = _table(
            schemas["missing"],
            {
                "LA": p["la"][mw],
                "YEAR": np.full(len(mw), y),
                "CHILD": child.take(pa.array(mw)),
                "DOB": p["dob"][mw],
                "MISSING": np.where(rng.random(len(mw)) < 0.85, "M", "A"),
                "MIS_START": mis_start[ok],
                "MIS_END": mis_end[ok],
            },
        )
    return out


def _cin(rng, scale: Scale, las, w, n: int, schemas: dict) -> dict[str, pa.Table]:
    """CIN census tables: referrals (a fifth of them within a year of an earlier one), assessments, plans."""
    n = max(n, 1)
    years = np.asarray(scale.years)
    y = years[rng.integers(0, len(years), n)]
    la = las[rng.choice(len(las), n, p=w)]
    s = np.array(
        [np.datetime64(f"{v - 1}-04-01") for v in range(int(years.min()), int(years.max()) + 1)]
    )[y - years.min()]
    ref = s + rng.integers(0, 365, n) * D
    dob = ref - rng.integers(30, 17 * 365, n) * D
    child = _child_ids(la, np.arange(n) + 50_000_000)
    prior = rng.random(n) < 0.22
    prev = ref - rng.integers(20, 700, n) * D
    closed = rng.random(n) < 0.6
    close = ref + rng.integers(1, 300, n) * D
    year_end = s + 364 * D
    close = np.where(closed & (close <= year_end), close, np.datetime64("NaT"))
    # episodes: the year's referral (episode 2 when there was an earlier one) and the earlier one, closed
    idx_prev = np.flatnonzero(prior)
    det = {
        "LA": np.concatenate([la, la[idx_prev]]),
        "YEAR": np.concatenate([y, y[idx_prev]]),
        "CHILD": pa.concat_arrays([child, child.take(pa.array(idx_prev))]),
        "EPISODE": np.concatenate([np.where(prior, 2, 1), np.ones(len(idx_prev), int)]),
        "CINreferralDate": np.concatenate([ref, prev[idx_prev]]),
        "ReferralSource": np.asarray(REFERRAL_SOURCES)[
            rng.integers(0, len(REFERRAL_SOURCES), n + len(idx_prev))
        ],
        "PrimaryNeedCode": _pick(rng, CIN_NEED, n + len(idx_prev)),
        "CINclosureDate": np.concatenate(
            [close, np.minimum(prev[idx_prev] + 10 * D, ref[idx_prev] - D)]
        ),
        "ReasonForClosure": np.concatenate(
            [np.where(np.isnat(close), None, "RC1"), np.full(len(idx_prev), "RC8")]
        ),
        "ReferralNFA": np.full(n + len(idx_prev), "false"),
    }
    out = {"cin_details": _table(schemas["cin_details"], det)}
    out["child"] = _table(
        schemas["child"],
        {
            "LA": la,
            "YEAR": y,
            "CHILD": child,
            "PersonBirthDate": dob,
            "Sex": np.where(rng.random(n) < 0.53, "M", "F"),
            "Ethnicity": _pick(rng, ETHNIC, n),
        },
    )
    a = np.flatnonzero(rng.random(n) < 0.8)
    a_start = ref[a] + rng.integers(0, 5, len(a)) * D
    a_auth = a_start + np.maximum(1, np.exp(rng.normal(np.log(32), 0.45, len(a)))).astype(int) * D
    keep = a_auth <= year_end[a]
    a = a[keep]
    out["assessments"] = _table(
        schemas["assessments"],
        {
            "LA": la[a],
            "YEAR": y[a],
            "CHILD": child.take(pa.array(a)),
            "EPISODE": np.where(prior[a], 2, 1),
            "AssessmentActualStartDate": a_start[keep],
            "AssessmentAuthorisationDate": a_auth[keep],
        },
    )
    c = np.flatnonzero(rng.random(n) < 0.12)
    long_ = rng.random(len(c)) < 0.04
    c_start = np.where(
        long_,
        ref[c] - rng.integers(730, 1100, len(c)) * D,
        ref[c] + rng.integers(10, 60, len(c)) * D,
    )
    c_start = np.minimum(c_start, year_end[c])
    c_end = c_start + rng.integers(60, 600, len(c)) * D
    c_end = np.where((c_end <= year_end[c]) & ~long_, c_end, np.datetime64("NaT"))
    out["cp_plans"] = _table(
        schemas["cp_plans"],
        {
            "LA": la[c],
            "YEAR": y[c],
            "CHILD": child.take(pa.array(c)),
            "EPISODE": np.where(prior[c], 2, 1),
            "CPPstartDate": c_start,
            "CPPendDate": c_end,
            "InitialCategoryOfAbuse": np.full(len(c), "NEG"),
            "LatestCategoryOfAbuse": np.full(len(c), "NEG"),
            "NumberOfPreviousCPP": np.where(
                rng.random(len(c)) < 0.23, rng.integers(1, 3, len(c)), 0
            ),
        },
    )
    return out


# ------------------------------------------------------------------------------- writing


def write_parquet(
    tables: dict[str, pa.Table], folder: Path, population: pa.Table | None = None
) -> dict[str, int]:
    """One ``<table>/part-0.parquet`` per table (the layout the backends read).

    Rows are written as returns hold them: authority by authority, year by year, a child's rows
    together (a stable sort, so each child's episodes keep their order). Engines that group by
    child read such files faster than rows in drawing order."""
    from cspa.records.population import population_table

    folder = Path(folder)
    out = {}
    for name, t in {
        **tables,
        "population": population if population is not None else population_table(),
    }.items():
        keys = [k for k in ("LA", "YEAR", "CHILD") if k in t.column_names]
        t = t.sort_by([(k, "ascending") for k in keys])
        (folder / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(t, folder / name / "part-0.parquet", row_group_size=1_000_000)
        out[name] = t.num_rows
    return out


def write_903_csv(tables: dict[str, pa.Table], folder: Path, la: str, year: int) -> list[Path]:
    """One authority's return for one year in the 903 CSV extract layout (dd/mm/yyyy dates)."""
    spec = load_spec("ssda903_tables.yaml")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, tspec in spec["tables"].items():
        t = tables.get(name)
        if t is None:
            continue
        t = t.filter(pc.and_(pc.equal(t.column("LA"), la), pc.equal(t.column("YEAR"), year)))
        if t.num_rows == 0 and name not in ("header", "episodes"):
            continue
        cols = list(tspec["columns"]) + [
            c
            for c in (tspec.get("optional") or {})
            if c in t.column_names and t.column(c).null_count < t.num_rows
        ]
        arrays = []
        for c in cols:
            col = t.column(c)
            if pa.types.is_date(col.type):
                col = pc.strftime(pc.cast(col, pa.timestamp("s")), format="%d/%m/%Y")
            arrays.append(pc.cast(col, pa.string()))
        path = folder / tspec["csv"]
        import pyarrow.csv as pcsv

        pcsv.write_csv(
            pa.table(dict(zip(cols, arrays, strict=True))),
            path,
            pcsv.WriteOptions(quoting_style="needed"),
        )
        written.append(path)
    return written
