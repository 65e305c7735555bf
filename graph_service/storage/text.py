"""Text normalization for search, the same in both stores."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from graph_service.storage.records import Node


def normalize(text: str) -> str:
    """NFC, case-folded, ё as е — so «Ёлкин», «ЕЛКИН» and «елкин» match."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return unicodedata.normalize("NFC", folded.replace("ё", "е"))


def search_text(node: Node) -> str:
    """Everything a search should find a node by, normalized, one field per line."""
    parts: list[str] = [node.key]
    for name in ("name", "title", "short_name", "inn", "aliases"):
        value = node.properties.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(value)
    return "\n".join(normalize(p) for p in _unique(parts))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
