package io.portcullis.audit.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.sun.net.httpserver.HttpServer;
import io.openlineage.client.OpenLineage;
import io.openlineage.client.OpenLineageClientUtils;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.EventType;
import io.portcullis.audit.Outcome;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineageEmitterTest {

  static final Instant T0 = Instant.parse("2026-11-02T10:15:07Z");
  static final ObjectMapper JSON = new ObjectMapper();
  static JsonSchema schema;

  @BeforeAll
  static void loadSchema() throws Exception {
    try (InputStream in = LineageEmitterTest.class.getResourceAsStream("/openlineage/OpenLineage-2-0-2-RunEvent.schema.json")) {
      SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
      schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in, config);
    }
  }

  static LineageAggregator aggregator() {
    return new LineageAggregator(URI.create("urn:portcullis:gateway:test"), "portcullis", "portcullis",
        Duration.ofSeconds(5));
  }

  static AuditEvent request(Instant at, String app, String dataset, String action, Outcome outcome, long rows) {
    return AuditEvent.builder().timestamp(at).eventType(EventType.REQUEST).appId(app).resourceType("dataset")
        .resourceId(dataset).action(action).outcome(outcome).status(outcome == Outcome.ALLOWED ? 200 : 403)
        .rows(rows).bytes(rows * 100).build();
  }

  /** Two minutes of traffic by two apps: many requests, few run events. */
  static LineageAggregator traffic() {
    LineageAggregator agg = aggregator();
    for (int i = 0; i < 50; i++) {
      agg.record(request(T0.plusSeconds(i % 40), "team-inventory", "inventory.items", "read", Outcome.ALLOWED, 2));
    }
    agg.record(request(T0.plusSeconds(1), "team-inventory", "inventory.items", "create", Outcome.ALLOWED, 1));
    agg.record(request(T0.plusSeconds(2), "team-inventory", "inventory.items", "update", Outcome.ALLOWED, 1));
    agg.record(request(T0.plusSeconds(3), "etl-probe", "raw.clickstream", "read", Outcome.ALLOWED, 10));
    agg.record(request(T0.plusSeconds(4), "etl-probe", "forms.submissions", "read", Outcome.ALLOWED, 3));
    agg.record(request(T0.plusSeconds(70), "etl-probe", "forms.submissions", "read", Outcome.ALLOWED, 3));
    // not lineage: denied requests and broker events
    agg.record(request(T0.plusSeconds(5), "etl-probe", "hr.approvals", "read", Outcome.DENIED, 0));
    agg.record(AuditEvent.builder().timestamp(T0).eventType(EventType.TOKEN_ISSUED).appId("etl-probe")
        .resourceType("token").resourceId("jti-1").action("client_credentials").outcome(Outcome.ALLOWED).build());
    return agg;
  }

  @Test
  void aggregatesPerAppAndMinuteIntoRunEventsThatValidateAgainstTheOpenLineageSchema() throws Exception {
    LineageAggregator agg = traffic();
    // 10:16:03 — the 10:15 minute is still within its grace period
    assertThat(agg.drain(Instant.parse("2026-11-02T10:16:03Z"))).isEmpty();
    List<OpenLineage.RunEvent> closed = agg.drain(Instant.parse("2026-11-02T10:16:06Z"));
    assertThat(closed).extracting(e -> e.getJob().getName()).containsExactly("etl-probe", "team-inventory");

    for (OpenLineage.RunEvent e : closed) {
      String json = OpenLineageClientUtils.toJson(e);
      Set<ValidationMessage> problems = schema.validate(JSON.readTree(json));
      assertThat(problems).as(json).isEmpty();
    }
    // the schema does bite: a run without an id, or a custom facet without _schemaURL, is refused
    JsonNode broken = JSON.readTree(OpenLineageClientUtils.toJson(closed.get(1)));
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.at("/run")).remove("runId");
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.at("/inputs/0/inputFacets/portcullis_access"))
        .remove("_schemaURL");
    assertThat(schema.validate(broken)).hasSize(2);

    JsonNode inventory = JSON.readTree(OpenLineageClientUtils.toJson(closed.get(1)));
    assertThat(inventory.at("/eventType").asText()).isEqualTo("COMPLETE");
    assertThat(inventory.at("/job/namespace").asText()).isEqualTo("portcullis");
    assertThat(inventory.at("/run/facets/nominalTime/nominalStartTime").asText()).startsWith("2026-11-02T10:15");
    assertThat(inventory.at("/inputs/0/name").asText()).isEqualTo("inventory.items");
    assertThat(inventory.at("/inputs/0/inputFacets/portcullis_access/requests").asLong()).isEqualTo(50);
    assertThat(inventory.at("/inputs/0/inputFacets/portcullis_access/rows").asLong()).isEqualTo(100);
    assertThat(inventory.at("/outputs/0/outputFacets/portcullis_access/requests").asLong()).isEqualTo(2);
    assertThat(inventory.at("/job/facets/portcullis_rawDataAccess").isMissingNode()).isTrue();

    JsonNode probe = JSON.readTree(OpenLineageClientUtils.toJson(closed.get(0)));
    assertThat(probe.at("/inputs")).hasSize(2); // the denied hr.approvals read is no lineage
    assertThat(probe.at("/job/facets/portcullis_rawDataAccess/readsRaw").asBoolean()).isTrue();
    assertThat(probe.at("/job/facets/portcullis_rawDataAccess/datasets/0").asText()).isEqualTo("raw.clickstream");

    // the next minute goes out once it closes, as its own run
    List<OpenLineage.RunEvent> next = agg.drainAll();
    assertThat(next).hasSize(1);
    assertThat(next.get(0).getRun().getRunId()).isNotEqualTo(closed.get(0).getRun().getRunId());
    assertThat(schema.validate(JSON.readTree(OpenLineageClientUtils.toJson(next.get(0))))).isEmpty();
  }

  @Test
  void httpTransportPostsEachRunEventToTheLineageEndpoint() throws Exception {
    List<String> bodies = new CopyOnWriteArrayList<>();
    List<String> auth = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/v1/lineage", exchange -> {
      bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      auth.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
      exchange.sendResponseHeaders(201, -1);
      exchange.close();
    });
    server.start();
    try {
      URI url = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
      LineageEmitter emitter = new LineageEmitter(traffic(),
          new HttpLineageTransport(url, "marquez-key", Duration.ofSeconds(5)), Duration.ofMinutes(1),
          Clock.fixed(T0, ZoneOffset.UTC));
      assertThat(emitter.flushAll().block(Duration.ofSeconds(30))).isEqualTo(3);
      emitter.close();
    } finally {
      server.stop(0);
    }
    assertThat(bodies).hasSize(3);
    assertThat(auth).containsOnly("Bearer marquez-key");
    for (String body : bodies) {
      assertThat(schema.validate(JSON.readTree(body))).as(body).isEmpty();
    }
  }

  @Test
  void fileTransportWritesOneJsonLinePerRunEvent(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("lineage/events.jsonl");
    try (LineageEmitter emitter = new LineageEmitter(traffic(), new FileLineageTransport(file), Duration.ofMinutes(1),
        Clock.systemUTC())) {
      assertThat(emitter.flushAll().block(Duration.ofSeconds(30))).isEqualTo(3);
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(3);
    for (String line : lines) {
      assertThat(schema.validate(JSON.readTree(line))).isEmpty();
    }
  }

  @Test
  void aFailingServerIsRetriedThenTheEventIsDroppedWithoutFailingTheEmitter() {
    LineageEmitter emitter = new LineageEmitter(traffic(),
        new HttpLineageTransport(URI.create("http://127.0.0.1:1"), null, Duration.ofMillis(500)), Duration.ofMinutes(1),
        Clock.systemUTC());
    assertThat(emitter.flushAll().block(Duration.ofSeconds(60))).isZero();
    emitter.close();
  }
}
