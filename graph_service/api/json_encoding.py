"""How GraphQL responses become bytes on the wire.

A drawing-sized answer is big: a 10,000-node ``subgraph`` is about 8.5 MB of JSON, and
the standard library's encoder took about 0.5 s of CPU for it here, more than building
the answer. orjson writes the same JSON in a small fraction of that. It refuses integers
beyond 64 bits, which a JSON-scalar property could in principle hold; such a response
is written by the standard library instead, so every answer still goes out.

A field may answer with JSON text it already has (:class:`EncodedJSON`): orjson splices
it into the response as it is (``orjson.Fragment``), so the text is never parsed into
objects only to be written again. Only a request whose context says its response goes
through :func:`encode_response` gets such values (``Context.encoded_json``).
"""

from __future__ import annotations

import json

import orjson


class EncodedJSON:
    """A JSON value as its text (one value, valid JSON), written out as it is.

    Not a dataclass: orjson would write a dataclass's fields instead of asking.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"EncodedJSON({len(self.text):,} characters)"


def encode_response(data: object) -> bytes:
    """``data`` as compact UTF-8 JSON (non-finite floats become ``null``, as JSON has
    no spelling for them)."""
    try:
        return orjson.dumps(data, default=_fragment)
    except TypeError:
        text = json.dumps(
            data, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_value
        )
        return text.encode("utf-8")


def _fragment(value: object) -> orjson.Fragment:
    if isinstance(value, EncodedJSON):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _value(value: object) -> object:
    if isinstance(value, EncodedJSON):
        return json.loads(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
