"""Turning tables in the template format into checked nodes and relationships.

A node sheet has a ``key`` column (or an INN, which wins over any slug key), one column per
property, and optional ``sources`` and ``evidence``. The relationships sheet has ``from``,
``type``, ``to`` (endpoints written ``Kind:key``), optional ``key`` for parallel
relationships, provenance, and the properties of its types.

Each sheet is compiled once into a :class:`RowParser` (header positions resolved, one
converter per column), which then turns a row into records or into what is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loaders.convert import MISS, Converter, Memo, Slow, converter, plain_key, text_of
from loaders.headers import (
    Column,
    node_columns,
    normalize_header,
    relationship_columns,
    sheet_target,
)
from loaders.problems import Problem
from loaders.reading import Cell, Table, column_letter
from loaders.values import cell_text, is_blank, parse_cell
from schema import (
    EVIDENCE_VALUES,
    NODE_KIND_BY_NAME,
    REL_TYPE_BY_NAME,
    ModelError,
    Node,
    NodeKind,
    Property,
    Provenance,
    Relationship,
    RelationshipType,
    Value,
    check_key,
    split_node_id,
)
from schema.validation import endpoint_problems

_SOURCE_SPLIT = re.compile(r"\s*[;,\n]\s*")

#: What is wrong with one cell of a row: (column, value, reason).
Bad = tuple[str, Cell, str]
Record = Node | Relationship
#: A record as a plain tuple (what the spill file holds):
#: ``(0, id, kind, key, properties, sources, evidence, origins)`` for a node,
#: ``(1, source, type, target, key, properties, sources, evidence, origins)`` for a
#: relationship. Without its tag, a record is a store's row (``NodeRow`` / ``RelRow`` in
#: ``graph_service.storage.records``), which ``upsert_rows`` takes as it is.
Packed = tuple[Any, ...]


def pack(r: Record) -> Packed:
    p = r.provenance
    if isinstance(r, Node):
        return (0, r.id, r.kind, r.key, r.properties, p.sources, p.evidence, p.origins)
    return (1, r.source, r.type, r.target, r.key, r.properties, p.sources, p.evidence, p.origins)


def unpack(rec: Packed) -> Record:
    if rec[0] == 0:
        _, node_id, kind, key, props, sources, evidence, origins = rec
        return Node(node_id, kind, key, props, Provenance(sources, evidence, origins))
    _, source, rel_type, target, key, props, sources, evidence, origins = rec
    return Relationship(
        source, rel_type, target, key, props, Provenance(sources, evidence, origins)
    )


@dataclass
class Resolver:
    """What rows of one load share: a slug key that an INN replaced, by ``Kind:slug``;
    and where the rows that would have defined a node, had they no problem, are
    (``bad_rows``: node id → file, sheet, row), so a relationship naming such a node is
    told to look there rather than that the node is nowhere. Only rows with a problem
    are noted: a good load pays nothing."""

    key_aliases: dict[str, str] = field(default_factory=dict)
    bad_rows: dict[str, tuple[str, str, int]] = field(default_factory=dict)

    def resolve(self, node_id: str) -> str:
        return self.key_aliases.get(node_id, node_id)

    def note_bad_row(self, node_ids: list[str], where: tuple[str, str, int]) -> None:
        for node_id in node_ids:
            self.bad_rows.setdefault(node_id, where)


class RowParser:
    """Turns one row of a sheet into records, or reports what is wrong with it."""

    #: "nodes", "relationships" or "mapped": a load reads node sheets first.
    stage: str = "nodes"
    #: What rows of this sheet count as in summaries (a kind, or "relationships").
    label: str = ""

    def parse(self, number: int, row: list[Cell], origin: str) -> tuple[list[Record], list[Bad]]:
        raise NotImplementedError

    def parse_packed(
        self, number: int, row: list[Cell], origin: str
    ) -> tuple[list[Packed], list[Bad]]:
        """Like :meth:`parse`, with the records packed (parsers with a fast path build the
        tuples directly)."""
        records, bad = self.parse(number, row, origin)
        return [pack(r) for r in records], bad


def sheet_stage(sheet: str) -> str | None:
    """The stage of a sheet in the template format, from its name alone."""
    target = sheet_target(sheet)
    if target is None:
        return None
    if target == "relationships":
        return "relationships"
    assert isinstance(target, NodeKind)
    return "sources" if target.name == "Source" else "nodes"


def compile_table(table: Table, resolver: Resolver) -> RowParser | list[Problem]:
    """The parser for a template-format sheet, or the problems that stop it being read."""
    target = sheet_target(table.sheet)
    if target is None:
        return [
            Problem(
                table.file.name,
                table.sheet,
                None,
                None,
                None,
                "the sheet name matches no node kind and is not 'relationships'; name it after "
                "a kind (authorities, institutions, persons, …) or describe it with --mapping",
            )
        ]
    if target == "relationships":
        return _compile_relationships(table, resolver)
    assert isinstance(target, NodeKind)
    return _compile_nodes(table, target, resolver)


def _map_headers(table: Table, known: dict[str, Column]) -> dict[int, Column] | list[Problem]:
    mapping: dict[int, Column] = {}
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for i, header in enumerate(table.headers):
        if not header:
            continue
        column = known.get(normalize_header(header))
        if column is None:
            problems.append(
                Problem(
                    table.file.name,
                    table.sheet,
                    table.header_row,
                    header,
                    None,
                    f"unknown column; this sheet takes: {_field_list(known)} "
                    "(or describe the sheet with --mapping)",
                )
            )
            continue
        if column.field in seen:
            problems.append(
                Problem(
                    table.file.name,
                    table.sheet,
                    table.header_row,
                    header,
                    None,
                    f"the column repeats {seen[column.field]!r}",
                )
            )
            continue
        seen[column.field] = header
        mapping[i] = column
    return problems or mapping


def _field_list(known: dict[str, Column]) -> str:
    return ", ".join(sorted({c.field for c in known.values()}))


def unlabelled_cells(row: list[Cell], headers: list[str]) -> list[Bad]:
    """Values under no header (beyond the header, or under a blank/merged header cell):
    reported rather than dropped, so nothing is lost silently."""
    bad: list[Bad] = []
    width = len(headers)
    for i, cell in enumerate(row):
        if is_blank(cell):
            continue
        if i >= width:
            bad.append(
                (column_letter(i), cell, "the row has more cells than the header has columns")
            )
        elif not headers[i]:
            bad.append(
                (
                    column_letter(i),
                    cell,
                    "a value in a column without a header (a merged header cell?)",
                )
            )
    return bad


def parse_sources(text: str) -> tuple[list[str], list[Bad]]:
    """``a; b`` or ``Source:a, Source:b`` → Source node ids."""
    if (text and text.isalnum()) or (
        "," not in text
        and ";" not in text
        and "\n" not in text
        and " " not in text
        and ":" not in text
    ):
        if not text:
            return [], []
        return [f"Source:{text}"], []  # one plain key: the common case, checked cheaply
    sources: list[str] = []
    bad: list[Bad] = []
    for part in _SOURCE_SPLIT.split(text):
        if not part:
            continue
        source_id = part if part.startswith("Source:") else f"Source:{part}"
        try:
            split_node_id(source_id)
        except ModelError as e:
            bad.append(("sources", part, str(e)))
            continue
        if source_id not in sources:
            sources.append(source_id)
    return sources, bad


def parse_evidence(cell: Cell) -> tuple[str | None, list[Bad]]:
    text = cell_text(cell).casefold()
    if text in EVIDENCE_VALUES:
        return text, []
    return None, [("evidence", cell, f"not one of: {', '.join(EVIDENCE_VALUES)}")]


def sources_converter() -> Memo:
    """A sources cell as Source node ids (a tuple), remembered by text; Slow when the
    cell has a problem."""

    def convert(cell: Cell) -> tuple[str, ...]:
        if is_blank(cell):
            return ()
        sources, bad = parse_sources(cell_text(cell))
        if bad:
            raise Slow
        return tuple(sources)

    return Memo(convert)


def evidence_converter() -> Memo:
    def convert(cell: Cell) -> str | None:
        if is_blank(cell):
            return None
        evidence, bad = parse_evidence(cell)
        if bad:
            raise Slow
        return evidence

    return Memo(convert)


class _ProvenanceColumns:
    """The ``sources`` and ``evidence`` columns of a template sheet, read through memos
    (a sheet repeats the same few values)."""

    def __init__(self, sources_index: int | None, evidence_index: int | None) -> None:
        self.sources_index = sources_index
        self.evidence_index = evidence_index
        self.sources_of = sources_converter()
        self.evidence_of = evidence_converter()

    def read(self, row: list[Cell]) -> tuple[tuple[str, ...], str | None]:
        sources: tuple[str, ...] = ()
        if self.sources_index is not None:
            cell = row[self.sources_index]
            if (sources := self.sources_of.cache.get(cell, MISS)) is MISS:
                sources = self.sources_of(cell)
        evidence = None
        if self.evidence_index is not None:
            cell = row[self.evidence_index]
            if (evidence := self.evidence_of.cache.get(cell, MISS)) is MISS:
                evidence = self.evidence_of(cell)
        return sources, evidence


class _FastRowParser(RowParser):
    """A template sheet's parser: a row that fits the sheet's columns is first tried on
    the compiled fast path (:meth:`_fast`), which gives up with ``Slow`` at anything
    unusual; then the full checks of :meth:`parse` run, and say what is wrong."""

    width: int  # the sheet's columns
    fast: bool  # False when a column has no header: only the full checks apply

    def _fast(self, row: list[Cell], origin: str) -> Packed:
        raise NotImplementedError

    def parse_packed(
        self, number: int, row: list[Cell], origin: str
    ) -> tuple[list[Packed], list[Bad]]:
        width = self.width
        if self.fast and len(row) <= width:
            if len(row) < width:
                row = row + [None] * (width - len(row))
            try:
                return [self._fast(row, origin)], []
            except Slow:
                pass
        records, bad = self.parse(number, row, origin)
        return [pack(r) for r in records], bad


class _NodeParser(_FastRowParser):
    def __init__(
        self,
        table: Table,
        kind: NodeKind,
        mapping: dict[int, Column],
        resolver: Resolver,
    ) -> None:
        self.kind = kind
        self.label = kind.name
        self.stage = "sources" if kind.name == "Source" else "nodes"
        self.headers = table.headers
        self.file, self.sheet = table.file.name, table.sheet
        self.resolver = resolver
        self.key_index = next((i for i, c in mapping.items() if c.field == "key"), None)
        at = {c.field: i for i, c in mapping.items()}
        self.sources_index, self.evidence_index = at.get("sources"), at.get("evidence")
        self.provenance = _ProvenanceColumns(self.sources_index, self.evidence_index)
        self.props: list[tuple[int, Property]] = [
            (i, c.prop) for i, c in mapping.items() if c.prop is not None
        ]
        self.key_prop = kind.key_property
        self.owner = kind.name
        self.private_names = kind.private_names
        # The fast path (see loaders.convert): one converter per property column.
        self.width = len(self.headers)
        self.fast = "" not in self.headers
        self.converters: list[tuple[int, str, Converter, dict[Any, Any] | None]] = []
        for i, prop in self.props:
            convert = converter(kind.name, prop)
            cache = convert.cache if isinstance(convert, Memo) else None
            self.converters.append((i, prop.name, convert, cache))
        self.id_prefix = f"{kind.name}:"

    def _fast(self, row: list[Cell], origin: str) -> Packed:
        """The record of a row without problems, or Slow (see loaders.convert)."""
        props: dict[str, Value] = {}
        for i, name, convert, cache in self.converters:
            cell = row[i]
            if cache is None or (value := cache.get(cell, MISS)) is MISS:
                value = convert(cell)
            if value is not None:
                props[name] = value
        slug = None
        if self.key_index is not None:
            cell = row[self.key_index]
            plain = type(cell) is str and cell.isascii()
            slug = (cell.strip() or None) if plain else text_of(cell)  # type: ignore[union-attr]
        key_prop = self.key_prop
        inn = props.get(key_prop) if key_prop else None
        if isinstance(inn, str):
            if not inn.isdigit() or len(inn) not in (10, 12):
                raise Slow
            key = inn
        elif slug is not None:
            if not plain_key(slug):
                try:
                    check_key(self.owner, slug)  # the slug is NFC already: it stays the same
                except ModelError:
                    raise Slow from None
            key = slug
        else:
            raise Slow
        sources, evidence = self.provenance.read(row)
        if self.private_names and private_key_problem(key, props):
            raise Slow
        node_id = self.id_prefix + key
        if slug is not None and slug != key:
            self.resolver.key_aliases[self.id_prefix + slug] = node_id
        return (0, node_id, self.owner, key, props, sources, evidence, (origin,))

    def parse(self, number: int, row: list[Cell], origin: str) -> tuple[list[Record], list[Bad]]:
        kind = self.kind
        bad: list[Bad] = []
        if len(row) > len(self.headers) or "" in self.headers:
            bad.extend(unlabelled_cells(row, self.headers))
        n = len(row)
        props: dict[str, Value] = {}
        for i, prop in self.props:
            if i >= n:
                continue
            cell = row[i]
            if cell is None or cell == "":
                continue
            try:
                value = parse_cell(self.owner, prop, cell)
            except ModelError as e:
                bad.append((prop.name, cell, str(e)))
                continue
            if value is not None:
                props[prop.name] = value
        slug = _cell(row, self.key_index)
        key = node_key(kind, slug, props, bad)
        sources: list[str] = []
        evidence = None
        if (cell := _cell(row, self.sources_index)) is not None:
            sources, more = parse_sources(cell_text(cell))
            bad.extend(more)
        if (cell := _cell(row, self.evidence_index)) is not None:
            evidence, more = parse_evidence(cell)
            bad.extend(more)
        if key is None or bad:
            self._note_bad(number, row, key)
            return [], bad
        node = Node(
            f"{kind.name}:{key}",
            kind.name,
            key,
            props,
            Provenance(tuple(sources), evidence, (origin,)),
        )
        if kind.private_names:
            check_private_key(node, bad)
            if bad:
                self._note_bad(number, row, key)
                return [], bad
        if slug is not None and (text := cell_text(slug)) != key:
            self.resolver.key_aliases[f"{kind.name}:{text}"] = node.id
        return [node], []

    def _note_bad(self, number: int, row: list[Cell], key: str | None) -> None:
        """Note the ids a bad row would have given its node: by its key column and by its
        INN as written, whether or not they are valid (a relationship may name either)."""
        prefix = f"{self.kind.name}:"
        ids = [] if key is None else [prefix + key]
        for index in (self.key_index, self._inn_index):
            if (cell := _cell(row, index)) is not None:
                ids.append(prefix + cell_text(cell))
        self.resolver.note_bad_row(ids, (self.file, self.sheet, number))

    @property
    def _inn_index(self) -> int | None:
        key_prop = self.key_prop
        return next((i for i, p in self.props if p.name == key_prop), None)


def _cell(row: list[Cell], index: int | None) -> Cell:
    if index is None or index >= len(row):
        return None
    cell = row[index]
    return None if is_blank(cell) else cell


def node_key(kind: NodeKind, slug: Cell, props: dict[str, Value], bad: list[Bad]) -> str | None:
    """The INN where the kind has one and the row gives it, else the key column."""
    if kind.key_property and isinstance(props.get(kind.key_property), str):
        inn = str(props[kind.key_property])
        if not inn.isdigit() or len(inn) not in (10, 12):
            bad.append((kind.key_property, inn, "an INN has 10 digits (organizations) or 12"))
            return None
        return inn
    if slug is None:
        bad.append(("key", None, "the key is empty"))
        return None
    try:
        return check_key(kind.name, cell_text(slug))
    except ModelError as e:
        bad.append(("key", slug, str(e)))
        return None


_NOT_SLUG = re.compile(r"[^0-9a-zа-я]+")


def _slug(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text.lower()  # the same as the full way for plain ASCII letters and digits
    return _NOT_SLUG.sub("", text.casefold().replace("ё", "е"))


def private_key_problem(key: str, properties: Mapping[str, Value]) -> bool:
    """Whether a private person's key carries their name."""
    if properties.get("public") is True:
        return False
    name = properties.get("name")
    if not isinstance(name, str):
        return False
    key = _slug(key)
    for word in name.split():
        part = word.lower() if word.isascii() and word.isalnum() else _slug(word)
        if len(part) >= 3 and part in key:
            return True
    return False


