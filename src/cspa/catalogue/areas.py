"""Areas: the English local authorities of 2007-08 and of 2025, regions, England, and the
other geographies the seeds print (PCTs, NHS trusts, drug action teams, benchmark groups ...).

Reference data, not code: built from ``data/real/areas/*.csv`` (DfE/ONS/mySociety) and
``data/areas/seed_geographies*.csv``. Every area has one canonical code: the DfE LA number
for local authorities (``821``), the ONS code for regions, England and Great Britain, and a
typed code for the rest (``PCT:LUTON``). :meth:`AreaRegistry.resolve` accepts a name (any
case), a DfE number or an ONS code, and suggests close matches when nothing matches.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

from cspa.errors import AreaNotFound, CatalogueError

DATA = Path(__file__).resolve().parents[1] / "data"

REGIONS = {
    # ONS code: (name, LAIT number)
    "E12000001": ("North East", 980),
    "E12000002": ("North West", 981),
    "E12000003": ("Yorkshire and The Humber", 982),
    "E12000004": ("East Midlands", 983),
    "E12000005": ("West Midlands", 984),
    "E12000006": ("East of England", 985),
    "E12000007": ("London", 986),
    "E12000008": ("South East", 989),
    "E12000009": ("South West", 990),
}
ENGLAND = "E92000001"
GREAT_BRITAIN = "K03000001"
SN_PREFIX = "SN:"


def _norm(s: str) -> str:
    s = s.lower().replace("&", "and").replace("\u2019", "'")
    s = re.sub(
        r"\(pre lgr 2009\)|\(pre lg\)|\bcity of\b|\bcouncil\b|\bborough\b|\bcounty\b", " ", s
    )
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    type: str  # la | region | country | pct | trust | dat | yot | benchmark_group | sn_group | ...
    dfe_code: str | None = None
    ons_code: str | None = None
    region_code: str | None = None
    la_type: str | None = None
    in_2008: bool = False
    in_2025: bool = False
    successors: tuple[str, ...] = ()
    lat: float | None = None
    long: float | None = None
    lait_number: int | None = None
    parent: str | None = None
    note: str | None = None
    #: the day the authority began (mySociety's start date; None: before the lists begin) and the
    #: day it ceased, its successors' first day (None: it still exists)
    start: dt.date | None = None
    end: dt.date | None = None
    # when the authority existed, and the span DfE publishes figures for it over (back-cast for a
    # new authority, cohort and joint-return figures after an old one went): data/areas/la_lifetimes.csv
    exists_from: date | None = None
    exists_until: date | None = None
    figures_from: date | None = None
    figures_until: date | None = None
    lifetime_note: str | None = None

    @property
    def region_name(self) -> str | None:
        return REGIONS.get(self.region_code or "", (None,))[0]

    def existed_in(self, year: int) -> bool:
        """Whether the authority existed on any day of ``year`` (Bournemouth, which ended on
        1 April 2019, and Bournemouth, Christchurch and Poole, which began then, both existed in
        2019; Northamptonshire did not in 2022). The dated lifetimes of ``la_lifetimes.csv`` take
        precedence over the dates derived from mySociety's list and the successors."""
        began = self.exists_from or self.start
        last = self.exists_until or (self.end - dt.timedelta(days=1) if self.end else None)
        return (began is None or began <= dt.date(year, 12, 31)) and (
            last is None or last >= dt.date(year, 1, 1)
        )

    def figures_outside(self, start: date | None, end: date | None) -> str | None:
        """Why a figure for a period from ``start`` to ``end`` cannot be this area's, or None."""
        if self.figures_until and start and start > self.figures_until:
            gone = f"ceased on {self.exists_until:%d %B %Y}" if self.exists_until else "ceased"
            return (
                f"{self.name} ({self.code}) {gone}: DfE publishes figures for it up to "
                f"{self.figures_until:%d %B %Y}, and this period starts {start:%d %B %Y}"
            )
        if self.figures_from and end and end < self.figures_from:
            began = (
                f"was created on {self.exists_from:%d %B %Y}"
                if self.exists_from
                else "did not exist yet"
            )
            return (
                f"{self.name} ({self.code}) {began}: figures for it begin {self.figures_from:%d %B %Y}, "
                f"and this period ends {end:%d %B %Y}"
            )
        return None


