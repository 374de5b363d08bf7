"""The web app's folder of built reports is made when a report is first downloaded and removed when
the process ends: one made on import was left in the temporary folder by every process that
imported the pages (each test run and each server worker)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_CHILD = """
import cspa.app.web.pages.downloads as d
print(d._kept is None)
with d._build_lock:
    folder = d._reports_folder()
(folder / "report.html").write_text("kept while the server runs")
print(folder)
print(d._reports_folder() == folder)
"""


def test_the_reports_folder_is_made_on_first_use_and_removed_at_exit():
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True
    ).stdout.split()
    made_on_import, folder, same = out[0], Path(out[1]), out[2]
    assert made_on_import == "True"  # importing the pages makes no folder
    assert same == "True"  # one folder for the process's reports
    assert folder.name.startswith("cspa-web-reports-")
    assert not folder.exists()  # removed, with the report in it, when the process ended
