"""Many rows into one table through multi-row ``INSERT … VALUES`` statements.

Why not ``executemany``: it steps SQLite once per row, binding and converting each
row's parameters on its own. One statement of many rows binds all of its parameters
at once, in C, and runs SQLite's whole insert of those rows in a single
``sqlite3_step``: 2.4-2.7 µs of CPU a node row against 3.6-4.7 by ``executemany``
(chunks of 100 to 1,000 rows, measured on the benchmark's rows).

These statements once ran on a second thread, so that SQLite would insert one chunk
while Python built the next. On a quiet machine that made a bulk load slower, not
faster (``bench_store.py`` at 300,000 nodes: 83,000 rows/s with the thread against
122,000 without, and more CPU in all: the two threads spent their time handing the
interpreter lock to each other), so they run in the caller's thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

#: rows per statement; a remainder goes in statements of 512, 256, … rows, so a write
#: of any size prepares at most eleven statements a table (each prepared once, then
#: reused from the connection's statement cache)
CHUNK = 1024


class Inserter:
    """The multi-row insert statements of one connection, built once per size."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._max_params = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._statements: dict[tuple[str, int], str] = {}

    def insert(self, head: str, columns: Sequence[Sequence[Any]]) -> None:
        """Insert rows given column by column (equal lengths): ``head`` is the statement
        up to ``VALUES``.

        Each statement's parameters are laid out by slice assignment, column by column:
        4x cheaper than flattening a tuple per row (0.06 against 0.23 µs a row of 9)."""
        width = len(columns)
        count = len(columns[0]) if columns else 0
        if any(len(column) != count for column in columns):
            raise ValueError(f"columns of unequal lengths: {[len(c) for c in columns]}")
        per = max(1, min(CHUNK, self._max_params // width))
        start = 0
        while start < count:
            left = count - start
            size = per if left >= per else 1 << (left.bit_length() - 1)
            params: list[Any] = [None] * (size * width)
            end = start + size
            for offset, column in enumerate(columns):
                params[offset::width] = column[start:end]
            start = end
            self._db.execute(self._statement(head, width, size), params)

    def _statement(self, head: str, width: int, size: int) -> str:
        key = (head, size)
        sql = self._statements.get(key)
        if sql is None:
            row = "(" + ",".join("?" * width) + ")"
            sql = self._statements[key] = head + " VALUES " + ",".join([row] * size)
        return sql
