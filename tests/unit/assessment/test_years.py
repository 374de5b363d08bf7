"""Every assessment year has a rule set, and each reads what was published by its date."""

from __future__ import annotations

from cspa.assessment.report import build_letter_document


def _periods(doc: dict) -> set[str]:
    return {x["period"] for e in doc["evidence"] for x in (e.get("details") or [])}


def test_the_2008_apa_letter_reads_the_2008_dataset(demo_con):
    """2008, the year of the APA dataset (seed 000) and the last APA, had no rule set. Luton's 2008
    letter now grades all nine APA judgements from the figures for periods ending by 31 August 2008
    (the 2007/08 figures, 000's latest); the 2006 letter reads none of them."""
    doc = build_letter_document(demo_con, "Luton", 2008)
    assert doc["framework"]["ruleset"] == "apa_2006"
    assert len(doc["grades"]) == 9 and all(g["grade"] is not None for g in doc["grades"])
    assert {"2007/08", "2007-08"} <= _periods(doc)
    earlier = _periods(build_letter_document(demo_con, "Luton", 2006))
    assert not {"2007/08", "2007-08", "2006/07", "2007"} & earlier
