"""Every class of malformed input the issue lists, through ``cspa load`` as a user runs it: each is
refused with a message naming the file, the row as the file numbers it and the column as the file
spells it, and the database file is byte for byte what it was (its SHA-256, and nothing left beside
it). This table is the count the issue's note reports: one case per input tried.

Before issue 22, 19 of these loaded and 5 failed with "Unexpected error" (issue 22's list).
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.unit.cli.helpers import cspa

LONG = [
    "indicator",
    "measure",
    "area",
    "period",
    "statistic",
    "value",
    "numerator",
    "denominator",
    "status",
]
LAIT = ["Short Desc", "Data item", "Years", "LA and Regions", "Values", "LA Number", "Region"]


def _csv(folder: Path, name: str, rows: list, header: list[str] = LONG) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header] if isinstance(r, dict) else r)
    path = folder / name
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def r(**kw) -> dict:
    return {"indicator": "2022SC", "area": "821", "period": "2006-07", "value": "40", **kw}


def one(row: dict, name: str = "in.csv") -> Callable[[Path], list[Path]]:
    return lambda d: [_csv(d, name, [row])]


def _xlsx(d: Path, name: str, rows: list[list]) -> list[Path]:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "observations"
    for row in rows:
        ws.append(row)
    wb.save(d / name)
    return [d / name]


def _parquet(d: Path, name: str, value: float) -> list[Path]:
    table = pa.table(
        {"indicator": ["2022SC"], "area": ["821"], "period": ["2006-07"], "value": [value]}
    )
    pq.write_table(table, d / name)
    return [d / name]


def _write(d: Path, name: str, data: bytes) -> list[Path]:
    (d / name).write_bytes(data)
    return [d / name]


def _two(d: Path, first: dict, second: dict) -> list[Path]:
    return [_csv(d, "a.csv", [first]), _csv(d, "b.csv", [second])]


def _same_bytes(d: Path) -> list[Path]:
    a = _csv(d, "a.csv", [r()])
    shutil.copy(a, d / "copy.csv")
    return [a, d / "copy.csv"]


def _glob(d: Path, name: str, decoys: list[str]) -> list[Path]:
    for decoy in decoys:
        _csv(d, decoy, [r()])
    return [d / name]


def _folder(d: Path) -> list[Path]:
    (d / "folder").mkdir()
    _csv(d / "folder", "in.csv", [r()])
    return [d / "folder"]


PCT_N = {"indicator": "1003HC", "value": ""}
COUNT = {"indicator": "1032OF", "measure": "schools", "period": "2007"}

# class: (files, what the error must say)
CASES: dict[str, tuple[Callable[[Path], list[Path]], str]] = {
    # numbers that are not figures
    "value NaN": (one(r(value="NaN")), "in.csv, row 2, field 'value': 'NaN' is not a figure"),
    "value nan": (one(r(value="nan")), "'nan' is not a figure"),
    "value inf": (one(r(value="inf")), "'inf' is not a figure"),
    "value -Infinity": (one(r(value="-Infinity")), "'-Infinity' is not a figure"),
    "value 1e309": (one(r(value="1e309")), "'1e309' is too large to be a figure"),
    "value 19,5": (one(r(value="19,5")), "field 'value': '19,5': a comma is not read"),
    "value 1,2,3": (one(r(value="1,2,3")), "'1,2,3': a comma is not read"),
    "value 1,118": (one(r(value="1,118")), "'1,118': a comma is not read"),
    "value 1_000": (one(r(value="1_000")), "'1_000': digit groups with '_' are not read"),
    "value Arabic-Indic digits": (one(r(value="٤٥")), "use the digits 0-9"),
    "value 0x1A": (one(r(value="0x1A")), "'0x1A' is not a number"),
    "value 4 0": (one(r(value="4 0")), "'4 0' is not a number"),
    "value 12abc": (one(r(value="12abc")), "'12abc' is not a number"),
    "numerator NaN": (
        one(r(**PCT_N, numerator="NaN", denominator="10")),
        "field 'numerator': 'NaN' is not a figure",
    ),
    "denominator 1,000": (
        one(r(**PCT_N, numerator="5", denominator="1,000")),
        "field 'denominator': '1,000': a comma",
    ),
    "parquet NaN": (
        lambda d: _parquet(d, "nan.parquet", float("nan")),
        "nan.parquet, row 1, field 'value'",
    ),
    "parquet inf": (lambda d: _parquet(d, "inf.parquet", float("inf")), "'inf' is not a figure"),
    # ranges
    "percentage 150": (
        one(r(value="150")),
        "field 'value': 150 is outside what 2022SC can be: from 0 to 100",
    ),
    "percentage -1": (one(r(value="-1")), "-1 is outside what 2022SC can be"),
    "negative count": (one(r(**COUNT, value="-3")), "-3 is outside what 1032OF schools can be"),
    "fractional count": (
        one(r(**COUNT, value="2.5")),
        "2.5 is outside what 1032OF schools can be: 0 or more and a whole number",
    ),
    "negative numerator": (
        one(r(**PCT_N, numerator="-1", denominator="10")),
        "field 'numerator': -1: a numerator counts people or events",
    ),
    "numerator above denominator": (
        one(r(**PCT_N, numerator="11", denominator="10")),
        "numerator 11 is above the denominator 10",
    ),
    "zero denominator": (
        one(r(**PCT_N, numerator="1", denominator="0")),
        "field 'denominator': zero denominator",
    ),
    "rank 0": (one(r(statistic="rank", value="0")), "a whole number, 1 or more"),
    # areas, statistics, catalogue
    "area outside its lifetime (820 in 2024-25)": (
        one(r(area="820", period="2024-25")),
        "field 'period': '2024-25': Bedfordshire (820) ceased on 31 March 2009",
    ),
    "unknown area": (one(r(area="Atlantis")), "field 'area': No area matches 'Atlantis'"),
    "unknown statistic": (
        one(r(statistic="meadian")),
        "field 'statistic': 'meadian' is not a statistic cspa knows",
    ),
    "unknown indicator": (
        one(r(indicator="9999XX")),
        "field 'indicator': '9999XX' is not in the catalogue",
    ),
    "unknown measure": (one(r(measure="nope")), "field 'measure': 2022SC has no measure 'nope'"),
    "unknown status symbol": (
        one(r(value="", status="???")),
        "field 'status': unknown status symbol '???'",
    ),
    "mixed units": (one(r(value="£40")), "'£' given but 2022SC is measured in percent"),
    "nothing in a row": (one(r(value="")), "field 'value': no value, numerator, status or text"),
    # periods
    "period 0000": (one(r(period="0000")), "field 'period': cannot read period '0000'"),
    "period 2007-05": (one(r(period="2007-05")), "cannot read period '2007-05'"),
    "period 99999-00": (one(r(period="99999-00")), "cannot read period '99999-00'"),
    "period empty": (one(r(period="")), "field 'period': empty"),
    # one load, one consistent set
    "same key in two files": (
        lambda d: _two(d, r(value="41"), r(value="42")),
        "b.csv, row 2: 2022SC / value / 821 / 2006-07 / value is also given by a.csv, row 2",
    ),
    "same file twice": (
        lambda d: [_csv(d, "a.csv", [r()])] * 2,
        "a.csv: given twice in this load (the same file)",
    ),
    "same bytes under two names": (
        _same_bytes,
        "copy.csv: given twice in this load (the same content as a.csv)",
    ),
    "good file then bad file": (
        lambda d: _two(d, r(area="873"), r(value="xx")),
        "b.csv, row 2, field 'value': 'xx' is not a number",
    ),
    "duplicate key in one file": (
        lambda d: [_csv(d, "dup.csv", [r(), r(value="41")])],
        "dup.csv, row 3: duplicate key 2022SC / value / 821 / 2006-07 / value (also row 2)",
    ),
    "header only": (lambda d: [_csv(d, "hdr.csv", [])], "hdr.csv: no data rows (only a header)"),
    "empty file": (lambda d: _write(d, "empty.csv", b""), "empty.csv: the file is empty"),
    # names are names
    "glob[1].csv (glob1.csv exists)": (
        lambda d: _glob(d, "glob[1].csv", ["glob1.csv"]),
        "glob[1].csv: file not found",
    ),
    "star_*.csv (star_1, star_2 exist)": (
        lambda d: _glob(d, "star_*.csv", ["star_1.csv", "star_2.csv"]),
        "star_*.csv: file not found",
    ),
    "a folder": (_folder, "folder: is a folder, not a file"),
    "a missing file": (lambda d: [d / "nope.csv"], "nope.csv: file not found"),
    "an unsupported suffix": (
        lambda d: _write(d, "x.doc", b"a"),
        "x.doc: unsupported file type '.doc'",
    ),
    # damaged files
    "binary bytes": (
        lambda d: _write(d, "bin.csv", b"indicator,area\x00\xff\xfe"),
        "bin.csv, row 1: not UTF-8 text",
    ),
    "latin-1 text": (
        lambda d: _write(
            d,
            "latin.csv",
            "indicator,area,period,value\n2022SC,821,2006-07,4\xe9\n".encode("latin-1"),
        ),
        "latin.csv, row 2: not UTF-8 text",
    ),
    "repeated header column": (
        lambda d: [
            _csv(
                d,
                "rep.csv",
                [["2022SC", "821", "2006-07", "4", "5"]],
                ["indicator", "area", "period", "value", "value"],
            )
        ],
        "rep.csv, row 1, field 'value': column 'value' appears twice in the header (columns D and E)",
    ),
    "unknown column": (
        lambda d: [
            _csv(
                d,
                "unk.csv",
                [["2022SC", "821", "2006-07", "4", "x"]],
                ["indicator", "area", "period", "value", "colour"],
            )
        ],
        "unk.csv, row 1: unknown columns ['colour']",
    ),
    "missing required column": (
        lambda d: [
            _csv(d, "req.csv", [["2022SC", "2006-07", "4"]], ["indicator", "period", "value"])
        ],
        "req.csv, row 1, field 'area': required column missing",
    ),
    "truncated quote": (
        lambda d: _write(
            d, "trunc.csv", b'indicator,area,period,value,text\n2022SC,821,2006-07,4,"unterminated'
        ),
        "trunc.csv, row 2: unterminated quote",
    ),
    "ragged row": (
        lambda d: [
            _csv(d, "rag.csv", [["2022SC", "821"]], ["indicator", "area", "period", "value"])
        ],
        "rag.csv, row 2: 2 fields where the header has 4",
    ),
    # the user's column names (LAIT)
    "LAIT Values 19,5": (
        lambda d: [
            _csv(d, "lait.csv", [["2022SC", "x", "2006-07", "Luton", "19,5", "821", "East"]], LAIT)
        ],
        "lait.csv, row 2, field 'Values': '19,5': a comma",
    ),
    "LAIT Years 0000": (
        lambda d: [
            _csv(d, "lait.csv", [["2022SC", "x", "0000", "Luton", "19", "821", "East"]], LAIT)
        ],
        "lait.csv, row 2, field 'Years': cannot read period '0000'",
    ),
    "LAIT Short Desc unknown": (
        lambda d: [
            _csv(d, "lait.csv", [["NOPE", "x", "2006-07", "Luton", "19", "821", "East"]], LAIT)
        ],
        "lait.csv, row 2, field 'Short Desc': 'NOPE' is not in the catalogue",
    ),
    # Excel and Parquet
    "XLSX formula cell": (
        lambda d: _xlsx(
            d,
            "f.xlsx",
            [["indicator", "area", "period", "value"], ["2022SC", "821", "2006-07", "=1+1"]],
        ),
        "f.xlsx, row 2, field 'value': cell D2 holds a formula (=1+1)",
    ),
    "XLSX header only": (
        lambda d: _xlsx(d, "h.xlsx", [["indicator", "area", "period", "value"]]),
        "h.xlsx: no data rows (only a header)",
    ),
    "XLSX damaged": (
        lambda d: _write(d, "broken.xlsx", b"PK\x03\x04garbage"),
        "broken.xlsx: not a readable Excel workbook",
    ),
    "Parquet damaged": (
        lambda d: _write(d, "bad.parquet", b"PAR1nope"),
        "bad.parquet: not a readable Parquet file",
    ),
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("refused")
    db = folder / "cspa.duckdb"
    base = _csv(folder, "base.csv", [r(), r(area="872", value="51")])
    got = cspa("load", str(base), "--db", str(db), "--vintage", "base")
    assert got.code == 0, got.err
    return db


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_refused_load_names_the_place_and_leaves_the_database_byte_for_byte(
    database, tmp_path, case
):
    make, says = CASES[case]
    files = make(tmp_path)
    before = _sha(database)
    beside = sorted(p.name for p in database.parent.iterdir())
    got = cspa("load", *map(str, files), "--db", str(database))
    assert got.code == 1 and not got.unexpected, got.err
    assert "Load refused, nothing was written" in got.err or "nothing was loaded" in got.err, (
        got.err
    )
    assert says in got.err, got.err
    assert _sha(database) == before
    assert sorted(p.name for p in database.parent.iterdir()) == beside  # no copy or journal left


def test_the_table_covers_the_issues_classes():
    """The count the issue's note gives (one case per malformed input tried)."""
    assert len(CASES) >= 60