@dataclass
class AreaRegistry:
    areas: dict[str, Area] = field(default_factory=dict)
    _index: dict[str, str] = field(default_factory=dict)

    def add(self, a: Area) -> None:
        if a.code in self.areas and self.areas[a.code] != a:
            old = self.areas[a.code]
            if (old.name, old.type) != (a.name, a.type):
                raise CatalogueError(
                    f"area code {a.code!r} declared twice with different names/types: {old.name!r}/{a.name!r}"
                )
        self.areas[a.code] = a
        for key in {
            a.code,
            a.name,
            a.dfe_code,
            a.ons_code,
            str(a.lait_number) if a.lait_number else None,
        }:
            if key:
                self._index.setdefault(_norm(key), a.code)
                self._index.setdefault(key.lower(), a.code)

    def __iter__(self):
        return iter(self.areas.values())

    def __len__(self) -> int:
        return len(self.areas)

    def get(self, code: str) -> Area | None:
        return self.areas.get(code)

    def local_authorities(self, era: str | None = None) -> list[Area]:
        las = [a for a in self.areas.values() if a.type == "la"]
        if era == "2008":
            las = [a for a in las if a.in_2008]
        elif era == "2025":
            las = [a for a in las if a.in_2025]
        return sorted(las, key=lambda a: a.name)

    def resolve(self, query: str) -> Area:
        """The area a user means by ``query``: a name (any case), DfE number, ONS code or area code.

        ``SN:<group>:<la>`` names the published statistical-neighbour figure of an LA's group.
        """
        q = str(query).strip()
        if q.upper().startswith(SN_PREFIX):
            return self.sn_area(q)
        if q.lower() == "england":
            return self.areas[ENGLAND]
        code = (
            (q if q in self.areas else None)
            or self._index.get(q.lower())
            or self._index.get(_norm(q))
        )
        if code:
            return self.areas[code]
        names = {a.name: a for a in self.areas.values() if a.type in ("la", "region", "country")}
        close = difflib.get_close_matches(q, list(names), n=4, cutoff=0.6)
        close += [n for n in names if q.lower() in n.lower() and n not in close][: 4 - len(close)]
        raise AreaNotFound(q, [f"{n} ({names[n].code})" for n in close])

    def sn_area(self, code: str) -> Area:
        parts = code.split(":")
        if len(parts) != 3:
            raise AreaNotFound(code, [])
        _, group, la = parts
        base = self.resolve(la)
        return Area(
            code=f"SN:{group}:{base.code}",
            name=f"{base.name} statistical neighbours ({group})",
            type="sn_group",
            parent=base.code,
            region_code=base.region_code,
        )


def _date_reorganisations(
    reg: AreaRegistry,
    rows08: dict[str, dict[str, str]],
    rows25: dict[str, dict[str, str]],
    starts: dict[str, dt.date],
) -> None:
    """Date the authorities created and abolished between the 2007-08 and 2025 lists: one created
    since 2008 began on mySociety's start date for its ONS code; one abolished ended on its
    successors' first day (``successor_dfe_codes`` of the 2007-08 list)."""
    import dataclasses

    for dfe in set(rows25) - set(rows08):
        a = reg.areas[dfe]
        if a.ons_code in starts:
            reg.areas[dfe] = dataclasses.replace(a, start=starts[a.ons_code])
    for dfe in set(rows08) - set(rows25):
        a = reg.areas[dfe]
        began = [reg.areas[s].start for s in a.successors if s in reg.areas]
        if began and all(began):
            reg.areas[dfe] = dataclasses.replace(a, end=min(d for d in began if d))


