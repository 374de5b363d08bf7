"""Editing through the pages: an editor's quarter, conflicts, nothing lost under concurrent saves,
every change audited; an inspector's moderation; an administrator's load."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from cspa.app.web import edits
from tests.web.conftest import csrf_of, form_fields, sign_in

# one worker runs the module, so its app (a copy of the store) is made once
pytestmark = pytest.mark.xdist_group("web-edits")

QUARTER = "/areas/821/quarterly?period=2007-08-Q4"


def test_editor_enters_a_quarter_and_sees_the_rag(client, app):
    sign_in(client, "editor821")
    page = client.get(QUARTER).text
    f = form_fields(page, "/areas/821/quarterly/NI%2059")
    assert f["period"] == "FY2007-08-Q4" and f["measure"] == "actual"
    # the seed's figure and target for the quarter are in the form (001:L40-41: 57.7 against 65)
    assert 'value="57.7"' in page and 'value="65"' in page
    f.update(actual="66.2", target="66", commentary="Above the local target this quarter.")
    r = client.post("/areas/821/quarterly/NI%2059", data=f)
    assert r.status_code == 303
    shown = client.get(r.headers["location"]).text
    assert "Your changes to NI 59 are saved: its RAG for the quarter is now" in shown
    banner = shown.split('id="saved"')[1].split("</div>")[1]
    assert "Green" in banner  # 66.2 against 66, high is good: on or better than target
    assert "Above the local target this quarter." in shown
    # a figure below target by more than the tolerance (5) is red, said in words
    f = form_fields(shown, "/areas/821/quarterly/NI%2059")
    f.update(actual="59.5", target="66", commentary="Above the local target this quarter.")
    shown = client.get(client.post("/areas/821/quarterly/NI%2059", data=f).headers["location"]).text
    assert "Red" in shown.split('id="saved"')[1].split("</div>")[1]
    # every change is audited with its before and after; the replaced figure is kept as history
    rows = [r for r in app.state.state.audit_rows(area="821") if "NI 59" in r["entity_key"]]
    actuals = [r for r in rows if r["action"] == "actual"]
    assert (
        '"value": 57.7' in actuals[-1]["before_value"]
        and '"value": 66.2' in actuals[-1]["after_value"]
    )
    assert (
        '"value": 66.2' in actuals[0]["before_value"]
        and '"value": 59.5' in actuals[0]["after_value"]
    )
    with app.state.db.read() as cur:
        kept = cur.execute(
            "SELECT value, is_current FROM observation WHERE indicator = 'NI 59' AND area = '821' "
            "AND period = 'FY2007-08-Q4' AND measure = 'actual' ORDER BY load_id"
        ).fetchall()
    assert kept == [(57.7, False), (66.2, False), (59.5, True)]


def test_an_unpublished_actual_is_seen_by_its_authority_only(app):
    """After the editor's entry above, Luton's NI 59 for the quarter (59.5) is not yet published:
    its own editors and administrators see it on the indicator page, nobody else does."""
    assert app.state.db.wait_refreshed(300)
    # a background recomputation that failed (kept for /healthz) would leave the page stale
    assert app.state.db.refresh_errors == []
    url = "/areas/821/indicators/NI%2059?measure=actual&period=FY2007-08-Q4"
    shown = {}
    for who in (None, "viewer1", "editor909", "editor821", "inspector821", "admin1"):
        c = TestClient(app, follow_redirects=False)
        if who:
            sign_in(c, who)
        shown[who] = 'id="area-figure">59.5</dd>' in c.get(url).text
    assert shown == {
        None: False,
        "viewer1": False,
        "editor909": False,
        "editor821": True,
        "inspector821": True,
        "admin1": True,
    }


def test_a_stale_form_gets_the_conflict_page_and_writes_nothing(app):
    a = TestClient(app, follow_redirects=False)
    b = TestClient(app, follow_redirects=False)
    sign_in(a, "editor821")
    sign_in(b, "admin1")
    fa = form_fields(a.get(QUARTER).text, "/areas/821/quarterly/LQ05")
    fb = form_fields(b.get(QUARTER).text, "/areas/821/quarterly/LQ05")
    fa.update(target="12", commentary="A's words")
    assert a.post("/areas/821/quarterly/LQ05", data=fa).status_code == 303
    fb.update(target="13", commentary="B's words")
    r = b.post("/areas/821/quarterly/LQ05", data=fb)
    assert r.status_code == 409
    assert "Someone else changed this first" in r.text and "editor821" in r.text
    assert "B&#39;s words" in r.text  # yours, shown so it is not lost from view
    page = a.get(QUARTER).text
    assert "A&#39;s words" in page and "B&#39;s words" not in page


def test_concurrent_saves_lose_nothing(app):
    """Ten editors save commentary to the same authority at once, each retrying on conflict with
    the version the conflict names: every one of the ten texts is written and audited."""
    db, st = app.state.db, app.state.state
    user = st.user("editor821")
    base = {"indicator": "LQ06", "period": "2007-08-Q4", "field": "commentary"}
    errors = []

    def editor(n: int) -> None:
        token = "new"
        with db.read() as cur:
            token = edits.current(cur, "commentary", "821", {**base, "item": 0}).token
        for _ in range(50):
            try:
                edits.save(
                    db,
                    st,
                    user,
                    "821",
                    [edits.Pending("commentary", {**base, "text": f"edit {n}"}, token)],
                )
                return
            except edits.Conflicts as c:
                token = c.conflicts[0].token
        errors.append(n)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.read() as cur:
        texts = [
            t
            for (t,) in cur.execute(
                "SELECT text FROM quarterly_text_revision WHERE area = '821' AND indicator = 'LQ06' "
                "AND field = 'commentary' AND source = 'web form'"
            ).fetchall()
        ]
    assert sorted(texts) == sorted(f"edit {n}" for n in range(10))
    audited = [
        r
        for r in st.audit_rows(area="821", limit=1000)
        if r["entity_key"].startswith("commentary of LQ06")
    ]
    assert len(audited) == 10
    # each audit row's "before" is the text the one before it wrote: a chain with no gap
    afters = {r["after_value"] for r in audited}
    befores = {r["before_value"] for r in audited}
    assert len(afters - befores) == 1  # only the last write is nobody's "before"


def test_inspector_moderates_a_grade_and_the_letter_changes(client):
    sign_in(client, "inspector821")
    url = "/areas/821/assessment?year=2011"
    page = client.get(url).text
    assert (
        "Children&#39;s services assessment: Performs excellently (4)" in page
    )  # 004:L48 as moderated
    f = form_fields(page, "/areas/821/assessment/moderations")
    f.update(action="override", grade="2", reason="Moderated down in the panel")
    r = client.post("/areas/821/assessment/moderations", data=f)
    assert r.status_code == 303
    after = client.get(r.headers["location"]).text
    assert "Children&#39;s services assessment: Performs adequately (2)" in after
    assert "Moderated down in the panel" in after
    assert "Your moderation is recorded" in after


def test_admin_loads_a_file_and_it_is_audited(client, app, tmp_path):
    sign_in(client, "admin1")
    csv = b"indicator,area,period,value\n10_ICPC,821,2025-26,17\n10_ICPC,919,2025-26,4\n"
    token = csrf_of(client.get("/admin").text)
    r = client.post(
        "/admin/loads",
        data={"csrf_token": token, "vintage": "test vintage"},
        files={"file": ("icpc.csv", csv, "text/csv")},
    )
    assert r.status_code == 303, r.text[:2000]
    assert "Loaded 2 rows" in client.get(r.headers["location"]).text
    with app.state.db.read() as cur:
        got = cur.execute(
            "SELECT area, value, vintage FROM observation_current WHERE indicator = '10_ICPC' AND period_label = '2025-26' "
            "ORDER BY area"
        ).fetchall()
    assert [(a, v) for a, v, _ in got] == [("821", 17.0), ("919", 4.0)]
    assert any(
        r["action"] == "load" and r["entity_key"] == "icpc.csv"
        for r in app.state.state.audit_rows()
    )
    # a bad file is refused naming row and field, and loads nothing
    bad = b"indicator,area,period,value\n10_ICPC,821,2025-26,abc\n"
    token = csrf_of(client.get("/admin").text)
    r = client.post(
        "/admin/loads", data={"csrf_token": token}, files={"file": ("bad.csv", bad, "text/csv")}
    )
    assert r.status_code == 400 and "bad.csv" in r.text and "row 2" in r.text
    # the comparisons are remade in the background with the new figures
    assert app.state.db.wait_refreshed(300)
    assert not app.state.db.refresh_errors
    with app.state.db.read() as cur:
        shown = cur.execute(
            "SELECT value FROM web_judgement WHERE indicator = '10_ICPC' AND area = '821' AND period = 'FY2025-26'"
        ).fetchall()
    assert shown == [(17.0,)]
