"""Helpers shared by the engine's column-adding methods (significance, trends, SPC).

Each method takes a ``duckdb.DuckDBPyRelation`` and returns a lazy relation with result columns
added; these helpers check its columns, turn parameters into SQL operands, run SQL over it,
format numbers for basis lines, normalise confidence levels and register the one UDF the exact
Poisson limits need. Quoting itself is :mod:`cspa.store.sql`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa
from duckdb.func import FunctionNullHandling, PythonUDFType

from cspa.engine.polarity import POLARITIES
from cspa.store.sql import ident, literal

#: Name of the vectorised chi-square quantile UDF (``chi2inv(p, df)``, 0 when df = 0).
CHI2_QUANTILE_UDF = "cspa_chi2_quantile"

Number = int | float
Confidence = Number | Sequence[Number]


def operand(value: str | Number | None) -> str:
    """A parameter that is a column name (str) or a constant (number) as a SQL expression."""
    if isinstance(value, str):
        return ident(value)
    return literal(value)


def number(value: str | Number | None) -> str:
    """A numeric operand as DOUBLE, NaN read as missing (NaN compares greater than everything in
    DuckDB, so a NaN left in would silently win every comparison)."""
    return f"nullif(CAST({operand(value)} AS DOUBLE), CAST('NaN' AS DOUBLE))"


def partition(cols: Sequence[str]) -> str:
    """``PARTITION BY`` clause for a window over the given group columns (empty: one group)."""
    return f"PARTITION BY {', '.join(ident(c) for c in cols)}" if cols else ""


def confidence_levels(confidence: Confidence) -> tuple[float, ...]:
    """Normalise confidence level(s) as PHEindicatormethods does: values >= 90 are percentages;
    each level must lie in [0.9, 1]."""
    levels = [confidence] if isinstance(confidence, int | float) else list(confidence)
    if not levels:
        raise ValueError("at least one confidence level is needed")
    out = []
    for c in levels:
        c = float(c)
        if c >= 90:
            c /= 100
        if not 0.9 <= c <= 1:
            raise ValueError("confidence level must be between 90 and 100 or between 0.9 and 1")
        out.append(c)
    return tuple(out)


def level_tag(c: float) -> str:
    """Column suffix for a level: 0.95 -> '95', 0.998 -> '99_8', 1 -> '100'."""
    return f"{round(c * 100, 6):g}".replace(".", "_")


def level_text(c: float) -> str:
    """Human text for a level: 0.95 -> '95%'."""
    return f"{round(c * 100, 6):g}%"


def levels_text(levels: Sequence[float]) -> str:
    return " and ".join(level_text(c) for c in levels)


#: z for the confidence levels the catalogue's rules use, exactly as scipy.stats.norm.ppf gives them
#: (tests/unit/outputs/test_lazy_scipy.py checks): written out so that a build imports scipy.stats
#: (~4 s) only for another level or an exact Poisson limit.
_Z = {0.95: 1.959963984540054, 0.998: 3.090232306167813}


#: The exact Poisson limits of a whole count O = 0..9 (chi2inv(a/2, 2O)/2 and chi2inv(1 - a/2, 2O + 2)/2,
#: methods.md 1.2) at the levels the catalogue's rules use, as scipy gives them
#: (tests/unit/outputs/test_lazy_scipy.py checks): a count below 10 is common in a report (the seed's
#: 1029HC poisoning admissions, 000:L426) and should not cost scipy's import.
POISSON_EXACT = {
    0.95: (
        (
            0.0,
            0.025317807984289897,
            0.24220927854396507,
            0.6186721228956015,
            1.089865373626325,
            1.623486390118421,
            2.201894253490851,
            2.814363051519867,
            3.4538321767485023,
            4.115373097378334,
        ),
        (
            3.6888794541139354,
            5.571643390938898,
            7.22468766772396,
            8.767273069742323,
            10.241588675403694,
            11.66833207932267,
            13.059474022518685,
            14.422675361702376,
            15.763189220193313,
            17.084803451419166,
        ),
    ),
    0.998: (
        (
            0.0,
            0.0010005003335835346,
            0.045402017769489565,
            0.19053337756840327,
            0.42855241362842295,
            0.7393717319178327,
            1.1071046602556396,
            1.5203362603988093,
            1.9708139217403662,
            2.452424404363775,
        ),
        (
            6.907755278982137,
            9.233413476451585,
            11.228872242412661,
            13.06224077918807,
            14.79414922253721,
            16.454745203680105,
            18.061636840199064,
            19.626177395384232,
            21.15619816583998,
            22.65737330906293,
        ),
    ),
}


def z_for(c: float) -> float:
    """Two-sided normal quantile z(c + (1 - c)/2): 1.959964 at 95%, 3.090232 at 99.8%."""
    if c >= 1:
        return math.inf
    z = _Z.get(round(c, 12))
    if z is not None:
        return z
    from scipy import stats

    return float(stats.norm.ppf(c + (1 - c) / 2))


def check_new_columns(rel: duckdb.DuckDBPyRelation, names: Sequence[str]) -> None:
    """Refuse to shadow an input column: results are added, never silently overwritten."""
    clash = sorted(set(names) & set(rel.columns))
    if clash:
        raise ValueError(
            f"result column(s) {clash} already exist in the input; pass another prefix"
        )


def require_columns(rel: duckdb.DuckDBPyRelation, *names: object) -> None:
    """Fail early, naming the missing column, rather than with a binder error deep in SQL."""
    missing = [n for n in names if isinstance(n, str) and n not in rel.columns]
    if missing:
        raise ValueError(f"input relation lacks column(s) {missing}; it has {rel.columns}")


def run(rel: duckdb.DuckDBPyRelation, sql: str) -> duckdb.DuckDBPyRelation:
    """Run SQL over the relation, which it reads as ``src``; the result stays lazy."""
    result = rel.query("src", sql)
    assert result is not None  # a SELECT always yields a relation
    return result


def fmt_number(expr: str, decimals: int | None = None) -> str:
    """SQL text of a number for a basis line: fixed decimals, or about 4 significant figures."""
    if decimals is not None:
        return f"coalesce(printf('%.{int(decimals)}f', {expr}), 'NULL')"
    return (
        f"CASE WHEN {expr} IS NULL THEN 'NULL' "
        f"WHEN abs({expr}) >= 1000 THEN printf('%.0f', {expr}) "
        f"WHEN abs({expr}) >= 100 THEN printf('%.1f', {expr}) "
        f"WHEN abs({expr}) >= 10 THEN printf('%.2f', {expr}) "
        f"WHEN abs({expr}) >= 1 THEN printf('%.3f', {expr}) "
        f"ELSE printf('%.4g', {expr}) END"
    )


def polarity_sql(polarity: str | None, polarity_column: str) -> str:
    """The polarity as lower-case text: a literal (``high``/``low``/``none``/``middle``) or a column."""
    if polarity is not None:
        if polarity not in POLARITIES:
            raise ValueError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
        return literal(polarity)
    return f"lower(trim(CAST({ident(polarity_column)} AS VARCHAR)))"


def _chi2_quantile(p: pa.Array, df: pa.Array) -> pa.Array:
    """chi2inv(p, df) on whole arrays; df = 0 gives 0 (the degenerate Poisson lower limit at O = 0);
    invalid inputs give NULL."""
    from scipy import stats  # imported when a query first calls the UDF (see _Z)

    pv = np.asarray(p.to_numpy(zero_copy_only=False), dtype=float)
    dv = np.asarray(df.to_numpy(zero_copy_only=False), dtype=float)
    with np.errstate(invalid="ignore"):
        q = stats.chi2.ppf(pv, np.where(dv > 0, dv, np.nan))
        out = np.where((dv == 0) & (pv >= 0) & (pv <= 1), 0.0, q)
    return pa.array(out, type=pa.float64(), from_pandas=True)


def ensure_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """Register the engine's vectorised UDFs on a connection, once.

    ``cspa_chi2_quantile(p, df)``: the chi-square quantile (scipy.stats.chi2.ppf on whole Arrow
    arrays), which SQL lacks and the exact Poisson limits need. Cursors of the same database see
    the function, so the check is by name in ``duckdb_functions()``.
    """
    present = con.sql(
        f"SELECT count(*) FROM duckdb_functions() WHERE function_name = {literal(CHI2_QUANTILE_UDF)}"
    ).fetchall()[0][0]
    if present:
        return
    con.create_function(
        CHI2_QUANTILE_UDF,
        _chi2_quantile,
        ["DOUBLE", "DOUBLE"],
        "DOUBLE",
        type=PythonUDFType.ARROW,
        null_handling=FunctionNullHandling.SPECIAL,
    )


def connection_of(
    rel: duckdb.DuckDBPyRelation, con: duckdb.DuckDBPyConnection | None
) -> duckdb.DuckDBPyConnection:
    """The connection a relation runs on (the one its UDFs must be registered on)."""
    if con is not None:
        return con
    found = getattr(rel, "_con", None)
    if found is None:
        raise ValueError("pass con=: the relation does not say which connection it belongs to")
    return found
