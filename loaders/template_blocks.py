"""Checking a block of template-sheet rows column by column: the row parsers' fast path
(:mod:`loaders.convert`), taken a step further.

Row by row, a good row still costs a Python call per cell and a dozen small steps per row,
which is most of what a large load spends checking it. A block of rows (a few hundred) has
the same converter in every cell of a column, so it is transposed and each column is
converted in as few Python steps as the column allows: a column of printable ASCII text is
checked by looking at all its cells joined at once and stripped with one ``map``; a column
of repeated values (types, flags, enums, dates, provenance) is looked up in its memo with
one ``map``; records, ids and origins are assembled with ``zip`` and ``map``.

A block is all or nothing: at the first cell that is not plainly good (a problem, a blank
row, a short row, a rare shape of cell), :meth:`BlockParser.parse_block` gives None and the
caller reads the block again row by row, through the parser's own fast and full paths,
which word the problems. So a block gives exactly the records its rows give one by one
(tests compare them), and only rows that are good take this path.
"""

from __future__ import annotations

import functools
import operator
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from itertools import repeat, zip_longest
from operator import itemgetter
from typing import Any, NamedTuple

from loaders.convert import MISS, Converter, Memo, Slow, converter, plain_key, text_of
from loaders.reading import Cell
from loaders.template_format import (
    RowParser,
    _fast_end,
    _NodeParser,
    _RelationshipParser,
    _slug,
)
from loaders.values import is_blank
from schema import NODE_KIND_BY_NAME, ModelError, RelationshipType, Value, ValueType, check_key

#: One column's cells → their values (None for a blank cell); raises Slow.
ColumnConverter = Callable[[Sequence[Cell]], list[Any]]

_NFC = partial(unicodedata.normalize, "NFC")
_NAME_PARTS_LIMIT = 16_384  # remembered names (a private person's key check)
#: What fills the word positions a name has not (``_check_private``): a slug holds
#: letters and digits only.
_NOT_IN_A_SLUG = "\x00"


def _joined(cells: Sequence[Cell]) -> str | None:
    """The cells' text run together (what holds for it holds for every cell), or None
    when a cell is not text."""
    try:
        return "".join(cells)  # type: ignore[arg-type]
    except TypeError:
        return None


def _per_cell(convert: Converter, cells: Sequence[Cell]) -> list[Any]:
    return list(map(convert, cells))


def text_column(convert: Converter) -> ColumnConverter:
    """A TEXT column: ``convert`` (the column's cell converter) for each cell, unless the
    column is printable text (no control character to report): then stripped, NFC when
    not ASCII, and blank cells None, in whole-column steps."""

    def column(cells: Sequence[Cell]) -> list[Any]:
        joined = _joined(cells)
        if joined is None or not joined.isprintable():
            return _per_cell(convert, cells)
        values: list[Any] = list(map(str.strip, cells))  # type: ignore[arg-type]
        if not joined.isascii():
            values = list(map(_NFC, values))
        if "" in values:
            values = [v or None for v in values]
        return values

    return column


def memo_column(memo: Memo) -> ColumnConverter:
    """A column whose values repeat: looked up in the memo in one ``map``; only the
    misses are converted (and remembered). A column of one text throughout (a type, a
    flag, a source: most of a large sheet's blocks) is converted once: ``count`` compares
    the texts without hashing each one or looking it up. Only text: ``count`` would take
    True, 1 and 1.0 for one value, which the memo keeps apart."""
    cache = memo.cache

    def column(cells: Sequence[Cell]) -> list[Any]:
        first = cells[0]
        if type(first) is str and cells.count(first) == len(cells):
            value = cache.get(first, MISS)
            return [memo(first) if value is MISS else value] * len(cells)
        values = list(map(cache.get, cells, repeat(MISS)))
        # by identity: ``in`` would call the values' own ``__eq__`` (a dataclass's, in
        # Python, for relationship types), once per cell
        if any(map(operator.is_, values, repeat(MISS))):
            for i, value in enumerate(values):
                if value is MISS:
                    values[i] = memo(cells[i])
        return values

    return column


