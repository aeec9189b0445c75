package io.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
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
import org.springframework.web.reactive.function.BodyInserters;

/**
 * The first slice end to end over real HTTP against real PostgreSQL: token from the broker, policy with an
 * owner-scoped row filter, a masked and a denied column, problem responses, and one audit row per request.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class FirstSliceTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
  }

  @LocalServerPort
  int port;

  @Autowired
  io.portcullis.gateway.admin.AdminServer admin;

  WebTestClient client() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
  }

  String token(String app) {
    return GatewayTestSupport.token(client(), PG, app);
  }

  long auditRows(String requestId) throws Exception {
    try (Connection c = PG.connect();
        PreparedStatement st = c.prepareStatement("SELECT count(*) FROM portcullis.audit_events WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  Map<String, Object> auditRow(String requestId) throws Exception {
    try (Connection c = PG.connect();
        PreparedStatement st = c.prepareStatement(
            "SELECT outcome, status, error_code, app_id, resource_id, rows FROM portcullis.audit_events WHERE request_id = ?")) {
      st.setString(1, requestId);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).isTrue();
        java.util.HashMap<String, Object> row = new java.util.HashMap<>();
        row.put("outcome", rs.getString("outcome"));
        row.put("status", rs.getInt("status"));
        row.put("error_code", rs.getString("error_code"));
        row.put("app_id", rs.getString("app_id"));
        row.put("resource_id", rs.getString("resource_id"));
        row.put("rows", rs.getLong("rows"));
        return row;
      }
    }
  }

  /** Audit writes are batched off the request path: wait for the row rather than for a fixed time. */
  void awaitAudit(String requestId) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (auditRows(requestId) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(auditRows(requestId)).as("audit rows for request " + requestId).isEqualTo(1);
  }

  @Test
  void ownerScopedReadMasksAndDropsColumnsAndIsAudited() throws Exception {
    String token = token("team-inventory");
    var result = client().get().uri("/data/inventory.items?limit=100")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange()
        .expectStatus().isOk()
        .expectHeader().valueEquals("Portcullis-Masked", "supplier_email")
        .expectBodyList(Map.class).returnResult();
    List<Map> rows = result.getResponseBody();
    assertThat(rows).isNotEmpty();
    // demo rows: owners rotate over team-ops, team-sales, team-lab; the token's owner_id is team-ops
    assertThat(rows).allSatisfy(row -> {
      assertThat(row.get("owner_id")).isEqualTo("team-ops");
      assertThat(row).doesNotContainKey("unit_cost");
      assertThat((String) row.get("supplier_email")).startsWith("****@");
    });
    try (Connection c = PG.connect(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT count(*) FROM demo.inventory_items WHERE owner_id = 'team-ops' AND deleted_at IS NULL")) {
      rs.next();
      assertThat(rows).hasSize(rs.getInt(1));
    }
    String requestId = result.getResponseHeaders().getFirst("Portcullis-Request-Id");
    awaitAudit(requestId);
    assertThat(auditRow(requestId)).containsEntry("outcome", "allowed").containsEntry("status", 200)
        .containsEntry("app_id", "team-inventory").containsEntry("resource_id", "inventory.items")
        .containsEntry("rows", (long) rows.size());
  }

  @Test
  void anotherOwnersRowIsNotFoundByIdEither() throws Exception {
    String token = token("team-inventory");
    String otherOwners;
    try (Connection c = PG.connect(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT id FROM demo.inventory_items WHERE owner_id = 'team-sales' LIMIT 1")) {
      rs.next();
      otherOwners = rs.getString(1);
    }
    client().get().uri("/data/inventory.items/" + otherOwners)
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange()
        .expectStatus().isNotFound()
        .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody().jsonPath("$.code").isEqualTo("not_found");
  }

  @Test
  void noTokenIsInvalidTokenWithBearerChallengeAndIsAudited() throws Exception {
    var result = client().get().uri("/data/inventory.items")
        .exchange()
        .expectStatus().isUnauthorized()
        .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .expectHeader().value(HttpHeaders.WWW_AUTHENTICATE, v -> assertThat(v).startsWith("Bearer error=\"invalid_token\""))
        .expectBody().jsonPath("$.code").isEqualTo("invalid_token")
        .jsonPath("$.request_id").exists()
        .returnResult();
    String requestId = result.getResponseHeaders().getFirst("Portcullis-Request-Id");
    awaitAudit(requestId);
    assertThat(auditRow(requestId)).containsEntry("outcome", "denied").containsEntry("status", 401)
        .containsEntry("error_code", "invalid_token");
  }

  @Test
  void forgedTokenIsInvalidToken() throws Exception {
    String token = token("team-inventory");
    String forged = token.substring(0, token.lastIndexOf('.') + 1) + "AAAA" + token.substring(token.lastIndexOf('.') + 5);
    client().get().uri("/data/inventory.items")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + forged)
        .exchange()
        .expectStatus().isUnauthorized()
        .expectBody().jsonPath("$.code").isEqualTo("invalid_token");
  }

  @Test
  void unknownDatasetIs404() throws Exception {
    client().get().uri("/data/no.such.dataset")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token("team-inventory"))
        .exchange()
        .expectStatus().isNotFound()
        .expectBody().jsonPath("$.code").isEqualTo("unknown_dataset");
  }

  @Test
  void missingScopeIs403AndIsAudited() throws Exception {
    var result = client().get().uri("/data/hr.approvals")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token("team-inventory"))
        .exchange()
        .expectStatus().isForbidden()
        .expectBody().jsonPath("$.code").isEqualTo("scope_missing")
        .returnResult();
    String requestId = result.getResponseHeaders().getFirst("Portcullis-Request-Id");
    awaitAudit(requestId);
    assertThat(auditRow(requestId)).containsEntry("outcome", "denied").containsEntry("status", 403)
        .containsEntry("error_code", "scope_missing");
  }

  @Test
  void unknownFilterColumnAndHiddenColumnAnswerAlike() throws Exception {
    String token = token("team-inventory");
    for (String query : List.of("unit_cost=gt.10", "no_such_column=eq.1")) {
      client().get().uri("/data/inventory.items?" + query)
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
          .exchange()
          .expectStatus().isBadRequest()
          .expectBody().jsonPath("$.code").isEqualTo("invalid_query")
          .jsonPath("$.detail").value(d -> assertThat((String) d).startsWith("unknown column"));
    }
  }

  @Test
  void keysetPagesCoverEveryRowOnce() throws Exception {
    String token = token("team-inventory");
    java.util.Set<Object> seen = new java.util.HashSet<>();
    String next = "/data/inventory.items?limit=4&order=name.desc";
    int pages = 0;
    while (next != null && pages++ < 50) {
      var res = client().get().uri(java.net.URI.create("http://localhost:" + port + next))
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
          .exchange().expectStatus().isOk().expectBodyList(Map.class).returnResult();
      for (Map<?, ?> row : res.getResponseBody()) {
        assertThat(seen.add(row.get("id"))).as("row seen twice").isTrue();
      }
      String link = res.getResponseHeaders().getFirst(HttpHeaders.LINK);
      next = link == null ? null : link.substring(1, link.indexOf('>'));
    }
    try (Connection c = PG.connect(); ResultSet rs = c.createStatement().executeQuery(
        "SELECT count(*) FROM demo.inventory_items WHERE owner_id = 'team-ops' AND deleted_at IS NULL")) {
      rs.next();
      assertThat(seen).hasSize(rs.getInt(1));
    }
  }

  @Test
  void adminApiShowsTheAuditEventAndRefusesDataPlaneTokens() throws Exception {
    var result = client().get().uri("/data/forms.submissions?limit=2")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token("survey-sandbox"))
        .exchange().expectStatus().isOk().expectBody().returnResult();
    String requestId = result.getResponseHeaders().getFirst("Portcullis-Request-Id");
    awaitAudit(requestId);
    WebTestClient adminClient = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port()).build();
    adminClient.get().uri("/admin/audit/events?app=survey-sandbox&limit=10")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token("portcullis-admin"))
        .exchange()
        .expectStatus().isOk()
        .expectBody()
        .jsonPath("$.events[?(@.request_id == '" + requestId + "')].outcome").isEqualTo("allowed")
        .jsonPath("$.events[?(@.request_id == '" + requestId + "')].masked_columns[0]").isEqualTo("submitter_email");
    adminClient.get().uri("/admin/audit/events")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + token("survey-sandbox"))
        .exchange()
        .expectStatus().isForbidden()
        .expectBody().jsonPath("$.code").isEqualTo("policy_denied");
    adminClient.get().uri("/admin/audit/events")
        .exchange()
        .expectStatus().isUnauthorized()
        .expectBody().jsonPath("$.code").isEqualTo("invalid_token");
  }

  @Test
  void issuingATokenAndAFailedClientLoginAreAudited() throws Exception {
    token("hr-headcount");
    client().post().uri("/oauth2/token")
        .headers(h -> h.setBasicAuth("hr-headcount", "not-the-secret"))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(BodyInserters.fromFormData("grant_type", "client_credentials"))
        .exchange()
        .expectStatus().isUnauthorized()
        .expectBody().jsonPath("$.error").isEqualTo("invalid_client");
    long deadline = System.nanoTime() + 10_000_000_000L;
    long issued = 0;
    long failed = 0;
    while ((issued == 0 || failed == 0) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      issued = countEvents("token_issued", "hr-headcount");
      failed = countEvents("auth_failed", "hr-headcount");
    }
    assertThat(issued).isGreaterThanOrEqualTo(1);
    assertThat(failed).isEqualTo(1);
  }

  long countEvents(String type, String app) throws Exception {
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT count(*) FROM portcullis.audit_events WHERE event_type = ? AND app_id = ?")) {
      st.setString(1, type);
      st.setString(2, app);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
