"""Generate the LAIT framework's catalogue from LAIT's own data dictionary.

``data/real/indicators/lait_data_dictionary.csv`` (DfE Local Authority Interactive Tool,
OGL v3.0) describes every measure of the LAIT base data set: name, chart title, topic,
polarity, axis name, decimal places, year type and whether quartiles apply. This module
turns each dictionary row into one ``data/catalogue/lait/<file_stem(code)>.yaml`` whose
code is ``Measure_short`` (the ``Short Desc`` of ``bds_long_0.parquet``).

The mapping is data-driven and deterministic, so the files can be regenerated at any time:

    python -m cspa.catalogue.lait [DICTIONARY_CSV] [OUT_DIR]

Everything inferred rather than read (a unit from the axis name, default decimals, a
duplicated code) is recorded in the entry's ``notes``.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import yaml

from cspa.catalogue.areas import DATA
from cspa.catalogue.models import Indicator, file_stem

DICTIONARY = DATA / "real" / "indicators" / "lait_data_dictionary.csv"
OUT_DIR = DATA / "catalogue" / "lait"
OWNER_COLUMN = "Data Owner (DO) /Supplier and Contact Details"

# LAIT topic -> Every Child Matters outcome (None: contextual, no outcome).
TOPIC_OUTCOME: dict[str, str | None] = {
    "children looked after": "staying_safe",
    "child protection": "staying_safe",
    "children in need": "staying_safe",
    "adoption": "staying_safe",
    "early years": "enjoying_and_achieving",
    "foundation stage": "enjoying_and_achieving",
    "key stage 1 and phonics": "enjoying_and_achieving",
    "key stage 2": "enjoying_and_achieving",
    "key stage 4": "enjoying_and_achieving",
    "key stage 5": "enjoying_and_achieving",
    "all pupil absence & exclusions": "enjoying_and_achieving",
    "children with sen": "enjoying_and_achieving",
    "health and wellbeing": "being_healthy",
    "youth offending": "making_a_positive_contribution",
    "further & higher education": "achieving_economic_wellbeing",
    "attainment by age 19": "achieving_economic_wellbeing",
    "economic factors": "achieving_economic_wellbeing",
    "children's services workforce": "service_management",
    "children's service finance": "service_management",
    "contextual/other": None,
}

POLARITY = {"high": "high", "low": "low", "-": "none", "na": "none", "": "none"}

YEAR_TYPE = {
    "financial year": "financial",
    "academic year": "academic",
    "annual - january": "academic",
    "calendar year": "calendar",
    "annual": "calendar",
    "annual (end of sept)": "calendar",
}

LIGHT_REASON = "LAIT shows quartile bands (A best to D worst), not traffic lights"

# Axis names that are counts although they do not start with "Number".
_COUNT_AXES = re.compile(
    r"^(number|entries|total cases|social workers|starters fte|leavers fte)\b", re.I
)
_RATE = re.compile(r"\brate per\s*([\d,]+)", re.I)


def _clean(s: str | None) -> str:
    return " ".join((s or "").replace("\r", " ").split())


def infer_unit(axis: str) -> tuple[str, str | None]:
    """The unit a LAIT y-axis name implies, and a note when the choice is an inference."""
    a = _clean(axis)
    low = a.lower()
    if "%" in a:
        return "percent", None
    if m := _RATE.search(a):
        n = int(m.group(1).replace(",", ""))
        unit = {1000: "rate_per_1000", 10000: "rate_per_10000", 100000: "rate_per_100000"}.get(n)
        if unit:
            return unit, None
    if "spend" in low or "cost" in low:
        return "currency_gbp", None
    if _COUNT_AXES.match(a):
        return "count", (
            None
            if low.startswith("number")
            else f"The figure is taken to be a count, from the chart's axis title {a!r}."
        )
    if low in ("turnover rate", "absence rate"):
        return (
            "percent",
            f"The figure is taken to be a percentage, from the chart's axis title {a!r} (a rate "
            "the workforce census gives as a percentage).",
        )
    return "score", f"The figure is taken to be a score, from the chart's axis title {a!r}."


def _outcome(topic: str) -> tuple[str | None, str | None]:
    key = topic.strip().lower()
    if key in TOPIC_OUTCOME:
        return TOPIC_OUTCOME[key], None
    return None, f"topic {topic!r} has no Every Child Matters outcome mapping"


def _read_dictionary(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Dictionary records with their record number (the header is row 1, so data starts at row 2)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [(n, r) for n, r in enumerate(csv.DictReader(f), start=2)]


def build_entries(dictionary_csv: Path = DICTIONARY) -> list[dict]:
    """One catalogue entry (a plain dict, validated) per distinct ``Measure_short``."""
    rows = _read_dictionary(Path(dictionary_csv))
    first: dict[str, tuple[int, dict[str, str]]] = {}
    dups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for n, r in rows:
        code = (r.get("Measure_short") or "").strip()
        if not code:
            continue
        if code in first:
            dups.setdefault(code, []).append((n, r))
        else:
            first[code] = (n, r)

    name = Path(dictionary_csv).name
    entries = []
    for code, (n, r) in first.items():
        notes: list[str] = []
        # the dictionary writes one topic "Contextual\\Other": shown as a theme title, so "/"
        topic = _clean(r.get("Topic")).replace("\\", "/")
        outcome, note = _outcome(topic)
        if note:
            notes.append(note)
        raw_pol = _clean(r.get("Polarity"))
        polarity = POLARITY.get(raw_pol.lower())
        if polarity is None:
            polarity = "none"
            notes.append(
                f"The data dictionary's polarity {raw_pol!r} is not one cspa knows, so the figure is "
                "not judged better or worse."
            )
        elif raw_pol.upper() in ("", "NA"):
            notes.append(
                "The data dictionary does not say whether a higher figure is better, so the figure "
                "is not judged better or worse."
            )
        unit, note = infer_unit(r.get("y_axis_name") or "")
        if note:
            notes.append(note)
        dps = _clean(r.get("dps"))
        try:
            decimals = int(float(dps))
        except ValueError:
            decimals = 1
            notes.append(
                "The data dictionary gives no number of decimal places; figures are shown to one."
            )
        raw_yt = _clean(r.get("Year_Type"))
        year_type = YEAR_TYPE.get(raw_yt.lower())
        if year_type is None:
            year_type = "financial"
            notes.append(
                f"The data dictionary's year type {raw_yt!r} is not one cspa knows; years are read "
                "as financial years."
            )
        no_quartile = _clean(r.get("No_Quartile")).upper() == "N"
        judged = polarity in ("high", "low")
        if no_quartile:
            notes.append("LAIT shows no quartile bands for this measure.")
        display: dict = {"decimals": decimals}
        if unit == "currency_gbp":
            display.update(prefix="£", thousands=True)
        elif unit == "count":
            display["thousands"] = True
        owner = _clean(r.get(OWNER_COLUMN))
        if owner in ("", "0", "NA"):
            notes.append("The data dictionary names no data owner.")
            owner = ""
        table = _clean(r.get("Table_status"))
        if table and table.upper() != "NA":
            notes.append(f"LAIT takes it from the table {table!r}.")
        for dn, dr in dups.get(code, []):
            notes.append(
                f"The data dictionary lists this code twice (also as {_clean(dr.get('Measure'))!r} "
                f"under {_clean(dr.get('Topic'))!r}, row {dn}); the first is used."
            )
        entry: dict = {
            "code": code,
            "framework": "lait",
            "title": _clean(r.get("Measure")) or code,
            "short_title": _clean(r.get("Chart_title")) or None,
            "outcome": outcome,
            "topic": topic or None,
            "source": owner or None,
            "unit": unit,
            "display": display,
            "polarity": polarity,
            "geography_level": "la",
            "year_type": year_type,
            "comparators": ["statistical_neighbours", "region", "england"],
            "sn_method": "mean",
            "england_method": "published",
            "traffic_light": {"rule": "none", "reason": LIGHT_REASON},
            "quartiles": (not no_quartile) and judged,
            "ranks": judged,
            # the seed's trend class (000:L3083): every authority's rate of change ranked, which
            # needs only the annual values LAIT holds (no counts: no recent-trend test)
            "trend": "seed_moving_average",
            "definition": _clean(r.get("Description")) or None,
            "notes": notes,
            "source_ref": f"{name} row {n}",
        }
        entry = {k: v for k, v in entry.items() if v is not None}
        Indicator.model_validate(entry)  # fail here, naming the code, rather than at load time
        entries.append(entry)
    return entries


def generate_lait_catalogue(
    dictionary_csv: Path | str = DICTIONARY, out_dir: Path | str = OUT_DIR
) -> list[Path]:
    """Write one YAML per LAIT measure into ``out_dir`` (stale generated files are removed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = build_entries(Path(dictionary_csv))
    for old in out.glob("*.yaml"):
        old.unlink()
    written = []
    for e in entries:
        path = out / f"{file_stem(e['code'])}.yaml"
        if path.exists():
            raise ValueError(f"two LAIT codes share the file name {path.name}")
        text = "# Generated by `python -m cspa.catalogue.lait` from the LAIT data dictionary; do not edit.\n"
        text += yaml.safe_dump(e, sort_keys=False, allow_unicode=True, width=110)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    dictionary = Path(args[0]) if len(args) > 0 else DICTIONARY
    out = Path(args[1]) if len(args) > 1 else OUT_DIR
    written = generate_lait_catalogue(dictionary, out)
    print(f"wrote {len(written)} LAIT indicator definitions to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
