"""A load: read every file, check every row, then write everything in one upsert — or
nothing, when any row is bad and the caller did not ask to skip bad rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from loaders.problems import LoadError, LoadRejected, Problem
from loaders.reading import read_tables
from loaders.template_format import ParsedRow, ParsedTables, parse_tables
from schema import Node, Relationship


class Sink(Protocol):
    """The part of a store a load needs (the store protocol satisfies it)."""

    def get_nodes(self, node_ids: Sequence[str]) -> Mapping[str, Any]: ...

    def upsert(self, nodes: Iterable[Node], relationships: Iterable[Relationship] = ()) -> Any: ...


@dataclass
class LoadResult:
    files: list[str]
    rows_read: int
    nodes: list[Node]
    relationships: list[Relationship]
    skipped: list[Problem] = field(default_factory=list)
    summary: Any = None  # the store's WriteSummary; None on a dry run

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes:
            out[n.kind] = out.get(n.kind, 0) + 1
        for r in self.relationships:
            out[r.type] = out.get(r.type, 0) + 1
        return out


def load_files(
    paths: Sequence[Path],
    sink: Sink | None,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> LoadResult:
    """Check the files and, unless ``dry_run``, write them through ``sink``.

    Raises :class:`LoadRejected` listing every problem when any row is bad and
    ``skip_invalid`` is false; nothing is written then.
    """
    parsed = ParsedTables()
    for path in paths:
        try:
            parse_tables(read_tables(Path(path)), parsed)
        except LoadError as e:
            parsed.problems.append(Problem(Path(path).name, "", None, None, None, str(e)))
    nodes = _merge_nodes(parsed)
    relationships = _resolve_relationships(parsed, nodes, sink)
    _check_cited_sources(parsed, nodes, relationships, sink)
    problems = parsed.problems
    if problems and not skip_invalid:
        raise LoadRejected(problems)
    bad_rows = {(p.file, p.sheet, p.row) for p in problems}
    kept_nodes = [r for r in nodes.values() if (r.file, r.sheet, r.row) not in bad_rows]
    kept_rels = [r for r in relationships if (r.file, r.sheet, r.row) not in bad_rows]
    result = LoadResult(
        [str(p) for p in paths],
        parsed.rows_read,
        [r.record for r in kept_nodes],  # type: ignore[misc]
        [r.record for r in kept_rels],  # type: ignore[misc]
        skipped=problems,
    )
    if not dry_run and sink is not None:
        result.summary = sink.upsert(result.nodes, result.relationships)
    return result


def _merge_nodes(parsed: ParsedTables) -> dict[str, ParsedRow]:
    """One record per node id; a repeated id whose values conflict is a problem."""
    merged: dict[str, ParsedRow] = {}
    for row in parsed.nodes:
        node = row.record
        assert isinstance(node, Node)
        first = merged.get(node.id)
        if first is None:
            merged[node.id] = row
            continue
        earlier = first.record
        assert isinstance(earlier, Node)
        conflicts = [
            name
            for name, value in node.properties.items()
            if name in earlier.properties and earlier.properties[name] != value
        ]
        if conflicts:
            for name in conflicts:
                parsed.problems.append(
                    Problem(
                        row.file,
                        row.sheet,
                        row.row,
                        name,
                        str(node.properties[name]),
                        f"{node.id} is also on {first.file} [{first.sheet}] row {first.row} "
                        f"with {name} = {earlier.properties[name]!r}",
                    )
                )
            continue
        merged[node.id] = ParsedRow(earlier.merged(node), first.file, first.sheet, first.row)
    return merged


def _resolve_relationships(
    parsed: ParsedTables, nodes: Mapping[str, ParsedRow], sink: Sink | None
) -> list[ParsedRow]:
    aliases = parsed.key_aliases
    resolved: list[ParsedRow] = []
    for row in parsed.relationships:
        rel = row.record
        assert isinstance(rel, Relationship)
        source, target = aliases.get(rel.source, rel.source), aliases.get(rel.target, rel.target)
        if (source, target) != (rel.source, rel.target):
            rel = Relationship(source, rel.type, target, rel.key, rel.properties, rel.provenance)
        resolved.append(ParsedRow(rel, row.file, row.sheet, row.row))
    wanted = sorted({end for row in resolved for end in _ends(row.record) if end not in nodes})
    existing = set(sink.get_nodes(wanted)) if (sink is not None and wanted) else set()
    bad_node_rows = {(p.file, p.sheet, p.row) for p in parsed.problems}
    good_nodes = {i for i, r in nodes.items() if (r.file, r.sheet, r.row) not in bad_node_rows}
    for row in resolved:
        for column, end in zip(("from", "to"), _ends(row.record), strict=True):
            if end in good_nodes or end in existing:
                continue
            reason = (
                "names a node whose own row has a problem"
                if end in nodes
                else "names a node that is neither in this load nor in the store"
            )
            parsed.problems.append(Problem(row.file, row.sheet, row.row, column, end, reason))
    return resolved


def _ends(record: Node | Relationship) -> tuple[str, str]:
    assert isinstance(record, Relationship)
    return record.source, record.target


def _check_cited_sources(
    parsed: ParsedTables,
    nodes: Mapping[str, ParsedRow],
    relationships: list[ParsedRow],
    sink: Sink | None,
) -> None:
    rows = [*nodes.values(), *relationships]
    cited = {s for r in rows for s in r.record.provenance.sources if s not in nodes}
    existing = set(sink.get_nodes(sorted(cited))) if (sink is not None and cited) else set()
    for row in rows:
        for source in row.record.provenance.sources:
            if source not in nodes and source not in existing:
                parsed.problems.append(
                    Problem(
                        row.file,
                        row.sheet,
                        row.row,
                        "sources",
                        source,
                        "cites a source that is neither in this load nor in the store",
                    )
                )
