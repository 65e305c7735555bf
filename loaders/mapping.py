"""Mapping files: how to read sheets that do not follow the template.

A mapping is YAML. Each entry of ``sheets`` matches sheets (or CSV files) by name and
says what one row becomes: any number of nodes (each with a kind, a key built from the
row, and properties taken from columns or set to constants) and relationships between
them. One row of a staff list can so give a Person, an Institution and a ``WORKS_AT``::

    namespace: lipetsk-staff-leak      # mixed into hashed keys
    sources: [lipetsk-staff-leak]      # Source keys every row cites
    evidence: alleged
    sheets:
      - match: "staff*"                # glob on the sheet name / CSV file name
        ignore: [Телефон]              # columns deliberately not loaded
        nodes:
          employee:
            kind: Person
            key: {hash: [ФИО, Дата рождения]}   # opaque: never the name
            properties: {name: ФИО, position: Должность, public: {value: false}}
          school:
            kind: Institution
            key: ИНН                   # shorthand for {column: ИНН}
            properties: {inn: ИНН, name: Учреждение}
        relationships:
          - {from: employee, type: WORKS_AT, to: school, properties: {role: Должность}}
          - {from: school, type: SUBORDINATE_TO, to: {id: "Authority:lipetsk-dip"}}

A sheet entry may instead say ``template: institutions`` with ``columns:`` renaming its
headers to the template's; such a sheet is then read as the template format.

Keys: ``{column: X}``, ``{hash: [X, Y]}`` (SHA-256 of the namespace, the node's name in
the mapping and the normalized values: stable across loads, reveals nothing),
``{format: "{Region}-{Code}"}``, or ``{value: constant}``. A relationship end is a node
of the same row, ``{id: "Kind:key"}``, or ``{kind: K, column: X}``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loaders.headers import normalize_header
from loaders.problems import LoadError, Problem
from loaders.reading import Cell, Table
from loaders.template_format import (
    Bad,
    Packed,
    Record,
    Resolver,
    RowParser,
    check_private_key,
    compile_table,
    node_key,
    parse_evidence,
    parse_sources,
    unlabelled_cells,
)
from loaders.values import cell_text, is_blank, parse_cell
from schema import (
    EVIDENCE_VALUES,
    NODE_KIND_BY_NAME,
    NODE_KINDS,
    REL_TYPE_BY_NAME,
    ModelError,
    Node,
    NodeKind,
    Property,
    Provenance,
    Relationship,
    RelationshipType,
    Value,
    split_node_id,
)
from schema.validation import with_article


class MappingError(LoadError):
    """The mapping file itself is wrong."""


# -- the mapping as data -----------------------------------------------------------------


@dataclass(frozen=True)
class ValueSpec:
    """Where a value comes from: a column, or a constant."""

    column: str | None = None
    value: Any = None


@dataclass(frozen=True)
class KeySpec:
    column: str | None = None
    hash: tuple[str, ...] = ()
    format: str | None = None
    value: str | None = None

    def columns(self) -> list[str]:
        if self.column:
            return [self.column]
        if self.hash:
            return list(self.hash)
        if self.format:
            return [f for _, f, _, _ in string.Formatter().parse(self.format) if f]
        return []


@dataclass(frozen=True)
class NodeSpec:
    name: str
    kind: NodeKind
    key: KeySpec | None
    properties: dict[str, ValueSpec]
    optional: bool = False


@dataclass(frozen=True)
class EndSpec:
    node: str | None = None  # a node of the same row
    id: str | None = None  # a fixed node id
    kind: str | None = None  # with column: Kind:<cell>
    column: str | None = None


@dataclass(frozen=True)
class RelSpec:
    source: EndSpec
    type: RelationshipType
    target: EndSpec
    properties: dict[str, ValueSpec]
    key: ValueSpec | None = None


@dataclass(frozen=True)
class SheetSpec:
    match: str
    nodes: tuple[NodeSpec, ...] = ()
    relationships: tuple[RelSpec, ...] = ()
    template: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # header renames (template)
    ignore: tuple[str, ...] = ()
    sources: ValueSpec | None = None
    evidence: ValueSpec | None = None


@dataclass(frozen=True)
class Mapping_:
    path: Path
    namespace: str
    sheets: tuple[SheetSpec, ...]

    def sheet_for(self, file: Path, sheet: str) -> SheetSpec | None:
        names = {normalize_header(sheet), normalize_header(file.name), normalize_header(file.stem)}
        for spec in self.sheets:
            pattern = re.sub(r"[\s_\-]+", " ", spec.match.strip().casefold().replace("ё", "е"))
            if any(fnmatch.fnmatchcase(n, pattern) for n in names):
                return spec
        return None


def load_mapping(path: Path) -> Mapping_:
    """Read and check a mapping file; raise MappingError saying what is wrong and where."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MappingError(f"{path}: cannot read the mapping: {e}") from None
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sheets"), list | dict):
        raise MappingError(f"{path}: a mapping needs a 'sheets' list (see examples/)")
    where = str(path)
    namespace = str(data.get("namespace", path.stem))
    default_sources = _value_spec(data.get("sources"), f"{where}: sources")
    default_evidence = _value_spec(data.get("evidence"), f"{where}: evidence")
    raw_sheets = data["sheets"]
    if isinstance(raw_sheets, dict):  # {sheet name: template sheet}
        raw_sheets = [{"match": k, "template": v} for k, v in raw_sheets.items()]
    sheets = []
    for i, raw in enumerate(raw_sheets):
        ctx = f"{where}: sheets[{i}]"
        if not isinstance(raw, dict):
            raise MappingError(f"{ctx}: expected a mapping of match/nodes/relationships")
        _only(
            raw,
            {
                "match",
                "nodes",
                "relationships",
                "template",
                "columns",
                "ignore",
                "sources",
                "evidence",
                "kind",
            },
            ctx,
        )
        sheets.append(_sheet_spec(raw, ctx, default_sources, default_evidence))
    return Mapping_(path, namespace, tuple(sheets))


