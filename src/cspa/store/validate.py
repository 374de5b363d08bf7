"""What a loaded figure may be: numbers read one way only, values within their unit's range,
known statistics, areas within the span DfE publishes figures for them.

The rules are data (``data/catalogue/value_rules.yaml`` through :mod:`cspa.catalogue.value_rules`,
``data/areas/la_lifetimes.csv`` through the area registry); this module applies them to a staged
file at once, in SQL, and phrases each problem for the cell it found it in. Every check returns
:class:`~cspa.errors.Problem` rows naming the file, the row as the file numbers it and the column as
the file spells it (``Values`` and ``Years`` in a LAIT file), through a :class:`Columns` speller.

Numbers: a figure is written with the digits 0-9, an optional sign, decimal point and exponent
(``1.5``, ``-3``, ``4.798E-2`` as LAIT writes small values), optionally a leading ``£`` or a trailing
``%`` in the value column. Everything else is refused by name rather than read as some other
number: a decimal comma or thousands separator (``19,5`` would otherwise become 195, ``1,2,3``
123), digit groups with ``_`` (``1_000``), ``NaN``, ``inf`` and values too large to be a figure
(``1e309``), non-ASCII digits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from cspa.catalogue.areas import AreaRegistry
from cspa.catalogue.load import Catalogue
from cspa.catalogue.value_rules import ValueRules, load_value_rules, measure_rules
from cspa.errors import Problem, quoted

# The one grammar of a figure (see the module docstring); SQL and Python use the same pattern.
NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_NUMBER_RE = re.compile(NUMBER, re.ASCII)
_SPACE = " \t\r\n"  # what surrounds a figure and is not part of it (SQL and Python trim the same)
_TRIM_SQL = "' ' || chr(9) || chr(13) || chr(10)"
LIMIT = 20  # problems reported per check: enough to fix a file, not a flood


@dataclass
class Columns:
    """The user's spelling of cspa's fields in one file: a fixed map (``{"period": "Years"}``) and,
    where a format's columns vary by row (EES source mappings), per-row ``_col_<field>`` columns."""

    names: dict[str, str]
    per_row: frozenset[str] = frozenset()

    def name(self, field: str) -> str:
        return self.names.get(field, field)

    def sql(self, field: str, alias: str = "") -> str:
        """SQL giving the user's column name for ``field`` on each row."""
        fixed = "'" + self.name(field).replace("'", "''") + "'"
        if field in self.per_row:
            return f"coalesce({alias}_col_{field}, {fixed})"
        return fixed


LONG = Columns({})


def strip_markers_sql(v: str) -> str:
    """SQL: the text of a value without its unit marker (a leading £ after any sign, a trailing %)."""
    return f"regexp_replace(regexp_replace(trim({v}, {_TRIM_SQL}), '%$', ''), '^([+-]?)£', '\\1')"


def number_ok_sql(v: str) -> str:
    """SQL: whether the (marker-free) text ``v`` is a figure: the grammar, and finite once read."""
    return f"(regexp_full_match({v}, '{NUMBER}') AND isfinite(TRY_CAST({v} AS DOUBLE)))"


def trim_sql(v: str) -> str:
    return f"trim({v}, {_TRIM_SQL})"


def strip_markers(text: str) -> str:
    s = text.strip(_SPACE)
    s = s[:-1] if s.endswith("%") else s
    return re.sub(r"^([+-]?)£", r"\1", s)


def parse_number(text: str) -> float:
    """A figure from its text, or ValueError saying why it is not one (for the template and tests)."""
    why = number_problem(text)
    if why:
        raise ValueError(why)
    return float(strip_markers(text))


def number_problem(text: str, markers: bool = True) -> str | None:
    """Why ``text`` is not a figure (None when it is): the sentence each refusal prints."""
    s = strip_markers(text) if markers else text.strip(_SPACE)
    if _NUMBER_RE.fullmatch(s):
        if not math.isfinite(float(s)):
            return f"{quoted(text)} is too large to be a figure"
        return None
    low = s.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity", "-inf"):
        return f"{quoted(text)} is not a figure (not-a-number and infinity cannot be stored)"
    if "," in s and re.fullmatch(r"[+-]?[0-9][0-9,]*(\.[0-9]+)?", s):
        return (
            f"{quoted(text)}: a comma is not read as a decimal point or a thousands separator; write the "
            f"figure with a point and no separators (19.5, 1118)"
        )
    if "_" in s and re.fullmatch(r"[+-]?[0-9_]+(\.[0-9_]+)?", s):
        return f"{quoted(text)}: digit groups with '_' are not read; write the figure without separators"
    if re.search(r"\d", s) and not re.search(r"[0-9]", s):
        return f"{quoted(text)}: use the digits 0-9"
    return f"{quoted(text)} is not a number (nor a status symbol)"


