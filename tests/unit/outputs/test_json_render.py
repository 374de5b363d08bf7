"""JSON output and the format dispatcher."""

from __future__ import annotations

import json
import math

import pytest

from cspa.errors import CspaError
from cspa.outputs.json_out import public_document, render_json, to_json
from cspa.outputs.render import FORMATS, RENDERERS, SUFFIXES, formats_for, render


def test_json_drops_private_keys_and_keeps_the_rest(doc, tmp_path):
    doc["indicators"][0]["_cache"] = {"x": 1}
    path = render_json(doc, tmp_path / "r.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "_internal" not in data and "_cache" not in data["indicators"][0]
    assert data["area"]["name"] == "Luton"
    assert len(data["indicators"]) == 7
    obs = data["indicators"][1]["observations"]
    assert {
        "measure",
        "period",
        "geography",
        "value",
        "display",
        "status",
        "source",
        "basis",
    } <= set(obs[0])


def test_json_is_utf8_sorted_and_stable(doc, tmp_path):
    a = render_json(doc, tmp_path / "a.json").read_bytes()
    doc2 = dict(reversed(list(doc.items())))
    b = render_json(doc2, tmp_path / "b.json").read_bytes()
    assert a == b
    text = a.decode("utf-8")
    assert "†" in text and "–" in text  # not \u escapes
    assert text.endswith("\n")
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_json_cleans_values_json_cannot_hold():
    import datetime as dt
    from decimal import Decimal

    out = public_document(
        {"a": math.nan, "b": math.inf, "c": dt.date(2008, 9, 1), "d": Decimal("1.5"), "e": (1, 2)}
    )
    assert out == {"a": None, "b": None, "c": "2008-09-01", "d": 1.5, "e": [1, 2]}
    json.loads(to_json({"x": math.nan}))
    with pytest.raises(TypeError):
        public_document({"x": object()})


def test_dispatch_by_format(doc, tmp_path):
    assert set(FORMATS) == {"html", "pdf", "xlsx", "json"}
    p = render(doc, "json", tmp_path)
    assert p.name == "apa-dataset-Luton-2008.json" and p.exists()
    p = render(doc, "HTML", tmp_path / "out" / "page.html")
    assert p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    p = render(doc, "xlsx", tmp_path / "book.xlsx")
    assert p.read_bytes()[:2] == b"PK"


def test_unknown_format_is_a_readable_error(doc, tmp_path):
    with pytest.raises(
        CspaError, match="cannot be written as 'docx': choose one of html, pdf, xlsx, json"
    ):
        render(doc, "docx", tmp_path)


def test_a_new_format_is_one_entry(doc, tmp_path, monkeypatch):
    def render_txt(d, path, options):
        path.write_text(d["title"], encoding="utf-8")
        return path

    monkeypatch.setitem(RENDERERS, ("*", "txt"), render_txt)
    monkeypatch.setitem(SUFFIXES, "txt", ".txt")
    p = render(doc, "txt", tmp_path)
    assert p.suffix == ".txt" and p.read_text(encoding="utf-8") == doc["title"]


def test_a_kind_without_a_format_says_which_it_has(tmp_path):
    letter = {"report": "letter", "title": "Letter", "area": {"name": "Luton"}}
    with pytest.raises(
        CspaError, match="cannot be written as 'xlsx': choose one of html, pdf, json"
    ):
        render(letter, "xlsx", tmp_path)


def test_every_kind_uses_the_shared_json_writer():
    # one JSON writer for every kind: no kind registers its own
    assert [k for k in RENDERERS if k[1] == "json"] == [("*", "json")]
    assert all(
        formats_for(k)[-1] == "json" for k in ("apa-dataset", "quarterly", "profile", "letter")
    )
