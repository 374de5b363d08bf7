"""The releases cspa loads are described as data (data/catalogue/releases.yaml), not as code."""

from __future__ import annotations

import datetime as dt

import pytest

from cspa.errors import CspaError
from cspa.store import real_data
from cspa.store.real_data import releases


def test_every_release_names_its_vintage_date_and_licence():
    rs = releases()
    assert set(rs) == {"lait", "cin_rates", "exclusions", "ilacs", "csc2023"}
    for r in rs.values():
        assert r.vintage and r.licence == "Open Government Licence v3.0"
        assert isinstance(r.released, dt.date), r.name
        assert r.file is None or r.file.exists(), r.file


def test_the_loaders_read_their_words_from_the_release_file():
    assert dt.date(2026, 4, 8) == real_data.LAIT_RELEASED
    assert real_data.EXCLUSIONS_FILE.name == "clean_la_data.csv"
    # seed 000's exclusions indicators are the primary and secondary phases of the DfE file
    assert real_data.EXCLUSION_INDICATORS["Primary"] == "3091DE"
    assert real_data.EXCLUSION_INDICATORS["Secondary"] == "3092DE"


def test_a_release_without_a_vintage_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "releases.yaml"
    bad.write_text("lait:\n  licence: Open Government Licence v3.0\n", encoding="utf-8")
    monkeypatch.setattr(real_data, "RELEASES", bad)
    releases.cache_clear()
    try:
        with pytest.raises(CspaError, match="release 'lait' has no vintage"):
            releases()
    finally:
        releases.cache_clear()
