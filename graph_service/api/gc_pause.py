"""Pause CPython's cyclic garbage collector while a GraphQL operation executes.

A large answer (a 10,000-hop instruction chain is about 200,000 small objects) survives
young collections while it is built, and enough survivors trigger a *full* collection,
which walks every long-lived container of the process — the store's in-memory mirror
and each cached projection hold lists of a million node ids on a large graph. On the
issue #5 benchmark graph one full collection costs about as much as the answer itself,
and a long chain triggered several. Nothing an operation allocates can become cyclic
garbage worth collecting before the operation ends (its objects live until the answer is
sent, and are freed by reference counting afterwards), so the collector waits until the
operation is over. Reference counting still frees everything as usual meanwhile; the
depth, token and time limits bound how much one operation can allocate.

Operations may overlap (threads, or interleaved async operations): the collector is
paused while any runs, and re-enabled when the last ends, unless something else had
disabled it before.

A paused collector still counts what was allocated, so full collections still come, just
between operations, and each walks every element of the mirror's and the projections'
million-entry lists and dicts (about 0.25 s at a million nodes, more on a busy machine: the
tail of the chain latencies). :func:`settle_long_lived` moves what is alive once those are
built into the collector's permanent generation, which no collection walks.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from strawberry.extensions import SchemaExtension

_lock = threading.Lock()
_settle_lock = threading.Lock()
_settle_requested = False
_running = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause cyclic garbage collection inside the block (nests and overlaps safely)."""
    global _running, _was_enabled
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0 and _was_enabled:
                gc.enable()


def settle_long_lived() -> None:
    """Collect once, then leave everything alive out of later collections (``gc.freeze``).

    For after building what lives until the graph changes: the store's mirror when a
    server starts, a new projection. What was settled before is released first and
    collected with the rest, so structures replaced since (an old projection) are freed
    even if they hold reference cycles; each call costs one full collection.
    """
    global _settle_requested
    with _settle_lock:
        _settle_requested = False
        gc.unfreeze()
        gc.collect()
        gc.freeze()


def settle_after_operation() -> None:
    """:func:`settle_long_lived` when the current operation ends, so that what it builds
    lazily on a new structure (a projection's index and adjacency) is settled too."""
    global _settle_requested
    _settle_requested = True


class PauseCollectorDuringExecution(SchemaExtension):
    """Runs each operation's execution under :func:`collector_paused`."""

    def on_execute(self) -> Iterator[None]:
        with collector_paused():
            yield
        if _settle_requested:
            settle_long_lived()
