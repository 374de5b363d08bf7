"""Values within what their measure can be (data/catalogue/value_rules.yaml), known statistics, and
areas only in periods DfE publishes figures for them (data/areas/la_lifetimes.csv).

Before issue 22 a negative count, a fractional count, a percentage of 150, a numerator above its
denominator, an unknown statistic and Bedfordshire (820, abolished 2009) with a 2025 figure all loaded.
"""

from __future__ import annotations

import pytest

from cspa.catalogue.load import load_catalogue
from cspa.catalogue.value_rules import load_value_rules, measure_rules
from cspa.store.ingest import load_files
from tests.unit.store.helpers import only, refused, row, write_csv

# real definitions: 2022SC percent (input), 1003HC percent (numerator/denominator x 100),
# REFERRALS a count (dfe_csc, financial years), %_3&4yr_olds a LAIT percentage with a published exception
CASES = {
    "percent_above_100": (
        row(value="150"),
        "value",
        "150 is outside what 2022SC can be: from 0 to 100",
    ),
    "percent_below_0": (
        row(value="-0.5"),
        "value",
        "-0.5 is outside what 2022SC can be: from 0 to 100",
    ),
    "negative_count": (
        row(indicator="REFERRALS", period="2023-24", value="-3"),
        "value",
        "-3 is outside what REFERRALS can be: 0 or more and a whole number (a count figure)",
    ),
    "fractional_count": (
        row(indicator="REFERRALS", period="2023-24", value="12.5"),
        "value",
        "12.5 is outside what REFERRALS can be: 0 or more and a whole number",
    ),
    "numerator_above_denominator": (
        row(indicator="1003HC", numerator="41", denominator="40"),
        "numerator",
        "numerator 41 is above the denominator 40",
    ),
    "negative_numerator": (
        row(indicator="1003HC", numerator="-1", denominator="40"),
        "numerator",
        "-1: a numerator counts people or events and cannot be below 0",
    ),
    "negative_denominator": (
        row(indicator="2022SC", value="10", numerator="1", denominator="-40"),
        "denominator",
        "cannot be below 0",
    ),
    "rank_zero": (row(statistic="rank", value="0"), "value", "a whole number, 1 or more"),
    "median_above_100": (row(statistic="median", value="100.1"), "value", "from 0 to 100"),
    "unknown_statistic": (
        row(statistic="mean_of_everything", value="5"),
        "statistic",
        "'mean_of_everything' is not a statistic cspa knows",
    ),
    "abolished_area_later_period": (
        row(area="820", period="2024-25", value="40"),
        "period",
        "Bedfordshire (820) ceased on 31 March 2009",
    ),
    "new_area_before_it_existed": (
        row(area="822", period="2004-05", value="40"),
        "period",
        "Bedford (822) was created on 01 April 2009",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_out_of_range_refused_naming_the_cell(store, tmp_path, case):
    bad, field, message = CASES[case]
    path = write_csv(tmp_path / "ranges.csv", [row(area="872", value="40"), bad])
    p = only(refused(store, [path]))
    assert (p.file, p.row, p.field) == ("ranges.csv", 3, field)
    assert message in p.message, p.message


def test_lait_period_cell_is_named_years(store, tmp_path):
    header = ["Short Desc", "Data item", "Years", "LA and Regions", "Values", "LA Number", "Region"]
    r = {
        "Short Desc": "16-17 NEET",
        "Data item": "x",
        "Years": "2024-25",
        "LA and Regions": "Bedfordshire",
        "Values": "5.5",
        "LA Number": "820",
        "Region": "East of England",
    }
    p = only(refused(store, [write_csv(tmp_path / "lait.csv", [r], header)]))
    assert (p.file, p.row, p.field) == ("lait.csv", 2, "Years")


def test_within_range_and_published_exceptions_load(store, tmp_path):
    rows = [
        row(area="873", value="100"),
        row(area="873", period="2005-06", value="0"),
        row(indicator="1003HC", area="873", numerator="40", denominator="40"),
        row(indicator="REFERRALS", area="873", period="2023-24", value="1523"),
        # a take-up of 150.9% is published (data/catalogue/value_rules.yaml exceptions)
        row(indicator="%_3&4yr_olds", area="873", period="2019", value="150.9"),
        row(area="873", period="2007-08", statistic="rank", value="3"),
        # a status alone for an authority that had gone: LAIT prints '-' for every number every year
        row(area="820", period="2024-25", status="-"),
    ]
    [res] = load_files(store, [write_csv(tmp_path / "fine.csv", rows)])
    assert res.rows == len(rows)


def test_every_exception_names_a_measure_of_the_catalogue():
    import fnmatch

    cat = load_catalogue()
    for ex in load_value_rules().exceptions:
        assert ex.indicator in cat.indicators, ex.indicator
        mids = cat.indicators[ex.indicator].measure_ids()
        assert ex.measure is None or any(fnmatch.fnmatchcase(m, ex.measure) for m in mids), (
            ex.indicator,
            ex.measure,
        )


def test_rules_resolve_per_measure():
    rules = {(r["indicator"], r["measure"]): r for r in measure_rules(load_catalogue())}
    assert (rules[("2022SC", "value")]["min"], rules[("2022SC", "value")]["max"]) == (0, 100)
    assert rules[("REFERRALS", "value")]["whole"] is True
    assert rules[("1003HC", "value")]["num_le_den"] is True
    assert rules[("5044DE", "reengaged_pct")]["num_le_den"] is False
    # a percentage change is not bounded by 0..100 (its formula is not a share)
    assert rules[("1047SC", "pct_change_from_1998")]["min"] is None
