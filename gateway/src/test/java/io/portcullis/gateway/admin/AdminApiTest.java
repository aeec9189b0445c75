package io.portcullis.gateway.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.factories.DefaultJWSVerifierFactory;
import com.nimbusds.jose.jwk.JWKSet;
import io.portcullis.broker.SecretHasher;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.testsupport.PostgresExtension;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
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
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.RequestPredicate;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.core.io.Resource;
import org.springframework.web.reactive.function.server.ServerRequest;
import reactor.core.publisher.Mono;

/**
 * The admin API as platform admins use it: pause/resume, config import with validation, key rotation, versions with
 * diffs and rollback, entity CRUD with optimistic concurrency, simulate, four-eyes approvals, the review lifecycle
 * and the OpenAPI document. Every test starts from the seeded config text and puts it back afterwards.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AdminApiTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    // a second admin client for four-eyes approvals (created through the API by the tests that need it)
    registry.add("portcullis.admin.apps", () -> "portcullis-admin," + SECOND_ADMIN);
  }

  static final String SECOND_ADMIN = "ops-admin";
  static final String SECOND_ADMIN_SECRET = "pcs_second-admin-secret-for-tests";
  static final MediaType YAML = MediaType.parseMediaType("application/yaml");

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  @Autowired
  AdminRoutes adminRoutes;

  @Autowired
  ConsoleRoutes consoleRoutes;

  @Autowired
  AuditVerifyRoutes auditVerifyRoutes;

  @Autowired
  ReviewScheduler reviews;

  String seededYaml;
  String secondAdminToken;

  WebTestClient data() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).build();
  }

  WebTestClient admin() {
    return adminWith(GatewayTestSupport.token(data(), PG, "portcullis-admin"));
  }

  WebTestClient adminWith(String token) {
    return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port())
        .responseTimeout(Duration.ofSeconds(30))
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .build();
  }

  @BeforeEach
  void rememberConfig() {
    seededYaml = admin().get().uri("/admin/config").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
  }

  /** Puts the config text back (approved by the second admin when the change needs four eyes). */
  @AfterEach
  void restoreConfig() {
    EntityExchangeResult<Map> restored = admin().put().uri("/admin/config?reason=test-cleanup").contentType(YAML)
        .bodyValue(seededYaml).exchange().expectBody(Map.class).returnResult();
    if (restored.getStatus().value() == 202) {
      Map<String, Object> cr = body(restored, "change_request");
      adminWith(secondAdminToken).post().uri("/admin/change-requests/" + cr.get("id") + "/approve?reason=cleanup")
          .exchange().expectStatus().isOk();
    } else {
      assertThat(restored.getStatus().value()).as("restore: %s", restored.getResponseBody()).isEqualTo(200);
    }
  }

  /** Creates the second admin's app (tier 1, no grants: one admin may add it) and returns a token for it. */
  String secondAdmin(WebTestClient admin) {
    Map<String, Object> app = new LinkedHashMap<>();
    app.put("id", SECOND_ADMIN);
    app.put("name", "Ops admin console");
    app.put("owner", "ops-lead@corp.example");
    app.put("team", "platform");
    app.put("cost_center", "CC-PLAT-01");
    app.put("tier", 1);
    app.put("status", "active");
    app.put("client", Map.of("secret_hash", SecretHasher.hash(SECOND_ADMIN_SECRET.toCharArray())));
    int status = admin.post().uri("/admin/apps?reason=second-admin").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(app).exchange().returnResult(String.class).getStatus().value();
    assertThat(status).isIn(201, 409);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      EntityExchangeResult<Map> token = data().post().uri("/oauth2/token")
          .headers(h -> h.setBasicAuth(SECOND_ADMIN, SECOND_ADMIN_SECRET))
          .contentType(MediaType.APPLICATION_FORM_URLENCODED)
          .body(org.springframework.web.reactive.function.BodyInserters.fromFormData("grant_type", "client_credentials"))
          .exchange().expectBody(Map.class).returnResult();
      if (token.getStatus().value() == 200) {
        secondAdminToken = (String) token.getResponseBody().get("access_token");
        return secondAdminToken;
      }
      assertThat(System.nanoTime()).as("second admin token: %s", token.getResponseBody()).isLessThan(deadline);
      sleep(50);
    }
  }

  /** Verifies an approval JWS with the key the admin port publishes, fetched without any token. */
  static boolean verifiesWithApprovalKeys(WebTestClient anonymous, JWSObject signed) throws Exception {
    JWKSet keys = JWKSet.parse(anonymous.get().uri("/admin/approval-keys").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody());
    assertThat(keys.getKeys()).allSatisfy(k -> assertThat(k.isPrivate()).isFalse());
    return signed.verify(new DefaultJWSVerifierFactory().createJWSVerifier(signed.getHeader(),
        keys.getKeyByKeyId(signed.getHeader().getKeyID()).toECKey().toECPublicKey()));
  }

  @SuppressWarnings("unchecked")
  static <T> T body(EntityExchangeResult<Map> result, String key) {
    return (T) result.getResponseBody().get(key);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Admin events of this actor, newest first (the audit pipeline batches, so this polls briefly). */
  @SuppressWarnings("unchecked")
  List<Map<String, Object>> adminEvents(WebTestClient admin, String actor, String action, int atLeast) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    List<Map<String, Object>> found = List.of();
    while (System.nanoTime() < deadline) {
      Map<String, Object> page = admin.get().uri("/admin/audit/events?actor=" + actor + "&limit=500").exchange()
          .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody();
      found = ((List<Map<String, Object>>) page.get("events")).stream()
          .filter(e -> "admin_change".equals(e.get("event_type")) && action.equals(e.get("action"))).toList();
      if (found.size() >= atLeast) {
        return found;
      }
      sleep(100);
    }
    return found;
  }

  int read(String token) {
    return data().get().uri("/data/forms.submissions?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().returnResult(String.class).getStatus().value();
  }

  @Test
  void pausingAnAppRefusesItsLiveTokensWithinASecondAndResumeRestoresThem() throws Exception {
    String token = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    assertThat(read(token)).isEqualTo(200);
    admin().post().uri("/admin/apps/survey-sandbox/pause?reason=incident-42").exchange().expectStatus().isNoContent();
    long start = System.nanoTime();
    while (read(token) != 403 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      Thread.sleep(20);
    }
    data().get().uri("/data/forms.submissions").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("app_paused");
    admin().post().uri("/admin/apps/survey-sandbox/resume?reason=fixed").exchange().expectStatus().isNoContent();
    start = System.nanoTime();
    while (read(token) != 200 && System.nanoTime() - start < Duration.ofSeconds(1).toNanos()) {
      Thread.sleep(20);
    }
    assertThat(read(token)).isEqualTo(200);
  }

  @Test
  void changesNeedAReasonAndUnknownAppsAre404() {
    admin().post().uri("/admin/apps/survey-sandbox/pause").exchange()
        .expectStatus().isBadRequest().expectBody().jsonPath("$.code").isEqualTo("invalid_query");
    admin().post().uri("/admin/apps/nope/pause?reason=x").exchange()
        .expectStatus().isNotFound().expectBody().jsonPath("$.code").isEqualTo("not_found");
  }

  @Test
  void anImportedConfigIsValidatedVersionedAndAppliedWithoutRestart() throws Exception {
    WebTestClient admin = admin();
    String yaml = admin.get().uri("/admin/config").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    assertThat(yaml).contains("team-inventory-items");

    // a broken draft: nothing applied, every problem named with its location
    String broken = yaml.replace("row_filter: \"row.owner_id == token.attrs.owner_id", "row_filter: \"row.no_such == token.attrs.owner_id");
    admin.put().uri("/admin/config?reason=typo").contentType(MediaType.parseMediaType("application/yaml"))
        .bodyValue(broken).exchange()
        .expectStatus().isEqualTo(422)
        .expectBody().jsonPath("$.code").isEqualTo("invalid_body")
        .jsonPath("$.violations[0].location").exists()
        .jsonPath("$.violations[0].message").value(m -> assertThat((String) m).contains("no_such"));

    // the inventory grant stops masking supplier_email to its domain: the blanket pii redaction shows instead
    String token = GatewayTestSupport.token(data(), PG, "team-inventory");
    String changed = yaml.replace("masks: {supplier_email: email_domain}", "masks: {supplier_email: redact}");
    assertThat(changed).isNotEqualTo(yaml);
    @SuppressWarnings("unchecked")
    Map<String, Object> stored = admin.put().uri("/admin/config?reason=tighten-supplier-mask")
        .contentType(MediaType.parseMediaType("application/yaml")).bodyValue(changed).exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody();
    assertThat(((Number) stored.get("version")).longValue()).isGreaterThan(1);
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    String email = null;
    while (System.nanoTime() < deadline) {
      List<Map> rows = data().get().uri("/data/inventory.items?limit=1")
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange()
          .expectStatus().isOk().expectBodyList(Map.class).returnResult().getResponseBody();
      email = (String) rows.get(0).get("supplier_email");
      if ("****".equals(email)) {
        break;
      }
      Thread.sleep(50);
    }
    assertThat(email).isEqualTo("****");
  }

  @Test
  void rotatingKeysKeepsEarlierTokensValid() {
    String before = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    admin().post().uri("/admin/keys/rotate?reason=scheduled").exchange().expectStatus().isNoContent();
    assertThat(read(before)).isEqualTo(200);
    String after = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    assertThat(read(after)).isEqualTo(200);
    data().get().uri("/.well-known/jwks.json").exchange().expectStatus().isOk()
        .expectBody().jsonPath("$.keys.length()").value(n -> assertThat((Integer) n).isGreaterThanOrEqualTo(2));
  }

  @Test
  void nonAdminAndDataPlaneTokensAreRefused() {
    String dataToken = GatewayTestSupport.token(data(), PG, "team-inventory");
    for (String path : List.of("/admin/config/versions", "/admin/grants", "/admin/change-requests",
        "/admin/openapi.json")) {
      adminWith(dataToken).get().uri(path).exchange()
          .expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("policy_denied");
      WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port()).build().get().uri(path).exchange()
          .expectStatus().isUnauthorized().expectBody().jsonPath("$.code").isEqualTo("invalid_token");
    }
    adminWith(dataToken).put().uri("/admin/grants/team-inventory-items?reason=x")
        .contentType(MediaType.APPLICATION_JSON).bodyValue(Map.of("app", "team-inventory")).exchange()
        .expectStatus().isForbidden();
  }

  @Test
  @SuppressWarnings("unchecked")
  void anEntityEditIsVersionedWithAuthorReasonAndDiffAndRollbackMakesANewVersion() {
    WebTestClient admin = admin();
    EntityExchangeResult<Map> grant = admin.get().uri("/admin/grants/team-inventory-items").exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult();
    String etag = grant.getResponseHeaders().getETag();
    long base = Long.parseLong(etag.replace("\"", ""));
    Map<String, Object> edited = new LinkedHashMap<>(grant.getResponseBody());
    Map<String, Object> columns = new LinkedHashMap<>((Map<String, Object>) edited.get("columns"));
    columns.put("masks", Map.of("supplier_email", "redact"));
    edited.put("columns", columns);

    EntityExchangeResult<Map> applied = admin.put().uri("/admin/grants/team-inventory-items")
        .header("Portcullis-Reason", "supplier mail fully hidden").header(HttpHeaders.IF_MATCH, etag)
        .contentType(MediaType.APPLICATION_JSON).bodyValue(edited).exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult();
    assertThat((String) body(applied, "status")).isEqualTo("applied");
    long v = ((Number) body(applied, "version")).longValue();
    assertThat(v).isEqualTo(base + 1);
    assertThat(applied.getResponseHeaders().getETag()).isEqualTo("\"" + v + "\"");
    Map<String, Object> diff = body(applied, "diff");
    assertThat(diff.get("summary")).isEqualTo("grants: 1 changed");
    Map<String, Object> change = ((List<Map<String, Object>>) diff.get("changes")).get(0);
    assertThat(change).containsEntry("kind", "grant").containsEntry("id", "team-inventory-items")
        .containsEntry("op", "changed");
    assertThat((List<Map<String, Object>>) change.get("fields")).extracting(f -> f.get("field"))
        .containsExactly("columns");

    // the history lists it with author, reason and the change summary
    Map<String, Object> page = admin.get().uri("/admin/config/versions?limit=2").exchange().expectStatus().isOk()
        .expectBody(Map.class).returnResult().getResponseBody();
    Map<String, Object> newest = ((List<Map<String, Object>>) page.get("versions")).get(0);
    assertThat(newest).containsEntry("version", (int) v).containsEntry("author", "portcullis-admin")
        .containsEntry("reason", "supplier mail fully hidden").containsEntry("summary", "grants: 1 changed")
        .containsEntry("parent", (int) base).containsKey("created_at");
    assertThat(page.get("next_before")).isEqualTo((int) newest.get("version") - 1);

    // any version as YAML or JSON; the diff between two versions, from the model
    String yaml = admin.get().uri("/admin/config/versions/" + base).accept(YAML).exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    assertThat(yaml).isEqualTo(seededYaml);
    admin.get().uri("/admin/config/versions/" + v).accept(MediaType.APPLICATION_JSON).exchange()
        .expectStatus().isOk().expectBody()
        .jsonPath("$.config.grants[?(@.id=='team-inventory-items')].columns.masks.supplier_email").isEqualTo("redact")
        .jsonPath("$.diff.summary").isEqualTo("grants: 1 changed")
        .jsonPath("$.reason").isEqualTo("supplier mail fully hidden");
    admin.get().uri("/admin/config/versions/" + v + "/diff?against=" + base).exchange().expectStatus().isOk()
        .expectBody()
        .jsonPath("$.from").isEqualTo((int) base).jsonPath("$.to").isEqualTo((int) v)
        .jsonPath("$.changes[0].fields[0].before.masks.supplier_email").isEqualTo("email_domain")
        .jsonPath("$.changes[0].fields[0].after.masks.supplier_email").isEqualTo("redact");

    // the data plane applies it without a restart
    String token = GatewayTestSupport.token(data(), PG, "team-inventory");
    awaitSupplierEmail(token, "****");

    // rollback: a new version equal to the old one, and the data plane follows
    EntityExchangeResult<Map> rolledBack = admin.post().uri("/admin/config/versions/" + base + "/rollback?reason=undo")
        .exchange().expectStatus().isOk().expectBody(Map.class).returnResult();
    long r = ((Number) body(rolledBack, "version")).longValue();
    assertThat(r).isEqualTo(v + 1);
    assertThat(admin.get().uri("/admin/config").exchange().expectBody(String.class).returnResult().getResponseBody())
        .isEqualTo(seededYaml);
    admin.get().uri("/admin/config/versions/" + r + "/diff?against=" + base).exchange().expectStatus().isOk()
        .expectBody().jsonPath("$.summary").isEqualTo("no change");
    awaitSupplierEmail(token, null);

    // every change is an admin_change event naming the version it made
    List<Map<String, Object>> updates = adminEvents(admin, "portcullis-admin", "update", 1);
    assertThat(updates).anySatisfy(e -> assertThat(e).containsEntry("resource_type", "grant")
        .containsEntry("resource_id", "team-inventory-items").containsEntry("policy_version", (int) v));
    assertThat(adminEvents(admin, "portcullis-admin", "rollback", 1))
        .anySatisfy(e -> assertThat(e).containsEntry("policy_version", (int) r));
  }

  /** Polls until the inventory's supplier_email reads {@code expected} ({@code null}: anything but "****"). */
  @SuppressWarnings("rawtypes")
  void awaitSupplierEmail(String token, String expected) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    String email = null;
    while (System.nanoTime() < deadline) {
      List<Map> rows = data().get().uri("/data/inventory.items?limit=1")
          .header(HttpHeaders.AUTHORIZATION, "Bearer " + token).exchange()
          .expectStatus().isOk().expectBodyList(Map.class).returnResult().getResponseBody();
      email = (String) rows.get(0).get("supplier_email");
      if (expected == null ? !"****".equals(email) : expected.equals(email)) {
        return;
      }
      sleep(50);
    }
    assertThat(email).as("supplier_email").isEqualTo(expected == null ? "<domain mask>" : expected);
  }

  @Test
  void twoAdminsEditingTheSameVersionCannotOverwriteEachOther() {
    WebTestClient admin = admin();
    String etag = admin.get().uri("/admin/routes").exchange().expectStatus().isOk()
        .returnResult(String.class).getResponseHeaders().getETag();
    Map<String, Object> first = Map.of("id", "crm", "path_prefix", "/crm", "uri", "http://127.0.0.1:9/crm",
        "timeout", "2s");
    Map<String, Object> second = Map.of("id", "erp", "path_prefix", "/erp", "uri", "http://127.0.0.1:9/erp",
        "timeout", "2s");
    admin.post().uri("/admin/routes?reason=add-crm").header(HttpHeaders.IF_MATCH, etag)
        .contentType(MediaType.APPLICATION_JSON).bodyValue(first).exchange()
        .expectStatus().isCreated().expectBody().jsonPath("$.status").isEqualTo("applied");
    String now = admin.post().uri("/admin/routes?reason=add-erp").header(HttpHeaders.IF_MATCH, etag)
        .contentType(MediaType.APPLICATION_JSON).bodyValue(second).exchange()
        .expectStatus().isEqualTo(412)
        .expectHeader().exists(HttpHeaders.ETAG)
        .expectBody().jsonPath("$.code").isEqualTo("version_conflict")
        .returnResult().getResponseHeaders().getETag();
    admin.get().uri("/admin/routes/erp").exchange().expectStatus().isNotFound();
    // with the fresh ETag the second admin's change goes through, and the first one's is still there
    admin.post().uri("/admin/routes?reason=add-erp").header(HttpHeaders.IF_MATCH, now)
        .contentType(MediaType.APPLICATION_JSON).bodyValue(second).exchange().expectStatus().isCreated();
    admin.get().uri("/admin/routes").exchange().expectBody()
        .jsonPath("$.items[*].id").value(ids -> assertThat((List<String>) ids).containsExactlyInAnyOrder("crm", "erp"));
    admin.delete().uri("/admin/routes/erp?reason=done").exchange().expectStatus().isOk()
        .expectBody().jsonPath("$.diff.changes[0].op").isEqualTo("removed");
    admin.get().uri("/admin/routes/erp").exchange().expectStatus().isNotFound();
  }

  @Test
  void anInvalidEntityIsRefusedWithTheCompilersMessagesAndNothingIsStored() {
    WebTestClient admin = admin();
    String before = admin.get().uri("/admin/config").exchange().returnResult(String.class).getResponseHeaders()
        .getETag();
    Map<String, Object> grant = Map.of("id", "ghost-grant", "app", "no-such-app", "dataset", "inventory.items",
        "actions", List.of("read"));
    admin.post().uri("/admin/grants?reason=try").contentType(MediaType.APPLICATION_JSON).bodyValue(grant).exchange()
        .expectStatus().isEqualTo(422)
        .expectBody()
        .jsonPath("$.code").isEqualTo("invalid_body")
        .jsonPath("$.violations[*].message").value(m -> assertThat(String.valueOf(m)).contains("no-such-app"))
        .jsonPath("$.violations[0].pointer").value(p -> assertThat((String) p).startsWith("grants["));
    Map<String, Object> badFilter = Map.of("id", "ghost-grant", "app", "survey-sandbox", "dataset", "inventory.items",
        "actions", List.of("read"), "row_filter", "row.no_such_column == 'x'");
    admin.post().uri("/admin/grants?reason=try").contentType(MediaType.APPLICATION_JSON).bodyValue(badFilter)
        .exchange().expectStatus().isEqualTo(422)
        .expectBody().jsonPath("$.violations[*].message")
        .value(m -> assertThat(String.valueOf(m)).contains("no_such_column"))
        .jsonPath("$.violations[0].pointer").value(p -> assertThat((String) p).endsWith("row_filter"));
    admin.post().uri("/admin/grants?reason=try").contentType(MediaType.APPLICATION_JSON).bodyValue("{not json")
        .exchange().expectStatus().isEqualTo(422).expectBody().jsonPath("$.code").isEqualTo("invalid_body");
    admin.post().uri("/admin/grants").contentType(MediaType.APPLICATION_JSON).bodyValue(grant).exchange()
        .expectStatus().isBadRequest().expectBody().jsonPath("$.code").isEqualTo("invalid_query");
    admin.post().uri("/admin/grants?reason=dup").contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("id", "team-inventory-items")).exchange()
        .expectStatus().isEqualTo(409);
    admin.delete().uri("/admin/datasets/inventory.items?reason=gone").exchange()
        .expectStatus().isEqualTo(422).expectBody().jsonPath("$.violations[*].message")
        .value(m -> assertThat(String.valueOf(m)).contains("inventory.items"));
    admin.get().uri("/admin/grants/ghost-grant").exchange().expectStatus().isNotFound()
        .expectBody().jsonPath("$.code").isEqualTo("not_found");
    assertThat(admin.get().uri("/admin/config").exchange().returnResult(String.class).getResponseHeaders().getETag())
        .isEqualTo(before);
  }

  @Test
  @SuppressWarnings("unchecked")
  void tier2AndRegulatedChangesWaitForASecondAdminWhoseApprovalIsASignedRecord() throws Exception {
    WebTestClient admin = admin();
    String secondToken = secondAdmin(admin);
    Map<String, Object> grant = new LinkedHashMap<>(admin.get().uri("/admin/grants/hr-headcount-approvals").exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody());
    grant.put("actions", List.of("read"));
    EntityExchangeResult<Map> parked = admin.put().uri("/admin/grants/hr-headcount-approvals?reason=read-only-for-now")
        .contentType(MediaType.APPLICATION_JSON).bodyValue(grant).exchange()
        .expectStatus().isAccepted().expectBody(Map.class).returnResult();
    assertThat((String) body(parked, "status")).isEqualTo("pending_approval");
    assertThat((List<String>) body(parked, "four_eyes")).anySatisfy(r -> assertThat(r).contains("hr-headcount"));
    Map<String, Object> cr = body(parked, "change_request");
    long id = ((Number) cr.get("id")).longValue();
    long baseVersion = ((Number) cr.get("base_version")).longValue();
    // nothing applied yet: the grant still allows update
    admin.get().uri("/admin/grants/hr-headcount-approvals").exchange().expectBody()
        .jsonPath("$.actions.length()").isEqualTo(2);
    admin.get().uri("/admin/change-requests?status=pending").exchange().expectStatus().isOk().expectBody()
        .jsonPath("$.change_requests[?(@.id==" + id + ")].author").isEqualTo("portcullis-admin");
    admin.get().uri("/admin/change-requests/" + id).exchange().expectStatus().isOk().expectBody()
        .jsonPath("$.yaml").value(y -> assertThat((String) y).contains("hr-headcount-approvals"))
        .jsonPath("$.diff.summary").isEqualTo("grants: 1 changed");

    // the author cannot approve their own change
    admin.post().uri("/admin/change-requests/" + id + "/approve?reason=lgtm").exchange()
        .expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("self_approval");

    // a second admin can; the version carries the approval, a JWS verifiable with the published approval key
    EntityExchangeResult<Map> approved = adminWith(secondToken).post()
        .uri("/admin/change-requests/" + id + "/approve?reason=checked-with-HR").exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult();
    assertThat((String) body(approved, "status")).isEqualTo("approved");
    assertThat((String) body(approved, "decided_by")).isEqualTo(SECOND_ADMIN);
    long v = ((Number) body(approved, "applied_version")).longValue();
    String jws = body(approved, "approval");
    Map<String, Object> version = admin.get().uri("/admin/config/versions/" + v).accept(MediaType.APPLICATION_JSON)
        .exchange().expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody();
    assertThat(version).containsEntry("approval", jws).containsEntry("approved", true)
        .containsEntry("author", "portcullis-admin").containsEntry("parent", (int) baseVersion);
    JWSObject signed = JWSObject.parse(jws);
    assertThat(signed.getHeader().getType().toString()).isEqualTo("portcullis-approval+jws");
    assertThat(verifiesWithApprovalKeys(WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + this.admin.port())
        .build(), signed)).isTrue();
    // the approval key is not a token key: nothing it signs can pass as an access token
    JWKSet tokenKeys = JWKSet.parse(data().get().uri("/.well-known/jwks.json").exchange().expectBody(String.class)
        .returnResult().getResponseBody());
    assertThat(tokenKeys.getKeyByKeyId(signed.getHeader().getKeyID())).isNull();
    Map<String, Object> payload = signed.getPayload().toJSONObject();
    assertThat(payload).containsEntry("author", "portcullis-admin").containsEntry("approver", SECOND_ADMIN)
        .containsEntry("change_request", id);
    assertThat(payload.get("yaml_sha256")).isEqualTo(ConfigChanges.sha256(
        admin.get().uri("/admin/config/versions/" + v).accept(YAML).exchange().expectBody(String.class)
            .returnResult().getResponseBody()));
    admin.get().uri("/admin/grants/hr-headcount-approvals").exchange().expectBody()
        .jsonPath("$.actions.length()").isEqualTo(1);
    // a decided request cannot be decided again
    adminWith(secondToken).post().uri("/admin/change-requests/" + id + "/reject?reason=late").exchange()
        .expectStatus().isEqualTo(409);

    // a request overtaken by another version is superseded, not applied over it
    grant.put("actions", List.of("read", "update"));
    long stale = ((Number) ((Map<String, Object>) admin.put().uri("/admin/grants/hr-headcount-approvals?reason=restore")
        .contentType(MediaType.APPLICATION_JSON).bodyValue(grant).exchange().expectStatus().isAccepted()
        .expectBody(Map.class).returnResult().getResponseBody().get("change_request")).get("id")).longValue();
    admin.post().uri("/admin/apps/survey-sandbox/retire?reason=unrelated-change-first").exchange()
        .expectStatus().isOk();
    adminWith(secondToken).post().uri("/admin/change-requests/" + stale + "/approve?reason=ok").exchange()
        .expectStatus().isEqualTo(409).expectBody().jsonPath("$.code").isEqualTo("illegal_transition");
    admin.get().uri("/admin/change-requests/" + stale).exchange().expectBody().jsonPath("$.status")
        .isEqualTo("superseded");

    assertThat(adminEvents(admin, SECOND_ADMIN, "approve", 1))
        .anySatisfy(e -> assertThat(e).containsEntry("resource_id", String.valueOf(id))
            .containsEntry("policy_version", (int) v));
    assertThat(adminEvents(admin, "portcullis-admin", "update:requested", 2)).hasSizeGreaterThanOrEqualTo(2);
  }

  @Test
  @SuppressWarnings("unchecked")
  void simulateReportsPerAppWhichRecentDecisionsADraftWouldChange() {
    WebTestClient admin = admin();
    String inventory = GatewayTestSupport.token(data(), PG, "team-inventory");
    String survey = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    for (int i = 0; i < 3; i++) {
      assertThat(read(survey)).isEqualTo(200);
      data().get().uri("/data/inventory.items?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + inventory)
          .exchange().expectStatus().isOk();
    }
    // the draft: survey-sandbox loses its grant, the inventory grant hides supplier_email behind redact
    String draft = seededYaml
        .replace("masks: {supplier_email: email_domain}", "masks: {supplier_email: redact}");
    draft = draft.substring(0, draft.indexOf("  - id: survey-sandbox-forms"))
        + draft.substring(draft.indexOf("  # Tier 1: owner-scoped"));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    Map<String, Object> report;
    Map<String, Object> apps;
    do {
      report = admin.post().uri("/admin/config/simulate?requests=200").contentType(YAML).bodyValue(draft).exchange()
          .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody();
      apps = (Map<String, Object>) report.get("apps");
      sleep(100);
    } while ((!apps.containsKey("survey-sandbox") || !apps.containsKey("team-inventory"))
        && System.nanoTime() < deadline);
    Map<String, Object> surveyReport = (Map<String, Object>) apps.get("survey-sandbox");
    assertThat((Integer) surveyReport.get("allow_to_deny")).isGreaterThanOrEqualTo(3);
    assertThat((List<Map<String, Object>>) surveyReport.get("examples")).first().satisfies(ex -> {
      assertThat((Map<String, Object>) ex.get("before")).containsEntry("allowed", true);
      assertThat((Map<String, Object>) ex.get("after")).containsEntry("allowed", false);
    });
    Map<String, Object> inventoryReport = (Map<String, Object>) apps.get("team-inventory");
    assertThat((Integer) inventoryReport.get("allow_to_deny")).isZero();
    assertThat((Map<String, Integer>) inventoryReport.get("new_masks"))
        .hasEntrySatisfying("supplier_email:redact", n -> assertThat(n).isGreaterThanOrEqualTo(3));
    assertThat((Map<String, Integer>) inventoryReport.get("lifted_masks"))
        .hasEntrySatisfying("supplier_email:email_domain", n -> assertThat(n).isGreaterThanOrEqualTo(3));
    assertThat(apps).doesNotContainKey("portcullis-admin"); // admin traffic is not data traffic
    assertThat((List<String>) report.get("approximations")).isNotEmpty();

    // a draft adding a row filter shows up as changed row filters; nothing was applied by simulating
    String filtered = seededYaml.replace("    actions: [read, create]\n",
        "    actions: [read, create]\n    row_filter: \"row.department == 'ops'\"\n");
    assertThat(filtered).isNotEqualTo(seededYaml);
    Map<String, Object> rowReport = (Map<String, Object>) ((Map<String, Object>) admin.post()
        .uri("/admin/config/simulate?requests=200").contentType(YAML).bodyValue(filtered).exchange()
        .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody().get("apps")).get("survey-sandbox");
    assertThat((Integer) rowReport.get("row_filter_changed")).isGreaterThanOrEqualTo(3);
    assertThat(read(survey)).isEqualTo(200);
    admin.post().uri("/admin/config/simulate").contentType(YAML).bodyValue(seededYaml.replace("app: team-inventory", "app: no-such-app")).exchange()
        .expectStatus().isEqualTo(422).expectBody().jsonPath("$.code").isEqualTo("invalid_body");
    assertThat(adminEvents(admin, "portcullis-admin", "simulate", 1)).isNotEmpty();
  }

  @Test
  void appsPastTheirReviewGetRemindersThenAreAutoPausedAfterTheGraceAndCanBeRetired() throws Exception {
    WebTestClient admin = admin();
    String hr = GatewayTestSupport.token(data(), PG, "hr-headcount");
    try {
      // survey-sandbox is due 2027-03-31 (reminder window 14 days), hr-headcount was due 2027-01-31
      List<ReviewScheduler.Notice> first = reviews.check(LocalDate.of(2027, 3, 25)).block();
      assertThat(first).extracting(n -> n.appId() + ":" + n.kind())
          .contains("survey-sandbox:review_reminder", "hr-headcount:review_overdue")
          .doesNotContain("team-inventory:review_reminder");
      assertThat(reviews.check(LocalDate.of(2027, 3, 25)).block()).as("once per app and day").isEmpty();
      assertThat(adminEvents(admin, AdminAudit.LIFECYCLE_ACTOR, "review_reminder", 1))
          .anySatisfy(e -> assertThat(e).containsEntry("app_id", "survey-sandbox"));

      // 90 days of grace after 2027-01-31 end on 2027-05-01: the app is paused, its live token refused at once
      List<ReviewScheduler.Notice> later = reviews.check(LocalDate.of(2027, 5, 5)).block();
      assertThat(later).extracting(n -> n.appId() + ":" + n.kind()).contains("hr-headcount:auto_pause");
      long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
      while (hrRead(hr) != 403 && System.nanoTime() < deadline) {
        sleep(20);
      }
      data().get().uri("/data/hr.approvals?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + hr).exchange()
          .expectStatus().isForbidden().expectBody().jsonPath("$.code").isEqualTo("app_paused");
      assertThat(adminEvents(admin, AdminAudit.LIFECYCLE_ACTOR, "auto_pause", 1))
          .anySatisfy(e -> assertThat(e).containsEntry("app_id", "hr-headcount"));
      // an admin who resumes it is not overruled the same review cycle
      admin.post().uri("/admin/apps/hr-headcount/resume?reason=review-booked").exchange().expectStatus().isNoContent();
      assertThat(reviews.check(LocalDate.of(2027, 5, 6)).block())
          .extracting(ReviewScheduler.Notice::kind).doesNotContain("auto_pause");
    } finally {
      admin.post().uri("/admin/apps/hr-headcount/resume?reason=test-cleanup").exchange().expectStatus().isNoContent();
    }
    admin.get().uri("/admin/lifecycle/reviews").exchange().expectStatus().isOk().expectBody()
        .jsonPath("$.apps[?(@.app=='hr-headcount')].auto_pause_after").isEqualTo("2027-05-01");

    // retire: a tier-0 app's status becomes retired in a new version; its tokens stop working
    String survey = GatewayTestSupport.token(data(), PG, "survey-sandbox");
    admin.post().uri("/admin/apps/survey-sandbox/retire?reason=replaced-by-forms-v2").exchange()
        .expectStatus().isOk().expectBody().jsonPath("$.status").isEqualTo("applied")
        .jsonPath("$.diff.changes[0].fields[0].after").isEqualTo("retired");
    admin.get().uri("/admin/apps/survey-sandbox").exchange().expectBody().jsonPath("$.status").isEqualTo("retired");
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (read(survey) != 403 && System.nanoTime() < deadline) {
      sleep(50);
    }
    assertThat(read(survey)).isEqualTo(403);
    assertThat(adminEvents(admin, "portcullis-admin", "retire", 1)).isNotEmpty();
  }

  int hrRead(String token) {
    return data().get().uri("/data/hr.approvals?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
        .exchange().returnResult(String.class).getStatus().value();
  }

  @Test
  void anOpenOpsStreamEndsWhenItsAdminTokenIsRevokedOrTheAdminAppIsPaused() throws Exception {
    // revoked: the admin revokes its own token (RFC 7009) while its dashboard stream is open
    String token = GatewayTestSupport.token(data(), PG, "portcullis-admin");
    try (OpsStream stream = OpsStream.open(admin.port(), token)) {
      assertThat(stream.nextEvent()).isEqualTo("snapshot");
      data().post().uri("/oauth2/revoke")
          .headers(h -> h.setBasicAuth("portcullis-admin", GatewayTestSupport.secret(PG, "portcullis-admin")))
          .contentType(MediaType.APPLICATION_FORM_URLENCODED)
          .body(org.springframework.web.reactive.function.BodyInserters.fromFormData("token", token))
          .exchange().expectStatus().isOk();
      assertThat(stream.dataOfEnd()).isEqualTo("{\"reason\":\"token_revoked\"}");
    }

    // paused: another admin pauses the admin app whose token opened the stream
    String second = secondAdmin(admin());
    try (OpsStream stream = OpsStream.open(admin.port(), second)) {
      assertThat(stream.nextEvent()).isEqualTo("snapshot");
      admin().post().uri("/admin/apps/" + SECOND_ADMIN + "/pause?reason=left-the-team").exchange()
          .expectStatus().isNoContent();
      try {
        assertThat(stream.dataOfEnd()).isEqualTo("{\"reason\":\"app_paused\"}");
      } finally {
        admin().post().uri("/admin/apps/" + SECOND_ADMIN + "/resume?reason=back").exchange()
            .expectStatus().isNoContent();
      }
    }
  }

  /** An ops SSE stream opened with a fresh ticket; reads are bounded so a stream that never ends fails the test. */
  static final class OpsStream implements AutoCloseable {
    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();
    private final java.io.InputStream body;
    private final java.io.BufferedReader lines;

    private OpsStream(java.io.InputStream body) {
      this.body = body;
      this.lines = new java.io.BufferedReader(new java.io.InputStreamReader(body,
          java.nio.charset.StandardCharsets.UTF_8));
    }

    static OpsStream open(int adminPort, String token) throws Exception {
      String base = "http://127.0.0.1:" + adminPort;
      java.net.http.HttpResponse<String> issued = HTTP.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(base + "/admin/ops/tickets")).header(HttpHeaders.AUTHORIZATION, "Bearer " + token)
          .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
      String ticket = (String) ConfigChanges.JSON.readValue(issued.body(), Map.class).get("ticket");
      java.net.http.HttpResponse<java.io.InputStream> open = HTTP.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(base + "/admin/ops/stream?ticket=" + ticket)).build(),
          java.net.http.HttpResponse.BodyHandlers.ofInputStream());
      assertThat(open.statusCode()).isEqualTo(200);
      return new OpsStream(open.body());
    }

    /** The next event's name (its data is skipped). */
    String nextEvent() throws Exception {
      return bounded(() -> {
        String line;
        while ((line = lines.readLine()) != null) {
          if (line.startsWith("event:")) {
            return line.substring(6).trim();
          }
        }
        return null;
      });
    }

    /** Reads past snapshots to the {@code end} event, returns its data, and checks the stream then completes. */
    String dataOfEnd() throws Exception {
      return bounded(() -> {
        String line;
        boolean inEnd = false;
        String data = null;
        while ((line = lines.readLine()) != null) {
          if (line.startsWith("event:")) {
            inEnd = line.substring(6).trim().equals("end");
          } else if (inEnd && line.startsWith("data:")) {
            data = line.substring(5).trim();
          }
        }
        return data; // null line: the server completed the stream
      });
    }

    private static String bounded(java.util.concurrent.Callable<String> read) throws Exception {
      java.util.concurrent.ExecutorService reader = java.util.concurrent.Executors.newSingleThreadExecutor();
      try {
        return reader.submit(read).get(20, java.util.concurrent.TimeUnit.SECONDS);
      } finally {
        reader.shutdownNow();
      }
    }

    @Override
    public void close() throws Exception {
      body.close();
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void theOpenApiDocumentDescribesEveryRegisteredRoute() {
    Map<String, Object> doc = admin().get().uri("/admin/openapi.json").exchange().expectStatus().isOk()
        .expectBody(Map.class).returnResult().getResponseBody();
    assertThat(doc.get("openapi")).isEqualTo("3.0.3");
    Map<String, Map<String, Object>> paths = (Map<String, Map<String, Object>>) doc.get("paths");
    List<String> routes = new ArrayList<>(registeredRoutes(adminRoutes.routes()));
    routes.addAll(registeredRoutes(consoleRoutes.adminRoutes((request, next) -> next.handle(request))));
    routes.addAll(registeredRoutes(adminRoutes.publicRoutes()));
    routes.addAll(registeredRoutes(auditVerifyRoutes.routes((request, next) -> next.handle(request))));
    registeredRoutes(consoleRoutes.publicRoutes()).stream().filter(r -> r.contains(" /admin/")).forEach(routes::add);
    assertThat(routes).hasSizeGreaterThan(30).contains("GET /admin/ops/stream", "POST /admin/ops/tickets");
    List<String> documented = new ArrayList<>();
    paths.forEach((path, ops) -> ops.keySet().forEach(m -> documented.add(m.toUpperCase() + " " + path)));
    assertThat(documented).containsExactlyInAnyOrderElementsOf(routes);
  }

  /** "METHOD /path" of every route, read from the router itself. */
  static List<String> registeredRoutes(RouterFunction<?> router) {
    List<String> out = new ArrayList<>();
    router.accept(new RouterFunctions.Visitor() {
      @Override
      public void startNested(RequestPredicate predicate) {
      }

      @Override
      public void endNested(RequestPredicate predicate) {
      }

      @Override
      public void route(RequestPredicate predicate, HandlerFunction<?> handler) {
        String[] methodAndPath = new String[2];
        predicate.accept(new RequestPredicates.Visitor() {
          @Override
          public void method(Set<HttpMethod> methods) {
            methodAndPath[0] = methods.iterator().next().name();
          }

          @Override
          public void path(String pattern) {
            methodAndPath[1] = pattern;
          }

          @Override
          public void pathExtension(String extension) {
          }

          @Override
          public void header(String name, String value) {
          }

          @Override
          public void queryParam(String name, String value) {
          }

          @Override
          public void version(String version) {
          }

          @Override
          public void startAnd() {
          }

          @Override
          public void and() {
          }

          @Override
          public void endAnd() {
          }

          @Override
          public void startOr() {
          }

          @Override
          public void or() {
          }

          @Override
          public void endOr() {
          }

          @Override
          public void startNegate() {
          }

          @Override
          public void endNegate() {
          }

          @Override
          public void unknown(RequestPredicate predicate) {
          }
        });
        out.add(methodAndPath[0] + " " + methodAndPath[1]);
      }

      @Override
      public void resources(java.util.function.Function<ServerRequest, Mono<Resource>> lookupFunction) {
      }

      @Override
      public void attributes(Map<String, Object> attributes) {
      }

      @Override
      public void unknown(RouterFunction<?> routerFunction) {
      }
    });
    return out;
  }
}
