"""Load the real public data shipped in ``data/real/`` into a store: today's figures for all
153 authorities, the 2006/07-2016/17 exclusions of the 150 pre-2009 authorities, and Ofsted
inspection outcomes.

Observations go through :func:`cspa.store.ingest.load_files` (validate everything, then one
transaction per file), each with its source, vintage and licence. Where a file needs a small
pre-step it is done here, set-based, and the rows left out are counted and reported, never
silently dropped:

* the LAIT base data set: rows whose ``Years`` is not a period (CINPermExclusion's ``0``) or
  whose ``LA Number`` is not an area of the registry (LAIT's Inner/Outer London 987/988);
* the EES files load through their source mappings (``data/catalogue/sources``); the
  mappings leave out the Inner/Outer London sub-region rows, counted here;
* children in need rates per 10,000, derived from the b1 file and the ONS population of the
  previous mid-year (they need both files), written as the documented long format;
* exclusions (``clean_la_data.csv``): primary and secondary rates as observations of the
  seed indicators 3091DE and 3092DE, all-schools and special schools as ``dfe_csc``
  indicators; suppression markers (``x``, ``.``) stay statuses.

Ofsted inspection outcomes are not observations of an indicator: they go to tables of their
own (``inspection_la_history``, ``inspection_ilacs``, ``inspection_provider``), created here,
each written in one transaction and logged in ``load_log``.

    from cspa.store.database import Store
    from cspa.store.real_data import load_real_data
    store = Store.open(":memory:"); store.sync_reference(); summary = load_real_data(store)
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cspa.catalogue.areas import DATA, ENGLAND, AreaRegistry, _norm, load_areas
from cspa.catalogue.load import Catalogue, load_catalogue
from cspa.catalogue.periods import parse_period
from cspa.catalogue.yaml_file import load_yaml, read_yaml
from cspa.errors import CspaError
from cspa.store.database import Store
from cspa.store.ees import SOURCES
from cspa.store.ingest import _user, load_files

REAL = DATA / "real"
INDICATORS = REAL / "indicators"
INSPECTIONS = REAL / "inspections"
OGL = "Open Government Licence v3.0"

RELEASES = DATA / "catalogue" / "releases.yaml"


@dataclass(frozen=True)
class Release:
    """A public release cspa loads (``data/catalogue/releases.yaml``): its words for provenance."""

    name: str
    source: str
    vintage: str
    released: dt.date | None
    licence: str
    file: Path | None = None
    indicators: dict[str, str] = field(default_factory=dict)


@functools.cache
def releases() -> dict[str, Release]:
    """Every release named in ``releases.yaml``, checked for the fields provenance needs."""
    data = read_yaml(RELEASES)
    out = {}
    for name, r in data.items():
        missing = [k for k in ("vintage", "licence") if not r.get(k)]
        if missing:
            raise CspaError(f"{RELEASES.name}: release {name!r} has no {', '.join(missing)}")
        out[name] = Release(
            name=name,
            source=r.get("source", ""),
            vintage=r["vintage"],
            released=r.get("released"),
            licence=r["licence"],
            file=REAL / r["file"] if r.get("file") else None,
            indicators={str(k): str(v) for k, v in (r.get("indicators") or {}).items()},
        )
    return out


def _file(name: str) -> Path:
    path = releases()[name].file
    if path is None:
        raise CspaError(f"{RELEASES.name}: release {name!r} names no file")
    return path


LAIT_FILE = _file("lait")
LAIT_VINTAGE = releases()["lait"].vintage
LAIT_RELEASED = releases()["lait"].released
LAIT_SOURCE = releases()["lait"].source


def ees_files() -> list[tuple[str, str, str, str, dt.date | None]]:
    """(file, source, vintage, licence, released) of each EES file, from its mapping in
    ``data/catalogue/sources/`` (which also says how its columns become indicators), in load order."""
    specs = [read_yaml(p) for p in sorted(SOURCES.glob("*.yaml"))]
    specs.sort(key=lambda spec: (spec.get("load_order", 99), spec["file"]))
    return [
        (s["file"], s["source"], s["vintage"], s.get("licence") or OGL, s.get("released"))
        for s in specs
    ]


B1_FILE = "b1_children_in_need_2013_to_2025.csv"
ONS_FILE = "ons_mid-year_population_estimates_2012_to_2024.csv"
CIN_RATE_SOURCE = releases()["cin_rates"].source
CIN_RATE_VINTAGE = releases()["cin_rates"].vintage
CIN_RATE_RELEASED = releases()["cin_rates"].released

EXCLUSIONS_FILE = _file("exclusions")
EXCLUSIONS_VINTAGE = releases()["exclusions"].vintage
EXCLUSIONS_RELEASED = releases()["exclusions"].released
EXCLUSIONS_SOURCE = releases()["exclusions"].source
EXCLUSION_INDICATORS = releases()["exclusions"].indicators

ILACS_VINTAGE = releases()["ilacs"].vintage
CSC2023_VINTAGE = releases()["csc2023"].vintage
LA_HISTORY_FILE = (
    INSPECTIONS / "Childrens_social_care_in_England_2023__LA_inspections_2009-2023.csv"
)
PROVIDER_FILE = (
    INSPECTIONS / "Childrens_social_care_in_England_2023__Provider_level_at_31_Mar_2023.csv"
)
ILACS_HISTORY_FILE = (
    INSPECTIONS / "LA_Inspection_Outcomes_as_at_31_March_2025__ILACS_inspection_history.csv"
)
ILACS_LATEST_FILE = (
    INSPECTIONS / "LA_Inspection_Outcomes_as_at_31_March_2025__Inspections_as_at_31_March.csv"
)

# Ofsted's 4-point scale as DfE/Ofsted number it. The 2009-12 frameworks' "Adequate" is the
# third point (the 2023 data file already relabels it "Requires improvement to be good").
GRADES = {
    "outstanding": 1,
    "good": 2,
    "requires improvement to be good": 3,
    "requires improvement": 3,
    "adequate": 3,
    "inadequate": 4,
}
NOT_JUDGED = {"", "-", "n/a", "na", "not judged"}


# ---------------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _write_long_csv(path: Path, rows: list[dict]) -> None:
    cols = [
        "indicator",
        "measure",
        "area",
        "period",
        "value",
        "numerator",
        "denominator",
        "status",
        "note",
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c) for c in cols})


def _num(s: str | None) -> float | None:
    try:
        return float(str(s).replace(",", "").strip())
    except (TypeError, ValueError):
        return None


def _grade(label: str | None) -> tuple[int | None, str | None]:
    """(grade 1-4, label as published); (None, None) when nothing was judged."""
    text = " ".join((label or "").split())
    if text.lower() in NOT_JUDGED:
        return None, None
    g = GRADES.get(text.lower())
    if g is None:
        raise CspaError(f"unknown Ofsted grade {label!r}: expected one of {sorted(GRADES)}")
    return g, text


def _fix_load_log(store: Store, load_id: int, original: Path) -> None:
    """A pre-stepped file is loaded from a temporary copy; log the original file and its checksum."""
    store.con.execute(
        "UPDATE load_log SET file = ?, sha256 = ? WHERE load_id = ?",
        [str(original), _sha256(original), load_id],
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert rows (tuples in the table's column order) through Arrow: far faster than executemany."""
    if not rows:
        return
    cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    data = pa.table(
        {c: pa.array(list(v)) for c, v in zip(cols, zip(*rows, strict=True), strict=True)}
    )
    con.register("_rows", data)
    con.execute(f"INSERT INTO {table} SELECT * FROM _rows")
    con.unregister("_rows")


