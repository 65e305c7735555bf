"""Checks against the model: kinds, ids, keys, property values, endpoint kinds."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from schema.dates import parse_iso
from schema.errors import ModelError
from schema.model import (
    EVIDENCE_VALUES,
    NODE_KIND_BY_NAME,
    REL_TYPE_BY_NAME,
    NodeKind,
    Property,
    RelationshipType,
    ValueType,
)

#: A stored property value: what both stores can hold.
Value = str | int | float | bool | list[str]

_KEY_FORBIDDEN = re.compile(r"[\s\x00-\x1f]")
# Control characters other than tab and line breaks never belong in a value, and NUL
# would be cut off by JSON functions and drivers alike.
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def node_kind(name: str) -> NodeKind:
    """The kind called ``name``, or a ModelError listing the kinds there are."""
    try:
        return NODE_KIND_BY_NAME[name]
    except KeyError:
        raise ModelError(
            f"unknown node kind {name!r}; known kinds: {', '.join(NODE_KIND_BY_NAME)}"
        ) from None


def relationship_type(name: str) -> RelationshipType:
    try:
        return REL_TYPE_BY_NAME[name]
    except KeyError:
        raise ModelError(
            f"unknown relationship type {name!r}; known types: {', '.join(REL_TYPE_BY_NAME)}"
        ) from None


def check_key(kind: str, key: str) -> str:
    """A key is non-empty, has no white space or control characters, and is NFC."""
    if not key:
        raise ModelError(f"{kind}: the key is empty")
    if _KEY_FORBIDDEN.search(key):
        raise ModelError(f"{kind}: key {key!r} contains white space or control characters")
    return unicodedata.normalize("NFC", key)


def node_id(kind: str, key: str) -> str:
    node_kind(kind)
    return f"{kind}:{check_key(kind, key)}"


def split_node_id(node_id_: str) -> tuple[str, str]:
    """``'Institution:4826012345'`` → ``('Institution', '4826012345')``; checks both parts."""
    kind, sep, key = node_id_.partition(":")
    if not sep:
        raise ModelError(
            f"{node_id_!r} is not a node id: write it as Kind:key, e.g. Authority:lipetsk-dip"
        )
    node_kind(kind)
    return kind, check_key(kind, key)


def check_endpoints(rel_type: str, source_kind: str, target_kind: str) -> RelationshipType:
    """Reject a relationship between kinds its type may not join."""
    rt = relationship_type(rel_type)
    for reason in endpoint_problems(rt, source_kind, target_kind).values():
        raise ModelError(reason)
    return rt


def endpoint_problems(rt: RelationshipType, source_kind: str, target_kind: str) -> dict[str, str]:
    """Why ``rt`` may not join these kinds, by end (``"from"``, ``"to"``); empty when it
    may. The loaders report both ends of a row; :func:`check_endpoints` the first."""
    found: dict[str, str] = {}
    if source_kind not in rt.sources:
        found["from"] = (
            f"{rt.name} cannot start at {with_article(source_kind)}; "
            f"it starts at {' or '.join(rt.sources)}"
        )
    if target_kind not in rt.targets:
        found["to"] = (
            f"{rt.name} cannot end at {with_article(target_kind)}; "
            f"it ends at {' or '.join(rt.targets)}"
        )
    return found


def with_article(kind: str) -> str:
    """The kind with its article, as a person would write it: an Institution, a Person
    (messages from the model and from the loaders say it the same way)."""
    return f"{'an' if kind[:1] in 'AEIOU' else 'a'} {kind}"


def check_value(owner: str, prop: Property, value: Any) -> Value:
    """Check a value already in canonical Python form against its property's type."""
    t = prop.type
    where = f"{owner}.{prop.name}"
    if t is ValueType.TEXT:
        if isinstance(value, str):
            return unicodedata.normalize("NFC", _checked_text(where, value))
    elif t is ValueType.INTEGER:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif t is ValueType.NUMBER:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif t is ValueType.BOOLEAN:
        if isinstance(value, bool):
            return value
    elif t is ValueType.DATE:
        if isinstance(value, str):
            try:
                return parse_iso(value).iso()
            except ModelError as e:
                raise ModelError(f"{where}: {e}") from None
    elif t is ValueType.TEXT_LIST:
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return [unicodedata.normalize("NFC", _checked_text(where, v)) for v in value]
    elif t is ValueType.ENUM:
        if isinstance(value, str) and value in prop.enum:
            return value
        raise ModelError(f"{where}: {value!r} is not one of: {', '.join(prop.enum)}")
    raise ModelError(f"{where}: expected {t.value}, got {type(value).__name__} {value!r}")


def _checked_text(where: str, value: str) -> str:
    if _TEXT_FORBIDDEN.search(value):
        raise ModelError(f"{where}: the text contains a control character ({value!r})")
    return value


def check_properties(
    owner: str, declared: tuple[Property, ...], props: Mapping[str, Any]
) -> dict[str, Value]:
    """Check every property of a node or relationship; None values are dropped."""
    known = {p.name: p for p in declared}
    out: dict[str, Value] = {}
    for name, value in props.items():
        if value is None:
            continue
        prop = known.get(name)
        if prop is None:
            raise ModelError(
                f"{owner} has no property {name!r}; its properties: {', '.join(known) or '(none)'}"
            )
        out[name] = check_value(owner, prop, value)
    return out


def check_evidence(value: str | None) -> str | None:
    if value is None or value in EVIDENCE_VALUES:
        return value
    raise ModelError(f"evidence {value!r} is not one of: {', '.join(EVIDENCE_VALUES)}")


def strongest_evidence(a: str | None, b: str | None) -> str | None:
    """The stronger of two grades (documented > reported > alleged)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if EVIDENCE_VALUES.index(a) <= EVIDENCE_VALUES.index(b) else b
