"""Profile relations: percentages from counts rounded half up, super-group sums, Ofsted pools (columnar)."""

from __future__ import annotations

from cspa.assessment.profile import PROFILE, build_profile
from cspa.assessment.ruleset import load_rulesets
from cspa.catalogue.areas import DATA
from cspa.store.ingest import load_files
from cspa.store.real_data import INSPECTION_DDL


def _display(con, indicator, measure_id, geography="area", area="821"):
    return con.execute(
        f"SELECT display FROM {PROFILE} WHERE area = ? AND indicator = ? AND measure_id = ? "
        "AND geography = ?",
        [area, indicator, measure_id, geography],
    ).fetchall()[0][0]


def test_seed_counts_give_the_printed_percentages(bare_store):
    load_files(
        bare_store,
        [DATA / "seeds" / "003" / "provider_counts.csv"],
        source="seed 003",
        seed_file="003",
    )
    build_profile(bare_store.con, load_rulesets()["profile_2011"], 2011)
    con = bare_store.con
    # 1/8 = 12.5 prints 13 and 5/8 = 62.5 prints 63 (half up, 003:L25); 27/40 = 67.5 prints 68 (003:L23)
    assert _display(con, "PT_LA_SECONDARY", "pct_outstanding") == "13"
    assert _display(con, "PT_LA_SECONDARY", "pct_good") == "63"
    assert _display(con, "PT_NURSERY_EYFS_PRIMARY", "pct_good") == "68"
    # a zero percentage prints blank, % good or outstanding prints 0% (003:L20)
    assert _display(con, "PT_CHILDCARE_DOMESTIC", "pct_outstanding") == ""
    assert _display(con, "PT_CHILDCARE_DOMESTIC", "pct_good_or_outstanding") == "0%"
    # super-groups sum their members: 171 + 1 + 75 + 6 (003:L51)
    assert _display(con, "SG_EARLY_YEARS_CHILDCARE", "number_inspected") == "253"
    assert _display(con, "SG_EARLY_YEARS_CHILDCARE", "pct_good_or_outstanding") == "69%"
    basis = con.execute(
        f"SELECT basis, seed_ref FROM {PROFILE} WHERE indicator = 'SG_POST16' "
        "AND measure_id = 'pct_outstanding'"
    ).fetchall()[0]
    assert basis == (
        "percentage: 2 / 3 x 100 = 66.67, rounded half up (counts summed over the member provider types) "
        "[003:L54]",
        "003:L54",
    )


def test_ofsted_provider_counts_pool_england_and_neighbours(bare_store):
    con = bare_store.con
    con.execute(INSPECTION_DDL)
    cols = [r[0] for r in con.execute("DESCRIBE inspection_provider").fetchall()]
    rows = [  # (LA, provision type, sector, overall grade)
        ("821", "Children's home", "Local Authority", 1),
        ("821", "Children's home", "Private", 2),
        ("821", "Children's home", "Private", 4),
        ("821", "Independent Fostering Agency", "Private", 3),
        ("822", "Children's home", "Private", 2),
        ("873", "Children's home", "Private", 1),
    ]
    for i, (la, pt, sector, g) in enumerate(rows):
        rec = dict.fromkeys(cols)
        rec.update(urn=str(i), provision_type=pt, sector=sector, la_code=la, overall_grade=g)
        con.execute(
            f"INSERT INTO inspection_provider VALUES ({', '.join('?' * len(cols))})",
            [rec[c] for c in cols],
        )
    build_profile(con, load_rulesets()["ilacs_2025"], 2025)
    assert _display(con, "OF_PV_CHILDRENS_HOME", "number_inspected") == "2"
    assert _display(con, "OF_PV_CHILDRENS_HOME", "pct_inadequate") == "50"
    assert _display(con, "OF_SG_CHILDRENS_HOMES", "pct_good_or_outstanding") == "67%"  # 2 of 3
    # England pools every authority: 5 homes, 4 good or outstanding
    assert _display(con, "OF_SG_CHILDRENS_HOMES", "pct_good_or_outstanding", "england") == "80%"
    # an authority with none inspected prints 0 and no percentage
    assert _display(con, "OF_IFA", "number_inspected", area="873") == "0"
    assert _display(con, "OF_IFA", "pct_good_or_outstanding", area="873") == ""


