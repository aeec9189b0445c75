package io.portcullis.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AuditJsonTest {

  static AuditEvent sample() {
    return AuditEvent.builder()
        .eventId(UUID.fromString("0190f3a4-1111-7abc-8def-0123456789ab"))
        .timestamp(Instant.parse("2026-03-04T05:06:07.123456789Z"))
        .requestId("req-1").actorId("alice").appId("inventory").tier(2).action("read")
        .resourceType("inventory.items").policyIds(List.of("g-1", "pii-consent")).policyVersion(7L)
        .outcome(Outcome.ALLOWED).status(200).rows(12L).bytes(2048L).maskedColumns(List.of("email"))
        .costUnits(0.002).latencyMs(3.25).clientIp("10.0.0.1")
        .build();
  }

  @Test
  void canonicalJsonHasSortedSnakeCaseKeysNoWhitespaceAndNoNulls() {
    String json = AuditJson.toJson(sample());

    assertThat(json).isEqualTo("{\"action\":\"read\",\"actor_id\":\"alice\",\"app_id\":\"inventory\",\"bytes\":2048,"
        + "\"client_ip\":\"10.0.0.1\",\"cost_units\":0.002,\"event_id\":\"0190f3a4-1111-7abc-8def-0123456789ab\","
        + "\"event_type\":\"request\",\"latency_ms\":3.25,\"masked_columns\":[\"email\"],\"outcome\":\"allowed\","
        + "\"policy_ids\":[\"g-1\",\"pii-consent\"],\"policy_version\":7,\"request_id\":\"req-1\","
        + "\"resource_type\":\"inventory.items\",\"rows\":12,\"status\":200,\"tier\":2,"
        + "\"timestamp\":\"2026-03-04T05:06:07.123456Z\"}");
  }

  @Test
  void roundTripsThroughJsonUnchanged() {
    AuditEvent sealed = new HashChain("gw-1", 0, HashChain.GENESIS).append(sample());

    AuditEvent back = AuditJson.fromJson(AuditJson.toJson(sealed));

    assertThat(back).isEqualTo(sealed);
    assertThat(HashChain.selfConsistent(back)).isTrue();
  }

  @Test
  void chainLinksEachEventToItsPredecessor() {
    HashChain chain = new HashChain("gw-1", 0, HashChain.GENESIS);
    AuditEvent first = chain.append(sample());
    AuditEvent second = chain.append(sample().toBuilder().eventId(UUID.randomUUID()).build());

    assertThat(first.seq()).isEqualTo(1);
    assertThat(first.prevHash()).isEqualTo(HashChain.GENESIS);
    assertThat(second.seq()).isEqualTo(2);
    assertThat(second.prevHash()).isEqualTo(first.hash());
    assertThat(first.hash()).hasSize(64).isNotEqualTo(second.hash());
    assertThat(HashChain.selfConsistent(first.toBuilder().rows(13L).build())).isFalse();
  }

  @Test
  void outcomesAndEventTypesAreLowerCase() {
    assertThat(Outcome.THROTTLED.json()).isEqualTo("throttled");
    assertThat(EventType.TOKEN_ISSUED.json()).isEqualTo("token_issued");
    assertThat(Outcome.fromJson("cancelled")).isEqualTo(Outcome.CANCELLED);
    assertThatThrownBy(() -> Outcome.fromJson("ALLOWED")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void refusesFieldsTheHashWouldNotCover() {
    String json = AuditJson.toJson(sample()).replace("{", "{\"extra\":1,");
    assertThatThrownBy(() -> AuditJson.fromJson(json)).isInstanceOf(RuntimeException.class);
  }

  @Test
  void builderDefaultsToATimeOrderedIdAndNow() {
    AuditEvent e = AuditEvent.builder().build();
    assertThat(e.eventId().version()).isEqualTo(7);
    assertThat(e.eventType()).isEqualTo(EventType.REQUEST);
    assertThat(e.timestamp()).isBeforeOrEqualTo(Instant.now());
  }
}
