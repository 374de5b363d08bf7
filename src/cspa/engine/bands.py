"""PAF cut-off bands and blobs (seed 000 "Bands" rows; methods.md section 9).

* The band row is the one whose period range covers the figure's period (``2006-08`` covers
  2006-07 and 2007-08; 000:L1395-1397).
* ``a<b`` is a <= v < b, ``a<=b`` is a <= v <= b (the top interval), ``n+`` is v >= n: a value
  on a lower cut-off belongs to the upper band (000:L1393-1397, methods.md 9).
* The figure is banded as printed (rounded to the catalogue's decimals), because the seed
  bands its printed figures.
* ``band`` is the number of blobs the seed prints for the interval (5 = best; symmetric
  9-band rows run 1,2,3,4,5,4,3,2,1 with the middle best, 000:L2775-2777).
* Group-specific cut-offs: a band row with a ``group`` (a neighbour group id) applies only to
  that group's authorities and its comparator row ("Bands for ACA group 2", 000:L6754, for
  6024SC, whose "England figures are not banded", 000:L6739); other areas are "not banded"
  with that reason. A row without a group applies to every area.
* No covering row ("Data is not banded for 2005-06", 000:L507) gives an explicit
  "not banded" reason; so does a value between printed intervals (OCR lost the middle bands).
"""

from __future__ import annotations

import duckdb

from cspa.engine.formatting import rounded_sql


def bands(con: duckdb.DuckDBPyConnection, v: str) -> duckdb.DuckDBPyRelation:
    """Band, printed range and reason for every banded figure of relation/view ``v``."""
    r = rounded_sql("v.value", "coalesce(m.decimals, 0)")
    return con.sql(f"""
    WITH banded_measures AS (SELECT DISTINCT indicator, measure FROM band),
    -- the areas a group's cut-offs apply to: its owner authorities, their neighbours, its comparator rows
    group_areas AS (
        SELECT grp, la_code AS area FROM neighbour UNION SELECT grp, neighbour_code FROM neighbour
        WHERE neighbour_code IS NOT NULL UNION SELECT grp, 'SN:' || grp || ':' || la_code FROM neighbour
    ),
    cand AS (
        SELECT v.indicator, v.measure, v.area, v.period, b.periods, b.idx, b.cutoff_text, b.blobs,
               b.low, b.high, b.high_inclusive, {r} AS printed
        FROM {v} v
        JOIN measure m ON m.indicator = v.indicator AND m.measure = v.measure
        JOIN band b ON b.indicator = v.indicator AND b.measure = v.measure
             AND b.first_year <= v.first_year AND v.last_year <= b.last_year
        WHERE v.value IS NOT NULL
          AND (b.grp IS NULL OR (b.grp, v.area) IN (SELECT grp, area FROM group_areas))
    ),
    other_group AS (   -- cut-offs exist for the period, but only for a group the area is not in
        SELECT DISTINCT v.rid, b.grp
        FROM {v} v JOIN band b ON b.indicator = v.indicator AND b.measure = v.measure
             AND b.first_year <= v.first_year AND v.last_year <= b.last_year
        WHERE b.grp IS NOT NULL AND (b.grp, v.area) NOT IN (SELECT grp, area FROM group_areas)
    ),
    hit AS (
        SELECT * FROM cand
        WHERE blobs IS NOT NULL AND printed >= low
          AND (high IS NULL OR printed < high OR (high_inclusive AND printed = high))
    ),
    rows_covered AS (SELECT DISTINCT indicator, measure, area, period, periods FROM cand)
    SELECT v.rid, v.indicator, v.measure, v.area, v.period,
           h.blobs AS band, h.cutoff_text AS band_range,
           CASE WHEN h.blobs IS NOT NULL THEN
                  'PAF band ' || h.periods || ': ' || format('{{:g}}', h.printed) || ' in ' || h.cutoff_text
                  || ' (' || h.blobs || ' blob' || CASE WHEN h.blobs > 1 THEN 's' ELSE '' END || ')'
                WHEN v.status IS NOT NULL THEN 'not banded: status ' || v.status
                WHEN c.periods IS NULL AND g.grp IS NOT NULL
                     THEN 'not banded: the cut-offs for this period apply to ' || g.grp || ' authorities only'
                WHEN c.periods IS NULL THEN 'not banded: no cut-offs for this period'
                ELSE 'not banded: the value falls outside the printed cut-offs of ' || c.periods END AS band_basis
    FROM {v} v
    JOIN banded_measures bm ON bm.indicator = v.indicator AND bm.measure = v.measure
    LEFT JOIN hit h ON h.indicator = v.indicator AND h.measure = v.measure AND h.area = v.area AND h.period = v.period
    LEFT JOIN rows_covered c ON c.indicator = v.indicator AND c.measure = v.measure AND c.area = v.area
         AND c.period = v.period
    LEFT JOIN other_group g ON g.rid = v.rid
    QUALIFY row_number() OVER (PARTITION BY v.rid ORDER BY h.idx) = 1
    """)
