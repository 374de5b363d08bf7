"""scipy.stats takes seconds to import: a report, and the batch renderer's workers, import it only
when a figure needs it (an exact Poisson limit, or a confidence level the catalogue does not use).
The values written out in its place are scipy's own."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def test_the_written_out_quantiles_are_scipys():
    from scipy import stats

    from cspa.engine import relations, trends

    assert float(stats.chi2.ppf(0.998, 1)) == trends.TREND_CHI2_CRITICAL
    for c, z in relations._Z.items():
        assert z == float(stats.norm.ppf(c + (1 - c) / 2))
        assert relations.z_for(c) == z and relations.z_for(c * 100 / 100) == z
    assert relations.z_for(0.9) == float(stats.norm.ppf(0.95))  # any other level: scipy's
    for c, (lower, upper) in relations.POISSON_EXACT.items():
        assert lower == tuple(
            0.0 if o == 0 else float(stats.chi2.ppf((1 - c) / 2, 2 * o) / 2) for o in range(10)
        )
        assert upper == tuple(
            float(stats.chi2.ppf(1 - (1 - c) / 2, 2 * o + 2) / 2) for o in range(10)
        )


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_a_report_judged_on_the_fly_imports_no_scipy(demo_db):
    """Luton 2008 on a database with no stored judgements: the engine judges the framework (bands,
    lights, ranks, progress, trends, published and computed significance) without scipy."""
    got = _run(f"""
        import sys, duckdb
        from cspa.outputs.document_apa import build_apa_document
        con = duckdb.connect({str(demo_db)!r}, read_only=True)
        doc = build_apa_document(con, "Luton", 2008)
        assert any(j["significance"] for i in doc["indicators"] for j in i["judgements"])
        print("scipy" in sys.modules)
    """)
    assert got == "False"


def test_the_batch_workers_import_no_scipy():
    got = _run("""
        import sys
        from cspa.app.batch import _render_one, _start_worker
        _start_worker()
        print("scipy" in sys.modules)
    """)
    assert got == "False"
