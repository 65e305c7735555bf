"""What an export reads: every node and relationship of the graph or of a projection,
streamed from the store's scans (one query each, read in batches as the writer consumes
them), so memory stays bounded by a batch (plus, for a projection, the set of node ids
it keeps). Paging would repeat a count and a seek per page: most of an export's time on
a million records.

A projection here keeps what the analytics projection keeps (node kinds, relationship
types, region, date window, minimum evidence); exports always write relationships in
their stored direction, whatever the projection's ``direction``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from graph_service.analytics.budget import Budget
from graph_service.analytics.projection import ProjectionSpec, build_projection, outside_window
from graph_service.storage import Node, Relationship, Store
from schema import Evidence


@dataclass
class ExportSource:
    """The nodes and relationships to export, and extra per-node scores to include.

    ``scores`` maps an attribute name (``centrality_pagerank``) to scores by node id.
    """

    store: Store
    projection: ProjectionSpec | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    _keep: set[str] | None = field(default=None, init=False, repr=False)

    def _kept_ids(self) -> set[str] | None:
        if self.projection is None:
            return None
        if self._keep is None:
            self._keep = set(build_projection(self.store, self.projection, Budget()).node_ids)
        return self._keep

    def nodes(self) -> Iterator[Node]:
        keep = self._kept_ids()
        kinds: Sequence[str | None] = (
            list(self.projection.node_kinds) if self.projection is not None else [None]
        )
        for kind in kinds:
            for node in self.store.scan_nodes(kind):
                if keep is None or node.id in keep:
                    yield node

    def relationships(self) -> Iterator[Relationship]:
        keep = self._kept_ids()
        spec = self.projection
        types = list(spec.rel_types) if spec is not None and spec.rel_types else None
        strength = Evidence(spec.min_evidence).strength if spec and spec.min_evidence else 0
        window = spec is not None and bool(spec.date_from or spec.date_to)
        for rel in self.store.scan_relationships(types):
            if keep is not None and (rel.source not in keep or rel.target not in keep):
                continue
            if strength and not _strong_enough(rel, strength):
                continue
            if window and spec is not None and any(
                outside_window(rel.properties.get(p), spec) for p in ("received", "date")
            ):
                continue
            yield rel


def _strong_enough(rel: Relationship, strength: int) -> bool:
    evidence = rel.provenance.evidence
    return evidence is not None and Evidence(evidence).strength >= strength
