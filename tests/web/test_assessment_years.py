"""The assessment page offers every year a rule set assesses the authority, not one per rule set."""

from __future__ import annotations

import re


def test_an_abolished_authority_is_assessed_in_the_years_it_existed(client):
    # Bournemouth (DfE 837) existed until 31 March 2019: the SIF years, the 2011 profile and the
    # APA, not ILACS's
    r = client.get("/areas/837/assessment?year=2015")
    assert r.status_code == 200
    assert "Assessment 2015" in r.text
    assert (
        "Children&#39;s services assessment in SIF terms (proposed from published data): Bournemouth, 2015"
        in r.text
    )
    nav = r.text[r.text.index('id="years-title"') :]
    nav = nav[: nav.index("</nav>")]
    linked = [int(y) for y in re.findall(r"assessment\?year=(\d{4})", nav)]
    assert linked == [2012, 2013, 2014, 2016, 2017, 2009, 2010, 2011, 2005, 2006, 2007, 2008]
    assert '<strong aria-current="page">2015</strong>' in nav
    missing = client.get("/areas/837/assessment?year=2019")
    assert missing.status_code == 404
    assert "2012-2017 (sif_2013)" in missing.text


def test_a_current_authority_is_offered_the_ilacs_years_first(client):
    r = client.get("/areas/821/assessment")
    assert r.status_code == 200 and "Assessment 2025" in r.text
    nav = r.text[r.text.index('id="years-title"') :]
    nav = nav[: nav.index("</nav>")]
    years = [int(y) for y in re.findall(r"assessment\?year=(\d{4})", nav)]
    # ILACS from 2018, then the SIF years, the profile and the APA; Luton existed throughout
    assert years[:7] == [2018, 2019, 2020, 2021, 2022, 2023, 2024]
    assert {2008, 2012, 2017} <= set(years) and 2025 not in years


def test_an_apa_year_shows_its_letter_without_a_profile(client):
    # the APA rule set defines no performance profile: its years' pages had been 'not found'
    r = client.get("/areas/821/assessment?year=2008")
    assert r.status_code == 200
    assert (
        "Annual performance assessment of services for children and young people (proposed grades): Luton, 2008"
        in r.text
    )
    assert "The apa_2006 rule set defines no performance profile" in r.text
    assert "reports/profile?format=html&amp;year=2008" not in r.text
    # nor does the area page offer an APA profile to download
    area = client.get("/areas/821").text
    assert "Assessment letter 2008" in area and "Performance profile 2008" not in area


def test_the_api_lists_the_years_an_authority_can_be_assessed_in(client):
    data = client.get("/api/v1/areas/837").json()
    spans = data.get("data", data)["assessments"]
    assert [(s["ruleset"], s["years"][0], s["years"][-1]) for s in spans] == [
        ("sif_2013", 2012, 2017),
        ("profile_2011", 2009, 2011),
        ("apa_2006", 2005, 2008),
    ]
    # each year is one the letter endpoint answers for
    r = client.get("/api/v1/areas/837/reports/letter", params={"year": 2013})
    assert r.status_code == 200
