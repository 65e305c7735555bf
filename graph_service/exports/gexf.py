"""GEXF 1.3 (Gephi's format), streamed: attribute declarations from the model, then
every node, then every relationship (as a directed edge with its id and type).

Text values are neutralized against spreadsheet formulas (:mod:`.cells`); lists are JSON
text. Centrality scores included in the export are ``double`` attributes.
"""

from __future__ import annotations

from collections.abc import Iterator

from graph_service.exports.attributes import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Attribute
from graph_service.exports.source import ExportSource
from graph_service.exports.xmlwrite import XML_TYPES as _TYPES
from graph_service.exports.xmlwrite import attr, chunked, edge_values, esc, node_values, xml_text
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


def _attvalues(values: dict[str, object], index: dict[str, str]) -> str:
    # ``index`` maps a name to its opening ``<attvalue for="i" value="``: one dict look-up
    # and one cached escape a value, as this runs for every value of every record.
    parts = [
        f'{index[name]}{xml_text(value)}"/>'
        for name, value in values.items()
        if value is not None and name in index
    ]
    return f"<attvalues>{''.join(parts)}</attvalues>" if parts else ""


def _pieces(source: ExportSource) -> Iterator[str]:
    node_attrs = [a for a in NODE_ATTRIBUTES if a.name != "label"] + [
        Attribute(name, ValueType.NUMBER) for name in source.scores
    ]
    node_index = {a.name: f'<attvalue for="{i}" value="' for i, a in enumerate(node_attrs)}
    edge_index = {a.name: f'<attvalue for="{i}" value="' for i, a in enumerate(EDGE_ATTRIBUTES)}
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
    yield "<meta><creator>pressure-graph</creator></meta>\n"
    yield '<graph defaultedgetype="directed" mode="static">\n'
    yield from _declare("node", node_attrs)
    yield from _declare("edge", EDGE_ATTRIBUTES)
    yield "<nodes>\n"
    for node in source.nodes():
        values = node_values(node, source.scores)
        values.pop("label")
        yield (
            f'<node id="{esc(node.id)}" label="{attr(node.label)}">'
            f"{_attvalues(values, node_index)}</node>\n"
        )
    yield "</nodes>\n<edges>\n"
    for rel in source.relationships():
        yield (
            f'<edge id="{esc(rel.id)}" source="{esc(rel.source)}" target="{esc(rel.target)}" '
            f'label="{rel.type}">{_attvalues(edge_values(rel), edge_index)}</edge>\n'
        )
    yield "</edges>\n</graph>\n</gexf>\n"