def _log_table_load(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, source: str, vintage: str, rows: int
) -> int:
    load_id = con.execute("SELECT nextval('load_seq')").fetchall()[0][0]
    con.execute(
        "INSERT INTO load_log (load_id, file, format, source, vintage, licence, rows, loaded_at, "
        "loaded_by, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, now(), ?, ?)",
        [load_id, str(path), fmt, source, vintage, OGL, rows, _user(), _sha256(path)],
    )
    return load_id


class _LaResolver:
    """LA name or code -> DfE LA number, era-aware: ``Dorset`` is 838 today and 835 before 2019."""

    def __init__(self, areas: AreaRegistry):
        self.areas = areas
        self.by_name: dict[str, list] = {}
        for a in areas:
            if a.type == "la":
                self.by_name.setdefault(_norm(a.name), []).append(a)

    def __call__(self, query: str | None, current: bool = True) -> str | None:
        q = (query or "").strip()
        if not q:
            return None
        cands = self.by_name.get(_norm(q), [])
        if len(cands) > 1:
            pref = [a for a in cands if a.in_2025 == current]
            if pref:
                return pref[0].code
        if cands:
            return cands[0].code
        try:
            a = self.areas.resolve(q)
        except CspaError:
            return None
        return a.code if a.type == "la" else None


def _summary(
    name: str,
    files: list[Path],
    rows_in_file: int,
    loaded: int,
    skipped: Counter,
    vintage: str,
    source: str,
    seconds: float,
    **extra,
) -> dict:
    return {
        "name": name,
        "files": [p.name for p in files],
        "source": source,
        "rows_in_file": rows_in_file,
        "rows_loaded": loaded,
        "rows_skipped": sum(skipped.values()),
        "skipped": dict(skipped),
        "vintage": vintage,
        "licence": OGL,
        "seconds": round(seconds, 2),
        **extra,
    }


# ---------------------------------------------------------------------------------- LAIT


