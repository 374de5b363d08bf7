"""Provenance lines composed from a figure's columns (cspa.engine.provenance)."""

from __future__ import annotations

import duckdb
import pytest

from cspa.engine.provenance import observed_basis_sql, sn_basis_sql


@pytest.mark.parametrize(
    ("vintage", "expected"),
    [
        ("'DfE SSDA903 2025'", "figure as supplied (DfE SSDA903 2025)"),
        ("NULL", "figure as supplied"),  # no empty "()" where a load recorded no vintage
    ],
)
def test_observed_line_names_its_vintage_if_any(vintage, expected):
    sql = (
        f"SELECT {observed_basis_sql('v', 'm', 'v.vintage')} FROM (SELECT 'input' AS source, "
        f"CAST(NULL AS VARCHAR) AS status, FALSE AS published, CAST({vintage} AS VARCHAR) AS vintage, "
        "CAST(NULL AS DOUBLE) AS numerator, CAST(NULL AS DOUBLE) AS denominator) v, "
        "(SELECT 'input' AS formula_type, CAST(NULL AS DOUBLE) AS multiplier) m"
    )
    assert duckdb.sql(sql).fetchall() == [(expected,)]


def test_neighbour_line_says_members_used_and_vintage():
    line = sn_basis_sql("'median'", "9", "10", "'dfe_2025'", "'LAIT 2026-04-08'")
    sql = f"SELECT {line}"
    assert duckdb.sql(sql).fetchall() == [
        ("median of 9 of 10 dfe_2025 neighbours (1 missing or suppressed) (LAIT 2026-04-08)",)
    ]
