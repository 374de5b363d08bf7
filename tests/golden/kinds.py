"""Count the golden cases that pass, by kind, and print the counts at the end of the run.

Each golden case is marked ``golden_kind(<kind>)`` (``tests.golden.cases.param``); the kind is
copied into the test report's ``user_properties`` when the test is collected, so the counts are
right under pytest-xdist too (the controller sees only reports). tests/conftest.py imports the
hooks below.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.golden.cases import KINDS

_OUTCOMES: Counter[tuple[str, str]] = Counter()


def pytest_itemcollected(item: pytest.Item) -> None:
    mark = item.get_closest_marker("golden_kind")
    if mark is not None:
        item.user_properties.append(("golden_kind", mark.args[0]))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = dict(report.user_properties).get("golden_kind")
    if kind is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        else:
            outcome = report.outcome
        _OUTCOMES[(kind, outcome)] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    if not _OUTCOMES:
        return
    tr = terminalreporter
    tr.section("golden cases by kind")
    for kind in KINDS:
        n = {o: _OUTCOMES[(kind, o)] for o in ("passed", "failed", "xfailed", "xpassed", "skipped")}
        total = sum(n.values())
        tr.write_line(
            f"{kind:9s} {n['passed']:5d} passed of {total:5d}"
            f"  ({n['xfailed']} strict xfail, {n['failed'] + n['xpassed']} failed, {n['skipped']} skipped)"
        )
