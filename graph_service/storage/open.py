"""Choosing a store from a URL: ``sqlite:///path.db`` or a Bolt URL."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from graph_service.errors import InvalidArgument
from graph_service.storage.protocol import Store

DEFAULT_STORE_URL = "sqlite:///./pressure-graph.db"
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def store_url_from_env() -> str:
    return os.environ.get("PRESSURE_GRAPH_STORE") or DEFAULT_STORE_URL


def open_store(url: str | None = None) -> Store:
    """Open the store a URL names; ``None`` means ``PRESSURE_GRAPH_STORE`` or the default.

    ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` name files; a bare
    path ending in ``.db`` is taken as a SQLite file too.
    """
    url = url or store_url_from_env()
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from graph_service.storage.sqlite import SqliteStore

        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise InvalidArgument(f"{url!r}: write a SQLite store as sqlite:///path/to/file.db")
        return SqliteStore(path)
    if scheme in BOLT_SCHEMES:
        from graph_service.storage.neo4j import Neo4jStore  # type: ignore[import-not-found,unused-ignore]

        store: Store = Neo4jStore(url)
        return store
    if not scheme and url.endswith(".db"):
        from graph_service.storage.sqlite import SqliteStore

        return SqliteStore(url)
    raise InvalidArgument(
        f"cannot open store {url!r}: use sqlite:///path.db or a Bolt URL "
        f"({', '.join(s + '://' for s in BOLT_SCHEMES)})"
    )
