"""Statistical-neighbour groups: named, dated, ordered lists of comparator authorities.

Groups are reference data: the DfE children's services models of April 2021 and May 2025
(``data/real/statistical_neighbours/statistical_neighbours_long.csv``, 10 per LA in rank
order with closeness bands) and the groups the 2008 APA dataset prints in its appendices
(``data/neighbours/seed000_groups.csv``: NFER 2007 (7001OF), Youth Justice Board
(7002OF), ACA (7003OF), Government Office Region (7004OF)). Which group is the default
for a framework and year is data too (``data/catalogue/frameworks/*.yaml``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cspa.catalogue.areas import DATA
from cspa.errors import CatalogueError


@dataclass(frozen=True)
class Neighbour:
    rank: int
    code: str | None
    name: str
    closeness: str | None = None


@dataclass(frozen=True)
class GroupInfo:
    id: str
    name: str
    period: str
    source: str
    licence: str


MODEL_IDS = {"DfE April 2021": "dfe_2021", "DfE May 2025": "dfe_2025"}
GROUP_INFO = {
    "dfe_2021": GroupInfo(
        "dfe_2021",
        "DfE children's services statistical neighbours (April 2021)",
        "2021",
        "DfE statistical neighbour model, April 2021",
        "Open Government Licence v3.0",
    ),
    "dfe_2025": GroupInfo(
        "dfe_2025",
        "DfE children's services statistical neighbours (May 2025)",
        "2025",
        "DfE statistical neighbour model, May 2025",
        "Open Government Licence v3.0",
    ),
}


@dataclass
class NeighbourGroups:
    groups: dict[str, dict[str, list[Neighbour]]] = field(default_factory=dict)
    info: dict[str, GroupInfo] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.groups)

    def of(self, group: str, la_code: str) -> list[Neighbour]:
        if group not in self.groups:
            raise CatalogueError(
                f"no neighbour group {group!r}; groups are: {', '.join(self.names())}"
            )
        return self.groups[group].get(la_code, [])

    def rows(self):
        for g, by_la in self.groups.items():
            for la, ns in by_la.items():
                for n in ns:
                    yield g, la, n


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def load_neighbours(data_dir: Path = DATA) -> NeighbourGroups:
    ng = NeighbourGroups(info=dict(GROUP_INFO))
    for r in _read(
        data_dir / "real" / "statistical_neighbours" / "statistical_neighbours_long.csv"
    ):
        g = MODEL_IDS.get(r["model"])
        if g is None:
            raise CatalogueError(f"statistical_neighbours_long.csv: unknown model {r['model']!r}")
        ng.groups.setdefault(g, {}).setdefault(r["dfe_la_code"], []).append(
            Neighbour(
                int(r["rank"]),
                r["neighbour_dfe_la_code"] or None,
                r["neighbour_name"],
                r["closeness"] or None,
            )
        )
    for path in sorted((data_dir / "neighbours").glob("*.csv")):
        for n, r in enumerate(_read(path), start=2):
            try:
                g, la = r["group"].strip(), r["la_dfe_code"].strip()
                ng.groups.setdefault(g, {}).setdefault(la, []).append(
                    Neighbour(
                        int(r["rank"]),
                        (r.get("neighbour_dfe_code") or "").strip() or None,
                        r["neighbour_name"].strip(),
                        (r.get("closeness") or "").strip() or None,
                    )
                )
                ng.info.setdefault(
                    g,
                    GroupInfo(
                        g,
                        (r.get("group_name") or g).strip(),
                        (r.get("period") or "").strip(),
                        f"seed 000 appendix, line {r.get('seed_line', '')}",
                        "Ofsted APA dataset 2008 (published)",
                    ),
                )
            except (KeyError, ValueError) as e:
                raise CatalogueError(f"{path.name}, row {n}: {e}") from None
    for by_la in ng.groups.values():
        for ns in by_la.values():
            ns.sort(key=lambda x: x.rank)
    return ng
