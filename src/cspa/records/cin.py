"""Read a children in need census return (XML) into tables, each row keeping its file and line.

    ret = read_cin(Path("fake_CIN_data.xml"), la="821")

The census is one XML message (``Message/Header``, ``Message/Children/Child``); tables and fields
come from ``data/records/cin_tables.yaml``. Each record's ``_row`` is the line of the XML element
it came from, so a finding points at the line to fix. The collection year is the header's
``CollectionDetails/Year`` (2022 = the year ending 31 March 2022) unless given; the authority is
the header's ``Source/LEA`` unless given (the fake files' LEA 975 is not an English authority's
number, which is why the demo names one).
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from cspa.errors import LoadError, Problem
from cspa.records.returns import RecordReturn, load_spec

SPEC_FILE = "cin_tables.yaml"


def spec() -> dict:
    return load_spec(SPEC_FILE)


@dataclass
class Node:
    tag: str
    line: int
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def find(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, path: str) -> list[Node]:
        nodes = [self]
        for part in path.split("/"):
            nodes = [c for n in nodes for c in n.children if c.tag == part]
        return nodes

    def value(self) -> str | None:
        return self.text.strip() or None


def parse_xml(path: Path) -> Node:
    """A small element tree with the line each element starts on (ElementTree keeps no lines)."""
    root = Node("#document", 0)
    stack = [root]
    p = xml.parsers.expat.ParserCreate()

    def start(tag, _attrs):
        n = Node(tag, p.CurrentLineNumber)
        stack[-1].children.append(n)
        stack.append(n)

    def end(_tag):
        stack.pop()

    def chars(data):
        if len(stack) > 1:
            stack[-1].text += data

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    try:
        with path.open("rb") as f:
            p.ParseFile(f)
    except xml.parsers.expat.ExpatError as e:
        raise LoadError(
            [
                Problem(
                    path.name,
                    e.lineno,
                    None,
                    f"not well-formed XML ({xml.parsers.expat.errors.messages[e.code]})",
                )
            ]
        ) from None
    except FileNotFoundError:
        raise LoadError([Problem(path.name, None, None, "file not found")]) from None
    return root.children[0]


def read_cin(path: Path, la: str | None = None, year: int | None = None) -> RecordReturn:
    path = Path(path)
    sp = spec()
    root = parse_xml(path)
    if root.tag != "Message":
        raise LoadError(
            [Problem(path.name, root.line, None, f"root element is <{root.tag}>, not <Message>")]
        )
    rows: dict[str, list[dict]] = {n: [] for n in sp["tables"]}
    for child in root.findall("Children/Child"):
        ids = child.find("ChildIdentifiers")
        child_id = (
            ids.find("LAchildID").value()
            if ids is not None and ids.find("LAchildID") is not None
            else None
        )
        for name, tspec in sp["tables"].items():
            names = tspec.get("names") or {}
            path_ = tspec["path"]
            under_episode = path_.startswith("CINdetails")
            episodes = child.findall("CINdetails") if under_episode else [child]
            for ep_no, ep in enumerate(episodes, start=1):
                sub = path_.split("/", 1)[1] if under_episode and "/" in path_ else None
                nodes = (
                    [ep]
                    if under_episode and sub is None
                    else (ep.findall(sub) if under_episode else child.findall(path_))
                )
                for n in nodes:
                    rec = {"CHILD": child_id, "_row": n.line}
                    if under_episode:
                        rec["EPISODE"] = str(ep_no)
                    if tspec.get("value_as"):
                        rec[tspec["value_as"]] = n.value()
                    else:
                        for c in n.children + [
                            g
                            for extra in tspec.get("also", [])
                            for e in child.findall(extra)
                            for g in e.children
                        ]:
                            if not c.children:
                                rec[names.get(c.tag, c.tag)] = c.value()
                    rows[name].append(rec)
    tables = {}
    for name, recs in rows.items():
        cols = list(sp["tables"][name]["columns"])
        tables[name] = pa.table(
            {
                **{c: pa.array([r.get(c) for r in recs], pa.string()) for c in cols},
                "_file": pa.array([path.name] * len(recs), pa.string()),
                "_row": pa.array([r["_row"] for r in recs], pa.int64()),
            }
        )
    header = root.find("Header")
    lea = _text(header, "Source/LEA")
    y = _text(header, "CollectionDetails/Year")
    ret = RecordReturn("cin", tables, [path], la=la or lea, spec_version=sp["version"])
    if year is not None:
        ret.year, ret.year_basis = int(year), "given"
    elif y and y.isdigit():
        ret.year, ret.year_basis = (
            int(y),
            f"the header's CollectionDetails/Year ({y}: the year ending 31 March {y})",
        )
    else:
        raise LoadError(
            [
                Problem(
                    path.name,
                    header.line if header else None,
                    "Year",
                    "the header gives no collection year; give --year",
                )
            ]
        )
    if la is None and lea:
        ret.notes.append(f"authority taken from the header's Source/LEA ({lea})")
    return ret


def _text(node: Node | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.findall(path)
    return found[0].value() if found else None