def integer_column(convert: Converter) -> ColumnConverter:
    """An INTEGER column: plain ASCII digits (short enough for a fast ``int``) in one
    ``map``; anything else cell by cell."""

    def column(cells: Sequence[Cell]) -> list[Any]:
        joined = _joined(cells)
        if (
            joined is not None
            and joined.isascii()
            and joined.isdigit()
            and "" not in cells
            and max(map(len, cells)) < 19  # type: ignore[arg-type]
        ):
            return list(map(int, cells))  # type: ignore[arg-type]
        return _per_cell(convert, cells)

    return column


def column_converter(convert: Converter, value_type: ValueType) -> ColumnConverter:
    """The column converter for a property column with cell converter ``convert``."""
    if isinstance(convert, Memo):
        return memo_column(convert)
    if value_type is ValueType.TEXT:
        return text_column(convert)
    if value_type is ValueType.INTEGER:
        return integer_column(convert)
    return partial(_per_cell, convert)


def _key_texts(cells: Sequence[Cell]) -> tuple[list[str | None], str | None]:
    """``text_of`` of each cell (stripped, NFC; None when blank); and, when every cell is
    a key ``plain_key`` takes as it is (nothing to strip, none blank), the keys run
    together, which the key checks that follow use instead of joining them again (a pass
    over a column's cells costs a cache miss a cell)."""
    joined = _joined(cells)
    if joined is not None and joined.isascii():
        if joined.isprintable() and " " not in joined and "" not in cells:
            return list(cells), joined  # type: ignore[arg-type]
        values: list[str | None] = list(map(str.strip, cells))  # type: ignore[arg-type]
        if "" in values:
            values = [v or None for v in values]
        return values, None
    return list(map(text_of, cells)), None


def _plain_texts(texts: list[str]) -> bool:
    """Whether every text is what ``plain_key`` accepts (ASCII, printable, no space, not
    empty)."""
    joined = "".join(texts)
    return joined.isascii() and joined.isprintable() and " " not in joined and "" not in texts


def _props(names: list[str], columns: list[list[Any]], n: int) -> list[dict[str, Value]]:
    """Each row's properties: name → value, without the blank ones, in column order."""
    return _dicts(*_present(names, columns, n), n)


def _present(
    names: list[str], columns: list[list[Any]], n: int
) -> tuple[list[str], list[list[Any]], list[int]]:
    """The columns with a value in some row: their names, their values, and which of
    them (by position among these) are blank in some rows only."""
    full_names: list[str] = []
    full: list[list[Any]] = []
    mixed: list[int] = []
    for name, values in zip(names, columns, strict=True):
        if None in values:
            if values.count(None) == n:
                continue  # blank throughout: no property in any row
            mixed.append(len(full))
        full_names.append(name)
        full.append(values)
    return full_names, full, mixed


def _dicts(
    full_names: list[str], full: list[list[Any]], mixed: list[int], n: int
) -> list[dict[str, Value]]:
    """:func:`_props` of the columns :func:`_present` gives."""
    if not full:
        return [{} for _ in range(n)]
    props = _dict_rows(tuple(full_names))(*full)
    for i in mixed:
        name = full_names[i]
        for row, value in zip(props, full[i], strict=True):
            if value is None:
                del row[name]  # the others keep their order
    return props


@functools.cache
def _dict_rows(names: tuple[str, ...]) -> Callable[..., list[dict[str, Any]]]:
    """A function of one list of values per name that gives a dict per row. Written as a
    dict display with constant keys, built for these names (as ``namedtuple`` builds its
    classes): that makes a row's dict in one step, more than twice as fast as
    ``dict(zip(names, values))``. The names go in as string literals (``repr``)."""
    args = [f"c{i}" for i in range(len(names))]
    items = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    values = ", ".join(f"v{i}" for i in range(len(names)))
    code = (
        f"def rows({', '.join(args)}):\n"
        f"    return [{{{items}}} for {values}, in zip({', '.join(args)}, strict=True)]\n"
    )
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    built: Callable[..., list[dict[str, Any]]] = namespace["rows"]
    return built


