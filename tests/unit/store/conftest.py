"""One synced in-memory store per test module (syncing the catalogue takes seconds): the
validation tests refuse loads, which must leave it unchanged, and the tests that load read back
only their own load."""

from __future__ import annotations

import pytest

from cspa.store.database import Store


@pytest.fixture(scope="module")
def store():
    s = Store.open(":memory:")
    s.sync_reference()
    yield s
    s.close()
