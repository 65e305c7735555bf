"""Caps that keep every answer bounded."""

from __future__ import annotations

from graph_service.errors import InvalidArgument

MAX_PAGE = 500
MAX_DEPTH = 12
MAX_TOKENS = 5000
MAX_ALIASES = 30


def check_first(first: int, cap: int = MAX_PAGE) -> int:
    if not 1 <= first <= cap:
        raise InvalidArgument(f"first must be between 1 and {cap} (got {first}); page with `after`")
    return first
