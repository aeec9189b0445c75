package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway that dies (its threads stop where they are, nothing is closed) after answering requests whose events were
 * journaled but not yet written: the next start replays them once and continues the same chain, also on sinks that
 * cannot tell their head (a JSON-lines file here, Kafka in {@link KafkaAuditSinkTest}).
 */
class AuditPipelineRestartTest {

  @TempDir Path dir;

  static AuditPipeline.Builder pipeline(AuditSink sink, String chainId, Path spillDir) {
    // a batch waits up to an hour for more events: what is not flushed explicitly stays in memory until the "crash"
    return AuditPipeline.builder(sink, chainId, spillDir).batchSize(10).batchInterval(Duration.ofHours(1))
        .probeInterval(Duration.ofMillis(100), Duration.ofMillis(200)).journalRotateBytes(4096);
  }

  /**
   * Runs 25 flushed + 7 journaled-only events, "kills" the pipeline, restarts it on {@code second} and adds 3 more;
   * then the stored events are 1..35 exactly once each and the chain verifies.
   */
  static void survivesDeathAfterJournaling(AuditSink first, Supplier<AuditSink> second, String chainId, Path spillDir,
      Supplier<List<AuditEvent>> stored) throws Exception {
    survivesDeathAfterJournaling(first, second, chainId, spillDir, stored, () -> { });
  }

  /** As above, with {@code atDeath} run between the "kill" and the restart (what else the death left behind). */
  static void survivesDeathAfterJournaling(AuditSink first, Supplier<AuditSink> second, String chainId, Path spillDir,
      Supplier<List<AuditEvent>> stored, ThrowingRunnable atDeath) throws Exception {
    AuditPipeline p1 = pipeline(first, chainId, spillDir).build();
    p1.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 25; i++) {
      p1.emit(AuditFixtures.request(i));
    }
    p1.flush().block(Duration.ofSeconds(30));
    for (int i = 25; i < 32; i++) {
      p1.journaled(AuditFixtures.request(i)).block(Duration.ofSeconds(10)); // "the response may now complete"
    }
    p1.halt();
    assertThat(stored.get()).as("written before the crash").hasSize(25);
    atDeath.run();

    AuditPipeline p2 = pipeline(second.get(), chainId, spillDir).build();
    p2.start().block(Duration.ofSeconds(10));
    for (int i = 32; i < 35; i++) {
      p2.emit(AuditFixtures.request(i));
    }
    p2.flush().block(Duration.ofSeconds(30));
    AuditFixtures.await(() -> p2.stats().spillBacklog() == 0, Duration.ofSeconds(30));
    p2.close();

    List<AuditEvent> events = stored.get();
    Set<String> ids = new HashSet<>();
    for (AuditEvent e : events) {
      assertThat(ids.add(e.eventId().toString())).as("event %s stored twice", e.seq()).isTrue();
    }
    assertThat(events).extracting(AuditEvent::seq)
        .containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 35).boxed().toList());
    assertThat(events).extracting(AuditEvent::requestId).doesNotHaveDuplicates().hasSize(35);
    List<AuditEvent> inOrder = events.stream().sorted((a, b) -> Long.compare(a.seq(), b.seq())).toList();
    VerificationReport report = AuditVerifier.verify(chainId, 1, Long.MAX_VALUE, inOrder, HashChain.GENESIS,
        List.of(), null, null);
    assertThat(report.ok()).as(report.render()).isTrue();
  }

  @Test
  void fileSinkChainContinuesAfterDeathWithEveryJournaledEventOnce() throws Exception {
    Path files = dir.resolve("audit");
    Path spill = dir.resolve("spill");
    JsonLinesAuditSink first = new JsonLinesAuditSink(files, "audit-gw-file", 1 << 20);
    JsonLinesAuditSink second = new JsonLinesAuditSink(files, "audit-gw-file", 1 << 20);
    survivesDeathAfterJournaling(first, () -> second, "gw-file", spill, () -> stored(second));
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** A start, one event, a flush and a graceful close. */
  static void runOnce(AuditSink sink, String chainId, Path spillDir, int request) {
    AuditPipeline p = pipeline(sink, chainId, spillDir).build();
    p.start().block(Duration.ofSeconds(10));
    p.emit(AuditFixtures.request(request));
    p.flush().block(Duration.ofSeconds(10));
    p.close();
  }

  static List<AuditEvent> stored(JsonLinesAuditSink sink) {
    try {
      return JsonLinesAuditSink.readAll(sink.files());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aLineTornByTheDeathIsCutAndTheChainContinuesFromTheLastWholeOne() throws Exception {
    Path files = dir.resolve("audit");
    Path spill = dir.resolve("spill");
    JsonLinesAuditSink first = new JsonLinesAuditSink(files, "audit-gw-torn", 1 << 20);
    JsonLinesAuditSink second = new JsonLinesAuditSink(files, "audit-gw-torn", 1 << 20);
    survivesDeathAfterJournaling(first, () -> second, "gw-torn", spill, () -> stored(second), () -> {
      // the process died while copying the next event into the mapped journal: its first bytes, no newline
      Path journal = spill.resolve("audit-journal-gw-torn.jsonl");
      byte[] bytes = Files.readAllBytes(journal);
      int end = 0;
      while (end < bytes.length && bytes[end] != 0) {
        end++;
      }
      assertThat(end).as("the mapped region's zeros follow the lines").isLessThan(bytes.length);
      assertThat(bytes[end - 1]).isEqualTo((byte) '\n');
      byte[] torn = "{\"actor_id\":\"someone\",\"app_id\":\"app-".getBytes(java.nio.charset.StandardCharsets.UTF_8);
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(journal,
          java.nio.file.StandardOpenOption.WRITE)) {
        ch.write(java.nio.ByteBuffer.wrap(torn), end);
      }
    });

    // the restart wrote its own lines where the torn one began: the journal reads whole again at the next start
    runOnce(second, "gw-torn", spill, 35);
    List<AuditEvent> events = stored(second);
    assertThat(events).extracting(AuditEvent::seq)
        .containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, 36).boxed().toList());
  }

  @Test
  void journalRotationKeepsTheHeadAndOnlyDropsPersistedSegments() throws Exception {
    Path files = dir.resolve("audit");
    Path spill = dir.resolve("spill");
    JsonLinesAuditSink sink = new JsonLinesAuditSink(files, "audit-gw-rot", 1 << 20);
    AuditPipeline p1 = pipeline(sink, "gw-rot", spill).build();
    p1.start().block(Duration.ofSeconds(10));
    for (int i = 0; i < 40; i++) { // ~40 × 600 bytes: several rotations of a 4 KiB journal
      p1.emit(AuditFixtures.request(i));
      p1.flush().block(Duration.ofSeconds(10));
    }
    p1.close();
    try (var s = Files.list(spill)) {
      assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("audit-journal-gw-rot")))
          .containsExactlyInAnyOrder("audit-journal-gw-rot.jsonl", "audit-journal-gw-rot.prev.jsonl",
              "audit-journal-gw-rot.acked");
    }
    assertThat(Files.size(spill.resolve("audit-journal-gw-rot.jsonl"))).isLessThan(8192);

    runOnce(sink, "gw-rot", spill, 40);
    List<AuditEvent> events = stored(sink);
    assertThat(events).extracting(AuditEvent::seq)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, 41).boxed().toList());
    assertThat(AuditVerifier.verify("gw-rot", 1, Long.MAX_VALUE, events, HashChain.GENESIS, List.of(), null, null)
        .ok()).isTrue();
  }
}
