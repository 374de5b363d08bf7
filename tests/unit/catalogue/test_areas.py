"""Areas resolve by name, DfE number or ONS code; unknown areas suggest close matches."""

from __future__ import annotations

import pytest

from cspa.catalogue.areas import load_areas
from cspa.catalogue.neighbours import load_neighbours
from cspa.errors import AreaNotFound


def test_counts():
    reg = load_areas()
    assert len(reg.local_authorities("2008")) == 150
    assert len(reg.local_authorities("2025")) == 153


@pytest.mark.parametrize("query", ["Luton", "luton", "LUTON", "821", "E06000032"])
def test_resolve_luton(query):
    a = load_areas().resolve(query)
    assert (a.code, a.ons_code, a.region_name) == ("821", "E06000032", "East of England")


def test_reorganisations():
    reg = load_areas()
    beds = reg.resolve("Bedfordshire")
    assert beds.in_2008 and not beds.in_2025 and set(beds.successors) == {"822", "823"}
    assert reg.resolve("Cheshire East").in_2025


def test_unknown_area_suggests():
    with pytest.raises(AreaNotFound) as e:
        load_areas().resolve("Lutn")
    assert "Luton (821)" in str(e.value)


def test_neighbour_groups():
    ng = load_neighbours()
    dfe25 = ng.of("dfe_2025", "821")
    assert len(dfe25) == 10 and dfe25[0].name == "Slough" and dfe25[0].closeness
    assert len(ng.of("dfe_2021", "821")) == 10
    assert "nfer_2007" in ng.names()
    assert len(ng.of("nfer_2007", "821")) == 10
