"""Where the seed documents are: ``$CSPA_SHARED/seeds`` or ``../shared/seeds`` beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CSPA_SHARED", ROOT.parent / "shared"))
SEED000 = SHARED / "seeds" / "000_1755010fd6423bb4.txt"


def seed_lines(path: Path = SEED000) -> list[str]:
    """The seed's lines, 1-based (index 0 is empty) so tests can cite line numbers directly."""
    return ["", *path.read_text(encoding="utf-8").splitlines()]
