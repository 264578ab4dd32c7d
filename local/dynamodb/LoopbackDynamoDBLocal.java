import java.lang.reflect.Field;
import java.net.BindException;

import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only.
 *
 * DynamoDB Local has no host flag: DynamoDBProxyServer builds a Jetty
 * {@code new Server(port)}, whose connector listens on every interface. A dev
 * database reachable from the network is a leak, so this launcher builds the
 * server through the same CLI parser and rewrites the connector host before
 * anything binds. Run in single-file source-code mode (no build step):
 *
 *   java -cp DynamoDBLocal.jar:DynamoDBLocal_lib/* -Djava.library.path=DynamoDBLocal_lib \
 *     LoopbackDynamoDBLocal.java -port 8000 -inMemory -sharedDb -disableTelemetry
 *
 * Deliberately does not go through ServerRunner.main: that is what configures
 * Telemetry (Pinpoint over the internet). Without it Telemetry.getTelemetry()
 * stays empty and start() emits nothing, on top of -disableTelemetry.
 *
 * Exit codes let the Node wrapper tell failures apart: 2 bad arguments,
 * 3 could not bind the port (the wrapper retries with another free port),
 * 4 unexpected internal layout (DynamoDB Local upgrade changed the private field),
 * 1 anything else (uncaught exception, stack trace on stderr).
 */
public final class LoopbackDynamoDBLocal {
  private static final String HOST = "127.0.0.1";

  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy;
    try {
      proxy = ServerRunner.createServerFromCommandLineArgs(args);
    } catch (Exception e) {
      System.err.println("LoopbackDynamoDBLocal: invalid DynamoDB Local arguments: " + e);
      System.exit(2);
      return;
    }

    Server jetty;
    try {
      Field field = DynamoDBProxyServer.class.getDeclaredField("server");
      field.setAccessible(true);
      jetty = (Server) field.get(proxy);
    } catch (ReflectiveOperationException | ClassCastException e) {
      System.err.println("LoopbackDynamoDBLocal: cannot reach DynamoDBProxyServer.server (DynamoDB Local version changed?): " + e);
      System.exit(4);
      return;
    }

    int rebound = 0;
    for (Connector connector : jetty.getConnectors()) {
      if (connector instanceof ServerConnector serverConnector) {
        serverConnector.setHost(HOST);
        rebound++;
      } else {
        // An unknown connector type could still listen on all interfaces; refuse to start.
        System.err.println("LoopbackDynamoDBLocal: unexpected connector " + connector.getClass().getName());
        System.exit(4);
      }
    }
    if (rebound == 0) {
      System.err.println("LoopbackDynamoDBLocal: DynamoDB Local created no ServerConnector");
      System.exit(4);
    }

    // Stop Jetty (and let SQLite close cleanly for -dbPath) when the wrapper sends SIGTERM.
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        proxy.stop();
      } catch (Exception ignored) {
        // The JVM is going away regardless.
      }
    }, "dynamodb-local-shutdown"));

    // The wrapper keeps our stdin open for its whole life. EOF means it died
    // without running its exit handler (SIGKILL, crash), so don't outlive it.
    Thread parentWatch = new Thread(() -> {
      try {
        while (System.in.read() != -1) {
          // Ignore anything written; only EOF matters.
        }
      } catch (Exception ignored) {
        // A broken pipe means the same thing as EOF.
      }
      System.err.println("LoopbackDynamoDBLocal: parent process went away, exiting");
      System.exit(0);
    }, "parent-watch");
    parentWatch.setDaemon(true);
    parentWatch.start();

    // Jetty 12 reports a taken port as an IOException wrapping BindException,
    // while DynamoDBProxyServer.start() swallows plain SocketExceptions (prints
    // and stops Jetty); handle both and also check Jetty's own state.
    try {
      proxy.start();
    } catch (Exception e) {
      if (hasCause(e, BindException.class)) {
        System.err.println("LoopbackDynamoDBLocal: could not listen on " + HOST + ": " + e.getMessage() + " (address already in use)");
        System.exit(3);
      }
      throw e;
    }
    if (!jetty.isStarted()) {
      System.err.println("LoopbackDynamoDBLocal: could not listen on " + HOST + " (Jetty did not start)");
      System.exit(3);
    }
    System.out.println("LoopbackDynamoDBLocal: listening on " + jetty.getURI());
    proxy.join();
  }

  private static boolean hasCause(Throwable error, Class<? extends Throwable> type) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (type.isInstance(cause)) return true;
    }
    return false;
  }
}
