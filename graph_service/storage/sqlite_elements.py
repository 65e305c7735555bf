"""Cytoscape.js elements written as JSON text straight from the embedded store's rows
(``subgraph``'s answer; see :class:`graph_service.storage.protocol.ElementReader`).

``subgraph`` answers with tens of thousands of elements; decoding each row into a record,
building its element dict and encoding that again cost about 20 microseconds an element.
Here each element's text is written from the stored columns, in the shape of
graph_service.exports.elements (tests/test_subgraph_elements.py holds the two equal): the
stored property map is compact JSON already, and its members are spliced in as they are.

What stays the same from row to row is written once and looked up: a property map's
opening (with the test that it can be spliced), a kind's or a relationship type's
members, a provenance. SQLite hands those columns over as one ``json_array`` (one value
for the sqlite3 module to convert instead of five or six, which was most of the fetch;
the array's text is the lookup key, decoded once per distinct array), so a row costs
one lookup and one string built of its few parts. (Writing whole elements with SQLite's
JSON functions, and concatenating columns in SQL, were tried: a dozen function calls a
row cost more than the whole Python assembly, and SQLite's ``||`` more than the one
``json_array`` call.) A row whose property map holds NaN or Infinity, which Python's
JSON writes but the response must spell null, is answered with its record instead.
"""

from __future__ import annotations

import json
import json.encoder
import sqlite3
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from graph_service.storage.mirror import GraphMirror
from graph_service.storage.props import decode_props
from graph_service.storage.records import (
    AdjacencyElements,
    AdjacentElement,
    Direction,
    Node,
    Relationship,
)
from graph_service.storage.sqlite_decode import node_from_row, split
from graph_service.storage.sqlite_decode import provenance as _provenance
from graph_service.storage.sqlite_scan import adjacent_rows
from schema import NODE_KINDS, RELATIONSHIP_TYPES, NodeKind

_FETCH = 5000  # nodes per statement
_CACHED = 10_000  # entries a lookup of written parts holds before it starts again

_quote = json.encoder.encode_basestring  # C; keeps non-ASCII text as it is


def _exact(props: str) -> bool:
    """Whether a stored property map can be spliced in as it is: a JSON object with no
    NaN or Infinity (the response spells those null; a string that merely mentions
    them takes the record's way too, which gives the same text)."""
    return props[:1] == "{" and "NaN" not in props and "Infinity" not in props


# -- relationships ------------------------------------------------------------------------


def _edge_opening(props: str) -> str:
    """``{"group":"edges","data":{<the property map's members>,"id":`` ("" when the map
    cannot be spliced). Relationships share a few property maps: each is written once."""
    return _opening(_edge_openings, '{"group":"edges","data":', props)


def _opening(written: dict[str, str], group: str, props: str) -> str:
    text = written.get(props)
    if text is None:
        if len(written) >= _CACHED:
            written.clear()
        members = "" if props == "{}" else props[1:-1] + ","
        text = written[props] = f'{group}{{{members}"id":' if _exact(props) else ""
    return text


_edge_openings: dict[str, str] = {}


def _type_parts(rel_type: str, key: str) -> tuple[str, str, str]:
    """What an edge's text holds of its type and key: the middle of its id (``-TYPE->``
    or ``-TYPE#key->``, to go between its quoted ends), the members ``"kind"`` to
    ``"label"``, and the closing ``"classes"``. JSON quoting is per character, so the
    id's text is its parts' quoted text (a type name needs no escapes)."""
    quoted_key = _quote(key)
    quoted_type = _quote(rel_type)
    return (
        f"-{rel_type}#{quoted_key[1:-1]}->" if key else f"-{rel_type}->",
        f',"kind":{quoted_type},"key":{quoted_key},"label":{quoted_type}',
        f'}},"classes":{quoted_type}}}',
    )


for _type in RELATIONSHIP_TYPES:
    if _quote(_type.name) != f'"{_type.name}"':
        raise RuntimeError(f"relationship type {_type.name!r} would need escapes in an edge's id")


def _provenance_members(key: tuple[str, str | None, str]) -> str:
    """``,"evidence":…,"sources":[…],"origins":[…]`` of stored ``(sources, evidence,
    origins)``. Rows share a few provenances (one per source list and load origin):
    each is written once."""
    text = _provenance_texts.get(key)
    if text is None:
        if len(_provenance_texts) >= _CACHED:
            _provenance_texts.clear()
        sources, evidence, origins = key
        text = _provenance_texts[key] = (
            f',"evidence":{"null" if evidence is None else _quote(evidence)}'
            f',"sources":[{",".join(map(_quote, split(sources)))}]'
            f',"origins":[{",".join(map(_quote, split(origins)))}]'
        )
    return text


