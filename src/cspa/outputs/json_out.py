"""JSON renderer: the report document as it is, minus private keys.

``render_json(doc, path)`` drops every key starting with ``_`` (at any depth), writes
UTF-8 with keys sorted (so the same document always gives the same bytes), two-space
indentation and a final newline.  Dates become ISO strings; NaN and infinities, which
JSON cannot hold, become ``null``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["public_document", "render_json", "to_json"]


def public_document(value: Any) -> Any:
    """A copy of ``value`` without keys starting with ``_``, in plain JSON types."""
    if isinstance(value, dict):
        return {str(k): public_document(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [public_document(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return public_document(value.item())
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(doc: dict[str, Any]) -> str:
    return (
        json.dumps(
            public_document(doc), ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False
        )
        + "\n"
    )


def render_json(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the report document as JSON at ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(doc), encoding="utf-8")
    return path
