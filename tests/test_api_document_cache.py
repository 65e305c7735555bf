"""Repeated query documents (clients send one document with variables) are parsed and
validated once, in bounded caches, and still answer and fail exactly as a fresh one."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import ParserCache, ValidationCache

from graph_service.api.context import Context
from graph_service.api.schema import DOCUMENT_CACHE_SIZE
from graph_service.api.schema import schema as service_schema
from graph_service.storage import Store
from tests.test_analytics_chains import relay_tree

CHAIN = """query Chain($id: ID!) { instructionChain(directiveId: $id, fromOrigin: false) {
    depth estimatedStaffReached hops { directiveId issued lagDays issuers { id }
      recipients { recipientId received } } } }"""


def _execute(store: Store, query: str, **variables: Any) -> tuple[Any, list[str]]:
    result = service_schema.execute_sync(
        query, variable_values=variables, context_value=Context(store=store)
    )
    return result.data, [e.message for e in result.errors or []]


def _validations() -> int:
    """How many documents the shared validation cache has validated (its misses)."""
    cache = ValidationCache(maxsize=DOCUMENT_CACHE_SIZE).cached_validate_document
    return int(cache.cache_info().misses)


def test_caches_are_bounded() -> None:
    parse = ParserCache(maxsize=DOCUMENT_CACHE_SIZE).cached_parse_document.cache_info()
    validate = ValidationCache(maxsize=DOCUMENT_CACHE_SIZE).cached_validate_document.cache_info()
    assert parse.maxsize == validate.maxsize == DOCUMENT_CACHE_SIZE == 256


def test_a_repeated_document_is_validated_once_and_answers_like_inlined_ids(
    store: Store,
) -> None:
    relay_tree(store)
    ids = ["Directive:d1a", "Directive:d2", "Directive:d1a"]
    _execute(store, CHAIN, id=ids[0])
    before = _validations()
    answers = [_execute(store, CHAIN, id=d) for d in ids]
    assert _validations() == before  # every run after the first came from the cache
    for d, (data, errors) in zip(ids, answers, strict=True):
        inline = CHAIN.replace("query Chain($id: ID!)", "").replace("$id", f'"{d}"')
        assert errors == []
        assert (data, errors) == _execute(store, inline)
    assert answers[0] == answers[2]
    assert answers[0] != answers[1]
    assert answers[0][0]["instructionChain"]["hops"][0]["directiveId"] == "Directive:d1a"


def test_errors_still_come_through_for_a_cached_document(store: Store) -> None:
    relay_tree(store)
    for _ in range(2):
        data, errors = _execute(store, CHAIN, id="Directive:nowhere")
        assert data is None
        assert errors == ["there is no node 'Directive:nowhere'"]
        assert _execute(store, CHAIN, id="Institution:school-1")[1] == [
            "Institution:school-1 is not a Directive"
        ]


def test_a_cached_document_over_a_limit_is_refused_every_time(store: Store) -> None:
    deep = (
        "query($id: ID!) { neighbors(id: $id) { edges { node { neighbors { "
        + "edges { node { neighbors { " * 6
        + "totalCount"
        + " } } }" * 6
        + " } } } } }"
    )
    aliases = "{ " + " ".join(f"a{i}: stats {{ version }}" for i in range(40)) + " }"
    for _ in range(2):
        data, errors = _execute(store, deep, id="Authority:region-a")
        assert data is None and "exceeds maximum operation depth" in errors[0]
        data, errors = _execute(store, aliases)
        assert data is None and "aliases" in errors[0]
