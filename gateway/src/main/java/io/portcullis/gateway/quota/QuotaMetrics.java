package io.portcullis.gateway.quota;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code portcullis.requests.throttled{app,reason}}, {@code portcullis.budget.used{app}} and
 * {@code portcullis.budget.remaining{app}}, {@code portcullis.quota.fallback},
 * {@code portcullis.quota.anomalies{app,response}}, {@code portcullis.concurrency.in_flight{app}}. Meters are registered once per app (the
 * app ids are the verified, configured ones, so the tag set is bounded) and cached: no registry lookup per request.
 */
final class QuotaMetrics {

  enum Reason {
    RATE("rate"), DATASET_RATE("dataset_rate"), CONCURRENCY("concurrency"), BUDGET("budget"),
    /** the lowered rate an anomaly response put on the app */
    ANOMALY("anomaly");

    final String tag;

    Reason(String tag) {
      this.tag = tag;
    }
  }

  private final MeterRegistry registry;
  private final BudgetLedger ledger;
  private final Map<String, Counter> throttled = new ConcurrentHashMap<>();
  private final Map<String, Boolean> budgetGauges = new ConcurrentHashMap<>();
  private final Map<String, Boolean> concurrencyGauges = new ConcurrentHashMap<>();

  QuotaMetrics(MeterRegistry registry, BudgetLedger ledger, RateLimiters limiters) {
    this.registry = registry;
    this.ledger = ledger;
    Gauge.builder("portcullis.quota.fallback", limiters, l -> l.inFallback() ? 1 : 0)
        .description("1 while Redis is unreachable and this replica enforces its share of the rate limits locally")
        .tag("mode", limiters.mode())
        .register(registry);
  }

  void throttled(String app, Reason reason) {
    throttled.computeIfAbsent(app + '\0' + reason.tag, k -> Counter.builder("portcullis.requests.throttled")
        .description("requests refused by the quota stage")
        .tag("app", app).tag("reason", reason.tag)
        .register(registry)).increment();
  }

  /** {@code portcullis.quota.anomalies{app,response}}: spikes found, by the response they triggered. */
  void anomaly(String app, QuotaProperties.AnomalyResponse response) {
    throttled.computeIfAbsent(app + '\1' + response.json(), k -> Counter.builder("portcullis.quota.anomalies")
        .description("spikes in rows or bytes returned per minute, by the response they triggered")
        .tag("app", app).tag("response", response.json())
        .register(registry)).increment();
  }

  /** Registers the app's budget gauges the first time its spend is tracked. */
  void budgetTracked(String app) {
    if (budgetGauges.putIfAbsent(app, Boolean.TRUE) == null) {
      Gauge.builder("portcullis.budget.used", ledger, l -> l.used(app))
          .description("cost units spent in the app's current budget period")
          .tag("app", app).baseUnit("units")
          .register(registry);
      Gauge.builder("portcullis.budget.remaining", ledger, l -> l.remaining(app))
          .description("cost units left in the app's current budget period (NaN without a budget)")
          .tag("app", app).baseUnit("units")
          .register(registry);
    }
  }

  /** Registers the app's in-flight gauge the first time one of its requests reaches the concurrency cap check. */
  void concurrencyTracked(String app, ConcurrencyLimiter limiter) {
    if (concurrencyGauges.putIfAbsent(app, Boolean.TRUE) == null) {
      Gauge.builder("portcullis.concurrency.in_flight", limiter, l -> l.inFlight(app))
          .description("requests of the app in flight on this replica (capped by its concurrency limit)")
          .tag("app", app)
          .register(registry);
    }
  }
}