def test_a_profiles_date_is_its_years_and_a_later_provider_snapshot_says_so(demo_con):
    """The profile says what it is as at: inspections published by the assessment date (the rule
    set's data cut-off in its year) and education to its year. Ofsted's provider outcomes at 31
    March 2023 are the only snapshot held, so a 2020 profile says they are later than its date; a
    2025 one need not; the 2011 profile keeps the seed's printed line (003)."""
    import datetime as dt

    from cspa.assessment.report import build_profile_document

    def inspected(doc):
        return [i["date"] for i in doc["inspections"] if i.get("date")]

    then = build_profile_document(demo_con, "Kent", 2020)
    assert then["period"] == (
        "Provider outcomes at 31 March 2023; LA inspections published by 31 August 2020; "
        "education to 2020. Provider outcomes are the only snapshot cspa holds, later than "
        "31 August 2020"
    )
    # what it says is what it shows: no inspection published after its date
    assert inspected(then) and max(
        dt.datetime.strptime(d, "%d/%m/%Y").date() for d in inspected(then)
    ) <= dt.date(2020, 8, 31)
    years = [c for c in then["profile_tables"]["education"]["columns"] if c.isdigit()]
    assert years and max(years) == "2020"
    now = build_profile_document(demo_con, "Kent", 2025)
    assert now["period"] == (
        "Provider outcomes at 31 March 2023; LA inspections published by 31 August 2025; "
        "education to 2025"
    )
    assert (
        build_profile_document(demo_con, "Luton", 2011)["period"] == "Quarter 10 : 03 August 2011"
    )


def test_a_letter_dated_before_the_provider_snapshot_does_not_cite_it(demo_con):
    """Ofsted's provider outcomes are held at 31 March 2023 only. Kent's 2019 letter (as at 31
    August 2019) had said "Children's homes: the very large majority of the 86 inspected (90%) are
    good or outstanding" from them; a dated letter cites nothing from after its date, so it leaves
    them out of its sentences and evidence and says why once. Its 2025 letter cites them."""
    import json

    from cspa.assessment.report import build_letter_document

    def text(doc):
        return json.dumps({k: v for k, v in doc.items() if k != "attribution"})

    then = build_letter_document(demo_con, "Kent", 2019)
    assert (
        "Ofsted's outcomes for the social care providers in the area are held only as at "
        "31 March 2023, after this letter's date (31 August 2019), so it does not cite them."
    ) in then["introduction"]
    cited = text(then).replace(then["introduction"][-1], "")
    assert "31 March 2023" not in cited and "good or outstanding" not in cited
    now = build_letter_document(demo_con, "Kent", 2025)
    assert "31 March 2023" in text(now) and "good or outstanding" in text(now)
    assert not any("does not cite them" in x for x in now["introduction"])


def test_the_overall_effectiveness_history_is_the_authoritys_own(demo_con):
    """The history block lists SIF's and ILACS's overall effectiveness judgements. The LSCB review,
    published with SIF reports on the same day, judged the safeguarding board's overall
    effectiveness: Luton's 2025 profile listed it as a second 29/03/2016 row."""
    from cspa.assessment.report import build_profile_document

    doc = build_profile_document(demo_con, "Luton", 2025)
    assert [(h["period"], h["judgement"], h["grade"]) for h in doc["assessment_history"]] == [
        ("29/03/2016", "Overall effectiveness (First SIF)", 3),
        ("13/01/2020", "Overall effectiveness (ILACS Standard Inspection)", 4),
        ("11/07/2022", "Overall effectiveness (ILACS Standard Inspection)", 3),
    ]


def test_a_block_with_nothing_to_show_says_why(demo_con, tmp_path):
    """Bournemouth's 2015 profile: Ofsted's 2023 provider snapshot lists nothing under an authority
    that ceased in 2019, and the education figures held begin in 2016; each block says so rather
    than printing zeros or an empty table. Luton's 2025 profile has both."""
    from cspa.assessment.report import build_profile_document
    from cspa.outputs.render import render

    doc = build_profile_document(demo_con, "Bournemouth", 2015)
    assert doc["empty"] == {
        "providers": "Ofsted's provider outcomes (31 March 2023) list no inspected provider in "
        "Bournemouth, which ceased on 31 March 2019.",
        "education": "cspa holds no figures of the overview's indicators (EYFS, Key Stage 2, GCSE "
        "(Attainment 8), L3 at 19) for years ending by 31 August 2015.",
    }
    assert [h["judgement"] for h in doc["assessment_history"]] == [
        "Overall effectiveness (First SIF)"
    ]
    html = render(doc, "html", tmp_path / "profile.html").read_text()
    assert (
        doc["empty"]["education"] in html.replace("&#39;", "'") and 'id="tbl-education' not in html
    )
    assert build_profile_document(demo_con, "Luton", 2025)["empty"] == {
        "providers": None,
        "education": None,
    }
