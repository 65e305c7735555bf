"""Opaque pagination cursors: keyset positions, base64-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json

from graph_service.errors import InvalidArgument


def encode(*position: str) -> str:
    raw = json.dumps(list(position), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str, parts: int) -> tuple[str, ...]:
    """Decode a cursor made by :func:`encode` with ``parts`` fields, or InvalidArgument."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument(f"cursor {cursor!r} is not one this service issued") from None
    if not (
        isinstance(value, list) and len(value) == parts and all(isinstance(v, str) for v in value)
    ):
        raise InvalidArgument(f"cursor {cursor!r} is not one this service issued")
    return tuple(value)