_provenance_texts: dict[tuple[str, str | None, str], str] = {}

#: The columns an edge's text is written from, after (anchor, other end): the rowid, and
#: what it shares with other relationships as one JSON array (direction, type, key,
#: property map, provenance). SQLite writes the array at little cost, and the sqlite3
#: module converts two values a row instead of eight (that conversion, not SQLite's
#: reading, was most of the fetch); the array's text is the key of the written parts
#: (:func:`_edge_parts`), so it is decoded once per distinct array, not per row.
_EDGE_DETAILS = (
    "r.rowid, json_array({way}, r.type, r.key, r.props, r.sources, r.evidence, r.origins)"
)

#: What an edge's text holds besides its ends, by the array of :data:`_EDGE_DETAILS`:
#: whether the anchor is the source, the ``neighbors`` order after the other end (type,
#: direction, key), the text before the id, the id's middle, and the text after the
#: target; or the decoded columns when the property map cannot be spliced.
EdgeParts = tuple[bool, tuple[str, str, str], str, str, str]
_edge_parts_by_array: dict[str, EdgeParts | list[Any]] = {}


def _edge_parts(shared: str) -> EdgeParts | list[Any]:
    parts = _edge_parts_by_array.get(shared)
    if parts is None:
        if len(_edge_parts_by_array) >= _CACHED:
            _edge_parts_by_array.clear()
        columns = json.loads(shared)
        way, rel_type, key, props, sources, evidence, origins = columns
        opening = _edge_opening(props)
        if not opening:  # not exact: see the module's docstring
            parts = columns
        else:
            mid, kind, closing = _type_parts(rel_type, key)
            prov = _provenance_members((sources, evidence, origins))
            parts = (way == "out", (rel_type, way, key), opening, mid, f"{kind}{prov}{closing}")
        _edge_parts_by_array[shared] = parts
    return parts


def _edge_texts(
    rows: list[tuple[Any, ...]], ids: Sequence[str]
) -> dict[int, list[AdjacentElement]]:
    """Each anchor's relationships as ``(other end's id, rowid, element)``, in
    ``neighbors`` order; the rowid identifies the relationship for the walk."""
    # The loop runs once per relationship (tens of thousands): the common case is inline.
    # Each arm reads its anchors' rows together, so an anchor's quoted id is written
    # when its first row comes.
    found: dict[int, list[tuple[Any, ...]]] = {}
    cached = _edge_parts_by_array
    current = None
    listed: list[tuple[Any, ...]] = []
    me = quoted_me = open_me = close_me = ""
    for anchor, other_row, rowid, shared in rows:
        parts = cached.get(shared) or _edge_parts(shared)
        other = ids[other_row]
        if anchor != current:
            current = anchor
            listed = found.setdefault(anchor, [])
            me = ids[anchor]
            quoted_me = _quote(me)
            open_me, close_me = quoted_me[:-1], quoted_me[1:]
        if type(parts) is list:  # not exact: the record instead
            way, rel_type, key, props, sources, evidence, origins = parts
            src, dst = (me, other) if way == "out" else (other, me)
            rel = Relationship(src, rel_type, dst, key, decode_props(props),
                               _provenance(sources, evidence, origins))
            listed.append((other, (rel_type, way, key), rowid, rel))
            continue
        out, order, opening, mid, rest = parts
        quoted = _quote(other)
        if out:
            text = (
                f'{opening}{open_me}{mid}{quoted[1:]},"source":{quoted_me},"target":{quoted}'
                f"{rest}"
            )
        else:
            text = (
                f'{opening}{quoted[:-1]}{mid}{close_me},"source":{quoted},"target":{quoted_me}'
                f"{rest}"
            )
        listed.append((other, order, rowid, text))
    # (other end, (type, direction, key)) is the order of ``neighbors`` and tells any two
    # rows of an anchor apart, so the tuples sort as they are. Python compares text by
    # code point, as SQLite compares UTF-8.
    for items in found.values():
        items.sort()
    return {anchor: list(map(_WALKED, items)) for anchor, items in found.items()}