def _f(s: str | None) -> float | None:
    try:
        return float(s) if s not in (None, "") else None
    except ValueError:
        return None


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def load_areas(data_dir: Path = DATA) -> AreaRegistry:
    """Build the registry from the shipped reference files (cached: the files do not change at run time)."""

    reg = AreaRegistry()
    reg.add(Area(ENGLAND, "England", "country", ons_code=ENGLAND, lait_number=970))
    reg.add(Area(GREAT_BRITAIN, "Great Britain", "country", ons_code=GREAT_BRITAIN))
    for code, (name, num) in REGIONS.items():
        reg.add(Area(code, name, "region", ons_code=code, region_code=code, lait_number=num))
    region_by_name = {_norm(n): c for c, (n, _) in REGIONS.items()}

    coords: dict[str, tuple[float | None, float | None]] = {}
    starts: dict[str, dt.date] = {}  # ONS code -> the day mySociety says the authority began
    for row in _read(data_dir / "real" / "areas" / "uk_local_authorities.csv"):
        old_code = (row.get("old-ons-la-code") or "").split(".")[0]
        lat, long = _f(row.get("lat")), _f(row.get("long"))
        for key in (row.get("gss-code"), old_code if old_code.isdigit() else None):
            if key and lat is not None:
                coords.setdefault(key, (lat, long))
        if row.get("gss-code") and row.get("start-date"):
            starts[row["gss-code"]] = dt.date.fromisoformat(row["start-date"])

    rows25 = {
        r["dfe_la_code"]: r
        for r in _read(data_dir / "real" / "areas" / "english_upper_tier_las_2025.csv")
    }
    rows08 = {
        r["dfe_la_code"]: r for r in _read(data_dir / "real" / "areas" / "english_las_2007_08.csv")
    }
    for dfe in sorted(set(rows25) | set(rows08), key=int):
        r25, r08 = rows25.get(dfe), rows08.get(dfe)
        # every code comes from one of the two lists, so a code missing from 2025 is in 2007-08
        name = (r25 or {}).get("la_name") or re.sub(
            r"\s*\(Pre LGR 2009\)", "", (r08 or {})["la_name_2007_08"]
        )
        ons = (r25 or {}).get("ons_code") or (r08 or {}).get("ons_gss_code_of_entity") or None
        region = (r25 or {}).get("region_code") or region_by_name.get(
            _norm((r08 or {}).get("region_name", ""))
        )
        lat, long = coords.get(ons or "", coords.get(dfe, (None, None)))
        successors = tuple(
            s
            for s in re.split(r"[;|, ]+", (r08 or {}).get("successor_dfe_codes", ""))
            if s and s != dfe
        )
        reg.add(
            Area(
                code=dfe,
                name=name,
                type="la",
                dfe_code=dfe,
                ons_code=ons,
                region_code=region,
                la_type=(r25 or r08 or {}).get("la_type") or (r08 or {}).get("la_type_2007_08"),
                in_2008=r08 is not None,
                in_2025=r25 is not None,
                successors=successors,
                lat=lat,
                long=long,
                note=(r08 or {}).get("note") or None,
            )
        )
        if r08 and r08["la_name_2007_08"] != name:
            reg._index.setdefault(_norm(r08["la_name_2007_08"]), dfe)
    _date_reorganisations(reg, rows08, rows25, starts)

    lifetimes = data_dir / "areas" / "la_lifetimes.csv"
    for n, r in enumerate(_read(lifetimes) if lifetimes.exists() else [], start=2):
        a = reg.areas.get((r.get("dfe_code") or "").strip())
        if a is None or a.type != "la":
            raise CatalogueError(
                f"{lifetimes.name}, row {n}: dfe_code {r.get('dfe_code')!r} is not a local authority"
            )
        try:
            dates = {
                k: date.fromisoformat(r[k]) if (r.get(k) or "").strip() else None
                for k in ("exists_from", "exists_until", "figures_from", "figures_until")
            }
        except ValueError as e:
            raise CatalogueError(f"{lifetimes.name}, row {n}: {e}") from None
        reg.areas[a.code] = replace(
            a,
            exists_from=dates["exists_from"],
            exists_until=dates["exists_until"],
            figures_from=dates["figures_from"],
            figures_until=dates["figures_until"],
            lifetime_note=r.get("evidence") or None,
        )

    for path in sorted((data_dir / "areas").glob("seed_geographies*.csv")):
        for n, r in enumerate(_read(path), start=2):
            code, name, typ = (
                (r.get("code") or "").strip(),
                (r.get("name") or "").strip(),
                (r.get("type") or "").strip(),
            )
            if not code or not name or not typ:
                raise CatalogueError(f"{path.name}, row {n}: code, name and type are required")
            reg.add(
                Area(
                    code, name, typ, parent=(r.get("parent") or None), note=(r.get("note") or None)
                )
            )
    return reg
