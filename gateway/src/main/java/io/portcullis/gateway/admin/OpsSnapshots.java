package io.portcullis.gateway.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The live ops dashboard's numbers, read from the Micrometer registry (the same meters Prometheus scrapes, so the
 * dashboard and Grafana never disagree): per app request and throttle rates, budget used against its limit, requests
 * in flight, anomaly responses, and the audit pipeline's lag. One {@link Sampler} per open stream keeps the previous
 * counter values, so rates are per second between two of its snapshots.
 */
final class OpsSnapshots {

  private static final int TOP = 5;

  private final MeterRegistry registry;
  private final Clock clock;

  OpsSnapshots(MeterRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
  }

  Sampler sampler() {
    return new Sampler();
  }

  /** Not thread-safe: one per stream, called from that stream's interval. */
  final class Sampler {

    private Map<String, Double> previous = Map.of();
    private long previousNanos;

    Map<String, Object> next() {
      long now = System.nanoTime();
      double seconds = previousNanos == 0 ? 0 : (now - previousNanos) / 1e9;
      Map<String, Double> counts = new HashMap<>();
      Map<String, AppRow> apps = new TreeMap<>();

      for (Counter c : registry.find("portcullis.requests").counters()) {
        String app = c.getId().getTag("app");
        String outcome = c.getId().getTag("outcome");
        AppRow row = apps.computeIfAbsent(app, AppRow::new);
        double rate = rate(counts, "r\0" + app + '\0' + outcome, c.count(), seconds);
        row.requestRate += rate;
        row.requests += c.count();
      }
      for (Counter c : registry.find("portcullis.requests.throttled").counters()) {
        String app = c.getId().getTag("app");
        String reason = c.getId().getTag("reason");
        AppRow row = apps.computeIfAbsent(app, AppRow::new);
        double rate = rate(counts, "t\0" + app + '\0' + reason, c.count(), seconds);
        row.throttledByReason.merge(reason, rate, Double::sum);
        row.throttledRate += rate;
        row.throttled += c.count();
      }
      for (Gauge g : registry.find("portcullis.budget.used").gauges()) {
        apps.computeIfAbsent(g.getId().getTag("app"), AppRow::new).budgetUsed = finite(g.value());
      }
      for (Gauge g : registry.find("portcullis.budget.remaining").gauges()) {
        AppRow row = apps.computeIfAbsent(g.getId().getTag("app"), AppRow::new);
        Double remaining = finite(g.value());
        if (remaining != null) {
          row.budgetLimit = remaining + (row.budgetUsed == null ? 0 : row.budgetUsed);
        }
      }
      for (Gauge g : registry.find("portcullis.concurrency.in_flight").gauges()) {
        apps.computeIfAbsent(g.getId().getTag("app"), AppRow::new).inFlight = (int) g.value();
      }
      List<Map<String, Object>> anomalies = new ArrayList<>();
      for (Counter c : registry.find("portcullis.quota.anomalies").counters()) {
        String app = c.getId().getTag("app");
        double fresh = c.count() - previous.getOrDefault("a\0" + app + c.getId().getTag("response"), c.count());
        counts.put("a\0" + app + c.getId().getTag("response"), c.count());
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("app", app);
        a.put("response", c.getId().getTag("response"));
        a.put("count", (long) c.count());
        a.put("new", previousNanos != 0 && fresh > 0);
        anomalies.add(a);
      }
      previous = counts;
      previousNanos = now;

      Map<String, Object> body = new LinkedHashMap<>();
      body.put("at", clock.instant().toString());
      body.put("apps", apps.values().stream().map(AppRow::json).toList());
      body.put("top_throttled", apps.values().stream()
          .filter(r -> r.throttled > 0)
          .sorted(Comparator.comparingDouble((AppRow r) -> r.throttledRate).reversed()
              .thenComparing(Comparator.comparingDouble((AppRow r) -> r.throttled).reversed()))
          .limit(TOP)
          .map(r -> Map.<String, Object>of("app", r.app, "throttled_per_s", round(r.throttledRate),
              "throttled_total", (long) r.throttled))
          .toList());
      body.put("anomalies", anomalies);
      body.put("audit", audit());
      return body;
    }

    private double rate(Map<String, Double> counts, String key, double count, double seconds) {
      counts.put(key, count);
      Double before = previous.get(key);
      if (seconds <= 0) {
        return 0;
      }
      return Math.max(0, count - (before == null ? 0 : before)) / seconds;
    }
  }

  private Map<String, Object> audit() {
    Map<String, Object> a = new LinkedHashMap<>();
    double lag = 0;
    for (TimeGauge g : registry.find("portcullis.audit.lag").timeGauges()) {
      lag = Math.max(lag, g.value(TimeUnit.MILLISECONDS));
    }
    a.put("lag_ms", Math.round(lag));
    a.put("queued", (long) sum("portcullis.audit.queued"));
    a.put("spill_backlog", (long) sum("portcullis.audit.spill.backlog"));
    Gauge healthy = registry.find("portcullis.audit.sink.healthy").gauge();
    a.put("sink_healthy", healthy == null || healthy.value() >= 1);
    return a;
  }

  private double sum(String gauge) {
    return registry.find(gauge).gauges().stream().mapToDouble(Gauge::value).filter(Double::isFinite).sum();
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static final class AppRow {
    final String app;
    double requestRate;
    double requests;
    double throttledRate;
    double throttled;
    final Map<String, Double> throttledByReason = new TreeMap<>();
    Double budgetUsed;
    Double budgetLimit;
    int inFlight;

    AppRow(String app) {
      this.app = app;
    }

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("app", app);
      m.put("requests_per_s", round(requestRate));
      m.put("requests_total", (long) requests);
      m.put("throttled_per_s", round(throttledRate));
      m.put("throttled_total", (long) throttled);
      Map<String, Object> reasons = new LinkedHashMap<>();
      throttledByReason.forEach((k, v) -> reasons.put(k, round(v)));
      m.put("throttled_by_reason", reasons);
      m.put("budget_used", budgetUsed);
      m.put("budget_limit", budgetLimit);
      m.put("in_flight", inFlight);
      return m;
    }
  }
}
