"""Cytoscape.js JSON (``{"elements": {"nodes": [...], "edges": [...]}}``), streamed, in the
element shape of :mod:`.elements`. Opens in Cytoscape desktop and ``cy.json()``.

JSON is not opened as a spreadsheet, so text stays exactly as stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from graph_service.exports.elements import edge_element, node_element
from graph_service.exports.source import ExportSource
from graph_service.exports.xmlwrite import chunked

MEDIA_TYPE = "application/json"
SUFFIX = "json"


def write(source: ExportSource) -> Iterator[str]:
    return chunked(_pieces(source))


def _pieces(source: ExportSource) -> Iterator[str]:
    yield '{"elements": {"nodes": [\n'
    sep = ""
    for node in source.nodes():
        extra = {name: by_id[node.id] for name, by_id in source.scores.items() if node.id in by_id}
        yield sep + json.dumps(node_element(node, **extra), ensure_ascii=False)
        sep = ",\n"
    yield '\n], "edges": [\n'
    sep = ""
    for rel in source.relationships():
        yield sep + json.dumps(edge_element(rel), ensure_ascii=False)
        sep = ",\n"
    yield "\n]}}\n"
