"""The strawberry schema: the query root, limits, and how errors reach the client."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graph_service.api.analytics import AnalyticsQuery
from graph_service.api.execution import LeafFastExecutionContext
from graph_service.api.gc_pause import PauseCollectorDuringExecution
from graph_service.api.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS
from graph_service.api.query import Query
from graph_service.api.subgraph import SubgraphQuery
from graph_service.api.types import KIND_TYPES
from graph_service.errors import PressureGraphError
from schema import ModelError

log = logging.getLogger("pressure_graph.api")

#: Errors whose message is meant for the client; anything else is masked.
USER_ERRORS = (PressureGraphError, ModelError)


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    # A validation error, or one of ours with a message for people, is shown as it is.
    return original is not None and not isinstance(original, USER_ERRORS)


class _Schema(strawberry.Schema):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """:meth:`execute_sync` in a worker thread. Every resolver is synchronous and
        reads the store, so awaited on the event loop an operation held the loop for its
        whole run: while a 10,000-node ``subgraph`` was written (a quarter of a second),
        ``/healthz`` and every other request waited (up to 0.8 s measured under load).
        In a thread, the loop keeps serving; the Python work still shares one
        interpreter lock, which the loop gets back every switch interval (5 ms)."""
        return await asyncio.to_thread(
            self.execute_sync,
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Log only what is unexpected; a user's mistake is answered, not logged."""
        for error in errors:
            if error.original_error is not None and not isinstance(
                error.original_error, USER_ERRORS
            ):
                log.error("error in %s", error.path, exc_info=error.original_error)


#: Query documents kept parsed and validated (least recently used ones make room).
DOCUMENT_CACHE_SIZE = 256

#: The depth and alias limits as validation rules, made once. Each ``QueryDepthLimiter`` or
#: ``MaxAliasesLimiter`` makes a new rule class, and ``ValidationCache`` keys on the rules
#: with the document: made per request, they made every lookup miss (and the cache hold
#: only dead entries), so every query was validated again.
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
]


def build_schema() -> strawberry.Schema:
    return _Schema(
        query=merge_types("Query", (Query, AnalyticsQuery, SubgraphQuery)),
        types=list(KIND_TYPES.values()),
        # Chains answer with tens of thousands of scalar fields: complete plain ones directly.
        execution_context_class=LeafFastExecutionContext,
        extensions=[
            # Clients repeat the same few query documents with variables (the explorer
            # does): parse and validate each once, in bounded LRU caches.
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: AddValidationRules(_LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            # A big answer would otherwise set off full collections over the whole graph.
            PauseCollectorDuringExecution,
            lambda: MaskErrors(
                should_mask_error=_should_mask,
                error_message="Internal error; the server log has the details.",
            ),
        ],
    )


schema = build_schema()
