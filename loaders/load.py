"""A load: check every row of every file, then write — or write nothing, when any row is
bad and the caller did not ask to skip bad rows.

The check streams. Sheets are read sources first, then other node sheets, then mapped
sheets, then relationships, so a reference can almost always be checked the moment it is
read; the few that cannot (forward references, nodes already in the store) wait in a short
list that is settled in batches. What stays in memory is one small entry per node id and
the problems found. Good rows go to a temporary spill file (``marshal``, compact and
fast), so writing reads them back instead of parsing the files twice.

A large load into the embedded store is also written while it is checked, by a second
process, and committed only if every row was good (:mod:`loaders.background_write`).

Writing sends batches through ``sink.upsert``, or, when the sink offers it,
``sink.upsert_rows``: the same write of plain tuples (a packed record without its tag),
so no record object is built per fact. A sink that offers ``transaction()`` (a
context manager) gets all batches inside it, so the embedded store can commit a load as
one transaction; without it each batch commits on its own, after the whole load was
checked, and a re-run completes an interrupted load (every write is idempotent).
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import marshal
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Protocol

from loaders.background_write import (
    BackgroundWriter,
    RowBatches,
    WriterFailed,
    embedded_store_url,
)
from loaders.mapping import Mapping_, compile_mapped, load_mapping
from loaders.problems import LoadError, LoadRejected, Problem
from loaders.reading import Cell, Table, TableSource, table_sources
from loaders.template_blocks import Block, BlockParser, block_parser, props_digest
from loaders.template_format import (
    Bad,
    Packed,
    Record,
    Resolver,
    RowParser,
    compile_table,
    sheet_stage,
    unpack,
)
from loaders.values import cell_text
from schema import Node, Relationship

_STAGES = {"sources": 0, "nodes": 1, "mapped": 2, "relationships": 3}
_LOC_SHIFT = 32  # a row's location: table number << 32 | row number
_SPILL_CHUNK = 5_000  # rows per marshal record in the spill file
_PENDING_LIMIT = 50_000  # unsettled references before asking the store
_LOOKUP_CHUNK = 5_000
_BULK_ROWS = 50_000  # rows to write from which a store's bulk mode pays
_BACKGROUND_BYTES = 8 << 20  # input size from which a write-ahead process pays
_GC_SHIFT = 16  # 2**16 rows between collections of young objects while checking
_GC_MASK = (1 << _GC_SHIFT) - 1
_REPORT_SHIFT = 12  # 2**12 rows between progress reports
_REPORT_MASK = (1 << _REPORT_SHIFT) - 1
_BLOCK_ROWS = 256  # rows a block parser takes at once (see loaders.template_blocks)

#: progress(stage, rows done, fraction done or None)
Progress = Callable[[str, int, float | None], None]


def _at(file: str, sheet: str, row: int) -> str:
    """Where a row is, as problems name another row: ``staff.csv [staff] row 3``."""
    return f"{file} [{sheet}] row {row}"


class Sink(Protocol):
    """The part of a store a load needs (the store protocol satisfies it)."""

    def get_nodes(self, node_ids: Sequence[str]) -> Mapping[str, Any]: ...

    def upsert(self, nodes: Iterable[Node], relationships: Iterable[Relationship] = ()) -> Any: ...


@dataclass
class LoadResult:
    """What a load read, what it wrote (or would write), and what it skipped."""

    files: list[str]
    rows_read: int
    records: Counter[str] = field(default_factory=Counter)  # per kind / type, good rows only
    skipped: list[Problem] = field(default_factory=list)
    skipped_rows: Counter[str] = field(default_factory=Counter)  # per kind / sheet label
    skipped_sheets: list[str] = field(default_factory=list)  # sheets not read at all
    summary: Any = None  # the store's WriteSummary (summed over batches); None on a dry run
    check_seconds: float = 0.0
    write_seconds: float = 0.0  # after the check (a write-ahead's commit only)
    rows_written: int = 0
    written_ahead: bool = False  # written while checking, by a second process
    writer_peak_mb: float = 0.0  # the write-ahead process's peak memory, if there was one
    writer_cpu_seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return dict(self.records)


@dataclass
class _TableInfo:
    file: str
    sheet: str
    label: str


@dataclass
class _Reading:
    """What reading the rows of one table needs at hand."""

    file: str
    sheet: str
    loc_base: int  # the table's number << _LOC_SHIFT
    prefix: str  # of a row's origin: ``file#sheet!`` (then its number)
    parser: RowParser
    row_problems: dict[int, list[Problem]]  # found opening the table, by row
    base: float  # the share of the load read before this table, and this table's own
    share: float
    table_progress: Callable[[], float] | None


def load_files(
    paths: Sequence[Path],
    sink: Sink | None,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    mapping: Path | Mapping_ | None = None,
    progress: Progress | None = None,
    batch_size: int = 20_000,
    background: bool | None = None,
) -> LoadResult:
    """Check the files and, unless ``dry_run``, write them through ``sink``.

    Raises :class:`LoadRejected` listing every problem when any row is bad and
    ``skip_invalid`` is false; nothing is written then. With ``skip_invalid`` the rows
    written are exactly those without a reported problem.

    ``background``: write while checking, in a second process (see
    :mod:`loaders.background_write`); None decides by the input's size, and only the
    embedded store is ever written ahead.
    """
    if isinstance(mapping, Path | str):
        mapping = load_mapping(Path(mapping))
    started = time.perf_counter()
    writer = None
    try:
        with tempfile.TemporaryFile(prefix="pressure-graph-load-") as spill_file:
            if not dry_run and _writes_ahead(paths, sink, background):
                writer = BackgroundWriter(embedded_store_url(sink) or "", batch_size, spill_file)
            check = _Check(sink, spill_file, progress, writer)
            with _young_gc_only():
                check.run([Path(p) for p in paths], mapping)
            result = LoadResult([str(p) for p in paths], check.rows_read)
            result.check_seconds = time.perf_counter() - started
            problems = check.problems
            if writer is not None:
                done = _commit_ahead(writer, check, result, progress)
                writer = None
                if done:
                    return result
            if problems and not skip_invalid:
                raise LoadRejected(problems)
            result.skipped = problems
            for loc in check.bad_locs:
                result.skipped_rows[check.tables[loc >> _LOC_SHIFT].label] += 1
            result.skipped_sheets = sorted(f"{f} [{s}]" for f, s in check.sheet_failures)
            started = time.perf_counter()
            if dry_run or sink is None:
                if not check.late_bad:
                    result.records.update(check.accepted)
                else:  # rows found bad after they were accepted: count the good ones again
                    kinds = result.records
                    for packed in check.good_packed():
                        for rec in packed:
                            kinds[rec[2]] += 1  # a node's kind, a relationship's type
            else:
                _write(check, sink, result, batch_size, progress)
            result.write_seconds = time.perf_counter() - started
        return result
    finally:
        if writer is not None:  # the check failed: nothing it sent may stay
            writer.rollback()


def _writes_ahead(paths: Sequence[Path], sink: Sink | None, background: bool | None) -> bool:
    """Whether to write while checking (see :mod:`loaders.background_write`): only into a
    store whose load is one transaction, and by default only for input large enough to
    repay starting a second process."""
    if background is False or sink is None or embedded_store_url(sink) is None:
        return False
    if background:
        return True
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += Path(path).stat().st_size
    return size >= _BACKGROUND_BYTES


def _commit_ahead(
    writer: BackgroundWriter, check: _Check, result: LoadResult, progress: Progress | None
) -> bool:
    """Finish a write-ahead: commit it when the check found nothing wrong (True: the load
    is written), else roll it back (False: the load goes on as without it)."""
    if check.problems or check.bad_locs:
        writer.rollback()
        return False
    started = time.perf_counter()
    if progress is not None:
        progress("writing", check.rows_good, None)
    try:
        summary, rows = writer.commit()
    except WriterFailed:
        return False  # it rolled back; the load writes from the spill instead
    result.records.update(check.accepted)
    result.summary = summary
    result.rows_written = rows
    result.write_seconds = time.perf_counter() - started
    result.written_ahead = True
    result.writer_peak_mb = writer.peak_rss_mb
    result.writer_cpu_seconds = writer.cpu_seconds
    if progress is not None:
        progress("writing", rows, 1.0)
    return True


@contextlib.contextmanager
def _young_gc_only() -> Iterator[None]:
    """No automatic garbage collection while checking. The check keeps millions of small
    objects alive until it ends (the id index, a chunk of spilled rows), and Python's full
    collections would walk them again and again (a third of the time). Young objects are
    still collected every 2**``_GC_SHIFT`` rows (``_read_table``), so memory stays flat."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _takes(function: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _kind(record: Record) -> str:
    return record.kind if isinstance(record, Node) else record.type