def check_private_key(node: Node, bad: list[Bad]) -> None:
    """A private person's key must not carry their name (keys show up everywhere)."""
    if private_key_problem(node.key, node.properties):
        bad.append(
            (
                "key",
                node.key,
                "a private person's key must not contain their name; use an opaque key "
                "such as a staff number or a hash",
            )
        )


def _compile_nodes(table: Table, kind: NodeKind, resolver: Resolver) -> RowParser | list[Problem]:
    mapping = _map_headers(table, node_columns(kind))
    if isinstance(mapping, list):
        return mapping
    fields = {c.field for c in mapping.values()}
    if "key" not in fields and (kind.key_property is None or kind.key_property not in fields):
        return [
            Problem(
                table.file.name,
                table.sheet,
                table.header_row,
                None,
                None,
                "no 'key' column: every row needs a key"
                + (f" (or an {kind.key_property.upper()})" if kind.key_property else ""),
            )
        ]
    return _NodeParser(table, kind, mapping, resolver)


class _RelationshipParser(_FastRowParser):
    stage = "relationships"
    label = "relationships"

    def __init__(self, table: Table, mapping: dict[int, Column], resolver: Resolver) -> None:
        self.headers = table.headers
        self.mapping = mapping
        self.resolver = resolver
        # The fast path (see loaders.convert).
        self.width = len(self.headers)
        self.fast = "" not in self.headers
        at = {c.field: i for i, c in mapping.items()}
        self.from_index, self.type_index, self.to_index = at["from"], at["type"], at["to"]
        self.key_index = at.get("key")
        self.provenance = _ProvenanceColumns(at.get("sources"), at.get("evidence"))
        self.prop_columns = [
            (i, c.field) for i, c in mapping.items() if c.field not in _REL_STRUCTURAL
        ]
        # per relationship type: one converter per property column (None: not its property)
        self.converters: dict[str, list[Converter | None]] = {}
        self.type_of = Memo(_rel_type)

    def _fast(self, row: list[Cell], origin: str) -> Packed:
        """The record of a row without problems, or Slow (see loaders.convert)."""
        aliases = self.resolver.key_aliases
        # ends: plain ASCII ``Kind:key`` inline (the test of plain_key), the rest by _end_id
        source = _fast_end(row[self.from_index], aliases)
        target = _fast_end(row[self.to_index], aliases)
        cell = row[self.type_index]
        rt: RelationshipType = self.type_of.cache.get(cell, MISS)
        if rt is MISS:
            rt = self.type_of(cell)
        converters = self.converters.get(rt.name)
        if converters is None:
            converters = self.converters[rt.name] = [
                None if (prop := rt.property(name)) is None else converter(rt.name, prop)
                for _, name in self.prop_columns
            ]
        props: dict[str, Value] = {}
        for (i, name), convert in zip(self.prop_columns, converters, strict=True):
            cell = row[i]
            if convert is None:
                if not is_blank(cell):
                    raise Slow  # not a property of this type
                continue
            if type(convert) is Memo:
                if (value := convert.cache.get(cell, MISS)) is MISS:
                    value = convert(cell)
            else:
                value = convert(cell)
            if value is not None:
                props[name] = value
        sources, evidence = self.provenance.read(row)
        if (
            source[: source.index(":")] not in rt.sources
            or target[: target.index(":")] not in rt.targets
        ):
            raise Slow
        key = "" if self.key_index is None else (text_of(row[self.key_index]) or "")
        return (1, source, rt.name, target, key, props, sources, evidence, (origin,))

    def parse(self, number: int, row: list[Cell], origin: str) -> tuple[list[Record], list[Bad]]:
        bad: list[Bad] = []
        if len(row) > len(self.headers) or "" in self.headers:
            bad.extend(unlabelled_cells(row, self.headers))
        cells: dict[str, Cell] = {}
        n = len(row)
        for i, column in self.mapping.items():
            if i < n and not is_blank(row[i]):
                cells[column.field] = row[i]
        rel = relationship_from_cells(cells, origin, bad, self.resolver)
        if rel is None or bad:
            return [], bad
        return [rel], []


