"""Matching sheet names and column headers to the model, in English or Russian."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from schema import NODE_KINDS, RELATIONSHIP_TYPES, NodeKind, Property

#: Columns every sheet may have beside the properties, with their aliases.
STRUCTURAL: dict[str, tuple[str, ...]] = {
    "key": ("key", "id", "ключ", "идентификатор"),
    "sources": ("sources", "source", "источники", "источник"),
    "evidence": ("evidence", "доказанность", "достоверность"),
}
RELATIONSHIP_COLUMNS: dict[str, tuple[str, ...]] = {
    "from": ("from", "source node", "от", "откуда"),
    "type": ("type", "relationship", "тип", "тип связи"),
    "to": ("to", "target node", "к", "куда"),
    "key": ("key", "ключ"),
    "sources": STRUCTURAL["sources"],
    "evidence": STRUCTURAL["evidence"],
}
RELATIONSHIP_SHEET_PREFIXES = ("relationships", "связи")


def normalize_header(text: str) -> str:
    """Case-, space- and underscore-insensitive form of a header or sheet name (a stray
    BOM, a trailing colon or the asterisk of a required field are ignored too)."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", "")).strip().rstrip(":*").strip()
    return re.sub(r"[\s_\-]+", " ", text.casefold().replace("ё", "е"))


@dataclass(frozen=True)
class Column:
    """What a header means: a structural field, or a property."""

    field: str
    prop: Property | None = None


def _aliases(names: tuple[str, ...]) -> list[str]:
    return [normalize_header(n) for n in names]


def node_columns(kind: NodeKind) -> dict[str, Column]:
    """Every header (normalized) a sheet of this kind understands."""
    columns: dict[str, Column] = {}
    for name, aliases in STRUCTURAL.items():
        for alias in _aliases(aliases):
            columns[alias] = Column(name)
    for prop in kind.properties:
        for alias in _aliases((prop.name, *prop.aliases)):
            columns.setdefault(alias, Column(prop.name, prop))
    return columns


def relationship_columns() -> dict[str, Column]:
    """Headers of a relationships sheet: from, type, to, key, provenance, and the
    properties of every relationship type (a row uses those of its own type)."""
    columns: dict[str, Column] = {}
    for name, aliases in RELATIONSHIP_COLUMNS.items():
        for alias in _aliases(aliases):
            columns[alias] = Column(name)
    for rt in RELATIONSHIP_TYPES:
        for prop in rt.properties:
            for alias in _aliases((prop.name, *prop.aliases)):
                columns.setdefault(alias, Column(prop.name, None))
    return columns


def sheet_target(sheet: str) -> NodeKind | str | None:
    """The node kind a sheet holds, ``"relationships"``, or None when it is not ours."""
    name = normalize_header(sheet)
    if name.startswith(RELATIONSHIP_SHEET_PREFIXES):
        return "relationships"
    for kind in NODE_KINDS:
        names = {
            kind.sheet,
            kind.name.casefold(),
            *(normalize_header(a) for a in kind.sheet_aliases),
        }
        if name in names:
            return kind
    return None
