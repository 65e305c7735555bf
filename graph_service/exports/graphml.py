"""GraphML, streamed: ``<key>`` declarations from the model, then every node, then every
relationship (a directed edge with its id). Read back by networkx and Gephi.

Text values are neutralized against spreadsheet formulas (:mod:`.cells`); lists are JSON
text. Centrality scores included in the export are ``double`` keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from graph_service.exports.attributes import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Attribute
from graph_service.exports.source import ExportSource
from graph_service.exports.xmlwrite import XML_TYPES as _TYPES
from graph_service.exports.xmlwrite import chunked, edge_values, esc, node_values, xml_text
from schema import ValueType

MEDIA_TYPE = "application/graphml+xml"
SUFFIX = "graphml"



def write(source: ExportSource) -> Iterator[str]:
    """The GraphML document, in chunks."""
    return chunked(_pieces(source))


def _data(values: dict[str, object], index: dict[str, tuple[str, Attribute]]) -> str:
    return "".join(
        f'<data key="{index[name][0]}">{xml_text(value)}</data>'
        for name, value in values.items()
        if value is not None and name in index
    )


def _pieces(source: ExportSource) -> Iterator[str]:
    node_attrs = NODE_ATTRIBUTES + [Attribute(name, ValueType.NUMBER) for name in source.scores]
    node_index = {a.name: (f"n{i}", a) for i, a in enumerate(node_attrs)}
    edge_index = {a.name: (f"e{i}", a) for i, a in enumerate(EDGE_ATTRIBUTES)}
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
    for index, domain in ((node_index, "node"), (edge_index, "edge")):
        for name, (key, a) in index.items():
            yield (
                f'<key id="{key}" for="{domain}" attr.name="{esc(name)}" '
                f'attr.type="{_TYPES[a.type]}"/>\n'
            )
    yield '<graph id="pressure-graph" edgedefault="directed">\n'
    for node in source.nodes():
        yield f'<node id="{esc(node.id)}">{_data(node_values(node, source.scores), node_index)}'
        yield "</node>\n"
    for rel in source.relationships():
        yield (
            f'<edge id="{esc(rel.id)}" source="{esc(rel.source)}" target="{esc(rel.target)}">'
            f"{_data(edge_values(rel), edge_index)}</edge>\n"
        )
    yield "</graph>\n</graphml>\n"