class Block(NamedTuple):
    """A block's records, one a row, without their tag (so each is a store's row, see
    ``Packed``): all nodes (tag 0) or all relationships (tag 1). For nodes, also each
    row's :func:`props_digest`."""

    tag: int
    rows: list[tuple[Any, ...]]
    digests: list[int] | None


def _plain_digests(
    props: list[dict[str, Value]], full_names: list[str], full: list[list[Any]], mixed: list[int]
) -> list[int]:
    """What :func:`props_digest` gives for rows without floats and lists:
    ``hash(tuple(row.items()))``. When every row has every property, the ``(name, value)``
    pairs come from the columns and their tuples from ``zip``, which hands ``hash`` the
    same tuple object each time: no ``items`` view or row tuple is built (a third faster)."""
    if mixed or not full:
        return list(map(hash, map(tuple, map(dict.items, props))))
    pairs = [zip(repeat(name), column) for name, column in zip(full_names, full, strict=True)]
    return list(map(hash, zip(*pairs, strict=True)))


def props_digest(props: dict[str, Value]) -> int:
    """A hash of a node's properties: it tells a repeated id with the same properties
    from one that may conflict (which the load then examines in full). Values of one
    property have one type, so 1 == 1.0 == True hides nothing; floats (a NaN hashes by
    identity) and lists (unhashable) go by their text."""
    if float in map(type, props.values()):
        return hash(repr(props))
    try:
        return hash(tuple(props.items()))
    except TypeError:
        return hash(repr(props))


class BlockParser:
    """Turns a block of rows of one sheet into one record per row, or says None: read
    these rows one by one."""

    width: int

    def parse_block(
        self, numbers: Sequence[int], rows: Sequence[list[Cell]], prefix: str
    ) -> Block | None:
        """``rows`` (each exactly ``width`` cells) with their row ``numbers``; the origin
        of a row is ``prefix`` followed by its number."""
        if not rows or len(set(map(len, rows))) != 1 or len(rows[0]) != self.width:
            return None
        return self.parse_columns(numbers, list(zip(*rows, strict=True)), prefix)

    def parse_columns(
        self, numbers: Sequence[int], columns: Sequence[Sequence[Cell]], prefix: str
    ) -> Block | None:
        """:meth:`parse_block` of the rows given as their ``width`` columns, each as long
        as ``numbers`` (a reader that cuts text into cells gives them so)."""
        try:
            return self._parse(numbers, columns, prefix)
        except Slow:
            return None

    def _parse(
        self, numbers: Sequence[int], columns: Sequence[Sequence[Cell]], prefix: str
    ) -> Block:
        raise NotImplementedError


def _origins(numbers: Sequence[int], prefix: str) -> list[tuple[str]]:
    return list(zip(map(prefix.__add__, map(str, numbers)), strict=True))


class _ProvenanceBlock:
    """The sources and evidence columns of a block (through the row parser's memos)."""

    def __init__(self, parser: _NodeParser | _RelationshipParser) -> None:
        provenance = parser.provenance
        self.sources_index = provenance.sources_index
        self.evidence_index = provenance.evidence_index
        self.sources_of = memo_column(provenance.sources_of)
        self.evidence_of = memo_column(provenance.evidence_of)

    def read(self, columns: Sequence[Sequence[Cell]], n: int) -> tuple[Any, Any]:
        sources: Any = (
            repeat(())
            if self.sources_index is None
            else self.sources_of(columns[self.sources_index])
        )
        evidence: Any = (
            repeat(None)
            if self.evidence_index is None
            else self.evidence_of(columns[self.evidence_index])
        )
        return sources, evidence