def _only(raw: Mapping[str, Any], allowed: set[str], ctx: str) -> None:
    extra = set(raw) - allowed
    if extra:
        raise MappingError(
            f"{ctx}: unknown field(s) {', '.join(sorted(extra))}; allowed: "
            f"{', '.join(sorted(allowed))}"
        )


def _value_spec(raw: Any, ctx: str) -> ValueSpec | None:
    if raw is None:
        return None
    if isinstance(raw, dict):
        _only(raw, {"column", "value"}, ctx)
        if "column" in raw:
            return ValueSpec(column=str(raw["column"]))
        if "value" in raw:
            return ValueSpec(value=raw["value"])
        raise MappingError(f"{ctx}: say {{column: X}} or {{value: V}}")
    if isinstance(raw, list):
        return ValueSpec(value="; ".join(str(v) for v in raw))
    return (
        ValueSpec(column=str(raw))
        if not ctx.endswith(("sources", "evidence"))
        else (ValueSpec(value=str(raw)))
    )


def _key_spec(raw: Any, ctx: str) -> KeySpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return KeySpec(column=raw)
    if not isinstance(raw, dict) or len(raw) != 1:
        raise MappingError(
            f"{ctx}: key is one of {{column: X}}, {{hash: [X, Y]}}, "
            "{format: '{X}-{Y}'}, {value: k}"
        )
    ((how, arg),) = raw.items()
    if how == "column":
        return KeySpec(column=str(arg))
    if how == "hash":
        cols = arg if isinstance(arg, list) else [arg]
        return KeySpec(hash=tuple(str(c) for c in cols))
    if how == "format":
        return KeySpec(format=str(arg))
    if how == "value":
        return KeySpec(value=str(arg))
    raise MappingError(f"{ctx}: unknown key rule {how!r}; use column, hash, format or value")


