"""The demo's summary counts what each source loaded: real data sets report ``rows_loaded``
(cspa.store.real_data.load_real_data), seed and record sources ``rows``; it printed 0 for every real
data set before."""

from __future__ import annotations

from cspa.app.demo import source_lines


def test_every_source_counts_what_it_loaded():
    lines = source_lines(
        [
            {"name": "lait", "source": "DfE LAIT", "rows_in_file": 700_000, "rows_loaded": 633_360},
            {"source": "seed 000", "files": 3, "rows": 2_897},
            {"source": "nothing loaded"},
        ]
    )
    assert lines == [
        "  DfE LAIT: 633,360 rows",
        "  seed 000: 2,897 rows",
        "  nothing loaded: 0 rows",
    ]
