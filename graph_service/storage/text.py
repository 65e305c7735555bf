"""Text normalization for search, the same in both stores."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from operator import methodcaller

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


def search_texts_of(keys: list[str], props: list[Mapping[str, Value]]) -> list[str]:
    """:func:`search_text_of` of many nodes, column by column (``map`` runs in C): in a
    batch where every node has the same searched text properties and no aliases (the
    common case of a load, one kind per sheet), and all of it ASCII. Any other batch
    goes node by node."""
    present: set[str] = set().union(*props)
    fields = [name for name in _SEARCHED if name in present]
    columns = [list(map(methodcaller("get", name), props)) for name in fields]
    if "aliases" in present or any(None in column for column in columns):
        return list(map(search_text_of, keys, props))
    texts = list(map("\n".join, zip(keys, *columns, strict=True))) if columns else keys
    if all(map(str.isascii, texts)):
        return list(map(str.lower, texts))  # what normalize does to ASCII text
    return list(map(normalize, texts))
