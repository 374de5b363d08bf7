"""The JSON API: reads with pagination and ETags, reports in the shared envelope, writes with a
bearer token under the pages' role rules and optimistic locking."""

from __future__ import annotations

import pytest

from cspa.app.web.security import new_token

# one worker runs the module, so its app (a copy of the store) is made once
pytestmark = pytest.mark.xdist_group("web-api")


@pytest.fixture(scope="module")
def tokens(app):
    st = app.state.state
    return {
        u: new_token(st, u, "tests")
        for u in ("viewer1", "editor821", "editor909", "inspector821", "admin1")
    }


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_openapi_document_lists_every_route(client):
    doc = client.get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    for p in (
        "/areas",
        "/areas/{dfe}",
        "/indicators",
        "/indicators/{code}",
        "/indicators/{code}/figures",
        "/areas/{dfe}/observations",
        "/areas/{dfe}/judgements",
        "/areas/{dfe}/reports/{kind}",
        "/areas/{dfe}/targets",
        "/areas/{dfe}/actuals",
        "/areas/{dfe}/commentary",
        "/areas/{dfe}/moderations",
        "/loads",
    ):
        assert p in paths, p
    # the bearer scheme is declared: required by every write, optional for reads
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `cspa web token USERNAME`.",
    }
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            want = [{"bearer": []}] if method == "post" else [{}, {"bearer": []}]
            assert op["security"] == want, (method, path)
    assert doc["paths"]["/areas/{dfe}/targets"]["post"]


def test_areas_are_paginated_with_links(client):
    first = client.get("/api/v1/areas", params={"per_page": 50}).json()
    assert first["total"] == 153 and len(first["items"]) == 50 and first["page"] == 1
    seen = [a["dfe_code"] for a in first["items"]]
    url = first["links"]["next"]
    while url:
        page = client.get(url).json()
        seen += [a["dfe_code"] for a in page["items"]]
        url = page["links"]["next"]
    assert len(seen) == len(set(seen)) == 153
    assert client.get("/api/v1/areas", params={"per_page": 5000}).status_code == 422


