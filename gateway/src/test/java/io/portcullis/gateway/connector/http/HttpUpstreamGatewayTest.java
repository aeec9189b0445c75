package io.portcullis.gateway.connector.http;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.admin.AdminServer;
import io.portcullis.policy.config.PolicyConfigLoader;
import io.portcullis.policy.config.PolicyConfigWriter;
import io.portcullis.policy.model.PolicyConfig;
import io.portcullis.testsupport.PostgresExtension;
import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
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
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.json.JsonMapper;

/**
 * A third-party JSON API (WireMock) behind admin-configured upstream routes of a full demo gateway: the routes come
 * from a config imported through the admin API, requests are governed like {@code /data}, rows are filtered and
 * masked as they stream, and the upstream's failures, slowness and garbage become problems, never leaks.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class HttpUpstreamGatewayTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  static final WireMockServer UPSTREAM = new WireMockServer(WireMockConfiguration.options().dynamicPort());

  /**
   * An upstream WireMock cannot play: it sends its status line, headers and the first rows at once, then nothing
   * more while keeping the connection open — a third-party API whose database stalled mid-export.
   */
  static final ServerSocket STALLER = staller();

  static {
    UPSTREAM.start();
  }

  private static ServerSocket staller() {
    try {
      ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            java.net.Socket s = server.accept();
            Thread t = new Thread(() -> stall(s), "stalling-upstream-connection");
            t.setDaemon(true);
            t.start();
          } catch (IOException closed) {
            return;
          }
        }
      }, "stalling-upstream");
      acceptor.setDaemon(true);
      acceptor.start();
      return server;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void stall(java.net.Socket socket) {
    try (socket) {
      java.io.BufferedReader in = new java.io.BufferedReader(
          new java.io.InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine()) {
        // the request head: read and ignored
      }
      StringBuilder rows = new StringBuilder("{\"data\": [");
      for (int i = 0; i < 500; i++) {
        rows.append(i == 0 ? "" : ",").append("{\"id\": ").append(i).append(", \"region\": \"eu\"}");
      }
      byte[] chunk = rows.toString().getBytes(StandardCharsets.UTF_8);
      java.io.OutputStream out = socket.getOutputStream();
      out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
          + Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.write(chunk);
      out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      Thread.sleep(30_000); // then silence, the connection open
    } catch (IOException | InterruptedException e) {
      // the gateway gave up on us: what the test wants
    }
  }

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    registry.add("portcullis.http-upstream.window", () -> "4");
    registry.add("portcullis.http-upstream.minimum-calls", () -> "4");
    registry.add("portcullis.http-upstream.open-for", () -> "30s");
    registry.add("portcullis.http-upstream.retry-backoff", () -> "10ms");
    registry.add("portcullis.http-upstream.refresh-interval", () -> "200ms");
  }

  @AfterAll
  static void stopUpstream() throws IOException {
    UPSTREAM.stop();
    STALLER.close();
  }

  static final String APP = "team-inventory"; // tier 1, attrs.region = eu
  static boolean imported;
  static String token;

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  final HttpClient http = HttpClient.newHttpClient();

  WebTestClient data() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  /*
   * Each failure scenario has its own route: breakers are per route, and a scenario must not open another's.
   */

  /** The CRM routes and datasets, added to the demo config through the admin API (as an admin would). */
  @BeforeEach
  void importCrmRoutes() throws Exception {
    if (imported) {
      return;
    }
    String demoToken = GatewayTestSupport.token(data(), PG, APP);
    data().get().uri("/crm/contacts").header(HttpHeaders.AUTHORIZATION, "Bearer " + demoToken).exchange()
        .expectStatus().isNotFound(); // no route before the import

    WebTestClient admin = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.admin.port())
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + GatewayTestSupport.token(data(), PG, "portcullis-admin"))
        .build();
    String yaml = admin.get().uri("/admin/config").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    PolicyConfig demo = PolicyConfigLoader.parse(yaml, "demo.yaml");
    PolicyConfig crm = PolicyConfigLoader.parse(crmYaml("http://localhost:" + UPSTREAM.port()), "crm.yaml");
    PolicyConfig merged = new PolicyConfig(demo.settings(), demo.apps(), concat(demo.datasets(), crm.datasets()),
        concat(demo.grants(), crm.grants()), demo.policies(), concat(demo.routes(), crm.routes()));
    admin.put().uri("/admin/config?reason=crm-upstream").contentType(MediaType.parseMediaType("application/yaml"))
        .bodyValue(PolicyConfigWriter.toYaml(merged)).exchange().expectStatus().isOk();

    UPSTREAM.stubFor(get(urlPathEqualTo("/api/ping")).willReturn(okJson("{\"data\": []}")));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    int status = 0;
    while (System.nanoTime() < deadline) {
      token = GatewayTestSupport.token(data(), PG, APP); // scopes are granted at issue time
      status = send("/crm/ping", token).statusCode();
      if (status == 200) {
        break;
      }
      Thread.sleep(100);
    }
    assertThat(status).as("the imported route serves within 10 s").isEqualTo(200);
    imported = true;
  }

  static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  static String crmYaml(String upstream) {
    StringBuilder y = new StringBuilder("datasets:\n");
    String[][] routes = {
        {"crm.contacts", "crm", "/crm", "/api", "/data", "2s"},
        {"crm.slow", "crm-slow", "/crm-slow", "/slow", "/data", "500ms"},
        {"crm.flaky", "crm-flaky", "/crm-flaky", "/flaky", "/data", "2s"},
        {"crm.junk", "crm-junk", "/crm-junk", "/junk", "/data", "2s"},
        {"crm.bulk", "crm-bulk", "/crm-bulk", "/bulk", "", "60s"},
        {"crm.pushed", "crm-pushed", "/crm-pushed", "/pushed", "/data", "2s"},
        {"crm.stall", "crm-stall", "/crm-stall", "/stall", "/data", "500ms"}};
    for (String[] r : routes) {
      y.append("""
            - name: %s
              source: {type: http, route: %s, rows_pointer: "%s"}
              columns:
                - {name: id, type: integer}
                - {name: name, type: text}
                - {name: email, type: text}
                - {name: phone, type: text}
                - {name: region, type: text}
                - {name: ssn, type: text}
          """.formatted(r[0], r[1], r[4]));
    }
    y.append("grants:\n");
    for (String[] r : routes) {
      y.append("""
            - app: %s
              dataset: %s
              actions: [read]
              row_filter: "row.region == token.attrs.region"
              columns: {deny: [ssn], masks: {email: email_domain, phone: last4}}
          """.formatted(APP, r[0]));
    }
    y.append("routes:\n");
    for (String[] r : routes) {
      // crm-pushed asks the upstream to pre-filter by the row filter's region
      String params = r[1].equals("crm-pushed") ? ", filter_params: {region: region}" : "";
      y.append("  - {id: %s, path_prefix: %s, uri: \"%s%s\", timeout: %s%s}\n"
          .formatted(r[1], r[2], r[1].equals("crm-stall") ? "http://127.0.0.1:" + STALLER.getLocalPort() : upstream,
              r[3], r[5], params));
    }
    return y.toString();
  }

  HttpResponse<String> send(String path, String bearer) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
        .timeout(Duration.ofSeconds(30));
    if (bearer != null) {
      b.header(HttpHeaders.AUTHORIZATION, "Bearer " + bearer);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String requestId(HttpResponse<?> response) {
    return response.headers().firstValue("Portcullis-Request-Id").orElseThrow();
  }

  static final String CRM_BODY = """
      {"meta": {"page": 1, "total": 4},
       "data": [
         {"id": 1, "name": "Ann", "email": "ann@corp.example", "phone": "+44 20 7946 0001", "region": "eu",
          "ssn": "123-45-6789", "internal_notes": "SECRET-NOTE"},
         {"id": 2, "name": "Bob", "email": "bob@us.example", "phone": "555-0100", "region": "us", "ssn": "987-65-4321"},
         {"id": 3, "name": "Cat", "email": "cat@corp.example", "region": null},
         {"id": 4, "name": "Dan", "email": "dan@eu.example", "phone": "+33 1 23 45 67 89", "region": "eu"}
       ],
       "next": "cursor-2"}
      """;

  @Test
  void rowsOutsideTheFilterNeverAppearMasksApplyAndHiddenFieldsAreDropped() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/contacts")).willReturn(okJson(CRM_BODY)
        .withHeader("X-Upstream-Internal", "db-7.internal").withHeader("Set-Cookie", "upstream=1")));

    HttpResponse<String> r = send("/crm/contacts?page=1", token);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"meta\":{\"page\":1,\"total\":4},\"data\":["
        + "{\"id\":1,\"name\":\"Ann\",\"email\":\"****@corp.example\",\"phone\":\"****0001\",\"region\":\"eu\"},"
        + "{\"id\":4,\"name\":\"Dan\",\"email\":\"****@eu.example\",\"phone\":\"****7 89\",\"region\":\"eu\"}"
        + "],\"next\":\"cursor-2\"}");
    assertThat(r.headers().firstValue("Portcullis-Masked")).hasValue("email, phone");
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.headers().map()).doesNotContainKeys("x-upstream-internal", "set-cookie");
    // the upstream sees the path below the prefix, the query, and not the caller's token
    UPSTREAM.verify(getRequestedFor(urlPathEqualTo("/api/contacts"))
        .withQueryParam("page", com.github.tomakehurst.wiremock.client.WireMock.equalTo("1"))
        .withoutHeader(HttpHeaders.AUTHORIZATION));
    assertAudited(requestId(r), "allowed", 200, null, 2);
  }

  @Test
  void aGovernedAnswerIsDelimitedSoTheClientKeepsItsConnection() throws Exception {
    // the upstream declares a Content-Length (of its unfiltered body); ours is shorter and streamed, so it must go out
    // chunked: a close-delimited answer would cost every client a new connection per request
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/contacts")).willReturn(okJson(CRM_BODY)
        .withHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(CRM_BODY.getBytes(StandardCharsets.UTF_8).length))));
    try (Socket socket = new Socket("localhost", port)) {
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      for (int i = 0; i < 2; i++) {
        out.write(("GET /crm/contacts HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String head = readLine(in, "\r\n\r\n");
        assertThat(head).as("answer %d", i).startsWith("HTTP/1.1 200")
            .containsIgnoringCase("transfer-encoding: chunked").doesNotContainIgnoringCase("connection: close");
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(readLine(in, "\r\n").trim(), 16)) > 0; ) {
          body.write(in.readNBytes(size));
          readLine(in, "\r\n");
        }
        readLine(in, "\r\n");
        assertThat(body.toString(StandardCharsets.UTF_8)).as("answer %d", i)
            .contains("\"email\":\"****@corp.example\"").doesNotContain("bob@us.example");
      }
    }
  }

  /** The bytes up to {@code end} (excluded), one byte at a time: the test must not read past a chunk. */
  private static String readLine(InputStream in, String end) throws IOException {
    StringBuilder b = new StringBuilder();
    while (!b.toString().endsWith(end)) {
      int c = in.read();
      if (c < 0) {
        throw new IOException("connection closed after: " + b);
      }
      b.append((char) c);
    }
    return b.substring(0, b.length() - end.length());
  }

  @Test
  void theUpstreamLearnsNothingAboutTheCallerFromForwardingHeaders() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/forwarded")).willReturn(okJson(CRM_BODY)));

    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/crm/forwarded"))
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .header("X-Forwarded-For", "10.9.9.9").header("Forwarded", "for=10.9.9.9;host=intranet.example")
        .header("X-Forwarded-Host", "intranet.example").header("X-Forwarded-Prefix", "/admin")
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(200);
    // neither the gateway's view of the caller (it adds none) nor the caller's own unverified claims
    UPSTREAM.verify(getRequestedFor(urlPathEqualTo("/api/forwarded"))
        .withoutHeader("X-Forwarded-For").withoutHeader("Forwarded").withoutHeader("X-Forwarded-Host")
        .withoutHeader("X-Forwarded-Proto").withoutHeader("X-Forwarded-Port").withoutHeader("X-Forwarded-Prefix"));
  }

  @Test
  void theRowFilterGoesUpstreamAsTheDeclaredParameterAndTheAnswerIsStillFiltered() throws Exception {
    // a misbehaving upstream that ignores ?region= and answers every region
    UPSTREAM.stubFor(get(urlPathEqualTo("/pushed/contacts")).willReturn(okJson(CRM_BODY)));

    HttpResponse<String> r = send("/crm-pushed/contacts?page=1&region=us&Region=us&reg%69on=us", token);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"name\":\"Ann\"", "\"name\":\"Dan\"")
        .doesNotContain("Bob", "Cat", "\"us\"");
    // the token's region (eu), once; the client's attempts to widen it are gone, its other parameters kept
    List<com.github.tomakehurst.wiremock.verification.LoggedRequest> seen =
        UPSTREAM.findAll(getRequestedFor(urlPathEqualTo("/pushed/contacts")));
    assertThat(seen).extracting(com.github.tomakehurst.wiremock.verification.LoggedRequest::getUrl)
        .containsExactly("/pushed/contacts?page=1&region=eu");
    assertAudited(requestId(r), "allowed", 200, null, 2);

    // a route without filter_params passes the client's query through untouched
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/unpushed")).willReturn(okJson(CRM_BODY)));
    assertThat(send("/crm/unpushed?region=us", token).body()).doesNotContain("Bob");
    assertThat(UPSTREAM.findAll(getRequestedFor(urlPathEqualTo("/api/unpushed"))))
        .extracting(com.github.tomakehurst.wiremock.verification.LoggedRequest::getUrl)
        .containsExactly("/api/unpushed?region=us");
  }

  @Test
  void requestsWithoutTokenOrGrantNeverReachTheUpstream() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/private")).willReturn(okJson(CRM_BODY)));

    HttpResponse<String> anonymous = send("/crm/private", null);
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.body()).contains("\"code\":\"invalid_token\"");
    HttpResponse<String> ungranted = send("/crm/private", GatewayTestSupport.token(data(), PG, "survey-sandbox"));
    assertThat(ungranted.statusCode()).isEqualTo(403);
    HttpResponse<String> traversal = send("/crm/%2e%2e/admin", token);
    assertThat(traversal.statusCode()).isEqualTo(400);
    assertThat(traversal.body()).contains("\"code\":\"invalid_query\"");
    assertThat(send("/%63rm/private", token).statusCode()).isEqualTo(400); // governed as /crm, refused before routing

    assertThat(UPSTREAM.findAll(getRequestedFor(urlPathEqualTo("/api/private")))).isEmpty();
    assertThat(UPSTREAM.findAll(getRequestedFor(urlPathMatching("/admin.*")))).isEmpty();
    assertAudited(requestId(anonymous), "denied", 401, "invalid_token", 0);
    assertAudited(requestId(ungranted), "denied", 403, null, 0);
  }

  @Test
  void aSlowUpstreamIsCutAtTheRouteTimeoutWith504() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/slow/contacts")).willReturn(okJson(CRM_BODY).withFixedDelay(3000)));

    HttpResponse<String> r = send("/crm-slow/contacts", token);

    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).contains("\"code\":\"upstream_unavailable\"").doesNotContain("Ann");
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    assertAudited(requestId(r), "error", 504, "upstream_unavailable", 0);
  }

  @Test
  void aFailingUpstreamAnswers503WithoutItsBodyAndTheBreakerOpens() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/flaky/contacts")).willReturn(aResponse().withStatus(500)
        .withHeader("Content-Type", "application/json").withBody("{\"error\": \"password=hunter2 at db-7\"}")));

    List<HttpResponse<String>> answers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      answers.add(send("/crm-flaky/contacts", token));
    }
    for (HttpResponse<String> r : answers) {
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"upstream_unavailable\"").doesNotContain("hunter2");
      assertThat(r.headers().firstValue("Retry-After")).isPresent();
    }
    int calls = UPSTREAM.findAll(getRequestedFor(urlPathEqualTo("/flaky/contacts"))).size();
    assertThat(calls).isEqualTo(4);

    HttpResponse<String> open = send("/crm-flaky/contacts", token);
    assertThat(open.statusCode()).isEqualTo(503);
    assertThat(open.body()).contains("circuit breaker open");
    assertThat(open.headers().firstValue("Retry-After")).hasValue("30");
    assertThat(UPSTREAM.findAll(getRequestedFor(urlPathEqualTo("/flaky/contacts")))).hasSize(calls);
    assertAudited(requestId(answers.get(0)), "error", 503, "upstream_unavailable", 0);
    assertAudited(requestId(open), "error", 503, "upstream_unavailable", 0);
  }

  @Test
  void anIdempotentReadIsRetriedAfterA503() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/retry")).inScenario("retry").whenScenarioStateIs(Scenario.STARTED)
        .willReturn(aResponse().withStatus(503)).willSetStateTo("recovered"));
    UPSTREAM.stubFor(get(urlPathEqualTo("/api/retry")).inScenario("retry").whenScenarioStateIs("recovered")
        .willReturn(okJson("{\"data\": [{\"id\": 9, \"region\": \"eu\"}]}")));

    HttpResponse<String> r = send("/crm/retry", token);

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("{\"data\":[{\"id\":9,\"region\":\"eu\"}]}");
    assertThat(UPSTREAM.findAll(getRequestedFor(urlPathEqualTo("/api/retry")))).hasSize(2);
    assertAudited(requestId(r), "allowed", 200, null, 1);
  }

  @Test
  void anUpstreamThatSendsNothingWithinTheRouteTimeoutAnswers504() throws Exception {
    StringBuilder body = new StringBuilder("{\"data\": [");
    for (int i = 0; i < 20_000; i++) {
      body.append(i == 0 ? "" : ",").append("{\"id\": ").append(i).append(", \"region\": \"eu\"}");
    }
    body.append("]}");
    // four pieces 3 s apart (WireMock sends its headers with the first) on a route whose timeout is 500 ms
    UPSTREAM.stubFor(get(urlPathEqualTo("/slow/stalls")).willReturn(okJson(body.toString())
        .withChunkedDribbleDelay(4, 12_000)));

    long start = System.nanoTime();
    HttpResponse<String> r = send("/crm-slow/stalls", token);
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).contains("\"code\":\"upstream_unavailable\"");
    assertThat(elapsedMs).as("answered at the route timeout, not when the upstream's first piece comes").isLessThan(2_500);
    assertThat(auditedAs(requestId(r))).isEqualTo("error 504 upstream_unavailable");
  }

  @Test
  void anUpstreamThatGoesSilentMidBodyIsCutAtTheRouteTimeout() throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/crm-stall/contacts"))
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).build();
    long start = System.nanoTime();
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).as("the first rows were on their way").isEqualTo(200);
    CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> {
      try (InputStream in = r.body()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "cut: " + e.getClass().getSimpleName(); // the connection was closed mid-body
      }
    });
    String text = rest.get(10, java.util.concurrent.TimeUnit.SECONDS); // the upstream itself stays silent for 30 s
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;

    assertThat(text).as("the body is visibly incomplete").doesNotEndWith("]}");
    assertThat(elapsedMs).as("cut at the 500 ms route timeout after the upstream's last byte").isLessThan(5_000);
    assertThat(auditedAs(requestId(r))).matches("error 200 upstream_(unavailable|timeout)");
  }

  @Test
  void malformedJsonIsAProblemBeforeAnythingIsSent() throws Exception {
    UPSTREAM.stubFor(get(urlPathEqualTo("/junk/broken")).willReturn(okJson(
        "{\"data\": [{\"id\": 1, \"region\": \"eu\", \"ssn\": \"SECRET-SSN\" <!-- db error: SECRET-TRACE -->")));
    UPSTREAM.stubFor(get(urlPathEqualTo("/junk/html")).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "text/html").withBody("<html>SECRET-PAGE</html>")));

    for (String path : List.of("/crm-junk/broken", "/crm-junk/html")) {
      HttpResponse<String> r = send(path, token);
      assertThat(r.statusCode()).as(path).isEqualTo(503);
      assertThat(r.body()).contains("\"code\":\"upstream_unavailable\"").doesNotContain("SECRET");
      assertAudited(requestId(r), "error", 503, "upstream_unavailable", 0);
    }
  }

  @Test
  void aSuccessThatDeclaresAnEmptyBodyIsAnsweredOnceNotRetriedAsAStaleConnection() throws Exception {
    // Content-Length: 0 is the upstream's own answer, not a connection it closed under us: no retry on a fresh one
    UPSTREAM.stubFor(get(urlPathEqualTo("/junk/empty")).willReturn(aResponse().withStatus(200)
        .withHeader("Content-Type", "application/json").withHeader(HttpHeaders.CONTENT_LENGTH, "0")));

    HttpResponse<String> r = send("/crm-junk/empty", token);

    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("\"code\":\"upstream_unavailable\"");
    UPSTREAM.verify(1, getRequestedFor(urlPathEqualTo("/junk/empty")));
    assertAudited(requestId(r), "error", 503, "upstream_unavailable", 0);
  }

  @Test
  void malformedJsonAfterRowsWereSentClosesTheConnectionWithoutUpstreamText() throws Exception {
    StringBuilder body = new StringBuilder("{\"data\": [");
    for (int i = 0; i < 20_000; i++) {
      body.append("{\"id\": ").append(i).append(", \"region\": \"eu\", \"name\": \"row ").append(i).append("\"},");
    }
    body.append("{\"id\": -1, \"region\": \"eu\", \"ssn\": \"SECRET-SSN\" SECRET-TRACE");
    UPSTREAM.stubFor(get(urlPathEqualTo("/junk/broken-late")).willReturn(okJson(body.toString())));

    HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/crm-junk/broken-late"))
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).build();
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200); // rows were on their way before the garbage arrived
    byte[] received;
    boolean cut = false;
    try (InputStream in = r.body()) {
      received = in.readAllBytes();
    } catch (IOException e) {
      cut = true; // the connection was closed mid-body: the client knows the body is incomplete
      received = new byte[0];
    }
    String text = new String(received, StandardCharsets.UTF_8);
    assertThat(text).doesNotContain("SECRET");
    assertThat(cut || !text.endsWith("]}")).as("the body is visibly incomplete").isTrue();
    // an answer cut by the upstream's garbage is a failure in the audit, not a delivered `allowed` answer
    assertThat(auditedAs(requestId(r))).isEqualTo("error 200 upstream_unavailable");
  }

  @Test
  void aHugeResponseStreamsRowByRow() throws Exception {
    int total = 200_000;
    StringBuilder body = new StringBuilder(total * 110).append('[');
    for (int i = 0; i < total; i++) {
      if (i > 0) {
        body.append(',');
      }
      body.append("{\"id\":").append(i).append(",\"name\":\"contact ").append(i)
          .append("\",\"email\":\"c").append(i).append("@corp.example\",\"region\":\"").append(i % 2 == 0 ? "eu" : "us")
          .append("\",\"ssn\":\"000-00-").append(i % 10_000).append("\"}");
    }
    UPSTREAM.stubFor(get(urlPathEqualTo("/bulk/contacts")).willReturn(okJson(body.append(']').toString())));
    body.setLength(0);

    HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/crm-bulk/contacts"))
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).build();
    HttpResponse<InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    long rows = 0;
    long masked = 0;
    // read as a stream, one token at a time: the client holds no more than the gateway does
    try (JsonParser p = JsonMapper.builder().build().createParser(r.body())) {
      assertThat(p.nextToken()).isEqualTo(JsonToken.START_ARRAY);
      while (p.nextToken() == JsonToken.START_OBJECT) {
        rows++;
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
          String name = p.currentName();
          p.nextToken();
          assertThat(name).isNotEqualTo("ssn");
          if (name.equals("region")) {
            assertThat(p.getString()).isEqualTo("eu");
          }
          if (name.equals("email") && p.getString().startsWith("****@")) {
            masked++;
          }
        }
      }
    }
    assertThat(rows).isEqualTo(total / 2);
    assertThat(masked).isEqualTo(total / 2);
    assertAudited(requestId(r), "allowed", 200, null, total / 2);
  }

  @Test
  void clientsThatHangUpMidAnswerGetOneEventEachAndDoNotCountAgainstTheUpstream() throws Exception {
    int total = 300_000;
    StringBuilder body = new StringBuilder(total * 110).append('[');
    for (int i = 0; i < total; i++) {
      if (i > 0) {
        body.append(',');
      }
      body.append("{\"id\":").append(i).append(",\"name\":\"contact ").append(i)
          .append("\",\"email\":\"c").append(i).append("@corp.example\",\"region\":\"eu\"}");
    }
    // dribbled over 10 s, so the answer is surely still being written when the client leaves (a fast upstream can
    // have handed the whole answer to the network by then, and that request was served)
    UPSTREAM.stubFor(get(urlPathEqualTo("/bulk/hangup")).willReturn(okJson(body.append(']').toString())
        .withChunkedDribbleDelay(100, 10_000)));
    body.setLength(0);
    UPSTREAM.stubFor(get(urlPathEqualTo("/bulk/after")).willReturn(okJson("[{\"id\": 1, \"region\": \"eu\"}]")));

    List<String> requestIds = new ArrayList<>();
    for (int attempt = 0; attempt < 5; attempt++) { // five hang-ups: more than the breaker's window of 4 calls
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
        socket.getOutputStream().write(("GET /crm-bulk/hangup HTTP/1.1\r\nHost: localhost\r\n"
            + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        InputStream in = socket.getInputStream();
        byte[] chunk = new byte[8192];
        StringBuilder head = new StringBuilder();
        int read = 0;
        while (read < 64 * 1024) { // the status line, the headers and the first rows, then the client goes away
          int n = in.read(chunk);
          assertThat(n).as("the answer is still streaming").isPositive();
          if (read < 16 * 1024) {
            head.append(new String(chunk, 0, n, StandardCharsets.ISO_8859_1));
          }
          read += n;
        }
        assertThat(head.toString()).startsWith("HTTP/1.1 200");
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("(?i)portcullis-request-id: *([0-9a-f]+)")
            .matcher(head);
        assertThat(id.find()).isTrue();
        requestIds.add(id.group(1));
        // closed with unread data: what a load generator stopping mid-answer or a closed browser tab does
        if (attempt % 2 == 1) {
          socket.setSoLinger(true, 0); // and half of them as an immediate reset
        }
      }
    }

    List<String> outcomes = new ArrayList<>();
    for (String requestId : requestIds) {
      awaitAuditCount(requestId, 1);
      try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
          "SELECT outcome, status, coalesce(error_code, '-'), \"rows\", latency_ms FROM portcullis.audit_events"
              + " WHERE request_id = ?")) {
        st.setString(1, requestId);
        try (ResultSet rs = st.executeQuery()) {
          assertThat(rs.next()).isTrue();
          outcomes.add(rs.getString(1) + " " + rs.getInt(2) + " " + rs.getString(3) + " rows=" + rs.getLong(4)
              + " ms=" + rs.getLong(5));
        }
      }
    }
    // One event each, `cancelled`, with the status the client was sent and no upstream failure blamed — also when the
    // hang-up came while a send was blocked on the full socket (Reactor Netty completes that send normally).
    assertThat(outcomes).hasSize(5).allSatisfy(o -> assertThat(o).matches("cancelled 200 - rows=\\d+ .*"));
    // the route's breaker saw no failure: the next read goes through
    assertThat(send("/crm-bulk/after", token).statusCode()).isEqualTo(200);
  }

  // ---- audit -------------------------------------------------------------------------------------------------------

  void assertAudited(String requestId, String outcome, int status, String code, long rows) throws Exception {
    awaitAuditCount(requestId, 1);
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT outcome, status, error_code, coalesce(\"rows\", 0), resource_type FROM portcullis.audit_events"
            + " WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo(outcome);
        assertThat(rs.getInt(2)).isEqualTo(status);
        if (code != null) {
          assertThat(rs.getString(3)).isEqualTo(code);
        }
        assertThat(rs.getLong(4)).isEqualTo(rows);
      }
    }
  }

  /** The request's one event as "outcome status error_code" (error_code "-" when none). */
  String auditedAs(String requestId) throws Exception {
    awaitAuditCount(requestId, 1);
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT outcome || ' ' || status || ' ' || coalesce(error_code, '-') FROM portcullis.audit_events"
            + " WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  void awaitAuditCount(String requestId, long expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    long n = -1;
    while (System.nanoTime() < deadline) {
      try (Connection c = PG.connect();
          PreparedStatement st = c.prepareStatement("SELECT count(*) FROM portcullis.audit_events WHERE request_id = ?")) {
        st.setString(1, requestId);
        try (ResultSet rs = st.executeQuery()) {
          rs.next();
          n = rs.getLong(1);
        }
      }
      if (n == expected) {
        Thread.sleep(200); // and no second event arrives late
        break;
      }
      Thread.sleep(50);
    }
    try (Connection c = PG.connect();
        PreparedStatement st = c.prepareStatement("SELECT count(*) FROM portcullis.audit_events WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        assertThat(rs.getLong(1)).as("audit events of request " + requestId).isEqualTo(expected);
      }
    }
  }
}
