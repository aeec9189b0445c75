package io.portcullis.gateway.audit;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.portcullis.audit.AuditPipeline;
import io.portcullis.audit.AuditSink;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline's state as meters ({@code portcullis.audit.*}), read from {@link AuditPipeline#stats()} when scraped:
 * nothing is counted twice and nothing runs per request. Monotonic counts are function counters (Prometheus
 * {@code _total}), levels are gauges.
 */
final class AuditMetrics implements MeterBinder {

  private final AuditPipeline pipeline;
  private final Tags tags;

  AuditMetrics(AuditPipeline pipeline, AuditSink sink) {
    this.pipeline = pipeline;
    this.tags = Tags.of("chain", pipeline.chainId(), "sink", sink.name().split(":", 2)[0]);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    AuditPipeline p = pipeline;
    Gauge.builder("portcullis.audit.queued", p, x -> x.stats().queued()).tags(tags)
        .description("audit events emitted and not yet batched").register(registry);
    FunctionCounter.builder("portcullis.audit.written", p, x -> x.stats().written()).tags(tags)
        .description("audit events written to the sink directly").register(registry);
    FunctionCounter.builder("portcullis.audit.spilled", p, x -> x.stats().spilled()).tags(tags)
        .description("audit events written to the spill file while the sink was down or slow").register(registry);
    FunctionCounter.builder("portcullis.audit.replayed", p, x -> x.stats().replayed()).tags(tags)
        .description("spilled audit events since written to the sink").register(registry);
    Gauge.builder("portcullis.audit.spill.backlog", p, x -> x.stats().spillBacklog()).tags(tags)
        .description("audit events in the spill file awaiting replay").register(registry);
    TimeGauge.builder("portcullis.audit.lag", p, TimeUnit.MILLISECONDS, x -> x.stats().lagMillis()).tags(tags)
        .description("age of the oldest audit event not yet in the sink or the spill file").register(registry);
    Gauge.builder("portcullis.audit.sink.healthy", p, x -> x.stats().sinkHealthy() ? 1 : 0).tags(tags)
        .description("1 while the audit sink accepts writes, 0 while events go to the spill file").register(registry);
    Gauge.builder("portcullis.audit.persistable", p, x -> x.canPersist() ? 1 : 0).tags(tags)
        .description("0 while neither sink nor spill file takes events (tier-2 requests refused)").register(registry);
  }
}
