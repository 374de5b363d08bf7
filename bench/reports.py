"""Benchmark: rendering the APA dataset report for every authority, and one full PDF.

Measures, on the demo database:

* one current report's document built straight from the database (the engine judging the whole
  LAIT framework for it): the baseline;
* all 153 current authorities' LAIT HTML reports, the same code path as `cspa report apa-dataset
  --all-areas --framework lait --format html` (the engine once, then documents built and rendered
  in worker processes on the machine's cores), with the total size written;
* one full PDF (Luton 2008, the seed's report, every period), with the printer `render_pdf`
  chose (Chromium where installed, else WeasyPrint; `CSPA_PDF_ENGINE` picks one);

and prints each against its aim (all 153 HTML reports under 60 s on 2 cores; one PDF under 30 s).
Timings are wall-clock and vary by a tenth or so from run to run on a shared machine.

    uv run python bench/reports.py [--db cspa-output/cspa.duckdb] [--out /tmp/cspa-bench] [--skip-pdf]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("cspa-output/cspa.duckdb"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-pdf", action="store_true")
    a = ap.parse_args()
    if not a.db.exists():
        raise SystemExit(f"no database at {a.db}: run `uv run cspa demo` first")
    from cspa.app.batch import render_all_areas
    from cspa.outputs.document_apa import build_apa_document
    from cspa.outputs.render import render

    out = a.out or Path(tempfile.mkdtemp(prefix="cspa-bench-"))
    con = duckdb.connect(str(a.db), read_only=True)

    t = time.perf_counter()
    build_apa_document(
        con, "Luton", 2025, "lait"
    )  # baseline: one document, judgements computed inline
    one_doc = time.perf_counter() - t

    t = time.perf_counter()
    n = render_all_areas(con, "lait", 2025, "html", out / "html")
    all_html = time.perf_counter() - t
    size = sum(p.stat().st_size for p in (out / "html").glob("*.html"))
    print(f"one LAIT document (judgements computed inline): {one_doc:6.1f} s  (baseline)")
    print(
        f"all {n} authorities' HTML reports:               {all_html:6.1f} s  (aim < 60 s on 2 cores); "
        f"{all_html / n:.2f} s per report = {all_html / n / one_doc:.2f}x the baseline; "
        f"{size / 1e6:.0f} MB, {size / n / 1e6:.1f} MB each"
    )

    if not a.skip_pdf:
        from pypdf import PdfReader

        from cspa.outputs.pdf import pdf_engine

        t = time.perf_counter()
        doc = build_apa_document(con, "Luton", 2008, "apa2008", history=False)
        build = time.perf_counter() - t
        t = time.perf_counter()
        render(doc, "pdf", out / "luton-2008.pdf")
        pdf = time.perf_counter() - t
        pages = len(PdfReader(str(out / "luton-2008.pdf")).pages)
        print(
            f"one full PDF (Luton 2008, {pages} pages, {pdf_engine()}):  {pdf:6.1f} s  (aim < 30 s); "
            f"its document {build:.1f} s before that"
        )
    print(f"output: {out}")


if __name__ == "__main__":
    main()
