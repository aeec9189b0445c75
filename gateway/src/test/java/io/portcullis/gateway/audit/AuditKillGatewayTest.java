package io.portcullis.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.audit.AuditVerifier;
import io.portcullis.audit.VerificationReport;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.PortcullisApplication;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a gateway process under sustained load, then a restart of the same instance (same chain id and spill
 * directory, as a restarted pod): every request a client saw answered has exactly one event, the journaled events the
 * dead process had not yet written are replayed once, and the chain verifies. The gateway runs in its own JVM (this
 * test's classpath) on the test's PostgreSQL; SIGKILL is {@link Process#destroyForcibly()}.
 */
class AuditKillGatewayTest {

  static final String CHAIN = "gw-kill";
  static final Map<String, String> PATHS = Map.of(
      "survey-sandbox", "/data/forms.submissions?limit=1",
      "team-inventory", "/data/inventory.items?limit=2",
      "hr-headcount", "/data/hr.approvals?limit=1");
  static final Pattern ACCESS_TOKEN = Pattern.compile("\"access_token\"\\s*:\\s*\"([^\"]+)\"");

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @TempDir
  Path dir;

  final List<Process> processes = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();

  @AfterEach
  void stopGateways() {
    processes.forEach(Process::destroyForcibly);
  }

  @Test
  void killedUnderLoadThenRestartedEveryAnsweredRequestHasExactlyOneEventAndTheChainVerifies() throws Exception {
    int port = freePort();
    Process first = start(port, dir.resolve("gateway-1.log"));
    Map<String, String> tokens = new ConcurrentHashMap<>(tokens(port, first, dir.resolve("gateway-1.log")));

    Set<String> answered = ConcurrentHashMap.newKeySet();
    AtomicInteger refused = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    List<String> apps = List.copyOf(PATHS.keySet());
    for (int c = 0; c < 4; c++) {
      int offset = c;
      Thread t = new Thread(() -> {
        for (int i = offset; !stop.get(); i++) {
          String app = apps.get(i % apps.size());
          HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + PATHS.get(app)))
              .header("Authorization", "Bearer " + tokens.get(app)).timeout(Duration.ofSeconds(10)).GET().build();
          try {
            // answered = status and the whole body received; a connection cut by the kill is not an answer
            HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            r.headers().firstValue(AuditFaultsGatewayTest.REQUEST_ID).ifPresent(answered::add);
          } catch (IOException e) {
            refused.incrementAndGet();
            pause(20);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "audit-kill-client-" + c);
      t.start();
      clients.add(t);
    }
    try {
      Thread.sleep(3_000);
      int beforeKill = answered.size();
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no drain, no flush
      first.waitFor();
      assertThat(beforeKill).as("requests answered before the kill").isGreaterThan(20);

      Path secondLog = dir.resolve("gateway-2.log");
      Process second = start(port, secondLog);
      tokens.putAll(tokens(port, second, secondLog));
      int afterRestart = answered.size();
      Thread.sleep(2_000);
      assertThat(answered.size()).as("requests answered after the restart").isGreaterThan(afterRestart);
    } finally {
      stop.set(true);
      for (Thread t : clients) {
        t.join(15_000);
      }
    }
    assertThat(refused.get()).as("requests cut or refused while the gateway was down").isPositive();
    // whether the kill caught events in memory depends on timing; the log says what the restart recovered
    Files.readAllLines(dir.resolve("gateway-2.log")).stream().filter(l -> l.contains("recovered"))
        .forEach(l -> System.out.println("restarted gateway: " + l));

    // the restarted gateway writes what it has within its batch interval; the replay within its first probe
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    Map<String, Long> counts = AuditFaultsGatewayTest.requestEventCounts(PG);
    while (!counts.keySet().containsAll(answered) && System.nanoTime() < deadline) {
      Thread.sleep(200);
      counts = AuditFaultsGatewayTest.requestEventCounts(PG);
    }
    for (String requestId : answered) {
      assertThat(counts.get(requestId)).as("events of answered request %s", requestId).isEqualTo(1L);
    }
    assertThat(counts.values()).as("no request has two events").allMatch(n -> n == 1L);
    VerificationReport report = new AuditVerifier(ConnectionFactories.get(PG.r2dbcUrl()), null)
        .verify(CHAIN, 1, Long.MAX_VALUE).block(Duration.ofSeconds(30));
    assertThat(report.ok()).as(report.render()).isTrue();
  }

  /** The gateway main class in a new JVM with this test's classpath, on this class's database. */
  Process start(int port, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command = List.of(java, "-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), PortcullisApplication.class.getName(),
        "--server.port=" + port,
        "--portcullis.admin.port=0",
        "--portcullis.database.url=" + PG.r2dbcUrl(),
        "--portcullis.demo.enabled=true",
        "--portcullis.audit.chain-id=" + CHAIN,
        "--portcullis.audit.spill-dir=" + dir.resolve("spill"),
        "--portcullis.audit.max-probe-interval=1s",
        "--logging.level.root=warn",
        "--logging.level.io.portcullis.audit=info");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    processes.add(p);
    return p;
  }

  /** Waits until the gateway issues tokens (it is up), then one token per app. */
  Map<String, String> tokens(int port, Process gateway, Path log) throws Exception {
    Map<String, String> tokens = new ConcurrentHashMap<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    for (String app : PATHS.keySet()) {
      while (true) {
        assertThat(gateway.isAlive()).as("gateway process alive; its log:%n%s", tail(log)).isTrue();
        assertThat(System.nanoTime() < deadline).as("gateway up within 120 s; its log:%n%s", tail(log)).isTrue();
        try {
          String basic = Base64.getEncoder().encodeToString(
              (app + ":" + GatewayTestSupport.secret(PG, app)).getBytes(StandardCharsets.UTF_8));
          HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/oauth2/token"))
              .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
              .timeout(Duration.ofSeconds(10))
              .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build();
          HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
          Matcher m = ACCESS_TOKEN.matcher(r.body());
          if (r.statusCode() == 200 && m.find()) {
            tokens.put(app, m.group(1));
            break;
          }
        } catch (IOException | IllegalStateException notYet) {
          // not listening yet, or the schema not there yet
        } catch (AssertionError notSeeded) {
          // the demo seeder has not stored the app's secret yet
        }
        Thread.sleep(250);
      }
    }
    return tokens;
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
