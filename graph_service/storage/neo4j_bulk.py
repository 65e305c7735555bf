"""Bulk mode of the Neo4j store: indexes that are cheaper to build once than to keep up.

Neo4j updates every index of a node when the transaction that writes it commits. For the
``search`` TEXT index (Lucene) that costs about as much server CPU as creating the node
itself (measured on the 5.26 test server: ~110 us of ~215 us per node), while building it
once over the finished graph costs a fraction of that. So a large load drops it, writes,
and creates it again at the end, waiting until it is online.

Nothing else changes: every answer stays the same meanwhile (without the index, ``search``
scans the ``Node`` label; slower, equally right). If the load dies midway the index is
missing only until the next :class:`~graph_service.storage.neo4j.Neo4jStore` opens the
database, because opening creates every index the store needs (``IF NOT EXISTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

#: Search is a substring match: a TEXT index serves CONTAINS; a range index would not,
#: and would refuse values over about 8 kB.
SEARCH_INDEX = "node_search"
CREATE_SEARCH_INDEX = (
    f"CREATE TEXT INDEX {SEARCH_INDEX} IF NOT EXISTS FOR (n:Node) ON (n.search)"
)
#: How long the end of a bulk load waits for the rebuilt index (seconds); populating it
#: over a million nodes takes well under a minute on the test server.
AWAIT_SECONDS = 3600


@contextmanager
def deferred_search_index(run: Callable[[str], None]) -> Iterator[None]:
    """Drop the search index for the duration, then create it again and wait for it.

    ``run`` executes one auto-commit statement. The index comes back even when the body
    fails (if the server is still there to build it).
    """
    run(f"DROP INDEX {SEARCH_INDEX} IF EXISTS")
    try:
        yield
    except BaseException:
        # The original error is what matters; opening the store restores the index anyway.
        with suppress(Exception):
            run(CREATE_SEARCH_INDEX)
        raise
    run(CREATE_SEARCH_INDEX)
    run(f"CALL db.awaitIndex('{SEARCH_INDEX}', {AWAIT_SECONDS})")
