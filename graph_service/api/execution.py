"""A GraphQL execution context that completes plain leaf fields without the general path.

Chains and rankings answer with tens of thousands of scalar fields (a 10,000-hop chain
selects about 50,000). graphql-core spends most of that time on bookkeeping that a plain
attribute does not need: a resolve-info object per field, awaitable checks, and the
generic ``complete_value`` dispatch. For a field that strawberry resolves by reading an
attribute (no resolver, no arguments, no field extension), or by calling a method of the
object that takes nothing but ``self`` (``Node.id``), and whose type is a scalar or an
enum, the answer is exactly ``coerce_output_value(getattr(source, name))`` (or of the
method's result); this context computes just that, and completes a list of objects that
select only such fields (a chain's deliveries) item by item without graphql-core's
per-item machinery. Whenever
the general path could say something else — a null for a non-null field, a value the
scalar rejects, middleware, an exception, @stream or @defer — it steps aside and the
general path runs as before, so answers and errors read exactly as they did.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

#: (resolve, read, leaf type, non-null) of a plain leaf field, or None when it is not
#: one; ``read(source)`` gives what ``resolve(source, None)`` gives.
PlainLeaf = tuple[Callable[..., Any], Callable[[Any], Any], GraphQLLeafType, bool]
LeafPlan = PlainLeaf | None

#: The name strawberry gives the resolver of a field that only reads an attribute.
_BASIC_RESOLVER = "_get_basic_result"
#: The name strawberry gives the resolver of a field with a resolver of its own.
_METHOD_RESOLVER = "_resolver"
#: Where strawberry keeps its own field definition on a graphql-core field.
_DEFINITION = "strawberry-definition"


def leaf_plan(field: GraphQLField) -> LeafPlan:
    """How to complete ``field`` directly, if it is a plain leaf field: one that reads an
    attribute, or whose resolver is a plain method of the object (see
    :func:`_plain_method`)."""
    resolve = field.resolve
    if resolve is None or field.args:
        return None
    name = getattr(resolve, "__name__", "")
    if name == _BASIC_RESOLVER and getattr(resolve, "_is_default", False):
        read = None
    elif name == _METHOD_RESOLVER and (read := _plain_method(field)) is not None:
        pass
    else:
        return None
    field_type = field.type
    non_null = isinstance(field_type, GraphQLNonNull)
    leaf = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if not is_leaf_type(leaf):
        return None
    return resolve, read or _reader(field, resolve), leaf, non_null


def _plain_method(field: GraphQLField) -> Callable[[Any], Any] | None:
    """The method behind a field whose resolver takes only ``self`` (no arguments, no
    info, no root), synchronous, with no field extension (permissions are extensions):
    strawberry calls it with the object as ``self`` and returns what it returns, which
    is all the general path would do with it."""
    definition = (field.extensions or {}).get(_DEFINITION)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None or resolver.is_async or resolver.arguments:
        return None
    if resolver.self_parameter is None or any(
        p is not None
        for p in (resolver.info_parameter, resolver.root_parameter, resolver.parent_parameter)
    ):
        return None
    method = resolver.wrapped_func
    if not inspect.isfunction(method) or not _takes_only_self(method):
        return None  # a static or class method, or one with more parameters
    return method


@functools.cache
def _takes_only_self(method: Callable[..., Any]) -> bool:
    """Whether ``method`` has exactly one parameter (worked out once per method: plans
    are made per request)."""
    return len(inspect.signature(method).parameters) == 1


def _reader(field: GraphQLField, resolve: Callable[..., Any]) -> Callable[[Any], Any]:
    """``resolve(source, None)`` for a plain field is strawberry's ``get_result``, which
    reads the attribute with its default resolver (``getattr`` unless configured): read
    it in one C call when that is so."""
    definition = (field.extensions or {}).get(_DEFINITION)
    if (
        isinstance(definition, StrawberryField)
        and definition.base_resolver is None
        and definition.default_resolver is getattr
    ):
        return attrgetter(definition.python_name)
    return lambda source: resolve(source, None)


class LeafFastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain leaf fields completed directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Each field's plan, worked out once per request.
        self._plans: dict[tuple[str, str], LeafPlan] = {}
        self._list_plans: dict[tuple[Any, int], tuple[Any, list[tuple[str, PlainLeaf]] | None]] = {}

    def _plan(self, parent_type: GraphQLObjectType, name: str) -> LeafPlan:
        key = (parent_type.name, name)
        try:
            return self._plans[key]
        except KeyError:
            field = self.schema.get_field(parent_type, name)
            plan = leaf_plan(field) if field is not None else None
            if plan is not None and self._wrapped(plan[0]):
                plan = None  # a middleware wraps the resolver: the general path calls it
            self._plans[key] = plan
            return plan

    def _wrapped(self, resolve: Callable[..., Any]) -> bool:
        middleware = self.middleware_manager
        if not middleware:
            return False
        return middleware.get_field_resolver(resolve) is not resolve

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: dict[str, Any],
        position_context: Any,
    ) -> Any:
        """Plain leaf fields directly; the others (and any leaf the general path must
        decide) through graphql-core, then all in the order the query asked for them."""
        leaves: dict[str, Any] = {}
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            plan = self._plan(parent_type, node.name.value)
            value = Undefined
            if plan is not None and not node.arguments:
                value = _complete_leaf(plan, source_value)
            if value is Undefined:
                rest[response_name] = field_details_list
            else:
                leaves[response_name] = value
        if not rest:
            return leaves
        if not leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return _in_order(grouped_field_set, leaves, await others)

            return merged()
        assert isinstance(others, dict)
        return _in_order(grouped_field_set, leaves, others)

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects whose selected fields are all plain leaves, item by item
        without the per-item completion machinery; any other list the general way."""
        plain = self._plain_objects(return_type, field_details_list, result)
        if plain is not None:
            return plain
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain_objects(
        self, return_type: GraphQLList[Any], field_details_list: Any, result: Any
    ) -> list[dict[str, Any]] | None:
        if not isinstance(result, list | tuple):
            return None
        plans = self._list_plan(return_type, field_details_list)
        if plans is None:
            return None
        completed = []
        for item in result:
            if item is None or isinstance(item, Exception):
                return None
            row = {}
            for response_name, plan in plans:
                value = _complete_leaf(plan, item)
                if value is Undefined:
                    return None
                row[response_name] = value
            completed.append(row)
        return completed

    def _list_plan(
        self, return_type: GraphQLList[Any], field_details_list: Any
    ) -> list[tuple[str, PlainLeaf]] | None:
        """Each selected field's plan, if the list's items are objects that select only
        plain leaves; worked out once per list field of the query (keyed, as
        graphql-core's own memo, by the identity of the field list, kept alive here)."""
        key = (return_type, id(field_details_list))
        cached = self._list_plans.get(key)
        if cached is not None:
            return cached[1]
        plans = self._work_out_list_plan(return_type, field_details_list)
        self._list_plans[key] = (field_details_list, plans)
        return plans

    def _work_out_list_plan(
        self, return_type: GraphQLList[Any], field_details_list: Any
    ) -> list[tuple[str, PlainLeaf]] | None:
        item_type = return_type.of_type
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType) or item_type.is_type_of is not None:
            return None
        if any(details.node.directives for details in field_details_list):
            return None  # @stream and the like: the general path
        grouped_field_set, new_defer_usages, *_ = self.collect_subfields(
            item_type, field_details_list
        )
        if new_defer_usages:
            return None
        plans = []
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            plan = self._plan(item_type, node.name.value)
            if plan is None or node.arguments:
                return None
            plans.append((response_name, plan))
        return plans


def _in_order(
    grouped_field_set: dict[str, Any], leaves: dict[str, Any], others: dict[str, Any]
) -> dict[str, Any]:
    """Both sets of results, in the query's order (a field the general path left out,
    such as an unknown one, stays out)."""
    out: dict[str, Any] = {}
    for name in grouped_field_set:
        if name in leaves:
            out[name] = leaves[name]
        elif name in others:
            out[name] = others[name]
    return out


def _complete_leaf(plan: PlainLeaf, source: Any) -> Any:
    """The completed value, or ``Undefined`` when the general path must decide."""
    _, read, leaf, non_null = plan
    try:
        value = read(source)
    except Exception:
        return Undefined
    if value is None or value is Undefined:
        return Undefined if non_null else None
    if isinstance(value, Exception):
        return Undefined
    try:
        coerced = leaf.coerce_output_value(value)
    except Exception:
        return Undefined
    if coerced is None:
        return Undefined
    return coerced
