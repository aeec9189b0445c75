package io.portcullis.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.broker.SecretHasher;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.PortcullisApplication;
import io.portcullis.testsupport.PostgresExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A replica being stopped (a rolling deploy, a scale-down) finishes the requests it already accepted, answers them in
 * full, and makes their audit events durable, under a final signed checkpoint, before the process goes away.
 */
class GracefulShutdownTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final String SECRET = "graceful-test-secret";
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void aStoppingReplicaAnswersItsInFlightRequestAndFlushesItsAuditEvent() throws Exception {
    // a read that takes two seconds in PostgreSQL, so shutdown starts while it is in flight
    PG.execute("CREATE VIEW public.slow_rows AS SELECT g::bigint AS id, 'row ' || g AS payload"
        + " FROM generate_series(1, 3) g CROSS JOIN LATERAL (SELECT pg_sleep(2)) s");
    Path config = Files.createTempFile("portcullis-graceful", ".yaml");
    Files.writeString(config, """
        apps:
          - {id: report-app, tier: 1, client: {secret_hash: "%s"}}
        datasets:
          - name: reports.slow
            template: custom
            tags: [synthetic]
            source: {type: postgres, schema: public, table: slow_rows, key: id}
            columns:
              - {name: id, type: bigint}
              - {name: payload, type: text}
        grants:
          - {id: report-app-slow, app: report-app, dataset: reports.slow, actions: [read]}
        """.formatted(SecretHasher.hash(SECRET.toCharArray())));
    ConfigurableApplicationContext gateway = new SpringApplicationBuilder(PortcullisApplication.class).run(
        "--server.port=0", "--portcullis.admin.port=0", "--portcullis.database.url=" + PG.r2dbcUrl(),
        "--portcullis.demo.enabled=false", "--portcullis.policy.config-file=" + config,
        "--portcullis.audit.spill-dir=" + GatewayTestSupport.tempDir("graceful-spill"),
        "--portcullis.broker.key-encryption-key=" + Base64.getEncoder().encodeToString(randomKey()),
        "--management.metrics.use-global-registry=false");
    String base = "http://127.0.0.1:" + ((WebServerApplicationContext) gateway).getWebServer().getPort();

    HttpResponse<String> tokenResponse = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/oauth2/token"))
        .header("Authorization", "Basic " + Base64.getEncoder()
            .encodeToString(("report-app:" + SECRET).getBytes(StandardCharsets.UTF_8)))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(tokenResponse.statusCode()).as(tokenResponse.body()).isEqualTo(200);
    String token = tokenResponse.body().replaceAll(".*\"access_token\":\"([^\"]+)\".*", "$1");

    CompletableFuture<HttpResponse<String>> inFlight = HTTP.sendAsync(
        HttpRequest.newBuilder(URI.create(base + "/data/reports.slow?order=id.asc"))
            .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    awaitSlowQueryRunning();

    CompletableFuture<Void> stopped = CompletableFuture.runAsync(gateway::close);

    HttpResponse<String> response = inFlight.get(30, TimeUnit.SECONDS);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).contains("\"row 1\"", "\"row 2\"", "\"row 3\"");
    stopped.get(60, TimeUnit.SECONDS);
    assertThat(gateway.isActive()).isFalse();

    // the event is in the table once the replica has stopped: nothing left in memory to lose
    String requestId = response.headers().firstValue("Portcullis-Request-Id").orElseThrow();
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT outcome, status, \"rows\" FROM portcullis.audit_events WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).as("audit event of the in-flight request").isTrue();
        assertThat(rs.getString("outcome")).isEqualTo("allowed");
        assertThat(rs.getInt("status")).isEqualTo(200);
        assertThat(rs.getLong("rows")).isEqualTo(3);
        assertThat(rs.next()).as("exactly one event").isFalse();
      }
    }
    // and the chain ends in a checkpoint signed on the way down: no unvouched tail left for anyone to delete
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT (SELECT max(seq) FROM portcullis.audit_events), (SELECT max(seq) FROM portcullis.audit_checkpoints)");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      assertThat(rs.getLong(2)).as("last checkpoint seq").isEqualTo(rs.getLong(1)).isPositive();
    }
  }

  static byte[] randomKey() {
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    return key;
  }

  static void awaitSlowQueryRunning() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Connection c = PG.connect(); ResultSet rs = c.createStatement().executeQuery(
          "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%slow_rows%'"
              + " AND pid <> pg_backend_pid()")) {
        rs.next();
        if (rs.getLong(1) > 0) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the slow read never reached PostgreSQL");
  }
}
