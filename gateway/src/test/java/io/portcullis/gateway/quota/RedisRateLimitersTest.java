package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.testsupport.RedisExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The Redis-backed buckets on their own, against a real redis-server. */
class RedisRateLimitersTest {

  @RegisterExtension
  static final RedisExtension REDIS = new RedisExtension();

  @Test
  void aSharedBucketRefusesPastItsBurst() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000)) {
      LimitSpec spec = LimitSpec.of(1, 5);
      int ok = 0;
      for (int i = 0; i < 8; i++) {
        RateProbe probe = limiters.tryConsume("unit", spec).block(Duration.ofSeconds(5));
        if (probe.consumed()) {
          ok++;
        }
      }
      assertThat(limiters.inFallback()).isFalse();
      assertThat(ok).isEqualTo(5);
    }
  }

  @Test
  void peekingReportsTheSharedBucketWithoutTakingFromIt() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000);
        RedisRateLimiters other = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
            Duration.ofMillis(500), 1000)) {
      LimitSpec spec = LimitSpec.of(0.01, 5); // one token back every 100 s: nothing refills during the test
      RateProbe fresh = limiters.peek("peek", spec).block(Duration.ofSeconds(5));
      assertThat(fresh.limit()).isEqualTo(5);
      assertThat(fresh.remaining()).isEqualTo(5);
      assertThat(fresh.resetSeconds()).isZero();
      other.tryConsume("peek", spec).block(Duration.ofSeconds(5));
      other.tryConsume("peek", spec).block(Duration.ofSeconds(5));
      for (int i = 0; i < 3; i++) {
        RateProbe seen = limiters.peek("peek", spec).block(Duration.ofSeconds(5));
        assertThat(seen.remaining()).isEqualTo(3);
        assertThat(seen.resetSeconds()).isBetween(199L, 200L);
      }
      assertThat(limiters.tryConsume("peek", spec).block(Duration.ofSeconds(5)).remaining()).isEqualTo(2);
      assertThat(limiters.inFallback()).isFalse();
    }
  }

  @Test
  void sustainedLoadFromTwoReplicasGetsTheRate() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000);
        RedisRateLimiters other = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
            Duration.ofMillis(500), 1000)) {
      LimitSpec spec = LimitSpec.of(20, 20);
      limiters.tryConsume("warm-up", spec).block(Duration.ofSeconds(5));
      other.tryConsume("warm-up", spec).block(Duration.ofSeconds(5));
      long start = System.nanoTime();
      Long consumed = reactor.core.publisher.Flux.range(0, 8)
          .flatMap(t -> reactor.core.publisher.Flux.range(0, Integer.MAX_VALUE)
              .concatMap(i -> ((i + t & 1) == 0 ? limiters : other).tryConsume("sustained", spec)
                  .delayElement(Duration.ofMillis(1)))
              .take(Duration.ofSeconds(3)), 8)
          .filter(RateProbe::consumed)
          .count()
          .block(Duration.ofSeconds(30));
      double seconds = (System.nanoTime() - start) / 1e9;
      assertThat(limiters.inFallback()).isFalse();
      assertThat((double) consumed).isBetween(0.95 * (20 + 20 * seconds), 1.05 * (20 + 20 * seconds));
    }
  }

  @Test
  void concurrentConsumersOnOneHotKeyGetExactlyTheBurst() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000);
        RedisRateLimiters other = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
            Duration.ofMillis(500), 1000)) {
      LimitSpec spec = LimitSpec.of(0.001, 50);
      limiters.tryConsume("warm-up", spec).block(Duration.ofSeconds(5));
      other.tryConsume("warm-up", spec).block(Duration.ofSeconds(5));
      Long consumed = reactor.core.publisher.Flux.range(0, 1000)
          .flatMap(i -> ((i & 1) == 0 ? limiters : other).tryConsume("hot", spec), 256)
          .filter(RateProbe::consumed)
          .count()
          .block(Duration.ofSeconds(30));
      assertThat(limiters.inFallback()).isFalse();
      assertThat(other.inFallback()).isFalse();
      assertThat(consumed).isEqualTo(50);
    }
  }
}
