"""Start and stop a real Neo4j 5.26 Community server for tests.

The server is the tiny Maven project beside this file (``pom.xml`` plus one Java class): an
embedded Neo4j DBMS with only the Bolt connector, on 127.0.0.1, auth off, encryption off.

Typical use::

    server = Neo4jTestServer()
    server.start()  # builds the Java project first if needed
    driver = GraphDatabase.driver(server.uri, auth=None)
    ...
    wipe(driver)
    server.stop()   # SIGTERM, clean shutdown; server.start() again keeps port and data
    server.close()  # stop and delete the temporary database directory

Only the standard library is needed; ``neo4j`` is imported lazily by the readiness check
(when installed) and by :func:`wipe` (which receives a driver anyway).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neo4j import Driver

__all__ = [
    "JVM_FLAGS",
    "PROJECT_DIR",
    "QUICK_START_JVM_FLAGS",
    "Neo4jServerError",
    "Neo4jTestServer",
    "ensure_built",
    "env_connection",
    "wipe",
]

PROJECT_DIR = Path(__file__).resolve().parent
MAIN_CLASS = "pressuregraph.TestServer"
READY_PREFIX = "NEO4J READY "
DEFAULT_STARTUP_TIMEOUT = 180.0
DEFAULT_BUILD_TIMEOUT = 900.0

# The flags Neo4j's own neo4j.conf ships for Java 17+, minus the ones that only matter for a
# production server (AlwaysPreTouch would make the JVM touch the whole heap at start), and
# with the throughput collector instead of G1: on 2 cores a bulk load's young collections
# (large transactions' state survives them) took G1 ~5 s of pauses per 60,000 rows, the
# parallel collector ~1.3 s, for ~20% less server CPU in all.
JVM_FLAGS: tuple[str, ...] = (
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dlog4j2.disable.jmx=true",
    "-XX:+UseParallelGC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
)

# C1 only: measured here, it halves the CPU a start costs (about 12 s instead of 21 s on
# 2 cores), which matters more to a test run than C2's peak speed on small graphs.
QUICK_START_JVM_FLAGS: tuple[str, ...] = ("-XX:TieredStopAtLevel=1",)


class Neo4jServerError(RuntimeError):
    """The test server could not be built, started or stopped."""


# --------------------------------------------------------------------------- build


def _sources() -> list[Path]:
    return [PROJECT_DIR / "pom.xml", *sorted((PROJECT_DIR / "src").rglob("*.java"))]


def _stamp() -> Path:
    return PROJECT_DIR / "target" / ".build-complete"


def needs_build() -> bool:
    """True when the build output is missing or older than pom.xml or a Java source."""
    stamp = _stamp()
    if not stamp.exists() or not (PROJECT_DIR / "lib").is_dir():
        return True
    built = stamp.stat().st_mtime
    return any(path.stat().st_mtime > built for path in _sources())


def _neo4j_version() -> str | None:
    text = (PROJECT_DIR / "pom.xml").read_text(encoding="utf-8")
    match = re.search(r"<neo4j\.version>\s*([^<\s]+)\s*</neo4j\.version>", text)
    return match.group(1) if match else None


def _local_repo_has_neo4j() -> bool:
    """Whether the local Maven repository already holds the Neo4j jars (so -o can work)."""
    version = _neo4j_version()
    if version is None:
        return False
    repo = Path(os.environ.get("MAVEN_REPO_LOCAL", Path.home() / ".m2" / "repository"))
    base = repo / "org" / "neo4j"
    return all(
        (base / name / version / f"{name}-{version}.jar").exists()
        for name in ("neo4j", "neo4j-bolt")
    )


def _run_maven(offline: bool, timeout: float) -> subprocess.CompletedProcess[str]:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise Neo4jServerError("Maven ('mvn') is not on PATH; it is needed to build the server")
    command = [mvn, "-q", "-B"]
    if offline:
        command.append("-o")
    command += ["dependency:copy-dependencies", "-DoutputDirectory=lib", "compile"]
    return subprocess.run(
        command,
        cwd=PROJECT_DIR,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ensure_built(timeout: float = DEFAULT_BUILD_TIMEOUT) -> bool:
    """Build the Java project unless its output is up to date; return True if it built.

    Tries Maven offline first when the local repository already has the Neo4j jars, and
    falls back to online. Safe to call from several processes at once (a file lock).
    """
    target = PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    with open(target / ".build.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not needs_build():
            return False
        # Stale jars of another Neo4j version must not stay on the classpath.
        shutil.rmtree(PROJECT_DIR / "lib", ignore_errors=True)
        _stamp().unlink(missing_ok=True)
        attempts = [True, False] if _local_repo_has_neo4j() else [False]
        result: subprocess.CompletedProcess[str] | None = None
        for offline in attempts:
            result = _run_maven(offline, timeout)
            if result.returncode == 0:
                break
        assert result is not None
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()
            tail = "\n".join(output[-40:])
            raise Neo4jServerError(
                f"building {PROJECT_DIR} with Maven failed (exit {result.returncode}):\n{tail}"
            )
        _stamp().write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"), encoding="utf-8")
        return True


# --------------------------------------------------------------------------- server


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise Neo4jServerError("Java 17+ ('java') is not on PATH and JAVA_HOME is not set")
    return java


class Neo4jTestServer:
    """A Neo4j Community server in a child JVM, with a fresh database directory.

    ``start()`` / ``stop()`` / ``kill()`` / ``restart()`` may be called repeatedly: the port
    and the database directory stay the same for the life of the object, so data committed
    before a stop or a kill is there after the next start.
    """

    def __init__(
        self,
        home: Path | str | None = None,
        *,
        port: int = 0,
        heap: str = "1g",
        pagecache_mb: int = 256,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        extra_jvm_flags: tuple[str, ...] = (),
        quick_start: bool = True,
        settings: Mapping[str, str] | None = None,
        tls: bool = False,
    ) -> None:
        self._owns_home = home is None
        self.home = (
            Path(home)
            if home is not None
            else Path(tempfile.mkdtemp(prefix="pressure-graph-neo4j-"))
        )
        self.port = port
        self.heap = heap
        self.pagecache_mb = pagecache_mb
        self.startup_timeout = startup_timeout
        self.extra_jvm_flags = extra_jvm_flags
        self.quick_start = quick_start
        self.settings = dict(settings or {})
        #: Bolt also accepts TLS, with a self-signed certificate for 127.0.0.1 made at the
        #: first start (``tls_dir``): for the ``bolt+ssc`` / ``bolt+s`` URL forms
        self.tls = tls
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._closed = False
        atexit.register(self._atexit)

    # -- properties

    @property
    def uri(self) -> str:
        if not self.port:
            raise Neo4jServerError("the server has not been started yet")
        return f"bolt://127.0.0.1:{self.port}"

    @property
    def tls_dir(self) -> Path:
        """The server's key and certificate (``private.key``, ``public.crt``)."""
        return self.home / "tls"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def output_tail(self, lines: int = 40) -> str:
        """The last lines the JVM printed (stdout and stderr)."""
        return "\n".join(list(self._output)[-lines:])

    def command(self) -> list[str]:
        classpath = os.pathsep.join(
            [str(PROJECT_DIR / "target" / "classes"), str(PROJECT_DIR / "lib" / "*")]
        )
        quick = QUICK_START_JVM_FLAGS if self.quick_start else ()
        flags = [*JVM_FLAGS, *quick, *self.extra_jvm_flags]
        if not any(flag.startswith("-Djna.tmpdir=") for flag in flags):
            # JNA unpacks its native library into a shared temp folder by default; one folder
            # per server keeps concurrent servers (and users) from tripping over each other.
            flags.append(f"-Djna.tmpdir={self.home / 'jna'}")
        config = (
            ["--config", str(self.home / "test-server.conf")] if self.settings else []
        )
        return [
            _java(),
            # A fixed heap, as Neo4j advises: no collections spent growing it.
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *flags,
            "-cp",
            classpath,
            MAIN_CLASS,
            str(self.home),
            str(self.port),
            str(self.pagecache_mb),
            *config,
            *(["--tls", str(self.tls_dir)] if self.tls else []),
            "--exit-on-stdin-eof",
        ]

    # -- lifecycle

    def start(self) -> Neo4jTestServer:
        """Build if needed, start the JVM and wait until Bolt answers; return self."""
        if self._closed:
            raise Neo4jServerError("this server was closed; create a new one")
        if self.running:
            return self
        ensure_built()
        if self.settings:
            self._write_settings()
        if self.tls:
            self._make_certificate()
        self._output.clear()
        self._ready.clear()
        began = time.monotonic()
        # stdin stays an open pipe: if this Python process dies, the JVM sees end-of-file and
        # shuts down instead of outliving the test run. A session of its own keeps a Ctrl-C
        # in the terminal from reaching it: the fixture that started it stops it.
        process = subprocess.Popen(
            self.command(),
            cwd=self.home,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self._process = process
        assert process.stdout is not None
        log_file = open(self.home / "server-output.log", "a", encoding="utf-8")  # noqa: SIM115
        self._reader = threading.Thread(
            target=self._read_output,
            args=(process.stdout, log_file),
            name=f"neo4j-test-server-{process.pid}",
            daemon=True,
        )
        self._reader.start()
        deadline = began + self.startup_timeout
        while not self._ready.wait(0.1):
            if process.poll() is not None:
                self._reader.join(5)
                raise self._error(f"the Neo4j JVM exited with code {process.returncode}")
            if time.monotonic() > deadline:
                self.kill()
                raise self._error(f"Neo4j did not report ready within {self.startup_timeout:.0f} s")
        self._check_bolt(deadline)
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Clean shutdown (SIGTERM, wait up to ``timeout``), then SIGKILL if still alive."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)
        self._finish()

    def kill(self) -> None:
        """SIGKILL the JVM: no shutdown, as after a crash or ``kill -9``."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait(30)
        self._finish()

    def restart(self, timeout: float = 60.0) -> Neo4jTestServer:
        """Stop cleanly and start again on the same port and database directory."""
        self.stop(timeout)
        return self.start()

    def close(self) -> None:
        """Stop the server and delete the database directory if this object created it."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        atexit.unregister(self._atexit)
        if self._owns_home and not os.environ.get("NEO4J_TEST_KEEP_HOME"):
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> Neo4jTestServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals

    def _write_settings(self) -> None:
        """Extra Neo4j settings, in neo4j.conf syntax, for the server's ``--config``."""
        lines = []
        for name, value in sorted(self.settings.items()):
            if not re.fullmatch(r"[a-z][a-z0-9_.]*", name) or "\n" in value:
                raise Neo4jServerError(f"not a Neo4j setting: {name}={value!r}")
            lines.append(f"{name}={value}\n")
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "test-server.conf").write_text("".join(lines), encoding="utf-8")

    def _make_certificate(self) -> None:
        """A self-signed key and certificate for 127.0.0.1 (once per home), by ``openssl``."""
        key, cert = self.tls_dir / "private.key", self.tls_dir / "public.crt"
        if key.exists() and cert.exists():
            return
        self.tls_dir.mkdir(parents=True, exist_ok=True)
        openssl = shutil.which("openssl")
        if openssl is None:
            raise Neo4jServerError("a TLS test server needs the openssl command (apt: openssl)")
        done = subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise Neo4jServerError(f"openssl could not make a certificate: {done.stderr.strip()}")

    def _read_output(self, stream: IO[str], log_file: IO[str]) -> None:
        with log_file:
            for raw in stream:
                line = raw.rstrip("\n")
                self._output.append(line)
                log_file.write(raw)
                log_file.flush()
                if line.startswith(READY_PREFIX):
                    match = re.search(r":(\d+)\s*$", line)
                    if match:
                        self.port = int(match.group(1))
                        self._ready.set()

    def _check_bolt(self, deadline: float) -> None:
        """The Java side already did a Bolt handshake; with the driver, also run a query."""
        try:
            from neo4j import GraphDatabase
        except ImportError:
            return
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with GraphDatabase.driver(self.uri, auth=None) as driver:
                    driver.execute_query("RETURN 1")
                return
            except Exception as exc:  # any failure means "not yet"
                last = exc
                time.sleep(0.5)
        self.kill()
        raise self._error(f"Bolt at {self.uri} did not answer a query: {last!r}")

    def _finish(self) -> None:
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if self._reader is not None:
            self._reader.join(10)
        self._reader = None
        self._process = None

    def _error(self, message: str) -> Neo4jServerError:
        debug_log = self.home / "logs" / "debug.log"
        return Neo4jServerError(
            f"{message}.\ncommand: {' '.join(self.command())}\n"
            f"Neo4j's own log: {debug_log}\n"
            f"last lines of the server output:\n{self.output_tail()}"
        )

    def _atexit(self) -> None:
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            self.close()