def _write(
    check: _Check, sink: Sink, result: LoadResult, batch_size: int, progress: Progress | None
) -> None:
    upsert_rows = getattr(sink, "upsert_rows", None)
    if callable(upsert_rows):
        _write_rows(check, sink, upsert_rows, result, batch_size, progress)
        return
    total = max(check.rows_good, 1)
    with _write_scope(check, sink):
        nodes: list[Node] = []
        rels: list[Relationship] = []
        rows = 0
        for row_records in check.good_rows():
            rows += 1
            for record in row_records:
                result.records[_kind(record)] += 1
                if isinstance(record, Node):
                    nodes.append(record)
                else:
                    rels.append(record)
            if len(nodes) + len(rels) >= batch_size:
                _flush(sink, nodes, rels, result)
                if progress is not None:
                    progress("writing", rows, rows / total)
        _flush(sink, nodes, rels, result)
        result.rows_written = rows
        if progress is not None:
            progress("writing", rows, 1.0)


def _write_rows(
    check: _Check,
    sink: Sink,
    upsert_rows: Callable[..., Any],
    result: LoadResult,
    batch_size: int,
    progress: Progress | None,
) -> None:
    """:func:`_write` for a sink with a bulk path: spilled rows go over as they are
    (records without their tag: the store's row layout, see ``Packed``), in the batches
    a write-ahead makes (:class:`~loaders.background_write.RowBatches`)."""
    total = max(check.rows_good, 1)
    # What the check accepted is what is written, unless rows turned bad after it.
    recount = check.late_bad
    records = result.records
    if not recount:
        records.update(check.accepted)

    def write(nodes: list[Any], rels: list[Any]) -> None:
        _add_summary(result, upsert_rows(nodes, rels))
        if progress is not None:
            progress("writing", batches.rows, batches.rows / total)

    batches = RowBatches(batch_size, write)
    bad = check.bad_locs
    with _write_scope(check, sink):
        for entry in check.spilled_entries():
            if len(entry) == 2:  # one row: (loc, packed records)
                if entry[0] in bad:
                    continue
                if recount:
                    records.update(map(_KIND, entry[1]))
                batches.add_row(entry[1])
                continue
            locs, tag, rows = entry  # a block: rows without their tag
            if bad and not bad.isdisjoint(locs):
                rows = [row for loc, row in zip(locs, rows, strict=True) if loc not in bad]
            if recount:
                records.update(map(_ROW_KIND, rows))
            batches.add_block(tag, rows)
        batches.flush()
        result.rows_written = batches.rows
        if progress is not None:
            progress("writing", batches.rows, 1.0)


