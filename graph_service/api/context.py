"""The per-request context every resolver gets: the store, and a node cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from graph_service.storage import Node, Store


@dataclass
class Context:
    store: Store
    request: Any = None
    #: The response is written by ``graph_service.api.json_encoding.encode_response``,
    #: so a JSON field may answer with ``EncodedJSON`` text (the HTTP app sets it; a
    #: caller that reads ``result.data`` itself gets plain values).
    encoded_json: bool = False
    _nodes: dict[str, Node | None] = field(default_factory=dict)

    def nodes(self, ids: Sequence[str]) -> dict[str, Node]:
        """Nodes by id, fetched at most once per request."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self._nodes]
        if wanted:
            found = self.store.get_nodes(wanted)
            for node_id in wanted:
                self._nodes[node_id] = found.get(node_id)
        return {i: n for i in ids if (n := self._nodes.get(i)) is not None}

    def node(self, node_id: str) -> Node | None:
        return self.nodes([node_id]).get(node_id)

    def remember(self, nodes: Sequence[Node]) -> None:
        for n in nodes:
            self._nodes[n.id] = n
