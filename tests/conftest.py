"""Shared fixtures: a bare in-memory store and the demo store (built once per test session).

The demo store is the same builder ``cspa demo`` runs (datasette's fixtures pattern), so the
tests check exactly what users get.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import settings

import cspa
from cspa.store.database import Store

# the golden cases' kinds, counted and printed at the end of the run
from tests.golden.kinds import (  # noqa: F401
    pytest_itemcollected,
    pytest_runtest_logreport,
    pytest_terminal_summary,
)

# Property tests (hypothesis) draw new random examples on every developer's run, which is how they
# find new edge cases (each one found is then pinned with @example). CI runs them derandomized
# (CSPA_HYPOTHESIS=ci, set by .ci/run): the same examples every run, so a red CI is a change's
# doing, not the draw's.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("CSPA_HYPOTHESIS", "default"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Each test module runs on one xdist worker (``--dist=loadgroup`` in pyproject.toml): a module's
    own fixtures (a judged copy of the demo store, a report document, a browser page, a server) are
    then built once, not once on every worker its tests happen to be sent to. Modules that share a
    costlier fixture name one group across files themselves (``xdist_group("spark")``, the web
    server's modules), and keep it. Runs before xdist's own hook, which reads the marks."""
    for item in items:
        if not any(True for _ in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.fixture
def bare_store():
    """An empty in-memory store with reference data (areas, neighbours, catalogue) synced."""
    store = Store.open(":memory:")
    store.sync_reference()
    yield store
    store.close()


def _inputs_hash() -> str:
    """A hash of everything the demo database is built from: the package's code and data files."""
    h = hashlib.sha256()
    root = Path(cspa.__file__).resolve().parent
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


CACHE = Path(__file__).resolve().parents[1] / ".cache"


def shared_file(name: str, suffix: str, build) -> Path:
    """A file built once from the package's current code and data, shared by every test worker and
    run: ``.cache/<name>-<inputs hash><suffix>``.

    The first worker to ask builds it (``build(path)`` writes ``path``) under a lock while the others
    wait, then read its file; a run with the same inputs reuses it, and files of earlier inputs are
    removed. Files are read-only on disk: a test that changes one works on a copy."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{name}-{_inputs_hash()}{suffix}"
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder; the others wait, then read its file
        if not path.exists():
            building = path.with_name(path.name + ".building")
            building.unlink(missing_ok=True)
            build(building)
            building.chmod(0o444)
            building.rename(path)  # only a finished file gets the name readers look for
            for old in CACHE.glob(f"{name}-*{suffix}"):  # earlier inputs' files
                if old != path:
                    old.unlink(missing_ok=True)
    return path


@pytest.fixture(scope="session")
def demo_db():
    """Path of the demo database, built once and shared by every test worker and run
    (:func:`shared_file`): workers wait for the first to build it rather than each building their own.
    """
    from cspa.app.demo import build_demo_store

    def build(path: Path) -> None:
        with Store.open(path) as store:
            build_demo_store(store)

    return shared_file("demo", ".duckdb", build)


@pytest.fixture
def demo_store(demo_db, tmp_path):
    """A private, writable copy of the demo store (for tests that moderate, load or edit), closed afterwards."""
    path = tmp_path / "cspa.duckdb"
    shutil.copy(demo_db, path)
    store = Store.open(path)
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_con(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def judgements(demo_con):
    """Every judgement the engine makes on the demo data, as a list of dicts."""
    from cspa.engine.run import compute
    from cspa.engine.selection import Selection

    # the seed frameworks' indicators (with the real exclusions data loaded under 3091DE/3092DE)
    rel = compute(
        demo_con,
        Selection(exclude_frameworks=("lait", "dfe_csc")),
    )
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


@pytest.fixture(scope="session")
def letter(demo_db):
    """``letter(area, year)``: the assessment letter the demo store gives, built once per worker and
    handed out as a copy, so a test that changes its letter changes no other test's.

    A letter's year is prepared once (every authority's grades proposed and text drafted at once,
    seconds of work, as the web app and batch do) on a connection of this fixture's own, so no other
    test's preparation of another year can change what it reads."""
    from cspa.assessment.report import build_letter_document, prepare_letters

    con = duckdb.connect(str(demo_db), read_only=True)
    built: dict[tuple[str, int], dict] = {}
    prepared: list[int] = []

    def get(area: str, year: int) -> dict:
        if (area, year) not in built:
            if prepared[-1:] != [year]:
                prepare_letters(con, year)
                prepared.append(year)
            built[(area, year)] = build_letter_document(con, area, year, prepared=True)
        return copy.deepcopy(built[(area, year)])

    yield get
    con.close()


# Debian's Chromium, driven by Playwright (CI installs it in .ci/run; browsers cannot be downloaded)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the accessibility checks (one per test module)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
