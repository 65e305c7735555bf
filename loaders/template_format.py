"""Turning tables in the template format into checked nodes and relationships.

A node sheet has a ``key`` column (or an INN, which wins over any slug key), one column per
property, and optional ``sources`` and ``evidence``. The relationships sheet has ``from``,
``type``, ``to`` (endpoints written ``Kind:key``), optional ``key`` for parallel
relationships, provenance, and the properties of its types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from loaders.headers import (
    Column,
    node_columns,
    normalize_header,
    relationship_columns,
    sheet_target,
)
from loaders.problems import Problem
from loaders.reading import Cell, Table
from loaders.values import cell_text, is_blank, parse_cell
from schema import (
    EVIDENCE_VALUES,
    ModelError,
    Node,
    NodeKind,
    Provenance,
    Relationship,
    Value,
    check_endpoints,
    check_key,
    relationship_type,
    split_node_id,
)

_SOURCE_SPLIT = re.compile(r"\s*[;,\n]\s*")


@dataclass
class ParsedRow:
    record: Node | Relationship
    file: str
    sheet: str
    row: int


@dataclass
class ParsedTables:
    """What a set of tables held: records with where they came from, and problems."""

    nodes: list[ParsedRow] = field(default_factory=list)
    relationships: list[ParsedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    key_aliases: dict[str, str] = field(default_factory=dict)  # Kind:slug -> Kind:inn
    rows_read: int = 0


def parse_tables(tables: Iterable[Table], parsed: ParsedTables | None = None) -> ParsedTables:
    parsed = parsed if parsed is not None else ParsedTables()
    for table in tables:
        target = sheet_target(table.sheet)
        if target is None:
            parsed.problems.append(
                Problem(
                    table.file.name,
                    table.sheet,
                    None,
                    None,
                    None,
                    "the sheet name matches no node kind and is not 'relationships'; name it after "
                    "a kind (authorities, institutions, persons, …) or use --mapping",
                )
            )
            for _ in table.rows:  # drain, so a CSV file is closed
                pass
            continue
        if target == "relationships":
            _parse_relationship_table(table, parsed)
        else:
            assert isinstance(target, NodeKind)
            _parse_node_table(table, target, parsed)
    return parsed


def _map_headers(
    table: Table, known: dict[str, Column], parsed: ParsedTables
) -> dict[int, Column] | None:
    mapping: dict[int, Column] = {}
    seen: dict[str, str] = {}
    ok = True
    for i, header in enumerate(table.headers):
        if not header:
            continue
        column = known.get(normalize_header(header))
        if column is None:
            parsed.problems.append(
                Problem(
                    table.file.name,
                    table.sheet,
                    table.header_row,
                    header,
                    None,
                    f"unknown column; this sheet takes: {_field_list(known)}",
                )
            )
            ok = False
            continue
        if column.field in seen:
            parsed.problems.append(
                Problem(
                    table.file.name,
                    table.sheet,
                    table.header_row,
                    header,
                    None,
                    f"the column repeats {seen[column.field]!r}",
                )
            )
            ok = False
            continue
        seen[column.field] = header
        mapping[i] = column
    return mapping if ok else None


def _field_list(known: dict[str, Column]) -> str:
    return ", ".join(sorted({c.field for c in known.values()}))


def _cells(row: list[Cell], mapping: dict[int, Column]) -> Iterator[tuple[Column, Cell]]:
    for i, column in mapping.items():
        if i < len(row) and not is_blank(row[i]):
            yield column, row[i]


def _extra_cells(row: list[Cell], width: int) -> bool:
    return any(not is_blank(c) for c in row[width:])


def _provenance(
    cells: dict[str, Cell], origin: str, problem: list[tuple[str, Cell, str]]
) -> Provenance:
    sources: list[str] = []
    if "sources" in cells:
        for part in _SOURCE_SPLIT.split(cell_text(cells["sources"])):
            if not part:
                continue
            source_id = part if part.startswith("Source:") else f"Source:{part}"
            try:
                split_node_id(source_id)
                sources.append(source_id)
            except ModelError as e:
                problem.append(("sources", part, str(e)))
    evidence = None
    if "evidence" in cells:
        text = cell_text(cells["evidence"]).casefold()
        if text in EVIDENCE_VALUES:
            evidence = text
        else:
            problem.append(
                ("evidence", cells["evidence"], f"not one of: {', '.join(EVIDENCE_VALUES)}")
            )
    return Provenance(tuple(dict.fromkeys(sources)), evidence, (origin,))


def _parse_node_table(table: Table, kind: NodeKind, parsed: ParsedTables) -> None:
    mapping = _map_headers(table, node_columns(kind), parsed)
    file, sheet = table.file.name, table.sheet
    if mapping is None:
        for _ in table.rows:
            pass
        return
    fields = {c.field for c in mapping.values()}
    if "key" not in fields and (kind.key_property is None or kind.key_property not in fields):
        parsed.problems.append(
            Problem(
                file, sheet, table.header_row, None, None, "no 'key' column: every row needs a key"
            )
        )
        for _ in table.rows:
            pass
        return
    for row_number, row in table.rows:
        if all(is_blank(c) for c in row):
            continue
        parsed.rows_read += 1
        bad: list[tuple[str, Cell, str]] = []
        if _extra_cells(row, len(table.headers)):
            bad.append(("", None, "the row has more cells than the header"))
        cells = {c.field: v for c, v in _cells(row, mapping)}
        props: dict[str, Value] = {}
        for column, cell in _cells(row, mapping):
            if column.prop is None:
                continue
            try:
                value = parse_cell(kind.name, column.prop, cell)
            except ModelError as e:
                bad.append((column.field, cell, str(e)))
                continue
            if value is not None:
                props[column.prop.name] = value
        key = _node_key(kind, cells, props, bad)
        origin = f"{file}#{sheet}!{row_number}"
        provenance = _provenance(cells, origin, bad)
        node = None
        if key is not None and not bad:
            try:
                node = Node.create(kind.name, key, props, provenance)
            except ModelError as e:
                bad.append(("key", cells.get("key"), str(e)))
        if node is not None and kind.private_names:
            _check_private_key(node, bad)
        if bad or node is None:
            parsed.problems.extend(
                Problem(
                    file, sheet, row_number, col or None, None if v is None else cell_text(v), why
                )
                for col, v, why in bad
            )
            continue
        slug = cells.get("key")
        if slug is not None and cell_text(slug) != node.key:
            parsed.key_aliases[f"{kind.name}:{cell_text(slug)}"] = node.id
        parsed.nodes.append(ParsedRow(node, file, sheet, row_number))


def _node_key(
    kind: NodeKind,
    cells: dict[str, Cell],
    props: dict[str, Value],
    bad: list[tuple[str, Cell, str]],
) -> str | None:
    """The INN where the kind has one and the row gives it, else the key column."""
    if kind.key_property and isinstance(props.get(kind.key_property), str):
        inn = str(props[kind.key_property])
        if not inn.isdigit() or len(inn) not in (10, 12):
            bad.append((kind.key_property, inn, "an INN has 10 digits (organizations) or 12"))
            return None
        return inn
    if "key" not in cells:
        bad.append(("key", None, "the key is empty"))
        return None
    try:
        return check_key(kind.name, cell_text(cells["key"]))
    except ModelError as e:
        bad.append(("key", cells["key"], str(e)))
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-zа-я]+", "", text.casefold().replace("ё", "е"))


def _check_private_key(node: Node, bad: list[tuple[str, Cell, str]]) -> None:
    """A private person's key must not carry their name (keys show up everywhere)."""
    if node.properties.get("public") is True:
        return
    name = node.properties.get("name")
    if not isinstance(name, str):
        return
    key = _slug(node.key)
    parts = [p for p in (_slug(w) for w in name.split()) if len(p) >= 3]
    if any(p in key for p in parts):
        bad.append(
            (
                "key",
                node.key,
                "a private person's key must not contain their name; use an opaque key "
                "such as a staff number or a hash",
            )
        )


