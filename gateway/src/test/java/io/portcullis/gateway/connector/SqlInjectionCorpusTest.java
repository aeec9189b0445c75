package io.portcullis.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.PostgresExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpMethod;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A corpus of SQL-injection payloads pushed through every parameter of the data API — {@code select}, filter keys,
 * filter values under every operator, {@code order}, {@code limit}, {@code cursor} (raw and forged base64), path ids,
 * JSON body keys and values. Each request must answer 400/404/413/422 or correct data: never a 5xx, never a
 * datastore message or SQL text, never a row outside the app's row filter; and the tables must still be there with
 * their rows, changed only by the writes the gateway accepted.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SqlInjectionCorpusTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    DataApiClient.properties(registry, PG);
  }

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String INVENTORY = "team-inventory";
  private static final String HR = "hr-headcount";

  static final List<String> CORPUS = List.of(
      "'", "''", "\"", "`", "\\", "team-ops\\", "' OR '1'='1", "' OR 1=1 --", "team-ops' OR owner_id <> 'x",
      "1 OR 1=1", "') OR ('1'='1",
      "--", "x -- comment", "/*", "*/", "x/**/OR/**/1=1", "/* */ 1",
      "; DROP TABLE demo.inventory_items; --", "'; DROP TABLE demo.inventory_items; --",
      "1; DELETE FROM demo.hr_approvals", "'); TRUNCATE demo.form_submissions; --",
      "' UNION SELECT unit_cost FROM demo.inventory_items --", "1 UNION SELECT 1,2,3", "x UNION ALL SELECT NULL--",
      "1::text", "'::text", "team-ops'::text", "CAST(1 AS text)", "1e999999", "-1", "99999999999999999999",
      "\uFF07 OR \uFF071\uFF07=\uFF071", "\u02BC OR 1=1", "\u2019; DROP TABLE x", "\u0000", "team-ops\u0000' OR 1=1",
      "\u202Eteam-ops", "team-ops\u200F", "\u200B", "\uFEFFteam-ops", "te\u0301am", "\uD83D\uDE00",
      "\"owner_id\"", "owner_id\"--", "owner_id\" OR \"1\"=\"1", "(select 1)", "(SELECT unit_cost)", "owner_id) OR (1=1",
      "$1", "$$x$$", "%", "_", "*", "%00", "null", "NULL", "true", "in.(1)", "eq.1", "not.", "..", "../..",
      "owner_id,unit_cost", "unit_cost", "id desc; DROP TABLE demo.inventory_items", "name.desc,(select 1)",
      "0x27", "char(39)", "pg_sleep(5)", "1; SELECT pg_sleep(5)", "${jndi:ldap://x}", "\n\r", "\t",
      "2026-01-01'; --", "00000000-0000-0000-0000-000000000000' OR '1'='1");

  static final List<String> OPERATORS = List.of("eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "in", "is",
      "not.eq", "not.like", "not.in");

  /** Text that only the server could have produced: a leak of SQL or of the datastore's own messages. */
  static final List<String> LEAKS = List.of("sqlstate", "syntax error", "error:", "postgres", "r2dbc", "exception",
      "from \"demo\"", "\"demo\".", "where (", "select \"", "relation ", "\tat ");

  static final Set<Integer> ACCEPTABLE = Set.of(200, 201, 204, 400, 404, 413, 422);

  @LocalServerPort
  int port;

  DataApiClient api;

  @BeforeEach
  void client() {
    api = new DataApiClient(port, PG);
  }

  private long inventoryRows;
  private long formRows;
  private long approvalRows;
  private int created;

  @Test
  void everyParameterWithEveryPayloadAnswersSafely() {
    inventoryRows = api.count("SELECT count(*) FROM demo.inventory_items");
    formRows = api.count("SELECT count(*) FROM demo.form_submissions");
    approvalRows = api.count("SELECT count(*) FROM demo.hr_approvals");
    String approvalStates = api.text("SELECT string_agg(status, ',' ORDER BY id) FROM demo.hr_approvals");
    String ownId = api.text("SELECT id FROM demo.inventory_items WHERE owner_id = 'team-ops' AND deleted_at IS NULL"
        + " ORDER BY id LIMIT 1");
    SoftAssertions soft = new SoftAssertions();
    int requests = 0;
    for (String p : CORPUS) {
      List<URI> reads = new ArrayList<>();
      reads.add(query("select", p));
      reads.add(query("select", "id," + p));
      reads.add(query(p, "eq.x"));
      reads.add(query(p, "eq." + p));
      for (String op : OPERATORS) {
        String value = op.endsWith("in") ? "(" + p + ")" : p;
        reads.add(query("name", op + "." + value));
        reads.add(query("owner_id", op + "." + value));
        reads.add(query("quantity", op + "." + value));
        reads.add(query("created_at", op + "." + value));
        reads.add(query("id", op + "." + value));
      }
      reads.add(query("name", "in.(\"" + p + "\",Laptop 3)"));
      reads.add(query("order", p));
      reads.add(query("order", "name." + p));
      reads.add(query("order", p + ".desc"));
      reads.add(query("limit", p));
      reads.add(query("cursor", p));
      reads.add(query("cursor", forged(p)));
      reads.add(queryOrdered("name.desc", forged(p, "00000000-0000-0000-0000-000000000000")));
      reads.add(queryOrdered("quantity.asc", forged(p, "00000000-0000-0000-0000-000000000000")));
      reads.add(path("/data/inventory.items/{id}", p));
      for (URI uri : reads) {
        requests++;
        check(soft, api.call(INVENTORY, HttpMethod.GET, uri, null), "GET " + uri, "owner_id", "team-ops");
      }
      for (String op : List.of("eq", "neq", "like", "in")) {
        String value = op.equals("in") ? "(" + p + ")" : p;
        URI uri = UriComponentsBuilder.fromPath("/data/hr.approvals").queryParam("status", "{v}").encode()
            .buildAndExpand(op + "." + value).toUri();
        requests++;
        check(soft, api.call(HR, HttpMethod.GET, absolute(uri), null), "GET " + uri, "reviewer_id", "mgr-1");
      }

      // Writes: path ids, body keys, body values.
      requests += 4;
      check(soft, api.call(INVENTORY, HttpMethod.PATCH, path("/data/inventory.items/{id}", p), "{\"quantity\":1}"),
          "PATCH id " + p, "owner_id", "team-ops");
      check(soft, api.call(INVENTORY, HttpMethod.DELETE, path("/data/inventory.items/{id}", p), null),
          "DELETE id " + p, "owner_id", "team-ops");
      check(soft, api.call(HR, HttpMethod.PATCH, path("/data/hr.approvals/{id}", p), "{\"status\":\"reviewing\"}"),
          "PATCH approval id " + p, "reviewer_id", "mgr-1");
      ObjectNode keyed = JSON.createObjectNode().put("name", "n").put("category", "c").put("quantity", 1).put(p, "x");
      check(soft, api.call(INVENTORY, HttpMethod.POST, api.uri("/data/inventory.items"), keyed.toString()),
          "POST key " + p, "owner_id", "team-ops");
      for (String column : List.of("name", "category", "location", "attrs", "quantity", "supplier_email", "owner_id")) {
        ObjectNode body = JSON.createObjectNode().put("name", "n").put("category", "c").put("quantity", 1);
        if (column.equals("attrs")) {
          body.putObject("attrs").put(p, p);
        } else {
          body.put(column, p);
        }
        requests++;
        check(soft, api.call(INVENTORY, HttpMethod.POST, api.uri("/data/inventory.items"), body.toString()),
            "POST " + column + "=" + p, "owner_id", "team-ops");
      }
      ObjectNode patch = JSON.createObjectNode().put("location", p);
      requests += 2;
      check(soft, api.call(INVENTORY, HttpMethod.PATCH, api.uri("/data/inventory.items/" + ownId), patch.toString()),
          "PATCH location=" + p, "owner_id", "team-ops");
      ObjectNode state = JSON.createObjectNode().put("status", p);
      String approval = api.text("SELECT id FROM demo.hr_approvals WHERE reviewer_id = 'mgr-1' AND status = 'requested'"
          + " ORDER BY id LIMIT 1");
      check(soft, api.call(HR, HttpMethod.PATCH, api.uri("/data/hr.approvals/" + approval), state.toString()),
          "PATCH status=" + p, "reviewer_id", "mgr-1");
    }
    soft.assertAll();

    assertThat(requests).isGreaterThan(5000);
    assertThat(api.count("SELECT count(*) FROM demo.inventory_items")).isEqualTo(inventoryRows + created);
    assertThat(api.count("SELECT count(*) FROM demo.form_submissions")).isEqualTo(formRows);
    assertThat(api.count("SELECT count(*) FROM demo.hr_approvals")).isEqualTo(approvalRows);
    assertThat(api.count("SELECT count(*) FROM demo.inventory_items WHERE owner_id <> 'team-ops'"
        + " AND (deleted_at IS NOT NULL OR created_at > now() - interval '1 day')")).as("other owners' rows untouched")
        .isZero();
    assertThat(api.text("SELECT string_agg(status, ',' ORDER BY id) FROM demo.hr_approvals")).isEqualTo(approvalStates);
    assertThat(api.count("SELECT count(*) FROM demo.hr_approvals_history")).isZero();
    // The payloads went in as data: the stored text is exactly what was sent.
    assertThat(api.count("SELECT count(*) FROM demo.inventory_items WHERE name = '''; DROP TABLE demo.inventory_items; --'"
        + " AND owner_id = 'team-ops'")).isEqualTo(1);
  }

  private void check(SoftAssertions soft, EntityExchangeResult<String> result, String what, String scopeColumn,
      String scopeValue) {
    int status = result.getStatus().value();
    String body = result.getResponseBody() == null ? "" : result.getResponseBody();
    soft.assertThat(status).as(what + " → " + abbreviate(body)).isIn(ACCEPTABLE);
    String lower = body.toLowerCase(Locale.ROOT);
    for (String leak : LEAKS) {
      soft.assertThat(lower).as(what + " leaks '" + leak + "'").doesNotContain(leak);
    }
    if (status == 201) {
      created++;
    }
    if (status == 200 || status == 201) {
      JsonNode json = JSON.readTree(body);
      for (JsonNode row : json.isArray() ? json : List.of(json)) {
        soft.assertThat(row.has("unit_cost")).as(what + " returned a denied column").isFalse();
        if (row.has(scopeColumn)) {
          soft.assertThat(row.get(scopeColumn).asString()).as(what + " row outside the row filter").isEqualTo(scopeValue);
        }
      }
    }
  }

  private URI query(String key, String value) {
    return absolute(UriComponentsBuilder.fromPath("/data/inventory.items").queryParam("{k}", "{v}").encode()
        .buildAndExpand(key, value).toUri());
  }

  private URI queryOrdered(String order, String cursor) {
    return absolute(UriComponentsBuilder.fromPath("/data/inventory.items").queryParam("order", "{o}")
        .queryParam("cursor", "{c}").encode().buildAndExpand(order, cursor).toUri());
  }

  private URI path(String template, String id) {
    return absolute(UriComponentsBuilder.fromPath(template).encode().buildAndExpand(id).toUri());
  }

  private URI absolute(URI relative) {
    return api.uri(relative.getRawPath() + (relative.getRawQuery() == null ? "" : "?" + relative.getRawQuery()));
  }

  /** A well-formed cursor (base64url JSON array of strings) carrying the payloads as order values. */
  private static String forged(String... values) {
    var array = JSON.createArrayNode();
    for (String v : values) {
      array.add(v);
    }
    return Base64.getUrlEncoder().withoutPadding().encodeToString(array.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static String abbreviate(String s) {
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }
}
