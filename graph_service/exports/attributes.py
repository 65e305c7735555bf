"""The attribute columns XML exports declare: one per element field and per property in
the model, with one type per name across kinds (checked here, at import time).

Lists (text lists, sources, origins) are written as JSON text, so they read back exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from schema import NODE_KINDS, RELATIONSHIP_TYPES, Value, ValueType


@dataclass(frozen=True)
class Attribute:
    name: str
    type: ValueType

    @property
    def is_list(self) -> bool:
        return self.type is ValueType.TEXT_LIST


def _columns(fixed: tuple[Attribute, ...], props: list[tuple[str, ValueType]]) -> list[Attribute]:
    out = {a.name: a for a in fixed}
    for name, t in props:
        t = ValueType.TEXT if t in (ValueType.ENUM, ValueType.DATE) else t
        if name in out and out[name].type is not t:
            raise RuntimeError(f"property {name!r} has two types across the model")
        out.setdefault(name, Attribute(name, t))
    return list(out.values())


_T = ValueType.TEXT
_L = ValueType.TEXT_LIST
NODE_ATTRIBUTES = _columns(
    (
        Attribute("kind", _T),
        Attribute("key", _T),
        Attribute("label", _T),
        Attribute("evidence", _T),
        Attribute("sources", _L),
        Attribute("origins", _L),
    ),
    [(p.name, p.type) for k in NODE_KINDS for p in k.properties],
)
EDGE_ATTRIBUTES = _columns(
    (
        Attribute("type", _T),
        Attribute("key", _T),
        Attribute("evidence", _T),
        Attribute("sources", _L),
        Attribute("origins", _L),
    ),
    [(p.name, p.type) for r in RELATIONSHIP_TYPES for p in r.properties],
)


def cell_text(value: Value | tuple[str, ...]) -> str:
    """A value as attribute text: lists as JSON, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)
