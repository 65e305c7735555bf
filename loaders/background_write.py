"""Writing a load while it is still being checked, in a second process.

A load checks every row before it writes any (a load with a bad row writes nothing), so
done one after the other the two stages add up. For the embedded store they need not: its
whole load is one transaction, and a transaction can be rolled back. So a large load into
it starts a writer process at the beginning; every chunk of good rows the check spills is
also sent to the writer, which upserts it inside one open transaction while the check
reads on. When the check ends:

* with no problem at all, the writer commits, and its write summary is the load's;
* with any problem (the rows it wrote may include rows found bad later, a conflict or a
  reference that never resolved), the writer rolls back, and the load goes on as it
  would have without it: rejected, or written again from the spill without the bad rows;
* if the writer itself failed (a row whose reference is defined further down the file,
  which the store cannot take before its end node exists), it has rolled back and the
  load writes from the spill, one stage after the other.

Either way the store sees one transaction or none, and a second process reading the
store meanwhile (``serve``) sees the old graph until the commit. If the loading process
dies, the writer's input closes and it rolls back.

The writer reports its commit as soon as it is made, and only then copies the write-ahead
log into the database file (a checkpoint: for a large load the whole file passes through
the log, a second or more of disk writes). The load is committed and readable before the
copy; the loading process does not wait for it, and a thread of its own reaps the writer
(:func:`wait_for_checkpoints` waits for them).

The writer is a plain child interpreter (``python -m loaders.background_write``), fed
length-prefixed frames on its standard input: not :mod:`multiprocessing`, whose spawned
children import the parent's main script again (a script without a ``__main__`` guard
would start its load once more). The chunks themselves do not go through the pipe: the
writer inherits the spill file, and a frame says where in it the next chunk lies. The
check writes every chunk there anyway; copying a million rows' chunks (133 MB) through
a pipe as well cost both processes CPU, and the writer a thread to read ahead with.

Stores whose loads are not one transaction (Neo4j commits every 20,000 rows) are never
written ahead: a rejected load must leave them untouched.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

_DATA = b"D"
_COMMIT = b"C"
_ROLLBACK = b"R"
_GONE = b"G"  # not sent: the writer's own mark for the end of its input
_HEADER = 9  # a frame: its tag (one byte), its length (8 bytes, little-endian), its data
#: Threads reaping writers that committed and are copying the log into the database file.
_checkpointing: list[threading.Thread] = []
#: Where this package and its siblings (graph_service, schema) are imported from.
_ROOT = str(Path(__file__).resolve().parent.parent)


class WriterFailed(Exception):
    """The writer could not write the rows it was sent (it rolled back)."""


class _Rollback(Exception):
    pass


def embedded_store_url(sink: object) -> str | None:
    """The URL another process can open ``sink`` from, if ``sink`` is the embedded store
    (whose load is one transaction); else None."""
    url = getattr(sink, "url", None)
    if (
        isinstance(url, str)
        and url.startswith("sqlite:///")
        and callable(getattr(sink, "transaction", None))
    ):
        return url
    return None


def _where(offset: int, size: int) -> bytes:
    return offset.to_bytes(8, "little") + size.to_bytes(8, "little")


def _frame(tag: bytes, data: bytes = b"") -> bytes:
    return tag + len(data).to_bytes(8, "little") + data


class BackgroundWriter:
    """The loading process's end of a writer process (see the module docstring)."""

    def __init__(self, url: str, batch_size: int, spill: IO[bytes]) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH", "")) if p)
        # closed in close(), which every path to the end of a load goes through
        self._errors = tempfile.TemporaryFile(prefix="pressure-graph-writer-")  # noqa: SIM115
        # -P: the working directory is not put first on the path, so a folder named
        # like one of these packages where the load was started cannot stand in for it
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-P",
                "-m",
                "loaders.background_write",
                url,
                str(batch_size),
                str(spill.fileno()),
            ],
            pass_fds=(spill.fileno(),),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=env,
        )
        self.peak_rss_mb = 0.0
        self.cpu_seconds = 0.0
        self._open = True
        self._broken = False
        self._last_error = ""

    def send(self, offset: int, size: int) -> None:
        """The spilled chunk of ``size`` bytes at ``offset`` in the spill file (``marshal``
        of its entries, see :class:`RowBatches`), written and flushed there already."""
        if self._open and not self._broken:
            try:
                stdin: IO[bytes] = self._process.stdin  # type: ignore[assignment]
                stdin.write(_frame(_DATA, _where(offset, size)))
                stdin.flush()
            except OSError:  # the writer died; commit() will say so
                self._broken = True

    def commit(self) -> tuple[Any, int]:
        """(the write summary, rows written) once the writer has committed; raises
        :class:`WriterFailed` when it could not write (nothing was committed then)."""
        result = self._finish(_COMMIT)
        if result[0] == "failed":
            raise WriterFailed(result[1])
        return result[1], result[2]

    def rollback(self) -> None:
        """Tell the writer to roll back, and wait until it has."""
        if not self._open:
            return
        with contextlib.suppress(WriterFailed):
            self._finish(_ROLLBACK)

    def _finish(self, command: bytes) -> tuple[Any, ...]:
        stdin: IO[bytes] = self._process.stdin  # type: ignore[assignment]
        stdout: IO[bytes] = self._process.stdout  # type: ignore[assignment]
        message: Any = None
        try:
            stdin.write(_frame(command))
            stdin.close()
            message = pickle.loads(stdout.read())  # the writer closes it once it has replied
        except (OSError, EOFError, pickle.UnpicklingError):
            message = None
        finally:
            # a writer that committed goes on with its checkpoint: not waited for
            self.close(wait=not (isinstance(message, tuple) and message[0] == "done"))
        if not isinstance(message, tuple):
            raise WriterFailed(
                f"the writer process ended unexpectedly (exit code {self._process.returncode}"
                + (f": {self._last_error}" if self._last_error else "")
                + ")"
            )
        self.peak_rss_mb, self.cpu_seconds = message[-2], message[-1]
        return message[:-2]

    def close(self, wait: bool = True) -> None:
        """Close the pipes and reap the writer; ``wait=False`` (a writer that has
        committed and is copying its log into the database file) leaves the reaping to a
        thread (see :func:`wait_for_checkpoints`)."""
        if self._open:
            self._open = False
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            if wait:
                self._reap(timeout=60)
            else:
                reaper = threading.Thread(target=self._reap, name="writer-checkpoint", daemon=True)
                _checkpointing[:] = [t for t in _checkpointing if t.is_alive()]  # done: forget
                _checkpointing.append(reaper)
                reaper.start()

    def _reap(self, timeout: float | None = None) -> None:
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - a writer stuck in I/O
            self._process.kill()
            self._process.wait()
        self._errors.seek(0)
        lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
        self._last_error = lines[-1] if lines else ""
        self._errors.close()