def _load_lait(store: Store, tmp: Path, catalogue: Catalogue, areas: AreaRegistry) -> dict:
    t0 = time.perf_counter()
    con = duckdb.connect()
    raw = pq.read_table(LAIT_FILE)
    total = raw.num_rows
    con.register("bds", raw.append_column("_r", pa.array(range(total), pa.int64())))
    skipped: Counter = Counter()

    # Periods: each (indicator, Years) read with the indicator's year type.
    bad_periods: dict[tuple[str, str | None], str] = {}
    for code, years in con.execute('SELECT DISTINCT "Short Desc", "Years" FROM bds').fetchall():
        ind = catalogue.indicators.get(code)
        if ind is None:
            bad_periods[(code, years)] = f"Short Desc {code!r} is not in the LAIT catalogue"
            continue
        try:
            parse_period(years or "", ind.year_type.value)
        except CspaError:
            bad_periods[(code, years)] = f"{code}: Years {years!r} is not a period"
    # Areas: LAIT numbers the registry does not know (the Inner/Outer London sub-regions).
    bad_areas: dict[float | None, str] = {}
    for num, name in con.execute(
        'SELECT "LA Number", any_value("LA and Regions") FROM bds GROUP BY 1'
    ).fetchall():
        try:
            areas.resolve(str(int(num)))
        except (CspaError, TypeError, ValueError):
            bad_areas[num] = (
                f"LA Number {num if num is None else int(num)} ({name}) is not an area of the registry"
            )
    con.register(
        "bp",
        pa.table(
            {
                "c": pa.array([k[0] for k in bad_periods], pa.string()),
                "y": pa.array([k[1] for k in bad_periods], pa.string()),
                "reason": pa.array(list(bad_periods.values()), pa.string()),
            }
        ),
    )
    con.register(
        "ba",
        pa.table(
            {
                "n": pa.array(list(bad_areas), pa.float64()),
                "reason": pa.array(list(bad_areas.values()), pa.string()),
            }
        ),
    )
    # A row is skipped for its period first, else for its area (each row counted once).
    con.execute("""
        CREATE TEMP TABLE classified AS
        SELECT b.*, coalesce(bp.reason, ba.reason) AS _skip
        FROM bds b
        LEFT JOIN bp ON bp.c = b."Short Desc" AND bp.y IS NOT DISTINCT FROM b."Years"
        LEFT JOIN ba ON ba.n IS NOT DISTINCT FROM b."LA Number"
    """)
    for reason, n in con.execute(
        "SELECT _skip, count(*) FROM classified WHERE _skip IS NOT NULL GROUP BY 1"
    ).fetchall():
        skipped[reason] += n
    out = tmp / LAIT_FILE.name
    # _row: the row's number in LAIT's own file, so a problem names the row a user can find
    kept = con.sql(
        "SELECT * EXCLUDE (_skip, _r), _r + 1 AS _row FROM classified WHERE _skip IS NULL ORDER BY _r"
    ).to_arrow_table()
    pq.write_table(kept, out)
    con.close()
    res = load_files(
        store, [out], source=LAIT_SOURCE, vintage=LAIT_VINTAGE, licence=OGL, released=LAIT_RELEASED
    )
    _fix_load_log(store, res[0].load_id, LAIT_FILE)
    return _summary(
        "LAIT base data set",
        [LAIT_FILE],
        total,
        res[0].rows,
        skipped,
        LAIT_VINTAGE,
        LAIT_SOURCE,
        time.perf_counter() - t0,
        load_ids=[res[0].load_id],
    )


# ---------------------------------------------------------------------------------- EES


def _excluded_rows(path: Path) -> Counter:
    """Rows of an EES file its source mapping leaves out (``exclude``), counted by region."""
    spec = load_yaml((SOURCES / f"{path.stem}.yaml").read_text(encoding="utf-8"))
    out: Counter = Counter()
    rows = _read_csv(path)
    for e in spec.get("exclude") or []:
        for r in rows:
            if all((r.get(k) in v) if isinstance(v, list) else r.get(k) == v for k, v in e.items()):
                out[
                    f"{r.get('geographic_level')} {r.get('region_code')} ({r.get('region_name')}): "
                    "sub-region not in the area registry"
                ] += 1
    return out


def _load_ees(store: Store) -> list[dict]:
    out = []
    for name, source, vintage, licence, released in ees_files():
        t0 = time.perf_counter()
        path = INDICATORS / name
        total = sum(1 for _ in _read_csv(path))
        skipped = _excluded_rows(path)
        res = load_files(
            store, [path], source=source, vintage=vintage, licence=licence, released=released
        )
        out.append(
            _summary(
                path.stem,
                [path],
                total,
                res[0].rows,
                skipped,
                vintage,
                source,
                time.perf_counter() - t0,
                load_ids=[res[0].load_id],
            )
        )
    return out