def _parse_relationship_table(table: Table, parsed: ParsedTables) -> None:
    mapping = _map_headers(table, relationship_columns(), parsed)
    file, sheet = table.file.name, table.sheet
    if mapping is None:
        for _ in table.rows:
            pass
        return
    missing = {"from", "type", "to"} - {c.field for c in mapping.values()}
    if missing:
        parsed.problems.append(
            Problem(
                file,
                sheet,
                table.header_row,
                None,
                None,
                f"missing column(s): {', '.join(sorted(missing))}",
            )
        )
        for _ in table.rows:
            pass
        return
    for row_number, row in table.rows:
        if all(is_blank(c) for c in row):
            continue
        parsed.rows_read += 1
        bad: list[tuple[str, Cell, str]] = []
        if _extra_cells(row, len(table.headers)):
            bad.append(("", None, "the row has more cells than the header"))
        cells = {c.field: v for c, v in _cells(row, mapping)}
        rel = _relationship_from_cells(cells, f"{file}#{sheet}!{row_number}", bad)
        if bad or rel is None:
            parsed.problems.extend(
                Problem(
                    file, sheet, row_number, col or None, None if v is None else cell_text(v), why
                )
                for col, v, why in bad
            )
            continue
        parsed.relationships.append(ParsedRow(rel, file, sheet, row_number))


def _relationship_from_cells(
    cells: dict[str, Cell], origin: str, bad: list[tuple[str, Cell, str]]
) -> Relationship | None:
    ends: dict[str, str] = {}
    for end in ("from", "to"):
        if end not in cells:
            bad.append((end, None, f"'{end}' is empty"))
            continue
        try:
            kind, key = split_node_id(cell_text(cells[end]))
            ends[end] = f"{kind}:{key}"
        except ModelError as e:
            bad.append((end, cells[end], str(e)))
    rel_type = cell_text(cells["type"]).upper().replace(" ", "_") if "type" in cells else ""
    try:
        rt = relationship_type(rel_type)
    except ModelError as e:
        bad.append(("type", cells.get("type"), str(e)))
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
    provenance = _provenance(cells, origin, bad)
    if len(ends) < 2 or bad:
        return None
    try:
        check_endpoints(rt.name, ends["from"].split(":", 1)[0], ends["to"].split(":", 1)[0])
    except ModelError as e:
        bad.append(("type", cells.get("type"), str(e)))
        return None
    key = cell_text(cells["key"]) if "key" in cells else ""
    return Relationship.create(ends["from"], rt.name, ends["to"], props, provenance, key=key)
