"""Exports of the whole graph or a projection: GEXF, GraphML, Cytoscape.js JSON and
FollowTheMoney entities. Each format is one module with ``write(source)`` yielding text
chunks, so the CLI and the HTTP endpoint stream them while reading pages from the store.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from graph_service.analytics.budget import Budget
from graph_service.analytics.projection import ProjectionSpec, build_projection
from graph_service.errors import InvalidArgument
from graph_service.exports.source import ExportSource
from graph_service.storage import Store

FORMATS = ("gexf", "graphml", "cytoscape", "ftm")


@dataclass(frozen=True)
class ExportFormat:
    name: str
    media_type: str
    suffix: str
    write: Callable[[ExportSource], Iterator[str]]


def export_format(name: str) -> ExportFormat:
    """The writer for a format name; FtM needs the ``ftm`` extra installed."""
    if name not in FORMATS:
        raise InvalidArgument(f"unknown export format {name!r}: use one of {', '.join(FORMATS)}")
    # Imported on demand: ftm needs the optional followthemoney package.
    module: ModuleType = importlib.import_module(f"graph_service.exports.{name}")
    return ExportFormat(name, module.MEDIA_TYPE, module.SUFFIX, module.write)


#: The filters an export takes: the fields of the GraphQL ``ProjectionInput`` (camelCase).
PROJECTION_FIELDS = ("nodeKinds", "relTypes", "region", "dateFrom", "dateTo", "minEvidence")


def projection_spec(fields: Mapping[str, Any] | str | None) -> ProjectionSpec | None:
    """A projection from ``ProjectionInput``-shaped fields (a mapping or its JSON text);
    lists may also be comma-separated text. ``None`` or no fields: the whole graph."""
    if fields is None or fields == "":
        return None
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except json.JSONDecodeError as e:
            raise InvalidArgument(f"projection is not JSON: {e}") from None
        if not isinstance(fields, dict):
            raise InvalidArgument("projection must be a JSON object")
    unknown = set(fields) - set(PROJECTION_FIELDS)
    if unknown:
        raise InvalidArgument(
            f"unknown projection field(s) {', '.join(sorted(unknown))}: "
            f"use {', '.join(PROJECTION_FIELDS)} (direction and weight do not apply to exports)"
        )
    if not any(fields.get(f) for f in PROJECTION_FIELDS):
        return None

    def names(value: Any) -> list[str] | None:
        if value is None or value == "":
            return None
        items = value.split(",") if isinstance(value, str) else list(value)
        return [str(v).strip() for v in items if str(v).strip()]

    def text(value: Any) -> str | None:
        return None if value is None or value == "" else str(value)

    evidence = text(fields.get("minEvidence"))
    return ProjectionSpec.create(
        node_kinds=names(fields.get("nodeKinds")),
        rel_types=names(fields.get("relTypes")),
        region=text(fields.get("region")),
        date_from=text(fields.get("dateFrom")),
        date_to=text(fields.get("dateTo")),
        min_evidence=evidence.lower() if evidence else None,
    )


def centrality_scores(
    store: Store, spec: ProjectionSpec | None, measures: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Scores to include in an export, as ``centrality_<measure>`` by node id, computed on
    the export's projection (or the default one) within the default time budget."""
    from graph_service.analytics.centrality import Measure, centrality

    if not measures:
        return {}
    names = {m.value: m for m in Measure} | {m.name.lower(): m for m in Measure}
    projection = build_projection(store, spec or ProjectionSpec.create(), Budget())
    out: dict[str, dict[str, float]] = {}
    for name in measures:
        measure = names.get(name.strip().lower())
        if measure is None or measure is Measure.REACH:
            raise InvalidArgument(
                f"unknown or unsupported centrality {name!r}: use "
                + ", ".join(sorted(m.name.lower() for m in Measure if m is not Measure.REACH))
            )
        scores = centrality(projection, measure, budget=Budget())
        out[f"centrality_{measure.name.lower()}"] = dict(
            zip(projection.node_ids, scores.values, strict=True)
        )
    return out


__all__ = [
    "FORMATS",
    "PROJECTION_FIELDS",
    "ExportFormat",
    "ExportSource",
    "centrality_scores",
    "export_format",
    "projection_spec",
]