def _cin_rates(store: Store, tmp: Path) -> dict:
    """CIN at 31 March and starting, per 10,000 children: b1 count / ONS 0-17 population of the previous mid-year."""
    t0 = time.perf_counter()
    b1, ons = INDICATORS / B1_FILE, INDICATORS / ONS_FILE
    excl = ("E13000001", "E13000002")
    con = duckdb.connect()

    def area(level: str, region: str, la: str) -> str | None:
        return {"National": ENGLAND, "Regional": region, "Local authority": la}.get(level)

    pop: dict[tuple[str, int], str] = {}
    for r in _read_csv(ons):
        a = area(r["geographic_level"], r["region_code"], r["old_la_code"])
        if a and a not in excl:
            pop[(a, int(r["time_period"]))] = r["population_estimate"].strip()
    rows: list[dict[str, str | None]] = []
    skipped: Counter[str] = Counter()
    total = 0
    for r in _read_csv(b1):
        total += 1
        a = area(r["geographic_level"], r["region_code"], r["old_la_code"])
        if a is None or a in excl:
            skipped[
                f"{r['geographic_level']} {r['region_code']} ({r['region_name']}): sub-region not in the area registry"
            ] += 1
            continue
        year = int(r["time_period"])
        den = pop.get((a, year - 1))
        for ind, col in (("CIN_31MAR", "At31_episodes"), ("CIN_STARTED", "Started_episodes")):
            num = r[col].strip()
            row: dict[str, str | None] = {
                "indicator": ind,
                "measure": "rate",
                "area": a,
                "period": str(year),
            }
            n, d = _num(num), _num(den)
            if n is None:
                row["status"] = num or ".."
            elif d is None or d == 0:
                row["status"] = den if den and _num(den) is None else ".."
                row["note"] = f"no ONS 0-17 population for mid-{year - 1}"
            else:
                row.update(value=f"{n / d * 10000:.1f}", numerator=num, denominator=den)
            rows.append(row)
    con.close()
    out = tmp / "cin_rates_per_10000_derived.csv"
    _write_long_csv(out, rows)
    res = load_files(
        store,
        [out],
        source=CIN_RATE_SOURCE,
        vintage=CIN_RATE_VINTAGE,
        licence=OGL,
        released=CIN_RATE_RELEASED,
    )
    _fix_load_log(store, res[0].load_id, b1)
    return _summary(
        "children in need rates per 10,000 (derived)",
        [b1, ons],
        total,
        res[0].rows,
        skipped,
        CIN_RATE_VINTAGE,
        CIN_RATE_SOURCE,
        time.perf_counter() - t0,
        load_ids=[res[0].load_id],
    )


# ---------------------------------------------------------------------------------- exclusions


def _exclusions(store: Store, tmp: Path, catalogue: Catalogue, areas: AreaRegistry) -> dict:
    t0 = time.perf_counter()
    for code in EXCLUSION_INDICATORS.values():
        ind = catalogue.get(code)  # raises naming the code if a definition is missing
        missing = {"fixed", "permanent"} - set(ind.measure_ids())
        if missing:
            raise CspaError(
                f"{code} must have measures fixed and permanent for the exclusions data; it has "
                f"{ind.measure_ids()}"
            )
    resolve = _LaResolver(areas)
    rows: list[dict] = []
    skipped: Counter[str] = Counter()
    total = 0
    for r in _read_csv(EXCLUSIONS_FILE):
        total += 1
        level, name = r["level"].strip(), r["la_name"].strip()
        if level == "National":
            a = ENGLAND if name.lower() == "england" else None
        elif level == "Local authority":
            a = resolve(name, current=False)
        else:
            try:
                ar = areas.resolve(name)
                a = ar.code if ar.type == "region" else None
            except CspaError:
                a = None
        if a is None:
            skipped[f"{level} {name!r}: not an area of the registry"] += 1
            continue
        indicator = EXCLUSION_INDICATORS.get(r["school_type"].strip())
        if indicator is None:
            skipped[f"school_type {r['school_type']!r} has no indicator"] += 1
            continue
        y = r["year"].strip()
        period = f"{y[:4]}/{y[4:]}"  # 200607 -> 2006/07 (academic year)
        head = r["headcount"].strip()
        for measure, num_col, rate_col in (
            ("fixed", "fixed_excl", "fixed_excl_rate"),
            ("permanent", "perm_excl", "perm_excl_rate"),
        ):
            rate, num = r[rate_col].strip(), r[num_col].strip()
            row = {"indicator": indicator, "measure": measure, "area": a, "period": period}
            if _num(rate) is None:
                row["status"] = rate or ".."
            else:
                row["value"] = rate
            if _num(num) is not None and (_num(head) or 0) > 0:
                row.update(numerator=num, denominator=head)
            elif "value" not in row and _num(num) is not None and _num(head) == 0:
                row["note"] = "headcount 0"
            rows.append(row)
    out = tmp / "clean_la_data_exclusions.csv"
    _write_long_csv(out, rows)
    res = load_files(
        store,
        [out],
        source=EXCLUSIONS_SOURCE,
        vintage=EXCLUSIONS_VINTAGE,
        licence=OGL,
        released=EXCLUSIONS_RELEASED,
    )
    _fix_load_log(store, res[0].load_id, EXCLUSIONS_FILE)
    by_ind = Counter(r["indicator"] for r in rows)
    return _summary(
        "exclusions 2006/07-2016/17",
        [EXCLUSIONS_FILE],
        total,
        res[0].rows,
        skipped,
        EXCLUSIONS_VINTAGE,
        EXCLUSIONS_SOURCE,
        time.perf_counter() - t0,
        load_ids=[res[0].load_id],
        by_indicator=dict(by_ind),
    )


