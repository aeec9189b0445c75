package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.portcullis.testsupport.RedisExtension;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  @Test
  void oneRoundTripPerRequestWhetherOneBucketOrTwo() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000)) {
      LimitSpec app = LimitSpec.of(1000, 1000);
      LimitSpec dataset = app.divided(4);
      // the first call after a (re)start loads the script: not what a request costs from then on
      warm(limiters);
      Map<String, Long> before = commandStats(REDIS);
      int n = 50;
      for (int i = 0; i < n; i++) {
        assertThat(limiters.tryConsume("trips", app).block(Duration.ofSeconds(5)).consumed()).isTrue();
        assertThat(limiters.tryConsumeBoth("trips", app, "trips|ds", dataset).block(Duration.ofSeconds(5)).consumed())
            .isTrue();
      }
      Map<String, Long> delta = delta(before, commandStats(REDIS));
      assertThat(limiters.inFallback()).isFalse();
      // commandstats also counts what a script runs inside Redis: every round trip is one script call, the GETs are
      // the script's reads (one per bucket), none is the client's own
      assertThat(delta.getOrDefault("evalsha", 0L) + delta.getOrDefault("eval", 0L)).isEqualTo(2L * n);
      assertThat(delta.get("time")).isEqualTo(2L * n);
      assertThat(delta.get("get")).isEqualTo(3L * n);
      assertThat(delta.keySet()).isSubsetOf("evalsha", "eval", "time", "get", "set");
    }
  }

  @Test
  void concurrentRequestsOnOneBucketShareRoundTrips() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000)) {
      LimitSpec spec = LimitSpec.of(0.001, 120);
      warm(limiters);
      Map<String, Long> before = commandStats(REDIS);
      int requests = 200;
      java.util.List<RateProbe> probes = reactor.core.publisher.Flux.range(0, requests)
          .flatMap(i -> limiters.tryConsume("coalesced", spec), requests)
          .collectList()
          .block(Duration.ofSeconds(30));
      Map<String, Long> delta = delta(before, commandStats(REDIS));
      assertThat(limiters.inFallback()).isFalse();
      assertThat(probes.stream().filter(RateProbe::consumed).count()).isEqualTo(120);
      // every granted request saw a different bucket level, as if served one after another
      assertThat(probes.stream().filter(RateProbe::consumed).map(RateProbe::remaining).distinct().count())
          .isEqualTo(120);
      assertThat(probes.stream().filter(p -> !p.consumed()).allMatch(p -> p.remaining() == 0)).isTrue();
      long calls = delta.getOrDefault("evalsha", 0L) + delta.getOrDefault("eval", 0L);
      System.out.println("200 concurrent requests on one bucket: " + calls + " script calls");
      assertThat(calls).isBetween(1L, (long) requests - 1);
    }
  }

  @Test
  void aPairTakesFromBothBucketsOrFromNeither() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000);
        RedisRateLimiters other = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
            Duration.ofMillis(500), 1000)) {
      LimitSpec app = LimitSpec.of(0.01, 6);
      LimitSpec dataset = LimitSpec.of(0.01, 2);
      int granted = 0;
      RateProbe.Pair refused = null;
      for (int i = 0; i < 5; i++) {
        RateProbe.Pair p = ((i & 1) == 0 ? limiters : other).tryConsumeBoth("pair", app, "pair|ds", dataset)
            .block(Duration.ofSeconds(5));
        if (p.consumed()) {
          granted++;
        } else {
          refused = p;
        }
      }
      assertThat(granted).isEqualTo(2);
      assertThat(refused.first().consumed()).as("the app's bucket alone would have granted it").isTrue();
      assertThat(refused.second().consumed()).isFalse();
      assertThat(refused.second().retryAfterSeconds()).isBetween(99L, 100L);
      assertThat(RateProbe.tighter(refused.first(), refused.second())).isEqualTo(refused.second());
      // the three refusals took nothing from the app's bucket
      assertThat(limiters.peek("pair", app).block(Duration.ofSeconds(5)).remaining()).isEqualTo(4);
      assertThat(other.tryConsume("pair", app).block(Duration.ofSeconds(5)).remaining()).isEqualTo(3);
      assertThat(limiters.inFallback()).isFalse();
    }
  }

  @Test
  void anEmptiedScriptCacheIsRefilledWithoutFallingBack() {
    try (RedisRateLimiters limiters = new RedisRateLimiters(REDIS.uri(), Duration.ofSeconds(1), 2,
        Duration.ofMillis(500), 1000)) {
      LimitSpec spec = LimitSpec.of(0.01, 5);
      assertThat(limiters.tryConsume("reload", spec).block(Duration.ofSeconds(5)).remaining()).isEqualTo(4);
      // what a Redis restart or failover does to the scripts (the buckets' keys survive here)
      RedisClient client = RedisClient.create(REDIS.uri());
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        c.sync().scriptFlush();
      } finally {
        client.shutdown();
      }
      Map<String, Long> before = commandStats(REDIS);
      assertThat(limiters.tryConsume("reload", spec).block(Duration.ofSeconds(5)).remaining()).isEqualTo(3);
      assertThat(limiters.tryConsume("reload", spec).block(Duration.ofSeconds(5)).remaining()).isEqualTo(2);
      Map<String, Long> delta = delta(before, commandStats(REDIS));
      assertThat(limiters.inFallback()).isFalse();
      assertThat(delta.get("eval")).as("the script sent once more, then called by its digest again").isEqualTo(1);
    }
  }

  /**
   * A first call on a fresh connection and a cold JVM can miss the 1 s timeout on a loaded box and fall back; the probe
   * brings the limiter back within 500 ms. Tests that count calls start once it is on Redis.
   */
  static void warm(RedisRateLimiters limiters) {
    long deadline = System.nanoTime() + 15_000_000_000L;
    do {
      limiters.tryConsume("warm-up", LimitSpec.of(1000, 1000)).block(Duration.ofSeconds(5));
      if (!limiters.inFallback()) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    } while (System.nanoTime() < deadline);
  }

  static Map<String, Long> commandStats(RedisExtension redis) {
    RedisClient client = RedisClient.create(redis.uri());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      Map<String, Long> calls = new HashMap<>();
      Matcher m = Pattern.compile("cmdstat_([a-z|]+):calls=(\\d+)").matcher(c.sync().info("commandstats"));
      while (m.find()) {
        calls.put(m.group(1), Long.parseLong(m.group(2)));
      }
      return calls;
    } finally {
      client.shutdown();
    }
  }

  /** What changed between two readings, without the readings' own INFO and connection set-up commands. */
  static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> delta = new HashMap<>();
    Set<String> names = new HashSet<>(after.keySet());
    for (String name : names) {
      long d = after.get(name) - before.getOrDefault(name, 0L);
      if (d != 0 && !name.equals("info") && !name.startsWith("client") && !name.equals("hello")) {
        delta.put(name, d);
      }
    }
    return delta;
  }
}
