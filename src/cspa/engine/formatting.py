"""Display strings exactly as the seeds print them, as SQL expressions (one formatter for every output).

Rules (docs/data-formats.md, the catalogue's ``display`` block):

* round half away from zero to the measure's decimals (Excel's ROUND, which the publishers'
  spreadsheets used: 58.75 -> 58.8; 2.675 -> 2.68);
* keep trailing zeros (``100.0%``, ``25.00%``);
* ``percent_sign`` appends ``%``; ``thousands`` inserts ``,`` (``1,118``); ``plus_sign`` prints
  ``+`` on positive values; ``prefix`` (``£``) goes before the number, after any minus sign;
* a status symbol is shown instead of a number, never a number in its place;
* negative zero prints as ``0``.
"""

from __future__ import annotations

# Decimals up to this many print through a DECIMAL cast (the catalogue uses 0-2); more, through format().
_FIXED = 4


def rounded_sql(value: str, decimals: str) -> str:
    """The value rounded half away from zero to ``decimals`` places (a DOUBLE)."""
    # DuckDB's round() on a DOUBLE rounds half away from zero and is exact on the printed decimal
    # (round(2.675, 2) = 2.68, round(-0.125, 2) = -0.13), like Excel's ROUND.
    return f"round(CAST({value} AS DOUBLE), CAST({decimals} AS INTEGER))"


def display_sql(value: str, status: str, m: str = "m") -> str:
    """SQL for the printed text of ``value`` under the display settings of measure alias ``m``.

    ``value``/``status`` are SQL expressions; ``m`` is the alias of a ``measure`` table row.
    """
    d = f"coalesce({m}.decimals, 0)"
    r = rounded_sql(value, d)
    mag = f"abs({r})"
    # A rounded value cast to a DECIMAL of its decimals prints them with trailing zeros, and costs
    # a third of format() (which a national build calls a million times); format() remains for
    # thousands separators and for what a DECIMAL(18, d) cannot hold.
    fixed = " ".join(
        f"WHEN {k} THEN CAST(CAST({mag} AS DECIMAL(18, {k})) AS VARCHAR)" for k in range(_FIXED + 1)
    )
    num = (
        f"CASE WHEN coalesce({m}.thousands, FALSE) THEN format('{{:,.{{}}f}}', {mag}, {d}) "
        f"WHEN {mag} < 1e12 AND {d} BETWEEN 0 AND {_FIXED} THEN CASE {d} {fixed} END "
        f"ELSE format('{{:.{{}}f}}', {mag}, {d}) END"
    )
    sign = f"CASE WHEN {r} < 0 THEN '-' WHEN {r} > 0 AND coalesce({m}.plus_sign, FALSE) THEN '+' ELSE '' END"
    text = (
        f"{sign} || coalesce({m}.prefix, '') || {num} || "
        f"CASE WHEN coalesce({m}.percent_sign, FALSE) THEN '%' ELSE '' END || coalesce({m}.suffix, '')"
    )
    return f"CASE WHEN {status} IS NOT NULL THEN {status} WHEN {value} IS NULL THEN NULL ELSE {text} END"