# ------------------------------------------------------------------------------ checks


def check_numbers(
    con: duckdb.DuckDBPyConnection, stg: str, file: str, cols: Columns, status_symbols: list[str]
) -> list[Problem]:
    """Every value, numerator and denominator cell that is not a figure (value: or a status symbol)."""
    out = []
    rows = con.execute(
        f"""
        SELECT _row, col, v, name FROM (
            SELECT _row, 'value' col, value v, {cols.sql("value")} name, {strip_markers_sql("value")} n FROM {stg}
            UNION ALL SELECT _row, 'numerator', numerator, {cols.sql("numerator")}, {trim_sql("numerator")} FROM {stg}
            UNION ALL SELECT _row, 'denominator', denominator, {cols.sql("denominator")}, {trim_sql("denominator")}
                      FROM {stg})
        WHERE v IS NOT NULL AND NOT {number_ok_sql("n")}
          AND NOT (col = 'value' AND {trim_sql("v")} IN (SELECT unnest($1)))
        ORDER BY _row, col LIMIT 50""",
        [status_symbols],
    ).fetchall()
    for r, col, v, name in rows:
        out.append(
            Problem(
                file, r, name, number_problem(v, markers=col == "value") or f"{v!r} is not a number"
            )
        )
    return out


def check_statistics(
    con: duckdb.DuckDBPyConnection,
    stg: str,
    file: str,
    cols: Columns,
    rules: ValueRules | None = None,
) -> list[Problem]:
    rules = rules or load_value_rules()
    out = []
    for (s,) in con.execute(
        f"SELECT DISTINCT statistic FROM {stg} WHERE statistic IS NOT NULL"
    ).fetchall():
        if rules.scale(s) is None:
            for r, name in con.execute(
                f"SELECT _row, {cols.sql('statistic')} FROM {stg} WHERE statistic = ? "
                "ORDER BY _row LIMIT 3",
                [s],
            ).fetchall():
                out.append(
                    Problem(
                        file,
                        r,
                        name,
                        f"{quoted(s)} is not a statistic cspa knows ({rules.known_statistics()})",
                    )
                )
    return out


