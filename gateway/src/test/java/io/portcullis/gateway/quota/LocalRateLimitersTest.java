package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** In-process buckets: a pair of buckets is taken from together or not at all, as in Redis. */
class LocalRateLimitersTest {

  @Test
  void aPairTakesFromBothBucketsOrFromNeither() {
    LocalRateLimiters limiters = new LocalRateLimiters(100);
    LimitSpec app = LimitSpec.of(0.01, 6);
    LimitSpec dataset = LimitSpec.of(0.01, 2);
    int granted = 0;
    RateProbe.Pair refused = null;
    for (int i = 0; i < 5; i++) {
      RateProbe.Pair p = limiters.consumeBothNow("pair", app, "pair|ds", dataset);
      if (p.consumed()) {
        granted++;
      } else {
        refused = p;
      }
    }
    assertThat(granted).isEqualTo(2);
    assertThat(refused.first().consumed()).as("the app's bucket alone would have granted it").isTrue();
    assertThat(refused.first().remaining()).isEqualTo(4);
    assertThat(refused.second().consumed()).isFalse();
    assertThat(refused.second().retryAfterSeconds()).isBetween(99L, 100L);
    assertThat(limiters.consumeNow("pair", app).remaining()).isEqualTo(3);
  }

  @Test
  void whenTheFirstBucketRefusesTheSecondIsLeftAsItWas() {
    LocalRateLimiters limiters = new LocalRateLimiters(100);
    LimitSpec app = LimitSpec.of(0.01, 1);
    LimitSpec dataset = LimitSpec.of(0.01, 3);
    assertThat(limiters.consumeBothNow("first", app, "first|ds", dataset).consumed()).isTrue();
    RateProbe.Pair refused = limiters.consumeBothNow("first", app, "first|ds", dataset);
    assertThat(refused.consumed()).isFalse();
    assertThat(refused.first().consumed()).isFalse();
    assertThat(refused.second().consumed()).isTrue();
    assertThat(refused.second().remaining()).isEqualTo(2);
    assertThat(limiters.consumeNow("first|ds", dataset).remaining()).isEqualTo(1);
  }
}
