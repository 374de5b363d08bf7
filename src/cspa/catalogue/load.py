"""Read and validate the whole indicator catalogue, all or nothing.

Every ``data/catalogue/<framework>/<CODE>.yaml`` is checked against
:class:`~cspa.catalogue.models.Indicator`; frameworks against ``frameworks/*.yaml``.
All problems are collected and reported together, each naming the file and the field, and
the catalogue is refused if there is any (as PHEindicatormethods validates its arguments
before computing anything).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from cspa.catalogue.areas import DATA
from cspa.catalogue.models import Framework, Indicator, file_stem
from cspa.catalogue.yaml_file import read_yaml
from cspa.errors import CatalogueError

CATALOGUE = DATA / "catalogue"


@dataclass
class Catalogue:
    indicators: dict[str, Indicator] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def get(self, code: str) -> Indicator:
        ind = self.indicators.get(code)
        if ind is None:
            key = _key(code)
            ind = next((i for c, i in self.indicators.items() if _key(c) == key), None)
        if ind is None:
            raise CatalogueError(
                f"no indicator {code!r} in the catalogue (try `cspa catalogue list`)"
            )
        return ind

    def in_framework(self, framework: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.framework == framework]

    def __len__(self) -> int:
        return len(self.indicators)


def _key(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _problems(path: Path, e: ValidationError) -> list[str]:
    return [
        f"{path}: field {'.'.join(str(x) for x in err['loc']) or '(file)'}: {err['msg']}"
        for err in e.errors()
    ]


def read_catalogue(root: Path = CATALOGUE) -> Catalogue:
    cat = Catalogue()
    problems: list[str] = []
    for path in sorted((root / "frameworks").glob("*.yaml")):
        try:
            fw = Framework.model_validate(read_yaml(path))
            cat.frameworks[fw.id] = fw
        except ValidationError as e:
            problems += _problems(path, e)
        except yaml.YAMLError as e:
            problems.append(f"{path}: not valid YAML: {e}")
    for path in sorted(root.glob("*/*.yaml")):
        if path.parent.name in ("frameworks", "sources"):
            continue
        try:
            data = read_yaml(path)
            ind = Indicator.model_validate(data)
        except ValidationError as e:
            problems += _problems(path, e)
            continue
        except yaml.YAMLError as e:
            problems.append(f"{path}: not valid YAML: {e}")
            continue
        if path.stem != file_stem(ind.code):
            problems.append(f"{path}: field code: {ind.code!r} does not match the file name")
        if ind.framework != path.parent.name:
            problems.append(
                f"{path}: field framework: {ind.framework!r} but the file is in {path.parent.name}/"
            )
        if ind.code in cat.indicators:
            problems.append(
                f"{path}: field code: {ind.code!r} is also defined in {cat.files[ind.code]}"
            )
        cat.indicators[ind.code] = ind
        cat.files[ind.code] = path
    for ind in cat.indicators.values():
        if ind.framework not in cat.frameworks:
            problems.append(
                f"{cat.files[ind.code]}: field framework: unknown framework {ind.framework!r}"
            )
    if problems:
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise CatalogueError(
            "The indicator catalogue is invalid:\n  " + "\n  ".join(problems[:30]) + more
        )
    return cat


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The shipped catalogue, validated once per process."""
    return read_catalogue(CATALOGUE)
