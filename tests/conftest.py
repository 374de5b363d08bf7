"""Shared fixtures: a bare in-memory store and the demo store (built once per test session).

The demo store is the same builder ``cspa demo`` runs (datasette's fixtures pattern), so the
tests check exactly what users get.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from cspa.store.database import Store

# the golden cases' kinds, counted and printed at the end of the run
from tests.golden.kinds import (  # noqa: F401
    pytest_itemcollected,
    pytest_runtest_logreport,
    pytest_terminal_summary,
)


@pytest.fixture
def bare_store():
    """An empty in-memory store with reference data (areas, neighbours, catalogue) synced."""
    store = Store.open(":memory:")
    store.sync_reference()
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory):
    """Path of a demo database built once for the session."""
    from cspa.store.demo import build_demo_store

    path = tmp_path_factory.mktemp("demo") / "cspa.duckdb"
    with Store.open(path) as store:
        build_demo_store(store)
    return path


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
