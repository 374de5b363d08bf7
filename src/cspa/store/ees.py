"""DfE Explore Education Statistics tidy files -> the long format, through source mappings.

A mapping (``data/catalogue/sources/<file stem>.yaml``) names, for one EES file, the filter
each indicator takes (e.g. ``population_type: CLA on 31 March``) and which columns hold its
value, numerator and denominator. EES suppression codes (``x``, ``c``, ``z``, ``k``, ``low``)
are kept as statuses, never coerced to zero.

Mapping keys (one YAML per file)::

    geography: {levels: {National: england, Regional: region, Local authority: la}}
    exclude:                      # rows to leave out, e.g. sub-regions the area registry lacks
      - {geographic_level: Regional, region_code: [E13000001, E13000002]}
    indicators:
      - {indicator: CODE, measure: id, filter: {column: value}, value: col, numerator: col, denominator: col}

A ``filter`` or ``exclude`` value may be a list (any of the values). A denominator of 0 is
not a denominator: on such a row the numerator and denominator are left empty and the value
column (which EES marks ``z``) stands, so a 0/0 cell never reaches the store as a rate.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from cspa.catalogue.areas import DATA
from cspa.catalogue.yaml_file import read_yaml
from cspa.errors import LoadError, Problem
from cspa.store.sql import ident as _q
from cspa.store.sql import string as _lit

SOURCES = DATA / "catalogue" / "sources"
# the EES columns cspa's fields come from; value, numerator, denominator and area vary by row and
# are carried per row (_col_<field>) from the mapping, so a problem names the file's own column
EES_NAMES = {"period": "time_period", "indicator": "(the source mapping's indicator)"}
SUPPRESSION = ("x", "c", "z", "k", "low", ".", "..", ":", "u")


def _match(conds: dict) -> str:
    """SQL for a conjunction of column conditions; a list value means any of its values."""
    parts = []
    for k, v in conds.items():
        if isinstance(v, (list, tuple)):
            parts.append(f"{_q(k)} IN ({', '.join(_lit(x) for x in v)})")
        else:
            parts.append(f"{_q(k)} = {_lit(v)}")
    return " AND ".join(parts) or "TRUE"


def ees_to_long(t: pa.Table, path: Path, con: duckdb.DuckDBPyConnection) -> pa.Table:
    mapping_file = SOURCES / f"{path.stem}.yaml"
    if not mapping_file.exists():
        raise LoadError(
            [
                Problem(
                    path.name,
                    None,
                    None,
                    f"an Explore Education Statistics file needs a source mapping {mapping_file.name} "
                    f"in {SOURCES} naming which columns feed which indicators",
                )
            ]
        )
    spec = read_yaml(mapping_file)
    con.register("ees_raw", t)
    parts = []
    geo = spec.get("geography", {})
    levels = geo.get(
        "levels", {"National": "england", "Regional": "region", "Local authority": "la"}
    )
    area_expr = (
        "CASE geographic_level "
        + " ".join(
            f"WHEN {_lit(k)} THEN "
            + ({"england": "'E92000001'", "region": "region_code", "la": "old_la_code"}[v])
            for k, v in levels.items()
        )
        + " END"
    )
    area_col = (
        "CASE geographic_level "
        + " ".join(
            f"WHEN {_lit(k)} THEN "
            + _lit({"england": "geographic_level", "region": "region_code", "la": "old_la_code"}[v])
            for k, v in levels.items()
        )
        + " END"
    )
    excluded = " OR ".join(f"({_match(e)})" for e in (spec.get("exclude") or []))
    for item in spec["indicators"]:
        where = _match(item.get("filter") or {})
        if excluded:
            where += f" AND NOT ({excluded})"
        den = item.get("denominator")
        zero_den = f"TRY_CAST(replace(trim({_q(den)}), ',', '') AS DOUBLE) = 0" if den else "FALSE"

        def cell(col, ratio_part=False, zero_den=zero_den):
            if not col:
                return "NULL"
            c = _q(col)
            zero = f"WHEN {zero_den} THEN NULL " if ratio_part else ""
            return (
                f"CASE {zero}WHEN lower(trim({c})) IN ({', '.join(map(_lit, SUPPRESSION))}) THEN NULL "
                f"ELSE trim({c}) END"
            )

        status = " ".join(
            f"WHEN lower(trim({_q(c)})) IN ({', '.join(map(_lit, SUPPRESSION))}) THEN trim({_q(c)})"
            for c in [item.get("value"), item.get("numerator")]
            if c
        )
        parts.append(f"""
            SELECT {_lit(item["indicator"])} AS indicator,
                   {_lit(item.get("value") or "value")} AS _col_value,
                   {_lit(item.get("numerator") or "numerator")} AS _col_numerator,
                   {_lit(den or "denominator")} AS _col_denominator, {area_col} AS _col_area, {_lit(item.get("measure") or "value")} AS measure,
                   {area_expr} AS area, CAST(time_period AS VARCHAR) AS period, NULL AS statistic,
                   {cell(item.get("value"))} AS value, {cell(item.get("numerator"), True)} AS numerator,
                   {cell(den, True)} AS denominator,
                   CASE {status or "WHEN FALSE THEN NULL"} END AS status,
                   NULL AS text, NULL AS quality, NULL AS provisional, NULL AS note, NULL AS seed_line, NULL AS unit, _row
            FROM ees_raw WHERE {where} AND geographic_level IN ({", ".join(map(_lit, levels))})""")
    out = con.sql(" UNION ALL ".join(parts)).to_arrow_table()
    con.unregister("ees_raw")
    return out
