"""FollowTheMoney (FtM) entities as JSON lines, built and checked with the
``followthemoney`` library, and read back.

Nodes become the closest FtM schemata: authorities ``PublicBody``; institutions,
parties and platforms ``Organization``; persons ``Person``; elections, directives and
polls ``Event``; sources ``Article`` (or ``Document`` when not an article).
Relationships become ``Employment`` (WORKS_AT), ``Membership`` (MEMBER_OF) and
``UnknownLink`` with a role for every other type. Provenance is carried the FtM way:
``proof`` names the Source entities a fact cites.

FtM has no place for some of the model (evidence grades, load origins, dates without a
year such as ``--08-16``), so each entity also carries the exact record under the
top-level key ``pressureGraph`` (FtM keeps unknown top-level keys as context). The import
rebuilds nodes and relationships from it exactly; entities from other FtM sources are
mapped from their FtM properties where a kind fits, and counted as skipped otherwise.

JSON lines are not opened as a spreadsheet, so text stays exactly as stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from followthemoney import model
from followthemoney.exc import FollowTheMoneyException
from followthemoney.proxy import EntityProxy

from graph_service.errors import InvalidArgument
from graph_service.exports.source import ExportSource
from graph_service.exports.xmlwrite import chunked
from graph_service.storage import Node, Relationship
from schema import ModelError, Provenance

MEDIA_TYPE = "application/x-ndjson"
SUFFIX = "ftm.jsonl"
CONTEXT_KEY = "pressureGraph"

_ID_RE = re.compile(r"^[0-9a-zA-Z]([0-9a-zA-Z.\-]*[0-9a-zA-Z])?$")

NODE_SCHEMATA = {
    "Authority": "PublicBody",
    "Institution": "Organization",
    "Party": "Organization",
    "Platform": "Organization",
    "Person": "Person",
    "Election": "Event",
    "Directive": "Event",
    "Poll": "Event",
    "Source": "Document",  # Article when the source's type is "article"
}


def entity_id(node_id: str) -> str:
    """The FtM id of a node: ``Kind:key`` as ``kind.key`` when FtM allows that spelling,
    else a hash of the node id. Deterministic, so exporting twice gives the same ids."""
    kind, _, key = node_id.partition(":")
    readable = f"{kind.lower()}.{key}"
    if _ID_RE.match(readable) and len(readable) <= 128:
        return readable
    return "pg-" + hashlib.sha1(node_id.encode("utf-8")).hexdigest()


def relationship_entity_id(rel: Relationship) -> str:
    return "pg-rel-" + hashlib.sha1(rel.id.encode("utf-8")).hexdigest()


def _role(rel_type: str) -> str:
    return rel_type.lower().replace("_", " ")


def _add(entity: EntityProxy, prop: str, value: Any) -> None:
    """Add a value if FtM accepts it for the property (invalid values are dropped: the
    exact value is in the pressureGraph record anyway)."""
    if value is None or value == "" or value == []:
        return
    values = value if isinstance(value, list | tuple) else [value]
    entity.add(prop, [str(v) for v in values], quiet=True)


def node_entity(node: Node) -> EntityProxy:
    p = node.properties
    schema = NODE_SCHEMATA[node.kind]
    if node.kind == "Source" and p.get("type") == "article":
        schema = "Article"
    e = model.make_entity(schema)
    e.id = entity_id(node.id)
    if schema in ("Document", "Article"):
        _add(e, "title", node.label)
    else:
        _add(e, "name", node.label)
    if node.kind in ("Authority", "Institution"):
        inn = p.get("inn")
        _add(e, "innCode", inn)
        if inn and not e.get("innCode"):
            _add(e, "registrationNumber", inn)
        _add(e, "classification", p.get("type") or p.get("level"))
        _add(e, "sector", p.get("sector"))
        place = ", ".join(str(v) for v in (p.get("municipality"), p.get("region")) if v)
        _add(e, "address", place)
    elif node.kind == "Party":
        _add(e, "alias", p.get("short_name"))
        _add(e, "classification", "political party")
    elif node.kind == "Platform":
        _add(e, "website", p.get("url"))
        _add(e, "classification", "online platform")
    elif node.kind == "Person":
        _add(e, "position", p.get("position"))
        _add(e, "alias", p.get("aliases"))
    elif node.kind == "Election":
        _add(e, "date", p.get("date"))
        _add(e, "summary", p.get("constituency"))
    elif node.kind == "Directive":
        _add(e, "date", p.get("issued"))
        _add(e, "endDate", p.get("deadline"))
        _add(e, "summary", p.get("action"))
        details = "; ".join(f"{k}: {p[k]}" for k in ("wording", "channel", "deadline") if p.get(k))
        _add(e, "description", details)
    elif node.kind == "Poll":
        _add(e, "description", "\n".join(p.get("questions") or []))  # type: ignore[arg-type]
    elif node.kind == "Source":
        _add(e, "sourceUrl", p.get("url"))
        _add(e, "publisher", p.get("publisher"))
        _add(e, "publishedAt", p.get("published"))
    # A source may cite itself; FtM refuses an entity that proves itself.
    _add(e, "proof", [entity_id(s) for s in node.provenance.sources if s != node.id])
    e.context = {CONTEXT_KEY: _node_record(node)}
    return e


def relationship_entity(rel: Relationship) -> EntityProxy:
    p = rel.properties
    source, target = entity_id(rel.source), entity_id(rel.target)
    if rel.type == "WORKS_AT":
        e = model.make_entity("Employment")
        _add(e, "employee", source)
        _add(e, "employer", target)
        _add(e, "role", p.get("role") or rel.key)
    elif rel.type == "MEMBER_OF":
        e = model.make_entity("Membership")
        _add(e, "member", source)
        _add(e, "organization", target)
        _add(e, "role", p.get("role"))
    else:
        e = model.make_entity("UnknownLink")
        _add(e, "subject", source)
        _add(e, "object", target)
        _add(e, "role", _role(rel.type))
        _add(e, "date", p.get("received") or p.get("date"))
        details = "; ".join(f"{k}: {v}" for k, v in p.items() if k not in ("received", "date"))
        _add(e, "description", details)
    e.id = relationship_entity_id(rel)
    _add(e, "proof", [entity_id(s) for s in rel.provenance.sources])
    e.context = {CONTEXT_KEY: _relationship_record(rel)}
    return e


def _provenance(p: Provenance) -> dict[str, Any]:
    return {"evidence": p.evidence, "sources": list(p.sources), "origins": list(p.origins)}


def _node_record(node: Node) -> dict[str, Any]:
    return {
        "id": node.id,
        "kind": node.kind,
        "key": node.key,
        "properties": dict(node.properties),
        **_provenance(node.provenance),
    }


def _relationship_record(rel: Relationship) -> dict[str, Any]:
    return {
        "source": rel.source,
        "type": rel.type,
        "target": rel.target,
        "key": rel.key,
        "properties": dict(rel.properties),
        **_provenance(rel.provenance),
    }


def write(source: ExportSource) -> Iterator[str]:
    """One FtM entity a line: every node, then every relationship."""
    return chunked(_lines(source))


def _lines(source: ExportSource) -> Iterator[str]:
    for node in source.nodes():
        yield json.dumps(node_entity(node).to_dict(), ensure_ascii=False) + "\n"
    for rel in source.relationships():
        yield json.dumps(relationship_entity(rel).to_dict(), ensure_ascii=False) + "\n"


# -- import ---------------------------------------------------------------------------


@dataclass
class FtmImport:
    nodes: list[Node] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    skipped: int = 0


_FOREIGN_KINDS = {
    "PublicBody": "Authority",
    "Organization": "Institution",
    "Company": "Institution",
    "Person": "Person",
    "Article": "Source",
    "Document": "Source",
}


def read_entities(lines: Iterable[str], name: str = "<input>") -> FtmImport:
    """Nodes and relationships from FtM JSON lines. Every entity is checked (by FtM's own
    validation, then by the model); a bad one raises :class:`InvalidArgument` naming the
    line, before anything is returned."""
    out = FtmImport()
    foreign: list[tuple[int, EntityProxy]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            data = json.loads(line)
            entity = model.get_proxy(data, cleaned=False)
            entity.schema.validate(entity.to_dict())  # type: ignore[arg-type]
        except json.JSONDecodeError as e:
            raise InvalidArgument(f"{where}: not JSON ({e})") from None
        except (FollowTheMoneyException, KeyError, TypeError, ValueError) as e:
            raise InvalidArgument(f"{where}: not a valid FtM entity ({e})") from None
        record = data.get(CONTEXT_KEY)
        try:
            if isinstance(record, dict) and "kind" in record:
                out.nodes.append(_node_from_record(record))
            elif isinstance(record, dict) and "type" in record:
                out.relationships.append(_relationship_from_record(record))
            else:
                foreign.append((number, entity))
        except (ModelError, KeyError, TypeError) as e:
            raise InvalidArgument(f"{where}: {e}") from None
    _map_foreign(foreign, out, name)
    return out


def _provenance_from(record: dict[str, Any]) -> Provenance:
    return Provenance(
        tuple(record.get("sources") or ()),
        record.get("evidence"),
        tuple(record.get("origins") or ()),
    )


def _node_from_record(r: dict[str, Any]) -> Node:
    return Node.create(r["kind"], r["key"], r.get("properties") or {}, _provenance_from(r))


def _relationship_from_record(r: dict[str, Any]) -> Relationship:
    return Relationship.create(
        r["source"],
        r["type"],
        r["target"],
        r.get("properties") or {},
        _provenance_from(r),
        key=r.get("key") or "",
    )


def _map_foreign(entities: list[tuple[int, EntityProxy]], out: FtmImport, name: str) -> None:
    """Entities from other FtM sources: people, organizations, documents, employments."""
    ids: dict[str, str] = {}
    known = {entity_id(n.id): n.id for n in out.nodes}
    for number, e in entities:
        kind = _FOREIGN_KINDS.get(e.schema.name)
        if kind is None or e.id is None:
            continue
        label_prop = "title" if kind == "Source" else "name"
        label = e.first("title") or e.first("name") if kind == "Source" else e.first("name")
        props: dict[str, Any] = {label_prop: label}
        if kind in ("Authority", "Institution"):
            inn = e.first("innCode")
            if inn:
                props["inn"] = inn
        if kind == "Source":
            props["url"] = e.first("sourceUrl")
            props["publisher"] = e.first("publisher")
        try:
            # The FtM id is the key: it is opaque, so a private person's key names no one.
            node = Node.create(kind, e.id, {k: v for k, v in props.items() if v})
        except ModelError as err:
            raise InvalidArgument(f"{name} line {number}: {err}") from None
        out.nodes.append(node)
        ids[e.id] = node.id
    ids.update(known)
    for _, e in entities:
        if e.schema.name == "Employment":
            employee, employer = e.first("employee"), e.first("employer")
            if employee in ids and employer in ids:
                try:
                    out.relationships.append(
                        Relationship.create(ids[employee], "WORKS_AT", ids[employer],
                                            {"role": e.first("role")} if e.first("role") else {})
                    )
                    continue
                except ModelError:
                    pass
        if e.schema.name not in _FOREIGN_KINDS:
            out.skipped += 1