class NodeBlocks(BlockParser):
    """Blocks of a node sheet (see :class:`loaders.template_format._NodeParser`)."""

    def __init__(self, parser: _NodeParser) -> None:
        self.parser = parser
        self.width = parser.width
        self.converters = [
            (i, name, column_converter(convert, _value_type(parser, name)))
            for i, name, convert, _ in parser.converters
        ]
        self.names = [name for _, name, _ in self.converters]
        # columns whose values are neither floats nor lists (see props_digest)
        self.hashable = [
            _value_type(parser, name) not in (ValueType.NUMBER, ValueType.TEXT_LIST)
            for name in self.names
        ]
        self.provenance = _ProvenanceBlock(parser)
        self.name_parts: dict[str, tuple[str, ...]] = {}

    def _parse(
        self, numbers: Sequence[int], columns: Sequence[Sequence[Cell]], prefix: str
    ) -> Block:
        parser = self.parser
        n = len(numbers)
        values = [convert(columns[i]) for i, _, convert in self.converters]
        present = _present(self.names, values, n)
        props = _dicts(*present, n)
        slugs: list[str | None] = [None] * n
        plain = None  # the keys run together, when all are plain (see _key_texts)
        if parser.key_index is not None:
            slugs, plain = _key_texts(columns[parser.key_index])
        owner = parser.owner
        aliases: list[tuple[str, str]] = []
        key_prop = parser.key_prop
        inns = values[self.names.index(key_prop)] if key_prop and key_prop in self.names else None
        if inns is not None and any(isinstance(inn, str) for inn in inns):
            keys = [self._key(slug, inn, aliases) for slug, inn in zip(slugs, inns, strict=True)]
            plain = None
        else:
            keys = slugs  # type: ignore[assignment]
            if plain is None:
                if None in slugs:
                    raise Slow
                if not _plain_texts(keys):
                    for key in keys:
                        _check_slug(owner, key)
        if parser.private_names:
            self._check_private(keys, values, plain)
        sources, evidence = self.provenance.read(columns, n)
        ids = list(map(parser.id_prefix.__add__, keys))
        records = list(
            zip(ids, repeat(owner), keys, props, sources, evidence, _origins(numbers, prefix))
        )
        key_aliases = parser.resolver.key_aliases
        for slug, node_id in aliases:
            key_aliases[parser.id_prefix + slug] = node_id
        if any(
            not hashable and values[j].count(None) != n for j, hashable in enumerate(self.hashable)
        ):
            digests = list(map(props_digest, props))
        else:
            digests = _plain_digests(props, *present)
        return Block(0, records, digests)

    def _key(self, slug: str | None, inn: Any, aliases: list[tuple[str, str]]) -> str:
        """The INN where the row gives one (the slug then names the same node), else the
        slug (see ``_NodeParser._fast``)."""
        if isinstance(inn, str):
            if not inn.isdigit() or len(inn) not in (10, 12):
                raise Slow
            if slug is not None and slug != inn:
                aliases.append((slug, self.parser.id_prefix + inn))
            return inn
        if slug is None:
            raise Slow
        _check_slug(self.parser.owner, slug)
        return slug

    def _check_private(self, keys: list[str], values: list[list[Any]], joined: str | None) -> None:
        """``private_key_problem`` for every row (a private person's key carrying their
        name): Slow where it holds. The words of a name are worked out once per name, and
        compared with the keys one word position at a time over the whole block, as many
        positions as the block's longest name has words (``zip_longest`` lines them up in
        one step, filling with a text no slug contains)."""
        names = self.names
        if "name" not in names:
            return
        person_names: list[Any] = values[names.index("name")]
        parts: list[Any] = list(map(self.name_parts.get, person_names))
        if None in parts:  # a name not seen yet (or a row without a name)
            for i, name in enumerate(person_names):
                if parts[i] is None:
                    parts[i] = () if name is None else self._parts_of(name)
        if "public" in names:
            public = values[names.index("public")]
            if True in public:
                parts = [() if p is True else w for w, p in zip(parts, public, strict=True)]
        if joined is None:
            joined = "".join(keys)
        if joined.isascii() and joined.isalnum():
            # lowercase already (staff numbers, hashes): the keys are their own slugs;
            # lowering each key (a new string each) cost more than the rest of this check
            slugs = keys if joined.lower() == joined else list(map(str.lower, keys))
        else:
            slugs = list(map(_slug, keys))
        for words in zip_longest(*parts, fillvalue=_NOT_IN_A_SLUG):
            if any(map(operator.contains, slugs, words)):
                raise Slow

    def _parts_of(self, name: str) -> tuple[str, ...]:
        parts = _name_parts(name)
        if len(self.name_parts) >= _NAME_PARTS_LIMIT:
            self.name_parts.clear()
        self.name_parts[name] = parts
        return parts


