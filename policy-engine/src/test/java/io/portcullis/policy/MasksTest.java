package io.portcullis.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.config.ConfigIssue;
import io.portcullis.policy.config.SourceMap;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MasksTest {
  static final byte[] KEY = "key-one-0123456789".getBytes(StandardCharsets.UTF_8);
  static final byte[] OTHER_KEY = "key-two-0123456789".getBytes(StandardCharsets.UTF_8);

  static Mask mask(String spec) {
    return mask(spec, KEY);
  }

  static Mask mask(String spec, byte[] key) {
    List<ConfigIssue> issues = new ArrayList<>();
    Mask m = Masks.parse(spec, key, new CelEnv.Site(SourceMap.NONE, "m", issues));
    assertThat(issues).isEmpty();
    return m;
  }

  static List<ConfigIssue> issuesOf(String spec) {
    List<ConfigIssue> issues = new ArrayList<>();
    Masks.parse(spec, KEY, new CelEnv.Site(SourceMap.NONE, "m", issues));
    return issues;
  }

  @Test
  void redactReplacesAnyValue() {
    assertThat(mask("redact").apply("secret")).isEqualTo("****");
    assertThat(mask("redact").apply(42)).isEqualTo("****");
    assertThat(mask("redact").apply(null)).isNull();
  }

  @Test
  void nullNullsEverything() {
    assertThat(mask("null").apply("x")).isNull();
    assertThat(mask("null").apply(null)).isNull();
  }

  @Test
  void hashIsStablePerKeyAndDiffersAcrossKeys() {
    Object a = mask("hash").apply("alice@corp.com");
    assertThat(a).isEqualTo(mask("hash").apply("alice@corp.com"));
    assertThat((String) a).hasSize(64).matches("[0-9a-f]+");
    assertThat(a).isNotEqualTo(mask("hash", OTHER_KEY).apply("alice@corp.com"));
    assertThat(a).isNotEqualTo(mask("hash").apply("bob@corp.com"));
    // numbers hash by value whatever their Java type: joinable across sources
    assertThat(mask("hash").apply(42)).isEqualTo(mask("hash").apply(42L)).isEqualTo(mask("hash").apply(
        new BigDecimal("42.00")));
    assertThat(mask("hash").apply(null)).isNull();
  }

  @Test
  void hashMatchesHmacSha256OfTheText() throws Exception {
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(KEY, "HmacSHA256"));
    String expected = java.util.HexFormat.of().formatHex(mac.doFinal("x".getBytes(StandardCharsets.UTF_8)));
    assertThat(mask("hash").apply("x")).isEqualTo(expected);
  }

  @Test
  void last4AndFirst4ShowFourCharacters() {
    assertThat(mask("last4").apply("4111111111111234")).isEqualTo("****1234");
    assertThat(mask("first4").apply("4111111111111234")).isEqualTo("4111****");
    assertThat(mask("last4").apply(1234567L)).isEqualTo("****4567");
    // short values would be shown whole: redacted instead
    assertThat(mask("last4").apply("123")).isEqualTo("****");
    assertThat(mask("first4").apply("1234")).isEqualTo("****");
    assertThat(mask("last4").apply(null)).isNull();
    assertThat(mask("first4").apply(null)).isNull();
  }

  @Test
  void emailDomainKeepsTheDomain() {
    assertThat(mask("email_domain").apply("jo.smith@corp.com")).isEqualTo("****@corp.com");
    assertThat(mask("email_domain").apply("not-an-email")).isEqualTo("****");
    assertThat(mask("email_domain").apply(null)).isNull();
  }

  @Test
  void yearOnlyTurnsDatesIntoIntegerYears() {
    assertThat(mask("year_only").apply(LocalDate.of(1984, 5, 17))).isEqualTo(1984);
    assertThat(mask("year_only").apply(OffsetDateTime.parse("2020-12-31T23:00:00-05:00"))).isEqualTo(2020);
    assertThat(mask("year_only").apply("1999-02-03")).isEqualTo(1999);
    assertThat(mask("year_only").apply("2001-02-03T04:05:06Z")).isEqualTo(2001);
    assertThat(mask("year_only").apply("garbage")).isNull();
    assertThat(mask("year_only").apply(null)).isNull();
  }

  @Test
  void roundKeepsTheNumericType() {
    assertThat(mask("round:2").apply(new BigDecimal("3.14159"))).isEqualTo(new BigDecimal("3.14"));
    assertThat(mask("round:0").apply(2.5d)).isEqualTo(3.0d);
    assertThat(mask("round:1").apply(2.25f)).isEqualTo(2.3f);
    assertThat(mask("round:2").apply(7)).isEqualTo(7);
    assertThat(mask("round:2").apply(7L)).isEqualTo(7L);
    assertThat(mask("round:2").apply("12.345")).isNull();
    assertThat(mask("round:2").apply(null)).isNull();
  }

  @Test
  void celMaskEvaluatesWithValue() {
    assertThat(mask("cel:value.size() > 3 ? value.substring(0, 1) + '…' : value").apply("Alice")).isEqualTo("A…");
    assertThat(mask("cel:value * 10").apply(4)).isEqualTo(40);
    assertThat(mask("cel:string(value)").apply(UUID.fromString("00000000-0000-0000-0000-000000000001")))
        .isEqualTo("00000000-0000-0000-0000-000000000001");
    // an evaluation error nulls the value instead of leaking it
    assertThat(mask("cel:value / 0").apply(4)).isNull();
    assertThat(mask("cel:value").apply(null)).isNull();
  }

  @Test
  void rejectsInvalidSpecs() {
    assertThat(issuesOf("scramble")).extracting(ConfigIssue::message).first().asString().startsWith("unknown mask");
    assertThat(issuesOf("round:x")).hasSize(1);
    assertThat(issuesOf("round:99")).hasSize(1);
    assertThat(issuesOf("cel:value +")).hasSize(1);
  }

  @Test
  void ranksMostRestrictiveFirst() {
    assertThat(List.of("drop", "null", "redact", "hash", "last4", "keep")).extracting(Masks::rank)
        .isSortedAccordingTo((a, b) -> Integer.compare(b, a));
    java.util.Map<String, String> specs = new java.util.LinkedHashMap<>();
    GrantPlan.compose(specs, "c", "last4");
    GrantPlan.compose(specs, "c", "hash");
    GrantPlan.compose(specs, "c", "round:1");
    assertThat(specs).containsEntry("c", "hash");
  }
}
