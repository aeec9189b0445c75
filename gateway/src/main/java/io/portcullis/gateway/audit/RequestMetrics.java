package io.portcullis.gateway.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.portcullis.audit.AuditEvent;
import io.portcullis.audit.Outcome;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code portcullis.requests{app,outcome}}: every data-plane request once, counted where its audit event is made so
 * the metric and the audit trail agree. The app tag is the verified client id (bounded by the config) or
 * {@code none} for requests refused before a token was verified; meters are cached, no registry lookup per request.
 */
final class RequestMetrics {

  static final String NO_APP = "none";

  private final MeterRegistry registry;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void count(AuditEvent event) {
    String app = event.appId() == null ? NO_APP : event.appId();
    Outcome outcome = event.outcome();
    String tag = outcome == null ? "error" : outcome.json();
    counters.computeIfAbsent(app + '\0' + tag, k -> Counter.builder("portcullis.requests")
        .description("data-plane requests by app and outcome (allowed, denied, throttled, error, cancelled)")
        .tag("app", app).tag("outcome", tag)
        .register(registry)).increment();
  }
}