def wait_for_checkpoints(timeout: float | None = None) -> bool:
    """Wait until every writer that committed has copied its log into the database file
    and ended (at most ``timeout`` seconds in all); whether they all have."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for reaper in list(_checkpointing):
        reaper.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if not reaper.is_alive():
            _checkpointing.remove(reaper)
    return not _checkpointing


class RowBatches:
    """Spilled rows gathered into batches for a store's ``upsert_rows``: records without
    their tag (a store's rows), nodes and relationships apart. A batch is written right
    after the row that brings it to ``size`` records, whether the rows come one by one
    or a block at a time, so a load is cut into the same batches either way.

    A spilled chunk holds entries of two shapes: ``(loc, packed records)`` for one row,
    and ``(locs, tag, rows)`` for a block of rows with one record each, all of one tag,
    already without it (see ``loaders.template_blocks.Block``)."""

    def __init__(self, size: int, write: Callable[[list[Any], list[Any]], None]) -> None:
        self.size = size
        self.write = write
        self.nodes: list[Any] = []
        self.rels: list[Any] = []
        self.rows = 0

    def add_chunk(self, entries: list[tuple[Any, ...]]) -> None:
        for entry in entries:
            if len(entry) == 2:
                self.add_row(entry[1])
            else:
                self.add_block(entry[1], entry[2])

    def add_row(self, packed: list[tuple[Any, ...]]) -> None:
        for rec in packed:
            (self.nodes if rec[0] == 0 else self.rels).append(rec[1:])
        self.rows += 1
        if len(self.nodes) + len(self.rels) >= self.size:
            self.flush()

    def add_block(self, tag: int, rows: list[tuple[Any, ...]]) -> None:
        start, end = 0, len(rows)
        while start < end:
            room = max(self.size - len(self.nodes) - len(self.rels), 1)
            stop = min(end, start + room)
            (self.nodes if tag == 0 else self.rels).extend(
                rows if start == 0 and stop == end else rows[start:stop]
            )
            self.rows += stop - start
            start = stop
            if len(self.nodes) + len(self.rels) >= self.size:
                self.flush()

    def flush(self) -> None:
        """Write what is gathered (new lists follow: the store may keep the old)."""
        if self.nodes or self.rels:
            nodes, rels = self.nodes, self.rels
            self.nodes, self.rels = [], []
            self.write(nodes, rels)


def _usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


class _Writing:
    """The writer process's state: one bulk transaction, rows batched into it. Records
    the first failure instead of raising, so the process keeps draining its pipe."""

    def __init__(self, url: str, batch_size: int, spill: int) -> None:
        self.batch_size = batch_size
        self.spill = spill  # the spill file's descriptor
        self.failed: str | None = None
        self.summary: Any = None
        self.batches = RowBatches(batch_size, self._write)
        self.scope = contextlib.ExitStack()
        self.store: Any = None
        try:
            from graph_service.storage.open import open_store

            self.store = open_store(url)
            self.store.defer_checkpoints()  # done after the commit is reported (see main)
            self.scope.enter_context(self.store.transaction(bulk=True))
        except Exception as e:  # reported to the loading process
            self.failed = f"cannot write {url}: {e}"

    def take(self, frame: bytes) -> None:
        """Write the spilled chunk a data frame points at."""
        if self.failed is None:
            try:
                self.batches.add_chunk(marshal.loads(_chunk(self.spill, frame)))
            except Exception as e:  # reported to the loading process
                self.failed = str(e) or type(e).__name__

    def _write(self, nodes: list[Any], rels: list[Any]) -> None:
        written = self.store.upsert_rows(nodes, rels)
        if self.summary is None:
            self.summary = written
        else:
            self.summary.add(written)

    def commit(self) -> tuple[Any, ...]:
        if self.failed is None:
            try:
                self.batches.flush()
                self.scope.close()
            except Exception as e:  # reported to the loading process
                self.failed = str(e) or type(e).__name__
                self.rollback()  # if the commit itself failed, the store has rolled back
                return ("failed", self.failed)
            return ("done", self.summary, self.batches.rows)
        self.rollback()
        return ("failed", self.failed)

    def rollback(self) -> None:
        self.scope.__exit__(_Rollback, _Rollback(), None)

    def checkpoint(self) -> None:
        if self.store is not None:
            with contextlib.suppress(Exception):  # a later commit's checkpoint finishes it
                self.store.checkpoint()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _hang_up(out: IO[bytes]) -> None:
    """Close the pipe to the loading process (standard output now goes nowhere): its
    read of the reply ends here, while this process goes on."""
    out.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, out.fileno())
    os.close(devnull)


def _read_frame(stream: IO[bytes]) -> tuple[bytes, bytes]:
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        raise EOFError
    size = int.from_bytes(header[1:], "little")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return header[:1], data


def _chunk(spill: int, frame: bytes) -> bytes:
    """The spilled chunk a data frame points at."""
    offset, size = int.from_bytes(frame[:8], "little"), int.from_bytes(frame[8:16], "little")
    parts = []
    while size:
        part = os.pread(spill, size, offset)
        if not part:
            raise EOFError(f"the spill file ends before byte {offset + size}")
        parts.append(part)
        offset += len(part)
        size -= len(part)
    return b"".join(parts) if len(parts) != 1 else parts[0]


def main(argv: list[str] | None = None) -> int:
    """The writer process: upsert every chunk its standard input points at (in the spill
    file) inside one bulk transaction; commit or roll back when told; write the outcome
    (pickled, with this process's peak memory and CPU time so far) to standard output and
    close it; after a commit, copy the log into the database file."""
    url, batch_size, spill = (argv if argv is not None else sys.argv[1:])[:3]
    writing = _Writing(url, int(batch_size), int(spill))
    source = sys.stdin.buffer
    out = sys.stdout.buffer
    while True:
        try:
            tag, data = _read_frame(source)
        except (EOFError, OSError):
            tag = _GONE
        if tag != _DATA:
            break
        writing.take(data)
    if tag == _GONE:  # the loading process is gone
        writing.rollback()
        writing.close()
        return 1
    if tag == _COMMIT:
        result = writing.commit()
    else:
        writing.rollback()
        result = ("failed", "rolled back")
    out.write(pickle.dumps((*result, *_usage())))
    _hang_up(out)
    if result[0] == "done":
        writing.checkpoint()
    writing.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