#: What the walk takes of a sorted row: other end, rowid, element.
_WALKED = itemgetter(0, 2, 3)


def neighborhood_elements(
    db: sqlite3.Connection,
    mirror: GraphMirror,
    node_ids: Sequence[str],
    type_sql: str,
    type_params: Sequence[str],
    direction: Direction,
    first: int,
) -> dict[str, AdjacencyElements]:
    """See :meth:`graph_service.storage.protocol.ElementReader.neighborhood_elements`;
    the arguments as :func:`graph_service.storage.sqlite_scan.neighborhoods` takes them."""
    return {
        me: (total, items)
        for me, total, items in adjacent_rows(
            db, mirror, node_ids, type_sql, type_params, direction, first,
            _EDGE_DETAILS, _edge_texts,
        )
    }


# -- nodes --------------------------------------------------------------------------------


def _kind_parts(kind: NodeKind) -> tuple[str, str, str, str]:
    """What a node's text holds of its kind: its label property, and how that is spelled
    as a member name; the members ``"kind"`` and ``"key"`` up to the key's value; the
    closing ``"classes"``."""
    quoted = _quote(kind.name)
    label = kind.label_property
    return label, _quote(label), f',"kind":{quoted},"key":', f'}},"classes":{quoted}}}'


_KINDS = {k.name: _kind_parts(k) for k in NODE_KINDS}


def _node_opening(props: str) -> str:
    """``{"group":"nodes","data":{<the property map's members>,"id":`` ("" when the map
    cannot be spliced). Nodes share property maps more rarely than relationships (a
    name is in most), but staff lists are made of such nodes (``{"public":false}``)."""
    return _opening(_node_openings, '{"group":"nodes","data":', props)


_node_openings: dict[str, str] = {}


#: What a node's text holds of its kind and provenance, by the JSON array of the columns
#: (``kind, sources, evidence, origins``; see :data:`_EDGE_DETAILS` for why an array):
#: the kind's parts (:func:`_kind_parts`) and the provenance's members, or None for a
#: kind the model does not know.
NodeParts = tuple[tuple[str, str, str, str], str]
_node_parts_by_array: dict[str, NodeParts | None] = {}


def _node_parts(shared: str) -> NodeParts | None:
    if shared not in _node_parts_by_array:
        if len(_node_parts_by_array) >= _CACHED:
            _node_parts_by_array.clear()
        kind, sources, evidence, origins = json.loads(shared)
        parts = _KINDS.get(kind)
        _node_parts_by_array[shared] = (
            None if parts is None else (parts, _provenance_members((sources, evidence, origins)))
        )
    return _node_parts_by_array[shared]


def node_elements(
    db: sqlite3.Connection, mirror: GraphMirror, node_ids: Sequence[str]
) -> dict[str, str | Node]:
    """See :meth:`graph_service.storage.protocol.ElementReader.node_elements`."""
    index = mirror.index
    rowids = [index[i] for i in dict.fromkeys(node_ids) if i in index]
    out: dict[str, str | Node] = {}
    cached = _node_parts_by_array
    for start in range(0, len(rowids), _FETCH):
        rows = db.execute(
            "SELECT id, key, props, json_array(kind, sources, evidence, origins) FROM nodes "
            "WHERE rowid IN (SELECT value FROM json_each(?))",
            (json.dumps(rowids[start : start + _FETCH]),),
        ).fetchall()
        for node_id, key, props, shared in rows:
            parts = cached.get(shared) or _node_parts(shared)
            opening = _node_openings.get(props) or _node_opening(props)
            if parts is None or not opening:  # see the module's docstring
                kind, sources, evidence, origins = json.loads(shared)
                out[node_id] = node_from_row(
                    (node_id, kind, key, props, sources, evidence, origins)
                )
                continue
            (label_name, label_member, kind_members, closing), prov = parts
            quoted_key = _quote(key)
            # The label is the only member read from the property map, and only a map
            # that names the label's property (written as a member name: the stores
            # never escape a plain name) can hold one: the others are not decoded.
            quoted_label = quoted_key
            if label_member in props:
                label = decode_props(props).get(label_name)
                if isinstance(label, str) and label:
                    quoted_label = _quote(label)
            out[node_id] = (
                f'{opening}{_quote(node_id)}{kind_members}{quoted_key},"label":{quoted_label}'
                f"{prov}{closing}"
            )
    return out
