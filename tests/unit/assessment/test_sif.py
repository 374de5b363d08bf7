"""The SIF years (2012-2017): a rule set of their own, its model learning from SIF inspections.

Real data: Ofsted's LA inspection history 2009-2023 (inspection_la_history) in the demo database.
Hand-checked rows (the history file, Leeds, DfE 383): SLAC of 07/01/2010 (safeguarding inadequate,
looked after children requires improvement), SLAC re-inspection of safeguarding of 10/10/2011
(requires improvement), first SIF published 27/03/2015 (overall good, help and protection good,
looked after and permanence good, care leavers good, leadership outstanding).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cspa.app.web.reports_menu import assessment_years
from cspa.assessment.evaluate import evaluate
from cspa.assessment.forecast import FEATURES, MODEL_PROPOSAL, build_features, inspections_sql
from cspa.assessment.profile import population
from cspa.assessment.report import build_letter_document
from cspa.assessment.rules import propose
from cspa.assessment.ruleset import RuleSetError, load_rulesets, ruleset_for_year

SIF = load_rulesets()["sif_2013"]


def test_the_sif_inspections_pivot_one_row_per_report(demo_con):
    n, first, last = demo_con.execute(
        f"SELECT count(*), min(published), max(published) FROM {inspections_sql('SIF')}"
    ).fetchall()[0]
    assert (n, first, last) == (173, dt.date(2014, 2, 11), dt.date(2018, 8, 24))
    leeds = demo_con.execute(
        f"""SELECT overall, leaders, help_and_protection, children_in_care, care_leavers, as_at
            FROM {inspections_sql("SIF")} WHERE area = '383'"""
    ).fetchall()
    assert leeds == [(2, 1, 2, 2, 2, dt.date(2015, 3, 27))]


def test_a_sif_inspection_starts_from_what_was_published_before_it(demo_con):
    build_features(demo_con, SIF.model, inspections_sql("SIF"))
    got = dict(
        (j, (g, fw, area, pub))
        for j, g, fw, area, pub in demo_con.execute(
            f"""SELECT judgement, previous_grade, previous_framework, previous_area,
                       strftime(previous_published, '%d/%m/%Y')
                FROM {FEATURES} WHERE key = 'SIF:383:2015-03-27'"""
        ).fetchall()
    )
    # help and protection: the SLAC re-inspection of safeguarding; children looked after: the 2010 SLAC
    assert got["help_and_protection"] == (3, "SLAC", "help_and_protection", "10/10/2011")
    assert got["looked_after_and_permanence"] == (3, "SLAC", "children_in_care", "07/01/2010")
    # SLAC judged no overall effectiveness, leadership or care leavers: the weakest judgement of the
    # latest inspection before the report stands in (never the SIF report itself)
    for j in ("overall_effectiveness", "leadership_management_governance", "care_leavers"):
        assert got[j] == (3, "SLAC", "help_and_protection", "10/10/2011"), j
    # every SIF report has a starting grade, so every one can be learnt from
    assert demo_con.execute(
        f"SELECT count(*), count(previous_grade) FROM {FEATURES} WHERE key LIKE 'SIF:%'"
    ).fetchall() == [(173 * 5, 173 * 5)]


def test_the_authorities_are_those_of_the_assessment_date(demo_con):
    codes = {
        r[0]
        for r in demo_con.execute(f"SELECT area FROM {population(demo_con, SIF, 2015)}").fetchall()
    }
    assert len(codes) == 152
    # Bournemouth, Poole, Dorset and Northamptonshire before their reorganisations, not their successors
    assert {"837", "836", "835", "928"} <= codes
    assert not {"839", "838", "940", "941"} & codes


def test_before_any_sif_report_there_is_no_proposal_and_the_reason_is_given(demo_con):
    demo_con.execute("BEGIN")
    try:
        propose(demo_con, SIF, 2013)
        rows = demo_con.execute(
            f"SELECT judgement, grade, basis FROM {MODEL_PROPOSAL} WHERE area = '383' ORDER BY judgement"
        ).fetchall()
    finally:
        demo_con.execute("ROLLBACK")
    assert [r[0] for r in rows] == sorted(SIF.model.judgements)
    for _j, grade, basis in rows:
        assert grade is None
        assert basis == (
            "no proposal: no SIF inspection with this judgement had been published by 31/08/2013, and "
            "the model learns from 20 or more (the first was published on 11/02/2014)"
        )


def test_ilacs_in_its_first_summer_says_why_it_proposes_nothing(demo_con):
    # 15 ILACS reports were published by 31 August 2018: too few to learn from
    n = demo_con.execute(
        f"SELECT count(*) FROM {inspections_sql('ILACS')} WHERE published < DATE '2018-08-31'"
    ).fetchall()[0][0]
    demo_con.execute("BEGIN")
    try:
        propose(demo_con, ruleset_for_year(2018), 2018)
        basis = demo_con.execute(
            f"SELECT DISTINCT basis FROM {MODEL_PROPOSAL} WHERE judgement = 'overall_effectiveness'"
        ).fetchall()
    finally:
        demo_con.execute("ROLLBACK")
    assert n == 15
    assert basis == [
        (
            f"no proposal: only {n} ILACS inspections with this judgement had been published by "
            "31/08/2018, and the model learns from 20 or more",
        )
    ]


@pytest.fixture(scope="module")
def sif_result(demo_con):
    return evaluate(demo_con, SIF)


def test_the_sif_model_is_measured_on_a_date_split_beside_the_baselines(sif_result):
    r = sif_result
    assert r["framework"] == "SIF" and r["split_date"] == "2016-04-01"
    # 88 SIF reports were published before the split, 85 on or after it
    assert (r["train"]["n"], r["test"]["n"]) == (88, 85)
    assert r["train"]["last"] < "2016-04-01" <= r["test"]["first"]
    assert r["summary"].startswith(
        "Trained on 88 SIF inspections published before 2016-04-01 and tested on the 85 that were "
        "published on or after it"
    )
    # measured, not tuned: overall effectiveness agrees exactly no more often than carrying the
    # previous grade forward, and the summary says so
    assert "It does NOT beat previous grade carried forward" in r["summary"]
    assert set(r["judgements"]) == set(SIF.model.judgements)


def test_a_sif_letter_reports_the_proposal_its_reason_and_the_inspections(demo_con):
    doc = build_letter_document(demo_con, "Leeds", 2016)
    assert (doc["framework"]["ruleset"], doc["framework"]["id"]) == ("sif_2013", "lait")
    by = {o["id"]: o for o in doc["outcomes"]}
    hp = by["help_and_protection"]
    text = " ".join(s["text"] for p in hp["paragraphs"] for s in p)
    assert (
        "At the SIF inspection published 27/03/2015, help and protection was judged good." in text
    )
    assert hp["agreement"]["tested_on"] == "published"
    # SIF's judgements by their own names, not the areas' ILACS names ("the impact of leaders
    # (judged with leadership management governance)" before)
    lmg = by["leadership_management_governance"]
    assert " ".join(s["text"] for p in lmg["paragraphs"] for s in p) == (
        "At the SIF inspection published 27/03/2015, leadership, management and governance was judged outstanding."
    )
    # Leeds was judged good overall under SIF, which re-inspected only authorities judged inadequate:
    # its SIF judgements in force stand, and the letter says why the model is not asked
    assert [by[j]["grade"] for j in SIF.model.judgements] == [2, 2, 2, 2, 1]
    assert hp["reason"].startswith(
        "The SIF judgement in force stands: help and protection: good (First SIF, published 27/03/2015)."
    )
    # the measured agreement printed beside it is the model's, and the letter says whose grade this is
    assert hp["agreement"]["sentence"].startswith(
        "This grade is Ofsted's own in force, not the model's"
    )


def test_an_authority_sif_judged_inadequate_is_proposed_by_the_model(demo_con):
    # Birmingham: inadequate overall at its SIF re-inspection (published 25/11/2016); SIF would inspect
    # it again, and its re-inspections are what the model learnt from
    doc = build_letter_document(demo_con, "Birmingham", 2017)
    hp = next(o for o in doc["outcomes"] if o["id"] == "help_and_protection")
    assert hp["reason"].startswith(
        "What moved the proposed grade most: Latest judgement: help and protection: inadequate "
        "(SIF re-inspection, published 25/11/2016)"
    )
    assert hp["agreement"]["sentence"].startswith("Measured on the 85 SIF inspections")


def test_the_measurement_holds_no_standing_grade(sif_result):
    # every SIF report after the split that followed a SIF judgement followed an inadequate one, so the
    # standing rule never replaces the model's grade in the figures that measure it
    assert all(r["standing"] == 0 for r in sif_result["judgements"].values())


def test_a_letter_before_sif_shows_the_evidence_and_why_there_is_no_grade(demo_con):
    doc = build_letter_document(demo_con, "Leeds", 2013)
    by = {o["id"]: o for o in doc["outcomes"]}
    assert all(by[j]["grade"] is None for j in SIF.model.judgements)
    assert by["overall_effectiveness"]["reason"].startswith(
        "No proposal: no SIF inspection with this judgement had been published by 31/08/2013"
    )
    # the summary gives the same reason (it had said the rules' evidence was missing)
    assert doc["summary"][0] == (
        "No grade can be proposed for Leeds: no SIF inspection with this judgement had been published "
        "by 31/08/2013, and the model learns from 20 or more (the first was published on 11/02/2014)."
    )
    # Leeds's latest help and protection judgement then was the 2011 SLAC re-inspection
    text = " ".join(s["text"] for p in by["help_and_protection"]["paragraphs"] for s in p)
    assert "At the SLAC inspection published 10/10/2011" in text
    # nothing had judged overall effectiveness: said in words, not as a missing figure
    assert not by["overall_effectiveness"]["paragraphs"]
    assert by["overall_effectiveness"]["empty"] == (
        "No inspection published by the assessment date had judged overall effectiveness."
    )


def test_the_web_offers_each_authority_the_rule_sets_that_assessed_it():
    bournemouth = {
        "in_2008": True,
        "in_2025": False,
        "exists_from": None,
        "exists_until": dt.date(2019, 3, 31),
    }
    bcp = {
        "in_2008": False,
        "in_2025": True,
        "exists_from": dt.date(2019, 4, 1),
        "exists_until": None,
    }
    assert [(y, rs) for y, rs, _ in assessment_years(bournemouth)] == [
        (2017, "sif_2013"),
        (2011, "profile_2011"),
        (2008, "apa_2006"),
    ]
    assert [(y, rs) for y, rs, _ in assessment_years(bcp)] == [(2025, "ilacs_2025")]


def test_a_rule_set_borrowing_a_profile_must_name_one(tmp_path):
    src = {p.stem: p.read_text() for p in Path(SIF.path).parent.glob("*.yaml")}
    for name, text in src.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    (tmp_path / "sif_2013.yaml").write_text(
        src["sif_2013"].replace("profile_from: ilacs_2025", "profile_from: ilacs_2024")
    )
    load_rulesets.cache_clear()
    try:
        with pytest.raises(RuleSetError, match=r"sif_2013\.yaml: profile_from names 'ilacs_2024'"):
            load_rulesets(str(tmp_path))
    finally:
        load_rulesets.cache_clear()
    # borrowed, the profile is the other rule set's own
    assert load_rulesets()["sif_2013"].profile == load_rulesets()["ilacs_2025"].profile


def test_the_cli_measures_the_sif_model_and_names_the_rule_sets_that_have_one(demo_db):
    import json

    from typer.testing import CliRunner

    from cspa.cli import app

    r = CliRunner().invoke(
        app,
        ["assess", "evaluate", "--ruleset", "sif_2013", "--format", "json", "--db", str(demo_db)],
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert (d["ruleset"], d["framework"], d["train"]["n"], d["test"]["n"]) == (
        "sif_2013",
        "SIF",
        88,
        85,
    )
    text = CliRunner().invoke(
        app, ["assess", "evaluate", "--ruleset", "sif_2013", "--db", str(demo_db)]
    )
    assert "test 85 (published on or after)" in " ".join(text.output.split())
    r = CliRunner().invoke(
        app, ["assess", "evaluate", "--ruleset", "apa_2006", "--db", str(demo_db)]
    )
    assert r.exit_code != 0
    assert "rule sets with a model: ilacs_2025, sif_2013" in str(r.exception)
