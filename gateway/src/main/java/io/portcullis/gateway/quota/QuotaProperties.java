package io.portcullis.gateway.quota;

import java.time.Duration;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The quota stage's settings (DESIGN.md §2 Quota). An app's own {@code quota} in the policy config wins over the tier
 * defaults here; budgets come only from an app's quota, but spend is attributed to every app's cost centre.
 *
 * @param tiers          rate, burst and concurrency per tier for apps without their own quota
 * @param cost           what a request costs in budget units, before the dataset's cost weight
 * @param redisUri       {@code redis://host:port}: share rate buckets across replicas; empty: local buckets (the default)
 * @param redisTimeout   how long a Redis bucket operation may take before this replica falls back to local buckets
 * @param replicas       how many gateway replicas share the limits: in fallback each enforces its 1/replicas share
 * @param probeInterval  how often a replica in fallback asks Redis whether it answers again
 * @param flushInterval  how often spend is written to PostgreSQL (and other replicas' spend read back)
 * @param maxLimiters    bound on the limiters kept in memory (per app, per app × dataset)
 */
@ConfigurationProperties("portcullis.quota")
record QuotaProperties(
    Map<Integer, TierLimit> tiers,
    @DefaultValue Cost cost,
    @DefaultValue("") String redisUri,
    @DefaultValue("250ms") Duration redisTimeout,
    @DefaultValue("2") int replicas,
    @DefaultValue("1s") Duration probeInterval,
    @DefaultValue("1s") Duration flushInterval,
    @DefaultValue("100000") int maxLimiters) {

  /** Used for a tier the configuration leaves out. */
  static final Map<Integer, TierLimit> DEFAULT_TIERS = Map.of(
      0, new TierLimit(5, 10, 4),
      1, new TierLimit(50, 100, 16),
      2, new TierLimit(200, 400, 64));

  QuotaProperties {
    tiers = tiers == null ? DEFAULT_TIERS : Map.copyOf(tiers);
    if (replicas < 1) {
      throw new IllegalArgumentException("portcullis.quota.replicas: %s (expected: >= 1)".formatted(replicas));
    }
    if (maxLimiters < 1) {
      throw new IllegalArgumentException("portcullis.quota.max-limiters: %s (expected: >= 1)".formatted(maxLimiters));
    }
    requirePositive("redis-timeout", redisTimeout);
    requirePositive("probe-interval", probeInterval);
    requirePositive("flush-interval", flushInterval);
  }

  TierLimit tier(int tier) {
    TierLimit limit = tiers.get(tier);
    if (limit == null) {
      limit = DEFAULT_TIERS.getOrDefault(tier, DEFAULT_TIERS.get(0));
    }
    return limit;
  }

  boolean redisEnabled() {
    return !redisUri.isBlank();
  }

  private static void requirePositive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("portcullis.quota.%s: %s (expected: > 0)".formatted(name, d));
    }
  }

  /** A tier's default limits. */
  record TierLimit(double ratePerSecond, int burst, int concurrency) {
    TierLimit {
      if (!(ratePerSecond > 0)) {
        throw new IllegalArgumentException("rate-per-second: %s (expected: > 0)".formatted(ratePerSecond));
      }
      if (burst < 1) {
        throw new IllegalArgumentException("burst: %s (expected: >= 1)".formatted(burst));
      }
      if (concurrency < 1) {
        throw new IllegalArgumentException("concurrency: %s (expected: >= 1)".formatted(concurrency));
      }
    }
  }

  /**
   * Budget units of one request: {@code (base + perRow × rows + perKib × KiB returned) × dataset cost weight}.
   */
  record Cost(@DefaultValue("1.0") double base, @DefaultValue("0.01") double perRow,
      @DefaultValue("0.1") double perKib) {
    Cost {
      if (base < 0 || perRow < 0 || perKib < 0) {
        throw new IllegalArgumentException("cost: base=%s per-row=%s per-kib=%s (expected: >= 0)"
            .formatted(base, perRow, perKib));
      }
    }

    double of(long rows, long bytes, double weight) {
      return (base + perRow * rows + perKib * (bytes / 1024.0)) * weight;
    }
  }
}
