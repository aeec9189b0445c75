package io.portcullis.gateway.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditVerifier;
import io.portcullis.audit.CheckpointFile;
import io.portcullis.audit.VerificationReport;
import io.portcullis.audit.Violation;
import io.portcullis.gateway.GatewayTestSupport;
import io.portcullis.gateway.admin.AdminServer;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpHeaders;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.json.JsonMapper;

/**
 * Tamper evidence in a running gateway (issue #7): real requests leave checkpoints signed with the key the admin port
 * publishes; an attacker with superuser access who edits an event, forges a checkpoint or deletes the newest events
 * is named by {@code GET /admin/audit/verify}. And the auditors' "who touched dataset X" query. The kinds of tampering
 * the verifier tells apart are covered against the table directly in audit-sink's AuditVerifierTest.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class AuditCheckpointGatewayTest {

  static final Path EXPORT = Path.of(GatewayTestSupport.tempDir("checkpoint-export")).resolve("checkpoints.jsonl");
  static final JsonMapper JSON = JsonMapper.builder().build();

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    GatewayTestSupport.demoGateway(registry, PG);
    // by count only, so the tests know which events no checkpoint covers yet
    registry.add("portcullis.audit.checkpoint-every", () -> "5");
    registry.add("portcullis.audit.checkpoint-interval", () -> "1h");
    registry.add("portcullis.audit.checkpoint-export", EXPORT::toString);
  }

  @LocalServerPort
  int port;

  @Autowired
  AdminServer admin;

  @Autowired
  AuditPipeline pipeline;

  @Autowired
  ConnectionFactory connections;

  String inventory;
  String hr;
  WebTestClient adminClient;

  WebTestClient data() {
    return WebTestClient.bindToServer().baseUrl("http://localhost:" + port).responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  WebTestClient anonymousAdmin() {
    return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + admin.port())
        .responseTimeout(Duration.ofSeconds(60)).build();
  }

  @BeforeEach
  void tokens() {
    inventory = GatewayTestSupport.token(data(), PG, "team-inventory");
    hr = GatewayTestSupport.token(data(), PG, "hr-headcount");
    adminClient = anonymousAdmin().mutate()
        .defaultHeader(HttpHeaders.AUTHORIZATION, "Bearer " + GatewayTestSupport.token(data(), PG, "portcullis-admin"))
        .build();
  }

  @Test
  void checkpointsAreSignedWithThePublishedKeyExportedAndTheChainVerifies() throws Exception {
    traffic(12);
    pipeline.flush().block(Duration.ofSeconds(30));
    List<Checkpoint> stored = checkpoints();
    assertThat(stored).hasSizeGreaterThanOrEqualTo(2);

    // the public key, without any token, under the new name and the old one alike
    String published = anonymousAdmin().get().uri("/admin/signing-keys").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody();
    assertThat(anonymousAdmin().get().uri("/admin/approval-keys").exchange().expectStatus().isOk()
        .expectBody(String.class).returnResult().getResponseBody()).isEqualTo(published);
    JWKSet keys = JWKSet.parse(published);
    for (Checkpoint cp : stored) {
      JWSObject jws = JWSObject.parse(cp.jws);
      assertThat(jws.getHeader().getType().getType()).isEqualTo("portcullis-audit-checkpoint+jws");
      assertThat(jws.getHeader().getKeyID()).isEqualTo(cp.kid);
      ECKey key = keys.getKeyByKeyId(cp.kid).toECKey();
      assertThat(key.isPrivate()).isFalse();
      assertThat(jws.verify(new ECDSAVerifier(key))).as("checkpoint at seq %s", cp.seq).isTrue();
      assertThat(jws.getPayload().toString()).contains("\"head\":\"" + cp.head + "\"");
    }

    // every stored checkpoint also went to the export file, as one JSON line
    List<String> lines = Files.readAllLines(EXPORT);
    List<String> exportedJws = lines.stream().map(l -> (String) JSON.readValue(l, Map.class).get("jws")).toList();
    assertThat(exportedJws).containsAll(stored.stream().map(c -> c.jws).toList());

    Map<String, Object> report = verify("");
    assertThat(report.get("ok")).as("%s", report.get("summary")).isEqualTo(true);
    assertThat(report.get("signatures_checked")).isEqualTo(true);
    assertThat(report.get("chain_id")).isEqualTo(pipeline.chainId());
    assertThat(((Number) report.get("events_checked")).longValue())
        .isGreaterThanOrEqualTo(stored.get(stored.size() - 1).seq);
    assertThat(((Number) report.get("live_head_seq")).longValue()).isGreaterThanOrEqualTo(stored.get(stored.size() - 1).seq);
    List<Map<String, Object>> reported = list(report, "checkpoints");
    assertThat(reported).extracting(c -> ((Number) c.get("seq")).longValue())
        .containsAll(stored.stream().map(c -> c.seq).toList());
    assertThat(reported).allSatisfy(c -> assertThat(c.get("matched")).isEqualTo(true));

    // a slice, and the page to go on from; a range too large to hold in memory is refused
    Map<String, Object> slice = verify("?from=2&to=4");
    assertThat(slice).containsEntry("ok", true).containsEntry("events_checked", 3).containsEntry("next_from", 5);
    adminClient.get().uri("/admin/audit/verify?from=1&to=1000000").exchange().expectStatus().isBadRequest()
        .expectBody().jsonPath("$.code").isEqualTo("invalid_query");
  }

  @Test
  void verifyNamesAnEventEditedInTheTableAndAForgedCheckpoint() throws Exception {
    traffic(12);
    pipeline.flush().block(Duration.ofSeconds(30));
    List<Checkpoint> stored = checkpoints();
    Checkpoint first = stored.get(0);
    Checkpoint last = stored.get(stored.size() - 1);
    // a request event a checkpoint covers
    long seq;
    String eventId;
    long rows;
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement("SELECT seq, event_id, \"rows\" "
        + "FROM portcullis.audit_events WHERE chain_id = ? AND seq <= ? AND event_type = 'request' AND \"rows\" "
        + "IS NOT NULL ORDER BY seq DESC LIMIT 1")) {
      st.setString(1, pipeline.chainId());
      st.setLong(2, last.seq);
      try (ResultSet rs = st.executeQuery()) {
        assertThat(rs.next()).as("a request event up to seq %s", last.seq).isTrue();
        seq = rs.getLong(1);
        eventId = rs.getString(2);
        rows = rs.getLong(3);
      }
    }

    // the attacker turns the append-only triggers off for the session and shrinks what was read
    asAttacker("UPDATE portcullis.audit_events SET \"rows\" = " + (rows + 1000) + " WHERE chain_id = '"
        + pipeline.chainId() + "' AND seq = " + seq);
    try {
      Map<String, Object> report = verify("");
      assertThat(report.get("ok")).isEqualTo(false);
      Map<String, Object> violation = map(report, "violation");
      assertThat(violation).containsEntry("kind", "altered").containsEntry("event_id", eventId);
      assertThat(((Number) violation.get("seq")).longValue()).isEqualTo(seq);
      assertThat(list(report, "checkpoints")).allSatisfy(c -> assertThat(c.get("matched"))
          .isEqualTo(((Number) c.get("seq")).longValue() < seq));
    } finally {
      asAttacker("UPDATE portcullis.audit_events SET \"rows\" = " + rows + " WHERE chain_id = '"
          + pipeline.chainId() + "' AND seq = " + seq);
    }
    assertThat(verify("").get("ok")).isEqualTo(true);

    // a checkpoint re-signed by someone without the gateway's key (same kid, same payload)
    JWSObject genuine = JWSObject.parse(first.jws);
    JWSObject forged = new JWSObject(genuine.getHeader(), genuine.getPayload());
    forged.sign(new ECDSASigner(new ECKeyGenerator(Curve.P_256).keyID(first.kid).generate()));
    asAttacker("UPDATE portcullis.audit_checkpoints SET jws = '" + forged.serialize() + "' WHERE chain_id = '"
        + pipeline.chainId() + "' AND seq = " + first.seq);
    try {
      Map<String, Object> report = verify("");
      assertThat(report.get("ok")).isEqualTo(false);
      Map<String, Object> violation = map(report, "violation");
      assertThat(violation).containsEntry("kind", "checkpoint_invalid");
      assertThat(((Number) violation.get("seq")).longValue()).isEqualTo(first.seq);
      assertThat((String) violation.get("detail")).contains("signature does not verify");
    } finally {
      asAttacker("UPDATE portcullis.audit_checkpoints SET jws = '" + first.jws + "' WHERE chain_id = '"
          + pipeline.chainId() + "' AND seq = " + first.seq);
    }
    assertThat(verify("").get("ok")).isEqualTo(true);
  }

  @Test
  void deletingTheNewestEventsIsDetectedBeforeAndAfterTheLastCheckpointAndWithItsCheckpoint() throws Exception {
    traffic(7);
    pipeline.flush().block(Duration.ofSeconds(30));
    List<Checkpoint> stored = checkpoints();
    long lastCheckpoint = stored.get(stored.size() - 1).seq;
    if (maxSeq() == lastCheckpoint) {
      traffic(1); // fewer than checkpoint-every: no checkpoint covers it
      pipeline.flush().block(Duration.ofSeconds(30));
    }
    assertThat(maxSeq()).isGreaterThan(lastCheckpoint);
    String chain = pipeline.chainId();

    // only events no checkpoint covers: the table alone cannot tell, the running gateway can
    asAttacker("CREATE TABLE public.stash AS SELECT * FROM portcullis.audit_events WHERE chain_id = '" + chain
        + "' AND seq > " + lastCheckpoint, "DELETE FROM portcullis.audit_events WHERE chain_id = '" + chain
        + "' AND seq > " + lastCheckpoint);
    try {
      Map<String, Object> report = verify("");
      assertThat(report.get("ok")).isEqualTo(false);
      Map<String, Object> violation = map(report, "violation");
      assertThat(violation).containsEntry("kind", "removed");
      assertThat(((Number) violation.get("seq")).longValue()).isEqualTo(lastCheckpoint + 1);
      assertThat((String) violation.get("detail")).contains("table ends at seq " + lastCheckpoint);

      // back past the checkpoint: its signed head and count no longer match, which any verifier (the CLI) sees
      asAttacker("INSERT INTO public.stash SELECT * FROM portcullis.audit_events WHERE chain_id = '" + chain
          + "' AND seq > " + (lastCheckpoint - 2), "DELETE FROM portcullis.audit_events WHERE chain_id = '" + chain
          + "' AND seq > " + (lastCheckpoint - 2));
      JWKSet keys = JWKSet.parse(anonymousAdmin().get().uri("/admin/signing-keys").exchange()
          .expectBody(String.class).returnResult().getResponseBody());
      VerificationReport offline = new AuditVerifier(connections, keys).verify(chain, 1, Long.MAX_VALUE)
          .block(Duration.ofSeconds(30));
      assertThat(offline.ok()).isFalse();
      assertThat(offline.violation().kind()).isEqualTo(Violation.Kind.REMOVED);
      assertThat(offline.violation().seq()).isEqualTo(lastCheckpoint - 1);
      assertThat(offline.violation().detail()).contains("a checkpoint signed seq " + lastCheckpoint);

      // and the checkpoint deleted too: the table agrees with itself, the exported copy does not
      asAttacker("CREATE TABLE public.stash_cp AS SELECT * FROM portcullis.audit_checkpoints WHERE chain_id = '"
          + chain + "' AND seq = " + lastCheckpoint, "DELETE FROM portcullis.audit_checkpoints WHERE chain_id = '"
          + chain + "' AND seq = " + lastCheckpoint);
      assertThat(new AuditVerifier(connections, keys).verify(chain, 1, Long.MAX_VALUE)
          .block(Duration.ofSeconds(30)).ok()).isTrue();
      VerificationReport exported = new AuditVerifier(connections, CheckpointFile.read(EXPORT), keys)
          .verify(chain, 1, Long.MAX_VALUE).block(Duration.ofSeconds(30));
      assertThat(exported.ok()).isFalse();
      assertThat(exported.violation().kind()).isEqualTo(Violation.Kind.REMOVED);
      assertThat(exported.violation().seq()).isEqualTo(lastCheckpoint - 1);
    } finally {
      asAttacker("INSERT INTO portcullis.audit_events SELECT * FROM public.stash ORDER BY seq",
          "DROP TABLE public.stash");
      asAttacker("DO $$ BEGIN IF to_regclass('public.stash_cp') IS NOT NULL THEN "
          + "INSERT INTO portcullis.audit_checkpoints SELECT * FROM public.stash_cp; DROP TABLE public.stash_cp; "
          + "END IF; END $$");
    }
    assertThat(verify("").get("ok")).isEqualTo(true);
  }

  @Test
  void auditEventsFilterByDatasetNameOverATimeRange() throws Exception {
    Instant from = Instant.now();
    traffic(4);
    pipeline.flush().block(Duration.ofSeconds(30));
    Instant to = Instant.now().plusSeconds(1);

    for (String dataset : List.of("inventory.items", "hr.approvals")) {
      Map<String, Object> page = adminClient.get()
          .uri("/admin/audit/events?dataset=" + dataset + "&from=" + from + "&to=" + to + "&limit=500").exchange()
          .expectStatus().isOk().expectBody(Map.class).returnResult().getResponseBody();
      List<Map<String, Object>> events = list(page, "events");
      assertThat(events).as(dataset).hasSize(4)
          .allSatisfy(e -> assertThat(e).containsEntry("resource_type", "dataset").containsEntry("resource_id", dataset)
              .containsEntry("app_id", dataset.equals("hr.approvals") ? "hr-headcount" : "team-inventory"));
    }
    assertThat(list(adminClient.get().uri("/admin/audit/events?dataset=dataset").exchange().expectStatus().isOk()
        .expectBody(Map.class).returnResult().getResponseBody(), "events")).isEmpty();

    // an index serves "dataset X between T1 and T2": with sequential scans priced out, the plan has none
    try (Connection c = PG.connect(); Statement st = c.createStatement()) {
      st.execute("SET enable_seqscan = off");
      StringBuilder plan = new StringBuilder();
      try (ResultSet rs = st.executeQuery("EXPLAIN SELECT * FROM portcullis.audit_events WHERE resource_type = "
          + "'dataset' AND resource_id = 'inventory.items' AND \"timestamp\" >= now() - interval '1 day' "
          + "AND \"timestamp\" < now() ORDER BY \"timestamp\" DESC, event_id DESC LIMIT 50")) {
        while (rs.next()) {
          plan.append(rs.getString(1)).append('\n');
        }
      }
      assertThat(plan.toString()).doesNotContain("Seq Scan").contains("resource_id_timestamp_event_id_idx");
    }
  }

  /** n reads of inventory.items and n of hr.approvals, each answered (and so audited) before the next. */
  void traffic(int n) {
    for (int i = 0; i < n; i++) {
      data().get().uri("/data/inventory.items?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + inventory)
          .exchange().expectStatus().isOk();
      data().get().uri("/data/hr.approvals?limit=1").header(HttpHeaders.AUTHORIZATION, "Bearer " + hr)
          .exchange().expectStatus().isOk();
    }
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> verify(String query) {
    return adminClient.get().uri("/admin/audit/verify" + query).exchange().expectStatus().isOk()
        .expectBody(Map.class).returnResult().getResponseBody();
  }

  /** As a database superuser with the append-only triggers off for the session (what an insider would do). */
  static void asAttacker(String... sql) {
    String[] all = new String[sql.length + 1];
    all[0] = "SET session_replication_role = replica";
    System.arraycopy(sql, 0, all, 1, sql.length);
    PG.execute(all);
  }

  record Checkpoint(long seq, String head, String kid, String jws) {
  }

  List<Checkpoint> checkpoints() throws SQLException {
    List<Checkpoint> out = new ArrayList<>();
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement("SELECT seq, head_hash, kid, jws "
        + "FROM portcullis.audit_checkpoints WHERE chain_id = ? ORDER BY seq")) {
      st.setString(1, pipeline.chainId());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(new Checkpoint(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        }
      }
    }
    return out;
  }

  long maxSeq() throws SQLException {
    try (Connection c = PG.connect(); PreparedStatement st = c.prepareStatement(
        "SELECT max(seq) FROM portcullis.audit_events WHERE chain_id = ?")) {
      st.setString(1, pipeline.chainId());
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Map<String, Object> body, String key) {
    return (Map<String, Object>) body.get(key);
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> body, String key) {
    return (List<Map<String, Object>>) body.get(key);
  }
}
