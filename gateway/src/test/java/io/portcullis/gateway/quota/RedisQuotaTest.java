package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.portcullis.testsupport.PostgresExtension;
import io.portcullis.testsupport.RedisExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two gateway replicas sharing one real redis-server and one PostgreSQL, one app driven through both: the rate limit
 * is global. Killing Redis mid-run: each replica falls back to its half of the limit (so the global limit still
 * roughly holds), reports it, and returns to the shared buckets when Redis is back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RedisQuotaTest {

  @RegisterExtension
  static final PostgresExtension PG = new PostgresExtension();

  @RegisterExtension
  static final RedisExtension REDIS = new RedisExtension();

  static QuotaGateway a;
  static QuotaGateway b;

  @BeforeAll
  static void start() {
    Map<String, String> redis = Map.of(
        "portcullis.quota.redis-uri", REDIS.uri(),
        "portcullis.quota.replicas", "2",
        "portcullis.quota.probe-interval", "500ms");
    a = QuotaGateway.start(PG, "replica-a", redis);
    b = QuotaGateway.start(PG, "replica-b", redis);
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
  }

  @Test
  @Order(1)
  void globalLimitHoldsAcrossTwoReplicasWithin5Percent() throws Exception {
    Load load = drive("shared-app", Duration.ofSeconds(5));
    // burst 20 + 20 rps over the run, whichever replica answered
    double expected = 20 + 20 * load.seconds;
    assertThat(load.ok).as("allowed of %s requests in %.2f s (expected %.1f)", load.total(), load.seconds, expected)
        .isBetween((int) Math.floor(expected * 0.95), (int) Math.ceil(expected * 1.05));
    assertThat(load.okA).as("both replicas served").isPositive();
    assertThat(load.okB).as("both replicas served").isPositive();
    assertThat(load.limited).isPositive();
    assertThat(a.gauge("portcullis.quota.fallback")).isZero();
    assertThat(redisKeys("portcullis:rate:app:shared-app:*")).isNotEmpty();
  }

  @Test
  @Order(2)
  void whenRedisDiesEachReplicaLimitsItsShareLocallyAndReturnsWhenItIsBack() throws Exception {
    assertThat(drive("fallback-app", Duration.ofSeconds(1)).ok).isPositive();
    REDIS.stop();
    try {
      Load outage = drive("fallback-app", Duration.ofSeconds(3));
      assertThat(a.gauge("portcullis.quota.fallback")).isEqualTo(1.0);
      assertThat(b.gauge("portcullis.quota.fallback")).isEqualTo(1.0);
      // still limited: each replica holds burst 10 + 10 rps, so together about the global limit again
      double expected = 20 + 20 * outage.seconds;
      assertThat(outage.limited).isPositive();
      assertThat(outage.errors).as("no request failed for the outage").isZero();
      assertThat(outage.ok).as("allowed of %s in %.2f s during the outage (expected ≈ %.1f)", outage.total(),
          outage.seconds, expected).isBetween((int) (expected * 0.8), (int) Math.ceil(expected * 1.25));
    } finally {
      REDIS.start();
    }
    awaitGauge(a, 0.0);
    awaitGauge(b, 0.0);
    Load recovered = drive("fallback-app", Duration.ofSeconds(3));
    double expected = 20 + 20 * recovered.seconds;
    assertThat(recovered.ok).as("allowed of %s in %.2f s after recovery (expected %.1f)", recovered.total(),
        recovered.seconds, expected).isBetween((int) Math.floor(expected * 0.9), (int) Math.ceil(expected * 1.1));
    assertThat(redisKeys("portcullis:rate:app:fallback-app:*")).as("buckets back in the restarted Redis").isNotEmpty();
  }

  static void awaitGauge(QuotaGateway gateway, double value) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (gateway.gauge("portcullis.quota.fallback") != value && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(gateway.gauge("portcullis.quota.fallback")).isEqualTo(value);
  }

  static List<String> redisKeys(String pattern) {
    RedisClient client = RedisClient.create(REDIS.uri());
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      return c.sync().keys(pattern);
    } finally {
      client.shutdown();
    }
  }

  /** Four clients as fast as they can for {@code duration}, alternating between the replicas. */
  static Load drive(String app, Duration duration) throws Exception {
    return drive(app, duration, a, b);
  }

  static Load drive(String app, Duration duration, QuotaGateway a, QuotaGateway b) throws Exception {
    a.token(app);
    b.token(app);
    AtomicInteger okA = new AtomicInteger();
    AtomicInteger okB = new AtomicInteger();
    AtomicInteger limited = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    try {
      List<Future<?>> clients = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int first = t;
        clients.add(pool.submit(() -> {
          int i = first;
          while (System.nanoTime() < end) {
            boolean toA = (i++ & 1) == 0;
            int status = (toA ? a : b).get(app, "/data/forms.submissions?limit=1").statusCode();
            if (status == 200) {
              (toA ? okA : okB).incrementAndGet();
            } else if (status == 429) {
              limited.incrementAndGet();
            } else {
              errors.incrementAndGet();
            }
          }
          return null;
        }));
      }
      for (Future<?> f : clients) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Load(okA.get() + okB.get(), okA.get(), okB.get(), limited.get(), errors.get(), seconds);
  }

  record Load(int ok, int okA, int okB, int limited, int errors, double seconds) {
    int total() {
      return ok + limited + errors;
    }
  }
}
