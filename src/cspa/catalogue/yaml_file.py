"""Reading YAML: every data file of the catalogue, rules and sources goes through here.

libyaml's C parser (``CSafeLoader``) reads the catalogue's ~650 files about seven times faster than
the pure-Python one and builds the same values; where PyYAML was built without libyaml the pure
Python ``SafeLoader`` is used. Both load only plain data (no Python objects).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """The data in a YAML text (safe: plain data only); raises ``yaml.YAMLError`` on bad YAML."""
    return yaml.load(text, Loader=_LOADER)


def read_yaml(path: Path) -> Any:
    """The data in a UTF-8 YAML file."""
    return load_yaml(path.read_text(encoding="utf-8"))


__all__ = ["load_yaml", "read_yaml"]
