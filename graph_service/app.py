"""The Starlette application: GraphQL (with GraphiQL) at /graphql, and /healthz."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from graph_service.api.context import Context
from graph_service.api.schema import schema
from graph_service.errors import PressureGraphError
from graph_service.storage import Store


class _GraphQL(GraphQL[Context, None]):
    def __init__(self, store: Store) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.store = store

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(store=self.store, request=request)


def create_app(store: Store) -> Starlette:
    """The ASGI app serving ``store``. The store stays open for the app's lifetime."""
    graphql = _GraphQL(store)

    async def healthz(request: Request) -> Response:
        try:
            version = store.version()
        except PressureGraphError as e:
            return JSONResponse({"status": "unavailable", "error": str(e)}, status_code=503)
        return JSONResponse({"status": "ok", "store": _public_url(store.url), "version": version})

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
    )
    app.state.store = store
    return app


def _public_url(url: str) -> str:
    """A store URL without credentials, fit for a health answer."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
