package io.portcullis.audit;

import static io.portcullis.audit.AuditFixtures.request;
import static io.portcullis.audit.AuditFixtures.tamper;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.audit.Violation.Kind;
import io.portcullis.testsupport.PostgresExtension;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each test writes its own 40-event chain, tampers with it, and verifies. A checkpoint is signed at the first batch
 * boundary 10 or more events after the one before, and at close: at 10, 20, 30, 40 when the batches are full, but the
 * 5 ms batch interval can move them, so tests that touch a checkpoint look up where it fell.
 */
class AuditVerifierTest {

  @RegisterExtension static final PostgresExtension PG = new PostgresExtension();
  static ConnectionFactory cf;
  static AuditVerifier verifier;
  static AuditQuery query;

  @TempDir Path dir;

  @BeforeAll
  static void schema() {
    cf = ConnectionFactories.get(PG.r2dbcUrl());
    AuditSchema.apply(cf).block(Duration.ofSeconds(30));
    verifier = new AuditVerifier(cf, AuditFixtures.PUBLIC_KEYS);
    query = AuditQuery.create(cf);
  }

  List<AuditEvent> chain(String chainId) {
    AuditPipeline p = AuditPipeline.builder(new PostgresAuditSink(cf), chainId, dir).batchSize(5)
        .batchInterval(Duration.ofMillis(5))
        .checkpoints(new CheckpointSigner(AuditFixtures.KEY), new PostgresCheckpointStore(cf), 10, Duration.ofHours(1))
        .build();
    p.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 40; i++) {
      p.emit(request(i));
    }
    p.close();
    return query.chain(chainId, 1, Long.MAX_VALUE).collectList().block();
  }

  Violation violation(String chainId) {
    VerificationReport report = verifier.verify(chainId, 1, Long.MAX_VALUE).block();
    assertThat(report.ok()).as("tampering went unnoticed").isFalse();
    return report.violation();
  }

  static void update(AuditEvent e) {
    tamper(PG, "UPDATE portcullis.audit_events SET \"rows\" = " + e.rows() + ", prev_hash = '" + e.prevHash()
        + "', hash = '" + e.hash() + "', seq = " + e.seq() + " WHERE event_id = '" + e.eventId() + "'");
  }

  @Test
  void intactChainVerifiesWithEveryCheckpoint() {
    chain("v-ok");
    long stored = new PostgresCheckpointStore(cf).find("v-ok", 1, Long.MAX_VALUE).count().block();

    VerificationReport report = verifier.verify("v-ok", 1, Long.MAX_VALUE).block();

    assertThat(report.ok()).as(report.render()).isTrue();
    assertThat(report.eventsChecked()).isEqualTo(40);
    assertThat(stored).isBetween(3L, 4L);
    assertThat(report.checkpointsChecked()).isEqualTo((int) stored);
    assertThat(report.signaturesChecked()).isTrue();
    assertThat(verifier.verify("v-ok", 11, 25).block().ok()).isTrue();
  }

  @Test
  void namesAnEditedEvent() {
    List<AuditEvent> events = chain("v-edit");
    tamper(PG, "UPDATE portcullis.audit_events SET \"rows\" = 0 WHERE chain_id = 'v-edit' AND seq = 17");

    Violation v = violation("v-edit");

    assertThat(v.kind()).isEqualTo(Kind.ALTERED);
    assertThat(v.seq()).isEqualTo(17);
    assertThat(v.eventId()).isEqualTo(events.get(16).eventId());
  }

  @Test
  void namesAnEditedEventWhoseHashWasRecomputed() {
    List<AuditEvent> events = chain("v-rehash");
    AuditEvent e = events.get(16).toBuilder().rows(0L).build();
    update(e.withChain(e.chainId(), e.seq(), e.prevHash(), HashChain.hash(e.prevHash(), e)));

    Violation v = violation("v-rehash");

    assertThat(v.kind()).isEqualTo(Kind.ALTERED);
    assertThat(v.seq()).isEqualTo(17);
  }

  @Test
  void checkpointCatchesAConsistentlyRewrittenStretch() {
    List<AuditEvent> events = chain("v-rewrite");
    // checkpoints fall on batch boundaries, which the 5 ms batch interval can move: rewrite up to the first one at or
    // after seq 17, so the rewritten stretch ends exactly at a signed head
    long head = new PostgresCheckpointStore(cf).find("v-rewrite", 17, Long.MAX_VALUE).blockFirst().seq();
    String prev = events.get(15).hash();
    for (int i = 16; i < head; i++) { // seq 17..head, relinked: only the signed head can tell
      AuditEvent e = events.get(i).toBuilder().rows(i == 16 ? 0L : events.get(i).rows()).build();
      String hash = HashChain.hash(prev, e);
      update(e.withChain(e.chainId(), e.seq(), prev, hash));
      prev = hash;
    }

    Violation v = violation("v-rewrite");

    assertThat(v.kind()).isEqualTo(Kind.CHECKPOINT_MISMATCH);
    assertThat(v.seq()).isEqualTo(head);
  }

  @Test
  void namesARemovedEvent() {
    chain("v-delete");
    tamper(PG, "DELETE FROM portcullis.audit_events WHERE chain_id = 'v-delete' AND seq = 23");

    Violation v = violation("v-delete");

    assertThat(v.kind()).isEqualTo(Kind.REMOVED);
    assertThat(v.seq()).isEqualTo(23);
  }

  @Test
  void checkpointCatchesARemovedTail() {
    chain("v-tail");
    tamper(PG, "DELETE FROM portcullis.audit_events WHERE chain_id = 'v-tail' AND seq > 35");

    Violation v = violation("v-tail");

    assertThat(v.kind()).isEqualTo(Kind.REMOVED);
    assertThat(v.seq()).isEqualTo(36);
  }

  @Test
  void namesAnInsertedEventThatReusesASeq() {
    List<AuditEvent> events = chain("v-insert");
    AuditEvent forged = request(99).toBuilder().eventId(UUID.randomUUID()).timestamp(events.get(11).timestamp())
        .build();
    forged = forged.withChain("v-insert", 12L, events.get(10).hash(), null);
    forged = forged.withChain("v-insert", 12L, forged.prevHash(), HashChain.hash(forged.prevHash(), forged));
    new PostgresAuditSink(cf).write(List.of(forged)).block(); // an INSERT needs no tampering: the table takes it

    Violation v = violation("v-insert");

    assertThat(v.kind()).isEqualTo(Kind.INSERTED);
    assertThat(v.seq()).isEqualTo(12);
    assertThat(v.eventId()).isEqualTo(forged.eventId());
  }

  @Test
  void namesEventsWhoseOrderWasSwapped() {
    List<AuditEvent> events = chain("v-swap");
    UUID a = events.get(24).eventId();
    UUID b = events.get(25).eventId();
    tamper(PG, "UPDATE portcullis.audit_events SET seq = 26 WHERE event_id = '" + a + "'",
        "UPDATE portcullis.audit_events SET seq = 25 WHERE event_id = '" + b + "'");

    Violation v = violation("v-swap");

    assertThat(v.kind()).isEqualTo(Kind.REORDERED);
    assertThat(v.seq()).isEqualTo(25);
    assertThat(v.eventId()).isEqualTo(b);
  }

  @Test
  void refusesACheckpointNotSignedByAKnownKey() {
    List<AuditEvent> events = chain("v-forged-cp");
    AuditCheckpoint forged = new CheckpointSigner(AuditFixtures.generate("audit-test-1"))
        .sign("v-forged-cp", 15, events.get(14).hash(), 5, Instant.now());
    new PostgresCheckpointStore(cf).save(forged).block();

    Violation v = violation("v-forged-cp");

    assertThat(v.kind()).isEqualTo(Kind.CHECKPOINT_INVALID);
    assertThat(v.seq()).isEqualTo(15);
  }

  @Test
  void refusesACheckpointWhoseStoredHeadDiffersFromTheSignedOne() {
    chain("v-cp-column");
    long seq = new PostgresCheckpointStore(cf).find("v-cp-column", 20, Long.MAX_VALUE).blockFirst().seq();
    tamper(PG, "UPDATE portcullis.audit_checkpoints SET head_hash = repeat('a', 64) WHERE chain_id = 'v-cp-column' "
        + "AND seq = " + seq);

    Violation v = violation("v-cp-column");

    assertThat(v.kind()).isEqualTo(Kind.CHECKPOINT_INVALID);
    assertThat(v.seq()).isEqualTo(seq);
  }

  @Test
  void namesReorderedLinesInAJsonLinesFile() throws Exception {
    HashChain chain = new HashChain("v-file", 0, HashChain.GENESIS);
    List<AuditEvent> events = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      events.add(chain.append(request(i)));
    }
    JsonLinesAuditSink sink = new JsonLinesAuditSink(dir.resolve("jsonl"), "audit", 1 << 20);
    sink.write(events).block();
    sink.close();
    Path file = sink.files().get(0);
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    assertThat(verifyFile(file).ok()).isTrue();

    String fourth = lines.get(3);
    lines.set(3, lines.get(4));
    lines.set(4, fourth);
    Files.write(file, lines);
    VerificationReport report = verifyFile(file);

    assertThat(report.violation().kind()).isEqualTo(Kind.REORDERED);
    assertThat(report.violation().seq()).isEqualTo(5);
  }

  @Test
  void namesARemovedLineInAJsonLinesFile() throws Exception {
    HashChain chain = new HashChain("v-file2", 0, HashChain.GENESIS);
    JsonLinesAuditSink sink = new JsonLinesAuditSink(dir.resolve("jsonl2"), "audit", 1 << 20);
    for (int i = 0; i < 10; i++) {
      sink.write(List.of(chain.append(request(i)))).block();
    }
    sink.close();
    Path file = sink.files().get(0);
    List<String> lines = new ArrayList<>(Files.readAllLines(file));
    lines.remove(6);
    Files.write(file, lines);

    VerificationReport report = AuditVerifier.verify("v-file2", 1, Long.MAX_VALUE,
        JsonLinesAuditSink.readAll(List.of(file)), HashChain.GENESIS, List.of(), null, null);

    assertThat(report.violation().kind()).isEqualTo(Kind.REMOVED);
    assertThat(report.violation().seq()).isEqualTo(7);
  }

  static VerificationReport verifyFile(Path file) {
    return AuditVerifier.verify("v-file", 1, Long.MAX_VALUE, JsonLinesAuditSink.readAll(List.of(file)),
        HashChain.GENESIS, List.of(), null, null);
  }
}
