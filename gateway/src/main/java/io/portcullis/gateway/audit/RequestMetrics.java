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

  private static final Outcome[] OUTCOMES = Outcome.values();

  private final MeterRegistry registry;
  /** Per app, its counters by outcome ordinal (the last slot: no outcome), registered on first use. */
  private final Map<String, Counter[]> counters = new ConcurrentHashMap<>();

  RequestMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void count(AuditEvent event) {
    String app = event.appId() == null ? NO_APP : event.appId();
    Outcome outcome = event.outcome();
    Counter[] byOutcome = counters.computeIfAbsent(app, k -> new Counter[OUTCOMES.length + 1]);
    int slot = outcome == null ? OUTCOMES.length : outcome.ordinal();
    Counter c = byOutcome[slot];
    if (c == null) {
      String tag = outcome == null ? "error" : outcome.json();
      // the registry returns the one meter per name and tags, so a race here only looks it up twice
      c = Counter.builder("portcullis.requests")
          .description("data-plane requests by app and outcome (allowed, denied, throttled, error, cancelled)")
          .tag("app", app).tag("outcome", tag)
          .register(registry);
      byOutcome[slot] = c;
    }
    c.increment();
  }
}
