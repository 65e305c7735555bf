package pressuregraph;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.configuration.ssl.ClientAuth;
import org.neo4j.configuration.ssl.SslPolicyConfig;
import org.neo4j.configuration.ssl.SslPolicyScope;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;

/**
 * Runs an embedded Neo4j Community DBMS with only the Bolt connector, for tests.
 *
 * <p>Usage: {@code TestServer HOME_DIR PORT [PAGECACHE_MB] [--config FILE] [--tls DIR]
 * [--exit-on-stdin-eof]}
 *
 * <p>HOME_DIR holds the store, transaction logs and Neo4j's own log files (nothing is logged to
 * stdout). PORT 0 lets the OS pick a free port. Once Bolt answers a protocol handshake, exactly
 * one line {@code NEO4J READY bolt://127.0.0.1:PORT} is printed on stdout. SIGTERM (or SIGINT)
 * shuts the DBMS down cleanly; with {@code --exit-on-stdin-eof} the server also shuts down when
 * its standard input closes (so it never outlives the test process that started it).
 *
 * <p>{@code --tls DIR} makes Bolt accept TLS as well as plain connections, with the key and
 * certificate in DIR ({@code private.key}, {@code public.crt}, PEM): the tests of the
 * {@code bolt+s} / {@code bolt+ssc} URL forms connect through it.
 */
public final class TestServer {
    private static final String HOST = "127.0.0.1";
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

    private TestServer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println(
                    "usage: TestServer HOME_DIR PORT [PAGECACHE_MB] [--config FILE]"
                    + " [--tls DIR] [--exit-on-stdin-eof]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        long pageCacheMb = 256;
        boolean exitOnStdinEof = false;
        Path configFile = null;
        Path tlsDir = null;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--exit-on-stdin-eof")) {
                exitOnStdinEof = true;
            } else if (args[i].equals("--config") && i + 1 < args.length) {
                configFile = Path.of(args[++i]).toAbsolutePath();
            } else if (args[i].equals("--tls") && i + 1 < args.length) {
                tlsDir = Path.of(args[++i]).toAbsolutePath();
            } else {
                pageCacheMb = Long.parseLong(args[i]);
            }
        }
        Files.createDirectories(home);

        long started = System.nanoTime();
        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (configFile != null) {
            // Extra settings (neo4j.conf syntax); the ones set below always win.
            builder.loadPropertiesFromFile(configFile);
        }
        builder
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.logs_directory, home.resolve("logs"))
                // Netty's graceful shutdown waits a 2 s quiet period per event loop group by
                // default, which made a clean stop take ~10 s; a test server needs no grace.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .setConfig(
                        GraphDatabaseInternalSettings.netty_server_shutdown_timeout,
                        Duration.ofSeconds(5));
        if (tlsDir != null) {
            // OPTIONAL, not REQUIRED: the readiness check below speaks plain Bolt.
            SslPolicyConfig bolt = SslPolicyConfig.forScope(SslPolicyScope.BOLT);
            builder
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.OPTIONAL)
                    .setConfig(bolt.enabled, true)
                    .setConfig(bolt.base_directory, tlsDir)
                    .setConfig(bolt.client_auth, ClientAuth.NONE);
        }
        DatabaseManagementService service = builder.build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                service.shutdown();
            } catch (RuntimeException e) {
                System.err.println("NEO4J shutdown failed: " + e);
            } finally {
                System.out.println("NEO4J STOPPED");
                System.out.flush();
                stopped.countDown();
            }
        }, "neo4j-test-server-shutdown"));

        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(READY_TIMEOUT.toMillis())) {
            System.err.println("NEO4J FAILED: database not available within " + READY_TIMEOUT);
            System.exit(1);
        }
        int boundPort = boltPort(db, port);
        if (!awaitBoltHandshake(boundPort, System.nanoTime() + READY_TIMEOUT.toNanos())) {
            System.err.println("NEO4J FAILED: Bolt did not answer on port " + boundPort);
            System.exit(1);
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.err.println("NEO4J started in " + millis + " ms (home " + home + ")");
        System.out.println("NEO4J READY bolt://" + HOST + ":" + boundPort);
        System.out.flush();

        if (exitOnStdinEof) {
            Thread watchdog = new Thread(() -> {
                try {
                    InputStream in = System.in;
                    while (in.read() >= 0) {
                        // Ignore anything written; only end-of-file matters.
                    }
                } catch (IOException ignored) {
                    // A broken pipe means the parent went away, same as end-of-file.
                }
                System.exit(0);
            }, "neo4j-test-server-stdin-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        }
        stopped.await();
    }

    /** The port Bolt really listens on (differs from the requested one when that was 0). */
    private static int boltPort(GraphDatabaseService db, int requested) {
        ConnectorPortRegister ports = ((GraphDatabaseAPI) db)
                .getDependencyResolver()
                .resolveDependency(ConnectorPortRegister.class);
        HostnamePort address = ports.getLocalAddress(ConnectorType.BOLT);
        return address != null ? address.getPort() : requested;
    }

    /** Connects and performs a Bolt version handshake until the server answers. */
    private static boolean awaitBoltHandshake(int port, long deadlineNanos)
            throws InterruptedException {
        while (System.nanoTime() < deadlineNanos) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(HOST, port), 1000);
                socket.setSoTimeout(5000);
                OutputStream out = socket.getOutputStream();
                // Magic preamble, then four proposed versions: 5.x (range), 4.4, none, none.
                out.write(new byte[] {
                    0x60, 0x60, (byte) 0xB0, 0x17,
                    0, 8, 8, 5,
                    0, 0, 4, 4,
                    0, 0, 0, 0,
                    0, 0, 0, 0,
                });
                out.flush();
                byte[] reply = new byte[4];
                new DataInputStream(socket.getInputStream()).readFully(reply);
                if (reply[3] != 0 || reply[2] != 0) {
                    return true;
                }
            } catch (IOException e) {
                // Not accepting yet: retry below.
            }
            Thread.sleep(100);
        }
        return false;
    }
}
