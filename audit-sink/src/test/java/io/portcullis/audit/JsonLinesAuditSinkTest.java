package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesAuditSinkTest {

  @TempDir Path dir;

  @Test
  void appendsInOrderAndRotatesBySize() {
    HashChain chain = new HashChain("gw-file", 0, HashChain.GENESIS);
    List<AuditEvent> events = new ArrayList<>();
    JsonLinesAuditSink sink = new JsonLinesAuditSink(dir, "audit", 4096);
    for (int b = 0; b < 10; b++) {
      List<AuditEvent> batch = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        batch.add(chain.append(AuditFixtures.request(b * 5 + i)));
      }
      events.addAll(batch);
      sink.write(batch).block(Duration.ofSeconds(5));
    }
    sink.close();

    List<Path> files = sinkFiles(sink);
    assertThat(files.size()).isGreaterThan(2);
    assertThat(files.get(files.size() - 1).getFileName().toString()).isEqualTo("audit.jsonl");
    List<AuditEvent> back = JsonLinesAuditSink.readAll(files);
    assertThat(back).containsExactlyElementsOf(events);
    assertThat(AuditVerifier.verify("gw-file", 1, Long.MAX_VALUE, back, HashChain.GENESIS, List.of(), null, null)
        .ok()).isTrue();
  }

  @Test
  void anIdenticalRepeatOfABatchStillVerifies() {
    HashChain chain = new HashChain("gw-file2", 0, HashChain.GENESIS);
    List<AuditEvent> batch = List.of(chain.append(AuditFixtures.request(0)), chain.append(AuditFixtures.request(1)));
    JsonLinesAuditSink sink = new JsonLinesAuditSink(dir, "dup", 1 << 20);
    sink.write(batch).block();
    sink.write(batch).block(); // a replay after a timeout: at-least-once
    sink.write(List.of(chain.append(AuditFixtures.request(2)))).block();
    sink.close();

    List<AuditEvent> back = JsonLinesAuditSink.readAll(sinkFiles(sink));

    assertThat(back).hasSize(5);
    VerificationReport report = AuditVerifier.verify("gw-file2", 1, Long.MAX_VALUE, back, HashChain.GENESIS,
        List.of(), null, null);
    assertThat(report.ok()).as(report.render()).isTrue();
    assertThat(report.eventsChecked()).isEqualTo(3);
  }

  static List<Path> sinkFiles(JsonLinesAuditSink sink) {
    try {
      return sink.files();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
