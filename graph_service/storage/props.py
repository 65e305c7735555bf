"""Property maps as both stores keep them: compact JSON object text.

Reads decode one per row, millions of times in an export, and ``json.loads``' Python
wrapper (type checks, a whitespace regular expression, ``raw_decode``) costs several
times the C scanning of a small map; :func:`decode_props` calls the C scanner directly.
"""

from __future__ import annotations

import json
import json.scanner
from typing import Any

_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def decode_props(text: str) -> dict[str, Any]:
    """A stored property map. Both stores write compact JSON objects, which the scanner
    reads whole; anything else goes through ``json.loads`` (and its error messages)."""
    if text == "{}":
        return {}
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        end, value = -1, None
    if end != len(text) or not isinstance(value, dict):
        value = json.loads(text)
    return value  # type: ignore[no-any-return]


def decode_many(texts: list[str]) -> list[dict[str, Any]]:
    """Many stored property maps at once: scanned as one JSON array, which spends the
    per-call cost once for a whole batch of rows. Any text that is not exactly one
    object makes the batch fall back to :func:`decode_props` row by row."""
    joined = "[" + ",".join(texts) + "]"
    try:
        value, end = _scan_once(joined, 0)
    except StopIteration:
        end, value = -1, None
    if (
        end == len(joined)
        and len(value) == len(texts)
        and all(type(v) is dict for v in value)
    ):
        return value  # type: ignore[no-any-return]
    return [decode_props(t) for t in texts]
