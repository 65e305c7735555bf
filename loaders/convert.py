"""Compiled cell converters: the fast path of row parsing.

A sheet's parser compiles, once, one converter per column from the column's property. A
converter turns a cell into the value :func:`loaders.values.parse_cell` would give, or
``None`` for a blank cell, by the cheapest route for the cell's Python type (CSV cells are
always ``str``; plain ASCII text needs no Unicode normalization). When a cell does not
fit, or is of a shape the fast route does not know, it raises :class:`Slow`: the parser
then reads the whole row again through the full, message-producing path, so the problems
reported (and their order) are exactly those of that path. Nothing is checked less: the
fast route only accepts what the full path accepts, with the same result.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from loaders.reading import Cell
from loaders.values import _FALSE, _TRUE, cell_text, parse_cell
from schema import ModelError, Property, Value, ValueType

Converter = Callable[[Cell], Any]
_MISS = object()
_MEMO_LIMIT = 4096
_BOOLEANS: dict[str, bool] = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


class Slow(Exception):
    """The row needs the full path (a problem to report, or a rare shape of cell)."""


class Memo:
    """The remembered results of a pure converter, by the raw text of the cell: columns
    such as types, evidence, flags, enums and dates repeat a handful of values. Only
    immutable results are remembered; a cell that raises is never remembered. Callers
    look in ``cache`` themselves (a plain dict lookup) and call the object on a miss."""

    __slots__ = ("cache", "convert")

    def __init__(self, convert: Converter) -> None:
        self.cache: dict[Any, Any] = {}  # str keys only: True == 1 == 1.0 must not meet
        self.convert = convert

    def __call__(self, cell: Cell) -> Any:
        value = self.convert(cell)
        if type(cell) is str:
            if len(self.cache) >= _MEMO_LIMIT:
                self.cache.clear()
            self.cache[cell] = value
        return value


MISS: Any = _MISS


def text_of(cell: Cell) -> str | None:
    """``cell_text`` of a non-blank cell, None for a blank one."""
    if type(cell) is not str:
        return None if cell is None else cell_text(cell)  # only text can be blank
    if cell.isascii():
        return cell.strip() or None
    text = cell.strip()
    return unicodedata.normalize("NFC", text) if text else None


def plain_key(text: str) -> bool:
    """A key ``check_key`` accepts unchanged, decided without a regex (ASCII only:
    printable, no space; anything else goes the full way)."""
    return text.isascii() and text.isprintable() and " " not in text and text != ""


def converter(owner: str, prop: Property) -> Converter:
    """The converter of one property column."""

    def generic(cell: Cell) -> Value | None:
        if cell is None:
            return None
        try:
            return parse_cell(owner, prop, cell)
        except ModelError:
            raise Slow from None

    t = prop.type
    if t is ValueType.TEXT:

        def text(cell: Cell) -> Value | None:
            # Printable text needs no control-character check; anything else (a tab, a
            # line break, a no-break space) takes the full path, which makes it.
            if type(cell) is str and cell.isprintable():
                if cell.isascii():
                    return cell.strip() or None
                stripped = cell.strip()
                return unicodedata.normalize("NFC", stripped) if stripped else None
            return generic(cell)

        return text
    if t is ValueType.BOOLEAN:

        def boolean(cell: Cell) -> Value | None:
            if type(cell) is str:
                value = _BOOLEANS.get(cell)
                if value is not None:
                    return value
            return generic(cell)

        return Memo(boolean)
    if t is ValueType.INTEGER:

        def integer(cell: Cell) -> Value | None:
            if type(cell) is str and len(cell) < 19 and cell.isascii() and cell.isdigit():
                return int(cell)
            return generic(cell)

        return integer
    if t in (ValueType.ENUM, ValueType.DATE):
        return Memo(generic)  # str results: immutable
    return generic  # numbers, lists (mutable: never shared between rows), others
