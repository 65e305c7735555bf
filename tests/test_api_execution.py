"""The leaf fast path of GraphQL execution and the collector pause: same answers, same
errors, as strawberry's own execution."""

from __future__ import annotations

import enum
import gc
import weakref
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph_service.api.context import Context
from graph_service.api.execution import LeafFastExecutionContext, leaf_plan
from graph_service.api.gc_pause import (
    PauseCollectorDuringExecution,
    collector_paused,
    settle_long_lived,
)
from graph_service.api.schema import schema as service_schema
from graph_service.storage import Store
from tests.case import load_case


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class Item:
    name: str
    count: int | None
    colour: Colour
    required: str  # set to None below: a non-null error
    broken: int  # set to a string below: a coercion error

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def fails(self) -> str:
        raise ValueError(f"no answer for {self.name}")

    @strawberry.field
    def nothing(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    def asks(self, info: strawberry.Info) -> str:
        return info.field_name

    @strawberry.field
    def echo(self, word: str = "hi") -> str:
        return word


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        good = Item(name="a", count=None, colour=Colour.RED, required="x", broken=1)
        bad = Item(name="b", count=2, colour=Colour.RED, required=None, broken="nope")  # type: ignore[arg-type]
        return [good, bad]

    @strawberry.field
    def maybe_items(self) -> list[Item | None]:
        return [Item(name="c", count=3, colour=Colour.RED, required="y", broken=2), None]


def _both(query: str) -> tuple[Any, Any]:
    """The answer (data and errors) of the general and the fast execution contexts."""
    answers = []
    for context_class in (StrawberryGraphQLCoreExecutionContext, LeafFastExecutionContext):
        result = strawberry.Schema(query=Query, execution_context_class=context_class).execute_sync(
            query
        )
        errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
        answers.append((result.data, errors))
    return answers[0], answers[1]


def test_fast_leaves_answer_like_the_general_path() -> None:
    general, fast = _both("{ items { name count colour shout } }")
    assert fast == general
    assert fast[0] == {
        "items": [
            {"name": "a", "count": None, "colour": "RED", "shout": "A"},
            {"name": "b", "count": 2, "colour": "RED", "shout": "B"},
        ]
    }


def test_lists_of_plain_objects_answer_like_the_general_path() -> None:
    general, fast = _both("{ items { name count colour } maybeItems { name count } }")
    assert fast == general
    assert fast[0] == {
        "items": [
            {"name": "a", "count": None, "colour": "RED"},
            {"name": "b", "count": 2, "colour": "RED"},
        ],
        "maybeItems": [{"name": "c", "count": 3}, None],
    }
    general, fast = _both("{ items { n: name n2: name ... on Item { count } } }")
    assert fast == general
    assert fast[0]["items"][1] == {"n": "b", "n2": "b", "count": 2}


def test_fast_leaves_report_null_and_coercion_errors_like_the_general_path() -> None:
    general, fast = _both("{ items { name required } }")
    assert fast == general
    assert fast[1] and "Cannot return null for non-nullable field Item.required" in fast[1][0][0]
    general, fast = _both("{ items { name broken } }")
    assert fast == general
    assert fast[1] and fast[1][0][1] == ("items", 1, "broken")


def test_plain_methods_answer_and_fail_like_the_general_path() -> None:
    general, fast = _both("{ items { shout asks echo e2: echo(word: \"yo\") } }")
    assert fast == general
    assert fast[0]["items"][0] == {"shout": "A", "asks": "asks", "echo": "hi", "e2": "yo"}
    general, fast = _both("{ items { name fails } }")
    assert fast == general
    assert fast[1] and fast[1][0] == ("no answer for a", ("items", 0, "fails"))
    general, fast = _both("{ items { name nothing } }")
    assert fast == general
    assert fast[1] and "non-nullable field Item.nothing" in fast[1][0][0]
    item = strawberry.Schema(query=Query)._schema.get_type("Item")
    fields = item.fields  # type: ignore[union-attr]
    assert leaf_plan(fields["shout"]) is not None
    assert leaf_plan(fields["asks"]) is None  # wants info: the general path
    assert leaf_plan(fields["echo"]) is None  # has arguments


def test_chain_hop_scalars_take_the_fast_path() -> None:
    """Guards the fast path against a strawberry upgrade that renames its plain-field
    resolver (the answers would stay right, only slow)."""
    hop = service_schema._schema.get_type("ChainHop")
    assert hop is not None
    fields = hop.fields  # type: ignore[attr-defined]
    issued = leaf_plan(fields["issued"])
    assert issued is not None
    assert isinstance(issued[1], attrgetter)  # read in one C call
    assert leaf_plan(fields["directiveId"]) is not None
    assert leaf_plan(fields["lagDays"]) is not None
    assert leaf_plan(fields["recipients"]) is None  # a list of objects: the general path
    directive = service_schema._schema.get_type("Directive")
    assert directive is not None
    for name in ("id", "kind", "label", "key"):  # Node's own methods
        assert leaf_plan(directive.fields[name]) is not None, name  # type: ignore[attr-defined]


def test_service_schema_answers_a_chain_like_the_general_path(store: Store) -> None:
    load_case(store)
    query = """{ instructionChain(directiveId: "Directive:lipetsk-dip-election-survey") {
        depth originId hops { directiveId level relaysId issued deadline lagDays wording
          channel action evidence sourceIds recipientCount issuers { id label }
          recipients { recipientId received channel lagDays evidence sourceIds } } } }"""
    answers = []
    for context_class in (StrawberryGraphQLCoreExecutionContext, LeafFastExecutionContext):
        service_schema.execution_context_class = context_class
        try:
            result = service_schema.execute_sync(query, context_value=Context(store=store))
        finally:
            service_schema.execution_context_class = LeafFastExecutionContext
        assert result.errors is None
        answers.append(result.data)
    assert answers[0] == answers[1]
    assert answers[1] is not None and answers[1]["instructionChain"]["hops"]


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_collector_is_paused_inside_and_restored_after_nested_pauses(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer operation still runs
    assert gc.isenabled()


def test_collector_left_off_when_it_was_off_before(collector_on: None) -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    gc.enable()


def test_collector_restored_after_an_operation_that_fails(collector_on: None) -> None:
    @strawberry.type
    class Failing:
        @strawberry.field
        def boom(self) -> int:
            assert not gc.isenabled()
            raise ValueError("no")

    s = strawberry.Schema(query=Failing, extensions=[PauseCollectorDuringExecution])
    result = s.execute_sync("{ boom }")
    assert result.errors and result.errors[0].message == "no"
    assert gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settled_objects_leave_collections_and_come_back_at_the_next_settle() -> None:
    settle_long_lived()
    assert gc.get_freeze_count() > 0
    cycle = weakref.ref(_Cycle())  # garbage, kept alive only by its own cycle
    settle_long_lived()  # collected before the freeze
    assert cycle() is None
    kept = _Cycle()
    settle_long_lived()
    ref = weakref.ref(kept)
    del kept
    gc.collect()
    assert ref() is not None  # settled: ordinary collections leave it alone
    settle_long_lived()  # released and collected by the next settle
    assert ref() is None


def test_a_new_flow_projection_is_settled_after_its_operation(store: Store) -> None:
    load_case(store)
    gc.unfreeze()
    query = '{ instructionChain(directiveId: "Directive:lipetsk-dip-election-survey") { depth } }'
    result = service_schema.execute_sync(query, context_value=Context(store=store))
    assert result.errors is None
    assert gc.get_freeze_count() > 0  # the new projection (and its indexes) were settled
    gc.unfreeze()
    result = service_schema.execute_sync(query, context_value=Context(store=store))
    assert result.errors is None
    assert gc.get_freeze_count() == 0  # cached: nothing new to settle
