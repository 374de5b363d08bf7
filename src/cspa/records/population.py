"""ONS mid-year populations aged 0-17, the denominators of the rates per 10,000.

The rate for the year ending 31 March Y divides by the mid-year estimate of Y-1 (DfE's base), so
the table's ``YEAR`` is the collection year each estimate serves: mid-2017 -> YEAR 2018.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cspa.catalogue.areas import DATA

ONS_FILE = DATA / "real" / "indicators" / "ons_mid-year_population_estimates_2012_to_2024.csv"
SOURCE = "ONS mid-year population estimates, children aged 0-17 (via DfE EES), OGL v3.0"


def population_table() -> pa.Table:
    """LA (DfE number), YEAR (collection year), POP (0-17 mid-year estimate of YEAR-1)."""
    path = str(ONS_FILE).replace("'", "''")
    return duckdb.sql(f"""
        SELECT CAST(old_la_code AS VARCHAR) AS LA, CAST(time_period + 1 AS INTEGER) AS YEAR,
               CAST(TRY_CAST(population_estimate AS BIGINT) AS BIGINT) AS POP
        FROM read_csv('{path}', all_varchar = false)
        WHERE geographic_level = 'Local authority' AND TRY_CAST(population_estimate AS BIGINT) IS NOT NULL
        ORDER BY 1, 2""").to_arrow_table()
