"""Validate catalogue YAML, observation CSV and golden-case CSV files from the command line.

    python -m cspa.catalogue.check PATH...

A quick contributor check (the full validation runs inside ``cspa load`` and the
catalogue loader); exits non-zero and names file, row/key and field on the first
problems found.
"""

from __future__ import annotations

import contextlib
import csv
import sys
from pathlib import Path

import yaml
from pydantic import ValidationError

from cspa.catalogue.models import Indicator, file_stem
from cspa.catalogue.yaml_file import read_yaml

OBS_COLUMNS = {
    "indicator",
    "measure",
    "area",
    "period",
    "statistic",
    "value",
    "numerator",
    "denominator",
    "status",
    "text",
    "quality",
    "provisional",
    "note",
    "seed_line",
}
GOLDEN_COLUMNS = {
    "seed_line",
    "indicator",
    "measure",
    "area",
    "period",
    "field",
    "kind",
    "expected",
    "xfail",
    "note",
}
GOLDEN_OPTIONAL = {"statistic"}
AREA_COLUMNS = {"code", "name", "type", "parent", "note"}
GOLDEN_FIELDS = {
    "display",
    "status",
    "value",
    "band",
    "band_range",
    "traffic_light",
    "quartile_position",
    "quartile",
    "progress",
    "significance",
    "published_significance",
    "recomputed",
    "rank",
    "trend",
    "recent_trend",
}
GOLDEN_KINDS = {"display", "computed", "rule"}


def _catalogue(root: Path) -> dict[str, Indicator]:
    out = {}
    for p in sorted(root.glob("*/*.yaml")):
        # a file that does not parse is reported by the catalogue's own check, not here
        with contextlib.suppress(ValidationError, yaml.YAMLError):
            ind = Indicator.model_validate(read_yaml(p))
            out[ind.code] = ind
    return out


def check_yaml(path: Path) -> list[str]:
    try:
        data = read_yaml(path)
    except yaml.YAMLError as e:
        return [f"{path}: not valid YAML: {e}"]
    try:
        ind = Indicator.model_validate(data)
    except ValidationError as e:
        return [
            f"{path}: field {'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()
        ]
    if path.stem != file_stem(ind.code):
        return [f"{path}: file name must be the code ({file_stem(ind.code)}.yaml)"]
    return []


def check_csv(path: Path, catalogue: dict[str, Indicator]) -> list[str]:
    errs: list[str] = []
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
        cols = set(rows[0].keys()) if rows else set()
    if cols and cols <= AREA_COLUMNS and {"code", "name", "type"} <= cols:
        return [
            f"{path}:{n}: code, name and type are required"
            for n, r in enumerate(rows, start=2)
            if not all((r.get(k) or "").strip() for k in ("code", "name", "type"))
        ]
    golden = "field" in cols
    need = GOLDEN_COLUMNS if golden else {"indicator", "area", "period"}
    allowed = GOLDEN_COLUMNS | GOLDEN_OPTIONAL if golden else OBS_COLUMNS
    if missing := need - cols:
        errs.append(f"{path}: missing columns {sorted(missing)}")
    if extra := cols - allowed:
        errs.append(f"{path}: unknown columns {sorted(extra)}")
    for n, r in enumerate(rows, start=2):
        code = (r.get("indicator") or "").strip()
        ind = catalogue.get(code)
        if ind is None:
            errs.append(f"{path}:{n}: field indicator: {code!r} is not in the catalogue")
            continue
        m = (r.get("measure") or "").strip() or "value"
        if m not in ind.measure_ids():
            errs.append(
                f"{path}:{n}: field measure: {code} has no measure {m!r} (has {ind.measure_ids()})"
            )
        if golden:
            if r["field"] not in GOLDEN_FIELDS:
                errs.append(
                    f"{path}:{n}: field field: {r['field']!r} not one of {sorted(GOLDEN_FIELDS)}"
                )
            if r.get("kind") not in GOLDEN_KINDS:
                errs.append(
                    f"{path}:{n}: field kind: {r.get('kind')!r} not one of {sorted(GOLDEN_KINDS)}"
                )
        elif not any((r.get(k) or "").strip() for k in ("value", "numerator", "status", "text")):
            errs.append(f"{path}:{n}: row has no value, numerator, status or text")
        if not (r.get("seed_line") or "").strip().isdigit():
            errs.append(f"{path}:{n}: field seed_line: must be a line number")
    return errs


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    root = Path(__file__).resolve().parents[1] / "data" / "catalogue"
    catalogue = _catalogue(root)
    errs: list[str] = []
    for p in paths:
        errs += check_yaml(p) if p.suffix in (".yaml", ".yml") else check_csv(p, catalogue)
    for e in errs[:200]:
        print(e)
    print(f"{len(paths)} files checked, {len(errs)} problems")
    return 1 if errs else 0


if __name__ == "__main__":
    raise SystemExit(main())