# --------------------------------------------------------------------------- helpers


def env_connection() -> tuple[str, tuple[str, str] | None] | None:
    """``(uri, auth)`` from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD, or None when unset."""
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        return None
    user = os.environ.get("NEO4J_USER") or os.environ.get("NEO4J_USERNAME")
    password = os.environ.get("NEO4J_PASSWORD")
    auth = (user or "neo4j", password) if password is not None else None
    return uri, auth


def wipe(driver: Driver, database: str | None = None, *, schema: bool = False) -> int:
    """Delete every node and relationship in batches; return how many nodes were deleted.

    Constraints and indexes survive unless ``schema`` is true.
    """
    from neo4j.exceptions import CypherSyntaxError

    deleted = 0
    with driver.session(database=database) as session:
        statements = (
            # Neo4j 5.23+ scope clause; the older form is deprecated there but works on 4.4+.
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
        )
        for statement in statements:
            try:
                summary = session.run(statement).consume()
            except CypherSyntaxError:
                continue
            deleted = summary.counters.nodes_deleted
            break
        if schema:
            records: list[Any] = list(session.run("SHOW CONSTRAINTS YIELD name"))
            for record in records:
                session.run(f"DROP CONSTRAINT `{_quote(record['name'])}` IF EXISTS").consume()
            records = list(
                session.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name")
            )
            for record in records:
                session.run(f"DROP INDEX `{_quote(record['name'])}` IF EXISTS").consume()
    return deleted


def _quote(name: str) -> str:
    return name.replace("`", "``")