# ---------------------------------------------------------------------------------- inspections

INSPECTION_DDL = """
CREATE TABLE IF NOT EXISTS inspection_la_history (
    la_code VARCHAR, la_name VARCHAR NOT NULL, la_status VARCHAR, la_region VARCHAR, la_authority_type VARCHAR,
    framework VARCHAR NOT NULL, inspection VARCHAR NOT NULL, inspection_type VARCHAR, publication_date DATE,
    judgement VARCHAR NOT NULL, grade INTEGER, grade_label VARCHAR NOT NULL, source_column VARCHAR, note VARCHAR,
    source VARCHAR, vintage VARCHAR, licence VARCHAR, load_id INTEGER, row_no INTEGER
);
CREATE TABLE IF NOT EXISTS inspection_ilacs (
    dataset VARCHAR NOT NULL, la_code VARCHAR, ons_code VARCHAR, la_name VARCHAR NOT NULL, la_status VARCHAR,
    ofsted_region VARCHAR, inspection_date DATE, publication_date DATE, inspection_type VARCHAR,
    overall_grade INTEGER, overall_label VARCHAR,
    leaders_grade INTEGER, leaders_label VARCHAR,
    help_and_protection_grade INTEGER, help_and_protection_label VARCHAR,
    children_in_care_grade INTEGER, children_in_care_label VARCHAR,
    care_leavers_grade INTEGER, care_leavers_label VARCHAR,
    source VARCHAR, vintage VARCHAR, licence VARCHAR, load_id INTEGER, row_no INTEGER
);
CREATE TABLE IF NOT EXISTS inspection_provider (
    urn VARCHAR NOT NULL, linked_education_urn VARCHAR, provision_type VARCHAR, registration_date DATE,
    registration_status VARCHAR, name VARCHAR, address_1 VARCHAR, address_2 VARCHAR, town VARCHAR, county VARCHAR,
    postcode VARCHAR, ofsted_region VARCHAR, gor VARCHAR, la_name VARCHAR, la_code VARCHAR, constituency VARCHAR,
    sector VARCHAR, places INTEGER, short_break_only BOOLEAN, multi_building BOOLEAN, owner_organisation VARCHAR,
    inspection_event_type VARCHAR, inspection_date DATE, publication_date DATE, inspection_event_number VARCHAR,
    overall_grade INTEGER, overall_label VARCHAR,
    education_grade INTEGER, education_label VARCHAR,
    health_grade INTEGER, health_label VARCHAR,
    help_and_protection_grade INTEGER, help_and_protection_label VARCHAR,
    leaders_grade INTEGER, leaders_label VARCHAR,
    source VARCHAR, vintage VARCHAR, licence VARCHAR, load_id INTEGER, row_no INTEGER
);
"""

