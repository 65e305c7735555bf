"""The Starlette application: the explorer at /, GraphQL at /graphql (a self-hosted
GraphiQL for browsers), exports at /export/{format}, and /healthz.

Every page and script is served from the package (``graph_service/static/``, built from
``frontend/``): nothing loads from a CDN, so the service works without internet access.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from graph_service.api.context import Context
from graph_service.api.gc_pause import settle_long_lived
from graph_service.api.json_encoding import encode_response
from graph_service.api.schema import schema
from graph_service.errors import InvalidArgument, PressureGraphError
from graph_service.storage import Store

STATIC = Path(str(resources.files("graph_service") / "static"))


class _GraphQL(GraphQL[Context, None]):
    def __init__(self, store: Store) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.store = store

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(store=self.store, request=request, encoded_json=True)

    def encode_json(self, data: object) -> bytes:
        return encode_response(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        # Strawberry's page loads GraphiQL from a CDN; ours is bundled in the package.
        return HTMLResponse((STATIC / "graphiql.html").read_text(encoding="utf-8"))


def create_app(store: Store, cors_origins: Sequence[str] = ()) -> Starlette:
    """The ASGI app serving ``store``. The store stays open for the app's lifetime.

    ``cors_origins`` lists the origins (``https://viz.example.org``, or ``*``) whose
    pages may call the API from a browser; none by default.
    """
    graphql = _GraphQL(store)

    async def healthz(request: Request) -> Response:
        try:
            # In a thread: the store's lock may be held by a long read (a subgraph's),
            # and waiting for it here would hold up the event loop with it.
            version = await run_in_threadpool(store.version)
        except PressureGraphError as e:
            return JSONResponse({"status": "unavailable", "error": str(e)}, status_code=503)
        return JSONResponse({"status": "ok", "store": _public_url(store.url), "version": version})

    async def explorer(request: Request) -> Response:
        return HTMLResponse((STATIC / "explorer.html").read_text(encoding="utf-8"))

    async def export(request: Request) -> Response:
        # Building a projection and scoring it read the store: keep them off the loop.
        return await run_in_threadpool(_export, store, request)

    middleware = []
    if cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Content-Type", "Authorization"],
                max_age=600,
            )
        )
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The embedded store mirrors the graph's structure in memory, built on first use
        # (a million nodes take some seconds): a server builds it before its first
        # request, so no visitor waits for it. A store that is down is reported by
        # /healthz and by each request instead of stopping the server.
        with suppress(PressureGraphError):
            await run_in_threadpool(store.version)
        settle_long_lived()  # the mirror stays: keep collections from walking it
        yield

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", explorer, methods=["GET"]),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/export/{format}", export, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=middleware,
    )
    app.state.store = store
    return app


def _export(store: Store, request: Request) -> Response:
    """Stream an export; filters are the ProjectionInput fields as query parameters
    (lists comma-separated), or ``projection`` as JSON; ``centrality`` adds scores."""
    from graph_service.exports import (
        PROJECTION_FIELDS,
        ExportSource,
        centrality_scores,
        export_format,
        projection_spec,
    )

    params = request.query_params
    try:
        fmt = export_format(request.path_params["format"])
    except InvalidArgument as e:
        return JSONResponse({"error": str(e)}, status_code=404)
    except ImportError as e:
        return JSONResponse(
            {"error": f"{e}: install the ftm extra (pip install 'pressure-graph[ftm]')"},
            status_code=501,
        )
    try:
        if "projection" in params:
            spec = projection_spec(params["projection"])
        else:
            spec = projection_spec({k: params[k] for k in PROJECTION_FIELDS if k in params})
        measures = [m for m in params.get("centrality", "").split(",") if m.strip()]
        scores = centrality_scores(store, spec, measures)
    except PressureGraphError as e:
        return JSONResponse({"error": str(e)}, status_code=400)
    source = ExportSource(store, spec, scores)
    return StreamingResponse(
        (chunk.encode("utf-8") for chunk in fmt.write(source)),
        media_type=fmt.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="pressure-graph.{fmt.suffix}"'
        },
    )


def _public_url(url: str) -> str:
    """A store URL without credentials, fit for a health answer."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
