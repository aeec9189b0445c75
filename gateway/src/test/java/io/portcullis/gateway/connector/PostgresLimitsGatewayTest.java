package io.portcullis.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.admin.AdminServer;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.Budget;
import io.portcullis.policy.model.BudgetPeriod;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.policy.model.Quota;
import io.portcullis.testsupport.PostgresExtension;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What keeps a read from hurting the database or hanging its client (issue #5): the cost guard (planner estimate
 * against the dataset's and the tier's limit, and against the budget), the per-dataset statement timeout (the slow
 * query is cancelled in PostgreSQL, not just abandoned), a client that hangs up mid-stream (its query is cancelled
 * too), an exhausted source pool and a source that is down. Datasets
 * over a slow view and a 200k-row table are added to the demo config through the admin API, as an admin would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PostgresLimitsGatewayTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final int CLOSED_PORT = closedPort();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    DataApiClient.properties(registry, PG);
    // one connection, and a short wait for it: the pool-exhaustion scenario
    registry.add("portcullis.data.sources.tiny.url", PG::r2dbcUrl);
    registry.add("portcullis.data.sources.tiny.pool-size", () -> "1");
    registry.add("portcullis.data.sources.tiny.acquire-timeout", () -> "500ms");
    registry.add("portcullis.data.sources.down.url",
        () -> "r2dbc:postgresql://postgres:postgres@127.0.0.1:" + CLOSED_PORT + "/postgres");
    // tier 0 (the sandbox app) may not run anything the planner prices above 1 unit
    registry.add("portcullis.data.tiers[0].max-query-cost", () -> "1");
    // and tier 1 none: perf.drip's function is priced absurdly high on purpose (so the planner walks the index)
    registry.add("portcullis.data.tiers[1].max-query-cost", () -> "0");
  }

  /** Tier 1; given a daily budget below, far above what the other scenarios spend. */
  static final String OPS = "team-inventory";
  static final long OPS_BUDGET = 2_000;
  static final JsonMapper JSON = JsonMapper.builder().build();

  static boolean imported;

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  DataApiClient api;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void datasets() throws Exception {
    api = new DataApiClient(port, PG);
    if (imported) {
      return;
    }
    PG.execute(
        "CREATE SCHEMA perf",
        "CREATE TABLE perf.big AS SELECT g::bigint AS id, 'name ' || (g * 7919 % 200000) AS name,"
            + " 'user' || g || '@corp.example' AS email FROM generate_series(1, 200000) g",
        "ALTER TABLE perf.big ADD PRIMARY KEY (id)",
        "ANALYZE perf.big",
        // five rows, one second each, all produced before the first is returned
        """
        CREATE FUNCTION perf.slow_rows() RETURNS TABLE (id bigint, name text, email text) LANGUAGE plpgsql AS $$
        BEGIN
          FOR i IN 1..5 LOOP
            PERFORM pg_sleep(1);
            id := i; name := 'slow ' || i; email := 'slow' || i || '@corp.example';
            RETURN NEXT;
          END LOOP;
        END $$""",
        "CREATE VIEW perf.slow AS SELECT * FROM perf.slow_rows()",
        // a row every 10 ms for half an hour, in key order straight from the index: only a cancel ends it (a filter
        // the planner prices high, so it walks the index for the page instead of sorting the whole table first)
        "CREATE FUNCTION perf.nap(bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE COST 100000"
            + " AS $$ BEGIN PERFORM pg_sleep(0.01); RETURN true; END $$",
        "CREATE VIEW perf.drip AS SELECT id, name, email FROM perf.big WHERE perf.nap(id)",
        "CREATE TABLE perf.notes (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, body text NOT NULL)",
        "INSERT INTO perf.notes (body) VALUES ('before')");
    WebTestClient adminClient = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port())
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + GatewayTestSupport.token(api.raw(), PG, "portcullis-admin"))
        .responseTimeout(Duration.ofSeconds(30))
        .build();
    String yaml = adminClient.get().uri("/admin/config").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    PolicyConfig demo = PolicyConfigLoader.parse(yaml, "demo.yaml");
    PolicyConfig perf = PolicyConfigLoader.parse(PERF_YAML, "perf.yaml");
    List<App> apps = new ArrayList<>();
    for (App a : demo.apps()) {
      apps.add(!a.id().equals(OPS) ? a : new App(a.id(), a.name(), a.owner(), a.team(), a.costCenter(), a.tier(),
          a.status(), a.reviewDue(), a.client(), a.consents(),
          new Quota(1000, 1000, 16, new Budget(BudgetPeriod.DAY, OPS_BUDGET, 100, "UTC")), a.attrs()));
    }
    PolicyConfig merged = new PolicyConfig(demo.settings(), apps, concat(demo.datasets(), perf.datasets()),
        concat(demo.grants(), perf.grants()), demo.policies(), demo.routes());
    adminClient.put().uri("/admin/config?reason=perf-datasets").contentType(MediaType.parseMediaType("application/yaml"))
        .bodyValue(PolicyConfigWriter.toYaml(merged)).exchange().expectStatus().isOk();
    // the swap reaches the gateway asynchronously; tokens carry the scopes granted when they are issued
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int status = 0;
    while (System.nanoTime() < deadline && status != 200) {
      api = new DataApiClient(port, PG);
      status = api.call(OPS, HttpMethod.GET, "/data/perf.big?limit=1", null).getStatus().value();
    }
    assertThat(status).as("the imported datasets serve within 10 s").isEqualTo(200);
    imported = true;
  }

  static final String COLUMNS = """
          columns:
            - {name: id, type: bigint}
            - {name: name, type: text}
            - {name: email, type: text}
      """;

  static final String PERF_YAML = """
      datasets:
        - name: perf.big
          source: {type: postgres, schema: perf, table: big, key: id}
          max_limit: 1000
          max_cost: 5000
      %1$s
        - name: perf.export
          source: {type: postgres, schema: perf, table: big, key: id}
          max_limit: 1000000
      %1$s
        - name: perf.slow
          source: {type: postgres, schema: perf, table: slow, key: id}
          statement_timeout: 500ms
      %1$s
        - name: perf.drip
          source: {type: postgres, schema: perf, table: drip, key: id}
          max_limit: 100000
      %1$s
        - name: perf.tiny
          source: {type: postgres, schema: perf, table: slow, key: id, connection: tiny}
          statement_timeout: 20s
      %1$s
        - name: perf.down
          source: {type: postgres, schema: perf, table: big, key: id, connection: down}
      %1$s
        - name: perf.notes
          source: {type: postgres, schema: perf, table: notes, key: id}
          statement_timeout: 500ms
          columns:
            - {name: id, type: bigint}
            - {name: body, type: text}
      grants:
        - {app: team-inventory, dataset: perf.big, actions: [read], columns: {masks: {email: email_domain}}}
        - {app: team-inventory, dataset: perf.export, actions: [read]}
        - {app: team-inventory, dataset: perf.slow, actions: [read]}
        - {app: team-inventory, dataset: perf.drip, actions: [read]}
        - {app: team-inventory, dataset: perf.tiny, actions: [read]}
        - {app: team-inventory, dataset: perf.down, actions: [read]}
        - {app: team-inventory, dataset: perf.notes, actions: [read, create, update, delete]}
      """.formatted(COLUMNS.stripTrailing());

  @Test
  void aReadThePlannerPricesAboveTheDatasetLimitIsRefusedBeforeItRuns() {
    // the key order walks the primary key index and stops after the page: cheap
    EntityExchangeResult<String> cheap = api.call(OPS, HttpMethod.GET, "/data/perf.big?limit=1000", null);
    assertThat(cheap.getStatus().value()).isEqualTo(200);
    assertThat(JSON.readTree(cheap.getResponseBody())).hasSize(1000);

    // ordering 200k rows by an unindexed column sorts the whole table: far above max_cost 5000
    EntityExchangeResult<String> sorted = api.call(OPS, HttpMethod.GET, "/data/perf.big?order=name.desc&limit=10", null);
    assertThat(sorted.getStatus().value()).isEqualTo(422);
    JsonNode problem = JSON.readTree(sorted.getResponseBody());
    assertThat(problem.path("code").asString()).isEqualTo("query_too_expensive");
    assertThat(problem.path("detail").asString()).contains("perf.big").doesNotContainIgnoringCase("select");

    // the same shape with other values is priced the same (the estimate is per shape, never per value)
    EntityExchangeResult<String> sortedFiltered =
        api.call(OPS, HttpMethod.GET, "/data/perf.big?order=name.desc&limit=10&name=eq.nothing", null);
    assertThat(sortedFiltered.getStatus().value()).isIn(200, 422);
    EntityExchangeResult<String> again = api.call(OPS, HttpMethod.GET, "/data/perf.big?order=name.desc&limit=10", null);
    assertThat(again.getStatus().value()).isEqualTo(422);
  }

  @Test
  void theTierLimitAppliesToEveryDatasetOfTheTier() {
    // survey-sandbox is tier 0, limited to cost 1 in this gateway: even its small demo table is above that
    EntityExchangeResult<String> r = api.call("survey-sandbox", HttpMethod.GET, "/data/forms.submissions", null);
    assertThat(r.getStatus().value()).isEqualTo(422);
    assertThat(JSON.readTree(r.getResponseBody()).path("code").asString()).isEqualTo("query_too_expensive");
  }

  @Test
  void aReadWhoseEstimateWouldOverrunTheBudgetIsRefusedAndNothingIsSpentOnIt() {
    // 200,000 rows: 2,000 units for the rows alone, before their bytes — over the whole budget of 2,000
    EntityExchangeResult<String> big = once(OPS, "/data/perf.export?limit=200000");
    assertThat(big.getStatus().value()).isEqualTo(429);
    assertThat(JSON.readTree(big.getResponseBody()).path("code").asString()).isEqualTo("budget_exhausted");
    assertThat(big.getResponseHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isNotBlank();

    // the refusal cost next to nothing: a small read right after is admitted
    EntityExchangeResult<String> small = api.call(OPS, HttpMethod.GET, "/data/perf.export?limit=10", null);
    assertThat(small.getStatus().value()).isEqualTo(200);
    assertThat(JSON.readTree(small.getResponseBody())).hasSize(10);
  }

  @Test
  void aReadSlowerThanTheDatasetTimeoutAnswers504AndIsCancelledInPostgres() throws Exception {
    long start = System.nanoTime();
    EntityExchangeResult<String> r = api.call(OPS, HttpMethod.GET, "/data/perf.slow", null);
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(r.getStatus().value()).isEqualTo(504);
    JsonNode problem = JSON.readTree(r.getResponseBody());
    assertThat(problem.path("code").asString()).isEqualTo("upstream_unavailable");
    assertThat(elapsedMs).as("answered at the 500 ms timeout, not after the 5 s query").isLessThan(4_000);
    awaitNoBackend("perf\".\"slow", Duration.ofSeconds(2));
  }

  @Test
  void aClientThatHangsUpMidStreamCancelsTheQuery() throws Exception {
    try (java.net.Socket socket = new java.net.Socket("localhost", port)) {
      socket.setSoTimeout(10_000);
      java.io.OutputStream out = socket.getOutputStream();
      out.write(("GET /data/perf.drip?limit=5000 HTTP/1.1\r\nHost: localhost\r\nAccept: application/x-ndjson\r\n"
          + "Authorization: Bearer " + api.token(OPS) + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.flush();
      java.io.BufferedReader in = new java.io.BufferedReader(
          new java.io.InputStreamReader(socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      assertThat(in.readLine()).startsWith("HTTP/1.1 200");
      int rows = 0;
      for (String line = in.readLine(); line != null && rows < 20; line = in.readLine()) {
        if (line.startsWith("{\"id\"")) {
          rows++;
        }
      }
      assertThat(rows).as("rows stream before the client hangs up").isEqualTo(20);
      assertThat(backends("perf\".\"drip")).as("the query runs while the client reads").isPositive();
    }
    awaitNoBackend("perf\".\"drip", Duration.ofSeconds(3));
  }

  @Test
  void aClientThatStopsReadingAndHangsUpIsAuditedCancelledWithTheRowsProduced() throws Exception {
    int limit = 100_000; // ~6 MB of NDJSON: more than the socket buffers between us hold, so the gateway's send blocks
    String requestId;
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.setReceiveBufferSize(4096); // before connecting: a fixed small window, no autotuning
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /data/perf.export?limit=" + limit + " HTTP/1.1\r\nHost: localhost\r\n"
          + "Accept: application/x-ndjson\r\nAuthorization: Bearer " + api.token(OPS) + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      byte[] head = new byte[2048];
      int n = socket.getInputStream().read(head);
      String start = new String(head, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(start).startsWith("HTTP/1.1 200");
      java.util.regex.Matcher id = java.util.regex.Pattern.compile("(?i)portcullis-request-id: *([0-9a-f]+)")
          .matcher(start);
      assertThat(id.find()).as(start).isTrue();
      requestId = id.group(1);
      Thread.sleep(1_500); // reads nothing more: the gateway fills the buffers and waits on a blocked send
      socket.setSoLinger(true, 0); // then goes away mid-answer, as a killed client does
    }

    String event = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (event == null && System.nanoTime() < deadline) {
      event = api.text("SELECT outcome || ' ' || status || ' ' || coalesce(error_code, '-') || ' ' || \"rows\""
          + " FROM portcullis.audit_events WHERE request_id = '" + requestId + "'");
      if (event == null) {
        Thread.sleep(50);
      }
    }
    assertThat(event).as("the request's one event").isNotNull();
    assertThat(api.count("SELECT count(*) FROM portcullis.audit_events WHERE request_id = '" + requestId + "'"))
        .isEqualTo(1);
    String[] f = event.split(" ");
    // premise: the answer did not fit in the buffers (had it, the client was handed all of it, and it was served)
    assertThat(Long.parseLong(f[3])).as("rows produced before the hang-up: " + event).isPositive().isLessThan(limit);
    // a hang-up, not an answer delivered (`allowed`) and not a failure of ours or of the database
    assertThat(f[0] + " " + f[1] + " " + f[2]).isEqualTo("cancelled 200 -");
    awaitNoBackend("perf\".\"big", Duration.ofSeconds(3));
  }

  @Test
  void aWriteBlockedByAnotherTransactionAnswers504AtTheDatasetTimeoutAndWritesNothing() throws Exception {
    long id = api.count("SELECT min(id) FROM perf.notes");
    // another transaction holds the row (an UPDATE would have to wait for it), then the whole table against inserts
    try (java.sql.Connection other = PG.connect()) {
      other.setAutoCommit(false);
      other.createStatement().execute("SELECT * FROM perf.notes WHERE id = " + id + " FOR UPDATE");
      long start = System.nanoTime();
      EntityExchangeResult<String> patch = api.call(OPS, HttpMethod.PATCH, "/data/perf.notes/" + id, "{\"body\":\"after\"}");
      long patchMs = (System.nanoTime() - start) / 1_000_000;
      assertThat(patch.getStatus().value()).as(patch.getResponseBody()).isEqualTo(504);
      assertThat(JSON.readTree(patch.getResponseBody()).path("code").asString()).isEqualTo("upstream_unavailable");
      assertThat(patch.getResponseHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isNotBlank();
      assertThat(patchMs).as("answered at the 500 ms statement timeout, not when the lock is released").isLessThan(4_000);

      other.createStatement().execute("LOCK TABLE perf.notes IN SHARE MODE");
      EntityExchangeResult<String> post = api.call(OPS, HttpMethod.POST, "/data/perf.notes", "{\"body\":\"new\"}");
      assertThat(post.getStatus().value()).as(post.getResponseBody()).isEqualTo(504);
      assertThat(post.getResponseBody()).doesNotContainIgnoringCase("insert into").doesNotContain("57014");
      // the gateway gave up in the server, not only in itself: nothing of its is still waiting for the lock
      awaitNoBackend("perf\".\"notes", Duration.ofSeconds(2));
      other.rollback();
    }
    assertThat(api.text("SELECT body FROM perf.notes WHERE id = " + id)).as("the timed-out update").isEqualTo("before");
    assertThat(api.count("SELECT count(*) FROM perf.notes WHERE body IN ('after', 'new')")).as("half-written rows")
        .isZero();

    // once the lock is gone the same writes go through on the same pool
    assertThat(api.call(OPS, HttpMethod.PATCH, "/data/perf.notes/" + id, "{\"body\":\"after\"}").getStatus().value())
        .isEqualTo(200);
    assertThat(api.call(OPS, HttpMethod.POST, "/data/perf.notes", "{\"body\":\"new\"}").getStatus().value())
        .isEqualTo(201);
  }

  @Test
  void anExhaustedSourcePoolAnswersUpstreamUnavailableQuickly() throws Exception {
    // the first read holds the pool's only connection for ~5 s
    CompletableFuture<HttpResponse<String>> holder = http.sendAsync(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/data/perf.tiny"))
            .header(HttpHeaders.AUTHORIZATION, "Bearer " + api.token(OPS)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (backends("perf\".\"slow") == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(backends("perf\".\"slow")).as("the first read is running").isPositive();

    long start = System.nanoTime();
    EntityExchangeResult<String> second = api.call(OPS, HttpMethod.GET, "/data/perf.tiny", null);
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(second.getStatus().value()).isEqualTo(503);
    assertThat(JSON.readTree(second.getResponseBody()).path("code").asString()).isEqualTo("upstream_unavailable");
    assertThat(second.getResponseHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isNotBlank();
    assertThat(elapsedMs).as("refused after the 500 ms acquire timeout, not after the first read").isLessThan(3_000);
    assertThat(holder.get().statusCode()).as("the first read still completes").isEqualTo(200);
  }

  @Test
  void aSourceThatIsDownAnswersUpstreamUnavailableQuickly() {
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      EntityExchangeResult<String> r = api.call(OPS, HttpMethod.GET, "/data/perf.down", null);
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;

      assertThat(r.getStatus().value()).isEqualTo(503);
      JsonNode problem = JSON.readTree(r.getResponseBody());
      assertThat(problem.path("code").asString()).isEqualTo("upstream_unavailable");
      assertThat(r.getResponseBody()).doesNotContain(Integer.toString(CLOSED_PORT)).doesNotContainIgnoringCase("r2dbc");
      assertThat(elapsedMs).isLessThan(5_000);
    }
    // the gateway's own database and its other sources are unaffected
    assertThat(api.call(OPS, HttpMethod.GET, "/data/perf.big?limit=1", null).getStatus().value()).isEqualTo(200);
  }

  /** One request, answered as it is (the shared client retries 429s, which here are the answer under test). */
  private EntityExchangeResult<String> once(String app, String path) {
    return api.raw().get().uri(path).header(HttpHeaders.AUTHORIZATION, "Bearer " + api.token(app)).exchange()
        .expectBody(String.class).returnResult();
  }

  private long backends(String tableText) {
    return api.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
        + " AND query LIKE '%" + tableText.replace("'", "''") + "%' AND query NOT LIKE '%pg_stat_activity%'");
  }

  private void awaitNoBackend(String tableText, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    long running = backends(tableText);
    while (running > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
      running = backends(tableText);
    }
    assertThat(running).as("backends still running a query on " + tableText + " after " + within).isZero();
  }

  static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static int closedPort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
