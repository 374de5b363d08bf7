"""The catalogue holds every indicator of seed 000's contents, and its definitions match the seed lines they cite."""

from __future__ import annotations

import re

import pytest
import yaml

from cspa.catalogue.load import load_catalogue, read_catalogue
from cspa.catalogue.models import Indicator, parse_cutoff
from cspa.errors import CatalogueError
from tests.seeds import seed_lines

LINES = seed_lines()
# The contents run from the first "Universal Code" header (000:L47) to the appendices (000:L202).
CONTENTS = {m.group(1) for line in LINES[47:203] if (m := re.match(r"^(\d{4}[A-Z]{2})\t", line))}


def test_contents_parsed_from_seed():
    # 000:L50-202 list 109 codes ("about 110"), 7001OF-7004OF included.
    assert len(CONTENTS) == 109
    assert {"1003HC", "6049DE", "7001OF", "7004OF"} <= CONTENTS


def test_every_contents_code_is_catalogued():
    cat = load_catalogue()
    apa = {i.code for i in cat.in_framework("apa2008")}
    assert sorted(CONTENTS - apa) == []


def test_contents_titles_pages_and_flags_match():
    cat = load_catalogue()
    for line in LINES[47:203]:
        cells = line.split("\t")
        if not re.match(r"^\d{4}[A-Z]{2}$", cells[0]):
            continue
        ind = cat.get(cells[0])
        page = int(cells[2]) if len(cells) > 2 and cells[2].strip().isdigit() else None
        assert ind.page == page, (ind.code, ind.page, page)
        assert ind.updated_from_previous == (len(cells) > 3 and cells[3].strip() == "y"), ind.code
        assert ind.updated_from_v1 == (len(cells) > 4 and cells[4].strip() == "y"), ind.code


def _bands_with_lines():
    for ind in load_catalogue().in_framework("apa2008"):
        sets = list(ind.bands) + [b for m in ind.measures for b in (m.bands or [])]
        for b in sets:
            if b.seed_line:
                yield pytest.param(ind.code, b, id=f"{ind.code}-{b.periods}-L{b.seed_line}")


@pytest.mark.parametrize(("code", "bandset"), list(_bands_with_lines()))
def test_band_cutoffs_match_their_seed_line(code, bandset):
    """Every banded period's printed cut-offs appear, in order, on the seed line the catalogue cites."""
    line = LINES[bandset.seed_line].replace(" ", "")
    pos = 0
    printed = [c for c in bandset.cutoffs if c != "."]
    for c in printed:
        found = line.find(c.replace(" ", ""), pos)
        assert found >= 0, (
            f"{code}: cut-off {c!r} not on 000:L{bandset.seed_line}: {LINES[bandset.seed_line]!r}"
        )
        pos = found + 1


def test_sample_definitions_against_seed():
    cat = load_catalogue()
    # 2022SC: whole-number percentage, high is good, three band rows (000:L1380-1397).
    i = cat.get("2022SC")
    assert (i.display.decimals, i.polarity.value) == (0, "high")
    assert [b.periods for b in i.bands] == ["2004-05", "2005-06", "2006-08"]
    assert i.bands[2].cutoffs == ["0<60", "60<70", "70<75", "75<80", "80<=100"]
    # 1003HC: one decimal with %, high is good (000:L225 "High is good").
    i = cat.get("1003HC")
    assert i.polarity.value == "high" and i.display.percent_sign and i.display.decimals == 1
    # 1015HC: low is good (000:L394), rate per 1,000.
    i = cat.get("1015HC")
    assert i.polarity.value == "low"
    # 2059SC: symmetric nine-band row, middle best (000:L2775-2777).
    i = cat.get("2059SC")
    assert i.polarity.value == "middle" and i.bands[0].blobs == [1, 2, 3, 4, 5, 4, 3, 2, 1]
    # 1040NT: thresholds change between 2005 and 2006/07 (000:L711-741).
    rule = cat.get("1040NT").resolved("aged_under_18").traffic_light
    assert rule.rule == "fixed_thresholds" and [t.green_above for t in rule.by_period] == [7, 14]


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("0<45", (0, 45, False)),
        ("80<=100", (80, 100, True)),
        ("3+", (3, None, True)),
        ("£467<£537", (467, 537, False)),
        ("4,5", (4, 5, True)),
        (".", None),
        ("16.01<20", (16.01, 20, False)),
    ],
)
def test_cutoff_grammar(text, parsed):
    assert parse_cutoff(text) == parsed


def test_invalid_definition_names_file_and_field(tmp_path):
    root = tmp_path / "catalogue"
    (root / "frameworks").mkdir(parents=True)
    (root / "frameworks" / "t.yaml").write_text("id: t\ntitle: T\n")
    (root / "t").mkdir()
    good = yaml.safe_load((load_catalogue().files["2022SC"]).read_text())
    good["framework"] = "t"
    bad = dict(good, polarity="sideways")
    (root / "t" / "2022SC.yaml").write_text(yaml.safe_dump(bad))
    with pytest.raises(CatalogueError) as e:
        read_catalogue(root)
    assert "2022SC.yaml" in str(e.value) and "field polarity" in str(e.value)


def test_unknown_key_is_an_error():
    data = yaml.safe_load(load_catalogue().files["2022SC"].read_text())
    data["polarty"] = "high"
    with pytest.raises(Exception, match="polarty"):
        Indicator.model_validate(data)
