"""Property maps as both stores keep them: compact JSON object text.

Reads decode one per row, millions of times in an export, and ``json.loads``' Python
wrapper (type checks, a whitespace regular expression, ``raw_decode``) costs several
times the C scanning of a small map; :func:`decode_props` calls the C scanner directly.
Writes encode a batch of maps at a time (:func:`encode_many`), to the same text in
both stores: a re-load compares texts to count what is unchanged.
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Mapping
from typing import Any

import orjson

from schema import Value

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


_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
if _c_encoder is not None:
    # Call the C encoder directly: JSONEncoder.encode's Python wrapper costs as much as
    # the encoding of a small property map.
    _iterencode = _c_encoder(
        None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, True
    )

    def encode(value: object) -> str:
        return "".join(_iterencode(value, 0))
else:  # pragma: no cover - CPython always has the C encoder

    def encode(value: object) -> str:
        return _encoder.encode(value)


_BOUNDARY = "},{"  # between two property maps in a compact JSON array of them


def encode_many(maps: list[Mapping[str, Value]]) -> list[str]:
    """``encode`` of each map, in one call of the C encoder for the whole batch.

    The array's text is split at the boundaries between its maps. Compact JSON puts
    exactly ``},{`` between two objects, and the encoder escapes every control
    character, so when the text holds no other ``},{`` (inside a string, or a nested
    list of objects) replacing them with a control character and splitting there gives
    each map's own text. Anything else is encoded map by map.
    """
    if not maps:
        return []
    if not any(maps):
        return ["{}"] * len(maps)
    try:
        text = _fast_encode(maps)
    except TypeError:  # not a dict (an empty mapping of another type encodes as "{}")
        return [encode(m) if m else "{}" for m in maps]
    inner = text[1:-1]
    if inner.count(_BOUNDARY) != len(maps) - 1:
        return [encode(m) if m else "{}" for m in maps]
    return inner.replace(_BOUNDARY, "}\x00{").split("\x00")


#: orjson writes what ``encode`` writes (compact, keys sorted by code point, the same
#: escapes, text unescaped) but for floats (``1e-05`` as ``0.00001``; NaN and infinities
#: as ``null``) and for what ``encode`` rejects; subclasses and dates go to the missing
#: ``default`` and raise, like ``encode``.
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)
#: a number with a fraction or an exponent: where orjson's text may differ
_FLOAT = re.compile(r"[:,\[]-?[0-9]+[.eE]")


def _fast_encode(maps: list[Mapping[str, Value]]) -> str:
    """``encode(maps)``, five times faster through orjson for a batch without floats or
    nulls (the usual load): a batch whose text holds anything that may be one (even
    inside a string) is encoded again by ``encode``, so the stored text never depends on
    which encoder wrote it (a re-load counts unchanged rows by comparing texts)."""
    try:
        text = orjson.dumps(maps, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # anything orjson refuses, ``encode`` accepts or explains
        return encode(maps)
    # orjson writes a float with a "." or an exponent "e+" / "e-"; the search for one as
    # a value runs only where such text occurs at all.
    maybe_float = "." in text or "e+" in text or "e-" in text
    if "null" in text or (maybe_float and _FLOAT.search(text)):
        return encode(maps)
    return text