def relationship_from_cells(
    cells: dict[str, Cell], origin: str, bad: list[Bad], resolver: Resolver
) -> Relationship | None:
    ends: dict[str, str] = {}
    for end in ("from", "to"):
        if end not in cells:
            bad.append((end, None, f"'{end}' is empty"))
            continue
        try:
            kind, key = split_node_id(cell_text(cells[end]))
            ends[end] = resolver.resolve(f"{kind}:{key}")
        except ModelError as e:
            bad.append((end, cells[end], str(e)))
    rel_type = cell_text(cells["type"]).upper().replace(" ", "_") if "type" in cells else ""
    rt = REL_TYPE_BY_NAME.get(rel_type)
    if rt is None:
        bad.append(
            (
                "type",
                cells.get("type"),
                "the type is empty"
                if not rel_type
                else f"unknown relationship type; known types: {', '.join(REL_TYPE_BY_NAME)}",
            )
        )
        return None
    props: dict[str, Value] = {}
    for name, cell in cells.items():
        if name in ("from", "to", "type", "key", "sources", "evidence"):
            continue
        prop = rt.property(name)
        if prop is None:
            bad.append((name, cell, f"{rt.name} has no property {name!r}"))
            continue
        try:
            value = parse_cell(rt.name, prop, cell)
        except ModelError as e:
            bad.append((name, cell, str(e)))
            continue
        if value is not None:
            props[name] = value
    sources: list[str] = []
    evidence = None
    if "sources" in cells:
        sources, more = parse_sources(cell_text(cells["sources"]))
        bad.extend(more)
    if "evidence" in cells:
        evidence, more = parse_evidence(cells["evidence"])
        bad.extend(more)
    if len(ends) < 2 or bad:
        return None
    source_kind = ends["from"].split(":", 1)[0]
    target_kind = ends["to"].split(":", 1)[0]
    for end, reason in endpoint_problems(rt, source_kind, target_kind).items():
        bad.append((end, ends[end], reason))
    if bad:
        return None
    key = cell_text(cells["key"]) if "key" in cells else ""
    return Relationship(
        ends["from"],
        rt.name,
        ends["to"],
        key,
        props,
        Provenance(tuple(sources), evidence, (origin,)),
    )


