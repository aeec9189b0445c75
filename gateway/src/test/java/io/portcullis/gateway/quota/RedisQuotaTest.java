package io.portcullis.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.portcullis.testsupport.PostgresExtension;
import io.portcullis.testsupport.RedisExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.ToLongFunction;
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
 *
 * <p>What a limiter should admit depends on when requests arrive, and on a shared 2-core box the clients stall now and
 * then (a stalled client lets the bucket fill to its cap, and that refill is lost). So besides the plain bound
 * {@code burst + rate × elapsed}, each run is compared with an ideal token bucket replayed over the arrivals actually
 * observed (bounded by each request's send and receive times).
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
        "portcullis.quota.probe-interval", "500ms",
        // an overloaded shared test box can stall a healthy Redis call past the 250 ms default
        "portcullis.quota.redis-timeout", "1s");
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
    // warm both replicas' request path (JIT, pools, Redis connections) on another app first
    drive("sandbox-app", Duration.ofSeconds(1));
    Load load = drive("shared-app", Duration.ofSeconds(6));
    // burst 20 + 20 rps, whichever replica answered
    assertThat(load.ok).as("%s: never more than burst + rate × elapsed", load)
        .isLessThanOrEqualTo((int) Math.ceil((20 + 20 * load.seconds()) * 1.05));
    assertThat(load.ok).as("%s: as an ideal global bucket over the same arrivals", load)
        .isBetween((int) Math.floor(load.ideal(20, 20, null) * 0.95), (int) Math.ceil(load.ideal(20, 20, null) * 1.05));
    assertThat(load.ok(true)).as("both replicas served").isPositive();
    assertThat(load.ok(false)).as("both replicas served").isPositive();
    assertThat(load.limited()).isPositive();
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
      assertThat(outage.errors()).as("no request failed for the outage").isZero();
      assertThat(outage.limited()).as("still limited").isPositive();
      // each replica holds burst 10 + 10 rps of its own: together about the global limit again
      double ideal = outage.ideal(10, 10, true) + outage.ideal(10, 10, false);
      assertThat(outage.ok).as("%s during the outage (ideal %.1f)", outage, ideal)
          .isBetween((int) (ideal * 0.85), (int) Math.ceil(ideal * 1.15));
      assertThat(outage.ok).isLessThanOrEqualTo((int) Math.ceil((20 + 20 * outage.seconds()) * 1.15));
    } finally {
      REDIS.start();
    }
    awaitGauge(a, 0.0);
    awaitGauge(b, 0.0);
    Load recovered = drive("fallback-app", Duration.ofSeconds(3));
    double ideal = recovered.ideal(20, 20, null);
    assertThat(recovered.ok).as("%s after recovery (ideal %.1f)", recovered, ideal)
        .isBetween((int) Math.floor(ideal * 0.9), (int) Math.ceil(ideal * 1.1));
    assertThat(redisKeys("portcullis:rate:app:fallback-app:*")).as("buckets back in the restarted Redis").isNotEmpty();
  }

  @Test
  @Order(3)
  void eachRequestCostsOneRedisRoundTripEvenWithTwoBuckets() {
    // forms.heavy has cost weight 4: the app's bucket and the app × dataset bucket (burst 10) both apply
    a.get("weighted-app", "/data/forms.heavy?limit=1");
    b.get("weighted-app", "/data/forms.heavy?limit=1");
    Map<String, Long> before = RedisRateLimitersTest.commandStats(REDIS);
    int requests = 16;
    int ok = 0;
    for (int i = 0; i < requests; i++) {
      int status = ((i & 1) == 0 ? a : b).get("weighted-app", "/data/forms.heavy?limit=1").statusCode();
      ok += status == 200 ? 1 : 0;
    }
    Map<String, Long> delta = RedisRateLimitersTest.delta(before, RedisRateLimitersTest.commandStats(REDIS));
    assertThat(ok).as("some refused by the dataset's bucket").isLessThan(requests);
    assertThat(delta.getOrDefault("evalsha", 0L) + delta.getOrDefault("eval", 0L)).as("%s", delta)
        .isEqualTo(requests);
    assertThat(delta.get("get")).as("both buckets read inside the script, no GET of the client's").isEqualTo(2L * requests);
    assertThat(a.gauge("portcullis.quota.fallback")).isZero();
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
    a.token(app);
    b.token(app);
    Queue<Sample> samples = new ConcurrentLinkedQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    long start = System.nanoTime();
    long end = start + duration.toNanos();
    try {
      List<Future<?>> clients = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int first = t;
        clients.add(pool.submit(() -> {
          int i = first;
          while (System.nanoTime() < end) {
            boolean toA = (i++ & 1) == 0;
            long sent = System.nanoTime();
            int status = (toA ? a : b).get(app, "/data/forms.submissions?limit=1").statusCode();
            samples.add(new Sample(toA, sent, System.nanoTime(), status));
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
    Load load = new Load(List.copyOf(samples), (System.nanoTime() - start) / 1e9);
    System.out.println("quota load " + app + ": " + load);
    return load;
  }

  record Sample(boolean toA, long sent, long received, int status) {
  }

  record Load(List<Sample> samples, double seconds, int ok) {

    Load(List<Sample> samples, double seconds) {
      this(samples, seconds, (int) samples.stream().filter(s -> s.status == 200).count());
    }

    int ok(boolean replicaA) {
      return (int) samples.stream().filter(s -> s.toA == replicaA && s.status == 200).count();
    }

    int limited() {
      return (int) samples.stream().filter(s -> s.status == 429).count();
    }

    int errors() {
      return (int) samples.stream().filter(s -> s.status != 200 && s.status != 429).count();
    }

    /**
     * What an ideal bucket admits over these arrivals ({@code replicaA} null: all of them), with each request taken
     * at its send time and at its receive time — the server decided somewhere in between; the mean of the two.
     */
    double ideal(long burst, double rate, Boolean replicaA) {
      List<Sample> of = samples.stream().filter(s -> replicaA == null || s.toA == replicaA).toList();
      return (replay(of, Sample::sent, burst, rate) + replay(of, Sample::received, burst, rate)) / 2.0;
    }

    private static int replay(List<Sample> of, ToLongFunction<Sample> time, long burst, double rate) {
      List<Sample> sorted = new ArrayList<>(of);
      sorted.sort(Comparator.comparingLong(time));
      double tokens = burst;
      long last = sorted.isEmpty() ? 0 : time.applyAsLong(sorted.get(0));
      int admitted = 0;
      for (Sample s : sorted) {
        long t = time.applyAsLong(s);
        tokens = Math.min(burst, tokens + (t - last) / 1e9 * rate);
        last = t;
        if (tokens >= 1) {
          tokens -= 1;
          admitted++;
        }
      }
      return admitted;
    }

    @Override
    public String toString() {
      return "%d allowed (A %d, B %d), %d limited, %d failed in %.2f s".formatted(ok, ok(true), ok(false), limited(),
          errors(), seconds);
    }
  }
}