def check_values(
    con: duckdb.DuckDBPyConnection,
    typed: str,
    file: str,
    cols: Columns,
    catalogue: Catalogue,
    rules: ValueRules | None = None,
) -> list[Problem]:
    """Ranges of the typed rows: each value against its measure's range for its statistic's scale,
    numerators and denominators never negative and (for percentages) the numerator not above the
    denominator."""
    rules = rules or load_value_rules()
    mr = measure_rules(catalogue, rules)
    con.register(
        "_cspa_vr",
        pa.Table.from_pylist(
            mr,
            schema=pa.schema(
                [
                    ("indicator", pa.string()),
                    ("measure", pa.string()),
                    ("min", pa.float64()),
                    ("max", pa.float64()),
                    ("whole", pa.bool_()),
                    ("num_le_den", pa.bool_()),
                    ("range_text", pa.string()),
                    ("why", pa.string()),
                ]
            ),
        ),
    )
    scales = {
        s: rules.scale(s)
        for (s,) in con.execute(f"SELECT DISTINCT statistic FROM {typed}").fetchall()
    }
    con.register(
        "_cspa_scale",
        pa.table(
            {"statistic": list(scales), "scale": [scales[s] for s in scales]},
            schema=pa.schema([("statistic", pa.string()), ("scale", pa.string())]),
        ),
    )
    nd_min = rules.numerator_denominator.min
    try:
        rows = con.execute(f"""
            WITH t AS (
                SELECT t.*, s.scale,
                       CASE s.scale WHEN 'value' THEN r.min WHEN 'rank' THEN 1 WHEN 'share' THEN 0 END AS lo,
                       CASE s.scale WHEN 'value' THEN r.max WHEN 'share' THEN 100 END AS hi,
                       CASE s.scale WHEN 'value' THEN r.whole WHEN 'rank' THEN TRUE ELSE FALSE END AS whole,
                       CASE s.scale WHEN 'value' THEN r.range_text WHEN 'rank' THEN 'a whole number, 1 or more'
                                    WHEN 'share' THEN 'from 0 to 100' END AS range_text,
                       r.num_le_den, r.why
                FROM {typed} t JOIN _cspa_scale s USING (statistic)
                LEFT JOIN _cspa_vr r USING (indicator, measure)
            )
            SELECT row_no, kind, indicator, measure, statistic, value, numerator, denominator, lo, hi, range_text, why
            FROM (
                SELECT *, 'value' AS kind FROM t WHERE value IS NOT NULL
                    AND (value < lo OR value > hi OR (whole AND value <> floor(value)))
                UNION ALL SELECT *, 'numerator' FROM t WHERE numerator < {nd_min}
                UNION ALL SELECT *, 'denominator' FROM t WHERE denominator < {nd_min}
                UNION ALL SELECT *, 'above' FROM t WHERE num_le_den AND numerator > denominator
            ) ORDER BY row_no, kind LIMIT {LIMIT}""").fetchall()
    finally:
        con.unregister("_cspa_vr")
        con.unregister("_cspa_scale")
    out = []
    for r, kind, ind, meas, stat, v, num, den, _lo, _hi, range_text, why in rows:
        what = f"{ind}{'' if meas == 'value' else ' ' + meas}{'' if stat == 'value' else ' (' + stat + ')'}"
        unit = (
            catalogue.indicators[ind].resolved(meas).unit.value
            if ind in catalogue.indicators
            else "its unit"
        )
        if kind == "value":
            reason = f" ({why})" if why else f" (a {unit} figure)"
            out.append(
                Problem(
                    file,
                    r,
                    cols.name("value"),
                    f"{v:g} is outside what {what} can be: {range_text}{reason}",
                )
            )
        elif kind in ("numerator", "denominator"):
            out.append(
                Problem(
                    file,
                    r,
                    cols.name(kind),
                    f"{num if kind == 'numerator' else den:g}: a {kind} counts people or events and "
                    f"cannot be below {nd_min:g}",
                )
            )
        else:
            out.append(
                Problem(
                    file,
                    r,
                    cols.name("numerator"),
                    f"numerator {num:g} is above the denominator {den:g}: {what} is a percentage of the "
                    "denominator, so its numerator cannot exceed it",
                )
            )
    return out


def check_area_periods(
    con: duckdb.DuckDBPyConnection, typed: str, file: str, cols: Columns, areas: AreaRegistry
) -> list[Problem]:
    """Figures (values, numerators, denominators, words) for an authority in a period outside the
    span DfE publishes figures for it over (``data/areas/la_lifetimes.csv``). A status symbol alone
    is allowed: LAIT prints ``-`` for every authority number in every year."""
    spans = [a for a in areas if a.figures_from or a.figures_until]
    if not spans:
        return []
    codes = [a.code for a in spans]
    out = []
    for area, start, end in con.execute(
        f"""
            SELECT DISTINCT area, period_start, period_end FROM {typed}
            WHERE area IN (SELECT unnest($1))
              AND (value IS NOT NULL OR numerator IS NOT NULL OR denominator IS NOT NULL OR text IS NOT NULL)
            ORDER BY 1, 2, 3""",
        [codes],
    ).fetchall():
        why = areas.areas[area].figures_outside(start, end)
        if why is None:
            continue
        for r, label in con.execute(
            f"""
                SELECT row_no, period_label FROM {typed} WHERE area = ? AND period_start IS NOT DISTINCT FROM ?
                  AND period_end IS NOT DISTINCT FROM ?
                  AND (value IS NOT NULL OR numerator IS NOT NULL OR denominator IS NOT NULL OR text IS NOT NULL)
                ORDER BY row_no LIMIT 3""",
            [area, start, end],
        ).fetchall():
            out.append(Problem(file, r, cols.name("period"), f"{label!r}: {why}"))
        if len(out) >= LIMIT:
            break
    return out