_REL_STRUCTURAL = frozenset(("from", "to", "type", "key", "sources", "evidence"))


def _rel_type(cell: Cell) -> RelationshipType:
    rel_type = cell_text(cell).upper().replace(" ", "_") if not is_blank(cell) else ""
    rt = REL_TYPE_BY_NAME.get(rel_type)
    if rt is None:
        raise Slow
    return rt


def _end_id(cell: Cell) -> str:
    """A relationship end as written (``Kind:key``, before aliases), or Slow."""
    text = text_of(cell)
    if text is None:
        raise Slow
    kind, sep, key = text.partition(":")
    if not sep or kind not in NODE_KIND_BY_NAME:
        raise Slow
    if plain_key(key):
        return text
    try:
        key = check_key(kind, key)
    except ModelError:
        raise Slow from None
    return f"{kind}:{key}"


def _compile_relationships(table: Table, resolver: Resolver) -> RowParser | list[Problem]:
    mapping = _map_headers(table, relationship_columns())
    if isinstance(mapping, list):
        return mapping
    missing = {"from", "type", "to"} - {c.field for c in mapping.values()}
    if missing:
        return [
            Problem(
                table.file.name,
                table.sheet,
                table.header_row,
                None,
                None,
                f"missing column(s): {', '.join(sorted(missing))}",
            )
        ]
    return _RelationshipParser(table, mapping, resolver)


ParserFactory = Callable[[Table, Resolver], "RowParser | list[Problem]"]


def _fast_end(cell: Cell, aliases: dict[str, str]) -> str:
    """An endpoint cell as a node id: plain ASCII ``Kind:key`` inline (what ``plain_key``
    accepts), anything else through ``_end_id``; then through the load's key aliases."""
    if (
        type(cell) is str
        and cell.isascii()
        and (end := (node_id := cell.strip()).partition(":"))[1]
        and end[0] in NODE_KIND_BY_NAME
        and end[2].isprintable()
        and " " not in end[2]
        and end[2]
    ):
        return aliases.get(node_id, node_id)
    node_id = _end_id(cell)
    return aliases.get(node_id, node_id)
