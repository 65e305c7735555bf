"""GEXF 1.3 (Gephi's format), streamed: attribute declarations from the model, then
every node, then every relationship (as a directed edge with its id and type).

Text values are neutralized against spreadsheet formulas (:mod:`.cells`); lists are JSON
text. Centrality scores included in the export are ``double`` attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graph_service.exports.attributes import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Attribute
from graph_service.exports.source import ExportSource
from graph_service.exports.xmlwrite import XML_TYPES as _TYPES
from graph_service.exports.xmlwrite import attr, batched, chunked, esc, text_value, xml_text
from graph_service.storage import Node, Provenance, Relationship
from schema import ValueType

MEDIA_TYPE = "application/gexf+xml"
SUFFIX = "gexf"



def write(source: ExportSource) -> Iterator[str]:
    """The GEXF document, in chunks."""
    return chunked(_pieces(source))


def _declare(cls: str, attributes: list[Attribute]) -> Iterator[str]:
    yield f'<attributes class="{cls}" mode="static">\n'
    for i, a in enumerate(attributes):
        yield f'<attribute id="{i}" title="{esc(a.name)}" type="{_TYPES[a.type]}"/>\n'
    yield "</attributes>\n"


def _pieces(source: ExportSource) -> Iterator[str]:
    node_attrs = [a for a in NODE_ATTRIBUTES if a.name != "label"] + [
        Attribute(name, ValueType.NUMBER) for name in source.scores
    ]
    # A name maps to its opening ``<attvalue for="i" value="``: one dict look-up a value.
    node_index = {a.name: f'<attvalue for="{i}" value="' for i, a in enumerate(node_attrs)}
    edge_index = {a.name: f'<attvalue for="{i}" value="' for i, a in enumerate(EDGE_ATTRIBUTES)}
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
    yield "<meta><creator>pressure-graph</creator></meta>\n"
    yield '<graph defaultedgetype="directed" mode="static">\n'
    yield from _declare("node", node_attrs)
    yield from _declare("edge", EDGE_ATTRIBUTES)
    yield "<nodes>\n"
    tails: dict[tuple[object, ...], str] = {}
    scores = source.scores
    yield from batched(_node(node, node_index, scores, tails) for node in source.nodes())
    yield "</nodes>\n<edges>\n"
    tails.clear()
    yield from batched(_edge(rel, edge_index, tails) for rel in source.relationships())
    yield "</edges>\n</graph>\n</gexf>\n"


def _node(
    node: Node,
    index: dict[str, str],
    scores: dict[str, dict[str, float]],
    tails: dict[tuple[object, ...], str],
) -> str:
    """One ``<node>``: its properties, then kind, key, evidence, sources, origins and
    scores, each value neutralized and escaped (what :func:`.xmlwrite.node_values` lists,
    without the label, which is the element's own attribute)."""
    head = (
        f'<node id="{esc(node.id)}" label="{attr(node.label)}"><attvalues>'
        f'{_attvalues(node.properties, index)}'
        f'{index["kind"]}{text_value(node.kind)}"/>{index["key"]}{text_value(node.key)}"/>'
    )
    tail = _tail(tails, (node.provenance,), index)
    if scores:
        tail = tail[: -len(_NODE_END)] + "".join(
            f'{index[name]}{xml_text(by_id[node.id])}"/>'
            for name, by_id in scores.items()
            if node.id in by_id
        ) + _NODE_END
    return head + tail


def _edge(rel: Relationship, index: dict[str, str], tails: dict[tuple[object, ...], str]) -> str:
    source, target = esc(rel.source), esc(rel.target)
    # ``rel.id`` escaped, from the escaped ends ("->" is always there to escape).
    suffix = f"#{esc(rel.key)}" if rel.key else ""
    return (
        f'<edge id="{source}-{rel.type}{suffix}-&gt;{target}" source="{source}" '
        f'target="{target}" label="{rel.type}"><attvalues>{_attvalues(rel.properties, index)}'
        f"{_tail(tails, (rel.provenance, rel.type, rel.key), index)}"
    )


_NODE_END = "</attvalues></node>\n"
_EDGE_END = "</attvalues></edge>\n"


def _attvalues(values: Mapping[str, object], index: dict[str, str]) -> str:
    if not values:
        return ""
    return "".join(
        f'{index[name]}{xml_text(value)}"/>'
        for name, value in values.items()
        if value is not None and name in index
    )


def _tail(
    tails: dict[tuple[object, ...], str], key: tuple[object, ...], index: dict[str, str]
) -> str:
    """The end of a record from its provenance (and, for an edge, type and key): the
    same few combinations repeat across millions of records, so each is written once."""
    tail = tails.get(key)
    if tail is not None:
        return tail
    p = key[0]
    assert isinstance(p, Provenance)
    parts: list[str] = []
    if len(key) == 3:  # an edge: (provenance, type, key)
        parts.append(f'{index["type"]}{xml_text(key[1])}"/>')
        if key[2]:
            parts.append(f'{index["key"]}{xml_text(key[2])}"/>')
    if p.evidence:
        parts.append(f'{index["evidence"]}{text_value(p.evidence)}"/>')
    if p.sources:
        parts.append(f'{index["sources"]}{xml_text(p.sources)}"/>')
    if p.origins:
        parts.append(f'{index["origins"]}{xml_text(p.origins)}"/>')
    parts.append(_EDGE_END if len(key) == 3 else _NODE_END)
    if len(tails) >= 100_000:  # unbounded only when every record's origin differs
        tails.clear()
    tail = tails[key] = "".join(parts)
    return tail