def _name_parts(name: str) -> tuple[str, ...]:
    """The words of a name as ``private_key_problem`` compares them with a key (those of
    three characters or more)."""
    parts = (
        word.lower() if word.isascii() and word.isalnum() else _slug(word) for word in name.split()
    )
    return tuple(part for part in parts if len(part) >= 3)


def _check_slug(owner: str, slug: str) -> None:
    if not plain_key(slug):
        try:
            check_key(owner, slug)  # the slug is NFC already: it stays the same
        except ModelError:
            raise Slow from None


def _value_type(parser: _NodeParser, name: str) -> ValueType:
    prop = parser.kind.property(name)
    assert prop is not None
    return prop.type


class RelationshipBlocks(BlockParser):
    """Blocks of a relationships sheet (see
    :class:`loaders.template_format._RelationshipParser`)."""

    def __init__(self, parser: _RelationshipParser) -> None:
        self.parser = parser
        self.width = parser.width
        self.type_of = memo_column(parser.type_of)
        self.provenance = _ProvenanceBlock(parser)
        # per relationship type: (column, name, column converter or None: not its property)
        self.converters: dict[str, list[tuple[int, str, ColumnConverter | None]]] = {}

    def _columns_of(self, rt: RelationshipType) -> list[tuple[int, str, ColumnConverter | None]]:
        found = self.converters.get(rt.name)
        if found is None:
            found = []
            for i, name in self.parser.prop_columns:
                prop = rt.property(name)
                convert = (
                    None if prop is None else column_converter(converter(rt.name, prop), prop.type)
                )
                found.append((i, name, convert))
            self.converters[rt.name] = found
        return found

    def _parse(
        self, numbers: Sequence[int], columns: Sequence[Sequence[Cell]], prefix: str
    ) -> Block:
        parser = self.parser
        n = len(numbers)
        aliases = parser.resolver.key_aliases
        sources_, source_kinds = _ends(columns[parser.from_index], aliases)
        targets, target_kinds = _ends(columns[parser.to_index], aliases)
        types: list[RelationshipType] = self.type_of(columns[parser.type_index])
        rt = types[0]
        if types.count(rt) == n:  # one type (the same object: from the memo)
            props = self._props(rt, columns, n)
            _check_ends(rt, source_kinds, target_kinds)
            names: Any = repeat(rt.name)
        else:  # several types: each group of rows by its own columns
            props = [{}] * n
            for rt in {t.name: t for t in types}.values():
                rows = [i for i, t in enumerate(types) if t is rt]
                group = [tuple(column[i] for i in rows) for column in columns]
                for i, p in zip(rows, self._props(rt, group, len(rows)), strict=True):
                    props[i] = p
                _check_ends(rt, _some(source_kinds, rows), _some(target_kinds, rows))
            names = [rt.name for rt in types]
        sources, evidence = self.provenance.read(columns, n)
        if parser.key_index is None:
            keys: Any = repeat("")
        else:
            keys = [k or "" for k in _key_texts(columns[parser.key_index])[0]]
        records = list(
            zip(
                sources_,
                names,
                targets,
                keys,
                props,
                sources,
                evidence,
                _origins(numbers, prefix),
                strict=False,  # some are repeat(...): as long as the others
            )
        )
        return Block(1, records, None)

    def _props(
        self, rt: RelationshipType, columns: Sequence[Sequence[Cell]], n: int
    ) -> list[dict[str, Value]]:
        names: list[str] = []
        values: list[list[Any]] = []
        for i, name, convert in self._columns_of(rt):
            if convert is None:
                if not _all_blank(columns[i]):
                    raise Slow  # not a property of this type
                continue
            names.append(name)
            values.append(convert(columns[i]))
        return _props(names, values, n)


