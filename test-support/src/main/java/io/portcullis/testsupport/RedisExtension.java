package io.portcullis.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.containers.GenericContainer;

/**
 * A real Redis for a test class: {@code PORTCULLIS_TEST_REDIS_URL} if set, else Testcontainers where a Docker engine
 * answers, else {@code redis-server} from PATH on a random loopback port in a temp dir. A locally started server can
 * be {@link #stop() stopped} and {@link #start() started} again on the same port, for outage tests.
 */
public final class RedisExtension implements BeforeAllCallback, AfterAllCallback {

  private String host = "127.0.0.1";
  private int port;
  private Process process;
  private Path dir;
  private GenericContainer<?> container;
  private boolean external;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String url = System.getenv("PORTCULLIS_TEST_REDIS_URL");
    if (url != null && !url.isBlank()) {
      URI uri = URI.create(url);
      host = uri.getHost();
      port = uri.getPort() < 0 ? 6379 : uri.getPort();
      external = true;
      return;
    }
    if (DockerProbe.engineAnswers()) {
      startContainer();
      return;
    }
    dir = Files.createTempDirectory("portcullis-test-redis");
    port = freePort();
    start();
  }

  @SuppressWarnings("resource")
  private void startContainer() {
    container = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
    container.start();
    host = container.getHost();
    port = container.getMappedPort(6379);
  }

  /** Starts (or restarts, on the same port) the locally managed redis-server. */
  public synchronized void start() throws IOException, InterruptedException {
    if (external || container != null) {
      throw new IllegalStateException("only a locally started redis-server can be restarted");
    }
    List<String> cmd = List.of("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no");
    try {
      process = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dir.resolve("redis.log").toFile()).start();
    } catch (IOException e) {
      throw new IllegalStateException("""
          Could not start redis-server for the tests: it is not on PATH.
          Install it (Debian/Ubuntu: apt-get install -y redis-server), run a Docker engine,
          or set PORTCULLIS_TEST_REDIS_URL=redis://host:port to a running server.""", e);
    }
    awaitPort(Duration.ofSeconds(20));
  }

  /** Kills the locally started redis-server (an outage, as a test sees it). */
  public synchronized void stop() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      process = null;
    }
  }

  private void awaitPort(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("redis-server exited at start; see " + dir.resolve("redis.log"));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("redis-server did not listen on " + port + " within " + timeout);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    stop();
    if (container != null) {
      container.stop();
    }
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** {@code redis://host:port}, for Lettuce's {@code RedisURI.create}. */
  public String uri() {
    return "redis://" + host + ":" + port;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