def _props(raw: Any, declared: tuple[Property, ...], owner: str, ctx: str) -> dict[str, ValueSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise MappingError(f"{ctx}: properties map property names to columns")
    known = {p.name for p in declared}
    out: dict[str, ValueSpec] = {}
    for name, spec in raw.items():
        if name not in known:
            raise MappingError(
                f"{ctx}: {owner} has no property {name!r}; its properties: "
                f"{', '.join(sorted(known)) or '(none)'}"
            )
        vs = _value_spec(spec, f"{ctx}.{name}")
        if vs is not None:
            out[str(name)] = vs
    return out


def _sheet_spec(
    raw: dict[str, Any],
    ctx: str,
    default_sources: ValueSpec | None,
    default_evidence: ValueSpec | None,
) -> SheetSpec:
    match = str(raw.get("match", "*"))
    sources = _value_spec(raw.get("sources"), f"{ctx}: sources") or default_sources
    evidence = _value_spec(raw.get("evidence"), f"{ctx}: evidence") or default_evidence
    if (
        evidence is not None
        and evidence.value is not None
        and str(evidence.value).casefold() not in EVIDENCE_VALUES
    ):
        raise MappingError(f"{ctx}: evidence is one of {', '.join(EVIDENCE_VALUES)}")
    ignore = tuple(str(c) for c in raw.get("ignore") or ())
    template = raw.get("template") or raw.get("kind") if not raw.get("nodes") else None
    if template is not None:
        if str(template) not in sheet_kind_names():
            raise MappingError(
                f"{ctx}: template {template!r} is not a sheet of the template; one of: "
                f"{', '.join(sheet_kind_names())}"
            )
        columns = raw.get("columns") or {}
        if not isinstance(columns, dict):
            raise MappingError(f"{ctx}: columns map sheet headers to template headers")
        return SheetSpec(
            match,
            template=str(template),
            columns={str(k): str(v) for k, v in columns.items()},
            ignore=ignore,
        )
    raw_nodes = raw.get("nodes") or {}
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise MappingError(f"{ctx}: give 'nodes' (name: {{kind, key, properties}}) or 'template'")
    nodes = []
    for name, spec in raw_nodes.items():
        nctx = f"{ctx}.nodes.{name}"
        if not isinstance(spec, dict):
            raise MappingError(f"{nctx}: expected kind, key and properties")
        _only(spec, {"kind", "key", "properties", "optional"}, nctx)
        kind = NODE_KIND_BY_NAME.get(str(spec.get("kind")))
        if kind is None:
            raise MappingError(
                f"{nctx}: kind {spec.get('kind')!r} is not one of {', '.join(NODE_KIND_BY_NAME)}"
            )
        key = _key_spec(spec.get("key"), f"{nctx}.key")
        props = _props(spec.get("properties"), kind.properties, kind.name, f"{nctx}.properties")
        if key is None and not (kind.key_property and kind.key_property in props):
            raise MappingError(f"{nctx}: say how to build the key (key: {{column: X}} or hash)")
        nodes.append(NodeSpec(str(name), kind, key, props, bool(spec.get("optional", False))))
    names = {n.name for n in nodes}
    rels = []
    for j, spec in enumerate(raw.get("relationships") or []):
        rctx = f"{ctx}.relationships[{j}]"
        if not isinstance(spec, dict):
            raise MappingError(f"{rctx}: expected from, type, to")
        _only(spec, {"from", "type", "to", "properties", "key"}, rctx)
        rt = REL_TYPE_BY_NAME.get(str(spec.get("type", "")).upper())
        if rt is None:
            raise MappingError(f"{rctx}: type is one of {', '.join(REL_TYPE_BY_NAME)}")
        ends = [_end_spec(spec.get(e), names, f"{rctx}.{e}") for e in ("from", "to")]
        rels.append(
            RelSpec(
                ends[0],
                rt,
                ends[1],
                _props(spec.get("properties"), rt.properties, rt.name, f"{rctx}.properties"),
                _value_spec(spec.get("key"), f"{rctx}.key"),
            )
        )
    return SheetSpec(
        match, tuple(nodes), tuple(rels), ignore=ignore, sources=sources, evidence=evidence
    )


def _end_spec(raw: Any, names: set[str], ctx: str) -> EndSpec:
    if isinstance(raw, str):
        if raw in names:
            return EndSpec(node=raw)
        raise MappingError(f"{ctx}: {raw!r} is not a node of this sheet ({', '.join(names)})")
    if isinstance(raw, dict):
        if "id" in raw:
            try:
                split_node_id(str(raw["id"]))
            except ModelError as e:
                raise MappingError(f"{ctx}: {e}") from None
            return EndSpec(id=str(raw["id"]))
        if "kind" in raw and "column" in raw:
            if str(raw["kind"]) not in NODE_KIND_BY_NAME:
                raise MappingError(f"{ctx}: unknown kind {raw['kind']!r}")
            return EndSpec(kind=str(raw["kind"]), column=str(raw["column"]))
    raise MappingError(f"{ctx}: a node name of this sheet, {{id: Kind:key}} or {{kind, column}}")


# -- compiling a sheet -------------------------------------------------------------------


def compile_mapped(
    table: Table, spec: SheetSpec, mapping: Mapping_, resolver: Resolver
) -> RowParser | list[Problem]:
    if spec.template is not None:
        renames = {normalize_header(k): v for k, v in spec.columns.items()}
        ignored = {normalize_header(c) for c in spec.ignore}
        headers = [
            "" if normalize_header(h) in ignored else renames.get(normalize_header(h), h)
            for h in table.headers
        ]
        renamed = Table(
            table.file,
            spec.template,
            headers,
            table.header_row,
            table.rows,
            table.problems,
            table.progress,
        )
        parser = compile_table(renamed, resolver)
        if isinstance(parser, RowParser) and ignored:
            parser = _IgnoringParser(parser, table.headers, ignored)
        return parser
    return _MappedParser.build(table, spec, mapping, resolver)


class _IgnoringParser(RowParser):
    """Blanks the ignored columns before a template parser sees the row."""

    def __init__(self, inner: RowParser, headers: list[str], ignored: set[str]) -> None:
        self.inner = inner
        self.stage, self.label = inner.stage, inner.label
        self.drop = [i for i, h in enumerate(headers) if normalize_header(h) in ignored]

    def _blanked(self, row: list[Cell]) -> list[Cell]:
        row = list(row)
        for i in self.drop:
            if i < len(row):
                row[i] = None
        return row

    def parse(self, number: int, row: list[Cell], origin: str) -> tuple[list[Record], list[Bad]]:
        return self.inner.parse(number, self._blanked(row), origin)

    def parse_packed(
        self, number: int, row: list[Cell], origin: str
    ) -> tuple[list[Packed], list[Bad]]:
        return self.inner.parse_packed(number, self._blanked(row), origin)


class _MappedParser(RowParser):
    stage = "mapped"

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.headers: list[str] = []
        self.spec: SheetSpec
        self.namespace = ""
        self.resolver: Resolver
        self.file = self.sheet = ""
        self.ignored: set[int] = set()

    @classmethod
    def build(
        cls, table: Table, spec: SheetSpec, mapping: Mapping_, resolver: Resolver
    ) -> RowParser | list[Problem]:
        self = cls()
        self.spec, self.namespace, self.resolver = spec, mapping.namespace, resolver
        self.headers = table.headers
        self.file, self.sheet = table.file.name, table.sheet
        self.label = "+".join(n.kind.name for n in spec.nodes)
        for i, h in enumerate(table.headers):
            if h:
                self.index.setdefault(normalize_header(h), i)
        problems: list[Problem] = []
        used: set[str] = set()
        for needed in self._columns():
            n = normalize_header(needed)
            used.add(n)
            if n not in self.index:
                problems.append(
                    Problem(
                        table.file.name,
                        table.sheet,
                        table.header_row,
                        needed,
                        None,
                        f"the mapping {mapping.path.name} names this column but the sheet "
                        "has no such header; its headers: "
                        + ", ".join(h for h in table.headers if h),
                    )
                )
        ignored = {normalize_header(c) for c in spec.ignore}
        for i, h in enumerate(table.headers):
            n = normalize_header(h)
            if not h or n in used:
                continue
            if n in ignored or "*" in ignored:
                self.ignored.add(i)
                continue
            problems.append(
                Problem(
                    table.file.name,
                    table.sheet,
                    table.header_row,
                    h,
                    None,
                    f"the mapping {mapping.path.name} neither loads nor ignores this column; "
                    "map it to a property or list it under 'ignore:'",
                )
            )
        return problems or self

    def _columns(self) -> list[str]:
        cols: list[str] = []
        spec = self.spec
        for node in spec.nodes:
            if node.key is not None:
                cols.extend(node.key.columns())
            cols.extend(v.column for v in node.properties.values() if v.column)
        for rel in spec.relationships:
            cols.extend(v.column for v in rel.properties.values() if v.column)
            for end in (rel.source, rel.target):
                if end.column:
                    cols.append(end.column)
            if rel.key is not None and rel.key.column:
                cols.append(rel.key.column)
        for vs in (spec.sources, spec.evidence):
            if vs is not None and vs.column:
                cols.append(vs.column)
        return list(dict.fromkeys(cols))

    def _get(self, row: list[Cell], column: str) -> Cell:
        i = self.index[normalize_header(column)]
        if i >= len(row) or is_blank(row[i]):
            return None
        return row[i]

    def _value(self, row: list[Cell], spec: ValueSpec) -> Cell:
        if spec.column is not None:
            return self._get(row, spec.column)
        value = spec.value
        return value if isinstance(value, str | int | float | bool) else None

    def _properties(
        self,
        row: list[Cell],
        owner: str,
        declared: Callable[[str], Property | None],
        specs: dict[str, ValueSpec],
        bad: list[Bad],
    ) -> dict[str, Value]:
        """The mapped properties of one node or relationship; a bad cell goes to ``bad``."""
        props: dict[str, Value] = {}
        for name, vs in specs.items():
            cell = self._value(row, vs)
            if cell is None:
                continue
            prop = declared(name)
            assert prop is not None  # the mapping was checked against the model
            try:
                value = parse_cell(owner, prop, cell)
            except ModelError as e:
                bad.append((vs.column or name, cell, str(e)))
                continue
            if value is not None:
                props[name] = value
        return props

    def _key(self, row: list[Cell], node: NodeSpec, bad: list[Bad]) -> Cell:
        key = node.key
        if key is None:
            return None
        if key.value is not None:
            return key.value
        if key.column is not None:
            return self._get(row, key.column)
        cols = key.columns()
        values = {c: self._get(row, c) for c in cols}
        if all(v is None for v in values.values()):
            return None
        if key.hash:
            text = "\x1f".join(
                normalize_header(cell_text(v)) if v is not None else "" for v in values.values()
            )
            digest = hashlib.sha256(f"{self.namespace}\x1f{node.name}\x1f{text}".encode())
            return f"h{digest.hexdigest()[:20]}"
        assert key.format is not None
        try:
            return key.format.format(
                **{c: cell_text(v) if v is not None else "" for c, v in values.items()}
            ).strip()
        except (KeyError, ValueError, IndexError) as e:
            bad.append(("key", None, f"the key format {key.format!r} failed: {e}"))
            return None

    def parse(self, number: int, row: list[Cell], origin: str) -> tuple[list[Record], list[Bad]]:
        spec = self.spec
        bad: list[Bad] = []
        if len(row) > len(self.headers) or "" in self.headers:
            bad.extend(unlabelled_cells(row, self.headers))
        sources: list[str] = []
        evidence = None
        if spec.sources is not None and (cell := self._value(row, spec.sources)) is not None:
            sources, more = parse_sources(cell_text(cell))
            bad.extend(more)
        if spec.evidence is not None and (cell := self._value(row, spec.evidence)) is not None:
            evidence, more = parse_evidence(cell)
            bad.extend(more)
        provenance = Provenance(tuple(sources), evidence, (origin,))
        nodes: dict[str, Node] = {}
        absent: set[str] = set()
        for node_spec in spec.nodes:
            kind = node_spec.kind
            props = self._properties(row, kind.name, kind.property, node_spec.properties, bad)
            slug = self._key(row, node_spec, bad)
            keyless = slug is None and not (kind.key_property and kind.key_property in props)
            if keyless and node_spec.optional:
                absent.add(node_spec.name)
                continue
            mine: list[Bad] = []
            key = node_key(kind, slug, props, mine)
            bad.extend(
                (_key_column(node_spec, c), v, f"{node_spec.name}: {why}") for c, v, why in mine
            )
            if key is None:
                continue
            record = Node(f"{kind.name}:{key}", kind.name, key, props, provenance)
            if kind.private_names:
                check_private_key(record, bad)
            nodes[node_spec.name] = record
        records: list[Record] = list(nodes.values())
        for rel_spec in spec.relationships:
            ends: list[str | None] = []
            for end in (rel_spec.source, rel_spec.target):
                ends.append(self._end(row, end, nodes, absent, bad))
            if None in ends:
                continue
            source, target = ends[0], ends[1]
            assert source is not None and target is not None
            rt = rel_spec.type
            for label, end_id, allowed in (
                ("from", source, rt.sources),
                ("to", target, rt.targets),
            ):
                end_kind = end_id.split(":", 1)[0]
                if end_kind not in allowed:
                    bad.append(
                        (
                            label,
                            end_id,
                            f"{rt.name} cannot join {with_article(end_kind)} here; it "
                            f"takes {' or '.join(allowed)}",
                        )
                    )
            props = self._properties(row, rt.name, rt.property, rel_spec.properties, bad)
            rel_key = ""
            if rel_spec.key is not None and (cell := self._value(row, rel_spec.key)) is not None:
                rel_key = cell_text(cell)
            records.append(Relationship(source, rt.name, target, rel_key, props, provenance))
        if bad:
            # the nodes this row would have given: a relationship naming one is pointed here
            where = (self.file, self.sheet, number)
            self.resolver.note_bad_row([n.id for n in nodes.values()], where)
            return [], bad
        return records, []

    def _end(
        self,
        row: list[Cell],
        end: EndSpec,
        nodes: dict[str, Node],
        absent: set[str],
        bad: list[Bad],
    ) -> str | None:
        if end.node is not None:
            node = nodes.get(end.node)
            return node.id if node is not None else None  # its problem is already reported
        if end.id is not None:
            return self.resolver.resolve(end.id)
        assert end.kind is not None and end.column is not None
        cell = self._get(row, end.column)
        if cell is None:
            bad.append((end.column, None, f"empty: it names the {end.kind} to link to"))
            return None
        text = cell_text(cell)
        node_id = text if text.startswith(f"{end.kind}:") else f"{end.kind}:{text}"
        try:
            split_node_id(node_id)
        except ModelError as e:
            bad.append((end.column, cell, str(e)))
            return None
        return self.resolver.resolve(node_id)


def _key_column(node: NodeSpec, column: str) -> str:
    if column == "key" and node.key is not None and node.key.column:
        return node.key.column
    if node.kind.key_property and column == node.kind.key_property:
        vs = node.properties.get(column)
        if vs is not None and vs.column:
            return vs.column
    return column


def sheet_kind_names() -> list[str]:
    return [*(k.sheet for k in NODE_KINDS), "relationships"]
