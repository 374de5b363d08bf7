"""The report document's published contract (docs/report-schema.json): current, and kept by every kind.

The schema file is what other software reads; it must be the one the classes in
``cspa.outputs.document`` generate, and every report kind's JSON, as ``cspa report`` writes it,
must validate against the file itself (with a JSON Schema validator, not the classes).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from cspa.app.reports import ReportRequest, write_report
from cspa.outputs.document import json_schema

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "report-schema.json"

REPORTS = [
    ReportRequest("apa-dataset", "Luton", year=2008),
    ReportRequest("apa-dataset", "Kent", year=2025),
    ReportRequest("quarterly", "Luton", period="2007-08-Q4"),
    ReportRequest("profile", "Luton", year=2011),
    ReportRequest("letter", "Luton", year=2006),
    ReportRequest("letter", "Luton", year=2025),
]


def test_published_schema_is_current():
    assert SCHEMA.read_text(encoding="utf-8") == json_schema(), (
        "docs/report-schema.json is stale: regenerate it with "
        '`uv run python -c "from cspa.outputs.document import json_schema; '
        "open('docs/report-schema.json', 'w').write(json_schema())\"`"
    )


@pytest.mark.parametrize(
    "request_", REPORTS, ids=lambda r: f"{r.kind}-{r.area}-{r.year or r.period}"
)
def test_every_kind_validates_against_the_published_schema(demo_con, tmp_path, request_):
    path = write_report(demo_con, request_, "json", tmp_path / "r.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(doc)
    assert doc["report"] == request_.kind


def test_a_broken_document_is_refused_before_it_is_written(demo_con, tmp_path):
    from pydantic import ValidationError

    from cspa.app.reports import build_report
    from cspa.outputs.render import render

    doc = build_report(demo_con, ReportRequest("apa-dataset", "Luton", year=2008), "json")
    doc["indicators"][0]["observations"][0]["displayed"] = "74"  # a renamed contract field
    with pytest.raises(ValidationError, match="displayed"):
        render(doc, "json", tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()