_SIF_JUDGEMENTS = [
    ("overall_effectiveness", "Overall Judgement (OE)"),
    ("help_and_protection", "children who need help and protection"),
    ("looked_after_and_permanence", "children looked after and achieving permanence"),
    ("adoption", "CLA Sub: Adoption Performance"),
    ("care_leavers", "CLA Sub: Experiences and progress of care leavers"),
    ("leadership_management_governance", "leadership, management and governance"),
]
_SIF = "Single Inspection of LA Children's Services (SIF)"
# (framework, inspection, date column, type column, [(judgement, column)], note)
LA_HISTORY_LAYOUT: list[tuple[str, str, str, str | None, list[tuple[str, str]], str | None]] = [
    (
        "SLAC",
        "Safeguarding and Looked After Children inspection",
        "Safeguarding & Looked After Children (SLAC) Inspection publication date",
        None,
        [
            ("safeguarding_overall_effectiveness", "SLAC Safeguarding Overall effectiveness (OE)"),
            (
                "looked_after_children_overall_effectiveness",
                "SLAC Looked After Children Overall Effectiveness (OE)",
            ),
        ],
        None,
    ),
    (
        "SLAC",
        "SLAC re-inspection of safeguarding",
        "SLAC re-inspection of Safeguarding publication date",
        None,
        [("safeguarding_overall_effectiveness", "SLAC re-inspection Safeguarding OE")],
        None,
    ),
    (
        "SLAC",
        "SLAC re-inspection of services for children looked after",
        "SLAC re-inspection of services for Children Looked After publication date",
        None,
        [
            (
                "looked_after_children_overall_effectiveness",
                "SLAC re-inspection of services Children Looked After OE",
            )
        ],
        None,
    ),
    (
        "CPI",
        "Child protection inspection",
        "Child Protection Inspections (CPI) publication date",
        None,
        [("overall_effectiveness", "CPI Overall Effectiveness (OE)")],
        None,
    ),
    (
        "CPI",
        "Child protection re-inspection (CPRI)",
        "Child Protection Re-Inspection (CPRI) publication date",
        None,
        [("overall_effectiveness", "CPRI Overall Effectiveness (OE)")],
        None,
    ),
    (
        "TLAC",
        "Targeted looked after children inspection",
        "Targeted Looked After Children (TLAC) inspection publication date",
        None,
        [("overall_effectiveness", "TLAC Overall Effectiveness (OE)")],
        None,
    ),
    (
        "SIF",
        "First SIF",
        f"{_SIF} First SIF publication date",
        None,
        [(j, f"First SIF {c}") for j, c in _SIF_JUDGEMENTS],
        None,
    ),
    (
        "LSCB",
        "LSCB review",
        f"{_SIF} First SIF publication date",
        None,
        [("overall_effectiveness", "LSCB Overall Effectiveness")],
        "the file gives no date for the LSCB review: it was reviewed alongside the SIF, whose publication date is used",
    ),
    (
        "SIF",
        "SIF re-inspection",
        f"{_SIF} SIF Re-inspection publication date",
        None,
        [(j, f"SIF Re-inspection {c}") for j, c in _SIF_JUDGEMENTS],
        None,
    ),
    (
        "ILACS",
        "First ILACS",
        "First ILACS framework publication date",
        "First ILACS framework inspection type",
        [
            ("overall_effectiveness", "First ILACS framework overall effectiveness"),
            ("impact_of_leaders", "First ILACS framework impact of leaders"),
            (
                "help_and_protection",
                "First ILACS framework experiences and progress of children who need help and protection",
            ),
            (
                "children_in_care_and_care_leavers",
                "First ILACS framework experiences and progress of children in care and care leavers",
            ),
        ],
        None,
    ),
    (
        "ILACS",
        "Second ILACS",
        "Second ILACS framework publication date",
        "Second ILACS framework inspection type",
        [
            ("overall_effectiveness", "Second ILACS framework overall effectiveness"),
            ("impact_of_leaders", "Second ILACS framework impact of leaders"),
            (
                "help_and_protection",
                "Second ILACS framework experiences and progress of children who need help and protection",
            ),
            (
                "children_in_care",
                "Second ILACS framework experiences and progress of children in care",
            ),
            ("care_leavers", "Second ILACS framework experiences and progress of care leavers"),
        ],
        None,
    ),
]
LA_HISTORY_KEYS = ["la_status", "Local authority name", "LA region", "LA Authority Type"]

ILACS_COLUMNS = {
    "overall": "Overall effectiveness",
    "leaders": "The impact of leaders on social work practice with children and families",
    "help_and_protection": "The experiences and progress of children who need help and protection",
    "children_in_care": "The experiences and progress of children in care",
    "care_leavers": "The experiences and progress of care leavers",
}
PROVIDER_JUDGEMENTS = {
    "overall": "Overall experiences and progress of children and young people",
    "education": "Outcomes in education and related learning activities",
    "health": "Health services",
    "help_and_protection": "How well children and young people are helped and protected",
    "leaders": "The effectiveness of leaders and managers",
}


def _date(s: str | None) -> str | None:
    s = (s or "").strip()
    return s[:10] if s else None


def _check_columns(path: Path, rows: list[dict], expected: set[str]) -> None:
    cols = set(rows[0]) if rows else set()
    unknown, missing = cols - expected, expected - cols
    if unknown or missing:
        raise CspaError(
            f"{path.name}: unexpected layout (unknown columns {sorted(unknown)}, "
            f"missing {sorted(missing)}); update cspa.store.real_data"
        )


def _la_history_rows(resolve: _LaResolver, skipped: Counter) -> tuple[list[tuple], int]:
    rows = _read_csv(LA_HISTORY_FILE)
    expected = set(LA_HISTORY_KEYS)
    for _, _, dcol, tcol, judgements, _ in LA_HISTORY_LAYOUT:
        expected |= {dcol, *(c for _, c in judgements)} | ({tcol} if tcol else set())
    _check_columns(LA_HISTORY_FILE, rows, expected)
    out = []
    for n, r in enumerate(rows, start=2):
        current = r["la_status"].strip().lower() == "current"
        code = resolve(r["Local authority name"], current=current)
        if code is None:
            skipped[
                f"LA {r['Local authority name']!r} not in the area registry (kept, la_code empty)"
            ] += 1
        for framework, inspection, dcol, tcol, judgements, note in LA_HISTORY_LAYOUT:
            for judgement, col in judgements:
                grade, label = _grade(r.get(col))
                if label is None:
                    if (r.get(col) or "").strip():
                        skipped[
                            f"cells (not rows) printed '{r[col].strip()}' (no judgement) in {framework} columns"
                        ] += 1
                    continue
                out.append(
                    (
                        code,
                        r["Local authority name"].strip(),
                        r["la_status"].strip(),
                        r["LA region"].strip(),
                        r["LA Authority Type"].strip(),
                        framework,
                        inspection,
                        (r.get(tcol) or "").strip() or None if tcol else None,
                        _date(r.get(dcol)),
                        judgement,
                        grade,
                        label,
                        col,
                        note,
                        n,
                    )
                )
    return out, len(rows)