def test_etag_gives_304_until_something_changes(client):
    r = client.get("/api/v1/areas/821")
    assert r.status_code == 200 and r.json()["name"] == "Luton"
    again = client.get("/api/v1/areas/821", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/api/v1/areas/821", headers={"If-None-Match": '"other"'}).status_code == 200


def test_judgements_filtered_by_indicator_period_and_geography(client, app):
    with app.state.db.read() as cur:
        ((period,),) = cur.execute(
            "SELECT period FROM web_judgement WHERE indicator = 'CLA_RATE' AND area = '821' "
            "ORDER BY period_end DESC LIMIT 1"
        ).fetchall() or [(None,)]
    if period is None:
        with app.state.db.read() as cur:
            ((code, period),) = cur.execute(
                "SELECT indicator, period FROM web_judgement WHERE area = '821' AND value IS NOT NULL "
                "AND indicator IN (SELECT code FROM indicator WHERE framework = 'lait') LIMIT 1"
            ).fetchall()
    else:
        code = "CLA_RATE"
    r = client.get(
        "/api/v1/areas/821/judgements", params={"indicator": code, "period": period}
    ).json()
    assert r["total"] >= 2
    assert {i["indicator"] for i in r["items"]} == {code}
    assert {i["period"] for i in r["items"]} == {period}
    assert "country" in {i["area_type"] for i in r["items"]}
    only_la = client.get(
        "/api/v1/areas/821/judgements",
        params={"indicator": code, "period": period, "geography": "la"},
    ).json()
    assert {i["area"] for i in only_la["items"]} == {"821"}


def test_observations_and_indicators(client):
    obs = client.get("/api/v1/areas/821/observations", params={"indicator": "NI 59"}).json()
    assert obs["total"] > 0 and all(o["indicator"] == "NI 59" for o in obs["items"])
    ind = client.get("/api/v1/indicators/10_ICPC").json()
    assert ind["code"] == "10_ICPC" and ind["measures"]
    lait = client.get("/api/v1/indicators", params={"framework": "lait", "per_page": 1}).json()
    assert lait["total"] == 434


def test_report_in_the_shared_json_envelope(client):
    r = client.get(
        "/api/v1/areas/821/reports/letter", params={"year": 2011, "ruleset": "profile_2011"}
    )
    assert r.status_code == 200
    doc = r.json()
    assert doc["report"] == "letter" and doc["attribution"]
    # the quarterly report holds unpublished figures: not for anonymous readers
    assert (
        client.get(
            "/api/v1/areas/821/reports/quarterly", params={"period": "2007-08-Q4"}
        ).status_code
        == 401
    )


def test_writes_need_a_token_and_the_right_role(client, tokens):
    body = {"indicator": "NI 59", "period": "2007-08-Q4", "value": 71, "expected": "new"}
    assert client.post("/api/v1/areas/821/targets", json=body).status_code == 401
    assert (
        client.post("/api/v1/areas/821/targets", json=body, headers=auth("cspa_forged")).status_code
        == 401
    )
    assert (
        client.post(
            "/api/v1/areas/821/targets", json=body, headers=auth(tokens["viewer1"])
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/areas/821/targets", json=body, headers=auth(tokens["editor909"])
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/areas/821/targets", json=body, headers=auth(tokens["inspector821"])
        ).status_code
        == 403
    )
    mod = {
        "year": 2011,
        "judgement": "childrens_services_assessment",
        "action": "override",
        "grade": 2,
        "reason": "test",
    }
    assert (
        client.post(
            "/api/v1/areas/821/moderations", json=mod, headers=auth(tokens["editor821"])
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/loads?filename=x.csv", content=b"x", headers=auth(tokens["editor821"])
        ).status_code
        == 403
    )


def test_only_who_may_change_an_entry_reads_its_current_version(client, tokens):
    q = {"indicator": "NI 59", "period": "2007-08-Q4", "measure": "actual"}
    assert client.get("/api/v1/areas/821/actuals/current", params=q).status_code == 401
    for who in ("viewer1", "editor909", "inspector821"):
        r = client.get("/api/v1/areas/821/actuals/current", params=q, headers=auth(tokens[who]))
        assert r.status_code == 403, who
    assert (
        client.get(
            "/api/v1/areas/821/actuals/current", params=q, headers=auth(tokens["editor821"])
        ).status_code
        == 200
    )


def test_editor_writes_target_then_a_stale_write_is_a_conflict(client, tokens):
    h = auth(tokens["editor821"])
    cur = client.get(
        "/api/v1/areas/821/targets/current",
        params={"indicator": "NI 59", "period": "2007-08-Q4", "measure": "actual"},
        headers=h,
    ).json()
    assert cur["current"]["value"] == 65.0  # the seed's local target for the quarter (001:L41)
    seen = cur["version"]
    first = client.post(
        "/api/v1/areas/821/targets",
        json={
            "indicator": "NI 59",
            "period": "2007-08-Q4",
            "measure": "actual",
            "value": 66,
            "expected": seen,
        },
        headers=h,
    )
    assert first.status_code == 201, first.text
    assert first.json()["before"]["value"] == 65.0 and first.json()["after"]["value"] == 66.0
    stale = client.post(
        "/api/v1/areas/821/targets",
        json={
            "indicator": "NI 59",
            "period": "2007-08-Q4",
            "measure": "actual",
            "value": 67,
            "expected": seen,
        },
        headers=h,
    )
    assert stale.status_code == 409
    c = stale.json()["conflicts"][0]
    assert (
        c["current"]["value"] == 66.0
        and c["by"] == "editor821"
        and c["version"] == first.json()["version"]
    )
    again = client.post(
        "/api/v1/areas/821/targets",
        json={
            "indicator": "NI 59",
            "period": "2007-08-Q4",
            "measure": "actual",
            "value": 67,
            "expected": c["version"],
        },
        headers=h,
    )
    assert again.status_code == 201


def test_bad_values_are_refused_naming_the_field(client, tokens):
    h = auth(tokens["editor821"])
    r = client.post(
        "/api/v1/areas/821/actuals",
        json={"indicator": "NI 59", "period": "2007-08-Q4", "value": 150, "expected": "x"},
        headers=h,
    )
    assert r.status_code == 400 and r.json()["field"] == "value" and "100%" in r.json()["error"]
    r = client.post(
        "/api/v1/areas/821/commentary",
        json={"indicator": "NOPE", "period": "2007-08-Q4", "text": "x"},
        headers=h,
    )
    assert r.status_code == 400 and r.json()["field"] == "indicator"
    r = client.post(
        "/api/v1/areas/821/targets",
        json={"indicator": "NI 59", "period": "not a period", "value": 1},
        headers=h,
    )
    assert r.status_code == 400 and r.json()["field"] == "period"


def test_inspector_moderates_through_the_api(client, tokens):
    h = auth(tokens["inspector821"])
    j = "childrens_services_assessment"
    cur = client.get(
        "/api/v1/areas/821/moderations/current", params={"year": 2011, "judgement": j}, headers=h
    ).json()
    r = client.post(
        "/api/v1/areas/821/moderations",
        json={
            "year": 2011,
            "judgement": j,
            "action": "override",
            "grade": 3,
            "reason": "API test",
            "expected": cur["version"],
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    letter = client.get(
        "/api/v1/areas/821/reports/letter", params={"year": 2011, "ruleset": "profile_2011"}
    ).json()
    g = next(g for g in letter["grades"] if g["judgement_id"] == j)
    assert g["grade"] == 3 and g["moderation"]["by"] == "inspector821"


def test_an_indicators_figures_for_every_authority_paged(client, app, tokens):
    """/indicators/{code}/figures: every authority's, region's and England's figure of the
    indicator (the indicator page's CSV as JSON), paged; one period by key or label; each row's
    publisher and licence; small counts suppressed but for administrators."""
    with app.state.db.read() as cur:
        ((code, measure, period, label, n, value),) = cur.execute(
            """SELECT j.indicator, j.measure, j.period, j.period_label,
                      (SELECT count(*) FROM web_judgement x WHERE x.indicator = j.indicator
                         AND x.measure = j.measure AND x.period = j.period AND x.public
                         AND x.for_area IS NULL AND x.area_type IN ('la', 'region', 'country')),
                      j.value
               FROM web_judgement j JOIN measure m USING (indicator, measure)
               WHERE m.unit = 'count' AND j.area = '821' AND j.value BETWEEN 1 AND 5
                 AND j.for_area IS NULL AND j.public ORDER BY j.indicator LIMIT 1"""
        ).fetchall()
    url = f"/api/v1/indicators/{code}/figures"
    first = client.get(url, params={"measure": measure, "period": label, "per_page": 20}).json()
    assert first["total"] == n and len(first["items"]) == min(20, n)
    assert {i["period"] for i in first["items"]} == {period}
    assert all(i["licence"] and i["publisher"] for i in first["items"])
    every = client.get(url, params={"measure": measure, "period": period, "per_page": 500}).json()
    luton = next(i for i in every["items"] if i["area"] == "821")
    assert luton["value"] is None and luton["display"] == "c" and luton["numerator"] is None
    admin = client.get(
        url,
        params={"measure": measure, "period": period, "per_page": 500},
        headers=auth(tokens["admin1"]),
    ).json()
    assert next(i for i in admin["items"] if i["area"] == "821")["value"] == value
    assert client.get(url, params={"period": "1066"}).status_code == 404
    assert client.get("/api/v1/indicators/NO_SUCH/figures").status_code == 404
    # a mistyped measure is refused, naming the measures, not answered with another measure's figures
    wrong = client.get(url, params={"measure": measure + "x"})
    assert wrong.status_code == 404 and "its measures: " in wrong.text and measure in wrong.text
