"""How GraphQL responses become bytes on the wire.

A drawing-sized answer is big: a 10,000-node ``subgraph`` is about 8.5 MB of JSON, and
the standard library's encoder took about 0.5 s of CPU for it here, more than building
the answer. orjson writes the same JSON in a small fraction of that. It refuses integers
beyond 64 bits, which a JSON-scalar property could in principle hold; such a response
is written by the standard library instead, so every answer still goes out.
"""

from __future__ import annotations

import json

import orjson


def encode_response(data: object) -> bytes:
    """``data`` as compact UTF-8 JSON (non-finite floats become ``null``, as JSON has
    no spelling for them)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
