"""One error tree for the project. Storage, loading and query errors all derive from
:class:`PressureGraphError`; the API and CLI turn them into messages in one place each."""

from __future__ import annotations


class PressureGraphError(Exception):
    """Base of every error this project raises on purpose; ``str(e)`` is for people."""


class StoreError(PressureGraphError):
    """A store refused or failed an operation (bad input, missing endpoint, I/O)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (a Neo4j server that is down, a locked file)."""


class NotFound(PressureGraphError):
    """A node or other object named by the caller does not exist."""


class InvalidArgument(PressureGraphError):
    """An argument from the caller is malformed (a bad cursor, an unknown kind)."""


class BudgetExceeded(PressureGraphError):
    """A computation would take longer than its time budget; the message says what to do."""
