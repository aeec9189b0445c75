package io.portcullis.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every allowed and forbidden write of each demo template (DESIGN.md §2), as the tier-0, tier-1 and tier-2 demo apps,
 * over HTTP against real PostgreSQL: what answers, what the table holds afterwards, and what the history table holds.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class WriteTemplatesTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    DataApiClient.properties(registry, PG);
  }

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String SANDBOX = "survey-sandbox";
  private static final String INVENTORY = "team-inventory";
  private static final String HR = "hr-headcount";

  @LocalServerPort
  int port;

  DataApiClient api;

  @BeforeEach
  void client() {
    api = new DataApiClient(port, PG);
  }

  static JsonNode json(EntityExchangeResult<String> result) {
    return JSON.readTree(result.getResponseBody());
  }

  static List<String> pointers(EntityExchangeResult<String> result) {
    List<String> pointers = new ArrayList<>();
    for (JsonNode v : json(result).get("violations")) {
      pointers.add(v.get("pointer").asString());
    }
    return pointers;
  }

  static void assertProblem(EntityExchangeResult<String> result, int status, String code) {
    assertThat(result.getStatus().value()).as(result.getResponseBody()).isEqualTo(status);
    assertThat(result.getResponseHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
    assertThat(json(result).get("code").asString()).isEqualTo(code);
  }

  // ------------------------------------------------------------------------------------------- form-submission

  @Test
  void tier0AppCreatesASubmissionAndGetsItBackMaskedWithItsLocation() {
    var created = api.call(SANDBOX, HttpMethod.POST, "/data/forms.submissions",
        "{\"form\":\"canteen-survey\",\"submitter_email\":\"zoe@corp.example\",\"department\":\"ops\",\"rating\":4,"
            + "\"answer\":\"more soup\"}");
    assertThat(created.getStatus().value()).as(created.getResponseBody()).isEqualTo(201);
    JsonNode row = json(created);
    String id = row.get("id").asString();
    assertThat(created.getResponseHeaders().getLocation()).hasToString("/data/forms.submissions/" + id);
    assertThat(created.getResponseHeaders().getFirst("Portcullis-Masked")).isEqualTo("submitter_email");
    assertThat(row.get("submitter_email").asString()).isEqualTo("****@corp.example");
    assertThat(row.get("rating").asInt()).isEqualTo(4);
    assertThat(row.get("submitted_at").isNull()).isFalse();
    assertThat(api.text("SELECT submitter_email FROM demo.form_submissions WHERE id = '" + id + "'"))
        .isEqualTo("zoe@corp.example");

    var read = api.call(SANDBOX, HttpMethod.GET, "/data/forms.submissions/" + id, null);
    assertThat(read.getStatus().value()).isEqualTo(200);
    assertThat(json(read).get("answer").asString()).isEqualTo("more soup");
  }

  @Test
  void submissionsAreAppendOnlyPatchAndDeleteAre405() {
    String id = api.text("SELECT id FROM demo.form_submissions LIMIT 1");
    assertProblem(api.call(SANDBOX, HttpMethod.PATCH, "/data/forms.submissions/" + id, "{\"rating\":1}"),
        405, "method_not_allowed");
    assertProblem(api.call(SANDBOX, HttpMethod.DELETE, "/data/forms.submissions/" + id, null),
        405, "method_not_allowed");
    assertThat(api.count("SELECT count(*) FROM demo.form_submissions WHERE id = '" + id + "'")).isEqualTo(1);
  }

  @Test
  void contractViolationsAreListedEveryOneWithItsPointer() {
    long before = api.count("SELECT count(*) FROM demo.form_submissions");
    var result = api.call(SANDBOX, HttpMethod.POST, "/data/forms.submissions",
        "{\"submitter_email\":\"not an@address\",\"department\":\"marketing\",\"rating\":9,"
            + "\"id\":\"00000000-0000-0000-0000-000000000001\",\"submitted_at\":\"2026-01-01T00:00:00Z\","
            + "\"bogus\":1,\"we/ird~\":2}");
    assertProblem(result, 422, "invalid_body");
    assertThat(pointers(result)).contains("/form", "/submitter_email", "/department", "/rating", "/id",
        "/submitted_at", "/bogus", "/we~1ird~0");
    assertThat(api.count("SELECT count(*) FROM demo.form_submissions")).isEqualTo(before);
  }

  @Test
  void malformedBodiesAreInvalidBody() {
    for (String body : List.of("{\"form\":", "[1,2]", "\"text\"", "{} {}", "{\"form\":\"a\",\"form\":\"b\"}", "")) {
      assertProblem(api.call(SANDBOX, HttpMethod.POST, "/data/forms.submissions", body), 422, "invalid_body");
    }
    var wrongType = api.raw().post().uri("/data/forms.submissions")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + api.token(SANDBOX))
        .contentType(MediaType.TEXT_PLAIN).bodyValue("{\"form\":\"x\"}")
        .exchange().expectBody(String.class).returnResult();
    assertProblem(wrongType, 422, "invalid_body");
  }

  @Test
  void oversizedBodiesAre413WhetherDeclaredOrStreamed() {
    String big = "{\"answer\":\"" + "x".repeat(70 * 1024) + "\"}";
    assertProblem(api.call(SANDBOX, HttpMethod.POST, "/data/forms.submissions", big), 413, "payload_too_large");
    // Chunked, no Content-Length: the limit must hold while reading.
    Flux<DataBuffer> chunks = Flux.range(0, 200).map(i -> DefaultDataBufferFactory.sharedInstance
        .wrap(("{\"a" + i + "\":\"" + "y".repeat(1000) + "\",").getBytes(StandardCharsets.UTF_8)));
    var streamed = api.raw().post().uri("/data/forms.submissions")
        .header(HttpHeaders.AUTHORIZATION, "Bearer " + api.token(SANDBOX))
        .contentType(MediaType.APPLICATION_JSON).body(chunks, DataBuffer.class)
        .exchange().expectBody(String.class).returnResult();
    assertProblem(streamed, 413, "payload_too_large");
  }

  @Test
  void tier0AppCannotWriteOtherTemplates() {
    assertProblem(api.call(SANDBOX, HttpMethod.POST, "/data/inventory.items", "{\"name\":\"x\"}"), 403, "scope_missing");
    assertProblem(api.call(SANDBOX, HttpMethod.PATCH, "/data/hr.approvals/" + approval("mgr-1", "requested"),
        "{\"status\":\"reviewing\"}"), 403, "scope_missing");
  }

  // ------------------------------------------------------------------------------------------------- directory

  @Test
  void directoryCreateTakesTheOwnerFromTheToken() {
    var created = api.call(INVENTORY, HttpMethod.POST, "/data/inventory.items",
        "{\"name\":\"Drill 1\",\"category\":\"tools\",\"quantity\":3,\"location\":\"site-9\","
            + "\"supplier_email\":\"sales@vendor.example\",\"attrs\":{\"colour\":\"red\",\"sizes\":[1,2]}}");
    assertThat(created.getStatus().value()).as(created.getResponseBody()).isEqualTo(201);
    JsonNode row = json(created);
    String id = row.get("id").asString();
    assertThat(row.get("owner_id").asString()).isEqualTo("team-ops");
    assertThat(row.has("unit_cost")).as("denied column never returned").isFalse();
    assertThat(row.get("attrs").get("sizes").get(1).asInt()).isEqualTo(2);
    assertThat(row.get("deleted_at").isNull()).isTrue();
    assertThat(row.get("supplier_email").asString()).isEqualTo("****@vendor.example");
    assertThat(api.text("SELECT owner_id || '/' || unit_cost FROM demo.inventory_items WHERE id = '" + id + "'"))
        .isEqualTo("team-ops/0.00");
  }

  @Test
  void directoryRefusesOwnerKeyHiddenSystemAndUnknownColumnsNamingEach() {
    long before = api.count("SELECT count(*) FROM demo.inventory_items");
    var result = api.call(INVENTORY, HttpMethod.POST, "/data/inventory.items",
        "{\"owner_id\":\"team-sales\",\"id\":\"00000000-0000-0000-0000-000000000002\",\"unit_cost\":1,"
            + "\"deleted_at\":null,\"created_at\":\"2026-01-01T00:00:00Z\","
            + "\"nope\":1,\"name\":\"ok\",\"category\":\"it\",\"quantity\":\"three\"}");
    assertProblem(result, 422, "invalid_body");
    assertThat(pointers(result)).containsExactlyInAnyOrder("/owner_id", "/id", "/unit_cost", "/deleted_at",
        "/created_at", "/nope", "/quantity");
    // The hidden column answers exactly like a column that does not exist.
    assertThat(result.getResponseBody()).contains("unknown column 'unit_cost'").contains("unknown column 'nope'");
    assertThat(api.count("SELECT count(*) FROM demo.inventory_items")).isEqualTo(before);
  }

  @Test
  void directoryPatchChangesOwnRowsOnly() {
    String own = api.text("SELECT id FROM demo.inventory_items WHERE owner_id = 'team-ops' AND deleted_at IS NULL"
        + " ORDER BY id LIMIT 1");
    String others = api.text("SELECT id FROM demo.inventory_items WHERE owner_id = 'team-sales' ORDER BY id LIMIT 1");
    var patched = api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own,
        "{\"quantity\":77,\"location\":\"site-x\"}");
    assertThat(patched.getStatus().value()).as(patched.getResponseBody()).isEqualTo(200);
    assertThat(json(patched).get("quantity").asInt()).isEqualTo(77);
    assertThat(json(patched).get("supplier_email").asString()).startsWith("****@");
    assertThat(api.text("SELECT quantity || location FROM demo.inventory_items WHERE id = '" + own + "'"))
        .isEqualTo("77site-x");

    String othersBefore = api.text("SELECT quantity FROM demo.inventory_items WHERE id = '" + others + "'");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + others, "{\"quantity\":1}"),
        404, "not_found");
    assertThat(api.text("SELECT quantity FROM demo.inventory_items WHERE id = '" + others + "'")).isEqualTo(othersBefore);
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + java.util.UUID.randomUUID(),
        "{\"quantity\":1}"), 404, "not_found");

    var ownerChange = api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"owner_id\":\"team-sales\"}");
    assertProblem(ownerChange, 422, "invalid_body");
    assertThat(pointers(ownerChange)).containsExactly("/owner_id");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{}"), 422, "invalid_body");
    // A masked value may be supplied on create but never overwritten unseen.
    var masked = api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"supplier_email\":\"x@y.example\"}");
    assertProblem(masked, 422, "invalid_body");
    assertThat(pointers(masked)).containsExactly("/supplier_email");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"unit_cost\":1}"),
        422, "invalid_body");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"id\":\"" + own + "\"}"),
        422, "invalid_body");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"quantity\":1e20}"),
        422, "invalid_body");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"name\":null}"),
        422, "invalid_body");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/not-a-uuid", "{\"quantity\":1}"),
        400, "invalid_query");
    assertThat(api.text("SELECT owner_id FROM demo.inventory_items WHERE id = '" + own + "'")).isEqualTo("team-ops");
  }

  @Test
  void directoryDeleteIsSoftAndHidesTheRow() {
    String own = api.text("SELECT id FROM demo.inventory_items WHERE owner_id = 'team-ops' AND deleted_at IS NULL"
        + " ORDER BY id DESC LIMIT 1");
    String others = api.text("SELECT id FROM demo.inventory_items WHERE owner_id = 'team-lab' ORDER BY id LIMIT 1");
    var deleted = api.call(INVENTORY, HttpMethod.DELETE, "/data/inventory.items/" + own, null);
    assertThat(deleted.getStatus().value()).as(deleted.getResponseBody()).isEqualTo(204);
    assertThat(api.count("SELECT count(*) FROM demo.inventory_items WHERE id = '" + own + "' AND deleted_at IS NOT NULL"))
        .isEqualTo(1);
    assertProblem(api.call(INVENTORY, HttpMethod.GET, "/data/inventory.items/" + own, null), 404, "not_found");
    assertProblem(api.call(INVENTORY, HttpMethod.DELETE, "/data/inventory.items/" + own, null), 404, "not_found");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/inventory.items/" + own, "{\"quantity\":1}"),
        404, "not_found");
    var list = api.call(INVENTORY, HttpMethod.GET, "/data/inventory.items?limit=500", null);
    assertThat(list.getResponseBody()).doesNotContain(own);

    assertProblem(api.call(INVENTORY, HttpMethod.DELETE, "/data/inventory.items/" + others, null), 404, "not_found");
    assertThat(api.count("SELECT count(*) FROM demo.inventory_items WHERE id = '" + others + "' AND deleted_at IS NULL"))
        .isEqualTo(1);
  }

  @Test
  void tier1AppCannotWriteOtherDatasets() {
    assertProblem(api.call(INVENTORY, HttpMethod.POST, "/data/forms.submissions", "{\"form\":\"x\"}"), 403, "scope_missing");
    assertProblem(api.call(INVENTORY, HttpMethod.PATCH, "/data/hr.approvals/" + approval("mgr-1", "requested"),
        "{\"status\":\"reviewing\"}"), 403, "scope_missing");
  }

  // -------------------------------------------------------------------------------------------- approval-queue

  @Test
  void reviewerMovesARequestThroughTheStateMachineWithHistoryRows() {
    String id = approval("mgr-1", "requested");
    var reviewing = api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"reviewing\"}");
    assertThat(reviewing.getStatus().value()).as(reviewing.getResponseBody()).isEqualTo(200);
    assertThat(json(reviewing).get("status").asString()).isEqualTo("reviewing");
    assertThat(json(reviewing).get("salary_band").asString()).isNotIn("B1", "B2", "B3", "B4");
    var approved = api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"approved\"}");
    assertThat(approved.getStatus().value()).as(approved.getResponseBody()).isEqualTo(200);
    assertThat(api.text("SELECT string_agg(from_status || '>' || to_status || '@' || actor_id, ',' ORDER BY id)"
        + " FROM demo.hr_approvals_history WHERE approval_id = '" + id + "'"))
        .isEqualTo("requested>reviewing@hr-headcount,reviewing>approved@hr-headcount");

    var again = api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"rejected\"}");
    assertProblem(again, 409, "illegal_transition");
    assertThat(api.text("SELECT status FROM demo.hr_approvals WHERE id = '" + id + "'")).isEqualTo("approved");
    assertThat(api.count("SELECT count(*) FROM demo.hr_approvals_history WHERE approval_id = '" + id + "'")).isEqualTo(2);
  }

  @Test
  void illegalTransitionsAre409AndLeaveNoTrace() {
    String requested = approval("mgr-1", "requested");
    for (String to : List.of("approved", "rejected", "requested")) {
      assertProblem(api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + requested, "{\"status\":\"" + to + "\"}"),
          409, "illegal_transition");
    }
    String rejected = approval("mgr-1", "rejected");
    for (String to : List.of("requested", "reviewing", "approved")) {
      assertProblem(api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + rejected, "{\"status\":\"" + to + "\"}"),
          409, "illegal_transition");
    }
    assertThat(api.text("SELECT status FROM demo.hr_approvals WHERE id = '" + requested + "'")).isEqualTo("requested");
    assertThat(api.count("SELECT count(*) FROM demo.hr_approvals_history WHERE approval_id IN ('" + requested + "', '"
        + rejected + "')")).isZero();
  }

  @Test
  void onlyTheStateChangesAndOnlyToAKnownState() {
    String id = approval("mgr-1", "requested");
    var other = api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id,
        "{\"status\":\"reviewing\",\"reason\":\"x\",\"reviewer_id\":\"mgr-1\",\"salary_band\":\"B4\"}");
    assertProblem(other, 422, "invalid_body");
    assertThat(pointers(other)).containsExactlyInAnyOrder("/reason", "/reviewer_id", "/salary_band");
    assertProblem(api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"hacked\"}"),
        422, "invalid_body");
    assertProblem(api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":1}"), 422, "invalid_body");
    assertProblem(api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{}"), 422, "invalid_body");
    assertThat(api.text("SELECT status FROM demo.hr_approvals WHERE id = '" + id + "'")).isEqualTo("requested");
  }

  @Test
  void anotherReviewersRequestIsNotFound() {
    String id = approval("mgr-2", "requested");
    assertProblem(api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"reviewing\"}"),
        404, "not_found");
    assertThat(api.text("SELECT status FROM demo.hr_approvals WHERE id = '" + id + "'")).isEqualTo("requested");
  }

  @Test
  void theGrantDecidesCreateAndDeleteOnTheQueue() {
    // hr-headcount's grant is read + update: a create or delete is refused before any template rule.
    assertProblem(api.call(HR, HttpMethod.POST, "/data/hr.approvals", "{\"position\":\"Analyst\"}"), 403, "scope_missing");
    assertProblem(api.call(HR, HttpMethod.DELETE, "/data/hr.approvals/" + approval("mgr-1", "requested"), null),
        403, "scope_missing");
  }

  @Test
  void aTransitionWhoseHistoryRowFailsIsRolledBack() {
    String id = approval("mgr-1", "requested");
    PG.execute("ALTER TABLE demo.hr_approvals_history RENAME TO hr_approvals_history_away");
    try {
      var failed = api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"reviewing\"}");
      assertThat(failed.getStatus().value()).isGreaterThanOrEqualTo(500);
      assertThat(failed.getResponseBody()).doesNotContainIgnoringCase("hr_approvals").doesNotContain("SQL");
    } finally {
      PG.execute("ALTER TABLE demo.hr_approvals_history_away RENAME TO hr_approvals_history");
    }
    assertThat(api.text("SELECT status FROM demo.hr_approvals WHERE id = '" + id + "'")).isEqualTo("requested");
    var retried = api.call(HR, HttpMethod.PATCH, "/data/hr.approvals/" + id, "{\"status\":\"reviewing\"}");
    assertThat(retried.getStatus().value()).as(retried.getResponseBody()).isEqualTo(200);
    assertThat(api.count("SELECT count(*) FROM demo.hr_approvals_history WHERE approval_id = '" + id + "'")).isEqualTo(1);
  }

  /** A demo approval of {@code reviewer}, put in {@code status}, that no other test uses (each takes a fresh one). */
  private String approval(String reviewer, String status) {
    String id = api.text("SELECT id FROM demo.hr_approvals WHERE reviewer_id = '" + reviewer + "'"
        + " AND reason NOT LIKE 'taken%' ORDER BY id LIMIT 1");
    assertThat(id).as("a free demo approval of " + reviewer).isNotNull();
    PG.execute("UPDATE demo.hr_approvals SET reason = 'taken ' || reason, status = '" + status + "' WHERE id = '"
        + id + "'");
    return id;
  }
}
