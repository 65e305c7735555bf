"""Text normalization for search, the same in both stores."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from graph_service.storage.records import Node
from schema import Value

_SEARCHED = ("name", "title", "short_name", "inn", "aliases")


def normalize(text: str) -> str:
    """NFC, case-folded, ё as е — so «Ёлкин», «ЕЛКИН» and «елкин» match."""
    if text.isascii():
        return text.lower()  # case folding and NFC are plain lowering for ASCII
    folded = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    # Case folding can leave a decomposed sequence behind (İ → i + combining dot).
    return (
        folded if unicodedata.is_normalized("NFC", folded) else unicodedata.normalize("NFC", folded)
    )


def search_text(node: Node) -> str:
    """Everything a search should find a node by, normalized, one field per line.

    Normalizing the joined text equals normalizing each field: a line break is a
    boundary for both NFC and case folding.
    """
    return search_text_of(node.key, node.properties)


def search_text_of(key: str, props: Mapping[str, Value]) -> str:
    """:func:`search_text` of a node with this key and these properties (bulk writes
    have no :class:`Node` to hand)."""
    parts = [key]
    for name in _SEARCHED:
        if name in props:
            value = props[name]  # the model makes these text, or (aliases) a list of text
            if value.__class__ is list:
                parts.extend(value)  # type: ignore[arg-type,unused-ignore]
            else:
                parts.append(value)  # type: ignore[arg-type,unused-ignore]
    return normalize("\n".join(parts))
