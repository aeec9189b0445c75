package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashChainTest {

  /** Values that stress where the sealing looks for the link members in the serialised bytes. */
  static List<AuditEvent> tricky() {
    List<AuditEvent> out = new ArrayList<>();
    out.add(AuditJsonTest.sample());
    out.add(AuditEvent.builder().eventType(EventType.ADMIN_CHANGE).actorId("admin").build()); // almost every field null
    out.add(AuditJsonTest.sample().toBuilder()
        .requestId(",\"prev_hash\":\"" + "~".repeat(64) + "\"")
        .resourceId(",\"hash\":\"" + "~".repeat(64) + "\"")
        .rowFilter("\"hash\":\"x\\\"prev_hash\\\":\"\\u0000")
        .actorId("zoë \u2028 \uD83D\uDE00 \\ / \t")
        .costCenter("~".repeat(64))
        .maskedColumns(List.of()).policyIds(List.of("\"hash\""))
        .costUnits(1.0E-7).latencyMs(123456789.125).rows(Long.MAX_VALUE).bytes(0L)
        .build());
    return out;
  }

  @Test
  void sealingOnceGivesTheBytesAndHashesOfTwoSeparateSerialisations() {
    HashChain once = new HashChain("gw-1", 41, HashChain.GENESIS);
    String head = HashChain.GENESIS;
    long seq = 41;
    for (AuditEvent e : tricky()) {
      HashChain.Sealed sealed = once.seal(e);

      AuditEvent placed = e.withChain("gw-1", ++seq, null, null);
      String hash = HashChain.hash(head, placed);
      AuditEvent expected = placed.withChain("gw-1", seq, head, hash);
      assertThat(sealed.event()).isEqualTo(expected);
      assertThat(new String(sealed.json(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(AuditJson.toJson(expected));
      assertThat(HashChain.selfConsistent(AuditJson.fromJson(sealed.json()))).isTrue();
      head = hash;
    }
  }

  @Test
  void anUnusualHeadFromASinkIsStillChainedCorrectly() {
    String odd = "not-a-hash-\"-\u00e9";
    HashChain chain = new HashChain("gw-2", 7, odd);

    AuditEvent sealed = chain.seal(AuditJsonTest.sample()).event();

    assertThat(sealed.prevHash()).isEqualTo(odd);
    assertThat(sealed.seq()).isEqualTo(8);
    assertThat(HashChain.selfConsistent(sealed)).isTrue();
    assertThat(chain.head()).isEqualTo(sealed.hash()).hasSize(64);
  }

  @Test
  void appendStillStartsAtGenesis() {
    AuditEvent first = new HashChain("gw-3", 0, HashChain.GENESIS).append(AuditJsonTest.sample());
    assertThat(first.seq()).isEqualTo(1);
    assertThat(first.prevHash()).isEqualTo(HashChain.GENESIS);
    assertThat(HashChain.selfConsistent(first)).isTrue();
    assertThat(first.timestamp()).isEqualTo(Instant.parse("2026-03-04T05:06:07.123456Z"));
  }
}
