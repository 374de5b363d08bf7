"""The layout's promise, checked from the modules' own imports: data flows one way.

catalogue -> store -> records -> engine -> assessment / quarterly -> outputs -> app -> cli.
Every ``import`` and ``from ... import`` of ``cspa`` (at module level or inside a function) is
read with ``ast``; a module may import its own stage or a stage below it, never one above, and
the import graph of modules has no cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cspa"

#: stage -> rank; a module may import only stages of the same or a lower rank. assessment and
#: quarterly are siblings: neither imports the other.
RANKS = {
    "errors": 0,
    "catalogue": 1,
    "store": 2,
    "records": 3,
    "engine": 4,
    "assessment": 5,
    "quarterly": 5,
    "outputs": 6,
    "app": 7,
    "cli": 8,
}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # cspa itself: the version
    head = parts[1]
    if head.startswith("cli") or head == "__main__":
        return "cli"
    return head if head in RANKS else None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = _module(path) if path.name == "__init__.py" else _module(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cspa")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            if not base.startswith("cspa"):
                continue
            for alias in node.names:
                # `from cspa.engine import polarity` imports a module; `from x import name` a name of x
                candidate = f"{base}.{alias.name}"
                found.add(
                    candidate
                    if (SRC.parent / Path(*candidate.split("."))).with_suffix(".py").exists()
                    or (SRC.parent / Path(*candidate.split("."))).is_dir()
                    else base
                )
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


def test_imports_point_down(graph):
    upward = []
    for module, imports in graph.items():
        here = _stage(module)
        if here is None:
            continue
        for target in imports:
            there = _stage(target)
            if there is None or there == here:
                continue
            if RANKS[there] >= RANKS[here]:
                upward.append(f"{module} imports {target} ({here} -> {there})")
    assert upward == []


def test_no_import_cycle(graph):
    edges = defaultdict(set)
    for module, imports in graph.items():
        edges[module] |= {t for t in imports if t in graph and t != module}
    # Tarjan's strongly connected components: any component of more than one module is a cycle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_no_registry_of_module_names():
    """Modules are imported by name in code, not looked up from strings (which hides cycles and
    skips a missing module silently)."""
    offenders = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.py"))
        if "import_module(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
