"""Group-specific PAF cut-offs (000:L6754 "Bands for ACA group 2") and their validation."""

from __future__ import annotations

import copy

import pytest

from cspa.catalogue.load import load_catalogue
from cspa.errors import CatalogueError
from cspa.store.database import Store


def _rows(judgements, area: str, period: str) -> list[dict]:
    return [
        j
        for j in judgements
        if j["indicator"] == "6024SC"
        and j["area"] == area
        and j["period_label"] == period
        and j["for_area"] is None
    ]


@pytest.mark.golden
@pytest.mark.parametrize(
    ("period", "band", "band_range"),
    [
        ("2005-06", 3, "£553<£636"),  # 000:L6742 Luton 592 on the 2005-06 row, 000:L6762
        ("2001-02", 3, "£467<£537"),  # 000:L6742 Luton 509 on the 2001-02 row, 000:L6758
    ],
)
def test_group_cutoffs_band_the_authority(judgements, period, band, band_range):
    (row,) = _rows(judgements, "821", period)
    assert (row["band"], row["band_range"]) == (band, band_range)


@pytest.mark.golden
def test_group_cutoffs_band_the_group_row(judgements):
    # 000:L6743 "ACA Grp 2" 456 in 2001-02 falls in £350<£467 (000:L6758)
    (row,) = _rows(judgements, "SN:aca_2008:821", "2001-02")
    assert (row["band"], row["band_range"]) == (4, "£350<£467")


@pytest.mark.golden
def test_england_is_not_banded_on_group_cutoffs(judgements):
    # 000:L6739 "N.B. England figures are not banded": the ACA group 2 cut-offs are not England's
    rows = [
        j
        for j in judgements
        if j["indicator"] == "6024SC" and j["area"] == "E92000001" and j["for_area"] is None
    ]
    assert len(rows) == 7, "England 2001-02 to 2007-08 (000:L6744)"
    for row in rows:
        assert row["band"] is None
        assert (
            row["band_basis"]
            == "not banded: the cut-offs for this period apply to aca_2008 authorities only"
        )


def test_unknown_band_group_is_an_error_naming_file_and_field():
    shared = load_catalogue()  # cached for the whole process: changed only in a copy
    cat = copy.copy(shared)
    cat.indicators = dict(shared.indicators)
    ind = cat.indicators["6024SC"]
    bands = [b.model_copy(update={"group": "aca_2099"}) for b in ind.bands]
    cat.indicators["6024SC"] = ind.model_copy(update={"bands": bands})
    store = Store.open(":memory:")
    try:
        with pytest.raises(
            CatalogueError, match=r"catalogue/apa2008/6024SC\.yaml: bands\[1\]\.group 'aca_2099'"
        ):
            store.sync_reference(catalogue=cat)
        assert store.count("band") == 0, "nothing is written when the catalogue is invalid"
    finally:
        store.close()
    assert load_catalogue().indicators["6024SC"].bands[0].group == "aca_2008", (
        "the shared catalogue is unchanged"
    )
