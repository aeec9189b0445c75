package io.portcullis.gateway;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A gateway in a JVM of its own (this test's classpath, {@link PortcullisApplication} as the main class), for what one
 * process cannot show about itself: a heap limit it must live within, a kill -9. The same launch as
 * {@code AuditKillGatewayTest}'s, with the serial collector (one GC thread, so the test JVM beside it keeps the other
 * core); add {@code -XX:TieredStopAtLevel=1} for a short-lived gateway that should start fast.
 * Its output goes to {@code log}; {@link #close()} kills it.
 */
public final class GatewayProcess implements AutoCloseable {

  private final Process process;
  private final int port;
  private final Path log;

  private GatewayProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts the gateway on a free port with {@code jvmOptions} (e.g. {@code -Xmx256m}) and {@code arguments}
   * ({@code --portcullis.…=…}; the port is added), without waiting for it.
   */
  public static GatewayProcess start(Path log, List<String> jvmOptions, List<String> arguments) throws IOException {
    int port = freePort();
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-XX:+UseSerialGC");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(PortcullisApplication.class.getName());
    command.add("--server.port=" + port);
    command.addAll(arguments);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new GatewayProcess(p, port, log);
  }

  public int port() {
    return port;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Process process() {
    return process;
  }

  /** Waits until the gateway answers HTTP on its port (any status), failing with its log if it dies or never does. */
  public void awaitUp(Duration within) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new AssertionError("gateway process exited with " + process.exitValue() + "; its log:\n" + tail());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("gateway not up within " + within + "; its log:\n" + tail());
      }
      try {
        http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/.well-known/jwks.json"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
        return;
      } catch (IOException notYet) {
        Thread.sleep(250);
      }
    }
  }

  /** The last 40 lines of the gateway's output. */
  public String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
