package io.portcullis.gateway.connector.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.admin.AdminServer;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.testsupport.PostgresExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Pooled keep-alive connections to HTTP upstreams (issue 9: an upstream closing them as they were reused aborted reads
 * and opened the route's breaker against a healthy upstream under load), through a full demo gateway with the shipped
 * pool settings:
 * <ul>
 *   <li>an upstream that keeps idle connections open for a minute sees the gateway close them itself within seconds
 *       (max idle time below common 5 s keep-alive timeouts, background eviction);</li>
 *   <li>an upstream that closes them sooner than that (here after 300 ms), read in bursts spaced around its timeout,
 *       should still answer every read with the governed rows, and the breaker stay closed (disabled: fails now and
 *       then under load, see the test).</li>
 * </ul>
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class StaleUpstreamConnectionTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final Duration UPSTREAM_IDLE = Duration.ofMillis(300);
  static final AtomicInteger CONNECTIONS = new AtomicInteger();
  static final String BODY = """
      {"data": [
        {"id": 1, "name": "Ann", "email": "ann@corp.example", "region": "eu", "ssn": "123-45-6789"},
        {"id": 2, "name": "Bob", "email": "bob@us.example", "region": "us", "ssn": "987-65-4321"}]}
      """;

  static final DisposableServer UPSTREAM = upstream(UPSTREAM_IDLE, CONNECTIONS, new AtomicInteger());

  /** An upstream that would keep an idle connection for a minute, and how many connections to it are open. */
  static final AtomicInteger PATIENT_OPEN = new AtomicInteger();
  static final DisposableServer PATIENT = upstream(Duration.ofMinutes(1), new AtomicInteger(), PATIENT_OPEN);

  /** Closes a keep-alive connection that waited {@code idle} for its next request, like an upstream's keep-alive. */
  static DisposableServer upstream(Duration idle, AtomicInteger opened, AtomicInteger open) {
    return HttpServer.create().host("127.0.0.1").port(0)
        .idleTimeout(idle)
        .doOnChannelInit((observer, channel, address) -> {
          opened.incrementAndGet();
          open.incrementAndGet();
          channel.closeFuture().addListener(f -> open.decrementAndGet());
        })
        .route(routes -> routes.get("/api/contacts", (req, res) ->
            res.header(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_JSON_VALUE).sendString(Mono.just(BODY))))
        .bindNow();
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    // a breaker as quick to open as HttpUpstreamGatewayTest's: a few counted aborts would show
    registry.add("portcullis.http-upstream.window", () -> "4");
    registry.add("portcullis.http-upstream.minimum-calls", () -> "4");
    registry.add("portcullis.http-upstream.refresh-interval", () -> "200ms");
  }

  @AfterAll
  static void stopUpstreams() {
    UPSTREAM.disposeNow();
    PATIENT.disposeNow();
  }

  static final String APP = "team-inventory"; // tier 1, attrs.region = eu

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  final HttpClient http = HttpClient.newHttpClient();

  WebTestClient data() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  static final String ROWS =
      "{\"data\":[{\"id\":1,\"name\":\"Ann\",\"email\":\"****@corp.example\",\"region\":\"eu\"}]}";

  static String token;

  @BeforeEach
  void importRoutesOnce() throws Exception {
    if (token == null) {
      token = importRoutes();
    }
  }

  @Test
  void theGatewayClosesIdleUpstreamConnectionsBeforeACommonKeepAliveTimeoutWould() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      burst.add(http.sendAsync(read("/crm-patient/contacts"), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : burst) {
      assertThat(f.get().statusCode()).isEqualTo(200);
      assertThat(f.get().body()).isEqualTo(ROWS);
    }
    assertThat(PATIENT_OPEN.get()).as("pooled connections to the upstream after the reads").isPositive();

    // the upstream would keep them a minute, and so would Spring Cloud Gateway's default pool (no idle limit: this
    // test fails with max-idle-time=1h). The shipped pool drops them after 4 s idle, checked every 2 s: well within
    // 20 s even on a slow machine
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (PATIENT_OPEN.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(PATIENT_OPEN.get()).as("connections the gateway left open to an idle upstream").isZero();
  }

  @Test
  @Disabled("known defect, load-tests/RESULTS.md 'HTTP upstream: pooled connections…': on a loaded machine a read "
      + "whose pooled connection the upstream closes before answering can still end as 503 'the upstream body ended "
      + "before its JSON did' (an empty 2xx body after Reactor Netty's own retry); passes on a quiet one")
  void readsSpacedAroundTheUpstreamsKeepAliveTimeoutAllAnswerRows() throws Exception {
    int before = CONNECTIONS.get();
    List<HttpResponse<String>> answers = new ArrayList<>();
    // pauses from 240 to 360 ms around the upstream's 300 ms: some reuse a live connection, some one the upstream is
    // closing right then, some one it closed already. A guard more than a reproduction: at this scale Reactor Netty's
    // own single retry covers the stale connections (it also passed with GovernedUpstreamFilter's retry removed);
    // load-tests/keepalive-race.sh shows them under bursts of 32
    for (int pause = 240; pause <= 360; pause += 10) {
      Thread.sleep(pause);
      List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        burst.add(http.sendAsync(read("/crm/contacts"), HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> f : burst) {
        answers.add(f.get());
      }
    }

    assertThat(answers).allSatisfy(r -> {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(ROWS);
    });
    // the upstream did close the gateway's connections between bursts: the pool had to open new ones
    assertThat(CONNECTIONS.get() - before).isGreaterThan(answers.size() / 8);
  }

  HttpRequest read(String path) {
    return HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).timeout(Duration.ofSeconds(30)).build();
  }

  /** The routes and their datasets, added to the demo config through the admin API; a token once they serve. */
  String importRoutes() throws Exception {
    WebTestClient admin = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.admin.port())
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + GatewayTestSupport.token(data(), PG, "portcullis-admin"))
        .build();
    String yaml = admin.get().uri("/admin/config").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    PolicyConfig demo = PolicyConfigLoader.parse(yaml, "demo.yaml");
    StringBuilder y = new StringBuilder();
    String[][] routes = {{"crm", "crm.contacts", String.valueOf(UPSTREAM.port())},
        {"crm-patient", "crm.patient", String.valueOf(PATIENT.port())}};
    y.append("datasets:\n");
    for (String[] r : routes) {
      y.append("""
            - name: %s
              source: {type: http, route: %s, rows_pointer: "/data"}
              columns:
                - {name: id, type: integer}
                - {name: name, type: text}
                - {name: email, type: text}
                - {name: region, type: text}
                - {name: ssn, type: text}
          """.formatted(r[1], r[0]));
    }
    y.append("grants:\n");
    for (String[] r : routes) {
      y.append("""
            - app: %s
              dataset: %s
              actions: [read]
              row_filter: "row.region == token.attrs.region"
              columns: {deny: [ssn], masks: {email: email_domain}}
          """.formatted(APP, r[1]));
    }
    y.append("routes:\n");
    for (String[] r : routes) {
      y.append("  - {id: %s, path_prefix: /%s, uri: \"http://127.0.0.1:%s/api\", timeout: 5s}\n"
          .formatted(r[0], r[0], r[2]));
    }
    PolicyConfig crm = PolicyConfigLoader.parse(y.toString(), "crm.yaml");
    PolicyConfig merged = new PolicyConfig(demo.settings(), demo.apps(),
        HttpUpstreamGatewayTest.concat(demo.datasets(), crm.datasets()),
        HttpUpstreamGatewayTest.concat(demo.grants(), crm.grants()), demo.policies(),
        HttpUpstreamGatewayTest.concat(demo.routes(), crm.routes()));
    admin.put().uri("/admin/config?reason=stale-connections").contentType(MediaType.parseMediaType("application/yaml"))
        .bodyValue(PolicyConfigWriter.toYaml(merged)).exchange().expectStatus().isOk();

    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      String token = GatewayTestSupport.token(data(), PG, APP); // scopes are granted at issue time
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port
          + "/crm/contacts")).header(HttpHeaders.AUTHORIZATION, "Bearer " + token).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        return token;
      }
      assertThat(System.nanoTime()).as("the imported route serves within 10 s").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