def _write_scope(check: _Check, sink: Sink) -> contextlib.AbstractContextManager[Any]:
    """The sink's transaction around a whole load, in bulk mode for a large one."""
    transaction = getattr(sink, "transaction", None)
    if not callable(transaction):
        return contextlib.nullcontext()
    bulk = check.rows_good >= _BULK_ROWS and _takes(transaction, "bulk")
    scope: contextlib.AbstractContextManager[Any] = (
        transaction(bulk=True) if bulk else transaction()
    )
    return scope


def _add_summary(result: LoadResult, summary: Any) -> None:
    if result.summary is None:
        result.summary = summary
    else:
        result.summary.add(summary)


def _flush(sink: Sink, nodes: list[Node], rels: list[Relationship], result: LoadResult) -> None:
    if not nodes and not rels:
        return
    _add_summary(result, sink.upsert(nodes, rels))
    nodes.clear()
    rels.clear()


class _Check:
    """The streaming check: reads every table once, spilling good rows."""

    def __init__(
        self,
        sink: Sink | None,
        spill: IO[bytes],
        progress: Progress | None,
        writer: BackgroundWriter | None = None,
    ) -> None:
        self.sink = sink
        self.writer = writer
        self.spill = spill
        self.progress = progress
        self.resolver = Resolver()
        self.problems: list[Problem] = []
        self.tables: list[_TableInfo] = []
        self.sheet_failures: set[tuple[str, str]] = set()
        self.bad_locs: set[int] = set()
        self.rows_read = 0
        self.rows_good = 0
        self.accepted: Counter[str] = Counter()  # records of accepted rows, by kind / type
        self.late_bad = False  # an accepted row turned out bad (a reference, a conflict)
        # node id -> the hash of its first good row's properties (see props_digest). A
        # plain int: a tuple with the row's location beside it cost a million-row load a
        # tuple per node, each walked by every young collection; the one place a node's
        # row is asked for (a row naming a node whose row waits in vain) has it from
        # ``tentative``.
        self.index: dict[str, int] = {}
        self.suspects: set[str] = set()  # ids repeated with other properties
        self.tentative: dict[str, int] = {}  # node id -> loc whose references are unsettled
        self.pending: dict[int, list[tuple[str, str]]] = {}  # loc -> [(column, node id)]
        self.in_store: set[str] = set()
        self.not_in_store: set[str] = set()
        self._chunk: list[tuple[Any, ...]] = []  # spill entries (see spilled_entries)
        self._chunk_rows = 0
        self._spilled_chunks = 0
        self.collect = gc.isenabled()

    # -- reading -------------------------------------------------------------------------

    def run(self, paths: list[Path], mapping: Mapping_ | None) -> None:
        plan: list[tuple[int, int, TableSource, float]] = []
        for order, path in enumerate(paths):
            try:
                sources = table_sources(path)
            except LoadError as e:
                self.problems.append(Problem(path.name, "", None, None, None, str(e)))
                continue
            weight = max(path.stat().st_size, 1) / max(len(sources), 1)
            for source in sources:
                stage = self._stage(source, mapping)
                plan.append((_STAGES.get(stage, 1), order, source, weight))
        plan.sort(key=lambda p: (p[0], p[1]))
        empty_files: dict[str, bool] = {}
        try:
            self._read_plan(plan, mapping, empty_files)
        except BaseException:
            for _, _, source, _ in plan:  # a sheet being parsed ahead that will not be read
                source.abandon()
            raise
        for name, empty in empty_files.items():
            if empty and not any(p.file == name and p.sheet for p in self.problems):
                self.problems.append(
                    Problem(name, "", None, None, None, "every sheet of the workbook is empty")
                )
        self._settle(final=True)
        self._check_conflicts()
        self._flush_spill()

    def _read_plan(
        self,
        plan: list[tuple[int, int, TableSource, float]],
        mapping: Mapping_ | None,
        empty_files: dict[str, bool],
    ) -> None:
        """Read every table in the plan's order; the next one is prepared (a workbook
        sheet parsed on a thread) while this one is checked."""
        total_weight = sum(p[3] for p in plan) or 1.0
        done_weight = 0.0
        current_stage = -1
        for position, (rank, _, source, weight) in enumerate(plan):
            if rank != current_stage:
                self._settle(final=False)
                current_stage = rank
            name = source.file.name
            try:
                table = source.open()
            except LoadError as e:
                self.problems.append(Problem(name, source.sheet, None, None, None, str(e)))
                done_weight += weight
                continue
            if table is None:
                empty_files.setdefault(name, True)
                if self._meant_to_load(source, mapping):
                    self.problems.append(
                        Problem(
                            name,
                            source.sheet,
                            None,
                            None,
                            None,
                            "the sheet is empty (not even a header row), though its name "
                            "says what it holds; fill it, or delete the sheet",
                        )
                    )
                done_weight += weight
                continue
            empty_files[name] = False
            if position + 1 < len(plan):  # parsed (a workbook sheet) while this is checked
                plan[position + 1][2].prepare()
            self._read_table(table, mapping, done_weight / total_weight, weight / total_weight)
            done_weight += weight

    @staticmethod
    def _meant_to_load(source: TableSource, mapping: Mapping_ | None) -> bool:
        """Whether a sheet was meant to hold data: named after a kind or ``relationships``,
        or described by the mapping. Such a sheet left empty is reported (its rows were
        perhaps pasted elsewhere, or lost), while a workbook's spare ``Sheet2`` is not."""
        if mapping is not None and mapping.sheet_for(source.file, source.sheet) is not None:
            return True
        return sheet_stage(source.sheet) is not None

    def _stage(self, source: TableSource, mapping: Mapping_ | None) -> str:
        if mapping is not None:
            spec = mapping.sheet_for(source.file, source.sheet)
            if spec is not None:
                if spec.template is not None:
                    return sheet_stage(spec.template) or "nodes"
                return "mapped"
        return sheet_stage(source.sheet) or "nodes"

    def _compile(self, table: Table, mapping: Mapping_ | None) -> RowParser | list[Problem]:
        if mapping is not None:
            spec = mapping.sheet_for(table.file, table.sheet)
            if spec is not None:
                return compile_mapped(table, spec, mapping, self.resolver)
        return compile_table(table, self.resolver)

    def _read_table(
        self, table: Table, mapping: Mapping_ | None, base: float, share: float
    ) -> None:
        file, sheet = table.file.name, table.sheet
        sheet_level = [p for p in table.problems if p.row is None or p.row <= table.header_row]
        parser = sheet_level if sheet_level else self._compile(table, mapping)
        if isinstance(parser, list):
            # The sheet is refused whole; the problems of single rows found opening it
            # (the first formula cells before "N more formula cells") are still news.
            self.problems.extend(parser)
            self.problems.extend(
                p for p in table.problems if p.row is not None and p.row > table.header_row
            )
            self.sheet_failures.add((file, sheet))
            table.close()
            return
        row_problems: dict[int, list[Problem]] = {}
        for p in table.problems:
            if p.row is not None:
                row_problems.setdefault(p.row, []).append(p)
        table_number = len(self.tables)
        self.tables.append(_TableInfo(file, sheet, parser.label))
        reading = _Reading(
            file,
            sheet,
            table_number << _LOC_SHIFT,
            f"{file}#{sheet}!",
            parser,
            row_problems,
            base,
            share,
            table.progress,
        )
        blocks = block_parser(parser)
        try:
            if blocks is None:
                self._read_rows(table.rows, reading)
            elif table.column_blocks is not None:
                for first, rows, columns in table.column_blocks(_BLOCK_ROWS, blocks.width):
                    if columns is not None:
                        numbers = range(first, first + len(columns[0]))
                        if not self._read_block(numbers, None, columns, blocks, reading):
                            rows = list(map(list, zip(*columns, strict=True)))
                            self._read_rows(zip(numbers, rows, strict=True), reading)
                        continue
                    assert rows is not None
                    numbers = range(first, first + len(rows))
                    if not self._read_block(numbers, rows, None, blocks, reading):
                        self._read_rows(zip(numbers, rows, strict=True), reading)
            elif table.blocks is not None:
                for first, rows in table.blocks(_BLOCK_ROWS):
                    numbers = range(first, first + len(rows))
                    if not self._read_block(numbers, rows, None, blocks, reading):
                        self._read_rows(zip(numbers, rows, strict=True), reading)
            else:
                numbered = table.rows
                while block := list(islice(numbered, _BLOCK_ROWS)):
                    some_numbers, some_rows = zip(*block, strict=True)
                    if not self._read_block(some_numbers, some_rows, None, blocks, reading):
                        self._read_rows(block, reading)
        finally:
            table.close()

    def _read_block(
        self,
        numbers: Sequence[int],
        rows: Sequence[list[Cell]] | None,
        columns: Sequence[Sequence[Cell]] | None,
        blocks: BlockParser,
        reading: _Reading,
    ) -> bool:
        """A block of rows on the block path (:mod:`loaders.template_blocks`), given as
        its rows or, when the reader cut them so, its columns: False when it has to be
        read row by row instead (a row with a problem, a blank row, …)."""
        if reading.row_problems and not reading.row_problems.keys().isdisjoint(numbers):
            return False
        if columns is not None:
            parsed = blocks.parse_columns(numbers, columns, reading.prefix)
        else:
            assert rows is not None
            parsed = blocks.parse_block(numbers, rows, reading.prefix)
        if parsed is None:
            return False
        before = self.rows_read
        self.rows_read = done = before + len(numbers)
        if self.collect and done >> _GC_SHIFT != before >> _GC_SHIFT:
            gc.collect(1)
        if self.progress is not None and done >> _REPORT_SHIFT != before >> _REPORT_SHIFT:
            self._report(reading)
        self._accept_block(list(map(reading.loc_base.__or__, numbers)), parsed)
        return True

    def _report(self, reading: _Reading) -> None:
        assert self.progress is not None
        done = reading.table_progress() if reading.table_progress else 0.0
        self.progress("checking", self.rows_read, min(reading.base + reading.share * done, 1.0))

    def _read_rows(self, rows: Iterable[tuple[int, list[Cell]]], reading: _Reading) -> None:
        """Rows one by one, each through its parser's fast path and, when that gives up,
        the full checks."""
        file, sheet = reading.file, reading.sheet
        loc_base, prefix, row_problems = reading.loc_base, reading.prefix, reading.row_problems
        parse = reading.parser.parse_packed
        accept = self._accept
        report = self.progress
        rows_read = self.rows_read
        collect = self.collect
        try:
            for number, row in rows:
                # a row whose first cell is text with something in it is not blank
                first = row[0] if row else None
                if not (type(first) is str and first and not first.isspace()) and (
                    not any(row) or all(_blank(c) for c in row)
                ):
                    # A blank row that holds a problem found while opening the sheet (a
                    # formula whose saved result is empty or 0) is still reported.
                    if number in row_problems:
                        self.problems.extend(row_problems[number])
                    continue
                rows_read += 1
                if not rows_read & _GC_MASK and collect:
                    gc.collect(1)
                if report is not None and not rows_read & _REPORT_MASK:
                    self.rows_read = rows_read
                    self._report(reading)
                records, bad = parse(number, row, prefix + str(number))
                if bad or number in row_problems:
                    self._bad_row(loc_base | number, file, sheet, number, bad)
                    self.problems.extend(row_problems.get(number, ()))
                    continue
                accept(loc_base | number, records)
        finally:
            self.rows_read = rows_read

    def _bad_row(self, loc: int, file: str, sheet: str, number: int, bad: list[Bad]) -> None:
        self.bad_locs.add(loc)
        for column, value, reason in bad:
            self.problems.append(
                Problem(
                    file,
                    sheet,
                    number,
                    column or None,
                    None if value is None else cell_text(value),
                    reason,
                )
            )

    def _known(self, node_id: str) -> bool:
        """Settled: a node of this load whose row is not waiting, or a node in the store."""
        return (node_id in self.index and node_id not in self.tentative) or (
            node_id in self.in_store
        )

    def _accept(self, loc: int, records: list[Packed]) -> None:
        index = self.index
        tentative = self.tentative
        in_store = self.in_store
        accepted = self.accepted
        waiting: list[tuple[str, str]] = []
        defined: list[str] = []  # the nodes this row is the first to define
        # A reference is settled (see _known) when it names a node of this load whose row
        # is not waiting, or a node in the store.
        for rec in records:
            accepted[rec[2]] += 1  # a node's kind, a relationship's type
            if rec[0] == 0:
                node_id = rec[1]
                digest = props_digest(rec[4])
                seen = index.get(node_id)
                if seen is None:
                    index[node_id] = digest
                    defined.append(node_id)
                elif seen != digest:
                    self.suspects.add(node_id)
                sources = rec[5]
            else:
                end = rec[1]
                if (end not in index or end in tentative) and end not in in_store:
                    waiting.append(("from", end))
                end = rec[3]
                if (end not in index or end in tentative) and end not in in_store:
                    waiting.append(("to", end))
                sources = rec[6]
            for source in sources:
                if (source not in index or source in tentative) and source not in in_store:
                    waiting.append(("sources", source))
        if waiting:
            self.pending[loc] = waiting
            for node_id in defined:
                tentative[node_id] = loc
            if len(self.pending) >= _PENDING_LIMIT:
                self._settle(final=False)
        self.rows_good += 1
        self._chunk.append((loc, records))
        self._chunk_rows += 1
        if self._chunk_rows >= _SPILL_CHUNK:
            self._flush_spill()

    def _accept_block(self, locs: list[int], block: Block) -> None:
        """:meth:`_accept` for a block of rows with one record each, in whole-block steps
        when the block's references were all settled before it and its node ids are new;
        else row by row. The block is spilled as one entry (see ``RowBatches``)."""
        index = self.index
        tentative = self.tentative
        rows = block.rows
        refs = _all_of(list(map(_NODE_SOURCES if block.tag == 0 else _REL_SOURCES, rows)))
        if block.tag == 1:
            refs.update(map(_REL_FROM, rows))
            refs.update(map(_REL_TO, rows))
        missing = refs.difference(index)
        settled = (not missing or missing.issubset(self.in_store)) and (
            not tentative or tentative.keys().isdisjoint(refs)
        )
        if settled and block.digests is not None:
            entries = dict(zip(map(_NODE_ID, rows), block.digests, strict=True))
            if len(entries) != len(rows) or not index.keys().isdisjoint(entries):
                settled = False  # an id repeated: row by row
            else:
                index.update(entries)
        if not settled:
            tag = block.tag
            for loc, row in zip(locs, rows, strict=True):
                self._accept(loc, [(tag, *row)])
            return
        kinds = list(map(_ROW_KIND, rows))
        if kinds and kinds.count(kinds[0]) == len(kinds):  # one kind or type: most blocks
            self.accepted[kinds[0]] += len(kinds)
        else:
            self.accepted.update(kinds)
        self.rows_good += len(rows)
        self._chunk.append((locs, block.tag, rows))
        self._chunk_rows += len(rows)
        if self._chunk_rows >= _SPILL_CHUNK:
            self._flush_spill()

    # -- settling references -------------------------------------------------------------

    def _lookup(self, ids: Iterable[str]) -> None:
        unknown = sorted({i for i in ids if i not in self.in_store and i not in self.not_in_store})
        if not unknown:
            return
        if self.sink is None:
            self.not_in_store.update(unknown)
            return
        for start in range(0, len(unknown), _LOOKUP_CHUNK):
            chunk = unknown[start : start + _LOOKUP_CHUNK]
            found = set(self.sink.get_nodes(chunk))
            self.in_store.update(found)
            self.not_in_store.update(i for i in chunk if i not in found)

    def _settle(self, final: bool) -> None:
        """Settle the references that waited: those now known leave the list (and the
        nodes their rows define become settled too, to a fixed point). At the end, what is
        still unknown is missing: its row is bad, and so are rows naming the nodes that
        row defined (again to a fixed point)."""
        if not self.pending:
            return
        index, tentative, pending = self.index, self.tentative, self.pending
        self._lookup(i for refs in pending.values() for _, i in refs if i not in index)
        while True:
            # A row defining a node that is only waiting for itself settles with it.
            ready = [
                loc
                for loc, refs in pending.items()
                if all(self._known(i) or tentative.get(i) == loc for _, i in refs)
            ]
            if not ready:
                break
            for loc in ready:
                del pending[loc]
            for node_id in [i for i, loc in tentative.items() if loc not in pending]:
                del tentative[node_id]
        if not final:
            return
        # Everything left waits on something missing, or on a row that does.
        dead: set[str] = set()
        for loc, refs in pending.items():
            self.bad_locs.add(loc)
            self.late_bad = True
            info, row = self._place(loc)
            for column, node_id in refs:
                if self._known(node_id) or tentative.get(node_id) == loc:
                    continue
                if node_id in index:  # and so waiting: its row is the one it waits with
                    bad_info, bad_row = self._place(tentative[node_id])
                    where: tuple[str, str, int] | None = (bad_info.file, bad_info.sheet, bad_row)
                else:
                    where = self.resolver.bad_rows.get(node_id)
                if where is not None:
                    reason = f"names a node whose own row has a problem: {_at(*where)}"
                elif column == "sources":
                    reason = "cites a source that is neither in this load nor in the store"
                else:
                    reason = "names a node that is neither in this load nor in the store"
                self.problems.append(Problem(info.file, info.sheet, row, column, node_id, reason))
        dead.update(tentative)
        pending.clear()
        tentative.clear()
        for node_id in dead:
            index.pop(node_id, None)

    def _place(self, loc: int) -> tuple[_TableInfo, int]:
        """The table and row number of a row's location."""
        return self.tables[loc >> _LOC_SHIFT], loc & ((1 << _LOC_SHIFT) - 1)

    def _check_conflicts(self) -> None:
        """Rows that repeat a node id with a different value for a property it already
        has: the first row stands, each later one is a problem. Only ids whose rows hashed
        differently are examined, by reading them back from the spill."""
        if not self.suspects:
            return
        self._flush_spill()
        first: dict[str, tuple[int, dict[str, Any]]] = {}
        for loc, records in self._spilled():
            if loc in self.bad_locs:
                continue
            for rec in records:
                if rec[0] != 0 or rec[1] not in self.suspects:
                    continue
                node_id, props = rec[1], rec[4]
                base = first.get(node_id)
                if base is None:
                    first[node_id] = (loc, dict(props))
                    continue
                base_loc, base_props = base
                conflicts = [n for n, v in props.items() if n in base_props and base_props[n] != v]
                if not conflicts:
                    base_props.update(props)
                    continue
                self.bad_locs.add(loc)
                self.late_bad = True
                info, row = self._place(loc)
                base_info, base_row = self._place(base_loc)
                for name in conflicts:
                    self.problems.append(
                        Problem(
                            info.file,
                            info.sheet,
                            row,
                            name,
                            str(props[name]),
                            f"{node_id} is also on {_at(base_info.file, base_info.sheet, base_row)}"
                            f" with {name} = {base_props[name]!r}",
                        )
                    )

    # -- the spill -----------------------------------------------------------------------

    def _flush_spill(self) -> None:
        if self._chunk:
            data = marshal.dumps(self._chunk)
            spill = self.spill
            spill.seek(0, 2)
            spill.write(len(data).to_bytes(8, "little"))
            offset = spill.tell()
            spill.write(data)
            if self.writer is not None:  # which reads the chunk from the spill file
                spill.flush()
                self.writer.send(offset, len(data))
            self._spilled_chunks += 1
            self._chunk = []
            self._chunk_rows = 0

    def spilled_entries(self) -> Iterator[tuple[Any, ...]]:
        """The spill as it was written: ``(loc, packed records)`` for a row read on its
        own, ``(locs, tag, rows)`` for a block (see ``RowBatches``)."""
        self.spill.seek(0)
        for _ in range(self._spilled_chunks):
            size = int.from_bytes(self.spill.read(8), "little")
            chunk = marshal.loads(self.spill.read(size))
            position = self.spill.tell()
            yield from chunk
            self.spill.seek(position)  # a reader in between may have moved the file

    def _spilled(self) -> Iterator[tuple[int, list[Packed]]]:
        """Every spilled row with its packed records."""
        for entry in self.spilled_entries():
            if len(entry) == 2:
                yield entry
            else:
                locs, tag, rows = entry
                for loc, row in zip(locs, rows, strict=True):
                    yield loc, [(tag, *row)]

    def good_packed(self) -> Iterator[list[Packed]]:
        """The packed records of every row without a problem, in the order they were read."""
        bad = self.bad_locs
        for loc, packed in self._spilled():
            if loc not in bad:
                yield packed

    def good_rows(self) -> Iterator[list[Record]]:
        """The records of every row without a problem, in the order they were read."""
        for packed in self.good_packed():
            yield [unpack(rec) for rec in packed]

    def good_records(self) -> Iterator[Record]:
        for records in self.good_rows():
            yield from records


_KIND = itemgetter(2)  # of a packed record: a node's kind, a relationship's type
# of a block's rows (records without their tag)
_ROW_KIND = itemgetter(1)  # a node's kind, a relationship's type
_NODE_ID, _NODE_SOURCES = itemgetter(0), itemgetter(4)
_REL_FROM, _REL_TO, _REL_SOURCES = itemgetter(0), itemgetter(2), itemgetter(5)


def _all_of(sources: list[tuple[str, ...]]) -> set[str]:
    """The ids in the rows' sources. Most blocks' rows cite one source list, the same
    tuple (from the memo): ``count`` sees that by identity, without hashing every tuple
    (tuples do not keep their hash) as a set of them would."""
    if sources and sources.count(sources[0]) == len(sources):
        return set(sources[0])
    return set(chain.from_iterable(set(sources)))


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