def _all_blank(cells: Sequence[Cell]) -> bool:
    joined = _joined(cells)
    if joined is not None:
        return not joined.strip()
    return all(map(is_blank, cells))


def _ends(cells: Sequence[Cell], aliases: dict[str, str]) -> tuple[list[str], list[str] | str]:
    """A column of relationship ends as node ids (see ``_fast_end``), through the load's
    key aliases; with their kinds: one kind (a text) when every end is of it, as in most
    columns, else each end's kind. A kind is split off once here, so the kind check
    (:func:`_check_ends`) needs no second pass over the ends."""
    joined = _joined(cells)
    if joined is not None and joined.isascii() and joined.isprintable():
        if " " not in joined:  # nothing to strip, no space in a key
            ids: list[str] = list(cells)  # type: ignore[arg-type]
            kind, colon, _ = ids[0].partition(":")
            # Every end starts with the first one's kind, and none is that alone (a key is
            # not empty): seen in the ends one a line (printable text has no line feed),
            # by two searches instead of a method call and a comparison an end.
            lines = "\n" + "\n".join(ids) + "\n"
            start = "\n" + kind + colon
            if (
                colon
                and kind in NODE_KIND_BY_NAME
                and lines.count(start) == len(ids)
                and start + "\n" not in lines
            ):
                return (list(map(aliases.get, ids, ids)) if aliases else ids), kind
        else:
            ids = list(map(str.strip, cells))  # type: ignore[arg-type]
        kinds, seps, keys = zip(*map(str.partition, ids, repeat(":")), strict=True)
        if (
            "" not in seps
            and "" not in keys
            and NODE_KIND_BY_NAME.keys() >= set(kinds)
            and " " not in "".join(keys)
        ):
            return (list(map(aliases.get, ids, ids)) if aliases else ids), list(kinds)
    ends = [_fast_end(cell, aliases) for cell in cells]
    return ends, list(map(_kind_of, map(str.partition, ends, repeat(":"))))


def _check_ends(rt: RelationshipType, sources: list[str] | str, targets: list[str] | str) -> None:
    """Slow unless every end is of a kind the type joins (the ends' kinds, as
    :func:`_ends` gives them)."""
    for kinds, allowed in ((sources, rt.sources), (targets, rt.targets)):
        if isinstance(kinds, str):
            if kinds not in allowed:
                raise Slow
        elif not set(kinds).issubset(allowed):
            raise Slow


def _some(kinds: list[str] | str, rows: list[int]) -> list[str] | str:
    """The kinds of some rows' ends (see :func:`_ends`)."""
    return kinds if isinstance(kinds, str) else [kinds[i] for i in rows]


_kind_of = itemgetter(0)


def block_parser(parser: RowParser) -> BlockParser | None:
    """The block parser of a template sheet's row parser (None: rows one by one; mapped
    sheets, and sheets with a column without a header, whose rows take the full checks)."""
    if type(parser) is _NodeParser and parser.fast:
        return NodeBlocks(parser)
    if type(parser) is _RelationshipParser and parser.fast:
        return RelationshipBlocks(parser)
    return None
