"""Rule sets load, validate their references, and are picked by year."""

from __future__ import annotations

import pytest

from cspa.assessment.ruleset import RuleSetError, _read, load_rulesets, ruleset_for_year
from cspa.errors import CspaError


def test_shipped_rule_sets_load_and_cover_the_seed_years():
    sets = load_rulesets()
    assert set(sets) == {"apa_2006", "profile_2011", "sif_2013", "ilacs_2025"}
    assert ruleset_for_year(2006).id == "apa_2006"
    # 2008, the year of the APA dataset (seed 000) and of the last APA, was covered by no rule set
    assert ruleset_for_year(2008).id == "apa_2006"
    # every year from the first APA to ILACS's span has one
    assert all(ruleset_for_year(y) for y in range(2005, 2031))
    assert ruleset_for_year(2011).id == "profile_2011"
    # the SIF years, between the 2011 profile and ILACS, have a rule set of their own
    assert [ruleset_for_year(y).id for y in (2012, 2015, 2017)] == ["sif_2013"] * 3
    assert ruleset_for_year(2018).id == "ilacs_2025"
    assert ruleset_for_year(2025).id == "ilacs_2025"
    for rs in sets.values():
        assert len(rs.sha256) == 64 and rs.version


def test_scales_are_the_seeds_scales():
    # 004:L39-42 and 002:L34-37
    s11 = load_rulesets()["profile_2011"].scale
    assert [(g.grade, g.label) for g in s11.grades] == [
        (4, "Performs excellently"),
        (3, "Performs well"),
        (2, "Performs adequately"),
        (1, "Performs poorly"),
    ]
    s06 = load_rulesets()["apa_2006"].scale
    assert [g.capacity_descriptor for g in s06.grades] == [
        "Excellent / outstanding",
        "Good",
        "Adequate",
        "Inadequate",
    ]
    ilacs = load_rulesets()["ilacs_2025"].scale
    assert not ilacs.higher_is_better and ilacs.best == 1 and ilacs.worst == 4


def test_profile_2011_columns_agree_with_the_catalogue():
    from cspa.catalogue.load import load_catalogue

    rs = load_rulesets()["profile_2011"]
    ind = load_catalogue().get("PT_CHILDMINDER")
    for col in rs.profile.columns:
        m = ind.resolved(col.measure)
        assert m.display.decimals == col.decimals
        assert bool(m.display.percent_sign) == col.percent_sign


def test_no_rule_set_for_a_year_is_a_clear_error():
    with pytest.raises(CspaError, match="no rule set covers the year 1990"):
        ruleset_for_year(1990)


BAD = """
id: bad
version: "1"
title: t
framework: lait
years: [2000, 2001]
source: s
scale: {higher_is_better: true, grades: [{grade: 1, label: a}, {grade: 2, label: b}]}
evidence: [{id: e1, label: x, kind: record, indicator: CSA, year_offset: -1}]
judgements:
  - id: j
    label: J
    thresholds: [{id: T, grade: 2, when: {evidence: missing_one, op: ">=", value: 1}, text: t}]
"""


def test_a_rule_naming_unknown_evidence_names_file_and_field(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(BAD, encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"bad.yaml: invalid rule set: .*missing_one"):
        _read(p)


def test_a_threshold_grade_off_the_scale_is_rejected(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        BAD.replace("missing_one", "e1").replace("grade: 2, when", "grade: 7, when"),
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError, match="needs a grade of the scale"):
        _read(p)


def test_the_id_must_match_the_file_name(tmp_path):
    p = tmp_path / "other.yaml"
    p.write_text(BAD.replace("missing_one", "e1"), encoding="utf-8")
    with pytest.raises(RuleSetError, match="must match the file name"):
        _read(p)
