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
 * @param anomaly        spike detection on rows and bytes returned per minute, and the response to a spike
 * @param enabled        false: the stage lets every request through (no rate limits, budgets, caps, anomaly response
 *                       or RateLimit-* headers). Only to measure what the stage costs ({@code load-tests/quota-bench.sh}):
 *                       refused unless the {@code bench} profile is active
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
    @DefaultValue("100000") int maxLimiters,
    @DefaultValue Anomaly anomaly,
    @DefaultValue("true") boolean enabled) {

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

  /**
   * Anomaly response (issue 6): per app, the rows and bytes it was returned in each minute are compared with its
   * rolling baseline (the mean of its last {@code baselineMinutes} active minutes on this replica; minutes in which
   * it was returned nothing are left out). An app returned more than {@code factor} × its baseline — and more than the rule's floor — in the current minute
   * gets the rule's response. Rules: {@code apps.<id>} wins over {@code tiers.<tier>}, which wins over the default
   * (alert at 10×).
   *
   * @param enabled         false: no counting, no response
   * @param baselineMinutes how many past active minutes the baseline averages
   * @param warmupMinutes   active minutes an app needs before a spike can be judged (a new app has no baseline)
   * @param tiers           rule per tier
   * @param apps            rule per app id
   */
  record Anomaly(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("10") int baselineMinutes,
      @DefaultValue("3") int warmupMinutes,
      Map<Integer, AnomalyRule> tiers,
      Map<String, AnomalyRule> apps) {

    static final AnomalyRule DEFAULT_RULE = new AnomalyRule(10, AnomalyResponse.ALERT, 1000, 1 << 20, 0.1,
        Duration.ofMinutes(15));

    Anomaly {
      if (baselineMinutes < 1 || baselineMinutes > 1440) {
        throw new IllegalArgumentException(
            "portcullis.quota.anomaly.baseline-minutes: %s (expected: 1..1440)".formatted(baselineMinutes));
      }
      if (warmupMinutes < 1 || warmupMinutes > baselineMinutes) {
        throw new IllegalArgumentException("portcullis.quota.anomaly.warmup-minutes: %s (expected: 1..%s)"
            .formatted(warmupMinutes, baselineMinutes));
      }
      tiers = tiers == null ? Map.of() : Map.copyOf(tiers);
      apps = apps == null ? Map.of() : Map.copyOf(apps);
    }

    AnomalyRule rule(String app, int tier) {
      AnomalyRule rule = apps.get(app);
      if (rule == null) {
        rule = tiers.getOrDefault(tier, DEFAULT_RULE);
      }
      return rule;
    }
  }

  /** What a spike triggers: an audit event only, a lower rate for a while, or a paused app (tokens refused). */
  enum AnomalyResponse {
    ALERT, THROTTLE, PAUSE;

    String json() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * @param factor      a minute above factor × baseline is a spike
   * @param response    what a spike triggers
   * @param minRows     rows in a minute below which nothing is a spike (an app near 0 would spike on any read)
   * @param minBytes    likewise for bytes
   * @param throttleTo  {@code throttle}: the share of its own rate and burst the app keeps
   * @param throttleFor {@code throttle}: for how long
   */
  record AnomalyRule(
      @DefaultValue("10") double factor,
      @DefaultValue("alert") AnomalyResponse response,
      @DefaultValue("1000") long minRows,
      @DefaultValue("1048576") long minBytes,
      @DefaultValue("0.1") double throttleTo,
      @DefaultValue("15m") Duration throttleFor) {

    AnomalyRule {
      if (!(factor > 1) || !Double.isFinite(factor)) {
        throw new IllegalArgumentException("anomaly factor: %s (expected: > 1)".formatted(factor));
      }
      if (response == null) {
        response = AnomalyResponse.ALERT;
      }
      if (minRows < 0 || minBytes < 0) {
        throw new IllegalArgumentException("anomaly min-rows: %s, min-bytes: %s (expected: >= 0)"
            .formatted(minRows, minBytes));
      }
      if (!(throttleTo > 0 && throttleTo < 1)) {
        throw new IllegalArgumentException("anomaly throttle-to: %s (expected: 0 < x < 1)".formatted(throttleTo));
      }
      requirePositive("anomaly.throttle-for", throttleFor);
    }
  }
}