def _ilacs_rows(
    path: Path, dataset: str, resolve: _LaResolver, areas: AreaRegistry, skipped: Counter
) -> list[tuple]:
    rows = _read_csv(path)
    base = {
        "Local authority area code",
        "Local authority name",
        "Ofsted region",
        "Inspection date",
        "Publication date",
    }
    extra = {"Local authority status", "Inspection type"} if dataset == "history" else set()
    _check_columns(path, rows, base | extra | set(ILACS_COLUMNS.values()))
    out = []
    for n, r in enumerate(rows, start=2):
        ons = r["Local authority area code"].strip()
        try:
            a = areas.resolve(ons)
            code = a.code if a.type == "la" else None
        except CspaError:
            code = resolve(r["Local authority name"], current=dataset != "history")
        if code is None:
            skipped[
                f"{dataset}: LA {r['Local authority name']!r} ({ons}) not in the area registry (kept, la_code empty)"
            ] += 1
        grades = []
        for col in ILACS_COLUMNS.values():
            grades += list(_grade(r.get(col)))
        out.append(
            (
                dataset,
                code,
                ons,
                r["Local authority name"].strip(),
                (r.get("Local authority status") or "Current").strip(),
                r["Ofsted region"].strip(),
                _date(r["Inspection date"]),
                _date(r["Publication date"]),
                (r.get("Inspection type") or "").strip() or None,
                *grades,
                n,
            )
        )
    return out


def _provider_rows(resolve: _LaResolver, skipped: Counter) -> list[tuple]:
    rows = _read_csv(PROVIDER_FILE)
    out = []
    for n, r in enumerate(rows, start=2):

        def g(col, r=r):
            return (r.get(col) or "").strip() or None

        la = g("Local authority")
        code = resolve(la, current=True)
        if code is None:
            skipped[f"provider LA {la!r} not in the area registry (kept, la_code empty)"] += 1
        places = _num(g("Places"))
        grades = []
        for col in PROVIDER_JUDGEMENTS.values():
            grades += list(_grade(r.get(col)))
        out.append(
            (
                g("URN"),
                g("Linked Education URN"),
                g("Provision type"),
                _date(g("Registration date")),
                g("Registration status"),
                g("Name"),
                g("Address 1"),
                g("Address 2"),
                g("Town"),
                g("County"),
                g("Postcode"),
                g("Ofsted region"),
                g("Government Office Region"),
                la,
                code,
                g("Parliamentary constituency"),
                g("Sector"),
                int(places) if places is not None else None,
                g("Short-break-only children's home") is not None,
                (g("Multi-building children's home") or "") == "Y",
                g("Organisation which owns the provider"),
                g("Latest full inspection event type"),
                _date(g("Latest full inspection date")),
                _date(g("Latest full inspection publication date")),
                g("Latest full inspection event number"),
                *grades,
                n,
            )
        )
    return out


