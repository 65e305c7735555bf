"""Shared pieces of the XML exports (GEXF, GraphML): escaping, formula neutralizing,
the values of one node or relationship, and chunked output."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from graph_service.exports.attributes import cell_text
from graph_service.exports.cells import FORMULA_TRIGGERS, neutralize_cell
from graph_service.storage import Node, Provenance, Relationship
from schema import ValueType

CHUNK = 1 << 16
_XML_ILLEGAL = {c: None for c in range(0x20) if c not in (0x9, 0xA, 0xD)}


def xml_text(value: Any) -> str:
    """Escaped text of one attribute value; text (and lists of it) neutralized."""
    if type(value) is str:
        return text_value(value)
    if isinstance(value, list | tuple):
        return _list_cell(tuple(value))
    return esc(cell_text(value))


def text_value(text: str) -> str:
    """``esc(neutralize_cell(text))``, with a fast path for the common case: printable
    text (no tab, line break or control character) that starts no formula. Exports call
    this for millions of distinct names and keys, where a cache would only miss."""
    if text.isprintable() and not text.startswith(_QUOTED):
        if "&" in text or "<" in text or ">" in text or '"' in text:
            return _escape_printable(text)
        return text
    return _text_cell(text)


_QUOTED = (*FORMULA_TRIGGERS, "'")


@lru_cache(maxsize=8192)
def _text_cell(text: str) -> str:
    return esc(neutralize_cell(text))


@lru_cache(maxsize=8192)
def _list_cell(items: tuple[str, ...]) -> str:
    # Sources and origins lists repeat across millions of records.
    return esc(neutralize_cell(cell_text(items)))


def esc(text: str) -> str:
    """Escaped for XML element text and double-quoted attributes alike; control
    characters that XML 1.0 cannot carry are dropped, and line breaks and tabs are kept
    as character references so parsers do not normalize them away."""
    if text.isprintable():  # no character below U+0020 (nor some others: slow path)
        if "&" in text or "<" in text or ">" in text or '"' in text:
            return _escape_printable(text)
        return text
    return escape(text.translate(_XML_ILLEGAL), _ENTITIES)


def _escape_printable(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def attr(text: str) -> str:
    """A neutralized, escaped text value for an XML attribute (ids, labels)."""
    return esc(neutralize_cell(text))


def node_values(node: Node, scores: dict[str, dict[str, float]]) -> dict[str, Any]:
    values: dict[str, Any] = dict(node.properties)
    values.update(kind=node.kind, key=node.key, label=node.label)
    _add_provenance(values, node.provenance)
    for name, by_id in scores.items():
        if node.id in by_id:
            values[name] = by_id[node.id]
    return values


def edge_values(rel: Relationship) -> dict[str, Any]:
    values: dict[str, Any] = dict(rel.properties)
    values.update(type=rel.type)
    if rel.key:
        values["key"] = rel.key
    _add_provenance(values, rel.provenance)
    return values


def _add_provenance(values: dict[str, Any], provenance: Provenance) -> None:
    """The provenance fields a record has (evidence, sources, origins), beside its values."""
    if provenance.evidence:
        values["evidence"] = provenance.evidence
    if provenance.sources:
        values["sources"] = provenance.sources
    if provenance.origins:
        values["origins"] = provenance.origins


def batched(records: Iterator[str], size: int = 1000) -> Iterator[str]:
    """Records joined a thousand at a time: :func:`chunked` then handles a few large
    strings instead of millions of small ones."""
    buffer: list[str] = []
    for record in records:
        buffer.append(record)
        if len(buffer) >= size:
            yield "".join(buffer)
            buffer.clear()
    if buffer:
        yield "".join(buffer)


def chunked(pieces: Iterator[str], size: int = CHUNK) -> Iterator[str]:
    """Join small strings into chunks of about ``size`` characters."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer.clear()
            length = 0
    if buffer:
        yield "".join(buffer)


#: Value types as GEXF and GraphML both spell them (dates and enums are strings).
XML_TYPES = {
    ValueType.TEXT: "string",
    ValueType.TEXT_LIST: "string",
    ValueType.INTEGER: "long",
    ValueType.NUMBER: "double",
    ValueType.BOOLEAN: "boolean",
}
