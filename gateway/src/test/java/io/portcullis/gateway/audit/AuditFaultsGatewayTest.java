package io.portcullis.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditVerifier;
import io.portcullis.audit.VerificationReport;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The audit under faults, on the default PostgreSQL sink: the table gone for 30 s under steady traffic (spill file, replay,
 * exactly one event per answered request, an intact chain), and the sink and the spill file gone together (tier 2
 * fails closed before touching data, tiers 0/1 go on; all recover).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AuditFaultsGatewayTest {

  static final String REQUEST_ID = "Portcullis-Request-Id";
  static final Path SPILL = Path.of(GatewayTestSupport.tempDir("audit-faults")).resolve("spill");

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.audit.spill-dir", SPILL::toString);
    registry.add("portcullis.audit.max-probe-interval", () -> "1s");
  }

  @LocalServerPort
  int port;

  @Autowired
  AuditPipeline pipeline;

  @Autowired
  ConnectionFactory connections;

  WebTestClient client() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  @Test
  void tableGoneForThirtySecondsUnderLoadLosesNoEventAndDuplicatesNone() throws Exception {
    WebTestClient client = client();
    Map<String, String> tokens = new HashMap<>();
    for (String app : List.of("survey-sandbox", "team-inventory", "hr-headcount")) {
      tokens.put(app, GatewayTestSupport.token(client, PG, app));
    }
    Map<String, String> paths = Map.of("survey-sandbox", "/data/forms.submissions?limit=1",
        "team-inventory", "/data/inventory.items?limit=1", "hr-headcount", "/data/hr.approvals?limit=1");
    List<String> apps = List.copyOf(paths.keySet());
    List<String> answered = new ArrayList<>();
    List<Integer> statuses = new ArrayList<>();
    AtomicBoolean stop = new AtomicBoolean();
    Thread loop = new Thread(() -> {
      for (int i = 0; !stop.get(); i++) {
        String app = apps.get(i % apps.size());
        EntityExchangeResult<byte[]> r = client.get().uri(paths.get(app))
            .header(HttpHeaders.AUTHORIZATION, "Bearer " + tokens.get(app)).exchange().expectBody().returnResult();
        synchronized (answered) {
          answered.add(r.getResponseHeaders().getFirst(REQUEST_ID));
          statuses.add(r.getStatus().value());
        }
        try {
          Thread.sleep(5); // steady, not flat out: the machine is shared
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "audit-fault-client");
    loop.start();
    try {
      Thread.sleep(2_000);
      PG.execute("ALTER TABLE portcullis.audit_events RENAME TO audit_events_away");
      try {
        await(() -> !pipeline.stats().sinkHealthy(), Duration.ofSeconds(15));
        Thread.sleep(30_000); // the outage the issue names: spilled, probed with back-off, replayed in order
        assertThat(pipeline.stats().spillBacklog()).isPositive();
      } finally {
        PG.execute("ALTER TABLE portcullis.audit_events_away RENAME TO audit_events");
      }
      Thread.sleep(2_000);
    } finally {
      stop.set(true);
      loop.join(30_000);
    }
    pipeline.flush().block(Duration.ofSeconds(30));
    await(() -> pipeline.stats().spillBacklog() == 0, Duration.ofSeconds(30));

    // tiers 0-2 all went on while events were spilled: answered or throttled by quota, never refused for the audit
    assertThat(statuses).contains(200).allMatch(s -> s == 200 || s == 429);
    assertThat(pipeline.stats().spilled()).isPositive();
    assertThat(pipeline.stats().replayed()).isEqualTo(pipeline.stats().spilled());
    Map<String, Long> counts = requestEventCounts();
    for (String requestId : answered) {
      assertThat(counts.get(requestId)).as("events of request %s", requestId).isEqualTo(1L);
    }
    VerificationReport report = new AuditVerifier(connections, null)
        .verify(pipeline.chainId(), 1, Long.MAX_VALUE).block(Duration.ofSeconds(30));
    assertThat(report.ok()).as(report.render()).isTrue();
  }

  @Test
  void tierTwoFailsClosedWhileNeitherSinkNorSpillFileTakesEventsAndRecovers() throws Exception {
    WebTestClient client = client();
    String tier0 = GatewayTestSupport.token(client, PG, "survey-sandbox");
    String tier2 = GatewayTestSupport.token(client, PG, "hr-headcount");
    List<String> requestIds = new ArrayList<>();
    assertThat(get(client, tier2, "/data/hr.approvals?limit=1", requestIds)).isEqualTo(200);

    Path away = SPILL.resolveSibling("spill-away");
    PG.execute("ALTER TABLE portcullis.audit_events RENAME TO audit_events_away");
    Files.move(SPILL, away);
    Files.writeString(SPILL, "not a directory"); // the spill file's directory replaced by a regular file
    String refusedId;
    try {
      // a tier-0 request still goes on; its event is held in memory, and the pipeline knows it cannot persist
      assertThat(get(client, tier0, "/data/forms.submissions?limit=1", requestIds)).isEqualTo(200);
      await(() -> !pipeline.canPersist(), Duration.ofSeconds(15));

      // the gate sits right after the policy decision, before quota and data: no throttling can mask it
      EntityExchangeResult<String> refused = client.get().uri("/data/hr.approvals?limit=1")
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + tier2).exchange()
          .expectStatus().isEqualTo(503)
          .expectBody(String.class).returnResult();
      assertThat(refused.getResponseBody()).contains("\"upstream_unavailable\"").contains("audit unavailable");
      refusedId = refused.getResponseHeaders().getFirst(REQUEST_ID);
      requestIds.add(refusedId);
      assertThat(get(client, tier0, "/data/forms.submissions?limit=1", requestIds)).isEqualTo(200);
    } finally {
      Files.delete(SPILL);
      Files.move(away, SPILL);
      PG.execute("ALTER TABLE portcullis.audit_events_away RENAME TO audit_events");
    }
    await(pipeline::canPersist, Duration.ofSeconds(15));
    assertThat(get(client, tier2, "/data/hr.approvals?limit=1", requestIds)).isEqualTo(200);
    pipeline.flush().block(Duration.ofSeconds(30));
    await(() -> pipeline.stats().spillBacklog() == 0, Duration.ofSeconds(30));

    Map<String, Long> counts = requestEventCounts();
    for (String requestId : requestIds) {
      assertThat(counts.get(requestId)).as("events of request %s", requestId).isEqualTo(1L);
    }
    // the refused request is audited as such, and read nothing
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT status, error_code, coalesce(\"rows\", 0), tier FROM portcullis.audit_events WHERE request_id = ?")) {
      st.setString(1, refusedId);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isEqualTo(503);
        assertThat(rs.getString(2)).isEqualTo("upstream_unavailable");
        assertThat(rs.getLong(3)).isZero();
        assertThat(rs.getInt(4)).isEqualTo(2);
      }
    }
    VerificationReport report = new AuditVerifier(connections, null)
        .verify(pipeline.chainId(), 1, Long.MAX_VALUE).block(Duration.ofSeconds(30));
    assertThat(report.ok()).as(report.render()).isTrue();
  }

  @Test
  void clientThatDisconnectsMidRequestGetsExactlyOneCancelledEvent() throws Exception {
    WebTestClient client = client();
    String token = GatewayTestSupport.token(client, PG, "team-inventory");
    pipeline.flush().block(Duration.ofSeconds(30));
    long before = eventsOf("team-inventory");
    // the read waits on a table lock, so the request is surely in flight when the client goes away
    try (Connection lock = PG.connect()) {
      lock.setAutoCommit(false);
      try (PreparedStatement st = lock.prepareStatement("LOCK TABLE demo.inventory_items IN ACCESS EXCLUSIVE MODE")) {
        st.execute();
      }
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
        socket.getOutputStream().write(("GET /data/inventory.items?limit=1 HTTP/1.1\r\nHost: localhost\r\n"
            + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        Thread.sleep(1_000);
        assertThat(socket.getInputStream().available()).as("no answer while the table is locked").isZero();
      } // closed: the client disconnects mid-request
      Thread.sleep(500);
      lock.rollback();
    }
    pipeline.flush().block(Duration.ofSeconds(30));
    await(() -> eventsOf("team-inventory") > before, Duration.ofSeconds(15));
    pipeline.flush().block(Duration.ofSeconds(30));
    assertThat(eventsOf("team-inventory")).as("one event for the one request").isEqualTo(before + 1);
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT outcome, resource_id FROM portcullis.audit_events "
            + "WHERE app_id = 'team-inventory' ORDER BY seq DESC LIMIT 1")) {
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("cancelled");
        assertThat(rs.getString(2)).isEqualTo("inventory.items");
      }
    }
  }

  long eventsOf(String app) {
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM portcullis.audit_events WHERE app_id = ? AND event_type = 'request'")) {
      st.setString(1, app);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The status of a GET, waiting out quota throttling (each attempt is a request with its own event). */
  static int get(WebTestClient client, String token, String path, List<String> requestIds)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      EntityExchangeResult<byte[]> r = client.get().uri(path).header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
          .exchange().expectBody().returnResult();
      requestIds.add(r.getResponseHeaders().getFirst(REQUEST_ID));
      if (r.getStatus().value() != 429 || System.nanoTime() > deadline) {
        return r.getStatus().value();
      }
      Thread.sleep(200);
    }
  }

  static Map<String, Long> requestEventCounts() throws SQLException {
    return requestEventCounts(PG);
  }

  static Map<String, Long> requestEventCounts(PostgresExtension pg) throws SQLException {
    Map<String, Long> counts = new HashMap<>();
    try (Connection c = pg.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT request_id, count(*) FROM portcullis.audit_events WHERE request_id IS NOT NULL GROUP BY request_id");
        ResultSet rs = st.executeQuery()) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getLong(2));
      }
    }
    return counts;
  }

  static void await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() < deadline).as("condition within %s", timeout).isTrue();
      Thread.sleep(50);
    }
  }
}