def _load_inspections(store: Store, areas: AreaRegistry) -> list[dict]:
    resolve = _LaResolver(areas)
    con = store.con
    con.execute(INSPECTION_DDL)
    summaries = []

    # Read and check all three sources first (seconds are the time to read each), then write them together.
    t0 = time.perf_counter()
    sk_hist: Counter = Counter()
    hist, hist_in = _la_history_rows(resolve, sk_hist)
    t1 = time.perf_counter()
    sk_ilacs: Counter = Counter()
    ilacs_h = _ilacs_rows(ILACS_HISTORY_FILE, "history", resolve, areas, sk_ilacs)
    ilacs_l = _ilacs_rows(ILACS_LATEST_FILE, "latest_at_31_march_2025", resolve, areas, sk_ilacs)
    t2 = time.perf_counter()
    sk_prov: Counter = Counter()
    prov = _provider_rows(resolve, sk_prov)
    t3 = time.perf_counter()

    with store.transaction() as c:
        for t in ("inspection_la_history", "inspection_ilacs", "inspection_provider"):
            c.execute(f"DELETE FROM {t}")
        src = "Ofsted Children's social care data in England 2023, LA_inspections_2009-2023"
        lid = _log_table_load(
            c, LA_HISTORY_FILE, "ofsted_la_inspections", src, CSC2023_VINTAGE, len(hist)
        )
        _insert(
            c,
            "inspection_la_history",
            [(*r[:-1], src, CSC2023_VINTAGE, OGL, lid, r[-1]) for r in hist],
        )
        summaries.append(
            _summary(
                "Ofsted LA inspections 2009-2023",
                [LA_HISTORY_FILE],
                hist_in,
                len(hist),
                sk_hist,
                CSC2023_VINTAGE,
                src,
                t1 - t0,
                table="inspection_la_history",
                load_ids=[lid],
            )
        )
        ids = []
        for path, rows, src in (
            (
                ILACS_HISTORY_FILE,
                ilacs_h,
                "Ofsted LA inspection outcomes as at 31 March 2025, ILACS_inspection_history",
            ),
            (
                ILACS_LATEST_FILE,
                ilacs_l,
                "Ofsted LA inspection outcomes as at 31 March 2025, Inspections_as_at_31_March",
            ),
        ):
            lid = _log_table_load(c, path, "ofsted_ilacs", src, ILACS_VINTAGE, len(rows))
            ids.append(lid)
            _insert(
                c,
                "inspection_ilacs",
                [(*r[:-1], src, ILACS_VINTAGE, OGL, lid, r[-1]) for r in rows],
            )
        summaries.append(
            _summary(
                "Ofsted ILACS history and outcomes at 31 March 2025",
                [ILACS_HISTORY_FILE, ILACS_LATEST_FILE],
                len(ilacs_h) + len(ilacs_l),
                len(ilacs_h) + len(ilacs_l),
                sk_ilacs,
                ILACS_VINTAGE,
                "Ofsted LA inspection outcomes as at 31 March 2025",
                t2 - t1,
                table="inspection_ilacs",
                by_dataset={"history": len(ilacs_h), "latest_at_31_march_2025": len(ilacs_l)},
                load_ids=ids,
            )
        )
        src = "Ofsted Children's social care data in England 2023, Provider_level_at_31_Mar_2023"
        lid = _log_table_load(c, PROVIDER_FILE, "ofsted_providers", src, CSC2023_VINTAGE, len(prov))
        _insert(
            c,
            "inspection_provider",
            [(*r[:-1], src, CSC2023_VINTAGE, OGL, lid, r[-1]) for r in prov],
        )
        summaries.append(
            _summary(
                "Ofsted provider outcomes at 31 March 2023",
                [PROVIDER_FILE],
                len(prov),
                len(prov),
                sk_prov,
                CSC2023_VINTAGE,
                src,
                t3 - t2,
                table="inspection_provider",
                load_ids=[lid],
            )
        )
    write_s = time.perf_counter() - t3
    for sm in summaries:  # the one transaction's time, shared out by rows
        sm["seconds"] = round(
            sm["seconds"]
            + write_s
            * sm["rows_loaded"]
            / max(1, len(hist) + len(ilacs_h) + len(ilacs_l) + len(prov)),
            2,
        )
    return summaries


# ---------------------------------------------------------------------------------- entry point


def load_real_data(store: Store, progress=None) -> list[dict]:
    """Load every real data set shipped in ``data/real`` into ``store``; one summary dict per source.

    Each summary has ``name``, ``files``, ``source``, ``rows_in_file`` (input rows), ``rows_loaded``
    (observations or table rows written), ``rows_skipped`` and ``skipped`` (reason -> rows), ``vintage``,
    ``licence`` and ``seconds``. ``progress``, if given, is called with each summary as it completes.
    Re-running supersedes the observations (history kept) and replaces the inspection tables.
    """
    # fetchall, not Store.count: with DuckDB 2 a fetchone() leaves the result open and a later
    # con.register() (inside load_files) refuses to run.
    if store.con.execute("SELECT count(*) FROM area").fetchall()[0][0] == 0:
        store.sync_reference()
    catalogue = load_catalogue()
    areas = load_areas()
    summaries: list[dict] = []

    def done(items):
        for s in items if isinstance(items, list) else [items]:
            summaries.append(s)
            if progress:
                progress(s)

    with tempfile.TemporaryDirectory(prefix="cspa-real-") as d:
        tmp = Path(d)
        done(_load_lait(store, tmp, catalogue, areas))
        done(_load_ees(store))
        done(_cin_rates(store, tmp))
        done(_exclusions(store, tmp, catalogue, areas))
    done(_load_inspections(store, areas))
    return summaries


def main() -> int:  # pragma: no cover - convenience for `python -m cspa.store.real_data [DB]`
    import sys

    path = sys.argv[1] if len(sys.argv) > 1 else None
    with Store.open(path) as store:
        store.sync_reference()
        t0 = time.perf_counter()
        for s in load_real_data(
            store,
            progress=lambda s: print(
                f"{s['name']}: {s['rows_loaded']:,} loaded, {s['rows_skipped']:,} skipped ({s['seconds']}s)"
            ),
        ):
            for reason, n in s["skipped"].items():
                print(f"    skipped {n:,}: {reason}")
        print(f"total {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
